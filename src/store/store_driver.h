/* Internal to store/: the database driver interface and the helpers the
 * store_*.c domain files share.  Nothing outside src/store includes this.
 *
 * A back end implements lv_db_driver; the domain code only ever talks to it
 * through the store_q_* helpers below: store_sqlite.c and, for PostgreSQL
 * (R10.2), store_pg.c, which rewrites the `?` placeholders to $n.  SQL is
 * written in the dialect both accept: BIGINT, TEXT, BYTEA, INTEGER, LIMIT,
 * COALESCE; no rowid, no AUTOINCREMENT, no RETURNING.
 *
 * Threading: a connection, and so an lv_store, is used by one thread at a
 * time; llaved opens one lv_store per worker.  Nothing here locks. */
#ifndef LLAVE_STORE_DRIVER_H
#define LLAVE_STORE_DRIVER_H

#include "core/core.h"
#include "store/store.h"
#include "store/store_activation.h"
#include "store/store_audit.h"
#include "store/store_auth.h"
#include "store/store_ca.h"
#include "store/store_cert.h"
#include "store/store_crl.h"
#include "store/store_front.h"
#include "store/store_keys.h"
#include "store/store_oauth.h"
#include "store/store_ocsp.h"
#include "store/store_ra.h"
#include "store/store_sign.h"

#include <stddef.h>
#include <stdint.h>

typedef struct lv_db lv_db;           /* a connection, back-end defined */
typedef struct lv_db_stmt lv_db_stmt; /* a prepared statement */

enum { LV_DB_DONE = 0, LV_DB_ROW = 1 };

/* Every int-returning entry returns 0 (or LV_DB_ROW/LV_DB_DONE for step) or a
 * negative LV_E code with err filled: a UNIQUE or PRIMARY KEY violation is
 * LV_EEXISTS, a foreign-key violation LV_EINVAL, anything else LV_ESTORE
 * with the back end's own message. */
typedef struct lv_db_driver {
    const char *name;
    int (*open)(const char *location, lv_db **out, lv_err *err);
    void (*close)(lv_db *db); /* accepts NULL */
    /* Tunes a connection of llaved's front for many small random reads
     * (status lookups, R10.1); NULL when the back end needs nothing. */
    int (*serve_reads)(lv_db *db, lv_err *err);
    /* One or more statements that return no rows (migrations, pragmas). */
    int (*exec)(lv_db *db, const char *sql, lv_err *err);
    int (*prepare)(lv_db *db, const char *sql, lv_db_stmt **out, lv_err *err);
    /* Parameters are numbered from 1; values are copied. */
    int (*bind_text)(lv_db_stmt *s, int idx, const char *v, lv_err *err);
    int (*bind_int64)(lv_db_stmt *s, int idx, int64_t v, lv_err *err);
    int (*bind_blob)(lv_db_stmt *s, int idx, const void *v, size_t len,
                     lv_err *err);
    int (*bind_null)(lv_db_stmt *s, int idx, lv_err *err);
    int (*step)(lv_db_stmt *s, lv_err *err); /* LV_DB_ROW, LV_DB_DONE, <0 */
    /* Columns are numbered from 0 and valid until the next step/finalize;
     * text is NULL for SQL NULL. */
    const char *(*column_text)(lv_db_stmt *s, int col);
    int64_t (*column_int64)(lv_db_stmt *s, int col);
    const void *(*column_blob)(lv_db_stmt *s, int col, size_t *len);
    void (*finalize)(lv_db_stmt *s); /* accepts NULL */
    /* begin takes the write lock at once (SQLite: BEGIN IMMEDIATE). */
    int (*begin)(lv_db *db, lv_err *err);
    int (*commit)(lv_db *db, lv_err *err);
    void (*rollback)(lv_db *db);
    int64_t (*changes)(lv_db *db); /* rows changed by the last statement */
    /* A consistent snapshot of the whole database into a new file (issue 8
     * backups); NULL when the back end has its own tools (pg_dump). */
    int (*backup)(lv_db *db, const char *path, lv_err *err);
    /* Copies the write-ahead log into the database and, when it has grown
     * past its bound, starts it again from the beginning (SQLite's
     * "checkpoint starvation"); NULL when the back end needs nothing. */
    int (*checkpoint)(lv_db *db, lv_err *err);
} lv_db_driver;

extern const lv_db_driver lv_db_sqlite;
extern const lv_db_driver lv_db_postgresql; /* store_pg.c */

struct lv_store {
    const lv_db_driver *drv;
    lv_db *db;
    int in_tx;
};

/* ---- statement helper shared by the domain files ------------------------
 * Binding is sticky-error, in the style of a stuffer: bind every parameter in
 * order, then step; the first failure is reported by the step.  So a query
 * reads like its SQL: prepare, bind, bind, bind, step, read, finalize. */
typedef struct store_q {
    lv_store *st;
    lv_db_stmt *stmt;
    lv_err *err;
    int next; /* next parameter index */
    int rc;   /* first error, sticky */
} store_q;

int store_q_prepare(store_q *q, lv_store *st, const char *sql, lv_err *err);
void store_q_text(store_q *q, const char *v);
void store_q_int64(store_q *q, int64_t v);
void store_q_blob(store_q *q, const void *v, size_t len);
int store_q_step(store_q *q); /* LV_DB_ROW, LV_DB_DONE or <0 */
int store_q_exec(store_q *q); /* step expecting no row */
void store_q_finalize(store_q *q);
const char *store_q_col_text(store_q *q, int col); /* "" for NULL */
int64_t store_q_col_int64(store_q *q, int col);
/* Copies a text column into a fixed field; a value that does not fit means
 * the row was not written by llave and is reported as LV_ESTORE. */
int store_q_col_copy(store_q *q, int col, char *dst, size_t cap);
/* Copies a blob column into a fresh allocation (NULL/0 for empty). */
int store_q_col_blob(store_q *q, int col, unsigned char **out, size_t *len);

/* A fixed-size record field must be NUL-terminated within its array. */
int store_check_field(const char *v, size_t cap, const char *name, lv_err *err);
/* Steps a prepared statement that returns no row and finalizes it; *changed
 * (may be NULL) gets how many rows it changed. */
int store_q_run(store_q *q, int64_t *changed);
/* Steps a prepared SELECT of n integers (COUNT, MAX, ...) that always
 * returns one row into vals; finalizes q. */
int store_q_ints(store_q *q, int64_t *vals, int n);

/* A statement's parameters in one list, in order:
 *   STORE_Q(&q, st, err, "SELECT ... WHERE a = ? AND b > ?",
 *           SQ_TEXT(a), SQ_INT(b));
 * prepares and binds; STORE_RUN(st, &changed, err, sql, args...) also runs
 * a statement that returns no row (store_q_run).  Text NULL binds NULL. */
typedef struct store_arg {
    enum { STORE_ARG_TEXT, STORE_ARG_INT, STORE_ARG_BLOB } kind;
    const void *p; /* text or blob */
    int64_t i;     /* the integer, or the blob's length */
} store_arg;
#define SQ_TEXT(v) ((store_arg){.kind = STORE_ARG_TEXT, .p = (v)})
#define SQ_INT(v) ((store_arg){.kind = STORE_ARG_INT, .i = (v)})
#define SQ_BLOB(v, n)                                                          \
    ((store_arg){.kind = STORE_ARG_BLOB, .p = (v), .i = (int64_t)(n)})
/* The list behind a placeholder entry, so that it may be empty. */
#define STORE_ARGS(...)                                                        \
    (const store_arg[]){{0}, __VA_ARGS__} + 1,                                 \
        sizeof((const store_arg[]){{0}, __VA_ARGS__}) / sizeof(store_arg) - 1
void store_q_arg(store_q *q, const store_arg *a); /* binds the next one */
int store_q_open(store_q *q, lv_store *st, lv_err *err, const char *sql,
                 const store_arg *args, size_t n);
int store_run(lv_store *st, int64_t *changed, lv_err *err, const char *sql,
              const store_arg *args, size_t n);
#define STORE_Q(q, st, err, sql, ...)                                          \
    store_q_open(q, st, err, sql, STORE_ARGS(__VA_ARGS__))
#define STORE_RUN(st, changed, err, sql, ...)                                  \
    store_run(st, changed, err, sql, STORE_ARGS(__VA_ARGS__))
/* Calls fn with the first column of every row of sql (with its parameters)
 * until fn fails:
 *   return STORE_EACH_TEXT(st, err, fn, ctx, "SELECT uri ...", SQ_TEXT(id)); */
int store_each_text(lv_store *st, lv_err *err, STORE_VISIT(char),
                    const char *sql, const store_arg *args, size_t n);
#define STORE_EACH_TEXT(st, err, fn, ctx, sql, ...)                            \
    store_each_text(st, err, fn, ctx, sql, STORE_ARGS(__VA_ARGS__))
/* Runs a statement that returns no row (a purge, a bulk update) and puts
 * how many rows it changed in *count (may be NULL), 0 on failure. */
int store_changed(lv_store *st, int *count, lv_err *err, const char *sql,
                  const store_arg *args, size_t n);
#define STORE_CHANGED(st, count, err, sql, ...)                                \
    store_changed(st, count, err, sql, STORE_ARGS(__VA_ARGS__))
/* rc, or when rc is `code` (the driver's LV_EEXISTS for a unique key,
 * LV_EINVAL for a foreign key once the record is checked) the caller's own
 * message fmt for it. */
int store_explain(int rc, int code, lv_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 0 when a change touched exactly one row (changed), else `code` with the
 * message fmt: the row is missing or no longer in the state the change
 * expected. */
int store_one(int64_t changed, lv_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Runs a SELECT COUNT(*) (or any one integer) into *count, 0 on failure. */
int store_count(lv_store *st, int *count, lv_err *err, const char *sql,
                const store_arg *args, size_t n);
#define STORE_COUNT(st, count, err, sql, ...)                                  \
    store_count(st, count, err, sql, STORE_ARGS(__VA_ARGS__))

/* ---- row mapping (store_row.c; the tables are in store_rows.c) ---------
 * Each record type lists its columns once, in SQL order: the column's name,
 * how it is stored and where its field lies in the record.  That table
 * drives binding (store_row_bind), reading (store_row_read), the check
 * that every text field is terminated (store_row_check) and freeing what a
 * read allocated (store_row_free). */
typedef enum store_kind {
    STORE_TEXT,      /* char[size]: terminated on write, must fit on read */
    STORE_I64,       /* int64_t */
    STORE_INT,       /* int */
    STORE_FLAG,      /* int, written as 0 or 1 */
    STORE_CREATED,   /* int64_t; 0 writes the time of the write */
    STORE_TOUCHED,   /* int64_t; every write writes the time of the write */
    STORE_BLOB,      /* unsigned char * (owned) with its size_t length */
    STORE_BLOB_OPT,  /* the same, an empty one written as SQL NULL */
    STORE_BYTES,     /* unsigned char[size] with its length: 1..size bytes */
    STORE_BYTES_OPT, /* the same, 0..size: none written as SQL NULL */
    STORE_FIXED,     /* unsigned char[size], exactly size bytes (digests) */
    STORE_STR,       /* char * (owned); NULL is SQL NULL */
    STORE_STR_OPT,   /* char * (owned); NULL is written '', '' reads NULL */
    STORE_STR_REF,   /* const char *; read borrows the row's text (NULL for
                        SQL NULL), valid until the next step */
} store_kind;

typedef struct store_col {
    const char *name; /* the column */
    store_kind kind;
    size_t off;     /* offsetof the field */
    size_t size;    /* sizeof the field */
    size_t len_off; /* blobs and bytes: offsetof their length */
    int need;       /* to be filled in: text not "", a blob or bytes not
                       empty, a string not NULL (store_row_check) */
} store_col;

typedef struct store_row {
    const store_col *cols;
    size_t n;
    size_t size;         /* sizeof the record */
    const char *columns; /* the names as the SQL lists them */
    const char *insert;  /* INSERT of the first `writes` columns, or NULL */
    size_t writes;
    int secret; /* wiped when freed (sealed TOTP secrets) */
    /* SELECT of the columns of the one row whose key is ?, or NULL; of a
     * table keyed by its first two columns, whose key is (?, ?), and the
     * DELETE of that row (store_pair_*) */
    const char *by_key;
    const char *drop;
    /* LV_EINVAL's message for an empty `need` column, or NULL: "<column>
     * is required" */
    const char *incomplete;
} store_row;

/* Every text field of rec terminated within its array and no bytes field
 * longer than its array; then every `need` column filled in. */
int store_row_check(const store_row *t, const void *rec, lv_err *err);
/* Binds columns [from, to) of rec, in order. */
void store_row_bind_range(store_q *q, const store_row *t, const void *rec,
                          size_t from, size_t to);
void store_row_bind(store_q *q, const store_row *t, const void *rec);
/* Zeroes rec and reads the current row into it; on failure what was read
 * is still to be freed. */
int store_row_read(store_q *q, const store_row *t, void *rec);
void store_row_free(const store_row *t, void *rec); /* accepts NULL */
/* Steps a prepared single-row SELECT of t's columns into out (zeroed
 * first) and finalizes q.  No row is LV_ENOTFOUND with err untouched, for
 * the caller's message; on any failure out holds nothing to free. */
int store_row_get(store_q *q, const store_row *t, void *out);
/* store_row_get, no row being LV_ENOTFOUND with the message fmt. */
int store_row_got(store_q *q, const store_row *t, void *out, lv_err *err,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A single-row SELECT of t's columns with one text parameter, key; no row
 * is LV_ENOTFOUND with the message fmt. */
int store_row_find(lv_store *st, const store_row *t, const char *sql,
                   const char *key, void *out, lv_err *err, const char *fmt,
                   ...) __attribute__((format(printf, 7, 8)));
/* store_row_find with t->by_key: the row whose key is `key`. */
int store_row_by_key(lv_store *st, const store_row *t, const char *key,
                     void *out, lv_err *err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Checks rec and runs t->insert with it; the driver's LV_EEXISTS and
 * LV_EINVAL (unique, foreign key) are left for the caller to explain. */
int store_row_insert(lv_store *st, const store_row *t, const void *rec,
                     lv_err *err);
/* store_row_insert, an existing row (unique key) being LV_EEXISTS with the
 * message fmt. */
int store_row_add(lv_store *st, const store_row *t, const void *rec,
                  lv_err *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The entries of a table keyed by its first two text columns (t->by_key
 * and t->drop take the pair), as STORE_PAIRED (store.h) declares them: get,
 * no row being LV_ENOTFOUND with the message fmt; put checks rec and
 * replaces the row of its key with it. */
int store_pair_get(lv_store *st, const store_row *t, const char *a,
                   const char *b, void *out, lv_err *err, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
int store_pair_put(lv_store *st, const store_row *t, const void *rec,
                   lv_err *err);
int store_pair_delete(lv_store *st, const store_row *t, const char *a,
                      const char *b, lv_err *err);
/* The macros below name types and parameters, not expressions: nothing to
 * parenthesize. */
// NOLINTBEGIN(bugprone-macro-parentheses)
/* Their definitions for STORE_PAIRED(name, T, a, b): fmt and its arguments
 * may name a and b. */
#define STORE_PAIR(name, T, t, a, b, ...)                                      \
    int store_##name##_put(lv_store *st, const T *rec, lv_err *err)            \
    {                                                                          \
        return store_pair_put(st, t, rec, err);                                \
    }                                                                          \
    int store_##name##_get(lv_store *st, const char *a, const char *b, T *out, \
                           lv_err *err)                                        \
    {                                                                          \
        return store_pair_get(st, t, a, b, out, err, __VA_ARGS__);             \
    }                                                                          \
    int store_##name##_delete(lv_store *st, const char *a, const char *b,      \
                              lv_err *err)                                     \
    {                                                                          \
        return store_pair_delete(st, t, a, b, err);                            \
    }

/* Definitions of the entries STORE_KEYED (store.h) declares, for the
 * record types whose entries do no more than their table says:
 *   STORE_INSERT(name, T, t) inserts with store_row_insert, a taken key
 *     left for the caller to explain;
 *   STORE_ADD(name, T, t, r, fmt, ...) with store_row_add, a taken key
 *     being LV_EEXISTS with fmt, whose arguments may name the record r;
 *   STORE_GET(name, T, t, key, fmt, ...) reads the row by t->by_key, none
 *     being LV_ENOTFOUND with fmt, whose arguments may name `key`;
 *   STORE_FREE(name, T, t) is store_<name>_rec_free. */
#define STORE_INSERT(name, T, t)                                               \
    int store_##name##_insert(lv_store *st, const T *rec, lv_err *err)         \
    {                                                                          \
        return store_row_insert(st, t, rec, err);                              \
    }
#define STORE_ADD(name, T, t, rec, ...)                                        \
    int store_##name##_insert(lv_store *st, const T *rec, lv_err *err)         \
    {                                                                          \
        return store_row_add(st, t, rec, err, __VA_ARGS__);                    \
    }
#define STORE_GET(name, T, t, key, ...)                                        \
    int store_##name##_get(lv_store *st, const char *key, T *out, lv_err *err) \
    {                                                                          \
        return store_row_by_key(st, t, key, out, err, __VA_ARGS__);            \
    }
#define STORE_FREE(name, T, t)                                                 \
    void store_##name##_rec_free(T *rec)                                       \
    {                                                                          \
        store_row_free(t, rec);                                                \
    }
// NOLINTEND(bugprone-macro-parentheses)
/* Definitions of whole store_<name> foreach functions whose one parameter
 * is the text `key` (STORE_VISIT, store.h):
 *   STORE_FOREACH(name, T, t, key, sql, args...) hands fn every row of sql,
 *     t's columns read into a T (STORE_RETURN_EACH);
 *   STORE_FOREACH_TEXT(name, key, sql, args...) the first column of every
 *     row of sql (store_each_text);
 * args are sql's parameters, which may name `key`. */
#define STORE_FOREACH(name, T, t, key, sql, ...)                               \
    int store_##name(lv_store *st, const char *key, STORE_VISIT(T),            \
                     lv_err *err)                                              \
    {                                                                          \
        STORE_RETURN_EACH(T, t, st, err, fn, ctx, sql, __VA_ARGS__);           \
    }
#define STORE_FOREACH_TEXT(name, key, sql, ...)                                \
    int store_##name(lv_store *st, const char *key, STORE_VISIT(char),         \
                     lv_err *err)                                              \
    {                                                                          \
        return STORE_EACH_TEXT(st, err, fn, ctx, sql, __VA_ARGS__);            \
    }
/* Runs sql, a statement that returns no row, with columns [from, to) of
 * rec and then args as its parameters; *changed as in store_q_run. */
int store_row_run(lv_store *st, const store_row *t, const void *rec,
                  size_t from, size_t to, int64_t *changed, lv_err *err,
                  const char *sql, const store_arg *args, size_t n);
#define STORE_ROW_RUN(st, t, rec, from, to, changed, err, sql, ...)            \
    store_row_run(st, t, rec, from, to, changed, err, sql,                     \
                  STORE_ARGS(__VA_ARGS__))
/* The whole body of a foreach function: every row of sql (with its
 * parameters after it, if any) read into a record of type T and handed to
 * fn(record, ctx), as STORE_ROW_EACH; returns its result. */
#define STORE_RETURN_EACH(T, t, st, err, fn, ctx, sql, ...)                    \
    do {                                                                       \
        store_q each_q_;                                                       \
        T each_row_;                                                           \
        int each_rc_;                                                          \
        store_q_open(&each_q_, st, err, sql, STORE_ARGS(__VA_ARGS__));         \
        STORE_ROW_EACH(each_rc_, &each_q_, t, &each_row_, fn, ctx);            \
        return each_rc_;                                                       \
    } while (0)

/* Do the names of t's columns stand in t->columns, in order (each may carry
 * a table alias, "a.kind"), and does t->insert have a parameter for each
 * column it writes?  For test_store. */
int store_row_consistent(const store_row *t);

/* Reads every row of a prepared SELECT of t's columns into *row, calls
 * fn(row, ctx) and frees the row, until fn or a read fails; finalizes q
 * and sets rc to 0 or the failure.  A macro so that fn keeps its record
 * type. */
#define STORE_ROW_EACH(rc, q, t, row, fn, ctx)                                 \
    do {                                                                       \
        while (((rc) = store_q_step(q)) == LV_DB_ROW) {                        \
            if (((rc) = store_row_read(q, t, row)) == 0)                       \
                (rc) = (fn)(row, ctx);                                         \
            store_row_free(t, row);                                            \
            if ((rc) < 0)                                                      \
                break;                                                         \
        }                                                                      \
        store_q_finalize(q);                                                   \
        (rc) = (rc) < 0 ? (rc) : 0;                                            \
    } while (0)

#endif
