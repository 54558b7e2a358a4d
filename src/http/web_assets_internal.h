/* Internal to http/: the static pages of web/, compiled into the binaries by
 * cmake/embed_web.cmake and served by http_web.c. */
#ifndef LLAVE_WEB_ASSETS_INTERNAL_H
#define LLAVE_WEB_ASSETS_INTERNAL_H

#include <stddef.h>

typedef struct lv_web_asset {
    const char *path; /* relative to web/: "sign/index.html" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} lv_web_asset;

extern const lv_web_asset lv_web_assets[];
extern const size_t lv_web_assets_count;

#endif
