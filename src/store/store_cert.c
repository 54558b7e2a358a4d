/* End-entity certificate records (table certs). */
#include "store/store_rows.h"

static int cert_check(const lv_cert_rec *r, lv_err *err)
{
    LV_TRY(store_row_check(&store_row_cert, r, err));
    if (r->status != LV_CERT_VALID && r->status != LV_CERT_REVOKED)
        return lv_fail(err, LV_EINVAL, "bad certificate status %d", r->status);
    return 0;
}

/* created_at 0 means "now"; a valid certificate has no reason (-1).  Once
 * checked, LV_EINVAL can only be the foreign key on the CA. */
int store_cert_insert(lv_store *st, const lv_cert_rec *rec, lv_err *err)
{
    LV_TRY(cert_check(rec, err));
    lv_cert_rec r = *rec;
    if (r.status != LV_CERT_REVOKED)
        r.revocation_reason = -1;
    int rc = store_row_insert(st, &store_row_cert, &r, err);
    rc = store_explain(rc, LV_EEXISTS, err,
                       "certificate serial %s already exists", rec->serial);
    return store_explain(rc, LV_EINVAL, err, "certificate names unknown CA %s",
                         rec->ca);
}

STORE_GET(cert, lv_cert_rec, &store_row_cert, serial,
          "no certificate with serial %s", serial)

/* R2.9.  Shaped to be served from index certs_by_subject alone. */
int store_cert_count_valid(lv_store *st, const char *subject_id,
                           const char *subscriber_id, const char *profile,
                           int64_t now, int *count, lv_err *err)
{
    return STORE_COUNT(st, count, err,
                       "SELECT COUNT(*) FROM certs WHERE subject_id = ?"
                       " AND subscriber_id = ? AND profile = ? AND status = ?"
                       " AND not_after > ?",
                       SQ_TEXT(subject_id), SQ_TEXT(subscriber_id),
                       SQ_TEXT(profile), SQ_INT(LV_CERT_VALID), SQ_INT(now));
}

int store_cert_count(lv_store *st, int *count, lv_err *err)
{
    return STORE_COUNT(st, count, err, "SELECT COUNT(*) FROM certs");
}

STORE_FREE(cert, lv_cert_rec, &store_row_cert)
