/* The document in and out.  Parsing is where untrusted input meets
 * libxml2, so it reads only what is in the bytes: no network
 * (XML_PARSE_NONET), no entity substitution (no XML_PARSE_NOENT), no
 * external DTD (no XML_PARSE_DTDLOAD / DTDATTR / DTDVALID), no XInclude;
 * and a document type declaration at all stops the parser the moment it
 * is seen, before any entity is declared: XXE and entity expansion
 * ("billion laughs") cannot happen, and what is signed is exactly the
 * elements and text in the bytes (the canonical form, Canonical XML 1.0
 * §1, would otherwise hold the entities' replacement text). */
#include "xades/xades_internal.h"

#include <libxml/parser.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                       const xmlChar *sys_id)
{
    (void)name;
    (void)ext_id;
    (void)sys_id;
    xmlParserCtxtPtr p = ctx;
    p->_private = p; /* marks the refusal for parse_error */
    xmlStopParser(p);
}

static int parse_error(xmlParserCtxtPtr p, lv_err *err)
{
    if (p->_private)
        return lv_fail(err, LV_EINVAL,
                       "the document has a document type declaration "
                       "(<!DOCTYPE>): refused, so that no entity (XXE) can "
                       "reach the signature");
    const xmlError *e = xmlCtxtGetLastError(p);
    if (!e || !e->message)
        return lv_fail(err, LV_EINVAL, "the document is not well-formed XML");
    size_t n = strcspn(e->message, "\n");
    return lv_fail(err, LV_EINVAL,
                   "the document is not well-formed XML: line %d: %.*s",
                   e->line, (int)n, e->message);
}

int xades_doc_parse(const unsigned char *xml, size_t len, xmlDocPtr *doc,
                    lv_err *err)
{
    *doc = NULL;
    if (len > INT_MAX)
        return lv_fail(err, LV_ETOOBIG, "the document is too large");
    xmlParserCtxtPtr p = xmlNewParserCtxt();
    if (!p)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    p->sax->internalSubset = refuse_dtd;
    /* NOERROR/NOWARNING: the error goes to err, not to stderr */
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    *doc = xmlCtxtReadMemory(p, (const char *)xml, (int)len, NULL, NULL, opts);
    int rc = 0;
    if (!*doc || !p->wellFormed || p->_private)
        rc = parse_error(p, err);
    else if (!xmlDocGetRootElement(*doc))
        rc = lv_fail(err, LV_EINVAL, "the document has no root element");
    xmlFreeParserCtxt(p);
    if (rc < 0) {
        xmlFreeDoc(*doc);
        *doc = NULL;
    }
    return rc;
}

int xades_doc_dump(xmlDocPtr doc, unsigned char **out, size_t *out_len,
                   lv_err *err)
{
    xmlChar *mem = NULL;
    int size = 0;
    /* UTF-8 whatever the input's encoding: the signature covers the
     * canonical form, which is UTF-8 (Canonical XML 1.0 §1), not the
     * bytes */
    xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
    *out = mem && size > 0 ? malloc((size_t)size) : NULL;
    if (*out) {
        memcpy(*out, mem, (size_t)size);
        *out_len = (size_t)size;
    }
    xmlFree(mem);
    return *out ? 0 : lv_fail(err, LV_ENOMEM, "cannot write the signature");
}
