/* The transaction API for relying applications (R5.6, modelled on the Cl@ve
 * Firma gateway) and the JSON endpoints of the citizen's authorization page
 * (web/sign/).  The rules are in sign/; this file maps JSON and codes.
 *
 * Applications authenticate with HTTP Basic (RFC 7617): client id and
 * client secret as printed by `llave app add` (HTTP_APP: req->client).  The
 * citizen's endpoints take the bearer token that .../login returns (a
 * citizen session: req->who).  Both are checked by http_access.c before a
 * handler runs, as the table at the end declares. */
#include "http/http_csc_internal.h"
#include "http/http_internal.h"
#include "sign/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_TX ((size_t)256 * 1024) /* 100 documents with their names */
#define BODY_SMALL 4096

/* The PDFs of a transaction travel as base64 (RFC 4648 §4: 4 characters
 * per 3 bytes) next to what a digest-only transaction may send. */
size_t http_sign_tx_body_limit(const lv_config *cfg)
{
    size_t pdfs = cfg ? (size_t)cfg->sign_max_tx_kib * 1024 : 0;
    return (pdfs + 2) / 3 * 4 + BODY_TX;
}

/* remote_addr: throttling and rate limits key on it (issue 11). */
static int ok_json(lv_http_resp *resp, int status, json_t *o)
{
    return http_resp_json_new(resp, status, o, "no-store");
}

/* Refusals of a signature carry their own error name (R5.6: unknown
 * citizen, basic level, no valid certificate, blocked certificate ...). */
int http_sign_error(lv_http_resp *resp, int rc, lv_sign_refusal why,
                    const lv_err *err)
{
    if (why == LV_SIGN_OK)
        return http_resp_err(resp, err);
    return http_resp_refusal(resp, lv_err_http_status(rc),
                             sign_refusal_name(why),
                             err->msg[0] ? err->msg : "refused");
}

/* A call that produced out: its refusal or error when rc < 0, else out. */
static int answer(lv_http_resp *resp, int rc, lv_sign_refusal why,
                  const lv_err *err, int status, json_t *out)
{
    if (rc < 0) {
        json_decref(out);
        return http_sign_error(resp, rc, why, err);
    }
    return ok_json(resp, status, out);
}

/* POST /api/v1/transactions (docs/API.md "Create"): lengths of the
 * documents' id, name and title are in characters; sign/ checks the rest
 * (digest algorithm and length, URLs, 1 to 100 documents). */
static const http_body_field TX_DOC[] = {
    {"id", .types = HTTP_STR, .flags = HTTP_REQUIRED | HTTP_CHARS,
     .max_len = 128},
    {"name", .types = HTTP_STR, .flags = HTTP_REQUIRED | HTTP_CHARS,
     .max_len = 255},
    {"title", .types = HTTP_STR, .flags = HTTP_CHARS, .max_len = 255},
    /* a digest, or a whole PDF (issue 14 item 4): sign/ wants one of them */
    HTTP_FIELD("digest", HTTP_STR),
    HTTP_FIELD("content", HTTP_STR),
    HTTP_FIELD("format", HTTP_STR),
    HTTP_FIELD("conformance_level", HTTP_STR),
    {0}};

static const http_body_field TX_CREATE[] = {
    HTTP_FIELD_REQ("owner", HTTP_STR),
    HTTP_FIELD_REQ("digest_algorithm", HTTP_STR),
    {"documents", .types = HTTP_ARR, .flags = HTTP_REQUIRED, .items = HTTP_OBJ,
     .members = TX_DOC},
    HTTP_FIELD_REQ("redirect_ok_url", HTTP_STR),
    HTTP_FIELD_REQ("redirect_error_url", HTTP_STR),
    HTTP_FIELD("generate_certificate", HTTP_BOOL),
    {0}};

static const http_body_field TX_LOGIN[] = {HTTP_FIELD_REQ("user_id", HTTP_STR),
                                           HTTP_FIELD_REQ("password", HTTP_STR),
                                           {0}};

static const http_body_field TX_CONFIRM[] = {
    HTTP_FIELD_REQ("password", HTTP_STR), HTTP_FIELD_REQ("otp", HTTP_STR), {0}};

/* ---- the application's calls
 * ------------------------------------------------------- */

/* POST /api/v1/transactions */
static int tx_create(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    json_t *out = NULL;
    lv_sign_env env = http_sign_env(app, req);
    int rc =
        sign_tx_create(&env, req->st, req->client, req->json, &out, &why, &err);
    return answer(resp, rc, why, &err, 201, out);
}

/* GET /api/v1/transactions/{id} */
static int tx_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    json_t *out = NULL;
    (void)app;
    int rc = sign_tx_json(req->st, req->client, req->param, &out, &err);
    return answer(resp, rc, LV_SIGN_OK, &err, 200, out);
}

/* DELETE /api/v1/transactions/{id} */
static int tx_delete(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    (void)app;
    if (sign_tx_end(req->st, req->client, req->param, &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, 200,
                   json_pack("{s:s, s:s}", "id", req->param, "state", "ended"));
}

/* ---- the citizen's page
 * -------------------------------------------------------------- */

/* POST /api/v1/transactions/{id}/login {user_id, password} */
static int tx_login(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    json_t *out = NULL;
    lv_sign_env env = http_sign_env(app, req);
    int rc = sign_tx_login(
        &env, req->st, req->param, lv_json_str(req->json, "user_id"),
        lv_json_str(req->json, "password"), req->remote_addr, &out, &why, &err);
    return answer(resp, rc, why, &err, 200, out);
}

/* GET /api/v1/transactions/{id}/view */
static int tx_view(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    json_t *out = NULL;
    lv_sign_env env = http_sign_env(app, req);
    int rc = sign_tx_view(&env, req->st, req->param, &req->who, &out, &err);
    return answer(resp, rc, LV_SIGN_OK, &err, 200, out);
}

/* POST /api/v1/transactions/{id}/otp */
static int tx_otp(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    json_t *out = NULL;
    lv_sign_env env = http_sign_env(app, req);
    int rc = sign_tx_send_otp(&env, req->st, req->param, &req->who, &out, &why,
                              &err);
    return answer(resp, rc, why, &err, 200, out);
}

/* PAdES B-LT/B-LTA's DSS: the validation material CSC signDoc's
 * returnValidationInfo gives (the signer's and the TSU's OCSP responses,
 * the CAs' CRLs and certificates, the TSU's chain). */
static int tx_vinfo(void *arg, lv_store *st, const char *citizen_id,
                    const char *serial, json_t **out, lv_err *err)
{
    lv_sign_cred cred;
    LV_TRY(sign_credential_get(st, citizen_id, serial, &cred, err));
    int rc = http_csc_validation_info(arg, st, &cred, 1, out, err);
    sign_cred_free(&cred);
    return rc;
}

/* POST /api/v1/transactions/{id}/confirm {password, otp} */
static int tx_confirm(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    json_t *out = NULL;
    lv_sign_env env = http_sign_env(app, req);
    int rc = sign_tx_confirm(&env, req->st, req->param, &req->who,
                             lv_json_str(req->json, "password"),
                             lv_json_str(req->json, "otp"), tx_vinfo, app, &out,
                             &why, &err);
    return answer(resp, rc, why, &err, 200, out);
}

/* POST /api/v1/transactions/{id}/cancel */
static int tx_cancel(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    json_t *out = NULL;
    (void)app;
    int rc = sign_tx_cancel(req->st, req->param, &req->who, &out, &err);
    return answer(resp, rc, LV_SIGN_OK, &err, 200, out);
}

/* ---- the PDFs (issue 14 item 4)
 * -------------------------------------------------- */

/* The document's name as a filename: what is not [A-Za-z0-9._-] becomes
 * '_' (no quote, no header splitting), ".pdf" appended when missing. */
static void pdf_filename(const char *name, const char *suffix, char *out,
                         size_t cap)
{
    size_t n = 0;
    for (; n < 80 && n + 1 < cap && name[n]; n++) {
        unsigned char c = (unsigned char)name[n];
        out[n] = (char)((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || strchr("._-", c)
                            ? c
                            : '_');
    }
    out[n] = '\0';
    if (n > 4 && strcmp(out + n - 4, ".pdf") == 0)
        out[n - 4] = '\0';
    snprintf(out + strlen(out), cap - strlen(out), "%s.pdf", suffix);
}

/* A PDF is never shown in this origin: it is an attachment, its type is
 * not sniffed, and a browser that renders it anyway does so sandboxed, with
 * no script and no request (CSP sandbox). */
static int pdf_answer(lv_http_resp *resp, unsigned char *pdf, size_t len,
                      const char *name, const char *suffix)
{
    char file[112], disp[160];
    pdf_filename(name, suffix, file, sizeof file);
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", file);
    int rc = http_resp_bytes(resp, 200, "application/pdf", pdf, len);
    free(pdf);
    LV_TRY(rc);
    LV_TRY(http_resp_header(resp, "Content-Disposition", disp));
    LV_TRY(http_resp_header(resp, "X-Content-Type-Options", "nosniff"));
    LV_TRY(http_resp_header(resp, "Content-Security-Policy",
                            "default-src 'none'; sandbox"));
    return http_resp_header(resp, "Cache-Control", "no-store");
}

/* GET /api/v1/transactions/{id}/signed?document={document id}: the signed
 * PDF, for the owning application once the citizen signed. */
static int tx_signed_pdf(lv_app *app, const lv_http_req *req,
                         lv_http_resp *resp)
{
    lv_err err = {0};
    unsigned char *pdf = NULL;
    size_t len = 0;
    char *name = NULL;
    (void)app;
    if (sign_tx_pdf(req->st, req->param, http_req_query(req, "document"),
                    req->client, NULL, &pdf, &len, &name, &err) < 0)
        return http_resp_err(resp, &err);
    int rc = pdf_answer(resp, pdf, len, name, "-signed");
    free(name);
    return rc;
}

/* GET /api/v1/transactions/{id}/pdf?document={document id}: the PDF as
 * the application sent it, for the citizen reviewing what they sign. */
static int tx_pdf(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    unsigned char *pdf = NULL;
    size_t len = 0;
    char *name = NULL;
    (void)app;
    if (sign_tx_pdf(req->st, req->param, http_req_query(req, "document"), NULL,
                    &req->who, &pdf, &len, &name, &err) < 0)
        return http_resp_err(resp, &err);
    int rc = pdf_answer(resp, pdf, len, name, "");
    free(name);
    return rc;
}

const lv_http_route http_clave_routes[] = {
    {"POST", "/api/v1/transactions", tx_create, LV_HTTP_BODY_SIGN_TX,
     LV_WORK_API, HTTP_APP, HTTP_JSON(TX_CREATE)},
    {"GET", "/api/v1/transactions/{id}/signed", tx_signed_pdf, 0, LV_WORK_API,
     HTTP_APP, HTTP_NO_BODY},
    {"GET", "/api/v1/transactions/{id}/pdf", tx_pdf, 0, LV_WORK_API,
     HTTP_CITIZEN, HTTP_NO_BODY},
    {"GET", "/api/v1/transactions/{id}", tx_get, 0, LV_WORK_API, HTTP_APP,
     HTTP_NO_BODY},
    {"DELETE", "/api/v1/transactions/{id}", tx_delete, 0, LV_WORK_API, HTTP_APP,
     HTTP_NO_BODY},
    {"POST", "/api/v1/transactions/{id}/login", tx_login, BODY_SMALL,
     LV_WORK_PASSWORD, HTTP_LOGIN, HTTP_JSON(TX_LOGIN)},
    {"GET", "/api/v1/transactions/{id}/view", tx_view, 0, LV_WORK_API,
     HTTP_CITIZEN, HTTP_NO_BODY},
    {"POST", "/api/v1/transactions/{id}/otp", tx_otp, BODY_SMALL, LV_WORK_API,
     HTTP_CITIZEN, HTTP_EMPTY},
    {"POST", "/api/v1/transactions/{id}/confirm", tx_confirm, BODY_SMALL,
     LV_WORK_SIGN, HTTP_CITIZEN, HTTP_JSON(TX_CONFIRM)},
    {"POST", "/api/v1/transactions/{id}/cancel", tx_cancel, BODY_SMALL,
     LV_WORK_API, HTTP_CITIZEN, HTTP_EMPTY},
    {0},
};
