/* One-time codes bound to an operation (R3.3) and the reinforced mode,
 * password + OTP (R3.4).
 *
 * The row keeps binding = SHA-256(purpose, data) and HMAC(id, code), never
 * the code: a code verifies only for the citizen, purpose and bytes it was
 * sent for, once, in time, within the allowed attempts. */
#include "auth/auth_internal.h"
#include "notify/notify.h"

#include <stdio.h>
#include <string.h>

#define OTP_DIGITS 6
#define PURPOSE_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_.-"

static int check_purpose(const char *purpose, lv_err *err)
{
    size_t n = purpose ? strlen(purpose) : 0;
    if (n == 0 || n > 32 || strspn(purpose, PURPOSE_CHARS) != n)
        return lv_fail(err, LV_EINVAL,
                       "OTP purpose must be 1 to 32 characters of a-z, 0-9, "
                       "'_', '.', '-'");
    return 0;
}

static int otp_binding(const char *purpose, const unsigned char *data,
                       size_t len, char out[AUTH_HASH_HEX], lv_err *err)
{
    const void *parts[] = {"llave otp binding", purpose,
                           data ? (const void *)data : ""};
    size_t lens[] = {17, strlen(purpose), data ? len : 0};
    return auth_hash_parts(parts, lens, 3, out, err);
}

static int otp_mac(const lv_auth *auth, const char *id, const char *code,
                   char out[AUTH_HASH_HEX], lv_err *err)
{
    const void *parts[] = {"otp", id, code};
    size_t lens[] = {3, strlen(id), strlen(code)};
    return auth_mac_parts(auth, parts, lens, 3, out, err);
}

/* ---- sending
 * ------------------------------------------------------------------ */

static int otp_target(lv_store *st, const char *citizen_id, lv_cred_rec *c,
                      lv_err *err)
{
    LV_TRY(auth_check_id(citizen_id, LV_AUTH_ID_MAX, "citizen id", err));
    int rc = store_cred_get(st, citizen_id, c, err);
    if (rc == LV_ENOTFOUND)
        return lv_fail(err, LV_ENOTFOUND, "citizen %s has no credentials",
                       citizen_id);
    LV_TRY(rc);
    if (!c->password_hash[0])
        return lv_fail(err, LV_ESTATE, "citizen %s is not activated",
                       citizen_id);
    if (c->locked)
        return lv_fail(err, LV_EPERM,
                       "account locked (R3.5): an officer must unlock it");
    return 0;
}

/* The SMS: sms.otp.<purpose> (sms.otp.sign.noapp when no application is
 * named; sms.otp.other for a purpose the catalogue does not know). */
static int otp_text(const lv_auth *auth, const char *purpose,
                    const lv_otp_sms *sms, const char *code, char *out,
                    size_t cap)
{
    static const lv_otp_sms none = {0};
    char key[64], docs[64] = "", minutes[16], n[16];
    if (!sms)
        sms = &none;
    const char *app = sms->app && sms->app[0] ? sms->app : NULL;
    snprintf(minutes, sizeof minutes, "%d",
             (auth->cfg.otp_ttl_seconds + 59) / 60);
    snprintf(n, sizeof n, "%d", sms->n);
    if (sms->n > 0 &&
        lv_text_fill(docs, sizeof docs, sms->lang,
                     sms->n == 1 ? "sms.docs.one" : "sms.docs.many", "n", n,
                     LV_TEXT_END) < 0)
        return LV_EINVAL;
    snprintf(key, sizeof key, "sms.otp.%s%s", purpose,
             strcmp(purpose, "sign") == 0 && !app ? ".noapp" : "");
    if (lv_text(sms->lang, key) == key)
        snprintf(key, sizeof key, "sms.otp.other");
    return lv_text_fill(out, cap, sms->lang, key, "provider",
                        auth->cfg.org_name, "code", code, "docs", docs, "app",
                        app ? app : "", "minutes", minutes, LV_TEXT_END);
}

static int otp_store(lv_store *st, const lv_otp_rec *r, const char *msg_id,
                     lv_err *err)
{
    char actor[96];
    snprintf(actor, sizeof actor, "citizen:%s", r->citizen_id);
    json_t *d = json_pack("{s:s, s:s, s:s}", "otp_id", r->id, "purpose",
                          r->purpose, "message_id", msg_id);
    LV_TRY(store_begin(st, err));
    int rc = store_otp_insert(st, r, err);
    if (rc == 0)
        rc = audit_log(st, actor, "otp.send", r->citizen_id, LV_AUDIT_SUCCESS,
                       d, err);
    json_decref(d);
    if (rc < 0) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st, err);
}

/* Issue 11 item 6: an SMS costs money and wakes someone up.  Per operation
 * (same purpose and data: one transaction, one batch, one revocation) and
 * per citizen from the otps rows, so that every node agrees; per source in
 * memory.  Checked before anything is sent or stored. */
static int otp_db_limit(lv_store *st, const char *citizen_id,
                        const char *binding, int limit, int window,
                        const char *what, lv_err *err)
{
    int n = 0;
    int64_t oldest = 0, now = lv_now();
    LV_TRY(store_otp_count(st, citizen_id, binding, now - window, &n, &oldest,
                           err));
    if (n < limit)
        return 0;
    return lv_fail_retry(err, LV_ELIMIT, (int)(oldest + window - now),
                         "%d one-time codes were sent %s within %d minutes: "
                         "wait before asking for another",
                         n, what, window / 60);
}

static int otp_limits(lv_auth *auth, lv_store *st, const char *citizen_id,
                      const char *binding, const char *ip, lv_err *err)
{
    const lv_config *c = &auth->cfg;
    int retry = 0;
    LV_TRY(otp_db_limit(st, citizen_id, binding, c->otp_send_per_operation,
                        c->otp_send_operation_window, "for this operation",
                        err));
    LV_TRY(otp_db_limit(st, citizen_id, NULL, c->otp_send_per_citizen,
                        c->otp_send_citizen_window, "to this citizen", err));
    if (auth_rate_take(auth->throttle, "otp.send", ip, c->otp_send_per_source,
                       c->otp_send_source_window, lv_now_ms(), &retry) < 0)
        return lv_fail_retry(err, LV_ELIMIT, retry,
                             "too many one-time codes asked from this "
                             "address: try again in %d seconds",
                             retry);
    return 0;
}

int auth_otp_send(lv_auth *auth, lv_store *st, const char *citizen_id,
                  const char *purpose, const unsigned char *data,
                  size_t data_len, const char *ip, const lv_otp_sms *sms,
                  char otp_id_out[LV_AUTH_OTP_ID_LEN + 1], lv_err *err)
{
    lv_cred_rec c;
    lv_otp_rec r = {0};
    unsigned char rnd[LV_AUTH_OTP_ID_LEN / 2];
    char code[OTP_DIGITS + 1], text[320], msg_id[LV_NOTIFY_ID_MAX] = "";
    LV_TRY(check_purpose(purpose, err));
    LV_TRY(otp_target(st, citizen_id, &c, err));
    int rc = lv_random(rnd, sizeof rnd) < 0
                 ? lv_fail(err, LV_ECRYPTO, "no randomness")
                 : auth_random_digits(code, OTP_DIGITS, err);
    lv_hex_encode(rnd, sizeof rnd, r.id);
    snprintf(r.citizen_id, sizeof r.citizen_id, "%s", citizen_id);
    snprintf(r.purpose, sizeof r.purpose, "%s", purpose);
    r.created_at = lv_now();
    r.expires_at = r.created_at + auth->cfg.otp_ttl_seconds;
    if (rc == 0)
        rc = otp_binding(purpose, data, data_len, r.binding, err);
    if (rc == 0 &&
        (rc = otp_limits(auth, st, citizen_id, r.binding, ip, err)) ==
            LV_ELIMIT) /* counted, not audited one by one (item 5) */
        auth_anon_failure(auth, "otp.send.limited", citizen_id, ip);
    if (rc == 0)
        rc = otp_mac(auth, r.id, code, r.code_hash, err);
    if (rc == 0 && otp_text(auth, purpose, sms, code, text, sizeof text) < 0)
        rc = lv_fail(err, LV_EINTERNAL, "OTP message too long");
    /* R3.3: to the mobile registered at registration time, never to a
     * number the caller supplies. */
    if (rc == 0)
        rc = notify_sms(&auth->cfg, c.mobile, text, msg_id, err);
    if (rc == 0)
        rc = otp_store(st, &r, msg_id, err);
    if (rc == 0)
        snprintf(otp_id_out, LV_AUTH_OTP_ID_LEN + 1, "%s", r.id);
    OPENSSL_cleanse(code, sizeof code);
    OPENSSL_cleanse(text, sizeof text);
    OPENSSL_cleanse(&c, sizeof c);
    return rc;
}

/* ---- verifying
 * ------------------------------------------------------------------ */

typedef struct otp_try {
    const char *citizen_id;
    const char *binding;
    const char *mac;
    const char *reason;
} otp_try;

/* In this order so that a dead code never costs an attempt and every live
 * mismatch does (whoever holds the id may guess only max_attempts times). */
static void otp_judge(const lv_auth *auth, lv_otp_rec *r, otp_try *t)
{
    int live_mismatch = 1;
    if (r->used) {
        t->reason = "one-time code already used";
        live_mismatch = 0;
    } else if (r->expires_at <= lv_now()) {
        t->reason = "one-time code expired";
        live_mismatch = 0;
    } else if (r->attempts >= auth->cfg.otp_max_attempts) {
        t->reason = "too many attempts for this one-time code";
        live_mismatch = 0;
    } else if (strcmp(r->citizen_id, t->citizen_id) != 0) {
        t->reason = "one-time code belongs to another citizen";
    } else if (!auth_hex_equal(r->binding, t->binding)) {
        t->reason = "one-time code was sent for another operation or data";
    } else if (!auth_hex_equal(r->code_hash, t->mac)) {
        t->reason = "wrong one-time code";
    } else {
        t->reason = NULL;
        live_mismatch = 0;
        r->used = 1; /* single use */
    }
    if (live_mismatch)
        r->attempts++;
}

static int otp_commit(lv_auth *auth, lv_store *st, const char *otp_id,
                      otp_try *t, lv_err *err)
{
    lv_otp_rec r;
    char actor[96];
    snprintf(actor, sizeof actor, "citizen:%s", t->citizen_id);
    LV_TRY(store_begin(st, err));
    int rc = store_otp_get(st, otp_id, &r, err);
    if (rc == LV_ENOTFOUND) {
        t->reason = "unknown one-time code id";
        rc = 0;
    } else if (rc == 0) {
        otp_judge(auth, &r, t);
        rc = store_otp_update(st, &r, err);
    }
    json_t *d = json_pack("{s:s, s:s*}", "otp_id", otp_id, "reason", t->reason);
    if (rc == 0)
        rc = audit_log(st, actor, "otp.verify", t->citizen_id,
                       t->reason ? LV_AUDIT_FAILURE : LV_AUDIT_SUCCESS, d, err);
    json_decref(d);
    if (rc < 0) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st, err);
}

static int otp_args(const char *otp_id, const char *citizen_id,
                    const char *purpose, const char *code, lv_err *err)
{
    LV_TRY(auth_check_id(citizen_id, LV_AUTH_ID_MAX, "citizen id", err));
    LV_TRY(check_purpose(purpose, err));
    if (!otp_id || strlen(otp_id) != LV_AUTH_OTP_ID_LEN ||
        strspn(otp_id, "0123456789abcdef") != LV_AUTH_OTP_ID_LEN)
        return lv_fail(err, LV_EINVAL, "OTP id must be %d hex characters",
                       LV_AUTH_OTP_ID_LEN);
    if (!code || strlen(code) != OTP_DIGITS ||
        strspn(code, "0123456789") != OTP_DIGITS)
        return lv_fail(err, LV_EINVAL, "one-time code must be %d digits",
                       OTP_DIGITS);
    return 0;
}

int auth_otp_verify(lv_auth *auth, lv_store *st, const char *otp_id,
                    const char *citizen_id, const char *purpose,
                    const unsigned char *data, size_t data_len,
                    const char *code, lv_err *err)
{
    char binding[AUTH_HASH_HEX], mac[AUTH_HASH_HEX];
    otp_try t = {citizen_id, binding, mac, NULL};
    LV_TRY(otp_args(otp_id, citizen_id, purpose, code, err));
    LV_TRY(otp_binding(purpose, data, data_len, binding, err));
    LV_TRY(otp_mac(auth, otp_id, code, mac, err));
    LV_TRY(otp_commit(auth, st, otp_id, &t, err));
    if (t.reason)
        return lv_fail(err, LV_EAUTH, "%s", t.reason);
    return 0;
}

/* Only a used, unexpired code of this citizen comes back; its attempts
 * stay as they were. */
int auth_otp_release(lv_store *st, const char *otp_id, const char *citizen_id,
                     const char *reason, lv_err *err)
{
    lv_otp_rec r;
    char actor[96];
    snprintf(actor, sizeof actor, "citizen:%s", citizen_id);
    LV_TRY(store_begin(st, err));
    int rc = store_otp_get(st, otp_id, &r, err);
    if (rc == 0 && (!r.used || r.expires_at <= lv_now() ||
                    strcmp(r.citizen_id, citizen_id) != 0))
        rc = lv_fail(err, LV_ESTATE, "the one-time code cannot be released");
    r.used = 0;
    if (rc == 0)
        rc = store_otp_update(st, &r, err);
    json_t *d = json_pack("{s:s, s:s}", "otp_id", otp_id, "reason", reason);
    if (rc == 0)
        rc = audit_log(st, actor, "otp.release", citizen_id, LV_AUDIT_SUCCESS,
                       d, err);
    json_decref(d);
    return store_end(st, rc, err);
}

int auth_citizen_authorize(lv_auth *auth, lv_store *st, const char *citizen_id,
                           const char *password, const char *otp_id,
                           const char *purpose, const unsigned char *data,
                           size_t data_len, const char *code, const char *ip,
                           lv_err *err)
{
    /* Formats first: a malformed OTP must not cost a password attempt. */
    LV_TRY(otp_args(otp_id, citizen_id, purpose, code, err));
    LV_TRY(auth_verify_password(auth, st, citizen_id, password, ip, err));
    return auth_otp_verify(auth, st, otp_id, citizen_id, purpose, data,
                           data_len, code, err);
}

int auth_purge(const lv_config *cfg, lv_store *st, int64_t now, int *otps,
               lv_err *err)
{
    /* store_otp_count looks back this far from a send (auth_otp_send) */
    int64_t back = cfg->otp_send_operation_window;
    if (cfg->otp_send_citizen_window > back)
        back = cfg->otp_send_citizen_window;
    LV_TRY(store_otp_purge(st, now - back, otps, err));
    return store_session_purge(st, now, err);
}
