/* Error recording and the stable names/statuses the HTTP layer exposes. */
#include "core/core.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

static void err_vset(lv_err *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void err_vset(lv_err *err, int code, const char *fmt, va_list ap)
{
    err->code = code;
    err->retry_after = 0;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int lv_fail_record(lv_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err_vset(err, code, fmt, ap);
        va_end(ap);
    }
    return code;
}

int lv_fail_retry(lv_err *err, int code, int retry_after, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err_vset(err, code, fmt, ap);
        va_end(ap);
        err->retry_after = retry_after > 0 ? retry_after : 1;
    }
    return code;
}

int lv_fail_ssl_record(lv_err *err, int code, const char *fmt, ...)
{
    /* Take the oldest error (the root cause) and drop the rest so a later,
     * unrelated failure does not report stale reasons. */
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, code, fmt, ap);
    va_end(ap);
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    size_t used = strlen(err->msg);
    if (used < sizeof err->msg)
        snprintf(err->msg + used, sizeof err->msg - used, ": %s",
                 reason ? reason : "unknown OpenSSL error");
    return code;
}

/* The names are part of the HTTP API ({"error": name}); never rename. */
static const struct {
    int code;
    const char *name;
    int status;
} err_table[] = {
    {LV_OK, "ok", 200},
    {LV_EINVAL, "invalid_request", 400},
    {LV_ENOTFOUND, "not_found", 404},
    {LV_EEXISTS, "conflict", 409},
    {LV_EPERM, "forbidden", 403},
    {LV_EAUTH, "unauthorized", 401},
    {LV_ESTATE, "invalid_state", 409},
    {LV_ECRYPTO, "crypto_error", 500},
    {LV_ESTORE, "store_error", 500},
    {LV_EIO, "io_error", 500},
    {LV_ENOMEM, "out_of_memory", 500},
    {LV_ESEALED, "sealed", 503},
    {LV_ETOOBIG, "too_large", 413},
    {LV_ELIMIT, "too_many_requests", 429},
    {LV_EBUSY, "busy", 503},
    {LV_EINTERNAL, "internal_error", 500},
};

static size_t err_index(int code)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == code)
            return i;
    return sizeof err_table / sizeof err_table[0] - 1; /* internal_error */
}

const char *lv_err_name(int code)
{
    return err_table[err_index(code)].name;
}

int lv_err_http_status(int code)
{
    return err_table[err_index(code)].status;
}
