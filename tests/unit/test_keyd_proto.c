/* The llave-keyd wire protocol (src/keyd/keyd_proto.c): envelopes and
 * bodies round-trip; malformed, truncated, non-canonical, oversized and
 * other-version input is refused; frames over a socket pair. */
#include "keydproto/keydproto.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* cmocka needs these first, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

static void encode_request(int version, int kind, uint32_t id, int caller,
                           const unsigned char *body, size_t blen,
                           unsigned char **der, size_t *len)
{
    KEYD_REQUEST *r = KEYD_REQUEST_new();
    assert_non_null(r);
    r->version = version;
    r->kind = kind;
    r->id = id;
    r->caller = caller;
    if (body) {
        r->body = ASN1_OCTET_STRING_new();
        assert_true(ASN1_OCTET_STRING_set(r->body, body, (int)blen));
    }
    assert_int_equal(
        keyd_der_encode(ASN1_ITEM_rptr(KEYD_REQUEST), r, der, len, NULL), 0);
    KEYD_REQUEST_free(r);
}

static void test_request_round_trip(void **state)
{
    unsigned char *der = NULL;
    size_t len = 0;
    KEYD_REQUEST *r = NULL;
    lv_err err = {0};
    const unsigned char body[] = {0x30, 0x00};
    (void)state;
    assert_int_equal(keyd_request_encode(KEYD_SIGN_TBS, 0xfffffffeu,
                                         KEYD_CALLER_CONSOLE, body, sizeof body,
                                         &der, &len, &err),
                     0);
    assert_int_equal(keyd_request_decode(der, len, &r, &err), 0);
    assert_int_equal(r->version, KEYD_PROTO_VERSION);
    assert_int_equal(r->kind, KEYD_SIGN_TBS);
    assert_int_equal(r->id, 0xfffffffeu);
    assert_int_equal(r->caller, KEYD_CALLER_CONSOLE);
    assert_int_equal(ASN1_STRING_length(r->body), 2);
    KEYD_REQUEST_free(r);
    OPENSSL_free(der);
    assert_string_equal(keyd_kind_name(KEYD_SIGN_CITIZEN_DIGESTS),
                        "sign_citizen_digests");
    assert_string_equal(keyd_kind_name(99), "unknown");
    assert_string_equal(keyd_caller_name(KEYD_CALLER_CUSTODIAN), "custodian");
}

/* Another version decodes (so the answer can name the id) but fails. */
static void test_wrong_version(void **state)
{
    unsigned char *der = NULL;
    size_t len = 0;
    KEYD_REQUEST *r = NULL;
    lv_err err = {0};
    (void)state;
    encode_request(2, KEYD_STATUS, 77, KEYD_CALLER_SERVICE, NULL, 0, &der,
                   &len);
    assert_int_equal(keyd_request_decode(der, len, &r, &err), LV_EINVAL);
    assert_non_null(r);
    assert_int_equal(r->id, 77);
    assert_non_null(strstr(err.msg, "version 2"));
    KEYD_REQUEST_free(r);
    OPENSSL_free(der);
}

/* Every proper prefix, and any trailing byte, is refused. */
static void test_truncated_and_trailing(void **state)
{
    unsigned char *der = NULL, *longer;
    size_t len = 0;
    KEYD_REQUEST *r = NULL;
    const unsigned char body[] = {1, 2, 3, 4};
    (void)state;
    encode_request(1, KEYD_PUBLIC_KEY, 5, KEYD_CALLER_SERVICE, body,
                   sizeof body, &der, &len);
    for (size_t n = 0; n < len; n++) {
        assert_int_equal(keyd_request_decode(der, n, &r, NULL), LV_EINVAL);
        assert_null(r);
    }
    longer = malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_int_equal(keyd_request_decode(longer, len + 1, &r, NULL), LV_EINVAL);
    assert_null(r);
    free(longer);
    OPENSSL_free(der);
}

/* BER that is not DER: a long-form length, a padded INTEGER, an explicit
 * DEFAULT FALSE.  Each decodes under BER rules and is still refused. */
static void test_not_canonical(void **state)
{
    KEYD_REQUEST *r = NULL;
    void *v = NULL;
    lv_err err = {0};
    /* SEQUENCE (long-form length 12) { 1, 1, 1, 1 } */
    const unsigned char long_len[] = {0x30, 0x81, 0x0c, 0x02, 0x01,
                                      0x01, 0x02, 0x01, 0x01, 0x02,
                                      0x01, 0x01, 0x02, 0x01, 0x01};
    /* SEQUENCE { 1, 00 01 (padded), 1, 1 } */
    const unsigned char padded[] = {0x30, 0x0d, 0x02, 0x01, 0x01,
                                    0x02, 0x02, 0x00, 0x01, 0x02,
                                    0x01, 0x01, 0x02, 0x01, 0x01};
    /* SignTbsRequest { "k", "sha256", '00'H, prehashed FALSE } */
    const unsigned char false_default[] = {
        0x30, 0x11, 0x0c, 0x01, 'k',  0x0c, 0x06, 's',  'h', 'a',
        '2',  '5',  '6',  0x04, 0x01, 0x00, 0x01, 0x01, 0x00};
    const unsigned char canonical[] = {0x30, 0x0c, 0x02, 0x01, 0x01,
                                       0x02, 0x01, 0x01, 0x02, 0x01,
                                       0x01, 0x02, 0x01, 0x01};
    (void)state;
    assert_int_equal(keyd_request_decode(canonical, sizeof canonical, &r, &err),
                     0);
    KEYD_REQUEST_free(r);
    assert_int_equal(keyd_request_decode(long_len, sizeof long_len, &r, &err),
                     LV_EINVAL);
    assert_int_equal(keyd_request_decode(padded, sizeof padded, &r, &err),
                     LV_EINVAL);
    assert_int_equal(keyd_der_decode(ASN1_ITEM_rptr(KEYD_SIGN_TBS_REQ),
                                     false_default, sizeof false_default, &v,
                                     &err),
                     LV_EINVAL);
    assert_null(v);
    /* without the explicit FALSE it is the canonical form */
    unsigned char fixed[sizeof false_default - 3];
    memcpy(fixed, false_default, sizeof fixed);
    fixed[1] = 0x0e;
    assert_int_equal(keyd_der_decode(ASN1_ITEM_rptr(KEYD_SIGN_TBS_REQ), fixed,
                                     sizeof fixed, &v, &err),
                     0);
    assert_int_equal(((KEYD_SIGN_TBS_REQ *)v)->prehashed, 0);
    KEYD_SIGN_TBS_REQ_free(v);
}

static void test_garbage(void **state)
{
    KEYD_REQUEST *r = NULL;
    const unsigned char junk[][6] = {
        {0x04, 0x04, 1, 2, 3, 4}, /* an OCTET STRING */
        {0x30, 0x04, 0x02, 0x01, 0x01, 0x05},
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
    };
    (void)state;
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(keyd_request_decode(junk[i], 6, &r, NULL), LV_EINVAL);
    assert_int_equal(keyd_request_decode(NULL, 0, &r, NULL), LV_EINVAL);
}

/* The batch body with its SEQUENCE OF OCTET STRING and the status body
 * with its BOOLEAN and 64-bit counts. */
static void test_bodies(void **state)
{
    unsigned char *der = NULL;
    size_t len = 0;
    void *v = NULL;
    KEYD_SIGN_DIGESTS_REQ *q = KEYD_SIGN_DIGESTS_REQ_new();
    unsigned char d[32] = {0}, ref[KEYD_ACTIVATION_LEN] = {9};
    (void)state;
    assert_int_equal(
        keyd_str_set(q->key_id, "00112233445566778899aabbccddeeff"), 0);
    assert_int_equal(keyd_str_set(q->md, "sha256"), 0);
    assert_true(ASN1_OCTET_STRING_set(q->activation, ref, sizeof ref));
    for (int i = 0; i < 3; i++) {
        ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
        d[0] = (unsigned char)i;
        assert_true(ASN1_OCTET_STRING_set(o, d, sizeof d));
        assert_true(sk_ASN1_OCTET_STRING_push(q->digests, o) > 0);
    }
    assert_int_equal(keyd_der_encode(ASN1_ITEM_rptr(KEYD_SIGN_DIGESTS_REQ), q,
                                     &der, &len, NULL),
                     0);
    KEYD_SIGN_DIGESTS_REQ_free(q);
    assert_int_equal(keyd_der_decode(ASN1_ITEM_rptr(KEYD_SIGN_DIGESTS_REQ), der,
                                     len, &v, NULL),
                     0);
    q = v;
    assert_int_equal(sk_ASN1_OCTET_STRING_num(q->digests), 3);
    assert_int_equal(
        ASN1_STRING_get0_data(sk_ASN1_OCTET_STRING_value(q->digests, 2))[0], 2);
    KEYD_SIGN_DIGESTS_REQ_free(q);
    /* the same bytes are not a status response */
    assert_int_equal(
        keyd_der_decode(ASN1_ITEM_rptr(KEYD_STATUS_RESP), der, len, &v, NULL),
        LV_EINVAL);
    OPENSSL_free(der);

    KEYD_STATUS_RESP *s = KEYD_STATUS_RESP_new();
    s->sealed = 0xff;
    assert_int_equal(keyd_str_set(s->server, "llave-keyd test"), 0);
    s->signer_keys = INT64_C(5000000000);
    assert_int_equal(
        keyd_der_encode(ASN1_ITEM_rptr(KEYD_STATUS_RESP), s, &der, &len, NULL),
        0);
    KEYD_STATUS_RESP_free(s);
    assert_int_equal(
        keyd_der_decode(ASN1_ITEM_rptr(KEYD_STATUS_RESP), der, len, &v, NULL),
        0);
    s = v;
    assert_true(s->sealed);
    assert_true(s->signer_keys == INT64_C(5000000000));
    KEYD_STATUS_RESP_free(s);
    OPENSSL_free(der);
}

static void test_strings_and_digests(void **state)
{
    char out[8];
    lv_err err = {0};
    ASN1_STRING *s = ASN1_UTF8STRING_new();
    (void)state;
    assert_int_equal(keyd_str_get(NULL, out, sizeof out, "x", &err), LV_EINVAL);
    assert_int_equal(keyd_str_get(s, out, sizeof out, "x", &err), LV_EINVAL);
    ASN1_STRING_set(s, "abc\0def", 7);
    assert_int_equal(keyd_str_get(s, out, sizeof out, "x", &err), LV_EINVAL);
    ASN1_STRING_set(s, "abcdefgh", 8);
    assert_int_equal(keyd_str_get(s, out, sizeof out, "x", &err), LV_EINVAL);
    ASN1_STRING_set(s, "abcdefg", 7);
    assert_int_equal(keyd_str_get(s, out, sizeof out, "x", &err), 0);
    assert_string_equal(out, "abcdefg");
    ASN1_STRING_free(s);
    assert_string_equal(keyd_md_name(keyd_md_by_name("SHA-384")), "sha384");
    assert_null(keyd_md_by_name("sha1")); /* R4.1: SHA-2 only */
    assert_null(keyd_md_by_name("md5"));
    assert_null(keyd_md_by_name(NULL));
}

/* ---- frames -------------------------------------------------------------- */

static void test_frame_header(void **state)
{
    size_t len = 0;
    lv_err err = {0};
    const unsigned char zero[4] = {0}, max[4] = {0, 0x10, 0, 0},
                        over[4] = {0, 0x10, 0, 1},
                        huge[4] = {0xff, 0xff, 0xff, 0xff};
    (void)state;
    assert_int_equal(keyd_frame_length(zero, KEYD_FRAME_MAX, &len, &err),
                     LV_EINVAL);
    assert_int_equal(keyd_frame_length(max, KEYD_FRAME_MAX, &len, &err), 0);
    assert_int_equal(len, KEYD_FRAME_MAX);
    assert_int_equal(keyd_frame_length(over, KEYD_FRAME_MAX, &len, &err),
                     LV_ETOOBIG);
    assert_int_equal(keyd_frame_length(huge, KEYD_FRAME_MAX, &len, &err),
                     LV_ETOOBIG);
}

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void test_frame_io(void **state)
{
    int sv[2];
    unsigned char *msg = NULL;
    size_t len = 0;
    lv_err err = {0};
    const unsigned char data[] = "one frame";
    (void)state;
    pair(sv);
    assert_int_equal(keyd_frame_write(sv[0], data, sizeof data, 1000, &err), 0);
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 1000, 1000, &msg, &len, &err),
        0);
    assert_int_equal(len, sizeof data);
    assert_memory_equal(msg, data, len);
    free(msg);
    close(sv[0]); /* closed between frames: 1, no error */
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 1000, 1000, &msg, &len, &err),
        1);
    close(sv[1]);
}

static void test_frame_truncated(void **state)
{
    int sv[2];
    unsigned char *msg = NULL;
    size_t len = 0;
    lv_err err = {0};
    const unsigned char part[] = {0, 0, 0, 100, 1, 2, 3};
    (void)state;
    pair(sv);
    assert_int_equal(write(sv[0], part, sizeof part), (ssize_t)sizeof part);
    close(sv[0]);
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 1000, 1000, &msg, &len, &err),
        LV_EIO);
    assert_null(msg);
    close(sv[1]);
    /* a header cut short */
    pair(sv);
    assert_int_equal(write(sv[0], part, 2), 2);
    close(sv[0]);
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 1000, 1000, &msg, &len, &err),
        LV_EIO);
    close(sv[1]);
}

/* A stalled peer mid-frame times out; an oversized header is refused
 * before anything is allocated. */
static void test_frame_stall_and_oversize(void **state)
{
    int sv[2];
    unsigned char *msg = NULL;
    size_t len = 0;
    lv_err err = {0};
    const unsigned char part[] = {0, 0, 0, 10, 1};
    const unsigned char big[] = {0x7f, 0xff, 0xff, 0xff};
    (void)state;
    pair(sv);
    assert_int_equal(write(sv[0], part, sizeof part), (ssize_t)sizeof part);
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 1000, 200, &msg, &len, &err),
        LV_EBUSY);
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 100, 100, &msg, &len, &err),
        LV_EBUSY); /* idle: nothing more comes */
    close(sv[0]);
    close(sv[1]);
    pair(sv);
    assert_int_equal(write(sv[0], big, sizeof big), (ssize_t)sizeof big);
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 1000, 1000, &msg, &len, &err),
        LV_ETOOBIG);
    close(sv[1]); /* writing to a closed peer fails, never SIGPIPE */
    assert_int_equal(keyd_frame_write(sv[0], big, sizeof big, 1000, &err),
                     LV_EIO);
    close(sv[0]);
}

/* ---- frames in pieces ------------------------------------------------------
 * keyd_frame_write sends a frame in one sendmsg and keyd_frame_read tries
 * the socket before polling it; these make the pieces arrive late and
 * apart (a forked writer), so every path of the reader runs. */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The child writes buf in the given cuts, pausing pause_ms before each. */
static pid_t slow_writer(int fd, const unsigned char *buf, const size_t *cuts,
                         size_t ncuts, long pause_ms)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    size_t off = 0;
    for (size_t i = 0; i < ncuts; i++) {
        sleep_ms(pause_ms);
        if (write(fd, buf + off, cuts[i]) != (ssize_t)cuts[i])
            _exit(1);
        off += cuts[i];
    }
    _exit(0);
}

static void reap(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Header split 1 + 1 + 2, body in two parts, all late: one frame. */
static void test_frame_in_pieces(void **state)
{
    int sv[2];
    unsigned char *msg = NULL;
    size_t len = 0;
    lv_err err = {0};
    const unsigned char wire[] = {0, 0, 0, 6, 'a', 'b', 'c', 'd', 'e', 'f'};
    const size_t cuts[] = {1, 1, 2, 3, 3};
    (void)state;
    pair(sv);
    pid_t pid = slow_writer(sv[0], wire, cuts, 5, 30);
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 2000, 2000, &msg, &len, &err),
        0);
    assert_int_equal(len, 6);
    assert_memory_equal(msg, "abcdef", 6);
    free(msg);
    reap(pid);
    close(sv[0]);
    close(sv[1]);
}

/* The wait for the first byte counts against the idle time only: a frame
 * whose first byte comes after longer than the frame timeout, and the
 * rest promptly, is read. */
static void test_frame_idle_then_prompt(void **state)
{
    int sv[2];
    unsigned char *msg = NULL;
    size_t len = 0;
    lv_err err = {0};
    const unsigned char wire[] = {0, 0, 0, 2, 'o', 'k'};
    const size_t cuts[] = {1, 5};
    (void)state;
    pair(sv);
    pid_t pid = slow_writer(sv[0], wire, cuts, 2, 150);
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 2000, 200, &msg, &len, &err), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(msg, "ok", 2);
    free(msg);
    reap(pid);
    close(sv[0]);
    close(sv[1]);
}

/* Two frames written back to back are read as two; a frame larger than
 * the socket buffer (1 MiB) is written while the peer reads it. */
static void test_frame_back_to_back_and_large(void **state)
{
    int sv[2];
    unsigned char *msg = NULL;
    size_t len = 0;
    lv_err err = {0};
    (void)state;
    pair(sv);
    assert_int_equal(
        keyd_frame_write(sv[0], (const unsigned char *)"one", 3, 1000, &err),
        0);
    assert_int_equal(
        keyd_frame_write(sv[0], (const unsigned char *)"two!", 4, 1000, &err),
        0);
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 1000, 1000, &msg, &len, &err),
        0);
    assert_int_equal(len, 3);
    assert_memory_equal(msg, "one", 3);
    free(msg);
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 1000, 1000, &msg, &len, &err),
        0);
    assert_int_equal(len, 4);
    assert_memory_equal(msg, "two!", 4);
    free(msg);
    size_t big = KEYD_FRAME_MAX;
    unsigned char *data = malloc(big);
    assert_non_null(data);
    for (size_t i = 0; i < big; i++)
        data[i] = (unsigned char)(i * 31 + 7);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(keyd_frame_write(sv[0], data, big, 5000, NULL) == 0 ? 0 : 1);
    assert_int_equal(
        keyd_frame_read(sv[1], KEYD_FRAME_MAX, 5000, 5000, &msg, &len, &err),
        0);
    assert_int_equal(len, big);
    assert_memory_equal(msg, data, big);
    free(msg);
    free(data);
    reap(pid);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_wrong_version),
        cmocka_unit_test(test_truncated_and_trailing),
        cmocka_unit_test(test_not_canonical),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_strings_and_digests),
        cmocka_unit_test(test_frame_header),
        cmocka_unit_test(test_frame_io),
        cmocka_unit_test(test_frame_truncated),
        cmocka_unit_test(test_frame_stall_and_oversize),
        cmocka_unit_test(test_frame_in_pieces),
        cmocka_unit_test(test_frame_idle_then_prompt),
        cmocka_unit_test(test_frame_back_to_back_and_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
