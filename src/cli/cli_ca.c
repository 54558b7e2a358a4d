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
static int ca_add_tls(cli_ctx *ctx)
{
    lv_err err = {0};
    lv_rollover_result r;
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

int cli_ca(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    int rc;
    if (argc == 3 && strcmp(argv[1], "export") == 0) {
        rc = cli_open(ctx, CLI_NEED_CA, &err);
        if (rc == 0)
            rc = ca_export_chain(ctx->ca, argv[2], &err);
        if (rc == 0)
            printf("wrote %s/chain.pem, %s/%s.pem and one PEM per CA\n",
                   argv[2], argv[2], ctx->cfg.root_name);
        return cli_report(rc, &err);
    }
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        rc = cli_open(ctx, CLI_NEED_STORE, &err);
        if (rc == 0)
            rc = store_ca_foreach(ctx->st, print_ca, NULL, &err);
        return cli_report(rc, &err);
    }
    if (argc >= 2 && strcmp(argv[1], "compromise") == 0)
        return cli_ca_compromise(ctx, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "rollover") == 0)
        return cli_ca_rollover(ctx, argc, argv);
    if (argc == 2 && strcmp(argv[1], "add-tls") == 0)
        return ca_add_tls(ctx);
    return cli_usage_error("ca: expected `export OUTDIR`, `list`, "
                           "`compromise CA`, `rollover CA` or `add-tls`");
}
