/* The registration rules that need no store: identity documents (R2.3),
 * the person identifier certificates carry (ETSI EN 319 412-1), and the
 * data captured at registration (R2.6).  Pure functions, unit-tested in
 * tests/unit/test_ra.c. */
#include "notify/notify.h"
#include "ra/ra_internal.h"

#include <ctype.h>
#include <string.h>

#define UB_NAME 64     /* RFC 5280 ub-name: givenName, CN */
#define UB_SURNAME 128 /* our column; the DN allows 32768 */
#define MAX_AGE_YEARS 130

/* ---- identity documents ----------------------------------------------- */

static int is_nie(const char *number)
{
    return strchr("XYZ", number[0]) != NULL && number[0] != '\0';
}

static int check_alnum(const char *number, lv_err *err)
{
    size_t len = strlen(number);
    if (len == 0 || len > 32)
        return lv_fail(err, LV_EINVAL,
                       "a document number has 1 to 32 "
                       "characters");
    for (const char *c = number; *c; c++) {
        if (!isupper((unsigned char)*c) && !isdigit((unsigned char)*c))
            return lv_fail(err, LV_EINVAL,
                           "document number '%s' may hold only upper-case "
                           "letters and digits",
                           number);
    }
    return 0;
}

/* R2.3: DNI for Spaniards, NIE for foreigners (on the TIE card or on an EU
 * citizen's registration certificate).  All are issued by Spain. */
static int spanish_id(const char *type, const char *number, const char *country,
                      char out[64], lv_err *err)
{
    if (country != NULL && strcmp(country, "ES") != 0)
        return lv_fail(err, LV_EINVAL, "a %s is issued by ES, not %s", type,
                       country);
    LV_TRY(profile_check_dni_nie(number, err));
    int want_nie = strcmp(type, "DNI") != 0;
    if (is_nie(number) != want_nie)
        return lv_fail(err, LV_EINVAL, "'%s' is not a %s number", number,
                       want_nie ? "NIE" : "DNI");
    snprintf(out, 64, "IDCES-%s", number);
    return 0;
}

int ra_person_id(const char *id_type, const char *number, const char *country,
                 char out[64], lv_err *err)
{
    if (id_type == NULL || number == NULL)
        return lv_fail(err, LV_EINVAL, "a document needs a type and number");
    LV_TRY(check_alnum(number, err));
    if (strcmp(id_type, "DNI") == 0 || strcmp(id_type, "NIE") == 0 ||
        strcmp(id_type, "TIE") == 0 || strcmp(id_type, "EU_REGISTRATION") == 0)
        return spanish_id(id_type, number, country, out, err);
    const char *prefix = strcmp(id_type, "PASSPORT") == 0  ? "PAS"
                         : strcmp(id_type, "ID_CARD") == 0 ? "IDC"
                                                           : NULL;
    if (prefix == NULL)
        return lv_fail(err, LV_EINVAL,
                       "document type '%s' is not DNI, NIE, TIE, "
                       "EU_REGISTRATION, PASSPORT or ID_CARD",
                       id_type);
    if (country == NULL)
        return lv_fail(err, LV_EINVAL, "a %s needs its issuing country",
                       id_type);
    LV_TRY(ra_check_country(country, "country", err));
    /* ETSI EN 319 412-1 §5.1.3: 3-letter type, country, '-', number */
    snprintf(out, 64, "%s%s-%s", prefix, country, number);
    return 0;
}

int64_t ra_document_valid_until(const lv_iddoc_rec *doc)
{
    int64_t a = doc->expiry, b = doc->companion_expiry;
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

/* Copies a document number in upper case: "12345678z" is the same DNI. */
static int read_number(const json_t *in, const char *key, char *out, size_t cap,
                       lv_err *err)
{
    const char *v;
    LV_TRY(ra_field_str(in, key, 1, cap - 1, &v, err));
    size_t i = 0;
    for (; v[i]; i++)
        out[i] = (char)toupper((unsigned char)v[i]);
    out[i] = '\0';
    return 0;
}

static int check_expiry(const char *what, int64_t expiry, int64_t now,
                        lv_err *err)
{
    char iso[32];
    lv_time_iso(expiry, iso);
    /* R2.4: an expired document cannot support a registration */
    if (expiry != 0 && expiry <= now)
        return lv_fail(err, LV_EINVAL, "the %s expired on %.10s", what, iso);
    return 0;
}

/* The passport or national identity card that must accompany an EU
 * citizen's registration certificate (R2.3, Cl@ve). */
static int parse_companion(const json_t *in, int64_t now, lv_iddoc_rec *doc,
                           lv_err *err)
{
    static const char *const keys[] = {"type", "number", "country", "expiry",
                                       NULL};
    const char *type, *country;
    char pid[64];
    LV_TRY(ra_check_keys(in, keys, "document.companion", err));
    LV_TRY(ra_field_str(in, "type", 1, 15, &type, err));
    if (strcmp(type, "PASSPORT") != 0 && strcmp(type, "ID_CARD") != 0)
        return lv_fail(err, LV_EINVAL,
                       "document.companion.type must be PASSPORT or ID_CARD");
    LV_TRY(read_number(in, "number", doc->companion_number,
                       sizeof doc->companion_number, err));
    LV_TRY(ra_field_str(in, "country", 1, 2, &country, err));
    LV_TRY(ra_person_id(type, doc->companion_number, country, pid, err));
    LV_TRY(ra_field_date(in, "expiry", 1, &doc->companion_expiry, err));
    LV_TRY(check_expiry("passport or identity card", doc->companion_expiry, now,
                        err));
    RA_COPY(doc->companion_type, type);
    RA_COPY(doc->companion_country, country);
    return 0;
}

int ra_document_parse(const json_t *in, int64_t now, lv_iddoc_rec *doc,
                      lv_err *err)
{
    static const char *const keys[] = {"type",   "number",         "country",
                                       "expiry", "support_number", "companion",
                                       NULL};
    const char *type, *country, *support;
    char pid[64];
    memset(doc, 0, sizeof *doc);
    LV_TRY(ra_check_keys(in, keys, "document", err));
    LV_TRY(ra_field_str(in, "type", 1, 15, &type, err));
    LV_TRY(read_number(in, "number", doc->number, sizeof doc->number, err));
    LV_TRY(ra_field_str(in, "country", 0, 2, &country, err));
    if (strcmp(type, "PASSPORT") == 0 || strcmp(type, "ID_CARD") == 0)
        return lv_fail(err, LV_EINVAL,
                       "a passport or foreign identity card registers only "
                       "with an EU registration certificate "
                       "(type EU_REGISTRATION, companion)");
    LV_TRY(ra_person_id(type, doc->number, country, pid, err));
    int eu = strcmp(type, "EU_REGISTRATION") == 0;
    /* the registration certificate itself may carry no expiry: then the
     * companion's is the limit (ra_document_valid_until) */
    LV_TRY(ra_field_date(in, "expiry", !eu, &doc->expiry, err));
    LV_TRY(check_expiry("identity document", doc->expiry, now, err));
    LV_TRY(ra_field_str(in, "support_number", 0, 32, &support, err));
    json_t *companion = json_object_get(in, "companion");
    if (eu != (companion != NULL))
        return lv_fail(err, LV_EINVAL,
                       eu ? "an EU registration certificate needs its "
                            "companion passport or identity card (R2.3)"
                          : "only an EU registration certificate has a "
                            "companion document");
    if (eu)
        LV_TRY(parse_companion(companion, now, doc, err));
    RA_COPY(doc->doc_type, type);
    RA_COPY(doc->country, "ES");
    RA_COPY(doc->support_number, support ? support : "");
    RA_COPY(doc->status, "current");
    return 0;
}

/* ---- the citizen --------------------------------------------------------- */

static int parse_birth_date(const json_t *in, int64_t now, int required,
                            lv_citizen_rec *c, lv_err *err)
{
    int64_t t;
    const char *s;
    LV_TRY(ra_field_str(in, "birth_date", required, 10, &s, err));
    if (s == NULL)
        return 0;
    if (strlen(s) != 10 || lv_time_parse(s, &t) < 0)
        return lv_fail(err, LV_EINVAL,
                       "field 'birth_date' must be a date such as "
                       "1980-02-29");
    if (t >= now || t < now - (int64_t)MAX_AGE_YEARS * 31556952)
        return lv_fail(err, LV_EINVAL, "birth date %s is not plausible", s);
    RA_COPY(c->birth_date, s);
    return 0;
}

/* The country (C) of a natural person's certificates: given, or that of
 * the document when it says (a DNI is Spanish, an EU registration names
 * the citizen's own country on the companion document). */
static int parse_country(const json_t *in, const lv_iddoc_rec *doc,
                         lv_citizen_rec *c, lv_err *err)
{
    const char *country;
    LV_TRY(ra_field_str(in, "country", 0, 2, &country, err));
    if (country == NULL && strcmp(doc->doc_type, "DNI") == 0)
        country = "ES";
    if (country == NULL && doc->companion_country[0])
        country = doc->companion_country;
    if (country == NULL)
        return lv_fail(err, LV_EINVAL,
                       "field 'country' (nationality) is required with a %s",
                       doc->doc_type);
    LV_TRY(ra_check_country(country, "country", err));
    RA_COPY(c->country, country);
    return 0;
}

static int parse_contact(const json_t *in, lv_citizen_rec *c, lv_err *err)
{
    const char *mobile, *email;
    LV_TRY(ra_field_str(in, "mobile", 1, sizeof c->mobile - 1, &mobile, err));
    LV_TRY(notify_check_mobile(mobile, err));
    LV_TRY(ra_field_str(in, "email", 1, sizeof c->email - 1, &email, err));
    LV_TRY(notify_check_email(email, err));
    RA_COPY(c->mobile, mobile);
    RA_COPY(c->email, email);
    return 0;
}

int ra_citizen_parse(const json_t *in, int64_t now, lv_citizen_rec *c,
                     lv_iddoc_rec *doc, lv_err *err)
{
    return ra_citizen_parse_opt(in, now, 1, c, doc, err);
}

int ra_citizen_parse_opt(const json_t *in, int64_t now, int birth_required,
                         lv_citizen_rec *c, lv_iddoc_rec *doc, lv_err *err)
{
    static const char *const keys[] = {
        "level",  "given_name", "surname",  "country",      "birth_date",
        "mobile", "email",      "document", "evidence_ref", NULL};
    const char *given, *surname;
    memset(c, 0, sizeof *c);
    LV_TRY(ra_check_keys(in, keys, "the registration", err));
    LV_TRY(ra_field_either(in, "level", "advanced", "basic", "", c->level,
                           sizeof c->level, err));
    LV_TRY(ra_field_str(in, "given_name", 1, UB_NAME, &given, err));
    LV_TRY(ra_field_str(in, "surname", 1, UB_SURNAME, &surname, err));
    LV_TRY(parse_birth_date(in, now, birth_required, c, err));
    LV_TRY(parse_contact(in, c, err));
    json_t *d = json_object_get(in, "document");
    if (d == NULL)
        return lv_fail(err, LV_EINVAL, "field 'document' is required");
    LV_TRY(ra_document_parse(d, now, doc, err));
    LV_TRY(parse_country(in, doc, c, err));
    LV_TRY(ra_person_id(doc->doc_type, doc->number, doc->country, c->person_id,
                        err));
    RA_COPY(c->given_name, given);
    RA_COPY(c->surname, surname);
    return 0;
}
