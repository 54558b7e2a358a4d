/* llave -d DIR audit verify: walk the hash chain (R9.2). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int cli_audit(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    lv_audit_report report;
    if (argc != 2 || strcmp(argv[1], "verify") != 0)
        return cli_usage_error("audit: expected `verify`");
    memset(&report, 0, sizeof report);
    int rc = cli_open(ctx, CLI_NEED_STORE, &err);
    if (rc == 0)
        rc = audit_verify(ctx->st, &report, &err);
    if (rc == 0) {
        printf("audit trail intact: %lld entries\n", (long long)report.entries);
        return 0;
    }
    if (report.bad_seq > 0) {
        printf("audit trail BROKEN at entry %lld: %s\n",
               (long long)report.bad_seq, report.reason);
        return 1;
    }
    return cli_report(rc, &err);
}
