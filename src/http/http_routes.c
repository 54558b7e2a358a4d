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

/* What plain http still serves when llaved serves https too (issue 17 item
 * 4): the status services the certificates name by http URL (CRL DP and AIA
 * must be http: EN 319 412-2 GEN-4.3.11-4, BR §7.1.2.7.7 and §7.1.2.11.2;
 * OCSP over http, RFC 6960 appendix A), the TSA (RFC 3161 §3.4), the
 * repository and its landing page, and the load balancers' /healthz.  No
 * password, code or session travels there. */
static const lv_http_route *const plain_tables[] = {
    http_health_routes,
    http_repo_routes,
    http_ocsp_routes,
    http_crl_routes,
    http_tsa_routes,
    http_site_routes,
    NULL,
};

int http_route_plain(const lv_http_route *table)
{
    for (size_t i = 0; plain_tables[i]; i++)
        if (plain_tables[i] == table)
            return 1;
    return 0;
}
