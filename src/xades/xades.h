/* xades/ — XAdES signatures (ETSI EN 319 132-1) of XML documents: baseline
 * B-B and B-T, enveloped (the ds:Signature becomes the last child of the
 * document's root) or detached (a standalone ds:Signature whose reference
 * names the document and carries its digest).
 *
 * Pure: no store, no key, no network.  The private key lives in
 * llave-keyd, so the component never signs: it canonicalizes the
 * ds:SignedInfo, hands its digest to a signing callback, and for B-T hands
 * the digest of the canonical ds:SignatureValue to a time-stamp callback
 * that returns an RFC 3161 token.  Call xades_init() once from the main
 * thread before any thread signs (libxml2 initializes itself lazily, and
 * that first initialization is not thread-safe). */
#ifndef LLAVE_XADES_H
#define LLAVE_XADES_H

#include "core/core.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* The largest document xades_sign accepts when xades_opts.max_len is 0. */
#define XADES_MAX_DOC ((size_t)16 * 1024 * 1024)

typedef enum {
    XADES_ENVELOPED, /* doc is XML; the output is doc with ds:Signature */
    XADES_DETACHED,  /* doc is any bytes; the output is the ds:Signature */
} xades_mode;

typedef enum {
    XADES_B_B, /* EN 319 132-1 §6.3: SigningTime, SigningCertificateV2 */
    XADES_B_T, /* plus a SignatureTimeStamp (EN 319 132-1 §5.3) */
} xades_level;

/* Signs digest (md over the canonical ds:SignedInfo) with the signer's key:
 * *sig (malloc'd, the caller of the callback frees it) is PKCS#1 v1.5 for
 * RSA, or an ECDSA-Sig-Value DER (RFC 3279 §2.2.3) for EC, which xades_sign
 * turns into the r||s that XML-DSig wants.  0 or an LV_E code. */
typedef int (*xades_sign_fn)(void *arg, const EVP_MD *md,
                             const unsigned char *digest, size_t digest_len,
                             unsigned char **sig, size_t *sig_len, lv_err *err);

/* Time-stamps digest (md over the canonical ds:SignatureValue): *token
 * (malloc'd) is the DER of an RFC 3161 TimeStampToken (a CMS ContentInfo,
 * RFC 3161 §2.4.2) whose message imprint is md/digest.  0 or an LV_E
 * code. */
typedef int (*xades_tsa_fn)(void *arg, const EVP_MD *md,
                            const unsigned char *digest, size_t digest_len,
                            unsigned char **token, size_t *token_len,
                            lv_err *err);

typedef struct xades_opts {
    xades_mode mode;
    xades_level level;
    X509 *signer;          /* its public key says RSA or ECDSA */
    STACK_OF(X509) *chain; /* the issuers to put in ds:KeyInfo; may be NULL */
    const EVP_MD *md;      /* SHA-256, SHA-384 or SHA-512; NULL: SHA-256 */
    xades_sign_fn sign;
    void *sign_arg;
    xades_tsa_fn timestamp; /* needed for XADES_B_T */
    void *timestamp_arg;
    /* Detached: the URI the reference names (a file name relative to the
     * signature, say); escaped here as a URI.  Enveloped: unused. */
    const char *doc_name;
    /* The xades:DataObjectFormat MimeType; NULL: text/xml for enveloped,
     * application/octet-stream for detached. */
    const char *mime_type;
    int64_t signing_time; /* xades:SigningTime, seconds; 0: now */
    size_t max_len;       /* the largest doc accepted; 0: XADES_MAX_DOC */
} xades_opts;

void xades_init(void);

/* Signs doc (len bytes) as o says.  On success *out (malloc'd, the caller
 * frees it) holds the UTF-8 XML: the document with its signature
 * (enveloped) or the signature alone (detached).  On failure *out is NULL
 * and err says why: LV_EINVAL for malformed XML, a DTD (refused: no
 * entity, internal or external, ever reaches the signature) or bad
 * options; LV_ETOOBIG above the size limit; the callbacks' own codes. */
int xades_sign(const unsigned char *doc, size_t len, const xades_opts *o,
               unsigned char **out, size_t *out_len, lv_err *err) LV_MUST_USE;

#endif
