/* store/store_cert.h — issued end-entity certificates, their revocation,
 * status columns and publication consent (sql/001, 002).  Owner: ca/; ocsp/,
 * repo/, custody/, ra/ (a subscriber's certificates), sign/ (a citizen's
 * credentials) and cli/ read them.  The rules (reasons, expiry) live in
 * ca/; functions that change something run inside the caller's
 * transaction, next to its audit entry. */
#ifndef LLAVE_STORE_CERT_H
#define LLAVE_STORE_CERT_H

#include "core/core.h"
#include "store/store.h"

#include <stdint.h>

/* ---- end-entity certificates ------------------------------------------ */
enum { LV_CERT_VALID = 0, LV_CERT_REVOKED = 1 };

typedef struct lv_cert_rec {
    char serial[65];        /* hex, as `openssl x509 -serial` prints it */
    char ca[32];            /* issuing CA short name */
    char profile[48];       /* profile id, e.g. natural-person-cloud */
    char subject_id[72];    /* ID of the person named (IDCES-…, VATES-…) */
    char subscriber_id[72]; /* ID of the subscriber; equals subject_id for
                               individuals */
    char subject_dn[512];   /* RFC 2253 form, for display and search */
    char key_id[65];        /* key store id for cloud keys, else "" */
    int64_t not_before;
    int64_t not_after;
    int64_t created_at;
    int status; /* LV_CERT_VALID / LV_CERT_REVOKED */
    int64_t revoked_at;
    int revocation_reason; /* RFC 5280 CRLReason code, -1 when not revoked */
    int test;              /* 1 for test certificates (R4.7) */
    unsigned char *der;    /* owned; freed by store_cert_rec_free */
    size_t der_len;
} lv_cert_rec;

STORE_KEYED(cert, lv_cert_rec, serial);
/* R2.9: number of certificates for (subject, subscriber, profile) that are
 * not revoked and not expired at `now`. */
int store_cert_count_valid(lv_store *st, const char *subject_id,
                           const char *subscriber_id, const char *profile,
                           int64_t now, int *count, lv_err *err) LV_MUST_USE;
int store_cert_count(lv_store *st, int *count, lv_err *err) LV_MUST_USE;
void store_cert_rec_free(lv_cert_rec *rec);

/* Serials of the CA's certificates greater than `after` (keyset paging;
 * "" to start), ascending, at most `limit`. */
int store_cert_foreach_serial(lv_store *st, const char *ca, const char *after,
                              int limit, STORE_VISIT(char),
                              lv_err *err) LV_MUST_USE;

/* ---- revocation (sql/002_status.sql) ----------------------------------- */
typedef struct lv_revocation {
    char serial[65];
    int64_t revoked_at;
    int reason;              /* RFC 5280 CRLReason code */
    int64_t invalidity_date; /* RFC 5280 §5.3.2; 0 when not given */
    char requester[128];     /* R6.1: who asked */
    char authority[128];     /* R6.1: who processed it (operator identity) */
} lv_revocation;

/* Marks a valid certificate revoked and bumps its CA's status revision.
 * LV_ESTATE when the certificate is unknown or not valid (the caller has
 * read it first and tells the two apart): nothing is changed. */
int store_cert_revoke(lv_store *st, const lv_revocation *rev,
                      lv_err *err) LV_MUST_USE;

/* The columns of 002 that lv_cert_rec does not carry. */
typedef struct lv_cert_status {
    char serial[65];
    char requester[128];
    char authority[128];
    int64_t invalidity_date;
    int64_t publish_consent_at; /* R8.1: 0 when not consented */
} lv_cert_status;
int store_cert_status_get(lv_store *st, const char *serial, lv_cert_status *out,
                          lv_err *err) LV_MUST_USE;
/* Serials of the CA's certificates not yet revoked (expired ones too),
 * except the provider's OCSP responders (R6.5 compromise drill). */
int store_cert_foreach_unrevoked(lv_store *st, const char *ca,
                                 STORE_VISIT(char), lv_err *err) LV_MUST_USE;

/* R8.1: at > 0 records consent to publication, 0 withdraws it. */
int store_cert_set_consent(lv_store *st, const char *serial, int64_t at,
                           lv_err *err) LV_MUST_USE;
/* Consented certificates, newest consent first; der is not read. */
int store_cert_foreach_published(lv_store *st, int64_t offset, int64_t limit,
                                 STORE_VISIT(lv_cert_rec),
                                 lv_err *err) LV_MUST_USE;

/* Certificates naming `party` as subject or subscriber, newest first; the
 * records carry no DER (der NULL). */
int store_cert_foreach_party(lv_store *st, const char *party,
                             STORE_VISIT(lv_cert_rec), lv_err *err) LV_MUST_USE;

#endif
