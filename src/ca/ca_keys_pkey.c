/* An EVP_PKEY whose private operation is a request to llave-keyd (issue
 * 12): X509_sign_ctx, X509_CRL_sign_ctx and OCSP_basic_sign_ctx take an
 * EVP_MD_CTX holding a private key, and this one holds only the public key
 * plus an RSA_METHOD / EC_KEY_METHOD whose sign callback sends the digest to
 * keyd (keyc_sign prehashed, a CA or service key only).  OpenSSL 3 keeps a key
 * with its own method on the legacy path ("foreign" key) and calls that
 * callback with the digest and its algorithm, so certificates, CRLs and
 * OCSP responses are assembled by OpenSSL exactly as before while the
 * private key stays inside the signature activation module (CEN EN 419
 * 241-1; EN 419 241-2 keeps keys from leaving the SAM).
 *
 * RSA_METHOD and EC_KEY_METHOD are deprecated in OpenSSL 3 (a provider
 * would replace them); this is the one file that uses them. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "ca/ca_internal.h"

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ca_fkey {
    char id[CA_KEY_ID_MAX + 1];
    lv_ca *ca;
    EVP_PKEY *pkey;
    struct ca_fkey *next;
};

/* The callbacks can only say "failed" to OpenSSL; the reason (LV_EBUSY:
 * keyd away, LV_ESEALED, ...) waits here for ca_key_ctx_failed. */
static _Thread_local int t_rc;
static _Thread_local lv_err t_err;

static pthread_once_t methods_once = PTHREAD_ONCE_INIT;
static RSA_METHOD *rsa_meth;
static EC_KEY_METHOD *ec_meth;
static int rsa_idx = -1, ec_idx = -1;

static int remote_sign(struct ca_fkey *f, int nid, const unsigned char *dgst,
                       size_t dlen, unsigned char *sig, unsigned int *siglen,
                       size_t cap)
{
    unsigned char *s = NULL;
    size_t slen = 0;
    const EVP_MD *md = EVP_get_digestbynid(nid);
    if (!md || (size_t)EVP_MD_get_size(md) != dlen)
        md = dlen == 32   ? EVP_sha256()
             : dlen == 48 ? EVP_sha384()
             : dlen == 64 ? EVP_sha512()
                          : NULL;
    int rc =
        md ? ca_key_sign_digest(f->ca, f->id, md, dgst, dlen, &s, &slen, &t_err)
           : lv_fail(&t_err, LV_EINVAL, "digest not allowed (R4.1)");
    if (rc == 0 && slen > cap)
        rc = lv_fail(&t_err, LV_EINTERNAL,
                     "key service sent a signature of %zu bytes", slen);
    if (rc == 0) {
        memcpy(sig, s, slen);
        *siglen = (unsigned int)slen;
    }
    free(s);
    t_rc = rc;
    return rc == 0;
}

static int rsa_sign_cb(int type, const unsigned char *m, unsigned int m_len,
                       unsigned char *sigret, unsigned int *siglen,
                       const RSA *rsa)
{
    struct ca_fkey *f = RSA_get_ex_data(rsa, rsa_idx);
    return f && remote_sign(f, type, m, m_len, sigret, siglen,
                            (size_t)RSA_size(rsa));
}

static int ec_sign_cb(int type, const unsigned char *dgst, int dlen,
                      unsigned char *sig, unsigned int *siglen,
                      const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
    (void)kinv;
    (void)r;
    struct ca_fkey *f = EC_KEY_get_ex_data(ec, ec_idx);
    return f && dlen > 0 &&
           remote_sign(f, type, dgst, (size_t)dlen, sig, siglen,
                       (size_t)ECDSA_size(ec));
}

static ECDSA_SIG *ec_sign_sig_cb(const unsigned char *dgst, int dlen,
                                 const BIGNUM *kinv, const BIGNUM *r,
                                 EC_KEY *ec)
{
    unsigned char buf[256];
    unsigned int len = 0;
    if (ECDSA_size(ec) > (int)sizeof buf ||
        !ec_sign_cb(NID_undef, dgst, dlen, buf, &len, kinv, r, ec))
        return NULL;
    const unsigned char *p = buf;
    return d2i_ECDSA_SIG(NULL, &p, (long)len);
}

static void methods_init(void)
{
    int (*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **) = NULL;
    rsa_idx = RSA_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    ec_idx = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    rsa_meth = RSA_meth_dup(RSA_PKCS1_OpenSSL());
    if (rsa_meth) {
        RSA_meth_set1_name(rsa_meth, "llave-keyd");
        RSA_meth_set_sign(rsa_meth, rsa_sign_cb);
    }
    ec_meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
    if (ec_meth) {
        EC_KEY_METHOD_get_sign(EC_KEY_OpenSSL(), NULL, &setup, NULL);
        EC_KEY_METHOD_set_sign(ec_meth, ec_sign_cb, setup, ec_sign_sig_cb);
    }
}

static EVP_PKEY *remote_pkey(struct ca_fkey *f, EVP_PKEY *pub)
{
    EVP_PKEY *pk = EVP_PKEY_new();
    if (!pk)
        return NULL;
    if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA && rsa_meth) {
        RSA *r = EVP_PKEY_get1_RSA(pub);
        if (r && RSA_set_method(r, rsa_meth) &&
            RSA_set_ex_data(r, rsa_idx, f) && EVP_PKEY_assign_RSA(pk, r))
            return pk;
        RSA_free(r);
    } else if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC && ec_meth) {
        EC_KEY *e = EVP_PKEY_get1_EC_KEY(pub);
        if (e && EC_KEY_set_method(e, ec_meth) &&
            EC_KEY_set_ex_data(e, ec_idx, f) && EVP_PKEY_assign_EC_KEY(pk, e))
            return pk;
        EC_KEY_free(e);
    }
    EVP_PKEY_free(pk);
    return NULL;
}

/* The keyd-backed key for key_id, made once per CA context (public keys do
 * not change). */
static int fkey_get(lv_ca *ca, const char *key_id, EVP_PKEY **out, lv_err *err)
{
    pthread_mutex_t *lock;
    ca_fkey **head = ca_keys_fkeys(ca, &lock);
    pthread_mutex_lock(lock);
    for (ca_fkey *f = *head; f; f = f->next) {
        if (strcmp(f->id, key_id) == 0) {
            *out = f->pkey;
            pthread_mutex_unlock(lock);
            return 0;
        }
    }
    pthread_mutex_unlock(lock);
    EVP_PKEY *pub = NULL;
    LV_TRY(ca_key_public(ca, key_id, &pub, NULL, NULL, err));
    ca_fkey *f = calloc(1, sizeof *f);
    int rc = f ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
    if (rc == 0) {
        snprintf(f->id, sizeof f->id, "%s", key_id);
        f->ca = ca;
        f->pkey = remote_pkey(f, pub);
        if (!f->pkey)
            rc = lv_fail_ssl(err, LV_ECRYPTO,
                             "key %s: no signing method for this key type",
                             key_id);
    }
    EVP_PKEY_free(pub);
    if (rc < 0) {
        free(f);
        return rc;
    }
    pthread_mutex_lock(lock);
    f->next = *head; /* a racing twin is harmless: both are freed */
    *head = f;
    pthread_mutex_unlock(lock);
    *out = f->pkey;
    return 0;
}

int ca_key_sign_init(lv_ca *ca, const char *key_id, const EVP_MD *md,
                     EVP_MD_CTX *ctx, lv_err *err)
{
    EVP_PKEY *pk = NULL;
    pthread_once(&methods_once, methods_init);
    t_rc = 0;
    LV_TRY(fkey_get(ca, key_id, &pk, err));
    /* RSA: PKCS#1 v1.5, the default padding (CPS §7.1.3) */
    if (EVP_DigestSignInit(ctx, NULL, md, NULL, pk) <= 0)
        return lv_fail_ssl(err, LV_ECRYPTO, "key %s: cannot start signing",
                           key_id);
    return 0;
}

int ca_key_ctx_failed(lv_err *err, const char *what)
{
    if (t_rc < 0) {
        int rc = t_rc;
        if (err)
            *err = t_err;
        t_rc = 0;
        ERR_clear_error();
        return rc;
    }
    return lv_fail_ssl(err, LV_ECRYPTO, "%s", what);
}

/* OpenSSL 3.0's X509_PUBKEY_set turns a provider key (every key a CSR or
 * keyd hands us) into DER through an OSSL_ENCODER and parses that DER back
 * through an OSSL_DECODER only to throw the copy away: profiled, that was
 * 2.3 M of the 5.7 M instructions ca_issue spends per certificate outside
 * the RSA signature (bench/issue, issue 12 item 11).  A legacy key of the
 * same public values takes the method path (i2d_RSAPublicKey) instead and
 * is the one the certificate then caches, so X509_get0_pubkey(cert) still
 * answers (profile/extensions.c asks it for the key type).  The DER is the
 * same SubjectPublicKeyInfo either way.  Other key types take the normal
 * path. */
static EVP_PKEY *legacy_public(EVP_PKEY *key)
{
    EVP_PKEY *pk = EVP_PKEY_new();
    if (!pk)
        return NULL;
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
        RSA *r = EVP_PKEY_get1_RSA(key);
        if (r && EVP_PKEY_assign_RSA(pk, r))
            return pk;
        RSA_free(r);
    } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        EC_KEY *e = EVP_PKEY_get1_EC_KEY(key);
        if (e && EVP_PKEY_assign_EC_KEY(pk, e))
            return pk;
        EC_KEY_free(e);
    }
    EVP_PKEY_free(pk);
    return NULL;
}

int ca_cert_set_pubkey(X509 *cert, EVP_PKEY *key)
{
    EVP_PKEY *legacy = legacy_public(key);
    if (!legacy) {
        ERR_clear_error();
        return X509_set_pubkey(cert, key);
    }
    int ok = X509_set_pubkey(cert, legacy); /* the certificate takes a ref */
    EVP_PKEY_free(legacy);
    return ok;
}

void ca_fkeys_free(ca_fkey *f)
{
    while (f) {
        ca_fkey *next = f->next;
        EVP_PKEY_free(f->pkey);
        free(f);
        f = next;
    }
}
