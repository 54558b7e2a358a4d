/* Copying an SQLite store into a new PostgreSQL one, table by table
 * (`llave store migrate`, issue 17 item 1).
 *
 * The target is the authority on what to copy: its schema was just made by
 * the same migrations (store_copy_target), so its catalog lists the tables,
 * the order foreign keys impose and each column's type; the source is read
 * column by column under those names.  Nothing llave writes uses sequences
 * or identity columns (ids are serials, random hex, audit seq = max + 1),
 * so there is nothing to reset after the copy; store_copy checks that this
 * still holds rather than assume it. */
#include "store/store_driver.h"

#include <stdlib.h>
#include <string.h>

#define COPY_MAX_TABLES 128
#define COPY_MAX_COLS 64
#define COPY_NAME_MAX 64

/* The tables of the target's schema, each after every table it refers to:
 * ordered by the length of the longest chain of foreign keys below it. */
static const char tables_sql[] =
    "WITH RECURSIVE fk (t, r) AS ("
    " SELECT conrelid, confrelid FROM pg_constraint"
    " WHERE contype = 'f' AND conrelid <> confrelid),"
    " d (t, depth) AS ("
    " SELECT oid, 0 FROM pg_class WHERE relkind = 'r'"
    " AND relnamespace = current_schema()::regnamespace"
    " UNION ALL SELECT fk.t, d.depth + 1 FROM fk JOIN d ON fk.r = d.t)"
    " SELECT c.relname FROM d JOIN pg_class c ON c.oid = d.t"
    " WHERE c.relname <> 'schema_migrations'"
    " GROUP BY c.relname ORDER BY MAX(d.depth), c.relname";

static const char columns_sql[] =
    "SELECT column_name, data_type FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name = ?"
    " ORDER BY ordinal_position";

enum copy_kind { COPY_TEXT, COPY_INT, COPY_BYTES };

typedef struct copy_names {
    char name[COPY_MAX_TABLES][COPY_NAME_MAX];
    enum copy_kind kind[COPY_MAX_TABLES];
    size_t n;
} copy_names;

/* Catalog names are quoted into SQL: only what llave's migrations name. */
static int plain_name(const char *s)
{
    if (!*s || strlen(s) >= COPY_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int add_name(copy_names *l, const char *name, size_t cap, lv_err *err)
{
    if (l->n >= cap)
        return lv_fail(err, LV_ETOOBIG, "too many tables or columns");
    if (!plain_name(name))
        return lv_fail(err, LV_ESTORE, "unexpected name %.64s in the schema",
                       name);
    snprintf(l->name[l->n++], COPY_NAME_MAX, "%s", name);
    return 0;
}

typedef struct table_walk {
    copy_names *tables;
    lv_err *err;
} table_walk;

static int add_table(const char *name, void *ctx)
{
    table_walk *w = ctx;
    return add_name(w->tables, name, COPY_MAX_TABLES, w->err);
}

static int list_tables(lv_store *dst, copy_names *t, lv_err *err)
{
    table_walk w = {t, err};
    t->n = 0;
    return STORE_EACH_TEXT(dst, err, add_table, &w, tables_sql);
}

/* SQLite's own tables, which the target has no use for. */
static const char source_tables_sql[] =
    "SELECT name FROM sqlite_master WHERE type = 'table'"
    " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    " AND name <> 'schema_migrations'";

typedef struct source_walk {
    const copy_names *target;
    lv_err *err;
} source_walk;

static int in_target(const char *name, void *ctx)
{
    source_walk *w = ctx;
    for (size_t i = 0; i < w->target->n; i++)
        if (strcmp(w->target->name[i], name) == 0)
            return 0;
    return lv_fail(w->err, LV_ESTATE,
                   "the source has a table %.64s the target's schema lacks",
                   name);
}

/* Every table of the source is one the copy walks: none is left behind
 * because the target's catalog did not list it. */
static int sources_covered(lv_store *src, const copy_names *t, lv_err *err)
{
    source_walk w = {t, err};
    return STORE_EACH_TEXT(src, err, in_target, &w, source_tables_sql);
}

static enum copy_kind kind_of(const char *type)
{
    if (strcmp(type, "bigint") == 0 || strcmp(type, "integer") == 0 ||
        strcmp(type, "smallint") == 0)
        return COPY_INT;
    return strcmp(type, "bytea") == 0 ? COPY_BYTES : COPY_TEXT;
}

static int list_columns(lv_store *dst, const char *table, copy_names *c,
                        lv_err *err)
{
    store_q q;
    int rc;
    c->n = 0;
    STORE_Q(&q, dst, err, columns_sql, SQ_TEXT(table));
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        c->kind[c->n] = kind_of(store_q_col_text(&q, 1));
        rc = add_name(c, store_q_col_text(&q, 0), COPY_MAX_COLS, err);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

/* SELECT "a", "b" FROM "t" and INSERT INTO "t" ("a", "b") VALUES (?, ?). */
static int copy_sql(const char *table, const copy_names *c, lv_buf *sel,
                    lv_buf *ins)
{
    int rc = lv_buf_appendf(sel, "SELECT ");
    rc |= lv_buf_appendf(ins, "INSERT INTO \"%s\" (", table);
    for (size_t i = 0; i < c->n; i++) {
        const char *sep = i ? ", " : "";
        rc |= lv_buf_appendf(sel, "%s\"%s\"", sep, c->name[i]);
        rc |= lv_buf_appendf(ins, "%s\"%s\"", sep, c->name[i]);
    }
    rc |= lv_buf_appendf(sel, " FROM \"%s\"%c", table, '\0');
    rc |= lv_buf_appendf(ins, ") VALUES (");
    for (size_t i = 0; i < c->n; i++)
        rc |= lv_buf_appendf(ins, "%s?", i ? ", " : "");
    rc |= lv_buf_appendf(ins, ")%c", '\0');
    return rc ? LV_ENOMEM : 0;
}

/* The source's current row into a new INSERT on dst, as dst types it; an
 * SQL NULL stays NULL (the text accessor tells it from "" and from an
 * empty blob). */
static int copy_row(lv_store *src, lv_db_stmt *row, lv_store *dst,
                    const char *ins, const copy_names *c, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, dst, ins, err);
    for (size_t i = 0; i < c->n; i++) {
        int col = (int)i;
        const char *text = src->drv->column_text(row, col);
        if (!text) {
            store_q_text(&q, NULL);
        } else if (c->kind[i] == COPY_INT) {
            store_q_int64(&q, src->drv->column_int64(row, col));
        } else if (c->kind[i] == COPY_BYTES) {
            size_t len = 0;
            const void *p = src->drv->column_blob(row, col, &len);
            store_q_blob(&q, p, len);
        } else {
            store_q_text(&q, text);
        }
    }
    return store_q_run(&q, NULL);
}

static int copy_table(lv_store *src, lv_store *dst, const char *table,
                      int64_t *rows, lv_err *err)
{
    copy_names *c = calloc(1, sizeof *c);
    lv_buf sel = {0}, ins = {0};
    store_q q;
    int rc = c ? list_columns(dst, table, c, err)
               : lv_fail(err, LV_ENOMEM, "out of memory");
    if (rc == 0 && copy_sql(table, c, &sel, &ins) < 0)
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    *rows = 0;
    if (rc == 0) {
        store_q_prepare(&q, src, (const char *)sel.data, err);
        while ((rc = store_q_step(&q)) == LV_DB_ROW) {
            rc = copy_row(src, q.stmt, dst, (const char *)ins.data, c, err);
            if (rc < 0)
                break;
            ++*rows;
        }
        store_q_finalize(&q);
    }
    lv_buf_free(&sel);
    lv_buf_free(&ins);
    free(c);
    if (rc < 0 && err) {
        char msg[LV_ERR_MSG_MAX];
        memcpy(msg, err->msg, sizeof msg);
        lv_fail(err, rc, "table %s: %.200s", table, msg);
    }
    return rc < 0 ? rc : 0;
}

/* A sequence would need setval after rows copied with their ids. */
static int no_sequences(lv_store *dst, lv_err *err)
{
    int n = 0;
    LV_TRY(STORE_COUNT(dst, &n, err,
                       "SELECT COUNT(*) FROM information_schema.sequences"
                       " WHERE sequence_schema = current_schema()"));
    return n == 0 ? 0
                  : lv_fail(err, LV_EINTERNAL,
                            "the schema has %d sequence(s), which this copy "
                            "does not reset",
                            n);
}

int store_copy(lv_store *src, lv_store *dst, store_copy_fn fn, void *ctx,
               lv_err *err)
{
    copy_names *t = calloc(1, sizeof *t);
    if (!t)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = no_sequences(dst, err);
    if (rc == 0)
        rc = list_tables(dst, t, err);
    if (rc == 0)
        rc = sources_covered(src, t, err);
    for (size_t i = 0; rc == 0 && i < t->n; i++) {
        int64_t rows = 0;
        rc = copy_table(src, dst, t->name[i], &rows, err);
        if (rc == 0)
            rc = fn(t->name[i], rows, ctx);
    }
    free(t);
    return rc;
}

int store_table_rows(lv_store *st, const char *table, int64_t *rows,
                     lv_err *err)
{
    char sql[128];
    store_q q;
    *rows = 0;
    if (!plain_name(table))
        return lv_fail(err, LV_EINVAL, "bad table name");
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM \"%s\"", table);
    store_q_prepare(&q, st, sql, err);
    return store_q_ints(&q, rows, 1);
}
