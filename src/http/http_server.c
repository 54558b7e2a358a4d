/* The libmicrohttpd server and the router.  This is the only file that
 * speaks libmicrohttpd; handlers see lv_http_req / lv_http_resp only.
 *
 * libmicrohttpd calls the access handler several times per request: once
 * when the headers are in (we route and check the declared body size), once
 * per piece of body (we buffer up to the route's limit, then discard), and
 * then with no data until a response is queued (we run the handler). */
#include "http/http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bytes of an oversized or misrouted body we read and drop so that the
 * client, still sending, reliably receives its 413/404 before the close.
 * Beyond this the connection is cut: memory never grows past the route
 * limit, and bandwidth spent on a rejected request stays bounded. */
#define SRV_DISCARD_MAX ((size_t)16 * 1024 * 1024)
#define SRV_TIMEOUT_S 30u
#define SRV_LOG_PATH_MAX 200

typedef struct srv_route {
    const lv_http_route *r;
    size_t prefix_len; /* the whole pattern when there is no {name} */
    const char *suffix;
    size_t suffix_len;
    int has_param;
    int tail;     /* {name*}: the rest of the path, '/' included */
    int plain_ok; /* served on plain http beside https (http_route_plain) */
} srv_route;

#define SRV_MAX_LISTENERS 256

/* One listening port: plain http, or https (issue 17 item 4).  The gate
 * (http_gate.c) accepts and vets connections, then hands each to one of
 * these single-threaded daemons in turn, so that CPU-bound endpoints use
 * every core (R10.1). */
typedef struct srv_listener {
    lv_http_server *server;
    int tls;
    struct MHD_Daemon *daemons[SRV_MAX_LISTENERS];
    unsigned ndaemons;
    _Atomic unsigned next_daemon;
    http_gate *gate;
    uint16_t port;
} srv_listener;

struct lv_http_server {
    srv_listener plain, https; /* https.gate NULL: no TLS configured */
    http_tls *tls;
    lv_pool *pools[LV_WORK_COUNT]; /* [LV_WORK_INLINE] stays NULL */
    lv_app *app;
    srv_route *routes;
    size_t nroutes;
    char oom_body[96]; /* last-resort answer, built before it is needed */
};

/* Per-request state, libmicrohttpd's con_cls, created when the request line
 * is in (srv_uri_seen). */
typedef struct srv_request {
    int64_t start_us;
    int begun; /* the access handler has seen the headers */
    const srv_route *route;
    char param[LV_HTTP_PARAM_MAX + 1];
    int reject;     /* 400 (request line), 404/405 (routing), 413 (body) */
    char allow[64]; /* Allow header of a 405 */
    size_t limit;
    size_t discarded;
    lv_buf body;
    int status; /* queued status, for the access log */
    char method[16];
    char path[SRV_LOG_PATH_MAX + 1];
    /* a handler running on a pool while the connection is suspended */
    lv_http_server *server;
    struct MHD_Connection *conn;
    const char *url;
    char remote[INET6_ADDRSTRLEN];
    int https;
    http_peer peer; /* the TLS client's certificates, when it sent any */
    lv_http_resp resp;
    _Atomic int done; /* the pool's answer is in resp */
} srv_request;

static int64_t srv_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- routes ------------------------------------------------------------- */

/* What a route declares must make sense: an INLINE route runs on the I/O
 * thread, where nothing may wait on the database as a caller's check does;
 * a JSON body needs its schema; an own-id check needs the {id}. */
static int route_declaration_ok(const lv_http_route *r, lv_err *err)
{
    if (r->work == LV_WORK_INLINE && r->auth.kind != LV_HTTP_AUTH_NONE)
        return lv_fail(err, LV_EINVAL,
                       "route %s %s: an LV_WORK_INLINE route cannot "
                       "authenticate its caller",
                       r->method, r->pattern);
    if ((r->auth.flags & LV_HTTP_AUTH_OWN_ID) && !strchr(r->pattern, '{'))
        return lv_fail(err, LV_EINVAL,
                       "route %s %s: an own-id check needs {id}", r->method,
                       r->pattern);
    if (r->body.kind == LV_HTTP_BODY_JSON && !r->body.schema)
        return lv_fail(err, LV_EINVAL,
                       "route %s %s: a JSON body needs a schema", r->method,
                       r->pattern);
    if (r->auth.kind > LV_HTTP_AUTH_APP || r->body.kind > LV_HTTP_BODY_RAW)
        return lv_fail(err, LV_EINVAL, "route %s %s: unknown auth or body kind",
                       r->method, r->pattern);
    return 0;
}

static int route_compile(const lv_http_route *r, srv_route *out, lv_err *err)
{
    if (!r->pattern || r->pattern[0] != '/' || !r->handler)
        return lv_fail(err, LV_EINVAL, "bad route %s", r->method);
    LV_TRY(route_declaration_ok(r, err));
    out->r = r;
    const char *open = strchr(r->pattern, '{');
    if (!open) {
        out->prefix_len = strlen(r->pattern);
        return 0;
    }
    const char *close = strchr(open, '}');
    if (!close || memchr(open + 1, '/', (size_t)(close - open)) ||
        strchr(close, '{'))
        return lv_fail(err, LV_EINVAL, "bad route pattern %s", r->pattern);
    out->has_param = 1;
    out->prefix_len = (size_t)(open - r->pattern);
    out->suffix = close + 1;
    out->suffix_len = strlen(out->suffix);
    out->tail = close[-1] == '*';
    if (out->tail && out->suffix_len)
        return lv_fail(err, LV_EINVAL, "a {name*} tail must end the pattern %s",
                       r->pattern);
    return 0;
}

static int routes_compile(lv_http_server *s, const lv_http_route *const *tables,
                          lv_err *err)
{
    size_t n = 0;
    for (size_t t = 0; tables[t]; t++)
        for (const lv_http_route *r = tables[t]; r->method; r++)
            n++;
    s->routes = calloc(n ? n : 1, sizeof *s->routes);
    if (!s->routes)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    for (size_t t = 0; tables[t]; t++)
        for (const lv_http_route *r = tables[t]; r->method; r++) {
            s->routes[s->nroutes].plain_ok = http_route_plain(tables[t]);
            LV_TRY(route_compile(r, &s->routes[s->nroutes++], err));
        }
    return 0;
}

/* Does path match the route?  Fills param with the {name} segment. */
static int route_match(const srv_route *sr, const char *path,
                       char param[LV_HTTP_PARAM_MAX + 1])
{
    const char *pattern = sr->r->pattern;
    if (!sr->has_param)
        return strcmp(pattern, path) == 0;
    size_t len = strlen(path);
    if (sr->tail) {
        /* the handler reads the tail from the path itself (srv_dispatch):
         * it may be longer than param and hold '/' (RFC 6960 A.1 base64) */
        param[0] = '\0';
        return len > sr->prefix_len &&
               strncmp(path, pattern, sr->prefix_len) == 0;
    }
    if (len <= sr->prefix_len + sr->suffix_len ||
        strncmp(path, pattern, sr->prefix_len) != 0 ||
        strcmp(path + len - sr->suffix_len, sr->suffix) != 0)
        return 0;
    size_t plen = len - sr->prefix_len - sr->suffix_len;
    const char *seg = path + sr->prefix_len;
    if (plen > LV_HTTP_PARAM_MAX || memchr(seg, '/', plen))
        return 0;
    memcpy(param, seg, plen);
    param[plen] = '\0';
    return 1;
}

/* HEAD is answered by the GET route; libmicrohttpd drops the body. */
static int route_method_ok(const srv_route *sr, const char *method)
{
    const char *m = sr->r->method;
    return strcmp(m, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(m, "GET") == 0);
}

/* Appends method to the ", "-separated Allow list unless already there. */
static void allow_add(char *allow, size_t cap, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = allow; *p;) {
        size_t tok = strcspn(p, ",");
        if (tok == n && strncmp(p, method, n) == 0)
            return;
        p += tok;
        p += strspn(p, ", ");
    }
    size_t len = strlen(allow);
    if (len + n + 3 > cap)
        return;
    snprintf(allow + len, cap - len, "%s%s", len ? ", " : "", method);
}

/* Exact paths first, then patterns, each in table order.  A path served
 * only under other methods gives 405 with their list in rq->allow. */
static void route_find(const lv_http_server *s, const char *path,
                       const char *method, srv_request *rq)
{
    char param[LV_HTTP_PARAM_MAX + 1] = ""; /* an exact route has none */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < s->nroutes; i++) {
            const srv_route *sr = &s->routes[i];
            if (sr->has_param != pass || !route_match(sr, path, param))
                continue;
            if (route_method_ok(sr, method)) {
                rq->route = sr;
                memcpy(rq->param, param, sizeof param);
                return;
            }
            allow_add(rq->allow, sizeof rq->allow, sr->r->method);
            if (strcmp(sr->r->method, "GET") == 0)
                allow_add(rq->allow, sizeof rq->allow, "HEAD");
        }
    }
    rq->reject = rq->allow[0] ? 405 : 404;
}

/* Test hook (fuzz/fuzz_route.c): route_find over tables, as the server
 * runs it, without a server. */
int http_route_lookup(const lv_http_route *const *tables, const char *path,
                      const char *method, http_route_hit *out, lv_err *err)
{
    lv_http_server s = {0};
    srv_request rq = {0};
    int rc = routes_compile(&s, tables, err);
    if (rc == 0)
        route_find(&s, path, method, &rq);
    *out = (http_route_hit){rq.route ? rq.route->r : NULL, {0}, rq.reject, {0}};
    memcpy(out->param, rq.param, sizeof out->param);
    memcpy(out->allow, rq.allow, sizeof out->allow);
    free(s.routes);
    return rc;
}

/* ---- request lookups for handlers --------------------------------------- */

const char *http_req_query(const lv_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->impl_, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_header(const lv_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->impl_, MHD_HEADER_KIND, name);
}

static int srv_copy(char *out, size_t cap, const char *in)
{
    size_t n = in ? strlen(in) : cap;
    if (n >= cap)
        return LV_EAUTH;
    memcpy(out, in, n + 1);
    return 0;
}

/* libmicrohttpd 0.9.75 decodes Basic (RFC 7617 §2): strict base64, the
 * user id up to the first ':' (so a ':' can only be in the password, as §2
 * requires).  It takes the scheme only as "Basic " with one space, where
 * RFC 9110 §11.1 allows any case; every client we know spells it so. */
int http_req_basic(const lv_http_req *req, char *user, size_t ucap, char *pass,
                   size_t pcap)
{
    char *p = NULL;
    char *u = MHD_basic_auth_get_username_password(req->impl_, &p);
    int rc = u && p ? srv_copy(user, ucap, u) : LV_EAUTH;
    if (rc == 0)
        rc = srv_copy(pass, pcap, p);
    if (u) {
        OPENSSL_cleanse(u, strlen(u));
        MHD_free(u);
    }
    if (p) {
        OPENSSL_cleanse(p, strlen(p));
        MHD_free(p);
    }
    if (rc < 0 && pcap)
        OPENSSL_cleanse(pass, pcap);
    return rc;
}

static void srv_remote_addr(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    const void *a = NULL;
    if (sa->sa_family == AF_INET)
        a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (a)
        inet_ntop(sa->sa_family, a, out, (socklen_t)cap);
}

/* ---- responses ---------------------------------------------------------- */

/* Last resort when even an error response cannot be built: no allocation
 * but MHD's own. */
static enum MHD_Result srv_queue_fallback(const lv_http_server *s,
                                          struct MHD_Connection *conn,
                                          srv_request *rq)
{
    struct MHD_Response *mr = MHD_create_response_from_buffer(
        strlen(s->oom_body), (void *)s->oom_body, MHD_RESPMEM_PERSISTENT);
    if (!mr)
        return MHD_NO;
    MHD_add_response_header(mr, "Content-Type", "application/json");
    rq->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rq->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static int srv_has_header(const lv_http_resp *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return 1;
    return 0;
}

/* Every answer: nosniff.  Every HTML page (issue 11): a strict CSP unless
 * the handler set its own, no framing (clickjacking), no referrer. */
static int srv_security_headers(struct MHD_Response *mr,
                                const lv_http_resp *resp)
{
    static const struct {
        const char *name, *value;
    } html[] = {
        {"Content-Security-Policy",
         "default-src 'none'; style-src 'self'; img-src 'self'; "
         "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"},
        {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "no-referrer"},
    };
    int ok = srv_has_header(resp, "X-Content-Type-Options") ||
             MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    if (strncasecmp(resp->content_type, "text/html", 9) != 0)
        return ok;
    for (size_t i = 0; ok && i < sizeof html / sizeof html[0]; i++)
        ok = srv_has_header(resp, html[i].name) ||
             MHD_add_response_header(mr, html[i].name, html[i].value);
    return ok;
}

static struct MHD_Response *srv_mhd_response(const lv_http_resp *resp)
{
    struct MHD_Response *mr;
    if (resp->body_static)
        mr = MHD_create_response_from_buffer(resp->body_static_len,
                                             (void *)resp->body_static,
                                             MHD_RESPMEM_PERSISTENT);
    else
        mr = MHD_create_response_from_buffer(
            resp->body.len, resp->body.data ? (void *)resp->body.data : "",
            MHD_RESPMEM_MUST_COPY);
    if (!mr)
        return NULL;
    /* none for a 204 (http_csc_no_content): it has no content */
    int ok = !resp->content_type[0] ||
             MHD_add_response_header(mr, "Content-Type", resp->content_type);
    for (size_t i = 0; ok && i < resp->nheaders; i++)
        ok = MHD_add_response_header(mr, resp->headers[i].name,
                                     resp->headers[i].value);
    if (ok)
        ok = srv_security_headers(mr, resp);
    if (!ok) {
        MHD_destroy_response(mr);
        return NULL;
    }
    return mr;
}

/* Queues resp (status 0 means it could not be built) and frees its body. */
static enum MHD_Result srv_queue(const lv_http_server *s,
                                 struct MHD_Connection *conn, srv_request *rq,
                                 lv_http_resp *resp)
{
    struct MHD_Response *mr = resp->status ? srv_mhd_response(resp) : NULL;
    lv_buf_free(&resp->body);
    if (!mr)
        return srv_queue_fallback(s, conn, rq);
    rq->status = resp->status;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rq->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static void srv_https_url(const lv_http_server *s, struct MHD_Connection *conn,
                          const char *path, char *out, size_t cap);

/* Plain http when https is on: 308 to the same page over https, or 403
 * naming it. */
static void srv_reject_plain(const lv_http_server *s,
                             struct MHD_Connection *conn, const srv_request *rq,
                             lv_http_resp *resp)
{
    char url[1024];
    srv_https_url(s, conn, rq->url, url, sizeof url);
    if (rq->reject == 308) {
        if (http_resp_error_status(resp, 308, LV_EPERM,
                                   "this page is served over https") == 0 &&
            http_resp_header(resp, "Location", url) < 0)
            resp->status = 0;
        return;
    }
    char msg[1200];
    snprintf(msg, sizeof msg,
             "this service is served over https only: %s (plain http keeps "
             "OCSP, CRLs, CA certificates, the repository and the TSA)",
             url);
    lv_ignore(http_resp_error_status(resp, 403, LV_EPERM, msg));
}

/* The router's own answers: 404, 405, 413.  Here and below, an error
 * answer that cannot be built (out of memory) leaves resp.status 0, and
 * srv_queue sends its fixed 500 instead (srv_queue_fallback): so the
 * results are ignored (lv_ignore). */
static enum MHD_Result srv_reject(const lv_http_server *s,
                                  struct MHD_Connection *conn, srv_request *rq)
{
    /* no route ran: the request only to read the language it names */
    lv_http_req req = {.method = rq->method, .impl_ = conn};
    lv_http_resp resp = {.req = &req};
    if (rq->reject == 400) {
        lv_ignore(
            http_resp_error(&resp, LV_EINVAL,
                            "malformed request: a control character or %%00 in "
                            "the path, or HTTP/1.1 without Host"));
    } else if (rq->reject == 404) {
        lv_ignore(http_resp_error(&resp, LV_ENOTFOUND, "no such resource: %s",
                                  rq->path));
    } else if (rq->reject == 405) {
        char msg[128];
        snprintf(msg, sizeof msg, "method %s not allowed; allowed: %s",
                 rq->method, rq->allow);
        if (http_resp_error_status(&resp, 405, LV_EINVAL, msg) == 0 &&
            http_resp_header(&resp, "Allow", rq->allow) < 0)
            resp.status = 0;
    } else if (rq->reject == 308 || rq->reject == 403) {
        srv_reject_plain(s, conn, rq, &resp);
    } else if (rq->reject == 500) {
        lv_ignore(http_resp_error(&resp, LV_ENOMEM, "out of memory"));
    } else {
        lv_ignore(http_resp_error(&resp, LV_ETOOBIG,
                                  "request body larger than %zu bytes",
                                  rq->limit));
    }
    return srv_queue(s, conn, rq, &resp);
}

/* Runs the route's handler for rq (on an I/O thread or a pool's), once the
 * caller and the body passed the route's declarations (http_access.c). */
static void srv_run_handler(lv_http_server *s, srv_request *rq, int in_pool,
                            lv_http_resp *resp)
{
    const lv_http_route *route = rq->route->r;
    lv_http_req req = {
        .method = rq->method,
        .path = rq->url,
        .param = rq->route->tail ? rq->url + rq->route->prefix_len : rq->param,
        .body = rq->body.len ? rq->body.data : NULL,
        .body_len = rq->body.len,
        .remote_addr = rq->remote,
        .https = rq->https,
        .peer_der = (const unsigned char *const *)rq->peer.der,
        .peer_len = rq->peer.len,
        .npeer = rq->peer.n,
        .in_pool = in_pool,
        .impl_ = rq->conn,
    };
    http_access acc;
    resp->req = &req;
    int rc = http_access_begin(s->app, route, &req, &acc, resp);
    if (rc == 0)
        rc = route->handler(s->app, &req, resp);
    else if (rc > 0)
        rc = 0; /* refused: resp holds the answer */
    http_access_end(&req, &acc);
    if (rc < 0) {
        lv_log(LV_LOG_WARN, "http %s %s: handler failed: %s", rq->method,
               rq->path, lv_err_name(rc));
        lv_ignore(
            http_resp_error(resp, rc, "request failed: %s", lv_err_name(rc)));
    } else if (resp->status == 0 && !resp->defer) {
        lv_ignore(http_resp_error(resp, LV_EINTERNAL, "no response"));
    }
    resp->req = NULL; /* req ends here */
}

/* A pool's thread: the connection is suspended until we resume it. */
static void srv_pool_job(void *arg)
{
    srv_request *rq = arg;
    srv_run_handler(rq->server, rq, 1, &rq->resp);
    if (rq->resp.status == 0) /* a deferral from a pool makes no sense */
        lv_ignore(http_resp_error(&rq->resp, LV_EINTERNAL, "no response"));
    atomic_store(&rq->done, 1);
    MHD_resume_connection(rq->conn);
}

/* 503 + Retry-After at once when a pool's queue is full (issue 11). */
static void srv_busy(lv_http_resp *resp)
{
    lv_err err = {0};
    lv_fail_retry(&err, LV_EBUSY, 1, "the service is busy; retry in a moment");
    lv_ignore(http_resp_err(resp, &err));
}

/* Suspends the connection and queues the handler on the pool of work. */
static enum MHD_Result srv_enqueue(lv_http_server *s,
                                   struct MHD_Connection *conn, srv_request *rq,
                                   int work)
{
    lv_pool *pool = s->pools[work];
    memset(&rq->resp, 0, sizeof rq->resp);
    /* suspend first: the job may finish, and resume, before submit returns */
    MHD_suspend_connection(conn);
    if (!pool || lv_pool_submit(pool, srv_pool_job, rq) < 0) {
        srv_busy(&rq->resp);
        atomic_store(&rq->done, 1);
        MHD_resume_connection(conn);
    }
    return MHD_YES;
}

static enum MHD_Result srv_dispatch(lv_http_server *s,
                                    struct MHD_Connection *conn,
                                    srv_request *rq, const char *url)
{
    rq->server = s;
    rq->conn = conn;
    rq->url = url;
    srv_remote_addr(conn, rq->remote, sizeof rq->remote);
    if (rq->https && http_peer_copy(conn, &rq->peer) < 0) {
        rq->reject = 500;
        return srv_reject(s, conn, rq);
    }
    int work = (int)rq->route->r->work;
    if (work != LV_WORK_INLINE)
        return srv_enqueue(s, conn, rq, work);
    lv_http_resp resp = {0};
    srv_run_handler(s, rq, 0, &resp);
    if (resp.status == 0 && resp.defer > 0 && resp.defer < LV_WORK_COUNT &&
        resp.defer != LV_WORK_INLINE) {
        lv_buf_free(&resp.body);
        return srv_enqueue(s, conn, rq, resp.defer);
    }
    if (resp.status == 0)
        lv_ignore(http_resp_error(&resp, LV_EINTERNAL, "no response"));
    return srv_queue(s, conn, rq, &resp);
}

/* ---- the access handler ------------------------------------------------- */

/* Copies text for the log, replacing control bytes so that a path such as
 * "/%0a..." cannot forge log lines. */
static void srv_log_copy(char *out, size_t cap, const char *in)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = in[i];
        if (c < 0x20 || c == 0x7f)
            out[i] = '?';
    }
    out[i] = '\0';
}

static int srv_content_length(struct MHD_Connection *conn, uint64_t *len)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!v)
        return 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (end == v || *end)
        return 0;
    *len = n;
    return 1;
}

static int srv_expects_continue(struct MHD_Connection *conn)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_EXPECT);
    return v && strcasecmp(v, "100-continue") == 0;
}

static http_gate_conn *srv_gate_conn(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* RFC 9112 §3.2: an HTTP/1.1 request without Host is refused.  The gate
 * checks the first request of a connection; this catches later ones. */
static int srv_host_missing(struct MHD_Connection *conn, const char *version)
{
    return strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
           !MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                        MHD_HTTP_HEADER_HOST);
}

static int srv_is_https(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    return ci && ci->tls_session;
}

/* issue 17 item 4: with https on, plain http keeps only the status
 * services (http_route_plain); a password or a session never travels in
 * clear. */
static int srv_https_only(const lv_http_server *s, const srv_request *rq)
{
    return s->https.gate && !rq->route->plain_ok &&
           lv_app_config(s->app)->tls_plain_status_only;
}

/* A page asked for without a query is sent to https (308 keeps the
 * method); anything else is refused, so that nothing the client sent in
 * clear is carried on as if it were safe. */
static int srv_wants_redirect(struct MHD_Connection *conn, const char *method)
{
    return (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
           MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, NULL, NULL) ==
               0;
}

/* The https address of this request: public_url when it is https, else the
 * Host the client named (without its port) and our https port. */
static void srv_https_url(const lv_http_server *s, struct MHD_Connection *conn,
                          const char *path, char *out, size_t cap)
{
    const lv_config *cfg = lv_app_config(s->app);
    if (strncmp(cfg->public_url, "https://", 8) == 0) {
        snprintf(out, cap, "%s%s", cfg->public_url, path);
        return;
    }
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_HOST);
    char name[256] = "127.0.0.1";
    if (host && host[0] == '[')
        snprintf(name, sizeof name, "%.*s", (int)strcspn(host, "]") + 1, host);
    else if (host && host[0])
        snprintf(name, sizeof name, "%.*s", (int)strcspn(host, ":"), host);
    if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789.-[]:") != strlen(name))
        snprintf(name, sizeof name, "%s", "127.0.0.1");
    snprintf(out, cap, "https://%s:%u%s", name, (unsigned)s->https.port, path);
}

/* First call: headers are in, the body (if any) is not. */
static enum MHD_Result srv_begin(lv_http_server *s, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, srv_request *rq)
{
    rq->begun = 1;
    http_gate_conn_phase(srv_gate_conn(conn), HTTP_PHASE_BODY);
    srv_log_copy(rq->method, sizeof rq->method, method);
    srv_log_copy(rq->path, sizeof rq->path, url);
    if (!rq->reject && srv_host_missing(conn, version))
        rq->reject = 400;
    if (!rq->reject)
        route_find(s, url, method, rq);
    rq->https = srv_is_https(conn);
    rq->url = url;
    if (!rq->reject && rq->route && !rq->https && srv_https_only(s, rq))
        rq->reject = srv_wants_redirect(conn, method) ? 308 : 403;
    rq->limit = LV_HTTP_BODY_DEFAULT;
    if (rq->route && rq->route->r->max_body == LV_HTTP_BODY_SIGN_TX)
        rq->limit = http_sign_tx_body_limit(lv_app_config(s->app));
    else if (rq->route && rq->route->r->max_body)
        rq->limit = rq->route->r->max_body;
    uint64_t len = 0;
    if (!srv_content_length(conn, &len) || len == 0)
        return MHD_YES;
    if (!rq->reject && len > rq->limit) {
        rq->reject = 413;
    }
    /* Answer before the body when the client waits for "100 Continue" (it
     * will then not send it) or when the body is too big to swallow. */
    if (rq->reject && (srv_expects_continue(conn) || len > SRV_DISCARD_MAX))
        return srv_reject(s, conn, rq);
    return MHD_YES;
}

/* A piece of the body.  Memory never exceeds the route limit. */
static enum MHD_Result srv_receive(srv_request *rq, const char *data,
                                   size_t *size)
{
    size_t n = *size;
    *size = 0;
    if (!rq->reject && n > rq->limit - rq->body.len) {
        rq->reject = 413;
        rq->discarded = rq->body.len;
        lv_buf_free(&rq->body);
    }
    if (rq->reject) {
        rq->discarded += n;
        return rq->discarded > SRV_DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    return lv_buf_append(&rq->body, data, n) < 0 ? MHD_NO : MHD_YES;
}

static enum MHD_Result srv_access(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    lv_http_server *s = cls;
    srv_request *rq = *con_cls;
    if (!rq)
        return MHD_NO; /* srv_uri_seen could not allocate it */
    if (!rq->begun)
        return srv_begin(s, conn, url, method, version, rq);
    if (*upload_data_size)
        return srv_receive(rq, upload_data, upload_data_size);
    if (atomic_load(&rq->done)) /* resumed: the pool's answer */
        return srv_queue(s, conn, rq, &rq->resp);
    http_gate_conn_phase(srv_gate_conn(conn), HTTP_PHASE_WORK);
    if (rq->reject)
        return srv_reject(s, conn, rq);
    return srv_dispatch(s, conn, rq, url);
}

/* The request line is in (the headers are not): the request's state starts
 * here, and a raw target that would decode to a control character is marked
 * for a 400 before any routing (libmicrohttpd would hand us "/a%00b" as
 * "/a"). */
static void *srv_uri_seen(void *cls, const char *uri,
                          struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    srv_request *rq = calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    rq->start_us = srv_now_us();
    if (!http_target_ok(uri, strlen(uri)))
        rq->reject = 400;
    return rq;
}

/* libmicrohttpd's connection start and end: the gate's registry. */
static void srv_connection(void *cls, struct MHD_Connection *conn,
                           void **socket_context,
                           enum MHD_ConnectionNotificationCode toe)
{
    srv_listener *l = cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context =
            fd && sa ? http_gate_conn_started(l->gate, fd->connect_fd, sa)
                     : NULL;
        /* https: the handshake and the head are still to come */
        if (l->tls)
            http_gate_conn_phase(*socket_context, HTTP_PHASE_HEAD);
    } else {
        http_gate_conn_closed(l->gate, *socket_context, sa);
        *socket_context = NULL;
    }
}

/* Access log: one line per request, no bodies, no query strings (they may
 * carry tokens). */
static void srv_completed(void *cls, struct MHD_Connection *conn,
                          void **con_cls, enum MHD_RequestTerminationCode toe)
{
    const lv_http_server *s = cls;
    srv_request *rq = *con_cls;
    if (!rq)
        return;
    long long us = (long long)(srv_now_us() - rq->start_us);
    /* access_log off: a line (a write) per answered request is a fifth of
     * the cost of an OCSP answer (R10.1); failures are still logged */
    int quiet = !lv_app_config(s->app)->access_log && rq->status < 500;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        lv_log(LV_LOG_INFO, "http %s %s %d %lldus aborted (%d)", rq->method,
               rq->path, rq->status, us, (int)toe);
    else if (!quiet)
        lv_log(LV_LOG_INFO, "http %s %s %d %lldus", rq->method, rq->path,
               rq->status, us);
    /* keep-alive: the next head has the head deadline from now */
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        http_gate_conn_phase(srv_gate_conn(conn), HTTP_PHASE_HEAD);
    lv_buf_free(&rq->body);
    lv_buf_free(&rq->resp.body);
    http_peer_free(&rq->peer);
    free(rq);
    *con_cls = NULL;
}

/* libmicrohttpd reports a malformed Basic header (http_req_basic) as an
 * error; it is a client's, answered 401, and must not let anyone write a
 * warning to the operator's log with every request. */
static int srv_mhd_client_fault(const char *msg)
{
    return strncmp(msg, "Basic authentication", 20) == 0 ||
           strncmp(msg, "Error decoding basic authentication", 35) == 0;
}

__attribute__((format(printf, 2, 0))) static void
srv_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    lv_log(srv_mhd_client_fault(msg) ? LV_LOG_DEBUG : LV_LOG_WARN,
           "microhttpd: %s", msg);
}

/* ---- the daemon --------------------------------------------------------- */

static int srv_resolve(const lv_config *cfg, int port_number,
                       struct sockaddr_storage *ss, lv_err *err)
{
    const char *host = cfg->listen_addr[0] ? cfg->listen_addr : "127.0.0.1";
    if (port_number < 0 || port_number > 65535)
        return lv_fail(err, LV_EINVAL, "bad listen port %d", port_number);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &ai);
    if (rc != 0)
        return lv_fail(err, LV_EINVAL, "listen address %s: %s", host,
                       gai_strerror(rc));
    memset(ss, 0, sizeof *ss);
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    uint16_t port = htons((uint16_t)port_number);
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = port;
    else
        ((struct sockaddr_in *)ss)->sin_port = port;
    return 0;
}

static unsigned srv_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static unsigned srv_threads(const lv_config *cfg)
{
    return cfg->threads > 0 ? (unsigned)cfg->threads : srv_cpus();
}

static struct MHD_Daemon *srv_start_one(srv_listener *l, unsigned max_conns)
{
    lv_http_server *s = l->server;
    const lv_config *cfg = lv_app_config(s->app);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                     MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET |
                     MHD_ALLOW_SUSPEND_RESUME | (l->tls ? MHD_USE_TLS : 0);
    http_tls_pem pem = {0};
    if (l->tls)
        http_tls_pems(s->tls, &pem);
    return MHD_start_daemon(
        flags, 0, NULL, NULL, srv_access, s,
        /* first, as libmicrohttpd asks, so that no message escapes it */
        MHD_OPTION_EXTERNAL_LOGGER, srv_mhd_log, (void *)s,
        /* the gate enforces the deadlines; this idle timer is a backstop
         * for a client that stops reading its answer */
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->http_body_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, max_conns, MHD_OPTION_URI_LOG_CALLBACK,
        srv_uri_seen, (void *)s, MHD_OPTION_NOTIFY_CONNECTION, srv_connection,
        (void *)l, MHD_OPTION_NOTIFY_COMPLETED, srv_completed, (void *)s,
        /* https only (ignored otherwise): certificate, key, and the issuers
         * whose client certificates we ask for (GNUTLS_CERT_REQUEST: asked,
         * not required; http_tls.c judges what arrives) */
        l->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, pem.cert,
        MHD_OPTION_HTTPS_MEM_KEY, pem.key, MHD_OPTION_HTTPS_MEM_TRUST,
        pem.trust, MHD_OPTION_HTTPS_PRIORITIES, HTTP_TLS_PRIORITIES,
        MHD_OPTION_END);
}

/* The gate's handoff: the daemons take connections in turn. */
static int srv_handoff(void *cls, int fd, const struct sockaddr *sa,
                       unsigned len)
{
    srv_listener *l = cls;
    unsigned i = atomic_fetch_add(&l->next_daemon, 1) % l->ndaemons;
    if (MHD_add_connection(l->daemons[i], fd, sa, (socklen_t)len) == MHD_YES)
        return 0;
    lv_log(LV_LOG_WARN, "http: a daemon refused a connection: %s",
           strerror(errno));
    return -1; /* libmicrohttpd has closed the socket */
}

typedef struct srv_pool_spec {
    const char *name;
    int work, threads, queue, nice;
} srv_pool_spec;

/* The work classes of docs/ARCHITECTURE.md "HTTP work classes".  Password
 * hashing and key generation run at a lower priority: under a login flood
 * the I/O threads, which serve OCSP and CRLs, still get the CPU first. */
static int srv_pools(lv_http_server *s, lv_err *err)
{
    const lv_config *c = lv_app_config(s->app);
    unsigned cpus = srv_cpus();
    srv_pool_spec spec[] = {
        {"api", LV_WORK_API,
         c->http_api_threads ? c->http_api_threads : (int)(2 * cpus),
         c->http_api_queue, 0},
        {"password", LV_WORK_PASSWORD,
         c->http_password_threads ? c->http_password_threads
                                  : (int)(cpus > 1 ? cpus / 2 : 1),
         c->http_password_queue, 10},
        {"sign", LV_WORK_SIGN,
         c->http_sign_threads ? c->http_sign_threads : (int)cpus,
         c->http_sign_queue, 0},
        {"keygen", LV_WORK_KEYGEN, c->http_keygen_threads, c->http_keygen_queue,
         10},
    };
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        int threads = spec[i].threads > 0 ? spec[i].threads : 1;
        LV_TRY(lv_pool_new(spec[i].name, (unsigned)threads,
                           (unsigned)spec[i].queue, spec[i].nice,
                           &s->pools[spec[i].work], err));
    }
    return 0;
}

static int srv_listen(lv_http_server *s, srv_listener *l, int port, lv_err *err)
{
    const lv_config *cfg = lv_app_config(s->app);
    struct sockaddr_storage ss = {0};
    LV_TRY(srv_resolve(cfg, port, &ss, err));
    unsigned want = srv_threads(cfg);
    if (want > SRV_MAX_LISTENERS)
        want = SRV_MAX_LISTENERS;
    l->server = s;
    LV_TRY(http_gate_start(cfg, &ss, l->tls, srv_handoff, l, &l->gate, err));
    unsigned max_conns = http_gate_max_connections(l->gate);
    while (l->ndaemons < want) {
        struct MHD_Daemon *d = srv_start_one(l, max_conns);
        if (!d)
            return lv_fail(err, LV_EIO, "cannot start an %s worker",
                           l->tls ? "HTTPS" : "HTTP");
        l->daemons[l->ndaemons++] = d;
    }
    l->port = http_gate_port(l->gate);
    return 0;
}

/* issue 17 item 4: https beside http when a certificate is configured. */
static int srv_listen_all(lv_http_server *s, lv_err *err)
{
    const lv_config *cfg = lv_app_config(s->app);
    LV_TRY(srv_listen(s, &s->plain, cfg->listen_port, err));
    if (!cfg->tls_cert_file[0])
        return 0;
    LV_TRY(http_tls_load(cfg, lv_app_ca(s->app), &s->tls, err));
    s->https.tls = 1;
    return srv_listen(s, &s->https, cfg->tls_port, err);
}

int http_server_start(lv_app *app, const lv_http_route *const *tables,
                      lv_http_server **out, lv_err *err)
{
    *out = NULL;
    lv_http_server *s = calloc(1, sizeof *s);
    if (!s)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    s->app = app;
    snprintf(s->oom_body, sizeof s->oom_body,
             "{\"error\":\"%s\",\"message\":\"out of memory\"}",
             lv_err_name(LV_ENOMEM));
    int rc;
    LV_TRY_GOTO(rc, routes_compile(s, tables, err), fail);
    LV_TRY_GOTO(rc, srv_pools(s, err), fail);
    LV_TRY_GOTO(rc, srv_listen_all(s, err), fail);
    *out = s;
    return 0;
fail:
    http_server_stop(s);
    return rc;
}

uint16_t http_server_port(const lv_http_server *s)
{
    return s->plain.port;
}

uint16_t http_server_tls_port(const lv_http_server *s)
{
    return s->https.gate ? s->https.port : 0;
}

static void srv_listener_stop(srv_listener *l)
{
    for (unsigned i = 0; i < l->ndaemons; i++)
        MHD_stop_daemon(l->daemons[i]);
    http_gate_free(l->gate);
}

/* Order matters: no new connections (gate), then every queued handler runs
 * and resumes its connection (pools), then the daemons close what is left
 * (their CLOSED notifications still reach the gate's registry). */
void http_server_stop(lv_http_server *s)
{
    if (!s)
        return;
    http_gate_close(s->plain.gate);
    http_gate_close(s->https.gate);
    for (int i = 0; i < LV_WORK_COUNT; i++)
        lv_pool_free(s->pools[i]);
    srv_listener_stop(&s->plain);
    srv_listener_stop(&s->https);
    http_tls_free(s->tls);
    free(s->routes);
    free(s);
}
