/* JSON helpers on top of jansson. */
#include "core/core.h"

#include <stdlib.h>

/* Configuration and request files are small; a bound keeps a wrong path
 * (a disk image, /dev/zero) from exhausting memory. */
#define JSON_FILE_MAX (4u << 20)

const char *lv_json_str(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
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
