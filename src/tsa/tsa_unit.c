/* Time-stamping units (TSUs, ETSI EN 319 421 §4.2): the cas rows of role
 * "tsa" — the ceremony's RSA-4096 "tsa" and any added by an operator with
 * tsa_add_unit (for example an ECDSA P-256 unit, R4.1).  What every token
 * of a unit repeats (signing-certificate attribute, digest, name, the
 * qualified statement) is computed once per CA context, on first use
 * (ca_attachment). */
#include "tsa/tsa_internal.h"

#include <openssl/ess.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EN 319 422 Annex A: TSTInfo.policy is EN 319 421's best practices policy
 * (§5.2), which relying parties look for, or the TSA's own identifier when
 * its CPS incorporates or further constrains that policy (tsa_policy_oid). */
int tsa_policy(const lv_config *cfg, char *out, size_t cap)
{
    const char *oid =
        cfg->tsa_policy_oid[0] ? cfg->tsa_policy_oid : LV_TSA_POLICY_BTSP;
    int n = snprintf(out, cap, "%s", oid);
    return (n < 0 || (size_t)n >= cap) ? LV_EINVAL : 0;
}

/* ---- loading ------------------------------------------------------------- */

/* RFC 5816 §2.2.1 / EN 319 422 §5.2.2: ESSCertIDv2 with SHA-256 (the
 * default, so its AlgorithmIdentifier is omitted); no issuerSerial, as
 * OpenSSL's own TSA writes it. */
static ASN1_STRING *ess_attribute(X509 *cert)
{
    ESS_SIGNING_CERT_V2 *sc =
        OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), cert, NULL, 0);
    unsigned char *der = NULL;
    int len = sc ? i2d_ESS_SIGNING_CERT_V2(sc, &der) : -1;
    ESS_SIGNING_CERT_V2_free(sc);
    ASN1_STRING *s = len > 0 ? ASN1_STRING_type_new(V_ASN1_SEQUENCE) : NULL;
    if (s != NULL)
        ASN1_STRING_set0(s, der, len);
    else
        OPENSSL_free(der);
    return s;
}

/* CPS §7.1.3: SHA-256; a P-384 key signs with SHA-384 (RFC 5480 §4).
 * Fetched once: OpenSSL 3 would otherwise fetch it again for every digest
 * and signature of every token. */
static EVP_MD *unit_md(EVP_PKEY *pub)
{
    int p384 = EVP_PKEY_is_a(pub, "EC") && EVP_PKEY_get_bits(pub) > 256;
    return EVP_MD_fetch(NULL, p384 ? "SHA384" : "SHA256", NULL);
}

/* EN 319 422 §9.1, EN 319 421 §8.2: a unit whose certificate is qualified
 * marks every token it signs as a qualified electronic time-stamp. */
static int unit_qualify(tsa_unit *u, const lv_ca_entry *e, lv_err *err)
{
    int qualified = tsa_cert_qualified(e->cert);
    if (qualified < 0)
        return lv_fail_ssl(err, LV_ECRYPTO,
                           "TSU %s: unreadable qcStatements in its "
                           "certificate",
                           e->name);
    u->qtst = qualified ? tsa_qtst_extension() : NULL;
    if (qualified && u->qtst == NULL)
        return lv_fail_ssl(err, LV_ECRYPTO,
                           "TSU %s: cannot encode esi4-qtstStatement-1",
                           e->name);
    return 0;
}

static int unit_init(tsa_unit *u, const lv_ca_entry *e, lv_err *err)
{
    X509_NAME *dn = X509_NAME_dup(X509_get_subject_name(e->cert));
    u->entry = e;
    u->pub = X509_get_pubkey(e->cert);
    u->ess = ess_attribute(e->cert);
    u->name = GENERAL_NAME_new();
    if (u->name && dn) {
        GENERAL_NAME_set0_value(u->name, GEN_DIRNAME, dn);
        dn = NULL;
    }
    X509_NAME_free(dn);
    u->md = u->pub ? unit_md(u->pub) : NULL;
    if (!u->pub || !u->md || !u->ess || !u->name || dn)
        return lv_fail_ssl(err, LV_ECRYPTO, "TSU %s: cannot prepare", e->name);
    return unit_qualify(u, e, err);
}

static void unit_free(tsa_unit *u)
{
    EVP_PKEY_free(u->pub);
    EVP_MD_free(u->md);
    ASN1_STRING_free(u->ess);
    GENERAL_NAME_free(u->name);
    X509_EXTENSION_free(u->qtst);
}

/* RFC 3161 §2.4.2 Accuracy from milliseconds; zero fields stay absent. */
static TS_ACCURACY *accuracy_new(int ms)
{
    TS_ACCURACY *acc = TS_ACCURACY_new();
    ASN1_INTEGER *sec = ASN1_INTEGER_new(), *milli = ASN1_INTEGER_new();
    int ok = acc && sec && milli && ASN1_INTEGER_set(sec, ms / 1000) &&
             ASN1_INTEGER_set(milli, ms % 1000) &&
             (ms < 1000 || TS_ACCURACY_set_seconds(acc, sec)) &&
             (ms % 1000 == 0 || TS_ACCURACY_set_millis(acc, milli));
    ASN1_INTEGER_free(sec);
    ASN1_INTEGER_free(milli);
    if (!ok) {
        TS_ACCURACY_free(acc);
        return NULL;
    }
    return acc;
}

static int is_unit(const lv_ca_entry *e)
{
    return strcmp(e->role, "tsa") == 0 && strcmp(e->status, "active") == 0;
}

static int tsa_settings(tsa_state *tsa, const lv_config *cfg, lv_err *err)
{
    char oid[160];
    struct timespec res = {0, 1};
    const char *hook = getenv(LV_TSA_CLOCK_HOOK);
    LV_TRY(tsa_policy(cfg, oid, sizeof oid));
    tsa->policy = OBJ_txt2obj(oid, 1);
    tsa->accuracy = accuracy_new(cfg->tsa_accuracy_ms);
    if (!tsa->policy || !tsa->accuracy)
        return lv_fail_ssl(err, LV_EINVAL, "TSA policy %s or accuracy", oid);
    clock_getres(CLOCK_REALTIME, &res);
    tsa->digits = res.tv_sec > 0 ? 0 : tsa_clock_digits(res.tv_nsec);
    tsa->force_unsync = hook != NULL && hook[0] != '\0';
    atomic_init(&tsa->clock_state, TSA_CLOCK_UNKNOWN);
    return 0;
}

static void tsa_state_free(void *arg)
{
    tsa_state *tsa = arg;
    if (tsa == NULL)
        return;
    for (size_t i = 0; i < tsa->count; i++)
        unit_free(&tsa->units[i]);
    free(tsa->units);
    ASN1_OBJECT_free(tsa->policy);
    TS_ACCURACY_free(tsa->accuracy);
    free(tsa);
}

static int load_units(lv_ca *ca, tsa_state *tsa, lv_err *err)
{
    size_t n = 0;
    const lv_ca_entry *entries = ca_entries(ca, &n);
    tsa->units = calloc(n ? n : 1, sizeof *tsa->units);
    if (tsa->units == NULL)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    LV_TRY(tsa_settings(tsa, ca_config(ca), err));
    for (size_t i = 0; i < n; i++) {
        if (!is_unit(&entries[i]))
            continue;
        LV_TRY(unit_init(&tsa->units[tsa->count], &entries[i], err));
        tsa->count++;
    }
    return 0;
}

static int tsa_state_make(lv_ca *ca, void **out, lv_err *err)
{
    tsa_state *tsa = calloc(1, sizeof *tsa);
    if (tsa == NULL)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = load_units(ca, tsa, err);
    if (rc < 0) {
        tsa_state_free(tsa);
        return rc;
    }
    *out = tsa;
    return 0;
}

int tsa_state_get(lv_ca *ca, tsa_state **out, lv_err *err)
{
    void *tsa = NULL;
    LV_TRY(ca_attachment(ca, CA_ATTACH_TSA, tsa_state_make, tsa_state_free,
                         &tsa, err));
    *out = tsa;
    return 0;
}

const tsa_unit *tsa_unit_find(lv_ca *ca, const char *name)
{
    tsa_state *tsa = NULL;
    if (tsa_state_get(ca, &tsa, NULL) < 0)
        return NULL;
    if (name == NULL || name[0] == '\0')
        name = ca_config(ca)->tsa_unit;
    for (size_t i = 0; i < tsa->count; i++) {
        if (strcmp(tsa->units[i].entry->name, name) == 0)
            return &tsa->units[i];
    }
    return NULL;
}

/* ---- adding a unit ------------------------------------------------------- */

static int check_new_unit(lv_store *st, const char *name, const char *cn,
                          lv_err *err)
{
    lv_ca_rec existing;
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > 31 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
        return lv_fail(err, LV_EINVAL,
                       "a TSU name is 1 to 31 characters of a-z, 0-9 and '-'");
    if (cn == NULL || cn[0] == '\0' || strlen(cn) > 64)
        return lv_fail(err, LV_EINVAL,
                       "a TSU common name has 1 to 64 characters (X.520)");
    int rc = store_ca_get(st, name, &existing, NULL);
    if (rc == 0) {
        store_ca_rec_free(&existing);
        return lv_fail(err, LV_EEXISTS, "a CA or unit named %s exists", name);
    }
    if (rc != LV_ENOTFOUND)
        return lv_fail(err, rc, "cannot read the store");
    return 0;
}

/* The cas row and its audit entries in one transaction. */
static int record_unit(lv_ca *ca, lv_store *st, const char *name,
                       const char *actor, const lv_issue_result *r, lv_err *err)
{
    lv_ca_rec rec;
    char type[16] = "";
    const lv_ca_entry *issuer = ca_issuer_for(ca, profile_find("tsa"));
    int rc = ca_key_public(ca, r->key_id, NULL, NULL, type, err);
    if (rc == 0)
        rc = ca_rec_fill(&rec, name, "tsa", issuer ? issuer->name : "",
                         r->key_id, r->cert);
    if (rc < 0)
        return rc;
    json_t *key = json_pack("{s:s, s:s, s:s}", "key_id", r->key_id, "type",
                            type, "class", "service");
    json_t *unit =
        json_pack("{s:s, s:s, s:s, s:s}", "role", "tsa", "issuer", rec.issuer,
                  "serial", rec.serial, "key_id", rec.key_id);
    if ((rc = store_begin(st, err)) == 0) {
        if ((rc = store_ca_insert(st, &rec, err)) == 0 &&
            (rc = audit_log(st, actor, "key.generate", name, LV_AUDIT_SUCCESS,
                            key, err)) == 0 &&
            (rc = audit_log(st, actor, "ca.create", name, LV_AUDIT_SUCCESS,
                            unit, err)) == 0)
            rc = store_commit(st, err);
        if (rc < 0)
            store_rollback(st);
    }
    json_decref(key);
    json_decref(unit);
    OPENSSL_free(rec.cert_der);
    return rc;
}

/* CPS §5.4.1: a refused request is a security event too (ca_issue audits
 * its own refusals as cert.issue). */
static void audit_refusal(lv_store *st, const char *name, const char *actor,
                          const lv_err *why)
{
    json_t *details =
        json_pack("{s:s, s:s}", "role", "tsa", "reason", why ? why->msg : "");
    audit_log_standalone(st, actor, "ca.create", name ? name : "",
                         LV_AUDIT_FAILURE, details, NULL);
    json_decref(details);
}

int tsa_add_unit(lv_ca *ca, lv_store *st, const char *name, const char *cn,
                 const char *key_type, const char *actor, lv_issue_result *out,
                 lv_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_new_unit(st, name, cn, err);
    if (rc < 0) {
        audit_refusal(st, name, actor, err);
        return rc;
    }
    json_t *subject = ca_provider_subject(ca_config(ca), cn);
    lv_issue_req req = {.profile_id = "tsa",
                        .subject = subject,
                        .actor = actor,
                        .key_type = key_type ? key_type : "rsa4096"};
    rc = subject ? ca_issue(ca, st, &req, out, err) : LV_ENOMEM;
    json_decref(subject);
    if (rc == 0 && (rc = record_unit(ca, st, name, actor, out, err)) < 0)
        lv_log(LV_LOG_ERROR,
               "tsa: certificate %s was issued but unit %s not recorded; "
               "revoke it before trying again",
               out->serial, name);
    if (rc < 0)
        ca_issue_result_free(out);
    return rc;
}
