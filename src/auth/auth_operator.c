/* Operator accounts (R1.4, R3.6, CPS §3.2.6, §5.2): creation with an
 * initial password and TOTP secret, login with both, enable / disable /
 * reset, and the two-person rule for disabling an administrator (CPS
 * §5.2.4).  Every change and every failed login on a real account is
 * audited (CPS §5.4.1); failures are throttled, never a lock (issue 11). */
#include "auth/auth_internal.h"

#include <stdio.h>
#include <string.h>

#define LOGIN_CHARS "abcdefghijklmnopqrstuvwxyz0123456789._-"

static int check_login(const char *login, lv_err *err)
{
    size_t n = login ? strlen(login) : 0;
    if (n < 3 || n > 64 || strspn(login, LOGIN_CHARS) != n)
        return lv_fail(err, LV_EINVAL,
                       "operator login must be 3 to 64 characters of a-z, "
                       "0-9, '.', '_' and '-'");
    return 0;
}

/* A fresh password and TOTP secret: what the operator is told (secret)
 * and what is stored (rec). */
static int make_secrets(lv_auth *auth, const char *login, lv_operator_rec *rec,
                        lv_operator_secret *secret, lv_err *err)
{
    unsigned char totp[AUTH_TOTP_SECRET_LEN];
    memset(secret, 0, sizeof *secret);
    int rc = lv_random(totp, sizeof totp) < 0
                 ? lv_fail(err, LV_ECRYPTO, "no randomness")
                 : 0;
    if (rc == 0)
        rc = auth_password_generate(auth, secret->password,
                                    sizeof secret->password, err);
    if (rc == 0)
        rc =
            auth_password_hash(auth, secret->password, rec->password_hash, err);
    if (rc == 0)
        rc = auth_seal(auth, totp, sizeof totp, login, rec->totp_sealed,
                       sizeof rec->totp_sealed, &rec->totp_sealed_len, err);
    if (rc == 0 &&
        (auth_base32(totp, sizeof totp, secret->totp_secret,
                     sizeof secret->totp_secret) < 0 ||
         auth_totp_uri(&auth->cfg, login, secret->totp_secret, secret->totp_uri,
                       sizeof secret->totp_uri) < 0))
        rc = lv_fail(err, LV_EINTERNAL, "TOTP URI does not fit");
    OPENSSL_cleanse(totp, sizeof totp);
    if (rc < 0)
        auth_operator_secret_wipe(secret);
    return rc;
}

/* Runs change(rec) and the audit entry in one transaction over the row as
 * it is now. */
typedef int (*op_change_fn)(lv_auth *auth, lv_store *st, lv_operator_rec *rec,
                            void *ctx, lv_err *err);

static int op_transaction(lv_auth *auth, lv_store *st, const char *login,
                          const char *actor, const char *event,
                          op_change_fn change, void *ctx, json_t *details,
                          lv_err *err)
{
    lv_operator_rec rec;
    LV_TRY(store_begin(st, err));
    int rc = store_operator_get(st, login, &rec, err);
    if (rc == 0)
        rc = change(auth, st, &rec, ctx, err);
    if (rc == 0)
        rc = store_operator_update(st, &rec, err);
    if (rc == 0)
        rc = audit_log(st, actor, event, login, LV_AUDIT_SUCCESS, details, err);
    OPENSSL_cleanse(&rec, sizeof rec);
    if (rc < 0) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st, err);
}

int auth_operator_add(lv_auth *auth, lv_store *st, const char *login,
                      unsigned roles, const char *actor,
                      lv_operator_secret *secret_out, lv_err *err)
{
    lv_operator_rec rec = {0};
    LV_TRY(check_login(login, err));
    if (roles == 0 || (roles & ~LV_ROLES_OPERATOR))
        return lv_fail(err, LV_EINVAL, "an operator needs at least one role");
    snprintf(rec.login, sizeof rec.login, "%s", login);
    auth_roles_format(roles, rec.roles, sizeof rec.roles);
    snprintf(rec.created_by, sizeof rec.created_by, "%s", actor);
    rec.enabled = 1;
    int rc = make_secrets(auth, login, &rec, secret_out, err);
    json_t *d = json_pack("{s:o}", "roles", auth_roles_json(roles));
    if (rc == 0)
        rc = store_begin(st, err);
    if (rc == 0) {
        rc = store_operator_insert(st, &rec, err);
        if (rc == 0)
            rc = audit_log(st, actor, "operator.add", login, LV_AUDIT_SUCCESS,
                           d, err);
        rc = rc == 0 ? store_commit(st, err) : (store_rollback(st), rc);
    }
    json_decref(d);
    OPENSSL_cleanse(&rec, sizeof rec);
    if (rc < 0)
        auth_operator_secret_wipe(secret_out);
    return rc;
}

/* ---- login ------------------------------------------------------------------
 */

typedef struct login_try {
    int password_ok;
    int64_t step; /* matching TOTP step, 0 for none */
    const char *reason;
    int outcome; /* 0 or LV_EAUTH */
} login_try;

/* Judges the attempt against the row read inside the transaction and
 * updates the counters.  Inside the transaction, the replay check cannot
 * race another login using the same code. */
static void login_judge(const lv_auth *auth, lv_operator_rec *op, login_try *t)
{
    t->outcome = LV_EAUTH;
    if (!op->enabled)
        t->reason = "account disabled";
    else if (op->locked)
        t->reason = "account locked";
    else if (!t->password_ok)
        t->reason = "wrong password";
    else if (t->step == 0)
        t->reason = "wrong TOTP code";
    else if (t->step <= op->totp_last_step)
        t->reason = "replayed TOTP code"; /* RFC 6238 §5.2 */
    else
        t->outcome = 0;
    if (t->outcome == 0) {
        op->failed_attempts = 0;
        op->totp_last_step = t->step;
    } else if (op->failed_attempts < INT32_MAX) {
        /* Issue 11: counted for the officers' view, never a lock.  A lock
         * after a few failures let anyone shut every administrator out;
         * the throttle (auth_throttle.c) slows the attacker instead. */
        op->failed_attempts++;
    }
    (void)auth;
}

static int login_commit(lv_auth *auth, lv_store *st, const char *login,
                        login_try *t, const char *ip, lv_session_token *out,
                        lv_err *err)
{
    lv_operator_rec op;
    LV_TRY(store_begin(st, err));
    int rc = store_operator_get(st, login, &op, err);
    if (rc == 0) {
        login_judge(auth, &op, t);
        rc = store_operator_update(st, &op, err);
    }
    if (rc == 0 && t->outcome == 0)
        rc = auth_session_create(auth, st, "operator", login,
                                 auth_roles_parse_list(op.roles), ip, out, err);
    json_t *d = auth_details(t->outcome ? t->reason : NULL, ip);
    char actor[96];
    snprintf(actor, sizeof actor, "operator:%s", login);
    if (rc == 0)
        rc =
            audit_log(st, actor, "operator.login", login,
                      t->outcome ? LV_AUDIT_FAILURE : LV_AUDIT_SUCCESS, d, err);
    json_decref(d);
    OPENSSL_cleanse(&op, sizeof op);
    if (rc == 0)
        return store_commit(st, err);
    store_rollback(st);
    auth_token_wipe(out);
    return rc;
}

/* The slow checks (Argon2id, TOTP) run before the transaction so that the
 * write lock is held only for the bookkeeping. */
static int login_verify(lv_auth *auth, const lv_operator_rec *op,
                        const char *password, const char *code, login_try *t,
                        lv_err *err)
{
    unsigned char totp[AUTH_TOTP_SECRET_LEN + 16];
    size_t n = 0;
    int m = auth_password_matches(auth, op->password_hash, password);
    if (m < 0)
        return lv_fail(err, m, "password verification failed");
    t->password_ok = m;
    LV_TRY(auth_unseal(auth, op->totp_sealed, op->totp_sealed_len, op->login,
                       totp, sizeof totp, &n, err));
    t->step = auth_totp_match(totp, n, lv_now(), code);
    OPENSSL_cleanse(totp, sizeof totp);
    return 0;
}

int auth_operator_login(lv_auth *auth, lv_store *st, const char *login,
                        const char *password, const char *totp_code,
                        const char *ip, lv_session_token *out, lv_err *err)
{
    lv_operator_rec op;
    login_try t = {0};
    memset(out, 0, sizeof *out);
    if (check_login(login, NULL) < 0 || !password || !totp_code ||
        strlen(password) > LV_AUTH_PASSWORD_MAX)
        return lv_fail(err, LV_EINVAL, "login, password and totp are required");
    /* Issue 11: before the lookup and before any Argon2id. */
    LV_TRY(auth_gate(auth, AUTH_NS_OPERATOR, login, ip, err));
    int rc = store_operator_get(st, login, &op, err);
    if (rc == LV_ENOTFOUND) {
        auth_password_matches(auth, NULL, password); /* same cost */
        auth_anon_failure(auth, "operator.login", login, ip);
    } else if (rc == 0) {
        rc = login_verify(auth, &op, password, totp_code, &t, err);
        if (rc == 0)
            rc = login_commit(auth, st, login, &t, ip, out, err);
    }
    OPENSSL_cleanse(&op, sizeof op);
    if (rc < 0 && rc != LV_ENOTFOUND)
        return rc;
    if (rc == LV_ENOTFOUND || t.outcome)
        auth_gate_fail(auth, AUTH_NS_OPERATOR, login, ip);
    else
        auth_gate_pass(auth, AUTH_NS_OPERATOR, login, ip);
    if (rc == LV_ENOTFOUND || t.outcome)
        return lv_fail(err, LV_EAUTH,
                       "login failed: wrong login, password or TOTP code, or "
                       "the account is disabled or locked");
    return 0;
}

/* ---- enable / disable / reset
 * ------------------------------------------------ */

static int end_sessions(lv_store *st, const char *login, lv_err *err)
{
    return store_session_delete_principal(st, "operator", login, NULL, err);
}

static int change_enabled(lv_auth *auth, lv_store *st, lv_operator_rec *rec,
                          void *ctx, lv_err *err)
{
    (void)auth;
    rec->enabled = *(int *)ctx;
    if (rec->enabled) {
        rec->locked = 0;
        rec->failed_attempts = 0;
        return 0;
    }
    return end_sessions(st, rec->login, err);
}

int auth_operator_set_enabled(lv_auth *auth, lv_store *st, const char *login,
                              int enabled, const char *actor, lv_err *err)
{
    LV_TRY(check_login(login, err));
    return op_transaction(auth, st, login, actor,
                          enabled ? "operator.enable" : "operator.disable",
                          change_enabled, &enabled, NULL, err);
}

/* ---- disabling over the API (CPS §5.2.4, issue 11) ------------------------
 */

#define ADMIN_ROLES (LV_ROLE_SECURITY_OFFICER | LV_ROLE_SYSADMIN)
#define APPROVAL_DISABLE "disable"

static int op_active(const lv_operator_rec *r)
{
    return r->enabled && !r->locked;
}

typedef struct holders {
    const char *except;
    unsigned role;
    int n;
} holders;

static int count_holder(const lv_operator_rec *r, void *ctx)
{
    holders *h = ctx;
    if (strcmp(r->login, h->except) != 0 && op_active(r) &&
        (auth_roles_parse_list(r->roles) & h->role))
        h->n++;
    return 0;
}

/* Someone must always be left who can manage operators (security officer)
 * and the system (sysadmin): one administrator could otherwise shut every
 * other one out, itself last. */
static int last_admin_check(lv_store *st, const lv_operator_rec *target,
                            lv_err *err)
{
    static const unsigned R[] = {LV_ROLE_SECURITY_OFFICER, LV_ROLE_SYSADMIN};
    unsigned roles = auth_roles_parse_list(target->roles);
    for (size_t i = 0; op_active(target) && i < 2; i++) {
        holders h = {target->login, R[i], 0};
        if (!(roles & R[i]))
            continue;
        LV_TRY(store_operator_foreach(st, count_holder, &h, err));
        if (h.n == 0)
            return lv_fail(err, LV_ESTATE,
                           "%s is the last active %s and cannot be disabled: "
                           "enable or add another one first",
                           target->login, auth_role_name(R[i]));
    }
    return 0;
}

static int disable_now(lv_store *st, lv_operator_rec *rec, const char *actor,
                       json_t *details, lv_err *err)
{
    rec->enabled = 0;
    LV_TRY(store_operator_update(st, rec, err));
    LV_TRY(end_sessions(st, rec->login, err));
    return audit_log(st, actor, "operator.disable", rec->login,
                     LV_AUDIT_SUCCESS, details, err);
}

/* The first request for an administrator waits for a second one. */
static int disable_request(lv_store *st, const lv_operator_rec *rec,
                           const lv_principal *by, lv_err *err)
{
    lv_approval_rec ap = {0};
    snprintf(ap.action, sizeof ap.action, APPROVAL_DISABLE);
    snprintf(ap.target, sizeof ap.target, "%s", rec->login);
    snprintf(ap.requested_by, sizeof ap.requested_by, "%s", by->id);
    ap.requested_at = lv_now();
    LV_TRY(store_approval_put(st, &ap, err));
    json_t *d = json_pack("{s:s, s:i}", "requested_by", by->id, "expires_in",
                          AUTH_APPROVAL_TTL);
    int rc = audit_log(st, by->actor, "operator.disable_request", rec->login,
                       LV_AUDIT_SUCCESS, d, err);
    json_decref(d);
    return rc;
}

static int disable_decide(lv_store *st, lv_operator_rec *rec,
                          const lv_principal *by, int *pending, lv_err *err)
{
    lv_approval_rec ap;
    if (!rec->enabled)
        return 0; /* nothing to do, nothing to approve */
    LV_TRY(last_admin_check(st, rec, err));
    if (!(auth_roles_parse_list(rec->roles) & ADMIN_ROLES))
        return disable_now(st, rec, by->actor, NULL, err);
    int rc = store_approval_get(st, APPROVAL_DISABLE, rec->login, &ap, err);
    if (rc < 0 && rc != LV_ENOTFOUND)
        return rc;
    int live = rc == 0 && lv_now() - ap.requested_at < AUTH_APPROVAL_TTL;
    if (live && strcmp(ap.requested_by, by->id) != 0) {
        /* CPS §5.2.4: two administrators, both named in the entry */
        json_t *d = json_pack("{s:s, s:s}", "requested_by", ap.requested_by,
                              "approved_by", by->id);
        rc = store_approval_delete(st, APPROVAL_DISABLE, rec->login, err);
        if (rc == 0)
            rc = disable_now(st, rec, by->actor, d, err);
        json_decref(d);
        return rc;
    }
    *pending = 1;
    return live ? 0 : disable_request(st, rec, by, err);
}

int auth_operator_disable(lv_auth *auth, lv_store *st, const char *login,
                          const lv_principal *by, int *pending, lv_err *err)
{
    lv_operator_rec rec;
    (void)auth;
    *pending = 0;
    LV_TRY(check_login(login, err));
    if (!by || by->kind != LV_PRINCIPAL_OPERATOR || !(by->roles & ADMIN_ROLES))
        return lv_fail(err, LV_EPERM,
                       "only a security officer or a system administrator "
                       "disables operators");
    LV_TRY(store_begin(st, err));
    int rc = store_operator_get(st, login, &rec, err);
    if (rc == 0)
        rc = disable_decide(st, &rec, by, pending, err);
    OPENSSL_cleanse(&rec, sizeof rec);
    if (rc == 0)
        return store_commit(st, err);
    store_rollback(st);
    if (rc == LV_ESTATE)
        auth_audit_refusal(st, by->actor, "operator.disable", login,
                           err ? err->msg : "last administrator", NULL);
    return rc;
}

static int change_reset(lv_auth *auth, lv_store *st, lv_operator_rec *rec,
                        void *ctx, lv_err *err)
{
    const lv_operator_rec *fresh = ctx;
    (void)auth;
    memcpy(rec->password_hash, fresh->password_hash, sizeof rec->password_hash);
    memcpy(rec->totp_sealed, fresh->totp_sealed, sizeof rec->totp_sealed);
    rec->totp_sealed_len = fresh->totp_sealed_len;
    rec->totp_last_step = 0;
    rec->locked = 0;
    rec->failed_attempts = 0;
    return end_sessions(st, rec->login, err);
}

int auth_operator_reset(lv_auth *auth, lv_store *st, const char *login,
                        const char *actor, lv_operator_secret *secret_out,
                        lv_err *err)
{
    lv_operator_rec fresh = {0};
    LV_TRY(check_login(login, err));
    LV_TRY(auth_operator_get(st, login, NULL, err));
    int rc = make_secrets(auth, login, &fresh, secret_out, err);
    if (rc == 0)
        rc = op_transaction(auth, st, login, actor, "operator.reset",
                            change_reset, &fresh, NULL, err);
    OPENSSL_cleanse(&fresh, sizeof fresh);
    if (rc < 0)
        auth_operator_secret_wipe(secret_out);
    return rc;
}

/* ---- reading
 * ------------------------------------------------------------------ */

static void op_info(const lv_operator_rec *r, lv_operator_info *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->login, sizeof out->login, "%s", r->login);
    out->roles = auth_roles_parse_list(r->roles);
    out->enabled = r->enabled;
    out->locked = r->locked;
    out->created_at = r->created_at;
    snprintf(out->created_by, sizeof out->created_by, "%s", r->created_by);
}

int auth_operator_get(lv_store *st, const char *login, lv_operator_info *out,
                      lv_err *err)
{
    lv_operator_rec r;
    LV_TRY(check_login(login, err));
    LV_TRY(store_operator_get(st, login, &r, err));
    if (out)
        op_info(&r, out);
    OPENSSL_cleanse(&r, sizeof r);
    return 0;
}

typedef struct op_each {
    int (*fn)(const lv_operator_info *, void *);
    void *ctx;
} op_each;

static int op_each_fn(const lv_operator_rec *r, void *ctx)
{
    op_each *e = ctx;
    lv_operator_info info;
    op_info(r, &info);
    return e->fn(&info, e->ctx);
}

int auth_operator_foreach(lv_store *st,
                          int (*fn)(const lv_operator_info *, void *),
                          void *ctx, lv_err *err)
{
    op_each e = {fn, ctx};
    return store_operator_foreach(st, op_each_fn, &e, err);
}
