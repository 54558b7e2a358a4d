/* store/ — the storage authority: schema, numbered migrations (sql/NNN_*.sql),
 * transactions and the typed records every other component reads and writes.
 * This header is the connection (open, close, transactions, backup); the
 * records are split by owner, one header each, included only by their
 * owner and the readers scripts/lint's edge table names: store_ca.h,
 * store_cert.h, store_crl.h, store_ocsp.h, store_audit.h, store_ra.h,
 * store_auth.h, store_sign.h, store_activation.h, store_keys.h, and
 * store_front.h, the front end's handle (issue 12 item 3).
 *
 * The SQL lives here and is written once in the dialect both back ends accept;
 * a back end (SQLite or PostgreSQL, R10.2) only implements the small
 * lv_db_driver table in store_driver.h.  Depends on core/ only. */
#ifndef LLAVE_STORE_H
#define LLAVE_STORE_H

#include "core/core.h"

#include <stdint.h>

/* Opens (creating if needed) the database at `location` ("DIR/llave.db" for
 * SQLite; a postgresql:// URL or "pg:" and a libpq connection string for
 * PostgreSQL: lv_config_store_location) and applies every pending migration
 * from the embedded sql/ files, each in its own transaction. */
int store_open(const char *location, lv_store **out, lv_err *err) LV_MUST_USE;
void store_close(lv_store *st);
int store_schema_version(lv_store *st, int *version, lv_err *err) LV_MUST_USE;

/* Transactions.  store_begin takes the write lock at once (SQLite BEGIN
 * IMMEDIATE) so that a multi-row change and its audit entry are atomic and
 * the audit sequence has no gaps.  Nesting is not supported. */
int store_begin(lv_store *st, lv_err *err) LV_MUST_USE;
int store_commit(lv_store *st, lv_err *err) LV_MUST_USE;
void store_rollback(lv_store *st);
/* Ends the transaction a change ran in: commits when rc is 0, rolls back
 * otherwise; rc, or the commit's failure. */
int store_end(lv_store *st, int rc, lv_err *err) LV_MUST_USE;
/* 1 between store_begin and store_commit/store_rollback (audit_log checks
 * that it runs inside the caller's transaction). */
int store_in_transaction(const lv_store *st);

/* Background jobs on several nodes (issue 17 item 2, sql/016): takes or
 * renews the lease of `job` for `holder` until now + ttl_seconds.  1: the
 * caller holds it and runs the pass; 0: another node's lease has not run
 * out; < 0: the database failed. */
int store_lease_take(lv_store *st, const char *job, const char *holder,
                     int ttl_seconds, int64_t now, lv_err *err) LV_MUST_USE;
/* lv_job_def.lease for a job whose state holds st: this node (lv_node_id)
 * now. */
int store_job_lease(lv_store *st, const char *job, int ttl_seconds,
                    lv_err *err) LV_MUST_USE;

/* One pass of llaved's checkpointer (store_front.h): the write-ahead log
 * copied into the database, and started again once it grew past its bound
 * (SQLite); 1 when the back end has nothing to do (PostgreSQL). */
int store_checkpoint(lv_store *st, lv_err *err) LV_MUST_USE;

/* A consistent copy of the whole database into a new file at `path`
 * (SQLite's online backup API: never a copy of the live WAL files).
 * Fails if `path` exists. */
int store_backup(lv_store *st, const char *path, lv_err *err) LV_MUST_USE;

/* ---- moving an SQLite install into PostgreSQL (issue 17 item 1) ------
 * `llave store migrate`: store_copy_target opens the PostgreSQL database at
 * `location`, refuses it (LV_EEXISTS) when its schema holds any table, and
 * leaves it in an open transaction in which every migration has run, as
 * store_open would run them; store_copy then copies every table of src
 * into it; store_commit makes it all visible at once, store_close without
 * a commit leaves the database as it was. */
int store_copy_target(const char *location, lv_store **out,
                      lv_err *err) LV_MUST_USE;
/* Copies the rows of every table of dst's schema but schema_migrations
 * from src, tables referred to first (foreign keys), every column as dst
 * declares it (integers, bytea byte for byte, text); fn(table, rows, ctx)
 * after each table; src (SQLite) holding a table dst lacks is LV_ESTATE.
 * Plain INSERTs: the retention and no-update triggers
 * (sql/pg/009) stay armed and do not fire on them. */
typedef int (*store_copy_fn)(const char *table, int64_t rows, void *ctx);
int store_copy(lv_store *src, lv_store *dst, store_copy_fn fn, void *ctx,
               lv_err *err) LV_MUST_USE;
/* The number of rows of `table` (a name store_copy reported). */
int store_table_rows(lv_store *st, const char *table, int64_t *rows,
                     lv_err *err) LV_MUST_USE;

/* The callback every store_*_foreach takes: fn(row, ctx) for each row in
 * turn, the row valid during the call only; the first failure fn returns
 * (< 0) ends the walk and is what the foreach returns. */
#define STORE_VISIT(T) int (*fn)(const T *, void *), void *ctx

/* ---- the entries the record types share, declared once ----------------
 * (The macros name a type and parameters, not expressions: nothing to
 * parenthesize.) */
// NOLINTBEGIN(bugprone-macro-parentheses)

/* A record type keyed by one text column, STORE_KEYED(name, T, key):
 *   store_<name>_insert(st, rec, err) adds rec as a new row: LV_EINVAL when
 *     a text field is unterminated, a required one is missing or a row it
 *     refers to is not there, LV_EEXISTS when its key (or another unique
 *     column) is taken;
 *   store_<name>_get(st, key, out, err) reads the row whose column `key`
 *     holds that value into *out: LV_ENOTFOUND when there is none. */
#define STORE_KEYED(name, T, key)                                              \
    int store_##name##_insert(lv_store *st, const T *rec, lv_err *err)         \
        LV_MUST_USE;                                                           \
    int store_##name##_get(lv_store *st, const char *key, T *out, lv_err *err) \
        LV_MUST_USE

/* A record type keyed by two text columns, STORE_PAIRED(name, T, a, b):
 *   store_<name>_put(st, rec, err) adds rec, replacing the row of its key;
 *   store_<name>_get(st, a, b, out, err) reads the row of (a, b) into *out:
 *     LV_ENOTFOUND when there is none;
 *   store_<name>_delete(st, a, b, err) deletes it, if there is one. */
#define STORE_PAIRED(name, T, a, b)                                            \
    int store_##name##_put(lv_store *st, const T *rec, lv_err *err)            \
        LV_MUST_USE;                                                           \
    int store_##name##_get(lv_store *st, const char *a, const char *b, T *out, \
                           lv_err *err) LV_MUST_USE;                           \
    int store_##name##_delete(lv_store *st, const char *a, const char *b,      \
                              lv_err *err) LV_MUST_USE

// NOLINTEND(bugprone-macro-parentheses)

#endif
