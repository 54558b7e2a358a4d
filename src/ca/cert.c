/* Making and signing X.509 v3 certificates: serials, validity, and the
 * signature through llave-keyd (profile/extensions.c decides the
 * extensions). */
#include "ca/ca_internal.h"
#include "store/store_ca.h"

#include <openssl/bn.h>
#include <string.h>

/* R4.5: serials are positive, unpredictable and >= 64 random bits.  We use
 * 16 random bytes with the top two bits fixed to 01: positive, always 16
 * bytes long, 126 random bits. */
static int random_serial(X509 *cert, lv_err *err)
{
    unsigned char raw[16];
    LV_TRY(lv_random(raw, sizeof raw));
    raw[0] &= 0x7f;
    raw[0] |= 0x40; /* keep the length fixed so hex serials align */
    BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
    ASN1_INTEGER *serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    int ok = serial != NULL && X509_set_serialNumber(cert, serial);
    BN_free(bn);
    ASN1_INTEGER_free(serial);
    return ok ? 0 : lv_fail_ssl(err, LV_ECRYPTO, "cannot set serial number");
}

int ca_serial_hex(const ASN1_INTEGER *serial, char out[65])
{
    const unsigned char *bytes = ASN1_STRING_get0_data(serial);
    int len = ASN1_STRING_length(serial);
    if (len <= 0 || len > 32)
        return LV_EINVAL;
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < (size_t)len; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 0xf];
    }
    out[2 * (size_t)len] = '\0';
    return 0;
}

int64_t ca_time_unix(const ASN1_TIME *t)
{
    struct tm tm;
    if (!ASN1_TIME_to_tm(t, &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

static int set_time(ASN1_TIME *t, int64_t when)
{
    return ASN1_TIME_set(t, (time_t)when) != NULL;
}

int ca_cert_new(const ca_cert_params *params, X509 **out, lv_err *err)
{
    X509 *cert = X509_new();
    int rc = cert ? 0 : LV_ENOMEM;
    const X509_NAME *issuer = params->issuer_cert
                                  ? X509_get_subject_name(params->issuer_cert)
                                  : params->subject;
    if (rc == 0 && !X509_set_version(cert, X509_VERSION_3))
        rc = LV_ECRYPTO;
    if (rc == 0)
        rc = random_serial(cert, err);
    if (rc == 0 && (!X509_set_subject_name(cert, params->subject) ||
                    !X509_set_issuer_name(cert, issuer) ||
                    !set_time(X509_getm_notBefore(cert), params->not_before) ||
                    !set_time(X509_getm_notAfter(cert), params->not_after) ||
                    !ca_cert_set_pubkey(cert, params->public_key)))
        rc = lv_fail_ssl(err, LV_ECRYPTO, "cannot fill the certificate");
    if (rc < 0) {
        X509_free(cert);
        return rc;
    }
    *out = cert;
    return 0;
}

int ca_sign_cert(lv_ca *ca, const char *key_id, X509 *cert, lv_err *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return LV_ENOMEM;
    /* the issuer's key stays in llave-keyd: OpenSSL assembles the
     * certificate and keyd signs its digest (ca_keys_pkey.c) */
    int rc = ca_key_sign_init(ca, key_id, EVP_sha256(), ctx, err);
    if (rc == 0 && X509_sign_ctx(cert, ctx) <= 0)
        rc = ca_key_ctx_failed(err, "signing the certificate failed");
    EVP_MD_CTX_free(ctx);
    return rc;
}

int ca_rec_fill(lv_ca_rec *rec, const char *name, const char *role,
                const char *issuer, const char *key_id, X509 *cert)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->name, sizeof rec->name, "%s", name);
    snprintf(rec->role, sizeof rec->role, "%s", role);
    snprintf(rec->issuer, sizeof rec->issuer, "%s", issuer);
    snprintf(rec->key_id, sizeof rec->key_id, "%s", key_id);
    snprintf(rec->status, sizeof rec->status, "active");
    LV_TRY(ca_serial_hex(X509_get0_serialNumber(cert), rec->serial));
    rec->not_before = ca_time_unix(X509_get0_notBefore(cert));
    rec->not_after = ca_time_unix(X509_get0_notAfter(cert));
    int len = i2d_X509(cert, &rec->cert_der);
    if (len <= 0)
        return LV_ECRYPTO;
    rec->cert_len = (size_t)len;
    return 0;
}
