/* The key ceremony (R4.1, R4.2, R9.5, CPS §6.1.1): Root CA, qualified,
 * non-qualified and TLS issuing CAs, the TSA certificate and one delegated
 * OCSP responder per CA, all recorded in the store and the audit trail and
 * summed up in a transcript signed with the root key.
 *
 * The key store with its 2-of-3 split master key is created by the console
 * (cli_init.c, keys_create) between custody_ceremony_prepare and
 * custody_ceremony;
 * every key is then generated and used inside llave-keyd (console class),
 * so custody/ links no key code (issue 12) and the ceremony's keys exist only
 * in the signature activation module from their first moment (EN 419
 * 241-2). */
#include "custody/custody_internal.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define YEAR_DAYS 365.2425
#define ROOT_YEARS 25
#define ISSUING_YEARS 13
#define ACTOR "ceremony"

typedef struct ceremony {
    const lv_config *cfg;
    const lv_ceremony_opts *opts;
    lv_ca *keys; /* a context with keys only: no CA exists yet */
    lv_store *st;
    json_t *steps; /* transcript: what was done, in order */
    int64_t started;
} ceremony;

static void step(ceremony *c, const char *action, const char *object,
                 json_t *details)
{
    char when[32];
    lv_time_iso(lv_now(), when);
    json_array_append_new(c->steps, json_pack("{s:s, s:s, s:s, s:o}", "time",
                                              when, "action", action, "object",
                                              object, "details",
                                              details ? details : json_null()));
}

static int count_ca(const lv_ca_rec *rec, void *ctx)
{
    (void)rec;
    ++*(int *)ctx;
    return 0;
}

/* On PostgreSQL the installation is the database: one that holds CAs is
 * taken (opening it creates the schema in an empty one). */
static int refuse_existing_pg(const lv_config *cfg, lv_err *err)
{
    char db[1024];
    lv_store *st = NULL;
    int n = 0;
    LV_TRY(lv_config_store_location(cfg, db, sizeof db));
    LV_TRY(store_open(db, &st, err));
    int rc = store_ca_foreach(st, count_ca, &n, err);
    store_close(st);
    if (rc == 0 && n > 0)
        rc = lv_fail(err, LV_EEXISTS,
                     "the database of store_conninfo already holds a llave "
                     "installation; the ceremony runs once");
    return rc;
}

static int refuse_existing(const lv_config *cfg, lv_err *err)
{
    char path[1024];
    struct stat sb;
    if (lv_config_store_is_pg(cfg))
        LV_TRY(refuse_existing_pg(cfg, err));
    LV_TRY(lv_path_join(path, sizeof path, cfg->dir, "llave.db"));
    if (stat(path, &sb) == 0)
        return lv_fail(err, LV_EEXISTS,
                       "%s already holds a llave installation; the ceremony "
                       "runs once",
                       cfg->dir);
    return 0;
}

/* ---- CA certificates ------------------------------------------------------
 */

static int ca_name(const lv_config *cfg, const char *cn, X509_NAME **out,
                   lv_err *err)
{
    X509_NAME *dn = X509_NAME_new();
    int ok = dn &&
             X509_NAME_add_entry_by_NID(dn, NID_countryName, MBSTRING_UTF8,
                                        (const unsigned char *)cfg->org_country,
                                        -1, -1, 0) &&
             X509_NAME_add_entry_by_NID(dn, NID_organizationName, MBSTRING_UTF8,
                                        (const unsigned char *)cfg->org_name,
                                        -1, -1, 0) &&
             X509_NAME_add_entry_by_NID(
                 dn, NID_organizationIdentifier, MBSTRING_UTF8,
                 (const unsigned char *)cfg->org_id, -1, -1, 0) &&
             X509_NAME_add_entry_by_NID(dn, NID_commonName, MBSTRING_UTF8,
                                        (const unsigned char *)cn, -1, -1, 0);
    if (!ok) {
        X509_NAME_free(dn);
        return lv_fail_ssl(err, LV_EINVAL, "bad CA name '%s'", cn);
    }
    *out = dn;
    return 0;
}

/* The extendedKeyUsage of an issuing CA by role: what its certificates
 * may be used for, so that verifiers that chain EKUs (Go, Windows, NSS) and
 * the CA/B Forum (BR §7.1.2.10.6: serverAuth in the TLS CA and in no other)
 * agree.  No CA asserts OCSPSigning: a CA that did could answer for its
 * siblings (BR §7.1.2.10.6 forbids it); the delegated responders carry it
 * themselves (RFC 6960 §4.2.2.2). */
static const char *ca_eku(const char *role)
{
    if (strcmp(role, "tls") == 0)
        return "serverAuth";
    if (strcmp(role, "qualified") == 0)
        return "clientAuth,emailProtection,timeStamping";
    if (strcmp(role, "standard") == 0)
        return "clientAuth,emailProtection";
    return NULL; /* the root: unconstrained (BR §7.1.2.1.2) */
}

/* RFC 5280 §4.2.1.9/§4.2.1.3: CA:TRUE and keyCertSign,cRLSign, critical;
 * issuing CAs are pathlen 0 (R4.1), carry their role's EKU and point to the
 * root's CRL and OCSP over status_url (http: BR §7.1.2.10.3, .10.5). */
static int add_ca_extensions(X509 *cert, X509 *issuer, const char *role,
                             const lv_config *cfg, lv_err *err)
{
    char value[700];
    LV_TRY(profile_add_ext(
        cert, issuer, NID_basic_constraints,
        issuer ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE", err));
    LV_TRY(profile_add_ext(cert, issuer, NID_key_usage,
                           "critical,keyCertSign,cRLSign", err));
    LV_TRY(
        profile_add_ext(cert, issuer, NID_subject_key_identifier, "hash", err));
    if (issuer == NULL)
        return 0;
    LV_TRY(profile_add_ext(cert, issuer, NID_authority_key_identifier,
                           "keyid:always", err));
    if (ca_eku(role) != NULL)
        LV_TRY(profile_add_ext(cert, issuer, NID_ext_key_usage, ca_eku(role),
                               err));
    LV_TRY(profile_add_any_policy(cert, err));
    const char *base = lv_status_url(cfg);
    snprintf(value, sizeof value, "URI:%s/crl/%s.crl", base, cfg->root_name);
    LV_TRY(
        profile_add_ext(cert, issuer, NID_crl_distribution_points, value, err));
    snprintf(value, sizeof value, "OCSP;URI:%s/ocsp,caIssuers;URI:%s/ca/%s.crt",
             base, base, cfg->root_name);
    return profile_add_ext(cert, issuer, NID_info_access, value, err);
}

static int64_t years(int n)
{
    return (int64_t)(n * YEAR_DAYS * 86400.0);
}

typedef struct ca_spec {
    const char *name;
    const char *role;
    const char *cn;
    int years;
} ca_spec;

static int record_ca(ceremony *c, const lv_ca_rec *rec, lv_err *err)
{
    json_t *details =
        json_pack("{s:s, s:s, s:s, s:s}", "role", rec->role, "issuer",
                  rec->issuer, "serial", rec->serial, "key_id", rec->key_id);
    int rc = store_begin(c->st, err);
    if (rc == 0) {
        if ((rc = store_ca_insert(c->st, rec, err)) == 0 &&
            (rc = audit_log(c->st, ACTOR, "ca.create", rec->name,
                            LV_AUDIT_SUCCESS, details, err)) == 0)
            rc = store_commit(c->st, err);
        if (rc < 0)
            store_rollback(c->st);
    }
    step(c, "ca.create", rec->name, json_deep_copy(details));
    json_decref(details);
    return rc;
}

static int generate_key(ceremony *c, const char *type, const char *cls,
                        const char *label, char id[CA_KEY_ID_MAX + 1],
                        EVP_PKEY **pub, lv_err *err)
{
    LV_TRY(ca_key_generate(c->keys, type, cls, label, id, pub, err));
    json_t *details =
        json_pack("{s:s, s:s, s:s}", "key_id", id, "type", type, "class", cls);
    int rc = audit_log_standalone(c->st, ACTOR, "key.generate", label,
                                  LV_AUDIT_SUCCESS, details, err);
    step(c, "key.generate", label, details);
    return rc;
}

/* One CA: key in the key store (R4.2), certificate, store record. */
static int create_ca(ceremony *c, const ca_spec *spec, X509 *issuer_cert,
                     const char *issuer_name, const char *issuer_key,
                     X509 **cert_out, char key_id[CA_KEY_ID_MAX + 1],
                     lv_err *err)
{
    EVP_PKEY *pub = NULL;
    X509_NAME *dn = NULL;
    X509 *cert = NULL;
    lv_ca_rec rec = {0};
    int64_t now = lv_now();
    int rc = generate_key(c, "rsa4096", "ca", spec->name, key_id, &pub, err);
    if (rc == 0)
        rc = ca_name(c->cfg, spec->cn, &dn, err);
    ca_cert_params params = {dn, pub, issuer_cert, now,
                             now + years(spec->years)};
    if (rc == 0)
        rc = ca_cert_new(&params, &cert, err);
    if (rc == 0)
        rc = add_ca_extensions(cert, issuer_cert, spec->role, c->cfg, err);
    if (rc == 0)
        rc = ca_sign_cert(c->keys, issuer_key ? issuer_key : key_id, cert, err);
    if (rc == 0)
        rc = ca_rec_fill(&rec, spec->name, spec->role,
                         issuer_name ? issuer_name : spec->name, key_id, cert);
    if (rc == 0)
        rc = record_ca(c, &rec, err);
    OPENSSL_free(rec.cert_der);
    EVP_PKEY_free(pub);
    X509_NAME_free(dn);
    if (rc < 0) {
        X509_free(cert);
        return rc;
    }
    *cert_out = cert;
    return 0;
}

static int create_hierarchy(ceremony *c, lv_err *err)
{
    const lv_config *cfg = c->cfg;
    ca_spec root = {cfg->root_name, "root", cfg->root_cn, ROOT_YEARS};
    ca_spec issuing[] = {
        {cfg->qualified_name, "qualified", cfg->qualified_cn, ISSUING_YEARS},
        {cfg->standard_name, "standard", cfg->standard_cn, ISSUING_YEARS},
        {cfg->tls_name, "tls", cfg->tls_cn, ISSUING_YEARS}};
    char root_key[CA_KEY_ID_MAX + 1], key[CA_KEY_ID_MAX + 1];
    X509 *root_cert = NULL, *cert = NULL;
    int rc = create_ca(c, &root, NULL, NULL, NULL, &root_cert, root_key, err);
    for (size_t i = 0; rc == 0 && i < sizeof issuing / sizeof issuing[0]; i++) {
        rc = create_ca(c, &issuing[i], root_cert, cfg->root_name, root_key,
                       &cert, key, err);
        X509_free(cert);
        cert = NULL;
    }
    X509_free(root_cert);
    return rc;
}

/* ---- the provider's own end-entity certificates ---------------------------
 */

static int record_service(ceremony *c, const char *name, const char *role,
                          const char *issuer, const lv_issue_result *r,
                          lv_err *err)
{
    lv_ca_rec rec = {0};
    LV_TRY(ca_rec_fill(&rec, name, role, issuer, r->key_id, r->cert));
    int rc = record_ca(c, &rec, err);
    OPENSSL_free(rec.cert_der);
    return rc;
}

static int issue_service(ceremony *c, lv_ca *ca, const char *profile,
                         const char *name, const char *role, const char *cn,
                         const char *issuer, lv_err *err)
{
    json_t *subject = ca_provider_subject(c->cfg, cn);
    lv_issue_req req = {profile, subject, NULL, NULL, ACTOR, NULL, NULL};
    lv_issue_result r;
    int rc = ca_issue_by(ca, c->st, &req, ca_entry_find(ca, issuer), &r, err);
    json_decref(subject);
    if (rc == 0) {
        step(c, "key.generate", name,
             json_pack("{s:s, s:s}", "key_id", r.key_id, "class", "service"));
        step(c, "cert.issue", name,
             json_pack("{s:s, s:s}", "profile", profile, "serial", r.serial));
        rc = record_service(c, name, role, issuer, &r, err);
    }
    ca_issue_result_free(&r);
    return rc;
}

static int create_services(ceremony *c, lv_err *err)
{
    const lv_config *cfg = c->cfg;
    lv_ca *ca = NULL;
    char name[40], cn[160];
    LV_TRY(ca_open(cfg, c->st, KEYD_CALLER_CONSOLE, &ca, err));
    snprintf(cn, sizeof cn, "%s TSU 1", cfg->org_name);
    int rc =
        issue_service(c, ca, "tsa", "tsa", "tsa", cn, cfg->qualified_name, err);
    const char *cas[] = {cfg->root_name, cfg->qualified_name,
                         cfg->standard_name, cfg->tls_name};
    const char *cns[] = {cfg->root_cn, cfg->qualified_cn, cfg->standard_cn,
                         cfg->tls_cn};
    for (size_t i = 0; rc == 0 && i < sizeof cas / sizeof cas[0]; i++) {
        snprintf(name, sizeof name, "%s-ocsp", cas[i]);
        snprintf(cn, sizeof cn, "%.40s OCSP Responder", cns[i]);
        rc = issue_service(c, ca, "ocsp-responder", name, "ocsp", cn, cas[i],
                           err);
    }
    /* R9.2: the audit-seal key too, now: a service key is made only by the
     * console (keyd's generate_key), never by the running llaved */
    lv_audit_sealing how;
    lv_audit_signer signer;
    lv_ca_rec seal = {0};
    custody_audit_sealing(ca, &how);
    if (rc == 0 &&
        (rc = audit_seal_signer(&how, c->st, ACTOR, &signer, err)) == 0 &&
        (rc = store_ca_get(c->st, signer.name, &seal, err)) == 0)
        step(c, "ca.create", seal.name,
             json_pack("{s:s, s:s}", "role", seal.role, "serial", seal.serial));
    store_ca_rec_free(&seal);
    ca_close(ca);
    return rc;
}

/* ---- transcript, shares -----------------------------------------------------
 */

static int write_transcript(ceremony *c, const char *root_key, lv_err *err)
{
    char dir[1024], path[1100], started[32], finished[32];
    lv_time_iso(c->started, started);
    lv_time_iso(lv_now(), finished);
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:i, s:i, s:O}", "ceremony",
                  "llave key ceremony (CPS 6.1.1)", "started", started,
                  "finished", finished, "participants",
                  c->opts->participants ? c->opts->participants : "", "demo",
                  c->opts->demo, "oid_arc", c->cfg->oid_arc, "shares_total",
                  KEYD_SHARES_TOTAL, "shares_needed", KEYD_SHARES_NEEDED,
                  "steps", c->steps);
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    if (text == NULL)
        return LV_ENOMEM;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    int rc = lv_path_join(dir, sizeof dir, c->cfg->dir, "ceremony");
    if (rc == 0)
        rc = lv_mkdir_p(dir, 0750, err);
    if (rc == 0)
        rc = lv_path_join(path, sizeof path, dir, "transcript.json");
    if (rc == 0)
        rc = lv_file_write(path, text, strlen(text), 0640, err);
    /* verifiable by anyone: openssl dgst -sha256 -verify root-pub.pem */
    if (rc == 0)
        rc = ca_key_sign(c->keys, root_key, EVP_sha256(),
                         (const unsigned char *)text, strlen(text), &sig,
                         &sig_len, err);
    if (rc == 0)
        rc = lv_path_join(path, sizeof path, dir, "transcript.sig");
    if (rc == 0)
        rc = lv_file_write(path, sig, sig_len, 0640, err);
    free(sig); /* keyc allocates with malloc */
    free(text);
    return rc;
}

static int run(ceremony *c, lv_err *err)
{
    char db[1024];
    LV_TRY(ca_open_keys_only(c->cfg, KEYD_CALLER_CONSOLE, &c->keys, err));
    LV_TRY(lv_config_store_location(c->cfg, db, sizeof db));
    LV_TRY(store_open(db, &c->st, err));
    json_t *start =
        json_pack("{s:s, s:b}", "participants",
                  c->opts->participants ? c->opts->participants : "", "demo",
                  c->opts->demo);
    int started =
        audit_log_standalone(c->st, ACTOR, "ceremony.start", c->cfg->dir,
                             LV_AUDIT_SUCCESS, start, err);
    json_decref(start);
    LV_TRY(started);
    LV_TRY(create_hierarchy(c, err));
    LV_TRY(create_services(c, err));
    lv_ca_rec root;
    LV_TRY(store_ca_get(c->st, c->cfg->root_name, &root, err));
    int rc = write_transcript(c, root.key_id, err);
    store_ca_rec_free(&root);
    LV_TRY(rc);
    return audit_log_standalone(c->st, ACTOR, "ceremony.finish", c->cfg->dir,
                                LV_AUDIT_SUCCESS, NULL, err);
}

int custody_ceremony_prepare(const lv_config *cfg, const lv_ceremony_opts *opts,
                             lv_err *err)
{
    lv_config saved = *cfg;
    saved.demo = opts->demo;
    LV_TRY(refuse_existing(cfg, err));
    LV_TRY(lv_mkdir_p(cfg->dir, 0700, err));
    return lv_config_save(&saved, err);
}

int custody_ceremony(const lv_config *cfg, const lv_ceremony_opts *opts,
                     lv_err *err)
{
    ceremony c = {cfg, opts, NULL, NULL, json_array(), lv_now()};
    int rc = c.steps ? run(&c, err) : lv_fail(err, LV_ENOMEM, "out of memory");
    json_decref(c.steps);
    store_close(c.st);
    ca_close(c.keys);
    return rc;
}

/* ---- shared with the key change-over (lifecycle.c) ------------------------
 */

int custody_ca_extensions(X509 *cert, X509 *issuer, const char *role,
                          const lv_config *cfg, lv_err *err)
{
    return add_ca_extensions(cert, issuer, role, cfg, err);
}
