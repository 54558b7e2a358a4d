/* Growable byte buffer.  After any successful append data[len] is '\0', so
 * text built with lv_buf_appendf can be used as a C string. */
#include "core/core.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(lv_buf *b, size_t extra)
{
    if (extra >= SIZE_MAX - b->len)
        return LV_ENOMEM;
    size_t need = b->len + extra + 1; /* + terminating NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    unsigned char *p = realloc(b->data, cap);
    if (!p)
        return LV_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

/* The first failure sticks (lv_buf.error). */
static int buf_failed(lv_buf *b, int rc)
{
    if (b->error == 0)
        b->error = rc;
    return rc;
}

int lv_buf_append(lv_buf *b, const void *data, size_t len)
{
    int rc = buf_reserve(b, len);
    if (rc < 0)
        return buf_failed(b, rc);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int lv_buf_appendf(lv_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return buf_failed(b, LV_EINVAL);
    int rc = buf_reserve(b, (size_t)n);
    if (rc < 0)
        return buf_failed(b, rc);
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void lv_buf_free(lv_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->error = 0;
}

void lv_buf_free_secret(lv_buf *b)
{
    if (b && b->data)
        OPENSSL_cleanse(b->data, b->cap);
    lv_buf_free(b);
}

int lv_strs_add(lv_strs *l, const char *s)
{
    if (l->count == l->cap) { /* doubling: a compromise lists every serial */
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **grown = realloc(l->v, cap * sizeof *grown);
        if (grown == NULL)
            return LV_ENOMEM;
        l->v = grown;
        l->cap = cap;
    }
    if ((l->v[l->count] = strdup(s)) == NULL)
        return LV_ENOMEM;
    l->count++;
    return 0;
}

void lv_strs_free(lv_strs *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->v[i]);
    free(l->v);
    *l = (lv_strs){0};
}
