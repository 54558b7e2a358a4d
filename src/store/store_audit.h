/* store/store_audit.h — the audit trail's rows, its seals and the archive
 * (R9.1-R9.3; sql/001, 007).  Owner: audit/ (the chain logic lives there);
 * cli/ reads the head. */
#ifndef LLAVE_STORE_AUDIT_H
#define LLAVE_STORE_AUDIT_H

#include "core/core.h"
#include "store/store.h"

#include <stdint.h>

/* ---- audit rows (the chain logic lives in audit/) --------------------- */
typedef struct lv_audit_row {
    int64_t seq;
    char time[32]; /* ISO-8601 UTC with milliseconds */
    char actor[128];
    char event[64];
    char object[256];
    char result[16]; /* "success" / "failure" */
    char *details;   /* JSON text, owned; may be NULL */
    char prev_hash[65];
    char hash[65];
} lv_audit_row;

int store_audit_insert(lv_store *st, const lv_audit_row *row,
                       lv_err *err) LV_MUST_USE;
/* Fills `out` with the newest row; LV_ENOTFOUND when the trail is empty. */
int store_audit_last(lv_store *st, lv_audit_row *out, lv_err *err) LV_MUST_USE;
/* Rows in ascending seq order from `from_seq`. */
int store_audit_foreach(lv_store *st, int64_t from_seq,
                        STORE_VISIT(lv_audit_row), lv_err *err) LV_MUST_USE;
void store_audit_row_free(lv_audit_row *row);

/* ---- audit seals, archive, backup (sql/007_audit_seal.sql; issue 8) ----- */
/* One audit entry by sequence number; LV_ENOTFOUND when absent. */
int store_audit_get(lv_store *st, int64_t seq, lv_audit_row *out,
                    lv_err *err) LV_MUST_USE;

typedef struct lv_audit_seal_rec {
    int64_t id;    /* 1, 2, ...: a gap is a deleted seal */
    int64_t seq;   /* last audit entry covered */
    char hash[65]; /* its hash, the sealed chain head */
    int64_t sealed_at;
    char signer[32]; /* cas name of the audit-seal certificate */
    char actor[128];
    unsigned char *signature; /* owned */
    size_t signature_len;
    unsigned char *tst; /* RFC 3161 TimeStampResp DER; owned */
    size_t tst_len;
} lv_audit_seal_rec;

int store_audit_seal_insert(lv_store *st, const lv_audit_seal_rec *rec,
                            lv_err *err) LV_MUST_USE;
/* The newest seal; LV_ENOTFOUND when none. */
int store_audit_seal_last(lv_store *st, lv_audit_seal_rec *out,
                          lv_err *err) LV_MUST_USE;
/* Seals with id >= from_id in id order. */
int store_audit_seal_foreach(lv_store *st, int64_t from_id,
                             STORE_VISIT(lv_audit_seal_rec),
                             lv_err *err) LV_MUST_USE;
/* Seals covering exactly entry `seq`. */
int store_audit_seal_foreach_seq(lv_store *st, int64_t seq,
                                 STORE_VISIT(lv_audit_seal_rec),
                                 lv_err *err) LV_MUST_USE;
void store_audit_seal_rec_free(lv_audit_seal_rec *rec);

/* R9.3 archive.  kind: "cert", "ca", "crl", "registration",
 * "cert_request" (decided ones), "revocation_request"; ref: the source
 * row's key.  sha256 is computed by store/ over the row's archived
 * columns (store_archive.c documents which and how). */
#define LV_ARCHIVE_REF_MAX 96
typedef struct lv_archive_item {
    char kind[24];
    char ref[LV_ARCHIVE_REF_MAX];
    char sha256[65];
    int64_t archived_at;
    int64_t retain_until;
    int64_t batch; /* seq of the audit entry that recorded it */
} lv_archive_item;

/* Where the search for rows not archived yet stands, per kind: the time
 * (created_at, or decided_at for requests) from which rows are read. */
#define LV_ARCHIVE_KINDS 6
typedef struct lv_archive_cursor {
    int64_t since[LV_ARCHIVE_KINDS];
    char after[LV_ARCHIVE_KINDS][LV_ARCHIVE_REF_MAX]; /* last ref at since */
} lv_archive_cursor;
/* A cursor `slack` seconds before the newest row of each kind's latest
 * batch (rows whose transaction committed late, or stamped by a node
 * whose clock lags, within that bound); slack < 0: from the beginning. */
int store_archive_cursor_start(lv_store *st, int64_t slack,
                               lv_archive_cursor *cur, lv_err *err) LV_MUST_USE;
/* Up to `limit` source rows not archived yet from the cursor on, with
 * their digest and retention date (archived_at and batch are 0); the
 * cursor moves past what was visited. */
int store_archive_foreach_new(lv_store *st, lv_archive_cursor *cur, int limit,
                              STORE_VISIT(lv_archive_item),
                              lv_err *err) LV_MUST_USE;
int store_archive_insert(lv_store *st, const lv_archive_item *item,
                         lv_err *err) LV_MUST_USE;
/* Every archived item in (batch, kind, ref) order. */
int store_archive_foreach(lv_store *st, STORE_VISIT(lv_archive_item),
                          lv_err *err) LV_MUST_USE;
/* Every archived item with the digest of its source row as it is now
 * (current is "" when the row is gone), kind by kind. */
int store_archive_foreach_check(lv_store *st,
                                int (*fn)(const lv_archive_item *recorded,
                                          const char *current, void *),
                                void *ctx, lv_err *err) LV_MUST_USE;

#endif
