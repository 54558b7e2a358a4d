/* The statement helper of store_driver.h: sticky-error binding and typed
 * column reads over whichever driver the store was opened with. */
#include "store/store_driver.h"

#include <stdlib.h>
#include <string.h>

int store_q_prepare(store_q *q, lv_store *st, const char *sql, lv_err *err)
{
    *q = (store_q){.st = st, .err = err, .next = 1};
    q->rc = st->drv->prepare(st->db, sql, &q->stmt, err);
    return q->rc;
}

void store_q_text(store_q *q, const char *v)
{
    int idx = q->next++;
    if (q->rc == 0)
        q->rc = v ? q->st->drv->bind_text(q->stmt, idx, v, q->err)
                  : q->st->drv->bind_null(q->stmt, idx, q->err);
}

void store_q_int64(store_q *q, int64_t v)
{
    int idx = q->next++;
    if (q->rc == 0)
        q->rc = q->st->drv->bind_int64(q->stmt, idx, v, q->err);
}

void store_q_blob(store_q *q, const void *v, size_t len)
{
    int idx = q->next++;
    if (q->rc == 0)
        q->rc = q->st->drv->bind_blob(q->stmt, idx, v, len, q->err);
}

int store_q_step(store_q *q)
{
    if (q->rc < 0)
        return q->rc;
    int rc = q->st->drv->step(q->stmt, q->err);
    if (rc < 0)
        q->rc = rc;
    return rc;
}

int store_q_exec(store_q *q)
{
    int rc = store_q_step(q);
    if (rc == LV_DB_ROW)
        return lv_fail(q->err, LV_EINTERNAL, "statement returned a row");
    return rc;
}

void store_q_finalize(store_q *q)
{
    if (q->stmt)
        q->st->drv->finalize(q->stmt);
    q->stmt = NULL;
}

const char *store_q_col_text(store_q *q, int col)
{
    const char *v = q->st->drv->column_text(q->stmt, col);
    return v ? v : "";
}

int64_t store_q_col_int64(store_q *q, int col)
{
    return q->st->drv->column_int64(q->stmt, col);
}

int store_q_col_copy(store_q *q, int col, char *dst, size_t cap)
{
    const char *v = store_q_col_text(q, col);
    size_t n = strlen(v);
    if (n >= cap)
        return lv_fail(q->err, LV_ESTORE,
                       "column %d holds %zu bytes, more than llave writes", col,
                       n);
    memcpy(dst, v, n + 1);
    return 0;
}

int store_q_col_blob(store_q *q, int col, unsigned char **out, size_t *len)
{
    size_t n = 0;
    const void *p = q->st->drv->column_blob(q->stmt, col, &n);
    *out = NULL;
    *len = 0;
    if (!p || n == 0)
        return 0;
    *out = malloc(n);
    if (!*out)
        return lv_fail(q->err, LV_ENOMEM, "out of memory");
    memcpy(*out, p, n);
    *len = n;
    return 0;
}

int store_check_field(const char *v, size_t cap, const char *name, lv_err *err)
{
    if (memchr(v, '\0', cap) == NULL)
        return lv_fail(err, LV_EINVAL, "%s is not terminated", name);
    return 0;
}

int store_q_run(store_q *q, int64_t *changed)
{
    int rc = store_q_exec(q);
    if (changed)
        *changed = rc == 0 ? q->st->drv->changes(q->st->db) : 0;
    store_q_finalize(q);
    return rc < 0 ? rc : 0;
}

static int each_text(store_q *q, STORE_VISIT(char))
{
    int rc;
    while ((rc = store_q_step(q)) == LV_DB_ROW)
        if ((rc = fn(store_q_col_text(q, 0), ctx)) < 0)
            break;
    store_q_finalize(q);
    return rc < 0 ? rc : 0;
}

void store_q_arg(store_q *q, const store_arg *a)
{
    if (a->kind == STORE_ARG_TEXT)
        store_q_text(q, a->p);
    else if (a->kind == STORE_ARG_INT)
        store_q_int64(q, a->i);
    else
        store_q_blob(q, a->p, (size_t)a->i);
}

int store_q_open(store_q *q, lv_store *st, lv_err *err, const char *sql,
                 const store_arg *args, size_t n)
{
    store_q_prepare(q, st, sql, err);
    for (size_t i = 0; i < n; i++)
        store_q_arg(q, &args[i]);
    return q->rc;
}

int store_run(lv_store *st, int64_t *changed, lv_err *err, const char *sql,
              const store_arg *args, size_t n)
{
    store_q q;
    store_q_open(&q, st, err, sql, args, n);
    return store_q_run(&q, changed);
}

int store_each_text(lv_store *st, lv_err *err, STORE_VISIT(char),
                    const char *sql, const store_arg *args, size_t n)
{
    store_q q;
    store_q_open(&q, st, err, sql, args, n);
    return each_text(&q, fn, ctx);
}

int store_changed(lv_store *st, int *count, lv_err *err, const char *sql,
                  const store_arg *args, size_t n)
{
    int64_t changed = 0;
    int rc = store_run(st, &changed, err, sql, args, n);
    if (count)
        *count = (int)changed;
    return rc;
}

int store_count(lv_store *st, int *count, lv_err *err, const char *sql,
                const store_arg *args, size_t n)
{
    store_q q;
    int64_t v = 0;
    store_q_open(&q, st, err, sql, args, n);
    int rc = store_q_ints(&q, &v, 1);
    *count = (int)v;
    return rc;
}

int store_q_ints(store_q *q, int64_t *vals, int n)
{
    int rc = store_q_step(q);
    for (int i = 0; rc == LV_DB_ROW && i < n; i++)
        vals[i] = store_q_col_int64(q, i);
    if (rc == LV_DB_DONE)
        rc = lv_fail(q->err, LV_ESTORE, "the query returned no row");
    store_q_finalize(q);
    return rc < 0 ? rc : 0;
}
