/* The language of a page and its texts (issue 15 item 1).
 *
 * Every text a page shows lives in one catalogue per language,
 * web/i18n/<code>.json (a flat object: key -> text), compiled in with the
 * other web assets: adding a language is adding a file.  Spanish comes
 * first: it is the answer when nothing else decides and the text shown
 * when another catalogue lacks a key.
 *
 * The language of a request, in order: `?lang=` (the visible switch on
 * every page), the `llave_lang` cookie the switch sets, Accept-Language
 * (RFC 9110 §12.5.4: the highest q among the languages we have; the
 * primary subtag decides, so es-ES and es-419 are Spanish), Spanish. */
#include "http/http_internal.h"
#include "http/web_assets_internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define I18N_DIR "i18n/"
#define I18N_MAX 8 /* catalogues; each is a compiled-in file */
#define LANG_DEFAULT "es"
#define LANG_COOKIE "llave_lang"

typedef struct catalogue {
    char code[4];  /* ISO 639-1 from the file name: "es" */
    json_t *texts; /* key -> text, parsed once, never freed */
} catalogue;

static catalogue cats[I18N_MAX];
static size_t ncats;
static pthread_once_t cats_once = PTHREAD_ONCE_INIT;

/* "i18n/es.json" -> "es"; anything else is not a catalogue. */
static int catalogue_code(const char *path, char code[4])
{
    size_t n = strlen(I18N_DIR);
    if (strncmp(path, I18N_DIR, n) != 0 || strlen(path + n) != 7 ||
        strcmp(path + n + 2, ".json") != 0 ||
        !islower((unsigned char)path[n]) ||
        !islower((unsigned char)path[n + 1]))
        return 0;
    memcpy(code, path + n, 2);
    code[2] = '\0';
    return 1;
}

static void catalogues_load(void)
{
    for (size_t i = 0; i < lv_web_assets_count && ncats < I18N_MAX; i++) {
        const lv_web_asset *a = &lv_web_assets[i];
        char code[4];
        if (!catalogue_code(a->path, code))
            continue;
        /* our own file, checked by tests/integration/test_site.py; a
         * broken one is skipped rather than served half */
        json_t *t = json_loadb((const char *)a->data, a->len, 0, NULL);
        if (!json_is_object(t)) {
            json_decref(t);
            continue;
        }
        memcpy(cats[ncats].code, code, sizeof code);
        cats[ncats++].texts = t;
    }
}

static const catalogue *catalogue_find(const char *code, size_t len)
{
    pthread_once(&cats_once, catalogues_load);
    for (size_t i = 0; code && i < ncats; i++)
        if (strlen(cats[i].code) == len &&
            strncasecmp(cats[i].code, code, len) == 0)
            return &cats[i];
    return NULL;
}

size_t http_langs(const char **codes, size_t cap)
{
    pthread_once(&cats_once, catalogues_load);
    size_t n = 0;
    for (size_t i = 0; i < ncats && n < cap; i++)
        codes[n++] = cats[i].code;
    return n;
}

const char *http_text(const char *lang, const char *key)
{
    const catalogue *c = catalogue_find(lang, lang ? strlen(lang) : 0);
    const char *t =
        c ? json_string_value(json_object_get(c->texts, key)) : NULL;
    if (t == NULL && (c = catalogue_find(LANG_DEFAULT, 2)) != NULL)
        t = json_string_value(json_object_get(c->texts, key));
    return t ? t : key; /* a missing text shows its key, never nothing */
}

/* The catalogue named by the value of a cookie in a Cookie header. */
static const catalogue *cookie_lang(const char *header)
{
    size_t n = strlen(LANG_COOKIE);
    for (const char *p = header; p && *p;) {
        p += strspn(p, " ;");
        if (strncmp(p, LANG_COOKIE, n) == 0 && p[n] == '=')
            return catalogue_find(p + n + 1, strcspn(p + n + 1, "; "));
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

static const catalogue *accept_lang(const char *header)
{
    const catalogue *best = NULL;
    int best_q = 0;
    for (const char *p = header; p && *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, ",");
        size_t tag = strcspn(p, ";-, ");
        int q = accept_q(p, len);
        const catalogue *c = tag <= len ? catalogue_find(p, tag) : NULL;
        if (c && q > best_q) {
            best = c;
            best_q = q;
        }
        p += len;
    }
    return best;
}

const char *http_lang(const lv_http_req *req, int *chosen)
{
    const char *q = http_req_query(req, "lang");
    const catalogue *c = q ? catalogue_find(q, strlen(q)) : NULL;
    if (chosen)
        *chosen = c != NULL;
    if (!c)
        c = cookie_lang(http_req_header(req, "Cookie"));
    if (!c)
        c = accept_lang(http_req_header(req, "Accept-Language"));
    if (!c)
        c = catalogue_find(LANG_DEFAULT, 2);
    return c ? c->code : LANG_DEFAULT;
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
