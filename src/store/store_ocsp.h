/* store/store_ocsp.h — the pre-signed OCSP responses (R6.4;
 * sql/003_ocsp.sql) and the lookups the responder needs.  Owner: ocsp/. */
#ifndef LLAVE_STORE_OCSP_H
#define LLAVE_STORE_OCSP_H

#include "core/core.h"
#include "store/store.h"
#include "store/store_cert.h"

#include <stdint.h>

/* ---- pre-signed OCSP responses (R6.4; sql/003_ocsp.sql) -------------- */
typedef struct lv_ocsp_rec {
    char serial[65];
    char hash_alg[16];      /* CertID hash: "SHA1", "SHA256", ... */
    char ca[32];            /* issuing CA short name */
    unsigned char *cert_id; /* DER CertID inside the response; owned */
    size_t cert_id_len;
    int cert_status; /* the certs.status the response states */
    int64_t this_update;
    int64_t next_update;
    unsigned char *response; /* DER OCSPResponse; owned */
    size_t response_len;
} lv_ocsp_rec;

/* Inserts or replaces the row of (serial, hash_alg). */
int store_ocsp_put(lv_store *st, const lv_ocsp_rec *rec,
                   lv_err *err) LV_MUST_USE;
void store_ocsp_rec_free(lv_ocsp_rec *rec);

/* The responder's one lookup: the certificate's status joined with its
 * stored response for hash_alg.  cert.der is not read.  *found is 0 when no
 * certificate has this serial; *has_resp is 0 when no response is stored. */
int store_ocsp_lookup(lv_store *st, const char *serial, const char *hash_alg,
                      lv_cert_rec *cert, int *found, lv_ocsp_rec *resp,
                      int *has_resp, lv_err *err) LV_MUST_USE;

/* A CA certificate (a cas row, not in certs) with this serial signed by
 * `issuer`, as a certificate record: serial, ca (= issuer), status,
 * revoked_at, revocation_reason, validity.  *found is 0 when there is
 * none.  The root's responder answers for the issuing CAs with it. */
int store_ocsp_ca_cert(lv_store *st, const char *serial, const char *issuer,
                       lv_cert_rec *out, int *found, lv_err *err) LV_MUST_USE;
/* The callback of the refresher's walks: fn(serial, hash_alg, ctx) for
 * each pair, as STORE_VISIT (store.h). */
typedef int (*lv_ocsp_pair_fn)(const char *serial, const char *hash_alg,
                               void *ctx);
/* Up to `limit` (serial, hash_alg) pairs whose response is due: next_update
 * before `before`, soonest first. */
int store_ocsp_foreach_due(lv_store *st, int64_t before, int limit,
                           lv_ocsp_pair_fn fn, void *ctx,
                           lv_err *err) LV_MUST_USE;
/* Up to `limit` pairs of certificates revoked at or after `since` whose
 * stored response still states them valid (a revocation whose re-signing
 * did not happen, e.g. while the key store was sealed). */
int store_ocsp_foreach_stale(lv_store *st, int64_t since, int limit,
                             lv_ocsp_pair_fn fn, void *ctx,
                             lv_err *err) LV_MUST_USE;
/* Up to `limit` serials of certificates created at or after `since` that
 * have no stored response for hash_alg. */
int store_ocsp_foreach_missing(lv_store *st, const char *hash_alg,
                               int64_t since, int limit, STORE_VISIT(char),
                               lv_err *err) LV_MUST_USE;
/* Up to `limit` serials of certificates revoked at or after `since`
 * (revoked_at), oldest first: the OCSP caches' change watcher. */
int store_ocsp_foreach_revoked(lv_store *st, int64_t since, int limit,
                               STORE_VISIT(char), lv_err *err) LV_MUST_USE;

#endif
