/* http/ — the HTTP front end: a libmicrohttpd server, a table-driven router
 * and one handler file per API (http_repo.c serves /ca, later /crl, /ocsp,
 * /tsa, /api/v1, /csc/v2 ...).
 *
 * Handlers see only lv_http_req / lv_http_resp and the lv_app context; they
 * never touch libmicrohttpd.  Every error answer is JSON
 * {"error": lv_err_name(code), "message": "..."} with the status of
 * lv_err_http_status(code) (DESIGN.md "C conventions").
 *
 * A route declares who may call it and what it sends (lv_http_route.auth,
 * .body): the server authenticates the caller and reads the body before
 * the handler runs, and hands it the result in lv_http_req (issue 12 item
 * 7).
 *
 * Data flows one way (DESIGN.md): handlers call ra/, auth/, sign/, ca/; they
 * never open the database or a key by themselves: the server hands them the
 * thread's store (lv_http_req.st) to pass on, the key store only ever
 * travels inside ca/ or sign/.  http/ includes no store/ or keys/ header
 * (issue 12 item 3). */
#ifndef LLAVE_HTTP_H
#define LLAVE_HTTP_H

#include "auth/auth.h"
#include "ca/ca.h"
#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

/* ---- application context ------------------------------------------------
 * Shared by every worker thread; read-only once the server runs, except for
 * the per-thread stores. */
typedef struct lv_app lv_app;

/* Copies cfg.  The stores are opened at DIR/llave.db (cfg->dir).  Keys are
 * reached only through the CA context, which asks llave-keyd (issue 12). */
int lv_app_new(const lv_config *cfg, lv_app **out, lv_err *err) LV_MUST_USE;
/* Sets the CA (borrowed; may stay NULL).  Call before http_server_start. */
void lv_app_set_ca(lv_app *app, lv_ca *ca);
/* Sets the auth context (borrowed; may stay NULL: then every route that
 * needs a session answers 503).  Call before http_server_start. */
void lv_app_set_auth(lv_app *app, lv_auth *auth);
/* Closes every store still open.  Call after http_server_stop. */
void lv_app_free(lv_app *app);

const lv_config *lv_app_config(const lv_app *app);
lv_ca *lv_app_ca(const lv_app *app);     /* NULL when not loaded */
lv_auth *lv_app_auth(const lv_app *app); /* NULL when not set */
int lv_app_sealed(const lv_app *app);
const char *lv_app_store_location(const lv_app *app);

/* The calling thread's own store, opened (and migrated) on first use and
 * closed when the thread exits: a SQLite connection must not be shared by
 * threads, and one per worker avoids a global lock on the hot path.  The
 * store is valid for the rest of the thread's life; never close it. */
int lv_app_store(lv_app *app, lv_store **st, lv_err *err) LV_MUST_USE;
/* The same for an I/O thread's ready answers (OCSP, CRL, repository):
 * a connection of its own that reads through a memory map (R10.1; see
 * store_front_open for why the pools' connections do not). */
int lv_app_ready_store(lv_app *app, lv_store **st, lv_err *err) LV_MUST_USE;

/* ---- requests ----------------------------------------------------------- */
#define LV_HTTP_BODY_DEFAULT ((size_t)64 * 1024) /* per-route limit when 0 */
#define LV_HTTP_PARAM_MAX 128                    /* longest {name} segment */

struct lv_sign_app;

typedef struct lv_http_req {
    const char *method;        /* "GET", "POST", ... ("HEAD" runs GET) */
    const char *path;          /* decoded path, query string removed */
    const char *param;         /* the {name} segment ({name*}: the rest of
                                  the path); "" when none */
    const unsigned char *body; /* NUL-terminated (not counted); NULL if none */
    size_t body_len;
    const char *remote_addr; /* numeric IPv4 / IPv6 address */
    int https;               /* 1: came over llaved's own https */
    /* https: the client's certificates, leaf first (none: npeer 0); only
     * presented, not yet judged (ca_client_cert_check) */
    const unsigned char *const *peer_der;
    const size_t *peer_len;
    int npeer;
    int in_pool; /* 1: running on a worker pool's thread */
    /* Filled by the server before the handler runs (lv_http_route.auth and
     * .body): */
    lv_store *st;     /* the thread's store (lv_app_store), to pass on */
    lv_principal who; /* a session's caller; zero for other routes */
    const struct lv_sign_app *client; /* LV_HTTP_AUTH_APP: the
                                             application; NULL otherwise */
    json_t *json; /* LV_HTTP_BODY_JSON: the body, checked against the
                     route's schema; owned by the server; NULL otherwise */
    void *impl_;  /* private to the server */
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
    /* the request being answered, while its handler runs: an error answer
     * speaks the language it names (issue 15 item 1) */
    const struct lv_http_req *req;
} lv_http_resp;

/* For an LV_WORK_INLINE handler that finds the answer is not ready (an OCSP
 * response that must be signed): asks the server to run the handler again
 * on the pool of `work`, with req->in_pool set.  Returns 0; the handler
 * returns that at once. */
int http_defer(lv_http_resp *r, int work) LV_MUST_USE;

/* All helpers return 0 or a negative LV_E code, so that a handler can end
 * with `return http_resp_err(resp, &err);`. */

/* Adds a header; LV_EINVAL for CR/LF (header injection) or overlong text,
 * LV_ETOOBIG when the table is full. */
int http_resp_header(lv_http_resp *r, const char *name,
                     const char *value) LV_MUST_USE;
/* Copies len bytes as the body. */
int http_resp_bytes(lv_http_resp *r, int status, const char *content_type,
                    const void *data, size_t len) LV_MUST_USE;
/* Serves bytes without copying; they must outlive the server (for example
 * the DER that ca_cert_der caches in the CA context). */
int http_resp_static(lv_http_resp *r, int status, const char *content_type,
                     const void *data, size_t len) LV_MUST_USE;
/* application/json, compact. */
int http_resp_json(lv_http_resp *r, int status, const json_t *json) LV_MUST_USE;
/* http_resp_json of o, a new reference that this consumes (NULL, as from a
 * failed json_pack: LV_ENOMEM), with Cache-Control: cache_control
 * ("no-store" for whatever concerns one caller or one moment). */
int http_resp_json_new(lv_http_resp *r, int status, json_t *o,
                       const char *cache_control) LV_MUST_USE;
/* JSON error for an LV_E code; the status is lv_err_http_status(code).
 * Replaces anything the response held. */
int http_resp_error(lv_http_resp *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4))) LV_MUST_USE;
int http_resp_err(lv_http_resp *r, const lv_err *err) LV_MUST_USE;

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

/* Who may call a route (issue 12 item 7).  The server checks it on the
 * thread that runs the handler, before the body is read, so that an
 * anonymous caller learns nothing from the body's faults; a refusal never
 * reaches the handler. */
typedef enum lv_http_auth_kind {
    LV_HTTP_AUTH_NONE = 0, /* anyone: public data, OCSP, TSA */
    LV_HTTP_AUTH_LOGIN,    /* anyone, whose credentials are the request
                              (logins, activation): needs the auth context,
                              503 without it */
    LV_HTTP_AUTH_SESSION,  /* a bearer session (RFC 6750 §2.1) holding one
                              of .roles (0: any session; LV_ROLE_CITIZEN: a
                              citizen's); 401 with WWW-Authenticate, 403,
                              503 without the auth context */
    LV_HTTP_AUTH_APP,      /* a relying application: HTTP Basic (RFC 7617)
                              with its client id and secret; 401 with
                              WWW-Authenticate */
} lv_http_auth_kind;

/* lv_http_auth.flags */
enum {
    /* A CSC route (CSC API v2.0.0.2 §8: service calls carry the bearer
     * access token of auth/login): the server's refusals and body faults
     * use the specification's error shape {"error", "error_description"}
     * (invalid_token 401, access_denied 403, invalid_request 400,
     * temporarily_unavailable 503). */
    LV_HTTP_AUTH_CSC = 1u << 0,
    /* A citizen's session may name only its own citizen id in {id}
     * (operators pass on their roles); another's is 403, audited. */
    LV_HTTP_AUTH_OWN_ID = 1u << 1,
    /* The citizen portal (issue 15 item 4): the session token comes from
     * the llave_portal cookie (HttpOnly, SameSite=Strict), never from an
     * Authorization header, and every method but GET must also carry
     * X-CSRF-Token, the value the login answered (403 csrf otherwise). */
    LV_HTTP_AUTH_PORTAL = 1u << 2,
};

typedef struct lv_http_auth {
    lv_http_auth_kind kind;
    unsigned roles; /* LV_HTTP_AUTH_SESSION: see above */
    unsigned flags; /* LV_HTTP_AUTH_CSC | _OWN_ID | _PORTAL */
} lv_http_auth;

/* What a route takes as its body.  The server reads it once, after the
 * caller is authenticated, and refuses it before the handler runs. */
typedef enum lv_http_body_kind {
    LV_HTTP_BODY_NONE = 0, /* not read: a body sent anyway is ignored */
    LV_HTTP_BODY_JSON,     /* a JSON object checked against .schema
                              (http_body.c): 400 invalid_request, then
                              lv_http_req.json */
    LV_HTTP_BODY_RAW,      /* bytes, in lv_http_req.body; with .media_type
                              set, a request of another Content-Type is 415
                              with .refusal as its message */
} lv_http_body_kind;

struct http_body_field;

typedef struct lv_http_body {
    lv_http_body_kind kind;
    const struct http_body_field *schema; /* LV_HTTP_BODY_JSON */
    const char *media_type;               /* LV_HTTP_BODY_RAW; NULL: any */
    const char *refusal;                  /* the 415's message */
} lv_http_body;

typedef struct lv_http_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* see above */
    lv_http_handler handler;
    size_t max_body; /* request body limit in bytes; 0: LV_HTTP_BODY_DEFAULT */
    lv_http_work work; /* where the handler runs; 0: LV_WORK_API */
    lv_http_auth auth; /* who may call it; LV_WORK_INLINE: only NONE */
    lv_http_body body; /* what it sends */
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
                      lv_http_server **out, lv_err *err) LV_MUST_USE;
uint16_t http_server_port(const lv_http_server *s); /* the bound port */
/* The https port (cfg.tls_port, 0: any), 0 when https is not configured. */
uint16_t http_server_tls_port(const lv_http_server *s);
/* Stops accepting, waits for the workers (their stores close as they exit)
 * and frees the server.  NULL is accepted. */
void http_server_stop(lv_http_server *s);

#endif
