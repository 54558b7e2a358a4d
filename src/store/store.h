/* store/ — the storage authority: schema, numbered migrations (sql/NNN_*.sql),
 * transactions and the typed records every other component reads and writes.
 *
 * The SQL lives here and is written once in the dialect both back ends accept;
 * a back end (SQLite now, PostgreSQL later, R10.2) only implements the small
 * lv_db_driver table in store_driver.h.  Depends on core/ only. */
#ifndef LLAVE_STORE_H
#define LLAVE_STORE_H

#include "core/core.h"

#include <stdint.h>

typedef struct lv_store lv_store;

/* Opens (creating if needed) the database at `location` ("DIR/llave.db" for
 * SQLite) and applies every pending migration from the embedded sql/ files,
 * each in its own transaction. */
int store_open(const char *location, lv_store **out, lv_err *err);
void store_close(lv_store *st);
int store_schema_version(lv_store *st, int *version, lv_err *err);

/* Transactions.  store_begin takes the write lock at once (SQLite BEGIN
 * IMMEDIATE) so that a multi-row change and its audit entry are atomic and
 * the audit sequence has no gaps.  Nesting is not supported. */
int store_begin(lv_store *st, lv_err *err);
int store_commit(lv_store *st, lv_err *err);
void store_rollback(lv_store *st);
/* 1 between store_begin and store_commit/store_rollback (audit_log checks
 * that it runs inside the caller's transaction). */
int store_in_transaction(const lv_store *st);

/* ---- certification authorities (root, issuing CAs, OCSP, TSA) ---------- */
typedef struct lv_ca_rec {
    char name[32];    /* short name used in URLs: /ca/{name}.crt */
    char role[16];    /* "root", "qualified", "standard", "ocsp", "tsa" */
    char issuer[32];  /* name of the issuing CA; itself for the root */
    char key_id[65];  /* key store id of the private key */
    char serial[65];  /* hex serial as `openssl x509 -serial` prints it */
    char status[16];  /* "active", "retired", "compromised" */
    int64_t not_before;
    int64_t not_after;
    unsigned char *cert_der; /* owned; freed by store_ca_rec_free */
    size_t cert_len;
} lv_ca_rec;

int store_ca_insert(lv_store *st, const lv_ca_rec *rec, lv_err *err);
int store_ca_get(lv_store *st, const char *name, lv_ca_rec *out, lv_err *err);
/* Calls fn for every CA record in creation order; stops on fn's error. */
int store_ca_foreach(lv_store *st, int (*fn)(const lv_ca_rec *, void *),
                     void *ctx, lv_err *err);
void store_ca_rec_free(lv_ca_rec *rec);

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
    int status;             /* LV_CERT_VALID / LV_CERT_REVOKED */
    int64_t revoked_at;
    int revocation_reason;  /* RFC 5280 CRLReason code, -1 when not revoked */
    int test;               /* 1 for test certificates (R4.7) */
    unsigned char *der;     /* owned; freed by store_cert_rec_free */
    size_t der_len;
} lv_cert_rec;

int store_cert_insert(lv_store *st, const lv_cert_rec *rec, lv_err *err);
int store_cert_get(lv_store *st, const char *serial, lv_cert_rec *out,
                   lv_err *err);
/* R2.9: number of certificates for (subject, subscriber, profile) that are
 * not revoked and not expired at `now`. */
int store_cert_count_valid(lv_store *st, const char *subject_id,
                           const char *subscriber_id, const char *profile,
                           int64_t now, int *count, lv_err *err);
int store_cert_count(lv_store *st, int *count, lv_err *err);
void store_cert_rec_free(lv_cert_rec *rec);

/* ---- audit rows (the chain logic lives in audit/) --------------------- */
typedef struct lv_audit_row {
    int64_t seq;
    char time[32];     /* ISO-8601 UTC with milliseconds */
    char actor[128];
    char event[64];
    char object[256];
    char result[16];   /* "success" / "failure" */
    char *details;     /* JSON text, owned; may be NULL */
    char prev_hash[65];
    char hash[65];
} lv_audit_row;

int store_audit_insert(lv_store *st, const lv_audit_row *row, lv_err *err);
/* Fills `out` with the newest row; LV_ENOTFOUND when the trail is empty. */
int store_audit_last(lv_store *st, lv_audit_row *out, lv_err *err);
/* Rows in ascending seq order from `from_seq`. */
int store_audit_foreach(lv_store *st, int64_t from_seq,
                        int (*fn)(const lv_audit_row *, void *), void *ctx,
                        lv_err *err);
void store_audit_row_free(lv_audit_row *row);

#endif
