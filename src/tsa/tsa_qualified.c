/* Qualified electronic time-stamps (ETSI EN 319 422 §9.1, Annex B).
 *
 * A unit is qualified when its certificate says so: the "tsa" profile
 * issues it with the QcCompliance statement (EN 319 412-5 §4.2.1), so the
 * certificate, not a setting, decides, and a unit from a non-qualified
 * profile can never claim qualification.  EN 319 421 §8.2 forbids a
 * qualified unit to issue non-qualified time-stamps, hence every token of
 * such a unit carries the statement.
 *
 * EN 319 422 §9.1: a token claimed to be a qualified electronic time-stamp
 * (Regulation (EU) No 910/2014) should carry one qcStatements extension in
 * TSTInfo.extensions, with the syntax of RFC 3739 §3.2.6; when present it
 * shall contain one esi4-qtstStatement-1, and it shall not be critical.
 * Annex B:
 *
 *   id-etsi-tsts OBJECT IDENTIFIER ::= { itu-t(0) identified-organization(4)
 *      etsi(0) id-tst-profile(19422) 1 }
 *   id-etsi-tsts-EuQCompliance OBJECT IDENTIFIER ::= { id-etsi-tsts 1 }
 *   esi4-qtstStatement-1 QC-STATEMENT ::=
 *      { IDENTIFIED BY id-etsi-tsts-EuQCompliance }      -- no statementInfo
 *
 * The structures are declared as OpenSSL ASN.1 templates (OpenSSL has no
 * type for them); the library writes and reads every byte of DER. */
#include "tsa/tsa_internal.h"

#include <openssl/asn1t.h>
#include <openssl/x509v3.h>

#define OID_QC_COMPLIANCE "0.4.0.1862.1.1"   /* EN 319 412-5 §4.2.1 */
#define OID_QTST_STATEMENT "0.4.0.19422.1.1" /* EN 319 422 Annex B */

/* RFC 3739 §3.2.6: QCStatement ::= SEQUENCE { statementId OBJECT
 * IDENTIFIER, statementInfo ANY DEFINED BY statementId OPTIONAL } */
typedef struct {
    ASN1_OBJECT *id;
    ASN1_TYPE *info;
} TSA_QC_STATEMENT;

ASN1_SEQUENCE(TSA_QC_STATEMENT) = {
    ASN1_SIMPLE(TSA_QC_STATEMENT, id, ASN1_OBJECT),
    ASN1_OPT(TSA_QC_STATEMENT, info, ASN1_ANY),
} ASN1_SEQUENCE_END(TSA_QC_STATEMENT)
DECLARE_ASN1_FUNCTIONS(TSA_QC_STATEMENT)
IMPLEMENT_ASN1_FUNCTIONS(TSA_QC_STATEMENT)
DEFINE_STACK_OF(TSA_QC_STATEMENT)

/* QCStatements ::= SEQUENCE OF QCStatement */
typedef STACK_OF(TSA_QC_STATEMENT) TSA_QC_STATEMENTS;
ASN1_ITEM_TEMPLATE(TSA_QC_STATEMENTS) = ASN1_EX_TEMPLATE_TYPE(
    ASN1_TFLG_SEQUENCE_OF, 0, QCStatements, TSA_QC_STATEMENT)
    ASN1_ITEM_TEMPLATE_END(TSA_QC_STATEMENTS)

static int has_statement(const TSA_QC_STATEMENTS *sts, const char *id)
{
    ASN1_OBJECT *want = OBJ_txt2obj(id, 1);
    int found = 0;
    for (int i = 0; want && !found && i < sk_TSA_QC_STATEMENT_num(sts); i++)
        found = OBJ_cmp(sk_TSA_QC_STATEMENT_value(sts, i)->id, want) == 0;
    ASN1_OBJECT_free(want);
    return found;
}

int tsa_cert_qualified(const X509 *cert)
{
    int at = X509_get_ext_by_NID(cert, NID_qcStatements, -1);
    if (at < 0)
        return 0;
    ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(cert, at));
    const unsigned char *p = ASN1_STRING_get0_data(data);
    TSA_QC_STATEMENTS *sts = (TSA_QC_STATEMENTS *)ASN1_item_d2i(
        NULL, &p, ASN1_STRING_length(data), ASN1_ITEM_rptr(TSA_QC_STATEMENTS));
    if (sts == NULL)
        return LV_ECRYPTO;
    int qualified = has_statement(sts, OID_QC_COMPLIANCE);
    sk_TSA_QC_STATEMENT_pop_free(sts, TSA_QC_STATEMENT_free);
    return qualified;
}

/* QCStatements holding the one esi4-qtstStatement-1, as DER. */
static int qtst_statements(unsigned char **der)
{
    TSA_QC_STATEMENTS *sts = sk_TSA_QC_STATEMENT_new_null();
    TSA_QC_STATEMENT *st = TSA_QC_STATEMENT_new();
    int len = -1;
    if (sts && st) {
        ASN1_OBJECT_free(st->id);
        st->id = OBJ_txt2obj(OID_QTST_STATEMENT, 1);
        if (st->id && sk_TSA_QC_STATEMENT_push(sts, st)) {
            st = NULL;
            len = ASN1_item_i2d((const ASN1_VALUE *)sts, der,
                                ASN1_ITEM_rptr(TSA_QC_STATEMENTS));
        }
    }
    TSA_QC_STATEMENT_free(st);
    sk_TSA_QC_STATEMENT_pop_free(sts, TSA_QC_STATEMENT_free);
    return len;
}

X509_EXTENSION *tsa_qtst_extension(void)
{
    unsigned char *der = NULL;
    int len = qtst_statements(&der);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    /* §9.1: "shall not be marked as critical" */
    if (len > 0 && value && ASN1_OCTET_STRING_set(value, der, len))
        ext = X509_EXTENSION_create_by_NID(NULL, NID_qcStatements, 0, value);
    ASN1_OCTET_STRING_free(value);
    OPENSSL_free(der);
    return ext;
}
