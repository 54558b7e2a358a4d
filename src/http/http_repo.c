/* The public repository (R8.1, R8.2, CPS §2), read-only over HTTP:
 *   GET /ca/{name}.crt             CA certificates (the AIA caIssuers URL)
 *   GET /repository/               index, HTML or JSON (Accept or ?format=json)
 *   GET /repository/{doc}          CPS and PDS (the QcPDS URLs)
 *   GET /repository/cert/{serial}.crt  certificates whose holder consented
 * CRLs have their own file, http_crl.c.  Every change to the repository is
 * made with the operator console and audited. */
#include "http/http_internal.h"
#include "repo/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_LIMIT_DEFAULT 100
#define INDEX_LIMIT_MAX 1000

/* Short names are what the configuration accepts (a-z, 0-9, -); anything
 * else cannot name a CA and is not echoed back. */
static int repo_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < 32 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* A CA created after llaved loaded its context (a key change-over, R6.6)
 * is served from the store. */
static int repo_ca_cert_stored(lv_app *app, const lv_http_req *req,
                               lv_http_resp *resp)
{
    lv_err err = {0};
    unsigned char *der = NULL;
    size_t len = 0;
    if (repo_ca_cert(lv_app_ca(app), req->st, req->param, &der, &len, &err) < 0)
        return http_resp_error(resp, LV_ENOTFOUND, "no CA certificate named %s",
                               req->param);
    int rc = http_resp_bytes(resp, 200, "application/pkix-cert", der, len);
    free(der);
    return rc < 0 ? rc
                  : http_resp_header(resp, "Cache-Control",
                                     "public, max-age=86400");
}

static int ca_cert_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    const lv_ca *ca = lv_app_ca(app);
    const unsigned char *der = NULL;
    size_t len = 0;
    if (!repo_name_ok(req->param) || ca == NULL)
        return http_resp_error(resp, LV_ENOTFOUND, "no such CA certificate");
    if (ca_cert_der(ca, req->param, &der, &len) < 0 || !der)
        return repo_ca_cert_stored(app, req, resp);
    /* The DER is cached in the CA context, which outlives the server. */
    LV_TRY(http_resp_static(resp, 200, "application/pkix-cert", der, len));
    /* CA certificates change only at a ceremony: let caches keep them. */
    return http_resp_header(resp, "Cache-Control", "public, max-age=86400");
}

/* ---- the index ------------------------------------------------------------
 */

/* One row: the values of cols, the first a link to the row's "url". */
static void html_row(lv_buf *b, const json_t *row, const char *const *cols)
{
    const char *url = lv_json_str(row, "url");
    lv_buf_appendf(b, "<tr>");
    for (const char *const *c = cols; *c; c++) {
        json_t *v = json_object_get(row, *c);
        char num[32] = "";
        const char *text = json_is_string(v) ? json_string_value(v) : "";
        if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            text = num;
        }
        lv_buf_appendf(b, "<td>");
        if (c == cols && url) {
            lv_buf_appendf(b, "<a href=\"");
            http_html_text(b, url);
            lv_buf_appendf(b, "\">");
        }
        http_html_text(b, text);
        lv_buf_appendf(b, c == cols && url ? "</a></td>" : "</td>");
    }
    lv_buf_appendf(b, "</tr>\n");
}

/* One table: a caption, a header row, then one row per object with `cols`
 * keys (their headings are the catalogue's col.<key>); the first column
 * links to the row's "url". */
static void html_table(lv_buf *b, const char *lang, const char *title_key,
                       const json_t *rows, const char *const *cols)
{
    size_t i;
    json_t *row;
    char key[48];
    lv_buf_appendf(b, "<section><h2>");
    http_html_text(b, http_text(lang, title_key));
    lv_buf_appendf(b, "</h2>\n");
    if (json_array_size(rows) == 0) {
        lv_buf_appendf(b, "<p>");
        http_html_text(b, http_text(lang, "repo.none"));
        lv_buf_appendf(b, "</p></section>\n");
        return;
    }
    lv_buf_appendf(b, "<div class=\"scroll\"><table>\n<thead><tr>");
    for (const char *const *c = cols; *c; c++) {
        snprintf(key, sizeof key, "col.%s", *c);
        lv_buf_appendf(b, "<th scope=\"col\">");
        http_html_text(b, http_text(lang, key));
        lv_buf_appendf(b, "</th>");
    }
    lv_buf_appendf(b, "</tr></thead>\n<tbody>\n");
    json_array_foreach(rows, i, row)
    {
        html_row(b, row, cols);
    }
    lv_buf_appendf(b, "</tbody></table></div></section>\n");
}

static int index_html(lv_http_resp *resp, const lv_http_req *req,
                      const json_t *idx)
{
    static const char *const ca_cols[] = {
        "name", "role", "status", "subject", "not_after", "sha256", NULL};
    static const char *const crl_cols[] = {
        "ca", "crl_number", "this_update", "next_update", "entries", NULL};
    static const char *const doc_cols[] = {"name", "title", "lang", "sha256",
                                           NULL};
    static const char *const cert_cols[] = {"serial", "subject",   "profile",
                                            "status", "not_after", NULL};
    int chosen;
    const char *lang = http_lang(req, &chosen);
    const char *provider = lv_json_str(idx, "provider");
    lv_buf b = {0};
    http_site_begin(&b, lang, provider, http_text(lang, "repo.title"),
                    "/repository/");
    http_site_heading(&b, http_text(lang, "repo.title"),
                      http_text(lang, "repo.lead"));
    html_table(&b, lang, "repo.cas", json_object_get(idx, "ca_certificates"),
               ca_cols);
    html_table(&b, lang, "repo.crls", json_object_get(idx, "crls"), crl_cols);
    html_table(&b, lang, "repo.docs", json_object_get(idx, "documents"),
               doc_cols);
    html_table(&b, lang, "repo.published", json_object_get(idx, "certificates"),
               cert_cols);
    lv_buf_appendf(&b, "<p><a href=\"?format=json\">");
    http_html_text(&b, http_text(lang, "repo.json"));
    lv_buf_appendf(&b, "</a></p>\n");
    return http_site_send(resp, &b, lang, provider, chosen);
}

static int wants_json(const lv_http_req *req)
{
    const char *fmt = http_req_query(req, "format");
    const char *accept = http_req_header(req, "Accept");
    if (fmt != NULL)
        return strcmp(fmt, "json") == 0;
    return accept != NULL && strstr(accept, "application/json") != NULL &&
           strstr(accept, "text/html") == NULL;
}

/* A non-negative decimal query argument up to max; def when absent. */
static int query_count(const lv_http_req *req, const char *name, long def,
                       long max, long *out)
{
    const char *v = http_req_query(req, name);
    char *end;
    *out = def;
    if (v == NULL)
        return 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < 0 || n > max)
        return LV_EINVAL;
    *out = n;
    return 0;
}

static int index_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    json_t *idx = NULL;
    long offset, limit;
    const char *fmt = http_req_query(req, "format");
    if (fmt != NULL && strcmp(fmt, "json") != 0 && strcmp(fmt, "html") != 0)
        return http_resp_error(resp, LV_EINVAL, "format must be json or html");
    if (query_count(req, "offset", 0, 1L << 30, &offset) < 0 ||
        query_count(req, "limit", INDEX_LIMIT_DEFAULT, INDEX_LIMIT_MAX,
                    &limit) < 0)
        return http_resp_error(resp, LV_EINVAL,
                               "offset must be 0 or more and limit 0..%d",
                               INDEX_LIMIT_MAX);
    if (lv_app_ca(app) == NULL)
        return http_resp_error(resp, LV_ESTATE, "no CA loaded");
    if (repo_index(lv_app_ca(app), req->st, offset, limit, &idx, &err) < 0)
        return http_resp_err(resp, &err);
    int rc = wants_json(req) ? http_resp_json(resp, 200, idx)
                             : index_html(resp, req, idx);
    json_decref(idx);
    /* the index changes with every CRL: short cache (http_site_send adds
     * Vary for the HTML's language) */
    return rc < 0
               ? rc
               : http_resp_header(resp, "Cache-Control", "public, max-age=60");
}

/* ---- documents and published certificates
 * -------------------------------------- */

static int repo_doc(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    const lv_repo_doc *doc = repo_doc_find(req->param);
    unsigned char *data = NULL;
    size_t len = 0;
    lv_err err = {0};
    if (doc == NULL)
        return http_resp_error(resp, LV_ENOTFOUND,
                               "no such document in the repository");
    if (repo_doc_read(lv_app_config(app), doc, &data, &len, &err) < 0)
        return http_resp_error(resp, LV_ENOTFOUND, "%s is not published",
                               doc->name);
    int rc = http_resp_bytes(resp, 200, doc->content_type, data, len);
    free(data);
    return rc < 0 ? rc
                  : http_resp_header(resp, "Cache-Control",
                                     "public, max-age=3600");
}

static int repo_cert(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char serial[65];
    lv_err err = {0};
    unsigned char *der = NULL;
    size_t len = 0;
    if (ca_serial_normalize(req->param, serial, &err) < 0)
        return http_resp_error(resp, LV_ENOTFOUND,
                               "no such published certificate");
    if (repo_published_cert(lv_app_ca(app), req->st, serial, &der, &len, &err) <
        0)
        return http_resp_err(resp, &err);
    int rc = http_resp_bytes(resp, 200, "application/pkix-cert", der, len);
    free(der);
    return rc < 0
               ? rc
               : http_resp_header(resp, "Cache-Control", "public, max-age=300");
}

const lv_http_route http_repo_routes[] = {
    HTTP_GET_PUBLIC("/ca/{name}.crt", ca_cert_get),
    HTTP_GET_PUBLIC("/repository/", index_get),
    HTTP_GET_PUBLIC("/repository", index_get),
    HTTP_GET_PUBLIC("/repository/cert/{serial}.crt", repo_cert),
    HTTP_GET_PUBLIC("/repository/{name}", repo_doc),
    {0},
};
