/* Internal to tsa/ (files: see tsa.h).  The unit tests and
 * fuzz/fuzz_ts_request.c include this header for the pure functions. */
#ifndef LLAVE_TSA_INTERNAL_H
#define LLAVE_TSA_INTERNAL_H

#include "store/store.h"
#include "store/store_ca.h"
#include "tsa/tsa.h"

#include <openssl/ts.h>
#include <stdatomic.h>
#include <time.h>

/* EN 319 421 §5.2: the best practices time-stamp policy (BTSP), itu-t(0)
 * identified-organization(4) etsi(0) time-stamp-policy(2023)
 * policy-identifiers(1) best-practices-ts-policy(1): the default policy of
 * the tokens (EN 319 422 Annex A). */
#define LV_TSA_POLICY_BTSP "0.4.0.2023.1.1"
#define LV_TSA_SERIAL_BYTES 20 /* RFC 3161 §2.4.2: up to 160 bits */
#define LV_TSA_MAX_DIGITS                                                      \
    6 /* genTime fraction, as OpenSSL's                                        \
         TS_MAX_CLOCK_PRECISION_DIGITS */
#define LV_TSA_TEXT_MAX 200
#define LV_TSA_CLOCK_HOOK "LLAVE_TSA_TEST_CLOCK_UNSYNC"

/* One time-stamping unit: a cas row of role "tsa" and what every token it
 * signs repeats, computed once. */
typedef struct tsa_unit {
    const lv_ca_entry *entry; /* name, key id, certificate */
    EVP_PKEY *pub;            /* the certificate's public key: algorithm ids */
    EVP_MD *md;               /* SHA-256; SHA-384 for a P-384 key */
    ASN1_STRING *ess;         /* DER of SigningCertificateV2 (RFC 5035) */
    GENERAL_NAME *name;       /* directoryName for TSTInfo.tsa */
    X509_EXTENSION *qtst;     /* qcStatements for TSTInfo (EN 319 422
                                 §9.1); NULL: the unit is not qualified */
} tsa_unit;

enum { TSA_CLOCK_UNKNOWN, TSA_CLOCK_USABLE, TSA_CLOCK_UNUSABLE };

/* The TSA state of one CA context (ca_attachment, CA_ATTACH_TSA). */
typedef struct tsa_state {
    tsa_unit *units;
    size_t count;
    ASN1_OBJECT *policy;
    TS_ACCURACY *accuracy;
    int digits;             /* genTime fraction digits the clock supports */
    int force_unsync;       /* test hook: LV_TSA_CLOCK_HOOK was set */
    atomic_int clock_state; /* last judgement, TSA_CLOCK_*: changes are
                               audited (EN 319 421 §7.7.2) */
} tsa_state;

/* A refusal: PKIFailureInfo bit (TS_INFO_*) and the statusString. */
typedef struct tsa_refusal {
    int failure;
    char text[LV_TSA_TEXT_MAX];
} tsa_refusal;

/* ---- tsa_request.c ------------------------------------------------------- */
/* Parses one DER TimeStampReq and checks it against RFC 3161 §2.4.1 and our
 * profile: 0 with *out set, 1 with `why` filled (the answer is a refusal),
 * or a negative LV_E code.  `policy` is the only one accepted. */
int tsa_request_check(const unsigned char *der, size_t len,
                      const ASN1_OBJECT *policy, TS_REQ **out,
                      tsa_refusal *why);
/* Digest length of an accepted imprint algorithm (SHA-256/384/512), 0 for
 * any other. */
int tsa_imprint_len(int nid);

/* ---- tsa_token.c --------------------------------------------------------- */
/* Fraction digits worth printing for a clock of resolution res_ns. */
int tsa_clock_digits(long res_ns);
/* GeneralizedTime text "YYYYMMDDhhmmss[.f*]Z" with up to `digits` fraction
 * digits, trailing zeros dropped (RFC 3161 §2.4.2, X.690 §11.7). */
int tsa_gentime_text(const struct timespec *ts, int digits, char out[40]);
/* A positive serial of LV_TSA_SERIAL_BYTES with the top bits 01: fixed
 * length, 158 random bits. */
int tsa_serial_new(ASN1_INTEGER **out);
/* The granted answer: TSTInfo for req at `now`, signed by unit u. */
int tsa_token_reply(lv_ca *ca, const tsa_unit *u, const TS_REQ *req,
                    const struct timespec *now, unsigned char **reply,
                    size_t *reply_len, lv_err *err);
/* A rejection (PKIStatus 2) with failInfo and statusString. */
int tsa_refusal_reply(const tsa_refusal *why, unsigned char **reply,
                      size_t *reply_len, lv_err *err);

/* ---- tsa_clock.c --------------------------------------------------------- */
/* Judges the kernel's report: 1 when usable, 0 with `why` filled. */
int tsa_clock_judge(int state, int status, long maxerror_us, long esterror_us,
                    long accuracy_us, char *why, size_t cap);
/* R7.2 on the request path: 1 when a token may be issued, 0 with `why`
 * filled (timeNotAvailable).  A change of judgement is audited. */
int tsa_clock_guard(lv_ca *ca, lv_store *st, tsa_refusal *why);

/* ---- tsa_qualified.c ------------------------------------------------------
 */
/* 1 when the TSU certificate carries the QcCompliance statement (EN 319
 * 412-5 §4.2.1): its tokens are qualified electronic time-stamps; 0 when
 * not; LV_ECRYPTO when its qcStatements extension cannot be read. */
int tsa_cert_qualified(const X509 *cert);
/* The non-critical qcStatements extension with esi4-qtstStatement-1 that
 * every token of a qualified unit carries (EN 319 422 §9.1), or NULL. */
X509_EXTENSION *tsa_qtst_extension(void);

/* ---- tsa_unit.c ---------------------------------------------------------- */
/* The TSA state of the CA context, built on first use. */
int tsa_state_get(lv_ca *ca, tsa_state **out, lv_err *err);
/* The unit named `name` (NULL or "": tsa_unit), or NULL. */
const tsa_unit *tsa_unit_find(lv_ca *ca, const char *name);

#endif
