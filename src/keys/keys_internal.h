/* keys/ internals shared by the files of the file back end.  Nothing here is
 * visible outside src/keys: the rest of llave sees only keys.h (R5.1). */
#ifndef LLAVE_KEYS_INTERNAL_H
#define LLAVE_KEYS_INTERNAL_H

#include "keys/keys.h"

#include <limits.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdint.h>

#define LV_MASTER_KEY_LEN 32 /* AES-256 */
#define LV_SHARE_LEN LV_MASTER_KEY_LEN
#define LV_GCM_NONCE_LEN 12 /* 96 bits: the GCM fast path (SP 800-38D) */
#define LV_GCM_TAG_LEN 16
#define LV_KEY_LABEL_MAX 128
#define LV_KEY_BUCKETS 256 /* ids are random: the first byte spreads them */
#define LV_KEYS_PATH_MAX 4096
#define LV_P11_ID_LEN (LV_KEY_ID_LEN / 2) /* CKA_ID: the raw key id */
#define LV_P11_BLOB_MAX 8192              /* a wrapped RSA-4096 key: ~2.4 KiB */
#define LV_P11_PIN_MAX 256

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
    int p11; /* 1: the key is on (or wrapped by) the PKCS#11 token */
} lv_key_meta;

/* How a PKCS#11 key is reached: the token object whose CKA_ID is the raw
 * key id, or (citizens' keys) a blob wrapped under the token's AES key. */
typedef struct {
    unsigned char id[LV_P11_ID_LEN];
    unsigned char *blob; /* NULL: the key lives on the token */
    size_t blob_len;
} keys_p11_key;

typedef struct keys_p11 keys_p11;

typedef struct lv_key_entry {
    char id[LV_KEY_ID_LEN + 1];
    lv_key_meta meta;
    EVP_PKEY *pkey;    /* file: the private key; PKCS#11: the public key */
    keys_p11_key *p11; /* PKCS#11 only */
    struct lv_key_entry *next;
} lv_key_entry;

/* A key handed to one operation, with its own references (a concurrent
 * keys_destroy cannot free it mid-signature). */
typedef struct {
    lv_key_meta meta;
    EVP_PKEY *pkey;
    keys_p11_key p11; /* valid when meta.p11 */
} keys_ref;

struct lv_keystore {
    char dir[LV_KEYS_PATH_MAX]; /* DIR/keys */
    unsigned char *master;      /* secure heap, LV_MASTER_KEY_LEN bytes */
    pthread_mutex_t lock;       /* guards buckets and generation */
    uint64_t generation;        /* bumped by keys_destroy, see cache_put */
    lv_key_entry *buckets[LV_KEY_BUCKETS];
    /* keys_signer.c: pending activation tokens (R5.2), under `lock` */
    struct keys_activation *activations;
    size_t activations_pending;
    keys_p11 *p11; /* NULL: the file back end */
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

/* keys_file.c: one sealed key per file.  File back end: the PKCS#8 of the
 * private key.  PKCS#11 (meta->p11): the SubjectPublicKeyInfo DER followed
 * by the wrapped private key of a citizen's key (nothing for a token key);
 * keys_file_read then gives the public key and fills *p11. */
int keys_file_write(const char *path, const char *id, const lv_key_meta *meta,
                    const unsigned char *master, EVP_PKEY *pkey,
                    const keys_p11_key *p11, lv_err *err);
int keys_json_hex(const json_t *o, const char *key, unsigned char *out,
                  size_t len);
int keys_file_read(const char *path, const char *id,
                   const unsigned char *master, lv_key_meta *meta,
                   EVP_PKEY **pkey, keys_p11_key *p11, lv_err *err);

/* Calls fn for every key file of kdir whose metadata parses (nothing is
 * unsealed: works on a sealed store). */
int keys_file_each(const char *kdir,
                   void (*fn)(void *arg, const char *id, const lv_key_meta *m),
                   void *arg, lv_err *err);

/* keys_store.c: makes a rename, link or unlink in dir durable. */
int keys_fsync_dir(const char *dir, lv_err *err);

/* keys.c: the key `id` (cached) for keys_signer.c; keys_ref_put drops it. */
int keys_ref_get(lv_keystore *ks, const char *id, keys_ref *out, lv_err *err);
void keys_ref_put(keys_ref *r);
/* keys_close: frees every cached key. */
void keys_cache_free(lv_keystore *ks);
/* Signs n digests of md with the key, on either back end: PKCS#1 v1.5 for
 * RSA (CPS §7.1.3), DER ECDSA.  *sigs (malloc) holds n signatures of
 * *sig_len bytes each; n > 1 needs signatures of one length (RSA). */
int keys_ref_sign(lv_keystore *ks, const keys_ref *r, const EVP_MD *md,
                  const unsigned char *digests, size_t n, unsigned char **sigs,
                  size_t *sig_len, lv_err *err);

/* keys_signer.c: drops every pending activation token (keys_close). */
void keys_activations_free(lv_keystore *ks);

/* keys_types.c */
int keys_type_check(lv_key_type type, EVP_PKEY *pkey);
int keys_type_generate(lv_key_type type, EVP_PKEY **out, lv_err *err);
int keys_class_parse(const char *name, lv_key_class *out);
int keys_label_valid(const char *label);
int keys_id_valid(const char *id);

/* keys_p11.c: module, token, sessions, objects, key generation. */
int keys_p11_open(const char *module, const char *token, const char *pin,
                  const unsigned char *wrap_id, keys_p11 **out, lv_err *err);
void keys_p11_close(keys_p11 *p);
int keys_p11_wrap_key_create(keys_p11 *p, const unsigned char id[LV_P11_ID_LEN],
                             lv_err *err);
int keys_p11_generate(keys_p11 *p, lv_key_type type, int in_token,
                      const unsigned char id[LV_P11_ID_LEN], const char *label,
                      EVP_PKEY **pub_out, unsigned char **wrapped,
                      size_t *wrapped_len, lv_err *err);
int keys_p11_destroy(keys_p11 *p, const unsigned char *id, size_t id_len,
                     lv_err *err);
int keys_p11_session(keys_p11 *p, CK_SESSION_HANDLE *s, lv_err *err);
void keys_p11_release(keys_p11 *p, CK_SESSION_HANDLE s, int ok);
int keys_p11_find(keys_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                  const unsigned char *id, size_t id_len, CK_OBJECT_HANDLE *h,
                  lv_err *err);
int keys_p11_fail(lv_err *err, CK_RV rv, const char *what);
/* The handle cache of token keys by CKA_ID (1: found). */
int keys_p11_handle_get(keys_p11 *p, const unsigned char id[LV_P11_ID_LEN],
                        CK_OBJECT_HANDLE *h);
void keys_p11_handle_put(keys_p11 *p, const unsigned char id[LV_P11_ID_LEN],
                         CK_OBJECT_HANDLE h);
void keys_p11_handle_drop(keys_p11 *p, const unsigned char *id, size_t id_len);
const char *keys_p11_rv_name(CK_RV rv);
CK_FUNCTION_LIST_PTR keys_p11_fn(const keys_p11 *p);
CK_OBJECT_HANDLE keys_p11_wrap_handle(const keys_p11 *p);
const char *keys_p11_token(const keys_p11 *p);
int keys_p11_is_rsa(lv_key_type t);
void keys_p11_label(const lv_key_meta *m, const char *id, char *out,
                    size_t cap);

/* keys_p11_ops.c: wrapping and signatures. */
int keys_p11_wrap(keys_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
                  unsigned char **out, size_t *len, lv_err *err);
int keys_p11_sign(keys_p11 *p, const keys_p11_key *k, lv_key_type type,
                  const EVP_MD *md, const unsigned char *digests, size_t n,
                  unsigned char **sigs, size_t *sig_len, lv_err *err);

/* keys_p11_conf.c: DIR/keys/pkcs11.json, the token a store uses and its
 * user PIN sealed under the master key.  keys_p11_attach opens the token
 * of an opened store (nothing when the store has no pkcs11.json). */
int keys_p11_conf_create(const char *kdir, const lv_p11_conf *conf,
                         const unsigned char *master, keys_p11 **out,
                         lv_err *err);
int keys_p11_attach(lv_keystore *ks, lv_err *err);
/* A ceremony that failed after keys_p11_conf_create: the wrapping key and
 * pkcs11.json go again. */
void keys_p11_conf_undo(const char *kdir, keys_p11 *p);

#endif
