/* DIR/keys/keystore.json and the life cycle of an open store: create (key
 * ceremony), open with 2 of 3 custodian shares (R9.5, CPS §6.2.2, §6.2.8),
 * close.  The master key itself never touches disk; keystore.json holds
 *
 *   { "format": "llave-keystore", "version": 1, "created": ISO-8601,
 *     "cipher": "aes-256-gcm",
 *     "sharing": { "scheme": "shamir-gf256", "library": "libgfshare",
 *                  "total": 3, "needed": 2 },
 *     "shares": [ { "index": 1, "sha256": hex }, ... ],
 *     "check": { "nonce": hex, "ciphertext": hex, "tag": hex } }
 *
 * "sha256" = SHA-256("llave-share-digest" || n || share) names a single wrong
 * share; "check" seals a fixed label under the master key with AAD binding
 * the creation time and the share digests, so a combination that does not
 * give the master key, or an edited keystore.json, is refused. */
#include "keys/keys_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_FILE "keystore.json"
#define STORE_VERSION 1
#define STORE_MAX (64 * 1024)
#define CHECK_LABEL "llave key store master key check v1"
#define CHECK_LEN (sizeof CHECK_LABEL - 1)
#define DIGEST_LEN 32

typedef struct {
    char created[32];
    unsigned char digests[LV_SHARES_TOTAL][DIGEST_LEN];
    unsigned char nonce[LV_GCM_NONCE_LEN];
    unsigned char tag[LV_GCM_TAG_LEN];
    unsigned char check[CHECK_LEN];
} store_info;

/* ---- paths -------------------------------------------------------------- */
static int store_paths(const char *dir, char kdir[LV_KEYS_PATH_MAX],
                       char path[LV_KEYS_PATH_MAX], const char *name,
                       lv_err *err)
{
    if (!dir || !*dir)
        return lv_fail(err, LV_EINVAL, "no data directory given");
    if (lv_path_join(kdir, LV_KEYS_PATH_MAX, dir, "keys") < 0 ||
        lv_path_join(path, LV_KEYS_PATH_MAX, kdir, name) < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    return 0;
}

/* Makes a rename or link durable. */
int keys_fsync_dir(const char *kdir, lv_err *err)
{
    int fd = open(kdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int rc = lv_fail(err, LV_EIO, "%s: %s", kdir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    close(fd);
    return 0;
}

/* ---- the check value ---------------------------------------------------- */
static int check_aad(const store_info *si, lv_buf *aad)
{
    LV_TRY(lv_buf_append(aad, "llave-keystore-v1", 18));
    LV_TRY(lv_buf_append(aad, si->created, strlen(si->created) + 1));
    return lv_buf_append(aad, si->digests, sizeof si->digests);
}

static int check_seal(const unsigned char *master, store_info *si, lv_err *err)
{
    lv_buf aad = {0};
    int rc = check_aad(si, &aad);
    if (rc < 0)
        rc = lv_fail(err, rc, "out of memory");
    else
        rc = keys_gcm_seal(master, aad.data, aad.len,
                           (const unsigned char *)CHECK_LABEL, CHECK_LEN,
                           si->nonce, si->check, si->tag, err);
    lv_buf_free(&aad);
    return rc;
}

static int check_verify(const unsigned char *master, const store_info *si)
{
    unsigned char pt[CHECK_LEN];
    lv_buf aad = {0};
    int rc = check_aad(si, &aad);
    if (rc == 0)
        rc = keys_gcm_open(master, aad.data, aad.len, si->nonce, si->check,
                           CHECK_LEN, si->tag, pt, NULL);
    if (rc == 0 && CRYPTO_memcmp(pt, CHECK_LABEL, CHECK_LEN) != 0)
        rc = LV_EAUTH;
    lv_buf_free(&aad);
    return rc;
}

/* ---- keystore.json ------------------------------------------------------ */
static json_t *store_shares_json(const store_info *si)
{
    json_t *arr = json_array();
    for (int i = 0; arr && i < LV_SHARES_TOTAL; i++) {
        char hex[2 * DIGEST_LEN + 1];
        lv_hex_encode(si->digests[i], DIGEST_LEN, hex);
        if (json_array_append_new(arr, json_pack("{s:i, s:s}", "index", i + 1,
                                                 "sha256", hex)) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *store_json(const store_info *si)
{
    char nonce[2 * LV_GCM_NONCE_LEN + 1], tag[2 * LV_GCM_TAG_LEN + 1];
    char check[2 * CHECK_LEN + 1];
    lv_hex_encode(si->nonce, sizeof si->nonce, nonce);
    lv_hex_encode(si->tag, sizeof si->tag, tag);
    lv_hex_encode(si->check, sizeof si->check, check);
    return json_pack(
        "{s:s, s:i, s:s, s:s, s:{s:s, s:s, s:i, s:i}, s:o, s:{s:s, s:s, "
        "s:s}}",
        "format", "llave-keystore", "version", STORE_VERSION, "created",
        si->created, "cipher", "aes-256-gcm", "sharing", "scheme",
        "shamir-gf256", "library", "libgfshare", "total", LV_SHARES_TOTAL,
        "needed", LV_SHARES_NEEDED, "shares", store_shares_json(si), "check",
        "nonce", nonce, "ciphertext", check, "tag", tag);
}

/* A name of our own, so that a concurrent create cannot slip its file under
 * our link(). */
static int store_tmp_name(const char *path, char tmp[LV_KEYS_PATH_MAX],
                          lv_err *err)
{
    unsigned char raw[8];
    char hex[2 * sizeof raw + 1];
    if (lv_random(raw, sizeof raw) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness");
    lv_hex_encode(raw, sizeof raw, hex);
    if (snprintf(tmp, LV_KEYS_PATH_MAX, "%s.new.%s", path, hex) >=
        LV_KEYS_PATH_MAX)
        return lv_fail(err, LV_EINVAL, "path too long");
    return 0;
}

/* Written beside the final name and then link()ed, which unlike rename()
 * refuses to replace an existing store: two ceremonies racing on one
 * directory cannot destroy each other's master key check. */
static int store_link(const char *tmp, const char *path, const char *kdir,
                      lv_err *err)
{
    int rc = 0;
    if (link(tmp, path) != 0)
        rc = errno == EEXIST
                 ? lv_fail(err, LV_EEXISTS, "a key store exists in %s", kdir)
                 : lv_fail(err, LV_EIO, "%s: %s", path, strerror(errno));
    unlink(tmp);
    return rc < 0 ? rc : keys_fsync_dir(kdir, err);
}

static int store_write(const char *kdir, const char *path, const store_info *si,
                       lv_err *err)
{
    char tmp[LV_KEYS_PATH_MAX];
    json_t *o = store_json(si);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    int rc;

    if (!text) {
        rc = lv_fail(err, LV_ENOMEM, "cannot build keystore.json");
        goto out;
    }
    LV_TRY_GOTO(rc, store_tmp_name(path, tmp, err), out);
    LV_TRY_GOTO(rc, lv_file_write(tmp, text, strlen(text), 0600, err), out);
    rc = store_link(tmp, path, kdir, err);
out:
    free(text);
    json_decref(o);
    return rc;
}

static int store_parse_shares(const json_t *arr, store_info *si)
{
    if (!json_is_array(arr) || json_array_size(arr) != LV_SHARES_TOTAL)
        return LV_EINVAL;
    for (size_t i = 0; i < LV_SHARES_TOTAL; i++) {
        json_t *e = json_array_get(arr, i);
        json_t *idx = json_object_get(e, "index");
        if (!json_is_integer(idx) || json_integer_value(idx) != (int)i + 1)
            return LV_EINVAL;
        LV_TRY(keys_json_hex(e, "sha256", si->digests[i], DIGEST_LEN));
    }
    return 0;
}

static int store_parse(const json_t *o, store_info *si)
{
    const char *format = lv_json_str(o, "format");
    const char *created = lv_json_str(o, "created");
    json_t *version = json_object_get(o, "version");
    json_t *check = json_object_get(o, "check");

    if (!format || strcmp(format, "llave-keystore") != 0 ||
        !json_is_integer(version) ||
        json_integer_value(version) != STORE_VERSION || !created ||
        strlen(created) >= sizeof si->created)
        return LV_EINVAL;
    strcpy(si->created, created);
    LV_TRY(store_parse_shares(json_object_get(o, "shares"), si));
    LV_TRY(keys_json_hex(check, "nonce", si->nonce, sizeof si->nonce));
    LV_TRY(keys_json_hex(check, "tag", si->tag, sizeof si->tag));
    return keys_json_hex(check, "ciphertext", si->check, sizeof si->check);
}

static int store_load(const char *path, store_info *si, lv_err *err)
{
    struct stat st;
    json_t *o = NULL;

    if (stat(path, &st) != 0)
        return errno == ENOENT
                   ? lv_fail(err, LV_ENOTFOUND, "no key store: %s missing",
                             path)
                   : lv_fail(err, LV_EIO, "%s: %s", path, strerror(errno));
    LV_TRY(lv_json_load_file(path, &o, err));
    int rc = store_parse(o, si);
    json_decref(o);
    if (rc < 0)
        return lv_fail(err, LV_EIO, "%s is not a valid llave key store", path);
    return 0;
}

/* ---- create ------------------------------------------------------------- */
static int create_dir(const char *kdir, const char *path, lv_err *err)
{
    struct stat st;
    LV_TRY(lv_mkdir_p(kdir, 0700, err));
    /* CPS §6.2: only the service account may even list the sealed keys. */
    if (chmod(kdir, 0700) != 0)
        return lv_fail(err, LV_EIO, "%s: %s", kdir, strerror(errno));
    if (stat(path, &st) == 0)
        return lv_fail(err, LV_EEXISTS, "a key store already exists in %s",
                       kdir);
    if (errno != ENOENT)
        return lv_fail(err, LV_EIO, "%s: %s", path, strerror(errno));
    return 0;
}

static int create_info(const unsigned char *master,
                       const lv_share sh[LV_SHARES_TOTAL], store_info *si,
                       lv_err *err)
{
    memset(si, 0, sizeof *si);
    lv_time_iso(lv_now(), si->created);
    for (int i = 0; i < LV_SHARES_TOTAL; i++)
        keys_share_digest(&sh[i], si->digests[i]);
    return check_seal(master, si, err);
}

/* keystore.json is written last: a ceremony that fails on the token leaves
 * no store behind (pkcs11.json alone opens nothing). */
static int create_store(const char *dir, const lv_p11_conf *p11,
                        char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX],
                        lv_err *err)
{
    char kdir[LV_KEYS_PATH_MAX], path[LV_KEYS_PATH_MAX];
    unsigned char master[LV_MASTER_KEY_LEN];
    lv_share sh[LV_SHARES_TOTAL];
    store_info si;
    keys_p11 *token = NULL;
    int rc;

    if (!shares)
        return lv_fail(err, LV_EINVAL, "no place for the shares");
    LV_TRY(store_paths(dir, kdir, path, STORE_FILE, err));
    LV_TRY(create_dir(kdir, path, err));
    if (lv_random(master, sizeof master) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness for the master key");
    LV_TRY_GOTO(rc, keys_share_split(master, sh, err), out);
    LV_TRY_GOTO(rc, create_info(master, sh, &si, err), out);
    if (p11)
        LV_TRY_GOTO(rc, keys_p11_conf_create(kdir, p11, master, &token, err),
                    out);
    LV_TRY_GOTO(rc, store_write(kdir, path, &si, err), out);
    for (int i = 0; i < LV_SHARES_TOTAL; i++)
        keys_share_format(&sh[i], shares[i]);
out:
    if (rc < 0 && token)
        keys_p11_conf_undo(kdir, token);
    keys_p11_close(token);
    OPENSSL_cleanse(master, sizeof master);
    OPENSSL_cleanse(sh, sizeof sh);
    return rc;
}

int keys_create(const char *dir,
                char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX], lv_err *err)
{
    return create_store(dir, NULL, shares, err);
}

int keys_create_pkcs11(const char *dir, const lv_p11_conf *conf,
                       char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX],
                       lv_err *err)
{
    if (!conf || !conf->module || !conf->token || !conf->pin ||
        !*conf->module || !*conf->token)
        return lv_fail(err, LV_EINVAL,
                       "PKCS#11 key store: module, token label and user PIN "
                       "are needed");
    return create_store(dir, conf, shares, err);
}

/* ---- open --------------------------------------------------------------- */
static int open_parse_one(const char *text, size_t pos, lv_share *out,
                          lv_err *err)
{
    lv_err sub = {0};
    if (keys_share_parse(text, out, &sub) < 0)
        return lv_fail(err, LV_EAUTH, "%s (share given as #%zu)", sub.msg,
                       pos + 1);
    return 0;
}

/* Parses every share given and keeps the distinct ones; an index given
 * twice is refused rather than silently ignored: one of the two is wrong or
 * a custodian was counted twice (R9.5: two different custodians). */
static int open_parse(const char *const *shares, size_t n,
                      lv_share sh[LV_SHARES_TOTAL], size_t *count, lv_err *err)
{
    int seen[LV_SHARES_TOTAL + 1] = {0};
    *count = 0;
    if (n > LV_SHARES_TOTAL)
        return lv_fail(err, LV_EAUTH, "%zu shares given, there are only %d", n,
                       LV_SHARES_TOTAL);
    for (size_t i = 0; i < n; i++) {
        LV_TRY(open_parse_one(shares[i], i, &sh[i], err));
        if (seen[sh[i].index]++)
            return lv_fail(err, LV_EAUTH,
                           "share %u given twice: %d different custodians "
                           "are needed",
                           (unsigned)sh[i].index, LV_SHARES_NEEDED);
        (*count)++;
    }
    if (*count < LV_SHARES_NEEDED)
        return lv_fail(err, LV_EAUTH,
                       "%zu share(s) given: %d of %d are needed (R9.5)", *count,
                       LV_SHARES_NEEDED, LV_SHARES_TOTAL);
    return 0;
}

static int open_match(const lv_share *sh, size_t count, const store_info *si,
                      lv_err *err)
{
    for (size_t i = 0; i < count; i++) {
        unsigned char d[DIGEST_LEN];
        keys_share_digest(&sh[i], d);
        if (CRYPTO_memcmp(d, si->digests[sh[i].index - 1], DIGEST_LEN))
            return lv_fail(err, LV_EAUTH,
                           "share %u does not belong to this key store",
                           (unsigned)sh[i].index);
    }
    return 0;
}

static int open_master(const char *const *shares, size_t n,
                       const store_info *si, unsigned char *master, lv_err *err)
{
    lv_share sh[LV_SHARES_TOTAL];
    size_t count = 0;
    int rc;

    LV_TRY_GOTO(rc, open_parse(shares, n, sh, &count, err), out);
    LV_TRY_GOTO(rc, open_match(sh, count, si, err), out);
    LV_TRY_GOTO(rc, keys_share_combine(sh, count, master, err), out);
    if (check_verify(master, si) < 0)
        rc = lv_fail(err, LV_EAUTH,
                     "the shares do not reproduce the master key (key "
                     "store file altered?)");
out:
    OPENSSL_cleanse(sh, sizeof sh);
    return rc;
}

static int open_alloc(const char *kdir, unsigned char *master,
                      lv_keystore **out, lv_err *err)
{
    lv_keystore *ks = calloc(1, sizeof *ks);
    if (!ks || pthread_mutex_init(&ks->lock, NULL) != 0) {
        free(ks);
        return lv_fail(err, LV_ENOMEM, "cannot allocate the key store");
    }
    strcpy(ks->dir, kdir);
    ks->master = master;
    /* PKCS#11: the shares just gave the master key, which opens the token's
     * PIN (issue 16 item 4); a token that refuses leaves the store shut. */
    int rc = keys_p11_attach(ks, err);
    if (rc < 0) {
        ks->master = NULL; /* the caller's to wipe */
        pthread_mutex_destroy(&ks->lock);
        free(ks);
        return rc;
    }
    *out = ks;
    return 0;
}

int keys_open(const char *dir, const char *const *shares, size_t n,
              lv_keystore **out, lv_err *err)
{
    char kdir[LV_KEYS_PATH_MAX], path[LV_KEYS_PATH_MAX];
    unsigned char *master = NULL;
    store_info si;
    int rc;

    if (!out || (n > 0 && !shares))
        return lv_fail(err, LV_EINVAL, "keys_open: missing argument");
    *out = NULL;
    LV_TRY(store_paths(dir, kdir, path, STORE_FILE, err));
    LV_TRY(store_load(path, &si, err));
    /* The secure heap (if the program set one up) keeps it out of swap. */
    master = OPENSSL_secure_zalloc(LV_MASTER_KEY_LEN);
    if (!master)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    LV_TRY_GOTO(rc, open_master(shares, n, &si, master, err), fail);
    LV_TRY_GOTO(rc, open_alloc(kdir, master, out, err), fail);
    return 0;
fail:
    OPENSSL_secure_clear_free(master, LV_MASTER_KEY_LEN);
    return rc;
}

/* Drops every cached private key and wipes the master key.  The caller
 * guarantees no other thread still uses ks. */
void keys_close(lv_keystore *ks)
{
    if (!ks)
        return;
    keys_cache_free(ks);
    keys_activations_free(ks);
    keys_p11_close(ks->p11);
    pthread_mutex_destroy(&ks->lock);
    OPENSSL_secure_clear_free(ks->master, LV_MASTER_KEY_LEN);
    OPENSSL_cleanse(ks, sizeof *ks);
    free(ks);
}

/* ---- share rotation (R9.5) ---------------------------------------------- */
/* The same master key under three new shares: `created` stays (the AAD of
 * every key file binds its own metadata, never the shares), the digests
 * and the check value are new, so an old share no longer matches. */
static int rotate_info(const unsigned char *master,
                       const lv_share sh[LV_SHARES_TOTAL], store_info *si,
                       lv_err *err)
{
    for (int i = 0; i < LV_SHARES_TOTAL; i++)
        keys_share_digest(&sh[i], si->digests[i]);
    return check_seal(master, si, err);
}

/* rename() over the old file: readers see the old or the new store, never
 * a mixture (lv_file_write is temp file + fsync + rename). */
static int store_replace(const char *kdir, const char *path,
                         const store_info *si, lv_err *err)
{
    json_t *o = store_json(si);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    int rc = text ? lv_file_write(path, text, strlen(text), 0600, err)
                  : lv_fail(err, LV_ENOMEM, "cannot build keystore.json");
    free(text);
    json_decref(o);
    return rc < 0 ? rc : keys_fsync_dir(kdir, err);
}

int keys_rotate_shares(const char *dir, const char *const *shares, size_t n,
                       char out[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX],
                       lv_err *err)
{
    char kdir[LV_KEYS_PATH_MAX], path[LV_KEYS_PATH_MAX];
    unsigned char *master = NULL;
    lv_share sh[LV_SHARES_TOTAL];
    store_info si;
    int rc;

    if (!out || (n > 0 && !shares))
        return lv_fail(err, LV_EINVAL, "keys_rotate_shares: missing argument");
    LV_TRY(store_paths(dir, kdir, path, STORE_FILE, err));
    LV_TRY(store_load(path, &si, err));
    master = OPENSSL_secure_zalloc(LV_MASTER_KEY_LEN);
    if (!master)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    LV_TRY_GOTO(rc, open_master(shares, n, &si, master, err), out);
    LV_TRY_GOTO(rc, keys_share_split(master, sh, err), out);
    LV_TRY_GOTO(rc, rotate_info(master, sh, &si, err), out);
    LV_TRY_GOTO(rc, store_replace(kdir, path, &si, err), out);
    for (int i = 0; i < LV_SHARES_TOTAL; i++)
        keys_share_format(&sh[i], out[i]);
out:
    OPENSSL_secure_clear_free(master, LV_MASTER_KEY_LEN);
    OPENSSL_cleanse(sh, sizeof sh);
    return rc;
}

/* ---- unseal sessions (R9.5: two distinct custodians, one at a time) ----- */
struct lv_unseal {
    char dir[LV_KEYS_PATH_MAX];
    lv_share *held; /* secure heap, LV_SHARES_TOTAL slots */
    size_t count;
};

int keys_unseal_new(const char *dir, lv_unseal **out, lv_err *err)
{
    lv_unseal *u = calloc(1, sizeof *u);
    *out = NULL;
    if (!u)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    u->held = OPENSSL_secure_zalloc(sizeof(lv_share) * LV_SHARES_TOTAL);
    if (!u->held || snprintf(u->dir, sizeof u->dir, "%s", dir ? dir : "") >=
                        (int)sizeof u->dir) {
        keys_unseal_free(u);
        return lv_fail(err, LV_EINVAL, "cannot start an unseal session");
    }
    *out = u;
    return 0;
}

void keys_unseal_reset(lv_unseal *u)
{
    if (!u)
        return;
    if (u->held)
        OPENSSL_cleanse(u->held, sizeof(lv_share) * LV_SHARES_TOTAL);
    u->count = 0;
}

void keys_unseal_free(lv_unseal *u)
{
    if (!u)
        return;
    if (u->held)
        OPENSSL_secure_clear_free(u->held, sizeof(lv_share) * LV_SHARES_TOTAL);
    free(u);
}

size_t keys_unseal_received(const lv_unseal *u)
{
    return u ? u->count : 0;
}

/* A share is judged on arrival, against the keystore.json of the moment
 * (a rotation in between is seen): its checksum, then its digest. */
static int unseal_admit(lv_unseal *u, const char *text, lv_share *s,
                        store_info *si, lv_err *err)
{
    char kdir[LV_KEYS_PATH_MAX], path[LV_KEYS_PATH_MAX];
    unsigned char d[DIGEST_LEN];
    LV_TRY(keys_share_parse(text, s, err));
    LV_TRY(store_paths(u->dir, kdir, path, STORE_FILE, err));
    LV_TRY(store_load(path, si, err));
    keys_share_digest(s, d);
    if (CRYPTO_memcmp(d, si->digests[s->index - 1], DIGEST_LEN))
        return lv_fail(err, LV_EAUTH,
                       "share %u does not belong to this key store (wrong or "
                       "rotated share)",
                       (unsigned)s->index);
    for (size_t i = 0; i < u->count; i++)
        if (u->held[i].index == s->index)
            return lv_fail(err, LV_EEXISTS,
                           "share %u was already received: a different "
                           "custodian must submit the next share",
                           (unsigned)s->index);
    return 0;
}

static int unseal_open(lv_unseal *u, const store_info *si, lv_keystore **ks,
                       lv_err *err)
{
    char kdir[LV_KEYS_PATH_MAX], path[LV_KEYS_PATH_MAX];
    unsigned char *master = OPENSSL_secure_zalloc(LV_MASTER_KEY_LEN);
    int rc;
    if (!master)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    LV_TRY_GOTO(rc, store_paths(u->dir, kdir, path, STORE_FILE, err), fail);
    LV_TRY_GOTO(rc, keys_share_combine(u->held, u->count, master, err), fail);
    if (check_verify(master, si) < 0) {
        rc = lv_fail(err, LV_EAUTH,
                     "the shares do not reproduce the master key (key store "
                     "file altered?)");
        goto fail;
    }
    LV_TRY_GOTO(rc, open_alloc(kdir, master, ks, err), fail);
    return 0;
fail:
    OPENSSL_secure_clear_free(master, LV_MASTER_KEY_LEN);
    return rc;
}

int keys_unseal_add(lv_unseal *u, const char *share, unsigned *index,
                    size_t *received, lv_keystore **ks, lv_err *err)
{
    lv_share s = {0};
    store_info si;
    int rc;
    *index = 0;
    *ks = NULL;
    *received = u->count;
    rc = unseal_admit(u, share, &s, &si, err);
    if (s.index >= 1 && s.index <= LV_SHARES_TOTAL)
        *index = s.index;
    if (rc == 0 && u->count < LV_SHARES_TOTAL)
        u->held[u->count++] = s;
    OPENSSL_cleanse(&s, sizeof s);
    if (rc < 0 || u->count < LV_SHARES_NEEDED) {
        *received = u->count;
        return rc;
    }
    /* Success or not, the shares are forgotten: a failed combination means
     * the key store file changed under us and both must be given again. */
    rc = unseal_open(u, &si, ks, err);
    *received = rc == 0 ? u->count : 0;
    keys_unseal_reset(u);
    return rc;
}
