/* Unit tests of llaved's routing (route_find in src/http/http_server.c,
 * through the http_route_lookup hook that fuzz/fuzz_route.c drives):
 * exact paths before patterns, the {name} segment, {name*} tails, 404 and
 * 405 with Allow, and the segment of an exact route being empty (a bug
 * fuzz_route found: route_find copied its uninitialized buffer). */
#include "http/http_internal.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on

#include <string.h>

static int handler(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    (void)req;
    (void)resp;
    return 0;
}

#define GET_(path)                                                             \
    {                                                                          \
        "GET", path, handler, 0, LV_WORK_API, HTTP_PUBLIC,                     \
        {                                                                      \
            0                                                                  \
        }                                                                      \
    }
#define POST_(path)                                                            \
    {                                                                          \
        "POST", path, handler, 0, LV_WORK_API, HTTP_PUBLIC,                    \
        {                                                                      \
            0                                                                  \
        }                                                                      \
    }

static const lv_http_route routes[] = {GET_("/things/{id}"),
                                       POST_("/things/{id}/done"),
                                       GET_("/things/new"),
                                       GET_("/ca/{name}.crt"),
                                       GET_("/tail/{rest*}"),
                                       POST_("/only-post"),
                                       {0}};
static const lv_http_route *const tables[] = {routes, NULL};

/* Leaves 'x' where the next calls' frames will be. */
static void __attribute__((noinline)) dirty_stack(void)
{
    volatile char buf[16384];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = 'x';
}

static http_route_hit find(const char *path, const char *method)
{
    http_route_hit h;
    lv_err err = {0};
    assert_int_equal(http_route_lookup(tables, path, method, &h, &err), 0);
    return h;
}

static void test_exact_route_has_no_segment(void **state)
{
    (void)state;
    http_route_hit h = find("/things/abcdef", "GET");
    assert_ptr_equal(h.route, &routes[0]);
    assert_string_equal(h.param, "abcdef");
    /* an exact path: whatever the stack held must not show through as its
     * segment */
    dirty_stack();
    h = find("/things/new", "GET");
    assert_ptr_equal(h.route, &routes[2]);
    assert_string_equal(h.param, "");
    h = find("/tail/a/b", "GET");
    assert_ptr_equal(h.route, &routes[4]);
    assert_string_equal(h.param, "");
}

static void test_patterns(void **state)
{
    (void)state;
    http_route_hit h = find("/ca/root.crt", "HEAD");
    assert_ptr_equal(h.route, &routes[3]);
    assert_string_equal(h.param, "root");
    assert_null(find("/ca/.crt", "GET").route);    /* empty segment */
    assert_null(find("/ca/a/b.crt", "GET").route); /* '/' in a segment */
    assert_null(find("/tail/", "GET").route);      /* empty tail */
    char longer[200] = "/things/";
    memset(longer + 8, 'x', 129);
    assert_null(find(longer, "GET").route); /* over LV_HTTP_PARAM_MAX */
    longer[8 + 128] = '\0';
    assert_non_null(find(longer, "GET").route);
}

static void test_refusals(void **state)
{
    (void)state;
    http_route_hit h = find("/only-post", "GET");
    assert_null(h.route);
    assert_int_equal(h.status, 405);
    assert_string_equal(h.allow, "POST");
    h = find("/things/1/done", "DELETE");
    assert_int_equal(h.status, 405);
    assert_string_equal(h.allow, "POST");
    h = find("/things/1", "POST");
    assert_int_equal(h.status, 405);
    assert_string_equal(h.allow, "GET, HEAD");
    h = find("/nothing", "GET");
    assert_int_equal(h.status, 404);
    assert_string_equal(h.allow, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_route_has_no_segment),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
