/* Building the signature's tree.  Every text and attribute goes through
 * libxml2, which escapes it when the tree is written (never by hand), and
 * base64 is OpenSSL's (core's lv_b64_encode). */
#include "xades/xades_internal.h"

#include <stdlib.h>

xmlNodePtr xades_add(xmlNodePtr parent, xmlNsPtr ns, const char *name,
                     const char *text)
{
    /* xmlNewTextChild escapes text; xmlNewChild would read it as markup */
    return xmlNewTextChild(parent, ns, BAD_CAST name, BAD_CAST text);
}

xmlNodePtr xades_set(xmlNodePtr node, const char *attr, const char *value)
{
    if (node && !xmlSetProp(node, BAD_CAST attr, BAD_CAST value))
        return NULL;
    return node;
}

xmlNodePtr xades_add_alg(xmlNodePtr parent, xmlNsPtr ns, const char *name,
                         const char *uri)
{
    return xades_set(xades_add(parent, ns, name, NULL), "Algorithm", uri);
}

xmlNodePtr xades_add_b64(xmlNodePtr parent, xmlNsPtr ns, const char *name,
                         const unsigned char *data, size_t len)
{
    char *b64 = NULL;
    if (lv_b64_encode(data, len, &b64) < 0)
        return NULL;
    xmlNodePtr n = xades_add(parent, ns, name, b64);
    free(b64);
    return n;
}
