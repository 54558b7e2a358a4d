/* The X.509 v3 extensions of a certificate: the ones every profile shares
 * and the profile-specific ones read from the profile table (RFC 5280 §4.2,
 * ETSI EN 319 412-2/-3/-4).  ca/cert.c makes and signs the certificate. */
#include "profile/profile.h"

#include <stdio.h>
#include <string.h>

int profile_add_ext(X509 *cert, X509 *issuer, int nid, const char *value,
                    lv_err *err)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext != NULL && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0
              : lv_fail_ssl(err, LV_ECRYPTO, "cannot add extension %s = %s",
                            OBJ_nid2sn(nid), value);
}

int profile_add_raw_ext(X509 *cert, const char *oid, int critical,
                        const unsigned char *der, size_t len, lv_err *err)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    if (obj && value && ASN1_OCTET_STRING_set(value, der, (int)len))
        ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, value);
    int ok = ext != NULL && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OBJECT_free(obj);
    ASN1_OCTET_STRING_free(value);
    return ok ? 0
              : lv_fail_ssl(err, LV_ECRYPTO, "cannot add extension %s", oid);
}

/* ---- certificate policies (RFC 5280 §4.2.1.4) -------------------------- */

/* A qualifier of type nid, its body still to be set; NULL when out of
 * memory. */
static POLICYQUALINFO *qualifier_new(int nid)
{
    POLICYQUALINFO *q = POLICYQUALINFO_new();
    if (q != NULL)
        q->pqualid = OBJ_nid2obj(nid);
    return q;
}

/* *dst becomes a new string of ASN.1 type `type` holding text. */
static int text_set(ASN1_STRING **dst, int type, const char *text)
{
    *dst = ASN1_STRING_type_new(type);
    return *dst != NULL && ASN1_STRING_set(*dst, text, -1);
}

static POLICYQUALINFO *cps_qualifier(const char *url)
{
    POLICYQUALINFO *q = qualifier_new(NID_id_qt_cps);
    if (q != NULL && text_set(&q->d.cpsuri, V_ASN1_IA5STRING, url))
        return q;
    POLICYQUALINFO_free(q);
    return NULL;
}

/* RFC 5280 §4.2.1.4: explicitText SHOULD be a UTF8String of <= 200 chars. */
static POLICYQUALINFO *notice_qualifier(const char *text)
{
    POLICYQUALINFO *q = qualifier_new(NID_id_qt_unotice);
    if (q != NULL && (q->d.usernotice = USERNOTICE_new()) != NULL &&
        text_set(&q->d.usernotice->exptext, V_ASN1_UTF8STRING, text))
        return q;
    POLICYQUALINFO_free(q);
    return NULL;
}

static int push_policy(CERTIFICATEPOLICIES *pols, const char *oid,
                       POLICYQUALINFO *q1, POLICYQUALINFO *q2)
{
    POLICYINFO *pi = POLICYINFO_new();
    if (pi == NULL)
        goto fail;
    pi->policyid = OBJ_txt2obj(oid, 1);
    if (pi->policyid == NULL)
        goto fail;
    if (q1 != NULL) {
        pi->qualifiers = sk_POLICYQUALINFO_new_null();
        if (pi->qualifiers == NULL ||
            !sk_POLICYQUALINFO_push(pi->qualifiers, q1))
            goto fail;
        q1 = NULL;
        if (q2 != NULL && !sk_POLICYQUALINFO_push(pi->qualifiers, q2))
            goto fail;
        q2 = NULL;
    }
    if (!sk_POLICYINFO_push(pols, pi))
        goto fail;
    return 0;
fail:
    POLICYQUALINFO_free(q1);
    POLICYQUALINFO_free(q2);
    POLICYINFO_free(pi);
    return LV_ENOMEM;
}

/* R4.7: test certificates say so where every relying party reads. */
#define TEST_NOTICE                                                            \
    "CERTIFICADO DE PRUEBAS con datos ficticios (DPC 1.4.3), sin validez "     \
    "legal / TEST certificate with fictitious data, no legal value"

/* R4.7 on a website certificate, which may carry no notice: a policy of
 * our own arc marks it as a test certificate (CPS §1.4.3). */
#define TEST_POLICY_SUFFIX "9.3"

static int push_test_policy(CERTIFICATEPOLICIES *pols, const lv_config *cfg)
{
    char oid[192];
    int n =
        snprintf(oid, sizeof oid, "%s.%s", cfg->oid_arc, TEST_POLICY_SUFFIX);
    if (n < 0 || (size_t)n >= sizeof oid)
        return LV_EINVAL;
    return push_policy(pols, oid, NULL, NULL);
}

/* The CA/B Forum's reserved policy identifiers (BR §7.1.6.1). */
static int is_cabf_policy(const char *oid)
{
    return strncmp(oid, "2.23.140.1.", 11) == 0;
}

/* A website certificate lists the reserved CA/B identifier first and
 * carries no userNotice qualifier (BR §7.1.2.7.9 allows only id-qt-cps);
 * the others carry the notice of CPS §7.1.6 (R4.7 for test certificates). */
static int fill_policies(CERTIFICATEPOLICIES *pols, const lv_profile *p,
                         const lv_subject *s, const lv_config *cfg)
{
    char own_oid[192], cps_url[320];
    LV_TRY(profile_oid(cfg, p, own_oid, sizeof own_oid));
    snprintf(cps_url, sizeof cps_url, "%s/repository/", lv_documents_url(cfg));
    for (int i = 0; p->tls && i < 2 && p->extra_policies[i] != NULL; i++)
        if (is_cabf_policy(p->extra_policies[i]))
            LV_TRY(push_policy(pols, p->extra_policies[i], NULL, NULL));
    const char *notice = s->test ? TEST_NOTICE : p->user_notice;
    LV_TRY(push_policy(pols, own_oid, cps_qualifier(cps_url),
                       p->tls ? NULL : notice_qualifier(notice)));
    if (p->etsi_policy != NULL)
        LV_TRY(push_policy(pols, p->etsi_policy, NULL, NULL));
    for (int i = 0; i < 2 && p->extra_policies[i] != NULL; i++)
        if (!(p->tls && is_cabf_policy(p->extra_policies[i])))
            LV_TRY(push_policy(pols, p->extra_policies[i], NULL, NULL));
    return p->tls && s->test ? push_test_policy(pols, cfg) : 0;
}

static int add_policies(X509 *cert, const lv_profile *p, const lv_subject *s,
                        const lv_config *cfg, lv_err *err)
{
    CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
    if (pols == NULL)
        return LV_ENOMEM;
    int rc = fill_policies(pols, p, s, cfg);
    if (rc == 0 && !X509_add1_ext_i2d(cert, NID_certificate_policies, pols, 0,
                                      X509V3_ADD_DEFAULT))
        rc = lv_fail_ssl(err, LV_ECRYPTO, "cannot add certificatePolicies");
    CERTIFICATEPOLICIES_free(pols);
    return rc;
}

int profile_add_any_policy(X509 *cert, lv_err *err)
{
    CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
    int rc = pols ? push_policy(pols, "2.5.29.32.0", NULL, NULL) : LV_ENOMEM;
    if (rc == 0 && !X509_add1_ext_i2d(cert, NID_certificate_policies, pols, 0,
                                      X509V3_ADD_DEFAULT))
        rc = lv_fail_ssl(err, LV_ECRYPTO, "cannot add certificatePolicies");
    CERTIFICATEPOLICIES_free(pols);
    return rc;
}

/* ---- the per-profile set ------------------------------------------------ */

static int add_status_pointers(X509 *cert, X509 *issuer, const char *ca_name,
                               const lv_config *cfg, lv_err *err)
{
    char value[700];
    /* R6.3 / R6.4: where relying parties find the CRL and OCSP */
    const char *base = lv_status_url(cfg);
    snprintf(value, sizeof value, "URI:%s/crl/%s.crl", base, ca_name);
    LV_TRY(
        profile_add_ext(cert, issuer, NID_crl_distribution_points, value, err));
    snprintf(value, sizeof value, "OCSP;URI:%s/ocsp,caIssuers;URI:%s/ca/%s.crt",
             base, base, ca_name);
    return profile_add_ext(cert, issuer, NID_info_access, value, err);
}

/* BR §7.1.2.7.11: an RSA website key gets digitalSignature (and
 * keyEncipherment only where the operator still serves TLS 1.2 RSA key
 * transport: tls_rsa_key_encipherment); an EC key digitalSignature alone
 * (RFC 5480 §3, RFC 8813 §3: never keyEncipherment). */
static const char *key_usage_of(const X509 *cert, const lv_profile *p,
                                const lv_config *cfg)
{
    if (!p->tls)
        return p->key_usage;
    EVP_PKEY *key = X509_get0_pubkey(cert);
    if (key != NULL && EVP_PKEY_is_a(key, "RSA") &&
        cfg->tls_rsa_key_encipherment)
        return "digitalSignature,keyEncipherment";
    return "digitalSignature";
}

/* The OCSP responder certificate (RFC 6960 §4.2.2.2) carries no
 * certificatePolicies: BR §7.1.2.8.2 forbids it on the TLS side, and no
 * ETSI rule asks for it on the others. */
static int wants_policies(const lv_profile *p)
{
    return !p->ocsp_nocheck;
}

static int add_usage(X509 *cert, X509 *ic, const lv_profile *p,
                     const lv_config *cfg, lv_err *err)
{
    char ku[128];
    snprintf(ku, sizeof ku, "critical,%s", key_usage_of(cert, p, cfg));
    LV_TRY(profile_add_ext(cert, ic, NID_key_usage, ku, err));
    if (p->ext_key_usage == NULL)
        return 0;
    snprintf(ku, sizeof ku, "%s%s", p->eku_critical ? "critical," : "",
             p->ext_key_usage);
    return profile_add_ext(cert, ic, NID_ext_key_usage, ku, err);
}

int profile_add_extensions(X509 *cert, X509 *issuer, const char *issuer_name,
                           const lv_profile *p, const lv_subject *s,
                           const lv_config *cfg, lv_err *err)
{
    X509 *ic = issuer;
    LV_TRY(profile_add_ext(cert, ic, NID_basic_constraints, "critical,CA:FALSE",
                           err));
    LV_TRY(add_usage(cert, ic, p, cfg, err));
    /* BR §7.1.2.7.6: a subjectKeyIdentifier is NOT RECOMMENDED on a TLS
     * subscriber certificate; RFC 5280 §4.2.1.2 SHOULD elsewhere */
    if (!p->tls)
        LV_TRY(
            profile_add_ext(cert, ic, NID_subject_key_identifier, "hash", err));
    LV_TRY(profile_add_ext(cert, ic, NID_authority_key_identifier,
                           "keyid:always", err));
    if (wants_policies(p))
        LV_TRY(add_policies(cert, p, s, cfg, err));
    if (s->san != NULL && !X509_add1_ext_i2d(cert, NID_subject_alt_name, s->san,
                                             0, X509V3_ADD_DEFAULT))
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot add subjectAltName");
    if (p->ocsp_nocheck)
        LV_TRY(profile_add_ext(cert, ic, NID_id_pkix_OCSP_noCheck, "ignored",
                               err));
    else
        LV_TRY(add_status_pointers(cert, ic, issuer_name, cfg, err));
    if (p->tls && p->subject == LV_SUBJ_WEB_EV)
        LV_TRY(profile_add_cabf_org_id(cert, s, err));
    return profile_add_qcstatements(cert, p, s, cfg, err);
}
