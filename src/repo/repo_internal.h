/* Internal to repo/: the placeholder policy documents compiled into the
 * binaries (the docs/policy sources typeset by groff at build time, see
 * cmake/embed_docs.cmake). */
#ifndef LLAVE_REPO_INTERNAL_H
#define LLAVE_REPO_INTERNAL_H

#include <stddef.h>

typedef struct lv_policy_doc {
    const char *name; /* "pds-en.pdf" */
    const unsigned char *data;
    size_t len;
} lv_policy_doc;

extern const lv_policy_doc lv_policy_docs[];
extern const size_t lv_policy_docs_count;

#endif
