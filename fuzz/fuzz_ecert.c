/* libFuzzer target: telematic registration (ra_register_ecert,
 * src/ra/ecert.c), POST /api/v1/register/ecert, which reads a CMS
 * SignedData from anyone and, when it carries a recognised signature, the
 * person from the signer's certificate and the JSON it signed.  The target
 * runs it whole, on a store of its own and a trust list holding a CA it
 * made at start.  The first input byte picks what the rest is:
 *   0: the request body itself (DER or PEM), as a client sends it;
 *   1: the signed JSON content, signed (openssl cms -sign -nodetach, with
 *      signingTime) for a certificate of the trusted CA whose DNI is
 *      derived from the content;
 *   2: serialNumber, givenName and surname of that certificate (separated
 *      by NUL bytes), with well-formed content.
 * Invariants checked on every input:
 *   - a body the target did not sign never registers anyone (LV_EINVAL or
 *     LV_EAUTH); a signed one is never refused as untrusted;
 *   - every refusal has a message;
 *   - registered: the person is IDCES-<the certificate's number>, stored
 *     at the advanced level with the certificate's names and the signed
 *     mobile, with registration evidence "cms-sha256:<SHA-256 of the
 *     body>" by method ecert; the same body again is LV_EEXISTS.
 * Seeds: fuzz/corpus/fuzz_ecert/ (content of docs/API.md's example, bodies
 * made with openssl cms, PEM and DER, and broken ones). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "ra/ra.h"
#include "store/store.h"
#include "store/store_ra.h"

#include <ftw.h>
#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GOOD_CONTENT "{\"mobile\": \"+34600111222\", \"email\": \"a@b.es\"}"

static lv_store *st;
static lv_config cfg;
static EVP_PKEY *ca_key, *user_key;
static X509 *trusted_ca;
static long serial = 1000;

static EVP_PKEY *ec_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (!k)
        abort();
    return k;
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext || !X509_add_ext(cert, ext, -1))
        abort();
    X509_EXTENSION_free(ext);
}

static X509 *new_cert(X509_NAME *subject, EVP_PKEY *key)
{
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
    X509_set_subject_name(c, subject);
    X509_set_issuer_name(c, trusted_ca ? X509_get_subject_name(trusted_ca)
                                       : subject);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 30L * 86400);
    X509_set_pubkey(c, key);
    return c;
}

/* The recognised CA, written to DIR/ecert-trust.pem. */
static void make_ca(void)
{
    char path[700];
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               (const unsigned char *)"Fuzz Citizen CA", -1, -1,
                               0);
    ca_key = ec_key();
    trusted_ca = NULL;
    X509 *c = new_cert(n, ca_key);
    add_ext(c, c, NID_basic_constraints, "critical,CA:true");
    add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(c, c, NID_subject_key_identifier, "hash");
    if (!X509_sign(c, ca_key, EVP_sha256()))
        abort();
    trusted_ca = c;
    X509_NAME_free(n);
    snprintf(path, sizeof path, "%s/%s", cfg.dir, cfg.ecert_trust_file);
    FILE *f = fopen(path, "w");
    if (!f || !PEM_write_X509(f, trusted_ca) || fclose(f) != 0)
        abort();
}

static char tmpdir[64];

static int remove_one(const char *path, const struct stat *sb, int flag,
                      struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The store goes when the fuzzer ends. */
static void cleanup(void)
{
    store_close(st);
    nftw(tmpdir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    char db[700];
    lv_err err = {0};
    strcpy(tmpdir, "/tmp/llave-fuzz-ecert-XXXXXX");
    if (!mkdtemp(tmpdir))
        abort();
    atexit(cleanup);
    lv_config_defaults(&cfg, tmpdir);
    snprintf(cfg.ecert_trust_file, sizeof cfg.ecert_trust_file,
             "ecert-trust.pem");
    snprintf(db, sizeof db, "%s/llave.db", tmpdir);
    if (store_open(db, &st, &err) < 0)
        abort();
    make_ca();
    user_key = ec_key();
}

/* A citizen certificate of the recognised CA; NULL when the names are not
 * UTF-8 (the CA would not issue it). */
static X509 *user_cert(const char *number, const char *given,
                       const char *surname)
{
    X509_NAME *n = X509_NAME_new();
    const char *vals[] = {"ES", number, given, surname, "Fuzz"};
    const int nids[] = {NID_countryName, NID_serialNumber, NID_givenName,
                        NID_surname, NID_commonName};
    X509 *c = NULL;
    int ok = 1;
    for (size_t i = 0; ok && i < 5; i++)
        ok = !vals[i][0] || X509_NAME_add_entry_by_NID(
                                n, nids[i], MBSTRING_UTF8,
                                (const unsigned char *)vals[i], -1, -1, 0);
    if (ok) {
        c = new_cert(n, user_key);
        add_ext(c, trusted_ca, NID_basic_constraints, "CA:false");
        add_ext(c, trusted_ca, NID_key_usage,
                "critical,digitalSignature,nonRepudiation");
        add_ext(c, trusted_ca, NID_subject_key_identifier, "hash");
        add_ext(c, trusted_ca, NID_authority_key_identifier, "keyid");
        if (!X509_sign(c, ca_key, EVP_sha256()))
            abort();
    }
    X509_NAME_free(n);
    return c;
}

/* openssl cms -sign -nodetach -binary -outform DER */
static unsigned char *sign_content(X509 *cert, const void *content, size_t len,
                                   int *out_len)
{
    BIO *in = BIO_new_mem_buf(content, (int)len);
    CMS_ContentInfo *cms = CMS_sign(cert, user_key, NULL, in, CMS_BINARY);
    unsigned char *der = NULL;
    *out_len = cms ? i2d_CMS_ContentInfo(cms, &der) : -1;
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    if (*out_len <= 0)
        abort();
    return der;
}

static int register_body(const unsigned char *body, size_t len,
                         ra_registered *out)
{
    lv_err err = {0};
    ra_ecert_proof proof = {.cms = body, .cms_len = len};
    int rc = ra_register_ecert(NULL, st, &cfg, &proof, "192.0.2.1", out, &err);
    if (rc < 0 && !err.msg[0])
        abort();
    return rc;
}

typedef struct expect {
    const char *body_hex;
    int found;
} expect;

static int check_evidence(const lv_registration_rec *r, void *ctx)
{
    expect *e = ctx;
    char want[80];
    snprintf(want, sizeof want, "cms-sha256:%s", e->body_hex);
    if (strcmp(r->method, "ecert") != 0 || strcmp(r->evidence_ref, want) != 0)
        abort();
    e->found++;
    return 0;
}

static void check_registered(const ra_registered *out, const char *number,
                             const char *given, const unsigned char *body,
                             size_t len)
{
    lv_citizen_rec c;
    lv_err err = {0};
    unsigned char md[32];
    char person[80], hex[65];
    snprintf(person, sizeof person, "IDCES-%s",
             strncmp(number, "IDCES-", 6) == 0 ? number + 6 : number);
    if (strcasecmp(out->person_id, person) != 0 ||
        store_citizen_by_person(st, person, &c, &err) != 0 ||
        strcmp(c.level, "advanced") != 0 || strcmp(c.given_name, given) != 0)
        abort();
    EVP_Digest(body, len, md, NULL, EVP_sha256(), NULL);
    lv_hex_encode(md, sizeof md, hex);
    expect e = {hex, 0};
    if (store_registration_foreach(st, c.id, check_evidence, &e, &err) != 0 ||
        e.found != 1)
        abort();
    ra_registered again;
    if (register_body(body, len, &again) != LV_EEXISTS)
        abort();
}

static void run_signed(const char *number, const char *given,
                       const char *surname, const void *content, size_t len)
{
    X509 *cert = user_cert(number, given, surname);
    ra_registered out;
    int body_len = 0;
    if (!cert)
        return;
    unsigned char *body = sign_content(cert, content, len, &body_len);
    int rc = register_body(body, (size_t)body_len, &out);
    if (rc != 0 && rc != LV_EINVAL && rc != LV_EEXISTS)
        abort();
    if (rc == 0)
        check_registered(&out, number, given, body, (size_t)body_len);
    OPENSSL_free(body);
    X509_free(cert);
}

/* A DNI of its own for each content (8 digits and their letter). */
static void dni_of(const uint8_t *data, size_t size, char out[16])
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    h %= 100000000u;
    snprintf(out, 16, "IDCES-%08u%c", (unsigned)h,
             "TRWAGMYFPDXBNJZSQVHLCKE"[h % 23]);
}

/* serialNumber \0 givenName \0 surname, each cut to its field. */
static void run_names(const uint8_t *data, size_t size)
{
    char f[3][64] = {"", "", ""};
    size_t k = 0, j = 0;
    for (size_t i = 0; i < size && k < 3; i++) {
        if (data[i] == 0 || j == sizeof f[0] - 1) {
            k++;
            j = 0;
            continue;
        }
        f[k][j++] = (char)data[i];
        f[k][j] = '\0';
    }
    run_signed(f[0], f[1], f[2], GOOD_CONTENT, strlen(GOOD_CONTENT));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char number[16];
    ra_registered out;
    if (!st)
        setup();
    if (size < 1)
        return 0;
    int mode = data[0] % 3;
    data++;
    size--;
    if (mode == 0) {
        int rc = register_body(data, size, &out);
        if (rc != LV_EINVAL && rc != LV_EAUTH)
            abort();
    } else if (mode == 1) {
        dni_of(data, size, number);
        run_signed(number, "Juan", "Perez Gomez", data, size);
    } else {
        run_names(data, size);
    }
    ERR_clear_error(); /* OpenSSL's queue would grow the heap run by run */
    return 0;
}
