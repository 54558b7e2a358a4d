/* Private to auth/: the context, the keyed hashes and sealing that every
 * file uses, password hashing, TOTP and session creation. */
#ifndef LLAVE_AUTH_INTERNAL_H
#define LLAVE_AUTH_INTERNAL_H

#include "audit/audit.h"
#include "auth/auth.h"
#include "store/store.h"
#include "store/store_auth.h"

#include <openssl/crypto.h>

#define AUTH_KEY_FILE "auth.key"
#define AUTH_KEY_LEN 32
#define AUTH_HASH_HEX 65 /* SHA-256 / HMAC-SHA256 hex, NUL included */
#define AUTH_PWHASH_MAX 192
#define AUTH_SOURCE_MAX 64 /* "2001:db8:1:2::/64", "192.0.2.7", NUL */

typedef struct auth_throttle auth_throttle;
typedef struct auth_report auth_report;

struct lv_auth {
    lv_config cfg;
    /* Sub-keys of DIR/auth.key, one per use, so that a MAC of one kind
     * can never be replayed as another. */
    unsigned char seal_key[AUTH_KEY_LEN]; /* AES-256-GCM of TOTP secrets */
    unsigned char code_key[AUTH_KEY_LEN]; /* HMAC of one-time codes */
    /* An Argon2id hash of a random password: verifying against it makes an
     * unknown account cost as much as a wrong password (no timing oracle
     * for which logins exist). */
    char dummy_hash[AUTH_PWHASH_MAX];
    /* issue 11: the only mutable state, each behind its own lock. */
    auth_throttle *throttle; /* failed attempts and sends, in memory */
    auth_report *report;     /* anonymous failures awaiting aggregation */
};

/* ---- auth.c: primitives ------------------------------------------------ */
/* SHA-256 over len-prefixed parts, hex out.  Prefixing makes ("ab","c")
 * and ("a","bc") different inputs. */
int auth_hash_parts(const void *const *parts, const size_t *lens, size_t n,
                    char out[AUTH_HASH_HEX], lv_err *err);
/* HMAC-SHA256 under code_key over len-prefixed parts, hex out. */
int auth_mac_parts(const lv_auth *auth, const void *const *parts,
                   const size_t *lens, size_t n, char out[AUTH_HASH_HEX],
                   lv_err *err);
/* Constant-time comparison of two hex digests of AUTH_HASH_HEX - 1 chars. */
int auth_hex_equal(const char *a, const char *b);
/* AES-256-GCM under seal_key with aad; out = nonce || ciphertext || tag. */
int auth_seal(const lv_auth *auth, const unsigned char *in, size_t len,
              const char *aad, unsigned char *out, size_t cap, size_t *out_len,
              lv_err *err);
int auth_unseal(const lv_auth *auth, const unsigned char *in, size_t len,
                const char *aad, unsigned char *out, size_t cap,
                size_t *out_len, lv_err *err);
/* `digits` uniformly random decimal digits (rejection sampling). */
int auth_random_digits(char *out, int digits, lv_err *err);
/* Bit set <-> "ra_officer,ra_admin". */
int auth_roles_format(unsigned roles, char *out, size_t cap);
unsigned auth_roles_parse_list(const char *list);
/* Identifiers: 1..max-1 bytes of [A-Za-z0-9._@+-]. */
int auth_check_id(const char *v, size_t max, const char *what, lv_err *err);
/* Runs the audit entry in its own transaction and keeps the caller's
 * error: for refusals found before any transaction started. */
void auth_audit_refusal(lv_store *st, const char *actor, const char *event,
                        const char *object, const char *reason, const char *ip);
/* {"reason": reason, "ip": ip} (ip omitted when NULL). */
json_t *auth_details(const char *reason, const char *ip);

/* ---- auth_password.c ----------------------------------------------------- */
int auth_password_hash(const lv_auth *auth, const char *password,
                       char out[AUTH_PWHASH_MAX], lv_err *err);
/* 1 when password matches encoded, 0 when not, <0 on error.  An empty
 * encoded string (no password set) verifies against the dummy hash and
 * never matches. */
int auth_password_matches(const lv_auth *auth, const char *encoded,
                          const char *password);
/* A random password that satisfies the policy (operators' initial ones). */
int auth_password_generate(const lv_auth *auth, char *out, size_t cap,
                           lv_err *err);

/* ---- auth_totp.c ------------------------------------------------------------
 */
#define AUTH_TOTP_SECRET_LEN 20 /* RFC 4226 §4: 160 bits */
#define AUTH_TOTP_STEP 30
/* The matching time step within +-1 of now, or 0 when the code matches
 * none (steps are never 0 after 1970-01-01T00:00:30Z). */
int64_t auth_totp_match(const unsigned char *secret, size_t len, int64_t now,
                        const char *code);
int auth_base32(const unsigned char *in, size_t len, char *out, size_t cap);
int auth_totp_uri(const lv_config *cfg, const char *login, const char *b32,
                  char *out, size_t cap);

/* ---- auth_throttle.c: failed-login throttle (issue 11, R3.5) -------------
 * Fixed-size tables in memory, keyed by a salted hash, so that memory is
 * bounded whatever an attacker sends; a full set evicts its least recently
 * touched entry (which can only loosen a throttle, never lock anyone).
 * Times are milliseconds so that tests can drive the clock. */
/* The source an attempt is charged to: an IPv4 address as is, an IPv6
 * address reduced to its /64 (one subscriber's whole prefix), an
 * IPv4-mapped IPv6 address as IPv4, NULL or "" as "local". */
void auth_source_key(const char *ip, char out[AUTH_SOURCE_MAX]);
int auth_throttle_new(const lv_config *cfg, auth_throttle **out, lv_err *err);
void auth_throttle_free(auth_throttle *t);
/* 0 when an attempt on (ns, id) from ip may run now; LV_ELIMIT with
 * *retry_after (seconds) while the pair waits out its delay or the source
 * has used up auth_source_failures in its window.  Reads only. */
int auth_throttle_check(auth_throttle *t, const char *ns, const char *id,
                        const char *ip, int64_t now_ms, int *retry_after);
/* A failed attempt: the pair's count grows (after auth_throttle_free of
 * them the delay doubles from 1 s up to auth_throttle_max_delay) and so
 * does the source's. */
void auth_throttle_fail(auth_throttle *t, const char *ns, const char *id,
                        const char *ip, int64_t now_ms);
/* The secret was proved: the pair starts again from nothing. */
void auth_throttle_pass(auth_throttle *t, const char *ns, const char *id,
                        const char *ip);
/* Takes one of `limit` uses of `what` per window_s from ip's source;
 * LV_ELIMIT with *retry_after when none is left. */
int auth_rate_take(auth_throttle *t, const char *what, const char *ip,
                   int limit, int window_s, int64_t now_ms, int *retry_after);

/* Namespaces: the id as typed, per kind of secret it is tried against. */
#define AUTH_NS_OPERATOR "operator"     /* operator login */
#define AUTH_NS_USER "user"             /* citizen's user id: password */
#define AUTH_NS_CITIZEN "citizen"       /* citizen id: PIN at authorize */
#define AUTH_NS_ACTIVATION "activation" /* user id: activation code */
#define AUTH_NS_CLIENT "client"         /* client id: its secret */

/* What every login path runs before any Argon2id: LV_ELIMIT (429,
 * Retry-After) for a throttled attempt, counted in the anonymous
 * aggregate; the same answer whether the id exists or not. */
int auth_gate(lv_auth *auth, const char *ns, const char *id, const char *ip,
              lv_err *err);
void auth_gate_fail(lv_auth *auth, const char *ns, const char *id,
                    const char *ip);
void auth_gate_pass(lv_auth *auth, const char *ns, const char *id,
                    const char *ip);

/* ---- auth_report.c: anonymous failures, aggregated (issue 11) ------------
 * A failure that names no existing account (or is refused before any
 * lookup) is counted per source in memory instead of writing one audit
 * row; auth_report_flush writes at most AUTH_REPORT_TOP + 1 rows
 * "auth.failures_aggregate" per interval.  Failures on real accounts stay
 * individual entries (CPS §5.4.1). */
#define AUTH_REPORT_TOP 4
int auth_report_new(auth_report **out, lv_err *err);
void auth_report_free(auth_report *r);
/* event: "citizen.activate", "throttled", ...; id: as typed (only a
 * truncated HMAC of it is ever written). */
void auth_anon_failure(lv_auth *auth, const char *event, const char *id,
                       const char *ip);
/* Writes what was counted since the last flush; nothing when nothing. */
int auth_report_flush(lv_auth *auth, lv_store *st, lv_err *err);

/* ---- auth_session.c ---------------------------------------------------------
 */
/* Inserts a session for principal inside the caller's transaction. */
int auth_session_create(lv_auth *auth, lv_store *st, const char *kind,
                        const char *principal, unsigned roles, const char *ip,
                        lv_session_token *out, lv_err *err);

#endif
