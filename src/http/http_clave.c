/* The transaction API for relying applications (R5.6, modelled on the Cl@ve
 * Firma gateway) and the JSON endpoints of the citizen's authorization page
 * (web/sign/).  The rules are in sign/; this file maps JSON and codes.
 *
 * Applications authenticate with HTTP Basic (RFC 7617): client id and
 * client secret as printed by `llave app add`.  The citizen's endpoints
 * take the bearer token that .../login returns (a citizen session). */
#include "http/http_internal.h"
#include "sign/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_TX ((size_t)256 * 1024) /* 100 documents with their names */
#define BODY_SMALL 4096

/* remote_addr: throttling and rate limits key on it (issue 11). */
static lv_sign_env env_of(lv_app *app, const lv_http_req *req)
{
    return (lv_sign_env){lv_app_config(app), lv_app_ca(app),
                         lv_app_auth(app),
                         req->remote_addr};
}

static int ok_json(lv_http_resp *resp, int status, json_t *o)
{
    if (!o)
        return LV_ENOMEM;
    int rc = http_resp_json(resp, status, o);
    json_decref(o);
    LV_TRY(rc);
    return http_resp_header(resp, "Cache-Control", "no-store");
}

/* Refusals of a signature carry their own error name (R5.6: unknown
 * citizen, basic level, no valid certificate, blocked certificate ...). */
static int sign_error(lv_http_resp *resp, int rc, lv_sign_refusal why,
                      const lv_err *err)
{
    if (why == LV_SIGN_OK)
        return http_resp_err(resp, err);
    json_t *o = json_pack("{s:s, s:s}", "error", sign_refusal_name(why),
                          "message", err->msg[0] ? err->msg : "refused");
    if (!o)
        return LV_ENOMEM;
    int r = http_resp_json(resp, lv_err_http_status(rc), o);
    json_decref(o);
    LV_TRY(r);
    return http_resp_header(resp, "Cache-Control", "no-store");
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
    HTTP_FIELD_REQ("digest", HTTP_STR),
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

/* ---- application authentication (HTTP Basic)
 * ---------------------------------- */

static int basic_credentials(const lv_http_req *req, char *user, size_t ucap,
                             char *pass, size_t pcap)
{
    const char *h = http_req_header(req, "Authorization");
    unsigned char *raw = NULL;
    size_t len = 0;
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return LV_EAUTH;
    h += 6;
    while (*h == ' ')
        h++;
    if (lv_b64_decode(h, strlen(h), &raw, &len) < 0)
        return LV_EAUTH;
    char *colon = memchr(raw, ':', len);
    int rc = LV_EAUTH;
    if (colon && (size_t)(colon - (char *)raw) < ucap &&
        len - (size_t)(colon - (char *)raw) - 1 < pcap &&
        !memchr(raw, '\0', len)) {
        size_t ul = (size_t)(colon - (char *)raw);
        memcpy(user, raw, ul);
        user[ul] = '\0';
        memcpy(pass, colon + 1, len - ul - 1);
        pass[len - ul - 1] = '\0';
        rc = 0;
    }
    OPENSSL_cleanse(raw, len);
    free(raw);
    return rc;
}

/* The calling application, or resp filled with 401 (or 503). */
static int app_require(lv_app *app, const lv_http_req *req, lv_http_resp *resp,
                       lv_store **st, lv_sign_app_rec *out)
{
    char user[64], pass[160];
    lv_err err = {0};
    int rc = lv_app_store(app, st, &err);
    if (rc < 0) {
        http_resp_err(resp, &err);
        return rc;
    }
    rc = basic_credentials(req, user, sizeof user, pass, sizeof pass);
    if (rc == 0)
        rc = sign_app_check(*st, user, pass, out, &err);
    OPENSSL_cleanse(pass, sizeof pass);
    if (rc < 0) {
        http_resp_error(resp, LV_EAUTH,
                        "application credentials (HTTP Basic: client id and "
                        "secret) are missing or wrong");
        http_resp_header(resp, "WWW-Authenticate",
                         "Basic realm=\"llave transactions\"");
        return LV_EAUTH;
    }
    return 0;
}

/* ---- the application's calls
 * ------------------------------------------------------- */

/* POST /api/v1/transactions */
static int tx_create(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_store *st;
    lv_sign_app_rec a;
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    json_t *out = NULL;
    json_t *j;
    if (app_require(app, req, resp, &st, &a) < 0 ||
        http_body_read(req, TX_CREATE, resp, &j) < 0)
        return 0;
    lv_sign_env env = env_of(app, req);
    int rc = sign_tx_create(&env, st, &a, j, &out, &why, &err);
    json_decref(j);
    if (rc < 0)
        return sign_error(resp, rc, why, &err);
    return ok_json(resp, 201, out);
}

/* GET /api/v1/transactions/{id} */
static int tx_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_store *st;
    lv_sign_app_rec a;
    lv_err err = {0};
    json_t *out = NULL;
    if (app_require(app, req, resp, &st, &a) < 0)
        return 0;
    if (sign_tx_json(st, &a, req->param, &out, &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, 200, out);
}

/* DELETE /api/v1/transactions/{id} */
static int tx_delete(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_store *st;
    lv_sign_app_rec a;
    lv_err err = {0};
    if (app_require(app, req, resp, &st, &a) < 0)
        return 0;
    if (sign_tx_end(st, &a, req->param, &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, 200,
                   json_pack("{s:s, s:s}", "id", req->param, "state", "ended"));
}

/* ---- the citizen's page
 * -------------------------------------------------------------- */

/* POST /api/v1/transactions/{id}/login {user_id, password} */
static int tx_login(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_store *st;
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    json_t *out = NULL;
    if (!lv_app_auth(app))
        return http_resp_error(resp, LV_ESEALED,
                               "authentication is not available");
    if (lv_app_store(app, &st, &err) < 0)
        return http_resp_err(resp, &err);
    json_t *j;
    if (http_body_read(req, TX_LOGIN, resp, &j) < 0)
        return 0;
    lv_sign_env env = env_of(app, req);
    int rc = sign_tx_login(&env, st, req->param, lv_json_str(j, "user_id"),
                           lv_json_str(j, "password"), req->remote_addr, &out,
                           &why, &err);
    json_decref(j);
    if (rc < 0)
        return sign_error(resp, rc, why, &err);
    return ok_json(resp, 200, out);
}

/* GET /api/v1/transactions/{id}/view */
static int tx_view(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_store *st;
    lv_principal who;
    lv_err err = {0};
    json_t *out = NULL;
    if (http_auth_require(app, req, resp, LV_ROLE_CITIZEN, &st, &who) < 0)
        return 0;
    lv_sign_env env = env_of(app, req);
    if (sign_tx_view(&env, st, req->param, &who, &out, &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, 200, out);
}

/* POST /api/v1/transactions/{id}/otp */
static int tx_otp(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_store *st;
    lv_principal who;
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    json_t *out = NULL;
    if (http_auth_require(app, req, resp, LV_ROLE_CITIZEN, &st, &who) < 0 ||
        http_body_empty(req, resp) < 0)
        return 0;
    lv_sign_env env = env_of(app, req);
    int rc = sign_tx_send_otp(&env, st, req->param, &who, &out, &why, &err);
    if (rc < 0)
        return sign_error(resp, rc, why, &err);
    return ok_json(resp, 200, out);
}

/* POST /api/v1/transactions/{id}/confirm {password, otp} */
static int tx_confirm(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_store *st;
    lv_principal who;
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    json_t *out = NULL;
    if (http_auth_require(app, req, resp, LV_ROLE_CITIZEN, &st, &who) < 0)
        return 0;
    json_t *j;
    if (http_body_read(req, TX_CONFIRM, resp, &j) < 0)
        return 0;
    lv_sign_env env = env_of(app, req);
    int rc =
        sign_tx_confirm(&env, st, req->param, &who, lv_json_str(j, "password"),
                        lv_json_str(j, "otp"), &out, &why, &err);
    json_decref(j);
    if (rc < 0)
        return sign_error(resp, rc, why, &err);
    return ok_json(resp, 200, out);
}

/* POST /api/v1/transactions/{id}/cancel */
static int tx_cancel(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_store *st;
    lv_principal who;
    lv_err err = {0};
    json_t *out = NULL;
    if (http_auth_require(app, req, resp, LV_ROLE_CITIZEN, &st, &who) < 0 ||
        http_body_empty(req, resp) < 0)
        return 0;
    if (sign_tx_cancel(st, req->param, &who, &out, &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, 200, out);
}

const lv_http_route http_clave_routes[] = {
    {"POST", "/api/v1/transactions", tx_create, BODY_TX, LV_WORK_API},
    {"GET", "/api/v1/transactions/{id}", tx_get, 0, LV_WORK_API},
    {"DELETE", "/api/v1/transactions/{id}", tx_delete, 0, LV_WORK_API},
    {"POST", "/api/v1/transactions/{id}/login", tx_login, BODY_SMALL,
     LV_WORK_PASSWORD},
    {"GET", "/api/v1/transactions/{id}/view", tx_view, 0, LV_WORK_API},
    {"POST", "/api/v1/transactions/{id}/otp", tx_otp, BODY_SMALL, LV_WORK_API},
    {"POST", "/api/v1/transactions/{id}/confirm", tx_confirm, BODY_SMALL,
     LV_WORK_SIGN},
    {"POST", "/api/v1/transactions/{id}/cancel", tx_cancel, BODY_SMALL,
     LV_WORK_API},
    {0},
};
