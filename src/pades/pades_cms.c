/* The CMS SignedData of a PAdES signature (EN 319 142-1 §5.1 and §6.3,
 * Table 1; the CAdES of EN 319 122-1 profiled for PDF), detached: its
 * content is the /ByteRange of the file, whose digest is messageDigest.
 * Signed attributes: contentType id-data, messageDigest and
 * signing-certificate-v2 (CMS_CADES), and no signingTime: the claimed time
 * is the signature dictionary's /M (EN 319 142-1 §5.2).  As in
 * sign/sign_cades.c, OpenSSL builds the SignerInfo around the certificate's
 * public key (CMS_PARTIAL: nothing is signed) and the signing callback
 * signs the digest of the DER SET OF signed attributes (RFC 5652 §5.4). */
#include "pades/pades_internal.h"

#include <openssl/cms.h>
#include <openssl/pkcs7.h>
#include <stdlib.h>
#include <string.h>

/* Room for a signature-time-stamp token: a TSA's token with its
 * certificate chain is a few KiB; this leaves ample margin, since the size
 * must be fixed before the token exists. */
#define PADES_TS_RESERVE 16384u

static size_t der_size(X509 *x)
{
    int n = i2d_X509(x, NULL);
    return n > 0 ? (size_t)n : 0;
}

size_t pades_cms_reserve(const pades_opts *o)
{
    EVP_PKEY *pk = X509_get0_pubkey(o->signer);
    int sig = pk ? EVP_PKEY_get_size(pk) : 0;
    size_t n = 4096 + der_size(o->signer) + (size_t)(sig > 0 ? sig : 1024);
    for (int i = 0; i < sk_X509_num(o->chain); i++)
        n += der_size(sk_X509_value(o->chain, i));
    return n + (o->level >= PADES_B_T ? PADES_TS_RESERVE : 0);
}

static int cms_start(const pades_opts *o, CMS_ContentInfo **cms,
                     CMS_SignerInfo **si, lv_err *err)
{
    unsigned flags =
        CMS_PARTIAL | CMS_BINARY | CMS_DETACHED | CMS_NOSMIMECAP | CMS_CADES;
    *cms = CMS_sign(NULL, NULL, NULL, NULL,
                    CMS_PARTIAL | CMS_BINARY | CMS_DETACHED);
    if (!*cms)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot start the SignedData");
    /* EN 319 142-1 §6.3: the signing certificate is in the SignedData */
    *si = CMS_add1_signer(*cms, o->signer, X509_get0_pubkey(o->signer), o->md,
                          flags);
    if (!*si)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot add the signer");
    for (int i = 0; i < sk_X509_num(o->chain); i++)
        if (!CMS_add1_cert(*cms, sk_X509_value(o->chain, i)))
            return lv_fail_ssl(err, LV_ECRYPTO, "cannot add a chain cert");
    return 0;
}

/* RFC 5652 §11.1, §11.2. */
static int add_signed_attrs(const pades_opts *o, CMS_SignerInfo *si,
                            const unsigned char *digest, lv_err *err)
{
    int ok =
        CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                    OBJ_nid2obj(NID_pkcs7_data), -1) &&
        CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest,
                                    V_ASN1_OCTET_STRING, digest,
                                    EVP_MD_get_size(o->md));
    return ok ? 0 : lv_fail_ssl(err, LV_ECRYPTO, "cannot add attributes");
}

int pades_signed_attrs_digest(CMS_SignerInfo *si, const EVP_MD *md,
                              unsigned char *out, unsigned *out_len,
                              lv_err *err)
{
    STACK_OF(X509_ATTRIBUTE) *sk = sk_X509_ATTRIBUTE_new_null();
    unsigned char *der = NULL;
    int n = CMS_signed_get_attr_count(si);
    for (int i = 0; sk && i < n; i++)
        if (!sk_X509_ATTRIBUTE_push(sk, CMS_signed_get_attr(si, i)))
            n = -1;
    int len = sk && n > 0 ? ASN1_item_i2d((ASN1_VALUE *)sk, &der,
                                          ASN1_ITEM_rptr(PKCS7_ATTR_SIGN))
                          : -1;
    sk_X509_ATTRIBUTE_free(sk); /* the attributes belong to the SignerInfo */
    int ok = len > 0 && EVP_Digest(der, (size_t)len, out, out_len, md, NULL);
    OPENSSL_free(der);
    return ok ? 0 : lv_fail_ssl(err, LV_ECRYPTO, "cannot encode attributes");
}

/* The signature the callback returned, checked against the certificate
 * before it goes into the document: a wrong key or a garbled answer is an
 * error here rather than an invalid signature at the relying party.
 * (Not CMS_SignerInfo_verify: it re-encodes the attributes in the order
 * they were added, where the DER that is signed and sent sorts them.) */
static int check_signature(const pades_opts *o, const unsigned char *tbs,
                           size_t tbs_len, const unsigned char *sig, size_t len,
                           lv_err *err)
{
    return lv_digest_sig_ok(o->signer, o->md, tbs, tbs_len, sig, len)
               ? 0
               : lv_fail_ssl(err, LV_ECRYPTO,
                             "the signature does not verify under the signer "
                             "certificate");
}

static int put_signature(const pades_opts *o, CMS_SignerInfo *si, lv_err *err)
{
    unsigned char tbs[EVP_MAX_MD_SIZE], *sig = NULL;
    unsigned tbs_len = 0;
    size_t len = 0;
    LV_TRY(pades_signed_attrs_digest(si, o->md, tbs, &tbs_len, err));
    LV_TRY(o->sign(o->sign_arg, o->md, tbs, tbs_len, &sig, &len, err));
    int rc = sig && len <= 16384
                 ? check_signature(o, tbs, tbs_len, sig, len, err)
                 : lv_fail(err, LV_ECRYPTO,
                           "the signing callback gave no "
                           "signature");
    if (rc == 0 &&
        !ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)len))
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    free(sig);
    return rc;
}

/* EN 319 142-1 §6.3 (B-T) and EN 319 122-1 §5.3: signature-time-stamp, an
 * unsigned attribute whose token's imprint is the digest of the signature
 * value. */
static int add_timestamp(const pades_opts *o, CMS_SignerInfo *si, lv_err *err)
{
    ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
    unsigned char d[EVP_MAX_MD_SIZE], *tok = NULL;
    unsigned dlen = 0;
    size_t tlen = 0;
    if (!EVP_Digest(ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig),
                    d, &dlen, o->md, NULL))
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot hash the signature");
    LV_TRY(pades_ts_token(o, o->md, d, dlen, &tok, &tlen, err));
    int ok = CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken,
                                           V_ASN1_SEQUENCE, tok, (int)tlen);
    free(tok);
    return ok ? 0 : lv_fail_ssl(err, LV_ECRYPTO, "cannot add the time-stamp");
}

static int cms_build(const pades_opts *o, const unsigned char *digest,
                     CMS_ContentInfo **cms, lv_err *err)
{
    CMS_SignerInfo *si = NULL;
    LV_TRY(cms_start(o, cms, &si, err));
    LV_TRY(add_signed_attrs(o, si, digest, err));
    LV_TRY(put_signature(o, si, err));
    if (o->level >= PADES_B_T)
        LV_TRY(add_timestamp(o, si, err));
    return 0;
}

int pades_cms(const pades_opts *o, const unsigned char *digest,
              unsigned char **der, size_t *der_len, lv_err *err)
{
    CMS_ContentInfo *cms = NULL;
    int rc = cms_build(o, digest, &cms, err);
    unsigned char *enc = NULL;
    int len = rc == 0 ? i2d_CMS_ContentInfo(cms, &enc) : -1;
    CMS_ContentInfo_free(cms);
    if (rc == 0 && len <= 0)
        rc = lv_fail_ssl(err, LV_ECRYPTO, "cannot encode the CMS");
    /* malloc'd, like the time-stamp token that takes its place in B-LTA */
    *der = rc == 0 ? malloc((size_t)len) : NULL;
    if (rc == 0 && !*der)
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    if (rc == 0)
        memcpy(*der, enc, (size_t)len);
    OPENSSL_free(enc);
    *der_len = rc == 0 ? (size_t)len : 0;
    return rc;
}
