/* Internal to ocsp/: the OCSP responder's pieces (RFC 6960).
 *
 *   ocsp_request.c  decoding and validating an OCSPRequest (the network
 *                   parser; fuzz/fuzz_ocsp_request.c drives it)
 *   ocsp.c          issuer matching, the signing budget, signing and the
 *                   answer to one request (ocsp_respond)
 *   ocsp_refresh.c  keeping the pre-signed responses of sql/003_ocsp.sql
 *                   fresh (ocsp_refresh*, llaved's refresher)
 *   ocsp_cache.c    the per-node cache of answers (issue 17 item 5)
 *   ocsp_watch.c    llaved's watcher keeping that cache current */
#ifndef LLAVE_OCSP_INTERNAL_H
#define LLAVE_OCSP_INTERNAL_H

#include "audit/audit.h"
#include "ocsp/ocsp.h"
#include "store/store.h"
#include "store/store_cert.h"
#include "store/store_ocsp.h"

#include <openssl/ocsp.h>

#define LV_OCSP_MAX_IDS 32   /* CertIDs answered in one request */
#define LV_OCSP_NONCE_MIN 1  /* RFC 8954 §2.1: Nonce ::= OCTET STRING */
#define LV_OCSP_NONCE_MAX 32 /* (SIZE(1..32)) */
#define LV_OCSP_HASH_MAX 64  /* SHA-512 */
#define LV_OCSP_NHASH 4      /* SHA-1, SHA-256, SHA-384, SHA-512 */

/* ---- the decoded request (ocsp_request.c) ------------------------------- */

typedef struct ocsp_id {
    OCSP_CERTID *cid; /* borrowed from the request */
    int hash;         /* index into ocsp_hash_md(), -1: unsupported */
    const unsigned char *name_hash; /* issuerNameHash, borrowed */
    const unsigned char *key_hash;  /* issuerKeyHash, borrowed */
    size_t hash_len;
    /* hex as `openssl x509 -serial` prints it; "" for a serial no llave
     * certificate can have (negative, longer than 32 bytes) */
    char serial[65];
    unsigned char *der; /* the CertID re-encoded, OPENSSL_free */
    size_t der_len;
} ocsp_id;

typedef struct ocsp_query {
    OCSP_REQUEST *req;
    int count;
    ocsp_id ids[LV_OCSP_MAX_IDS];
    int nonce; /* 1: a nonce of 1..32 octets to echo (RFC 8954 §2.1) */
} ocsp_query;

/* The supported CertID hashes, by index; NULL past the end. */
const EVP_MD *ocsp_hash_md(int index);
const char *ocsp_hash_name(int index); /* "SHA1", "SHA256", ... */

/* Decodes and checks a DER OCSPRequest (RFC 6960 §4.1).  LV_EINVAL with a
 * message for anything the responder must answer malformedRequest to:
 * undecodable or trailing bytes, no CertID or more than LV_OCSP_MAX_IDS,
 * hash lengths that do not fit their algorithm, an unknown critical
 * extension, two nonces.  On success q owns the request. */
int ocsp_query_parse(const unsigned char *der, size_t len, ocsp_query *q,
                     lv_err *err);
void ocsp_query_free(ocsp_query *q);

/* ---- the responder state of a CA context (ocsp.c, ca_attachment) ----  */

typedef struct ocsp_issuer {
    const lv_ca_entry *ca;        /* the CA whose certificates it answers for */
    const lv_ca_entry *responder; /* its delegated responder, else the CA */
    unsigned char name_hash[LV_OCSP_NHASH][LV_OCSP_HASH_MAX];
    unsigned char key_hash[LV_OCSP_NHASH][LV_OCSP_HASH_MAX];
} ocsp_issuer;

typedef struct ocsp_state ocsp_state;

/* The issuer a CertID names, or NULL when it is not one of ours. */
const ocsp_issuer *ocsp_match(lv_ca *ca, const ocsp_id *id);
const ocsp_issuer *ocsp_issuer_by_name(lv_ca *ca, const char *name);

/* Takes one fresh signature from the request-path budget (ocsp_sign_rate
 * per second).  0 when the budget is spent. */
int ocsp_budget_take(lv_ca *ca);

/* One certificate's status as the store knows it. */
typedef struct ocsp_status {
    int known; /* 0: answer unknown */
    int revoked;
    int64_t revoked_at;
    int reason; /* RFC 5280 CRLReason, -1 when none */
} ocsp_status;

/* What a signed response says and how long it is valid. */
typedef struct ocsp_signed {
    unsigned char *der; /* OCSPResponse, OPENSSL_free */
    size_t len;
    int64_t this_update;
    int64_t next_update;
} ocsp_signed;

/* Signs a successful response for n CertIDs of one issuer with its
 * responder key; echoes the request's nonce when req is not NULL.
 * LV_ESEALED while the key store is sealed. */
int ocsp_sign(lv_ca *ca, const ocsp_issuer *is, OCSP_CERTID *const *ids,
              const ocsp_status *st, int n, OCSP_REQUEST *nonce_req,
              ocsp_signed *out, lv_err *err);

/* An unsigned error response (malformedRequest, unauthorized, tryLater,
 * internalError: RFC 6960 §4.2.1). */
int ocsp_error_response(int status, unsigned char **der, size_t *len);

/* What to answer for `serial` under `is`, given the record found for it
 * (a certs row, or for the root a cas row; found 0: none): unknown unless
 * the record is the issuer's. */
void ocsp_status_of(const ocsp_issuer *is, const lv_cert_rec *cert, int found,
                    const char *serial, ocsp_status *out);

/* ---- pre-signed responses (ocsp_refresh.c) ------------------------------- */

/* Signs the answer to `cid` for a certificate of `is` and stores it as the
 * pre-signed response of (cert->serial, hash) with an audit entry naming
 * `why` ("lazy", ...).  The signed response is returned even when storing
 * it failed (that is logged): the request still gets its answer. */
int ocsp_presign_cid(lv_ca *ca, lv_store *st, const ocsp_issuer *is,
                     OCSP_CERTID *cid, int hash, const lv_cert_rec *cert,
                     const char *why, ocsp_signed *out, lv_err *err);

/* ---- the per-node cache of answers (ocsp_cache.c) ------------------------ */

typedef struct ocsp_cache ocsp_cache;
/* A cache of at most `mib` MiB for the data directory `dir`; *out NULL
 * (no cache) when mib <= 0. */
int ocsp_cache_new(int mib, const char *dir, ocsp_cache **out);
void ocsp_cache_free(ocsp_cache *c);
/* 1 and a copy of the response in *a when the cache holds the answer to
 * `id` under the issuer numbered `issuer`, its CertID encoded as id's, and
 * `now` before its nextUpdate (to_next_update 1: the database is gone) or
 * else before half its validity; 0 otherwise (c NULL included). */
int ocsp_cache_get(ocsp_cache *c, int issuer, const ocsp_id *id, int64_t now,
                   int to_next_update, lv_ocsp_answer *a);
/* Read before the database is: ocsp_cache_put keeps nothing when a status
 * change (ocsp_cache_forget, _clear) came in between. */
uint64_t ocsp_cache_generation(ocsp_cache *c);
/* Keeps (a copy of) a response stating cert_status, replacing the entry of
 * (issuer, hash, serial), unless the generation moved since `generation`
 * was read.  Best effort: a failed allocation keeps nothing. */
void ocsp_cache_put(ocsp_cache *c, uint64_t generation, int issuer, int hash,
                    const char *serial, int cert_status,
                    const unsigned char *cid, size_t cid_len,
                    const ocsp_signed *resp);
/* A status change of `serial`: drops its entries that state it valid. */
void ocsp_cache_forget(ocsp_cache *c, const char *serial);
void ocsp_cache_clear(ocsp_cache *c);
/* The change signal of the data directory (ocsp_cache.c): its counter now;
 * the watcher's "every change up to this one is applied" (hits resume);
 * and a writer's "statuses changed", after its commit. */
uint64_t ocsp_cache_changes(ocsp_cache *c);
void ocsp_cache_synced(ocsp_cache *c, uint64_t changes);
void ocsp_cache_changed(ocsp_cache *c);

/* The cache of the CA context (NULL: none) and an issuer's number in it. */
ocsp_cache *ocsp_cache_of(lv_ca *ca);
int ocsp_issuer_index(lv_ca *ca, const ocsp_issuer *is);

/* The refresher's watermarks (ocsp.c keeps them in the CA context). */
typedef struct ocsp_marks {
    int64_t created_since; /* certificates without a response */
    int64_t revoked_since; /* revocations not yet re-signed */
} ocsp_marks;
void ocsp_marks_get(lv_ca *ca, ocsp_marks *m);
void ocsp_marks_set(lv_ca *ca, const ocsp_marks *m);

#endif
