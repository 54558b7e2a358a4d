/* Hex and base64.  Base64 is OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock; this
 * file only adds the strictness those lack (they accept whitespace and do not
 * report how much of the last quantum was padding). */
#include "core/core.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

void lv_hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

int lv_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
        return LV_ECRYPTO;
    lv_hex_encode(md, sizeof md, out);
    return 0;
}

int lv_random_hex(size_t bytes, char *out, lv_err *err)
{
    unsigned char raw[32];
    if (bytes > sizeof raw || lv_random(raw, bytes) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness");
    lv_hex_encode(raw, bytes, out);
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

/* By table: a CRL of a million entries decodes 32 million digits. */
static const signed char HEX_VALUE[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
    ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
    ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16}; /* value + 1; 0: none */

int lv_hex_value(char c)
{
    return HEX_VALUE[(unsigned char)c] - 1;
}

/* ':' may only separate two complete bytes ("AB:CD"), as openssl prints
 * fingerprints; anything else is malformed. */
int lv_hex_decode(const char *in, unsigned char *out, size_t out_cap)
{
    size_t n = 0;
    const char *p = in;
    while (*p) {
        if (*p == ':') {
            if (n == 0 || p[1] == '\0' || p[1] == ':')
                return LV_EINVAL;
            p++;
        }
        int hi = lv_hex_value(p[0]);
        int lo = hi < 0 ? -1 : lv_hex_value(p[1]);
        if (lo < 0)
            return LV_EINVAL; /* bad character or odd length */
        if (n >= out_cap || n >= INT_MAX)
            return LV_ETOOBIG;
        out[n++] = (unsigned char)(hi << 4 | lo);
        p += 2;
    }
    return (int)n;
}

int lv_b64_encode(const unsigned char *in, size_t len, char **out)
{
    *out = NULL;
    if (len > (size_t)INT_MAX / 4 * 3 - 3)
        return LV_ETOOBIG;
    size_t cap = (len + 2) / 3 * 4 + 1;
    char *s = malloc(cap);
    if (!s)
        return LV_ENOMEM;
    EVP_EncodeBlock((unsigned char *)s, in, (int)len);
    s[cap - 1] = '\0';
    *out = s;
    return 0;
}

static int b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* RFC 4648 §4 with mandatory padding: length a multiple of 4, '=' only as
 * the last one or two characters.  Returns the number of padding chars. */
static int b64_check(const char *in, size_t n)
{
    if (n % 4 != 0)
        return LV_EINVAL;
    size_t pad = 0;
    if (n >= 1 && in[n - 1] == '=')
        pad = (n >= 2 && in[n - 2] == '=') ? 2 : 1;
    for (size_t i = 0; i < n - pad; i++)
        if (!b64_char((unsigned char)in[i]))
            return LV_EINVAL;
    return (int)pad;
}

int lv_b64_decode(const char *in, size_t in_len, unsigned char **out,
                  size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (in_len > INT_MAX)
        return LV_ETOOBIG;
    int pad = b64_check(in, in_len);
    if (pad < 0)
        return pad;
    unsigned char *buf = malloc(in_len / 4 * 3 + 1);
    if (!buf)
        return LV_ENOMEM;
    int n = in_len
                ? EVP_DecodeBlock(buf, (const unsigned char *)in, (int)in_len)
                : 0;
    if (n < pad) {
        free(buf);
        return LV_EINVAL;
    }
    /* EVP_DecodeBlock counts padding as zero bytes; remove them. */
    *out = buf;
    *out_len = (size_t)(n - pad);
    return 0;
}

int lv_random(void *out, size_t len)
{
    unsigned char *p = out;
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(p, chunk) != 1)
            return LV_ECRYPTO;
        p += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

void lv_dn_rfc4514(const X509_NAME *name, char *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    int n = -1;
    out[0] = '\0';
    if (b && X509_NAME_print_ex(b, name, 0, flags) >= 0 &&
        (size_t)BIO_pending(b) < cap)
        n = BIO_read(b, out, (int)cap - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}
