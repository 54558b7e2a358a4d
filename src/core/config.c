/* Configuration: embedded defaults, DIR/llave.json over them, validation.
 * A table describes every field once so that loading, saving and the
 * "unknown key" check cannot drift apart. */
#include "core/core.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_FILE "llave.json"
#define CONFIG_MODE 0640

typedef enum { CF_STR, CF_INT, CF_BOOL } cf_type;

typedef struct cf_field {
    const char *key;
    cf_type type;
    size_t off;
    size_t size;  /* capacity of a string field */
    int optional; /* a string that may be empty (CF_SO) */
} cf_field;

#define CF_S(f)                                                                \
    {                                                                          \
#f, CF_STR, offsetof(lv_config, f), sizeof(((lv_config *)0)->f), 0     \
    }
/* A string that may stay empty (the notify gateway's URL and
 * credentials, unused by the default outbox back end). */
#define CF_SO(f)                                                               \
    {                                                                          \
#f, CF_STR, offsetof(lv_config, f), sizeof(((lv_config *)0)->f), 1     \
    }
#define CF_I(f)                                                                \
    {                                                                          \
#f, CF_INT, offsetof(lv_config, f), 0, 0                               \
    }
#define CF_B(f)                                                                \
    {                                                                          \
#f, CF_BOOL, offsetof(lv_config, f), 0, 0                              \
    }

/* `dir` is deliberately absent: the file lives in the directory it would
 * name, so storing it would only break moving an installation. */
static const cf_field cf_fields[] = {
    CF_S(org_name),
    CF_S(org_country),
    CF_S(org_id),
    CF_S(org_locality),
    CF_S(oid_arc),
    CF_S(public_url),
    CF_SO(status_url),
    CF_SO(documents_url),
    CF_S(root_name),
    CF_S(qualified_name),
    CF_S(standard_name),
    CF_S(tls_name),
    CF_S(root_cn),
    CF_S(qualified_cn),
    CF_S(standard_cn),
    CF_S(tls_cn),
    CF_S(listen_addr),
    CF_I(listen_port),
    CF_SO(tls_cert_file),
    CF_SO(tls_key_file),
    CF_SO(tls_client_ca_file),
    CF_I(tls_port),
    CF_B(tls_plain_status_only),
    CF_I(threads),
    CF_B(demo),
    CF_SO(keyd_socket),
    CF_S(keystore),
    CF_SO(pkcs11_module),
    CF_SO(pkcs11_token),
    CF_SO(pkcs11_pin_file),
    CF_S(store_driver),
    CF_SO(store_conninfo),
    CF_I(ocsp_validity_hours),
    CF_B(ocsp_nonce_fresh),
    CF_I(ocsp_sign_rate),
    CF_I(ocsp_refresh_interval),
    CF_I(ocsp_cache_mib),
    CF_B(access_log),
    CF_I(http_max_connections),
    CF_I(http_max_per_source),
    CF_I(http_max_slow),
    CF_I(http_head_timeout_s),
    CF_I(http_body_timeout_s),
    CF_I(http_api_threads),
    CF_I(http_api_queue),
    CF_I(http_password_threads),
    CF_I(http_password_queue),
    CF_I(http_sign_threads),
    CF_I(http_sign_queue),
    CF_I(http_keygen_threads),
    CF_I(http_keygen_queue),
    CF_I(crl_interval_hours),
    CF_I(crl_check_seconds),
    CF_I(argon2_memory_mib),
    CF_I(argon2_time),
    CF_I(argon2_parallelism),
    CF_I(password_min_length),
    CF_I(password_history),
    CF_I(password_expiry_days),
    CF_I(otp_ttl_seconds),
    CF_I(otp_max_attempts),
    CF_I(session_ttl_seconds),
    CF_I(activation_ttl_hours),
    CF_I(auth_throttle_free),
    CF_I(auth_throttle_max_delay),
    CF_I(auth_source_failures),
    CF_I(auth_source_window),
    CF_I(auth_throttle_entries),
    CF_I(lockout_failures_24h),
    CF_I(activation_max_attempts),
    CF_I(auth_report_seconds),
    CF_I(otp_send_per_operation),
    CF_I(otp_send_operation_window),
    CF_I(otp_send_per_citizen),
    CF_I(otp_send_citizen_window),
    CF_I(otp_send_per_source),
    CF_I(otp_send_source_window),
    CF_I(activation_codes_per_day),
    CF_S(notify_backend),
    CF_SO(notify_url),
    CF_SO(notify_user),
    CF_SO(notify_password_file),
    CF_I(notify_timeout_s),
    CF_SO(tsa_policy_oid),
    CF_S(tsa_unit),
    CF_I(tsa_accuracy_ms),
    CF_B(tsa_require_clock_sync),
    CF_B(tsa_include_name),
    CF_SO(ecert_trust_file),
    CF_B(csc_otp_hashes),
    CF_B(tls_rsa_key_encipherment),
    CF_I(purge_interval_seconds),
    CF_I(sign_keep_hours),
    CF_I(sign_max_pdf_kib),
    CF_I(sign_max_tx_kib),
    CF_I(audit_seal_minutes),
    CF_I(audit_seal_entries),
};
#define CF_COUNT (sizeof cf_fields / sizeof cf_fields[0])

static char *cf_str(lv_config *cfg, const cf_field *f)
{
    return (char *)cfg + f->off;
}

static int *cf_int(lv_config *cfg, const cf_field *f)
{
    return (int *)((char *)cfg + f->off);
}

static void set_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

void lv_config_defaults(lv_config *cfg, const char *dir)
{
    memset(cfg, 0, sizeof *cfg);
    set_str(cfg->dir, sizeof cfg->dir, dir ? dir : "");
    set_str(cfg->org_name, sizeof cfg->org_name, "llave Demo Trust Services");
    set_str(cfg->org_country, sizeof cfg->org_country, "ES");
    set_str(cfg->org_id, sizeof cfg->org_id, "VATES-B00000000");
    set_str(cfg->org_locality, sizeof cfg->org_locality, "Madrid");
    /* RFC 5612's documentation arc, a placeholder every parser reads (issue
     * 13: a 2.25.<uuid> arc breaks Go's encoding/asn1); a production init
     * refuses it and wants the operator's own arc (lv_config_check_rules). */
    set_str(cfg->oid_arc, sizeof cfg->oid_arc, LV_OID_ARC_PLACEHOLDER);
    set_str(cfg->public_url, sizeof cfg->public_url, "http://127.0.0.1:8080");
    set_str(cfg->root_name, sizeof cfg->root_name, "root");
    set_str(cfg->qualified_name, sizeof cfg->qualified_name, "qualified");
    set_str(cfg->standard_name, sizeof cfg->standard_name, "standard");
    set_str(cfg->tls_name, sizeof cfg->tls_name, "tls");
    set_str(cfg->root_cn, sizeof cfg->root_cn, "llave Root CA");
    set_str(cfg->qualified_cn, sizeof cfg->qualified_cn, "llave Qualified CA");
    set_str(cfg->standard_cn, sizeof cfg->standard_cn, "llave CA");
    set_str(cfg->tls_cn, sizeof cfg->tls_cn, "llave TLS CA");
    set_str(cfg->store_driver, sizeof cfg->store_driver, "sqlite");
    set_str(cfg->listen_addr, sizeof cfg->listen_addr, "127.0.0.1");
    cfg->listen_port = 8080;
    cfg->tls_port = 8443;
    cfg->tls_plain_status_only = 1;
    cfg->threads = 0; /* 0: one per CPU */
    cfg->demo = 0;
    cfg->ocsp_validity_hours = 24; /* R6.4; RFC 5019 §6: hours to days */
    cfg->ocsp_nonce_fresh = 1;
    cfg->ocsp_sign_rate = 200;
    cfg->ocsp_refresh_interval = 60;
    cfg->ocsp_cache_mib = 256; /* issue 17: ~110 000 answers of 2 KiB */
    cfg->access_log = 1;
    /* issue 11: figures for a 2-CPU machine; docs/OPERATIONS.md */
    cfg->http_max_connections = 0;
    cfg->http_max_per_source = 64;
    cfg->http_max_slow = 256;
    cfg->http_head_timeout_s = 10;
    cfg->http_body_timeout_s = 30;
    cfg->http_api_queue = 256;
    cfg->http_password_queue = 32;
    cfg->http_sign_queue = 256;
    cfg->http_keygen_threads = 1;
    cfg->http_keygen_queue = 8;
    /* R6.3, CPS §4.9.7: a CRL at least every 24 hours */
    cfg->crl_interval_hours = 24;
    cfg->crl_check_seconds = 60;
    /* auth/: RFC 9106 §4's second recommended option is 64 MiB, t=3, p=4;
     * one lane keeps a login to one core of a shared server. */
    cfg->argon2_memory_mib = 64;
    cfg->argon2_time = 3;
    cfg->argon2_parallelism = 1;
    cfg->password_min_length = 12;
    cfg->password_history = 5;
    cfg->password_expiry_days = 180;
    cfg->otp_ttl_seconds = 300; /* R3.3: 5 minutes */
    cfg->otp_max_attempts = 3;
    cfg->session_ttl_seconds = 900;
    cfg->activation_ttl_hours = 72;
    /* issue 11: one address gets at most 62 tries a day on one id (5 free,
     * 1 s doubling to 30 min), far below the 200 that lock a citizen;
     * docs/ARCHITECTURE.md "Failed logins" has the arithmetic. */
    cfg->auth_throttle_free = 5;
    cfg->auth_throttle_max_delay = 1800;
    cfg->auth_source_failures = 100;
    cfg->auth_source_window = 900;
    cfg->auth_throttle_entries = 32768;
    cfg->lockout_failures_24h = 200;
    cfg->activation_max_attempts = 10;
    cfg->auth_report_seconds = 60;
    cfg->otp_send_per_operation = 3;
    cfg->otp_send_operation_window = 300;
    cfg->otp_send_per_citizen = 10;
    cfg->otp_send_citizen_window = 3600;
    cfg->otp_send_per_source = 30;
    cfg->otp_send_source_window = 3600;
    cfg->activation_codes_per_day = 3;
    set_str(cfg->notify_backend, sizeof cfg->notify_backend, "outbox");
    set_str(cfg->keystore, sizeof cfg->keystore, "file");
    cfg->notify_timeout_s = 10;
    /* TSA: an empty policy is EN 319 421's 0.4.0.2023.1.1 (tsa_policy) */
    set_str(cfg->tsa_unit, sizeof cfg->tsa_unit, "tsa");
    cfg->tsa_accuracy_ms = 1000;     /* EN 319 421 §7.7.2: declared */
    cfg->tsa_require_clock_sync = 1; /* R7.2; `llave init --demo` clears it */
    cfg->tsa_include_name = 0;
    /* R2.2: no CA is recognised until the operator installs this file */
    set_str(cfg->ecert_trust_file, sizeof cfg->ecert_trust_file,
            "ecert-trust.pem");
    /* CSC explicit flow (docs/API.md): the OTP binds the credential, the
     * SAD the exact hashes (SCAL2); 1 also demands them at sendOTP */
    cfg->csc_otp_hashes = 0;
    /* BR §7.1.2.7.11: keyEncipherment is MAY for RSA; TLS 1.3 never uses
     * it, so it is off unless the operator asks */
    cfg->tls_rsa_key_encipherment = 0;
    cfg->audit_seal_minutes = 60; /* CPS §5.4.2: reviewed at least daily */
    /* issue 14 item 6: a relying application fetches its signed documents
     * within the day; nothing older is kept but the audit trail */
    cfg->purge_interval_seconds = 300;
    cfg->sign_keep_hours = 24;
    /* issue 14 item 4: PDFs in transactions (KiB: integer settings stop
     * at 65535); their bodies are base64, 4/3 of that */
    cfg->sign_max_pdf_kib = 10 * 1024;
    cfg->sign_max_tx_kib = 24 * 1024;
    cfg->audit_seal_entries = 1000;
}

/* ---- validation -------------------------------------------------------- */

/* Dotted decimal OID: at least two arcs, first 0..2, no empty arcs and no
 * leading zeros (DER could not encode "01" back to the same text). */
static int valid_oid(const char *s)
{
    int arcs = 0;
    if (!(s[0] >= '0' && s[0] <= '2') || s[1] != '.')
        return 0;
    for (const char *p = s; *p; arcs++) {
        const char *start = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == start || (*start == '0' && p - start > 1))
            return 0;
        if (*p == '.' && p[1] == '\0')
            return 0;
        if (*p == '.')
            p++;
        else if (*p)
            return 0;
    }
    return arcs >= 2;
}

/* Short names end up in URLs and file names: /ca/{name}.crt. */
static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 31)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* An http:// or https:// base URL; one trailing slash is stripped.  An
 * optional key may stay empty (it then follows public_url). */
static int validate_url(char *u, const char *key, int optional, lv_err *err)
{
    size_t n = strlen(u);
    size_t scheme = strncmp(u, "https://", 8) == 0  ? 8
                    : strncmp(u, "http://", 7) == 0 ? 7
                                                    : 0;
    if (optional && n == 0)
        return 0;
    if (scheme && n > scheme && u[n - 1] == '/')
        u[--n] = '\0'; /* one trailing slash is tolerated, then stripped */
    if (!scheme || n == scheme || u[n - 1] == '/' || strpbrk(u, " \t\r\n"))
        return lv_fail(err, LV_EINVAL,
                       "configuration key %s must be an http:// or https:// "
                       "URL without trailing slash",
                       key);
    return 0;
}

static int validate_urls(lv_config *cfg, lv_err *err)
{
    LV_TRY(validate_url(cfg->public_url, "public_url", 0, err));
    LV_TRY(validate_url(cfg->status_url, "status_url", 1, err));
    return validate_url(cfg->documents_url, "documents_url", 1, err);
}

/* "configuration key KEY must WHAT" unless ok. */
static int key_must(int ok, const char *key, const char *what, lv_err *err)
{
    return ok ? 0
              : lv_fail(err, LV_EINVAL, "configuration key %s must %s", key,
                        what);
}

#define NAME_RULE "be 1 to 31 characters of a-z, 0-9 and '-'"

static int validate_names(const lv_config *cfg, lv_err *err)
{
    const char *names[] = {cfg->root_name, cfg->qualified_name,
                           cfg->standard_name, cfg->tls_name};
    const char *keys[] = {"root_name", "qualified_name", "standard_name",
                          "tls_name"};
    for (int i = 0; i < 4; i++) {
        LV_TRY(key_must(valid_name(names[i]), keys[i], NAME_RULE, err));
        for (int j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return lv_fail(err, LV_EINVAL,
                               "configuration keys %s and %s must differ",
                               keys[j], keys[i]);
    }
    return 0;
}

static int validate_nonempty(const lv_config *cfg, lv_err *err)
{
    for (size_t i = 0; i < CF_COUNT; i++) {
        const cf_field *f = &cf_fields[i];
        if (f->type == CF_STR && !f->optional &&
            cf_str((lv_config *)cfg, f)[0] == '\0')
            return lv_fail(err, LV_EINVAL,
                           "configuration key %s must not be empty", f->key);
    }
    return 0;
}

static int check_range(int v, int lo, int hi, const char *key, lv_err *err)
{
    if (v < lo || v > hi)
        return lv_fail(err, LV_EINVAL, "configuration key %s must be %d..%d",
                       key, lo, hi);
    return 0;
}

/* issue 11: auth/'s throttle, audit aggregation and sending limits.  The
 * floors keep every protection on: no value disables throttling, and a
 * window of at least a minute keeps the counters meaningful (65535 is
 * what apply_int accepts at most). */
static int validate_front_door(const lv_config *c, lv_err *err)
{
    static const struct {
        size_t off;
        const char *key;
        int lo, hi;
    } R[] = {
#define FD(f, lo, hi) {offsetof(lv_config, f), #f, lo, hi}
        FD(auth_throttle_free, 1, 100),
        FD(auth_throttle_max_delay, 1, 65535),
        FD(auth_source_failures, 1, 65535),
        FD(auth_source_window, 60, 65535),
        FD(auth_throttle_entries, 1024, 65535),
        FD(lockout_failures_24h, 1, 65535),
        FD(activation_max_attempts, 1, 1000),
        FD(auth_report_seconds, 1, 3600),
        FD(otp_send_per_operation, 1, 1000),
        FD(otp_send_operation_window, 60, 65535),
        FD(otp_send_per_citizen, 1, 10000),
        FD(otp_send_citizen_window, 60, 65535),
        FD(otp_send_per_source, 1, 65535),
        FD(otp_send_source_window, 60, 65535),
        FD(activation_codes_per_day, 1, 1000),
#undef FD
    };
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++)
        LV_TRY(check_range(
            *(const int *)(const void *)((const char *)c + R[i].off), R[i].lo,
            R[i].hi, R[i].key, err));
    return 0;
}

/* auth/ limits: a password shorter than 12 is never acceptable (R3.1);
 * Argon2 memory stays within what one login may take from a server. */
static int validate_auth(const lv_config *c, lv_err *err)
{
    LV_TRY(
        check_range(c->argon2_memory_mib, 1, 4096, "argon2_memory_mib", err));
    LV_TRY(check_range(c->argon2_time, 1, 64, "argon2_time", err));
    LV_TRY(
        check_range(c->argon2_parallelism, 1, 16, "argon2_parallelism", err));
    LV_TRY(check_range(c->password_min_length, 12, 128, "password_min_length",
                       err));
    LV_TRY(check_range(c->password_history, 0, 24, "password_history", err));
    LV_TRY(check_range(c->password_expiry_days, 1, 3650, "password_expiry_days",
                       err));
    LV_TRY(check_range(c->otp_ttl_seconds, 30, 3600, "otp_ttl_seconds", err));
    LV_TRY(check_range(c->otp_max_attempts, 1, 10, "otp_max_attempts", err));
    LV_TRY(check_range(c->session_ttl_seconds, 60, 86400, "session_ttl_seconds",
                       err));
    LV_TRY(check_range(c->activation_ttl_hours, 1, 720, "activation_ttl_hours",
                       err));
    return validate_front_door(c, err);
}

static int validate_notify(const lv_config *c, lv_err *err)
{
    int http = strcmp(c->notify_backend, "http") == 0;
    LV_TRY(key_must(http || strcmp(c->notify_backend, "outbox") == 0,
                    "notify_backend", "be \"outbox\" or \"http\"", err));
    LV_TRY(key_must(!http || strncmp(c->notify_url, "http://", 7) == 0 ||
                        strncmp(c->notify_url, "https://", 8) == 0,
                    "notify_url",
                    "be an http:// or https:// URL when notify_backend is "
                    "\"http\"",
                    err));
    if (strpbrk(c->notify_url, " \t\r\n") || strchr(c->notify_user, ':'))
        return lv_fail(err, LV_EINVAL,
                       "configuration keys notify_url and notify_user must "
                       "not hold blanks (or ':' in the user)");
    return check_range(c->notify_timeout_s, 1, 300, "notify_timeout_s", err);
}

/* issue 16: a PKCS#11 key store names its module and token. */
static int validate_keystore(const lv_config *c, lv_err *err)
{
    int p11 = strcmp(c->keystore, "pkcs11") == 0;
    LV_TRY(key_must(p11 || strcmp(c->keystore, "file") == 0, "keystore",
                    "be \"file\" or \"pkcs11\"", err));
    LV_TRY(key_must(!p11 || c->pkcs11_module[0] == '/', "pkcs11_module",
                    "be the absolute path of the PKCS#11 module when "
                    "keystore is \"pkcs11\"",
                    err));
    return key_must(!p11 || c->pkcs11_token[0], "pkcs11_token",
                    "name the token label when keystore is \"pkcs11\"", err);
}

/* TSA: a policy OID DER can encode, a unit that is a CA short name, an
 * accuracy TSTInfo can state (RFC 3161 §2.4.2 Accuracy). */
static int validate_tsa(const lv_config *c, lv_err *err)
{
    LV_TRY(key_must(!c->tsa_policy_oid[0] || valid_oid(c->tsa_policy_oid),
                    "tsa_policy_oid", "be empty or a dotted OID", err));
    LV_TRY(key_must(valid_name(c->tsa_unit), "tsa_unit", NAME_RULE, err));
    return check_range(c->tsa_accuracy_ms, 1, 60000, "tsa_accuracy_ms", err);
}

/* issue 11: the front door's limits; every key has a floor, so that no
 * value in llave.json can switch a protection off by accident. */
static int validate_http(const lv_config *c, lv_err *err)
{
    LV_TRY(check_range(c->http_max_connections, 0, 1000000,
                       "http_max_connections", err));
    LV_TRY(check_range(c->http_max_per_source, 1, 100000, "http_max_per_source",
                       err));
    LV_TRY(check_range(c->http_max_slow, 1, 100000, "http_max_slow", err));
    LV_TRY(check_range(c->http_head_timeout_s, 1, 300, "http_head_timeout_s",
                       err));
    LV_TRY(check_range(c->http_body_timeout_s, 1, 3600, "http_body_timeout_s",
                       err));
    const int *threads[] = {&c->http_api_threads, &c->http_password_threads,
                            &c->http_sign_threads, &c->http_keygen_threads};
    const int *queues[] = {&c->http_api_queue, &c->http_password_queue,
                           &c->http_sign_queue, &c->http_keygen_queue};
    for (size_t i = 0; i < 4; i++) {
        LV_TRY(check_range(*threads[i], 0, 256, "http_*_threads", err));
        LV_TRY(check_range(*queues[i], 1, 100000, "http_*_queue", err));
    }
    return 0;
}

static int config_validate(lv_config *cfg, lv_err *err)
{
    const char *c = cfg->org_country;
    LV_TRY(validate_nonempty(cfg, err));
    LV_TRY(key_must(strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' &&
                        c[1] >= 'A' && c[1] <= 'Z',
                    "org_country", "be two upper-case letters (ISO 3166)",
                    err));
    LV_TRY(key_must(valid_oid(cfg->oid_arc), "oid_arc",
                    "be a dotted OID such as 1.3.6.1.4.1.32473", err));
    LV_TRY(validate_names(cfg, err));
    LV_TRY(validate_urls(cfg, err));
    LV_TRY(key_must(strcmp(cfg->store_driver, "sqlite") == 0 ||
                        strcmp(cfg->store_driver, "postgresql") == 0,
                    "store_driver", "be \"sqlite\" or \"postgresql\"", err));
    LV_TRY(key_must(!lv_config_store_is_pg(cfg) || cfg->store_conninfo[0],
                    "store_conninfo", "be set for the postgresql driver", err));
    LV_TRY(check_range(cfg->listen_port, 0, 65535, "listen_port", err));
    LV_TRY(check_range(cfg->tls_port, 0, 65535, "tls_port", err));
    LV_TRY(key_must(!cfg->tls_cert_file[0] == !cfg->tls_key_file[0],
                    "tls_key_file", "be set exactly when tls_cert_file is",
                    err));
    LV_TRY(check_range(cfg->threads, 0, 1024, "threads", err));
    LV_TRY(check_range(cfg->ocsp_validity_hours, 1, 168, "ocsp_validity_hours",
                       err));
    LV_TRY(key_must(cfg->ocsp_refresh_interval >= 1, "ocsp_refresh_interval",
                    "be at least 1 second", err));
    LV_TRY(check_range(cfg->ocsp_cache_mib, 0, 1 << 20, "ocsp_cache_mib", err));
    LV_TRY(check_range(cfg->crl_interval_hours, 1, 168, "crl_interval_hours",
                       err));
    LV_TRY(
        check_range(cfg->crl_check_seconds, 1, 3600, "crl_check_seconds", err));
    LV_TRY(validate_auth(cfg, err));
    LV_TRY(validate_http(cfg, err));
    LV_TRY(validate_notify(cfg, err));
    LV_TRY(validate_keystore(cfg, err));
    LV_TRY(validate_tsa(cfg, err));
    LV_TRY(check_range(cfg->audit_seal_minutes, 0, 1440, "audit_seal_minutes",
                       err));
    LV_TRY(check_range(cfg->purge_interval_seconds, 1, 86400,
                       "purge_interval_seconds", err));
    LV_TRY(check_range(cfg->sign_keep_hours, 0, 8760, "sign_keep_hours", err));
    /* pades/ reads at most PADES_MAX_DOC (32 MiB) */
    LV_TRY(check_range(cfg->sign_max_pdf_kib, 1, 32 * 1024, "sign_max_pdf_kib",
                       err));
    LV_TRY(check_range(cfg->sign_max_tx_kib, 1, 65535, "sign_max_tx_kib", err));
    LV_TRY(check_range(cfg->audit_seal_entries, 0, 1000000,
                       "audit_seal_entries", err));
    return 0;
}

/* ---- JSON <-> struct --------------------------------------------------- */

static const cf_field *cf_find(const char *key)
{
    for (size_t i = 0; i < CF_COUNT; i++)
        if (strcmp(cf_fields[i].key, key) == 0)
            return &cf_fields[i];
    return NULL;
}

static int apply_str(lv_config *cfg, const cf_field *f, const json_t *v,
                     lv_err *err)
{
    if (!json_is_string(v))
        return lv_fail(err, LV_EINVAL, "configuration key %s must be a string",
                       f->key);
    if (json_string_length(v) >= f->size ||
        strlen(json_string_value(v)) != json_string_length(v))
        return lv_fail(err, LV_EINVAL,
                       "configuration key %s is too long (at most %zu bytes)",
                       f->key, f->size - 1);
    set_str(cf_str(cfg, f), f->size, json_string_value(v));
    return 0;
}

static int apply_int(lv_config *cfg, const cf_field *f, const json_t *v,
                     lv_err *err)
{
    if (!json_is_integer(v))
        return lv_fail(err, LV_EINVAL,
                       "configuration key %s must be an integer", f->key);
    json_int_t i = json_integer_value(v);
    if (i < 0 || i > 65535)
        return lv_fail(err, LV_EINVAL, "configuration key %s is out of range",
                       f->key);
    *cf_int(cfg, f) = (int)i;
    return 0;
}

/* JSON true/false; 0 and 1 are accepted for hand-written files. */
static int apply_bool(lv_config *cfg, const cf_field *f, const json_t *v,
                      lv_err *err)
{
    json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;
    if (!json_is_boolean(v) && i != 0 && i != 1)
        return lv_fail(err, LV_EINVAL, "configuration key %s must be a boolean",
                       f->key);
    *cf_int(cfg, f) = json_is_boolean(v) ? json_is_true(v) : (int)i;
    return 0;
}

static int apply_field(lv_config *cfg, const cf_field *f, const json_t *v,
                       lv_err *err)
{
    switch (f->type) {
    case CF_STR:
        return apply_str(cfg, f, v, err);
    case CF_INT:
        return apply_int(cfg, f, v, err);
    case CF_BOOL:
        return apply_bool(cfg, f, v, err);
    }
    return lv_fail(err, LV_EINTERNAL, "bad configuration table");
}

/* Issue 17 item 1's "store": {"driver": ..., "conninfo": ...}: the same
 * fields as the flat keys store_driver and store_conninfo (the table is
 * flat; lv_config_save writes the flat keys). */
static int apply_store(lv_config *cfg, const json_t *v, lv_err *err)
{
    if (!json_is_object(v))
        return lv_fail(err, LV_EINVAL,
                       "configuration key store must be an object");
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m)
    {
        char flat[32];
        snprintf(flat, sizeof flat, "store_%s", key);
        const cf_field *f =
            strcmp(key, "driver") == 0 || strcmp(key, "conninfo") == 0
                ? cf_find(flat)
                : NULL;
        if (!f)
            return lv_fail(err, LV_EINVAL, "unknown configuration key store.%s",
                           key);
        LV_TRY(apply_field(cfg, f, m, err));
    }
    return 0;
}

/* Applied to a copy and validated as a whole, so that a failure leaves the
 * caller's configuration untouched. */
int lv_config_apply_json(lv_config *cfg, const json_t *json, lv_err *err)
{
    if (!json_is_object(json))
        return lv_fail(err, LV_EINVAL, "configuration must be a JSON object");
    lv_config next = *cfg;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)json, key, v)
    {
        const cf_field *f = cf_find(key);
        /* issue 11: the hard lock after a few failures was a weapon; its
         * key is retired, never given a new meaning: an install written
         * before still starts, and the operator is told once per load. */
        if (!f && strcmp(key, "lockout_threshold") == 0) {
            lv_log(LV_LOG_WARN,
                   "configuration key lockout_threshold is retired and "
                   "ignored: failures are throttled now and "
                   "lockout_failures_24h sets the citizens' lock; remove it");
            continue;
        }
        if (!f && strcmp(key, "store") == 0) {
            LV_TRY(apply_store(&next, v, err));
            continue;
        }
        if (!f)
            return lv_fail(err, LV_EINVAL, "unknown configuration key %s", key);
        LV_TRY(apply_field(&next, f, v, err));
    }
    LV_TRY(config_validate(&next, err));
    *cfg = next;
    return 0;
}

int lv_config_load(lv_config *cfg, const char *dir, lv_err *err)
{
    char path[1024];
    json_t *j = NULL;
    lv_config_defaults(cfg, dir);
    if (lv_path_join(path, sizeof path, dir, CONFIG_FILE) < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    int rc = lv_json_load_file(path, &j, err);
    if (rc == LV_ENOTFOUND)
        return 0; /* no file: a demo runs on the defaults */
    if (rc < 0)
        return rc;
    rc = lv_config_apply_json(cfg, j, err);
    json_decref(j);
    if (rc < 0 && err) {
        /* Name the file after the message; truncation then only cuts the
         * path, never the key the message names. */
        size_t used = strlen(err->msg);
        if (snprintf(err->msg + used, sizeof err->msg - used, " (in %s)",
                     path) < 0)
            err->msg[used] = '\0';
    }
    return rc;
}

static json_t *config_to_json(const lv_config *cfg)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < CF_COUNT; i++) {
        const cf_field *f = &cf_fields[i];
        lv_config *c = (lv_config *)cfg;
        json_t *v = f->type == CF_STR   ? json_string(cf_str(c, f))
                    : f->type == CF_INT ? json_integer(*cf_int(c, f))
                                        : json_boolean(*cf_int(c, f));
        if (json_object_set_new(o, f->key, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

int lv_config_save(const lv_config *cfg, lv_err *err)
{
    char path[1024];
    lv_config valid = *cfg;
    /* Never write a file that lv_config_load would then refuse. */
    LV_TRY(config_validate(&valid, err));
    if (lv_path_join(path, sizeof path, cfg->dir, CONFIG_FILE) < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    json_t *o = config_to_json(&valid);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    if (!text)
        return lv_fail(err, LV_ENOMEM, "cannot serialize configuration");
    lv_buf b = {0};
    int rc = lv_buf_appendf(&b, "%s\n", text);
    free(text);
    if (rc == 0)
        rc = lv_file_write(path, b.data, b.len, CONFIG_MODE, err);
    else
        rc = lv_fail(err, LV_ENOMEM, "cannot serialize configuration");
    lv_buf_free(&b);
    return rc;
}

int lv_config_store_is_pg(const lv_config *cfg)
{
    return strcmp(cfg->store_driver, "postgresql") == 0;
}

int lv_config_store_location(const lv_config *cfg, char *out, size_t cap)
{
    const char *ci = cfg->store_conninfo;
    if (!lv_config_store_is_pg(cfg))
        return lv_path_join(out, cap, cfg->dir, "llave.db");
    int url = strncmp(ci, "postgres://", 11) == 0 ||
              strncmp(ci, "postgresql://", 13) == 0;
    int n = snprintf(out, cap, "%s%s", url ? "" : LV_STORE_PG_PREFIX, ci);
    return n >= 0 && (size_t)n < cap ? 0 : LV_EINVAL;
}

/* ---- rules for the certificates a configuration produces (issue 13) ---- */

int lv_ca_role_issues(const char *role, int include_root)
{
    return strcmp(role, "qualified") == 0 || strcmp(role, "standard") == 0 ||
           strcmp(role, "tls") == 0 ||
           (include_root && strcmp(role, "root") == 0);
}

const char *lv_status_url(const lv_config *cfg)
{
    return cfg->status_url[0] ? cfg->status_url : cfg->public_url;
}

const char *lv_documents_url(const lv_config *cfg)
{
    return cfg->documents_url[0] ? cfg->documents_url : cfg->public_url;
}

/* Go's encoding/asn1 (crypto/x509, x/crypto/ocsp and every tool built on
 * them) and other parsers that hold an arc in a 32-bit int refuse any
 * component above 2^31-1 ("base 128 integer too large"); X.667's
 * 2.25.<uuid> arcs are legal and unreadable to them. */
#define OID_COMPONENT_MAX 2147483647ULL

static int oid_components_fit(const char *oid)
{
    for (const char *p = oid; *p;) {
        unsigned long long v = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            v = v * 10 + (unsigned long long)(*p - '0');
            if (v > OID_COMPONENT_MAX)
                return 0;
        }
        if (*p == '.')
            p++;
    }
    return 1;
}

static int under_arc(const char *oid, const char *arc)
{
    size_t n = strlen(arc);
    return strncmp(oid, arc, n) == 0 && (oid[n] == '\0' || oid[n] == '.');
}

static void finding(int production, int *count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finding(int production, int *count, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lv_log(production ? LV_LOG_ERROR : LV_LOG_WARN, "configuration: %s", msg);
    (*count)++;
}

int lv_config_check_rules(const lv_config *cfg, int production, lv_err *err)
{
    int n = 0;
    const char *docs = lv_documents_url(cfg), *status = lv_status_url(cfg);
    if (strncmp(docs, "https://", 8) != 0)
        finding(production, &n,
                "documents_url %s%s is not https: ETSI EN 319 412-5 §4.3.4 "
                "wants the PDS (QcPDS) reachable over https",
                docs, cfg->documents_url[0] ? "" : " (from public_url)");
    if (strncmp(status, "http://", 7) != 0)
        finding(production, &n,
                "status_url %s%s is not http: EN 319 412-2 GEN-4.3.11-4 "
                "and the CA/B Forum BR §7.1.2.7.7 / §7.1.2.11.2 want http CRL "
                "and AIA links (a relying party cannot fetch them over TLS "
                "before it can check the server's status)",
                status, cfg->status_url[0] ? "" : " (from public_url)");
    if (!oid_components_fit(cfg->oid_arc))
        finding(production, &n,
                "oid_arc %s has a component above 2^31-1: Go's crypto/x509 "
                "and x/crypto/ocsp (zlint, Kubernetes, Caddy, Terraform) "
                "cannot parse such certificates or OCSP responses",
                cfg->oid_arc);
    if (under_arc(cfg->oid_arc, LV_OID_ARC_PLACEHOLDER))
        finding(production, &n,
                "oid_arc %s is RFC 5612's documentation arc, a placeholder: "
                "set oid_arc to the provider's own registered arc (IANA "
                "private enterprise number or national arc) before a "
                "production ceremony",
                cfg->oid_arc);
    if (production && n > 0)
        return lv_fail(err, LV_EINVAL,
                       "%d configuration finding(s) above break the rules a "
                       "production CA must follow (docs/PROFILES.md); fix "
                       "llave.json or use --demo",
                       n);
    return 0;
}
