/* Internal to audit/: what the chain walk and the seal checks share. */
#ifndef LLAVE_AUDIT_INTERNAL_H
#define LLAVE_AUDIT_INTERNAL_H

#include "audit/audit.h"

/* Checks every seal once the chain itself walked intact up to last_seq
 * (audit_seal.c). */
int audit_verify_seals(lv_store *st, const lv_audit_verify_opts *opts,
                       int64_t last_seq, lv_audit_report *report, lv_err *err);

#endif
