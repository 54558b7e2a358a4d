/* Building responses.  Handlers fill an lv_http_resp; the server turns it
 * into a libmicrohttpd response (http_server.c). */
#include "http/http_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Header text must not carry CR or LF: a value taken from a request could
 * otherwise inject headers (response splitting). */
static int resp_text_ok(const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n == 0 || n >= cap)
        return 0;
    return strpbrk(s, "\r\n") == NULL;
}

int http_resp_header(lv_http_resp *r, const char *name, const char *value)
{
    if (r->nheaders == LV_HTTP_MAX_HEADERS)
        return LV_ETOOBIG;
    lv_http_header *h = &r->headers[r->nheaders];
    if (!resp_text_ok(name, sizeof h->name) ||
        !resp_text_ok(value, sizeof h->value))
        return LV_EINVAL;
    snprintf(h->name, sizeof h->name, "%s", name);
    snprintf(h->value, sizeof h->value, "%s", value);
    r->nheaders++;
    return 0;
}

static int resp_start(lv_http_resp *r, int status, const char *content_type)
{
    if (status < 100 || status > 599 ||
        !resp_text_ok(content_type, sizeof r->content_type))
        return LV_EINVAL;
    lv_buf_free(&r->body);
    r->body_static = NULL;
    r->body_static_len = 0;
    r->status = status;
    snprintf(r->content_type, sizeof r->content_type, "%s", content_type);
    return 0;
}

int http_resp_bytes(lv_http_resp *r, int status, const char *content_type,
                    const void *data, size_t len)
{
    LV_TRY(resp_start(r, status, content_type));
    int rc = lv_buf_append(&r->body, data, len);
    if (rc < 0)
        r->status = 0;
    return rc;
}

int http_resp_static(lv_http_resp *r, int status, const char *content_type,
                     const void *data, size_t len)
{
    LV_TRY(resp_start(r, status, content_type));
    r->body_static = data;
    r->body_static_len = len;
    return 0;
}

int http_resp_json(lv_http_resp *r, int status, const json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT);
    if (!text)
        return LV_ENOMEM;
    int rc = http_resp_bytes(r, status, "application/json", text, strlen(text));
    free(text);
    return rc;
}

/* jansson refuses strings that are not UTF-8; a message quoting untrusted
 * input might not be, so such bytes become '?'. */
static json_t *resp_message(const char *msg)
{
    json_t *s = json_string(msg);
    if (s)
        return s;
    char clean[LV_ERR_MSG_MAX];
    snprintf(clean, sizeof clean, "%s", msg);
    for (char *p = clean; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
    return json_string(clean);
}

/* The catalogue's words for error name in the language the request names,
 * or NULL (none named, or no text for that name). */
static const char *refusal_text(const lv_http_resp *r, const char *name)
{
    char key[64];
    const char *lang = r->req ? http_lang_named(r->req) : NULL;
    if (!lang)
        return NULL;
    snprintf(key, sizeof key, "api.error.%s", name);
    const char *t = lv_text(lang, key);
    return t == key ? NULL : t;
}

int http_resp_refusal(lv_http_resp *r, int status, const char *name,
                      const char *msg)
{
    json_t *obj = json_object();
    json_t *m = resp_message(msg);
    const char *words = refusal_text(r, name);
    int rc = LV_ENOMEM;
    if (obj && m && json_object_set_new(obj, "error", json_string(name)) == 0 &&
        (words ? json_object_set_new(obj, "message", json_string(words)) == 0 &&
                     json_object_set(obj, "detail", m) == 0
               : json_object_set(obj, "message", m) == 0))
        rc = http_resp_json(r, status, obj);
    json_decref(m);
    json_decref(obj);
    if (rc < 0)
        return rc;
    /* Errors describe one request at one moment: never cache them. */
    r->nheaders = 0;
    LV_TRY(http_resp_header(r, "Cache-Control", "no-store"));
    return words ? http_resp_header(r, "Vary", "Accept-Language, Cookie") : 0;
}

int http_resp_error_status(lv_http_resp *r, int status, int code,
                           const char *msg)
{
    return http_resp_refusal(r, status, lv_err_name(code), msg);
}

int http_resp_error(lv_http_resp *r, int code, const char *fmt, ...)
{
    char msg[LV_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return http_resp_error_status(r, lv_err_http_status(code), code, msg);
}

int http_resp_err(lv_http_resp *r, const lv_err *err)
{
    int code = err->code < 0 ? err->code : LV_EINTERNAL;
    const char *msg = err->msg[0] ? err->msg : lv_err_name(code);
    int rc = http_resp_error_status(r, lv_err_http_status(code), code, msg);
    if (rc == 0 && (code == LV_ELIMIT || code == LV_EBUSY)) {
        char secs[16]; /* RFC 9110 §10.2.3: delay-seconds */
        snprintf(secs, sizeof secs, "%d",
                 err->retry_after > 0 ? err->retry_after : 1);
        rc = http_resp_header(r, "Retry-After", secs);
    }
    return rc;
}

int http_resp_json_new(lv_http_resp *r, int status, json_t *o,
                       const char *cache_control)
{
    if (!o)
        return LV_ENOMEM;
    int rc = http_resp_json(r, status, o);
    json_decref(o);
    LV_TRY(rc);
    return http_resp_header(r, "Cache-Control", cache_control);
}

/* A description that is not UTF-8 (it may quote the client) cannot be a
 * JSON string: the error name still goes out. */
int http_resp_csc_error(lv_http_resp *r, int status, const char *error,
                        const char *desc)
{
    json_t *o =
        json_pack("{s:s, s:s}", "error", error, "error_description", desc);
    if (!o)
        o = json_pack("{s:s, s:s}", "error", error, "error_description",
                      "(not printable)");
    int rc = o ? http_resp_json(r, status, o) : LV_ENOMEM;
    json_decref(o);
    LV_TRY(rc);
    r->nheaders = 0;
    LV_TRY(http_resp_header(r, "Cache-Control", "no-store"));
    if (status == 401)
        return http_resp_header(r, "WWW-Authenticate", "Bearer realm=\"csc\"");
    return 0;
}

int http_defer(lv_http_resp *r, int work)
{
    r->defer = work;
    return 0;
}
