/* Unit tests of the failed-login throttle table (issue 11 item 3,
 * src/auth/auth_throttle.c) with a clock the test drives: free failures,
 * the doubling delay and its cap, the per-source cap, a pass forgetting a
 * pair, IPv6 /64 sources, bounded memory with eviction of the oldest
 * entries, rate limits, and concurrent use from several threads. */
#include "auth/auth_internal.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define T0 1700000000000LL /* ms */
#define SEC 1000LL

static auth_throttle *throttle_with(int free_failures, int max_delay,
                                    int source_failures, int entries)
{
    lv_config cfg;
    auth_throttle *t = NULL;
    lv_config_defaults(&cfg, "/nonexistent");
    cfg.auth_throttle_free = free_failures;
    cfg.auth_throttle_max_delay = max_delay;
    cfg.auth_source_failures = source_failures;
    cfg.auth_source_window = 900;
    cfg.auth_throttle_entries = entries;
    assert_int_equal(auth_throttle_new(&cfg, &t, NULL), 0);
    return t;
}

static int check_at(auth_throttle *t, const char *id, const char *ip,
                    int64_t now, int *retry)
{
    return auth_throttle_check(t, AUTH_NS_USER, id, ip, now, retry);
}

/* 5 free, then 1 s, 2 s, 4 s ... up to the cap; a wait ends on time. */
static void test_delays(void **state)
{
    (void)state;
    auth_throttle *t = throttle_with(5, 60, 1000, 1024);
    int retry = 0;
    int64_t now = T0;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(check_at(t, "ana", "192.0.2.1", now, &retry), 0);
        auth_throttle_fail(t, AUTH_NS_USER, "ana", "192.0.2.1", now);
    }
    int64_t want = 1;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(check_at(t, "ana", "192.0.2.1", now, &retry),
                         LV_ELIMIT);
        assert_int_equal(retry, want);
        /* one millisecond early is still too early */
        assert_int_equal(
            check_at(t, "ana", "192.0.2.1", now + want * SEC - 1, &retry),
            LV_ELIMIT);
        now += want * SEC;
        assert_int_equal(check_at(t, "ana", "192.0.2.1", now, &retry), 0);
        auth_throttle_fail(t, AUTH_NS_USER, "ana", "192.0.2.1", now);
        want = want * 2 > 60 ? 60 : want * 2;
    }
    /* Other ids from the same source, and the same id from elsewhere, are
     * not slowed by this pair. */
    assert_int_equal(check_at(t, "bea", "192.0.2.1", now, &retry), 0);
    assert_int_equal(check_at(t, "ana", "198.51.100.1", now, &retry), 0);
    /* The holder proves the secret: the pair starts afresh. */
    auth_throttle_pass(t, AUTH_NS_USER, "ana", "192.0.2.1");
    assert_int_equal(check_at(t, "ana", "192.0.2.1", now, &retry), 0);
    /* Namespaces are apart: a user id is not an operator login. */
    for (int i = 0; i < 6; i++)
        auth_throttle_fail(t, AUTH_NS_USER, "carla", "192.0.2.2", now);
    assert_int_equal(auth_throttle_check(t, AUTH_NS_OPERATOR, "carla",
                                         "192.0.2.2", now, &retry),
                     0);
    auth_throttle_free(t);
}

/* A pair quiet for a day starts from nothing again. */
static void test_forget(void **state)
{
    (void)state;
    auth_throttle *t = throttle_with(2, 3600, 1000, 1024);
    int retry = 0;
    for (int i = 0; i < 10; i++)
        auth_throttle_fail(t, AUTH_NS_USER, "ana", "192.0.2.1", T0);
    int64_t later = T0 + 86401 * SEC;
    assert_int_equal(check_at(t, "ana", "192.0.2.1", later, &retry), 0);
    auth_throttle_fail(t, AUTH_NS_USER, "ana", "192.0.2.1", later);
    assert_int_equal(check_at(t, "ana", "192.0.2.1", later, &retry), 0);
    auth_throttle_free(t);
}

/* The per-source cap: failures across ids, per window. */
static void test_source_cap(void **state)
{
    (void)state;
    auth_throttle *t = throttle_with(5, 1800, 20, 1024);
    int retry = 0;
    char id[16];
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "id%d", i);
        assert_int_equal(check_at(t, id, "192.0.2.7", T0, &retry), 0);
        auth_throttle_fail(t, AUTH_NS_USER, id, "192.0.2.7", T0);
    }
    assert_int_equal(check_at(t, "fresh", "192.0.2.7", T0 + SEC, &retry),
                     LV_ELIMIT);
    assert_int_equal(retry, 899);
    /* Another source is not affected; the window ends on time. */
    assert_int_equal(check_at(t, "fresh", "192.0.2.8", T0, &retry), 0);
    assert_int_equal(check_at(t, "fresh", "192.0.2.7", T0 + 900 * SEC, &retry),
                     0);
    auth_throttle_free(t);
}

/* An IPv6 /64 is one source; an IPv4-mapped address is its IPv4. */
static void test_sources(void **state)
{
    (void)state;
    char k[AUTH_SOURCE_MAX];
    auth_source_key("2001:db8:1:2:aaaa::1", k);
    assert_string_equal(k, "2001:db8:1:2::/64");
    auth_source_key("2001:db8:1:2:ffff:ffff:ffff:fffe", k);
    assert_string_equal(k, "2001:db8:1:2::/64");
    auth_source_key("::ffff:192.0.2.5", k);
    assert_string_equal(k, "192.0.2.5");
    auth_source_key("192.0.2.5", k);
    assert_string_equal(k, "192.0.2.5");
    auth_source_key(NULL, k);
    assert_string_equal(k, "local");
    auth_throttle *t = throttle_with(1, 1800, 1000, 1024);
    int retry = 0;
    auth_throttle_fail(t, AUTH_NS_USER, "ana", "2001:db8:1:2::10", T0);
    assert_int_equal(check_at(t, "ana", "2001:db8:1:2:dead::beef", T0, &retry),
                     LV_ELIMIT);
    assert_int_equal(check_at(t, "ana", "2001:db8:1:3::10", T0, &retry), 0);
    auth_throttle_free(t);
}

/* Bounded memory: far more pairs than entries; the table keeps the most
 * recent ones and drops the oldest, which only loosens a throttle. */
static void test_eviction(void **state)
{
    (void)state;
    auth_throttle *t = throttle_with(1, 1800, 1000000, 1024);
    int retry = 0;
    char id[16];
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "u%d", i);
        auth_throttle_fail(t, AUTH_NS_USER, id, "local", T0 + i);
    }
    int old_kept = 0, new_kept = 0;
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "u%d", i);
        old_kept += check_at(t, id, "local", T0 + 20000, &retry) < 0;
        snprintf(id, sizeof id, "u%d", 19999 - i);
        new_kept += check_at(t, id, "local", T0 + 20000, &retry) < 0;
    }
    assert_int_equal(old_kept, 0);
    assert_true(new_kept > 300); /* the newest 500 mostly fit in 1024 */
    auth_throttle_free(t);
}

static void test_rate(void **state)
{
    (void)state;
    auth_throttle *t = throttle_with(5, 1800, 100, 1024);
    int retry = 0;
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            auth_rate_take(t, "otp.send", "192.0.2.1", 3, 3600, T0, &retry), 0);
    assert_int_equal(
        auth_rate_take(t, "otp.send", "192.0.2.1", 3, 3600, T0 + SEC, &retry),
        LV_ELIMIT);
    assert_int_equal(retry, 3599);
    assert_int_equal(
        auth_rate_take(t, "otp.send", "192.0.2.2", 3, 3600, T0, &retry), 0);
    assert_int_equal(auth_rate_take(t, "otp.send", "192.0.2.1", 3, 3600,
                                    T0 + 3600 * SEC, &retry),
                     0);
    auth_throttle_free(t);
}

typedef struct hammer {
    auth_throttle *t;
    int n;
} hammer;

static void *hammer_main(void *arg)
{
    hammer *h = arg;
    int retry;
    char id[16];
    for (int i = 0; i < h->n; i++) {
        snprintf(id, sizeof id, "h%d", i % 7);
        auth_throttle_fail(h->t, AUTH_NS_USER, id, "192.0.2.99", T0);
        auth_throttle_check(h->t, AUTH_NS_USER, id, "192.0.2.99", T0, &retry);
    }
    return NULL;
}

/* Eight threads, 8 000 failures: none is lost (the source cap of 8 000
 * is reached exactly). */
static void test_threads(void **state)
{
    (void)state;
    auth_throttle *t = throttle_with(5, 1800, 8000, 1024);
    pthread_t th[8];
    hammer h = {t, 1000};
    int retry = 0;
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &h), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(check_at(t, "other", "192.0.2.99", T0, &retry), LV_ELIMIT);
    auth_throttle_free(t);
    t = throttle_with(5, 1800, 8001, 1024);
    h.t = t;
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &h), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(check_at(t, "other", "192.0.2.99", T0, &retry), 0);
    auth_throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delays),     cmocka_unit_test(test_forget),
        cmocka_unit_test(test_source_cap), cmocka_unit_test(test_sources),
        cmocka_unit_test(test_eviction),   cmocka_unit_test(test_rate),
        cmocka_unit_test(test_threads),
    };
    lv_log_set_level(LV_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
