/* Unit tests of auth/ and notify/ over a real SQLite store in a temporary
 * directory: RFC 6238 / RFC 4226 / RFC 4648 vectors, Argon2id round trip,
 * password policy, operator login with TOTP (replay, throttling, roles),
 * citizens' activation, history, expiry, lock and unlock, one-time codes
 * bound to an operation, and issue 11's front door: one answer for every
 * failed login, the anonymous-failure aggregate, limits on codes sent and
 * the two-person rule for disabling an administrator.  Codes sent by SMS are
 * read back from the outbox files notify/ writes, as a citizen's phone would
 * receive them. */
#include "auth/auth_internal.h"
#include "notify/notify.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include "testutil.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct fixture {
    char dir[512];
    char db[600];
    lv_config cfg;
    lv_store *st;
    lv_auth *auth;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    lv_err err = {0};
    if (f == NULL || tu_tmpdir(f->dir, sizeof f->dir, "auth") < 0 ||
        tu_store_open(f->dir, f->db, sizeof f->db, &f->st) < 0)
        return -1;
    lv_config_defaults(&f->cfg, f->dir);
    f->cfg.argon2_memory_mib = 1; /* fast; the parameters are checked below */
    f->cfg.argon2_time = 1;
    f->cfg.lockout_failures_24h = 3; /* reached within the 5 free */
    f->cfg.activation_max_attempts = 3;
    if (auth_open(&f->cfg, &f->auth, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    auth_close(f->auth);
    store_close(f->st);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

/* SQL behind llave's back (to age a row, count rows). */
static long long raw_sql(const char *db, const char *sql)
{
    return tu_sql(db, sql);
}

static long long audit_count(fixture *f, const char *event, const char *result)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM audit_log WHERE event = '%s'"
             " AND result = '%s'",
             event, result);
    return raw_sql(f->db, sql);
}

/* ---- RFC vectors ------------------------------------------------------------
 */

/* RFC 6238 Appendix B: the 20-, 32- and 64-byte ASCII seeds, 8 digits. */
static void test_totp_rfc6238(void **state)
{
    (void)state;
    static const struct {
        int64_t t;
        const char *sha1, *sha256, *sha512;
    } V[] = {
        {59, "94287082", "46119246", "90693936"},
        {1111111109, "07081804", "68084774", "25091201"},
        {1111111111, "14050471", "67062674", "99943326"},
        {1234567890, "89005924", "91819424", "93441116"},
        {2000000000, "69279037", "90698825", "38618901"},
        {20000000000, "65353130", "77737706", "47863826"},
    };
    const char *s20 = "12345678901234567890";
    const char *s32 = "12345678901234567890123456789012";
    const char *s64 =
        "1234567890123456789012345678901234567890123456789012345678"
        "901234";
    char out[16];
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        uint64_t step = (uint64_t)(V[i].t / 30);
        assert_int_equal(auth_totp_code((const unsigned char *)s20, 20, step,
                                        "SHA1", 8, out, NULL),
                         0);
        assert_string_equal(out, V[i].sha1);
        assert_int_equal(auth_totp_code((const unsigned char *)s32, 32, step,
                                        "SHA256", 8, out, NULL),
                         0);
        assert_string_equal(out, V[i].sha256);
        assert_int_equal(auth_totp_code((const unsigned char *)s64, 64, step,
                                        "SHA512", 8, out, NULL),
                         0);
        assert_string_equal(out, V[i].sha512);
    }
}

/* RFC 4226 Appendix D: HOTP = TOTP with the counter as the step. */
static void test_hotp_rfc4226(void **state)
{
    (void)state;
    static const char *V[] = {"755224", "287082", "359152", "969429", "338314",
                              "254676", "287922", "162583", "399871", "520489"};
    char out[16];
    for (uint64_t c = 0; c < 10; c++) {
        assert_int_equal(
            auth_totp_code((const unsigned char *)"12345678901234567890", 20, c,
                           "SHA1", 6, out, NULL),
            0);
        assert_string_equal(out, V[c]);
    }
}

/* The +-1 step window, and nothing beyond it. */
static void test_totp_window(void **state)
{
    (void)state;
    const unsigned char *k = (const unsigned char *)"12345678901234567890";
    int64_t now = 1111111111, step = now / 30;
    char code[16];
    for (int d = -2; d <= 2; d++) {
        assert_int_equal(
            auth_totp_code(k, 20, (uint64_t)(step + d), "SHA1", 6, code, NULL),
            0);
        int64_t m = auth_totp_match(k, 20, now, code);
        assert_int_equal(m, d >= -1 && d <= 1 ? step + d : 0);
    }
    assert_int_equal(auth_totp_match(k, 20, now, "12345"), 0);
    assert_int_equal(auth_totp_match(k, 20, now, "12a456"), 0);
}

/* RFC 4648 §10 vectors, padding removed. */
static void test_base32(void **state)
{
    (void)state;
    static const char *in[] = {"f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *out[] = {"MY",      "MZXQ",     "MZXW6",
                                "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
    char b[32];
    for (int i = 0; i < 6; i++) {
        assert_int_equal(auth_base32((const unsigned char *)in[i],
                                     strlen(in[i]), b, sizeof b),
                         0);
        assert_string_equal(b, out[i]);
    }
    assert_true(auth_base32((const unsigned char *)"foobar", 6, b, 5) < 0);
}

/* ---- passwords
 * ---------------------------------------------------------------- */

static void test_argon2_round_trip(void **state)
{
    fixture *f = *state;
    char h[AUTH_PWHASH_MAX], h2[AUTH_PWHASH_MAX];
    assert_int_equal(auth_password_hash(f->auth, "Correct-Horse-9", h, NULL),
                     0);
    assert_non_null(strstr(h, "$argon2id$v=19$m=1024,t=1,p=1$"));
    assert_int_equal(auth_password_matches(f->auth, h, "Correct-Horse-9"), 1);
    assert_int_equal(auth_password_matches(f->auth, h, "Correct-Horse-8"), 0);
    assert_int_equal(auth_password_matches(f->auth, "", "Correct-Horse-9"), 0);
    /* A fresh salt each time. */
    assert_int_equal(auth_password_hash(f->auth, "Correct-Horse-9", h2, NULL),
                     0);
    assert_string_not_equal(h, h2);
}

static void test_password_policy(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    char longpw[200];
    memset(longpw, 'a', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    longpw[0] = 'A';
    longpw[1] = '1';
    assert_int_equal(auth_password_check(f->auth, "Sh0rt-pass", NULL, &err),
                     LV_EINVAL);
    assert_non_null(strstr(err.msg, "too short"));
    assert_int_equal(
        auth_password_check(f->auth, "alllowercaseletters", NULL, &err),
        LV_EINVAL);
    assert_int_equal(
        auth_password_check(f->auth, "lowerandUPPERonly", NULL, &err),
        LV_EINVAL);
    assert_non_null(strstr(err.msg, "too weak"));
    assert_int_equal(
        auth_password_check(f->auth, "xx12345678Zyy!", "12345678Z", &err),
        LV_EINVAL);
    assert_non_null(strstr(err.msg, "user id"));
    assert_int_equal(
        auth_password_check(f->auth, "Tab\there-Pass1", NULL, &err), LV_EINVAL);
    assert_int_equal(auth_password_check(f->auth, longpw, NULL, &err),
                     LV_EINVAL);
    assert_int_equal(
        auth_password_check(f->auth, "Lower-and-digit-9", "1234Z", &err), 0);
    /* Non-ASCII counts as "other", and by characters, not bytes. */
    assert_int_equal(auth_password_check(f->auth, "contraseñañañ1", NULL, &err),
                     0);
    assert_int_equal(auth_password_check(f->auth, "ñññññññññññ", NULL, &err),
                     LV_EINVAL);
    json_t *p = auth_password_policy_json(f->auth);
    assert_non_null(p);
    json_t *pw = json_object_get(p, "password");
    assert_int_equal(json_integer_value(json_object_get(pw, "min_length")), 12);
    assert_int_equal(json_integer_value(json_object_get(pw, "history")), 5);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(p, "otp"), "ttl_seconds")),
                     300);
    json_decref(p);
    char gen[64];
    for (int i = 0; i < 20; i++) {
        assert_int_equal(auth_password_generate(f->auth, gen, sizeof gen, NULL),
                         0);
        assert_int_equal(auth_password_check(f->auth, gen, NULL, NULL), 0);
    }
}

static void test_roles(void **state)
{
    (void)state;
    unsigned r = 0;
    char buf[256];
    assert_int_equal(auth_role_parse("ra_officer", &r, NULL), 0);
    assert_int_equal(r, LV_ROLE_RA_OFFICER);
    assert_int_equal(auth_role_parse("root", &r, NULL), LV_EINVAL);
    assert_int_equal(
        auth_roles_format(LV_ROLE_AUDITOR | LV_ROLE_RA_ADMIN, buf, sizeof buf),
        0);
    assert_string_equal(buf, "auditor,ra_admin");
    assert_int_equal(auth_roles_parse_list("auditor,ra_admin,bogus,citizen"),
                     LV_ROLE_AUDITOR | LV_ROLE_RA_ADMIN);
    assert_string_equal(auth_role_name(LV_ROLE_VALIDATION_OFFICER),
                        "validation_officer");
    assert_null(auth_role_name(LV_ROLE_AUDITOR | LV_ROLE_SYSADMIN));
}

/* ---- operators
 * ------------------------------------------------------------------ */

static int b32_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

/* The test's own base32 decoder, so the secret the operator was shown is
 * checked independently of auth_base32. */
static size_t b32_decode(const char *s, unsigned char *out)
{
    size_t n = 0;
    unsigned acc = 0, bits = 0;
    for (; *s; s++) {
        acc = (acc << 5) | (unsigned)b32_value(*s);
        bits += 5;
        if (bits >= 8) {
            out[n++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return n;
}

static void totp_now(const lv_operator_secret *s, int64_t delta_steps,
                     char code[16])
{
    unsigned char key[64];
    size_t n = b32_decode(s->totp_secret, key);
    assert_int_equal(n, 20);
    uint64_t step = (uint64_t)(lv_now() / 30 + delta_steps);
    assert_int_equal(auth_totp_code(key, n, step, "SHA1", 6, code, NULL), 0);
}

static void test_operator_login(void **state)
{
    fixture *f = *state;
    lv_operator_secret s;
    lv_session_token tok;
    lv_principal p;
    lv_err err = {0};
    char code[16], code2[16], far[16];
    assert_int_equal(auth_operator_add(f->auth, f->st, "ana.officer",
                                       LV_ROLE_RA_OFFICER, "test", &s, &err),
                     0);
    assert_non_null(strstr(s.totp_uri, "otpauth://totp/"));
    assert_non_null(strstr(s.totp_uri, s.totp_secret));
    assert_int_equal(auth_operator_add(f->auth, f->st, "ana.officer",
                                       LV_ROLE_RA_OFFICER, "test", &s, &err),
                     LV_EEXISTS);
    assert_int_equal(auth_operator_add(f->auth, f->st, "Bad Login",
                                       LV_ROLE_RA_OFFICER, "test", NULL, &err),
                     LV_EINVAL);
    assert_int_equal(
        auth_operator_add(f->auth, f->st, "noroles", 0, "test", NULL, &err),
        LV_EINVAL);
    /* A failed add wipes what it was given; a reset gives fresh secrets. */
    assert_int_equal(
        auth_operator_reset(f->auth, f->st, "ana.officer", "test", &s, &err),
        0);
    totp_now(&s, 0, code);
    assert_int_equal(auth_operator_login(f->auth, f->st, "ana.officer",
                                         "wrong-Password-1", code, "10.0.0.1",
                                         &tok, &err),
                     LV_EAUTH);
    totp_now(&s, 3, far); /* outside the +-1 window */
    assert_int_equal(auth_operator_login(f->auth, f->st, "ana.officer",
                                         s.password, far, NULL, &tok, &err),
                     strcmp(far, code) == 0 ? 0 : LV_EAUTH);
    assert_int_equal(auth_operator_login(f->auth, f->st, "ana.officer",
                                         s.password, code, NULL, &tok, &err),
                     0);
    assert_int_equal(strlen(tok.token), LV_AUTH_TOKEN_LEN);
    assert_int_equal(tok.roles, LV_ROLE_RA_OFFICER);
    /* Replay of the same code: refused (RFC 6238 §5.2). */
    lv_session_token t2;
    assert_int_equal(auth_operator_login(f->auth, f->st, "ana.officer",
                                         s.password, code, NULL, &t2, &err),
                     LV_EAUTH);
    /* The next step's code is inside the window and new. */
    totp_now(&s, 1, code2);
    assert_int_equal(auth_operator_login(f->auth, f->st, "ana.officer",
                                         s.password, code2, NULL, &t2, &err),
                     0);
    /* Session checks: role present, missing (403), any. */
    assert_int_equal(auth_session_check(f->auth, f->st, tok.token,
                                        LV_ROLE_RA_OFFICER | LV_ROLE_RA_ADMIN,
                                        &p, &err),
                     0);
    assert_string_equal(p.actor, "operator:ana.officer");
    assert_int_equal(p.kind, LV_PRINCIPAL_OPERATOR);
    assert_int_equal(auth_session_check(f->auth, f->st, tok.token,
                                        LV_ROLE_CA_ADMIN, &p, &err),
                     LV_EPERM);
    assert_int_equal(audit_count(f, "auth.denied", "failure"), 1);
    assert_int_equal(auth_session_check(f->auth, f->st, tok.token,
                                        LV_ROLE_CITIZEN, &p, &err),
                     LV_EPERM);
    assert_int_equal(auth_session_check(f->auth, f->st, "abc", 0, &p, &err),
                     LV_EAUTH);
    /* Disabling ends sessions at once; unknown account costs the same. */
    assert_int_equal(auth_operator_set_enabled(f->auth, f->st, "ana.officer", 0,
                                               "test", &err),
                     0);
    assert_int_equal(auth_session_check(f->auth, f->st, t2.token, 0, &p, &err),
                     LV_EAUTH);
    assert_int_equal(auth_operator_login(f->auth, f->st, "nobody", s.password,
                                         code, NULL, &t2, &err),
                     LV_EAUTH);
    /* The unknown login is counted for the aggregate, not written. */
    assert_int_equal(audit_count(f, "operator.login", "failure"), 3);
    assert_int_equal(auth_report_flush(f->auth, f->st, &err), 0);
    assert_int_equal(audit_count(f, "auth.failures_aggregate", "failure"), 1);
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM audit_log WHERE "
                                    "details LIKE '%replayed TOTP code%'"),
                     1);
    auth_operator_secret_wipe(&s);
}

/* Issue 11: failures never lock an operator; after auth_throttle_free of
 * them the attacker's address waits, the holder's other address does not. */
static void test_operator_throttle_and_expiry(void **state)
{
    fixture *f = *state;
    lv_operator_secret s;
    lv_session_token tok;
    lv_err err = {0};
    char code[16];
    assert_int_equal(auth_operator_add(f->auth, f->st, "bob", LV_ROLE_AUDITOR,
                                       "test", &s, &err),
                     0);
    totp_now(&s, 0, code);
    for (int i = 0; i < 5; i++)
        assert_int_equal(auth_operator_login(f->auth, f->st, "bob",
                                             "Wrong-password-1", code,
                                             "192.0.2.66", &tok, &err),
                         LV_EAUTH);
    lv_operator_info info;
    assert_int_equal(auth_operator_get(f->st, "bob", &info, &err), 0);
    assert_false(info.locked);
    /* The attacker's address now waits, even with the right secrets. */
    assert_int_equal(auth_operator_login(f->auth, f->st, "bob", s.password,
                                         code, "192.0.2.66", &tok, &err),
                     LV_ELIMIT);
    assert_true(err.retry_after >= 1);
    assert_int_equal(audit_count(f, "operator.login", "failure"), 5);
    /* The holder elsewhere gets in at once. */
    assert_int_equal(auth_operator_login(f->auth, f->st, "bob", s.password,
                                         code, "198.51.100.7", &tok, &err),
                     0);
    raw_sql(f->db, "UPDATE sessions SET expires_at = 1");
    assert_int_equal(
        auth_session_check(f->auth, f->st, tok.token, 0, NULL, &err), LV_EAUTH);
    assert_non_null(strstr(err.msg, "expired"));
    assert_int_equal(audit_count(f, "auth.session", "failure"), 1);
    /* The expired row is gone: a replayed token is not audited again. */
    assert_int_equal(
        auth_session_check(f->auth, f->st, tok.token, 0, NULL, &err), LV_EAUTH);
    assert_int_equal(audit_count(f, "auth.session", "failure"), 1);
    /* TOTP secrets are sealed at rest: the raw secret is not in the row. */
    unsigned char key[64];
    size_t n = b32_decode(s.totp_secret, key);
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
    sqlite3_prepare_v2(h, "SELECT totp_secret FROM operators WHERE login='bob'",
                       -1, &q, NULL);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    const unsigned char *blob = sqlite3_column_blob(q, 0);
    int blen = sqlite3_column_bytes(q, 0);
    assert_int_equal(blen, 12 + 20 + 16);
    for (int i = 0; i + (int)n <= blen; i++)
        assert_true(memcmp(blob + i, key, n) != 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    auth_operator_secret_wipe(&s);
}

/* ---- citizens
 * ------------------------------------------------------------------- */

/* The newest outbox message to `to`; its text in out. */
static void outbox_last(fixture *f, const char *to, char *out, size_t cap)
{
    char dir[700], best[256] = "", path[1000];
    snprintf(dir, sizeof dir, "%s/outbox", f->dir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.' && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    closedir(d);
    snprintf(path, sizeof path, "%s/%s", dir, best);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    json_t *j = json_load_file(path, 0, NULL);
    assert_non_null(j);
    assert_string_equal(lv_json_str(j, "channel"), "sms");
    assert_string_equal(lv_json_str(j, "to"), to);
    snprintf(out, cap, "%s", lv_json_str(j, "text"));
    json_decref(j);
}

/* The first run of `digits` digits in text. */
static void code_in(const char *text, int digits, char *code)
{
    for (const char *p = text; *p; p++)
        if (strspn(p, "0123456789") == (size_t)digits) {
            memcpy(code, p, (size_t)digits);
            code[digits] = '\0';
            return;
        }
    fail_msg("no %d-digit code in '%s'", digits, text);
}

#define PW1 "Primera-clave-2026"
#define PW2 "Segunda-clave-2026"

static void activate_citizen(fixture *f, const char *cid, const char *uid,
                             const char *mobile)
{
    char text[512], code[16];
    lv_err err = {0};
    assert_int_equal(auth_citizen_activation_start(f->auth, f->st, cid, uid,
                                                   mobile, LV_ACTIVATION_SMS,
                                                   "operator:ana", NULL, &err),
                     0);
    outbox_last(f, mobile, text, sizeof text);
    code_in(text, 8, code);
    assert_int_equal(
        auth_citizen_activate(f->auth, f->st, uid, code, PW1, NULL, NULL, &err),
        0);
}

static void test_citizen_activation(void **state)
{
    fixture *f = *state;
    char text[512], code[16], cid[LV_AUTH_ID_MAX], letter[LV_AUTH_CODE_MAX];
    lv_err err = {0};
    assert_int_equal(auth_citizen_activation_start(
                         f->auth, f->st, "C1", "12345678Z", "+34600000001",
                         LV_ACTIVATION_SMS, "operator:ana", NULL, &err),
                     0);
    outbox_last(f, "+34600000001", text, sizeof text);
    code_in(text, 8, code);
    assert_null(strstr(text, PW1));
    /* Weak password: refused before the code is even looked at. */
    assert_int_equal(auth_citizen_activate(f->auth, f->st, "12345678Z", code,
                                           "weak", NULL, NULL, &err),
                     LV_EINVAL);
    assert_int_equal(auth_citizen_activate(f->auth, f->st, "12345678Z", code,
                                           "Abc-12345678Z-x", NULL, NULL, &err),
                     LV_EINVAL);
    /* Wrong code, unknown user: 401, nothing set. */
    char wrong[16];
    snprintf(wrong, sizeof wrong, "%08d", (atoi(code) + 1) % 100000000);
    assert_int_equal(auth_citizen_activate(f->auth, f->st, "12345678Z", wrong,
                                           PW1, NULL, NULL, &err),
                     LV_EAUTH);
    assert_int_equal(auth_citizen_activate(f->auth, f->st, "nobody", code, PW1,
                                           NULL, NULL, &err),
                     LV_EAUTH);
    lv_citizen_cred c;
    assert_int_equal(auth_citizen_get(f->st, "C1", &c, &err), 0);
    assert_false(c.active);
    assert_int_equal(auth_citizen_activate(f->auth, f->st, "12345678Z", code,
                                           PW1, "10.1.1.1", cid, &err),
                     0);
    assert_string_equal(cid, "C1");
    /* A code works once. */
    assert_int_equal(auth_citizen_activate(f->auth, f->st, "12345678Z", code,
                                           PW2, NULL, NULL, &err),
                     LV_EAUTH);
    assert_int_equal(auth_citizen_get(f->st, "C1", &c, &err), 0);
    assert_true(c.active);
    assert_true(c.password_expires_at > lv_now() + 179 * 86400);
    /* A user id belongs to one citizen. */
    assert_int_equal(auth_citizen_activation_start(
                         f->auth, f->st, "C2", "12345678Z", "+34600000002",
                         LV_ACTIVATION_LETTER, "operator:ana", letter, &err),
                     LV_EEXISTS);
    assert_int_equal(auth_citizen_activation_start(
                         f->auth, f->st, "C2", "X1234567L", "600000002",
                         LV_ACTIVATION_SMS, "operator:ana", NULL, &err),
                     LV_EINVAL);
    /* Expired code. */
    assert_int_equal(auth_citizen_activation_start(
                         f->auth, f->st, "C2", "X1234567L", "+34600000002",
                         LV_ACTIVATION_LETTER, "operator:ana", letter, &err),
                     0);
    raw_sql(f->db, "UPDATE citizen_credentials SET activation_expires_at = 1"
                   " WHERE citizen_id = 'C2'");
    assert_int_equal(auth_citizen_activate(f->auth, f->st, "X1234567L", letter,
                                           PW1, NULL, NULL, &err),
                     LV_EAUTH);
    /* "nobody" names no account: aggregated, not one row (issue 11). */
    assert_int_equal(audit_count(f, "citizen.activate", "failure"), 3);
    assert_int_equal(audit_count(f, "citizen.activate", "success"), 1);
}

/* Wrong codes use up attempts; activation_max_attempts kill the code. */
static void test_activation_attempts(void **state)
{
    fixture *f = *state;
    char letter[LV_AUTH_CODE_MAX], wrong[16];
    lv_err err = {0};
    assert_int_equal(auth_citizen_activation_start(
                         f->auth, f->st, "C3", "Y7654321G", "+34600000003",
                         LV_ACTIVATION_LETTER, "operator:ana", letter, &err),
                     0);
    snprintf(wrong, sizeof wrong, "%08d", (atoi(letter) + 7) % 100000000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_citizen_activate(f->auth, f->st, "Y7654321G",
                                               wrong, PW1, NULL, NULL, &err),
                         LV_EAUTH);
    assert_int_equal(auth_citizen_activate(f->auth, f->st, "Y7654321G", letter,
                                           PW1, NULL, NULL, &err),
                     LV_EAUTH);
}

static void test_citizen_login_history_lockout(void **state)
{
    fixture *f = *state;
    lv_session_token tok;
    lv_principal p;
    lv_err err = {0};
    activate_citizen(f, "C1", "12345678Z", "+34600000001");
    assert_int_equal(auth_citizen_login(f->auth, f->st, "12345678Z", PW1,
                                        "10.0.0.9", &tok, &err),
                     0);
    assert_int_equal(auth_session_check(f->auth, f->st, tok.token,
                                        LV_ROLE_CITIZEN, &p, &err),
                     0);
    assert_int_equal(p.kind, LV_PRINCIPAL_CITIZEN);
    assert_string_equal(p.id, "C1");
    assert_int_equal(auth_session_check(f->auth, f->st, tok.token,
                                        LV_ROLE_RA_OFFICER, &p, &err),
                     LV_EPERM);
    /* History: the current password cannot be set again. */
    assert_int_equal(auth_citizen_password_change(f->auth, f->st, "12345678Z",
                                                  PW1, PW1, NULL, &err),
                     LV_EINVAL);
    assert_non_null(strstr(err.msg, "used recently"));
    assert_int_equal(auth_citizen_password_change(f->auth, f->st, "12345678Z",
                                                  PW1, PW2, NULL, &err),
                     0);
    assert_int_equal(auth_citizen_password_change(f->auth, f->st, "12345678Z",
                                                  PW2, PW1, NULL, &err),
                     LV_EINVAL);
    /* Expiry gates login but not a change of password. */
    raw_sql(f->db, "UPDATE citizen_credentials SET password_expires_at = 1");
    assert_int_equal(
        auth_citizen_login(f->auth, f->st, "12345678Z", PW2, NULL, &tok, &err),
        LV_EAUTH);
    assert_non_null(strstr(err.msg, "expired"));
    assert_int_equal(auth_citizen_password_change(f->auth, f->st, "12345678Z",
                                                  PW2, "Tercera-clave-2026",
                                                  NULL, &err),
                     0);
    /* Lock after lockout_failures_24h (3 here) failures; R3.5.  Only the
     * holder, who proves the password, learns of it (issue 11). */
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_citizen_login(f->auth, f->st, "12345678Z",
                                            "Wrong-clave-2026", NULL, &tok,
                                            &err),
                         LV_EAUTH);
    assert_int_equal(auth_citizen_login(f->auth, f->st, "12345678Z",
                                        "Wrong-clave-2026", NULL, &tok, &err),
                     LV_EAUTH);
    assert_string_equal(err.msg, "wrong user id or password");
    assert_int_equal(auth_citizen_login(f->auth, f->st, "12345678Z",
                                        "Tercera-clave-2026", NULL, &tok, &err),
                     LV_EPERM);
    assert_int_equal(auth_verify_password(f->auth, f->st, "C1",
                                          "Tercera-clave-2026", NULL, &err),
                     LV_EPERM);
    assert_int_equal(
        auth_citizen_unlock(f->auth, f->st, "C1", "operator:ana", &err), 0);
    assert_int_equal(auth_citizen_login(f->auth, f->st, "12345678Z",
                                        "Tercera-clave-2026", NULL, &tok, &err),
                     0);
    assert_int_equal(
        auth_citizen_unlock(f->auth, f->st, "C9", "operator:ana", &err),
        LV_ENOTFOUND);
    assert_int_equal(audit_count(f, "citizen.unlock", "success"), 1);
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM password_history"),
                     3);
}

/* ---- one-time codes
 * ---------------------------------------------------------------- */

static void otp_send(fixture *f, const char *cid, const char *mobile,
                     const char *data, char id[LV_AUTH_OTP_ID_LEN + 1],
                     char code[16])
{
    char text[512];
    lv_err err = {0};
    assert_int_equal(auth_otp_send(f->auth, f->st, cid, "sign",
                                   (const unsigned char *)data, strlen(data),
                                   NULL, NULL, id, &err),
                     0);
    outbox_last(f, mobile, text, sizeof text);
    code_in(text, 6, code);
}

#define VERIFY(f, id, cid, purpose, data, code)                                \
    auth_otp_verify((f)->auth, (f)->st, id, cid, purpose,                      \
                    (const unsigned char *)(data), strlen(data), code, &err)

static void test_otp_binding(void **state)
{
    fixture *f = *state;
    char id[LV_AUTH_OTP_ID_LEN + 1], code[16], bad[16];
    lv_err err = {0};
    activate_citizen(f, "C1", "12345678Z", "+34600000001");
    activate_citizen(f, "C2", "X1234567L", "+34600000002");
    otp_send(f, "C1", "+34600000001", "digest-A", id, code);
    snprintf(bad, sizeof bad, "%06d", (atoi(code) + 1) % 1000000);
    /* Other data, other purpose, other citizen, wrong code: each fails
     * and uses an attempt. */
    assert_int_equal(VERIFY(f, id, "C1", "sign", "digest-B", code), LV_EAUTH);
    assert_non_null(strstr(err.msg, "another operation"));
    assert_int_equal(VERIFY(f, id, "C1", "revoke", "digest-A", code), LV_EAUTH);
    assert_int_equal(VERIFY(f, id, "C2", "sign", "digest-A", code), LV_EAUTH);
    assert_non_null(strstr(err.msg, "another citizen"));
    /* Three attempts used: the code is dead even when right (R3.3). */
    assert_int_equal(VERIFY(f, id, "C1", "sign", "digest-A", code), LV_EAUTH);
    assert_non_null(strstr(err.msg, "too many attempts"));
    /* A fresh code: a wrong guess, then the right one; then replay. */
    otp_send(f, "C1", "+34600000001", "digest-A", id, code);
    snprintf(bad, sizeof bad, "%06d", (atoi(code) + 1) % 1000000);
    assert_int_equal(VERIFY(f, id, "C1", "sign", "digest-A", bad), LV_EAUTH);
    assert_int_equal(VERIFY(f, id, "C1", "sign", "digest-A", code), 0);
    assert_int_equal(VERIFY(f, id, "C1", "sign", "digest-A", code), LV_EAUTH);
    assert_non_null(strstr(err.msg, "already used"));
    /* Expired. */
    otp_send(f, "C1", "+34600000001", "digest-A", id, code);
    raw_sql(f->db, "UPDATE otps SET expires_at = 1");
    assert_int_equal(VERIFY(f, id, "C1", "sign", "digest-A", code), LV_EAUTH);
    assert_non_null(strstr(err.msg, "expired"));
    /* Malformed input is 400 and costs nothing. */
    assert_int_equal(VERIFY(f, "xyz", "C1", "sign", "digest-A", code),
                     LV_EINVAL);
    assert_int_equal(VERIFY(f, id, "C1", "Sign!", "digest-A", code), LV_EINVAL);
    assert_int_equal(audit_count(f, "otp.verify", "success"), 1);
    assert_int_equal(audit_count(f, "otp.verify", "failure"), 7);
}

static void test_authorize(void **state)
{
    fixture *f = *state;
    char id[LV_AUTH_OTP_ID_LEN + 1], code[16];
    lv_err err = {0};
    const unsigned char digests[64] = {1, 2, 3};
    activate_citizen(f, "C1", "12345678Z", "+34600000001");
    assert_int_equal(auth_otp_send(f->auth, f->st, "C1", "sign", digests,
                                   sizeof digests, NULL, NULL, id, &err),
                     0);
    char text[512];
    outbox_last(f, "+34600000001", text, sizeof text);
    code_in(text, 6, code);
    /* Wrong password: refused and the OTP is not burnt. */
    assert_int_equal(auth_citizen_authorize(
                         f->auth, f->st, "C1", "Wrong-clave-2026", id, "sign",
                         digests, sizeof digests, code, NULL, &err),
                     LV_EAUTH);
    assert_int_equal(raw_sql(f->db, "SELECT SUM(attempts) FROM otps"), 0);
    assert_int_equal(auth_citizen_authorize(f->auth, f->st, "C1", PW1, id,
                                            "sign", digests, sizeof digests,
                                            code, NULL, &err),
                     0);
    /* A new mobile (after ra/ updated the registration): codes follow it. */
    assert_int_equal(auth_citizen_set_mobile(f->auth, f->st, "C1", "600111222",
                                             "operator:ana", &err),
                     LV_EINVAL);
    assert_int_equal(auth_citizen_set_mobile(f->auth, f->st, "C1",
                                             "+34600999999", "operator:ana",
                                             &err),
                     0);
    assert_int_equal(auth_otp_send(f->auth, f->st, "C1", "revoke", digests, 3,
                                   NULL, NULL, id, &err),
                     0);
    outbox_last(f, "+34600999999", text, sizeof text);
    assert_non_null(strstr(text, "para revocar su certificado"));
    assert_int_equal(audit_count(f, "citizen.set_mobile", "success"), 1);
    /* Unknown citizen and a citizen with no activation cannot get OTPs. */
    assert_int_equal(auth_otp_send(f->auth, f->st, "C7", "sign", digests, 1,
                                   NULL, NULL, id, &err),
                     LV_ENOTFOUND);
}

/* ---- issue 11: the front door ----------------------------------------------
 */

/* Item 4: unknown id, wrong password, not activated and locked answer
 * alike; the state is told only to whoever proves the password. */
static void test_one_answer(void **state)
{
    fixture *f = *state;
    lv_session_token tok;
    lv_err e[4] = {{0}};
    char letter[LV_AUTH_CODE_MAX];
    activate_citizen(f, "C1", "12345678Z", "+34600000001");
    activate_citizen(f, "C3", "Y7654321G", "+34600000003");
    assert_int_equal(auth_citizen_activation_start(
                         f->auth, f->st, "C2", "X1234567L", "+34600000002",
                         LV_ACTIVATION_LETTER, "operator:ana", letter, &e[0]),
                     0);
    assert_int_equal(
        auth_citizen_lock(f->auth, f->st, "C3", "operator:ana", &e[0]), 0);
    const char *who[4] = {"nobody99", "12345678Z", "X1234567L", "Y7654321G"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(auth_citizen_login(f->auth, f->st, who[i],
                                            "Wrong-clave-2026", "192.0.2.1",
                                            &tok, &e[i]),
                         LV_EAUTH);
    for (int i = 1; i < 4; i++) {
        assert_int_equal(e[i].code, e[0].code);
        assert_string_equal(e[i].msg, e[0].msg);
    }
    /* The officers still see why, in the trail. */
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM audit_log WHERE "
                                    "details LIKE '%account not activated%'"),
                     1);
    assert_int_equal(audit_count(f, "citizen.lock", "success"), 1);
    /* Proving the password tells the holder the account is locked. */
    assert_int_equal(auth_citizen_login(f->auth, f->st, "Y7654321G", PW1,
                                        "192.0.2.1", &tok, &e[0]),
                     LV_EPERM);
    assert_non_null(strstr(e[0].msg, "locked"));
}

/* Item 5: 3 000 failures naming no account, from 12 sources, become at
 * most AUTH_REPORT_TOP + 1 audit rows, with no id in them. */
static void test_anonymous_aggregate(void **state)
{
    fixture *f = *state;
    lv_session_token tok;
    lv_err err = {0};
    char ip[32], uid[32];
    long long before = raw_sql(f->db, "SELECT COUNT(*) FROM audit_log");
    for (int i = 0; i < 3000; i++) {
        snprintf(ip, sizeof ip, "198.51.100.%d", i % 12);
        snprintf(uid, sizeof uid, "%08dQ", 10000000 + i);
        int rc = i % 2 ? auth_citizen_activate(f->auth, f->st, uid, "12345678",
                                               PW1, ip, NULL, &err)
                       : auth_citizen_login(f->auth, f->st, uid, PW1, ip, &tok,
                                            &err);
        /* each source has auth_source_failures (100) real tries, then
         * waits: no Argon2id for the rest */
        assert_int_equal(rc, i / 12 < 100 ? LV_EAUTH : LV_ELIMIT);
    }
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM audit_log"), before);
    assert_int_equal(auth_report_flush(f->auth, f->st, &err), 0);
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM audit_log") - before,
                     AUTH_REPORT_TOP + 1);
    assert_int_equal(raw_sql(f->db, "SELECT SUM(json_extract(details, "
                                    "'$.count')) FROM audit_log WHERE event = "
                                    "'auth.failures_aggregate'"),
                     3000);
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM audit_log WHERE "
                                    "details LIKE '%10000001Q%'"),
                     0);
    /* Nothing counted since: the next flush writes nothing. */
    assert_int_equal(auth_report_flush(f->auth, f->st, &err), 0);
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM audit_log") - before,
                     AUTH_REPORT_TOP + 1);
}

static long long outbox_count(fixture *f)
{
    char dir[700];
    long long n = 0;
    snprintf(dir, sizeof dir, "%s/outbox", f->dir);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* Item 6: codes cost money and wake people up; refused sends send and
 * store nothing. */
static void test_otp_limits(void **state)
{
    fixture *f = *state;
    char id[LV_AUTH_OTP_ID_LEN + 1], data[16];
    lv_err err = {0};
    activate_citizen(f, "C1", "12345678Z", "+34600000001");
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_otp_send(f->auth, f->st, "C1", "sign",
                                       (const unsigned char *)"tx-1", 4,
                                       "192.0.2.9", NULL, id, &err),
                         0);
    long long sms = outbox_count(f);
    assert_int_equal(auth_otp_send(f->auth, f->st, "C1", "sign",
                                   (const unsigned char *)"tx-1", 4,
                                   "192.0.2.9", NULL, id, &err),
                     LV_ELIMIT);
    assert_true(err.retry_after >= 1 && err.retry_after <= 300);
    assert_int_equal(outbox_count(f), sms);
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM otps"), 3);
    /* Other operations go on up to the citizen's limit (10 an hour). */
    for (int i = 0; i < 7; i++) {
        snprintf(data, sizeof data, "tx-%d", i + 2);
        assert_int_equal(auth_otp_send(f->auth, f->st, "C1", "sign",
                                       (const unsigned char *)data,
                                       strlen(data), "192.0.2.9", NULL, id,
                                       &err),
                         0);
    }
    assert_int_equal(auth_otp_send(f->auth, f->st, "C1", "sign",
                                   (const unsigned char *)"tx-99", 5,
                                   "192.0.2.9", NULL, id, &err),
                     LV_ELIMIT);
    /* An hour later the citizen may again; the source keeps its count. */
    raw_sql(f->db, "UPDATE otps SET created_at = created_at - 3601");
    f->auth->cfg.otp_send_per_source = 11;
    assert_int_equal(auth_otp_send(f->auth, f->st, "C1", "sign",
                                   (const unsigned char *)"tx-99", 5,
                                   "192.0.2.9", NULL, id, &err),
                     0);
    assert_int_equal(auth_otp_send(f->auth, f->st, "C1", "sign",
                                   (const unsigned char *)"tx-98", 5,
                                   "192.0.2.9", NULL, id, &err),
                     LV_ELIMIT);
    assert_non_null(strstr(err.msg, "address"));
    assert_int_equal(auth_otp_send(f->auth, f->st, "C1", "sign",
                                   (const unsigned char *)"tx-98", 5,
                                   "192.0.2.10", NULL, id, &err),
                     0);
}

static void test_activation_limit(void **state)
{
    fixture *f = *state;
    char letter[LV_AUTH_CODE_MAX];
    lv_err err = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_citizen_activation_start(
                             f->auth, f->st, "C5", "Z5555555K", "+34600000005",
                             LV_ACTIVATION_SMS, "operator:ana", NULL, &err),
                         0);
    long long sms = outbox_count(f);
    assert_int_equal(auth_citizen_activation_start(
                         f->auth, f->st, "C5", "Z5555555K", "+34600000005",
                         LV_ACTIVATION_LETTER, "operator:ana", letter, &err),
                     LV_ELIMIT);
    assert_true(err.retry_after > 86000 && err.retry_after <= 86400);
    assert_int_equal(outbox_count(f), sms);
    assert_int_equal(audit_count(f, "citizen.activation_start", "success"), 3);
    raw_sql(f->db, "UPDATE citizen_credentials SET codes_since = codes_since"
                   " - 86400");
    assert_int_equal(auth_citizen_activation_start(
                         f->auth, f->st, "C5", "Z5555555K", "+34600000005",
                         LV_ACTIVATION_LETTER, "operator:ana", letter, &err),
                     0);
}

static lv_principal admin(const char *login, unsigned roles)
{
    lv_principal p = {.kind = LV_PRINCIPAL_OPERATOR, .roles = roles};
    snprintf(p.id, sizeof p.id, "%s", login);
    snprintf(p.actor, sizeof p.actor, "operator:%s", login);
    return p;
}

static int enabled(fixture *f, const char *login)
{
    lv_operator_info info;
    lv_err err = {0};
    assert_int_equal(auth_operator_get(f->st, login, &info, &err), 0);
    return info.enabled;
}

/* Item 3 end, CPS §5.2.4: two administrators to disable one, and never
 * the last of a kind. */
static void test_disable_two_person(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_operator_secret sec;
    int pending = -1;
    lv_principal so1 = admin("so1", LV_ROLE_SECURITY_OFFICER);
    lv_principal so2 = admin("so2", LV_ROLE_SECURITY_OFFICER);
    lv_principal sys = admin("sys", LV_ROLE_SYSADMIN);
    const lv_principal *all[] = {&so1, &so2, &sys};
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_operator_add(f->auth, f->st, all[i]->id,
                                           all[i]->roles, "test", &sec, &err),
                         0);
    assert_int_equal(auth_operator_add(f->auth, f->st, "ra1",
                                       LV_ROLE_RA_OFFICER, "test", &sec, &err),
                     0);
    auth_operator_secret_wipe(&sec);
    /* Not an administrator: at once. */
    assert_int_equal(
        auth_operator_disable(f->auth, f->st, "ra1", &so1, &pending, &err), 0);
    assert_int_equal(pending, 0);
    assert_false(enabled(f, "ra1"));
    /* An administrator: pending; the same one again changes nothing. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(
            auth_operator_disable(f->auth, f->st, "so2", &so1, &pending, &err),
            0);
        assert_int_equal(pending, 1);
        assert_true(enabled(f, "so2"));
    }
    assert_int_equal(audit_count(f, "operator.disable_request", "success"), 1);
    /* A second administrator: done, both named. */
    assert_int_equal(
        auth_operator_disable(f->auth, f->st, "so2", &sys, &pending, &err), 0);
    assert_int_equal(pending, 0);
    assert_false(enabled(f, "so2"));
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM audit_log WHERE "
                                    "event = 'operator.disable' AND details "
                                    "LIKE '%\"requested_by\":\"so1\"%' AND "
                                    "details LIKE '%\"approved_by\":\"sys\"%'"),
                     1);
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM operator_approvals"),
                     0);
    /* so1 is now the last security officer, sys the last sysadmin. */
    assert_int_equal(
        auth_operator_disable(f->auth, f->st, "so1", &sys, &pending, &err),
        LV_ESTATE);
    assert_non_null(strstr(err.msg, "last active security_officer"));
    assert_int_equal(
        auth_operator_disable(f->auth, f->st, "sys", &so1, &pending, &err),
        LV_ESTATE);
    assert_true(enabled(f, "so1") && enabled(f, "sys"));
    assert_int_equal(raw_sql(f->db, "SELECT COUNT(*) FROM operator_approvals"),
                     0);
    /* Only administrators may ask at all. */
    lv_principal ra = admin("ra1", LV_ROLE_RA_OFFICER);
    assert_int_equal(
        auth_operator_disable(f->auth, f->st, "so1", &ra, &pending, &err),
        LV_EPERM);
}

/* ---- notify
 * --------------------------------------------------------------------- */

static void test_notify(void **state)
{
    fixture *f = *state;
    char id[LV_NOTIFY_ID_MAX];
    lv_err err = {0};
    assert_int_equal(notify_check_mobile("+34600000000", NULL), 0);
    assert_int_equal(notify_check_mobile("34600000000", NULL), LV_EINVAL);
    assert_int_equal(notify_check_mobile("+3460000000a", NULL), LV_EINVAL);
    assert_int_equal(notify_check_mobile("+1234567890123456", NULL), LV_EINVAL);
    assert_int_equal(notify_check_email("ana@example.es", NULL), 0);
    assert_int_equal(notify_check_email("ana@example", NULL), LV_EINVAL);
    assert_int_equal(notify_check_email("a b@example.es", NULL), LV_EINVAL);
    assert_int_equal(notify_check_email("a@b@example.es", NULL), LV_EINVAL);
    assert_int_equal(notify_sms(&f->cfg, "+34600000000", "", id, &err),
                     LV_EINVAL);
    assert_int_equal(
        notify_email(&f->cfg, "ana@example.es", "two\nlines", "text", id, &err),
        LV_EINVAL);
    assert_int_equal(notify_email(&f->cfg, "ana@example.es", "Subject",
                                  "Body text", id, &err),
                     0);
    char path[1200];
    snprintf(path, sizeof path, "%s/outbox/%s.json", f->dir, id);
    json_t *j = json_load_file(path, 0, NULL);
    assert_non_null(j);
    assert_string_equal(lv_json_str(j, "channel"), "email");
    assert_string_equal(lv_json_str(j, "subject"), "Subject");
    assert_string_equal(lv_json_str(j, "id"), id);
    json_decref(j);
    /* HTTP back end with nobody listening: LV_EIO, nothing in the outbox. */
    lv_config c = f->cfg;
    snprintf(c.notify_backend, sizeof c.notify_backend, "http");
    snprintf(c.notify_url, sizeof c.notify_url, "http://127.0.0.1:9/sms");
    c.notify_timeout_s = 2;
    assert_int_equal(notify_sms(&c, "+34600000000", "hello", id, &err), LV_EIO);
    /* Configuration validation of the new keys. */
    json_t *bad = json_pack("{s:s}", "notify_backend", "pigeon");
    assert_int_equal(lv_config_apply_json(&c, bad, &err), LV_EINVAL);
    json_decref(bad);
    bad = json_pack("{s:s, s:s}", "notify_backend", "http", "notify_url", "");
    assert_int_equal(lv_config_apply_json(&c, bad, &err), LV_EINVAL);
    json_decref(bad);
    bad = json_pack("{s:i}", "password_min_length", 8);
    assert_int_equal(lv_config_apply_json(&c, bad, &err), LV_EINVAL);
    json_decref(bad);
}

/* The key file: created 0600 once, reused after, refused when damaged. */
static void test_key_file(void **state)
{
    fixture *f = *state;
    char path[700];
    struct stat sb;
    lv_auth *again = NULL;
    lv_err err = {0};
    snprintf(path, sizeof path, "%s/auth.key", f->dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(auth_open(&f->cfg, &again, &err), 0);
    assert_int_equal(memcmp(again->seal_key, f->auth->seal_key, 32), 0);
    auth_close(again);
    FILE *fp = fopen(path, "w");
    fputs("not a key\n", fp);
    fclose(fp);
    assert_int_equal(auth_open(&f->cfg, &again, &err), LV_ECRYPTO);
    assert_null(again);
}

#define TF(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_totp_rfc6238),
        cmocka_unit_test(test_hotp_rfc4226),
        cmocka_unit_test(test_totp_window),
        cmocka_unit_test(test_base32),
        cmocka_unit_test(test_roles),
        TF(test_argon2_round_trip),
        TF(test_password_policy),
        TF(test_operator_login),
        TF(test_operator_throttle_and_expiry),
        TF(test_citizen_activation),
        TF(test_activation_attempts),
        TF(test_citizen_login_history_lockout),
        TF(test_otp_binding),
        TF(test_authorize),
        TF(test_one_answer),
        TF(test_anonymous_aggregate),
        TF(test_otp_limits),
        TF(test_activation_limit),
        TF(test_disable_two_person),
        TF(test_notify),
        TF(test_key_file),
    };
    lv_log_set_level(LV_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
