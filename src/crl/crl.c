/* CRL v2 of every CA (R6.3, RFC 5280 §5; CPS §4.9.7): built with OpenSSL's
 * X509_CRL API from the revoked, unexpired certificates in the store,
 * signed with the CA key through llave-keyd (ca_key_sign_init), stored with
 * a monotonic CRL number.  Regenerated after every revocation and, by
 * llaved's keeper, on a schedule; a compromised CA gets a final CRL without
 * nextUpdate (R6.5). */
#include "crl/crl.h"

#include "audit/audit.h"
#include "store/store.h"
#include "store/store_ca.h"
#include "store/store_crl.h"

#include <openssl/bn.h>
#include <stdlib.h>
#include <string.h>

#define HOUR 3600
#define MAX_REFRESH_AGE ((int64_t)24 * HOUR) /* R6.3: at least every 24 h */

/* The CAs that publish CRLs: root and issuing CAs (services do not issue). */
static int issues_crls(const char *role)
{
    return lv_ca_role_issues(role, 1);
}

/* ---- entries ------------------------------------------------------------ */

typedef struct crl_build {
    X509_CRL *crl;
    int64_t entries;
    ASN1_INTEGER *serial; /* scratch values reused for every entry */
    ASN1_TIME *time;
    ASN1_ENUMERATED *reason;
    lv_err *err;
} crl_build;

static int set_serial(ASN1_INTEGER *ai, const char *hex)
{
    unsigned char raw[32];
    int n = lv_hex_decode(hex, raw, sizeof raw);
    if (n <= 0)
        return LV_ESTORE;
    int skip = 0; /* INTEGER content is minimal: no leading zero octets */
    while (skip < n - 1 && raw[skip] == 0)
        skip++;
    return ASN1_STRING_set(ai, raw + skip, n - skip) ? 0 : LV_ENOMEM;
}

/* RFC 5280 §5.3.1: reasonCode is absent rather than "unspecified". */
static int add_entry_exts(crl_build *b, X509_REVOKED *r, const lv_crl_entry *e)
{
    if (e->reason > LV_REASON_UNSPECIFIED) {
        if (!ASN1_ENUMERATED_set(b->reason, e->reason) ||
            !X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, b->reason, 0, 0))
            return LV_ECRYPTO;
    }
    if (e->invalidity_date > 0) {
        /* RFC 5280 §5.3.2: always GeneralizedTime */
        ASN1_GENERALIZEDTIME *g =
            ASN1_GENERALIZEDTIME_set(NULL, (time_t)e->invalidity_date);
        int ok = g != NULL &&
                 X509_REVOKED_add1_ext_i2d(r, NID_invalidity_date, g, 0, 0);
        ASN1_GENERALIZEDTIME_free(g);
        if (!ok)
            return LV_ECRYPTO;
    }
    return 0;
}

static int add_entry(const lv_crl_entry *e, void *arg)
{
    crl_build *b = arg;
    X509_REVOKED *r = X509_REVOKED_new();
    int rc = r ? set_serial(b->serial, e->serial) : LV_ENOMEM;
    if (rc == 0 && (!ASN1_TIME_set(b->time, (time_t)e->revoked_at) ||
                    !X509_REVOKED_set_serialNumber(r, b->serial) ||
                    !X509_REVOKED_set_revocationDate(r, b->time)))
        rc = LV_ECRYPTO;
    if (rc == 0)
        rc = add_entry_exts(b, r, e);
    if (rc == 0 && !X509_CRL_add0_revoked(b->crl, r))
        rc = LV_ENOMEM;
    if (rc < 0) {
        X509_REVOKED_free(r);
        return lv_fail_ssl(b->err, rc, "cannot add CRL entry %s", e->serial);
    }
    b->entries++;
    return 0;
}

/* ---- the CRL --------------------------------------------------------------
 */

typedef struct crl_issuer {
    lv_ca_rec rec;
    X509 *cert;
    lv_ca_status status;
    lv_crl_rec last; /* number 0 when none yet */
} crl_issuer;

static void crl_issuer_free(crl_issuer *is)
{
    store_ca_rec_free(&is->rec);
    X509_free(is->cert);
    store_crl_rec_free(&is->last);
}

static int crl_issuer_load(lv_store *st, const char *name, crl_issuer *is,
                           lv_err *err)
{
    memset(is, 0, sizeof *is);
    LV_TRY(store_ca_get(st, name, &is->rec, err));
    if (!issues_crls(is->rec.role))
        return lv_fail(err, LV_EINVAL,
                       "%s is a %s certificate, not a CA: it publishes no CRL",
                       name, is->rec.role);
    const unsigned char *p = is->rec.cert_der;
    is->cert = d2i_X509(NULL, &p, (long)is->rec.cert_len);
    if (is->cert == NULL)
        return lv_fail_ssl(err, LV_ESTORE, "stored certificate of %s is bad",
                           name);
    LV_TRY(store_ca_status_get(st, name, &is->status, err));
    int rc = store_crl_latest(st, name, 0, &is->last, err);
    if (rc == LV_ENOTFOUND)
        return 0;
    return rc;
}

static int add_crl_exts(X509_CRL *crl, X509 *issuer, int64_t number,
                        lv_err *err)
{
    /* RFC 5280 §5.2.1: AKI keyIdentifier = the CA's subjectKeyIdentifier */
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    int ok =
        akid != NULL && ski != NULL && num != NULL &&
        (akid->keyid = ASN1_OCTET_STRING_dup(ski)) != NULL &&
        X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) &&
        ASN1_INTEGER_set_int64(num, number) &&
        /* RFC 5280 §5.2.3: cRLNumber, non-critical */
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
    AUTHORITY_KEYID_free(akid);
    ASN1_INTEGER_free(num);
    return ok ? 0 : lv_fail_ssl(err, LV_ECRYPTO, "cannot add CRL extensions");
}

static int set_crl_time(X509_CRL *crl, int64_t t, int next)
{
    ASN1_TIME *at = ASN1_TIME_set(NULL, (time_t)t);
    int ok = at != NULL && (next ? X509_CRL_set1_nextUpdate(crl, at)
                                 : X509_CRL_set1_lastUpdate(crl, at));
    ASN1_TIME_free(at);
    return ok;
}

static int crl_header(X509_CRL *crl, const crl_issuer *is,
                      const lv_crl_rec *out, lv_err *err)
{
    if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
        !X509_CRL_set_issuer_name(crl, X509_get_subject_name(is->cert)) ||
        !set_crl_time(crl, out->this_update, 0) ||
        (out->next_update != 0 && !set_crl_time(crl, out->next_update, 1)))
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot fill the CRL");
    return add_crl_exts(crl, is->cert, out->number, err);
}

static int crl_entries(lv_store *st, X509_CRL *crl, const char *name,
                       lv_crl_rec *out, lv_err *err)
{
    crl_build b = {
        crl, 0, ASN1_INTEGER_new(), ASN1_TIME_new(), ASN1_ENUMERATED_new(),
        err};
    int rc = b.serial && b.time && b.reason ? 0 : LV_ENOMEM;
    if (rc == 0)
        rc = store_crl_foreach_entry(st, name, out->this_update, add_entry, &b,
                                     err);
    ASN1_INTEGER_free(b.serial);
    ASN1_TIME_free(b.time);
    ASN1_ENUMERATED_free(b.reason);
    out->entries = b.entries;
    return rc;
}

static int crl_sign(lv_ca *ca, const char *key_id, X509_CRL *crl,
                    lv_crl_rec *out, lv_err *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return LV_ENOMEM;
    /* CPS §7.1.3: sha256WithRSAEncryption, like the certificates; keyd
     * signs the digest, so a CRL of any size fits its frames */
    int rc = ca_key_sign_init(ca, key_id, EVP_sha256(), ctx, err);
    if (rc == 0 && X509_CRL_sign_ctx(crl, ctx) <= 0)
        rc = ca_key_ctx_failed(err, "signing the CRL failed");
    EVP_MD_CTX_free(ctx);
    int len = rc == 0 ? i2d_X509_CRL(crl, &out->der) : 0;
    if (rc == 0 && len <= 0)
        rc = lv_fail_ssl(err, LV_ECRYPTO, "cannot encode the CRL");
    out->der_len = len > 0 ? (size_t)len : 0;
    return rc;
}

/* Builds and signs the next CRL of `is` into out (out->der from OpenSSL). */
static int crl_build_signed(lv_ca *ca, lv_store *st, const crl_issuer *is,
                            int final, lv_crl_rec *out, lv_err *err)
{
    X509_CRL *crl = X509_CRL_new();
    if (crl == NULL)
        return LV_ENOMEM;
    snprintf(out->ca, sizeof out->ca, "%s", is->rec.name);
    out->number = is->last.number + 1;
    out->this_update = lv_now();
    /* R6.5: the final CRL of a compromised CA has no nextUpdate */
    out->next_update =
        final ? 0
              : out->this_update +
                    (int64_t)ca_config(ca)->crl_interval_hours * HOUR;
    out->revision = is->status.revision;
    int rc = crl_header(crl, is, out, err);
    if (rc == 0)
        rc = crl_entries(st, crl, is->rec.name, out, err);
    /* serial order makes the CRL reproducible and bisectable */
    if (rc == 0 && !X509_CRL_sort(crl))
        rc = lv_fail_ssl(err, LV_ECRYPTO, "cannot sort the CRL");
    if (rc == 0)
        rc = crl_sign(ca, is->rec.key_id, crl, out, err);
    X509_CRL_free(crl);
    return rc;
}

static json_t *crl_details(const lv_crl_rec *r)
{
    char tu[32], nu[32] = "";
    lv_time_iso(r->this_update, tu);
    if (r->next_update)
        lv_time_iso(r->next_update, nu);
    return json_pack("{s:I, s:I, s:s, s:s, s:b}", "crl_number",
                     (json_int_t)r->number, "entries", (json_int_t)r->entries,
                     "this_update", tu, "next_update", nu, "final",
                     r->next_update == 0);
}

static int generate_in_tx(lv_ca *ca, lv_store *st, const char *name,
                          const char *actor, lv_crl_rec *out, lv_err *err)
{
    crl_issuer is;
    int rc = crl_issuer_load(st, name, &is, err);
    int final = rc == 0 && strcmp(is.status.status, "compromised") == 0;
    if (rc == 0 && final && is.last.number > 0 && is.last.next_update == 0)
        rc = lv_fail(err, LV_ESTATE,
                     "CA %s is compromised and its final CRL (number %lld) is "
                     "published: it signs nothing more",
                     name, (long long)is.last.number);
    if (rc == 0)
        rc = crl_build_signed(ca, st, &is, final, out, err);
    if (rc == 0)
        rc = store_crl_insert(st, out, err);
    json_t *details = rc == 0 ? crl_details(out) : NULL;
    if (rc == 0)
        rc = audit_log(st, actor, "crl.generate", name, LV_AUDIT_SUCCESS,
                       details, err);
    json_decref(details);
    crl_issuer_free(&is);
    return rc;
}

int crl_generate(lv_ca *ca, lv_store *st, const char *name, const char *actor,
                 lv_crl_info *info, lv_err *err)
{
    lv_crl_rec out;
    memset(&out, 0, sizeof out);
    LV_TRY(ca_need_keys(ca, "a CRL cannot be signed", err));
    /* The write lock covers reading the entries, numbering and storing:
     * two concurrent generations can never publish a higher number with
     * older contents. */
    LV_TRY(store_begin(st, err));
    int rc = generate_in_tx(ca, st, name, actor, &out, err);
    if (rc == 0)
        rc = store_commit(st, err);
    if (rc < 0)
        store_rollback(st);
    if (rc == 0 && info != NULL) {
        memset(info, 0, sizeof *info);
        snprintf(info->ca, sizeof info->ca, "%s", out.ca);
        info->number = out.number;
        info->this_update = out.this_update;
        info->next_update = out.next_update;
        info->entries = out.entries;
    }
    OPENSSL_free(out.der);
    return rc;
}

int crl_latest(lv_ca *ca, lv_store *st, const char *name, int with_der,
               lv_crl *out, lv_err *err)
{
    lv_crl_rec rec;
    (void)ca; /* the CRLs of this context's CAs: the store knows them all */
    memset(out, 0, sizeof *out);
    LV_TRY(store_crl_latest(st, name, with_der, &rec, err));
    snprintf(out->info.ca, sizeof out->info.ca, "%s", rec.ca);
    out->info.number = rec.number;
    out->info.this_update = rec.this_update;
    out->info.next_update = rec.next_update;
    out->info.entries = rec.entries;
    out->der = rec.der; /* taken over */
    out->der_len = rec.der_len;
    return 0;
}

void crl_free(lv_crl *crl)
{
    if (crl == NULL)
        return;
    free(crl->der);
    memset(crl, 0, sizeof *crl);
}

/* ---- the schedule
 * ------------------------------------------------------------ */

/* Due when: none yet; behind a status change; a compromised CA without its
 * final CRL; or half its interval gone (at most 24 h, R6.3), so that a
 * fresh CRL is out long before relying parties' copies reach nextUpdate. */
static int crl_due(lv_ca *ca, lv_store *st, const char *name, int *due,
                   lv_err *err)
{
    lv_ca_status s;
    lv_crl_rec last;
    int64_t half = (int64_t)ca_config(ca)->crl_interval_hours * HOUR / 2;
    LV_TRY(store_ca_status_get(st, name, &s, err));
    int rc = store_crl_latest(st, name, 0, &last, err);
    if (rc == LV_ENOTFOUND) {
        *due = 1;
        return 0;
    }
    LV_TRY(rc);
    if (strcmp(s.status, "compromised") == 0)
        *due = last.next_update != 0;
    else
        *due = last.revision < s.revision ||
               lv_now() - last.this_update >=
                   (half < MAX_REFRESH_AGE ? half : MAX_REFRESH_AGE);
    return 0;
}

typedef struct name_list {
    char (*names)[32];
    size_t count;
} name_list;

static int collect_crl_issuer(const lv_ca_rec *rec, void *arg)
{
    name_list *l = arg;
    if (!issues_crls(rec->role))
        return 0;
    char(*grown)[32] = realloc(l->names, (l->count + 1) * sizeof *grown);
    if (grown == NULL)
        return LV_ENOMEM;
    l->names = grown;
    snprintf(l->names[l->count++], 32, "%s", rec->name);
    return 0;
}

int crl_refresh(lv_ca *ca, lv_store *st, const char *actor, int *generated,
                lv_err *err)
{
    name_list l = {NULL, 0};
    int n = 0, first = 0;
    int rc = store_ca_foreach(st, collect_crl_issuer, &l, err);
    /* one CA failing (say, a store error) does not starve the others; the
     * first failure is reported */
    for (size_t i = 0; rc == 0 && i < l.count; i++) {
        int due = 0;
        lv_err e = {0};
        int one = crl_due(ca, st, l.names[i], &due, &e);
        if (one == 0 && due)
            one = crl_generate(ca, st, l.names[i], actor, NULL, &e);
        n += one == 0 && due;
        if (one < 0 && first == 0) {
            first = one;
            if (err != NULL)
                *err = e;
        }
    }
    free(l.names);
    if (rc == 0)
        rc = first;
    if (generated != NULL)
        *generated = n;
    return rc;
}
