/* AES-256-GCM (OpenSSL EVP) for everything the key store keeps at rest
 * (R5.2: keys are encrypted at rest).  A fresh random 96-bit nonce per
 * seal: with a single master key and a few million writes at most, random
 * nonces stay far below the 2^32 bound of SP 800-38D §8.3. */
#include "keys/keys_internal.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

static int gcm_init(EVP_CIPHER_CTX *ctx, int enc, const unsigned char *key,
                    const unsigned char *nonce)
{
    return EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, LV_GCM_NONCE_LEN,
                               NULL) &&
           EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc);
}

static int gcm_aad(EVP_CIPHER_CTX *ctx, const unsigned char *aad, size_t len)
{
    int out_len;
    return len == 0 || EVP_CipherUpdate(ctx, NULL, &out_len, aad, (int)len);
}

static int gcm_sizes_ok(size_t aad_len, size_t len)
{
    return aad_len <= INT_MAX && len <= INT_MAX;
}

int keys_gcm_seal(const unsigned char *key, const unsigned char *aad,
                  size_t aad_len, const unsigned char *pt, size_t len,
                  unsigned char nonce[LV_GCM_NONCE_LEN], unsigned char *ct,
                  unsigned char tag[LV_GCM_TAG_LEN], lv_err *err)
{
    int out_len = 0, fin_len = 0;
    if (!gcm_sizes_ok(aad_len, len))
        return lv_fail(err, LV_ETOOBIG, "data too large to seal");
    if (lv_random(nonce, LV_GCM_NONCE_LEN) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness for the nonce");
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok =
        ctx && gcm_init(ctx, 1, key, nonce) && gcm_aad(ctx, aad, aad_len) &&
        EVP_CipherUpdate(ctx, ct, &out_len, pt, (int)len) &&
        EVP_CipherFinal_ex(ctx, ct + out_len, &fin_len) &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, LV_GCM_TAG_LEN, tag);
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return lv_fail_ssl(err, LV_ECRYPTO, "AES-256-GCM encryption failed");
    return 0;
}

/* A wrong key, nonce, AAD, ciphertext or tag all look the same here: the tag
 * does not verify.  The plaintext buffer is wiped in that case. */
int keys_gcm_open(const unsigned char *key, const unsigned char *aad,
                  size_t aad_len, const unsigned char nonce[LV_GCM_NONCE_LEN],
                  const unsigned char *ct, size_t len,
                  const unsigned char tag[LV_GCM_TAG_LEN], unsigned char *pt,
                  lv_err *err)
{
    int out_len = 0, fin_len = 0;
    if (!gcm_sizes_ok(aad_len, len))
        return lv_fail(err, LV_ETOOBIG, "data too large to open");
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx && gcm_init(ctx, 0, key, nonce) &&
             gcm_aad(ctx, aad, aad_len) &&
             EVP_CipherUpdate(ctx, pt, &out_len, ct, (int)len) &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, LV_GCM_TAG_LEN,
                                 (void *)tag) &&
             EVP_CipherFinal_ex(ctx, pt + out_len, &fin_len) > 0;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(pt, len);
        return lv_fail(err, LV_ECRYPTO, "authentication tag mismatch");
    }
    return 0;
}
