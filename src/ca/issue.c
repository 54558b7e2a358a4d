/* Issuance of end-entity certificates (R4.3-R4.7, R2.9, R5.1): validate the
 * request, obtain the public key (CSR, key store, or a PKCS#12 key pair),
 * build and sign the certificate, record it with its audit entry. */
#include "ca/ca_internal.h"

#include <openssl/core_names.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400
#define MIN_RSA_BITS 2048 /* R4.1, CPS §6.1.5 */
#define MAX_RSA_BITS 8192

/* ---- request checks --------------------------------------------------------
 */

static int check_custody(const lv_profile *p, const lv_issue_req *req,
                         const lv_ca_entry *issuer_override, lv_err *err)
{
    int cloud =
        p->custody == LV_CUSTODY_CLOUD || p->custody == LV_CUSTODY_CLOUD_HSM;
    if (p->internal && issuer_override == NULL)
        return lv_fail(err, LV_EINVAL,
                       "profile '%s' is issued only by the key ceremony",
                       p->id);
    if ((cloud || p->custody == LV_CUSTODY_PROVIDER) && req->csr != NULL)
        return lv_fail(err, LV_EINVAL,
                       "profile '%s' keeps its key in the provider's key store "
                       "(R5.1): a CSR is not accepted",
                       p->id);
    if (p->custody == LV_CUSTODY_SUBSCRIBER && req->csr == NULL &&
        (req->p12_password == NULL || req->p12_password[0] == '\0'))
        return lv_fail(err, LV_EINVAL,
                       "profile '%s' needs a CSR, or a password to deliver the "
                       "key pair as PKCS#12",
                       p->id);
    if (req->p12_password != NULL && strlen(req->p12_password) < 8)
        return lv_fail(err, LV_EINVAL,
                       "the PKCS#12 password must have at least 8 characters");
    return 0;
}

static int check_rsa(const EVP_PKEY *key, lv_err *err)
{
    BIGNUM *e = NULL;
    int bits = EVP_PKEY_get_bits(key);
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS)
        return lv_fail(err, LV_EINVAL,
                       "RSA key of %d bits: %d to %d bits are accepted", bits,
                       MIN_RSA_BITS, MAX_RSA_BITS);
    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e))
        return lv_fail_ssl(err, LV_EINVAL, "RSA key has no public exponent");
    /* CABF BR §6.1.6: odd exponent of at least 65537 */
    int ok = BN_is_odd(e) && BN_num_bits(e) >= 17;
    BN_free(e);
    return ok ? 0 : lv_fail(err, LV_EINVAL, "RSA public exponent is too small");
}

/* R4.1: RSA >= 2048 bits, or ECDSA on P-256 / P-384. */
static int check_public_key(const EVP_PKEY *key, lv_err *err)
{
    char group[64];
    size_t len = 0;
    if (EVP_PKEY_is_a(key, "RSA"))
        return check_rsa(key, err);
    if (EVP_PKEY_is_a(key, "EC") &&
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof group, &len) &&
        (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0 ||
         strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0))
        return 0;
    return lv_fail(err, LV_EINVAL,
                   "unsupported key: RSA (2048+ bits) or EC P-256/P-384 only");
}

/* R4.6: the CSR's signature is the proof of possession. */
static int csr_public_key(X509_REQ *csr, EVP_PKEY **out, lv_err *err)
{
    EVP_PKEY *key = X509_REQ_get_pubkey(csr);
    if (key == NULL)
        return lv_fail_ssl(err, LV_EINVAL, "the CSR has no usable public key");
    int rc = check_public_key(key, err);
    if (rc == 0 && X509_REQ_verify(csr, key) != 1)
        rc = lv_fail(err, LV_EINVAL,
                     "the CSR signature does not verify with its own public "
                     "key (no proof of possession)");
    if (rc < 0) {
        EVP_PKEY_free(key);
        return rc;
    }
    *out = key;
    return 0;
}

int ca_csr_public_key(X509_REQ *csr, EVP_PKEY **out, lv_err *err)
{
    return csr_public_key(csr, out, err);
}

/* R2.9 / CPS §3.1.5: one valid certificate per (subject, subscriber, type). */
static int check_unique(lv_store *st, const lv_profile *p, const lv_subject *s,
                        lv_err *err)
{
    int count = 0;
    if (p->internal)
        return 0; /* the ceremony issues one responder per CA */
    LV_TRY(store_cert_count_valid(st, s->subject_id, s->subscriber_id, p->id,
                                  lv_now(), &count, err));
    if (count > 0)
        return lv_fail(err, LV_EEXISTS,
                       "%s already holds a valid '%s' certificate for "
                       "subscriber %s (CPS §3.1.5): revoke it first",
                       s->subject_id, p->id, s->subscriber_id);
    return 0;
}

/* R6.6: a retired or compromised CA signs CRLs only.  Checked against the
 * store at issuance, so a long-running process whose CA context predates a
 * change-over refuses rather than issuing from the old CA. */
int ca_issuer_check_active(lv_store *st, const lv_ca_entry *issuer, lv_err *err)
{
    lv_ca_status s;
    LV_TRY(store_ca_status_get(st, issuer->name, &s, err));
    if (strcmp(s.status, "active") != 0)
        return lv_fail(err, LV_ESTATE,
                       "CA %s is %s and signs only CRLs (CPS §5.6); its "
                       "successor issues (restart llaved after a change-over)",
                       issuer->name, s.status);
    return 0;
}

/* ---- keys ------------------------------------------------------------------
 */

typedef struct issue_keys {
    EVP_PKEY *public_key;
    EVP_PKEY *p12_key;              /* subscriber key pair to deliver */
    char key_id[CA_KEY_ID_MAX + 1]; /* generated in llave-keyd */
} issue_keys;

/* R4.1: RSA 2048 and up, or ECDSA P-256/P-384 offered additionally; a TSU
 * key is never a smaller RSA key than 4096 bits. */
static int requested_key_type(const lv_profile *p, const char *name,
                              lv_err *err)
{
    static const char *const TYPES[] = {"rsa2048", "rsa3072", "rsa4096",
                                        "ec-p256", "ec-p384"};
    int tsu = p->subject == LV_SUBJ_TSA && !p->internal;
    size_t i = 0;
    while (i < sizeof TYPES / sizeof TYPES[0] && strcmp(TYPES[i], name) != 0)
        i++;
    if (i == sizeof TYPES / sizeof TYPES[0])
        return lv_fail(err, LV_EINVAL, "unknown key type '%s'", name);
    if (tsu && i < 2)
        return lv_fail(err, LV_EINVAL,
                       "a TSU key is RSA 4096 or ECDSA (R4.1, CPS §6.1.5)");
    return 0;
}

/* The key is made inside llave-keyd (R5.1: a citizen's key never exists
 * outside the signature activation module). */
static int generate_in_store(lv_ca *ca, const lv_profile *p,
                             const char *key_type, issue_keys *k, lv_err *err)
{
    const char *cls = p->custody == LV_CUSTODY_PROVIDER ? "service" : "signer";
    /* R4.1: end-entity RSA 2048; the TSU key is RSA 4096 */
    const char *type =
        p->subject == LV_SUBJ_TSA && !p->internal ? "rsa4096" : "rsa2048";
    if (key_type != NULL) {
        LV_TRY(requested_key_type(p, key_type, err));
        type = key_type;
    }
    return ca_key_generate(ca, type, cls, p->id, k->key_id, &k->public_key,
                           err);
}

static int obtain_keys(lv_ca *ca, const lv_profile *p, const lv_issue_req *req,
                       issue_keys *k, lv_err *err)
{
    if (req->key_type != NULL &&
        (req->csr != NULL || p->custody == LV_CUSTODY_SUBSCRIBER))
        return lv_fail(err, LV_EINVAL,
                       "a key type applies only to keys generated in the key "
                       "store");
    if (req->csr != NULL)
        return csr_public_key(req->csr, &k->public_key, err);
    if (p->custody != LV_CUSTODY_SUBSCRIBER)
        return generate_in_store(ca, p, req->key_type, k, err);
    /* CPS §6.1.2: a non-cloud key pair generated by the console (`llave
     * cert issue --p12`) and handed over in PKCS#12; we keep no copy (CPS
     * §6.2.3).  Never generated here: ca/ runs in llaved too, which holds
     * no private key (issue 12). */
    if (req->p12_key == NULL)
        return lv_fail(err, LV_EINVAL,
                       "a PKCS#12 key pair is generated by the console "
                       "(llave cert issue --p12)");
    LV_TRY(check_rsa(req->p12_key, err));
    if (!EVP_PKEY_up_ref(req->p12_key))
        return LV_ECRYPTO;
    k->p12_key = req->p12_key;
    if (!EVP_PKEY_up_ref(k->p12_key))
        return LV_ECRYPTO;
    k->public_key = k->p12_key;
    return 0;
}

static void release_keys(lv_ca *ca, issue_keys *k, int destroy_stored)
{
    /* a key keyd cannot destroy now is an orphan its sweep removes later
     * (issue 11 item 8): the issuance failed either way */
    if (destroy_stored && k->key_id[0] != '\0')
        lv_ignore(ca_key_destroy(ca, k->key_id, NULL));
    EVP_PKEY_free(k->public_key);
    EVP_PKEY_free(k->p12_key);
}

/* ---- the certificate --------------------------------------------------------
 */

/* R2.4: never past the identity document's expiry; RFC 5280 §6.1.3: never
 * past the issuer's own notAfter. */
static int64_t capped_not_after(const lv_profile *p, const lv_subject *s,
                                const lv_ca_entry *issuer, int64_t now)
{
    int64_t end = profile_not_after(p, now);
    if (s->not_after_cap > 0 && s->not_after_cap < end)
        end = s->not_after_cap;
    if (issuer->not_after < end)
        end = issuer->not_after;
    return end;
}

static int build_cert(lv_ca *ca, const lv_ca_entry *issuer, const lv_profile *p,
                      const lv_subject *s, EVP_PKEY *key, X509 **out,
                      lv_err *err)
{
    int64_t now = lv_now();
    ca_cert_params params = {s->dn, key, issuer->cert, now,
                             capped_not_after(p, s, issuer, now)};
    if (params.not_after <= now + DAY)
        return lv_fail(err, LV_EINVAL,
                       "the certificate would be valid for less than a day");
    X509 *cert = NULL;
    int rc = ca_cert_new(&params, &cert, err);
    if (rc == 0)
        rc = profile_add_extensions(cert, issuer->cert, issuer->name, p, s,
                                    &ca->cfg, err);
    if (rc == 0)
        rc = ca_sign_cert(ca, issuer->key_id, cert, err);
    if (rc < 0) {
        X509_free(cert);
        return rc;
    }
    *out = cert;
    return 0;
}

static int make_p12(const lv_ca *ca, const lv_ca_entry *issuer, EVP_PKEY *key,
                    X509 *cert, const char *password, lv_issue_result *out,
                    lv_err *err)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509 *root = ca_cert(ca, ca->cfg.root_name);
    if (chain == NULL || !sk_X509_push(chain, issuer->cert) ||
        !sk_X509_push(chain, root)) {
        sk_X509_free(chain);
        return LV_ENOMEM;
    }
    /* OpenSSL 3 defaults: AES-256-CBC with PBKDF2 and an HMAC-SHA256 MAC */
    PKCS12 *p12 =
        PKCS12_create(password, "llave", key, cert, chain, 0, 0, 0, 0, 0);
    sk_X509_free(chain);
    unsigned char *der = NULL;
    int len = p12 ? i2d_PKCS12(p12, &der) : -1;
    PKCS12_free(p12);
    if (len <= 0)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot build the PKCS#12");
    out->p12 = der;
    out->p12_len = (size_t)len;
    return 0;
}

/* ---- recording
 * ---------------------------------------------------------------- */

static json_t *issue_details(const lv_profile *p, const lv_subject *s,
                             const char *key_id, X509 *cert)
{
    char nb[32], na[32];
    lv_time_iso(ca_time_unix(X509_get0_notBefore(cert)), nb);
    lv_time_iso(ca_time_unix(X509_get0_notAfter(cert)), na);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "profile", p->id,
                     "subject_id", s->subject_id, "subscriber_id",
                     s->subscriber_id, "not_before", nb, "not_after", na,
                     "key_id", key_id ? key_id : "", "test", s->test);
}

static int fill_cert_rec(lv_cert_rec *rec, X509 *cert, const lv_profile *p,
                         const lv_subject *s, const char *issuer_name,
                         const char *key_id)
{
    memset(rec, 0, sizeof *rec);
    LV_TRY(ca_serial_hex(X509_get0_serialNumber(cert), rec->serial));
    snprintf(rec->ca, sizeof rec->ca, "%s", issuer_name);
    snprintf(rec->profile, sizeof rec->profile, "%s", p->id);
    snprintf(rec->subject_id, sizeof rec->subject_id, "%s", s->subject_id);
    snprintf(rec->subscriber_id, sizeof rec->subscriber_id, "%s",
             s->subscriber_id);
    X509_NAME_oneline(X509_get_subject_name(cert), rec->subject_dn,
                      sizeof rec->subject_dn);
    snprintf(rec->key_id, sizeof rec->key_id, "%s", key_id ? key_id : "");
    rec->not_before = ca_time_unix(X509_get0_notBefore(cert));
    rec->not_after = ca_time_unix(X509_get0_notAfter(cert));
    rec->created_at = lv_now();
    rec->status = LV_CERT_VALID;
    rec->revocation_reason = -1;
    rec->test = s->test;
    int len = i2d_X509(cert, &rec->der);
    if (len <= 0)
        return LV_ECRYPTO;
    rec->der_len = (size_t)len;
    return 0;
}

int ca_record_cert(lv_store *st, X509 *cert, const lv_profile *p,
                   const lv_subject *s, const char *issuer_name,
                   const char *key_id, const char *actor, lv_err *err)
{
    lv_cert_rec rec;
    int rc = fill_cert_rec(&rec, cert, p, s, issuer_name, key_id);
    json_t *details = issue_details(p, s, key_id, cert);
    if (rc == 0)
        rc = store_begin(st, err);
    if (rc == 0) {
        /* the pre-check ran before signing; this one closes the race */
        if ((rc = check_unique(st, p, s, err)) == 0 &&
            (rc = store_cert_insert(st, &rec, err)) == 0 &&
            (rc = audit_log(st, actor, "cert.issue", rec.serial,
                            LV_AUDIT_SUCCESS, details, err)) == 0)
            rc = store_commit(st, err);
        if (rc < 0)
            store_rollback(st);
    }
    json_decref(details);
    OPENSSL_free(rec.der);
    return rc;
}

static void audit_refusal(lv_store *st, const lv_issue_req *req,
                          const lv_err *why)
{
    json_t *details = json_pack("{s:s, s:s}", "profile",
                                req->profile_id ? req->profile_id : "",
                                "reason", why ? why->msg : "");
    /* CPS §5.4.1: refused requests are security events too */
    audit_log_standalone(st, req->actor, "cert.issue", req->profile_id,
                         LV_AUDIT_FAILURE, details, NULL);
    json_decref(details);
}

static int issue_signed(lv_ca *ca, lv_store *st, const lv_issue_req *req,
                        const lv_profile *p, const lv_subject *s,
                        const lv_ca_entry *issuer, lv_issue_result *out,
                        lv_err *err)
{
    issue_keys k = {0};
    X509 *cert = NULL;
    if (issuer == NULL)
        return lv_fail(err, LV_ESTATE,
                       "no active %s issuing CA for '%s' (see `llave ca "
                       "list`%s)",
                       profile_issuer_role(p), p->id,
                       p->issuer == LV_ISSUER_TLS
                           ? "; an install made before the TLS CA existed "
                             "gets one with `llave ca add-tls`"
                           : "");
    LV_TRY(ca_issuer_check_active(st, issuer, err));
    int rc = obtain_keys(ca, p, req, &k, err);
    if (rc == 0)
        rc = build_cert(ca, issuer, p, s, k.public_key, &cert, err);
    if (rc == 0)
        rc = ca_record_cert(st, cert, p, s, issuer->name, k.key_id, req->actor,
                            err);
    if (rc == 0 && k.p12_key != NULL)
        rc = make_p12(ca, issuer, k.p12_key, cert, req->p12_password, out, err);
    release_keys(ca, &k, rc < 0);
    if (rc < 0) {
        X509_free(cert);
        return rc;
    }
    out->cert = cert;
    snprintf(out->key_id, sizeof out->key_id, "%s", k.key_id);
    return ca_serial_hex(X509_get0_serialNumber(cert), out->serial);
}

int ca_issue_by(lv_ca *ca, lv_store *st, const lv_issue_req *req,
                const lv_ca_entry *issuer_override, lv_issue_result *out,
                lv_err *err)
{
    const lv_profile *p = profile_find(req->profile_id);
    lv_subject s;
    memset(out, 0, sizeof *out);
    if (p == NULL)
        return lv_fail(err, LV_EINVAL,
                       "unknown profile '%s' (see `llave profile list`)",
                       req->profile_id ? req->profile_id : "");
    LV_TRY(ca_need_keys(ca, "no certificate can be signed", err));
    int rc = check_custody(p, req, issuer_override, err);
    if (rc == 0)
        rc = profile_subject_build(p, req->subject, &s, err);
    if (rc < 0) {
        audit_refusal(st, req, err);
        return rc;
    }
    rc = check_unique(st, p, &s, err);
    if (rc == 0)
        rc = issue_signed(
            ca, st, req, p, &s,
            issuer_override ? issuer_override : ca_issuer_for(ca, p), out, err);
    if (rc < 0)
        audit_refusal(st, req, err);
    profile_subject_free(&s);
    return rc;
}

int ca_issue(lv_ca *ca, lv_store *st, const lv_issue_req *req,
             lv_issue_result *out, lv_err *err)
{
    return ca_issue_by(ca, st, req, NULL, out, err);
}

void ca_issue_result_free(lv_issue_result *r)
{
    if (r == NULL)
        return;
    X509_free(r->cert);
    if (r->p12 != NULL)
        OPENSSL_clear_free(r->p12, r->p12_len);
    memset(r, 0, sizeof *r);
}

/* "VATES-B00000000" → organization_id B00000000, country ES. */
json_t *ca_provider_subject(const lv_config *cfg, const char *cn)
{
    char country[3] = "ES";
    const char *nif = cfg->org_id;
    if (strncmp(nif, "VAT", 3) == 0 && strlen(nif) > 6 && nif[5] == '-') {
        memcpy(country, nif + 3, 2);
        nif += 6;
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "country",
                     cfg->org_country, "organization", cfg->org_name,
                     "organization_id", nif, "organization_country", country,
                     "locality", cfg->org_locality, "common_name", cn);
}
