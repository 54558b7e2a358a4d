/* The row mapping of store_driver.h: one column table per record type
 * drives binding, reading, checking and freeing, so that the domain files
 * only hold their SQL and their rules. */
#include "store/store_driver.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(rec, c) ((char *)(rec) + (c)->off)
#define CFIELD(rec, c) ((const char *)(rec) + (c)->off)

static int64_t get_i64(const void *rec, const store_col *c)
{
    int64_t v;
    memcpy(&v, CFIELD(rec, c), sizeof v);
    return v;
}

static int get_int(const void *rec, const store_col *c)
{
    int v;
    memcpy(&v, CFIELD(rec, c), sizeof v);
    return v;
}

static size_t get_len(const void *rec, const store_col *c)
{
    size_t v;
    memcpy(&v, (const char *)rec + c->len_off, sizeof v);
    return v;
}

static const void *get_ptr(const void *rec, const store_col *c)
{
    const void *p;
    memcpy(&p, CFIELD(rec, c), sizeof p);
    return p;
}

static void set_i64(void *rec, const store_col *c, int64_t v)
{
    memcpy(FIELD(rec, c), &v, sizeof v);
}

static void set_int(void *rec, const store_col *c, int v)
{
    memcpy(FIELD(rec, c), &v, sizeof v);
}

static void set_len(void *rec, const store_col *c, size_t v)
{
    memcpy((char *)rec + c->len_off, &v, sizeof v);
}

static void set_ptr(void *rec, const store_col *c, const void *p)
{
    memcpy(FIELD(rec, c), &p, sizeof p);
}

static int filled(const void *rec, const store_col *c)
{
    switch (c->kind) {
    case STORE_TEXT:
        return CFIELD(rec, c)[0] != '\0';
    case STORE_BLOB:
    case STORE_BLOB_OPT:
        return get_ptr(rec, c) != NULL && get_len(rec, c) > 0;
    case STORE_BYTES:
    case STORE_BYTES_OPT:
        return get_len(rec, c) > 0;
    case STORE_STR:
    case STORE_STR_OPT:
    case STORE_STR_REF:
        return get_ptr(rec, c) != NULL;
    default:
        return 1;
    }
}

int store_row_check(const store_row *t, const void *rec, lv_err *err)
{
    for (size_t i = 0; i < t->n; i++) {
        const store_col *c = &t->cols[i];
        if (c->kind == STORE_TEXT)
            LV_TRY(store_check_field(CFIELD(rec, c), c->size, c->name, err));
        if ((c->kind == STORE_BYTES || c->kind == STORE_BYTES_OPT) &&
            get_len(rec, c) > c->size)
            return lv_fail(err, LV_EINVAL, "%s is longer than its field",
                           c->name);
    }
    for (size_t i = 0; i < t->n; i++)
        if (t->cols[i].need && !filled(rec, &t->cols[i]))
            return t->incomplete ? lv_fail(err, LV_EINVAL, "%s", t->incomplete)
                                 : lv_fail(err, LV_EINVAL, "%s is required",
                                           t->cols[i].name);
    return 0;
}

static void bind_blob(store_q *q, const store_col *c, const void *p, size_t len)
{
    if ((c->kind == STORE_BLOB_OPT || c->kind == STORE_BYTES_OPT) && len == 0)
        store_q_text(q, NULL);
    else
        store_q_blob(q, p, len);
}

static void bind_col(store_q *q, const store_col *c, const void *rec,
                     int64_t now)
{
    int64_t v;
    switch (c->kind) {
    case STORE_TEXT:
        store_q_text(q, CFIELD(rec, c));
        break;
    case STORE_INT:
    case STORE_FLAG:
        v = get_int(rec, c);
        store_q_int64(q, c->kind == STORE_FLAG ? v != 0 : v);
        break;
    case STORE_I64:
    case STORE_CREATED:
        v = get_i64(rec, c);
        store_q_int64(q, v == 0 && c->kind == STORE_CREATED ? now : v);
        break;
    case STORE_TOUCHED:
        store_q_int64(q, now);
        break;
    case STORE_BLOB:
    case STORE_BLOB_OPT:
        bind_blob(q, c, get_ptr(rec, c), get_len(rec, c));
        break;
    case STORE_BYTES:
    case STORE_BYTES_OPT:
        bind_blob(q, c, CFIELD(rec, c), get_len(rec, c));
        break;
    case STORE_FIXED:
        store_q_blob(q, CFIELD(rec, c), c->size);
        break;
    case STORE_STR:
    case STORE_STR_REF:
        store_q_text(q, get_ptr(rec, c));
        break;
    case STORE_STR_OPT:
        store_q_text(q, get_ptr(rec, c) ? get_ptr(rec, c) : "");
        break;
    }
}

void store_row_bind_range(store_q *q, const store_row *t, const void *rec,
                          size_t from, size_t to)
{
    int64_t now = lv_now();
    for (size_t i = from; i < to && i < t->n; i++)
        bind_col(q, &t->cols[i], rec, now);
}

void store_row_bind(store_q *q, const store_row *t, const void *rec)
{
    store_row_bind_range(q, t, rec, 0, t->n);
}

/* STORE_BYTES: 1..size bytes; STORE_BYTES_OPT: also none (NULL or empty);
 * STORE_FIXED: exactly size bytes. */
static int read_bytes(store_q *q, const store_col *c, int col, void *rec)
{
    size_t n = 0;
    const void *p = q->st->drv->column_blob(q->stmt, col, &n);
    if (!p)
        n = 0;
    if (n == 0 && c->kind == STORE_BYTES_OPT)
        return 0; /* store_row_read zeroed the length */
    if (n == 0 || n > c->size || (c->kind == STORE_FIXED && n != c->size))
        return lv_fail(q->err, LV_ESTORE, "column %s is not one llave wrote",
                       c->name);
    memcpy(FIELD(rec, c), p, n);
    if (c->kind != STORE_FIXED)
        set_len(rec, c, n);
    return 0;
}

static int read_blob(store_q *q, const store_col *c, int col, void *rec)
{
    unsigned char *p = NULL;
    size_t n = 0;
    int rc = store_q_col_blob(q, col, &p, &n);
    set_ptr(rec, c, p);
    set_len(rec, c, n);
    return rc;
}

/* SQL NULL stays NULL; STORE_STR_OPT reads '' as NULL too. */
static int read_str(store_q *q, const store_col *c, int col, void *rec)
{
    const char *v = q->st->drv->column_text(q->stmt, col);
    if (!v || (c->kind == STORE_STR_OPT && !*v))
        return 0;
    char *copy = strdup(v);
    if (!copy)
        return lv_fail(q->err, LV_ENOMEM, "out of memory");
    set_ptr(rec, c, copy);
    return 0;
}

static int read_col(store_q *q, const store_col *c, int col, void *rec)
{
    switch (c->kind) {
    case STORE_TEXT:
        return store_q_col_copy(q, col, FIELD(rec, c), c->size);
    case STORE_INT:
    case STORE_FLAG:
        set_int(rec, c, (int)store_q_col_int64(q, col));
        return 0;
    case STORE_I64:
    case STORE_CREATED:
    case STORE_TOUCHED:
        set_i64(rec, c, store_q_col_int64(q, col));
        return 0;
    case STORE_BLOB:
    case STORE_BLOB_OPT:
        return read_blob(q, c, col, rec);
    case STORE_BYTES:
    case STORE_BYTES_OPT:
    case STORE_FIXED:
        return read_bytes(q, c, col, rec);
    case STORE_STR:
    case STORE_STR_OPT:
        return read_str(q, c, col, rec);
    case STORE_STR_REF:
        set_ptr(rec, c, q->st->drv->column_text(q->stmt, col));
        return 0;
    }
    return lv_fail(q->err, LV_EINTERNAL, "unknown column kind");
}

int store_row_read(store_q *q, const store_row *t, void *rec)
{
    memset(rec, 0, t->size);
    for (size_t i = 0; i < t->n; i++)
        LV_TRY(read_col(q, &t->cols[i], (int)i, rec));
    return 0;
}

void store_row_free(const store_row *t, void *rec)
{
    if (!rec)
        return;
    for (size_t i = 0; i < t->n; i++) {
        const store_col *c = &t->cols[i];
        if (c->kind != STORE_BLOB && c->kind != STORE_BLOB_OPT &&
            c->kind != STORE_STR && c->kind != STORE_STR_OPT)
            continue;
        free((void *)get_ptr(rec, c));
        set_ptr(rec, c, NULL);
        if (c->kind == STORE_BLOB || c->kind == STORE_BLOB_OPT)
            set_len(rec, c, 0);
    }
    if (t->secret)
        OPENSSL_cleanse(rec, t->size);
}

int store_row_get(store_q *q, const store_row *t, void *out)
{
    memset(out, 0, t->size);
    int rc = store_q_step(q);
    if (rc == LV_DB_ROW)
        rc = store_row_read(q, t, out);
    else if (rc == LV_DB_DONE)
        rc = LV_ENOTFOUND;
    store_q_finalize(q);
    if (rc < 0)
        store_row_free(t, out);
    return rc < 0 ? rc : 0;
}

/* rc, with the message fmt when it is `code` (the caller's own words for
 * a missing or duplicate row). */
__attribute__((format(printf, 4, 0))) static int
explain(int rc, int code, lv_err *err, const char *fmt, va_list ap)
{
    char msg[LV_ERR_MSG_MAX];
    if (rc != code)
        return rc;
    vsnprintf(msg, sizeof msg, fmt, ap);
    return lv_fail(err, rc, "%s", msg);
}

int store_explain(int rc, int code, lv_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rc = explain(rc, code, err, fmt, ap);
    va_end(ap);
    return rc;
}

int store_one(int64_t changed, lv_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = explain(changed == 1 ? 0 : code, code, err, fmt, ap);
    va_end(ap);
    return rc;
}

int store_row_got(store_q *q, const store_row *t, void *out, lv_err *err,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = explain(store_row_get(q, t, out), LV_ENOTFOUND, err, fmt, ap);
    va_end(ap);
    return rc;
}

int store_pair_get(lv_store *st, const store_row *t, const char *a,
                   const char *b, void *out, lv_err *err, const char *fmt, ...)
{
    store_q q;
    va_list ap;
    STORE_Q(&q, st, err, t->by_key, SQ_TEXT(a), SQ_TEXT(b));
    va_start(ap, fmt);
    int rc = explain(store_row_get(&q, t, out), LV_ENOTFOUND, err, fmt, ap);
    va_end(ap);
    return rc;
}

int store_pair_delete(lv_store *st, const store_row *t, const char *a,
                      const char *b, lv_err *err)
{
    return STORE_RUN(st, NULL, err, t->drop, SQ_TEXT(a), SQ_TEXT(b));
}

int store_pair_put(lv_store *st, const store_row *t, const void *rec,
                   lv_err *err)
{
    LV_TRY(store_row_check(t, rec, err));
    LV_TRY(store_pair_delete(st, t, CFIELD(rec, &t->cols[0]),
                             CFIELD(rec, &t->cols[1]), err));
    return store_row_insert(st, t, rec, err);
}

__attribute__((format(printf, 7, 0))) static int
find(lv_store *st, const store_row *t, const char *sql, const char *key,
     void *out, lv_err *err, const char *fmt, va_list ap)
{
    store_q q;
    STORE_Q(&q, st, err, sql, SQ_TEXT(key));
    return explain(store_row_get(&q, t, out), LV_ENOTFOUND, err, fmt, ap);
}

int store_row_find(lv_store *st, const store_row *t, const char *sql,
                   const char *key, void *out, lv_err *err, const char *fmt,
                   ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = find(st, t, sql, key, out, err, fmt, ap);
    va_end(ap);
    return rc;
}

int store_row_by_key(lv_store *st, const store_row *t, const char *key,
                     void *out, lv_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = find(st, t, t->by_key, key, out, err, fmt, ap);
    va_end(ap);
    return rc;
}

int store_row_add(lv_store *st, const store_row *t, const void *rec,
                  lv_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc =
        explain(store_row_insert(st, t, rec, err), LV_EEXISTS, err, fmt, ap);
    va_end(ap);
    return rc;
}

int store_row_insert(lv_store *st, const store_row *t, const void *rec,
                     lv_err *err)
{
    store_q q;
    LV_TRY(store_row_check(t, rec, err));
    store_q_prepare(&q, st, t->insert, err);
    store_row_bind_range(&q, t, rec, 0, t->writes);
    return store_q_run(&q, NULL);
}

int store_row_run(lv_store *st, const store_row *t, const void *rec,
                  size_t from, size_t to, int64_t *changed, lv_err *err,
                  const char *sql, const store_arg *args, size_t n)
{
    store_q q;
    store_q_prepare(&q, st, sql, err);
    store_row_bind_range(&q, t, rec, from, to);
    for (size_t i = 0; i < n; i++)
        store_q_arg(&q, &args[i]);
    return store_q_run(&q, changed);
}

/* The names in a column list, each without its table alias, match t. */
static int names_match(const store_row *t)
{
    const char *p = t->columns;
    for (size_t i = 0; i < t->n; i++) {
        size_t len = strcspn(p, ",");
        const char *dot = memchr(p, '.', len);
        const char *name = dot ? dot + 1 : p;
        size_t n = len - (size_t)(name - p);
        if (strlen(t->cols[i].name) != n ||
            strncmp(name, t->cols[i].name, n) != 0)
            return 0;
        p += len;
        p += strspn(p, ", ");
    }
    return *p == '\0';
}

int store_row_consistent(const store_row *t)
{
    size_t marks = 0;
    for (const char *p = t->insert; p && *p; p++)
        marks += *p == '?';
    return names_match(t) && marks == t->writes && t->writes <= t->n;
}
