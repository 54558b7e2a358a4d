/* The public repository from the operator's side (R8.1, R8.2): only the
 * console changes it, and every change is audited.
 *   llave -d DIR repository list          the index, as JSON
 *   llave -d DIR repository install       placeholder CPS/PDS where missing
 *   llave -d DIR repository put NAME FILE replace a policy document */
#include "cli/cli.h"
#include "repo/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPO_FILE_MAX ((size_t)16 * 1024 * 1024)

static int repo_list(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    json_t *idx = NULL;
    (void)argc;
    (void)argv;
    LV_TRY(cli_open(ctx, CLI_NEED_CA, err));
    LV_TRY(repo_install_defaults(&ctx->cfg, err));
    LV_TRY(repo_index(ctx->ca, ctx->st, 0, 1000, &idx, err));
    int rc = json_dumpf(idx, stdout, JSON_INDENT(2)) == 0 ? 0 : LV_EIO;
    putchar('\n');
    json_decref(idx);
    return rc;
}

/* repository put NAME FILE */
static int repo_put(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    const char *name = argv[2], *path = argv[3];
    unsigned char *data = NULL;
    (void)argc;
    size_t len = 0;
    LV_TRY(lv_file_read(path, &data, &len, REPO_FILE_MAX, err));
    int rc = cli_open(ctx, CLI_NEED_CA, err);
    if (rc == 0)
        rc = repo_doc_put(ctx->ca, ctx->st, name, data, len, ctx->actor, err);
    if (rc == 0)
        printf("published %s (%zu bytes) in %s/repository/\n", name, len,
               ctx->dir);
    free(data);
    return rc;
}

static int repo_install(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    (void)argc;
    (void)argv;
    LV_TRY(cli_open(ctx, CLI_NEED_STORE, err));
    LV_TRY(repo_install_defaults(&ctx->cfg, err));
    printf("policy documents in %s/repository/\n", ctx->dir);
    return 0;
}

int cli_repository(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"list", .argc = 2, .act = repo_list},
        {"install", .argc = 2, .act = repo_install},
        {"put", .argc = 4, .act = repo_put},
        {.usage = "repository: expected `list`, `install` or `put NAME FILE`"}};
    return cli_dispatch(ctx, argc, argv, subs);
}
