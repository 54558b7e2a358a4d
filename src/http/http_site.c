/* The provider's public pages (issue 15 item 2): the landing page at `/`
 * and the look the repository index shares with it (http_repo.c).
 *
 * Server-written HTML, no script: the pages work with JavaScript off and
 * fall under the strict CSP http_server.c gives every HTML answer (styles
 * from /web/site/ only).  Texts come from the catalogues (http_i18n.c);
 * the structure is what WCAG 2.1 AA / UNE-EN 301 549 asks of a page: lang,
 * a skip link, landmarks, one h1, headings in order, tables with headers,
 * the current page marked for assistive technology. */
#include "http/http_internal.h"
#include "repo/repo.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

void http_html_text(lv_buf *b, const char *s)
{
    static const char *const ENTITIES[UCHAR_MAX + 1] = {['&'] = "&amp;",
                                                        ['<'] = "&lt;",
                                                        ['>'] = "&gt;",
                                                        ['"'] = "&quot;",
                                                        ['\''] = "&#39;"};
    for (; s && *s; s++) {
        const char *entity = ENTITIES[(unsigned char)*s];
        if (entity)
            lv_buf_append(b, entity, strlen(entity));
        else
            lv_buf_append(b, s, 1);
    }
}

/* <a href="url">text</a>, both escaped. */
static void html_link(lv_buf *b, const char *url, const char *text)
{
    lv_buf_appendf(b, "<a href=\"");
    http_html_text(b, url);
    lv_buf_appendf(b, "\">");
    http_html_text(b, text);
    lv_buf_appendf(b, "</a>");
}

static void nav_item(lv_buf *b, const char *lang, const char *href,
                     const char *key, const char *here)
{
    lv_buf_appendf(b, "<li><a href=\"%s\"%s>", href,
                   strcmp(href, here) == 0 ? " aria-current=\"page\"" : "");
    http_html_text(b, http_text(lang, key));
    lv_buf_appendf(b, "</a></li>");
}

/* One link per other language, named in that language (WCAG 3.1.2). */
static void language_switch(lv_buf *b, const char *lang)
{
    const char *codes[8];
    size_t n = http_langs(codes, 8);
    lv_buf_appendf(b, "<p class=\"langs\"><span class=\"visually-hidden\">");
    http_html_text(b, http_text(lang, "language.switch"));
    lv_buf_appendf(b, ": </span>");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(codes[i], lang) == 0)
            continue;
        lv_buf_appendf(b, "<a href=\"?lang=%s\" hreflang=\"%s\" lang=\"%s\">",
                       codes[i], codes[i], codes[i]);
        http_html_text(b, http_text(codes[i], "language.name"));
        lv_buf_appendf(b, "</a> ");
    }
    lv_buf_appendf(b, "</p>\n");
}

void http_site_begin(lv_buf *b, const char *lang, const char *provider,
                     const char *title, const char *here)
{
    lv_buf_appendf(b,
                   "<!DOCTYPE html>\n<html lang=\"%s\"><head>"
                   "<meta charset=\"utf-8\"><meta name=\"viewport\" "
                   "content=\"width=device-width, initial-scale=1\">"
                   "<title>",
                   lang);
    http_html_text(b, title);
    lv_buf_appendf(b, " &ndash; ");
    http_html_text(b, provider);
    lv_buf_appendf(b, "</title><link rel=\"stylesheet\" "
                      "href=\"/web/site/site.css\"></head>\n<body>\n"
                      "<a class=\"skip\" href=\"#main\">");
    http_html_text(b, http_text(lang, "site.skip"));
    lv_buf_appendf(b, "</a>\n<header class=\"top\"><p class=\"brand\">");
    html_link(b, "/", provider);
    lv_buf_appendf(b, "</p><nav aria-label=\"");
    http_html_text(b, http_text(lang, "site.nav"));
    lv_buf_appendf(b, "\"><ul>");
    nav_item(b, lang, "/", "site.home", here);
    nav_item(b, lang, "/repository/", "site.repository", here);
    lv_buf_appendf(b, "</ul></nav>");
    language_switch(b, lang);
    lv_buf_appendf(b, "</header>\n<main id=\"main\" tabindex=\"-1\">\n");
}

void http_site_heading(lv_buf *b, const char *title, const char *lead)
{
    lv_buf_appendf(b, "<h1>");
    http_html_text(b, title);
    lv_buf_appendf(b, "</h1>\n<p class=\"lead\">");
    http_html_text(b, lead);
    lv_buf_appendf(b, "</p>\n");
}

int http_site_send(lv_http_resp *resp, lv_buf *b, const char *lang,
                   const char *provider, int chosen)
{
    lv_buf_appendf(b, "</main>\n<footer><p>");
    http_html_text(b, provider);
    lv_buf_appendf(b, ". ");
    http_html_text(b, http_text(lang, "site.footer"));
    lv_buf_appendf(b, "</p></footer>\n</body></html>\n");
    int rc = b->error  ? b->error
             : b->data ? http_resp_bytes(resp, 200, "text/html; charset=utf-8",
                                         b->data, b->len)
                       : LV_ENOMEM;
    lv_buf_free(b);
    return rc < 0 ? rc : http_lang_headers(resp, lang, chosen);
}

/* ---- the landing page ---------------------------------------------------- */

static void section_begin(lv_buf *b, const char *lang, const char *id,
                          const char *title_key)
{
    lv_buf_appendf(b, "<section aria-labelledby=\"%s\"><h2 id=\"%s\">", id, id);
    http_html_text(b, http_text(lang, title_key));
    lv_buf_appendf(b, "</h2>\n");
}

static void paragraph(lv_buf *b, const char *lang, const char *key)
{
    lv_buf_appendf(b, "<p>");
    http_html_text(b, http_text(lang, key));
    lv_buf_appendf(b, "</p>\n");
}

/* A list of links to the index's rows' "url", each named by its key. */
static void index_links(lv_buf *b, const char *lang, const char *heading_key,
                        const json_t *rows, const char *key)
{
    size_t i;
    json_t *row;
    lv_buf_appendf(b, "<h3>");
    http_html_text(b, http_text(lang, heading_key));
    lv_buf_appendf(b, "</h3>\n<ul>");
    json_array_foreach(rows, i, row)
    {
        lv_buf_appendf(b, "<li>");
        html_link(b, lv_json_str(row, "url"), lv_json_str(row, key));
        lv_buf_appendf(b, "</li>");
    }
    lv_buf_appendf(b, "</ul>\n");
}

static void home_repository(lv_buf *b, const char *lang, const json_t *idx)
{
    section_begin(b, lang, "repo", "home.repo.title");
    paragraph(b, lang, "home.repo.text");
    index_links(b, lang, "home.docs", json_object_get(idx, "documents"),
                "title");
    index_links(b, lang, "home.cas", json_object_get(idx, "ca_certificates"),
                "common_name");
    index_links(b, lang, "home.crls", json_object_get(idx, "crls"), "ca");
    lv_buf_appendf(b, "<p>");
    html_link(b, "/repository/", http_text(lang, "home.repo.index"));
    lv_buf_appendf(b, "</p></section>\n");
}

static void home_status(lv_buf *b, const char *lang, const lv_config *cfg)
{
    char url[400];
    section_begin(b, lang, "status", "home.status.title");
    lv_buf_appendf(b, "<dl><dt>");
    http_html_text(b, http_text(lang, "home.status.ocsp"));
    snprintf(url, sizeof url, "%s/ocsp", lv_status_url(cfg));
    lv_buf_appendf(b, "</dt><dd><code>");
    http_html_text(b, url);
    lv_buf_appendf(b, "</code></dd><dt>");
    http_html_text(b, http_text(lang, "home.status.tsa"));
    snprintf(url, sizeof url, "%s/tsa", lv_status_url(cfg));
    lv_buf_appendf(b, "</dt><dd><code>");
    http_html_text(b, url);
    lv_buf_appendf(b, "</code></dd></dl></section>\n");
}

static int home_page(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    int chosen;
    const char *lang = http_lang(req, &chosen);
    const lv_config *cfg = lv_app_config(app);
    lv_err err = {0};
    json_t *idx = NULL;
    lv_buf b = {0};
    if (lv_app_ca(app) == NULL)
        return http_resp_error(resp, LV_ESTATE, "no CA loaded");
    /* limit 0: the CAs, CRLs and documents, no published certificate */
    if (repo_index(lv_app_ca(app), req->st, 0, 0, &idx, &err) < 0)
        return http_resp_err(resp, &err);
    http_site_begin(&b, lang, cfg->org_name, http_text(lang, "home.title"),
                    "/");
    http_site_heading(&b, http_text(lang, "home.title"),
                      http_text(lang, "home.lead"));
    section_begin(&b, lang, "sign", "home.sign.title");
    paragraph(&b, lang, "home.sign.text");
    paragraph(&b, lang, "home.sign.register");
    /* issue 15 item 4: the citizen's own area */
    paragraph(&b, lang, "home.portal.text");
    lv_buf_appendf(&b, "<p>");
    html_link(&b, "/portal/", http_text(lang, "home.portal.link"));
    lv_buf_appendf(&b, "</p></section>\n");
    home_repository(&b, lang, idx);
    home_status(&b, lang, cfg);
    section_begin(&b, lang, "dev", "home.dev.title");
    paragraph(&b, lang, "home.dev.text");
    lv_buf_appendf(&b, "<p>");
    html_link(&b, "/csc/v2/info", http_text(lang, "home.dev.csc"));
    lv_buf_appendf(&b, "</p></section>\n");
    section_begin(&b, lang, "ops", "home.ops.title");
    paragraph(&b, lang, "home.ops.text");
    lv_buf_appendf(&b, "<p>");
    html_link(&b, "/console/", http_text(lang, "home.ops.console"));
    lv_buf_appendf(&b, "</p></section>\n");
    json_decref(idx);
    LV_TRY(http_site_send(resp, &b, lang, cfg->org_name, chosen));
    return http_resp_header(resp, "Cache-Control", "no-cache");
}

const lv_http_route http_site_routes[] = {
    HTTP_GET_PUBLIC("/", home_page),
    /* the pages' style sheet */
    HTTP_GET_PUBLIC("/web/site/{file}", http_web_asset_get),
    {0},
};
