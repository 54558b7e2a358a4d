/* Internal to ra/: helpers the registration files share. */
#ifndef LLAVE_RA_INTERNAL_H
#define LLAVE_RA_INTERNAL_H

#include "audit/audit.h"
#include "ra/ra.h"
#include "store/store.h"
#include "store/store_cert.h"
#include "store/store_ra.h"

#include <stdio.h>

#define RA_COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

_Static_assert(RA_ID_LEN == LV_RA_ID_LEN, "ra.h and store_ra.h agree");

/* ---- validation (no store; unit-tested) ------------------------------------
 * Reads a registration request (the JSON of POST /api/v1/ra/citizens, see
 * docs/API.md) into records, checking every rule: names, birth date,
 * E.164 mobile, email, level, the identity document and its expiry (an
 * expired document is refused, R2.4), the companion passport or identity
 * card an EU registration certificate needs (R2.3).  Unknown fields are
 * refused.  Ids and times are left for the caller.  validate.c */
int ra_citizen_parse(const json_t *in, int64_t now, lv_citizen_rec *c,
                     lv_iddoc_rec *doc, lv_err *err);
/* One "document" object of that request (also used for replacements). */
int ra_document_parse(const json_t *in, int64_t now, lv_iddoc_rec *doc,
                      lv_err *err);
/* The document's end of validity: the earlier of its expiry and its
 * companion's (R2.4). */
int64_t ra_document_valid_until(const lv_iddoc_rec *doc);

/* A fresh record id: 128 random bits as 32 lower-case hex characters. */
int ra_new_id(char out[LV_RA_ID_LEN + 1], lv_err *err);

/* ---- JSON input, as strict as profile/subject.c ----------------------------
 * A string field: 1..max_len bytes, no control characters, no leading or
 * trailing blanks (refused, never silently fixed).  *out is NULL when the
 * field is absent and not required. */
int ra_field_str(const json_t *obj, const char *key, int required,
                 size_t max_len, const char **out, lv_err *err);
/* An optional field that is one of two words, `deflt` when absent, copied
 * into out; `note` ends the refusal ("" for none). */
int ra_field_either(const json_t *obj, const char *key, const char *deflt,
                    const char *other, const char *note, char *out, size_t cap,
                    lv_err *err);
/* A date "YYYY-MM-DD" (or full ISO-8601 UTC); *out 0 when absent. */
int ra_field_date(const json_t *obj, const char *key, int required,
                  int64_t *out, lv_err *err);
/* An optional boolean; *out 0 when absent. */
int ra_field_bool(const json_t *obj, const char *key, int *out, lv_err *err);
/* Every member of obj must be one of allowed (NULL-ended): a misspelt field
 * must not vanish silently. */
int ra_check_keys(const json_t *obj, const char *const *allowed,
                  const char *what, lv_err *err);
/* ISO 3166 alpha-2, upper case. */
int ra_check_country(const char *c, const char *field, lv_err *err);
/* Identity document types a person other than a citizen may present
 * (representatives, linked persons): DNI, NIE, PASSPORT, ID_CARD. */
int ra_check_person_doc(const char *type, lv_err *err);

/* ra_citizen_parse, with the birth date optional (telematic registration:
 * a certificate does not say it). */
int ra_citizen_parse_opt(const json_t *in, int64_t now, int birth_required,
                         lv_citizen_rec *c, lv_iddoc_rec *doc, lv_err *err);

/* ---- writing ---------------------------------------------------------------
 */
/* Records a refused operation in its own transaction (CPS §5.4.1). */
void ra_audit_refusal(lv_store *st, const char *actor, const char *event,
                      const char *object, const lv_err *why,
                      const json_t *extra);
/* An organization's PSD2 attributes (ETSI TS 119 495) as the subject JSON
 * and the organization's listing name them. */
json_t *ra_psd2_json(const lv_org_rec *o);
/* Hands JSON built from the store's rows to the caller: *out = j when the
 * reads went well (rc 0) and j was built; otherwise j is freed and the
 * failure returned. */
int ra_json_out(int rc, json_t *j, json_t **out, lv_err *err);
/* ISO-8601 text of t, or JSON null for 0. */
json_t *ra_time_json(int64_t t);

/* ---- notifications (R2.8, R4.10, R6.2)
 * ---------------------------------------- Best effort: the state change they
 * report has already committed.  Each message sent or failed is recorded in one
 * "notify.send" audit entry for `object` (message ids and channels, never the
 * text). */
typedef struct ra_notice {
    const char *mobile;  /* E.164 or NULL/"" */
    const char *email;   /* or NULL/"" */
    const char *subject; /* email subject */
    const char *text;
} ra_notice;
void ra_notify(const lv_config *cfg, lv_store *st, const char *actor,
               const char *object, const ra_notice *notices, size_t n);

/* ---- shared registration step
 * ------------------------------------------------- */
/* Writes citizen, current document and registration evidence with the
 * "citizen.register" audit entry in one transaction, then starts the
 * activation (R3.1) when auth is given.  c->id, doc->id are assigned here. */
int ra_register_records(lv_auth *auth, lv_store *st, lv_citizen_rec *c,
                        lv_iddoc_rec *doc, const ra_origin *origin,
                        const char *evidence_ref, const json_t *details,
                        ra_registered *out, lv_err *err);

/* A PEM PKCS#10 request of an organization's certificate request, with its
 * own signature checked (R4.6); for fuzz/fuzz_csr.c.  request.c */
int ra_csr_parse(const char *pem, X509_REQ **out, lv_err *err);

#endif
