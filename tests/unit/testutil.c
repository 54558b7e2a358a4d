/* Fixtures shared by the unit tests (testutil.h). */
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp */
#include "testutil.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include <ftw.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int tu_tmpdir(char *dir, size_t cap, const char *name)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || *base == '\0')
        base = "/tmp";
    int n = snprintf(dir, cap, "%s/llave-test-%s-XXXXXX", base, name);
    if (n < 0 || (size_t)n >= cap || mkdtemp(dir) == NULL)
        return -1;
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int tu_store_open(const char *dir, char *db, size_t cap, lv_store **st)
{
    lv_err err = {0};
    int n = snprintf(db, cap, "%s/llave.db", dir);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    int rc = store_open(db, st, &err);
    if (rc < 0)
        fprintf(stderr, "store_open: %s\n", err.msg);
    return rc;
}

long long tu_sql(const char *db, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *s;
    long long v = -1;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
    int rc = sqlite3_step(s);
    assert_true(rc == SQLITE_ROW || rc == SQLITE_DONE);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(h);
    return v;
}

void tu_exec(const char *db, const char *sql)
{
    sqlite3 *h;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sql: %s\n", msg);
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(h);
}

int tu_keyd_demo(const char *dir, keyd_server **out, lv_err *err)
{
    char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX], path[1024], text[400];
    int rc = keys_create(dir, shares, err);
    int n =
        snprintf(text, sizeof text, "# demo\n%s\n%s\n", shares[0], shares[1]);
    OPENSSL_cleanse(shares, sizeof shares);
    snprintf(path, sizeof path, "%s/%s", dir, LV_DEMO_SHARES_FILE);
    if (rc == 0)
        rc = lv_file_write(path, text, (size_t)n, 0600, err);
    OPENSSL_cleanse(text, sizeof text);
    keyd_opts o = {.dir = dir};
    if (rc == 0)
        rc = keyd_start(&o, out, err);
    return rc;
}

keyd_server *tu_keyd_sealed(lv_config *cfg)
{
    keyd_server *s = NULL;
    lv_err err = {0};
    if (snprintf(cfg->keyd_socket, sizeof cfg->keyd_socket,
                 "%.80s/keyd-sealed.sock",
                 cfg->dir) >= (int)sizeof cfg->keyd_socket)
        return NULL;
    keyd_opts o = {
        .dir = cfg->dir, .socket_path = cfg->keyd_socket, .sealed = 1};
    if (keyd_start(&o, &s, &err) < 0)
        fprintf(stderr, "sealed keyd: %s\n", err.msg);
    return s;
}

int tu_demo_open(tu_demo *d, const char *name)
{
    lv_err err = {0};
    memset(d, 0, sizeof *d);
    if (tu_tmpdir(d->dir, sizeof d->dir - 8, name) < 0)
        return -1;
    strcat(d->dir, "/demo");
    snprintf(d->db, sizeof d->db, "%s/llave.db", d->dir);
    lv_config_defaults(&d->cfg, d->dir);
    lv_ceremony_opts opts = {"unit test", 1};
    int rc = custody_ceremony_prepare(&d->cfg, &opts, &err);
    if (rc == 0)
        rc = tu_keyd_demo(d->dir, &d->keyd, &err);
    if (rc == 0)
        rc = custody_ceremony(&d->cfg, &opts, &err);
    if (rc < 0 || store_open(d->db, &d->st, &err) < 0 ||
        ca_open(&d->cfg, d->st, KEYD_CALLER_CONSOLE, &d->ca, &err) < 0) {
        fprintf(stderr, "demo fixture: %s\n", err.msg);
        return -1;
    }
    return 0;
}

void tu_demo_close(tu_demo *d)
{
    ca_close(d->ca);
    store_close(d->st);
    keyd_stop(d->keyd);
    char *slash = strrchr(d->dir, '/');
    if (slash != NULL)
        *slash = '\0'; /* the temporary directory above demo/ */
    tu_rmtree(d->dir);
}
