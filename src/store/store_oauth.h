/* store/store_oauth.h — OAuth 2.0 rows for the CSC API (sql/012_oauth.sql;
 * issue 14 item 3): clients' redirect URIs, authorization requests with
 * their codes, access tokens.  Owner: oauth/.  Plain rows: oauth/ decides,
 * hashes and audits; changes run in the caller's transaction. */
#ifndef LLAVE_STORE_OAUTH_H
#define LLAVE_STORE_OAUTH_H

#include "core/core.h"
#include "store/store.h"

#include <stdint.h>

#define LV_OAUTH_URI_MAX 1000 /* bytes of a redirect URI */

/* ---- redirect URIs ------------------------------------------------------- */
int store_oauth_uri_add(lv_store *st, const char *client_id, const char *uri,
                        int64_t now, lv_err *err) LV_MUST_USE;
/* fn(uri, ctx) for each of the client's URIs, in the order added. */
int store_oauth_uri_foreach(lv_store *st, const char *client_id,
                            STORE_VISIT(char), lv_err *err) LV_MUST_USE;

/* ---- authorization requests and their codes ------------------------------ */
typedef struct lv_oauth_authz_rec {
    char id[33];
    char client_id[40];
    char redirect_uri[LV_OAUTH_URI_MAX + 1];
    int redirect_given;
    char scope[16]; /* service, credential */
    char state[513];
    char code_challenge[44];
    char lang[36];
    char serial[65];
    char digest_alg[16];
    unsigned char *hashes; /* owned; NULL for scope service */
    size_t hashes_len;
    char *labels; /* owned JSON array text */
    int num_signatures;
    char *description; /* owned; "" when none */
    int64_t created_at;
    int64_t expires_at;
    /* changed by store_oauth_authz_update: */
    char citizen_id[72];
    char status[16]; /* pending, otp_sent, approved, denied */
    char otp_id[33];
    char code_hash[65];
    int64_t code_expires_at;
    int64_t code_used_at;
    unsigned char sad_enc[32];
    size_t sad_enc_len; /* 0 or 32 */
} lv_oauth_authz_rec;

STORE_KEYED(oauth_authz, lv_oauth_authz_rec, id);
/* The request whose code hashes to code_hash; LV_ENOTFOUND when none. */
int store_oauth_authz_by_code(lv_store *st, const char *code_hash,
                              lv_oauth_authz_rec *out, lv_err *err) LV_MUST_USE;
/* Writes citizen_id, status, otp_id, code_hash, code_expires_at, sad_enc,
 * and serial when none was stored (a signatureQualifier request),
 * when the stored status is `from`; LV_ESTATE when it is not. */
int store_oauth_authz_update(lv_store *st, const lv_oauth_authz_rec *rec,
                             const char *from, lv_err *err) LV_MUST_USE;
/* Marks the code used if it is unused and unexpired at now; LV_ESTATE when
 * not (used, expired, or another request took it first). */
int store_oauth_code_use(lv_store *st, const char *code_hash, int64_t now,
                         lv_err *err) LV_MUST_USE;
void store_oauth_authz_free(lv_oauth_authz_rec *rec);
/* Deletes requests whose page and code both expired before `before`. */
/* Deletes the access tokens that expired before `before` (issue 14 item
 * 6: the audit trail keeps their oauth.token entries). */
int store_oauth_token_purge(lv_store *st, int64_t before, int *count,
                            lv_err *err) LV_MUST_USE;
int store_oauth_authz_purge(lv_store *st, int64_t before, int *count,
                            lv_err *err) LV_MUST_USE;

/* ---- access tokens --------------------------------------------------------
 */
typedef struct lv_oauth_token_rec {
    char token_hash[65];
    char kind[16]; /* service, credential */
    char client_id[40];
    char citizen_id[72];
    char serial[65];
    char code_hash[65];
    int64_t created_at;
    int64_t expires_at;
    int64_t revoked_at; /* 0 while valid */
} lv_oauth_token_rec;

STORE_KEYED(oauth_token, lv_oauth_token_rec, token_hash);
/* revoked_at = now for the token if not revoked yet; *changed: 0 or 1. */
int store_oauth_token_revoke(lv_store *st, const char *token_hash, int64_t now,
                             int *changed, lv_err *err) LV_MUST_USE;
/* fn(token_hash, ctx) for each unrevoked token issued for a code. */
int store_oauth_tokens_of_code(lv_store *st, const char *code_hash,
                               STORE_VISIT(char), lv_err *err) LV_MUST_USE;

#endif
