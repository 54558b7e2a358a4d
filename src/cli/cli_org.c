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

static int person(cli_ctx *ctx, const char *org, const char *role,
                  const char *path, lv_err *err)
{
    json_t *in = NULL;
    char id[RA_ID_LEN + 1];
    LV_TRY(lv_json_load_file(path, &in, err));
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
    lv_err err = {0};
    const char *sub = argc >= 2 ? argv[1] : "";
    const char *json = cli_json_arg(argc, argv, 2);
    if (strcmp(sub, "add") == 0 && argc == 4 && json)
        return cli_report(
            create(ctx, json, ra_org_create, "organization", "", &err), &err);
    if (strcmp(sub, "show") == 0 && argc == 3)
        return cli_report(cli_show_json(ctx, ra_org_json, argv[2], &err), &err);
    if ((strcmp(sub, "representative") == 0 || strcmp(sub, "member") == 0) &&
        argc == 5 && json)
        return cli_report(person(ctx, argv[2], sub, json, &err), &err);
    if (strcmp(sub, "request") == 0 && argc == 4 && json)
        return cli_report(create(ctx, json, ra_request_create, "request",
                                 " pending: another officer approves or "
                                 "rejects it (R1.5)",
                                 &err),
                          &err);
    if (strcmp(sub, "requests") == 0)
        return cli_report(requests(ctx, argc, argv, &err), &err);
    return cli_usage_error("org: expected `add`, `show`, `representative`, "
                           "`member`, `request` or `requests`");
}
