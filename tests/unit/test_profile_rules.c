/* Unit tests of the rules issue 13 put into profile/ and core/: the SC-081
 * validity schedule of website certificates (BR §6.3.2) at its boundaries,
 * notAfter per profile, which CA role issues a profile, and the checks a
 * production ceremony makes of llave.json (lv_config_check_rules: URL
 * schemes, the operator's own arc, OID components Go can parse).
 *
 * The dates are computed here with timegm from calendar fields, not copied
 * from the table in profiles.c, so a wrong epoch constant there fails. */
#include "core/core.h"
#include "profile/profile.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on

#include <stdio.h>
#include <string.h>
#include <time.h>

#define DAY 86400

/* Seconds since the epoch of a UTC calendar time. */
static int64_t utc(int y, int mon, int d, int h, int min, int s)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = min;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm);
}

/* ---- BR §6.3.2 (ballot SC-081) ----------------------------------------- */

static void test_tls_max_days_boundaries(void **state)
{
    (void)state;
    /* before the first step: 398 days (BR §6.3.2 before SC-081) */
    assert_int_equal(profile_tls_max_days(utc(2020, 1, 1, 0, 0, 0)), 398);
    assert_int_equal(profile_tls_max_days(utc(2026, 3, 14, 23, 59, 59)), 398);
    /* 2026-03-15: 200 days */
    assert_int_equal(profile_tls_max_days(utc(2026, 3, 15, 0, 0, 0)), 200);
    assert_int_equal(profile_tls_max_days(utc(2026, 12, 5, 12, 0, 0)), 200);
    assert_int_equal(profile_tls_max_days(utc(2027, 3, 14, 23, 59, 59)), 200);
    /* 2027-03-15: 100 days */
    assert_int_equal(profile_tls_max_days(utc(2027, 3, 15, 0, 0, 0)), 100);
    assert_int_equal(profile_tls_max_days(utc(2027, 4, 1, 12, 0, 0)), 100);
    assert_int_equal(profile_tls_max_days(utc(2029, 3, 14, 23, 59, 59)), 100);
    /* 2029-03-15: 47 days, and it stays there */
    assert_int_equal(profile_tls_max_days(utc(2029, 3, 15, 0, 0, 0)), 47);
    assert_int_equal(profile_tls_max_days(utc(2029, 6, 1, 0, 0, 0)), 47);
    assert_int_equal(profile_tls_max_days(utc(2035, 1, 1, 0, 0, 0)), 47);
    assert_int_equal(profile_tls_max_days(utc(2099, 12, 31, 23, 59, 59)), 47);
}

/* The schedule never goes up with time (a table typo could make it). */
static void test_tls_max_days_monotonic(void **state)
{
    (void)state;
    int prev = profile_tls_max_days(utc(2025, 1, 1, 0, 0, 0));
    for (int64_t t = utc(2025, 1, 1, 0, 0, 0); t < utc(2036, 1, 1, 0, 0, 0);
         t += DAY / 2) {
        int days = profile_tls_max_days(t);
        assert_true(days <= prev);
        assert_true(days == 398 || days == 200 || days == 100 || days == 47);
        prev = days;
    }
}

/* ---- notAfter ------------------------------------------------------------ */

static void test_not_after_tls(void **state)
{
    (void)state;
    const char *web[] = {"web-ov", "web-ov-wildcard", "web-ev", "web-ev-psd2"};
    const struct {
        int64_t nb;
        int days;
    } cases[] = {
        {utc(2026, 3, 14, 23, 59, 59), 398}, {utc(2026, 3, 15, 0, 0, 0), 200},
        {utc(2026, 12, 5, 6, 33, 30), 200},  {utc(2027, 3, 15, 0, 0, 0), 100},
        {utc(2027, 4, 1, 12, 0, 0), 100},    {utc(2029, 3, 15, 0, 0, 0), 47},
        {utc(2029, 6, 1, 0, 0, 0), 47},      {utc(2035, 7, 1, 0, 0, 0), 47},
    };
    for (size_t i = 0; i < sizeof web / sizeof web[0]; i++) {
        const lv_profile *p = profile_find(web[i]);
        assert_non_null(p);
        assert_true(p->tls);
        for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++) {
            int64_t nb = cases[j].nb;
            /* BR §1.6.1: notBefore to notAfter inclusive is N days */
            assert_int_equal(profile_not_after(p, nb),
                             nb + (int64_t)cases[j].days * DAY - 1);
            assert_int_equal(profile_not_after(p, nb) - nb + 1,
                             (int64_t)profile_tls_max_days(nb) * DAY);
        }
    }
}

static void test_not_after_other(void **state)
{
    (void)state;
    int64_t nb = utc(2027, 4, 1, 12, 0, 0);
    const lv_profile *p = profile_find("natural-person-cloud");
    assert_non_null(p);
    assert_false(p->tls);
    assert_int_equal(p->validity_days, 730);
    assert_int_equal(profile_not_after(p, nb), nb + 730LL * DAY);
    /* every profile that is not a website profile keeps its table value,
     * whatever the date */
    size_t n;
    const lv_profile *all = profile_table(&n);
    for (size_t i = 0; i < n; i++) {
        if (all[i].tls)
            continue;
        assert_true(all[i].validity_days > 0);
        assert_int_equal(profile_not_after(&all[i], nb),
                         nb + (int64_t)all[i].validity_days * DAY);
        assert_int_equal(profile_not_after(&all[i], utc(2035, 1, 1, 0, 0, 0)),
                         utc(2035, 1, 1, 0, 0, 0) +
                             (int64_t)all[i].validity_days * DAY);
    }
}

/* ---- issuing CA by profile ----------------------------------------------- */

static void test_issuer_role(void **state)
{
    (void)state;
    assert_string_equal(profile_issuer_role(profile_find("web-ov")), "tls");
    assert_string_equal(profile_issuer_role(profile_find("web-ov-wildcard")),
                        "tls");
    assert_string_equal(profile_issuer_role(profile_find("web-ev")), "tls");
    assert_string_equal(profile_issuer_role(profile_find("web-ev-psd2")),
                        "tls");
    assert_string_equal(
        profile_issuer_role(profile_find("natural-person-cloud-hsm")),
        "qualified");
    assert_string_equal(profile_issuer_role(profile_find("eseal-psd2")),
                        "qualified");
    assert_string_equal(profile_issuer_role(profile_find("tsa")), "qualified");
    assert_string_equal(profile_issuer_role(profile_find("audit-seal")),
                        "standard");
    /* the TLS CA issues exactly the website profiles (BR §7.1.2.10.6), and
     * every website profile has the serverAuth EKU and no fixed validity */
    size_t n, tls = 0;
    const lv_profile *all = profile_table(&n);
    for (size_t i = 0; i < n; i++) {
        const char *role = profile_issuer_role(&all[i]);
        assert_true(strcmp(role, "qualified") == 0 ||
                    strcmp(role, "standard") == 0 || strcmp(role, "tls") == 0);
        assert_int_equal(strcmp(role, "tls") == 0, all[i].tls != 0);
        assert_int_equal(strncmp(all[i].id, "web-", 4) == 0, all[i].tls != 0);
        if (all[i].tls) {
            tls++;
            assert_string_equal(all[i].ext_key_usage, "serverAuth");
            assert_string_equal(all[i].key_usage, "digitalSignature");
            assert_int_equal(all[i].validity_days, 0);
        }
    }
    assert_int_equal(tls, 4);
    assert_true(lv_ca_role_issues("tls", 0));
    assert_false(lv_ca_role_issues("root", 0));
    assert_true(lv_ca_role_issues("root", 1));
}

/* ---- lv_config_check_rules ----------------------------------------------- */

/* A configuration a production ceremony accepts: the operator's own arc,
 * http status links, https documents. */
static void good_config(lv_config *cfg)
{
    lv_config_defaults(cfg, "/nonexistent/llave-test");
    snprintf(cfg->oid_arc, sizeof cfg->oid_arc, "1.3.6.1.4.1.59999.13");
    snprintf(cfg->public_url, sizeof cfg->public_url,
             "https://ca.example.test");
    snprintf(cfg->status_url, sizeof cfg->status_url,
             "http://status.example.test");
    snprintf(cfg->documents_url, sizeof cfg->documents_url,
             "https://docs.example.test");
}

/* Production: refused, with the message counting `findings`; demo: warned
 * only (0). */
static void expect_refused(const lv_config *cfg, int findings)
{
    char want[64];
    lv_err err = {0};
    if (lv_config_check_rules(cfg, 1, &err) == 0)
        fail_msg("accepted in production: oid_arc %s, status %s, documents %s",
                 cfg->oid_arc, lv_status_url(cfg), lv_documents_url(cfg));
    assert_int_equal(err.code, LV_EINVAL);
    snprintf(want, sizeof want, "%d configuration finding(s)", findings);
    if (strstr(err.msg, want) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", want, err.msg);
    lv_err demo = {0};
    assert_int_equal(lv_config_check_rules(cfg, 0, &demo), 0);
    assert_int_equal(demo.code, 0);
}

static void expect_accepted(const lv_config *cfg)
{
    lv_err err = {0};
    int rc = lv_config_check_rules(cfg, 1, &err);
    if (rc != 0)
        fail_msg("refused (%d): %s", rc, err.msg);
    assert_int_equal(lv_config_check_rules(cfg, 0, &err), 0);
}

static void test_rules_defaults(void **state)
{
    (void)state;
    lv_config cfg;
    lv_config_defaults(&cfg, "/nonexistent/llave-test");
    /* the defaults are the demo's: the RFC 5612 placeholder arc and
     * http://127.0.0.1:8080 for everything (documents not https) */
    assert_string_equal(cfg.oid_arc, LV_OID_ARC_PLACEHOLDER);
    assert_string_equal(LV_OID_ARC_PLACEHOLDER, "1.3.6.1.4.1.32473");
    assert_string_equal(cfg.status_url, "");
    assert_string_equal(cfg.documents_url, "");
    assert_string_equal(lv_status_url(&cfg), cfg.public_url);
    assert_string_equal(lv_documents_url(&cfg), cfg.public_url);
    assert_int_equal(cfg.tls_rsa_key_encipherment, 0);
    assert_string_equal(cfg.tls_name, "tls");
    expect_refused(&cfg, 2);
}

static void test_rules_good(void **state)
{
    (void)state;
    lv_config cfg;
    good_config(&cfg);
    assert_string_equal(lv_status_url(&cfg), "http://status.example.test");
    assert_string_equal(lv_documents_url(&cfg), "https://docs.example.test");
    expect_accepted(&cfg);
    /* one public_url cannot serve both (issue 13 item 1): https breaks the
     * status links, http the documents */
    cfg.status_url[0] = cfg.documents_url[0] = '\0';
    expect_refused(&cfg, 1); /* https public_url: status links */
    snprintf(cfg.public_url, sizeof cfg.public_url, "http://ca.example.test");
    expect_refused(&cfg, 1); /* http public_url: documents */
    /* http public_url for status, https documents of its own: accepted */
    snprintf(cfg.documents_url, sizeof cfg.documents_url,
             "https://ca.example.test");
    expect_accepted(&cfg);
}

static void test_rules_placeholder_arc(void **state)
{
    (void)state;
    lv_config cfg;
    good_config(&cfg);
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc, "%s", LV_OID_ARC_PLACEHOLDER);
    expect_refused(&cfg, 1);
    /* an arc below the placeholder is still the placeholder */
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc, "1.3.6.1.4.1.32473.7.1");
    expect_refused(&cfg, 1);
    /* a private enterprise number that merely starts with the same digits
     * is someone's own arc */
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc, "1.3.6.1.4.1.324731");
    expect_accepted(&cfg);
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc, "1.3.6.1.4.1.3247");
    expect_accepted(&cfg);
}

static void test_rules_arc_components(void **state)
{
    (void)state;
    lv_config cfg;
    good_config(&cfg);
    /* the old default (X.667 UUID arc): legal, unreadable to Go */
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc,
             "2.25.329800735698586629295641978511506172918");
    expect_refused(&cfg, 1);
    /* 2^31-1 fits Go 1.19's encoding/asn1; 2^31 does not */
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc, "1.3.6.1.4.1.2147483647");
    expect_accepted(&cfg);
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc, "1.3.6.1.4.1.2147483648");
    expect_refused(&cfg, 1);
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc, "2.25.2147483648.1");
    expect_refused(&cfg, 1);
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc, "2.25.2147483647.1");
    expect_accepted(&cfg);
    /* far beyond 2^31 (and beyond 2^32, where a wrapping parser would
     * see a small number) */
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc, "1.3.6.1.4.1.99999999999999");
    expect_refused(&cfg, 1);
}

static void test_rules_url_schemes(void **state)
{
    (void)state;
    lv_config cfg;
    good_config(&cfg);
    /* https status links: refused in production */
    snprintf(cfg.status_url, sizeof cfg.status_url,
             "https://status.example.test");
    expect_refused(&cfg, 1);
    /* http documents: refused */
    good_config(&cfg);
    snprintf(cfg.documents_url, sizeof cfg.documents_url,
             "http://docs.example.test");
    expect_refused(&cfg, 1);
    /* both wrong and the placeholder: three findings */
    snprintf(cfg.status_url, sizeof cfg.status_url,
             "https://status.example.test");
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc, "%s", LV_OID_ARC_PLACEHOLDER);
    expect_refused(&cfg, 3);
    /* the old UUID arc instead of the placeholder: still three */
    snprintf(cfg.oid_arc, sizeof cfg.oid_arc,
             "2.25.329800735698586629295641978511506172918");
    expect_refused(&cfg, 3);
}

int main(void)
{
    /* the findings are logged; the tests read the returned error */
    lv_log_set_level(LV_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_max_days_boundaries),
        cmocka_unit_test(test_tls_max_days_monotonic),
        cmocka_unit_test(test_not_after_tls),
        cmocka_unit_test(test_not_after_other),
        cmocka_unit_test(test_issuer_role),
        cmocka_unit_test(test_rules_defaults),
        cmocka_unit_test(test_rules_good),
        cmocka_unit_test(test_rules_placeholder_arc),
        cmocka_unit_test(test_rules_arc_components),
        cmocka_unit_test(test_rules_url_schemes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
