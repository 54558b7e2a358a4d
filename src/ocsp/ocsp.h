/* ocsp/ — the OCSP responder (R6.4, RFC 6960, RFC 5019; DESIGN.md
 * "Status"): answers from pre-signed responses (one lookup, no private-key
 * operation on the hot path), signs what must be signed through the CA
 * context (llave-keyd) within a budget, and keeps the pre-signed responses
 * fresh (llaved's refresher).
 *
 *   ocsp_request.c    decoding and checking an OCSPRequest (fuzzed)
 *   ocsp.c            issuers, budget, signing, ocsp_respond
 *   ocsp_refresh.c    the pre-signed responses: ocsp_refresh*
 *   ocsp_refresher.c  llaved's refresher thread
 *   ocsp_cache.c      the per-node cache of answers (the hot path)
 *   ocsp_watch.c      llaved's watcher keeping that cache current
 *
 * Depends on core/, store/, audit/, ca/. */
#ifndef LLAVE_OCSP_H
#define LLAVE_OCSP_H

#include "ca/ca.h"
#include "core/core.h"

/* Re-signs and stores the pre-signed OCSP response of one end-entity
 * certificate (DESIGN "Status"): call it right after a status change has
 * committed.  Needs the issuing CA's responder key (LV_ESEALED when sealed);
 * LV_ENOTFOUND for an unknown serial. */
int ocsp_refresh(lv_ca *ca, lv_store *st, const char *serial,
                 lv_err *err) LV_MUST_USE;
/* The same for every certificate issued by the CA `ca_name` (compromise
 * drill, R6.5). */
int ocsp_refresh_ca(lv_ca *ca, lv_store *st, const char *ca_name,
                    lv_err *err) LV_MUST_USE;
/* Re-signs up to `max` stored responses whose nextUpdate falls before
 * now + the refresh margin, and fills responses still missing; *done
 * receives how many were signed.  llaved's refresher thread calls it. */
int ocsp_refresh_due(lv_ca *ca, lv_store *st, int max, int *done,
                     lv_err *err) LV_MUST_USE;

/* One answer of the responder. */
typedef struct lv_ocsp_answer {
    unsigned char *der; /* DER OCSPResponse */
    size_t len;
    int status;          /* OCSPResponseStatus: 0 successful, 1 malformed-
                            Request, 2 internalError, 3 tryLater, 6 unauthorized */
    int cacheable;       /* no nonce: HTTP caches may keep it (RFC 5019 §6) */
    int64_t this_update; /* of a successful answer */
    int64_t next_update;
} lv_ocsp_answer;

/* Answers one DER OCSPRequest.  Protocol errors (malformedRequest,
 * unauthorized, tryLater, ...) are answers, not failures: a negative code
 * means no response could be built at all. */
int ocsp_respond(lv_ca *ca, lv_store *st, const unsigned char *req,
                 size_t req_len, lv_ocsp_answer *out, lv_err *err) LV_MUST_USE;
/* The same, without signing anything (issue 11: the I/O threads serve only
 * ready answers): a pre-signed response, or an error answer.  When the
 * request needs a fresh signature, returns 0 with out->der NULL; the caller
 * then asks ocsp_respond on a signing thread. */
int ocsp_respond_ready(lv_ca *ca, lv_store *st, const unsigned char *req,
                       size_t req_len, lv_ocsp_answer *out,
                       lv_err *err) LV_MUST_USE;
void ocsp_answer_free(lv_ocsp_answer *a);

/* llaved's OCSP refresher: a job (lv_job_stop stops it) with its own store
 * connection that runs ocsp_refresh_due every ocsp_refresh_interval
 * seconds, at a lower CPU priority than the request threads.  Not started
 * (and *out NULL) while keyd is sealed. */
int ocsp_refresher_start(lv_ca *ca, lv_job **out, lv_err *err) LV_MUST_USE;

/* llaved's OCSP cache watcher (ocsp_watch.c): on every node, sealed or not,
 * a job with its own store connection that drops from this node's cache of
 * answers, every second, the certificates revoked by any node (issue 17
 * item 5).  *out NULL when ocsp_cache_mib is 0. */
int ocsp_watcher_start(lv_ca *ca, lv_job **out, lv_err *err) LV_MUST_USE;

#endif
