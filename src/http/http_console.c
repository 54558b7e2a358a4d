/* The operator console (issue 15 item 5): a static page at /console/ and
 * its modules under /web/console/, plus the language catalogues under
 * /web/i18n/ and the shared modules under /web/common/ (i18n.js) that
 * every script-driven page (console, signing page) reads its texts with.
 *
 * Nothing here holds authority: the page is a client of the JSON API
 * (operator login, RA, audit, operator accounts), which checks every call
 * against the route's roles as for any other client (http_access.c).  The
 * bearer token lives in the page's memory only.  The files are served by
 * http_web_serve, with its strict CSP: scripts and styles from this
 * origin, no inline script or style, no framing, no caching. */
#include "http/http_internal.h"

#include <stdio.h>

/* GET /console/: the one page; the script routes inside it (#register,
 * #approvals ...) so a reload keeps the place but, by design, not the
 * session. */
static int console_page(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    (void)req;
    return http_web_serve(resp, http_web_asset("console/index.html"));
}

/* GET /console: the page's own address ends in '/', which the links of
 * the landing page and the README use; a typed "/console" gets there. */
static int console_redirect(lv_app *app, const lv_http_req *req,
                            lv_http_resp *resp)
{
    (void)app;
    (void)req;
    LV_TRY(http_resp_bytes(resp, 301, "text/plain; charset=utf-8", "", 0));
    return http_resp_header(resp, "Location", "/console/");
}

/* GET /web/<dir>/{file}: a compiled-in file of web/<dir>/.  The lookup is
 * an exact match in the asset table, so "../" names nothing. */
static int dir_asset(const char *dir, const lv_http_req *req,
                     lv_http_resp *resp)
{
    char path[LV_HTTP_PARAM_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", dir, req->param);
    return http_web_serve(resp, http_web_asset(path));
}

/* GET /web/console/{file}: console.js and the modules it imports, the
 * style sheet. */
static int console_asset(lv_app *app, const lv_http_req *req,
                         lv_http_resp *resp)
{
    (void)app;
    return dir_asset("console", req, resp);
}

/* GET /web/i18n/{file}: es.json, en.json (the catalogues http_i18n.c
 * reads for server-written pages), for pages whose texts the browser
 * fills in. */
static int i18n_asset(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    return dir_asset("i18n", req, resp);
}

/* GET /web/common/{file}: the modules every page imports (i18n.js: the
 * language of the page and its catalogue texts). */
static int common_asset(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    return dir_asset("common", req, resp);
}

const lv_http_route http_console_routes[] = {
    {"GET", "/console", console_redirect, 0, LV_WORK_INLINE, HTTP_PUBLIC,
     HTTP_NO_BODY},
    {"GET", "/console/", console_page, 0, LV_WORK_INLINE, HTTP_PUBLIC,
     HTTP_NO_BODY},
    {"GET", "/web/console/{file}", console_asset, 0, LV_WORK_INLINE,
     HTTP_PUBLIC, HTTP_NO_BODY},
    {"GET", "/web/i18n/{file}", i18n_asset, 0, LV_WORK_INLINE, HTTP_PUBLIC,
     HTTP_NO_BODY},
    {"GET", "/web/common/{file}", common_asset, 0, LV_WORK_INLINE, HTTP_PUBLIC,
     HTTP_NO_BODY},
    {0},
};
