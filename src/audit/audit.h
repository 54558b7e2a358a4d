/* audit/ — append-only, hash-chained audit trail (R9.1, R9.2, CPS §5.4).
 *
 * Entry n stores hash_n = SHA-256(hash_{n-1} || canonical JSON of entry n)
 * where the canonical JSON holds seq, time, actor, event, object, result and
 * details with sorted keys.  The first entry chains from 64 zeros.  Editing,
 * deleting, inserting or reordering a row breaks the chain at that row, which
 * audit_verify reports.  Seals (issue 8) sign the chain head: a seal over
 * entry N makes the removal of any entry up to N (truncation included)
 * detectable, and its RFC 3161 token fixes when the trail held them.
 *
 * audit_log must be called inside the caller's store transaction so that a
 * state change and its entry land together or not at all. */
#ifndef LLAVE_AUDIT_H
#define LLAVE_AUDIT_H

#include "core/core.h"
#include "store/store.h"

#define LV_AUDIT_SUCCESS "success"
#define LV_AUDIT_FAILURE "failure"

/* Appends one entry.  details may be NULL; it is not stolen. */
int audit_log(lv_store *st, const char *actor, const char *event,
              const char *object, const char *result, const json_t *details,
              lv_err *err);

/* Convenience for failures that must be recorded even though the caller's
 * transaction was rolled back: runs its own transaction. */
int audit_log_standalone(lv_store *st, const char *actor, const char *event,
                         const char *object, const char *result,
                         const json_t *details, lv_err *err);

typedef struct lv_audit_report {
    int64_t entries;    /* rows checked */
    int64_t bad_seq;    /* first bad sequence number, 0 when intact */
    char reason[160];   /* why that entry is bad */
    int64_t seals;      /* seals checked (issue 8) */
    int64_t sealed_seq; /* entries up to here are covered by a seal */
} lv_audit_report;

/* Walks the whole chain, then every seal (issue 8): seal numbers without
 * gaps, the sealed entry present (else the trail was truncated) with the
 * sealed hash, the signature by an audit-seal certificate that chains to
 * the stored root, and the RFC 3161 token over the same message.  Returns
 * 0 with report->bad_seq == 0 when intact, LV_ESTATE with the first bad
 * entry named when not. */
int audit_verify(lv_store *st, lv_audit_report *report, lv_err *err);

/* Computes an entry's hash from its fields and prev_hash (hex out[65]). */
int audit_row_hash(const lv_audit_row *row, char out[65], lv_err *err);

/* ---- seals (R9.2; issue 8) -------------------------------------------------
 * A seal signs and time-stamps the text
 *     llave-audit-seal/1 seq=<N> hash=<hash of entry N>
 * (no newline), which anyone can rebuild from an exported entry and check
 * with `openssl dgst -sha256 -verify` and `openssl ts -verify -data`. */
#define LV_AUDIT_SEAL_MSG_MAX 128
#define LV_AUDIT_SEAL_ROLE "audit" /* cas role of audit-seal certificates */

int audit_seal_message(int64_t seq, const char *hash,
                       char out[LV_AUDIT_SEAL_MSG_MAX]);
/* Stores a seal and its "audit.seal" entry inside the caller's
 * transaction; rec->id is assigned (last id + 1). */
int audit_seal_record(lv_store *st, lv_audit_seal_rec *rec, const char *actor,
                      lv_err *err);

typedef struct lv_audit_verify_opts {
    /* The auditor's own record: entries up to here existed (for example
     * the seq of the last seal they exported).  A trail ending earlier is
     * reported as truncated even if its newer seals were removed too.
     * 0: none. */
    int64_t expect_seq;
} lv_audit_verify_opts;
int audit_verify_opts(lv_store *st, const lv_audit_verify_opts *opts,
                      lv_audit_report *report, lv_err *err);

/* JSON lines (R9.2): one object per entry from from_seq on, with its
 * details as JSON and both hashes ({"type":"entry",...}), each seal right
 * after the entry it covers ({"type":"seal", "message", "signature" and
 * "tst" in base64, "certificate" PEM}).  fn receives each line without
 * the newline; at most `limit` entries (0: all).  *next (may be NULL) is
 * the seq to continue from (0 when the end was reached). */
int audit_export(lv_store *st, int64_t from_seq, int64_t limit,
                 int (*fn)(const char *line, void *), void *ctx, int64_t *next,
                 lv_err *err);

/* ---- archive (R9.3, CPS §5.5; issue 8) ------------------------------------
 * Records the records not yet archived (store_archive_foreach_new) in
 * batches of at most 500, each with one "archive.record" entry holding the
 * number of items and the SHA-256 of their "kind ref sha256\n" lines in
 * (kind, ref) order: the item hashes are then covered by the sealed chain.
 * *recorded (may be NULL) counts the items. */
int audit_archive_sync(lv_store *st, const char *actor, int64_t *recorded,
                       lv_err *err);

typedef struct lv_archive_report {
    int64_t items;    /* items checked */
    int64_t batches;  /* batches checked against their audit entries */
    int64_t problems; /* mismatches reported through fn */
} lv_archive_report;
/* Checks every archived record against its recorded hash (changed or
 * missing rows) and every batch against its audit entry.  fn gets each
 * problem (kind, ref, what).  Returns 0 when all match, LV_ESTATE if not. */
int audit_archive_verify(lv_store *st,
                         void (*fn)(const char *kind, const char *ref,
                                    const char *problem, void *),
                         void *ctx, lv_archive_report *report, lv_err *err);

#endif
