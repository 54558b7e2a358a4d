/* keys/ on a PKCS#11 token (issue 16), against SoftHSM2: the ceremony
 * (wrapping key, PIN sealed under the master key), CA/service keys that
 * live and sign on the token, citizens' keys kept wrapped and unwrapped
 * only for one activated signature, and the failures: wrong PIN, missing
 * token, removed object, full token, altered pkcs11.json.  Every failure
 * must leave what is stored as it was.
 *
 * Each test runs with its own SoftHSM2 token directory (SOFTHSM2_CONF)
 * and key store directory. */
#define _GNU_SOURCE /* memmem */
#include "keys/keys_internal.h"

#include <dirent.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* cmocka needs these first, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */
#include "testutil.h"

#define PIN "2468-1357"
#define SO_PIN "9753-8642"
#define TOKEN "llave-unit"

typedef struct {
    char dir[256]; /* key store DIR */
    char hsm[256]; /* SoftHSM2 token directory and its conf */
    char module[256];
    char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    lv_keystore *ks;
} fixture;

static const char *module_path(void)
{
    const char *m = getenv("LLAVE_PKCS11_MODULE");
    return m && *m ? m : "/usr/lib/softhsm/libsofthsm2.so";
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static void token_init(const char *label)
{
    assert_int_equal(sh("softhsm2-util --init-token --free --label %s "
                        "--pin %s --so-pin %s >/dev/null",
                        label, PIN, SO_PIN),
                     0);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char conf[512];
    assert_non_null(fx);
    assert_int_equal(tu_tmpdir(fx->dir, sizeof fx->dir, "p11"), 0);
    assert_int_equal(tu_tmpdir(fx->hsm, sizeof fx->hsm, "softhsm"), 0);
    snprintf(fx->module, sizeof fx->module, "%s", module_path());
    snprintf(conf, sizeof conf, "%s/softhsm2.conf", fx->hsm);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "directories.tokendir = %s\nobjectstore.backend = file\n"
            "log.level = ERROR\n",
            fx->hsm);
    fclose(f);
    setenv("SOFTHSM2_CONF", conf, 1);
    token_init(TOKEN);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    keys_close(fx->ks);
    tu_rmtree(fx->dir);
    tu_rmtree(fx->hsm);
    free(fx);
    return 0;
}

static int create(fixture *fx, const char *token, const char *pin, lv_err *err)
{
    lv_p11_conf c = {fx->module, token, pin};
    return keys_create_pkcs11(fx->dir, &c, fx->shares, err);
}

static void create_open(fixture *fx)
{
    lv_err err = {0};
    int rc = create(fx, TOKEN, PIN, &err);
    if (rc)
        print_error("keys_create_pkcs11: %s\n", err.msg);
    assert_int_equal(rc, 0);
    const char *two[2] = {fx->shares[0], fx->shares[2]};
    rc = keys_open(fx->dir, two, 2, &fx->ks, &err);
    if (rc)
        print_error("keys_open: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(fx->ks->p11);
}

/* Files under DIR/keys, for "nothing stored changed". */
static int count_files(const fixture *fx)
{
    char kdir[512];
    int n = 0;
    snprintf(kdir, sizeof kdir, "%s/keys", fx->dir);
    DIR *d = opendir(kdir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Objects on the token (private ones too: the store is logged in). */
static int count_objects(fixture *fx)
{
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE h[256];
    CK_ULONG n = 0;
    CK_FUNCTION_LIST_PTR f = keys_p11_fn(fx->ks->p11);
    assert_int_equal(keys_p11_session(fx->ks->p11, &s, NULL), 0);
    assert_int_equal(f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
    assert_int_equal(f->C_FindObjects(s, h, 256, &n), CKR_OK);
    assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
    keys_p11_release(fx->ks->p11, s, 1);
    return (int)n;
}

static void assert_verifies(fixture *fx, const char *id, const EVP_MD *md,
                            const unsigned char *data, size_t len,
                            const unsigned char *sig, size_t sig_len)
{
    EVP_PKEY *pub = NULL;
    lv_err err = {0};
    assert_int_equal(keys_public(fx->ks, id, &pub, &err), 0);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_int_equal(EVP_DigestVerifyInit(c, &pctx, md, NULL, pub), 1);
    if (EVP_PKEY_is_a(pub, "RSA"))
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING),
                         1);
    assert_int_equal(EVP_DigestVerify(c, sig, sig_len, data, len), 1);
    EVP_MD_CTX_free(c);
    EVP_PKEY_free(pub);
}

/* ---- the ceremony ------------------------------------------------------- */
static void test_ceremony_seals_the_pin(void **state)
{
    fixture *fx = *state;
    char path[512];
    unsigned char *data = NULL;
    size_t len = 0;
    create_open(fx);
    assert_string_equal(keys_backend(fx->dir), "pkcs11");
    snprintf(path, sizeof path, "%s/keys/pkcs11.json", fx->dir);
    assert_int_equal(lv_file_read(path, &data, &len, 1 << 16, NULL), 0);
    /* the PIN is not in the clear anywhere in the file */
    assert_null(memmem(data, len, PIN, strlen(PIN)));
    free(data);
    /* the wrapping key: one secret object, not extractable */
    assert_int_equal(count_objects(fx), 1);
}

static void test_ca_key_signs_on_token(void **state)
{
    fixture *fx = *state;
    char ca[LV_KEY_ID_LEN + 1], ec[LV_KEY_ID_LEN + 1];
    unsigned char *sig = NULL, dg[32];
    size_t sig_len = 0;
    lv_err err = {0};
    const unsigned char msg[] = "tbsCertificate";
    create_open(fx);
    assert_int_equal(keys_generate(fx->ks, LV_KEY_RSA2048, LV_KEY_CLASS_CA,
                                   "root", ca, &err),
                     0);
    assert_int_equal(keys_generate(fx->ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE,
                                   "ocsp", ec, &err),
                     0);
    assert_int_equal(count_objects(fx), 1 + 2 + 2);
    assert_int_equal(keys_sign(fx->ks, ca, EVP_sha256(), msg, sizeof msg, &sig,
                               &sig_len, &err),
                     0);
    assert_verifies(fx, ca, EVP_sha256(), msg, sizeof msg, sig, sig_len);
    free(sig);
    assert_int_equal(keys_sign(fx->ks, ec, EVP_sha256(), msg, sizeof msg, &sig,
                               &sig_len, &err),
                     0);
    assert_verifies(fx, ec, EVP_sha256(), msg, sizeof msg, sig, sig_len);
    free(sig);
    /* keys_sign_digest gives what OpenSSL verifies over the data */
    SHA256(msg, sizeof msg, dg);
    assert_int_equal(keys_sign_digest(fx->ks, ca, EVP_sha256(), dg, 32, &sig,
                                      &sig_len, &err),
                     0);
    assert_verifies(fx, ca, EVP_sha256(), msg, sizeof msg, sig, sig_len);
    free(sig);
    /* no EVP_MD_CTX with a private key on a token store */
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_int_equal(keys_sign_init(fx->ks, ca, EVP_sha256(), c, &err),
                     LV_EINVAL);
    EVP_MD_CTX_free(c);
}

/* CKA_SENSITIVE, not CKA_EXTRACTABLE, and the private exponent cannot be
 * read. */
static void test_token_key_is_sensitive(void **state)
{
    fixture *fx = *state;
    char ca[LV_KEY_ID_LEN + 1];
    unsigned char raw[LV_P11_ID_LEN], value[1024];
    CK_BBOOL sens = 0, extr = 1, priv = 0, tok = 0;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE h;
    lv_err err = {0};
    create_open(fx);
    assert_int_equal(keys_generate(fx->ks, LV_KEY_RSA2048, LV_KEY_CLASS_CA,
                                   "root", ca, &err),
                     0);
    lv_hex_decode(ca, raw, sizeof raw);
    CK_FUNCTION_LIST_PTR f = keys_p11_fn(fx->ks->p11);
    assert_int_equal(keys_p11_session(fx->ks->p11, &s, NULL), 0);
    assert_int_equal(keys_p11_find(fx->ks->p11, s, CKO_PRIVATE_KEY, raw,
                                   sizeof raw, &h, &err),
                     0);
    CK_ATTRIBUTE a[] = {{CKA_SENSITIVE, &sens, 1},
                        {CKA_EXTRACTABLE, &extr, 1},
                        {CKA_PRIVATE, &priv, 1},
                        {CKA_TOKEN, &tok, 1}};
    assert_int_equal(f->C_GetAttributeValue(s, h, a, 4), CKR_OK);
    assert_true(sens && !extr && priv && tok);
    CK_ATTRIBUTE v = {CKA_PRIVATE_EXPONENT, value, sizeof value};
    assert_int_equal(f->C_GetAttributeValue(s, h, &v, 1),
                     CKR_ATTRIBUTE_SENSITIVE);
    keys_p11_release(fx->ks->p11, s, 1);
}

/* ---- citizens' keys: wrapped, unwrapped for one activated signature ----- */
static void test_citizen_key_wrapped(void **state)
{
    fixture *fx = *state;
    char id[LV_KEY_ID_LEN + 1], tok[LV_ACTIVATION_TOKEN_LEN + 1];
    unsigned char dg[2 * 32], *sigs = NULL;
    size_t sig_len = 0;
    keys_ref r;
    lv_err err = {0};
    const unsigned char m1[] = "document one", m2[] = "document two";
    create_open(fx);
    int before = count_objects(fx);
    assert_int_equal(keys_generate(fx->ks, LV_KEY_RSA2048, LV_KEY_CLASS_SIGNER,
                                   "citizen", id, &err),
                     0);
    /* nothing of it stays on the token; its file holds the wrapped key */
    assert_int_equal(count_objects(fx), before);
    assert_int_equal(keys_ref_get(fx->ks, id, &r, &err), 0);
    assert_non_null(r.p11.blob);
    assert_true(r.p11.blob_len > 1000);
    keys_ref_put(&r);
    SHA256(m1, sizeof m1, dg);
    SHA256(m2, sizeof m2, dg + 32);
    assert_int_equal(
        keys_activation_mint(fx->ks, id, EVP_sha256(), dg, 2, 60, tok, &err),
        0);
    int rc = keys_signer_sign(fx->ks, id, tok, EVP_sha256(), dg, 2, &sigs,
                              &sig_len, &err);
    if (rc)
        print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(sig_len, 256);
    assert_verifies(fx, id, EVP_sha256(), m1, sizeof m1, sigs, sig_len);
    assert_verifies(fx, id, EVP_sha256(), m2, sizeof m2, sigs + sig_len,
                    sig_len);
    free(sigs);
    /* the unwrapped session key was destroyed */
    assert_int_equal(count_objects(fx), before);
    /* a used token does not sign again */
    assert_int_equal(keys_signer_sign(fx->ks, id, tok, EVP_sha256(), dg, 2,
                                      &sigs, &sig_len, &err),
                     LV_EPERM);
    /* and a citizen's key never signs through keys_sign */
    assert_int_equal(keys_sign_digest(fx->ks, id, EVP_sha256(), dg, 32, &sigs,
                                      &sig_len, &err),
                     LV_EPERM);
}

/* A wrapped blob is useless under another token's wrapping key. */
static void test_wrapped_key_bound_to_token(void **state)
{
    fixture *fx = *state;
    char id[LV_KEY_ID_LEN + 1];
    unsigned char *out = NULL, dg[32] = {1};
    size_t len = 0;
    keys_ref r;
    lv_err err = {0};
    create_open(fx);
    assert_int_equal(keys_generate(fx->ks, LV_KEY_RSA2048, LV_KEY_CLASS_SIGNER,
                                   "", id, &err),
                     0);
    assert_int_equal(keys_ref_get(fx->ks, id, &r, &err), 0);
    /* a second store on the same token has its own wrapping key */
    fixture other = *fx;
    other.ks = NULL;
    assert_int_equal(tu_tmpdir(other.dir, sizeof other.dir, "p11b"), 0);
    create_open(&other);
    int rc = keys_p11_sign(other.ks->p11, &r.p11, r.meta.type, EVP_sha256(), dg,
                           1, &out, &len, &err);
    keys_ref_put(&r);
    keys_close(other.ks);
    tu_rmtree(other.dir);
    print_message("other token: %s\n", err.msg);
    assert_int_equal(rc, LV_ECRYPTO);
    assert_null(out);
}

/* ---- failures change nothing -------------------------------------------- */
static void test_wrong_pin(void **state)
{
    fixture *fx = *state;
    lv_err err = {0};
    assert_int_equal(create(fx, TOKEN, "0000", &err), LV_EAUTH);
    assert_non_null(strstr(err.msg, "CKR_PIN_INCORRECT"));
    assert_int_equal(count_files(fx), 0);
    assert_string_equal(keys_backend(fx->dir), "file");
    /* the right PIN still works afterwards (nothing was half-created) */
    create_open(fx);
}

static void test_missing_token(void **state)
{
    fixture *fx = *state;
    lv_err err = {0};
    const char *two[2];
    assert_int_equal(create(fx, "no-such-token", PIN, &err), LV_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no-such-token"));
    assert_int_equal(count_files(fx), 0);
    /* a store whose token went away does not open */
    token_init("gone");
    assert_int_equal(create(fx, "gone", PIN, &err), 0);
    assert_int_equal(sh("softhsm2-util --delete-token --token gone "
                        ">/dev/null"),
                     0);
    two[0] = fx->shares[0];
    two[1] = fx->shares[1];
    assert_int_equal(keys_open(fx->dir, two, 2, &fx->ks, &err), LV_ENOTFOUND);
    assert_non_null(strstr(err.msg, "\"gone\""));
    assert_null(fx->ks);
}

static void test_removed_object(void **state)
{
    fixture *fx = *state;
    char ca[LV_KEY_ID_LEN + 1];
    unsigned char raw[LV_P11_ID_LEN], *sig = NULL;
    size_t len = 0;
    lv_err err = {0};
    create_open(fx);
    assert_int_equal(
        keys_generate(fx->ks, LV_KEY_EC_P256, LV_KEY_CLASS_CA, "", ca, &err),
        0);
    int files = count_files(fx);
    lv_hex_decode(ca, raw, sizeof raw);
    /* what an operator with the token's SO tools might do */
    assert_int_equal(keys_p11_destroy(fx->ks->p11, raw, sizeof raw, &err), 0);
    assert_int_equal(keys_sign(fx->ks, ca, EVP_sha256(),
                               (const unsigned char *)"x", 1, &sig, &len, &err),
                     LV_ENOTFOUND);
    assert_non_null(strstr(err.msg, "missing from token"));
    assert_null(sig);
    assert_int_equal(count_files(fx), files);
}

/* A token out of storage.  SoftHSM2 has no object quota; its objects are
 * files, and its file object store ignores a failed write (RLIMIT_FSIZE
 * lets C_GenerateKeyPair succeed) but not a file it cannot create: with
 * no file descriptor left (RLIMIT_NOFILE at the lowest free descriptor)
 * it refuses a new token object the way a full HSM does.  Then our own
 * key file cannot be written (RLIMIT_FSIZE): the token objects just made
 * are destroyed again.  Either way nothing stored changes. */
static int lowest_free_fd(void)
{
    int fd = dup(0);
    if (fd >= 0)
        close(fd);
    return fd;
}

/* Counted after a fresh C_Initialize: what the token has stored, not what
 * the module remembers (SoftHSM2 forgets objects it could not re-read). */
static void assert_unchanged(fixture *fx, int files, int objects)
{
    int64_t counts[3];
    lv_err err = {0};
    const char *two[2] = {fx->shares[0], fx->shares[2]};
    keys_close(fx->ks);
    fx->ks = NULL;
    assert_int_equal(keys_open(fx->dir, two, 2, &fx->ks, &err), 0);
    assert_int_equal(count_files(fx), files);
    assert_int_equal(count_objects(fx), objects);
    assert_int_equal(keys_count(fx->dir, counts, &err), 0);
    assert_int_equal(counts[LV_KEY_CLASS_SERVICE], 0);
}

static int generate_limited(fixture *fx, int resource, rlim_t limit,
                            lv_err *err)
{
    char id[LV_KEY_ID_LEN + 1];
    struct rlimit old, tight;
    assert_int_equal(getrlimit(resource, &old), 0);
    tight = old;
    tight.rlim_cur = limit;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(resource, &tight), 0);
    int rc = keys_generate(fx->ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE, "tsa",
                           id, err);
    assert_int_equal(setrlimit(resource, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    print_message("%s\n", err->msg);
    return rc;
}

static void test_full_token(void **state)
{
    fixture *fx = *state;
    char id[LV_KEY_ID_LEN + 1];
    lv_err err = {0};
    create_open(fx);
    int files = count_files(fx), objects = count_objects(fx);
    int rc =
        generate_limited(fx, RLIMIT_NOFILE, (rlim_t)lowest_free_fd(), &err);
    assert_true(rc < 0);
    assert_non_null(strstr(err.msg, "C_GenerateKeyPair"));
    assert_unchanged(fx, files, objects);
    rc = generate_limited(fx, RLIMIT_FSIZE, 64, &err);
    assert_true(rc < 0);
    assert_non_null(strstr(err.msg, "File too large"));
    assert_unchanged(fx, files, objects);
    /* with room again it works */
    assert_int_equal(keys_generate(fx->ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE,
                                   "tsa", id, &err),
                     0);
}

/* pkcs11.json pointed at another module: the PIN no longer opens. */
static void test_altered_conf(void **state)
{
    fixture *fx = *state;
    char path[512];
    lv_err err = {0};
    lv_keystore *ks = NULL;
    assert_int_equal(create(fx, TOKEN, PIN, &err), 0);
    snprintf(path, sizeof path, "%s/keys/pkcs11.json", fx->dir);
    json_t *o = NULL;
    assert_int_equal(lv_json_load_file(path, &o, &err), 0);
    json_object_set_new(o, "module", json_string("/tmp/evil.so"));
    assert_int_equal(json_dump_file(o, path, 0), 0);
    json_decref(o);
    const char *two[2] = {fx->shares[1], fx->shares[2]};
    assert_int_equal(keys_open(fx->dir, two, 2, &ks, &err), LV_EAUTH);
    assert_null(ks);
}

/* Share rotation keeps the sealed PIN: the same master key. */
static void test_rotation_keeps_token(void **state)
{
    fixture *fx = *state;
    char fresh[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    lv_err err = {0};
    lv_keystore *ks = NULL;
    assert_int_equal(create(fx, TOKEN, PIN, &err), 0);
    const char *two[2] = {fx->shares[0], fx->shares[1]};
    assert_int_equal(keys_rotate_shares(fx->dir, two, 2, fresh, &err), 0);
    const char *now[2] = {fresh[1], fresh[2]};
    assert_int_equal(keys_open(fx->dir, now, 2, &ks, &err), 0);
    assert_non_null(ks->p11);
    keys_close(ks);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ceremony_seals_the_pin),
        T(test_ca_key_signs_on_token),
        T(test_token_key_is_sensitive),
        T(test_citizen_key_wrapped),
        T(test_wrapped_key_bound_to_token),
        T(test_wrong_pin),
        T(test_missing_token),
        T(test_removed_object),
        T(test_full_token),
        T(test_altered_conf),
        T(test_rotation_keeps_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
