/* End-entity certificate records (table certs). */
#include "store/store_driver.h"

#include <stdlib.h>
#include <string.h>

#define CERT_COLUMNS                                                           \
    "serial, ca, profile, subject_id, subscriber_id, subject_dn, key_id, "     \
    "not_before, not_after, created_at, status, revoked_at, "                  \
    "revocation_reason, test, der"

static int cert_check(const lv_cert_rec *r, lv_err *err)
{
    LV_TRY(store_check_field(r->serial, sizeof r->serial, "serial", err));
    LV_TRY(store_check_field(r->ca, sizeof r->ca, "CA name", err));
    LV_TRY(store_check_field(r->profile, sizeof r->profile, "profile", err));
    LV_TRY(store_check_field(r->subject_id, sizeof r->subject_id, "subject id",
                             err));
    LV_TRY(store_check_field(r->subscriber_id, sizeof r->subscriber_id,
                             "subscriber id", err));
    LV_TRY(store_check_field(r->subject_dn, sizeof r->subject_dn, "subject DN",
                             err));
    LV_TRY(store_check_field(r->key_id, sizeof r->key_id, "key id", err));
    if (r->serial[0] == '\0' || !r->der || r->der_len == 0)
        return lv_fail(err, LV_EINVAL,
                       "certificate record needs a serial and a DER body");
    if (r->status != LV_CERT_VALID && r->status != LV_CERT_REVOKED)
        return lv_fail(err, LV_EINVAL, "bad certificate status %d", r->status);
    return 0;
}

static void cert_bind(store_q *q, const lv_cert_rec *r)
{
    store_q_text(q, r->serial);
    store_q_text(q, r->ca);
    store_q_text(q, r->profile);
    store_q_text(q, r->subject_id);
    store_q_text(q, r->subscriber_id);
    store_q_text(q, r->subject_dn);
    store_q_text(q, r->key_id);
    store_q_int64(q, r->not_before);
    store_q_int64(q, r->not_after);
    store_q_int64(q, r->created_at ? r->created_at : lv_now());
    store_q_int64(q, r->status);
    store_q_int64(q, r->revoked_at);
    store_q_int64(q, r->status == LV_CERT_REVOKED ? r->revocation_reason : -1);
    store_q_int64(q, r->test ? 1 : 0);
    store_q_blob(q, r->der, r->der_len);
}

/* created_at 0 means "now". */
int store_cert_insert(lv_store *st, const lv_cert_rec *rec, lv_err *err)
{
    store_q q;
    LV_TRY(cert_check(rec, err));
    store_q_prepare(&q, st,
                    "INSERT INTO certs (" CERT_COLUMNS ") VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    cert_bind(&q, rec);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, rc, "certificate serial %s already exists",
                       rec->serial);
    if (rc == LV_EINVAL)
        return lv_fail(err, rc, "certificate names unknown CA %s", rec->ca);
    return rc;
}

static int cert_read_row(store_q *q, lv_cert_rec *r)
{
    memset(r, 0, sizeof *r);
    LV_TRY(store_q_col_copy(q, 0, r->serial, sizeof r->serial));
    LV_TRY(store_q_col_copy(q, 1, r->ca, sizeof r->ca));
    LV_TRY(store_q_col_copy(q, 2, r->profile, sizeof r->profile));
    LV_TRY(store_q_col_copy(q, 3, r->subject_id, sizeof r->subject_id));
    LV_TRY(store_q_col_copy(q, 4, r->subscriber_id, sizeof r->subscriber_id));
    LV_TRY(store_q_col_copy(q, 5, r->subject_dn, sizeof r->subject_dn));
    LV_TRY(store_q_col_copy(q, 6, r->key_id, sizeof r->key_id));
    r->not_before = store_q_col_int64(q, 7);
    r->not_after = store_q_col_int64(q, 8);
    r->created_at = store_q_col_int64(q, 9);
    r->status = (int)store_q_col_int64(q, 10);
    r->revoked_at = store_q_col_int64(q, 11);
    r->revocation_reason = (int)store_q_col_int64(q, 12);
    r->test = (int)store_q_col_int64(q, 13);
    return store_q_col_blob(q, 14, &r->der, &r->der_len);
}

int store_cert_get(lv_store *st, const char *serial, lv_cert_rec *out,
                   lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    "SELECT " CERT_COLUMNS " FROM certs WHERE serial = ?", err);
    store_q_text(&q, serial);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW)
        rc = cert_read_row(&q, out);
    else if (rc == LV_DB_DONE)
        rc =
            lv_fail(err, LV_ENOTFOUND, "no certificate with serial %s", serial);
    store_q_finalize(&q);
    if (rc < 0)
        store_cert_rec_free(out);
    return rc < 0 ? rc : 0;
}

/* Runs a prepared COUNT(*) query. */
static int count_query(store_q *q, int *count)
{
    int rc = store_q_step(q);
    if (rc == LV_DB_ROW)
        *count = (int)store_q_col_int64(q, 0);
    else if (rc == LV_DB_DONE)
        rc = lv_fail(q->err, LV_ESTORE, "COUNT returned no row");
    store_q_finalize(q);
    return rc < 0 ? rc : 0;
}

/* R2.9.  Shaped to be served from index certs_by_subject alone. */
int store_cert_count_valid(lv_store *st, const char *subject_id,
                           const char *subscriber_id, const char *profile,
                           int64_t now, int *count, lv_err *err)
{
    store_q q;
    *count = 0;
    store_q_prepare(&q, st,
                    "SELECT COUNT(*) FROM certs WHERE subject_id = ?"
                    " AND subscriber_id = ? AND profile = ? AND status = ?"
                    " AND not_after > ?",
                    err);
    store_q_text(&q, subject_id);
    store_q_text(&q, subscriber_id);
    store_q_text(&q, profile);
    store_q_int64(&q, LV_CERT_VALID);
    store_q_int64(&q, now);
    return count_query(&q, count);
}

int store_cert_count(lv_store *st, int *count, lv_err *err)
{
    store_q q;
    *count = 0;
    store_q_prepare(&q, st, "SELECT COUNT(*) FROM certs", err);
    return count_query(&q, count);
}

void store_cert_rec_free(lv_cert_rec *rec)
{
    if (!rec)
        return;
    free(rec->der);
    rec->der = NULL;
    rec->der_len = 0;
}
