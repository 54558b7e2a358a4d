/* libFuzzer target: the PKCS#10 requests of subscriber-held keys, read by
 * the RA from an organization's certificate request (ra_csr_parse,
 * src/ra/request.c: PEM, its own signature checked) and taken by issuance
 * (ca_csr_public_key, src/ca/issue.c: key type and size of R4.1, proof of
 * possession of R4.6).  The first input byte picks the form of the rest:
 * even, the PEM text as the client sends it; odd, DER that the target wraps
 * in "CERTIFICATE REQUEST" PEM (so that mutations reach the ASN.1).
 * Invariants checked on every input:
 *   - refusals are LV_EINVAL with a message, and leave no key behind;
 *   - what issuance accepts the RA accepted: every request ca_csr_public_key
 *     takes, ra_csr_parse takes too;
 *   - accepted by the RA: the request's signature verifies with its own
 *     key, and it re-encodes to DER and PEM that are read back to an equal
 *     request;
 *   - accepted by issuance: the key is the request's own, and RSA of 2048
 *     to 8192 bits with an odd exponent >= 65537, or EC on P-256 / P-384.
 * Seeds: fuzz/corpus/fuzz_csr/ (openssl req outputs: RSA 2048 and 1024,
 * exponent 3, P-256, P-384, P-521, Ed25519, a request whose signature was
 * altered, and their DER). */
#include "ca/ca_internal.h"
#include "ra/ra_internal.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* DER as the PEM a client would send. */
static char *pem_of(const uint8_t *der, size_t len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL, *out = NULL;
    if (!b || !PEM_write_bio(b, "CERTIFICATE REQUEST", "", der, (long)len))
        abort();
    long n = BIO_get_mem_data(b, &data);
    out = malloc((size_t)n + 1);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    return out;
}

static void check_key(const EVP_PKEY *key)
{
    char group[64];
    size_t len = 0;
    BIGNUM *e = NULL;
    if (EVP_PKEY_is_a(key, "RSA")) {
        int bits = EVP_PKEY_get_bits(key);
        if (bits < 2048 || bits > 8192 ||
            !EVP_PKEY_get_bn_param(key, "e", &e) || !BN_is_odd(e) ||
            BN_num_bits(e) < 17)
            abort();
        BN_free(e);
    } else if (!EVP_PKEY_is_a(key, "EC") ||
               !EVP_PKEY_get_utf8_string_param(key, "group", group,
                                               sizeof group, &len) ||
               (strcmp(group, "prime256v1") != 0 &&
                strcmp(group, "secp384r1") != 0 &&
                strcmp(group, "P-256") != 0 && strcmp(group, "P-384") != 0)) {
        abort();
    }
}

/* DER and PEM of the request, read back to an equal request. */
static void round_trip(X509_REQ *req)
{
    unsigned char *der = NULL;
    char *pem = NULL;
    int len = i2d_X509_REQ(req, &der);
    const unsigned char *p = der;
    X509_REQ *back = len > 0 ? d2i_X509_REQ(NULL, &p, len) : NULL;
    if (!back || p != der + len)
        abort();
    X509_REQ_free(back);
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_X509_REQ(b, req))
        abort();
    long n = BIO_get_mem_data(b, &pem);
    char *text = malloc((size_t)n + 1);
    memcpy(text, pem, (size_t)n);
    text[n] = '\0';
    lv_err err = {0};
    if (ra_csr_parse(text, &back, &err) != 0)
        abort();
    unsigned char *der2 = NULL;
    int len2 = i2d_X509_REQ(back, &der2);
    if (len2 != len || memcmp(der, der2, (size_t)len) != 0)
        abort();
    X509_REQ_free(back);
    OPENSSL_free(der2);
    free(text);
    BIO_free(b);
    OPENSSL_free(der);
}

static void issuance(X509_REQ *req, int ra_accepted)
{
    EVP_PKEY *key = NULL;
    lv_err err = {0};
    int rc = ca_csr_public_key(req, &key, &err);
    if (rc == 0) {
        if (!ra_accepted || !key ||
            EVP_PKEY_eq(key, X509_REQ_get0_pubkey(req)) != 1)
            abort();
        check_key(key);
        EVP_PKEY_free(key);
    } else if (rc != LV_EINVAL || !err.msg[0] || key) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    char *pem;
    if (data[0] % 2) {
        pem = pem_of(data + 1, size - 1);
    } else {
        pem = malloc(size);
        memcpy(pem, data + 1, size - 1);
        pem[size - 1] = '\0';
    }
    X509_REQ *req = NULL;
    lv_err err = {0};
    int rc = ra_csr_parse(pem, &req, &err);
    if (rc == 0) {
        round_trip(req);
        issuance(req, 1);
        X509_REQ_free(req);
    } else if (rc != LV_EINVAL || !err.msg[0] || req) {
        abort();
    }
    /* a request the RA refused reaches issuance only through the RA, but
     * issuance must refuse it on its own too */
    BIO *b = rc != 0 ? BIO_new_mem_buf(pem, -1) : NULL;
    X509_REQ *raw = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
    if (raw)
        issuance(raw, 0);
    X509_REQ_free(raw);
    BIO_free(b);
    free(pem);
    ERR_clear_error(); /* OpenSSL's queue would grow the heap run by run */
    return 0;
}
