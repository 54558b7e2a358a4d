/* Organizations, their representatives and linked persons (R2.7, CPS
 * §3.2.2, §3.2.3.2).  What goes into a certificate is checked by ca/'s own
 * subject rules at entry, so an organization that is stored can always be
 * named in one. */
#include "notify/notify.h"
#include "ra/ra_internal.h"

#include <string.h>

#define UB_NAME 64

/* ---- the organization -------------------------------------------------------
 */

static int parse_contact(const json_t *in, lv_org_rec *o, lv_err *err)
{
    const char *email, *mobile;
    LV_TRY(ra_field_str(in, "contact_email", 1, sizeof o->contact_email - 1,
                        &email, err));
    LV_TRY(notify_check_email(email, err));
    LV_TRY(ra_field_str(in, "contact_mobile", 0, sizeof o->contact_mobile - 1,
                        &mobile, err));
    if (mobile != NULL)
        LV_TRY(notify_check_mobile(mobile, err));
    RA_COPY(o->contact_email, email);
    RA_COPY(o->contact_mobile, mobile ? mobile : "");
    return 0;
}

/* PSD2 data (ETSI TS 119 495): stored as given; its form is checked by the
 * eseal-psd2 subject rules in check_with_ca. */
static int parse_psd2(const json_t *psd2, lv_org_rec *o, lv_err *err)
{
    static const char *const keys[] = {"nca_name", "nca_id", "roles",
                                       "authorization_number", NULL};
    const char *name, *id, *auth;
    size_t i;
    json_t *v;
    LV_TRY(ra_check_keys(psd2, keys, "psd2", err));
    LV_TRY(ra_field_str(psd2, "nca_name", 1, sizeof o->psd2_nca_name - 1, &name,
                        err));
    LV_TRY(
        ra_field_str(psd2, "nca_id", 1, sizeof o->psd2_nca_id - 1, &id, err));
    LV_TRY(ra_field_str(psd2, "authorization_number", 1,
                        sizeof o->psd2_authorization - 1, &auth, err));
    json_t *roles = json_object_get(psd2, "roles");
    if (!json_is_array(roles) || json_array_size(roles) == 0)
        return lv_fail(err, LV_EINVAL, "psd2.roles must list the PSP roles");
    json_array_foreach(roles, i, v)
    {
        size_t used = strlen(o->psd2_roles);
        if (!json_is_string(v) || strchr(json_string_value(v), ',') ||
            used + json_string_length(v) + 2 > sizeof o->psd2_roles)
            return lv_fail(err, LV_EINVAL, "psd2.roles[%zu] is not a role", i);
        snprintf(o->psd2_roles + used, sizeof o->psd2_roles - used, "%s%s",
                 used ? "," : "", json_string_value(v));
    }
    RA_COPY(o->psd2_nca_name, name);
    RA_COPY(o->psd2_nca_id, id);
    RA_COPY(o->psd2_authorization, auth);
    return 0;
}

/* The organization as ca/ sees it in a seal: NIF control character,
 * country, 64-character DN limits, PSD2 NCA id form. */
static int check_with_ca(const lv_org_rec *o, lv_err *err)
{
    int psd2 = o->psd2_nca_id[0] != '\0';
    const lv_profile *p = profile_find(psd2 ? "eseal-psd2" : "eseal");
    lv_subject s;
    json_t *subj =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "organization",
                  o->legal_name, "organization_id", o->nif,
                  "organization_country", o->country, "locality", o->locality,
                  "country", o->country, "common_name", o->legal_name);
    if (psd2)
        json_object_set_new(subj, "psd2", ra_psd2_json(o));
    int rc = p ? profile_subject_build(p, subj, &s, err) : LV_EINTERNAL;
    if (rc == 0)
        profile_subject_free(&s);
    json_decref(subj);
    return rc;
}

static int org_parse(const json_t *in, lv_org_rec *o, lv_err *err)
{
    static const char *const keys[] = {"legal_name",    "nif",
                                       "country",       "kind",
                                       "locality",      "business_category",
                                       "contact_email", "contact_mobile",
                                       "psd2",          NULL};
    const char *name, *nif, *country, *locality, *category;
    memset(o, 0, sizeof *o);
    LV_TRY(ra_check_keys(in, keys, "the organization", err));
    LV_TRY(ra_field_str(in, "legal_name", 1, UB_NAME, &name, err));
    LV_TRY(ra_field_str(in, "nif", 1, sizeof o->nif - 1, &nif, err));
    LV_TRY(ra_field_str(in, "country", 0, 2, &country, err));
    LV_TRY(ra_check_country(country ? country : "ES", "country", err));
    LV_TRY(ra_field_either(in, "kind", "legal_person", "entity",
                           " (without legal personality, CPS §3.1.1.4)",
                           o->kind, sizeof o->kind, err));
    LV_TRY(ra_field_str(in, "locality", 1, UB_NAME, &locality, err));
    LV_TRY(ra_field_str(in, "business_category", 0, UB_NAME, &category, err));
    LV_TRY(parse_contact(in, o, err));
    json_t *psd2 = json_object_get(in, "psd2");
    if (psd2 != NULL)
        LV_TRY(parse_psd2(psd2, o, err));
    RA_COPY(o->legal_name, name);
    RA_COPY(o->nif, nif);
    RA_COPY(o->country, country ? country : "ES");
    RA_COPY(o->locality, locality);
    RA_COPY(o->business_category, category ? category : "");
    /* ETSI EN 319 412-1 §5.1.4, as ca/ derives it for certificates */
    snprintf(o->org_identifier, sizeof o->org_identifier, "VAT%s-%s",
             o->country, o->nif);
    return check_with_ca(o, err);
}

int ra_org_create(lv_store *st, const json_t *in, const char *actor,
                  char id_out[LV_RA_ID_LEN + 1], lv_err *err)
{
    lv_org_rec o;
    LV_TRY(org_parse(in, &o, err));
    LV_TRY(ra_new_id(o.id, err));
    RA_COPY(o.created_by, actor);
    o.created_at = lv_now();
    json_t *details =
        json_pack("{s:s, s:s, s:s, s:b}", "org_identifier", o.org_identifier,
                  "legal_name", o.legal_name, "kind", o.kind, "psd2",
                  o.psd2_nca_id[0] != '\0');
    int rc = store_begin(st, err);
    if (rc == 0 && (rc = store_org_insert(st, &o, err)) == 0)
        rc = audit_log(st, actor, "org.create", o.id, LV_AUDIT_SUCCESS, details,
                       err);
    rc = store_end(st, rc, err);
    json_decref(details);
    if (rc == 0)
        memcpy(id_out, o.id, sizeof o.id);
    return rc;
}

/* ---- representatives and linked persons -------------------------------------
 */

static int parse_identity(const json_t *in, lv_org_person_rec *p, lv_err *err)
{
    const char *given, *surname, *type, *number, *country, *email;
    LV_TRY(ra_field_str(in, "given_name", 1, UB_NAME, &given, err));
    LV_TRY(ra_field_str(in, "surname", 1, 128, &surname, err));
    LV_TRY(ra_field_str(in, "id_type", 1, 15, &type, err));
    LV_TRY(ra_check_person_doc(type, err));
    LV_TRY(ra_field_str(in, "id_number", 1, 32, &number, err));
    LV_TRY(ra_field_str(in, "id_country", 0, 2, &country, err));
    if (country == NULL && (!strcmp(type, "DNI") || !strcmp(type, "NIE")))
        country = "ES";
    LV_TRY(ra_person_id(type, number, country, p->person_id, err));
    LV_TRY(ra_field_str(in, "email", 1, sizeof p->email - 1, &email, err));
    LV_TRY(notify_check_email(email, err));
    LV_TRY(ra_field_date(in, "document_expiry", 0, &p->document_expiry, err));
    if (p->document_expiry != 0 && p->document_expiry <= lv_now())
        return lv_fail(err, LV_EINVAL, "the identity document has expired");
    RA_COPY(p->given_name, given);
    RA_COPY(p->surname, surname);
    RA_COPY(p->id_type, type);
    RA_COPY(p->id_number, number);
    RA_COPY(p->id_country, country ? country : "");
    RA_COPY(p->email, email);
    return 0;
}

/* CPS §3.2.2: the scope and validity of the powers and the public document
 * that proves them (it becomes the certificate's description). */
static int parse_powers(const json_t *powers, lv_org_person_rec *p, lv_err *err)
{
    static const char *const keys[] = {"scope", "from", "until", "document",
                                       NULL};
    const char *scope, *doc;
    LV_TRY(ra_check_keys(powers, keys, "powers", err));
    LV_TRY(ra_field_str(powers, "scope", 1, sizeof p->powers_scope - 1, &scope,
                        err));
    LV_TRY(ra_field_date(powers, "from", 1, &p->powers_from, err));
    LV_TRY(ra_field_date(powers, "until", 1, &p->powers_until, err));
    LV_TRY(ra_field_str(powers, "document", 1, sizeof p->powers_document - 1,
                        &doc, err));
    if (p->powers_until <= p->powers_from)
        return lv_fail(err, LV_EINVAL,
                       "powers.until must be after "
                       "powers.from");
    if (p->powers_until <= lv_now())
        return lv_fail(err, LV_EINVAL, "the powers have already ended");
    RA_COPY(p->powers_scope, scope);
    RA_COPY(p->powers_document, doc);
    return 0;
}

static int person_parse(const json_t *in, const char *role,
                        lv_org_person_rec *p, lv_err *err)
{
    static const char *const keys[] = {
        "given_name", "surname",         "id_type", "id_number",
        "id_country", "document_expiry", "email",   "unit",
        "title",      "powers",          NULL};
    const char *unit, *title;
    int rep = strcmp(role, "representative") == 0;
    memset(p, 0, sizeof *p);
    if (!rep && strcmp(role, "member") != 0)
        return lv_fail(err, LV_EINVAL,
                       "role must be representative or "
                       "member");
    LV_TRY(ra_check_keys(in, keys, "the person", err));
    LV_TRY(parse_identity(in, p, err));
    LV_TRY(ra_field_str(in, "unit", 0, UB_NAME, &unit, err));
    LV_TRY(ra_field_str(in, "title", 0, UB_NAME, &title, err));
    json_t *powers = json_object_get(in, "powers");
    if (rep != (powers != NULL))
        return lv_fail(err, LV_EINVAL,
                       rep ? "a representative needs 'powers' {scope, from, "
                             "until, document} (CPS §3.2.2)"
                           : "a linked person has no 'powers'");
    if (rep)
        LV_TRY(parse_powers(powers, p, err));
    RA_COPY(p->role, role);
    RA_COPY(p->unit, unit ? unit : "");
    RA_COPY(p->title, title ? title : "");
    return 0;
}

int ra_org_add_person(lv_store *st, const char *org_id, const char *role,
                      const json_t *in, const char *actor,
                      char id_out[LV_RA_ID_LEN + 1], lv_err *err)
{
    lv_org_person_rec p;
    lv_org_rec o;
    LV_TRY(store_org_get(st, org_id, &o, err));
    LV_TRY(person_parse(in, role, &p, err));
    LV_TRY(ra_new_id(p.id, err));
    RA_COPY(p.org_id, o.id);
    RA_COPY(p.created_by, actor);
    p.created_at = lv_now();
    json_t *details = json_pack("{s:s, s:s, s:s}", "org_id", o.id, "role",
                                p.role, "person_id", p.person_id);
    int rc = store_begin(st, err);
    if (rc == 0 && (rc = store_org_person_insert(st, &p, err)) == 0)
        rc = audit_log(st, actor, "org.person_add", p.id, LV_AUDIT_SUCCESS,
                       details, err);
    rc = store_end(st, rc, err);
    json_decref(details);
    if (rc == 0)
        memcpy(id_out, p.id, sizeof p.id);
    return rc;
}

/* ---- reading
 * ------------------------------------------------------------------ */

static int add_person(const lv_org_person_rec *p, void *ctx)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "id",
        p->id, "role", p->role, "person_id", p->person_id, "given_name",
        p->given_name, "surname", p->surname, "id_type", p->id_type,
        "id_number", p->id_number, "id_country", p->id_country,
        "document_expiry", ra_time_json(p->document_expiry), "email", p->email,
        "unit", p->unit, "title", p->title);
    if (p->powers_scope[0])
        json_object_set_new(o, "powers",
                            json_pack("{s:s, s:o, s:o, s:s}", "scope",
                                      p->powers_scope, "from",
                                      ra_time_json(p->powers_from), "until",
                                      ra_time_json(p->powers_until), "document",
                                      p->powers_document));
    return json_array_append_new(ctx, o) == 0 ? 0 : LV_ENOMEM;
}

static int add_cert_serial(const lv_cert_rec *r, void *ctx)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:o}", "serial", r->serial, "profile",
                  r->profile, "subject_id", r->subject_id, "status",
                  r->status == LV_CERT_VALID ? "valid" : "revoked", "not_after",
                  ra_time_json(r->not_after));
    return json_array_append_new(ctx, o) == 0 ? 0 : LV_ENOMEM;
}

int ra_org_json(lv_store *st, const char *org_id, json_t **out, lv_err *err)
{
    lv_org_rec o;
    *out = NULL;
    LV_TRY(store_org_get(st, org_id, &o, err));
    json_t *people = json_array(), *certs = json_array();
    int rc = store_org_person_foreach(st, o.id, add_person, people, err);
    if (rc == 0)
        rc = store_cert_foreach_party(st, o.org_identifier, add_cert_serial,
                                      certs, err);
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, "
        "s:o}",
        "id", o.id, "org_identifier", o.org_identifier, "nif", o.nif, "country",
        o.country, "legal_name", o.legal_name, "kind", o.kind, "locality",
        o.locality, "business_category", o.business_category, "contact_email",
        o.contact_email, "contact_mobile", o.contact_mobile, "created_by",
        o.created_by, "created_at", ra_time_json(o.created_at), "people",
        people, "certificates", certs);
    if (j != NULL && o.psd2_nca_id[0])
        json_object_set_new(j, "psd2", ra_psd2_json(&o));
    return ra_json_out(rc, j, out, err);
}
