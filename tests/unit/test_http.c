/* http/: router, body limits, error JSON, per-thread stores, concurrency,
 * and the strict JSON body reader (http_body.c).
 * A real server on 127.0.0.1 and a free port, driven with libcurl.  The CA
 * is left out (NULL): the end-to-end /ca test is an integration test. */
#include "http/http.h"
#include "http/http_internal.h" /* http_body_parse */

#include <curl/curl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
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

static const lv_http_route test_routes[] = {
    {"GET", "/hello", h_hello, 0, LV_WORK_API},
    {"POST", "/echo", h_echo, 0, LV_WORK_API},
    {"POST", "/small", h_echo, SMALL_LIMIT, LV_WORK_API},
    {"GET", "/item/{id}", h_item, 0, LV_WORK_API},
    {"DELETE", "/item/{id}", h_item, 0, LV_WORK_API},
    {"GET", "/item/special", h_hello, 0, LV_WORK_API}, /* exact beats pattern */
    {"GET", "/fail", h_fail, 0, LV_WORK_API},
    {"GET", "/silent", h_silent, 0, LV_WORK_API},
    {"GET", "/conflict", h_conflict, 0, LV_WORK_API},
    {"GET", "/store", h_store, 0, LV_WORK_API},
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

static int server_up(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(tu_tmpdir(f->dir, sizeof f->dir, "http"), 0);
    lv_config cfg;
    lv_config_defaults(&cfg, f->dir);
    cfg.listen_port = 0;
    cfg.threads = 4;
    lv_err err = {0};
    assert_int_equal(lv_app_new(&cfg, NULL, &f->app, &err), 0);
    /* The test routes plus every real API (with no CA loaded). */
    const lv_http_route *tables[16] = {test_routes};
    const lv_http_route *const *api = http_api_tables();
    for (size_t i = 0; api[i] && i + 2 < 16; i++)
        tables[i + 1] = api[i];
    if (http_server_start(f->app, tables, &f->srv, &err) < 0)
        fail_msg("server: %s", err.msg);
    assert_int_not_equal(http_server_port(f->srv), 0);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u",
             (unsigned)http_server_port(f->srv));
    *state = f;
    return 0;
}

static int server_down(void **state)
{
    fixture *f = *state;
    http_server_stop(f->srv);
    lv_app_free(f->app);
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
    const char *paths[] = {"/nope",  "/",         "/hello/",
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
    const lv_http_route bad1[] = {{"GET", "nope", h_never, 0, LV_WORK_API},
                                  {0}};
    const lv_http_route bad2[] = {{"GET", "/a/{x", h_never, 0, LV_WORK_API},
                                  {0}};
    const lv_http_route bad3[] = {
        {"GET", "/a/{x}/{y}", h_never, 0, LV_WORK_API}, {0}};
    const lv_http_route bad4[] = {{"GET", "/a", NULL, 0, LV_WORK_API}, {0}};
    const lv_http_route *bads[] = {bad1, bad2, bad3, bad4};
    for (size_t i = 0; i < 4; i++) {
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

/* The handlers' entry point answers 400 invalid_request by itself. */
static void test_body_read_answers(void **state)
{
    (void)state;
    const char text[] = "{\"login\": 5}";
    lv_http_req req = {.method = "POST",
                       .path = "/x",
                       .param = "",
                       .body = (const unsigned char *)text,
                       .body_len = sizeof text - 1};
    lv_http_resp resp = {0};
    json_t *j = NULL;
    assert_int_equal(http_body_read(&req, T_SCHEMA, &resp, &j), LV_EINVAL);
    assert_null(j);
    assert_int_equal(resp.status, 400);
    json_t *o =
        json_loadb((const char *)resp.body.data, resp.body.len, 0, NULL);
    assert_string_equal(lv_json_str(o, "error"), "invalid_request");
    assert_string_equal(lv_json_str(o, "message"),
                        "field 'login' must be a string");
    json_decref(o);
    lv_buf_free(&resp.body);
    lv_http_resp ok = {0};
    req.body = NULL;
    req.body_len = 0;
    assert_int_equal(http_body_empty(&req, &ok), 0);
    assert_int_equal(ok.status, 0); /* nothing answered yet */
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
        cmocka_unit_test(test_body_read_answers),
    };
    rc |= cmocka_run_group_tests(body_tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
