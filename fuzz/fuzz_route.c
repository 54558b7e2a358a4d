/* libFuzzer target: the router and the path decoding of llaved, on the
 * real route tables (http_api_tables).  The input is a method selector byte
 * and a raw request target as the client sends it; as in the server, the
 * target is vetted by http_target_ok, its path (up to '?') unescaped by
 * libmicrohttpd (MHD_http_unescape) and routed (route_find, through the
 * http_route_lookup hook).  Invariants checked on every input:
 *   - a target http_target_ok accepts decodes to a path with no control
 *     character; any such path, %XX-escaped byte by byte, is accepted again
 *     and decodes to the same path (round trip);
 *   - routing answers a route, or 404, or 405 with a non-empty Allow list
 *     that does not name the method asked (nor GET for HEAD);
 *   - the route found serves the method (HEAD by GET) and its pattern
 *     rebuilds the path: exact, prefix + {name} + suffix with a segment of
 *     1..LV_HTTP_PARAM_MAX bytes and no '/', or prefix + a {name*} tail;
 *   - it is the route an independent matcher picks: exact paths first,
 *     then patterns, each in table order; 404 exactly when no route
 *     matches the path under any method;
 *   - the answer is the same when asked again.
 * Seeds: fuzz/corpus/fuzz_route/ (paths of docs/API.md, with escapes,
 * traversal, long segments and wrong methods). */
#include "http/http_internal.h"

#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const METHODS[] = {"GET",    "POST",    "HEAD", "PUT",
                                      "DELETE", "OPTIONS", "get"};
#define NMETHODS (sizeof METHODS / sizeof METHODS[0])

static int method_serves(const char *route, const char *method)
{
    return strcmp(route, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route, "GET") == 0);
}

/* The oracle: does pattern match path?  Written from http.h's description
 * of patterns, not from the server's code. */
static int oracle_match(const char *pattern, const char *path,
                        char param[LV_HTTP_PARAM_MAX + 1])
{
    const char *open = strchr(pattern, '{');
    param[0] = '\0';
    if (!open)
        return strcmp(pattern, path) == 0;
    size_t pre = (size_t)(open - pattern), len = strlen(path);
    const char *close = strchr(open, '}');
    if (strncmp(path, pattern, pre) != 0)
        return 0;
    if (close[-1] == '*')
        return len > pre;
    const char *suffix = close + 1;
    size_t suf = strlen(suffix);
    if (len <= pre + suf || strcmp(path + len - suf, suffix) != 0)
        return 0;
    size_t n = len - pre - suf;
    if (n > LV_HTTP_PARAM_MAX || memchr(path + pre, '/', n))
        return 0;
    memcpy(param, path + pre, n);
    param[n] = '\0';
    return 1;
}

/* First acceptable match, exact routes before patterns; *any is set when
 * some route matches the path under any method. */
static const lv_http_route *oracle_find(const char *path, const char *method,
                                        char param[LV_HTTP_PARAM_MAX + 1],
                                        int *any)
{
    const lv_http_route *const *tables = http_api_tables();
    *any = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t t = 0; tables[t]; t++)
            for (const lv_http_route *r = tables[t]; r->method; r++) {
                if ((strchr(r->pattern, '{') != NULL) != pass ||
                    !oracle_match(r->pattern, path, param))
                    continue;
                *any = 1;
                if (method_serves(r->method, method))
                    return r;
            }
    return NULL;
}

static int allow_names(const char *allow, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = allow; *p; p += strspn(p, ", ")) {
        size_t tok = strcspn(p, ",");
        if (tok == n && strncmp(p, method, n) == 0)
            return 1;
        p += tok;
    }
    return 0;
}

static void check_hit(const http_route_hit *h, const char *path,
                      const char *method)
{
    char param[LV_HTTP_PARAM_MAX + 1];
    int any = 0;
    const lv_http_route *want = oracle_find(path, method, param, &any);
    if (h->route != want)
        abort();
    if (want) {
        if (h->status != 0 || !method_serves(want->method, method) ||
            strcmp(h->param, param) != 0)
            abort();
        return;
    }
    if (h->status != (any ? 405 : 404) || (h->status == 405) != !!h->allow[0])
        abort();
    if (allow_names(h->allow, method) ||
        (strcmp(method, "HEAD") == 0 && allow_names(h->allow, "GET")))
        abort();
}

/* Every byte %XX-escaped: accepted when the path holds no control
 * character, and decoded to the same path. */
static void round_trip(const char *path, size_t n)
{
    char *raw = malloc(3 * n + 1);
    int ctl = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        ctl |= c < 0x20 || c == 0x7f;
        snprintf(raw + 3 * i, 4, "%%%02X", c);
    }
    if (!ctl && n > 0) {
        if (!http_target_ok(raw, 3 * n) || MHD_http_unescape(raw) != n ||
            memcmp(raw, path, n) != 0)
            abort();
    }
    free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *method = METHODS[data[0] % NMETHODS];
    char *path = malloc(size);
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';
    size_t raw_len = strlen(path);
    int ok = http_target_ok(path, raw_len);
    path[strcspn(path, "?")] = '\0';
    size_t n = MHD_http_unescape(path);
    for (size_t i = 0; ok && i < n; i++)
        if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
            abort();
    round_trip(path, n);
    http_route_hit hit, again;
    lv_err err = {0};
    if (http_route_lookup(http_api_tables(), path, method, &hit, &err) != 0 ||
        http_route_lookup(http_api_tables(), path, method, &again, &err) != 0 ||
        hit.route != again.route || hit.status != again.status ||
        strcmp(hit.param, again.param) != 0 ||
        strcmp(hit.allow, again.allow) != 0)
        abort();
    check_hit(&hit, path, method);
    free(path);
    return 0;
}
