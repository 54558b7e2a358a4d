/* The one reader of JSON request bodies (issue 11 item 7, issue 12 item 7).
 *
 * A handler declares its body as data (a table of http_body_field, see
 * http_internal.h); http_body_parse checks the bytes against it and either
 * hands back the object or names the first fault.  Nothing here knows what a
 * field means: rules about values (a DNI's check letter, a base64 digest)
 * stay with the component that owns them.  What is refused, and why:
 *
 *   - malformed JSON: RFC 8259 §2 grammar, one value, nothing after it;
 *   - text that is not UTF-8 (RFC 8259 §8.1) and a \u0000 escape: jansson
 *     refuses both unless told otherwise (JSON_ALLOW_NUL), so a string never
 *     ends early once C code reads it;
 *   - a repeated member name: RFC 8259 §4 leaves its meaning to the reader,
 *     and two readers that disagree are a smuggling channel;
 *   - a top level that is not an object, a missing required member, a value
 *     of another type than declared, a string over its length limit;
 *   - any member the schema does not declare, at every level: a misspelt
 *     optional field must not be silently ignored.
 *
 * One leniency, declared per field (HTTP_TEXT): CSC v1 clients send
 * booleans and numbers as strings, and those are read as the values. */
#include "http/http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN 160 /* "documents[99].title" and the like */
#define ECHO_MAX 64  /* bytes of client text quoted in a message */

const http_body_field http_body_none[] = {{0}};

static const char *const TYPE_NAMES[] = {
    "a string", "an integer", "true or false", "an array", "an object", "null",
};

/* Client text fit to quote in an error: printable ASCII, '?' for any other
 * byte, at most ECHO_MAX bytes; a message never carries control characters
 * or half a UTF-8 sequence. */
static void echo(const char *in, char out[ECHO_MAX + 1])
{
    size_t i = 0;
    for (; i < ECHO_MAX && in[i]; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = in[i];
        if (c < 0x20 || c >= 0x7f)
            out[i] = '?';
    }
    out[i] = '\0';
}

static unsigned type_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return HTTP_STR;
    case JSON_INTEGER:
        return HTTP_INT;
    case JSON_TRUE:
    case JSON_FALSE:
        return HTTP_BOOL;
    case JSON_ARRAY:
        return HTTP_ARR;
    case JSON_OBJECT:
        return HTTP_OBJ;
    case JSON_NULL:
        return HTTP_NULL;
    default: /* JSON_REAL: no field of the API takes a fraction */
        return 0;
    }
}

/* "a string or null", "an integer" ... */
static void types_text(unsigned types, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof TYPE_NAMES / sizeof TYPE_NAMES[0]; i++) {
        if ((types & (1u << i)) && used < cap)
            used += (size_t)snprintf(out + used, cap - used, "%s%s",
                                     used ? " or " : "", TYPE_NAMES[i]);
    }
}

static void path_member(char out[PATH_LEN], const char *parent, const char *key)
{
    char k[ECHO_MAX + 1];
    echo(key, k);
    snprintf(out, PATH_LEN, "%s%s%s", parent, parent[0] ? "." : "", k);
}

static int check_object(json_t *obj, const http_body_field *members,
                        const char *path, lv_err *err);

static int check_value(json_t *v, const http_body_field *f, const char *path,
                       lv_err *err);

static int check_string(const json_t *v, const http_body_field *f,
                        const char *path, lv_err *err)
{
    int chars = (f->flags & HTTP_CHARS) != 0;
    size_t n =
        chars ? lv_utf8_chars(json_string_value(v)) : json_string_length(v);
    if (f->max_len == 0 || n <= f->max_len)
        return 0;
    return lv_fail(err, LV_EINVAL, "field '%s' is longer than %zu %s", path,
                   f->max_len, chars ? "characters" : "bytes");
}

/* Every element against the field's item types (and members). */
static int check_items(json_t *a, const http_body_field *f, const char *path,
                       lv_err *err)
{
    http_body_field each = *f;
    each.types = f->items;
    each.flags = f->flags & HTTP_CHARS;
    for (size_t i = 0; i < json_array_size(a); i++) {
        char p[PATH_LEN];
        snprintf(p, sizeof p, "%s[%zu]", path, i);
        LV_TRY(check_value(json_array_get(a, i), &each, p, err));
    }
    return 0;
}

static int check_value(json_t *v, const http_body_field *f, const char *path,
                       lv_err *err)
{
    char want[96];
    unsigned t = type_of(v);
    if (!(t & f->types)) {
        types_text(f->types, want, sizeof want);
        return lv_fail(err, LV_EINVAL, "field '%s' must be %s", path, want);
    }
    if (t == HTTP_STR)
        return check_string(v, f, path, err);
    if (t == HTTP_ARR)
        return check_items(v, f, path, err);
    if (t == HTTP_OBJ)
        return check_object(v, f->members, path, err);
    return 0;
}

static const http_body_field *field_named(const http_body_field *members,
                                          const char *key)
{
    for (; members && members->name; members++) {
        if (strcmp(members->name, key) == 0)
            return members;
    }
    return NULL;
}

/* The boolean or integer a CSC v1 string stands for (HTTP_TEXT): "true",
 * "false", or up to 9 digits (sign/ bounds the numbers further); NULL for
 * any other text. */
static json_t *text_value(const char *s, unsigned types)
{
    size_t n = strlen(s);
    if ((types & HTTP_BOOL) &&
        (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
        return json_boolean(s[0] == 't');
    if ((types & HTTP_INT) && n > 0 && n < 10 && strspn(s, "0123456789") == n)
        return json_integer(strtol(s, NULL, 10));
    return NULL;
}

/* An HTTP_TEXT member given as a string is replaced by its value. */
static int read_text(json_t *obj, const http_body_field *f, const char *path,
                     lv_err *err)
{
    json_t *v = json_object_get(obj, f->name);
    if (!(f->flags & HTTP_TEXT) || !json_is_string(v) ||
        !(f->types & (HTTP_BOOL | HTTP_INT)))
        return 0;
    json_t *n = text_value(json_string_value(v), f->types);
    if (!n)
        return lv_fail(err, LV_EINVAL, "Invalid parameter %s: %s", path,
                       f->types & HTTP_BOOL ? "true or false" : "a number");
    return json_object_set_new(obj, f->name, n) == 0 ? 0 : LV_ENOMEM;
}

/* Unknown members first: a request that misspells a field is told so,
 * rather than that the field it meant is missing. */
static int check_object(json_t *obj, const http_body_field *members,
                        const char *path, lv_err *err)
{
    char p[PATH_LEN], want[96];
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        path_member(p, path, key);
        if (!field_named(members, key))
            return lv_fail(err, LV_EINVAL, "unknown field '%s'", p);
    }
    for (const http_body_field *f = members; f && f->name; f++) {
        path_member(p, path, f->name);
        v = json_object_get(obj, f->name);
        if (v) {
            LV_TRY(check_value(v, f, p, err));
            LV_TRY(read_text(obj, f, p, err));
        } else if (f->flags & HTTP_REQUIRED) {
            types_text(f->types, want, sizeof want);
            return lv_fail(err, LV_EINVAL, "field '%s' (%s) is required", p,
                           want);
        }
    }
    return 0;
}

int http_body_parse(const void *body, size_t len, const http_body_field *schema,
                    json_t **out, lv_err *err)
{
    json_error_t je;
    char near[ECHO_MAX + 1], want[96];
    *out = NULL;
    /* JSON_DECODE_ANY: RFC 8259 §2 allows any value at the top, so that a
     * string or a number is named as such below, not as malformed */
    json_t *j = len == 0
                    ? json_object()
                    : json_loadb(body, len,
                                 JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!j && len == 0)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    if (!j) {
        echo(je.text, near); /* jansson quotes the bytes it choked on */
        return lv_fail(
            err, LV_EINVAL,
            "the body is not JSON (RFC 8259) at line %d, column %d: %s",
            je.line, je.column, near);
    }
    if (!json_is_object(j)) {
        types_text(type_of(j), want, sizeof want);
        json_decref(j);
        return lv_fail(err, LV_EINVAL,
                       "the request body must be a JSON object, not %s",
                       want[0] ? want : "a number");
    }
    int rc = check_object(j, schema, "", err);
    if (rc < 0) {
        json_decref(j);
        return rc;
    }
    *out = j;
    return 0;
}
