/* Signature activation records (sql/011_activation.sql; issue 12): the
 * SAD of CEN EN 419 241-1 as a row.  The front end creates one after the
 * citizen's password + OTP (R3.3, R5.2); llave-keyd consumes it with one
 * conditional UPDATE before it signs, so that sole control is checked by
 * the process holding the key, against a record every node shares.
 *
 * The binding is computed here, once, for both sides: whoever writes and
 * whoever checks a record hash the same bytes. */
#include "store/store_rows.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define BINDING_LABEL "llave-activation-v2"

static const char *const MDS[] = {"sha256", "sha384", "sha512"};

/* md must be one of the canonical names exactly: the name is part of the
 * binding, so "SHA-256" and "sha256" must not make two bindings. */
static int md_size(const char *md, size_t *size, lv_err *err)
{
    for (size_t i = 0; md && i < sizeof MDS / sizeof MDS[0]; i++) {
        if (strcmp(md, MDS[i]) != 0)
            continue;
        const EVP_MD *m = EVP_get_digestbyname(md);
        if (!m)
            break;
        *size = (size_t)EVP_MD_get_size(m);
        return 0;
    }
    return lv_fail(err, LV_EINVAL, "digest algorithm %s not allowed (R4.1)",
                   md ? md : "(none)");
}

int store_activation_binding(const char *key_id, const char *md,
                             const unsigned char *digests, size_t n,
                             unsigned char out[32], lv_err *err)
{
    unsigned char count[8];
    size_t dlen = 0;
    LV_TRY(md_size(md, &dlen, err));
    if (!key_id || !*key_id || !digests || n == 0 ||
        n > LV_ACTIVATION_DIGESTS_MAX)
        return lv_fail(err, LV_EINVAL,
                       "an activation needs a key and 1 to %d "
                       "digests",
                       LV_ACTIVATION_DIGESTS_MAX);
    for (int i = 0; i < 8; i++)
        count[i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(c, BINDING_LABEL, sizeof BINDING_LABEL) &&
             EVP_DigestUpdate(c, key_id, strlen(key_id) + 1) &&
             EVP_DigestUpdate(c, md, strlen(md) + 1) &&
             EVP_DigestUpdate(c, count, sizeof count) &&
             EVP_DigestUpdate(c, digests, n * dlen) &&
             EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
    return ok ? 0 : lv_fail(err, LV_ECRYPTO, "cannot hash the activation");
}

int store_activation_id(const unsigned char ref[LV_ACTIVATION_REF_LEN],
                        char id[65], lv_err *err)
{
    unsigned char h[32];
    if (EVP_Digest(ref, LV_ACTIVATION_REF_LEN, h, NULL, EVP_sha256(), NULL) !=
        1)
        return lv_fail(err, LV_ECRYPTO, "cannot hash the activation");
    lv_hex_encode(h, sizeof h, id);
    return 0;
}

static int fill_record(lv_activation_rec *r, const char *key_id, const char *md,
                       size_t n, int ttl_seconds, const char *actor,
                       lv_err *err)
{
    if (ttl_seconds < 1 || ttl_seconds > LV_ACTIVATION_REC_TTL_MAX)
        return lv_fail(err, LV_EINVAL, "activation lifetime must be 1 to %d s",
                       LV_ACTIVATION_REC_TTL_MAX);
    if (!actor || !*actor || strlen(key_id) >= sizeof r->key_id ||
        strlen(actor) >= sizeof r->actor)
        return lv_fail(err, LV_EINVAL, "activation key id or actor invalid");
    memcpy(r->key_id, key_id, strlen(key_id) + 1);
    memcpy(r->actor, actor, strlen(actor) + 1);
    snprintf(r->md, sizeof r->md, "%s", md);
    r->n = (int64_t)n;
    r->created_at = lv_now();
    r->expires_at = r->created_at + ttl_seconds;
    return 0;
}

int store_activation_create(lv_store *st, const char *key_id, const char *md,
                            const unsigned char *digests, size_t n,
                            int ttl_seconds, const char *actor,
                            unsigned char ref[LV_ACTIVATION_REF_LEN],
                            lv_err *err)
{
    lv_activation_rec r = {0};
    int rc;
    LV_TRY(store_activation_binding(key_id, md, digests, n, r.binding, err));
    LV_TRY(fill_record(&r, key_id, md, n, ttl_seconds, actor, err));
    if (lv_random(ref, LV_ACTIVATION_REF_LEN) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness for an activation");
    LV_TRY_GOTO(rc, store_activation_id(ref, r.id, err), fail);
    LV_TRY_GOTO(rc, store_row_insert(st, &store_row_activation, &r, err), fail);
    return 0;
fail:
    OPENSSL_cleanse(ref, LV_ACTIVATION_REF_LEN);
    return rc;
}

int store_activation_get(lv_store *st, const char *id, lv_activation_rec *out,
                         lv_err *err)
{
    return store_row_by_key(st, &store_row_activation, id, out, err,
                            "no activation %s", id);
}

/* The one step of R5.2 in keyd: existence, single use, expiry, key,
 * algorithm, count and digests are all conditions of the same UPDATE, so
 * no interleaving of two presentations can sign twice. */
int store_activation_consume(lv_store *st, const char *id, const char *key_id,
                             const char *md, int64_t n,
                             const unsigned char binding[32], int64_t now,
                             const char *used_by, lv_err *err)
{
    int64_t changed = 0;
    LV_TRY(STORE_RUN(st, &changed, err,
                     "UPDATE sign_activations SET used_at = ?, used_by = ?"
                     " WHERE id = ? AND used_at IS NULL AND expires_at > ?"
                     " AND key_id = ? AND md = ? AND n = ? AND binding = ?",
                     SQ_INT(now), SQ_TEXT(used_by), SQ_TEXT(id), SQ_INT(now),
                     SQ_TEXT(key_id), SQ_TEXT(md), SQ_INT(n),
                     SQ_BLOB(binding, 32)));
    return store_one(changed, err, LV_EPERM,
                     "no unused, unexpired activation for this key and "
                     "these digests (R5.2)");
}

int store_activation_burn(lv_store *st, const char *id, int64_t now,
                          const char *used_by, const char *refusal, lv_err *err)
{
    return STORE_RUN(st, NULL, err,
                     "UPDATE sign_activations SET used_at = ?, used_by = ?,"
                     " refusal = ? WHERE id = ? AND used_at IS NULL",
                     SQ_INT(now), SQ_TEXT(used_by), SQ_TEXT(refusal),
                     SQ_TEXT(id));
}

int store_activation_purge(lv_store *st, int64_t before, int *count,
                           lv_err *err)
{
    return STORE_CHANGED(st, count, err,
                         "DELETE FROM sign_activations WHERE expires_at < ?",
                         SQ_INT(before));
}
