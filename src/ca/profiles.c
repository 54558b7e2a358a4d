/* The certificate profiles of CPS §1.2.1 / §1.4.1 as one data table
 * (R4.3, R4.4).  Issuance reads this table; nothing else in ca/ branches on a
 * profile id.  OIDs keep the CPS's suffixes under the configurable arc. */
#include "ca/ca.h"

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

/* R4.4: persons and seals sign; web certificates authenticate servers. */
#define KU_SIGN "digitalSignature,nonRepudiation"
#define KU_WEB "digitalSignature,keyEncipherment"
#define EKU_PERSON "clientAuth,emailProtection"
#define EKU_WEB "serverAuth,clientAuth"

#define PERSON_DAYS 730
#define WEB_DAYS 397 /* CABF BR §6.3.2: at most 398 days */
#define TSA_DAYS 1826 /* R4.1: TSU key 5 years */

static const lv_profile profiles[] = {
    {"natural-person-cloud-hsm", "1.1.1", "Natural person, Cloud HSM",
     "Persona Física Cloud HSM", "1.4.1.1", QCP_N_QSCD, "QCP-n-qscd",
     {NULL}, LV_ISSUER_QUALIFIED, LV_SUBJ_NATURAL, LV_CUSTODY_CLOUD_HSM, 1, 1,
     LV_QCTYPE_ESIGN, 0, 0, KU_SIGN, EKU_PERSON, 0, PERSON_DAYS,
     "Certificado cualificado de firma electronica de persona fisica, claves "
     "custodiadas en dispositivo cualificado (QSCD) en la nube",
     0, 0},
    {"natural-person-cloud", "1.1.2", "Natural person, Cloud",
     "Persona Física Cloud", "1.4.1.2", QCP_N, "QCP-n", {NULL},
     LV_ISSUER_QUALIFIED, LV_SUBJ_NATURAL, LV_CUSTODY_CLOUD, 1, 0,
     LV_QCTYPE_ESIGN, 0, 0, KU_SIGN, EKU_PERSON, 0, PERSON_DAYS,
     "Certificado cualificado de firma electronica de persona fisica, claves "
     "custodiadas en la nube",
     0, 0},
    {"linked-person-cloud-hsm", "1.2.1", "Linked natural person, Cloud HSM",
     "Persona Física vinculada Cloud HSM", "1.4.1.3", QCP_N_QSCD,
     "QCP-n-qscd", {NULL}, LV_ISSUER_QUALIFIED, LV_SUBJ_LINKED,
     LV_CUSTODY_CLOUD_HSM, 1, 1, LV_QCTYPE_ESIGN, 0, 0, KU_SIGN, EKU_PERSON,
     0, PERSON_DAYS,
     "Certificado cualificado de persona fisica vinculada a una organizacion, "
     "claves en dispositivo cualificado (QSCD) en la nube",
     0, 0},
    {"linked-person-cloud", "1.2.2", "Linked natural person, Cloud",
     "Persona Física vinculada Cloud", "1.4.1.4", QCP_N, "QCP-n", {NULL},
     LV_ISSUER_QUALIFIED, LV_SUBJ_LINKED, LV_CUSTODY_CLOUD, 1, 0,
     LV_QCTYPE_ESIGN, 0, 0, KU_SIGN, EKU_PERSON, 0, PERSON_DAYS,
     "Certificado cualificado de persona fisica vinculada a una organizacion, "
     "claves custodiadas en la nube",
     0, 0},
    {"linked-person", "1.2.3", "Linked natural person",
     "Persona Física vinculada", "1.4.1.5", QCP_N, "QCP-n", {NULL},
     LV_ISSUER_QUALIFIED, LV_SUBJ_LINKED, LV_CUSTODY_SUBSCRIBER, 1, 0,
     LV_QCTYPE_ESIGN, 0, 0, KU_SIGN, EKU_PERSON, 0, PERSON_DAYS,
     "Certificado cualificado de persona fisica vinculada a una organizacion",
     0, 0},
    {"eseal-cloud-hsm", "1.3.1", "Electronic seal, Cloud HSM",
     "Sello electrónico Cloud HSM", "1.4.1.6", QCP_L_QSCD, "QCP-l-qscd",
     {NULL}, LV_ISSUER_QUALIFIED, LV_SUBJ_SEAL, LV_CUSTODY_CLOUD_HSM, 1, 1,
     LV_QCTYPE_ESEAL, 0, 0, KU_SIGN, EKU_PERSON, 0, PERSON_DAYS,
     "Certificado cualificado de sello electronico, claves en dispositivo "
     "cualificado (QSCD) en la nube",
     0, 0},
    {"eseal-cloud", "1.3.2", "Electronic seal, Cloud", "Sello electrónico Cloud",
     "1.4.1.7", QCP_L, "QCP-l", {NULL}, LV_ISSUER_QUALIFIED, LV_SUBJ_SEAL,
     LV_CUSTODY_CLOUD, 1, 0, LV_QCTYPE_ESEAL, 0, 0, KU_SIGN, EKU_PERSON, 0,
     PERSON_DAYS,
     "Certificado cualificado de sello electronico, claves custodiadas en la "
     "nube",
     0, 0},
    {"eseal", "1.3.3", "Electronic seal", "Sello electrónico", "1.4.1.8", QCP_L,
     "QCP-l", {NULL}, LV_ISSUER_QUALIFIED, LV_SUBJ_SEAL, LV_CUSTODY_SUBSCRIBER,
     1, 0, LV_QCTYPE_ESEAL, 0, 0, KU_SIGN, EKU_PERSON, 0, PERSON_DAYS,
     "Certificado cualificado de sello electronico", 0, 0},
    {"eseal-psd2", "1.3.33", "Electronic seal, PSD2",
     "Sello electrónico PSD2", "1.4.1.9", QCP_L, "QCP-l", {NULL},
     LV_ISSUER_QUALIFIED, LV_SUBJ_SEAL, LV_CUSTODY_SUBSCRIBER, 1, 0,
     LV_QCTYPE_ESEAL, 1, 0, KU_SIGN, EKU_PERSON, 0, PERSON_DAYS,
     "Certificado cualificado de sello electronico para proveedores de "
     "servicios de pago (PSD2)",
     0, 0},
    {"web-ev", "1.4.1", "Website authentication, EV (QWAC)", "SSL-EV eIDAS",
     "1.4.1.10", QCP_W, "QCP-w", {EVCP, CABF_EV}, LV_ISSUER_QUALIFIED,
     LV_SUBJ_WEB_EV, LV_CUSTODY_SUBSCRIBER, 1, 0, LV_QCTYPE_WEB, 0, 0, KU_WEB,
     EKU_WEB, 0, WEB_DAYS,
     "Certificado cualificado de autenticacion de sitio web con validacion "
     "extendida (QWAC EV)",
     0, 0},
    {"web-ev-psd2", "1.4.23", "Website authentication, EV (QWAC), PSD2",
     "SSL EV eIDAS PSD2", "1.4.1.11", QCP_W, "QCP-w", {EVCP, CABF_EV},
     LV_ISSUER_QUALIFIED, LV_SUBJ_WEB_EV, LV_CUSTODY_SUBSCRIBER, 1, 0,
     LV_QCTYPE_WEB, 1, 0, KU_WEB, EKU_WEB, 0, WEB_DAYS,
     "Certificado cualificado de autenticacion de sitio web EV para "
     "proveedores de servicios de pago (PSD2)",
     0, 0},
    {"tsa", "1.5.1", "Time-stamping unit seal", "Sello electrónico de TSA",
     "1.4.1.12", QCP_L, "QCP-l", {NULL}, LV_ISSUER_QUALIFIED, LV_SUBJ_TSA,
     LV_CUSTODY_PROVIDER, 1, 0, LV_QCTYPE_ESEAL, 0, 0,
     /* CPS §1.4.1.12: Content Commitment only; RFC 3161 §2.3: the sole EKU
      * is timeStamping and it is critical. */
     "nonRepudiation", "timeStamping", 1, TSA_DAYS,
     "Certificado cualificado de sello electronico de unidad de sellado de "
     "tiempo (RFC 3161)",
     0, 0},
    {"legal-representative-cloud-hsm", "1.6.1",
     "Representative of a legal person, Cloud HSM",
     "Persona Física representante de Persona Jurídica Cloud HSM", "1.4.1.13",
     QCP_N_QSCD, "QCP-n-qscd", {AGE_REP_LEGAL}, LV_ISSUER_QUALIFIED,
     LV_SUBJ_REP_LEGAL, LV_CUSTODY_CLOUD_HSM, 1, 1, LV_QCTYPE_ESIGN, 0, 0,
     KU_SIGN, EKU_PERSON, 0, PERSON_DAYS,
     "Certificado cualificado de representante de persona juridica, claves en "
     "dispositivo cualificado (QSCD) en la nube",
     0, 0},
    {"legal-representative-cloud", "1.6.2",
     "Representative of a legal person, Cloud",
     "Persona Física representante de Persona Jurídica Cloud", "1.4.1.14",
     QCP_N, "QCP-n", {AGE_REP_LEGAL}, LV_ISSUER_QUALIFIED, LV_SUBJ_REP_LEGAL,
     LV_CUSTODY_CLOUD, 1, 0, LV_QCTYPE_ESIGN, 0, 0, KU_SIGN, EKU_PERSON, 0,
     PERSON_DAYS,
     "Certificado cualificado de representante de persona juridica, claves "
     "custodiadas en la nube",
     0, 0},
    {"entity-representative-cloud-hsm", "1.7.1",
     "Representative of an entity without legal personality, Cloud HSM",
     "Persona Física representante de Entidad Sin Personalidad Jurídica Cloud "
     "HSM",
     "1.4.1.15", QCP_N_QSCD, "QCP-n-qscd", {AGE_REP_ENTITY},
     LV_ISSUER_QUALIFIED, LV_SUBJ_REP_ENTITY, LV_CUSTODY_CLOUD_HSM, 1, 1,
     LV_QCTYPE_ESIGN, 0, 0, KU_SIGN, EKU_PERSON, 0, PERSON_DAYS,
     "Certificado cualificado de representante de entidad sin personalidad "
     "juridica, claves en dispositivo cualificado (QSCD) en la nube",
     0, 0},
    {"entity-representative-cloud", "1.7.2",
     "Representative of an entity without legal personality, Cloud",
     "Persona Física representante de Entidad Sin Personalidad Jurídica Cloud",
     "1.4.1.16", QCP_N, "QCP-n", {AGE_REP_ENTITY}, LV_ISSUER_QUALIFIED,
     LV_SUBJ_REP_ENTITY, LV_CUSTODY_CLOUD, 1, 0, LV_QCTYPE_ESIGN, 0, 0,
     KU_SIGN, EKU_PERSON, 0, PERSON_DAYS,
     "Certificado cualificado de representante de entidad sin personalidad "
     "juridica, claves custodiadas en la nube",
     0, 0},
    {"web-ov", "104.1", "Website authentication, OV (Secure Site Pro)",
     "Secure Site Pro", "1.4.1.17", OVCP, "OVCP", {CABF_OV},
     LV_ISSUER_STANDARD, LV_SUBJ_WEB_OV, LV_CUSTODY_SUBSCRIBER, 0, 0,
     LV_QCTYPE_NONE, 0, 0, KU_WEB, EKU_WEB, 0, WEB_DAYS,
     "Certificado de autenticacion de sitio web con validacion de "
     "organizacion",
     0, 0},
    {"web-ov-wildcard", "104.2",
     "Website authentication, OV with wildcard (Secure Site Pro Wildcard)",
     "Secure Site Pro con Wildcards", "1.4.1.18", OVCP, "OVCP", {CABF_OV},
     LV_ISSUER_STANDARD, LV_SUBJ_WEB_OV, LV_CUSTODY_SUBSCRIBER, 0, 0,
     LV_QCTYPE_NONE, 0, 1, KU_WEB, EKU_WEB, 0, WEB_DAYS,
     "Certificado de autenticacion de sitio web con validacion de "
     "organizacion y comodin",
     0, 0},
    /* Not a CPS §1.2.1 type: the delegated OCSP responder of each CA
     * (RFC 6960 §4.2.2.2), issued by the ceremony. */
    {"ocsp-responder", "9.1", "OCSP responder (delegated)",
     "Respondedor OCSP delegado", "4.10", NULL, NULL, {NULL},
     LV_ISSUER_QUALIFIED, LV_SUBJ_TSA, LV_CUSTODY_PROVIDER, 0, 0,
     LV_QCTYPE_NONE, 0, 0, "digitalSignature", "OCSPSigning", 0, 365,
     "Respondedor OCSP de la autoridad de certificacion", 1, 1},
    /* Issue 8: the key that seals the audit trail (R9.2, CPS §5.4.4);
     * issued by the non-qualified CA on first use, never to a subscriber. */
    {"audit-seal", "9.2", "Audit trail seal (internal)",
     "Sello del registro de auditoría", "5.4.4", NULL, NULL, {NULL},
     LV_ISSUER_STANDARD, LV_SUBJ_TSA, LV_CUSTODY_PROVIDER, 0, 0,
     LV_QCTYPE_NONE, 0, 0, "digitalSignature,nonRepudiation", NULL, 0, 1826,
     "Sello del registro de auditoria del prestador", 1, 0},
};

const lv_profile *ca_profiles(size_t *count)
{
    *count = sizeof profiles / sizeof profiles[0];
    return profiles;
}

const lv_profile *ca_profile_find(const char *id)
{
    size_t n;
    const lv_profile *all = ca_profiles(&n);
    for (size_t i = 0; id != NULL && i < n; i++) {
        if (strcmp(all[i].id, id) == 0)
            return &all[i];
    }
    return NULL;
}

int ca_profile_oid(const lv_config *cfg, const lv_profile *p, char *out,
                   size_t cap)
{
    int n = snprintf(out, cap, "%s.%s", cfg->oid_arc, p->oid_suffix);
    return (n < 0 || (size_t)n >= cap) ? LV_EINVAL : 0;
}
