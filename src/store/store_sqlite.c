/* SQLite back end of lv_db_driver: the embedded default (DESIGN.md). */
#include "store/store_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SQLITE_BUSY_MS 5000
/* The write-ahead log (WAL): past SQ_WAL_RESTART_PAGES pages llaved's
 * checkpointer waits for the readers to let it start again, at most
 * SQ_RESTART_WAIT_MS (writers wait meanwhile), and a log that grew larger
 * is cut back to SQ_WAL_KEEP_BYTES when it restarts. */
#define SQ_WAL_RESTART_PAGES 4096
#define SQ_RESTART_WAIT_MS 100
#define SQ_RESTART_BACKOFF_MAX 32 /* passes */
#define SQ_WAL_KEEP_BYTES "67108864"
/* R10.1: compiling a statement costs more than running the one-row lookups
 * of the hot paths (OCSP, TSA), so each connection keeps the statements it
 * finalized most recently, compiled.  A statement enters the cache reset
 * with its bindings cleared: it holds no lock and no value between uses. */
#define SQ_CACHE 32

struct lv_db_stmt {
    sqlite3_stmt *s;
    sqlite3 *h;
    struct lv_db *db;
    const char *key; /* the caller's SQL pointer: a cache hit needs the same
                        pointer and the same text */
};

struct lv_db {
    sqlite3 *h;
    lv_db_stmt *cache[SQ_CACHE]; /* idle, oldest first */
    size_t ncache;
    int64_t busy_since_us; /* when the current wait for a lock began */
    int busy_ms;           /* how long a wait may last, SQLITE_BUSY_MS */
    int restart_backoff;   /* sq_restart: passes to skip after a busy one */
    int restart_skip;      /* ... of which are left */
};

/* Maps SQLite's extended result codes onto llave's error codes. */
static int sq_fail(sqlite3 *h, int rc, lv_err *err)
{
    const char *msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return lv_fail(err, LV_EEXISTS, "already exists (%s)", msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return lv_fail(err, LV_EINVAL, "refers to a missing record (%s)", msg);
    case SQLITE_NOMEM:
        return lv_fail(err, LV_ENOMEM, "sqlite: out of memory");
    default:
        return lv_fail(err, LV_ESTORE, "sqlite: %s", msg);
    }
}

/* SQLite creates the file with 0644 & ~umask; the database holds personal
 * data, so it is created 0600 first.  The -wal and -shm files inherit the
 * database file's mode.
 *
 * Only when it does not exist yet: close() on any descriptor of the file
 * drops every POSIX lock this process holds on it, including those of the
 * other threads' open connections ("How To Corrupt An SQLite Database File"
 * §2.2).  Another process could then take the file for its own, checkpoint
 * and remove the WAL under them: llaved then read stale or "malformed"
 * pages when a worker opened its store while `llave` was writing. */
static int sq_create_private(const char *path, lv_err *err)
{
    struct stat sb;
    if (strcmp(path, ":memory:") == 0 || path[0] == '\0' ||
        stat(path, &sb) == 0)
        return 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return lv_fail(err, LV_EIO, "cannot create database %s: %s", path,
                       strerror(errno));
    close(fd);
    return 0;
}

static int sq_exec(lv_db *db, const char *sql, lv_err *err)
{
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sq_fail(db->h, rc, err);
}

/* SQLite's own busy handler sleeps 1, 2, 5, 10 ... ms between tries, while
 * the writer ahead of us (another llaved worker, keyd, the CLI) holds the
 * lock for tens of microseconds: a signHash waited milliseconds for a lock
 * that was free long before (R10.1).  Tries again after 20 us, doubling
 * up to 1 ms, for SQLITE_BUSY_MS in all. */
static int sq_busy(void *arg, int tries)
{
    lv_db *db = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    if (tries == 0)
        db->busy_since_us = us;
    if (us - db->busy_since_us >= (int64_t)db->busy_ms * 1000)
        return 0;
    long wait_us = tries < 6 ? 20L << tries : 1000L;
    struct timespec pause = {0, wait_us * 1000};
    nanosleep(&pause, NULL);
    return 1;
}

/* WAL lets readers run beside the one writer; NORMAL is durable in WAL mode
 * except for the last transactions on power loss, never corrupting. */
static int sq_configure(lv_db *db, lv_err *err)
{
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_handler(db->h, sq_busy, db);
    LV_TRY(sq_exec(db, "PRAGMA journal_mode=WAL", err));
    LV_TRY(sq_exec(db, "PRAGMA synchronous=NORMAL", err));
    LV_TRY(sq_exec(db, "PRAGMA foreign_keys=ON", err));
    LV_TRY(sq_exec(db, "PRAGMA journal_size_limit=" SQ_WAL_KEEP_BYTES, err));
    /* No memory map by default: a connection that scans (the CRL of a
     * million entries, backups) would map and keep the whole file, and one
     * that writes beside other processes (keyd, the CLI) would unmap and
     * map again at every transaction another connection committed. */
    return sq_exec(db, "PRAGMA mmap_size=0", err);
}

/* R10.1: the front's status lookups touch a few random pages of tables of
 * millions of rows; through a memory map a page the OS already holds costs
 * no read() (SQLite caps the map at its MAX_MMAP_SIZE, 2 GiB on Debian;
 * pages still in the WAL are read as before). */
static int sq_serve_reads(lv_db *db, lv_err *err)
{
    return sq_exec(db, "PRAGMA mmap_size=2147418112", err);
}

static void sq_stmt_free(lv_db_stmt *s)
{
    sqlite3_finalize(s->s);
    free(s);
}

static void sq_close(lv_db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->ncache; i++)
        sq_stmt_free(db->cache[i]);
    db->ncache = 0;
    sqlite3_close_v2(db->h);
    free(db);
}

/* Before SQLite initializes itself (once per process): no memory statistics,
 * which would take one global mutex for every allocation of every thread
 * (R10.1: llaved's workers contended on it).  Refused with SQLITE_MISUSE,
 * harmlessly, if the process used SQLite before. */
static pthread_once_t sq_once = PTHREAD_ONCE_INIT;

static void sq_global_config(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sq_open(const char *location, lv_db **out, lv_err *err)
{
    *out = NULL;
    pthread_once(&sq_once, sq_global_config);
    LV_TRY(sq_create_private(location, err));
    lv_db *db = calloc(1, sizeof *db);
    if (!db)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    db->busy_ms = SQLITE_BUSY_MS;
    int rc = sqlite3_open_v2(location, &db->h,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sq_configure(db, err);
    else
        rc = lv_fail(err, LV_ESTORE, "cannot open database %s: %s", location,
                     db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
    if (rc < 0) {
        sq_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

/* Takes a cached statement compiled from the same SQL out of the cache. */
static lv_db_stmt *sq_cache_take(lv_db *db, const char *sql)
{
    for (size_t i = db->ncache; i-- > 0;) {
        lv_db_stmt *s = db->cache[i];
        if (s->key != sql || strcmp(sqlite3_sql(s->s), sql) != 0)
            continue;
        for (size_t j = i; j + 1 < db->ncache; j++)
            db->cache[j] = db->cache[j + 1];
        db->ncache--;
        return s;
    }
    return NULL;
}

static int sq_prepare(lv_db *db, const char *sql, lv_db_stmt **out, lv_err *err)
{
    *out = sq_cache_take(db, sql);
    if (*out)
        return 0;
    lv_db_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &s->s, NULL);
    if (rc != SQLITE_OK) {
        free(s);
        return sq_fail(db->h, rc, err);
    }
    s->h = db->h;
    s->db = db;
    s->key = sql;
    *out = s;
    return 0;
}

static int sq_bind_rc(lv_db_stmt *s, int rc, lv_err *err)
{
    return rc == SQLITE_OK ? 0 : sq_fail(s->h, rc, err);
}

static int sq_bind_text(lv_db_stmt *s, int idx, const char *v, lv_err *err)
{
    return sq_bind_rc(s, sqlite3_bind_text(s->s, idx, v, -1, SQLITE_TRANSIENT),
                      err);
}

static int sq_bind_int64(lv_db_stmt *s, int idx, int64_t v, lv_err *err)
{
    return sq_bind_rc(s, sqlite3_bind_int64(s->s, idx, v), err);
}

static int sq_bind_blob(lv_db_stmt *s, int idx, const void *v, size_t len,
                        lv_err *err)
{
    /* A zero-length blob must still be a blob, not NULL. */
    return sq_bind_rc(
        s, sqlite3_bind_blob64(s->s, idx, len ? v : "", len, SQLITE_TRANSIENT),
        err);
}

static int sq_bind_null(lv_db_stmt *s, int idx, lv_err *err)
{
    return sq_bind_rc(s, sqlite3_bind_null(s->s, idx), err);
}

static int sq_step(lv_db_stmt *s, lv_err *err)
{
    int rc = sqlite3_step(s->s);
    if (rc == SQLITE_ROW)
        return LV_DB_ROW;
    if (rc == SQLITE_DONE)
        return LV_DB_DONE;
    return sq_fail(s->h, rc, err);
}

static const char *sq_column_text(lv_db_stmt *s, int col)
{
    return (const char *)sqlite3_column_text(s->s, col);
}

static int64_t sq_column_int64(lv_db_stmt *s, int col)
{
    return sqlite3_column_int64(s->s, col);
}

static const void *sq_column_blob(lv_db_stmt *s, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(s->s, col);
    *len = (size_t)sqlite3_column_bytes(s->s, col);
    return p;
}

/* Back into the cache, reset; the oldest idle statement makes room. */
static void sq_finalize(lv_db_stmt *s)
{
    if (!s)
        return;
    lv_db *db = s->db;
    if (sqlite3_reset(s->s) != SQLITE_OK || !db) {
        sq_stmt_free(s); /* a failed statement is compiled afresh next time */
        return;
    }
    sqlite3_clear_bindings(s->s);
    if (db->ncache == SQ_CACHE) {
        sq_stmt_free(db->cache[0]);
        for (size_t j = 0; j + 1 < SQ_CACHE; j++)
            db->cache[j] = db->cache[j + 1];
        db->ncache--;
    }
    db->cache[db->ncache++] = s;
}

static int sq_begin(lv_db *db, lv_err *err)
{
    return sq_exec(db, "BEGIN IMMEDIATE", err);
}

static int sq_commit(lv_db *db, lv_err *err)
{
    return sq_exec(db, "COMMIT", err);
}

static void sq_rollback(lv_db *db)
{
    /* Fails harmlessly when SQLite already rolled back by itself. */
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

static int64_t sq_changes(lv_db *db)
{
    return sqlite3_changes(db->h);
}

/* Issue 8 backups: the online backup API copies every page under a read
 * transaction, so the copy is one consistent state of the database even
 * while llaved writes (WAL readers never block writers).  The copy is a
 * plain rollback-journal file, mode 0600. */
static int sq_backup_copy(sqlite3 *src, sqlite3 *dst, lv_err *err)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b)
        return sq_fail(dst, sqlite3_errcode(dst), err);
    int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        return sq_fail(dst, rc, err);
    return 0;
}

static int sq_backup(lv_db *db, const char *path, lv_err *err)
{
    sqlite3 *dst = NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return lv_fail(err, errno == EEXIST ? LV_EEXISTS : LV_EIO,
                       "cannot create %s: %s", path, strerror(errno));
    close(fd);
    int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK)
        rc = sq_fail(dst, rc, err);
    else
        rc = sq_backup_copy(db->h, dst, err);
    if (rc == 0 && sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL,
                                NULL) != SQLITE_OK)
        rc = sq_fail(dst, sqlite3_errcode(dst), err);
    sqlite3_close(dst);
    if (rc < 0)
        unlink(path);
    return rc;
}

/* Under steady load some reader always holds a snapshot that still needs
 * the log, so a commit's own (PASSIVE) checkpoint copies pages but the log
 * never starts again: it grew by gigabytes in a minute of signHash, and
 * every lookup searched it.  A RESTART checkpoint waits until no reader
 * needs the log, then the next writer starts it from the beginning
 * (https://sqlite.org/wal.html "Avoiding Excessively Large WAL Files").
 * Writers wait behind it, so its wait is short, and a reader that stays
 * (a backup's copy, a CRL of a million entries) is waited for less and
 * less often: after each busy answer the next 1, 2, 4 ... 32 passes copy
 * only. */
static int sq_restart(lv_db *db, int *log)
{
    int done = 0;
    if (db->restart_skip > 0) {
        db->restart_skip--;
        return SQLITE_OK;
    }
    db->busy_ms = SQ_RESTART_WAIT_MS;
    int rc = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_RESTART,
                                       log, &done);
    db->busy_ms = SQLITE_BUSY_MS;
    if (rc == SQLITE_BUSY) {
        db->restart_backoff = db->restart_backoff ? 2 * db->restart_backoff : 1;
        if (db->restart_backoff > SQ_RESTART_BACKOFF_MAX)
            db->restart_backoff = SQ_RESTART_BACKOFF_MAX;
        db->restart_skip = db->restart_backoff;
    } else {
        db->restart_backoff = 0;
    }
    return rc;
}

static int sq_checkpoint(lv_db *db, lv_err *err)
{
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       &log, &done);
    if (rc == SQLITE_OK && log >= SQ_WAL_RESTART_PAGES)
        rc = sq_restart(db, &log);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return 0; /* next time */
    return rc == SQLITE_OK ? 0 : sq_fail(db->h, rc, err);
}

const lv_db_driver lv_db_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .serve_reads = sq_serve_reads,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .bind_text = sq_bind_text,
    .bind_int64 = sq_bind_int64,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .column_text = sq_column_text,
    .column_int64 = sq_column_int64,
    .column_blob = sq_column_blob,
    .finalize = sq_finalize,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .changes = sq_changes,
    .backup = sq_backup,
    .checkpoint = sq_checkpoint,
};
