/* The CA context: the CA, OCSP, TSA and audit-seal certificates recorded
 * by the ceremony, loaded once and shared read-only by every thread, and
 * the state other components attach to it (ca_attachment). */
#include "ca/ca_internal.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct load_ctx {
    lv_ca *ca;
    lv_err *err;
} load_ctx;

static int load_one(const lv_ca_rec *rec, void *arg)
{
    load_ctx *lc = arg;
    lv_ca *ca = lc->ca;
    lv_ca_entry *grown = realloc(ca->entries, (ca->count + 1) * sizeof *grown);
    if (grown == NULL)
        return LV_ENOMEM;
    ca->entries = grown;
    lv_ca_entry *e = &ca->entries[ca->count];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", rec->name);
    snprintf(e->role, sizeof e->role, "%s", rec->role);
    snprintf(e->issuer, sizeof e->issuer, "%s", rec->issuer);
    snprintf(e->key_id, sizeof e->key_id, "%s", rec->key_id);
    snprintf(e->serial, sizeof e->serial, "%s", rec->serial);
    snprintf(e->status, sizeof e->status, "%s", rec->status);
    e->not_before = rec->not_before;
    e->not_after = rec->not_after;
    e->cert_der = malloc(rec->cert_len ? rec->cert_len : 1);
    if (e->cert_der == NULL)
        return LV_ENOMEM;
    memcpy(e->cert_der, rec->cert_der, rec->cert_len);
    e->cert_len = rec->cert_len;
    const unsigned char *p = e->cert_der;
    e->cert = d2i_X509(NULL, &p, (long)rec->cert_len);
    ca->count++;
    if (e->cert == NULL)
        return lv_fail_ssl(lc->err, LV_ESTORE,
                           "stored certificate of CA '%s' does not parse",
                           rec->name);
    return 0;
}

int ca_open(const lv_config *cfg, lv_store *st, int caller, lv_ca **out,
            lv_err *err)
{
    lv_ca *ca = calloc(1, sizeof *ca);
    if (ca == NULL)
        return LV_ENOMEM;
    ca->cfg = *cfg;
    pthread_mutex_init(&ca->attach_lock, NULL);
    load_ctx lc = {ca, err};
    int rc = ca_keys_init(ca, caller, err);
    if (rc == 0)
        rc = store_ca_foreach(st, load_one, &lc, err);
    if (rc == 0 && ca_entry_find(ca, cfg->root_name) == NULL)
        rc = lv_fail(err, LV_ENOTFOUND,
                     "no root CA '%s' in %s: run `llave init` first",
                     cfg->root_name, cfg->dir);
    if (rc < 0) {
        ca_close(ca);
        return rc;
    }
    *out = ca;
    return 0;
}

void ca_close(lv_ca *ca)
{
    if (ca == NULL)
        return;
    ca_keys_free(ca); /* closes its keyd connections */
    for (int i = 0; i < CA_ATTACH_COUNT; i++)
        if (ca->attached[i].state != NULL)
            ca->attached[i].destroy(ca->attached[i].state);
    for (size_t i = 0; i < ca->count; i++) {
        X509_free(ca->entries[i].cert);
        free(ca->entries[i].cert_der);
    }
    free(ca->entries);
    pthread_mutex_destroy(&ca->attach_lock);
    free(ca);
}

int ca_open_keys_only(const lv_config *cfg, int caller, lv_ca **out,
                      lv_err *err)
{
    lv_ca *ca = calloc(1, sizeof *ca);
    *out = NULL;
    if (ca == NULL)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    ca->cfg = *cfg;
    pthread_mutex_init(&ca->attach_lock, NULL);
    int rc = ca_keys_init(ca, caller, err);
    if (rc < 0) {
        pthread_mutex_destroy(&ca->attach_lock);
        free(ca);
        return rc;
    }
    *out = ca;
    return 0;
}

int ca_store_open(const lv_ca *ca, lv_store **out, lv_err *err)
{
    char db[1024];
    *out = NULL;
    LV_TRY(lv_config_store_location(&ca->cfg, db, sizeof db));
    return store_open(db, out, err);
}

static int job_open(void *state, void *ca, lv_err *err)
{
    ca_job_state *js = state;
    js->ca = ca;
    return ca_store_open(ca, &js->st, err);
}

static void job_close(void *state)
{
    store_close(((ca_job_state *)state)->st);
}

/* One node at a time runs a CA job (issue 17 item 2). */
static int job_lease(void *state, const char *name, int ttl, lv_err *err)
{
    return store_job_lease(((ca_job_state *)state)->st, name, ttl, err);
}

int ca_job_start(lv_ca *ca, lv_job_def *def, lv_job **out, lv_err *err)
{
    *out = NULL;
    if (ca_sealed(ca)) {
        lv_log(LV_LOG_WARN, "%s not started: the key store is sealed",
               def->name);
        return 0;
    }
    def->open = job_open;
    def->close = job_close;
    def->lease = job_lease;
    return lv_job_start(def, ca, out, err);
}

const lv_config *ca_config(const lv_ca *ca)
{
    return &ca->cfg;
}

const lv_ca_entry *ca_entries(const lv_ca *ca, size_t *count)
{
    *count = ca->count;
    return ca->entries;
}

const lv_ca_entry *ca_entry_find(const lv_ca *ca, const char *name)
{
    for (size_t i = 0; name != NULL && i < ca->count; i++) {
        if (strcmp(ca->entries[i].name, name) == 0)
            return &ca->entries[i];
    }
    return NULL;
}

/* Made once under the lock; the pointer never changes afterwards, so the
 * hot path (every OCSP request) takes the lock only for as long as a
 * lookup. */
int ca_attachment(lv_ca *ca, ca_attach_slot slot, ca_attach_make make,
                  void (*destroy)(void *), void **out, lv_err *err)
{
    int rc = 0;
    *out = NULL;
    if ((int)slot < 0 || slot >= CA_ATTACH_COUNT)
        return lv_fail(err, LV_EINVAL, "no attachment slot %d", (int)slot);
    pthread_mutex_lock(&ca->attach_lock);
    ca_attached *a = &ca->attached[slot];
    if (a->state == NULL) {
        void *state = NULL;
        rc = make(ca, &state, err);
        if (rc == 0) {
            a->state = state;
            a->destroy = destroy;
        }
    }
    *out = a->state;
    pthread_mutex_unlock(&ca->attach_lock);
    return rc;
}

/* R6.6: after a key change-over the old CA signs only CRLs, so the issuer
 * of a profile is the newest active CA of its role (the ceremony's
 * qualified_name / standard_name until the first change-over). */
const lv_ca_entry *ca_issuer_for(const lv_ca *ca, const lv_profile *p)
{
    const char *role = profile_issuer_role(p);
    for (size_t i = ca->count; i-- > 0;) {
        const lv_ca_entry *e = &ca->entries[i];
        if (strcmp(e->role, role) == 0 && strcmp(e->status, "active") == 0)
            return e;
    }
    return NULL;
}

X509 *ca_cert(const lv_ca *ca, const char *name)
{
    const lv_ca_entry *e = ca_entry_find(ca, name);
    return e ? e->cert : NULL;
}

int ca_cert_der(const lv_ca *ca, const char *name, const unsigned char **der,
                size_t *len)
{
    const lv_ca_entry *e = ca_entry_find(ca, name);
    if (e == NULL)
        return LV_ENOTFOUND;
    *der = e->cert_der;
    *len = e->cert_len;
    return 0;
}

static int write_pem(const char *path, X509 *const *certs, size_t n,
                     lv_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = bio ? 0 : LV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!PEM_write_bio_X509(bio, certs[i]))
            rc = lv_fail_ssl(err, LV_ECRYPTO, "cannot encode PEM");
    }
    if (rc == 0) {
        char *data;
        long len = BIO_get_mem_data(bio, &data);
        rc = lv_file_write(path, data, (size_t)len, 0644, err);
    }
    BIO_free(bio);
    return rc;
}

/* Writes root.pem, one PEM per CA, and chain.pem (issuing CAs then root),
 * the files `openssl verify -CAfile root.pem -untrusted chain.pem` wants. */
int ca_export_chain(lv_ca *ca, const char *outdir, lv_err *err)
{
    char path[1024], name[64];
    X509 *chain[8];
    size_t n = 0;
    X509 *root = ca_cert(ca, ca->cfg.root_name);
    LV_TRY(lv_mkdir_p(outdir, 0755, err));
    for (size_t i = 0; i < ca->count; i++) {
        const lv_ca_entry *e = &ca->entries[i];
        snprintf(name, sizeof name, "%s.pem", e->name);
        LV_TRY(lv_path_join(path, sizeof path, outdir, name));
        LV_TRY(write_pem(path, &e->cert, 1, err));
        if (lv_ca_role_issues(e->role, 0) && n < 7)
            chain[n++] = e->cert;
    }
    chain[n++] = root;
    LV_TRY(lv_path_join(path, sizeof path, outdir, "chain.pem"));
    return write_pem(path, chain, n, err);
}

/* ---- change-over without a restart (issue 12 item 5) -------------------- */

typedef struct outdated_walk {
    const lv_ca *ca;
    size_t rows;
    int changed;
} outdated_walk;

static int outdated_one(const lv_ca_rec *rec, void *arg)
{
    outdated_walk *w = arg;
    const lv_ca_entry *e = ca_entry_find(w->ca, rec->name);
    w->rows++;
    if (!e || strcmp(e->status, rec->status) != 0 ||
        strcmp(e->serial, rec->serial) != 0)
        w->changed = 1;
    return 0;
}

int ca_outdated(const lv_ca *ca, lv_store *st, int *outdated, lv_err *err)
{
    outdated_walk w = {ca, 0, 0};
    LV_TRY(store_ca_foreach(st, outdated_one, &w, err));
    *outdated = w.changed || w.rows != ca->count;
    return 0;
}
