/* Relying applications of the transaction API (R1.3, R5.6).  A client
 * secret is 256 random bits shown once; only its SHA-256 is stored: the
 * secret has full entropy, so a slow password hash would add latency to
 * every API call and no security. */
#include "sign/sign_internal.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

int sign_app_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return 0;
    return 1;
}

int sign_app_add(lv_store *st, const char *name, const char *actor,
                 lv_sign_app_secret *out, lv_err *err)
{
    lv_sign_app_rec rec = {0};
    char id[17];
    memset(out, 0, sizeof *out);
    if (!sign_app_name_ok(name))
        return lv_fail(err, LV_EINVAL,
                       "application name: 1 to 128 printable characters");
    LV_TRY(lv_random_hex(8, id, err));
    LV_TRY(lv_random_hex(LV_SIGN_SECRET_LEN / 2, out->secret, err));
    snprintf(out->client_id, sizeof out->client_id, "app-%s", id);
    snprintf(rec.client_id, sizeof rec.client_id, "%s", out->client_id);
    snprintf(rec.name, sizeof rec.name, "%s", name);
    snprintf(rec.created_by, sizeof rec.created_by, "%s", actor);
    rec.enabled = 1;
    rec.created_at = lv_now();
    int rc = lv_sha256_hex(out->secret, strlen(out->secret), rec.secret_hash);
    if (rc == 0)
        rc = store_begin(st, err);
    if (rc == 0) {
        rc = store_sign_app_insert(st, &rec, err);
        if (rc == 0)
            rc = sign_audit(st, actor, "app.add", rec.client_id,
                            json_pack("{s:s}", "name", name), err);
        rc = store_end(st, rc, err);
    }
    if (rc < 0)
        OPENSSL_cleanse(out, sizeof *out);
    return rc;
}

int sign_app_check(lv_store *st, const char *client_id, const char *secret,
                   lv_sign_app *out, lv_err *err)
{
    char hash[65];
    lv_err ignored = {0};
    lv_sign_app_rec rec = {0};
    memset(out, 0, sizeof *out);
    if (!client_id || !secret || strlen(client_id) >= sizeof out->client_id)
        return lv_fail(err, LV_EAUTH, "unknown application or wrong secret");
    int found = store_sign_app_get(st, client_id, &rec, &ignored) == 0;
    if (lv_sha256_hex(secret, strlen(secret), hash) < 0)
        return lv_fail(err, LV_ECRYPTO, "cannot hash the secret");
    /* the same work whether or not the application exists */
    int match = found && CRYPTO_memcmp(hash, rec.secret_hash, 64) == 0;
    if (!match || !rec.enabled)
        return lv_fail(err, LV_EAUTH, "unknown application or wrong secret");
    snprintf(out->client_id, sizeof out->client_id, "%s", rec.client_id);
    snprintf(out->name, sizeof out->name, "%s", rec.name);
    return 0;
}

void sign_app_display_name(lv_store *st, const char *client_id, char out[129])
{
    lv_sign_app_rec app;
    lv_err ignored = {0};
    if (store_sign_app_get(st, client_id, &app, &ignored) < 0)
        snprintf(out, 129, "%s", client_id);
    else
        snprintf(out, 129, "%s", app.name);
}

static int app_json(const lv_sign_app_rec *r, void *ctx)
{
    char when[32];
    lv_time_iso(r->created_at, when);
    json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:s}", "client_id",
                          r->client_id, "name", r->name, "enabled", r->enabled,
                          "created_at", when, "created_by", r->created_by);
    return o && json_array_append_new(ctx, o) == 0 ? 0 : LV_ENOMEM;
}

int sign_app_list_json(lv_store *st, json_t **out, lv_err *err)
{
    json_t *a = json_array();
    if (!a)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = store_sign_app_foreach(st, app_json, a, err);
    if (rc < 0) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return 0;
}
