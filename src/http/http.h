/* http/ — the HTTP front end: a libmicrohttpd server, a table-driven router
 * and one handler file per API (http_repo.c serves /ca, later /crl, /ocsp,
 * /tsa, /api/v1, /csc/v2 ...).
 *
 * Handlers see only lv_http_req / lv_http_resp and the lv_app context; they
 * never touch libmicrohttpd.  Every error answer is JSON
 * {"error": lv_err_name(code), "message": "..."} with the status of
 * lv_err_http_status(code) (DESIGN.md "C conventions").
 *
 * Data flows one way (DESIGN.md): handlers call ra/, auth/, sign/, ca/; they
 * never open the database or a key by themselves: the store comes from
 * lv_app_store, the key store only ever travels inside ca/ or sign/. */
#ifndef LLAVE_HTTP_H
#define LLAVE_HTTP_H

#include "auth/auth.h"
#include "ca/ca.h"
#include "core/core.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* ---- application context ------------------------------------------------
 * Shared by every worker thread; read-only once the server runs, except for
 * the per-thread stores. */
typedef struct lv_app lv_app;

/* Copies cfg.  The stores are opened at DIR/llave.db (cfg->dir).  Keys are
 * reached only through the CA context, which asks llave-keyd (issue 12). */
int lv_app_new(const lv_config *cfg, lv_app **out, lv_err *err);
/* Sets the CA (borrowed; may stay NULL).  Call before http_server_start. */
void lv_app_set_ca(lv_app *app, lv_ca *ca);
/* Sets the auth context (borrowed; may stay NULL: then every route that
 * needs a session answers 503).  Call before http_server_start. */
void lv_app_set_auth(lv_app *app, lv_auth *auth);
/* Closes every store still open.  Call after http_server_stop. */
void lv_app_free(lv_app *app);

const lv_config *lv_app_config(const lv_app *app);
lv_ca *lv_app_ca(const lv_app *app);             /* NULL when not loaded */
lv_auth *lv_app_auth(const lv_app *app);         /* NULL when not set */
int lv_app_sealed(const lv_app *app);
const char *lv_app_store_location(const lv_app *app);

/* The calling thread's own store, opened (and migrated) on first use and
 * closed when the thread exits: a SQLite connection must not be shared by
 * threads, and one per worker avoids a global lock on the hot path.  The
 * store is valid for the rest of the thread's life; never close it. */
int lv_app_store(lv_app *app, lv_store **st, lv_err *err);

/* ---- requests ----------------------------------------------------------- */
#define LV_HTTP_BODY_DEFAULT ((size_t)64 * 1024) /* per-route limit when 0 */
#define LV_HTTP_PARAM_MAX 128                    /* longest {name} segment */

typedef struct lv_http_req {
    const char *method;        /* "GET", "POST", ... ("HEAD" runs GET) */
    const char *path;          /* decoded path, query string removed */
    const char *param;         /* the {name} segment ({name*}: the rest of
                                  the path); "" when none */
    const unsigned char *body; /* NUL-terminated (not counted); NULL if none */
    size_t body_len;
    const char *remote_addr; /* numeric IPv4 / IPv6 address */
    int in_pool;             /* 1: running on a worker pool's thread */
    void *impl_;             /* private to the server */
} lv_http_req;

/* Query argument or request header (case-insensitive name); NULL if absent. */
const char *http_req_query(const lv_http_req *req, const char *name);
const char *http_req_header(const lv_http_req *req, const char *name);

/* ---- responses ---------------------------------------------------------- */
#define LV_HTTP_MAX_HEADERS 8

typedef struct lv_http_header {
    char name[48];
    char value[208];
} lv_http_header;

typedef struct lv_http_resp {
    int status; /* 0 until a helper below fills the response */
    char content_type[80];
    lv_buf body;             /* owned copy */
    const void *body_static; /* or borrowed bytes, see http_resp_static */
    size_t body_static_len;
    lv_http_header headers[LV_HTTP_MAX_HEADERS]; /* Cache-Control, ETag .. */
    size_t nheaders;
    int defer; /* see http_defer; 0: none */
} lv_http_resp;

/* For an LV_WORK_INLINE handler that finds the answer is not ready (an OCSP
 * response that must be signed): asks the server to run the handler again
 * on the pool of `work`, with req->in_pool set.  Returns 0; the handler
 * returns that at once. */
int http_defer(lv_http_resp *r, int work);

/* All helpers return 0 or a negative LV_E code, so that a handler can end
 * with `return http_resp_err(resp, &err);`. */

/* Adds a header; LV_EINVAL for CR/LF (header injection) or overlong text,
 * LV_ETOOBIG when the table is full. */
int http_resp_header(lv_http_resp *r, const char *name, const char *value);
/* Copies len bytes as the body. */
int http_resp_bytes(lv_http_resp *r, int status, const char *content_type,
                    const void *data, size_t len);
/* Serves bytes without copying; they must outlive the server (for example
 * the DER that ca_cert_der caches in the CA context). */
int http_resp_static(lv_http_resp *r, int status, const char *content_type,
                     const void *data, size_t len);
/* application/json, compact. */
int http_resp_json(lv_http_resp *r, int status, const json_t *json);
/* JSON error for an LV_E code; the status is lv_err_http_status(code).
 * Replaces anything the response held. */
int http_resp_error(lv_http_resp *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int http_resp_err(lv_http_resp *r, const lv_err *err);

/* ---- routes -------------------------------------------------------------
 * A pattern is an exact path ("/healthz") or a prefix, one {name} segment
 * and an optional fixed tail ("/ca/{name}.crt", "/api/v1/tx/{id}").  The
 * segment is never empty and never holds '/'.  A final {name*} instead takes
 * the whole non-empty rest of the path, '/' included and without the
 * LV_HTTP_PARAM_MAX cap ("/ocsp/{request*}", RFC 6960 A.1).  Exact paths win
 * over patterns; otherwise the first match in table order wins. */
struct lv_http_route;
typedef int (*lv_http_handler)(lv_app *app, const lv_http_req *req,
                               lv_http_resp *resp);
/* A handler returns 0 once resp is filled.  A negative LV_E code makes the
 * server answer with that code's JSON error instead (the message is generic;
 * use http_resp_error for a useful one). */

/* Where a route's handler runs (issue 11: expensive work never runs on the
 * I/O threads).  LV_WORK_API, the default, is a bounded pool for ordinary
 * database work; LV_WORK_INLINE runs on the I/O thread and is only for
 * answers that are ready (pre-signed OCSP, CRLs, CA certificates, static
 * files, /healthz); the others are pools per class of expensive work.  A
 * full queue answers 503 with Retry-After at once (see docs/ARCHITECTURE.md
 * "HTTP work classes"). */
typedef enum lv_http_work {
    LV_WORK_API = 0,  /* database reads and writes */
    LV_WORK_INLINE,   /* ready answers, on the I/O thread */
    LV_WORK_PASSWORD, /* Argon2id: logins, activation, password change */
    LV_WORK_SIGN,     /* private-key operations: TSA, signHash, signDoc */
    LV_WORK_KEYGEN,   /* key generation: certificate issuance */
    LV_WORK_COUNT
} lv_http_work;

typedef struct lv_http_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* see above */
    lv_http_handler handler;
    size_t max_body; /* request body limit in bytes; 0: LV_HTTP_BODY_DEFAULT */
    lv_http_work work; /* where the handler runs; 0: LV_WORK_API */
} lv_http_route;

/* A route table ends with an entry whose method is NULL.  A table list is a
 * NULL-terminated array of tables. */
const lv_http_route *const *http_api_tables(void); /* every API of llaved */

/* ---- server -------------------------------------------------------------- */
typedef struct lv_http_server lv_http_server;

/* Starts listening on cfg.listen_addr (127.0.0.1 when empty) and
 * cfg.listen_port (0: any free port) with a pool of cfg.threads workers
 * (0: one per CPU).  Requests are served on the pool's threads until
 * http_server_stop. */
int http_server_start(lv_app *app, const lv_http_route *const *tables,
                      lv_http_server **out, lv_err *err);
uint16_t http_server_port(const lv_http_server *s); /* the bound port */
/* Stops accepting, waits for the workers (their stores close as they exit)
 * and frees the server.  NULL is accepted. */
void http_server_stop(lv_http_server *s);

#endif
