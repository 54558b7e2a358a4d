/* The CA/Browser Forum's own extension: cabfOrganizationIdentifier (EV
 * Guidelines §9.8.2), which an EV certificate whose subject carries an
 * organizationIdentifier (EVG §9.2.8) must carry as well, with the same
 * registration scheme, country and reference in machine-readable form.
 * OpenSSL has no type for it; the template below is the EVG's ASN.1 and the
 * library writes every byte of DER. */
#include "profile/profile.h"

#include <openssl/asn1t.h>
#include <string.h>

#define OID_CABF_ORG_ID "2.23.140.3.1"

/* CABFOrganizationIdentifier ::= SEQUENCE {
 *   registrationSchemeIdentifier PrintableString (SIZE(3)),
 *   registrationCountry          PrintableString (SIZE(2)),
 *   registrationStateOrProvince  [0] IMPLICIT PrintableString
 *                                (SIZE(0..128)) OPTIONAL,
 *   registrationReference        UTF8String } */
typedef struct {
    ASN1_PRINTABLESTRING *scheme;
    ASN1_PRINTABLESTRING *country;
    ASN1_PRINTABLESTRING *state;
    ASN1_UTF8STRING *reference;
} LV_CABF_ORG_ID;

LV_ASN1_TYPE(LV_CABF_ORG_ID,
             ASN1_SIMPLE(LV_CABF_ORG_ID, scheme, ASN1_PRINTABLESTRING),
             ASN1_SIMPLE(LV_CABF_ORG_ID, country, ASN1_PRINTABLESTRING),
             ASN1_IMP_OPT(LV_CABF_ORG_ID, state, ASN1_PRINTABLESTRING, 0),
             ASN1_SIMPLE(LV_CABF_ORG_ID, reference, ASN1_UTF8STRING))

/* EVG §9.2.8: 3 letters of scheme, 2 of country, optionally '+' and a
 * state code, '-', then the reference. */
typedef struct {
    char scheme[4], country[3], state[8];
    const char *reference;
} org_id_parts;

static int split_org_id(const char *id, org_id_parts *out)
{
    memset(out, 0, sizeof *out);
    if (strlen(id) < 7 || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") < 5)
        return 0;
    memcpy(out->scheme, id, 3);
    memcpy(out->country, id + 3, 2);
    const char *p = id + 5;
    if (*p == '+') {
        size_t n = strcspn(p + 1, "-");
        if (n < 1 || n >= sizeof out->state)
            return 0;
        memcpy(out->state, p + 1, n);
        p += 1 + n;
    }
    if (*p != '-' || p[1] == '\0')
        return 0;
    out->reference = p + 1;
    return 1;
}

static int set_string(ASN1_STRING **dst, int type, const char *value)
{
    *dst = ASN1_STRING_type_new(type);
    return *dst != NULL && ASN1_STRING_set(*dst, value, -1);
}

static int encode(const org_id_parts *parts, unsigned char **der, int *len)
{
    LV_CABF_ORG_ID *v = LV_CABF_ORG_ID_new();
    int ok = v != NULL;
    if (ok) {
        ASN1_PRINTABLESTRING_free(v->scheme);
        ASN1_PRINTABLESTRING_free(v->country);
        ASN1_UTF8STRING_free(v->reference);
        v->scheme = v->country = v->reference = NULL;
    }
    ok = ok && set_string(&v->scheme, V_ASN1_PRINTABLESTRING, parts->scheme) &&
         set_string(&v->country, V_ASN1_PRINTABLESTRING, parts->country) &&
         (parts->state[0] == '\0' ||
          set_string(&v->state, V_ASN1_PRINTABLESTRING, parts->state)) &&
         set_string(&v->reference, V_ASN1_UTF8STRING, parts->reference);
    *der = NULL;
    *len = ok ? ASN1_item_i2d((const ASN1_VALUE *)v, der,
                              ASN1_ITEM_rptr(LV_CABF_ORG_ID))
              : -1;
    LV_CABF_ORG_ID_free(v);
    return *len > 0;
}

int profile_add_cabf_org_id(X509 *cert, const lv_subject *s, lv_err *err)
{
    char id[128];
    org_id_parts parts;
    unsigned char *der = NULL;
    int len = 0;
    if (X509_NAME_get_text_by_NID(s->dn, NID_organizationIdentifier, id,
                                  sizeof id) <= 0 ||
        !split_org_id(id, &parts))
        return lv_fail(err, LV_EINVAL,
                       "an EV subject needs an organizationIdentifier of the "
                       "form VATES-B00000000 (EV Guidelines §9.2.8)");
    if (!encode(&parts, &der, &len)) {
        OPENSSL_free(der);
        return lv_fail_ssl(err, LV_ECRYPTO,
                           "cannot encode cabfOrganizationIdentifier");
    }
    int rc =
        profile_add_raw_ext(cert, OID_CABF_ORG_ID, 0, der, (size_t)len, err);
    OPENSSL_free(der);
    return rc;
}
