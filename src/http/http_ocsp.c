/* OCSP over HTTP (R6.4; RFC 6960 Appendix A, RFC 5019 §5-§6):
 *   POST /ocsp            body: DER OCSPRequest, application/ocsp-request
 *   GET  /ocsp/{base64}   the URL-encoded base64 of the DER request
 * The answer is always an application/ocsp-response with HTTP 200, errors
 * included (malformedRequest, unauthorized, tryLater...): OCSP clients read
 * the OCSP status, and most of them discard the body of any other HTTP
 * status.  HTTP 4xx is kept for what is not an OCSP request at all: a wrong
 * media type (415), a body over the limit (413, the router), a path too
 * long (414).  The protocol work is ocsp_respond's; this file only
 * moves bytes and sets the caching headers of RFC 5019 §6.2. */
#include "http/http_internal.h"
#include "ocsp/ocsp.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* An OCSPRequest naming 32 certificates with SHA-512 CertIDs, a nonce and
 * a signature with its certificate stays well under this. */
#define OCSP_BODY_MAX ((size_t)8 * 1024)
/* Its base64, URL-encoded at worst three bytes a character. */
#define OCSP_PATH_MAX (OCSP_BODY_MAX / 3 * 4 * 3)

/* ---- GET: the path ------------------------------------------------------ */

static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undoes %XX escapes into out (NUL-terminated); *len is the length. */
static int path_unescape(const char *in, char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            int hi = hex_val((unsigned char)p[1]);
            int lo = hi < 0 ? -1 : hex_val((unsigned char)p[2]);
            if (lo < 0)
                return LV_EINVAL;
            c = (unsigned char)(hi * 16 + lo);
            p += 2;
        }
        if (n + 4 >= cap)
            return LV_ETOOBIG;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    *len = n;
    return 0;
}

/* libmicrohttpd has already decoded %XX once; what is left is either plain
 * base64 or a second encoding layer added by a proxy or a careless client.
 * Accepted as the same bytes: %XX escapes, ' ' for '+' (form decoding of a
 * '+' somewhere on the way), base64url's '-' and '_' (RFC 4648 §5), and
 * missing '=' padding.  Anything else is not base64 and lv_b64_decode
 * refuses it. */
static int path_normalize(const char *in, char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    memset(out, 0, cap);
    LV_TRY(path_unescape(in, out, cap, &n));
    size_t data = strcspn(out, "=");
    for (size_t i = data; i < n; i++)
        if (out[i] != '=')
            return LV_EINVAL;
    if (n - data > 2)
        return LV_EINVAL;
    for (size_t i = 0; i < data; i++) {
        if (out[i] == ' ' || out[i] == '-')
            out[i] = '+';
        else if (out[i] == '_')
            out[i] = '/';
    }
    n = data;
    while (n % 4 != 0)
        out[n++] = '=';
    out[n] = '\0';
    *len = n;
    return 0;
}

int http_ocsp_path_decode(const char *tail, unsigned char **der, size_t *len)
{
    size_t n = 0;
    *der = NULL;
    *len = 0;
    if (strlen(tail) > OCSP_PATH_MAX)
        return LV_ETOOBIG;
    char *b64 = malloc(OCSP_PATH_MAX + 4);
    if (!b64)
        return LV_ENOMEM;
    int rc = path_normalize(tail, b64, OCSP_PATH_MAX + 4, &n);
    if (rc == 0 && n == 0)
        rc = LV_EINVAL;
    if (rc == 0)
        rc = lv_b64_decode(b64, n, der, len);
    free(b64);
    return rc;
}

/* ---- answering -------------------------------------------------------- */

static void http_date(int64_t t, char out[40])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* RFC 5019 §6.2: a pre-signed response may be cached until its nextUpdate
 * by any HTTP cache; a nonce answer or an error never. */
static int cache_headers(lv_http_resp *resp, const lv_ocsp_answer *a)
{
    char value[80], digest_hex[2 * SHA_DIGEST_LENGTH + 3];
    unsigned char digest[SHA_DIGEST_LENGTH];
    int64_t age = a->next_update - lv_now();
    if (!a->cacheable || age <= 0)
        return http_resp_header(resp, "Cache-Control", "no-store");
    snprintf(value, sizeof value,
             "max-age=%lld, public, no-transform, must-revalidate",
             (long long)age);
    LV_TRY(http_resp_header(resp, "Cache-Control", value));
    http_date(a->this_update, value);
    LV_TRY(http_resp_header(resp, "Last-Modified", value));
    http_date(a->next_update, value);
    LV_TRY(http_resp_header(resp, "Expires", value));
    SHA1(a->der, a->len, digest);
    digest_hex[0] = '"';
    lv_hex_encode(digest, sizeof digest, digest_hex + 1);
    strcat(digest_hex, "\"");
    return http_resp_header(resp, "ETag", digest_hex);
}

/* On an I/O thread only a ready answer is served; one that needs a
 * signature moves to the signing pool (issue 11). */
static int ocsp_answer(lv_app *app, const lv_http_req *req,
                       const unsigned char *der, size_t len, int get,
                       lv_http_resp *resp)
{
    lv_ca *ca = lv_app_ca(app);
    lv_store *st = req->st;
    lv_err err = {0};
    lv_ocsp_answer a;
    if (!ca)
        return http_resp_error(resp, LV_ESTATE, "the CA is not loaded");
    int rc = req->in_pool ? ocsp_respond(ca, st, der, len, &a, &err)
                          : ocsp_respond_ready(ca, st, der, len, &a, &err);
    if (rc < 0)
        return http_resp_err(resp, &err);
    if (!a.der)
        return http_defer(resp, LV_WORK_SIGN);
    rc = http_resp_bytes(resp, 200, "application/ocsp-response", a.der, a.len);
    if (rc == 0 && get)
        rc = cache_headers(resp, &a);
    ocsp_answer_free(&a);
    return rc;
}

/* The media type (RFC 6960 A.1.1: application/ocsp-request; parameters
 * and case tolerated) is the route's declaration. */
static int ocsp_post(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    return ocsp_answer(app, req, req->body, req->body_len, 0, resp);
}

static int ocsp_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    unsigned char *der = NULL;
    size_t len = 0;
    int rc = http_ocsp_path_decode(req->param, &der, &len);
    if (rc == LV_ETOOBIG)
        return http_resp_error_status(resp, 414, LV_ETOOBIG,
                                      "OCSP request too long for a GET; "
                                      "use POST");
    if (rc == LV_ENOMEM)
        return rc;
    /* not base64: an undecodable request, answered malformedRequest */
    rc = ocsp_answer(app, req, rc == 0 ? der : (const unsigned char *)"", len,
                     1, resp);
    free(der);
    return rc;
}

#define OCSP_REQUEST "application/ocsp-request"

const lv_http_route http_ocsp_routes[] = {
    {"POST", "/ocsp", ocsp_post, OCSP_BODY_MAX, LV_WORK_INLINE, HTTP_PUBLIC,
     HTTP_RAW(OCSP_REQUEST,
              "an OCSP request is sent as " OCSP_REQUEST " (RFC 6960 A.1)")},
    HTTP_GET_PUBLIC("/ocsp/{request*}", ocsp_get),
    {0},
};
