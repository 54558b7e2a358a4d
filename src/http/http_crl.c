/* GET /crl/{ca}.crl — the CRL distribution point of every certificate
 * (R6.3, RFC 5280 §4.2.1.13): the newest stored CRL of the CA, DER,
 * application/pkix-crl (RFC 2585 §4.2), with caching headers. */
#define _XOPEN_SOURCE 700 /* strptime */
#include "crl/crl.h"
#include "http/http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPS §4.9.8: a new CRL is published within minutes of a revocation, so no
 * cache may hold the previous one longer than this, nor past nextUpdate. */
#define CRL_MAX_AGE 300
#define FINAL_MAX_AGE 86400 /* a final CRL never changes */

static int crl_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < 32 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* RFC 9110 §5.6.7 IMF-fixdate. */
static void http_date(int64_t t, char out[40])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static int64_t parse_http_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
    return end != NULL && *end == '\0' ? (int64_t)timegm(&tm) : -1;
}

/* RFC 9110 §13.1.2 / §13.1.3: If-None-Match wins over If-Modified-Since. */
static int not_modified(const lv_http_req *req, const char *etag,
                        int64_t this_update)
{
    const char *inm = http_req_header(req, "If-None-Match");
    if (inm != NULL)
        return strstr(inm, etag) != NULL || strcmp(inm, "*") == 0;
    int64_t ims = parse_http_date(http_req_header(req, "If-Modified-Since"));
    return ims >= 0 && this_update <= ims;
}

static int crl_headers(lv_http_resp *resp, const lv_crl_info *c,
                       const char *etag)
{
    char v[64];
    int64_t left = c->next_update - lv_now();
    int64_t age = c->next_update == 0  ? FINAL_MAX_AGE
                  : left < CRL_MAX_AGE ? (left > 0 ? left : 0)
                                       : CRL_MAX_AGE;
    snprintf(v, sizeof v, "public, max-age=%lld", (long long)age);
    LV_TRY(http_resp_header(resp, "Cache-Control", v));
    LV_TRY(http_resp_header(resp, "ETag", etag));
    http_date(c->this_update, v);
    LV_TRY(http_resp_header(resp, "Last-Modified", v));
    if (c->next_update != 0) {
        http_date(c->next_update, v);
        LV_TRY(http_resp_header(resp, "Expires", v));
    }
    return 0;
}

static int crl_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_ca *ca = lv_app_ca(app);
    lv_store *st = req->st;
    lv_crl meta;
    lv_err err = {0};
    char etag[64];
    if (!crl_name_ok(req->param) || ca == NULL)
        return http_resp_error(resp, LV_ENOTFOUND, "no such CRL");
    /* metadata first: a conditional request never reads the DER */
    if (crl_latest(ca, st, req->param, 0, &meta, &err) < 0)
        return http_resp_err(resp, &err);
    snprintf(etag, sizeof etag, "\"%s-%lld\"", meta.info.ca,
             (long long)meta.info.number);
    if (not_modified(req, etag, meta.info.this_update)) {
        LV_TRY(http_resp_bytes(resp, 304, "application/pkix-crl", "", 0));
        return crl_headers(resp, &meta.info, etag);
    }
    lv_crl crl;
    if (crl_latest(ca, st, req->param, 1, &crl, &err) < 0)
        return http_resp_err(resp, &err);
    snprintf(etag, sizeof etag, "\"%s-%lld\"", crl.info.ca,
             (long long)crl.info.number);
    int rc = http_resp_bytes(resp, 200, "application/pkix-crl", crl.der,
                             crl.der_len);
    if (rc == 0)
        rc = crl_headers(resp, &crl.info, etag);
    crl_free(&crl);
    return rc;
}

const lv_http_route http_crl_routes[] = {
    HTTP_GET_PUBLIC("/crl/{name}.crl", crl_get),
    {0},
};
