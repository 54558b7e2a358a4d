/* XAdES-B-T: the xades:SignatureTimeStamp (EN 319 132-1 §5.3), an
 * unsigned property.  Its message imprint is over the ds:SignatureValue
 * element canonicalized by the ds:CanonicalizationMethod the time-stamp
 * names (inclusive C14N 1.0 if it named none; we name exclusive, as
 * everywhere, see xades_c14n.c), and the token is the RFC 3161
 * TimeStampToken as DER in xades:EncapsulatedTimeStamp. */
#include "xades/xades_internal.h"

#include <openssl/ts.h>
#include <stdlib.h>

/* The token must be a time-stamp of exactly what we asked for: a wrong
 * imprint would give a B-T signature whose time-stamp proves nothing. */
static int check_token(const unsigned char *tok, size_t len, const EVP_MD *md,
                       const unsigned char *d, size_t dlen, lv_err *err)
{
    const unsigned char *p = tok;
    PKCS7 *p7 = tok && len ? d2i_PKCS7(NULL, &p, (long)len) : NULL;
    TS_TST_INFO *info = p7 ? PKCS7_to_TS_TST_INFO(p7) : NULL;
    TS_MSG_IMPRINT *mi = info ? TS_TST_INFO_get_msg_imprint(info) : NULL;
    ASN1_OCTET_STRING *h = mi ? TS_MSG_IMPRINT_get_msg(mi) : NULL;
    X509_ALGOR *alg = mi ? TS_MSG_IMPRINT_get_algo(mi) : NULL;
    int ok = h && OBJ_obj2nid(alg->algorithm) == EVP_MD_get_type(md) &&
             (size_t)ASN1_STRING_length(h) == dlen &&
             CRYPTO_memcmp(ASN1_STRING_get0_data(h), d, dlen) == 0;
    TS_TST_INFO_free(info);
    PKCS7_free(p7);
    return ok ? 0
              : lv_fail(err, LV_ECRYPTO,
                        "the time-stamp token is not one over this "
                        "signature value");
}

static int put_token(xades_ctx *c, const unsigned char *tok, size_t len)
{
    xmlNodePtr up = xades_add(c->qprops, c->xa, "UnsignedProperties", NULL);
    xmlNodePtr usp =
        up ? xades_add(up, c->xa, "UnsignedSignatureProperties", NULL) : NULL;
    xmlNodePtr ts = xades_set(
        usp ? xades_add(usp, c->xa, "SignatureTimeStamp", NULL) : NULL, "Id",
        c->ts_id);
    return ts &&
           xades_add_alg(ts, c->ds, "CanonicalizationMethod", XADES_C14N) &&
           xades_add_b64(ts, c->xa, "EncapsulatedTimeStamp", tok, len);
}

int xades_timestamp_add(xades_ctx *c, lv_err *err)
{
    unsigned char d[EVP_MAX_MD_SIZE], *tok = NULL;
    size_t dlen = 0, tlen = 0;
    if (!c->o->timestamp)
        return lv_fail(err, LV_EINVAL, "B-T needs a time-stamp callback");
    LV_TRY(xades_c14n_digest(c->doc, c->value, NULL, c->md, d, &dlen, err));
    LV_TRY(
        c->o->timestamp(c->o->timestamp_arg, c->md, d, dlen, &tok, &tlen, err));
    int rc = check_token(tok, tlen, c->md, d, dlen, err);
    if (rc == 0 && !put_token(c, tok, tlen))
        rc = lv_fail(err, LV_ENOMEM, "cannot add the time-stamp");
    free(tok);
    return rc;
}
