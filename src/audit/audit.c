/* The hash-chained audit trail (R9.1, R9.2, CPS §5.4): writing entries. */
#include "audit/audit_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZERO_HASH                                                              \
    "0000000000000000000000000000000000000000000000000000000000000000"

/* The canonical form the hash covers: every field, sorted keys, no
 * whitespace.  details is re-parsed from its stored text so that the hash
 * depends on the JSON value, not on how a writer happened to format it. */
static int canonical_json(const lv_audit_row *row, char **out, lv_err *err)
{
    json_t *details = NULL;
    if (row->details) {
        json_error_t je;
        details = json_loads(row->details,
                             JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
        if (!details)
            return lv_fail(err, LV_EINVAL, "entry %lld: details are not JSON",
                           (long long)row->seq);
    }
    json_t *o =
        json_pack("{sI ss ss ss ss ss so}", "seq", (json_int_t)row->seq, "time",
                  row->time, "actor", row->actor, "event", row->event, "object",
                  row->object, "result", row->result, "details",
                  details ? details : json_null());
    /* json_pack rejects text that is not UTF-8: a row no writer made. */
    *out = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(o);
    if (!*out)
        return lv_fail(err, LV_EINVAL,
                       "entry %lld: fields are not valid UTF-8 text",
                       (long long)row->seq);
    return 0;
}

/* SHA-256 over prev_hash followed by the canonical JSON: the chain (R9.2). */
int audit_row_hash(const lv_audit_row *row, char out[65], lv_err *err)
{
    char *json = NULL;
    lv_buf chained = {0};
    LV_TRY(canonical_json(row, &json, err));
    int rc = lv_buf_appendf(&chained, "%s%s", row->prev_hash, json);
    free(json);
    if (rc == 0)
        rc = lv_sha256_hex(chained.data, chained.len, out);
    lv_buf_free(&chained);
    return rc < 0 ? lv_fail_ssl(err, LV_ECRYPTO, "SHA-256 failed") : 0;
}

/* Copies caller text into a fixed field.  Audit must not fail because an
 * object name is long or a user typed invalid UTF-8: over-long text is cut
 * on a character boundary and, failing UTF-8 validation, non-ASCII bytes
 * become '?'.  The hash covers what is stored, so the chain stays exact. */
static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src ? src : "");
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--; /* do not split a multi-byte character */
    }
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
    json_t *probe = json_string(dst);
    if (!probe)
        for (char *p = dst; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
    json_decref(probe);
}

static void format_time_ms(char out[32])
{
    int64_t ms = lv_now_ms();
    char sec[32];
    lv_time_iso(ms / 1000, sec);
    sec[19] = '\0'; /* "YYYY-MM-DDTHH:MM:SS" */
    snprintf(out, 32, "%.19s.%03dZ", sec, (int)(ms % 1000));
}

/* seq and prev_hash follow the newest row; reading it inside the writer's
 * transaction (BEGIN IMMEDIATE holds the write lock) makes them race-free. */
static int chain_next(lv_store *st, lv_audit_row *row, lv_err *err)
{
    lv_audit_row last;
    int rc = store_audit_last(st, &last, err);
    if (rc == LV_ENOTFOUND) {
        row->seq = 1;
        memcpy(row->prev_hash, ZERO_HASH, sizeof row->prev_hash);
        return 0;
    }
    LV_TRY(rc);
    row->seq = last.seq + 1;
    memcpy(row->prev_hash, last.hash, sizeof row->prev_hash);
    store_audit_row_free(&last);
    return 0;
}

static int build_row(lv_audit_row *row, const char *actor, const char *event,
                     const char *object, const char *result,
                     const json_t *details, lv_err *err)
{
    copy_field(row->actor, sizeof row->actor, actor);
    copy_field(row->event, sizeof row->event, event);
    copy_field(row->object, sizeof row->object, object);
    copy_field(row->result, sizeof row->result, result);
    format_time_ms(row->time);
    if (details) {
        row->details = json_dumps(details, JSON_SORT_KEYS | JSON_COMPACT |
                                               JSON_ENCODE_ANY);
        if (!row->details)
            return lv_fail(err, LV_EINVAL, "audit details cannot be encoded");
    }
    return 0;
}

int audit_log(lv_store *st, const char *actor, const char *event,
              const char *object, const char *result, const json_t *details,
              lv_err *err)
{
    lv_audit_row row = {0};
    int rc;
    if (!actor || !event || !event[0] || !result)
        return lv_fail(err, LV_EINVAL,
                       "audit entry needs actor, event, result");
    /* R9.1: an entry and the change it records commit together. */
    if (!store_in_transaction(st))
        return lv_fail(err, LV_ESTATE,
                       "audit_log must run inside a store transaction");
    LV_TRY_GOTO(rc, chain_next(st, &row, err), out);
    LV_TRY_GOTO(rc, build_row(&row, actor, event, object, result, details, err),
                out);
    LV_TRY_GOTO(rc, audit_row_hash(&row, row.hash, err), out);
    rc = store_audit_insert(st, &row, err);
out:
    store_audit_row_free(&row);
    return rc;
}

int audit_log_standalone(lv_store *st, const char *actor, const char *event,
                         const char *object, const char *result,
                         const json_t *details, lv_err *err)
{
    LV_TRY(store_begin(st, err));
    int rc = audit_log(st, actor, event, object, result, details, err);
    if (rc < 0) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st, err);
}
