/* Internal to audit/: what the chain walk and the seal checks share. */
#ifndef LLAVE_AUDIT_INTERNAL_H
#define LLAVE_AUDIT_INTERNAL_H

#include "audit/audit.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "store/store_ca.h"

/* Checks every seal once the chain itself walked intact up to last_seq
 * (audit_seal.c). */
int audit_verify_seals(lv_store *st, const lv_audit_verify_opts *opts,
                       int64_t last_seq, lv_audit_report *report, lv_err *err);

/* audit_verify.c */
/* What a walk's row callback returns to stop at the first bad entry or
 * seal. */
#define AUDIT_WALK_STOP (-1000)
/* Records in report why the trail is broken at entry seq and sets *broken;
 * returns AUDIT_WALK_STOP. */
int audit_walk_broken(lv_audit_report *report, int *broken, int64_t seq,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* audit.c */
/* Computes an entry's hash from its fields and prev_hash (hex out[65]). */
int audit_row_hash(const lv_audit_row *row, char out[65], lv_err *err);

/* audit_seal.c */
/* Stores a seal and its "audit.seal" entry inside the caller's
 * transaction; rec->id is assigned (last id + 1). */
int audit_seal_record(lv_store *st, lv_audit_seal_rec *rec, const char *actor,
                      lv_err *err);

#endif
