/* store/ — the storage authority: schema, numbered migrations (sql/NNN_*.sql),
 * transactions and the typed records every other component reads and writes.
 *
 * The SQL lives here and is written once in the dialect both back ends accept;
 * a back end (SQLite now, PostgreSQL later, R10.2) only implements the small
 * lv_db_driver table in store_driver.h.  Depends on core/ only. */
#ifndef LLAVE_STORE_H
#define LLAVE_STORE_H

#include "core/core.h"

#include <stdint.h>

typedef struct lv_store lv_store;

/* Opens (creating if needed) the database at `location` ("DIR/llave.db" for
 * SQLite) and applies every pending migration from the embedded sql/ files,
 * each in its own transaction. */
int store_open(const char *location, lv_store **out, lv_err *err);
void store_close(lv_store *st);
int store_schema_version(lv_store *st, int *version, lv_err *err);

/* Transactions.  store_begin takes the write lock at once (SQLite BEGIN
 * IMMEDIATE) so that a multi-row change and its audit entry are atomic and
 * the audit sequence has no gaps.  Nesting is not supported. */
int store_begin(lv_store *st, lv_err *err);
int store_commit(lv_store *st, lv_err *err);
void store_rollback(lv_store *st);
/* 1 between store_begin and store_commit/store_rollback (audit_log checks
 * that it runs inside the caller's transaction). */
int store_in_transaction(const lv_store *st);

/* ---- certification authorities (root, issuing CAs, OCSP, TSA) ---------- */
typedef struct lv_ca_rec {
    char name[32];   /* short name used in URLs: /ca/{name}.crt */
    char role[16];   /* "root", "qualified", "standard", "ocsp", "tsa" */
    char issuer[32]; /* name of the issuing CA; itself for the root */
    char key_id[65]; /* key store id of the private key */
    char serial[65]; /* hex serial as `openssl x509 -serial` prints it */
    char status[16]; /* "active", "retired", "compromised" */
    int64_t not_before;
    int64_t not_after;
    unsigned char *cert_der; /* owned; freed by store_ca_rec_free */
    size_t cert_len;
} lv_ca_rec;

int store_ca_insert(lv_store *st, const lv_ca_rec *rec, lv_err *err);
int store_ca_get(lv_store *st, const char *name, lv_ca_rec *out, lv_err *err);
/* Calls fn for every CA record in creation order; stops on fn's error. */
int store_ca_foreach(lv_store *st, int (*fn)(const lv_ca_rec *, void *),
                     void *ctx, lv_err *err);
void store_ca_rec_free(lv_ca_rec *rec);

/* ---- end-entity certificates ------------------------------------------ */
enum { LV_CERT_VALID = 0, LV_CERT_REVOKED = 1 };

typedef struct lv_cert_rec {
    char serial[65];        /* hex, as `openssl x509 -serial` prints it */
    char ca[32];            /* issuing CA short name */
    char profile[48];       /* profile id, e.g. natural-person-cloud */
    char subject_id[72];    /* ID of the person named (IDCES-…, VATES-…) */
    char subscriber_id[72]; /* ID of the subscriber; equals subject_id for
                               individuals */
    char subject_dn[512];   /* RFC 2253 form, for display and search */
    char key_id[65];        /* key store id for cloud keys, else "" */
    int64_t not_before;
    int64_t not_after;
    int64_t created_at;
    int status; /* LV_CERT_VALID / LV_CERT_REVOKED */
    int64_t revoked_at;
    int revocation_reason; /* RFC 5280 CRLReason code, -1 when not revoked */
    int test;              /* 1 for test certificates (R4.7) */
    unsigned char *der;    /* owned; freed by store_cert_rec_free */
    size_t der_len;
} lv_cert_rec;

int store_cert_insert(lv_store *st, const lv_cert_rec *rec, lv_err *err);
int store_cert_get(lv_store *st, const char *serial, lv_cert_rec *out,
                   lv_err *err);
/* R2.9: number of certificates for (subject, subscriber, profile) that are
 * not revoked and not expired at `now`. */
int store_cert_count_valid(lv_store *st, const char *subject_id,
                           const char *subscriber_id, const char *profile,
                           int64_t now, int *count, lv_err *err);
int store_cert_count(lv_store *st, int *count, lv_err *err);
void store_cert_rec_free(lv_cert_rec *rec);

/* ---- audit rows (the chain logic lives in audit/) --------------------- */
typedef struct lv_audit_row {
    int64_t seq;
    char time[32]; /* ISO-8601 UTC with milliseconds */
    char actor[128];
    char event[64];
    char object[256];
    char result[16]; /* "success" / "failure" */
    char *details;   /* JSON text, owned; may be NULL */
    char prev_hash[65];
    char hash[65];
} lv_audit_row;

int store_audit_insert(lv_store *st, const lv_audit_row *row, lv_err *err);
/* Fills `out` with the newest row; LV_ENOTFOUND when the trail is empty. */
int store_audit_last(lv_store *st, lv_audit_row *out, lv_err *err);
/* Rows in ascending seq order from `from_seq`. */
int store_audit_foreach(lv_store *st, int64_t from_seq,
                        int (*fn)(const lv_audit_row *, void *), void *ctx,
                        lv_err *err);
void store_audit_row_free(lv_audit_row *row);

/* ---- pre-signed OCSP responses (R6.4; sql/003_ocsp.sql) -------------- */
typedef struct lv_ocsp_rec {
    char serial[65];
    char hash_alg[16];      /* CertID hash: "SHA1", "SHA256", ... */
    char ca[32];            /* issuing CA short name */
    unsigned char *cert_id; /* DER CertID inside the response; owned */
    size_t cert_id_len;
    int cert_status; /* the certs.status the response states */
    int64_t this_update;
    int64_t next_update;
    unsigned char *response; /* DER OCSPResponse; owned */
    size_t response_len;
} lv_ocsp_rec;

/* Inserts or replaces the row of (serial, hash_alg). */
int store_ocsp_put(lv_store *st, const lv_ocsp_rec *rec, lv_err *err);
void store_ocsp_rec_free(lv_ocsp_rec *rec);

/* The responder's one lookup: the certificate's status joined with its
 * stored response for hash_alg.  cert.der is not read.  *found is 0 when no
 * certificate has this serial; *has_resp is 0 when no response is stored. */
int store_ocsp_lookup(lv_store *st, const char *serial, const char *hash_alg,
                      lv_cert_rec *cert, int *found, lv_ocsp_rec *resp,
                      int *has_resp, lv_err *err);

/* A CA certificate (a cas row, not in certs) with this serial signed by
 * `issuer`, as a certificate record: serial, ca (= issuer), status,
 * revoked_at, revocation_reason, validity.  *found is 0 when there is
 * none.  The root's responder answers for the issuing CAs with it. */
int store_ocsp_ca_cert(lv_store *st, const char *serial, const char *issuer,
                       lv_cert_rec *out, int *found, lv_err *err);
/* Up to `limit` (serial, hash_alg) pairs whose response is due: next_update
 * before `before`, soonest first. */
int store_ocsp_foreach_due(lv_store *st, int64_t before, int limit,
                           int (*fn)(const char *serial, const char *hash_alg,
                                     void *ctx),
                           void *ctx, lv_err *err);
/* Up to `limit` pairs of certificates revoked at or after `since` whose
 * stored response still states them valid (a revocation whose re-signing
 * did not happen, e.g. while the key store was sealed). */
int store_ocsp_foreach_stale(lv_store *st, int64_t since, int limit,
                             int (*fn)(const char *serial, const char *hash_alg,
                                       void *ctx),
                             void *ctx, lv_err *err);
/* Up to `limit` serials of certificates created at or after `since` that
 * have no stored response for hash_alg. */
int store_ocsp_foreach_missing(lv_store *st, const char *hash_alg,
                               int64_t since, int limit,
                               int (*fn)(const char *serial, void *ctx),
                               void *ctx, lv_err *err);
/* Serials of the CA's certificates greater than `after` (keyset paging;
 * "" to start), ascending, at most `limit`. */
int store_cert_foreach_serial(lv_store *st, const char *ca, const char *after,
                              int limit,
                              int (*fn)(const char *serial, void *ctx),
                              void *ctx, lv_err *err);

/* ---- revocation, CA status, CRLs, consent (sql/002_status.sql; issue 4) --
 * The rules (reasons, expiry, CRL building) live in ca/; these are the
 * rows.  Functions that change something run inside the caller's
 * transaction, next to its audit entry. */
typedef struct lv_revocation {
    char serial[65];
    int64_t revoked_at;
    int reason;              /* RFC 5280 CRLReason code */
    int64_t invalidity_date; /* RFC 5280 §5.3.2; 0 when not given */
    char requester[128];     /* R6.1: who asked */
    char authority[128];     /* R6.1: who processed it (operator identity) */
} lv_revocation;

/* Marks a valid certificate revoked and bumps its CA's status revision.
 * LV_ESTATE when the certificate is unknown or not valid (the caller has
 * read it first and tells the two apart): nothing is changed. */
int store_cert_revoke(lv_store *st, const lv_revocation *rev, lv_err *err);

/* The columns of 002 that lv_cert_rec does not carry. */
typedef struct lv_cert_status {
    char serial[65];
    char requester[128];
    char authority[128];
    int64_t invalidity_date;
    int64_t publish_consent_at; /* R8.1: 0 when not consented */
} lv_cert_status;
int store_cert_status_get(lv_store *st, const char *serial, lv_cert_status *out,
                          lv_err *err);
/* Serials of the CA's certificates not yet revoked (expired ones too),
 * except the provider's OCSP responders (R6.5 compromise drill). */
int store_cert_foreach_unrevoked(lv_store *st, const char *ca,
                                 int (*fn)(const char *serial, void *),
                                 void *ctx, lv_err *err);

typedef struct lv_ca_status {
    char status[16]; /* "active", "retired", "compromised" */
    int64_t revoked_at;
    int revocation_reason; /* -1 while not revoked */
    int64_t revision;      /* bumped by every change its CRL must show */
} lv_ca_status;
int store_ca_status_get(lv_store *st, const char *name, lv_ca_status *out,
                        lv_err *err);
/* revoked_at 0 keeps the CA unrevoked (a retired CA); otherwise it appears
 * on its issuer's CRL with `reason`. */
int store_ca_set_status(lv_store *st, const char *name, const char *status,
                        int64_t revoked_at, int reason, lv_err *err);
int store_ca_bump_revision(lv_store *st, const char *name, lv_err *err);

/* One entry of a CRL. */
typedef struct lv_crl_entry {
    char serial[65];
    int64_t revoked_at;
    int reason;
    int64_t invalidity_date; /* 0: none */
} lv_crl_entry;
/* R6.3: the certificates and subordinate CAs issued by `ca` that are
 * revoked and not expired at `now`, streamed (a CRL may have millions). */
int store_crl_foreach_entry(lv_store *st, const char *ca, int64_t now,
                            int (*fn)(const lv_crl_entry *, void *), void *ctx,
                            lv_err *err);

typedef struct lv_crl_rec {
    char ca[32];
    int64_t number; /* cRLNumber, monotonic per CA */
    int64_t this_update;
    int64_t next_update; /* 0: final CRL without nextUpdate (R6.5) */
    int64_t revision;    /* the CA status revision it covers */
    int64_t entries;
    unsigned char *der; /* owned; NULL when read without it */
    size_t der_len;
} lv_crl_rec;
int store_crl_insert(lv_store *st, const lv_crl_rec *rec, lv_err *err);
/* The newest CRL of `ca`; LV_ENOTFOUND when none.  with_der 0 reads only
 * the metadata (cheap check before serving or regenerating). */
int store_crl_latest(lv_store *st, const char *ca, int with_der,
                     lv_crl_rec *out, lv_err *err);
void store_crl_rec_free(lv_crl_rec *rec);

/* R8.1: at > 0 records consent to publication, 0 withdraws it. */
int store_cert_set_consent(lv_store *st, const char *serial, int64_t at,
                           lv_err *err);
/* Consented certificates, newest consent first; der is not read. */
int store_cert_foreach_published(lv_store *st, int64_t offset, int64_t limit,
                                 int (*fn)(const lv_cert_rec *, void *),
                                 void *ctx, lv_err *err);

/* ---- registration authority (sql/006_ra.sql; the rules live in ra/) ----
 * Ids are 32 hex characters (128 random bits) chosen by ra/.  Times are
 * Unix seconds, 0 meaning "none".  Inserting a row whose unique key exists
 * is LV_EEXISTS; an unknown id on get is LV_ENOTFOUND. */
#define LV_RA_ID_LEN 32

typedef struct lv_citizen_rec {
    char id[LV_RA_ID_LEN + 1];
    char person_id[64]; /* IDCES-12345678Z (ETSI EN 319 412-1) */
    char level[16];     /* "basic" / "advanced" (R2.1) */
    char given_name[65];
    char surname[129];
    char country[3];     /* ISO 3166 alpha-2: C of the certificates */
    char birth_date[11]; /* YYYY-MM-DD, "" when unknown (telematic) */
    char mobile[24];     /* E.164, the OTP phone (R3.3) */
    char email[255];
    int64_t created_at;
    int64_t updated_at;
} lv_citizen_rec;

int store_citizen_insert(lv_store *st, const lv_citizen_rec *rec, lv_err *err);
int store_citizen_get(lv_store *st, const char *id, lv_citizen_rec *out,
                      lv_err *err);
int store_citizen_by_person(lv_store *st, const char *person_id,
                            lv_citizen_rec *out, lv_err *err);

/* Identity documents (R2.3, R2.5). */
typedef struct lv_iddoc_rec {
    char id[LV_RA_ID_LEN + 1];
    char citizen_id[LV_RA_ID_LEN + 1];
    char doc_type[16]; /* DNI, NIE, TIE, EU_REGISTRATION */
    char number[33];
    char country[3];
    char support_number[33];
    int64_t expiry;
    char companion_type[16]; /* PASSPORT / ID_CARD with EU_REGISTRATION */
    char companion_number[33];
    char companion_country[3];
    int64_t companion_expiry;
    char status[16];         /* "current" / "replaced" */
    char replace_reason[16]; /* loss, theft, damage, renewal */
    int64_t created_at;
    int64_t replaced_at;
} lv_iddoc_rec;

int store_iddoc_insert(lv_store *st, const lv_iddoc_rec *rec, lv_err *err);
/* The citizen's current document. */
int store_iddoc_current(lv_store *st, const char *citizen_id, lv_iddoc_rec *out,
                        lv_err *err);
/* Marks a current document replaced (LV_ESTATE when it is not current). */
int store_iddoc_retire(lv_store *st, const char *id, const char *reason,
                       int64_t when, lv_err *err);
int store_iddoc_foreach(lv_store *st, const char *citizen_id,
                        int (*fn)(const lv_iddoc_rec *, void *), void *ctx,
                        lv_err *err);

/* Registration evidence (R2.6, CPS §5.5); never updated. */
typedef struct lv_registration_rec {
    char id[LV_RA_ID_LEN + 1];
    char citizen_id[LV_RA_ID_LEN + 1];
    char kind[24];   /* registration, document_replacement */
    char method[24]; /* face_to_face, ecert, console */
    char actor[128];
    char evidence_ref[256];
    const char *details; /* JSON text or NULL; borrowed (valid in fn) */
    int64_t created_at;
    int64_t retain_until; /* CPS §4.2.1: 15 years */
} lv_registration_rec;

int store_registration_insert(lv_store *st, const lv_registration_rec *rec,
                              lv_err *err);
int store_registration_foreach(lv_store *st, const char *citizen_id,
                               int (*fn)(const lv_registration_rec *, void *),
                               void *ctx, lv_err *err);

/* Organizations (R2.7). */
typedef struct lv_org_rec {
    char id[LV_RA_ID_LEN + 1];
    char org_identifier[64]; /* VATES-B12345678 = certs.subscriber_id */
    char nif[33];
    char country[3];
    char legal_name[129];
    char kind[16]; /* legal_person / entity */
    char locality[129];
    char business_category[64];
    char contact_email[255];
    char contact_mobile[24];
    char psd2_nca_name[128];
    char psd2_nca_id[16];
    char psd2_roles[64]; /* comma-separated PSP_AS,PSP_PI,... */
    char psd2_authorization[36];
    char created_by[128];
    int64_t created_at;
} lv_org_rec;

int store_org_insert(lv_store *st, const lv_org_rec *rec, lv_err *err);
int store_org_get(lv_store *st, const char *id, lv_org_rec *out, lv_err *err);
int store_org_by_identifier(lv_store *st, const char *org_identifier,
                            lv_org_rec *out, lv_err *err);

/* Representatives and linked persons of an organization. */
typedef struct lv_org_person_rec {
    char id[LV_RA_ID_LEN + 1];
    char org_id[LV_RA_ID_LEN + 1];
    char role[16]; /* representative / member */
    char person_id[64];
    char given_name[65];
    char surname[129];
    char id_type[16];
    char id_number[33];
    char id_country[3];
    int64_t document_expiry;
    char email[255];
    char unit[65];
    char title[65];
    char powers_scope[128];
    int64_t powers_from;
    int64_t powers_until;
    char powers_document[1025]; /* the subject description (R2.7) */
    char created_by[128];
    int64_t created_at;
} lv_org_person_rec;

int store_org_person_insert(lv_store *st, const lv_org_person_rec *rec,
                            lv_err *err);
int store_org_person_get(lv_store *st, const char *id, lv_org_person_rec *out,
                         lv_err *err);
int store_org_person_foreach(lv_store *st, const char *org_id,
                             int (*fn)(const lv_org_person_rec *, void *),
                             void *ctx, lv_err *err);
/* Representatives of the organization org_identifier who are the person
 * person_id and whose powers cover `now`. */
int store_org_representative_count(lv_store *st, const char *org_identifier,
                                   const char *person_id, int64_t now,
                                   int *count, lv_err *err);

/* Certificate requests of organizations (R1.5, R2.8). */
typedef struct lv_cert_request_rec {
    char id[LV_RA_ID_LEN + 1];
    char org_id[LV_RA_ID_LEN + 1];
    char profile[48];
    char person_ref[LV_RA_ID_LEN + 1];
    char *subject;   /* JSON text; owned (store_cert_request_rec_free) */
    char *csr;       /* PEM or NULL; owned */
    char status[16]; /* pending, approved, rejected */
    char created_by[128];
    int64_t created_at;
    char decided_by[128];
    int64_t decided_at;
    char reason[512];
    char cert_serial[65];
} lv_cert_request_rec;

int store_cert_request_insert(lv_store *st, const lv_cert_request_rec *rec,
                              lv_err *err);
int store_cert_request_get(lv_store *st, const char *id,
                           lv_cert_request_rec *out, lv_err *err);
/* pending -> approved / rejected; LV_ESTATE when no longer pending. */
int store_cert_request_decide(lv_store *st, const char *id, const char *status,
                              const char *decided_by, const char *reason,
                              const char *cert_serial, int64_t when,
                              lv_err *err);
/* status NULL: every request; oldest first. */
int store_cert_request_foreach(lv_store *st, const char *status,
                               int (*fn)(const lv_cert_request_rec *, void *),
                               void *ctx, lv_err *err);
void store_cert_request_rec_free(lv_cert_request_rec *rec);

/* Revocation requests (R6.1, CPS §4.9.3.1). */
typedef struct lv_revocation_request_rec {
    char id[LV_RA_ID_LEN + 1];
    char serial[65];
    char subscriber_id[72];
    int reason; /* RFC 5280 CRLReason code */
    char comment[512];
    char requester[128];
    char capacity[16]; /* holder, representative, officer */
    char contact[255];
    int64_t created_at;
} lv_revocation_request_rec;

int store_revocation_request_insert(lv_store *st,
                                    const lv_revocation_request_rec *rec,
                                    lv_err *err);

/* Certificates naming `party` as subject or subscriber, newest first; the
 * records carry no DER (der NULL). */
int store_cert_foreach_party(lv_store *st, const char *party,
                             int (*fn)(const lv_cert_rec *, void *), void *ctx,
                             lv_err *err);

/* ---- auth (sql/005_auth.sql; the rules live in auth/) -----------------
 * Plain records: auth/ decides, hashes and seals; these only read and
 * write rows.  Updates are meant to run inside the caller's transaction
 * after reading the row again there (store_begin holds the write lock). */
typedef struct lv_operator_rec {
    char login[72];
    char roles[256]; /* comma-separated role names */
    int enabled;
    int locked;
    int failed_attempts;
    char password_hash[192];       /* Argon2id encoded */
    unsigned char totp_sealed[96]; /* nonce || ciphertext || tag */
    size_t totp_sealed_len;
    int64_t totp_last_step;
    int64_t created_at; /* 0 on insert: now */
    char created_by[128];
    int64_t updated_at; /* set by insert / update */
} lv_operator_rec;

int store_operator_insert(lv_store *st, const lv_operator_rec *rec,
                          lv_err *err);
int store_operator_get(lv_store *st, const char *login, lv_operator_rec *out,
                       lv_err *err);
/* Writes every field but login, created_at and created_by. */
int store_operator_update(lv_store *st, const lv_operator_rec *rec,
                          lv_err *err);
/* Pending two-person approvals (sql/010_throttle.sql, CPS §5.2.4). */
typedef struct lv_approval_rec {
    char action[16];
    char target[72];
    char requested_by[72];
    int64_t requested_at;
} lv_approval_rec;

int store_approval_get(lv_store *st, const char *action, const char *target,
                       lv_approval_rec *out, lv_err *err);
/* Inserts or replaces the pending request for (action, target). */
int store_approval_put(lv_store *st, const lv_approval_rec *rec, lv_err *err);
int store_approval_delete(lv_store *st, const char *action, const char *target,
                          lv_err *err);
/* In login order. */
int store_operator_foreach(lv_store *st,
                           int (*fn)(const lv_operator_rec *, void *),
                           void *ctx, lv_err *err);

typedef struct lv_cred_rec {
    char citizen_id[72];
    char user_id[72];
    char mobile[24];
    char password_hash[192]; /* "" until activation */
    int64_t password_set_at;
    int64_t password_expires_at;
    int failed_attempts;
    int locked;
    char activation_hash[65]; /* hex HMAC of the pending code, or "" */
    int64_t activation_expires_at;
    int activation_attempts;
    int64_t failures_since; /* start of the 24 h window of failed_attempts */
    int64_t codes_since;    /* start of the 24 h window of codes_sent */
    int codes_sent;         /* activation codes sent in that window */
    int64_t created_at;     /* 0 on insert: now */
    int64_t updated_at;
} lv_cred_rec;

int store_cred_insert(lv_store *st, const lv_cred_rec *rec, lv_err *err);
int store_cred_get(lv_store *st, const char *citizen_id, lv_cred_rec *out,
                   lv_err *err);
int store_cred_get_by_user(lv_store *st, const char *user_id, lv_cred_rec *out,
                           lv_err *err);
/* Writes every field but citizen_id and created_at. */
int store_cred_update(lv_store *st, const lv_cred_rec *rec, lv_err *err);

/* Password history (R3.2): appends, and calls fn with the `limit` newest
 * hashes, newest first. */
int store_pwhist_add(lv_store *st, const char *citizen_id,
                     const char *password_hash, int64_t set_at, lv_err *err);
int store_pwhist_foreach(lv_store *st, const char *citizen_id, int limit,
                         int (*fn)(const char *password_hash, void *),
                         void *ctx, lv_err *err);

typedef struct lv_session_rec {
    char token_hash[65]; /* SHA-256 hex of the bearer token */
    char kind[16];       /* "operator" / "citizen" */
    char principal[72];
    int64_t created_at;
    int64_t expires_at;
    char ip[64];
} lv_session_rec;

int store_session_insert(lv_store *st, const lv_session_rec *rec, lv_err *err);
int store_session_get(lv_store *st, const char *token_hash, lv_session_rec *out,
                      lv_err *err);
int store_session_delete(lv_store *st, const char *token_hash, lv_err *err);
/* Ends every session of one principal; *count (may be NULL) gets how many. */
int store_session_delete_principal(lv_store *st, const char *kind,
                                   const char *principal, int64_t *count,
                                   lv_err *err);
/* Drops sessions that expired before `now`. */
int store_session_purge(lv_store *st, int64_t now, lv_err *err);

typedef struct lv_otp_rec {
    char id[33];
    char citizen_id[72];
    char purpose[33];
    char binding[65];   /* SHA-256 hex of purpose and data */
    char code_hash[65]; /* HMAC-SHA256 hex of the code */
    int64_t created_at;
    int64_t expires_at;
    int attempts;
    int used;
} lv_otp_rec;

int store_otp_insert(lv_store *st, const lv_otp_rec *rec, lv_err *err);
int store_otp_get(lv_store *st, const char *id, lv_otp_rec *out, lv_err *err);
/* Codes sent to citizen_id since `since` (created_at >= since), only those
 * with this binding when binding is not NULL: *count and the creation time
 * of the oldest of them (*oldest, 0 when none), for rate limits that every
 * node sharing the database agrees on (issue 11). */
int store_otp_count(lv_store *st, const char *citizen_id, const char *binding,
                    int64_t since, int *count, int64_t *oldest, lv_err *err);
/* Writes attempts and used. */
int store_otp_update(lv_store *st, const lv_otp_rec *rec, lv_err *err);

/* ---- audit seals, archive, backup (sql/007_audit_seal.sql; issue 8) ----- */
/* One audit entry by sequence number; LV_ENOTFOUND when absent. */
int store_audit_get(lv_store *st, int64_t seq, lv_audit_row *out, lv_err *err);

typedef struct lv_audit_seal_rec {
    int64_t id;    /* 1, 2, ...: a gap is a deleted seal */
    int64_t seq;   /* last audit entry covered */
    char hash[65]; /* its hash, the sealed chain head */
    int64_t sealed_at;
    char signer[32]; /* cas name of the audit-seal certificate */
    char actor[128];
    unsigned char *signature; /* owned */
    size_t signature_len;
    unsigned char *tst; /* RFC 3161 TimeStampResp DER; owned */
    size_t tst_len;
} lv_audit_seal_rec;

int store_audit_seal_insert(lv_store *st, const lv_audit_seal_rec *rec,
                            lv_err *err);
/* The newest seal; LV_ENOTFOUND when none. */
int store_audit_seal_last(lv_store *st, lv_audit_seal_rec *out, lv_err *err);
/* Seals with id >= from_id in id order. */
int store_audit_seal_foreach(lv_store *st, int64_t from_id,
                             int (*fn)(const lv_audit_seal_rec *, void *),
                             void *ctx, lv_err *err);
/* Seals covering exactly entry `seq`. */
int store_audit_seal_foreach_seq(lv_store *st, int64_t seq,
                                 int (*fn)(const lv_audit_seal_rec *, void *),
                                 void *ctx, lv_err *err);
void store_audit_seal_rec_free(lv_audit_seal_rec *rec);

/* R9.3 archive.  kind: "cert", "ca", "crl", "registration",
 * "cert_request" (decided ones), "revocation_request"; ref: the source
 * row's key.  sha256 is computed by store/ over the row's archived
 * columns (store_archive.c documents which and how). */
typedef struct lv_archive_item {
    char kind[24];
    char ref[96];
    char sha256[65];
    int64_t archived_at;
    int64_t retain_until;
    int64_t batch; /* seq of the audit entry that recorded it */
} lv_archive_item;

/* Up to `limit` source rows not archived yet, with their digest and
 * retention date (archived_at and batch are 0). */
int store_archive_foreach_new(lv_store *st, int limit,
                              int (*fn)(const lv_archive_item *, void *),
                              void *ctx, lv_err *err);
int store_archive_insert(lv_store *st, const lv_archive_item *item,
                         lv_err *err);
/* Every archived item in (batch, kind, ref) order. */
int store_archive_foreach(lv_store *st,
                          int (*fn)(const lv_archive_item *, void *), void *ctx,
                          lv_err *err);
/* Every archived item with the digest of its source row as it is now
 * (current is "" when the row is gone), kind by kind. */
int store_archive_foreach_check(lv_store *st,
                                int (*fn)(const lv_archive_item *recorded,
                                          const char *current, void *),
                                void *ctx, lv_err *err);

/* A consistent copy of the whole database into a new file at `path`
 * (SQLite's online backup API: never a copy of the live WAL files).
 * Fails if `path` exists. */
int store_backup(lv_store *st, const char *path, lv_err *err);

/* ---- remote signing (sql/008_sign.sql; the rules live in sign/) -------
 * Plain rows: sign/ decides, hashes and signs.  Changes run inside the
 * caller's transaction next to its audit entry. */
typedef struct lv_sign_app_rec {
    char client_id[40];
    char name[129];
    char secret_hash[65]; /* SHA-256 hex of the client secret */
    int enabled;
    int64_t created_at;
    char created_by[128];
} lv_sign_app_rec;

int store_sign_app_insert(lv_store *st, const lv_sign_app_rec *rec,
                          lv_err *err);
int store_sign_app_get(lv_store *st, const char *client_id,
                       lv_sign_app_rec *out, lv_err *err);
/* In creation order. */
int store_sign_app_foreach(lv_store *st,
                           int (*fn)(const lv_sign_app_rec *, void *),
                           void *ctx, lv_err *err);

typedef struct lv_sign_tx_rec {
    char id[33];
    char app_id[40];
    char citizen_id[72];
    char owner[64];      /* the person id (IDCES-...) */
    char digest_alg[16]; /* sha256, sha384, sha512 */
    char state[16];      /* pending, otp_sent, signed, failed, ended */
    char cert_serial[65];
    char accept_serial[65];
    char redirect_ok[1024];
    char redirect_error[1024];
    char otp_id[33];
    char error[256];
    int64_t created_at;
    int64_t expires_at;
    int64_t signed_at;
    int64_t ended_at;
} lv_sign_tx_rec;

int store_sign_tx_insert(lv_store *st, const lv_sign_tx_rec *rec, lv_err *err);
int store_sign_tx_get(lv_store *st, const char *id, lv_sign_tx_rec *out,
                      lv_err *err);
/* Writes state, cert_serial, accept_serial, otp_id, error, signed_at and
 * ended_at when the stored state is `from` (NULL: any); LV_ESTATE when it
 * is not (a concurrent request moved it first), LV_ENOTFOUND for no row. */
int store_sign_tx_update(lv_store *st, const lv_sign_tx_rec *rec,
                         const char *from, lv_err *err);

/* docs/API.md limits a document's id to 128 characters, name and title to
 * 255: room for 4 bytes of UTF-8 each (RFC 3629 §3). */
typedef struct lv_sign_doc_rec {
    int seq;
    char doc_id[4 * 128 + 1];
    char name[4 * 255 + 1];
    char title[4 * 255 + 1];
    unsigned char digest[64];
    size_t digest_len;
    unsigned char *signature; /* owned; NULL until signed */
    size_t signature_len;
} lv_sign_doc_rec;

int store_sign_doc_insert(lv_store *st, const char *tx_id,
                          const lv_sign_doc_rec *rec, lv_err *err);
int store_sign_doc_set_signature(lv_store *st, const char *tx_id, int seq,
                                 const unsigned char *sig, size_t len,
                                 lv_err *err);
/* In seq order; fn must not keep rec->signature. */
int store_sign_doc_foreach(lv_store *st, const char *tx_id,
                           int (*fn)(const lv_sign_doc_rec *, void *),
                           void *ctx, lv_err *err);

typedef struct lv_sign_sad_rec {
    char sad_hash[65]; /* SHA-256 hex of the SAD */
    char citizen_id[72];
    char serial[65];
    char digest_alg[16];
    unsigned char *hashes; /* owned: the authorized digests end to end */
    size_t hashes_len;
    int remaining;
    int64_t created_at;
    int64_t expires_at;
} lv_sign_sad_rec;

int store_sign_sad_insert(lv_store *st, const lv_sign_sad_rec *rec,
                          lv_err *err);
int store_sign_sad_get(lv_store *st, const char *sad_hash, lv_sign_sad_rec *out,
                       lv_err *err);
/* remaining -= n if remaining >= n and expires_at > now; LV_ESTATE when
 * not (used up, expired, or a concurrent request took it first). */
int store_sign_sad_consume(lv_store *st, const char *sad_hash, int n,
                           int64_t now, lv_err *err);
/* expires_at of a SAD (credentials/extendTransaction). */
int store_sign_sad_extend(lv_store *st, const char *sad_hash,
                          int64_t expires_at, lv_err *err);
void store_sign_sad_rec_free(lv_sign_sad_rec *rec);

typedef struct lv_sign_otp_rec {
    char citizen_id[72];
    char serial[65];
    char otp_id[33];
    char digest_alg[16];
    unsigned char *hashes; /* owned; NULL when unbound */
    size_t hashes_len;
    int64_t created_at;
} lv_sign_otp_rec;

/* Inserts or replaces the row of (citizen_id, serial). */
int store_sign_otp_put(lv_store *st, const lv_sign_otp_rec *rec, lv_err *err);
int store_sign_otp_get(lv_store *st, const char *citizen_id, const char *serial,
                       lv_sign_otp_rec *out, lv_err *err);
int store_sign_otp_delete(lv_store *st, const char *citizen_id,
                          const char *serial, lv_err *err);
void store_sign_otp_rec_free(lv_sign_otp_rec *rec);

typedef struct lv_sign_acceptance_rec {
    char serial[65];
    char citizen_id[72];
    char *sheet; /* owned */
    char digest_alg[16];
    unsigned char *signature; /* owned */
    size_t signature_len;
    char channel[16]; /* "transaction", "csc" */
    int64_t accepted_at;
} lv_sign_acceptance_rec;

int store_sign_acceptance_insert(lv_store *st,
                                 const lv_sign_acceptance_rec *rec,
                                 lv_err *err);
/* LV_ENOTFOUND while the certificate is not accepted. */
int store_sign_acceptance_get(lv_store *st, const char *serial,
                              lv_sign_acceptance_rec *out, lv_err *err);
void store_sign_acceptance_rec_free(lv_sign_acceptance_rec *rec);

/* ---- signature activation records (sql/011_activation.sql; issue 12) ----
 * R5.2, CEN EN 419 241-1 (SAD): the front end creates a record once it has
 * verified the citizen's password and an OTP bound to the digests, and
 * commits it; llave-keyd, the signature activation module, consumes it in
 * its own transaction before it signs.  A record is bound to one key, one
 * digest algorithm and one list of digests in order; only SHA-256 of its
 * random 256-bit reference is stored, so reading the table yields nothing
 * that keyd would accept. */
#define LV_ACTIVATION_REF_LEN 32
#define LV_ACTIVATION_REC_TTL_MAX 300 /* seconds */
#define LV_ACTIVATION_DIGESTS_MAX 1000

/* SHA-256 over "llave-activation-v2" 0 key_id 0 md 0 n (8 bytes big
 * endian) and the n digests of md ("sha256", "sha384", "sha512") laid end
 * to end. */
int store_activation_binding(const char *key_id, const char *md,
                             const unsigned char *digests, size_t n,
                             unsigned char out[32], lv_err *err);
/* The record id of a reference: SHA-256 of it, lower-case hex. */
int store_activation_id(const unsigned char ref[LV_ACTIVATION_REF_LEN],
                        char id[65], lv_err *err);

/* For the front end: a new record for key_id and the n digests, valid for
 * ttl_seconds (1..LV_ACTIVATION_REC_TTL_MAX), created by `actor` (the
 * citizen who authorized).  ref receives the fresh random reference, its
 * only copy: hand it to keyd and wipe it.  Runs in the caller's
 * transaction when one is open; keyd reads with its own connection, so
 * commit before asking keyd to sign. */
int store_activation_create(lv_store *st, const char *key_id, const char *md,
                            const unsigned char *digests, size_t n,
                            int ttl_seconds, const char *actor,
                            unsigned char ref[LV_ACTIVATION_REF_LEN],
                            lv_err *err);

typedef struct lv_activation_rec {
    char id[65]; /* SHA-256 (hex) of the reference */
    char key_id[65];
    char md[16];
    int64_t n;
    unsigned char binding[32];
    int64_t created_at;
    int64_t expires_at;
    char actor[128];
    int64_t used_at; /* 0 while unused */
    char used_by[128];
    char refusal[128]; /* "" unless a mismatching presentation burnt it */
} lv_activation_rec;

int store_activation_get(lv_store *st, const char *id, lv_activation_rec *out,
                         lv_err *err);
/* For keyd, inside its transaction: marks the record used by `used_by` at
 * `now` if and only if it exists, is unused, has not expired, and is for
 * key_id, md, n and binding; one conditional UPDATE, so two presentations
 * can never both succeed.  LV_EPERM when no row changed. */
int store_activation_consume(lv_store *st, const char *id, const char *key_id,
                             const char *md, int64_t n,
                             const unsigned char binding[32], int64_t now,
                             const char *used_by, lv_err *err);
/* For keyd: a presentation that did not match uses the record up anyway
 * (single use, whatever happens), recording why.  0 also when the record
 * does not exist or was already used. */
int store_activation_burn(lv_store *st, const char *id, int64_t now,
                          const char *used_by, const char *refusal,
                          lv_err *err);

/* ---- key references (store_keys.c) --------------------------------------
 * Every key id a CA or certificate row names, sorted (strcmp) for bsearch:
 * the orphan-key sweep deletes key files no row names.  Caller frees. */
#define STORE_KEY_ID_CAP 64
int store_key_ids(lv_store *st, char (**ids)[STORE_KEY_ID_CAP], size_t *n,
                  lv_err *err);

#endif
