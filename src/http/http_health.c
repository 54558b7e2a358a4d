/* GET /healthz: liveness for load balancers and the operator.  Cheap on
 * purpose: no query, no key; "sealed" tells whether signing works.  Like
 * every route it gets the thread's store from the server (opened once per
 * thread), so a node whose database cannot be opened answers 500. */
#include "http/http_internal.h"

static int health_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)req;
    json_t *obj =
        json_pack("{s:s, s:b}", "status", "ok", "sealed", lv_app_sealed(app));
    return http_resp_json_new(resp, 200, obj, "no-store");
}

const lv_http_route http_health_routes[] = {
    HTTP_GET_PUBLIC("/healthz", health_get),
    {0},
};
