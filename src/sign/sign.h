/* sign/ — remote signing (R5.1-R5.7, R10.4): relying applications and their
 * signature transactions (the Cl@ve Firma style API), the citizens' cloud
 * signing credentials, CSC signature activation data (SAD), and the
 * signatures themselves: raw PKCS#1 v1.5 over submitted digests and CAdES
 * (CMS SignedData with signing-certificate-v2, optionally with a signature
 * time-stamp from our own TSA).
 *
 * Sole control (R5.2; CEN EN 419 241-1): a citizen's key is in llave-keyd,
 * the signature activation module, and signs only when keyd consumes an
 * activation record bound to that key and exactly those digests.  sign/
 * writes the record (store_activation_create) only right after the
 * citizen's authorization was proved in this same call:
 * auth_citizen_authorize (password + an OTP bound to exactly the digests),
 * or a SAD that such an authorization produced and that is consumed here;
 * then it hands the record's reference to keyd (ca_key_sign_citizen) and
 * wipes it.  Nothing in this header takes an operator identity.
 *
 * Before every signature (R5.5): the citizen is advanced-level, not locked,
 * the identity document is in force, the certificate names the citizen, is
 * not revoked and is within its validity.
 *
 * Every state change writes its audit entry in the same transaction;
 * refusals of a signature are audited too ("sign.refused").
 *
 * Depends on core/, store/, ca/ (and through it keyc/), auth/, audit/ (and ra/
 * for the citizen checks and certificate issuance of R5.3). */
#ifndef LLAVE_SIGN_H
#define LLAVE_SIGN_H

#include "auth/auth.h"
#include "ca/ca.h"
#include "core/core.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

/* What a signing call needs.  Built per request by the caller (http/ from
 * its application context). */
typedef struct lv_sign_env {
    const lv_config *cfg;
    lv_ca *ca;     /* keyd (citizens' keys, R5.2), issuance (R5.3) and the
                      TSA (CAdES-T) */
    lv_auth *auth; /* password + OTP */
    const char *remote_addr; /* the caller's address: throttling and rate
                                limits (issue 11); NULL from the console */
    const char *lang;        /* the reader's language (SMS texts); NULL: es */
    const char *app_name;    /* who asks, when the caller knows (OAuth client):
                                named in the SMS */
    int shows_sheet; /* the caller's page showed the citizen the acceptance
                        sheet of a certificate not yet accepted (the OAuth
                        page): only then may a CSC authorization accept it;
                        a bare CSC client is refused (R5.4, issue 15) */
} lv_sign_env;

/* Once, from the main thread, before any thread signs: the libraries the
 * signature formats use initialize themselves lazily, and that is not
 * thread-safe (xades_init). */
void sign_init(void);

#define LV_SIGN_TX_TTL 900      /* seconds a transaction stays open */
#define LV_SIGN_TX_DOCS_MAX 100 /* documents per transaction */
#define LV_SIGN_SAD_TTL 300     /* seconds a SAD is valid */
#define LV_SIGN_HASHES_MAX 1000 /* digests per CSC authorization */
#define LV_SIGN_SIGNATURES_MAX                                                 \
    100000                    /* numSignatures of one SAD: the                 \
                                 credentials' multisign */
#define LV_SIGN_SECRET_LEN 64 /* hex characters of a client secret */
#define LV_SIGN_SAD_LEN 64    /* hex characters of a SAD */
/* The signatureQualifier of every llave credential (CSC v2 §11.5: qualified
 * electronic signatures under eIDAS, R5.1). */
#define LV_SIGN_QUALIFIER "eu_eidas_qes"

/* Why a signature cannot happen.  The names are the "error" of the API
 * answers, so that applications can tell the cases apart (R5.6). */
typedef enum {
    LV_SIGN_OK = 0,
    LV_SIGN_UNKNOWN_CITIZEN,     /* "unknown_citizen" */
    LV_SIGN_BASIC_LEVEL,         /* "basic_level" (R2.1) */
    LV_SIGN_DOCUMENT_EXPIRED,    /* "document_expired" (R2.4, R5.5) */
    LV_SIGN_NO_CERTIFICATE,      /* "no_valid_certificate" */
    LV_SIGN_CERTIFICATE_BLOCKED, /* "certificate_blocked": revoked */
    LV_SIGN_LOCKED,              /* "citizen_locked" (R3.5) */
    LV_SIGN_NOT_ACTIVE,          /* "citizen_not_active": no password yet */
    LV_SIGN_BAD_PASSWORD,        /* "invalid_password" */
    LV_SIGN_BAD_OTP,             /* "invalid_otp" */
    LV_SIGN_NOT_ACCEPTED,        /* "certificate_not_accepted" (R5.4) */
} lv_sign_refusal;
const char *sign_refusal_name(lv_sign_refusal r);

/* "sha256", "SHA-256", "sha384", ... -> EVP_MD; NULL for anything else
 * (SHA-1 included: R4.1). */
const EVP_MD *sign_md_by_name(const char *name);
/* 2.16.840.1.101.3.4.2.1 (SHA-256), .2 (SHA-384), .3 (SHA-512). */
const EVP_MD *sign_md_by_oid(const char *oid);
/* "sha256" ... */
const char *sign_md_name(const EVP_MD *md);
const char *sign_md_oid(const EVP_MD *md);

/* ---- relying applications (R5.6) ------------------------------------------
 */
typedef struct lv_sign_app_secret {
    char client_id[40];
    char secret[LV_SIGN_SECRET_LEN + 1]; /* shown once; wipe after use */
} lv_sign_app_secret;

/* 1 when name may name an application: 1 to 128 bytes, no control
 * character. */
int sign_app_name_ok(const char *name);
/* What the citizen's pages call application client_id: its registered
 * name, or the client id itself when it has none (sign_tx.c, oauth/). */
void sign_app_display_name(lv_store *st, const char *client_id, char out[129]);

/* Printable text (no control character) of min to max characters, NULL
 * standing for "" : what applications send the citizen's pages to show
 * (sign_tx.c's documents, oauth/'s description and labels).  docs/API.md
 * states these limits in characters, not bytes (a Spanish title is not
 * shorter for having no accents).  s is valid UTF-8, as every jansson
 * string is. */
int sign_text_ok(const char *s, size_t min, size_t max);

/* The answer to a citizen page's login (sign_tx.c, oauth/): the page's
 * view (NULL: out of memory) with the session's token and expires_in. */
int sign_login_answer(json_t *view, const lv_session_token *tok, json_t **out,
                      lv_err *err) LV_MUST_USE;

/* ---- audited changes (sign_util.c), oauth/'s as well --------------------
 * sign_audit: an audit entry of success in the caller's transaction;
 * details is consumed.  sign_update_audited: in one transaction, update
 * (a row's change, guarded by its previous state `from`) and the audit
 * entry of `event` on `object`; details is consumed in every case. */
int sign_audit(lv_store *st, const char *actor, const char *event,
               const char *object, json_t *details, lv_err *err);
typedef int (*lv_row_update_fn)(lv_store *st, const void *row, const char *from,
                                lv_err *err);
int sign_update_audited(lv_store *st, lv_row_update_fn update, const void *row,
                        const char *from, const char *actor, const char *event,
                        const char *object, json_t *details,
                        lv_err *err) LV_MUST_USE;
/* Registers an application: client id "app-<16 hex>", a 256-bit random
 * secret of which only SHA-256 is stored.  Audited as "app.add". */
int sign_app_add(lv_store *st, const char *name, const char *actor,
                 lv_sign_app_secret *out, lv_err *err) LV_MUST_USE;
/* A relying application as the front end knows it once authenticated. */
typedef struct lv_sign_app {
    char client_id[40];
    char name[129];
} lv_sign_app;
/* HTTP Basic credentials of an application; LV_EAUTH for an unknown id, a
 * wrong secret or a disabled application (constant-time compare). */
int sign_app_check(lv_store *st, const char *client_id, const char *secret,
                   lv_sign_app *out, lv_err *err) LV_MUST_USE;
/* [{client_id, name, enabled, created_at, created_by}] (new reference). */
int sign_app_list_json(lv_store *st, json_t **out, lv_err *err) LV_MUST_USE;

/* ---- credentials: the citizens' cloud certificates (R5.3-R5.5) ------------
 */

/* The citizen id of a document number ("12345678Z", or a full person id
 * "IDCES-12345678Z"); LV_ENOTFOUND with why = LV_SIGN_UNKNOWN_CITIZEN. */
int sign_citizen_by_owner(lv_store *st, const char *owner, char citizen_id[72],
                          lv_sign_refusal *why, lv_err *err) LV_MUST_USE;
/* R2.1, R2.4, R3.5: may the citizen sign at all now? */
int sign_citizen_check(lv_store *st, const char *citizen_id,
                       lv_sign_refusal *why, lv_err *err) LV_MUST_USE;
/* The newest usable cloud certificate of the citizen (serial_out).  When
 * there is none: LV_ESTATE with why CERTIFICATE_BLOCKED when the newest
 * one is revoked, NO_CERTIFICATE otherwise. */
int sign_credential_pick(lv_store *st, const char *citizen_id,
                         char serial_out[65], lv_sign_refusal *why,
                         lv_err *err) LV_MUST_USE;
/* R5.5 before every signature: citizen checks plus this certificate. */
int sign_credential_check(lv_store *st, const char *citizen_id,
                          const char *serial, lv_sign_refusal *why,
                          lv_err *err) LV_MUST_USE;
/* A citizen's cloud credential (CSC credentials/list, credentials/info):
 * its certificate and state. */
typedef struct lv_sign_cred {
    char serial[65];
    char ca[32];          /* the issuing CA */
    char profile[48];     /* the profile id */
    char subject_dn[512]; /* as stored, for display */
    int64_t not_before;
    int64_t not_after;
    int revoked;
    unsigned char *der; /* sign_credential_get: the certificate; else NULL */
    size_t der_len;
} lv_sign_cred;
/* The citizen's cloud certificates (key in the store), newest first; der
 * is NULL. */
int sign_credential_foreach(lv_store *st, const char *citizen_id,
                            int (*fn)(const lv_sign_cred *, void *), void *ctx,
                            lv_err *err) LV_MUST_USE;
/* One of the citizen's cloud certificates, with its DER; LV_ENOTFOUND when
 * the serial is not one of them (another citizen's included).
 * sign_cred_free releases it. */
int sign_credential_get(lv_store *st, const char *citizen_id,
                        const char *serial, lv_sign_cred *out,
                        lv_err *err) LV_MUST_USE;
void sign_cred_free(lv_sign_cred *c);
/* R5.3: a certificate at the citizen's will (or the demo ceremony), through
 * ra_citizen_issue with the default profile natural-person-cloud-hsm. */
int sign_credential_issue(const lv_sign_env *env, lv_store *st,
                          const char *citizen_id, const char *actor,
                          char serial_out[65], lv_err *err) LV_MUST_USE;

/* ---- the citizen's history (the portal, issue 15 item 4) ----------------
 * Only the citizen's own transactions: another's id is LV_ENOTFOUND, as an
 * unknown one.  The history is what the purge has kept (sign_keep_hours). */
#define LV_SIGN_HISTORY_MAX 200 /* newest transactions listed */
/* {"transactions": [{id, application, state, created_at, signed_at,
 * documents: [names], certificate_serial}]}, newest first. */
int sign_history_json(lv_store *st, const char *citizen_id, json_t **out,
                      lv_err *err) LV_MUST_USE;
/* The receipt of one transaction: provider, application, citizen, state,
 * times, digest algorithm, the documents with their digests, and the
 * certificate (serial, subject, issuer CA) that signed.  Built only from
 * stored rows, so the same transaction always gives the same object: the
 * portal serializes it with sorted keys and time-stamps those bytes. */
int sign_receipt_json(lv_store *st, const char *provider,
                      const char *citizen_id, const char *id, json_t **out,
                      lv_err *err) LV_MUST_USE;

/* R5.4, CPS §4.4.2: the acceptance sheet of a certificate (malloc'd text
 * the citizen reads and signs with the certificate's key).  *accepted is 1
 * when it has been signed already. */
int sign_acceptance_sheet(lv_store *st, const char *serial, char **text,
                          int *accepted, lv_err *err) LV_MUST_USE;

/* R5.4 in the citizen portal (issue 15 items 3, 4): the page shows the
 * sheet, then an SMS code bound to this sheet's digest (purpose "accept";
 * the SMS names the end of the serial) and the password authorize signing
 * it with the certificate's key; recorded with channel "portal" and
 * audited "cert.accept".  Another citizen's serial is LV_ENOTFOUND; an
 * accepted one LV_ESTATE; a revoked or expired one is refused as for a
 * signature (why). */
int sign_accept_otp(const lv_sign_env *env, lv_store *st,
                    const char *citizen_id, const char *serial,
                    char otp_id[LV_AUTH_OTP_ID_LEN + 1], lv_sign_refusal *why,
                    lv_err *err) LV_MUST_USE;
int sign_accept(const lv_sign_env *env, lv_store *st, const char *citizen_id,
                const char *serial, const char *password, const char *otp_id,
                const char *otp, lv_sign_refusal *why, lv_err *err) LV_MUST_USE;

/* ---- transactions (R5.6)
 * ------------------------------------------------------ Request: {"owner",
 * "digest_algorithm", "documents": [{"id", "name", "title", "digest"
 * (base64)} or {"id", "name", "title", "content" (base64 PDF), "format":
 * "PAdES", "conformance_level"}], "redirect_ok_url", "redirect_error_url",
 * "generate_certificate"
 * (optional, default true: R5.3)}.  Answer:
 * {"id", "state", "path", "url", "expires_at"}.  Refusals fill why. */
int sign_tx_create(const lv_sign_env *env, lv_store *st, const lv_sign_app *app,
                   const json_t *req, json_t **out, lv_sign_refusal *why,
                   lv_err *err) LV_MUST_USE;
/* For the owning application: state, documents and, once signed, the
 * signatures (base64) and the certificate (base64 DER). */
int sign_tx_json(lv_store *st, const lv_sign_app *app, const char *id,
                 json_t **out, lv_err *err) LV_MUST_USE;
/* The application ends a transaction: no signature can happen any more and
 * the signatures are no longer served.  Audited as "sign.tx.end". */
int sign_tx_end(lv_store *st, const lv_sign_app *app, const char *id,
                lv_err *err) LV_MUST_USE;

/* The citizen's side (the page at /sign/{id}).  login: user id + password
 * (auth_citizen_login); the session must be this transaction's owner.
 * *out: {token, expires_in, application, documents, certificate}. */
int sign_tx_login(const lv_sign_env *env, lv_store *st, const char *id,
                  const char *user_id, const char *password, const char *ip,
                  json_t **out, lv_sign_refusal *why, lv_err *err) LV_MUST_USE;
/* Whether transaction id can still be signed (pending or code sent, not
 * expired), for the page before any login (issue 15 item 3); LV_ENOTFOUND
 * for an unknown id.  Says nothing of whose it is. */
int sign_tx_open(lv_store *st, const char *id, int *open,
                 lv_err *err) LV_MUST_USE;
/* What the logged-in owner sees: documents (name, title, digest),
 * application, state, acceptance sheet when one is part of the batch. */
int sign_tx_view(const lv_sign_env *env, lv_store *st, const char *id,
                 const lv_principal *who, json_t **out,
                 lv_err *err) LV_MUST_USE;
/* Sends the OTP bound to the batch (R3.3); at a first signature the
 * certificate is generated here (R5.3) and its acceptance sheet joins the
 * batch (R5.4). */
int sign_tx_send_otp(const lv_sign_env *env, lv_store *st, const char *id,
                     const lv_principal *who, json_t **out,
                     lv_sign_refusal *why, lv_err *err) LV_MUST_USE;
/* The DSS material of a PAdES B-LT/B-LTA transaction document for the
 * credential serial, in the shape of CSC signDoc's validationInfo (new
 * reference): the front end holds the OCSP responses and CRLs. */
typedef int (*lv_sign_vinfo_fn)(void *arg, lv_store *st, const char *citizen_id,
                                const char *serial, json_t **out, lv_err *err);
/* Password + OTP, then the signatures: PKCS#1 over the digests, PAdES for
 * the PDF documents (vinfo may be NULL: the DSS then holds the chain
 * only); *out: {state, redirect}. */
int sign_tx_confirm(const lv_sign_env *env, lv_store *st, const char *id,
                    const lv_principal *who, const char *password,
                    const char *otp, lv_sign_vinfo_fn vinfo, void *vinfo_arg,
                    json_t **out, lv_sign_refusal *why,
                    lv_err *err) LV_MUST_USE;
/* The PDF of document doc_id (issue 14 item 4): signed 1, the signed PDF
 * for the owning application once the transaction is signed (LV_ESTATE
 * before, LV_ENOTFOUND for another application's transaction); signed 0,
 * the PDF as sent for the citizen (who) reviewing the open transaction.
 * *pdf (malloc'd) and *name (the document's name, malloc'd). */
int sign_tx_pdf(lv_store *st, const char *id, const char *doc_id,
                const lv_sign_app *app, const lv_principal *who,
                unsigned char **pdf, size_t *len, char **name,
                lv_err *err) LV_MUST_USE;
/* The citizen declines; *out: {state, redirect} (the error URL). */
int sign_tx_cancel(lv_store *st, const char *id, const lv_principal *who,
                   json_t **out, lv_err *err) LV_MUST_USE;

/* ---- CSC (R10.4): SAD and hash signing
 * ------------------------------------------ A credential is one of the
 * citizen's cloud certificates, named by its serial (credentialID).  hashes are
 * digests of md laid end to end. */

/* credentials/sendOTP.  Without hashes (the CSC explicit flow, and the
 * default) the OTP is bound to the credential and its short life, and the
 * SAD of credentials/authorize to exactly the hashes sent with it (SCAL2);
 * with hashes (our documented extension) the OTP is bound to them too.
 * csc_otp_hashes 1 makes the hashes mandatory. */
int sign_csc_send_otp(const lv_sign_env *env, lv_store *st,
                      const char *citizen_id, const char *serial,
                      const EVP_MD *md, const unsigned char *hashes, size_t n,
                      lv_sign_refusal *why, lv_err *err) LV_MUST_USE;
/* credentials/authorize: PIN (password) + OTP -> SAD (hex) for up to
 * num_signatures signatures of these hashes, valid LV_SIGN_SAD_TTL s.  A
 * certificate not yet accepted has its acceptance sheet signed here too
 * (R5.4; the OTP then also covers the sheet). */
int sign_csc_authorize(const lv_sign_env *env, lv_store *st,
                       const char *citizen_id, const char *serial,
                       const EVP_MD *md, const unsigned char *hashes, size_t n,
                       int num_signatures, const char *pin, const char *otp,
                       char sad_out[LV_SIGN_SAD_LEN + 1], int *expires_in,
                       lv_sign_refusal *why, lv_err *err) LV_MUST_USE;
/* credentials/extendTransaction (CSC API v2.0.0.2 §11.9): a new SAD for
 * the signatures the unexpired SAD has left, which is used up at once.  It
 * is bound to the n hashes given (at most the signatures left: the PDF
 * multi-signature flow, §13.12), or with n 0 to the old SAD's hashes (a
 * renewal).  LV_EPERM for a SAD that is unknown, expired, used up, or
 * another credential's. */
int sign_csc_extend(lv_store *st, const char *citizen_id, const char *serial,
                    const char *sad, const EVP_MD *md,
                    const unsigned char *hashes, size_t n,
                    char sad_out[LV_SIGN_SAD_LEN + 1], int *expires_in,
                    lv_err *err) LV_MUST_USE;
/* signatures/signHash: n PKCS#1 v1.5 signatures (*sigs, n * *sig_len). */
int sign_csc_sign_hash(const lv_sign_env *env, lv_store *st,
                       const char *citizen_id, const char *serial,
                       const char *sad, const EVP_MD *md,
                       const unsigned char *hashes, size_t n,
                       unsigned char **sigs, size_t *sig_len,
                       lv_sign_refusal *why, lv_err *err) LV_MUST_USE;

/* What signatures/signDoc takes of every format (CSC v2 §11.11): the
 * credential, the SAD, the digest algorithm (of the document and of the
 * signature) and the document exactly as sent. */
typedef struct lv_doc_req {
    const char *serial;
    const char *sad;
    const EVP_MD *md;
    const unsigned char *doc;
    size_t doc_len;
} lv_doc_req;

/* signatures/signDoc, CAdES (ETSI EN 319 122-1): CMS SignedData over a
 * document, or over its digest when doc is NULL (detached only), with
 * contentType, signingTime, messageDigest and signing-certificate-v2;
 * with `timestamp` a signature time-stamp (id-aa-signatureTimeStampToken)
 * from the TSA (CAdES-T).  The SAD must authorize md(document). */
typedef struct lv_cades_req {
    lv_doc_req d;                /* d.doc NULL: digest given */
    const unsigned char *digest; /* when d.doc is NULL */
    int attached;                /* eContent carries the document */
    int timestamp;               /* CAdES-T */
} lv_cades_req;
/* *der is freed with OPENSSL_free. */
int sign_csc_sign_cades(const lv_sign_env *env, lv_store *st,
                        const char *citizen_id, const lv_cades_req *req,
                        unsigned char **der, size_t *der_len,
                        lv_sign_refusal *why, lv_err *err) LV_MUST_USE;

/* ---- purge (issue 14 item 6; sign_purge.c) ------------------------------
 * Deletes, in one transaction with one "sign.purge" audit entry, what
 * remote signing no longer needs: transactions (and documents) expired,
 * signed or ended more than sign_keep_hours ago, SADs and activation
 * records expired or used up as long ago, CSC OTP bindings, and the
 * one-time codes and sessions auth_purge lets go.  Audit entries stay. */
typedef struct lv_sign_purge_counts {
    int transactions, sads, csc_otps, activations, otps;
    int oauth; /* what the hook removed (OAuth codes and tokens) */
} lv_sign_purge_counts;
/* What a component above sign/ (oauth/) adds to the same transaction:
 * rows older than `before`; *count: how many. */
typedef int (*lv_purge_hook)(lv_store *st, int64_t before, int *count,
                             lv_err *err);
int sign_purge(const lv_config *cfg, lv_store *st, int64_t now,
               lv_purge_hook hook, lv_sign_purge_counts *out,
               lv_err *err) LV_MUST_USE;
/* llaved's thread, a job (lv_job_stop stops it) with its own store:
 * sign_purge (with hook, may be NULL) at start and every
 * purge_interval_seconds. */
int sign_purger_start(const lv_config *cfg, lv_purge_hook hook, lv_job **out,
                      lv_err *err) LV_MUST_USE;

/* signatures/signDoc, XAdES (ETSI EN 319 132-1, through xades/): B-B with
 * SigningTime and SigningCertificateV2, or with `timestamp` B-T (a
 * SignatureTimeStamp from our TSA); enveloped (the XML document with its
 * ds:Signature) or detached (the ds:Signature alone, whose reference names
 * the document "document").  The SAD must authorize md(document); it is
 * consumed only once xades/ took the document, so a document that is not
 * well-formed XML (enveloped), carries a DTD or is too large (LV_EINVAL,
 * LV_ETOOBIG) changes nothing stored. */
typedef struct lv_xades_req {
    lv_doc_req d;
    int enveloped; /* 0: detached */
    int timestamp; /* XAdES-B-T */
} lv_xades_req;
/* *out (malloc'd, free) is the UTF-8 XML. */
int sign_csc_sign_xades(const lv_sign_env *env, lv_store *st,
                        const char *citizen_id, const lv_xades_req *req,
                        unsigned char **out, size_t *out_len,
                        lv_sign_refusal *why, lv_err *err) LV_MUST_USE;

/* signatures/signDoc, PAdES (ETSI EN 319 142-1, through pades/): an
 * approval signature (ISO 32000-1 §12.8) appended to the PDF as an
 * incremental update, at level B-B, B-T (a signature time-stamp from our
 * TSA), B-LT (+ a DSS with the chain, OCSP responses and CRLs) or B-LTA
 * (+ a document time-stamp).  The SAD must authorize md(document), the PDF
 * exactly as sent; it is consumed only once pades/ accepted the PDF (qpdf
 * parses it cleanly, not encrypted, has a page, at most 32 MB), so a
 * document pades/ refuses (LV_EINVAL, LV_ETOOBIG) changes nothing stored. */
typedef struct lv_pades_req {
    lv_doc_req d;
    int level; /* 0 B-B, 1 B-T, 2 B-LT, 3 B-LTA */
    /* B-LT and B-LTA: the DSS's validation material, in the shape of
     * signDoc's validationInfo ({certificates, ocsp, crl}: arrays of
     * base64 DER); the signer and its chain are always added. */
    const json_t *validation;
} lv_pades_req;
/* *out (malloc'd, free) is the input PDF followed by the updates. */
int sign_csc_sign_pades(const lv_sign_env *env, lv_store *st,
                        const char *citizen_id, const lv_pades_req *req,
                        unsigned char **out, size_t *out_len,
                        lv_sign_refusal *why, lv_err *err) LV_MUST_USE;

/* n signatures of the SAD given back, audited as
 * sign.csc.sad_release with why->msg: signDoc consumed them but answered
 * an error (the time-stamp refused after the signature, keyd gone), so
 * nothing was returned and the client retries with the same SAD instead
 * of a new OTP (as auth_otp_release does for the transaction API).  The
 * SAD still binds the same hashes: no new document can be signed. */
void sign_csc_sad_give_back(lv_store *st, const char *citizen_id,
                            const char *serial, const char *sad, int n,
                            const lv_err *why);

#endif
