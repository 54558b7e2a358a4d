/* llave -d DIR termination export OUTDIR (R9.6, CPS §5.8; issue 8). */
#include "cli/cli.h"
#include "custody/custody.h"

#include <stdio.h>
#include <string.h>

int cli_termination(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    lv_termination_result r;
    if (argc != 3 || strcmp(argv[1], "export") != 0)
        return cli_usage_error("termination: expected `export OUTDIR`");
    int rc = cli_open(ctx, CLI_NEED_KEYS | CLI_NEED_CA, &err);
    if (rc == 0) /* R1.5, CPS §5.2.4 */
        rc = cli_two_person(ctx, "termination.export", &err);
    if (rc == 0)
        rc = custody_termination_export(ctx->ca, ctx->st, argv[2], ctx->actor,
                                        &r, &err);
    if (rc == 0)
        printf("exported %lld certificate(s) (%lld revoked) and %lld CRL(s) "
               "to %s; manifest.json signed in manifest.sig\n",
               (long long)r.certificates, (long long)r.revoked,
               (long long)r.crls, argv[2]);
    return cli_report(rc, &err);
}
