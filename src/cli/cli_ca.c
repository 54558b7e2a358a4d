/* llave -d DIR ca export OUTDIR | ca list | ca add-tls */
#include "cli/cli.h"
#include "custody/custody.h"
#include "store/store_ca.h"

#include <stdio.h>
#include <string.h>

static int print_ca(const lv_ca_rec *rec, void *arg)
{
    (void)arg;
    char until[32];
    lv_time_iso(rec->not_after, until);
    printf("%-18s %-10s %-10s issuer=%-12s serial=%s until=%s\n", rec->name,
           rec->role, rec->status, rec->issuer, rec->serial, until);
    return 0;
}

/* Issue 13: an install made before website certificates had a CA of their
 * own gets one; creating a CA key is a custody act (CPS §5.2.4: two
 * people), as a change-over is. */
static int ca_add_tls(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    lv_rollover_result r;
    (void)argc;
    (void)argv;
    int rc = cli_open(ctx, CLI_NEED_CA | CLI_NEED_KEYS, &err);
    if (rc == 0)
        rc = cli_two_person(ctx, "ca.add_tls", &err);
    if (rc == 0)
        rc = custody_add_tls(ctx->ca, ctx->st, ctx->actor, &r, &err);
    if (rc == 0)
        printf("TLS CA %s (\"%s\", serial %s) now issues the website "
               "profiles; OCSP responder %s; certificates issued before stay "
               "valid and answerable; a running llaved serves it within "
               "seconds\n",
               r.name, r.cn, r.serial, r.ocsp_name);
    return cli_report(rc, &err);
}

/* ca export OUTDIR */
static int ca_export(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    (void)argc;
    LV_TRY(cli_open(ctx, CLI_NEED_CA, err));
    LV_TRY(ca_export_chain(ctx->ca, argv[2], err));
    printf("wrote %s/chain.pem, %s/%s.pem and one PEM per CA\n", argv[2],
           argv[2], ctx->cfg.root_name);
    return 0;
}

static int ca_list(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    (void)argc;
    (void)argv;
    LV_TRY(cli_open(ctx, CLI_NEED_STORE, err));
    return store_ca_foreach(ctx->st, print_ca, NULL, err);
}

int cli_ca(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"export", .argc = 3, .act = ca_export},
        {"list", .argc = 2, .act = ca_list},
        {"compromise", .run = cli_ca_compromise},
        {"rollover", .run = cli_ca_rollover},
        {"add-tls", .argc = 2, .run = ca_add_tls},
        {.usage = "ca: expected `export OUTDIR`, `list`, "
                  "`compromise CA`, `rollover CA` or `add-tls`"}};
    return cli_dispatch(ctx, argc, argv, subs);
}
