/* Internal to ca/: the CA context and the certificate-building helpers the
 * issuance and ceremony code share. */
#ifndef LLAVE_CA_INTERNAL_H
#define LLAVE_CA_INTERNAL_H

#include "ca/ca.h"

#include <openssl/x509v3.h>
#include <pthread.h>

typedef struct ca_entry {
    lv_ca_rec rec;
    X509 *cert;
} ca_entry;

struct lv_ca {
    lv_config cfg;
    struct ca_keys *keys; /* ca_keys.c: llave-keyd handles and state */
    ca_entry *entries;
    size_t count;
    struct ca_tsa *tsa;   /* tsa_unit.c: TSUs and clock state (R7.1, R7.2) */
    struct ca_ocsp *ocsp; /* ocsp.c: responder issuers, budget (R6.4) */
};

/* The OCSP responder's issuers and signing budget (ocsp.c): built by ca_open
 * once the entries are loaded, freed by ca_close. */
int ca_ocsp_init(lv_ca *ca, lv_err *err);
void ca_ocsp_free(struct ca_ocsp *o);

/* The subject JSON of the provider's own seals (TSU, OCSP responder):
 * organization from the configuration, common name cn (ceremony.c). */
json_t *ca_provider_subject(const lv_config *cfg, const char *cn);

/* Built by ca_open once the entries are loaded; freed by ca_close. */
int ca_tsa_load(lv_ca *ca, lv_err *err);
void ca_tsa_free(struct ca_tsa *tsa);

/* ca_keys.c: the keyd seam (issue 12). */
typedef struct ca_keys ca_keys;
typedef struct ca_fkey ca_fkey;
int ca_keys_init(lv_ca *ca, int caller, lv_err *err);
void ca_keys_free(lv_ca *ca);
/* Records what a keyd answer says of keyd's state; returns rc. */
int ca_keys_note(lv_ca *ca, int rc);
/* The keyd caller class this context speaks as. */
int ca_keys_caller(const lv_ca *ca);
ca_fkey **ca_keys_fkeys(lv_ca *ca, pthread_mutex_t **lock);
/* ca_keys_pkey.c: md_ctx gets an EVP_PKEY whose private operation is a
 * request to keyd, for X509_sign_ctx, X509_CRL_sign_ctx and
 * OCSP_basic_sign_ctx (CA and service keys).  After such a call failed,
 * ca_key_ctx_failed returns keyd's reason (LV_EBUSY, LV_ESEALED, ...) or
 * LV_ECRYPTO with `what`. */
int ca_key_sign_init(lv_ca *ca, const char *key_id, const EVP_MD *md,
                     EVP_MD_CTX *ctx, lv_err *err);
int ca_key_ctx_failed(lv_err *err, const char *what);
void ca_fkeys_free(ca_fkey *f);

const ca_entry *ca_entry_find(const lv_ca *ca, const char *name);
/* The issuing CA for a profile (qualified or standard). */
const ca_entry *ca_issuer_for(const lv_ca *ca, const lv_profile *p);

/* A fresh v3 certificate: random positive serial of 126 bits (R4.5),
 * validity [not_before, not_after], subject, issuer (subject when
 * issuer_cert is NULL) and public key.  Extensions are the caller's. */
typedef struct ca_cert_params {
    const X509_NAME *subject;
    EVP_PKEY *public_key;
    X509 *issuer_cert; /* NULL for a self-signed certificate */
    int64_t not_before;
    int64_t not_after;
} ca_cert_params;

int64_t ca_time_unix(const ASN1_TIME *t);
int ca_cert_new(const ca_cert_params *params, X509 **out, lv_err *err);
/* Adds an extension from OpenSSL's configuration syntax ("critical,..."). */
int ca_add_ext(X509 *cert, X509 *issuer, int nid, const char *value,
               lv_err *err);
/* Adds an extension whose value is already DER. */
int ca_add_raw_ext(X509 *cert, const char *oid, int critical,
                   const unsigned char *der, size_t len, lv_err *err);
/* certificatePolicies: anyPolicy (issuing CA certificates). */
int ca_add_any_policy(X509 *cert, lv_err *err);
/* Signs with sha256WithRSAEncryption (CPS §7.1.3) under the key `key_id`,
 * through llave-keyd. */
int ca_sign_cert(lv_ca *ca, const char *key_id, X509 *cert, lv_err *err);

/* End-entity extensions from the profile table (R4.3, R4.4). */
int ca_add_profile_extensions(X509 *cert, const ca_entry *issuer,
                              const lv_profile *p, const lv_subject *s,
                              const lv_config *cfg, lv_err *err);
int ca_add_qcstatements(X509 *cert, const lv_profile *p, const lv_subject *s,
                        const lv_config *cfg, lv_err *err);

/* Records a freshly signed end-entity certificate and its audit entry in
 * one transaction, re-checking R2.9 uniqueness inside it. */
int ca_record_cert(lv_store *st, X509 *cert, const lv_profile *p,
                   const lv_subject *s, const char *issuer_name,
                   const char *key_id, const char *actor, lv_err *err);

/* The extensions of an issuing CA certificate signed by `issuer` (the
 * root), as the ceremony makes them; the change-over reuses them. */
int ca_ceremony_ca_extensions(X509 *cert, X509 *issuer, const lv_config *cfg,
                              lv_err *err);
/* R6.6: LV_ESTATE unless the issuing CA is active in the store (a retired
 * or compromised CA signs CRLs only).  lifecycle.c */
int ca_issuer_check_active(lv_store *st, const ca_entry *issuer, lv_err *err);

/* ca_issue with an explicit issuing CA; used by the ceremony for the
 * provider's own certificates (internal profiles such as the OCSP
 * responder of each CA). */
int ca_issue_by(lv_ca *ca, lv_store *st, const lv_issue_req *req,
                const ca_entry *issuer_override, lv_issue_result *out,
                lv_err *err);

/* A context with keyd handles only (no CA loaded): the ceremony signs and
 * generates through it before the root CA exists.  ca_close frees it. */
int ca_open_keys_only(const lv_config *cfg, int caller, lv_ca **out,
                      lv_err *err);

/* Opens a store connection of its own on DIR/llave.db for one of llaved's
 * background threads (CRL keeper, OCSP refresher, audit sealer).  ca.c */
int ca_open_own_store(const lv_ca *ca, lv_store **out, lv_err *err);

#endif
