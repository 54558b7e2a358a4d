/* oauth2/token (RFC 6749 §4.1.3, RFC 7636 §4.6), oauth2/revoke (RFC 7009)
 * and the bearer checks the CSC methods call.  A refused exchange changes
 * nothing stored but its audit entry; the code is consumed by the same
 * conditional UPDATE that lets only one exchange win. */
#include "oauth/oauth_internal.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVICE_TTL_DEFAULT 3600 /* CSC §8.3.3's default expires_in */

static int hex64(const char *s)
{
    return s && strlen(s) == OAUTH_TOKEN_LEN &&
           strspn(s, "0123456789abcdef") == OAUTH_TOKEN_LEN;
}

/* RFC 7636 §4.1: 43 to 128 unreserved characters. */
static int verifier_ok(const char *v)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                              "vwxyz0123456789-._~";
    size_t n = v ? strlen(v) : 0;
    return n >= 43 && n <= 128 && strspn(v, set) == n;
}

/* BASE64URL(SHA-256(verifier)) == challenge, in constant time. */
static int pkce_matches(const char *verifier, const char *challenge)
{
    unsigned char h[32];
    char *b64 = NULL;
    if (EVP_Digest(verifier, strlen(verifier), h, NULL, EVP_sha256(), NULL) !=
            1 ||
        lv_b64_encode(h, sizeof h, &b64) < 0)
        return 0;
    for (char *p = b64; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    }
    int ok = strlen(b64) == 44 && b64[43] == '=' && strlen(challenge) == 43 &&
             CRYPTO_memcmp(b64, challenge, 43) == 0;
    free(b64);
    return ok;
}

/* RFC 6749 §2.3.1: the client's id and secret; an OAuth client has
 * redirect URIs. */
static int client_auth(lv_store *st, const char *id, const char *secret,
                       lv_sign_app *app, const char **oerr, lv_err *err)
{
    oauth_uris *u = NULL;
    *oerr = "invalid_client";
    LV_TRY(sign_app_check(st, id, secret, app, err));
    if (!(u = calloc(1, sizeof *u)))
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = oauth_uris_load(st, app->client_id, u, err);
    if (rc == 0 && u->n == 0) {
        *oerr = "unauthorized_client";
        rc = lv_fail(err, LV_EPERM,
                     "the application is not an OAuth client (no redirect "
                     "URI)");
    }
    free(u);
    return rc;
}

/* ---- revocation of what a code bought ------------------------------------ */

/* A credential token's SAD is used up with it. */
static int burn_sad(lv_store *st, const char *hash, lv_err *err)
{
    lv_sign_sad_rec s = {0};
    lv_err ignored = {0};
    if (store_sign_sad_get(st, hash, &s, &ignored) < 0)
        return 0;
    int rc = 0;
    if (s.remaining > 0 && s.expires_at > lv_now() &&
        store_sign_sad_consume(st, hash, s.remaining, lv_now(), err) < 0)
        rc = LV_ESTORE;
    store_sign_sad_rec_free(&s);
    return rc;
}

static int revoke_one(lv_store *st, const char *hash, const char *actor,
                      const char *why, lv_err *err)
{
    int changed = 0;
    LV_TRY(store_oauth_token_revoke(st, hash, lv_now(), &changed, err));
    if (!changed)
        return 0;
    LV_TRY(burn_sad(st, hash, err));
    char shortid[17];
    snprintf(shortid, sizeof shortid, "%.16s", hash);
    return sign_audit(st, actor, "oauth.revoke", shortid,
                      json_pack("{s:s}", "reason", why), err);
}

typedef struct hash_list {
    size_t n;
    char h[8][65];
} hash_list;

static int collect(const char *h, void *ctx)
{
    hash_list *l = ctx;
    if (l->n < 8)
        snprintf(l->h[l->n++], 65, "%s", h);
    return 0;
}

/* RFC 6749 §4.1.2: a code used twice revokes the tokens it bought. */
static void revoke_code_tokens(lv_store *st, const char *code_hash,
                               const char *actor)
{
    hash_list l = {0};
    lv_err err = {0};
    if (store_oauth_tokens_of_code(st, code_hash, collect, &l, &err) < 0 ||
        l.n == 0 || store_begin(st, &err) < 0)
        return;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        rc = revoke_one(st, l.h[i], actor, "authorization code reused", &err);
    lv_ignore(store_end(st, rc, &err)); /* best effort: the refusal stands */
}

/* ---- the exchange -------------------------------------------------------- */

static int check_grant(lv_store *st, const lv_oauth_token_req *in,
                       const lv_sign_app *app, lv_oauth_authz_rec *r,
                       const char **oerr, lv_err *err)
{
    char hash[65], actor[96];
    lv_err ignored = {0};
    *oerr = "invalid_grant";
    if (!hex64(in->code) ||
        lv_sha256_hex(in->code, OAUTH_TOKEN_LEN, hash) < 0 ||
        store_oauth_authz_by_code(st, hash, r, &ignored) < 0 ||
        strcmp(r->client_id, app->client_id) != 0)
        return lv_fail(err, LV_EAUTH, "unknown authorization code");
    if (r->code_used_at) {
        oauth_client_actor(app->client_id, actor);
        revoke_code_tokens(st, hash, actor);
        return lv_fail(err, LV_EAUTH, "the authorization code was used");
    }
    if (r->code_expires_at <= lv_now())
        return lv_fail(err, LV_EAUTH, "the authorization code expired");
    int uri_ok = in->redirect_uri
                     ? strcmp(in->redirect_uri, r->redirect_uri) == 0
                     : !r->redirect_given;
    if (!uri_ok)
        return lv_fail(err, LV_EAUTH,
                       "redirect_uri differs from the authorization "
                       "request's");
    if (!pkce_matches(in->code_verifier, r->code_challenge))
        return lv_fail(err, LV_EAUTH,
                       "code_verifier does not match the code_challenge");
    return 0;
}

/* The token of a credential code is its SAD, recovered with the code. */
static int open_sad(lv_store *st, const lv_oauth_authz_rec *r, const char *code,
                    char token[OAUTH_TOKEN_LEN + 1], int64_t *expires_at,
                    lv_err *err)
{
    unsigned char mask[32], raw[32];
    lv_sign_sad_rec s = {0};
    char hash[65];
    lv_err ignored = {0};
    if (r->sad_enc_len != 32 || oauth_sad_mask(code, mask) < 0)
        return lv_fail(err, LV_ESTORE, "no SAD with this code");
    for (size_t i = 0; i < 32; i++)
        raw[i] = r->sad_enc[i] ^ mask[i];
    lv_hex_encode(raw, sizeof raw, token);
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(mask, sizeof mask);
    int rc = lv_sha256_hex(token, OAUTH_TOKEN_LEN, hash);
    if (rc == 0 && store_sign_sad_get(st, hash, &s, &ignored) < 0)
        rc = lv_fail(err, LV_EAUTH, "the authorization is no longer valid");
    if (rc == 0 && (s.expires_at <= lv_now() || s.remaining <= 0))
        rc = lv_fail(err, LV_EAUTH, "the authorization expired");
    *expires_at = s.expires_at;
    store_sign_sad_rec_free(&s);
    return rc;
}

static int new_token(const lv_config *cfg, lv_store *st,
                     const lv_oauth_authz_rec *r, const char *code,
                     lv_oauth_token_rec *t, lv_oauth_token_out *out,
                     lv_err *err)
{
    int ttl = cfg && cfg->session_ttl_seconds > 0 ? cfg->session_ttl_seconds
                                                  : SERVICE_TTL_DEFAULT;
    t->created_at = lv_now();
    if (strcmp(r->scope, "credential") == 0)
        LV_TRY(open_sad(st, r, code, out->access_token, &t->expires_at, err));
    else {
        LV_TRY(lv_random_hex(32, out->access_token, err));
        t->expires_at = t->created_at + ttl;
    }
    LV_TRY(lv_sha256_hex(out->access_token, OAUTH_TOKEN_LEN, t->token_hash));
    snprintf(t->kind, sizeof t->kind, "%s", r->scope);
    snprintf(t->client_id, sizeof t->client_id, "%s", r->client_id);
    snprintf(t->citizen_id, sizeof t->citizen_id, "%s", r->citizen_id);
    snprintf(t->serial, sizeof t->serial, "%s", r->serial);
    snprintf(t->code_hash, sizeof t->code_hash, "%s", r->code_hash);
    out->scope = strcmp(r->scope, "credential") == 0 ? "credential" : "service";
    out->expires_in = (int)(t->expires_at - t->created_at);
    snprintf(out->credential_id, sizeof out->credential_id, "%s", r->serial);
    return 0;
}

static int record_token(lv_store *st, const lv_oauth_authz_rec *r,
                        const lv_oauth_token_rec *t, const char **oerr,
                        lv_err *err)
{
    char actor[96];
    oauth_client_actor(r->client_id, actor);
    LV_TRY(store_begin(st, err));
    int rc = store_oauth_code_use(st, r->code_hash, lv_now(), err);
    if (rc == LV_ESTATE) /* another exchange took it first */
        *oerr = "invalid_grant";
    if (rc == 0)
        rc = store_oauth_token_insert(st, t, err);
    if (rc == 0)
        rc = sign_audit(st, actor, "oauth.token", r->id,
                        json_pack("{s:s, s:s, s:s, s:I}", "scope", t->kind,
                                  "citizen", t->citizen_id, "credential",
                                  t->serial, "expires_at",
                                  (json_int_t)t->expires_at),
                        err);
    return store_end(st, rc, err);
}

static int token_request_ok(const lv_oauth_token_req *in, const char **oerr,
                            lv_err *err)
{
    *oerr = "invalid_request";
    if (!in->grant_type)
        return lv_fail(err, LV_EINVAL, "grant_type is required");
    if (strcmp(in->grant_type, "authorization_code") != 0) {
        *oerr = "unsupported_grant_type";
        return lv_fail(err, LV_EINVAL, "grant_type: only authorization_code");
    }
    if (!in->code || !in->code_verifier)
        return lv_fail(err, LV_EINVAL,
                       "code and code_verifier (PKCE) are required");
    if (!verifier_ok(in->code_verifier))
        return lv_fail(err, LV_EINVAL,
                       "code_verifier: 43 to 128 unreserved characters");
    return 0;
}

int oauth_token(const lv_config *cfg, lv_store *st,
                const lv_oauth_token_req *in, lv_oauth_token_out *out,
                const char **oerr, lv_err *err)
{
    lv_sign_app app;
    lv_oauth_authz_rec r;
    lv_oauth_token_rec t = {0};
    char actor[96];
    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    LV_TRY(client_auth(st, in->client_id, in->client_secret, &app, oerr, err));
    oauth_client_actor(app.client_id, actor);
    int rc = token_request_ok(in, oerr, err);
    if (rc == 0)
        rc = check_grant(st, in, &app, &r, oerr, err);
    if (rc == 0 && (rc = new_token(cfg, st, &r, in->code, &t, out, err)) < 0)
        *oerr = rc == LV_EAUTH ? "invalid_grant" : "server_error";
    if (rc == 0)
        rc = record_token(st, &r, &t, oerr, err);
    if (rc < 0) {
        oauth_audit_refusal(st, actor, "oauth.token", r.id[0] ? r.id : "-",
                            *oerr, err);
        OPENSSL_cleanse(out, sizeof *out);
    }
    store_oauth_authz_free(&r);
    return rc;
}

int oauth_revoke(lv_store *st, const char *client_id, const char *secret,
                 const char *token, const char **oerr, lv_err *err)
{
    lv_sign_app app;
    lv_oauth_token_rec t;
    char hash[65], actor[96];
    lv_err ignored = {0};
    LV_TRY(client_auth(st, client_id, secret, &app, oerr, err));
    *oerr = "invalid_request";
    if (!token)
        return lv_fail(err, LV_EINVAL, "token is required");
    /* RFC 7009 §2.2: an invalid token is no error; neither is another
     * client's, which is left alone */
    if (!hex64(token) || lv_sha256_hex(token, OAUTH_TOKEN_LEN, hash) < 0 ||
        store_oauth_token_get(st, hash, &t, &ignored) < 0 ||
        strcmp(t.client_id, app.client_id) != 0 || t.revoked_at)
        return 0;
    oauth_client_actor(app.client_id, actor);
    *oerr = "server_error";
    LV_TRY(store_begin(st, err));
    int rc = revoke_one(st, hash, actor, "revoked by the client", err);
    return store_end(st, rc, err);
}

/* ---- bearer checks for the CSC methods ----------------------------------- */

static int token_row(lv_store *st, const char *token, lv_oauth_token_rec *t,
                     lv_err *err)
{
    char hash[65];
    lv_err ignored = {0};
    lv_sign_refusal why = LV_SIGN_OK;
    if (!hex64(token) || lv_sha256_hex(token, OAUTH_TOKEN_LEN, hash) < 0 ||
        store_oauth_token_get(st, hash, t, &ignored) < 0)
        return lv_fail(err, LV_EAUTH, "invalid access token");
    if (t->revoked_at || t->expires_at <= lv_now())
        return lv_fail(err, LV_EAUTH,
                       "the access token expired or was "
                       "revoked");
    if (sign_citizen_check(st, t->citizen_id, &why, &ignored) < 0)
        return lv_fail(err, LV_EAUTH, "the citizen may not sign now (%s)",
                       sign_refusal_name(why));
    return 0;
}

int oauth_bearer(lv_store *st, const char *token, lv_principal *out,
                 lv_oauth_kind *kind, lv_err *err)
{
    lv_oauth_token_rec t;
    memset(out, 0, sizeof *out);
    *kind = LV_OAUTH_NONE;
    LV_TRY(token_row(st, token, &t, err));
    out->kind = LV_PRINCIPAL_CITIZEN;
    snprintf(out->id, sizeof out->id, "%s", t.citizen_id);
    out->roles = LV_ROLE_CITIZEN;
    out->expires_at = t.expires_at;
    snprintf(out->actor, sizeof out->actor, "citizen:%s", t.citizen_id);
    *kind = strcmp(t.kind, "credential") == 0 ? LV_OAUTH_CREDENTIAL
                                              : LV_OAUTH_SERVICE;
    return 0;
}

int oauth_bearer_service(lv_store *st, const char *token, lv_principal *out,
                         lv_err *err)
{
    lv_oauth_kind kind;
    LV_TRY(oauth_bearer(st, token, out, &kind, err));
    if (kind == LV_OAUTH_SERVICE)
        return 0;
    memset(out, 0, sizeof *out);
    return lv_fail(err, LV_EAUTH,
                   "a scope-credential token authorizes signatures/signHash "
                   "only");
}

static int grant_of(lv_store *st, const lv_oauth_token_rec *t,
                    lv_oauth_grant *g, lv_err *err)
{
    lv_sign_sad_rec s = {0};
    lv_err ignored = {0};
    if (store_sign_sad_get(st, t->token_hash, &s, &ignored) < 0)
        return lv_fail(err, LV_EAUTH, "the access token is used up");
    g->md = sign_md_by_name(s.digest_alg);
    size_t dlen = g->md ? (size_t)EVP_MD_get_size(g->md) : 0;
    snprintf(g->citizen_id, sizeof g->citizen_id, "%s", s.citizen_id);
    snprintf(g->credential_id, sizeof g->credential_id, "%s", s.serial);
    snprintf(g->client_id, sizeof g->client_id, "%s", t->client_id);
    g->hashes = s.hashes;
    g->n = dlen ? s.hashes_len / dlen : 0;
    s.hashes = NULL;
    g->remaining = s.remaining;
    g->expires_at = s.expires_at < t->expires_at ? s.expires_at : t->expires_at;
    store_sign_sad_rec_free(&s);
    if (!g->md || g->remaining <= 0 || g->expires_at <= lv_now())
        return lv_fail(err, LV_EAUTH, "the access token is used up");
    return 0;
}

int oauth_bearer_credential(lv_store *st, const char *token,
                            lv_oauth_grant *out, lv_err *err)
{
    lv_oauth_token_rec t;
    memset(out, 0, sizeof *out);
    LV_TRY(token_row(st, token, &t, err));
    if (strcmp(t.kind, "credential") != 0)
        return lv_fail(err, LV_EAUTH, "not a scope-credential token");
    int rc = grant_of(st, &t, out, err);
    if (rc < 0)
        oauth_grant_free(out);
    return rc;
}

void oauth_grant_free(lv_oauth_grant *g)
{
    if (!g)
        return;
    free(g->hashes);
    memset(g, 0, sizeof *g);
}

int oauth_sign_hash(const lv_sign_env *env, lv_store *st, const char *token,
                    const char *credential_id, const EVP_MD *md,
                    const unsigned char *hashes, size_t n, unsigned char **sigs,
                    size_t *sig_len, lv_sign_refusal *why, lv_err *err)
{
    lv_oauth_grant g;
    char norm[65];
    lv_err ignored = {0};
    *sigs = NULL;
    *sig_len = 0;
    *why = LV_SIGN_OK;
    LV_TRY(oauth_bearer_credential(st, token, &g, err));
    int rc = 0;
    if (credential_id &&
        (ca_serial_normalize(credential_id, norm, &ignored) < 0 ||
         strcmp(norm, g.credential_id) != 0))
        rc = lv_fail(err, LV_EPERM,
                     "the access token authorizes another credential");
    if (rc == 0)
        rc = sign_csc_sign_hash(env, st, g.citizen_id, g.credential_id, token,
                                md, hashes, n, sigs, sig_len, why, err);
    oauth_grant_free(&g);
    return rc;
}
