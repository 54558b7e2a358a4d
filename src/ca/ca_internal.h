/* Internal to ca/: the CA context and the keyd seam's pieces. */
#ifndef LLAVE_CA_INTERNAL_H
#define LLAVE_CA_INTERNAL_H

#include "audit/audit.h"
#include "ca/ca.h"
#include "store/store.h"
#include "store/store_ca.h"
#include "store/store_cert.h"

#include <openssl/x509v3.h>
#include <pthread.h>

typedef struct ca_attached {
    void *state;
    void (*destroy)(void *);
} ca_attached;

struct lv_ca {
    lv_config cfg;
    struct ca_keys *keys; /* ca_keys.c: llave-keyd handles and state */
    lv_ca_entry *entries;
    size_t count;
    /* ca_attachment: ocsp/'s and tsa/'s state, made on first use */
    pthread_mutex_t attach_lock;
    ca_attached attached[CA_ATTACH_COUNT];
};

/* ca_keys.c: the keyd seam (issue 12). */
typedef struct ca_keys ca_keys;
typedef struct ca_fkey ca_fkey;
int ca_keys_init(lv_ca *ca, int caller, lv_err *err);
void ca_keys_free(lv_ca *ca);
/* Records what a keyd answer says of keyd's state; returns rc. */
int ca_keys_note(lv_ca *ca, int rc);
ca_fkey **ca_keys_fkeys(lv_ca *ca, pthread_mutex_t **lock);
/* ca_key_sign over a digest the caller computed: what the keyd-backed
 * EVP_PKEY of ca_keys_pkey.c hands OpenSSL; nothing outside ca/ needs it. */
int ca_key_sign_digest(lv_ca *ca, const char *key_id, const EVP_MD *md,
                       const unsigned char *dgst, size_t dlen,
                       unsigned char **sig, size_t *sig_len,
                       lv_err *err) LV_MUST_USE;
void ca_fkeys_free(ca_fkey *f);
/* X509_set_pubkey without OpenSSL 3.0's encoder/decoder round trip for a
 * provider key (ca_keys_pkey.c: the one file with the legacy key API). */
int ca_cert_set_pubkey(X509 *cert, EVP_PKEY *key);

/* Records a freshly signed end-entity certificate and its audit entry in
 * one transaction, re-checking R2.9 uniqueness inside it.  issue.c */
int ca_record_cert(lv_store *st, X509 *cert, const lv_profile *p,
                   const lv_subject *s, const char *issuer_name,
                   const char *key_id, const char *actor, lv_err *err);
/* R6.6: LV_ESTATE unless the issuing CA is active in the store (a retired
 * or compromised CA signs CRLs only).  issue.c */
int ca_issuer_check_active(lv_store *st, const lv_ca_entry *issuer,
                           lv_err *err);

/* The public key of a CSR as issuance takes it (R4.1, R4.6: key type and
 * size, proof of possession); for fuzz/fuzz_csr.c.  issue.c */
int ca_csr_public_key(X509_REQ *csr, EVP_PKEY **out, lv_err *err);

#endif
