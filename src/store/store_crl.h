/* store/store_crl.h — the CRLs every CA published and the entries a new
 * one lists (sql/002_status.sql).  Owner: crl/ (custody/ exports them at
 * termination). */
#ifndef LLAVE_STORE_CRL_H
#define LLAVE_STORE_CRL_H

#include "core/core.h"
#include "store/store.h"

#include <stdint.h>

/* One entry of a CRL. */
typedef struct lv_crl_entry {
    char serial[65];
    int64_t revoked_at;
    int reason;
    int64_t invalidity_date; /* 0: none */
} lv_crl_entry;
/* R6.3: the certificates and subordinate CAs issued by `ca` that are
 * revoked and not expired at `now`, streamed (a CRL may have millions). */
int store_crl_foreach_entry(lv_store *st, const char *ca, int64_t now,
                            STORE_VISIT(lv_crl_entry), lv_err *err) LV_MUST_USE;

typedef struct lv_crl_rec {
    char ca[32];
    int64_t number; /* cRLNumber, monotonic per CA */
    int64_t this_update;
    int64_t next_update; /* 0: final CRL without nextUpdate (R6.5) */
    int64_t revision;    /* the CA status revision it covers */
    int64_t entries;
    unsigned char *der; /* owned; NULL when read without it */
    size_t der_len;
} lv_crl_rec;
int store_crl_insert(lv_store *st, const lv_crl_rec *rec,
                     lv_err *err) LV_MUST_USE;
/* The newest CRL of `ca`; LV_ENOTFOUND when none.  with_der 0 reads only
 * the metadata (cheap check before serving or regenerating). */
int store_crl_latest(lv_store *st, const char *ca, int with_der,
                     lv_crl_rec *out, lv_err *err) LV_MUST_USE;
void store_crl_rec_free(lv_crl_rec *rec);

#endif
