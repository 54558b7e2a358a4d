/* Unit tests of the time-stamp authority (src/tsa/, R7.1, R7.2): the
 * pure pieces (request checks, clock judgement, genTime text, serials,
 * refusals) and the whole path on a small CA with ECDSA keys in a real key
 * store, every token judged by OpenSSL's own TS_RESP_verify_response. */
#define _XOPEN_SOURCE 700 /* setenv */
#include "tsa/tsa_internal.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include "testutil.h"

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>

#define POLICY "1.2.3.4.5"

/* ---- building requests with OpenSSL's TS API ----------------------------- */

typedef struct req_spec {
    int version;
    const EVP_MD *md;
    int digest_len; /* -1: the digest's own */
    const char *policy;
    int nonce;
    int cert_req;
    int extension;
} req_spec;

static const req_spec GOOD = {1, NULL, -1, NULL, 1, 1, 0};

static unsigned char *make_req(const req_spec *s, int *len)
{
    unsigned char digest[64];
    const EVP_MD *md = s->md ? s->md : EVP_sha256();
    int dlen = s->digest_len >= 0 ? s->digest_len : EVP_MD_get_size(md);
    memset(digest, 0x5a, sizeof digest);
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    X509_ALGOR_set_md(alg, md);
    assert_true(TS_MSG_IMPRINT_set_algo(mi, alg));
    assert_true(TS_MSG_IMPRINT_set_msg(mi, digest, dlen));
    assert_true(TS_REQ_set_version(req, s->version));
    assert_true(TS_REQ_set_msg_imprint(req, mi));
    if (s->policy) {
        ASN1_OBJECT *p = OBJ_txt2obj(s->policy, 1);
        assert_true(TS_REQ_set_policy_id(req, p));
        ASN1_OBJECT_free(p);
    }
    if (s->nonce) {
        ASN1_INTEGER *n = ASN1_INTEGER_new();
        ASN1_INTEGER_set(n, 0x1234567);
        assert_true(TS_REQ_set_nonce(req, n));
        ASN1_INTEGER_free(n);
    }
    assert_true(TS_REQ_set_cert_req(req, s->cert_req));
    if (s->extension) {
        ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
        ASN1_OBJECT *oid = OBJ_txt2obj("1.2.3.4", 1);
        ASN1_OCTET_STRING_set(v, (const unsigned char *)"\x05\x00", 2);
        X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, v);
        assert_true(TS_REQ_add_ext(req, e, -1));
        X509_EXTENSION_free(e);
        ASN1_OBJECT_free(oid);
        ASN1_OCTET_STRING_free(v);
    }
    unsigned char *der = NULL;
    *len = i2d_TS_REQ(req, &der);
    assert_true(*len > 0);
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(mi);
    TS_REQ_free(req);
    return der;
}

/* Runs tsa_request_check; returns the failure bit or -1 when accepted. */
static int check_spec(const req_spec *s)
{
    int len;
    unsigned char *der = make_req(s, &len);
    ASN1_OBJECT *policy = OBJ_txt2obj(POLICY, 1);
    TS_REQ *out = NULL;
    tsa_refusal why = {0};
    int rc = tsa_request_check(der, (size_t)len, policy, &out, &why);
    assert_true(rc == 0 || rc == 1);
    assert_true((rc == 0) == (out != NULL));
    if (rc == 1)
        assert_true(why.text[0] != '\0');
    TS_REQ_free(out);
    ASN1_OBJECT_free(policy);
    OPENSSL_free(der);
    return rc == 0 ? -1 : why.failure;
}

/* ---- pure pieces --------------------------------------------------------- */

static void test_imprint_algorithms(void **state)
{
    (void)state;
    assert_int_equal(tsa_imprint_len(NID_sha256), 32);
    assert_int_equal(tsa_imprint_len(NID_sha384), 48);
    assert_int_equal(tsa_imprint_len(NID_sha512), 64);
    assert_int_equal(tsa_imprint_len(NID_sha1), 0);
    assert_int_equal(tsa_imprint_len(NID_md5), 0);
    assert_int_equal(tsa_imprint_len(NID_sha224), 0);
    assert_int_equal(tsa_imprint_len(NID_undef), 0);
}

static void test_request_checks(void **state)
{
    (void)state;
    req_spec s = GOOD;
    assert_int_equal(check_spec(&s), -1);
    s.md = EVP_sha384();
    assert_int_equal(check_spec(&s), -1);
    s.md = EVP_sha512();
    assert_int_equal(check_spec(&s), -1);
    s.md = EVP_sha1(); /* R7.1: SHA-256 or stronger */
    assert_int_equal(check_spec(&s), TS_INFO_BAD_ALG);
    s.md = EVP_md5();
    assert_int_equal(check_spec(&s), TS_INFO_BAD_ALG);
    s = GOOD;
    s.digest_len = 31;
    assert_int_equal(check_spec(&s), TS_INFO_BAD_DATA_FORMAT);
    s.digest_len = 64; /* a SHA-512 length under a SHA-256 OID */
    assert_int_equal(check_spec(&s), TS_INFO_BAD_DATA_FORMAT);
    s = GOOD;
    s.version = 2;
    assert_int_equal(check_spec(&s), TS_INFO_BAD_REQUEST);
    s = GOOD;
    s.policy = POLICY;
    assert_int_equal(check_spec(&s), -1);
    s.policy = "1.2.3.4.6";
    assert_int_equal(check_spec(&s), TS_INFO_UNACCEPTED_POLICY);
    s = GOOD;
    s.extension = 1;
    assert_int_equal(check_spec(&s), TS_INFO_UNACCEPTED_EXTENSION);
    s = GOOD;
    s.nonce = 0;
    s.cert_req = 0;
    assert_int_equal(check_spec(&s), -1);
}

static void test_request_bad_der(void **state)
{
    (void)state;
    ASN1_OBJECT *policy = OBJ_txt2obj(POLICY, 1);
    TS_REQ *out = NULL;
    tsa_refusal why;
    int len;
    unsigned char *der = make_req(&GOOD, &len);
    unsigned char *longer = malloc((size_t)len + 1);
    memcpy(longer, der, (size_t)len);
    longer[len] = 0;
    const struct {
        const unsigned char *p;
        size_t n;
    } cases[] = {{NULL, 0},
                 {der, 0},
                 {(const unsigned char *)"\x30\x03\x02\x01", 4},
                 {der, (size_t)len - 1},
                 {longer, (size_t)len + 1},
                 {(const unsigned char *)"garbage", 7}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&why, 0, sizeof why);
        assert_int_equal(
            tsa_request_check(cases[i].p, cases[i].n, policy, &out, &why), 1);
        assert_null(out);
        assert_int_equal(why.failure, TS_INFO_BAD_DATA_FORMAT);
    }
    free(longer);
    OPENSSL_free(der);
    ASN1_OBJECT_free(policy);
}

static void test_clock_judge(void **state)
{
    (void)state;
    char why[160];
    assert_int_equal(
        tsa_clock_judge(TIME_OK, 0, 5000, 100, 1000000, why, sizeof why), 1);
    assert_string_equal(why, "");
    assert_int_equal(
        tsa_clock_judge(TIME_OK, STA_UNSYNC, 0, 0, 1000000, why, sizeof why),
        0);
    assert_non_null(strstr(why, "unsynchronized"));
    assert_int_equal(
        tsa_clock_judge(TIME_ERROR, 0, 0, 0, 1000000, why, sizeof why), 0);
    assert_int_equal(tsa_clock_judge(-1, 0, 0, 0, 1000000, why, sizeof why), 0);
    /* within sync but the error bound beyond the declared accuracy */
    assert_int_equal(
        tsa_clock_judge(TIME_OK, 0, 1000001, 10, 1000000, why, sizeof why), 0);
    assert_non_null(strstr(why, "1000001"));
    assert_int_equal(
        tsa_clock_judge(TIME_OK, 0, 10, 2000000, 1000000, why, sizeof why), 0);
    assert_int_equal(tsa_clock_judge(TIME_INS, 0, 1000000, 1000000, 1000000,
                                     why, sizeof why),
                     1);
}

static void test_clock_digits(void **state)
{
    (void)state;
    assert_int_equal(tsa_clock_digits(1), 6); /* capped: OpenSSL's limit */
    assert_int_equal(tsa_clock_digits(1000), 6);
    assert_int_equal(tsa_clock_digits(10000), 5);
    assert_int_equal(tsa_clock_digits(1000000), 3);
    assert_int_equal(tsa_clock_digits(4000000), 2);
    assert_int_equal(tsa_clock_digits(100000000), 1);
    assert_int_equal(tsa_clock_digits(999999999), 0);
    assert_int_equal(tsa_clock_digits(0), 0);
}

static void test_gentime_text(void **state)
{
    (void)state;
    char out[40];
    struct timespec t = {0, 0};
    assert_int_equal(tsa_gentime_text(&t, 6, out), 0);
    assert_string_equal(out, "19700101000000Z"); /* no bare '.' */
    t = (struct timespec){1795654800, 500000000};
    assert_int_equal(tsa_gentime_text(&t, 6, out), 0);
    assert_string_equal(out, "20261126010000.5Z");
    t.tv_nsec = 123456789; /* truncated, never rounded into the future */
    assert_int_equal(tsa_gentime_text(&t, 6, out), 0);
    assert_string_equal(out, "20261126010000.123456Z");
    t.tv_nsec = 120000000;
    assert_int_equal(tsa_gentime_text(&t, 6, out), 0);
    assert_string_equal(out, "20261126010000.12Z");
    t.tv_nsec = 999999999;
    assert_int_equal(tsa_gentime_text(&t, 3, out), 0);
    assert_string_equal(out, "20261126010000.999Z");
    assert_int_equal(tsa_gentime_text(&t, 0, out), 0);
    assert_string_equal(out, "20261126010000Z");
    assert_int_equal(tsa_gentime_text(&t, 7, out), LV_EINVAL);
    /* what OpenSSL accepts as GeneralizedTime */
    t.tv_nsec = 10000;
    assert_int_equal(tsa_gentime_text(&t, 6, out), 0);
    assert_string_equal(out, "20261126010000.00001Z");
    ASN1_GENERALIZEDTIME *g = ASN1_GENERALIZEDTIME_new();
    assert_true(ASN1_GENERALIZEDTIME_set_string(g, out));
    ASN1_GENERALIZEDTIME_free(g);
}

static int serial_cmp(const void *a, const void *b)
{
    return memcmp(a, b, LV_TSA_SERIAL_BYTES);
}

static void test_serials(void **state)
{
    (void)state;
    enum { N = 2000 };
    unsigned char(*all)[LV_TSA_SERIAL_BYTES] = calloc(N, sizeof *all);
    for (int i = 0; i < N; i++) {
        ASN1_INTEGER *s = NULL;
        assert_int_equal(tsa_serial_new(&s), 0);
        BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);
        assert_false(BN_is_negative(bn));
        /* fixed length, top bits 01: 159 bits, within RFC 3161's 160 */
        assert_int_equal(BN_num_bits(bn), 8 * LV_TSA_SERIAL_BYTES - 1);
        assert_int_equal(BN_bn2bin(bn, all[i]), LV_TSA_SERIAL_BYTES);
        BN_free(bn);
        ASN1_INTEGER_free(s);
    }
    qsort(all, N, sizeof *all, serial_cmp);
    for (int i = 1; i < N; i++)
        assert_true(memcmp(all[i - 1], all[i], LV_TSA_SERIAL_BYTES) != 0);
    free(all);
}

static void test_refusal_reply(void **state)
{
    (void)state;
    tsa_refusal why = {TS_INFO_UNACCEPTED_POLICY, "requested policy unknown"};
    unsigned char *der = NULL;
    size_t len = 0;
    assert_int_equal(tsa_refusal_reply(&why, &der, &len, NULL), 0);
    const unsigned char *p = der;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
    assert_non_null(resp);
    assert_ptr_equal(p, der + len);
    TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
    assert_int_equal(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)),
                     TS_STATUS_REJECTION);
    const ASN1_BIT_STRING *fi = TS_STATUS_INFO_get0_failure_info(si);
    for (int bit = 0; bit < 32; bit++)
        assert_int_equal(ASN1_BIT_STRING_get_bit(fi, bit),
                         bit == TS_INFO_UNACCEPTED_POLICY);
    ASN1_UTF8STRING *t =
        sk_ASN1_UTF8STRING_value(TS_STATUS_INFO_get0_text(si), 0);
    assert_memory_equal(ASN1_STRING_get0_data(t), why.text, strlen(why.text));
    assert_null(TS_RESP_get_token(resp));
    TS_RESP_free(resp);
    OPENSSL_free(der);
}

/* EN 319 421 §5.2, EN 319 422 Annex A: the best practices policy unless
 * the operator names the CPS's own OID. */
static void test_policy_oid(void **state)
{
    (void)state;
    lv_config cfg;
    char out[160];
    lv_config_defaults(&cfg, "/nonexistent");
    assert_int_equal(tsa_policy(&cfg, out, sizeof out), 0);
    assert_string_equal(out, "0.4.0.2023.1.1");
    /* a CPS's own OID (here under RFC 5612's documentation arc) */
    snprintf(cfg.tsa_policy_oid, sizeof cfg.tsa_policy_oid, "%s",
             "1.3.6.1.4.1.32473.1.5.1.1");
    assert_int_equal(tsa_policy(&cfg, out, sizeof out), 0);
    assert_string_equal(out, "1.3.6.1.4.1.32473.1.5.1.1");
    assert_int_equal(tsa_policy(&cfg, out, 5), LV_EINVAL);
}

/* ---- the whole path on a small ECDSA CA
 * ----------------------------------------- */

typedef struct fixture {
    char dir[512];
    lv_config cfg;
    keyd_server *keyd; /* in process, as in production a separate keyd */
    lv_ca *keys;       /* keys only: generates and signs the fixture */
    lv_store *st;
    lv_ca *ca;
    X509 *root;
    X509 *tsu;  /* "tsa": not qualified (no QC statements) */
    X509 *qtsu; /* "tsa-q": the "tsa" profile's QC statements */
} fixture;

enum { CERT_CA, CERT_TSU, CERT_QTSU };

static X509 *make_cert(fixture *f, const char *cn, const char *key_id,
                       X509 *issuer, const char *issuer_key, int kind)
{
    EVP_PKEY *pub = NULL;
    X509 *cert = NULL;
    X509_NAME *dn = X509_NAME_new();
    assert_int_equal(ca_key_public(f->keys, key_id, &pub, NULL, NULL, NULL), 0);
    X509_NAME_add_entry_by_txt(dn, "CN", MBSTRING_UTF8,
                               (const unsigned char *)cn, -1, -1, 0);
    ca_cert_params p = {dn, pub, issuer, lv_now() - 60, lv_now() + 86400};
    assert_int_equal(ca_cert_new(&p, &cert, NULL), 0);
    if (kind != CERT_CA) {
        assert_int_equal(profile_add_ext(cert, issuer, NID_key_usage,
                                         "critical,nonRepudiation", NULL),
                         0);
        assert_int_equal(profile_add_ext(cert, issuer, NID_ext_key_usage,
                                         "critical,timeStamping", NULL),
                         0);
    }
    if (kind == CERT_QTSU) { /* QcCompliance, QcPDS, QcType eseal */
        lv_subject subject = {0};
        assert_int_equal(profile_add_qcstatements(cert, profile_find("tsa"),
                                                  &subject, &f->cfg, NULL),
                         0);
    }
    if (kind == CERT_CA) {
        assert_int_equal(profile_add_ext(cert, NULL, NID_basic_constraints,
                                         "critical,CA:TRUE", NULL),
                         0);
        assert_int_equal(profile_add_ext(cert, NULL, NID_key_usage,
                                         "critical,keyCertSign,cRLSign", NULL),
                         0);
    }
    assert_int_equal(ca_sign_cert(f->keys, issuer_key, cert, NULL), 0);
    EVP_PKEY_free(pub);
    X509_NAME_free(dn);
    return cert;
}

static void add_ca(fixture *f, const char *name, const char *role,
                   const char *key_id, X509 *cert)
{
    lv_ca_rec rec = {0};
    snprintf(rec.name, sizeof rec.name, "%s", name);
    snprintf(rec.role, sizeof rec.role, "%s", role);
    snprintf(rec.issuer, sizeof rec.issuer, "root");
    snprintf(rec.key_id, sizeof rec.key_id, "%s", key_id);
    snprintf(rec.status, sizeof rec.status, "active");
    assert_int_equal(ca_serial_hex(X509_get0_serialNumber(cert), rec.serial),
                     0);
    int len = i2d_X509(cert, &rec.cert_der);
    rec.cert_len = (size_t)len;
    assert_int_equal(store_ca_insert(f->st, &rec, NULL), 0);
    OPENSSL_free(rec.cert_der);
}

/* sealed: the context speaks to a second keyd on the same store that
 * waits for custodians (tu_keyd_sealed) */
static keyd_server *sealed_keyd;

static int fixture_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char db[600];
    char root_key[CA_KEY_ID_MAX + 1], tsu_key[CA_KEY_ID_MAX + 1];
    char qtsu_key[CA_KEY_ID_MAX + 1];
    if (f == NULL || tu_tmpdir(f->dir, sizeof f->dir, "tsa") < 0)
        return -1;
    lv_config_defaults(&f->cfg, f->dir);
    if (tu_store_open(f->dir, db, sizeof db, &f->st) < 0 ||
        tu_keyd_demo(f->dir, &f->keyd, NULL) < 0 ||
        ca_open_keys_only(&f->cfg, KEYD_CALLER_CONSOLE, &f->keys, NULL) < 0)
        return -1;
    if (ca_key_generate(f->keys, "ec-p256", "ca", "root", root_key, NULL,
                        NULL) < 0 ||
        ca_key_generate(f->keys, "ec-p256", "service", "tsa", tsu_key, NULL,
                        NULL) < 0 ||
        ca_key_generate(f->keys, "ec-p256", "service", "tsa-q", qtsu_key, NULL,
                        NULL) < 0)
        return -1;
    f->root = make_cert(f, "Test Root", root_key, NULL, root_key, CERT_CA);
    f->tsu = make_cert(f, "Test TSU", tsu_key, f->root, root_key, CERT_TSU);
    f->qtsu = make_cert(f, "Test QTSU", qtsu_key, f->root, root_key, CERT_QTSU);
    add_ca(f, "root", "root", root_key, f->root);
    add_ca(f, "tsa", "tsa", tsu_key, f->tsu);
    add_ca(f, "tsa-q", "tsa", qtsu_key, f->qtsu);
    snprintf(f->cfg.tsa_policy_oid, sizeof f->cfg.tsa_policy_oid, POLICY);
    f->cfg.tsa_require_clock_sync = 0;
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    ca_close(f->ca);
    ca_close(f->keys);
    store_close(f->st);
    keyd_stop(sealed_keyd);
    sealed_keyd = NULL;
    keyd_stop(f->keyd);
    X509_free(f->root);
    X509_free(f->tsu);
    X509_free(f->qtsu);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

static void open_ca(fixture *f, int sealed)
{
    lv_config cfg = f->cfg;
    ca_close(f->ca);
    f->ca = NULL;
    keyd_stop(sealed_keyd);
    sealed_keyd = sealed ? tu_keyd_sealed(&cfg) : NULL;
    assert_int_equal(ca_open(&cfg, f->st, KEYD_CALLER_SERVICE, &f->ca, NULL),
                     0);
}

static TS_RESP *respond(fixture *f, const char *unit, const req_spec *s,
                        unsigned char **req_der, int *req_len)
{
    unsigned char *reply = NULL;
    size_t len = 0;
    *req_der = make_req(s, req_len);
    assert_int_equal(tsa_respond(f->ca, f->st, unit, *req_der, (size_t)*req_len,
                                 &reply, &len, NULL),
                     0);
    const unsigned char *p = reply;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
    assert_non_null(resp);
    OPENSSL_free(reply);
    return resp;
}

/* OpenSSL judges: signature, chain to the root, ESS signing certificate,
 * imprint, nonce, policy, as `openssl ts -verify -queryfile` does. */
static int openssl_verifies(fixture *f, TS_RESP *resp,
                            const unsigned char *req_der, int req_len)
{
    const unsigned char *p = req_der;
    TS_REQ *req = d2i_TS_REQ(NULL, &p, req_len);
    TS_VERIFY_CTX *ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL);
    X509_STORE *store = X509_STORE_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_add_cert(store, f->root);
    sk_X509_push(untrusted, f->tsu);
    X509_up_ref(f->tsu);
    sk_X509_push(untrusted, f->qtsu);
    X509_up_ref(f->qtsu);
    TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE);
    TS_VERIFY_CTX_set_store(ctx, store);
    TS_VERIFY_CTX_set_certs(ctx, untrusted);
    int ok = TS_RESP_verify_response(ctx, resp);
    ERR_clear_error();
    TS_VERIFY_CTX_free(ctx);
    TS_REQ_free(req);
    return ok;
}

static void test_token_verifies(void **state)
{
    fixture *f = *state;
    unsigned char *req = NULL;
    int req_len = 0;
    open_ca(f, 0);
    for (int cert_req = 0; cert_req < 2; cert_req++) {
        req_spec s = GOOD;
        s.cert_req = cert_req;
        s.policy = cert_req ? POLICY : NULL;
        TS_RESP *resp = respond(f, NULL, &s, &req, &req_len);
        assert_true(openssl_verifies(f, resp, req, req_len));
        PKCS7 *token = TS_RESP_get_token(resp);
        /* R7.1, RFC 3161 §2.4.1: the certificate only when asked */
        assert_int_equal(sk_X509_num(token->d.sign->cert) > 0, cert_req);
        TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
        assert_int_equal(ASN1_INTEGER_get(TS_TST_INFO_get_nonce(tst)),
                         0x1234567);
        const TS_ACCURACY *acc = TS_TST_INFO_get_accuracy(tst);
        assert_int_equal(ASN1_INTEGER_get(TS_ACCURACY_get_seconds(acc)), 1);
        assert_null(TS_ACCURACY_get_millis(acc));
        assert_false(TS_TST_INFO_get_ordering(tst));
        assert_null(TS_TST_INFO_get_tsa(tst));
        /* the configured policy (tsa_policy_oid) */
        char policy[80];
        OBJ_obj2txt(policy, sizeof policy, TS_TST_INFO_get_policy_id(tst), 1);
        assert_string_equal(policy, POLICY);
        /* not qualified: no qcStatements, no extension at all */
        assert_null(TS_TST_INFO_get_exts(tst));
        TS_RESP_free(resp);
        OPENSSL_free(req);
    }
}

static void test_token_tampered(void **state)
{
    fixture *f = *state;
    unsigned char *req = NULL;
    int req_len = 0;
    open_ca(f, 0);
    TS_RESP *resp = respond(f, "tsa", &GOOD, &req, &req_len);
    PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(
        PKCS7_get_signer_info(TS_RESP_get_token(resp)), 0);
    /* a flipped signature byte: the verification must fail */
    unsigned char *sig = (unsigned char *)ASN1_STRING_get0_data(si->enc_digest);
    sig[ASN1_STRING_length(si->enc_digest) / 2] ^= 1;
    assert_false(openssl_verifies(f, resp, req, req_len));
    TS_RESP_free(resp);
    OPENSSL_free(req);
}

static void test_tsa_name_and_accuracy(void **state)
{
    fixture *f = *state;
    unsigned char *req = NULL;
    int req_len = 0;
    f->cfg.tsa_include_name = 1;
    f->cfg.tsa_accuracy_ms = 1500;
    open_ca(f, 0);
    TS_RESP *resp = respond(f, NULL, &GOOD, &req, &req_len);
    assert_true(openssl_verifies(f, resp, req, req_len));
    TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
    const GENERAL_NAME *gn = TS_TST_INFO_get_tsa(tst);
    assert_non_null(gn);
    assert_int_equal(gn->type, GEN_DIRNAME);
    assert_int_equal(X509_NAME_cmp(gn->d.dirn, X509_get_subject_name(f->tsu)),
                     0);
    const TS_ACCURACY *acc = TS_TST_INFO_get_accuracy(tst);
    assert_int_equal(ASN1_INTEGER_get(TS_ACCURACY_get_seconds(acc)), 1);
    assert_int_equal(ASN1_INTEGER_get(TS_ACCURACY_get_millis(acc)), 500);
    TS_RESP_free(resp);
    OPENSSL_free(req);
}

static int failure_of(TS_RESP *resp)
{
    TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
    if (ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)) != TS_STATUS_REJECTION)
        return -1;
    for (int bit = 0; bit < 32; bit++)
        if (ASN1_BIT_STRING_get_bit(TS_STATUS_INFO_get0_failure_info(si), bit))
            return bit;
    return -2;
}

/* The DER of QCStatements holding only esi4-qtstStatement-1 as OpenSSL's
 * own ASN.1 generator writes it from the text of EN 319 422 Annex B: an
 * oracle independent of tsa_qualified.c's templates. */
static int qtst_oracle(unsigned char **der)
{
    static const char text[] = "[statements]\n"
                               "statement = SEQUENCE:statement\n"
                               "[statement]\n"
                               "id = OID:0.4.0.19422.1.1\n";
    BIO *bio = BIO_new_mem_buf(text, -1);
    CONF *conf = NCONF_new(NULL);
    long line = 0;
    assert_true(NCONF_load_bio(conf, bio, &line) > 0);
    ASN1_TYPE *t = ASN1_generate_nconf("SEQUENCE:statements", conf);
    assert_non_null(t);
    int len = i2d_ASN1_TYPE(t, der);
    ASN1_TYPE_free(t);
    NCONF_free(conf);
    BIO_free(bio);
    return len;
}

/* EN 319 422 §9.1: a qualified unit's every token carries one non-critical
 * qcStatements extension with exactly esi4-qtstStatement-1; the other unit's
 * tokens carry none (test_token_verifies). */
static void test_qualified_statement(void **state)
{
    fixture *f = *state;
    unsigned char *req = NULL, *want = NULL;
    int req_len = 0;
    open_ca(f, 0);
    TS_RESP *resp = respond(f, "tsa-q", &GOOD, &req, &req_len);
    assert_int_equal(failure_of(resp), -1);
    assert_true(openssl_verifies(f, resp, req, req_len));
    STACK_OF(X509_EXTENSION) *exts =
        TS_TST_INFO_get_exts(TS_RESP_get_tst_info(resp));
    assert_int_equal(sk_X509_EXTENSION_num(exts), 1);
    X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, 0);
    assert_int_equal(OBJ_obj2nid(X509_EXTENSION_get_object(ext)),
                     NID_qcStatements);
    assert_false(X509_EXTENSION_get_critical(ext));
    ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(ext);
    int want_len = qtst_oracle(&want);
    assert_int_equal(ASN1_STRING_length(value), want_len);
    assert_memory_equal(ASN1_STRING_get0_data(value), want, want_len);
    OPENSSL_free(want);
    TS_RESP_free(resp);
    OPENSSL_free(req);
}

/* Qualification is read from the certificate: QcCompliance among its
 * statements (the "tsa" profile's), not any qcStatements extension. */
static void test_cert_qualified(void **state)
{
    fixture *f = *state;
    assert_int_equal(tsa_cert_qualified(f->qtsu), 1);
    assert_int_equal(tsa_cert_qualified(f->tsu), 0);
    assert_int_equal(tsa_cert_qualified(f->root), 0);
    /* a qcStatements whose statements lack QcCompliance */
    X509 *other = X509_dup(f->tsu);
    X509_EXTENSION *qtst = tsa_qtst_extension();
    assert_true(X509_add_ext(other, qtst, -1));
    assert_int_equal(tsa_cert_qualified(other), 0);
    X509_free(other);
    /* one that is not QCStatements at all */
    other = X509_dup(f->tsu);
    ASN1_INTEGER *five = ASN1_INTEGER_new();
    unsigned char *der = NULL;
    ASN1_INTEGER_set(five, 5);
    int len = i2d_ASN1_INTEGER(five, &der);
    ASN1_OCTET_STRING_set(X509_EXTENSION_get_data(qtst), der, len);
    assert_true(X509_add_ext(other, qtst, -1));
    assert_int_equal(tsa_cert_qualified(other), LV_ECRYPTO);
    X509_free(other);
    X509_EXTENSION_free(qtst);
    ASN1_INTEGER_free(five);
    OPENSSL_free(der);
}

/* RFC 3161 §2.4.1: a reqPolicy other than the configured one is refused;
 * by default that is EN 319 421's, which a request may name. */
static void test_default_policy_on_the_path(void **state)
{
    fixture *f = *state;
    unsigned char *req = NULL;
    int req_len = 0;
    f->cfg.tsa_policy_oid[0] = '\0';
    open_ca(f, 0);
    req_spec s = GOOD;
    s.policy = "0.4.0.2023.1.1";
    TS_RESP *resp = respond(f, NULL, &s, &req, &req_len);
    assert_true(openssl_verifies(f, resp, req, req_len));
    char policy[80];
    OBJ_obj2txt(policy, sizeof policy,
                TS_TST_INFO_get_policy_id(TS_RESP_get_tst_info(resp)), 1);
    assert_string_equal(policy, "0.4.0.2023.1.1");
    TS_RESP_free(resp);
    OPENSSL_free(req);
    s.policy = POLICY;
    resp = respond(f, NULL, &s, &req, &req_len);
    assert_int_equal(failure_of(resp), TS_INFO_UNACCEPTED_POLICY);
    TS_RESP_free(resp);
    OPENSSL_free(req);
}

static void test_refusals_on_the_path(void **state)
{
    fixture *f = *state;
    unsigned char *req = NULL, *reply = NULL;
    int req_len = 0;
    size_t len = 0;
    lv_err err = {0};
    open_ca(f, 0);
    req_spec s = GOOD;
    s.md = EVP_sha1();
    TS_RESP *resp = respond(f, NULL, &s, &req, &req_len);
    assert_int_equal(failure_of(resp), TS_INFO_BAD_ALG);
    TS_RESP_free(resp);
    OPENSSL_free(req);
    /* an unknown unit is not a protocol answer */
    req = make_req(&GOOD, &req_len);
    assert_int_equal(tsa_respond(f->ca, f->st, "nope", req, (size_t)req_len,
                                 &reply, &len, &err),
                     LV_ENOTFOUND);
    assert_null(reply);
    OPENSSL_free(req);
    /* sealed: the service answers systemFailure */
    open_ca(f, 1);
    resp = respond(f, NULL, &GOOD, &req, &req_len);
    assert_int_equal(failure_of(resp), TS_INFO_SYSTEM_FAILURE);
    TS_RESP_free(resp);
    OPENSSL_free(req);
}

static int count_clock(const lv_audit_row *row, void *arg)
{
    int *n = arg;
    if (strcmp(row->event, "tsa.clock") == 0 &&
        strcmp(row->result, "failure") == 0)
        (*n)++;
    return 0;
}

static void test_clock_guard(void **state)
{
    fixture *f = *state;
    unsigned char *req = NULL;
    int req_len = 0, failures = 0;
    f->cfg.tsa_require_clock_sync = 1;
    setenv(LV_TSA_CLOCK_HOOK, "1", 1);
    open_ca(f, 0);
    lv_tsa_clock c;
    /* the hook is read when the context's TSA state is built: first use */
    tsa_clock(f->ca, &c);
    unsetenv(LV_TSA_CLOCK_HOOK);
    assert_false(c.usable);
    assert_non_null(strstr(c.reason, LV_TSA_CLOCK_HOOK));
    for (int i = 0; i < 3; i++) {
        TS_RESP *resp = respond(f, NULL, &GOOD, &req, &req_len);
        assert_int_equal(failure_of(resp), TS_INFO_TIME_NOT_AVAILABLE);
        assert_null(TS_RESP_get_token(resp));
        TS_RESP_free(resp);
        OPENSSL_free(req);
    }
    /* R7.2, EN 319 421 §7.7.2: the loss is audited once, not per request */
    assert_int_equal(
        store_audit_foreach(f->st, 1, count_clock, &failures, NULL), 0);
    assert_int_equal(failures, 1);
    /* with the guard off the same clock is not consulted */
    f->cfg.tsa_require_clock_sync = 0;
    setenv(LV_TSA_CLOCK_HOOK, "1", 1);
    open_ca(f, 0);
    unsetenv(LV_TSA_CLOCK_HOOK);
    TS_RESP *resp = respond(f, NULL, &GOOD, &req, &req_len);
    assert_int_equal(failure_of(resp), -1);
    TS_RESP_free(resp);
    OPENSSL_free(req);
}

#define T(f) cmocka_unit_test(f)
#define TF(f)                                                                  \
    cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_imprint_algorithms),
        T(test_request_checks),
        T(test_request_bad_der),
        T(test_clock_judge),
        T(test_clock_digits),
        T(test_gentime_text),
        T(test_serials),
        T(test_refusal_reply),
        T(test_policy_oid),
        TF(test_token_verifies),
        TF(test_token_tampered),
        TF(test_qualified_statement),
        TF(test_cert_qualified),
        TF(test_default_policy_on_the_path),
        TF(test_tsa_name_and_accuracy),
        TF(test_refusals_on_the_path),
        TF(test_clock_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
