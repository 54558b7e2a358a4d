/* oauth/ — OAuth 2.0 for the CSC API (CSC API v2.0.0.2 §8; issue 14 item
 * 3): registered clients, the authorization code grant with PKCE (RFC 6749
 * §4.1, RFC 7636 S256 only), the citizen's authorization page behind
 * /oauth/{id}, the token and revocation endpoints (RFC 7009), and the
 * functions the CSC methods call to accept the access tokens.
 *
 * - A client is a relying application of sign/ (`llave app add NAME
 *   --redirect-uri URI`): the same client id and secret (256 random bits,
 *   only SHA-256 stored: full entropy needs no slow hash) plus redirect
 *   URIs compared exactly.
 * - scope "service": the citizen logs in (user id + password), receives an
 *   OTP bound to this request and client, and approves with password +
 *   OTP (R3.4); the code buys a bearer for the CSC service methods.
 * - scope "credential" (or authorization_details of type "credential"):
 *   the page shows the credential, the documents' labels and hashes and
 *   the number of signatures; the OTP is sign/'s CSC OTP bound to exactly
 *   those hashes (R3.3); approving runs sign/'s credentials/authorize
 *   (password + OTP, the acceptance sheet signed when due, R5.4), whose SAD
 *   becomes the access token: signatures/signHash honours it as the SAD
 *   (sign_csc_sign_hash), for exactly those hashes and numSignatures.
 * - Codes (256 bits) and tokens (256 bits) are stored as SHA-256; a code
 *   lives OAUTH_CODE_TTL seconds, works once, and a second presentation
 *   revokes what the first obtained (RFC 6749 §4.1.2).  A credential code
 *   keeps its SAD encrypted under the code itself (XOR SHA-256(label,
 *   code)), so the database alone yields no usable SAD.
 *
 * Errors carry the RFC 6749 error name in *oerr ("invalid_request",
 * "invalid_client", "invalid_grant", ...), the message in err.  Every
 * state change is audited in its transaction; refusals of a known client
 * or citizen are audited too.  Secrets are compared in constant time and
 * never logged.
 *
 * Depends on core/, auth/, sign/ (and what sign.h shows), audit/, store/
 * (store_oauth, and store_sign for the SAD of a credential token). */
#ifndef LLAVE_OAUTH_H
#define LLAVE_OAUTH_H

#include "auth/auth.h"
#include "core/core.h"
#include "sign/sign.h"

#include <openssl/evp.h>

#define OAUTH_REQUEST_TTL 600 /* seconds the page may take */
#define OAUTH_CODE_TTL 60     /* seconds a code lives (RFC 6749 §4.1.2) */
#define OAUTH_URIS_MAX 8      /* redirect URIs of one client */
#define OAUTH_TOKEN_LEN 64    /* hex characters of a code or token */
#define OAUTH_LOCATION_MAX 2048

/* ---- clients ------------------------------------------------------------- */

/* An absolute https URI, or http on a loopback host (127.0.0.1, [::1],
 * localhost: RFC 8252 §7.3), at most 1000 bytes of visible ASCII, without
 * a fragment (RFC 6749 §3.1.2). */
int oauth_redirect_uri_ok(const char *uri);
/* Registers an OAuth client: a relying application (sign_app's id and
 * secret) with 1..OAUTH_URIS_MAX redirect URIs, in one transaction,
 * audited as "app.add" with the URIs. */
int oauth_client_add(lv_store *st, const char *name, const char *const *uris,
                     size_t n, const char *actor, lv_sign_app_secret *out,
                     lv_err *err) LV_MUST_USE;
/* The client's redirect URIs as a JSON array (new reference). */
int oauth_client_uris_json(lv_store *st, const char *client_id, json_t **out,
                           lv_err *err) LV_MUST_USE;

/* ---- application/x-www-form-urlencoded (oauth_form.c) --------------------
 * The WHATWG/HTML form encoding RFC 6749 Appendix B names: name=value pairs
 * joined by '&', '+' for a space, %XX escapes.  Strict: a malformed escape,
 * a decoded NUL or control character, more than OAUTH_PARAMS_MAX pairs or
 * a body over OAUTH_FORM_MAX bytes is LV_EINVAL.  Pure (fuzzable). */
#define OAUTH_PARAMS_MAX 32
#define OAUTH_FORM_MAX ((size_t)16 * 1024)
typedef struct oauth_params {
    size_t n;
    const char *name[OAUTH_PARAMS_MAX];
    const char *value[OAUTH_PARAMS_MAX];
    char *buf; /* owned storage of names and values */
    size_t buf_len;
} oauth_params;
int oauth_form_parse(const void *body, size_t len, oauth_params *out,
                     lv_err *err) LV_MUST_USE;
/* The value of name, or NULL when absent. */
const char *oauth_param(const oauth_params *p, const char *name);
/* The first of names that occurs more than once (RFC 6749 §3.1, §3.2:
 * "MUST NOT be included more than once"), or NULL. */
const char *oauth_params_repeated(const oauth_params *p,
                                  const char *const *names);
void oauth_params_free(oauth_params *p);

/* ---- oauth2/authorize ---------------------------------------------------- */
typedef struct lv_oauth_authorize_req {
    const char *response_type, *client_id, *redirect_uri, *scope, *state;
    const char *code_challenge, *code_challenge_method, *lang;
    const char *credential_id, *num_signatures, *hashes, *hash_algorithm_oid;
    const char *signature_qualifier; /* instead of credential_id (§8.3.2) */
    const char *description, *authorization_details;
} lv_oauth_authorize_req;

/* Checks the request and records it.  0: id_out is the page's request id.
 * On a refusal, *oerr names it and, when the client and redirect URI are
 * known (RFC 6749 §4.1.2.1), location receives the redirect that carries
 * the error and state; location is "" when the user must be told instead
 * (unknown client, redirect URI not registered). */
int oauth_authorize(lv_store *st, const lv_oauth_authorize_req *in,
                    char id_out[33], char location[OAUTH_LOCATION_MAX],
                    const char **oerr, lv_err *err) LV_MUST_USE;

/* ---- the citizen's page (/oauth/{id}) ------------------------------------
 * info: {application, scope, expires_at} for anyone holding the address.
 * login: user id + password (auth_citizen_login, throttled like every
 * login); binds the request to the citizen (a credential scope request
 * only to the credential's holder) and returns the view with a citizen
 * session token {token, expires_in, application, scope, description,
 * credential, digest_algorithm, documents: [{label, hash}],
 * num_signatures, acceptance}.  otp: sends the OTP (scope credential:
 * sign_csc_send_otp with the hashes; service: bound to the request and
 * client).  approve: password + OTP, then {redirect} with code and state.
 * deny: {redirect} with error=access_denied and state.  *why names a
 * signing refusal (sign_refusal_name) when there is one. */
int oauth_page_info(lv_store *st, const char *id, json_t **out,
                    lv_err *err) LV_MUST_USE;
int oauth_page_login(const lv_sign_env *env, lv_store *st, const char *id,
                     const char *user_id, const char *password, json_t **out,
                     lv_sign_refusal *why, lv_err *err) LV_MUST_USE;
int oauth_page_otp(const lv_sign_env *env, lv_store *st, const char *id,
                   const lv_principal *who, json_t **out, lv_sign_refusal *why,
                   lv_err *err) LV_MUST_USE;
int oauth_page_approve(const lv_sign_env *env, lv_store *st, const char *id,
                       const lv_principal *who, const char *password,
                       const char *otp, json_t **out, lv_sign_refusal *why,
                       lv_err *err) LV_MUST_USE;
int oauth_page_deny(lv_store *st, const char *id, const lv_principal *who,
                    json_t **out, lv_err *err) LV_MUST_USE;

/* ---- oauth2/token, oauth2/revoke ----------------------------------------- */
typedef struct lv_oauth_token_req {
    const char *grant_type, *code, *redirect_uri, *code_verifier;
    const char *client_id, *client_secret;
} lv_oauth_token_req;

typedef struct lv_oauth_token_out {
    char access_token[OAUTH_TOKEN_LEN + 1]; /* wipe after use */
    const char *scope;                      /* "service", "credential" */
    int expires_in;
    char credential_id[65]; /* scope credential */
} lv_oauth_token_out;

/* RFC 6749 §4.1.3: a refusal changes nothing stored but its audit entry
 * (a code survives a wrong verifier or redirect URI), except a code
 * presented again, which revokes the token it bought. */
int oauth_token(const lv_config *cfg, lv_store *st,
                const lv_oauth_token_req *in, lv_oauth_token_out *out,
                const char **oerr, lv_err *err) LV_MUST_USE;
/* RFC 7009: 0 also for a token that is unknown, expired, revoked already
 * or another client's (nothing changes then); a credential token's SAD is
 * used up with it. */
int oauth_revoke(lv_store *st, const char *client_id, const char *secret,
                 const char *token, const char **oerr, lv_err *err) LV_MUST_USE;

/* ---- what the CSC methods call (issue 14 item 3) --------------------------
 * Bearer tokens of oauth2/token.  LV_EAUTH for a token that is unknown,
 * malformed, revoked, expired or of the other kind, and for a citizen who
 * may not sign now (locked, not active: sign_citizen_check). */
typedef enum lv_oauth_kind {
    LV_OAUTH_NONE = 0,
    LV_OAUTH_SERVICE = 1,    /* scope "service" */
    LV_OAUTH_CREDENTIAL = 2, /* scope "credential": also the SAD */
} lv_oauth_kind;

/* (a) The citizen of a scope-service token, as auth_session_check gives it
 * (kind citizen, roles LV_ROLE_CITIZEN, actor "citizen:<id>", expiry). */
int oauth_bearer_service(lv_store *st, const char *token, lv_principal *out,
                         lv_err *err) LV_MUST_USE;
/* Either kind: the principal and the kind, for the server's bearer check of
 * CSC routes (a token of auth/login is not one of these: LV_EAUTH). */
int oauth_bearer(lv_store *st, const char *token, lv_principal *out,
                 lv_oauth_kind *kind, lv_err *err) LV_MUST_USE;

/* Issue 14 item 6, an lv_purge_hook for sign_purger_start: the requests
 * and codes, and the access tokens, that expired before `before`. */
int oauth_purge(lv_store *st, int64_t before, int *count,
                lv_err *err) LV_MUST_USE;

/* (b) What a scope-credential token authorizes. */
typedef struct lv_oauth_grant {
    char citizen_id[72];
    char credential_id[65]; /* the certificate serial */
    char client_id[40];
    const EVP_MD *md;      /* hashAlgorithmOID */
    unsigned char *hashes; /* owned: n digests of md end to end */
    size_t n;
    int remaining; /* signatures left (numSignatures) */
    int64_t expires_at;
} lv_oauth_grant;
int oauth_bearer_credential(lv_store *st, const char *token,
                            lv_oauth_grant *out, lv_err *err) LV_MUST_USE;
void oauth_grant_free(lv_oauth_grant *g);
/* signatures/signHash with a scope-credential token as the Bearer and the
 * SAD omitted: the token is the SAD (sign_csc_sign_hash consumes it, n
 * signatures, only hashes it authorizes); credential_id may be NULL (the
 * token's) but must otherwise be the token's.  LV_EAUTH as above, LV_EPERM
 * for hashes it does not authorize or signatures it has not left. */
int oauth_sign_hash(const lv_sign_env *env, lv_store *st, const char *token,
                    const char *credential_id, const EVP_MD *md,
                    const unsigned char *hashes, size_t n, unsigned char **sigs,
                    size_t *sig_len, lv_sign_refusal *why,
                    lv_err *err) LV_MUST_USE;

#endif
