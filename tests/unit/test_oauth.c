/* oauth/ (issue 14 item 3): the form-body reader of the token and
 * revocation endpoints (RFC 6749 Appendix B), the redirect URI rules, the
 * registration of a client, the bearer checks the CSC methods call and the
 * revocation of a credential token together with its SAD, on a real store
 * in a fresh directory.  The flows are tested end to end in
 * tests/integration/test_oauth.py and tests/e2e/oauth.test.mjs. */
#include "oauth/oauth.h"
#include "store/store_sign.h"

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
    char db[300];
    lv_store *st;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    assert_int_equal(tu_tmpdir(fx->dir, sizeof fx->dir, "oauth"), 0);
    assert_int_equal(tu_store_open(fx->dir, fx->db, sizeof fx->db, &fx->st), 0);
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

static int parses(const char *body, oauth_params *p)
{
    lv_err err = {0};
    return oauth_form_parse(body, strlen(body), p, &err);
}

static void test_form(void **state)
{
    oauth_params p;
    (void)state;
    assert_int_equal(parses("grant_type=authorization_code&code=ab%2Fc+d"
                            "&empty=&flag&&redirect_uri=https%3A%2F%2Fx",
                            &p),
                     0);
    assert_string_equal(oauth_param(&p, "grant_type"), "authorization_code");
    assert_string_equal(oauth_param(&p, "code"), "ab/c d");
    assert_string_equal(oauth_param(&p, "empty"), "");
    assert_string_equal(oauth_param(&p, "flag"), "");
    assert_string_equal(oauth_param(&p, "redirect_uri"), "https://x");
    assert_null(oauth_param(&p, "missing"));
    static const char *const names[] = {"code", "grant_type", NULL};
    assert_null(oauth_params_repeated(&p, names));
    oauth_params_free(&p);
    assert_int_equal(parses("code=1&code=2", &p), 0);
    assert_string_equal(oauth_params_repeated(&p, names), "code");
    oauth_params_free(&p);
    assert_int_equal(parses("", &p), 0);
    assert_int_equal(p.n, 0);
    oauth_params_free(&p);
    /* malformed escapes, decoded or raw control characters, no name */
    static const char *const bad[] = {"a=%",   "a=%4",  "a=%zz",
                                      "a=%00", "a=%0a", "a=b\n",
                                      "=x",    "a=%7f", "%=1&b=2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parses(bad[i], &p), LV_EINVAL);
        assert_null(p.buf);
    }
    /* too many pairs; a body over the limit */
    char many[4 * (OAUTH_PARAMS_MAX + 1) + 1] = "";
    for (int i = 0; i <= OAUTH_PARAMS_MAX; i++)
        strcat(many, "a=1&");
    assert_int_equal(parses(many, &p), LV_EINVAL);
    lv_err err = {0};
    assert_int_equal(oauth_form_parse("a", OAUTH_FORM_MAX + 1, &p, &err),
                     LV_EINVAL);
}

static void test_redirect_uris(void **state)
{
    (void)state;
    assert_true(oauth_redirect_uri_ok("https://rp.example/cb?x=1"));
    assert_true(oauth_redirect_uri_ok("http://127.0.0.1:8080/cb"));
    assert_true(oauth_redirect_uri_ok("http://localhost/cb"));
    assert_true(oauth_redirect_uri_ok("http://[::1]:9/cb"));
    assert_false(oauth_redirect_uri_ok("http://rp.example/cb"));
    assert_false(oauth_redirect_uri_ok("http://127.0.0.1.evil.example/cb"));
    assert_false(oauth_redirect_uri_ok("http://localhost.evil/cb"));
    assert_false(oauth_redirect_uri_ok("https://rp.example/cb#f"));
    assert_false(oauth_redirect_uri_ok("https://rp.example/c b"));
    assert_false(oauth_redirect_uri_ok("https:///cb"));
    assert_false(oauth_redirect_uri_ok("javascript:alert(1)"));
    assert_false(oauth_redirect_uri_ok(NULL));
}

static void test_client(void **state)
{
    fixture *fx = *state;
    lv_sign_app_secret s;
    lv_sign_app app;
    lv_err err = {0};
    json_t *uris = NULL;
    const char *two[] = {"https://a.example/cb", "http://127.0.0.1/cb"};
    const char *dup[] = {"https://a.example/cb", "https://a.example/cb"};
    assert_int_equal(oauth_client_add(fx->st, "RP", dup, 2, "test", &s, &err),
                     LV_EINVAL);
    assert_int_equal(oauth_client_add(fx->st, "RP", two, 0, "test", &s, &err),
                     LV_EINVAL);
    assert_int_equal(oauth_client_add(fx->st, "RP", two, 2, "test", &s, &err),
                     0);
    assert_int_equal(sign_app_check(fx->st, s.client_id, s.secret, &app, &err),
                     0);
    assert_int_equal(oauth_client_uris_json(fx->st, s.client_id, &uris, &err),
                     0);
    assert_int_equal(json_array_size(uris), 2);
    assert_string_equal(json_string_value(json_array_get(uris, 1)),
                        "http://127.0.0.1/cb");
    json_decref(uris);
    assert_int_equal(tu_sql(fx->db, "SELECT count(*) FROM audit_log WHERE "
                                    "event = 'app.add'"),
                     1);
}

/* A token row and, for a credential token, its SAD, behind oauth/'s back. */
static void put_token(const char *db, const char *client, const char *token,
                      const char *kind, int64_t expires, int remaining)
{
    char hash[65], sql[1024];
    unsigned char h[32];
    EVP_Digest(token, strlen(token), h, NULL, EVP_sha256(), NULL);
    lv_hex_encode(h, 32, hash);
    snprintf(sql, sizeof sql,
             "INSERT INTO oauth_tokens (token_hash, kind, client_id, "
             "citizen_id, serial, code_hash, created_at, expires_at) VALUES "
             "('%s', '%s', '%s', 'c-nobody', '01AB', 'x', 1, %lld)",
             hash, kind, client, (long long)expires);
    tu_exec(db, sql);
    if (remaining < 0)
        return;
    snprintf(sql, sizeof sql,
             "INSERT INTO sign_sads VALUES ('%s', 'c-nobody', '01AB', "
             "'sha256', x'00', %d, 1, %lld)",
             hash, remaining, (long long)expires);
    tu_exec(db, sql);
}

static void test_bearer_and_revoke(void **state)
{
    fixture *fx = *state;
    lv_sign_app_secret s, s2;
    lv_principal who;
    lv_oauth_kind kind;
    lv_oauth_grant g;
    lv_err err = {0};
    const char *oerr = NULL;
    const char *uri[] = {"https://a.example/cb"};
    char tok[65], tok2[65];
    memset(tok, 'a', 64);
    memset(tok2, 'b', 64);
    tok[64] = tok2[64] = '\0';
    assert_int_equal(oauth_client_add(fx->st, "RP", uri, 1, "t", &s, &err), 0);
    assert_int_equal(oauth_client_add(fx->st, "RP2", uri, 1, "t", &s2, &err),
                     0);
    int64_t later = lv_now() + 300;
    put_token(fx->db, s.client_id, tok, "credential", later, 2);
    put_token(fx->db, s.client_id, tok2, "service", later, -1);
    /* malformed, unknown, and a citizen who may not sign: all LV_EAUTH */
    assert_int_equal(oauth_bearer(fx->st, "nothex", &who, &kind, &err),
                     LV_EAUTH);
    assert_int_equal(oauth_bearer(fx->st, "cc", &who, &kind, &err), LV_EAUTH);
    assert_int_equal(oauth_bearer_service(fx->st, tok2, &who, &err), LV_EAUTH);
    assert_non_null(strstr(err.msg, "may not sign"));
    assert_int_equal(oauth_bearer_credential(fx->st, tok, &g, &err), LV_EAUTH);
    /* another client's revocation leaves the token alone (RFC 7009) */
    assert_int_equal(
        oauth_revoke(fx->st, s2.client_id, s2.secret, tok, &oerr, &err), 0);
    assert_int_equal(tu_sql(fx->db, "SELECT count(*) FROM oauth_tokens "
                                    "WHERE revoked_at > 0"),
                     0);
    assert_int_equal(oauth_revoke(fx->st, s.client_id, "00", tok, &oerr, &err),
                     LV_EAUTH);
    assert_string_equal(oerr, "invalid_client");
    /* the owner revokes: the token and its SAD are used up */
    assert_int_equal(
        oauth_revoke(fx->st, s.client_id, s.secret, tok, &oerr, &err), 0);
    assert_int_equal(tu_sql(fx->db, "SELECT count(*) FROM oauth_tokens "
                                    "WHERE revoked_at > 0"),
                     1);
    assert_int_equal(tu_sql(fx->db, "SELECT remaining FROM sign_sads"), 0);
    assert_int_equal(tu_sql(fx->db, "SELECT count(*) FROM audit_log WHERE "
                                    "event = 'oauth.revoke'"),
                     1);
    /* again: nothing more to do, still 200 */
    assert_int_equal(
        oauth_revoke(fx->st, s.client_id, s.secret, tok, &oerr, &err), 0);
    assert_int_equal(
        oauth_revoke(fx->st, s.client_id, s.secret, NULL, &oerr, &err),
        LV_EINVAL);
    assert_string_equal(oerr, "invalid_request");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_redirect_uris),
        cmocka_unit_test_setup_teardown(test_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bearer_and_revoke, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
