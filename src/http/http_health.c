/* GET /healthz: liveness for load balancers and the operator.  Cheap on
 * purpose: no database, no key; "sealed" tells whether signing works. */
#include "http/http_internal.h"

static int health_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)req;
    json_t *obj =
        json_pack("{s:s, s:b}", "status", "ok", "sealed", lv_app_sealed(app));
    if (!obj)
        return LV_ENOMEM;
    int rc = http_resp_json(resp, 200, obj);
    json_decref(obj);
    LV_TRY(rc);
    return http_resp_header(resp, "Cache-Control", "no-store");
}

const lv_http_route http_health_routes[] = {
    {"GET", "/healthz", health_get, 0, LV_WORK_INLINE},
    {0},
};
