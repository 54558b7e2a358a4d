/* store/store_auth.h — operators, two-person approvals, citizens'
 * credentials, password history, sessions and one-time codes
 * (sql/005_auth.sql, 010).  Owner: auth/. */
#ifndef LLAVE_STORE_AUTH_H
#define LLAVE_STORE_AUTH_H

#include "core/core.h"
#include "store/store.h"

#include <stdint.h>

/* ---- auth (sql/005_auth.sql; the rules live in auth/) -----------------
 * Plain records: auth/ decides, hashes and seals; these only read and
 * write rows.  Updates are meant to run inside the caller's transaction
 * after reading the row again there (store_begin holds the write lock). */
typedef struct lv_operator_rec {
    char login[72];
    char roles[256]; /* comma-separated role names */
    int enabled;
    int locked;
    int failed_attempts;
    char password_hash[192];       /* Argon2id encoded */
    unsigned char totp_sealed[96]; /* nonce || ciphertext || tag */
    size_t totp_sealed_len;
    int64_t totp_last_step;
    int64_t created_at; /* 0 on insert: now */
    char created_by[128];
    int64_t updated_at; /* set by insert / update */
} lv_operator_rec;

STORE_KEYED(operator, lv_operator_rec, login);
/* Writes every field but login, created_at and created_by. */
int store_operator_update(lv_store *st, const lv_operator_rec *rec,
                          lv_err *err) LV_MUST_USE;
/* An operator's client certificate (sql/015_operator_cert.sql). */
typedef struct lv_opcert_rec {
    char fingerprint[65]; /* SHA-256 of the DER, lower hex */
    char login[72];
    char serial[65];
    char subject[256]; /* RFC 4514 */
    int64_t not_after;
    int64_t bound_at; /* 0 on insert: now */
    char bound_by[128];
} lv_opcert_rec;

STORE_KEYED(opcert, lv_opcert_rec, fingerprint);
/* Deletes every certificate of login; *n: how many. */
int store_opcert_delete_login(lv_store *st, const char *login, int *n,
                              lv_err *err) LV_MUST_USE;

/* Pending two-person approvals (sql/010_throttle.sql, CPS §5.2.4). */
typedef struct lv_approval_rec {
    char action[16];
    char target[72];
    char requested_by[72];
    int64_t requested_at;
} lv_approval_rec;

/* One pending request for each (action, target). */
STORE_PAIRED(approval, lv_approval_rec, action, target);
/* In login order. */
int store_operator_foreach(lv_store *st, STORE_VISIT(lv_operator_rec),
                           lv_err *err) LV_MUST_USE;

typedef struct lv_cred_rec {
    char citizen_id[72];
    char user_id[72];
    char mobile[24];
    char password_hash[192]; /* "" until activation */
    int64_t password_set_at;
    int64_t password_expires_at;
    int failed_attempts;
    int locked;
    char activation_hash[65]; /* hex HMAC of the pending code, or "" */
    int64_t activation_expires_at;
    int activation_attempts;
    int64_t failures_since; /* start of the 24 h window of failed_attempts */
    int64_t codes_since;    /* start of the 24 h window of codes_sent */
    int codes_sent;         /* activation codes sent in that window */
    int64_t created_at;     /* 0 on insert: now */
    int64_t updated_at;
} lv_cred_rec;

STORE_KEYED(cred, lv_cred_rec, citizen_id);
int store_cred_get_by_user(lv_store *st, const char *user_id, lv_cred_rec *out,
                           lv_err *err) LV_MUST_USE;
/* Writes every field but citizen_id and created_at. */
int store_cred_update(lv_store *st, const lv_cred_rec *rec,
                      lv_err *err) LV_MUST_USE;

/* Password history (R3.2): appends, and calls fn with the `limit` newest
 * hashes, newest first. */
int store_pwhist_add(lv_store *st, const char *citizen_id,
                     const char *password_hash, int64_t set_at,
                     lv_err *err) LV_MUST_USE;
int store_pwhist_foreach(lv_store *st, const char *citizen_id, int limit,
                         STORE_VISIT(char), lv_err *err) LV_MUST_USE;

typedef struct lv_session_rec {
    char token_hash[65]; /* SHA-256 hex of the bearer token */
    char kind[16];       /* "operator" / "citizen" */
    char principal[72];
    int64_t created_at;
    int64_t expires_at;
    char ip[64];
} lv_session_rec;

STORE_KEYED(session, lv_session_rec, token_hash);
int store_session_delete(lv_store *st, const char *token_hash,
                         lv_err *err) LV_MUST_USE;
/* Ends every session of one principal; *count (may be NULL) gets how many. */
int store_session_delete_principal(lv_store *st, const char *kind,
                                   const char *principal, int64_t *count,
                                   lv_err *err) LV_MUST_USE;
/* Drops sessions that expired before `now`. */
int store_session_purge(lv_store *st, int64_t now, lv_err *err) LV_MUST_USE;
/* Deletes the one-time codes that expired before `before`; *count: how
 * many. */
int store_otp_purge(lv_store *st, int64_t before, int *count,
                    lv_err *err) LV_MUST_USE;

typedef struct lv_otp_rec {
    char id[33];
    char citizen_id[72];
    char purpose[33];
    char binding[65];   /* SHA-256 hex of purpose and data */
    char code_hash[65]; /* HMAC-SHA256 hex of the code */
    int64_t created_at;
    int64_t expires_at;
    int attempts;
    int used;
} lv_otp_rec;

STORE_KEYED(otp, lv_otp_rec, id);
/* Codes sent to citizen_id since `since` (created_at >= since), only those
 * with this binding when binding is not NULL: *count and the creation time
 * of the oldest of them (*oldest, 0 when none), for rate limits that every
 * node sharing the database agrees on (issue 11). */
int store_otp_count(lv_store *st, const char *citizen_id, const char *binding,
                    int64_t since, int *count, int64_t *oldest,
                    lv_err *err) LV_MUST_USE;
/* Writes attempts and used. */
int store_otp_update(lv_store *st, const lv_otp_rec *rec,
                     lv_err *err) LV_MUST_USE;

#endif
