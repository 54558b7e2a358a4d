/* Private to auth/: the context, the keyed hashes and sealing that every
 * file uses, password hashing, TOTP and session creation. */
#ifndef LLAVE_AUTH_INTERNAL_H
#define LLAVE_AUTH_INTERNAL_H

#include "auth/auth.h"

#include <openssl/crypto.h>

#define AUTH_KEY_FILE "auth.key"
#define AUTH_KEY_LEN 32
#define AUTH_HASH_HEX 65 /* SHA-256 / HMAC-SHA256 hex, NUL included */
#define AUTH_PWHASH_MAX 192

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

/* ---- auth_session.c ---------------------------------------------------------
 */
/* Inserts a session for principal inside the caller's transaction. */
int auth_session_create(lv_auth *auth, lv_store *st, const char *kind,
                        const char *principal, unsigned roles, const char *ip,
                        lv_session_token *out, lv_err *err);

#endif
