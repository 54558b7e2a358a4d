/* crl/ — the certificate revocation lists of every CA (R6.3, RFC 5280 §5;
 * CPS §4.9.7): built with OpenSSL's X509_CRL API from the revoked,
 * unexpired certificates in the store, signed by the CA key through the CA
 * context (llave-keyd), stored with a monotonic CRL number.  Regenerated
 * after every revocation (ra_revoke_publish) and on a schedule by llaved's
 * keeper; a compromised CA gets a final CRL without nextUpdate (R6.5).
 *
 *   crl.c         crl_generate, crl_refresh, crl_latest
 *   crl_keeper.c  llaved's keeper thread
 *
 * Depends on core/, store/, audit/, ca/. */
#ifndef LLAVE_CRL_H
#define LLAVE_CRL_H

#include "ca/ca.h"
#include "core/core.h"

typedef struct lv_crl_info {
    char ca[32];
    int64_t number;
    int64_t this_update;
    int64_t next_update; /* 0: final CRL */
    int64_t entries;
} lv_crl_info;

/* Builds, signs and stores the next CRL v2 of the CA `name` (root or issuing
 * CA, active or retired): CRL number, AKI, thisUpdate/nextUpdate
 * (crl_interval_hours), one entry per revoked unexpired certificate with
 * its reason code and invalidity date.  A compromised CA gets its final CRL
 * without nextUpdate (R6.5), after which it is refused (LV_ESTATE).  Takes
 * the store's write lock for the whole build so that CRL numbers and
 * contents never go backwards; audited as crl.generate.  out may be NULL. */
int crl_generate(lv_ca *ca, lv_store *st, const char *name, const char *actor,
                 lv_crl_info *out, lv_err *err) LV_MUST_USE;
/* The names of the CAs that issue CRLs (the root and the issuing CAs), in
 * creation order; lv_strs_free frees them. */
int crl_issuers(lv_store *st, lv_strs *names, lv_err *err) LV_MUST_USE;
/* Generates the CRLs that are due: none yet, half their interval (at most
 * 24 h) elapsed, behind a status change, or a compromised CA without its
 * final CRL.  *generated (may be NULL) counts them. */
int crl_refresh(lv_ca *ca, lv_store *st, const char *actor, int *generated,
                lv_err *err) LV_MUST_USE;

/* A published CRL, as served at /crl/{name}.crl. */
typedef struct lv_crl {
    lv_crl_info info;
    unsigned char *der; /* DER X509_CRL; NULL when read without it */
    size_t der_len;
} lv_crl;
/* The newest CRL of a CA (with_der 0: metadata only); LV_ENOTFOUND when it
 * has none yet.  crl_free releases it. */
int crl_latest(lv_ca *ca, lv_store *st, const char *name, int with_der,
               lv_crl *out, lv_err *err) LV_MUST_USE;
void crl_free(lv_crl *crl);

/* llaved's CRL keeper: a job (lv_job_stop stops it) with its own store that
 * runs crl_refresh every crl_check_seconds (the first pass before start
 * returns).  Not started (*out NULL) while keyd is sealed. */
int crl_keeper_start(lv_ca *ca, lv_job **out, lv_err *err) LV_MUST_USE;

#endif
