/* audit/ — append-only, hash-chained audit trail (R9.1, R9.2, CPS §5.4).
 *
 * Entry n stores hash_n = SHA-256(hash_{n-1} || canonical JSON of entry n)
 * where the canonical JSON holds seq, time, actor, event, object, result and
 * details with sorted keys.  The first entry chains from 64 zeros.  Editing,
 * deleting, inserting or reordering a row breaks the chain at that row, which
 * audit_verify reports.  Signed seals over the chain come with issue 8.
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
    int64_t entries;   /* rows checked */
    int64_t bad_seq;   /* first bad sequence number, 0 when intact */
    char reason[160];  /* why that entry is bad */
} lv_audit_report;

/* Walks the whole chain.  Returns 0 with report->bad_seq == 0 when intact,
 * LV_ESTATE with the first bad entry named when not. */
int audit_verify(lv_store *st, lv_audit_report *report, lv_err *err);

/* Computes an entry's hash from its fields and prev_hash (hex out[65]). */
int audit_row_hash(const lv_audit_row *row, char out[65], lv_err *err);

#endif
