/* Operator accounts, citizens' credentials and password history (tables of
 * sql/005_auth.sql).  No rules here: auth/ decides and hashes. */
#include "store/store_rows.h"

/* ---- operators ---------------------------------------------------------- */

/* The operator table needs login, password hash and TOTP secret. */
STORE_ADD(operator, lv_operator_rec, &store_row_operator, r,
          "operator %s already exists", r->login)
STORE_GET(operator, lv_operator_rec, &store_row_operator, login,
          "no operator %s", login)

int store_operator_update(lv_store *st, const lv_operator_rec *r, lv_err *err)
{
    int64_t n = 0;
    LV_TRY(store_row_check(&store_row_operator, r, err));
    LV_TRY(STORE_ROW_RUN(
        st, &store_row_operator, r, 1, OP_UPDATED, &n, err,
        "UPDATE operators SET roles = ?, enabled = ?, locked = ?,"
        " failed_attempts = ?, password_hash = ?, totp_secret = ?,"
        " totp_last_step = ?, updated_at = ? WHERE login = ?",
        SQ_TEXT(r->login)));
    return store_one(n, err, LV_ENOTFOUND, "no operator %s", r->login);
}

int store_operator_foreach(lv_store *st, STORE_VISIT(lv_operator_rec),
                           lv_err *err)
{
    STORE_RETURN_EACH(lv_operator_rec, &store_row_operator, st, err, fn, ctx,
                      "SELECT " OP_COLUMNS " FROM operators ORDER BY login");
}

/* ---- operators' client certificates (issue 17 item 4) -------------------- */

STORE_ADD(opcert, lv_opcert_rec, &store_row_opcert, r,
          "certificate %s is already bound", r->fingerprint)
STORE_GET(opcert, lv_opcert_rec, &store_row_opcert, fingerprint,
          "no operator holds certificate %s", fingerprint)

int store_opcert_delete_login(lv_store *st, const char *login, int *n,
                              lv_err *err)
{
    return STORE_CHANGED(st, n, err,
                         "DELETE FROM operator_certificates WHERE login = ?",
                         SQ_TEXT(login));
}

/* ---- two-person approvals (CPS §5.2.4) ---------------------------------- */

STORE_PAIR(approval, lv_approval_rec, &store_row_approval, action, target,
           "no pending request for %s", target)

/* ---- citizens' credentials ----------------------------------------------- */

/* The credentials table needs citizen id, user id and mobile. */
STORE_ADD(cred, lv_cred_rec, &store_row_cred, r,
          "citizen %s already has credentials, or user id %s is taken",
          r->citizen_id, r->user_id)
STORE_GET(cred, lv_cred_rec, &store_row_cred, citizen_id,
          "no credentials for %s", citizen_id)

int store_cred_get_by_user(lv_store *st, const char *user_id, lv_cred_rec *out,
                           lv_err *err)
{
    return store_row_find(st, &store_row_cred,
                          "SELECT " CRED_COLUMNS " FROM citizen_credentials"
                          " WHERE user_id = ?",
                          user_id, out, err, "no credentials for %s", user_id);
}

int store_cred_update(lv_store *st, const lv_cred_rec *r, lv_err *err)
{
    int64_t n = 0;
    LV_TRY(store_row_check(&store_row_cred, r, err));
    int rc = STORE_ROW_RUN(
        st, &store_row_cred, r, CRED_MUTABLE, store_row_cred.n, &n, err,
        "UPDATE citizen_credentials SET user_id = ?, mobile = ?,"
        " password_hash = ?, password_set_at = ?, password_expires_at = ?,"
        " failed_attempts = ?, locked = ?, activation_hash = ?,"
        " activation_expires_at = ?, activation_attempts = ?,"
        " failures_since = ?, codes_since = ?, codes_sent = ?,"
        " updated_at = ? WHERE citizen_id = ?",
        SQ_TEXT(r->citizen_id));
    LV_TRY(
        store_explain(rc, LV_EEXISTS, err, "user id %s is taken", r->user_id));
    return store_one(n, err, LV_ENOTFOUND, "no credentials for citizen %s",
                     r->citizen_id);
}

/* ---- password history ------------------------------------------------------
 */

int store_pwhist_add(lv_store *st, const char *citizen_id,
                     const char *password_hash, int64_t set_at, lv_err *err)
{
    /* seq = newest + 1, computed in the statement; the caller's write
     * transaction keeps two writers from picking the same value. */
    return STORE_RUN(st, NULL, err,
                     "INSERT INTO password_history (citizen_id, seq,"
                     " password_hash, set_at) SELECT ?, COALESCE(MAX(seq), 0)"
                     " + 1, ?, ? FROM password_history WHERE citizen_id = ?",
                     SQ_TEXT(citizen_id), SQ_TEXT(password_hash),
                     SQ_INT(set_at), SQ_TEXT(citizen_id));
}

int store_pwhist_foreach(lv_store *st, const char *citizen_id, int limit,
                         STORE_VISIT(char), lv_err *err)
{
    return STORE_EACH_TEXT(st, err, fn, ctx,
                           "SELECT password_hash FROM password_history"
                           " WHERE citizen_id = ? ORDER BY seq DESC LIMIT ?",
                           SQ_TEXT(citizen_id), SQ_INT(limit));
}
