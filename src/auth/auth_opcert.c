/* Operators' client certificates (issue 17 item 4, CPS §5.2.3): a
 * certificate our CA issued to an operator, bound to the account, opens a
 * session over llaved's https as password + TOTP does.  Whether the
 * certificate is ours, current and not revoked is ca/'s judgement
 * (ca_client_cert_check), made by the caller, which hands the outcome in
 * as `refusal`.  A binding is audited; so is every login on a bound
 * certificate, refused or not; a certificate bound to nobody counts only
 * in the anonymous aggregate, as an unknown login does (issue 11). */
#include "auth/auth_internal.h"

#include <stdio.h>
#include <string.h>

static int cert_fields_ok(const lv_operator_cert *c)
{
    return strlen(c->fingerprint) == 64 &&
           strspn(c->fingerprint, "0123456789abcdef") == 64 && c->serial[0];
}

static json_t *cert_details(const lv_operator_cert *c, const char *reason,
                            const char *ip)
{
    json_t *d = auth_details(reason, ip);
    if (d)
        json_object_update_new(d, json_pack("{s:s, s:s, s:s, s:s}", "method",
                                            "certificate", "fingerprint",
                                            c->fingerprint, "serial", c->serial,
                                            "subject", c->subject));
    return d;
}

int auth_operator_cert_bind(lv_auth *auth, lv_store *st, const char *login,
                            const lv_operator_cert *c, const char *actor,
                            lv_err *err)
{
    (void)auth;
    if (!cert_fields_ok(c))
        return lv_fail(err, LV_EINVAL, "bad certificate fingerprint");
    lv_operator_rec op;
    lv_opcert_rec rec = {0};
    snprintf(rec.fingerprint, sizeof rec.fingerprint, "%s", c->fingerprint);
    snprintf(rec.login, sizeof rec.login, "%s", login);
    snprintf(rec.serial, sizeof rec.serial, "%s", c->serial);
    snprintf(rec.subject, sizeof rec.subject, "%s", c->subject);
    snprintf(rec.bound_by, sizeof rec.bound_by, "%s", actor);
    rec.not_after = c->not_after;
    json_t *d = cert_details(c, NULL, NULL);
    LV_TRY(store_begin(st, err));
    int rc = store_operator_get(st, login, &op, err);
    OPENSSL_cleanse(&op, sizeof op);
    if (rc == 0)
        rc = store_opcert_insert(st, &rec, err);
    if (rc == 0)
        rc = audit_log(st, actor, "operator.cert_bind", login, LV_AUDIT_SUCCESS,
                       d, err);
    json_decref(d);
    return store_end(st, rc, err);
}

int auth_operator_cert_unbind(lv_auth *auth, lv_store *st, const char *login,
                              const char *actor, int *count, lv_err *err)
{
    (void)auth;
    lv_operator_rec op;
    *count = 0;
    LV_TRY(store_begin(st, err));
    int rc = store_operator_get(st, login, &op, err);
    OPENSSL_cleanse(&op, sizeof op);
    if (rc == 0)
        rc = store_opcert_delete_login(st, login, count, err);
    json_t *d = json_pack("{s:i}", "certificates", *count);
    if (rc == 0)
        rc = audit_log(st, actor, "operator.cert_unbind", login,
                       LV_AUDIT_SUCCESS, d, err);
    json_decref(d);
    return store_end(st, rc, err);
}

/* The session, or the refusal, with its audit entry, in one transaction
 * over the account as it is now. */
static int cert_login_commit(lv_auth *auth, lv_store *st, const char *login,
                             const lv_operator_cert *c, const char *refusal,
                             const char *ip, lv_session_token *out,
                             const char **reason, lv_err *err)
{
    lv_operator_rec op;
    LV_TRY(store_begin(st, err));
    int rc = store_operator_get(st, login, &op, err);
    *reason = refusal;
    if (rc == 0 && !*reason && !op.enabled)
        *reason = "account disabled";
    else if (rc == 0 && !*reason && op.locked)
        *reason = "account locked";
    if (rc == 0 && !*reason)
        rc = auth_session_create(auth, st, "operator", login,
                                 auth_roles_parse_list(op.roles), ip, out, err);
    OPENSSL_cleanse(&op, sizeof op);
    char actor[96];
    snprintf(actor, sizeof actor, "operator:%s", login);
    json_t *d = cert_details(c, *reason, ip);
    if (rc == 0)
        rc = audit_log(st, actor, "operator.login", login,
                       *reason ? LV_AUDIT_FAILURE : LV_AUDIT_SUCCESS, d, err);
    json_decref(d);
    if (rc == 0)
        return store_commit(st, err);
    store_rollback(st);
    auth_token_wipe(out);
    return rc;
}

int auth_operator_login_cert(lv_auth *auth, lv_store *st,
                             const lv_operator_cert *c, const char *refusal,
                             const char *ip, lv_session_token *out, lv_err *err)
{
    memset(out, 0, sizeof *out);
    if (!cert_fields_ok(c))
        return lv_fail(err, LV_EINVAL, "no usable client certificate");
    LV_TRY(auth_gate(auth, AUTH_NS_OPERATOR, c->fingerprint, ip, err));
    lv_opcert_rec rec;
    int rc = store_opcert_get(st, c->fingerprint, &rec, err);
    const char *reason = "certificate bound to no operator";
    if (rc == LV_ENOTFOUND)
        auth_anon_failure(auth, "operator.login", c->fingerprint, ip);
    else if (rc == 0)
        rc = cert_login_commit(auth, st, rec.login, c, refusal, ip, out,
                               &reason, err);
    if (rc < 0 && rc != LV_ENOTFOUND)
        return rc;
    if (rc == LV_ENOTFOUND || reason) {
        auth_gate_fail(auth, AUTH_NS_OPERATOR, c->fingerprint, ip);
        auth_token_wipe(out);
        return lv_fail(err, LV_EAUTH,
                       "login failed: the client certificate is not one of "
                       "ours, not current, revoked, or bound to no enabled "
                       "operator");
    }
    auth_gate_pass(auth, AUTH_NS_OPERATOR, c->fingerprint, ip);
    return 0;
}
