/* The audit trail for auditors (R9.2: "readable only by authorized
 * roles"; issue 8):
 *
 *   GET /api/v1/audit?from=SEQ&limit=N[&format=jsonl]
 *
 * Auditor role only (the route declares LV_ROLE_AUDITOR: every other role
 * gets 403, audited as auth.denied).  The lines are those of
 * `llave audit export`: entries with both hashes, each seal after the
 * entry it covers.  Default answer: {"items": [...], "next_from": SEQ or
 * null}; format=jsonl answers application/jsonl with the next page in the
 * X-Next-From header. */
#include "audit/audit.h"
#include "http/http_internal.h"

#include <stdlib.h>
#include <string.h>

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 1000

static int query_long(const lv_http_req *req, const char *name, long def,
                      long lo, long hi, long *out)
{
    const char *v = http_req_query(req, name);
    char *end;
    *out = def;
    if (!v)
        return 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < lo || n > hi)
        return LV_EINVAL;
    *out = n;
    return 0;
}

typedef struct page {
    json_t *items; /* JSON array form */
    lv_buf lines;  /* JSON lines form */
} page;

static int add_line(const char *line, void *arg)
{
    page *p = arg;
    if (p->items)
        return json_array_append_new(p->items, json_loads(line, 0, NULL)) == 0
                   ? 0
                   : LV_ENOMEM;
    LV_TRY(lv_buf_append(&p->lines, line, strlen(line)));
    return lv_buf_append(&p->lines, "\n", 1);
}

static int answer(lv_http_resp *resp, page *p, int64_t next)
{
    char hdr[32];
    if (!p->items) {
        LV_TRY(http_resp_bytes(resp, 200, "application/jsonl", p->lines.data,
                               p->lines.len));
        if (next > 0) {
            snprintf(hdr, sizeof hdr, "%lld", (long long)next);
            LV_TRY(http_resp_header(resp, "X-Next-From", hdr));
        }
        return http_resp_header(resp, "Cache-Control", "no-store");
    }
    json_t *o = json_pack("{s:O, s:o}", "items", p->items, "next_from",
                          next > 0 ? json_integer(next) : json_null());
    return http_resp_json_new(resp, 200, o, "no-store");
}

static int audit_get(lv_app *app, const lv_http_req *req, lv_http_resp *resp)
{
    lv_err err = {0};
    long from, limit;
    int64_t next = 0;
    (void)app;
    const char *fmt = http_req_query(req, "format");
    if (query_long(req, "from", 1, 1, INT64_MAX / 2, &from) < 0 ||
        query_long(req, "limit", AUDIT_LIMIT_DEFAULT, 1, AUDIT_LIMIT_MAX,
                   &limit) < 0 ||
        (fmt && strcmp(fmt, "json") != 0 && strcmp(fmt, "jsonl") != 0))
        return http_resp_error(resp, LV_EINVAL,
                               "from must be a sequence number >= 1, limit "
                               "1..%d, format json or jsonl",
                               AUDIT_LIMIT_MAX);
    page p = {0};
    if (!fmt || strcmp(fmt, "json") == 0)
        p.items = json_array();
    int rc = audit_export(req->st, from, limit, add_line, &p, &next, &err);
    if (rc == 0)
        rc = answer(resp, &p, next);
    else
        rc = http_resp_err(resp, &err);
    json_decref(p.items);
    lv_buf_free(&p.lines);
    return rc;
}

const lv_http_route http_audit_routes[] = {
    {"GET", "/api/v1/audit", audit_get, 0, LV_WORK_API,
     HTTP_SESSION(LV_ROLE_AUDITOR), HTTP_NO_BODY},
    {0},
};
