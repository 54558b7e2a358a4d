/* llave -d DIR audit verify [--expect-seq N] | seal | export [--from SEQ]
 * (R9.1, R9.2; issue 8). */
#include "audit/audit.h"
#include "cli/cli.h"
#include "custody/custody.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_seq(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 0)
        return LV_EINVAL;
    *out = v;
    return 0;
}

static int audit_verify_cmd(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    lv_audit_report report;
    lv_audit_verify_opts opts = {0};
    if (argc == 4 && strcmp(argv[2], "--expect-seq") == 0) {
        if (parse_seq(argv[3], &opts.expect_seq) < 0)
            return cli_usage_error("audit verify: bad --expect-seq");
    } else if (argc != 2) {
        return cli_usage_error("audit verify: unexpected argument");
    }
    memset(&report, 0, sizeof report);
    int rc = cli_open(ctx, CLI_NEED_STORE, &err);
    if (rc == 0)
        rc = audit_verify_opts(ctx->st, &opts, &report, &err);
    if (rc == 0) {
        printf("audit trail intact: %lld entries, %lld seal(s), sealed up to "
               "entry %lld (%lld not sealed yet)\n",
               (long long)report.entries, (long long)report.seals,
               (long long)report.sealed_seq,
               (long long)(report.entries - report.sealed_seq));
        return 0;
    }
    if (report.bad_seq > 0) {
        printf("audit trail BROKEN at entry %lld: %s\n",
               (long long)report.bad_seq, report.reason);
        return 1;
    }
    return cli_report(rc, &err);
}

static int audit_seal_cmd(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    lv_seal_result r;
    lv_audit_sealing how;
    (void)argc;
    (void)argv;
    LV_TRY(cli_open(ctx, CLI_NEED_KEYS | CLI_NEED_CA, err));
    custody_audit_sealing(ctx->ca, &how);
    LV_TRY(audit_seal(&how, ctx->st, ctx->actor, &r, err));
    if (r.sealed)
        printf("seal %lld covers entries 1..%lld (head %s), signed by %s\n",
               (long long)r.id, (long long)r.seq, r.hash, r.signer);
    else
        printf("nothing to seal: the newest entries are sealed already\n");
    return 0;
}

static int print_line(const char *line, void *arg)
{
    (void)arg;
    return puts(line) < 0 ? LV_EIO : 0;
}

static int audit_export_cmd(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    int64_t from = 1;
    if (argc == 4 && strcmp(argv[2], "--from") == 0) {
        if (parse_seq(argv[3], &from) < 0 || from < 1)
            return cli_usage_error("audit export: bad --from");
    } else if (argc != 2) {
        return cli_usage_error("audit export: unexpected argument");
    }
    int rc = cli_open(ctx, CLI_NEED_STORE, &err);
    if (rc == 0)
        rc = audit_export(ctx->st, from, 0, print_line, NULL, NULL, &err);
    if (fflush(stdout) != 0 && rc == 0)
        rc = lv_fail(&err, LV_EIO, "cannot write the export");
    return cli_report(rc, &err);
}

int cli_audit(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"verify", .run = audit_verify_cmd},
        {"seal", .argc = 2, .act = audit_seal_cmd},
        {"export", .run = audit_export_cmd},
        {.usage = "audit: expected `verify [--expect-seq N]`, `seal` or "
                  "`export [--from SEQ]`"}};
    return cli_dispatch(ctx, argc, argv, subs);
}
