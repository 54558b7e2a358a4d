/* CRL v2 of every CA (R6.3, RFC 5280 §5; CPS §4.9.7): encoded as a stream
 * (crl_der.c) from the revoked, unexpired certificates in the store,
 * signed with the CA key through llave-keyd (ca_key_sign_init), stored with
 * a monotonic CRL number.  Regenerated after every revocation and, by
 * llaved's keeper, on a schedule; a compromised CA gets a final CRL without
 * nextUpdate (R6.5). */
#include "audit/audit.h"
#include "crl/crl_internal.h"
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

static int collect_entry(const lv_crl_entry *e, void *arg)
{
    return crl_list_add(arg, e);
}

/* Builds and signs the next CRL of `is` into out (out->der from
 * OPENSSL_malloc). */
static int crl_build_signed(lv_ca *ca, lv_store *st, const crl_issuer *is,
                            int final, lv_crl_rec *out, lv_err *err)
{
    crl_list l = {0};
    snprintf(out->ca, sizeof out->ca, "%s", is->rec.name);
    out->number = is->last.number + 1;
    out->this_update = lv_now();
    /* R6.5: the final CRL of a compromised CA has no nextUpdate */
    out->next_update =
        final ? 0
              : out->this_update +
                    (int64_t)ca_config(ca)->crl_interval_hours * HOUR;
    out->revision = is->status.revision;
    int rc = store_crl_foreach_entry(st, is->rec.name, out->this_update,
                                     collect_entry, &l, err);
    if (rc < 0 && err != NULL && err->msg[0] == '\0') /* collect_entry's */
        rc = lv_fail(err, rc, "cannot list the entries of the CRL of %s",
                     is->rec.name);
    out->entries = (int64_t)l.n;
    crl_fields f = {is->cert, out->number, out->this_update, out->next_update};
    if (rc == 0)
        rc = crl_der_signed(ca, is->rec.key_id, &f, &l, &out->der,
                            &out->der_len, err);
    crl_list_free(&l);
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

static int collect_crl_issuer(const lv_ca_rec *rec, void *names)
{
    return issues_crls(rec->role) ? lv_strs_add(names, rec->name) : 0;
}

int crl_issuers(lv_store *st, lv_strs *names, lv_err *err)
{
    *names = (lv_strs){0};
    int rc = store_ca_foreach(st, collect_crl_issuer, names, err);
    if (rc < 0)
        lv_strs_free(names);
    return rc;
}

int crl_refresh(lv_ca *ca, lv_store *st, const char *actor, int *generated,
                lv_err *err)
{
    lv_strs l;
    int n = 0, first = 0;
    int rc = crl_issuers(st, &l, err);
    /* one CA failing (say, a store error) does not starve the others; the
     * first failure is reported */
    for (size_t i = 0; rc == 0 && i < l.count; i++) {
        int due = 0;
        lv_err e = {0};
        int one = crl_due(ca, st, l.v[i], &due, &e);
        if (one == 0 && due)
            one = crl_generate(ca, st, l.v[i], actor, NULL, &e);
        n += one == 0 && due;
        if (one < 0 && first == 0) {
            first = one;
            if (err != NULL)
                *err = e;
        }
    }
    lv_strs_free(&l);
    if (rc == 0)
        rc = first;
    if (generated != NULL)
        *generated = n;
    return rc;
}
