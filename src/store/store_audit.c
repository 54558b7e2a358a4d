/* Raw audit rows (table audit_log).  The chain itself — sequence numbers,
 * hashes, verification — is audit/'s job; this file only moves rows. */
#include "store/store_driver.h"

#include <stdlib.h>
#include <string.h>

#define AUDIT_COLUMNS                                                          \
    "seq, time, actor, event, object, result, details, prev_hash, hash"

static int audit_check(const lv_audit_row *r, lv_err *err)
{
    LV_TRY(store_check_field(r->time, sizeof r->time, "audit time", err));
    LV_TRY(store_check_field(r->actor, sizeof r->actor, "audit actor", err));
    LV_TRY(store_check_field(r->event, sizeof r->event, "audit event", err));
    LV_TRY(store_check_field(r->object, sizeof r->object, "audit object", err));
    LV_TRY(store_check_field(r->result, sizeof r->result, "audit result", err));
    LV_TRY(store_check_field(r->prev_hash, sizeof r->prev_hash,
                             "audit prev_hash", err));
    LV_TRY(store_check_field(r->hash, sizeof r->hash, "audit hash", err));
    return 0;
}

int store_audit_insert(lv_store *st, const lv_audit_row *row, lv_err *err)
{
    store_q q;
    LV_TRY(audit_check(row, err));
    store_q_prepare(&q, st,
                    "INSERT INTO audit_log (" AUDIT_COLUMNS ")"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_int64(&q, row->seq);
    store_q_text(&q, row->time);
    store_q_text(&q, row->actor);
    store_q_text(&q, row->event);
    store_q_text(&q, row->object);
    store_q_text(&q, row->result);
    store_q_text(&q, row->details); /* NULL binds SQL NULL */
    store_q_text(&q, row->prev_hash);
    store_q_text(&q, row->hash);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, rc, "audit entry %lld already exists",
                       (long long)row->seq);
    return rc;
}

static int audit_read_row(store_q *q, lv_audit_row *r)
{
    memset(r, 0, sizeof *r);
    r->seq = store_q_col_int64(q, 0);
    LV_TRY(store_q_col_copy(q, 1, r->time, sizeof r->time));
    LV_TRY(store_q_col_copy(q, 2, r->actor, sizeof r->actor));
    LV_TRY(store_q_col_copy(q, 3, r->event, sizeof r->event));
    LV_TRY(store_q_col_copy(q, 4, r->object, sizeof r->object));
    LV_TRY(store_q_col_copy(q, 5, r->result, sizeof r->result));
    LV_TRY(store_q_col_copy(q, 7, r->prev_hash, sizeof r->prev_hash));
    LV_TRY(store_q_col_copy(q, 8, r->hash, sizeof r->hash));
    const char *details = q->st->drv->column_text(q->stmt, 6);
    if (details && !(r->details = strdup(details)))
        return lv_fail(q->err, LV_ENOMEM, "out of memory");
    return 0;
}

int store_audit_last(lv_store *st, lv_audit_row *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    "SELECT " AUDIT_COLUMNS
                    " FROM audit_log ORDER BY seq DESC LIMIT 1",
                    err);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW)
        rc = audit_read_row(&q, out);
    else if (rc == LV_DB_DONE)
        rc = lv_fail(err, LV_ENOTFOUND, "the audit trail is empty");
    store_q_finalize(&q);
    if (rc < 0)
        store_audit_row_free(out);
    return rc < 0 ? rc : 0;
}

/* Streams rows one at a time so that verifying a trail of millions of
 * entries needs constant memory. */
int store_audit_foreach(lv_store *st, int64_t from_seq,
                        int (*fn)(const lv_audit_row *, void *), void *ctx,
                        lv_err *err)
{
    store_q q;
    lv_audit_row row;
    int rc;
    store_q_prepare(&q, st,
                    "SELECT " AUDIT_COLUMNS
                    " FROM audit_log WHERE seq >= ? ORDER BY seq",
                    err);
    store_q_int64(&q, from_seq);
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        rc = audit_read_row(&q, &row);
        if (rc == 0)
            rc = fn(&row, ctx);
        store_audit_row_free(&row);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

void store_audit_row_free(lv_audit_row *row)
{
    if (!row)
        return;
    free(row->details);
    row->details = NULL;
}
