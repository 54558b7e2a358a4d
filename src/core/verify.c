/* Checking a signature over a digest before it is handed out. */
#include "core/core.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

int lv_digest_sig_ok(X509 *signer, const EVP_MD *md,
                     const unsigned char *digest, size_t digest_len,
                     const unsigned char *sig, size_t sig_len)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(X509_get0_pubkey(signer), NULL);
    int ok = c && EVP_PKEY_verify_init(c) > 0 &&
             EVP_PKEY_CTX_set_signature_md(c, md) > 0 &&
             EVP_PKEY_verify(c, sig, sig_len, digest, digest_len) == 1;
    EVP_PKEY_CTX_free(c);
    return ok;
}
