/* Opening a store, schema migrations and transactions. */
#include "store/migrations.h"
#include "store/store_driver.h"

#include <stdlib.h>
#include <string.h>

/* Not part of any numbered migration: it has to exist before we can tell
 * which migrations have run. */
static const char schema_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";

/* R10.2: a PostgreSQL URL (postgres://, postgresql://) or "pg:" and a
 * libpq connection string ("pg:host=/run/pg dbname=llave") selects the
 * PostgreSQL driver; anything else is an SQLite file.  *conninfo is what
 * the driver opens. */
static void store_pick_driver(const char *location, const lv_db_driver **drv,
                              const char **conninfo)
{
    *drv = &lv_db_sqlite;
    *conninfo = location;
    if (strncmp(location, "postgres://", 11) == 0 ||
        strncmp(location, "postgresql://", 13) == 0) {
        *drv = &lv_db_postgresql;
    } else if (strncmp(location, LV_STORE_PG_PREFIX,
                       strlen(LV_STORE_PG_PREFIX)) == 0) {
        *drv = &lv_db_postgresql;
        *conninfo = location + strlen(LV_STORE_PG_PREFIX);
    }
}

int store_schema_version(lv_store *st, int *version, lv_err *err)
{
    store_q q;
    int64_t v = 0;
    store_q_prepare(
        &q, st, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", err);
    int rc = store_q_ints(&q, &v, 1);
    *version = (int)v;
    return rc;
}

static int latest_known(void)
{
    int v = 0;
    for (size_t i = 0; i < lv_migrations_count; i++)
        if (lv_migrations[i].version > v)
            v = lv_migrations[i].version;
    return v;
}

static int record_migration(lv_store *st, const lv_migration *m, lv_err *err)
{
    return STORE_RUN(st, NULL, err,
                     "INSERT INTO schema_migrations (version, name, applied_at)"
                     " VALUES (?, ?, ?)",
                     SQ_INT(m->version), SQ_TEXT(m->name), SQ_INT(lv_now()));
}

/* Migration m's SQL for st's back end, and its row in schema_migrations. */
static int run_migration(lv_store *st, const lv_migration *m, lv_err *err)
{
    const char *sql =
        st->drv == &lv_db_postgresql && m->sql_pg ? m->sql_pg : m->sql;
    LV_TRY(st->drv->exec(st->db, sql, err));
    return record_migration(st, m, err);
}

/* One transaction per migration.  The version is read again under the write
 * lock because another process (a second llaved worker) may have applied
 * the same migration since we looked. */
static int apply_migration(lv_store *st, const lv_migration *m, lv_err *err)
{
    int current = 0, rc;
    LV_TRY(store_begin(st, err));
    LV_TRY_GOTO(rc, store_schema_version(st, &current, err), fail);
    if (current >= m->version)
        return store_commit(st, err);
    LV_TRY_GOTO(rc, run_migration(st, m, err), fail);
    LV_TRY(store_commit(st, err));
    lv_log(LV_LOG_INFO, "store: applied migration %s", m->name);
    return 0;
fail:
    store_rollback(st);
    if (err) {
        char msg[LV_ERR_MSG_MAX];
        memcpy(msg, err->msg, sizeof msg);
        lv_fail(err, rc, "migration %s failed: %.200s", m->name, msg);
    }
    return rc;
}

static int store_migrate(lv_store *st, lv_err *err)
{
    int current = 0;
    /* Created only when it is missing: on PostgreSQL the service role
     * (deploy/postgresql-roles.sql) may not CREATE in the schema, not even
     * "IF NOT EXISTS". */
    lv_err ignored;
    if (store_schema_version(st, &current, &ignored) < 0) {
        LV_TRY(st->drv->exec(st->db, schema_table_sql, err));
        LV_TRY(store_schema_version(st, &current, err));
    }
    /* An older binary must not write into a schema it does not know. */
    if (current > latest_known())
        return lv_fail(err, LV_ESTATE,
                       "database schema version %d is newer than this llave "
                       "(knows up to %d); upgrade llave",
                       current, latest_known());
    /* The table is generated from sorted file names, so it is ascending. */
    for (size_t i = 0; i < lv_migrations_count; i++)
        if (lv_migrations[i].version > current)
            LV_TRY(apply_migration(st, &lv_migrations[i], err));
    return 0;
}

int store_open(const char *location, lv_store **out, lv_err *err)
{
    *out = NULL;
    lv_store *st = calloc(1, sizeof *st);
    if (!st)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    const char *conninfo = location;
    store_pick_driver(location, &st->drv, &conninfo);
    int rc = st->drv->open(conninfo, &st->db, err);
    if (rc == 0)
        rc = store_migrate(st, err);
    if (rc == 0)
        *out = st;
    else
        store_close(st);
    return rc;
}

/* How many tables the schema PostgreSQL creates new tables in holds. */
static int pg_tables(lv_store *st, int *n, lv_err *err)
{
    return STORE_COUNT(st, n, err,
                       "SELECT COUNT(*) FROM pg_tables"
                       " WHERE schemaname = current_schema()");
}

/* The schema in one transaction with the copy (store_copy_target): the
 * same migrations as store_open, PostgreSQL's DDL being transactional. */
static int create_schema(lv_store *st, lv_err *err)
{
    LV_TRY(st->drv->exec(st->db, schema_table_sql, err));
    for (size_t i = 0; i < lv_migrations_count; i++)
        LV_TRY(run_migration(st, &lv_migrations[i], err));
    return 0;
}

int store_copy_target(const char *location, lv_store **out, lv_err *err)
{
    *out = NULL;
    lv_store *st = calloc(1, sizeof *st);
    if (!st)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    const char *conninfo = location;
    int tables = 0;
    store_pick_driver(location, &st->drv, &conninfo);
    int rc = st->drv == &lv_db_postgresql
                 ? st->drv->open(conninfo, &st->db, err)
                 : lv_fail(err, LV_EINVAL, "the target must be PostgreSQL");
    if (rc == 0)
        rc = pg_tables(st, &tables, err);
    if (rc == 0 && tables > 0)
        rc = lv_fail(err, LV_EEXISTS,
                     "the target database is not empty (%d tables): "
                     "migrate into a new, empty database",
                     tables);
    if (rc == 0)
        rc = store_begin(st, err);
    if (rc == 0)
        rc = create_schema(st, err);
    if (rc == 0)
        *out = st;
    else
        store_close(st);
    return rc;
}

/* An open transaction is rolled back: closing never commits. */
void store_close(lv_store *st)
{
    if (st && st->db) {
        store_rollback(st);
        st->drv->close(st->db);
    }
    free(st);
}

int store_begin(lv_store *st, lv_err *err)
{
    if (st->in_tx)
        return lv_fail(err, LV_ESTATE, "a transaction is already open");
    LV_TRY(st->drv->begin(st->db, err));
    st->in_tx = 1;
    return 0;
}

int store_commit(lv_store *st, lv_err *err)
{
    if (!st->in_tx)
        return lv_fail(err, LV_ESTATE, "no transaction is open");
    int rc = st->drv->commit(st->db, err);
    /* A failed COMMIT (e.g. SQLITE_BUSY) leaves the transaction open; end it
     * so the caller's state is "nothing happened", never "half-open". */
    if (rc < 0)
        st->drv->rollback(st->db);
    st->in_tx = 0;
    return rc;
}

void store_rollback(lv_store *st)
{
    if (!st || !st->in_tx)
        return;
    st->drv->rollback(st->db);
    st->in_tx = 0;
}

int store_end(lv_store *st, int rc, lv_err *err)
{
    if (rc < 0) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st, err);
}

int store_in_transaction(const lv_store *st)
{
    return st && st->in_tx;
}

int store_front_open(const char *location, int map_reads, lv_store **out,
                     lv_err *err)
{
    LV_TRY(store_open(location, out, err));
    lv_store *st = *out;
    if (!st)
        return lv_fail(err, LV_EINTERNAL, "no store");
    int rc = map_reads && st->drv->serve_reads
                 ? st->drv->serve_reads(st->db, err)
                 : 0;
    if (rc < 0) {
        store_close(st);
        *out = NULL;
    }
    return rc;
}

void store_front_close(lv_store *st)
{
    store_close(st);
}
