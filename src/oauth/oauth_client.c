/* Registered OAuth clients (issue 14 item 3): relying applications of
 * sign/ with redirect URIs.  The secret is sign/'s: 256 random bits shown
 * once, stored as SHA-256 (a secret of full entropy gains nothing from a
 * slow hash, and every token request would pay for one). */
#include "oauth/oauth_internal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* ---- shared helpers ----------------------------------------------------- */

void oauth_audit_refusal(lv_store *st, const char *actor, const char *event,
                         const char *object, const char *error,
                         const lv_err *reason)
{
    json_t *d =
        json_pack("{s:s, s:s}", "error", error ? error : "refused", "reason",
                  reason && reason->msg[0] ? reason->msg : "");
    if (store_in_transaction(st))
        store_rollback(st);
    audit_log_standalone(st, actor, event, object, LV_AUDIT_FAILURE, d, NULL);
    json_decref(d);
}

void oauth_client_actor(const char *client_id, char out[96])
{
    snprintf(out, 96, "app:%s", client_id);
}

/* ---- redirect URIs ------------------------------------------------------ */

static int loopback(const char *host_start)
{
    static const char *const hosts[] = {"127.0.0.1", "[::1]", "localhost"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(hosts[i]);
        char end = host_start[n];
        if (strncmp(host_start, hosts[i], n) == 0 &&
            (end == '\0' || end == ':' || end == '/' || end == '?'))
            return 1;
    }
    return 0;
}

int oauth_redirect_uri_ok(const char *uri)
{
    size_t n = uri ? strlen(uri) : 0;
    if (n < 10 || n > LV_OAUTH_URI_MAX || strchr(uri, '#'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)uri[i] <= 0x20 || (unsigned char)uri[i] >= 0x7f ||
            strchr("\"<>\\^`{|}", uri[i]))
            return 0;
    if (strncmp(uri, "https://", 8) == 0)
        return uri[8] != '\0' && uri[8] != '/';
    return strncmp(uri, "http://", 7) == 0 && loopback(uri + 7);
}

static int uri_json(const char *uri, void *ctx)
{
    return json_array_append_new(ctx, json_string(uri)) == 0 ? 0 : LV_ENOMEM;
}

int oauth_client_uris_json(lv_store *st, const char *client_id, json_t **out,
                           lv_err *err)
{
    json_t *a = json_array();
    if (!a)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = store_oauth_uri_foreach(st, client_id, uri_json, a, err);
    if (rc < 0) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return 0;
}

static int uri_copy(const char *uri, void *ctx)
{
    oauth_uris *u = ctx;
    if (u->n == OAUTH_URIS_MAX)
        return 0;
    snprintf(u->uri[u->n++], sizeof u->uri[0], "%s", uri);
    return 0;
}

int oauth_uris_load(lv_store *st, const char *client_id, oauth_uris *out,
                    lv_err *err)
{
    out->n = 0;
    return store_oauth_uri_foreach(st, client_id, uri_copy, out, err);
}

int oauth_uris_has(const oauth_uris *u, const char *uri)
{
    for (size_t i = 0; uri && i < u->n; i++)
        if (strcmp(u->uri[i], uri) == 0) /* exact: RFC 6749 §3.1.2.3 */
            return 1;
    return 0;
}

/* ---- registration ------------------------------------------------------- */

static int check_uris(const char *const *uris, size_t n, lv_err *err)
{
    if (n == 0 || n > OAUTH_URIS_MAX)
        return lv_fail(err, LV_EINVAL, "1 to %d redirect URIs", OAUTH_URIS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!oauth_redirect_uri_ok(uris[i]))
            return lv_fail(err, LV_EINVAL,
                           "redirect URI %zu: an absolute https URI (http "
                           "only for 127.0.0.1, [::1] or localhost) without "
                           "a fragment, at most %d characters",
                           i + 1, LV_OAUTH_URI_MAX);
        for (size_t j = 0; j < i; j++)
            if (strcmp(uris[i], uris[j]) == 0)
                return lv_fail(err, LV_EINVAL, "redirect URI %zu repeated",
                               i + 1);
    }
    return 0;
}

static int new_app(const char *name, const char *actor, lv_sign_app_rec *rec,
                   lv_sign_app_secret *out, lv_err *err)
{
    char id[17];
    LV_TRY(lv_random_hex(8, id, err));
    LV_TRY(lv_random_hex(LV_SIGN_SECRET_LEN / 2, out->secret, err));
    snprintf(out->client_id, sizeof out->client_id, "app-%s", id);
    snprintf(rec->client_id, sizeof rec->client_id, "%s", out->client_id);
    snprintf(rec->name, sizeof rec->name, "%s", name);
    snprintf(rec->created_by, sizeof rec->created_by, "%s", actor);
    rec->enabled = 1;
    rec->created_at = lv_now();
    return lv_sha256_hex(out->secret, strlen(out->secret), rec->secret_hash);
}

static int insert_client(lv_store *st, const lv_sign_app_rec *rec,
                         const char *const *uris, size_t n, const char *actor,
                         lv_err *err)
{
    json_t *list = json_array();
    LV_TRY(store_begin(st, err));
    int rc = store_sign_app_insert(st, rec, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = store_oauth_uri_add(st, rec->client_id, uris[i], rec->created_at,
                                 err);
        json_array_append_new(list, json_string(uris[i]));
    }
    if (rc == 0)
        rc = sign_audit(
            st, actor, "app.add", rec->client_id,
            json_pack("{s:s, s:O}", "name", rec->name, "redirect_uris", list),
            err);
    json_decref(list);
    return store_end(st, rc, err);
}

int oauth_client_add(lv_store *st, const char *name, const char *const *uris,
                     size_t n, const char *actor, lv_sign_app_secret *out,
                     lv_err *err)
{
    lv_sign_app_rec rec = {0};
    memset(out, 0, sizeof *out);
    if (!sign_app_name_ok(name))
        return lv_fail(err, LV_EINVAL,
                       "application name: 1 to 128 printable characters");
    LV_TRY(check_uris(uris, n, err));
    int rc = new_app(name, actor, &rec, out, err);
    if (rc == 0)
        rc = insert_client(st, &rec, uris, n, actor, err);
    if (rc < 0)
        OPENSSL_cleanse(out, sizeof *out);
    return rc;
}

/* ---- redirects ---------------------------------------------------------- */

static void url_escape(lv_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || strchr("-._~", c)) {
            lv_buf_append(b, s, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            lv_buf_append(b, e, 3);
        }
    }
}

int oauth_location(char *out, size_t cap, const char *uri, const char *params,
                   const char *state, lv_err *err)
{
    lv_buf b = {0};
    lv_buf_appendf(&b, "%s%c%s", uri, strchr(uri, '?') ? '&' : '?', params);
    if (state && state[0]) {
        lv_buf_appendf(&b, "&state=");
        url_escape(&b, state);
    }
    int fits = !b.error && b.len < cap;
    if (fits) {
        memcpy(out, b.data, b.len);
        out[b.len] = '\0';
    }
    lv_buf_free_secret(&b);
    return fits ? 0 : lv_fail(err, LV_ETOOBIG, "redirect too long");
}
