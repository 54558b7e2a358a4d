/* The archive (R9.3, CPS §5.5): recording the digests of archived records
 * in batches tied to the audit chain, and the verification procedure of
 * CPS §5.5.6 (`llave archive verify`). */
#include "audit/audit_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 500

typedef struct item_list {
    lv_archive_item *items;
    size_t count;
} item_list;

static int collect(const lv_archive_item *it, void *arg)
{
    item_list *l = arg;
    lv_archive_item *grown =
        realloc(l->items, (l->count + 1) * sizeof *l->items);
    if (!grown)
        return LV_ENOMEM;
    l->items = grown;
    l->items[l->count++] = *it;
    return 0;
}

static int by_kind_ref(const void *a, const void *b)
{
    const lv_archive_item *x = a, *y = b;
    int c = strcmp(x->kind, y->kind);
    return c ? c : strcmp(x->ref, y->ref);
}

/* SHA-256 of "kind ref sha256\n" for each item, in (kind, ref) order. */
typedef struct batch_md {
    EVP_MD_CTX *ctx;
    int64_t count;
} batch_md;

static int batch_start(batch_md *b)
{
    b->count = 0;
    b->ctx = EVP_MD_CTX_new();
    return b->ctx && EVP_DigestInit_ex(b->ctx, EVP_sha256(), NULL) ? 0
                                                                   : LV_ECRYPTO;
}

static int batch_add(batch_md *b, const lv_archive_item *it)
{
    char line[256];
    int n = snprintf(line, sizeof line, "%s %s %s\n", it->kind, it->ref,
                     it->sha256);
    b->count++;
    return EVP_DigestUpdate(b->ctx, line, (size_t)n) ? 0 : LV_ECRYPTO;
}

static int batch_end(batch_md *b, char out[65])
{
    unsigned char md[32];
    int ok = EVP_DigestFinal_ex(b->ctx, md, NULL);
    EVP_MD_CTX_free(b->ctx);
    b->ctx = NULL;
    if (!ok)
        return LV_ECRYPTO;
    lv_hex_encode(md, sizeof md, out);
    return 0;
}

/* One batch: its audit entry first (the entry's seq names the batch), then
 * the items, in one transaction. */
static int record_batch(lv_store *st, const char *actor, item_list *l,
                        lv_err *err)
{
    batch_md b;
    char digest[65];
    lv_audit_row last;
    int64_t now = lv_now();
    if (l->count > 1) /* items may be NULL when empty */
        qsort(l->items, l->count, sizeof *l->items, by_kind_ref);
    LV_TRY(batch_start(&b));
    for (size_t i = 0; i < l->count; i++)
        batch_add(&b, &l->items[i]);
    LV_TRY(batch_end(&b, digest));
    json_t *d = json_pack("{s:I, s:s}", "items", (json_int_t)l->count, "digest",
                          digest);
    int rc = audit_log(st, actor, "archive.record", "batch", LV_AUDIT_SUCCESS,
                       d, err);
    json_decref(d);
    LV_TRY(rc);
    LV_TRY(store_audit_last(st, &last, err));
    store_audit_row_free(&last);
    for (size_t i = 0; i < l->count; i++) {
        l->items[i].archived_at = now;
        l->items[i].batch = last.seq;
        LV_TRY(store_archive_insert(st, &l->items[i], err));
    }
    return 0;
}

int audit_archive_sync(lv_store *st, const char *actor, int64_t slack,
                       int max_batches, int64_t *recorded, lv_err *err)
{
    int64_t total = 0;
    lv_archive_cursor cur;
    int rc = store_archive_cursor_start(st, slack, &cur, err);
    for (int n = 0; rc == 0 && (max_batches <= 0 || n < max_batches); n++) {
        item_list l = {0};
        LV_TRY_GOTO(rc, store_begin(st, err), out);
        rc = store_archive_foreach_new(st, &cur, BATCH_MAX, collect, &l, err);
        if (rc == 0 && l.count > 0)
            rc = record_batch(st, actor, &l, err);
        if (rc == 0 && l.count > 0)
            rc = store_commit(st, err);
        else
            store_rollback(st);
        total += rc == 0 ? (int64_t)l.count : 0;
        free(l.items);
        if (l.count < BATCH_MAX)
            break;
    }
out:
    if (recorded)
        *recorded = total;
    return rc;
}

/* ---- verification (CPS §5.5.6) ---------------------------------------------
 */
typedef struct verify_ctx {
    lv_store *st;
    void (*fn)(const char *, const char *, const char *, void *);
    void *ctx;
    lv_archive_report *rep;
    int64_t batch; /* current batch while walking in batch order */
    batch_md md;
} verify_ctx;

static void problem(verify_ctx *v, const char *kind, const char *ref,
                    const char *what)
{
    v->rep->problems++;
    if (v->fn)
        v->fn(kind, ref, what, v->ctx);
}

static int check_item(const lv_archive_item *it, const char *current, void *arg)
{
    verify_ctx *v = arg;
    v->rep->items++;
    if (!current[0])
        problem(v, it->kind, it->ref, "record missing (deleted)");
    else if (strcmp(current, it->sha256) != 0)
        problem(v, it->kind, it->ref,
                "content does not match its archived SHA-256 (altered)");
    return 0;
}

/* The batch's digest and size against its sealed audit entry. */
static void batch_close(verify_ctx *v)
{
    char digest[65], ref[32];
    lv_audit_row row;
    if (v->batch == 0)
        return;
    int64_t count = v->md.count;
    snprintf(ref, sizeof ref, "%lld", (long long)v->batch);
    v->rep->batches++;
    if (batch_end(&v->md, digest) < 0 ||
        store_audit_get(v->st, v->batch, &row, NULL) < 0) {
        problem(v, "batch", ref, "no audit entry records this batch");
        return;
    }
    json_t *d = row.details ? json_loads(row.details, 0, NULL) : NULL;
    const char *want = lv_json_str(d, "digest");
    json_int_t n = json_integer_value(json_object_get(d, "items"));
    if (strcmp(row.event, "archive.record") != 0 || !want || n != count ||
        strcmp(want, digest) != 0)
        problem(v, "batch", ref,
                "archived hashes differ from the audit entry that recorded "
                "them (archive table altered)");
    json_decref(d);
    store_audit_row_free(&row);
}

static int check_batch(const lv_archive_item *it, void *arg)
{
    verify_ctx *v = arg;
    if (it->batch != v->batch) {
        batch_close(v);
        v->batch = it->batch;
        LV_TRY(batch_start(&v->md));
    }
    return batch_add(&v->md, it);
}

int audit_archive_verify(lv_store *st,
                         void (*fn)(const char *kind, const char *ref,
                                    const char *problem, void *),
                         void *ctx, lv_archive_report *report, lv_err *err)
{
    memset(report, 0, sizeof *report);
    verify_ctx v = {st, fn, ctx, report, 0, {0}};
    LV_TRY(store_archive_foreach_check(st, check_item, &v, err));
    int rc = store_archive_foreach(st, check_batch, &v, err);
    if (rc == 0)
        batch_close(&v);
    EVP_MD_CTX_free(v.md.ctx);
    LV_TRY(rc);
    if (report->problems > 0)
        return lv_fail(err, LV_ESTATE, "%lld archive problem(s) found",
                       (long long)report->problems);
    return 0;
}
