/* A TLS client certificate judged as one of ours (issue 17 item 4): an
 * operator logging in over llaved's https with the certificate our CA
 * issued to them (CPS §5.2.3).  Judged against what we know best: our own
 * CA certificates for the path, our own store for the status (a revocation
 * a second ago counts, where a CRL would still be hours old). */
#include "ca/ca_internal.h"

#include <openssl/x509_vfy.h>
#include <string.h>

/* Our roots are the trust anchors; every other CA of ours, and what the
 * client sent beside its certificate, may be intermediates. */
static int chain_verify(const lv_ca *ca, X509 *leaf, STACK_OF(X509) *sent,
                        const char **refusal)
{
    size_t n = 0;
    const lv_ca_entry *e = ca_entries(ca, &n);
    X509_STORE *anchors = X509_STORE_new();
    STACK_OF(X509) *untrusted = sk_X509_dup(sent);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = anchors && untrusted && ctx ? 0 : LV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (X509_check_ca(e[i].cert) <= 0)
            continue;
        int root = strcmp(e[i].role, "root") == 0;
        if (!(root ? X509_STORE_add_cert(anchors, e[i].cert)
                   : sk_X509_push(untrusted, e[i].cert)))
            rc = LV_ENOMEM;
    }
    if (rc == 0 && !X509_STORE_CTX_init(ctx, anchors, leaf, untrusted))
        rc = LV_ENOMEM;
    if (rc == 0) {
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
        /* clientAuth in the EKU when there is one (RFC 5280 §4.2.1.12) */
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
        if (X509_verify_cert(ctx) != 1)
            *refusal =
                X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    X509_STORE_free(anchors);
    return rc;
}

/* Our store's word: the certificate we issued under that serial, valid. */
static int own_status(lv_store *st, const char *serial,
                      const unsigned char *der, size_t len,
                      const char **refusal)
{
    lv_cert_rec rec;
    lv_err e = {0};
    int rc = store_cert_get(st, serial, &rec, &e);
    if (rc == LV_ENOTFOUND) {
        *refusal = "not a certificate this service issued";
        return 0;
    }
    if (rc < 0)
        return rc;
    if (rec.der_len != len || memcmp(rec.der, der, len) != 0)
        *refusal = "not a certificate this service issued";
    else if (rec.status != LV_CERT_VALID)
        *refusal = "certificate revoked";
    store_cert_rec_free(&rec);
    return 0;
}

static void describe(X509 *leaf, const unsigned char *der, size_t len,
                     ca_client_cert *out)
{
    if (lv_sha256_hex(der, len, out->fingerprint) < 0)
        out->fingerprint[0] = '\0';
    if (ca_serial_hex(X509_get0_serialNumber(leaf), out->serial) < 0)
        out->serial[0] = '\0';
    lv_dn_rfc4514(X509_get_subject_name(leaf), out->subject,
                  sizeof out->subject);
    struct tm tm;
    out->not_after = ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm)
                         ? (int64_t)timegm(&tm)
                         : 0;
}

int ca_client_cert_check(lv_ca *ca, lv_store *st,
                         const unsigned char *const *der, const size_t *len,
                         int n, ca_client_cert *out, lv_err *err)
{
    memset(out, 0, sizeof *out);
    if (n < 1)
        return lv_fail(err, LV_EAUTH, "no client certificate was presented");
    STACK_OF(X509) *sent = sk_X509_new_null();
    X509 *leaf = NULL;
    int rc = sent ? 0 : LV_ENOMEM;
    for (int i = 0; rc == 0 && i < n; i++) {
        const unsigned char *p = der[i];
        X509 *x = d2i_X509(NULL, &p, (long)len[i]);
        if (!x || p != der[i] + len[i])
            rc = lv_fail(err, LV_EINVAL, "a client certificate is malformed");
        else if (i == 0)
            leaf = x;
        else if (!sk_X509_push(sent, x))
            rc = LV_ENOMEM;
        if (rc < 0) /* x was kept nowhere */
            X509_free(x);
    }
    if (rc == 0) {
        describe(leaf, der[0], len[0], out);
        rc = chain_verify(ca, leaf, sent, &out->refusal);
    }
    if (rc == 0 && !out->refusal)
        rc = own_status(st, out->serial, der[0], len[0], &out->refusal);
    X509_free(leaf);
    sk_X509_pop_free(sent, X509_free);
    if (rc == LV_ENOMEM)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    return rc;
}
