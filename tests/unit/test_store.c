/* Unit tests of store/: migrations, CA and certificate records,
 * transactions, the R2.9 count, and error mapping. */
#include "store/migrations.h"
#include "store/store.h"
#include "store/store_activation.h"
#include "store/store_audit.h"
#include "store/store_auth.h"
#include "store/store_ca.h"
#include "store/store_cert.h"
#include "store/store_crl.h"
#include "store/store_keys.h"
#include "store/store_ocsp.h"
#include "store/store_ra.h"
#include "store/store_sign.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct fixture {
    char dir[512];
    char db[600];
    lv_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || tu_tmpdir(f->dir, sizeof f->dir, "store") < 0 ||
        tu_store_open(f->dir, f->db, sizeof f->db, &f->st) < 0)
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

/* Runs SQL on the database file behind llave's back; returns the first
 * column of the first row as an integer (or -1). */
static long long raw_sql(const char *db, const char *sql)
{
    return tu_sql(db, sql);
}

static int latest_version(void)
{
    int v = 0;
    for (size_t i = 0; i < lv_migrations_count; i++)
        if (lv_migrations[i].version > v)
            v = lv_migrations[i].version;
    return v;
}

static const unsigned char der_a[] = {0x30, 0x03, 0x02, 0x01, 0x01};
static const unsigned char der_b[] = {0x30, 0x03, 0x02, 0x01, 0x02};

static lv_ca_rec make_ca(const char *name, const char *role, const char *issuer)
{
    lv_ca_rec r = {0};
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.role, sizeof r.role, "%s", role);
    snprintf(r.issuer, sizeof r.issuer, "%s", issuer);
    snprintf(r.key_id, sizeof r.key_id, "0123456789abcdef0123456789abcdef");
    snprintf(r.serial, sizeof r.serial, "7A01%s", name[0] == 'r' ? "01" : "02");
    snprintf(r.status, sizeof r.status, "active");
    r.not_before = 1700000000;
    r.not_after = 2000000000;
    r.cert_der = (unsigned char *)der_a;
    r.cert_len = sizeof der_a;
    return r;
}

static lv_cert_rec make_cert(const char *serial, const char *subject,
                             const char *profile, int64_t not_after)
{
    lv_cert_rec r = {0};
    snprintf(r.serial, sizeof r.serial, "%s", serial);
    snprintf(r.ca, sizeof r.ca, "qualified");
    snprintf(r.profile, sizeof r.profile, "%s", profile);
    snprintf(r.subject_id, sizeof r.subject_id, "%s", subject);
    snprintf(r.subscriber_id, sizeof r.subscriber_id, "%s", subject);
    snprintf(r.subject_dn, sizeof r.subject_dn, "CN=Ñ %s,C=ES", subject);
    r.not_before = 1700000000;
    r.not_after = not_after;
    r.created_at = 1700000001;
    r.status = LV_CERT_VALID;
    r.revocation_reason = -1;
    r.der = (unsigned char *)der_b;
    r.der_len = sizeof der_b;
    return r;
}

/* Inserts root and qualified CAs so that certificates can refer to them. */
static void add_cas(lv_store *st)
{
    lv_err err = {0};
    lv_ca_rec root = make_ca("root", "root", "root");
    lv_ca_rec q = make_ca("qualified", "qualified", "root");
    assert_int_equal(store_ca_insert(st, &root, &err), 0);
    assert_int_equal(store_ca_insert(st, &q, &err), 0);
}

/* ---- opening and migrations --------------------------------------------- */

static void test_open_applies_migrations(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    int v = -1;
    struct stat sb;
    assert_true(lv_migrations_count >= 1);
    assert_int_equal(store_schema_version(f->st, &v, &err), 0);
    assert_int_equal(v, latest_version());
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM schema_migrations"),
                     (long long)lv_migrations_count);
    assert_int_equal(stat(f->db, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600); /* personal data */
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM sqlite_master"
                                    " WHERE name = 'certs_by_subject'"),
                     1);
}

static void test_reopen_is_idempotent(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    add_cas(f->st);
    store_close(f->st);
    f->st = NULL;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_open(f->db, &f->st, &err), 0);
        if (i < 2) {
            store_close(f->st);
            f->st = NULL;
        }
    }
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM schema_migrations"),
                     (long long)lv_migrations_count);
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM cas"), 2);
}

static void test_sqlite_settings(void **state)
{
    fixture *f = *state;
    /* journal_mode is persistent in the file, so a fresh connection sees it */
    sqlite3 *h;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(h);
}

static void test_refuses_newer_schema(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    store_close(f->st);
    f->st = NULL;
    raw_sql(f->db, "INSERT INTO schema_migrations VALUES (9999, '9999_x', 0)");
    assert_int_equal(store_open(f->db, &f->st, &err), LV_ESTATE);
    assert_null(f->st);
    assert_non_null(strstr(err.msg, "9999"));
}

static void test_open_errors(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_store *st = (lv_store *)1;
    char bad[700];
    /* The PostgreSQL driver (store_pg.c): nothing listens on port 1. */
    assert_int_equal(
        store_open("postgresql://127.0.0.1:1/llave?connect_timeout=2", &st,
                   &err),
        LV_ESTORE);
    assert_null(st);
    assert_non_null(strstr(err.msg, "postgresql"));
    snprintf(bad, sizeof bad, "%s/no/such/dir/llave.db", f->dir);
    assert_true(store_open(bad, &st, &err) < 0);
    assert_null(st);
    store_close(NULL);
}

/* ---- CA records ---------------------------------------------------------- */

static int collect_ca(const lv_ca_rec *rec, void *ctx)
{
    char *names = ctx;
    strcat(names, rec->name);
    strcat(names, ",");
    return 0;
}

static void test_ca_insert_get(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_ca_rec got;
    add_cas(f->st);
    assert_int_equal(store_ca_get(f->st, "qualified", &got, &err), 0);
    assert_string_equal(got.name, "qualified");
    assert_string_equal(got.role, "qualified");
    assert_string_equal(got.issuer, "root");
    assert_string_equal(got.key_id, "0123456789abcdef0123456789abcdef");
    assert_string_equal(got.serial, "7A0102");
    assert_string_equal(got.status, "active");
    assert_int_equal(got.not_before, 1700000000);
    assert_int_equal(got.not_after, 2000000000);
    assert_int_equal(got.cert_len, sizeof der_a);
    assert_memory_equal(got.cert_der, der_a, sizeof der_a);
    store_ca_rec_free(&got);
    assert_null(got.cert_der);
    store_ca_rec_free(NULL);
    assert_int_equal(store_ca_get(f->st, "nope", &got, &err), LV_ENOTFOUND);
    assert_int_equal(err.code, LV_ENOTFOUND);
}

static void test_ca_duplicate_and_order(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    char names[256] = "";
    add_cas(f->st);
    lv_ca_rec dup = make_ca("root", "standard", "root");
    assert_int_equal(store_ca_insert(f->st, &dup, &err), LV_EEXISTS);
    assert_non_null(strstr(err.msg, "root"));
    lv_ca_rec s = make_ca("standard", "standard", "root");
    lv_ca_rec a = make_ca("a-ocsp", "ocsp", "qualified");
    assert_int_equal(store_ca_insert(f->st, &s, &err), 0);
    assert_int_equal(store_ca_insert(f->st, &a, &err), 0);
    /* creation order, not name order */
    assert_int_equal(store_ca_foreach(f->st, collect_ca, names, &err), 0);
    assert_string_equal(names, "root,qualified,standard,a-ocsp,");
}

static int stop_after_one(const lv_ca_rec *rec, void *ctx)
{
    (void)rec;
    int *n = ctx;
    return ++*n == 1 ? LV_EPERM : 0;
}

static void test_ca_foreach_stops_on_error(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    int n = 0;
    add_cas(f->st);
    assert_int_equal(store_ca_foreach(f->st, stop_after_one, &n, &err),
                     LV_EPERM);
    assert_int_equal(n, 1);
}

/* ---- certificate records ------------------------------------------------- */

static void test_cert_insert_get(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_cert_rec got;
    add_cas(f->st);
    lv_cert_rec c =
        make_cert("01AB", "IDCES-12345678Z", "natural-person", 2000000000);
    snprintf(c.key_id, sizeof c.key_id, "feedface");
    c.test = 1;
    assert_int_equal(store_cert_insert(f->st, &c, &err), 0);
    assert_int_equal(store_cert_get(f->st, "01AB", &got, &err), 0);
    assert_string_equal(got.serial, "01AB");
    assert_string_equal(got.ca, "qualified");
    assert_string_equal(got.profile, "natural-person");
    assert_string_equal(got.subject_id, "IDCES-12345678Z");
    assert_string_equal(got.subscriber_id, "IDCES-12345678Z");
    assert_string_equal(got.subject_dn, "CN=Ñ IDCES-12345678Z,C=ES");
    assert_string_equal(got.key_id, "feedface");
    assert_int_equal(got.not_before, 1700000000);
    assert_int_equal(got.not_after, 2000000000);
    assert_int_equal(got.created_at, 1700000001);
    assert_int_equal(got.status, LV_CERT_VALID);
    assert_int_equal(got.revocation_reason, -1);
    assert_int_equal(got.test, 1);
    assert_int_equal(got.der_len, sizeof der_b);
    assert_memory_equal(got.der, der_b, sizeof der_b);
    store_cert_rec_free(&got);
    store_cert_rec_free(NULL);
    assert_int_equal(store_cert_get(f->st, "01ac", &got, &err), LV_ENOTFOUND);
}

static void test_cert_duplicate_changes_nothing(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_cert_rec got;
    int n = -1;
    add_cas(f->st);
    lv_cert_rec c = make_cert("0F", "IDCES-1", "p", 2000000000);
    assert_int_equal(store_cert_insert(f->st, &c, &err), 0);
    lv_cert_rec dup = make_cert("0F", "IDCES-2", "other", 2100000000);
    dup.der = (unsigned char *)der_a;
    assert_int_equal(store_cert_insert(f->st, &dup, &err), LV_EEXISTS);
    assert_int_equal(err.code, LV_EEXISTS);
    assert_non_null(strstr(err.msg, "0F"));
    assert_int_equal(store_cert_count(f->st, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_cert_get(f->st, "0F", &got, &err), 0);
    assert_string_equal(got.subject_id, "IDCES-1");
    assert_string_equal(got.profile, "p");
    assert_memory_equal(got.der, der_b, sizeof der_b);
    store_cert_rec_free(&got);
}

static void test_cert_rejects_bad_records(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    int n = -1;
    add_cas(f->st);
    lv_cert_rec c = make_cert("10", "IDCES-1", "p", 2000000000);
    snprintf(c.ca, sizeof c.ca, "ghost");
    assert_int_equal(store_cert_insert(f->st, &c, &err), LV_EINVAL);
    assert_non_null(strstr(err.msg, "ghost"));
    c = make_cert("", "IDCES-1", "p", 2000000000);
    assert_int_equal(store_cert_insert(f->st, &c, &err), LV_EINVAL);
    c = make_cert("11", "IDCES-1", "p", 2000000000);
    memset(c.profile, 'x', sizeof c.profile); /* not terminated */
    assert_int_equal(store_cert_insert(f->st, &c, &err), LV_EINVAL);
    c = make_cert("12", "IDCES-1", "p", 2000000000);
    c.status = 7;
    assert_int_equal(store_cert_insert(f->st, &c, &err), LV_EINVAL);
    assert_int_equal(store_cert_count(f->st, &n, &err), 0);
    assert_int_equal(n, 0);
}

/* ---- transactions -------------------------------------------------------- */

static void test_rollback_leaves_nothing(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_cert_rec got;
    int n = -1;
    add_cas(f->st);
    assert_int_equal(store_in_transaction(f->st), 0);
    assert_int_equal(store_begin(f->st, &err), 0);
    assert_int_equal(store_in_transaction(f->st), 1);
    lv_cert_rec a = make_cert("A1", "IDCES-1", "p", 2000000000);
    lv_cert_rec b = make_cert("A2", "IDCES-2", "p", 2000000000);
    assert_int_equal(store_cert_insert(f->st, &a, &err), 0);
    assert_int_equal(store_cert_insert(f->st, &b, &err), 0);
    store_rollback(f->st);
    assert_int_equal(store_in_transaction(f->st), 0);
    assert_int_equal(store_cert_count(f->st, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_cert_get(f->st, "A1", &got, &err), LV_ENOTFOUND);
    store_rollback(f->st); /* harmless without a transaction */
}

static void test_commit_persists(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    int n = -1;
    add_cas(f->st);
    assert_int_equal(store_begin(f->st, &err), 0);
    assert_int_equal(store_begin(f->st, &err), LV_ESTATE); /* no nesting */
    lv_cert_rec a = make_cert("B1", "IDCES-1", "p", 2000000000);
    assert_int_equal(store_cert_insert(f->st, &a, &err), 0);
    assert_int_equal(store_commit(f->st, &err), 0);
    assert_int_equal(store_commit(f->st, &err), LV_ESTATE);
    store_close(f->st);
    assert_int_equal(store_open(f->db, &f->st, &err), 0);
    assert_int_equal(store_cert_count(f->st, &n, &err), 0);
    assert_int_equal(n, 1);
}

static void test_close_rolls_back_open_transaction(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    int n = -1;
    add_cas(f->st);
    assert_int_equal(store_begin(f->st, &err), 0);
    lv_cert_rec a = make_cert("C1", "IDCES-1", "p", 2000000000);
    assert_int_equal(store_cert_insert(f->st, &a, &err), 0);
    store_close(f->st);
    assert_int_equal(store_open(f->db, &f->st, &err), 0);
    assert_int_equal(store_cert_count(f->st, &n, &err), 0);
    assert_int_equal(n, 0);
}

/* BEGIN IMMEDIATE: a second connection cannot start writing while the first
 * holds a transaction (it gets the busy timeout, then an error). */
static void test_begin_takes_write_lock(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    sqlite3 *h;
    assert_int_equal(store_begin(f->st, &err), 0);
    assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_BUSY);
    sqlite3_close(h);
    store_rollback(f->st);
}

/* ---- R2.9 count ---------------------------------------------------------- */

static void test_count_valid(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    int n = -1;
    const int64_t now = 1800000000;
    add_cas(f->st);
    lv_cert_rec c[6] = {
        make_cert("D1", "IDCES-1", "p", now + 100), /* valid */
        make_cert("D2", "IDCES-1", "p", now + 200), /* valid */
        make_cert("D3", "IDCES-1", "p", now - 1),   /* expired */
        make_cert("D4", "IDCES-1", "p", now),       /* expires now */
        make_cert("D5", "IDCES-1", "p", now + 300), /* revoked below */
        make_cert("D6", "IDCES-1", "q", now + 300), /* other profile */
    };
    c[4].status = LV_CERT_REVOKED;
    c[4].revoked_at = now - 10;
    c[4].revocation_reason = 1;
    for (int i = 0; i < 6; i++)
        assert_int_equal(store_cert_insert(f->st, &c[i], &err), 0);
    lv_cert_rec org = make_cert("D7", "IDCES-1", "p", now + 300);
    snprintf(org.subscriber_id, sizeof org.subscriber_id, "VATES-B1");
    assert_int_equal(store_cert_insert(f->st, &org, &err), 0);
    assert_int_equal(
        store_cert_count_valid(f->st, "IDCES-1", "IDCES-1", "p", now, &n, &err),
        0);
    assert_int_equal(n, 2);
    assert_int_equal(store_cert_count_valid(f->st, "IDCES-1", "VATES-B1", "p",
                                            now, &n, &err),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(
        store_cert_count_valid(f->st, "IDCES-2", "IDCES-2", "p", now, &n, &err),
        0);
    assert_int_equal(n, 0);
    assert_int_equal(store_cert_count(f->st, &n, &err), 0);
    assert_int_equal(n, 7);
    lv_cert_rec got;
    assert_int_equal(store_cert_get(f->st, "D5", &got, &err), 0);
    assert_int_equal(got.status, LV_CERT_REVOKED);
    assert_int_equal(got.revoked_at, now - 10);
    assert_int_equal(got.revocation_reason, 1);
    store_cert_rec_free(&got);
}

/* ---- audit rows ---------------------------------------------------------- */

static int collect_seq(const lv_audit_row *row, void *ctx)
{
    int64_t *sum = ctx;
    *sum = *sum * 10 + row->seq;
    return 0;
}

static void test_audit_rows(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_audit_row row = {0}, got;
    assert_int_equal(store_audit_last(f->st, &got, &err), LV_ENOTFOUND);
    for (int i = 1; i <= 3; i++) {
        row.seq = i;
        snprintf(row.time, sizeof row.time, "2026-11-24T23:45:00.00%dZ", i);
        snprintf(row.actor, sizeof row.actor, "operator:ana");
        snprintf(row.event, sizeof row.event, "cert.issue");
        snprintf(row.object, sizeof row.object, "serial:%d", i);
        snprintf(row.result, sizeof row.result, "success");
        row.details = i == 2 ? NULL : "{\"a\":1}";
        memset(row.prev_hash, 'a', 64);
        memset(row.hash, 'b', 64);
        assert_int_equal(store_audit_insert(f->st, &row, &err), 0);
    }
    assert_int_equal(store_audit_insert(f->st, &row, &err), LV_EEXISTS);
    assert_int_equal(store_audit_last(f->st, &got, &err), 0);
    assert_int_equal(got.seq, 3);
    assert_string_equal(got.object, "serial:3");
    assert_string_equal(got.time, "2026-11-24T23:45:00.003Z");
    assert_string_equal(got.details, "{\"a\":1}");
    assert_int_equal(strlen(got.hash), 64);
    store_audit_row_free(&got);
    store_audit_row_free(NULL);
    int64_t seqs = 0;
    assert_int_equal(store_audit_foreach(f->st, 2, collect_seq, &seqs, &err),
                     0);
    assert_int_equal(seqs, 23);
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM audit_log"
                                    " WHERE details IS NULL"),
                     1);
}

#define TF(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TF(test_open_applies_migrations),
        TF(test_reopen_is_idempotent),
        TF(test_sqlite_settings),
        TF(test_refuses_newer_schema),
        TF(test_open_errors),
        TF(test_ca_insert_get),
        TF(test_ca_duplicate_and_order),
        TF(test_ca_foreach_stops_on_error),
        TF(test_cert_insert_get),
        TF(test_cert_duplicate_changes_nothing),
        TF(test_cert_rejects_bad_records),
        TF(test_rollback_leaves_nothing),
        TF(test_commit_persists),
        TF(test_close_rolls_back_open_transaction),
        TF(test_begin_takes_write_lock),
        TF(test_count_valid),
        TF(test_audit_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
