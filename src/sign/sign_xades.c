/* XAdES signatures (R5.7, ETSI EN 319 132-1) for CSC signatures/signDoc
 * with signature_format "X": xades/ builds the ds:Signature (B-B, or B-T
 * with a SignatureTimeStamp from our own TSA), enveloped in the XML
 * document or detached from any document, and never signs: its signing
 * callback hands the digest of the canonical ds:SignedInfo to
 * sign_with_key, after the SAD was checked and consumed for the
 * document's digest exactly as CAdES signDoc does (sign_cades.c). */
#include "sign/sign_internal.h"
#include "xades/xades.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* The reference URI of a detached signature: the CSC API passes no file
 * name, so the relying party stores the document under this one next to
 * the signature (docs/API.md). */
#define XADES_DETACHED_NAME "document"

void sign_init(void)
{
    xades_init();
}

static int xades_build(sign_doc_ctx *x, const lv_xades_req *req,
                       unsigned char **out, size_t *out_len, lv_err *err)
{
    X509 *cert = NULL;
    STACK_OF(X509) *chain = NULL;
    LV_TRY(sign_doc_signer(x, &cert, &chain, err));
    xades_opts o = {
        .mode = req->enveloped ? XADES_ENVELOPED : XADES_DETACHED,
        .level = req->timestamp ? XADES_B_T : XADES_B_B,
        .signer = cert,
        .chain = chain,
        .md = req->d.md,
        .sign = sign_doc_sign_cb,
        .sign_arg = x,
        .timestamp = sign_doc_tsa_cb,
        .timestamp_arg = x,
        .doc_name = XADES_DETACHED_NAME,
    };
    int rc = xades_sign(req->d.doc, req->d.doc_len, &o, out, out_len, err);
    sign_doc_signer_free(cert, chain);
    return rc;
}

int sign_csc_sign_xades(const lv_sign_env *env, lv_store *st,
                        const char *citizen_id, const lv_xades_req *req,
                        unsigned char **out, size_t *out_len,
                        lv_sign_refusal *why, lv_err *err)
{
    char serial[65];
    sign_doc_ctx x = {
        .env = env, .st = st, .citizen_id = citizen_id, .why = why};
    *out = NULL;
    *out_len = 0;
    LV_TRY(sign_doc_start(&x, &req->d, serial, "XAdES", err));
    return sign_doc_end(&x, xades_build(&x, req, out, out_len, err), err);
}
