/* application/x-www-form-urlencoded bodies (RFC 6749 Appendix B, the HTML
 * form encoding): the token and revocation endpoints' requests.  One pass
 * over a copy of the body, decoding in place; strict about escapes and
 * control characters, since every value here is a code, a verifier, a URI
 * or an identifier. */
#include "oauth/oauth.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Decodes s[0..len) in place and terminates it; -1 on a malformed escape or
 * a control character (decoded or raw). */
static int decode(char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = lv_hex_value(s[i + 1]), lo = lv_hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return -1;
        s[o++] = (char)c;
    }
    s[o] = '\0';
    return 0;
}

/* One name=value pair of buf[0..len); an empty pair ("a=1&&b=2") is
 * skipped, a pair without '=' is a name with an empty value. */
static int pair(oauth_params *p, char *s, size_t len, lv_err *err)
{
    if (len == 0)
        return 0;
    if (p->n == OAUTH_PARAMS_MAX)
        return lv_fail(err, LV_EINVAL, "more than %d parameters",
                       OAUTH_PARAMS_MAX);
    char *eq = memchr(s, '=', len);
    size_t nlen = eq ? (size_t)(eq - s) : len;
    char *value = eq ? eq + 1 : s + len;
    size_t vlen = eq ? len - nlen - 1 : 0;
    if (nlen == 0)
        return lv_fail(err, LV_EINVAL, "a parameter without a name");
    if (decode(s, nlen) < 0 || decode(value, vlen) < 0)
        return lv_fail(err, LV_EINVAL,
                       "malformed form encoding (escape or control "
                       "character)");
    p->name[p->n] = s;
    p->value[p->n] = value;
    p->n++;
    return 0;
}

int oauth_form_parse(const void *body, size_t len, oauth_params *out,
                     lv_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > OAUTH_FORM_MAX)
        return lv_fail(err, LV_EINVAL, "form body over %zu bytes",
                       OAUTH_FORM_MAX);
    /* room for a terminator after the last value, whose pair may lack '=' */
    out->buf = malloc(len + 2);
    if (!out->buf)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    if (len)
        memcpy(out->buf, body, len);
    out->buf[len] = out->buf[len + 1] = '\0';
    out->buf_len = len + 2;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && out->buf[i] != '&')
            continue;
        if (pair(out, out->buf + start, i - start, err) < 0) {
            oauth_params_free(out);
            return LV_EINVAL;
        }
        start = i + 1;
    }
    return 0;
}

const char *oauth_param(const oauth_params *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->name[i], name) == 0)
            return p->value[i];
    return NULL;
}

const char *oauth_params_repeated(const oauth_params *p,
                                  const char *const *names)
{
    for (size_t k = 0; names[k]; k++) {
        int seen = 0;
        for (size_t i = 0; i < p->n; i++)
            if (strcmp(p->name[i], names[k]) == 0 && seen++)
                return names[k];
    }
    return NULL;
}

void oauth_params_free(oauth_params *p)
{
    if (p->buf) {
        /* the body may hold a client secret or a code */
        OPENSSL_cleanse(p->buf, p->buf_len);
        free(p->buf);
    }
    memset(p, 0, sizeof *p);
}
