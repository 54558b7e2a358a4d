/* The signed qualifying properties (EN 319 132-1 §5.2): in a
 * ds:Object, xades:QualifyingProperties targeting this signature, whose
 * xades:SignedProperties (signed through their own ds:Reference, see
 * xades_sig.c) hold what a XAdES-B-B needs (EN 319 132-1 §6.3):
 * SigningTime, SigningCertificateV2 and one DataObjectFormat with its
 * MimeType for the signed document. */
#include "xades/xades_internal.h"

#include <openssl/asn1t.h>
#include <openssl/x509v3.h>
#include <stdio.h>

/* RFC 5035 §4 IssuerSerial, which IssuerSerialV2 carries as DER
 * (EN 319 132-1 §5.2.2): the issuer as a GeneralNames holding its
 * directoryName, and the certificate's serial number. */
typedef struct issuer_serial {
    GENERAL_NAMES *issuer;
    ASN1_INTEGER *serial;
} XADES_ISSUER_SERIAL;

LV_ASN1_SEQUENCE(XADES_ISSUER_SERIAL,
                 ASN1_SEQUENCE_OF(XADES_ISSUER_SERIAL, issuer, GENERAL_NAME),
                 ASN1_SIMPLE(XADES_ISSUER_SERIAL, serial, ASN1_INTEGER))

static int issuer_serial_der(X509 *cert, unsigned char **der)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    X509_NAME *dn = X509_NAME_dup(X509_get_issuer_name(cert));
    ASN1_INTEGER *serial = ASN1_INTEGER_dup(X509_get0_serialNumber(cert));
    XADES_ISSUER_SERIAL is = {sk_GENERAL_NAME_new_null(), serial};
    int len = -1;
    if (gn && dn && serial && is.issuer) {
        GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dn);
        dn = NULL;
        if (sk_GENERAL_NAME_push(is.issuer, gn))
            gn = NULL;
        *der = NULL;
        if (!gn)
            len = ASN1_item_i2d((ASN1_VALUE *)&is, der,
                                ASN1_ITEM_rptr(XADES_ISSUER_SERIAL));
    }
    GENERAL_NAME_free(gn);
    X509_NAME_free(dn);
    GENERAL_NAMES_free(is.issuer);
    ASN1_INTEGER_free(serial);
    return len;
}

/* EN 319 132-1 §5.2.2: the digest of the signing certificate and its
 * issuer and serial, so that the certificate cannot be substituted.  The
 * digest is SHA-256 whatever the signature's (it names the certificate,
 * it is not what the signature covers). */
static int add_signing_cert(xades_ctx *c, xmlNodePtr ssp)
{
    unsigned char d[32], *der = NULL;
    int der_len = i2d_X509(c->o->signer, &der);
    int ok = der_len > 0 &&
             EVP_Digest(der, (size_t)der_len, d, NULL, EVP_sha256(), NULL);
    OPENSSL_free(der);
    xmlNodePtr v2 =
        ok ? xades_add(ssp, c->xa, "SigningCertificateV2", NULL) : NULL;
    xmlNodePtr cert = v2 ? xades_add(v2, c->xa, "Cert", NULL) : NULL;
    xmlNodePtr cd = cert ? xades_add(cert, c->xa, "CertDigest", NULL) : NULL;
    ok = cd &&
         xades_add_alg(cd, c->ds, "DigestMethod",
                       xades_digest_uri(EVP_sha256())) &&
         xades_add_b64(cd, c->ds, "DigestValue", d, sizeof d);
    der = NULL;
    der_len = ok ? issuer_serial_der(c->o->signer, &der) : -1;
    ok = der_len > 0 &&
         xades_add_b64(cert, c->xa, "IssuerSerialV2", der, (size_t)der_len);
    OPENSSL_free(der);
    return ok;
}

static int add_signed_signature_props(xades_ctx *c)
{
    char when[32];
    /* EN 319 132-1 §5.2.1: the claimed signing time, an xsd:dateTime in
     * UTC */
    lv_time_iso(c->o->signing_time ? c->o->signing_time : lv_now(), when);
    xmlNodePtr ssp =
        xades_add(c->signed_props, c->xa, "SignedSignatureProperties", NULL);
    return ssp && xades_add(ssp, c->xa, "SigningTime", when) &&
           add_signing_cert(c, ssp);
}

/* xades:DataObjectFormat (EN 319 132-1 §5.2), pointing at the document's
 * ds:Reference by its Id; the baseline (§6.3) wants one, with a MimeType,
 * for every signed data object. */
static int add_data_object_props(xades_ctx *c)
{
    char ref[sizeof c->ref_id + 1];
    const char *mime = c->o->mime_type;
    if (!mime)
        mime = c->o->mode == XADES_ENVELOPED ? "text/xml"
                                             : "application/octet-stream";
    snprintf(ref, sizeof ref, "#%s", c->ref_id);
    xmlNodePtr sdop =
        xades_add(c->signed_props, c->xa, "SignedDataObjectProperties", NULL);
    xmlNodePtr dof = xades_set(xades_add(sdop, c->xa, "DataObjectFormat", NULL),
                               "ObjectReference", ref);
    return dof && xades_add(dof, c->xa, "MimeType", mime);
}

int xades_props_add(xades_ctx *c, lv_err *err)
{
    char target[sizeof c->sig_id + 1];
    snprintf(target, sizeof target, "#%s", c->sig_id);
    xmlNodePtr obj = xades_add(c->sig, c->ds, "Object", NULL);
    c->qprops = obj ? xades_add(obj, NULL, "QualifyingProperties", NULL) : NULL;
    c->xa = c->qprops
                ? xmlNewNs(c->qprops, BAD_CAST XADES_NS_XADES, BAD_CAST "xades")
                : NULL;
    xmlSetNs(c->qprops, c->xa);
    c->signed_props =
        c->xa && xades_set(c->qprops, "Target", target)
            ? xades_set(xades_add(c->qprops, c->xa, "SignedProperties", NULL),
                        "Id", c->props_id)
            : NULL;
    int ok = c->signed_props && add_signed_signature_props(c) &&
             add_data_object_props(c);
    return ok ? 0 : lv_fail(err, LV_ENOMEM, "cannot build the properties");
}
