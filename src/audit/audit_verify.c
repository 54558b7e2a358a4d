/* Verifying the audit chain: one streaming pass, stopping at the first entry
 * that does not follow from its predecessor. */
#include "audit/audit_internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct verify_ctx {
    lv_audit_report *report;
    int64_t prev_seq;   /* 0 before the first row */
    char prev_hash[65]; /* 64 zeros before the first row */
    lv_err *err;
    int broken; /* a bad entry was found */
    int rc;     /* hard error (store, memory), not tampering */
} verify_ctx;

int audit_walk_broken(lv_audit_report *report, int *broken, int64_t seq,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(report->reason, sizeof report->reason, fmt, ap);
    va_end(ap);
    report->bad_seq = seq;
    *broken = 1;
    return AUDIT_WALK_STOP;
}

/* Order of checks: sequence, link, content.  A deleted entry shows as a
 * gap; an inserted or moved one as a broken link; an edited one as a hash
 * that no longer matches its own fields. */
static int verify_row(const lv_audit_row *row, void *ctx)
{
    verify_ctx *v = ctx;
    long long seq = (long long)row->seq, prev = (long long)v->prev_seq;
    char hash[65];
    v->report->entries++;
    /* Only a row numbered 0 or below can get here (seq is the key and the
     * walk is ordered); report the position the chain expected, because
     * bad_seq 0 means "intact". */
    if (row->seq <= v->prev_seq)
        return audit_walk_broken(v->report, &v->broken, v->prev_seq + 1,
                                 "entry %lld: sequence numbers must start at 1 "
                                 "(inserted entry)",
                                 seq);
    if (row->seq != v->prev_seq + 1)
        return audit_walk_broken(
            v->report, &v->broken, row->seq,
            "entry %lld: sequence gap after %lld (deleted entry)", seq, prev);
    if (strcmp(row->prev_hash, v->prev_hash) != 0)
        return audit_walk_broken(
            v->report, &v->broken, row->seq,
            "entry %lld: prev_hash does not match entry %lld "
            "(inserted or reordered)",
            seq, prev);
    int rc = audit_row_hash(row, hash, NULL);
    if (rc == LV_ECRYPTO || rc == LV_ENOMEM) {
        v->rc = lv_fail(v->err, rc, "cannot hash audit entry %lld", seq);
        return v->rc;
    }
    if (rc < 0 || strcmp(hash, row->hash) != 0)
        return audit_walk_broken(v->report, &v->broken, row->seq,
                                 "entry %lld: hash does not match its contents "
                                 "(edited)",
                                 seq);
    v->prev_seq = row->seq;
    memcpy(v->prev_hash, row->hash, sizeof v->prev_hash);
    return 0;
}

int audit_verify(lv_store *st, lv_audit_report *report, lv_err *err)
{
    return audit_verify_opts(st, NULL, report, err);
}

int audit_verify_opts(lv_store *st, const lv_audit_verify_opts *opts,
                      lv_audit_report *report, lv_err *err)
{
    verify_ctx v = {.report = report, .err = err};
    memset(report, 0, sizeof *report);
    memset(v.prev_hash, '0', 64);
    /* From INT64_MIN, not 1: a forged row numbered 0 or below must be seen. */
    int rc = store_audit_foreach(st, INT64_MIN, verify_row, &v, err);
    if (v.broken)
        return lv_fail(err, LV_ESTATE, "audit trail broken: %s",
                       report->reason);
    if (v.rc < 0)
        return v.rc;
    LV_TRY(rc);
    /* Issue 8: the chain holds together; now what the seals vouch for. */
    return audit_verify_seals(st, opts, v.prev_seq, report, err);
}
