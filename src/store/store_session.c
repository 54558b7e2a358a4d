/* Bearer sessions and one-time codes (tables sessions and otps of
 * sql/005_auth.sql).  Only hashes are stored; auth/ makes them. */
#include "store/store_driver.h"

#include <string.h>

/* ---- sessions ------------------------------------------------------------ */

int store_session_insert(lv_store *st, const lv_session_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(store_check_field(r->token_hash, sizeof r->token_hash, "token hash",
                             err));
    LV_TRY(store_check_field(r->kind, sizeof r->kind, "kind", err));
    LV_TRY(
        store_check_field(r->principal, sizeof r->principal, "principal", err));
    LV_TRY(store_check_field(r->ip, sizeof r->ip, "ip", err));
    store_q_prepare(&q, st,
                    "INSERT INTO sessions (token_hash, kind, principal,"
                    " created_at, expires_at, ip) VALUES (?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->token_hash);
    store_q_text(&q, r->kind);
    store_q_text(&q, r->principal);
    store_q_int64(&q, r->created_at ? r->created_at : lv_now());
    store_q_int64(&q, r->expires_at);
    store_q_text(&q, r->ip);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    return rc;
}

int store_session_get(lv_store *st, const char *token_hash, lv_session_rec *out,
                      lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    "SELECT token_hash, kind, principal, created_at,"
                    " expires_at, ip FROM sessions WHERE token_hash = ?",
                    err);
    store_q_text(&q, token_hash);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW) {
        rc = store_q_col_copy(&q, 0, out->token_hash, sizeof out->token_hash);
        if (rc == 0)
            rc = store_q_col_copy(&q, 1, out->kind, sizeof out->kind);
        if (rc == 0)
            rc = store_q_col_copy(&q, 2, out->principal, sizeof out->principal);
        out->created_at = store_q_col_int64(&q, 3);
        out->expires_at = store_q_col_int64(&q, 4);
        if (rc == 0)
            rc = store_q_col_copy(&q, 5, out->ip, sizeof out->ip);
    } else if (rc == LV_DB_DONE) {
        rc = lv_fail(err, LV_ENOTFOUND, "no such session");
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

int store_session_delete(lv_store *st, const char *token_hash, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st, "DELETE FROM sessions WHERE token_hash = ?", err);
    store_q_text(&q, token_hash);
    int rc = store_q_exec(&q);
    int64_t n = rc == 0 ? st->drv->changes(st->db) : 0;
    store_q_finalize(&q);
    if (rc < 0)
        return rc;
    return n == 1 ? 0 : lv_fail(err, LV_ENOTFOUND, "no such session");
}

int store_session_delete_principal(lv_store *st, const char *kind,
                                   const char *principal, int64_t *count,
                                   lv_err *err)
{
    store_q q;
    store_q_prepare(
        &q, st, "DELETE FROM sessions WHERE kind = ? AND principal = ?", err);
    store_q_text(&q, kind);
    store_q_text(&q, principal);
    int rc = store_q_exec(&q);
    if (rc == 0 && count)
        *count = st->drv->changes(st->db);
    store_q_finalize(&q);
    return rc;
}

int store_session_purge(lv_store *st, int64_t now, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st, "DELETE FROM sessions WHERE expires_at < ?", err);
    store_q_int64(&q, now);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    return rc;
}

/* ---- one-time codes -------------------------------------------------------
 */

static int otp_check(const lv_otp_rec *r, lv_err *err)
{
    LV_TRY(store_check_field(r->id, sizeof r->id, "OTP id", err));
    LV_TRY(store_check_field(r->citizen_id, sizeof r->citizen_id, "citizen id",
                             err));
    LV_TRY(store_check_field(r->purpose, sizeof r->purpose, "purpose", err));
    LV_TRY(store_check_field(r->binding, sizeof r->binding, "binding", err));
    return store_check_field(r->code_hash, sizeof r->code_hash, "code hash",
                             err);
}

int store_otp_insert(lv_store *st, const lv_otp_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(otp_check(r, err));
    store_q_prepare(&q, st,
                    "INSERT INTO otps (id, citizen_id, purpose, binding,"
                    " code_hash, created_at, expires_at, attempts, used)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->id);
    store_q_text(&q, r->citizen_id);
    store_q_text(&q, r->purpose);
    store_q_text(&q, r->binding);
    store_q_text(&q, r->code_hash);
    store_q_int64(&q, r->created_at ? r->created_at : lv_now());
    store_q_int64(&q, r->expires_at);
    store_q_int64(&q, r->attempts);
    store_q_int64(&q, r->used ? 1 : 0);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    return rc;
}

static int otp_read_row(store_q *q, void *out)
{
    lv_otp_rec *r = out;
    LV_TRY(store_q_col_copy(q, 0, r->id, sizeof r->id));
    LV_TRY(store_q_col_copy(q, 1, r->citizen_id, sizeof r->citizen_id));
    LV_TRY(store_q_col_copy(q, 2, r->purpose, sizeof r->purpose));
    LV_TRY(store_q_col_copy(q, 3, r->binding, sizeof r->binding));
    LV_TRY(store_q_col_copy(q, 4, r->code_hash, sizeof r->code_hash));
    r->created_at = store_q_col_int64(q, 5);
    r->expires_at = store_q_col_int64(q, 6);
    r->attempts = (int)store_q_col_int64(q, 7);
    r->used = (int)store_q_col_int64(q, 8);
    return 0;
}

int store_otp_get(lv_store *st, const char *id, lv_otp_rec *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    "SELECT id, citizen_id, purpose, binding, code_hash,"
                    " created_at, expires_at, attempts, used FROM otps"
                    " WHERE id = ?",
                    err);
    store_q_text(&q, id);
    return store_q_get_one(&q, otp_read_row, out, "one-time code", id, err);
}

int store_otp_update(lv_store *st, const lv_otp_rec *r, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "UPDATE otps SET attempts = ?, used = ? WHERE id = ?", err);
    store_q_int64(&q, r->attempts);
    store_q_int64(&q, r->used ? 1 : 0);
    store_q_text(&q, r->id);
    int rc = store_q_exec(&q);
    int64_t n = rc == 0 ? st->drv->changes(st->db) : 0;
    store_q_finalize(&q);
    if (rc < 0)
        return rc;
    return n == 1 ? 0
                  : lv_fail(err, LV_ENOTFOUND, "no one-time code %s", r->id);
}

/* Served by otps_by_citizen (citizen_id, created_at); the binding test
 * runs on those few rows only. */
int store_otp_count(lv_store *st, const char *citizen_id, const char *binding,
                    int64_t since, int *count, int64_t *oldest, lv_err *err)
{
    store_q q;
    const char *b = binding ? binding : "";
    *count = 0;
    *oldest = 0;
    store_q_prepare(&q, st,
                    "SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM otps"
                    " WHERE citizen_id = ? AND created_at >= ?"
                    " AND (? = '' OR binding = ?)",
                    err);
    store_q_text(&q, citizen_id);
    store_q_int64(&q, since);
    store_q_text(&q, b);
    store_q_text(&q, b);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW) {
        *count = (int)store_q_col_int64(&q, 0);
        *oldest = store_q_col_int64(&q, 1);
        rc = 0;
    } else if (rc == LV_DB_DONE) {
        rc = lv_fail(err, LV_ESTORE, "COUNT returned no row");
    }
    store_q_finalize(&q);
    return rc;
}
