/* Audit seals (table audit_seals, sql/007_audit_seal.sql) and the database
 * snapshot used by backups (issue 8).  What a seal means and how it is
 * verified is audit/'s job; this file moves rows. */
#include "store/store_rows.h"

int store_audit_seal_insert(lv_store *st, const lv_audit_seal_rec *rec,
                            lv_err *err)
{
    if (!rec->signature || !rec->signature_len || !rec->tst || !rec->tst_len)
        return lv_fail(err, LV_EINVAL, "a seal needs a signature and a token");
    return store_row_add(st, &store_row_seal, rec, err,
                         "audit seal %lld already exists", (long long)rec->id);
}

int store_audit_seal_last(lv_store *st, lv_audit_seal_rec *out, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "SELECT " SEAL_COLUMNS
                    " FROM audit_seals ORDER BY id DESC LIMIT 1",
                    err);
    return store_row_got(&q, &store_row_seal, out, err,
                         "the audit trail has no seal yet");
}

static int seal_foreach(lv_store *st, const char *sql, int64_t arg,
                        STORE_VISIT(lv_audit_seal_rec), lv_err *err)
{
    STORE_RETURN_EACH(lv_audit_seal_rec, &store_row_seal, st, err, fn, ctx, sql,
                      SQ_INT(arg));
}

/* The seals that meet cond (one integer parameter), oldest first. */
#define SEALS_WHERE(cond)                                                      \
    "SELECT " SEAL_COLUMNS " FROM audit_seals WHERE " cond " ORDER BY id"

int store_audit_seal_foreach(lv_store *st, int64_t from_id,
                             STORE_VISIT(lv_audit_seal_rec), lv_err *err)
{
    return seal_foreach(st, SEALS_WHERE("id >= ?"), from_id, fn, ctx, err);
}

int store_audit_seal_foreach_seq(lv_store *st, int64_t seq,
                                 STORE_VISIT(lv_audit_seal_rec), lv_err *err)
{
    return seal_foreach(st, SEALS_WHERE("seq = ?"), seq, fn, ctx, err);
}

void store_audit_seal_rec_free(lv_audit_seal_rec *rec)
{
    store_row_free(&store_row_seal, rec);
}

int store_backup(lv_store *st, const char *path, lv_err *err)
{
    if (!st->drv->backup)
        return lv_fail(err, LV_EINVAL,
                       "the %s back end has no built-in backup; use its own "
                       "tools",
                       st->drv->name);
    if (st->in_tx)
        return lv_fail(err, LV_ESTATE, "backup inside a transaction");
    return st->drv->backup(st->db, path, err);
}
