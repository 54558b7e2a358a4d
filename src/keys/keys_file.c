/* DIR/keys/<id>.key: one private key, sealed (R5.1, R5.2: encrypted at rest).
 *
 *   { "version": 1, "type": "rsa2048", "class": "ca", "label": "...",
 *     "created": "2026-11-24T23:45:00Z", "cipher": "aes-256-gcm",
 *     "nonce": hex(12), "ciphertext": base64, "tag": hex(16) }
 *
 * The plaintext is the PKCS#8 PrivateKeyInfo DER.  The AAD is
 *   "llave-key-v1" 0 id 0 type 0 class 0 label 0 created 0
 * with the id taken from the file NAME, so that renaming or copying a file to
 * another id, or editing its type, class, label or date, breaks the tag.
 *
 * A key of the PKCS#11 back end (issue 16) has "store": "pkcs11", AAD
 * label "llave-key-p11-v1", and seals its SubjectPublicKeyInfo DER followed
 * by, for a citizen's key, the key wrapped by the token (nothing for a key
 * that lives on the token): a file of one back end never opens as the
 * other's. */
#include "keys/keys_internal.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KEY_FILE_VERSION 1
/* an RSA-4096 key file is about 3.5 KiB */
#define KEY_FILE_MAX ((size_t)64 * 1024)
#define KEY_DER_MAX ((size_t)16 * 1024)

static int file_aad(const char *id, const lv_key_meta *m, lv_buf *aad)
{
    const char *parts[] = {m->p11 ? "llave-key-p11-v1" : "llave-key-v1",
                           id,
                           keys_type_name(m->type),
                           keys_class_name(m->cls),
                           m->label,
                           m->created};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (!parts[i])
            return LV_EINVAL;
        LV_TRY(lv_buf_append(aad, parts[i], strlen(parts[i]) + 1));
    }
    return 0;
}

/* ---- PKCS#8 DER (OpenSSL encoders/decoders; never hand-written) -------- */
static int file_encode_der(EVP_PKEY *pkey, unsigned char **der, size_t *len,
                           lv_err *err)
{
    *der = NULL;
    *len = 0;
    OSSL_ENCODER_CTX *ctx = OSSL_ENCODER_CTX_new_for_pkey(
        pkey, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", NULL);
    int ok = ctx && OSSL_ENCODER_CTX_get_num_encoders(ctx) > 0 &&
             OSSL_ENCODER_to_data(ctx, der, len);
    OSSL_ENCODER_CTX_free(ctx);
    if (!ok)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot encode the private key");
    return 0;
}

static int file_decode_der(const unsigned char *der, size_t len, EVP_PKEY **out)
{
    const unsigned char *p = der;
    size_t left = len;
    *out = NULL;
    OSSL_DECODER_CTX *ctx = OSSL_DECODER_CTX_new_for_pkey(
        out, "DER", "PrivateKeyInfo", NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
    int ok = ctx && OSSL_DECODER_from_data(ctx, &p, &left) && *out;
    OSSL_DECODER_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return LV_ECRYPTO;
    }
    return 0;
}

/* ---- writing ------------------------------------------------------------ */
static json_t *file_json(const lv_key_meta *m, const unsigned char *nonce,
                         const char *ct_b64, const unsigned char *tag)
{
    char nonce_hex[2 * LV_GCM_NONCE_LEN + 1], tag_hex[2 * LV_GCM_TAG_LEN + 1];
    lv_hex_encode(nonce, LV_GCM_NONCE_LEN, nonce_hex);
    lv_hex_encode(tag, LV_GCM_TAG_LEN, tag_hex);
    json_t *o =
        json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "version",
                  KEY_FILE_VERSION, "type", keys_type_name(m->type), "class",
                  keys_class_name(m->cls), "label", m->label, "created",
                  m->created, "cipher", "aes-256-gcm", "nonce", nonce_hex,
                  "ciphertext", ct_b64, "tag", tag_hex);
    if (o && m->p11 &&
        json_object_set_new(o, "store", json_string("pkcs11")) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int file_store(const char *path, const lv_key_meta *m,
                      const unsigned char *nonce, const unsigned char *ct,
                      size_t ct_len, const unsigned char *tag, lv_err *err)
{
    char *b64 = NULL, *text = NULL;
    json_t *o = NULL;
    int rc;
    if (lv_b64_encode(ct, ct_len, &b64) < 0 ||
        !(o = file_json(m, nonce, b64, tag)) ||
        !(text = json_dumps(o, JSON_INDENT(2))))
        rc = lv_fail(err, LV_ENOMEM, "cannot build the key file");
    else
        rc = lv_file_write(path, text, strlen(text), 0600, err);
    free(text);
    json_decref(o);
    free(b64);
    return rc;
}

/* PKCS#11: SPKI DER || wrapped key (public data, sealed for integrity and
 * because a wrapped key is still key material). */
static int file_encode_p11(EVP_PKEY *pub, const keys_p11_key *k,
                           unsigned char **out, size_t *len, lv_err *err)
{
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(pub, &spki);
    size_t blob = k && k->blob ? k->blob_len : 0;
    *out = n > 0 ? OPENSSL_malloc((size_t)n + blob) : NULL;
    if (!*out) {
        OPENSSL_free(spki);
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot encode the public key");
    }
    memcpy(*out, spki, (size_t)n);
    if (blob)
        memcpy(*out + n, k->blob, blob);
    *len = (size_t)n + blob;
    OPENSSL_free(spki);
    return 0;
}

int keys_file_write(const char *path, const char *id, const lv_key_meta *meta,
                    const unsigned char *master, EVP_PKEY *pkey,
                    const keys_p11_key *p11, lv_err *err)
{
    unsigned char nonce[LV_GCM_NONCE_LEN], tag[LV_GCM_TAG_LEN];
    unsigned char *der = NULL, *ct = NULL;
    size_t der_len = 0;
    lv_buf aad = {0};
    int rc;

    if (meta->p11)
        LV_TRY_GOTO(rc, file_encode_p11(pkey, p11, &der, &der_len, err), out);
    else
        LV_TRY_GOTO(rc, file_encode_der(pkey, &der, &der_len, err), out);
    ct = der_len ? malloc(der_len) : NULL;
    if (!ct || file_aad(id, meta, &aad) < 0) {
        rc = lv_fail(err, LV_ENOMEM, "out of memory sealing key %s", id);
        goto out;
    }
    LV_TRY_GOTO(rc,
                keys_gcm_seal(master, aad.data, aad.len, der, der_len, nonce,
                              ct, tag, err),
                out);
    rc = file_store(path, meta, nonce, ct, der_len, tag, err);
out:
    OPENSSL_clear_free(der, der_len); /* the plaintext private key */
    free(ct);
    lv_buf_free(&aad);
    return rc;
}

/* ---- reading ------------------------------------------------------------ */
typedef struct {
    unsigned char nonce[LV_GCM_NONCE_LEN];
    unsigned char tag[LV_GCM_TAG_LEN];
    unsigned char *ct;
    size_t ct_len;
} sealed_blob;

/* Exactly 2*len hex digits, as every hex field the store writes. */
int keys_json_hex(const json_t *o, const char *key, unsigned char *out,
                  size_t len)
{
    const char *s = lv_json_str(o, key);
    if (!s || strlen(s) != 2 * len)
        return LV_EINVAL;
    return lv_hex_decode(s, out, len) == (int)len ? 0 : LV_EINVAL;
}

static int file_meta(const json_t *o, lv_key_meta *m)
{
    const char *label = lv_json_str(o, "label");
    const char *created = lv_json_str(o, "created");
    json_t *version = json_object_get(o, "version");
    const char *cipher = lv_json_str(o, "cipher");

    const char *store = lv_json_str(o, "store");
    if (!json_is_integer(version) ||
        json_integer_value(version) != KEY_FILE_VERSION || !cipher ||
        strcmp(cipher, "aes-256-gcm") != 0 ||
        (store && strcmp(store, "pkcs11") != 0))
        return LV_EINVAL;
    m->p11 = store != NULL;
    LV_TRY(keys_type_parse(lv_json_str(o, "type"), &m->type));
    LV_TRY(keys_class_parse(lv_json_str(o, "class"), &m->cls));
    if (!label || !keys_label_valid(label) || !created ||
        strlen(created) >= sizeof m->created)
        return LV_EINVAL;
    strcpy(m->label, label);
    strcpy(m->created, created);
    return 0;
}

static int file_parse(const unsigned char *data, size_t len, lv_key_meta *m,
                      sealed_blob *b)
{
    json_t *o =
        json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, NULL);
    const char *ct = o ? lv_json_str(o, "ciphertext") : NULL;
    int rc = ct ? 0 : LV_EINVAL;
    if (rc == 0)
        rc = file_meta(o, m);
    if (rc == 0)
        rc = keys_json_hex(o, "nonce", b->nonce, sizeof b->nonce);
    if (rc == 0)
        rc = keys_json_hex(o, "tag", b->tag, sizeof b->tag);
    if (rc == 0)
        rc = lv_b64_decode(ct, strlen(ct), &b->ct, &b->ct_len);
    if (rc == 0 && (b->ct_len == 0 || b->ct_len > KEY_DER_MAX))
        rc = LV_EINVAL;
    json_decref(o);
    return rc;
}

static int file_load(const char *path, const char *id, lv_key_meta *m,
                     sealed_blob *b, lv_err *err)
{
    struct stat st;
    unsigned char *data = NULL;
    size_t len = 0;

    if (stat(path, &st) != 0)
        return errno == ENOENT
                   ? lv_fail(err, LV_ENOTFOUND, "no key %s", id)
                   : lv_fail(err, LV_EIO, "key %s: %s", id, strerror(errno));
    LV_TRY(lv_file_read(path, &data, &len, KEY_FILE_MAX, err));
    int rc = file_parse(data, len, m, b);
    free(data);
    if (rc < 0)
        return lv_fail(err, LV_ECRYPTO, "key %s: key file is corrupt", id);
    return 0;
}

/* SPKI DER, then the wrapped key (if any) up to the end. */
static int file_decode_p11(const char *id, const unsigned char *pt, size_t len,
                           EVP_PKEY **pub, keys_p11_key *k)
{
    const unsigned char *p = pt;
    *pub = d2i_PUBKEY(NULL, &p, (long)len);
    if (!*pub || lv_hex_decode(id, k->id, LV_P11_ID_LEN) != LV_P11_ID_LEN)
        return LV_ECRYPTO;
    size_t rest = len - (size_t)(p - pt);
    k->blob = NULL;
    k->blob_len = rest;
    if (rest && !(k->blob = malloc(rest)))
        return LV_ENOMEM;
    if (rest)
        memcpy(k->blob, p, rest);
    return 0;
}

static int file_decode(const char *id, const lv_key_meta *m,
                       const unsigned char *der, size_t len, EVP_PKEY **pkey,
                       keys_p11_key *k)
{
    if (!m->p11)
        return file_decode_der(der, len, pkey);
    if (!k)
        return LV_EINVAL;
    return file_decode_p11(id, der, len, pkey, k);
}

static int file_unseal(const char *id, const unsigned char *master,
                       const lv_key_meta *m, const sealed_blob *b,
                       EVP_PKEY **pkey, keys_p11_key *k, lv_err *err)
{
    lv_buf aad = {0};
    unsigned char *der = OPENSSL_secure_malloc(b->ct_len);
    int rc = der ? file_aad(id, m, &aad) : LV_ENOMEM;
    if (rc < 0) {
        rc = lv_fail(err, rc, "key %s: out of memory", id);
        goto out;
    }
    rc = keys_gcm_open(master, aad.data, aad.len, b->nonce, b->ct, b->ct_len,
                       b->tag, der, NULL);
    if (rc < 0) {
        rc = lv_fail(err, LV_ECRYPTO,
                     "key %s: key file was altered, renamed or belongs to "
                     "another key store",
                     id);
        goto out;
    }
    if (file_decode(id, m, der, b->ct_len, pkey, k) < 0 ||
        keys_type_check(m->type, *pkey) < 0) {
        EVP_PKEY_free(*pkey);
        *pkey = NULL;
        if (k) {
            free(k->blob);
            k->blob = NULL;
        }
        rc = lv_fail(err, LV_ECRYPTO, "key %s: not a %s private key", id,
                     keys_type_name(m->type));
    }
out:
    OPENSSL_secure_clear_free(der, b->ct_len);
    lv_buf_free(&aad);
    return rc;
}

int keys_file_read(const char *path, const char *id,
                   const unsigned char *master, lv_key_meta *meta,
                   EVP_PKEY **pkey, keys_p11_key *p11, lv_err *err)
{
    sealed_blob b = {0};
    *pkey = NULL;
    int rc = file_load(path, id, meta, &b, err);
    if (rc == 0)
        rc = file_unseal(id, master, meta, &b, pkey, p11, err);
    free(b.ct);
    return rc;
}

/* ---- counting (llave-keyd's status) ------------------------------------ */

/* The metadata of DIR/keys/<name> when name is "<id>.key" with a valid
 * id. */
static int meta_one(const char *kdir, const char *name,
                    char id[LV_KEY_ID_LEN + 1], lv_key_meta *m)
{
    char path[LV_KEYS_PATH_MAX];
    size_t len = strlen(name);
    sealed_blob b = {0};
    if (len != LV_KEY_ID_LEN + 4 || strcmp(name + LV_KEY_ID_LEN, ".key") != 0)
        return LV_EINVAL;
    memcpy(id, name, LV_KEY_ID_LEN);
    id[LV_KEY_ID_LEN] = '\0';
    if (!keys_id_valid(id) || lv_path_join(path, sizeof path, kdir, name) < 0)
        return LV_EINVAL;
    int rc = file_load(path, id, m, &b, NULL);
    free(b.ct);
    return rc;
}

int keys_file_each(const char *kdir,
                   void (*fn)(void *arg, const char *id, const lv_key_meta *m),
                   void *arg, lv_err *err)
{
    struct dirent *e;
    DIR *d = opendir(kdir);
    if (!d)
        return lv_fail(err, LV_EIO, "%s: %s", kdir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char id[LV_KEY_ID_LEN + 1];
        lv_key_meta m;
        if (meta_one(kdir, e->d_name, id, &m) == 0)
            fn(arg, id, &m);
    }
    closedir(d);
    return 0;
}

static void count_one(void *arg, const char *id, const lv_key_meta *m)
{
    int64_t *counts = arg;
    (void)id;
    if ((int)m->cls >= 0 && (int)m->cls < 3)
        counts[m->cls]++;
}

int keys_count(const char *dir, int64_t counts[3], lv_err *err)
{
    char kdir[LV_KEYS_PATH_MAX];
    counts[0] = counts[1] = counts[2] = 0;
    if (!dir || lv_path_join(kdir, sizeof kdir, dir, "keys") < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    return keys_file_each(kdir, count_one, counts, err);
}
