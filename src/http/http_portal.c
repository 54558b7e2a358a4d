/* The citizen portal (issue 15 item 4): the page at /portal/ and its JSON
 * API under /api/v1/portal/.  Nothing here decides: logins are auth/'s
 * (auth_portal_otp, auth_portal_login: password AND an SMS code bound to
 * the login), certificates and history are sign/'s, revocation is ra/'s
 * (the signing page's and the API's password + OTP bound to the serial),
 * the receipt's time-stamp is the TSA's.
 *
 * The session lives in an HttpOnly, SameSite=Strict cookie (Secure when
 * public_url is https), never in the page's script; every call but a GET
 * carries X-CSRF-Token as well (HTTP_PORTAL, http_access.c). */
#include "http/http_internal.h"
#include "ra/ra.h"
#include "sign/sign.h"
#include "tsa/tsa.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_SMALL 4096

static int ok_json(lv_http_resp *resp, json_t *o)
{
    return http_resp_json_new(resp, 200, o, "no-store");
}

/* ---- login and logout ---------------------------------------------------- */

/* POST /api/v1/portal/login/otp {user_id, password}: the password proved
 * as every citizen login proves it (one answer for every failure, throttle,
 * lockout count), then an SMS code bound to this login. */
static int login_otp(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char otp_id[LV_AUTH_OTP_ID_LEN + 1];
    lv_err err = {0};
    if (auth_portal_otp(lv_app_auth(app), req->st,
                        lv_json_str(req->json, "user_id"),
                        lv_json_str(req->json, "password"), req->remote_addr,
                        http_lang(req, NULL), otp_id, &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, json_pack("{s:s, s:i}", "otp_id", otp_id, "expires_in",
                                   lv_app_config(app)->otp_ttl_seconds));
}

/* The session cookie: the token (or "" with Max-Age=0 to clear it). */
static int session_cookie(lv_app *app, lv_http_resp *resp, const char *token,
                          int max_age)
{
    char v[200];
    int https = strncmp(lv_app_config(app)->public_url, "https:", 6) == 0;
    snprintf(v, sizeof v,
             HTTP_PORTAL_COOKIE
             "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s",
             token, max_age, https ? "; Secure" : "");
    return http_resp_header(resp, "Set-Cookie", v);
}

/* POST /api/v1/portal/login {user_id, password, otp_id, otp}: the session
 * cookie and, in the body, the CSRF token the page sends back. */
static int login(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_session_token t;
    char csrf[65];
    lv_err err = {0};
    const json_t *in = req->json;
    int rc = auth_portal_login(
        lv_app_auth(app), req->st, lv_json_str(in, "user_id"),
        lv_json_str(in, "password"), lv_json_str(in, "otp_id"),
        lv_json_str(in, "otp"), req->remote_addr, &t, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    int ttl = (int)(t.expires_at - lv_now());
    rc = http_portal_csrf(t.token, csrf);
    if (rc == 0)
        rc = ok_json(resp,
                     json_pack("{s:s, s:i}", "csrf", csrf, "expires_in", ttl));
    if (rc == 0)
        rc = session_cookie(app, resp, t.token, ttl);
    auth_token_wipe(&t);
    return rc;
}

/* POST /api/v1/portal/logout */
static int logout(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char token[LV_AUTH_TOKEN_LEN + 1];
    lv_err err = {0};
    if (auth_session_end(
            lv_app_auth(app), req->st,
            http_req_cookie(req, HTTP_PORTAL_COOKIE, token, sizeof token),
            &err) < 0)
        return http_resp_err(resp, &err);
    LV_TRY(ok_json(resp, json_pack("{s:b}", "logged_out", 1)));
    return session_cookie(app, resp, "", 0);
}

/* ---- my data ------------------------------------------------------------- */

/* "+34 6•••••678": the country code and the last three digits. */
static json_t *mask_mobile(const char *m)
{
    char out[80]; /* a mobile of 23 characters, each a 3-byte bullet */
    if (!m)
        m = "";
    size_t n = strlen(m), keep = n > 6 ? 3 : 0, head = n > 6 ? 4 : 0;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < sizeof out; i++) {
        if (i < head || i >= n - keep || m[i] == ' ') {
            out[o++] = m[i];
        } else {
            memcpy(out + o, "\xe2\x80\xa2", 3); /* U+2022 BULLET */
            o += 3;
        }
    }
    out[o] = '\0';
    return json_string(out);
}

/* "j•••@example.es": the first letter and the domain. */
static json_t *mask_email(const char *e)
{
    char out[300];
    const char *at = e ? strchr(e, '@') : NULL;
    if (!at || at == e)
        return json_string(""); /* nothing to show of a malformed one */
    snprintf(out, sizeof out, "%c\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2%.250s",
             e[0], at);
    return json_string(out);
}

/* The identity document in force (the "current" one). */
static json_t *current_document(const json_t *docs)
{
    size_t i;
    json_t *d, *best = NULL;
    json_array_foreach(docs, i, d)
    {
        const char *status = lv_json_str(d, "status");
        if (!status || strcmp(status, "current") == 0)
            best = d;
    }
    if (!best)
        return json_null();
    return json_pack("{s:O, s:O, s:O}", "type", json_object_get(best, "type"),
                     "number", json_object_get(best, "number"), "expiry",
                     json_object_get(best, "expiry"));
}

/* GET /api/v1/portal/me: who is logged in, the registered contact data
 * masked (the holder knows them; a shoulder need not), when the identity
 * document expires, and the CSRF token again for a reloaded page. */
static int me(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    json_t *c = NULL;
    char token[LV_AUTH_TOKEN_LEN + 1], csrf[65];
    lv_err err = {0};
    (void)app;
    if (ra_citizen_json(req->st, req->who.id, &c, &err) < 0)
        return http_resp_err(resp, &err);
    const json_t *cred = json_object_get(c, "credential");
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o, s:O}", "given_name",
        lv_json_str(c, "given_name"), "surname", lv_json_str(c, "surname"),
        "user_id",
        lv_json_str(cred, "user_id") ? lv_json_str(cred, "user_id") : "",
        "mobile", mask_mobile(lv_json_str(c, "mobile")), "email",
        mask_email(lv_json_str(c, "email")), "document",
        current_document(json_object_get(c, "documents")),
        "password_expires_at", json_object_get(cred, "password_expires_at"));
    json_decref(c);
    if (o && http_req_cookie(req, HTTP_PORTAL_COOKIE, token, sizeof token) &&
        http_portal_csrf(token, csrf) == 0)
        json_object_set_new(o, "csrf", json_string(csrf));
    return ok_json(resp, o);
}

/* ---- my certificates ----------------------------------------------------- */

static int cert_serial(const lv_sign_cred *c, void *ctx)
{
    return lv_strs_add(ctx, c->serial);
}

/* One certificate, its names as RFC 4514 shows them (as the acceptance
 * sheet and the CSC API do). */
static json_t *cert_json(const lv_sign_cred *c, int accepted)
{
    char nb[32], na[32], subject[512] = "", issuer[512] = "";
    const unsigned char *p = c->der;
    X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
    if (x) {
        lv_dn_rfc4514(X509_get_subject_name(x), subject, sizeof subject);
        lv_dn_rfc4514(X509_get_issuer_name(x), issuer, sizeof issuer);
        X509_free(x);
    }
    lv_time_iso(c->not_before, nb);
    lv_time_iso(c->not_after, na);
    const char *status = c->revoked                 ? "revoked"
                         : c->not_after <= lv_now() ? "expired"
                                                    : "valid";
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "serial",
                     c->serial, "ca", c->ca, "profile", c->profile, "subject",
                     subject, "issuer", issuer, "not_before", nb, "not_after",
                     na, "status", status, "accepted", accepted);
}

/* GET /api/v1/portal/certificates: my cloud certificates, newest first. */
static int certificates(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    lv_strs serials = {0};
    lv_sign_cred c;
    (void)app;
    json_t *a = json_array();
    int rc = a ? sign_credential_foreach(req->st, req->who.id, cert_serial,
                                         &serials, &err)
               : LV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < serials.count; i++) {
        char *sheet = NULL;
        int accepted = 0;
        rc = sign_credential_get(req->st, req->who.id, serials.v[i], &c, &err);
        if (rc == 0)
            rc = sign_acceptance_sheet(req->st, c.serial, &sheet, &accepted,
                                       &err);
        free(sheet);
        if (rc == 0)
            rc = json_array_append_new(a, cert_json(&c, accepted)) == 0
                     ? 0
                     : LV_ENOMEM;
        sign_cred_free(&c);
    }
    lv_strs_free(&serials);
    if (rc < 0) {
        json_decref(a);
        return err.msg[0] ? http_resp_err(resp, &err) : rc;
    }
    return ok_json(resp, json_pack("{s:o}", "certificates", a));
}

/* A download: never rendered in this origin. */
static int attachment(lv_http_resp *resp, const char *type, const void *p,
                      size_t len, const char *name)
{
    char disp[160];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", name);
    LV_TRY(http_resp_bytes(resp, 200, type, p, len));
    LV_TRY(http_resp_header(resp, "Content-Disposition", disp));
    LV_TRY(http_resp_header(resp, "X-Content-Type-Options", "nosniff"));
    return http_resp_header(resp, "Cache-Control", "no-store");
}

/* GET /api/v1/portal/certificates/{serial}?format=pem|der: one of mine
 * (another citizen's serial is 404, as an unknown one). */
static int certificate(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_sign_cred c;
    lv_err err = {0};
    char name[96];
    const char *fmt = http_req_query(req, "format");
    (void)app;
    int der = fmt && strcmp(fmt, "der") == 0;
    if (fmt && !der && strcmp(fmt, "pem") != 0)
        return http_resp_error(resp, LV_EINVAL, "format is pem or der");
    if (sign_credential_get(req->st, req->who.id, req->param, &c, &err) < 0)
        return http_resp_err(resp, &err);
    snprintf(name, sizeof name, "%.64s.%s", c.serial, der ? "cer" : "pem");
    int rc;
    if (der) {
        rc = attachment(resp, "application/pkix-cert", c.der, c.der_len, name);
    } else {
        char *b64 = NULL;
        lv_buf pem = {0};
        rc = lv_b64_encode(c.der, c.der_len, &b64) < 0 ? LV_ENOMEM : 0;
        if (rc == 0)
            rc = lv_buf_appendf(&pem, "-----BEGIN CERTIFICATE-----\n");
        size_t n = rc == 0 ? strlen(b64) : 0;
        for (size_t i = 0; rc == 0 && i < n; i += 64) /* RFC 7468 §2 */
            rc = lv_buf_appendf(&pem, "%.64s\n", b64 + i);
        if (rc == 0)
            rc = lv_buf_appendf(&pem, "-----END CERTIFICATE-----\n");
        if (rc == 0)
            rc = attachment(resp, "application/x-pem-file", pem.data, pem.len,
                            name);
        free(b64);
        lv_buf_free(&pem);
    }
    sign_cred_free(&c);
    return rc;
}

/* POST /api/v1/portal/certificates/{serial}/revocation/otp: an SMS code
 * bound to revoking this certificate (ra/: entitled, not yet revoked). */
static int revoke_otp(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char otp_id[LV_AUTH_OTP_ID_LEN + 1];
    lv_err err = {0};
    if (ra_revoke_otp_send(lv_app_auth(app), req->st, req->who.id, req->param,
                           req->remote_addr, http_lang(req, NULL), otp_id,
                           &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, json_pack("{s:s, s:i}", "otp_id", otp_id, "expires_in",
                                   lv_app_config(app)->otp_ttl_seconds));
}

/* POST /api/v1/portal/certificates/{serial}/revocation {password, otp_id,
 * otp, reason?}: R6.1 with R3.4, as POST /api/v1/citizens/{id}/revocations;
 * the CRL and the OCSP response are published at once (ra/). */
static int revoke(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    const json_t *in = req->json;
    const char *reason = lv_json_str(in, "reason");
    ra_revocation r = {req->param, reason ? reason : "unspecified", NULL, NULL};
    lv_err err = {0};
    if (!lv_app_ca(app))
        return http_resp_error(resp, LV_ESEALED, "the CA is not loaded");
    if (ra_revoke_by_citizen(lv_app_auth(app), lv_app_ca(app), req->st,
                             req->who.id, &r, lv_json_str(in, "password"),
                             lv_json_str(in, "otp_id"), lv_json_str(in, "otp"),
                             req->remote_addr, &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, json_pack("{s:s, s:s}", "serial", req->param, "status",
                                   "revoked"));
}

/* GET /api/v1/portal/certificates/{serial}/acceptance: the acceptance
 * sheet of one of mine (R5.4, CPS 4.4.2), shown before any code is sent. */
static int acceptance(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_sign_cred c;
    char *sheet = NULL;
    int accepted = 0;
    lv_err err = {0};
    (void)app;
    int rc = sign_credential_get(req->st, req->who.id, req->param, &c, &err);
    if (rc == 0)
        rc = sign_acceptance_sheet(req->st, c.serial, &sheet, &accepted, &err);
    if (rc < 0) {
        sign_cred_free(&c); /* zeroed by sign_credential_get at worst */
        return http_resp_err(resp, &err);
    }
    json_t *o = json_pack("{s:s, s:b, s:s}", "serial", c.serial, "accepted",
                          accepted, "sheet", sheet);
    free(sheet);
    sign_cred_free(&c);
    return ok_json(resp, o);
}

/* POST /api/v1/portal/certificates/{serial}/acceptance/otp: an SMS code
 * bound to this sheet (sign_accept_otp). */
static int accept_otp(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char otp_id[LV_AUTH_OTP_ID_LEN + 1];
    lv_sign_refusal why = LV_SIGN_OK;
    lv_err err = {0};
    lv_sign_env env = http_sign_env(app, req);
    int rc = sign_accept_otp(&env, req->st, req->who.id, req->param, otp_id,
                             &why, &err);
    if (rc < 0)
        return http_sign_error(resp, rc, why, &err);
    return ok_json(resp, json_pack("{s:s, s:i}", "otp_id", otp_id, "expires_in",
                                   lv_app_config(app)->otp_ttl_seconds));
}

/* POST /api/v1/portal/certificates/{serial}/acceptance {password, otp_id,
 * otp}: the sheet signed with the certificate's key (sign_accept). */
static int accept(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_sign_refusal why = LV_SIGN_OK;
    lv_err err = {0};
    lv_sign_env env = http_sign_env(app, req);
    int rc = sign_accept(&env, req->st, req->who.id, req->param,
                         lv_json_str(req->json, "password"),
                         lv_json_str(req->json, "otp_id"),
                         lv_json_str(req->json, "otp"), &why, &err);
    if (rc < 0)
        return http_sign_error(resp, rc, why, &err);
    return ok_json(
        resp, json_pack("{s:s, s:b}", "serial", req->param, "accepted", 1));
}

/* ---- my password --------------------------------------------------------- */

/* POST /api/v1/portal/password {password, new_password}: R3.2 as POST
 * /api/v1/auth/password (policy, history, the current password proved). */
static int password(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_citizen_cred cred;
    lv_err err = {0};
    if (auth_citizen_get(req->st, req->who.id, &cred, &err) < 0)
        return http_resp_err(resp, &err);
    return http_password_change(app, req, resp, cred.user_id);
}

/* ---- my signature history ------------------------------------------------ */

/* GET /api/v1/portal/history */
static int history(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    json_t *o = NULL;
    lv_err err = {0};
    (void)app;
    if (sign_history_json(req->st, req->who.id, &o, &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, o);
}

/* The receipt's bytes: sorted keys, so that the same transaction always
 * serializes the same and a time-stamp over one download verifies the
 * next. */
static int receipt_bytes(lv_app *app, const lv_http_req *req, char **out,
                         lv_err *err)
{
    json_t *o = NULL;
    LV_TRY(sign_receipt_json(req->st, lv_app_config(app)->org_name, req->who.id,
                             req->param, &o, err));
    *out = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(o);
    return *out ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
}

/* GET /api/v1/portal/history/{id}/receipt: the receipt as a JSON file. */
static int receipt(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char *text = NULL, name[64];
    lv_err err = {0};
    if (receipt_bytes(app, req, &text, &err) < 0)
        return http_resp_err(resp, &err);
    snprintf(name, sizeof name, "receipt-%.32s.json", req->param);
    int rc = attachment(resp, "application/json", text, strlen(text), name);
    free(text);
    return rc;
}

/* GET /api/v1/portal/history/{id}/receipt.tsr: the provider's signature
 * over the receipt, an RFC 3161 TimeStampResp from the TSA over SHA-256 of
 * the receipt's bytes.  Anyone checks it with
 *   openssl ts -verify -data receipt.json -in receipt.tsr -CAfile ca.pem
 * (docs/API.md "Citizen portal"). */
static int receipt_tsr(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char *text = NULL, name[64];
    unsigned char md[EVP_MAX_MD_SIZE], *q = NULL, *reply = NULL;
    unsigned int mdlen = 0;
    int qlen = 0;
    size_t rlen = 0;
    lv_err err = {0};
    if (!lv_app_ca(app))
        return http_resp_error(resp, LV_ESEALED, "the CA is not loaded");
    int rc = receipt_bytes(app, req, &text, &err);
    if (rc == 0 &&
        EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) != 1)
        rc = lv_fail(&err, LV_ECRYPTO, "SHA-256 failed");
    if (rc == 0 && tsa_query(EVP_sha256(), md, mdlen, &q, &qlen) < 0)
        rc = lv_fail(&err, LV_ECRYPTO, "cannot build the time-stamp request");
    if (rc == 0)
        rc = tsa_respond(lv_app_ca(app), req->st, NULL, q, (size_t)qlen, &reply,
                         &rlen, &err);
    free(text);
    OPENSSL_free(q);
    if (rc < 0)
        return http_resp_err(resp, &err);
    snprintf(name, sizeof name, "receipt-%.32s.tsr", req->param);
    rc = attachment(resp, "application/timestamp-reply", reply, rlen, name);
    OPENSSL_free(reply);
    return rc;
}

static const http_body_field LOGIN_OTP[] = {
    HTTP_FIELD_REQ("user_id", HTTP_STR),
    HTTP_FIELD_REQ("password", HTTP_STR),
    {0}};

/* The code and its id: auth/ judges them, the lengths only bound them. */
#define OTP_FIELDS                                                             \
    {"otp_id", .types = HTTP_STR, .flags = HTTP_REQUIRED,                      \
     .max_len = LV_AUTH_OTP_ID_LEN},                                           \
    {                                                                          \
        "otp", .types = HTTP_STR, .flags = HTTP_REQUIRED,                      \
               .max_len = LV_AUTH_CODE_MAX                                     \
    }

static const http_body_field LOGIN[] = {HTTP_FIELD_REQ("user_id", HTTP_STR),
                                        HTTP_FIELD_REQ("password", HTTP_STR),
                                        OTP_FIELDS,
                                        {0}};

static const http_body_field REVOKE[] = {HTTP_FIELD_REQ("password", HTTP_STR),
                                         OTP_FIELDS,
                                         HTTP_FIELD("reason", HTTP_STR),
                                         {0}};

static const http_body_field ACCEPT[] = {
    HTTP_FIELD_REQ("password", HTTP_STR), OTP_FIELDS, {0}};

static const http_body_field PASSWORD[] = {
    HTTP_FIELD_REQ("password", HTTP_STR),
    HTTP_FIELD_REQ("new_password", HTTP_STR),
    {0}};

const lv_http_route http_portal_routes[] = {
    HTTP_GET_PUBLIC("/portal", http_web_dir_redirect),
    HTTP_GET_PUBLIC("/portal/", http_web_dir_page),
    HTTP_GET_PUBLIC("/web/portal/{file}", http_web_asset_get),
    {"POST", "/api/v1/portal/login/otp", login_otp, BODY_SMALL,
     LV_WORK_PASSWORD, HTTP_LOGIN, HTTP_JSON(LOGIN_OTP)},
    {"POST", "/api/v1/portal/login", login, BODY_SMALL, LV_WORK_PASSWORD,
     HTTP_LOGIN, HTTP_JSON(LOGIN)},
    {"POST", "/api/v1/portal/logout", logout, BODY_SMALL, LV_WORK_API,
     HTTP_PORTAL, HTTP_EMPTY},
    {"GET", "/api/v1/portal/me", me, 0, LV_WORK_API, HTTP_PORTAL, HTTP_NO_BODY},
    {"GET", "/api/v1/portal/certificates", certificates, 0, LV_WORK_API,
     HTTP_PORTAL, HTTP_NO_BODY},
    {"GET", "/api/v1/portal/certificates/{serial}", certificate, 0, LV_WORK_API,
     HTTP_PORTAL, HTTP_NO_BODY},
    {"POST", "/api/v1/portal/certificates/{serial}/revocation/otp", revoke_otp,
     BODY_SMALL, LV_WORK_API, HTTP_PORTAL, HTTP_EMPTY},
    {"POST", "/api/v1/portal/certificates/{serial}/revocation", revoke,
     BODY_SMALL, LV_WORK_SIGN, HTTP_PORTAL, HTTP_JSON(REVOKE)},
    {"GET", "/api/v1/portal/certificates/{serial}/acceptance", acceptance, 0,
     LV_WORK_API, HTTP_PORTAL, HTTP_NO_BODY},
    {"POST", "/api/v1/portal/certificates/{serial}/acceptance/otp", accept_otp,
     BODY_SMALL, LV_WORK_API, HTTP_PORTAL, HTTP_EMPTY},
    {"POST", "/api/v1/portal/certificates/{serial}/acceptance", accept,
     BODY_SMALL, LV_WORK_SIGN, HTTP_PORTAL, HTTP_JSON(ACCEPT)},
    {"POST", "/api/v1/portal/password", password, BODY_SMALL, LV_WORK_PASSWORD,
     HTTP_PORTAL, HTTP_JSON(PASSWORD)},
    {"GET", "/api/v1/portal/history", history, 0, LV_WORK_API, HTTP_PORTAL,
     HTTP_NO_BODY},
    {"GET", "/api/v1/portal/history/{id}/receipt", receipt, 0, LV_WORK_API,
     HTTP_PORTAL, HTTP_NO_BODY},
    {"GET", "/api/v1/portal/history/{id}/receipt.tsr", receipt_tsr, 0,
     LV_WORK_SIGN, HTTP_PORTAL, HTTP_NO_BODY},
    {0},
};
