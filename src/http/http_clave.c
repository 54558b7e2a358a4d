/* The transaction API for relying applications (R5.6, modelled on the Cl@ve
 * Firma gateway) and the JSON endpoints of the citizen's authorization page
 * (web/sign/).  The rules are in sign/; this file maps JSON and codes.
 *
 * Applications authenticate with HTTP Basic (RFC 7617): client id and
 * client secret as printed by `llave app add` (HTTP_APP: req->client).  The
 * citizen's endpoints take the bearer token that .../login returns (a
 * citizen session: req->who).  Both are checked by http_access.c before a
 * handler runs, as the table at the end declares. */
#include "http/http_internal.h"
#include "sign/sign.h"

#define BODY_TX ((size_t)256 * 1024) /* 100 documents with their names */
#define BODY_SMALL 4096

/* remote_addr: throttling and rate limits key on it (issue 11). */
static lv_sign_env env_of(lv_app *app, const lv_http_req *req)
{
    return (lv_sign_env){lv_app_config(app), lv_app_ca(app), lv_app_auth(app),
                         req->remote_addr};
}

static int ok_json(lv_http_resp *resp, int status, json_t *o)
{
    return http_resp_json_new(resp, status, o, "no-store");
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
    return ok_json(resp, lv_err_http_status(rc), o);
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

/* ---- the application's calls
 * ------------------------------------------------------- */

/* POST /api/v1/transactions */
static int tx_create(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    json_t *out = NULL;
    lv_sign_env env = env_of(app, req);
    int rc =
        sign_tx_create(&env, req->st, req->client, req->json, &out, &why, &err);
    if (rc < 0)
        return sign_error(resp, rc, why, &err);
    return ok_json(resp, 201, out);
}

/* GET /api/v1/transactions/{id} */
static int tx_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    json_t *out = NULL;
    (void)app;
    if (sign_tx_json(req->st, req->client, req->param, &out, &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, 200, out);
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
    lv_sign_env env = env_of(app, req);
    int rc = sign_tx_login(
        &env, req->st, req->param, lv_json_str(req->json, "user_id"),
        lv_json_str(req->json, "password"), req->remote_addr, &out, &why, &err);
    if (rc < 0)
        return sign_error(resp, rc, why, &err);
    return ok_json(resp, 200, out);
}

/* GET /api/v1/transactions/{id}/view */
static int tx_view(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    json_t *out = NULL;
    lv_sign_env env = env_of(app, req);
    if (sign_tx_view(&env, req->st, req->param, &req->who, &out, &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, 200, out);
}

/* POST /api/v1/transactions/{id}/otp */
static int tx_otp(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    json_t *out = NULL;
    lv_sign_env env = env_of(app, req);
    int rc = sign_tx_send_otp(&env, req->st, req->param, &req->who, &out, &why,
                              &err);
    if (rc < 0)
        return sign_error(resp, rc, why, &err);
    return ok_json(resp, 200, out);
}

/* POST /api/v1/transactions/{id}/confirm {password, otp} */
static int tx_confirm(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    json_t *out = NULL;
    lv_sign_env env = env_of(app, req);
    int rc = sign_tx_confirm(&env, req->st, req->param, &req->who,
                             lv_json_str(req->json, "password"),
                             lv_json_str(req->json, "otp"), &out, &why, &err);
    if (rc < 0)
        return sign_error(resp, rc, why, &err);
    return ok_json(resp, 200, out);
}

/* POST /api/v1/transactions/{id}/cancel */
static int tx_cancel(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    json_t *out = NULL;
    (void)app;
    if (sign_tx_cancel(req->st, req->param, &req->who, &out, &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, 200, out);
}

const lv_http_route http_clave_routes[] = {
    {"POST", "/api/v1/transactions", tx_create, BODY_TX, LV_WORK_API, HTTP_APP,
     HTTP_JSON(TX_CREATE)},
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
