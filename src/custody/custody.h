/* custody/ — the life of the CA keys, the console's alone: the key
 * ceremony (R4.1, R4.2, R9.5), the compromise drill (R6.5), the key
 * change-over (R6.6), the termination export (R9.6) and a new audit-seal
 * key.  Linked into `llave` only, never into llaved or llave-keyd: a
 * compromised front end cannot even call these (issue 12 item 4).  The
 * operator commands put two people in front of them (cli/cli_two_person.c,
 * CPS §5.2.4).
 *
 *   ceremony.c     custody_ceremony_prepare, custody_ceremony
 *   compromise.c   custody_compromise
 *   rollover.c     custody_rollover
 *   termination.c  custody_termination_export
 *   seal_key.c     custody_audit_sealing: a new audit-seal key when due
 *
 * Depends on core/, store/, audit/, profile/, ca/, crl/, ocsp/, tsa/. */
#ifndef LLAVE_CUSTODY_H
#define LLAVE_CUSTODY_H

#include "audit/audit.h"
#include "ca/ca.h"
#include "core/core.h"

/* ---- the key ceremony (R4.1, R4.2, R9.5; ceremony.c) --------------------- */
typedef struct lv_ceremony_opts {
    const char *participants; /* names recorded in the transcript */
    int demo;                 /* keep two shares in DIR (insecure) */
} lv_ceremony_opts;

/* The ceremony in two steps around the key store, which only the console
 * creates (keys_create; issue 12: the key code is linked into llave and
 * llave-keyd, never into llaved).
 * custody_ceremony_prepare refuses a directory that holds an installation,
 * creates DIR and writes llave.json.  custody_ceremony then, with a llave-keyd
 * serving the new, unsealed key store on cfg->keyd_socket (or
 * DIR/keyd.sock) for the console class, creates the database, the CA
 * hierarchy (keys generated inside keyd), TSA and OCSP-responder
 * certificates, and a transcript in DIR/ceremony/ signed by the root key
 * through keyd. */
int custody_ceremony_prepare(const lv_config *cfg, const lv_ceremony_opts *opts,
                             lv_err *err) LV_MUST_USE;
int custody_ceremony(const lv_config *cfg, const lv_ceremony_opts *opts,
                     lv_err *err) LV_MUST_USE;

/* The demo ceremony keeps two shares in DIR/demo-shares.INSECURE so that a
 * demo keyd starts unattended (llave-keyd reads it itself: llaved never
 * handles a share). */
#define LV_DEMO_SHARES_FILE "demo-shares.INSECURE"

/* ---- the compromise drill (R6.5; compromise.c) -------------------------- */
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
int custody_compromise(lv_ca *ca, lv_store *st, const char *name,
                       const char *confirm, const char *actor,
                       lv_compromise_result *out, lv_err *err) LV_MUST_USE;

/* ---- key change-over (R6.6, CPS §5.6; rollover.c) ----------------------- */
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
int custody_rollover(lv_ca *ca, lv_store *st, const char *name,
                     const char *actor, lv_rollover_result *out,
                     lv_err *err) LV_MUST_USE;
/* `llave ca add-tls` (issue 13): an install made before website
 * certificates had a CA of their own gets one, named tls_name / tls_cn,
 * signed by the root, with its OCSP responder and first CRL; website
 * profiles are issued by it from then on, and the certificates the other
 * CAs issued stay valid and answerable. */
int custody_add_tls(lv_ca *ca, lv_store *st, const char *actor,
                    lv_rollover_result *out, lv_err *err) LV_MUST_USE;
/* The names custody_rollover gives the successor of (name, cn). */
int custody_rollover_names(const char *name, const char *cn, char new_name[32],
                           char new_cn[128], lv_err *err) LV_MUST_USE;

/* ---- termination (R9.6, CPS §5.8; termination.c) ------------------------ */
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
int custody_termination_export(lv_ca *ca, lv_store *st, const char *outdir,
                               const char *actor, lv_termination_result *out,
                               lv_err *err) LV_MUST_USE;

/* ---- the audit-seal key (R9.2; seal_key.c) ------------------------------
 * tsa_audit_sealing plus provision: in the console, audit_seal makes a new
 * audit-seal key and certificate when none is usable. */
void custody_audit_sealing(lv_ca *ca, lv_audit_sealing *out);

#endif
