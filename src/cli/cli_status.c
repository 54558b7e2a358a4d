/* Certificate status commands (issue 4: R6.1-R6.6, R8.1):
 *   llave -d DIR cert revoke SERIAL --reason REASON [--requester WHO]
 *                [--invalidity-date DATE]
 *   llave -d DIR cert publish SERIAL (--consent | --withdraw)
 *   llave -d DIR ca compromise CA   (two operators confirm on stdin)
 *   llave -d DIR ca rollover CA
 *   llave -d DIR crl generate [CA] | crl list | crl export CA FILE */
#include "cli/cli.h"
#include "crl/crl.h"
#include "custody/custody.h"
#include "ra/ra.h"
#include "repo/repo.h"
#include "store/store_ca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- cert revoke --------------------------------------------------------- */

typedef struct revoke_args {
    const char *serial;
    const char *reason;
    const char *requester;
    const char *invalidity;
} revoke_args;

static int parse_revoke(int argc, char **argv, revoke_args *a)
{
    const cli_option opts[] = {{"--reason", &a->reason},
                               {"--requester", &a->requester},
                               {"--invalidity-date", &a->invalidity},
                               {NULL, NULL}};
    int rc = cli_options(argc, argv, 2, opts, &a->serial, "cert revoke");
    if (rc != 0)
        return rc;
    if (a->serial == NULL || a->reason == NULL)
        return cli_usage_error("cert revoke: SERIAL and --reason are needed");
    return 0;
}

static int revoke(cli_ctx *ctx, const revoke_args *a, lv_err *err)
{
    lv_revoke_req req = {.serial = a->serial,
                         .reason_name = a->reason,
                         .requester = a->requester,
                         .actor = ctx->actor};
    lv_revoke_result r;
    char when[32];
    if (a->invalidity && lv_time_parse(a->invalidity, &req.invalidity_date) < 0)
        return lv_fail(err, LV_EINVAL,
                       "--invalidity-date must be YYYY-MM-DD or ISO-8601 UTC");
    LV_TRY(cli_open(ctx, CLI_NEED_CA | CLI_NEED_KEYS, err));
    LV_TRY(ca_revoke(ctx->ca, ctx->st, &req, &r, err));
    ra_revoke_publish(ctx->ca, ctx->st, ctx->actor, &r); /* R6.2 */
    lv_time_iso(r.revoked_at, when);
    printf("revoked %s (%s) at %s; ", r.serial, a->reason, when);
    if (r.crl_number > 0)
        printf("CRL %s number %lld published\n", r.ca, (long long)r.crl_number);
    else
        printf("CRL %s not yet regenerated (see the warning above)\n", r.ca);
    return 0;
}

int cli_cert_revoke(cli_ctx *ctx, int argc, char **argv)
{
    revoke_args a = {0};
    lv_err err = {0};
    int rc = parse_revoke(argc, argv, &a);
    return rc != 0 ? rc : cli_report(revoke(ctx, &a, &err), &err);
}

/* ---- cert publish -----------------------------------------------------------
 */

int cli_cert_publish(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    int consent = -1;
    if (argc == 4 && strcmp(argv[3], "--consent") == 0)
        consent = 1;
    else if (argc == 4 && strcmp(argv[3], "--withdraw") == 0)
        consent = 0;
    if (consent < 0)
        return cli_usage_error(
            "cert publish: SERIAL and --consent (the holder agreed, R8.1) or "
            "--withdraw");
    int rc = cli_open(ctx, CLI_NEED_CA, &err);
    if (rc == 0)
        rc = repo_cert_publish(ctx->ca, ctx->st, argv[2], consent, ctx->actor,
                               &err);
    if (rc == 0)
        printf("%s %s\n", argv[2],
               consent ? "published in the repository"
                       : "withdrawn from the repository");
    return cli_report(rc, &err);
}

/* ---- ca compromise / rollover
 * ------------------------------------------------- */

int cli_ca_compromise(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    lv_compromise_result r;
    if (argc != 3)
        return cli_usage_error("ca compromise: CA (two operators confirm on "
                               "standard input)");
    int rc = cli_open(ctx, CLI_NEED_CA | CLI_NEED_KEYS, &err);
    if (rc == 0) /* R1.5, CPS §5.2.4: not a flag, two people */
        rc = cli_two_person(ctx, "ca.compromise", &err);
    if (rc == 0)
        rc = custody_compromise(ctx->ca, ctx->st, argv[2], argv[2], ctx->actor,
                                &r, &err);
    if (rc == 0)
        printf("CA %s compromised: %lld certificate(s) revoked "
               "(keyCompromise); final CRL number %lld without nextUpdate; "
               "root CRL number %lld lists the CA (cACompromise)\n",
               argv[2], (long long)r.revoked, (long long)r.crl_number,
               (long long)r.root_crl_number);
    return cli_report(rc, &err);
}

int cli_ca_rollover(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    lv_rollover_result r;
    if (argc != 3)
        return cli_usage_error("ca rollover: CA");
    int rc = cli_open(ctx, CLI_NEED_CA | CLI_NEED_KEYS, &err);
    if (rc == 0)
        rc = cli_two_person(ctx, "ca.rollover", &err);
    if (rc == 0)
        rc = custody_rollover(ctx->ca, ctx->st, argv[2], ctx->actor, &r, &err);
    if (rc == 0)
        printf("CA %s (\"%s\", serial %s) now issues in place of %s, which "
               "signs only CRLs; OCSP responder %s; a running llaved serves "
               "it within seconds\n",
               r.name, r.cn, r.serial, argv[2], r.ocsp_name);
    return cli_report(rc, &err);
}

/* ---- crl
 * ----------------------------------------------------------------------- */

static void print_crl(const lv_crl_info *c)
{
    char tu[32], nu[32] = "none (final CRL)";
    lv_time_iso(c->this_update, tu);
    if (c->next_update)
        lv_time_iso(c->next_update, nu);
    printf("%-16s number=%lld entries=%lld thisUpdate=%s nextUpdate=%s\n",
           c->ca, (long long)c->number, (long long)c->entries, tu, nu);
}

/* crl generate [CA]: one CA's CRL, or every issuer's */
static int crl_generate_cmd(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    const char *name = argc == 3 ? argv[2] : NULL;
    lv_strs l;
    lv_crl_info info;
    LV_TRY(cli_open(ctx, CLI_NEED_CA | CLI_NEED_KEYS, err));
    if (name != NULL) {
        LV_TRY(crl_generate(ctx->ca, ctx->st, name, ctx->actor, &info, err));
        print_crl(&info);
        return 0;
    }
    int rc = crl_issuers(ctx->st, &l, err);
    for (size_t i = 0; rc == 0 && i < l.count; i++) {
        lv_err e = {0};
        rc = crl_generate(ctx->ca, ctx->st, l.v[i], ctx->actor, &info, &e);
        if (rc == LV_ESTATE) { /* a compromised CA's final CRL stays final */
            printf("%-16s %s\n", l.v[i], e.msg);
            rc = 0;
        } else if (rc < 0)
            rc = lv_fail(err, rc, "%s", e.msg);
        else
            print_crl(&info);
    }
    lv_strs_free(&l);
    return rc;
}

static int crl_list_cmd(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    lv_strs l;
    (void)argc;
    (void)argv;
    LV_TRY(cli_open(ctx, CLI_NEED_CA, err));
    LV_TRY(crl_issuers(ctx->st, &l, err));
    for (size_t i = 0; i < l.count; i++) {
        lv_crl c;
        if (crl_latest(ctx->ca, ctx->st, l.v[i], 0, &c, NULL) < 0) {
            printf("%-16s no CRL yet\n", l.v[i]);
            continue;
        }
        print_crl(&c.info);
        crl_free(&c);
    }
    lv_strs_free(&l);
    return 0;
}

/* crl export CA FILE */
static int crl_export_cmd(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    const char *name = argv[2], *path = argv[3];
    lv_crl c;
    (void)argc;
    LV_TRY(cli_open(ctx, CLI_NEED_CA, err));
    LV_TRY(crl_latest(ctx->ca, ctx->st, name, 1, &c, err));
    int rc = lv_file_write(path, c.der, c.der_len, 0644, err);
    if (rc == 0)
        printf("wrote CRL %s number %lld to %s (DER)\n", name,
               (long long)c.info.number, path);
    crl_free(&c);
    return rc;
}

int cli_crl(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"generate", .min_argc = 2, .max_argc = 3, .act = crl_generate_cmd},
        {"list", .argc = 2, .act = crl_list_cmd},
        {"export", .argc = 4, .act = crl_export_cmd},
        {.usage = "crl: expected `generate [CA]`, `list` or `export CA FILE`"}};
    return cli_dispatch(ctx, argc, argv, subs);
}
