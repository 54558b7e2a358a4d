/* Unit tests of certificate status (issue 4 part A): reason names, serial
 * normalization, change-over names, ca_revoke's refusals, the CRL built by
 * crl_generate (parsed and verified with OpenSSL's X509_CRL functions)
 * and the schedule rules of crl_refresh, against a real demo ceremony's
 * hierarchy and store. */
#include "ca/ca.h"
#include "crl/crl.h"
#include "crl/crl_internal.h"
#include "ra/ra.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include "testutil.h"

#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR 3600

typedef tu_demo fixture;
static int next_dni = 100; /* fresh DNIs for the subjects issued */

static fixture *F;

/* One demo ceremony for the whole file: RSA-4096 CA keys take seconds. */
static int group_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || tu_demo_open(f, "status") < 0)
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

/* Runs SQL behind llave's back; returns the first integer column or -1. */
static long long raw_sql(const char *sql)
{
    return tu_sql(F->db, sql);
}

/* A fresh natural-person-cloud certificate of the qualified CA. */
static void issue(char serial[65])
{
    static const char letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";
    char id[16];
    int n = next_dni++;
    snprintf(id, sizeof id, "%08d%c", n, letters[n % 23]);
    json_t *subject =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "given_name", "Ana", "surname",
                  "Prueba", "id_type", "DNI", "id_number", id, "country", "ES");
    lv_issue_req req = {.profile_id = "natural-person-cloud",
                        .subject = subject,
                        .actor = "unit"};
    lv_issue_result r;
    lv_err err = {0};
    int rc = ca_issue(F->ca, F->st, &req, &r, &err);
    if (rc != 0)
        fprintf(stderr, "issue: %s\n", err.msg);
    assert_int_equal(rc, 0);
    snprintf(serial, 65, "%s", r.serial);
    ca_issue_result_free(&r);
    json_decref(subject);
}

static int revoke(const char *serial, const char *reason, lv_err *err)
{
    lv_revoke_req req = {.serial = serial,
                         .reason_name = reason,
                         .requester = "subject",
                         .actor = "unit"};
    lv_revoke_result r;
    int rc = ca_revoke(F->ca, F->st, &req, &r, err);
    if (rc == 0)
        ra_revoke_publish(F->ca, F->st, "unit", &r); /* R6.2 */
    return rc;
}

static X509_CRL *latest_crl(const char *ca, lv_crl *meta)
{
    lv_err err = {0};
    assert_int_equal(crl_latest(F->ca, F->st, ca, 1, meta, &err), 0);
    const unsigned char *p = meta->der;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)meta->der_len);
    assert_non_null(crl);
    return crl;
}

static const X509_REVOKED *find_entry(X509_CRL *crl, const char *serial)
{
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
    for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
        const X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
        char hex[65];
        assert_int_equal(ca_serial_hex(X509_REVOKED_get0_serialNumber(r), hex),
                         0);
        if (strcmp(hex, serial) == 0)
            return r;
    }
    return NULL;
}

/* ---- pure logic ------------------------------------------------------- */

static void test_reason_names(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "unspecified",        "keyCompromise", "cACompromise",
        "affiliationChanged", "superseded",    "cessationOfOperation",
        "privilegeWithdrawn"};
    static const int codes[] = {0, 1, 2, 3, 4, 5, 9};
    lv_err err = {0};
    int code = -1;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(ca_reason_parse(ok[i], &code, &err), 0);
        assert_int_equal(code, codes[i]);
        assert_string_equal(ca_reason_name(code), ok[i]);
    }
    assert_int_equal(ca_reason_parse("KEYCOMPROMISE", &code, &err), 0);
    assert_int_equal(code, 1);
    assert_int_equal(ca_reason_parse("certificateHold", &code, &err),
                     LV_EINVAL);
    assert_non_null(strstr(err.msg, "never suspended"));
    assert_int_equal(ca_reason_parse("removeFromCRL", &code, &err), LV_EINVAL);
    assert_non_null(strstr(err.msg, "final"));
    assert_int_equal(ca_reason_parse("aACompromise", &code, &err), LV_EINVAL);
    assert_int_equal(ca_reason_parse("holiday", &code, &err), LV_EINVAL);
    assert_int_equal(ca_reason_parse(NULL, &code, &err), LV_EINVAL);
    assert_string_equal(ca_reason_name(7), "unknown");
}

static void test_serial_normalize(void **state)
{
    (void)state;
    char out[65];
    lv_err err = {0};
    assert_int_equal(ca_serial_normalize("4a0bff", out, &err), 0);
    assert_string_equal(out, "4A0BFF");
    assert_int_equal(ca_serial_normalize("4a:0b:ff", out, &err), 0);
    assert_string_equal(out, "4A0BFF");
    assert_int_equal(ca_serial_normalize("abc", out, &err), 0);
    assert_string_equal(out, "0ABC");
    assert_int_equal(ca_serial_normalize("", out, &err), LV_EINVAL);
    assert_int_equal(ca_serial_normalize("12 34", out, &err), LV_EINVAL);
    assert_int_equal(ca_serial_normalize("0x12", out, &err), LV_EINVAL);
    assert_int_equal(ca_serial_normalize("../../x", out, &err), LV_EINVAL);
    char big[70];
    memset(big, 'a', 65);
    big[65] = '\0';
    assert_int_equal(ca_serial_normalize(big, out, &err), LV_EINVAL);
    big[63] = '\0'; /* 63 digits: padded to 64 */
    assert_int_equal(ca_serial_normalize(big, out, &err), 0);
    assert_int_equal(strlen(out), 64);
}

static void test_rollover_names(void **state)
{
    (void)state;
    char name[32], cn[128];
    lv_err err = {0};
    assert_int_equal(custody_rollover_names("qualified", "llave Qualified CA",
                                            name, cn, &err),
                     0);
    assert_string_equal(name, "qualified-g2");
    assert_string_equal(cn, "llave Qualified CA G2");
    assert_int_equal(custody_rollover_names("qualified-g2",
                                            "llave Qualified CA G2", name, cn,
                                            &err),
                     0);
    assert_string_equal(name, "qualified-g3");
    assert_string_equal(cn, "llave Qualified CA G3");
    /* a name that merely looks like a generation is a base name */
    assert_int_equal(custody_rollover_names("ca-gx", "X", name, cn, &err), 0);
    assert_string_equal(name, "ca-gx-g2");
    /* "<name>-ocsp" must still fit the 31 characters of a CA name */
    assert_int_equal(
        custody_rollover_names("abcdefghijklmnopqrstuvwx", "X", name, cn, &err),
        LV_EINVAL);
}

/* ---- revocation --------------------------------------------------------- */

static void test_revoke_records_and_refuses(void **state)
{
    (void)state;
    char serial[65], lower[65];
    lv_err err = {0};
    issue(serial);
    for (size_t i = 0; i <= strlen(serial); i++)
        lower[i] = (char)(serial[i] >= 'A' && serial[i] <= 'F' ? serial[i] + 32
                                                               : serial[i]);
    long long crls = raw_sql("SELECT COUNT(*) FROM crls");
    assert_int_equal(revoke(lower, "keyCompromise", &err), 0);
    lv_cert_rec rec;
    lv_cert_status s;
    assert_int_equal(store_cert_get(F->st, serial, &rec, &err), 0);
    assert_int_equal(rec.status, LV_CERT_REVOKED);
    assert_int_equal(rec.revocation_reason, LV_REASON_KEY_COMPROMISE);
    store_cert_rec_free(&rec);
    assert_int_equal(store_cert_status_get(F->st, serial, &s, &err), 0);
    assert_string_equal(s.requester, "subject");
    assert_string_equal(s.authority, "unit");
    /* R6.2: the CRL is regenerated at once */
    assert_int_equal(raw_sql("SELECT COUNT(*) FROM crls"), crls + 1);

    long long audit = raw_sql("SELECT COUNT(*) FROM audit_log");
    assert_int_equal(revoke(serial, "superseded", &err), LV_ESTATE);
    assert_non_null(strstr(err.msg, "already revoked"));
    assert_int_equal(revoke(serial, "removeFromCRL", &err), LV_EINVAL);
    assert_int_equal(revoke("7FFF0000", "superseded", &err), LV_ENOTFOUND);
    assert_int_equal(revoke("zz", "superseded", &err), LV_EINVAL);
    /* nothing changed but the refusals were audited */
    assert_int_equal(raw_sql("SELECT COUNT(*) FROM crls"), crls + 1);
    assert_int_equal(raw_sql("SELECT COUNT(*) FROM audit_log WHERE result = "
                             "'failure' AND event = 'cert.revoke'"),
                     4);
    assert_int_equal(raw_sql("SELECT COUNT(*) FROM audit_log"), audit + 4);
}

static void test_revoke_expired_refused(void **state)
{
    (void)state;
    char serial[65], sql[256];
    lv_err err = {0};
    issue(serial);
    snprintf(sql, sizeof sql,
             "UPDATE certs SET not_after = strftime('%%s','now') - 1 "
             "WHERE serial = '%s'",
             serial);
    raw_sql(sql);
    assert_int_equal(revoke(serial, "keyCompromise", &err), LV_ESTATE);
    assert_non_null(strstr(err.msg, "expired"));
    snprintf(sql, sizeof sql, "SELECT status FROM certs WHERE serial = '%s'",
             serial);
    assert_int_equal(raw_sql(sql), LV_CERT_VALID);
}

/* ---- the CRL ------------------------------------------------------------- */

static void test_crl_contents(void **state)
{
    (void)state;
    char revoked[65], good[65], expired[65], sql[256];
    lv_err err = {0};
    issue(revoked);
    issue(good);
    issue(expired);
    lv_revoke_req req = {.serial = revoked,
                         .reason = LV_REASON_AFFILIATION_CHANGED,
                         .actor = "unit",
                         .invalidity_date = lv_now()};
    lv_revoke_result res;
    assert_int_equal(ca_revoke(F->ca, F->st, &req, &res, &err), 0);
    assert_int_equal(res.crl_number, 0); /* recorded, not yet published */
    ra_revoke_publish(F->ca, F->st, "unit", &res); /* R6.2 */
    assert_true(res.crl_number > 0);
    assert_int_equal(revoke(expired, "superseded", &err), 0);
    snprintf(sql, sizeof sql,
             "UPDATE certs SET not_after = strftime('%%s','now') - 1 "
             "WHERE serial = '%s'",
             expired);
    raw_sql(sql);
    lv_crl_info info;
    assert_int_equal(
        crl_generate(F->ca, F->st, "qualified", "unit", &info, &err), 0);
    assert_true(info.number > res.crl_number);

    lv_crl meta;
    X509_CRL *crl = latest_crl("qualified", &meta);
    /* signed by the qualified CA's key */
    EVP_PKEY *pub = X509_get0_pubkey(ca_cert(F->ca, "qualified"));
    assert_int_equal(X509_CRL_verify(crl, pub), 1);
    assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
    ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    assert_int_equal(ASN1_INTEGER_get(num), info.number);
    ASN1_INTEGER_free(num);
    AUTHORITY_KEYID *akid =
        X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
    assert_non_null(akid);
    assert_int_equal(
        ASN1_OCTET_STRING_cmp(
            akid->keyid, X509_get0_subject_key_id(ca_cert(F->ca, "qualified"))),
        0);
    AUTHORITY_KEYID_free(akid);
    int day = 0, sec = 0;
    assert_int_equal(ASN1_TIME_diff(&day, &sec, X509_CRL_get0_lastUpdate(crl),
                                    X509_CRL_get0_nextUpdate(crl)),
                     1);
    assert_int_equal(day * 86400 + sec, F->cfg.crl_interval_hours * HOUR);

    const X509_REVOKED *r = find_entry(crl, revoked);
    assert_non_null(r);
    ASN1_ENUMERATED *reason =
        X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
    assert_int_equal(ASN1_ENUMERATED_get(reason),
                     LV_REASON_AFFILIATION_CHANGED);
    ASN1_ENUMERATED_free(reason);
    ASN1_GENERALIZEDTIME *inv =
        X509_REVOKED_get_ext_d2i(r, NID_invalidity_date, NULL, NULL);
    assert_non_null(inv);
    ASN1_GENERALIZEDTIME_free(inv);
    /* R6.3: valid and expired certificates are not listed */
    assert_null(find_entry(crl, good));
    assert_null(find_entry(crl, expired));
    X509_CRL_free(crl);
    crl_free(&meta);
}

/* ---- the streamed encoder (issue 17 item 5) ------------------------------ */

/* The reference: the same CRL made with OpenSSL's X509_CRL API (what
 * crl.c did before the encoder), signed through the same keyd key.
 * RSA PKCS#1 v1.5 signatures are deterministic, so the DER must match. */
static X509_CRL *reference_crl(const crl_fields *f, const lv_crl_entry *e,
                               size_t n, const char *key_id)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)f->this_update);
    ASN1_TIME *nu = ASN1_TIME_set(NULL, (time_t)f->next_update);
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    akid->keyid = ASN1_OCTET_STRING_dup(X509_get0_subject_key_id(f->issuer));
    ASN1_INTEGER_set_int64(num, f->number);
    assert_true(
        X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(f->issuer)) &&
        X509_CRL_set1_lastUpdate(crl, t) && X509_CRL_set1_nextUpdate(crl, nu) &&
        X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) &&
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0));
    for (size_t i = 0; i < n; i++) {
        X509_REVOKED *r = X509_REVOKED_new();
        unsigned char raw[32];
        int len = lv_hex_decode(e[i].serial, raw, sizeof raw), skip = 0;
        while (skip < len - 1 && raw[skip] == 0)
            skip++;
        ASN1_INTEGER *sn = ASN1_INTEGER_new();
        ASN1_STRING_set(sn, raw + skip, len - skip);
        ASN1_TIME *rt = ASN1_TIME_set(NULL, (time_t)e[i].revoked_at);
        assert_true(X509_REVOKED_set_serialNumber(r, sn) &&
                    X509_REVOKED_set_revocationDate(r, rt));
        if (e[i].reason > 0) {
            ASN1_ENUMERATED *why = ASN1_ENUMERATED_new();
            ASN1_ENUMERATED_set(why, e[i].reason);
            assert_true(
                X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, why, 0, 0));
            ASN1_ENUMERATED_free(why);
        }
        if (e[i].invalidity_date > 0) {
            ASN1_GENERALIZEDTIME *g =
                ASN1_GENERALIZEDTIME_set(NULL, (time_t)e[i].invalidity_date);
            assert_true(
                X509_REVOKED_add1_ext_i2d(r, NID_invalidity_date, g, 0, 0));
            ASN1_GENERALIZEDTIME_free(g);
        }
        assert_true(X509_CRL_add0_revoked(crl, r));
        ASN1_INTEGER_free(sn);
        ASN1_TIME_free(rt);
    }
    assert_true(X509_CRL_sort(crl));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    lv_err err = {0};
    assert_int_equal(ca_key_sign_init(F->ca, key_id, EVP_sha256(), ctx, &err),
                     0);
    assert_true(X509_CRL_sign_ctx(crl, ctx) > 0);
    EVP_MD_CTX_free(ctx);
    ASN1_TIME_free(t);
    ASN1_TIME_free(nu);
    AUTHORITY_KEYID_free(akid);
    ASN1_INTEGER_free(num);
    return crl;
}

/* Serials of every shape: 16 random bytes, a leading zero octet to drop, a
 * high first bit (DER adds a 0x00), short ones that sort first; every
 * reason, with and without invalidityDate. */
static void sample_entries(lv_crl_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char raw[16];
        assert_int_equal(RAND_bytes(raw, sizeof raw), 1);
        size_t len = i % 7 == 0 ? 3 : sizeof raw;
        if (i % 5 == 0)
            raw[0] = 0x00;
        if (i % 5 == 1)
            raw[0] |= 0x80;
        lv_hex_encode(raw, len, e[i].serial);
        e[i].revoked_at = lv_now() - (int64_t)(i * 97);
        e[i].reason = (int)(i % 11 == 7 ? 0 : i % 11);
        e[i].invalidity_date = i % 3 == 0 ? e[i].revoked_at - 86400 : 0;
    }
}

static void test_streamed_crl_equals_openssl(void **state)
{
    (void)state;
    enum { N = 300 };
    static lv_crl_entry e[N];
    lv_ca_rec rec;
    lv_err err = {0};
    assert_int_equal(store_ca_get(F->st, "qualified", &rec, &err), 0);
    X509 *issuer = ca_cert(F->ca, "qualified");
    sample_entries(e, N);
    for (size_t n = 0; n <= N; n += N) { /* none (list absent), then all */
        crl_list l = {0};
        for (size_t i = 0; i < n; i++)
            assert_int_equal(crl_list_add(&l, &e[i]), 0);
        crl_fields f = {issuer, 42 + (int64_t)n, lv_now(),
                        lv_now() + 24 * HOUR};
        unsigned char *ours = NULL, *theirs = NULL;
        size_t ours_len = 0;
        assert_int_equal(
            crl_der_signed(F->ca, rec.key_id, &f, &l, &ours, &ours_len, &err),
            0);
        X509_CRL *ref = reference_crl(&f, e, n, rec.key_id);
        int theirs_len = i2d_X509_CRL(ref, &theirs);
        assert_int_equal((size_t)theirs_len, ours_len);
        assert_memory_equal(ours, theirs, ours_len);
        const unsigned char *p = ours;
        X509_CRL *back = d2i_X509_CRL(NULL, &p, (long)ours_len);
        assert_non_null(back);
        assert_int_equal(X509_CRL_verify(back, X509_get0_pubkey(issuer)), 1);
        assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(back)),
                         n ? (int)n : -1);
        X509_CRL_free(back);
        X509_CRL_free(ref);
        OPENSSL_free(ours);
        OPENSSL_free(theirs);
    }
    crl_list bad = {0};
    lv_crl_entry junk = {.serial = "not hex", .revoked_at = 1};
    assert_int_equal(crl_list_add(&bad, &junk), LV_ESTORE);
    crl_list_free(&bad);
    store_ca_rec_free(&rec);
}

/* ---- the schedule -------------------------------------------------------- */

static int refresh(void)
{
    lv_err err = {0};
    int n = -1;
    assert_int_equal(crl_refresh(F->ca, F->st, "unit", &n, &err), 0);
    return n;
}

/* Stores a copy of the newest CRL of `ca` as if made `age` seconds ago. */
static void age_latest(const char *ca, int64_t age)
{
    lv_crl_rec meta;
    lv_err err = {0};
    assert_int_equal(store_crl_latest(F->st, ca, 1, &meta, &err), 0);
    meta.number++;
    meta.this_update = lv_now() - age;
    meta.next_update = meta.this_update + 24 * HOUR;
    assert_int_equal(store_crl_insert(F->st, &meta, &err), 0);
    store_crl_rec_free(&meta);
}

static void test_refresh_schedule(void **state)
{
    (void)state;
    lv_err err = {0};
    refresh(); /* every CA has a current CRL from here on */
    assert_int_equal(refresh(), 0);
    age_latest("standard", 11 * HOUR);
    assert_int_equal(refresh(), 0); /* under half of 24 h */
    age_latest("standard", 13 * HOUR);
    assert_int_equal(refresh(), 1); /* past half: regenerated */
    assert_int_equal(refresh(), 0);
    /* behind a status change (a revocation whose CRL was not made) */
    assert_int_equal(store_ca_bump_revision(F->st, "root", &err), 0);
    assert_int_equal(refresh(), 1);
    assert_int_equal(refresh(), 0);
}

/* Last: it ends the standard CA's life. */
static void test_compromised_gets_final_crl(void **state)
{
    (void)state;
    lv_err err = {0};
    lv_crl meta;
    assert_int_equal(store_ca_set_status(F->st, "standard", "compromised",
                                         lv_now(), LV_REASON_CA_COMPROMISE,
                                         &err),
                     0);
    assert_int_equal(refresh(), 1);
    X509_CRL *crl = latest_crl("standard", &meta);
    assert_null(X509_CRL_get0_nextUpdate(crl)); /* R6.5 */
    assert_int_equal(meta.info.next_update, 0);
    X509_CRL_free(crl);
    crl_free(&meta);
    assert_int_equal(refresh(), 0);
    assert_int_equal(crl_generate(F->ca, F->st, "standard", "unit", NULL, &err),
                     LV_ESTATE);
    /* the OCSP responder is not a CA: it publishes no CRL */
    assert_int_equal(
        crl_generate(F->ca, F->st, "root-ocsp", "unit", NULL, &err), LV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_serial_normalize),
        cmocka_unit_test(test_rollover_names),
        cmocka_unit_test(test_revoke_records_and_refuses),
        cmocka_unit_test(test_revoke_expired_refused),
        cmocka_unit_test(test_crl_contents),
        cmocka_unit_test(test_streamed_crl_equals_openssl),
        cmocka_unit_test(test_refresh_schedule),
        cmocka_unit_test(test_compromised_gets_final_crl),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
