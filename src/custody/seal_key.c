/* A new audit-seal key and certificate (R9.2, CPS §6.1.1; issue 8): the
 * internal profile's RSA-2048 (CPS §6.1.5's minimum; each seal also carries
 * the RSA-4096 TSU's token), generated inside llave-keyd, certified by the
 * non-qualified CA and recorded as a cas row of role "audit".  Only the
 * console makes service keys (issue 12), so this is custody's part of
 * audit sealing: custody_audit_sealing hands it to audit_seal
 * (audit/audit_sealer.c) as lv_audit_sealing.provision. */
#include "custody/custody_internal.h"

#include <stdio.h>
#include <string.h>

#define SEAL_PROFILE "audit-seal"

static int record_signer(lv_store *st, const char *name,
                         const lv_issue_result *r, const char *issuer,
                         const char *actor, lv_err *err)
{
    lv_ca_rec rec = {0};
    snprintf(rec.name, sizeof rec.name, "%s", name);
    snprintf(rec.role, sizeof rec.role, "%s", LV_AUDIT_SEAL_ROLE);
    snprintf(rec.issuer, sizeof rec.issuer, "%s", issuer);
    snprintf(rec.key_id, sizeof rec.key_id, "%s", r->key_id);
    snprintf(rec.serial, sizeof rec.serial, "%s", r->serial);
    snprintf(rec.status, sizeof rec.status, "active");
    rec.not_before = ca_time_unix(X509_get0_notBefore(r->cert));
    rec.not_after = ca_time_unix(X509_get0_notAfter(r->cert));
    int len = i2d_X509(r->cert, &rec.cert_der);
    if (len <= 0)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot encode the seal cert");
    rec.cert_len = (size_t)len;
    json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "role", rec.role, "issuer",
                          issuer, "serial", rec.serial, "key_id", rec.key_id);
    int rc = store_begin(st, err);
    if (rc == 0 && (rc = store_ca_insert(st, &rec, err)) == 0 &&
        (rc = audit_log(st, actor, "ca.create", name, LV_AUDIT_SUCCESS, d,
                        err)) == 0)
        rc = store_commit(st, err);
    else
        store_rollback(st);
    json_decref(d);
    OPENSSL_free(rec.cert_der);
    return rc;
}

static int provision(void *ctx, lv_store *st, const char *name,
                     const char *actor, lv_err *err)
{
    lv_ca *ca = ctx;
    const lv_config *cfg = ca_config(ca);
    const lv_ca_entry *issuer = ca_entry_find(ca, cfg->standard_name);
    char cn[160];
    if (ca_keys_caller(ca) != KEYD_CALLER_CONSOLE)
        return lv_fail(err, LV_ESTATE,
                       "no usable audit-seal key: the console makes a new one "
                       "(llave -d DIR audit seal)");
    if (!issuer)
        return lv_fail(err, LV_ENOTFOUND, "no CA '%s' to certify the seal key",
                       cfg->standard_name);
    snprintf(cn, sizeof cn, "%.100s Audit Seal", cfg->org_name);
    json_t *subject = ca_provider_subject(cfg, cn);
    lv_issue_req req = {
        .profile_id = SEAL_PROFILE, .subject = subject, .actor = actor};
    lv_issue_result r;
    memset(&r, 0, sizeof r);
    int rc = subject ? ca_issue_by(ca, st, &req, issuer, &r, err) : LV_ENOMEM;
    json_decref(subject);
    if (rc == 0)
        rc = record_signer(st, name, &r, issuer->name, actor, err);
    ca_issue_result_free(&r);
    return rc;
}

void custody_audit_sealing(lv_ca *ca, lv_audit_sealing *out)
{
    tsa_audit_sealing(ca, out);
    out->provision = provision;
}
