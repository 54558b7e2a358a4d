/* llave -d DIR org add --json FILE
 * llave -d DIR org show ID
 * llave -d DIR org representative ORG --json FILE
 * llave -d DIR org member ORG --json FILE
 * llave -d DIR org request --json FILE
 * llave -d DIR org requests [--status pending|approved|rejected]
 *
 * Organizations and their people (R2.7) and certificate requests (R2.8).
 * Approving or rejecting a request is deliberately not a console command:
 * the two-person rule (R1.5) needs two authenticated officers, and the
 * console's identity is only the operating-system user (or
 * $LLAVE_OPERATOR), which one person can change at will.  Decisions go
 * through POST /api/v1/ra/requests/{id}/approve|reject. */
#include "cli/cli.h"
#include "ra/ra.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*ra_create_fn)(lv_store *st, const json_t *in, const char *actor,
                            char id_out[RA_ID_LEN + 1], lv_err *err);

/* `org add` and `org request`: a record made from the JSON at path; prints
 * "<label> <id><note>". */
static int create(cli_ctx *ctx, const char *path, ra_create_fn make,
                  const char *label, const char *note, lv_err *err)
{
    json_t *in = NULL;
    char id[RA_ID_LEN + 1];
    LV_TRY(lv_json_load_file(path, &in, err));
    int rc = cli_open(ctx, CLI_NEED_STORE, err);
    if (rc == 0)
        rc = make(ctx->st, in, ctx->actor, id, err);
    if (rc == 0)
        printf("%s %s%s\n", label, id, note);
    json_decref(in);
    return rc;
}

/* org add --json FILE */
static int org_add(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    return create(ctx, cli_json_arg(argc, argv, 2), ra_org_create,
                  "organization", "", err);
}

/* org request --json FILE */
static int org_request(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    return create(
        ctx, cli_json_arg(argc, argv, 2), ra_request_create, "request",
        " pending: another officer approves or rejects it (R1.5)", err);
}

static int org_show(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    (void)argc;
    return cli_show_json(ctx, ra_org_json, argv[2], err);
}

/* org representative|member ORG --json FILE: the role is the subcommand */
static int person(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    const char *org = argv[2], *role = argv[1];
    json_t *in = NULL;
    char id[RA_ID_LEN + 1];
    LV_TRY(lv_json_load_file(cli_json_arg(argc, argv, 2), &in, err));
    int rc = cli_open(ctx, CLI_NEED_STORE, err);
    if (rc == 0)
        rc = ra_org_add_person(ctx->st, org, role, in, ctx->actor, id, err);
    if (rc == 0)
        printf("%s %s\n", role, id);
    json_decref(in);
    return rc;
}

static int requests(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    const char *status = NULL;
    if (argc == 4 && strcmp(argv[2], "--status") == 0)
        status = argv[3];
    else if (argc != 2)
        return lv_fail(err, LV_EINVAL, "org requests [--status STATUS]");
    return cli_show_json(ctx, ra_request_list_json, status, err);
}

int cli_org(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"add", .argc = 4, .json = 1, .act = org_add},
        {"show", .argc = 3, .act = org_show},
        {"representative", .argc = 5, .json = 1, .act = person},
        {"member", .argc = 5, .json = 1, .act = person},
        {"request", .argc = 4, .json = 1, .act = org_request},
        {"requests", .act = requests},
        {.usage = "org: expected `add`, `show`, `representative`, "
                  "`member`, `request` or `requests`"}};
    return cli_dispatch(ctx, argc, argv, subs);
}
