/* libFuzzer target: the one reader of JSON request bodies (http_body_parse,
 * src/http/http_body.c), which every JSON POST route of llaved runs on
 * anonymous bytes.  The schema below has every kind of field the route
 * tables use: required and optional members, string-or-null, integers,
 * booleans, a length in characters and one in bytes, an object with
 * members, an array of strings and an array of objects.  Invariants checked
 * on every input:
 *   - the answer is 0 or LV_EINVAL, with an object exactly when 0;
 *   - a refusal carries a message of printable ASCII only (it is quoted back
 *     to the client);
 *   - an accepted object holds only declared members, every required one,
 *     each of a declared type, strings within their limits and free of NUL;
 *   - what was accepted, written out again (json_dumps), is accepted again,
 *     as is every input against the schema without fields being accepted
 *     only when it is empty or {}.
 * Seeds: fuzz/corpus/fuzz_json_body/ (bodies of the API and broken ones). */
#include "http/http_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const http_body_field ITEM[] = {
    HTTP_FIELD_REQ("id", HTTP_STR),
    {"name", .types = HTTP_STR, .flags = HTTP_CHARS, .max_len = 8},
    {0}};

static const http_body_field DOC[] = {
    HTTP_FIELD_REQ("type", HTTP_STR),
    HTTP_FIELD("expiry", HTTP_STR | HTTP_NULL),
    {0}};

static const http_body_field SCHEMA[] = {
    HTTP_FIELD_REQ("owner", HTTP_STR),
    HTTP_FIELD("comment", HTTP_STR | HTTP_NULL),
    HTTP_FIELD("count", HTTP_INT),
    HTTP_FIELD("flag", HTTP_BOOL),
    HTTP_FIELD("v1", HTTP_BOOL | HTTP_STR),
    {"title", .types = HTTP_STR, .flags = HTTP_CHARS, .max_len = 4},
    {"code", .types = HTTP_STR, .max_len = 4},
    {"document", .types = HTTP_OBJ, .members = DOC},
    {"hashes", .types = HTTP_ARR, .items = HTTP_STR},
    {"documents", .types = HTTP_ARR, .items = HTTP_OBJ, .members = ITEM},
    {0}};

static unsigned type_of(const json_t *v)
{
    return json_is_string(v)    ? HTTP_STR
           : json_is_integer(v) ? HTTP_INT
           : json_is_boolean(v) ? HTTP_BOOL
           : json_is_array(v)   ? HTTP_ARR
           : json_is_object(v)  ? HTTP_OBJ
           : json_is_null(v)    ? HTTP_NULL
                                : 0;
}

static void check_object(const json_t *o, const http_body_field *members);

static void check_value(const json_t *v, const http_body_field *f,
                        unsigned types)
{
    if (!(type_of(v) & types))
        abort();
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = f->flags & HTTP_CHARS ? lv_utf8_chars(s) : strlen(s);
        if (strlen(s) != json_string_length(v) ||
            (f->max_len && n > f->max_len))
            abort();
    }
    if (json_is_object(v))
        check_object(v, f->members);
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++)
        check_value(json_array_get(v, i), f, f->items);
}

static void check_object(const json_t *o, const http_body_field *members)
{
    size_t declared = 0;
    for (const http_body_field *f = members; f && f->name; f++) {
        json_t *v = json_object_get(o, f->name);
        if (!v && (f->flags & HTTP_REQUIRED))
            abort();
        if (v) {
            declared++;
            check_value(v, f, f->types);
        }
    }
    if (declared != json_object_size(o)) /* an undeclared member */
        abort();
}

static void check_refusal(const lv_err *err, const json_t *out)
{
    if (out || err->code != LV_EINVAL || !err->msg[0])
        abort();
    for (const char *m = err->msg; *m; m++)
        if ((unsigned char)*m < 0x20 || (unsigned char)*m >= 0x7f)
            abort();
}

static void check_again(const json_t *out)
{
    char *text = json_dumps(out, JSON_COMPACT);
    json_t *again = NULL;
    lv_err err = {0};
    if (!text || http_body_parse(text, strlen(text), SCHEMA, &again, &err))
        abort();
    json_decref(again);
    free(text);
}

static void check_no_fields(const uint8_t *data, size_t size)
{
    json_t *out = NULL;
    lv_err err = {0};
    if (http_body_parse(data, size, http_body_none, &out, &err) == 0) {
        if (json_object_size(out) != 0)
            abort();
        json_decref(out);
    } else {
        check_refusal(&err, out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *out = NULL;
    lv_err err = {0};
    int rc = http_body_parse(data, size, SCHEMA, &out, &err);
    if (rc == 0) {
        if (!json_is_object(out))
            abort();
        check_object(out, SCHEMA);
        check_again(out);
        json_decref(out);
    } else {
        check_refusal(&err, out);
    }
    check_no_fields(data, size);
    return 0;
}
