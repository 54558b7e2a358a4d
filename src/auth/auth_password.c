/* Passwords: Argon2id storage (libargon2; R3.2) and the published policy
 * (R3.1). */
#include "auth/auth_internal.h"

#include <argon2.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#define SALT_LEN 16 /* RFC 9106 §3.1: 128-bit salt */
#define HASH_LEN 32

int auth_password_hash(const lv_auth *auth, const char *password,
                       char out[AUTH_PWHASH_MAX], lv_err *err)
{
    unsigned char salt[SALT_LEN];
    const lv_config *c = &auth->cfg;
    uint32_t m_kib = (uint32_t)c->argon2_memory_mib * 1024u;
    size_t need = argon2_encodedlen((uint32_t)c->argon2_time, m_kib,
                                    (uint32_t)c->argon2_parallelism, SALT_LEN,
                                    HASH_LEN, Argon2_id);
    if (need > AUTH_PWHASH_MAX)
        return lv_fail(err, LV_EINTERNAL, "Argon2 encoding too long");
    if (lv_random(salt, sizeof salt) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness for a salt");
    int rc = argon2id_hash_encoded((uint32_t)c->argon2_time, m_kib,
                                   (uint32_t)c->argon2_parallelism, password,
                                   strlen(password), salt, sizeof salt,
                                   HASH_LEN, out, AUTH_PWHASH_MAX);
    if (rc != ARGON2_OK)
        return lv_fail(
            err, rc == ARGON2_MEMORY_ALLOCATION_ERROR ? LV_ENOMEM : LV_ECRYPTO,
            "Argon2id: %s", argon2_error_message(rc));
    return 0;
}

/* argon2id_verify reads the parameters from the encoded string, so hashes
 * made under older settings keep verifying after a configuration change;
 * its final comparison is constant-time. */
int auth_password_matches(const lv_auth *auth, const char *encoded,
                          const char *password)
{
    int dummy = encoded == NULL || encoded[0] == '\0';
    const char *h = dummy ? auth->dummy_hash : encoded;
    int rc = argon2id_verify(h, password, strlen(password));
    if (rc == ARGON2_OK)
        return dummy ? 0 : 1;
    if (rc == ARGON2_VERIFY_MISMATCH)
        return 0;
    lv_log(LV_LOG_ERROR, "auth: Argon2id verify: %s", argon2_error_message(rc));
    return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? LV_ENOMEM : LV_ECRYPTO;
}

/* ---- policy ---------------------------------------------------------------
 */

#define CLASSES_REQUIRED 3

/* Characters, not bytes: UTF-8 continuation bytes do not count. */
static size_t char_count(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int class_count(const char *s)
{
    int lower = 0, upper = 0, digit = 0, other = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        lower |= ch >= 'a' && ch <= 'z';
        upper |= ch >= 'A' && ch <= 'Z';
        digit |= ch >= '0' && ch <= '9';
        other |= !isalnum(ch) || ch >= 0x80;
    }
    return lower + upper + digit + other;
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

int auth_password_check(const lv_auth *auth, const char *password,
                        const char *user_id, lv_err *err)
{
    size_t min = (size_t)auth->cfg.password_min_length;
    if (!password)
        return lv_fail(err, LV_EINVAL, "password is missing");
    if (strlen(password) > LV_AUTH_PASSWORD_MAX)
        return lv_fail(err, LV_EINVAL, "password longer than %d bytes",
                       LV_AUTH_PASSWORD_MAX);
    for (const char *p = password; *p; p++)
        if (iscntrl((unsigned char)*p))
            return lv_fail(err, LV_EINVAL,
                           "password must not hold control characters");
    if (char_count(password) < min)
        return lv_fail(err, LV_EINVAL,
                       "password too short: at least %zu characters", min);
    if (class_count(password) < CLASSES_REQUIRED)
        return lv_fail(err, LV_EINVAL,
                       "password too weak: use at least %d of lower-case, "
                       "upper-case, digits and other characters",
                       CLASSES_REQUIRED);
    if (user_id && strlen(user_id) >= 3 && contains_ci(password, user_id))
        return lv_fail(err, LV_EINVAL, "password must not contain the user id");
    return 0;
}

json_t *auth_password_policy_json(const lv_auth *auth)
{
    const lv_config *c = &auth->cfg;
    json_t *p = json_pack(
        "{s:{s:i, s:i, s:i, s:[s,s,s,s], s:b, s:i, s:i, s:s}, "
        "s:{s:i, s:i, s:s}, s:{s:i, s:i, s:i}, s:{s:i, s:i}}",
        "password", "min_length", c->password_min_length, "max_bytes",
        LV_AUTH_PASSWORD_MAX, "classes_required", CLASSES_REQUIRED, "classes",
        "lower", "upper", "digit", "other", "may_contain_user_id", 0, "history",
        c->password_history, "expiry_days", c->password_expiry_days, "storage",
        "argon2id", "lockout", "threshold", c->lockout_failures_24h,
        "window_hours", 24, "unlock", "registration officer, or re-activation",
        "otp", "digits", 6, "ttl_seconds", c->otp_ttl_seconds, "max_attempts",
        c->otp_max_attempts, "activation_code", "ttl_hours",
        c->activation_ttl_hours, "max_attempts", c->activation_max_attempts);
    /* Issue 11: published so that clients can tell users how long to wait. */
    json_t *t = json_pack("{s:i, s:i, s:i, s:i, s:i}", "free_failures",
                          c->auth_throttle_free, "first_delay_seconds", 1,
                          "max_delay_seconds", c->auth_throttle_max_delay,
                          "source_failures", c->auth_source_failures,
                          "source_window_seconds", c->auth_source_window);
    if (!p || !t) {
        json_decref(p);
        json_decref(t);
        return NULL;
    }
    if (json_object_set_new(p, "throttle", t) != 0) { /* t taken either way */
        json_decref(p);
        return NULL;
    }
    return p;
}

/* 20 characters drawn from letters and digits without look-alikes
 * (0/O, 1/l/I), retried until three classes appear: about 113 bits. */
int auth_password_generate(const lv_auth *auth, char *out, size_t cap,
                           lv_err *err)
{
    static const char ALPHA[] = "ABCDEFGHJKLMNPQRSTUVWXYZ"
                                "abcdefghijkmnopqrstuvwxyz23456789";
    const size_t n = 20, na = sizeof ALPHA - 1;
    if (cap <= n)
        return lv_fail(err, LV_EINTERNAL, "password buffer too small");
    do {
        for (size_t i = 0; i < n; i++) {
            unsigned char b;
            do {
                if (lv_random(&b, 1) < 0)
                    return lv_fail(err, LV_ECRYPTO, "no randomness");
            } while (b >= 256 - 256 % na); /* uniform over ALPHA */
            out[i] = ALPHA[b % na];
        }
        out[n] = '\0';
    } while (auth_password_check(auth, out, NULL, NULL) < 0);
    return 0;
}
