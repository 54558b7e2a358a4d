/* Digests of canonical XML.  Every canonicalization in these signatures
 * (SignedInfo, the document's and the SignedProperties' references, the
 * SignatureValue under the time-stamp) is Exclusive XML Canonicalization
 * 1.0 without comments (W3C Recommendation 2002, RFC 3741), not
 * inclusive C14N 1.0, because an enveloped signature's SignedInfo and
 * SignedProperties sit inside someone else's document: inclusive C14N
 * would copy every namespace declared on the document's ancestors into
 * their canonical form (Canonical XML 1.0 §2.4), so the signature would
 * break as soon as the signature, or the document, is moved into another
 * envelope (a FacturaE batch, a SOAP body).  Exclusive C14N emits only the
 * namespaces an element visibly utilizes (RFC 3741 §3).  It is also what
 * ETSI's reference validator (DSS) writes by default, and xmlsec checks
 * both.
 *
 * The node set is a subtree minus another, as XMLDSig defines them
 * (§4.3.3.3 same-document references, §6.6.4 the enveloped-signature
 * transform); libxml2's xmlC14NExecute asks us node by node, and the
 * canonical octets stream straight into the digest. */
#include "xades/xades_internal.h"

#include <libxml/c14n.h>

typedef struct node_set {
    xmlNodePtr only;
    xmlNodePtr except;
} node_set;

static int under(xmlNodePtr n, xmlNodePtr top)
{
    for (; n; n = n->parent)
        if (n == top)
            return 1;
    return 0;
}

/* A namespace node (an xmlNs, whose type field sits where a node's does)
 * has no parent of its own: libxml2 passes its element as parent. */
static int in_set(void *arg, xmlNodePtr node, xmlNodePtr parent)
{
    const node_set *s = arg;
    xmlNodePtr n = node && node->type != XML_NAMESPACE_DECL ? node : parent;
    return (!s->only || under(n, s->only)) &&
           (!s->except || !under(n, s->except));
}

static int to_digest(void *ctx, const char *buf, int len)
{
    return EVP_DigestUpdate(ctx, buf, (size_t)len) ? len : -1;
}

int xades_c14n_digest(xmlDocPtr doc, xmlNodePtr only, xmlNodePtr except,
                      const EVP_MD *md, unsigned char *out, size_t *len,
                      lv_err *err)
{
    node_set s = {only, except};
    unsigned n = 0;
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    xmlOutputBufferPtr buf = NULL;
    int ok = h && EVP_DigestInit_ex(h, md, NULL) &&
             (buf = xmlOutputBufferCreateIO(to_digest, NULL, h, NULL)) &&
             xmlC14NExecute(doc, in_set, &s, XML_C14N_EXCLUSIVE_1_0, NULL, 0,
                            buf) >= 0;
    /* closing flushes what libxml2 still holds into the digest */
    if (buf && xmlOutputBufferClose(buf) < 0)
        ok = 0;
    ok = ok && EVP_DigestFinal_ex(h, out, &n);
    EVP_MD_CTX_free(h);
    *len = n;
    return ok ? 0 : lv_fail_ssl(err, LV_ECRYPTO, "cannot canonicalize the XML");
}
