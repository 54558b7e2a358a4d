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

typedef struct xades_ctx {
    const lv_sign_env *env;
    lv_store *st;
    const char *citizen_id;
    const char *serial;
    const lv_xades_req *req;
    unsigned char doc_digest[EVP_MAX_MD_SIZE];
    lv_sign_refusal *why;
} xades_ctx;

/* xades_sign_fn, called once the document parsed and the ds:SignedInfo is
 * built (so a document xades/ refuses consumes nothing): the SAD is checked
 * and consumed for the document's digest, then the citizen's key signs
 * through keyd under an activation record bound to this one digest. */
static int xades_sign_cb(void *arg, const EVP_MD *md,
                         const unsigned char *digest, size_t digest_len,
                         unsigned char **sig, size_t *sig_len, lv_err *err)
{
    xades_ctx *x = arg;
    char key_id[65], actor[96];
    if (digest_len != (size_t)EVP_MD_get_size(md))
        return lv_fail(err, LV_EINTERNAL, "digest length");
    LV_TRY(sign_csc_use_sad(x->st, x->citizen_id, x->serial, x->req->sad,
                            x->req->md, x->doc_digest, 1, "sign.csc.sign_doc",
                            key_id, x->why, err));
    sign_citizen_actor(x->citizen_id, actor);
    return sign_with_key(x->env, x->st, actor, key_id, md, digest, 1, sig,
                         sig_len, err);
}

/* xades_tsa_fn: the SignatureTimeStamp from our TSA (EN 319 132-1 §5.3). */
static int xades_tsa_cb(void *arg, const EVP_MD *md,
                        const unsigned char *digest, size_t digest_len,
                        unsigned char **token, size_t *token_len, lv_err *err)
{
    xades_ctx *x = arg;
    return sign_tsa_token(x->env, x->st, md, digest, digest_len, token,
                          token_len, err);
}

static int xades_build(xades_ctx *x, const lv_xades_req *req,
                       unsigned char **out, size_t *out_len, lv_err *err)
{
    char ca_name[32];
    X509 *cert = NULL;
    LV_TRY(sign_cert_x509(x->st, x->serial, &cert, ca_name, err));
    STACK_OF(X509) *chain = sign_ca_chain(x->env, ca_name);
    xades_opts o = {
        .mode = req->enveloped ? XADES_ENVELOPED : XADES_DETACHED,
        .level = req->timestamp ? XADES_B_T : XADES_B_B,
        .signer = cert,
        .chain = chain,
        .md = req->md,
        .sign = xades_sign_cb,
        .sign_arg = x,
        .timestamp = xades_tsa_cb,
        .timestamp_arg = x,
        .doc_name = XADES_DETACHED_NAME,
    };
    int rc = chain ? xades_sign(req->doc, req->doc_len, &o, out, out_len, err)
                   : lv_fail(err, LV_ENOMEM, "out of memory");
    sk_X509_free(chain); /* the CA context owns the certificates */
    X509_free(cert);
    return rc;
}

int sign_csc_sign_xades(const lv_sign_env *env, lv_store *st,
                        const char *citizen_id, const lv_xades_req *req,
                        unsigned char **out, size_t *out_len,
                        lv_sign_refusal *why, lv_err *err)
{
    char serial[65];
    lv_err ignored = {0};
    xades_ctx x = {.env = env,
                   .st = st,
                   .citizen_id = citizen_id,
                   .serial = serial,
                   .req = req,
                   .why = why};
    *out = NULL;
    *out_len = 0;
    *why = LV_SIGN_OK;
    LV_TRY(ca_need_keys(env->ca, "no signature can be made", err));
    if (!req->serial || ca_serial_normalize(req->serial, serial, &ignored) < 0)
        return lv_fail(err, LV_EINVAL, "invalid credentialID");
    if (!req->md || !req->doc || req->doc_len == 0)
        return lv_fail(err, LV_EINVAL, "XAdES needs the document itself");
    if (EVP_Digest(req->doc, req->doc_len, x.doc_digest, NULL, req->md, NULL) !=
        1)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot hash the document");
    return xades_build(&x, req, out, out_len, err);
}
