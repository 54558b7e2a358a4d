/* Keeping the pre-signed OCSP responses of sql/003_ocsp.sql fresh
 * (R6.4, R10.1; DESIGN.md "Status").
 *
 * A response is signed
 *   - lazily, on the first request for a certificate (ocsp.c), so that
 *     issuance pays nothing for OCSP;
 *   - by the refresher (llaved calls ocsp_refresh_due every
 *     ocsp_refresh_interval seconds) for certificates issued since its last
 *     pass, for responses past half their validity, and for revocations
 *     whose re-signing did not happen;
 *   - at once after a revocation (ocsp_refresh) and for a whole CA in
 *     the compromise drill (ocsp_refresh_ca).
 * Signing happens outside any transaction; each batch of rows is then
 * written in one transaction with one audit entry (event ocsp.sign), so the
 * write lock is held for milliseconds, not for hundreds of RSA operations. */
#include "ocsp/ocsp_internal.h"

#include <stdlib.h>
#include <string.h>

#define ACTOR "ocsp-responder"
#define BATCH 512
/* created_at is taken before the issuing transaction commits: look back
 * this far so that a certificate committed late is not skipped. */
#define MARK_SLACK 300

/* ---- one response ------------------------------------------------------- */

typedef struct batch {
    lv_ocsp_rec recs[BATCH];
    int n;
} batch;

static void batch_clear(batch *b)
{
    for (int i = 0; i < b->n; i++)
        store_ocsp_rec_free(&b->recs[i]);
    b->n = 0;
}

static int batch_write(lv_store *st, batch *b, const char *object,
                       const char *why, lv_err *err)
{
    if (b->n == 0)
        return 0;
    json_t *details =
        json_pack("{s:s, s:i}", "trigger", why, "responses", b->n);
    int rc = store_begin(st, err);
    for (int i = 0; rc == 0 && i < b->n; i++)
        rc = store_ocsp_put(st, &b->recs[i], err);
    if (rc == 0)
        rc = audit_log(st, ACTOR, "ocsp.sign", object, LV_AUDIT_SUCCESS,
                       details, err);
    if (rc == 0)
        rc = store_commit(st, err);
    else
        store_rollback(st);
    json_decref(details);
    return rc;
}

/* Fills rec from a signed response; takes ownership of s->der. */
static int rec_fill(lv_ocsp_rec *rec, const lv_cert_rec *cert, int hash,
                    OCSP_CERTID *cid, ocsp_signed *s)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->serial, sizeof rec->serial, "%s", cert->serial);
    snprintf(rec->hash_alg, sizeof rec->hash_alg, "%s", ocsp_hash_name(hash));
    snprintf(rec->ca, sizeof rec->ca, "%s", cert->ca);
    rec->cert_status = cert->status;
    rec->this_update = s->this_update;
    rec->next_update = s->next_update;
    unsigned char *id = NULL;
    int len = i2d_OCSP_CERTID(cid, &id);
    rec->response = malloc(s->len);
    rec->cert_id = len > 0 ? malloc((size_t)len) : NULL;
    if (!rec->response || !rec->cert_id) {
        OPENSSL_free(id);
        store_ocsp_rec_free(rec);
        return LV_ENOMEM;
    }
    memcpy(rec->cert_id, id, (size_t)len);
    rec->cert_id_len = (size_t)len;
    memcpy(rec->response, s->der, s->len);
    rec->response_len = s->len;
    OPENSSL_free(id);
    return 0;
}

static int sign_one(lv_ca *ca, const ocsp_issuer *is, OCSP_CERTID *cid,
                    const lv_cert_rec *cert, ocsp_signed *out, lv_err *err)
{
    ocsp_status status;
    ocsp_status_of(is, cert, 1, cert->serial, &status);
    return ocsp_sign(ca, is, &cid, &status, 1, NULL, out, err);
}

int ocsp_presign_cid(lv_ca *ca, lv_store *st, const ocsp_issuer *is,
                     OCSP_CERTID *cid, int hash, const lv_cert_rec *cert,
                     const char *why, ocsp_signed *out, lv_err *err)
{
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return LV_ENOMEM;
    int rc = sign_one(ca, is, cid, cert, out, err);
    if (rc == 0 && rec_fill(&b->recs[0], cert, hash, cid, out) == 0) {
        lv_err werr = {0};
        b->n = 1;
        if (batch_write(st, b, cert->serial, why, &werr) < 0)
            lv_log(LV_LOG_WARN, "ocsp: response of %s not stored: %s",
                   cert->serial, werr.msg);
    }
    batch_clear(b);
    free(b);
    return rc;
}

/* The CertID llave pre-signs: hashAlgorithm with NULL parameters, as
 * OpenSSL and most clients send it. */
static int canonical_cid(const ocsp_issuer *is, const char *serial, int hash,
                         OCSP_CERTID **out, lv_err *err)
{
    BIGNUM *bn = NULL;
    ASN1_INTEGER *sn = NULL;
    *out = NULL;
    if (BN_hex2bn(&bn, serial) > 0)
        sn = BN_to_ASN1_INTEGER(bn, NULL);
    if (sn)
        *out = OCSP_cert_id_new(ocsp_hash_md(hash),
                                X509_get_subject_name(is->ca->cert),
                                X509_get0_pubkey_bitstr(is->ca->cert), sn);
    BN_free(bn);
    ASN1_INTEGER_free(sn);
    return *out ? 0 : lv_fail_ssl(err, LV_ECRYPTO, "bad serial %s", serial);
}

/* Signs the response of (serial, hash) into the next slot of b. */
static int batch_add(lv_ca *ca, lv_store *st, batch *b, const char *serial,
                     int hash, lv_err *err)
{
    lv_cert_rec cert;
    lv_ocsp_rec old;
    int found = 0, has = 0;
    OCSP_CERTID *cid = NULL;
    ocsp_signed s = {0};
    LV_TRY(store_ocsp_lookup(st, serial, ocsp_hash_name(hash), &cert, &found,
                             &old, &has, err));
    store_ocsp_rec_free(&old);
    if (!found)
        return lv_fail(err, LV_ENOTFOUND, "no certificate with serial %s",
                       serial);
    const ocsp_issuer *is = ocsp_issuer_by_name(ca, cert.ca);
    if (!is)
        return lv_fail(err, LV_ESTATE, "no OCSP responder for CA %s", cert.ca);
    int rc = canonical_cid(is, serial, hash, &cid, err);
    if (rc == 0)
        rc = sign_one(ca, is, cid, &cert, &s, err);
    if (rc == 0)
        rc = rec_fill(&b->recs[b->n], &cert, hash, cid, &s);
    if (rc == 0)
        b->n++;
    OPENSSL_free(s.der);
    OCSP_CERTID_free(cid);
    return rc;
}

static int hash_of(const char *name)
{
    for (int h = 0; ocsp_hash_name(h); h++)
        if (strcmp(ocsp_hash_name(h), name) == 0)
            return h;
    return -1;
}

/* SHA-1 always, and every other hash a response is stored for. */
static int add_serial(lv_ca *ca, lv_store *st, batch *b, const char *serial,
                      lv_err *err)
{
    for (int h = 0; h < LV_OCSP_NHASH && b->n < BATCH; h++) {
        lv_cert_rec cert;
        lv_ocsp_rec old;
        int found = 0, has = 0;
        if (h > 0) {
            LV_TRY(store_ocsp_lookup(st, serial, ocsp_hash_name(h), &cert,
                                     &found, &old, &has, err));
            store_ocsp_rec_free(&old);
            if (!has)
                continue;
        }
        LV_TRY(batch_add(ca, st, b, serial, h, err));
    }
    return 0;
}

static int need_keys(lv_ca *ca, lv_err *err)
{
    return ca_need_keys(ca, "OCSP responses cannot be signed", err);
}

int ocsp_refresh(lv_ca *ca, lv_store *st, const char *serial, lv_err *err)
{
    /* the status changed: this node stops serving the old answer at once,
     * sealed or not (issue 17 item 5) */
    ocsp_cache_forget(ocsp_cache_of(ca), serial);
    ocsp_cache_changed(ocsp_cache_of(ca)); /* other processes of DIR */
    LV_TRY(need_keys(ca, err));
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return LV_ENOMEM;
    int rc = add_serial(ca, st, b, serial, err);
    if (rc == 0)
        rc = batch_write(st, b, serial, "refresh", err);
    batch_clear(b);
    free(b);
    return rc;
}

/* ---- a whole CA (R6.5) ----------------------------------------------------
 */

typedef struct page {
    char serials[BATCH / LV_OCSP_NHASH][65];
    int n;
} page;

static int page_add(const char *serial, void *ctx)
{
    page *p = ctx;
    snprintf(p->serials[p->n++], sizeof p->serials[0], "%s", serial);
    return 0;
}

int ocsp_refresh_ca(lv_ca *ca, lv_store *st, const char *ca_name, lv_err *err)
{
    ocsp_cache_clear(ocsp_cache_of(ca)); /* as ocsp_refresh, for them all */
    ocsp_cache_changed(ocsp_cache_of(ca));
    LV_TRY(need_keys(ca, err));
    if (!ocsp_issuer_by_name(ca, ca_name))
        return lv_fail(err, LV_ENOTFOUND, "no CA named %s", ca_name);
    batch *b = calloc(1, sizeof *b);
    page p = {0};
    char after[65] = "";
    int rc = b ? 0 : LV_ENOMEM, total = 0;
    while (rc == 0) {
        p.n = 0;
        rc = store_cert_foreach_serial(
            st, ca_name, after, BATCH / LV_OCSP_NHASH, page_add, &p, err);
        if (rc < 0 || p.n == 0)
            break;
        for (int i = 0; rc == 0 && i < p.n; i++)
            rc = add_serial(ca, st, b, p.serials[i], err);
        if (rc == 0)
            rc = batch_write(st, b, ca_name, "ca-refresh", err);
        total += b->n;
        batch_clear(b);
        snprintf(after, sizeof after, "%s", p.serials[p.n - 1]);
    }
    if (b)
        batch_clear(b);
    free(b);
    if (rc == 0)
        lv_log(LV_LOG_INFO, "ocsp: re-signed %d responses of CA %s", total,
               ca_name);
    return rc;
}

/* ---- the refresher's pass
 * ---------------------------------------------------- */

typedef struct due_list {
    struct {
        char serial[65];
        int hash;
    } * items;
    int n, cap;
} due_list;

static int due_add(const char *serial, const char *hash_alg, void *ctx)
{
    due_list *d = ctx;
    int h = hash_of(hash_alg);
    if (h < 0 || d->n == d->cap)
        return 0;
    for (int i = 0; i < d->n; i++)
        if (d->items[i].hash == h && strcmp(d->items[i].serial, serial) == 0)
            return 0;
    snprintf(d->items[d->n].serial, sizeof d->items[0].serial, "%s", serial);
    d->items[d->n++].hash = h;
    return 0;
}

static int due_add_sha1(const char *serial, void *ctx)
{
    return due_add(serial, ocsp_hash_name(0), ctx);
}

/* What this pass should sign, most urgent first: revocations not yet
 * reflected, responses past half their validity, certificates without a
 * response.  *complete is 0 when the limit cut the list short. */
static int collect_due(lv_ca *ca, lv_store *st, const ocsp_marks *m,
                       due_list *d, int *complete, lv_err *err)
{
    int64_t now = lv_now();
    int64_t half = (int64_t)ca_config(ca)->ocsp_validity_hours * 3600 / 2;
    LV_TRY(store_ocsp_foreach_stale(st, m->revoked_since, d->cap - d->n,
                                    due_add, d, err));
    LV_TRY(
        store_ocsp_foreach_due(st, now + half, d->cap - d->n, due_add, d, err));
    LV_TRY(store_ocsp_foreach_missing(st, ocsp_hash_name(0), m->created_since,
                                      d->cap - d->n, due_add_sha1, d, err));
    *complete = d->n < d->cap;
    return 0;
}

static int sign_due(lv_ca *ca, lv_store *st, const due_list *d, int *done,
                    lv_err *err)
{
    batch *b = calloc(1, sizeof *b);
    int rc = b ? 0 : LV_ENOMEM;
    for (int i = 0; rc == 0 && i < d->n; i++) {
        lv_err one = {0};
        /* one bad row (a CA without responder, say) must not stop the
         * others */
        if (batch_add(ca, st, b, d->items[i].serial, d->items[i].hash, &one) <
            0)
            lv_log(LV_LOG_WARN, "ocsp: cannot sign %s: %s", d->items[i].serial,
                   one.msg);
        if (b->n == BATCH || (i == d->n - 1 && b->n > 0)) {
            rc = batch_write(st, b, "*", "refresh", err);
            *done += b->n;
            batch_clear(b);
        }
    }
    if (b)
        batch_clear(b);
    free(b);
    return rc;
}

int ocsp_refresh_due(lv_ca *ca, lv_store *st, int max, int *done, lv_err *err)
{
    ocsp_marks m;
    int complete = 0;
    *done = 0;
    LV_TRY(need_keys(ca, err));
    if (max < 1)
        return 0;
    ocsp_marks_get(ca, &m);
    int64_t started = lv_now();
    due_list d = {calloc((size_t)max, sizeof *d.items), 0, max};
    if (!d.items)
        return LV_ENOMEM;
    int rc = collect_due(ca, st, &m, &d, &complete, err);
    if (rc == 0)
        rc = sign_due(ca, st, &d, done, err);
    free(d.items);
    /* advance only past what was fully looked at */
    if (rc == 0 && complete) {
        m.created_since = m.revoked_since = started - MARK_SLACK;
        ocsp_marks_set(ca, &m);
    }
    return rc;
}
