/* ca/ — the certification authority: the profile table of every certificate
 * type of CPS §1.2.1, subject validation (CPS §3.1.1), issuance, and the key
 * ceremony.  Never parses HTTP; reads keys only through keys/.
 * Depends on core/, store/, keys/, audit/. */
#ifndef LLAVE_CA_H
#define LLAVE_CA_H

#include "audit/audit.h"
#include "core/core.h"
#include "keyc/keyc.h"
#include "store/store.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* ---- profiles (R4.3, R4.4) ------------------------------------------- */

/* Which CA signs a profile's certificates (CPS §1.3.1). */
typedef enum { LV_ISSUER_QUALIFIED, LV_ISSUER_STANDARD } lv_issuer_kind;

/* The subject DN rules of CPS §3.1.1 that apply. */
typedef enum {
    LV_SUBJ_NATURAL,    /* §3.1.1.1 */
    LV_SUBJ_LINKED,     /* §3.1.1.2 */
    LV_SUBJ_REP_LEGAL,  /* §3.1.1.3 legal-person representative */
    LV_SUBJ_REP_ENTITY, /* §3.1.1.4 entity without legal personality */
    LV_SUBJ_SEAL,       /* §3.1.1.5 */
    LV_SUBJ_TSA,        /* §1.4.1.12, a seal of the provider itself */
    LV_SUBJ_WEB_EV,     /* CABF EV guidelines §9.2 */
    LV_SUBJ_WEB_OV,     /* CABF BR §7.1.4.2 */
} lv_subject_kind;

/* Where the subject's private key lives (R4.6, R5.1). */
typedef enum {
    LV_CUSTODY_SUBSCRIBER, /* CSR, or a key pair delivered in PKCS#12 */
    LV_CUSTODY_CLOUD,      /* generated and kept in the key store */
    LV_CUSTODY_CLOUD_HSM,  /* idem, in the QSCD: QcSSCD present */
    LV_CUSTODY_PROVIDER,   /* the provider's own service key (TSA) */
} lv_custody;

typedef enum {
    LV_QCTYPE_NONE,
    LV_QCTYPE_ESIGN,
    LV_QCTYPE_ESEAL,
    LV_QCTYPE_WEB
} lv_qctype;

typedef struct lv_profile {
    const char *id;          /* kebab-case, e.g. natural-person-cloud-hsm */
    const char *oid_suffix;  /* appended to the enterprise arc: "1.1.1" */
    const char *name;        /* English name */
    const char *name_es;     /* the CPS's own name */
    const char *cps_section; /* "1.4.1.1" */
    const char *etsi_policy; /* QCP-n 0.4.0.194112.1.0, ... */
    const char *etsi_policy_name;
    const char
        *extra_policies[2]; /* CABF EV, Spanish AGE profiles; NULL-ended */
    lv_issuer_kind issuer;
    lv_subject_kind subject;
    lv_custody custody;
    int qualified; /* QcCompliance */
    int qscd;      /* QcSSCD (only Cloud HSM / QSCD types) */
    lv_qctype qctype;
    int psd2;                  /* PSD2 QCStatement 0.4.0.19495.2 */
    int wildcard;              /* DNS names may start with "*." */
    const char *key_usage;     /* OpenSSL keyUsage list, always critical */
    const char *ext_key_usage; /* OpenSSL extendedKeyUsage list or NULL */
    int eku_critical;
    int validity_days;
    const char *user_notice; /* explicitText of the policy user notice */
    int internal;            /* the provider's own (OCSP responder): not
                                issued through `cert issue` */
    int ocsp_nocheck;        /* id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1) */
} lv_profile;

const lv_profile *ca_profiles(size_t *count);
const lv_profile *ca_profile_find(const char *id);
/* The profile's CPS policy OID under the configured arc. */
int ca_profile_oid(const lv_config *cfg, const lv_profile *p, char *out,
                   size_t cap);

/* ---- subject validation (CPS §3.1.1, R2.3, R2.7) ---------------------- */

/* DNI: 8 digits + check letter; NIE: X/Y/Z + 7 digits + letter. */
int ca_check_dni_nie(const char *id, lv_err *err);
/* Spanish NIF of an organization (CIF): letter + 7 digits + control. */
int ca_check_cif(const char *id, lv_err *err);

/* A validated subject: the DN and SubjectAltName to put in the certificate
 * and the identifiers R2.9 counts by. */
typedef struct lv_subject {
    X509_NAME *dn;
    GENERAL_NAMES *san;     /* NULL when none */
    char subject_id[72];    /* IDCES-…, VATES-…, or the first DNS name */
    char subscriber_id[72]; /* organization id, or subject_id */
    int64_t not_after_cap;  /* document expiry (R2.4), 0 when none */
    int test;               /* "test": true (R4.7) */
    /* PSD2 (ETSI TS 119 495) */
    char psd2_nca_name[128];
    char psd2_nca_id[16];
    int psd2_roles; /* bit set of LV_PSD2_* */
} lv_subject;

enum { LV_PSD2_AS = 1, LV_PSD2_PI = 2, LV_PSD2_AI = 4, LV_PSD2_IC = 8 };

/* Checks the JSON subject against the profile's DN rules and builds it.
 * Every violation gets its own message naming the field. */
int ca_subject_build(const lv_profile *p, const json_t *subject,
                     lv_subject *out, lv_err *err);
void ca_subject_free(lv_subject *s);

/* ---- the CA context ---------------------------------------------------- */
typedef struct lv_ca lv_ca;

/* Loads the CA records written by the ceremony (st is only read during the
 * call).  Keys are reached only through llave-keyd (issue 12), on
 * cfg->keyd_socket or DIR/keyd.sock, as `caller` (KEYD_CALLER_SERVICE
 * for llaved, _CONSOLE for llave); nothing is connected yet.  While keyd is
 * sealed every operation needing a private key fails with LV_ESEALED, and
 * while it is unreachable with LV_EBUSY (503): the CA still serves its
 * certificates.  The context is read-only afterwards and may be shared by
 * threads; each thread passes its own lv_store to the calls below. */
#define CA_KEY_ID_MAX KEYD_KEY_ID_MAX
int ca_open(const lv_config *cfg, lv_store *st, int caller, lv_ca **out,
            lv_err *err);
void ca_close(lv_ca *ca);
/* 1 in *outdated when the CA rows in the store differ from the loaded ones
 * (a rollover, a compromise or a new TSU made by the console): a running
 * llaved then loads a fresh context (issue 12 item 5). */
int ca_outdated(const lv_ca *ca, lv_store *st, int *outdated, lv_err *err)
    __attribute__((warn_unused_result));
const lv_config *ca_config(const lv_ca *ca);
/* The CA certificate for a short name (root, qualified, ...), or NULL; the
 * DER form is cached for serving. */
X509 *ca_cert(const lv_ca *ca, const char *name);
int ca_cert_der(const lv_ca *ca, const char *name, const unsigned char **der,
                size_t *len);
/* PEM chain: issuing CAs then root. */
int ca_export_chain(lv_ca *ca, const char *outdir, lv_err *err);

/* ---- issuance (R4.5, R4.6, R2.9, R5.1) -------------------------------- */
typedef struct lv_issue_req {
    const char *profile_id;
    const json_t *subject;
    X509_REQ *csr;            /* optional; its signature is checked */
    const char *p12_password; /* non-cloud without CSR: deliver PKCS#12 */
    const char *actor;        /* who asked, for the audit trail */
    const char *key_type;     /* optional: the type of a key generated in
                                 llave-keyd ("rsa4096", "ec-p256"); NULL:
                                 the profile's default (R4.1) */
    EVP_PKEY *p12_key;        /* with p12_password: the key pair to deliver,
                                 generated by the console (CPS §6.1.2), so that
                                 llaved generates no private key (issue 12) */
} lv_issue_req;

typedef struct lv_issue_result {
    X509 *cert;
    char serial[65];
    char key_id[CA_KEY_ID_MAX + 1]; /* cloud keys: id in the key store */
    unsigned char *p12;             /* PKCS#12 when delivered */
    size_t p12_len;
} lv_issue_result;

int ca_issue(lv_ca *ca, lv_store *st, const lv_issue_req *req,
             lv_issue_result *out, lv_err *err);
void ca_issue_result_free(lv_issue_result *r);

/* Hex serial as `openssl x509 -serial` prints it (upper case, even length). */
int ca_serial_hex(const ASN1_INTEGER *serial, char out[65]);

/* ---- ceremony (R4.1, R4.2, R9.5) -------------------------------------- */
typedef struct lv_ceremony_opts {
    const char *participants; /* names recorded in the transcript */
    int demo;                 /* keep two shares in DIR (insecure) */
} lv_ceremony_opts;

/* The ceremony in two steps around the key store, which only the console
 * creates (keys_create; issue 12: the key code is linked into llave and
 * llave-keyd, never into llaved).
 * ca_ceremony_prepare refuses a directory that holds an installation,
 * creates DIR and writes llave.json.  ca_ceremony then, with a llave-keyd
 * serving the new, unsealed key store on cfg->keyd_socket (or
 * DIR/keyd.sock) for the console class, creates the database, the CA
 * hierarchy (keys generated inside keyd), TSA and OCSP-responder
 * certificates, and a transcript in DIR/ceremony/ signed by the root key
 * through keyd. */
int ca_ceremony_prepare(const lv_config *cfg, const lv_ceremony_opts *opts,
                        lv_err *err);
int ca_ceremony(const lv_config *cfg, const lv_ceremony_opts *opts,
                lv_err *err);

/* The demo ceremony keeps two shares in DIR/demo-shares.INSECURE so that a
 * demo keyd starts unattended (llave-keyd reads it itself: llaved never
 * handles a share). */
#define LV_DEMO_SHARES_FILE "demo-shares.INSECURE"

/* ---- OCSP responder (R6.4, RFC 6960; src/ca/ocsp.c) ------------------- */

/* Re-signs and stores the pre-signed OCSP response of one end-entity
 * certificate (DESIGN "Status"): call it right after a status change has
 * committed.  Needs the issuing CA's responder key (LV_ESEALED when sealed);
 * LV_ENOTFOUND for an unknown serial. */
int ca_ocsp_refresh(lv_ca *ca, lv_store *st, const char *serial, lv_err *err);
/* The same for every certificate issued by the CA `ca_name` (compromise
 * drill, R6.5). */
int ca_ocsp_refresh_ca(lv_ca *ca, lv_store *st, const char *ca_name,
                       lv_err *err);
/* Re-signs up to `max` stored responses whose nextUpdate falls before
 * now + the refresh margin, and fills responses still missing; *done
 * receives how many were signed.  llaved's refresher thread calls it. */
int ca_ocsp_refresh_due(lv_ca *ca, lv_store *st, int max, int *done,
                        lv_err *err);

/* One answer of the responder. */
typedef struct lv_ocsp_answer {
    unsigned char *der; /* DER OCSPResponse */
    size_t len;
    int status;          /* OCSPResponseStatus: 0 successful, 1 malformed-
                            Request, 2 internalError, 3 tryLater, 6 unauthorized */
    int cacheable;       /* no nonce: HTTP caches may keep it (RFC 5019 §6) */
    int64_t this_update; /* of a successful answer */
    int64_t next_update;
} lv_ocsp_answer;

/* Answers one DER OCSPRequest.  Protocol errors (malformedRequest,
 * unauthorized, tryLater, ...) are answers, not failures: a negative code
 * means no response could be built at all. */
int ca_ocsp_respond(lv_ca *ca, lv_store *st, const unsigned char *req,
                    size_t req_len, lv_ocsp_answer *out, lv_err *err);
/* The same, without signing anything (issue 11: the I/O threads serve only
 * ready answers): a pre-signed response, or an error answer.  When the
 * request needs a fresh signature, returns 0 with out->der NULL; the caller
 * then asks ca_ocsp_respond on a signing thread. */
int ca_ocsp_respond_ready(lv_ca *ca, lv_store *st, const unsigned char *req,
                          size_t req_len, lv_ocsp_answer *out, lv_err *err);
void ca_ocsp_answer_free(lv_ocsp_answer *a);

/* llaved's OCSP refresher: a thread with its own store connection that runs
 * ca_ocsp_refresh_due every ocsp_refresh_interval seconds, at a lower CPU
 * priority than the request threads.  Not started (and *out NULL) while the
 * key store is sealed. */
typedef struct lv_ocsp_refresher lv_ocsp_refresher;
int ca_ocsp_refresher_start(lv_ca *ca, lv_ocsp_refresher **out, lv_err *err);
void ca_ocsp_refresher_stop(lv_ocsp_refresher *r);

/* ---- revocation (R6.1, R6.2; src/ca/revoke.c) -------------------------
 * RFC 5280 §5.3.1 CRLReason codes.  certificateHold and removeFromCRL exist
 * only to be refused: no suspension, no reactivation (CPS §4.9.3, §4.9.12). */
enum {
    LV_REASON_UNSPECIFIED = 0,
    LV_REASON_KEY_COMPROMISE = 1,
    LV_REASON_CA_COMPROMISE = 2,
    LV_REASON_AFFILIATION_CHANGED = 3,
    LV_REASON_SUPERSEDED = 4,
    LV_REASON_CESSATION = 5,
    LV_REASON_CERTIFICATE_HOLD = 6,
    LV_REASON_REMOVE_FROM_CRL = 8,
    LV_REASON_PRIVILEGE_WITHDRAWN = 9,
    LV_REASON_AA_COMPROMISE = 10,
};

/* "keyCompromise" -> 1.  Names are RFC 5280's, case-insensitive; hold,
 * removeFromCRL and aACompromise are refused with a message saying why. */
int ca_reason_parse(const char *name, int *code, lv_err *err);
const char *ca_reason_name(int code); /* "unknown" outside the table */
/* Normalizes a serial typed by a person to the stored form (upper-case hex,
 * even length, as `openssl x509 -serial` prints): "4a:0b..." and "4a0b.."
 * are accepted, anything but hex digits and ':' is refused. */
int ca_serial_normalize(const char *in, char out[65], lv_err *err);

typedef struct lv_revoke_req {
    const char *serial;      /* hex, either case */
    int reason;              /* LV_REASON_* */
    const char *requester;   /* R6.1 who asked: "subject", "subscriber",
                                "ca", "nca", "psp" or an identity; NULL: the
                                actor */
    const char *actor;       /* the authority processing it (audited) */
    int64_t invalidity_date; /* RFC 5280 §5.3.2, 0 when not known */
    const char *reason_name; /* when not NULL, parsed by ca_revoke in place
                                of `reason`, so a refused name is audited */
} lv_revoke_req;

typedef struct lv_revoke_result {
    char serial[65];
    char ca[32]; /* issuing CA */
    int64_t revoked_at;
    int64_t crl_number; /* the CRL that lists it; 0 if it could not be
                           generated yet (llaved's keeper retries) */
} lv_revoke_result;

/* Revokes one end-entity certificate: status, time, reason, requester,
 * authority and the audit entry in one transaction; then, after the commit,
 * the CA's CRL and the certificate's OCSP response are regenerated (R6.2:
 * processed at once).  Unknown serial (LV_ENOTFOUND), already revoked,
 * expired (LV_ESTATE), refused reasons (LV_EINVAL) change nothing; refusals
 * are audited as failures. */
int ca_revoke(lv_ca *ca, lv_store *st, const lv_revoke_req *req,
              lv_revoke_result *out, lv_err *err);

/* ---- CRLs (R6.3; src/ca/crl.c) --------------------------------------------
 */
typedef struct lv_crl_info {
    char ca[32];
    int64_t number;
    int64_t this_update;
    int64_t next_update; /* 0: final CRL */
    int64_t entries;
} lv_crl_info;

/* Builds, signs and stores the next CRL v2 of the CA `name` (root or issuing
 * CA, active or retired): CRL number, AKI, thisUpdate/nextUpdate
 * (crl_interval_hours), one entry per revoked unexpired certificate with
 * its reason code and invalidity date.  A compromised CA gets its final CRL
 * without nextUpdate (R6.5), after which it is refused (LV_ESTATE).  Takes
 * the store's write lock for the whole build so that CRL numbers and
 * contents never go backwards; audited as crl.generate. */
int ca_crl_generate(lv_ca *ca, lv_store *st, const char *name,
                    const char *actor, lv_crl_info *out, lv_err *err);
/* Generates the CRLs that are due: none yet, half their interval (at most
 * 24 h) elapsed, behind a status change, or a compromised CA without its
 * final CRL.  *generated (may be NULL) counts them. */
int ca_crl_refresh(lv_ca *ca, lv_store *st, const char *actor, int *generated,
                   lv_err *err);
/* The newest CRL of a CA (with_der 0: metadata only). */
int ca_crl_latest(lv_ca *ca, lv_store *st, const char *name, int with_der,
                  lv_crl_rec *out, lv_err *err);

/* llaved's CRL keeper: a thread with its own store that runs ca_crl_refresh
 * every crl_check_seconds.  Stop joins it.  NULL is accepted by stop. */
typedef struct lv_crl_keeper lv_crl_keeper;
int ca_crl_keeper_start(lv_ca *ca, lv_crl_keeper **out, lv_err *err);
void ca_crl_keeper_stop(lv_crl_keeper *k);

/* ---- CA compromise and key change-over (R6.5, R6.6; src/ca/lifecycle.c) -- */
typedef struct lv_compromise_result {
    int64_t revoked;         /* end-entity certificates revoked now */
    int64_t crl_number;      /* the CA's final CRL (0 if not yet made) */
    int64_t root_crl_number; /* the root CRL listing the CA (0 idem) */
} lv_compromise_result;

/* CA key compromise drill (CPS §4.9.11, §5.7.3) of an issuing CA: every
 * certificate it issued that is not revoked yet is revoked with
 * keyCompromise (its delegated OCSP responder excepted, which goes on
 * signing the answers), the CA is marked compromised and revoked with
 * cACompromise on the root's CRL, all in one transaction; then the final
 * CRL without nextUpdate, the root CRL and the OCSP responses.  `confirm`
 * must repeat the CA name (R1.5's second person comes with issue 6). */
int ca_compromise(lv_ca *ca, lv_store *st, const char *name,
                  const char *confirm, const char *actor,
                  lv_compromise_result *out, lv_err *err);

typedef struct lv_rollover_result {
    char name[32]; /* the new CA: "<base>-g<N>" */
    char cn[128];  /* "<base CN> G<N>" */
    char serial[65];
    char key_id[CA_KEY_ID_MAX + 1];
    char ocsp_name[40]; /* its delegated responder "<name>-ocsp" */
} lv_rollover_result;

/* Key change-over (CPS §5.6): a new RSA-4096 key and CA certificate with a
 * new DN signed by the root, its OCSP responder and first CRL; the old CA
 * becomes retired (or stays compromised) and from then on signs only CRLs:
 * issuance uses the active CA of the role.  Naming: qualified -> qualified-g2
 * ("llave Qualified CA G2"), qualified-g2 -> qualified-g3, ... */
int ca_rollover(lv_ca *ca, lv_store *st, const char *name, const char *actor,
                lv_rollover_result *out, lv_err *err);
/* The names ca_rollover gives the successor of (name, cn). */
int ca_rollover_names(const char *name, const char *cn, char new_name[32],
                      char new_cn[128], lv_err *err);

/* ---- public repository (R8.1, R8.2; src/ca/repository.c) ------------------
 */
typedef struct lv_repo_doc {
    const char *name; /* file name under DIR/repository/ and URL */
    const char *content_type;
    const char *title;
    const char *lang; /* "es", "en" */
} lv_repo_doc;

/* The policy documents the repository serves (CPS and PDS, Spanish and
 * English, PDF). */
const lv_repo_doc *ca_repo_docs(size_t *count);
const lv_repo_doc *ca_repo_doc_find(const char *name);
/* Copies the built-in placeholder documents into DIR/repository/ where the
 * operator has not put their own (never overwrites). */
int ca_repo_install_defaults(const lv_config *cfg, lv_err *err);
/* Reads DIR/repository/<doc->name>; the caller frees *data. */
int ca_repo_doc_read(const lv_config *cfg, const lv_repo_doc *doc,
                     unsigned char **data, size_t *len, lv_err *err);
/* R8.2: replaces a policy document with the operator's own (a PDF named in
 * ca_repo_docs), written atomically and audited as repository.put with its
 * size and SHA-256. */
int ca_repo_doc_put(lv_ca *ca, lv_store *st, const char *name,
                    const unsigned char *data, size_t len, const char *actor,
                    lv_err *err);
/* The repository index as JSON: CA certificates (status, validity,
 * SHA-256), CRLs, policy documents (SHA-256) and the certificates whose
 * holders consented (page of `limit` from `offset`). */
int ca_repo_index(lv_ca *ca, lv_store *st, int64_t offset, int64_t limit,
                  json_t **out, lv_err *err);
/* R8.1: records (consent 1) or withdraws (0) the consent to publish one
 * issued certificate; audited as cert.publish / cert.unpublish. */
int ca_cert_publish(lv_ca *ca, lv_store *st, const char *serial, int consent,
                    const char *actor, lv_err *err);
/* DER of a certificate whose holder consented; LV_ENOTFOUND otherwise. */
int ca_published_cert(lv_ca *ca, lv_store *st, const char *serial,
                      unsigned char **der, size_t *len, lv_err *err);
/* A CA or service certificate from the store (one created after this
 * context was loaded, e.g. by a rollover); caller frees *der. */
int ca_cert_der_stored(lv_ca *ca, lv_store *st, const char *name,
                       unsigned char **der, size_t *len, lv_err *err);

/* ---- time-stamp authority (R7.1, R7.2; RFC 3161, RFC 5816, ETSI EN
 * 319 421/422; src/ca/tsa*.c) -----------------------------------------------
 * Time-stamping units (TSUs) are the cas rows of role "tsa": the ceremony's
 * "tsa" (RSA-4096) and any added with ca_tsa_add_unit.  Tokens are signed
 * by llave-keyd (ca_key_sign): the TSU key never leaves it. */

/* Largest TimeStampReq accepted, in bytes: one with a SHA-512 imprint, a
 * policy and a 160-bit nonce is about 130; extensions are refused anyway. */
#define LV_TSA_REQUEST_MAX 2048

/* The TSA policy OID of the tokens: tsa_policy_oid, or <oid_arc>.1.5.1.1
 * when that is empty. */
int ca_tsa_policy(const lv_config *cfg, char *out, size_t cap);

/* Answers one DER TimeStampReq with a DER TimeStampResp (caller frees
 * *reply with OPENSSL_free) from the TSU `unit` (NULL or "": tsa_unit).
 * Refusals are answers with PKIStatus rejection and a failInfo: badAlg
 * (digest other than SHA-256/384/512), badDataFormat (bad DER, imprint
 * length), badRequest (version), unacceptedPolicy, unacceptedExtension,
 * timeNotAvailable (clock guard, R7.2), systemFailure (sealed key store).
 * A negative code means no answer at all: LV_ENOTFOUND for an unknown unit.
 * st is written only when the clock's synchronization changes (audited as
 * tsa.clock). */
int ca_tsa_respond(lv_ca *ca, lv_store *st, const char *unit,
                   const unsigned char *req, size_t req_len,
                   unsigned char **reply, size_t *reply_len, lv_err *err);

/* R7.2: the system clock as ntp_adjtime reports it, judged against the
 * declared accuracy (tsa_accuracy_ms). */
typedef struct lv_tsa_clock {
    int usable;       /* synchronized and within the accuracy */
    int state;        /* ntp_adjtime's return (TIME_OK, TIME_ERROR, ...) */
    int status;       /* timex.status (STA_UNSYNC, ...) */
    long maxerror_us; /* timex.maxerror */
    long esterror_us; /* timex.esterror */
    char reason[160]; /* why it is not usable; "" when usable */
} lv_tsa_clock;
int ca_tsa_clock(const lv_ca *ca, lv_tsa_clock *out);

/* A further TSU: a key of `key_type` ("ec-p256", "ec-p384", "rsa4096") in
 * the key store, a "tsa" profile certificate from the qualified CA with
 * common name `cn` (the profile's subject id, so it must differ from the
 * other units'), and a cas row `name` of role "tsa"; audited as
 * key.generate, cert.issue and ca.create.  A running llaved serves it
 * after a restart. */
int ca_tsa_add_unit(lv_ca *ca, lv_store *st, const char *name, const char *cn,
                    const char *key_type, const char *actor,
                    lv_issue_result *out, lv_err *err);

/* ---- audit seals, activation, termination (issue 8; src/ca/audit_seal.c,
 * unseal.c, termination.c) ------------------------------------------------ */

/* R9.2: signs the audit chain head with the audit-seal key and has our TSA
 * time-stamp it (the message is audit_seal_message's), then records the
 * seal and its "audit.seal" entry, after recording new archive items
 * (audit_archive_sync).  The audit-seal key and certificate
 * (profile "audit-seal", non-qualified CA, cas role "audit") are created on
 * first use and renewed a week before they expire.  out->sealed is 0 when
 * nothing new was written since the last seal.  Needs the key store
 * (LV_ESEALED) and a TSA that grants the token (R7.2 clock guard). */
typedef struct lv_seal_result {
    int sealed;
    int64_t id;  /* the new seal */
    int64_t seq; /* entries covered */
    char hash[65];
    char signer[32];
} lv_seal_result;
int ca_audit_seal(lv_ca *ca, lv_store *st, const char *actor,
                  lv_seal_result *out, lv_err *err);
/* The active audit-seal certificate's record (created if none). */
int ca_audit_signer(lv_ca *ca, lv_store *st, const char *actor, lv_ca_rec *out,
                    lv_err *err);

/* llaved's sealer: a thread with its own store that, once the key store is
 * open, records new archive items (audit_archive_sync) and seals every
 * audit_seal_minutes or after audit_seal_entries new entries.  Stop joins
 * it; NULL is accepted. */
typedef struct lv_audit_sealer lv_audit_sealer;
int ca_audit_sealer_start(lv_ca *ca, lv_audit_sealer **out, lv_err *err);
void ca_audit_sealer_stop(lv_audit_sealer *s);

/* ---- keys, through llave-keyd (ca_keys.c; issue 12) ---------------------
 * R9.5, R1.5: custodians unseal keyd itself (`llave unseal`, its socket);
 * the CA context only asks.  ca_sealed is 1 while keyd is sealed or
 * unreachable (from the last key operation; keyd's status is asked at
 * most once a second while not ready). */
int ca_sealed(lv_ca *ca);
/* 0 when keyd can sign now; LV_ESEALED (sealed) or LV_EBUSY (keyd away,
 * 503 + Retry-After) naming `what` otherwise. */
int ca_need_keys(lv_ca *ca, const char *what, lv_err *err);
/* keyd's status now (sealed, shares held; LV_EBUSY when unreachable). */
int ca_keys_status(lv_ca *ca, keyc_info *out, lv_err *err);
/* Forget what is known of keyd (llaved, after its keyd was restarted). */
void ca_keys_invalidate(lv_ca *ca);
/* This thread's keyd handle (one per thread: a handle serializes). */
int ca_keyc(lv_ca *ca, keyc **out, lv_err *err);
/* Signs data (keyd signs its digest) with a CA or service key; *sig is
 * malloc'ed. */
int ca_key_sign(lv_ca *ca, const char *key_id, const EVP_MD *md,
                const unsigned char *data, size_t len, unsigned char **sig,
                size_t *sig_len, lv_err *err);
int ca_key_sign_digest(lv_ca *ca, const char *key_id, const EVP_MD *md,
                       const unsigned char *dgst, size_t dlen,
                       unsigned char **sig, size_t *sig_len, lv_err *err);
/* key_class / key_type (16 bytes each, may be NULL). */
int ca_key_public(lv_ca *ca, const char *key_id, EVP_PKEY **pub,
                  char key_class[16], char key_type[16], lv_err *err);
/* A new key inside keyd: key_class "ca" or "service" (console only) or
 * "signer" (a citizen's key, R5.1). */
int ca_key_generate(lv_ca *ca, const char *type, const char *key_class,
                    const char *label, char key_id[CA_KEY_ID_MAX + 1],
                    EVP_PKEY **pub, lv_err *err);
/* A key no row names any more (a failed issuance). */
int ca_key_destroy(lv_ca *ca, const char *key_id, lv_err *err);
/* R5.2: n PKCS#1 v1.5 signatures by a citizen's key, which keyd makes
 * only after consuming the activation record whose reference is
 * `activation` (store_activation_create, committed). */
int ca_key_sign_citizen(lv_ca *ca, const char *key_id, const EVP_MD *md,
                        const unsigned char *digests, size_t n,
                        const unsigned char activation[KEYD_ACTIVATION_LEN],
                        unsigned char **sigs, size_t *sig_len, lv_err *err);

/* R9.6: writes every CA certificate, the newest CRL of each CA, the OCSP
 * responder certificates, every issued certificate (DER) with its status
 * (certificates.jsonl), one OpenSSL index per CA (`openssl ocsp -index`)
 * and a manifest of SHA-256 sums signed by the audit-seal key into outdir
 * (absent or empty).  Seals the audit trail first.  Audited. */
typedef struct lv_termination_result {
    int64_t certificates;
    int64_t revoked;
    int64_t crls;
} lv_termination_result;
int ca_termination_export(lv_ca *ca, lv_store *st, const char *outdir,
                          const char *actor, lv_termination_result *out,
                          lv_err *err);

#endif
