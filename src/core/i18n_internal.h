/* The catalogues compiled in from web/i18n/ (cmake/embed_i18n.cmake). */
#ifndef LLAVE_CORE_I18N_INTERNAL_H
#define LLAVE_CORE_I18N_INTERNAL_H

#include <stddef.h>

typedef struct lv_catalogue_src {
    const char *code; /* ISO 639-1, from the file name: "es" */
    const unsigned char *data;
    size_t len;
} lv_catalogue_src;

extern const lv_catalogue_src lv_catalogue_srcs[];
extern const size_t lv_catalogue_srcs_count;

#endif
