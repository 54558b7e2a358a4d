/* tsa/ — the time-stamp authority (R7.1, R7.2; RFC 3161, RFC 5816, ETSI
 * EN 319 421/422).  Time-stamping units (TSUs) are the cas rows of role
 * "tsa": the ceremony's "tsa" (RSA-4096) and any added with tsa_add_unit.
 * Tokens are signed by llave-keyd (ca_key_sign): the TSU key never leaves
 * it.  The units and the clock's state hang off the CA context
 * (ca_attachment), built on first use.
 *
 *   tsa.c          tsa_respond: request → checks → clock → token → reply
 *   tsa_request.c  parsing and checking a TimeStampReq (fuzzed)
 *   tsa_token.c    TSTInfo, the SignedData signed through keyd, replies
 *   tsa_clock.c    the clock guard (ntp_adjtime), audited state changes
 *   tsa_unit.c     the units; tsa_add_unit; the stamps of audit seals
 *   tsa_qualified.c  a qualified unit (QcCompliance in its certificate)
 *                  and the esi4-qtstStatement-1 of its tokens (EN 319 422
 *                  §9.1)
 *
 * Depends on core/, store/, audit/, ca/, profile/. */
#ifndef LLAVE_TSA_H
#define LLAVE_TSA_H

#include "audit/audit.h"
#include "ca/ca.h"
#include "core/core.h"

/* Largest TimeStampReq accepted, in bytes: one with a SHA-512 imprint, a
 * policy and a 160-bit nonce is about 130; extensions are refused anyway. */
#define LV_TSA_REQUEST_MAX 2048

/* The TSA policy OID of the tokens (EN 319 422 Annex A): tsa_policy_oid,
 * the TSA's own OID for a CPS that incorporates or constrains EN 319 421's
 * best practices policy, or that policy itself, 0.4.0.2023.1.1 (EN 319 421
 * §5.2), when tsa_policy_oid is empty.  A request naming another policy is
 * refused with unacceptedPolicy. */
int tsa_policy(const lv_config *cfg, char *out, size_t cap) LV_MUST_USE;

/* Answers one DER TimeStampReq with a DER TimeStampResp (caller frees
 * *reply with OPENSSL_free) from the TSU `unit` (NULL or "": tsa_unit).
 * Refusals are answers with PKIStatus rejection and a failInfo: badAlg
 * (digest other than SHA-256/384/512), badDataFormat (bad DER, imprint
 * length), badRequest (version), unacceptedPolicy, unacceptedExtension,
 * timeNotAvailable (clock guard, R7.2), systemFailure (sealed key store).
 * A negative code means no answer at all: LV_ENOTFOUND for an unknown unit.
 * st is written only when the clock's synchronization changes (audited as
 * tsa.clock). */
int tsa_respond(lv_ca *ca, lv_store *st, const char *unit,
                const unsigned char *req, size_t req_len, unsigned char **reply,
                size_t *reply_len, lv_err *err) LV_MUST_USE;

/* An RFC 3161 TimeStampReq (§2.4.1) over digest, md's hash of the data,
 * with a random 64-bit nonce and certReq set: DER into *der (OPENSSL_free)
 * and *der_len; LV_ECRYPTO when OpenSSL fails.  For whoever stamps through
 * tsa_respond: signatures (sign/) and audit seals. */
int tsa_query(const EVP_MD *md, const unsigned char *digest, size_t dlen,
              unsigned char **der, int *der_len) LV_MUST_USE;

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
int tsa_clock(lv_ca *ca, lv_tsa_clock *out);

/* A further TSU: a key of `key_type` ("ec-p256", "ec-p384", "rsa4096") in
 * the key store, a "tsa" profile certificate from the qualified CA with
 * common name `cn` (the profile's subject id, so it must differ from the
 * other units'), and a cas row `name` of role "tsa"; audited as
 * key.generate, cert.issue and ca.create.  A running llaved serves it
 * after a restart. */
int tsa_add_unit(lv_ca *ca, lv_store *st, const char *name, const char *cn,
                 const char *key_type, const char *actor, lv_issue_result *out,
                 lv_err *err) LV_MUST_USE;

/* How audit seals are made in a process with this CA context (R9.2;
 * audit_seal, audit_sealer_start): signed by the audit-seal key through
 * llave-keyd and time-stamped by this TSA, called as a library.  No
 * provisioning: a new audit-seal key is the console's (custody/). */
void tsa_audit_sealing(lv_ca *ca, lv_audit_sealing *out);

#endif
