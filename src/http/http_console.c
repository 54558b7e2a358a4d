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

/* GET /console/: the one page (http_web_dir_page); the script routes
 * inside it (#register, #approvals ...) so a reload keeps the place but, by
 * design, not the session.  GET /console redirects there: the page's own
 * address ends in '/', which the links of the landing page and the README
 * use. */
const lv_http_route http_console_routes[] = {
    HTTP_GET_PUBLIC("/console", http_web_dir_redirect),
    HTTP_GET_PUBLIC("/console/", http_web_dir_page),
    /* console.js and the modules it imports, the style sheet */
    HTTP_GET_PUBLIC("/web/console/{file}", http_web_asset_get),
    /* es.json, en.json (the catalogues http_i18n.c reads for
     * server-written pages), for pages whose texts the browser fills in */
    HTTP_GET_PUBLIC("/web/i18n/{file}", http_web_asset_get),
    /* i18n.js, the language of a page and its catalogue texts, for every
     * page whose script writes its words (console, signing page) */
    HTTP_GET_PUBLIC("/web/common/{file}", http_web_asset_get),
    {0},
};
