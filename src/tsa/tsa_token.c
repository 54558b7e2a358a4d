/* Building the TimeStampResp (RFC 3161 §2.4.2): the TSTInfo with OpenSSL's
 * TS API, the SignedData around it with its PKCS7 API (as OpenSSL's own
 * TS_RESP_create_response does), and the signature over the signed
 * attributes from llave-keyd (ca_key_sign), so that the TSU key never
 * leaves it (issue 12).
 *
 *   TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber,
 *      genTime, accuracy OPTIONAL, ordering DEFAULT FALSE, nonce OPTIONAL,
 *      tsa [0] GeneralName OPTIONAL, extensions [1] OPTIONAL }
 *
 * extensions carries, for a qualified unit only, qcStatements with
 * esi4-qtstStatement-1 (EN 319 422 §9.1; tsa_qualified.c).
 *
 * The token is a SignedData (version 3: its content is not id-data, RFC
 * 5652 §5.1) with eContentType id-ct-TSTInfo and one SignerInfo whose
 * signed attributes are contentType, messageDigest and
 * signingCertificateV2 (RFC 5816, EN 319 422 §5.2.2). */
#include "tsa/tsa_internal.h"

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/pkcs7.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- genTime and serial -------------------------------------------------- */

int tsa_clock_digits(long res_ns)
{
    long unit = 1000000000L;
    int digits = 0;
    while (digits < LV_TSA_MAX_DIGITS && unit / 10 >= res_ns && res_ns > 0) {
        unit /= 10;
        digits++;
    }
    return digits;
}

int tsa_gentime_text(const struct timespec *ts, int digits, char out[40])
{
    struct tm tm;
    time_t sec = ts->tv_sec;
    if (gmtime_r(&sec, &tm) == NULL || digits < 0 || digits > LV_TSA_MAX_DIGITS)
        return LV_EINVAL;
    size_t n = strftime(out, 40, "%Y%m%d%H%M%S", &tm);
    if (n != 14)
        return LV_EINVAL;
    if (digits > 0) {
        long frac = ts->tv_nsec;
        for (int i = digits; i < 9; i++)
            frac /= 10;
        snprintf(out + n, 40 - n, ".%0*ld", digits, frac);
        n = strlen(out);
        while (out[n - 1] == '0') /* X.690 §11.7.3: no trailing zeros */
            out[--n] = '\0';
        if (out[n - 1] == '.') /* nor a bare decimal point */
            out[--n] = '\0';
    }
    out[n] = 'Z';
    out[n + 1] = '\0';
    return 0;
}

/* Random rather than a counter: unique across restarts and across several
 * llaved on one database without a shared write per token (R10.1, R10.2);
 * 158 random bits make a collision as likely as guessing a 79-bit key. */
int tsa_serial_new(ASN1_INTEGER **out)
{
    unsigned char raw[LV_TSA_SERIAL_BYTES];
    if (lv_random(raw, sizeof raw) < 0)
        return LV_ECRYPTO;
    raw[0] = (unsigned char)((raw[0] & 0x3f) | 0x40);
    BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
    *out = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    BN_free(bn);
    return *out ? 0 : LV_ENOMEM;
}

/* ---- TSTInfo ------------------------------------------------------------- */

static int tst_time(TS_TST_INFO *tst, const struct timespec *now, int digits)
{
    char text[40];
    ASN1_GENERALIZEDTIME *t = ASN1_GENERALIZEDTIME_new();
    int ok = t && tsa_gentime_text(now, digits, text) == 0 &&
             ASN1_GENERALIZEDTIME_set_string(t, text) &&
             TS_TST_INFO_set_time(tst, t);
    ASN1_GENERALIZEDTIME_free(t);
    return ok;
}

static int tst_serial(TS_TST_INFO *tst)
{
    ASN1_INTEGER *serial = NULL;
    int ok =
        tsa_serial_new(&serial) == 0 && TS_TST_INFO_set_serial(tst, serial);
    ASN1_INTEGER_free(serial);
    return ok;
}

/* Everything a TSTInfo says, in the order of its definition; ordering stays
 * FALSE (absent): genTime alone orders nothing finer than the accuracy.
 * extensions: a qualified unit's qcStatements (EN 319 422 §9.1), no other. */
static TS_TST_INFO *tst_build(const tsa_state *tsa, const tsa_unit *u,
                              const lv_config *cfg, const TS_REQ *req,
                              const struct timespec *now)
{
    TS_TST_INFO *tst = TS_TST_INFO_new();
    const ASN1_INTEGER *nonce = TS_REQ_get_nonce(req);
    int ok = tst && TS_TST_INFO_set_version(tst, 1) &&
             TS_TST_INFO_set_policy_id(tst, tsa->policy) &&
             TS_TST_INFO_set_msg_imprint(
                 tst, TS_REQ_get_msg_imprint((TS_REQ *)req)) &&
             tst_serial(tst) && tst_time(tst, now, tsa->digits) &&
             TS_TST_INFO_set_accuracy(tst, tsa->accuracy) &&
             (nonce == NULL || TS_TST_INFO_set_nonce(tst, nonce)) &&
             (!cfg->tsa_include_name || TS_TST_INFO_set_tsa(tst, u->name)) &&
             (u->qtst == NULL || TS_TST_INFO_add_ext(tst, u->qtst, -1));
    if (!ok) {
        TS_TST_INFO_free(tst);
        return NULL;
    }
    return tst;
}

/* ---- the SignedData ------------------------------------------------------ */

/* encapContentInfo: id-ct-TSTInfo with the DER TSTInfo as eContent. */
static int token_content(PKCS7 *p7, const unsigned char *tst, int tst_len)
{
    PKCS7 *inner = PKCS7_new();
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    ASN1_TYPE *any = ASN1_TYPE_new();
    if (inner && os && any && ASN1_OCTET_STRING_set(os, tst, tst_len)) {
        ASN1_TYPE_set(any, V_ASN1_OCTET_STRING, os);
        os = NULL;
        if (PKCS7_set0_type_other(inner, NID_id_smime_ct_TSTInfo, any)) {
            any = NULL;
            if (PKCS7_set_content(p7, inner))
                return 1;
        }
    }
    ASN1_OCTET_STRING_free(os);
    ASN1_TYPE_free(any);
    PKCS7_free(inner);
    return 0;
}

static int signed_attributes(PKCS7_SIGNER_INFO *si, const tsa_unit *u,
                             const unsigned char *tst, int tst_len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    ASN1_STRING *ess = ASN1_STRING_dup(u->ess);
    if (ess == NULL)
        return 0;
    /* PKCS7_add_signed_attribute takes ess on success only */
    if (!PKCS7_add_signed_attribute(si, NID_id_smime_aa_signingCertificateV2,
                                    V_ASN1_SEQUENCE, ess)) {
        ASN1_STRING_free(ess);
        return 0;
    }
    return PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                      OBJ_nid2obj(NID_id_smime_ct_TSTInfo)) &&
           EVP_Digest(tst, (size_t)tst_len, md, &md_len, u->md, NULL) &&
           PKCS7_add1_attrib_digest(si, md, (int)md_len);
}

/* RFC 5652 §5.4: the signature covers the DER SET OF signed attributes,
 * encoded by OpenSSL's own template (sorted, as the SignerInfo carries
 * them). */
static int sign_attributes(lv_ca *ca, const tsa_unit *u, PKCS7_SIGNER_INFO *si,
                           lv_err *err)
{
    unsigned char *attrs = NULL, *sig = NULL;
    size_t sig_len = 0;
    int len = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &attrs,
                            ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
    if (len <= 0)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot encode signed attributes");
    int rc = ca_key_sign(ca, u->entry->key_id, u->md, attrs, (size_t)len, &sig,
                         &sig_len, err);
    OPENSSL_free(attrs);
    if (rc == 0 && !ASN1_STRING_set(si->enc_digest, sig, (int)sig_len))
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    free(sig); /* keys_sign allocates with malloc */
    return rc;
}

/* §2.4.2: the TSU certificate goes in only when certReq asked for it. */
static int token_build(lv_ca *ca, const tsa_unit *u, const TS_REQ *req,
                       const unsigned char *tst, int tst_len, PKCS7 **out,
                       lv_err *err)
{
    PKCS7 *p7 = PKCS7_new();
    PKCS7_SIGNER_INFO *si = NULL;
    int ok = p7 && PKCS7_set_type(p7, NID_pkcs7_signed) &&
             ASN1_INTEGER_set(p7->d.sign->version, 3) &&
             (si = PKCS7_add_signature(p7, u->entry->cert, u->pub, u->md)) &&
             (!TS_REQ_get_cert_req(req) ||
              PKCS7_add_certificate(p7, u->entry->cert)) &&
             token_content(p7, tst, tst_len) &&
             signed_attributes(si, u, tst, tst_len);
    int rc = ok ? sign_attributes(ca, u, si, err)
                : lv_fail_ssl(err, LV_ECRYPTO, "cannot build the token");
    if (rc < 0) {
        PKCS7_free(p7);
        return rc;
    }
    *out = p7;
    return 0;
}

/* ---- TimeStampResp ------------------------------------------------------- */

/* PKIStatusInfo (RFC 4210 §5.2.3) as an OpenSSL template: the TS API can
 * read statusString and failInfo but offers no setter for them. */
typedef struct {
    ASN1_INTEGER *status;
    STACK_OF(ASN1_UTF8STRING) *text;
    ASN1_BIT_STRING *failure_info;
} LV_PKI_STATUS_INFO;

LV_ASN1_SEQUENCE(LV_PKI_STATUS_INFO,
                 ASN1_SIMPLE(LV_PKI_STATUS_INFO, status, ASN1_INTEGER),
                 ASN1_SEQUENCE_OF_OPT(LV_PKI_STATUS_INFO, text,
                                      ASN1_UTF8STRING),
                 ASN1_OPT(LV_PKI_STATUS_INFO, failure_info, ASN1_BIT_STRING))

static int status_fill(LV_PKI_STATUS_INFO *s, int status, int failure,
                       const char *text)
{
    ASN1_UTF8STRING *t = NULL;
    if (!ASN1_INTEGER_set(s->status, status))
        return 0;
    if (text != NULL) {
        s->text = sk_ASN1_UTF8STRING_new_null();
        t = ASN1_UTF8STRING_new();
        if (!s->text || !t || !ASN1_STRING_set(t, text, -1) ||
            !sk_ASN1_UTF8STRING_push(s->text, t)) {
            ASN1_UTF8STRING_free(t);
            return 0;
        }
    }
    if (failure < 0)
        return 1;
    s->failure_info = ASN1_BIT_STRING_new();
    return s->failure_info &&
           ASN1_BIT_STRING_set_bit(s->failure_info, failure, 1);
}

static TS_STATUS_INFO *status_granted(void)
{
    TS_STATUS_INFO *si = TS_STATUS_INFO_new();
    if (si != NULL && !TS_STATUS_INFO_set_status(si, TS_STATUS_GRANTED)) {
        TS_STATUS_INFO_free(si);
        return NULL;
    }
    return si;
}

/* A refusal: our template's DER read back as OpenSSL's TS_STATUS_INFO. */
static TS_STATUS_INFO *status_new(int status, int failure, const char *text)
{
    const ASN1_ITEM *it = ASN1_ITEM_rptr(LV_PKI_STATUS_INFO);
    LV_PKI_STATUS_INFO *s = (LV_PKI_STATUS_INFO *)ASN1_item_new(it);
    unsigned char *der = NULL;
    int len = s && status_fill(s, status, failure, text)
                  ? ASN1_item_i2d((ASN1_VALUE *)s, &der, it)
                  : -1;
    const unsigned char *p = der;
    TS_STATUS_INFO *out = len > 0 ? d2i_TS_STATUS_INFO(NULL, &p, len) : NULL;
    OPENSSL_free(der);
    ASN1_item_free((ASN1_VALUE *)s, it);
    return out;
}

/* Takes p7 and tst (either may be NULL for a refusal). */
static int reply_encode(TS_STATUS_INFO *status, PKCS7 *p7, TS_TST_INFO *tst,
                        unsigned char **reply, size_t *reply_len, lv_err *err)
{
    TS_RESP *resp = TS_RESP_new();
    int len = -1;
    if (resp && status && TS_RESP_set_status_info(resp, status)) {
        if (p7 != NULL)
            TS_RESP_set_tst_info(resp, p7, tst);
        p7 = NULL;
        tst = NULL;
        len = i2d_TS_RESP(resp, reply);
    }
    PKCS7_free(p7);
    TS_TST_INFO_free(tst);
    TS_RESP_free(resp);
    TS_STATUS_INFO_free(status);
    if (len <= 0)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot encode the TimeStampResp");
    *reply_len = (size_t)len;
    return 0;
}

int tsa_refusal_reply(const tsa_refusal *why, unsigned char **reply,
                      size_t *reply_len, lv_err *err)
{
    *reply = NULL;
    return reply_encode(
        status_new(TS_STATUS_REJECTION, why->failure, why->text), NULL, NULL,
        reply, reply_len, err);
}

int tsa_token_reply(lv_ca *ca, const tsa_unit *u, const TS_REQ *req,
                    const struct timespec *now, unsigned char **reply,
                    size_t *reply_len, lv_err *err)
{
    unsigned char *tst_der = NULL;
    PKCS7 *p7 = NULL;
    *reply = NULL;
    tsa_state *tsa = NULL;
    LV_TRY(tsa_state_get(ca, &tsa, err));
    TS_TST_INFO *tst = tst_build(tsa, u, ca_config(ca), req, now);
    int len = tst ? i2d_TS_TST_INFO(tst, &tst_der) : -1;
    int rc = len > 0 ? token_build(ca, u, req, tst_der, len, &p7, err)
                     : lv_fail_ssl(err, LV_ECRYPTO, "cannot build TSTInfo");
    OPENSSL_free(tst_der);
    if (rc < 0) {
        TS_TST_INFO_free(tst);
        return rc;
    }
    return reply_encode(status_granted(), p7, tst, reply, reply_len, err);
}
