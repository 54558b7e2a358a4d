/* The key change-over of an issuing CA (R6.6, CPS §5.6): a new key and CA
 * certificate signed by the root, its OCSP responder and first CRL; the
 * old CA is retired and signs CRLs only.  `ca add-tls` (issue 13) makes a
 * new issuing CA the same way, with no predecessor. */
#include "custody/custody_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YEAR_SECONDS ((int64_t)(365.2425 * 86400))
#define ISSUING_YEARS 13 /* R4.1 */

/* ---- change-over
 * ------------------------------------------------------------- */

/* "qualified" -> "qualified-g2", "qualified-g2" -> "qualified-g3"; the CN
 * gets or replaces a " G<n>" suffix the same way. */
static int generation_of(const char *name, size_t *base_len)
{
    const char *dash = strrchr(name, '-');
    size_t n = strlen(name);
    *base_len = n;
    if (dash == NULL || dash[1] != 'g' || dash[2] < '2' || dash[2] > '9')
        return 1;
    char *end;
    long g = strtol(dash + 2, &end, 10);
    if (*end != '\0' || g < 2 || g > 99)
        return 1;
    *base_len = (size_t)(dash - name);
    return (int)g;
}

int custody_rollover_names(const char *name, const char *cn, char new_name[32],
                           char new_cn[128], lv_err *err)
{
    size_t base = 0, cn_len = strlen(cn);
    int next = generation_of(name, &base) + 1;
    char suffix[16];
    snprintf(suffix, sizeof suffix, " G%d", next - 1);
    /* strip the CN's own " G<n>" when it carries the current generation */
    if (next > 2 && cn_len > strlen(suffix) &&
        strcmp(cn + cn_len - strlen(suffix), suffix) == 0)
        cn_len -= strlen(suffix);
    if (next > 99 ||
        /* room for the responder name "<name>-ocsp" in 31 characters */
        snprintf(new_name, 32, "%.*s-g%d", (int)base, name, next) > 26 ||
        snprintf(new_cn, 128, "%.*s G%d", (int)cn_len, cn, next) >= 64)
        return lv_fail(err, LV_EINVAL,
                       "no successor name for %s: the name or common name "
                       "would be too long",
                       name);
    return 0;
}

typedef struct rollover {
    lv_ca *ca;
    lv_store *st;
    const char *actor;
    const char *role; /* of the new CA: the predecessor's, or "tls" */
    lv_ca_rec old;    /* the predecessor; name "" for a new CA (add-tls) */
    lv_ca_rec root;
    X509 *root_cert;
    X509 *cert; /* the new CA certificate */
    lv_ca_rec rec;
    lv_rollover_result *out;
} rollover;

static void rollover_free(rollover *r)
{
    store_ca_rec_free(&r->old);
    store_ca_rec_free(&r->root);
    X509_free(r->root_cert);
    X509_free(r->cert);
    OPENSSL_free(r->rec.cert_der);
}

static int load_root(rollover *r, const char *root_name, lv_err *err);

static int rollover_load(rollover *r, const char *name, lv_err *err)
{
    lv_ca_status s;
    LV_TRY(custody_load_issuing(r->st, name, &r->old, &s, err));
    if (strcmp(s.status, "retired") == 0)
        return lv_fail(err, LV_ESTATE,
                       "CA %s is already retired: change over its successor",
                       name);
    r->role = r->old.role;
    return load_root(r, r->old.issuer, err);
}

static int load_root(rollover *r, const char *root_name, lv_err *err)
{
    lv_ca_status rs;
    LV_TRY(store_ca_get(r->st, root_name, &r->root, err));
    LV_TRY(store_ca_status_get(r->st, r->root.name, &rs, err));
    if (strcmp(rs.status, "active") != 0)
        return lv_fail(err, LV_ESTATE, "the root CA %s is %s", r->root.name,
                       rs.status);
    const unsigned char *p = r->root.cert_der;
    r->root_cert = d2i_X509(NULL, &p, (long)r->root.cert_len);
    return r->root_cert ? 0 : lv_fail(err, LV_ESTORE, "bad root certificate");
}

/* The new DN is the old one with the CN replaced (CPS §5.6: new DN). */
static int successor_dn(const lv_ca_rec *old, const char *cn, X509_NAME **out,
                        lv_err *err)
{
    const unsigned char *p = old->cert_der;
    X509 *cert = d2i_X509(NULL, &p, (long)old->cert_len);
    X509_NAME *dn = cert ? X509_NAME_dup(X509_get_subject_name(cert)) : NULL;
    X509_free(cert);
    int loc = dn ? X509_NAME_get_index_by_NID(dn, NID_commonName, -1) : -1;
    if (loc >= 0)
        X509_NAME_ENTRY_free(X509_NAME_delete_entry(dn, loc));
    if (dn == NULL || loc < 0 ||
        !X509_NAME_add_entry_by_NID(dn, NID_commonName, MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, loc, 0)) {
        X509_NAME_free(dn);
        return lv_fail_ssl(err, LV_ESTORE, "cannot derive the new CA name");
    }
    *out = dn;
    return 0;
}

static int old_cn(const lv_ca_rec *old, char *cn, size_t cap)
{
    const unsigned char *p = old->cert_der;
    X509 *cert = d2i_X509(NULL, &p, (long)old->cert_len);
    int n = cert ? X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
                                             NID_commonName, cn, (int)cap)
                 : -1;
    X509_free(cert);
    return n > 0 ? 0 : LV_ESTORE;
}

static int build_successor(rollover *r, EVP_PKEY *pub, lv_err *err)
{
    X509_NAME *dn = NULL;
    int64_t now = lv_now();
    int64_t end = now + ISSUING_YEARS * YEAR_SECONDS;
    if (end > r->root.not_after)
        end = r->root.not_after; /* RFC 5280 §6.1.3 */
    /* a new CA (add-tls) takes the root's DN with its own CN */
    int rc =
        successor_dn(r->old.name[0] ? &r->old : &r->root, r->out->cn, &dn, err);
    ca_cert_params params = {dn, pub, r->root_cert, now, end};
    if (rc == 0)
        rc = ca_cert_new(&params, &r->cert, err);
    if (rc == 0)
        rc = custody_ca_extensions(r->cert, r->root_cert, r->role,
                                   ca_config(r->ca), err);
    if (rc == 0)
        rc = ca_sign_cert(r->ca, r->root.key_id, r->cert, err);
    X509_NAME_free(dn);
    return rc;
}

static int retire_predecessor(rollover *r, json_t *rolled, lv_err *err)
{
    lv_ca_status s;
    LV_TRY(store_ca_status_get(r->st, r->old.name, &s, err));
    if (strcmp(s.status, "active") == 0)
        LV_TRY(store_ca_set_status(r->st, r->old.name, "retired", 0, -1, err));
    return audit_log(r->st, r->actor, "ca.rollover", r->old.name,
                     LV_AUDIT_SUCCESS, rolled, err);
}

static int record_successor(rollover *r, lv_err *err)
{
    json_t *created = json_pack(
        "{s:s, s:s, s:s, s:s, s:s}", "role", r->rec.role, "issuer",
        r->rec.issuer, "serial", r->rec.serial, "key_id", r->rec.key_id,
        "predecessor", r->old.name[0] ? r->old.name : "(none)");
    json_t *rolled = json_pack("{s:s, s:s}", "successor", r->rec.name, "serial",
                               r->rec.serial);
    int rc = store_begin(r->st, err);
    if (rc == 0) {
        if ((rc = store_ca_insert(r->st, &r->rec, err)) == 0 &&
            (rc = audit_log(r->st, r->actor, "ca.create", r->rec.name,
                            LV_AUDIT_SUCCESS, created, err)) == 0 &&
            (r->old.name[0] == '\0' ||
             (rc = retire_predecessor(r, rolled, err)) == 0))
            rc = store_commit(r->st, err);
        if (rc < 0)
            store_rollback(r->st);
    }
    json_decref(created);
    json_decref(rolled);
    return rc;
}

static int new_key(rollover *r, EVP_PKEY **pub, lv_err *err)
{
    LV_TRY(ca_key_generate(r->ca, "rsa4096", "ca", r->out->name, r->out->key_id,
                           pub, err));
    json_t *details = json_pack("{s:s, s:s, s:s}", "key_id", r->out->key_id,
                                "type", "rsa4096", "class", "ca");
    int rc = audit_log_standalone(r->st, r->actor, "key.generate", r->out->name,
                                  LV_AUDIT_SUCCESS, details, err);
    json_decref(details);
    return rc;
}

static int record_responder(rollover *r, const lv_issue_result *res,
                            lv_err *err)
{
    lv_ca_rec rec = {0};
    snprintf(rec.name, sizeof rec.name, "%.31s", r->out->ocsp_name);
    snprintf(rec.role, sizeof rec.role, "ocsp");
    snprintf(rec.issuer, sizeof rec.issuer, "%s", r->out->name);
    snprintf(rec.key_id, sizeof rec.key_id, "%s", res->key_id);
    snprintf(rec.status, sizeof rec.status, "active");
    snprintf(rec.serial, sizeof rec.serial, "%s", res->serial);
    rec.not_before = ca_time_unix(X509_get0_notBefore(res->cert));
    rec.not_after = ca_time_unix(X509_get0_notAfter(res->cert));
    int len = i2d_X509(res->cert, &rec.cert_der);
    if (len <= 0)
        return LV_ECRYPTO;
    rec.cert_len = (size_t)len;
    json_t *details =
        json_pack("{s:s, s:s, s:s, s:s}", "role", "ocsp", "issuer", rec.issuer,
                  "serial", rec.serial, "key_id", rec.key_id);
    int rc = store_begin(r->st, err);
    if (rc == 0) {
        if ((rc = store_ca_insert(r->st, &rec, err)) == 0 &&
            (rc = audit_log(r->st, r->actor, "ca.create", rec.name,
                            LV_AUDIT_SUCCESS, details, err)) == 0)
            rc = store_commit(r->st, err);
        if (rc < 0)
            store_rollback(r->st);
    }
    json_decref(details);
    OPENSSL_free(rec.cert_der);
    return rc;
}

/* The successor's delegated OCSP responder, as the ceremony makes one per
 * CA (RFC 6960 §4.2.2.2), recorded in cas like the ceremony's. */
static int successor_responder(rollover *r, lv_err *err)
{
    char cn[160];
    lv_ca_entry issuer = {.not_before = r->rec.not_before,
                          .not_after = r->rec.not_after,
                          .cert_der = r->rec.cert_der,
                          .cert_len = r->rec.cert_len,
                          .cert = r->cert};
    snprintf(issuer.name, sizeof issuer.name, "%s", r->rec.name);
    snprintf(issuer.role, sizeof issuer.role, "%s", r->rec.role);
    snprintf(issuer.issuer, sizeof issuer.issuer, "%s", r->rec.issuer);
    snprintf(issuer.key_id, sizeof issuer.key_id, "%s", r->rec.key_id);
    snprintf(issuer.serial, sizeof issuer.serial, "%s", r->rec.serial);
    snprintf(issuer.status, sizeof issuer.status, "%s", r->rec.status);
    snprintf(cn, sizeof cn, "%.40s OCSP Responder", r->out->cn);
    snprintf(r->out->ocsp_name, sizeof r->out->ocsp_name, "%s-ocsp",
             r->out->name);
    json_t *subject = ca_provider_subject(ca_config(r->ca), cn);
    lv_issue_req req = {
        .profile_id = "ocsp-responder", .subject = subject, .actor = r->actor};
    lv_issue_result res;
    int rc = ca_issue_by(r->ca, r->st, &req, &issuer, &res, err);
    json_decref(subject);
    if (rc < 0)
        return rc;
    rc = record_responder(r, &res, err);
    ca_issue_result_free(&res);
    return rc;
}

/* The new CA: key, certificate, row (and the predecessor retired), then
 * its delegated OCSP responder. */
static int create_ca(rollover *r, lv_err *err)
{
    EVP_PKEY *pub = NULL;
    lv_ca_rec exists;
    if (store_ca_get(r->st, r->out->name, &exists, NULL) == 0) {
        store_ca_rec_free(&exists);
        return lv_fail(err, LV_EEXISTS, "CA %s already exists", r->out->name);
    }
    int rc = new_key(r, &pub, err);
    if (rc == 0)
        rc = build_successor(r, pub, err);
    if (rc == 0)
        rc = ca_rec_fill(&r->rec, r->out->name, r->role, r->root.name,
                         r->out->key_id, r->cert);
    if (rc == 0)
        rc = record_successor(r, err);
    if (rc < 0 && r->out->key_id[0] != '\0')
        /* never used; one keyd cannot destroy now its orphan sweep removes */
        lv_ignore(ca_key_destroy(r->ca, r->out->key_id, NULL));
    EVP_PKEY_free(pub);
    LV_TRY(rc);
    snprintf(r->out->serial, sizeof r->out->serial, "%s", r->rec.serial);
    return successor_responder(r, err);
}

static int rollover_run(rollover *r, const char *name, lv_err *err)
{
    char cn[128];
    LV_TRY(rollover_load(r, name, err));
    if (old_cn(&r->old, cn, sizeof cn) < 0)
        return lv_fail(err, LV_ESTORE, "CA %s has no common name", name);
    LV_TRY(custody_rollover_names(name, cn, r->out->name, r->out->cn, err));
    return create_ca(r, err);
}

/* The first CRL of a new CA; a failure leaves it to the CRL keeper. */
static void first_crl(lv_ca *ca, lv_store *st, const char *name,
                      const char *actor)
{
    lv_err e = {0};
    if (crl_generate(ca, st, name, actor, NULL, &e) < 0)
        lv_log(LV_LOG_WARN, "first CRL of %s not yet published: %s", name,
               e.msg);
}

int custody_rollover(lv_ca *ca, lv_store *st, const char *name,
                     const char *actor, lv_rollover_result *out, lv_err *err)
{
    rollover r = {.ca = ca, .st = st, .actor = actor, .out = out};
    memset(out, 0, sizeof *out);
    LV_TRY(ca_need_keys(ca, "a CA key change-over needs keys", err));
    int rc = rollover_run(&r, name, err);
    rollover_free(&r);
    if (rc < 0) {
        custody_audit_refusal(st, actor, "ca.rollover", name, err);
        return rc;
    }
    first_crl(ca, st, out->name, actor);
    return 0;
}

/* A TLS CA of its own where none is active (an install made before issue
 * 13): named and worded by tls_name / tls_cn, under the root. */
static int add_tls_run(rollover *r, lv_err *err)
{
    const lv_config *cfg = ca_config(r->ca);
    lv_ca_rec existing;
    if (store_ca_get(r->st, cfg->tls_name, &existing, NULL) == 0) {
        store_ca_rec_free(&existing);
        return lv_fail(err, LV_EEXISTS,
                       "the TLS CA %s exists already (change it over with "
                       "`llave ca rollover %s`)",
                       cfg->tls_name, cfg->tls_name);
    }
    r->role = "tls";
    LV_TRY(load_root(r, cfg->root_name, err));
    snprintf(r->out->name, sizeof r->out->name, "%s", cfg->tls_name);
    snprintf(r->out->cn, sizeof r->out->cn, "%s", cfg->tls_cn);
    return create_ca(r, err);
}

int custody_add_tls(lv_ca *ca, lv_store *st, const char *actor,
                    lv_rollover_result *out, lv_err *err)
{
    rollover r = {.ca = ca, .st = st, .actor = actor, .out = out};
    memset(out, 0, sizeof *out);
    LV_TRY(ca_need_keys(ca, "a new CA needs keys", err));
    int rc = add_tls_run(&r, err);
    rollover_free(&r);
    if (rc < 0) {
        custody_audit_refusal(st, actor, "ca.add_tls", ca_config(ca)->tls_name,
                              err);
        return rc;
    }
    first_crl(ca, st, out->name, actor);
    return 0;
}
