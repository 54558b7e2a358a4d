/* The catalogues of web/i18n/ (issue 15 item 1): parsed once, on first
 * use, from the copies compiled in (cmake/embed_i18n.cmake), and never
 * freed.  A catalogue that does not parse as a JSON object is left out
 * rather than used half (tests/integration/test_site.py checks them). */
#include "core/core.h"
#include "core/i18n_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#define I18N_MAX 8

typedef struct catalogue {
    const char *code;
    json_t *texts; /* key -> text */
} catalogue;

static catalogue cats[I18N_MAX];
static size_t ncats;
static pthread_once_t cats_once = PTHREAD_ONCE_INIT;

static void catalogues_load(void)
{
    for (size_t i = 0; i < lv_catalogue_srcs_count && ncats < I18N_MAX; i++) {
        const lv_catalogue_src *c = &lv_catalogue_srcs[i];
        json_t *t = json_loadb((const char *)c->data, c->len, 0, NULL);
        if (strlen(c->code) != 2 || !json_is_object(t)) {
            json_decref(t);
            continue;
        }
        cats[ncats].code = c->code;
        cats[ncats++].texts = t;
    }
}

static const catalogue *catalogue_find(const char *tag, size_t len)
{
    pthread_once(&cats_once, catalogues_load);
    for (size_t i = 0; tag && i < ncats; i++)
        if (len == 2 && strncasecmp(cats[i].code, tag, 2) == 0)
            return &cats[i];
    return NULL;
}

const char *lv_lang_find(const char *tag, size_t len)
{
    const catalogue *c = catalogue_find(tag, len);
    return c ? c->code : NULL;
}

size_t lv_langs(const char **codes, size_t cap)
{
    pthread_once(&cats_once, catalogues_load);
    size_t n = 0;
    for (size_t i = 0; i < ncats && n < cap; i++)
        codes[n++] = cats[i].code;
    return n;
}

const char *lv_text(const char *lang, const char *key)
{
    const catalogue *c = catalogue_find(lang, lang ? strlen(lang) : 0);
    const char *t =
        c ? json_string_value(json_object_get(c->texts, key)) : NULL;
    if (t == NULL && (c = catalogue_find(LV_LANG_DEFAULT, 2)) != NULL)
        t = json_string_value(json_object_get(c->texts, key));
    return t ? t : key;
}

/* The value of {name} (the name between the braces at p, len long). */
static const char *fill_value(const char *p, size_t len, va_list ap)
{
    va_list vars;
    va_copy(vars, ap);
    const char *found = NULL;
    for (const char *n = va_arg(vars, const char *); n && !found;
         n = va_arg(vars, const char *)) {
        const char *v = va_arg(vars, const char *);
        if (strlen(n) == len && strncmp(n, p, len) == 0)
            found = v ? v : "";
    }
    va_end(vars);
    return found;
}

int lv_text_fill(char *out, size_t cap, const char *lang, const char *key, ...)
{
    const char *t = lv_text(lang, key);
    size_t used = 0;
    va_list ap;
    va_start(ap, key);
    while (*t) {
        const char *close = *t == '{' ? strchr(t, '}') : NULL;
        const char *v =
            close ? fill_value(t + 1, (size_t)(close - t - 1), ap) : NULL;
        size_t n = v ? strlen(v) : 1;
        if (used + n >= cap) {
            va_end(ap);
            return LV_EINVAL;
        }
        memcpy(out + used, v ? v : t, n);
        used += n;
        t = v ? close + 1 : t + 1;
    }
    va_end(ap);
    out[used] = '\0';
    return 0;
}
