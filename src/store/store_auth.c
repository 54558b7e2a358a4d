/* Operator accounts, citizens' credentials and password history (tables of
 * sql/005_auth.sql).  No rules here: auth/ decides and hashes. */
#include "store/store_driver.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* An UPDATE that matched no row names something that does not exist. */
static int updated_one(store_q *q, const char *what, const char *id)
{
    int rc = store_q_exec(q);
    int64_t n = rc == 0 ? q->st->drv->changes(q->st->db) : 0;
    store_q_finalize(q);
    if (rc < 0)
        return rc;
    return n == 1 ? 0 : lv_fail(q->err, LV_ENOTFOUND, "no %s %s", what, id);
}

/* ---- operators ---------------------------------------------------------- */

#define OP_COLUMNS                                                             \
    "login, roles, enabled, locked, failed_attempts, password_hash, "          \
    "totp_secret, totp_last_step, created_at, created_by, updated_at"

static int op_check(const lv_operator_rec *r, lv_err *err)
{
    LV_TRY(store_check_field(r->login, sizeof r->login, "login", err));
    LV_TRY(store_check_field(r->roles, sizeof r->roles, "roles", err));
    LV_TRY(store_check_field(r->password_hash, sizeof r->password_hash,
                             "password hash", err));
    LV_TRY(store_check_field(r->created_by, sizeof r->created_by, "created_by",
                             err));
    if (r->login[0] == '\0' || r->password_hash[0] == '\0' ||
        r->totp_sealed_len == 0 || r->totp_sealed_len > sizeof r->totp_sealed)
        return lv_fail(err, LV_EINVAL,
                       "operator record needs login, password and TOTP secret");
    return 0;
}

int store_operator_insert(lv_store *st, const lv_operator_rec *r, lv_err *err)
{
    store_q q;
    int64_t now = lv_now();
    LV_TRY(op_check(r, err));
    store_q_prepare(&q, st,
                    "INSERT INTO operators (" OP_COLUMNS ") VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->login);
    store_q_text(&q, r->roles);
    store_q_int64(&q, r->enabled ? 1 : 0);
    store_q_int64(&q, r->locked ? 1 : 0);
    store_q_int64(&q, r->failed_attempts);
    store_q_text(&q, r->password_hash);
    store_q_blob(&q, r->totp_sealed, r->totp_sealed_len);
    store_q_int64(&q, r->totp_last_step);
    store_q_int64(&q, r->created_at ? r->created_at : now);
    store_q_text(&q, r->created_by);
    store_q_int64(&q, now);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, rc, "operator %s already exists", r->login);
    return rc;
}

static int op_read_row(store_q *q, void *out)
{
    lv_operator_rec *r = out;
    size_t n = 0;
    memset(r, 0, sizeof *r);
    LV_TRY(store_q_col_copy(q, 0, r->login, sizeof r->login));
    LV_TRY(store_q_col_copy(q, 1, r->roles, sizeof r->roles));
    r->enabled = (int)store_q_col_int64(q, 2);
    r->locked = (int)store_q_col_int64(q, 3);
    r->failed_attempts = (int)store_q_col_int64(q, 4);
    LV_TRY(store_q_col_copy(q, 5, r->password_hash, sizeof r->password_hash));
    const void *blob = q->st->drv->column_blob(q->stmt, 6, &n);
    if (!blob || n == 0 || n > sizeof r->totp_sealed)
        return lv_fail(q->err, LV_ESTORE,
                       "operator %s: TOTP secret column is not one llave "
                       "wrote",
                       r->login);
    memcpy(r->totp_sealed, blob, n);
    r->totp_sealed_len = n;
    r->totp_last_step = store_q_col_int64(q, 7);
    r->created_at = store_q_col_int64(q, 8);
    LV_TRY(store_q_col_copy(q, 9, r->created_by, sizeof r->created_by));
    r->updated_at = store_q_col_int64(q, 10);
    return 0;
}

int store_operator_get(lv_store *st, const char *login, lv_operator_rec *out,
                       lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(
        &q, st, "SELECT " OP_COLUMNS " FROM operators WHERE login = ?", err);
    store_q_text(&q, login);
    return store_q_get_one(&q, op_read_row, out, "operator", login, err);
}

int store_operator_update(lv_store *st, const lv_operator_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(op_check(r, err));
    store_q_prepare(&q, st,
                    "UPDATE operators SET roles = ?, enabled = ?, locked = ?,"
                    " failed_attempts = ?, password_hash = ?, totp_secret = ?,"
                    " totp_last_step = ?, updated_at = ? WHERE login = ?",
                    err);
    store_q_text(&q, r->roles);
    store_q_int64(&q, r->enabled ? 1 : 0);
    store_q_int64(&q, r->locked ? 1 : 0);
    store_q_int64(&q, r->failed_attempts);
    store_q_text(&q, r->password_hash);
    store_q_blob(&q, r->totp_sealed, r->totp_sealed_len);
    store_q_int64(&q, r->totp_last_step);
    store_q_int64(&q, lv_now());
    store_q_text(&q, r->login);
    return updated_one(&q, "operator", r->login);
}

int store_operator_foreach(lv_store *st,
                           int (*fn)(const lv_operator_rec *, void *),
                           void *ctx, lv_err *err)
{
    store_q q;
    lv_operator_rec rec;
    int rc;
    store_q_prepare(&q, st,
                    "SELECT " OP_COLUMNS " FROM operators ORDER BY login", err);
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        rc = op_read_row(&q, &rec);
        if (rc == 0)
            rc = fn(&rec, ctx);
        OPENSSL_cleanse(&rec, sizeof rec);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

/* ---- two-person approvals (CPS §5.2.4) ---------------------------------- */

static int approval_read_row(store_q *q, void *out)
{
    lv_approval_rec *r = out;
    LV_TRY(store_q_col_copy(q, 0, r->action, sizeof r->action));
    LV_TRY(store_q_col_copy(q, 1, r->target, sizeof r->target));
    LV_TRY(store_q_col_copy(q, 2, r->requested_by, sizeof r->requested_by));
    r->requested_at = store_q_col_int64(q, 3);
    return 0;
}

int store_approval_get(lv_store *st, const char *action, const char *target,
                       lv_approval_rec *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    "SELECT action, target, requested_by, requested_at"
                    " FROM operator_approvals WHERE action = ? AND target = ?",
                    err);
    store_q_text(&q, action);
    store_q_text(&q, target);
    return store_q_get_one(&q, approval_read_row, out, "pending request for",
                           target, err);
}

int store_approval_put(lv_store *st, const lv_approval_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(store_check_field(r->action, sizeof r->action, "action", err));
    LV_TRY(store_check_field(r->target, sizeof r->target, "target", err));
    LV_TRY(store_check_field(r->requested_by, sizeof r->requested_by,
                             "requested by", err));
    LV_TRY(store_approval_delete(st, r->action, r->target, err));
    store_q_prepare(&q, st,
                    "INSERT INTO operator_approvals (action, target,"
                    " requested_by, requested_at) VALUES (?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->action);
    store_q_text(&q, r->target);
    store_q_text(&q, r->requested_by);
    store_q_int64(&q, r->requested_at ? r->requested_at : lv_now());
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    return rc;
}

int store_approval_delete(lv_store *st, const char *action, const char *target,
                          lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "DELETE FROM operator_approvals WHERE action = ?"
                    " AND target = ?",
                    err);
    store_q_text(&q, action);
    store_q_text(&q, target);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    return rc;
}

/* ---- citizens' credentials ----------------------------------------------- */

#define CRED_COLUMNS                                                           \
    "citizen_id, user_id, mobile, password_hash, password_set_at, "            \
    "password_expires_at, failed_attempts, locked, activation_hash, "          \
    "activation_expires_at, activation_attempts, failures_since, "             \
    "codes_since, codes_sent, created_at, updated_at"

static int cred_check(const lv_cred_rec *r, lv_err *err)
{
    LV_TRY(store_check_field(r->citizen_id, sizeof r->citizen_id, "citizen id",
                             err));
    LV_TRY(store_check_field(r->user_id, sizeof r->user_id, "user id", err));
    LV_TRY(store_check_field(r->mobile, sizeof r->mobile, "mobile", err));
    LV_TRY(store_check_field(r->password_hash, sizeof r->password_hash,
                             "password hash", err));
    LV_TRY(store_check_field(r->activation_hash, sizeof r->activation_hash,
                             "activation hash", err));
    if (!r->citizen_id[0] || !r->user_id[0] || !r->mobile[0])
        return lv_fail(err, LV_EINVAL,
                       "credential record needs citizen id, user id, mobile");
    return 0;
}

/* The columns after citizen_id and created_at, in update order. */
static void cred_bind_mutable(store_q *q, const lv_cred_rec *r)
{
    store_q_text(q, r->user_id);
    store_q_text(q, r->mobile);
    store_q_text(q, r->password_hash);
    store_q_int64(q, r->password_set_at);
    store_q_int64(q, r->password_expires_at);
    store_q_int64(q, r->failed_attempts);
    store_q_int64(q, r->locked ? 1 : 0);
    store_q_text(q, r->activation_hash);
    store_q_int64(q, r->activation_expires_at);
    store_q_int64(q, r->activation_attempts);
    store_q_int64(q, r->failures_since);
    store_q_int64(q, r->codes_since);
    store_q_int64(q, r->codes_sent);
    store_q_int64(q, lv_now());
}

int store_cred_insert(lv_store *st, const lv_cred_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(cred_check(r, err));
    store_q_prepare(&q, st,
                    "INSERT INTO citizen_credentials (citizen_id, created_at,"
                    " user_id, mobile, password_hash, password_set_at,"
                    " password_expires_at, failed_attempts, locked,"
                    " activation_hash, activation_expires_at,"
                    " activation_attempts, failures_since, codes_since,"
                    " codes_sent, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    " ?)",
                    err);
    store_q_text(&q, r->citizen_id);
    store_q_int64(&q, r->created_at ? r->created_at : lv_now());
    cred_bind_mutable(&q, r);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, rc,
                       "citizen %s already has credentials, or user id %s is "
                       "taken",
                       r->citizen_id, r->user_id);
    return rc;
}

static int cred_read_row(store_q *q, void *out)
{
    lv_cred_rec *r = out;
    memset(r, 0, sizeof *r);
    LV_TRY(store_q_col_copy(q, 0, r->citizen_id, sizeof r->citizen_id));
    LV_TRY(store_q_col_copy(q, 1, r->user_id, sizeof r->user_id));
    LV_TRY(store_q_col_copy(q, 2, r->mobile, sizeof r->mobile));
    LV_TRY(store_q_col_copy(q, 3, r->password_hash, sizeof r->password_hash));
    r->password_set_at = store_q_col_int64(q, 4);
    r->password_expires_at = store_q_col_int64(q, 5);
    r->failed_attempts = (int)store_q_col_int64(q, 6);
    r->locked = (int)store_q_col_int64(q, 7);
    LV_TRY(
        store_q_col_copy(q, 8, r->activation_hash, sizeof r->activation_hash));
    r->activation_expires_at = store_q_col_int64(q, 9);
    r->activation_attempts = (int)store_q_col_int64(q, 10);
    r->failures_since = store_q_col_int64(q, 11);
    r->codes_since = store_q_col_int64(q, 12);
    r->codes_sent = (int)store_q_col_int64(q, 13);
    r->created_at = store_q_col_int64(q, 14);
    r->updated_at = store_q_col_int64(q, 15);
    return 0;
}

static int cred_get_where(lv_store *st, const char *sql, const char *key,
                          lv_cred_rec *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st, sql, err);
    store_q_text(&q, key);
    return store_q_get_one(&q, cred_read_row, out, "credentials for", key, err);
}

int store_cred_get(lv_store *st, const char *citizen_id, lv_cred_rec *out,
                   lv_err *err)
{
    return cred_get_where(st,
                          "SELECT " CRED_COLUMNS " FROM citizen_credentials"
                          " WHERE citizen_id = ?",
                          citizen_id, out, err);
}

int store_cred_get_by_user(lv_store *st, const char *user_id, lv_cred_rec *out,
                           lv_err *err)
{
    return cred_get_where(st,
                          "SELECT " CRED_COLUMNS " FROM citizen_credentials"
                          " WHERE user_id = ?",
                          user_id, out, err);
}

int store_cred_update(lv_store *st, const lv_cred_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(cred_check(r, err));
    store_q_prepare(&q, st,
                    "UPDATE citizen_credentials SET user_id = ?, mobile = ?,"
                    " password_hash = ?, password_set_at = ?,"
                    " password_expires_at = ?, failed_attempts = ?,"
                    " locked = ?, activation_hash = ?,"
                    " activation_expires_at = ?, activation_attempts = ?,"
                    " failures_since = ?, codes_since = ?, codes_sent = ?,"
                    " updated_at = ? WHERE citizen_id = ?",
                    err);
    cred_bind_mutable(&q, r);
    store_q_text(&q, r->citizen_id);
    int rc = updated_one(&q, "credentials for citizen", r->citizen_id);
    if (rc == LV_EEXISTS)
        return lv_fail(err, rc, "user id %s is taken", r->user_id);
    return rc;
}

/* ---- password history ------------------------------------------------------
 */

int store_pwhist_add(lv_store *st, const char *citizen_id,
                     const char *password_hash, int64_t set_at, lv_err *err)
{
    store_q q;
    /* seq = newest + 1, computed in the statement; the caller's write
     * transaction keeps two writers from picking the same value. */
    store_q_prepare(&q, st,
                    "INSERT INTO password_history (citizen_id, seq,"
                    " password_hash, set_at) SELECT ?, COALESCE(MAX(seq), 0)"
                    " + 1, ?, ? FROM password_history WHERE citizen_id = ?",
                    err);
    store_q_text(&q, citizen_id);
    store_q_text(&q, password_hash);
    store_q_int64(&q, set_at);
    store_q_text(&q, citizen_id);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    return rc;
}

int store_pwhist_foreach(lv_store *st, const char *citizen_id, int limit,
                         int (*fn)(const char *password_hash, void *),
                         void *ctx, lv_err *err)
{
    store_q q;
    int rc;
    store_q_prepare(&q, st,
                    "SELECT password_hash FROM password_history"
                    " WHERE citizen_id = ? ORDER BY seq DESC LIMIT ?",
                    err);
    store_q_text(&q, citizen_id);
    store_q_int64(&q, limit);
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        rc = fn(store_q_col_text(&q, 0), ctx);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}
