/* Time-stamp tokens from the caller's callback (our TSA, in the service):
 * the signature-time-stamp of B-T and the document time-stamp of B-LTA.
 * The token's message imprint is checked against what was asked, so that
 * a token for other data never ends up in a signature. */
#include "pades/pades_internal.h"

#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3161 §2.4.2: TimeStampToken is a ContentInfo whose TSTInfo holds
 * the messageImprint. */
static int imprint_matches(const unsigned char *tok, size_t len,
                           const EVP_MD *md, const unsigned char *digest,
                           size_t digest_len)
{
    const unsigned char *p = tok;
    PKCS7 *p7 = len <= 1u << 20 ? d2i_PKCS7(NULL, &p, (long)len) : NULL;
    TS_TST_INFO *info = p7 && p == tok + len ? PKCS7_to_TS_TST_INFO(p7) : NULL;
    TS_MSG_IMPRINT *mi = info ? TS_TST_INFO_get_msg_imprint(info) : NULL;
    const ASN1_OBJECT *alg = NULL;
    if (mi)
        X509_ALGOR_get0(&alg, NULL, NULL, TS_MSG_IMPRINT_get_algo(mi));
    ASN1_OCTET_STRING *h = mi ? TS_MSG_IMPRINT_get_msg(mi) : NULL;
    int ok = h && OBJ_obj2nid(alg) == EVP_MD_get_type(md) &&
             (size_t)ASN1_STRING_length(h) == digest_len &&
             memcmp(ASN1_STRING_get0_data(h), digest, digest_len) == 0;
    TS_TST_INFO_free(info);
    PKCS7_free(p7);
    return ok;
}

int pades_ts_token(const pades_opts *o, const EVP_MD *md,
                   const unsigned char *digest, size_t digest_len,
                   unsigned char **token, size_t *token_len, lv_err *err)
{
    *token = NULL;
    *token_len = 0;
    if (!o->timestamp)
        return lv_fail(err, LV_EINVAL, "no time-stamp callback");
    LV_TRY(o->timestamp(o->timestamp_arg, md, digest, digest_len, token,
                        token_len, err));
    if (*token && imprint_matches(*token, *token_len, md, digest, digest_len))
        return 0;
    free(*token);
    *token = NULL;
    return lv_fail(err, LV_ECRYPTO,
                   "the time-stamp token is not over the data asked for");
}
