/* The ds:Signature element (XMLDSig 1.0 §4): SignedInfo, SignatureValue,
 * KeyInfo and, from xades_props.c, the Object with the qualifying
 * properties.  The digests and the signature are ours to compute, not
 * xmlsec's: xmlsec signs only with a key it holds (xmlSecDSigCtxSign needs
 * an xmlSecKey with the private key), and ours never leaves llave-keyd.
 * So libxml2 canonicalizes, OpenSSL hashes, the callback signs, and xmlsec
 * verifies the result in the tests. */
#include "xades/xades_internal.h"

#include <libxml/uri.h>
#include <openssl/ec.h>
#include <stdlib.h>
#include <string.h>

static int oom(lv_err *err)
{
    return lv_fail(err, LV_ENOMEM, "out of memory");
}

/* XMLDSig §4.4.4: the signer's certificate first, then its issuers, so
 * that a verifier needs nothing but the trust anchor. */
static int add_cert(xmlNodePtr data, xmlNsPtr ds, X509 *cert)
{
    unsigned char *der = NULL;
    int len = i2d_X509(cert, &der);
    xmlNodePtr n =
        len > 0 ? xades_add_b64(data, ds, "X509Certificate", der, (size_t)len)
                : NULL;
    OPENSSL_free(der);
    return n != NULL;
}

static int add_key_info(xades_ctx *c)
{
    xmlNodePtr info = xades_add(c->sig, c->ds, "KeyInfo", NULL);
    xmlNodePtr data = info ? xades_add(info, c->ds, "X509Data", NULL) : NULL;
    int ok = data && add_cert(data, c->ds, c->o->signer);
    for (int i = 0; ok && i < sk_X509_num(c->o->chain); i++)
        ok = add_cert(data, c->ds, sk_X509_value(c->o->chain, i));
    return ok;
}

/* The enveloped signature is the root's last child; the detached one is
 * the root of a document of its own. */
static int place(xades_ctx *c)
{
    c->sig = xmlNewDocNode(c->doc, NULL, BAD_CAST "Signature", NULL);
    if (!c->sig)
        return 0;
    if (c->o->mode == XADES_ENVELOPED)
        xmlAddChild(xmlDocGetRootElement(c->doc), c->sig);
    else
        xmlDocSetRootElement(c->doc, c->sig);
    c->ds = xmlNewNs(c->sig, BAD_CAST XADES_NS_DS, BAD_CAST "ds");
    xmlSetNs(c->sig, c->ds);
    return c->ds && xades_set(c->sig, "Id", c->sig_id);
}

int xades_sig_start(xades_ctx *c, lv_err *err)
{
    const char *method = xades_sigmethod_uri(c->o->signer, c->md);
    if (!method)
        return lv_fail(err, LV_EINVAL,
                       "the signer's key must be RSA or EC and the digest "
                       "SHA-256, SHA-384 or SHA-512");
    if (!place(c))
        return oom(err);
    c->signed_info = xades_add(c->sig, c->ds, "SignedInfo", NULL);
    int ok = c->signed_info &&
             xades_add_alg(c->signed_info, c->ds, "CanonicalizationMethod",
                           XADES_C14N) &&
             xades_add_alg(c->signed_info, c->ds, "SignatureMethod", method);
    c->value = ok ? xades_add(c->sig, c->ds, "SignatureValue", NULL) : NULL;
    ok = xades_set(c->value, "Id", c->value_id) && add_key_info(c);
    return ok ? 0 : oom(err);
}

/* ---- references (XMLDSig §4.3.3) ---------------------------------------- */

static xmlNodePtr add_reference(xades_ctx *c, const char *id, const char *uri,
                                const char *type)
{
    xmlNodePtr ref = xades_add(c->signed_info, c->ds, "Reference", NULL);
    if (ref && id && !xades_set(ref, "Id", id))
        return NULL;
    if (ref && type && !xades_set(ref, "Type", type))
        return NULL;
    return xades_set(ref, "URI", uri);
}

static int add_transforms(xades_ctx *c, xmlNodePtr ref, int enveloped)
{
    xmlNodePtr ts = xades_add(ref, c->ds, "Transforms", NULL);
    if (ts && enveloped &&
        !xades_add_alg(ts, c->ds, "Transform", XADES_ENVELOPED_SIG))
        return 0;
    return ts && xades_add_alg(ts, c->ds, "Transform", XADES_C14N);
}

static int add_digest(xades_ctx *c, xmlNodePtr ref, const unsigned char *d,
                      size_t len)
{
    return xades_add_alg(ref, c->ds, "DigestMethod", xades_digest_uri(c->md)) &&
           xades_add_b64(ref, c->ds, "DigestValue", d, len);
}

/* Enveloped: URI="" is the whole document without comments (§4.3.3.3),
 * the enveloped-signature transform removes this ds:Signature (§6.6.4).
 * Detached: the octets of the document, untransformed (§4.3.3.2). */
static int reference_document(xades_ctx *c, const unsigned char *doc,
                              size_t len, lv_err *err)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    size_t dlen = 0;
    int enveloped = c->o->mode == XADES_ENVELOPED;
    xmlChar *uri =
        enveloped ? xmlStrdup(BAD_CAST "")
                  : xmlURIEscapeStr(BAD_CAST c->o->doc_name, BAD_CAST "/:");
    xmlNodePtr ref =
        uri ? add_reference(c, c->ref_id, (char *)uri, NULL) : NULL;
    xmlFree(uri);
    if (!ref || (enveloped && !add_transforms(c, ref, 1)))
        return oom(err);
    if (enveloped)
        LV_TRY(xades_c14n_digest(c->doc, NULL, c->sig, c->md, d, &dlen, err));
    else if (EVP_Digest(doc, len, d, NULL, c->md, NULL))
        dlen = (size_t)EVP_MD_get_size(c->md);
    if (dlen == 0)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot hash the document");
    return add_digest(c, ref, d, dlen) ? 0 : oom(err);
}

/* The SignedProperties are signed through a reference of their Type to
 * their Id (XMLDSig §4.3.3.3: a bare-name XPointer, comments excluded). */
static int reference_props(xades_ctx *c, lv_err *err)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    size_t dlen = 0;
    char uri[sizeof c->props_id + 1];
    snprintf(uri, sizeof uri, "#%s", c->props_id);
    xmlNodePtr ref = add_reference(c, NULL, uri, XADES_SP_TYPE);
    if (!ref || !add_transforms(c, ref, 0))
        return oom(err);
    LV_TRY(
        xades_c14n_digest(c->doc, c->signed_props, NULL, c->md, d, &dlen, err));
    return add_digest(c, ref, d, dlen) ? 0 : oom(err);
}

int xades_sig_references(xades_ctx *c, const unsigned char *doc, size_t len,
                         lv_err *err)
{
    LV_TRY(reference_document(c, doc, len, err));
    return reference_props(c, err);
}

/* ---- the signature value (XMLDSig §4.2, §6.4) -------------------------- */

/* The callback's signature must verify under the certificate's key: a
 * signature by any other key would make an XAdES that no one can verify. */
static int check_signature(X509 *signer, const EVP_MD *md,
                           const unsigned char *d, size_t dlen,
                           const unsigned char *sig, size_t slen, lv_err *err)
{
    return lv_digest_sig_ok(signer, md, d, dlen, sig, slen)
               ? 0
               : lv_fail(err, LV_ECRYPTO,
                         "the signature does not verify with the signer's "
                         "certificate");
}

/* XMLDSig 1.1 §6.4.3: an ECDSA SignatureValue is r||s, each I2OSP'd to
 * the size of the base point order in octets, not the DER SEQUENCE. */
static int ecdsa_raw(X509 *signer, unsigned char **sig, size_t *len,
                     lv_err *err)
{
    const unsigned char *p = *sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)*len);
    int n = (EVP_PKEY_get_bits(X509_get0_pubkey(signer)) + 7) / 8;
    unsigned char *raw = es && n > 0 ? malloc(2 * (size_t)n) : NULL;
    int ok = raw && p == *sig + *len &&
             BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, n) == n &&
             BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + n, n) == n;
    ECDSA_SIG_free(es);
    if (!ok) {
        free(raw);
        return lv_fail(err, LV_ECRYPTO, "the ECDSA signature does not parse");
    }
    free(*sig);
    *sig = raw;
    *len = 2 * (size_t)n;
    return 0;
}

static int put_value(xades_ctx *c, unsigned char **sig, size_t *len,
                     lv_err *err)
{
    char *b64 = NULL;
    if (EVP_PKEY_is_a(X509_get0_pubkey(c->o->signer), "EC"))
        LV_TRY(ecdsa_raw(c->o->signer, sig, len, err));
    if (lv_b64_encode(*sig, *len, &b64) < 0)
        return oom(err);
    /* AddContent takes text as is; SetContent would read it as markup */
    xmlNodeAddContent(c->value, BAD_CAST b64);
    free(b64);
    return 0;
}

int xades_sig_value(xades_ctx *c, lv_err *err)
{
    unsigned char d[EVP_MAX_MD_SIZE], *sig = NULL;
    size_t dlen = 0, slen = 0;
    /* XMLDSig §3.1.2 (core generation): the SignatureMethod over the
     * canonical SignedInfo */
    LV_TRY(
        xades_c14n_digest(c->doc, c->signed_info, NULL, c->md, d, &dlen, err));
    LV_TRY(c->o->sign(c->o->sign_arg, c->md, d, dlen, &sig, &slen, err));
    int rc =
        sig && slen ? 0 : lv_fail(err, LV_ECRYPTO, "the signer signed nothing");
    if (rc == 0)
        rc = check_signature(c->o->signer, c->md, d, dlen, sig, slen, err);
    if (rc == 0)
        rc = put_value(c, &sig, &slen, err);
    free(sig);
    return rc;
}
