/* Unit tests of the OCSP responder (R6.4, RFC 6960): the request parser,
 * the GET path decoding, and ocsp_respond against a real ceremony's CA
 * hierarchy and store.  Answers are judged with OpenSSL's own OCSP client
 * functions (OCSP_basic_verify, OCSP_resp_find_status, OCSP_check_nonce),
 * never by re-reading our own encoder's choices. */
#include "ca/ca.h"
#include "http/http_internal.h"
#include "ocsp/ocsp_internal.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include "testutil.h"

#include <openssl/ocsp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

typedef tu_demo fixture;

static fixture *F;

/* One demo ceremony for the whole file: RSA-4096 CA keys take seconds. */
static int group_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || tu_demo_open(f, "ocsp") < 0)
        return -1;
    F = f;
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    tu_demo_close(*state);
    free(*state);
    return 0;
}

/* Writes SQL behind llave's back, as an operator's mistake or a bench
 * fixture would. */
static void raw_sql(const char *sql)
{
    tu_exec(F->db, sql);
}

static long long raw_count(const char *sql)
{
    return tu_sql(F->db, sql);
}

/* A certificate row as the responder sees it (it never reads the DER). */
static void add_cert(const char *serial, const char *ca, int status,
                     int64_t revoked_at, int reason, int64_t not_after)
{
    lv_cert_rec r = {0};
    unsigned char der[4] = {0x30, 0x02, 0x05, 0x00};
    lv_err err = {0};
    snprintf(r.serial, sizeof r.serial, "%s", serial);
    snprintf(r.ca, sizeof r.ca, "%s", ca);
    snprintf(r.profile, sizeof r.profile, "natural-person-cloud");
    snprintf(r.subject_id, sizeof r.subject_id, "IDCES-%s", serial);
    snprintf(r.subscriber_id, sizeof r.subscriber_id, "IDCES-%s", serial);
    snprintf(r.subject_dn, sizeof r.subject_dn, "CN=%s", serial);
    r.not_before = lv_now() - 10 * DAY;
    r.not_after = not_after;
    r.status = status;
    r.revoked_at = revoked_at;
    r.revocation_reason = reason;
    r.der = der;
    r.der_len = sizeof der;
    assert_int_equal(store_cert_insert(F->st, &r, &err), 0);
}

/* ---- building requests with OpenSSL's client side ---------------------- */

static OCSP_CERTID *cert_id(const char *issuer, const EVP_MD *md,
                            const char *serial)
{
    X509 *ic = ca_cert(F->ca, issuer);
    BIGNUM *bn = NULL;
    assert_non_null(ic);
    assert_true(BN_hex2bn(&bn, serial) > 0);
    ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, NULL);
    OCSP_CERTID *id = OCSP_cert_id_new(md, X509_get_subject_name(ic),
                                       X509_get0_pubkey_bitstr(ic), sn);
    BN_free(bn);
    ASN1_INTEGER_free(sn);
    assert_non_null(id);
    return id;
}

typedef struct reqspec {
    const char *issuer;
    const EVP_MD *md;
    const char *serials[40];
    int nonce_len; /* 0: none */
} reqspec;

static OCSP_REQUEST *make_req(const reqspec *rs)
{
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    for (int i = 0; rs->serials[i]; i++)
        assert_non_null(OCSP_request_add0_id(
            req,
            cert_id(rs->issuer, rs->md ? rs->md : EVP_sha1(), rs->serials[i])));
    if (rs->nonce_len)
        assert_int_equal(OCSP_request_add1_nonce(req, NULL, rs->nonce_len), 1);
    return req;
}

static size_t req_der(OCSP_REQUEST *req, unsigned char **der)
{
    *der = NULL;
    int n = i2d_OCSP_REQUEST(req, der);
    assert_true(n > 0);
    return (size_t)n;
}

/* Answers req through ocsp_respond with the given CA context. */
static OCSP_RESPONSE *ask_with(lv_ca *ca, OCSP_REQUEST *req,
                               lv_ocsp_answer *a_out)
{
    unsigned char *der;
    size_t len = req_der(req, &der);
    lv_ocsp_answer a;
    lv_err err = {0};
    assert_int_equal(ocsp_respond(ca, F->st, der, len, &a, &err), 0);
    OPENSSL_free(der);
    const unsigned char *p = a.der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)a.len);
    assert_non_null(resp);
    assert_int_equal(OCSP_response_status(resp), a.status);
    if (a_out)
        *a_out = a;
    else
        ocsp_answer_free(&a);
    return resp;
}

static OCSP_RESPONSE *ask(OCSP_REQUEST *req)
{
    return ask_with(F->ca, req, NULL);
}

/* RFC 6960 §4.2.2.2 as OpenSSL's client checks it: the responder chains to
 * the root through the CA named in the CertID and is delegated by it. */
static OCSP_BASICRESP *verified(OCSP_RESPONSE *resp, const char *issuer)
{
    assert_int_equal(OCSP_response_status(resp),
                     OCSP_RESPONSE_STATUS_SUCCESSFUL);
    OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
    assert_non_null(bs);
    X509_STORE *trust = X509_STORE_new();
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509_STORE_add_cert(trust, ca_cert(F->ca, F->cfg.root_name));
    sk_X509_push(chain, ca_cert(F->ca, issuer));
    assert_int_equal(OCSP_basic_verify(bs, chain, trust, 0), 1);
    sk_X509_free(chain);
    X509_STORE_free(trust);
    return bs;
}

typedef struct found_status {
    int status, reason;
    int64_t rev, this_upd, next_upd;
} found_status;

static int64_t t_of(const ASN1_GENERALIZEDTIME *t)
{
    return t ? ca_time_unix(t) : 0;
}

static found_status status_of(OCSP_BASICRESP *bs, const char *issuer,
                              const EVP_MD *md, const char *serial)
{
    OCSP_CERTID *id = cert_id(issuer, md ? md : EVP_sha1(), serial);
    found_status s = {-1, -1, 0, 0, 0};
    ASN1_GENERALIZEDTIME *rev = NULL, *tu = NULL, *nu = NULL;
    assert_int_equal(
        OCSP_resp_find_status(bs, id, &s.status, &s.reason, &rev, &tu, &nu), 1);
    s.rev = t_of(rev);
    s.this_upd = t_of(tu);
    s.next_upd = t_of(nu);
    OCSP_CERTID_free(id);
    return s;
}

/* ---- the parser -----------------------------------------------------------
 */

static void test_parse_valid(void **state)
{
    (void)state;
    reqspec rs = {"qualified", EVP_sha256(), {"4A0B", "01FF", NULL}, 16};
    OCSP_REQUEST *req = make_req(&rs);
    unsigned char *der;
    size_t len = req_der(req, &der);
    ocsp_query q;
    lv_err err = {0};
    assert_int_equal(ocsp_query_parse(der, len, &q, &err), 0);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.nonce, 1);
    assert_string_equal(q.ids[0].serial, "4A0B");
    assert_string_equal(q.ids[1].serial, "01FF");
    assert_string_equal(ocsp_hash_name(q.ids[0].hash), "SHA256");
    assert_int_equal(q.ids[0].hash_len, 32);
    ocsp_query_free(&q);
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);
}

static int parses(const unsigned char *der, size_t len)
{
    ocsp_query q;
    lv_err err = {0};
    int rc = ocsp_query_parse(der, len, &q, &err);
    if (rc == 0)
        ocsp_query_free(&q);
    else
        assert_true(err.msg[0] != '\0');
    return rc;
}

static void test_parse_malformed(void **state)
{
    (void)state;
    reqspec rs = {"qualified", NULL, {"4A0B", NULL}, 0};
    OCSP_REQUEST *req = make_req(&rs);
    unsigned char *der;
    size_t len = req_der(req, &der);
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_int_equal(parses(der, len), 0);
    assert_int_equal(parses(der, 0), LV_EINVAL);
    for (size_t cut = 1; cut < len; cut++) /* every truncation */
        assert_int_equal(parses(der, cut), LV_EINVAL);
    assert_int_equal(parses(longer, len + 1), LV_EINVAL); /* trailing byte */
    assert_int_equal(parses((const unsigned char *)"\x30\x00", 2), LV_EINVAL);
    free(longer);
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);
}

/* Found by fuzz_ocsp_request: hashAlgorithm parameters OpenSSL would
 * re-encode as another type (RFC 5754: absent or NULL) are refused. */
static void test_parse_params_not_der(void **state)
{
    (void)state;
    char path[1024];
    const char *src = getenv("LLAVE_SOURCE_DIR");
    snprintf(path, sizeof path,
             "%s/fuzz/corpus/fuzz_ocsp_request/certid-params-not-der.der",
             src ? src : ".");
    unsigned char *der = NULL;
    size_t len = 0;
    lv_err err = {0};
    assert_int_equal(lv_file_read(path, &der, &len, 4096, &err), 0);
    assert_int_equal(parses(der, len), LV_EINVAL);
    /* the same request with NULL parameters is fine: byte 0x13 of the
     * file is the tag of the parameters ("20 00" -> "05 00") */
    assert_int_equal(der[0x13], 0x20);
    der[0x13] = 0x05;
    assert_int_equal(parses(der, len), 0);
    free(der);
}

static void test_parse_limits(void **state)
{
    (void)state;
    reqspec many = {"qualified", NULL, {0}, 0};
    char serials[LV_OCSP_MAX_IDS + 1][8];
    for (int i = 0; i <= LV_OCSP_MAX_IDS; i++) {
        snprintf(serials[i], sizeof serials[i], "%04X", i + 1);
        many.serials[i] = serials[i];
    }
    OCSP_REQUEST *req = make_req(&many);
    unsigned char *der;
    size_t len = req_der(req, &der);
    assert_int_equal(parses(der, len), LV_EINVAL); /* 33 CertIDs */
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);

    /* RFC 8954 §2.1: a nonce over 32 octets is dropped, not echoed */
    reqspec big_nonce = {"qualified", NULL, {"4A0B", NULL}, 40};
    req = make_req(&big_nonce);
    len = req_der(req, &der);
    ocsp_query q;
    lv_err err = {0};
    assert_int_equal(ocsp_query_parse(der, len, &q, &err), 0);
    assert_int_equal(q.nonce, 0);
    ocsp_query_free(&q);
    OPENSSL_free(der);

    /* an unknown critical extension cannot be ignored */
    ASN1_OCTET_STRING *empty = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = X509_EXTENSION_create_by_NID(
        NULL, NID_id_pkix_OCSP_serviceLocator, 1, empty);
    ASN1_OCTET_STRING_free(empty);
    assert_non_null(ext);
    assert_int_equal(OCSP_REQUEST_add_ext(req, ext, -1), 1);
    len = req_der(req, &der);
    assert_int_equal(parses(der, len), LV_EINVAL);
    X509_EXTENSION_free(ext);
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);
}

/* A negative serial cannot be ours: parsed, answered unknown. */
static void test_parse_negative_serial(void **state)
{
    (void)state;
    X509 *ic = ca_cert(F->ca, "qualified");
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    ASN1_INTEGER_set(sn, -5);
    OCSP_CERTID *id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ic),
                                       X509_get0_pubkey_bitstr(ic), sn);
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_request_add0_id(req, id);
    unsigned char *der;
    size_t len = req_der(req, &der);
    ocsp_query q;
    lv_err err = {0};
    assert_int_equal(ocsp_query_parse(der, len, &q, &err), 0);
    assert_string_equal(q.ids[0].serial, "");
    ocsp_query_free(&q);
    OCSP_RESPONSE *resp = ask(req);
    OCSP_BASICRESP *bs = verified(resp, "qualified");
    assert_int_equal(OCSP_resp_count(bs), 1);
    int status =
        OCSP_single_get0_status(OCSP_resp_get0(bs, 0), NULL, NULL, NULL, NULL);
    assert_int_equal(status, V_OCSP_CERTSTATUS_UNKNOWN);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    OPENSSL_free(der);
    ASN1_INTEGER_free(sn);
    OCSP_REQUEST_free(req);
}

/* ---- GET path decoding (RFC 6960 A.1) --------------------------------------
 */

static void expect_path(const char *tail, const char *want, size_t want_len)
{
    unsigned char *der = NULL;
    size_t len = 0;
    assert_int_equal(http_ocsp_path_decode(tail, &der, &len), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(der, want, want_len);
    free(der);
}

static int path_rc(const char *tail)
{
    unsigned char *der = NULL;
    size_t len = 0;
    int rc = http_ocsp_path_decode(tail, &der, &len);
    free(der);
    return rc;
}

static void test_path_decode(void **state)
{
    (void)state;
    /* bytes fb ff be: base64 "+/++", base64url "-_-+" */
    const char want[] = "\xfb\xff\xbe\x01";
    expect_path("+/++AQ==", want, 4);
    expect_path("%2B%2F%2B%2BAQ%3D%3D", want, 4); /* encoded twice */
    expect_path("-_-+AQ", want, 4);               /* base64url, no '=' */
    expect_path(" /++AQ=", want, 4);              /* '+' became ' ' */
    assert_int_equal(path_rc(""), LV_EINVAL);
    assert_int_equal(path_rc("===="), LV_EINVAL);
    assert_int_equal(path_rc("AQ=A"), LV_EINVAL);  /* data after padding */
    assert_int_equal(path_rc("AQ==="), LV_EINVAL); /* three '=' */
    assert_int_equal(path_rc("A"), LV_EINVAL);     /* 6 bits */
    assert_int_equal(path_rc("AQ*A"), LV_EINVAL);
    assert_int_equal(path_rc("%ZZAA"), LV_EINVAL);
    assert_int_equal(path_rc("AA%2"), LV_EINVAL);
    char *huge = malloc(64 * 1024);
    memset(huge, 'A', 64 * 1024 - 1);
    huge[64 * 1024 - 1] = '\0';
    assert_int_equal(path_rc(huge), LV_ETOOBIG);
    free(huge);
}

/* ---- answers
 * ----------------------------------------------------------------- */

static void test_good_revoked_unknown(void **state)
{
    (void)state;
    int64_t now = lv_now();
    add_cert("7A0000000000000000000000000000A1", "qualified", LV_CERT_VALID, 0,
             -1, now + 300 * DAY);
    add_cert("7A0000000000000000000000000000A2", "qualified", LV_CERT_REVOKED,
             now - 3600, LV_REASON_KEY_COMPROMISE, now + 300 * DAY);
    /* R6.4: expired certificates are answered too */
    add_cert("7A0000000000000000000000000000A3", "qualified", LV_CERT_VALID, 0,
             -1, now - 30 * DAY);
    const char *serials[] = {
        "7A0000000000000000000000000000A1", "7A0000000000000000000000000000A2",
        "7A0000000000000000000000000000A3", "7A00000000000000000000000000DEAD"};
    int want[] = {V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_REVOKED,
                  V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_UNKNOWN};
    for (int i = 0; i < 4; i++) {
        reqspec rs = {"qualified", NULL, {serials[i], NULL}, 0};
        OCSP_REQUEST *req = make_req(&rs);
        OCSP_RESPONSE *resp = ask(req);
        OCSP_BASICRESP *bs = verified(resp, "qualified");
        found_status s = status_of(bs, "qualified", NULL, serials[i]);
        assert_int_equal(s.status, want[i]);
        assert_int_equal(s.next_upd - s.this_upd,
                         (int64_t)F->cfg.ocsp_validity_hours * 3600);
        assert_true(s.this_upd <= lv_now() && s.this_upd >= now - 5);
        if (want[i] == V_OCSP_CERTSTATUS_REVOKED) {
            assert_int_equal(s.reason, LV_REASON_KEY_COMPROMISE);
            assert_int_equal(s.rev, now - 3600);
        }
        OCSP_BASICRESP_free(bs);
        OCSP_RESPONSE_free(resp);
        OCSP_REQUEST_free(req);
    }
}

/* §4.2.2.3: responderID byKey, the SHA-1 of the responder's public key;
 * the responder certificate travels in the response. */
static void test_responder_identity(void **state)
{
    (void)state;
    reqspec rs = {
        "standard", NULL, {"7A00000000000000000000000000BEEF", NULL}, 0};
    OCSP_REQUEST *req = make_req(&rs);
    OCSP_RESPONSE *resp = ask(req);
    OCSP_BASICRESP *bs = verified(resp, "standard");
    const ASN1_OCTET_STRING *key_id = NULL;
    const X509_NAME *name = NULL;
    assert_int_equal(OCSP_resp_get0_id(bs, &key_id, &name), 1);
    assert_null(name);
    assert_non_null(key_id);
    X509 *responder = ca_cert(F->ca, "standard-ocsp");
    unsigned char md[SHA_DIGEST_LENGTH];
    unsigned int n = 0;
    X509_pubkey_digest(responder, EVP_sha1(), md, &n);
    assert_int_equal(ASN1_STRING_length(key_id), n);
    assert_memory_equal(ASN1_STRING_get0_data(key_id), md, n);
    const STACK_OF(X509) *certs = OCSP_resp_get0_certs(bs);
    assert_int_equal(sk_X509_num(certs), 1);
    assert_int_equal(X509_cmp(sk_X509_value(certs, 0), responder), 0);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    OCSP_REQUEST_free(req);
}

static void expect_error(OCSP_REQUEST *req, int status)
{
    OCSP_RESPONSE *resp = ask(req);
    assert_int_equal(OCSP_response_status(resp), status);
    assert_null(OCSP_response_get1_basic(resp));
    OCSP_RESPONSE_free(resp);
}

static void test_unauthorized(void **state)
{
    (void)state;
    /* a CA that is not ours */
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509_NAME *name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"Foreign CA", -1, -1, 0);
    X509_PUBKEY *pub = NULL;
    X509_PUBKEY_set(&pub, key);
    const unsigned char *bits;
    int nbits;
    X509_PUBKEY_get0_param(NULL, &bits, &nbits, NULL, pub);
    ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();
    ASN1_BIT_STRING_set(bs, (unsigned char *)bits, nbits);
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    ASN1_INTEGER_set(sn, 77);
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_request_add0_id(req, OCSP_cert_id_new(EVP_sha1(), name, bs, sn));
    expect_error(req, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
    OCSP_REQUEST_free(req);

    /* one of ours and a foreign one together */
    reqspec rs = {
        "qualified", NULL, {"7A0000000000000000000000000000A1", NULL}, 0};
    req = make_req(&rs);
    OCSP_request_add0_id(req, OCSP_cert_id_new(EVP_sha1(), name, bs, sn));
    expect_error(req, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
    OCSP_REQUEST_free(req);

    /* two of our CAs: one response has one signer */
    req = make_req(&rs);
    OCSP_request_add0_id(req, cert_id("standard", EVP_sha1(), "0102"));
    expect_error(req, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
    OCSP_REQUEST_free(req);

    ASN1_INTEGER_free(sn);
    ASN1_BIT_STRING_free(bs);
    X509_PUBKEY_free(pub);
    X509_NAME_free(name);
    EVP_PKEY_free(key);
}

static void test_malformed(void **state)
{
    (void)state;
    lv_ocsp_answer a;
    lv_err err = {0};
    const unsigned char junk[] = "\x30\x82\x01\x00garbage";
    assert_int_equal(
        ocsp_respond(F->ca, F->st, junk, sizeof junk - 1, &a, &err), 0);
    assert_int_equal(a.status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
    const unsigned char *p = a.der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)a.len);
    assert_int_equal(OCSP_response_status(resp),
                     OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
    OCSP_RESPONSE_free(resp);
    ocsp_answer_free(&a);
}

static unsigned char *answer_bytes(lv_ca *ca, const reqspec *rs, size_t *len,
                                   int *cacheable)
{
    OCSP_REQUEST *req = make_req(rs);
    lv_ocsp_answer a;
    OCSP_RESPONSE *resp = ask_with(ca, req, &a);
    OCSP_RESPONSE_free(resp);
    OCSP_REQUEST_free(req);
    *len = a.len;
    *cacheable = a.cacheable;
    return a.der;
}

/* R10.1: the first request signs and stores, the next ones get the same
 * bytes from the store; a status change is noticed at once (R6.2). */
static void test_presigned(void **state)
{
    (void)state;
    const char *serial = "7A0000000000000000000000000000B1";
    add_cert(serial, "qualified", LV_CERT_VALID, 0, -1, lv_now() + 300 * DAY);
    reqspec rs = {"qualified", NULL, {serial, NULL}, 0};
    size_t l1, l2;
    int c1, c2;
    unsigned char *a1 = answer_bytes(F->ca, &rs, &l1, &c1);
    assert_int_equal(raw_count("SELECT COUNT(*) FROM ocsp_responses WHERE "
                               "serial = '7A0000000000000000000000000000B1'"),
                     1);
    unsigned char *a2 = answer_bytes(F->ca, &rs, &l2, &c2);
    assert_true(c1 && c2);
    assert_int_equal(l1, l2);
    assert_memory_equal(a1, a2, l1);
    OPENSSL_free(a2);

    raw_sql("UPDATE certs SET status = 1, revoked_at = 1700000000,"
            " revocation_reason = 4"
            " WHERE serial = '7A0000000000000000000000000000B1'");
    /* a writer behind the responder's back says so, as ocsp_refresh does
     * (issue 17: the node's cache of answers serves until told) */
    ocsp_cache_changed(ocsp_cache_of(F->ca));
    OCSP_REQUEST *req = make_req(&rs);
    OCSP_RESPONSE *resp = ask(req);
    OCSP_BASICRESP *bs = verified(resp, "qualified");
    found_status s = status_of(bs, "qualified", NULL, serial);
    assert_int_equal(s.status, V_OCSP_CERTSTATUS_REVOKED);
    assert_int_equal(s.reason, LV_REASON_SUPERSEDED);
    assert_int_equal(s.rev, 1700000000);
    assert_int_equal(raw_count("SELECT cert_status FROM ocsp_responses WHERE "
                               "serial = '7A0000000000000000000000000000B1'"),
                     1);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    OCSP_REQUEST_free(req);
    OPENSSL_free(a1);
}

/* A SHA-256 CertID gets its own pre-signed row; a stored response whose
 * CertID differs from the request's is never served. */
static void test_sha256_cert_id(void **state)
{
    (void)state;
    const char *serial = "7A0000000000000000000000000000C1";
    add_cert(serial, "standard", LV_CERT_VALID, 0, -1, lv_now() + 300 * DAY);
    reqspec r1 = {"standard", EVP_sha1(), {serial, NULL}, 0};
    reqspec r256 = {"standard", EVP_sha256(), {serial, NULL}, 0};
    for (int i = 0; i < 2; i++) {
        const reqspec *rs = i ? &r256 : &r1;
        OCSP_REQUEST *req = make_req(rs);
        OCSP_RESPONSE *resp = ask(req);
        OCSP_BASICRESP *bs = verified(resp, "standard");
        found_status s = status_of(bs, "standard", rs->md, serial);
        assert_int_equal(s.status, V_OCSP_CERTSTATUS_GOOD);
        OCSP_BASICRESP_free(bs);
        OCSP_RESPONSE_free(resp);
        OCSP_REQUEST_free(req);
    }
    assert_int_equal(raw_count("SELECT COUNT(*) FROM ocsp_responses WHERE "
                               "serial = '7A0000000000000000000000000000C1'"),
                     2);
}

static void test_nonce(void **state)
{
    (void)state;
    reqspec rs = {
        "qualified", NULL, {"7A0000000000000000000000000000A1", NULL}, 16};
    OCSP_REQUEST *req = make_req(&rs);
    lv_ocsp_answer a;
    OCSP_RESPONSE *resp = ask_with(F->ca, req, &a);
    assert_int_equal(a.cacheable, 0);
    ocsp_answer_free(&a);
    OCSP_BASICRESP *bs = verified(resp, "qualified");
    assert_int_equal(OCSP_check_nonce(req, bs), 1);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    OCSP_REQUEST_free(req);
}

static void test_multiple(void **state)
{
    (void)state;
    reqspec rs = {"qualified",
                  NULL,
                  {"7A0000000000000000000000000000A1",
                   "7A0000000000000000000000000000A2",
                   "7A00000000000000000000000000DEAD", NULL},
                  0};
    OCSP_REQUEST *req = make_req(&rs);
    OCSP_RESPONSE *resp = ask(req);
    OCSP_BASICRESP *bs = verified(resp, "qualified");
    assert_int_equal(OCSP_resp_count(bs), 3);
    int want[] = {V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_REVOKED,
                  V_OCSP_CERTSTATUS_UNKNOWN};
    for (int i = 0; i < 3; i++)
        assert_int_equal(status_of(bs, "qualified", NULL, rs.serials[i]).status,
                         want[i]);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    OCSP_REQUEST_free(req);
}

/* The root answers for the CA certificates it signed (cas table), with
 * their current status. */
static void test_ca_certificates(void **state)
{
    (void)state;
    char serial[65];
    assert_int_equal(
        ca_serial_hex(X509_get0_serialNumber(ca_cert(F->ca, "qualified")),
                      serial),
        0);
    reqspec rs = {"root", NULL, {serial, NULL}, 0};
    OCSP_REQUEST *req = make_req(&rs);
    OCSP_RESPONSE *resp = ask(req);
    X509_STORE *trust = X509_STORE_new();
    X509_STORE_add_cert(trust, ca_cert(F->ca, "root"));
    OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
    assert_int_equal(OCSP_basic_verify(bs, NULL, trust, 0), 1);
    assert_int_equal(status_of(bs, "root", NULL, serial).status,
                     V_OCSP_CERTSTATUS_GOOD);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    /* R6.5: a compromised issuing CA is revoked on the root's answers */
    raw_sql("UPDATE cas SET revoked_at = 1700000000, revocation_reason = 2"
            " WHERE name = 'qualified'");
    resp = ask(req);
    bs = OCSP_response_get1_basic(resp);
    assert_int_equal(OCSP_basic_verify(bs, NULL, trust, 0), 1);
    found_status s = status_of(bs, "root", NULL, serial);
    assert_int_equal(s.status, V_OCSP_CERTSTATUS_REVOKED);
    assert_int_equal(s.reason, LV_REASON_CA_COMPROMISE);
    assert_int_equal(s.rev, 1700000000);
    raw_sql("UPDATE cas SET revoked_at = 0, revocation_reason = -1"
            " WHERE name = 'qualified'");
    X509_STORE_free(trust);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    OCSP_REQUEST_free(req);
}

/* Beyond ocsp_sign_rate, and while sealed, nothing is signed on the request
 * path: tryLater, or the pre-signed answer without the nonce. */
static void test_budget_and_sealed(void **state)
{
    (void)state;
    lv_config cfg = F->cfg;
    lv_err err = {0};
    lv_ca *poor = NULL, *sealed = NULL;
    lv_config scfg = F->cfg;
    keyd_server *skeyd = tu_keyd_sealed(&scfg);
    assert_non_null(skeyd);
    cfg.ocsp_sign_rate = 0;
    assert_int_equal(ca_open(&cfg, F->st, KEYD_CALLER_SERVICE, &poor, &err), 0);
    assert_int_equal(ca_open(&scfg, F->st, KEYD_CALLER_SERVICE, &sealed, &err),
                     0);
    const char *cached = "7A0000000000000000000000000000C1"; /* SHA-1 row */
    reqspec unknown = {
        "qualified", NULL, {"7A0000000000000000000000000FFFF1", NULL}, 0};
    reqspec nonce = {"standard", NULL, {cached, NULL}, 16};
    lv_ca *cas[2] = {poor, sealed};
    for (int i = 0; i < 2; i++) {
        OCSP_REQUEST *req = make_req(&unknown);
        OCSP_RESPONSE *resp = ask_with(cas[i], req, NULL);
        assert_int_equal(OCSP_response_status(resp),
                         OCSP_RESPONSE_STATUS_TRYLATER);
        OCSP_RESPONSE_free(resp);
        OCSP_REQUEST_free(req);
        req = make_req(&nonce);
        resp = ask_with(cas[i], req, NULL);
        OCSP_BASICRESP *bs = verified(resp, "standard");
        assert_int_equal(OCSP_check_nonce(req, bs), -1); /* left out */
        assert_int_equal(status_of(bs, "standard", NULL, cached).status,
                         V_OCSP_CERTSTATUS_GOOD);
        OCSP_BASICRESP_free(bs);
        OCSP_RESPONSE_free(resp);
        OCSP_REQUEST_free(req);
    }
    assert_int_equal(ocsp_refresh(sealed, F->st, cached, &err), LV_ESEALED);
    ca_close(poor);
    ca_close(sealed);
    keyd_stop(skeyd);
}

/* The refresher: certificates without a response get one, responses past
 * half their validity are re-signed, revocations are caught up. */
static void test_refresh_due(void **state)
{
    (void)state;
    lv_err err = {0};
    int done = 0, total = 0;
    add_cert("7A0000000000000000000000000000D1", "standard", LV_CERT_VALID, 0,
             -1, lv_now() + 300 * DAY);
    do {
        assert_int_equal(ocsp_refresh_due(F->ca, F->st, 7, &done, &err), 0);
        total += done;
    } while (done == 7);
    assert_true(total >= 1);
    assert_int_equal(raw_count("SELECT COUNT(*) FROM certs c WHERE NOT EXISTS"
                               " (SELECT 1 FROM ocsp_responses o WHERE"
                               " o.serial = c.serial AND o.hash_alg = 'SHA1')"),
                     0);
    /* nothing left: a second pass signs nothing */
    assert_int_equal(ocsp_refresh_due(F->ca, F->st, 100, &done, &err), 0);
    assert_int_equal(done, 0);
    /* due: next_update within half the validity */
    raw_sql("UPDATE ocsp_responses SET next_update = next_update - 80000"
            " WHERE serial = '7A0000000000000000000000000000D1'");
    /* a revocation whose re-signing did not happen */
    raw_sql("UPDATE certs SET status = 1, revoked_at = strftime('%s','now'),"
            " revocation_reason = 1"
            " WHERE serial = '7A0000000000000000000000000000A1'");
    assert_int_equal(ocsp_refresh_due(F->ca, F->st, 100, &done, &err), 0);
    assert_int_equal(done, 2);
    assert_int_equal(raw_count("SELECT cert_status FROM ocsp_responses WHERE"
                               " serial = '7A0000000000000000000000000000A1'"
                               " AND hash_alg = 'SHA1'"),
                     1);
    assert_true(raw_count("SELECT next_update - strftime('%s','now') FROM "
                          "ocsp_responses WHERE serial = "
                          "'7A0000000000000000000000000000D1'") > 80000);
    /* one audit entry per batch written */
    assert_true(raw_count("SELECT COUNT(*) FROM audit_log WHERE event = "
                          "'ocsp.sign'") >= 2);
}

static void test_refresh_ca(void **state)
{
    (void)state;
    lv_err err = {0};
    raw_sql("UPDATE ocsp_responses SET this_update = 0 WHERE ca = 'standard'");
    assert_int_equal(ocsp_refresh_ca(F->ca, F->st, "standard", &err), 0);
    assert_int_equal(raw_count("SELECT COUNT(*) FROM ocsp_responses WHERE"
                               " ca = 'standard' AND this_update = 0"),
                     0);
    assert_int_equal(ocsp_refresh_ca(F->ca, F->st, "nosuch", &err),
                     LV_ENOTFOUND);
    assert_int_equal(
        ocsp_refresh(F->ca, F->st, "7A00000000000000000000000000FFFF", &err),
        LV_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_params_not_der),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_parse_negative_serial),
        cmocka_unit_test(test_path_decode),
        cmocka_unit_test(test_good_revoked_unknown),
        cmocka_unit_test(test_responder_identity),
        cmocka_unit_test(test_unauthorized),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_presigned),
        cmocka_unit_test(test_sha256_cert_id),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_multiple),
        cmocka_unit_test(test_ca_certificates),
        cmocka_unit_test(test_budget_and_sealed),
        cmocka_unit_test(test_refresh_due),
        cmocka_unit_test(test_refresh_ca),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
