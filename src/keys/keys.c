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

typedef keys_ref key_ref;

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

static void p11_key_free(keys_p11_key *k)
{
    if (!k)
        return;
    free(k->blob);
    OPENSSL_cleanse(k, sizeof *k);
}

/* A copy of the PKCS#11 reference (its blob may be freed by a concurrent
 * keys_destroy). */
static int p11_key_copy(const keys_p11_key *from, keys_p11_key *to)
{
    if (!from)
        return 0;
    *to = *from;
    to->blob = NULL;
    if (!from->blob)
        return 1;
    to->blob = malloc(from->blob_len);
    if (to->blob)
        memcpy(to->blob, from->blob, from->blob_len);
    return to->blob != NULL;
}

/* Takes a new reference to pkey; an allocation failure only means the key
 * is decrypted again next time. */
static void cache_put(lv_keystore *ks, const char *id, const lv_key_meta *m,
                      EVP_PKEY *pkey, const keys_p11_key *p11)
{
    lv_key_entry *e = calloc(1, sizeof *e);
    if (e && m->p11 &&
        (!(e->p11 = calloc(1, sizeof *e->p11)) || !p11_key_copy(p11, e->p11))) {
        free(e->p11);
        free(e);
        return;
    }
    if (!e || !EVP_PKEY_up_ref(pkey)) {
        if (e && e->p11) {
            p11_key_free(e->p11);
            free(e->p11);
        }
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
    p11_key_free(e->p11);
    free(e->p11);
    OPENSSL_cleanse(e, sizeof *e);
    free(e);
}

void keys_cache_free(lv_keystore *ks)
{
    for (size_t b = 0; b < LV_KEY_BUCKETS; b++) {
        lv_key_entry *e = ks->buckets[b];
        while (e) {
            lv_key_entry *next = e->next;
            entry_free(e);
            e = next;
        }
        ks->buckets[b] = NULL;
    }
}

static int cache_take(lv_keystore *ks, const char *id, key_ref *out)
{
    lv_key_entry *e = cache_find(ks, id);
    if (!e || (e->p11 && !p11_key_copy(e->p11, &out->p11)))
        return 0;
    if (!EVP_PKEY_up_ref(e->pkey)) {
        free(out->p11.blob);
        out->p11.blob = NULL;
        return 0;
    }
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
    LV_TRY(keys_file_read(path, id, ks->master, &out->meta, &out->pkey,
                          &out->p11, err));
    if (out->meta.p11 != (ks->p11 != NULL)) {
        EVP_PKEY_free(out->pkey);
        p11_key_free(&out->p11);
        out->pkey = NULL;
        return lv_fail(err, LV_ESTATE,
                       "key %s belongs to a %s key store, this one is %s", id,
                       out->meta.p11 ? "PKCS#11" : "file",
                       ks->p11 ? "PKCS#11" : "file");
    }
    pthread_mutex_lock(&ks->lock);
    if (gen == ks->generation && !cache_find(ks, id))
        cache_put(ks, id, &out->meta, out->pkey, &out->p11);
    pthread_mutex_unlock(&ks->lock);
    return 0;
}

static void key_release(key_ref *r)
{
    EVP_PKEY_free(r->pkey);
    r->pkey = NULL;
    p11_key_free(&r->p11);
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

/* On the token: CA and service keys stay there; a citizen's key comes back
 * wrapped.  If the key file cannot be written the token objects go again:
 * a failure leaves nothing behind (issue 16 item 6). */
static int generate_p11(lv_keystore *ks, const char *id, lv_key_meta *meta,
                        const char *path, char id_out[LV_KEY_ID_LEN + 1],
                        lv_err *err)
{
    char label[LV_KEY_LABEL_MAX + 32];
    keys_p11_key k = {0};
    EVP_PKEY *pub = NULL;
    int in_token = meta->cls != LV_KEY_CLASS_SIGNER, rc;
    meta->p11 = 1;
    lv_hex_decode(id, k.id, LV_P11_ID_LEN); /* a fresh hex id */
    keys_p11_label(meta, id, label, sizeof label);
    LV_TRY(keys_p11_generate(ks->p11, meta->type, in_token, k.id, label, &pub,
                             &k.blob, &k.blob_len, err));
    rc = keys_file_write(path, id, meta, ks->master, pub, &k, err);
    if (rc < 0 && in_token)
        (void)keys_p11_destroy(ks->p11, k.id, LV_P11_ID_LEN, NULL);
    if (rc == 0) {
        pthread_mutex_lock(&ks->lock);
        cache_put(ks, id, meta, pub, &k);
        pthread_mutex_unlock(&ks->lock);
        memcpy(id_out, id, LV_KEY_ID_LEN + 1);
    }
    EVP_PKEY_free(pub);
    p11_key_free(&k);
    return rc;
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
    if (ks->p11)
        return generate_p11(ks, id, &meta, path, id_out, err);
    LV_TRY(keys_type_generate(type, &pkey, err));
    LV_TRY_GOTO(
        rc, keys_file_write(path, id, &meta, ks->master, pkey, NULL, err), out);
    pthread_mutex_lock(&ks->lock);
    cache_put(ks, id, &meta, pkey, NULL);
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
    if (ks && ks->p11)
        return lv_fail(err, LV_EINVAL,
                       "key %s is on a PKCS#11 token: it signs only there "
                       "(keys_sign, keys_sign_digest)",
                       id);
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

/* ---- signing a digest, either back end ---------------------------------- */
/* The file back end: OpenSSL wraps the digest in the DigestInfo of md for
 * RSA (RFC 8017 §9.2) and checks its length. */
static int sign_file_digests(EVP_PKEY *pkey, const EVP_MD *md,
                             const unsigned char *digests, size_t n,
                             unsigned char **out, size_t *sig_len)
{
    size_t dlen = (size_t)EVP_MD_get_size(md), len = 0, max = 0;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx && EVP_PKEY_sign_init(ctx) > 0 &&
             (!EVP_PKEY_is_a(pkey, "RSA") ||
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0) &&
             EVP_PKEY_CTX_set_signature_md(ctx, md) > 0 &&
             EVP_PKEY_sign(ctx, NULL, &max, digests, dlen) > 0 &&
             (n == 1 || EVP_PKEY_is_a(pkey, "RSA")) &&
             (*out = malloc(n * max)) != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        len = max;
        ok = EVP_PKEY_sign(ctx, *out + i * max, &len, digests + i * dlen,
                           dlen) > 0 &&
             (n == 1 || len == max);
    }
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        free(*out);
        *out = NULL;
        return 0;
    }
    *sig_len = len;
    return 1;
}

int keys_ref_sign(lv_keystore *ks, const keys_ref *r, const EVP_MD *md,
                  const unsigned char *digests, size_t n, unsigned char **sigs,
                  size_t *sig_len, lv_err *err)
{
    *sigs = NULL;
    *sig_len = 0;
    if (r->meta.p11)
        return keys_p11_sign(ks->p11, &r->p11, r->meta.type, md, digests, n,
                             sigs, sig_len, err);
    if (!sign_file_digests(r->pkey, md, digests, n, sigs, sig_len))
        return lv_fail_ssl(err, LV_ECRYPTO, "signing failed");
    return 0;
}

int keys_sign_digest(lv_keystore *ks, const char *id, const EVP_MD *md,
                     const unsigned char *dgst, size_t dlen,
                     unsigned char **sig, size_t *sig_len, lv_err *err)
{
    key_ref r;
    int rc;
    if (!md || !dgst || !sig || !sig_len)
        return lv_fail(err, LV_EINVAL, "keys_sign_digest: missing argument");
    if (EVP_MD_get_size(md) <= 0 || dlen != (size_t)EVP_MD_get_size(md))
        return lv_fail(err, LV_EINVAL, "a %s digest has %d bytes",
                       EVP_MD_get0_name(md), EVP_MD_get_size(md));
    LV_TRY(key_acquire(ks, id, &r, err));
    LV_TRY_GOTO(rc, key_may_sign(&r, id, err), out);
    rc = keys_ref_sign(ks, &r, md, dgst, 1, sig, sig_len, err);
out:
    key_release(&r);
    return rc;
}

/* Hash here, sign on the token. */
static int sign_p11_data(lv_keystore *ks, const char *id, const EVP_MD *md,
                         const unsigned char *data, size_t len,
                         unsigned char **sig, size_t *sig_len, lv_err *err)
{
    unsigned char dgst[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (!md || !EVP_Digest(data ? data : (const unsigned char *)"", len, dgst,
                           &dlen, md, NULL))
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot hash the data to sign");
    return keys_sign_digest(ks, id, md, dgst, dlen, sig, sig_len, err);
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
    if (ks && ks->p11)
        return sign_p11_data(ks, id, md, data, len, sig, sig_len, err);
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
    if (ks->p11) {
        unsigned char raw[LV_P11_ID_LEN];
        lv_hex_decode(id, raw, sizeof raw); /* validated by key_ready */
        LV_TRY(keys_p11_destroy(ks->p11, raw, sizeof raw, err));
    }
    LV_TRY(shred_file(path, id, err));
    return keys_fsync_dir(ks->dir, err);
}

/* ---- for keys_signer.c ------------------------------------------------- */
int keys_ref_get(lv_keystore *ks, const char *id, keys_ref *out, lv_err *err)
{
    return key_acquire(ks, id, out, err);
}

void keys_ref_put(keys_ref *r)
{
    key_release(r);
}
