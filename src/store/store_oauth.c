/* OAuth 2.0 rows (sql/012_oauth.sql; issue 14 item 3): redirect URIs,
 * authorization requests with their codes, access tokens.  No rules here:
 * oauth/ decides, hashes and audits. */
#include "store/store_oauth.h"

#include "store/store_driver.h"

#include <stdlib.h>
#include <string.h>

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

int store_oauth_uri_foreach(lv_store *st, const char *client_id,
                            int (*fn)(const char *, void *), void *ctx,
                            lv_err *err)
{
    store_q q;
    STORE_Q(&q, st, err,
            "SELECT uri FROM oauth_redirect_uris WHERE client_id = ?"
            " ORDER BY seq",
            SQ_TEXT(client_id));
    return store_q_each_text(&q, fn, ctx);
}

/* ---- authorization requests -------------------------------------------- */

#define AUTHZ_COLUMNS                                                          \
    "id, client_id, redirect_uri, redirect_given, scope, state, "              \
    "code_challenge, lang, serial, digest_alg, hashes, labels, "               \
    "num_signatures, description, created_at, expires_at, citizen_id, "        \
    "status, otp_id, code_hash, code_expires_at, code_used_at, sad_enc"

static int authz_check(const lv_oauth_authz_rec *r, lv_err *err)
{
    LV_TRY(store_check_field(r->id, sizeof r->id, "id", err));
    LV_TRY(store_check_field(r->redirect_uri, sizeof r->redirect_uri,
                             "redirect_uri", err));
    LV_TRY(store_check_field(r->state, sizeof r->state, "state", err));
    LV_TRY(
        store_check_field(r->citizen_id, sizeof r->citizen_id, "citizen", err));
    if (!r->labels || !r->description)
        return lv_fail(err, LV_EINVAL, "labels and description are required");
    return 0;
}

int store_oauth_authz_insert(lv_store *st, const lv_oauth_authz_rec *r,
                             lv_err *err)
{
    LV_TRY(authz_check(r, err));
    return STORE_RUN(
        st, NULL, err,
        "INSERT INTO oauth_authorizations (" AUTHZ_COLUMNS ") VALUES (?, ?,"
        " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        SQ_TEXT(r->id), SQ_TEXT(r->client_id), SQ_TEXT(r->redirect_uri),
        SQ_INT(r->redirect_given ? 1 : 0), SQ_TEXT(r->scope), SQ_TEXT(r->state),
        SQ_TEXT(r->code_challenge), SQ_TEXT(r->lang), SQ_TEXT(r->serial),
        SQ_TEXT(r->digest_alg), SQ_BLOB(r->hashes, r->hashes_len),
        SQ_TEXT(r->labels), SQ_INT(r->num_signatures), SQ_TEXT(r->description),
        SQ_INT(r->created_at), SQ_INT(r->expires_at), SQ_TEXT(r->citizen_id),
        SQ_TEXT(r->status), SQ_TEXT(r->otp_id), SQ_TEXT(r->code_hash),
        SQ_INT(r->code_expires_at), SQ_INT(r->code_used_at));
}

static int read_text_cols(store_q *q, lv_oauth_authz_rec *r)
{
    LV_TRY(store_q_col_copy(q, 0, r->id, sizeof r->id));
    LV_TRY(store_q_col_copy(q, 1, r->client_id, sizeof r->client_id));
    LV_TRY(store_q_col_copy(q, 2, r->redirect_uri, sizeof r->redirect_uri));
    r->redirect_given = (int)store_q_col_int64(q, 3);
    LV_TRY(store_q_col_copy(q, 4, r->scope, sizeof r->scope));
    LV_TRY(store_q_col_copy(q, 5, r->state, sizeof r->state));
    LV_TRY(store_q_col_copy(q, 6, r->code_challenge, sizeof r->code_challenge));
    LV_TRY(store_q_col_copy(q, 7, r->lang, sizeof r->lang));
    LV_TRY(store_q_col_copy(q, 8, r->serial, sizeof r->serial));
    return store_q_col_copy(q, 9, r->digest_alg, sizeof r->digest_alg);
}

static int read_state_cols(store_q *q, lv_oauth_authz_rec *r)
{
    unsigned char *sad = NULL;
    size_t len = 0;
    LV_TRY(store_q_col_copy(q, 16, r->citizen_id, sizeof r->citizen_id));
    LV_TRY(store_q_col_copy(q, 17, r->status, sizeof r->status));
    LV_TRY(store_q_col_copy(q, 18, r->otp_id, sizeof r->otp_id));
    LV_TRY(store_q_col_copy(q, 19, r->code_hash, sizeof r->code_hash));
    r->code_expires_at = store_q_col_int64(q, 20);
    r->code_used_at = store_q_col_int64(q, 21);
    LV_TRY(store_q_col_blob(q, 22, &sad, &len));
    int ok = len == 0 || len == sizeof r->sad_enc;
    if (ok && len)
        memcpy(r->sad_enc, sad, len);
    r->sad_enc_len = ok ? len : 0;
    free(sad);
    return ok ? 0 : lv_fail(q->err, LV_ESTORE, "authorization: bad SAD");
}

static int read_authz(store_q *q, void *out)
{
    lv_oauth_authz_rec *r = out;
    memset(r, 0, sizeof *r);
    LV_TRY(read_text_cols(q, r));
    LV_TRY(store_q_col_blob(q, 10, &r->hashes, &r->hashes_len));
    r->labels = strdup(store_q_col_text(q, 11));
    r->num_signatures = (int)store_q_col_int64(q, 12);
    r->description = strdup(store_q_col_text(q, 13));
    r->created_at = store_q_col_int64(q, 14);
    r->expires_at = store_q_col_int64(q, 15);
    if (!r->labels || !r->description)
        return lv_fail(q->err, LV_ENOMEM, "out of memory");
    return read_state_cols(q, r);
}

static int authz_get(store_q *q, lv_oauth_authz_rec *out, const char *key,
                     lv_err *err)
{
    int rc = store_q_get_one(q, read_authz, out, "authorization", key, err);
    if (rc < 0)
        store_oauth_authz_free(out);
    return rc;
}

int store_oauth_authz_get(lv_store *st, const char *id, lv_oauth_authz_rec *out,
                          lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    STORE_Q(&q, st, err,
            "SELECT " AUTHZ_COLUMNS " FROM oauth_authorizations WHERE id = ?",
            SQ_TEXT(id));
    return authz_get(&q, out, id, err);
}

int store_oauth_authz_by_code(lv_store *st, const char *code_hash,
                              lv_oauth_authz_rec *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    STORE_Q(&q, st, err,
            "SELECT " AUTHZ_COLUMNS " FROM oauth_authorizations"
            " WHERE code_hash = ? AND code_hash <> ''",
            SQ_TEXT(code_hash));
    return authz_get(&q, out, "(code)", err);
}

int store_oauth_authz_update(lv_store *st, const lv_oauth_authz_rec *r,
                             const char *from, lv_err *err)
{
    int64_t n = 0;
    LV_TRY(authz_check(r, err));
    LV_TRY(STORE_RUN(
        st, &n, err,
        "UPDATE oauth_authorizations SET citizen_id = ?, status = ?,"
        " otp_id = ?, code_hash = ?, code_expires_at = ?, sad_enc = ?"
        " WHERE id = ? AND status = ?",
        SQ_TEXT(r->citizen_id), SQ_TEXT(r->status), SQ_TEXT(r->otp_id),
        SQ_TEXT(r->code_hash), SQ_INT(r->code_expires_at),
        SQ_BLOB(r->sad_enc_len ? r->sad_enc : NULL, r->sad_enc_len),
        SQ_TEXT(r->id), SQ_TEXT(from)));
    return n == 1 ? 0
                  : lv_fail(err, LV_ESTATE,
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
    return n == 1 ? 0
                  : lv_fail(err, LV_ESTATE,
                            "the code is used, expired or unknown");
}

void store_oauth_authz_free(lv_oauth_authz_rec *r)
{
    if (!r)
        return;
    free(r->hashes);
    free(r->labels);
    free(r->description);
    r->hashes = NULL;
    r->labels = r->description = NULL;
    r->hashes_len = 0;
}

int store_oauth_authz_purge(lv_store *st, int64_t before, int *count,
                            lv_err *err)
{
    int64_t n = 0;
    int rc = STORE_RUN(st, &n, err,
                       "DELETE FROM oauth_authorizations WHERE expires_at < ?"
                       " AND code_expires_at < ?",
                       SQ_INT(before), SQ_INT(before));
    *count = (int)n;
    return rc;
}

int store_oauth_token_purge(lv_store *st, int64_t before, int *count,
                            lv_err *err)
{
    int64_t n = 0;
    int rc =
        STORE_RUN(st, &n, err, "DELETE FROM oauth_tokens WHERE expires_at < ?",
                  SQ_INT(before));
    *count = (int)n;
    return rc;
}

/* ---- access tokens ------------------------------------------------------ */

#define TOKEN_COLUMNS                                                          \
    "token_hash, kind, client_id, citizen_id, serial, code_hash, "             \
    "created_at, expires_at, revoked_at"

int store_oauth_token_insert(lv_store *st, const lv_oauth_token_rec *r,
                             lv_err *err)
{
    return STORE_RUN(
        st, NULL, err,
        "INSERT INTO oauth_tokens (" TOKEN_COLUMNS
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        SQ_TEXT(r->token_hash), SQ_TEXT(r->kind), SQ_TEXT(r->client_id),
        SQ_TEXT(r->citizen_id), SQ_TEXT(r->serial), SQ_TEXT(r->code_hash),
        SQ_INT(r->created_at), SQ_INT(r->expires_at), SQ_INT(r->revoked_at));
}

static int read_token(store_q *q, void *out)
{
    lv_oauth_token_rec *r = out;
    memset(r, 0, sizeof *r);
    LV_TRY(store_q_col_copy(q, 0, r->token_hash, sizeof r->token_hash));
    LV_TRY(store_q_col_copy(q, 1, r->kind, sizeof r->kind));
    LV_TRY(store_q_col_copy(q, 2, r->client_id, sizeof r->client_id));
    LV_TRY(store_q_col_copy(q, 3, r->citizen_id, sizeof r->citizen_id));
    LV_TRY(store_q_col_copy(q, 4, r->serial, sizeof r->serial));
    LV_TRY(store_q_col_copy(q, 5, r->code_hash, sizeof r->code_hash));
    r->created_at = store_q_col_int64(q, 6);
    r->expires_at = store_q_col_int64(q, 7);
    r->revoked_at = store_q_col_int64(q, 8);
    return 0;
}

int store_oauth_token_get(lv_store *st, const char *token_hash,
                          lv_oauth_token_rec *out, lv_err *err)
{
    store_q q;
    STORE_Q(&q, st, err,
            "SELECT " TOKEN_COLUMNS " FROM oauth_tokens WHERE token_hash = ?",
            SQ_TEXT(token_hash));
    return store_q_get_one(&q, read_token, out, "token", "(hash)", err);
}

int store_oauth_token_revoke(lv_store *st, const char *token_hash, int64_t now,
                             int *changed, lv_err *err)
{
    int64_t n = 0;
    int rc = STORE_RUN(st, &n, err,
                       "UPDATE oauth_tokens SET revoked_at = ?"
                       " WHERE token_hash = ? AND revoked_at = 0",
                       SQ_INT(now), SQ_TEXT(token_hash));
    *changed = (int)n;
    return rc;
}

int store_oauth_tokens_of_code(lv_store *st, const char *code_hash,
                               int (*fn)(const char *, void *), void *ctx,
                               lv_err *err)
{
    store_q q;
    STORE_Q(&q, st, err,
            "SELECT token_hash FROM oauth_tokens WHERE code_hash = ?"
            " AND revoked_at = 0",
            SQ_TEXT(code_hash));
    return store_q_each_text(&q, fn, ctx);
}
