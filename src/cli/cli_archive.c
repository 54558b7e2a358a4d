/* llave -d DIR archive sync | verify (R9.3, CPS §5.5.6; issue 8). */
#include "audit/audit.h"
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static void print_problem(const char *kind, const char *ref,
                          const char *problem, void *arg)
{
    (void)arg;
    printf("MISMATCH %s %s: %s\n", kind, ref, problem);
}

int cli_archive(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    if (argc != 2 ||
        (strcmp(argv[1], "sync") != 0 && strcmp(argv[1], "verify") != 0))
        return cli_usage_error("archive: expected `sync` or `verify`");
    int rc = cli_open(ctx, CLI_NEED_STORE, &err);
    if (rc == 0 && strcmp(argv[1], "sync") == 0) {
        int64_t n = 0;
        /* every row: the operator's full sweep */
        rc = audit_archive_sync(ctx->st, ctx->actor, -1, 0, &n, &err);
        if (rc == 0)
            printf("archived %lld new record(s)\n", (long long)n);
        return cli_report(rc, &err);
    }
    lv_archive_report rep = {0};
    if (rc == 0)
        rc = audit_archive_verify(ctx->st, print_problem, NULL, &rep, &err);
    if (rc == 0)
        printf("archive intact: %lld record(s) in %lld batch(es) match their "
               "recorded SHA-256\n",
               (long long)rep.items, (long long)rep.batches);
    else if (rc == LV_ESTATE)
        printf("archive BROKEN: %lld problem(s) in %lld record(s)\n",
               (long long)rep.problems, (long long)rep.items);
    return rc == LV_ESTATE ? 1 : cli_report(rc, &err);
}
