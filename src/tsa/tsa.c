/* The time-stamp authority's one entry point (R7.1, R7.2, RFC 3161 §2.4):
 * a TimeStampReq in, a TimeStampResp out, in a straight line — read and
 * check the request, ask the clock, sign the token.  Every refusal is an
 * answer the client can read (PKIStatus rejection with its failInfo); only
 * an unknown unit or a failure to encode any answer at all is an error. */
#include "tsa/tsa_internal.h"

#include <stdio.h>
#include <string.h>

static int refuse(tsa_refusal *why, int failure, const char *text)
{
    why->failure = failure;
    snprintf(why->text, sizeof why->text, "%s", text);
    return 1;
}

/* 0: a token may be issued at *now; 1: `why` says why not. */
static int decide(lv_ca *ca, lv_store *st, const unsigned char *req,
                  size_t req_len, TS_REQ **ts_req, struct timespec *now,
                  tsa_refusal *why, lv_err *err)
{
    int rc = tsa_request_check(req, req_len, ca->tsa->policy, ts_req, why);
    if (rc != 0)
        return rc;
    /* sealed: the service exists but cannot sign (no 2 of 3 shares yet);
     * llave-keyd away (restarting): LV_EBUSY, 503 + Retry-After, a
     * transient state the client retries rather than a refusal */
    rc = ca_need_keys(ca, "time-stamps cannot be signed", err);
    if (rc == LV_EBUSY)
        return rc;
    if (rc < 0)
        return refuse(why, TS_INFO_SYSTEM_FAILURE, "the key store is sealed");
    if (!tsa_clock_guard(ca, st, why))
        return 1;
    /* genTime is read after the clock was judged, right before signing */
    if (clock_gettime(CLOCK_REALTIME, now) != 0)
        return refuse(why, TS_INFO_TIME_NOT_AVAILABLE, "no clock reading");
    return 0;
}

int ca_tsa_respond(lv_ca *ca, lv_store *st, const char *unit,
                   const unsigned char *req, size_t req_len,
                   unsigned char **reply, size_t *reply_len, lv_err *err)
{
    const tsa_unit *u = tsa_unit_find(ca, unit);
    tsa_refusal why = {0};
    TS_REQ *ts_req = NULL;
    struct timespec now;
    *reply = NULL;
    *reply_len = 0;
    if (u == NULL)
        return lv_fail(err, LV_ENOTFOUND, "no time-stamping unit %s",
                       unit && unit[0] ? unit : ca->cfg.tsa_unit);
    int rc = decide(ca, st, req, req_len, &ts_req, &now, &why, err);
    if (rc == 0 &&
        (rc = tsa_token_reply(ca, u, ts_req, &now, reply, reply_len, err)) <
            0 &&
        rc != LV_EBUSY) {
        lv_log(LV_LOG_ERROR, "tsa %s: %s", u->entry->rec.name,
               err ? err->msg : lv_err_name(rc));
        rc = refuse(&why, TS_INFO_SYSTEM_FAILURE,
                    "the time-stamp could not be signed");
    }
    TS_REQ_free(ts_req);
    if (rc == 1)
        rc = tsa_refusal_reply(&why, reply, reply_len, err);
    return rc;
}
