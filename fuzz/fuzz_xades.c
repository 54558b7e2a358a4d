/* libFuzzer target: the XML reader in front of XAdES signing (xades_sign,
 * src/xades/), which takes the documents a relying application sends
 * through CSC signatures/signDoc (issue 14 item 5).  libxml2 parses with no
 * DTD and no network; our code refuses any DOCTYPE (XXE, entity bombs).
 * The signing callback signs with a P-256 key made once, so an accepted
 * document runs the whole enveloped B-B path (canonicalization, digests,
 * SignedProperties).  Invariants checked on every input:
 *   - the answer is 0 or an LV_E code with a message, and no output on
 *     error;
 *   - accepted: the output is non-empty and holds the signature value.
 * Seeds: fuzz/corpus/fuzz_xades/ (an invoice-like document with a default
 * namespace, CDATA and a processing instruction; a bare element). */
#define _GNU_SOURCE /* memmem */
#include "xades/xades.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *key;
static X509 *cert;

static X509 *self_signed(EVP_PKEY *k)
{
    X509 *c = X509_new();
    X509_NAME *n = X509_NAME_new();
    if (!c || !n || !X509_set_version(c, 2) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(c), 1) ||
        !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"fuzz", -1, -1, 0) ||
        !X509_set_subject_name(c, n) || !X509_set_issuer_name(c, n) ||
        !X509_gmtime_adj(X509_getm_notBefore(c), 0) ||
        !X509_gmtime_adj(X509_getm_notAfter(c), 86400) ||
        !X509_set_pubkey(c, k) || !X509_sign(c, k, EVP_sha256()))
        abort();
    X509_NAME_free(n);
    return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xades_init();
    key = EVP_EC_gen("P-256");
    if (!key)
        abort();
    cert = self_signed(key);
    return 0;
}

static int sign_cb(void *arg, const EVP_MD *md, const unsigned char *digest,
                   size_t digest_len, unsigned char **sig, size_t *sig_len,
                   lv_err *err)
{
    (void)arg;
    (void)md;
    (void)err;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    size_t n = 0;
    int ok = ctx && EVP_PKEY_sign_init(ctx) > 0 &&
             EVP_PKEY_sign(ctx, NULL, &n, digest, digest_len) > 0 &&
             (*sig = malloc(n)) != NULL &&
             EVP_PKEY_sign(ctx, *sig, &n, digest, digest_len) > 0;
    EVP_PKEY_CTX_free(ctx);
    *sig_len = n;
    return ok ? 0 : LV_ECRYPTO;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xades_opts o = {.mode = XADES_ENVELOPED,
                    .level = XADES_B_B,
                    .signer = cert,
                    .sign = sign_cb,
                    .signing_time = 1767225600};
    unsigned char *out = NULL;
    size_t out_len = 0;
    lv_err err = {0};
    int rc = xades_sign(data, size, &o, &out, &out_len, &err);
    if (rc < 0) {
        if (out != NULL || err.msg[0] == '\0')
            abort();
        return 0;
    }
    if (rc != 0 || out == NULL || out_len == 0 ||
        memmem(out, out_len, "SignatureValue", 14) == NULL)
        abort();
    free(out);
    return 0;
}
