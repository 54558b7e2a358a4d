/* store_probe — the store driver's transaction semantics on a live
 * database, for tests/integration/test_store_pg.py (issue 17 item 1).
 *
 *   store_probe LOCATION
 *
 * On a database `llave init` made: inside one transaction it inserts a
 * job_leases row, inserts it again (must fail with LV_EEXISTS, as SQLite
 * fails only that statement), inserts a second row and reads both back,
 * then commits; a later transaction that inserts a third row and rolls
 * back leaves nothing.  On PostgreSQL the refused insert runs inside the
 * savepoint that pg_run_guarded pipelines with it.  Prints one line per
 * step; exits 0 when all hold. */
#include "store/store.h"
#include "store/store_driver.h"

#include <stdio.h>
#include <string.h>

static int failures;

static void expect(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
}

static int insert_lease(lv_store *st, const char *job, lv_err *err)
{
    return STORE_RUN(st, NULL, err,
                     "INSERT INTO job_leases (job, holder, expires_at,"
                     " taken_at) VALUES (?, 'store_probe', 0, 0)",
                     SQ_TEXT(job));
}

static int64_t count_leases(lv_store *st)
{
    store_q q;
    int64_t n = -1;
    lv_err err = {0};
    if (STORE_Q(&q, st, &err,
                "SELECT COUNT(*) FROM job_leases WHERE holder = ?",
                SQ_TEXT("store_probe")) < 0 ||
        store_q_ints(&q, &n, 1) < 0)
        return -1;
    return n;
}

int main(int argc, char **argv)
{
    lv_store *st = NULL;
    lv_err err = {0};
    if (argc != 2) {
        fprintf(stderr, "usage: store_probe LOCATION\n");
        return 2;
    }
    if (store_open(argv[1], &st, &err) < 0) {
        fprintf(stderr, "store_probe: %s\n", err.msg);
        return 2;
    }
    expect(store_begin(st, &err) == 0, "begin");
    expect(insert_lease(st, "probe-a", &err) == 0, "insert probe-a");
    int rc = insert_lease(st, "probe-a", &err);
    expect(rc == LV_EEXISTS, "the same row again: LV_EEXISTS");
    expect(insert_lease(st, "probe-b", &err) == 0,
           "the transaction goes on after the refused insert");
    expect(count_leases(st) == 2, "both rows seen inside the transaction");
    expect(store_commit(st, &err) == 0, "commit");
    expect(count_leases(st) == 2, "both rows after the commit");
    expect(store_begin(st, &err) == 0, "begin again");
    expect(insert_lease(st, "probe-c", &err) == 0, "insert probe-c");
    store_rollback(st);
    expect(count_leases(st) == 2, "a rolled-back insert leaves nothing");
    store_close(st);
    return failures ? 1 : 0;
}
