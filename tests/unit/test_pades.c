/* Unit tests of pades/ (issue 14 item 4, ETSI EN 319 142-1): a small PDF
 * made by qpdf (classic cross-reference table, and one with object and
 * cross-reference streams), a test CA, signer and TSA made with OpenSSL in
 * memory, a signing callback with the signer's key and a time-stamp
 * callback answering with OpenSSL's TS_RESP_CTX.  Every output is judged by
 * tools nobody here wrote: qpdf --check, poppler's pdfsig against an NSS
 * database trusting the CA, openssl cms -verify on the /Contents and the
 * /ByteRange bytes (both extracted by qpdf --json), openssl ts -verify on
 * the time-stamps; and the bytes before the update are the input's. */
#include "pades/pades_internal.h"

// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include "testutil.h"

#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the PKI ------------------------------------------------------------ */

typedef struct pki {
    EVP_PKEY *ca_key, *signer_key, *tsa_key;
    X509 *ca, *signer, *tsa;
    STACK_OF(X509) *chain; /* the CA */
    STACK_OF(X509) *tsa_chain;
    unsigned char *ocsp, *crl;
    int ocsp_len, crl_len;
    char dir[512];
    char nss[600];
    int ts_wrong; /* the TSA stamps other data */
} pki;

static pki P;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(e);
    assert_true(X509_add_ext(x, e, -1));
    X509_EXTENSION_free(e);
}

/* issuer NULL: self-signed.  exts: nid/value pairs, 0-terminated. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key, const int *nids,
                       const char *const *values)
{
    static long serial = 1;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    assert_true(X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0));
    assert_true(X509_set_version(x, 2));
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++));
    assert_true(X509_set_subject_name(x, name));
    assert_true(
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name));
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365));
    assert_true(X509_set_pubkey(x, key));
    for (int i = 0; nids[i]; i++)
        add_ext(x, issuer ? issuer : x, nids[i], values[i]);
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()));
    X509_NAME_free(name);
    return x;
}

static void make_status(void)
{
    OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), P.signer, P.ca);
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    ASN1_TIME *now = X509_gmtime_adj(NULL, 0);
    ASN1_TIME *next = X509_gmtime_adj(NULL, 86400);
    assert_non_null(OCSP_basic_add1_status(bs, id, V_OCSP_CERTSTATUS_GOOD, 0,
                                           NULL, now, next));
    assert_true(OCSP_basic_sign(bs, P.ca, P.ca_key, EVP_sha256(), NULL, 0));
    OCSP_RESPONSE *r =
        OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    P.ocsp_len = i2d_OCSP_RESPONSE(r, &P.ocsp);
    X509_CRL *crl = X509_CRL_new();
    assert_true(X509_CRL_set_version(crl, 1));
    assert_true(X509_CRL_set_issuer_name(crl, X509_get_subject_name(P.ca)));
    assert_true(X509_CRL_set1_lastUpdate(crl, now));
    assert_true(X509_CRL_set1_nextUpdate(crl, next));
    assert_true(X509_CRL_sign(crl, P.ca_key, EVP_sha256()));
    P.crl_len = i2d_X509_CRL(crl, &P.crl);
    assert_true(P.ocsp_len > 0 && P.crl_len > 0);
    X509_CRL_free(crl);
    OCSP_RESPONSE_free(r);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(now);
    ASN1_TIME_free(next);
}

static void write_pem(const char *name, X509 *x)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", P.dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(PEM_write_X509(f, x));
    fclose(f);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "# failed (%d): %s\n", rc, cmd);
    return rc;
}

static void make_pki(void)
{
    static const int ca_n[] = {NID_basic_constraints, NID_key_usage, 0};
    static const char *const ca_v[] = {"critical,CA:TRUE",
                                       "critical,keyCertSign,cRLSign"};
    static const int ee_n[] = {NID_key_usage, 0};
    static const char *const ee_v[] = {
        "critical,digitalSignature,nonRepudiation"};
    static const int tsa_n[] = {NID_ext_key_usage, NID_key_usage, 0};
    static const char *const tsa_v[] = {"critical,timeStamping",
                                        "critical,digitalSignature"};
    P.ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    P.signer_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    P.tsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    P.ca = make_cert("llave PAdES test CA", P.ca_key, NULL, NULL, ca_n, ca_v);
    P.signer = make_cert("Firmante de Prueba", P.signer_key, P.ca, P.ca_key,
                         ee_n, ee_v);
    P.tsa =
        make_cert("llave test TSA", P.tsa_key, P.ca, P.ca_key, tsa_n, tsa_v);
    P.chain = sk_X509_new_null();
    P.tsa_chain = sk_X509_new_null();
    assert_true(sk_X509_push(P.chain, P.ca));
    assert_true(sk_X509_push(P.tsa_chain, P.tsa));
    make_status();
}

static int group_setup(void **state)
{
    (void)state;
    assert_int_equal(tu_tmpdir(P.dir, sizeof P.dir, "pades"), 0);
    make_pki();
    write_pem("ca.pem", P.ca);
    write_pem("tsa.pem", P.tsa);
    snprintf(P.nss, sizeof P.nss, "%s/nss", P.dir);
    assert_int_equal(run("mkdir -p %s && certutil -N -d sql:%s "
                         "--empty-password && certutil -A -n ca -t CT,C,C "
                         "-i %s/ca.pem -d sql:%s",
                         P.nss, P.nss, P.dir, P.nss),
                     0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tu_rmtree(P.dir);
    sk_X509_free(P.chain);
    sk_X509_free(P.tsa_chain);
    X509_free(P.ca);
    X509_free(P.signer);
    X509_free(P.tsa);
    EVP_PKEY_free(P.ca_key);
    EVP_PKEY_free(P.signer_key);
    EVP_PKEY_free(P.tsa_key);
    OPENSSL_free(P.ocsp);
    OPENSSL_free(P.crl);
    return 0;
}

/* ---- the callbacks --------------------------------------------------------
 */

static unsigned char *dup_mem(const unsigned char *p, size_t n)
{
    unsigned char *c = malloc(n);
    assert_non_null(c);
    memcpy(c, p, n);
    return c;
}

/* What llave-keyd does with a citizen's key: sign a digest. */
static int cb_sign(void *arg, const EVP_MD *md, const unsigned char *digest,
                   size_t digest_len, unsigned char **sig, size_t *sig_len,
                   lv_err *err)
{
    EVP_PKEY *key = arg;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
    unsigned char buf[1024];
    size_t len = sizeof buf;
    int ok = c && EVP_PKEY_sign_init(c) > 0 &&
             EVP_PKEY_CTX_set_signature_md(c, md) > 0 &&
             EVP_PKEY_sign(c, buf, &len, digest, digest_len) > 0;
    EVP_PKEY_CTX_free(c);
    if (!ok)
        return lv_fail(err, LV_ECRYPTO, "test signer failed");
    *sig = dup_mem(buf, len);
    *sig_len = len;
    return 0;
}

static TS_REQ *ts_req(const EVP_MD *md, const unsigned char *d, size_t n)
{
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    X509_ALGOR_set_md(alg, md);
    assert_true(TS_MSG_IMPRINT_set_algo(mi, alg));
    assert_true(TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)d, (int)n));
    assert_true(TS_REQ_set_version(req, 1));
    assert_true(TS_REQ_set_msg_imprint(req, mi));
    assert_true(TS_REQ_set_cert_req(req, 1));
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(mi);
    return req;
}

static TS_RESP_CTX *ts_ctx(void)
{
    TS_RESP_CTX *ctx = TS_RESP_CTX_new();
    ASN1_OBJECT *policy = OBJ_txt2obj("1.3.6.1.4.1.99999.7.1", 1);
    assert_true(TS_RESP_CTX_set_signer_cert(ctx, P.tsa));
    assert_true(TS_RESP_CTX_set_signer_key(ctx, P.tsa_key));
    assert_true(TS_RESP_CTX_set_def_policy(ctx, policy));
    assert_true(TS_RESP_CTX_set_certs(ctx, P.chain));
    assert_true(TS_RESP_CTX_add_md(ctx, EVP_sha256()));
    assert_true(TS_RESP_CTX_add_md(ctx, EVP_sha384()));
    assert_true(TS_RESP_CTX_add_md(ctx, EVP_sha512()));
    assert_true(TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()));
    assert_true(TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()));
    ASN1_OBJECT_free(policy);
    return ctx;
}

/* What our TSA does: an RFC 3161 token for the imprint. */
static int cb_ts(void *arg, const EVP_MD *md, const unsigned char *digest,
                 size_t digest_len, unsigned char **token, size_t *token_len,
                 lv_err *err)
{
    (void)arg;
    unsigned char other[EVP_MAX_MD_SIZE];
    memset(other, 0x42, sizeof other);
    TS_REQ *req = ts_req(md, P.ts_wrong ? other : digest, digest_len);
    BIO *b = BIO_new(BIO_s_mem());
    assert_true(i2d_TS_REQ_bio(b, req));
    TS_RESP_CTX *ctx = ts_ctx();
    TS_RESP *resp = TS_RESP_create_response(ctx, b);
    PKCS7 *tok = resp ? TS_RESP_get_token(resp) : NULL;
    unsigned char *der = NULL;
    int len = tok ? i2d_PKCS7(tok, &der) : -1;
    TS_RESP_free(resp);
    TS_RESP_CTX_free(ctx);
    BIO_free(b);
    TS_REQ_free(req);
    if (len <= 0)
        return lv_fail(err, LV_ECRYPTO, "test TSA failed");
    *token = dup_mem(der, (size_t)len);
    *token_len = (size_t)len;
    OPENSSL_free(der);
    return 0;
}

static pades_opts opts(pades_level level)
{
    static pades_der ocsp[1], crl[1];
    ocsp[0] = (pades_der){P.ocsp, (size_t)P.ocsp_len};
    crl[0] = (pades_der){P.crl, (size_t)P.crl_len};
    pades_opts o = {
        .level = level,
        .signer = P.signer,
        .chain = P.chain,
        .sign = cb_sign,
        .sign_arg = P.signer_key,
        .timestamp = cb_ts,
        .dss_certs = P.tsa_chain,
        .ocsps = ocsp,
        .n_ocsps = 1,
        .crls = crl,
        .n_crls = 1,
        .name = "Firmante de Prueba",
        .reason = "Conformidad (prueba, ñ)",
        .location = "Madrid",
    };
    return o;
}

/* ---- PDFs made by qpdf ----------------------------------------------------
 */

typedef enum {
    PDF_CLASSIC,
    PDF_XREF_STREAM,
    PDF_LINEARIZED,
    PDF_ENCRYPTED
} pdf_kind;

static unsigned char *make_pdf(pdf_kind kind, size_t *len)
{
    qpdf_data q = qpdf_init();
    assert_int_equal(qpdf_empty_pdf(q), QPDF_SUCCESS);
    qpdf_oh content = qpdf_oh_new_stream(q);
    static const char text[] =
        "BT /F1 24 Tf 72 720 Td (Documento de prueba) Tj ET\n";
    qpdf_oh_replace_stream_data(q, content, (const unsigned char *)text,
                                sizeof text - 1, qpdf_oh_new_null(q),
                                qpdf_oh_new_null(q));
    qpdf_oh page = qpdf_oh_parse(
        q, "<< /Type /Page /MediaBox [0 0 612 792] /Resources << /Font << "
           "/F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> "
           ">> >>");
    qpdf_oh_replace_key(q, page, "/Contents",
                        qpdf_make_indirect_object(q, content));
    assert_int_equal(
        qpdf_add_page(q, q, qpdf_make_indirect_object(q, page), QPDF_FALSE),
        QPDF_SUCCESS);
    assert_int_equal(qpdf_init_write_memory(q), QPDF_SUCCESS);
    qpdf_set_static_ID(q, QPDF_TRUE);
    if (kind == PDF_XREF_STREAM)
        qpdf_set_object_stream_mode(q, qpdf_o_generate);
    qpdf_set_linearization(q, kind == PDF_LINEARIZED);
    if (kind == PDF_ENCRYPTED)
        qpdf_set_r6_encryption_parameters2(q, "", "owner", QPDF_TRUE, QPDF_TRUE,
                                           QPDF_TRUE, QPDF_TRUE, QPDF_TRUE,
                                           QPDF_TRUE, qpdf_r3p_full, QPDF_TRUE);
    assert_int_equal(qpdf_write(q), QPDF_SUCCESS);
    *len = qpdf_get_buffer_length(q);
    unsigned char *pdf = dup_mem(qpdf_get_buffer(q), *len);
    qpdf_cleanup(&q);
    return pdf;
}

/* ---- reading the output back with qpdf --json -----------------------------
 */

static void write_file(const char *name, const void *data, size_t len)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", P.dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* qpdf's own view of every object (JSON v2, stream data inline). */
static json_t *qpdf_objects(const char *pdf_name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.json", P.dir, pdf_name);
    assert_int_equal(run("qpdf --json=2 --json-key=qpdf "
                         "--json-stream-data=inline %s/%s > %s",
                         P.dir, pdf_name, path),
                     0);
    json_error_t e;
    json_t *doc = json_load_file(path, 0, &e);
    assert_non_null(doc);
    json_t *objs = json_incref(json_array_get(json_object_get(doc, "qpdf"), 1));
    json_decref(doc);
    assert_non_null(objs);
    return objs;
}

static json_t *value_of(json_t *objs, const char *ref)
{
    char key[64];
    snprintf(key, sizeof key, "obj:%s", ref);
    json_t *o = json_object_get(objs, key);
    json_t *v = json_object_get(o, "value");
    return v ? v : json_object_get(json_object_get(o, "stream"), "dict");
}

/* The nth (from 0, in object order) dictionary of /Type type. */
static json_t *find_type(json_t *objs, const char *type, int nth)
{
    const char *key;
    json_t *o;
    json_object_foreach(objs, key, o)
    {
        const char *t = json_string_value(
            json_object_get(json_object_get(o, "value"), "/Type"));
        if (t && strcmp(t, type) == 0 && nth-- == 0)
            return json_object_get(o, "value");
    }
    return NULL;
}

static unsigned char *hex_bytes(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    unsigned char *b = malloc(n + 1);
    assert_non_null(b);
    assert_int_equal(lv_hex_decode(hex, b, n), (int)n);
    *len = n;
    return b;
}

/* Writes <prefix>.der (/Contents, padding dropped by its own DER length)
 * and <prefix>.bin (the bytes /ByteRange covers); checks the hole is the
 * /Contents string. */
static void extract_sig(json_t *sig, const unsigned char *pdf, size_t len,
                        const char *prefix)
{
    json_t *br = json_object_get(sig, "/ByteRange");
    size_t r[4];
    for (size_t i = 0; i < 4; i++)
        r[i] = (size_t)json_integer_value(json_array_get(br, i));
    /* the range is a whole revision: from byte 0 to one of its %%EOF */
    assert_int_equal(r[0], 0);
    assert_true(r[2] + r[3] <= len && r[2] + r[3] >= 6);
    assert_memory_equal(pdf + r[2] + r[3] - 6, "%%EOF\n", 6);
    assert_true(r[1] < r[2] && pdf[r[1]] == '<' && pdf[r[2] - 1] == '>');
    const char *hex = json_string_value(json_object_get(sig, "/Contents"));
    assert_non_null(hex);
    assert_memory_equal(hex, "b:", 2);
    size_t n;
    unsigned char *der = hex_bytes(hex + 2, &n);
    const unsigned char *p = der;
    ASN1_TYPE *t = d2i_ASN1_TYPE(NULL, &p, (long)n);
    assert_non_null(t);
    ASN1_TYPE_free(t);
    char name[64];
    snprintf(name, sizeof name, "%s.der", prefix);
    write_file(name, der, (size_t)(p - der));
    free(der);
    unsigned char *data = malloc(r[1] + r[3]);
    assert_non_null(data);
    memcpy(data, pdf, r[1]);
    memcpy(data + r[1], pdf + r[2], r[3]);
    snprintf(name, sizeof name, "%s.bin", prefix);
    write_file(name, data, r[1] + r[3]);
    free(data);
}

/* ---- the judges -----------------------------------------------------------
 */

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* pdfsig: every signature valid, its certificate trusted through NSS. */
static void pdfsig_ok(const char *name, int n_sigs)
{
    char cmd[2048], out[16384];
    snprintf(cmd, sizeof cmd, "pdfsig -nssdir sql:%s %s/%s 2>&1", P.nss, P.dir,
             name);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    pclose(f);
    if (count(out, "Signature is Valid.") != n_sigs ||
        count(out, "Certificate is Trusted.") != n_sigs)
        fprintf(stderr, "# pdfsig said:\n%s", out);
    assert_int_equal(count(out, "Signature is Valid."), n_sigs);
    assert_int_equal(count(out, "Certificate is Trusted."), n_sigs);
}

/* openssl cms -verify on the extracted CMS and byte range. */
static void cms_ok(const char *prefix)
{
    assert_int_equal(run("openssl cms -verify -binary -inform DER -in "
                         "%s/%s.der -content %s/%s.bin -CAfile %s/ca.pem "
                         "-purpose any -out /dev/null 2>/dev/null",
                         P.dir, prefix, P.dir, prefix, P.dir),
                     0);
}

/* openssl ts -verify of the signature-time-stamp over the signature
 * value (EN 319 122-1 §5.3). */
static void sig_ts_ok(const char *prefix, CMS_SignerInfo *si, int at)
{
    ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, at), 0);
    assert_non_null(t);
    assert_int_equal(t->type, V_ASN1_SEQUENCE);
    char name[96], value[96];
    snprintf(name, sizeof name, "%s-ts.der", prefix);
    write_file(name, t->value.sequence->data,
               (size_t)t->value.sequence->length);
    ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
    snprintf(value, sizeof value, "%s-sigvalue.bin", prefix);
    write_file(value, sig->data, (size_t)sig->length);
    assert_int_equal(run("openssl ts -verify -data %s/%s -in %s/%s -token_in "
                         "-CAfile %s/ca.pem -untrusted %s/tsa.pem "
                         "> /dev/null 2>&1",
                         P.dir, value, P.dir, name, P.dir, P.dir),
                     0);
}

/* EN 319 142-1 §6.3: no signingTime; signing-certificate-v2 present. */
static void attrs_ok(const char *prefix, int timestamped)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.der", P.dir, prefix);
    BIO *b = BIO_new_file(path, "rb");
    CMS_ContentInfo *cms = d2i_CMS_bio(b, NULL);
    assert_non_null(cms);
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
    assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) < 0);
    assert_true(CMS_signed_get_attr_by_NID(
                    si, NID_id_smime_aa_signingCertificateV2, -1) >= 0);
    int at =
        CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
    assert_int_equal(at >= 0, timestamped);
    if (at >= 0)
        sig_ts_ok(prefix, si, at);
    CMS_ContentInfo_free(cms);
    BIO_free(b);
}

static void qpdf_check_ok(const char *name)
{
    assert_int_equal(run("qpdf --check %s/%s > /dev/null", P.dir, name), 0);
}

/* Signs in (kind) at level, writes NAME.pdf, and judges what every level
 * shares; returns the output for the level's own checks. */
static unsigned char *sign_and_judge(const unsigned char *in, size_t in_len,
                                     const pades_opts *o, const char *name,
                                     size_t *out_len)
{
    unsigned char *out = NULL;
    lv_err err = {0};
    int rc = pades_sign(in, in_len, o, &out, out_len, &err);
    if (rc != 0)
        fprintf(stderr, "# pades_sign: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_true(*out_len > in_len);
    assert_memory_equal(out, in, in_len); /* an incremental update */
    char file[64];
    snprintf(file, sizeof file, "%s.pdf", name);
    write_file(file, out, *out_len);
    qpdf_check_ok(file);
    return out;
}

/* The nth CAdES signature of NAME.pdf: qpdf's view of its dictionary,
 * openssl cms -verify, the attributes. */
static void judge_signature(const unsigned char *out, size_t len,
                            const char *name, int nth, int timestamped)
{
    char file[64], prefix[64];
    snprintf(file, sizeof file, "%s.pdf", name);
    snprintf(prefix, sizeof prefix, "%s-sig%d", name, nth);
    json_t *objs = qpdf_objects(file);
    json_t *sig = find_type(objs, "/Sig", nth);
    assert_non_null(sig);
    assert_string_equal(json_string_value(json_object_get(sig, "/SubFilter")),
                        "/ETSI.CAdES.detached");
    assert_non_null(json_object_get(sig, "/M"));
    extract_sig(sig, out, len, prefix);
    json_decref(objs);
    cms_ok(prefix);
    attrs_ok(prefix, timestamped);
}

/* The stream data of each reference in array (qpdf --json, base64) equals
 * the DER given, in order. */
static void streams_equal(json_t *objs, json_t *array, const pades_der *want,
                          size_t n)
{
    assert_int_equal(json_array_size(array), n);
    for (size_t i = 0; i < n; i++) {
        char key[64];
        snprintf(key, sizeof key, "obj:%s",
                 json_string_value(json_array_get(array, i)));
        const char *b64 = json_string_value(json_object_get(
            json_object_get(json_object_get(objs, key), "stream"), "data"));
        unsigned char *der = NULL;
        size_t len = 0;
        assert_non_null(b64);
        assert_int_equal(lv_b64_decode(b64, strlen(b64), &der, &len), 0);
        assert_int_equal(len, want[i].len);
        assert_memory_equal(der, want[i].der, len);
        free(der);
    }
}

static pades_der cert_der(X509 *x, unsigned char **buf)
{
    int n = i2d_X509(x, buf);
    assert_true(n > 0);
    return (pades_der){*buf, (size_t)n};
}

/* B-LT: the catalog's /DSS holds the signer, CA and TSA certificates, the
 * OCSP response and the CRL, byte for byte. */
static void judge_dss(const char *name)
{
    char file[64];
    snprintf(file, sizeof file, "%s.pdf", name);
    json_t *objs = qpdf_objects(file);
    json_t *trailer =
        json_object_get(json_object_get(objs, "trailer"), "value");
    json_t *root =
        value_of(objs, json_string_value(json_object_get(trailer, "/Root")));
    json_t *dss =
        value_of(objs, json_string_value(json_object_get(root, "/DSS")));
    assert_non_null(dss);
    unsigned char *b[3] = {NULL, NULL, NULL};
    pades_der certs[3] = {cert_der(P.signer, &b[0]), cert_der(P.ca, &b[1]),
                          cert_der(P.tsa, &b[2])};
    pades_der ocsp = {P.ocsp, (size_t)P.ocsp_len};
    pades_der crl = {P.crl, (size_t)P.crl_len};
    streams_equal(objs, json_object_get(dss, "/Certs"), certs, 3);
    streams_equal(objs, json_object_get(dss, "/OCSPs"), &ocsp, 1);
    streams_equal(objs, json_object_get(dss, "/CRLs"), &crl, 1);
    for (int i = 0; i < 3; i++)
        OPENSSL_free(b[i]);
    json_decref(objs);
}

/* B-LTA: the /DocTimeStamp's token, over its byte range, is one openssl ts
 * -verify accepts; its range covers the signature and the DSS. */
static void judge_doc_ts(const unsigned char *out, size_t len, const char *name)
{
    char file[64], prefix[64];
    snprintf(file, sizeof file, "%s.pdf", name);
    snprintf(prefix, sizeof prefix, "%s-docts", name);
    json_t *objs = qpdf_objects(file);
    json_t *ts = find_type(objs, "/DocTimeStamp", 0);
    assert_non_null(ts);
    assert_string_equal(json_string_value(json_object_get(ts, "/SubFilter")),
                        "/ETSI.RFC3161");
    extract_sig(ts, out, len, prefix);
    json_t *br = json_object_get(ts, "/ByteRange");
    assert_int_equal(json_integer_value(json_array_get(br, 2)) +
                         json_integer_value(json_array_get(br, 3)),
                     (json_int_t)len);
    json_decref(objs);
    assert_int_equal(run("openssl ts -verify -data %s/%s.bin -in %s/%s.der "
                         "-token_in -CAfile %s/ca.pem -untrusted %s/tsa.pem "
                         "> /dev/null 2>&1",
                         P.dir, prefix, P.dir, prefix, P.dir, P.dir),
                     0);
}

/* ---- the levels -----------------------------------------------------------
 */

static void sign_level(pdf_kind kind, pades_level level, const char *name)
{
    size_t in_len, out_len;
    unsigned char *in = make_pdf(kind, &in_len);
    pades_opts o = opts(level);
    unsigned char *out = sign_and_judge(in, in_len, &o, name, &out_len);
    char file[64];
    snprintf(file, sizeof file, "%s.pdf", name);
    pdfsig_ok(file, 1);
    judge_signature(out, out_len, name, 0, level >= PADES_B_T);
    if (level >= PADES_B_LT)
        judge_dss(name);
    if (level == PADES_B_LTA)
        judge_doc_ts(out, out_len, name);
    free(out);
    free(in);
}

static void test_b_b(void **state)
{
    (void)state;
    sign_level(PDF_CLASSIC, PADES_B_B, "bb");
}

static void test_b_b_xref_stream(void **state)
{
    (void)state;
    sign_level(PDF_XREF_STREAM, PADES_B_B, "bb-xs");
}

/* A linearized file's startxref names its first-page section (ISO
 * 32000-1 Annex F): the update's /Prev must still chain to it. */
static void test_b_lt_linearized(void **state)
{
    (void)state;
    sign_level(PDF_LINEARIZED, PADES_B_LT, "blt-lin");
}

static void test_b_t(void **state)
{
    (void)state;
    sign_level(PDF_CLASSIC, PADES_B_T, "bt");
}

static void test_b_lt(void **state)
{
    (void)state;
    sign_level(PDF_CLASSIC, PADES_B_LT, "blt");
}

static void test_b_lta(void **state)
{
    (void)state;
    sign_level(PDF_CLASSIC, PADES_B_LTA, "blta");
}

static void test_b_lta_xref_stream(void **state)
{
    (void)state;
    sign_level(PDF_XREF_STREAM, PADES_B_LTA, "blta-xs");
}

/* A second signer (EC P-384) on what a first signed with RSA. */
static void ec_signer(EVP_PKEY **key, X509 **cert)
{
    static const int n[] = {NID_key_usage, 0};
    static const char *const v[] = {"critical,digitalSignature"};
    *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    *cert = make_cert("Firmante EC", *key, P.ca, P.ca_key, n, v);
}

/* A second signer on the signed output: the AcroForm and /Annots exist,
 * the field gets its own name, both signatures stay valid.  (Two
 * signatures of one certificate make pdfsig 22.12 report an "unknown
 * issue" with the second one's certificate, an NSS quirk; two signers is
 * the case that matters.) */
static void test_second_signature(void **state)
{
    (void)state;
    size_t in_len, one_len, two_len;
    unsigned char *in = make_pdf(PDF_CLASSIC, &in_len);
    pades_opts o = opts(PADES_B_T);
    unsigned char *one = sign_and_judge(in, in_len, &o, "one", &one_len);
    EVP_PKEY *key;
    ec_signer(&key, &o.signer);
    o.sign_arg = key;
    unsigned char *two = sign_and_judge(one, one_len, &o, "two", &two_len);
    pdfsig_ok("two.pdf", 2);
    judge_signature(two, two_len, "two", 0, 1);
    judge_signature(two, two_len, "two", 1, 1);
    free(two);
    free(one);
    free(in);
    X509_free(o.signer);
    EVP_PKEY_free(key);
}

/* ECDSA signer (the callback returns an ECDSA-Sig-Value) with SHA-384. */
static void test_ecdsa_sha384(void **state)
{
    (void)state;
    size_t in_len, out_len;
    unsigned char *in = make_pdf(PDF_XREF_STREAM, &in_len);
    pades_opts o = opts(PADES_B_T);
    EVP_PKEY *key;
    ec_signer(&key, &o.signer);
    o.sign_arg = key;
    o.md = EVP_sha384();
    unsigned char *out = sign_and_judge(in, in_len, &o, "ec", &out_len);
    pdfsig_ok("ec.pdf", 1);
    judge_signature(out, out_len, "ec", 0, 1);
    free(out);
    free(in);
    X509_free(o.signer);
    EVP_PKEY_free(key);
}

/* ---- refusals -------------------------------------------------------------
 */

static int sign_calls;

static int cb_sign_counting(void *arg, const EVP_MD *md,
                            const unsigned char *digest, size_t digest_len,
                            unsigned char **sig, size_t *sig_len, lv_err *err)
{
    sign_calls++;
    return cb_sign(arg, md, digest, digest_len, sig, sig_len, err);
}

static void refused(const unsigned char *pdf, size_t len, const pades_opts *o,
                    int code, const char *words)
{
    unsigned char *out = (unsigned char *)"x";
    size_t out_len = 1;
    lv_err err = {0};
    pades_opts use = *o;
    use.sign = cb_sign_counting;
    sign_calls = 0;
    assert_int_equal(pades_sign(pdf, len, &use, &out, &out_len, &err), code);
    assert_null(out);
    assert_int_equal(out_len, 0);
    assert_int_equal(sign_calls, 0);
    if (!strstr(err.msg, words))
        fprintf(stderr, "# message: %s\n", err.msg);
    assert_non_null(strstr(err.msg, words));
}

static void test_bad_inputs(void **state)
{
    (void)state;
    size_t len, enc_len;
    unsigned char *pdf = make_pdf(PDF_CLASSIC, &len);
    unsigned char *enc = make_pdf(PDF_ENCRYPTED, &enc_len);
    pades_opts o = opts(PADES_B_B);
    static const unsigned char junk[] = "<html>not a PDF</html>";
    refused(junk, sizeof junk, &o, LV_EINVAL, "not a PDF");
    refused(pdf, len / 2, &o, LV_EINVAL, "PDF");
    refused(pdf, len - 30, &o, LV_EINVAL, "PDF");
    refused(enc, enc_len, &o, LV_EINVAL, "encrypted");
    o.max_len = len - 1;
    refused(pdf, len, &o, LV_ETOOBIG, "larger than");
    o = opts(PADES_B_T);
    o.timestamp = NULL;
    refused(pdf, len, &o, LV_EINVAL, "time-stamp callback");
    o = opts(PADES_B_B);
    o.md = EVP_sha1();
    refused(pdf, len, &o, LV_EINVAL, "SHA-2");
    o = opts(PADES_B_LT);
    o.n_crls = PADES_MAX_OBJS;
    refused(pdf, len, &o, LV_EINVAL, "at most");
    free(enc);
    free(pdf);
}

/* A damaged object qpdf only meets on its full check (recovery off). */
static void test_damaged_object(void **state)
{
    (void)state;
    size_t len;
    unsigned char *pdf = make_pdf(PDF_CLASSIC, &len);
    char *p = strstr((char *)pdf, "/Length");
    assert_non_null(p);
    memcpy(p, "/Lxngth", 7); /* the content stream loses its length */
    pades_opts o = opts(PADES_B_B);
    refused(pdf, len, &o, LV_EINVAL, "PDF");
    free(pdf);
}

/* A callback answering for another key, a TSA stamping other data: errors,
 * not invalid signatures. */
static void test_bad_callbacks(void **state)
{
    (void)state;
    size_t len, out_len;
    unsigned char *pdf = make_pdf(PDF_CLASSIC, &len), *out = NULL;
    lv_err err = {0};
    pades_opts o = opts(PADES_B_B);
    o.sign_arg = P.ca_key;
    assert_int_equal(pades_sign(pdf, len, &o, &out, &out_len, &err),
                     LV_ECRYPTO);
    assert_non_null(strstr(err.msg, "does not verify"));
    o = opts(PADES_B_T);
    P.ts_wrong = 1;
    assert_int_equal(pades_sign(pdf, len, &o, &out, &out_len, &err),
                     LV_ECRYPTO);
    P.ts_wrong = 0;
    assert_non_null(strstr(err.msg, "time-stamp token"));
    assert_null(out);
    free(pdf);
}

/* The digest a client authorizes is SHA-256 of the document as sent. */
static void test_document_digest(void **state)
{
    (void)state;
    size_t len;
    unsigned char *pdf = make_pdf(PDF_CLASSIC, &len);
    unsigned char d[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    lv_err err = {0};
    assert_int_equal(pades_document_digest(pdf, len, 0, NULL, d, &dlen, &err),
                     0);
    assert_int_equal(dlen, 32);
    assert_true(EVP_Digest(pdf, len, want, NULL, EVP_sha256(), NULL));
    assert_memory_equal(d, want, 32);
    assert_int_equal(
        pades_document_digest(pdf, len - 30, 0, NULL, d, &dlen, &err),
        LV_EINVAL);
    free(pdf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b_b),
        cmocka_unit_test(test_b_b_xref_stream),
        cmocka_unit_test(test_b_t),
        cmocka_unit_test(test_b_lt_linearized),
        cmocka_unit_test(test_b_lt),
        cmocka_unit_test(test_b_lta),
        cmocka_unit_test(test_b_lta_xref_stream),
        cmocka_unit_test(test_second_signature),
        cmocka_unit_test(test_ecdsa_sha384),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_damaged_object),
        cmocka_unit_test(test_bad_callbacks),
        cmocka_unit_test(test_document_digest),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
