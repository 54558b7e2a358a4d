/* Revocation requests (R6.1, R6.2; CPS §3.4, §4.9.2, §4.9.3): who may ask,
 * how they prove it, the request record of CPS §4.9.3.1, and the
 * notification of holder and subscriber.  The revocation itself is
 * ca_revoke's, published in the CRL and the OCSP response at once
 * (ra_revoke_publish, R6.2). */
#include "crl/crl.h"
#include "ocsp/ocsp.h"
#include "ra/ra_internal.h"

#include <string.h>

#define OTP_PURPOSE "revoke"

typedef struct revoke_ctx {
    char serial[65];
    int reason;
    const char *comment;
    const char *contact;
    const char *actor;
    const char *capacity;  /* holder, representative, officer */
    const char *requester; /* R6.1 for ca_revoke: subject, subscriber, ca */
} revoke_ctx;

static int parse_request(const ra_revocation *r, revoke_ctx *c, lv_err *err)
{
    json_t *j =
        json_pack("{s:s?, s:s?}", "comment", r->comment, "contact", r->contact);
    int rc = r->reason ? ca_reason_parse(r->reason, &c->reason, err)
                       : lv_fail(err, LV_EINVAL,
                                 "field 'reason' is required "
                                 "(an RFC 5280 reason name)");
    if (rc == 0)
        rc = ca_serial_normalize(r->serial ? r->serial : "", c->serial, err);
    /* CPS §4.9.3.1: the detailed reason and how to reach the requester */
    if (rc == 0)
        rc = ra_field_str(j, "comment", 0, 500, &c->comment, err);
    if (rc == 0)
        rc = ra_field_str(j, "contact", 0, 254, &c->contact, err);
    /* the strings live in the caller's ra_revocation, not in j */
    c->comment = r->comment;
    c->contact = r->contact;
    json_decref(j);
    return rc;
}

/* ---- entitlement (CPS §4.9.2)
 * --------------------------------------------------- */

/* The person named, the subscriber, or a representative whose powers are
 * in force for the subscriber organization. */
static int entitled(lv_store *st, const char *citizen_id, const char *serial,
                    revoke_ctx *c, lv_err *err)
{
    lv_citizen_rec cz;
    lv_cert_rec cert;
    int reps = 0;
    LV_TRY(store_citizen_get(st, citizen_id, &cz, err));
    LV_TRY(store_cert_get(st, serial, &cert, err));
    int rc = 0;
    if (strcmp(cert.subject_id, cz.person_id) == 0 ||
        strcmp(cert.subscriber_id, cz.person_id) == 0) {
        c->capacity = "holder";
        c->requester = strcmp(cert.subject_id, cz.person_id) == 0
                           ? "subject"
                           : "subscriber";
    } else {
        rc = store_org_representative_count(st, cert.subscriber_id,
                                            cz.person_id, lv_now(), &reps, err);
        c->capacity = "representative";
        c->requester = "subscriber";
    }
    if (rc == 0 && c->capacity[0] == 'r' && reps == 0)
        rc = lv_fail(err, LV_EPERM,
                     "certificate %s is neither yours nor of an organization "
                     "you represent (CPS §4.9.2)",
                     serial);
    store_cert_rec_free(&cert);
    return rc;
}

static int check_entitled(lv_store *st, const char *citizen_id, revoke_ctx *c,
                          lv_err *err)
{
    int rc = entitled(st, citizen_id, c->serial, c, err);
    if (rc == LV_EPERM) {
        json_t *extra = json_pack("{s:s}", "citizen", citizen_id);
        ra_audit_refusal(st, c->actor, "revocation.request", c->serial, err,
                         extra);
        json_decref(extra);
    }
    return rc;
}

/* ---- applying and recording
 * ---------------------------------------------------- */

static int record_request(lv_store *st, const revoke_ctx *c,
                          const char *subscriber, lv_err *err)
{
    lv_revocation_request_rec r;
    memset(&r, 0, sizeof r);
    LV_TRY(ra_new_id(r.id, err));
    RA_COPY(r.serial, c->serial);
    RA_COPY(r.subscriber_id, subscriber);
    r.reason = c->reason;
    RA_COPY(r.comment, c->comment ? c->comment : "");
    RA_COPY(r.requester, c->actor);
    RA_COPY(r.capacity, c->capacity);
    RA_COPY(r.contact, c->contact ? c->contact : "");
    r.created_at = lv_now();
    json_t *details =
        json_pack("{s:s, s:s, s:s}", "request", r.id, "reason",
                  ca_reason_name(c->reason), "capacity", c->capacity);
    int rc = store_begin(st, err);
    if (rc == 0 && (rc = store_revocation_request_insert(st, &r, err)) == 0)
        rc = audit_log(st, c->actor, "revocation.request", c->serial,
                       LV_AUDIT_SUCCESS, details, err);
    rc = store_end(st, rc, err);
    json_decref(details);
    return rc;
}

/* R6.2: holder and subscriber are told. */
static void notify_revoked(lv_ca *ca, lv_store *st, const revoke_ctx *c,
                           const lv_cert_rec *cert)
{
    lv_citizen_rec holder;
    lv_org_rec org;
    ra_notice n[2];
    size_t count = 0;
    char text[320];
    const char *subject = lv_text(NULL, "notice.revoked.subject");
    if (lv_text_fill(text, sizeof text, NULL, "notice.revoked", "provider",
                     ca_config(ca)->org_name, "serial", c->serial, "reason",
                     ca_reason_name(c->reason), LV_TEXT_END) < 0)
        return;
    if (store_citizen_by_person(st, cert->subject_id, &holder, NULL) == 0)
        n[count++] = (ra_notice){holder.mobile, holder.email, subject, text};
    if (strcmp(cert->subscriber_id, cert->subject_id) != 0 &&
        store_org_by_identifier(st, cert->subscriber_id, &org, NULL) == 0)
        n[count++] =
            (ra_notice){org.contact_mobile, org.contact_email, subject, text};
    ra_notify(ca_config(ca), st, c->actor, c->serial, n, count);
}

/* R6.2: the status change reaches CRL and OCSP at once.  It is already
 * committed, so a failure here (sealed key store, say) is logged and left
 * to llaved's keepers, which notice the CA's newer status revision. */
void ra_revoke_publish(lv_ca *ca, lv_store *st, const char *actor,
                       lv_revoke_result *out)
{
    lv_err e = {0};
    lv_crl_info crl;
    if (crl_generate(ca, st, out->ca, actor, &crl, &e) == 0)
        out->crl_number = crl.number;
    else
        lv_log(LV_LOG_WARN, "revocation of %s recorded; CRL of %s not yet: %s",
               out->serial, out->ca, e.msg);
    memset(&e, 0, sizeof e);
    if (ocsp_refresh(ca, st, out->serial, &e) < 0)
        lv_log(LV_LOG_WARN,
               "revocation of %s recorded; OCSP response not yet re-signed: "
               "%s",
               out->serial, e.msg);
}

static int apply(lv_ca *ca, lv_store *st, const revoke_ctx *c, lv_err *err)
{
    lv_cert_rec cert;
    lv_revoke_result res;
    lv_revoke_req req = {.serial = c->serial,
                         .reason = c->reason,
                         .requester = c->requester,
                         .actor = c->actor};
    LV_TRY(store_cert_get(st, c->serial, &cert, err));
    int rc = ca_revoke(ca, st, &req, &res, err);
    if (rc == 0)
        ra_revoke_publish(ca, st, c->actor, &res);
    if (rc == 0)
        rc = record_request(st, c, cert.subscriber_id, err);
    if (rc == 0)
        notify_revoked(ca, st, c, &cert);
    store_cert_rec_free(&cert);
    return rc;
}

int ra_revoke_by_officer(lv_ca *ca, lv_store *st, const ra_revocation *r,
                         const char *actor, lv_err *err)
{
    revoke_ctx c = {.actor = actor, .capacity = "officer", .requester = "ca"};
    LV_TRY(parse_request(r, &c, err));
    return apply(ca, st, &c, err);
}

/* ---- self-service (CPS §3.4: a secret only the holder knows)
 * ------------------ */

static int check_revocable(lv_store *st, const char *serial, lv_err *err)
{
    lv_cert_rec cert;
    LV_TRY(store_cert_get(st, serial, &cert, err));
    int rc = 0;
    if (cert.status != LV_CERT_VALID)
        rc = lv_fail(err, LV_ESTATE,
                     "certificate %s is already revoked "
                     "(no reactivation, CPS §4.9.3)",
                     serial);
    store_cert_rec_free(&cert);
    return rc;
}

int ra_revoke_otp_send(lv_auth *auth, lv_store *st, const char *citizen_id,
                       const char *serial, const char *ip, const char *lang,
                       char otp_id[LV_AUTH_OTP_ID_LEN + 1], lv_err *err)
{
    char actor[96];
    revoke_ctx c = {.actor = actor};
    snprintf(actor, sizeof actor, "citizen:%s", citizen_id);
    LV_TRY(ca_serial_normalize(serial ? serial : "", c.serial, err));
    LV_TRY(check_entitled(st, citizen_id, &c, err));
    LV_TRY(check_revocable(st, c.serial, err));
    /* R3.3: the code authorizes revoking this certificate and nothing else;
     * the SMS names it by the end of its serial (issue 15 item 4) */
    size_t n = strlen(c.serial);
    return auth_otp_send(
        auth, st, citizen_id, OTP_PURPOSE, (const unsigned char *)c.serial, n,
        ip, &(lv_otp_sms){.lang = lang, .app = c.serial + (n > 8 ? n - 8 : 0)},
        otp_id, err);
}

int ra_revoke_by_citizen(lv_auth *auth, lv_ca *ca, lv_store *st,
                         const char *citizen_id, const ra_revocation *r,
                         const char *password, const char *otp_id,
                         const char *otp, const char *ip, lv_err *err)
{
    char actor[96];
    revoke_ctx c = {.actor = actor};
    snprintf(actor, sizeof actor, "citizen:%s", citizen_id);
    LV_TRY(parse_request(r, &c, err));
    LV_TRY(check_entitled(st, citizen_id, &c, err));
    if (password == NULL || otp_id == NULL || otp == NULL)
        return lv_fail(err, LV_EINVAL,
                       "fields 'password', 'otp_id' and 'otp' are required "
                       "(R3.4)");
    /* R3.4: password and the OTP bound to this serial, both */
    LV_TRY(auth_citizen_authorize(auth, st, citizen_id, password, otp_id,
                                  OTP_PURPOSE, (const unsigned char *)c.serial,
                                  strlen(c.serial), otp, ip, err));
    return apply(ca, st, &c, err);
}
