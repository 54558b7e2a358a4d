/* keys/ — key custody.  Generate, read the public key, sign, destroy; there
 * is deliberately no function that returns private key material (R5.1).
 *
 * File back end: DIR/keys/<id>.key holds the PKCS#8 DER of one private key
 * sealed with AES-256-GCM under a 256-bit master key; the key id, class and
 * type are bound in as additional authenticated data.  The master key never
 * touches disk: the ceremony splits it with Shamir's scheme (libgfshare) into
 * three custodian shares of which any two open the store (R9.5, CPS §6.2.2).
 *
 * Depends on core/ only. */
#ifndef LLAVE_KEYS_H
#define LLAVE_KEYS_H

#include "core/core.h"

#include <openssl/evp.h>

typedef struct lv_keystore lv_keystore;

#define LV_SHARES_TOTAL 3
#define LV_SHARES_NEEDED 2
#define LV_KEY_ID_LEN 32       /* hex characters, random 128-bit id */
#define LV_SHARE_TEXT_MAX 160  /* printable share, NUL included */

typedef enum {
    LV_KEY_RSA2048,
    LV_KEY_RSA3072,
    LV_KEY_RSA4096,
    LV_KEY_EC_P256,
    LV_KEY_EC_P384,
} lv_key_type;

/* Who may use a key.  CA and service (OCSP, TSA) keys sign whenever the store
 * is open; signer keys belong to a citizen and are usable only inside a
 * signing operation that citizen authorized (R5.2), so keys_sign_init refuses
 * them. */
typedef enum {
    LV_KEY_CLASS_CA,
    LV_KEY_CLASS_SERVICE,
    LV_KEY_CLASS_SIGNER,
} lv_key_class;

const char *keys_type_name(lv_key_type t);  /* "rsa2048", "ec-p256", ... */
int keys_type_parse(const char *name, lv_key_type *out);
const char *keys_class_name(lv_key_class c);

/* Creates an empty key store under dir/keys with a fresh master key and
 * writes the three printable custodian shares to shares[i] (text such as
 * "llave-share-1-<hex>-<check>").  Fails if a store already exists. */
int keys_create(const char *dir, char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX],
                lv_err *err);

/* Opens the store with `n` printable shares.  Fewer than two distinct valid
 * shares, a share that fails its checksum, or a combination that does not
 * reproduce the master key fail with LV_EAUTH and a message naming the
 * problem; nothing is opened. */
int keys_open(const char *dir, const char *const *shares, size_t n,
              lv_keystore **out, lv_err *err);
void keys_close(lv_keystore *ks); /* wipes the master key and cached keys */

/* Validates one share's format and checksum without opening anything. */
int keys_share_check(const char *share, lv_err *err);

int keys_generate(lv_keystore *ks, lv_key_type type, lv_key_class cls,
                  const char *label, char id_out[LV_KEY_ID_LEN + 1], lv_err *err);
int keys_public(lv_keystore *ks, const char *id, EVP_PKEY **pub, lv_err *err);
int keys_info(lv_keystore *ks, const char *id, lv_key_type *type,
              lv_key_class *cls, lv_err *err);

/* Initializes md_ctx for signing with the key `id` (EVP_DigestSignInit).  The
 * context can be handed to X509_sign_ctx, X509_CRL_sign_ctx,
 * OCSP_BASICRESP_sign_ctx and the like; it holds a reference to the cached key
 * and is the only way a private key leaves this module.  RSA keys sign with
 * PKCS#1 v1.5 (CPS §7.1.3).  Refused for signer keys (R5.2). */
int keys_sign_init(lv_keystore *ks, const char *id, const EVP_MD *md,
                   EVP_MD_CTX *md_ctx, lv_err *err);

/* Signs data (hash-and-sign) with a CA or service key; *sig is allocated
 * with malloc() and freed by the caller with free(). */
int keys_sign(lv_keystore *ks, const char *id, const EVP_MD *md,
              const unsigned char *data, size_t len, unsigned char **sig,
              size_t *sig_len, lv_err *err);

/* Overwrites and removes the key file and drops it from the cache. */
int keys_destroy(lv_keystore *ks, const char *id, lv_err *err);

#endif
