/* store/store_ra.h — the registration authority's rows (sql/006_ra.sql):
 * citizens, identity documents, registration evidence, organizations and
 * their people, certificate and revocation requests.  Owner: ra/; sign/
 * reads citizens. */
#ifndef LLAVE_STORE_RA_H
#define LLAVE_STORE_RA_H

#include "core/core.h"
#include "store/store.h"

#include <stdint.h>

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

STORE_KEYED(citizen, lv_citizen_rec, id);
int store_citizen_by_person(lv_store *st, const char *person_id,
                            lv_citizen_rec *out, lv_err *err) LV_MUST_USE;

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

int store_iddoc_insert(lv_store *st, const lv_iddoc_rec *rec,
                       lv_err *err) LV_MUST_USE;
/* The citizen's current document. */
int store_iddoc_current(lv_store *st, const char *citizen_id, lv_iddoc_rec *out,
                        lv_err *err) LV_MUST_USE;
/* Marks a current document replaced (LV_ESTATE when it is not current). */
int store_iddoc_retire(lv_store *st, const char *id, const char *reason,
                       int64_t when, lv_err *err) LV_MUST_USE;
int store_iddoc_foreach(lv_store *st, const char *citizen_id,
                        STORE_VISIT(lv_iddoc_rec), lv_err *err) LV_MUST_USE;

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
                              lv_err *err) LV_MUST_USE;
int store_registration_foreach(lv_store *st, const char *citizen_id,
                               STORE_VISIT(lv_registration_rec),
                               lv_err *err) LV_MUST_USE;

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

STORE_KEYED(org, lv_org_rec, id);
int store_org_by_identifier(lv_store *st, const char *org_identifier,
                            lv_org_rec *out, lv_err *err) LV_MUST_USE;

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

STORE_KEYED(org_person, lv_org_person_rec, id);
int store_org_person_foreach(lv_store *st, const char *org_id,
                             STORE_VISIT(lv_org_person_rec),
                             lv_err *err) LV_MUST_USE;
/* Representatives of the organization org_identifier who are the person
 * person_id and whose powers cover `now`. */
int store_org_representative_count(lv_store *st, const char *org_identifier,
                                   const char *person_id, int64_t now,
                                   int *count, lv_err *err) LV_MUST_USE;

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

STORE_KEYED(cert_request, lv_cert_request_rec, id);
/* pending -> approved / rejected; LV_ESTATE when no longer pending. */
int store_cert_request_decide(lv_store *st, const char *id, const char *status,
                              const char *decided_by, const char *reason,
                              const char *cert_serial, int64_t when,
                              lv_err *err) LV_MUST_USE;
/* status NULL: every request; oldest first. */
int store_cert_request_foreach(lv_store *st, const char *status,
                               STORE_VISIT(lv_cert_request_rec),
                               lv_err *err) LV_MUST_USE;
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
                                    lv_err *err) LV_MUST_USE;

#endif
