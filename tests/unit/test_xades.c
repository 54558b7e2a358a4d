/* Unit tests of XAdES signatures (src/xades/, issue 14 item 5; ETSI
 * EN 319 132-1).  A small PKI made in memory: a CA, an RSA and an EC
 * signer, a TSA whose tokens OpenSSL's TS_RESP_CTX makes.  Every signature
 * is judged by tools nobody here wrote: the xmlsec1 command verifies the
 * XML signature and the certificate chain, `openssl ts -verify` the
 * time-stamp over the SignatureValue canonicalized by libxml2's XPath
 * node-set C14N (not the callback path src/xades/ uses), and OpenSSL's
 * own ESS encoder the IssuerSerialV2. */
// clang-format off
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include "testutil.h"
#include "xades/xades.h"

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <openssl/ess.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define NS_XADES "http://uri.etsi.org/01903/v1.3.2#"
/* xmlsec registers the Id attributes of the elements it is told about; a
 * XAdES signature's SignedProperties are referenced by their Id. */
#define XMLSEC_ID "--id-attr:Id " NS_XADES ":SignedProperties"
#define SIGNING_TIME 1900000000 /* 2030-03-17T17:46:40Z */

static const char DOC[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<fe:Facturae xmlns:fe=\"urn:example:facturae\" xmlns:x=\"urn:x\">\n"
    "  <!-- comments are not signed (XMLDSig 4.3.3.3) -->\n"
    "  <FileHeader x:a=\"1 &amp; 2\"><SchemaVersion>3.2.1</SchemaVersion>\n"
    "    <x:Note>Se\xc3\xb1"
    "al &lt;ok&gt;</x:Note></FileHeader>\n"
    "</fe:Facturae>\n";

typedef struct pki {
    char dir[512];
    EVP_PKEY *ca_key, *rsa_key, *ec_key, *tsa_key, *other_key;
    X509 *ca, *rsa, *ec, *tsa, *other_ca;
    STACK_OF(X509) *chain;
} pki;

/* ---- the PKI --------------------------------------------------------------
 */

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(e);
    assert_true(X509_add_ext(x, e, -1));
    X509_EXTENSION_free(e);
}

/* kind: 'c' a CA, 's' a signer, 't' a TSA (RFC 3161 §2.3: critical EKU) */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key, char kind)
{
    static long serial = 0x1000;
    X509 *x = X509_new();
    assert_true(X509_set_version(x, 2));
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial));
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400));
    X509_NAME *n = X509_get_subject_name(x);
    assert_true(X509_NAME_add_entry_by_txt(
        n, "O", MBSTRING_UTF8, (const unsigned char *)"llave test", -1, -1, 0));
    assert_true(X509_NAME_add_entry_by_txt(
        n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0));
    assert_true(
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n));
    assert_true(X509_set_pubkey(x, key));
    add_ext(x, issuer, NID_subject_key_identifier, "hash");
    if (issuer)
        add_ext(x, issuer, NID_authority_key_identifier, "keyid");
    add_ext(x, issuer, NID_basic_constraints,
            kind == 'c' ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(x, issuer, NID_key_usage,
            kind == 'c'   ? "critical,keyCertSign,cRLSign"
            : kind == 't' ? "critical,digitalSignature"
                          : "critical,digitalSignature,nonRepudiation");
    if (kind == 't')
        add_ext(x, issuer, NID_ext_key_usage, "critical,timeStamping");
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

static void write_file(const char *dir, const char *name, const void *data,
                       size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_pem(const char *dir, const char *name, X509 *cert)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(PEM_write_X509(f, cert));
    assert_int_equal(fclose(f), 0);
}

static int pki_setup(void **state)
{
    pki *p = calloc(1, sizeof *p);
    assert_non_null(p);
    assert_int_equal(tu_tmpdir(p->dir, sizeof p->dir, "xades"), 0);
    p->ca_key = EVP_EC_gen("P-384");
    p->rsa_key = EVP_RSA_gen(2048);
    p->ec_key = EVP_EC_gen("P-256");
    p->tsa_key = EVP_EC_gen("P-256");
    p->other_key = EVP_EC_gen("P-256");
    assert_true(p->ca_key && p->rsa_key && p->ec_key && p->tsa_key &&
                p->other_key);
    p->ca = make_cert("Test CA", p->ca_key, NULL, NULL, 'c');
    p->rsa = make_cert("RSA signer", p->rsa_key, p->ca, p->ca_key, 's');
    p->ec = make_cert("EC signer", p->ec_key, p->ca, p->ca_key, 's');
    p->tsa = make_cert("Test TSA", p->tsa_key, p->ca, p->ca_key, 't');
    p->other_ca = make_cert("Test CA", p->other_key, NULL, NULL, 'c');
    p->chain = sk_X509_new_null();
    assert_true(sk_X509_push(p->chain, p->ca));
    write_pem(p->dir, "ca.pem", p->ca);
    write_pem(p->dir, "other-ca.pem", p->other_ca);
    xades_init();
    *state = p;
    return 0;
}

static int pki_teardown(void **state)
{
    pki *p = *state;
    sk_X509_free(p->chain);
    X509 *certs[] = {p->ca, p->rsa, p->ec, p->tsa, p->other_ca};
    EVP_PKEY *keys[] = {p->ca_key, p->rsa_key, p->ec_key, p->tsa_key,
                        p->other_key};
    for (size_t i = 0; i < 5; i++) {
        X509_free(certs[i]);
        EVP_PKEY_free(keys[i]);
    }
    tu_rmtree(p->dir);
    free(p);
    return 0;
}

/* ---- the callbacks --------------------------------------------------------
 */

/* What llave-keyd does: sign a digest with the key (PKCS#1 v1.5 for RSA,
 * the DER ECDSA-Sig-Value for EC). */
static int sign_cb(void *arg, const EVP_MD *md, const unsigned char *digest,
                   size_t digest_len, unsigned char **sig, size_t *sig_len,
                   lv_err *err)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(arg, NULL);
    size_t len = 0;
    int ok = ctx && EVP_PKEY_sign_init(ctx) > 0 &&
             EVP_PKEY_CTX_set_signature_md(ctx, md) > 0 &&
             EVP_PKEY_sign(ctx, NULL, &len, digest, digest_len) > 0 &&
             (*sig = malloc(len)) &&
             EVP_PKEY_sign(ctx, *sig, &len, digest, digest_len) > 0;
    EVP_PKEY_CTX_free(ctx);
    *sig_len = len;
    return ok ? 0 : lv_fail(err, LV_ECRYPTO, "test signer failed");
}

static TS_REQ *ts_request(const EVP_MD *md, const unsigned char *digest,
                          size_t len)
{
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    X509_ALGOR_set_md(alg, md);
    assert_true(TS_MSG_IMPRINT_set_algo(mi, alg));
    assert_true(TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)digest, (int)len));
    assert_true(TS_REQ_set_version(req, 1));
    assert_true(TS_REQ_set_msg_imprint(req, mi));
    assert_true(TS_REQ_set_cert_req(req, 1));
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(mi);
    return req;
}

/* A real RFC 3161 token from OpenSSL's TS_RESP_CTX and the test TSA. */
static int tsa_cb(void *arg, const EVP_MD *md, const unsigned char *digest,
                  size_t digest_len, unsigned char **token, size_t *token_len,
                  lv_err *err)
{
    (void)err;
    pki *p = arg;
    TS_REQ *req = ts_request(md, digest, digest_len);
    BIO *in = BIO_new(BIO_s_mem());
    assert_true(i2d_TS_REQ_bio(in, req));
    TS_RESP_CTX *ctx = TS_RESP_CTX_new();
    ASN1_OBJECT *policy = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
    assert_true(TS_RESP_CTX_set_signer_cert(ctx, p->tsa));
    assert_true(TS_RESP_CTX_set_signer_key(ctx, p->tsa_key));
    assert_true(TS_RESP_CTX_set_def_policy(ctx, policy));
    assert_true(TS_RESP_CTX_add_md(ctx, md));
    TS_RESP *resp = TS_RESP_create_response(ctx, in);
    assert_non_null(resp);
    unsigned char *der = NULL;
    int len = i2d_PKCS7(TS_RESP_get_token(resp), &der);
    assert_true(len > 0);
    *token = malloc((size_t)len);
    memcpy(*token, der, (size_t)len);
    *token_len = (size_t)len;
    OPENSSL_free(der);
    TS_RESP_free(resp);
    ASN1_OBJECT_free(policy);
    TS_RESP_CTX_free(ctx);
    BIO_free(in);
    TS_REQ_free(req);
    return 0;
}

static xades_opts opts(pki *p, int ec, xades_mode mode, xades_level level)
{
    xades_opts o = {
        .mode = mode,
        .level = level,
        .signer = ec ? p->ec : p->rsa,
        .chain = p->chain,
        .sign = sign_cb,
        .sign_arg = ec ? p->ec_key : p->rsa_key,
        .timestamp = tsa_cb,
        .timestamp_arg = p,
        .doc_name = "factura 1.xml",
        .signing_time = SIGNING_TIME,
    };
    return o;
}

/* ---- running the judges ---------------------------------------------------
 */

/* Runs cmd (stderr joined to stdout) in dir; its exit status, output in
 * out. */
static int run(const char *dir, const char *cmd, char *out, size_t cap)
{
    char line[4096];
    snprintf(line, sizeof line, "cd '%s' && %s 2>&1", dir, cmd);
    FILE *f = popen(line, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* xmlsec1 --verify with anchor as the only trust anchor: whether it
 * printed its verdict OK (and exited 0) must be what the test expects. */
static void xmlsec_expect(pki *p, const char *file, const char *anchor,
                          int valid)
{
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd,
             "xmlsec1 --verify --trusted-pem %s " XMLSEC_ID " '%s'", anchor,
             file);
    int rc = run(p->dir, cmd, out, sizeof out);
    int ok = rc == 0 && strncmp(out, "OK\n", 3) == 0;
    if (ok != valid)
        fail_msg("%s: %s", cmd, out);
}

static xmlXPathContextPtr xpath_new(xmlDocPtr doc)
{
    xmlXPathContextPtr x = xmlXPathNewContext(doc);
    assert_non_null(x);
    assert_int_equal(xmlXPathRegisterNs(x, BAD_CAST "ds",
                                        BAD_CAST "http://www.w3.org/2000/"
                                                 "09/xmldsig#"),
                     0);
    assert_int_equal(xmlXPathRegisterNs(x, BAD_CAST "xades", BAD_CAST NS_XADES),
                     0);
    return x;
}

static int count(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr x = xpath_new(doc);
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST expr, x);
    assert_non_null(r);
    int n = r->nodesetval ? r->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(x);
    return n;
}

/* The text of the one node expr selects (the caller frees it). */
static char *text(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr x = xpath_new(doc);
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST expr, x);
    assert_non_null(r);
    assert_non_null(r->nodesetval);
    assert_int_equal(r->nodesetval->nodeNr, 1);
    char *s = (char *)xmlNodeGetContent(r->nodesetval->nodeTab[0]);
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(x);
    return s;
}

static unsigned char *b64_at(xmlDocPtr doc, const char *expr, size_t *len)
{
    char *s = text(doc, expr);
    unsigned char *der = NULL;
    assert_int_equal(lv_b64_decode(s, strlen(s), &der, len), 0);
    xmlFree(s);
    return der;
}

static xmlDocPtr parse(const unsigned char *xml, size_t len)
{
    xmlDocPtr doc =
        xmlReadMemory((const char *)xml, (int)len, NULL, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    return doc;
}

/* SigningTime and SigningCertificateV2 (EN 319 132-1 §5.2.1, §5.2.2),
 * the SignedProperties reference, the chain in KeyInfo. */
static void check_properties(xmlDocPtr doc, X509 *signer)
{
    char *when = text(doc, "//xades:SignedSignatureProperties/"
                           "xades:SigningTime");
    assert_string_equal(when, "2030-03-17T17:46:40Z");
    xmlFree(when);
    unsigned char *der = NULL, want[32], *ess_der = NULL;
    int der_len = i2d_X509(signer, &der);
    assert_true(
        EVP_Digest(der, (size_t)der_len, want, NULL, EVP_sha256(), NULL));
    OPENSSL_free(der);
    assert_int_equal(count(doc, "//xades:SigningCertificateV2/xades:Cert/"
                                "xades:CertDigest/ds:DigestMethod[@Algorithm="
                                "'http://www.w3.org/2001/04/xmlenc#sha256']"),
                     1);
    size_t len = 0;
    unsigned char *got = b64_at(doc, "//xades:CertDigest/ds:DigestValue", &len);
    assert_int_equal(len, 32);
    assert_memory_equal(got, want, 32);
    free(got);
    /* IssuerSerialV2 is the IssuerSerial OpenSSL itself encodes inside an
     * ESS signing-certificate-v2 (RFC 5035) for this certificate */
    got = b64_at(doc, "//xades:Cert/xades:IssuerSerialV2", &len);
    ESS_SIGNING_CERT_V2 *ess =
        OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), signer, NULL, 1);
    int ess_len = i2d_ESS_SIGNING_CERT_V2(ess, &ess_der);
    assert_true(ess_len > (int)len);
    assert_memory_equal(ess_der + ess_len - len, got, len);
    OPENSSL_free(ess_der);
    ESS_SIGNING_CERT_V2_free(ess);
    free(got);
    assert_int_equal(
        count(doc, "//ds:SignedInfo/ds:Reference[@Type='http://uri.etsi.org/"
                   "01903#SignedProperties']"),
        1);
    assert_int_equal(count(doc, "//xades:DataObjectFormat/xades:MimeType"), 1);
    assert_int_equal(count(doc, "//ds:KeyInfo/ds:X509Data/ds:X509Certificate"),
                     2);
}

/* The SignatureValue element, canonicalized (exclusive C14N, as the
 * time-stamp's CanonicalizationMethod says) by libxml2 from an XPath node
 * set, the way XMLDSig defines a subtree; its SHA-256 in hex. */
static void signature_value_digest(xmlDocPtr doc, char hex[65])
{
    xmlXPathContextPtr x = xpath_new(doc);
    xmlXPathObjectPtr r =
        xmlXPathEvalExpression(BAD_CAST "(//. | //@* | //namespace::*)"
                                        "[ancestor-or-self::ds:SignatureValue]",
                               x);
    assert_non_null(r);
    xmlChar *c14n = NULL;
    int n = xmlC14NDocDumpMemory(doc, r->nodesetval, XML_C14N_EXCLUSIVE_1_0,
                                 NULL, 0, &c14n);
    assert_true(n > 0);
    unsigned char d[32];
    assert_true(EVP_Digest(c14n, (size_t)n, d, NULL, EVP_sha256(), NULL));
    lv_hex_encode(d, sizeof d, hex);
    xmlFree(c14n);
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(x);
}

/* EN 319 132-1 §5.3: the token verifies (openssl ts) against the digest
 * of the canonical SignatureValue, with the test CA as anchor. */
static void check_timestamp(pki *p, xmlDocPtr doc)
{
    assert_int_equal(
        count(doc, "//xades:UnsignedSignatureProperties/"
                   "xades:SignatureTimeStamp/ds:CanonicalizationMethod["
                   "@Algorithm='http://www.w3.org/2001/10/xml-exc-c14n#']"),
        1);
    size_t len = 0;
    unsigned char *tok = b64_at(
        doc, "//xades:SignatureTimeStamp/xades:EncapsulatedTimeStamp", &len);
    write_file(p->dir, "token.der", tok, len);
    free(tok);
    char hex[65], cmd[512], out[4096];
    signature_value_digest(doc, hex);
    snprintf(cmd, sizeof cmd,
             "openssl ts -verify -digest %s -sha256 -token_in -in token.der "
             "-CAfile ca.pem",
             hex);
    int rc = run(p->dir, cmd, out, sizeof out);
    if (rc != 0 || !strstr(out, "Verification: OK"))
        fail_msg("%s: %s", cmd, out);
    /* and a digest of anything else does not */
    hex[0] = hex[0] == '0' ? '1' : '0';
    snprintf(cmd, sizeof cmd,
             "openssl ts -verify -digest %s -sha256 -token_in -in token.der "
             "-CAfile ca.pem",
             hex);
    assert_int_not_equal(run(p->dir, cmd, out, sizeof out), 0);
}

/* ---- the tests ------------------------------------------------------------
 */

static void sign_ok(pki *p, const xades_opts *o, const char *doc,
                    size_t doc_len, const char *file, int ts)
{
    unsigned char *out = NULL;
    size_t len = 0;
    lv_err err = {0};
    int rc =
        xades_sign((const unsigned char *)doc, doc_len, o, &out, &len, &err);
    if (rc != 0)
        fail_msg("xades_sign: %s", err.msg);
    write_file(p->dir, file, out, len);
    xmlsec_expect(p, file, "ca.pem", 1);
    xmlDocPtr d = parse(out, len);
    check_properties(d, o->signer);
    if (ts)
        check_timestamp(p, d);
    else
        assert_int_equal(count(d, "//xades:SignatureTimeStamp"), 0);
    xmlFreeDoc(d);
    free(out);
}

static void enveloped_rsa_bb(void **state)
{
    pki *p = *state;
    xades_opts o = opts(p, 0, XADES_ENVELOPED, XADES_B_B);
    sign_ok(p, &o, DOC, strlen(DOC), "env-rsa-bb.xml", 0);
}

static void enveloped_ec_bt(void **state)
{
    pki *p = *state;
    xades_opts o = opts(p, 1, XADES_ENVELOPED, XADES_B_T);
    sign_ok(p, &o, DOC, strlen(DOC), "env-ec-bt.xml", 1);
}

static void enveloped_rsa_bt(void **state)
{
    pki *p = *state;
    xades_opts o = opts(p, 0, XADES_ENVELOPED, XADES_B_T);
    sign_ok(p, &o, DOC, strlen(DOC), "env-rsa-bt.xml", 1);
}

/* A root in a default namespace, xml:lang, a processing instruction, CDATA
 * and an empty element: all canonicalized as xmlsec does. */
static void enveloped_default_namespace(void **state)
{
    static const char ubl[] =
        "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:"
        "Invoice-2\" xmlns:cbc=\"urn:cbc\" xml:lang=\"es\">\n"
        "  <?pi some data?>\n"
        "  <cbc:ID><![CDATA[A&B <1>]]></cbc:ID>\n"
        "  <Empty/>\r\n"
        "</Invoice>";
    pki *p = *state;
    xades_opts o = opts(p, 1, XADES_ENVELOPED, XADES_B_T);
    sign_ok(p, &o, ubl, strlen(ubl), "env-ubl.xml", 1);
}

/* xmlsec1 resolves the relative URI "factura%201.xml" against its
 * working directory, where the document lies next to the signature. */
static void detached(void **state)
{
    pki *p = *state;
    static const char bin[] = "%PDF-1.7 any bytes at all\x00\x01\xff";
    write_file(p->dir, "factura 1.xml", bin, sizeof bin);
    xades_opts o = opts(p, 0, XADES_DETACHED, XADES_B_T);
    sign_ok(p, &o, bin, sizeof bin, "det-rsa-bt.xml", 1);
    o = opts(p, 1, XADES_DETACHED, XADES_B_B);
    o.mime_type = "application/pdf";
    sign_ok(p, &o, bin, sizeof bin, "det-ec-bb.xml", 0);
    /* the document changes: both signatures fail */
    write_file(p->dir, "factura 1.xml", bin, sizeof bin - 1);
    xmlsec_expect(p, "det-rsa-bt.xml", "ca.pem", 0);
    xmlsec_expect(p, "det-ec-bb.xml", "ca.pem", 0);
}

static char *read_all(pki *p, const char *name, size_t *len)
{
    char path[1024];
    unsigned char *data = NULL;
    snprintf(path, sizeof path, "%s/%s", p->dir, name);
    assert_int_equal(lv_file_read(path, &data, len, 1 << 20, NULL), 0);
    return (char *)data;
}

/* Changes the first `from` of file into `to` (same length) as tampered. */
static void tamper(pki *p, const char *file, const char *from, const char *to)
{
    size_t len = 0;
    char *s = read_all(p, file, &len);
    char *at = strstr(s, from);
    assert_non_null(at);
    assert_int_equal(strlen(to), strlen(from));
    memcpy(at, to, strlen(from)); /* in place: no terminator wanted */
    write_file(p->dir, "tampered.xml", s, len);
    free(s);
}

static void tampering_fails(void **state)
{
    pki *p = *state;
    xades_opts o = opts(p, 1, XADES_ENVELOPED, XADES_B_B);
    sign_ok(p, &o, DOC, strlen(DOC), "env.xml", 0);
    tamper(p, "env.xml", "3.2.1</SchemaVersion>", "3.2.2</SchemaVersion>");
    xmlsec_expect(p, "tampered.xml", "ca.pem", 0);
    /* the signed properties are signed too */
    tamper(p, "env.xml", "2030-03-17T17", "2031-03-17T17");
    xmlsec_expect(p, "tampered.xml", "ca.pem", 0);
    /* and the chain must end at the trust anchor given */
    xmlsec_expect(p, "env.xml", "other-ca.pem", 0);
    /* a comment is outside the signature (XMLDSig §4.3.3.3) */
    tamper(p, "env.xml", "comments are", "COMMENTS ARE");
    xmlsec_expect(p, "tampered.xml", "ca.pem", 1);
}

static void refused(pki *p, const char *doc, size_t len, const xades_opts *o,
                    int code, const char *why)
{
    unsigned char *out = (unsigned char *)"";
    size_t out_len = 1;
    lv_err err = {0};
    assert_int_equal(
        xades_sign((const unsigned char *)doc, len, o, &out, &out_len, &err),
        code);
    assert_null(out);
    assert_int_equal(out_len, 0);
    if (!strstr(err.msg, why))
        fail_msg("expected \"%s\" in \"%s\"", why, err.msg);
    (void)p;
}

static void bad_inputs(void **state)
{
    pki *p = *state;
    xades_opts o = opts(p, 0, XADES_ENVELOPED, XADES_B_B);
    static const char malformed[] = "<a><b></a>";
    refused(p, malformed, strlen(malformed), &o, LV_EINVAL, "line 1");
    refused(p, "", 0, &o, LV_EINVAL, "not well-formed");
    refused(p, "just text", 9, &o, LV_EINVAL, "not well-formed");
    static const char xxe[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "
        "\"file:///etc/passwd\">]>\n<r>&x;</r>";
    refused(p, xxe, strlen(xxe), &o, LV_EINVAL, "XXE");
    static const char laughs[] =
        "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">"
        "]><r>&b;&b;</r>";
    refused(p, laughs, strlen(laughs), &o, LV_EINVAL, "DOCTYPE");
    static const char external[] =
        "<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/r.dtd\"><r/>";
    refused(p, external, strlen(external), &o, LV_EINVAL, "DOCTYPE");
    o.max_len = 64;
    refused(p, DOC, strlen(DOC), &o, LV_ETOOBIG, "above the limit of 64");
    o = opts(p, 0, XADES_DETACHED, XADES_B_B);
    o.doc_name = NULL;
    refused(p, DOC, strlen(DOC), &o, LV_EINVAL, "doc_name");
    o = opts(p, 0, XADES_ENVELOPED, XADES_B_T);
    o.timestamp = NULL;
    refused(p, DOC, strlen(DOC), &o, LV_EINVAL, "time-stamp callback");
    o = opts(p, 0, XADES_ENVELOPED, XADES_B_B);
    o.md = EVP_sha1();
    refused(p, DOC, strlen(DOC), &o, LV_EINVAL, "SHA-256");
}

/* A signer that signs with another key than the certificate's. */
static void wrong_key(void **state)
{
    pki *p = *state;
    xades_opts o = opts(p, 1, XADES_ENVELOPED, XADES_B_B);
    o.sign_arg = p->other_key;
    refused(p, DOC, strlen(DOC), &o, LV_ECRYPTO, "does not verify");
}

/* A TSA answering for another imprint. */
static int wrong_tsa_cb(void *arg, const EVP_MD *md,
                        const unsigned char *digest, size_t digest_len,
                        unsigned char **token, size_t *token_len, lv_err *err)
{
    unsigned char other[EVP_MAX_MD_SIZE];
    memcpy(other, digest, digest_len);
    other[0] ^= 1;
    return tsa_cb(arg, md, other, digest_len, token, token_len, err);
}

static void wrong_timestamp(void **state)
{
    pki *p = *state;
    xades_opts o = opts(p, 0, XADES_ENVELOPED, XADES_B_T);
    o.timestamp = wrong_tsa_cb;
    refused(p, DOC, strlen(DOC), &o, LV_ECRYPTO, "not one over this");
}

/* SHA-512 throughout, with an RSA key. */
static void sha512(void **state)
{
    pki *p = *state;
    xades_opts o = opts(p, 0, XADES_ENVELOPED, XADES_B_B);
    o.md = EVP_sha512();
    sign_ok(p, &o, DOC, strlen(DOC), "env-sha512.xml", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(enveloped_rsa_bb),
        cmocka_unit_test(enveloped_ec_bt),
        cmocka_unit_test(enveloped_rsa_bt),
        cmocka_unit_test(enveloped_default_namespace),
        cmocka_unit_test(detached),
        cmocka_unit_test(tampering_fails),
        cmocka_unit_test(bad_inputs),
        cmocka_unit_test(wrong_key),
        cmocka_unit_test(wrong_timestamp),
        cmocka_unit_test(sha512),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
