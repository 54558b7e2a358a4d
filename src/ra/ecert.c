/* Telematic registration (R2.2, Cl@ve "Advanced Level Registration ...
 * telematically, after authentication of the citizen by means of a
 * recognized electronic certificate"): a CMS SignedData whose signer
 * certificate chains to the configured trust list and is not revoked.
 *
 * Limits (docs/ARCHITECTURE.md): revocation is checked against the CRLs
 * found in the trust bundle for the signer's issuer (none there: not
 * checked, unless we issued the certificate ourselves) and our own store;
 * no CRL or OCSP is fetched over the network.
 *
 * The second path of R2.2 (issue 17 item 4): the recognised certificate
 * presented as the TLS client certificate on llaved's https, the contact
 * data as a JSON body; the handshake proved possession of the key, so no
 * signing time is needed, and the evidence is the certificate and the
 * digest of the request. */
#include "ra/ra_internal.h"

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONTENT_MAX 16384

typedef struct ecert {
    CMS_ContentInfo *cms;
    STACK_OF(X509) *certs; /* certificates carried in the CMS */
    X509 *signer;          /* borrowed from certs */
    X509_STORE *trust;
    json_t *content;
    char actor[96];
} ecert;

static void ecert_free(ecert *e)
{
    CMS_ContentInfo_free(e->cms);
    sk_X509_pop_free(e->certs, X509_free);
    X509_STORE_free(e->trust);
    json_decref(e->content);
}

/* "-----BEGIN CMS-----" (openssl cms -outform PEM) or PKCS7. */
static CMS_ContentInfo *pem_cms(BIO *bio)
{
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;
    CMS_ContentInfo *cms = NULL;
    if (PEM_read_bio(bio, &name, &header, &data, &len) == 1 &&
        (strcmp(name, "CMS") == 0 || strcmp(name, "PKCS7") == 0)) {
        const unsigned char *p = data;
        cms = d2i_CMS_ContentInfo(NULL, &p, len);
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    return cms;
}

/* ---- parsing ------------------------------------------------------------- */

static int parse_cms(ecert *e, const unsigned char *body, size_t len,
                     lv_err *err)
{
    BIO *bio = BIO_new_mem_buf(body, (int)len);
    if (bio == NULL)
        return LV_ENOMEM;
    if (len > 11 && memcmp(body, "-----BEGIN ", 11) == 0)
        e->cms = pem_cms(bio);
    else
        e->cms = d2i_CMS_bio(bio, NULL);
    BIO_free(bio);
    if (e->cms == NULL ||
        OBJ_obj2nid(CMS_get0_type(e->cms)) != NID_pkcs7_signed)
        return lv_fail(err, LV_EINVAL,
                       "the body is not a CMS SignedData (openssl cms -sign "
                       "-nodetach, DER or PEM)");
    ASN1_OCTET_STRING **content = CMS_get0_content(e->cms);
    if (content == NULL || *content == NULL)
        return lv_fail(err, LV_EINVAL,
                       "the signed request must carry its content "
                       "(-nodetach)");
    return 0;
}

/* Exactly one signer, whose certificate travels in the CMS. */
static int find_signer(ecert *e, CMS_SignerInfo **si_out, lv_err *err)
{
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(e->cms);
    if (sis == NULL || sk_CMS_SignerInfo_num(sis) != 1)
        return lv_fail(err, LV_EINVAL, "the request must have one signer");
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
    e->certs = CMS_get1_certs(e->cms);
    for (int i = 0; e->certs && i < sk_X509_num(e->certs); i++) {
        if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(e->certs, i)) == 0)
            e->signer = sk_X509_value(e->certs, i);
    }
    if (e->signer == NULL)
        return lv_fail(err, LV_EINVAL,
                       "the signer's certificate is not in the request");
    *si_out = si;
    return 0;
}

/* ---- trust (R2.2) ---------------------------------------------------------
 */

static int trust_path(const lv_config *cfg, char *out, size_t cap)
{
    if (cfg->ecert_trust_file[0] == '/')
        return snprintf(out, cap, "%s", cfg->ecert_trust_file) < (int)cap
                   ? 0
                   : LV_EINVAL;
    return lv_path_join(out, cap, cfg->dir, cfg->ecert_trust_file);
}

/* Is there a CRL of the signer's issuer in the bundle?  Then it is checked;
 * OpenSSL fails the chain for a revoked certificate or a stale CRL. */
static int issuer_has_crl(X509_STORE *store, const X509 *cert)
{
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
    const X509_NAME *issuer = X509_get_issuer_name(cert);
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509_CRL *crl =
            X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
        if (crl && X509_NAME_cmp(X509_CRL_get_issuer(crl), issuer) == 0)
            return 1;
    }
    return 0;
}

static int load_trust(ecert *e, const lv_config *cfg, lv_err *err)
{
    char path[1024];
    struct stat sb;
    if (trust_path(cfg, path, sizeof path) < 0)
        return lv_fail(err, LV_EINVAL, "ecert_trust_file path is too long");
    if (stat(path, &sb) != 0)
        return lv_fail(err, LV_ESTATE,
                       "telematic registration is not configured: no trust "
                       "list at %s (ecert_trust_file)",
                       path);
    e->trust = X509_STORE_new();
    /* certificates and CRLs of the PEM bundle */
    if (e->trust == NULL || X509_STORE_load_file(e->trust, path) != 1)
        return lv_fail_ssl(err, LV_ESTATE, "cannot load the trust list %s",
                           path);
    return 0;
}

static int verify_chain(ecert *e, lv_err *err)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL ||
        !X509_STORE_CTX_init(ctx, e->trust, e->signer, e->certs)) {
        X509_STORE_CTX_free(ctx);
        return LV_ENOMEM;
    }
    unsigned long flags = X509_V_FLAG_X509_STRICT;
    if (issuer_has_crl(e->trust, e->signer))
        flags |= X509_V_FLAG_CRL_CHECK;
    X509_STORE_CTX_set_flags(ctx, flags);
    int ok = X509_verify_cert(ctx) == 1;
    int code = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    if (!ok)
        return lv_fail(err, LV_EAUTH,
                       "the signer's certificate is not recognised: %s",
                       X509_verify_cert_error_string(code));
    return 0;
}

/* A certificate we issued ourselves is judged by our own status too (the
 * CRL in the bundle may be older than a revocation made a minute ago). */
static int check_own_status(lv_store *st, const X509 *cert, lv_err *err)
{
    char serial[65];
    lv_cert_rec rec;
    unsigned char *der = NULL;
    if (ca_serial_hex(X509_get0_serialNumber(cert), serial) < 0 ||
        store_cert_get(st, serial, &rec, NULL) < 0)
        return 0;
    int len = i2d_X509(cert, &der);
    int ours = len > 0 && (size_t)len == rec.der_len &&
               memcmp(der, rec.der, rec.der_len) == 0;
    int revoked = ours && rec.status != LV_CERT_VALID;
    OPENSSL_free(der);
    store_cert_rec_free(&rec);
    return revoked ? lv_fail(err, LV_EAUTH,
                             "the signer's certificate %s is revoked", serial)
                   : 0;
}

/* Replay of an old request is refused: openssl cms -sign adds signingTime. */
static int check_signing_time(CMS_SignerInfo *si, lv_err *err)
{
    int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
    X509_ATTRIBUTE *attr = idx >= 0 ? CMS_signed_get_attr(si, idx) : NULL;
    ASN1_TYPE *v = attr ? X509_ATTRIBUTE_get0_type(attr, 0) : NULL;
    struct tm tm;
    if (v == NULL ||
        (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME) ||
        !ASN1_TIME_to_tm((ASN1_TIME *)v->value.ptr, &tm))
        return lv_fail(err, LV_EINVAL, "the request has no signingTime");
    int64_t t = (int64_t)timegm(&tm), now = lv_now();
    if (t > now + RA_ECERT_MAX_AGE || t < now - RA_ECERT_MAX_AGE)
        return lv_fail(err, LV_EAUTH,
                       "the request was signed more than %d s from now",
                       RA_ECERT_MAX_AGE);
    return 0;
}

/* The signature over the content; the chain was verified above. */
static int verify_signature(ecert *e, lv_err *err)
{
    BIO *out = BIO_new(BIO_s_mem());
    char *data = NULL;
    json_error_t je;
    if (out == NULL)
        return LV_ENOMEM;
    int ok = CMS_verify(e->cms, e->certs, NULL, NULL, out,
                        CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1;
    long len = BIO_get_mem_data(out, &data);
    if (ok && len > 0 && len <= CONTENT_MAX)
        e->content = json_loadb(data, (size_t)len, JSON_REJECT_DUPLICATES, &je);
    BIO_free(out);
    if (!ok)
        return lv_fail_ssl(err, LV_EAUTH, "the signature does not verify");
    if (e->content == NULL || !json_is_object(e->content))
        return lv_fail(err, LV_EINVAL,
                       "the signed content must be a JSON object of at most "
                       "%d bytes",
                       CONTENT_MAX);
    return 0;
}

static int64_t asn1_unix(const ASN1_TIME *t)
{
    struct tm tm;
    return ASN1_TIME_to_tm(t, &tm) ? (int64_t)timegm(&tm) : 0;
}

/* ---- the person ------------------------------------------------------------
 */

static int name_entry(const X509_NAME *name, int nid, char *out, size_t cap)
{
    int idx = X509_NAME_get_index_by_NID(name, nid, -1);
    unsigned char *utf8 = NULL;
    out[0] = '\0';
    if (idx < 0)
        return 0;
    ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    int len = ASN1_STRING_to_UTF8(&utf8, v);
    if (len > 0 && (size_t)len < cap && memchr(utf8, '\0', (size_t)len) == NULL)
        snprintf(out, cap, "%.*s", len, (const char *)utf8);
    OPENSSL_free(utf8);
    return 0;
}

/* serialNumber IDCES-12345678Z (ETSI EN 319 412-1) or the bare number the
 * Spanish DNIe carries. */
static int person_from_cert(const X509 *cert, json_t *reg, lv_err *err)
{
    const X509_NAME *name = X509_get_subject_name(cert);
    char serial[80] = "", given[80] = "", surname[140] = "", country[8] = "";
    name_entry(name, NID_serialNumber, serial, sizeof serial);
    name_entry(name, NID_givenName, given, sizeof given);
    name_entry(name, NID_surname, surname, sizeof surname);
    name_entry(name, NID_countryName, country, sizeof country);
    const char *number =
        strncmp(serial, "IDCES-", 6) == 0 ? serial + 6 : serial;
    if (number[0] == '\0' || strchr(number, '-') != NULL)
        return lv_fail(err, LV_EINVAL,
                       "the certificate's serialNumber '%s' is not a Spanish "
                       "DNI/NIE (IDCES-...)",
                       serial);
    if (given[0] == '\0' || surname[0] == '\0')
        return lv_fail(err, LV_EINVAL,
                       "the certificate names no givenName and surname");
    json_t *doc = json_pack("{s:s, s:s, s:s}", "type",
                            strchr("XYZ", number[0]) ? "NIE" : "DNI", "number",
                            number, "country", "ES");
    json_object_set_new(reg, "document", doc);
    json_object_set_new(reg, "given_name", json_string(given));
    json_object_set_new(reg, "surname", json_string(surname));
    json_object_set_new(reg, "country",
                        json_string(country[0] ? country : "ES"));
    return 0;
}

/* The registration request ra_citizen_parse reads: the person from the
 * certificate, contact data from the signed content. */
static int build_registration(const ecert *e, json_t **out, lv_err *err)
{
    static const char *const keys[] = {"mobile", "email", "birth_date",
                                       "document_expiry", NULL};
    char iso[32];
    LV_TRY(ra_check_keys(e->content, keys, "the signed content", err));
    json_t *reg = json_object();
    int rc = person_from_cert(e->signer, reg, err);
    for (size_t i = 0; rc == 0 && i < 3; i++) {
        json_t *v = json_object_get(e->content, keys[i]);
        if (v)
            json_object_set(reg, keys[i], v);
    }
    json_t *expiry = json_object_get(e->content, "document_expiry");
    json_t *doc = json_object_get(reg, "document");
    /* without a declared document expiry, the recognised certificate's
     * validity bounds the registration (R2.4) */
    lv_time_iso(asn1_unix(X509_get0_notAfter(e->signer)), iso);
    if (rc == 0)
        json_object_set_new(doc, "expiry",
                            expiry ? json_incref(expiry) : json_string(iso));
    if (rc < 0) {
        json_decref(reg);
        return rc;
    }
    *out = reg;
    return 0;
}

/* ---- putting it together ----------------------------------------------------
 */

static int authenticate(ecert *e, lv_store *st, const lv_config *cfg,
                        const unsigned char *body, size_t len, lv_err *err)
{
    CMS_SignerInfo *si = NULL;
    LV_TRY(parse_cms(e, body, len, err));
    LV_TRY(find_signer(e, &si, err));
    name_entry(X509_get_subject_name(e->signer), NID_serialNumber, e->actor + 6,
               sizeof e->actor - 6);
    LV_TRY(load_trust(e, cfg, err));
    LV_TRY(verify_chain(e, err));
    LV_TRY(check_own_status(st, e->signer, err));
    LV_TRY(verify_signature(e, err));
    return check_signing_time(si, err);
}

/* The evidence kept 15 years (R2.6, R9.3): the signed request itself and
 * who signed it. */
static json_t *evidence(const ecert *e, const unsigned char *body, size_t len,
                        char ref[80])
{
    unsigned char md[32], *der = NULL;
    char hex[65], serial[65] = "", *b64 = NULL, issuer[256];
    int der_len = i2d_CMS_ContentInfo(e->cms, &der);
    SHA256(body, len, md);
    lv_hex_encode(md, sizeof md, hex);
    snprintf(ref, 80, "cms-sha256:%s", hex);
    /* the evidence keeps what it can: a serial over 32 bytes stays "", a
     * CMS that does not encode is left out ("cms" absent) */
    lv_ignore(ca_serial_hex(X509_get0_serialNumber(e->signer), serial));
    X509_NAME_oneline(X509_get_issuer_name(e->signer), issuer, sizeof issuer);
    if (der_len > 0)
        lv_ignore(lv_b64_encode(der, (size_t)der_len, &b64));
    OPENSSL_free(der);
    json_t *j = json_pack("{s:s, s:s, s:s?}", "signer_issuer", issuer,
                          "signer_serial", serial, "cms", b64);
    free(b64);
    return j;
}

/* The registration from an authenticated ecert (signer and content set):
 * the person from the certificate, contact data from the content. */
static int register_person(lv_auth *auth, lv_store *st, ecert *e,
                           json_t *details, const char *ref, const char *method,
                           ra_registered *out, lv_err *err)
{
    json_t *reg = NULL;
    lv_citizen_rec c;
    lv_iddoc_rec doc;
    int rc = build_registration(e, &reg, err);
    if (rc == 0)
        rc = ra_citizen_parse_opt(reg, lv_now(), 0, &c, &doc, err);
    /* R2.2: a recognised certificate is an advanced registration */
    RA_COPY(c.level, "advanced");
    ra_origin origin = {e->actor, method};
    if (rc == 0)
        rc = ra_register_records(auth, st, &c, &doc, &origin, ref, details, out,
                                 err);
    json_decref(reg);
    return rc;
}

/* CPS §5.4.1: a failed authentication is a security event. */
static void audit_auth_failure(lv_store *st, const ecert *e, const char *ip,
                               const char *method, const lv_err *err)
{
    json_t *extra = json_pack("{s:s}", "ip", ip ? ip : "");
    ra_audit_refusal(st, e->actor, "citizen.register", method, err, extra);
    json_decref(extra);
}

static void ecert_begin(ecert *e, ra_registered *out)
{
    memset(e, 0, sizeof *e);
    memset(out, 0, sizeof out[0]);
    snprintf(e->actor, sizeof e->actor, "ecert:");
}

/* After authentication (rc): a failure audited, else the registration
 * with its evidence (details, owned). */
static int ecert_finish(lv_auth *auth, lv_store *st, ecert *e, int rc,
                        const char *ip, const char *method, json_t *details,
                        const char *ref, ra_registered *out, lv_err *err)
{
    if (rc == LV_EAUTH)
        audit_auth_failure(st, e, ip, method, err);
    if (rc == 0)
        rc = details
                 ? register_person(auth, st, e, details, ref, method, out, err)
                 : lv_fail(err, LV_ENOMEM, "out of memory");
    json_decref(details);
    ecert_free(e);
    return rc;
}

/* ---- the TLS client certificate path (issue 17 item 4) --------------------
 */

static int tls_parse(ecert *e, const unsigned char *const *der,
                     const size_t *der_len, int n, const json_t *content,
                     lv_err *err)
{
    if (n < 1)
        return lv_fail(err, LV_EAUTH, "no client certificate was presented");
    e->certs = sk_X509_new_null();
    for (int i = 0; e->certs && i < n; i++) {
        const unsigned char *p = der[i];
        X509 *x = d2i_X509(NULL, &p, (long)der_len[i]);
        if (!x || !sk_X509_push(e->certs, x)) {
            X509_free(x);
            return lv_fail(err, LV_EINVAL, "a client certificate is malformed");
        }
    }
    if (!e->certs)
        return LV_ENOMEM;
    e->signer = sk_X509_value(e->certs, 0);
    if (!json_is_object(content))
        return lv_fail(err, LV_EINVAL,
                       "the body must be a JSON object {mobile, email, ...}");
    e->content = json_deep_copy(content);
    return e->content ? 0 : LV_ENOMEM;
}

static json_t *tls_evidence(const ecert *e, const unsigned char *const *der,
                            const size_t *der_len, const unsigned char *body,
                            size_t len, char ref[80])
{
    unsigned char md[32];
    char hex[65], serial[65] = "", issuer[256], *b64 = NULL;
    SHA256(body, len, md);
    lv_hex_encode(md, sizeof md, hex);
    snprintf(ref, 80, "tls-sha256:%s", hex);
    lv_ignore(ca_serial_hex(X509_get0_serialNumber(e->signer), serial));
    X509_NAME_oneline(X509_get_issuer_name(e->signer), issuer, sizeof issuer);
    lv_ignore(lv_b64_encode(der[0], der_len[0], &b64));
    json_t *j = json_pack("{s:s, s:s, s:s?, s:s}", "signer_issuer", issuer,
                          "signer_serial", serial, "certificate", b64,
                          "request_sha256", hex);
    free(b64);
    return j;
}

/* The TLS path's authentication: the chain and status checks of the CMS
 * path on the client certificate. */
static int authenticate_tls(ecert *e, lv_store *st, const lv_config *cfg,
                            const ra_ecert_proof *p, lv_err *err)
{
    LV_TRY(tls_parse(e, p->peer_der, p->peer_len, p->npeer, p->content, err));
    name_entry(X509_get_subject_name(e->signer), NID_serialNumber, e->actor + 6,
               sizeof e->actor - 6);
    LV_TRY(load_trust(e, cfg, err));
    LV_TRY(verify_chain(e, err));
    return check_own_status(st, e->signer, err);
}

int ra_register_ecert(lv_auth *auth, lv_store *st, const lv_config *cfg,
                      const ra_ecert_proof *p, const char *ip,
                      ra_registered *out, lv_err *err)
{
    ecert e;
    char ref[80];
    int tls = p->content != NULL;
    ecert_begin(&e, out);
    int rc = tls ? authenticate_tls(&e, st, cfg, p, err)
                 : authenticate(&e, st, cfg, p->cms, p->cms_len, err);
    json_t *details = NULL;
    if (rc == 0)
        details = tls ? tls_evidence(&e, p->peer_der, p->peer_len, p->body,
                                     p->body_len, ref)
                      : evidence(&e, p->cms, p->cms_len, ref);
    return ecert_finish(auth, st, &e, rc, ip, tls ? "ecert-tls" : "ecert",
                        details, ref, out, err);
}
