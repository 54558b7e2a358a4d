/* CAdES signatures (R5.7, ETSI EN 319 122-1; RFC 5652, RFC 5035) for CSC
 * signatures/signDoc: a CMS SignedData whose one SignerInfo carries the
 * signed attributes contentType, signingTime, messageDigest and
 * signing-certificate-v2 (CAdES-B-B), and optionally the unsigned
 * id-aa-signatureTimeStampToken from our own TSA (CAdES-B-T).
 *
 * The signer key stays in keys/: OpenSSL builds the SignerInfo around the
 * certificate's public key (CMS_PARTIAL, nothing is signed), we take the
 * DER of the signed attributes (RFC 5652 §5.4: the SET OF encoding, which
 * PKCS7_ATTR_SIGN gives; pades_signed_attrs_digest), hash it, and llave-keyd
 * signs that digest under a token minted after the SAD was checked and
 * consumed. */
#include "pades/pades.h"
#include "sign/sign_internal.h"

#include <openssl/cms.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

typedef struct cades {
    CMS_ContentInfo *cms;
    CMS_SignerInfo *si;
    X509 *cert;
    const EVP_MD *md;
} cades;

static void cades_free(cades *c)
{
    CMS_ContentInfo_free(c->cms);
    X509_free(c->cert);
}

/* The SignedData skeleton: certificates, the SignerInfo with
 * signing-certificate-v2 (CMS_CADES), no signature yet. */
static int cades_start(const lv_sign_env *env, const char *ca_name, cades *c,
                       int attached, lv_err *err)
{
    unsigned flags = CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP | CMS_CADES;
    c->cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY);
    if (!c->cms)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot start the SignedData");
    /* X509_check_private_key only compares public keys: the public key is
     * all OpenSSL gets, and CMS_PARTIAL keeps it from signing */
    c->si = CMS_add1_signer(c->cms, c->cert, X509_get0_pubkey(c->cert), c->md,
                            flags);
    if (!c->si)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot add the signer");
    X509 *issuer = env->ca ? ca_cert(env->ca, ca_name) : NULL;
    if (issuer && !CMS_add1_cert(c->cms, issuer))
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot add the CA certificate");
    if (!CMS_set_detached(c->cms, !attached))
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot set the content");
    return 0;
}

static int set_content(cades *c, const unsigned char *doc, size_t len,
                       lv_err *err)
{
    ASN1_OCTET_STRING **pos = CMS_get0_content(c->cms);
    if (!pos)
        return lv_fail(err, LV_ECRYPTO, "no content slot");
    ASN1_OCTET_STRING_free(*pos);
    *pos = ASN1_OCTET_STRING_new();
    if (!*pos || !ASN1_OCTET_STRING_set(*pos, doc, (int)len))
        return lv_fail(err, LV_ENOMEM, "out of memory");
    return 0;
}

/* RFC 5652 §11: contentType and messageDigest; §11.3 signingTime. */
static int add_signed_attrs(cades *c, const unsigned char *digest, lv_err *err)
{
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)lv_now());
    int ok =
        t &&
        CMS_signed_add1_attr_by_NID(c->si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                    OBJ_nid2obj(NID_pkcs7_data), -1) &&
        CMS_signed_add1_attr_by_NID(c->si, NID_pkcs9_signingTime, t->type, t,
                                    -1) &&
        CMS_signed_add1_attr_by_NID(c->si, NID_pkcs9_messageDigest,
                                    V_ASN1_OCTET_STRING, digest,
                                    EVP_MD_get_size(c->md));
    ASN1_TIME_free(t);
    return ok ? 0 : lv_fail_ssl(err, LV_ECRYPTO, "cannot add attributes");
}

static int put_signature(const lv_sign_env *env, lv_store *st,
                         const char *actor, cades *c, const char *key_id,
                         lv_err *err)
{
    unsigned char tbs[EVP_MAX_MD_SIZE], *sig = NULL;
    size_t len = 0;
    LV_TRY(pades_signed_attrs_digest(c->si, c->md, tbs, NULL, err));
    LV_TRY(
        sign_with_key(env, st, actor, key_id, c->md, tbs, 1, &sig, &len, err));
    int ok =
        ASN1_STRING_set(CMS_SignerInfo_get0_signature(c->si), sig, (int)len);
    free(sig);
    return ok ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
}

/* ---- CAdES-T: the signature time-stamp (EN 319 122-1 §5.3)
 * ------------------------ */

static int add_timestamp(const lv_sign_env *env, lv_store *st, cades *c,
                         lv_err *err)
{
    ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(c->si);
    unsigned char h[32], *tok = NULL;
    size_t tlen = 0;
    if (!EVP_Digest(ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig),
                    h, NULL, EVP_sha256(), NULL))
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot hash the signature");
    LV_TRY(
        sign_tsa_token(env, st, EVP_sha256(), h, sizeof h, &tok, &tlen, err));
    /* RFC 3161 App. A / RFC 5035: id-aa-signatureTimeStampToken over the
     * signature value, an unsigned attribute */
    int rc = 0;
    if (!CMS_unsigned_add1_attr_by_NID(c->si, NID_id_smime_aa_timeStampToken,
                                       V_ASN1_SEQUENCE, tok, (int)tlen))
        rc = lv_fail_ssl(err, LV_ECRYPTO, "cannot add the time-stamp");
    free(tok);
    return rc;
}

/* ---- signatures/signDoc
 * ------------------------------------------------------------- */

static int doc_digest(const lv_cades_req *req, unsigned char d[EVP_MAX_MD_SIZE],
                      lv_err *err)
{
    if (!req->d.md)
        return lv_fail(err, LV_EINVAL, "hash algorithm: SHA-2 only");
    if (req->d.doc) {
        if (EVP_Digest(req->d.doc, req->d.doc_len, d, NULL, req->d.md, NULL) !=
            1)
            return lv_fail_ssl(err, LV_ECRYPTO, "cannot hash the document");
        return 0;
    }
    if (!req->digest || req->attached)
        return lv_fail(err, LV_EINVAL,
                       "an attached signature needs the document itself");
    memcpy(d, req->digest, (size_t)EVP_MD_get_size(req->d.md));
    return 0;
}

static int cades_build(const lv_sign_env *env, lv_store *st, const char *actor,
                       const lv_cades_req *req, const char *serial,
                       const char *key_id, const unsigned char *digest,
                       cades *c, lv_err *err)
{
    char ca_name[32];
    LV_TRY(sign_cert_x509(st, serial, &c->cert, ca_name, err));
    LV_TRY(cades_start(env, ca_name, c, req->attached, err));
    if (req->attached)
        LV_TRY(set_content(c, req->d.doc, req->d.doc_len, err));
    LV_TRY(add_signed_attrs(c, digest, err));
    LV_TRY(put_signature(env, st, actor, c, key_id, err));
    if (req->timestamp)
        LV_TRY(add_timestamp(env, st, c, err));
    return 0;
}

int sign_csc_sign_cades(const lv_sign_env *env, lv_store *st,
                        const char *citizen_id, const lv_cades_req *req,
                        unsigned char **der, size_t *der_len,
                        lv_sign_refusal *why, lv_err *err)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    char key_id[65], serial[65], actor[96];
    lv_err ignored = {0};
    cades c = {.md = req->d.md};
    *der = NULL;
    *der_len = 0;
    *why = LV_SIGN_OK;
    LV_TRY(ca_need_keys(env->ca, "no signature can be made", err));
    if (!req->d.serial ||
        ca_serial_normalize(req->d.serial, serial, &ignored) < 0)
        return lv_fail(err, LV_EINVAL, "invalid credentialID");
    LV_TRY(doc_digest(req, digest, err));
    LV_TRY(sign_csc_use_sad(st, citizen_id, serial, req->d.sad, req->d.md,
                            digest, 1, "sign.csc.sign_doc", key_id, why, err));
    sign_citizen_actor(citizen_id, actor);
    int rc = cades_build(env, st, actor, req, serial, key_id, digest, &c, err);
    unsigned char *out = NULL;
    int len = rc == 0 ? i2d_CMS_ContentInfo(c.cms, &out) : -1;
    if (rc == 0 && len <= 0)
        rc = lv_fail_ssl(err, LV_ECRYPTO, "cannot encode the CMS");
    cades_free(&c);
    if (rc < 0) {
        sign_csc_sad_give_back(st, citizen_id, serial, req->d.sad, 1, err);
        return rc;
    }
    *der = out;
    *der_len = (size_t)len;
    return 0;
}
