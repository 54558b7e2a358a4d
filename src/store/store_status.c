/* Certificate status records (issue 4): revocation details, CA status and
 * revocation, the per-CA status revision, CRLs (table crls) and the
 * repository consent flag.  SQL of sql/002_status.sql. */
#include "store/store_rows.h"

/* ---- revocation of end-entity certificates ------------------------------ */

static int status_check(const lv_revocation *r, lv_err *err)
{
    LV_TRY(store_row_check(&store_row_revocation, r, err));
    if (r->serial[0] == '\0' || r->revoked_at <= 0 || r->reason < 0)
        return lv_fail(err, LV_EINVAL,
                       "a revocation needs a serial, a time and a reason");
    return 0;
}

/* Only a valid certificate changes (R6.2: no reactivation, no second
 * revocation); the caller tells the two failures apart.  The CRL of the
 * certificate's CA must then change: one more revision. */
int store_cert_revoke(lv_store *st, const lv_revocation *rev, lv_err *err)
{
    int64_t n = 0;
    LV_TRY(status_check(rev, err));
    LV_TRY(STORE_RUN(st, &n, err,
                     "UPDATE certs SET status = ?, revoked_at = ?,"
                     " revocation_reason = ?, invalidity_date = ?,"
                     " revocation_requester = ?, revocation_authority = ?"
                     " WHERE serial = ? AND status = ?",
                     SQ_INT(LV_CERT_REVOKED), SQ_INT(rev->revoked_at),
                     SQ_INT(rev->reason), SQ_INT(rev->invalidity_date),
                     SQ_TEXT(rev->requester), SQ_TEXT(rev->authority),
                     SQ_TEXT(rev->serial), SQ_INT(LV_CERT_VALID)));
    LV_TRY(store_one(n, err, LV_ESTATE,
                     "certificate %s is not valid: nothing was changed",
                     rev->serial));
    return STORE_RUN(st, NULL, err,
                     "UPDATE cas SET status_revision = status_revision + 1"
                     " WHERE name = (SELECT ca FROM certs WHERE serial = ?)",
                     SQ_TEXT(rev->serial));
}

int store_cert_status_get(lv_store *st, const char *serial, lv_cert_status *out,
                          lv_err *err)
{
    return store_row_by_key(st, &store_row_cert_status, serial, out, err,
                            "no certificate with serial %s", serial);
}

/* Serials of the certificates of `ca` still valid (whether expired or not),
 * except the CA's delegated OCSP responders, which keep signing status
 * answers (R6.5). */
STORE_FOREACH_TEXT(
    cert_foreach_unrevoked, ca,
    "SELECT serial FROM certs WHERE ca = ? AND status = ?"
    " AND serial NOT IN (SELECT serial FROM cas WHERE role = 'ocsp')"
    " ORDER BY serial",
    SQ_TEXT(ca), SQ_INT(LV_CERT_VALID))

/* ---- CA status ------------------------------------------------------------
 */

int store_ca_set_status(lv_store *st, const char *name, const char *status,
                        int64_t revoked_at, int reason, lv_err *err)
{
    int64_t n = 0;
    LV_TRY(STORE_RUN(st, &n, err,
                     "UPDATE cas SET status = ?, revoked_at = ?,"
                     " revocation_reason = ? WHERE name = ?",
                     SQ_TEXT(status), SQ_INT(revoked_at),
                     SQ_INT(revoked_at > 0 ? reason : -1), SQ_TEXT(name)));
    return store_one(n, err, LV_ENOTFOUND, "no CA named %s", name);
}

int store_ca_bump_revision(lv_store *st, const char *name, lv_err *err)
{
    return STORE_RUN(st, NULL, err,
                     "UPDATE cas SET status_revision = status_revision + 1"
                     " WHERE name = ?",
                     SQ_TEXT(name));
}

int store_ca_status_get(lv_store *st, const char *name, lv_ca_status *out,
                        lv_err *err)
{
    return store_row_by_key(st, &store_row_ca_status, name, out, err,
                            "no CA named %s", name);
}

/* ---- CRL entries ------------------------------------------------------------
 */

/* R6.3: revoked and not yet expired at `now`, end-entity certificates and
 * subordinate CAs alike.  Both halves are served by an index (certs_crl; the
 * cas table is a handful of rows). */
int store_crl_foreach_entry(lv_store *st, const char *ca, int64_t now,
                            STORE_VISIT(lv_crl_entry), lv_err *err)
{
    STORE_RETURN_EACH(
        lv_crl_entry, &store_row_crl_entry, st, err, fn, ctx,
        "SELECT " CRL_ENTRY_COLUMNS
        " FROM certs WHERE ca = ? AND status = ? AND not_after > ?"
        " UNION ALL"
        " SELECT serial, revoked_at, revocation_reason, 0 FROM cas"
        " WHERE issuer = ? AND name <> ?"
        " AND role IN ('qualified', 'standard', 'tls')"
        " AND revoked_at > 0 AND not_after > ?",
        SQ_TEXT(ca), SQ_INT(LV_CERT_REVOKED), SQ_INT(now), SQ_TEXT(ca),
        SQ_TEXT(ca), SQ_INT(now));
}

/* ---- CRLs
 * ----------------------------------------------------------------------- */

int store_crl_insert(lv_store *st, const lv_crl_rec *rec, lv_err *err)
{
    LV_TRY(store_row_check(&store_row_crl, rec, err));
    if (rec->number <= 0 || rec->der == NULL || rec->der_len == 0)
        return lv_fail(err, LV_EINVAL, "a CRL needs a number and a DER body");
    int rc =
        STORE_ROW_RUN(st, &store_row_crl, rec, 0, store_row_crl.n, NULL, err,
                      "INSERT INTO crls (" CRL_COLUMNS ", created_at)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      SQ_INT(lv_now()));
    rc = store_explain(rc, LV_EEXISTS, err,
                       "CRL number %lld of %s already exists",
                       (long long)rec->number, rec->ca);
    return store_explain(rc, LV_EINVAL, err, "CRL names unknown CA %s",
                         rec->ca);
}

int store_crl_latest(lv_store *st, const char *ca, int with_der,
                     lv_crl_rec *out, lv_err *err)
{
    return store_row_find(st, with_der ? &store_row_crl : &store_row_crl_meta,
                          with_der
                              ? "SELECT " CRL_COLUMNS " FROM crls WHERE ca = ?"
                                " ORDER BY crl_number DESC LIMIT 1"
                              : "SELECT " CRL_META " FROM crls WHERE ca = ?"
                                " ORDER BY crl_number DESC LIMIT 1",
                          ca, out, err, "no CRL of CA %s yet", ca);
}

void store_crl_rec_free(lv_crl_rec *rec)
{
    store_row_free(&store_row_crl, rec);
}

/* ---- repository consent (R8.1)
 * ------------------------------------------------ */

int store_cert_set_consent(lv_store *st, const char *serial, int64_t at,
                           lv_err *err)
{
    int64_t n = 0;
    LV_TRY(STORE_RUN(st, &n, err,
                     "UPDATE certs SET publish_consent_at = ? WHERE serial = ?",
                     SQ_INT(at), SQ_TEXT(serial)));
    return store_one(n, err, LV_ENOTFOUND, "no certificate with serial %s",
                     serial);
}

/* Newest consent first; der is not read (the listing does not need it). */
int store_cert_foreach_published(lv_store *st, int64_t offset, int64_t limit,
                                 STORE_VISIT(lv_cert_rec), lv_err *err)
{
    STORE_RETURN_EACH(
        lv_cert_rec, &store_row_published, st, err, fn, ctx,
        "SELECT " PUBLISHED_COLUMNS " FROM certs WHERE publish_consent_at"
        " > 0 ORDER BY publish_consent_at DESC, serial LIMIT ? OFFSET ?",
        SQ_INT(limit), SQ_INT(offset));
}
