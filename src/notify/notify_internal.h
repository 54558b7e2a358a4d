/* Private to notify/: one message as both back ends see it. */
#ifndef LLAVE_NOTIFY_INTERNAL_H
#define LLAVE_NOTIFY_INTERNAL_H

#include "notify/notify.h"

#include <openssl/crypto.h>

typedef struct notify_msg {
    char id[LV_NOTIFY_ID_MAX];
    const char *channel; /* "sms" / "email" */
    const char *to;
    const char *subject; /* email only */
    const char *text;
} notify_msg;

/* POSTs the message JSON to cfg->notify_url (notify_http.c). */
int notify_http_post(const lv_config *cfg, const char *json, lv_err *err);

#endif
