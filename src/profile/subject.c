/* Subject validation and DN construction: the naming rules of CPS §3.1.1,
 * the identity documents of R2.3 and the organizations of R2.7.  Which
 * attributes each kind of certificate carries is data (dn_rules below); the
 * code only derives the composed values (serialNumber, CN, ...). */
#include "profile/profile.h"

#include <ctype.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

/* Upper bounds of RFC 5280 Appendix A (ub-*) for the attributes we write. */
#define UB_NAME 64
#define UB_DESCRIPTION 1024
#define UB_SURNAME 128

/* ---- Spanish identifiers ---------------------------------------------- */

static const char DNI_LETTERS[] = "TRWAGMYFPDXBNJZSQVHLCKE";

int profile_check_dni_nie(const char *id, lv_err *err)
{
    char digits[9];
    size_t len = id ? strlen(id) : 0;
    if (len != 9)
        return lv_fail(err, LV_EINVAL,
                       "DNI/NIE '%s' must be 8 digits and a letter, or X/Y/Z, "
                       "7 digits and a letter",
                       id ? id : "");
    memcpy(digits, id, 8);
    digits[8] = '\0';
    /* NIE: the leading X, Y or Z stands for 0, 1 or 2 (Orden INT/2058/2008) */
    const char *nie = strchr("XYZ", toupper((unsigned char)id[0]));
    if (nie != NULL && id[0] != '\0')
        digits[0] = (char)('0' + (nie - "XYZ"));
    for (int i = 0; i < 8; i++) {
        if (!isdigit((unsigned char)digits[i]))
            return lv_fail(err, LV_EINVAL, "DNI/NIE '%s' has a non-digit", id);
    }
    long number = strtol(digits, NULL, 10);
    char expected = DNI_LETTERS[number % 23];
    if (toupper((unsigned char)id[8]) != expected)
        return lv_fail(err, LV_EINVAL,
                       "DNI/NIE '%s' has a wrong check letter (expected %c)",
                       id, expected);
    return 0;
}

/* CIF control (Real Decreto 1065/2007 art. 22): sum of even-position digits
 * plus the digit sums of doubled odd-position digits. */
static int cif_control_digit(const char *seven)
{
    int sum = 0;
    for (int i = 0; i < 7; i++) {
        int d = seven[i] - '0';
        if (i % 2 == 0) {
            d *= 2;
            d = d / 10 + d % 10;
        }
        sum += d;
    }
    return (10 - sum % 10) % 10;
}

int profile_check_cif(const char *id, lv_err *err)
{
    size_t len = id ? strlen(id) : 0;
    if (len != 9 || !strchr("ABCDEFGHJNPQRSUVW", id[0]) || id[0] == '\0')
        return lv_fail(err, LV_EINVAL,
                       "organization NIF '%s' must be a letter (A-W), 7 "
                       "digits and a control character",
                       id ? id : "");
    for (int i = 1; i < 8; i++) {
        if (!isdigit((unsigned char)id[i]))
            return lv_fail(err, LV_EINVAL,
                           "organization NIF '%s' has a "
                           "non-digit",
                           id);
    }
    int digit = cif_control_digit(id + 1);
    char letter = "JABCDEFGHI"[digit];
    char got = (char)toupper((unsigned char)id[8]);
    if (got != (char)('0' + digit) && got != letter)
        return lv_fail(err, LV_EINVAL,
                       "organization NIF '%s' has a wrong control character "
                       "(expected %d or %c)",
                       id, digit, letter);
    return 0;
}

/* ---- JSON field access ------------------------------------------------- */

static const lv_text_member SUBJECT_FIELD = {"subject field", "characters", 0};

/* A present string field, trimmed of nothing: we refuse leading/trailing
 * blanks and control characters instead of silently fixing them. */
static int get_field(const json_t *subject, const char *key, int required,
                     size_t max_len, const char **out, lv_err *err)
{
    return lv_json_text(subject, key, required, max_len, &SUBJECT_FIELD, out,
                        err);
}

static int check_country(const char *c, const char *field, lv_err *err)
{
    return lv_text_country(c, field, &SUBJECT_FIELD, err);
}

/* ---- derived values ------------------------------------------------------ */

/* Values composed from several fields, addressed as "@name" in dn_rules. */
typedef struct derived {
    char person_id[64]; /* ETSI EN 319 412-1 §5.1.3: IDCES-12345678Z */
    char org_id[64];    /* VATES-B12345678 or PSDES-BE-XXXX */
    char org_nif[32];   /* B12345678 */
    char person_cn[UB_NAME + 1];
    char rep_cn[UB_NAME + 1];
    char web_cn[UB_NAME + 1];
    char unit_cn[UB_NAME + 1]; /* a TSA's unit name (one provider, many TSUs) */
} derived;

/* R2.3: DNI, NIE, passport or national identity card. */
static int derive_person_id(const json_t *subj, derived *d, lv_err *err)
{
    const char *type, *number, *country;
    LV_TRY(get_field(subj, "id_type", 1, 16, &type, err));
    LV_TRY(get_field(subj, "id_number", 1, 32, &number, err));
    LV_TRY(get_field(subj, "id_country", 0, 2, &country, err));
    const char *prefix = NULL;
    if (strcmp(type, "DNI") == 0 || strcmp(type, "NIE") == 0) {
        if (country != NULL && strcmp(country, "ES") != 0)
            return lv_fail(err, LV_EINVAL, "a %s is issued by ES, not %s", type,
                           country);
        LV_TRY(profile_check_dni_nie(number, err));
        int is_nie = strchr("XYZxyz", number[0]) != NULL;
        if (is_nie != (strcmp(type, "NIE") == 0))
            return lv_fail(err, LV_EINVAL, "id_number '%s' is not a %s number",
                           number, type);
        country = "ES";
        prefix = "IDC";
    } else if (strcmp(type, "PASSPORT") == 0) {
        prefix = "PAS";
    } else if (strcmp(type, "ID_CARD") == 0) {
        prefix = "IDC";
    } else {
        return lv_fail(err, LV_EINVAL,
                       "id_type must be DNI, NIE, PASSPORT or ID_CARD");
    }
    if (country == NULL)
        return lv_fail(err, LV_EINVAL,
                       "subject field 'id_country' is required for a %s", type);
    LV_TRY(check_country(country, "id_country", err));
    for (const char *c = number; *c; c++) {
        if (!isalnum((unsigned char)*c))
            return lv_fail(err, LV_EINVAL,
                           "id_number may hold only letters and digits");
    }
    snprintf(d->person_id, sizeof d->person_id, "%s%s-%s", prefix, country,
             number);
    return 0;
}

static int derive_person_cn(const json_t *subj, derived *d, lv_err *err)
{
    const char *given, *surname, *number;
    LV_TRY(get_field(subj, "given_name", 1, UB_NAME, &given, err));
    LV_TRY(get_field(subj, "surname", 1, UB_SURNAME, &surname, err));
    LV_TRY(get_field(subj, "id_number", 1, 32, &number, err));
    /* CPS §3.1.1.1: name, surnames and number of the person */
    int n = snprintf(d->person_cn, sizeof d->person_cn, "%s %s - %s", given,
                     surname, number);
    if (n < 0 || (size_t)n >= sizeof d->person_cn)
        return lv_fail(err, LV_EINVAL,
                       "name and number exceed the 64 characters of a CN");
    return 0;
}

static int derive_org(const json_t *subj, derived *d, lv_err *err)
{
    const char *nif, *country;
    LV_TRY(get_field(subj, "organization_id", 1, 32, &nif, err));
    LV_TRY(get_field(subj, "organization_country", 0, 2, &country, err));
    if (country == NULL)
        country = "ES";
    LV_TRY(check_country(country, "organization_country", err));
    if (strcmp(country, "ES") == 0)
        LV_TRY(profile_check_cif(nif, err));
    snprintf(d->org_nif, sizeof d->org_nif, "%s", nif);
    /* ETSI EN 319 412-1 §5.1.4: VAT + country + '-' + number */
    /* a PSD2 subject's identifier is replaced in derive_psd2 */
    snprintf(d->org_id, sizeof d->org_id, "VAT%s-%s", country, nif);
    return 0;
}

static int derive_rep_cn(const json_t *subj, derived *d, lv_err *err)
{
    const char *given, *surname, *number;
    LV_TRY(get_field(subj, "given_name", 1, UB_NAME, &given, err));
    LV_TRY(get_field(subj, "surname", 1, UB_SURNAME, &surname, err));
    LV_TRY(get_field(subj, "id_number", 1, 32, &number, err));
    /* CPS §3.1.1.3: the person and the represented organization's NIF */
    int n = snprintf(d->rep_cn, sizeof d->rep_cn, "%s %s - %s (R: %s)", given,
                     surname, number, d->org_nif);
    if (n < 0 || (size_t)n >= sizeof d->rep_cn)
        return lv_fail(err, LV_EINVAL,
                       "name, number and organization NIF exceed the 64 "
                       "characters of a CN");
    return 0;
}

/* ---- DNS names (web profiles) ---------------------------------------------
 */

static int check_dns_label(const char *label, size_t len, lv_err *err)
{
    if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
        return lv_fail(err, LV_EINVAL, "DNS name has an invalid label");
    for (size_t i = 0; i < len; i++) {
        char c = label[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) ||
              c == '-'))
            return lv_fail(err, LV_EINVAL,
                           "DNS names must be lower-case LDH (RFC 5890 "
                           "A-labels)");
    }
    return 0;
}

static int check_dns_name(const char *name, int wildcard_ok, lv_err *err)
{
    size_t len = strlen(name);
    if (len == 0 || len > 253)
        return lv_fail(err, LV_EINVAL, "DNS name length must be 1..253");
    if (strncmp(name, "*.", 2) == 0) {
        if (!wildcard_ok)
            return lv_fail(err, LV_EINVAL,
                           "wildcard DNS name '%s' needs the web-ov-wildcard "
                           "profile",
                           name);
        name += 2;
    }
    int labels = 0;
    for (const char *start = name;; labels++) {
        const char *dot = strchr(start, '.');
        size_t l = dot ? (size_t)(dot - start) : strlen(start);
        LV_TRY(check_dns_label(start, l, err));
        if (dot == NULL)
            break;
        start = dot + 1;
    }
    if (labels < 1)
        return lv_fail(err, LV_EINVAL, "DNS name '%s' must be fully qualified",
                       name);
    return 0;
}

static int build_dns_san(const json_t *subj, const lv_profile *p,
                         GENERAL_NAMES **san, derived *d, lv_err *err)
{
    json_t *names = json_object_get(subj, "dns_names");
    if (!json_is_array(names) || json_array_size(names) == 0 ||
        json_array_size(names) > 100)
        return lv_fail(err, LV_EINVAL,
                       "subject field 'dns_names' must be an array of 1 to "
                       "100 DNS names");
    *san = GENERAL_NAMES_new();
    if (*san == NULL)
        return LV_ENOMEM;
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        if (!json_is_string(v))
            return lv_fail(err, LV_EINVAL, "dns_names[%zu] is not a string", i);
        const char *dns = json_string_value(v);
        LV_TRY(check_dns_name(dns, p->wildcard, err));
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
        if (gn == NULL || ia5 == NULL || !ASN1_STRING_set(ia5, dns, -1)) {
            GENERAL_NAME_free(gn);
            ASN1_IA5STRING_free(ia5);
            return LV_ENOMEM;
        }
        GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
        sk_GENERAL_NAME_push(*san, gn);
    }
    /* CABF BR §7.1.4.3: a CN, if present, is one of the SAN entries */
    snprintf(d->web_cn, sizeof d->web_cn, "%s",
             json_string_value(json_array_get(names, 0)));
    return 0;
}

static int build_email_san(const json_t *subj, GENERAL_NAMES **san, lv_err *err)
{
    const char *email;
    LV_TRY(get_field(subj, "email", 0, 254, &email, err));
    if (email == NULL)
        return 0;
    const char *at = strchr(email, '@');
    if (at == NULL || at == email || strchr(at + 1, '.') == NULL ||
        strchr(at + 1, '@') != NULL || strpbrk(email, " ,;<>\"") != NULL)
        return lv_fail(err, LV_EINVAL, "email '%s' is not an address", email);
    *san = GENERAL_NAMES_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    if (*san == NULL || gn == NULL || ia5 == NULL ||
        !ASN1_STRING_set(ia5, email, -1)) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(ia5);
        return LV_ENOMEM;
    }
    GENERAL_NAME_set0_value(gn, GEN_EMAIL, ia5);
    sk_GENERAL_NAME_push(*san, gn);
    return 0;
}

/* ---- PSD2 (ETSI TS 119 495) --------------------------------------------- */

static const struct {
    const char *name;
    int bit;
} PSD2_ROLES[] = {{"PSP_AS", LV_PSD2_AS},
                  {"PSP_PI", LV_PSD2_PI},
                  {"PSP_AI", LV_PSD2_AI},
                  {"PSP_IC", LV_PSD2_IC}};

static int psd2_roles(const json_t *roles, int *out, lv_err *err)
{
    size_t i;
    json_t *v;
    *out = 0;
    if (!json_is_array(roles) || json_array_size(roles) == 0)
        return lv_fail(err, LV_EINVAL,
                       "psd2.roles must list PSP_AS, PSP_PI, PSP_AI or "
                       "PSP_IC");
    json_array_foreach(roles, i, v)
    {
        int bit = 0;
        for (size_t r = 0; r < 4 && json_is_string(v); r++) {
            if (strcmp(json_string_value(v), PSD2_ROLES[r].name) == 0)
                bit = PSD2_ROLES[r].bit;
        }
        if (bit == 0)
            return lv_fail(err, LV_EINVAL,
                           "psd2.roles[%zu] is not a PSD2 "
                           "role",
                           i);
        *out |= bit;
    }
    return 0;
}

/* TS 119 495 §5.2.1: NCAId is country code '-' 2-8 character NCA id;
 * organizationIdentifier is "PSD" NCAId '-' PSP authorization number. */
static int derive_psd2(const json_t *subj, lv_subject *out, derived *d,
                       lv_err *err)
{
    json_t *psd2 = json_object_get(subj, "psd2");
    const char *nca_name, *nca_id, *auth;
    if (!json_is_object(psd2))
        return lv_fail(err, LV_EINVAL,
                       "subject field 'psd2' is required: {roles, nca_name, "
                       "nca_id, authorization_number}");
    LV_TRY(get_field(psd2, "nca_name", 1, 127, &nca_name, err));
    LV_TRY(get_field(psd2, "nca_id", 1, 11, &nca_id, err));
    LV_TRY(get_field(psd2, "authorization_number", 1, 35, &auth, err));
    size_t id_len = strlen(nca_id);
    if (id_len < 5 || nca_id[2] != '-' || !isupper((unsigned char)nca_id[0]) ||
        !isupper((unsigned char)nca_id[1]))
        return lv_fail(err, LV_EINVAL,
                       "psd2.nca_id must be a country code, '-' and the NCA "
                       "identifier, e.g. ES-BE");
    LV_TRY(psd2_roles(json_object_get(psd2, "roles"), &out->psd2_roles, err));
    snprintf(out->psd2_nca_name, sizeof out->psd2_nca_name, "%s", nca_name);
    snprintf(out->psd2_nca_id, sizeof out->psd2_nca_id, "%s", nca_id);
    snprintf(d->org_id, sizeof d->org_id, "PSD%s-%s", nca_id, auth);
    return 0;
}

/* ---- DN rules (CPS §3.1.1) ------------------------------------------------
 */

enum { OPT = 0, REQ = 1 };

typedef struct dn_rule {
    int nid;
    const char *source; /* JSON field, or "@derived" */
    int required;
    size_t max_len;
} dn_rule;

#define END_RULES                                                              \
    {                                                                          \
        NID_undef, NULL, 0, 0                                                  \
    }

static const dn_rule NATURAL_RULES[] = {
    {NID_countryName, "country", REQ, 2},
    {NID_surname, "surname", REQ, UB_SURNAME},
    {NID_givenName, "given_name", REQ, UB_NAME},
    {NID_serialNumber, "@person_id", REQ, UB_NAME},
    {NID_commonName, "@person_cn", REQ, UB_NAME},
    END_RULES};

/* A person within an organization (§3.1.1.2 to §3.1.1.4): the
 * organization, then the person; the CN and what follows differ. */
#define PERSON_IN_ORG_RULES                                                    \
    {NID_countryName, "country", REQ, 2},                                      \
        {NID_organizationName, "organization", REQ, UB_NAME},                  \
        {NID_organizationalUnitName, "organizational_unit", OPT, UB_NAME},     \
        {NID_organizationIdentifier, "@org_id", REQ, UB_NAME},                 \
        {NID_surname, "surname", REQ, UB_SURNAME},                             \
        {NID_givenName, "given_name", REQ, UB_NAME},                           \
        {NID_title, "title", OPT, UB_NAME},                                    \
    {                                                                          \
        NID_serialNumber, "@person_id", REQ, UB_NAME                           \
    }

static const dn_rule LINKED_RULES[] = {
    PERSON_IN_ORG_RULES,
    {NID_commonName, "@person_cn", REQ, UB_NAME},
    END_RULES};

/* §3.1.1.3 and §3.1.1.4 differ only in what O names. */
static const dn_rule REPRESENTATIVE_RULES[] = {
    PERSON_IN_ORG_RULES,
    {NID_commonName, "@rep_cn", REQ, UB_NAME},
    /* the public document proving the powers (R2.7) */
    {NID_description, "description", REQ, UB_DESCRIPTION},
    END_RULES};

static const dn_rule SEAL_RULES[] = {
    {NID_countryName, "country", REQ, 2},
    {NID_organizationName, "organization", REQ, UB_NAME},
    {NID_organizationalUnitName, "organizational_unit", OPT, UB_NAME},
    {NID_organizationIdentifier, "@org_id", REQ, UB_NAME},
    {NID_serialNumber, "@org_nif", REQ, UB_NAME},
    {NID_localityName, "locality", REQ, UB_NAME},
    {NID_commonName, "common_name", REQ, UB_NAME},
    END_RULES};

/* The provider's own service certificates (TSU, OCSP responders, audit
 * seal): the relative order of CA/B Forum BR §7.1.4.2 (C, L, O, ..., CN),
 * which binds the OCSP responders of the TLS CA (issue 13). */
static const dn_rule PROVIDER_RULES[] = {
    {NID_countryName, "country", REQ, 2},
    {NID_localityName, "locality", REQ, UB_NAME},
    {NID_organizationName, "organization", REQ, UB_NAME},
    {NID_organizationIdentifier, "@org_id", REQ, UB_NAME},
    {NID_serialNumber, "@org_nif", REQ, UB_NAME},
    {NID_commonName, "common_name", REQ, UB_NAME},
    END_RULES};

/* CABF EV Guidelines §7.1.4.2 */
static const dn_rule WEB_EV_RULES[] = {
    {NID_businessCategory, "business_category", REQ, UB_NAME},
    {NID_jurisdictionCountryName, "jurisdiction_country", REQ, 2},
    {NID_serialNumber, "registration_number", REQ, UB_NAME},
    {NID_countryName, "country", REQ, 2},
    {NID_localityName, "locality", REQ, UB_NAME},
    {NID_organizationName, "organization", REQ, UB_NAME},
    {NID_organizationIdentifier, "@org_id", REQ, UB_NAME},
    {NID_commonName, "@web_cn", REQ, UB_NAME},
    END_RULES};

/* CABF BR §7.1.4.2.2 */
static const dn_rule WEB_OV_RULES[] = {
    {NID_countryName, "country", REQ, 2},
    {NID_localityName, "locality", REQ, UB_NAME},
    {NID_organizationName, "organization", REQ, UB_NAME},
    /* no OU: CABF BR §7.1.2.7.2 forbids it since 2022 */
    {NID_commonName, "@web_cn", REQ, UB_NAME},
    END_RULES};

static const dn_rule *rules_for(lv_subject_kind kind)
{
    switch (kind) {
    case LV_SUBJ_NATURAL:
        return NATURAL_RULES;
    case LV_SUBJ_LINKED:
        return LINKED_RULES;
    case LV_SUBJ_REP_LEGAL:
    case LV_SUBJ_REP_ENTITY:
        return REPRESENTATIVE_RULES;
    case LV_SUBJ_SEAL:
        return SEAL_RULES;
    case LV_SUBJ_TSA:
        return PROVIDER_RULES;
    case LV_SUBJ_WEB_EV:
        return WEB_EV_RULES;
    case LV_SUBJ_WEB_OV:
        return WEB_OV_RULES;
    }
    return NULL;
}

static const char *derived_value(const derived *d, const char *name)
{
    if (strcmp(name, "@person_id") == 0)
        return d->person_id;
    if (strcmp(name, "@person_cn") == 0)
        return d->person_cn;
    if (strcmp(name, "@org_id") == 0)
        return d->org_id;
    if (strcmp(name, "@org_nif") == 0)
        return d->org_nif;
    if (strcmp(name, "@rep_cn") == 0)
        return d->rep_cn;
    if (strcmp(name, "@web_cn") == 0)
        return d->web_cn;
    return "";
}

static int add_rule(X509_NAME *dn, const dn_rule *r, const json_t *subj,
                    const derived *d, lv_err *err)
{
    const char *value;
    if (r->source[0] == '@') {
        value = derived_value(d, r->source);
        if (value[0] == '\0')
            return r->required ? lv_fail(err, LV_EINTERNAL,
                                         "derived value %s is empty", r->source)
                               : 0;
    } else {
        LV_TRY(
            get_field(subj, r->source, r->required, r->max_len, &value, err));
        if (value == NULL)
            return 0;
        if (r->nid == NID_countryName || r->nid == NID_jurisdictionCountryName)
            LV_TRY(check_country(value, r->source, err));
    }
    if (!X509_NAME_add_entry_by_NID(dn, r->nid, MBSTRING_UTF8,
                                    (const unsigned char *)value, -1, -1, 0))
        return lv_fail_ssl(err, LV_EINVAL, "subject field '%s' rejected",
                           r->source);
    return 0;
}

static int is_person(lv_subject_kind k)
{
    return k == LV_SUBJ_NATURAL || k == LV_SUBJ_LINKED ||
           k == LV_SUBJ_REP_LEGAL || k == LV_SUBJ_REP_ENTITY;
}

static int has_org(lv_subject_kind k)
{
    return k != LV_SUBJ_NATURAL && k != LV_SUBJ_WEB_OV;
}

static int in_list(const char *const *list, const char *key)
{
    for (; *list != NULL; list++) {
        if (strcmp(*list, key) == 0)
            return 1;
    }
    return 0;
}

/* A field the profile does not use is refused, not dropped: a misspelt or
 * misplaced attribute must not silently vanish from a certificate. */
static int field_allowed(const lv_profile *p, const char *key)
{
    static const char *const person[] = {
        "given_name", "surname",         "id_type", "id_number",
        "id_country", "document_expiry", "email",   NULL};
    static const char *const org[] = {"organization_id", "organization_country",
                                      NULL};
    if (strcmp(key, "test") == 0)
        return 1;
    for (const dn_rule *r = rules_for(p->subject); r && r->source; r++) {
        if (strcmp(r->source, key) == 0)
            return 1;
    }
    if (is_person(p->subject) && in_list(person, key))
        return 1;
    if (has_org(p->subject) && in_list(org, key))
        return 1;
    if ((p->subject == LV_SUBJ_WEB_EV || p->subject == LV_SUBJ_WEB_OV) &&
        strcmp(key, "dns_names") == 0)
        return 1;
    return p->psd2 && strcmp(key, "psd2") == 0;
}

static int check_known_fields(const lv_profile *p, const json_t *subject,
                              lv_err *err)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)subject, key, value)
    {
        if (!field_allowed(p, key))
            return lv_fail(err, LV_EINVAL,
                           "subject field '%s' is not used by profile '%s'",
                           key, p->id);
    }
    return 0;
}

/* ---- putting it together ----------------------------------------------------
 */

static int derive_all(const lv_profile *p, const json_t *subj, lv_subject *out,
                      derived *d, lv_err *err)
{
    if (is_person(p->subject)) {
        LV_TRY(derive_person_id(subj, d, err));
        LV_TRY(derive_person_cn(subj, d, err));
    }
    if (has_org(p->subject))
        LV_TRY(derive_org(subj, d, err));
    if (p->subject == LV_SUBJ_REP_LEGAL || p->subject == LV_SUBJ_REP_ENTITY)
        LV_TRY(derive_rep_cn(subj, d, err));
    if (p->psd2)
        LV_TRY(derive_psd2(subj, out, d, err));
    if (p->subject == LV_SUBJ_TSA) {
        const char *cn;
        LV_TRY(get_field(subj, "common_name", 1, UB_NAME, &cn, err));
        snprintf(d->unit_cn, sizeof d->unit_cn, "%s", cn);
    }
    if (p->subject == LV_SUBJ_WEB_EV || p->subject == LV_SUBJ_WEB_OV)
        return build_dns_san(subj, p, &out->san, d, err);
    if (is_person(p->subject))
        return build_email_san(subj, &out->san, err);
    return 0;
}

static int read_flags(const json_t *subj, lv_subject *out, lv_err *err)
{
    json_t *test = json_object_get(subj, "test");
    if (test != NULL && !json_is_boolean(test))
        return lv_fail(err, LV_EINVAL,
                       "subject field 'test' must be true or "
                       "false");
    out->test = json_is_true(test);
    const char *expiry;
    LV_TRY(get_field(subj, "document_expiry", 0, 32, &expiry, err));
    if (expiry != NULL && lv_time_parse(expiry, &out->not_after_cap) < 0)
        return lv_fail(err, LV_EINVAL,
                       "document_expiry must be a date such as 2031-05-20");
    /* R2.4: an expired document cannot back a new certificate */
    if (expiry != NULL && out->not_after_cap <= lv_now())
        return lv_fail(err, LV_EINVAL, "the identity document expired on %s",
                       expiry);
    return 0;
}

static void set_ids(const lv_profile *p, const derived *d, lv_subject *out)
{
    const char *subject = d->org_id;
    if (is_person(p->subject))
        subject = d->person_id;
    else if (p->subject == LV_SUBJ_WEB_EV || p->subject == LV_SUBJ_WEB_OV)
        subject = d->web_cn;
    else if (p->subject == LV_SUBJ_TSA)
        subject = d->unit_cn; /* each time-stamping unit is its own subject */
    /* R2.9 / CPS §3.1.5: the subscriber is the organization when there is
     * one, otherwise the person themself. */
    const char *subscriber = d->org_id[0] ? d->org_id : subject;
    snprintf(out->subject_id, sizeof out->subject_id, "%s", subject);
    snprintf(out->subscriber_id, sizeof out->subscriber_id, "%s", subscriber);
}

int profile_subject_build(const lv_profile *p, const json_t *subject,
                          lv_subject *out, lv_err *err)
{
    derived d;
    memset(out, 0, sizeof *out);
    memset(&d, 0, sizeof d);
    if (!json_is_object(subject))
        return lv_fail(err, LV_EINVAL, "the subject must be a JSON object");
    int rc;
    LV_TRY_GOTO(rc, check_known_fields(p, subject, err), fail);
    LV_TRY_GOTO(rc, read_flags(subject, out, err), fail);
    LV_TRY_GOTO(rc, derive_all(p, subject, out, &d, err), fail);
    out->dn = X509_NAME_new();
    if (out->dn == NULL) {
        rc = LV_ENOMEM;
        goto fail;
    }
    for (const dn_rule *r = rules_for(p->subject); r && r->source; r++)
        LV_TRY_GOTO(rc, add_rule(out->dn, r, subject, &d, err), fail);
    set_ids(p, &d, out);
    return 0;
fail:
    profile_subject_free(out);
    return rc;
}

void profile_subject_free(lv_subject *s)
{
    if (s == NULL)
        return;
    X509_NAME_free(s->dn);
    GENERAL_NAMES_free(s->san);
    s->dn = NULL;
    s->san = NULL;
}
