/* Certificate requests of organizations (R2.8): built from the stored
 * organization and person, verified complete at creation, then approved
 * (issuing through ca_issue) or rejected with a reason by a second person
 * (R1.5, CPS §5.2.4), the applicant notified either way (CPS §4.2.2). */
#include "ra/ra_internal.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#define CSR_MAX 16384
#define REASON_MAX 500

/* ---- the subject, from stored data ----------------------------------------
 */

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v != NULL && v[0] != '\0')
        json_object_set_new(o, key, json_string(v));
}

static void add_org(json_t *s, const lv_org_rec *o)
{
    set_str(s, "organization", o->legal_name);
    set_str(s, "organization_id", o->nif);
    set_str(s, "organization_country", o->country);
    set_str(s, "country", o->country);
}

/* CPS §3.1.1.2-§3.1.1.4: the person as the organization knows them. */
static void add_person(json_t *s, const lv_profile *p,
                       const lv_org_person_rec *pr)
{
    set_str(s, "given_name", pr->given_name);
    set_str(s, "surname", pr->surname);
    set_str(s, "id_type", pr->id_type);
    set_str(s, "id_number", pr->id_number);
    set_str(s, "id_country", pr->id_country);
    set_str(s, "email", pr->email);
    set_str(s, "organizational_unit", pr->unit);
    set_str(s, "title", pr->title);
    if (pr->document_expiry != 0)
        json_object_set_new(s, "document_expiry",
                            ra_time_json(pr->document_expiry));
    /* R2.7: the public document proving the powers */
    if (p->subject == LV_SUBJ_REP_LEGAL || p->subject == LV_SUBJ_REP_ENTITY)
        set_str(s, "description", pr->powers_document);
}

/* The person a person profile needs: a linked person (member) for
 * LV_SUBJ_LINKED, a representative with powers in force otherwise, of the
 * right kind of organization (CPS §3.1.1.3 / §3.1.1.4). */
static int check_person(const lv_profile *p, const lv_org_rec *o,
                        const lv_org_person_rec *pr, int64_t now, lv_err *err)
{
    int linked = p->subject == LV_SUBJ_LINKED;
    if (strcmp(pr->org_id, o->id) != 0)
        return lv_fail(err, LV_EINVAL, "person %s is not of organization %s",
                       pr->id, o->id);
    if (strcmp(pr->role, linked ? "member" : "representative") != 0)
        return lv_fail(err, LV_EINVAL,
                       "profile '%s' needs a %s, and %s is a "
                       "%s",
                       p->id,
                       linked ? "linked person (member)" : "representative",
                       pr->id, pr->role);
    if (linked)
        return 0;
    const char *kind =
        p->subject == LV_SUBJ_REP_LEGAL ? "legal_person" : "entity";
    if (strcmp(o->kind, kind) != 0)
        return lv_fail(err, LV_EINVAL,
                       "profile '%s' is for an organization of kind %s; %s is "
                       "%s",
                       p->id, kind, o->org_identifier, o->kind);
    if (pr->powers_from > now || pr->powers_until <= now)
        return lv_fail(err, LV_ESTATE,
                       "the powers of representative %s are not in force",
                       pr->id);
    return 0;
}

static int is_person_kind(lv_subject_kind k)
{
    return k == LV_SUBJ_LINKED || k == LV_SUBJ_REP_LEGAL ||
           k == LV_SUBJ_REP_ENTITY;
}

static int is_web_kind(lv_subject_kind k)
{
    return k == LV_SUBJ_WEB_EV || k == LV_SUBJ_WEB_OV;
}

/* What the request itself adds: which person, the seal's name and unit, the
 * web certificate's DNS names.  Fields a profile does not use are refused. */
static int request_fields(const json_t *in, const lv_profile *p, json_t *s,
                          const char **person, lv_err *err)
{
    const char *cn, *unit;
    json_t *dns = json_object_get(in, "dns_names");
    LV_TRY(ra_field_str(in, "person", 0, LV_RA_ID_LEN, person, err));
    LV_TRY(ra_field_str(in, "common_name", 0, 64, &cn, err));
    LV_TRY(ra_field_str(in, "unit", 0, 64, &unit, err));
    if (is_person_kind(p->subject) != (*person != NULL))
        return lv_fail(err, LV_EINVAL,
                       is_person_kind(p->subject)
                           ? "profile '%s' names a person: field 'person' "
                             "(a representative or linked person id) is "
                             "required"
                           : "profile '%s' names no person: field 'person' "
                             "is not used",
                       p->id);
    if ((cn || unit) && p->subject != LV_SUBJ_SEAL)
        return lv_fail(err, LV_EINVAL,
                       "fields 'common_name' and 'unit' are "
                       "for seals only");
    if ((dns != NULL) != is_web_kind(p->subject))
        return lv_fail(err, LV_EINVAL,
                       is_web_kind(p->subject)
                           ? "profile '%s' needs 'dns_names'"
                           : "profile '%s' has no 'dns_names'",
                       p->id);
    set_str(s, "common_name", cn);
    set_str(s, "organizational_unit", unit);
    if (dns != NULL)
        json_object_set(s, "dns_names", dns);
    return 0;
}

static int org_fields(const lv_profile *p, const lv_org_rec *o, json_t *s,
                      lv_err *err)
{
    if (p->subject == LV_SUBJ_WEB_OV) {
        /* CABF BR §7.1.4.2.2: O, L, C only */
        set_str(s, "organization", o->legal_name);
        set_str(s, "country", o->country);
        set_str(s, "locality", o->locality);
        return 0;
    }
    add_org(s, o);
    if (p->subject == LV_SUBJ_SEAL) {
        set_str(s, "locality", o->locality);
        if (json_object_get(s, "common_name") == NULL)
            set_str(s, "common_name", o->legal_name);
    }
    if (p->subject == LV_SUBJ_WEB_EV) {
        if (o->business_category[0] == '\0')
            return lv_fail(err, LV_EINVAL,
                           "an EV certificate needs the organization's "
                           "business_category");
        set_str(s, "locality", o->locality);
        set_str(s, "business_category", o->business_category);
        set_str(s, "jurisdiction_country", o->country);
        set_str(s, "registration_number", o->nif);
    }
    if (p->psd2) {
        if (o->psd2_nca_id[0] == '\0')
            return lv_fail(err, LV_EINVAL,
                           "profile '%s' needs the organization's PSD2 data "
                           "(NCA and authorization)",
                           p->id);
        json_object_set_new(s, "psd2", ra_psd2_json(o));
    }
    return 0;
}

static int find_profile(const json_t *in, const lv_profile **out, lv_err *err)
{
    const char *id;
    LV_TRY(ra_field_str(in, "profile", 1, 47, &id, err));
    const lv_profile *p = profile_find(id);
    if (p == NULL || p->internal)
        return lv_fail(err, LV_EINVAL, "unknown profile '%s'", id);
    if (p->subject == LV_SUBJ_NATURAL)
        return lv_fail(err, LV_EINVAL,
                       "a citizen's certificate ('%s') is asked for by the "
                       "citizen, not through an organization request",
                       id);
    if (p->subject == LV_SUBJ_TSA)
        return lv_fail(err, LV_EINVAL, "'%s' is the provider's own", id);
    *out = p;
    return 0;
}

/* ---- the CSR
 * --------------------------------------------------------------------- */

static int parse_csr(const char *pem, X509_REQ **out, lv_err *err)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509_REQ *req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (req == NULL)
        return lv_fail_ssl(err, LV_EINVAL,
                           "field 'csr' is not a PEM PKCS#10 "
                           "request");
    EVP_PKEY *key = X509_REQ_get0_pubkey(req);
    /* R4.6: the CSR's signature is the proof of possession */
    if (key == NULL || X509_REQ_verify(req, key) != 1) {
        X509_REQ_free(req);
        return lv_fail(err, LV_EINVAL,
                       "the CSR signature does not verify "
                       "with its own key");
    }
    *out = req;
    return 0;
}

int ra_csr_parse(const char *pem, X509_REQ **out, lv_err *err)
{
    return parse_csr(pem, out, err);
}

static int check_csr(const json_t *in, const lv_profile *p, const char **csr,
                     lv_err *err)
{
    X509_REQ *req = NULL;
    json_t *v = json_object_get(in, "csr");
    /* PEM has line breaks: not a one-line text field */
    *csr = json_is_string(v) ? json_string_value(v) : NULL;
    if (v != NULL && (*csr == NULL || json_string_length(v) > CSR_MAX ||
                      strlen(*csr) != json_string_length(v)))
        return lv_fail(err, LV_EINVAL,
                       "field 'csr' must be a PEM PKCS#10 request of at most "
                       "%d bytes",
                       CSR_MAX);
    int subscriber_key = p->custody == LV_CUSTODY_SUBSCRIBER;
    if (subscriber_key && *csr == NULL)
        return lv_fail(err, LV_EINVAL,
                       "profile '%s' certifies a key the subscriber holds: "
                       "field 'csr' (PEM) is required",
                       p->id);
    if (!subscriber_key && *csr != NULL)
        return lv_fail(err, LV_EINVAL,
                       "profile '%s' keeps its key in the provider's key "
                       "store (R5.1): a CSR is not accepted",
                       p->id);
    if (*csr != NULL)
        LV_TRY(parse_csr(*csr, &req, err));
    X509_REQ_free(req);
    return 0;
}

/* ---- creating
 * ----------------------------------------------------------------- */

/* R2.8 complete and verified: the subject passes ca/'s rules now, and no
 * valid certificate of this type exists for it (R2.9). */
static int verify_subject(lv_store *st, const lv_profile *p,
                          const json_t *subject, lv_err *err)
{
    lv_subject s;
    int count = 0;
    LV_TRY(profile_subject_build(p, subject, &s, err));
    int rc = store_cert_count_valid(st, s.subject_id, s.subscriber_id, p->id,
                                    lv_now(), &count, err);
    if (rc == 0 && count > 0)
        rc = lv_fail(err, LV_EEXISTS,
                     "%s already holds a valid '%s' certificate for "
                     "subscriber %s (CPS §3.1.5): revoke it first",
                     s.subject_id, p->id, s.subscriber_id);
    profile_subject_free(&s);
    return rc;
}

static int build_subject(lv_store *st, const json_t *in, const lv_profile *p,
                         const lv_org_rec *o, json_t *s, char *person_ref,
                         lv_err *err)
{
    const char *person;
    int test;
    lv_org_person_rec pr;
    LV_TRY(request_fields(in, p, s, &person, err));
    LV_TRY(org_fields(p, o, s, err));
    LV_TRY(ra_field_bool(in, "test", &test, err));
    if (test)
        json_object_set_new(s, "test", json_true());
    if (person == NULL)
        return 0;
    LV_TRY(store_org_person_get(st, person, &pr, err));
    LV_TRY(check_person(p, o, &pr, lv_now(), err));
    add_person(s, p, &pr);
    snprintf(person_ref, LV_RA_ID_LEN + 1, "%s", pr.id);
    return 0;
}

static int insert_request(lv_store *st, lv_cert_request_rec *r,
                          const char *actor, lv_err *err)
{
    json_t *details = json_pack("{s:s, s:s, s:s}", "org_id", r->org_id,
                                "profile", r->profile, "person", r->person_ref);
    int rc = store_begin(st, err);
    if (rc == 0 && (rc = store_cert_request_insert(st, r, err)) == 0)
        rc = audit_log(st, actor, "ra.request.create", r->id, LV_AUDIT_SUCCESS,
                       details, err);
    rc = store_end(st, rc, err);
    json_decref(details);
    return rc;
}

int ra_request_create(lv_store *st, const json_t *in, const char *actor,
                      char id_out[LV_RA_ID_LEN + 1], lv_err *err)
{
    static const char *const keys[] = {"org_id",      "profile", "person",
                                       "common_name", "unit",    "dns_names",
                                       "csr",         "test",    NULL};
    const lv_profile *p = NULL;
    const char *org_id, *csr;
    lv_org_rec o;
    lv_cert_request_rec r;
    memset(&r, 0, sizeof r);
    LV_TRY(ra_check_keys(in, keys, "the request", err));
    LV_TRY(find_profile(in, &p, err));
    LV_TRY(ra_field_str(in, "org_id", 1, LV_RA_ID_LEN, &org_id, err));
    LV_TRY(store_org_get(st, org_id, &o, err));
    LV_TRY(check_csr(in, p, &csr, err));
    json_t *s = json_object();
    int rc = build_subject(st, in, p, &o, s, r.person_ref, err);
    if (rc == 0)
        rc = verify_subject(st, p, s, err);
    if (rc == 0)
        rc = ra_new_id(r.id, err);
    RA_COPY(r.org_id, o.id);
    RA_COPY(r.profile, p->id);
    RA_COPY(r.status, "pending");
    RA_COPY(r.created_by, actor);
    r.created_at = lv_now();
    r.subject = rc == 0 ? json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    r.csr = (char *)csr;
    if (rc == 0)
        rc = insert_request(st, &r, actor, err);
    if (rc == 0)
        memcpy(id_out, r.id, sizeof r.id);
    free(r.subject);
    json_decref(s);
    return rc;
}

/* ---- deciding ---------------------------------------------------------------
 */

/* R1.5, CPS §5.2.4: issuance for an organization needs two people; the one
 * who prepared the request cannot also decide it.  Refusals are audited. */
static int check_second_person(lv_store *st, const lv_cert_request_rec *r,
                               const char *actor, const char *event,
                               lv_err *err)
{
    if (strcmp(r->status, "pending") != 0)
        return lv_fail(err, LV_ESTATE, "request %s is already %s", r->id,
                       r->status);
    if (strcmp(r->created_by, actor) != 0)
        return 0;
    lv_fail(err, LV_EPERM,
            "two-person rule (R1.5): %s created request %s and cannot also "
            "decide it; another officer must",
            actor, r->id);
    ra_audit_refusal(st, actor, event, r->id, err, NULL);
    return LV_EPERM;
}

static void notify_applicant(const lv_config *cfg, lv_store *st,
                             const lv_cert_request_rec *r, const char *actor,
                             const char *text)
{
    lv_org_rec o;
    if (store_org_get(st, r->org_id, &o, NULL) < 0)
        return;
    /* CPS §4.2.2: the applicant is told of the approval or rejection */
    ra_notice n = {o.contact_mobile, o.contact_email,
                   lv_text(NULL, "notice.request.subject"), text};
    ra_notify(cfg, st, actor, r->id, &n, 1);
}

/* The representative's powers may have ended since the request was made. */
static int recheck_person(lv_store *st, const lv_cert_request_rec *r,
                          const lv_profile *p, lv_err *err)
{
    lv_org_rec o;
    lv_org_person_rec pr;
    if (r->person_ref[0] == '\0')
        return 0;
    LV_TRY(store_org_get(st, r->org_id, &o, err));
    LV_TRY(store_org_person_get(st, r->person_ref, &pr, err));
    return check_person(p, &o, &pr, lv_now(), err);
}

static int issue_request(lv_ca *ca, lv_store *st, const lv_cert_request_rec *r,
                         const char *actor, lv_issue_result *out, lv_err *err)
{
    const lv_profile *p = profile_find(r->profile);
    X509_REQ *csr = NULL;
    json_error_t je;
    if (p == NULL)
        return lv_fail(err, LV_ESTATE, "profile '%s' no longer exists",
                       r->profile);
    LV_TRY(recheck_person(st, r, p, err));
    json_t *subject = json_loads(r->subject, 0, &je);
    int rc =
        subject ? 0 : lv_fail(err, LV_ESTORE, "stored subject: %s", je.text);
    if (rc == 0 && r->csr != NULL)
        rc = parse_csr(r->csr, &csr, err);
    lv_issue_req req = {.profile_id = r->profile,
                        .subject = subject,
                        .csr = csr,
                        .actor = actor};
    if (rc == 0)
        rc = ca_issue(ca, st, &req, out, err);
    X509_REQ_free(csr);
    json_decref(subject);
    return rc;
}

static int record_decision(lv_store *st, const lv_cert_request_rec *r,
                           const char *status, const char *actor,
                           const char *reason, const char *serial,
                           const char *event, lv_err *err)
{
    json_t *details =
        json_pack("{s:s, s:s, s:s}", "profile", r->profile, "reason",
                  reason ? reason : "", "serial", serial ? serial : "");
    int rc = store_begin(st, err);
    if (rc == 0 &&
        (rc = store_cert_request_decide(st, r->id, status, actor, reason,
                                        serial, lv_now(), err)) == 0)
        rc = audit_log(st, actor, event, r->id, LV_AUDIT_SUCCESS, details, err);
    rc = store_end(st, rc, err);
    json_decref(details);
    return rc;
}

int ra_request_approve(lv_ca *ca, lv_store *st, const char *request_id,
                       const char *actor, lv_issue_result *out, lv_err *err)
{
    lv_cert_request_rec r;
    char text[256];
    memset(out, 0, sizeof *out);
    LV_TRY(store_cert_request_get(st, request_id, &r, err));
    int rc = check_second_person(st, &r, actor, "ra.request.approve", err);
    if (rc == 0) {
        rc = issue_request(ca, st, &r, actor, out, err);
        /* the request stays pending; the CA audited its own refusal */
        if (rc < 0)
            ra_audit_refusal(st, actor, "ra.request.approve", r.id, err, NULL);
    }
    if (rc == 0)
        rc = record_decision(st, &r, "approved", actor, NULL, out->serial,
                             "ra.request.approve", err);
    /* only a race with another decision gets here after issuance; the
     * certificate stays recorded and audited by the CA */
    if (rc < 0)
        ca_issue_result_free(out);
    if (rc == 0) {
        if (lv_text_fill(text, sizeof text, NULL, "notice.request.approved",
                         "provider", ca_config(ca)->org_name, "request", r.id,
                         "profile", r.profile, "serial", out->serial,
                         LV_TEXT_END) == 0)
            notify_applicant(ca_config(ca), st, &r, actor, text);
    }
    store_cert_request_rec_free(&r);
    return rc;
}

int ra_request_reject(lv_store *st, const lv_config *cfg,
                      const char *request_id, const char *actor,
                      const char *reason, lv_err *err)
{
    lv_cert_request_rec r;
    char text[LV_ERR_MSG_MAX + REASON_MAX];
    json_t *holder = json_pack("{s:s?}", "reason", reason);
    const char *checked;
    /* R2.8: a rejection states why */
    int rc = ra_field_str(holder, "reason", 1, REASON_MAX, &checked, err);
    json_decref(holder);
    LV_TRY(rc);
    LV_TRY(store_cert_request_get(st, request_id, &r, err));
    rc = check_second_person(st, &r, actor, "ra.request.reject", err);
    if (rc == 0)
        rc = record_decision(st, &r, "rejected", actor, reason, NULL,
                             "ra.request.reject", err);
    if (rc == 0) {
        if (lv_text_fill(text, sizeof text, NULL, "notice.request.rejected",
                         "provider", cfg->org_name, "request", r.id, "profile",
                         r.profile, "reason", reason, LV_TEXT_END) == 0)
            notify_applicant(cfg, st, &r, actor, text);
    }
    store_cert_request_rec_free(&r);
    return rc;
}

/* ---- reading
 * ------------------------------------------------------------------ */

static json_t *request_to_json(const lv_cert_request_rec *r)
{
    json_t *subject = json_loads(r->subject, 0, NULL);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:b, s:s, s:s, s:o, s:s, s:o, s:s, s:s}",
        "id", r->id, "org_id", r->org_id, "profile", r->profile, "person",
        r->person_ref, "subject", subject ? subject : json_null(), "has_csr",
        r->csr != NULL, "status", r->status, "created_by", r->created_by,
        "created_at", ra_time_json(r->created_at), "decided_by", r->decided_by,
        "decided_at", ra_time_json(r->decided_at), "reason", r->reason,
        "cert_serial", r->cert_serial);
}

int ra_request_json(lv_store *st, const char *request_id, json_t **out,
                    lv_err *err)
{
    lv_cert_request_rec r;
    LV_TRY(store_cert_request_get(st, request_id, &r, err));
    *out = request_to_json(&r);
    store_cert_request_rec_free(&r);
    return *out ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
}

static int add_request(const lv_cert_request_rec *r, void *ctx)
{
    return json_array_append_new(ctx, request_to_json(r)) == 0 ? 0 : LV_ENOMEM;
}

int ra_request_list_json(lv_store *st, const char *status, json_t **out,
                         lv_err *err)
{
    if (status != NULL && strcmp(status, "pending") != 0 &&
        strcmp(status, "approved") != 0 && strcmp(status, "rejected") != 0)
        return lv_fail(err, LV_EINVAL,
                       "status must be pending, approved or rejected");
    json_t *list = json_array();
    int rc = store_cert_request_foreach(st, status, add_request, list, err);
    return ra_json_out(rc, list, out, err);
}
