/* JSON helpers on top of jansson. */
#include "core/core.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Configuration and request files are small; a bound keeps a wrong path
 * (a disk image, /dev/zero) from exhausting memory. */
#define JSON_FILE_MAX (4u << 20)

const char *lv_json_str(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int text_ok(const char *s, const char *key, size_t max_len,
                   const lv_text_member *m, lv_err *err)
{
    size_t len = strlen(s);
    if (len == 0 || len > max_len)
        return lv_fail(err, LV_EINVAL, "%s '%s' must have 1 to %zu %s",
                       m->label, key, max_len, m->unit);
    if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1]))
        return lv_fail(err, LV_EINVAL, "%s '%s' has leading or trailing blanks",
                       m->label, key);
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return lv_fail(err, LV_EINVAL, "%s '%s' has control characters",
                           m->label, key);
    }
    return 0;
}

int lv_json_text(const json_t *obj, const char *key, int required,
                 size_t max_len, const lv_text_member *m, const char **out,
                 lv_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return lv_fail(err, LV_EINVAL, "%s '%s' is required", m->label,
                           key);
        return 0;
    }
    if (!json_is_string(v))
        return lv_fail(err, LV_EINVAL, "%s '%s' must be a string", m->label,
                       key);
    /* C code downstream would cut the text at a NUL */
    if (m->refuse_nul && strlen(json_string_value(v)) != json_string_length(v))
        return lv_fail(err, LV_EINVAL, "%s '%s' holds a NUL character",
                       m->label, key);
    LV_TRY(text_ok(json_string_value(v), key, max_len, m, err));
    *out = json_string_value(v);
    return 0;
}

int lv_text_country(const char *c, const char *key, const lv_text_member *m,
                    lv_err *err)
{
    if (strlen(c) != 2 || !isupper((unsigned char)c[0]) ||
        !isupper((unsigned char)c[1]))
        return lv_fail(err, LV_EINVAL,
                       "%s '%s' must be an ISO 3166 alpha-2 code such as ES",
                       m->label, key);
    return 0;
}

size_t lv_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) /* RFC 3629 §3: every character but its 10xxxxxx bytes */
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int lv_json_load_file(const char *path, json_t **out, lv_err *err)
{
    unsigned char *data;
    size_t len;
    *out = NULL;
    LV_TRY(lv_file_read(path, &data, &len, JSON_FILE_MAX, err));
    json_error_t je;
    json_t *j =
        json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
    free(data);
    if (!j)
        return lv_fail(err, LV_EINVAL, "%s:%d:%d: %s", path, je.line, je.column,
                       je.text);
    *out = j;
    return 0;
}
