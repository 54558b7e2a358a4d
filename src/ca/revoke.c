/* Revocation of end-entity certificates (R6.1, CPS §4.9): the reason names
 * of RFC 5280 §5.3.1, serial normalization, and ca_revoke, which records
 * the status change with its audit entry in one transaction.  Publishing
 * it in the CRL and the OCSP response at once (R6.2) is the caller's next
 * step: ra_revoke_publish (ra/revoke.c). */
#include "ca/ca_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct reason_row {
    int code;
    const char *name;
    const char *refusal; /* why llave refuses it; NULL when accepted */
} reason_row;

static const reason_row reasons[] = {
    {LV_REASON_UNSPECIFIED, "unspecified", NULL},
    {LV_REASON_KEY_COMPROMISE, "keyCompromise", NULL},
    {LV_REASON_CA_COMPROMISE, "cACompromise", NULL},
    {LV_REASON_AFFILIATION_CHANGED, "affiliationChanged", NULL},
    {LV_REASON_SUPERSEDED, "superseded", NULL},
    {LV_REASON_CESSATION, "cessationOfOperation", NULL},
    {LV_REASON_CERTIFICATE_HOLD, "certificateHold",
     "certificateHold suspends a certificate, and certificates are never "
     "suspended (CPS §4.9.12)"},
    {LV_REASON_REMOVE_FROM_CRL, "removeFromCRL",
     "removeFromCRL would reactivate a certificate, and a revocation is final "
     "(CPS §4.9.3)"},
    {LV_REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn", NULL},
    {LV_REASON_AA_COMPROMISE, "aACompromise",
     "aACompromise concerns attribute certificates, which llave does not "
     "issue"},
};
#define REASON_COUNT (sizeof reasons / sizeof reasons[0])

int ca_reason_parse(const char *name, int *code, lv_err *err)
{
    for (size_t i = 0; name != NULL && i < REASON_COUNT; i++) {
        if (strcasecmp(name, reasons[i].name) != 0)
            continue;
        if (reasons[i].refusal != NULL)
            return lv_fail(err, LV_EINVAL, "reason %s refused: %s",
                           reasons[i].name, reasons[i].refusal);
        *code = reasons[i].code;
        return 0;
    }
    return lv_fail(err, LV_EINVAL,
                   "unknown revocation reason '%s': use unspecified, "
                   "keyCompromise, cACompromise, affiliationChanged, "
                   "superseded, cessationOfOperation or privilegeWithdrawn",
                   name ? name : "");
}

const char *ca_reason_name(int code)
{
    for (size_t i = 0; i < REASON_COUNT; i++)
        if (reasons[i].code == code)
            return reasons[i].name;
    return "unknown";
}

static int reason_accepted(int code)
{
    for (size_t i = 0; i < REASON_COUNT; i++)
        if (reasons[i].code == code)
            return reasons[i].refusal == NULL;
    return 0;
}

/* Stored serials are upper-case hex of the INTEGER's content octets, as
 * `openssl x509 -serial` prints them; people also paste lower case or the
 * colon form of `openssl x509 -text`. */
int ca_serial_normalize(const char *in, char out[65], lv_err *err)
{
    char digits[65];
    size_t n = 0;
    for (const char *p = in ? in : ""; *p; p++) {
        if (*p == ':')
            continue;
        if (!isxdigit((unsigned char)*p) || n == 64)
            return lv_fail(err, LV_EINVAL,
                           "a serial is up to 64 hex digits, as `openssl x509 "
                           "-serial` prints it");
        digits[n++] = (char)toupper((unsigned char)*p);
    }
    if (n == 0)
        return lv_fail(err, LV_EINVAL, "the serial number is empty");
    size_t pad = n % 2; /* whole octets: "ABC" is 0x0A 0xBC */
    if (n + pad > 64)
        return lv_fail(err, LV_EINVAL, "the serial number is too long");
    out[0] = '0';
    memcpy(out + pad, digits, n);
    out[n + pad] = '\0';
    return 0;
}

/* ---- the transaction -------------------------------------------------------
 */

static int check_revocable(const lv_cert_rec *c, const lv_revocation *rev,
                           lv_err *err)
{
    char when[32];
    if (c->status == LV_CERT_REVOKED) {
        lv_time_iso(c->revoked_at, when);
        return lv_fail(err, LV_ESTATE,
                       "certificate %s was already revoked on %s (%s); a "
                       "revocation is final",
                       c->serial, when, ca_reason_name(c->revocation_reason));
    }
    if (c->not_after <= rev->revoked_at) {
        lv_time_iso(c->not_after, when);
        return lv_fail(err, LV_ESTATE,
                       "certificate %s expired on %s: only a valid certificate "
                       "can be revoked (CPS §4.9.1)",
                       c->serial, when);
    }
    /* BR §7.2.2 (CRLReason of a TLS subscriber certificate): never
     * cACompromise, which is the reason of a CA certificate */
    const lv_profile *p = profile_find(c->profile);
    if (p != NULL && p->tls && rev->reason == LV_REASON_CA_COMPROMISE)
        return lv_fail(err, LV_EINVAL,
                       "cACompromise is not a reason for a website "
                       "certificate (CA/B Forum BR §7.2.2): use keyCompromise, "
                       "superseded, affiliationChanged, cessationOfOperation "
                       "or privilegeWithdrawn");
    if (rev->invalidity_date > rev->revoked_at ||
        (rev->invalidity_date != 0 && rev->invalidity_date < c->not_before))
        return lv_fail(err, LV_EINVAL,
                       "the invalidity date must lie between the certificate's "
                       "notBefore and now");
    return 0;
}

static json_t *revoke_details(const lv_cert_rec *c, const lv_revocation *rev)
{
    char inv[32] = "";
    if (rev->invalidity_date)
        lv_time_iso(rev->invalidity_date, inv);
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "ca", c->ca,
                     "profile", c->profile, "subject_id", c->subject_id,
                     "reason", ca_reason_name(rev->reason), "reason_code",
                     rev->reason, "requester", rev->requester,
                     "invalidity_date", inv);
}

static int revoke_in_tx(lv_store *st, const lv_revocation *rev,
                        lv_revoke_result *out, lv_err *err)
{
    lv_cert_rec c;
    int rc = store_cert_get(st, rev->serial, &c, err);
    if (rc == LV_ENOTFOUND)
        return lv_fail(err, rc, "no certificate with serial %s", rev->serial);
    LV_TRY(rc);
    rc = check_revocable(&c, rev, err);
    if (rc == 0)
        rc = store_cert_revoke(st, rev, err);
    json_t *details = rc == 0 ? revoke_details(&c, rev) : NULL;
    if (rc == 0)
        rc = audit_log(st, rev->authority, "cert.revoke", rev->serial,
                       LV_AUDIT_SUCCESS, details, err);
    snprintf(out->ca, sizeof out->ca, "%s", c.ca);
    json_decref(details);
    store_cert_rec_free(&c);
    return rc;
}

static int revoke_commit(lv_store *st, const lv_revocation *rev,
                         lv_revoke_result *out, lv_err *err)
{
    LV_TRY(store_begin(st, err));
    int rc = revoke_in_tx(st, rev, out, err);
    if (rc == 0)
        rc = store_commit(st, err);
    if (rc < 0)
        store_rollback(st);
    return rc;
}

static int revoke_prepare(const lv_revoke_req *req, lv_revocation *rev,
                          lv_err *err)
{
    memset(rev, 0, sizeof *rev);
    LV_TRY(ca_serial_normalize(req->serial, rev->serial, err));
    rev->reason = req->reason;
    if (req->reason_name != NULL)
        LV_TRY(ca_reason_parse(req->reason_name, &rev->reason, err));
    else if (!reason_accepted(req->reason))
        return ca_reason_parse(ca_reason_name(req->reason), &rev->reason, err);
    const char *requester =
        req->requester && req->requester[0] ? req->requester : req->actor;
    if (req->actor == NULL || req->actor[0] == '\0' ||
        strlen(requester) >= sizeof rev->requester ||
        strlen(req->actor) >= sizeof rev->authority)
        return lv_fail(err, LV_EINVAL,
                       "a revocation needs an authority and a requester of at "
                       "most 127 characters");
    snprintf(rev->requester, sizeof rev->requester, "%s", requester);
    snprintf(rev->authority, sizeof rev->authority, "%s", req->actor);
    rev->revoked_at = lv_now();
    rev->invalidity_date = req->invalidity_date;
    return 0;
}

/* CPS §5.4.1: refused requests are security events too. */
static void audit_refusal(lv_store *st, const lv_revoke_req *req,
                          const lv_err *why)
{
    const char *reason =
        req->reason_name ? req->reason_name : ca_reason_name(req->reason);
    json_t *details = json_pack("{s:s, s:s}", "reason", reason, "refused",
                                why && why->msg[0] ? why->msg : "");
    audit_log_standalone(st, req->actor ? req->actor : "unknown", "cert.revoke",
                         req->serial ? req->serial : "", LV_AUDIT_FAILURE,
                         details, NULL);
    json_decref(details);
}

int ca_revoke(lv_ca *ca, lv_store *st, const lv_revoke_req *req,
              lv_revoke_result *out, lv_err *err)
{
    lv_revocation rev;
    (void)ca; /* the context the caller publishes through (R6.2) */
    memset(out, 0, sizeof *out);
    int rc = revoke_prepare(req, &rev, err);
    if (rc == 0)
        rc = revoke_commit(st, &rev, out, err);
    if (rc < 0) {
        audit_refusal(st, req, err);
        return rc;
    }
    snprintf(out->serial, sizeof out->serial, "%s", rev.serial);
    out->revoked_at = rev.revoked_at;
    return 0;
}
