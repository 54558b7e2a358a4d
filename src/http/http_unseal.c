/* Two-of-three activation of a running service (R9.5, R1.5; issue 8):
 *
 *   POST /api/v1/unseal  {"share": "llave-share-<n>-..."}
 *   GET  /api/v1/unseal  progress
 *
 * No session is needed: the share is the custodian's credential, checked
 * by ca/ and keys/ (malformed 400, not this store's 401, already received
 * 409, already unsealed 409), every attempt audited by share number, never
 * by its text.  The answer tells how many shares are held:
 * {"sealed": true, "received": 1, "needed": 2,
 *  "message": "1 of 2 shares received"}. */
#include "http/http_internal.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

static int progress_json(lv_http_resp *resp, const lv_unseal_progress *p)
{
    char msg[96];
    if (p->sealed)
        snprintf(msg, sizeof msg, "%zu of %zu shares received", p->received,
                 p->needed);
    else
        snprintf(msg, sizeof msg, "key store unsealed");
    json_t *o = json_pack("{s:b, s:I, s:I, s:s}", "sealed", p->sealed,
                          "received", (json_int_t)p->received, "needed",
                          (json_int_t)p->needed, "message", msg);
    int rc = o ? http_resp_json(resp, 200, o) : LV_ENOMEM;
    json_decref(o);
    LV_TRY(rc);
    return http_resp_header(resp, "Cache-Control", "no-store");
}

static int unseal_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_unseal_progress p;
    (void)req;
    lv_ca *ca = lv_app_ca(app);
    if (!ca)
        return http_resp_error(resp, LV_ESEALED, "no CA context loaded");
    ca_unseal_status(ca, &p);
    return progress_json(resp, &p);
}

/* {"share": "llave-share-<n>-..."} and nothing else. */
static const http_body_field UNSEAL[] = {HTTP_FIELD_REQ("share", HTTP_STR),
                                         {0}};

static int unseal_post(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_unseal_progress p;
    lv_err err = {0};
    lv_store *st;
    char actor[96];
    lv_ca *ca = lv_app_ca(app);
    if (!ca)
        return http_resp_error(resp, LV_ESEALED, "no CA context loaded");
    json_t *body;
    if (http_body_read(req, UNSEAL, resp, &body) < 0)
        return 0;
    const char *share = lv_json_str(body, "share");
    snprintf(actor, sizeof actor, "custodian@%.64s",
             req->remote_addr ? req->remote_addr : "?");
    int rc = lv_app_store(app, &st, &err);
    if (rc == 0)
        rc = ca_unseal_submit(ca, st, share, actor, &p, &err);
    /* the share text lives in the body's JSON: wipe it */
    OPENSSL_cleanse((char *)share, strlen(share));
    json_decref(body);
    if (rc < 0)
        return http_resp_err(resp, &err);
    return progress_json(resp, &p);
}

const lv_http_route http_unseal_routes[] = {
    {"GET", "/api/v1/unseal", unseal_get, 0, LV_WORK_API},
    {"POST", "/api/v1/unseal", unseal_post, 4096, LV_WORK_API},
    {0},
};
