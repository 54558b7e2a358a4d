/* llave -d DIR profile list: one line per profile (R4.3). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int cli_profile(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    size_t n;
    char oid[192];
    if (argc != 2 || strcmp(argv[1], "list") != 0)
        return cli_usage_error("profile: expected `list`");
    /* the OIDs hang from the installation's configured arc */
    int rc = 0;
    if (ctx->dir != NULL)
        rc = lv_config_load(&ctx->cfg, ctx->dir, &err);
    else
        lv_config_defaults(&ctx->cfg, ".");
    if (rc < 0)
        return cli_report(rc, &err);
    const lv_profile *all = ca_profiles(&n);
    for (size_t i = 0; i < n; i++) {
        if (all[i].internal)
            continue;
        ca_profile_oid(&ctx->cfg, &all[i], oid, sizeof oid);
        printf("%-32s %-52s %-10s %s\n", all[i].id, oid,
               all[i].etsi_policy_name, all[i].name);
    }
    return 0;
}
