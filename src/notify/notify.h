/* notify/ — SMS and email delivery (R3.7, R4.10, R6.2) through a pluggable
 * gateway chosen by configuration:
 *
 *   notify_backend "outbox" (default): one JSON file per message in
 *     DIR/outbox/, written atomically, mode 0640, named
 *     <UTC time with ms>-<random>.json so that names sort by time.  For
 *     development, tests and installations whose SMS relay picks files up.
 *   notify_backend "http": a JSON POST to notify_url through libcurl, with
 *     HTTP basic credentials (notify_user + the first line of
 *     notify_password_file) or, without notify_user, a bearer token read
 *     from notify_password_file; notify_timeout_s bounds the whole call.
 *     Any 2xx answer is delivery; anything else is LV_EIO.
 *
 * The message body (both back ends) is one JSON object:
 *   {"id": "...", "channel": "sms"|"email", "to": "...",
 *    "subject": "..." (email only), "text": "...", "created": "ISO-8601"}
 *
 * Callers compose the text; R3.7 forbids passwords in it.  One-time codes
 * (activation codes, OTPs) are what SMS exists for here and are allowed.
 * notify/ does not audit (it may call core only): callers record the
 * message id returned here in their own audit entry.
 *
 * Depends on core/ and libcurl.  Thread-safe. */
#ifndef LLAVE_NOTIFY_H
#define LLAVE_NOTIFY_H

#include "core/core.h"

#define LV_NOTIFY_ID_MAX 48 /* message id text, NUL included */

/* E.164 mobile number: '+', 8 to 15 digits.  0 or LV_EINVAL with a message
 * naming the rule. */
int notify_check_mobile(const char *to, lv_err *err) LV_MUST_USE;
/* A plausible single address: local@domain, no spaces or control
 * characters, at most 254 bytes. */
int notify_check_email(const char *to, lv_err *err) LV_MUST_USE;

/* Sends one SMS to an E.164 number.  id_out (may be NULL) receives the
 * message id.  LV_EINVAL for a bad number or empty text, LV_EIO when the
 * outbox cannot be written or the gateway refuses. */
int notify_sms(const lv_config *cfg, const char *to, const char *text,
               char id_out[LV_NOTIFY_ID_MAX], lv_err *err) LV_MUST_USE;

/* Sends one email (plain text). */
int notify_email(const lv_config *cfg, const char *to, const char *subject,
                 const char *text, char id_out[LV_NOTIFY_ID_MAX],
                 lv_err *err) LV_MUST_USE;

#endif
