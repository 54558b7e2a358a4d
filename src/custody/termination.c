/* Termination of the service (R9.6, CPS §4.9.9, §5.8; issue 8): everything
 * another provider needs to keep answering for our certificates, in one
 * directory with a signed manifest:
 *
 *   ca/<name>.pem          every CA, TSU, OCSP-responder and audit-seal
 *                          certificate (ocsp/ repeats the responders)
 *   crl/<ca>.crl           the newest CRL of every CA (DER)
 *   certs/<SERIAL>.der     every issued certificate
 *   certificates.jsonl     one line per certificate: status, revocation
 *                          time, reason, requester, authority, SHA-256
 *   index/<ca>.txt         OpenSSL "ca" index of each CA, servable with
 *                          `openssl ocsp -index index/<ca>.txt -CA ...`
 *   manifest.json          every file with its SHA-256
 *   manifest.sig           SHA-256 with RSA by the audit-seal key, whose
 *                          certificate is ca/<signer>.pem */
#include "custody/custody_internal.h"

#include <errno.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* openssl ca's reason names (apps/ca.c crl_reasons); RFC 5280 reasons it
 * lacks (privilegeWithdrawn, aACompromise) are exported without one. */
static const char *const INDEX_REASONS[] = {
    "unspecified",        "keyCompromise", "CACompromise",
    "affiliationChanged", "superseded",    "cessationOfOperation"};

typedef struct term {
    lv_ca *ca;
    lv_store *st;
    const char *out;
    json_t *files; /* manifest entries */
    FILE *jsonl;
    FILE *index; /* of the CA being walked */
    lv_termination_result *res;
    lv_err *err;
} term;

static int put_file(term *t, const char *rel, const void *data, size_t len)
{
    char path[1200], hex[65];
    LV_TRY(lv_path_join(path, sizeof path, t->out, rel));
    LV_TRY(lv_file_write(path, data, len, 0644, t->err));
    LV_TRY(lv_sha256_hex(data, len, hex));
    return json_array_append_new(
               t->files, json_pack("{s:s, s:s, s:I}", "path", rel, "sha256",
                                   hex, "bytes", (json_int_t)len)) == 0
               ? 0
               : LV_ENOMEM;
}

static int put_pem(term *t, const char *rel, const unsigned char *der,
                   size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n =
        x && b && PEM_write_bio_X509(b, x) ? BIO_get_mem_data(b, &data) : 0;
    int rc = n > 0 ? put_file(t, rel, data, (size_t)n)
                   : lv_fail_ssl(t->err, LV_ECRYPTO, "cannot write %s", rel);
    BIO_free(b);
    X509_free(x);
    return rc;
}

/* ---- CAs and their CRLs ----------------------------------------------------
 */
static int export_ca(const lv_ca_rec *rec, void *arg)
{
    term *t = arg;
    char rel[96];
    lv_crl_rec crl;
    snprintf(rel, sizeof rel, "ca/%s.pem", rec->name);
    LV_TRY(put_pem(t, rel, rec->cert_der, rec->cert_len));
    if (strcmp(rec->role, "ocsp") == 0) {
        snprintf(rel, sizeof rel, "ocsp/%s.pem", rec->name);
        LV_TRY(put_pem(t, rel, rec->cert_der, rec->cert_len));
    }
    int rc = store_crl_latest(t->st, rec->name, 1, &crl, t->err);
    if (rc == LV_ENOTFOUND)
        return 0;
    LV_TRY(rc);
    snprintf(rel, sizeof rel, "crl/%s.crl", rec->name);
    rc = put_file(t, rel, crl.der, crl.der_len);
    store_crl_rec_free(&crl);
    t->res->crls += rc == 0;
    return rc;
}

/* ---- certificates ----------------------------------------------------------
 */
static int time_text(int64_t when, char *out, size_t cap)
{
    ASN1_TIME *at = ASN1_TIME_set(NULL, (time_t)when);
    int ok = at && (size_t)ASN1_STRING_length(at) < cap;
    if (ok)
        snprintf(out, cap, "%.*s", ASN1_STRING_length(at),
                 (const char *)ASN1_STRING_get0_data(at));
    ASN1_TIME_free(at);
    return ok ? 0 : LV_ECRYPTO;
}

/* One line of openssl ca's index: status, expiry, revocation[,reason],
 * serial, file name ("unknown"), subject. */
static int index_line(term *t, const lv_cert_rec *c, X509 *x)
{
    char subject[512], revoked[64] = "";
    const ASN1_TIME *na = X509_get0_notAfter(x);
    X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
    if (c->status == LV_CERT_REVOKED) {
        LV_TRY(time_text(c->revoked_at, revoked, sizeof revoked));
        if (c->revocation_reason >= 0 && c->revocation_reason <= 5)
            snprintf(revoked + strlen(revoked),
                     sizeof revoked - strlen(revoked), ",%s",
                     INDEX_REASONS[c->revocation_reason]);
    }
    fprintf(t->index, "%c\t%.*s\t%s\t%s\tunknown\t%s\n",
            c->status == LV_CERT_REVOKED ? 'R' : 'V', ASN1_STRING_length(na),
            (const char *)ASN1_STRING_get0_data(na), revoked, c->serial,
            subject);
    return 0;
}

static int cert_json(term *t, const lv_cert_rec *c, const char *hex)
{
    lv_cert_status cs = {0};
    char nb[32], na[32], rv[32] = "";
    int rc = store_cert_status_get(t->st, c->serial, &cs, t->err);
    if (rc < 0)
        return rc; /* the export states requester and authority, or fails */
    lv_time_iso(c->not_before, nb);
    lv_time_iso(c->not_after, na);
    if (c->status == LV_CERT_REVOKED)
        lv_time_iso(c->revoked_at, rv);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s*, s:i, s:s*, "
        "s:s*, s:s*, s:b, s:s, s:s}",
        "serial", c->serial, "ca", c->ca, "profile", c->profile, "subject",
        c->subject_dn, "subject_id", c->subject_id, "subscriber_id",
        c->subscriber_id, "not_before", nb, "not_after", na, "status",
        c->status == LV_CERT_REVOKED ? "revoked" : "valid", "revoked_at",
        rv[0] ? rv : NULL, "reason_code", c->revocation_reason, "reason",
        c->status == LV_CERT_REVOKED ? ca_reason_name(c->revocation_reason)
                                     : NULL,
        "requester", cs.requester[0] ? cs.requester : NULL, "authority",
        cs.authority[0] ? cs.authority : NULL, "test", c->test, "sha256", hex,
        "der", "");
    char rel[96];
    snprintf(rel, sizeof rel, "certs/%s.der", c->serial);
    json_object_set_new(o, "der", json_string(rel));
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!line)
        return LV_ENOMEM;
    fprintf(t->jsonl, "%s\n", line);
    free(line);
    return 0;
}

static int export_cert(term *t, const char *serial)
{
    lv_cert_rec c;
    char rel[96], hex[65];
    LV_TRY(store_cert_get(t->st, serial, &c, t->err));
    const unsigned char *p = c.der;
    X509 *x = d2i_X509(NULL, &p, (long)c.der_len);
    snprintf(rel, sizeof rel, "certs/%s.der", c.serial);
    int rc =
        x ? 0 : lv_fail(t->err, LV_ESTORE, "certificate %s: bad DER", serial);
    if (rc == 0)
        rc = put_file(t, rel, c.der, c.der_len);
    if (rc == 0)
        rc = lv_sha256_hex(c.der, c.der_len, hex);
    if (rc == 0)
        rc = cert_json(t, &c, hex);
    if (rc == 0)
        rc = index_line(t, &c, x);
    t->res->certificates++;
    t->res->revoked += c.status == LV_CERT_REVOKED;
    X509_free(x);
    store_cert_rec_free(&c);
    return rc;
}

typedef struct page {
    char serials[256][65];
    int n;
} page;

static int page_add(const char *serial, void *arg)
{
    page *pg = arg;
    snprintf(pg->serials[pg->n++], 65, "%s", serial);
    return 0;
}

static int export_ca_certs(term *t, const char *ca_name)
{
    char after[65] = "", path[1200], rel[96];
    page *pg = malloc(sizeof *pg);
    int rc = pg ? 0 : LV_ENOMEM;
    snprintf(rel, sizeof rel, "index/%s.txt", ca_name);
    if (rc == 0)
        rc = lv_path_join(path, sizeof path, t->out, rel);
    if (rc == 0 && !(t->index = fopen(path, "w")))
        rc = lv_fail(t->err, LV_EIO, "%s: %s", path, strerror(errno));
    while (rc == 0) {
        pg->n = 0;
        rc = store_cert_foreach_serial(t->st, ca_name, after, 256, page_add, pg,
                                       t->err);
        for (int i = 0; rc == 0 && i < pg->n; i++)
            rc = export_cert(t, pg->serials[i]);
        if (rc < 0 || pg->n < 256)
            break;
        memcpy(after, pg->serials[pg->n - 1], sizeof after);
    }
    if (t->index && fclose(t->index) != 0 && rc == 0)
        rc = lv_fail(t->err, LV_EIO, "cannot write %s", path);
    t->index = NULL;
    free(pg);
    return rc;
}

/* Only CAs that issue certificates have an index (not TSUs, responders). */
static int walk_issuers(const lv_ca_rec *rec, void *arg)
{
    term *t = arg;
    if (!lv_ca_role_issues(rec->role, 1))
        return 0;
    return export_ca_certs(t, rec->name);
}

/* The index files and the JSON lines were streamed; record their hashes
 * once complete. */
static int record_streamed(term *t, const char *rel)
{
    char path[1200];
    unsigned char *data = NULL;
    size_t len = 0;
    LV_TRY(lv_path_join(path, sizeof path, t->out, rel));
    LV_TRY(lv_file_read(path, &data, &len, (size_t)1 << 34, t->err));
    int rc = put_file(t, rel, data, len);
    free(data);
    return rc;
}

static int record_indexes(const lv_ca_rec *rec, void *arg)
{
    char rel[96];
    if (!lv_ca_role_issues(rec->role, 1))
        return 0;
    snprintf(rel, sizeof rel, "index/%s.txt", rec->name);
    return record_streamed(arg, rel);
}

/* ---- output directory and manifest ----------------------------------------
 */
static int prepare_dirs(const char *out, lv_err *err)
{
    static const char *const SUB[] = {"ca", "crl", "certs", "index", "ocsp"};
    char path[1200];
    if (lv_dir_empty(out, NULL) == 0)
        return lv_fail(err, LV_EEXISTS, "%s is not empty", out);
    for (size_t i = 0; i < sizeof SUB / sizeof SUB[0]; i++) {
        LV_TRY(lv_path_join(path, sizeof path, out, SUB[i]));
        LV_TRY(lv_mkdir_p(path, 0755, err));
    }
    return 0;
}

static int sign_manifest(term *t, const lv_audit_signer *signer)
{
    char created[32], path[1200];
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    lv_time_iso(lv_now(), created);
    json_t *m = json_pack(
        "{s:s, s:i, s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I}, s:O}", "format",
        "llave-termination", "version", 1, "created", created, "provider",
        ca_config(t->ca)->org_name, "signer", signer->name, "signature",
        "manifest.sig: sha256WithRSAEncryption by ca/<signer>.pem", "counts",
        "certificates", (json_int_t)t->res->certificates, "revoked",
        (json_int_t)t->res->revoked, "crls", (json_int_t)t->res->crls, "files",
        t->files);
    char *text = m ? json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(m);
    int rc = text ? 0 : LV_ENOMEM;
    if (rc == 0)
        rc = lv_path_join(path, sizeof path, t->out, "manifest.json");
    if (rc == 0)
        rc = lv_file_write(path, text, strlen(text), 0644, t->err);
    if (rc == 0)
        rc = ca_key_sign(t->ca, signer->key_id, EVP_sha256(),
                         (const unsigned char *)text, strlen(text), &sig,
                         &sig_len, t->err);
    if (rc == 0)
        rc = lv_path_join(path, sizeof path, t->out, "manifest.sig");
    if (rc == 0)
        rc = lv_file_write(path, sig, sig_len, 0644, t->err);
    free(sig);
    free(text);
    return rc;
}

static int run(term *t, const char *actor)
{
    char path[1200];
    lv_audit_sealing how;
    lv_audit_signer signer;
    lv_seal_result sealed;
    /* The manifest is signed by the audit-seal key; sealing first also
     * creates that key on installations that have none yet, and seals the
     * trail as it stands at the end of service. */
    custody_audit_sealing(t->ca, &how);
    LV_TRY(audit_seal(&how, t->st, actor, &sealed, t->err));
    LV_TRY(prepare_dirs(t->out, t->err));
    LV_TRY(store_ca_foreach(t->st, export_ca, t, t->err));
    LV_TRY(lv_path_join(path, sizeof path, t->out, "certificates.jsonl"));
    if (!(t->jsonl = fopen(path, "w")))
        return lv_fail(t->err, LV_EIO, "%s: %s", path, strerror(errno));
    int rc = store_ca_foreach(t->st, walk_issuers, t, t->err);
    if (fclose(t->jsonl) != 0 && rc == 0)
        rc = lv_fail(t->err, LV_EIO, "cannot write %s", path);
    LV_TRY(rc);
    LV_TRY(record_streamed(t, "certificates.jsonl"));
    LV_TRY(store_ca_foreach(t->st, record_indexes, t, t->err));
    LV_TRY(audit_seal_signer(&how, t->st, actor, &signer, t->err));
    return sign_manifest(t, &signer);
}

int custody_termination_export(lv_ca *ca, lv_store *st, const char *outdir,
                               const char *actor, lv_termination_result *out,
                               lv_err *err)
{
    memset(out, 0, sizeof *out);
    LV_TRY(ca_need_keys(ca, "the manifest is signed with the audit-seal key",
                        err));
    term t = {ca, st, outdir, json_array(), NULL, NULL, out, err};
    int rc = t.files ? run(&t, actor) : LV_ENOMEM;
    json_decref(t.files);
    json_t *d =
        json_pack("{s:s, s:I, s:I, s:I}", "outdir", outdir, "certificates",
                  (json_int_t)out->certificates, "revoked",
                  (json_int_t)out->revoked, "crls", (json_int_t)out->crls);
    lv_err ignored = {0};
    audit_log_standalone(st, actor, "termination.export", outdir,
                         rc < 0 ? LV_AUDIT_FAILURE : LV_AUDIT_SUCCESS, d,
                         &ignored);
    json_decref(d);
    return rc;
}
