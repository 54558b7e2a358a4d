/* The CA's key operations, through llave-keyd (issue 12; CEN EN 419 241-1:
 * the keys stay inside the signature activation module, EN 419 241-2).
 * Nothing in ca/ opens the key store: every private-key operation of the
 * CA, OCSP, TSA and audit-seal code, and a citizen's signature for sign/,
 * is one request to keyd through keyc.
 *
 * A keyc handle serializes its calls, so each thread gets its own (a
 * pthread key, like lv_app_store's store per thread): N signing threads
 * are N keyd connections served by N keyd threads, and RSA-4096 signing
 * scales over the cores as it did in process.  Handles connect lazily and
 * reconnect after keyd restarts; while keyd is away every call fails at
 * once with LV_EBUSY (503 + Retry-After), and everything that needs no
 * key keeps serving.
 *
 * ca_sealed answers from the outcome of the last key operation (ready,
 * sealed, unreachable) and asks keyd's status at most once a second while
 * not ready, so the hot paths (OCSP's "may I sign online?") cost nothing. */
#include "ca/ca_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { KEYS_UNKNOWN, KEYS_READY, KEYS_SEALED, KEYS_DOWN };

#define PROBE_INTERVAL_MS 1000

struct ca_keys {
    char path[108];
    int caller;
    lv_per_thread *conns; /* each thread's keyc handle */
    pthread_mutex_t lock; /* the public-key cache */
    atomic_int state;
    _Atomic int64_t probed_ms;
    ca_fkey *fkeys; /* ca_keys_pkey.c: keyd-backed EVP_PKEYs by key id */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A thread that ends closes its connection (keyd's thread ends with it). */
static void close_conn(void *c)
{
    keyc_close(c);
}

int ca_keys_init(lv_ca *ca, int caller, lv_err *err)
{
    ca_keys *k = calloc(1, sizeof *k);
    if (!k)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    const char *sock = ca->cfg.keyd_socket;
    int rc = 0;
    if (sock[0])
        rc = snprintf(k->path, sizeof k->path, "%s", sock) < (int)sizeof k->path
                 ? 0
                 : lv_fail(err, LV_EINVAL, "keyd_socket too long");
    else
        rc = keyc_default_path(ca->cfg.dir, k->path, sizeof k->path, err);
    if (rc < 0) {
        free(k);
        return rc;
    }
    k->caller = caller;
    if (pthread_mutex_init(&k->lock, NULL) != 0) {
        free(k);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    if (lv_per_thread_new(close_conn, &k->conns) < 0) {
        pthread_mutex_destroy(&k->lock);
        free(k);
        return lv_fail(err, LV_ENOMEM, "no thread-local key left");
    }
    ca->keys = k;
    return 0;
}

void ca_keys_free(lv_ca *ca)
{
    ca_keys *k = ca->keys;
    if (!k)
        return;
    /* threads that still hold a handle (main, and any not joined) lose it
     * here */
    lv_per_thread_free(k->conns);
    ca_fkeys_free(k->fkeys);
    pthread_mutex_destroy(&k->lock);
    free(k);
    ca->keys = NULL;
}

int ca_keyc(lv_ca *ca, keyc **out, lv_err *err)
{
    ca_keys *k = ca->keys;
    *out = lv_per_thread_get(k->conns);
    if (*out)
        return 0;
    LV_TRY(keyc_open(k->path, k->caller, out, err));
    if (lv_per_thread_set(k->conns, *out) == 0)
        return 0;
    keyc_close(*out);
    *out = NULL;
    return lv_fail(err, LV_ENOMEM, "out of memory");
}

int ca_keys_note(lv_ca *ca, int rc)
{
    ca_keys *k = ca->keys;
    if (rc == 0)
        atomic_store(&k->state, KEYS_READY);
    else if (rc == LV_ESEALED)
        atomic_store(&k->state, KEYS_SEALED);
    else if (rc == LV_EBUSY)
        atomic_store(&k->state, KEYS_DOWN);
    if (rc == LV_ESEALED || rc == LV_EBUSY)
        atomic_store(&k->probed_ms, now_ms());
    return rc;
}

void ca_keys_invalidate(lv_ca *ca)
{
    atomic_store(&ca->keys->state, KEYS_UNKNOWN);
    atomic_store(&ca->keys->probed_ms, 0);
}

int ca_keys_status(lv_ca *ca, keyc_info *out, lv_err *err)
{
    keyc *c = NULL;
    memset(out, 0, sizeof *out);
    LV_TRY(ca_keyc(ca, &c, err));
    int rc = keyc_status(c, out, err);
    if (rc == 0)
        atomic_store(&ca->keys->state, out->sealed ? KEYS_SEALED : KEYS_READY);
    else
        ca_keys_note(ca, rc);
    atomic_store(&ca->keys->probed_ms, now_ms());
    return rc;
}

int ca_sealed(lv_ca *ca)
{
    ca_keys *k = ca->keys;
    int s = atomic_load(&k->state);
    if (s == KEYS_READY)
        return 0;
    if (s != KEYS_UNKNOWN &&
        now_ms() - atomic_load(&k->probed_ms) < PROBE_INTERVAL_MS)
        return 1;
    keyc_info info;
    if (ca_keys_status(ca, &info, NULL) < 0)
        return 1;
    return info.sealed;
}

int ca_need_keys(lv_ca *ca, const char *what, lv_err *err)
{
    if (!ca_sealed(ca))
        return 0;
    if (atomic_load(&ca->keys->state) == KEYS_DOWN)
        return lv_fail_retry(err, LV_EBUSY, 1,
                             "the key service (llave-keyd) is unavailable: %s",
                             what);
    return lv_fail(err, LV_ESEALED,
                   "the key store is sealed: 2 of 3 custodian shares are "
                   "needed (llave unseal): %s",
                   what);
}

/* ---- operations ---------------------------------------------------------- */

/* keyd's name of md; a digest keyd does not take is refused (R4.1). */
static int md_name(const EVP_MD *md, const char **out, lv_err *err)
{
    *out = keyd_md_name(md);
    return (*out)[0] ? 0 : lv_fail(err, LV_EINVAL, "digest not allowed (R4.1)");
}

int ca_key_sign(lv_ca *ca, const char *key_id, const EVP_MD *md,
                const unsigned char *data, size_t len, unsigned char **sig,
                size_t *sig_len, lv_err *err)
{
    unsigned char dgst[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    const char *name = NULL;
    *sig = NULL;
    *sig_len = 0;
    LV_TRY(md_name(md, &name, err));
    /* keyd signs the digest: the data (a transcript, a manifest) need not
     * fit a frame, and the signature is the one over the data */
    if (!EVP_Digest(data, len, dgst, &dlen, md, NULL))
        return lv_fail_ssl(err, LV_ECRYPTO, "digest failed");
    return ca_key_sign_digest(ca, key_id, md, dgst, dlen, sig, sig_len, err);
}

int ca_key_sign_digest(lv_ca *ca, const char *key_id, const EVP_MD *md,
                       const unsigned char *dgst, size_t dlen,
                       unsigned char **sig, size_t *sig_len, lv_err *err)
{
    keyc *c = NULL;
    const char *name = NULL;
    LV_TRY(md_name(md, &name, err));
    LV_TRY(ca_keyc(ca, &c, err));
    return ca_keys_note(
        ca, keyc_sign(c, key_id, name, dgst, dlen, 1, sig, sig_len, err));
}

int ca_key_public(lv_ca *ca, const char *key_id, EVP_PKEY **pub,
                  char key_class[16], char key_type[16], lv_err *err)
{
    keyc *c = NULL;
    LV_TRY(ca_keyc(ca, &c, err));
    return ca_keys_note(
        ca, keyc_public_key(c, key_id, pub, key_class, key_type, err));
}

int ca_key_generate(lv_ca *ca, const char *type, const char *key_class,
                    const char *label, char key_id[CA_KEY_ID_MAX + 1],
                    EVP_PKEY **pub, lv_err *err)
{
    keyc *c = NULL;
    LV_TRY(ca_keyc(ca, &c, err));
    /* R5.1: a citizen's key is made by its own request, which keyd audits
     * and keeps apart from the provider's keys */
    if (strcmp(key_class, "signer") == 0)
        return ca_keys_note(
            ca, keyc_generate_citizen_key(c, type, label, key_id, pub, err));
    return ca_keys_note(
        ca, keyc_generate_key(c, type, key_class, label, key_id, pub, err));
}

int ca_key_destroy(lv_ca *ca, const char *key_id, lv_err *err)
{
    keyc *c = NULL;
    LV_TRY(ca_keyc(ca, &c, err));
    return keyc_destroy_key(c, key_id, err);
}

int ca_key_sign_citizen(lv_ca *ca, const char *key_id, const EVP_MD *md,
                        const unsigned char *digests, size_t n,
                        const unsigned char activation[KEYD_ACTIVATION_LEN],
                        unsigned char **sigs, size_t *sig_len, lv_err *err)
{
    keyc *c = NULL;
    const char *name = NULL;
    *sigs = NULL;
    *sig_len = 0;
    LV_TRY(md_name(md, &name, err));
    LV_TRY(ca_keyc(ca, &c, err));
    return ca_keys_note(ca, keyc_sign_citizen_digests(c, key_id, name, digests,
                                                      n, activation, sigs,
                                                      sig_len, err));
}

int ca_keys_caller(const lv_ca *ca)
{
    return ca->keys->caller;
}

ca_fkey **ca_keys_fkeys(lv_ca *ca, pthread_mutex_t **lock)
{
    *lock = &ca->keys->lock;
    return &ca->keys->fkeys;
}
