/* Bearer sessions: creation at login, the check every protected request
 * makes, logout. */
#include "auth/auth_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define KIND_OPERATOR "operator"
#define KIND_CITIZEN "citizen"
#define KIND_PORTAL "portal" /* password + SMS code (auth_portal_login) */

/* Plain SHA-256 of the token text: the token is 256 random bits, so no
 * salt or slow hash is needed, and an operator can find a session row from
 * a token with `printf %s TOKEN | sha256sum`. */
static int token_hash(const char *token, char out[AUTH_HASH_HEX], lv_err *err)
{
    unsigned char md[32];
    unsigned int n = 0;
    if (EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL) != 1 ||
        n != sizeof md)
        return lv_fail_ssl(err, LV_ECRYPTO, "SHA-256 failed");
    lv_hex_encode(md, sizeof md, out);
    return 0;
}

static int token_well_formed(const char *token)
{
    return token && strlen(token) == LV_AUTH_TOKEN_LEN &&
           strspn(token, "0123456789abcdef") == LV_AUTH_TOKEN_LEN;
}

int auth_session_create(lv_auth *auth, lv_store *st, const char *kind,
                        const char *principal, unsigned roles, const char *ip,
                        lv_session_token *out, lv_err *err)
{
    unsigned char rnd[LV_AUTH_TOKEN_LEN / 2];
    lv_session_rec rec = {0};
    int64_t now = lv_now();
    memset(out, 0, sizeof *out);
    if (lv_random(rnd, sizeof rnd) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness for a session token");
    lv_hex_encode(rnd, sizeof rnd, out->token);
    OPENSSL_cleanse(rnd, sizeof rnd);
    LV_TRY(token_hash(out->token, rec.token_hash, err));
    snprintf(rec.kind, sizeof rec.kind, "%s", kind);
    snprintf(rec.principal, sizeof rec.principal, "%s", principal);
    snprintf(rec.ip, sizeof rec.ip, "%s", ip ? ip : "");
    rec.created_at = now;
    rec.expires_at = now + auth->cfg.session_ttl_seconds;
    out->expires_at = rec.expires_at;
    out->roles = roles;
    /* Expired rows are dropped here rather than by a timer: logins are the
     * only thing that adds rows. */
    LV_TRY(store_session_purge(st, now, err));
    return store_session_insert(st, &rec, err);
}

/* The account behind a session, read again on every request so that a
 * disabled or locked account stops at once. */
static int session_principal(lv_store *st, const lv_session_rec *s,
                             lv_principal *p, lv_err *err)
{
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", s->principal);
    p->expires_at = s->expires_at;
    if (strcmp(s->kind, KIND_OPERATOR) == 0) {
        lv_operator_rec op;
        int rc = store_operator_get(st, s->principal, &op, err);
        int usable = rc == 0 && op.enabled && !op.locked;
        p->kind = LV_PRINCIPAL_OPERATOR;
        p->roles = usable ? auth_roles_parse_list(op.roles) : 0;
        OPENSSL_cleanse(&op, sizeof op);
        snprintf(p->actor, sizeof p->actor, "operator:%s", s->principal);
        if (rc < 0 && rc != LV_ENOTFOUND)
            return rc;
        return usable ? 0 : LV_EAUTH;
    }
    lv_cred_rec c;
    int rc = store_cred_get(st, s->principal, &c, err);
    int usable = rc == 0 && !c.locked;
    OPENSSL_cleanse(&c, sizeof c);
    p->kind = LV_PRINCIPAL_CITIZEN;
    p->roles = LV_ROLE_CITIZEN;
    if (strcmp(s->kind, KIND_PORTAL) == 0)
        p->roles |= LV_ROLE_PORTAL;
    snprintf(p->actor, sizeof p->actor, "citizen:%s", s->principal);
    if (rc < 0 && rc != LV_ENOTFOUND)
        return rc;
    return usable ? 0 : LV_EAUTH;
}

/* An expired session is audited once and deleted in the same transaction,
 * so an old token replayed forever cannot fill the audit trail. */
static void session_expired(lv_store *st, const lv_session_rec *s)
{
    lv_err e = {0};
    char actor[96];
    snprintf(actor, sizeof actor, "%s:%s", s->kind, s->principal);
    if (store_begin(st, &e) < 0)
        return;
    json_t *d = auth_details("token expired", s->ip);
    int rc = store_session_delete(st, s->token_hash, &e);
    if (rc == 0)
        rc = audit_log(st, actor, "auth.session", s->principal,
                       LV_AUDIT_FAILURE, d, &e);
    json_decref(d);
    if (rc == 0)
        rc = store_commit(st, &e);
    else
        store_rollback(st);
    if (rc < 0 && rc != LV_ENOTFOUND)
        lv_log(LV_LOG_WARN, "auth: expired session: %s", e.msg);
}

static void role_denied(lv_store *st, const lv_principal *p, unsigned need)
{
    char want[256];
    auth_roles_format(need, want, sizeof want);
    json_t *d = json_pack("{s:s, s:o}", "required_any_of", want, "roles",
                          auth_roles_json(p->roles));
    lv_err e = {0};
    if (audit_log_standalone(st, p->actor, "auth.denied", p->id,
                             LV_AUDIT_FAILURE, d, &e) < 0)
        lv_log(LV_LOG_ERROR, "auth: cannot audit a denial: %s", e.msg);
    json_decref(d);
}

void auth_session_denied(lv_store *st, const lv_principal *who,
                         const char *object, const char *reason)
{
    json_t *d = json_pack("{s:s}", "reason", reason ? reason : "");
    lv_err e = {0};
    if (audit_log_standalone(st, who->actor, "auth.denied",
                             object ? object : "", LV_AUDIT_FAILURE, d, &e) < 0)
        lv_log(LV_LOG_ERROR, "auth: cannot audit a denial: %s", e.msg);
    json_decref(d);
}

int auth_session_check(lv_auth *auth, lv_store *st, const char *token,
                       unsigned required_roles, lv_principal *out, lv_err *err)
{
    char h[AUTH_HASH_HEX];
    lv_session_rec s;
    lv_principal p;
    (void)auth;
    if (!token_well_formed(token))
        return lv_fail(err, LV_EAUTH, "missing or malformed bearer token");
    LV_TRY(token_hash(token, h, err));
    int rc = store_session_get(st, h, &s, err);
    if (rc == LV_ENOTFOUND)
        return lv_fail(err, LV_EAUTH, "unknown or expired token; log in again");
    LV_TRY(rc);
    if (s.expires_at <= lv_now()) {
        session_expired(st, &s);
        return lv_fail(err, LV_EAUTH, "token expired; log in again");
    }
    rc = session_principal(st, &s, &p, err);
    if (rc == LV_EAUTH)
        return lv_fail(err, rc, "the account is disabled or locked");
    LV_TRY(rc);
    if (required_roles && !(p.roles & required_roles)) {
        char want[256];
        auth_roles_format(required_roles, want, sizeof want);
        role_denied(st, &p, required_roles);
        return lv_fail(err, LV_EPERM, "this needs one of the roles: %s", want);
    }
    if (out)
        *out = p;
    return 0;
}

int auth_session_end(lv_auth *auth, lv_store *st, const char *token,
                     lv_err *err)
{
    lv_principal p;
    char h[AUTH_HASH_HEX];
    LV_TRY(auth_session_check(auth, st, token, 0, &p, err));
    LV_TRY(token_hash(token, h, err));
    LV_TRY(store_begin(st, err));
    int rc = store_session_delete(st, h, err);
    if (rc == 0)
        rc = audit_log(st, p.actor, "auth.logout", p.id, LV_AUDIT_SUCCESS, NULL,
                       err);
    if (rc < 0) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st, err);
}
