/* Custodians' commands (R9.5, R1.5; issues 8 and 12):
 *
 *   llave -d DIR [--share FILE]... unseal [--socket PATH]
 *       submits each share (files given with --share, else lines typed on
 *       standard input) to the running llave-keyd, the signature activation
 *       module, on its UNIX socket (keyd_socket of llave.json, else
 *       DIR/keyd.sock) as caller class custodian.  Shares never travel over
 *       HTTP or through llaved (issue 12 item 2).  Two custodians may each
 *       run it with their own share.
 *   llave -d DIR [--share FILE]... shares rotate
 *       two current shares in, three new shares of the same master key out
 *       (keys_rotate_shares); the old shares stop working. */
#include "audit/audit.h"
#include "cli/cli.h"
#include "keys/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct shares_in {
    char text[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    size_t n;
} shares_in;

/* --share files first; otherwise standard input, up to `max` shares. */
static int read_shares(cli_ctx *ctx, size_t max, shares_in *s, lv_err *err)
{
    s->n = 0;
    for (size_t i = 0; i < ctx->share_file_count && s->n < max; i++) {
        FILE *in = fopen(ctx->share_files[i], "r");
        if (!in)
            return lv_fail(err, LV_EIO, "cannot read %s", ctx->share_files[i]);
        int rc = cli_read_share_line(in, s->text[s->n], LV_SHARE_TEXT_MAX);
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
        if (cli_read_share_line(stdin, s->text[s->n], LV_SHARE_TEXT_MAX) < 0)
            break;
        s->n++;
    }
    return s->n > 0 ? 0 : lv_fail(err, LV_EINVAL, "no share given");
}

/* ---- unseal ------------------------------------------------------------- */

/* One share to keyd; prints its progress.  *sealed from the answer. */
static int submit_share(keyc *c, const char *share, int *sealed, lv_err *err)
{
    keyc_unseal_progress p;
    LV_TRY(keyc_unseal_share(c, share, &p, err));
    *sealed = p.sealed;
    if (p.sealed)
        printf("llave-keyd: share %d accepted, %d of %d shares received\n",
               p.index, p.received, p.needed);
    else
        printf("llave-keyd: share %d accepted, key store unsealed\n", p.index);
    return 0;
}

static int unseal_cmd(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    shares_in s = {0};
    char sock[108];
    int sealed = 1;
    const char *given = NULL;
    keyc *c = NULL;
    if (argc == 3 && strcmp(argv[1], "--socket") == 0)
        given = argv[2];
    else if (argc == 3 && strcmp(argv[1], "--url") == 0)
        return cli_usage_error("unseal: shares go to llave-keyd's socket, "
                               "not over HTTP (--socket PATH)");
    else if (argc != 1)
        return cli_usage_error("unseal: expected [--socket PATH]");
    if (ctx->dir == NULL)
        return cli_report(lv_fail(&err, LV_EINVAL, "unseal needs -d DIR"),
                          &err);
    int rc = lv_config_load(&ctx->cfg, ctx->dir, &err);
    if (rc == 0)
        rc = cli_keyd_socket(ctx, given, sock, sizeof sock, &err);
    if (rc == 0 &&
        (rc = keyc_connect(sock, KEYD_CALLER_CUSTODIAN, &c, &err)) < 0)
        lv_fail(&err, rc,
                "no llave-keyd answers on %s: is llaved (or "
                "llave-keyd) running?",
                sock);
    if (rc == 0)
        rc = read_shares(ctx, LV_SHARES_TOTAL, &s, &err);
    for (size_t i = 0; rc == 0 && i < s.n && sealed; i++)
        rc = submit_share(c, s.text[i], &sealed, &err);
    OPENSSL_cleanse(&s, sizeof s);
    keyc_close(c);
    return cli_report(rc, &err);
}

/* ---- shares rotate ----------------------------------------------------------
 */
static int rotate_cmd(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    (void)argc;
    (void)argv;
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
    static const cli_sub subs[] = {{"rotate", .argc = 2, .run = rotate_cmd},
                                   {.usage = "shares: expected `rotate`"}};
    return cli_dispatch(ctx, argc, argv, subs);
}
