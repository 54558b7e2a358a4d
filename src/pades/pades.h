/* pades/ — PAdES signatures (ETSI EN 319 142-1) of PDF documents: the
 * baseline levels B-B, B-T, B-LT and B-LTA.
 *
 * Pure: no store, no key, no network.  qpdf (libqpdf) parses the input, so
 * that no hand-written parser decides what a PDF is; pades/ only appends:
 * every level is one or more incremental updates (ISO 32000-1 §7.5.6) after
 * the unchanged original bytes.  The private key lives in llave-keyd, so
 * the component never signs: it builds the CMS SignedData around the
 * signer certificate's public key and hands the digest of the signed
 * attributes to a signing callback; time-stamps come from a time-stamp
 * callback that returns an RFC 3161 token. */
#ifndef LLAVE_PADES_H
#define LLAVE_PADES_H

#include "core/core.h"

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* The largest PDF pades_sign accepts when pades_opts.max_len is 0. */
#define PADES_MAX_DOC ((size_t)32 * 1024 * 1024)

/* EN 319 142-1 §6.1: each level contains the one before it. */
typedef enum {
    PADES_B_B,   /* CAdES signature in the signature dictionary */
    PADES_B_T,   /* + signature-time-stamp unsigned attribute */
    PADES_B_LT,  /* + DSS with certificates, OCSP responses, CRLs */
    PADES_B_LTA, /* + document time-stamp over all of it */
} pades_level;

/* Signs digest (md over the DER of the signed attributes, RFC 5652 §5.4)
 * with the signer's key: *sig (malloc'd; pades frees it) is PKCS#1 v1.5
 * for RSA or an ECDSA-Sig-Value DER for EC.  0 or an LV_E code. */
typedef int (*pades_sign_fn)(void *arg, const EVP_MD *md,
                             const unsigned char *digest, size_t digest_len,
                             unsigned char **sig, size_t *sig_len, lv_err *err);

/* Time-stamps digest (md over the data to stamp): *token (malloc'd; pades
 * frees it) is the DER of an RFC 3161 TimeStampToken (a CMS ContentInfo,
 * RFC 3161 §2.4.2) whose message imprint is md/digest.  0 or an LV_E
 * code.  Called for B-T (the signature value) and B-LTA (the document
 * time-stamp's byte range). */
typedef int (*pades_timestamp_fn)(void *arg, const EVP_MD *md,
                                  const unsigned char *digest,
                                  size_t digest_len, unsigned char **token,
                                  size_t *token_len, lv_err *err);

/* One DER object (an OCSPResponse, a CertificateList). */
typedef struct pades_der {
    const unsigned char *der;
    size_t len;
} pades_der;

typedef struct pades_opts {
    pades_level level;
    X509 *signer;          /* its public key says RSA or ECDSA */
    STACK_OF(X509) *chain; /* issuers, into the CMS and the DSS; may be NULL */
    const EVP_MD *md;      /* SHA-256, SHA-384 or SHA-512; NULL: SHA-256 */
    pades_sign_fn sign;
    void *sign_arg;
    pades_timestamp_fn timestamp; /* B-T and above */
    void *timestamp_arg;
    /* B-LT validation material for the DSS (EN 319 142-1 §5.4.2): more
     * certificates (the TSA's chain, OCSP responders), OCSP responses and
     * CRLs.  The signer and chain are always added. */
    STACK_OF(X509) *dss_certs;
    const pades_der *ocsps;
    size_t n_ocsps;
    const pades_der *crls;
    size_t n_crls;
    /* Optional UTF-8 text of the signature dictionary (ISO 32000-1 §12.8.1
     * Table 252): /Name, /Reason, /Location, /ContactInfo. */
    const char *name;
    const char *reason;
    const char *location;
    const char *contact;
    int64_t signing_time; /* the /M entry, seconds since the epoch; 0: now */
    size_t max_len;       /* 0: PADES_MAX_DOC */
} pades_opts;

/* Checks that pdf can be signed (qpdf parses it without error or warning,
 * it is not encrypted, it has a page, it is at most max_len bytes; 0:
 * PADES_MAX_DOC) and writes md(pdf) to digest (EVP_MAX_MD_SIZE bytes):
 * the document digest a client authorizes (CSC credentials/authorize
 * "hashes") and the SAD binds, to be checked before anything is signed. */
int pades_document_digest(const unsigned char *pdf, size_t len, size_t max_len,
                          const EVP_MD *md, unsigned char *digest,
                          unsigned *digest_len, lv_err *err) LV_MUST_USE;

/* pades_document_digest, and *pages: the page count a signer is shown
 * before approving (the transaction API's page). */
int pades_document_info(const unsigned char *pdf, size_t len, size_t max_len,
                        const EVP_MD *md, unsigned char *digest,
                        unsigned *digest_len, int *pages,
                        lv_err *err) LV_MUST_USE;

/* Signs pdf at o->level: *out (malloc'd) is pdf, byte for byte, followed
 * by the incremental updates.  The signing callback is called exactly
 * once, after every check on the input; nothing is written on failure. */
int pades_sign(const unsigned char *pdf, size_t len, const pades_opts *o,
               unsigned char **out, size_t *out_len, lv_err *err) LV_MUST_USE;

/* The digest a CMS signature covers: md over the DER SET OF si's signed
 * attributes (RFC 5652 §5.4), into out (EVP_MAX_MD_SIZE bytes) and
 * *out_len (NULL: not wanted).  PAdES and detached CAdES (sign/) alike. */
int pades_signed_attrs_digest(CMS_SignerInfo *si, const EVP_MD *md,
                              unsigned char *out, unsigned *out_len,
                              lv_err *err) LV_MUST_USE;

#endif
