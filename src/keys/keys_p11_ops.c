/* PKCS#11 back end: signatures and the wrapping of citizens' keys
 * (issue 16 items 2-3, R5.1, CPS §6.2.7.2).
 *
 * Every signature is over a digest computed by the caller: CKM_RSA_PKCS
 * over the DigestInfo that we encode with OpenSSL's X509_SIG (RFC 8017
 * §9.2, PKCS#1 v1.5 as CPS §7.1.3 asks), CKM_ECDSA over the bare digest
 * with the token's r||s turned into the DER ECDSA-Sig-Value of RFC 5480 by
 * OpenSSL's ECDSA_SIG.
 *
 * Citizens' keys (class signer) live outside the token, wrapped with
 * CKM_AES_KEY_WRAP_PAD (RFC 5649) under the token's non-extractable AES
 * key; a signature unwraps the key into a session object (sensitive, not
 * extractable), signs exactly the digests keyd just verified the
 * activation for, and destroys it. */
#include "keys/keys_internal.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define SIG_MAX 1024 /* RSA-4096: 512 bytes; P-384 r||s: 96 */

/* ---- wrap / unwrap ------------------------------------------------------ */
int keys_p11_wrap(keys_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
                  unsigned char **out, size_t *len, lv_err *err)
{
    CK_FUNCTION_LIST_PTR f = keys_p11_fn(p);
    CK_MECHANISM m = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
    CK_ULONG n = 0;
    *out = NULL;
    CK_RV rv = f->C_WrapKey(s, &m, keys_p11_wrap_handle(p), priv, NULL, &n);
    if (rv == CKR_OK && (n == 0 || n > LV_P11_BLOB_MAX))
        rv = CKR_GENERAL_ERROR;
    if (rv == CKR_OK && !(*out = malloc(n)))
        rv = CKR_HOST_MEMORY;
    if (rv == CKR_OK)
        rv = f->C_WrapKey(s, &m, keys_p11_wrap_handle(p), priv, *out, &n);
    if (rv != CKR_OK) {
        free(*out);
        *out = NULL;
        return keys_p11_fail(err, rv, "C_WrapKey (CKM_AES_KEY_WRAP_PAD)");
    }
    *len = n;
    return 0;
}

static int unwrap(keys_p11 *p, CK_SESSION_HANDLE s, const keys_p11_key *k,
                  lv_key_type type, CK_OBJECT_HANDLE *h, lv_err *err)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = keys_p11_is_rsa(type) ? CKK_RSA : CKK_EC;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt},
        {CKA_TOKEN, &no, 1},           {CKA_PRIVATE, &yes, 1},
        {CKA_SENSITIVE, &yes, 1},      {CKA_EXTRACTABLE, &no, 1},
        {CKA_SIGN, &yes, 1},           {CKA_DECRYPT, &no, 1}};
    CK_MECHANISM m = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
    CK_RV rv =
        keys_p11_fn(p)->C_UnwrapKey(s, &m, keys_p11_wrap_handle(p), k->blob,
                                    k->blob_len, t, sizeof t / sizeof t[0], h);
    if (rv == CKR_WRAPPED_KEY_INVALID || rv == CKR_ENCRYPTED_DATA_INVALID)
        return lv_fail(err, LV_ECRYPTO,
                       "PKCS#11: the wrapped key does not open under the "
                       "wrapping key of token \"%s\" (%s)",
                       keys_p11_token(p), keys_p11_rv_name(rv));
    if (rv == CKR_UNWRAPPING_KEY_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID)
        return lv_fail(err, LV_ECRYPTO,
                       "PKCS#11: the citizen-key wrapping key is missing "
                       "from token \"%s\" (removed?): no citizen key can "
                       "sign (%s)",
                       keys_p11_token(p), keys_p11_rv_name(rv));
    return rv == CKR_OK ? 0 : keys_p11_fail(err, rv, "C_UnwrapKey");
}

/* ---- what the token signs ----------------------------------------------- */
/* DigestInfo ::= SEQUENCE { digestAlgorithm, digest OCTET STRING },
 * encoded by OpenSSL (ASN.1 is never written by hand here). */
static int digest_info(const EVP_MD *md, const unsigned char *dgst, size_t dlen,
                       unsigned char **der, int *der_len)
{
    X509_SIG *sig = X509_SIG_new();
    X509_ALGOR *alg = NULL;
    ASN1_OCTET_STRING *os = NULL;
    ASN1_OBJECT *oid = OBJ_nid2obj(EVP_MD_get_type(md));
    *der = NULL;
    *der_len = -1;
    if (sig && oid) {
        X509_SIG_getm(sig, &alg, &os);
        if (X509_ALGOR_set0(alg, oid, V_ASN1_NULL, NULL) &&
            ASN1_OCTET_STRING_set(os, dgst, (int)dlen))
            *der_len = i2d_X509_SIG(sig, der);
    }
    X509_SIG_free(sig);
    return *der_len > 0 ? 0 : LV_ECRYPTO;
}

/* r||s (two halves of equal size, PKCS#11 §2.3.1) to DER. */
static int ecdsa_der(const unsigned char *rs, size_t len, unsigned char **der,
                     size_t *der_len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, (int)(len / 2), NULL);
    BIGNUM *s = BN_bin2bn(rs + len / 2, (int)(len / 2), NULL);
    int n = -1;
    *der = NULL;
    if (sig && r && s && len % 2 == 0 && ECDSA_SIG_set0(sig, r, s)) {
        r = s = NULL; /* owned by sig */
        n = i2d_ECDSA_SIG(sig, der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    if (n <= 0)
        return LV_ECRYPTO;
    *der_len = (size_t)n;
    return 0;
}

static CK_RV token_sign(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s,
                        CK_OBJECT_HANDLE h, CK_MECHANISM_TYPE mech,
                        const unsigned char *in, size_t in_len,
                        unsigned char out[SIG_MAX], size_t *out_len)
{
    CK_MECHANISM m = {mech, NULL, 0};
    CK_ULONG n = SIG_MAX;
    CK_RV rv = f->C_SignInit(s, &m, h);
    if (rv == CKR_OK)
        rv = f->C_Sign(s, (CK_BYTE_PTR)in, in_len, out, &n);
    *out_len = n;
    return rv;
}

/* One signature in the format OpenSSL would give for this key; *sig is
 * malloc'd. */
static int sign_one(keys_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                    lv_key_type type, const EVP_MD *md,
                    const unsigned char *dgst, size_t dlen, unsigned char **sig,
                    size_t *sig_len, lv_err *err)
{
    unsigned char raw[SIG_MAX], *di = NULL;
    size_t raw_len = 0;
    int di_len = 0;
    CK_RV rv;
    *sig = NULL;
    if (keys_p11_is_rsa(type)) {
        if (digest_info(md, dgst, dlen, &di, &di_len) < 0)
            return lv_fail(err, LV_ECRYPTO, "cannot encode a DigestInfo");
        rv = token_sign(keys_p11_fn(p), s, h, CKM_RSA_PKCS, di, (size_t)di_len,
                        raw, &raw_len);
        OPENSSL_free(di);
    } else {
        rv = token_sign(keys_p11_fn(p), s, h, CKM_ECDSA, dgst, dlen, raw,
                        &raw_len);
    }
    if (rv != CKR_OK)
        return keys_p11_fail(err, rv, "C_Sign");
    if (!keys_p11_is_rsa(type))
        return ecdsa_der(raw, raw_len, sig, sig_len) == 0
                   ? 0
                   : lv_fail(err, LV_ECRYPTO, "cannot encode an ECDSA value");
    if (!(*sig = malloc(raw_len)))
        return lv_fail(err, LV_ENOMEM, "out of memory");
    memcpy(*sig, raw, raw_len);
    *sig_len = raw_len;
    return 0;
}

/* n signatures laid end to end; all must have the same length (RSA; the
 * batch path is RSA only, keys_signer.c). */
static int sign_all(keys_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                    lv_key_type type, const EVP_MD *md,
                    const unsigned char *digests, size_t n, unsigned char **out,
                    size_t *sig_len, lv_err *err)
{
    size_t dlen = (size_t)EVP_MD_get_size(md);
    unsigned char *one = NULL;
    size_t len = 0;
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        int rc = sign_one(p, s, h, type, md, digests + i * dlen, dlen, &one,
                          &len, err);
        if (rc < 0) {
            free(*out);
            *out = NULL;
            return rc;
        }
        if (!one || len == 0 || (i > 0 && len != *sig_len)) {
            free(one);
            free(*out);
            *out = NULL;
            return lv_fail(err, LV_ECRYPTO, "signatures of unequal length");
        }
        *sig_len = len;
        if (n == 1) {
            *out = one;
            return 0;
        }
        if (i == 0 && !(*out = malloc(n * len))) {
            free(one);
            return lv_fail(err, LV_ENOMEM, "no memory for the signatures");
        }
        memcpy(*out + i * len, one, len);
        free(one);
    }
    return 0;
}

/* The key object: found by CKA_ID on the token, or unwrapped into this
 * session (*temp set: the caller destroys it). */
static int key_object(keys_p11 *p, CK_SESSION_HANDLE s, const keys_p11_key *k,
                      lv_key_type type, CK_OBJECT_HANDLE *h, int *temp,
                      lv_err *err)
{
    *temp = 0;
    if (!k->blob) {
        if (keys_p11_handle_get(p, k->id, h))
            return 0;
        int rc =
            keys_p11_find(p, s, CKO_PRIVATE_KEY, k->id, LV_P11_ID_LEN, h, err);
        if (rc == LV_ENOTFOUND)
            return lv_fail(err, LV_ENOTFOUND,
                           "PKCS#11: the private key object of this key is "
                           "missing from token \"%s\" (removed?)",
                           keys_p11_token(p));
        if (rc == 0)
            keys_p11_handle_put(p, k->id, *h);
        return rc;
    }
    LV_TRY(unwrap(p, s, k, type, h, err));
    *temp = 1;
    return 0;
}

static int sign_with(keys_p11 *p, CK_SESSION_HANDLE s, const keys_p11_key *k,
                     lv_key_type type, const EVP_MD *md,
                     const unsigned char *digests, size_t n,
                     unsigned char **sigs, size_t *sig_len, lv_err *err)
{
    CK_OBJECT_HANDLE h = 0;
    int temp = 0;
    int rc = key_object(p, s, k, type, &h, &temp, err);
    if (rc == 0)
        rc = sign_all(p, s, h, type, md, digests, n, sigs, sig_len, err);
    /* The unwrapped key lives exactly as long as this signature. */
    if (temp && keys_p11_fn(p)->C_DestroyObject(s, h) != CKR_OK && rc == 0) {
        free(*sigs);
        *sigs = NULL;
        rc = lv_fail(err, LV_ECRYPTO,
                     "PKCS#11: cannot destroy the unwrapped session key");
    }
    return rc;
}

int keys_p11_sign(keys_p11 *p, const keys_p11_key *k, lv_key_type type,
                  const EVP_MD *md, const unsigned char *digests, size_t n,
                  unsigned char **sigs, size_t *sig_len, lv_err *err)
{
    CK_SESSION_HANDLE s;
    *sigs = NULL;
    *sig_len = 0;
    LV_TRY(keys_p11_session(p, &s, err));
    int rc = sign_with(p, s, k, type, md, digests, n, sigs, sig_len, err);
    /* A cached handle the module no longer knows (CKR_KEY_HANDLE_INVALID,
     * mapped to LV_ENOTFOUND): look the key up once more, which names a
     * removed object clearly. */
    if (rc == LV_ENOTFOUND && !k->blob) {
        keys_p11_handle_drop(p, k->id, LV_P11_ID_LEN);
        rc = sign_with(p, s, k, type, md, digests, n, sigs, sig_len, err);
    }
    keys_p11_release(p, s, rc == 0);
    return rc;
}
