/* PAdES signatures (ETSI EN 319 142-1) for CSC signatures/signDoc with
 * signature_format "P": pades/ appends an approval signature to the PDF
 * (B-B, B-T with a signature time-stamp from our own TSA, B-LT with the
 * DSS, B-LTA with a document time-stamp) and never signs: its signing
 * callback hands the digest of the signed attributes to sign_with_key,
 * after the SAD was checked and consumed for the document's digest exactly
 * as XAdES signDoc does (sign_xades.c).  pades_sign checks the PDF before
 * it calls the signing callback, so a PDF pades/ refuses consumes nothing. */
#include "pades/pades.h"
#include "sign/sign_internal.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* ---- the DSS's validation material (from signDoc's validationInfo) ---- */

typedef struct vmat {
    STACK_OF(X509) *certs;
    pades_der *ocsps, *crls;
    size_t n_ocsps, n_crls;
} vmat;

static void ders_free(pades_der *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((void *)d[i].der);
    free(d);
}

static void vmat_free(vmat *v)
{
    sk_X509_pop_free(v->certs, X509_free);
    ders_free(v->ocsps, v->n_ocsps);
    ders_free(v->crls, v->n_crls);
}

/* The base64 strings of a[] as DER objects. */
static int ders_of(const json_t *a, pades_der **out, size_t *n, lv_err *err)
{
    size_t cap = json_array_size(a);
    *out = NULL;
    *n = 0;
    if (cap == 0)
        return 0;
    *out = calloc(cap, sizeof **out);
    if (!*out)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    for (size_t i = 0; i < cap; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        unsigned char *der = NULL;
        size_t len = 0;
        if (!s || lv_b64_decode(s, strlen(s), &der, &len) < 0 || !der)
            return lv_fail(err, LV_EINTERNAL, "validation material: base64");
        (*out)[(*n)++] = (pades_der){der, len};
    }
    return 0;
}

/* validationInfo.certificates not already in chain. */
static int certs_of(const json_t *a, STACK_OF(X509) *chain,
                    STACK_OF(X509) **out, lv_err *err)
{
    pades_der *d = NULL;
    size_t n = 0;
    int rc = ders_of(a, &d, &n, err);
    *out = rc == 0 ? sk_X509_new_null() : NULL;
    if (rc == 0 && !*out)
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const unsigned char *p = d[i].der;
        X509 *c = d2i_X509(NULL, &p, (long)d[i].len);
        int dup = 0;
        for (int k = 0; c && k < sk_X509_num(chain); k++)
            dup |= X509_cmp(c, sk_X509_value(chain, k)) == 0;
        if (!c)
            rc = lv_fail(err, LV_EINTERNAL,
                         "validation material: a "
                         "certificate does not parse");
        else if (dup || !sk_X509_push(*out, c))
            X509_free(c);
    }
    ders_free(d, n);
    return rc;
}

static int vmat_of(const json_t *vi, STACK_OF(X509) *chain, vmat *v,
                   lv_err *err)
{
    memset(v, 0, sizeof *v);
    if (!vi)
        return 0;
    LV_TRY(
        certs_of(json_object_get(vi, "certificates"), chain, &v->certs, err));
    LV_TRY(ders_of(json_object_get(vi, "ocsp"), &v->ocsps, &v->n_ocsps, err));
    return ders_of(json_object_get(vi, "crl"), &v->crls, &v->n_crls, err);
}

/* ---- signing ------------------------------------------------------------ */

static const pades_level LEVELS[] = {PADES_B_B, PADES_B_T, PADES_B_LT,
                                     PADES_B_LTA};

/* sign: the callback that gets the signed attributes' digest signed (the
 * SAD's for signDoc, the transaction's for sign_tx_pades); x serves the
 * certificate, the chain and the time-stamps. */
static int pades_build(sign_doc_ctx *x, pades_sign_fn sign, void *sign_arg,
                       const lv_pades_req *req, unsigned char **out,
                       size_t *out_len, lv_err *err)
{
    X509 *cert = NULL;
    STACK_OF(X509) *chain = NULL;
    vmat v;
    LV_TRY(sign_doc_signer(x, &cert, &chain, err));
    int rc = vmat_of(req->level >= 2 ? req->validation : NULL, chain, &v, err);
    pades_opts o = {
        .level = LEVELS[req->level],
        .signer = cert,
        .chain = chain,
        .md = req->d.md,
        .sign = sign,
        .sign_arg = sign_arg,
        .timestamp = sign_doc_tsa_cb,
        .timestamp_arg = x,
    };
    if (rc == 0) {
        o.dss_certs = v.certs;
        o.ocsps = v.ocsps;
        o.n_ocsps = v.n_ocsps;
        o.crls = v.crls;
        o.n_crls = v.n_crls;
        rc = pades_sign(req->d.doc, req->d.doc_len, &o, out, out_len, err);
    }
    vmat_free(&v);
    sign_doc_signer_free(cert, chain);
    return rc;
}

int sign_csc_sign_pades(const lv_sign_env *env, lv_store *st,
                        const char *citizen_id, const lv_pades_req *req,
                        unsigned char **out, size_t *out_len,
                        lv_sign_refusal *why, lv_err *err)
{
    char serial[65];
    sign_doc_ctx x = {
        .env = env, .st = st, .citizen_id = citizen_id, .why = why};
    *out = NULL;
    *out_len = 0;
    LV_TRY(sign_doc_start(&x, &req->d, serial, "PAdES", err));
    if (req->level < 0 ||
        (size_t)req->level >= sizeof LEVELS / sizeof LEVELS[0])
        return lv_fail(err, LV_EINVAL, "PAdES level");
    /* the digest the SAD must authorize (sign_doc_start): of the PDF as
     * sent.  pades_sign runs qpdf's full check before its signing callback
     * consumes the SAD, so a PDF it refuses consumes nothing, and the
     * check (most of a signature's cost for a large PDF: bench/sign) runs
     * once */
    return sign_doc_end(
        &x, pades_build(&x, sign_doc_sign_cb, &x, req, out, out_len, err), err);
}

/* ---- the transaction API (sign_tx.c) ------------------------------------ */

typedef struct tx_signer {
    const lv_sign_env *env;
    lv_store *st;
    const char *actor;
    const char *key_id;
} tx_signer;

/* The citizen proved password + an OTP bound to md(PDF) in this same call
 * (sign_tx_confirm): the activation record binds the digest of the signed
 * attributes, whose messageDigest covers the PDF's byte range (R5.2). */
static int tx_sign_cb(void *arg, const EVP_MD *md, const unsigned char *digest,
                      size_t digest_len, unsigned char **sig, size_t *sig_len,
                      lv_err *err)
{
    tx_signer *t = arg;
    if (digest_len != (size_t)EVP_MD_get_size(md))
        return lv_fail(err, LV_EINTERNAL, "digest length");
    return sign_with_key(t->env, t->st, t->actor, t->key_id, md, digest, 1, sig,
                         sig_len, err);
}

int sign_tx_pades(const lv_sign_env *env, lv_store *st, const char *actor,
                  const char *key_id, const lv_pades_req *req,
                  unsigned char **out, size_t *out_len, lv_err *err)
{
    lv_sign_refusal why = LV_SIGN_OK;
    sign_doc_ctx x = {.env = env,
                      .st = st,
                      .serial = req->d.serial,
                      .md = req->d.md,
                      .why = &why};
    tx_signer t = {env, st, actor, key_id};
    *out = NULL;
    *out_len = 0;
    if (req->level < 0 ||
        (size_t)req->level >= sizeof LEVELS / sizeof LEVELS[0])
        return lv_fail(err, LV_EINVAL, "PAdES level");
    return pades_build(&x, tx_sign_cb, &t, req, out, out_len, err);
}
