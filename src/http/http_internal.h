/* Private to http/: the route tables of each API file and helpers shared by
 * the server and the handlers. */
#ifndef LLAVE_HTTP_INTERNAL_H
#define LLAVE_HTTP_INTERNAL_H

#include "http/http.h"
#include "sign/sign.h"

/* One table per API file (DESIGN.md: one handler file per API). */
extern const lv_http_route http_health_routes[];  /* http_health.c */
extern const lv_http_route http_audit_routes[];   /* http_audit.c */
extern const lv_http_route http_unseal_routes[];  /* http_unseal.c */
extern const lv_http_route http_repo_routes[];    /* http_repo.c */
extern const lv_http_route http_auth_routes[];    /* http_auth.c */
extern const lv_http_route http_tsa_routes[];     /* http_tsa.c */
extern const lv_http_route http_ocsp_routes[];    /* http_ocsp.c */
extern const lv_http_route http_crl_routes[];     /* http_crl.c */
extern const lv_http_route http_ra_routes[];      /* http_ra.c */
extern const lv_http_route http_clave_routes[];   /* http_clave.c */
extern const lv_http_route http_csc_routes[];     /* http_csc.c */
extern const lv_http_route http_oauth_routes[];   /* http_oauth.c */
extern const lv_http_route http_web_routes[];     /* http_web.c */
extern const lv_http_route http_site_routes[];    /* http_site.c */
extern const lv_http_route http_console_routes[]; /* http_console.c */
extern const lv_http_route http_portal_routes[];  /* http_portal.c */

/* GET /ocsp/{request*} (RFC 6960 A.1): the DER request from the path tail
 * (base64, URL-encoded; base64url and missing padding tolerated).  Caller
 * frees *der; LV_EINVAL when it is not base64, LV_ETOOBIG past the limit.
 * fuzz/fuzz_url_b64.c drives it. */
int http_ocsp_path_decode(const char *tail, unsigned char **der, size_t *len);

/* JSON error with an explicit status, for the router's own answers whose
 * status no LV_E code maps to (405). */
/* An error answer {"error": name, "message": ...} (never cached).  When
 * the request names a language (?lang=, the llave_lang cookie,
 * Accept-Language) and the catalogue has api.error.<name>, "message" is
 * that text and "detail" carries msg (issue 15 item 1); otherwise
 * "message" is msg, as before. */
int http_resp_refusal(lv_http_resp *r, int status, const char *name,
                      const char *msg) LV_MUST_USE;
int http_resp_error_status(lv_http_resp *r, int status, int code,
                           const char *msg);

/* The CSC API's error object {"error": error, "error_description": desc},
 * as every CSC method answers its errors, never cached; a 401 names the
 * scheme, WWW-Authenticate: Bearer realm="csc" (RFC 6750 §3). */
int http_resp_csc_error(lv_http_resp *r, int status, const char *error,
                        const char *desc);

/* lv_http_route.max_body of POST /api/v1/transactions, whose PDFs make
 * its limit a setting (issue 14 item 4): http_sign_tx_body_limit
 * (http_clave.c) gives it from sign_max_tx_kib, and the server applies
 * it to Content-Length and the bytes received, before any parsing. */
#define LV_HTTP_BODY_SIGN_TX ((size_t)-1)
size_t http_sign_tx_body_limit(const lv_config *cfg);

/* ---- who is calling (http_access.c) ---------------------------------------
 * The server runs http_access_begin for every request, on the thread that
 * runs the handler (a pool's, for every route but LV_WORK_INLINE ones, as
 * an auth check reads the database): it authenticates the caller as the
 * route's auth declares, then reads the body as its body declares, and
 * fills req->st, req->who, req->client and req->json.  It returns 0 when the
 * handler may run, 1 when resp holds the refusal (401, 403, 415, 400,
 * 503 ...), or a negative code when not even that could be built.
 * http_access_end releases what begin took, whatever it returned. */
typedef struct http_access {
    lv_sign_app client; /* LV_HTTP_AUTH_APP: req->client points here */
} http_access;

int http_access_begin(lv_app *app, const lv_http_route *route, lv_http_req *req,
                      http_access *acc, lv_http_resp *resp);
void http_access_end(lv_http_req *req, http_access *acc);

/* "Authorization: Bearer <token>" (RFC 6750 §2.1; the scheme is
 * case-insensitive, RFC 9110 §11.1): the token, or NULL when the header is
 * absent or names another scheme.  The one Bearer parser of http/; pure, so
 * that a fuzz target can drive it. */
const char *http_bearer_token(const char *authorization);
/* http_bearer_token of the request's Authorization header. */
const char *http_req_bearer(const lv_http_req *req);
/* The value of cookie `name` in the request's Cookie header (RFC 6265
 * §5.4), copied into out; NULL when absent or longer than cap - 1. */
const char *http_req_cookie(const lv_http_req *req, const char *name, char *out,
                            size_t cap);
/* The portal (LV_HTTP_AUTH_PORTAL): its session cookie's name, and the
 * CSRF token of a session token, SHA-256("llave portal csrf" || token) in
 * hex: a page that can read it (same origin) sends it back in
 * X-CSRF-Token; a cross-site form can neither read nor derive it. */
#define HTTP_PORTAL_COOKIE "llave_portal"
int http_portal_csrf(const char *token, char out[65]);

/* "Authorization: Basic <base64(user:password)>" (RFC 7617 §2), decoded by
 * libmicrohttpd (http_server.c).  Copies both into the caller's buffers;
 * LV_EAUTH when the header is absent or malformed, or a part does not fit.
 * The caller wipes pass. */
int http_req_basic(const lv_http_req *req, char *user, size_t ucap, char *pass,
                   size_t pcap);

/* ---- route declarations ----------------------------------------------------
 * The auth and body members of a route table's rows (lv_http_route):
 *     {"POST", "/api/v1/ra/citizens", citizen_add, 0, LV_WORK_API,
 *      HTTP_SESSION(LV_ROLE_RA_OFFICER), HTTP_JSON(REGISTRATION)}, */
#define HTTP_PUBLIC                                                            \
    {                                                                          \
        LV_HTTP_AUTH_NONE, 0, 0                                                \
    }
#define HTTP_LOGIN                                                             \
    {                                                                          \
        LV_HTTP_AUTH_LOGIN, 0, 0                                               \
    }
#define HTTP_SESSION(roles)                                                    \
    {                                                                          \
        LV_HTTP_AUTH_SESSION, (roles), 0                                       \
    }
#define HTTP_CITIZEN HTTP_SESSION(LV_ROLE_CITIZEN)
/* a session of roles; a citizen's only for their own {id} */
#define HTTP_OWN_ID(roles)                                                     \
    {                                                                          \
        LV_HTTP_AUTH_SESSION, (roles), LV_HTTP_AUTH_OWN_ID                     \
    }
/* the citizen portal: a portal session's cookie (password + SMS code) */
#define HTTP_PORTAL                                                            \
    {                                                                          \
        LV_HTTP_AUTH_SESSION, LV_ROLE_PORTAL, LV_HTTP_AUTH_PORTAL              \
    }
#define HTTP_APP                                                               \
    {                                                                          \
        LV_HTTP_AUTH_APP, 0, 0                                                 \
    }
/* CSC: info (no caller), auth/login (credentials in the request), and the
 * rest (a citizen's access token) */
#define HTTP_CSC_PUBLIC                                                        \
    {                                                                          \
        LV_HTTP_AUTH_NONE, 0, LV_HTTP_AUTH_CSC                                 \
    }
#define HTTP_CSC_LOGIN                                                         \
    {                                                                          \
        LV_HTTP_AUTH_LOGIN, 0, LV_HTTP_AUTH_CSC                                \
    }
#define HTTP_CSC                                                               \
    {                                                                          \
        LV_HTTP_AUTH_SESSION, LV_ROLE_CITIZEN, LV_HTTP_AUTH_CSC                \
    }

#define HTTP_NO_BODY                                                           \
    {                                                                          \
        LV_HTTP_BODY_NONE, NULL, NULL, NULL                                    \
    }
/* The whole row of a GET anyone may send, answered on the listener's
 * thread: pages, their assets, published files. */
#define HTTP_GET_PUBLIC(pattern, handler)                                      \
    {                                                                          \
        "GET", (pattern), (handler), 0, LV_WORK_INLINE, HTTP_PUBLIC,           \
            HTTP_NO_BODY                                                       \
    }
#define HTTP_JSON(schema)                                                      \
    {                                                                          \
        LV_HTTP_BODY_JSON, (schema), NULL, NULL                                \
    }
/* no fields: an empty body or {} */
#define HTTP_EMPTY HTTP_JSON(http_body_none)
#define HTTP_RAW(media_type, refusal)                                          \
    {                                                                          \
        LV_HTTP_BODY_RAW, NULL, (media_type), (refusal)                        \
    }

/* ---- JSON request bodies (http_body.c) -----------------------------------
 * Every route that takes JSON declares the shape of its body as a table of
 * http_body_field (lv_http_route.body, HTTP_JSON) and the server reads it
 * with http_body_parse: one strict reader, so that malformed JSON, a top
 * level that is not an object, a missing required field, a value of the
 * wrong type and an unknown member are all refused the same way (400
 * invalid_request) before any handler logic runs (docs/API.md "Request
 * bodies"). */

/* JSON types a field accepts (a set: HTTP_STR | HTTP_NULL is "a string or
 * null").  HTTP_INT is an integer literal only (RFC 8259 §6: no fraction,
 * no exponent). */
enum {
    HTTP_STR = 1u << 0,
    HTTP_INT = 1u << 1,
    HTTP_BOOL = 1u << 2,
    HTTP_ARR = 1u << 3,
    HTTP_OBJ = 1u << 4,
    HTTP_NULL = 1u << 5,
};

/* Field flags. */
enum {
    HTTP_REQUIRED = 1u << 0, /* absent: 400 */
    HTTP_CHARS = 1u << 1,    /* max_len counts characters, not bytes */
    /* CSC v1 clients send booleans and numbers as strings ("true", "1"): a
     * string standing for a boolean or integer the field's types accept is
     * read as that value, any other string is refused (400) */
    HTTP_TEXT = 1u << 2,
};

typedef struct http_body_field {
    const char *name; /* NULL ends a table */
    unsigned types;   /* HTTP_STR | ... accepted for the value */
    unsigned flags;   /* HTTP_REQUIRED | HTTP_CHARS */
    size_t max_len;   /* strings, and string items of an array: the longest
                         allowed (bytes, or characters with HTTP_CHARS);
                         0: no limit but the route's body limit */
    unsigned items;   /* arrays: types accepted for every element */
    /* objects, and the object items of an array: their members (NULL: no
     * member is accepted) */
    const struct http_body_field *members;
} http_body_field;

/* Rows of a table.  Designated initializers name what a row sets (and keep
 * -Wmissing-field-initializers quiet); a table ends with {0}:
 *     HTTP_FIELD_REQ("login", HTTP_STR),
 *     HTTP_FIELD("comment", HTTP_STR | HTTP_NULL),
 *     {"documents", .types = HTTP_ARR, .flags = HTTP_REQUIRED,
 *      .items = HTTP_OBJ, .members = DOCUMENT},
 *     {0} */
#define HTTP_FIELD(n, t)                                                       \
    {                                                                          \
        (n), .types = (t)                                                      \
    }
#define HTTP_FIELD_REQ(n, t)                                                   \
    {                                                                          \
        (n), .types = (t), .flags = HTTP_REQUIRED                              \
    }

/* The schema of a body that has no fields: empty, or {}. */
extern const http_body_field http_body_none[];

/* Parses len bytes against schema: 0 with *out a JSON object (caller
 * decrefs), or LV_EINVAL with a message naming the fault in err.  An empty
 * body reads as {} (so it passes when no field is required).  Pure: the
 * fuzz target fuzz/fuzz_json_body.c and the unit tests drive it directly. */
int http_body_parse(const void *body, size_t len, const http_body_field *schema,
                    json_t **out, lv_err *err);

/* ---- the accept gate (http_gate.c, issue 11) ------------------------------
 * Owns the listening socket, enforces the connection limits and the head
 * deadline, and hands each connection whose request head is complete and
 * valid to handoff (which returns < 0 when it could not take it; the socket
 * is then already closed).  The server registers the connections
 * libmicrohttpd holds, so that the gate also enforces their body deadline
 * and the head deadline between keep-alive requests. */
struct sockaddr;
struct sockaddr_storage;
typedef struct http_gate http_gate;
typedef struct http_gate_conn http_gate_conn;
typedef int (*http_gate_handoff)(void *cls, int fd, const struct sockaddr *sa,
                                 unsigned addr_len);

enum {
    HTTP_PHASE_HEAD, /* waiting for a (next) request head: head deadline */
    HTTP_PHASE_BODY, /* head in, body arriving: body deadline */
    HTTP_PHASE_WORK  /* being answered: no deadline of the gate's */
};

typedef struct http_gate_counts {
    unsigned long connections, refused, dropped_slow, dropped_deadline,
        bad_heads;
} http_gate_counts;

/* tls: the port serves https; a connection is handed over once its first
 * TLS record is in. */
int http_gate_start(const lv_config *cfg, const struct sockaddr_storage *ss,
                    int tls, http_gate_handoff handoff, void *cls,
                    http_gate **out, lv_err *err)
    __attribute__((warn_unused_result));
uint16_t http_gate_port(const http_gate *g);
unsigned http_gate_max_connections(const http_gate *g);
/* Stops accepting and drops the heads still pending. */
void http_gate_close(http_gate *g);
/* After the daemons stopped (their CLOSED notifications use the gate). */
void http_gate_free(http_gate *g);
http_gate_conn *http_gate_conn_started(http_gate *g, int fd,
                                       const struct sockaddr *sa);
void http_gate_conn_phase(http_gate_conn *c, int phase);
/* c may be NULL (allocation failed at start): sa then names the source. */
void http_gate_conn_closed(http_gate *g, http_gate_conn *c,
                           const struct sockaddr *sa);
void http_gate_stats(http_gate *g, http_gate_counts *out);

/* Checks a request head (http_head.c): 0 while incomplete, 1 when complete
 * and valid (*head_len: its length, blank line included), 400 when it must
 * be refused (RFC 9112 §3, §5; RFC 9110 §8.6). */
int http_head_check(const char *buf, size_t len, size_t *head_len);
/* A raw request target: visible ASCII, no escape decoding to NUL, and in
 * the path none decoding to another control character. */
int http_target_ok(const char *target, size_t len);

/* Routing as the server does it (test hook for fuzz/fuzz_route.c): the
 * route path and method select in tables, with its {name} segment, or the
 * status (404, 405 with the Allow list) the server answers instead. */
typedef struct http_route_hit {
    const lv_http_route *route; /* NULL when refused */
    char param[LV_HTTP_PARAM_MAX + 1];
    int status; /* 0, 404 or 405 */
    char allow[64];
} http_route_hit;
/* ---- https (http_tls.c, issue 17 item 4) -----------------------------------
 * The server's certificate and key (PEM files of the configuration) and the
 * issuers whose client certificates are asked for: our own CAs and
 * cfg->tls_client_ca_file.  The key's copy is wiped when freed. */
typedef struct http_tls http_tls;
typedef struct http_tls_pem {
    const char *cert, *key, *trust;
} http_tls_pem;
/* TLS 1.2 and 1.3 only, no CBC suites, no RSA key exchange (BSI TR-02102-2,
 * CCN-STIC-807 for the Spanish public sector). */
#define HTTP_TLS_PRIORITIES                                                    \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-VERS-DTLS-ALL:-CIPHER-ALL:"   \
    "+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-RSA:%SERVER_PRECEDENCE"
int http_tls_load(const lv_config *cfg, const lv_ca *ca, http_tls **out,
                  lv_err *err) __attribute__((warn_unused_result));
void http_tls_pems(const http_tls *t, http_tls_pem *out);
void http_tls_free(http_tls *t);
/* The certificates a TLS client presented, leaf first, copied out of its
 * session (libmicrohttpd's GnuTLS session). */
#define HTTP_PEER_MAX 4
typedef struct http_peer {
    unsigned char *der[HTTP_PEER_MAX];
    size_t len[HTTP_PEER_MAX];
    int n;
} http_peer;
struct MHD_Connection;
int http_peer_copy(struct MHD_Connection *conn, http_peer *out);
void http_peer_free(http_peer *p);
/* 1: the table is served on plain http beside https (http_routes.c). */
int http_route_plain(const lv_http_route *table);

int http_route_lookup(const lv_http_route *const *tables, const char *path,
                      const char *method, http_route_hit *out, lv_err *err);

/* The CSC parameters of a signHash, authorize or signDoc body (test hook for
 * fuzz/fuzz_csc_params.c; http_csc.c): operationMode, numSignatures, the
 * hashes (v2 "hashes", v1 "hash"; base64 or base64url) laid end to end in
 * hashes with their algorithm *md (NULL when none), signAlgo, and the options
 * of each documents[] / documentDigests[] entry.  0, or the CSC refusal in
 * resp. */
int http_csc_params(json_t *body, int v2, lv_http_resp *resp, const EVP_MD **md,
                    lv_buf *hashes, int *num);

/* http_web.c: the compiled-in asset of web/ at path ("sign/index.html"),
 * NULL if none; and the answer with it and the headers every page that
 * authorizes signatures carries (no framing, scripts and styles from this
 * origin only, no referrer, no caching), 404 for NULL. */
struct lv_web_asset;
const struct lv_web_asset *http_web_asset(const char *path);
int http_web_serve(lv_http_resp *resp, const struct lv_web_asset *a);
/* 301 to a page's own address ("/console" to "/console/"). */
int http_web_redirect(lv_http_resp *resp, const char *location);
/* The handlers of a one-page application at /<dir>/ (console, portal):
 * GET /<dir>/ serves the asset <dir>/index.html, GET /<dir> redirects to
 * /<dir>/ (the address the links use). */
int http_web_dir_page(lv_app *app, const lv_http_req *req, lv_http_resp *resp);
int http_web_dir_redirect(lv_app *app, const lv_http_req *req,
                          lv_http_resp *resp);

/* http_clave.c: a refusal of sign/ with its own error name (R5.6:
 * "certificate_blocked", "no_certificate" ...) when why says one, else the
 * error of err. */
int http_sign_error(lv_http_resp *resp, int rc, lv_sign_refusal why,
                    const lv_err *err);

/* http_auth.c: R3.2 for user_id, with {password, new_password} of the
 * request's body: {"changed": true}, or the refusal (the password change
 * of POST /api/v1/auth/password and of the citizen portal). */
int http_password_change(lv_app *app, const lv_http_req *req,
                         lv_http_resp *resp, const char *user_id);
/* The handler of every GET /web/<dir>/{file} route: the asset
 * <dir>/{file}, the path after /web/.  The lookup is an exact match in
 * the asset table, so "../" names nothing. */
int http_web_asset_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp);
/* GET /<page>/{id}, a page that reads the id (32 hex) from its own URL:
 * the asset `page`, or 404 with `unknown` for any other id. */
int http_web_id_page(const lv_http_req *req, lv_http_resp *resp,
                     const char *page, const char *unknown);

/* http_i18n.c (issue 15 item 1): the language of a request (`?lang=`, the
 * llave_lang cookie, Accept-Language, Spanish), *chosen set when `?lang=`
 * picked it; the text of key in lang from web/i18n/<lang>.json (Spanish,
 * then the key itself, when missing); the languages there are; Vary and,
 * for a choice, the cookie that keeps it. */
const char *http_lang(const lv_http_req *req, int *chosen);
/* The language the request itself names (?lang=, cookie, Accept-Language),
 * or NULL when it names none we have. */
const char *http_lang_named(const lv_http_req *req);
const char *http_text(const char *lang, const char *key);
size_t http_langs(const char **codes, size_t cap);
int http_lang_headers(lv_http_resp *resp, const char *lang, int chosen);
/* What the signing component needs of a request: the service's contexts,
 * the caller's address and language. */
lv_sign_env http_sign_env(lv_app *app, const lv_http_req *req);

/* http_site.c: the public pages' shell (header, navigation, language
 * switch, footer) around what a handler writes between begin and send;
 * here is the page's path, marked current in the navigation.  send frees
 * b.  http_html_text escapes text for an element or a quoted attribute. */
void http_html_text(lv_buf *b, const char *s);
void http_site_begin(lv_buf *b, const char *lang, const char *provider,
                     const char *title, const char *here);
/* The page's <h1> and its lead paragraph. */
void http_site_heading(lv_buf *b, const char *title, const char *lead);
int http_site_send(lv_http_resp *resp, lv_buf *b, const char *lang,
                   const char *provider, int chosen);

#endif
