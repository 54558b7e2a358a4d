/* llave -d DIR cert issue PROFILE --subject FILE.json [--csr REQ.pem]
 *        [--out CERT.pem] [--p12 OUT.p12 --p12-password-file FILE]
 * llave -d DIR cert show SERIAL */
#include "cli/cli.h"
#include "store/store_cert.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAX_INPUT ((size_t)1024 * 1024)

typedef struct issue_args {
    const char *profile;
    const char *subject;
    const char *csr;
    const char *out;
    const char *p12;
    const char *p12_password_file;
} issue_args;

static int parse_issue(int argc, char **argv, issue_args *a)
{
    const cli_option opts[] = {{"--subject", &a->subject},
                               {"--csr", &a->csr},
                               {"--out", &a->out},
                               {"--p12", &a->p12},
                               {"--p12-password-file", &a->p12_password_file},
                               {NULL, NULL}};
    int rc = cli_options(argc, argv, 2, opts, &a->profile, "cert issue");
    if (rc != 0)
        return rc;
    if (a->profile == NULL || a->subject == NULL)
        return cli_usage_error("cert issue: PROFILE and --subject are needed");
    if ((a->p12 == NULL) != (a->p12_password_file == NULL))
        return cli_usage_error("cert issue: --p12 and --p12-password-file go "
                               "together");
    return 0;
}

static int read_csr(const char *path, X509_REQ **out, lv_err *err)
{
    unsigned char *data = NULL;
    size_t len = 0;
    LV_TRY(lv_file_read(path, &data, &len, CLI_MAX_INPUT, err));
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    X509_REQ *req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
    if (req == NULL) {
        /* also accept DER */
        const unsigned char *p = data;
        req = d2i_X509_REQ(NULL, &p, (long)len);
    }
    BIO_free(bio);
    free(data);
    if (req == NULL)
        return lv_fail_ssl(err, LV_EINVAL, "%s is not a PKCS#10 request", path);
    *out = req;
    return 0;
}

static int read_password(const char *path, char *out, size_t cap, lv_err *err)
{
    unsigned char *data = NULL;
    size_t len = 0;
    LV_TRY(lv_file_read(path, &data, &len, cap - 1, err));
    memcpy(out, data, len);
    out[len] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    OPENSSL_clear_free(data, len);
    return 0;
}

static int issue(cli_ctx *ctx, const issue_args *a, lv_err *err)
{
    json_t *subject = NULL;
    X509_REQ *csr = NULL;
    char password[256] = "";
    lv_issue_result r;
    memset(&r, 0, sizeof r);
    int rc = lv_json_load_file(a->subject, &subject, err);
    if (rc == 0 && a->csr)
        rc = read_csr(a->csr, &csr, err);
    if (rc == 0 && a->p12_password_file)
        rc =
            read_password(a->p12_password_file, password, sizeof password, err);
    /* CPS §6.1.2: the subscriber's key pair, made here in the console and
     * delivered as PKCS#12; ca/ keeps no copy (CPS §6.2.3) */
    EVP_PKEY *p12_key = NULL;
    if (rc == 0 && a->p12_password_file && !a->csr &&
        !(p12_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)))
        rc = lv_fail_ssl(err, LV_ECRYPTO, "key generation failed");
    if (rc == 0)
        rc = cli_open(ctx, CLI_NEED_CA | CLI_NEED_KEYS, err);
    lv_issue_req req = {
        a->profile, subject, csr,    a->p12_password_file ? password : NULL,
        ctx->actor, NULL,    p12_key};
    if (rc == 0)
        rc = ca_issue(ctx->ca, ctx->st, &req, &r, err);
    if (rc == 0)
        rc = cli_write_cert_pem(a->out, r.cert, err);
    if (rc == 0 && a->p12)
        rc = lv_file_write(a->p12, r.p12, r.p12_len, 0600, err);
    if (rc == 0)
        fprintf(stderr, "issued %s serial=%s%s%s\n", a->profile, r.serial,
                r.key_id[0] ? " key=" : "", r.key_id);
    OPENSSL_cleanse(password, sizeof password);
    ca_issue_result_free(&r);
    X509_REQ_free(csr);
    EVP_PKEY_free(p12_key);
    json_decref(subject);
    return rc;
}

static int issue_cmd(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    issue_args a = {0};
    int rc = parse_issue(argc, argv, &a);
    return rc != 0 ? rc : cli_report(issue(ctx, &a, &err), &err);
}

/* cert show SERIAL */
static int show(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    lv_cert_rec rec;
    (void)argc;
    LV_TRY(cli_open(ctx, CLI_NEED_STORE, err));
    LV_TRY(store_cert_get(ctx->st, argv[2], &rec, err));
    const unsigned char *p = rec.der;
    X509 *cert = d2i_X509(NULL, &p, (long)rec.der_len);
    printf("serial=%s profile=%s ca=%s status=%s subject=%s\n", rec.serial,
           rec.profile, rec.ca,
           rec.status == LV_CERT_VALID ? "valid" : "revoked", rec.subject_dn);
    int rc = cert ? cli_write_cert_pem(NULL, cert, err) : LV_ESTORE;
    X509_free(cert);
    store_cert_rec_free(&rec);
    return rc;
}

int cli_cert(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"issue", .run = issue_cmd},
        {"show", .argc = 3, .act = show},
        {"revoke", .run = cli_cert_revoke},
        {"publish", .run = cli_cert_publish},
        {.usage = "cert: expected `issue`, `show`, `revoke` or `publish`"}};
    return cli_dispatch(ctx, argc, argv, subs);
}
