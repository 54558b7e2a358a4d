/* Citizens: face-to-face registration (R2.2, R2.6), document replacement
 * (R2.5), the signing checks issue 7 calls (R2.1, R2.4, R5.5) and the
 * citizen's own signing certificate (R5.3). */
#include "ra/ra_internal.h"

#include <stdlib.h>
#include <string.h>

/* Natural-person profiles whose key the provider keeps: the only
 * certificates a citizen gets through the RA. */
#define RA_DEFAULT_PROFILE "natural-person-cloud-hsm"

/* ---- registration -------------------------------------------------------- */

static json_t *register_details(const lv_citizen_rec *c,
                                const lv_iddoc_rec *doc,
                                const ra_origin *origin,
                                const char *evidence_ref)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "person_id", c->person_id,
                     "level", c->level, "method", origin->method,
                     "document_type", doc->doc_type, "evidence_ref",
                     evidence_ref);
}

static int write_registration(lv_store *st, const lv_citizen_rec *c,
                              const lv_iddoc_rec *doc, const ra_origin *origin,
                              const char *evidence_ref, const json_t *details,
                              lv_err *err)
{
    lv_registration_rec reg;
    char *details_text = details ? json_dumps(details, JSON_COMPACT) : NULL;
    memset(&reg, 0, sizeof reg);
    int rc = ra_new_id(reg.id, err);
    RA_COPY(reg.citizen_id, c->id);
    RA_COPY(reg.kind, "registration");
    RA_COPY(reg.method, origin->method);
    RA_COPY(reg.actor, origin->actor);
    RA_COPY(reg.evidence_ref, evidence_ref);
    reg.details = details_text;
    reg.created_at = c->created_at;
    reg.retain_until = c->created_at + RA_RETENTION_SECONDS; /* CPS §4.2.1 */
    json_t *audit = register_details(c, doc, origin, evidence_ref);
    if (rc == 0)
        rc = store_begin(st, err);
    if (rc == 0 && (rc = store_citizen_insert(st, c, err)) == 0 &&
        (rc = store_iddoc_insert(st, doc, err)) == 0 &&
        (rc = store_registration_insert(st, &reg, err)) == 0)
        rc = audit_log(st, origin->actor, "citizen.register", c->id,
                       LV_AUDIT_SUCCESS, audit, err);
    rc = store_end(st, rc, err);
    json_decref(audit);
    free(details_text);
    return rc;
}

/* R3.1: the activation code goes by SMS to the mobile just registered; the
 * citizen logs in with their document number (Cl@ve). */
static void start_activation(lv_auth *auth, lv_store *st,
                             const lv_citizen_rec *c, const char *user_id,
                             const char *actor, ra_registered *out)
{
    lv_err aerr = {0};
    if (auth == NULL) {
        RA_COPY(out->activation_error, "no credential service available");
        return;
    }
    if (auth_citizen_activation_start(auth, st, c->id, user_id, c->mobile,
                                      LV_ACTIVATION_SMS, actor, NULL,
                                      &aerr) == 0)
        out->activation_sent = 1;
    else
        RA_COPY(out->activation_error, aerr.msg);
}

int ra_register_records(lv_auth *auth, lv_store *st, lv_citizen_rec *c,
                        lv_iddoc_rec *doc, const ra_origin *origin,
                        const char *evidence_ref, const json_t *details,
                        ra_registered *out, lv_err *err)
{
    memset(out, 0, sizeof *out);
    LV_TRY(ra_new_id(c->id, err));
    LV_TRY(ra_new_id(doc->id, err));
    c->created_at = c->updated_at = doc->created_at = lv_now();
    RA_COPY(doc->citizen_id, c->id);
    RA_COPY(doc->status, "current");
    LV_TRY(write_registration(st, c, doc, origin, evidence_ref, details, err));
    RA_COPY(out->citizen_id, c->id);
    RA_COPY(out->person_id, c->person_id);
    RA_COPY(out->user_id, doc->number);
    start_activation(auth, st, c, doc->number, origin->actor, out);
    return 0;
}

int ra_citizen_register(lv_auth *auth, lv_store *st, const json_t *in,
                        const ra_origin *origin, ra_registered *out,
                        lv_err *err)
{
    lv_citizen_rec c;
    lv_iddoc_rec doc;
    const char *evidence;
    memset(out, 0, sizeof *out);
    LV_TRY(ra_citizen_parse(in, lv_now(), &c, &doc, err));
    /* R2.6: face to face, the officer names the evidence kept (the form
     * signed and the copy of the document) */
    LV_TRY(ra_field_str(in, "evidence_ref", 1, 255, &evidence, err));
    return ra_register_records(auth, st, &c, &doc, origin, evidence, NULL, out,
                               err);
}

int ra_citizen_activation_resend(lv_auth *auth, lv_store *st,
                                 const char *citizen_id, const char *actor,
                                 lv_err *err)
{
    lv_citizen_rec c;
    lv_iddoc_rec doc;
    if (auth == NULL)
        return lv_fail(err, LV_ESTATE, "no credential service available");
    LV_TRY(store_citizen_get(st, citizen_id, &c, err));
    LV_TRY(store_iddoc_current(st, citizen_id, &doc, err));
    return auth_citizen_activation_start(auth, st, c.id, doc.number, c.mobile,
                                         LV_ACTIVATION_SMS, actor, NULL, err);
}

/* ---- document replacement (R2.5) ------------------------------------------
 */

static int parse_reason(const json_t *in, const char **reason, lv_err *err)
{
    static const char *const reasons[] = {"loss", "theft", "damage", "renewal"};
    LV_TRY(ra_field_str(in, "reason", 1, 15, reason, err));
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (strcmp(*reason, reasons[i]) == 0)
            return 0;
    }
    return lv_fail(err, LV_EINVAL,
                   "field 'reason' must be loss, theft, damage or renewal");
}

static int replace_tx(lv_store *st, const lv_iddoc_rec *old,
                      const lv_iddoc_rec *doc, const lv_registration_rec *reg,
                      const char *actor, lv_err *err)
{
    json_t *details = json_pack(
        "{s:s, s:s, s:s, s:s}", "replaced", old->id, "document", doc->id,
        "reason", old->replace_reason, "evidence_ref", reg->evidence_ref);
    int rc = store_begin(st, err);
    if (rc == 0 &&
        (rc = store_iddoc_retire(st, old->id, old->replace_reason, lv_now(),
                                 err)) == 0 &&
        (rc = store_iddoc_insert(st, doc, err)) == 0 &&
        (rc = store_registration_insert(st, reg, err)) == 0)
        rc = audit_log(st, actor, "citizen.document_replace", doc->citizen_id,
                       LV_AUDIT_SUCCESS, details, err);
    rc = store_end(st, rc, err);
    json_decref(details);
    return rc;
}

int ra_citizen_replace_document(lv_store *st, const char *citizen_id,
                                const json_t *in, const ra_origin *origin,
                                lv_err *err)
{
    static const char *const keys[] = {"reason", "evidence_ref", "document",
                                       NULL};
    const char *reason, *evidence;
    lv_citizen_rec c;
    lv_iddoc_rec old, doc;
    lv_registration_rec reg;
    char pid[64];
    LV_TRY(ra_check_keys(in, keys, "the replacement", err));
    LV_TRY(parse_reason(in, &reason, err));
    LV_TRY(ra_field_str(in, "evidence_ref", 1, 255, &evidence, err));
    json_t *d = json_object_get(in, "document");
    if (d == NULL)
        return lv_fail(err, LV_EINVAL, "field 'document' is required");
    LV_TRY(ra_document_parse(d, lv_now(), &doc, err));
    LV_TRY(store_citizen_get(st, citizen_id, &c, err));
    LV_TRY(store_iddoc_current(st, citizen_id, &old, err));
    LV_TRY(ra_person_id(doc.doc_type, doc.number, doc.country, pid, err));
    /* the certificates kept (R2.5) name this identifier: a document of
     * another number is another person, or a new registration */
    if (strcmp(pid, c.person_id) != 0)
        return lv_fail(err, LV_EINVAL,
                       "the new document names %s, not %s: a replacement "
                       "must carry the same identity number",
                       pid, c.person_id);
    LV_TRY(ra_new_id(doc.id, err));
    RA_COPY(doc.citizen_id, c.id);
    doc.created_at = lv_now();
    RA_COPY(old.replace_reason, reason);
    memset(&reg, 0, sizeof reg);
    LV_TRY(ra_new_id(reg.id, err));
    RA_COPY(reg.citizen_id, c.id);
    RA_COPY(reg.kind, "document_replacement");
    RA_COPY(reg.method, origin->method);
    RA_COPY(reg.actor, origin->actor);
    RA_COPY(reg.evidence_ref, evidence);
    reg.created_at = doc.created_at;
    reg.retain_until = doc.created_at + RA_RETENTION_SECONDS;
    return replace_tx(st, &old, &doc, &reg, origin->actor, err);
}

/* ---- signing checks (R2.1, R2.4, R5.5) ------------------------------------
 */

int ra_citizen_check_signing(lv_store *st, const char *citizen_id, int64_t now,
                             lv_err *err)
{
    lv_citizen_rec c;
    lv_iddoc_rec doc;
    char iso[32];
    LV_TRY(store_citizen_get(st, citizen_id, &c, err));
    if (strcmp(c.level, "advanced") != 0)
        return lv_fail(err, LV_EPERM,
                       "citizen %s is registered at the basic level: only an "
                       "advanced registration may hold or use signing "
                       "certificates (R2.1)",
                       citizen_id);
    LV_TRY(store_iddoc_current(st, citizen_id, &doc, err));
    int64_t until = ra_document_valid_until(&doc);
    lv_time_iso(until, iso);
    if (until != 0 && until <= now)
        return lv_fail(err, LV_ESTATE,
                       "the identity document of citizen %s expired on %.10s: "
                       "its certificates cannot sign (R2.4)",
                       citizen_id, iso);
    return 0;
}

int ra_cert_check_signing(lv_store *st, const char *citizen_id,
                          const char *serial, int64_t now, lv_err *err)
{
    lv_citizen_rec c;
    lv_cert_rec cert;
    char norm[65];
    LV_TRY(ra_citizen_check_signing(st, citizen_id, now, err));
    LV_TRY(store_citizen_get(st, citizen_id, &c, err));
    LV_TRY(ca_serial_normalize(serial, norm, err));
    LV_TRY(store_cert_get(st, norm, &cert, err));
    int rc = 0;
    if (strcmp(cert.subject_id, c.person_id) != 0)
        rc = lv_fail(err, LV_EPERM, "certificate %s does not name citizen %s",
                     norm, citizen_id);
    else if (cert.status != LV_CERT_VALID)
        rc = lv_fail(err, LV_ESTATE, "certificate %s is revoked", norm);
    else if (cert.not_after <= now || cert.not_before > now)
        rc = lv_fail(err, LV_ESTATE,
                     "certificate %s is not within its "
                     "validity period",
                     norm);
    store_cert_rec_free(&cert);
    return rc;
}

/* ---- the citizen's own certificate (R5.3) -------------------------------- */

/* DNI stays DNI; the NIE of a TIE card or an EU registration is a NIE for
 * the subject rules of ca/ (CPS §3.1.1.1). */
static const char *subject_id_type(const lv_iddoc_rec *doc)
{
    return strcmp(doc->doc_type, "DNI") == 0 ? "DNI" : "NIE";
}

int ra_citizen_subject(lv_store *st, const char *citizen_id, json_t **out,
                       lv_err *err)
{
    lv_citizen_rec c;
    lv_iddoc_rec doc;
    *out = NULL;
    LV_TRY(store_citizen_get(st, citizen_id, &c, err));
    LV_TRY(store_iddoc_current(st, citizen_id, &doc, err));
    json_t *s = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "given_name", c.given_name,
        "surname", c.surname, "id_type", subject_id_type(&doc), "id_number",
        doc.number, "id_country", "ES", "country", c.country, "email", c.email);
    if (s == NULL)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int64_t until = ra_document_valid_until(&doc);
    /* R2.4: ca_issue caps notAfter at the document's expiry */
    if (until != 0)
        json_object_set_new(s, "document_expiry", ra_time_json(until));
    *out = s;
    return 0;
}

static int citizen_profile(const char *profile_id, const lv_profile **out,
                           lv_err *err)
{
    const lv_profile *p =
        profile_find(profile_id ? profile_id : RA_DEFAULT_PROFILE);
    if (p == NULL || p->subject != LV_SUBJ_NATURAL ||
        (p->custody != LV_CUSTODY_CLOUD && p->custody != LV_CUSTODY_CLOUD_HSM))
        return lv_fail(err, LV_EINVAL,
                       "a citizen's certificate is natural-person-cloud or "
                       "natural-person-cloud-hsm, not '%s'",
                       profile_id ? profile_id : "");
    *out = p;
    return 0;
}

static void notify_issued(lv_ca *ca, lv_store *st, const char *citizen_id,
                          const char *actor, const lv_issue_result *r)
{
    lv_citizen_rec c;
    char text[256];
    const lv_config *cfg = ca_config(ca);
    if (store_citizen_get(st, citizen_id, &c, NULL) < 0 ||
        lv_text_fill(text, sizeof text, NULL, "notice.issued", "provider",
                     cfg->org_name, "serial", r->serial, LV_TEXT_END) < 0)
        return;
    /* R4.10: the person named is told of the issuance */
    ra_notice n = {c.mobile, c.email, lv_text(NULL, "notice.issued.subject"),
                   text};
    ra_notify(cfg, st, actor, r->serial, &n, 1);
}

int ra_citizen_issue(lv_ca *ca, lv_store *st, const char *citizen_id,
                     const char *profile_id, const char *actor,
                     lv_issue_result *out, lv_err *err)
{
    const lv_profile *p = NULL;
    json_t *subject = NULL;
    memset(out, 0, sizeof *out);
    LV_TRY(citizen_profile(profile_id, &p, err));
    int rc = ra_citizen_check_signing(st, citizen_id, lv_now(), err);
    if (rc == LV_EPERM || rc == LV_ESTATE) {
        json_t *extra = json_pack("{s:s}", "profile", p->id);
        ra_audit_refusal(st, actor, "ra.citizen_issue", citizen_id, err, extra);
        json_decref(extra);
    }
    if (rc == 0)
        rc = ra_citizen_subject(st, citizen_id, &subject, err);
    lv_issue_req req = {
        .profile_id = p->id, .subject = subject, .actor = actor};
    if (rc == 0)
        rc = ca_issue(ca, st, &req, out, err);
    json_decref(subject);
    if (rc == 0)
        notify_issued(ca, st, citizen_id, actor, out);
    return rc;
}

/* ---- reading ----------------------------------------------------------------
 */

static int add_doc(const lv_iddoc_rec *d, void *ctx)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o}", "id", d->id, "type",
        d->doc_type, "number", d->number, "country", d->country,
        "support_number", d->support_number, "expiry", ra_time_json(d->expiry),
        "status", d->status, "created_at", ra_time_json(d->created_at),
        "valid_until", ra_time_json(ra_document_valid_until(d)));
    if (d->companion_type[0])
        json_object_set_new(o, "companion",
                            json_pack("{s:s, s:s, s:s, s:o}", "type",
                                      d->companion_type, "number",
                                      d->companion_number, "country",
                                      d->companion_country, "expiry",
                                      ra_time_json(d->companion_expiry)));
    if (d->replace_reason[0]) {
        json_object_set_new(o, "replace_reason",
                            json_string(d->replace_reason));
        json_object_set_new(o, "replaced_at", ra_time_json(d->replaced_at));
    }
    return json_array_append_new(ctx, o) == 0 ? 0 : LV_ENOMEM;
}

static int add_registration(const lv_registration_rec *r, void *ctx)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", r->id,
                          "kind", r->kind, "method", r->method, "actor",
                          r->actor, "evidence_ref", r->evidence_ref,
                          "created_at", ra_time_json(r->created_at),
                          "retain_until", ra_time_json(r->retain_until));
    return json_array_append_new(ctx, o) == 0 ? 0 : LV_ENOMEM;
}

static int add_cert(const lv_cert_rec *r, void *ctx)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "serial", r->serial,
        "profile", r->profile, "ca", r->ca, "subject_id", r->subject_id,
        "subscriber_id", r->subscriber_id, "not_before",
        ra_time_json(r->not_before), "not_after", ra_time_json(r->not_after),
        "status", r->status == LV_CERT_VALID ? "valid" : "revoked");
    if (r->status != LV_CERT_VALID)
        json_object_set_new(o, "revocation_reason",
                            json_string(ca_reason_name(r->revocation_reason)));
    return json_array_append_new(ctx, o) == 0 ? 0 : LV_ENOMEM;
}

static json_t *credential_json(lv_store *st, const char *citizen_id)
{
    lv_citizen_cred cred;
    if (auth_citizen_get(st, citizen_id, &cred, NULL) < 0)
        return json_null();
    return json_pack("{s:s, s:b, s:b, s:o}", "user_id", cred.user_id, "active",
                     cred.active, "locked", cred.locked, "password_expires_at",
                     ra_time_json(cred.password_expires_at));
}

int ra_citizen_json(lv_store *st, const char *citizen_id, json_t **out,
                    lv_err *err)
{
    lv_citizen_rec c;
    *out = NULL;
    LV_TRY(store_citizen_get(st, citizen_id, &c, err));
    json_t *docs = json_array(), *regs = json_array(), *certs = json_array();
    int rc = store_iddoc_foreach(st, c.id, add_doc, docs, err);
    if (rc == 0)
        rc = store_registration_foreach(st, c.id, add_registration, regs, err);
    if (rc == 0)
        rc = store_cert_foreach_party(st, c.person_id, add_cert, certs, err);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, "
        "s:o}",
        "id", c.id, "person_id", c.person_id, "level", c.level, "given_name",
        c.given_name, "surname", c.surname, "country", c.country, "birth_date",
        c.birth_date, "mobile", c.mobile, "email", c.email, "created_at",
        ra_time_json(c.created_at), "documents", docs, "registrations", regs,
        "certificates", certs, "credential", credential_json(st, c.id));
    return ra_json_out(rc, o, out, err);
}
