/* Unit tests of store/'s row mapping (store_rows.c, store_row.c): every
 * column table agrees with the column list its SQL names, and every record
 * type comes back from the database as it went in, field by field, through
 * the public store_ functions (issue 12 item 8). */
#include "store/store_rows.h"

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

typedef struct fixture {
    char dir[512];
    char db[600];
    lv_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || tu_tmpdir(f->dir, sizeof f->dir, "store-rows") < 0 ||
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

/* ---- filling and comparing records by their tables ----------------------- */

#define MAX_COLS 32
static unsigned char blobs[MAX_COLS][16];
static char strs[MAX_COLS][32];

#define AT(rec, c) ((char *)(rec) + (c)->off)

static void put_len(void *rec, const store_col *c, size_t n)
{
    memcpy((char *)rec + c->len_off, &n, sizeof n);
}

static size_t get_len(const void *rec, const store_col *c)
{
    size_t n;
    memcpy(&n, (const char *)rec + c->len_off, sizeof n);
    return n;
}

static void fill_col(void *rec, const store_col *c, size_t i, int seed)
{
    int64_t v = 1700000000 + seed * 100 + (int64_t)i;
    int iv = c->kind == STORE_FLAG ? 7 : seed * 100 + (int)i; /* 7: true */
    void *p = blobs[i];
    switch (c->kind) {
    case STORE_TEXT:
        snprintf(AT(rec, c), c->size, "%s.%d", c->name, seed);
        break;
    case STORE_INT:
    case STORE_FLAG:
        memcpy(AT(rec, c), &iv, sizeof iv);
        break;
    case STORE_I64:
    case STORE_CREATED:
    case STORE_TOUCHED:
        memcpy(AT(rec, c), &v, sizeof v);
        break;
    case STORE_BLOB:
    case STORE_BLOB_OPT:
        memset(blobs[i], seed + (int)i, sizeof blobs[i]);
        memcpy(AT(rec, c), &p, sizeof p);
        put_len(rec, c, 3 + i % 7);
        break;
    case STORE_BYTES:
    case STORE_BYTES_OPT:
        memset(AT(rec, c), seed + (int)i, c->size);
        put_len(rec, c, c->size < 5 ? c->size : 5);
        break;
    case STORE_FIXED:
        memset(AT(rec, c), seed + (int)i, c->size);
        break;
    case STORE_STR:
    case STORE_STR_OPT:
    case STORE_STR_REF:
        snprintf(strs[i], sizeof strs[i], "{\"%s\":%d}", c->name, seed);
        p = strs[i];
        memcpy(AT(rec, c), &p, sizeof p);
        break;
    }
}

/* Every column a value of its own, for seed. */
static void fill(const store_row *t, void *rec, int seed)
{
    assert_true(t->n <= MAX_COLS);
    memset(rec, 0, t->size);
    for (size_t i = 0; i < t->n; i++)
        fill_col(rec, &t->cols[i], i, seed);
}

static const void *ptr_of(const void *rec, const store_col *c)
{
    const void *p;
    memcpy(&p, (const char *)rec + c->off, sizeof p);
    return p;
}

static void same_col(const void *a, const void *b, const store_col *c)
{
    size_t n;
    switch (c->kind) {
    case STORE_TEXT:
        assert_string_equal(AT(a, c), AT(b, c));
        break;
    case STORE_FLAG: /* written as 0 or 1 */
        assert_int_equal(*(const int *)AT(a, c) != 0, *(const int *)AT(b, c));
        break;
    case STORE_TOUCHED: /* written as the time of the write */
        assert_true(*(const int64_t *)AT(b, c) >= lv_now() - 5);
        break;
    case STORE_BYTES:
    case STORE_BYTES_OPT:
        n = get_len(a, c);
        assert_int_equal(get_len(b, c), n);
        if (n)
            assert_memory_equal(AT(a, c), AT(b, c), n);
        break;
    case STORE_FIXED:
        assert_memory_equal(AT(a, c), AT(b, c), c->size);
        break;
    case STORE_BLOB:
    case STORE_BLOB_OPT:
        n = get_len(a, c);
        assert_int_equal(get_len(b, c), n);
        if (n)
            assert_memory_equal(ptr_of(a, c), ptr_of(b, c), n);
        break;
    case STORE_STR:
    case STORE_STR_OPT:
    case STORE_STR_REF:
        assert_string_equal(ptr_of(a, c), ptr_of(b, c));
        break;
    default: /* integers: the field's size says which */
        assert_memory_equal(AT(a, c), AT(b, c), c->size);
    }
}

/* What went in (a) came back (b), column by column. */
static void same(const store_row *t, const void *a, const void *b)
{
    for (size_t i = 0; i < t->n; i++)
        same_col(a, b, &t->cols[i]);
}

/* ---- the tables themselves ------------------------------------------------
 */

static void test_tables_match_their_sql(void **state)
{
    (void)state;
    size_t n = 0;
    for (const store_row *const *t = store_rows; *t; t++, n++) {
        if (!store_row_consistent(*t))
            fail_msg("table of \"%s\" disagrees with its SQL", (*t)->columns);
        assert_true((*t)->n > 0 && (*t)->n <= MAX_COLS);
    }
    assert_true(n >= 30);
    store_row bad = *store_rows[0];
    bad.n--; /* a column the list names but the table lacks */
    assert_false(store_row_consistent(&bad));
}

static void test_check_refuses_unterminated_text(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_org_rec org;
    fill(&store_row_org, &org, 1);
    snprintf(org.kind, sizeof org.kind, "entity");
    memset(org.locality, 'x', sizeof org.locality);
    assert_int_equal(store_org_insert(f->st, &org, &err), LV_EINVAL);
    assert_non_null(strstr(err.msg, "locality"));
    assert_int_equal(tu_sql(f->db, "SELECT COUNT(*) FROM organizations"), 0);
}

/* A value llave never writes (too long for its field) is an error, not a
 * truncated record. */
static void test_read_refuses_foreign_values(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_session_rec s, got;
    fill(&store_row_session, &s, 2);
    snprintf(s.kind, sizeof s.kind, "citizen");
    assert_int_equal(store_session_insert(f->st, &s, &err), 0);
    tu_sql(f->db, "UPDATE sessions SET ip = printf('%.100c', 'x')");
    assert_int_equal(store_session_get(f->st, s.token_hash, &got, &err),
                     LV_ESTORE);
    assert_int_equal(store_session_get(f->st, "none", &got, &err),
                     LV_ENOTFOUND);
    assert_string_equal(err.msg, "no such session");
}

/* ---- registration authority ------------------------------------------------
 */

static int calls; /* rows the callbacks below saw */

static int same_registration(const lv_registration_rec *r, void *ctx)
{
    same(&store_row_registration, ctx, r);
    calls++;
    return 0;
}

static void add_citizen(fixture *f, lv_citizen_rec *c)
{
    lv_err err = {0};
    lv_citizen_rec got;
    fill(&store_row_citizen, c, 3);
    snprintf(c->level, sizeof c->level, "basic");
    assert_int_equal(store_citizen_insert(f->st, c, &err), 0);
    assert_int_equal(store_citizen_by_person(f->st, c->person_id, &got, &err),
                     0);
    same(&store_row_citizen, c, &got);
}

static void test_citizen_documents_registrations(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_citizen_rec c;
    lv_iddoc_rec d, got;
    lv_registration_rec r;
    add_citizen(f, &c);
    assert_int_equal(store_citizen_insert(f->st, &c, &err), LV_EEXISTS);
    fill(&store_row_iddoc, &d, 4);
    snprintf(d.citizen_id, sizeof d.citizen_id, "%s", c.id);
    snprintf(d.doc_type, sizeof d.doc_type, "DNI");
    snprintf(d.status, sizeof d.status, "current");
    assert_int_equal(store_iddoc_insert(f->st, &d, &err), 0);
    assert_int_equal(store_iddoc_current(f->st, c.id, &got, &err), 0);
    same(&store_row_iddoc, &d, &got);
    fill(&store_row_registration, &r, 5);
    snprintf(r.citizen_id, sizeof r.citizen_id, "%s", c.id);
    assert_int_equal(store_registration_insert(f->st, &r, &err), 0);
    calls = 0;
    assert_int_equal(
        store_registration_foreach(f->st, c.id, same_registration, &r, &err),
        0);
    assert_int_equal(calls, 1);
    snprintf(r.citizen_id, sizeof r.citizen_id, "nobody");
    snprintf(r.id, sizeof r.id, "other");
    assert_int_equal(store_registration_insert(f->st, &r, &err), LV_EINVAL);
    assert_non_null(strstr(err.msg, "does not exist"));
}

static void test_org_people_requests(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_org_rec o, og;
    lv_org_person_rec p, pg;
    lv_cert_request_rec q, qg;
    lv_revocation_request_rec v;
    fill(&store_row_org, &o, 6);
    snprintf(o.kind, sizeof o.kind, "legal_person");
    assert_int_equal(store_org_insert(f->st, &o, &err), 0);
    assert_int_equal(
        store_org_by_identifier(f->st, o.org_identifier, &og, &err), 0);
    same(&store_row_org, &o, &og);
    fill(&store_row_person, &p, 7);
    snprintf(p.org_id, sizeof p.org_id, "%s", o.id);
    snprintf(p.role, sizeof p.role, "member");
    assert_int_equal(store_org_person_insert(f->st, &p, &err), 0);
    assert_int_equal(store_org_person_get(f->st, p.id, &pg, &err), 0);
    same(&store_row_person, &p, &pg);
    fill(&store_row_request, &q, 8);
    snprintf(q.org_id, sizeof q.org_id, "%s", o.id);
    snprintf(q.status, sizeof q.status, "pending");
    assert_int_equal(store_cert_request_insert(f->st, &q, &err), 0);
    q.decided_by[0] = q.reason[0] = q.cert_serial[0] = '\0'; /* undecided */
    q.decided_at = 0;
    assert_int_equal(store_cert_request_get(f->st, q.id, &qg, &err), 0);
    same(&store_row_request, &q, &qg);
    store_cert_request_rec_free(&qg);
    assert_null(qg.subject);
    fill(&store_row_revreq, &v, 9);
    snprintf(v.capacity, sizeof v.capacity, "holder");
    assert_int_equal(store_revocation_request_insert(f->st, &v, &err), 0);
    assert_int_equal(tu_sql(f->db, "SELECT reason FROM revocation_requests"),
                     v.reason);
}

/* ---- auth
 * -------------------------------------------------------------------- */

static void test_operator_and_credentials(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_operator_rec op, og;
    lv_cred_rec c, cg;
    lv_approval_rec a, ag;
    fill(&store_row_operator, &op, 10);
    assert_int_equal(store_operator_insert(f->st, &op, &err), 0);
    assert_int_equal(store_operator_get(f->st, op.login, &og, &err), 0);
    same(&store_row_operator, &op, &og);
    op.failed_attempts = 2;
    op.totp_sealed_len = 0; /* no secret: refused */
    assert_int_equal(store_operator_update(f->st, &op, &err), LV_EINVAL);
    fill(&store_row_cred, &c, 11);
    assert_int_equal(store_cred_insert(f->st, &c, &err), 0);
    snprintf(c.user_id, sizeof c.user_id, "renamed");
    c.codes_sent = 3;
    assert_int_equal(store_cred_update(f->st, &c, &err), 0);
    assert_int_equal(store_cred_get_by_user(f->st, "renamed", &cg, &err), 0);
    same(&store_row_cred, &c, &cg);
    fill(&store_row_approval, &a, 12);
    assert_int_equal(store_approval_put(f->st, &a, &err), 0);
    assert_int_equal(store_approval_get(f->st, a.action, a.target, &ag, &err),
                     0);
    same(&store_row_approval, &a, &ag);
}

static void test_sessions_and_codes(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_session_rec s, sg;
    lv_otp_rec o, og;
    int64_t gone = -1;
    fill(&store_row_session, &s, 13);
    snprintf(s.kind, sizeof s.kind, "operator");
    assert_int_equal(store_session_insert(f->st, &s, &err), 0);
    assert_int_equal(store_session_get(f->st, s.token_hash, &sg, &err), 0);
    same(&store_row_session, &s, &sg);
    assert_int_equal(store_session_delete_principal(f->st, "operator",
                                                    s.principal, &gone, &err),
                     0);
    assert_int_equal(gone, 1);
    fill(&store_row_otp, &o, 14);
    assert_int_equal(store_otp_insert(f->st, &o, &err), 0);
    o.attempts = 4;
    o.used = 0;
    assert_int_equal(store_otp_update(f->st, &o, &err), 0);
    assert_int_equal(store_otp_get(f->st, o.id, &og, &err), 0);
    same(&store_row_otp, &o, &og);
}

/* ---- remote signing
 * ---------------------------------------------------------- */

static int same_doc(const lv_sign_doc_rec *d, void *ctx)
{
    same(&store_row_doc, ctx, d);
    calls++;
    return 0;
}

static void add_tx(fixture *f, lv_sign_tx_rec *tx)
{
    lv_err err = {0};
    lv_sign_app_rec app, ag;
    lv_sign_tx_rec got;
    fill(&store_row_app, &app, 15);
    assert_int_equal(store_sign_app_insert(f->st, &app, &err), 0);
    assert_int_equal(store_sign_app_get(f->st, app.client_id, &ag, &err), 0);
    same(&store_row_app, &app, &ag);
    fill(&store_row_tx, tx, 16);
    snprintf(tx->app_id, sizeof tx->app_id, "%s", app.client_id);
    snprintf(tx->state, sizeof tx->state, "pending");
    assert_int_equal(store_sign_tx_insert(f->st, tx, &err), 0);
    snprintf(tx->state, sizeof tx->state, "signed");
    tx->ended_at = 42;
    assert_int_equal(store_sign_tx_update(f->st, tx, "otp_sent", &err),
                     LV_ESTATE);
    assert_int_equal(store_sign_tx_update(f->st, tx, "pending", &err), 0);
    assert_int_equal(store_sign_tx_get(f->st, tx->id, &got, &err), 0);
    same(&store_row_tx, tx, &got);
}

static void test_transactions_and_documents(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_sign_tx_rec tx;
    lv_sign_doc_rec d;
    add_tx(f, &tx);
    fill(&store_row_doc, &d, 17);
    d.signature = NULL; /* comes later */
    d.signature_len = 0;
    calls = 0;
    assert_int_equal(store_sign_doc_insert(f->st, tx.id, &d, &err), 0);
    assert_int_equal(store_sign_doc_foreach(f->st, tx.id, same_doc, &d, &err),
                     0);
    assert_int_equal(tu_sql(f->db, "SELECT COUNT(*) FROM sign_documents"
                                   " WHERE signature IS NULL"),
                     1);
    d.signature = blobs[0];
    d.signature_len = 9;
    assert_int_equal(
        store_sign_doc_set_signature(f->st, tx.id, d.seq, d.signature, 9, &err),
        0);
    assert_int_equal(store_sign_doc_foreach(f->st, tx.id, same_doc, &d, &err),
                     0);
    assert_int_equal(calls, 2);
}

static void test_sad_otp_acceptance(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_sign_sad_rec s, sg;
    lv_sign_otp_rec o, og;
    lv_sign_acceptance_rec a, ag;
    fill(&store_row_sad, &s, 18);
    assert_int_equal(store_sign_sad_insert(f->st, &s, &err), 0);
    assert_int_equal(store_sign_sad_get(f->st, s.sad_hash, &sg, &err), 0);
    same(&store_row_sad, &s, &sg);
    store_sign_sad_rec_free(&sg);
    fill(&store_row_sign_otp, &o, 19);
    assert_int_equal(store_sign_otp_put(f->st, &o, &err), 0);
    assert_int_equal(
        store_sign_otp_get(f->st, o.citizen_id, o.serial, &og, &err), 0);
    same(&store_row_sign_otp, &o, &og);
    store_sign_otp_rec_free(&og);
    o.hashes_len = 0; /* unbound: SQL NULL, read back as none */
    assert_int_equal(store_sign_otp_put(f->st, &o, &err), 0);
    assert_int_equal(
        tu_sql(f->db,
               "SELECT COUNT(*) FROM sign_csc_otps WHERE hashes IS NULL"),
        1);
    fill(&store_row_acceptance, &a, 20);
    assert_int_equal(store_sign_acceptance_insert(f->st, &a, &err), 0);
    assert_int_equal(store_sign_acceptance_insert(f->st, &a, &err), LV_EEXISTS);
    assert_int_equal(store_sign_acceptance_get(f->st, a.serial, &ag, &err), 0);
    same(&store_row_acceptance, &a, &ag);
    store_sign_acceptance_rec_free(&ag);
}

/* ---- seals, CRLs, OCSP, archive
 * ----------------------------------------------- */

static int same_item(const lv_archive_item *it, void *ctx)
{
    same(&store_row_archive, ctx, it);
    calls++;
    return 0;
}

static void add_ca(fixture *f, const char *name)
{
    lv_err err = {0};
    lv_ca_rec ca, got;
    fill(&store_row_ca, &ca, 21);
    snprintf(ca.name, sizeof ca.name, "%s", name);
    snprintf(ca.issuer, sizeof ca.issuer, "%s", name);
    assert_int_equal(store_ca_insert(f->st, &ca, &err), 0);
    assert_int_equal(store_ca_get(f->st, name, &got, &err), 0);
    same(&store_row_ca, &ca, &got);
    store_ca_rec_free(&got);
}

static void test_seal_crl_archive(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_audit_seal_rec s, sg;
    lv_crl_rec c, cg;
    lv_archive_item it;
    fill(&store_row_seal, &s, 22);
    assert_int_equal(store_audit_seal_insert(f->st, &s, &err), 0);
    assert_int_equal(store_audit_seal_last(f->st, &sg, &err), 0);
    same(&store_row_seal, &s, &sg);
    store_audit_seal_rec_free(&sg);
    add_ca(f, "root");
    fill(&store_row_crl, &c, 23);
    snprintf(c.ca, sizeof c.ca, "root");
    assert_int_equal(store_crl_insert(f->st, &c, &err), 0);
    assert_int_equal(store_crl_latest(f->st, "root", 1, &cg, &err), 0);
    same(&store_row_crl, &c, &cg);
    store_crl_rec_free(&cg);
    assert_int_equal(store_crl_latest(f->st, "root", 0, &cg, &err), 0);
    same(&store_row_crl_meta, &c, &cg);
    assert_null(cg.der);
    fill(&store_row_archive, &it, 24);
    assert_int_equal(store_archive_insert(f->st, &it, &err), 0);
    calls = 0;
    assert_int_equal(store_archive_foreach(f->st, same_item, &it, &err), 0);
    assert_int_equal(calls, 1);
}

static void test_ocsp_response(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_cert_rec c, cert;
    lv_ocsp_rec o, got;
    int found = 0, has = 0;
    add_ca(f, "issuing");
    fill(&store_row_cert, &c, 25);
    snprintf(c.ca, sizeof c.ca, "issuing");
    c.status = LV_CERT_VALID;
    c.revocation_reason = -1;
    assert_int_equal(store_cert_insert(f->st, &c, &err), 0);
    fill(&store_row_ocsp, &o, 26);
    snprintf(o.serial, sizeof o.serial, "%s", c.serial);
    snprintf(o.ca, sizeof o.ca, "issuing");
    o.cert_status = LV_CERT_VALID;
    assert_int_equal(store_ocsp_put(f->st, &o, &err), 0);
    assert_int_equal(store_ocsp_put(f->st, &o, &err), 0); /* replaces */
    assert_int_equal(store_ocsp_lookup(f->st, c.serial, o.hash_alg, &cert,
                                       &found, &got, &has, &err),
                     0);
    assert_true(found && has);
    same(&store_row_ocsp, &o, &got);
    store_ocsp_rec_free(&got);
    snprintf(o.serial, sizeof o.serial, "unknown");
    assert_int_equal(store_ocsp_put(f->st, &o, &err), LV_EINVAL);
}

/* ---- OAuth 2.0 and activation records -------------------------------------
 */

static int count_token(const char *token_hash, void *ctx)
{
    assert_string_equal(token_hash, ctx);
    calls++;
    return 0;
}

static void add_authz(fixture *f, lv_oauth_authz_rec *a, const char *client)
{
    lv_err err = {0};
    lv_oauth_authz_rec got;
    fill(&store_row_authz, a, 27);
    snprintf(a->client_id, sizeof a->client_id, "%s", client);
    snprintf(a->scope, sizeof a->scope, "credential");
    snprintf(a->status, sizeof a->status, "pending");
    assert_int_equal(store_oauth_authz_insert(f->st, a, &err), 0);
    assert_int_equal(store_oauth_authz_insert(f->st, a, &err), LV_EEXISTS);
    assert_int_equal(store_oauth_authz_get(f->st, a->id, &got, &err), 0);
    same(&store_row_authz, a, &got);
    store_oauth_authz_free(&got);
}

/* An update writes the columns from citizen_id on, only from the stored
 * status; no SAD is SQL NULL, read back as none. */
static void test_oauth_authorization(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_sign_tx_rec tx;
    lv_oauth_authz_rec a, got;
    add_tx(f, &tx);
    add_authz(f, &a, tx.app_id);
    snprintf(a.status, sizeof a.status, "approved");
    a.sad_enc_len = sizeof a.sad_enc;
    assert_int_equal(store_oauth_authz_update(f->st, &a, "otp_sent", &err),
                     LV_ESTATE);
    assert_int_equal(store_oauth_authz_update(f->st, &a, "pending", &err), 0);
    assert_int_equal(store_oauth_authz_by_code(f->st, a.code_hash, &got, &err),
                     0);
    same(&store_row_authz, &a, &got);
    store_oauth_authz_free(&got);
    assert_null(got.labels);
    a.sad_enc_len = 0;
    assert_int_equal(store_oauth_authz_update(f->st, &a, "approved", &err), 0);
    assert_int_equal(tu_sql(f->db, "SELECT COUNT(*) FROM oauth_authorizations"
                                   " WHERE sad_enc IS NULL"),
                     1);
    assert_int_equal(store_oauth_authz_get(f->st, a.id, &got, &err), 0);
    assert_int_equal(got.sad_enc_len, 0);
    store_oauth_authz_free(&got);
    a.labels = NULL;
    assert_int_equal(store_oauth_authz_update(f->st, &a, "approved", &err),
                     LV_EINVAL);
    assert_int_equal(store_oauth_authz_by_code(f->st, "", &got, &err),
                     LV_ENOTFOUND);
}

static void test_oauth_token(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    lv_sign_tx_rec tx;
    lv_oauth_token_rec t, got;
    int n = -1;
    add_tx(f, &tx);
    fill(&store_row_token, &t, 28);
    snprintf(t.client_id, sizeof t.client_id, "%s", tx.app_id);
    snprintf(t.kind, sizeof t.kind, "service");
    t.revoked_at = 0;
    assert_int_equal(store_oauth_token_insert(f->st, &t, &err), 0);
    assert_int_equal(store_oauth_token_get(f->st, t.token_hash, &got, &err), 0);
    same(&store_row_token, &t, &got);
    calls = 0;
    assert_int_equal(store_oauth_tokens_of_code(f->st, t.code_hash, count_token,
                                                t.token_hash, &err),
                     0);
    assert_int_equal(calls, 1);
    assert_int_equal(store_oauth_token_revoke(f->st, t.token_hash, 5, &n, &err),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(store_oauth_token_revoke(f->st, t.token_hash, 6, &n, &err),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(store_oauth_token_purge(f->st, t.expires_at + 1, &n, &err),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(store_oauth_token_get(f->st, t.token_hash, &got, &err),
                     LV_ENOTFOUND);
    assert_string_equal(err.msg, "no token (hash)");
}

/* The binding is exactly 32 bytes both ways; the columns keyd fills are
 * NULL until it does, and read as 0 and "". */
static void test_activation_record(void **state)
{
    fixture *f = *state;
    lv_err err = {0};
    unsigned char ref[LV_ACTIVATION_REF_LEN], digests[64], bind[32];
    char id[65];
    lv_activation_rec r;
    memset(digests, 0x5a, sizeof digests);
    assert_int_equal(store_activation_create(f->st, "k1", "sha256", digests, 2,
                                             60, "citizen:x", ref, &err),
                     0);
    assert_int_equal(store_activation_id(ref, id, &err), 0);
    assert_int_equal(store_activation_get(f->st, id, &r, &err), 0);
    assert_int_equal(
        store_activation_binding("k1", "sha256", digests, 2, bind, &err), 0);
    assert_memory_equal(r.binding, bind, sizeof bind);
    assert_string_equal(r.key_id, "k1");
    assert_int_equal(r.n, 2);
    assert_int_equal(r.used_at, 0);
    assert_string_equal(r.used_by, "");
    assert_int_equal(store_activation_consume(f->st, id, "k1", "sha256", 2,
                                              bind, lv_now(), "keyd", &err),
                     0);
    assert_int_equal(store_activation_get(f->st, id, &r, &err), 0);
    assert_true(r.used_at > 0);
    assert_string_equal(r.used_by, "keyd");
    tu_sql(f->db, "UPDATE sign_activations SET binding = substr(binding, 2)");
    assert_int_equal(store_activation_get(f->st, id, &r, &err), LV_ESTORE);
}

#define TF(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_match_their_sql),
        TF(test_check_refuses_unterminated_text),
        TF(test_read_refuses_foreign_values),
        TF(test_citizen_documents_registrations),
        TF(test_org_people_requests),
        TF(test_operator_and_credentials),
        TF(test_sessions_and_codes),
        TF(test_transactions_and_documents),
        TF(test_sad_otp_acceptance),
        TF(test_seal_crl_archive),
        TF(test_ocsp_response),
        TF(test_oauth_authorization),
        TF(test_oauth_token),
        TF(test_activation_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
