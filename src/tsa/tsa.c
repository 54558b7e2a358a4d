/* The time-stamp authority's one entry point (R7.1, R7.2, RFC 3161 §2.4):
 * a TimeStampReq in, a TimeStampResp out, in a straight line — read and
 * check the request, ask the clock, sign the token.  Every refusal is an
 * answer the client can read (PKIStatus rejection with its failInfo); only
 * an unknown unit or a failure to encode any answer at all is an error.
 * The same, called as a library, stamps audit seals (tsa_audit_sealing). */
#include "tsa/tsa_internal.h"

#include <openssl/bn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int refuse(tsa_refusal *why, int failure, const char *text)
{
    why->failure = failure;
    snprintf(why->text, sizeof why->text, "%s", text);
    return 1;
}

/* 0: a token may be issued at *now; 1: `why` says why not. */
static int decide(lv_ca *ca, const tsa_state *tsa, lv_store *st,
                  const unsigned char *req, size_t req_len, TS_REQ **ts_req,
                  struct timespec *now, tsa_refusal *why, lv_err *err)
{
    int rc = tsa_request_check(req, req_len, tsa->policy, ts_req, why);
    if (rc != 0)
        return rc;
    /* sealed: the service exists but cannot sign (no 2 of 3 shares yet);
     * llave-keyd away (restarting): LV_EBUSY, 503 + Retry-After, a
     * transient state the client retries rather than a refusal */
    rc = ca_need_keys(ca, "time-stamps cannot be signed", err);
    if (rc == LV_EBUSY)
        return rc;
    if (rc < 0)
        return refuse(why, TS_INFO_SYSTEM_FAILURE, "the key store is sealed");
    if (!tsa_clock_guard(ca, st, why))
        return 1;
    /* genTime is read after the clock was judged, right before signing */
    if (clock_gettime(CLOCK_REALTIME, now) != 0)
        return refuse(why, TS_INFO_TIME_NOT_AVAILABLE, "no clock reading");
    return 0;
}

int tsa_respond(lv_ca *ca, lv_store *st, const char *unit,
                const unsigned char *req, size_t req_len, unsigned char **reply,
                size_t *reply_len, lv_err *err)
{
    tsa_state *tsa = NULL;
    tsa_refusal why = {0};
    TS_REQ *ts_req = NULL;
    struct timespec now;
    *reply = NULL;
    *reply_len = 0;
    LV_TRY(tsa_state_get(ca, &tsa, err));
    const tsa_unit *u = tsa_unit_find(ca, unit);
    if (u == NULL)
        return lv_fail(err, LV_ENOTFOUND, "no time-stamping unit %s",
                       unit && unit[0] ? unit : ca_config(ca)->tsa_unit);
    int rc = decide(ca, tsa, st, req, req_len, &ts_req, &now, &why, err);
    if (rc == 0 &&
        (rc = tsa_token_reply(ca, u, ts_req, &now, reply, reply_len, err)) <
            0 &&
        rc != LV_EBUSY) {
        lv_log(LV_LOG_ERROR, "tsa %s: %s", u->entry->name,
               err ? err->msg : lv_err_name(rc));
        rc = refuse(&why, TS_INFO_SYSTEM_FAILURE,
                    "the time-stamp could not be signed");
    }
    TS_REQ_free(ts_req);
    if (rc == 1)
        rc = tsa_refusal_reply(&why, reply, reply_len, err);
    return rc;
}

int tsa_query(const EVP_MD *md, const unsigned char *digest, size_t dlen,
              unsigned char **der, int *der_len)
{
    unsigned char nonce_raw[8];
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *imp = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    ASN1_INTEGER *nonce = NULL;
    BIGNUM *bn = NULL;
    int ok = req && imp && alg &&
             X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL,
                             NULL) &&
             TS_MSG_IMPRINT_set_algo(imp, alg) &&
             TS_MSG_IMPRINT_set_msg(imp, (unsigned char *)digest, (int)dlen) &&
             TS_REQ_set_version(req, 1) && TS_REQ_set_msg_imprint(req, imp) &&
             TS_REQ_set_cert_req(req, 1) &&
             lv_random(nonce_raw, sizeof nonce_raw) == 0 &&
             (bn = BN_bin2bn(nonce_raw, sizeof nonce_raw, NULL)) &&
             (nonce = BN_to_ASN1_INTEGER(bn, NULL)) &&
             TS_REQ_set_nonce(req, nonce);
    *der = NULL;
    *der_len = ok ? i2d_TS_REQ(req, der) : 0;
    ASN1_INTEGER_free(nonce);
    BN_free(bn);
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(imp);
    TS_REQ_free(req);
    return *der_len > 0 ? 0 : LV_ECRYPTO;
}

/* ---- the stamps of audit seals (R9.2; audit/audit_sealer.c) -------------- */
static int seal_request(const char *msg, unsigned char **der, int *len)
{
    unsigned char md[32];
    *der = NULL;
    *len = 0;
    if (!EVP_Digest(msg, strlen(msg), md, NULL, EVP_sha256(), NULL))
        return LV_ECRYPTO;
    return tsa_query(EVP_sha256(), md, sizeof md, der, len);
}

/* Our own TSA, called as a library (not over HTTP): a refusal such as
 * timeNotAvailable (R7.2, clock not synchronized) fails the seal. */
static int seal_stamp(void *ctx, lv_store *st, const char *msg,
                      unsigned char **tst, size_t *tst_len, lv_err *err)
{
    lv_ca *ca = ctx;
    unsigned char *req = NULL, *reply = NULL;
    int req_len = 0;
    size_t reply_len = 0;
    LV_TRY(seal_request(msg, &req, &req_len) < 0
               ? lv_fail_ssl(err, LV_ECRYPTO, "cannot build the TSA request")
               : 0);
    int rc = tsa_respond(ca, st, NULL, req, (size_t)req_len, &reply, &reply_len,
                         err);
    OPENSSL_free(req);
    LV_TRY(rc);
    const unsigned char *p = reply;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)reply_len);
    TS_STATUS_INFO *si = resp ? TS_RESP_get_status_info(resp) : NULL;
    long status = si ? ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)) : -1;
    TS_RESP_free(resp);
    if (status != 0 && status != 1) {
        OPENSSL_free(reply);
        return lv_fail(err, LV_ESTATE,
                       "the TSA refused to time-stamp the seal (PKIStatus "
                       "%ld; is the clock synchronized? R7.2)",
                       status);
    }
    *tst = malloc(reply_len ? reply_len : 1);
    if (*tst && reply_len)
        memcpy(*tst, reply, reply_len);
    *tst_len = reply_len;
    OPENSSL_free(reply);
    return *tst ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
}

static int seal_ready(void *ctx, lv_err *err)
{
    return ca_need_keys(ctx, "the audit-seal key signs seals", err);
}

static int seal_sign(void *ctx, const char *key_id, const unsigned char *msg,
                     size_t len, unsigned char **sig, size_t *sig_len,
                     lv_err *err)
{
    return ca_key_sign(ctx, key_id, EVP_sha256(), msg, len, sig, sig_len, err);
}

void tsa_audit_sealing(lv_ca *ca, lv_audit_sealing *out)
{
    *out = (lv_audit_sealing){.ctx = ca,
                              .cfg = ca_config(ca),
                              .ready = seal_ready,
                              .sign = seal_sign,
                              .stamp = seal_stamp,
                              .provision = NULL};
}
