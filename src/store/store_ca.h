/* store/store_ca.h — the rows of the certification authorities (cas: root,
 * issuing CAs, OCSP responders, TSUs, audit-seal certificates) and their
 * status (sql/001, 002).  Owner: ca/; crl/, tsa/, repo/, custody/, audit/
 * (seal verification) and cli/ read and write them through this header
 * only (scripts/lint: the edge table). */
#ifndef LLAVE_STORE_CA_H
#define LLAVE_STORE_CA_H

#include "core/core.h"
#include "store/store.h"

#include <stdint.h>

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

STORE_KEYED(ca, lv_ca_rec, name);
/* Calls fn for every CA record in creation order; stops on fn's error. */
int store_ca_foreach(lv_store *st, STORE_VISIT(lv_ca_rec),
                     lv_err *err) LV_MUST_USE;
void store_ca_rec_free(lv_ca_rec *rec);

/* ---- status (sql/002_status.sql): the rules live in ca/ and custody/ -- */
typedef struct lv_ca_status {
    char status[16]; /* "active", "retired", "compromised" */
    int64_t revoked_at;
    int revocation_reason; /* -1 while not revoked */
    int64_t revision;      /* bumped by every change its CRL must show */
} lv_ca_status;
int store_ca_status_get(lv_store *st, const char *name, lv_ca_status *out,
                        lv_err *err) LV_MUST_USE;
/* revoked_at 0 keeps the CA unrevoked (a retired CA); otherwise it appears
 * on its issuer's CRL with `reason`. */
int store_ca_set_status(lv_store *st, const char *name, const char *status,
                        int64_t revoked_at, int reason,
                        lv_err *err) LV_MUST_USE;
int store_ca_bump_revision(lv_store *st, const char *name,
                           lv_err *err) LV_MUST_USE;

#endif
