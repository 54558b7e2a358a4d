/* Message validation, the message JSON both back ends carry, and the outbox
 * back end (R3.7).  The HTTP gateway is in notify_http.c. */
#include "notify/notify_internal.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTBOX_DIR "outbox"
#define OUTBOX_MODE 0640
#define TEXT_MAX 1600 /* ten concatenated SMS parts; emails may be longer */
#define EMAIL_TEXT_MAX ((size_t)64 * 1024)

int notify_check_mobile(const char *to, lv_err *err)
{
    size_t n = to ? strlen(to) : 0;
    /* ITU-T E.164: at most 15 digits after the country code's '+'. */
    if (n < 9 || n > 16 || to[0] != '+' ||
        strspn(to + 1, "0123456789") != n - 1)
        return lv_fail(err, LV_EINVAL,
                       "mobile number must be in E.164 form: '+' and 8 to 15 "
                       "digits, e.g. +34600000000");
    return 0;
}

int notify_check_email(const char *to, lv_err *err)
{
    size_t n = to ? strlen(to) : 0;
    const char *at = n ? strchr(to, '@') : NULL;
    int ok = n >= 3 && n <= 254 && at && at != to && at[1] != '\0' &&
             strchr(at + 1, '@') == NULL && strchr(at + 1, '.') != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = !isspace((unsigned char)to[i]) && !iscntrl((unsigned char)to[i]) &&
             to[i] != ',' && to[i] != ';' && to[i] != '<' && to[i] != '>';
    if (!ok)
        return lv_fail(err, LV_EINVAL,
                       "email address must be one address local@domain "
                       "without blanks (at most 254 bytes)");
    return 0;
}

/* 20261124T234500123Z-000042-<8 hex>: sortable by time and, within one
 * millisecond of one process, by a sequence number (two codes sent in the
 * same millisecond must still read in order); unique by the random part. */
static atomic_uint message_seq;

static int message_id(char out[LV_NOTIFY_ID_MAX], lv_err *err)
{
    unsigned char rnd[4];
    char hex[9], iso[32];
    int64_t ms = lv_now_ms();
    unsigned seq = atomic_fetch_add(&message_seq, 1) % 1000000u;
    if (lv_random(rnd, sizeof rnd) < 0)
        return lv_fail(err, LV_ECRYPTO, "no randomness for a message id");
    lv_hex_encode(rnd, sizeof rnd, hex);
    lv_time_iso(ms / 1000, iso); /* 2026-11-24T23:45:00Z */
    snprintf(out, LV_NOTIFY_ID_MAX, "%.4s%.2s%.2sT%.2s%.2s%.2s%03dZ-%06u-%s",
             iso, iso + 5, iso + 8, iso + 11, iso + 14, iso + 17,
             (int)(ms % 1000), seq, hex);
    return 0;
}

static int check_text(const char *text, size_t max, const char *what,
                      lv_err *err)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n > max)
        return lv_fail(err, LV_EINVAL, "%s must be 1 to %zu bytes", what, max);
    return 0;
}

/* Builds the message object; the JSON is what the outbox file holds and
 * what the gateway receives. */
static int message_json(const notify_msg *m, char **out, lv_err *err)
{
    char created[32];
    lv_time_iso(lv_now(), created);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", m->id, "channel",
                  m->channel, "to", m->to, "text", m->text, "created", created);
    if (o && m->subject)
        json_object_set_new(o, "subject", json_string(m->subject));
    /* json_pack refuses text that is not UTF-8. */
    *out = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!*out)
        return lv_fail(err, LV_EINVAL, "message text is not valid UTF-8");
    return 0;
}

static int outbox_write(const lv_config *cfg, const notify_msg *m,
                        const char *json, lv_err *err)
{
    char dir[1024], name[LV_NOTIFY_ID_MAX + 8], path[1200];
    snprintf(name, sizeof name, "%s.json", m->id);
    if (lv_path_join(dir, sizeof dir, cfg->dir, OUTBOX_DIR) < 0 ||
        lv_path_join(path, sizeof path, dir, name) < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    LV_TRY(lv_mkdir_p(dir, 0750, err));
    /* Atomic (temp file + rename): a relay polling the directory never
     * reads half a message. */
    return lv_file_write(path, json, strlen(json), OUTBOX_MODE, err);
}

static int deliver(const lv_config *cfg, notify_msg *m,
                   char id_out[LV_NOTIFY_ID_MAX], lv_err *err)
{
    char *json = NULL;
    LV_TRY(message_id(m->id, err));
    LV_TRY(message_json(m, &json, err));
    int rc = strcmp(cfg->notify_backend, "http") == 0
                 ? notify_http_post(cfg, json, err)
                 : outbox_write(cfg, m, json, err);
    /* The text holds one-time codes: do not leave it in freed memory. */
    OPENSSL_cleanse(json, strlen(json));
    free(json);
    if (rc == 0 && id_out)
        snprintf(id_out, LV_NOTIFY_ID_MAX, "%s", m->id);
    return rc;
}

int notify_sms(const lv_config *cfg, const char *to, const char *text,
               char id_out[LV_NOTIFY_ID_MAX], lv_err *err)
{
    notify_msg m = {.channel = "sms", .to = to, .text = text};
    LV_TRY(notify_check_mobile(to, err));
    LV_TRY(check_text(text, TEXT_MAX, "SMS text", err));
    return deliver(cfg, &m, id_out, err);
}

int notify_email(const lv_config *cfg, const char *to, const char *subject,
                 const char *text, char id_out[LV_NOTIFY_ID_MAX], lv_err *err)
{
    notify_msg m = {
        .channel = "email", .to = to, .subject = subject, .text = text};
    LV_TRY(notify_check_email(to, err));
    LV_TRY(check_text(subject, 200, "email subject", err));
    if (strpbrk(subject, "\r\n"))
        return lv_fail(err, LV_EINVAL, "email subject must be one line");
    LV_TRY(check_text(text, EMAIL_TEXT_MAX, "email text", err));
    return deliver(cfg, &m, id_out, err);
}
