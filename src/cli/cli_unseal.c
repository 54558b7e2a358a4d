/* Custodians' commands (R9.5, R1.5; issue 8):
 *
 *   llave -d DIR [--share FILE]... unseal [--url URL]
 *       submits each share (files given with --share, else lines typed on
 *       standard input) to the running llaved: POST URL/api/v1/unseal.  URL
 *       defaults to DIR/llaved.url, written by llaved at start, else the
 *       configured listen address.  Two custodians may each run it with
 *       their own share.
 *   llave -d DIR [--share FILE]... shares rotate
 *       two current shares in, three new shares of the same master key out
 *       (keys_rotate_shares); the old shares stop working. */
#include "cli/cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct shares_in {
    char text[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    size_t n;
} shares_in;

static int read_line(FILE *in, char *out, size_t cap)
{
    while (fgets(out, (int)cap, in) != NULL) {
        out[strcspn(out, "\r\n")] = '\0';
        if (out[0] != '\0' && out[0] != '#')
            return 0;
    }
    return LV_EINVAL;
}

/* --share files first; otherwise standard input, up to `max` shares. */
static int read_shares(cli_ctx *ctx, size_t max, shares_in *s, lv_err *err)
{
    s->n = 0;
    for (size_t i = 0; i < ctx->share_file_count && s->n < max; i++) {
        FILE *in = fopen(ctx->share_files[i], "r");
        if (!in)
            return lv_fail(err, LV_EIO, "cannot read %s", ctx->share_files[i]);
        int rc = read_line(in, s->text[s->n], LV_SHARE_TEXT_MAX);
        fclose(in);
        if (rc < 0)
            return lv_fail(err, LV_EINVAL, "%s holds no share",
                           ctx->share_files[i]);
        s->n++;
    }
    if (ctx->share_file_count > 0)
        return 0;
    int tty = isatty(STDIN_FILENO);
    while (s->n < max) {
        if (tty)
            fprintf(stderr, "custodian share %zu (empty line or EOF to end): ",
                    s->n + 1);
        if (read_line(stdin, s->text[s->n], LV_SHARE_TEXT_MAX) < 0)
            break;
        s->n++;
    }
    return s->n > 0 ? 0 : lv_fail(err, LV_EINVAL, "no share given");
}

/* ---- unseal ------------------------------------------------------------- */
static int service_url(cli_ctx *ctx, const char *given, char *url, size_t cap,
                       lv_err *err)
{
    char path[1024];
    unsigned char *data = NULL;
    size_t len = 0;
    if (given) {
        snprintf(url, cap, "%s", given);
        return 0;
    }
    LV_TRY(lv_path_join(path, sizeof path, ctx->dir, "llaved.url"));
    if (access(path, R_OK) == 0 &&
        lv_file_read(path, &data, &len, cap - 1, err) == 0) {
        memcpy(url, data, len);
        url[len] = '\0';
        url[strcspn(url, "\r\n")] = '\0';
        free(data);
        return 0;
    }
    snprintf(url, cap, "http://%s:%d", ctx->cfg.listen_addr,
             ctx->cfg.listen_port);
    return 0;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    return lv_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

/* One share to the service; prints its answer. *sealed from the answer. */
static int post_share(const char *url, const char *share, int *sealed,
                      lv_err *err)
{
    char endpoint[600];
    lv_buf resp = {0};
    long status = 0;
    json_t *body = json_pack("{s:s}", "share", share);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: "
                                                   "application/json");
    snprintf(endpoint, sizeof endpoint, "%s/api/v1/unseal", url);
    int rc = text && c && h ? 0 : LV_ENOMEM;
    if (rc == 0) {
        curl_easy_setopt(c, CURLOPT_URL, endpoint);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        CURLcode cc = curl_easy_perform(c);
        if (cc != CURLE_OK)
            rc = lv_fail(err, LV_EIO, "%s: %s (is llaved running?)", endpoint,
                         curl_easy_strerror(cc));
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    if (text)
        OPENSSL_cleanse(text, strlen(text));
    free(text);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    json_t *ans =
        rc == 0 ? json_loadb((const char *)resp.data, resp.len, 0, NULL) : NULL;
    lv_buf_free(&resp);
    if (rc == 0 && status == 200) {
        *sealed = json_is_true(json_object_get(ans, "sealed"));
        printf("llaved: %s\n", lv_json_str(ans, "message")
                                   ? lv_json_str(ans, "message")
                                   : "accepted");
    } else if (rc == 0) {
        const char *msg = lv_json_str(ans, "message");
        rc = lv_fail(err, LV_EAUTH, "llaved refused the share (HTTP %ld): %s",
                     status, msg ? msg : "no message");
    }
    json_decref(ans);
    return rc;
}

static int unseal_cmd(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    shares_in s = {0};
    char url[512];
    int sealed = 1;
    const char *given = NULL;
    if (argc == 3 && strcmp(argv[1], "--url") == 0)
        given = argv[2];
    else if (argc != 1)
        return cli_usage_error("unseal: expected [--url URL]");
    if (ctx->dir == NULL)
        return cli_report(lv_fail(&err, LV_EINVAL, "unseal needs -d DIR"),
                          &err);
    int rc = lv_config_load(&ctx->cfg, ctx->dir, &err);
    if (rc == 0)
        rc = service_url(ctx, given, url, sizeof url, &err);
    if (rc == 0)
        rc = read_shares(ctx, LV_SHARES_TOTAL, &s, &err);
    for (size_t i = 0; rc == 0 && i < s.n && sealed; i++)
        rc = post_share(url, s.text[i], &sealed, &err);
    OPENSSL_cleanse(&s, sizeof s);
    return cli_report(rc, &err);
}

/* ---- shares rotate ----------------------------------------------------------
 */
static int rotate_cmd(cli_ctx *ctx)
{
    lv_err err = {0};
    shares_in s = {0};
    char fresh[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    const char *ptrs[LV_SHARES_TOTAL];
    int rc = cli_open(ctx, CLI_NEED_STORE, &err);
    if (rc == 0) /* R1.5: two operators, besides the two custodians' shares */
        rc = cli_two_person(ctx, "keys.rotate_shares", &err);
    if (rc == 0)
        rc = read_shares(ctx, LV_SHARES_NEEDED, &s, &err);
    for (size_t i = 0; rc == 0 && i < s.n; i++)
        ptrs[i] = s.text[i];
    if (rc == 0)
        rc = keys_rotate_shares(ctx->dir, ptrs, s.n, fresh, &err);
    json_t *d = json_pack("{s:i}", "shares", LV_SHARES_TOTAL);
    lv_err ignored = {0};
    if (ctx->st)
        audit_log_standalone(
            ctx->st, ctx->actor, "keys.rotate_shares", ctx->dir,
            rc < 0 ? LV_AUDIT_FAILURE : LV_AUDIT_SUCCESS, d, &ignored);
    json_decref(d);
    if (rc == 0) {
        printf("New custodian shares (R9.5): the old shares no longer open "
               "the key store.\nHand one to each custodian; any two open "
               "it.  Shown once, stored nowhere.\n");
        for (int i = 0; i < LV_SHARES_TOTAL; i++)
            printf("  custodian %d: %s\n", i + 1, fresh[i]);
    }
    OPENSSL_cleanse(&s, sizeof s);
    OPENSSL_cleanse(fresh, sizeof fresh);
    return cli_report(rc, &err);
}

int cli_unseal(cli_ctx *ctx, int argc, char **argv)
{
    return unseal_cmd(ctx, argc, argv);
}

int cli_shares(cli_ctx *ctx, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "rotate") == 0)
        return rotate_cmd(ctx);
    return cli_usage_error("shares: expected `rotate`");
}
