/* keys/ signer keys under sole control (R5.1, R5.2): activation tokens are
 * single-use, short-lived and bound to one key and one list of digests;
 * signatures are PKCS#1 v1.5 over the DigestInfo of the digest, checked
 * here with OpenSSL's own verify. */
#include "keys/keys.h"

#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    lv_keystore *ks;
    char signer[LV_KEY_ID_LEN + 1];
    char other[LV_KEY_ID_LEN + 1];
    char service[LV_KEY_ID_LEN + 1];
    unsigned char digests[3 * 32];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    lv_err err = {0};
    assert_non_null(fx);
    assert_int_equal(tu_tmpdir(fx->dir, sizeof fx->dir, "signer"), 0);
    assert_int_equal(keys_create(fx->dir, shares, &err), 0);
    const char *two[] = {shares[0], shares[2]};
    assert_int_equal(keys_open(fx->dir, two, 2, &fx->ks, &err), 0);
    assert_int_equal(keys_generate(fx->ks, LV_KEY_RSA2048, LV_KEY_CLASS_SIGNER,
                                   "citizen-a", fx->signer, &err),
                     0);
    assert_int_equal(keys_generate(fx->ks, LV_KEY_RSA2048, LV_KEY_CLASS_SIGNER,
                                   "citizen-b", fx->other, &err),
                     0);
    assert_int_equal(keys_generate(fx->ks, LV_KEY_EC_P256, LV_KEY_CLASS_SERVICE,
                                   "tsa", fx->service, &err),
                     0);
    for (int i = 0; i < 3; i++) {
        char doc[32];
        snprintf(doc, sizeof doc, "document %d", i);
        EVP_Digest(doc, strlen(doc), fx->digests + 32 * i, NULL, EVP_sha256(),
                   NULL);
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    keys_close(fx->ks);
    tu_rmtree(fx->dir);
    free(fx);
    return 0;
}

static int mint(fixture *fx, const char *key, const unsigned char *d, size_t n,
                int ttl, char tok[LV_ACTIVATION_TOKEN_LEN + 1])
{
    lv_err err = {0};
    return keys_activation_mint(fx->ks, key, EVP_sha256(), d, n, ttl, tok,
                                &err);
}

/* The signature verifies as PKCS#1 v1.5 with SHA-256 DigestInfo. */
static void assert_verifies(fixture *fx, const char *key,
                            const unsigned char *digest,
                            const unsigned char *sig, size_t len)
{
    EVP_PKEY *pub = NULL;
    lv_err err = {0};
    assert_int_equal(keys_public(fx->ks, key, &pub, &err), 0);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
    assert_non_null(ctx);
    assert_true(EVP_PKEY_verify_init(ctx) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0);
    assert_true(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0);
    assert_int_equal(EVP_PKEY_verify(ctx, sig, len, digest, 32), 1);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pub);
}

static void test_batch_signs_and_verifies(void **state)
{
    fixture *fx = *state;
    char tok[LV_ACTIVATION_TOKEN_LEN + 1];
    unsigned char *sigs = NULL;
    size_t len = 0;
    lv_err err = {0};
    assert_int_equal(mint(fx, fx->signer, fx->digests, 3, 60, tok), 0);
    assert_int_equal(strlen(tok), LV_ACTIVATION_TOKEN_LEN);
    assert_int_equal(keys_activation_pending(fx->ks), 1);
    assert_int_equal(keys_signer_sign(fx->ks, fx->signer, tok, EVP_sha256(),
                                      fx->digests, 3, &sigs, &len, &err),
                     0);
    assert_int_equal(len, 256);
    for (int i = 0; i < 3; i++)
        assert_verifies(fx, fx->signer, fx->digests + 32 * i, sigs + i * len,
                        len);
    assert_int_equal(keys_activation_pending(fx->ks), 0);
    free(sigs);
}

static void test_reused_token_refused(void **state)
{
    fixture *fx = *state;
    char tok[LV_ACTIVATION_TOKEN_LEN + 1];
    unsigned char *sigs = NULL;
    size_t len = 0;
    lv_err err = {0};
    assert_int_equal(mint(fx, fx->signer, fx->digests, 1, 60, tok), 0);
    assert_int_equal(keys_signer_sign(fx->ks, fx->signer, tok, EVP_sha256(),
                                      fx->digests, 1, &sigs, &len, &err),
                     0);
    free(sigs);
    sigs = NULL;
    assert_int_equal(keys_signer_sign(fx->ks, fx->signer, tok, EVP_sha256(),
                                      fx->digests, 1, &sigs, &len, &err),
                     LV_EPERM);
    assert_null(sigs);
    assert_non_null(strstr(err.msg, "already used"));
}

static void test_other_digests_refused(void **state)
{
    fixture *fx = *state;
    char tok[LV_ACTIVATION_TOKEN_LEN + 1];
    unsigned char *sigs = NULL;
    size_t len = 0;
    lv_err err = {0};
    /* bound to documents 0 and 1: document 2, a subset, another order,
     * another algorithm all fail; each try burns the token */
    const unsigned char *d = fx->digests;
    unsigned char swapped[64];
    memcpy(swapped, d + 32, 32);
    memcpy(swapped + 32, d, 32);
    struct {
        const unsigned char *d;
        size_t n;
        const EVP_MD *md;
    } tries[] = {
        {d + 64, 1, EVP_sha256()},  {d, 1, EVP_sha256()},
        {swapped, 2, EVP_sha256()}, {d, 1, EVP_sha512()},
        {d, 3, EVP_sha256()},
    };
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        assert_int_equal(mint(fx, fx->signer, d, 2, 60, tok), 0);
        int rc = keys_signer_sign(fx->ks, fx->signer, tok, tries[i].md,
                                  tries[i].d, tries[i].n, &sigs, &len, &err);
        assert_int_equal(rc, LV_EPERM);
        assert_null(sigs);
        assert_non_null(strstr(err.msg, "other digests"));
        /* and the right digests no longer work with that token */
        assert_int_equal(keys_signer_sign(fx->ks, fx->signer, tok, EVP_sha256(),
                                          d, 2, &sigs, &len, &err),
                         LV_EPERM);
        assert_null(sigs);
    }
}

static void test_expired_token_refused(void **state)
{
    fixture *fx = *state;
    char tok[LV_ACTIVATION_TOKEN_LEN + 1];
    unsigned char *sigs = NULL;
    size_t len = 0;
    lv_err err = {0};
    assert_int_equal(mint(fx, fx->signer, fx->digests, 1, 1, tok), 0);
    usleep(1100 * 1000);
    int rc = keys_signer_sign(fx->ks, fx->signer, tok, EVP_sha256(),
                              fx->digests, 1, &sigs, &len, &err);
    assert_int_equal(rc, LV_EPERM);
    assert_null(sigs);
    /* either judged expired, or already purged from the table */
    assert_true(strstr(err.msg, "expired") || strstr(err.msg, "unknown"));
}

static void test_another_keys_token_refused(void **state)
{
    fixture *fx = *state;
    char tok[LV_ACTIVATION_TOKEN_LEN + 1];
    unsigned char *sigs = NULL;
    size_t len = 0;
    lv_err err = {0};
    /* citizen B's token does not open citizen A's key */
    assert_int_equal(mint(fx, fx->other, fx->digests, 1, 60, tok), 0);
    assert_int_equal(keys_signer_sign(fx->ks, fx->signer, tok, EVP_sha256(),
                                      fx->digests, 1, &sigs, &len, &err),
                     LV_EPERM);
    assert_null(sigs);
    assert_non_null(strstr(err.msg, "another key"));
}

static void test_forged_and_malformed_tokens(void **state)
{
    fixture *fx = *state;
    char tok[LV_ACTIVATION_TOKEN_LEN + 1];
    unsigned char *sigs = NULL;
    size_t len = 0;
    lv_err err = {0};
    assert_int_equal(mint(fx, fx->signer, fx->digests, 1, 60, tok), 0);
    tok[0] = tok[0] == 'a' ? 'b' : 'a'; /* one nibble off */
    assert_int_equal(keys_signer_sign(fx->ks, fx->signer, tok, EVP_sha256(),
                                      fx->digests, 1, &sigs, &len, &err),
                     LV_EPERM);
    const char *bad[] = {NULL, "", "zz", "0123"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(keys_signer_sign(fx->ks, fx->signer, bad[i],
                                          EVP_sha256(), fx->digests, 1, &sigs,
                                          &len, &err),
                         LV_EPERM);
    assert_null(sigs);
}

static void test_only_signer_keys_take_tokens(void **state)
{
    fixture *fx = *state;
    char tok[LV_ACTIVATION_TOKEN_LEN + 1];
    unsigned char *sig = NULL;
    size_t len = 0;
    lv_err err = {0};
    assert_int_equal(mint(fx, fx->service, fx->digests, 1, 60, tok), LV_EPERM);
    assert_int_equal(keys_activation_pending(fx->ks), 0);
    /* and the operators' path, keys_sign, never reaches a signer key */
    assert_int_equal(keys_sign(fx->ks, fx->signer, EVP_sha256(),
                               (const unsigned char *)"x", 1, &sig, &len, &err),
                     LV_EPERM);
    assert_null(sig);
}

static void test_bad_arguments(void **state)
{
    fixture *fx = *state;
    char tok[LV_ACTIVATION_TOKEN_LEN + 1];
    lv_err err = {0};
    assert_int_equal(mint(fx, fx->signer, fx->digests, 0, 60, tok), LV_EINVAL);
    assert_int_equal(
        mint(fx, fx->signer, fx->digests, LV_SIGNER_BATCH_MAX + 1, 60, tok),
        LV_EINVAL);
    assert_int_equal(mint(fx, fx->signer, fx->digests, 1, 0, tok), LV_EINVAL);
    assert_int_equal(
        mint(fx, fx->signer, fx->digests, 1, LV_ACTIVATION_TTL_MAX + 1, tok),
        LV_EINVAL);
    assert_int_equal(mint(fx, "nothex", fx->digests, 1, 60, tok), LV_EINVAL);
    assert_int_equal(
        mint(fx, "00000000000000000000000000000000", fx->digests, 1, 60, tok),
        LV_ENOTFOUND);
    assert_int_equal(keys_activation_mint(NULL, fx->signer, EVP_sha256(),
                                          fx->digests, 1, 60, tok, &err),
                     LV_ESEALED);
    assert_int_equal(keys_activation_pending(fx->ks), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_batch_signs_and_verifies),
        T(test_reused_token_refused),
        T(test_other_digests_refused),
        T(test_expired_token_refused),
        T(test_another_keys_token_refused),
        T(test_forged_and_malformed_tokens),
        T(test_only_signer_keys_take_tokens),
        T(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
