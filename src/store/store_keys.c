/* Which key-store ids the database refers to (issue 11 item 8: the orphan
 * key sweep).  A key is referred to by the CA row it signs for or by the
 * certificate whose key pair it is. */
#include "store/store_driver.h"

#include <stdlib.h>
#include <string.h>

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

int store_key_ids(lv_store *st, char (**ids)[STORE_KEY_ID_CAP], size_t *n,
                  lv_err *err)
{
    store_q q;
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    store_q_prepare(&q, st,
                    "SELECT key_id FROM cas WHERE key_id <> '' UNION "
                    "SELECT key_id FROM certs WHERE key_id <> ''",
                    err);
    int rc;
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 1024;
            void *grown = realloc(*ids, cap * sizeof **ids);
            if (!grown) {
                rc = lv_fail(err, LV_ENOMEM, "out of memory");
                break;
            }
            *ids = grown;
        }
        if (store_q_col_copy(&q, 0, (*ids)[*n], STORE_KEY_ID_CAP) == 0)
            (*n)++;
    }
    store_q_finalize(&q);
    if (rc < 0) {
        free(*ids);
        *ids = NULL;
        *n = 0;
        return rc;
    }
    if (*n > 1)
        qsort(*ids, *n, sizeof **ids, id_cmp);
    return 0;
}
