/* llave -d DIR app add NAME [--redirect-uri URI]... [--json] | app list:
 * relying applications of the transaction API (R1.3, R5.6) and, with
 * redirect URIs, OAuth clients of the CSC API (issue 14 item 3: oauth/).
 * The client secret is printed once; only its SHA-256 is stored.
 *
 * Also the remote-signing part of the --demo ceremony: the demo citizen's
 * cloud signing certificate (R5.3, so that CSC credentials/list of a fresh
 * demo shows it) and one demo application, both listed in
 * DIR/demo-credentials.json. */
#include "cli/cli.h"
#include "oauth/oauth.h"
#include "sign/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct app_args {
    const char *name;
    const char *uris[OAUTH_URIS_MAX];
    size_t nuris;
    int as_json;
} app_args;

static int app_add(cli_ctx *ctx, const app_args *a, lv_err *err)
{
    lv_sign_app_secret s;
    LV_TRY(cli_open(ctx, CLI_NEED_STORE, err));
    if (a->nuris)
        LV_TRY(oauth_client_add(ctx->st, a->name, a->uris, a->nuris, ctx->actor,
                                &s, err));
    else
        LV_TRY(sign_app_add(ctx->st, a->name, ctx->actor, &s, err));
    if (a->as_json)
        printf("{\"client_id\": \"%s\", \"client_secret\": \"%s\"}\n",
               s.client_id, s.secret);
    else
        printf("application: %s\nclient id: %s\nclient secret: %s\n"
               "The secret is shown once and stored nowhere: the application "
               "authenticates with HTTP Basic (client id, secret)%s.\n",
               a->name, s.client_id, s.secret,
               a->nuris ? ", and as an OAuth client of /csc/v2/oauth2/" : "");
    OPENSSL_cleanse(&s, sizeof s);
    return 0;
}

/* Each application with its redirect URIs (an OAuth client has some). */
static int add_uris(cli_ctx *ctx, json_t *list, lv_err *err)
{
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *app = json_array_get(list, i), *uris = NULL;
        LV_TRY(oauth_client_uris_json(ctx->st, lv_json_str(app, "client_id"),
                                      &uris, err));
        json_object_set_new(app, "redirect_uris", uris);
    }
    return 0;
}

static int app_list(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    json_t *list = NULL;
    (void)argc;
    (void)argv;
    LV_TRY(cli_open(ctx, CLI_NEED_STORE, err));
    LV_TRY(sign_app_list_json(ctx->st, &list, err));
    if (add_uris(ctx, list, err) < 0) {
        json_decref(list);
        return err->code;
    }
    char *text = json_dumps(list, JSON_INDENT(2));
    json_decref(list);
    if (!text)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    printf("%s\n", text);
    free(text);
    return 0;
}

static int add_args(int argc, char **argv, app_args *a)
{
    memset(a, 0, sizeof *a);
    a->name = argv[2];
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            a->as_json = 1;
        } else if (strcmp(argv[i], "--redirect-uri") == 0 && i + 1 < argc &&
                   a->nuris < OAUTH_URIS_MAX) {
            a->uris[a->nuris++] = argv[++i];
        } else {
            return cli_usage_error("app add: unexpected %s (at most %d "
                                   "--redirect-uri URI)",
                                   argv[i], OAUTH_URIS_MAX);
        }
    }
    return 0;
}

static int app_add_cmd(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    app_args a;
    int rc = add_args(argc, argv, &a);
    return rc ? rc : cli_report(app_add(ctx, &a, &err), &err);
}

int cli_app(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"add", .min_argc = 3, .run = app_add_cmd},
        {"list", .argc = 2, .act = app_list},
        {.usage = "app: expected `add NAME [--redirect-uri URI]... "
                  "[--json]` or `list`"}};
    return cli_dispatch(ctx, argc, argv, subs);
}

/* ---- the --demo ceremony
 * ----------------------------------------------------------- */

/* The demo citizen written by cli_citizen_demo. */
static json_t *demo_citizen(json_t *accounts)
{
    for (size_t i = 0; i < json_array_size(accounts); i++) {
        json_t *a = json_array_get(accounts, i);
        const char *kind = lv_json_str(a, "kind");
        if (kind && strcmp(kind, "citizen") == 0)
            return a;
    }
    return NULL;
}

static int demo_sign(cli_ctx *ctx, json_t *creds, lv_err *err)
{
    lv_sign_app_secret s;
    char serial[65];
    json_t *accounts = json_object_get(creds, "accounts");
    json_t *citizen = demo_citizen(accounts);
    const char *cid = lv_json_str(citizen, "citizen_id");
    if (!cid)
        return lv_fail(err, LV_EINVAL,
                       "demo-credentials.json names no demo citizen");
    lv_sign_env env = {.cfg = &ctx->cfg, .ca = ctx->ca};
    /* R5.3: "on request"; the ceremony asks on the citizen's behalf */
    LV_TRY(sign_credential_issue(&env, ctx->st, cid, "ceremony", serial, err));
    json_object_set_new(citizen, "signing_certificate", json_string(serial));
    LV_TRY(
        sign_app_add(ctx->st, "Demo relying application", "ceremony", &s, err));
    json_array_append_new(
        accounts, json_pack("{s:s, s:s, s:s, s:s}", "kind", "application",
                            "name", "Demo relying application", "client_id",
                            s.client_id, "client_secret", s.secret));
    OPENSSL_cleanse(&s, sizeof s);
    return 0;
}

int cli_app_demo(const lv_config *cfg, lv_err *err)
{
    char path[1024];
    json_t *creds = NULL;
    cli_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.dir = cfg->dir;
    snprintf(ctx.actor, sizeof ctx.actor, "ceremony");
    LV_TRY(lv_path_join(path, sizeof path, cfg->dir, "demo-credentials.json"));
    int rc = lv_json_load_file(path, &creds, err);
    if (rc == 0)
        rc = cli_open(&ctx, CLI_NEED_STORE | CLI_NEED_KEYS | CLI_NEED_CA, err);
    if (rc == 0)
        rc = demo_sign(&ctx, creds, err);
    if (rc == 0)
        rc = cli_demo_creds_save(path, creds, err);
    json_decref(creds);
    cli_close(&ctx);
    return rc;
}
