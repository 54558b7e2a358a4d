/* PostgreSQL back end of lv_db_driver (R10.2, issue 17 item 1), on libpq.
 *
 * Statements.  prepare rewrites the `?` placeholders of the shared dialect
 * to $1..$n (outside string literals, quoted identifiers and comments) and
 * keeps the text; the first step sends it with PQexecParams and keeps the
 * whole result, later steps walk its rows.  No server-side prepared
 * statement: a parameter's type is that of the value bound each time
 * (int8 in binary, bytea in binary, text left for the server to infer), so
 * one SQL text may be bound with different kinds, as SQLite allows.
 * Results come back in text format: integers are parsed with strtoll,
 * bytea is decoded from its hex text once per cell read (PQunescapeBytea).
 *
 * Transactions.  SQLite's BEGIN IMMEDIATE makes every writer wait for the
 * one before it, and the domain code counts on it: the audit chain reads
 * its head and appends in the same transaction (one chain, no gaps),
 * serial numbers and CRL numbers are "max + 1".  begin therefore takes one
 * transaction-scoped advisory lock (pg_advisory_xact_lock(LV_PG_WRITE_LOCK))
 * right after BEGIN (READ COMMITTED): writers queue on it across
 * connections, processes and nodes, readers outside a transaction never
 * wait, and every statement after the lock sees what the previous writer
 * committed.  The lock ends with COMMIT or ROLLBACK.
 *
 * Errors.  Inside a transaction PostgreSQL aborts the whole transaction at
 * the first failed statement, where SQLite fails only the statement; the
 * callers (store_row_add's LV_EEXISTS, say) go on after a refused insert.
 * So a statement run inside a transaction is wrapped in a savepoint, rolled
 * back to on failure and released on success: the failure costs that
 * statement only, as in SQLite.  The three go to the server together in
 * one pipeline (pg_run_guarded).  unique_violation (23505) is LV_EEXISTS,
 * foreign_key_violation (23503) LV_EINVAL, anything else LV_ESTORE with the
 * server's message.
 *
 * Backups are pg_dump's job (docs/OPERATIONS.md): backup is NULL. */
#include "store/store_driver.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The key of the advisory lock every writing transaction takes: "llave"
 * in ASCII, so that it is recognisable in pg_locks. */
#define LV_PG_WRITE_LOCK "465793938533"
/* PostgreSQL's type OIDs (catalog/pg_type_d.h, stable across versions). */
#define PG_OID_BYTEA 17
#define PG_OID_INT8 20

struct lv_db {
    PGconn *c;
    int64_t changes;
    int in_tx;
};

typedef struct pg_param {
    char *val; /* owned; NULL for SQL NULL */
    int len;
    int fmt; /* 0 text, 1 binary */
    unsigned oid;
} pg_param;

struct lv_db_stmt {
    lv_db *db;
    char *sql; /* rewritten to $n */
    int nparams;
    pg_param *params;
    PGresult *res;
    int row;             /* the current row, -1 before the first */
    unsigned char *blob; /* the last decoded bytea, freed at next read */
};

/* ---- errors ------------------------------------------------------------ */

static int pg_fail_res(const PGresult *r, PGconn *c, lv_err *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg || !*msg)
        msg = c ? PQerrorMessage(c) : "no connection";
    if (state && strcmp(state, "23505") == 0)
        return lv_fail(err, LV_EEXISTS, "already exists (%s)", msg);
    if (state && strcmp(state, "23503") == 0)
        return lv_fail(err, LV_EINVAL, "refers to a missing record (%s)", msg);
    return lv_fail(err, LV_ESTORE, "postgresql: %s", msg);
}

/* A command that returns no rows; 0 or the mapped failure. */
static int pg_command(lv_db *db, const char *sql, lv_err *err)
{
    PGresult *r = PQexec(db->c, sql);
    ExecStatusType s = PQresultStatus(r);
    int rc = 0;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        rc = pg_fail_res(r, db->c, err);
    PQclear(r);
    return rc;
}

/* ---- connection -------------------------------------------------------- */

/* NOTICEs (CREATE ... IF NOT EXISTS, RAISE NOTICE) are not errors. */
static void pg_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static void pg_close(lv_db *db)
{
    if (!db)
        return;
    PQfinish(db->c);
    free(db);
}

/* Times are Unix seconds in BIGINT columns; the session's zone only
 * matters to the retention triggers, which compute in UTC anyway. */
static int pg_session(lv_db *db, lv_err *err)
{
    return pg_command(db,
                      "SET client_min_messages = warning;"
                      " SET TIME ZONE 'UTC'",
                      err);
}

/* A connection the server closed (a restart, a failover to a standby, an
 * idle timeout) is opened again before the next statement outside a
 * transaction, so that a node outlives its database's restarts instead of
 * failing every request until it is restarted itself (docs/OPERATIONS.md
 * §15).  libpq tries the conninfo's hosts again: with
 * target_session_attrs=read-write that finds the new primary.  Inside a
 * transaction it does not: what the transaction did is gone with the
 * connection, the statement fails and the caller rolls back. */
static int pg_alive(lv_db *db, lv_err *err)
{
    if (db->in_tx || PQstatus(db->c) == CONNECTION_OK)
        return 0;
    PQreset(db->c);
    if (PQstatus(db->c) != CONNECTION_OK)
        return lv_fail(err, LV_ESTORE, "cannot connect to postgresql: %s",
                       PQerrorMessage(db->c));
    return pg_session(db, err);
}

/* 1 when a failure outside a transaction came from a connection the server
 * had closed meanwhile (libpq notices only when it next uses it): nothing
 * was run, so a read or a BEGIN may be retried once on a new connection. */
static int pg_retry(lv_db *db, lv_err *err)
{
    return !db->in_tx && PQstatus(db->c) == CONNECTION_BAD &&
           pg_alive(db, err) == 0;
}

static int pg_open(const char *location, lv_db **out, lv_err *err)
{
    *out = NULL;
    lv_db *db = calloc(1, sizeof *db);
    if (!db)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    db->c = PQconnectdb(location);
    if (!db->c || PQstatus(db->c) != CONNECTION_OK) {
        /* The message may name the host, never the password. */
        int rc = lv_fail(err, LV_ESTORE, "cannot connect to postgresql: %s",
                         db->c ? PQerrorMessage(db->c) : "out of memory");
        pg_close(db);
        return rc;
    }
    PQsetNoticeProcessor(db->c, pg_notice, NULL);
    int rc = pg_session(db, err);
    if (rc < 0) {
        pg_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

static int pg_exec(lv_db *db, const char *sql, lv_err *err)
{
    /* PQexec runs several statements in one simple query (migrations). */
    LV_TRY(pg_alive(db, err));
    return pg_command(db, sql, err);
}

/* ---- statements -------------------------------------------------------- */

/* Copies sql into out rewriting each `?` outside '...', "..." and --
 * comments to $n; out has room for strlen(sql) * 4 + 1 (a `?` becomes at
 * most "$999"). */
static int pg_rewrite(const char *sql, char *out, size_t cap)
{
    int n = 0;
    size_t o = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (p[0] == '-' && p[1] == '-') {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            memcpy(out + o, p, len);
            o += len;
            p += len - 1;
            continue;
        } else if (*p == '?') {
            int w = snprintf(out + o, cap - o, "$%d", ++n);
            if (w < 0 || (size_t)w >= cap - o)
                return -1;
            o += (size_t)w;
            continue;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
    return n;
}

static void pg_stmt_reset(lv_db_stmt *s)
{
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
    free(s->blob);
    s->blob = NULL;
}

static void pg_finalize(lv_db_stmt *s)
{
    if (!s)
        return;
    pg_stmt_reset(s);
    for (int i = 0; s->params && i < s->nparams; i++)
        free(s->params[i].val);
    free(s->params);
    free(s->sql);
    free(s);
}

static int pg_prepare(lv_db *db, const char *sql, lv_db_stmt **out, lv_err *err)
{
    *out = NULL;
    size_t cap = strlen(sql) * 4 + 1;
    lv_db_stmt *s = calloc(1, sizeof *s);
    if (s)
        s->sql = malloc(cap);
    if (!s || !s->sql) {
        pg_finalize(s);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    s->db = db;
    s->row = -1;
    s->nparams = pg_rewrite(sql, s->sql, cap);
    if (s->nparams < 0) {
        pg_finalize(s);
        return lv_fail(err, LV_EINTERNAL, "too many placeholders");
    }
    if (s->nparams > 0) {
        s->params = calloc((size_t)s->nparams, sizeof *s->params);
        if (!s->params) {
            pg_finalize(s);
            return lv_fail(err, LV_ENOMEM, "out of memory");
        }
    }
    *out = s;
    return 0;
}

static int pg_bind(lv_db_stmt *s, int idx, const void *v, size_t len, int fmt,
                   unsigned oid, lv_err *err)
{
    if (idx < 1 || idx > s->nparams)
        return lv_fail(err, LV_EINTERNAL, "parameter %d of a statement of %d",
                       idx, s->nparams);
    if (len > INT32_MAX)
        return lv_fail(err, LV_ETOOBIG, "parameter %d too large", idx);
    pg_param *p = &s->params[idx - 1];
    free(p->val);
    *p = (pg_param){.len = (int)len, .fmt = fmt, .oid = oid};
    if (!v)
        return 0;
    /* One byte more, so that an empty value is not NULL and text ends. */
    p->val = malloc(len + 1);
    if (!p->val)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    memcpy(p->val, v, len);
    p->val[len] = '\0';
    return 0;
}

static int pg_bind_text(lv_db_stmt *s, int idx, const char *v, lv_err *err)
{
    /* Type left to the server (0): a text column, or a number compared
     * with a numeric column. */
    return pg_bind(s, idx, v, v ? strlen(v) : 0, 0, 0, err);
}

static int pg_bind_int64(lv_db_stmt *s, int idx, int64_t v, lv_err *err)
{
    /* int8 in binary: network byte order. */
    uint64_t u = (uint64_t)v;
    unsigned char be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)(u >> (56 - 8 * i));
    return pg_bind(s, idx, be, sizeof be, 1, PG_OID_INT8, err);
}

static int pg_bind_blob(lv_db_stmt *s, int idx, const void *v, size_t len,
                        lv_err *err)
{
    /* A zero-length blob must still be a blob, not NULL. */
    return pg_bind(s, idx, v ? v : "", len, 1, PG_OID_BYTEA, err);
}

static int pg_bind_null(lv_db_stmt *s, int idx, lv_err *err)
{
    return pg_bind(s, idx, NULL, 0, 0, 0, err);
}

/* Is sql a statement that may fail on a constraint (not a SELECT)? */
static int pg_writes(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
        sql++;
    return strncasecmp(sql, "SELECT", 6) != 0 &&
           strncasecmp(sql, "WITH", 4) != 0;
}

/* The statement's parameters as libpq takes them: arrays that point into
 * s->params. */
typedef struct pg_args {
    const char **vals;
    int *lens, *fmts;
    Oid *oids;
} pg_args;

static void pg_args_free(pg_args *a)
{
    free(a->vals);
    free(a->lens);
    free(a->fmts);
    free(a->oids);
}

static int pg_args_make(const lv_db_stmt *s, pg_args *a, lv_err *err)
{
    int n = s->nparams;
    *a = (pg_args){0};
    if (n == 0)
        return 0;
    a->vals = calloc((size_t)n, sizeof *a->vals);
    a->lens = calloc((size_t)n, sizeof *a->lens);
    a->fmts = calloc((size_t)n, sizeof *a->fmts);
    a->oids = calloc((size_t)n, sizeof *a->oids);
    if (!a->vals || !a->lens || !a->fmts || !a->oids) {
        pg_args_free(a);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        a->vals[i] = s->params[i].val;
        a->lens[i] = s->params[i].len;
        a->fmts[i] = s->params[i].fmt;
        a->oids[i] = s->params[i].oid;
    }
    return 0;
}

/* s->res from a finished result: the rows, or the mapped failure. */
static int pg_took(lv_db_stmt *s, PGresult *r, lv_err *err)
{
    s->res = r;
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        return pg_fail_res(r, s->db->c, err);
    const char *t = PQcmdTuples(r);
    s->db->changes = t && *t ? strtoll(t, NULL, 10) : 0;
    return 0;
}

static int pg_run(lv_db_stmt *s, lv_err *err)
{
    pg_args a;
    LV_TRY(pg_args_make(s, &a, err));
    int rc = pg_took(s,
                     PQexecParams(s->db->c, s->sql, s->nparams, a.oids, a.vals,
                                  a.lens, a.fmts, 0),
                     err);
    pg_args_free(&a);
    return rc;
}

/* ---- a write inside a transaction: SAVEPOINT, the statement, RELEASE ----
 * Sent together in libpq's pipeline mode (PostgreSQL 14+), so that the
 * guard costs no round trip of its own: a signHash's writes went from
 * three round trips each to one.  When the statement fails the server
 * skips the RELEASE up to the sync; the transaction is then rolled back
 * to the savepoint as before. */
#define PG_GUARD_QUERIES 3

/* Every result up to the pipeline's sync; got[i] keeps query i's first
 * result (NULL if none arrived: a broken connection). */
static void pg_pipeline_collect(PGconn *c, PGresult *got[PG_GUARD_QUERIES])
{
    int q = 0;
    for (;;) {
        PGresult *r = PQgetResult(c);
        if (!r) { /* the end of one query's results */
            if (++q > PG_GUARD_QUERIES || PQstatus(c) == CONNECTION_BAD)
                return;
            continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return;
        }
        if (q < PG_GUARD_QUERIES && !got[q])
            got[q] = r;
        else
            PQclear(r);
    }
}

static int pg_send_guarded(lv_db_stmt *s, const pg_args *a)
{
    PGconn *c = s->db->c;
    return PQsendQueryParams(c, "SAVEPOINT lv_stmt", 0, NULL, NULL, NULL, NULL,
                             0) &&
           PQsendQueryParams(c, s->sql, s->nparams, a->oids, a->vals, a->lens,
                             a->fmts, 0) &&
           PQsendQueryParams(c, "RELEASE SAVEPOINT lv_stmt", 0, NULL, NULL,
                             NULL, NULL, 0) &&
           PQpipelineSync(c);
}

static int pg_run_guarded(lv_db_stmt *s, lv_err *err)
{
    PGconn *c = s->db->c;
    PGresult *got[PG_GUARD_QUERIES] = {0};
    pg_args a;
    LV_TRY(pg_args_make(s, &a, err));
    int sent = PQenterPipelineMode(c) && pg_send_guarded(s, &a);
    if (PQpipelineStatus(c) != PQ_PIPELINE_OFF) {
        if (sent)
            pg_pipeline_collect(c, got);
        if (!PQexitPipelineMode(c)) /* results left unread: start afresh */
            PQreset(c);
    }
    pg_args_free(&a);
    int rc;
    if (!sent || !got[0])
        rc = lv_fail(err, LV_ESTORE, "postgresql: %s", PQerrorMessage(c));
    else if (PQresultStatus(got[0]) != PGRES_COMMAND_OK)
        rc = pg_fail_res(got[0], c, err);
    else if ((rc = pg_took(s, got[1], err)) == 0) {
        got[1] = NULL; /* s->res owns it */
        if (PQresultStatus(got[2]) != PGRES_COMMAND_OK)
            rc = pg_fail_res(got[2], c, err);
    } else {
        got[1] = NULL;
        lv_err ignored;
        lv_ignore(pg_command(s->db, "ROLLBACK TO SAVEPOINT lv_stmt", &ignored));
    }
    for (int i = 0; i < PG_GUARD_QUERIES; i++)
        PQclear(got[i]);
    return rc;
}

static int pg_step(lv_db_stmt *s, lv_err *err)
{
    if (!s->res) {
        lv_db *db = s->db;
        LV_TRY(pg_alive(db, err));
        int guard = db->in_tx && pg_writes(s->sql);
        int rc = guard ? pg_run_guarded(s, err) : pg_run(s, err);
        /* a write outside a transaction may have committed before the
         * connection broke: only reads are run again */
        if (rc < 0 && !guard && !pg_writes(s->sql) && pg_retry(db, err)) {
            pg_stmt_reset(s);
            rc = pg_run(s, err);
        }
        if (rc < 0) {
            pg_stmt_reset(s);
            return rc;
        }
    }
    s->row++;
    return s->row < PQntuples(s->res) ? LV_DB_ROW : LV_DB_DONE;
}

static int pg_has(const lv_db_stmt *s, int col)
{
    return s->res && s->row >= 0 && s->row < PQntuples(s->res) && col >= 0 &&
           col < PQnfields(s->res) && !PQgetisnull(s->res, s->row, col);
}

static const char *pg_column_text(lv_db_stmt *s, int col)
{
    return pg_has(s, col) ? PQgetvalue(s->res, s->row, col) : NULL;
}

static int64_t pg_column_int64(lv_db_stmt *s, int col)
{
    const char *v = pg_column_text(s, col);
    if (!v)
        return 0;
    /* A boolean expression (a comparison in a SELECT list) is t or f. */
    if (v[0] == 't' && v[1] == '\0')
        return 1;
    return strtoll(v, NULL, 10);
}

static const void *pg_column_blob(lv_db_stmt *s, int col, size_t *len)
{
    *len = 0;
    free(s->blob);
    s->blob = NULL;
    const char *v = pg_column_text(s, col);
    if (!v)
        return NULL;
    if (PQftype(s->res, col) != PG_OID_BYTEA) {
        *len = strlen(v);
        return v;
    }
    s->blob = PQunescapeBytea((const unsigned char *)v, len);
    if (!s->blob)
        *len = 0;
    return s->blob;
}

/* ---- transactions ------------------------------------------------------ */

static int pg_begin(lv_db *db, lv_err *err)
{
    static const char begin[] =
        "BEGIN ISOLATION LEVEL READ COMMITTED;"
        " SELECT pg_advisory_xact_lock(" LV_PG_WRITE_LOCK ")";
    LV_TRY(pg_alive(db, err));
    int rc = pg_command(db, begin, err);
    if (rc < 0 && pg_retry(db, err))
        rc = pg_command(db, begin, err);
    if (rc < 0) {
        /* BEGIN may have run before the lock failed (a cancel, a lock
         * timeout): end that transaction, or the next begin would be
         * inside it. */
        lv_err ignored;
        lv_ignore(pg_command(db, "ROLLBACK", &ignored));
        return rc;
    }
    db->in_tx = 1;
    return 0;
}

/* COMMIT of a transaction the server already aborted answers ROLLBACK,
 * not an error: that is a failure here. */
static int pg_commit(lv_db *db, lv_err *err)
{
    PGresult *r = PQexec(db->c, "COMMIT");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pg_fail_res(r, db->c, err);
    else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
        rc = lv_fail(err, LV_ESTORE,
                     "postgresql: the transaction was rolled back");
    PQclear(r);
    db->in_tx = 0;
    return rc;
}

static void pg_rollback(lv_db *db)
{
    lv_err ignored;
    lv_ignore(pg_command(db, "ROLLBACK", &ignored));
    db->in_tx = 0;
}

static int64_t pg_changes(lv_db *db)
{
    return db->changes;
}

const lv_db_driver lv_db_postgresql = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .serve_reads = NULL,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .bind_text = pg_bind_text,
    .bind_int64 = pg_bind_int64,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .column_text = pg_column_text,
    .column_int64 = pg_column_int64,
    .column_blob = pg_column_blob,
    .finalize = pg_finalize,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .changes = pg_changes,
    .backup = NULL,
};
