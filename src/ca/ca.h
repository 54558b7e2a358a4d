/* ca/ — the certification authority: the CA context (the CA, OCSP, TSA
 * and audit-seal certificates the ceremony recorded, loaded once and shared
 * read-only by threads), issuance (R4.5, R4.6, R2.9, R5.1), revocation
 * (R6.1) and the seam to llave-keyd through which every CA and service key
 * signs (issue 12: keys only through keyc, never keys/).  Never parses HTTP.
 *
 *   ca.c             the context: ca_open, entries, attachments
 *   ca_keys.c        the keyd seam: ca_key_sign, ca_need_keys, ...
 *   ca_keys_pkey.c   a keyd-backed EVP_PKEY for OpenSSL's *_sign_ctx
 *   cert.c           a new certificate, its serial, its signature
 *   issue.c          ca_issue
 *   revoke.c         reasons, serials, ca_revoke
 *
 * What a certificate says is profile/'s; CRLs are crl/'s, OCSP ocsp/'s,
 * time-stamps tsa/'s, the repository repo/'s, the ceremony and the end of a
 * CA's life custody/'s.  Depends on core/, store/, keyc/, audit/, profile/. */
#ifndef LLAVE_CA_H
#define LLAVE_CA_H

#include "core/core.h"
#include "keyc/keyc.h"
#include "profile/profile.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

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
            lv_err *err) LV_MUST_USE;
void ca_close(lv_ca *ca);
/* 1 in *outdated when the CA rows in the store differ from the loaded ones
 * (a rollover, a compromise or a new TSU made by the console): a running
 * llaved then loads a fresh context (issue 12 item 5). */
int ca_outdated(const lv_ca *ca, lv_store *st, int *outdated,
                lv_err *err) LV_MUST_USE;
const lv_config *ca_config(const lv_ca *ca);
/* The CA certificate for a short name (root, qualified, ...), or NULL; the
 * DER form is cached for serving. */
X509 *ca_cert(const lv_ca *ca, const char *name);
int ca_cert_der(const lv_ca *ca, const char *name, const unsigned char **der,
                size_t *len) LV_MUST_USE;
/* PEM chain: issuing CAs then root. */
int ca_export_chain(lv_ca *ca, const char *outdir, lv_err *err) LV_MUST_USE;

/* One certificate of the context: a cas row (root, issuing CAs, their OCSP
 * responders, TSUs, audit-seal certificates) and its parsed X.509. */
typedef struct lv_ca_entry {
    char name[32];   /* short name used in URLs: /ca/{name}.crt */
    char role[16];   /* "root", "qualified", "standard", "ocsp", "tsa", ... */
    char issuer[32]; /* name of the issuing CA; itself for the root */
    char key_id[CA_KEY_ID_MAX + 1]; /* its key in llave-keyd */
    char serial[65];
    char status[16]; /* "active", "retired", "compromised" */
    int64_t not_before;
    int64_t not_after;
    unsigned char *cert_der;
    size_t cert_len;
    X509 *cert;
} lv_ca_entry;

/* Every entry, in creation order (*count of them); read-only. */
const lv_ca_entry *ca_entries(const lv_ca *ca, size_t *count);
const lv_ca_entry *ca_entry_find(const lv_ca *ca, const char *name);
/* R6.6: the issuing CA of a profile: the newest active CA of its role. */
const lv_ca_entry *ca_issuer_for(const lv_ca *ca, const lv_profile *p);

/* A TLS client certificate (leaf first, then what the client sent beside
 * it; DER) judged as one of ours (issue 17 item 4, CPS §5.2.3): it chains
 * to one of our roots through our CAs, is current, allows clientAuth, and
 * our store holds it, valid.  out describes the leaf even when refused;
 * out->refusal is NULL when accepted, else why not.  Fails (< 0) only on
 * malformed DER (LV_EINVAL), none sent (LV_EAUTH) or the store. */
typedef struct ca_client_cert {
    char fingerprint[65]; /* SHA-256 of the leaf's DER, lower hex */
    char serial[65];
    char subject[256]; /* RFC 4514 */
    int64_t not_after;
    const char *refusal;
} ca_client_cert;
int ca_client_cert_check(lv_ca *ca, lv_store *st,
                         const unsigned char *const *der, const size_t *len,
                         int n, ca_client_cert *out, lv_err *err) LV_MUST_USE;

/* A store connection of its own on DIR/llave.db, for a background thread
 * (CRL keeper, OCSP refresher, audit sealer); store_close closes it. */
int ca_store_open(const lv_ca *ca, lv_store **out, lv_err *err) LV_MUST_USE;

/* A job over the CA (the CRL keeper, the OCSP refresher): its state begins
 * with ca_job_state, which ca_job_start fills with the CA and a connection
 * of ca_store_open's (def's open and close are ca_job_start's).  Not
 * started (*out NULL) while keyd is sealed: nothing could be signed. */
typedef struct ca_job_state {
    lv_ca *ca;
    lv_store *st;
} ca_job_state;
int ca_job_start(lv_ca *ca, lv_job_def *def, lv_job **out,
                 lv_err *err) LV_MUST_USE;

/* State that a component above ca/ builds from the loaded certificates and
 * keeps for the context's life (the OCSP responder's issuer hashes and
 * budget, the TSA's units and clock): made by `make` on first use, under a
 * lock, and freed by ca_close with `destroy`.  One slot per component. */
typedef enum { CA_ATTACH_OCSP, CA_ATTACH_TSA, CA_ATTACH_COUNT } ca_attach_slot;
typedef int (*ca_attach_make)(lv_ca *ca, void **out, lv_err *err);
int ca_attachment(lv_ca *ca, ca_attach_slot slot, ca_attach_make make,
                  void (*destroy)(void *), void **out, lv_err *err) LV_MUST_USE;

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
             lv_issue_result *out, lv_err *err) LV_MUST_USE;
/* ca_issue with an explicit issuing CA (NULL: the profile's): the
 * provider's own certificates (OCSP responders, audit-seal keys). */
int ca_issue_by(lv_ca *ca, lv_store *st, const lv_issue_req *req,
                const lv_ca_entry *issuer, lv_issue_result *out,
                lv_err *err) LV_MUST_USE;
void ca_issue_result_free(lv_issue_result *r);

/* The subject JSON of the provider's own seals (TSU, OCSP responder,
 * audit seal): organization from the configuration, common name cn. */
json_t *ca_provider_subject(const lv_config *cfg, const char *cn);

/* ---- certificates (cert.c) ------------------------------------------------
 * A fresh v3 certificate: random positive serial of 126 bits (R4.5),
 * validity [not_before, not_after], subject, issuer (subject when
 * issuer_cert is NULL) and public key.  Extensions are the caller's
 * (profile_add_extensions). */
typedef struct ca_cert_params {
    const X509_NAME *subject;
    EVP_PKEY *public_key;
    X509 *issuer_cert; /* NULL for a self-signed certificate */
    int64_t not_before;
    int64_t not_after;
} ca_cert_params;
int ca_cert_new(const ca_cert_params *params, X509 **out,
                lv_err *err) LV_MUST_USE;
/* Signs with sha256WithRSAEncryption (CPS §7.1.3) under the key `key_id`,
 * through llave-keyd. */
int ca_sign_cert(lv_ca *ca, const char *key_id, X509 *cert,
                 lv_err *err) LV_MUST_USE;
/* Hex serial as `openssl x509 -serial` prints it (upper case, even length). */
int ca_serial_hex(const ASN1_INTEGER *serial, char out[65]) LV_MUST_USE;
/* Unix seconds of an ASN.1 time (0 when it does not convert). */
int64_t ca_time_unix(const ASN1_TIME *t);
/* The cas row (store_ca.h) of a new, active certificate of the ceremony, a
 * rollover or a new TSU: names, key, and cert's serial, validity and DER
 * (rec->cert_der is OpenSSL's: OPENSSL_free). */
struct lv_ca_rec;
int ca_rec_fill(struct lv_ca_rec *rec, const char *name, const char *role,
                const char *issuer, const char *key_id, X509 *cert) LV_MUST_USE;

/* ---- revocation (R6.1, R6.2; revoke.c) ------------------------------------
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
int ca_reason_parse(const char *name, int *code, lv_err *err) LV_MUST_USE;
const char *ca_reason_name(int code); /* "unknown" outside the table */
/* Normalizes a serial typed by a person to the stored form (upper-case hex,
 * even length, as `openssl x509 -serial` prints): "4a:0b..." and "4a0b.."
 * are accepted, anything but hex digits and ':' is refused. */
int ca_serial_normalize(const char *in, char out[65], lv_err *err) LV_MUST_USE;

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
 * authority and the audit entry in one transaction (R6.1).  Unknown serial
 * (LV_ENOTFOUND), already revoked, expired (LV_ESTATE), refused reasons
 * (LV_EINVAL) change nothing; refusals are audited as failures.
 * R6.2 (processed at once): the caller then publishes the change in the
 * CA's CRL and the certificate's OCSP response (ra_revoke_publish does
 * both); crl/ and ocsp/ sign through this context, so ca/ cannot call them.
 * out->crl_number stays 0 here. */
int ca_revoke(lv_ca *ca, lv_store *st, const lv_revoke_req *req,
              lv_revoke_result *out, lv_err *err) LV_MUST_USE;

/* ---- keys, through llave-keyd (ca_keys.c; issue 12) ---------------------
 * R9.5, R1.5: custodians unseal keyd itself (`llave unseal`, its socket);
 * the CA context only asks.  ca_sealed is 1 while keyd is sealed or
 * unreachable (from the last key operation; keyd's status is asked at
 * most once a second while not ready). */
int ca_sealed(lv_ca *ca);
/* 0 when keyd can sign now; LV_ESEALED (sealed) or LV_EBUSY (keyd away,
 * 503 + Retry-After) naming `what` otherwise. */
int ca_need_keys(lv_ca *ca, const char *what, lv_err *err) LV_MUST_USE;
/* keyd's status now (sealed, shares held; LV_EBUSY when unreachable). */
int ca_keys_status(lv_ca *ca, keyc_info *out, lv_err *err) LV_MUST_USE;
/* Forget what is known of keyd (llaved, after its keyd was restarted). */
void ca_keys_invalidate(lv_ca *ca);
/* The keyd caller class this context speaks as (KEYD_CALLER_*). */
int ca_keys_caller(const lv_ca *ca);
/* A context with keyd handles only (no CA loaded): the ceremony signs and
 * generates through it before the root CA exists.  ca_close frees it. */
int ca_open_keys_only(const lv_config *cfg, int caller, lv_ca **out,
                      lv_err *err) LV_MUST_USE;
/* This thread's keyd handle (one per thread: a handle serializes). */
int ca_keyc(lv_ca *ca, keyc **out, lv_err *err) LV_MUST_USE;
/* Signs data (keyd signs its digest) with a CA or service key; *sig is
 * malloc'ed. */
int ca_key_sign(lv_ca *ca, const char *key_id, const EVP_MD *md,
                const unsigned char *data, size_t len, unsigned char **sig,
                size_t *sig_len, lv_err *err) LV_MUST_USE;
/* key_class / key_type (16 bytes each, may be NULL). */
int ca_key_public(lv_ca *ca, const char *key_id, EVP_PKEY **pub,
                  char key_class[16], char key_type[16],
                  lv_err *err) LV_MUST_USE;
/* A new key inside keyd: key_class "ca" or "service" (console only) or
 * "signer" (a citizen's key, R5.1). */
int ca_key_generate(lv_ca *ca, const char *type, const char *key_class,
                    const char *label, char key_id[CA_KEY_ID_MAX + 1],
                    EVP_PKEY **pub, lv_err *err) LV_MUST_USE;
/* A key no row names any more (a failed issuance). */
int ca_key_destroy(lv_ca *ca, const char *key_id, lv_err *err) LV_MUST_USE;
/* R5.2: n PKCS#1 v1.5 signatures by a citizen's key, which keyd makes
 * only after consuming the activation record whose reference is
 * `activation` (store_activation_create, committed). */
int ca_key_sign_citizen(lv_ca *ca, const char *key_id, const EVP_MD *md,
                        const unsigned char *digests, size_t n,
                        const unsigned char activation[KEYD_ACTIVATION_LEN],
                        unsigned char **sigs, size_t *sig_len,
                        lv_err *err) LV_MUST_USE;
/* For OpenSSL's X509_sign_ctx, X509_CRL_sign_ctx and OCSP_basic_sign_ctx
 * (ca_keys_pkey.c): md_ctx gets an EVP_PKEY whose private operation is a
 * request to keyd (CA and service keys).  After such a call failed,
 * ca_key_ctx_failed returns keyd's reason (LV_EBUSY, LV_ESEALED, ...) or
 * LV_ECRYPTO with `what`. */
int ca_key_sign_init(lv_ca *ca, const char *key_id, const EVP_MD *md,
                     EVP_MD_CTX *ctx, lv_err *err) LV_MUST_USE;
int ca_key_ctx_failed(lv_err *err, const char *what) LV_MUST_USE;

#endif
