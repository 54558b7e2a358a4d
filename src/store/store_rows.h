/* Internal to store/: the column table of every record type (store_rows.c)
 * and the column lists the domain files' SQL names them by, in the same
 * order.  test_store checks that each table and its list agree. */
#ifndef LLAVE_STORE_ROWS_H
#define LLAVE_STORE_ROWS_H

#include "store/store_driver.h"

/* ---- CAs, certificates, audit, OCSP, CRLs (store_ca/cert/audit/seal/
 * ocsp/status.c) */
#define CA_COLUMNS                                                             \
    "name, role, issuer, key_id, serial, status, not_before, not_after, "      \
    "cert_der"
#define CERT_LISTED                                                            \
    "serial, ca, profile, subject_id, subscriber_id, subject_dn, key_id, "     \
    "not_before, not_after, created_at, status, revoked_at, "                  \
    "revocation_reason, test"
#define CERT_COLUMNS CERT_LISTED ", der"
#define AUDIT_COLUMNS                                                          \
    "seq, time, actor, event, object, result, details, prev_hash, hash"
#define SEAL_COLUMNS "id, seq, hash, sealed_at, signer, signature, tst, actor"
#define OCSP_COLUMNS                                                           \
    "serial, hash_alg, ca, cert_id, cert_status, this_update, next_update, "   \
    "response"
#define CA_CERT_COLUMNS                                                        \
    "serial, issuer, revoked_at, revocation_reason, not_before, not_after"
#define CERT_STATUS_COLUMNS                                                    \
    "serial, revocation_requester, revocation_authority, invalidity_date, "    \
    "publish_consent_at"
#define CA_STATUS_COLUMNS                                                      \
    "status, revoked_at, revocation_reason, status_revision"
#define CRL_ENTRY_COLUMNS                                                      \
    "serial, revoked_at, revocation_reason, invalidity_date"
#define CRL_META "ca, crl_number, this_update, next_update, revision, entries"
#define CRL_COLUMNS CRL_META ", der"
#define PUBLISHED_COLUMNS                                                      \
    "serial, ca, profile, subject_dn, not_before, not_after, status, "         \
    "revoked_at, revocation_reason"
#define ARCHIVE_COLUMNS "kind, ref, sha256, archived_at, retain_until, batch"

extern const store_row store_row_ca, store_row_cert, store_row_cert_listed,
    store_row_audit, store_row_seal, store_row_ocsp, store_row_ca_cert,
    store_row_revocation, store_row_cert_status, store_row_ca_status,
    store_row_crl_entry, store_row_crl, store_row_crl_meta, store_row_published,
    store_row_archive;

/* ---- registration authority (store_ra.c) */
#define CITIZEN_COLUMNS                                                        \
    "id, person_id, level, given_name, surname, country, birth_date, "         \
    "mobile, email, created_at, updated_at"
#define IDDOC_COLUMNS                                                          \
    "id, citizen_id, doc_type, number, country, support_number, expiry, "      \
    "companion_type, companion_number, companion_country, companion_expiry, "  \
    "status, replace_reason, created_at, replaced_at"
#define REGISTRATION_COLUMNS                                                   \
    "id, citizen_id, kind, method, actor, evidence_ref, details, "             \
    "created_at, retain_until"
#define ORG_COLUMNS                                                            \
    "id, org_identifier, nif, country, legal_name, kind, locality, "           \
    "business_category, contact_email, contact_mobile, psd2_nca_name, "        \
    "psd2_nca_id, psd2_roles, psd2_authorization, created_by, created_at"
#define PERSON_COLUMNS                                                         \
    "id, org_id, role, person_id, given_name, surname, id_type, id_number, "   \
    "id_country, document_expiry, email, unit, title, powers_scope, "          \
    "powers_from, powers_until, powers_document, created_by, created_at"
#define REQUEST_COLUMNS                                                        \
    "id, org_id, profile, person_ref, subject, csr, status, created_by, "      \
    "created_at, decided_by, decided_at, reason, cert_serial"
#define REVREQ_COLUMNS                                                         \
    "id, serial, subscriber_id, reason, comment, requester, capacity, "        \
    "contact, created_at"

extern const store_row store_row_citizen, store_row_iddoc,
    store_row_registration, store_row_org, store_row_person, store_row_request,
    store_row_revreq;

/* ---- auth (store_auth.c, store_session.c) */
/* An operator update writes the columns from roles to updated_at. */
#define OP_COLUMNS                                                             \
    "login, roles, enabled, locked, failed_attempts, password_hash, "          \
    "totp_secret, totp_last_step, updated_at, created_at, created_by"
#define OP_UPDATED 9
#define OPCERT_COLUMNS                                                         \
    "fingerprint, login, serial, subject, not_after, bound_at, bound_by"
#define APPROVAL_COLUMNS "action, target, requested_by, requested_at"
/* A credentials update writes the columns from user_id on. */
#define CRED_COLUMNS                                                           \
    "citizen_id, created_at, user_id, mobile, password_hash, "                 \
    "password_set_at, password_expires_at, failed_attempts, locked, "          \
    "activation_hash, activation_expires_at, activation_attempts, "            \
    "failures_since, codes_since, codes_sent, updated_at"
#define CRED_MUTABLE 2
#define SESSION_COLUMNS                                                        \
    "token_hash, kind, principal, created_at, expires_at, ip"
#define OTP_COLUMNS                                                            \
    "id, citizen_id, purpose, binding, code_hash, created_at, expires_at, "    \
    "attempts, used"

extern const store_row store_row_operator, store_row_approval, store_row_cred,
    store_row_session, store_row_otp, store_row_opcert;

/* ---- remote signing (store_sign.c) */
#define APP_COLUMNS                                                            \
    "client_id, name, secret_hash, enabled, created_at, created_by"
/* A transaction update writes the columns from state on. */
#define TX_COLUMNS                                                             \
    "id, app_id, citizen_id, owner, digest_alg, redirect_ok, "                 \
    "redirect_error, created_at, expires_at, state, cert_serial, "             \
    "accept_serial, otp_id, error, signed_at, ended_at"
#define TX_MUTABLE 9
#define DOC_COLUMNS "seq, doc_id, name, title, digest, signature"
#define SAD_COLUMNS                                                            \
    "sad_hash, citizen_id, serial, digest_alg, hashes, remaining, "            \
    "created_at, expires_at"
#define SIGN_OTP_COLUMNS                                                       \
    "citizen_id, serial, otp_id, digest_alg, hashes, created_at"
#define ACCEPT_COLUMNS                                                         \
    "serial, citizen_id, sheet, digest_alg, signature, channel, accepted_at"

extern const store_row store_row_app, store_row_tx, store_row_doc,
    store_row_sad, store_row_sign_otp, store_row_acceptance;

/* ---- OAuth 2.0 (store_oauth.c) */
/* An authorization update writes the columns from citizen_id on. */
#define AUTHZ_COLUMNS                                                          \
    "id, client_id, redirect_uri, redirect_given, scope, state, "              \
    "code_challenge, lang, serial, digest_alg, hashes, labels, "               \
    "num_signatures, description, created_at, expires_at, code_used_at, "      \
    "citizen_id, status, otp_id, code_hash, code_expires_at, sad_enc"
#define AUTHZ_MUTABLE 17
#define TOKEN_COLUMNS                                                          \
    "token_hash, kind, client_id, citizen_id, serial, code_hash, "             \
    "created_at, expires_at, revoked_at"

extern const store_row store_row_authz, store_row_token;

/* ---- activation records (store_activation.c) */
/* An insert writes the columns up to actor; keyd's consume or burn the
 * rest. */
#define ACTIVATION_WRITTEN                                                     \
    "id, key_id, md, n, binding, created_at, expires_at, actor"
#define ACTIVATION_COLUMNS ACTIVATION_WRITTEN ", used_at, used_by, refusal"

extern const store_row store_row_activation;

/* Every table above, NULL-terminated (test_store). */
extern const store_row *const store_rows[];

#endif
