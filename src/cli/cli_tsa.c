/* llave -d DIR tsa stamp FILE [--out FILE.tsr] [--unit NAME]
 *                            [--digest sha256|sha384|sha512] [--no-cert]
 * llave -d DIR tsa add-unit NAME [--key-type ec-p256|ec-p384|rsa4096]
 *                                [--cn CN]
 * llave -d DIR tsa units
 *
 * The operator's side of the time-stamp authority (R7.1): `stamp` builds
 * the same RFC 3161 request a client would and answers it through
 * tsa_respond, the function behind POST /tsa, so that the token it
 * writes is exactly what the service would give; `add-unit` adds a
 * time-stamping unit (for example ECDSA P-256, R4.1); `units` lists them
 * with the clock as the guard of R7.2 judges it. */
#include "cli/cli.h"
#include "store/store_ca.h"
#include "tsa/tsa.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ts.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct stamp_args {
    const char *file;
    const char *out;
    const char *unit;
    const char *digest;
    int no_cert;
} stamp_args;

/* ---- tsa stamp ----------------------------------------------------------- */

static int parse_stamp(int argc, char **argv, stamp_args *a)
{
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        int more = i + 1 < argc;
        if (strcmp(opt, "--out") == 0 && more)
            a->out = argv[++i];
        else if (strcmp(opt, "--unit") == 0 && more)
            a->unit = argv[++i];
        else if (strcmp(opt, "--digest") == 0 && more)
            a->digest = argv[++i];
        else if (strcmp(opt, "--no-cert") == 0)
            a->no_cert = 1;
        else if (opt[0] != '-' && a->file == NULL)
            a->file = opt;
        else
            return cli_usage_error("tsa stamp: unexpected argument %s", opt);
    }
    return a->file ? 0 : cli_usage_error("tsa stamp: missing FILE");
}

/* Streams the file through the digest: a document may be larger than
 * memory. */
static int digest_file(const char *path, const EVP_MD *md, unsigned char *out,
                       unsigned int *len, lv_err *err)
{
    unsigned char buf[65536];
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = f && ctx && EVP_DigestInit_ex(ctx, md, NULL);
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, n);
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, out, len);
    if (f)
        fclose(f);
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : lv_fail(err, LV_EIO, "cannot read %s", path);
}

static int imprint_set(TS_REQ *req, const EVP_MD *md, unsigned char *digest,
                       unsigned int len)
{
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    int ok = mi && alg && (X509_ALGOR_set_md(alg, md), 1) &&
             TS_MSG_IMPRINT_set_algo(mi, alg) &&
             TS_MSG_IMPRINT_set_msg(mi, digest, (int)len) &&
             TS_REQ_set_msg_imprint(req, mi);
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(mi);
    return ok;
}

/* A 64-bit random nonce, as `openssl ts -query` sends (RFC 3161 §2.4.1). */
static int nonce_set(TS_REQ *req)
{
    unsigned char raw[8];
    if (lv_random(raw, sizeof raw) < 0)
        return 0;
    BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
    ASN1_INTEGER *nonce = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    int ok = nonce && TS_REQ_set_nonce(req, nonce);
    ASN1_INTEGER_free(nonce);
    BN_free(bn);
    return ok;
}

static int build_request(const stamp_args *a, unsigned char **der, int *len,
                         lv_err *err)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    const EVP_MD *md = EVP_get_digestbyname(a->digest ? a->digest : "sha256");
    if (md == NULL)
        return lv_fail(err, LV_EINVAL, "unknown digest %s", a->digest);
    LV_TRY(digest_file(a->file, md, digest, &dlen, err));
    TS_REQ *req = TS_REQ_new();
    int ok = req && TS_REQ_set_version(req, 1) &&
             imprint_set(req, md, digest, dlen) && nonce_set(req) &&
             TS_REQ_set_cert_req(req, !a->no_cert);
    *len = ok ? i2d_TS_REQ(req, der) : -1;
    TS_REQ_free(req);
    return *len > 0 ? 0 : lv_fail_ssl(err, LV_ECRYPTO, "cannot build request");
}

/* RFC 3161 §2.4.2 PKIFailureInfo names, by bit. */
static const char *failure_name(const ASN1_BIT_STRING *fi)
{
    static const struct {
        int bit;
        const char *name;
    } names[] = {{TS_INFO_BAD_ALG, "badAlg"},
                 {TS_INFO_BAD_REQUEST, "badRequest"},
                 {TS_INFO_BAD_DATA_FORMAT, "badDataFormat"},
                 {TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"},
                 {TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"},
                 {TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"},
                 {TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"},
                 {TS_INFO_SYSTEM_FAILURE, "systemFailure"}};
    for (size_t i = 0; fi && i < sizeof names / sizeof names[0]; i++)
        if (ASN1_BIT_STRING_get_bit(fi, names[i].bit))
            return names[i].name;
    return "unspecified";
}

/* 0 and a summary line for a granted token; a message for a refusal. */
static int report_reply(const unsigned char *der, size_t len, lv_err *err)
{
    const unsigned char *p = der;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
    TS_STATUS_INFO *si = resp ? TS_RESP_get_status_info(resp) : NULL;
    TS_TST_INFO *tst = resp ? TS_RESP_get_tst_info(resp) : NULL;
    int rc = 0;
    if (si == NULL) {
        rc = lv_fail(err, LV_EINTERNAL, "unreadable TimeStampResp");
    } else if (ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)) != 0 || !tst) {
        const STACK_OF(ASN1_UTF8STRING) *text = TS_STATUS_INFO_get0_text(si);
        ASN1_UTF8STRING *t = sk_ASN1_UTF8STRING_value(text, 0);
        rc = lv_fail(err, LV_ESTATE, "time-stamp refused (%s): %.*s",
                     failure_name(TS_STATUS_INFO_get0_failure_info(si)),
                     t ? ASN1_STRING_length(t) : 0,
                     t ? (const char *)ASN1_STRING_get0_data(t) : "");
    } else {
        BIGNUM *serial = ASN1_INTEGER_to_BN(TS_TST_INFO_get_serial(tst), NULL);
        char *hex = serial ? BN_bn2hex(serial) : NULL;
        const ASN1_GENERALIZEDTIME *t = TS_TST_INFO_get_time(tst);
        printf("time-stamp granted: genTime %.*s serial %s\n",
               ASN1_STRING_length(t), (const char *)ASN1_STRING_get0_data(t),
               hex ? hex : "?");
        OPENSSL_free(hex);
        BN_free(serial);
    }
    TS_RESP_free(resp);
    return rc;
}

static int tsa_stamp(cli_ctx *ctx, int argc, char **argv)
{
    stamp_args a = {0};
    lv_err err = {0};
    unsigned char *req = NULL, *reply = NULL;
    size_t reply_len = 0;
    int req_len = 0;
    char out[1024];
    int rc = parse_stamp(argc, argv, &a);
    if (rc != 0)
        return rc;
    snprintf(out, sizeof out, "%s%s", a.out ? a.out : a.file,
             a.out ? "" : ".tsr");
    rc = cli_open(ctx, CLI_NEED_CA | CLI_NEED_KEYS, &err);
    if (rc == 0)
        rc = build_request(&a, &req, &req_len, &err);
    if (rc == 0)
        rc = tsa_respond(ctx->ca, ctx->st, a.unit, req, (size_t)req_len, &reply,
                         &reply_len, &err);
    if (rc == 0)
        rc = report_reply(reply, reply_len, &err);
    if (rc == 0)
        rc = lv_file_write(out, reply, reply_len, 0644, &err);
    if (rc == 0)
        printf("wrote %s\n", out);
    OPENSSL_free(req);
    OPENSSL_free(reply);
    return cli_report(rc, &err);
}

/* ---- tsa add-unit -------------------------------------------------------- */

static int add_unit_cmd(cli_ctx *ctx, int argc, char **argv)
{
    const char *name = NULL, *key_type = "rsa4096", *cn = NULL;
    char cn_default[160];
    lv_err err = {0};
    lv_issue_result r;
    const cli_option opts[] = {
        {"--key-type", &key_type}, {"--cn", &cn}, {NULL, NULL}};
    int rc = cli_options(argc, argv, 2, opts, &name, "tsa add-unit");
    if (rc != 0)
        return rc;
    if (name == NULL)
        return cli_usage_error("tsa add-unit: missing NAME");
    rc = cli_open(ctx, CLI_NEED_CA | CLI_NEED_KEYS, &err);
    if (rc == 0 && cn == NULL) {
        snprintf(cn_default, sizeof cn_default, "%.40s TSU %s",
                 ctx->cfg.org_name, name);
        cn = cn_default;
    }
    if (rc == 0)
        rc = tsa_add_unit(ctx->ca, ctx->st, name, cn, key_type, ctx->actor, &r,
                          &err);
    if (rc == 0) {
        printf("time-stamping unit %s: %s key, certificate %s; restart "
               "llaved to serve POST /tsa/%s\n",
               name, key_type, r.serial, name);
        ca_issue_result_free(&r);
    }
    return cli_report(rc, &err);
}

/* ---- tsa units
 * ------------------------------------------------------------------ */

static int print_unit(const lv_ca_rec *rec, void *arg)
{
    const lv_config *cfg = arg;
    const unsigned char *p = rec->cert_der;
    char until[32];
    if (strcmp(rec->role, "tsa") != 0)
        return 0;
    X509 *cert = d2i_X509(NULL, &p, (long)rec->cert_len);
    EVP_PKEY *key = cert ? X509_get0_pubkey(cert) : NULL;
    lv_time_iso(rec->not_after, until);
    printf("%c %-16s %-8s %s-%d serial=%s until=%s\n",
           strcmp(rec->name, cfg->tsa_unit) == 0 ? '*' : ' ', rec->name,
           rec->status, key ? EVP_PKEY_get0_type_name(key) : "?",
           key ? EVP_PKEY_get_bits(key) : 0, rec->serial, until);
    X509_free(cert);
    return 0;
}

static int tsa_units(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    lv_tsa_clock clock;
    char policy[160];
    (void)argc;
    (void)argv;
    LV_TRY(cli_open(ctx, CLI_NEED_CA, err));
    LV_TRY(store_ca_foreach(ctx->st, print_unit, &ctx->cfg, err));
    LV_TRY(tsa_policy(&ctx->cfg, policy, sizeof policy));
    tsa_clock(ctx->ca, &clock);
    printf("(* answers POST /tsa)  policy %s  accuracy %d ms\n", policy,
           ctx->cfg.tsa_accuracy_ms);
    printf("clock: %s%s (maxerror %ld us, esterror %ld us); guard %s\n",
           clock.usable ? "synchronized" : "NOT usable: ", clock.reason,
           clock.maxerror_us, clock.esterror_us,
           ctx->cfg.tsa_require_clock_sync ? "on"
                                           : "OFF (tsa_require_clock_sync)");
    return 0;
}

int cli_tsa(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"stamp", .run = tsa_stamp},
        {"add-unit", .run = add_unit_cmd},
        {"units", .argc = 2, .act = tsa_units},
        {.usage = "tsa: expected `stamp FILE`, `add-unit NAME` or `units`"}};
    return cli_dispatch(ctx, argc, argv, subs);
}
