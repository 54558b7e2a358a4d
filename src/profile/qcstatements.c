/* QCStatements extension (RFC 3739 §3.2.6, ETSI EN 319 412-5, ETSI TS
 * 119 495 for PSD2), built with OpenSSL's ASN.1 templates: OpenSSL has no
 * type for these structures, so we declare them here as the standards write
 * them, and the library does every byte of DER. */
#include "profile/profile.h"

#include <openssl/asn1t.h>
#include <openssl/x509v3.h>
#include <string.h>

/* QCStatement ::= SEQUENCE { statementId OID, statementInfo ANY OPTIONAL } */
typedef struct {
    ASN1_OBJECT *id;
    ASN1_TYPE *info;
} LV_QC_STATEMENT;
LV_ASN1_TYPE(LV_QC_STATEMENT, ASN1_SIMPLE(LV_QC_STATEMENT, id, ASN1_OBJECT),
             ASN1_OPT(LV_QC_STATEMENT, info, ASN1_ANY))
DEFINE_STACK_OF(LV_QC_STATEMENT)
typedef STACK_OF(LV_QC_STATEMENT) LV_QC_STATEMENTS;
LV_ASN1_SEQUENCE_OF(LV_QC_STATEMENTS, LV_QC_STATEMENT)

/* QcType ::= SEQUENCE OF OBJECT IDENTIFIER (EN 319 412-5 §4.2.3) */
typedef STACK_OF(ASN1_OBJECT) LV_OID_SEQ;
LV_ASN1_SEQUENCE_OF(LV_OID_SEQ, ASN1_OBJECT)

/* PdsLocation ::= SEQUENCE { url IA5String, language PrintableString } */
typedef struct {
    ASN1_IA5STRING *url;
    ASN1_PRINTABLESTRING *language;
} LV_PDS_LOCATION;
LV_ASN1_TYPE(LV_PDS_LOCATION, ASN1_SIMPLE(LV_PDS_LOCATION, url, ASN1_IA5STRING),
             ASN1_SIMPLE(LV_PDS_LOCATION, language, ASN1_PRINTABLESTRING))
DEFINE_STACK_OF(LV_PDS_LOCATION)
typedef STACK_OF(LV_PDS_LOCATION) LV_PDS_LOCATIONS;
LV_ASN1_SEQUENCE_OF(LV_PDS_LOCATIONS, LV_PDS_LOCATION)

/* TS 119 495 §5.1: PSD2QcType ::= SEQUENCE { rolesOfPSP RolesOfPSP,
 * nCAName NCAName, nCAId NCAId }; RoleOfPSP ::= SEQUENCE { roleOfPspOid,
 * roleOfPspName UTF8String } */
typedef struct {
    ASN1_OBJECT *oid;
    ASN1_UTF8STRING *name;
} LV_PSD2_ROLE;
LV_ASN1_TYPE(LV_PSD2_ROLE, ASN1_SIMPLE(LV_PSD2_ROLE, oid, ASN1_OBJECT),
             ASN1_SIMPLE(LV_PSD2_ROLE, name, ASN1_UTF8STRING))
DEFINE_STACK_OF(LV_PSD2_ROLE)

typedef struct {
    STACK_OF(LV_PSD2_ROLE) *roles;
    ASN1_UTF8STRING *nca_name;
    ASN1_UTF8STRING *nca_id;
} LV_PSD2_QCTYPE;
LV_ASN1_TYPE(LV_PSD2_QCTYPE,
             ASN1_SEQUENCE_OF(LV_PSD2_QCTYPE, roles, LV_PSD2_ROLE),
             ASN1_SIMPLE(LV_PSD2_QCTYPE, nca_name, ASN1_UTF8STRING),
             ASN1_SIMPLE(LV_PSD2_QCTYPE, nca_id, ASN1_UTF8STRING))

/* RFC 3739 §3.2.6.1: SemanticsInformation ::= SEQUENCE {
 * semanticsIdentifier OID OPTIONAL, nameRegistrationAuthorities OPTIONAL } */
typedef struct {
    ASN1_OBJECT *semantics_id;
} LV_SEMANTICS_INFO;
LV_ASN1_TYPE(LV_SEMANTICS_INFO,
             ASN1_OPT(LV_SEMANTICS_INFO, semantics_id, ASN1_OBJECT))

#define OID_QC_COMPLIANCE "0.4.0.1862.1.1"
#define OID_QC_SSCD "0.4.0.1862.1.4"
#define OID_QC_PDS "0.4.0.1862.1.5"
#define OID_QC_TYPE "0.4.0.1862.1.6"
#define OID_QC_PSD2 "0.4.0.19495.2"
#define OID_PKIX_QCSYNTAX_V2 "1.3.6.1.5.5.7.11.2"
#define OID_SEMANTICS_NATURAL "0.4.0.194121.1.1"
#define OID_SEMANTICS_LEGAL "0.4.0.194121.1.2"
#define OID_QCS_QCSTATEMENTS "1.3.6.1.5.5.7.1.3"

static ASN1_OBJECT *oid(const char *text)
{
    return OBJ_txt2obj(text, 1);
}

/* Wraps the DER of an already encoded SEQUENCE as an ASN1_TYPE. */
static ASN1_TYPE *sequence_type(const ASN1_ITEM *it, const void *value)
{
    unsigned char *der = NULL;
    int len = ASN1_item_i2d((const ASN1_VALUE *)value, &der, it);
    ASN1_STRING *seq = ASN1_STRING_new();
    ASN1_TYPE *type = ASN1_TYPE_new();
    if (len <= 0 || seq == NULL || type == NULL) {
        OPENSSL_free(der);
        ASN1_STRING_free(seq);
        ASN1_TYPE_free(type);
        return NULL;
    }
    ASN1_STRING_set0(seq, der, len);
    ASN1_TYPE_set(type, V_ASN1_SEQUENCE, seq);
    return type;
}

static int push_statement(LV_QC_STATEMENTS *sts, const char *id,
                          ASN1_TYPE *info)
{
    LV_QC_STATEMENT *st = LV_QC_STATEMENT_new();
    if (st == NULL) {
        ASN1_TYPE_free(info);
        return LV_ENOMEM;
    }
    ASN1_OBJECT_free(st->id);
    st->id = oid(id);
    st->info = info;
    if (st->id == NULL || !sk_LV_QC_STATEMENT_push(sts, st)) {
        LV_QC_STATEMENT_free(st);
        return LV_ENOMEM;
    }
    return 0;
}

static int add_qctype(LV_QC_STATEMENTS *sts, lv_qctype type)
{
    static const char *const type_oids[] = {
        [LV_QCTYPE_ESIGN] = "0.4.0.1862.1.6.1",
        [LV_QCTYPE_ESEAL] = "0.4.0.1862.1.6.2",
        [LV_QCTYPE_WEB] = "0.4.0.1862.1.6.3",
    };
    LV_OID_SEQ *seq = sk_ASN1_OBJECT_new_null();
    ASN1_OBJECT *o = oid(type_oids[type]);
    if (seq == NULL || o == NULL || !sk_ASN1_OBJECT_push(seq, o)) {
        ASN1_OBJECT_free(o);
        sk_ASN1_OBJECT_free(seq);
        return LV_ENOMEM;
    }
    ASN1_TYPE *info = sequence_type(ASN1_ITEM_rptr(LV_OID_SEQ), seq);
    sk_ASN1_OBJECT_pop_free(seq, ASN1_OBJECT_free);
    return info ? push_statement(sts, OID_QC_TYPE, info) : LV_ENOMEM;
}

static LV_PDS_LOCATION *pds_location(const char *base, const char *lang)
{
    char url[320];
    LV_PDS_LOCATION *loc = LV_PDS_LOCATION_new();
    snprintf(url, sizeof url, "%s/repository/pds-%s.pdf", base, lang);
    if (loc == NULL || !ASN1_STRING_set(loc->url, url, -1) ||
        !ASN1_STRING_set(loc->language, lang, -1)) {
        LV_PDS_LOCATION_free(loc);
        return NULL;
    }
    return loc;
}

/* EN 319 412-5 §4.3.4: the PKI Disclosure Statement, in English and in the
 * CPS's own language. */
static int add_pds(LV_QC_STATEMENTS *sts, const char *documents_url)
{
    LV_PDS_LOCATIONS *locs = sk_LV_PDS_LOCATION_new_null();
    int rc = locs ? 0 : LV_ENOMEM;
    const char *langs[] = {"en", "es"};
    for (int i = 0; rc == 0 && i < 2; i++) {
        LV_PDS_LOCATION *loc = pds_location(documents_url, langs[i]);
        if (loc == NULL || !sk_LV_PDS_LOCATION_push(locs, loc)) {
            LV_PDS_LOCATION_free(loc);
            rc = LV_ENOMEM;
        }
    }
    ASN1_TYPE *info =
        rc == 0 ? sequence_type(ASN1_ITEM_rptr(LV_PDS_LOCATIONS), locs) : NULL;
    sk_LV_PDS_LOCATION_pop_free(locs, LV_PDS_LOCATION_free);
    return info ? push_statement(sts, OID_QC_PDS, info) : LV_ENOMEM;
}

static int push_role(LV_PSD2_QCTYPE *psd2, const char *role_oid,
                     const char *name)
{
    LV_PSD2_ROLE *role = LV_PSD2_ROLE_new();
    if (role == NULL)
        return LV_ENOMEM;
    ASN1_OBJECT_free(role->oid);
    role->oid = oid(role_oid);
    if (role->oid == NULL || !ASN1_STRING_set(role->name, name, -1) ||
        !sk_LV_PSD2_ROLE_push(psd2->roles, role)) {
        LV_PSD2_ROLE_free(role);
        return LV_ENOMEM;
    }
    return 0;
}

static int add_psd2(LV_QC_STATEMENTS *sts, const lv_subject *s)
{
    static const struct {
        int bit;
        const char *oid;
        const char *name;
    } roles[] = {{LV_PSD2_AS, "0.4.0.19495.1.1", "PSP_AS"},
                 {LV_PSD2_PI, "0.4.0.19495.1.2", "PSP_PI"},
                 {LV_PSD2_AI, "0.4.0.19495.1.3", "PSP_AI"},
                 {LV_PSD2_IC, "0.4.0.19495.1.4", "PSP_IC"}};
    LV_PSD2_QCTYPE *psd2 = LV_PSD2_QCTYPE_new();
    int rc = psd2 ? 0 : LV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < 4; i++) {
        if (s->psd2_roles & roles[i].bit)
            rc = push_role(psd2, roles[i].oid, roles[i].name);
    }
    if (rc == 0 && (!ASN1_STRING_set(psd2->nca_name, s->psd2_nca_name, -1) ||
                    !ASN1_STRING_set(psd2->nca_id, s->psd2_nca_id, -1)))
        rc = LV_ENOMEM;
    ASN1_TYPE *info =
        rc == 0 ? sequence_type(ASN1_ITEM_rptr(LV_PSD2_QCTYPE), psd2) : NULL;
    LV_PSD2_QCTYPE_free(psd2);
    return info ? push_statement(sts, OID_QC_PSD2, info) : LV_ENOMEM;
}

/* EN 319 412-1 §5.1.3/§5.1.4: the semantics of serialNumber (natural) or
 * organizationIdentifier (legal) are declared in a pkixQCSyntax-v2 statement.
 */
static int add_semantics(LV_QC_STATEMENTS *sts, int natural)
{
    LV_SEMANTICS_INFO *si = LV_SEMANTICS_INFO_new();
    if (si == NULL)
        return LV_ENOMEM;
    si->semantics_id =
        oid(natural ? OID_SEMANTICS_NATURAL : OID_SEMANTICS_LEGAL);
    ASN1_TYPE *info = si->semantics_id
                          ? sequence_type(ASN1_ITEM_rptr(LV_SEMANTICS_INFO), si)
                          : NULL;
    LV_SEMANTICS_INFO_free(si);
    return info ? push_statement(sts, OID_PKIX_QCSYNTAX_V2, info) : LV_ENOMEM;
}

static int semantics_kind(const lv_profile *p)
{
    switch (p->subject) {
    case LV_SUBJ_NATURAL:
    case LV_SUBJ_LINKED:
    case LV_SUBJ_REP_LEGAL:
    case LV_SUBJ_REP_ENTITY:
        return 1;
    case LV_SUBJ_SEAL:
    case LV_SUBJ_TSA:
        return 0;
    default:
        return -1; /* web: no semantics identifier required */
    }
}

static int fill_statements(LV_QC_STATEMENTS *sts, const lv_profile *p,
                           const lv_subject *s, const lv_config *cfg)
{
    int kind = semantics_kind(p);
    if (kind >= 0)
        LV_TRY(add_semantics(sts, kind));
    LV_TRY(push_statement(sts, OID_QC_COMPLIANCE, NULL));
    /* R4.3: QcSSCD only where the key is in a QSCD (Cloud HSM types) */
    if (p->qscd)
        LV_TRY(push_statement(sts, OID_QC_SSCD, NULL));
    LV_TRY(add_pds(sts, lv_documents_url(cfg)));
    if (p->qctype != LV_QCTYPE_NONE)
        LV_TRY(add_qctype(sts, p->qctype));
    if (p->psd2)
        LV_TRY(add_psd2(sts, s));
    return 0;
}

int profile_add_qcstatements(X509 *cert, const lv_profile *p,
                             const lv_subject *s, const lv_config *cfg,
                             lv_err *err)
{
    if (!p->qualified)
        return 0;
    LV_QC_STATEMENTS *sts = sk_LV_QC_STATEMENT_new_null();
    if (sts == NULL)
        return LV_ENOMEM;
    int rc = fill_statements(sts, p, s, cfg);
    unsigned char *der = NULL;
    int len = rc == 0 ? ASN1_item_i2d((const ASN1_VALUE *)sts, &der,
                                      ASN1_ITEM_rptr(LV_QC_STATEMENTS))
                      : 0;
    sk_LV_QC_STATEMENT_pop_free(sts, LV_QC_STATEMENT_free);
    if (rc < 0 || len <= 0)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot encode QCStatements");
    rc = profile_add_raw_ext(cert, OID_QCS_QCSTATEMENTS, 0, der, (size_t)len,
                             err);
    OPENSSL_free(der);
    return rc;
}

/* ---- QCStatements outside certificates (the TSA's tokens) --------------- */

static int statements_have(const LV_QC_STATEMENTS *sts, const char *id)
{
    ASN1_OBJECT *want = oid(id);
    int found = 0;
    for (int i = 0; want && !found && i < sk_LV_QC_STATEMENT_num(sts); i++)
        found = OBJ_cmp(sk_LV_QC_STATEMENT_value(sts, i)->id, want) == 0;
    ASN1_OBJECT_free(want);
    return found;
}

int profile_qc_has_statement(const X509 *cert, const char *statement_oid)
{
    int at = X509_get_ext_by_NID(cert, NID_qcStatements, -1);
    if (at < 0)
        return 0;
    ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(cert, at));
    const unsigned char *p = ASN1_STRING_get0_data(data);
    LV_QC_STATEMENTS *sts = (LV_QC_STATEMENTS *)ASN1_item_d2i(
        NULL, &p, ASN1_STRING_length(data), ASN1_ITEM_rptr(LV_QC_STATEMENTS));
    if (sts == NULL)
        return LV_ECRYPTO;
    int found = statements_have(sts, statement_oid);
    sk_LV_QC_STATEMENT_pop_free(sts, LV_QC_STATEMENT_free);
    return found;
}

int profile_qc_statements_der(const char *const *ids, size_t n,
                              unsigned char **der)
{
    LV_QC_STATEMENTS *sts = sk_LV_QC_STATEMENT_new_null();
    int rc = sts ? 0 : LV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = push_statement(sts, ids[i], NULL);
    int len = rc == 0 ? ASN1_item_i2d((const ASN1_VALUE *)sts, der,
                                      ASN1_ITEM_rptr(LV_QC_STATEMENTS))
                      : -1;
    sk_LV_QC_STATEMENT_pop_free(sts, LV_QC_STATEMENT_free);
    return len;
}
