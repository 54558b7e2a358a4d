/* Raw audit rows (table audit_log).  The chain itself — sequence numbers,
 * hashes, verification — is audit/'s job; this file only moves rows. */
#include "store/store_rows.h"

int store_audit_insert(lv_store *st, const lv_audit_row *row, lv_err *err)
{
    return store_row_add(st, &store_row_audit, row, err,
                         "audit entry %lld already exists",
                         (long long)row->seq);
}

int store_audit_last(lv_store *st, lv_audit_row *out, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "SELECT " AUDIT_COLUMNS
                    " FROM audit_log ORDER BY seq DESC LIMIT 1",
                    err);
    return store_row_got(&q, &store_row_audit, out, err,
                         "the audit trail is empty");
}

int store_audit_get(lv_store *st, int64_t seq, lv_audit_row *out, lv_err *err)
{
    store_q q;
    STORE_Q(&q, st, err,
            "SELECT " AUDIT_COLUMNS " FROM audit_log WHERE seq = ?",
            SQ_INT(seq));
    return store_row_got(&q, &store_row_audit, out, err, "no audit entry %lld",
                         (long long)seq);
}

/* Streams rows one at a time so that verifying a trail of millions of
 * entries needs constant memory. */
int store_audit_foreach(lv_store *st, int64_t from_seq,
                        STORE_VISIT(lv_audit_row), lv_err *err)
{
    STORE_RETURN_EACH(lv_audit_row, &store_row_audit, st, err, fn, ctx,
                      "SELECT " AUDIT_COLUMNS
                      " FROM audit_log WHERE seq >= ? ORDER BY seq",
                      SQ_INT(from_seq));
}

void store_audit_row_free(lv_audit_row *row)
{
    store_row_free(&store_row_audit, row);
}
