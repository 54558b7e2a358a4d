/* Internal to store/: the database driver interface and the helpers the
 * store_*.c domain files share.  Nothing outside src/store includes this.
 *
 * A back end implements lv_db_driver; the domain code only ever talks to it
 * through the store_q_* helpers below, so adding PostgreSQL (R10.2) means one
 * new file implementing this table, with `?` placeholders rewritten to $n by
 * that driver.  SQL is written in the dialect both accept: BIGINT, TEXT,
 * BYTEA, INTEGER, LIMIT, COALESCE; no rowid, no AUTOINCREMENT, no RETURNING.
 *
 * Threading: a connection, and so an lv_store, is used by one thread at a
 * time; llaved opens one lv_store per worker.  Nothing here locks. */
#ifndef LLAVE_STORE_DRIVER_H
#define LLAVE_STORE_DRIVER_H

#include "core/core.h"
#include "store/store.h"

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
} lv_db_driver;

extern const lv_db_driver lv_db_sqlite;

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
/* Steps a prepared single-row SELECT and reads the row with `read`; no row
 * is LV_ENOTFOUND "no <what> <key>".  Finalizes q either way. */
typedef int (*row_reader)(store_q *q, void *out);
int store_q_get_one(store_q *q, row_reader read, void *out, const char *what,
                    const char *key, lv_err *err);

/* A fixed-size record field must be NUL-terminated within its array. */
int store_check_field(const char *v, size_t cap, const char *name, lv_err *err);

#endif
