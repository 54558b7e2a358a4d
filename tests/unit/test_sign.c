/* sign/: digest algorithms (R4.1: SHA-2 only), the refusal names of the
 * transaction API (R5.6), relying applications' credentials, and the
 * checks of a transaction request, RFC 4514 names, the default CSC flow
 * and extendTransaction's new SAD, on a real store in a fresh directory.
 * The signing flows themselves are tested end to end in
 * tests/integration/test_sign.py and tests/e2e/. */
#include "sign/sign.h"
#include "store/store_sign.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    lv_store *st;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char db[300];
    assert_non_null(fx);
    assert_int_equal(tu_tmpdir(fx->dir, sizeof fx->dir, "sign"), 0);
    assert_int_equal(tu_store_open(fx->dir, db, sizeof db, &fx->st), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    store_close(fx->st);
    tu_rmtree(fx->dir);
    free(fx);
    return 0;
}

static void test_digest_algorithms(void **state)
{
    (void)state;
    assert_true(EVP_MD_is_a(sign_md_by_name("SHA-256"), "SHA256"));
    assert_true(EVP_MD_is_a(sign_md_by_name("sha384"), "SHA384"));
    assert_true(
        EVP_MD_is_a(sign_md_by_oid("2.16.840.1.101.3.4.2.3"), "SHA512"));
    assert_null(sign_md_by_name("sha1")); /* R4.1 */
    assert_null(sign_md_by_name("md5"));
    assert_null(sign_md_by_name(NULL));
    assert_null(sign_md_by_oid("1.3.14.3.2.26")); /* SHA-1 */
    assert_string_equal(sign_md_name(EVP_sha512()), "sha512");
    assert_string_equal(sign_md_oid(EVP_sha256()), "2.16.840.1.101.3.4.2.1");
    assert_string_equal(sign_md_name(EVP_sha1()), "");
}

static void test_refusal_names(void **state)
{
    (void)state;
    assert_string_equal(sign_refusal_name(LV_SIGN_UNKNOWN_CITIZEN),
                        "unknown_citizen");
    assert_string_equal(sign_refusal_name(LV_SIGN_BASIC_LEVEL), "basic_level");
    assert_string_equal(sign_refusal_name(LV_SIGN_NO_CERTIFICATE),
                        "no_valid_certificate");
    assert_string_equal(sign_refusal_name(LV_SIGN_CERTIFICATE_BLOCKED),
                        "certificate_blocked");
    assert_string_equal(sign_refusal_name(LV_SIGN_DOCUMENT_EXPIRED),
                        "document_expired");
    assert_string_equal(sign_refusal_name((lv_sign_refusal)99), "refused");
}

static void test_app_credentials(void **state)
{
    fixture *fx = *state;
    lv_sign_app_secret s;
    lv_sign_app rec;
    lv_sign_app_rec row;
    lv_err err = {0};
    assert_int_equal(
        sign_app_add(fx->st, "Ayuntamiento", "console:test", &s, &err), 0);
    assert_int_equal(strncmp(s.client_id, "app-", 4), 0);
    assert_int_equal(strlen(s.secret), LV_SIGN_SECRET_LEN);
    assert_int_equal(sign_app_check(fx->st, s.client_id, s.secret, &rec, &err),
                     0);
    assert_string_equal(rec.name, "Ayuntamiento");
    /* only a hash is stored */
    assert_int_equal(store_sign_app_get(fx->st, s.client_id, &row, &err), 0);
    assert_string_not_equal(row.secret_hash, s.secret);
    char wrong[LV_SIGN_SECRET_LEN + 1];
    memcpy(wrong, s.secret, sizeof wrong);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    assert_int_equal(sign_app_check(fx->st, s.client_id, wrong, &rec, &err),
                     LV_EAUTH);
    assert_int_equal(
        sign_app_check(fx->st, "app-unknown", s.secret, &rec, &err), LV_EAUTH);
    assert_int_equal(sign_app_check(fx->st, NULL, s.secret, &rec, &err),
                     LV_EAUTH);
    char secret[LV_SIGN_SECRET_LEN + 1];
    memcpy(secret, s.secret, sizeof secret);
    assert_int_equal(sign_app_add(fx->st, "", "console:test", &s, &err),
                     LV_EINVAL);
    assert_int_equal(
        sign_app_add(fx->st, "bad\nname", "console:test", &s, &err), LV_EINVAL);
    json_t *list = NULL;
    assert_int_equal(sign_app_list_json(fx->st, &list, &err), 0);
    assert_int_equal(json_array_size(list), 1);
    char *text = json_dumps(list, 0);
    assert_null(strstr(text, secret)); /* never listed */
    free(text);
    json_decref(list);
}

/* Malformed requests are refused before anything is looked up. */
static void test_transaction_request_checks(void **state)
{
    fixture *fx = *state;
    lv_sign_app_secret s;
    lv_sign_app app;
    lv_err err = {0};
    lv_sign_refusal why;
    json_t *out = NULL;
    lv_sign_env env = {0};
    assert_int_equal(sign_app_add(fx->st, "A", "console:test", &s, &err), 0);
    assert_int_equal(sign_app_check(fx->st, s.client_id, s.secret, &app, &err),
                     0);
    const char *digest = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    const char *bad[] = {
        "[]",
        "{\"owner\": \"12345678Z\"}",
        "{\"owner\": \"12345678Z\", \"digest_algorithm\": \"SHA-1\"}",
        "{\"owner\": \"12345678Z\", \"digest_algorithm\": \"SHA-256\", "
        "\"redirect_ok_url\": \"javascript:alert(1)\", \"redirect_error_url\": "
        "\"https://a.example/e\", \"documents\": []}",
        "{\"owner\": \"12345678Z\", \"digest_algorithm\": \"SHA-256\", "
        "\"redirect_ok_url\": \"https://a.example/o\", \"redirect_error_url\": "
        "\"https://a.example/e\", \"documents\": []}",
        "{\"owner\": \"12345678Z\", \"digest_algorithm\": \"SHA-256\", "
        "\"redirect_ok_url\": \"https://a.example/o\", \"redirect_error_url\": "
        "\"https://a.example/e\", \"documents\": [{\"id\": \"1\", \"name\": "
        "\"n\", \"digest\": \"AAAA\"}]}",
        "{\"owner\": \"12345678Z\", \"extra\": 1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *req = json_loads(bad[i], 0, NULL);
        assert_non_null(req);
        assert_int_equal(
            sign_tx_create(&env, fx->st, &app, req, &out, &why, &err),
            LV_EINVAL);
        assert_null(out);
        json_decref(req);
    }
    /* well formed, but nobody has that document: unknown_citizen */
    char good[1024];
    snprintf(good, sizeof good,
             "{\"owner\": \"12345678Z\", \"digest_algorithm\": \"SHA-256\", "
             "\"redirect_ok_url\": \"https://a.example/o\", "
             "\"redirect_error_url\": \"https://a.example/e\", \"documents\": "
             "[{\"id\": \"1\", \"name\": \"n.pdf\", \"title\": \"t\", "
             "\"digest\": \"%s\"}]}",
             digest);
    json_t *req = json_loads(good, 0, NULL);
    assert_int_equal(sign_tx_create(&env, fx->st, &app, req, &out, &why, &err),
                     LV_ENOTFOUND);
    assert_int_equal(why, LV_SIGN_UNKNOWN_CITIZEN);
    json_decref(req);
}

/* Item 1: the CSC explicit flow is the default; a demo does not change
 * it (cli_init.c no longer touches it). */
static void test_csc_default(void **state)
{
    (void)state;
    lv_config cfg;
    lv_config_defaults(&cfg, "/nonexistent");
    assert_int_equal(cfg.csc_otp_hashes, 0);
}

static void put_sad(lv_store *st, const char *sad, const unsigned char *h,
                    size_t n, int remaining)
{
    lv_sign_sad_rec r = {0};
    lv_err err = {0};
    snprintf(r.citizen_id, sizeof r.citizen_id, "c1");
    snprintf(r.serial, sizeof r.serial, "0A1B");
    snprintf(r.digest_alg, sizeof r.digest_alg, "sha256");
    r.hashes = (unsigned char *)h;
    r.hashes_len = n * 32;
    r.remaining = remaining;
    r.created_at = lv_now();
    r.expires_at = r.created_at + 300;
    unsigned char d[32];
    EVP_Digest(sad, strlen(sad), d, NULL, EVP_sha256(), NULL);
    lv_hex_encode(d, sizeof d, r.sad_hash);
    assert_int_equal(store_sign_sad_insert(st, &r, &err), 0);
}

static void sad_of(lv_store *st, const char *sad, lv_sign_sad_rec *out)
{
    unsigned char d[32];
    char hex[65];
    lv_err err = {0};
    EVP_Digest(sad, strlen(sad), d, NULL, EVP_sha256(), NULL);
    lv_hex_encode(d, sizeof d, hex);
    assert_int_equal(store_sign_sad_get(st, hex, out, &err), 0);
}

/* CSC API v2.0.0.2 §11.9, §13.12: a new SAD, bound to the new hashes (or,
 * renewing, to the old ones), inheriting the signatures left; the old SAD
 * is used up; more new hashes than signatures left are refused. */
static void test_extend_transaction(void **state)
{
    fixture *fx = *state;
    unsigned char h[4 * 32];
    char old[65], sad2[65], sad3[65];
    int expires = 0;
    lv_err err = {0};
    lv_sign_sad_rec r = {0};
    memset(old, 'a', 64);
    old[64] = '\0';
    for (size_t i = 0; i < sizeof h; i++)
        h[i] = (unsigned char)(i / 32 + 1);
    put_sad(fx->st, old, h, 1, 3);
    assert_int_equal(sign_csc_extend(fx->st, "c1", "0A1B", old, EVP_sha256(),
                                     h + 32, 2, sad2, &expires, &err),
                     0);
    assert_int_equal(expires, LV_SIGN_SAD_TTL);
    assert_string_not_equal(sad2, old);
    sad_of(fx->st, old, &r);
    assert_int_equal(r.remaining, 0);
    store_sign_sad_rec_free(&r);
    sad_of(fx->st, sad2, &r);
    assert_int_equal(r.remaining, 3);
    assert_int_equal(r.hashes_len, 64);
    assert_memory_equal(r.hashes, h + 32, 64);
    store_sign_sad_rec_free(&r);
    /* the old one is gone; another citizen's call is refused */
    assert_int_equal(sign_csc_extend(fx->st, "c1", "0a1b", old, NULL, NULL, 0,
                                     sad3, &expires, &err),
                     LV_EPERM);
    assert_int_equal(sign_csc_extend(fx->st, "c2", "0a1b", sad2, NULL, NULL, 0,
                                     sad3, &expires, &err),
                     LV_EPERM);
    assert_int_equal(sign_csc_extend(fx->st, "c1", "0a1b", sad2, EVP_sha256(),
                                     h, 4, sad3, &expires, &err),
                     LV_EINVAL);
    /* a renewal keeps the binding */
    assert_int_equal(sign_csc_extend(fx->st, "c1", "0a1b", sad2, NULL, NULL, 0,
                                     sad3, &expires, &err),
                     0);
    sad_of(fx->st, sad3, &r);
    assert_int_equal(r.remaining, 3);
    assert_memory_equal(r.hashes, h + 32, 64);
    store_sign_sad_rec_free(&r);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_algorithms),
        cmocka_unit_test(test_refusal_names),
        T(test_app_credentials),
        T(test_transaction_request_checks),
        cmocka_unit_test(test_csc_default),
        T(test_extend_transaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
