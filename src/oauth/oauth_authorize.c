/* oauth2/authorize (CSC API v2.0.0.2 §8.3.2, RFC 6749 §4.1.1, RFC 7636
 * §4.3): the request is checked and recorded; the citizen's page then
 * works on the record.  Errors before the client and its redirect URI are
 * known are shown to the user; later ones go back to the client
 * (§4.1.2.1). */
#include "oauth/oauth_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DESCRIPTION_MAX 500 /* characters */
#define LABEL_MAX 255       /* characters of a document label */
#define STATE_MAX 512       /* bytes */

/* RFC 6749 Appendix A.5: state is VSCHAR (%x20-7E). */
static int state_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return n <= STATE_MAX;
}

/* RFC 7636 §4.2: BASE64URL(SHA-256(verifier)) is 43 characters. */
static int challenge_ok(const char *c)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                              "vwxyz0123456789-_";
    return c && strlen(c) == 43 && strspn(c, set) == 43;
}

/* base64 or base64url, padded or not, of exactly want bytes into out. */
static int b64_digest(const char *s, size_t len, unsigned char *out,
                      size_t want)
{
    char tmp[128];
    unsigned char *raw = NULL;
    size_t n = 0;
    if (len == 0 || len + 3 >= sizeof tmp)
        return -1;
    for (size_t i = 0; i < len; i++) {
        tmp[i] = s[i];
        if (s[i] == '-')
            tmp[i] = '+';
        else if (s[i] == '_')
            tmp[i] = '/';
    }
    while (len % 4)
        tmp[len++] = '=';
    tmp[len] = '\0';
    if (lv_b64_decode(tmp, len, &raw, &n) < 0)
        return -1;
    int ok = n == want;
    if (ok)
        memcpy(out, raw, n);
    free(raw);
    return ok ? 0 : -1;
}

/* ---- scope credential ---------------------------------------------------- */

typedef struct cred_req {
    const EVP_MD *md;
    lv_buf hashes;
    json_t *labels;
    int num;
    char serial[65];
} cred_req;

static int add_hash(cred_req *c, const char *s, size_t len, lv_err *err)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    size_t dlen = (size_t)EVP_MD_get_size(c->md);
    if (c->hashes.len / dlen >= LV_SIGN_HASHES_MAX)
        return lv_fail(err, LV_EINVAL, "at most %d hashes", LV_SIGN_HASHES_MAX);
    if (b64_digest(s, len, d, dlen) < 0)
        return lv_fail(err, LV_EINVAL,
                       "hashes: base64url of %zu-byte %s digests", dlen,
                       sign_md_name(c->md));
    return lv_buf_append(&c->hashes, d, dlen) < 0
               ? lv_fail(err, LV_ENOMEM, "out of memory")
               : 0;
}

/* credentialID, or signatureQualifier instead (CSC v2 §8.3.2: one of the
 * two is required): the citizen is not known yet, so the page picks the
 * credential the qualifier names when they log in (c->serial stays ""). */
static int credential_choice(const char *cred, const char *qualifier,
                             cred_req *c, lv_err *err)
{
    lv_err ignored = {0};
    if (qualifier && strcmp(qualifier, LV_SIGN_QUALIFIER) != 0)
        return lv_fail(err, LV_EINVAL, "signatureQualifier: %s",
                       LV_SIGN_QUALIFIER);
    if (!cred && qualifier)
        return 0;
    if (!cred || ca_serial_normalize(cred, c->serial, &ignored) < 0)
        return lv_fail(err, LV_EINVAL,
                       "credentialID or signatureQualifier is required");
    return 0;
}

/* The query form: credentialID (or signatureQualifier), numSignatures,
 * hashes (comma-separated base64url), hashAlgorithmOID. */
static int cred_from_query(const lv_oauth_authorize_req *in, cred_req *c,
                           lv_err *err)
{
    char *end = NULL;
    LV_TRY(
        credential_choice(in->credential_id, in->signature_qualifier, c, err));
    if (!in->hashes || !in->hash_algorithm_oid)
        return lv_fail(err, LV_EINVAL,
                       "hashes and hashAlgorithmOID are required: this "
                       "service is SCAL2");
    if (!(c->md = sign_md_by_oid(in->hash_algorithm_oid)))
        return lv_fail(err, LV_EINVAL,
                       "hashAlgorithmOID: SHA-256, SHA-384 "
                       "or SHA-512");
    for (const char *p = in->hashes;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        LV_TRY(add_hash(c, p, len, err));
        if (!comma)
            break;
        p = comma + 1;
    }
    long num = in->num_signatures ? strtol(in->num_signatures, &end, 10) : 0;
    if (!in->num_signatures || *end || num < 1 || num > LV_SIGN_SIGNATURES_MAX)
        return lv_fail(err, LV_EINVAL, "numSignatures: 1 to %d",
                       LV_SIGN_SIGNATURES_MAX);
    c->num = (int)num;
    return 0;
}

static int digest_entry(cred_req *c, json_t *d, lv_err *err)
{
    const char *hash = lv_json_str(d, "hash");
    const char *label = lv_json_str(d, "label");
    if (!json_is_object(d) || !hash ||
        (json_object_get(d, "label") && !label) ||
        !sign_text_ok(label, 0, LABEL_MAX))
        return lv_fail(err, LV_EINVAL,
                       "documentDigests: {hash, label} with a label of at "
                       "most %d characters",
                       LABEL_MAX);
    LV_TRY(add_hash(c, hash, strlen(hash), err));
    json_array_append_new(c->labels, json_string(label ? label : ""));
    return 0;
}

/* authorization_details (RFC 9396; CSC v2 §8.3.2): one object of type
 * "credential" with credentialID (or signatureQualifier), documentDigests
 * and hashAlgorithmOID. */
static int cred_from_details(const char *text, cred_req *c, lv_err *err)
{
    json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    json_t *o = json_is_array(a) && json_array_size(a) == 1
                    ? json_array_get(a, 0)
                : json_is_object(a) ? a
                                    : NULL;
    const char *type = lv_json_str(o, "type");
    json_t *docs = json_object_get(o, "documentDigests");
    int rc = 0;
    if (!type || strcmp(type, "credential") != 0 ||
        credential_choice(lv_json_str(o, "credentialID"),
                          lv_json_str(o, "signatureQualifier"), c, err) < 0 ||
        !json_is_array(docs) || json_array_size(docs) == 0 ||
        !(c->md = sign_md_by_oid(lv_json_str(o, "hashAlgorithmOID"))))
        rc = lv_fail(err, LV_EINVAL,
                     "authorization_details: one object of type "
                     "\"credential\" with credentialID or signatureQualifier, "
                     "documentDigests and hashAlgorithmOID (SHA-256, SHA-384 "
                     "or SHA-512)");
    for (size_t i = 0; rc == 0 && i < json_array_size(docs); i++)
        rc = digest_entry(c, json_array_get(docs, i), err);
    if (rc == 0)
        c->num = (int)json_array_size(docs);
    json_decref(a);
    return rc;
}

static int cred_parse(const lv_oauth_authorize_req *in, cred_req *c,
                      lv_err *err)
{
    memset(c, 0, sizeof *c);
    if (!(c->labels = json_array()))
        return lv_fail(err, LV_ENOMEM, "out of memory");
    if (in->authorization_details)
        LV_TRY(cred_from_details(in->authorization_details, c, err));
    else
        LV_TRY(cred_from_query(in, c, err));
    size_t n = c->hashes.len / (size_t)EVP_MD_get_size(c->md);
    if ((size_t)c->num < n)
        return lv_fail(err, LV_EINVAL,
                       "numSignatures: at least the number of hashes");
    return 0;
}

static void cred_free(cred_req *c)
{
    lv_buf_free(&c->hashes);
    json_decref(c->labels);
}

/* ---- the request ----------------------------------------------------------
 */

/* The client and its redirect URI: what must be right before anything can
 * be sent back to the client. */
static int client_uri(lv_store *st, const lv_oauth_authorize_req *in,
                      lv_oauth_authz_rec *r, const char **oerr, lv_err *err)
{
    lv_sign_app_rec app;
    lv_err ignored = {0};
    oauth_uris *u = calloc(1, sizeof *u);
    int rc = u ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
    *oerr = "invalid_request";
    if (rc == 0 && (!in->client_id || strlen(in->client_id) >= 40 ||
                    store_sign_app_get(st, in->client_id, &app, &ignored) < 0 ||
                    !app.enabled))
        rc = lv_fail(err, LV_EINVAL, "unknown client_id");
    if (rc == 0)
        rc = oauth_uris_load(st, in->client_id, u, err);
    if (rc == 0 && u->n == 0)
        rc = lv_fail(err, LV_EINVAL,
                     "the client has no redirect URI: register it with "
                     "`llave app add NAME --redirect-uri URI`");
    if (rc == 0 && in->redirect_uri && !oauth_uris_has(u, in->redirect_uri))
        rc = lv_fail(err, LV_EINVAL,
                     "redirect_uri is not one the client registered");
    if (rc == 0 && !in->redirect_uri && u->n != 1)
        rc = lv_fail(err, LV_EINVAL,
                     "redirect_uri is required: the client registered "
                     "several");
    if (rc == 0) {
        snprintf(r->client_id, sizeof r->client_id, "%s", in->client_id);
        snprintf(r->redirect_uri, sizeof r->redirect_uri, "%s",
                 in->redirect_uri ? in->redirect_uri : u->uri[0]);
        r->redirect_given = in->redirect_uri != NULL;
    }
    free(u);
    return rc;
}

static int common_checks(const lv_oauth_authorize_req *in, const char **oerr,
                         lv_err *err)
{
    *oerr = "invalid_request";
    if (!in->response_type || strcmp(in->response_type, "code") != 0) {
        *oerr = "unsupported_response_type";
        return lv_fail(err, LV_EINVAL, "response_type must be \"code\"");
    }
    if (!state_ok(in->state))
        return lv_fail(err, LV_EINVAL, "state: at most %d visible characters",
                       STATE_MAX);
    if (!in->code_challenge)
        return lv_fail(err, LV_EINVAL,
                       "code_challenge is required (PKCE, RFC 7636)");
    if (!in->code_challenge_method ||
        strcmp(in->code_challenge_method, "S256") != 0)
        return lv_fail(err, LV_EINVAL,
                       "code_challenge_method must be S256 (plain is not "
                       "accepted)");
    if (!challenge_ok(in->code_challenge))
        return lv_fail(err, LV_EINVAL,
                       "code_challenge: BASE64URL(SHA-256(code_verifier)), "
                       "43 characters");
    if (!sign_text_ok(in->description, 0, DESCRIPTION_MAX) ||
        (in->lang && strlen(in->lang) > 35))
        return lv_fail(err, LV_EINVAL,
                       "description (at most %d characters) or lang",
                       DESCRIPTION_MAX);
    return 0;
}

/* "service", "credential", or authorization_details of a credential. */
static int scope_of(const lv_oauth_authorize_req *in, char scope[16],
                    const char **oerr, lv_err *err)
{
    const char *s = in->scope;
    int details = in->authorization_details != NULL;
    int cred_params = in->credential_id || in->hashes || in->num_signatures ||
                      in->hash_algorithm_oid || in->signature_qualifier;
    *oerr = "invalid_scope";
    if (details && s)
        return lv_fail(err, LV_EINVAL,
                       "send either scope or authorization_details");
    if (details || (s && strcmp(s, "credential") == 0)) {
        snprintf(scope, 16, "credential");
        *oerr = "invalid_request";
        if (details && cred_params)
            return lv_fail(err, LV_EINVAL,
                           "authorization_details names the credential and "
                           "hashes: no credentialID, signatureQualifier or "
                           "hashes parameters");
        return 0;
    }
    if (!s || strcmp(s, "service") != 0)
        return lv_fail(err, LV_EINVAL, "scope: \"service\" or \"credential\"");
    snprintf(scope, 16, "service");
    *oerr = "invalid_request";
    return cred_params ? lv_fail(err, LV_EINVAL,
                                 "credential parameters with scope service")
                       : 0;
}

static int fill_credential(const lv_oauth_authorize_req *in,
                           lv_oauth_authz_rec *r, lv_err *err)
{
    cred_req c;
    int rc = cred_parse(in, &c, err);
    if (rc == 0) {
        snprintf(r->serial, sizeof r->serial, "%s", c.serial);
        snprintf(r->digest_alg, sizeof r->digest_alg, "%s", sign_md_name(c.md));
        r->hashes = c.hashes.data;
        r->hashes_len = c.hashes.len;
        c.hashes.data = NULL;
        r->num_signatures = c.num;
        r->labels = json_dumps(c.labels, JSON_COMPACT);
        if (!r->labels)
            rc = lv_fail(err, LV_ENOMEM, "out of memory");
    }
    cred_free(&c);
    return rc;
}

static int fill(const lv_oauth_authorize_req *in, lv_oauth_authz_rec *r,
                const char **oerr, lv_err *err)
{
    LV_TRY(common_checks(in, oerr, err));
    LV_TRY(scope_of(in, r->scope, oerr, err));
    if (strcmp(r->scope, "credential") == 0)
        LV_TRY(fill_credential(in, r, err));
    else if (!(r->labels = strdup("[]")))
        return lv_fail(err, LV_ENOMEM, "out of memory");
    if (!(r->description = strdup(in->description ? in->description : "")))
        return lv_fail(err, LV_ENOMEM, "out of memory");
    snprintf(r->state, sizeof r->state, "%s", in->state ? in->state : "");
    snprintf(r->code_challenge, sizeof r->code_challenge, "%s",
             in->code_challenge);
    snprintf(r->lang, sizeof r->lang, "%s", in->lang ? in->lang : "");
    snprintf(r->status, sizeof r->status, "pending");
    LV_TRY(lv_random_hex(16, r->id, err));
    r->created_at = lv_now();
    r->expires_at = r->created_at + OAUTH_REQUEST_TTL;
    return 0;
}

static int record(lv_store *st, const lv_oauth_authz_rec *r, lv_err *err)
{
    int purged = 0;
    size_t n = r->hashes_len
                   ? r->hashes_len /
                         (size_t)EVP_MD_get_size(sign_md_by_name(r->digest_alg))
                   : 0;
    LV_TRY(store_begin(st, err));
    /* requests whose page and code are long gone */
    int rc = store_oauth_authz_purge(st, r->created_at - 3600, &purged, err);
    if (rc == 0)
        rc = store_oauth_authz_insert(st, r, err);
    if (rc == 0)
        rc =
            sign_audit(st, "anonymous", "oauth.authorize", r->id,
                       json_pack("{s:s, s:s, s:s, s:i, s:i}", "client_id",
                                 r->client_id, "scope", r->scope, "credential",
                                 r->serial, "hashes", (int)n, "purged", purged),
                       err);
    return store_end(st, rc, err);
}

int oauth_authorize(lv_store *st, const lv_oauth_authorize_req *in,
                    char id_out[33], char location[OAUTH_LOCATION_MAX],
                    const char **oerr, lv_err *err)
{
    lv_oauth_authz_rec r;
    lv_err e2 = {0};
    memset(&r, 0, sizeof r);
    id_out[0] = location[0] = '\0';
    int rc = client_uri(st, in, &r, oerr, err);
    if (rc < 0)
        return rc;
    rc = fill(in, &r, oerr, err);
    if (rc == 0 && (rc = record(st, &r, err)) < 0)
        *oerr = "server_error";
    if (rc == 0)
        memcpy(id_out, r.id, sizeof r.id);
    char params[64];
    snprintf(params, sizeof params, "error=%s", *oerr);
    /* §4.1.2.1: back to the client with the error and state */
    if (rc < 0 && oauth_location(location, OAUTH_LOCATION_MAX, r.redirect_uri,
                                 params, in->state, &e2) < 0)
        location[0] = '\0';
    store_oauth_authz_free(&r);
    return rc;
}

int oauth_purge(lv_store *st, int64_t before, int *count, lv_err *err)
{
    int requests = 0, tokens = 0;
    LV_TRY(store_oauth_authz_purge(st, before, &requests, err));
    int rc = store_oauth_token_purge(st, before, &tokens, err);
    *count = requests + tokens;
    return rc;
}
