/* ra/ — the registration authority: citizens and their identity documents
 * (R2.1-R2.6, R2.9), telematic registration with a recognised electronic
 * certificate (R2.2), organizations with their representatives and linked
 * persons (R2.7), certificate requests decided by a second person (R1.5,
 * R2.8) and revocation requests (R6.1, R6.2).
 *
 * ra/ decides who may get which certificate and records the evidence; ca/
 * issues and revokes; auth/ proves who is asking (sessions, password + OTP)
 * and sends activation codes; notify/ tells applicants and holders.
 * Callers authenticate operators themselves (http/ through
 * auth_session_check, the console under its operator identity) and pass
 * the resulting actor string, which every audit entry written here names.
 *
 * Every state change is one store transaction with its audit entry; every
 * refusal leaves the store as it was and is audited when it is a security
 * event (self-approval, entitlement, telematic authentication).
 *
 * Depends on core/, store/, audit/, ca/, auth/, notify/. */
#ifndef LLAVE_RA_H
#define LLAVE_RA_H

#include "auth/auth.h"
#include "ca/ca.h"
#include "core/core.h"

/* Record ids (citizens, organizations, requests): 128 random bits as 32
 * lower-case hex characters (store_ra.h's LV_RA_ID_LEN). */
#define RA_ID_LEN 32

/* CPS §4.2.1: registration evidence is kept 15 years. */
#define RA_RETENTION_SECONDS ((int64_t)15 * 36524 * 86400 / 100)

/* How a registration act happened, for its evidence record (R2.6). */
typedef struct ra_origin {
    const char *actor;  /* audit actor: operator:<login>, console:<user> */
    const char *method; /* "face_to_face", "console" ("ecert" is set by
                           ra_register_ecert) */
} ra_origin;

/* ---- validation (no store; unit-tested) --------------------------------- */

/* ETSI EN 319 412-1 §5.1.3 semantics identifier of a person from an
 * identity document: DNI, NIE, TIE and EU_REGISTRATION (a Spanish NIE) give
 * IDCES-<number> after the check letter is verified (profile_check_dni_nie);
 * PASSPORT gives PAS<country>-<number>, ID_CARD IDC<country>-<number>. */
int ra_person_id(const char *id_type, const char *number, const char *country,
                 char out[64], lv_err *err) LV_MUST_USE;

/* ---- citizens (R2.1-R2.6) ---------------------------------------------------
 */

typedef struct ra_registered {
    char citizen_id[RA_ID_LEN + 1];
    char person_id[64];
    char user_id[33];    /* what the citizen logs in with (Cl@ve: the
                            document number) */
    int activation_sent; /* R3.1: activation code sent by SMS */
    char activation_error[LV_ERR_MSG_MAX]; /* why not, when not */
} ra_registered;

/* Face-to-face (or console) registration: citizen, current document and
 * registration evidence (who, when, how, evidence_ref; retained 15 years)
 * in one transaction audited as "citizen.register".  Then, with auth given,
 * the activation code goes to the registered mobile (R3.1); a failure to
 * send does not undo the registration (ra_citizen_activation_resend). */
int ra_citizen_register(lv_auth *auth, lv_store *st, const json_t *in,
                        const ra_origin *origin, ra_registered *out,
                        lv_err *err) LV_MUST_USE;
int ra_citizen_activation_resend(lv_auth *auth, lv_store *st,
                                 const char *citizen_id, const char *actor,
                                 lv_err *err) LV_MUST_USE;

/* R2.5: a duplicate (loss, theft, damage) or renewed document replaces the
 * current one; certificates already issued are kept.  The new document
 * must name the same person (same identity number).  Body:
 * {"reason": "loss"|"theft"|"damage"|"renewal", "evidence_ref": "...",
 *  "document": {...}}.  Audited as "citizen.document_replace". */
int ra_citizen_replace_document(lv_store *st, const char *citizen_id,
                                const json_t *in, const ra_origin *origin,
                                lv_err *err) LV_MUST_USE;

/* The citizen as JSON: data, level, documents, registration evidence and
 * certificates (new reference). */
int ra_citizen_json(lv_store *st, const char *citizen_id, json_t **out,
                    lv_err *err) LV_MUST_USE;

/* R2.1, R2.4, R5.5: may this citizen sign now?  LV_EPERM for a basic-level
 * registration, LV_ESTATE when the identity document has expired (its
 * certificates become unusable for signing even if still within their
 * validity), LV_ENOTFOUND for an unknown citizen. */
int ra_citizen_check_signing(lv_store *st, const char *citizen_id, int64_t now,
                             lv_err *err) LV_MUST_USE;
/* The same plus the certificate: it must name this citizen, be valid now
 * and not revoked (R5.5, CPS §4.9.6). */
int ra_cert_check_signing(lv_store *st, const char *citizen_id,
                          const char *serial, int64_t now,
                          lv_err *err) LV_MUST_USE;

/* The natural-person subject JSON for ca_issue built from the stored
 * registration (field names of examples/subjects/natural-person-cloud.json,
 * document_expiry included so that R2.4 caps notAfter). */
int ra_citizen_subject(lv_store *st, const char *citizen_id, json_t **out,
                       lv_err *err) LV_MUST_USE;
/* Issues a citizen's cloud signing certificate (R5.3: at the citizen's
 * will or at the first signature).  profile_id NULL means
 * natural-person-cloud-hsm; only natural-person cloud profiles are
 * accepted.  Basic level: LV_EPERM (R2.1); expired document: LV_ESTATE;
 * a valid certificate of that profile already held: LV_EEXISTS (R2.9). */
int ra_citizen_issue(lv_ca *ca, lv_store *st, const char *citizen_id,
                     const char *profile_id, const char *actor,
                     lv_issue_result *out, lv_err *err) LV_MUST_USE;

/* ---- telematic registration (R2.2) ------------------------------------------
 * body is a CMS SignedData with attached content (`openssl cms -sign
 * -nodetach`, DER or PEM) made with a recognised certificate: one signer,
 * chaining to the PEM bundle cfg->ecert_trust_file (relative paths are
 * under DIR), not revoked per the CRLs in that bundle for its issuer nor,
 * when we issued it, per our own store, with a signingTime within
 * RA_ECERT_MAX_AGE of now.  The certificate's subject gives the person
 * (serialNumber IDCES-... or a bare DNI/NIE, givenName, surname, C); the
 * signed JSON gives {"mobile", "email"} and optionally "birth_date" and
 * "document_expiry" (without it the signer certificate's notAfter stands
 * in for the document's validity).  Registered at the advanced level,
 * method "ecert", the CMS kept as evidence; then activation as above.
 * Failures: LV_EINVAL malformed, LV_EAUTH untrusted / revoked / stale
 * (audited), LV_EEXISTS already registered, LV_ESTATE no trust list. */
#define RA_ECERT_MAX_AGE 900
/* How the citizen proves holding the recognised certificate: a CMS request
 * (cms, cms_len: the body of POST /api/v1/register/ecert) or, over
 * llaved's https (issue 17 item 4), the TLS client certificates (peer_der,
 * peer_len, npeer: leaf first, then what the client sent beside it) with
 * the request's JSON (content, as read from body/body_len, whose digest
 * the evidence keeps; no signing time is needed, the handshake proved
 * possession).  content set selects the TLS path, method "ecert-tls". */
typedef struct ra_ecert_proof {
    const unsigned char *cms;
    size_t cms_len;
    const unsigned char *const *peer_der;
    const size_t *peer_len;
    int npeer;
    const json_t *content;
    const unsigned char *body;
    size_t body_len;
} ra_ecert_proof;
int ra_register_ecert(lv_auth *auth, lv_store *st, const lv_config *cfg,
                      const ra_ecert_proof *proof, const char *ip,
                      ra_registered *out, lv_err *err) LV_MUST_USE;

/* ---- organizations (R2.7) ------------------------------------------------ */

/* {"legal_name", "nif", "country" (ES), "kind" ("legal_person"|"entity"),
 *  "locality", "business_category", "contact_email", "contact_mobile",
 *  "psd2": {"nca_name", "nca_id", "roles": [...], "authorization_number"}}.
 * The NIF is checked (profile_check_cif) for ES; audited as "org.create". */
int ra_org_create(lv_store *st, const json_t *in, const char *actor,
                  char id_out[RA_ID_LEN + 1], lv_err *err) LV_MUST_USE;
/* role "representative": {"given_name", "surname", "id_type", "id_number",
 * "id_country", "document_expiry", "email", "title", "unit", "powers":
 * {"scope", "from", "until", "document"}}; role "member" (linked person):
 * the same without powers, "unit" and "title" naming their place in the
 * organization.  Audited as "org.person_add". */
int ra_org_add_person(lv_store *st, const char *org_id, const char *role,
                      const json_t *in, const char *actor,
                      char id_out[RA_ID_LEN + 1], lv_err *err) LV_MUST_USE;
/* Organization, people, requests and certificates (new reference). */
int ra_org_json(lv_store *st, const char *org_id, json_t **out,
                lv_err *err) LV_MUST_USE;

/* ---- certificate requests (R1.5, R2.8) --------------------------------------
 * {"org_id", "profile", "person" (representative / linked person id for
 *  person profiles), "common_name" and "unit" (seals), "dns_names" (web),
 *  "csr" (PEM, for profiles whose key the subscriber holds), "test"}.
 * The subject is built from the stored organization and person and checked
 * with profile_subject_build now, so a pending request is complete (R2.8).
 * Audited as "ra.request.create". */
int ra_request_create(lv_store *st, const json_t *in, const char *actor,
                      char id_out[RA_ID_LEN + 1], lv_err *err) LV_MUST_USE;
/* Approval by a second person (R1.5): actor must differ from the creator
 * (LV_EPERM, audited) and the request be pending (LV_ESTATE).  Powers of a
 * representative must still be in force.  Issues through ca_issue; a
 * refusal of the CA (R2.9 ...) leaves the request pending.  The applicant
 * (organization contact) is notified.  Audited as "ra.request.approve". */
int ra_request_approve(lv_ca *ca, lv_store *st, const char *request_id,
                       const char *actor, lv_issue_result *out,
                       lv_err *err) LV_MUST_USE;
/* Rejection with a reason by a second person; applicant notified.  Audited
 * as "ra.request.reject". */
int ra_request_reject(lv_store *st, const lv_config *cfg,
                      const char *request_id, const char *actor,
                      const char *reason, lv_err *err) LV_MUST_USE;
int ra_request_json(lv_store *st, const char *request_id, json_t **out,
                    lv_err *err) LV_MUST_USE;
/* status NULL: all. */
int ra_request_list_json(lv_store *st, const char *status, json_t **out,
                         lv_err *err) LV_MUST_USE;

/* ---- revocation requests (R6.1, R6.2)
 * ---------------------------------------- */

typedef struct ra_revocation {
    const char *serial;  /* hex, either case */
    const char *reason;  /* RFC 5280 name: unspecified, keyCompromise, ... */
    const char *comment; /* the detailed reason (CPS §4.9.3.1); may be NULL */
    const char *contact; /* how to reach the requester; may be NULL */
} ra_revocation;

/* By a revocation officer (authenticated by the caller). */
int ra_revoke_by_officer(lv_ca *ca, lv_store *st, const ra_revocation *r,
                         const char *actor, lv_err *err) LV_MUST_USE;
/* Self-service: the citizen must be the person named in the certificate,
 * its subscriber, or a representative with powers in force of the
 * subscriber organization (LV_EPERM otherwise, audited).  First an OTP
 * bound to ("revoke", serial) goes to their mobile ... */
int ra_revoke_otp_send(lv_auth *auth, lv_store *st, const char *citizen_id,
                       const char *serial, const char *ip, const char *lang,
                       char otp_id[LV_AUTH_OTP_ID_LEN + 1],
                       lv_err *err) LV_MUST_USE;
/* ... then password + that OTP authorize the revocation (R3.4). */
int ra_revoke_by_citizen(lv_auth *auth, lv_ca *ca, lv_store *st,
                         const char *citizen_id, const ra_revocation *r,
                         const char *password, const char *otp_id,
                         const char *otp, const char *ip,
                         lv_err *err) LV_MUST_USE;

/* R6.2: publishes a revocation ca_revoke has committed, at once: the CA's
 * CRL (out->crl_number is set when it was made) and the certificate's OCSP
 * response.  A failure (sealed keyd, say) is logged and left to llaved's
 * keepers.  Every revocation path calls it: the ones above and `llave cert
 * revoke`. */
void ra_revoke_publish(lv_ca *ca, lv_store *st, const char *actor,
                       lv_revoke_result *out);

#endif
