/* xades/'s own declarations: the signature being built and the helpers its
 * files share.  libxml2 builds and canonicalizes the tree; OpenSSL does
 * every digest, base64 and ASN.1 byte. */
#ifndef LLAVE_XADES_INTERNAL_H
#define LLAVE_XADES_INTERNAL_H

#include "xades/xades.h"

#include <libxml/tree.h>

/* XMLDSig core (XMLDSig 1.0 §4) and XAdES 1.3.2, the namespace EN 319 132-1
 * keeps for the elements it took from TS 101 903. */
#define XADES_NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define XADES_NS_XADES "http://uri.etsi.org/01903/v1.3.2#"
/* Exclusive XML Canonicalization 1.0, without comments: see
 * xades_c14n.c for why exclusive. */
#define XADES_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define XADES_ENVELOPED_SIG                                                    \
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
/* The Type (XMLDSig §4.3.3) XAdES gives the ds:Reference that signs the
 * xades:SignedProperties, by which a validator tells it from the
 * references to the signed documents. */
#define XADES_SP_TYPE "http://uri.etsi.org/01903#SignedProperties"

typedef struct xades_ctx {
    const xades_opts *o;
    const EVP_MD *md;
    xmlDocPtr doc;
    xmlNsPtr ds;
    xmlNsPtr xa;
    xmlNodePtr sig;          /* ds:Signature */
    xmlNodePtr signed_info;  /* ds:SignedInfo */
    xmlNodePtr value;        /* ds:SignatureValue */
    xmlNodePtr qprops;       /* xades:QualifyingProperties */
    xmlNodePtr signed_props; /* xades:SignedProperties */
    /* Ids, unique per signature so that several can share a document. */
    char sig_id[48];
    char value_id[48];
    char props_id[48];
    char ref_id[48];
    char ts_id[48];
} xades_ctx;

/* ---- xades_xml.c: tree building (libxml2 escapes every text and
 * attribute) */
/* A child element of parent with text (NULL: none); NULL when out of
 * memory. */
xmlNodePtr xades_add(xmlNodePtr parent, xmlNsPtr ns, const char *name,
                     const char *text);
/* An element whose Algorithm attribute is uri: CanonicalizationMethod,
 * SignatureMethod, Transform, DigestMethod (XMLDSig §4.3.1-§4.3.3.5). */
xmlNodePtr xades_add_alg(xmlNodePtr parent, xmlNsPtr ns, const char *name,
                         const char *uri);
/* An element holding base64 (RFC 4648 §4, no line breaks) of data. */
xmlNodePtr xades_add_b64(xmlNodePtr parent, xmlNsPtr ns, const char *name,
                         const unsigned char *data, size_t len);
xmlNodePtr xades_set(xmlNodePtr node, const char *attr, const char *value);

/* ---- xades_alg.c: algorithm identifiers (RFC 6931) */
const char *xades_digest_uri(const EVP_MD *md); /* NULL: unsupported */
/* The SignatureMethod of the signer's key with md; NULL: unsupported. */
const char *xades_sigmethod_uri(X509 *signer, const EVP_MD *md);

/* ---- xades_doc.c: the input and the output */
int xades_doc_parse(const unsigned char *xml, size_t len, xmlDocPtr *doc,
                    lv_err *err) LV_MUST_USE;
int xades_doc_dump(xmlDocPtr doc, unsigned char **out, size_t *out_len,
                   lv_err *err) LV_MUST_USE;

/* ---- xades_c14n.c */
/* md over the exclusive canonical form of the node set of doc made of
 * `only`'s subtree (NULL: the whole document) minus `except`'s subtree
 * (NULL: nothing).  *len gets the digest's size. */
int xades_c14n_digest(xmlDocPtr doc, xmlNodePtr only, xmlNodePtr except,
                      const EVP_MD *md, unsigned char *out, size_t *len,
                      lv_err *err) LV_MUST_USE;

/* ---- xades_props.c: xades:QualifyingProperties in a ds:Object */
int xades_props_add(xades_ctx *c, lv_err *err) LV_MUST_USE;
/* B-T: the SignatureTimeStamp in the UnsignedSignatureProperties. */
int xades_timestamp_add(xades_ctx *c, lv_err *err) LV_MUST_USE;

/* ---- xades_sig.c: ds:Signature */
/* The skeleton: SignedInfo with its methods, the empty SignatureValue and
 * the KeyInfo, under the root (enveloped) or as the root (detached). */
int xades_sig_start(xades_ctx *c, lv_err *err) LV_MUST_USE;
/* The references to the document and to the SignedProperties. */
int xades_sig_references(xades_ctx *c, const unsigned char *doc, size_t len,
                         lv_err *err) LV_MUST_USE;
/* The SignatureValue: the callback signs the canonical SignedInfo. */
int xades_sig_value(xades_ctx *c, lv_err *err) LV_MUST_USE;

#endif
