/* http/: router, body limits, error JSON, per-thread stores, concurrency,
 * the strict JSON body reader (http_body.c), and the routes' declared
 * authentication and body (http_access.c, issue 12 item 7).
 * A real server on 127.0.0.1 and a free port, driven with libcurl.  The CA
 * is left out (NULL): the end-to-end /ca test is an integration test. */
#include "http/http.h"
#include "http/http_internal.h" /* http_body_parse */
#include "sign/sign.h"          /* sign_app_add: a relying application */

#include <curl/curl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
/* after the standard headers it needs (setjmp.h, stdarg.h, stddef.h) */
#include "testutil.h"

#include <cmocka.h>

#define SMALL_LIMIT 16

typedef struct fixture {
    char dir[64];
    lv_app *app;
    lv_http_server *srv;
    char base[64];
    lv_auth *auth; /* the access tests' fixture only */
    char citizen[LV_AUTH_ID_MAX];
    char bearer[128]; /* "Authorization: Bearer <citizen token>" */
    char basic[256];  /* "Authorization: Basic <application>" */
    char client_id[40];
} fixture;

/* ---- test handlers ------------------------------------------------------ */

static int h_hello(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    (void)req;
    LV_TRY(http_resp_bytes(resp, 200, "text/plain", "hello", 5));
    return http_resp_header(resp, "ETag", "\"h1\"");
}

static int h_echo(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    return http_resp_bytes(resp, 200, "application/octet-stream", req->body,
                           req->body_len);
}

/* param | query q | header X-Test | remote address */
static int h_item(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    const char *q = http_req_query(req, "q");
    const char *h = http_req_header(req, "x-test");
    char out[512];
    int n = snprintf(out, sizeof out, "%s|%s|%s|%s", req->param, q ? q : "-",
                     h ? h : "-", req->remote_addr);
    return http_resp_bytes(resp, 200, "text/plain", out, (size_t)n);
}

static int h_fail(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    (void)req;
    (void)resp;
    return LV_EPERM;
}

static int h_silent(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    (void)req;
    (void)resp;
    return 0;
}

static int h_conflict(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    (void)req;
    lv_err err;
    lv_fail(&err, LV_EEXISTS, "already \xff there"); /* not UTF-8 */
    return http_resp_err(resp, &err);
}

/* The thread's store is opened once and stays the same for the thread. */
static int h_store(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)req;
    lv_store *a = NULL, *b = NULL;
    lv_err err = {0};
    if (lv_app_store(app, &a, &err) < 0 || lv_app_store(app, &b, &err) < 0)
        return http_resp_err(resp, &err);
    int version = 0;
    if (store_schema_version(a, &version, &err) < 0)
        return http_resp_err(resp, &err);
    char out[64];
    int n = snprintf(out, sizeof out, "%p %d", (void *)a, a == b);
    return http_resp_bytes(resp, 200, "text/plain", out, (size_t)n);
}

#define OPEN HTTP_PUBLIC, HTTP_NO_BODY
#define BYTES HTTP_PUBLIC, HTTP_RAW(NULL, NULL)

static const lv_http_route test_routes[] = {
    {"GET", "/hello", h_hello, 0, LV_WORK_API, OPEN},
    {"POST", "/echo", h_echo, 0, LV_WORK_API, BYTES},
    {"POST", "/small", h_echo, SMALL_LIMIT, LV_WORK_API, BYTES},
    {"POST", "/ignored", h_echo, 0, LV_WORK_API, OPEN}, /* declares no body */
    {"GET", "/item/{id}", h_item, 0, LV_WORK_API, OPEN},
    {"DELETE", "/item/{id}", h_item, 0, LV_WORK_API, OPEN},
    {"GET", "/item/special", h_hello, 0, LV_WORK_API, OPEN}, /* exact wins */
    {"GET", "/fail", h_fail, 0, LV_WORK_API, OPEN},
    {"GET", "/silent", h_silent, 0, LV_WORK_API, OPEN},
    {"GET", "/conflict", h_conflict, 0, LV_WORK_API, OPEN},
    {"GET", "/store", h_store, 0, LV_WORK_API, OPEN},
    {0},
};

/* ---- routes that declare a caller and a body ------------------------------
 * Each handler counts its runs, so a test can show that a refused request
 * never reached it, and answers what the server handed it. */

static _Atomic int handler_runs;

static const http_body_field T_NOTE[] = {
    HTTP_FIELD_REQ("note", HTTP_STR),
    {"flag", .types = HTTP_BOOL | HTTP_STR, .flags = HTTP_TEXT},
    {0}};

/* "<actor>|<note>|<flag>" from req->who and req->json */
static int h_who(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char out[256];
    (void)app;
    atomic_fetch_add(&handler_runs, 1);
    const json_t *flag = json_object_get(req->json, "flag");
    int n = snprintf(out, sizeof out, "%s|%s|%s", req->who.actor,
                     req->json ? lv_json_str(req->json, "note") : "-",
                     !flag                ? "-"
                     : json_is_true(flag) ? "true"
                                          : "other");
    return http_resp_bytes(resp, 200, "text/plain", out, (size_t)n);
}

/* the calling application's client id */
static int h_client(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    atomic_fetch_add(&handler_runs, 1);
    const char *id = req->client ? req->client->client_id : "-";
    return http_resp_bytes(resp, 200, "text/plain", id, strlen(id));
}

#define T_QUERY "application/x-test-query"

static const lv_http_route access_routes[] = {
    {"GET", "/t/citizen", h_who, 0, LV_WORK_API, HTTP_CITIZEN, HTTP_NO_BODY},
    {"GET", "/t/auditor", h_who, 0, LV_WORK_API, HTTP_SESSION(LV_ROLE_AUDITOR),
     HTTP_NO_BODY},
    {"POST", "/t/json", h_who, 0, LV_WORK_API, HTTP_CITIZEN, HTTP_JSON(T_NOTE)},
    {"GET", "/t/own/{id}", h_who, 0, LV_WORK_API,
     HTTP_OWN_ID(LV_ROLE_CITIZEN | LV_ROLE_AUDITOR), HTTP_NO_BODY},
    {"POST", "/t/app", h_client, 0, LV_WORK_API, HTTP_APP, HTTP_JSON(T_NOTE)},
    {"POST", "/t/csc", h_who, 0, LV_WORK_API, HTTP_CSC, HTTP_JSON(T_NOTE)},
    {"POST", "/t/login", h_who, 0, LV_WORK_PASSWORD, HTTP_LOGIN,
     HTTP_JSON(T_NOTE)},
    {"POST", "/t/raw", h_echo, 0, LV_WORK_INLINE, HTTP_PUBLIC,
     HTTP_RAW(T_QUERY, "a test query is sent as " T_QUERY)},
    {0},
};

/* ---- a small libcurl client -------------------------------------------- */

typedef struct reply {
    long status;
    lv_buf body;
    lv_buf headers;
} reply;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    return lv_buf_append(ctx, p, size * n) < 0 ? 0 : size * n;
}

typedef struct upload {
    const unsigned char *data;
    size_t len, off;
} upload;

static size_t on_read(char *p, size_t size, size_t n, void *ctx)
{
    upload *u = ctx;
    size_t k = size * n < u->len - u->off ? size * n : u->len - u->off;
    memcpy(p, u->data + u->off, k);
    u->off += k;
    return k;
}

typedef struct request {
    const char *method;
    const char *path;
    const void *body;
    size_t len;
    int chunked;        /* send the body with Transfer-Encoding: chunked */
    const char *header; /* one extra request header */
} request;

static void setup_body(CURL *c, const request *rq, upload *u,
                       struct curl_slist **hdrs)
{
    if (rq->chunked) {
        *u = (upload){.data = rq->body, .len = rq->len};
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, u);
        *hdrs = curl_slist_append(*hdrs, "Transfer-Encoding: chunked");
    } else if (rq->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
    }
}

/* No cmocka assertion in here: client threads call it too. */
static CURLcode fetch_raw(const fixture *f, const request *rq, reply *out)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", f->base, rq->path);
    *out = (reply){0};
    CURL *c = curl_easy_init();
    if (!c)
        return CURLE_OUT_OF_MEMORY;
    struct curl_slist *hdrs = NULL;
    upload u;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->headers);
    setup_body(c, rq, &u, &hdrs);
    if (strcmp(rq->method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    if (rq->header)
        hdrs = curl_slist_append(hdrs, rq->header);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fprintf(stderr, "curl %s %s: %s\n", rq->method, url,
                curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    /* Handlers' bodies are text in most tests: make them C strings. */
    if (lv_buf_append(&out->body, "", 0) < 0)
        return CURLE_OUT_OF_MEMORY;
    return rc;
}

static void fetch(const fixture *f, const request *rq, reply *out)
{
    assert_int_equal(fetch_raw(f, rq, out), CURLE_OK);
}

static void reply_free(reply *r)
{
    lv_buf_free(&r->body);
    lv_buf_free(&r->headers);
}

/* Value of a response header of the final response (case-insensitive). */
static const char *reply_header(const reply *r, const char *name, char *out,
                                size_t cap)
{
    const char *p = r->headers.data ? (const char *)r->headers.data : "";
    size_t n = strlen(name);
    const char *found = NULL;
    for (; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] ? 1 : 0))
        if (strncasecmp(p, name, n) == 0 && p[n] == ':')
            found = p + n + 1;
    if (!found)
        return NULL;
    found += strspn(found, " ");
    snprintf(out, cap, "%.*s", (int)strcspn(found, "\r\n"), found);
    return out;
}

static void assert_json_error(const reply *r, long status, int code)
{
    char ct[128];
    assert_int_equal(r->status, status);
    assert_non_null(reply_header(r, "Content-Type", ct, sizeof ct));
    assert_string_equal(ct, "application/json");
    json_t *j = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(lv_json_str(j, "error"), lv_err_name(code));
    assert_non_null(lv_json_str(j, "message"));
    json_decref(j);
}

static void get(const fixture *f, const char *path, reply *out)
{
    fetch(f, &(request){.method = "GET", .path = path}, out);
}

/* ---- fixture ------------------------------------------------------------ */

static void fixture_config(fixture *f, lv_config *cfg)
{
    assert_int_equal(tu_tmpdir(f->dir, sizeof f->dir, "http"), 0);
    lv_config_defaults(cfg, f->dir);
    cfg->listen_port = 0;
    cfg->threads = 4;
    cfg->argon2_memory_mib = 1; /* fast logins */
    cfg->argon2_time = 1;
}

/* The test routes plus every real API (with no CA loaded). */
static void fixture_start(fixture *f)
{
    lv_err err = {0};
    const lv_http_route *tables[20] = {test_routes, access_routes};
    const lv_http_route *const *api = http_api_tables();
    for (size_t i = 0; api[i] && i + 3 < 20; i++)
        tables[i + 2] = api[i];
    if (http_server_start(f->app, tables, &f->srv, &err) < 0)
        fail_msg("server: %s", err.msg);
    assert_int_not_equal(http_server_port(f->srv), 0);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u",
             (unsigned)http_server_port(f->srv));
}

/* No auth context: every route that needs one answers 503. */
static int server_up(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    lv_config cfg;
    lv_err err = {0};
    fixture_config(f, &cfg);
    assert_int_equal(lv_app_new(&cfg, &f->app, &err), 0);
    fixture_start(f);
    *state = f;
    return 0;
}

/* A citizen with a session (R3.1: activation code by letter, then a
 * password) and a relying application. */
static void fixture_callers(fixture *f, lv_store *st)
{
    char code[LV_AUTH_CODE_MAX];
    lv_session_token t;
    lv_sign_app_secret app;
    lv_err err = {0};
    snprintf(f->citizen, sizeof f->citizen, "%s",
             "0123456789abcdef0123456789abcdef");
    if (auth_citizen_activation_start(f->auth, st, f->citizen, "12345678Z",
                                      "+34600000001", LV_ACTIVATION_LETTER,
                                      "test", code, &err) < 0 ||
        auth_citizen_activate(f->auth, st, "12345678Z", code,
                              "Correct-Horse-42", "127.0.0.1", NULL,
                              &err) < 0 ||
        auth_citizen_login(f->auth, st, "12345678Z", "Correct-Horse-42",
                           "127.0.0.1", &t, &err) < 0 ||
        sign_app_add(st, "test application", "test", &app, &err) < 0)
        fail_msg("callers: %s", err.msg);
    snprintf(f->bearer, sizeof f->bearer, "Authorization: Bearer %s", t.token);
    auth_token_wipe(&t);
    char pair[160], *b64 = NULL;
    snprintf(pair, sizeof pair, "%s:%s", app.client_id, app.secret);
    assert_int_equal(
        lv_b64_encode((const unsigned char *)pair, strlen(pair), &b64), 0);
    snprintf(f->basic, sizeof f->basic, "Authorization: Basic %s", b64);
    snprintf(f->client_id, sizeof f->client_id, "%s", app.client_id);
    free(b64);
}

static int access_up(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    lv_config cfg;
    lv_store *st = NULL;
    lv_err err = {0};
    fixture_config(f, &cfg);
    assert_int_equal(lv_app_new(&cfg, &f->app, &err), 0);
    if (auth_open(&cfg, &f->auth, &err) < 0 ||
        lv_app_store(f->app, &st, &err) < 0)
        fail_msg("auth: %s", err.msg);
    fixture_callers(f, st);
    lv_app_set_auth(f->app, f->auth);
    fixture_start(f);
    *state = f;
    return 0;
}

static int server_down(void **state)
{
    fixture *f = *state;
    http_server_stop(f->srv);
    lv_app_free(f->app);
    auth_close(f->auth);
    char path[128];
    const char *files[] = {"llave.db", "llave.db-wal", "llave.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
        unlink(path);
    }
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

/* ---- tests --------------------------------------------------------------- */

static void test_ok(void **state)
{
    reply r;
    char v[64];
    get(*state, "/hello", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 5);
    assert_memory_equal(r.body.data, "hello", 5);
    assert_string_equal(reply_header(&r, "Content-Type", v, sizeof v),
                        "text/plain");
    assert_string_equal(reply_header(&r, "ETag", v, sizeof v), "\"h1\"");
    reply_free(&r);
}

static void test_head(void **state)
{
    reply r;
    fetch(*state, &(request){.method = "HEAD", .path = "/hello"}, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    reply_free(&r);
}

static void test_healthz(void **state)
{
    reply r;
    get(*state, "/healthz", &r);
    assert_int_equal(r.status, 200);
    json_t *j = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(lv_json_str(j, "status"), "ok");
    assert_true(json_is_true(json_object_get(j, "sealed")));
    json_decref(j);
    reply_free(&r);
}

static void test_not_found(void **state)
{
    const char *paths[] = {"/nope",  "/nope/",    "/hello/",
                           "/item/", "/item/a/b", "/HELLO"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        reply r;
        char v[64];
        get(*state, paths[i], &r);
        assert_json_error(&r, 404, LV_ENOTFOUND);
        assert_string_equal(reply_header(&r, "Cache-Control", v, sizeof v),
                            "no-store");
        reply_free(&r);
    }
}

static void test_method_not_allowed(void **state)
{
    reply r;
    char v[64];
    fetch(*state,
          &(request){.method = "POST", .path = "/hello", .body = "x", .len = 1},
          &r);
    assert_json_error(&r, 405, LV_EINVAL);
    assert_string_equal(reply_header(&r, "Allow", v, sizeof v), "GET, HEAD");
    reply_free(&r);

    fetch(*state, &(request){.method = "PUT", .path = "/item/7"}, &r);
    assert_json_error(&r, 405, LV_EINVAL);
    assert_string_equal(reply_header(&r, "Allow", v, sizeof v),
                        "GET, HEAD, DELETE");
    reply_free(&r);

    get(*state, "/echo", &r);
    assert_json_error(&r, 405, LV_EINVAL);
    assert_string_equal(reply_header(&r, "Allow", v, sizeof v), "POST");
    reply_free(&r);
}

static void test_params(void **state)
{
    reply r;
    fetch(*state,
          &(request){.method = "GET",
                     .path = "/item/abc?q=x%20y",
                     .header = "X-Test: hdr"},
          &r);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body.data, "abc|x y|hdr|127.0.0.1");
    reply_free(&r);

    fetch(*state, &(request){.method = "DELETE", .path = "/item/z"}, &r);
    assert_string_equal((char *)r.body.data, "z|-|-|127.0.0.1");
    reply_free(&r);

    get(*state, "/item/special", &r); /* the exact route wins */
    assert_string_equal((char *)r.body.data, "hello");
    reply_free(&r);
}

static void test_echo(void **state)
{
    size_t len = LV_HTTP_BODY_DEFAULT; /* exactly the limit is fine */
    unsigned char *body = malloc(len);
    assert_non_null(body);
    for (size_t i = 0; i < len; i++)
        body[i] = (unsigned char)(i * 7);
    reply r;
    fetch(
        *state,
        &(request){.method = "POST", .path = "/echo", .body = body, .len = len},
        &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, len);
    assert_memory_equal(r.body.data, body, len);
    reply_free(&r);
    fetch(*state,
          &(request){.method = "POST",
                     .path = "/echo",
                     .body = body,
                     .len = 3000,
                     .chunked = 1},
          &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 3000);
    reply_free(&r);
    free(body);
}

static void post_big(void **state, const char *path, size_t len,
                     const char *header, int chunked)
{
    unsigned char *body = calloc(1, len);
    assert_non_null(body);
    reply r;
    fetch(*state,
          &(request){.method = "POST",
                     .path = path,
                     .body = body,
                     .len = len,
                     .header = header,
                     .chunked = chunked},
          &r);
    assert_json_error(&r, 413, LV_ETOOBIG);
    reply_free(&r);
    free(body);
}

static void test_too_big(void **state)
{
    const size_t mb = (size_t)1000 * 1000;
    post_big(state, "/echo", mb, "Expect:", 0);              /* read, dropped */
    post_big(state, "/echo", mb, "Expect: 100-continue", 0); /* never sent */
    post_big(state, "/echo", mb, NULL, 1);                   /* chunked */
    post_big(state, "/echo", LV_HTTP_BODY_DEFAULT + 1, "Expect:", 0);
    post_big(state, "/small", SMALL_LIMIT + 1, NULL, 0);
    post_big(state, "/small", SMALL_LIMIT + 1, NULL, 1);

    reply r;
    fetch(*state,
          &(request){.method = "POST",
                     .path = "/small",
                     .body = "0123456789abcdef",
                     .len = SMALL_LIMIT},
          &r);
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

/* A body sent to a path that does not exist is dropped, not buffered. */
static void test_body_to_unknown_path(void **state)
{
    size_t len = (size_t)200 * 1000;
    unsigned char *body = calloc(1, len);
    assert_non_null(body);
    reply r;
    fetch(*state,
          &(request){.method = "POST",
                     .path = "/nope",
                     .body = body,
                     .len = len,
                     .header = "Expect:"},
          &r);
    assert_json_error(&r, 404, LV_ENOTFOUND);
    reply_free(&r);
    free(body);
}

static void test_handler_errors(void **state)
{
    reply r;
    get(*state, "/fail", &r);
    assert_json_error(&r, 403, LV_EPERM);
    reply_free(&r);
    get(*state, "/silent", &r);
    assert_json_error(&r, 500, LV_EINTERNAL);
    reply_free(&r);
    get(*state, "/conflict", &r);
    assert_json_error(&r, 409, LV_EEXISTS);
    reply_free(&r);
}

/* Without a CA the repository has no certificate to give. */
static void test_ca_without_ca(void **state)
{
    const char *paths[] = {"/ca/root.crt", "/ca/Root!.crt", "/ca/.crt",
                           "/ca/root.pem"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        reply r;
        get(*state, paths[i], &r);
        assert_json_error(&r, 404, LV_ENOTFOUND);
        reply_free(&r);
    }
    /* the landing page lists the CAs' certificates and CRLs: like the
     * repository, it says why it cannot */
    reply r;
    get(*state, "/", &r);
    assert_json_error(&r, 409, LV_ESTATE);
    reply_free(&r);
}

static void test_store_per_thread(void **state)
{
    reply r;
    get(*state, "/store", &r);
    if (r.status != 200)
        fail_msg("/store: %ld %s", r.status, (char *)r.body.data);
    assert_non_null(strstr((char *)r.body.data, " 1"));
    reply_free(&r);

    /* The main thread gets a store of its own, different from a worker's. */
    fixture *f = *state;
    lv_store *st = NULL;
    lv_err err = {0};
    assert_int_equal(lv_app_store(f->app, &st, &err), 0);
    char mine[32];
    snprintf(mine, sizeof mine, "%p ", (void *)st);
    get(*state, "/store", &r);
    assert_null(strstr((char *)r.body.data, mine));
    reply_free(&r);
}

#define CLIENTS 4
#define REQUESTS 40

typedef struct client {
    const fixture *f;
    int id;
    int ok;
} client;

static void *client_run(void *p)
{
    client *c = p;
    for (int i = 0; i < REQUESTS; i++) {
        char path[64], want[128];
        snprintf(path, sizeof path, "/item/c%d-%d?q=%d", c->id, i, i);
        snprintf(want, sizeof want, "c%d-%d|%d|-|127.0.0.1", c->id, i, i);
        reply r;
        request item = {.method = "GET", .path = path};
        request store = {.method = "GET", .path = "/store"};
        c->ok += fetch_raw(c->f, &item, &r) == CURLE_OK && r.status == 200 &&
                 strcmp((char *)r.body.data, want) == 0;
        reply_free(&r);
        c->ok += fetch_raw(c->f, &store, &r) == CURLE_OK && r.status == 200;
        reply_free(&r);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    pthread_t th[CLIENTS];
    client c[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = (client){.f = *state, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, client_run, &c[i]), 0);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(c[i].ok, 2 * REQUESTS);
    }
}

/* After every bad request above the server still answers. */
static void test_still_healthy(void **state)
{
    test_ok(state);
    test_healthz(state);
}

/* ---- no server needed ---------------------------------------------------- */

static void test_resp_helpers(void **state)
{
    (void)state;
    lv_http_resp r = {0};
    assert_int_equal(http_resp_header(&r, "X-A", "a\r\nSet-Cookie: x"),
                     LV_EINVAL);
    assert_int_equal(http_resp_header(&r, "", "a"), LV_EINVAL);
    for (int i = 0; i < LV_HTTP_MAX_HEADERS; i++)
        assert_int_equal(http_resp_header(&r, "X-A", "a"), 0);
    assert_int_equal(http_resp_header(&r, "X-A", "a"), LV_ETOOBIG);
    assert_int_equal(http_resp_bytes(&r, 99, "text/plain", "", 0), LV_EINVAL);
    assert_int_equal(http_resp_bytes(&r, 200, "text/plain\r\n", "", 0),
                     LV_EINVAL);
    assert_int_equal(http_resp_error(&r, LV_ESEALED, "sealed %d", 1), 0);
    assert_int_equal(r.status, lv_err_http_status(LV_ESEALED));
    assert_int_equal(r.nheaders, 1); /* only Cache-Control: no-store */
    lv_buf_free(&r.body);
}

static int h_never(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    (void)req;
    (void)resp;
    return 0;
}

static void test_bad_tables(void **state)
{
    fixture *f = *state;
    const lv_http_route bad1[] = {
        {"GET", "nope", h_never, 0, LV_WORK_API, OPEN}, {0}};
    const lv_http_route bad2[] = {
        {"GET", "/a/{x", h_never, 0, LV_WORK_API, OPEN}, {0}};
    const lv_http_route bad3[] = {
        {"GET", "/a/{x}/{y}", h_never, 0, LV_WORK_API, OPEN}, {0}};
    const lv_http_route bad4[] = {{"GET", "/a", NULL, 0, LV_WORK_API, OPEN},
                                  {0}};
    /* a caller's check reads the database: never on the I/O thread */
    const lv_http_route bad5[] = {
        {"GET", "/a", h_never, 0, LV_WORK_INLINE, HTTP_CITIZEN, HTTP_NO_BODY},
        {0}};
    const lv_http_route bad6[] = {
        {"POST", "/a", h_never, 0, LV_WORK_API, HTTP_PUBLIC, HTTP_JSON(NULL)},
        {0}};
    const lv_http_route bad7[] = {{"GET", "/a", h_never, 0, LV_WORK_API,
                                   HTTP_OWN_ID(LV_ROLE_CITIZEN), HTTP_NO_BODY},
                                  {0}};
    const lv_http_route *bads[] = {bad1, bad2, bad3, bad4, bad5, bad6, bad7};
    for (size_t i = 0; i < sizeof bads / sizeof *bads; i++) {
        const lv_http_route *tables[] = {bads[i], NULL};
        lv_http_server *s = NULL;
        lv_err err = {0};
        assert_int_equal(http_server_start(f->app, tables, &s, &err),
                         LV_EINVAL);
        assert_null(s);
    }
}

/* ---- JSON request bodies (http_body.c) ----------------------------------- */

static const http_body_field T_DOC[] = {
    HTTP_FIELD_REQ("type", HTTP_STR),
    {"name", .types = HTTP_STR, .flags = HTTP_CHARS, .max_len = 5},
    {0}};

static const http_body_field T_ITEM[] = {HTTP_FIELD_REQ("id", HTTP_STR), {0}};

static const http_body_field T_SCHEMA[] = {
    HTTP_FIELD_REQ("login", HTTP_STR),
    HTTP_FIELD("comment", HTTP_STR | HTTP_NULL),
    HTTP_FIELD("count", HTTP_INT),
    HTTP_FIELD("flag", HTTP_BOOL),
    {"code", .types = HTTP_STR, .max_len = 5}, /* bytes */
    {"document", .types = HTTP_OBJ, .members = T_DOC},
    {"hashes", .types = HTTP_ARR, .items = HTTP_STR},
    {"items", .types = HTTP_ARR, .items = HTTP_OBJ, .members = T_ITEM},
    {0}};

static const http_body_field T_OPTIONAL[] = {HTTP_FIELD("a", HTTP_STR), {0}};

/* text read against T_SCHEMA: accepted, the object handed back. */
static json_t *body_ok(const char *text)
{
    json_t *j = NULL;
    lv_err err = {0};
    int rc = http_body_parse(text, strlen(text), T_SCHEMA, &j, &err);
    if (rc != 0)
        print_error("refused %s: %s\n", text, err.msg);
    assert_int_equal(rc, 0);
    assert_true(json_is_object(j));
    return j;
}

/* text refused with a message holding want. */
static void body_refused_n(const char *text, size_t len,
                           const http_body_field *schema, const char *want)
{
    json_t *j = NULL;
    lv_err err = {0};
    assert_int_equal(http_body_parse(text, len, schema, &j, &err), LV_EINVAL);
    assert_null(j);
    if (!strstr(err.msg, want))
        print_error("%s -> \"%s\", wanted \"%s\"\n", text, err.msg, want);
    assert_non_null(strstr(err.msg, want));
}

static void body_refused(const char *text, const char *want)
{
    body_refused_n(text, strlen(text), T_SCHEMA, want);
}

static void test_body_valid(void **state)
{
    (void)state;
    json_t *j = body_ok("{\"login\": \"ana\", \"comment\": null, \"count\": 7,"
                        " \"flag\": false, \"code\": \"12345\","
                        " \"document\": {\"type\": \"DNI\", \"name\": \"x\"},"
                        " \"hashes\": [\"a\", \"b\"], \"items\": [{\"id\": "
                        "\"1\"}, {\"id\": \"2\"}]}");
    assert_string_equal(lv_json_str(j, "login"), "ana");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 7);
    json_decref(j);
    json_decref(body_ok("{\"login\": \"ana\"}")); /* optional ones absent */
    json_decref(body_ok(" \r\n\t{\"login\":\"\"} \n")); /* RFC 8259 §2 */
}

static void test_body_malformed(void **state)
{
    (void)state;
    body_refused("{", "not JSON");
    body_refused("{\"login\": \"a\",}", "not JSON");
    body_refused("{\"login\": 'a'}", "not JSON");
    body_refused("{\"login\": \"a\"} {}", "not JSON"); /* one value */
    body_refused("{\"login\": \"a\"}x", "not JSON");
    body_refused("\n", "not JSON");
    /* RFC 8259 §4: a repeated name is refused, not resolved */
    body_refused("{\"login\": \"a\", \"login\": \"b\"}", "not JSON");
    /* the message quotes what jansson choked on, printable only */
    const char *ctl[] = {"{\"login\": \x01}", "{\"login\": \"\x01\x1b[2J\"}",
                         "{\"login\": \"a\xff\xfe\"}"};
    for (size_t i = 0; i < 3; i++) {
        json_t *j = NULL;
        lv_err err = {0};
        assert_int_equal(
            http_body_parse(ctl[i], strlen(ctl[i]), T_SCHEMA, &j, &err),
            LV_EINVAL);
        assert_non_null(strstr(err.msg, "is not JSON (RFC 8259) at line 1"));
        for (const char *m = err.msg; *m; m++)
            assert_true(*m >= 0x20 && *m < 0x7f);
    }
}

static void test_body_not_object(void **state)
{
    (void)state;
    body_refused("[{\"login\": \"a\"}]", "must be a JSON object, not an array");
    body_refused("\"login\"", "must be a JSON object, not a string");
    body_refused("7", "must be a JSON object, not an integer");
    body_refused("7.5", "must be a JSON object, not a number");
    body_refused("null", "must be a JSON object, not null");
    body_refused("true", "must be a JSON object, not true or false");
}

static void test_body_missing(void **state)
{
    (void)state;
    body_refused("{}", "field 'login' (a string) is required");
    body_refused("{\"comment\": \"c\"}",
                 "field 'login' (a string) is required");
    body_refused("{\"login\": \"a\", \"document\": {}}",
                 "field 'document.type' (a string) is required");
    body_refused("{\"login\": \"a\", \"items\": [{}]}",
                 "field 'items[0].id' (a string) is required");
    /* an empty body reads as {}: fine only when nothing is required */
    body_refused_n("", 0, T_SCHEMA, "field 'login' (a string) is required");
    json_t *j = NULL;
    assert_int_equal(http_body_parse(NULL, 0, T_OPTIONAL, &j, NULL), 0);
    assert_int_equal(json_object_size(j), 0);
    json_decref(j);
}

static void test_body_wrong_type(void **state)
{
    (void)state;
    body_refused("{\"login\": 1}", "field 'login' must be a string");
    body_refused("{\"login\": null}", "field 'login' must be a string");
    body_refused("{\"login\": [\"a\"]}", "field 'login' must be a string");
    body_refused("{\"login\": \"a\", \"comment\": 1}",
                 "field 'comment' must be a string or null");
    body_refused("{\"login\": \"a\", \"count\": \"7\"}",
                 "field 'count' must be an integer");
    body_refused("{\"login\": \"a\", \"count\": 7.0}",
                 "field 'count' must be an integer"); /* a fraction part */
    body_refused("{\"login\": \"a\", \"count\": 7e2}",
                 "field 'count' must be an integer");
    body_refused("{\"login\": \"a\", \"flag\": \"true\"}",
                 "field 'flag' must be true or false");
    body_refused("{\"login\": \"a\", \"flag\": 1}",
                 "field 'flag' must be true or false");
    body_refused("{\"login\": \"a\", \"document\": []}",
                 "field 'document' must be an object");
    body_refused("{\"login\": \"a\", \"document\": {\"type\": 3}}",
                 "field 'document.type' must be a string");
    body_refused("{\"login\": \"a\", \"hashes\": \"a\"}",
                 "field 'hashes' must be an array");
    body_refused("{\"login\": \"a\", \"hashes\": [\"a\", 2]}",
                 "field 'hashes[1]' must be a string");
    body_refused("{\"login\": \"a\", \"items\": [{\"id\": \"1\"}, \"2\"]}",
                 "field 'items[1]' must be an object");
    /* too big for an integer: jansson refuses it as it reads */
    body_refused("{\"login\": \"a\", \"count\": 99999999999999999999}",
                 "not JSON");
}

static void test_body_unknown(void **state)
{
    (void)state;
    body_refused("{\"login\": \"a\", \"Login\": \"b\"}",
                 "unknown field 'Login'");
    body_refused("{\"logn\": \"a\"}", "unknown field 'logn'"); /* before
                                                                  missing */
    body_refused("{\"login\": \"a\", \"document\": {\"type\": \"DNI\", "
                 "\"extra\": 1}}",
                 "unknown field 'document.extra'");
    body_refused("{\"login\": \"a\", \"items\": [{\"id\": \"1\", \"x\": 0}]}",
                 "unknown field 'items[0].x'");
    /* a name is quoted as printable ASCII only */
    body_refused("{\"login\": \"a\", \"\\u00f1\\n\": 1}",
                 "unknown field '?\?\?'");
    /* a route without fields takes an empty body or {} and nothing else */
    json_t *j = NULL;
    assert_int_equal(http_body_parse("", 0, http_body_none, &j, NULL), 0);
    json_decref(j);
    assert_int_equal(http_body_parse("{}", 2, http_body_none, &j, NULL), 0);
    json_decref(j);
    body_refused_n("{\"a\": 1}", 8, http_body_none, "unknown field 'a'");
    body_refused_n("[]", 2, http_body_none, "must be a JSON object");
}

/* RFC 8259 §8.1: UTF-8 only; no NUL inside a string (C code downstream
 * would cut it there). */
static void test_body_utf8_nul(void **state)
{
    (void)state;
    body_refused("{\"login\": \"a\xff\"}", "not JSON");
    body_refused("{\"login\": \"\xc0\xaf\"}", "not JSON");     /* overlong */
    body_refused("{\"login\": \"\xed\xa0\x80\"}", "not JSON"); /* D800 */
    body_refused("{\"login\": \"\\ud800\"}", "not JSON");      /* lone */
    body_refused("{\"login\": \"a\\u0000b\"}", "not JSON");
    body_refused("{\"lo\xe9gin\": \"a\"}", "not JSON"); /* Latin-1 */
    const char raw_nul[] = "{\"login\": \"a\0b\"}";
    body_refused_n(raw_nul, sizeof raw_nul - 1, T_SCHEMA, "not JSON");
    json_decref(body_ok("{\"login\": \"\\ud83d\\ude00 \xc3\xb1\"}"));
}

/* docs/API.md: limits stated in characters count characters. */
static void test_body_length(void **state)
{
    (void)state;
    assert_int_equal(lv_utf8_chars(""), 0);
    assert_int_equal(lv_utf8_chars("abc"), 3);
    assert_int_equal(lv_utf8_chars("\xc3\xb1"
                                   "and\xc3\xba"),
                     5);
    assert_int_equal(lv_utf8_chars("\xf0\x9f\x98\x80\xe2\x82\xac"), 2);
    /* name: 5 characters; "ñandú" is 5 characters in 7 bytes */
    json_decref(body_ok("{\"login\": \"a\", \"document\": {\"type\": \"t\", "
                        "\"name\": \"\xc3\xb1"
                        "and\xc3\xba\"}}"));
    json_decref(body_ok("{\"login\": \"a\", \"document\": {\"type\": \"t\", "
                        "\"name\": \"\\u00f1and\\u00fa\"}}"));
    json_decref(body_ok("{\"login\": \"a\", \"document\": {\"type\": \"t\", "
                        "\"name\": \"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f"
                        "\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"}}"));
    body_refused("{\"login\": \"a\", \"document\": {\"type\": \"t\", "
                 "\"name\": \"\xc3\xb1"
                 "and\xc3\xba!\"}}",
                 "field 'document.name' is longer than 5 characters");
    /* code: 5 bytes; the same 5 characters are 7 bytes */
    json_decref(body_ok("{\"login\": \"a\", \"code\": \"12345\"}"));
    body_refused("{\"login\": \"a\", \"code\": \"\xc3\xb1"
                 "and\xc3\xba\"}",
                 "field 'code' is longer than 5 bytes");
    body_refused("{\"login\": \"a\", \"code\": \"123456\"}",
                 "field 'code' is longer than 5 bytes");
}

/* ---- declared callers and bodies (http_access.c) ------------------------- */

static void assert_header(const reply *r, const char *name, const char *want)
{
    char v[128];
    const char *got = reply_header(r, name, v, sizeof v);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
}

/* A CSC error object: {"error": want, "error_description": ...} only. */
static void assert_csc_error(const reply *r, long status, const char *want)
{
    assert_int_equal(r->status, status);
    json_t *j = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(lv_json_str(j, "error"), want);
    assert_non_null(lv_json_str(j, "error_description"));
    assert_null(json_object_get(j, "message"));
    json_decref(j);
}

static void call(void **state, const char *method, const char *path,
                 const char *body, const char *header, reply *r)
{
    fetch(*state,
          &(request){.method = method,
                     .path = path,
                     .body = body,
                     .len = body ? strlen(body) : 0,
                     .header = header},
          r);
}

/* RFC 6750 §3: no token, an unknown token or another scheme: 401 naming
 * the Bearer scheme, and the handler never runs. */
static void test_access_no_session(void **state)
{
    const char *headers[] = {
        NULL,
        "Authorization: Bearer "
        "00000000000000000000000000000000000000000000000000000000000000"
        "00",
        "Authorization: Bearer not-a-token",
        "Authorization: Basic dXNlcjpwYXNz",
    };
    int runs = atomic_load(&handler_runs);
    for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
        reply r;
        call(state, "GET", "/t/citizen", NULL, headers[i], &r);
        assert_json_error(&r, 401, LV_EAUTH);
        assert_header(&r, "WWW-Authenticate", "Bearer realm=\"llave\"");
        assert_header(&r, "Cache-Control", "no-store");
        reply_free(&r);
    }
    assert_int_equal(atomic_load(&handler_runs), runs);
}

/* A valid session without the route's role: 403, no challenge. */
static void test_access_role(void **state)
{
    fixture *f = *state;
    reply r;
    call(state, "GET", "/t/auditor", NULL, f->bearer, &r);
    assert_json_error(&r, 403, LV_EPERM);
    assert_header(&r, "WWW-Authenticate", NULL);
    reply_free(&r);
}

/* The handler sees the caller and the parsed body; a CSC v1 string stands
 * for its boolean (HTTP_TEXT). */
static void test_access_who_and_json(void **state)
{
    fixture *f = *state;
    char want[160];
    reply r;
    call(state, "GET", "/t/citizen", NULL, f->bearer, &r);
    snprintf(want, sizeof want, "citizen:%s|-|-", f->citizen);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body.data, want);
    reply_free(&r);
    call(state, "POST", "/t/json", "{\"note\": \"hi\", \"flag\": \"true\"}",
         f->bearer, &r);
    snprintf(want, sizeof want, "citizen:%s|hi|true", f->citizen);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body.data, want);
    reply_free(&r);
}

/* Authentication first: an anonymous caller's broken body is answered 401,
 * not 400; the same body from the citizen is 400, and no handler runs. */
static void test_access_body_after_auth(void **state)
{
    fixture *f = *state;
    const char *bodies[] = {"{\"note\": ", "{\"note\": 5}", "[]",
                            "{\"note\": \"x\", \"other\": 1}",
                            "{\"note\": \"x\", \"flag\": \"yes\"}"};
    int runs = atomic_load(&handler_runs);
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        reply r;
        call(state, "POST", "/t/json", bodies[i], NULL, &r);
        assert_json_error(&r, 401, LV_EAUTH);
        reply_free(&r);
        call(state, "POST", "/t/json", bodies[i], f->bearer, &r);
        assert_json_error(&r, 400, LV_EINVAL);
        assert_header(&r, "WWW-Authenticate", NULL);
        reply_free(&r);
    }
    assert_int_equal(atomic_load(&handler_runs), runs);
}

/* LV_HTTP_AUTH_OWN_ID: a citizen names only their own id. */
static void test_access_own_id(void **state)
{
    fixture *f = *state;
    char path[96];
    reply r;
    snprintf(path, sizeof path, "/t/own/%s", f->citizen);
    call(state, "GET", path, NULL, f->bearer, &r);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    call(state, "GET", "/t/own/ffffffffffffffffffffffffffffffff", NULL,
         f->bearer, &r);
    assert_json_error(&r, 403, LV_EPERM);
    reply_free(&r);
}

/* A relying application with HTTP Basic (RFC 7617): its record reaches the
 * handler; anything else is 401 naming the Basic scheme. */
static void test_access_application(void **state)
{
    fixture *f = *state;
    const char *wrong[] = {NULL, f->bearer,
                           "Authorization: Basic bm9wZTpub3Bl", /* nope:nope */
                           "Authorization: Basic !!!!"};
    reply r;
    call(state, "POST", "/t/app", "{\"note\": \"x\"}", f->basic, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body.data, f->client_id);
    reply_free(&r);
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        call(state, "POST", "/t/app", "{\"note\": \"x\"}", wrong[i], &r);
        assert_json_error(&r, 401, LV_EAUTH);
        assert_header(&r, "WWW-Authenticate",
                      "Basic realm=\"llave transactions\"");
        reply_free(&r);
    }
}

/* CSC routes answer in the specification's error shape. */
static void test_access_csc(void **state)
{
    fixture *f = *state;
    reply r;
    call(state, "POST", "/t/csc", "{", NULL, &r);
    assert_csc_error(&r, 401, "invalid_token");
    assert_header(&r, "WWW-Authenticate", "Bearer realm=\"csc\"");
    reply_free(&r);
    call(state, "POST", "/t/csc", "{", f->bearer, &r);
    assert_csc_error(&r, 400, "invalid_request");
    reply_free(&r);
    call(state, "POST", "/t/csc", "{\"note\": \"n\"}", f->bearer, &r);
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

/* A raw body of another media type is 415; a route that declares no body
 * does not see one. */
static void test_access_raw(void **state)
{
    reply r;
    call(state, "POST", "/t/raw", "abc", "Content-Type: text/plain", &r);
    assert_json_error(&r, 415, LV_EINVAL);
    assert_non_null(strstr((char *)r.body.data, "sent as " T_QUERY));
    reply_free(&r);
    call(state, "POST", "/t/raw", "abc", "Content-Type: " T_QUERY "; charset=x",
         &r);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body.data, "abc");
    reply_free(&r);
    call(state, "POST", "/ignored", "abc", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    reply_free(&r);
}

/* Without an auth context (server_up): 503, not 401, and no challenge. */
static void test_access_no_auth_context(void **state)
{
    const char *paths[] = {"/t/citizen", "/t/login", "/t/csc"};
    const char *methods[] = {"GET", "POST", "POST"};
    for (size_t i = 0; i < 3; i++) {
        reply r;
        call(state, methods[i], paths[i], "{\"note\": \"x\"}", NULL, &r);
        if (i < 2)
            assert_json_error(&r, 503, LV_EINTERNAL);
        else
            assert_csc_error(&r, 503, "temporarily_unavailable");
        assert_header(&r, "WWW-Authenticate", NULL);
        reply_free(&r);
    }
}

/* RFC 6750 §2.1 parsing, shared by every route. */
static void test_bearer_token(void **state)
{
    (void)state;
    assert_null(http_bearer_token(NULL));
    assert_null(http_bearer_token("Basic abc"));
    assert_null(http_bearer_token("Bearerabc"));
    assert_string_equal(http_bearer_token("Bearer abc"), "abc");
    assert_string_equal(http_bearer_token("bearer  abc"), "abc");
    assert_string_equal(http_bearer_token("Bearer "), "");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* The access log only when asked: LV_TEST_LOG=1 ./test_http */
    lv_log_set_level(getenv("LV_TEST_LOG") ? LV_LOG_DEBUG : LV_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resp_helpers),
        cmocka_unit_test(test_bad_tables),
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_body_to_unknown_path),
        cmocka_unit_test(test_handler_errors),
        cmocka_unit_test(test_ca_without_ca),
        cmocka_unit_test(test_store_per_thread),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_still_healthy),
        cmocka_unit_test(test_access_no_auth_context),
    };
    int rc = cmocka_run_group_tests(tests, server_up, server_down);
    const struct CMUnitTest body_tests[] = {
        cmocka_unit_test(test_body_valid),
        cmocka_unit_test(test_body_malformed),
        cmocka_unit_test(test_body_not_object),
        cmocka_unit_test(test_body_missing),
        cmocka_unit_test(test_body_wrong_type),
        cmocka_unit_test(test_body_unknown),
        cmocka_unit_test(test_body_utf8_nul),
        cmocka_unit_test(test_body_length),
        cmocka_unit_test(test_bearer_token),
    };
    rc |= cmocka_run_group_tests(body_tests, NULL, NULL);
    const struct CMUnitTest access_tests[] = {
        cmocka_unit_test(test_access_no_session),
        cmocka_unit_test(test_access_role),
        cmocka_unit_test(test_access_who_and_json),
        cmocka_unit_test(test_access_body_after_auth),
        cmocka_unit_test(test_access_own_id),
        cmocka_unit_test(test_access_application),
        cmocka_unit_test(test_access_csc),
        cmocka_unit_test(test_access_raw),
    };
    rc |= cmocka_run_group_tests(access_tests, access_up, server_down);
    curl_global_cleanup();
    return rc;
}
