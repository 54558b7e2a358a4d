/* The column table of every record type (store_rows.h), in the order of its
 * column list.  COL is a column named like its field, AS one stored under
 * another name, LEN a blob or byte field with its length field; NEED and
 * NEED_LEN are COL and LEN that a write must fill in (store_row_check: the
 * table's `incomplete` message). */
#include "store/store_rows.h"

#include <stddef.h>

#define COLUMN(name, f, k, len_off, need)                                      \
    {                                                                          \
        name, STORE_##k, offsetof(R, f), sizeof(((R *)0)->f), len_off, need    \
    }
#define COL(f, k) COLUMN(#f, f, k, 0, 0)
#define AS(name, f, k) COLUMN(name, f, k, 0, 0)
#define LEN(f, len, k) COLUMN(#f, f, k, offsetof(R, len), 0)
#define NEED(f, k) COLUMN(#f, f, k, 0, 1)
#define NEED_LEN(f, len, k) COLUMN(#f, f, k, offsetof(R, len), 1)
#define N(c) (sizeof(c) / sizeof((c)[0]))
#define INSERT(table, names, marks)                                            \
    "INSERT INTO " table " (" names ") VALUES (" marks ")"
/* SELECT of the one row whose key column is ? (store_row_by_key): the
 * getters of the domain files name only the key. */
#define SELECT_BY(names, table, key)                                           \
    "SELECT " names " FROM " table " WHERE " key " = ?"
/* Columns only read (or only checked). */
#define VIEW(c, names)                                                         \
    {                                                                          \
        .cols = (c), .n = N(c), .size = sizeof(R), .columns = (names)          \
    }
/* The first n columns of a table, only read (listings without a body). */
#define FIRST(c, first, names)                                                 \
    {                                                                          \
        .cols = (c), .n = (first), .size = sizeof(R), .columns = (names)       \
    }
/* A table every column of which an INSERT writes, with its placeholders. */
#define TABLE(c, names, table, marks)                                          \
    {                                                                          \
        .cols = (c), .n = N(c), .size = sizeof(R), .columns = (names),         \
        .insert = INSERT(table, names, marks), .writes = N(c)                  \
    }
/* The same two with the SELECT by key, and any further fields. */
#define KEYED_VIEW(c, names, table, key, ...)                                  \
    {                                                                          \
        .cols = (c), .n = N(c), .size = sizeof(R), .columns = (names),         \
        .by_key = SELECT_BY(names, table, key), __VA_ARGS__                    \
    }
/* A table keyed by its first two columns, k1 and k2 (store_pair_*). */
#define PAIR_TABLE(c, names, table, k1, k2, marks)                             \
    {                                                                          \
        .cols = (c), .n = N(c), .size = sizeof(R), .columns = (names),         \
        .insert = INSERT(table, names, marks), .writes = N(c),                 \
        .by_key =                                                              \
            "SELECT " names " FROM " table " WHERE " k1 " = ? AND " k2 " = ?", \
        .drop = "DELETE FROM " table " WHERE " k1 " = ? AND " k2 " = ?"        \
    }
#define KEYED_TABLE(c, names, table, key, marks, ...)                          \
    {                                                                          \
        .cols = (c), .n = N(c), .size = sizeof(R), .columns = (names),         \
        .insert = INSERT(table, names, marks), .writes = N(c),                 \
        .by_key = SELECT_BY(names, table, key), __VA_ARGS__                    \
    }

/* ---- CAs, certificates, audit, OCSP, CRLs ---------------------------------
 */

#define R lv_ca_rec
static const store_col CA[] = {NEED(name, TEXT),
                               COL(role, TEXT),
                               COL(issuer, TEXT),
                               COL(key_id, TEXT),
                               COL(serial, TEXT),
                               COL(status, TEXT),
                               COL(not_before, I64),
                               COL(not_after, I64),
                               NEED_LEN(cert_der, cert_len, BLOB)};
/* store_ca_insert adds seq and created_at itself. */
const store_row store_row_ca =
    KEYED_VIEW(CA, CA_COLUMNS, "cas", "name",
               .incomplete = "CA record needs a name and a cert");
#undef R

#define R lv_cert_rec
static const store_col CERT[] = {NEED(serial, TEXT),
                                 COL(ca, TEXT),
                                 COL(profile, TEXT),
                                 COL(subject_id, TEXT),
                                 COL(subscriber_id, TEXT),
                                 COL(subject_dn, TEXT),
                                 COL(key_id, TEXT),
                                 COL(not_before, I64),
                                 COL(not_after, I64),
                                 COL(created_at, CREATED),
                                 COL(status, INT),
                                 COL(revoked_at, I64),
                                 COL(revocation_reason, INT),
                                 COL(test, FLAG),
                                 NEED_LEN(der, der_len, BLOB)};
const store_row store_row_cert = KEYED_TABLE(
    CERT, CERT_COLUMNS, "certs", "serial",
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?",
    .incomplete = "certificate record needs a serial and a DER body");
/* Every column but the DER (listings). */
const store_row store_row_cert_listed = FIRST(CERT, 14, CERT_LISTED);
static const store_col CA_CERT[] = {
    COL(serial, TEXT),           AS("issuer", ca, TEXT), COL(revoked_at, I64),
    COL(revocation_reason, INT), COL(not_before, I64),   COL(not_after, I64)};
const store_row store_row_ca_cert = VIEW(CA_CERT, CA_CERT_COLUMNS);
static const store_col PUBLISHED[] = {
    COL(serial, TEXT),     COL(ca, TEXT),        COL(profile, TEXT),
    COL(subject_dn, TEXT), COL(not_before, I64), COL(not_after, I64),
    COL(status, INT),      COL(revoked_at, I64), COL(revocation_reason, INT)};
const store_row store_row_published = VIEW(PUBLISHED, PUBLISHED_COLUMNS);
#undef R

#define R lv_audit_row
static const store_col AUDIT[] = {
    COL(seq, I64),     COL(time, TEXT),      COL(actor, TEXT),
    COL(event, TEXT),  COL(object, TEXT),    COL(result, TEXT),
    COL(details, STR), COL(prev_hash, TEXT), COL(hash, TEXT)};
const store_row store_row_audit =
    TABLE(AUDIT, AUDIT_COLUMNS, "audit_log", "?, ?, ?, ?, ?, ?, ?, ?, ?");
#undef R

#define R lv_audit_seal_rec
static const store_col SEAL[] = {COL(id, I64),
                                 COL(seq, I64),
                                 COL(hash, TEXT),
                                 COL(sealed_at, I64),
                                 COL(signer, TEXT),
                                 LEN(signature, signature_len, BLOB),
                                 LEN(tst, tst_len, BLOB),
                                 COL(actor, TEXT)};
const store_row store_row_seal =
    TABLE(SEAL, SEAL_COLUMNS, "audit_seals", "?, ?, ?, ?, ?, ?, ?, ?");
#undef R

#define R lv_ocsp_rec
static const store_col OCSP[] = {
    COL(serial, TEXT),     COL(hash_alg, TEXT),
    COL(ca, TEXT),         LEN(cert_id, cert_id_len, BLOB),
    COL(cert_status, INT), COL(this_update, I64),
    COL(next_update, I64), LEN(response, response_len, BLOB)};
const store_row store_row_ocsp =
    TABLE(OCSP, OCSP_COLUMNS, "ocsp_responses", "?, ?, ?, ?, ?, ?, ?, ?");
#undef R

#define R lv_revocation
static const store_col REVOCATION[] = {COL(serial, TEXT), COL(requester, TEXT),
                                       COL(authority, TEXT)};
/* Checked only: store_cert_revoke's UPDATE names its columns. */
const store_row store_row_revocation =
    VIEW(REVOCATION, "serial, requester, authority");
#undef R

#define R lv_cert_status
static const store_col CERT_STATUS[] = {
    COL(serial, TEXT), AS("revocation_requester", requester, TEXT),
    AS("revocation_authority", authority, TEXT), COL(invalidity_date, I64),
    COL(publish_consent_at, I64)};
const store_row store_row_cert_status =
    KEYED_VIEW(CERT_STATUS, CERT_STATUS_COLUMNS, "certs", "serial");
#undef R

#define R lv_ca_status
static const store_col CA_STATUS[] = {COL(status, TEXT), COL(revoked_at, I64),
                                      COL(revocation_reason, INT),
                                      AS("status_revision", revision, I64)};
const store_row store_row_ca_status =
    KEYED_VIEW(CA_STATUS, CA_STATUS_COLUMNS, "cas", "name");
#undef R

#define R lv_crl_entry
static const store_col CRL_ENTRY[] = {COL(serial, TEXT), COL(revoked_at, I64),
                                      AS("revocation_reason", reason, INT),
                                      COL(invalidity_date, I64)};
const store_row store_row_crl_entry = VIEW(CRL_ENTRY, CRL_ENTRY_COLUMNS);
#undef R

#define R lv_crl_rec
static const store_col CRL[] = {
    COL(ca, TEXT),          AS("crl_number", number, I64),
    COL(this_update, I64),  COL(next_update, I64),
    COL(revision, I64),     COL(entries, I64),
    LEN(der, der_len, BLOB)};
/* store_crl_insert adds created_at itself; crl_meta leaves the DER. */
const store_row store_row_crl = VIEW(CRL, CRL_COLUMNS);
const store_row store_row_crl_meta = FIRST(CRL, 6, CRL_META);
#undef R

#define R lv_archive_item
static const store_col ARCHIVE[] = {
    COL(kind, TEXT),       COL(ref, TEXT),         COL(sha256, TEXT),
    COL(archived_at, I64), COL(retain_until, I64), COL(batch, I64)};
const store_row store_row_archive =
    TABLE(ARCHIVE, ARCHIVE_COLUMNS, "archive_items", "?, ?, ?, ?, ?, ?");
#undef R

/* ---- registration authority ---------------------------------------------- */

#define R lv_citizen_rec
static const store_col CITIZEN[] = {
    COL(id, TEXT),         COL(person_id, TEXT), COL(level, TEXT),
    COL(given_name, TEXT), COL(surname, TEXT),   COL(country, TEXT),
    COL(birth_date, TEXT), COL(mobile, TEXT),    COL(email, TEXT),
    COL(created_at, I64),  COL(updated_at, I64)};
const store_row store_row_citizen =
    KEYED_TABLE(CITIZEN, CITIZEN_COLUMNS, "citizens", "id",
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
#undef R

#define R lv_iddoc_rec
static const store_col IDDOC[] = {COL(id, TEXT),
                                  COL(citizen_id, TEXT),
                                  COL(doc_type, TEXT),
                                  COL(number, TEXT),
                                  COL(country, TEXT),
                                  COL(support_number, TEXT),
                                  COL(expiry, I64),
                                  COL(companion_type, TEXT),
                                  COL(companion_number, TEXT),
                                  COL(companion_country, TEXT),
                                  COL(companion_expiry, I64),
                                  COL(status, TEXT),
                                  COL(replace_reason, TEXT),
                                  COL(created_at, CREATED),
                                  COL(replaced_at, I64)};
const store_row store_row_iddoc =
    TABLE(IDDOC, IDDOC_COLUMNS, "identity_documents",
          "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
#undef R

#define R lv_registration_rec
static const store_col REGISTRATION[] = {
    COL(id, TEXT),         COL(citizen_id, TEXT),    COL(kind, TEXT),
    COL(method, TEXT),     COL(actor, TEXT),         COL(evidence_ref, TEXT),
    COL(details, STR_REF), COL(created_at, CREATED), COL(retain_until, I64)};
const store_row store_row_registration =
    TABLE(REGISTRATION, REGISTRATION_COLUMNS, "registrations",
          "?, ?, ?, ?, ?, ?, ?, ?, ?");
#undef R

#define R lv_org_rec
static const store_col ORG[] = {COL(id, TEXT),
                                COL(org_identifier, TEXT),
                                COL(nif, TEXT),
                                COL(country, TEXT),
                                COL(legal_name, TEXT),
                                COL(kind, TEXT),
                                COL(locality, TEXT),
                                COL(business_category, TEXT),
                                COL(contact_email, TEXT),
                                COL(contact_mobile, TEXT),
                                COL(psd2_nca_name, TEXT),
                                COL(psd2_nca_id, TEXT),
                                COL(psd2_roles, TEXT),
                                COL(psd2_authorization, TEXT),
                                COL(created_by, TEXT),
                                COL(created_at, CREATED)};
const store_row store_row_org =
    KEYED_TABLE(ORG, ORG_COLUMNS, "organizations", "id",
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
#undef R

#define R lv_org_person_rec
static const store_col PERSON[] = {COL(id, TEXT),
                                   COL(org_id, TEXT),
                                   COL(role, TEXT),
                                   COL(person_id, TEXT),
                                   COL(given_name, TEXT),
                                   COL(surname, TEXT),
                                   COL(id_type, TEXT),
                                   COL(id_number, TEXT),
                                   COL(id_country, TEXT),
                                   COL(document_expiry, I64),
                                   COL(email, TEXT),
                                   COL(unit, TEXT),
                                   COL(title, TEXT),
                                   COL(powers_scope, TEXT),
                                   COL(powers_from, I64),
                                   COL(powers_until, I64),
                                   COL(powers_document, TEXT),
                                   COL(created_by, TEXT),
                                   COL(created_at, CREATED)};
const store_row store_row_person =
    KEYED_TABLE(PERSON, PERSON_COLUMNS, "org_persons", "id",
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
#undef R

#define R lv_cert_request_rec
static const store_col REQUEST[] = {
    COL(id, TEXT),         COL(org_id, TEXT),     COL(profile, TEXT),
    COL(person_ref, TEXT), COL(subject, STR_OPT), COL(csr, STR_OPT),
    COL(status, TEXT),     COL(created_by, TEXT), COL(created_at, CREATED),
    COL(decided_by, TEXT), COL(decided_at, I64),  COL(reason, TEXT),
    COL(cert_serial, TEXT)};
/* A new request is undecided: the insert writes the first nine. */
const store_row store_row_request = {
    .cols = REQUEST,
    .n = N(REQUEST),
    .size = sizeof(R),
    .columns = REQUEST_COLUMNS,
    .insert = "INSERT INTO cert_requests (" REQUEST_COLUMNS ") VALUES"
              " (?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, '', '')",
    .writes = 9,
    .by_key = SELECT_BY(REQUEST_COLUMNS, "cert_requests", "id")};
#undef R

#define R lv_revocation_request_rec
static const store_col REVREQ[] = {
    COL(id, TEXT),       COL(serial, TEXT),  COL(subscriber_id, TEXT),
    COL(reason, INT),    COL(comment, TEXT), COL(requester, TEXT),
    COL(capacity, TEXT), COL(contact, TEXT), COL(created_at, CREATED)};
const store_row store_row_revreq = TABLE(
    REVREQ, REVREQ_COLUMNS, "revocation_requests", "?, ?, ?, ?, ?, ?, ?, ?, ?");
#undef R

/* ---- auth -----------------------------------------------------------------
 */

#define R lv_operator_rec
static const store_col OPERATOR[] = {
    NEED(login, TEXT),
    COL(roles, TEXT),
    COL(enabled, FLAG),
    COL(locked, FLAG),
    COL(failed_attempts, INT),
    NEED(password_hash, TEXT),
    COLUMN("totp_secret", totp_sealed, BYTES, offsetof(R, totp_sealed_len), 1),
    COL(totp_last_step, I64),
    COL(updated_at, TOUCHED),
    COL(created_at, CREATED),
    COL(created_by, TEXT)};
/* The sealed TOTP secret is wiped when a record is freed. */
const store_row store_row_operator = {
    .cols = OPERATOR,
    .n = N(OPERATOR),
    .size = sizeof(R),
    .columns = OP_COLUMNS,
    .insert = "INSERT INTO operators (" OP_COLUMNS ") VALUES"
              " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    .writes = N(OPERATOR),
    .secret = 1,
    .by_key = SELECT_BY(OP_COLUMNS, "operators", "login"),
    .incomplete = "operator record needs login, password and TOTP secret"};
#undef R

#define R lv_opcert_rec
static const store_col OPCERT[] = {
    NEED(fingerprint, TEXT), NEED(login, TEXT),   COL(serial, TEXT),
    COL(subject, TEXT),      COL(not_after, I64), COL(bound_at, CREATED),
    COL(bound_by, TEXT)};
const store_row store_row_opcert = KEYED_TABLE(
    OPCERT, OPCERT_COLUMNS, "operator_certificates", "fingerprint",
    "?, ?, ?, ?, ?, ?, ?",
    .incomplete = "operator certificate needs fingerprint and login");
#undef R

#define R lv_approval_rec
static const store_col APPROVAL[] = {COL(action, TEXT), COL(target, TEXT),
                                     COL(requested_by, TEXT),
                                     COL(requested_at, CREATED)};
const store_row store_row_approval =
    PAIR_TABLE(APPROVAL, APPROVAL_COLUMNS, "operator_approvals", "action",
               "target", "?, ?, ?, ?");
#undef R

#define R lv_cred_rec
static const store_col CRED[] = {NEED(citizen_id, TEXT),
                                 COL(created_at, CREATED),
                                 NEED(user_id, TEXT),
                                 NEED(mobile, TEXT),
                                 COL(password_hash, TEXT),
                                 COL(password_set_at, I64),
                                 COL(password_expires_at, I64),
                                 COL(failed_attempts, INT),
                                 COL(locked, FLAG),
                                 COL(activation_hash, TEXT),
                                 COL(activation_expires_at, I64),
                                 COL(activation_attempts, INT),
                                 COL(failures_since, I64),
                                 COL(codes_since, I64),
                                 COL(codes_sent, INT),
                                 COL(updated_at, TOUCHED)};
const store_row store_row_cred = KEYED_TABLE(
    CRED, CRED_COLUMNS, "citizen_credentials", "citizen_id",
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?",
    .incomplete = "credential record needs citizen id, user id, mobile");
#undef R

#define R lv_session_rec
static const store_col SESSION[] = {
    COL(token_hash, TEXT),    COL(kind, TEXT),      COL(principal, TEXT),
    COL(created_at, CREATED), COL(expires_at, I64), COL(ip, TEXT)};
const store_row store_row_session = KEYED_TABLE(
    SESSION, SESSION_COLUMNS, "sessions", "token_hash", "?, ?, ?, ?, ?, ?");
#undef R

#define R lv_otp_rec
static const store_col OTP[] = {
    COL(id, TEXT),        COL(citizen_id, TEXT), COL(purpose, TEXT),
    COL(binding, TEXT),   COL(code_hash, TEXT),  COL(created_at, CREATED),
    COL(expires_at, I64), COL(attempts, INT),    COL(used, FLAG)};
const store_row store_row_otp =
    KEYED_TABLE(OTP, OTP_COLUMNS, "otps", "id", "?, ?, ?, ?, ?, ?, ?, ?, ?");
#undef R

/* ---- remote signing ---------------------------------------------------------
 */

#define R lv_sign_app_rec
static const store_col APP[] = {COL(client_id, TEXT),   COL(name, TEXT),
                                COL(secret_hash, TEXT), COL(enabled, FLAG),
                                COL(created_at, I64),   COL(created_by, TEXT)};
const store_row store_row_app =
    KEYED_TABLE(APP, APP_COLUMNS, "sign_apps", "client_id", "?, ?, ?, ?, ?, ?");
#undef R

#define R lv_sign_tx_rec
static const store_col TX[] = {COL(id, TEXT),
                               COL(app_id, TEXT),
                               COL(citizen_id, TEXT),
                               COL(owner, TEXT),
                               COL(digest_alg, TEXT),
                               COL(redirect_ok, TEXT),
                               COL(redirect_error, TEXT),
                               COL(created_at, I64),
                               COL(expires_at, I64),
                               COL(state, TEXT),
                               COL(cert_serial, TEXT),
                               COL(accept_serial, TEXT),
                               COL(otp_id, TEXT),
                               COL(error, TEXT),
                               COL(signed_at, I64),
                               COL(ended_at, I64)};
const store_row store_row_tx =
    KEYED_TABLE(TX, TX_COLUMNS, "sign_transactions", "id",
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
#undef R

#define R lv_sign_doc_rec
static const store_col DOC[] = {COL(seq, INT),
                                COL(doc_id, TEXT),
                                COL(name, TEXT),
                                COL(title, TEXT),
                                LEN(digest, digest_len, BYTES),
                                LEN(signature, signature_len, BLOB_OPT)};
/* store_sign_doc_insert names the transaction and leaves the signature. */
const store_row store_row_doc = VIEW(DOC, DOC_COLUMNS);
#undef R

#define R lv_sign_sad_rec
static const store_col SAD[] = {
    COL(sad_hash, TEXT),   COL(citizen_id, TEXT),         COL(serial, TEXT),
    COL(digest_alg, TEXT), LEN(hashes, hashes_len, BLOB), COL(remaining, INT),
    COL(created_at, I64),  COL(expires_at, I64)};
const store_row store_row_sad = KEYED_TABLE(
    SAD, SAD_COLUMNS, "sign_sads", "sad_hash", "?, ?, ?, ?, ?, ?, ?, ?");
#undef R

#define R lv_sign_otp_rec
static const store_col SIGN_OTP[] = {COL(citizen_id, TEXT),
                                     COL(serial, TEXT),
                                     COL(otp_id, TEXT),
                                     COL(digest_alg, TEXT),
                                     LEN(hashes, hashes_len, BLOB_OPT),
                                     COL(created_at, I64)};
const store_row store_row_sign_otp =
    PAIR_TABLE(SIGN_OTP, SIGN_OTP_COLUMNS, "sign_csc_otps", "citizen_id",
               "serial", "?, ?, ?, ?, ?, ?");
#undef R

#define R lv_sign_acceptance_rec
static const store_col ACCEPT[] = {COL(serial, TEXT),
                                   COL(citizen_id, TEXT),
                                   COL(sheet, STR),
                                   COL(digest_alg, TEXT),
                                   LEN(signature, signature_len, BLOB),
                                   COL(channel, TEXT),
                                   COL(accepted_at, I64)};
const store_row store_row_acceptance =
    KEYED_TABLE(ACCEPT, ACCEPT_COLUMNS, "sign_acceptances", "serial",
                "?, ?, ?, ?, ?, ?, ?");
#undef R

/* ---- OAuth 2.0 -------------------------------------------------------------
 */

#define R lv_oauth_authz_rec
static const store_col AUTHZ[] = {COL(id, TEXT),
                                  COL(client_id, TEXT),
                                  COL(redirect_uri, TEXT),
                                  COL(redirect_given, FLAG),
                                  COL(scope, TEXT),
                                  COL(state, TEXT),
                                  COL(code_challenge, TEXT),
                                  COL(lang, TEXT),
                                  COL(serial, TEXT),
                                  COL(digest_alg, TEXT),
                                  LEN(hashes, hashes_len, BLOB_OPT),
                                  NEED(labels, STR),
                                  COL(num_signatures, INT),
                                  NEED(description, STR),
                                  COL(created_at, I64),
                                  COL(expires_at, I64),
                                  COL(code_used_at, I64),
                                  COL(citizen_id, TEXT),
                                  COL(status, TEXT),
                                  COL(otp_id, TEXT),
                                  COL(code_hash, TEXT),
                                  COL(code_expires_at, I64),
                                  LEN(sad_enc, sad_enc_len, BYTES_OPT)};
const store_row store_row_authz = KEYED_TABLE(
    AUTHZ, AUTHZ_COLUMNS, "oauth_authorizations", "id",
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?",
    .incomplete = "labels and description are required");
#undef R

#define R lv_oauth_token_rec
static const store_col TOKEN[] = {
    COL(token_hash, TEXT), COL(kind, TEXT),      COL(client_id, TEXT),
    COL(citizen_id, TEXT), COL(serial, TEXT),    COL(code_hash, TEXT),
    COL(created_at, I64),  COL(expires_at, I64), COL(revoked_at, I64)};
const store_row store_row_token =
    KEYED_TABLE(TOKEN, TOKEN_COLUMNS, "oauth_tokens", "token_hash",
                "?, ?, ?, ?, ?, ?, ?, ?, ?");
#undef R

/* ---- activation records ----------------------------------------------------
 */

#define R lv_activation_rec
static const store_col ACTIVATION[] = {
    COL(id, TEXT),        COL(key_id, TEXT),   COL(md, TEXT),
    COL(n, I64),          COL(binding, FIXED), COL(created_at, I64),
    COL(expires_at, I64), COL(actor, TEXT),    COL(used_at, I64),
    COL(used_by, TEXT),   COL(refusal, TEXT)};
/* used_at, used_by and refusal are NULL until keyd consumes or burns the
 * record: read as 0 and "". */
const store_row store_row_activation = {
    .cols = ACTIVATION,
    .n = N(ACTIVATION),
    .size = sizeof(R),
    .columns = ACTIVATION_COLUMNS,
    .insert = "INSERT INTO sign_activations (" ACTIVATION_WRITTEN
              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    .writes = 8,
    .by_key = SELECT_BY(ACTIVATION_COLUMNS, "sign_activations", "id")};
#undef R

const store_row *const store_rows[] = {
    &store_row_ca,           &store_row_cert,
    &store_row_cert_listed,  &store_row_opcert,
    &store_row_audit,        &store_row_seal,
    &store_row_ocsp,         &store_row_ca_cert,
    &store_row_revocation,   &store_row_cert_status,
    &store_row_ca_status,    &store_row_crl_entry,
    &store_row_crl,          &store_row_crl_meta,
    &store_row_published,    &store_row_archive,
    &store_row_citizen,      &store_row_iddoc,
    &store_row_registration, &store_row_org,
    &store_row_person,       &store_row_request,
    &store_row_revreq,       &store_row_operator,
    &store_row_approval,     &store_row_cred,
    &store_row_session,      &store_row_otp,
    &store_row_app,          &store_row_tx,
    &store_row_doc,          &store_row_sad,
    &store_row_sign_otp,     &store_row_acceptance,
    &store_row_authz,        &store_row_token,
    &store_row_activation,   NULL,
};
