/* Unit tests of core/: errors, buffers, encodings, time, files, config. */
#include "core/core.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include "testutil.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- temporary directory per test -------------------------------------- */

static int tmpdir_setup(void **state)
{
    char *dir = malloc(512);
    if (dir == NULL || tu_tmpdir(dir, 512, "core") < 0) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int tmpdir_teardown(void **state)
{
    tu_rmtree(*state);
    free(*state);
    return 0;
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[1024];
    assert_int_equal(lv_path_join(path, sizeof path, dir, name), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- errors -------------------------------------------------------------- */

static void test_err_names_and_status(void **state)
{
    (void)state;
    assert_string_equal(lv_err_name(LV_EINVAL), "invalid_request");
    assert_string_equal(lv_err_name(LV_ENOTFOUND), "not_found");
    assert_string_equal(lv_err_name(LV_EEXISTS), "conflict");
    assert_string_equal(lv_err_name(LV_EPERM), "forbidden");
    assert_string_equal(lv_err_name(LV_EAUTH), "unauthorized");
    assert_string_equal(lv_err_name(LV_ESTATE), "invalid_state");
    assert_string_equal(lv_err_name(LV_ECRYPTO), "crypto_error");
    assert_string_equal(lv_err_name(LV_ESTORE), "store_error");
    assert_string_equal(lv_err_name(LV_EIO), "io_error");
    assert_string_equal(lv_err_name(LV_ENOMEM), "out_of_memory");
    assert_string_equal(lv_err_name(LV_ESEALED), "sealed");
    assert_string_equal(lv_err_name(LV_ETOOBIG), "too_large");
    assert_string_equal(lv_err_name(LV_EINTERNAL), "internal_error");
    assert_string_equal(lv_err_name(-999), "internal_error");
    assert_int_equal(lv_err_http_status(LV_EINVAL), 400);
    assert_int_equal(lv_err_http_status(LV_ENOTFOUND), 404);
    assert_int_equal(lv_err_http_status(LV_EEXISTS), 409);
    assert_int_equal(lv_err_http_status(LV_EPERM), 403);
    assert_int_equal(lv_err_http_status(LV_EAUTH), 401);
    assert_int_equal(lv_err_http_status(LV_ESTATE), 409);
    assert_int_equal(lv_err_http_status(LV_ESEALED), 503);
    assert_int_equal(lv_err_http_status(LV_ETOOBIG), 413);
    assert_int_equal(lv_err_http_status(LV_ESTORE), 500);
    assert_int_equal(lv_err_http_status(-999), 500);
}

static void test_fail_records_message(void **state)
{
    (void)state;
    lv_err err = {0};
    assert_int_equal(lv_fail(&err, LV_EINVAL, "bad %s %d", "thing", 7),
                     LV_EINVAL);
    assert_int_equal(err.code, LV_EINVAL);
    assert_string_equal(err.msg, "bad thing 7");
    assert_int_equal(lv_fail(NULL, LV_EIO, "ignored"), LV_EIO);
}

static void test_fail_ssl_appends_reason(void **state)
{
    (void)state;
    lv_err err = {0};
    ERR_raise(ERR_LIB_EVP, EVP_R_UNSUPPORTED_ALGORITHM);
    assert_int_equal(lv_fail_ssl(&err, LV_ECRYPTO, "signing"), LV_ECRYPTO);
    assert_string_equal(err.msg, "signing: unsupported algorithm");
    assert_int_equal(ERR_peek_error(), 0); /* queue drained */
    lv_fail_ssl(&err, LV_ECRYPTO, "again");
    assert_string_equal(err.msg, "again: unknown OpenSSL error");
}

static void test_log_smoke(void **state)
{
    (void)state;
    lv_log_set_level(LV_LOG_ERROR);
    lv_log(LV_LOG_INFO, "suppressed %d", 1);
    lv_log(LV_LOG_ERROR, "test_core: an expected error line %s", "ok");
    lv_log_set_level(LV_LOG_INFO);
}

/* ---- buffers ------------------------------------------------------------- */

static void test_buf(void **state)
{
    (void)state;
    lv_buf b = {0};
    assert_int_equal(lv_buf_append(&b, "ab", 2), 0);
    assert_int_equal(lv_buf_appendf(&b, "-%d-%s", 42, "x"), 0);
    assert_int_equal(b.len, 7);
    assert_string_equal((char *)b.data, "ab-42-x");
    for (int i = 0; i < 1000; i++)
        assert_int_equal(lv_buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(b.len, 10007);
    assert_int_equal(b.data[b.len], '\0');
    lv_buf_free_secret(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    lv_buf_free(&b); /* twice is fine */
    lv_buf_free(NULL);
}

/* ---- hex ----------------------------------------------------------------- */

static void test_hex_round_trip(void **state)
{
    (void)state;
    unsigned char in[256], out[256];
    char hex[513];
    for (int i = 0; i < 256; i++)
        in[i] = (unsigned char)i;
    lv_hex_encode(in, sizeof in, hex);
    assert_int_equal(strlen(hex), 512);
    assert_memory_equal(hex, "000102", 6);
    assert_string_equal(hex + 506, "fdfeff");
    assert_int_equal(lv_hex_decode(hex, out, sizeof out), 256);
    assert_memory_equal(in, out, 256);
    lv_hex_encode(in, 0, hex);
    assert_string_equal(hex, "");
    assert_int_equal(lv_hex_decode("", out, sizeof out), 0);
}

static void test_hex_case_and_colons(void **state)
{
    (void)state;
    unsigned char out[8];
    const unsigned char want[] = {0xab, 0xcd, 0xef, 0x01};
    assert_int_equal(lv_hex_decode("ABcdEF01", out, sizeof out), 4);
    assert_memory_equal(out, want, 4);
    assert_int_equal(lv_hex_decode("AB:CD:ef:01", out, sizeof out), 4);
    assert_memory_equal(out, want, 4);
}

static void test_hex_rejects(void **state)
{
    (void)state;
    unsigned char out[8];
    const char *bad[] = {"abc",    "a",    "zz",   "0g", "ab cd", ":ab", "ab:",
                         "ab::cd", "a:bc", "ab:c", "-1", "0x12",  "é"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lv_hex_decode(bad[i], out, sizeof out), LV_EINVAL);
    assert_int_equal(lv_hex_decode("000102", out, 2), LV_ETOOBIG);
}

/* ---- base64 -------------------------------------------------------------- */

static void test_b64_vectors(void **state)
{
    (void)state;
    /* RFC 4648 §10 */
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                         "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char *s = NULL;
        unsigned char *d = NULL;
        size_t n = 99;
        assert_int_equal(lv_b64_encode((const unsigned char *)plain[i],
                                       strlen(plain[i]), &s),
                         0);
        assert_string_equal(s, enc[i]);
        assert_int_equal(lv_b64_decode(enc[i], strlen(enc[i]), &d, &n), 0);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(d, plain[i], n);
        free(s);
        free(d);
    }
}

static void test_b64_round_trip_binary(void **state)
{
    (void)state;
    unsigned char in[300];
    assert_int_equal(lv_random(in, sizeof in), 0);
    in[0] = 0; /* leading and trailing zero bytes must survive */
    in[sizeof in - 1] = 0;
    for (size_t len = 0; len <= sizeof in; len += 7) {
        char *s;
        unsigned char *d;
        size_t n;
        assert_int_equal(lv_b64_encode(in, len, &s), 0);
        assert_null(strchr(s, '\n'));
        assert_int_equal(strlen(s), (len + 2) / 3 * 4);
        assert_int_equal(lv_b64_decode(s, strlen(s), &d, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(d, in, len);
        free(s);
        free(d);
    }
}

static void test_b64_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "Zg=",   "Zg",   "Z",        "Zg=a",     "Z===",  "====",    "Zm9v\n",
        "Zm 9v", "=Zm9", "Zg==Zg==", "Zm9v!A==", " Zm9v", "Zm9vYg=", "Zm-_"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char *d = (unsigned char *)"sentinel";
        size_t n = 5;
        assert_int_equal(lv_b64_decode(bad[i], strlen(bad[i]), &d, &n),
                         LV_EINVAL);
        assert_null(d);
        assert_int_equal(n, 0);
    }
}

static void test_random(void **state)
{
    (void)state;
    unsigned char a[32], b[32];
    assert_int_equal(lv_random(a, sizeof a), 0);
    assert_int_equal(lv_random(b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(lv_random(a, 0), 0);
}

/* ---- time ---------------------------------------------------------------- */

static void test_time_format(void **state)
{
    (void)state;
    char s[32];
    lv_time_iso(1795563900, s);
    assert_string_equal(s, "2026-11-24T23:45:00Z");
    lv_time_iso(0, s);
    assert_string_equal(s, "1970-01-01T00:00:00Z");
    int64_t now = lv_now(), ms = lv_now_ms();
    assert_true(now > 1700000000);
    assert_true(ms / 1000 - now <= 1 && ms / 1000 - now >= -1);
}

static void test_time_parse(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(lv_time_parse("2026-11-24T23:45:00Z", &t), 0);
    assert_int_equal(t, 1795563900);
    assert_int_equal(lv_time_parse("2026-11-24", &t), 0);
    assert_int_equal(t, 1795478400);
    assert_int_equal(lv_time_parse("2024-02-29", &t), 0); /* leap year */
    assert_int_equal(lv_time_parse("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    char s[32];
    for (int64_t v = 0; v < 4102444800; v += 86399 * 97) {
        lv_time_iso(v, s);
        assert_int_equal(lv_time_parse(s, &t), 0);
        assert_int_equal(t, v);
    }
}

static void test_time_parse_rejects(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "2026",
                         "2026-11",
                         "2026-1-24",
                         "2026-02-30",
                         "2025-02-29",
                         "2026-13-01",
                         "2026-00-10",
                         "2026-11-00",
                         "2026-11-24T24:00:00Z",
                         "2026-11-24T23:60:00Z",
                         "2026-11-24T23:45:60Z",
                         "2026-11-24 23:45:00Z",
                         "2026-11-24T23:45:00",
                         "2026-11-24T23:45:00+01:00",
                         "2026-11-24T23:45:00z",
                         "2026-11-24T23:45:00Z ",
                         " 2026-11-24",
                         "2026/11/24",
                         "+026-11-24",
                         "abcd-ef-gh",
                         "2026-11-24T23:45Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 12345;
        assert_int_equal(lv_time_parse(bad[i], &t), LV_EINVAL);
        assert_int_equal(t, 12345);
    }
    assert_int_equal(lv_time_parse(NULL, NULL), LV_EINVAL);
}

/* ---- files --------------------------------------------------------------- */

static int count_entries(const char *dir)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

static void test_file_write_read(void **state)
{
    const char *dir = *state;
    char path[1024];
    lv_err err = {0};
    unsigned char *data;
    size_t len;
    struct stat sb;
    assert_int_equal(lv_path_join(path, sizeof path, dir, "f.bin"), 0);
    assert_int_equal(lv_file_write(path, "hello", 5, 0600, &err), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(lv_file_write(path, "bye!", 4, 0640, &err), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    assert_int_equal(lv_file_read(path, &data, &len, 4, &err), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(data, "bye!", 4);
    assert_int_equal(data[4], '\0');
    free(data);
    assert_int_equal(count_entries(dir), 1); /* no temporary file left */
}

static void test_file_read_limits(void **state)
{
    const char *dir = *state;
    char path[1024];
    lv_err err = {0};
    unsigned char *data = (unsigned char *)"x";
    size_t len = 9;
    assert_int_equal(lv_path_join(path, sizeof path, dir, "big"), 0);
    unsigned char blob[20000] = {1};
    assert_int_equal(lv_file_write(path, blob, sizeof blob, 0600, &err), 0);
    assert_int_equal(lv_file_read(path, &data, &len, 19999, &err), LV_ETOOBIG);
    assert_null(data);
    assert_int_equal(err.code, LV_ETOOBIG);
    assert_int_equal(lv_file_read(path, &data, &len, 20000, &err), 0);
    assert_int_equal(len, 20000);
    free(data);
    assert_int_equal(lv_path_join(path, sizeof path, dir, "missing"), 0);
    assert_int_equal(lv_file_read(path, &data, &len, 10, &err), LV_ENOTFOUND);
    assert_non_null(strstr(err.msg, "missing"));
    assert_int_equal(lv_path_join(path, sizeof path, dir, "empty"), 0);
    assert_int_equal(lv_file_write(path, "", 0, 0600, &err), 0);
    assert_int_equal(lv_file_read(path, &data, &len, 0, &err), 0);
    assert_int_equal(len, 0);
    free(data);
}

static void test_file_write_fails_cleanly(void **state)
{
    const char *dir = *state;
    char path[1024];
    lv_err err = {0};
    assert_int_equal(lv_path_join(path, sizeof path, dir, "no/such/dir/f"), 0);
    assert_true(lv_file_write(path, "x", 1, 0600, &err) < 0);
    assert_int_equal(count_entries(dir), 0);
}

static void test_mkdir_p(void **state)
{
    const char *dir = *state;
    char path[1024];
    lv_err err = {0};
    struct stat sb;
    assert_int_equal(lv_path_join(path, sizeof path, dir, "a/b/c/"), 0);
    assert_int_equal(lv_mkdir_p(path, 0700, &err), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(lv_mkdir_p(path, 0700, &err), 0); /* exists: fine */
    write_text(dir, "file", "x");
    assert_int_equal(lv_path_join(path, sizeof path, dir, "file/sub"), 0);
    assert_int_equal(lv_mkdir_p(path, 0700, &err), LV_EIO);
}

static void test_path_join(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(lv_path_join(out, sizeof out, "/d", "f"), 0);
    assert_string_equal(out, "/d/f");
    assert_int_equal(lv_path_join(out, sizeof out, "/d/", "f"), 0);
    assert_string_equal(out, "/d/f");
    assert_int_equal(lv_path_join(out, sizeof out, "", "f"), 0);
    assert_string_equal(out, "f");
    assert_int_equal(lv_path_join(out, sizeof out, "/0123456789", "abcd"),
                     LV_ETOOBIG);
    assert_int_equal(lv_path_join(out, sizeof out, "/0123456789", "abc"), 0);
}

/* ---- configuration ------------------------------------------------------- */

static void test_config_defaults_without_file(void **state)
{
    const char *dir = *state;
    lv_config cfg;
    lv_err err = {0};
    assert_int_equal(lv_config_load(&cfg, dir, &err), 0);
    assert_string_equal(cfg.dir, dir);
    assert_string_equal(cfg.org_name, "llave Demo Trust Services");
    assert_string_equal(cfg.org_country, "ES");
    assert_string_equal(cfg.org_id, "VATES-B00000000");
    assert_string_equal(cfg.org_locality, "Madrid");
    assert_string_equal(cfg.oid_arc, LV_OID_ARC_PLACEHOLDER);
    assert_string_equal(cfg.public_url, "http://127.0.0.1:8080");
    assert_string_equal(cfg.root_name, "root");
    assert_string_equal(cfg.qualified_name, "qualified");
    assert_string_equal(cfg.standard_name, "standard");
    assert_string_equal(cfg.root_cn, "llave Root CA");
    assert_string_equal(cfg.qualified_cn, "llave Qualified CA");
    assert_string_equal(cfg.standard_cn, "llave CA");
    assert_string_equal(cfg.listen_addr, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8080);
    assert_int_equal(cfg.threads, 0);
    assert_int_equal(cfg.demo, 0);
}

static void test_config_load_overrides(void **state)
{
    const char *dir = *state;
    lv_config cfg;
    lv_err err = {0};
    write_text(dir, "llave.json",
               "{\"org_name\": \"Acme TSP\", \"listen_port\": 9443,"
               " \"public_url\": \"https://pki.example.es/\","
               " \"demo\": true, \"threads\": 4}");
    assert_int_equal(lv_config_load(&cfg, dir, &err), 0);
    assert_string_equal(cfg.org_name, "Acme TSP");
    assert_int_equal(cfg.listen_port, 9443);
    assert_string_equal(cfg.public_url, "https://pki.example.es");
    assert_int_equal(cfg.demo, 1);
    assert_int_equal(cfg.threads, 4);
    assert_string_equal(cfg.org_country, "ES"); /* untouched default */
}

/* Loads text as llave.json and expects LV_EINVAL with `needle` in the
 * message. */
static void expect_config_error(const char *dir, const char *text,
                                const char *needle)
{
    lv_config cfg;
    lv_err err = {0};
    write_text(dir, "llave.json", text);
    assert_int_equal(lv_config_load(&cfg, dir, &err), LV_EINVAL);
    assert_int_equal(err.code, LV_EINVAL);
    if (!strstr(err.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}

static void test_config_rejects_bad_files(void **state)
{
    const char *dir = *state;
    expect_config_error(dir, "{\"org_nam\": \"x\"}",
                        "unknown configuration key org_nam");
    expect_config_error(dir, "{\"dir\": \"/x\"}",
                        "unknown configuration key dir");
    expect_config_error(dir, "{\"listen_port\": \"8080\"}", "listen_port");
    expect_config_error(dir, "{\"org_name\": 5}", "org_name");
    expect_config_error(dir, "{\"demo\": \"yes\"}", "demo");
    expect_config_error(dir, "{\"threads\": 1.5}", "threads");
    expect_config_error(dir, "{\"org_name\": \"x\",}", "llave.json");
    expect_config_error(dir, "[1, 2]", "object");
    expect_config_error(dir, "{\"org_name\": \"a\", \"org_name\": \"b\"}",
                        "duplicate");
}

static void test_config_validation(void **state)
{
    const char *dir = *state;
    const char *bad_oid[] = {"2.25..1", "2.25.", ".2.25", "abc",    "3.1",
                             "2",       "2.x",   "2.025", "2.25.1 "};
    char text[256];
    for (size_t i = 0; i < sizeof bad_oid / sizeof bad_oid[0]; i++) {
        snprintf(text, sizeof text, "{\"oid_arc\": \"%s\"}", bad_oid[i]);
        expect_config_error(dir, text, "oid_arc");
    }
    expect_config_error(dir, "{\"org_country\": \"es\"}", "org_country");
    expect_config_error(dir, "{\"org_country\": \"ESP\"}", "org_country");
    expect_config_error(dir, "{\"root_name\": \"Root\"}", "root_name");
    expect_config_error(dir, "{\"root_name\": \"a_b\"}", "root_name");
    expect_config_error(dir, "{\"root_name\": \"\"}", "root_name");
    expect_config_error(
        dir, "{\"standard_name\": \"abcdefghijklmnopqrstuvwxyz012345\"}",
        "standard_name");
    expect_config_error(dir, "{\"qualified_name\": \"root\"}",
                        "qualified_name");
    expect_config_error(dir, "{\"public_url\": \"ftp://x\"}", "public_url");
    expect_config_error(dir, "{\"public_url\": \"http://\"}", "public_url");
    expect_config_error(dir, "{\"public_url\": \"http://x//\"}", "public_url");
    expect_config_error(dir, "{\"listen_port\": 70000}", "listen_port");
    expect_config_error(dir, "{\"listen_port\": -1}", "listen_port");
    expect_config_error(dir, "{\"org_name\": \"\"}", "org_name");
    /* issue 16: the key store's back end */
    expect_config_error(dir, "{\"keystore\": \"hsm\"}", "keystore");
    expect_config_error(dir, "{\"keystore\": \"pkcs11\"}", "pkcs11_module");
    expect_config_error(dir,
                        "{\"keystore\": \"pkcs11\", \"pkcs11_module\": "
                        "\"/usr/lib/softhsm/libsofthsm2.so\"}",
                        "pkcs11_token");
    expect_config_error(dir,
                        "{\"keystore\": \"pkcs11\", \"pkcs11_module\": "
                        "\"libsofthsm2.so\", \"pkcs11_token\": \"t\"}",
                        "pkcs11_module");
}

static void test_config_apply_is_atomic(void **state)
{
    (void)state;
    lv_config cfg, before;
    lv_err err = {0};
    lv_config_defaults(&cfg, "/d");
    before = cfg;
    json_t *j =
        json_pack("{ss si}", "org_name", "Changed", "listen_port", 99999);
    assert_int_equal(lv_config_apply_json(&cfg, j, &err), LV_EINVAL);
    assert_memory_equal(&cfg, &before, sizeof cfg);
    json_decref(j);
    j = json_pack("{ss ss}", "oid_arc", "1.3.6.1.4.1.99999", "org_country",
                  "PT");
    assert_int_equal(lv_config_apply_json(&cfg, j, &err), 0);
    assert_string_equal(cfg.oid_arc, "1.3.6.1.4.1.99999");
    assert_string_equal(cfg.org_country, "PT");
    json_decref(j);
    char long_name[200];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    j = json_pack("{ss}", "org_name", long_name);
    assert_int_equal(lv_config_apply_json(&cfg, j, &err), LV_EINVAL);
    assert_non_null(strstr(err.msg, "too long"));
    json_decref(j);
}

/* Issue 17 item 1: the store's driver, as an object or as flat keys, and
 * what store_open is given for it. */
static void test_config_store(void **state)
{
    (void)state;
    lv_config cfg;
    lv_err err = {0};
    char loc[600];
    lv_config_defaults(&cfg, "/d");
    assert_int_equal(lv_config_store_location(&cfg, loc, sizeof loc), 0);
    assert_string_equal(loc, "/d/llave.db");
    assert_false(lv_config_store_is_pg(&cfg));
    json_t *j = json_pack("{s{ss ss}}", "store", "driver", "postgresql",
                          "conninfo", "host=/run/pg dbname=llave");
    assert_int_equal(lv_config_apply_json(&cfg, j, &err), 0);
    json_decref(j);
    assert_true(lv_config_store_is_pg(&cfg));
    assert_int_equal(lv_config_store_location(&cfg, loc, sizeof loc), 0);
    assert_string_equal(loc, LV_STORE_PG_PREFIX "host=/run/pg dbname=llave");
    j = json_pack("{ss}", "store_conninfo", "postgresql://db/llave");
    assert_int_equal(lv_config_apply_json(&cfg, j, &err), 0);
    json_decref(j);
    assert_int_equal(lv_config_store_location(&cfg, loc, sizeof loc), 0);
    assert_string_equal(loc, "postgresql://db/llave");
    j = json_pack("{ss}", "store_driver", "mysql");
    assert_int_equal(lv_config_apply_json(&cfg, j, &err), LV_EINVAL);
    assert_non_null(strstr(err.msg, "store_driver"));
    json_decref(j);
    j = json_pack("{s{ss}}", "store", "host", "x");
    assert_int_equal(lv_config_apply_json(&cfg, j, &err), LV_EINVAL);
    assert_non_null(strstr(err.msg, "store.host"));
    json_decref(j);
    lv_config_defaults(&cfg, "/d");
    j = json_pack("{ss}", "store_driver", "postgresql");
    assert_int_equal(lv_config_apply_json(&cfg, j, &err), LV_EINVAL);
    assert_non_null(strstr(err.msg, "store_conninfo"));
    json_decref(j);
}

static void test_config_save_round_trip(void **state)
{
    const char *dir = *state;
    lv_config cfg, back;
    lv_err err = {0};
    char path[1024];
    struct stat sb;
    lv_config_defaults(&cfg, dir);
    snprintf(cfg.org_name, sizeof cfg.org_name, "Ñandú \"Trust\" S.L.");
    cfg.listen_port = 0;
    cfg.demo = 1;
    assert_int_equal(lv_config_save(&cfg, &err), 0);
    assert_int_equal(lv_path_join(path, sizeof path, dir, "llave.json"), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    assert_int_equal(lv_config_load(&back, dir, &err), 0);
    assert_memory_equal(&cfg, &back, sizeof cfg);
    snprintf(cfg.org_country, sizeof cfg.org_country, "es");
    assert_int_equal(lv_config_save(&cfg, &err), LV_EINVAL);
    assert_int_equal(lv_config_load(&back, dir, &err), 0); /* file intact */
    assert_string_equal(back.org_country, "ES");
}

/* ---- JSON helpers -------------------------------------------------------- */

static void test_json_helpers(void **state)
{
    const char *dir = *state;
    json_t *j = json_pack("{ss si}", "a", "text", "b", 3);
    assert_string_equal(lv_json_str(j, "a"), "text");
    assert_null(lv_json_str(j, "b"));
    assert_null(lv_json_str(j, "c"));
    assert_null(lv_json_str(NULL, "a"));
    json_decref(j);
    lv_err err = {0};
    char path[1024];
    write_text(dir, "x.json", "{\"k\": [1, 2]}");
    assert_int_equal(lv_path_join(path, sizeof path, dir, "x.json"), 0);
    assert_int_equal(lv_json_load_file(path, &j, &err), 0);
    assert_int_equal(json_array_size(json_object_get(j, "k")), 2);
    json_decref(j);
    write_text(dir, "x.json", "{\"k\": ");
    assert_int_equal(lv_json_load_file(path, &j, &err), LV_EINVAL);
    assert_null(j);
    assert_non_null(strstr(err.msg, "x.json:1:"));
}

/* RFC 4514: the RFC 2253 order (most specific first), special characters
 * escaped, UTF-8 kept as UTF-8; "" when the buffer is too small. */
static void test_dn_rfc4514(void **state)
{
    (void)state;
    X509_NAME *n = X509_NAME_new();
    char out[256];
    assert_non_null(n);
    assert_true(X509_NAME_add_entry_by_txt(
        n, "C", MBSTRING_ASC, (const unsigned char *)"ES", -1, -1, 0));
    assert_true(X509_NAME_add_entry_by_txt(
        n, "O", MBSTRING_ASC, (const unsigned char *)"Llave, S.A.", -1, -1, 0));
    assert_true(X509_NAME_add_entry_by_txt(
        n, "CN", MBSTRING_UTF8,
        (const unsigned char *)"MU\xc3\x91OZ P\xc3\x89REZ", -1, -1, 0));
    lv_dn_rfc4514(n, out, sizeof out);
    assert_string_equal(out,
                        "CN=MU\xc3\x91OZ P\xc3\x89REZ,O=Llave\\, S.A.,C=ES");
    lv_dn_rfc4514(n, out, 8);
    assert_string_equal(out, "");
    X509_NAME_free(n);
}

/* issue 15 item 1: the compiled-in catalogues, Spanish first */
static void test_texts(void **state)
{
    char out[200];
    (void)state;
    assert_string_equal(lv_lang_find("EN-gb", 2), "en");
    assert_null(lv_lang_find("fr", 2));
    assert_null(lv_lang_find("english", 7));
    assert_string_equal(lv_text("en", "sms.docs.one"), "1 document");
    assert_string_equal(lv_text(NULL, "sms.docs.one"), "1 documento");
    assert_string_equal(lv_text("fr", "sms.docs.one"), "1 documento");
    assert_string_equal(lv_text("en", "no.such.key"), "no.such.key");
    assert_int_equal(lv_text_fill(out, sizeof out, "es", "sms.otp.sign",
                                  "provider", "llave", "code", "123456", "docs",
                                  "2 documentos", "app", "Sede", "minutes", "5",
                                  LV_TEXT_END),
                     0);
    assert_string_equal(out, "llave: su clave es 123456, para firmar 2 "
                             "documentos de Sede. Caduca en 5 min. No la "
                             "comparta.");
    /* a name not given stays as written; too small a buffer is refused */
    assert_int_equal(
        lv_text_fill(out, sizeof out, "en", "sms.docs.many", LV_TEXT_END), 0);
    assert_string_equal(out, "{n} documents");
    assert_int_equal(
        lv_text_fill(out, 8, "en", "sms.docs.many", "n", "12", LV_TEXT_END),
        LV_EINVAL);
}

/* lv_json_text: the strict text member of profile/ and ra/, messages in
 * the caller's words */
static void test_json_text(void **state)
{
    static const lv_text_member M = {"field", "bytes", 1};
    static const lv_text_member LAX = {"subject field", "characters", 0};
    json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s%}", "ok", "Ana", "pad",
                          " Ana", "num", 3, "ctl", "A\tB", "nul", "a\0b", 3);
    const char *v = NULL;
    lv_err err = {0};
    (void)state;
    assert_non_null(o);
    assert_int_equal(lv_json_text(o, "ok", 1, 8, &M, &v, &err), 0);
    assert_string_equal(v, "Ana");
    assert_int_equal(lv_json_text(o, "none", 0, 8, &M, &v, &err), 0);
    assert_null(v);
    assert_int_equal(lv_json_text(o, "none", 1, 8, &M, &v, &err), LV_EINVAL);
    assert_string_equal(err.msg, "field 'none' is required");
    assert_int_equal(lv_json_text(o, "ok", 1, 2, &LAX, &v, &err), LV_EINVAL);
    assert_string_equal(err.msg,
                        "subject field 'ok' must have 1 to 2 characters");
    assert_int_equal(lv_json_text(o, "pad", 1, 8, &M, &v, &err), LV_EINVAL);
    assert_int_equal(lv_json_text(o, "num", 1, 8, &M, &v, &err), LV_EINVAL);
    assert_int_equal(lv_json_text(o, "ctl", 1, 8, &M, &v, &err), LV_EINVAL);
    assert_int_equal(lv_json_text(o, "nul", 1, 8, &M, &v, &err), LV_EINVAL);
    assert_string_equal(err.msg, "field 'nul' holds a NUL character");
    assert_int_equal(lv_text_country("ES", "c", &M, &err), 0);
    assert_int_equal(lv_text_country("es", "c", &M, &err), LV_EINVAL);
    json_decref(o);
}

static int closed;

static void count_close(void *value)
{
    (void)value;
    closed++;
}

static void *hold_and_exit(void *arg)
{
    static int value;
    lv_per_thread *pt = arg;
    assert_null(lv_per_thread_get(pt));
    assert_int_equal(lv_per_thread_set(pt, &value), 0);
    assert_ptr_equal(lv_per_thread_get(pt), &value);
    return NULL;
}

/* lv_per_thread: a thread's value is closed when it exits; the main
 * thread's by lv_per_thread_free */
static void test_per_thread(void **state)
{
    static int mine;
    lv_per_thread *pt = NULL;
    pthread_t t;
    (void)state;
    closed = 0;
    assert_int_equal(lv_per_thread_new(count_close, &pt), 0);
    assert_int_equal(lv_per_thread_set(pt, &mine), 0);
    assert_int_equal(pthread_create(&t, NULL, hold_and_exit, pt), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(closed, 1);
    assert_ptr_equal(lv_per_thread_get(pt), &mine);
    lv_per_thread_free(pt);
    assert_int_equal(closed, 2);
}

#define T(f) cmocka_unit_test(f)
#define TD(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_err_names_and_status),
        T(test_fail_records_message),
        T(test_fail_ssl_appends_reason),
        T(test_log_smoke),
        T(test_buf),
        T(test_hex_round_trip),
        T(test_hex_case_and_colons),
        T(test_hex_rejects),
        T(test_b64_vectors),
        T(test_b64_round_trip_binary),
        T(test_b64_rejects),
        T(test_random),
        T(test_time_format),
        T(test_time_parse),
        T(test_time_parse_rejects),
        TD(test_file_write_read),
        TD(test_file_read_limits),
        TD(test_file_write_fails_cleanly),
        TD(test_mkdir_p),
        T(test_path_join),
        TD(test_config_defaults_without_file),
        TD(test_config_load_overrides),
        TD(test_config_rejects_bad_files),
        TD(test_config_store),
        TD(test_config_validation),
        T(test_config_apply_is_atomic),
        TD(test_config_save_round_trip),
        TD(test_json_helpers),
        T(test_dn_rfc4514),
        T(test_texts),
        T(test_json_text),
        T(test_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
