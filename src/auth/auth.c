/* The auth context: DIR/auth.key and its sub-keys, roles, and the keyed
 * hashing and sealing primitives the other auth/ files share. */
#include "auth/auth_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GCM_NONCE 12
#define GCM_TAG 16

/* ---- roles (R1.4, CPS §5.2.1) -------------------------------------------- */

static const struct {
    unsigned bit;
    const char *name;
} ROLES[] = {
    {LV_ROLE_AUDITOR, "auditor"},
    {LV_ROLE_SYSADMIN, "sysadmin"},
    {LV_ROLE_CA_ADMIN, "ca_admin"},
    {LV_ROLE_CA_OPERATOR, "ca_operator"},
    {LV_ROLE_RA_ADMIN, "ra_admin"},
    {LV_ROLE_RA_OFFICER, "ra_officer"},
    {LV_ROLE_REVOCATION_OFFICER, "revocation_officer"},
    {LV_ROLE_SECURITY_OFFICER, "security_officer"},
    {LV_ROLE_VALIDATION_OFFICER, "validation_officer"},
    {LV_ROLE_CITIZEN, "citizen"},
};
#define NROLES (sizeof ROLES / sizeof ROLES[0])

const char *auth_role_name(unsigned role)
{
    for (size_t i = 0; i < NROLES; i++)
        if (ROLES[i].bit == role)
            return ROLES[i].name;
    return NULL;
}

int auth_role_parse(const char *name, unsigned *role, lv_err *err)
{
    for (size_t i = 0; name && i < NROLES; i++)
        if (strcmp(ROLES[i].name, name) == 0) {
            *role = ROLES[i].bit;
            return 0;
        }
    return lv_fail(err, LV_EINVAL,
                   "unknown role '%s' (roles: auditor, sysadmin, ca_admin, "
                   "ca_operator, ra_admin, ra_officer, revocation_officer, "
                   "security_officer, validation_officer)",
                   name ? name : "");
}

json_t *auth_roles_json(unsigned roles)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < NROLES; i++)
        if (roles & ROLES[i].bit)
            json_array_append_new(a, json_string(ROLES[i].name));
    return a;
}

int auth_roles_format(unsigned roles, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NROLES; i++) {
        if (!(roles & ROLES[i].bit))
            continue;
        int n = snprintf(out + used, cap - used, "%s%s", used ? "," : "",
                         ROLES[i].name);
        if (n < 0 || (size_t)n >= cap - used)
            return LV_EINVAL;
        used += (size_t)n;
    }
    return 0;
}

/* Unknown names are ignored: a role removed from the table grants nothing. */
unsigned auth_roles_parse_list(const char *list)
{
    unsigned roles = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list ? list : "");
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        unsigned r = 0;
        if (auth_role_parse(t, &r, NULL) == 0 && r != LV_ROLE_CITIZEN)
            roles |= r;
    }
    return roles;
}

/* ---- small helpers
 * ----------------------------------------------------------- */

int auth_check_id(const char *v, size_t max, const char *what, lv_err *err)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0 || n >= max ||
        strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789._@+-") != n)
        return lv_fail(err, LV_EINVAL,
                       "%s must be 1 to %zu characters of A-Z, a-z, 0-9 and "
                       "._@+-",
                       what, max - 1);
    return 0;
}

json_t *auth_details(const char *reason, const char *ip)
{
    json_t *o = json_object();
    if (o && reason)
        json_object_set_new(o, "reason", json_string(reason));
    if (o && ip && ip[0])
        json_object_set_new(o, "ip", json_string(ip));
    return o;
}

void auth_audit_refusal(lv_store *st, const char *actor, const char *event,
                        const char *object, const char *reason, const char *ip)
{
    lv_err e = {0};
    json_t *d = auth_details(reason, ip);
    if (audit_log_standalone(st, actor, event, object, LV_AUDIT_FAILURE, d,
                             &e) < 0)
        lv_log(LV_LOG_ERROR, "auth: cannot audit %s: %s", event, e.msg);
    json_decref(d);
}

int auth_random_digits(char *out, int digits, lv_err *err)
{
    for (int i = 0; i < digits; i++) {
        unsigned char b;
        do {
            if (lv_random(&b, 1) < 0)
                return lv_fail(err, LV_ECRYPTO, "no randomness");
        } while (b >= 250); /* 250 = 25 * 10: keeps digits uniform */
        out[i] = (char)('0' + b % 10);
    }
    out[digits] = '\0';
    return 0;
}

/* ---- hashing ----------------------------------------------------------------
 */

/* Feeds len-prefixed parts (8-byte big-endian length, then bytes). */
static int feed_parts(int (*upd)(void *, const void *, size_t), void *ctx,
                      const void *const *parts, const size_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char len[8];
        for (int b = 0; b < 8; b++)
            len[b] = (unsigned char)((uint64_t)lens[i] >> (56 - 8 * b));
        if (upd(ctx, len, sizeof len) != 1 ||
            (lens[i] && upd(ctx, parts[i], lens[i]) != 1))
            return -1;
    }
    return 0;
}

static int md_update(void *ctx, const void *p, size_t n)
{
    return EVP_DigestUpdate(ctx, p, n);
}

static int mac_update(void *ctx, const void *p, size_t n)
{
    return EVP_MAC_update(ctx, p, n);
}

int auth_hash_parts(const void *const *parts, const size_t *lens, size_t n,
                    char out[AUTH_HASH_HEX], lv_err *err)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
             feed_parts(md_update, c, parts, lens, n) == 0 &&
             EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == sizeof md;
    EVP_MD_CTX_free(c);
    if (!ok)
        return lv_fail_ssl(err, LV_ECRYPTO, "SHA-256 failed");
    lv_hex_encode(md, sizeof md, out);
    return 0;
}

static int hmac_sha256_parts(const unsigned char *key, size_t keylen,
                             const void *const *parts, const size_t *lens,
                             size_t n, unsigned char md[32])
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t mdlen = 0;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
    int ok = c && EVP_MAC_init(c, key, keylen, params) == 1 &&
             feed_parts(mac_update, c, parts, lens, n) == 0 &&
             EVP_MAC_final(c, md, &mdlen, 32) == 1 && mdlen == 32;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

int auth_mac_parts(const lv_auth *auth, const void *const *parts,
                   const size_t *lens, size_t n, char out[AUTH_HASH_HEX],
                   lv_err *err)
{
    unsigned char md[32];
    if (hmac_sha256_parts(auth->code_key, sizeof auth->code_key, parts, lens, n,
                          md) < 0)
        return lv_fail_ssl(err, LV_ECRYPTO, "HMAC-SHA256 failed");
    lv_hex_encode(md, sizeof md, out);
    return 0;
}

int auth_hex_equal(const char *a, const char *b)
{
    return strlen(a) == AUTH_HASH_HEX - 1 && strlen(b) == AUTH_HASH_HEX - 1 &&
           CRYPTO_memcmp(a, b, AUTH_HASH_HEX - 1) == 0;
}

/* ---- sealing of TOTP secrets ----------------------------------------------
 */

static int gcm(int enc, const unsigned char *key, const unsigned char *nonce,
               const char *aad, const unsigned char *in, size_t len,
               unsigned char *out, unsigned char tag[GCM_TAG])
{
    int n = 0, fin = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok =
        c && len <= 4096 &&
        EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1 &&
        EVP_CipherUpdate(c, NULL, &n, (const unsigned char *)aad,
                         (int)strlen(aad)) == 1 &&
        EVP_CipherUpdate(c, out, &n, in, (int)len) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(c, out + n, &fin) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int auth_seal(const lv_auth *auth, const unsigned char *in, size_t len,
              const char *aad, unsigned char *out, size_t cap, size_t *out_len,
              lv_err *err)
{
    if (cap < GCM_NONCE + len + GCM_TAG)
        return lv_fail(err, LV_EINTERNAL, "seal buffer too small");
    if (lv_random(out, GCM_NONCE) < 0 ||
        gcm(1, auth->seal_key, out, aad, in, len, out + GCM_NONCE,
            out + GCM_NONCE + len) < 0)
        return lv_fail_ssl(err, LV_ECRYPTO, "AES-256-GCM sealing failed");
    *out_len = GCM_NONCE + len + GCM_TAG;
    return 0;
}

int auth_unseal(const lv_auth *auth, const unsigned char *in, size_t len,
                const char *aad, unsigned char *out, size_t cap,
                size_t *out_len, lv_err *err)
{
    unsigned char tag[GCM_TAG];
    if (len < GCM_NONCE + GCM_TAG || len - GCM_NONCE - GCM_TAG > cap)
        return lv_fail(err, LV_ECRYPTO, "sealed secret has a bad length");
    size_t n = len - GCM_NONCE - GCM_TAG;
    memcpy(tag, in + GCM_NONCE + n, GCM_TAG);
    if (gcm(0, auth->seal_key, in, aad, in + GCM_NONCE, n, out, tag) < 0) {
        OPENSSL_cleanse(out, n);
        return lv_fail(err, LV_ECRYPTO,
                       "a TOTP secret does not open with %s/" AUTH_KEY_FILE
                       " (a different key file, or the row was altered)",
                       auth->cfg.dir);
    }
    *out_len = n;
    return 0;
}

/* ---- context and DIR/auth.key -----------------------------------------------
 */

/* O_EXCL: when llave and llaved race to create the key, one wins and the
 * other reads the winner's key instead of silently replacing it. */
static int key_create(const char *path, unsigned char key[AUTH_KEY_LEN],
                      lv_err *err)
{
    char hex[2 * AUTH_KEY_LEN + 2];
    if (lv_random(key, AUTH_KEY_LEN) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness for %s", path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? LV_EEXISTS
                               : lv_fail(err, LV_EIO, "cannot create %s: %s",
                                         path, strerror(errno));
    lv_hex_encode(key, AUTH_KEY_LEN, hex);
    strcat(hex, "\n");
    ssize_t w = write(fd, hex, strlen(hex));
    int ok = w == (ssize_t)strlen(hex) && fsync(fd) == 0;
    close(fd);
    OPENSSL_cleanse(hex, sizeof hex);
    if (!ok) {
        unlink(path);
        return lv_fail(err, LV_EIO, "cannot write %s", path);
    }
    return 0;
}

static int key_read(const char *path, unsigned char key[AUTH_KEY_LEN],
                    lv_err *err)
{
    unsigned char *data = NULL;
    size_t len = 0;
    LV_TRY(lv_file_read(path, &data, &len, 256, err));
    data[strcspn((char *)data, "\r\n")] = '\0';
    int n = lv_hex_decode((const char *)data, key, AUTH_KEY_LEN);
    int bad = strlen((const char *)data) != 2 * (size_t)AUTH_KEY_LEN;
    OPENSSL_cleanse(data, len);
    free(data);
    if (n != AUTH_KEY_LEN || bad)
        return lv_fail(err, LV_ECRYPTO,
                       "%s must hold one 256-bit key as 64 hex digits", path);
    return 0;
}

static int load_key(const char *dir, unsigned char key[AUTH_KEY_LEN],
                    lv_err *err)
{
    char path[1024];
    if (lv_path_join(path, sizeof path, dir, AUTH_KEY_FILE) < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    int rc = key_read(path, key, err);
    if (rc != LV_ENOTFOUND)
        return rc;
    rc = key_create(path, key, err);
    if (rc == LV_EEXISTS)
        return key_read(path, key, err);
    if (rc == 0)
        lv_log(LV_LOG_INFO, "auth: created %s", path);
    return rc;
}

static int derive(const unsigned char master[AUTH_KEY_LEN], const char *label,
                  unsigned char out[AUTH_KEY_LEN])
{
    const void *parts[] = {label};
    size_t lens[] = {strlen(label)};
    return hmac_sha256_parts(master, AUTH_KEY_LEN, parts, lens, 1, out);
}

static int auth_init(lv_auth *a, lv_err *err)
{
    unsigned char master[AUTH_KEY_LEN], rnd[24];
    char pw[64];
    int rc = load_key(a->cfg.dir, master, err);
    if (rc == 0 &&
        (derive(master, "llave auth totp-seal v1", a->seal_key) < 0 ||
         derive(master, "llave auth code-mac v1", a->code_key) < 0))
        rc = lv_fail_ssl(err, LV_ECRYPTO, "key derivation failed");
    OPENSSL_cleanse(master, sizeof master);
    if (rc == 0 && lv_random(rnd, sizeof rnd) < 0)
        rc = lv_fail(err, LV_ECRYPTO, "no randomness");
    if (rc == 0) {
        lv_hex_encode(rnd, sizeof rnd, pw);
        rc = auth_password_hash(a, pw, a->dummy_hash, err);
    }
    OPENSSL_cleanse(pw, sizeof pw);
    if (rc == 0)
        rc = auth_throttle_new(&a->cfg, &a->throttle, err);
    if (rc == 0)
        rc = auth_report_new(&a->report, err);
    return rc;
}

int auth_open(const lv_config *cfg, lv_auth **out, lv_err *err)
{
    *out = NULL;
    lv_auth *a = calloc(1, sizeof *a);
    if (!a)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    a->cfg = *cfg;
    int rc = auth_init(a, err);
    if (rc < 0) {
        auth_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

void auth_close(lv_auth *auth)
{
    if (!auth)
        return;
    auth_throttle_free(auth->throttle);
    auth_report_free(auth->report);
    OPENSSL_cleanse(auth, sizeof *auth);
    free(auth);
}

const lv_config *auth_config(const lv_auth *auth)
{
    return &auth->cfg;
}

void auth_token_wipe(lv_session_token *t)
{
    if (t)
        OPENSSL_cleanse(t, sizeof *t);
}

void auth_operator_secret_wipe(lv_operator_secret *s)
{
    if (s)
        OPENSSL_cleanse(s, sizeof *s);
}
