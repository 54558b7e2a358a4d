/* keys/ internals shared by the files of the file back end.  Nothing here is
 * visible outside src/keys: the rest of llave sees only keys.h (R5.1). */
#ifndef LLAVE_KEYS_INTERNAL_H
#define LLAVE_KEYS_INTERNAL_H

#include "keys/keys.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#define LV_MASTER_KEY_LEN 32 /* AES-256 */
#define LV_SHARE_LEN LV_MASTER_KEY_LEN
#define LV_GCM_NONCE_LEN 12 /* 96 bits: the GCM fast path (SP 800-38D) */
#define LV_GCM_TAG_LEN 16
#define LV_KEY_LABEL_MAX 128
#define LV_KEY_BUCKETS 256 /* ids are random: the first byte spreads them */
#define LV_KEYS_PATH_MAX 4096

/* One custodian share: x-coordinate 1..3 and the 32 polynomial bytes. */
typedef struct {
    unsigned char index;
    unsigned char bytes[LV_SHARE_LEN];
} lv_share;

/* Metadata of a key file; all of it is bound into the AAD so that a file
 * cannot be renamed, swapped or relabeled unnoticed. */
typedef struct {
    lv_key_type type;
    lv_key_class cls;
    char label[LV_KEY_LABEL_MAX + 1];
    char created[32];
} lv_key_meta;

typedef struct lv_key_entry {
    char id[LV_KEY_ID_LEN + 1];
    lv_key_meta meta;
    EVP_PKEY *pkey;
    struct lv_key_entry *next;
} lv_key_entry;

struct lv_keystore {
    char dir[LV_KEYS_PATH_MAX]; /* DIR/keys */
    unsigned char *master;      /* secure heap, LV_MASTER_KEY_LEN bytes */
    pthread_mutex_t lock;       /* guards buckets and generation */
    uint64_t generation;        /* bumped by keys_destroy, see cache_put */
    lv_key_entry *buckets[LV_KEY_BUCKETS];
    /* keys_signer.c: pending activation tokens (R5.2), under `lock` */
    struct keys_activation *activations;
    size_t activations_pending;
};

/* keys_share.c: printable shares and Shamir splitting (libgfshare). */
int keys_share_parse(const char *text, lv_share *out, lv_err *err);
void keys_share_format(const lv_share *s, char out[LV_SHARE_TEXT_MAX]);
void keys_share_digest(const lv_share *s, unsigned char out[32]);
int keys_share_split(const unsigned char master[LV_MASTER_KEY_LEN],
                     lv_share out[LV_SHARES_TOTAL], lv_err *err);
int keys_share_combine(const lv_share *shares, size_t n,
                       unsigned char master[LV_MASTER_KEY_LEN], lv_err *err);

/* keys_gcm.c: AES-256-GCM with a fresh random nonce per seal. */
int keys_gcm_seal(const unsigned char *key, const unsigned char *aad,
                  size_t aad_len, const unsigned char *pt, size_t len,
                  unsigned char nonce[LV_GCM_NONCE_LEN], unsigned char *ct,
                  unsigned char tag[LV_GCM_TAG_LEN], lv_err *err);
int keys_gcm_open(const unsigned char *key, const unsigned char *aad,
                  size_t aad_len, const unsigned char nonce[LV_GCM_NONCE_LEN],
                  const unsigned char *ct, size_t len,
                  const unsigned char tag[LV_GCM_TAG_LEN], unsigned char *pt,
                  lv_err *err);

/* keys_file.c: one sealed private key per file. */
int keys_file_write(const char *path, const char *id, const lv_key_meta *meta,
                    const unsigned char *master, EVP_PKEY *pkey, lv_err *err);
int keys_json_hex(const json_t *o, const char *key, unsigned char *out,
                  size_t len);
int keys_file_read(const char *path, const char *id,
                   const unsigned char *master, lv_key_meta *meta,
                   EVP_PKEY **pkey, lv_err *err);

/* keys_store.c: makes a rename, link or unlink in dir durable. */
int keys_fsync_dir(const char *dir, lv_err *err);

/* keys.c: the cached private key of `id` (a new reference the caller
 * frees) and its class, for keys_signer.c. */
int keys_acquire_private(lv_keystore *ks, const char *id, EVP_PKEY **pkey,
                         lv_key_class *cls, lv_err *err);

/* keys_signer.c: drops every pending activation token (keys_close). */
void keys_activations_free(lv_keystore *ks);

/* keys_types.c */
int keys_type_check(lv_key_type type, EVP_PKEY *pkey);
int keys_type_generate(lv_key_type type, EVP_PKEY **out, lv_err *err);
int keys_class_parse(const char *name, lv_key_class *out);
int keys_label_valid(const char *label);
int keys_id_valid(const char *id);

#endif
