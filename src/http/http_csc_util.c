/* Helpers of the CSC API (http_csc.c): the gate of the methods that need
 * a citizen's access token, 204 answers, signDoc's validationInfo, info's
 * logo and the answers for every other path under /csc/. */
#include "crl/crl.h"
#include "http/http_csc_internal.h"
#include "oauth/oauth.h"
#include "ocsp/ocsp.h"

#include <openssl/ocsp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the gate ------------------------------------------------------------ */

int http_csc_limit(lv_http_resp *resp, const lv_err *err)
{
    char secs[16];
    LV_TRY(http_resp_csc_error(resp, 429, "too_many_requests", err->msg));
    snprintf(secs, sizeof secs, "%d",
             err->retry_after > 0 ? err->retry_after : 1);
    return http_resp_header(resp, "Retry-After", secs);
}

static int refused(lv_http_resp *resp, int status, const char *error,
                   const char *desc)
{
    int rc = http_resp_csc_error(resp, status, error, desc);
    return rc < 0 ? rc : 1;
}

/* RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token, b64token = 1*(
 * ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
static int bearer_well_formed(const char *header)
{
    static const char b64token[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz"
                                   "0123456789-._~+/";
    const char *t = http_bearer_token(header);
    size_t n = t ? strspn(t, b64token) : 0;
    if (n == 0)
        return 0;
    t += n;
    t += strspn(t, "=");
    return *t == '\0';
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* CSC v2 §8: an access token of oauth2/token stands for the citizen too.
 * One of scope "credential" is the SAD of the hashes the citizen approved,
 * so it serves signatures/signHash alone. */
static int oauth_caller(const lv_http_req *req, lv_http_resp *resp,
                        lv_principal *who)
{
    lv_oauth_kind kind = LV_OAUTH_NONE;
    lv_err err = {0};
    if (strncmp(req->path, "/csc/v2/", 8) != 0 ||
        oauth_bearer(req->st, http_req_bearer(req), who, &kind, &err) < 0)
        return -1;
    if (kind == LV_OAUTH_CREDENTIAL &&
        !ends_with(req->path, "/signatures/signHash"))
        return refused(resp, 401, "invalid_token",
                       "an access token of scope credential authorizes "
                       "signatures/signHash only");
    return 0;
}

static int gate_caller(lv_app *app, const lv_http_req *req, lv_http_resp *resp,
                       lv_principal *who)
{
    lv_err err = {0};
    const char *h = http_req_header(req, "Authorization");
    if (!lv_app_auth(app))
        return refused(resp, 503, "temporarily_unavailable",
                       "authentication is not available");
    if (h && !bearer_well_formed(h))
        return refused(resp, 400, "invalid_request",
                       "Malformed authorization header: Bearer and the "
                       "access token of auth/login");
    int rc = auth_session_check(lv_app_auth(app), req->st, http_req_bearer(req),
                                LV_ROLE_CITIZEN, who, &err);
    if (rc == LV_EPERM) /* R5.2: operators hold no credential */
        return refused(resp, 403, "access_denied",
                       "only the citizen's own session can use their "
                       "signing credentials");
    if (rc < 0 && (rc = oauth_caller(req, resp, who)) < 0)
        return refused(resp, 401, "invalid_token", err.msg);
    return rc;
}

int http_csc_gate(lv_app *app, const lv_http_req *req, lv_http_resp *resp,
                  const http_body_field *schema, lv_http_req *out)
{
    lv_err err = {0};
    *out = *req;
    out->json = NULL;
    memset(&out->who, 0, sizeof out->who);
    int rc = gate_caller(app, req, resp, &out->who);
    if (rc != 0)
        return rc;
    rc = http_body_parse(req->body, req->body ? req->body_len : 0, schema,
                         &out->json, &err);
    if (rc == LV_EINVAL)
        return refused(resp, 400, "invalid_request", err.msg);
    if (rc < 0)
        return refused(resp, 500, "server_error", err.msg);
    return 0;
}

int http_csc_no_content(lv_http_resp *resp)
{
    lv_buf_free(&resp->body);
    resp->body_static = NULL;
    resp->body_static_len = 0;
    resp->nheaders = 0;
    resp->status = 204;
    resp->content_type[0] = '\0'; /* the server then sends none */
    return http_resp_header(resp, "Cache-Control", "no-store");
}

/* ---- validationInfo ------------------------------------------------------ */

typedef struct vinfo {
    lv_ca *ca;
    lv_store *st;
    json_t *certs, *ocsp, *crl;
    char seen[16][32]; /* CAs already walked */
    size_t nseen;
} vinfo;

static void b64_add(json_t *a, const unsigned char *der, size_t len)
{
    char *b = NULL;
    if (lv_b64_encode(der, len, &b) == 0)
        json_array_append_new(a, json_string(b));
    free(b);
}

static int vinfo_seen(vinfo *v, const char *name)
{
    for (size_t i = 0; i < v->nseen; i++)
        if (strcmp(v->seen[i], name) == 0)
            return 1;
    if (v->nseen < sizeof v->seen / sizeof v->seen[0])
        snprintf(v->seen[v->nseen++], sizeof v->seen[0], "%s", name);
    return 0;
}

/* The newest CRL of a CA, when it has one. */
static void vinfo_crl(vinfo *v, const char *name)
{
    lv_crl crl = {0};
    lv_err ignored = {0};
    if (crl_latest(v->ca, v->st, name, 1, &crl, &ignored) == 0 && crl.der)
        b64_add(v->crl, crl.der, crl.der_len);
    crl_free(&crl);
}

/* The CA `name` and those above it up to the root: their CRLs and, but for
 * the first when with_cert is 0 (the signature carries it), their
 * certificates. */
static void vinfo_path(vinfo *v, const char *name, int with_cert)
{
    for (int depth = 0; name && depth < 8; depth++) {
        const lv_ca_entry *e = ca_entry_find(v->ca, name);
        if (!e)
            return;
        if (!vinfo_seen(v, e->name)) {
            if (with_cert)
                b64_add(v->certs, e->cert_der, e->cert_len);
            vinfo_crl(v, e->name);
        }
        if (strcmp(e->issuer, e->name) == 0)
            return;
        name = e->issuer;
        with_cert = 1;
    }
}

/* The OCSP response (RFC 6960) for a certificate (DER) issued by the CA
 * `issuer_name`, from the responder itself; nothing unless it says good. */
static void vinfo_ocsp(vinfo *v, const unsigned char *cert_der, size_t cert_len,
                       const char *issuer_name)
{
    const unsigned char *p = cert_der;
    X509 *cert = d2i_X509(NULL, &p, (long)cert_len);
    X509 *issuer = ca_cert(v->ca, issuer_name);
    OCSP_REQUEST *rq = OCSP_REQUEST_new();
    OCSP_CERTID *id =
        cert && issuer ? OCSP_cert_to_id(NULL, cert, issuer) : NULL;
    unsigned char *der = NULL;
    lv_ocsp_answer ans = {0};
    lv_err ignored = {0};
    int len = -1;
    if (rq && id && OCSP_request_add0_id(rq, id))
        len = i2d_OCSP_REQUEST(rq, &der);
    else
        OCSP_CERTID_free(id);
    if (len > 0 &&
        ocsp_respond(v->ca, v->st, der, (size_t)len, &ans, &ignored) == 0 &&
        ans.status == 0 && ans.der)
        b64_add(v->ocsp, ans.der, ans.len);
    ocsp_answer_free(&ans);
    OPENSSL_free(der);
    OCSP_REQUEST_free(rq);
    X509_free(cert);
}

int http_csc_validation_info(lv_app *app, lv_store *st,
                             const lv_sign_cred *cred, int timestamp,
                             json_t **out, lv_err *err)
{
    vinfo v = {.ca = lv_app_ca(app), .st = st};
    const lv_config *cfg = lv_app_config(app);
    *out = NULL;
    if (!v.ca)
        return lv_fail(err, LV_ESEALED, "no CA context");
    v.certs = json_array();
    v.ocsp = json_array();
    v.crl = json_array();
    vinfo_ocsp(&v, cred->der, cred->der_len, cred->ca);
    vinfo_path(&v, cred->ca, 0);
    const lv_ca_entry *tsu =
        timestamp ? ca_entry_find(v.ca, cfg->tsa_unit) : NULL;
    if (tsu && strcmp(tsu->issuer, tsu->name) != 0) {
        /* EN 319 142-1 §5.4 (B-LT): the time-stamp's certificate is
         * validated too, so its status travels as well */
        vinfo_ocsp(&v, tsu->cert_der, tsu->cert_len, tsu->issuer);
        vinfo_path(&v, tsu->issuer, 1);
    }
    *out = json_pack("{s:o, s:o, s:o}", "certificates", v.certs, "ocsp", v.ocsp,
                     "crl", v.crl);
    return *out ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
}

/* ---- the logo ------------------------------------------------------------ */

/* A key, white on blue, 64 x 64 (CSC API v2.0.0.2 §11.1: a PNG or JPEG of
 * at most 256 x 256). */
static const unsigned char LOGO_PNG[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
    0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x40,
    0x08, 0x06, 0x00, 0x00, 0x00, 0xaa, 0x69, 0x71, 0xde, 0x00, 0x00, 0x00,
    0xcd, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0xed, 0xda, 0xd1, 0x0d, 0xc3,
    0x20, 0x0c, 0x05, 0xc0, 0x8c, 0xd1, 0x69, 0x3a, 0x57, 0xb7, 0x6f, 0xd5,
    0x05, 0x2a, 0x35, 0x31, 0xf8, 0x11, 0xee, 0x49, 0x7c, 0x46, 0x41, 0xa7,
    0x80, 0x82, 0xcd, 0xf1, 0x78, 0xbe, 0xde, 0x3b, 0x8f, 0x03, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x50, 0x36, 0xbe, 0xd9, 0x06, 0xe0, 0x9f, 0xdc, 0x0a, 0xe0,
    0x4a, 0x96, 0x06, 0xa8, 0xcc, 0x72, 0x00, 0x23, 0xb2, 0x0c, 0xc0, 0xc8,
    0xc4, 0x03, 0xcc, 0x48, 0x2c, 0x40, 0xd5, 0xe4, 0x13, 0x11, 0x4a, 0x00,
    0x2a, 0x97, 0x51, 0x1c, 0xc0, 0xa8, 0xc9, 0xa6, 0x20, 0x00, 0xe8, 0x9c,
    0x64, 0x02, 0xc2, 0x29, 0x80, 0xea, 0x33, 0xc3, 0x96, 0x00, 0x33, 0x03,
    0x00, 0xc0, 0x09, 0x80, 0xce, 0x0d, 0xd0, 0x17, 0x00, 0x00, 0xc0, 0xfd,
    0x01, 0xae, 0xbe, 0xe3, 0xd7, 0x33, 0xc3, 0x01, 0x12, 0xfe, 0x04, 0xa7,
    0x00, 0x24, 0x9f, 0x05, 0x00, 0xcc, 0x02, 0x48, 0xad, 0x07, 0x44, 0x01,
    0x74, 0x54, 0x84, 0xa6, 0x02, 0x24, 0xd6, 0x04, 0xab, 0x96, 0xe4, 0xb2,
    0x55, 0xe1, 0x16, 0x80, 0xa4, 0xbe, 0x40, 0x1b, 0xc0, 0xf6, 0x9d, 0x21,
    0xbd, 0x41, 0xdd, 0x61, 0xf7, 0x03, 0xdc, 0x10, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8b,
    0x8f, 0x0f, 0x38, 0x5c, 0xd9, 0xcc, 0x7b, 0x5b, 0x03, 0xeb, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

int http_csc_logo(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    (void)app;
    (void)req;
    LV_TRY(http_resp_static(resp, 200, "image/png", LOGO_PNG, sizeof LOGO_PNG));
    return http_resp_header(resp, "Cache-Control", "public, max-age=86400");
}

/* ---- every other path under /csc/ ---------------------------------------- */

/* CSC API v2.0.0.2 §11 (and v1.0.4.0 §11) methods llave does not offer:
 * 501 (§10.1), and info does not list them. */
static const char *const UNIMPLEMENTED[] = {
    "/csc/v2/credentials/authorizeCheck", "/csc/v2/credentials/getChallenge",
    "/csc/v2/signatures/signPolling",     "/csc/v2/signatures/timestamp",
    "/csc/v1/signatures/timestamp",       NULL,
};

static void allow_add(char *allow, size_t cap, const char *method)
{
    if (strstr(allow, method))
        return;
    size_t len = strlen(allow);
    snprintf(allow + len, cap - len, "%s%s", len ? ", " : "", method);
}

static int not_allowed(const lv_http_req *req, lv_http_resp *resp,
                       const char *allow)
{
    char msg[160];
    snprintf(msg, sizeof msg, "method %s not allowed; allowed: %s", req->method,
             allow);
    LV_TRY(http_resp_csc_error(resp, 405, "invalid_request", msg));
    return http_resp_header(resp, "Allow", allow);
}

int http_csc_fallback(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    char allow[64] = "", msg[200];
    (void)app;
    for (const lv_http_route *r = http_csc_routes; r->method; r++) {
        if (strcmp(r->pattern, req->path) != 0)
            continue;
        allow_add(allow, sizeof allow, r->method);
        if (strcmp(r->method, "GET") == 0)
            allow_add(allow, sizeof allow, "HEAD");
    }
    for (size_t i = 0; !allow[0] && UNIMPLEMENTED[i]; i++) {
        if (strcmp(UNIMPLEMENTED[i], req->path) != 0)
            continue;
        if (strcmp(req->method, "POST") != 0)
            return not_allowed(req, resp, "POST");
        snprintf(msg, sizeof msg,
                 "%s is not implemented by this service (info lists the "
                 "methods it offers)",
                 req->path + 8);
        return http_resp_csc_error(resp, 501, "not_implemented", msg);
    }
    if (allow[0])
        return not_allowed(req, resp, allow);
    snprintf(msg, sizeof msg, "no such CSC method: %.160s", req->path);
    return http_resp_csc_error(resp, 404, "invalid_request", msg);
}
