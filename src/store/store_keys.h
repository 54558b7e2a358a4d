/* store/store_keys.h — the key ids the rows name (store_keys.c).  Owner:
 * keyd/ (its orphan-key sweep). */
#ifndef LLAVE_STORE_KEYS_H
#define LLAVE_STORE_KEYS_H

#include "core/core.h"

#include <stdint.h>

/* ---- key references (store_keys.c) --------------------------------------
 * Every key id a CA or certificate row names, sorted (strcmp) for bsearch:
 * the orphan-key sweep deletes key files no row names.  Caller frees. */
#define STORE_KEY_ID_CAP 64
int store_key_ids(lv_store *st, char (**ids)[STORE_KEY_ID_CAP], size_t *n,
                  lv_err *err) LV_MUST_USE;

#endif
