/* Key operations on an open store: generate, public key, info, sign,
 * destroy.  Private keys are decrypted on first use and cached as EVP_PKEY
 * behind one mutex, so that many service threads sign at the speed of the
 * private-key operation itself (R10.1); the lock is held only for lookups,
 * never for decryption or signing.  No function returns private key
 * material and there is no import or export (R5.1, CPS §6.2.7.2). */
#include "keys/keys_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A cached key handed to one operation: holds its own pkey reference so that
 * a concurrent keys_destroy cannot free it mid-signature. */
typedef struct {
    lv_key_meta meta;
    EVP_PKEY *pkey;
} key_ref;

/* ---- preconditions ------------------------------------------------------ */
/* The id is checked before it becomes part of a path. */
static int key_ready(const lv_keystore *ks, const char *id, lv_err *err)
{
    if (!ks || !ks->master)
        return lv_fail(err, LV_ESEALED,
                       "key store not opened (needs 2 of 3 shares)");
    if (!keys_id_valid(id))
        return lv_fail(err, LV_EINVAL, "invalid key id");
    return 0;
}

static int key_path(const lv_keystore *ks, const char *id,
                    char path[LV_KEYS_PATH_MAX], lv_err *err)
{
    char name[LV_KEY_ID_LEN + sizeof ".key"];
    memcpy(name, id, LV_KEY_ID_LEN);
    memcpy(name + LV_KEY_ID_LEN, ".key", sizeof ".key");
    if (lv_path_join(path, LV_KEYS_PATH_MAX, ks->dir, name) < 0)
        return lv_fail(err, LV_EINVAL, "key path too long");
    return 0;
}

/* ---- cache (callers hold ks->lock) -------------------------------------- */
static unsigned cache_bucket(const char *id)
{
    unsigned char b = 0;
    char pair[3] = {id[0], id[1], '\0'};
    lv_hex_decode(pair, &b, 1); /* ids are validated hex */
    return b % LV_KEY_BUCKETS;
}

static lv_key_entry *cache_find(lv_keystore *ks, const char *id)
{
    lv_key_entry *e = ks->buckets[cache_bucket(id)];
    while (e && strcmp(e->id, id) != 0)
        e = e->next;
    return e;
}

/* Takes a new reference to pkey; an allocation failure only means the key
 * is decrypted again next time. */
static void cache_put(lv_keystore *ks, const char *id, const lv_key_meta *m,
                      EVP_PKEY *pkey)
{
    lv_key_entry *e = calloc(1, sizeof *e);
    if (!e || !EVP_PKEY_up_ref(pkey)) {
        free(e);
        return;
    }
    unsigned b = cache_bucket(id);
    memcpy(e->id, id, LV_KEY_ID_LEN + 1);
    e->meta = *m;
    e->pkey = pkey;
    e->next = ks->buckets[b];
    ks->buckets[b] = e;
}

static lv_key_entry *cache_unlink(lv_keystore *ks, const char *id)
{
    lv_key_entry **pp = &ks->buckets[cache_bucket(id)];
    while (*pp && strcmp((*pp)->id, id) != 0)
        pp = &(*pp)->next;
    lv_key_entry *e = *pp;
    if (e)
        *pp = e->next;
    return e;
}

static void entry_free(lv_key_entry *e)
{
    if (!e)
        return;
    EVP_PKEY_free(e->pkey);
    OPENSSL_cleanse(e, sizeof *e);
    free(e);
}

static int cache_take(lv_keystore *ks, const char *id, key_ref *out)
{
    lv_key_entry *e = cache_find(ks, id);
    if (!e || !EVP_PKEY_up_ref(e->pkey))
        return 0;
    out->meta = e->meta;
    out->pkey = e->pkey;
    return 1;
}

/* ---- acquiring a key ---------------------------------------------------- */
/* Decrypts outside the lock.  If keys_destroy ran meanwhile (generation
 * moved), the key is used for this call but not cached, so a destroyed key
 * can never come back from the cache. */
static int key_acquire(lv_keystore *ks, const char *id, key_ref *out,
                       lv_err *err)
{
    char path[LV_KEYS_PATH_MAX];
    memset(out, 0, sizeof *out);
    LV_TRY(key_ready(ks, id, err));
    pthread_mutex_lock(&ks->lock);
    int hit = cache_take(ks, id, out);
    uint64_t gen = ks->generation;
    pthread_mutex_unlock(&ks->lock);
    if (hit)
        return 0;
    LV_TRY(key_path(ks, id, path, err));
    LV_TRY(keys_file_read(path, id, ks->master, &out->meta, &out->pkey, err));
    pthread_mutex_lock(&ks->lock);
    if (gen == ks->generation && !cache_find(ks, id))
        cache_put(ks, id, &out->meta, out->pkey);
    pthread_mutex_unlock(&ks->lock);
    return 0;
}

static void key_release(key_ref *r)
{
    EVP_PKEY_free(r->pkey);
    r->pkey = NULL;
}

/* R5.2: a citizen's key signs only inside the operation that citizen
 * authorized with password + OTP; operators, the CA and the services never
 * reach it through these functions. */
static int key_may_sign(const key_ref *r, const char *id, lv_err *err)
{
    if (r->meta.cls == LV_KEY_CLASS_SIGNER)
        return lv_fail(err, LV_EPERM,
                       "key %s: signer keys sign only with the citizen's "
                       "activation (R5.2)",
                       id);
    return 0;
}

/* ---- generate ----------------------------------------------------------- */
static int key_new_id(char id[LV_KEY_ID_LEN + 1], lv_err *err)
{
    unsigned char raw[LV_KEY_ID_LEN / 2];
    if (lv_random(raw, sizeof raw) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness for a key id");
    lv_hex_encode(raw, sizeof raw, id);
    return 0;
}

static int key_meta_init(lv_key_type type, lv_key_class cls, const char *label,
                         lv_key_meta *m, lv_err *err)
{
    if (!keys_type_name(type))
        return lv_fail(err, LV_EINVAL, "unknown key type %d", (int)type);
    if (!keys_class_name(cls))
        return lv_fail(err, LV_EINVAL, "unknown key class %d", (int)cls);
    if (!label)
        label = "";
    if (!keys_label_valid(label))
        return lv_fail(err, LV_EINVAL,
                       "key label: at most %d printable characters",
                       LV_KEY_LABEL_MAX);
    memset(m, 0, sizeof *m);
    m->type = type;
    m->cls = cls;
    strcpy(m->label, label);
    lv_time_iso(lv_now(), m->created);
    return 0;
}

int keys_generate(lv_keystore *ks, lv_key_type type, lv_key_class cls,
                  const char *label, char id_out[LV_KEY_ID_LEN + 1],
                  lv_err *err)
{
    char id[LV_KEY_ID_LEN + 1], path[LV_KEYS_PATH_MAX];
    lv_key_meta meta;
    EVP_PKEY *pkey = NULL;
    int rc;

    if (!ks || !ks->master)
        return lv_fail(err, LV_ESEALED,
                       "key store not opened (needs 2 of 3 shares)");
    if (!id_out)
        return lv_fail(err, LV_EINVAL, "no place for the key id");
    LV_TRY(key_meta_init(type, cls, label, &meta, err));
    LV_TRY(key_new_id(id, err));
    LV_TRY(key_path(ks, id, path, err));
    LV_TRY(keys_type_generate(type, &pkey, err));
    LV_TRY_GOTO(rc, keys_file_write(path, id, &meta, ks->master, pkey, err),
                out);
    pthread_mutex_lock(&ks->lock);
    cache_put(ks, id, &meta, pkey);
    pthread_mutex_unlock(&ks->lock);
    memcpy(id_out, id, sizeof id);
out:
    EVP_PKEY_free(pkey);
    return rc;
}

/* ---- public key and info ------------------------------------------------ */
/* A DER round trip through SubjectPublicKeyInfo: the copy provably carries
 * no private component. */
int keys_public(lv_keystore *ks, const char *id, EVP_PKEY **pub, lv_err *err)
{
    key_ref r;
    unsigned char *der = NULL;
    if (!pub)
        return lv_fail(err, LV_EINVAL, "keys_public: missing argument");
    *pub = NULL;
    LV_TRY(key_acquire(ks, id, &r, err));
    int len = i2d_PUBKEY(r.pkey, &der);
    const unsigned char *p = der;
    if (len > 0)
        *pub = d2i_PUBKEY(NULL, &p, len);
    OPENSSL_free(der);
    key_release(&r);
    if (!*pub)
        return lv_fail_ssl(err, LV_ECRYPTO, "key %s: no public key", id);
    return 0;
}

int keys_info(lv_keystore *ks, const char *id, lv_key_type *type,
              lv_key_class *cls, lv_err *err)
{
    key_ref r;
    LV_TRY(key_acquire(ks, id, &r, err));
    if (type)
        *type = r.meta.type;
    if (cls)
        *cls = r.meta.cls;
    key_release(&r);
    return 0;
}

/* ---- signing ------------------------------------------------------------ */
static int sign_init(EVP_MD_CTX *md_ctx, const EVP_MD *md, EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *pctx = NULL;
    if (EVP_DigestSignInit(md_ctx, &pctx, md, NULL, pkey) <= 0)
        return 0;
    /* CPS §7.1.3: RSA signatures are PKCS#1 v1.5; said explicitly so that a
     * changed library default cannot switch to PSS behind our back. */
    return !EVP_PKEY_is_a(pkey, "RSA") ||
           EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
}

int keys_sign_init(lv_keystore *ks, const char *id, const EVP_MD *md,
                   EVP_MD_CTX *md_ctx, lv_err *err)
{
    key_ref r;
    int rc;
    if (!md || !md_ctx)
        return lv_fail(err, LV_EINVAL, "keys_sign_init: missing argument");
    LV_TRY(key_acquire(ks, id, &r, err));
    LV_TRY_GOTO(rc, key_may_sign(&r, id, err), out);
    if (!sign_init(md_ctx, md, r.pkey))
        rc = lv_fail_ssl(err, LV_ECRYPTO, "key %s: cannot start signing", id);
out:
    key_release(&r); /* md_ctx holds its own reference */
    return rc;
}

static int sign_once(EVP_MD_CTX *ctx, const unsigned char *data, size_t len,
                     unsigned char **sig, size_t *sig_len)
{
    size_t n = 0;
    if (EVP_DigestSign(ctx, NULL, &n, data, len) <= 0 || !(*sig = malloc(n)))
        return 0;
    if (EVP_DigestSign(ctx, *sig, &n, data, len) <= 0) {
        free(*sig);
        *sig = NULL;
        return 0;
    }
    *sig_len = n;
    return 1;
}

/* *sig is allocated with malloc(); the caller frees it. */
int keys_sign(lv_keystore *ks, const char *id, const EVP_MD *md,
              const unsigned char *data, size_t len, unsigned char **sig,
              size_t *sig_len, lv_err *err)
{
    int rc;
    if (!sig || !sig_len || (!data && len))
        return lv_fail(err, LV_EINVAL, "keys_sign: missing argument");
    *sig = NULL;
    *sig_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    LV_TRY_GOTO(rc, keys_sign_init(ks, id, md, ctx, err), out);
    if (!sign_once(ctx, data ? data : (const unsigned char *)"", len, sig,
                   sig_len))
        rc = lv_fail_ssl(err, LV_ECRYPTO, "key %s: signing failed", id);
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* ---- destroy ------------------------------------------------------------ */
static int shred_write(int fd, off_t size)
{
    unsigned char junk[4096];
    for (off_t done = 0; done < size;) {
        size_t n = (size_t)(size - done) < sizeof junk ? (size_t)(size - done)
                                                       : sizeof junk;
        if (lv_random(junk, n) < 0)
            return -1;
        ssize_t w = write(fd, junk, n);
        if (w <= 0)
            return -1;
        done += w;
    }
    return fsync(fd);
}

/* Overwrites the sealed key in place before unlinking it: the ciphertext is
 * gone even from a later copy of the disk blocks that still has the master
 * key shares (CPS §6.2.10).  Best effort on journaling/SSD media. */
static int shred_file(const char *path, const char *id, lv_err *err)
{
    struct stat st;
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT
                   ? lv_fail(err, LV_ENOTFOUND, "no key %s", id)
                   : lv_fail(err, LV_EIO, "key %s: %s", id, strerror(errno));
    int rc = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                     shred_write(fd, st.st_size) == 0
                 ? 0
                 : lv_fail(err, LV_EIO, "key %s: cannot overwrite: %s", id,
                           strerror(errno));
    close(fd);
    if (rc == 0 && unlink(path) != 0)
        rc = lv_fail(err, LV_EIO, "key %s: %s", id, strerror(errno));
    return rc;
}

int keys_destroy(lv_keystore *ks, const char *id, lv_err *err)
{
    char path[LV_KEYS_PATH_MAX];
    LV_TRY(key_ready(ks, id, err));
    LV_TRY(key_path(ks, id, path, err));
    pthread_mutex_lock(&ks->lock);
    lv_key_entry *e = cache_unlink(ks, id);
    ks->generation++;
    pthread_mutex_unlock(&ks->lock);
    entry_free(e);
    LV_TRY(shred_file(path, id, err));
    return keys_fsync_dir(ks->dir, err);
}

/* ---- for keys_signer.c -----------------------------------------------------
 */
int keys_acquire_private(lv_keystore *ks, const char *id, EVP_PKEY **pkey,
                         lv_key_class *cls, lv_err *err)
{
    key_ref r;
    LV_TRY(key_acquire(ks, id, &r, err));
    *pkey = r.pkey; /* the reference taken by key_acquire */
    *cls = r.meta.cls;
    return 0;
}
