/* core/ — errors, logging, buffers, encodings, time, randomness and the
 * configuration shared by every other llave component.  Depends only on libc,
 * OpenSSL and jansson (DESIGN.md "Components"). */
#ifndef LLAVE_CORE_H
#define LLAVE_CORE_H

#include <jansson.h>
#include <openssl/types.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- errors ------------------------------------------------------------
 * Every fallible function returns 0 or a negative LV_E code and fills an
 * optional lv_err with a message a human can act on.  HTTP maps the code to a
 * status (see lv_err_http_status). */
enum {
    LV_OK = 0,
    LV_EINVAL = -1,     /* bad input from the caller: 400 */
    LV_ENOTFOUND = -2,  /* 404 */
    LV_EEXISTS = -3,    /* uniqueness or state conflict: 409 */
    LV_EPERM = -4,      /* not allowed for this actor: 403 */
    LV_EAUTH = -5,      /* authentication failed: 401 */
    LV_ESTATE = -6,     /* operation not valid in current state: 409 */
    LV_ECRYPTO = -7,    /* cryptographic failure: 500 */
    LV_ESTORE = -8,     /* database failure: 500 */
    LV_EIO = -9,        /* file system failure: 500 */
    LV_ENOMEM = -10,    /* 500 */
    LV_ESEALED = -11,   /* key store not opened (needs 2 of 3 shares): 503 */
    LV_ETOOBIG = -12,   /* 413 */
    LV_EINTERNAL = -13, /* a bug: 500 */
    LV_ELIMIT = -14,    /* rate limit or throttle reached: 429 + Retry-After */
    LV_EBUSY = -15,     /* work queue full, key service down: 503 +
                           Retry-After */
};

#define LV_ERR_MSG_MAX 256

/* On a function returning an LV_E code: ignoring its result is a compile
 * error (-Werror; issue 12 item 6).  GCC does not let a (void) cast silence
 * warn_unused_result, so a result ignored on purpose (a best-effort audit
 * of a refusal that stands anyway, a cleanup on an error path) goes through
 * lv_ignore(), next to a comment that says why. */
#define LV_MUST_USE __attribute__((warn_unused_result))
static inline void lv_ignore(int rc)
{
    (void)rc;
}

/* A connection to the storage authority (store/).  Opaque everywhere but
 * store/: components take one from their caller and pass it on; only the
 * owner of a table reads or writes its rows (store/store_*.h). */
typedef struct lv_store lv_store;

typedef struct lv_err {
    int code;
    char msg[LV_ERR_MSG_MAX];
    /* Seconds after which a retry may succeed (LV_ELIMIT, LV_EBUSY); 0 when
     * unknown.  HTTP sends it as Retry-After (RFC 9110 §10.2.3). */
    int retry_after;
} lv_err;

/* Like lv_fail for LV_ELIMIT / LV_EBUSY, recording retry_after seconds. */
int lv_fail_retry(lv_err *err, int code, int retry_after, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records code and message in err (if not NULL) and returns code, so that a
 * failure reads `return lv_fail(err, LV_EINVAL, "bad %s", what);`. */
int lv_fail_record(lv_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like lv_fail, appending the first queued OpenSSL error reason. */
int lv_fail_ssl_record(lv_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For static analysers the macros make the returned value (always `code`)
 * visible at the call site, so they know a failure path returns < 0. */
#ifdef __clang_analyzer__
#define lv_fail(err, code, ...)                                                \
    ({                                                                         \
        lv_fail_record((err), (code), __VA_ARGS__);                            \
        (code);                                                                \
    })
#define lv_fail_ssl(err, code, ...)                                            \
    ({                                                                         \
        lv_fail_ssl_record((err), (code), __VA_ARGS__);                        \
        (code);                                                                \
    })
#else
#define lv_fail lv_fail_record
#define lv_fail_ssl lv_fail_ssl_record
#endif
const char *lv_err_name(int code); /* "invalid_request", "not_found", ... */
int lv_err_http_status(int code);

/* Early-return helpers in the style of s2n's GUARD: one checked call a line. */
#define LV_TRY(expr)                                                           \
    do {                                                                       \
        int lv_try_rc_ = (expr);                                               \
        if (lv_try_rc_ < 0)                                                    \
            return lv_try_rc_;                                                 \
    } while (0)
#define LV_TRY_GOTO(rc, expr, label)                                           \
    do {                                                                       \
        (rc) = (expr);                                                         \
        if ((rc) < 0)                                                          \
            goto label;                                                        \
    } while (0)

/* ---- logging -----------------------------------------------------------
 * Operational log to stderr.  Never pass secrets (R9.2 keeps audit apart). */
typedef enum {
    LV_LOG_DEBUG,
    LV_LOG_INFO,
    LV_LOG_WARN,
    LV_LOG_ERROR
} lv_log_level;
void lv_log_set_level(lv_log_level level);
void lv_log(lv_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- growable byte buffer ---------------------------------------------- */
typedef struct lv_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
    int error; /* the first append that failed (LV_ENOMEM ...), else 0 */
} lv_buf;

/* Appends return 0 or an LV_E code, and the first failure also sticks in
 * b->error: text built in many steps (an HTML page) checks b->error once
 * at the end instead of every append, so these are not LV_MUST_USE. */
int lv_buf_append(lv_buf *b, const void *data, size_t len);
int lv_buf_appendf(lv_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void lv_buf_free(lv_buf *b); /* frees; buffer may be reused */

/* A growing list of strings (CA names, serials) that a store_*_foreach
 * callback collects, so that the caller acts on them after the query. */
typedef struct lv_strs {
    char **v;
    size_t count, cap;
} lv_strs;
int lv_strs_add(lv_strs *l, const char *s) LV_MUST_USE; /* LV_ENOMEM */
void lv_strs_free(lv_strs *l);
void lv_buf_free_secret(lv_buf *b); /* cleanses before freeing */

/* ---- encodings (OpenSSL does the work; never hand-written) ------------- */
/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void lv_hex_encode(const unsigned char *in, size_t len, char *out);
/* The value of one hex digit (either case), -1 for any other character. */
int lv_hex_value(char c);
/* SHA-256 of data as 64 lower-case hex digits (manifests, fingerprints). */
int lv_sha256_hex(const void *data, size_t len, char out[65]) LV_MUST_USE;
/* A distinguished name as RFC 4514 shows it (the RFC 2253 order, most
 * significant RDN last; UTF-8 kept as is, not \-escaped) into out; "" when
 * it does not fit.  What people read (issue 14 item 2, issue 15). */
void lv_dn_rfc4514(const X509_NAME *name, char *out, size_t cap);
/* Decodes hex (either case, optional ':' separators); returns bytes written
 * or a negative code. */
int lv_hex_decode(const char *in, unsigned char *out, size_t out_cap);
/* Base64 (RFC 4648 §4) without line breaks; caller frees *out. */
int lv_b64_encode(const unsigned char *in, size_t len, char **out) LV_MUST_USE;
int lv_b64_decode(const char *in, size_t in_len, unsigned char **out,
                  size_t *out_len) LV_MUST_USE;

/* ---- randomness --------------------------------------------------------- */
int lv_random(void *out, size_t len) LV_MUST_USE;
/* `bytes` (at most 32) random bytes as hex into out (2 * bytes + 1): ids,
 * tokens, secrets. */
int lv_random_hex(size_t bytes, char *out, lv_err *err) LV_MUST_USE;

/* ---- time (all UTC) ---------------------------------------------------- */
int64_t lv_now(void);                      /* seconds since the epoch */
int64_t lv_now_ms(void);                   /* milliseconds since the epoch */
void lv_time_iso(int64_t t, char out[32]); /* 2026-11-24T23:45:00Z */
/* Parses YYYY-MM-DD (midnight UTC) or full ISO-8601 UTC. */
int lv_time_parse(const char *s, int64_t *out) LV_MUST_USE;

/* ---- files -------------------------------------------------------------- */
int lv_file_read(const char *path, unsigned char **data, size_t *len,
                 size_t max_len, lv_err *err) LV_MUST_USE;
/* Writes atomically (temp file + rename) with the given mode. */
int lv_file_write(const char *path, const void *data, size_t len, int mode,
                  lv_err *err) LV_MUST_USE;
int lv_mkdir_p(const char *path, int mode, lv_err *err) LV_MUST_USE;
/* 1 when dir holds nothing but "." and "..", 0 when it holds more;
 * LV_ENOTFOUND when it does not exist, LV_EIO when it cannot be read. */
int lv_dir_empty(const char *dir, lv_err *err) LV_MUST_USE;
int lv_path_join(char *out, size_t cap, const char *dir,
                 const char *name) LV_MUST_USE;

/* ---- configuration -----------------------------------------------------
 * One JSON file, DIR/llave.json, written by the ceremony.  Every field has an
 * embedded default so that a demo runs with no file at all. */
typedef struct lv_config {
    char dir[512];         /* the data directory */
    char org_name[128];    /* O of CA certificates */
    char org_country[3];   /* C of CA certificates */
    char org_id[64];       /* organizationIdentifier of the provider */
    char org_locality[64]; /* L of the provider's seals (TSA, OCSP) */
    char oid_arc[128];     /* enterprise arc for CPS policy OIDs (R4.3) */
    char public_url[256];  /* base URL of the web, no trailing '/' */
    /* issue 13: the status links (CRL DP, AIA caIssuers, OCSP) must be http
     * (EN 319 412-2 GEN-4.3.11-4, BR §7.1.2.7.7, §7.1.2.11.2) and the
     * documents (CPS qualifier, QcPDS) https (EN 319 412-5 §4.3.4); empty:
     * public_url.  Read them through lv_status_url / lv_documents_url. */
    char status_url[256];
    char documents_url[256];
    char root_name[32]; /* short names: /ca/{name}.crt, /crl/{name}.crl */
    char qualified_name[32];
    char standard_name[32];
    char tls_name[32]; /* the TLS issuing CA (BR §7.1.2.6), issue 13 */
    char root_cn[128];
    char qualified_cn[128];
    char standard_cn[128];
    char tls_cn[128];
    char listen_addr[64];
    int listen_port;
    /* HTTPS served by llaved itself (issue 17 item 4, docs/OPERATIONS.md
     * "TLS"): on when tls_cert_file is set.  The status services (OCSP,
     * CRLs, CA certificates, repository, TSA, /healthz) stay on plain http
     * at listen_port as the profiles require; with tls_plain_status_only
     * every other route there redirects (GET) or refuses (403) to https.
     * Paths are relative to DIR when not absolute. */
    char tls_cert_file[512];      /* PEM: the server certificate + chain */
    char tls_key_file[512];       /* PEM: its private key (mode 0600) */
    char tls_client_ca_file[512]; /* PEM: more issuers whose certificates
                                     may be presented as client certificates
                                     (recognised e-certificates, R2.2); our
                                     own CAs always are */
    int tls_port;                 /* 0: any free port (8443) */
    int tls_plain_status_only;    /* (1) */
    int threads;
    int demo; /* 1: demo install, shares kept in an insecure file */
    /* The socket of a llave-keyd that runs on its own (two service units;
     * issue 12).  Empty: llaved starts its own keyd on DIR/keyd.sock. */
    char keyd_socket[108];
    /* issue 16: the key store's back end, chosen at the ceremony (llave
     * init --keystore) and checked by llave-keyd against DIR/keys at every
     * start: "file" (default) or "pkcs11" with the module, the token label
     * and the file the ceremony read the user PIN from (empty: it came from
     * LLAVE_PKCS11_PIN).  keyd logs in with the copy of the PIN sealed
     * under the master key in DIR/keys/pkcs11.json, never with these. */
    char keystore[16];
    char pkcs11_module[512];
    char pkcs11_token[33];
    char pkcs11_pin_file[512];
    /* store/'s back end (R10.2, issue 17 item 1): "sqlite" (DIR/llave.db,
     * the default) or "postgresql" with a libpq connection string or URL
     * ("host=/run/postgresql dbname=llave", "postgresql://..."); llave.json
     * takes them flat or as "store": {"driver": ..., "conninfo": ...}. */
    char store_driver[16];
    char store_conninfo[512];
    /* auth/ (R3.1-R3.6): Argon2id cost, password policy, lockout, codes */
    int argon2_memory_mib;    /* Argon2id memory, MiB (64) */
    int argon2_time;          /* Argon2id passes (3) */
    int argon2_parallelism;   /* Argon2id lanes (1) */
    int password_min_length;  /* 12..128 (12) */
    int password_history;     /* previous passwords refused (5) */
    int password_expiry_days; /* R3.2 (180) */
    int otp_ttl_seconds;      /* R3.3 (300) */
    int otp_max_attempts;     /* R3.3 (3) */
    int session_ttl_seconds;  /* bearer tokens (900) */
    int activation_ttl_hours; /* activation codes (72) */
    /* auth/'s front door (issue 11, docs/ARCHITECTURE.md "Failed logins"):
     * throttling instead of a hard lockout, a per-source cap, anonymous
     * failures aggregated in the audit trail, limits on codes sent. */
    int auth_throttle_free;        /* failures per (id, source) before any
                                      delay (5) */
    int auth_throttle_max_delay;   /* seconds; the delay doubles from 1 s up
                                      to this (1800) */
    int auth_source_failures;      /* failures per source across ids (100) */
    int auth_source_window;        /* ... per this many seconds (900) */
    int auth_throttle_entries;     /* in-memory table size (32768) */
    int lockout_failures_24h;      /* R3.5: a citizen's failures within 24 h
                                      that lock the account (200) */
    int activation_max_attempts;   /* wrong tries that kill a code (10) */
    int auth_report_seconds;       /* anonymous failures: one aggregate audit
                                      entry per source per interval (60) */
    int otp_send_per_operation;    /* OTPs per operation (transaction) (3) */
    int otp_send_operation_window; /* ... per seconds (300) */
    int otp_send_per_citizen;      /* OTPs per citizen (10) */
    int otp_send_citizen_window;   /* ... per seconds (3600) */
    int otp_send_per_source;       /* OTPs asked from one source (30) */
    int otp_send_source_window;    /* ... per seconds (3600) */
    int activation_codes_per_day;  /* activation codes per citizen (3) */
    /* notify/ (R3.7): "outbox" (DIR/outbox/) or "http" (JSON POST) */
    char notify_backend[16];
    char notify_url[256];           /* http back end; may be empty */
    char notify_user[128];          /* basic auth user; may be empty */
    char notify_password_file[512]; /* password or bearer token; may be
                                       empty */
    int notify_timeout_s;           /* http back end (10) */
    /* OCSP responder (R6.4, src/ocsp/) */
    int ocsp_validity_hours; /* nextUpdate - thisUpdate of responses */
    int ocsp_nonce_fresh;    /* answer nonce requests with a fresh signature */
    int ocsp_sign_rate;      /* fresh signatures per second on the request
                                path (nonce, unknown, multi); 0: none */
    int ocsp_refresh_interval; /* seconds between refresher passes */
    int ocsp_cache_mib; /* per-node cache of answers (issue 17); 0: none */
    int access_log;     /* llaved: one log line per HTTP request (default on;
                           errors and aborted requests are logged regardless) */
    /* llaved's front door (issue 11, docs/OPERATIONS.md "Limits under
     * attack"): connection limits and deadlines, and the worker pools per
     * class of work.  0 in a *_threads or max_connections key: sized from
     * the machine (CPUs, open-file limit). */
    int http_max_connections;  /* all sources together (0: auto) */
    int http_max_per_source;   /* per IPv4 address / IPv6 /64 (64) */
    int http_max_slow;         /* connections still sending a head (256) */
    int http_head_timeout_s;   /* whole request head, not reset per byte;
                                  also the keep-alive idle time (10) */
    int http_body_timeout_s;   /* whole request body (30) */
    int http_api_threads;      /* database work (0: 2 per CPU) */
    int http_api_queue;        /* (256) */
    int http_password_threads; /* Argon2id (0: half the CPUs, at least 1) */
    int http_password_queue;   /* (32) */
    int http_sign_threads;     /* private-key operations (0: one per CPU) */
    int http_sign_queue;       /* (256) */
    int http_keygen_threads;   /* key generation (1) */
    int http_keygen_queue;     /* (8) */
    /* CRLs (R6.3, src/crl/) */
    int crl_interval_hours; /* nextUpdate - thisUpdate, 1..168 (24) */
    int crl_check_seconds;  /* llaved's CRL keeper wakes this often (60) */
    /* time-stamp authority (R7.1, R7.2, src/tsa/) */
    char tsa_policy_oid[128];   /* TSTInfo policy; "" = 0.4.0.2023.1.1 (EN
                                   319 421's best-practices policy) */
    char tsa_unit[32];          /* TSU answering POST /tsa (a cas name) */
    int tsa_accuracy_ms;        /* declared accuracy of genTime (1000) */
    int tsa_require_clock_sync; /* R7.2: refuse while the clock is not NTP
                                   synchronized within the accuracy */
    int tsa_include_name;       /* TSTInfo.tsa = the TSU's subject */
    /* telematic registration (R2.2, src/ra/ecert.c): PEM bundle of the CAs
     * whose certificates are recognised, with their CRLs; relative to DIR
     * ("ecert-trust.pem") */
    char ecert_trust_file[512];
    /* remote signing (R3.3, R10.4, src/sign/): 1 = CSC credentials/sendOTP
     * must name the hashes the OTP authorizes (our extension); 0 = accept
     * the standard request and bind the OTP to the credential only */
    int csc_otp_hashes;
    /* audit seals (R9.2, src/audit/audit_sealer.c): llaved seals the trail
     * every audit_seal_minutes or after audit_seal_entries new entries,
     * whichever comes first; 0 disables that trigger */
    int audit_seal_minutes;       /* 60 */
    int audit_seal_entries;       /* 1000 */
    int tls_rsa_key_encipherment; /* RSA website keys: keyEncipherment */
    int purge_interval_seconds;   /* sign_purge's period (issue 14 item 6) */
    int sign_keep_hours;  /* finished transactions, SADs… kept this long */
    int sign_max_pdf_kib; /* one PDF of a transaction, KiB (10 MiB) */
    int sign_max_tx_kib;  /* the PDFs of one transaction together, KiB */
} lv_config;

void lv_config_defaults(lv_config *cfg, const char *dir);
/* Loads DIR/llave.json over the defaults; a missing file is not an error. */
int lv_config_load(lv_config *cfg, const char *dir, lv_err *err) LV_MUST_USE;
/* Applies the keys present in json (same names as the struct). */
int lv_config_apply_json(lv_config *cfg, const json_t *json,
                         lv_err *err) LV_MUST_USE;
int lv_config_save(const lv_config *cfg, lv_err *err) LV_MUST_USE;

/* What store_open opens for cfg: DIR/llave.db for SQLite; for PostgreSQL
 * the URL as given, or LV_STORE_PG_PREFIX and the connection string. */
#define LV_STORE_PG_PREFIX "pg:"
int lv_config_store_location(const lv_config *cfg, char *out,
                             size_t cap) LV_MUST_USE;
/* 1 when cfg's store is PostgreSQL (no DIR/llave.db, no file backup). */
int lv_config_store_is_pg(const lv_config *cfg);

/* The roles of the CA table that issue certificates: the subordinate
 * issuing CAs ("qualified", "standard", "tls"; their successors after a
 * change-over keep the role) and, with include_root, the root. */
int lv_ca_role_issues(const char *role, int include_root);

/* RFC 5612's arc for documentation: the demo's placeholder oid_arc. */
#define LV_OID_ARC_PLACEHOLDER "1.3.6.1.4.1.32473"
/* The base URL of the status links and of the published documents. */
const char *lv_status_url(const lv_config *cfg);
const char *lv_documents_url(const lv_config *cfg);
/* The rules a certificate-issuing configuration must meet (issue 13: URL
 * schemes, the operator's own OID arc that every parser reads).  Each
 * finding is logged as a warning; with `production` set any finding fails. */
int lv_config_check_rules(const lv_config *cfg, int production,
                          lv_err *err) LV_MUST_USE;

/* ---- JSON helpers ------------------------------------------------------ */
/* Returns the string member or NULL when absent or not a string. */
const char *lv_json_str(const json_t *obj, const char *key);
int lv_json_load_file(const char *path, json_t **out, lv_err *err) LV_MUST_USE;
/* The strict reading of a text member that the subject rules (profile/) and
 * the registration files (ra/) share: absent or null is *out NULL, or
 * LV_EINVAL when required; otherwise a string of 1 to max_len bytes with no
 * leading or trailing blank and no control character, refused rather than
 * silently fixed.  Messages name the member "<label> '<key>'" and give its
 * length in `unit`. */
typedef struct lv_text_member {
    const char *label; /* "field", "subject field" */
    const char *unit;  /* "characters", "bytes of UTF-8" */
    int refuse_nul;    /* refuse a NUL inside the string (jansson allows it) */
} lv_text_member;
int lv_json_text(const json_t *obj, const char *key, int required,
                 size_t max_len, const lv_text_member *m, const char **out,
                 lv_err *err) LV_MUST_USE;
/* c is an ISO 3166 alpha-2 code in capitals ("ES"); the message names the
 * member key as lv_json_text's do. */
int lv_text_country(const char *c, const char *key, const lv_text_member *m,
                    lv_err *err) LV_MUST_USE;
/* Characters (Unicode code points) of s, which must be valid UTF-8 as every
 * jansson string is: for limits the API states in characters, not bytes. */
size_t lv_utf8_chars(const char *s);

/* ---- ASN.1 templates -------------------------------------------------------
 * For the structures OpenSSL has no type for, declared as their standards
 * write them, in a file that includes <openssl/asn1t.h>: LV_ASN1_SEQUENCE
 * is the SEQUENCE template of T's fields (ASN1_SIMPLE, ASN1_OPT, ...),
 * LV_ASN1_TYPE adds T_new/T_free for that file, LV_ASN1_SEQUENCE_OF is T
 * as a SEQUENCE OF item.  The library writes every byte of DER
 * (ASN1_item_i2d with ASN1_ITEM_rptr(T)). */
#define LV_ASN1_SEQUENCE(T, ...)                                               \
    ASN1_SEQUENCE(T) = {__VA_ARGS__} static_ASN1_SEQUENCE_END(T)
#define LV_ASN1_TYPE(T, ...)                                                   \
    LV_ASN1_SEQUENCE(T, __VA_ARGS__)                                           \
    IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(T)
#define LV_ASN1_SEQUENCE_OF(T, item)                                           \
    ASN1_ITEM_TEMPLATE(T) =                                                    \
        ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, T, item)               \
            static_ASN1_ITEM_TEMPLATE_END(T)

/* ---- background workers ------------------------------------------------ */
/* A thread that calls fn(arg) every interval seconds until lv_worker_stop
 * (llaved's CRL keeper, OCSP refresher and audit sealer).  With
 * LV_WORKER_RUN_FIRST the thread calls fn once before its first wait.
 * *out is set before the thread starts, so fn may read it through arg. */
typedef struct lv_worker lv_worker;
typedef void (*lv_worker_fn)(void *arg);
#define LV_WORKER_RUN_FIRST 1
int lv_worker_start(lv_worker **out, lv_worker_fn fn, void *arg,
                    int interval_seconds, int flags, lv_err *err) LV_MUST_USE;
/* 1 once lv_worker_stop was called: long passes check it between chunks. */
int lv_worker_stopping(lv_worker *w);
/* Wakes the thread, waits for it to finish its pass, frees w; NULL is ok. */
void lv_worker_stop(lv_worker *w);

/* A periodic job: a worker that owns its state (llaved's CRL keeper, OCSP
 * refresher and audit sealer).  lv_job_start allocates def->size zeroed
 * bytes of state, has open(state, arg) fill them (a store connection of
 * its own, say), then starts a worker that calls pass(state, job, err)
 * every interval_seconds.  pass returns < 0 on failure (logged under
 * def->name once while it persists, not every pass), > 0 when it had
 * nothing to try.  close(state) releases what open took: once the thread
 * has stopped, or at once when open or the thread fails (*out stays
 * NULL).  With LV_JOB_PASS_AT_START the first pass runs before
 * lv_job_start returns. */
typedef struct lv_job lv_job;
#define LV_JOB_PASS_AT_START 2
typedef struct lv_job_def {
    const char *name;
    size_t size;
    int (*open)(void *state, void *arg, lv_err *err);
    int (*pass)(void *state, lv_job *job, lv_err *err);
    void (*close)(void *state);
    int interval_seconds;
    int flags; /* LV_WORKER_RUN_FIRST, LV_JOB_PASS_AT_START */
    /* Several nodes on one database (issue 17 item 2): when set, a pass
     * runs only while lease(state, name, ttl) says this node holds the
     * job's lease (1; 0: another node does), renewed at every pass for
     * LV_JOB_LEASE_INTERVALS intervals, so a survivor takes over that long
     * after a node died (store_lease_take). */
    int (*lease)(void *state, const char *name, int ttl_seconds, lv_err *err);
} lv_job_def;
#define LV_JOB_LEASE_INTERVALS 3
/* This process among the nodes: "host:pid:random", fixed at first use. */
const char *lv_node_id(void);
/* 1 when node (an lv_node_id) was a process of this host that no longer
 * runs: its leases need not be waited out (a node restarted after a
 * crash resumes its jobs at once). */
int lv_node_gone(const char *node);
int lv_job_start(const lv_job_def *def, void *arg, lv_job **out,
                 lv_err *err) LV_MUST_USE;
/* lv_worker_stopping of the job's worker (0 before it runs): long passes
 * check it between chunks. */
int lv_job_stopping(lv_job *j);
/* Stops the worker, then closes and frees the state; NULL is ok. */
void lv_job_stop(lv_job *j);

/* ---- one value per thread (per_thread.c) --------------------------------
 * What a thread opens on first use and keeps for its lifetime: llaved's
 * store connection per thread (lv_app_store), the CA's keyd connection per
 * thread (ca_keyc).  A thread that exits closes its value; lv_per_thread_free
 * closes those of threads still alive (the main thread, any not joined). */
typedef struct lv_per_thread lv_per_thread;
/* LV_ENOMEM, or LV_EINTERNAL when no thread-local key is left. */
int lv_per_thread_new(void (*close)(void *value),
                      lv_per_thread **out) LV_MUST_USE;
/* This thread's value; NULL before lv_per_thread_set. */
void *lv_per_thread_get(lv_per_thread *pt);
/* Makes value (not NULL) this thread's; LV_ENOMEM, value not taken. */
int lv_per_thread_set(lv_per_thread *pt, void *value) LV_MUST_USE;
/* Closes every value still held and frees pt; NULL is ok.  No thread may
 * use pt any more. */
void lv_per_thread_free(lv_per_thread *pt);

/* ---- bounded worker pools (pool.c) --------------------------------------
 * `threads` threads run submitted jobs in order; at most `queue_max` wait.
 * nice > 0 lowers the workers' scheduling priority (Linux, per thread). */
typedef struct lv_pool lv_pool;
typedef void (*lv_pool_fn)(void *arg);
int lv_pool_new(const char *name, unsigned threads, unsigned queue_max,
                int nice, lv_pool **out, lv_err *err) LV_MUST_USE;
/* 0 when queued; LV_EBUSY, with nothing queued, when the queue is full or
 * the pool is stopping. */
int lv_pool_submit(lv_pool *p, lv_pool_fn fn, void *arg) LV_MUST_USE;
void lv_pool_stats(lv_pool *p, unsigned *queued, unsigned *busy);
/* Runs every queued job, joins the threads, frees p; NULL is ok. */
void lv_pool_free(lv_pool *p);

/* ---- texts in the reader's language (i18n.c; issue 15 item 1) -----------
 * One catalogue per language, web/i18n/<code>.json, compiled in: pages,
 * API messages, e-mails and SMS all take their words from it.  Spanish
 * first: the language when nothing else decides, and the text when another
 * catalogue lacks a key. */
#define LV_LANG_DEFAULT "es"
/* The code of the catalogue whose code is the first len characters of tag
 * (case-insensitive: "EN" is "en"), or NULL. */
const char *lv_lang_find(const char *tag, size_t len);
/* The catalogues' codes, at most cap; how many there are. */
size_t lv_langs(const char **codes, size_t cap);
/* The text of key in lang (NULL: Spanish); a missing text is the key
 * itself, never nothing. */
const char *lv_text(const char *lang, const char *key);
/* lv_text with each {name} replaced by the value that follows name in the
 * list of name, value pairs that LV_TEXT_END closes; {name} not listed
 * stays.
 * LV_EINVAL when the result does not fit in cap. */
int lv_text_fill(char *out, size_t cap, const char *lang, const char *key,
                 ...) LV_MUST_USE;
/* The end of lv_text_fill's list: a null pointer of the type it reads. */
#define LV_TEXT_END ((const char *)NULL)

/* ---- binary values in JSON (json_b64.c) ---------------------------------
 * A new string of p's n bytes in base64 (RFC 4648 §4), or NULL when out of
 * memory (jansson's json_pack and json_array_append_new take NULL as a
 * failure). */
json_t *lv_json_b64(const unsigned char *p, size_t n);

/* ---- signatures over digests (verify.c) ---------------------------------
 * 1 when sig (PKCS#1 v1.5 for RSA, ECDSA-Sig-Value DER for EC) is signer's
 * key's signature of digest, md's hash; 0 otherwise.  What keyd returned is
 * checked so before it goes into a document: a wrong key or a garbled
 * answer is an error there, not an invalid signature at the relying party. */
int lv_digest_sig_ok(X509 *signer, const EVP_MD *md,
                     const unsigned char *digest, size_t digest_len,
                     const unsigned char *sig, size_t sig_len);

#endif
