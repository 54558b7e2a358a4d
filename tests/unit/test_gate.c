/* The front door's pieces (issue 11): the gate's request-head check
 * (http_head.c) and the bounded worker pools (core/pool.c).  The gate and
 * pools under attack are tested against a real llaved in
 * tests/integration/test_frontdoor.py. */
#include "http/http_internal.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static int head(const char *s)
{
    size_t n = 0;
    return http_head_check(s, strlen(s), &n);
}

static void test_head_valid(void **state)
{
    (void)state;
    const char *get = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nBODY";
    size_t n = 0;
    assert_int_equal(http_head_check(get, strlen(get), &n), 1);
    assert_int_equal(n, strlen(get) - 4);
    assert_int_equal(head("POST /ocsp HTTP/1.0\r\nContent-Length: 83\r\n\r\n"),
                     1);
    assert_int_equal(head("GET /a?x=%0a HTTP/1.1\r\nHost: a\r\n\r\n"), 1);
    assert_int_equal(head("POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                          "Content-Length: 3\r\n\r\n"),
                     1);
}

static void test_head_incomplete(void **state)
{
    (void)state;
    assert_int_equal(head("GET /healthz HTTP/1.1\r\nHost: a\r\n"), 0);
    assert_int_equal(head("G"), 0);
    assert_int_equal(head(""), 0);
}

static void test_head_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "POST /o HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        "POST /o HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
        "POST /o HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
        "POST /o HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
        "Content-Length: 4\r\n\r\n",
        "POST /o HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
        "Transfer-Encoding: chunked\r\n\r\n",
        "GET /healthz HTTP/1.1\r\n\r\n",
        "GET /h HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /a%00.txt HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a%0a HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a%7F HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a?x=%00 HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a%4 HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a HTTP/2.0\r\nHost: a\r\n\r\n",
        "GET  /a HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        "GET /a HTTP/1.1\r\nBad Name: a\r\nHost: a\r\n\r\n",
        "GET /a HTTP/1.1\nHost: a\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (head(bad[i]) != 400)
            fail_msg("not refused: %s", bad[i]);
    }
    /* a NUL refuses even before the head is complete */
    static const char nul[] = "GET /a\0 HTTP/1.1\r\n";
    size_t n = 0;
    assert_int_equal(http_head_check(nul, sizeof nul - 1, &n), 400);
}

/* ---- pools ----------------------------------------------------------------
 */

typedef struct gate_job {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int release, ran;
} gate_job;

static void blocking_job(void *arg)
{
    gate_job *j = arg;
    pthread_mutex_lock(&j->lock);
    while (!j->release)
        pthread_cond_wait(&j->cond, &j->lock);
    j->ran++;
    pthread_mutex_unlock(&j->lock);
}

static void test_pool_bounded(void **state)
{
    (void)state;
    lv_pool *p = NULL;
    gate_job j = {.lock = PTHREAD_MUTEX_INITIALIZER,
                  .cond = PTHREAD_COND_INITIALIZER};
    assert_int_equal(lv_pool_new("t", 1, 2, 5, &p, NULL), 0);
    assert_int_equal(lv_pool_submit(p, blocking_job, &j), 0);
    /* wait until the one thread holds the first job, then fill the queue */
    unsigned queued = 1, busy = 0;
    for (int i = 0; i < 1000 && busy != 1; i++) {
        lv_pool_stats(p, &queued, &busy);
        usleep(1000);
    }
    assert_int_equal(busy, 1);
    assert_int_equal(lv_pool_submit(p, blocking_job, &j), 0);
    assert_int_equal(lv_pool_submit(p, blocking_job, &j), 0);
    assert_int_equal(lv_pool_submit(p, blocking_job, &j), LV_EBUSY);
    pthread_mutex_lock(&j.lock);
    j.release = 1;
    pthread_cond_broadcast(&j.cond);
    pthread_mutex_unlock(&j.lock);
    lv_pool_free(p); /* runs what was queued */
    assert_int_equal(j.ran, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_valid),
        cmocka_unit_test(test_head_incomplete),
        cmocka_unit_test(test_head_refused),
        cmocka_unit_test(test_pool_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
