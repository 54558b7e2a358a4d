/* B-LT: the Document Security Store (EN 319 142-1 §5.4.2; ISO 32000-2
 * §12.8.4.3) in the catalog, in an update of its own after the signature:
 * /Certs, /OCSPs and /CRLs, arrays of streams holding the DER of each
 * certificate, OCSPResponse and CertificateList.  A DSS already there
 * (another signer's) is extended, not replaced.  The optional /VRI
 * (§5.4.2) is not written: a validator finds the material through the
 * arrays, and the VRI key (a SHA-1 of the signature) adds nothing it
 * needs. */
#include "pades/pades_internal.h"

#include <openssl/x509.h>
#include <stdlib.h>

static int add_stream(pades_update *u, qpdf_oh owner, qpdf_oh dss,
                      const char *key, const unsigned char *der, size_t len)
{
    int id = pades_new_id(u);
    LV_TRY(pades_obj_stream(u, id, der, len));
    return pades_array_append(u, owner, dss, key,
                              qpdf_get_object_by_id(u->doc->q, id, 0));
}

static int add_cert(pades_update *u, qpdf_oh owner, qpdf_oh dss, X509 *x)
{
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    int rc = len > 0 ? add_stream(u, owner, dss, "/Certs", der, (size_t)len)
                     : LV_ECRYPTO;
    OPENSSL_free(der);
    return rc;
}

/* The signer, its chain and the extra certificates, each once. */
static STACK_OF(X509) *cert_set(const pades_opts *o)
{
    STACK_OF(X509) *all = sk_X509_new_null();
    STACK_OF(X509) *const from[] = {o->chain, o->dss_certs};
    if (!all || !sk_X509_push(all, o->signer)) {
        sk_X509_free(all);
        return NULL;
    }
    for (size_t f = 0; f < 2; f++)
        for (int i = 0; i < sk_X509_num(from[f]); i++) {
            X509 *x = sk_X509_value(from[f], i);
            int seen = 0;
            for (int k = 0; k < sk_X509_num(all); k++)
                seen |= X509_cmp(x, sk_X509_value(all, k)) == 0;
            if (!seen && !sk_X509_push(all, x)) {
                sk_X509_free(all);
                return NULL;
            }
        }
    return all;
}

static int add_all(pades_update *u, const pades_opts *o, qpdf_oh owner,
                   qpdf_oh dss)
{
    STACK_OF(X509) *certs = cert_set(o);
    int rc = certs ? 0 : LV_ENOMEM;
    for (int i = 0; rc == 0 && i < sk_X509_num(certs); i++)
        rc = add_cert(u, owner, dss, sk_X509_value(certs, i));
    sk_X509_free(certs); /* the certificates are the caller's */
    for (size_t i = 0; rc == 0 && i < o->n_ocsps; i++)
        rc = add_stream(u, owner, dss, "/OCSPs", o->ocsps[i].der,
                        o->ocsps[i].len);
    for (size_t i = 0; rc == 0 && i < o->n_crls; i++)
        rc = add_stream(u, owner, dss, "/CRLs", o->crls[i].der, o->crls[i].len);
    return rc;
}

int pades_dss_add(pades_update *u, const pades_opts *o, lv_err *err)
{
    qpdf_data q = u->doc->q;
    qpdf_oh root = u->doc->root;
    qpdf_oh dss = qpdf_oh_get_key(q, root, "/DSS");
    if (!qpdf_oh_is_dictionary(q, dss)) {
        int id = pades_new_id(u);
        LV_TRY(pades_put_new(u, id, qpdf_oh_new_dictionary(q)));
        dss = qpdf_get_object_by_id(q, id, 0);
        qpdf_oh_replace_key(q, root, "/DSS", dss);
        LV_TRY(pades_touch(u, root));
    }
    qpdf_oh owner = qpdf_oh_is_indirect(q, dss) ? dss : root;
    int rc = add_all(u, o, owner, dss);
    if (rc < 0)
        return lv_fail(err, rc, "cannot add the validation material");
    LV_TRY(pades_doc_status(u->doc, "cannot add the DSS", err));
    return pades_update_finish(u, err);
}
