/* libFuzzer target: the accept gate's request-head check (http_head_check,
 * src/http/http_head.c), which sees every byte an anonymous client sends
 * before libmicrohttpd does.  Invariants checked on every input:
 *   - the answer is 0 (incomplete), 1 (valid) or 400;
 *   - a valid head's length ends with the blank line and lies inside the
 *     input, and the head holds no NUL, no bare LF and a request line with
 *     a target that http_target_ok accepts;
 *   - the answer depends only on the bytes up to the end of the head: the
 *     same head followed by any body gives the same answer and length;
 *   - an incomplete prefix of a valid head is never refused unless it holds
 *     a NUL (the gate would otherwise cut honest slow clients).
 * Seeds: fuzz/corpus/fuzz_http_head/ (heads of curl, openssl ocsp, browsers,
 * and the attacks of issue 11). */
#include "http/http_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_valid(const char *buf, size_t len, size_t head_len)
{
    if (head_len < 4 || head_len > len ||
        memcmp(buf + head_len - 4, "\r\n\r\n", 4) != 0 ||
        memchr(buf, '\0', head_len))
        abort();
    const char *sp = memchr(buf, ' ', head_len);
    const char *sp2 =
        sp ? memchr(sp + 1, ' ', head_len - (size_t)(sp + 1 - buf)) : NULL;
    if (!sp2 || !http_target_ok(sp + 1, (size_t)(sp2 - sp - 1)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t head_len = 0;
    int rc = http_head_check(buf, size, &head_len);
    if (rc != 0 && rc != 1 && rc != 400)
        abort();
    if (rc != 1)
        return 0;
    check_valid(buf, size, head_len);
    size_t again = 0;
    if (http_head_check(buf, head_len, &again) != 1 || again != head_len)
        abort();
    for (size_t cut = 1; cut < head_len; cut += 7) {
        size_t unused = 0;
        if (http_head_check(buf, cut, &unused) == 400)
            abort();
    }
    return 0;
}
