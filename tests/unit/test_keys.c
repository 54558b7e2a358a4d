/* keys/: file key store, custodian shares (R9.5), sealed keys at rest and
 * the refusal of signer keys outside an activation (R5.1, R5.2).  Every test
 * runs in its own fresh directory holding a freshly created store. */
#include "keys/keys.h"

#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

typedef struct {
    char dir[256];
    char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
} fixture;

/* ---- helpers ------------------------------------------------------------ */
static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    lv_err err = {0};
    assert_non_null(fx);
    assert_int_equal(tu_tmpdir(fx->dir, sizeof fx->dir, "keys"), 0);
    assert_int_equal(keys_create(fx->dir, fx->shares, &err), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tu_rmtree(fx->dir);
    free(fx);
    return 0;
}

static lv_keystore *open_pair(const fixture *fx, int a, int b)
{
    const char *given[2] = {fx->shares[a], fx->shares[b]};
    lv_keystore *ks = NULL;
    lv_err err = {0};
    int rc = keys_open(fx->dir, given, 2, &ks, &err);
    if (rc != 0)
        print_error("keys_open: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(ks);
    return ks;
}

static int open_with(const fixture *fx, const char *const *given, size_t n,
                     lv_err *err)
{
    lv_keystore *ks = NULL;
    int rc = keys_open(fx->dir, given, n, &ks, err);
    if (rc < 0)
        assert_null(ks);
    keys_close(ks);
    return rc;
}

static void key_file(const fixture *fx, const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/keys/%s.key", fx->dir, id);
}

static char *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    rewind(f);
    char *buf = calloc(1, (size_t)*len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)*len, f), (size_t)*len);
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static int verify(EVP_PKEY *pub, const EVP_MD *md, const unsigned char *sig,
                  size_t sig_len, const char *msg)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pub) > 0;
    if (ok && EVP_PKEY_is_a(pub, "RSA")) /* CPS §7.1.3: PKCS#1 v1.5 */
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
    ok = ok && EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)msg,
                                strlen(msg)) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* keys_sign, then verify with the key from keys_public. */
static void sign_and_verify(lv_keystore *ks, const char *id, const EVP_MD *md)
{
    const char *msg = "llave test message";
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    EVP_PKEY *pub = NULL;
    lv_err err = {0};

    assert_int_equal(keys_sign(ks, id, md, (const unsigned char *)msg,
                               strlen(msg), &sig, &sig_len, &err),
                     0);
    assert_int_equal(keys_public(ks, id, &pub, &err), 0);
    assert_true(verify(pub, md, sig, sig_len, msg));
    sig[sig_len / 2] ^= 1;
    assert_false(verify(pub, md, sig, sig_len, msg));
    EVP_PKEY_free(pub);
    free(sig);
}

static void generate(lv_keystore *ks, lv_key_type t, lv_key_class c,
                     char id[LV_KEY_ID_LEN + 1])
{
    lv_err err = {0};
    int rc = keys_generate(ks, t, c, "test key", id, &err);
    if (rc != 0)
        print_error("keys_generate: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(strlen(id), LV_KEY_ID_LEN);
}

/* Rebuilds a share's text with a valid checksum around changed bytes: a
 * share that passes keys_share_check but is not this store's. */
static void forge_share(const char *in, char out[LV_SHARE_TEXT_MAX])
{
    unsigned char idx = (unsigned char)(in[12] - '0'), bytes[32], md[32];
    char hex[65];
    for (int i = 0; i < 32; i++)
        sscanf(in + 14 + 2 * i, "%2hhx", &bytes[i]);
    bytes[7] ^= 0x5a;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, "llave-share", 11);
    EVP_DigestUpdate(ctx, &idx, 1);
    EVP_DigestUpdate(ctx, bytes, 32);
    EVP_DigestFinal_ex(ctx, md, NULL);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", bytes[i]);
    snprintf(out, LV_SHARE_TEXT_MAX, "llave-share-%u-%s-%02x%02x%02x%02x",
             (unsigned)idx, hex, md[0], md[1], md[2], md[3]);
}

/* ---- R9.5: 2 of 3 custodian shares -------------------------------------- */
static void test_share_format(void **state)
{
    fixture *fx = *state;
    lv_err err = {0};
    for (int i = 0; i < LV_SHARES_TOTAL; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "llave-share-%d-", i + 1);
        assert_int_equal(strncmp(fx->shares[i], prefix, strlen(prefix)), 0);
        assert_int_equal(strlen(fx->shares[i]), 12 + 2 + 64 + 1 + 8);
        assert_int_equal(keys_share_check(fx->shares[i], &err), 0);
    }
    assert_string_not_equal(fx->shares[0] + 14, fx->shares[1] + 14);
}

static void test_any_two_shares_open_and_sign(void **state)
{
    fixture *fx = *state;
    static const int pairs[][2] = {{0, 1}, {0, 2}, {1, 2}, {2, 0}};
    char id[LV_KEY_ID_LEN + 1];

    lv_keystore *ks = open_pair(fx, 0, 1);
    generate(ks, LV_KEY_RSA2048, LV_KEY_CLASS_CA, id);
    keys_close(ks);
    /* Every pair (in any order) reopens the same store and the same key. */
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        ks = open_pair(fx, pairs[i][0], pairs[i][1]);
        sign_and_verify(ks, id, EVP_sha256());
        keys_close(ks);
    }
}

static void test_all_three_shares_open(void **state)
{
    fixture *fx = *state;
    const char *given[3] = {fx->shares[2], fx->shares[0], fx->shares[1]};
    lv_err err = {0};
    assert_int_equal(open_with(fx, given, 3, &err), 0);
}

static void test_one_share_refused(void **state)
{
    fixture *fx = *state;
    lv_err err = {0};
    for (int i = 0; i < LV_SHARES_TOTAL; i++) {
        const char *given[1] = {fx->shares[i]};
        assert_int_equal(open_with(fx, given, 1, &err), LV_EAUTH);
        assert_non_null(strstr(err.msg, "2 of 3"));
    }
    assert_int_equal(open_with(fx, NULL, 0, &err), LV_EAUTH);
}

static void test_same_share_twice_refused(void **state)
{
    fixture *fx = *state;
    const char *given[2] = {fx->shares[1], fx->shares[1]};
    lv_err err = {0};
    assert_int_equal(open_with(fx, given, 2, &err), LV_EAUTH);
    assert_non_null(strstr(err.msg, "share 2 given twice"));
    const char *three[3] = {fx->shares[0], fx->shares[1], fx->shares[0]};
    assert_int_equal(open_with(fx, three, 3, &err), LV_EAUTH);
}

static void test_share_typo_caught_by_checksum(void **state)
{
    fixture *fx = *state;
    char typo[LV_SHARE_TEXT_MAX];
    lv_err err = {0};

    memcpy(typo, fx->shares[1], sizeof typo);
    typo[30] = typo[30] == '0' ? '1' : '0'; /* one hex digit of the body */
    assert_int_equal(keys_share_check(typo, &err), LV_EINVAL);
    assert_non_null(strstr(err.msg, "share 2: checksum mismatch"));

    const char *given[2] = {fx->shares[0], typo};
    assert_int_equal(open_with(fx, given, 2, &err), LV_EAUTH);
    assert_non_null(strstr(err.msg, "checksum"));
    assert_non_null(strstr(err.msg, "#2"));
}

static void test_share_check_formats(void **state)
{
    fixture *fx = *state;
    char buf[2 * LV_SHARE_TEXT_MAX];
    lv_err err = {0};

    snprintf(buf, sizeof buf, "  %s\n", fx->shares[0]); /* pasted */
    assert_int_equal(keys_share_check(buf, &err), 0);
    for (char *p = buf; *p; p++) /* custodians may type upper case */
        if (*p >= 'a' && *p <= 'f' && p > buf + 16)
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(keys_share_check(buf, &err), 0);

    assert_int_equal(keys_share_check(NULL, &err), LV_EINVAL);
    assert_int_equal(keys_share_check("", &err), LV_EINVAL);
    assert_int_equal(keys_share_check("llave-share-1-00-00", &err), LV_EINVAL);
    memcpy(buf, fx->shares[0], LV_SHARE_TEXT_MAX);
    buf[12] = '4';
    assert_int_equal(keys_share_check(buf, &err), LV_EINVAL);
    memcpy(buf, fx->shares[0], LV_SHARE_TEXT_MAX);
    buf[20] = 'g';
    assert_int_equal(keys_share_check(buf, &err), LV_EINVAL);
    snprintf(buf, sizeof buf, "%s x", fx->shares[0]);
    assert_int_equal(keys_share_check(buf, &err), LV_EINVAL);
}

static void test_share_of_other_store_refused(void **state)
{
    fixture *fx = *state;
    char other_dir[300], other[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    lv_err err = {0};

    snprintf(other_dir, sizeof other_dir, "%s/other", fx->dir);
    assert_int_equal(mkdir(other_dir, 0700), 0);
    assert_int_equal(keys_create(other_dir, other, &err), 0);
    assert_int_equal(keys_share_check(other[1], &err), 0); /* well formed */

    const char *given[2] = {fx->shares[0], other[1]};
    assert_int_equal(open_with(fx, given, 2, &err), LV_EAUTH);
    assert_non_null(
        strstr(err.msg, "share 2 does not belong to this key store"));
}

static void test_share_with_recomputed_checksum_refused(void **state)
{
    fixture *fx = *state;
    char forged[LV_SHARE_TEXT_MAX];
    lv_err err = {0};

    forge_share(fx->shares[2], forged);
    assert_int_equal(keys_share_check(forged, &err), 0);
    const char *given[2] = {forged, fx->shares[0]};
    assert_int_equal(open_with(fx, given, 2, &err), LV_EAUTH);
    assert_non_null(
        strstr(err.msg, "share 3 does not belong to this key store"));
}

static void test_keystore_file_altered_refused(void **state)
{
    fixture *fx = *state;
    char path[400];
    long len;
    lv_err err = {0};

    snprintf(path, sizeof path, "%s/keys/keystore.json", fx->dir);
    char *text = slurp(path, &len);
    for (int i = 0; i < LV_SHARES_TOTAL; i++) /* shares never on disk */
        assert_null(strstr(text, fx->shares[i] + 14));
    char *created = strstr(text, "\"created\": \"");
    assert_non_null(created);
    created[13] = created[13] == '1' ? '2' : '1'; /* the year */
    spit(path, text, (size_t)len);
    free(text);

    const char *given[2] = {fx->shares[0], fx->shares[1]};
    assert_int_equal(open_with(fx, given, 2, &err), LV_EAUTH);
    assert_non_null(strstr(err.msg, "master key"));
}

static void test_keystore_file_corrupt(void **state)
{
    fixture *fx = *state;
    char path[400];
    lv_err err = {0};
    const char *given[2] = {fx->shares[0], fx->shares[1]};

    snprintf(path, sizeof path, "%s/keys/keystore.json", fx->dir);
    spit(path, "{\"format\": \"llave-keystore\"}", 28);
    assert_int_equal(open_with(fx, given, 2, &err), LV_EIO);
    assert_non_null(strstr(err.msg, "not a valid llave key store"));
    spit(path, "", 0);
    assert_true(open_with(fx, given, 2, &err) < 0);
}

static void test_create_twice_refused(void **state)
{
    fixture *fx = *state;
    char again[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    lv_err err = {0};
    assert_int_equal(keys_create(fx->dir, again, &err), LV_EEXISTS);
    /* The first store is untouched. */
    lv_keystore *ks = open_pair(fx, 0, 2);
    keys_close(ks);
}

static void test_open_without_store(void **state)
{
    fixture *fx = *state;
    char empty[300];
    lv_keystore *ks = NULL;
    lv_err err = {0};
    const char *given[2] = {fx->shares[0], fx->shares[1]};
    snprintf(empty, sizeof empty, "%s/empty", fx->dir);
    assert_int_equal(mkdir(empty, 0700), 0);
    assert_int_equal(keys_open(empty, given, 2, &ks, &err), LV_ENOTFOUND);
    assert_null(ks);
}

static void test_file_modes(void **state)
{
    fixture *fx = *state;
    char path[400], id[LV_KEY_ID_LEN + 1];
    struct stat st;

    snprintf(path, sizeof path, "%s/keys", fx->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/keys/keystore.json", fx->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    lv_keystore *ks = open_pair(fx, 0, 1);
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE, id);
    key_file(fx, id, path, sizeof path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    keys_close(ks);
}

/* ---- generation, public keys, signing ----------------------------------- */
static void check_public_only(EVP_PKEY *pub, const char *priv_param)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pub, priv_param, &bn), 0);
    assert_null(bn);
}

static void test_generate_rsa2048(void **state)
{
    fixture *fx = *state;
    char id[LV_KEY_ID_LEN + 1];
    lv_key_type t;
    lv_key_class c;
    EVP_PKEY *pub = NULL;
    BIGNUM *e = NULL;
    lv_err err = {0};

    lv_keystore *ks = open_pair(fx, 1, 2);
    generate(ks, LV_KEY_RSA2048, LV_KEY_CLASS_CA, id);
    assert_int_equal(keys_info(ks, id, &t, &c, &err), 0);
    assert_int_equal(t, LV_KEY_RSA2048);
    assert_int_equal(c, LV_KEY_CLASS_CA);
    assert_int_equal(keys_public(ks, id, &pub, &err), 0);
    assert_true(EVP_PKEY_is_a(pub, "RSA"));
    assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
    assert_int_equal(EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    assert_int_equal(BN_get_word(e), 65537);
    check_public_only(pub, OSSL_PKEY_PARAM_RSA_D);
    BN_free(e);
    EVP_PKEY_free(pub);
    sign_and_verify(ks, id, EVP_sha256());
    keys_close(ks);

    /* After reopening the key is decrypted from its file. */
    ks = open_pair(fx, 0, 2);
    assert_int_equal(keys_info(ks, id, &t, &c, &err), 0);
    assert_int_equal(t, LV_KEY_RSA2048);
    sign_and_verify(ks, id, EVP_sha512());
    keys_close(ks);
}

static void test_generate_ec(void **state)
{
    fixture *fx = *state;
    char p256[LV_KEY_ID_LEN + 1], p384[LV_KEY_ID_LEN + 1];
    EVP_PKEY *pub = NULL;
    char group[32];
    lv_err err = {0};

    lv_keystore *ks = open_pair(fx, 0, 1);
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE, p256);
    generate(ks, LV_KEY_EC_P384, LV_KEY_CLASS_CA, p384);
    assert_string_not_equal(p256, p384);
    keys_close(ks);
    ks = open_pair(fx, 1, 0);
    assert_int_equal(keys_public(ks, p256, &pub, &err), 0);
    assert_true(EVP_PKEY_is_a(pub, "EC"));
    assert_int_equal(EVP_PKEY_get_utf8_string_param(pub,
                                                    OSSL_PKEY_PARAM_GROUP_NAME,
                                                    group, sizeof group, NULL),
                     1);
    assert_string_equal(group, "prime256v1");
    check_public_only(pub, OSSL_PKEY_PARAM_PRIV_KEY);
    EVP_PKEY_free(pub);
    sign_and_verify(ks, p256, EVP_sha256());
    sign_and_verify(ks, p384, EVP_sha384());
    keys_close(ks);
}

static void test_generate_rsa4096(void **state)
{
    fixture *fx = *state;
    char id[LV_KEY_ID_LEN + 1];
    EVP_PKEY *pub = NULL;
    lv_err err = {0};
    lv_keystore *ks = open_pair(fx, 0, 2);
    generate(ks, LV_KEY_RSA4096, LV_KEY_CLASS_CA, id);
    assert_int_equal(keys_public(ks, id, &pub, &err), 0);
    assert_int_equal(EVP_PKEY_get_bits(pub), 4096);
    EVP_PKEY_free(pub);
    sign_and_verify(ks, id, EVP_sha384());
    keys_close(ks);
}

/* keys_sign_init feeds X509_sign_ctx and friends: the context must sign. */
static void test_sign_init_context(void **state)
{
    fixture *fx = *state;
    char id[LV_KEY_ID_LEN + 1];
    const char *msg = "tbsCertificate";
    unsigned char sig[512];
    size_t sig_len = sizeof sig;
    EVP_PKEY *pub = NULL;
    lv_err err = {0};

    lv_keystore *ks = open_pair(fx, 0, 1);
    generate(ks, LV_KEY_RSA2048, LV_KEY_CLASS_CA, id);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(keys_sign_init(ks, id, EVP_sha256(), ctx, &err), 0);
    keys_close(ks); /* the context keeps its own reference to the key */
    assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len,
                                    (const unsigned char *)msg, strlen(msg)),
                     1);
    EVP_MD_CTX_free(ctx);
    ks = open_pair(fx, 0, 1);
    assert_int_equal(keys_public(ks, id, &pub, &err), 0);
    assert_true(verify(pub, EVP_sha256(), sig, sig_len, msg));
    EVP_PKEY_free(pub);
    keys_close(ks);
}

/* ---- R5.2: signer keys --------------------------------------------------- */
static void test_signer_key_refused(void **state)
{
    fixture *fx = *state;
    char id[LV_KEY_ID_LEN + 1];
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    EVP_PKEY *pub = NULL;
    lv_key_class c;
    lv_err err = {0};

    lv_keystore *ks = open_pair(fx, 0, 1);
    generate(ks, LV_KEY_RSA2048, LV_KEY_CLASS_SIGNER, id);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(keys_sign_init(ks, id, EVP_sha256(), ctx, &err), LV_EPERM);
    assert_non_null(strstr(err.msg, "R5.2"));
    assert_int_equal(keys_sign(ks, id, EVP_sha256(), (const unsigned char *)"x",
                               1, &sig, &sig_len, &err),
                     LV_EPERM);
    assert_null(sig);
    EVP_MD_CTX_free(ctx);
    /* The certificate for it can still be issued. */
    assert_int_equal(keys_public(ks, id, &pub, &err), 0);
    assert_int_equal(keys_info(ks, id, NULL, &c, &err), 0);
    assert_int_equal(c, LV_KEY_CLASS_SIGNER);
    EVP_PKEY_free(pub);
    keys_close(ks);

    ks = open_pair(fx, 1, 2); /* also when loaded from its file */
    assert_int_equal(keys_sign(ks, id, EVP_sha256(), (const unsigned char *)"x",
                               1, &sig, &sig_len, &err),
                     LV_EPERM);
    keys_close(ks);
}

/* ---- keys at rest: tampering, renaming, relabeling ---------------------- */
static void replace_in_file(const char *path, const char *from, const char *to)
{
    long len;
    char *text = slurp(path, &len);
    char *p = strstr(text, from);
    assert_non_null(p);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(p, to, strlen(to));
    spit(path, text, (size_t)len);
    free(text);
}

static void expect_refused(const fixture *fx, const char *id)
{
    EVP_PKEY *pub = NULL;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    lv_err err = {0};
    lv_keystore *ks = open_pair(fx, 0, 1); /* fresh: nothing cached */
    int rc = keys_public(ks, id, &pub, &err);
    assert_true(rc == LV_ECRYPTO || rc == LV_EAUTH);
    assert_null(pub);
    assert_non_null(strstr(err.msg, id)); /* names the key */
    rc = keys_sign(ks, id, EVP_sha256(), (const unsigned char *)"x", 1, &sig,
                   &sig_len, &err);
    assert_true(rc == LV_ECRYPTO || rc == LV_EAUTH);
    keys_close(ks);
}

static void test_key_file_tampered(void **state)
{
    fixture *fx = *state;
    char id[LV_KEY_ID_LEN + 1], path[400];
    long len;

    lv_keystore *ks = open_pair(fx, 0, 1);
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_CA, id);
    keys_close(ks);
    key_file(fx, id, path, sizeof path);
    char *orig = slurp(path, &len);

    /* One bit of the ciphertext. */
    char *text = strdup(orig);
    char *ct = strstr(text, "\"ciphertext\": \"") + 15 + 20;
    *ct = *ct == 'A' ? 'B' : 'A';
    spit(path, text, (size_t)len);
    expect_refused(fx, id);

    /* A raw byte flipped anywhere in the file. */
    for (long off = 0; off < len; off += len / 7) {
        memcpy(text, orig, (size_t)len);
        text[off] ^= 0x01;
        spit(path, text, (size_t)len);
        expect_refused(fx, id);
    }
    free(text);

    /* Relabeling the class or the type (AAD). */
    spit(path, orig, (size_t)len);
    replace_in_file(path, "\"class\": \"ca\"", "\"class\": \"xx\"");
    expect_refused(fx, id);
    spit(path, orig, (size_t)len);
    replace_in_file(path, "test key", "evil key");
    expect_refused(fx, id);

    /* The original file still works. */
    spit(path, orig, (size_t)len);
    ks = open_pair(fx, 0, 1);
    sign_and_verify(ks, id, EVP_sha256());
    keys_close(ks);
    free(orig);
}

static void test_key_class_relabel_refused(void **state)
{
    fixture *fx = *state;
    char id[LV_KEY_ID_LEN + 1], path[400];
    lv_err err = {0};
    unsigned char *sig = NULL;
    size_t sig_len = 0;

    /* An operator edits a citizen's key file into a CA key to sign with it:
     * the class is authenticated, so the key no longer opens (R5.2). */
    lv_keystore *ks = open_pair(fx, 0, 1);
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_SIGNER, id);
    keys_close(ks);
    key_file(fx, id, path, sizeof path);
    replace_in_file(path, "\"class\": \"signer\"", "\"class\": \"ca\"    ");
    ks = open_pair(fx, 0, 1);
    assert_int_equal(keys_sign(ks, id, EVP_sha256(), (const unsigned char *)"x",
                               1, &sig, &sig_len, &err),
                     LV_ECRYPTO);
    assert_null(sig);
    keys_close(ks);
}

static void test_key_file_renamed_or_swapped(void **state)
{
    fixture *fx = *state;
    char a[LV_KEY_ID_LEN + 1], b[LV_KEY_ID_LEN + 1], pa[400], pb[400];
    char fake[LV_KEY_ID_LEN + 1] = "0123456789abcdef0123456789abcdef";
    char pfake[400];
    long len;
    lv_err err = {0};
    EVP_PKEY *pub = NULL;

    lv_keystore *ks = open_pair(fx, 0, 1);
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_CA, a);
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE, b);
    keys_close(ks);
    key_file(fx, a, pa, sizeof pa);
    key_file(fx, b, pb, sizeof pb);
    key_file(fx, fake, pfake, sizeof pfake);

    /* Renamed to another id. */
    assert_int_equal(rename(pa, pfake), 0);
    expect_refused(fx, fake);
    ks = open_pair(fx, 0, 1);
    assert_int_equal(keys_public(ks, a, &pub, &err), LV_ENOTFOUND);
    keys_close(ks);
    assert_int_equal(rename(pfake, pa), 0);

    /* A's file copied over B's: B must not silently become A. */
    char *text = slurp(pa, &len);
    spit(pb, text, (size_t)len);
    free(text);
    expect_refused(fx, b);
    ks = open_pair(fx, 0, 1);
    sign_and_verify(ks, a, EVP_sha256());
    keys_close(ks);
}

static void test_key_of_other_store_refused(void **state)
{
    fixture *fx = *state;
    char other_dir[300], other[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    char id[LV_KEY_ID_LEN + 1], from[600], to[400];
    long len;
    lv_err err = {0};

    snprintf(other_dir, sizeof other_dir, "%s/other", fx->dir);
    assert_int_equal(mkdir(other_dir, 0700), 0);
    assert_int_equal(keys_create(other_dir, other, &err), 0);
    const char *given[2] = {other[0], other[1]};
    lv_keystore *ks = NULL;
    assert_int_equal(keys_open(other_dir, given, 2, &ks, &err), 0);
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_CA, id);
    keys_close(ks);
    snprintf(from, sizeof from, "%s/keys/%s.key", other_dir, id);
    key_file(fx, id, to, sizeof to);
    char *text = slurp(from, &len);
    spit(to, text, (size_t)len);
    free(text);
    expect_refused(fx, id);
}

/* ---- destroy ------------------------------------------------------------ */
static void test_destroy(void **state)
{
    fixture *fx = *state;
    char id[LV_KEY_ID_LEN + 1], keep[LV_KEY_ID_LEN + 1], path[400];
    char witness[300];
    long len, len2;
    EVP_PKEY *pub = NULL;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    lv_err err = {0};

    lv_keystore *ks = open_pair(fx, 0, 1);
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE, id);
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE, keep);
    sign_and_verify(ks, id, EVP_sha256()); /* now cached */
    key_file(fx, id, path, sizeof path);
    /* A second name for the same inode shows what was left on disk. */
    snprintf(witness, sizeof witness, "%s/witness", fx->dir);
    assert_int_equal(link(path, witness), 0);
    char *before = slurp(path, &len);
    assert_int_equal(keys_destroy(ks, id, &err), 0);
    assert_int_equal(access(path, F_OK), -1);
    char *after = slurp(witness, &len2);
    assert_int_equal(len, len2);
    assert_memory_not_equal(before, after, (size_t)len);
    assert_null(strstr(after, "ciphertext"));
    size_t zeros = 0;
    for (long i = 0; i < len; i++)
        zeros += after[i] == 0;
    assert_true(zeros < (size_t)len / 8); /* random, not merely zeroed */
    free(before);
    free(after);
    assert_int_equal(keys_public(ks, id, &pub, &err), LV_ENOTFOUND);
    assert_int_equal(keys_sign(ks, id, EVP_sha256(), (const unsigned char *)"x",
                               1, &sig, &sig_len, &err),
                     LV_ENOTFOUND);
    assert_int_equal(keys_info(ks, id, NULL, NULL, &err), LV_ENOTFOUND);
    assert_int_equal(keys_destroy(ks, id, &err), LV_ENOTFOUND);
    sign_and_verify(ks, keep, EVP_sha256());
    keys_close(ks);

    ks = open_pair(fx, 1, 2);
    assert_int_equal(keys_public(ks, id, &pub, &err), LV_ENOTFOUND);
    sign_and_verify(ks, keep, EVP_sha256());
    keys_close(ks);
}

/* ---- arguments ---------------------------------------------------------- */
static void test_bad_arguments(void **state)
{
    fixture *fx = *state;
    char id[LV_KEY_ID_LEN + 1], long_label[300];
    EVP_PKEY *pub = NULL;
    lv_err err = {0};
    static const char *bad_ids[] = {
        "../keys/keystore",
        "0123456789ABCDEF0123456789abcdef",
        "0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcdef0",
        "0123456789abcdef/123456789abcdef",
        "",
    };

    assert_int_equal(
        keys_generate(NULL, LV_KEY_EC_P256, LV_KEY_CLASS_CA, "x", id, &err),
        LV_ESEALED);
    assert_int_equal(keys_public(NULL, bad_ids[1], &pub, &err), LV_ESEALED);
    lv_keystore *ks = open_pair(fx, 0, 1);
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        assert_int_equal(keys_public(ks, bad_ids[i], &pub, &err), LV_EINVAL);
        assert_int_equal(keys_destroy(ks, bad_ids[i], &err), LV_EINVAL);
    }
    assert_int_equal(keys_public(ks, NULL, &pub, &err), LV_EINVAL);
    assert_int_equal(
        keys_public(ks, "0123456789abcdef0123456789abcdef", &pub, &err),
        LV_ENOTFOUND);
    assert_int_equal(
        keys_generate(ks, (lv_key_type)42, LV_KEY_CLASS_CA, "x", id, &err),
        LV_EINVAL);
    assert_int_equal(
        keys_generate(ks, LV_KEY_EC_P256, (lv_key_class)9, "x", id, &err),
        LV_EINVAL);
    assert_int_equal(keys_generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_CA,
                                   "bad\nlabel", id, &err),
                     LV_EINVAL);
    memset(long_label, 'a', sizeof long_label - 1);
    long_label[sizeof long_label - 1] = '\0';
    assert_int_equal(keys_generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_CA,
                                   long_label, id, &err),
                     LV_EINVAL);
    assert_int_equal(
        keys_generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_CA, NULL, id, &err), 0);
    keys_close(ks);
    keys_close(NULL);
}

static void test_type_and_class_names(void **state)
{
    static const char *names[] = {"rsa2048", "rsa3072", "rsa4096", "ec-p256",
                                  "ec-p384"};
    lv_key_type t;
    (void)state;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(keys_type_parse(names[i], &t), 0);
        assert_int_equal(t, (lv_key_type)i);
        assert_string_equal(keys_type_name(t), names[i]);
    }
    assert_int_equal(keys_type_parse("rsa1024", &t), LV_EINVAL);
    assert_int_equal(keys_type_parse(NULL, &t), LV_EINVAL);
    assert_null(keys_type_name((lv_key_type)17));
    assert_string_equal(keys_class_name(LV_KEY_CLASS_CA), "ca");
    assert_string_equal(keys_class_name(LV_KEY_CLASS_SERVICE), "service");
    assert_string_equal(keys_class_name(LV_KEY_CLASS_SIGNER), "signer");
    assert_null(keys_class_name((lv_key_class)5));
}

/* ---- R10.1: many threads sign with cached keys --------------------------- */
typedef struct {
    lv_keystore *ks;
    const char *id;
    EVP_PKEY *pub;
    int failures;
} sign_job;

static void *sign_worker(void *arg)
{
    sign_job *job = arg;
    const char *msg = "concurrent";
    for (int i = 0; i < 20; i++) {
        unsigned char *sig = NULL;
        size_t sig_len = 0;
        if (keys_sign(job->ks, job->id, EVP_sha256(),
                      (const unsigned char *)msg, strlen(msg), &sig, &sig_len,
                      NULL) != 0 ||
            !verify(job->pub, EVP_sha256(), sig, sig_len, msg))
            job->failures++;
        free(sig);
    }
    return NULL;
}

static void test_concurrent_signing(void **state)
{
    fixture *fx = *state;
    char ids[2][LV_KEY_ID_LEN + 1];
    EVP_PKEY *pubs[2];
    pthread_t th[8];
    sign_job jobs[8];
    lv_err err = {0};

    lv_keystore *ks = open_pair(fx, 0, 1);
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE, ids[0]);
    generate(ks, LV_KEY_RSA2048, LV_KEY_CLASS_CA, ids[1]);
    for (int k = 0; k < 2; k++)
        assert_int_equal(keys_public(ks, ids[k], &pubs[k], &err), 0);
    keys_close(ks);
    ks = open_pair(fx, 0, 1); /* first use races on the decryption */
    for (int i = 0; i < 8; i++) {
        jobs[i] = (sign_job){ks, ids[i % 2], pubs[i % 2], 0};
        assert_int_equal(pthread_create(&th[i], NULL, sign_worker, &jobs[i]),
                         0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    keys_close(ks);
    EVP_PKEY_free(pubs[0]);
    EVP_PKEY_free(pubs[1]);
}

/* ---- share rotation and unseal sessions (issue 8) ----------------------- */
/* R9.5: the same keys open under the new shares; no old share works any
 * more, alone or mixed with a new one. */
static void test_rotate_shares(void **state)
{
    fixture *fx = *state;
    char fresh[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    char id[LV_KEY_ID_LEN + 1];
    lv_err err = {0};
    lv_keystore *ks = open_pair(fx, 0, 1);
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE, id);
    keys_close(ks);
    const char *two[2] = {fx->shares[1], fx->shares[2]};
    assert_int_equal(keys_rotate_shares(fx->dir, two, 2, fresh, &err), 0);
    for (int i = 0; i < LV_SHARES_TOTAL; i++) {
        assert_int_equal(keys_share_check(fresh[i], NULL), 0);
        assert_string_not_equal(fresh[i], fx->shares[i]);
    }
    assert_int_equal(open_with(fx, two, 2, &err), LV_EAUTH);
    const char *mixed[2] = {fx->shares[0], fresh[1]};
    assert_int_equal(open_with(fx, mixed, 2, &err), LV_EAUTH);
    memcpy(fx->shares, fresh, sizeof fresh);
    ks = open_pair(fx, 0, 2);
    sign_and_verify(ks, id, EVP_sha256()); /* the old key, unchanged */
    keys_close(ks);
    /* one share is not enough to rotate either */
    assert_int_equal(keys_rotate_shares(fx->dir, two, 1, fresh, &err),
                     LV_EAUTH);
}

static void test_unseal_session(void **state)
{
    fixture *fx = *state;
    lv_unseal *u = NULL;
    lv_keystore *ks = NULL;
    lv_err err = {0};
    unsigned idx = 0;
    size_t got = 9;
    char other[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%.256s/other", fx->dir);
    assert_int_equal(mkdir(tmp, 0700), 0);
    assert_int_equal(keys_create(tmp, other, &err), 0);
    assert_int_equal(keys_unseal_new(fx->dir, &u, &err), 0);
    /* garbage, a foreign share: refused, nothing held */
    assert_int_equal(
        keys_unseal_add(u, "llave-share-1-00", &idx, &got, &ks, &err),
        LV_EINVAL);
    assert_int_equal(keys_unseal_add(u, other[0], &idx, &got, &ks, &err),
                     LV_EAUTH);
    assert_int_equal(idx, 1);
    assert_int_equal(got, 0);
    /* one share: held, not open */
    assert_int_equal(keys_unseal_add(u, fx->shares[1], &idx, &got, &ks, &err),
                     0);
    assert_null(ks);
    assert_int_equal(got, 1);
    assert_int_equal(keys_unseal_received(u), 1);
    /* the same share again: refused, still one held */
    assert_int_equal(keys_unseal_add(u, fx->shares[1], &idx, &got, &ks, &err),
                     LV_EEXISTS);
    assert_null(ks);
    assert_int_equal(got, 1);
    /* reset forgets it */
    keys_unseal_reset(u);
    assert_int_equal(keys_unseal_received(u), 0);
    assert_int_equal(keys_unseal_add(u, fx->shares[2], &idx, &got, &ks, &err),
                     0);
    assert_int_equal(keys_unseal_add(u, fx->shares[0], &idx, &got, &ks, &err),
                     0);
    assert_int_equal(idx, 1);
    assert_int_equal(got, 2);
    assert_non_null(ks);
    assert_int_equal(keys_unseal_received(u), 0);
    char id[LV_KEY_ID_LEN + 1];
    generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE, id);
    sign_and_verify(ks, id, EVP_sha256());
    keys_close(ks);
    keys_unseal_free(u);
    keys_unseal_free(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_share_format),
        T(test_any_two_shares_open_and_sign),
        T(test_all_three_shares_open),
        T(test_one_share_refused),
        T(test_same_share_twice_refused),
        T(test_share_typo_caught_by_checksum),
        T(test_share_check_formats),
        T(test_share_of_other_store_refused),
        T(test_share_with_recomputed_checksum_refused),
        T(test_keystore_file_altered_refused),
        T(test_keystore_file_corrupt),
        T(test_create_twice_refused),
        T(test_open_without_store),
        T(test_file_modes),
        T(test_generate_rsa2048),
        T(test_generate_ec),
        T(test_generate_rsa4096),
        T(test_sign_init_context),
        T(test_signer_key_refused),
        T(test_key_file_tampered),
        T(test_key_class_relabel_refused),
        T(test_key_file_renamed_or_swapped),
        T(test_key_of_other_store_refused),
        T(test_destroy),
        T(test_bad_arguments),
        T(test_type_and_class_names),
        T(test_concurrent_signing),
        T(test_rotate_shares),
        T(test_unseal_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
