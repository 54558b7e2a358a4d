/* Unit tests of ra/: identity documents and person identifiers (R2.3),
 * registration data (R2.6), levels and document expiry (R2.1, R2.4),
 * replacement (R2.5), organizations and powers (R2.7), requests decided by
 * a second person (R1.5, R2.8).  Issuance, revocation and the HTTP API are
 * exercised against a real llaved by tests/integration/test_ra.py. */
#include "ra/ra_internal.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

typedef struct fixture {
    char dir[512];
    char db[600];
    lv_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || tu_tmpdir(f->dir, sizeof f->dir, "ra") < 0 ||
        tu_store_open(f->dir, f->db, sizeof f->db, &f->st) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    return j;
}

static char *date_in(int days)
{
    static char buf[4][16];
    static int n;
    char iso[32];
    lv_time_iso(lv_now() + (int64_t)days * DAY, iso);
    n = (n + 1) % 4;
    snprintf(buf[n], sizeof buf[n], "%.10s", iso);
    return buf[n];
}

/* A registration as POST /api/v1/ra/citizens takes it. */
static json_t *registration(const char *number, const char *type,
                            int expiry_days)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}",
                     "given_name", "Ana", "surname", "Garcia Lopez",
                     "birth_date", "1985-03-14", "mobile", "+34600111001",
                     "email", "ana@example.es", "evidence_ref", "F-1",
                     "document", "type", type, "number", number, "expiry",
                     date_in(expiry_days));
}

/* ---- person identifiers (R2.3) --------------------------------------------
 */

static void test_person_id(void **state)
{
    (void)state;
    char out[64];
    lv_err err = {0};
    assert_int_equal(ra_person_id("DNI", "12345678Z", NULL, out, &err), 0);
    assert_string_equal(out, "IDCES-12345678Z");
    assert_int_equal(ra_person_id("NIE", "X1234567L", "ES", out, &err), 0);
    assert_string_equal(out, "IDCES-X1234567L");
    assert_int_equal(ra_person_id("TIE", "Y7654321G", NULL, out, &err), 0);
    assert_int_equal(
        ra_person_id("EU_REGISTRATION", "Z1111111D", NULL, out, &err), 0);
    assert_int_equal(ra_person_id("PASSPORT", "15AB12345", "FR", out, &err), 0);
    assert_string_equal(out, "PASFR-15AB12345");
    assert_int_equal(ra_person_id("ID_CARD", "AB123", "IT", out, &err), 0);
    assert_string_equal(out, "IDCIT-AB123");
}

static void test_person_id_refusals(void **state)
{
    (void)state;
    char out[64];
    lv_err err = {0};
    assert_int_equal(ra_person_id("DNI", "12345678A", NULL, out, &err),
                     LV_EINVAL);
    assert_non_null(strstr(err.msg, "wrong check letter"));
    /* a NIE is not a DNI and the other way round */
    assert_int_equal(ra_person_id("DNI", "X1234567L", NULL, out, &err),
                     LV_EINVAL);
    assert_int_equal(ra_person_id("NIE", "12345678Z", NULL, out, &err),
                     LV_EINVAL);
    assert_int_equal(ra_person_id("TIE", "X1234567A", NULL, out, &err),
                     LV_EINVAL);
    /* Spanish documents are issued by ES */
    assert_int_equal(ra_person_id("DNI", "12345678Z", "FR", out, &err),
                     LV_EINVAL);
    assert_int_equal(ra_person_id("PASSPORT", "15AB12345", NULL, out, &err),
                     LV_EINVAL);
    assert_int_equal(ra_person_id("PASSPORT", "15AB12345", "fr", out, &err),
                     LV_EINVAL);
    assert_int_equal(ra_person_id("PASSPORT", "15ab12345", "FR", out, &err),
                     LV_EINVAL);
    assert_int_equal(ra_person_id("PASSPORT", "15-AB", "FR", out, &err),
                     LV_EINVAL);
    assert_int_equal(ra_person_id("DRIVING", "123", "ES", out, &err),
                     LV_EINVAL);
    assert_int_equal(ra_person_id("DNI", "", NULL, out, &err), LV_EINVAL);
}

/* ---- documents (R2.3, R2.4)
 * ----------------------------------------------------- */

static void test_document(void **state)
{
    (void)state;
    lv_iddoc_rec doc;
    lv_err err = {0};
    json_t *d =
        json_pack("{s:s, s:s, s:s, s:s}", "type", "DNI", "number", "12345678z",
                  "expiry", date_in(30), "support_number", "BAA123456");
    assert_int_equal(ra_document_parse(d, lv_now(), &doc, &err), 0);
    assert_string_equal(doc.number, "12345678Z"); /* same DNI in upper case */
    assert_string_equal(doc.country, "ES");
    assert_string_equal(doc.status, "current");
    assert_true(doc.expiry > lv_now());
    assert_int_equal(ra_document_valid_until(&doc), doc.expiry);
    json_decref(d);
}

static void test_document_refusals(void **state)
{
    (void)state;
    lv_iddoc_rec doc;
    lv_err err = {0};
    const char *bad[] = {
        /* R2.4: expired */
        "{\"type\":\"DNI\",\"number\":\"12345678Z\",\"expiry\":\"2020-01-01\"}",
        /* no expiry */
        "{\"type\":\"DNI\",\"number\":\"12345678Z\"}",
        /* a day that does not exist */
        "{\"type\":\"DNI\",\"number\":\"12345678Z\",\"expiry\":\"2040-02-30\"}",
        /* R2.3: an EU registration certificate needs its companion */
        "{\"type\":\"EU_REGISTRATION\",\"number\":\"X1234567L\"}",
        /* and only it has one */
        "{\"type\":\"DNI\",\"number\":\"12345678Z\",\"expiry\":\"2040-01-01\","
        "\"companion\":{\"type\":\"PASSPORT\",\"number\":\"A1\","
        "\"country\":\"FR\",\"expiry\":\"2040-01-01\"}}",
        /* a passport alone is not a registration document */
        "{\"type\":\"PASSPORT\",\"number\":\"A1\",\"country\":\"FR\","
        "\"expiry\":\"2040-01-01\"}",
        /* companion expired */
        "{\"type\":\"EU_REGISTRATION\",\"number\":\"X1234567L\","
        "\"companion\":{\"type\":\"PASSPORT\",\"number\":\"A1\","
        "\"country\":\"FR\",\"expiry\":\"2021-01-01\"}}",
        /* companion of the wrong kind */
        "{\"type\":\"EU_REGISTRATION\",\"number\":\"X1234567L\","
        "\"companion\":{\"type\":\"DNI\",\"number\":\"12345678Z\","
        "\"country\":\"ES\",\"expiry\":\"2040-01-01\"}}",
        /* unknown field */
        "{\"type\":\"DNI\",\"number\":\"12345678Z\",\"expiry\":\"2040-01-01\","
        "\"photo\":\"x\"}",
        /* wrong JSON type */
        "{\"type\":\"DNI\",\"number\":12345678,\"expiry\":\"2040-01-01\"}",
        NULL};
    for (const char **b = bad; *b; b++) {
        json_t *d = parse(*b);
        err.msg[0] = '\0';
        assert_int_equal(ra_document_parse(d, lv_now(), &doc, &err), LV_EINVAL);
        assert_true(err.msg[0] != '\0');
        json_decref(d);
    }
}

static void test_eu_registration(void **state)
{
    (void)state;
    lv_iddoc_rec doc;
    lv_err err = {0};
    json_t *d = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "type",
                          "EU_REGISTRATION", "number", "X1234567L", "companion",
                          "type", "PASSPORT", "number", "15AB12345", "country",
                          "FR", "expiry", date_in(60));
    assert_int_equal(ra_document_parse(d, lv_now(), &doc, &err), 0);
    assert_int_equal(doc.expiry, 0);
    /* R2.4: the passport's expiry bounds the registration */
    assert_int_equal(ra_document_valid_until(&doc), doc.companion_expiry);
    doc.expiry = doc.companion_expiry - DAY;
    assert_int_equal(ra_document_valid_until(&doc), doc.expiry);
    json_decref(d);
}

/* ---- the citizen (R2.6)
 * ------------------------------------------------------ */

static void test_citizen_parse(void **state)
{
    (void)state;
    lv_citizen_rec c;
    lv_iddoc_rec doc;
    lv_err err = {0};
    json_t *in = registration("12345678Z", "DNI", 100);
    assert_int_equal(ra_citizen_parse(in, lv_now(), &c, &doc, &err), 0);
    assert_string_equal(c.level, "advanced"); /* the default */
    assert_string_equal(c.person_id, "IDCES-12345678Z");
    assert_string_equal(c.country, "ES"); /* a DNI is Spanish */
    assert_string_equal(c.mobile, "+34600111001");
    json_object_set_new(in, "level", json_string("basic"));
    assert_int_equal(ra_citizen_parse(in, lv_now(), &c, &doc, &err), 0);
    assert_string_equal(c.level, "basic");
    json_decref(in);
    /* a NIE holder states their nationality */
    in = registration("X1234567L", "NIE", 100);
    assert_int_equal(ra_citizen_parse(in, lv_now(), &c, &doc, &err), LV_EINVAL);
    assert_non_null(strstr(err.msg, "country"));
    json_object_set_new(in, "country", json_string("MA"));
    assert_int_equal(ra_citizen_parse(in, lv_now(), &c, &doc, &err), 0);
    assert_string_equal(c.country, "MA");
    json_decref(in);
}

static void test_citizen_refusals(void **state)
{
    (void)state;
    struct {
        const char *key;
        json_t *value; /* NULL: remove the field */
        const char *words;
    } bad[] = {
        {"given_name", NULL, "required"},
        {"surname", json_string(" Garcia"), "blanks"},
        {"given_name", json_string("Ana\nMaria"), "control"},
        {"given_name", json_integer(7), "string"},
        {"birth_date", json_string("2999-01-01"), "plausible"},
        {"birth_date", json_string("1980-02-30"), "date"},
        {"birth_date", json_string("1850-01-01"), "plausible"},
        {"mobile", json_string("600111001"), ""},
        {"mobile", json_string("+34 600 111 001"), ""},
        {"email", json_string("ana.example.es"), ""},
        {"level", json_string("qualified"), "level"},
        {"pseudonym", json_string("x"), "unknown field"},
        {"document", NULL, "document"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lv_citizen_rec c;
        lv_iddoc_rec doc;
        lv_err err = {0};
        json_t *in = registration("12345678Z", "DNI", 100);
        if (bad[i].value)
            json_object_set_new(in, bad[i].key, bad[i].value);
        else
            json_object_del(in, bad[i].key);
        assert_int_equal(ra_citizen_parse(in, lv_now(), &c, &doc, &err),
                         LV_EINVAL);
        if (strstr(err.msg, bad[i].words) == NULL)
            fail_msg("%s: '%s' does not say '%s'", bad[i].key, err.msg,
                     bad[i].words);
        json_decref(in);
    }
}

/* ---- registration in a store
 * -------------------------------------------------- */

static int count(lv_store *st, const char *person, const char *org, int64_t at)
{
    int n = -1;
    lv_err err = {0};
    assert_int_equal(
        store_org_representative_count(st, org, person, at, &n, &err), 0);
    return n;
}

static void register_one(fixture *f, const char *number, const char *level,
                         int expiry_days, ra_registered *r)
{
    lv_err err = {0};
    json_t *in = registration(number, "DNI", expiry_days);
    json_object_set_new(in, "level", json_string(level));
    ra_origin o = {"operator:officer", "face_to_face"};
    assert_int_equal(ra_citizen_register(NULL, f->st, in, &o, r, &err), 0);
    json_decref(in);
}

static void test_register(void **state)
{
    fixture *f = *state;
    ra_registered r;
    lv_citizen_rec c;
    lv_iddoc_rec doc;
    lv_err err = {0};
    register_one(f, "12345678Z", "advanced", 100, &r);
    assert_string_equal(r.person_id, "IDCES-12345678Z");
    assert_string_equal(r.user_id, "12345678Z");
    assert_int_equal(r.activation_sent, 0); /* no auth given */
    assert_int_equal(store_citizen_get(f->st, r.citizen_id, &c, &err), 0);
    assert_int_equal(store_iddoc_current(f->st, r.citizen_id, &doc, &err), 0);
    assert_string_equal(doc.citizen_id, c.id);
    /* the same person again: refused, nothing written */
    json_t *in = registration("12345678Z", "DNI", 100);
    ra_origin o = {"operator:officer", "face_to_face"};
    assert_int_equal(ra_citizen_register(NULL, f->st, in, &o, &r, &err),
                     LV_EEXISTS);
    json_decref(in);
    assert_false(store_in_transaction(f->st));
    json_t *j = NULL;
    assert_int_equal(ra_citizen_json(f->st, c.id, &j, &err), 0);
    assert_int_equal(json_array_size(json_object_get(j, "documents")), 1);
    json_t *reg = json_array_get(json_object_get(j, "registrations"), 0);
    assert_string_equal(lv_json_str(reg, "actor"), "operator:officer");
    assert_string_equal(lv_json_str(reg, "evidence_ref"), "F-1");
    json_decref(j);
}

static void test_signing_checks(void **state)
{
    fixture *f = *state;
    ra_registered adv, basic;
    lv_err err = {0};
    register_one(f, "12345678Z", "advanced", 100, &adv);
    register_one(f, "11111111H", "basic", 100, &basic);
    assert_int_equal(
        ra_citizen_check_signing(f->st, adv.citizen_id, lv_now(), &err), 0);
    /* R2.1: never for a basic registration */
    assert_int_equal(
        ra_citizen_check_signing(f->st, basic.citizen_id, lv_now(), &err),
        LV_EPERM);
    assert_non_null(strstr(err.msg, "basic level"));
    /* R2.4: once the document has expired, no signing */
    assert_int_equal(ra_citizen_check_signing(f->st, adv.citizen_id,
                                              lv_now() + 101 * DAY, &err),
                     LV_ESTATE);
    assert_non_null(strstr(err.msg, "expired"));
    assert_int_equal(ra_citizen_check_signing(f->st, "00", lv_now(), &err),
                     LV_ENOTFOUND);
    /* the certificate must name the citizen */
    assert_int_equal(
        ra_cert_check_signing(f->st, adv.citizen_id, "0A0B", lv_now(), &err),
        LV_ENOTFOUND);
    json_t *subject = NULL;
    assert_int_equal(ra_citizen_subject(f->st, adv.citizen_id, &subject, &err),
                     0);
    assert_string_equal(lv_json_str(subject, "id_type"), "DNI");
    assert_string_equal(lv_json_str(subject, "id_number"), "12345678Z");
    assert_non_null(lv_json_str(subject, "document_expiry"));
    json_decref(subject);
}

static void test_replace_document(void **state)
{
    fixture *f = *state;
    ra_registered r;
    lv_iddoc_rec doc;
    lv_err err = {0};
    register_one(f, "12345678Z", "advanced", 10, &r);
    ra_origin o = {"operator:officer", "face_to_face"};
    json_t *in = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "reason", "theft",
                           "evidence_ref", "F-2", "document", "type", "DNI",
                           "number", "12345678Z", "expiry", date_in(3000));
    assert_int_equal(
        ra_citizen_replace_document(f->st, r.citizen_id, in, &o, &err), 0);
    assert_int_equal(store_iddoc_current(f->st, r.citizen_id, &doc, &err), 0);
    assert_true(doc.expiry > lv_now() + 2000 * DAY);
    /* the new validity applies to signing from now on */
    assert_int_equal(ra_citizen_check_signing(f->st, r.citizen_id,
                                              lv_now() + 20 * DAY, &err),
                     0);
    /* another number is another person */
    json_object_set_new(json_object_get(in, "document"), "number",
                        json_string("11111111H"));
    assert_int_equal(
        ra_citizen_replace_document(f->st, r.citizen_id, in, &o, &err),
        LV_EINVAL);
    json_object_set_new(in, "reason", json_string("whim"));
    assert_int_equal(
        ra_citizen_replace_document(f->st, r.citizen_id, in, &o, &err),
        LV_EINVAL);
    json_decref(in);
    json_t *j = NULL;
    assert_int_equal(ra_citizen_json(f->st, r.citizen_id, &j, &err), 0);
    json_t *docs = json_object_get(j, "documents");
    assert_int_equal(json_array_size(docs), 2);
    assert_string_equal(lv_json_str(json_array_get(docs, 0), "replace_reason"),
                        "theft");
    assert_int_equal(json_array_size(json_object_get(j, "registrations")), 2);
    json_decref(j);
}

/* ---- organizations, powers and requests (R2.7, R1.5)
 * ------------------------- */

static void make_org(fixture *f, char org_id[LV_RA_ID_LEN + 1],
                     char rep_id[LV_RA_ID_LEN + 1], int powers_from_days)
{
    lv_err err = {0};
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "legal_name", "Ejemplo SA",
                          "nif", "A58818501", "locality", "Madrid",
                          "contact_email", "certs@ejemplo.es");
    assert_int_equal(ra_org_create(f->st, o, "operator:officer", org_id, &err),
                     0);
    json_decref(o);
    json_t *p =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}",
                  "given_name", "Luis", "surname", "Martin", "id_type", "DNI",
                  "id_number", "55555555K", "email", "luis@ejemplo.es",
                  "powers", "scope", "total", "from", date_in(powers_from_days),
                  "until", date_in(365), "document", "Escritura n. 77");
    assert_int_equal(ra_org_add_person(f->st, org_id, "representative", p,
                                       "operator:officer", rep_id, &err),
                     0);
    json_decref(p);
}

static void test_org(void **state)
{
    fixture *f = *state;
    char org[LV_RA_ID_LEN + 1], rep[LV_RA_ID_LEN + 1], id[LV_RA_ID_LEN + 1];
    lv_err err = {0};
    make_org(f, org, rep, -1);
    lv_org_rec o;
    assert_int_equal(
        store_org_by_identifier(f->st, "VATES-A58818501", &o, &err), 0);
    /* powers are in force between their dates only */
    assert_int_equal(
        count(f->st, "IDCES-55555555K", "VATES-A58818501", lv_now()), 1);
    assert_int_equal(count(f->st, "IDCES-55555555K", "VATES-A58818501",
                           lv_now() + 400 * DAY),
                     0);
    assert_int_equal(
        count(f->st, "IDCES-12345678Z", "VATES-A58818501", lv_now()), 0);
    /* refusals */
    json_t *bad =
        json_pack("{s:s, s:s, s:s, s:s}", "legal_name", "X SA", "nif",
                  "A58818502", "locality", "Madrid", "contact_email", "x@x.es");
    assert_int_equal(ra_org_create(f->st, bad, "operator:officer", id, &err),
                     LV_EINVAL);
    assert_non_null(strstr(err.msg, "control character"));
    json_object_set_new(bad, "nif", json_string("A58818501"));
    assert_int_equal(ra_org_create(f->st, bad, "operator:officer", id, &err),
                     LV_EEXISTS);
    json_decref(bad);
    json_t *member =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s}}", "given_name", "Eva",
                  "surname", "Sanz", "id_type", "DNI", "id_number", "11111111H",
                  "email", "eva@ejemplo.es", "powers", "scope", "x");
    assert_int_equal(ra_org_add_person(f->st, org, "member", member,
                                       "operator:officer", id, &err),
                     LV_EINVAL);
    json_decref(member);
}

static void test_request_two_person(void **state)
{
    fixture *f = *state;
    char org[LV_RA_ID_LEN + 1], rep[LV_RA_ID_LEN + 1], req[LV_RA_ID_LEN + 1];
    lv_err err = {0};
    make_org(f, org, rep, -1);
    json_t *in = json_pack("{s:s, s:s, s:s}", "org_id", org, "profile",
                           "legal-representative-cloud", "person", rep);
    assert_int_equal(ra_request_create(f->st, in, "operator:alice", req, &err),
                     0);
    lv_cert_request_rec r;
    assert_int_equal(store_cert_request_get(f->st, req, &r, &err), 0);
    assert_string_equal(r.status, "pending");
    assert_non_null(strstr(r.subject, "\"description\":\"Escritura n. 77\""));
    store_cert_request_rec_free(&r);
    /* R1.5: the creator cannot decide it */
    lv_config cfg;
    lv_config_defaults(&cfg, f->dir);
    assert_int_equal(
        ra_request_reject(f->st, &cfg, req, "operator:alice", "no", &err),
        LV_EPERM);
    assert_int_equal(
        ra_request_reject(f->st, &cfg, req, "operator:bob", NULL, &err),
        LV_EINVAL);
    assert_int_equal(ra_request_reject(f->st, &cfg, req, "operator:bob",
                                       "incomplete powers", &err),
                     0);
    assert_int_equal(
        ra_request_reject(f->st, &cfg, req, "operator:carol", "again", &err),
        LV_ESTATE);
    assert_int_equal(store_cert_request_get(f->st, req, &r, &err), 0);
    assert_string_equal(r.status, "rejected");
    assert_string_equal(r.decided_by, "operator:bob");
    assert_string_equal(r.reason, "incomplete powers");
    store_cert_request_rec_free(&r);
    /* a profile that names a person needs one; seals do not */
    json_object_del(in, "person");
    assert_int_equal(ra_request_create(f->st, in, "operator:alice", req, &err),
                     LV_EINVAL);
    json_object_set_new(in, "profile", json_string("natural-person-cloud"));
    assert_int_equal(ra_request_create(f->st, in, "operator:alice", req, &err),
                     LV_EINVAL);
    json_object_set_new(in, "profile", json_string("eseal-cloud"));
    json_object_set_new(in, "common_name", json_string("Facturas"));
    assert_int_equal(ra_request_create(f->st, in, "operator:alice", req, &err),
                     0);
    json_decref(in);
}

static void test_request_powers_not_in_force(void **state)
{
    fixture *f = *state;
    char org[LV_RA_ID_LEN + 1], rep[LV_RA_ID_LEN + 1], req[LV_RA_ID_LEN + 1];
    lv_err err = {0};
    make_org(f, org, rep, 10); /* powers start in ten days */
    json_t *in = json_pack("{s:s, s:s, s:s}", "org_id", org, "profile",
                           "legal-representative-cloud", "person", rep);
    assert_int_equal(ra_request_create(f->st, in, "operator:alice", req, &err),
                     LV_ESTATE);
    assert_non_null(strstr(err.msg, "not in force"));
    json_decref(in);
}

#define TF(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_person_id),
        cmocka_unit_test(test_person_id_refusals),
        cmocka_unit_test(test_document),
        cmocka_unit_test(test_document_refusals),
        cmocka_unit_test(test_eu_registration),
        cmocka_unit_test(test_citizen_parse),
        cmocka_unit_test(test_citizen_refusals),
        TF(test_register),
        TF(test_signing_checks),
        TF(test_replace_document),
        TF(test_org),
        TF(test_request_two_person),
        TF(test_request_powers_not_in_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
