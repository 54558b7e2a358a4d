/* The key service's state for custodians and monitoring (R9.5, R1.5;
 * issues 8 and 12):
 *
 *   GET /api/v1/unseal  {"sealed": true, "received": 1, "needed": 2,
 *                        "message": "1 of 2 shares received"}
 *
 * Shares no longer travel over HTTP: llave-keyd, the signature activation
 * module (CEN EN 419 241-1), takes them only on its own UNIX socket from
 * `llave unseal` (caller class custodian), so no share ever crosses the
 * public listener, its parser or llaved's memory (issue 12 item 2).  There
 * is no POST: it answers 405 like any other method a route lacks.  This
 * GET relays keyd's status (keyc_status); while keyd is away it answers
 * 503 + Retry-After. */
#include "http/http_internal.h"

#include <stdio.h>

static int unseal_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    keyc_info info;
    lv_err err = {0};
    char msg[96];
    (void)req;
    lv_ca *ca = lv_app_ca(app);
    if (!ca)
        return http_resp_error(resp, LV_ESEALED, "no CA context loaded");
    if (ca_keys_status(ca, &info, &err) < 0)
        return http_resp_err(resp, &err);
    if (info.sealed)
        snprintf(msg, sizeof msg, "%d of %d shares received",
                 info.shares_received, info.shares_needed);
    else
        snprintf(msg, sizeof msg, "key store unsealed");
    json_t *o = json_pack("{s:b, s:i, s:i, s:s, s:s}", "sealed", info.sealed,
                          "received", info.sealed ? info.shares_received : 0,
                          "needed", info.shares_needed, "message", msg,
                          "unseal_with", "llave -d DIR unseal");
    int rc = o ? http_resp_json(resp, 200, o) : LV_ENOMEM;
    json_decref(o);
    LV_TRY(rc);
    return http_resp_header(resp, "Cache-Control", "no-store");
}

const lv_http_route http_unseal_routes[] = {
    {"GET", "/api/v1/unseal", unseal_get, 0, LV_WORK_API, HTTP_PUBLIC,
     HTTP_NO_BODY},
    {0},
};
