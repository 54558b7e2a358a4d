/* DIR/keys/pkcs11.json: which token a PKCS#11 key store uses (issue 16).
 *
 *   { "format": "llave-pkcs11", "version": 1,
 *     "module": "/usr/lib/softhsm/libsofthsm2.so", "token": "llave",
 *     "wrap_key_id": hex(16),
 *     "pin": { "nonce": hex, "ciphertext": hex, "tag": hex } }
 *
 * m-of-n stays (issue 16 item 4, CPS §6.2.2): the token's user PIN is
 * sealed with AES-256-GCM under the master key that only two custodians'
 * shares reconstruct, so neither the PIN file of the ceremony nor a copy
 * of DIR lets anyone log in to the token.  The AAD binds the module path,
 * the token label and the wrapping key's id: pointing the file at another
 * module (one that would receive the PIN) makes the PIN unreadable. */
#include "keys/keys_internal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_FILE "pkcs11.json"
#define CONF_VERSION 1

typedef struct {
    char module[LV_KEYS_PATH_MAX];
    char token[33];
    unsigned char wrap_id[LV_P11_ID_LEN];
    unsigned char nonce[LV_GCM_NONCE_LEN];
    unsigned char tag[LV_GCM_TAG_LEN];
    unsigned char pin[LV_P11_PIN_MAX];
    size_t pin_len;
} p11_conf;

static int conf_path(const char *kdir, char path[LV_KEYS_PATH_MAX])
{
    return lv_path_join(path, LV_KEYS_PATH_MAX, kdir, CONF_FILE);
}

static int pin_aad(const p11_conf *c, lv_buf *aad)
{
    char hex[2 * LV_P11_ID_LEN + 1];
    lv_hex_encode(c->wrap_id, LV_P11_ID_LEN, hex);
    LV_TRY(lv_buf_append(aad, "llave-pkcs11-pin-v1", 20));
    LV_TRY(lv_buf_append(aad, c->module, strlen(c->module) + 1));
    LV_TRY(lv_buf_append(aad, c->token, strlen(c->token) + 1));
    return lv_buf_append(aad, hex, sizeof hex);
}

/* ---- writing (the ceremony) --------------------------------------------- */
static json_t *conf_json(const p11_conf *c)
{
    char wrap[2 * LV_P11_ID_LEN + 1], nonce[2 * LV_GCM_NONCE_LEN + 1];
    char tag[2 * LV_GCM_TAG_LEN + 1], ct[2 * LV_P11_PIN_MAX + 1];
    lv_hex_encode(c->wrap_id, LV_P11_ID_LEN, wrap);
    lv_hex_encode(c->nonce, LV_GCM_NONCE_LEN, nonce);
    lv_hex_encode(c->tag, LV_GCM_TAG_LEN, tag);
    lv_hex_encode(c->pin, c->pin_len, ct);
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "format",
                     "llave-pkcs11", "version", CONF_VERSION, "module",
                     c->module, "token", c->token, "wrap_key_id", wrap, "pin",
                     "nonce", nonce, "ciphertext", ct, "tag", tag);
}

static int conf_seal_pin(p11_conf *c, const char *pin,
                         const unsigned char *master, lv_err *err)
{
    lv_buf aad = {0};
    int rc = pin_aad(c, &aad);
    if (rc < 0)
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    else
        rc =
            keys_gcm_seal(master, aad.data, aad.len, (const unsigned char *)pin,
                          c->pin_len, c->nonce, c->pin, c->tag, err);
    lv_buf_free(&aad);
    return rc;
}

static int conf_write(const char *kdir, const p11_conf *c, lv_err *err)
{
    char path[LV_KEYS_PATH_MAX];
    json_t *o = conf_json(c);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    int rc = !text ? lv_fail(err, LV_ENOMEM, "cannot build " CONF_FILE)
             : conf_path(kdir, path) < 0
                 ? lv_fail(err, LV_EINVAL, "path too long")
                 : lv_file_write(path, text, strlen(text), 0600, err);
    free(text);
    json_decref(o);
    return rc < 0 ? rc : keys_fsync_dir(kdir, err);
}

static int conf_init(p11_conf *c, const lv_p11_conf *conf, lv_err *err)
{
    memset(c, 0, sizeof *c);
    c->pin_len = strlen(conf->pin);
    if (c->pin_len == 0 || c->pin_len > LV_P11_PIN_MAX)
        return lv_fail(err, LV_EINVAL, "the token PIN must have 1 to %d bytes",
                       LV_P11_PIN_MAX);
    if (snprintf(c->module, sizeof c->module, "%s", conf->module) >=
            (int)sizeof c->module ||
        snprintf(c->token, sizeof c->token, "%s", conf->token) >=
            (int)sizeof c->token)
        return lv_fail(err, LV_EINVAL,
                       "module path too long or token label over 32 bytes");
    if (lv_random(c->wrap_id, sizeof c->wrap_id) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness");
    return 0;
}

int keys_p11_conf_create(const char *kdir, const lv_p11_conf *conf,
                         const unsigned char *master, keys_p11 **out,
                         lv_err *err)
{
    p11_conf c;
    int rc;
    *out = NULL;
    LV_TRY(conf_init(&c, conf, err));
    /* Log in first: a wrong PIN or a missing token changes nothing. */
    LV_TRY(keys_p11_open(c.module, c.token, conf->pin, NULL, out, err));
    LV_TRY_GOTO(rc, keys_p11_wrap_key_create(*out, c.wrap_id, err), fail);
    LV_TRY_GOTO(rc, conf_seal_pin(&c, conf->pin, master, err), undo);
    LV_TRY_GOTO(rc, conf_write(kdir, &c, err), undo);
    OPENSSL_cleanse(&c, sizeof c);
    return 0;
undo:
    (void)keys_p11_destroy(*out, c.wrap_id, LV_P11_ID_LEN, NULL);
fail:
    keys_p11_close(*out);
    *out = NULL;
    OPENSSL_cleanse(&c, sizeof c);
    return rc;
}

int keys_pkcs11_check(const lv_p11_conf *conf, lv_err *err)
{
    keys_p11 *p = NULL;
    if (!conf || !conf->module || !conf->token || !conf->pin)
        return lv_fail(err, LV_EINVAL,
                       "PKCS#11: module, token label and user PIN are needed");
    LV_TRY(keys_p11_open(conf->module, conf->token, conf->pin, NULL, &p, err));
    keys_p11_close(p);
    return 0;
}

/* ---- reading ------------------------------------------------------------ */
static int conf_parse(const json_t *o, p11_conf *c)
{
    const char *format = lv_json_str(o, "format");
    const char *module = lv_json_str(o, "module");
    const char *token = lv_json_str(o, "token");
    const json_t *pin = json_object_get(o, "pin");
    const char *ct = lv_json_str(pin, "ciphertext");
    json_t *version = json_object_get(o, "version");
    memset(c, 0, sizeof *c);
    if (!format || strcmp(format, "llave-pkcs11") != 0 ||
        !json_is_integer(version) ||
        json_integer_value(version) != CONF_VERSION || !module || !token ||
        !ct || strlen(ct) % 2 || strlen(ct) == 0 ||
        strlen(ct) > 2 * (size_t)LV_P11_PIN_MAX ||
        snprintf(c->module, sizeof c->module, "%s", module) >=
            (int)sizeof c->module ||
        snprintf(c->token, sizeof c->token, "%s", token) >=
            (int)sizeof c->token)
        return LV_EINVAL;
    c->pin_len = strlen(ct) / 2;
    if (lv_hex_decode(ct, c->pin, c->pin_len) != (int)c->pin_len)
        return LV_EINVAL;
    LV_TRY(keys_json_hex(o, "wrap_key_id", c->wrap_id, LV_P11_ID_LEN));
    LV_TRY(keys_json_hex(pin, "nonce", c->nonce, LV_GCM_NONCE_LEN));
    return keys_json_hex(pin, "tag", c->tag, LV_GCM_TAG_LEN);
}

/* LV_ENOTFOUND (quietly) when the store has no pkcs11.json. */
static int conf_load(const char *kdir, p11_conf *c, lv_err *err)
{
    char path[LV_KEYS_PATH_MAX];
    json_t *o = NULL;
    if (conf_path(kdir, path) < 0)
        return lv_fail(err, LV_EINVAL, "path too long");
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return LV_ENOTFOUND;
    LV_TRY(lv_json_load_file(path, &o, err));
    int rc = conf_parse(o, c);
    json_decref(o);
    if (rc < 0)
        return lv_fail(err, LV_EIO, "%s is not a valid llave PKCS#11 file",
                       path);
    return 0;
}

static int conf_open_pin(const p11_conf *c, const unsigned char *master,
                         char pin[LV_P11_PIN_MAX + 1], lv_err *err)
{
    lv_buf aad = {0};
    int rc = pin_aad(c, &aad);
    if (rc == 0)
        rc = keys_gcm_open(master, aad.data, aad.len, c->nonce, c->pin,
                           c->pin_len, c->tag, (unsigned char *)pin, NULL);
    lv_buf_free(&aad);
    if (rc < 0)
        return lv_fail(err, LV_EAUTH,
                       CONF_FILE " was altered (module, token or wrapping "
                                 "key changed) or belongs to another key "
                                 "store: the token PIN does not open");
    pin[c->pin_len] = '\0';
    return 0;
}

int keys_p11_attach(lv_keystore *ks, lv_err *err)
{
    p11_conf c;
    char pin[LV_P11_PIN_MAX + 1];
    int rc = conf_load(ks->dir, &c, err);
    if (rc == LV_ENOTFOUND)
        return 0; /* the file back end */
    if (rc == 0)
        rc = conf_open_pin(&c, ks->master, pin, err);
    if (rc == 0)
        rc = keys_p11_open(c.module, c.token, pin, c.wrap_id, &ks->p11, err);
    OPENSSL_cleanse(pin, sizeof pin);
    OPENSSL_cleanse(&c, sizeof c);
    return rc;
}

void keys_p11_conf_undo(const char *kdir, keys_p11 *p)
{
    char path[LV_KEYS_PATH_MAX];
    p11_conf c;
    if (conf_load(kdir, &c, NULL) == 0)
        (void)keys_p11_destroy(p, c.wrap_id, LV_P11_ID_LEN, NULL);
    if (conf_path(kdir, path) == 0)
        unlink(path);
    OPENSSL_cleanse(&c, sizeof c);
}

/* ---- what a backup depends on ------------------------------------------- */
const char *keys_backend(const char *dir)
{
    char kdir[LV_KEYS_PATH_MAX], path[LV_KEYS_PATH_MAX];
    struct stat st;
    if (!dir || lv_path_join(kdir, sizeof kdir, dir, "keys") < 0 ||
        conf_path(kdir, path) < 0 || stat(path, &st) != 0)
        return "file";
    return "pkcs11";
}

static void dep_add(void *arg, const char *id, const lv_key_meta *m)
{
    json_t *arr = arg;
    char label[LV_KEY_LABEL_MAX + 32];
    if (!m->p11 || m->cls == LV_KEY_CLASS_SIGNER)
        return; /* citizens' keys live in their files, wrapped */
    keys_p11_label(m, id, label, sizeof label);
    json_array_append_new(arr,
                          json_pack("{s:s, s:s, s:s}", "id", id, "label", label,
                                    "class", keys_class_name(m->cls)));
}

int keys_dependencies(const char *dir, json_t **out, lv_err *err)
{
    char kdir[LV_KEYS_PATH_MAX], wrap[2 * LV_P11_ID_LEN + 1];
    p11_conf c;
    *out = NULL;
    if (!dir || lv_path_join(kdir, sizeof kdir, dir, "keys") < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    int rc = conf_load(kdir, &c, err);
    if (rc == LV_ENOTFOUND) {
        *out = json_pack("{s:s}", "backend", "file");
        return *out ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
    }
    LV_TRY(rc);
    lv_hex_encode(c.wrap_id, LV_P11_ID_LEN, wrap);
    json_t *objs = json_pack("[{s:s, s:s, s:s}]", "id", wrap, "label",
                             "llave citizen-key wrapping key", "class", "wrap");
    *out = json_pack("{s:s, s:s, s:s, s:o}", "backend", "pkcs11", "module",
                     c.module, "token", c.token, "objects", objs);
    OPENSSL_cleanse(&c, sizeof c);
    if (!*out)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    rc = keys_file_each(kdir, dep_add, objs, err);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* One object of a backup's manifest: present on the token?  1 yes, 0 no. */
static int dep_present(keys_p11 *p, CK_SESSION_HANDLE s, const json_t *o,
                       lv_err *err)
{
    unsigned char id[LV_P11_ID_LEN];
    const char *cls = lv_json_str(o, "class");
    CK_OBJECT_HANDLE h;
    if (!cls || keys_json_hex(o, "id", id, sizeof id) < 0)
        return lv_fail(err, LV_EINVAL,
                       "the backup's list of token objects is malformed");
    int rc = keys_p11_find(
        p, s, strcmp(cls, "wrap") == 0 ? CKO_SECRET_KEY : CKO_PRIVATE_KEY, id,
        sizeof id, &h, err);
    return rc == 0 ? 1 : rc == LV_ENOTFOUND ? 0 : rc;
}

static int deps_missing(keys_p11 *p, const json_t *deps, lv_buf *missing,
                        size_t *n, lv_err *err)
{
    CK_SESSION_HANDLE s;
    size_t i;
    const json_t *o;
    int rc = 0;
    LV_TRY(keys_p11_session(p, &s, err));
    json_array_foreach(deps, i, o)
    {
        rc = dep_present(p, s, o, err);
        if (rc < 0)
            break;
        if (rc == 0) {
            (*n)++;
            rc = lv_buf_appendf(missing, "%s\"%s\" (CKA_ID %s)",
                                *n > 1 ? ", " : "", lv_json_str(o, "label"),
                                lv_json_str(o, "id"));
            if (rc < 0)
                break;
        }
        rc = 0;
    }
    keys_p11_release(p, s, rc == 0);
    return rc;
}

int keys_pkcs11_check_objects(const lv_p11_conf *conf, const json_t *deps,
                              lv_err *err)
{
    keys_p11 *p = NULL;
    lv_buf missing = {0};
    size_t n = 0;
    if (!json_is_array(deps))
        return lv_fail(err, LV_EINVAL,
                       "the backup names no token objects to check");
    LV_TRY(keys_p11_open(conf->module, conf->token, conf->pin, NULL, &p, err));
    int rc = deps_missing(p, deps, &missing, &n, err);
    keys_p11_close(p);
    if (rc == 0 && n > 0)
        rc = lv_fail(err, LV_ENOTFOUND,
                     "token \"%s\" lacks %zu of the %zu object(s) the backup "
                     "depends on: %s",
                     conf->token, n, json_array_size(deps),
                     missing.data ? (const char *)missing.data : "");
    lv_buf_free(&missing);
    return rc;
}
