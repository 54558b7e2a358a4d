/* pades_sign: the levels as successive incremental updates, each parsed
 * anew by qpdf (so each update of ours is checked like the input was):
 * the signature (B-B, B-T), then the DSS (B-LT), then the document
 * time-stamp (B-LTA; EN 319 142-1 §5.4.3, ISO 32000-2 §12.8.5), whose
 * byte range covers the signature and the DSS. */
#include "pades/pades_internal.h"

#include <stdint.h>
#include <stdlib.h>

/* Room for the document time-stamp token (see PADES_TS_RESERVE). */
#define PADES_DOCTS_RESERVE 16384u

/* EN 319 142-1 §6.2.1 defers to ETSI TS 119 312: SHA-2. */
static const EVP_MD *pick_md(const EVP_MD *md)
{
    if (!md)
        return EVP_sha256();
    int nid = EVP_MD_get_type(md);
    return nid == NID_sha256 || nid == NID_sha384 || nid == NID_sha512 ? md
                                                                       : NULL;
}

static int check_opts(const pades_opts *o, pades_opts *use, lv_err *err)
{
    if (!o || !o->signer || !X509_get0_pubkey(o->signer) || !o->sign)
        return lv_fail(err, LV_EINVAL,
                       "a signer certificate and a signing callback");
    if (o->level < PADES_B_B || o->level > PADES_B_LTA)
        return lv_fail(err, LV_EINVAL, "unknown PAdES level");
    if (o->level >= PADES_B_T && !o->timestamp)
        return lv_fail(err, LV_EINVAL,
                       "PAdES-B-T and above need a time-stamp callback");
    /* each is one object of the DSS update; room is left for the DSS,
     * the catalog and the cross-reference stream */
    size_t n = (size_t)sk_X509_num(o->chain) +
               (size_t)sk_X509_num(o->dss_certs) + o->n_ocsps + o->n_crls;
    if (n > PADES_MAX_OBJS - 8)
        return lv_fail(err, LV_EINVAL,
                       "at most %d certificates, OCSP responses and CRLs",
                       PADES_MAX_OBJS - 8);
    *use = *o;
    use->md = pick_md(o->md);
    if (!use->md)
        return lv_fail(err, LV_EINVAL, "hash algorithm: SHA-2 only");
    return 0;
}

/* Fills the hole of a finished update with the CMS (a signature) or the
 * token (a document time-stamp) over its byte range. */
static int signed_update(pades_update *u, const pades_opts *o, int doc_ts,
                         lv_err *err)
{
    pades_field f = {"/Sig", "/ETSI.CAdES.detached", pades_cms_reserve(o), o};
    if (doc_ts)
        f = (pades_field){"/DocTimeStamp", "/ETSI.RFC3161", PADES_DOCTS_RESERVE,
                          NULL};
    pades_hole h;
    unsigned char d[EVP_MAX_MD_SIZE], *der = NULL;
    unsigned dlen = 0;
    size_t len = 0;
    LV_TRY(pades_field_add(u, &f, &h, err));
    LV_TRY(pades_update_finish(u, err));
    LV_TRY(pades_hole_digest(&u->out, &h, o->md, d, &dlen, err));
    LV_TRY(doc_ts ? pades_ts_token(o, o->md, d, dlen, &der, &len, err)
                  : pades_cms(o, d, &der, &len, err));
    int rc = pades_hole_fill(&u->out, &h, der, len, err);
    free(der);
    return rc;
}

enum { STAGE_SIGNATURE, STAGE_DSS, STAGE_DOCTS };

/* One update after in[0..len): *out is the whole new file. */
static int run_stage(const unsigned char *in, size_t len, size_t max_len,
                     const pades_opts *o, int stage, lv_buf *out, lv_err *err)
{
    pades_doc d;
    pades_update u;
    LV_TRY(pades_doc_open(&d, in, len, max_len, err));
    int rc = pades_update_begin(&u, &d);
    if (rc < 0)
        rc = lv_fail(err, rc, "out of memory");
    else if (stage == STAGE_DSS)
        rc = pades_dss_add(&u, o, err);
    else
        rc = signed_update(&u, o, stage == STAGE_DOCTS, err);
    pades_doc_close(&d);
    if (rc < 0)
        lv_buf_free(&u.out);
    else
        *out = u.out;
    return rc;
}

/* The updates after the first parse our own output: the size limit is the
 * input's. */
static int next_stage(lv_buf *cur, const pades_opts *o, int stage, lv_err *err)
{
    lv_buf next = {0};
    LV_TRY(run_stage(cur->data, cur->len, SIZE_MAX, o, stage, &next, err));
    lv_buf_free(cur);
    *cur = next;
    return 0;
}

static int all_stages(const unsigned char *pdf, size_t len, const pades_opts *o,
                      lv_buf *cur, lv_err *err)
{
    LV_TRY(run_stage(pdf, len, o->max_len, o, STAGE_SIGNATURE, cur, err));
    if (o->level >= PADES_B_LT)
        LV_TRY(next_stage(cur, o, STAGE_DSS, err));
    if (o->level == PADES_B_LTA)
        LV_TRY(next_stage(cur, o, STAGE_DOCTS, err));
    return 0;
}

int pades_sign(const unsigned char *pdf, size_t len, const pades_opts *o,
               unsigned char **out, size_t *out_len, lv_err *err)
{
    pades_opts use;
    lv_buf cur = {0};
    *out = NULL;
    *out_len = 0;
    LV_TRY(check_opts(o, &use, err));
    int rc = all_stages(pdf, len, &use, &cur, err);
    if (rc < 0) {
        lv_buf_free(&cur);
        return rc;
    }
    *out = cur.data;
    *out_len = cur.len;
    return 0;
}

int pades_document_digest(const unsigned char *pdf, size_t len, size_t max_len,
                          const EVP_MD *md, unsigned char *digest,
                          unsigned *digest_len, lv_err *err)
{
    int pages = 0;
    return pades_document_info(pdf, len, max_len, md, digest, digest_len,
                               &pages, err);
}

int pades_document_info(const unsigned char *pdf, size_t len, size_t max_len,
                        const EVP_MD *md, unsigned char *digest,
                        unsigned *digest_len, int *pages, lv_err *err)
{
    pades_doc d;
    const EVP_MD *use = pick_md(md);
    if (!use)
        return lv_fail(err, LV_EINVAL, "hash algorithm: SHA-2 only");
    LV_TRY(pades_doc_open(&d, pdf, len, max_len, err));
    *pages = qpdf_get_num_pages(d.q);
    pades_doc_close(&d);
    if (!EVP_Digest(pdf, len, digest, digest_len, use, NULL))
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot hash the document");
    return 0;
}
