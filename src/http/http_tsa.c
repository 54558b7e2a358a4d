/* The time-stamp authority over HTTP (R7.1; RFC 3161 §3.4):
 *
 *   POST /tsa          the default unit (configuration key tsa_unit)
 *   POST /tsa/{unit}   a named time-stamping unit, e.g. an ECDSA one
 *
 * The body is a DER TimeStampReq sent as application/timestamp-query; the
 * answer is a DER TimeStampResp as application/timestamp-reply, also when
 * it refuses (PKIStatus rejection with its failInfo).  HTTP errors are
 * left for what is not a time-stamp request at all: another content type
 * (415), a body over LV_TSA_REQUEST_MAX (413, enforced by the server while
 * receiving), an unknown unit (404). */
#include "http/http_internal.h"
#include "tsa/tsa.h"

#include <openssl/crypto.h>
#include <string.h>

#define TSA_QUERY "application/timestamp-query"
#define TSA_REPLY "application/timestamp-reply"

/* Unit names are CA short names (a-z, 0-9, -); nothing else is echoed. */
static int unit_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < 32 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int tsa_answer(lv_app *app, const lv_http_req *req, lv_http_resp *resp,
                      const char *unit)
{
    lv_err err = {0};
    unsigned char *reply = NULL;
    size_t len = 0;
    lv_ca *ca = lv_app_ca(app);
    if (ca == NULL)
        return http_resp_error(resp, LV_ESTATE, "the CA is not loaded");
    if (tsa_respond(ca, req->st, unit, req->body, req->body_len, &reply, &len,
                    &err) < 0)
        return http_resp_err(resp, &err);
    int rc = http_resp_bytes(resp, 200, TSA_REPLY, reply, len);
    OPENSSL_free(reply);
    /* every token is unique (serial, genTime): never from a cache */
    return rc < 0 ? rc : http_resp_header(resp, "Cache-Control", "no-store");
}

static int tsa_default(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    return tsa_answer(app, req, resp, NULL);
}

static int tsa_unit(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    if (!unit_name_ok(req->param))
        return http_resp_error(resp, LV_ENOTFOUND,
                               "no such time-stamping unit");
    return tsa_answer(app, req, resp, req->param);
}

/* Another media type is 415 (RFC 3161 §3.4). */
#define TSA_BODY                                                               \
    HTTP_RAW(TSA_QUERY,                                                        \
             "a time-stamp request is sent as " TSA_QUERY " (RFC 3161 §3.4)")

const lv_http_route http_tsa_routes[] = {
    {"POST", "/tsa", tsa_default, LV_TSA_REQUEST_MAX, LV_WORK_SIGN, HTTP_PUBLIC,
     TSA_BODY},
    {"POST", "/tsa/{unit}", tsa_unit, LV_TSA_REQUEST_MAX, LV_WORK_SIGN,
     HTTP_PUBLIC, TSA_BODY},
    {0},
};
