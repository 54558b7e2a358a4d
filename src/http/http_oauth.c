/* OAuth 2.0 for the CSC API (CSC API v2.0.0.2 §8; issue 14 item 3):
 * oauth2/authorize, oauth2/token, oauth2/revoke, and the citizen's
 * authorization page /oauth/{id} with its JSON calls.  The rules are in
 * oauth/; this file maps HTTP.
 *
 * The token and revocation endpoints take application/x-www-form-urlencoded
 * (RFC 6749 §4.1.3, RFC 7009 §2.1; oauth_form_parse) or, for CSC clients
 * that send JSON, a JSON object read by the server's strict reader.  The
 * client authenticates with HTTP Basic (RFC 6749 §2.3.1) or client_id and
 * client_secret in the body, never both.  Errors are RFC 6749 §5.2's
 * {"error", "error_description"}, never cached. */
#include "auth/auth.h"
#include "http/http_csc_internal.h"
#include "http/web_assets_internal.h"
#include "oauth/oauth.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define BODY_FORM ((size_t)16 * 1024)
#define BODY_SMALL 4096
#define CLIENT_MAX 64
#define SECRET_MAX 160

/* ---- RFC 6749 answers ---------------------------------------------------- */

static int status_of(const char *error)
{
    if (strcmp(error, "invalid_client") == 0)
        return 401;
    if (strcmp(error, "server_error") == 0)
        return 500;
    if (strcmp(error, "temporarily_unavailable") == 0)
        return 503;
    return 400;
}

static int no_store(lv_http_resp *resp)
{
    LV_TRY(http_resp_header(resp, "Cache-Control", "no-store"));
    return http_resp_header(resp, "Pragma", "no-cache");
}

/* §5.2; a 401 names the scheme the client may use (Basic). */
static int oauth_error(lv_http_resp *resp, const char *error, const char *desc)
{
    int status = status_of(error);
    json_t *o = json_pack("{s:s, s:s}", "error", error, "error_description",
                          desc && desc[0] ? desc : error);
    LV_TRY(http_resp_json_new(resp, status, o, "no-store"));
    LV_TRY(http_resp_header(resp, "Pragma", "no-cache"));
    if (status == 401)
        return http_resp_header(resp, "WWW-Authenticate",
                                "Basic realm=\"llave oauth2\"");
    return 0;
}

static int redirect(lv_http_resp *resp, const char *location)
{
    LV_TRY(http_resp_bytes(resp, 302, "text/plain; charset=utf-8", "", 0));
    LV_TRY(http_resp_header(resp, "Location", location));
    LV_TRY(http_resp_header(resp, "Referrer-Policy", "no-referrer"));
    return no_store(resp);
}

/* ---- oauth2/authorize ---------------------------------------------------- */

static lv_oauth_authorize_req authorize_req(const lv_http_req *req)
{
    return (lv_oauth_authorize_req){
        .response_type = http_req_query(req, "response_type"),
        .client_id = http_req_query(req, "client_id"),
        .redirect_uri = http_req_query(req, "redirect_uri"),
        .scope = http_req_query(req, "scope"),
        .state = http_req_query(req, "state"),
        .code_challenge = http_req_query(req, "code_challenge"),
        .code_challenge_method = http_req_query(req, "code_challenge_method"),
        .lang = http_req_query(req, "lang"),
        .credential_id = http_req_query(req, "credentialID"),
        .num_signatures = http_req_query(req, "numSignatures"),
        .hashes = http_req_query(req, "hashes"),
        .hash_algorithm_oid = http_req_query(req, "hashAlgorithmOID"),
        .signature_qualifier = http_req_query(req, "signatureQualifier"),
        .description = http_req_query(req, "description"),
        .authorization_details = http_req_query(req, "authorization_details"),
    };
}

/* GET /csc/v2/oauth2/authorize: to the page, or the error back to the
 * client (§4.1.2.1), or to the user when the client cannot be trusted
 * with it.  A Location longer than a header holds is told to the user. */
static int authorize(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char id[33], location[OAUTH_LOCATION_MAX], page[64];
    const char *oerr = "invalid_request";
    lv_err err = {0};
    lv_oauth_authorize_req in = authorize_req(req);
    (void)app;
    int rc = oauth_authorize(req->st, &in, id, location, &oerr, &err);
    if (rc == 0) {
        snprintf(page, sizeof page, "/oauth/%s", id);
        return redirect(resp, page);
    }
    if (location[0] && strlen(location) < sizeof resp->headers[0].value)
        return redirect(resp, location);
    return oauth_error(resp, oerr, err.msg);
}

/* ---- token and revoke bodies --------------------------------------------- */

static const http_body_field TOKEN_JSON[] = {
    {"grant_type", .types = HTTP_STR, .max_len = 64},
    {"code", .types = HTTP_STR, .max_len = 256},
    {"redirect_uri", .types = HTTP_STR, .max_len = 1024},
    {"code_verifier", .types = HTTP_STR, .max_len = 256},
    {"client_id", .types = HTTP_STR, .max_len = CLIENT_MAX},
    {"client_secret", .types = HTTP_STR, .max_len = SECRET_MAX},
    {0}};

static const http_body_field REVOKE_JSON[] = {
    {"token", .types = HTTP_STR, .max_len = 256},
    {"token_type_hint", .types = HTTP_STR, .max_len = 64},
    {"client_id", .types = HTTP_STR, .max_len = CLIENT_MAX},
    {"client_secret", .types = HTTP_STR, .max_len = SECRET_MAX},
    {0}};

static const char *const TOKEN_NAMES[] = {
    "grant_type", "code",          "redirect_uri", "code_verifier",
    "client_id",  "client_secret", "token",        "token_type_hint",
    NULL};

/* The body as name -> value, whichever encoding it came in. */
typedef struct oauth_body {
    oauth_params form;
    json_t *json;
    char user[CLIENT_MAX], pass[SECRET_MAX]; /* HTTP Basic */
    int basic;
} oauth_body;

static const char *body_get(const oauth_body *b, const char *name)
{
    if (b->json)
        return lv_json_str(b->json, name);
    const char *v = oauth_param(&b->form, name);
    return v && v[0] ? v : NULL; /* RFC 6749 §3.1: empty is omitted */
}

static int media_is(const char *value, const char *want)
{
    size_t n = strlen(want);
    if (!value || strncasecmp(value, want, n) != 0)
        return 0;
    return value[n] == '\0' || value[n] == ';' || value[n] == ' ';
}

static int body_read(const lv_http_req *req, const http_body_field *schema,
                     oauth_body *b, lv_err *err)
{
    const char *ct = http_req_header(req, "Content-Type");
    const char *rep = NULL;
    memset(b, 0, sizeof *b);
    if (media_is(ct, "application/json"))
        return http_body_parse(req->body, req->body ? req->body_len : 0, schema,
                               &b->json, err);
    if (!media_is(ct, "application/x-www-form-urlencoded"))
        return lv_fail(err, LV_EINVAL,
                       "send application/x-www-form-urlencoded (RFC 6749)");
    LV_TRY(oauth_form_parse(req->body ? req->body : (const unsigned char *)"",
                            req->body ? req->body_len : 0, &b->form, err));
    if ((rep = oauth_params_repeated(&b->form, TOKEN_NAMES)))
        return lv_fail(err, LV_EINVAL, "%s is repeated (RFC 6749 §3.2)", rep);
    return 0;
}

/* Basic or the body, not both (§2.3). */
static int client_creds(const lv_http_req *req, oauth_body *b, const char **id,
                        const char **secret, const char **oerr, lv_err *err)
{
    *id = body_get(b, "client_id");
    *secret = body_get(b, "client_secret");
    if (!http_req_header(req, "Authorization"))
        return 0;
    *oerr = "invalid_client";
    if (http_req_basic(req, b->user, sizeof b->user, b->pass, sizeof b->pass) <
        0)
        return lv_fail(err, LV_EAUTH, "malformed HTTP Basic credentials");
    *oerr = "invalid_request";
    if (*secret || (*id && strcmp(*id, b->user) != 0))
        return lv_fail(err, LV_EINVAL,
                       "authenticate the client one way: HTTP Basic or "
                       "client_secret");
    *id = b->user;
    *secret = b->pass;
    return 0;
}

static void body_free(oauth_body *b)
{
    oauth_params_free(&b->form);
    json_decref(b->json);
    OPENSSL_cleanse(b->pass, sizeof b->pass);
    b->json = NULL;
}

/* ---- the client's secret, throttled ------------------------------------ */

/* The secret is tried only while (client_id, source) and the source are
 * under the login throttle (auth_client_gate): past the budget, 429 with
 * Retry-After before any lookup or hash, and no audit row. */
static int client_gate(lv_app *app, const lv_http_req *req, const char *id,
                       lv_err *err)
{
    lv_auth *auth = lv_app_auth(app);
    return auth ? auth_client_gate(auth, id, req->remote_addr, err) : 0;
}

/* A wrong id or secret (invalid_client) charges the pair; any other
 * outcome proved the secret. */
static void client_result(lv_app *app, const lv_http_req *req, const char *id,
                          int rc, const char *oerr)
{
    lv_auth *auth = lv_app_auth(app);
    if (auth)
        auth_client_result(auth, id, req->remote_addr,
                           rc == 0 || strcmp(oerr, "invalid_client") != 0);
}

/* ---- oauth2/token -------------------------------------------------------- */

static int token_answer(lv_http_resp *resp, lv_oauth_token_out *t)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "access_token",
                          t->access_token, "token_type", "Bearer", "expires_in",
                          t->expires_in, "scope", t->scope);
    if (o && strcmp(t->scope, "credential") == 0)
        json_object_set_new(o, "credentialID", json_string(t->credential_id));
    OPENSSL_cleanse(t, sizeof *t);
    LV_TRY(http_resp_json_new(resp, 200, o, "no-store"));
    return http_resp_header(resp, "Pragma", "no-cache");
}

/* POST /csc/v2/oauth2/token */
static int token(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    oauth_body b;
    lv_oauth_token_out out;
    lv_oauth_token_req in = {0};
    const char *oerr = "invalid_request";
    lv_err err = {0};
    int rc = body_read(req, TOKEN_JSON, &b, &err);
    if (rc == 0)
        rc = client_creds(req, &b, &in.client_id, &in.client_secret, &oerr,
                          &err);
    if (rc == 0)
        rc = client_gate(app, req, in.client_id, &err);
    if (rc == 0) {
        in.grant_type = body_get(&b, "grant_type");
        in.code = body_get(&b, "code");
        in.redirect_uri = body_get(&b, "redirect_uri");
        in.code_verifier = body_get(&b, "code_verifier");
        rc = oauth_token(lv_app_config(app), req->st, &in, &out, &oerr, &err);
        client_result(app, req, in.client_id, rc, oerr);
    }
    body_free(&b);
    if (rc == LV_ELIMIT)
        return http_csc_limit(resp, &err);
    if (rc < 0)
        return oauth_error(resp, oerr, err.msg);
    return token_answer(resp, &out);
}

/* POST /csc/v2/oauth2/revoke (RFC 7009): 200 with no body. */
static int revoke(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    oauth_body b;
    const char *id = NULL, *secret = NULL, *oerr = "invalid_request";
    lv_err err = {0};
    int rc = body_read(req, REVOKE_JSON, &b, &err);
    if (rc == 0)
        rc = client_creds(req, &b, &id, &secret, &oerr, &err);
    if (rc == 0)
        rc = client_gate(app, req, id, &err);
    if (rc == 0) {
        rc = oauth_revoke(req->st, id, secret, body_get(&b, "token"), &oerr,
                          &err);
        client_result(app, req, id, rc, oerr);
    }
    body_free(&b);
    if (rc == LV_ELIMIT)
        return http_csc_limit(resp, &err);
    if (rc < 0)
        return oauth_error(resp, oerr, err.msg);
    LV_TRY(http_resp_bytes(resp, 200, "text/plain; charset=utf-8", "", 0));
    return no_store(resp);
}

/* ---- the page and its assets --------------------------------------------- */

/* GET /oauth/{id} */
static int page(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    return http_web_id_page(req, resp, "oauth/index.html",
                            "no such authorization request");
}

/* ---- the page's calls ---------------------------------------------------- */

static int page_answer(lv_http_resp *resp, int rc, json_t *out,
                       lv_sign_refusal why, const lv_err *err)
{
    if (rc == 0)
        return http_resp_json_new(resp, 200, out, "no-store");
    if (why == LV_SIGN_OK)
        return http_resp_err(resp, err);
    return http_resp_refusal(resp, lv_err_http_status(rc),
                             sign_refusal_name(why),
                             err->msg[0] ? err->msg : "refused");
}

static const http_body_field LOGIN[] = {HTTP_FIELD_REQ("user_id", HTTP_STR),
                                        HTTP_FIELD_REQ("password", HTTP_STR),
                                        {0}};
static const http_body_field APPROVE[] = {
    HTTP_FIELD_REQ("password", HTTP_STR), HTTP_FIELD_REQ("otp", HTTP_STR), {0}};

/* One call of the page: oauth/'s answer (out) or its refusal (why, err);
 * page_run gives it the request's environment and answers for it. */
typedef int (*page_call)(const lv_sign_env *env, const lv_http_req *req,
                         json_t **out, lv_sign_refusal *why, lv_err *err);

static int page_run(lv_app *app, const lv_http_req *req, lv_http_resp *resp,
                    page_call call)
{
    json_t *out = NULL;
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    lv_sign_env env = http_sign_env(app, req);
    int rc = call(&env, req, &out, &why, &err);
    return page_answer(resp, rc, out, why, &err);
}

/* GET /api/v1/oauth/{id} */
static int info_call(const lv_sign_env *env, const lv_http_req *req,
                     json_t **out, lv_sign_refusal *why, lv_err *err)
{
    (void)env;
    (void)why;
    return oauth_page_info(req->st, req->param, out, err);
}

/* POST /api/v1/oauth/{id}/login {user_id, password} */
static int login_call(const lv_sign_env *env, const lv_http_req *req,
                      json_t **out, lv_sign_refusal *why, lv_err *err)
{
    return oauth_page_login(env, req->st, req->param,
                            lv_json_str(req->json, "user_id"),
                            lv_json_str(req->json, "password"), out, why, err);
}

/* POST /api/v1/oauth/{id}/otp */
static int otp_call(const lv_sign_env *env, const lv_http_req *req,
                    json_t **out, lv_sign_refusal *why, lv_err *err)
{
    return oauth_page_otp(env, req->st, req->param, &req->who, out, why, err);
}

/* POST /api/v1/oauth/{id}/approve {password, otp} */
static int approve_call(const lv_sign_env *env, const lv_http_req *req,
                        json_t **out, lv_sign_refusal *why, lv_err *err)
{
    return oauth_page_approve(env, req->st, req->param, &req->who,
                              lv_json_str(req->json, "password"),
                              lv_json_str(req->json, "otp"), out, why, err);
}

/* POST /api/v1/oauth/{id}/deny */
static int deny_call(const lv_sign_env *env, const lv_http_req *req,
                     json_t **out, lv_sign_refusal *why, lv_err *err)
{
    (void)env;
    (void)why;
    return oauth_page_deny(req->st, req->param, &req->who, out, err);
}

#define PAGE_HANDLER(name)                                                     \
    static int name(lv_app *app, const lv_http_req *req, lv_http_resp *resp)   \
    {                                                                          \
        return page_run(app, req, resp, name##_call);                          \
    }
PAGE_HANDLER(info)
PAGE_HANDLER(login)
PAGE_HANDLER(otp)
PAGE_HANDLER(approve)
PAGE_HANDLER(deny)

const lv_http_route http_oauth_routes[] = {
    {"GET", "/csc/v2/oauth2/authorize", authorize, 0, LV_WORK_API, HTTP_PUBLIC,
     HTTP_NO_BODY},
    {"POST", "/csc/v2/oauth2/token", token, BODY_FORM, LV_WORK_API,
     HTTP_CSC_PUBLIC, HTTP_RAW(NULL, NULL)},
    {"POST", "/csc/v2/oauth2/revoke", revoke, BODY_FORM, LV_WORK_API,
     HTTP_CSC_PUBLIC, HTTP_RAW(NULL, NULL)},
    HTTP_GET_PUBLIC("/oauth/{id}", page),
    HTTP_GET_PUBLIC("/web/oauth/{file}", http_web_asset_get),
    {"GET", "/api/v1/oauth/{id}", info, 0, LV_WORK_API, HTTP_PUBLIC,
     HTTP_NO_BODY},
    {"POST", "/api/v1/oauth/{id}/login", login, BODY_SMALL, LV_WORK_PASSWORD,
     HTTP_LOGIN, HTTP_JSON(LOGIN)},
    {"POST", "/api/v1/oauth/{id}/otp", otp, BODY_SMALL, LV_WORK_API,
     HTTP_CITIZEN, HTTP_EMPTY},
    {"POST", "/api/v1/oauth/{id}/approve", approve, BODY_SMALL, LV_WORK_SIGN,
     HTTP_CITIZEN, HTTP_JSON(APPROVE)},
    {"POST", "/api/v1/oauth/{id}/deny", deny, BODY_SMALL, LV_WORK_API,
     HTTP_CITIZEN, HTTP_EMPTY},
    {0},
};
