/* Registration authority records (sql/006_ra.sql): citizens, identity
 * documents, registration evidence, organizations and their people,
 * certificate requests and revocation requests.  The rules are ra/'s; this
 * file only reads and writes rows. */
#include "store/store_driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(rec, field, name)                                                \
    LV_TRY(store_check_field((rec)->field, sizeof(rec)->field, name, err))
#define COPY(q, col, rec, field)                                               \
    LV_TRY(store_q_col_copy(q, col, (rec)->field, sizeof(rec)->field))

/* Runs a prepared statement that changes rows and maps the driver's
 * LV_EEXISTS / LV_EINVAL (unique / foreign key) to messages naming what. */
static int exec_insert(store_q *q, const char *what, lv_err *err)
{
    int rc = store_q_exec(q);
    store_q_finalize(q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, LV_EEXISTS, "%s already exists", what);
    if (rc == LV_EINVAL)
        return lv_fail(err, LV_EINVAL,
                       "%s refers to a record that does not exist", what);
    return rc < 0 ? rc : 0;
}

/* Steps a prepared SELECT, reading each row into `row` and calling fn;
 * a macro so that fn keeps its own record type. */
#define EACH_ROW(q, read, row, fn, ctx)                                        \
    do {                                                                       \
        int each_rc_;                                                          \
        while ((each_rc_ = store_q_step(q)) == LV_DB_ROW) {                    \
            if ((each_rc_ = read(q, row)) < 0 ||                               \
                (each_rc_ = fn(row, ctx)) < 0)                                 \
                break;                                                         \
        }                                                                      \
        store_q_finalize(q);                                                   \
        return each_rc_ < 0 ? each_rc_ : 0;                                    \
    } while (0)

/* ---- citizens ------------------------------------------------------------ */

#define CITIZEN_COLUMNS                                                        \
    "id, person_id, level, given_name, surname, country, birth_date, "         \
    "mobile, email, created_at, updated_at"

static int citizen_check(const lv_citizen_rec *r, lv_err *err)
{
    CHECK(r, id, "citizen id");
    CHECK(r, person_id, "person id");
    CHECK(r, level, "level");
    CHECK(r, given_name, "given name");
    CHECK(r, surname, "surname");
    CHECK(r, country, "country");
    CHECK(r, birth_date, "birth date");
    CHECK(r, mobile, "mobile");
    CHECK(r, email, "email");
    return 0;
}

int store_citizen_insert(lv_store *st, const lv_citizen_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(citizen_check(r, err));
    int64_t now = r->created_at ? r->created_at : lv_now();
    store_q_prepare(&q, st,
                    "INSERT INTO citizens (" CITIZEN_COLUMNS ") VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->id);
    store_q_text(&q, r->person_id);
    store_q_text(&q, r->level);
    store_q_text(&q, r->given_name);
    store_q_text(&q, r->surname);
    store_q_text(&q, r->country);
    store_q_text(&q, r->birth_date);
    store_q_text(&q, r->mobile);
    store_q_text(&q, r->email);
    store_q_int64(&q, now);
    store_q_int64(&q, r->updated_at ? r->updated_at : now);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, LV_EEXISTS,
                       "a citizen with identifier %s is already "
                       "registered",
                       r->person_id);
    return rc < 0 ? rc : 0;
}

static int citizen_read(store_q *q, void *out)
{
    lv_citizen_rec *r = out;
    memset(r, 0, sizeof *r);
    COPY(q, 0, r, id);
    COPY(q, 1, r, person_id);
    COPY(q, 2, r, level);
    COPY(q, 3, r, given_name);
    COPY(q, 4, r, surname);
    COPY(q, 5, r, country);
    COPY(q, 6, r, birth_date);
    COPY(q, 7, r, mobile);
    COPY(q, 8, r, email);
    r->created_at = store_q_col_int64(q, 9);
    r->updated_at = store_q_col_int64(q, 10);
    return 0;
}

static int citizen_get_by(lv_store *st, const char *column, const char *key,
                          lv_citizen_rec *out, lv_err *err)
{
    store_q q;
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT " CITIZEN_COLUMNS " FROM citizens WHERE %s = ?", column);
    store_q_prepare(&q, st, sql, err);
    store_q_text(&q, key);
    return store_q_get_one(&q, citizen_read, out, "citizen", key, err);
}

int store_citizen_get(lv_store *st, const char *id, lv_citizen_rec *out,
                      lv_err *err)
{
    return citizen_get_by(st, "id", id, out, err);
}

int store_citizen_by_person(lv_store *st, const char *person_id,
                            lv_citizen_rec *out, lv_err *err)
{
    return citizen_get_by(st, "person_id", person_id, out, err);
}

/* ---- identity documents ------------------------------------------------- */

#define IDDOC_COLUMNS                                                          \
    "id, citizen_id, doc_type, number, country, support_number, expiry, "      \
    "companion_type, companion_number, companion_country, companion_expiry, "  \
    "status, replace_reason, created_at, replaced_at"

static int iddoc_check(const lv_iddoc_rec *r, lv_err *err)
{
    CHECK(r, id, "document id");
    CHECK(r, citizen_id, "citizen id");
    CHECK(r, doc_type, "document type");
    CHECK(r, number, "document number");
    CHECK(r, country, "document country");
    CHECK(r, support_number, "support number");
    CHECK(r, companion_type, "companion type");
    CHECK(r, companion_number, "companion number");
    CHECK(r, companion_country, "companion country");
    CHECK(r, status, "document status");
    CHECK(r, replace_reason, "replacement reason");
    return 0;
}

int store_iddoc_insert(lv_store *st, const lv_iddoc_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(iddoc_check(r, err));
    store_q_prepare(&q, st,
                    "INSERT INTO identity_documents (" IDDOC_COLUMNS
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->id);
    store_q_text(&q, r->citizen_id);
    store_q_text(&q, r->doc_type);
    store_q_text(&q, r->number);
    store_q_text(&q, r->country);
    store_q_text(&q, r->support_number);
    store_q_int64(&q, r->expiry);
    store_q_text(&q, r->companion_type);
    store_q_text(&q, r->companion_number);
    store_q_text(&q, r->companion_country);
    store_q_int64(&q, r->companion_expiry);
    store_q_text(&q, r->status);
    store_q_text(&q, r->replace_reason);
    store_q_int64(&q, r->created_at ? r->created_at : lv_now());
    store_q_int64(&q, r->replaced_at);
    return exec_insert(&q, "a current identity document of this citizen", err);
}

static int iddoc_read(store_q *q, void *out)
{
    lv_iddoc_rec *r = out;
    memset(r, 0, sizeof *r);
    COPY(q, 0, r, id);
    COPY(q, 1, r, citizen_id);
    COPY(q, 2, r, doc_type);
    COPY(q, 3, r, number);
    COPY(q, 4, r, country);
    COPY(q, 5, r, support_number);
    r->expiry = store_q_col_int64(q, 6);
    COPY(q, 7, r, companion_type);
    COPY(q, 8, r, companion_number);
    COPY(q, 9, r, companion_country);
    r->companion_expiry = store_q_col_int64(q, 10);
    COPY(q, 11, r, status);
    COPY(q, 12, r, replace_reason);
    r->created_at = store_q_col_int64(q, 13);
    r->replaced_at = store_q_col_int64(q, 14);
    return 0;
}

int store_iddoc_current(lv_store *st, const char *citizen_id, lv_iddoc_rec *out,
                        lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "SELECT " IDDOC_COLUMNS " FROM identity_documents"
                    " WHERE citizen_id = ? AND status = 'current'",
                    err);
    store_q_text(&q, citizen_id);
    return store_q_get_one(&q, iddoc_read, out,
                           "current identity document of citizen", citizen_id,
                           err);
}

int store_iddoc_retire(lv_store *st, const char *id, const char *reason,
                       int64_t when, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "UPDATE identity_documents SET status = 'replaced',"
                    " replace_reason = ?, replaced_at = ?"
                    " WHERE id = ? AND status = 'current'",
                    err);
    store_q_text(&q, reason);
    store_q_int64(&q, when);
    store_q_text(&q, id);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc < 0)
        return rc;
    if (st->drv->changes(st->db) != 1)
        return lv_fail(err, LV_ESTATE, "identity document %s is not current",
                       id);
    return 0;
}

int store_iddoc_foreach(lv_store *st, const char *citizen_id,
                        int (*fn)(const lv_iddoc_rec *, void *), void *ctx,
                        lv_err *err)
{
    store_q q;
    lv_iddoc_rec row;
    store_q_prepare(&q, st,
                    "SELECT " IDDOC_COLUMNS " FROM identity_documents"
                    " WHERE citizen_id = ? ORDER BY created_at,"
                    " CASE status WHEN 'current' THEN 1 ELSE 0 END, id",
                    err);
    store_q_text(&q, citizen_id);
    EACH_ROW(&q, iddoc_read, &row, fn, ctx);
}

/* ---- registration evidence ---------------------------------------------- */

#define REGISTRATION_COLUMNS                                                   \
    "id, citizen_id, kind, method, actor, evidence_ref, details, "             \
    "created_at, retain_until"

int store_registration_insert(lv_store *st, const lv_registration_rec *r,
                              lv_err *err)
{
    store_q q;
    CHECK(r, id, "registration id");
    CHECK(r, citizen_id, "citizen id");
    CHECK(r, kind, "registration kind");
    CHECK(r, method, "registration method");
    CHECK(r, actor, "actor");
    CHECK(r, evidence_ref, "evidence reference");
    store_q_prepare(&q, st,
                    "INSERT INTO registrations (" REGISTRATION_COLUMNS
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->id);
    store_q_text(&q, r->citizen_id);
    store_q_text(&q, r->kind);
    store_q_text(&q, r->method);
    store_q_text(&q, r->actor);
    store_q_text(&q, r->evidence_ref);
    store_q_text(&q, r->details);
    store_q_int64(&q, r->created_at ? r->created_at : lv_now());
    store_q_int64(&q, r->retain_until);
    return exec_insert(&q, "registration record", err);
}

static int registration_read(store_q *q, void *out)
{
    lv_registration_rec *r = out;
    memset(r, 0, sizeof *r);
    COPY(q, 0, r, id);
    COPY(q, 1, r, citizen_id);
    COPY(q, 2, r, kind);
    COPY(q, 3, r, method);
    COPY(q, 4, r, actor);
    COPY(q, 5, r, evidence_ref);
    r->details = q->st->drv->column_text(q->stmt, 6);
    r->created_at = store_q_col_int64(q, 7);
    r->retain_until = store_q_col_int64(q, 8);
    return 0;
}

int store_registration_foreach(lv_store *st, const char *citizen_id,
                               int (*fn)(const lv_registration_rec *, void *),
                               void *ctx, lv_err *err)
{
    store_q q;
    lv_registration_rec row;
    store_q_prepare(&q, st,
                    "SELECT " REGISTRATION_COLUMNS " FROM registrations"
                    " WHERE citizen_id = ? ORDER BY created_at,"
                    " CASE kind WHEN 'registration' THEN 0 ELSE 1 END, id",
                    err);
    store_q_text(&q, citizen_id);
    EACH_ROW(&q, registration_read, &row, fn, ctx);
}

/* ---- organizations ------------------------------------------------------ */

#define ORG_COLUMNS                                                            \
    "id, org_identifier, nif, country, legal_name, kind, locality, "           \
    "business_category, contact_email, contact_mobile, psd2_nca_name, "        \
    "psd2_nca_id, psd2_roles, psd2_authorization, created_by, created_at"

static int org_check(const lv_org_rec *r, lv_err *err)
{
    CHECK(r, id, "organization id");
    CHECK(r, org_identifier, "organization identifier");
    CHECK(r, nif, "NIF");
    CHECK(r, country, "country");
    CHECK(r, legal_name, "legal name");
    CHECK(r, kind, "kind");
    CHECK(r, locality, "locality");
    CHECK(r, business_category, "business category");
    CHECK(r, contact_email, "contact email");
    CHECK(r, contact_mobile, "contact mobile");
    CHECK(r, psd2_nca_name, "NCA name");
    CHECK(r, psd2_nca_id, "NCA id");
    CHECK(r, psd2_roles, "PSD2 roles");
    CHECK(r, psd2_authorization, "PSD2 authorization");
    CHECK(r, created_by, "creator");
    return 0;
}

int store_org_insert(lv_store *st, const lv_org_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(org_check(r, err));
    store_q_prepare(&q, st,
                    "INSERT INTO organizations (" ORG_COLUMNS ") VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->id);
    store_q_text(&q, r->org_identifier);
    store_q_text(&q, r->nif);
    store_q_text(&q, r->country);
    store_q_text(&q, r->legal_name);
    store_q_text(&q, r->kind);
    store_q_text(&q, r->locality);
    store_q_text(&q, r->business_category);
    store_q_text(&q, r->contact_email);
    store_q_text(&q, r->contact_mobile);
    store_q_text(&q, r->psd2_nca_name);
    store_q_text(&q, r->psd2_nca_id);
    store_q_text(&q, r->psd2_roles);
    store_q_text(&q, r->psd2_authorization);
    store_q_text(&q, r->created_by);
    store_q_int64(&q, r->created_at ? r->created_at : lv_now());
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, LV_EEXISTS, "organization %s is already registered",
                       r->org_identifier);
    return rc < 0 ? rc : 0;
}

static int org_read(store_q *q, void *out)
{
    lv_org_rec *r = out;
    memset(r, 0, sizeof *r);
    COPY(q, 0, r, id);
    COPY(q, 1, r, org_identifier);
    COPY(q, 2, r, nif);
    COPY(q, 3, r, country);
    COPY(q, 4, r, legal_name);
    COPY(q, 5, r, kind);
    COPY(q, 6, r, locality);
    COPY(q, 7, r, business_category);
    COPY(q, 8, r, contact_email);
    COPY(q, 9, r, contact_mobile);
    COPY(q, 10, r, psd2_nca_name);
    COPY(q, 11, r, psd2_nca_id);
    COPY(q, 12, r, psd2_roles);
    COPY(q, 13, r, psd2_authorization);
    COPY(q, 14, r, created_by);
    r->created_at = store_q_col_int64(q, 15);
    return 0;
}

static int org_get_by(lv_store *st, const char *column, const char *key,
                      lv_org_rec *out, lv_err *err)
{
    store_q q;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT " ORG_COLUMNS " FROM organizations WHERE %s = ?", column);
    store_q_prepare(&q, st, sql, err);
    store_q_text(&q, key);
    return store_q_get_one(&q, org_read, out, "organization", key, err);
}

int store_org_get(lv_store *st, const char *id, lv_org_rec *out, lv_err *err)
{
    return org_get_by(st, "id", id, out, err);
}

/* A PSD2 organization's certificates name it PSD<NCA id>-<authorization>
 * (ETSI TS 119 495 §5.2.1) instead of its VAT identifier. */
#define ORG_MATCHES_IDENTIFIER                                                 \
    "(o.org_identifier = ? OR (o.psd2_nca_id <> '' AND"                        \
    " 'PSD' || o.psd2_nca_id || '-' || o.psd2_authorization = ?))"

int store_org_by_identifier(lv_store *st, const char *org_identifier,
                            lv_org_rec *out, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "SELECT " ORG_COLUMNS
                    " FROM organizations o WHERE " ORG_MATCHES_IDENTIFIER,
                    err);
    store_q_text(&q, org_identifier);
    store_q_text(&q, org_identifier);
    return store_q_get_one(&q, org_read, out, "organization", org_identifier,
                           err);
}

/* ---- representatives and linked persons -------------------------------- */

#define PERSON_COLUMNS                                                         \
    "id, org_id, role, person_id, given_name, surname, id_type, id_number, "   \
    "id_country, document_expiry, email, unit, title, powers_scope, "          \
    "powers_from, powers_until, powers_document, created_by, created_at"

static int person_check(const lv_org_person_rec *r, lv_err *err)
{
    CHECK(r, id, "person id");
    CHECK(r, org_id, "organization id");
    CHECK(r, role, "role");
    CHECK(r, person_id, "person identifier");
    CHECK(r, given_name, "given name");
    CHECK(r, surname, "surname");
    CHECK(r, id_type, "id type");
    CHECK(r, id_number, "id number");
    CHECK(r, id_country, "id country");
    CHECK(r, email, "email");
    CHECK(r, unit, "unit");
    CHECK(r, title, "title");
    CHECK(r, powers_scope, "powers scope");
    CHECK(r, powers_document, "powers document");
    CHECK(r, created_by, "creator");
    return 0;
}

int store_org_person_insert(lv_store *st, const lv_org_person_rec *r,
                            lv_err *err)
{
    store_q q;
    LV_TRY(person_check(r, err));
    store_q_prepare(&q, st,
                    "INSERT INTO org_persons (" PERSON_COLUMNS ") VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    " ?)",
                    err);
    store_q_text(&q, r->id);
    store_q_text(&q, r->org_id);
    store_q_text(&q, r->role);
    store_q_text(&q, r->person_id);
    store_q_text(&q, r->given_name);
    store_q_text(&q, r->surname);
    store_q_text(&q, r->id_type);
    store_q_text(&q, r->id_number);
    store_q_text(&q, r->id_country);
    store_q_int64(&q, r->document_expiry);
    store_q_text(&q, r->email);
    store_q_text(&q, r->unit);
    store_q_text(&q, r->title);
    store_q_text(&q, r->powers_scope);
    store_q_int64(&q, r->powers_from);
    store_q_int64(&q, r->powers_until);
    store_q_text(&q, r->powers_document);
    store_q_text(&q, r->created_by);
    store_q_int64(&q, r->created_at ? r->created_at : lv_now());
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, LV_EEXISTS,
                       "%s is already a %s of this organization", r->person_id,
                       r->role);
    if (rc == LV_EINVAL)
        return lv_fail(err, LV_EINVAL, "no organization %s", r->org_id);
    return rc < 0 ? rc : 0;
}

static int person_read(store_q *q, void *out)
{
    lv_org_person_rec *r = out;
    memset(r, 0, sizeof *r);
    COPY(q, 0, r, id);
    COPY(q, 1, r, org_id);
    COPY(q, 2, r, role);
    COPY(q, 3, r, person_id);
    COPY(q, 4, r, given_name);
    COPY(q, 5, r, surname);
    COPY(q, 6, r, id_type);
    COPY(q, 7, r, id_number);
    COPY(q, 8, r, id_country);
    r->document_expiry = store_q_col_int64(q, 9);
    COPY(q, 10, r, email);
    COPY(q, 11, r, unit);
    COPY(q, 12, r, title);
    COPY(q, 13, r, powers_scope);
    r->powers_from = store_q_col_int64(q, 14);
    r->powers_until = store_q_col_int64(q, 15);
    COPY(q, 16, r, powers_document);
    COPY(q, 17, r, created_by);
    r->created_at = store_q_col_int64(q, 18);
    return 0;
}

int store_org_person_get(lv_store *st, const char *id, lv_org_person_rec *out,
                         lv_err *err)
{
    store_q q;
    store_q_prepare(
        &q, st, "SELECT " PERSON_COLUMNS " FROM org_persons WHERE id = ?", err);
    store_q_text(&q, id);
    return store_q_get_one(&q, person_read, out,
                           "representative or linked person", id, err);
}

int store_org_person_foreach(lv_store *st, const char *org_id,
                             int (*fn)(const lv_org_person_rec *, void *),
                             void *ctx, lv_err *err)
{
    store_q q;
    lv_org_person_rec row;
    store_q_prepare(&q, st,
                    "SELECT " PERSON_COLUMNS " FROM org_persons"
                    " WHERE org_id = ? ORDER BY created_at, id",
                    err);
    store_q_text(&q, org_id);
    EACH_ROW(&q, person_read, &row, fn, ctx);
}

int store_org_representative_count(lv_store *st, const char *org_identifier,
                                   const char *person_id, int64_t now,
                                   int *count, lv_err *err)
{
    store_q q;
    *count = 0;
    store_q_prepare(&q, st,
                    "SELECT COUNT(*) FROM org_persons p JOIN organizations o"
                    " ON o.id = p.org_id WHERE " ORG_MATCHES_IDENTIFIER
                    " AND p.person_id = ? AND p.role = 'representative'"
                    " AND p.powers_from <= ? AND p.powers_until > ?",
                    err);
    store_q_text(&q, org_identifier);
    store_q_text(&q, org_identifier);
    store_q_text(&q, person_id);
    store_q_int64(&q, now);
    store_q_int64(&q, now);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW)
        *count = (int)store_q_col_int64(&q, 0);
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

/* ---- certificate requests ----------------------------------------------- */

#define REQUEST_COLUMNS                                                        \
    "id, org_id, profile, person_ref, subject, csr, status, created_by, "      \
    "created_at, decided_by, decided_at, reason, cert_serial"

int store_cert_request_insert(lv_store *st, const lv_cert_request_rec *r,
                              lv_err *err)
{
    store_q q;
    CHECK(r, id, "request id");
    CHECK(r, org_id, "organization id");
    CHECK(r, profile, "profile");
    CHECK(r, person_ref, "person reference");
    CHECK(r, status, "status");
    CHECK(r, created_by, "creator");
    if (r->subject == NULL)
        return lv_fail(err, LV_EINVAL, "a request needs a subject");
    store_q_prepare(&q, st,
                    "INSERT INTO cert_requests (" REQUEST_COLUMNS ") VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, '', '')",
                    err);
    store_q_text(&q, r->id);
    store_q_text(&q, r->org_id);
    store_q_text(&q, r->profile);
    store_q_text(&q, r->person_ref);
    store_q_text(&q, r->subject);
    store_q_text(&q, r->csr ? r->csr : "");
    store_q_text(&q, r->status);
    store_q_text(&q, r->created_by);
    store_q_int64(&q, r->created_at ? r->created_at : lv_now());
    return exec_insert(&q, "certificate request", err);
}

static char *dup_text(store_q *q, int col)
{
    const char *v = store_q_col_text(q, col);
    return v[0] ? strdup(v) : NULL;
}

static int request_read(store_q *q, void *out)
{
    lv_cert_request_rec *r = out;
    store_cert_request_rec_free(r);
    memset(r, 0, sizeof *r);
    COPY(q, 0, r, id);
    COPY(q, 1, r, org_id);
    COPY(q, 2, r, profile);
    COPY(q, 3, r, person_ref);
    r->subject = dup_text(q, 4);
    r->csr = dup_text(q, 5);
    if (r->subject == NULL)
        return lv_fail(q->err, LV_ESTORE, "request %s has no subject", r->id);
    COPY(q, 6, r, status);
    COPY(q, 7, r, created_by);
    r->created_at = store_q_col_int64(q, 8);
    COPY(q, 9, r, decided_by);
    r->decided_at = store_q_col_int64(q, 10);
    COPY(q, 11, r, reason);
    COPY(q, 12, r, cert_serial);
    return 0;
}

int store_cert_request_get(lv_store *st, const char *id,
                           lv_cert_request_rec *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(
        &q, st, "SELECT " REQUEST_COLUMNS " FROM cert_requests WHERE id = ?",
        err);
    store_q_text(&q, id);
    int rc =
        store_q_get_one(&q, request_read, out, "certificate request", id, err);
    if (rc < 0)
        store_cert_request_rec_free(out);
    return rc;
}

int store_cert_request_decide(lv_store *st, const char *id, const char *status,
                              const char *decided_by, const char *reason,
                              const char *cert_serial, int64_t when,
                              lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "UPDATE cert_requests SET status = ?, decided_by = ?,"
                    " reason = ?, cert_serial = ?, decided_at = ?"
                    " WHERE id = ? AND status = 'pending'",
                    err);
    store_q_text(&q, status);
    store_q_text(&q, decided_by);
    store_q_text(&q, reason ? reason : "");
    store_q_text(&q, cert_serial ? cert_serial : "");
    store_q_int64(&q, when);
    store_q_text(&q, id);
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc < 0)
        return rc;
    if (st->drv->changes(st->db) != 1)
        return lv_fail(err, LV_ESTATE, "request %s is no longer pending", id);
    return 0;
}

int store_cert_request_foreach(lv_store *st, const char *status,
                               int (*fn)(const lv_cert_request_rec *, void *),
                               void *ctx, lv_err *err)
{
    store_q q;
    lv_cert_request_rec row;
    memset(&row, 0, sizeof row);
    store_q_prepare(&q, st,
                    "SELECT " REQUEST_COLUMNS " FROM cert_requests"
                    " WHERE (? = '' OR status = ?) ORDER BY created_at, id",
                    err);
    store_q_text(&q, status ? status : "");
    store_q_text(&q, status ? status : "");
    int rc;
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        if ((rc = request_read(&q, &row)) < 0 || (rc = fn(&row, ctx)) < 0)
            break;
    }
    store_q_finalize(&q);
    store_cert_request_rec_free(&row);
    return rc < 0 ? rc : 0;
}

void store_cert_request_rec_free(lv_cert_request_rec *rec)
{
    if (rec == NULL)
        return;
    free(rec->subject);
    free(rec->csr);
    rec->subject = NULL;
    rec->csr = NULL;
}

/* ---- revocation requests ------------------------------------------------- */

int store_revocation_request_insert(lv_store *st,
                                    const lv_revocation_request_rec *r,
                                    lv_err *err)
{
    store_q q;
    CHECK(r, id, "request id");
    CHECK(r, serial, "serial");
    CHECK(r, subscriber_id, "subscriber id");
    CHECK(r, comment, "comment");
    CHECK(r, requester, "requester");
    CHECK(r, capacity, "capacity");
    CHECK(r, contact, "contact");
    store_q_prepare(&q, st,
                    "INSERT INTO revocation_requests (id, serial,"
                    " subscriber_id, reason, comment, requester, capacity,"
                    " contact, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->id);
    store_q_text(&q, r->serial);
    store_q_text(&q, r->subscriber_id);
    store_q_int64(&q, r->reason);
    store_q_text(&q, r->comment);
    store_q_text(&q, r->requester);
    store_q_text(&q, r->capacity);
    store_q_text(&q, r->contact);
    store_q_int64(&q, r->created_at ? r->created_at : lv_now());
    return exec_insert(&q, "revocation request", err);
}

/* ---- certificates of a party --------------------------------------------- */

static int party_cert_read(store_q *q, void *out)
{
    lv_cert_rec *r = out;
    memset(r, 0, sizeof *r);
    COPY(q, 0, r, serial);
    COPY(q, 1, r, ca);
    COPY(q, 2, r, profile);
    COPY(q, 3, r, subject_id);
    COPY(q, 4, r, subscriber_id);
    COPY(q, 5, r, subject_dn);
    COPY(q, 6, r, key_id);
    r->not_before = store_q_col_int64(q, 7);
    r->not_after = store_q_col_int64(q, 8);
    r->created_at = store_q_col_int64(q, 9);
    r->status = (int)store_q_col_int64(q, 10);
    r->revoked_at = store_q_col_int64(q, 11);
    r->revocation_reason = (int)store_q_col_int64(q, 12);
    r->test = (int)store_q_col_int64(q, 13);
    return 0;
}

int store_cert_foreach_party(lv_store *st, const char *party,
                             int (*fn)(const lv_cert_rec *, void *), void *ctx,
                             lv_err *err)
{
    store_q q;
    lv_cert_rec row;
    store_q_prepare(&q, st,
                    "SELECT serial, ca, profile, subject_id, subscriber_id,"
                    " subject_dn, key_id, not_before, not_after, created_at,"
                    " status, revoked_at, revocation_reason, test FROM certs"
                    " WHERE subject_id = ? OR subscriber_id = ?"
                    " ORDER BY created_at DESC, serial",
                    err);
    store_q_text(&q, party);
    store_q_text(&q, party);
    EACH_ROW(&q, party_cert_read, &row, fn, ctx);
}
