/* Authentication API (issue 6): operator and citizen login, logout,
 * activation, password change, the published policy, operator accounts and
 * the officer's unlock of a citizen.  The rules are in auth/; this file only
 * maps JSON to calls and codes to statuses.  Who may call each route and
 * the shape of its body are in the table at the end (checked by
 * http_access.c before a handler runs). */
#include "http/http_internal.h"

#define BODY_SMALL 4096

/* ---- helpers ------------------------------------------------------------- */

static int no_auth(lv_http_resp *resp)
{
    return http_resp_error_status(resp, 503, LV_EINTERNAL,
                                  "authentication is not available");
}

static int ok_json(lv_http_resp *resp, json_t *o)
{
    return http_resp_json_new(resp, 200, o, "no-store");
}

/* A login's answer: its refusal, or the session token, which is wiped
 * either way. */
static int login_answer(lv_http_resp *resp, int rc, const lv_err *err,
                        lv_session_token *t)
{
    rc = rc < 0 ? http_resp_err(resp, err)
                : ok_json(resp,
                          json_pack("{s:s, s:s, s:I, s:o}", "token", t->token,
                                    "token_type", "Bearer", "expires_in",
                                    (json_int_t)(t->expires_at - lv_now()),
                                    "roles", auth_roles_json(t->roles)));
    auth_token_wipe(t);
    return rc;
}

/* ---- logins
 * ------------------------------------------------------------------- */

/* POST /api/v1/operators/login {login, password, totp} (R3.6). */
static int operator_login(lv_app *app, const lv_http_req *req,
                          lv_http_resp *resp)
{
    lv_session_token t;
    lv_err err = {0};
    int rc = auth_operator_login(
        lv_app_auth(app), req->st, lv_json_str(req->json, "login"),
        lv_json_str(req->json, "password"), lv_json_str(req->json, "totp"),
        req->remote_addr, &t, &err);
    return login_answer(resp, rc, &err, &t);
}

/* POST /api/v1/operators/login/certificate over llaved's https, with the
 * operator's client certificate and no body (issue 17 item 4, CPS §5.2.3):
 * ca/ judges the certificate, auth/ maps it to the account bound to it. */
static int operator_login_cert(lv_app *app, const lv_http_req *req,
                               lv_http_resp *resp)
{
    if (!req->https)
        return http_resp_error_status(resp, 403, LV_EPERM,
                                      "a client certificate login needs https");
    lv_ca *ca = lv_app_ca(app);
    if (!ca)
        return no_auth(resp);
    ca_client_cert cc;
    lv_session_token t;
    lv_err err = {0};
    int rc = ca_client_cert_check(ca, req->st, req->peer_der, req->peer_len,
                                  req->npeer, &cc, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    lv_operator_cert c = {.not_after = cc.not_after};
    snprintf(c.fingerprint, sizeof c.fingerprint, "%s", cc.fingerprint);
    snprintf(c.serial, sizeof c.serial, "%s", cc.serial);
    snprintf(c.subject, sizeof c.subject, "%s", cc.subject);
    rc = auth_operator_login_cert(lv_app_auth(app), req->st, &c, cc.refusal,
                                  req->remote_addr, &t, &err);
    return login_answer(resp, rc, &err, &t);
}

/* POST /api/v1/auth/login {user_id, password}: a citizen session. */
static int citizen_login(lv_app *app, const lv_http_req *req,
                         lv_http_resp *resp)
{
    lv_session_token t;
    lv_err err = {0};
    int rc = auth_citizen_login(
        lv_app_auth(app), req->st, lv_json_str(req->json, "user_id"),
        lv_json_str(req->json, "password"), req->remote_addr, &t, &err);
    return login_answer(resp, rc, &err, &t);
}

/* POST /api/v1/auth/logout with the bearer token. */
static int logout(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    if (auth_session_end(lv_app_auth(app), req->st, http_req_bearer(req),
                         &err) < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, json_pack("{s:b}", "logged_out", 1));
}

/* GET /api/v1/auth/session: who the token belongs to. */
static int session_info(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    const lv_principal *who = &req->who;
    (void)app;
    return ok_json(
        resp,
        json_pack("{s:s, s:s, s:o, s:I}", "kind",
                  who->kind == LV_PRINCIPAL_OPERATOR ? "operator" : "citizen",
                  "id", who->id, "roles", auth_roles_json(who->roles),
                  "expires_in", (json_int_t)(who->expires_at - lv_now())));
}

/* ---- citizens' credentials
 * ------------------------------------------------------ */

/* POST /api/v1/citizens/activate {user_id, code, password} (R3.1). */
static int citizen_activate(lv_app *app, const lv_http_req *req,
                            lv_http_resp *resp)
{
    const char *user_id = lv_json_str(req->json, "user_id");
    char cid[LV_AUTH_ID_MAX];
    lv_err err = {0};
    int rc = auth_citizen_activate(
        lv_app_auth(app), req->st, user_id, lv_json_str(req->json, "code"),
        lv_json_str(req->json, "password"), req->remote_addr, cid, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, json_pack("{s:s, s:s, s:b}", "user_id", user_id,
                                   "citizen_id", cid, "activated", 1));
}

/* POST /api/v1/auth/password {user_id, password, new_password} (R3.2);
 * works with an expired password. */
int http_password_change(lv_app *app, const lv_http_req *req,
                         lv_http_resp *resp, const char *user_id)
{
    lv_err err = {0};
    int rc = auth_citizen_password_change(
        lv_app_auth(app), req->st, user_id, lv_json_str(req->json, "password"),
        lv_json_str(req->json, "new_password"), req->remote_addr, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, json_pack("{s:b}", "changed", 1));
}

static int password_change(lv_app *app, const lv_http_req *req,
                           lv_http_resp *resp)
{
    return http_password_change(app, req, resp,
                                lv_json_str(req->json, "user_id"));
}

/* GET /api/v1/policy: the password and code rules (R3.1: "published"). */
static int policy(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)req;
    if (!lv_app_auth(app))
        return no_auth(resp);
    return http_resp_json_new(resp, 200,
                              auth_password_policy_json(lv_app_auth(app)),
                              "public, max-age=300");
}

/* POST /api/v1/ra/citizens/{id}/unlock and .../lock (R3.5; issue 11: a
 * true lock is an officer's decision): registration officers. */
static int citizen_lock_change(lv_app *app, const lv_http_req *req,
                               lv_http_resp *resp, int lock)
{
    lv_err err = {0};
    int rc = lock ? auth_citizen_lock(lv_app_auth(app), req->st, req->param,
                                      req->who.actor, &err)
                  : auth_citizen_unlock(lv_app_auth(app), req->st, req->param,
                                        req->who.actor, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    return ok_json(resp, json_pack("{s:s, s:b}", "citizen_id", req->param,
                                   lock ? "locked" : "unlocked", 1));
}

static int citizen_unlock(lv_app *app, const lv_http_req *req,
                          lv_http_resp *resp)
{
    return citizen_lock_change(app, req, resp, 0);
}

static int citizen_lock(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    return citizen_lock_change(app, req, resp, 1);
}

/* ---- operator accounts
 * ------------------------------------------------------------ */

static int op_item(const lv_operator_info *o, void *ctx)
{
    char created[32];
    lv_time_iso(o->created_at, created);
    json_t *item = json_pack(
        "{s:s, s:o, s:b, s:b, s:s, s:s}", "login", o->login, "roles",
        auth_roles_json(o->roles), "enabled", o->enabled, "locked", o->locked,
        "created_at", created, "created_by", o->created_by);
    return item && json_array_append_new(ctx, item) == 0 ? 0 : LV_ENOMEM;
}

/* GET /api/v1/operators: security officer, system administrator, auditor
 * (read only). */
static int operator_list(lv_app *app, const lv_http_req *req,
                         lv_http_resp *resp)
{
    lv_err err = {0};
    (void)app;
    json_t *a = json_array();
    int rc = a ? auth_operator_foreach(req->st, op_item, a, &err) : LV_ENOMEM;
    if (rc < 0) {
        json_decref(a);
        return err.msg[0] ? http_resp_err(resp, &err) : rc;
    }
    return ok_json(resp, json_pack("{s:o}", "operators", a));
}

/* 202: the first of two administrators asked (CPS §5.2.4, issue 11). */
static int disable_pending(lv_http_resp *resp, const char *login)
{
    json_t *o = json_pack("{s:s, s:b, s:b, s:s}", "login", login, "enabled", 1,
                          "pending", 1, "message",
                          "disabling an administrator needs a second "
                          "administrator to make the same request");
    return http_resp_json_new(resp, 202, o, "no-store");
}

/* POST /api/v1/operators/{login}/enable|disable: security officer or
 * system administrator; never an auditor (R1.4).  Disabling goes through
 * auth_operator_disable: never the last administrator of a kind, and two
 * administrators to disable one. */
static int operator_enable(lv_app *app, const lv_http_req *req,
                           lv_http_resp *resp, int enabled)
{
    lv_err err = {0};
    int pending = 0;
    int rc =
        enabled ? auth_operator_set_enabled(lv_app_auth(app), req->st,
                                            req->param, 1, req->who.actor, &err)
                : auth_operator_disable(lv_app_auth(app), req->st, req->param,
                                        &req->who, &pending, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    if (pending)
        return disable_pending(resp, req->param);
    return ok_json(
        resp, json_pack("{s:s, s:b}", "login", req->param, "enabled", enabled));
}

static int operator_disable_h(lv_app *app, const lv_http_req *req,
                              lv_http_resp *resp)
{
    return operator_enable(app, req, resp, 0);
}

static int operator_enable_h(lv_app *app, const lv_http_req *req,
                             lv_http_resp *resp)
{
    return operator_enable(app, req, resp, 1);
}

#define ROLES_OPERATORS_READ                                                   \
    (LV_ROLE_SECURITY_OFFICER | LV_ROLE_SYSADMIN | LV_ROLE_AUDITOR)
#define ROLES_OPERATORS_WRITE (LV_ROLE_SECURITY_OFFICER | LV_ROLE_SYSADMIN)
#define ROLES_CITIZEN_LOCK (LV_ROLE_RA_OFFICER | LV_ROLE_RA_ADMIN)

static const http_body_field OPERATOR_LOGIN[] = {
    HTTP_FIELD_REQ("login", HTTP_STR),
    HTTP_FIELD_REQ("password", HTTP_STR),
    HTTP_FIELD_REQ("totp", HTTP_STR),
    {0}};

static const http_body_field CITIZEN_LOGIN[] = {
    HTTP_FIELD_REQ("user_id", HTTP_STR),
    HTTP_FIELD_REQ("password", HTTP_STR),
    {0}};

static const http_body_field ACTIVATE[] = {HTTP_FIELD_REQ("user_id", HTTP_STR),
                                           HTTP_FIELD_REQ("code", HTTP_STR),
                                           HTTP_FIELD_REQ("password", HTTP_STR),
                                           {0}};

static const http_body_field PASSWORD[] = {
    HTTP_FIELD_REQ("user_id", HTTP_STR),
    HTTP_FIELD_REQ("password", HTTP_STR),
    HTTP_FIELD_REQ("new_password", HTTP_STR),
    {0}};

const lv_http_route http_auth_routes[] = {
    {"POST", "/api/v1/operators/login", operator_login, BODY_SMALL,
     LV_WORK_PASSWORD, HTTP_LOGIN, HTTP_JSON(OPERATOR_LOGIN)},
    {"POST", "/api/v1/operators/login/certificate", operator_login_cert,
     BODY_SMALL, LV_WORK_API, HTTP_LOGIN, HTTP_EMPTY},
    {"GET", "/api/v1/operators", operator_list, 0, LV_WORK_API,
     HTTP_SESSION(ROLES_OPERATORS_READ), HTTP_NO_BODY},
    {"POST", "/api/v1/operators/{login}/disable", operator_disable_h,
     BODY_SMALL, LV_WORK_API, HTTP_SESSION(ROLES_OPERATORS_WRITE), HTTP_EMPTY},
    {"POST", "/api/v1/operators/{login}/enable", operator_enable_h, BODY_SMALL,
     LV_WORK_API, HTTP_SESSION(ROLES_OPERATORS_WRITE), HTTP_EMPTY},
    {"POST", "/api/v1/auth/login", citizen_login, BODY_SMALL, LV_WORK_PASSWORD,
     HTTP_LOGIN, HTTP_JSON(CITIZEN_LOGIN)},
    {"POST", "/api/v1/auth/logout", logout, BODY_SMALL, LV_WORK_API,
     HTTP_SESSION(0), HTTP_EMPTY},
    {"GET", "/api/v1/auth/session", session_info, 0, LV_WORK_API,
     HTTP_SESSION(0), HTTP_NO_BODY},
    {"POST", "/api/v1/auth/password", password_change, BODY_SMALL,
     LV_WORK_PASSWORD, HTTP_LOGIN, HTTP_JSON(PASSWORD)},
    {"POST", "/api/v1/citizens/activate", citizen_activate, BODY_SMALL,
     LV_WORK_PASSWORD, HTTP_LOGIN, HTTP_JSON(ACTIVATE)},
    HTTP_GET_PUBLIC("/api/v1/policy", policy),
    {"POST", "/api/v1/ra/citizens/{id}/unlock", citizen_unlock, BODY_SMALL,
     LV_WORK_API, HTTP_SESSION(ROLES_CITIZEN_LOCK), HTTP_EMPTY},
    {"POST", "/api/v1/ra/citizens/{id}/lock", citizen_lock, BODY_SMALL,
     LV_WORK_API, HTTP_SESSION(ROLES_CITIZEN_LOCK), HTTP_EMPTY},
    {0},
};
