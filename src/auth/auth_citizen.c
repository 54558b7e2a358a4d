/* Citizens' "Cl@ve permanente" credentials (R3.1-R3.5): activation code,
 * password with history and expiry, login, lock and officer unlock.
 *
 * Issue 11: every path is throttled per (id as typed, source) before any
 * lookup or Argon2id; every failure answers alike, so that the answers do
 * not tell which document numbers are registered; a citizen is locked only
 * by an officer or by lockout_failures_24h wrong passwords in 24 hours. */
#include "auth/auth_internal.h"
#include "notify/notify.h"

#include <stdio.h>
#include <string.h>

#define ACTIVATION_DIGITS 8
#define DAY 86400

static void citizen_actor(const char *citizen_id, char out[96])
{
    snprintf(out, 96, "citizen:%s", citizen_id);
}

static int check_ids(const char *citizen_id, const char *user_id, lv_err *err)
{
    if (citizen_id)
        LV_TRY(auth_check_id(citizen_id, LV_AUTH_ID_MAX, "citizen id", err));
    if (user_id)
        LV_TRY(auth_check_id(user_id, LV_AUTH_ID_MAX, "user id", err));
    return 0;
}

static int activation_mac(const lv_auth *auth, const char *citizen_id,
                          const char *code, char out[AUTH_HASH_HEX],
                          lv_err *err)
{
    const void *parts[] = {"activation", citizen_id, code};
    size_t lens[] = {10, strlen(citizen_id), strlen(code)};
    return auth_mac_parts(auth, parts, lens, 3, out, err);
}

/* ---- activation (R3.1)
 * --------------------------------------------------------- */

/* A user id belongs to one citizen. */
static int user_id_free(lv_store *st, const char *user_id,
                        const char *citizen_id, lv_err *err)
{
    lv_cred_rec other;
    int rc = store_cred_get_by_user(st, user_id, &other, err);
    int taken = rc == 0 && strcmp(other.citizen_id, citizen_id) != 0;
    OPENSSL_cleanse(&other, sizeof other);
    if (rc < 0 && rc != LV_ENOTFOUND)
        return rc;
    return taken ? lv_fail(err, LV_EEXISTS, "user id %s is taken", user_id) : 0;
}

/* Issue 11: activation_codes_per_day per citizen, counted in the row so
 * that every node agrees; the window opens with its first code. */
static void codes_count(lv_cred_rec *c, int64_t now)
{
    if (c->codes_since == 0 || now - c->codes_since >= DAY) {
        c->codes_since = now;
        c->codes_sent = 0;
    }
    c->codes_sent++;
}

static int codes_left(const lv_auth *auth, lv_store *st, const char *citizen_id,
                      lv_err *err)
{
    lv_cred_rec c;
    lv_err e = {0};
    int64_t now = lv_now();
    int rc = store_cred_get(st, citizen_id, &c, &e);
    int full = rc == 0 && c.codes_since && now - c.codes_since < DAY &&
               c.codes_sent >= auth->cfg.activation_codes_per_day;
    int64_t wait = rc == 0 ? c.codes_since + DAY - now : 0;
    OPENSSL_cleanse(&c, sizeof c);
    if (rc < 0 && rc != LV_ENOTFOUND) /* a first code: no row yet */
        return lv_fail(err, rc, "%s", e.msg);
    if (full)
        return lv_fail_retry(err, LV_ELIMIT, (int)wait,
                             "%d activation codes were sent to this citizen "
                             "within 24 hours: the next one in %d minutes",
                             auth->cfg.activation_codes_per_day,
                             (int)((wait + 59) / 60));
    return 0;
}

static int activation_store(lv_auth *auth, lv_store *st, const lv_cred_rec *in,
                            const char *actor, json_t *details, lv_err *err)
{
    lv_cred_rec c;
    LV_TRY(store_begin(st, err));
    int rc = store_cred_get(st, in->citizen_id, &c, err);
    if (rc == LV_ENOTFOUND) {
        c = *in;
        codes_count(&c, lv_now());
        rc = store_cred_insert(st, &c, err);
    } else if (rc == 0) {
        memcpy(c.user_id, in->user_id, sizeof c.user_id);
        memcpy(c.mobile, in->mobile, sizeof c.mobile);
        memcpy(c.activation_hash, in->activation_hash,
               sizeof c.activation_hash);
        c.activation_expires_at = in->activation_expires_at;
        c.activation_attempts = 0;
        codes_count(&c, lv_now());
        rc = store_cred_update(st, &c, err);
    }
    if (rc == 0)
        rc = audit_log(st, actor, "citizen.activation_start", in->citizen_id,
                       LV_AUDIT_SUCCESS, details, err);
    OPENSSL_cleanse(&c, sizeof c);
    (void)auth;
    return store_end(st, rc, err);
}

static int activation_send(lv_auth *auth, const lv_cred_rec *c,
                           const char *code, char msg_id[LV_NOTIFY_ID_MAX],
                           lv_err *err)
{
    char text[256], hours[16];
    /* R3.7: a one-time code, never a password; the catalogue's words
     * (issue 15 item 1), in Spanish: an operator sends it */
    snprintf(hours, sizeof hours, "%d", auth->cfg.activation_ttl_hours);
    int rc = lv_text_fill(text, sizeof text, NULL, "sms.activation", "provider",
                          auth->cfg.org_name, "code", code, "hours", hours,
                          LV_TEXT_END) < 0
                 ? lv_fail(err, LV_EINTERNAL, "activation message too long")
                 : notify_sms(&auth->cfg, c->mobile, text, msg_id, err);
    OPENSSL_cleanse(text, sizeof text);
    return rc;
}

static int activation_args(const char *citizen_id, const char *user_id,
                           const char *mobile, lv_activation_channel channel,
                           const char *actor, const char *code_out, lv_err *err)
{
    LV_TRY(check_ids(citizen_id, user_id, err));
    LV_TRY(notify_check_mobile(mobile, err));
    if (!actor || !actor[0])
        return lv_fail(err, LV_EINVAL, "activation needs an actor");
    if (channel != LV_ACTIVATION_SMS && channel != LV_ACTIVATION_LETTER)
        return lv_fail(err, LV_EINVAL, "unknown activation channel");
    if (channel == LV_ACTIVATION_LETTER && !code_out)
        return lv_fail(err, LV_EINVAL, "a letter needs the code returned");
    return 0;
}

int auth_citizen_activation_start(lv_auth *auth, lv_store *st,
                                  const char *citizen_id, const char *user_id,
                                  const char *mobile,
                                  lv_activation_channel channel,
                                  const char *actor,
                                  char code_out[LV_AUTH_CODE_MAX], lv_err *err)
{
    char code[ACTIVATION_DIGITS + 1], msg_id[LV_NOTIFY_ID_MAX] = "";
    lv_cred_rec c = {0};
    LV_TRY(activation_args(citizen_id, user_id, mobile, channel, actor,
                           code_out, err));
    LV_TRY(user_id_free(st, user_id, citizen_id, err));
    LV_TRY(codes_left(auth, st, citizen_id, err));
    snprintf(c.citizen_id, sizeof c.citizen_id, "%s", citizen_id);
    snprintf(c.user_id, sizeof c.user_id, "%s", user_id);
    snprintf(c.mobile, sizeof c.mobile, "%s", mobile);
    c.activation_expires_at =
        lv_now() + (int64_t)auth->cfg.activation_ttl_hours * 3600;
    int rc = auth_random_digits(code, ACTIVATION_DIGITS, err);
    if (rc == 0)
        rc = activation_mac(auth, citizen_id, code, c.activation_hash, err);
    /* Sent before the transaction (no network call under the write lock);
     * if storing then fails, the code sent is simply never valid. */
    if (rc == 0 && channel == LV_ACTIVATION_SMS)
        rc = activation_send(auth, &c, code, msg_id, err);
    if (rc < 0 && channel == LV_ACTIVATION_SMS)
        auth_audit_refusal(st, actor, "citizen.activation_start", citizen_id,
                           err ? err->msg : "SMS not sent", NULL);
    json_t *d = json_pack("{s:s, s:s, s:s}", "user_id", user_id, "channel",
                          channel == LV_ACTIVATION_SMS ? "sms" : "letter",
                          "message_id", msg_id);
    if (rc == 0)
        rc = activation_store(auth, st, &c, actor, d, err);
    json_decref(d);
    if (rc == 0 && channel == LV_ACTIVATION_LETTER)
        snprintf(code_out, LV_AUTH_CODE_MAX, "%s", code);
    OPENSSL_cleanse(code, sizeof code);
    OPENSSL_cleanse(&c, sizeof c);
    return rc;
}

/* ---- password history (R3.2) ------------------------------------------------
 */

typedef struct hist_ctx {
    const lv_auth *auth;
    const char *password;
    int found;
} hist_ctx;

static int hist_fn(const char *hash, void *p)
{
    hist_ctx *h = p;
    if (!h->found)
        h->found = auth_password_matches(h->auth, hash, h->password) == 1;
    return 0;
}

/* LV_EINVAL when the password is one of the last password_history ones
 * (the current one included). */
static int history_check(lv_auth *auth, lv_store *st, const char *citizen_id,
                         const char *password, lv_err *err)
{
    hist_ctx h = {auth, password, 0};
    if (auth->cfg.password_history == 0)
        return 0;
    LV_TRY(store_pwhist_foreach(st, citizen_id, auth->cfg.password_history,
                                hist_fn, &h, err));
    return h.found ? lv_fail(err, LV_EINVAL,
                             "password was used recently: choose one not "
                             "among your last %d",
                             auth->cfg.password_history)
                   : 0;
}

/* Inside the caller's transaction. */
static int set_password(lv_auth *auth, lv_store *st, lv_cred_rec *c,
                        const char *hash, lv_err *err)
{
    int64_t now = lv_now();
    snprintf(c->password_hash, sizeof c->password_hash, "%s", hash);
    c->password_set_at = now;
    c->password_expires_at =
        now + (int64_t)auth->cfg.password_expiry_days * DAY;
    c->failed_attempts = 0;
    c->failures_since = 0;
    c->locked = 0;
    return store_pwhist_add(st, c->citizen_id, hash, now, err);
}

/* ---- activation by the citizen
 * ------------------------------------------------- */

/* Checks the code against the row read in the transaction; a wrong code
 * uses up an attempt, the last one kills it. */
static const char *activation_judge(const lv_auth *auth, lv_cred_rec *c,
                                    const char *mac)
{
    if (!c->activation_hash[0])
        return "no activation code pending";
    if (c->activation_expires_at <= lv_now())
        return "activation code expired";
    if (auth_hex_equal(c->activation_hash, mac))
        return NULL;
    /* Bounds the guesses at one code (10 of 10^8 by default) without
     * letting a few wrong tries by a stranger kill it (issue 11). */
    if (++c->activation_attempts >= auth->cfg.activation_max_attempts)
        c->activation_hash[0] = '\0';
    return "wrong activation code";
}

static int activate_commit(lv_auth *auth, lv_store *st, const char *citizen_id,
                           const char *mac, const char *hash, const char *ip,
                           const char **reason, lv_err *err)
{
    lv_cred_rec c;
    char actor[96];
    citizen_actor(citizen_id, actor);
    LV_TRY(store_begin(st, err));
    int rc = store_cred_get(st, citizen_id, &c, err);
    if (rc == 0)
        *reason = activation_judge(auth, &c, mac);
    if (rc == 0 && !*reason) {
        c.activation_hash[0] = '\0';
        c.activation_attempts = 0;
        rc = set_password(auth, st, &c, hash, err);
    }
    if (rc == 0)
        rc = store_cred_update(st, &c, err);
    json_t *d = auth_details(*reason, ip);
    if (rc == 0)
        rc = audit_log(st, actor, "citizen.activate", citizen_id,
                       *reason ? LV_AUDIT_FAILURE : LV_AUDIT_SUCCESS, d, err);
    json_decref(d);
    OPENSSL_cleanse(&c, sizeof c);
    return store_end(st, rc, err);
}

static int activate_args(const lv_auth *auth, const char *user_id,
                         const char *code, const char *password, lv_err *err)
{
    LV_TRY(check_ids(NULL, user_id, err));
    if (!code || strlen(code) != ACTIVATION_DIGITS ||
        strspn(code, "0123456789") != ACTIVATION_DIGITS)
        return lv_fail(err, LV_EINVAL, "activation code must be %d digits",
                       ACTIVATION_DIGITS);
    return auth_password_check(auth, password, user_id, err);
}

/* An unknown user id costs what a known one does (one Argon2id) and is
 * counted, not audited row by row (issue 11 items 4 and 5). */
static void activate_unknown(lv_auth *auth, const char *user_id,
                             const char *password, const char *ip)
{
    auth_password_matches(auth, NULL, password);
    auth_anon_failure(auth, "citizen.activate", user_id, ip);
}

static int activate_known(lv_auth *auth, lv_store *st, const lv_cred_rec *c,
                          const char *code, const char *password,
                          const char *ip, const char **reason, lv_err *err)
{
    char mac[AUTH_HASH_HEX], hash[AUTH_PWHASH_MAX] = "";
    int rc = activation_mac(auth, c->citizen_id, code, mac, err);
    /* History is consulted only once the code is known to be right, so it
     * is no oracle for someone without the code. */
    if (rc == 0 && c->activation_hash[0] &&
        auth_hex_equal(mac, c->activation_hash))
        rc = history_check(auth, st, c->citizen_id, password, err);
    if (rc == 0)
        rc = auth_password_hash(auth, password, hash, err);
    if (rc == 0)
        rc = activate_commit(auth, st, c->citizen_id, mac, hash, ip, reason,
                             err);
    OPENSSL_cleanse(hash, sizeof hash);
    return rc;
}

int auth_citizen_activate(lv_auth *auth, lv_store *st, const char *user_id,
                          const char *code, const char *new_password,
                          const char *ip, char *citizen_id_out, lv_err *err)
{
    lv_cred_rec c;
    const char *reason = NULL;
    LV_TRY(activate_args(auth, user_id, code, new_password, err));
    LV_TRY(auth_gate(auth, AUTH_NS_ACTIVATION, user_id, ip, err));
    int rc = store_cred_get_by_user(st, user_id, &c, err);
    if (rc == LV_ENOTFOUND)
        activate_unknown(auth, user_id, new_password, ip);
    else if (rc == 0)
        rc = activate_known(auth, st, &c, code, new_password, ip, &reason, err);
    if (rc == 0 && !reason && citizen_id_out)
        snprintf(citizen_id_out, LV_AUTH_ID_MAX, "%s", c.citizen_id);
    OPENSSL_cleanse(&c, sizeof c);
    if (rc == LV_ENOTFOUND || (rc == 0 && reason)) {
        auth_gate_fail(auth, AUTH_NS_ACTIVATION, user_id, ip);
        return lv_fail(err, LV_EAUTH,
                       "activation failed: wrong user id or activation code, "
                       "or the code expired (ask for a new one)");
    }
    if (rc == 0)
        auth_gate_pass(auth, AUTH_NS_ACTIVATION, user_id, ip);
    return rc;
}

/* ---- password verification, login, lock (R3.5)
 * ------------------------------ */

typedef struct pw_op {
    const char *event;
    const char *ns; /* throttle namespace of the id given */
    const char *ip;
    int check_expiry;          /* login: an expired password opens no session */
    lv_session_token *session; /* login: filled on success */
    const char *reason;
    int outcome;
    int proved; /* the password matched: the holder may learn the state */
} pw_op;

/* R3.5 as rebuilt by issue 11: failures are counted in a 24-hour window
 * that opens with its first failure; lockout_failures_24h of them lock.
 * A success does not reset the window, or each login of the holder would
 * give a slow, distributed guesser a fresh allowance. */
static void pw_count_failure(const lv_auth *auth, lv_cred_rec *c)
{
    int64_t now = lv_now();
    if (c->failures_since == 0 || now - c->failures_since >= DAY) {
        c->failures_since = now;
        c->failed_attempts = 0;
    }
    c->failed_attempts++;
    c->locked = c->failed_attempts >= auth->cfg.lockout_failures_24h;
}

/* Judges against the row read in the transaction.  A password hash that
 * changed since it was verified counts as a mismatch.  The reason is for
 * the audit trail; the caller is told only what pw_result tells. */
static void pw_judge(const lv_auth *auth, lv_cred_rec *c, const char *seen,
                     int matched, pw_op *op)
{
    op->outcome = LV_EAUTH;
    op->reason = NULL;
    op->proved =
        matched && c->password_hash[0] && strcmp(c->password_hash, seen) == 0;
    if (!c->password_hash[0]) {
        op->reason = "account not activated";
    } else if (!op->proved) {
        op->reason =
            c->locked ? "wrong password (account locked)" : "wrong password";
        if (!c->locked)
            pw_count_failure(auth, c);
    } else if (c->locked) {
        op->outcome = LV_EPERM;
        op->reason = "account locked";
    } else if (op->check_expiry && c->password_expires_at <= lv_now()) {
        op->reason = "password expired";
    } else {
        op->outcome = 0;
    }
}

static int pw_commit(lv_auth *auth, lv_store *st, const lv_cred_rec *pre,
                     int matched, pw_op *op, lv_err *err)
{
    lv_cred_rec c;
    char actor[96];
    citizen_actor(pre->citizen_id, actor);
    LV_TRY(store_begin(st, err));
    int rc = store_cred_get(st, pre->citizen_id, &c, err);
    if (rc == 0) {
        pw_judge(auth, &c, pre->password_hash, matched, op);
        rc = store_cred_update(st, &c, err);
    }
    if (rc == 0 && op->outcome == 0 && op->session)
        rc = auth_session_create(auth, st, "citizen", c.citizen_id,
                                 LV_ROLE_CITIZEN, op->ip, op->session, err);
    json_t *d = auth_details(op->reason, op->ip);
    if (d && op->outcome && c.locked)
        json_object_set_new(d, "locked", json_true());
    if (rc == 0)
        rc = audit_log(st, actor, op->event, c.citizen_id,
                       op->outcome ? LV_AUDIT_FAILURE : LV_AUDIT_SUCCESS, d,
                       err);
    json_decref(d);
    OPENSSL_cleanse(&c, sizeof c);
    return store_end(st, rc, err);
}

/* Issue 11 item 4: unknown id, wrong password, not activated and locked
 * answer alike; only the holder who proved the password learns more. */
#define PW_FAILED "wrong user id or password"

static int pw_result(const pw_op *op, lv_err *err)
{
    if (op->outcome == 0)
        return 0;
    if (!op->proved)
        return lv_fail(err, LV_EAUTH, PW_FAILED);
    if (op->outcome == LV_EPERM)
        return lv_fail(err, LV_EPERM,
                       "account locked (R3.5): a registration officer can "
                       "unlock it, or activate it again with a new "
                       "activation code");
    return lv_fail(err, LV_EAUTH,
                   "password expired: set a new one (POST "
                   "/api/v1/auth/password)");
}

/* Argon2id before the transaction: the write lock covers bookkeeping only. */
static int pw_attempt(lv_auth *auth, lv_store *st, const lv_cred_rec *pre,
                      const char *password, pw_op *op, lv_err *err)
{
    int m = auth_password_matches(auth, pre->password_hash, password);
    if (m < 0)
        return lv_fail(err, m, "password verification failed");
    LV_TRY(pw_commit(auth, st, pre, m, op, err));
    return pw_result(op, err);
}

/* Looks the credential up by user id or citizen id, after the throttle;
 * an unknown one costs a dummy verification and is counted in the
 * aggregate (issue 11 item 5). */
static int pw_by(lv_auth *auth, lv_store *st, const char *user_id,
                 const char *citizen_id, const char *password, pw_op *op,
                 lv_err *err)
{
    lv_cred_rec pre;
    const char *id = user_id ? user_id : citizen_id;
    if (!password || strlen(password) > LV_AUTH_PASSWORD_MAX)
        return lv_fail(err, LV_EINVAL, "password is missing or too long");
    op->ns = user_id ? AUTH_NS_USER : AUTH_NS_CITIZEN;
    LV_TRY(auth_gate(auth, op->ns, id, op->ip, err));
    int rc = user_id ? store_cred_get_by_user(st, user_id, &pre, err)
                     : store_cred_get(st, citizen_id, &pre, err);
    if (rc == LV_ENOTFOUND) {
        auth_password_matches(auth, NULL, password);
        auth_anon_failure(auth, op->event, id, op->ip);
        auth_gate_fail(auth, op->ns, id, op->ip);
        return lv_fail(err, LV_EAUTH, PW_FAILED);
    }
    if (rc == 0)
        rc = pw_attempt(auth, st, &pre, password, op, err);
    OPENSSL_cleanse(&pre, sizeof pre);
    if (op->proved)
        auth_gate_pass(auth, op->ns, id, op->ip);
    else if (rc == LV_EAUTH)
        auth_gate_fail(auth, op->ns, id, op->ip);
    return rc;
}

int auth_citizen_login(lv_auth *auth, lv_store *st, const char *user_id,
                       const char *password, const char *ip,
                       lv_session_token *out, lv_err *err)
{
    pw_op op = {
        .event = "citizen.login", .ip = ip, .check_expiry = 1, .session = out};
    memset(out, 0, sizeof *out);
    LV_TRY(check_ids(NULL, user_id, err));
    int rc = pw_by(auth, st, user_id, NULL, password, &op, err);
    if (rc < 0)
        auth_token_wipe(out);
    return rc;
}

int auth_verify_password(lv_auth *auth, lv_store *st, const char *citizen_id,
                         const char *password, const char *ip, lv_err *err)
{
    pw_op op = {.event = "citizen.password_verify", .ip = ip};
    LV_TRY(check_ids(citizen_id, NULL, err));
    return pw_by(auth, st, NULL, citizen_id, password, &op, err);
}

/* ---- the citizen portal (issue 15 item 4) ------------------------------ */

/* The password as auth_citizen_login proves it, then the citizen id. */
static int portal_password(lv_auth *auth, lv_store *st, const char *user_id,
                           const char *password, const char *ip,
                           char citizen_id[LV_AUTH_ID_MAX], lv_err *err)
{
    pw_op op = {
        .event = "citizen.portal_password", .ip = ip, .check_expiry = 1};
    lv_cred_rec c;
    LV_TRY(check_ids(NULL, user_id, err));
    LV_TRY(pw_by(auth, st, user_id, NULL, password, &op, err));
    LV_TRY(store_cred_get_by_user(st, user_id, &c, err));
    snprintf(citizen_id, LV_AUTH_ID_MAX, "%s", c.citizen_id);
    OPENSSL_cleanse(&c, sizeof c);
    return 0;
}

int auth_portal_otp(lv_auth *auth, lv_store *st, const char *user_id,
                    const char *password, const char *ip, const char *lang,
                    char otp_id_out[LV_AUTH_OTP_ID_LEN + 1], lv_err *err)
{
    char cid[LV_AUTH_ID_MAX];
    LV_TRY(portal_password(auth, st, user_id, password, ip, cid, err));
    /* R3.3: the code opens this citizen's portal and nothing else */
    return auth_otp_send(auth, st, cid, LV_AUTH_PORTAL_PURPOSE,
                         (const unsigned char *)cid, strlen(cid), ip,
                         &(lv_otp_sms){.lang = lang}, otp_id_out, err);
}

static int portal_session(lv_auth *auth, lv_store *st, const char *citizen_id,
                          const char *ip, lv_session_token *out, lv_err *err)
{
    char actor[96];
    citizen_actor(citizen_id, actor);
    LV_TRY(store_begin(st, err));
    int rc =
        auth_session_create(auth, st, "portal", citizen_id,
                            LV_ROLE_CITIZEN | LV_ROLE_PORTAL, ip, out, err);
    json_t *d = auth_details("password and SMS code", ip);
    if (rc == 0)
        rc = audit_log(st, actor, "citizen.portal_login", citizen_id,
                       LV_AUDIT_SUCCESS, d, err);
    json_decref(d);
    return store_end(st, rc, err);
}

int auth_portal_login(lv_auth *auth, lv_store *st, const char *user_id,
                      const char *password, const char *otp_id, const char *otp,
                      const char *ip, lv_session_token *out, lv_err *err)
{
    char cid[LV_AUTH_ID_MAX];
    memset(out, 0, sizeof *out);
    /* password first, so that a wrong one does not burn the code */
    LV_TRY(portal_password(auth, st, user_id, password, ip, cid, err));
    LV_TRY(auth_otp_verify(auth, st, otp_id, cid, LV_AUTH_PORTAL_PURPOSE,
                           (const unsigned char *)cid, strlen(cid), otp, err));
    int rc = portal_session(auth, st, cid, ip, out, err);
    if (rc < 0)
        auth_token_wipe(out);
    return rc;
}

static int change_commit(lv_auth *auth, lv_store *st, const char *citizen_id,
                         const char *hash, const char *ip, lv_err *err)
{
    lv_cred_rec c;
    char actor[96];
    citizen_actor(citizen_id, actor);
    LV_TRY(store_begin(st, err));
    int rc = store_cred_get(st, citizen_id, &c, err);
    if (rc == 0 && c.locked)
        rc = lv_fail(err, LV_EPERM, "account locked");
    if (rc == 0)
        rc = set_password(auth, st, &c, hash, err);
    if (rc == 0)
        rc = store_cred_update(st, &c, err);
    json_t *d = auth_details(NULL, ip);
    if (rc == 0)
        rc = audit_log(st, actor, "citizen.password_change", citizen_id,
                       LV_AUDIT_SUCCESS, d, err);
    json_decref(d);
    OPENSSL_cleanse(&c, sizeof c);
    return store_end(st, rc, err);
}

int auth_citizen_password_change(lv_auth *auth, lv_store *st,
                                 const char *user_id, const char *old_password,
                                 const char *new_password, const char *ip,
                                 lv_err *err)
{
    pw_op op = {.event = "citizen.password_verify", .ip = ip};
    lv_cred_rec c;
    char hash[AUTH_PWHASH_MAX];
    LV_TRY(check_ids(NULL, user_id, err));
    LV_TRY(auth_password_check(auth, new_password, user_id, err));
    /* The old password first: the history is no oracle for strangers. */
    LV_TRY(pw_by(auth, st, user_id, NULL, old_password, &op, err));
    LV_TRY(store_cred_get_by_user(st, user_id, &c, err));
    int rc = history_check(auth, st, c.citizen_id, new_password, err);
    if (rc == 0)
        rc = auth_password_hash(auth, new_password, hash, err);
    if (rc == 0)
        rc = change_commit(auth, st, c.citizen_id, hash, ip, err);
    OPENSSL_cleanse(hash, sizeof hash);
    OPENSSL_cleanse(&c, sizeof c);
    return rc;
}

/* ---- officer actions
 * ------------------------------------------------------------- */

typedef enum { CRED_MOBILE, CRED_UNLOCK, CRED_LOCK } cred_what;

static int cred_change(lv_store *st, const char *citizen_id, const char *actor,
                       const char *event, cred_what what, const char *mobile,
                       json_t *d, lv_err *err)
{
    lv_cred_rec c;
    LV_TRY(store_begin(st, err));
    int rc = store_cred_get(st, citizen_id, &c, err);
    if (rc == 0 && what != CRED_MOBILE)
        json_object_set_new(d, "was_locked", json_boolean(c.locked));
    if (rc == 0 && what == CRED_MOBILE) {
        snprintf(c.mobile, sizeof c.mobile, "%s", mobile);
    } else if (rc == 0 && what == CRED_UNLOCK) {
        c.locked = 0; /* R3.5: unlock by an officer */
        c.failed_attempts = 0;
        c.failures_since = 0;
    } else if (rc == 0) {
        c.locked = 1; /* R3.5, issue 11: a lock is an officer's decision */
    }
    if (rc == 0)
        rc = store_cred_update(st, &c, err);
    if (rc == 0)
        rc = audit_log(st, actor, event, citizen_id, LV_AUDIT_SUCCESS, d, err);
    OPENSSL_cleanse(&c, sizeof c);
    return store_end(st, rc, err);
}

static int cred_lock_change(const char *citizen_id, lv_store *st,
                            const char *actor, const char *event,
                            cred_what what, lv_err *err)
{
    LV_TRY(check_ids(citizen_id, NULL, err));
    json_t *d = json_object();
    if (!d)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = cred_change(st, citizen_id, actor, event, what, NULL, d, err);
    json_decref(d);
    return rc;
}

int auth_citizen_unlock(lv_auth *auth, lv_store *st, const char *citizen_id,
                        const char *actor, lv_err *err)
{
    (void)auth;
    return cred_lock_change(citizen_id, st, actor, "citizen.unlock",
                            CRED_UNLOCK, err);
}

int auth_citizen_lock(lv_auth *auth, lv_store *st, const char *citizen_id,
                      const char *actor, lv_err *err)
{
    (void)auth;
    return cred_lock_change(citizen_id, st, actor, "citizen.lock", CRED_LOCK,
                            err);
}

int auth_citizen_set_mobile(lv_auth *auth, lv_store *st, const char *citizen_id,
                            const char *mobile, const char *actor, lv_err *err)
{
    (void)auth;
    LV_TRY(check_ids(citizen_id, NULL, err));
    LV_TRY(notify_check_mobile(mobile, err));
    json_t *d = json_pack("{s:s}", "mobile", mobile);
    int rc = cred_change(st, citizen_id, actor, "citizen.set_mobile",
                         CRED_MOBILE, mobile, d, err);
    json_decref(d);
    return rc;
}

int auth_citizen_get(lv_store *st, const char *citizen_id, lv_citizen_cred *out,
                     lv_err *err)
{
    lv_cred_rec c;
    LV_TRY(check_ids(citizen_id, NULL, err));
    LV_TRY(store_cred_get(st, citizen_id, &c, err));
    memset(out, 0, sizeof *out);
    snprintf(out->citizen_id, sizeof out->citizen_id, "%s", c.citizen_id);
    snprintf(out->user_id, sizeof out->user_id, "%s", c.user_id);
    snprintf(out->mobile, sizeof out->mobile, "%s", c.mobile);
    out->active = c.password_hash[0] != '\0';
    out->locked = c.locked;
    out->failed_attempts = c.failed_attempts;
    out->password_expires_at = c.password_expires_at;
    OPENSSL_cleanse(&c, sizeof c);
    return 0;
}
