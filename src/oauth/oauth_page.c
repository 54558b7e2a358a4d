/* The citizen's side of oauth2/authorize, behind the page /oauth/{id}:
 * log in, see what the application asks for, receive the OTP bound to it
 * (R3.3), approve with password + OTP (R3.4) or refuse.  Approving yields
 * the authorization code; for scope credential it runs sign/'s CSC
 * authorization, whose SAD the code carries (encrypted under the code). */
#include "oauth/oauth_internal.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OTP_PURPOSE_SERVICE "oauth"
#define SAD_LABEL "llave-oauth-sad-v1"

static int is_credential(const lv_oauth_authz_rec *r)
{
    return strcmp(r->scope, "credential") == 0;
}

/* Ids are 32 hex characters; anything else is not a request. */
static int load(lv_store *st, const char *id, lv_oauth_authz_rec *r,
                lv_err *err)
{
    lv_err ignored = {0};
    memset(r, 0, sizeof *r);
    if (!id || strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32 ||
        store_oauth_authz_get(st, id, r, &ignored) < 0)
        return lv_fail(err, LV_ENOTFOUND, "no such authorization request");
    return 0;
}

/* Open (pending or otp_sent, unexpired) and, once bound, the caller's. */
static int open_for(const lv_oauth_authz_rec *r, const lv_principal *who,
                    int need_otp, lv_err *err)
{
    if (who && (who->kind != LV_PRINCIPAL_CITIZEN ||
                (r->citizen_id[0] && strcmp(who->id, r->citizen_id) != 0)))
        return lv_fail(err, LV_ENOTFOUND, "no such authorization request");
    if (lv_now() >= r->expires_at)
        return lv_fail(err, LV_ESTATE, "the authorization request expired");
    if (strcmp(r->status, "pending") != 0 && strcmp(r->status, "otp_sent") != 0)
        return lv_fail(err, LV_ESTATE, "the authorization request is %s",
                       r->status);
    if (need_otp && strcmp(r->status, "otp_sent") != 0)
        return lv_fail(err, LV_ESTATE, "request the one-time code first");
    return 0;
}

static int authz_row_update(lv_store *st, const void *r, const char *from,
                            lv_err *err)
{
    return store_oauth_authz_update(st, r, from, err);
}

static int update(lv_store *st, const lv_oauth_authz_rec *r, const char *from,
                  const char *actor, const char *event, json_t *details,
                  lv_err *err)
{
    return sign_update_audited(st, authz_row_update, r, from, actor, event,
                               r->id, details, err);
}

int oauth_page_info(lv_store *st, const char *id, json_t **out, lv_err *err)
{
    lv_oauth_authz_rec r;
    char app[129], exp[32];
    *out = NULL;
    LV_TRY(load(st, id, &r, err));
    int rc = open_for(&r, NULL, 0, err);
    sign_app_display_name(st, r.client_id, app);
    lv_time_iso(r.expires_at, exp);
    if (rc == 0 &&
        !(*out = json_pack("{s:s, s:s, s:s, s:s}", "id", r.id, "application",
                           app, "scope", r.scope, "expires_at", exp)))
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    store_oauth_authz_free(&r);
    return rc;
}

/* ---- the view ------------------------------------------------------------ */

static json_t *documents_json(const lv_oauth_authz_rec *r)
{
    const EVP_MD *md = sign_md_by_name(r->digest_alg);
    size_t dlen = md ? (size_t)EVP_MD_get_size(md) : 0;
    json_t *labels = json_loads(r->labels, 0, NULL);
    json_t *docs = json_array();
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    for (size_t i = 0; docs && dlen && i < r->hashes_len / dlen; i++) {
        const char *label = json_string_value(json_array_get(labels, i));
        lv_hex_encode(r->hashes + i * dlen, dlen, hex);
        json_array_append_new(docs, json_pack("{s:s, s:s}", "label",
                                              label ? label : "", "hash", hex));
    }
    json_decref(labels);
    return docs;
}

static void add_credential(lv_store *st, const lv_oauth_authz_rec *r, json_t *o)
{
    lv_sign_cred c;
    char *sheet = NULL;
    int accepted = 1;
    lv_err ignored = {0};
    if (sign_credential_get(st, r->citizen_id, r->serial, &c, &ignored) == 0) {
        json_object_set_new(
            o, "credential",
            json_pack("{s:s, s:s}", "id", r->serial, "subject", c.subject_dn));
        sign_cred_free(&c);
    }
    if (sign_acceptance_sheet(st, r->serial, &sheet, &accepted, &ignored) ==
            0 &&
        !accepted)
        json_object_set_new(o, "acceptance",
                            json_pack("{s:s}", "sheet", sheet));
    free(sheet);
}

static json_t *view_json(lv_store *st, const lv_oauth_authz_rec *r)
{
    char app[129], exp[32];
    sign_app_display_name(st, r->client_id, app);
    lv_time_iso(r->expires_at, exp);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", r->id,
                          "application", app, "scope", r->scope, "description",
                          r->description, "state", r->status, "expires_at", exp,
                          /* where the citizen will be taken back: the page
                           * shows its host (issue 15 item 3) */
                          "redirect_uri", r->redirect_uri);
    if (o && is_credential(r)) {
        json_object_set_new(o, "digest_algorithm", json_string(r->digest_alg));
        json_object_set_new(o, "documents", documents_json(r));
        json_object_set_new(o, "num_signatures",
                            json_integer(r->num_signatures));
        add_credential(st, r, o);
    }
    return o;
}

/* ---- login --------------------------------------------------------------- */

/* Who may authorize this request: the credential's holder (R5.5 checks
 * included), or for scope service any citizen who may sign now. */
static int may_authorize(lv_store *st, lv_oauth_authz_rec *r,
                         const char *citizen_id, lv_sign_refusal *why,
                         lv_err *err)
{
    /* signatureQualifier instead of credentialID (CSC v2 §8.3.2): the
     * citizen's newest usable credential, as signDoc picks it; it is stored
     * with the citizen's binding (bind_citizen) */
    if (is_credential(r) && !r->serial[0])
        LV_TRY(sign_credential_pick(st, citizen_id, r->serial, why, err));
    if (is_credential(r))
        return sign_credential_check(st, citizen_id, r->serial, why, err);
    return sign_citizen_check(st, citizen_id, why, err);
}

static int bind_citizen(lv_store *st, lv_oauth_authz_rec *r,
                        const lv_principal *who, lv_err *err)
{
    char from[16];
    if (r->citizen_id[0])
        return 0; /* bound at an earlier login, to this citizen */
    snprintf(from, sizeof from, "%s", r->status);
    snprintf(r->citizen_id, sizeof r->citizen_id, "%s", who->id);
    return update(st, r, from, who->actor, "oauth.login",
                  json_pack("{s:s, s:s, s:s}", "client_id", r->client_id,
                            "scope", r->scope, "credential", r->serial),
                  err);
}

static int login_session(const lv_sign_env *env, lv_store *st,
                         const char *user_id, const char *password,
                         lv_session_token *tok, lv_principal *who,
                         lv_sign_refusal *why, lv_err *err)
{
    int rc = auth_citizen_login(env->auth, st, user_id, password,
                                env->remote_addr, tok, err);
    if (rc < 0) {
        *why = rc == LV_EPERM   ? LV_SIGN_LOCKED
               : rc == LV_EAUTH ? LV_SIGN_BAD_PASSWORD
                                : LV_SIGN_OK;
        return rc;
    }
    return auth_session_check(env->auth, st, tok->token, LV_ROLE_CITIZEN, who,
                              err);
}

int oauth_page_login(const lv_sign_env *env, lv_store *st, const char *id,
                     const char *user_id, const char *password, json_t **out,
                     lv_sign_refusal *why, lv_err *err)
{
    lv_oauth_authz_rec r;
    lv_session_token tok;
    lv_principal who;
    *out = NULL;
    *why = LV_SIGN_OK;
    memset(&tok, 0, sizeof tok);
    LV_TRY(load(st, id, &r, err));
    int rc = open_for(&r, NULL, 0, err);
    if (rc == 0)
        rc = login_session(env, st, user_id, password, &tok, &who, why, err);
    if (rc == 0 && r.citizen_id[0] && strcmp(r.citizen_id, who.id) != 0)
        rc =
            lv_fail(err, LV_EPERM, "another citizen is answering this request");
    if (rc == 0 && (rc = may_authorize(st, &r, who.id, why, err)) < 0)
        oauth_audit_refusal(st, who.actor, "oauth.login", r.id,
                            sign_refusal_name(*why), err);
    if (rc == 0)
        rc = bind_citizen(st, &r, &who, err);
    if (rc < 0 && tok.token[0]) /* the session is of no use: end it */
        lv_ignore(auth_session_end(env->auth, st, tok.token, NULL));
    if (rc == 0)
        rc = sign_login_answer(view_json(st, &r), &tok, out, err);
    auth_token_wipe(&tok);
    store_oauth_authz_free(&r);
    return rc;
}

/* ---- the OTP ------------------------------------------------------------- */

/* Scope service: the OTP is bound to this request and its client. */
static int service_binding(const lv_oauth_authz_rec *r, lv_buf *out)
{
    static const char label[] = "llave-oauth-service-v1";
    memset(out, 0, sizeof *out);
    lv_buf_append(out, label, sizeof label);
    lv_buf_append(out, r->id, strlen(r->id) + 1);
    lv_buf_append(out, r->client_id, strlen(r->client_id) + 1);
    return out->error;
}

static int send_otp(const lv_sign_env *env, lv_store *st, lv_oauth_authz_rec *r,
                    lv_sign_refusal *why, lv_err *err)
{
    lv_buf b = {0};
    char app[129];
    const EVP_MD *md = sign_md_by_name(r->digest_alg);
    /* the SMS names the client that asks (issue 15 item 1) */
    sign_app_display_name(st, r->client_id, app);
    lv_sign_env named = *env;
    named.app_name = app;
    named.shows_sheet = 1; /* this page shows it (view_json) */
    if (is_credential(r))
        return sign_csc_send_otp(
            &named, st, r->citizen_id, r->serial, md, r->hashes,
            r->hashes_len / (size_t)EVP_MD_get_size(md), why, err);
    int rc = service_binding(r, &b);
    if (rc == 0)
        rc = auth_otp_send(env->auth, st, r->citizen_id, OTP_PURPOSE_SERVICE,
                           b.data, b.len, env->remote_addr,
                           &(lv_otp_sms){.lang = env->lang, .app = app},
                           r->otp_id, err);
    lv_buf_free(&b);
    return rc;
}

int oauth_page_otp(const lv_sign_env *env, lv_store *st, const char *id,
                   const lv_principal *who, json_t **out, lv_sign_refusal *why,
                   lv_err *err)
{
    lv_oauth_authz_rec r;
    char from[16];
    *out = NULL;
    *why = LV_SIGN_OK;
    LV_TRY(load(st, id, &r, err));
    int rc = open_for(&r, who, 0, err);
    if (rc == 0 && !r.citizen_id[0])
        rc = lv_fail(err, LV_ESTATE, "log in first");
    snprintf(from, sizeof from, "%s", r.status);
    if (rc == 0)
        rc = send_otp(env, st, &r, why, err);
    if (rc == 0) {
        snprintf(r.status, sizeof r.status, "otp_sent");
        rc = update(
            st, &r, from, who->actor, "oauth.otp",
            json_pack("{s:s, s:s}", "client_id", r.client_id, "scope", r.scope),
            err);
    }
    if (rc == 0 && !(*out = view_json(st, &r)))
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    store_oauth_authz_free(&r);
    return rc;
}

/* ---- approve and deny ---------------------------------------------------- */

/* The SAD (64 hex) XOR SHA-256(label 0 code): only the code's holder can
 * recover it (oauth_token.c does the reverse). */
int oauth_sad_mask(const char *code, unsigned char mask[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(c, SAD_LABEL, sizeof SAD_LABEL) &&
             EVP_DigestUpdate(c, code, strlen(code)) &&
             EVP_DigestFinal_ex(c, mask, NULL);
    EVP_MD_CTX_free(c);
    return ok ? 0 : LV_ECRYPTO;
}

static int authorize_citizen(const lv_sign_env *env, lv_store *st,
                             lv_oauth_authz_rec *r, const char *password,
                             const char *otp, char sad[LV_SIGN_SAD_LEN + 1],
                             lv_sign_refusal *why, lv_err *err)
{
    lv_buf b = {0};
    int expires_in = 0;
    const EVP_MD *md = sign_md_by_name(r->digest_alg);
    lv_sign_env shown = *env;
    shown.shows_sheet = 1; /* this page showed it (view_json) */
    sad[0] = '\0';
    if (is_credential(r))
        return sign_csc_authorize(
            &shown, st, r->citizen_id, r->serial, md, r->hashes,
            r->hashes_len / (size_t)EVP_MD_get_size(md), r->num_signatures,
            password, otp, sad, &expires_in, why, err);
    int rc = service_binding(r, &b);
    if (rc == 0 &&
        (rc = auth_citizen_authorize(env->auth, st, r->citizen_id, password,
                                     r->otp_id, OTP_PURPOSE_SERVICE, b.data,
                                     b.len, otp, env->remote_addr, err)) < 0)
        *why = rc == LV_EPERM                 ? LV_SIGN_LOCKED
               : strstr(err->msg, "password") ? LV_SIGN_BAD_PASSWORD
                                              : LV_SIGN_BAD_OTP;
    lv_buf_free(&b);
    return rc;
}

/* A new code; the SAD, if any, sealed under it. */
static int new_code(lv_oauth_authz_rec *r, const char *sad,
                    char code[OAUTH_TOKEN_LEN + 1], lv_err *err)
{
    unsigned char mask[32], raw[32];
    LV_TRY(lv_random_hex(32, code, err));
    LV_TRY(lv_sha256_hex(code, OAUTH_TOKEN_LEN, r->code_hash));
    r->code_expires_at = lv_now() + OAUTH_CODE_TTL;
    snprintf(r->status, sizeof r->status, "approved");
    if (!sad[0])
        return 0;
    if (lv_hex_decode(sad, raw, sizeof raw) != 32 ||
        oauth_sad_mask(code, mask) < 0)
        return lv_fail(err, LV_ECRYPTO, "cannot seal the SAD");
    for (size_t i = 0; i < 32; i++)
        r->sad_enc[i] = raw[i] ^ mask[i];
    r->sad_enc_len = 32;
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(mask, sizeof mask);
    return 0;
}

static int approve_record(lv_store *st, lv_oauth_authz_rec *r,
                          const lv_principal *who, const char *sad,
                          char location[OAUTH_LOCATION_MAX], lv_err *err)
{
    char code[OAUTH_TOKEN_LEN + 1], params[80];
    int rc = new_code(r, sad, code, err);
    if (rc == 0)
        rc = update(st, r, "otp_sent", who->actor, "oauth.approve",
                    json_pack("{s:s, s:s, s:s, s:i}", "client_id", r->client_id,
                              "scope", r->scope, "credential", r->serial,
                              "num_signatures", r->num_signatures),
                    err);
    snprintf(params, sizeof params, "code=%s", code);
    if (rc == 0)
        rc = oauth_location(location, OAUTH_LOCATION_MAX, r->redirect_uri,
                            params, r->state, err);
    OPENSSL_cleanse(code, sizeof code);
    OPENSSL_cleanse(params, sizeof params);
    return rc;
}

int oauth_page_approve(const lv_sign_env *env, lv_store *st, const char *id,
                       const lv_principal *who, const char *password,
                       const char *otp, json_t **out, lv_sign_refusal *why,
                       lv_err *err)
{
    lv_oauth_authz_rec r;
    char sad[LV_SIGN_SAD_LEN + 1] = "";
    char *location = calloc(1, OAUTH_LOCATION_MAX);
    *out = NULL;
    *why = LV_SIGN_OK;
    if (!location)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = load(st, id, &r, err);
    if (rc == 0)
        rc = open_for(&r, who, 1, err);
    if (rc == 0)
        rc = authorize_citizen(env, st, &r, password, otp, sad, why, err);
    if (rc == 0)
        rc = approve_record(st, &r, who, sad, location, err);
    if (rc == 0 && !(*out = json_pack("{s:s, s:s}", "state", "approved",
                                      "redirect", location)))
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    OPENSSL_cleanse(sad, sizeof sad);
    OPENSSL_cleanse(location, OAUTH_LOCATION_MAX);
    free(location);
    store_oauth_authz_free(&r);
    return rc;
}

int oauth_page_deny(lv_store *st, const char *id, const lv_principal *who,
                    json_t **out, lv_err *err)
{
    lv_oauth_authz_rec r;
    char from[16], location[OAUTH_LOCATION_MAX];
    *out = NULL;
    LV_TRY(load(st, id, &r, err));
    int rc = open_for(&r, who, 0, err);
    snprintf(from, sizeof from, "%s", r.status);
    if (rc == 0) {
        snprintf(r.citizen_id, sizeof r.citizen_id, "%s", who->id);
        snprintf(r.status, sizeof r.status, "denied");
        rc = update(st, &r, from, who->actor, "oauth.deny",
                    json_pack("{s:s}", "client_id", r.client_id), err);
    }
    if (rc == 0)
        rc = oauth_location(location, sizeof location, r.redirect_uri,
                            "error=access_denied", r.state, err);
    if (rc == 0 && !(*out = json_pack("{s:s, s:s}", "state", "denied",
                                      "redirect", location)))
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    store_oauth_authz_free(&r);
    return rc;
}
