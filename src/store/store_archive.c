/* The archive of R9.3 / CPS §5.5 (table archive_items, sql/007): which
 * records are archived, their retention dates and the digest that stands
 * for their content.
 *
 * Digest of a record: SHA-256 over "llave-archive-v1", NUL, kind, NUL, ref,
 * NUL, then for each archived column its length as 8 bytes big-endian
 * (all ones for SQL NULL) and its bytes (integers as decimal text).  The
 * columns are the ones a record never changes after it is archived: a
 * certificate's DER, a CRL, the evidence rows of registrations and
 * requests.  Status changes (revocation) are audit events instead. */
#include "store/store_rows.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define RETAIN "473354280" /* 15 years of 365.2425 days, CPS §5.5.2 */
#define ARCHIVE_COLS 8

typedef struct archive_kind {
    const char *kind;
    const char *table;
    const char *ref;    /* expression naming the row */
    const char *retain; /* retention date expression */
    const char *cols;   /* ARCHIVE_COLS expressions (NULL padded) */
    const char *where;  /* which rows are archived */
    /* When the row became archivable, an indexed column (sql/017): new
     * rows are looked for from a time on, never by a scan of the table. */
    const char *since;
} archive_kind;

static const archive_kind KINDS[] = {
    {"cert", "certs", "t.serial", "t.not_after + " RETAIN,
     "t.serial, t.ca, t.profile, t.subject_id, t.created_at, t.der, NULL, "
     "NULL",
     "1 = 1", "t.created_at"},
    {"ca", "cas", "t.name", "t.not_after + " RETAIN,
     "t.name, t.role, t.issuer, t.key_id, t.serial, t.cert_der, NULL, NULL",
     "1 = 1", "t.created_at"},
    {"crl", "crls", "t.ca || ':' || CAST(t.crl_number AS TEXT)",
     "t.this_update + " RETAIN,
     "t.ca, t.crl_number, t.this_update, t.next_update, t.der, NULL, NULL, "
     "NULL",
     "1 = 1", "t.this_update"},
    {"registration", "registrations", "t.id", "t.retain_until",
     "t.id, t.citizen_id, t.kind, t.method, t.actor, t.evidence_ref, "
     "t.details, t.created_at",
     "1 = 1", "t.created_at"},
    {"revocation_request", "revocation_requests", "t.id",
     "t.created_at + " RETAIN,
     "t.id, t.serial, t.reason, t.requester, t.capacity, t.comment, "
     "t.contact, t.created_at",
     "1 = 1", "t.created_at"},
    /* Decided requests only: a pending one still changes. */
    {"cert_request", "cert_requests", "t.id", "t.created_at + " RETAIN,
     "t.id, t.org_id, t.profile, t.subject, t.status, t.decided_by, "
     "t.reason, t.cert_serial",
     "t.status <> 'pending'", "t.decided_at"},
};
#define NKINDS (sizeof KINDS / sizeof KINDS[0])
_Static_assert(NKINDS == LV_ARCHIVE_KINDS,
               "lv_archive_cursor has a slot per kind");

static int digest_row(store_q *q, int first, const archive_kind *k,
                      const char *ref, char out[65])
{
    unsigned char md[32];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, "llave-archive-v1", 17) &&
             EVP_DigestUpdate(ctx, k->kind, strlen(k->kind) + 1) &&
             EVP_DigestUpdate(ctx, ref, strlen(ref) + 1);
    for (int i = 0; ok && i < ARCHIVE_COLS; i++) {
        size_t n = 0;
        const void *p = q->st->drv->column_blob(q->stmt, first + i, &n);
        const char *t = p ? NULL : q->st->drv->column_text(q->stmt, first + i);
        unsigned char len[8];
        uint64_t v = p ? n : (t ? 0 : UINT64_MAX);
        for (int b = 7; b >= 0; b--, v >>= 8)
            len[b] = (unsigned char)(v & 0xff);
        ok = EVP_DigestUpdate(ctx, len, sizeof len) &&
             (!p || EVP_DigestUpdate(ctx, p, n));
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, NULL);
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return lv_fail(q->err, LV_ECRYPTO, "SHA-256 failed");
    lv_hex_encode(md, sizeof md, out);
    return 0;
}

/* ---- new rows ------------------------------------------------------------
 * Found from each kind's cursor on, in (since, ref) order, through the
 * index on the since column; rows at or after the cursor that are already
 * archived are skipped by a primary-key probe into archive_items.  A pass
 * therefore costs the rows of its time window, not the size of the table:
 * the former `NOT IN (SELECT ref FROM archive_items)` scan read every
 * certificate each pass and, at 10 000 000, held the write lock for
 * minutes. */

/* The newest since-time among the items of the kind's latest batch: where
 * the previous pass stopped (batches are recorded in since order). */
static int latest_batch_since(lv_store *st, const archive_kind *k, int64_t *out,
                              lv_err *err)
{
    char sql[512];
    store_q q;
    snprintf(sql, sizeof sql,
             "SELECT max(%s) FROM %s t WHERE %s IN (SELECT a.ref FROM"
             " archive_items a WHERE a.kind = ? AND a.batch = (SELECT"
             " max(b.batch) FROM archive_items b WHERE b.kind = ?))",
             k->since, k->table, k->ref);
    STORE_Q(&q, st, err, sql, SQ_TEXT(k->kind), SQ_TEXT(k->kind));
    int rc = store_q_step(&q);
    *out = rc == LV_DB_ROW ? store_q_col_int64(&q, 0) : 0;
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

int store_archive_cursor_start(lv_store *st, int64_t slack,
                               lv_archive_cursor *cur, lv_err *err)
{
    for (size_t i = 0; i < NKINDS; i++) {
        int64_t latest = 0;
        if (slack >= 0)
            LV_TRY(latest_batch_since(st, &KINDS[i], &latest, err));
        cur->since[i] = latest > slack ? latest - slack : 0;
        cur->after[i][0] = '\0'; /* every row stamped `since` */
    }
    return 0;
}

static int new_of_kind(lv_store *st, const archive_kind *k, int64_t *since,
                       char *after, int limit, STORE_VISIT(lv_archive_item),
                       int *seen, lv_err *err)
{
    char sql[1024];
    store_q q;
    int rc;
    /* keyset (since, ref) > cursor: rows stamped in the same second as the
     * cursor are not read again page after page */
    snprintf(sql, sizeof sql,
             "SELECT %s, %s, %s, %s FROM %s t WHERE %s AND (%s, %s) > (?, ?)"
             " AND NOT EXISTS (SELECT 1 FROM archive_items a WHERE a.kind = ?"
             " AND a.ref = %s) ORDER BY %s, %s LIMIT ?",
             k->ref, k->retain, k->cols, k->since, k->table, k->where, k->since,
             k->ref, k->ref, k->since, k->ref);
    STORE_Q(&q, st, err, sql, SQ_INT(*since), SQ_TEXT(after), SQ_TEXT(k->kind),
            SQ_INT(limit));
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        lv_archive_item it = {0};
        snprintf(it.kind, sizeof it.kind, "%s", k->kind);
        rc = store_q_col_copy(&q, 0, it.ref, sizeof it.ref);
        it.retain_until = store_q_col_int64(&q, 1);
        if (rc == 0)
            rc = digest_row(&q, 2, k, it.ref, it.sha256);
        if (rc == 0)
            rc = fn(&it, ctx);
        if (rc < 0)
            break;
        *since = store_q_col_int64(&q, 2 + ARCHIVE_COLS);
        snprintf(after, LV_ARCHIVE_REF_MAX, "%s", it.ref);
        (*seen)++;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

int store_archive_foreach_new(lv_store *st, lv_archive_cursor *cur, int limit,
                              STORE_VISIT(lv_archive_item), lv_err *err)
{
    int seen = 0;
    for (size_t i = 0; i < NKINDS && seen < limit; i++)
        LV_TRY(new_of_kind(st, &KINDS[i], &cur->since[i], cur->after[i],
                           limit - seen, fn, ctx, &seen, err));
    return 0;
}

#define ITEM_COLS                                                              \
    "a.kind, a.ref, a.sha256, a.archived_at, a.retain_until, a.batch"

int store_archive_insert(lv_store *st, const lv_archive_item *it, lv_err *err)
{
    return store_row_insert(st, &store_row_archive, it, err);
}

/* ---- recorded rows --------------------------------------------------------
 */

int store_archive_foreach(lv_store *st, STORE_VISIT(lv_archive_item),
                          lv_err *err)
{
    STORE_RETURN_EACH(lv_archive_item, &store_row_archive, st, err, fn, ctx,
                      "SELECT " ITEM_COLS
                      " FROM archive_items a ORDER BY a.batch, a.kind, a.ref");
}

/* Present rows are joined from the source side, so that the lookup into
 * archive_items uses its primary key whatever the ref expression. */
static int check_present(lv_store *st, const archive_kind *k,
                         int (*fn)(const lv_archive_item *, const char *,
                                   void *),
                         void *ctx, lv_err *err)
{
    char sql[1024], now[65];
    store_q q;
    lv_archive_item it;
    int rc;
    snprintf(sql, sizeof sql,
             "SELECT " ITEM_COLS ", %s FROM %s t JOIN archive_items a"
             " ON a.kind = ? AND a.ref = %s ORDER BY a.ref",
             k->cols, k->table, k->ref);
    STORE_Q(&q, st, err, sql, SQ_TEXT(k->kind));
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        rc = store_row_read(&q, &store_row_archive, &it);
        if (rc == 0)
            rc = digest_row(&q, 6, k, it.ref, now);
        if (rc == 0)
            rc = fn(&it, now, ctx);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

static int check_missing(lv_store *st, const archive_kind *k,
                         int (*fn)(const lv_archive_item *, const char *,
                                   void *),
                         void *ctx, lv_err *err)
{
    char sql[1024];
    store_q q;
    lv_archive_item it;
    int rc;
    snprintf(sql, sizeof sql,
             "SELECT " ITEM_COLS " FROM archive_items a WHERE a.kind = ?"
             " AND a.ref NOT IN (SELECT %s FROM %s t) ORDER BY a.ref",
             k->ref, k->table);
    STORE_Q(&q, st, err, sql, SQ_TEXT(k->kind));
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        rc = store_row_read(&q, &store_row_archive, &it);
        if (rc == 0)
            rc = fn(&it, "", ctx);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

int store_archive_foreach_check(lv_store *st,
                                int (*fn)(const lv_archive_item *recorded,
                                          const char *current, void *),
                                void *ctx, lv_err *err)
{
    for (size_t i = 0; i < NKINDS; i++) {
        LV_TRY(check_present(st, &KINDS[i], fn, ctx, err));
        LV_TRY(check_missing(st, &KINDS[i], fn, ctx, err));
    }
    return 0;
}
