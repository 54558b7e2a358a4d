/* Who is calling and what they sent, decided once per request before the
 * handler runs (issue 12 item 7).  A route declares both as data
 * (lv_http_route.auth, .body); this file is the only place that reads
 * credentials from a request and the only caller of the JSON body reader
 * for routes.  The order is fixed:
 *
 *   1. the auth context, when the route needs one (503 without it);
 *   2. the thread's store;
 *   3. the caller: a bearer session (RFC 6750) or an application's HTTP
 *      Basic credentials (RFC 7617), with the roles the route names;
 *   4. the body (media type, or JSON against the route's schema).
 *
 * Authentication comes before the body, so that an anonymous caller learns
 * nothing from the body's faults and a refused one costs no parsing.  The
 * answers are those the handlers used to build themselves: the same
 * statuses, error names and headers, in the CSC shape on CSC routes. */
#include "http/http_internal.h"
#include "sign/sign.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#define BASIC_USER_MAX 64    /* client ids are "app-" + 16 hex */
#define BASIC_SECRET_MAX 160 /* secrets are 64 hex */

static int is_csc(const lv_http_route *r)
{
    return (r->auth.flags & LV_HTTP_AUTH_CSC) != 0;
}

/* ---- Authorization headers ----------------------------------------------- */

const char *http_bearer_token(const char *h)
{
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    /* RFC 6750 §2.1 asks for one SP; a client that sends more is not
     * refused for it */
    while (*h == ' ')
        h++;
    return h;
}

const char *http_req_bearer(const lv_http_req *req)
{
    return http_bearer_token(http_req_header(req, "Authorization"));
}

/* ---- cookies (the portal) ------------------------------------------------ */

const char *http_req_cookie(const lv_http_req *req, const char *name, char *out,
                            size_t cap)
{
    const char *p = http_req_header(req, "Cookie");
    size_t n = strlen(name);
    while (p && *p) {
        p += strspn(p, " \t;");
        size_t len = strcspn(p, ";");
        if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            len -= n + 1;
            while (len &&
                   (p[n + 1 + len - 1] == ' ' || p[n + 1 + len - 1] == '\t'))
                len--;
            if (len >= cap)
                return NULL;
            memcpy(out, p + n + 1, len);
            out[len] = '\0';
            return out;
        }
        p += len;
    }
    return NULL;
}

int http_portal_csrf(const char *token, char out[65])
{
    static const char label[] = "llave portal csrf";
    unsigned char md[32];
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(c, label, sizeof label - 1) == 1 &&
             EVP_DigestUpdate(c, token, strlen(token)) == 1 &&
             EVP_DigestFinal_ex(c, md, &n) == 1 && n == sizeof md;
    EVP_MD_CTX_free(c);
    if (!ok)
        return LV_ECRYPTO;
    lv_hex_encode(md, sizeof md, out);
    return 0;
}

/* A portal request that changes something names the session's CSRF token
 * (the cookie alone is what a forged cross-site request would carry). */
static int portal_csrf_ok(const lv_http_req *req, const char *token)
{
    char want[65];
    const char *got = http_req_header(req, "X-CSRF-Token");
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
        return 1;
    return got && strlen(got) == 64 && http_portal_csrf(token, want) == 0 &&
           CRYPTO_memcmp(got, want, 64) == 0;
}

/* ---- refusals --------------------------------------------------------------
 * Each fills resp and returns 1 (refused), or a negative code when even the
 * answer could not be built. */

static int refuse_rc(int rc)
{
    return rc < 0 ? rc : 1;
}

/* No auth context (a server started without one): 503. */
static int refuse_no_auth(const lv_http_route *r, lv_http_resp *resp)
{
    if (is_csc(r))
        return refuse_rc(http_resp_csc_error(resp, 503,
                                             "temporarily_unavailable",
                                             "authentication is not "
                                             "available"));
    return refuse_rc(http_resp_error_status(resp, 503, LV_EINTERNAL,
                                            "authentication is not "
                                            "available"));
}

/* The store could not be opened, or another fault of ours: 5xx. */
static int refuse_err(const lv_http_route *r, lv_http_resp *resp,
                      const lv_err *err)
{
    if (is_csc(r))
        return refuse_rc(http_resp_csc_error(
            resp, 500, "server_error",
            err->msg[0] ? err->msg : lv_err_name(err->code)));
    return refuse_rc(http_resp_err(resp, err));
}

/* A session refused: RFC 6750 §3 names the scheme in a 401's
 * WWW-Authenticate; a missing role is 403 (auth/ audits it). */
static int refuse_session(const lv_http_route *r, lv_http_resp *resp, int rc,
                          const lv_err *err)
{
    if (is_csc(r) && rc == LV_EPERM) /* R5.2: operators hold no credential */
        return refuse_rc(
            http_resp_csc_error(resp, 403, "access_denied",
                                "only the citizen's own session can use "
                                "their signing credentials"));
    if (is_csc(r))
        return refuse_rc(
            http_resp_csc_error(resp, 401, "invalid_token", err->msg));
    int out = http_resp_err(resp, err);
    if (out == 0 && rc == LV_EAUTH)
        out = http_resp_header(resp, "WWW-Authenticate",
                               "Bearer realm=\"llave\"");
    return refuse_rc(out);
}

/* ---- callers ------------------------------------------------------------- */

/* LV_HTTP_AUTH_OWN_ID: a citizen names only their own record (R1.1: no
 * citizen reads or acts on another's data); the refusal is audited. */
static int own_id(const lv_http_req *req, lv_http_resp *resp)
{
    const lv_principal *who = &req->who;
    if (who->kind != LV_PRINCIPAL_CITIZEN || strcmp(who->id, req->param) == 0)
        return 0;
    auth_session_denied(req->st, who, req->param, "another citizen's record");
    return refuse_rc(http_resp_error(resp, LV_EPERM,
                                     "a citizen may act only on their own "
                                     "record"));
}

static int session(lv_app *app, const lv_http_route *r, lv_http_req *req,
                   lv_http_resp *resp)
{
    lv_err err = {0};
    char cookie[LV_AUTH_TOKEN_LEN + 1];
    int portal = (r->auth.flags & LV_HTTP_AUTH_PORTAL) != 0;
    const char *token =
        portal ? http_req_cookie(req, HTTP_PORTAL_COOKIE, cookie, sizeof cookie)
               : http_req_bearer(req);
    int rc = auth_session_check(lv_app_auth(app), req->st, token, r->auth.roles,
                                &req->who, &err);
    if (rc < 0)
        return refuse_session(r, resp, rc, &err);
    if (portal && !portal_csrf_ok(req, token))
        return refuse_rc(http_resp_refusal(resp, 403, "csrf",
                                           "X-CSRF-Token is missing or wrong"));
    if (r->auth.flags & LV_HTTP_AUTH_OWN_ID)
        return own_id(req, resp);
    return 0;
}

/* A relying application (R5.6): one answer for every failure, so that a
 * caller cannot tell an unknown client id from a wrong secret.  The secret
 * is tried only while (client id, source) and the source are under the
 * login throttle (auth_client_gate, as oauth2/token): past the budget, 429
 * with Retry-After before any lookup, and failures land in the anonymous
 * aggregate, not one audit row each (issue 11). */
static int application(lv_auth *auth, lv_http_req *req, http_access *acc,
                       lv_http_resp *resp)
{
    char user[BASIC_USER_MAX], pass[BASIC_SECRET_MAX];
    lv_err err = {0};
    int rc = http_req_basic(req, user, sizeof user, pass, sizeof pass);
    int gated = rc == 0 && auth != NULL;
    if (gated && auth_client_gate(auth, user, req->remote_addr, &err) < 0) {
        OPENSSL_cleanse(pass, sizeof pass);
        return refuse_rc(http_resp_err(resp, &err));
    }
    if (rc == 0)
        rc = sign_app_check(req->st, user, pass, &acc->client, &err);
    OPENSSL_cleanse(pass, sizeof pass);
    if (gated)
        auth_client_result(auth, user, req->remote_addr, rc == 0);
    if (rc == 0) {
        req->client = &acc->client;
        return 0;
    }
    rc = http_resp_error(resp, LV_EAUTH,
                         "application credentials (HTTP Basic: client id and "
                         "secret) are missing or wrong");
    if (rc == 0)
        rc = http_resp_header(resp, "WWW-Authenticate",
                              "Basic realm=\"llave transactions\"");
    return refuse_rc(rc);
}

static int caller(lv_app *app, const lv_http_route *r, lv_http_req *req,
                  http_access *acc, lv_http_resp *resp)
{
    lv_err err = {0};
    lv_http_auth_kind kind = r->auth.kind;
    if ((kind == LV_HTTP_AUTH_LOGIN || kind == LV_HTTP_AUTH_SESSION) &&
        !lv_app_auth(app))
        return refuse_no_auth(r, resp);
    int rc = req->in_pool ? lv_app_store(app, &req->st, &err)
                          : lv_app_ready_store(app, &req->st, &err);
    if (rc < 0)
        return refuse_err(r, resp, &err);
    if (kind == LV_HTTP_AUTH_SESSION)
        return session(app, r, req, resp);
    if (kind == LV_HTTP_AUTH_APP)
        return application(lv_app_auth(app), req, acc, resp);
    return 0;
}

/* ---- bodies -------------------------------------------------------------- */

/* The media type before any parameter, case-insensitive (RFC 9110
 * §8.3.1). */
static int media_type_is(const char *value, const char *want)
{
    size_t n = strlen(want);
    if (!value)
        return 0;
    value += strspn(value, " \t");
    if (strncasecmp(value, want, n) != 0)
        return 0;
    value += n;
    value += strspn(value, " \t");
    return *value == '\0' || *value == ';';
}

static int raw_body(const lv_http_route *r, const lv_http_req *req,
                    lv_http_resp *resp)
{
    const char *want = r->body.media_type;
    if (!want || media_type_is(http_req_header(req, "Content-Type"), want))
        return 0;
    return refuse_rc(http_resp_error_status(
        resp, 415, LV_EINVAL, r->body.refusal ? r->body.refusal : want));
}

static int json_body(const lv_http_route *r, lv_http_req *req,
                     lv_http_resp *resp)
{
    lv_err err = {0};
    int rc = http_body_parse(req->body, req->body ? req->body_len : 0,
                             r->body.schema, &req->json, &err);
    if (rc == 0)
        return 0;
    if (rc != LV_EINVAL)
        return refuse_err(r, resp, &err);
    if (is_csc(r))
        return refuse_rc(
            http_resp_csc_error(resp, 400, "invalid_request", err.msg));
    return refuse_rc(http_resp_err(resp, &err));
}

static int body(const lv_http_route *r, lv_http_req *req, lv_http_resp *resp)
{
    if (r->body.kind == LV_HTTP_BODY_JSON)
        return json_body(r, req, resp);
    if (r->body.kind == LV_HTTP_BODY_RAW)
        return raw_body(r, req, resp);
    /* a route that declares no body never sees one */
    req->body = NULL;
    req->body_len = 0;
    return 0;
}

int http_access_begin(lv_app *app, const lv_http_route *route, lv_http_req *req,
                      http_access *acc, lv_http_resp *resp)
{
    memset(acc, 0, sizeof *acc);
    req->st = NULL;
    req->client = NULL;
    req->json = NULL;
    memset(&req->who, 0, sizeof req->who);
    int rc = caller(app, route, req, acc, resp);
    if (rc == 0)
        rc = body(route, req, resp);
    return rc;
}

void http_access_end(lv_http_req *req, http_access *acc)
{
    json_decref(req->json);
    req->json = NULL;
    req->client = NULL;
    OPENSSL_cleanse(acc, sizeof *acc);
}
