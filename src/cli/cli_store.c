/* llave -d DIR store migrate --to CONNINFO (issue 17 item 1, R10.2): moves
 * an SQLite install into a new, empty PostgreSQL database.
 *
 * Offline: it refuses while llaved runs on DIR (DIR/llaved.pid names a live
 * process), when the source's audit chain does not verify, and when the
 * target holds any table.  The schema (the migrations `llave init` runs),
 * every row and an audit entry "store.migrate" naming the source and the
 * counts land in one PostgreSQL transaction: a failure before the commit
 * leaves the target as it was.  After the commit the chain is verified on
 * PostgreSQL (audit_verify, as `llave audit verify`) and the rows counted
 * per table on both sides; only then is llave.json rewritten to the
 * postgresql driver, the old file kept as llave.json.sqlite.  The SQLite
 * file is left as it was (the fallback until the operator removes it). */
#include "audit/audit.h"
#include "cli/cli.h"
#include "store/store.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_KEPT "llave.json.sqlite"

/* llaved writes DIR/llaved.pid while it runs and removes it as it stops; a
 * file left by a killed llaved names a process that is gone. */
static int refuse_running(const char *dir, lv_err *err)
{
    char path[1024];
    unsigned char *text = NULL;
    size_t len = 0;
    LV_TRY(lv_path_join(path, sizeof path, dir, "llaved.pid"));
    if (access(path, F_OK) != 0)
        return 0;
    LV_TRY(lv_file_read(path, &text, &len, 64, err));
    long pid = strtol((const char *)text, NULL, 10);
    free(text);
    if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
        return lv_fail(err, LV_ESTATE,
                       "llaved (pid %ld) is running on %s: stop it first", pid,
                       dir);
    return 0;
}

/* DIR/llave.json must exist to be rewritten, and the copy of it not yet:
 * checked before anything is written anywhere. */
static int check_config_files(const char *dir, lv_err *err)
{
    char path[1024];
    LV_TRY(lv_path_join(path, sizeof path, dir, "llave.json"));
    if (access(path, F_OK) != 0)
        return lv_fail(err, LV_ENOTFOUND, "%s is missing", path);
    LV_TRY(lv_path_join(path, sizeof path, dir, CONFIG_KEPT));
    if (access(path, F_OK) == 0)
        return lv_fail(err, LV_EEXISTS,
                       "%s exists: a migration was done before; move it "
                       "away first",
                       path);
    return 0;
}

static int verify_chain(lv_store *st, const char *where, int64_t *entries,
                        lv_err *err)
{
    lv_audit_report r;
    memset(&r, 0, sizeof r);
    int rc = audit_verify(st, &r, err);
    if (rc < 0 && r.bad_seq > 0)
        return lv_fail(err, LV_ESTATE,
                       "the audit trail %s is BROKEN at entry %lld: %s", where,
                       (long long)r.bad_seq, r.reason);
    LV_TRY(rc);
    *entries = r.entries;
    printf("audit trail %s intact: %lld entries, %lld seal(s)\n", where,
           (long long)r.entries, (long long)r.seals);
    return 0;
}

static int print_copied(const char *table, int64_t rows, void *ctx)
{
    printf("copied %-28s %lld row(s)\n", table, (long long)rows);
    return json_object_set_new(ctx, table, json_integer(rows)) == 0 ? 0
                                                                    : LV_ENOMEM;
}

/* Copy, audit entry and commit: on any failure the target is rolled back
 * (store_close without commit). */
static int copy_all(cli_ctx *ctx, const char *target, const char *source,
                    json_t *counts, lv_err *err)
{
    lv_store *dst = NULL;
    LV_TRY(store_copy_target(target, &dst, err));
    printf("target is empty; schema created (every migration of llave "
           "init), transaction open\n");
    int rc = store_copy(ctx->st, dst, print_copied, counts, err);
    json_t *details = json_pack("{s:s, s:s, s:O}", "from", source, "to",
                                "postgresql", "rows", counts);
    if (rc == 0 && !details)
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    if (rc == 0)
        rc = audit_log(dst, ctx->actor, "store.migrate", source,
                       LV_AUDIT_SUCCESS, details, err);
    json_decref(details);
    if (rc == 0)
        rc = store_commit(dst, err);
    if (rc == 0)
        printf("committed: %zu table(s) and the audit entry store.migrate\n",
               json_object_size(counts));
    else
        printf("rolled back: the target is unchanged\n");
    store_close(dst);
    return rc;
}

/* Each table as many rows on PostgreSQL as in SQLite, and audit_log one
 * more: the migration's own entry. */
static int compare_counts(lv_store *src, lv_store *dst, json_t *counts,
                          lv_err *err)
{
    const char *table;
    json_t *v;
    json_object_foreach(counts, table, v)
    {
        int64_t a = 0, b = 0;
        LV_TRY(store_table_rows(src, table, &a, err));
        LV_TRY(store_table_rows(dst, table, &b, err));
        int64_t want = a + (strcmp(table, "audit_log") == 0 ? 1 : 0);
        if (b != want || json_integer_value(v) != a)
            return lv_fail(err, LV_ESTATE,
                           "table %s: %lld row(s) in SQLite, %lld in "
                           "PostgreSQL",
                           table, (long long)a, (long long)b);
    }
    printf("row counts match in %zu table(s)\n", json_object_size(counts));
    return 0;
}

static int verify_target(cli_ctx *ctx, const char *target, json_t *counts,
                         int64_t before, lv_err *err)
{
    lv_store *dst = NULL;
    int64_t after = 0;
    LV_TRY(store_open(target, &dst, err));
    int rc = verify_chain(dst, "on PostgreSQL", &after, err);
    if (rc == 0 && after != before + 1)
        rc = lv_fail(err, LV_ESTATE,
                     "%lld audit entries on PostgreSQL, %lld expected",
                     (long long)after, (long long)before + 1);
    if (rc == 0)
        rc = compare_counts(ctx->st, dst, counts, err);
    store_close(dst);
    return rc;
}

/* llave.json to the postgresql driver; the old file as llave.json.sqlite. */
static int switch_config(cli_ctx *ctx, const lv_config *next, lv_err *err)
{
    char from[1024], to[1024];
    unsigned char *text = NULL;
    size_t len = 0;
    LV_TRY(lv_path_join(from, sizeof from, ctx->dir, "llave.json"));
    LV_TRY(lv_path_join(to, sizeof to, ctx->dir, CONFIG_KEPT));
    LV_TRY(lv_file_read(from, &text, &len, 1 << 20, err));
    int rc = lv_file_write(to, text, len, 0600, err);
    free(text);
    if (rc == 0)
        rc = lv_config_save(next, err);
    if (rc == 0)
        printf("llave.json now names the postgresql driver; the SQLite "
               "configuration is kept as %s\n",
               to);
    return rc;
}

static int migrate(cli_ctx *ctx, const char *conninfo, lv_err *err)
{
    char source[1024], target[1024];
    int64_t entries = 0;
    LV_TRY(cli_open(ctx, CLI_NEED_STORE, err));
    if (lv_config_store_is_pg(&ctx->cfg))
        return lv_fail(err, LV_ESTATE, "%s already uses PostgreSQL", ctx->dir);
    LV_TRY(refuse_running(ctx->dir, err));
    LV_TRY(check_config_files(ctx->dir, err));
    LV_TRY(lv_config_store_location(&ctx->cfg, source, sizeof source));
    lv_config next = ctx->cfg;
    snprintf(next.store_driver, sizeof next.store_driver, "postgresql");
    if (snprintf(next.store_conninfo, sizeof next.store_conninfo, "%s",
                 conninfo) >= (int)sizeof next.store_conninfo ||
        lv_config_store_location(&next, target, sizeof target) < 0)
        return lv_fail(err, LV_EINVAL, "--to: connection string too long");
    printf("source %s: llaved is not running\n", source);
    LV_TRY(verify_chain(ctx->st, "in SQLite", &entries, err));
    json_t *counts = json_object();
    if (!counts)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = copy_all(ctx, target, source, counts, err);
    if (rc == 0)
        rc = verify_target(ctx, target, counts, entries, err);
    json_decref(counts);
    if (rc == 0)
        rc = switch_config(ctx, &next, err);
    return rc;
}

static int store_migrate_cmd(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    const char *to = NULL, *operand = NULL;
    const cli_option opts[] = {{"--to", &to}, {NULL, NULL}};
    int rc = cli_options(argc, argv, 2, opts, &operand, "store migrate");
    if (rc != 0)
        return rc;
    if (!to || operand)
        return cli_usage_error("store migrate: expected --to CONNINFO");
    rc = migrate(ctx, to, &err);
    if (rc < 0)
        printf("migration failed; llave.json is unchanged\n");
    return cli_report(rc, &err);
}

int cli_store(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"migrate", .run = store_migrate_cmd},
        {.usage = "store: expected `migrate --to CONNINFO`"}};
    return cli_dispatch(ctx, argc, argv, subs);
}
