/* Unit tests of store/store_wal.c and the SQLite driver's checkpoint: the
 * write-ahead log stays bounded (llaved's checkpointer), a reader that
 * still needs the log delays the restart for a bounded time only, and a
 * log that grew is cut back to its limit when it starts again. */
#include "store/store.h"
#include "store/store_driver.h"
#include "store/store_front.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include "testutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WAL_KEEP (64L * 1024 * 1024) /* SQ_WAL_KEEP_BYTES */

typedef struct fixture {
    char dir[512];
    char db[600];
    char wal[610];
    lv_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    lv_err err = {0};
    if (f == NULL || tu_tmpdir(f->dir, sizeof f->dir, "wal") < 0 ||
        tu_store_open(f->dir, f->db, sizeof f->db, &f->st) < 0)
        return -1;
    snprintf(f->wal, sizeof f->wal, "%s-wal", f->db);
    if (f->st->drv->exec(f->st->db, "CREATE TABLE scratch (x BLOB)", &err) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

/* n rows of `bytes` zero bytes each, in one transaction through llave's
 * own connection (its settings decide what the log does). */
static void write_rows(fixture *f, int n, int bytes)
{
    char sql[256];
    lv_err err = {0};
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
             "WHERE i < %d) INSERT INTO scratch SELECT zeroblob(%d) FROM n",
             n, bytes);
    assert_int_equal(store_begin(f->st, &err), 0);
    assert_int_equal(f->st->drv->exec(f->st->db, sql, &err), 0);
    assert_int_equal(store_commit(f->st, &err), 0);
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Frames in the log now, read by a connection of the test's own. */
static int log_frames(const char *db)
{
    sqlite3 *h;
    int log = -1, done = -1;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    /* a read first: a connection opens the log only when it reads */
    assert_int_equal(
        sqlite3_exec(h, "SELECT COUNT(*) FROM sqlite_master", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_wal_checkpoint_v2(
                         h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done),
                     SQLITE_OK);
    sqlite3_close(h);
    assert_true(log >= 0);
    return log;
}

static sqlite3 *raw_open(const char *db)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    return h;
}

/* A read transaction that holds its snapshot until COMMIT (SQLITE_OK). */
static int snapshot_begin(sqlite3 *h)
{
    return sqlite3_exec(h, "BEGIN; SELECT COUNT(*) FROM scratch", NULL, NULL,
                        NULL);
}

static sqlite3 *reader_open(const char *db)
{
    sqlite3 *h = raw_open(db);
    assert_int_equal(snapshot_begin(h), SQLITE_OK);
    return h;
}

static void reader_close(sqlite3 *h)
{
    assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A log that grew past its limit in one large transaction is cut back to
 * it (journal_size_limit) when the next writer starts it again. */
static void test_grown_log_is_cut_back(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    write_rows(f, 80, 1024 * 1024);
    assert_true(file_size(f->wal) > WAL_KEEP);
    assert_int_equal(store_checkpoint(f->st, &err), 0);
    write_rows(f, 1, 16);
    assert_true(file_size(f->wal) <= WAL_KEEP);
    assert_true(log_frames(f->db) < 16);
}

/* A reader holding a snapshot that needs the log: the checkpoint waits for
 * it about 100 ms, not the 5 s a writer would (writers wait behind it),
 * answers 0 ("next time") and leaves the log as it was; the pass after
 * that does not wait (backoff); once the reader left, a pass lets the log
 * start again. */
static void test_reader_delays_the_restart_briefly(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    write_rows(f, 1, 16);
    sqlite3 *reader = reader_open(f->db);
    write_rows(f, 40, 1024 * 1024); /* > 4096 pages of log */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_checkpoint(f->st, &err), 0);
    double waited = seconds_since(&t0);
    assert_true(waited >= 0.05 && waited < 2.0);
    /* the reader stays: the next pass only copies, without waiting */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_checkpoint(f->st, &err), 0);
    assert_true(seconds_since(&t0) < 0.05);
    write_rows(f, 1, 16);
    assert_true(log_frames(f->db) > 4096); /* not started again */

    reader_close(reader);
    assert_int_equal(store_checkpoint(f->st, &err), 0);
    write_rows(f, 1, 16);
    assert_true(log_frames(f->db) < 16);
}

/* ---- steady load: a writer and readers that always overlap ---------------
 */

typedef struct load {
    const char *db;
    atomic_int stop;
    atomic_long commits;
} load;

static void pause_us(long us)
{
    struct timespec t = {0, us * 1000};
    nanosleep(&t, NULL);
}

/* A transaction of 32 KB (about 9 pages of log) every millisecond, with
 * SQLite's own checkpoint at commit (as llaved's and keyd's connections):
 * the log passes the checkpointer's 4096 pages within its first passes. */
static void *writer_main(void *arg)
{
    load *l = arg;
    sqlite3 *h = raw_open(l->db);
    while (!atomic_load(&l->stop)) {
        if (sqlite3_exec(h, "INSERT INTO scratch VALUES (zeroblob(32000))",
                         NULL, NULL, NULL) == SQLITE_OK)
            atomic_fetch_add(&l->commits, 1);
        pause_us(1000);
    }
    sqlite3_close(h);
    return NULL;
}

/* Two readers taking turns so that one always holds a snapshot: the next
 * opens before the last closes (the OCSP lookups and session checks of a
 * busy llaved). */
static void *readers_main(void *arg)
{
    load *l = arg;
    sqlite3 *r[2] = {raw_open(l->db), raw_open(l->db)};
    int held = 0;
    snapshot_begin(r[0]);
    while (!atomic_load(&l->stop)) {
        pause_us(300);
        snapshot_begin(r[1 - held]);
        sqlite3_exec(r[held], "COMMIT", NULL, NULL, NULL);
        held = 1 - held;
    }
    sqlite3_exec(r[held], "COMMIT", NULL, NULL, NULL);
    sqlite3_close(r[0]);
    sqlite3_close(r[1]);
    return NULL;
}

/* The log header's checkpoint sequence number (https://sqlite.org/
 * fileformat2.html#walformat, bytes 12..15): one more at every restart. */
static uint32_t log_sequence(const char *wal)
{
    unsigned char h[32] = {0};
    FILE *fp = fopen(wal, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(h, 1, sizeof h, fp), sizeof h);
    fclose(fp);
    return (uint32_t)h[12] << 24 | (uint32_t)h[13] << 16 |
           (uint32_t)h[14] << 8 | h[15];
}

/* Checkpoint starvation: with readers that always overlap, the writer's
 * own checkpoints never let the log start again (the sequence number would
 * not move); llaved's job restarts it within its first passes. */
static void test_checkpointer_ends_starvation(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_job *job = NULL;
    load l = {.db = f->db};
    pthread_t w, r;
    write_rows(f, 1, 16);
    uint32_t before = log_sequence(f->wal);
    assert_int_equal(pthread_create(&r, NULL, readers_main, &l), 0);
    assert_int_equal(pthread_create(&w, NULL, writer_main, &l), 0);
    assert_int_equal(store_checkpointer_start(f->db, &job, &err), 0);
    sleep(4);
    lv_job_stop(job);
    atomic_store(&l.stop, 1);
    pthread_join(w, NULL);
    pthread_join(r, NULL);
    assert_true(atomic_load(&l.commits) > 100);
    assert_true(log_sequence(f->wal) > before);
}

/* A transaction of its own connection open: refused, nothing changed. */
static void test_refused_inside_a_transaction(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    assert_int_equal(store_begin(f->st, &err), 0);
    assert_int_equal(store_checkpoint(f->st, &err), LV_ESTATE);
    store_rollback(f->st);
}

/* llaved's job: started on the file, its first pass within about a
 * second, stopped at once.  The log was left partly copied by a reader
 * (the commit's own checkpoint stopped at that reader's snapshot): without
 * a pass the next writer could not start it again. */
static void test_checkpointer_job(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_job *job = NULL;
    write_rows(f, 1, 16);
    sqlite3 *reader = reader_open(f->db);
    write_rows(f, 40, 1024 * 1024);
    reader_close(reader);
    assert_true(log_frames(f->db) > 4096);
    assert_int_equal(store_checkpointer_start(f->db, &job, &err), 0);
    assert_non_null(job);
    sleep(2);
    lv_job_stop(job);
    write_rows(f, 1, 16);
    assert_true(log_frames(f->db) < 16);
    assert_int_equal(
        store_checkpointer_start("/nonexistent/dir/llave.db", &job, &err) < 0,
        1);
}

#define TF(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TF(test_grown_log_is_cut_back),
        TF(test_reader_delays_the_restart_briefly),
        TF(test_refused_inside_a_transaction),
        TF(test_checkpointer_job),
        TF(test_checkpointer_ends_starvation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
