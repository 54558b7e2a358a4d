/* The certificate profiles of CPS §1.2.1 / §1.4.1 as one data table
 * (R4.3, R4.4).  Issuance reads this table; nothing else in ca/ branches on a
 * profile id.  OIDs keep the CPS's suffixes under the configurable arc. */
#include "profile/profile.h"

#include <stdio.h>
#include <string.h>

#define QCP_N "0.4.0.194112.1.0"
#define QCP_L "0.4.0.194112.1.1"
#define QCP_N_QSCD "0.4.0.194112.1.2"
#define QCP_L_QSCD "0.4.0.194112.1.3"
#define QCP_W "0.4.0.194112.1.4"
#define OVCP "0.4.0.2042.1.7"
#define EVCP "0.4.0.2042.1.4"
#define CABF_EV "2.23.140.1.1"
#define CABF_OV "2.23.140.1.2.2"
/* Spanish public administration profiles (CPS §1.4.1.13-16). */
#define AGE_REP_LEGAL "2.16.724.1.3.5.8"
#define AGE_REP_ENTITY "2.16.724.1.3.5.9"

/* R4.4: persons and seals sign; web certificates authenticate servers.
 * A website certificate's keyUsage follows its key type (BR §7.1.2.7.11;
 * extensions.c), so KU_WEB is only what every key type gets. */
#define KU_SIGN "digitalSignature,nonRepudiation"
#define KU_WEB "digitalSignature"
#define EKU_PERSON "clientAuth,emailProtection"
/* BR §7.1.2.7.10 allows clientAuth beside serverAuth; the Chrome Root
 * Program wants TLS hierarchies dedicated to serverAuth from 2026-06-15, so
 * a website certificate (and its CA) asserts serverAuth alone. */
#define EKU_WEB "serverAuth"

#define PERSON_DAYS 730
#define TSA_DAYS 1826 /* R4.1: TSU key 5 years */
#define DAY 86400

/* What every qualified person and seal profile shares (R4.3, R4.4). */
#define QUALIFIED_SIGNER                                                       \
    .issuer = LV_ISSUER_QUALIFIED, .qualified = 1, .key_usage = KU_SIGN,       \
    .ext_key_usage = EKU_PERSON, .validity_days = PERSON_DAYS
/* What every website profile shares: the TLS CA, a CSR, the BR rules
 * (issue 13). */
#define WEBSITE                                                                \
    .issuer = LV_ISSUER_TLS, .custody = LV_CUSTODY_SUBSCRIBER,                 \
    .key_usage = KU_WEB, .ext_key_usage = EKU_WEB, .tls = 1

static const lv_profile profiles[] = {
    {
        .id = "natural-person-cloud-hsm",
        .oid_suffix = "1.1.1",
        .name = "Natural person, Cloud HSM",
        .name_es = "Persona Física Cloud HSM",
        .cps_section = "1.4.1.1",
        .etsi_policy = QCP_N_QSCD,
        .etsi_policy_name = "QCP-n-qscd",
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_NATURAL,
        .custody = LV_CUSTODY_CLOUD_HSM,
        .qscd = 1,
        .qctype = LV_QCTYPE_ESIGN,
        .user_notice =
            "Certificado cualificado de firma electronica de persona fisica, "
            "claves custodiadas en dispositivo cualificado (QSCD) en la nube",
    },
    {
        .id = "natural-person-cloud",
        .oid_suffix = "1.1.2",
        .name = "Natural person, Cloud",
        .name_es = "Persona Física Cloud",
        .cps_section = "1.4.1.2",
        .etsi_policy = QCP_N,
        .etsi_policy_name = "QCP-n",
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_NATURAL,
        .custody = LV_CUSTODY_CLOUD,
        .qctype = LV_QCTYPE_ESIGN,
        .user_notice = "Certificado cualificado de firma electronica de "
                       "persona fisica, claves custodiadas en la nube",
    },
    {
        .id = "linked-person-cloud-hsm",
        .oid_suffix = "1.2.1",
        .name = "Linked natural person, Cloud HSM",
        .name_es = "Persona Física vinculada Cloud HSM",
        .cps_section = "1.4.1.3",
        .etsi_policy = QCP_N_QSCD,
        .etsi_policy_name = "QCP-n-qscd",
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_LINKED,
        .custody = LV_CUSTODY_CLOUD_HSM,
        .qscd = 1,
        .qctype = LV_QCTYPE_ESIGN,
        .user_notice =
            "Certificado cualificado de persona fisica vinculada a una "
            "organizacion, claves en dispositivo cualificado (QSCD) en la nube",
    },
    {
        .id = "linked-person-cloud",
        .oid_suffix = "1.2.2",
        .name = "Linked natural person, Cloud",
        .name_es = "Persona Física vinculada Cloud",
        .cps_section = "1.4.1.4",
        .etsi_policy = QCP_N,
        .etsi_policy_name = "QCP-n",
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_LINKED,
        .custody = LV_CUSTODY_CLOUD,
        .qctype = LV_QCTYPE_ESIGN,
        .user_notice = "Certificado cualificado de persona fisica vinculada a "
                       "una organizacion, claves custodiadas en la nube",
    },
    {
        .id = "linked-person",
        .oid_suffix = "1.2.3",
        .name = "Linked natural person",
        .name_es = "Persona Física vinculada",
        .cps_section = "1.4.1.5",
        .etsi_policy = QCP_N,
        .etsi_policy_name = "QCP-n",
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_LINKED,
        .custody = LV_CUSTODY_SUBSCRIBER,
        .qctype = LV_QCTYPE_ESIGN,
        .user_notice = "Certificado cualificado de persona fisica vinculada a "
                       "una organizacion",
    },
    {
        .id = "eseal-cloud-hsm",
        .oid_suffix = "1.3.1",
        .name = "Electronic seal, Cloud HSM",
        .name_es = "Sello electrónico Cloud HSM",
        .cps_section = "1.4.1.6",
        .etsi_policy = QCP_L_QSCD,
        .etsi_policy_name = "QCP-l-qscd",
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_SEAL,
        .custody = LV_CUSTODY_CLOUD_HSM,
        .qscd = 1,
        .qctype = LV_QCTYPE_ESEAL,
        .user_notice = "Certificado cualificado de sello electronico, claves "
                       "en dispositivo cualificado (QSCD) en la nube",
    },
    {
        .id = "eseal-cloud",
        .oid_suffix = "1.3.2",
        .name = "Electronic seal, Cloud",
        .name_es = "Sello electrónico Cloud",
        .cps_section = "1.4.1.7",
        .etsi_policy = QCP_L,
        .etsi_policy_name = "QCP-l",
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_SEAL,
        .custody = LV_CUSTODY_CLOUD,
        .qctype = LV_QCTYPE_ESEAL,
        .user_notice = "Certificado cualificado de sello electronico, claves "
                       "custodiadas en la nube",
    },
    {
        .id = "eseal",
        .oid_suffix = "1.3.3",
        .name = "Electronic seal",
        .name_es = "Sello electrónico",
        .cps_section = "1.4.1.8",
        .etsi_policy = QCP_L,
        .etsi_policy_name = "QCP-l",
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_SEAL,
        .custody = LV_CUSTODY_SUBSCRIBER,
        .qctype = LV_QCTYPE_ESEAL,
        .user_notice = "Certificado cualificado de sello electronico",
    },
    {
        .id = "eseal-psd2",
        .oid_suffix = "1.3.33",
        .name = "Electronic seal, PSD2",
        .name_es = "Sello electrónico PSD2",
        .cps_section = "1.4.1.9",
        .etsi_policy = QCP_L,
        .etsi_policy_name = "QCP-l",
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_SEAL,
        .custody = LV_CUSTODY_SUBSCRIBER,
        .qctype = LV_QCTYPE_ESEAL,
        .psd2 = 1,
        .user_notice = "Certificado cualificado de sello electronico para "
                       "proveedores de servicios de pago (PSD2)",
    },
    {
        .id = "web-ev",
        .oid_suffix = "1.4.1",
        .name = "Website authentication, EV (QWAC)",
        .name_es = "SSL-EV eIDAS",
        .cps_section = "1.4.1.10",
        .etsi_policy = QCP_W,
        .etsi_policy_name = "QCP-w",
        .extra_policies = {EVCP, CABF_EV},
        WEBSITE,
        .subject = LV_SUBJ_WEB_EV,
        .qualified = 1,
        .qctype = LV_QCTYPE_WEB,
        .user_notice = "Certificado cualificado de autenticacion de sitio web "
                       "con validacion extendida (QWAC EV)",
    },
    {
        .id = "web-ev-psd2",
        .oid_suffix = "1.4.23",
        .name = "Website authentication, EV (QWAC), PSD2",
        .name_es = "SSL EV eIDAS PSD2",
        .cps_section = "1.4.1.11",
        .etsi_policy = QCP_W,
        .etsi_policy_name = "QCP-w",
        .extra_policies = {EVCP, CABF_EV},
        WEBSITE,
        .subject = LV_SUBJ_WEB_EV,
        .qualified = 1,
        .qctype = LV_QCTYPE_WEB,
        .psd2 = 1,
        .user_notice = "Certificado cualificado de autenticacion de sitio web "
                       "EV para proveedores de servicios de pago (PSD2)",
    },
    {
        .id = "tsa",
        .oid_suffix = "1.5.1",
        .name = "Time-stamping unit seal",
        .name_es = "Sello electrónico de TSA",
        .cps_section = "1.4.1.12",
        .etsi_policy = QCP_L,
        .etsi_policy_name = "QCP-l",
        .issuer = LV_ISSUER_QUALIFIED,
        .subject = LV_SUBJ_TSA,
        .custody = LV_CUSTODY_PROVIDER,
        .qualified = 1,
        .qctype = LV_QCTYPE_ESEAL,
        /* CPS §1.4.1.12: Content Commitment only; RFC 3161 §2.3: the sole EKU
         * is timeStamping and it is critical. */
        .key_usage = "nonRepudiation",
        .ext_key_usage = "timeStamping",
        .eku_critical = 1,
        .validity_days = TSA_DAYS,
        .user_notice = "Certificado cualificado de sello electronico de unidad "
                       "de sellado de tiempo (RFC 3161)",
    },
    {
        .id = "legal-representative-cloud-hsm",
        .oid_suffix = "1.6.1",
        .name = "Representative of a legal person, Cloud HSM",
        .name_es = "Persona Física representante de Persona Jurídica Cloud HSM",
        .cps_section = "1.4.1.13",
        .etsi_policy = QCP_N_QSCD,
        .etsi_policy_name = "QCP-n-qscd",
        .extra_policies = {AGE_REP_LEGAL},
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_REP_LEGAL,
        .custody = LV_CUSTODY_CLOUD_HSM,
        .qscd = 1,
        .qctype = LV_QCTYPE_ESIGN,
        .user_notice =
            "Certificado cualificado de representante de persona juridica, "
            "claves en dispositivo cualificado (QSCD) en la nube",
    },
    {
        .id = "legal-representative-cloud",
        .oid_suffix = "1.6.2",
        .name = "Representative of a legal person, Cloud",
        .name_es = "Persona Física representante de Persona Jurídica Cloud",
        .cps_section = "1.4.1.14",
        .etsi_policy = QCP_N,
        .etsi_policy_name = "QCP-n",
        .extra_policies = {AGE_REP_LEGAL},
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_REP_LEGAL,
        .custody = LV_CUSTODY_CLOUD,
        .qctype = LV_QCTYPE_ESIGN,
        .user_notice = "Certificado cualificado de representante de persona "
                       "juridica, claves custodiadas en la nube",
    },
    {
        .id = "entity-representative-cloud-hsm",
        .oid_suffix = "1.7.1",
        .name =
            "Representative of an entity without legal personality, Cloud HSM",
        .name_es = "Persona Física representante de Entidad Sin Personalidad "
                   "Jurídica Cloud HSM",
        .cps_section = "1.4.1.15",
        .etsi_policy = QCP_N_QSCD,
        .etsi_policy_name = "QCP-n-qscd",
        .extra_policies = {AGE_REP_ENTITY},
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_REP_ENTITY,
        .custody = LV_CUSTODY_CLOUD_HSM,
        .qscd = 1,
        .qctype = LV_QCTYPE_ESIGN,
        .user_notice = "Certificado cualificado de representante de entidad "
                       "sin personalidad juridica, claves en dispositivo "
                       "cualificado (QSCD) en la nube",
    },
    {
        .id = "entity-representative-cloud",
        .oid_suffix = "1.7.2",
        .name = "Representative of an entity without legal personality, Cloud",
        .name_es = "Persona Física representante de Entidad Sin Personalidad "
                   "Jurídica Cloud",
        .cps_section = "1.4.1.16",
        .etsi_policy = QCP_N,
        .etsi_policy_name = "QCP-n",
        .extra_policies = {AGE_REP_ENTITY},
        QUALIFIED_SIGNER,
        .subject = LV_SUBJ_REP_ENTITY,
        .custody = LV_CUSTODY_CLOUD,
        .qctype = LV_QCTYPE_ESIGN,
        .user_notice =
            "Certificado cualificado de representante de entidad sin "
            "personalidad juridica, claves custodiadas en la nube",
    },
    {
        .id = "web-ov",
        .oid_suffix = "104.1",
        .name = "Website authentication, OV (Secure Site Pro)",
        .name_es = "Secure Site Pro",
        .cps_section = "1.4.1.17",
        .etsi_policy = OVCP,
        .etsi_policy_name = "OVCP",
        .extra_policies = {CABF_OV},
        WEBSITE,
        .subject = LV_SUBJ_WEB_OV,
        .qctype = LV_QCTYPE_NONE,
        .user_notice = "Certificado de autenticacion de sitio web con "
                       "validacion de organizacion",
    },
    {
        .id = "web-ov-wildcard",
        .oid_suffix = "104.2",
        .name = "Website authentication, OV with wildcard (Secure Site Pro "
                "Wildcard)",
        .name_es = "Secure Site Pro con Wildcards",
        .cps_section = "1.4.1.18",
        .etsi_policy = OVCP,
        .etsi_policy_name = "OVCP",
        .extra_policies = {CABF_OV},
        WEBSITE,
        .subject = LV_SUBJ_WEB_OV,
        .qctype = LV_QCTYPE_NONE,
        .wildcard = 1,
        .user_notice = "Certificado de autenticacion de sitio web con "
                       "validacion de organizacion y comodin",
    },
    /* Not a CPS §1.2.1 type: the delegated OCSP responder of each CA
     * (RFC 6960 §4.2.2.2), issued by the ceremony. */
    {
        .id = "ocsp-responder",
        .oid_suffix = "9.1",
        .name = "OCSP responder (delegated)",
        .name_es = "Respondedor OCSP delegado",
        .cps_section = "4.10",
        .issuer = LV_ISSUER_QUALIFIED,
        .subject = LV_SUBJ_TSA,
        .custody = LV_CUSTODY_PROVIDER,
        .qctype = LV_QCTYPE_NONE,
        .key_usage = "digitalSignature",
        .ext_key_usage = "OCSPSigning",
        .validity_days = 365,
        .user_notice = "Respondedor OCSP de la autoridad de certificacion",
        .internal = 1,
        .ocsp_nocheck = 1,
    },
    /* Issue 8: the key that seals the audit trail (R9.2, CPS §5.4.4);
     * issued by the non-qualified CA on first use, never to a subscriber. */
    {
        .id = "audit-seal",
        .oid_suffix = "9.2",
        .name = "Audit trail seal (internal)",
        .name_es = "Sello del registro de auditoría",
        .cps_section = "5.4.4",
        .issuer = LV_ISSUER_STANDARD,
        .subject = LV_SUBJ_TSA,
        .custody = LV_CUSTODY_PROVIDER,
        .qctype = LV_QCTYPE_NONE,
        .key_usage = "digitalSignature,nonRepudiation",
        .validity_days = 1826,
        .user_notice = "Sello del registro de auditoria del prestador",
        .internal = 1,
    },
};

const lv_profile *profile_table(size_t *count)
{
    *count = sizeof profiles / sizeof profiles[0];
    return profiles;
}

const lv_profile *profile_find(const char *id)
{
    size_t n;
    const lv_profile *all = profile_table(&n);
    for (size_t i = 0; id != NULL && i < n; i++) {
        if (strcmp(all[i].id, id) == 0)
            return &all[i];
    }
    return NULL;
}

int profile_oid(const lv_config *cfg, const lv_profile *p, char *out,
                size_t cap)
{
    int n = snprintf(out, cap, "%s.%s", cfg->oid_arc, p->oid_suffix);
    return (n < 0 || (size_t)n >= cap) ? LV_EINVAL : 0;
}

/* BR §6.3.2 as amended by ballot SC-081: the maximum validity period of a
 * TLS subscriber certificate steps down on these issuance dates.  A table,
 * so the 2027 and 2029 steps need no code change. */
static const struct {
    int64_t from; /* 00:00:00 UTC of the effective date */
    int max_days;
} TLS_VALIDITY_STEPS[] = {
    {0, 398},          /* BR §6.3.2 before SC-081 */
    {1773532800, 200}, /* 2026-03-15 */
    {1805068800, 100}, /* 2027-03-15 */
    {1868227200, 47},  /* 2029-03-15 */
};

int profile_tls_max_days(int64_t issued_at)
{
    size_t n = sizeof TLS_VALIDITY_STEPS / sizeof TLS_VALIDITY_STEPS[0];
    int days = TLS_VALIDITY_STEPS[0].max_days;
    for (size_t i = 0; i < n && issued_at >= TLS_VALIDITY_STEPS[i].from; i++)
        days = TLS_VALIDITY_STEPS[i].max_days;
    return days;
}

int64_t profile_not_after(const lv_profile *p, int64_t not_before)
{
    /* BR §1.6.1: the validity period runs from notBefore to notAfter
     * inclusive, so N days end one second before notBefore + N days */
    if (p->tls)
        return not_before + (int64_t)profile_tls_max_days(not_before) * DAY - 1;
    return not_before + (int64_t)p->validity_days * DAY;
}

const char *profile_issuer_role(const lv_profile *p)
{
    switch (p->issuer) {
    case LV_ISSUER_QUALIFIED:
        return "qualified";
    case LV_ISSUER_STANDARD:
        return "standard";
    case LV_ISSUER_TLS:
        return "tls";
    }
    return "";
}
