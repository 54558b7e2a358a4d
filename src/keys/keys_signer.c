/* Signer keys under sole control (R5.1, R5.2, CPS §6.2.7.2): single-use,
 * short-lived activation tokens bound to one key and one list of digests,
 * and the raw PKCS#1 v1.5 signatures they unlock.
 *
 * Only SHA-256 of a token is kept, next to SHA-256 of what it is bound to
 * (key id, digest algorithm, the digests in order), so that a copy of this
 * process's memory does not hand out usable tokens and a token can never
 * be stretched to other data.  The table lives under the key store's mutex;
 * entries are few (one per signing request in flight) and short-lived. */
#include "keys/keys_internal.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_RAW 32
#define BIND_LABEL "llave-activation-v1"

struct keys_activation {
    unsigned char token_hash[32];
    unsigned char binding[32];
    char key_id[LV_KEY_ID_LEN + 1];
    int64_t expires_ms;
    struct keys_activation *next;
};

/* ---- hashing ---------------------------------------------------------------
 */

static int sha256_of(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 ? 0
                                                                   : LV_ECRYPTO;
}

/* SHA-256(label || 0 || key id || 0 || md name || 0 || n (8 bytes, big
 * endian) || digests): changing any of them changes the binding. */
static int binding_of(const char *key_id, const EVP_MD *md,
                      const unsigned char *digests, size_t n,
                      unsigned char out[32])
{
    unsigned char count[8];
    const char *name = EVP_MD_get0_name(md);
    size_t dlen = (size_t)EVP_MD_get_size(md);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    for (int i = 0; i < 8; i++)
        count[i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    int ok = c && name && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(c, BIND_LABEL, sizeof BIND_LABEL) &&
             EVP_DigestUpdate(c, key_id, strlen(key_id) + 1) &&
             EVP_DigestUpdate(c, name, strlen(name) + 1) &&
             EVP_DigestUpdate(c, count, sizeof count) &&
             EVP_DigestUpdate(c, digests, n * dlen) &&
             EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
    return ok ? 0 : LV_ECRYPTO;
}

/* ---- the table (callers hold ks->lock)
 * ---------------------------------------- */

static void purge_expired(lv_keystore *ks, int64_t now_ms)
{
    struct keys_activation **pp = &ks->activations;
    while (*pp) {
        struct keys_activation *a = *pp;
        if (a->expires_ms > now_ms) {
            pp = &a->next;
            continue;
        }
        *pp = a->next;
        OPENSSL_cleanse(a, sizeof *a);
        free(a);
        ks->activations_pending--;
    }
}

/* Unlinks the entry of token_hash (constant-time compare per entry). */
static struct keys_activation *take_entry(lv_keystore *ks,
                                          const unsigned char hash[32])
{
    struct keys_activation **pp = &ks->activations;
    for (; *pp; pp = &(*pp)->next) {
        if (CRYPTO_memcmp((*pp)->token_hash, hash, 32) == 0) {
            struct keys_activation *a = *pp;
            *pp = a->next;
            ks->activations_pending--;
            return a;
        }
    }
    return NULL;
}

void keys_activations_free(lv_keystore *ks)
{
    if (!ks)
        return;
    purge_expired(ks, INT64_MAX);
}

size_t keys_activation_pending(lv_keystore *ks)
{
    if (!ks)
        return 0;
    pthread_mutex_lock(&ks->lock);
    purge_expired(ks, lv_now_ms());
    size_t n = ks->activations_pending;
    pthread_mutex_unlock(&ks->lock);
    return n;
}

/* ---- checks
 * --------------------------------------------------------------------- */

static int check_digests(const EVP_MD *md, const unsigned char *digests,
                         size_t n, lv_err *err)
{
    if (!md || EVP_MD_get_size(md) <= 0)
        return lv_fail(err, LV_EINVAL, "no digest algorithm");
    if (!digests || n == 0 || n > LV_SIGNER_BATCH_MAX)
        return lv_fail(err, LV_EINVAL, "1 to %d digests per activation",
                       LV_SIGNER_BATCH_MAX);
    return 0;
}

/* The key exists, opens under this store's master key, and is a citizen's
 * signer key (CA and service keys have keys_sign; they never take tokens). */
static int signer_key(lv_keystore *ks, const char *key_id, keys_ref *r,
                      lv_err *err)
{
    if (!ks || !ks->master)
        return lv_fail(err, LV_ESEALED,
                       "key store not opened (needs 2 of 3 shares)");
    if (!key_id || !keys_id_valid(key_id))
        return lv_fail(err, LV_EINVAL, "invalid key id");
    LV_TRY(keys_ref_get(ks, key_id, r, err));
    if (r->meta.cls != LV_KEY_CLASS_SIGNER) {
        keys_ref_put(r);
        return lv_fail(err, LV_EPERM,
                       "key %s is not a signer key: activation tokens are "
                       "for citizens' keys only",
                       key_id);
    }
    return 0;
}

/* ---- mint
 * -------------------------------------------------------------------------- */

static int mint_entry(const char *key_id, const EVP_MD *md,
                      const unsigned char *digests, size_t n, int ttl_seconds,
                      struct keys_activation *a,
                      char token_out[LV_ACTIVATION_TOKEN_LEN + 1], lv_err *err)
{
    unsigned char raw[TOKEN_RAW];
    if (lv_random(raw, sizeof raw) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness for a token");
    int rc = sha256_of(raw, sizeof raw, a->token_hash);
    if (rc == 0)
        rc = binding_of(key_id, md, digests, n, a->binding);
    if (rc == 0)
        lv_hex_encode(raw, sizeof raw, token_out);
    OPENSSL_cleanse(raw, sizeof raw);
    if (rc < 0)
        return lv_fail(err, rc, "cannot hash the activation");
    memcpy(a->key_id, key_id, LV_KEY_ID_LEN + 1);
    a->expires_ms = lv_now_ms() + (int64_t)ttl_seconds * 1000;
    return 0;
}

int keys_activation_mint(lv_keystore *ks, const char *key_id, const EVP_MD *md,
                         const unsigned char *digests, size_t n,
                         int ttl_seconds,
                         char token_out[LV_ACTIVATION_TOKEN_LEN + 1],
                         lv_err *err)
{
    keys_ref r;
    if (!token_out)
        return lv_fail(err, LV_EINVAL, "no place for the token");
    token_out[0] = '\0';
    if (ttl_seconds < 1 || ttl_seconds > LV_ACTIVATION_TTL_MAX)
        return lv_fail(err, LV_EINVAL, "token lifetime must be 1 to %d s",
                       LV_ACTIVATION_TTL_MAX);
    LV_TRY(check_digests(md, digests, n, err));
    LV_TRY(signer_key(ks, key_id, &r, err));
    keys_ref_put(&r);
    struct keys_activation *a = calloc(1, sizeof *a);
    if (!a)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = mint_entry(key_id, md, digests, n, ttl_seconds, a, token_out, err);
    pthread_mutex_lock(&ks->lock);
    purge_expired(ks, lv_now_ms());
    if (rc == 0 && ks->activations_pending >= LV_ACTIVATION_PENDING_MAX)
        rc = lv_fail(err, LV_ESTATE, "too many signing activations pending");
    if (rc == 0) {
        a->next = ks->activations;
        ks->activations = a;
        ks->activations_pending++;
    }
    pthread_mutex_unlock(&ks->lock);
    if (rc < 0) {
        OPENSSL_cleanse(token_out, LV_ACTIVATION_TOKEN_LEN + 1);
        token_out[0] = '\0';
        free(a);
    }
    return rc;
}

/* ---- redeem
 * ------------------------------------------------------------------------- */

/* Takes the token out of the table (single use: even a refused
 * presentation consumes it) and checks what it is bound to. */
static int redeem(lv_keystore *ks, const char *key_id, const char *token,
                  const EVP_MD *md, const unsigned char *digests, size_t n,
                  lv_err *err)
{
    unsigned char raw[TOKEN_RAW], hash[32], binding[32];
    if (!token || strlen(token) != LV_ACTIVATION_TOKEN_LEN ||
        lv_hex_decode(token, raw, sizeof raw) != TOKEN_RAW)
        return lv_fail(err, LV_EPERM, "malformed activation token");
    int rc = sha256_of(raw, sizeof raw, hash);
    OPENSSL_cleanse(raw, sizeof raw);
    if (rc == 0)
        rc = binding_of(key_id, md, digests, n, binding);
    if (rc < 0)
        return lv_fail(err, rc, "cannot hash the activation");
    pthread_mutex_lock(&ks->lock);
    struct keys_activation *a = take_entry(ks, hash);
    pthread_mutex_unlock(&ks->lock);
    if (!a)
        return lv_fail(err, LV_EPERM,
                       "activation token unknown or already used (R5.2)");
    if (a->expires_ms <= lv_now_ms())
        rc = lv_fail(err, LV_EPERM, "activation token expired (R5.2)");
    else if (strcmp(a->key_id, key_id) != 0)
        rc = lv_fail(err, LV_EPERM,
                     "activation token belongs to another key (R5.2)");
    else if (CRYPTO_memcmp(a->binding, binding, sizeof binding) != 0)
        rc = lv_fail(err, LV_EPERM,
                     "activation token was issued for other digests (R5.2, "
                     "R3.3)");
    OPENSSL_cleanse(a, sizeof *a);
    free(a);
    return rc;
}

/* PKCS#1 v1.5 over each precomputed digest (keys_ref_sign: OpenSSL's
 * DigestInfo on the file back end, ours on a PKCS#11 token where the
 * citizen's key is unwrapped for exactly this call). */
int keys_signer_sign(lv_keystore *ks, const char *key_id, const char *token,
                     const EVP_MD *md, const unsigned char *digests, size_t n,
                     unsigned char **sigs, size_t *sig_len, lv_err *err)
{
    keys_ref r;
    int rc;
    if (!sigs || !sig_len)
        return lv_fail(err, LV_EINVAL, "keys_signer_sign: missing argument");
    *sigs = NULL;
    *sig_len = 0;
    LV_TRY(check_digests(md, digests, n, err));
    LV_TRY(signer_key(ks, key_id, &r, err));
    LV_TRY_GOTO(rc, redeem(ks, key_id, token, md, digests, n, err), out);
    if (!keys_p11_is_rsa(r.meta.type) || !EVP_PKEY_is_a(r.pkey, "RSA")) {
        rc = lv_fail(err, LV_EINVAL, "key %s: only RSA signer keys", key_id);
        goto out;
    }
    rc = keys_ref_sign(ks, &r, md, digests, n, sigs, sig_len, err);
out:
    keys_ref_put(&r);
    return rc;
}
