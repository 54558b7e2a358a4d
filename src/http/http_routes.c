/* Every API llaved serves.  Adding an API: write src/http/http_<api>.c with
 * its handlers and a table `const lv_http_route http_<api>_routes[]`,
 * declare the table in http_internal.h and list it here. */
#include "http/http_internal.h"

static const lv_http_route *const api_tables[] = {
    http_health_routes,
    http_audit_routes,
    http_unseal_routes,
    http_repo_routes,
    http_ocsp_routes,
    http_crl_routes,
    http_tsa_routes,
    http_auth_routes,
    http_ra_routes,
    http_clave_routes,
    http_csc_routes,
    http_oauth_routes,
    http_web_routes,
    http_site_routes,
    http_console_routes,
    http_portal_routes,
    NULL,
};

const lv_http_route *const *http_api_tables(void)
{
    return api_tables;
}
