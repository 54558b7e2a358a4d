/* Certificate status records (issue 4): revocation details, CA status and
 * revocation, the per-CA status revision, CRLs (table crls) and the
 * repository consent flag.  SQL of sql/002_status.sql. */
#include "store/store_driver.h"

#include <stdlib.h>
#include <string.h>

/* ---- revocation of end-entity certificates ------------------------------ */

static int status_check(const lv_revocation *r, lv_err *err)
{
    LV_TRY(store_check_field(r->serial, sizeof r->serial, "serial", err));
    LV_TRY(
        store_check_field(r->requester, sizeof r->requester, "requester", err));
    LV_TRY(
        store_check_field(r->authority, sizeof r->authority, "authority", err));
    if (r->serial[0] == '\0' || r->revoked_at <= 0 || r->reason < 0)
        return lv_fail(err, LV_EINVAL,
                       "a revocation needs a serial, a time and a reason");
    return 0;
}

/* The CRL of the certificate's CA must now change: one more revision. */
static int bump_revision_of_cert(lv_store *st, const char *serial, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "UPDATE cas SET status_revision = status_revision + 1"
                    " WHERE name = (SELECT ca FROM certs WHERE serial = ?)",
                    err);
    store_q_text(&q, serial);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

/* Only a valid certificate changes (R6.2: no reactivation, no second
 * revocation); the caller tells the two failures apart. */
int store_cert_revoke(lv_store *st, const lv_revocation *rev, lv_err *err)
{
    store_q q;
    LV_TRY(status_check(rev, err));
    store_q_prepare(&q, st,
                    "UPDATE certs SET status = ?, revoked_at = ?,"
                    " revocation_reason = ?, invalidity_date = ?,"
                    " revocation_requester = ?, revocation_authority = ?"
                    " WHERE serial = ? AND status = ?",
                    err);
    store_q_int64(&q, LV_CERT_REVOKED);
    store_q_int64(&q, rev->revoked_at);
    store_q_int64(&q, rev->reason);
    store_q_int64(&q, rev->invalidity_date);
    store_q_text(&q, rev->requester);
    store_q_text(&q, rev->authority);
    store_q_text(&q, rev->serial);
    store_q_int64(&q, LV_CERT_VALID);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc < 0)
        return rc;
    if (st->drv->changes(st->db) != 1)
        return lv_fail(err, LV_ESTATE,
                       "certificate %s is not valid: nothing was changed",
                       rev->serial);
    return bump_revision_of_cert(st, rev->serial, err);
}

int store_cert_status_get(lv_store *st, const char *serial, lv_cert_status *out,
                          lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    "SELECT serial, revocation_requester,"
                    " revocation_authority, invalidity_date,"
                    " publish_consent_at FROM certs WHERE serial = ?",
                    err);
    store_q_text(&q, serial);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW) {
        rc = store_q_col_copy(&q, 0, out->serial, sizeof out->serial);
        if (rc == 0)
            rc = store_q_col_copy(&q, 1, out->requester, sizeof out->requester);
        if (rc == 0)
            rc = store_q_col_copy(&q, 2, out->authority, sizeof out->authority);
        out->invalidity_date = store_q_col_int64(&q, 3);
        out->publish_consent_at = store_q_col_int64(&q, 4);
    } else if (rc == LV_DB_DONE) {
        rc =
            lv_fail(err, LV_ENOTFOUND, "no certificate with serial %s", serial);
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

/* Serials of the certificates of `ca` still valid (whether expired or not),
 * except the CA's delegated OCSP responders, which keep signing status
 * answers (R6.5). */
int store_cert_foreach_unrevoked(lv_store *st, const char *ca,
                                 int (*fn)(const char *serial, void *),
                                 void *ctx, lv_err *err)
{
    store_q q;
    int rc;
    store_q_prepare(&q, st,
                    "SELECT serial FROM certs WHERE ca = ? AND status = ?"
                    " AND serial NOT IN"
                    " (SELECT serial FROM cas WHERE role = 'ocsp')"
                    " ORDER BY serial",
                    err);
    store_q_text(&q, ca);
    store_q_int64(&q, LV_CERT_VALID);
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        rc = fn(store_q_col_text(&q, 0), ctx);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

/* ---- CA status ------------------------------------------------------------
 */

int store_ca_set_status(lv_store *st, const char *name, const char *status,
                        int64_t revoked_at, int reason, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "UPDATE cas SET status = ?, revoked_at = ?,"
                    " revocation_reason = ? WHERE name = ?",
                    err);
    store_q_text(&q, status);
    store_q_int64(&q, revoked_at);
    store_q_int64(&q, revoked_at > 0 ? reason : -1);
    store_q_text(&q, name);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc < 0)
        return rc;
    if (st->drv->changes(st->db) != 1)
        return lv_fail(err, LV_ENOTFOUND, "no CA named %s", name);
    return 0;
}

int store_ca_bump_revision(lv_store *st, const char *name, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "UPDATE cas SET status_revision = status_revision + 1"
                    " WHERE name = ?",
                    err);
    store_q_text(&q, name);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

int store_ca_status_get(lv_store *st, const char *name, lv_ca_status *out,
                        lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    "SELECT status, revoked_at, revocation_reason,"
                    " status_revision FROM cas WHERE name = ?",
                    err);
    store_q_text(&q, name);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW) {
        rc = store_q_col_copy(&q, 0, out->status, sizeof out->status);
        out->revoked_at = store_q_col_int64(&q, 1);
        out->revocation_reason = (int)store_q_col_int64(&q, 2);
        out->revision = store_q_col_int64(&q, 3);
    } else if (rc == LV_DB_DONE) {
        rc = lv_fail(err, LV_ENOTFOUND, "no CA named %s", name);
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

/* ---- CRL entries ------------------------------------------------------------
 */

/* R6.3: revoked and not yet expired at `now`, end-entity certificates and
 * subordinate CAs alike.  Both halves are served by an index (certs_crl; the
 * cas table is a handful of rows). */
int store_crl_foreach_entry(lv_store *st, const char *ca, int64_t now,
                            int (*fn)(const lv_crl_entry *, void *), void *ctx,
                            lv_err *err)
{
    store_q q;
    lv_crl_entry e;
    int rc;
    store_q_prepare(
        &q, st,
        "SELECT serial, revoked_at, revocation_reason, invalidity_date"
        " FROM certs WHERE ca = ? AND status = ? AND not_after > ?"
        " UNION ALL"
        " SELECT serial, revoked_at, revocation_reason, 0 FROM cas"
        " WHERE issuer = ? AND name <> ? AND role IN ('qualified', 'standard')"
        " AND revoked_at > 0 AND not_after > ?",
        err);
    store_q_text(&q, ca);
    store_q_int64(&q, LV_CERT_REVOKED);
    store_q_int64(&q, now);
    store_q_text(&q, ca);
    store_q_text(&q, ca);
    store_q_int64(&q, now);
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        rc = store_q_col_copy(&q, 0, e.serial, sizeof e.serial);
        e.revoked_at = store_q_col_int64(&q, 1);
        e.reason = (int)store_q_col_int64(&q, 2);
        e.invalidity_date = store_q_col_int64(&q, 3);
        if (rc == 0)
            rc = fn(&e, ctx);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

/* ---- CRLs
 * ----------------------------------------------------------------------- */

int store_crl_insert(lv_store *st, const lv_crl_rec *rec, lv_err *err)
{
    store_q q;
    LV_TRY(store_check_field(rec->ca, sizeof rec->ca, "CA name", err));
    if (rec->number <= 0 || rec->der == NULL || rec->der_len == 0)
        return lv_fail(err, LV_EINVAL, "a CRL needs a number and a DER body");
    store_q_prepare(&q, st,
                    "INSERT INTO crls (ca, crl_number, this_update,"
                    " next_update, revision, entries, der, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, rec->ca);
    store_q_int64(&q, rec->number);
    store_q_int64(&q, rec->this_update);
    store_q_int64(&q, rec->next_update);
    store_q_int64(&q, rec->revision);
    store_q_int64(&q, rec->entries);
    store_q_blob(&q, rec->der, rec->der_len);
    store_q_int64(&q, lv_now());
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, rc, "CRL number %lld of %s already exists",
                       (long long)rec->number, rec->ca);
    if (rc == LV_EINVAL)
        return lv_fail(err, rc, "CRL names unknown CA %s", rec->ca);
    return rc < 0 ? rc : 0;
}

int store_crl_latest(lv_store *st, const char *ca, int with_der,
                     lv_crl_rec *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    with_der
                        ? "SELECT ca, crl_number, this_update, next_update,"
                          " revision, entries, der FROM crls WHERE ca = ?"
                          " ORDER BY crl_number DESC LIMIT 1"
                        : "SELECT ca, crl_number, this_update, next_update,"
                          " revision, entries FROM crls WHERE ca = ?"
                          " ORDER BY crl_number DESC LIMIT 1",
                    err);
    store_q_text(&q, ca);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW) {
        rc = store_q_col_copy(&q, 0, out->ca, sizeof out->ca);
        out->number = store_q_col_int64(&q, 1);
        out->this_update = store_q_col_int64(&q, 2);
        out->next_update = store_q_col_int64(&q, 3);
        out->revision = store_q_col_int64(&q, 4);
        out->entries = store_q_col_int64(&q, 5);
        if (rc == 0 && with_der)
            rc = store_q_col_blob(&q, 6, &out->der, &out->der_len);
    } else if (rc == LV_DB_DONE) {
        rc = lv_fail(err, LV_ENOTFOUND, "no CRL of CA %s yet", ca);
    }
    store_q_finalize(&q);
    if (rc < 0)
        store_crl_rec_free(out);
    return rc < 0 ? rc : 0;
}

void store_crl_rec_free(lv_crl_rec *rec)
{
    if (!rec)
        return;
    free(rec->der);
    rec->der = NULL;
    rec->der_len = 0;
}

/* ---- repository consent (R8.1)
 * ------------------------------------------------ */

int store_cert_set_consent(lv_store *st, const char *serial, int64_t at,
                           lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "UPDATE certs SET publish_consent_at = ? WHERE serial = ?",
                    err);
    store_q_int64(&q, at);
    store_q_text(&q, serial);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc < 0)
        return rc;
    if (st->drv->changes(st->db) != 1)
        return lv_fail(err, LV_ENOTFOUND, "no certificate with serial %s",
                       serial);
    return 0;
}

/* Newest consent first; der is not read (the listing does not need it). */
int store_cert_foreach_published(lv_store *st, int64_t offset, int64_t limit,
                                 int (*fn)(const lv_cert_rec *, void *),
                                 void *ctx, lv_err *err)
{
    store_q q;
    lv_cert_rec r;
    int rc;
    store_q_prepare(
        &q, st,
        "SELECT serial, ca, profile, subject_dn, not_before,"
        " not_after, status, revoked_at, revocation_reason"
        " FROM certs WHERE publish_consent_at > 0"
        " ORDER BY publish_consent_at DESC, serial LIMIT ? OFFSET ?",
        err);
    store_q_int64(&q, limit);
    store_q_int64(&q, offset);
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        memset(&r, 0, sizeof r);
        rc = store_q_col_copy(&q, 0, r.serial, sizeof r.serial);
        if (rc == 0)
            rc = store_q_col_copy(&q, 1, r.ca, sizeof r.ca);
        if (rc == 0)
            rc = store_q_col_copy(&q, 2, r.profile, sizeof r.profile);
        if (rc == 0)
            rc = store_q_col_copy(&q, 3, r.subject_dn, sizeof r.subject_dn);
        r.not_before = store_q_col_int64(&q, 4);
        r.not_after = store_q_col_int64(&q, 5);
        r.status = (int)store_q_col_int64(&q, 6);
        r.revoked_at = store_q_col_int64(&q, 7);
        r.revocation_reason = (int)store_q_col_int64(&q, 8);
        if (rc == 0)
            rc = fn(&r, ctx);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}
