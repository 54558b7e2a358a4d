/* The Cloud Signature Consortium API (R10.4): v2.0.0.2 under /csc/v2/ and
 * the v1.0.4.0 shapes under /csc/v1/, over the same sign/ machinery.
 *
 * Authentication (CSC API v2.0.0.2 §8): auth/login with HTTP Basic (the
 * citizen's user id and password) gives a bearer access token, a citizen
 * session; every other call but info needs it, and http_access.c checks it
 * (and reads the body) before a handler runs, as the routes' table at the
 * end declares.  Operators' tokens are refused (R5.2).  PIN is
 * the citizen's password, OTP the SMS code (R3.4).  Errors follow the
 * specification: {"error": "invalid_request", "error_description": ...}
 * with 400, 401 invalid_token, 403 access_denied, and for a wrong PIN or
 * OTP v2's invalid_authentication_data (v1: invalid_pin / invalid_otp).
 * Every other path under /csc/ answers in that shape too (404, 405, 501 for
 * the methods not offered: http_csc_util.c). */
#include "http/http_csc_internal.h"
#include "oauth/oauth.h"

#include <limits.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_CSC ((size_t)256 * 1024)
#define BODY_DOC ((size_t)8 * 1024 * 1024)

#define OID_RSA "1.2.840.113549.1.1.1"
#define OID_RSA_SHA256 "1.2.840.113549.1.1.11"
#define OID_RSA_SHA384 "1.2.840.113549.1.1.12"
#define OID_RSA_SHA512 "1.2.840.113549.1.1.13"

typedef struct csc_call {
    lv_app *app;
    const lv_http_req *req;
    lv_http_resp *resp;
    int v2;
    lv_store *st;
    lv_principal who;
    json_t *body;
    lv_sign_env env;
    char serial[65]; /* the credential named (credential_serial) */
} csc_call;

/* ---- answers
 * ------------------------------------------------------------------ */

static int csc_json(lv_http_resp *resp, int status, json_t *o)
{
    return http_resp_json_new(resp, status, o, "no-store");
}

static int csc_error(lv_http_resp *resp, int status, const char *error,
                     const char *desc)
{
    return http_resp_csc_error(resp, status, error, desc);
}

/* Fills resp with the error and returns code (for early returns). */
static int csc_refuse(lv_http_resp *resp, int status, const char *error,
                      const char *desc, int code)
{
    csc_error(resp, status, error, desc);
    return code;
}

/* LV codes and refusals to the CSC error table.  A wrong PIN or OTP is
 * v2's invalid_authentication_data (§11.6); v1 names them apart. */
static int csc_fail_v(lv_http_resp *resp, int v2, int rc, lv_sign_refusal why,
                      const lv_err *err)
{
    const char *m = err && err->msg[0] ? err->msg : lv_err_name(rc);
    if (rc == LV_ELIMIT && err)
        return http_csc_limit(resp, err);
    if (v2 && (why == LV_SIGN_BAD_PASSWORD || why == LV_SIGN_BAD_OTP))
        return csc_error(resp, 400, "invalid_authentication_data", m);
    if (why == LV_SIGN_BAD_PASSWORD)
        return csc_error(resp, 400, "invalid_pin", m);
    if (why == LV_SIGN_BAD_OTP)
        return csc_error(resp, 400, "invalid_otp", m);
    /* §11.6: "Credential locked" is 400 invalid_request on v2 */
    if (why == LV_SIGN_LOCKED && !v2)
        return csc_error(resp, 403, "access_denied", m);
    if (why == LV_SIGN_LOCKED || rc == LV_EPERM)
        return csc_error(resp, 400, "invalid_request", m);
    switch (rc) {
    case LV_EINVAL:
    case LV_ENOTFOUND:
    case LV_ESTATE:
    case LV_EEXISTS:
    case LV_ETOOBIG:
        return csc_error(resp, 400, "invalid_request", m);
    case LV_EAUTH:
        return csc_error(resp, 401, "invalid_token", m);
    case LV_ESEALED:
    case LV_EBUSY: /* the TSA refused a time-stamp: the SAD was given back */
        return csc_error(resp, 503, "temporarily_unavailable", m);
    default:
        return csc_error(resp, 500, "server_error", m);
    }
}

static int csc_fail(const csc_call *c, int rc, lv_sign_refusal why,
                    const lv_err *err)
{
    return csc_fail_v(c->resp, c->v2, rc, why, err);
}

/* ---- request bodies
 * -------------------------------------------------------------------
 * Each method accepts exactly the input members its table in the
 * specification defines (CSC API v1.0.4.0 §11, v2.0.0.2 §11), so that a
 * conforming client is never refused and a misspelt member never silently
 * ignored; members llave has no use for (lang, clientData, description ...)
 * are accepted and ignored.  The hashes of sendOTP are our extension (R3.3,
 * docs/API.md).  v1 booleans and numbers may come as strings (v1 clients
 * send "true" and "1"): the body reader turns them into JSON values
 * (HTTP_TEXT).  The routes' table at the end names each method's table. */
#define V1_FIELD(n, t)                                                         \
    {                                                                          \
        (n), .types = (t) | HTTP_STR, .flags = HTTP_TEXT                       \
    }

static const http_body_field INFO[] = {HTTP_FIELD("lang", HTTP_STR), {0}};

static const http_body_field LOGIN[] = {HTTP_FIELD("refresh_token", HTTP_STR),
                                        HTTP_FIELD("rememberMe", HTTP_BOOL),
                                        HTTP_FIELD("clientData", HTTP_STR),
                                        {0}};

static const http_body_field LOGIN_V1[] = {
    HTTP_FIELD("refresh_token", HTTP_STR),
    V1_FIELD("rememberMe", HTTP_BOOL),
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

static const http_body_field REVOKE[] = {
    HTTP_FIELD_REQ("token", HTTP_STR),
    HTTP_FIELD("token_type_hint", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

/* userID: null, or refused (a citizen's token is user-bound: §11.4) */
static const http_body_field LIST_V2[] = {
    HTTP_FIELD("userID", HTTP_STR | HTTP_NULL),
    HTTP_FIELD("credentialInfo", HTTP_BOOL),
    HTTP_FIELD("certificates", HTTP_STR),
    HTTP_FIELD("certInfo", HTTP_BOOL),
    HTTP_FIELD("authInfo", HTTP_BOOL),
    HTTP_FIELD("onlyValid", HTTP_BOOL),
    HTTP_FIELD("lang", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

static const http_body_field LIST_V1[] = {
    HTTP_FIELD("userID", HTTP_STR | HTTP_NULL),
    V1_FIELD("maxResults", HTTP_INT),
    HTTP_FIELD("pageToken", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

static const http_body_field CRED_INFO_V2[] = {
    HTTP_FIELD_REQ("credentialID", HTTP_STR),
    HTTP_FIELD("certificates", HTTP_STR),
    HTTP_FIELD("certInfo", HTTP_BOOL),
    HTTP_FIELD("authInfo", HTTP_BOOL),
    HTTP_FIELD("lang", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

static const http_body_field CRED_INFO_V1[] = {
    HTTP_FIELD_REQ("credentialID", HTTP_STR),
    HTTP_FIELD("certificates", HTTP_STR),
    V1_FIELD("certInfo", HTTP_BOOL),
    V1_FIELD("authInfo", HTTP_BOOL),
    HTTP_FIELD("lang", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

static const http_body_field SEND_OTP_V2[] = {
    HTTP_FIELD_REQ("credentialID", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    {"hashes", .types = HTTP_ARR, .items = HTTP_STR},
    HTTP_FIELD("hashAlgorithmOID", HTTP_STR),
    {0}};

static const http_body_field SEND_OTP_V1[] = {
    HTTP_FIELD_REQ("credentialID", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    {"hash", .types = HTTP_ARR, .items = HTTP_STR},
    HTTP_FIELD("hashAlgo", HTTP_STR),
    {0}};

static const http_body_field AUTH_DATA[] = {
    HTTP_FIELD_REQ("id", HTTP_STR), HTTP_FIELD_REQ("value", HTTP_STR), {0}};

/* description: "at most 500 characters" (v1.0.4.0 and v2.0.0.2 §11.6) */
#define DESCRIPTION                                                            \
    {                                                                          \
        "description", .types = HTTP_STR, .flags = HTTP_CHARS, .max_len = 500  \
    }

static const http_body_field AUTHORIZE_V2[] = {
    HTTP_FIELD_REQ("credentialID", HTTP_STR),
    HTTP_FIELD_REQ("numSignatures", HTTP_INT),
    {"hashes", .types = HTTP_ARR, .items = HTTP_STR},
    HTTP_FIELD("hashAlgorithmOID", HTTP_STR),
    {"authData", .types = HTTP_ARR, .items = HTTP_OBJ, .members = AUTH_DATA},
    DESCRIPTION,
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

static const http_body_field AUTHORIZE_V1[] = {
    HTTP_FIELD_REQ("credentialID", HTTP_STR),
    {"numSignatures", .types = HTTP_INT | HTTP_STR,
     .flags = HTTP_REQUIRED | HTTP_TEXT},
    {"hash", .types = HTTP_ARR, .items = HTTP_STR},
    HTTP_FIELD("PIN", HTTP_STR),
    HTTP_FIELD("OTP", HTTP_STR),
    DESCRIPTION,
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

static const http_body_field EXTEND_V2[] = {
    HTTP_FIELD_REQ("credentialID", HTTP_STR),
    {"hashes", .types = HTTP_ARR, .items = HTTP_STR},
    HTTP_FIELD("hashAlgorithmOID", HTTP_STR),
    HTTP_FIELD_REQ("SAD", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

static const http_body_field EXTEND_V1[] = {
    HTTP_FIELD_REQ("credentialID", HTTP_STR),
    {"hash", .types = HTTP_ARR, .items = HTTP_STR},
    HTTP_FIELD_REQ("SAD", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

static const http_body_field SIGN_HASH_V2[] = {
    HTTP_FIELD_REQ("credentialID", HTTP_STR),
    /* CSC v2 §8: absent when the Bearer is a scope-credential token */
    HTTP_FIELD("SAD", HTTP_STR),
    {"hashes", .types = HTTP_ARR, .flags = HTTP_REQUIRED, .items = HTTP_STR},
    HTTP_FIELD("hashAlgorithmOID", HTTP_STR),
    HTTP_FIELD_REQ("signAlgo", HTTP_STR), /* §11.10: REQUIRED */
    HTTP_FIELD("signAlgoParams", HTTP_STR),
    HTTP_FIELD("operationMode", HTTP_STR),
    HTTP_FIELD("validity_period", HTTP_INT),
    HTTP_FIELD("response_uri", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

static const http_body_field SIGN_HASH_V1[] = {
    HTTP_FIELD_REQ("credentialID", HTTP_STR),
    HTTP_FIELD_REQ("SAD", HTTP_STR),
    {"hash", .types = HTTP_ARR, .flags = HTTP_REQUIRED, .items = HTTP_STR},
    HTTP_FIELD("hashAlgo", HTTP_STR),
    HTTP_FIELD("signAlgo", HTTP_STR),
    HTTP_FIELD("signAlgoParams", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    {0}};

/* §11.11's attribute object */
static const http_body_field SIGNED_PROP[] = {
    HTTP_FIELD_REQ("attribute_name", HTTP_STR),
    HTTP_FIELD("attribute_value", HTTP_STR),
    {0}};

/* documents[] and documentDigests[] items: the same options, with the
 * document or its hashes; signAlgo is REQUIRED in both (§11.11) */
#define SIGN_DOC_OPTIONS                                                       \
    HTTP_FIELD_REQ("signature_format", HTTP_STR),                              \
        HTTP_FIELD("conformance_level", HTTP_STR),                             \
        HTTP_FIELD_REQ("signAlgo", HTTP_STR),                                  \
        HTTP_FIELD("signAlgoParams", HTTP_STR),                                \
        {"signed_props", .types = HTTP_ARR, .items = HTTP_OBJ,                 \
         .members = SIGNED_PROP},                                              \
        HTTP_FIELD("signed_envelope_property", HTTP_STR)

static const http_body_field SIGN_DOC_DOCUMENT[] = {
    HTTP_FIELD_REQ("document", HTTP_STR), SIGN_DOC_OPTIONS, {0}};

static const http_body_field SIGN_DOC_DIGESTS[] = {
    {"hashes", .types = HTTP_ARR, .flags = HTTP_REQUIRED, .items = HTTP_STR},
    HTTP_FIELD("hashAlgorithmOID", HTTP_STR),
    SIGN_DOC_OPTIONS,
    {0}};

/* credentialID or signatureQualifier (§11.11) */
static const http_body_field SIGN_DOC[] = {
    HTTP_FIELD("credentialID", HTTP_STR),
    HTTP_FIELD("signatureQualifier", HTTP_STR),
    HTTP_FIELD_REQ("SAD", HTTP_STR),
    {"documentDigests", .types = HTTP_ARR, .items = HTTP_OBJ,
     .members = SIGN_DOC_DIGESTS},
    {"documents", .types = HTTP_ARR, .items = HTTP_OBJ,
     .members = SIGN_DOC_DOCUMENT},
    HTTP_FIELD("operationMode", HTTP_STR),
    HTTP_FIELD("validity_period", HTTP_INT),
    HTTP_FIELD("response_uri", HTTP_STR),
    HTTP_FIELD("clientData", HTTP_STR),
    HTTP_FIELD("returnValidationInfo", HTTP_BOOL),
    {0}};

/* ---- request plumbing
 * ---------------------------------------------------------------- */

/* One handler serves a method in both versions: the version is the path's. */
static int csc_v2(const lv_http_req *req)
{
    return strncmp(req->path, "/csc/v2/", 8) == 0;
}

/* The caller (a citizen's session on every route but info and auth/login)
 * and the body were checked by http_access.c as the route declares. */
static void csc_init(csc_call *c, lv_app *app, const lv_http_req *req,
                     lv_http_resp *resp)
{
    memset(c, 0, sizeof *c);
    c->app = app;
    c->req = req;
    c->resp = resp;
    c->v2 = csc_v2(req);
    c->st = req->st;
    c->who = req->who;
    c->body = req->json;
    /* remote_addr: throttling and rate limits key on it (issue 11) */
    c->env = http_sign_env(app, req);
}

/* A boolean member (strings already turned into booleans, HTTP_TEXT). */
static int bool_param(csc_call *c, const char *name, int dflt)
{
    json_t *v = json_object_get(c->body, name);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* Base64 or base64url (CSC v2 hashes), padding optional. */
static int b64_any(const char *in, unsigned char **out, size_t *len)
{
    size_t n = strlen(in);
    char *t = malloc(n + 4);
    if (!t)
        return LV_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        if (ch == '-')
            ch = '+';
        else if (ch == '_')
            ch = '/';
        t[i] = ch;
    }
    while (n % 4)
        t[n++] = '=';
    int rc = lv_b64_decode(t, n, out, len);
    free(t);
    return rc;
}

/* The hash algorithm: hashAlgorithmOID / hashAlgo, or implied by signAlgo,
 * or (v1 authorize) by the hash length. */
static const EVP_MD *md_from(csc_call *c, const char *hash_key, size_t len)
{
    const char *oid = json_string_value(json_object_get(c->body, hash_key));
    const char *sa = json_string_value(json_object_get(c->body, "signAlgo"));
    if (oid)
        return sign_md_by_oid(oid);
    if (sa && strcmp(sa, OID_RSA_SHA256) == 0)
        return EVP_sha256();
    if (sa && strcmp(sa, OID_RSA_SHA384) == 0)
        return EVP_sha384();
    if (sa && strcmp(sa, OID_RSA_SHA512) == 0)
        return EVP_sha512();
    return len == 32   ? EVP_sha256()
           : len == 48 ? EVP_sha384()
           : len == 64 ? EVP_sha512()
                       : NULL;
}

/* v2 (§11.6, §11.9, §11.10; change history: "each time hash values are
 * provided, the hash algorithm OID must also be provided"): hashAlgorithmOID,
 * unless signAlgo names the hash (signHash). */
static int v2_hash_oid(csc_call *c)
{
    const char *oid = lv_json_str(c->body, "hashAlgorithmOID");
    const char *sa = lv_json_str(c->body, "signAlgo");
    if (oid && !sign_md_by_oid(oid))
        return csc_refuse(c->resp, 400, "invalid_request",
                          "Invalid parameter hashAlgorithmOID (SHA-256, "
                          "SHA-384 or SHA-512)",
                          LV_EINVAL);
    if (oid || (sa && (strcmp(sa, OID_RSA_SHA256) == 0 ||
                       strcmp(sa, OID_RSA_SHA384) == 0 ||
                       strcmp(sa, OID_RSA_SHA512) == 0)))
        return 0;
    return csc_refuse(c->resp, 400, "invalid_request",
                      "Missing (or invalid type) string parameter "
                      "hashAlgorithmOID",
                      LV_EINVAL);
}

/* The hash array (v2 "hashes", v1 "hash") laid end to end. */
static int hashes_param(csc_call *c, int required, const EVP_MD **md,
                        lv_buf *out)
{
    const char *key = c->v2 ? "hashes" : "hash";
    json_t *a = json_object_get(c->body, key);
    char m[160];
    memset(out, 0, sizeof *out);
    *md = NULL;
    if (!a && !required)
        return 0;
    if (!json_is_array(a) || json_array_size(a) == 0 ||
        json_array_size(a) > LV_SIGN_HASHES_MAX) {
        snprintf(m, sizeof m, "Missing (or invalid type) array parameter %s",
                 key);
        return csc_refuse(c->resp, 400, "invalid_request", m, LV_EINVAL);
    }
    if (c->v2)
        LV_TRY(v2_hash_oid(c));
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        unsigned char *raw = NULL;
        size_t len = 0;
        if (!s || b64_any(s, &raw, &len) < 0 || len == 0) {
            free(raw);
            lv_buf_free(out);
            return csc_refuse(c->resp, 400, "invalid_request",
                              "Invalid Base64 hash string parameter",
                              LV_EINVAL);
        }
        if (!*md)
            *md = md_from(c, c->v2 ? "hashAlgorithmOID" : "hashAlgo", len);
        int bad = !*md || len != (size_t)EVP_MD_get_size(*md) ||
                  lv_buf_append(out, raw, len) < 0;
        free(raw);
        if (bad) {
            lv_buf_free(out);
            return csc_refuse(c->resp, 400, "invalid_request",
                              "Invalid digest value length or hash "
                              "algorithm (SHA-256, SHA-384, SHA-512)",
                              LV_EINVAL);
        }
    }
    return 0;
}

/* signAlgoParams (§11.10: "if required by the signature algorithm"):
 * PKCS#1 v1.5 has none, so only absent or the ASN.1 NULL RFC 8017 A.2.4
 * writes for it ("BQA="). */
static int no_sign_params(const char *params)
{
    unsigned char *der = NULL;
    size_t len = 0;
    if (!params)
        return 1;
    int ok = lv_b64_decode(params, strlen(params), &der, &len) == 0 &&
             len == 2 && der[0] == 0x05 && der[1] == 0x00;
    free(der);
    return ok;
}

static int is_rsa_hash_algo(const char *sa)
{
    return strcmp(sa, OID_RSA_SHA256) == 0 || strcmp(sa, OID_RSA_SHA384) == 0 ||
           strcmp(sa, OID_RSA_SHA512) == 0;
}

/* signAlgo and signAlgoParams of obj (the signHash body, or one entry of
 * signDoc's documents[] or documentDigests[]): RSA PKCS#1 v1.5, plain or
 * naming the hash of the hashes (the credential's key/algo); a signAlgo
 * naming another hash than hashAlgorithmOID is §11.11's contradiction. */
static int sign_algo_ok(csc_call *c, const json_t *obj, const EVP_MD *md)
{
    const char *sa = lv_json_str(obj, "signAlgo");
    const char *want = EVP_MD_is_a(md, "SHA256")   ? OID_RSA_SHA256
                       : EVP_MD_is_a(md, "SHA384") ? OID_RSA_SHA384
                                                   : OID_RSA_SHA512;
    if (sa && strcmp(sa, OID_RSA) != 0 && strcmp(sa, want) != 0)
        return csc_refuse(
            c->resp, 400, "invalid_request",
            is_rsa_hash_algo(sa)
                ? "String parameter hashAlgorithmOID contradicts with "
                  "signAlgo parameter"
                : "Invalid parameter signAlgo: RSA PKCS#1 v1.5 ("
                  "1.2.840.113549.1.1.1, .11, .12 or .13), the credential's "
                  "key/algo",
            LV_EINVAL);
    if (!no_sign_params(lv_json_str(obj, "signAlgoParams")))
        return csc_refuse(c->resp, 400, "invalid_request",
                          "Invalid parameter signAlgoParams: RSA PKCS#1 "
                          "v1.5 takes none (or the ASN.1 NULL)",
                          LV_EINVAL);
    return 0;
}

/* operationMode "A" (asynchronous, answered at response_uri) is not
 * offered: refused, rather than answered synchronously against the
 * client's request. */
static int sync_only(csc_call *c)
{
    const char *mode = lv_json_str(c->body, "operationMode");
    if (!mode || strcmp(mode, "S") == 0)
        return 0;
    return csc_refuse(c->resp, 400, "invalid_request",
                      "Invalid parameter operationMode: only \"S\" "
                      "(synchronous) is offered",
                      LV_EINVAL);
}

/* ---- info and auth
 * ---------------------------------------------------------------------- */

static json_t *methods_json(int v2)
{
    json_t *m =
        json_pack("[s, s, s, s, s, s, s, s, s]", "auth/login", "auth/revoke",
                  "credentials/list", "credentials/info",
                  "credentials/authorize", "credentials/extendTransaction",
                  "credentials/sendOTP", "signatures/signHash", "info");
    const char *v2_only[] = {"signatures/signDoc", "oauth2/authorize",
                             "oauth2/token", "oauth2/revoke"};
    for (size_t i = 0; m && v2 && i < sizeof v2_only / sizeof v2_only[0]; i++)
        json_array_append_new(m, json_string(v2_only[i]));
    return m;
}

/* info.lang (RFC 5646): Spanish where it is asked for and a translation
 * exists, English otherwise (§11.1: the language of the answers). */
static int lang_es(const json_t *body)
{
    const char *l = lv_json_str(body, "lang");
    return l && strncasecmp(l, "es", 2) == 0 && (l[2] == '\0' || l[2] == '-');
}

/* CSC v2 §8, §11.1: the authorization code flow (oauth/) beside Basic;
 * oauth2 is the base the oauth2/authorize, token and revoke paths hang
 * from. */
static void info_oauth2(json_t *o, const lv_config *cfg)
{
    char base[300];
    snprintf(base, sizeof base, "%s/csc/v2", cfg->public_url);
    json_object_set_new(o, "authType",
                        json_pack("[s, s]", "basic", "oauth2code"));
    json_object_set_new(o, "oauth2", json_string(base));
}

static void info_v2(json_t *o)
{
    json_object_set_new(o, "signAlgorithms",
                        json_pack("{s:[s, s, s, s]}", "algos", OID_RSA,
                                  OID_RSA_SHA256, OID_RSA_SHA384,
                                  OID_RSA_SHA512));
    json_object_set_new(o, "signature_formats",
                        json_pack("{s:[s, s, s], s:[[s, s], [s, s], [s]]}",
                                  "formats", "C", "X", "P",
                                  "envelope_properties", "Attached", "Detached",
                                  "Enveloped", "Detached", "Revision"));
    /* B-LT and B-LTA: PAdES only */
    json_object_set_new(o, "conformance_levels",
                        json_pack("[s, s, s, s]", "Ades-B-B", "Ades-B-T",
                                  "Ades-B-LT", "Ades-B-LTA"));
    /* signDoc's returnValidationInfo is offered; operationMode "A" is not */
    json_object_set_new(o, "validationInfo", json_true());
    json_object_set_new(o, "asynchronousOperationMode", json_false());
}

/* The body (lang only) may be empty, and a GET has none: it reads as {}. */
static int info(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    const lv_config *cfg = lv_app_config(app);
    int v2 = csc_v2(req), es = lang_es(req->json);
    char logo[300];
    snprintf(logo, sizeof logo, "%s/csc/logo.png", cfg->public_url);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:o}", "specs",
        v2 ? "2.0.0.2" : "1.0.4.0", "name", cfg->org_name, "logo", logo,
        "region", cfg->org_country, "lang", es ? "es-ES" : "en-US",
        "description",
        es ? "Servicio de firma remota llave: contraseña y código SMS (SCAL2)"
           : "llave remote signing service: password + SMS OTP (SCAL2)",
        "authType", "basic", "methods", methods_json(v2));
    if (o && v2) {
        info_v2(o);
        info_oauth2(o, cfg);
    }
    return csc_json(resp, 200, o);
}

/* Room for any user id and password auth/ could accept (longer ones are
 * refused as a wrong login, as before; these only bound the copy). */
#define LOGIN_USER_MAX 256
#define LOGIN_PASSWORD_MAX 1024

/* auth/login: HTTP Basic user id and password -> access token (CSC API
 * v2.0.0.2 §8: the service authenticates the user with Basic and answers
 * the bearer token the other calls carry).  A wrong user id or password
 * is §11.2's "Authentication error": 400 authentication_error on v2; v1
 * keeps the 401 its clients were given. */
static int auth_login(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char user[LOGIN_USER_MAX], pass[LOGIN_PASSWORD_MAX];
    lv_err err = {0};
    lv_session_token t = {0};
    int rc = http_req_basic(req, user, sizeof user, pass, sizeof pass);
    rc = rc < 0 ? LV_EINVAL
                : auth_citizen_login(lv_app_auth(app), req->st, user, pass,
                                     req->remote_addr, &t, &err);
    OPENSSL_cleanse(pass, sizeof pass);
    if (rc == LV_EINVAL)
        rc = csc_error(resp, 400, "invalid_request",
                       "HTTP Basic authentication with the user id and "
                       "password is required");
    else if (rc == LV_ELIMIT)
        rc = http_csc_limit(resp, &err);
    else if (rc < 0)
        rc = csc_error(resp, csc_v2(req) ? 400 : 401, "authentication_error",
                       err.msg);
    else
        rc = csc_json(resp, 200,
                      json_pack("{s:s, s:I}", "access_token", t.token,
                                "expires_in",
                                (json_int_t)(t.expires_at - lv_now())));
    auth_token_wipe(&t);
    return rc;
}

/* auth/revoke: ends the session of the token given (§11.3: required). */
static int auth_revoke(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    csc_call c;
    lv_err err = {0};
    csc_init(&c, app, req, resp);
    const char *tok = lv_json_str(c.body, "token");
    int rc = 0;
    if (auth_session_end(c.env.auth, c.st, tok, &err) < 0)
        rc = csc_fail(&c, LV_EINVAL, LV_SIGN_OK, &err);
    else
        rc = http_csc_no_content(resp);
    return rc < 0 ? 0 : rc;
}

/* ---- credentials
 * ------------------------------------------------------------------------ */

/* cert/status: valid, expired, revoked or suspended (§11.4); a
 * certificate not yet valid has none of these, so NULL (the member is
 * OPTIONAL and left out). */
static const char *cert_status(const lv_sign_cred *r)
{
    int64_t now = lv_now();
    if (r->revoked)
        return "revoked";
    if (r->not_after <= now)
        return "expired";
    return r->not_before > now ? NULL : "valid";
}

static void gtime(int64_t t, char out[20])
{
    char iso[32];
    lv_time_iso(t, iso); /* 2026-11-24T23:45:00Z -> 20261124234500Z */
    snprintf(out, 20, "%.4s%.2s%.2s%.2s%.2s%.2sZ", iso, iso + 5, iso + 8,
             iso + 11, iso + 14, iso + 17);
}

static json_t *x509_b64(X509 *x)
{
    unsigned char *der = NULL;
    int len = x ? i2d_X509(x, &der) : -1;
    json_t *s = len > 0 ? lv_json_b64(der, (size_t)len) : NULL;
    OPENSSL_free(der);
    return s;
}

static json_t *certs_json(csc_call *c, const lv_sign_cred *r, const char *mode)
{
    json_t *a = json_array();
    if (!a || strcmp(mode, "none") == 0)
        return a;
    json_array_append_new(a, lv_json_b64(r->der, r->der_len));
    if (strcmp(mode, "chain") == 0 && c->env.ca) {
        json_array_append_new(a, x509_b64(ca_cert(c->env.ca, r->ca)));
        json_array_append_new(
            a, x509_b64(ca_cert(c->env.ca, c->env.cfg->root_name)));
    }
    return a;
}

static json_t *cert_json(csc_call *c, const lv_sign_cred *r, const char *mode,
                         int cert_info)
{
    json_t *o = json_object();
    if (o && cert_status(r))
        json_object_set_new(o, "status", json_string(cert_status(r)));
    if (o && strcmp(mode, "none") != 0)
        json_object_set_new(o, "certificates", certs_json(c, r, mode));
    if (o && cert_info) {
        const unsigned char *p = r->der;
        X509 *x = d2i_X509(NULL, &p, (long)r->der_len);
        char issuer[512] = "", subject[512] = "", from[20], to[20];
        if (x) { /* RFC 4514 (§11.4) */
            lv_dn_rfc4514(X509_get_issuer_name(x), issuer, sizeof issuer);
            lv_dn_rfc4514(X509_get_subject_name(x), subject, sizeof subject);
        }
        X509_free(x);
        gtime(r->not_before, from);
        gtime(r->not_after, to);
        json_object_update_missing_new(
            o, json_pack("{s:s, s:s, s:s, s:s, s:s}", "issuerDN", issuer,
                         "serialNumber", r->serial, "subjectDN", subject,
                         "validFrom", from, "validTo", to));
    }
    return o;
}

static json_t *auth_json(int v2)
{
    if (v2)
        return json_pack(
            "{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, "
            "s:s, s:s}]}",
            "mode", "explicit", "expression", "PIN AND OTP", "objects", "type",
            "Password", "id", "PIN", "format", "A", "label", "Password",
            "description", "Your Cl@ve password", "type", "Password", "id",
            "OTP", "format", "N", "generator", "sms", "label", "OTP",
            "description", "The code sent to your mobile");
    return NULL;
}

static json_t *credential_json(csc_call *c, const lv_sign_cred *r,
                               const char *mode, int cert_info, int auth_info)
{
    json_t *o = json_pack("{s:s, s:{s:s, s:[s, s, s, s], s:i}, s:o, s:i, s:s}",
                          "description", r->profile, "key", "status",
                          !r->revoked ? "enabled" : "disabled", "algo", OID_RSA,
                          OID_RSA_SHA256, OID_RSA_SHA384, OID_RSA_SHA512, "len",
                          2048, "cert", cert_json(c, r, mode, cert_info),
                          "multisign", LV_SIGN_SIGNATURES_MAX, "lang", "en-US");
    if (!o)
        return NULL;
    if (c->v2) {
        json_object_set_new(o, "SCAL", json_string("2"));
        json_object_set_new(o, "signatureQualifier",
                            json_string(LV_SIGN_QUALIFIER));
        /* auth/mode is REQUIRED (§11.4, §11.5); its objects with it */
        json_object_set_new(o, "auth", auth_json(1));
        return o;
    }
    json_object_set_new(o, "SCAL", json_string("2"));
    json_object_set_new(o, "authMode", json_string("explicit"));
    if (auth_info) {
        json_object_set_new(o, "PIN",
                            json_pack("{s:s, s:s, s:s, s:s}", "presence",
                                      "true", "format", "A", "label",
                                      "Password", "description",
                                      "Your Cl@ve password"));
        json_object_set_new(
            o, "OTP",
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "presence", "true",
                      "type", "online", "format", "N", "label", "OTP",
                      "description", "The code sent to your mobile", "ID",
                      "sms", "provider", "llave"));
    }
    return o;
}

typedef struct list_ctx {
    json_t *ids;
    int only_valid;
} list_ctx;

static int list_one(const lv_sign_cred *r, void *p)
{
    list_ctx *l = p;
    const char *status = cert_status(r);
    if (l->only_valid && (!status || strcmp(status, "valid") != 0))
        return 0;
    json_array_append_new(l->ids, json_string(r->serial));
    return 0;
}

/* credentialInfo: the listing carries no DER, so each credential is read
 * through sign/ once the listing is done. */
static json_t *list_infos(csc_call *c, const json_t *ids, const char *mode,
                          int cert_info, int auth_info)
{
    json_t *infos = json_array();
    for (size_t i = 0; infos && i < json_array_size(ids); i++) {
        const char *serial = json_string_value(json_array_get(ids, i));
        lv_sign_cred full;
        if (sign_credential_get(c->st, c->who.id, serial, &full, NULL) < 0)
            continue;
        json_t *info = credential_json(c, &full, mode, cert_info, auth_info);
        sign_cred_free(&full);
        if (info)
            json_object_set_new(info, "credentialID", json_string(serial));
        json_array_append_new(infos, info);
    }
    return infos;
}

/* none, single (the default) or chain (§11.4); NULL, resp filled, for
 * anything else. */
static const char *certs_mode(csc_call *c)
{
    const char *m = json_string_value(json_object_get(c->body, "certificates"));
    if (!m)
        return "single";
    if (strcmp(m, "none") == 0 || strcmp(m, "single") == 0 ||
        strcmp(m, "chain") == 0)
        return m;
    csc_error(c->resp, 400, "invalid_request",
              "Invalid parameter certificates: none, single or chain");
    return NULL;
}

/* §11.4: the access token is user-bound, so userID must be absent (or
 * null); resp filled when not. */
static int no_user_id(csc_call *c)
{
    if (!json_is_string(json_object_get(c->body, "userID")))
        return 0;
    return csc_refuse(c->resp, 400, "invalid_request",
                      "userID parameter MUST be null: the access token "
                      "names the user",
                      LV_EINVAL);
}

static int cred_list(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    csc_call c;
    lv_err err = {0};
    csc_init(&c, app, req, resp);
    const char *mode = certs_mode(&c);
    if (!mode || no_user_id(&c) < 0)
        return 0;
    list_ctx l = {json_array(), bool_param(&c, "onlyValid", 0)};
    json_t *infos = NULL;
    int rc = sign_credential_foreach(c.st, c.who.id, list_one, &l, &err);
    if (rc == 0 && c.v2 && bool_param(&c, "credentialInfo", 0))
        infos = list_infos(&c, l.ids, mode, bool_param(&c, "certInfo", 0),
                           bool_param(&c, "authInfo", 0));
    if (rc < 0) {
        rc = csc_fail(&c, rc, LV_SIGN_OK, &err);
    } else {
        json_t *o = json_pack("{s:O}", "credentialIDs", l.ids);
        if (o && infos)
            json_object_set(o, "credentialInfos", infos);
        if (o && c.v2)
            json_object_set_new(o, "onlyValid", json_boolean(l.only_valid));
        rc = csc_json(resp, 200, o);
    }
    json_decref(l.ids);
    json_decref(infos);
    return rc;
}

/* The credential of credentialID, one of the caller's; resp filled when
 * not. */
static int credential_param(csc_call *c, lv_sign_cred *out)
{
    const char *id = lv_json_str(c->body, "credentialID");
    lv_err err = {0};
    if (sign_credential_get(c->st, c->who.id, id, out, &err) < 0)
        return csc_refuse(c->resp, 400, "invalid_request",
                          "Invalid parameter credentialID", LV_EINVAL);
    return 0;
}

/* The serial of credentialID, in c->serial, for the methods that only
 * name the credential to sign/. */
static int credential_serial(csc_call *c)
{
    lv_sign_cred r;
    LV_TRY(credential_param(c, &r));
    snprintf(c->serial, sizeof c->serial, "%s", r.serial);
    sign_cred_free(&r);
    return 0;
}

static int cred_info(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    csc_call c;
    lv_sign_cred r;
    csc_init(&c, app, req, resp);
    const char *mode = certs_mode(&c);
    if (!mode)
        return 0;
    int rc = credential_param(&c, &r);
    if (rc == 0) {
        rc = csc_json(resp, 200,
                      credential_json(&c, &r, mode,
                                      bool_param(&c, "certInfo", 0),
                                      bool_param(&c, "authInfo", 1)));
        sign_cred_free(&r);
    }
    return rc < 0 && resp->status ? 0 : rc;
}

/* credentials/sendOTP; "hashes"/"hash" with the algorithm bind the OTP
 * (our extension, R3.3). */
static int send_otp(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    csc_call c;
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    const EVP_MD *md = NULL;
    lv_buf hashes = {0};
    csc_init(&c, app, req, resp);
    int rc = credential_serial(&c);
    if (rc == 0)
        rc = hashes_param(&c, 0, &md, &hashes);
    if (rc == 0) {
        size_t n = md ? hashes.len / (size_t)EVP_MD_get_size(md) : 0;
        rc = sign_csc_send_otp(&c.env, c.st, c.who.id, c.serial, md,
                               hashes.data, n, &why, &err);
        rc = rc < 0 ? csc_fail(&c, rc, why, &err) : http_csc_no_content(resp);
    }
    lv_buf_free(&hashes);
    return rc < 0 && resp->status ? 0 : rc;
}

/* PIN and OTP: v1 top-level strings, v2 authData [{id, value}]. */
static void auth_data(csc_call *c, const char **pin, const char **otp)
{
    *pin = *otp = NULL;
    if (!c->v2) {
        *pin = json_string_value(json_object_get(c->body, "PIN"));
        *otp = json_string_value(json_object_get(c->body, "OTP"));
        return;
    }
    json_t *a = json_object_get(c->body, "authData");
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *id = lv_json_str(json_array_get(a, i), "id");
        const char *v = lv_json_str(json_array_get(a, i), "value");
        if (id && strcmp(id, "PIN") == 0)
            *pin = v;
        else if (id && strcmp(id, "OTP") == 0)
            *otp = v;
    }
}

/* numSignatures: an integer (a v1 string already turned into one by
 * csc_coerce), at least 1 (§11.6); sign/ bounds it by multisign. */
static int num_signatures(csc_call *c, int *out)
{
    json_t *n = json_object_get(c->body, "numSignatures");
    json_int_t v = json_integer_value(n);
    if (n && (v < 1 || v > INT_MAX))
        return csc_refuse(c->resp, 400, "invalid_request",
                          "Invalid value for parameter numSignatures",
                          LV_EINVAL);
    *out = (int)v;
    return 0;
}

/* authorize's and extendTransaction's answer, {SAD, expiresIn} or the
 * refusal; the SAD is wiped either way. */
static int sad_answer(csc_call *c, int rc, lv_sign_refusal why,
                      const lv_err *err, char sad[LV_SIGN_SAD_LEN + 1],
                      int expires)
{
    rc = rc < 0 ? csc_fail(c, rc, why, err)
                : csc_json(c->resp, 200,
                           json_pack("{s:s, s:i}", "SAD", sad, "expiresIn",
                                     expires));
    OPENSSL_cleanse(sad, LV_SIGN_SAD_LEN + 1);
    return rc;
}

static int authorize(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    csc_call c;
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    const EVP_MD *md = NULL;
    lv_buf hashes = {0};
    const char *pin, *otp;
    char sad[LV_SIGN_SAD_LEN + 1];
    int num = 0, expires = 0;
    csc_init(&c, app, req, resp);
    int rc = credential_serial(&c);
    if (rc == 0)
        rc = num_signatures(&c, &num);
    if (rc == 0)
        rc = hashes_param(&c, 1, &md, &hashes);
    auth_data(&c, &pin, &otp);
    if (rc == 0 && (!pin || !otp))
        rc = csc_refuse(resp, 400, "invalid_request",
                        c.v2 ? "authData must carry PIN and OTP"
                             : "Missing (or invalid type) string parameter "
                               "PIN or OTP",
                        LV_EINVAL);
    if (rc == 0) {
        rc = sign_csc_authorize(&c.env, c.st, c.who.id, c.serial, md,
                                hashes.data,
                                hashes.len / (size_t)EVP_MD_get_size(md), num,
                                pin, otp, sad, &expires, &why, &err);
        rc = sad_answer(&c, rc, why, &err, sad, expires);
    }
    lv_buf_free(&hashes);
    return rc < 0 && resp->status ? 0 : rc;
}

/* credentials/extendTransaction (§11.9): a new SAD bound to the hashes
 * sent (§13.12's next PDF signature).  v2's hashes are REQUIRED for a
 * SCAL 2 credential, which every llave credential is; v1 may renew the
 * old SAD's hashes without them. */
static int extend(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    csc_call c;
    lv_err err = {0};
    const EVP_MD *md = NULL;
    lv_buf hashes = {0};
    char sad[LV_SIGN_SAD_LEN + 1];
    int expires = 0;
    csc_init(&c, app, req, resp);
    int rc = credential_serial(&c);
    if (rc == 0)
        rc = hashes_param(&c, c.v2, &md, &hashes);
    if (rc == 0) {
        size_t n = md ? hashes.len / (size_t)EVP_MD_get_size(md) : 0;
        rc = sign_csc_extend(c.st, c.who.id, c.serial,
                             lv_json_str(c.body, "SAD"), md, hashes.data, n,
                             sad, &expires, &err);
        rc = sad_answer(&c, rc, LV_SIGN_OK, &err, sad, expires);
    }
    lv_buf_free(&hashes);
    return rc < 0 && resp->status ? 0 : rc;
}

/* ---- signatures
 * -------------------------------------------------------------------------- */

static json_t *sigs_json(const unsigned char *sigs, size_t n, size_t len)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, lv_json_b64(sigs + i * len, len));
    return a;
}

static int sign_hash(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    csc_call c;
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    const EVP_MD *md = NULL;
    lv_buf hashes = {0};
    const char *sad = NULL;
    unsigned char *sigs = NULL;
    size_t len = 0;
    csc_init(&c, app, req, resp);
    int rc = credential_serial(&c);
    if (rc == 0)
        sad = lv_json_str(c.body, "SAD");
    if (rc == 0)
        rc = sync_only(&c);
    if (rc == 0)
        rc = hashes_param(&c, 1, &md, &hashes);
    if (rc == 0)
        rc = sign_algo_ok(&c, c.body, md);
    if (rc == 0) {
        size_t n = hashes.len / (size_t)EVP_MD_get_size(md);
        /* CSC v2 §8: without a SAD the Bearer must be the scope-credential
         * token of oauth2/token, which is the SAD (oauth_sign_hash) */
        rc = sad ? sign_csc_sign_hash(&c.env, c.st, c.who.id, c.serial, sad, md,
                                      hashes.data, n, &sigs, &len, &why, &err)
                 : oauth_sign_hash(&c.env, c.st, http_req_bearer(req), c.serial,
                                   md, hashes.data, n, &sigs, &len, &why, &err);
        rc = rc < 0 ? csc_fail(&c, rc, why, &err)
                    : csc_json(resp, 200,
                               json_pack("{s:o}", "signatures",
                                         sigs_json(sigs, n, len)));
    }
    free(sigs);
    lv_buf_free(&hashes);
    return rc < 0 && resp->status ? 0 : rc;
}

/* What one entry of documents[] or documentDigests[] asks for. */
typedef struct doc_req {
    char format;   /* 'C' CAdES, 'X' XAdES, 'P' PAdES */
    int timestamp; /* Ades-B-T and above */
    int level;     /* 0 B-B, 1 B-T, 2 B-LT, 3 B-LTA (LT, LTA: PAdES only) */
    int embedded;  /* CAdES Attached, XAdES Enveloped, PAdES: in
                      DocumentWithSignature */
    const EVP_MD *md;
} doc_req;

static int doc_refuse(csc_call *c, const char *m)
{
    return csc_refuse(c->resp, 400, "invalid_request", m, LV_EINVAL);
}

/* §11.11's baseline levels (EN 319 1x2-1), default Ades-B-B; B-LT and
 * B-LTA only for PAdES (EN 319 142-1 §6).  Values are compared exactly:
 * the table spells them "Ades-B-B", the default and the sample request
 * "AdES-B-B" (ETSI's spelling), so both are the specification's; any
 * other case is refused.  "Ades-B", "Ades-T", "Ades-LT" and "Ades-LTA"
 * name the older ETSI TS baselines, which llave does not produce. */
static int doc_level(csc_call *c, const json_t *d, doc_req *dr)
{
    static const char *const NAMES[][2] = {{"Ades-B-B", "AdES-B-B"},
                                           {"Ades-B-T", "AdES-B-T"},
                                           {"Ades-B-LT", "AdES-B-LT"},
                                           {"Ades-B-LTA", "AdES-B-LTA"}};
    const char *lvl = lv_json_str(d, "conformance_level");
    int top = dr->format == 'P' ? 3 : 1;
    dr->level = lvl ? -1 : 0;
    for (int i = 0; lvl && i <= top; i++)
        if (strcmp(lvl, NAMES[i][0]) == 0 || strcmp(lvl, NAMES[i][1]) == 0)
            dr->level = i;
    if (dr->level < 0)
        return doc_refuse(c, dr->format == 'P'
                                 ? "Invalid parameter conformance_level: "
                                   "Ades-B-B, Ades-B-T, Ades-B-LT or "
                                   "Ades-B-LTA (the ETSI TS levels Ades-B, "
                                   "Ades-T ... are not offered)"
                                 : "Invalid parameter conformance_level: "
                                   "Ades-B-B or Ades-B-T (B-LT and B-LTA: "
                                   "PAdES only; the ETSI TS levels Ades-B, "
                                   "Ades-T ... are not offered)");
    dr->timestamp = dr->level >= 1;
    return 0;
}

/* PAdES (§11.11): "Revision", an approval signature, is what pades/ makes;
 * "Certification" (a DocMDP certification signature, ISO 32000-1
 * §12.8.2.2), the specification's default for P, is not offered, so the
 * property must be sent. */
static int doc_envelope_pdf(csc_call *c, const json_t *d, int has_doc,
                            doc_req *dr)
{
    const char *env = lv_json_str(d, "signed_envelope_property");
    if (!has_doc)
        return doc_refuse(c, "documentDigests: only a detached CAdES "
                             "signature; PAdES needs the PDF document");
    dr->embedded = 1;
    if (env && strcmp(env, "Revision") == 0)
        return 0;
    return doc_refuse(
        c, env && strcmp(env, "Certification") == 0
               ? "Invalid parameter signed_envelope_property: Certification "
                 "(a DocMDP certification signature) is not offered; send "
                 "Revision for an approval signature"
           : env ? "Invalid parameter signed_envelope_property: Revision"
                 : "Missing parameter signed_envelope_property: the default "
                   "for P, Certification, is not offered; send Revision");
}

/* §11.11's envelope properties (compared exactly, as the table spells
 * them) and defaults: CAdES Attached (Detached for a digest, which cannot
 * carry its document), XAdES Enveloped.  CAdES Parallel and XAdES
 * Enveloping are the specification's but not offered. */
static int doc_envelope(csc_call *c, const json_t *d, int has_doc, doc_req *dr)
{
    if (dr->format == 'P')
        return doc_envelope_pdf(c, d, has_doc, dr);
    const char *env = lv_json_str(d, "signed_envelope_property");
    const char *in = dr->format == 'C' ? "Attached" : "Enveloped";
    if (!env)
        env = has_doc ? in : "Detached";
    dr->embedded = strcmp(env, in) == 0;
    if (!dr->embedded && strcmp(env, "Detached") != 0)
        return doc_refuse(c, dr->format == 'C'
                                 ? "Invalid parameter signed_envelope_property:"
                                   " Attached or Detached (Parallel is not "
                                   "offered)"
                                 : "Invalid parameter signed_envelope_property:"
                                   " Enveloped or Detached (Enveloping is not "
                                   "offered)");
    if (!has_doc && (dr->embedded || dr->format == 'X'))
        return doc_refuse(c, "documentDigests: only a detached CAdES "
                             "signature; this one needs the document");
    return 0;
}

/* The hash algorithm: hashAlgorithmOID (a digest's), or the one signAlgo
 * names; a document without either is hashed with SHA-256, a digest must
 * say (§11.11). */
static int doc_md(csc_call *c, const json_t *d, int has_doc, doc_req *dr)
{
    const char *alg = lv_json_str(d, "hashAlgorithmOID");
    const char *sa = lv_json_str(d, "signAlgo");
    dr->md = alg                                     ? sign_md_by_oid(alg)
             : sa && strcmp(sa, OID_RSA_SHA256) == 0 ? EVP_sha256()
             : sa && strcmp(sa, OID_RSA_SHA384) == 0 ? EVP_sha384()
             : sa && strcmp(sa, OID_RSA_SHA512) == 0 ? EVP_sha512()
             : has_doc                               ? EVP_sha256()
                                                     : NULL;
    if (dr->md)
        return 0;
    return doc_refuse(c, alg ? "Invalid parameter hashAlgorithmOID"
                             : "Missing (or invalid type) string parameter "
                               "hashAlgorithmOID");
}

/* Asked-for attributes are refused, not silently left out: §11.11's
 * "Invalid parameter signed_props (list of invalid attributes)". */
static int no_signed_props(csc_call *c, const json_t *d)
{
    json_t *props = json_object_get(d, "signed_props");
    char m[400];
    size_t n =
        (size_t)snprintf(m, sizeof m, "Invalid parameter signed_props (");
    if (json_array_size(props) == 0)
        return 0;
    for (size_t i = 0; i < json_array_size(props) && n < sizeof m; i++) {
        const char *a = lv_json_str(json_array_get(props, i), "attribute_name");
        n += (size_t)snprintf(m + n, sizeof m - n, "%s%s", i ? ", " : "",
                              a ? a : "?");
    }
    if (n < sizeof m)
        snprintf(m + n, sizeof m - n,
                 "): no further signed attributes are offered");
    return doc_refuse(c, m);
}

/* One entry of documents[] or documentDigests[]: CAdES ("C"), XAdES ("X")
 * or PAdES ("P"), conformance Ades-B-B or Ades-B-T (PAdES also B-LT and
 * B-LTA), no further signed properties. */
static int doc_options(csc_call *c, const json_t *d, int has_doc, doc_req *dr)
{
    const char *fmt = lv_json_str(d, "signature_format");
    memset(dr, 0, sizeof *dr);
    if (!fmt || (strcmp(fmt, "C") != 0 && strcmp(fmt, "X") != 0 &&
                 strcmp(fmt, "P") != 0))
        return doc_refuse(c, "Invalid parameter signature_format: \"C\" "
                             "(CAdES), \"X\" (XAdES) or \"P\" (PAdES)");
    dr->format = fmt[0];
    LV_TRY(no_signed_props(c, d));
    LV_TRY(doc_level(c, d, dr));
    LV_TRY(doc_envelope(c, d, has_doc, dr));
    LV_TRY(doc_md(c, d, has_doc, dr));
    return sign_algo_ok(c, d, dr->md);
}

typedef struct doc_out {
    json_t *with_sig, *sig_obj;
    int timestamp; /* some signature has a time-stamp: validationInfo */
} doc_out;

/* One signing call's outcome: its refusal answered, or the signature put
 * where its envelope goes. */
static int doc_done(csc_call *c, doc_out *out, const doc_req *dr, int rc,
                    lv_sign_refusal why, const lv_err *err,
                    const unsigned char *sig, size_t len)
{
    if (rc < 0) {
        csc_fail(c, rc, why, err);
        return rc;
    }
    json_array_append_new(dr->embedded ? out->with_sig : out->sig_obj,
                          lv_json_b64(sig, len));
    out->timestamp |= dr->timestamp;
    return 0;
}

static int cades_one(csc_call *c, const char *sad, const doc_req *dr,
                     lv_cades_req *cr, doc_out *out)
{
    unsigned char *der = NULL;
    size_t len = 0;
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    cr->d.serial = c->serial;
    cr->d.sad = sad;
    cr->d.md = dr->md;
    cr->attached = dr->embedded;
    cr->timestamp = dr->timestamp;
    int rc = sign_csc_sign_cades(&c->env, c->st, c->who.id, cr, &der, &len,
                                 &why, &err);
    rc = doc_done(c, out, dr, rc, why, &err, der, len);
    OPENSSL_free(der);
    return rc;
}

static int xades_one(csc_call *c, const char *sad, const doc_req *dr,
                     const unsigned char *doc, size_t len, doc_out *out)
{
    unsigned char *xml = NULL;
    size_t xml_len = 0;
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    lv_xades_req xr = {
        {c->serial, sad, dr->md, doc, len}, dr->embedded, dr->timestamp};
    int rc = sign_csc_sign_xades(&c->env, c->st, c->who.id, &xr, &xml, &xml_len,
                                 &why, &err);
    rc = doc_done(c, out, dr, rc, why, &err, xml, xml_len);
    free(xml);
    return rc;
}

/* PAdES B-LT and B-LTA's DSS: the validation material returnValidationInfo
 * returns (the CA certificates, the signer's OCSP response, the CAs'
 * CRLs, the TSU's CAs), gathered once per request. */
static int pades_material(csc_call *c, json_t **vi)
{
    lv_sign_cred cred;
    lv_err err = {0};
    if (*vi)
        return 0;
    int rc = sign_credential_get(c->st, c->who.id, c->serial, &cred, &err);
    if (rc == 0) {
        rc = http_csc_validation_info(c->app, c->st, &cred, 1, vi, &err);
        sign_cred_free(&cred);
    }
    if (rc < 0)
        csc_fail(c, rc, LV_SIGN_OK, &err);
    return rc;
}

static int pades_one(csc_call *c, const char *sad, const doc_req *dr,
                     const unsigned char *doc, size_t len, json_t **vi,
                     doc_out *out)
{
    unsigned char *pdf = NULL;
    size_t pdf_len = 0;
    lv_err err = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    if (dr->level >= 2)
        LV_TRY(pades_material(c, vi));
    lv_pades_req pr = {{c->serial, sad, dr->md, doc, len}, dr->level, *vi};
    int rc = sign_csc_sign_pades(&c->env, c->st, c->who.id, &pr, &pdf, &pdf_len,
                                 &why, &err);
    rc = doc_done(c, out, dr, rc, why, &err, pdf, pdf_len);
    free(pdf);
    return rc;
}

static int sign_one_document(csc_call *c, const char *sad, const json_t *d,
                             json_t **vi, doc_out *out)
{
    doc_req dr;
    lv_cades_req cr = {0};
    unsigned char *raw = NULL;
    const char *b64 = lv_json_str(d, "document");
    LV_TRY(doc_options(c, d, 1, &dr));
    if (!b64 || b64_any(b64, &raw, &cr.d.doc_len) < 0 || !raw)
        return doc_refuse(c, "Invalid Base64 documents string parameter");
    cr.d.doc = raw;
    int rc = dr.format == 'X' ? xades_one(c, sad, &dr, raw, cr.d.doc_len, out)
             : dr.format == 'P'
                 ? pades_one(c, sad, &dr, raw, cr.d.doc_len, vi, out)
                 : cades_one(c, sad, &dr, &cr, out);
    free(raw);
    return rc;
}

static int sign_documents(csc_call *c, const char *sad, doc_out *out)
{
    json_t *docs = json_object_get(c->body, "documents");
    json_t *vi = NULL;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(docs); i++)
        rc = sign_one_document(c, sad, json_array_get(docs, i), &vi, out);
    json_decref(vi);
    return rc;
}

static int sign_digests(csc_call *c, const char *sad, doc_out *out)
{
    json_t *dd = json_object_get(c->body, "documentDigests");
    for (size_t i = 0; i < json_array_size(dd); i++) {
        json_t *d = json_array_get(dd, i);
        json_t *hs = json_object_get(d, "hashes");
        doc_req dr;
        LV_TRY(doc_options(c, d, 0, &dr));
        for (size_t k = 0; k < json_array_size(hs); k++) {
            unsigned char *raw = NULL;
            size_t len = 0;
            const char *s = json_string_value(json_array_get(hs, k));
            lv_cades_req cr = {0};
            if (!s || b64_any(s, &raw, &len) < 0 ||
                len != (size_t)EVP_MD_get_size(dr.md)) {
                free(raw);
                return doc_refuse(c, "Invalid digest value length");
            }
            cr.digest = raw;
            int rc = cades_one(c, sad, &dr, &cr, out);
            free(raw);
            LV_TRY(rc);
        }
    }
    return 0;
}

/* credentialID, or the credential signatureQualifier selects (§11.11: the
 * citizen's newest usable one, a qualified signature); c->serial. */
static int doc_credential(csc_call *c)
{
    const char *q = lv_json_str(c->body, "signatureQualifier");
    lv_sign_refusal why = LV_SIGN_OK;
    lv_err err = {0};
    if (q && strcmp(q, LV_SIGN_QUALIFIER) != 0)
        return doc_refuse(c, "Invalid parameter signatureQualifier: "
                             "eu_eidas_qes");
    if (lv_json_str(c->body, "credentialID"))
        return credential_serial(c);
    if (!q)
        return doc_refuse(c, "Missing (or invalid type) string parameter "
                             "credentialID or signatureQualifier");
    int rc = sign_credential_pick(c->st, c->who.id, c->serial, &why, &err);
    return rc < 0 ? csc_fail(c, rc, why, &err), rc : 0;
}

static int doc_inputs(csc_call *c)
{
    size_t nd = json_array_size(json_object_get(c->body, "documents"));
    size_t ng = json_array_size(json_object_get(c->body, "documentDigests"));
    if (nd && ng)
        return doc_refuse(c, "Both documentDigests and documents parameters "
                             "passed");
    if (!nd && !ng)
        return doc_refuse(c, "Empty documentDigests and documents objects");
    return 0;
}

/* returnValidationInfo (§11.11): what validates the signatures. */
static int doc_validation(csc_call *c, const doc_out *out, json_t *o,
                          lv_err *err)
{
    lv_sign_cred cred;
    json_t *vi = NULL;
    if (!bool_param(c, "returnValidationInfo", 0))
        return 0;
    int rc = sign_credential_get(c->st, c->who.id, c->serial, &cred, err);
    if (rc == 0) {
        rc = http_csc_validation_info(c->app, c->st, &cred, out->timestamp, &vi,
                                      err);
        sign_cred_free(&cred);
    }
    if (rc == 0)
        json_object_set_new(o, "validationInfo", vi);
    return rc;
}

/* signatures/signDoc (v2): CAdES or XAdES, B-B or B-T, over documents or
 * (CAdES) their digests; PAdES of PDF documents, B-B to B-LTA. */
static int sign_doc(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    csc_call c;
    const char *sad = NULL;
    doc_out out = {json_array(), json_array(), 0};
    lv_err err = {0};
    csc_init(&c, app, req, resp);
    int rc = doc_credential(&c);
    if (rc == 0) {
        sad = lv_json_str(c.body, "SAD");
        rc = sync_only(&c);
    }
    if (rc == 0)
        rc = doc_inputs(&c);
    if (rc == 0)
        rc = sign_documents(&c, sad, &out);
    if (rc == 0)
        rc = sign_digests(&c, sad, &out);
    json_t *o = rc == 0
                    ? json_pack("{s:O, s:O}", "DocumentWithSignature",
                                out.with_sig, "SignatureObject", out.sig_obj)
                    : NULL;
    if (o && doc_validation(&c, &out, o, &err) < 0) {
        json_decref(o);
        o = NULL;
        lv_ignore(csc_error(resp, 500, "server_error", err.msg));
    }
    if (o)
        lv_ignore(csc_json(resp, 200, o));
    else /* the signatures made before the failure are not returned */
        sign_csc_sad_give_back(
            c.st, c.who.id, c.serial, sad,
            (int)(json_array_size(out.with_sig) + json_array_size(out.sig_obj)),
            err.msg[0] ? &err : NULL);
    json_decref(out.with_sig);
    json_decref(out.sig_obj);
    return 0;
}

/* Test hook (fuzz/fuzz_csc_params.c): the parameters of a signHash,
 * authorize or signDoc body read as those handlers read them, once the
 * route's schema took the body: 0, or the refusal (resp filled). */
int http_csc_params(json_t *body, int v2, lv_http_resp *resp, const EVP_MD **md,
                    lv_buf *hashes, int *num)
{
    csc_call c = {.v2 = v2, .body = body, .resp = resp};
    const char *lists[] = {"documents", "documentDigests"};
    int rc = sync_only(&c);
    if (rc == 0)
        rc = num_signatures(&c, num);
    if (rc == 0)
        rc = hashes_param(&c, 0, md, hashes);
    if (rc == 0 && *md)
        rc = sign_algo_ok(&c, body, *md);
    for (size_t l = 0; l < 2; l++) {
        json_t *docs = json_object_get(body, lists[l]);
        for (size_t i = 0; rc == 0 && i < json_array_size(docs); i++)
            rc =
                doc_options(&c, json_array_get(docs, i), l == 0, &(doc_req){0});
    }
    return rc;
}

/* ---- the routes
 * ------------------------------------------------------------------------ */

/* The methods that need a citizen's access token run behind
 * http_csc_gate (malformed Authorization header: 400, §11): the server
 * hands them the raw body with no caller checked, and the gate checks the
 * caller and then the body against the schema the route names. */
static const lv_http_route *csc_route_of(const lv_http_req *req)
{
    for (const lv_http_route *r = http_csc_routes; r->method; r++)
        if (strcmp(r->pattern, req->path) == 0 &&
            strcmp(r->method, "POST") == 0)
            return r;
    return NULL;
}

static int csc_gated(lv_app *app, const lv_http_req *req, lv_http_resp *resp,
                     lv_http_handler fn)
{
    const lv_http_route *r = csc_route_of(req);
    lv_http_req in;
    if (!r)
        return LV_EINTERNAL;
    int rc = http_csc_gate(app, req, resp, r->body.schema, &in);
    if (rc == 0)
        rc = fn(app, &in, resp);
    json_decref(in.json);
    return rc < 0 ? rc : 0;
}

#define CSC_GATED(fn)                                                          \
    static int fn##_gated(lv_app *app, const lv_http_req *req,                 \
                          lv_http_resp *resp)                                  \
    {                                                                          \
        return csc_gated(app, req, resp, fn);                                  \
    }
CSC_GATED(auth_revoke)
CSC_GATED(cred_list)
CSC_GATED(cred_info)
CSC_GATED(send_otp)
CSC_GATED(authorize)
CSC_GATED(extend)
CSC_GATED(sign_hash)
CSC_GATED(sign_doc)

/* A gated route: no caller for the server to check (the gate does), the
 * body raw for the gate to read against the schema. */
#define CSC_TOKEN                                                              \
    {                                                                          \
        LV_HTTP_AUTH_NONE, LV_ROLE_CITIZEN, LV_HTTP_AUTH_CSC                   \
    }
#define CSC_JSON(schema)                                                       \
    {                                                                          \
        LV_HTTP_BODY_RAW, (schema), NULL, NULL                                 \
    }
/* Every other path under /csc/, under every method a client may send. */
#define CSC_FALLBACK(m)                                                        \
    {                                                                          \
        (m), "/csc/{rest*}", http_csc_fallback, 0, LV_WORK_INLINE,             \
            HTTP_CSC_PUBLIC, HTTP_NO_BODY                                      \
    }

/* Every route but info, auth/login and the logo needs a citizen's access
 * token (R5.2); each names the input table of its method and version. */
const lv_http_route http_csc_routes[] = {
    {"POST", "/csc/v2/info", info, BODY_CSC, LV_WORK_API, HTTP_CSC_PUBLIC,
     HTTP_JSON(INFO)},
    {"GET", "/csc/v2/info", info, 0, LV_WORK_API, HTTP_CSC_PUBLIC,
     HTTP_JSON(INFO)},
    {"POST", "/csc/v2/auth/login", auth_login, BODY_CSC, LV_WORK_PASSWORD,
     HTTP_CSC_LOGIN, HTTP_JSON(LOGIN)},
    {"POST", "/csc/v2/auth/revoke", auth_revoke_gated, BODY_CSC, LV_WORK_API,
     CSC_TOKEN, CSC_JSON(REVOKE)},
    {"POST", "/csc/v2/credentials/list", cred_list_gated, BODY_CSC, LV_WORK_API,
     CSC_TOKEN, CSC_JSON(LIST_V2)},
    {"POST", "/csc/v2/credentials/info", cred_info_gated, BODY_CSC, LV_WORK_API,
     CSC_TOKEN, CSC_JSON(CRED_INFO_V2)},
    {"POST", "/csc/v2/credentials/sendOTP", send_otp_gated, BODY_CSC,
     LV_WORK_API, CSC_TOKEN, CSC_JSON(SEND_OTP_V2)},
    {"POST", "/csc/v2/credentials/authorize", authorize_gated, BODY_CSC,
     LV_WORK_PASSWORD, CSC_TOKEN, CSC_JSON(AUTHORIZE_V2)},
    {"POST", "/csc/v2/credentials/extendTransaction", extend_gated, BODY_CSC,
     LV_WORK_API, CSC_TOKEN, CSC_JSON(EXTEND_V2)},
    {"POST", "/csc/v2/signatures/signHash", sign_hash_gated, BODY_CSC,
     LV_WORK_SIGN, CSC_TOKEN, CSC_JSON(SIGN_HASH_V2)},
    {"POST", "/csc/v2/signatures/signDoc", sign_doc_gated, BODY_DOC,
     LV_WORK_SIGN, CSC_TOKEN, CSC_JSON(SIGN_DOC)},
    {"POST", "/csc/v1/info", info, BODY_CSC, LV_WORK_API, HTTP_CSC_PUBLIC,
     HTTP_JSON(INFO)},
    {"POST", "/csc/v1/auth/login", auth_login, BODY_CSC, LV_WORK_PASSWORD,
     HTTP_CSC_LOGIN, HTTP_JSON(LOGIN_V1)},
    {"POST", "/csc/v1/auth/revoke", auth_revoke_gated, BODY_CSC, LV_WORK_API,
     CSC_TOKEN, CSC_JSON(REVOKE)},
    {"POST", "/csc/v1/credentials/list", cred_list_gated, BODY_CSC, LV_WORK_API,
     CSC_TOKEN, CSC_JSON(LIST_V1)},
    {"POST", "/csc/v1/credentials/info", cred_info_gated, BODY_CSC, LV_WORK_API,
     CSC_TOKEN, CSC_JSON(CRED_INFO_V1)},
    {"POST", "/csc/v1/credentials/sendOTP", send_otp_gated, BODY_CSC,
     LV_WORK_API, CSC_TOKEN, CSC_JSON(SEND_OTP_V1)},
    {"POST", "/csc/v1/credentials/authorize", authorize_gated, BODY_CSC,
     LV_WORK_PASSWORD, CSC_TOKEN, CSC_JSON(AUTHORIZE_V1)},
    {"POST", "/csc/v1/credentials/extendTransaction", extend_gated, BODY_CSC,
     LV_WORK_API, CSC_TOKEN, CSC_JSON(EXTEND_V1)},
    {"POST", "/csc/v1/signatures/signHash", sign_hash_gated, BODY_CSC,
     LV_WORK_SIGN, CSC_TOKEN, CSC_JSON(SIGN_HASH_V1)},
    HTTP_GET_PUBLIC("/csc/logo.png", http_csc_logo),
    CSC_FALLBACK("GET"),
    CSC_FALLBACK("POST"),
    CSC_FALLBACK("PUT"),
    CSC_FALLBACK("DELETE"),
    CSC_FALLBACK("PATCH"),
    {0},
};
