/* Internal to ca/: the OCSP responder's pieces (RFC 6960).
 *
 *   ocsp_request.c  decoding and validating an OCSPRequest (the network
 *                   parser; fuzz/fuzz_ocsp_request.c drives it)
 *   ocsp.c          issuer matching, the signing budget, signing and the
 *                   answer to one request (ca_ocsp_respond)
 *   ocsp_refresh.c  keeping the pre-signed responses of sql/003_ocsp.sql
 *                   fresh (ca_ocsp_refresh*, llaved's refresher) */
#ifndef LLAVE_CA_OCSP_INTERNAL_H
#define LLAVE_CA_OCSP_INTERNAL_H

#include "ca/ca_internal.h"

#include <openssl/ocsp.h>

#define CA_OCSP_MAX_IDS 32   /* CertIDs answered in one request */
#define CA_OCSP_NONCE_MIN 1  /* RFC 8954 §2.1: Nonce ::= OCTET STRING */
#define CA_OCSP_NONCE_MAX 32 /* (SIZE(1..32)) */
#define CA_OCSP_HASH_MAX 64  /* SHA-512 */
#define CA_OCSP_NHASH 4      /* SHA-1, SHA-256, SHA-384, SHA-512 */

/* ---- the decoded request (ocsp_request.c) ------------------------------- */

typedef struct ca_ocsp_id {
    OCSP_CERTID *cid; /* borrowed from the request */
    int hash;         /* index into ca_ocsp_hash_md(), -1: unsupported */
    const unsigned char *name_hash; /* issuerNameHash, borrowed */
    const unsigned char *key_hash;  /* issuerKeyHash, borrowed */
    size_t hash_len;
    /* hex as `openssl x509 -serial` prints it; "" for a serial no llave
     * certificate can have (negative, longer than 32 bytes) */
    char serial[65];
    unsigned char *der; /* the CertID re-encoded, OPENSSL_free */
    size_t der_len;
} ca_ocsp_id;

typedef struct ca_ocsp_query {
    OCSP_REQUEST *req;
    int count;
    ca_ocsp_id ids[CA_OCSP_MAX_IDS];
    int nonce; /* 1: a nonce of 1..32 octets to echo (RFC 8954 §2.1) */
} ca_ocsp_query;

/* The supported CertID hashes, by index; NULL past the end. */
const EVP_MD *ca_ocsp_hash_md(int index);
const char *ca_ocsp_hash_name(int index); /* "SHA1", "SHA256", ... */

/* Decodes and checks a DER OCSPRequest (RFC 6960 §4.1).  LV_EINVAL with a
 * message for anything the responder must answer malformedRequest to:
 * undecodable or trailing bytes, no CertID or more than CA_OCSP_MAX_IDS,
 * hash lengths that do not fit their algorithm, an unknown critical
 * extension, two nonces.  On success q owns the request. */
int ca_ocsp_query_parse(const unsigned char *der, size_t len, ca_ocsp_query *q,
                        lv_err *err);
void ca_ocsp_query_free(ca_ocsp_query *q);

/* ---- the responder state hung off lv_ca (ocsp.c) ------------------------ */

typedef struct ca_ocsp_issuer {
    const ca_entry *ca;        /* the CA whose certificates it answers for */
    const ca_entry *responder; /* its delegated responder, else the CA */
    unsigned char name_hash[CA_OCSP_NHASH][CA_OCSP_HASH_MAX];
    unsigned char key_hash[CA_OCSP_NHASH][CA_OCSP_HASH_MAX];
} ca_ocsp_issuer;

typedef struct ca_ocsp ca_ocsp;

/* The issuer a CertID names, or NULL when it is not one of ours. */
const ca_ocsp_issuer *ca_ocsp_match(const lv_ca *ca, const ca_ocsp_id *id);
const ca_ocsp_issuer *ca_ocsp_issuer_by_name(const lv_ca *ca, const char *name);

/* Takes one fresh signature from the request-path budget (ocsp_sign_rate
 * per second).  0 when the budget is spent. */
int ca_ocsp_budget_take(lv_ca *ca);

/* One certificate's status as the store knows it. */
typedef struct ca_ocsp_status {
    int known; /* 0: answer unknown */
    int revoked;
    int64_t revoked_at;
    int reason; /* RFC 5280 CRLReason, -1 when none */
} ca_ocsp_status;

/* What a signed response says and how long it is valid. */
typedef struct ca_ocsp_signed {
    unsigned char *der; /* OCSPResponse, OPENSSL_free */
    size_t len;
    int64_t this_update;
    int64_t next_update;
} ca_ocsp_signed;

/* Signs a successful response for n CertIDs of one issuer with its
 * responder key; echoes the request's nonce when req is not NULL.
 * LV_ESEALED while the key store is sealed. */
int ca_ocsp_sign(lv_ca *ca, const ca_ocsp_issuer *is, OCSP_CERTID *const *ids,
                 const ca_ocsp_status *st, int n, OCSP_REQUEST *nonce_req,
                 ca_ocsp_signed *out, lv_err *err);

/* An unsigned error response (malformedRequest, unauthorized, tryLater,
 * internalError: RFC 6960 §4.2.1). */
int ca_ocsp_error_response(int status, unsigned char **der, size_t *len);

/* What to answer for `serial` under `is`, given the record found for it
 * (a certs row, or for the root a cas row; found 0: none): unknown unless
 * the record is the issuer's. */
void ca_ocsp_status_of(const ca_ocsp_issuer *is, const lv_cert_rec *cert,
                       int found, const char *serial, ca_ocsp_status *out);

/* ---- pre-signed responses (ocsp_refresh.c) ------------------------------- */

/* Signs the answer to `cid` for a certificate of `is` and stores it as the
 * pre-signed response of (cert->serial, hash) with an audit entry naming
 * `why` ("lazy", ...).  The signed response is returned even when storing
 * it failed (that is logged): the request still gets its answer. */
int ca_ocsp_presign_cid(lv_ca *ca, lv_store *st, const ca_ocsp_issuer *is,
                        OCSP_CERTID *cid, int hash, const lv_cert_rec *cert,
                        const char *why, ca_ocsp_signed *out, lv_err *err);

/* The refresher's watermarks (ocsp.c keeps them in the CA context). */
typedef struct ca_ocsp_marks {
    int64_t created_since; /* certificates without a response */
    int64_t revoked_since; /* revocations not yet re-signed */
} ca_ocsp_marks;
void ca_ocsp_marks_get(lv_ca *ca, ca_ocsp_marks *m);
void ca_ocsp_marks_set(lv_ca *ca, const ca_ocsp_marks *m);

#endif
