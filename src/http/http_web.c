/* Static pages of web/ (compiled in): the citizen's signing page at
 * /sign/{transaction id} and its assets under /web/sign/.  The page only
 * talks to the JSON API of http_clave.c.
 *
 * The headers matter for a page that authorizes signatures: no framing
 * (clickjacking), scripts and styles only from this origin, no referrer
 * (the transaction id is in the URL), no caching. */
#include "http/http_internal.h"
#include "http/web_assets_internal.h"

#include <stdio.h>
#include <string.h>

const lv_web_asset *http_web_asset(const char *path)
{
    for (size_t i = 0; i < lv_web_assets_count; i++)
        if (strcmp(lv_web_assets[i].path, path) == 0)
            return &lv_web_assets[i];
    return NULL;
}

/* The page with status (200, or 404/410 for a page that says so itself). */
static int web_serve_status(lv_http_resp *resp, int status,
                            const lv_web_asset *a)
{
    if (!a)
        return http_resp_error(resp, LV_ENOTFOUND, "no such page");
    /* the table is static data: no copy */
    LV_TRY(http_resp_static(resp, status, a->content_type, a->data, a->len));
    LV_TRY(http_resp_header(resp, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; "
                            "worker-src 'self'; style-src 'self'; "
                            "connect-src 'self'; "
                            "form-action 'none'; frame-ancestors 'none'; "
                            "base-uri 'none'"));
    LV_TRY(http_resp_header(resp, "X-Frame-Options", "DENY"));
    LV_TRY(http_resp_header(resp, "Referrer-Policy", "no-referrer"));
    LV_TRY(http_resp_header(resp, "X-Content-Type-Options", "nosniff"));
    return http_resp_header(resp, "Cache-Control", "no-store");
}

int http_web_serve(lv_http_resp *resp, const lv_web_asset *a)
{
    return web_serve_status(resp, 200, a);
}

int http_web_redirect(lv_http_resp *resp, const char *location)
{
    LV_TRY(http_resp_bytes(resp, 301, "text/plain; charset=utf-8", "", 0));
    return http_resp_header(resp, "Location", location);
}

int http_web_dir_page(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char asset[64];
    (void)app;
    /* "/console/" -> "console/index.html" */
    snprintf(asset, sizeof asset, "%sindex.html", req->path + 1);
    return http_web_serve(resp, http_web_asset(asset));
}

int http_web_dir_redirect(lv_app *app, const lv_http_req *req,
                          lv_http_resp *resp)
{
    char to[64];
    (void)app;
    snprintf(to, sizeof to, "%s/", req->path);
    return http_web_redirect(resp, to);
}

int http_web_asset_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    static const char prefix[] = "/web/";
    (void)app;
    if (strncmp(req->path, prefix, sizeof prefix - 1) != 0)
        return http_web_serve(resp, NULL);
    return http_web_serve(resp, http_web_asset(req->path + sizeof prefix - 1));
}

int http_web_id_page(const lv_http_req *req, lv_http_resp *resp,
                     const char *page, const char *unknown)
{
    size_t n = strlen(req->param);
    if (n != 32 || strspn(req->param, "0123456789abcdef") != n)
        return http_resp_error(resp, LV_ENOTFOUND, "%s", unknown);
    return http_web_serve(resp, http_web_asset(page));
}

/* GET /sign/{id}: the page, its status telling where the transaction
 * stands before anyone logs in (issue 15 item 3): 404 for an unknown id,
 * 410 Gone once it can no longer be signed (signed, declined, failed,
 * expired); the script reads that status and says so instead of asking
 * for a password.  The id is the 128-bit capability the application
 * handed out, so its standing is no secret from whoever holds it. */
static int sign_page(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    int open = 0;
    (void)app;
    int rc = sign_tx_open(req->st, req->param, &open, &err);
    if (rc < 0 && rc != LV_ENOTFOUND)
        return http_resp_error(resp, rc, "%s", err.msg);
    return web_serve_status(resp,
                            rc == LV_ENOTFOUND ? 404
                            : open             ? 200
                                               : 410,
                            http_web_asset("sign/index.html"));
}

const lv_http_route http_web_routes[] = {
    HTTP_GET_PUBLIC("/sign/{id}", sign_page),
    /* sign.js, sign.css */
    HTTP_GET_PUBLIC("/web/sign/{file}", http_web_asset_get),
    /* pdf.js for the preview (issue 15 item 3), vendored from npm */
    HTTP_GET_PUBLIC("/web/vendor/pdfjs/{file}", http_web_asset_get),
    {0},
};
