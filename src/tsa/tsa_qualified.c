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
 * profile/ holds the QCStatements template (the certificates' statements
 * share it); the library writes and reads every byte of DER. */
#include "profile/profile.h"
#include "tsa/tsa_internal.h"

#include <openssl/x509v3.h>

#define OID_QC_COMPLIANCE "0.4.0.1862.1.1"   /* EN 319 412-5 §4.2.1 */
#define OID_QTST_STATEMENT "0.4.0.19422.1.1" /* EN 319 422 Annex B */

int tsa_cert_qualified(const X509 *cert)
{
    return profile_qc_has_statement(cert, OID_QC_COMPLIANCE);
}

/* QCStatements holding the one esi4-qtstStatement-1, as DER. */
static int qtst_statements(unsigned char **der)
{
    static const char *const ids[] = {OID_QTST_STATEMENT};
    return profile_qc_statements_der(ids, 1, der);
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
