/* Private to crl/: the CRL encoder of crl_der.c, used by crl.c and
 * tests/unit/test_crl.c. */
#ifndef LLAVE_CRL_INTERNAL_H
#define LLAVE_CRL_INTERNAL_H

#include "crl/crl.h"
#include "store/store_crl.h"

#include <openssl/x509.h>

/* The revoked certificates of one CRL, kept compact (a CRL may list
 * millions) and encoded only once sorted. */
typedef struct crl_revoked {
    unsigned char serial[32]; /* magnitude, no leading zero octets */
    unsigned char serial_len;
    unsigned char reason; /* RFC 5280 §5.3.1 CRLReason; 0: none */
    int64_t revoked_at;
    int64_t invalidity_date; /* 0: none */
} crl_revoked;

typedef struct crl_list {
    crl_revoked *items;
    size_t n, cap;
} crl_list;

/* Adds a store entry; LV_ESTORE for a serial that is not hex. */
int crl_list_add(crl_list *l, const lv_crl_entry *e) LV_MUST_USE;
void crl_list_free(crl_list *l);

/* What a CRL says besides its entries. */
typedef struct crl_fields {
    X509 *issuer; /* issuer name, AKI (its SKI), signature algorithm */
    int64_t number;
    int64_t this_update;
    int64_t next_update; /* 0: none (a final CRL, R6.5) */
} crl_fields;

/* The CRL v2 of f and l (sorted here by serial), signed by the CA key
 * key_id through keyd; *der from OPENSSL_malloc. */
int crl_der_signed(lv_ca *ca, const char *key_id, const crl_fields *f,
                   crl_list *l, unsigned char **der, size_t *len,
                   lv_err *err) LV_MUST_USE;

#endif
