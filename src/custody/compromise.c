/* The compromise drill of an issuing CA (R6.5, CPS §4.9.11, §5.7.3). */
#include "custody/custody_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int custody_load_issuing(lv_store *st, const char *name, lv_ca_rec *rec,
                         lv_ca_status *s, lv_err *err)
{
    int rc = store_ca_get(st, name, rec, err);
    if (rc == 0 && !lv_ca_role_issues(rec->role, 0))
        rc = lv_fail(err, LV_EINVAL,
                     "%s is the %s certificate, not an issuing CA: only the "
                     "qualified, non-qualified and TLS issuing CAs (and "
                     "their successors) qualify",
                     name, rec->role);
    if (rc == 0)
        rc = store_ca_status_get(st, name, s, err);
    return rc;
}

/* ---- compromise ------------------------------------------------------------
 */

static int collect_serial(const char *serial, void *serials)
{
    return lv_strs_add(serials, serial);
}

/* Every revocation is its own cert.revoke entry (R9.1), as if revoked one
 * by one, but all in the drill's transaction. */
static int revoke_all(lv_store *st, const char *name, const char *actor,
                      int64_t now, int64_t *count, lv_err *err)
{
    lv_strs l = {0};
    lv_revocation rev = {.revoked_at = now, .reason = LV_REASON_KEY_COMPROMISE};
    snprintf(rev.requester, sizeof rev.requester, "ca");
    snprintf(rev.authority, sizeof rev.authority, "%s", actor);
    json_t *details =
        json_pack("{s:s, s:s, s:i, s:s, s:s}", "ca", name, "reason",
                  "keyCompromise", "reason_code", LV_REASON_KEY_COMPROMISE,
                  "requester", "ca", "drill", "ca.compromise");
    int rc = details ? store_cert_foreach_unrevoked(st, name, collect_serial,
                                                    &l, err)
                     : LV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < l.count; i++) {
        snprintf(rev.serial, sizeof rev.serial, "%s", l.v[i]);
        rc = store_cert_revoke(st, &rev, err);
        if (rc == 0)
            rc = audit_log(st, actor, "cert.revoke", rev.serial,
                           LV_AUDIT_SUCCESS, details, err);
    }
    *count = (int64_t)l.count;
    lv_strs_free(&l);
    json_decref(details);
    return rc;
}

static int compromise_in_tx(lv_store *st, const char *name, const char *actor,
                            lv_compromise_result *out, char issuer[32],
                            lv_err *err)
{
    lv_ca_rec rec;
    lv_ca_status s;
    int64_t now = lv_now();
    int rc = custody_load_issuing(st, name, &rec, &s, err);
    if (rc == 0 && strcmp(s.status, "compromised") == 0)
        rc = lv_fail(err, LV_ESTATE, "CA %s is already compromised", name);
    if (rc == 0)
        rc = revoke_all(st, name, actor, now, &out->revoked, err);
    /* the CA itself goes on its issuer's (the root's) CRL as cACompromise */
    if (rc == 0)
        rc = store_ca_set_status(st, name, "compromised", now,
                                 LV_REASON_CA_COMPROMISE, err);
    if (rc == 0)
        rc = store_ca_bump_revision(st, rec.issuer, err);
    json_t *details =
        json_pack("{s:s, s:I, s:s}", "issuer", rec.issuer, "revoked",
                  (json_int_t)out->revoked, "confirmed", name);
    if (rc == 0)
        rc = audit_log(st, actor, "ca.compromise", name, LV_AUDIT_SUCCESS,
                       details, err);
    snprintf(issuer, 32, "%s", rec.issuer);
    json_decref(details);
    store_ca_rec_free(&rec);
    return rc;
}

void custody_audit_refusal(lv_store *st, const char *actor, const char *event,
                           const char *name, const lv_err *why)
{
    json_t *details =
        json_pack("{s:s}", "refused", why && why->msg[0] ? why->msg : "");
    audit_log_standalone(st, actor, event, name ? name : "", LV_AUDIT_FAILURE,
                         details, NULL);
    json_decref(details);
}

/* After the commit: final CRL, the root's CRL, every OCSP response.  A
 * failure is logged; llaved's keepers finish the job. */
static void publish_compromise(lv_ca *ca, lv_store *st, const char *name,
                               const char *issuer, const char *actor,
                               lv_compromise_result *out)
{
    lv_err e = {0};
    lv_crl_info crl;
    if (crl_generate(ca, st, name, actor, &crl, &e) == 0)
        out->crl_number = crl.number;
    else
        lv_log(LV_LOG_WARN, "final CRL of %s not yet published: %s", name,
               e.msg);
    if (crl_generate(ca, st, issuer, actor, &crl, &e) == 0)
        out->root_crl_number = crl.number;
    else
        lv_log(LV_LOG_WARN, "CRL of %s not yet published: %s", issuer, e.msg);
    if (ocsp_refresh_ca(ca, st, name, &e) < 0)
        lv_log(LV_LOG_WARN, "OCSP responses of %s not yet re-signed: %s", name,
               e.msg);
}

int custody_compromise(lv_ca *ca, lv_store *st, const char *name,
                       const char *confirm, const char *actor,
                       lv_compromise_result *out, lv_err *err)
{
    char issuer[32] = "";
    memset(out, 0, sizeof *out);
    int rc = 0;
    if (name == NULL || confirm == NULL || strcmp(name, confirm) != 0)
        rc = lv_fail(err, LV_EINVAL,
                     "the compromise drill revokes every certificate of the "
                     "CA: confirm it by repeating the CA name (--confirm %s)",
                     name ? name : "CA");
    if (rc == 0)
        rc = store_begin(st, err);
    if (rc == 0) {
        rc = compromise_in_tx(st, name, actor, out, issuer, err);
        if (rc == 0)
            rc = store_commit(st, err);
        if (rc < 0)
            store_rollback(st);
    }
    if (rc < 0) {
        custody_audit_refusal(st, actor, "ca.compromise", name, err);
        return rc;
    }
    publish_compromise(ca, st, name, issuer, actor, out);
    return 0;
}
