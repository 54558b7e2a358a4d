/* Key types and classes, one table each, and key generation.  RSA keys use
 * e = 65537; EC keys use named curves only (CPS §6.1.5, §6.1.6). */
#include "keys/keys_internal.h"

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <string.h>

static const struct {
    const char *name;
    const char *alg; /* OpenSSL algorithm name */
    int bits;
    const char *curve; /* NULL for RSA */
} key_types[] = {
    [LV_KEY_RSA2048] = {"rsa2048", "RSA", 2048, NULL},
    [LV_KEY_RSA3072] = {"rsa3072", "RSA", 3072, NULL},
    [LV_KEY_RSA4096] = {"rsa4096", "RSA", 4096, NULL},
    [LV_KEY_EC_P256] = {"ec-p256", "EC", 256, "P-256"},
    [LV_KEY_EC_P384] = {"ec-p384", "EC", 384, "P-384"},
};
#define KEY_TYPES_N (sizeof key_types / sizeof key_types[0])

static const char *const key_classes[] = {
    [LV_KEY_CLASS_CA] = "ca",
    [LV_KEY_CLASS_SERVICE] = "service",
    [LV_KEY_CLASS_SIGNER] = "signer",
};
#define KEY_CLASSES_N (sizeof key_classes / sizeof key_classes[0])

const char *keys_type_name(lv_key_type t)
{
    return (unsigned)t < KEY_TYPES_N ? key_types[t].name : NULL;
}

int keys_type_parse(const char *name, lv_key_type *out)
{
    for (size_t i = 0; name && i < KEY_TYPES_N; i++) {
        if (strcmp(name, key_types[i].name) == 0) {
            *out = (lv_key_type)i;
            return 0;
        }
    }
    return LV_EINVAL;
}

const char *keys_class_name(lv_key_class c)
{
    return (unsigned)c < KEY_CLASSES_N ? key_classes[c] : NULL;
}

int keys_class_parse(const char *name, lv_key_class *out)
{
    for (size_t i = 0; name && i < KEY_CLASSES_N; i++) {
        if (strcmp(name, key_classes[i]) == 0) {
            *out = (lv_key_class)i;
            return 0;
        }
    }
    return LV_EINVAL;
}

/* Defence in depth after decryption: the AAD already authenticates the type,
 * this catches a key that was sealed under the wrong type by a bug. */
int keys_type_check(lv_key_type type, EVP_PKEY *pkey)
{
    if ((unsigned)type >= KEY_TYPES_N ||
        !EVP_PKEY_is_a(pkey, key_types[type].alg) ||
        EVP_PKEY_get_bits(pkey) != key_types[type].bits)
        return LV_ECRYPTO;
    return 0;
}

static void type_params(lv_key_type type, OSSL_PARAM params[3],
                        unsigned int *bits, unsigned int *e)
{
    *bits = (unsigned int)key_types[type].bits;
    *e = 65537;
    if (key_types[type].curve) {
        params[0] = OSSL_PARAM_construct_utf8_string(
            OSSL_PKEY_PARAM_GROUP_NAME, (char *)key_types[type].curve, 0);
        params[1] = OSSL_PARAM_construct_end();
    } else {
        params[0] = OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_BITS, bits);
        params[1] = OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_E, e);
        params[2] = OSSL_PARAM_construct_end();
    }
}

int keys_type_generate(lv_key_type type, EVP_PKEY **out, lv_err *err)
{
    OSSL_PARAM params[3];
    unsigned int bits, e;
    *out = NULL;
    if ((unsigned)type >= KEY_TYPES_N)
        return lv_fail(err, LV_EINVAL, "unknown key type %d", (int)type);
    type_params(type, params, &bits, &e);
    EVP_PKEY_CTX *ctx =
        EVP_PKEY_CTX_new_from_name(NULL, key_types[type].alg, NULL);
    int ok = ctx && EVP_PKEY_keygen_init(ctx) > 0 &&
             EVP_PKEY_CTX_set_params(ctx, params) > 0 &&
             EVP_PKEY_generate(ctx, out) > 0;
    EVP_PKEY_CTX_free(ctx);
    if (!ok)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot generate a %s key",
                           key_types[type].name);
    return 0;
}

/* Exactly 32 lower-case hex digits: checked before an id becomes part of a
 * path, so "../" and friends never reach the file system. */
int keys_id_valid(const char *id)
{
    if (!id)
        return 0;
    for (size_t i = 0; i < LV_KEY_ID_LEN; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return id[LV_KEY_ID_LEN] == '\0';
}

/* Labels are for people (and the audit trail): printable, no control
 * characters, bounded. */
int keys_label_valid(const char *label)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)label; *p; p++, n++)
        if (*p < 0x20 || *p == 0x7f || n >= LV_KEY_LABEL_MAX)
            return 0;
    return 1;
}
