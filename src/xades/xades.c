/* xades_sign: checks the options, then builds the signature in the order
 * its parts depend on one another: the qualifying properties are signed,
 * so they exist before the references; the time-stamp covers the
 * signature value, so it comes last. */
#include "xades/xades_internal.h"

#include <libxml/parser.h>
#include <stdio.h>

/* libxml2 reports what it cannot canonicalize (a relative namespace URI,
 * say) on stderr through its generic handler; a document a client sent
 * must not write to our log, and xades_sign reports the failure itself. */
static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

void xades_init(void)
{
    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, quiet);       /* this thread */
    xmlThrDefSetGenericErrorFunc(NULL, quiet); /* threads made later */
}

static int check_opts(const xades_opts *o, const unsigned char *doc, size_t len,
                      lv_err *err)
{
    size_t max = o->max_len ? o->max_len : XADES_MAX_DOC;
    if (!o->signer || !o->sign)
        return lv_fail(err, LV_EINVAL,
                       "a signer certificate and a signing callback are "
                       "needed");
    if (o->mode != XADES_ENVELOPED && o->mode != XADES_DETACHED)
        return lv_fail(err, LV_EINVAL, "mode: enveloped or detached");
    if (o->level != XADES_B_B && o->level != XADES_B_T)
        return lv_fail(err, LV_EINVAL, "level: B-B or B-T");
    if (o->mode == XADES_DETACHED && (!o->doc_name || !*o->doc_name))
        return lv_fail(err, LV_EINVAL,
                       "a detached signature names its document (doc_name)");
    if (!doc && len)
        return lv_fail(err, LV_EINVAL, "no document");
    if (len > max)
        return lv_fail(err, LV_ETOOBIG,
                       "the document has %zu bytes, above the limit of %zu",
                       len, max);
    return 0;
}

/* Ids unique to this signature, so that several signatures can live in
 * one document (xsd:ID values: NCNames, hence the letter first). */
static int make_ids(xades_ctx *c, lv_err *err)
{
    unsigned char r[8];
    char h[2 * sizeof r + 1];
    if (lv_random(r, sizeof r) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness for the Ids");
    lv_hex_encode(r, sizeof r, h);
    snprintf(c->sig_id, sizeof c->sig_id, "xades-%s", h);
    snprintf(c->value_id, sizeof c->value_id, "xades-%s-value", h);
    snprintf(c->props_id, sizeof c->props_id, "xades-%s-signedprops", h);
    snprintf(c->ref_id, sizeof c->ref_id, "xades-%s-ref0", h);
    snprintf(c->ts_id, sizeof c->ts_id, "xades-%s-ts", h);
    return 0;
}

static int start_doc(xades_ctx *c, const unsigned char *doc, size_t len,
                     lv_err *err)
{
    if (c->o->mode == XADES_ENVELOPED)
        return xades_doc_parse(doc, len, &c->doc, err);
    c->doc = xmlNewDoc(BAD_CAST "1.0");
    return c->doc ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
}

static int build(xades_ctx *c, const unsigned char *doc, size_t len,
                 lv_err *err)
{
    LV_TRY(make_ids(c, err));
    LV_TRY(start_doc(c, doc, len, err));
    LV_TRY(xades_sig_start(c, err));
    LV_TRY(xades_props_add(c, err));
    LV_TRY(xades_sig_references(c, doc, len, err));
    LV_TRY(xades_sig_value(c, err));
    if (c->o->level == XADES_B_T)
        LV_TRY(xades_timestamp_add(c, err));
    return 0;
}

int xades_sign(const unsigned char *doc, size_t len, const xades_opts *o,
               unsigned char **out, size_t *out_len, lv_err *err)
{
    *out = NULL;
    *out_len = 0;
    LV_TRY(check_opts(o, doc, len, err));
    xades_ctx c = {.o = o, .md = o->md ? o->md : EVP_sha256()};
    int rc = build(&c, doc, len, err);
    if (rc == 0)
        rc = xades_doc_dump(c.doc, out, out_len, err);
    xmlFreeDoc(c.doc);
    return rc;
}
