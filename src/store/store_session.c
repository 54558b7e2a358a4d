/* Bearer sessions and one-time codes (tables sessions and otps of
 * sql/005_auth.sql).  Only hashes are stored; auth/ makes them. */
#include "store/store_rows.h"

/* ---- sessions ------------------------------------------------------------ */

STORE_INSERT(session, lv_session_rec, &store_row_session)
STORE_GET(session, lv_session_rec, &store_row_session, token_hash,
          "no such session")

int store_session_delete(lv_store *st, const char *token_hash, lv_err *err)
{
    int64_t n = 0;
    LV_TRY(STORE_RUN(st, &n, err, "DELETE FROM sessions WHERE token_hash = ?",
                     SQ_TEXT(token_hash)));
    return store_one(n, err, LV_ENOTFOUND, "no such session");
}

int store_session_delete_principal(lv_store *st, const char *kind,
                                   const char *principal, int64_t *count,
                                   lv_err *err)
{
    /* cppcheck takes the parameter `kind` for the designated member .kind
     * of store_arg that SQ_TEXT fills */
    // cppcheck-suppress unknownEvaluationOrder
    return STORE_RUN(st, count, err,
                     "DELETE FROM sessions WHERE kind = ? AND principal = ?",
                     SQ_TEXT(kind), SQ_TEXT(principal));
}

int store_session_purge(lv_store *st, int64_t now, lv_err *err)
{
    return STORE_RUN(st, NULL, err, "DELETE FROM sessions WHERE expires_at < ?",
                     SQ_INT(now));
}

int store_otp_purge(lv_store *st, int64_t before, int *count, lv_err *err)
{
    return STORE_CHANGED(st, count, err,
                         "DELETE FROM otps WHERE expires_at < ?",
                         SQ_INT(before));
}

/* ---- one-time codes -------------------------------------------------------
 */

STORE_INSERT(otp, lv_otp_rec, &store_row_otp)
STORE_GET(otp, lv_otp_rec, &store_row_otp, id, "no one-time code %s", id)

int store_otp_update(lv_store *st, const lv_otp_rec *r, lv_err *err)
{
    int64_t n = 0;
    LV_TRY(STORE_RUN(
        st, &n, err, "UPDATE otps SET attempts = ?, used = ? WHERE id = ?",
        SQ_INT(r->attempts), SQ_INT(r->used ? 1 : 0), SQ_TEXT(r->id)));
    return store_one(n, err, LV_ENOTFOUND, "no one-time code %s", r->id);
}

/* Served by otps_by_citizen (citizen_id, created_at); the binding test
 * runs on those few rows only. */
int store_otp_count(lv_store *st, const char *citizen_id, const char *binding,
                    int64_t since, int *count, int64_t *oldest, lv_err *err)
{
    store_q q;
    const char *b = binding ? binding : "";
    int64_t v[2] = {0, 0};
    STORE_Q(&q, st, err,
            "SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM otps"
            " WHERE citizen_id = ? AND created_at >= ?"
            " AND (? = '' OR binding = ?)",
            SQ_TEXT(citizen_id), SQ_INT(since), SQ_TEXT(b), SQ_TEXT(b));
    int rc = store_q_ints(&q, v, 2);
    *count = (int)v[0];
    *oldest = v[1];
    return rc;
}
