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

/* A profile's names: id, OID suffix under the arc, CPS section, English
 * and the CPS's own. */
#define NAMES(ID, SUFFIX, CPS, NAME, NAME_ES)                                  \
    .id = (ID), .oid_suffix = (SUFFIX), .cps_section = (CPS), .name = (NAME),  \
    .name_es = (NAME_ES)

/* What every qualified person and seal profile shares (R4.3, R4.4), and
 * EN 319 411-2 §5.3: QCP-n for natural persons, QCP-l for legal persons
 * (seals), "-qscd" where the key is in a QSCD: the Cloud HSM types, which
 * alone carry QcSSCD (R4.3).  Persons sign (QcType esign), seals seal. */
#define SIGNER(SUBJECT, QCTYPE, CUSTODY, POLICY, POLICY_NAME)                  \
    .issuer = LV_ISSUER_QUALIFIED, .qualified = 1, .key_usage = KU_SIGN,       \
    .ext_key_usage = EKU_PERSON, .validity_days = PERSON_DAYS,                 \
    .subject = (SUBJECT), .qctype = (QCTYPE), .custody = (CUSTODY),            \
    .qscd = (CUSTODY) == LV_CUSTODY_CLOUD_HSM, .etsi_policy = (POLICY),        \
    .etsi_policy_name = (POLICY_NAME)
#define PERSON_QSCD(SUBJECT)                                                   \
    SIGNER(SUBJECT, LV_QCTYPE_ESIGN, LV_CUSTODY_CLOUD_HSM, QCP_N_QSCD,         \
           "QCP-n-qscd")
#define PERSON(SUBJECT, CUSTODY)                                               \
    SIGNER(SUBJECT, LV_QCTYPE_ESIGN, CUSTODY, QCP_N, "QCP-n")
#define SEAL_QSCD                                                              \
    SIGNER(LV_SUBJ_SEAL, LV_QCTYPE_ESEAL, LV_CUSTODY_CLOUD_HSM, QCP_L_QSCD,    \
           "QCP-l-qscd")
#define SEAL(CUSTODY)                                                          \
    SIGNER(LV_SUBJ_SEAL, LV_QCTYPE_ESEAL, CUSTODY, QCP_L, "QCP-l")
/* What every website profile shares: the TLS CA, a CSR, the BR rules
 * (issue 13); EV ones are QWACs (QCP-w, EN 319 411-2), OV ones are not. */
#define WEBSITE                                                                \
    .issuer = LV_ISSUER_TLS, .custody = LV_CUSTODY_SUBSCRIBER,                 \
    .key_usage = KU_WEB, .ext_key_usage = EKU_WEB, .tls = 1
#define WEB_EV                                                                 \
    WEBSITE, .subject = LV_SUBJ_WEB_EV, .qualified = 1,                        \
             .qctype = LV_QCTYPE_WEB, .etsi_policy = QCP_W,                    \
             .etsi_policy_name = "QCP-w", .extra_policies = {EVCP, CABF_EV}
#define WEB_OV                                                                 \
    WEBSITE, .subject = LV_SUBJ_WEB_OV, .qctype = LV_QCTYPE_NONE,              \
             .etsi_policy = OVCP, .etsi_policy_name = "OVCP",                  \
             .extra_policies = {CABF_OV}

static const lv_profile profiles[] = {
    {NAMES("natural-person-cloud-hsm", "1.1.1", "1.4.1.1",
           "Natural person, Cloud HSM", "Persona Física Cloud HSM"),
     PERSON_QSCD(LV_SUBJ_NATURAL),
     .user_notice =
         "Certificado cualificado de firma electronica de persona fisica, "
         "claves custodiadas en dispositivo cualificado (QSCD) en la nube"},
    {NAMES("natural-person-cloud", "1.1.2", "1.4.1.2", "Natural person, Cloud",
           "Persona Física Cloud"),
     PERSON(LV_SUBJ_NATURAL, LV_CUSTODY_CLOUD),
     .user_notice = "Certificado cualificado de firma electronica de "
                    "persona fisica, claves custodiadas en la nube"},
    {NAMES("linked-person-cloud-hsm", "1.2.1", "1.4.1.3",
           "Linked natural person, Cloud HSM",
           "Persona Física vinculada Cloud HSM"),
     PERSON_QSCD(LV_SUBJ_LINKED),
     .user_notice =
         "Certificado cualificado de persona fisica vinculada a una "
         "organizacion, claves en dispositivo cualificado (QSCD) en la nube"},
    {NAMES("linked-person-cloud", "1.2.2", "1.4.1.4",
           "Linked natural person, Cloud", "Persona Física vinculada Cloud"),
     PERSON(LV_SUBJ_LINKED, LV_CUSTODY_CLOUD),
     .user_notice = "Certificado cualificado de persona fisica vinculada a "
                    "una organizacion, claves custodiadas en la nube"},
    {NAMES("linked-person", "1.2.3", "1.4.1.5", "Linked natural person",
           "Persona Física vinculada"),
     PERSON(LV_SUBJ_LINKED, LV_CUSTODY_SUBSCRIBER),
     .user_notice = "Certificado cualificado de persona fisica vinculada a "
                    "una organizacion"},
    {NAMES("eseal-cloud-hsm", "1.3.1", "1.4.1.6", "Electronic seal, Cloud HSM",
           "Sello electrónico Cloud HSM"),
     SEAL_QSCD,
     .user_notice = "Certificado cualificado de sello electronico, claves "
                    "en dispositivo cualificado (QSCD) en la nube"},
    {NAMES("eseal-cloud", "1.3.2", "1.4.1.7", "Electronic seal, Cloud",
           "Sello electrónico Cloud"),
     SEAL(LV_CUSTODY_CLOUD),
     .user_notice = "Certificado cualificado de sello electronico, claves "
                    "custodiadas en la nube"},
    {NAMES("eseal", "1.3.3", "1.4.1.8", "Electronic seal", "Sello electrónico"),
     SEAL(LV_CUSTODY_SUBSCRIBER),
     .user_notice = "Certificado cualificado de sello electronico"},
    {NAMES("eseal-psd2", "1.3.33", "1.4.1.9", "Electronic seal, PSD2",
           "Sello electrónico PSD2"),
     SEAL(LV_CUSTODY_SUBSCRIBER), .psd2 = 1,
     .user_notice = "Certificado cualificado de sello electronico para "
                    "proveedores de servicios de pago (PSD2)"},
    {NAMES("web-ev", "1.4.1", "1.4.1.10", "Website authentication, EV (QWAC)",
           "SSL-EV eIDAS"),
     WEB_EV,
     .user_notice = "Certificado cualificado de autenticacion de sitio web "
                    "con validacion extendida (QWAC EV)"},
    {NAMES("web-ev-psd2", "1.4.23", "1.4.1.11",
           "Website authentication, EV (QWAC), PSD2", "SSL EV eIDAS PSD2"),
     WEB_EV, .psd2 = 1,
     .user_notice = "Certificado cualificado de autenticacion de sitio web "
                    "EV para proveedores de servicios de pago (PSD2)"},
    {NAMES("tsa", "1.5.1", "1.4.1.12", "Time-stamping unit seal",
           "Sello electrónico de TSA"),
     .etsi_policy = QCP_L, .etsi_policy_name = "QCP-l",
     .issuer = LV_ISSUER_QUALIFIED, .subject = LV_SUBJ_TSA,
     .custody = LV_CUSTODY_PROVIDER, .qualified = 1, .qctype = LV_QCTYPE_ESEAL,
     /* CPS §1.4.1.12: Content Commitment only; RFC 3161 §2.3: the sole EKU
      * is timeStamping and it is critical. */
     .key_usage = "nonRepudiation", .ext_key_usage = "timeStamping",
     .eku_critical = 1, .validity_days = TSA_DAYS,
     .user_notice = "Certificado cualificado de sello electronico de unidad "
                    "de sellado de tiempo (RFC 3161)"},
    {NAMES("legal-representative-cloud-hsm", "1.6.1", "1.4.1.13",
           "Representative of a legal person, Cloud HSM",
           "Persona Física representante de Persona Jurídica Cloud HSM"),
     PERSON_QSCD(LV_SUBJ_REP_LEGAL), .extra_policies = {AGE_REP_LEGAL},
     .user_notice =
         "Certificado cualificado de representante de persona juridica, "
         "claves en dispositivo cualificado (QSCD) en la nube"},
    {NAMES("legal-representative-cloud", "1.6.2", "1.4.1.14",
           "Representative of a legal person, Cloud",
           "Persona Física representante de Persona Jurídica Cloud"),
     PERSON(LV_SUBJ_REP_LEGAL, LV_CUSTODY_CLOUD),
     .extra_policies = {AGE_REP_LEGAL},
     .user_notice = "Certificado cualificado de representante de persona "
                    "juridica, claves custodiadas en la nube"},
    {NAMES("entity-representative-cloud-hsm", "1.7.1", "1.4.1.15",
           "Representative of an entity without legal personality, Cloud HSM",
           "Persona Física representante de Entidad Sin Personalidad "
           "Jurídica Cloud HSM"),
     PERSON_QSCD(LV_SUBJ_REP_ENTITY), .extra_policies = {AGE_REP_ENTITY},
     .user_notice = "Certificado cualificado de representante de entidad "
                    "sin personalidad juridica, claves en dispositivo "
                    "cualificado (QSCD) en la nube"},
    {NAMES("entity-representative-cloud", "1.7.2", "1.4.1.16",
           "Representative of an entity without legal personality, Cloud",
           "Persona Física representante de Entidad Sin Personalidad "
           "Jurídica Cloud"),
     PERSON(LV_SUBJ_REP_ENTITY, LV_CUSTODY_CLOUD),
     .extra_policies = {AGE_REP_ENTITY},
     .user_notice = "Certificado cualificado de representante de entidad sin "
                    "personalidad juridica, claves custodiadas en la nube"},
    {NAMES("web-ov", "104.1", "1.4.1.17",
           "Website authentication, OV (Secure Site Pro)", "Secure Site Pro"),
     WEB_OV,
     .user_notice = "Certificado de autenticacion de sitio web con "
                    "validacion de organizacion"},
    {NAMES("web-ov-wildcard", "104.2", "1.4.1.18",
           "Website authentication, OV with wildcard (Secure Site Pro "
           "Wildcard)",
           "Secure Site Pro con Wildcards"),
     WEB_OV, .wildcard = 1,
     .user_notice = "Certificado de autenticacion de sitio web con "
                    "validacion de organizacion y comodin"},
    /* Not a CPS §1.2.1 type: the delegated OCSP responder of each CA
     * (RFC 6960 §4.2.2.2), issued by the ceremony. */
    {NAMES("ocsp-responder", "9.1", "4.10", "OCSP responder (delegated)",
           "Respondedor OCSP delegado"),
     .issuer = LV_ISSUER_QUALIFIED, .subject = LV_SUBJ_TSA,
     .custody = LV_CUSTODY_PROVIDER, .qctype = LV_QCTYPE_NONE,
     .key_usage = "digitalSignature", .ext_key_usage = "OCSPSigning",
     .validity_days = 365,
     .user_notice = "Respondedor OCSP de la autoridad de certificacion",
     .internal = 1, .ocsp_nocheck = 1},
    /* Issue 8: the key that seals the audit trail (R9.2, CPS §5.4.4);
     * issued by the non-qualified CA on first use, never to a subscriber. */
    {NAMES("audit-seal", "9.2", "5.4.4", "Audit trail seal (internal)",
           "Sello del registro de auditoría"),
     .issuer = LV_ISSUER_STANDARD, .subject = LV_SUBJ_TSA,
     .custody = LV_CUSTODY_PROVIDER, .qctype = LV_QCTYPE_NONE,
     .key_usage = "digitalSignature,nonRepudiation", .validity_days = 1826,
     .user_notice = "Sello del registro de auditoria del prestador",
     .internal = 1},
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
