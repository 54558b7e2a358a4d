/* The public repository (R8.1, CPS §2): CA certificates under
 * /ca/{name}.crt, the URL the AIA caIssuers of every certificate points to.
 * Later: policy documents (CRLs get their own file, http_crl.c). */
#include "http/http_internal.h"

#include <string.h>

/* Short names are what the configuration accepts (a-z, 0-9, -); anything
 * else cannot name a CA and is not echoed back. */
static int repo_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < 32 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int repo_ca_cert(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    const lv_ca *ca = lv_app_ca(app);
    const unsigned char *der = NULL;
    size_t len = 0;
    if (!repo_name_ok(req->param))
        return http_resp_error(resp, LV_ENOTFOUND, "no such CA certificate");
    if (!ca || ca_cert_der(ca, req->param, &der, &len) < 0 || !der)
        return http_resp_error(resp, LV_ENOTFOUND, "no CA certificate named %s",
                               req->param);
    /* The DER is cached in the CA context, which outlives the server. */
    LV_TRY(http_resp_static(resp, 200, "application/pkix-cert", der, len));
    /* CA certificates change only at a ceremony: let caches keep them. */
    return http_resp_header(resp, "Cache-Control", "public, max-age=86400");
}

const lv_http_route http_repo_routes[] = {
    {"GET", "/ca/{name}.crt", repo_ca_cert, 0},
    {0},
};
