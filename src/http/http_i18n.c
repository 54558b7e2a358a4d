/* The language of a page and its texts (issue 15 item 1).
 *
 * Every text a page shows lives in one catalogue per language,
 * web/i18n/<code>.json (a flat object: key -> text), which core/i18n.c
 * holds for every program: adding a language is adding a file.  Spanish
 * comes first: it is the answer when nothing else decides and the text
 * shown when another catalogue lacks a key.
 *
 * The language of a request, in order: `?lang=` (the visible switch on
 * every page), the `llave_lang` cookie the switch sets, Accept-Language
 * (RFC 9110 §12.5.4: the highest q among the languages we have; the
 * primary subtag decides, so es-ES and es-419 are Spanish), Spanish. */
#include "http/http_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LANG_COOKIE "llave_lang"

size_t http_langs(const char **codes, size_t cap)
{
    return lv_langs(codes, cap);
}

const char *http_text(const char *lang, const char *key)
{
    return lv_text(lang, key);
}

/* The catalogue named by the value of a cookie in a Cookie header. */
static const char *cookie_lang(const char *header)
{
    size_t n = strlen(LANG_COOKIE);
    for (const char *p = header; p && *p;) {
        p += strspn(p, " ;");
        if (strncmp(p, LANG_COOKIE, n) == 0 && p[n] == '=')
            return lv_lang_find(p + n + 1, strcspn(p + n + 1, "; "));
        p += strcspn(p, ";");
    }
    return NULL;
}

/* The q of one Accept-Language member's parameters (";q=0.8"): 1000ths. */
static int accept_q(const char *params, size_t len)
{
    const char *q = NULL;
    for (size_t i = 0; i + 2 < len; i++)
        if (params[i] == ';') {
            size_t j = i + 1 + strspn(params + i + 1, " ");
            if (j + 1 < len && tolower((unsigned char)params[j]) == 'q' &&
                params[j + 1] == '=')
                q = params + j + 2;
        }
    if (q == NULL)
        return 1000;
    double v = strtod(q, NULL);
    return v <= 0 ? 0 : v >= 1 ? 1000 : (int)(v * 1000 + 0.5);
}

static const char *accept_lang(const char *header)
{
    const char *best = NULL;
    int best_q = 0;
    for (const char *p = header; p && *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, ",");
        size_t tag = strcspn(p, ";-, ");
        int q = accept_q(p, len);
        const char *c = tag <= len ? lv_lang_find(p, tag) : NULL;
        if (c && q > best_q) {
            best = c;
            best_q = q;
        }
        p += len;
    }
    return best;
}

static const char *lang_named(const lv_http_req *req, int *chosen)
{
    const char *q = http_req_query(req, "lang");
    const char *c = q ? lv_lang_find(q, strlen(q)) : NULL;
    if (chosen)
        *chosen = c != NULL;
    if (!c)
        c = cookie_lang(http_req_header(req, "Cookie"));
    if (!c)
        c = accept_lang(http_req_header(req, "Accept-Language"));
    return c;
}

const char *http_lang_named(const lv_http_req *req)
{
    return lang_named(req, NULL);
}

const char *http_lang(const lv_http_req *req, int *chosen)
{
    const char *c = lang_named(req, chosen);
    return c ? c : LV_LANG_DEFAULT;
}

lv_sign_env http_sign_env(lv_app *app, const lv_http_req *req)
{
    return (lv_sign_env){.cfg = lv_app_config(app),
                         .ca = lv_app_ca(app),
                         .auth = lv_app_auth(app),
                         .remote_addr = req->remote_addr,
                         .lang = http_lang(req, NULL)};
}

int http_lang_headers(lv_http_resp *resp, const char *lang, int chosen)
{
    char cookie[96];
    /* the answer depends on these: caches must not give one reader's
     * language to another */
    LV_TRY(http_resp_header(resp, "Vary", "Accept-Language, Cookie"));
    if (!chosen)
        return 0;
    /* not a secret: the reader's choice, kept a year */
    snprintf(cookie, sizeof cookie,
             LANG_COOKIE "=%s; Path=/; Max-Age=31536000; SameSite=Lax", lang);
    return http_resp_header(resp, "Set-Cookie", cookie);
}
