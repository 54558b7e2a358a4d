/* The gate's check of a request head (issue 11), before libmicrohttpd sees
 * a byte of it.  libmicrohttpd 0.9.75 answers a malformed Content-Length
 * with a 400 whose body is a second header block, serves HTTP/1.1 without
 * Host, and decodes "%00" in a path into a NUL that truncates the routed
 * path.  The gate refuses those heads itself, with a plain 400, and hands
 * libmicrohttpd only heads that RFC 9112 accepts.  This is a validator, not
 * a parser that anything else relies on: libmicrohttpd still parses the
 * head it receives.  fuzz/fuzz_http_head.c drives it. */
#include "http/http_internal.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 §5.6.2 tchar. */
static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The request target: visible ASCII only (RFC 9112 §3.2), and no percent
 * escape that decodes to a control character (%00-%1F, %7F) in the path;
 * in the query only %00 is refused (it would truncate a decoded value). */
int http_target_ok(const char *t, size_t n)
{
    int in_query = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7f)
            return 0;
        if (c == '?')
            in_query = 1;
        if (c != '%')
            continue;
        if (i + 2 >= n)
            return 0;
        int hi = hexval((unsigned char)t[i + 1]);
        int lo = hexval((unsigned char)t[i + 2]);
        if (hi < 0 || lo < 0)
            return 0;
        int v = hi * 16 + lo;
        if (v == 0 || (!in_query && (v < 0x20 || v == 0x7f)))
            return 0;
        i += 2;
    }
    return n > 0;
}

/* "METHOD SP target SP HTTP/1.x" (RFC 9112 §3). */
static int request_line_ok(const char *l, size_t n, int *http11)
{
    size_t m = 0;
    while (m < n && is_tchar((unsigned char)l[m]))
        m++;
    if (m == 0 || m >= n || l[m] != ' ')
        return 0;
    const char *t = l + m + 1;
    const char *sp = memchr(t, ' ', n - m - 1);
    if (!sp || !http_target_ok(t, (size_t)(sp - t)))
        return 0;
    size_t vlen = n - (size_t)(sp + 1 - l);
    if (vlen != 8 || strncmp(sp + 1, "HTTP/1.", 7) != 0 ||
        (sp[8] != '0' && sp[8] != '1'))
        return 0;
    *http11 = sp[8] == '1';
    return 1;
}

/* RFC 9110 §8.6: Content-Length = 1*DIGIT; a repeated one must agree. */
static int content_length_ok(const char *v, size_t n, char *seen,
                             size_t seen_cap)
{
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= seen_cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return 0;
    if (seen[0] && (strlen(seen) != n || memcmp(seen, v, n) != 0))
        return 0;
    memcpy(seen, v, n);
    seen[n] = '\0';
    return 1;
}

typedef struct head_state {
    int http11;
    int hosts;
    int has_te;
    char length[24];
} head_state;

/* One "name: value" field line (RFC 9112 §5). */
static int field_ok(const char *l, size_t n, head_state *h)
{
    const char *colon = memchr(l, ':', n);
    if (!colon || colon == l)
        return 0; /* also refuses obs-fold, which starts with SP/HTAB */
    size_t name_len = (size_t)(colon - l);
    for (size_t i = 0; i < name_len; i++)
        if (!is_tchar((unsigned char)l[i]))
            return 0;
    const char *v = colon + 1;
    size_t vn = n - name_len - 1;
    for (size_t i = 0; i < vn; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    if (name_len == 4 && strncasecmp(l, "Host", 4) == 0)
        h->hosts++;
    else if (name_len == 17 && strncasecmp(l, "Transfer-Encoding", 17) == 0)
        h->has_te = 1;
    else if (name_len == 14 && strncasecmp(l, "Content-Length", 14) == 0)
        return content_length_ok(v, vn, h->length, sizeof h->length);
    return 1;
}

int http_head_check(const char *buf, size_t len, size_t *head_len)
{
    const char *end = NULL;
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            end = buf + i + 2; /* just after the last field's CRLF */
            break;
        }
    if (!end)
        return memchr(buf, '\0', len) ? 400 : 0;
    *head_len = (size_t)(end + 2 - buf);
    head_state h = {0};
    const char *p = buf;
    int first = 1;
    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol || eol[1] != '\n')
            return 400;
        size_t n = (size_t)(eol - p);
        if (memchr(p, '\n', n) || memchr(p, '\0', n))
            return 400; /* a bare LF or NUL inside a line */
        if (first ? !request_line_ok(p, n, &h.http11) : !field_ok(p, n, &h))
            return 400;
        first = 0;
        p = eol + 2;
    }
    /* RFC 9112 §3.2: HTTP/1.1 needs exactly one Host; §6.1: both framing
     * headers is a smuggling attempt, refused. */
    if ((h.http11 && h.hosts != 1) || h.hosts > 1 || (h.has_te && h.length[0]))
        return 400;
    return 1;
}
