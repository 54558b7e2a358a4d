/* OAuth 2.0 rows (sql/012_oauth.sql; issue 14 item 3): redirect URIs,
 * authorization requests with their codes, access tokens.  No rules here:
 * oauth/ decides, hashes and audits. */
#include "store/store_oauth.h"

#include "store/store_rows.h"

/* ---- redirect URIs ----------------------------------------------------- */

int store_oauth_uri_add(lv_store *st, const char *client_id, const char *uri,
                        int64_t now, lv_err *err)
{
    return STORE_RUN(st, NULL, err,
                     "INSERT INTO oauth_redirect_uris (client_id, uri, seq,"
                     " created_at) SELECT ?, ?, COUNT(*), ? FROM"
                     " oauth_redirect_uris WHERE client_id = ?",
                     SQ_TEXT(client_id), SQ_TEXT(uri), SQ_INT(now),
                     SQ_TEXT(client_id));
}

STORE_FOREACH_TEXT(oauth_uri_foreach, client_id,
                   "SELECT uri FROM oauth_redirect_uris"
                   " WHERE client_id = ? ORDER BY seq",
                   SQ_TEXT(client_id))

/* ---- authorization requests -------------------------------------------- */

/* The column table checks every text field and needs labels and
 * description (NOT NULL). */
STORE_INSERT(oauth_authz, lv_oauth_authz_rec, &store_row_authz)

STORE_GET(oauth_authz, lv_oauth_authz_rec, &store_row_authz, id,
          "no authorization %s", id)

int store_oauth_authz_by_code(lv_store *st, const char *code_hash,
                              lv_oauth_authz_rec *out, lv_err *err)
{
    return store_row_find(st, &store_row_authz,
                          "SELECT " AUTHZ_COLUMNS " FROM oauth_authorizations"
                          " WHERE code_hash = ? AND code_hash <> ''",
                          code_hash, out, err, "no authorization (code)");
}

int store_oauth_authz_update(lv_store *st, const lv_oauth_authz_rec *r,
                             const char *from, lv_err *err)
{
    int64_t n = 0;
    LV_TRY(store_row_check(&store_row_authz, r, err));
    LV_TRY(STORE_ROW_RUN(st, &store_row_authz, r, AUTHZ_MUTABLE,
                         store_row_authz.n, &n, err,
                         "UPDATE oauth_authorizations SET citizen_id = ?,"
                         " status = ?, otp_id = ?, code_hash = ?,"
                         " code_expires_at = ?, sad_enc = ?,"
                         /* chosen once, at the login, when the request
                          * named a signatureQualifier (oauth_page.c) */
                         " serial = CASE serial WHEN '' THEN ? ELSE serial"
                         " END WHERE id = ? AND status = ?",
                         SQ_TEXT(r->serial), SQ_TEXT(r->id), SQ_TEXT(from)));
    return store_one(n, err, LV_ESTATE,
                     "the authorization request changed meanwhile");
}

int store_oauth_code_use(lv_store *st, const char *code_hash, int64_t now,
                         lv_err *err)
{
    int64_t n = 0;
    LV_TRY(STORE_RUN(st, &n, err,
                     "UPDATE oauth_authorizations SET code_used_at = ?"
                     " WHERE code_hash = ? AND code_hash <> ''"
                     " AND code_used_at = 0 AND code_expires_at > ?",
                     SQ_INT(now), SQ_TEXT(code_hash), SQ_INT(now)));
    return store_one(n, err, LV_ESTATE, "the code is used, expired or unknown");
}

void store_oauth_authz_free(lv_oauth_authz_rec *r)
{
    store_row_free(&store_row_authz, r);
}

int store_oauth_authz_purge(lv_store *st, int64_t before, int *count,
                            lv_err *err)
{
    return STORE_CHANGED(st, count, err,
                         "DELETE FROM oauth_authorizations WHERE expires_at < ?"
                         " AND code_expires_at < ?",
                         SQ_INT(before), SQ_INT(before));
}

int store_oauth_token_purge(lv_store *st, int64_t before, int *count,
                            lv_err *err)
{
    return STORE_CHANGED(st, count, err,
                         "DELETE FROM oauth_tokens WHERE expires_at < ?",
                         SQ_INT(before));
}

/* ---- access tokens ------------------------------------------------------ */

STORE_INSERT(oauth_token, lv_oauth_token_rec, &store_row_token)
STORE_GET(oauth_token, lv_oauth_token_rec, &store_row_token, token_hash,
          "no token (hash)")

int store_oauth_token_revoke(lv_store *st, const char *token_hash, int64_t now,
                             int *changed, lv_err *err)
{
    return STORE_CHANGED(st, changed, err,
                         "UPDATE oauth_tokens SET revoked_at = ?"
                         " WHERE token_hash = ? AND revoked_at = 0",
                         SQ_INT(now), SQ_TEXT(token_hash));
}

STORE_FOREACH_TEXT(oauth_tokens_of_code, code_hash,
                   "SELECT token_hash FROM oauth_tokens"
                   " WHERE code_hash = ? AND revoked_at = 0",
                   SQ_TEXT(code_hash))
