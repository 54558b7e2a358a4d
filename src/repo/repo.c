/* The public repository (R8.1, R8.2, CPS §2): the policy documents in
 * DIR/repository/, the index of CA certificates, CRLs, documents and
 * published certificates, and the consent that lets an issued certificate
 * be published.  Reading is public; every change goes through the operator
 * console and is audited. */
#include "repo/repo.h"

#include "audit/audit.h"
#include "crl/crl.h"
#include "repo/repo_internal.h"
#include "store/store.h"
#include "store/store_ca.h"
#include "store/store_cert.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPO_DIR "repository"
#define REPO_DOC_MAX ((size_t)16 * 1024 * 1024)

static const lv_repo_doc docs[] = {
    {"cps-es.pdf", "application/pdf",
     "Declaración de Prácticas de Certificación", "es"},
    {"cps-en.pdf", "application/pdf", "Certification Practice Statement", "en"},
    /* the QcPDS URLs of every qualified certificate (EN 319 412-5 §4.3.4) */
    {"pds-es.pdf", "application/pdf", "Declaración Informativa de la PKI (PDS)",
     "es"},
    {"pds-en.pdf", "application/pdf", "PKI Disclosure Statement", "en"},
};
#define DOC_COUNT (sizeof docs / sizeof docs[0])

const lv_repo_doc *repo_docs(size_t *count)
{
    *count = DOC_COUNT;
    return docs;
}

const lv_repo_doc *repo_doc_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < DOC_COUNT; i++)
        if (strcmp(docs[i].name, name) == 0)
            return &docs[i];
    return NULL;
}

static int doc_path(const lv_config *cfg, const char *name, char *out,
                    size_t cap)
{
    char dir[1024];
    LV_TRY(lv_path_join(dir, sizeof dir, cfg->dir, REPO_DIR));
    return name ? lv_path_join(out, cap, dir, name)
                : lv_path_join(out, cap, cfg->dir, REPO_DIR);
}

/* Placeholders are written only where no file exists: an operator's own
 * CPS or PDS is never overwritten. */
int repo_install_defaults(const lv_config *cfg, lv_err *err)
{
    char path[1100];
    struct stat sb;
    LV_TRY(doc_path(cfg, NULL, path, sizeof path));
    LV_TRY(lv_mkdir_p(path, 0755, err));
    for (size_t i = 0; i < lv_policy_docs_count; i++) {
        const lv_policy_doc *d = &lv_policy_docs[i];
        LV_TRY(doc_path(cfg, d->name, path, sizeof path));
        if (stat(path, &sb) == 0)
            continue;
        LV_TRY(lv_file_write(path, d->data, d->len, 0644, err));
    }
    return 0;
}

int repo_doc_read(const lv_config *cfg, const lv_repo_doc *doc,
                  unsigned char **data, size_t *len, lv_err *err)
{
    char path[1100];
    LV_TRY(doc_path(cfg, doc->name, path, sizeof path));
    return lv_file_read(path, data, len, REPO_DOC_MAX, err);
}

/* R8.2: every published object carries its SHA-256 so that a relying party
 * can check the copy it holds. */
static json_t *sha256_hex(const unsigned char *data, size_t len)
{
    unsigned char md[32];
    char hex[65];
    unsigned int n = 0;
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL))
        return json_null();
    lv_hex_encode(md, n, hex);
    return json_string(hex);
}

int repo_doc_put(lv_ca *ca, lv_store *st, const char *name,
                 const unsigned char *data, size_t len, const char *actor,
                 lv_err *err)
{
    char path[1100];
    const lv_repo_doc *doc = repo_doc_find(name);
    if (doc == NULL)
        return lv_fail(err, LV_EINVAL,
                       "%s is not a repository document (cps-es.pdf, "
                       "cps-en.pdf, pds-es.pdf, pds-en.pdf)",
                       name ? name : "");
    /* the content must be what the name and content type promise */
    if (len < 5 || memcmp(data, "%PDF-", 5) != 0 || len > REPO_DOC_MAX)
        return lv_fail(err, LV_EINVAL, "%s must be a PDF of at most 16 MiB",
                       name);
    LV_TRY(repo_install_defaults(ca_config(ca), err));
    LV_TRY(doc_path(ca_config(ca), doc->name, path, sizeof path));
    LV_TRY(lv_file_write(path, data, len, 0644, err));
    json_t *details = json_pack("{s:I, s:o}", "size", (json_int_t)len, "sha256",
                                sha256_hex(data, len));
    int rc = audit_log_standalone(st, actor, "repository.put", doc->name,
                                  LV_AUDIT_SUCCESS, details, err);
    json_decref(details);
    return rc;
}

/* ---- the index
 * --------------------------------------------------------------- */

static json_t *iso_or_null(int64_t t)
{
    char s[32];
    if (t <= 0)
        return json_null();
    lv_time_iso(t, s);
    return json_string(s);
}

typedef struct index_ctx {
    lv_ca *ca;
    lv_store *st;
    json_t *cas, *crls;
    lv_err *err;
} index_ctx;

static json_t *ca_item(const lv_config *cfg, const lv_ca_rec *rec)
{
    char url[400], subject[512] = "", cn[256] = "";
    const unsigned char *p = rec->cert_der;
    X509 *cert = d2i_X509(NULL, &p, (long)rec->cert_len);
    if (cert != NULL) {
        lv_dn_rfc4514(X509_get_subject_name(cert), subject, sizeof subject);
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
                                      NID_commonName, cn, sizeof cn) < 0)
            cn[0] = '\0';
    }
    X509_free(cert);
    snprintf(url, sizeof url, "%s/ca/%s.crt", lv_status_url(cfg), rec->name);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "name", rec->name,
        "role", rec->role, "status", rec->status, "subject", subject,
        "common_name", cn, "serial", rec->serial, "not_before",
        iso_or_null(rec->not_before), "not_after", iso_or_null(rec->not_after),
        "url", url, "sha256", sha256_hex(rec->cert_der, rec->cert_len));
}

static json_t *crl_item(const lv_config *cfg, const lv_crl_info *c)
{
    char url[400];
    snprintf(url, sizeof url, "%s/crl/%s.crl", lv_status_url(cfg), c->ca);
    return json_pack("{s:s, s:s, s:I, s:o, s:o, s:I, s:b}", "ca", c->ca, "url",
                     url, "crl_number", (json_int_t)c->number, "this_update",
                     iso_or_null(c->this_update), "next_update",
                     iso_or_null(c->next_update), "entries",
                     (json_int_t)c->entries, "final", c->next_update == 0);
}

static int index_ca(const lv_ca_rec *rec, void *arg)
{
    index_ctx *x = arg;
    lv_crl crl;
    json_array_append_new(x->cas, ca_item(ca_config(x->ca), rec));
    int rc = crl_latest(x->ca, x->st, rec->name, 0, &crl, NULL);
    if (rc == 0)
        json_array_append_new(x->crls, crl_item(ca_config(x->ca), &crl.info));
    crl_free(&crl);
    return rc == 0 || rc == LV_ENOTFOUND ? 0 : rc;
}

static json_t *index_docs(const lv_config *cfg)
{
    char url[400];
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < DOC_COUNT; i++) {
        unsigned char *data = NULL;
        size_t len = 0;
        if (repo_doc_read(cfg, &docs[i], &data, &len, NULL) < 0)
            continue; /* not installed: not listed */
        snprintf(url, sizeof url, "%s/repository/%s", lv_documents_url(cfg),
                 docs[i].name);
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "name",
                           docs[i].name, "title", docs[i].title, "lang",
                           docs[i].lang, "content_type", docs[i].content_type,
                           "url", url, "size", (json_int_t)len, "sha256",
                           sha256_hex(data, len)));
        free(data);
    }
    return arr;
}

typedef struct pub_ctx {
    const lv_config *cfg;
    json_t *arr;
} pub_ctx;

static int index_published(const lv_cert_rec *r, void *arg)
{
    pub_ctx *x = arg;
    char url[400];
    snprintf(url, sizeof url, "%s/repository/cert/%s.crt",
             lv_documents_url(x->cfg), r->serial);
    json_array_append_new(
        x->arr,
        json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:s}", "serial",
                  r->serial, "ca", r->ca, "profile", r->profile, "subject",
                  r->subject_dn, "not_before", iso_or_null(r->not_before),
                  "not_after", iso_or_null(r->not_after), "status",
                  r->status == LV_CERT_REVOKED ? "revoked" : "valid",
                  "revoked_at", iso_or_null(r->revoked_at), "url", url));
    return 0;
}

int repo_index(lv_ca *ca, lv_store *st, int64_t offset, int64_t limit,
               json_t **out, lv_err *err)
{
    index_ctx x = {ca, st, json_array(), json_array(), err};
    pub_ctx pub = {ca_config(ca), json_array()};
    int rc = x.cas && x.crls && pub.arr ? 0 : LV_ENOMEM;
    if (rc == 0)
        rc = store_ca_foreach(st, index_ca, &x, err);
    if (rc == 0)
        rc = store_cert_foreach_published(st, offset, limit, index_published,
                                          &pub, err);
    json_t *o =
        rc == 0
            ? json_pack("{s:s, s:o, s:o, s:o, s:O, s:I, s:I}", "provider",
                        ca_config(ca)->org_name, "ca_certificates", x.cas,
                        "crls", x.crls, "documents", index_docs(ca_config(ca)),
                        "certificates", pub.arr, "offset", (json_int_t)offset,
                        "limit", (json_int_t)limit)
            : NULL;
    if (rc == 0 && o == NULL)
        rc = lv_fail(err, LV_ENOMEM, "cannot build the repository index");
    if (rc < 0) {
        json_decref(x.cas);
        json_decref(x.crls);
    }
    json_decref(pub.arr);
    *out = o;
    return rc;
}

/* ---- published certificates (R8.1)
 * ----------------------------------------------- */

static int publish_in_tx(lv_store *st, const char *serial, int consent,
                         const char *actor, lv_err *err)
{
    lv_cert_status s;
    char since[32];
    LV_TRY(store_cert_status_get(st, serial, &s, err));
    if (consent && s.publish_consent_at > 0) {
        lv_time_iso(s.publish_consent_at, since);
        return lv_fail(err, LV_ESTATE,
                       "certificate %s is already published (consent of %s)",
                       serial, since);
    }
    if (!consent && s.publish_consent_at == 0)
        return lv_fail(err, LV_ESTATE, "certificate %s is not published",
                       serial);
    LV_TRY(store_cert_set_consent(st, serial, consent ? lv_now() : 0, err));
    return audit_log(st, actor, consent ? "cert.publish" : "cert.unpublish",
                     serial, LV_AUDIT_SUCCESS, NULL, err);
}

int repo_cert_publish(lv_ca *ca, lv_store *st, const char *serial, int consent,
                      const char *actor, lv_err *err)
{
    char norm[65];
    (void)ca;
    LV_TRY(ca_serial_normalize(serial, norm, err));
    LV_TRY(store_begin(st, err));
    int rc = publish_in_tx(st, norm, consent, actor, err);
    if (rc == 0)
        rc = store_commit(st, err);
    if (rc < 0)
        store_rollback(st);
    return rc;
}

int repo_published_cert(lv_ca *ca, lv_store *st, const char *serial,
                        unsigned char **der, size_t *len, lv_err *err)
{
    lv_cert_status s;
    lv_cert_rec rec;
    (void)ca;
    int rc = store_cert_status_get(st, serial, &s, NULL);
    if (rc == LV_ENOTFOUND || (rc == 0 && s.publish_consent_at == 0))
        return lv_fail(err, LV_ENOTFOUND,
                       "no published certificate with serial %s", serial);
    LV_TRY(rc);
    LV_TRY(store_cert_get(st, serial, &rec, err));
    *der = rec.der;
    *len = rec.der_len;
    return 0;
}

int repo_ca_cert(lv_ca *ca, lv_store *st, const char *name, unsigned char **der,
                 size_t *len, lv_err *err)
{
    lv_ca_rec rec;
    (void)ca;
    LV_TRY(store_ca_get(st, name, &rec, err));
    *der = rec.cert_der;
    *len = rec.cert_len;
    return 0;
}
