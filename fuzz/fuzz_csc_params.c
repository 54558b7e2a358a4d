/* libFuzzer target: the parameters of the CSC API's signing calls
 * (src/http/http_csc.c, R10.4): credentials/authorize, signatures/signHash
 * (v1 and v2) and signatures/signDoc (v2).  The first input byte picks the
 * route; the rest is its body, read as the server reads it (http_body_parse
 * with the route's own schema, CSC v1 strings included), then as the
 * handler reads it (http_csc_params: operationMode, numSignatures, hashes
 * in base64 or base64url, hashAlgorithmOID / hashAlgo / signAlgo, the
 * options of documents[] and documentDigests[]) and the credentialID as
 * sign/ reads it (ca_serial_normalize).  Invariants checked on every input:
 *   - a refusal is the CSC error: 400 with "error": "invalid_request" and
 *     an "error_description";
 *   - accepted hashes are 1..LV_SIGN_HASHES_MAX digests of SHA-256, -384 or
 *     -512, each of that size; signAlgo, when an RSA-with-hash OID, names
 *     the same hash; numSignatures is the body's (0 when absent);
 *   - round trip: the digests accepted, sent again in canonical base64 and
 *     in unpadded base64url with their hash OID, are accepted as the same
 *     bytes and algorithm;
 *   - a credentialID normalizes to upper-case hex of even length, and its
 *     normal form normalizes to itself.
 * Seeds: fuzz/corpus/fuzz_csc_params/ (bodies of the CSC specification's
 * examples and of tests/integration/test_csc.py). */
#include "ca/ca.h"
#include "http/http_internal.h"
#include "sign/sign.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const ROUTES[] = {
    "/csc/v2/signatures/signHash", "/csc/v1/signatures/signHash",
    "/csc/v2/credentials/authorize", "/csc/v1/credentials/authorize",
    "/csc/v2/signatures/signDoc"};
#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

static const http_body_field *schema_of(const char *path)
{
    for (const lv_http_route *r = http_csc_routes; r->method; r++)
        if (strcmp(r->pattern, path) == 0)
            return r->body.schema;
    abort();
}

static void check_refusal(const lv_http_resp *resp)
{
    json_t *o =
        json_loadb((const char *)resp->body.data, resp->body.len, 0, NULL);
    const char *e = json_string_value(json_object_get(o, "error"));
    if (resp->status != 400 || !e || strcmp(e, "invalid_request") != 0 ||
        !json_is_string(json_object_get(o, "error_description")))
        abort();
    json_decref(o);
}

static int params(json_t *body, int v2, const EVP_MD **md, lv_buf *hashes,
                  int *num)
{
    lv_http_resp resp = {0};
    *num = -1;
    int rc = http_csc_params(body, v2, &resp, md, hashes, num);
    if (rc != 0)
        check_refusal(&resp);
    lv_buf_free(&resp.body);
    return rc;
}

/* The digests again, alternately canonical base64 and unpadded base64url,
 * with their algorithm's OID: the same bytes come back. */
static void round_trip(int v2, const EVP_MD *md, const lv_buf *hashes)
{
    size_t size = (size_t)EVP_MD_get_size(md), n = hashes->len / size;
    json_t *list = json_array(), *body = json_object();
    for (size_t i = 0; i < n; i++) {
        char *b64 = NULL;
        if (lv_b64_encode(hashes->data + i * size, size, &b64) < 0)
            abort();
        for (char *p = b64; i % 2 && *p; p++)
            *p = *p == '+' ? '-' : *p == '/' ? '_' : *p == '=' ? '\0' : *p;
        json_array_append_new(list, json_string(b64));
        free(b64);
    }
    json_object_set_new(body, v2 ? "hashes" : "hash", list);
    json_object_set_new(body, v2 ? "hashAlgorithmOID" : "hashAlgo",
                        json_string(sign_md_oid(md)));
    const EVP_MD *md2 = NULL;
    lv_buf again = {0};
    int num = 0;
    if (params(body, v2, &md2, &again, &num) != 0 || !md2 ||
        EVP_MD_get_type(md2) != EVP_MD_get_type(md) ||
        again.len != hashes->len ||
        memcmp(again.data, hashes->data, hashes->len) != 0)
        abort();
    lv_buf_free(&again);
    json_decref(body);
}

static void check_hashes(const json_t *body, int v2, const EVP_MD *md,
                         const lv_buf *hashes)
{
    const char *sa = json_string_value(json_object_get(body, "signAlgo"));
    const char *oid = sign_md_oid(md);
    if (!oid)
        abort();
    size_t size = (size_t)EVP_MD_get_size(md);
    size_t n = json_array_size(json_object_get(body, v2 ? "hashes" : "hash"));
    if (hashes->len != n * size || n == 0 || n > LV_SIGN_HASHES_MAX)
        abort();
    /* sha256WithRSAEncryption .11, sha384 .12, sha512 .13 */
    if (sa && strncmp(sa, "1.2.840.113549.1.1.1", 20) == 0 && sa[20] &&
        strcmp(sa + 20, EVP_MD_is_a(md, "SHA256")   ? "1"
                        : EVP_MD_is_a(md, "SHA384") ? "2"
                                                    : "3") != 0)
        abort();
    round_trip(v2, md, hashes);
}

static void check_credential(const json_t *body)
{
    const char *id = json_string_value(json_object_get(body, "credentialID"));
    char serial[65], again[65];
    if (!id || ca_serial_normalize(id, serial, NULL) != 0)
        return;
    size_t n = strlen(serial);
    if (n == 0 || n % 2 || strspn(serial, "0123456789ABCDEF") != n ||
        ca_serial_normalize(serial, again, NULL) != 0 ||
        strcmp(serial, again) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path = ROUTES[data[0] % NROUTES];
    int v2 = strncmp(path, "/csc/v2/", 8) == 0;
    json_t *body = NULL;
    lv_err err = {0};
    if (http_body_parse(data + 1, size - 1, schema_of(path), &body, &err) != 0)
        return 0;
    const EVP_MD *md = NULL;
    lv_buf hashes = {0};
    int num = 0;
    if (params(body, v2, &md, &hashes, &num) == 0) {
        json_t *ns = json_object_get(body, "numSignatures");
        if (num != (ns ? (int)json_integer_value(ns) : 0))
            abort();
        if (md)
            check_hashes(body, v2, md, &hashes);
        else if (hashes.len)
            abort();
    }
    check_credential(body);
    lv_buf_free(&hashes);
    json_decref(body);
    return 0;
}
