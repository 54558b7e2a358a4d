/* Registration authority records (sql/006_ra.sql): citizens, identity
 * documents, registration evidence, organizations and their people,
 * certificate requests and revocation requests.  The rules are ra/'s; this
 * file only reads and writes rows. */
#include "store/store_rows.h"

/* Inserts a row and maps the driver's LV_EEXISTS / LV_EINVAL (unique /
 * foreign key, once the record is checked) to messages naming what. */
static int insert_named(lv_store *st, const store_row *t, const void *rec,
                        const char *what, lv_err *err)
{
    LV_TRY(store_row_check(t, rec, err));
    int rc = store_row_insert(st, t, rec, err);
    rc = store_explain(rc, LV_EEXISTS, err, "%s already exists", what);
    return store_explain(rc, LV_EINVAL, err,
                         "%s refers to a record that does not exist", what);
}

/* ---- citizens ------------------------------------------------------------ */

/* created_at 0 is now; updated_at 0 is created_at. */
int store_citizen_insert(lv_store *st, const lv_citizen_rec *rec, lv_err *err)
{
    lv_citizen_rec r = *rec;
    r.created_at = r.created_at ? r.created_at : lv_now();
    r.updated_at = r.updated_at ? r.updated_at : r.created_at;
    return store_row_add(st, &store_row_citizen, &r, err,
                         "a citizen with identifier %s is already registered",
                         r.person_id);
}

STORE_GET(citizen, lv_citizen_rec, &store_row_citizen, id, "no citizen %s", id)

int store_citizen_by_person(lv_store *st, const char *person_id,
                            lv_citizen_rec *out, lv_err *err)
{
    return store_row_find(st, &store_row_citizen,
                          "SELECT " CITIZEN_COLUMNS
                          " FROM citizens WHERE person_id = ?",
                          person_id, out, err, "no citizen %s", person_id);
}

/* ---- identity documents ------------------------------------------------- */

int store_iddoc_insert(lv_store *st, const lv_iddoc_rec *r, lv_err *err)
{
    return insert_named(st, &store_row_iddoc, r,
                        "a current identity document of this citizen", err);
}

int store_iddoc_current(lv_store *st, const char *citizen_id, lv_iddoc_rec *out,
                        lv_err *err)
{
    return store_row_find(st, &store_row_iddoc,
                          "SELECT " IDDOC_COLUMNS " FROM identity_documents"
                          " WHERE citizen_id = ? AND status = 'current'",
                          citizen_id, out, err,
                          "no current identity document of citizen %s",
                          citizen_id);
}

int store_iddoc_retire(lv_store *st, const char *id, const char *reason,
                       int64_t when, lv_err *err)
{
    int64_t n = 0;
    LV_TRY(STORE_RUN(st, &n, err,
                     "UPDATE identity_documents SET status = 'replaced',"
                     " replace_reason = ?, replaced_at = ?"
                     " WHERE id = ? AND status = 'current'",
                     SQ_TEXT(reason), SQ_INT(when), SQ_TEXT(id)));
    return store_one(n, err, LV_ESTATE, "identity document %s is not current",
                     id);
}

STORE_FOREACH(iddoc_foreach, lv_iddoc_rec, &store_row_iddoc, citizen_id,
              "SELECT " IDDOC_COLUMNS " FROM identity_documents"
              " WHERE citizen_id = ? ORDER BY created_at,"
              " CASE status WHEN 'current' THEN 1 ELSE 0 END, id",
              SQ_TEXT(citizen_id))

/* ---- registration evidence ---------------------------------------------- */

int store_registration_insert(lv_store *st, const lv_registration_rec *r,
                              lv_err *err)
{
    return insert_named(st, &store_row_registration, r, "registration record",
                        err);
}

STORE_FOREACH(registration_foreach, lv_registration_rec,
              &store_row_registration, citizen_id,
              "SELECT " REGISTRATION_COLUMNS " FROM registrations"
              " WHERE citizen_id = ? ORDER BY created_at,"
              " CASE kind WHEN 'registration' THEN 0 ELSE 1 END, id",
              SQ_TEXT(citizen_id))

/* ---- organizations ------------------------------------------------------ */

STORE_ADD(org, lv_org_rec, &store_row_org, r,
          "organization %s is already registered", r->org_identifier)
STORE_GET(org, lv_org_rec, &store_row_org, id, "no organization %s", id)

/* A PSD2 organization's certificates name it PSD<NCA id>-<authorization>
 * (ETSI TS 119 495 §5.2.1) instead of its VAT identifier. */
#define ORG_MATCHES_IDENTIFIER                                                 \
    "(o.org_identifier = ? OR (o.psd2_nca_id <> '' AND"                        \
    " 'PSD' || o.psd2_nca_id || '-' || o.psd2_authorization = ?))"

int store_org_by_identifier(lv_store *st, const char *org_identifier,
                            lv_org_rec *out, lv_err *err)
{
    store_q q;
    STORE_Q(&q, st, err,
            "SELECT " ORG_COLUMNS
            " FROM organizations o WHERE " ORG_MATCHES_IDENTIFIER,
            SQ_TEXT(org_identifier), SQ_TEXT(org_identifier));
    return store_row_got(&q, &store_row_org, out, err, "no organization %s",
                         org_identifier);
}

/* ---- representatives and linked persons -------------------------------- */

int store_org_person_insert(lv_store *st, const lv_org_person_rec *r,
                            lv_err *err)
{
    LV_TRY(store_row_check(&store_row_person, r, err));
    int rc = store_row_insert(st, &store_row_person, r, err);
    rc = store_explain(rc, LV_EEXISTS, err,
                       "%s is already a %s of this organization", r->person_id,
                       r->role);
    return store_explain(rc, LV_EINVAL, err, "no organization %s", r->org_id);
}

STORE_GET(org_person, lv_org_person_rec, &store_row_person, id,
          "no representative or linked person %s", id)

STORE_FOREACH(org_person_foreach, lv_org_person_rec, &store_row_person, org_id,
              "SELECT " PERSON_COLUMNS " FROM org_persons"
              " WHERE org_id = ? ORDER BY created_at, id",
              SQ_TEXT(org_id))

int store_org_representative_count(lv_store *st, const char *org_identifier,
                                   const char *person_id, int64_t now,
                                   int *count, lv_err *err)
{
    return STORE_COUNT(st, count, err,
                       "SELECT COUNT(*) FROM org_persons p JOIN organizations o"
                       " ON o.id = p.org_id WHERE " ORG_MATCHES_IDENTIFIER
                       " AND p.person_id = ? AND p.role = 'representative'"
                       " AND p.powers_from <= ? AND p.powers_until > ?",
                       SQ_TEXT(org_identifier), SQ_TEXT(org_identifier),
                       SQ_TEXT(person_id), SQ_INT(now), SQ_INT(now));
}

/* ---- certificate requests ----------------------------------------------- */

int store_cert_request_insert(lv_store *st, const lv_cert_request_rec *r,
                              lv_err *err)
{
    if (r->subject == NULL)
        return lv_fail(err, LV_EINVAL, "a request needs a subject");
    return insert_named(st, &store_row_request, r, "certificate request", err);
}

/* A stored request always has a subject. */
static int request_check(lv_cert_request_rec *r, lv_err *err)
{
    if (r->subject != NULL)
        return 0;
    store_cert_request_rec_free(r);
    return lv_fail(err, LV_ESTORE, "request %s has no subject", r->id);
}

int store_cert_request_get(lv_store *st, const char *id,
                           lv_cert_request_rec *out, lv_err *err)
{
    LV_TRY(store_row_by_key(st, &store_row_request, id, out, err,
                            "no certificate request %s", id));
    return request_check(out, err);
}

int store_cert_request_decide(lv_store *st, const char *id, const char *status,
                              const char *decided_by, const char *reason,
                              const char *cert_serial, int64_t when,
                              lv_err *err)
{
    int64_t n = 0;
    LV_TRY(STORE_RUN(
        st, &n, err,
        "UPDATE cert_requests SET status = ?, decided_by = ?,"
        " reason = ?, cert_serial = ?, decided_at = ?"
        " WHERE id = ? AND status = 'pending'",
        SQ_TEXT(status), SQ_TEXT(decided_by), SQ_TEXT(reason ? reason : ""),
        SQ_TEXT(cert_serial ? cert_serial : ""), SQ_INT(when), SQ_TEXT(id)));
    return store_one(n, err, LV_ESTATE, "request %s is no longer pending", id);
}

static int request_each(lv_cert_request_rec *row, store_q *q,
                        STORE_VISIT(lv_cert_request_rec))
{
    int rc = store_row_read(q, &store_row_request, row);
    if (rc == 0)
        rc = request_check(row, q->err);
    if (rc == 0)
        rc = fn(row, ctx);
    store_cert_request_rec_free(row);
    return rc;
}

int store_cert_request_foreach(lv_store *st, const char *status,
                               STORE_VISIT(lv_cert_request_rec), lv_err *err)
{
    store_q q;
    lv_cert_request_rec row;
    int rc;
    STORE_Q(&q, st, err,
            "SELECT " REQUEST_COLUMNS " FROM cert_requests"
            " WHERE (? = '' OR status = ?) ORDER BY created_at, id",
            SQ_TEXT(status ? status : ""), SQ_TEXT(status ? status : ""));
    while ((rc = store_q_step(&q)) == LV_DB_ROW)
        if ((rc = request_each(&row, &q, fn, ctx)) < 0)
            break;
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

void store_cert_request_rec_free(lv_cert_request_rec *rec)
{
    store_row_free(&store_row_request, rec);
}

/* ---- revocation requests ------------------------------------------------- */

int store_revocation_request_insert(lv_store *st,
                                    const lv_revocation_request_rec *r,
                                    lv_err *err)
{
    return insert_named(st, &store_row_revreq, r, "revocation request", err);
}

/* ---- certificates of a party --------------------------------------------- */

STORE_FOREACH(cert_foreach_party, lv_cert_rec, &store_row_cert_listed, party,
              "SELECT " CERT_LISTED " FROM certs"
              " WHERE subject_id = ? OR subscriber_id = ?"
              " ORDER BY created_at DESC, serial",
              SQ_TEXT(party), SQ_TEXT(party))
