/* libFuzzer target: the path decoding of GET /ocsp/{request*} (RFC 6960
 * A.1; http_ocsp_path_decode, src/http/http_ocsp.c) followed, as in the
 * server, by the OCSPRequest reader.  The input is the path tail as
 * libmicrohttpd hands it over (one layer of %XX already undone).
 * Invariants checked on every input:
 *   - success only for a tail of at most the size limit, with at most 3
 *     bytes out for every 4 characters of base64 in;
 *   - round trip: the decoded bytes, base64-encoded again (lv_b64_encode),
 *     plain or with every character %XX-escaped, or in base64url without
 *     padding, decode to the same bytes;
 *   - the decoded bytes go through ocsp_query_parse without a crash.
 * Seeds: fuzz/corpus/fuzz_url_b64/ (base64, URL-encoded and base64url forms
 * of openssl ocsp -reqout outputs). */
#include "http/http_internal.h"
#include "ocsp/ocsp_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void same_bytes(const char *tail, const unsigned char *want,
                       size_t want_len)
{
    unsigned char *der = NULL;
    size_t len = 0;
    if (http_ocsp_path_decode(tail, &der, &len) != 0 || len != want_len ||
        memcmp(der, want, len) != 0)
        abort();
    free(der);
}

static void round_trip(const unsigned char *der, size_t len)
{
    char *b64 = NULL;
    if (len == 0 || lv_b64_encode(der, len, &b64) != 0)
        return;
    size_t n = strlen(b64);
    same_bytes(b64, der, len);
    char *escaped = malloc(3 * n + 1);
    for (size_t i = 0; i < n; i++)
        snprintf(escaped + 3 * i, 4, "%%%02X", (unsigned char)b64[i]);
    if (n * 3 <= 3 * (8 * 1024 / 3 * 4)) /* within the path limit */
        same_bytes(escaped, der, len);
    for (size_t i = 0; i < n; i++)
        b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    while (n > 0 && b64[n - 1] == '=')
        b64[--n] = '\0';
    same_bytes(b64, der, len);
    free(escaped);
    free(b64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *tail = malloc(size + 1);
    unsigned char *der = NULL;
    size_t len = 0;
    memcpy(tail, data, size);
    tail[size] = '\0';
    int rc = http_ocsp_path_decode(tail, &der, &len);
    if (rc == 0) {
        if (len == 0 || len > strlen(tail) / 4 * 3 + 3)
            abort();
        round_trip(der, len);
        ocsp_query q;
        if (ocsp_query_parse(der, len, &q, NULL) == 0)
            ocsp_query_free(&q);
    } else if (rc != LV_EINVAL && rc != LV_ETOOBIG) {
        abort();
    }
    free(der);
    free(tail);
    return 0;
}
