/* Helpers shared by the registration files: ids, strict JSON field access,
 * transactions, refusals and notifications. */
#include "notify/notify.h"
#include "ra/ra_internal.h"

#include <string.h>

int ra_new_id(char out[LV_RA_ID_LEN + 1], lv_err *err)
{
    unsigned char raw[LV_RA_ID_LEN / 2];
    if (lv_random(raw, sizeof raw) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness for a record id");
    lv_hex_encode(raw, sizeof raw, out);
    return 0;
}

/* ---- JSON input ---------------------------------------------------------- */

/* the limits are the record's buffers, in bytes: a message that said
 * characters would mislead whoever writes accented names */
static const lv_text_member RA_FIELD = {"field", "bytes of UTF-8", 1};

int ra_field_str(const json_t *obj, const char *key, int required,
                 size_t max_len, const char **out, lv_err *err)
{
    return lv_json_text(obj, key, required, max_len, &RA_FIELD, out, err);
}

int ra_field_either(const json_t *obj, const char *key, const char *deflt,
                    const char *other, const char *note, char *out, size_t cap,
                    lv_err *err)
{
    const char *v;
    LV_TRY(ra_field_str(obj, key, 0, 15, &v, err));
    if (v == NULL)
        v = deflt;
    if (strcmp(v, deflt) != 0 && strcmp(v, other) != 0)
        return lv_fail(err, LV_EINVAL, "field '%s' must be \"%s\" or \"%s\"%s",
                       key, deflt, other, note);
    snprintf(out, cap, "%s", v);
    return 0;
}

int ra_field_date(const json_t *obj, const char *key, int required,
                  int64_t *out, lv_err *err)
{
    const char *s;
    *out = 0;
    LV_TRY(ra_field_str(obj, key, required, 20, &s, err));
    if (s != NULL && lv_time_parse(s, out) < 0)
        return lv_fail(err, LV_EINVAL,
                       "field '%s' must be a date such as 2031-05-20", key);
    return 0;
}

int ra_field_bool(const json_t *obj, const char *key, int *out, lv_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return lv_fail(err, LV_EINVAL, "field '%s' must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

int ra_check_keys(const json_t *obj, const char *const *allowed,
                  const char *what, lv_err *err)
{
    const char *key;
    json_t *value;
    if (!json_is_object(obj))
        return lv_fail(err, LV_EINVAL, "%s must be a JSON object", what);
    json_object_foreach((json_t *)obj, key, value)
    {
        const char *const *a = allowed;
        while (*a != NULL && strcmp(*a, key) != 0)
            a++;
        if (*a == NULL)
            return lv_fail(err, LV_EINVAL, "%s has an unknown field '%s'", what,
                           key);
    }
    return 0;
}

int ra_check_country(const char *c, const char *field, lv_err *err)
{
    return lv_text_country(c, field, &RA_FIELD, err);
}

int ra_check_person_doc(const char *type, lv_err *err)
{
    static const char *const types[] = {"DNI", "NIE", "PASSPORT", "ID_CARD"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(type, types[i]) == 0)
            return 0;
    }
    return lv_fail(err, LV_EINVAL,
                   "id_type must be DNI, NIE, PASSPORT or ID_CARD");
}

/* ---- writing ------------------------------------------------------------- */

void ra_audit_refusal(lv_store *st, const char *actor, const char *event,
                      const char *object, const lv_err *why,
                      const json_t *extra)
{
    json_t *details = extra ? json_deep_copy(extra) : json_object();
    json_object_set_new(details, "reason",
                        json_string(why && why->msg[0] ? why->msg : "refused"));
    audit_log_standalone(st, actor, event, object ? object : "",
                         LV_AUDIT_FAILURE, details, NULL);
    json_decref(details);
}

json_t *ra_time_json(int64_t t)
{
    char iso[32];
    if (t == 0)
        return json_null();
    lv_time_iso(t, iso);
    return json_string(iso);
}

/* ---- notifications ---------------------------------------------------------
 */

static void notify_one(const lv_config *cfg, const char *channel,
                       const char *to, const ra_notice *n, json_t *sent,
                       json_t *failed)
{
    char id[LV_NOTIFY_ID_MAX] = "";
    lv_err err = {0};
    int rc = strcmp(channel, "sms") == 0
                 ? notify_sms(cfg, to, n->text, id, &err)
                 : notify_email(cfg, to, n->subject, n->text, id, &err);
    if (rc == 0)
        json_array_append_new(
            sent, json_pack("{s:s, s:s}", "channel", channel, "id", id));
    else
        json_array_append_new(failed, json_pack("{s:s, s:s}", "channel",
                                                channel, "error", err.msg));
}

void ra_notify(const lv_config *cfg, lv_store *st, const char *actor,
               const char *object, const ra_notice *notices, size_t n)
{
    json_t *sent = json_array(), *failed = json_array();
    for (size_t i = 0; i < n; i++) {
        if (notices[i].mobile && notices[i].mobile[0])
            notify_one(cfg, "sms", notices[i].mobile, &notices[i], sent,
                       failed);
        if (notices[i].email && notices[i].email[0])
            notify_one(cfg, "email", notices[i].email, &notices[i], sent,
                       failed);
    }
    if (json_array_size(sent) + json_array_size(failed) > 0) {
        json_t *details =
            json_pack("{s:O, s:O}", "sent", sent, "failed", failed);
        audit_log_standalone(st, actor, "notify.send", object,
                             json_array_size(failed) ? LV_AUDIT_FAILURE
                                                     : LV_AUDIT_SUCCESS,
                             details, NULL);
        json_decref(details);
    }
    json_decref(sent);
    json_decref(failed);
}

json_t *ra_psd2_json(const lv_org_rec *o)
{
    json_t *roles = json_array();
    char buf[sizeof o->psd2_roles];
    char *save = NULL;
    RA_COPY(buf, o->psd2_roles);
    for (char *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save))
        json_array_append_new(roles, json_string(r));
    return json_pack("{s:o, s:s, s:s, s:s}", "roles", roles, "nca_name",
                     o->psd2_nca_name, "nca_id", o->psd2_nca_id,
                     "authorization_number", o->psd2_authorization);
}

int ra_json_out(int rc, json_t *j, json_t **out, lv_err *err)
{
    if (rc == 0 && j == NULL)
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    if (rc < 0) {
        json_decref(j);
        return rc;
    }
    *out = j;
    return 0;
}
