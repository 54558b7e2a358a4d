/* The HTTP SMS/email gateway back end (R3.7): one JSON POST per message
 * through libcurl.  Credentials come from a file named in the configuration
 * so that llave.json (mode 0640, copied into backups and bug reports) never
 * holds them; the file is read on every message, so rotating it needs no
 * restart. */
#include "notify/notify_internal.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_MAX 512

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/* curl_global_init is not guaranteed thread-safe: run it exactly once. */
static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The gateway's answer is not used: success is the status code. */
static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* First line of notify_password_file into out; "" when none is set. */
static int read_secret(const lv_config *cfg, char out[SECRET_MAX], lv_err *err)
{
    unsigned char *data = NULL;
    size_t len = 0;
    out[0] = '\0';
    if (cfg->notify_password_file[0] == '\0')
        return 0;
    LV_TRY(lv_file_read(cfg->notify_password_file, &data, &len, SECRET_MAX - 1,
                        err));
    size_t n = strcspn((const char *)data, "\r\n");
    memcpy(out, data, n);
    out[n] = '\0';
    OPENSSL_cleanse(data, len);
    free(data);
    if (n == 0)
        return lv_fail(err, LV_EINVAL, "%s is empty",
                       cfg->notify_password_file);
    return 0;
}

/* Basic credentials when a user is configured, otherwise the secret is a
 * bearer token (RFC 6750). */
static int set_auth(CURL *c, const lv_config *cfg, const char *secret,
                    struct curl_slist **headers, char *bearer, size_t cap)
{
    if (secret[0] == '\0')
        return 0;
    if (cfg->notify_user[0] != '\0') {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->notify_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, secret);
        return 0;
    }
    if (strpbrk(secret, " \t") ||
        snprintf(bearer, cap, "Authorization: Bearer %s", secret) >= (int)cap)
        return LV_EINVAL;
    struct curl_slist *h = curl_slist_append(*headers, bearer);
    if (!h)
        return LV_ENOMEM;
    *headers = h;
    return 0;
}

static void set_options(CURL *c, const lv_config *cfg, const char *json,
                        struct curl_slist *headers)
{
    curl_easy_setopt(c, CURLOPT_URL, cfg->notify_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* we run in worker threads */
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->notify_timeout_s);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "llave-notify/1");
}

static int perform(CURL *c, const lv_config *cfg, lv_err *err)
{
    long status = 0;
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        return lv_fail(err, LV_EIO, "SMS/email gateway %s: %s", cfg->notify_url,
                       curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299)
        return lv_fail(err, LV_EIO,
                       "SMS/email gateway %s refused the message (HTTP %ld)",
                       cfg->notify_url, status);
    return 0;
}

int notify_http_post(const lv_config *cfg, const char *json, lv_err *err)
{
    char secret[SECRET_MAX], bearer[SECRET_MAX + 32];
    struct curl_slist *headers = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return lv_fail(err, LV_EINTERNAL, "libcurl failed to initialize");
    LV_TRY(read_secret(cfg, secret, err));
    CURL *c = curl_easy_init();
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: application/json");
    int rc = c && h ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
    headers = h;
    if (rc == 0 &&
        set_auth(c, cfg, secret, &headers, bearer, sizeof bearer) < 0)
        rc = lv_fail(err, LV_EINVAL, "gateway credential in %s is unusable",
                     cfg->notify_password_file);
    if (rc == 0) {
        set_options(c, cfg, json, headers);
        rc = perform(c, cfg, err);
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(bearer, sizeof bearer);
    return rc;
}
