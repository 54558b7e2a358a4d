/* Audit seals (table audit_seals, sql/007_audit_seal.sql), one audit entry
 * by number, and the database snapshot used by backups (issue 8).  What a
 * seal means and how it is verified is audit/'s job; this file moves rows. */
#include "store/store_driver.h"

#include <stdlib.h>
#include <string.h>

#define AUDIT_COLUMNS                                                          \
    "seq, time, actor, event, object, result, details, prev_hash, hash"
#define SEAL_COLUMNS "id, seq, hash, sealed_at, signer, signature, tst, actor"

int store_audit_get(lv_store *st, int64_t seq, lv_audit_row *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(
        &q, st, "SELECT " AUDIT_COLUMNS " FROM audit_log WHERE seq = ?", err);
    store_q_int64(&q, seq);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW) {
        rc = 0;
        if (store_q_col_copy(&q, 1, out->time, sizeof out->time) < 0 ||
            store_q_col_copy(&q, 2, out->actor, sizeof out->actor) < 0 ||
            store_q_col_copy(&q, 3, out->event, sizeof out->event) < 0 ||
            store_q_col_copy(&q, 4, out->object, sizeof out->object) < 0 ||
            store_q_col_copy(&q, 5, out->result, sizeof out->result) < 0 ||
            store_q_col_copy(&q, 7, out->prev_hash, sizeof out->prev_hash) <
                0 ||
            store_q_col_copy(&q, 8, out->hash, sizeof out->hash) < 0)
            rc = LV_ESTORE;
        out->seq = store_q_col_int64(&q, 0);
        const char *d = st->drv->column_text(q.stmt, 6);
        if (rc == 0 && d && !(out->details = strdup(d)))
            rc = lv_fail(err, LV_ENOMEM, "out of memory");
    } else if (rc == LV_DB_DONE) {
        rc = lv_fail(err, LV_ENOTFOUND, "no audit entry %lld", (long long)seq);
    }
    store_q_finalize(&q);
    if (rc < 0)
        store_audit_row_free(out);
    return rc < 0 ? rc : 0;
}

static int seal_check(const lv_audit_seal_rec *r, lv_err *err)
{
    LV_TRY(store_check_field(r->hash, sizeof r->hash, "seal hash", err));
    LV_TRY(store_check_field(r->signer, sizeof r->signer, "seal signer", err));
    LV_TRY(store_check_field(r->actor, sizeof r->actor, "seal actor", err));
    if (!r->signature || !r->signature_len || !r->tst || !r->tst_len)
        return lv_fail(err, LV_EINVAL, "a seal needs a signature and a token");
    return 0;
}

int store_audit_seal_insert(lv_store *st, const lv_audit_seal_rec *rec,
                            lv_err *err)
{
    store_q q;
    LV_TRY(seal_check(rec, err));
    store_q_prepare(&q, st,
                    "INSERT INTO audit_seals (" SEAL_COLUMNS ")"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_int64(&q, rec->id);
    store_q_int64(&q, rec->seq);
    store_q_text(&q, rec->hash);
    store_q_int64(&q, rec->sealed_at);
    store_q_text(&q, rec->signer);
    store_q_blob(&q, rec->signature, rec->signature_len);
    store_q_blob(&q, rec->tst, rec->tst_len);
    store_q_text(&q, rec->actor);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, rc, "audit seal %lld already exists",
                       (long long)rec->id);
    return rc;
}

static int seal_read(store_q *q, lv_audit_seal_rec *r)
{
    memset(r, 0, sizeof *r);
    r->id = store_q_col_int64(q, 0);
    r->seq = store_q_col_int64(q, 1);
    LV_TRY(store_q_col_copy(q, 2, r->hash, sizeof r->hash));
    r->sealed_at = store_q_col_int64(q, 3);
    LV_TRY(store_q_col_copy(q, 4, r->signer, sizeof r->signer));
    LV_TRY(store_q_col_blob(q, 5, &r->signature, &r->signature_len));
    LV_TRY(store_q_col_blob(q, 6, &r->tst, &r->tst_len));
    return store_q_col_copy(q, 7, r->actor, sizeof r->actor);
}

int store_audit_seal_last(lv_store *st, lv_audit_seal_rec *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    "SELECT " SEAL_COLUMNS
                    " FROM audit_seals ORDER BY id DESC LIMIT 1",
                    err);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW)
        rc = seal_read(&q, out);
    else if (rc == LV_DB_DONE)
        rc = lv_fail(err, LV_ENOTFOUND, "the audit trail has no seal yet");
    store_q_finalize(&q);
    if (rc < 0)
        store_audit_seal_rec_free(out);
    return rc < 0 ? rc : 0;
}

static int seal_foreach(lv_store *st, const char *sql, int64_t arg,
                        int (*fn)(const lv_audit_seal_rec *, void *), void *ctx,
                        lv_err *err)
{
    store_q q;
    lv_audit_seal_rec rec;
    int rc;
    store_q_prepare(&q, st, sql, err);
    store_q_int64(&q, arg);
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        rc = seal_read(&q, &rec);
        if (rc == 0)
            rc = fn(&rec, ctx);
        store_audit_seal_rec_free(&rec);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

int store_audit_seal_foreach(lv_store *st, int64_t from_id,
                             int (*fn)(const lv_audit_seal_rec *, void *),
                             void *ctx, lv_err *err)
{
    return seal_foreach(st,
                        "SELECT " SEAL_COLUMNS
                        " FROM audit_seals WHERE id >= ? ORDER BY id",
                        from_id, fn, ctx, err);
}

int store_audit_seal_foreach_seq(lv_store *st, int64_t seq,
                                 int (*fn)(const lv_audit_seal_rec *, void *),
                                 void *ctx, lv_err *err)
{
    return seal_foreach(st,
                        "SELECT " SEAL_COLUMNS
                        " FROM audit_seals WHERE seq = ? ORDER BY id",
                        seq, fn, ctx, err);
}

void store_audit_seal_rec_free(lv_audit_seal_rec *rec)
{
    if (!rec)
        return;
    free(rec->signature);
    free(rec->tst);
    rec->signature = rec->tst = NULL;
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
