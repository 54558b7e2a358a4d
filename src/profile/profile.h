/* profile/ — what a certificate says, as data: the profile table of every
 * certificate type of CPS §1.2.1 (R4.3, R4.4), the subject rules of CPS
 * §3.1.1 (and the DNI/NIE/CIF checks ra/ uses too), and the X.509 v3
 * extensions and QCStatements each profile puts in a certificate (RFC 5280
 * §4.2, ETSI EN 319 412-2..5).  Pure: no store, no key, no CA context; ca/
 * builds and signs the certificate around what this returns.
 *
 *   profiles.c      the table, profile_find, profile_oid
 *   subject.c       profile_subject_build, profile_check_dni_nie / _cif
 *   extensions.c    the end-entity extension set, extension helpers
 *   qcstatements.c  QCStatements (RFC 3739, EN 319 412-5, TS 119 495)
 *
 * Depends on core/ only. */
#ifndef LLAVE_PROFILE_H
#define LLAVE_PROFILE_H

#include "core/core.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* ---- profiles (R4.3, R4.4) ------------------------------------------- */

/* Which CA signs a profile's certificates (CPS §1.3.1).  Website
 * certificates come from a CA of their own (issue 13: CA/B Forum BR
 * §7.1.2.10.6 wants serverAuth in the issuing CA's extendedKeyUsage, which a
 * CA that also issues signature and seal certificates cannot carry). */
typedef enum {
    LV_ISSUER_QUALIFIED,
    LV_ISSUER_STANDARD,
    LV_ISSUER_TLS
} lv_issuer_kind;

/* The subject DN rules of CPS §3.1.1 that apply. */
typedef enum {
    LV_SUBJ_NATURAL,    /* §3.1.1.1 */
    LV_SUBJ_LINKED,     /* §3.1.1.2 */
    LV_SUBJ_REP_LEGAL,  /* §3.1.1.3 legal-person representative */
    LV_SUBJ_REP_ENTITY, /* §3.1.1.4 entity without legal personality */
    LV_SUBJ_SEAL,       /* §3.1.1.5 */
    LV_SUBJ_TSA,        /* §1.4.1.12, a seal of the provider itself */
    LV_SUBJ_WEB_EV,     /* CABF EV guidelines §9.2 */
    LV_SUBJ_WEB_OV,     /* CABF BR §7.1.4.2 */
} lv_subject_kind;

/* Where the subject's private key lives (R4.6, R5.1). */
typedef enum {
    LV_CUSTODY_SUBSCRIBER, /* CSR, or a key pair delivered in PKCS#12 */
    LV_CUSTODY_CLOUD,      /* generated and kept in the key store */
    LV_CUSTODY_CLOUD_HSM,  /* idem, in the QSCD: QcSSCD present */
    LV_CUSTODY_PROVIDER,   /* the provider's own service key (TSA) */
} lv_custody;

typedef enum {
    LV_QCTYPE_NONE,
    LV_QCTYPE_ESIGN,
    LV_QCTYPE_ESEAL,
    LV_QCTYPE_WEB
} lv_qctype;

typedef struct lv_profile {
    const char *id;          /* kebab-case, e.g. natural-person-cloud-hsm */
    const char *oid_suffix;  /* appended to the enterprise arc: "1.1.1" */
    const char *name;        /* English name */
    const char *name_es;     /* the CPS's own name */
    const char *cps_section; /* "1.4.1.1" */
    const char *etsi_policy; /* QCP-n 0.4.0.194112.1.0, ... */
    const char *etsi_policy_name;
    const char
        *extra_policies[2]; /* CABF EV, Spanish AGE profiles; NULL-ended */
    lv_issuer_kind issuer;
    lv_subject_kind subject;
    lv_custody custody;
    int qualified; /* QcCompliance */
    int qscd;      /* QcSSCD (only Cloud HSM / QSCD types) */
    lv_qctype qctype;
    int psd2;                  /* PSD2 QCStatement 0.4.0.19495.2 */
    int wildcard;              /* DNS names may start with "*." */
    const char *key_usage;     /* OpenSSL keyUsage list, always critical */
    const char *ext_key_usage; /* OpenSSL extendedKeyUsage list or NULL */
    int eku_critical;
    int validity_days;       /* 0 for website profiles: profile_not_after */
    const char *user_notice; /* explicitText of the policy user notice */
    int internal;            /* the provider's own (OCSP responder): not
                                issued through `cert issue` */
    int ocsp_nocheck;        /* id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1) */
    int tls; /* a website certificate: the CA/B Forum BR (and EV Guidelines)
                in force on the issuance date apply (issue 13) */
} lv_profile;

/* The profile table (CPS §1.2.1) and one profile by id (NULL: unknown). */
const lv_profile *profile_table(size_t *count);
const lv_profile *profile_find(const char *id);
/* The profile's CPS policy OID under the configured arc. */
int profile_oid(const lv_config *cfg, const lv_profile *p, char *out,
                size_t cap) LV_MUST_USE;
/* BR §6.3.2 (ballot SC-081): the longest validity period, in days, of a
 * TLS subscriber certificate issued at `issued_at` (Unix time). */
int profile_tls_max_days(int64_t issued_at);
/* The notAfter a certificate of p issued at not_before gets, before the
 * caps of the subject's document and the issuer's own notAfter. */
int64_t profile_not_after(const lv_profile *p, int64_t not_before);
/* The CA role ("qualified", "standard", "tls") that issues p. */
const char *profile_issuer_role(const lv_profile *p);

/* ---- subject validation (CPS §3.1.1, R2.3, R2.7) ---------------------- */

/* DNI: 8 digits + check letter; NIE: X/Y/Z + 7 digits + letter. */
int profile_check_dni_nie(const char *id, lv_err *err) LV_MUST_USE;
/* Spanish NIF of an organization (CIF): letter + 7 digits + control. */
int profile_check_cif(const char *id, lv_err *err) LV_MUST_USE;

/* A validated subject: the DN and SubjectAltName to put in the certificate
 * and the identifiers R2.9 counts by. */
typedef struct lv_subject {
    X509_NAME *dn;
    GENERAL_NAMES *san;     /* NULL when none */
    char subject_id[72];    /* IDCES-…, VATES-…, or the first DNS name */
    char subscriber_id[72]; /* organization id, or subject_id */
    int64_t not_after_cap;  /* document expiry (R2.4), 0 when none */
    int test;               /* "test": true (R4.7) */
    /* PSD2 (ETSI TS 119 495) */
    char psd2_nca_name[128];
    char psd2_nca_id[16];
    int psd2_roles; /* bit set of LV_PSD2_* */
} lv_subject;

enum { LV_PSD2_AS = 1, LV_PSD2_PI = 2, LV_PSD2_AI = 4, LV_PSD2_IC = 8 };

/* Checks the JSON subject against the profile's DN rules and builds it.
 * Every violation gets its own message naming the field. */
int profile_subject_build(const lv_profile *p, const json_t *subject,
                          lv_subject *out, lv_err *err) LV_MUST_USE;
void profile_subject_free(lv_subject *s);

/* ---- extensions (RFC 5280 §4.2; extensions.c, qcstatements.c) ---------- */

/* The end-entity extensions of profile p for subject s (R4.3, R4.4):
 * basicConstraints, keyUsage, extendedKeyUsage, key identifiers,
 * certificatePolicies (with the CPS URL and user notice), subjectAltName,
 * CRL and OCSP pointers of the issuing CA `issuer_name` (or id-pkix-ocsp-
 * nocheck), QCStatements. */
int profile_add_extensions(X509 *cert, X509 *issuer, const char *issuer_name,
                           const lv_profile *p, const lv_subject *s,
                           const lv_config *cfg, lv_err *err) LV_MUST_USE;
/* QCStatements of a qualified profile (none for the others). */
int profile_add_qcstatements(X509 *cert, const lv_profile *p,
                             const lv_subject *s, const lv_config *cfg,
                             lv_err *err) LV_MUST_USE;
/* 1 when cert's QCStatements hold the statement statement_oid, 0 when not
 * (or no QCStatements), LV_ECRYPTO when the extension is malformed. */
int profile_qc_has_statement(const X509 *cert, const char *statement_oid);
/* QCStatements (RFC 3739 §3.2.6) of the n statements ids, none with
 * statementInfo, as DER in *der (OPENSSL_free); its length, or -1. */
int profile_qc_statements_der(const char *const *ids, size_t n,
                              unsigned char **der);
/* Adds an extension from OpenSSL's configuration syntax ("critical,...");
 * issuer NULL: the certificate itself (self-signed). */
int profile_add_ext(X509 *cert, X509 *issuer, int nid, const char *value,
                    lv_err *err) LV_MUST_USE;
/* Adds an extension whose value is already DER. */
int profile_add_raw_ext(X509 *cert, const char *oid, int critical,
                        const unsigned char *der, size_t len,
                        lv_err *err) LV_MUST_USE;
/* cabfOrganizationIdentifier (EV Guidelines §9.8.2) from the subject's
 * organizationIdentifier ("VATES-B00000000", "PSDES-BDE-3DFD21"). */
int profile_add_cabf_org_id(X509 *cert, const lv_subject *s,
                            lv_err *err) LV_MUST_USE;
/* certificatePolicies: anyPolicy (issuing CA certificates). */
int profile_add_any_policy(X509 *cert, lv_err *err) LV_MUST_USE;

#endif
