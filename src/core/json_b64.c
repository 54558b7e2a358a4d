/* Binary values in JSON bodies and export lines: base64 strings. */
#include "core/core.h"

#include <stdlib.h>

json_t *lv_json_b64(const unsigned char *p, size_t n)
{
    char *b = NULL;
    if (lv_b64_encode(p, n, &b) < 0)
        return NULL;
    json_t *s = json_string(b);
    free(b);
    return s;
}
