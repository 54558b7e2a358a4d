/* llave -d DIR citizen add --json FILE
 * llave -d DIR citizen show ID
 * llave -d DIR citizen document ID --json FILE
 * llave -d DIR citizen activation ID
 * llave -d DIR citizen issue ID [--profile PROFILE] [--out CERT.pem]
 *
 * Registration at the console (R2.2, R2.6): the operator checked the
 * document face to face; the evidence record names console:<user>. */
#include "cli/cli.h"
#include "ra/ra.h"
#include "store/store.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_auth(cli_ctx *ctx, lv_auth **auth, lv_err *err)
{
    LV_TRY(cli_open(ctx, CLI_NEED_STORE, err));
    return auth_open(&ctx->cfg, auth, err);
}

/* citizen add --json FILE */
static int add(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    json_t *in = NULL;
    lv_auth *auth = NULL;
    ra_registered r;
    LV_TRY(lv_json_load_file(cli_json_arg(argc, argv, 2), &in, err));
    ra_origin origin = {ctx->actor, "console"};
    int rc = open_auth(ctx, &auth, err);
    if (rc == 0)
        rc = ra_citizen_register(auth, ctx->st, in, &origin, &r, err);
    if (rc == 0) {
        printf("registered citizen %s (%s), user id %s\n", r.citizen_id,
               r.person_id, r.user_id);
        if (r.activation_sent)
            printf("activation code sent by SMS (R3.1)\n");
        else
            printf("activation code NOT sent: %s\n(retry with `llave citizen "
                   "activation %s`)\n",
                   r.activation_error, r.citizen_id);
    }
    auth_close(auth);
    json_decref(in);
    return rc;
}

/* citizen document ID --json FILE */
static int document(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    const char *id = argv[2];
    json_t *in = NULL;
    LV_TRY(lv_json_load_file(cli_json_arg(argc, argv, 2), &in, err));
    ra_origin origin = {ctx->actor, "console"};
    int rc = cli_open(ctx, CLI_NEED_STORE, err);
    if (rc == 0)
        rc = ra_citizen_replace_document(ctx->st, id, in, &origin, err);
    if (rc == 0)
        printf("identity document of citizen %s replaced; certificates kept "
               "(R2.5)\n",
               id);
    json_decref(in);
    return rc;
}

/* citizen activation ID */
static int activation(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    lv_auth *auth = NULL;
    (void)argc;
    int rc = open_auth(ctx, &auth, err);
    if (rc == 0)
        rc = ra_citizen_activation_resend(auth, ctx->st, argv[2], ctx->actor,
                                          err);
    if (rc == 0)
        printf("activation code sent by SMS\n");
    auth_close(auth);
    return rc;
}

/* R5.3: the citizen's signing certificate, asked for in person. */
static int issue(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    const char *profile = NULL, *out = NULL;
    lv_issue_result r;
    for (int i = 3; i < argc && argv[i] != NULL; i++) {
        if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
            profile = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else
            return lv_fail(err, LV_EINVAL, "citizen issue: unexpected %s",
                           argv[i]);
    }
    LV_TRY(cli_open(ctx, CLI_NEED_CA | CLI_NEED_KEYS, err));
    LV_TRY(ra_citizen_issue(ctx->ca, ctx->st, argv[2], profile, ctx->actor, &r,
                            err));
    int rc = cli_write_cert_pem(out, r.cert, err);
    if (rc == 0)
        fprintf(stderr, "issued serial=%s\n", r.serial);
    ca_issue_result_free(&r);
    return rc;
}

/* citizen show ID */
static int show(cli_ctx *ctx, int argc, char **argv, lv_err *err)
{
    (void)argc;
    return cli_show_json(ctx, ra_citizen_json, argv[2], err);
}

int cli_citizen(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"add", .argc = 4, .json = 1, .act = add},
        {"show", .argc = 3, .act = show},
        {"document", .argc = 5, .json = 1, .act = document},
        {"activation", .argc = 3, .act = activation},
        {"issue", .min_argc = 3, .act = issue},
        {.usage = "citizen: expected `add --json FILE`, `show ID`, "
                  "`document ID --json FILE`, `activation ID` or "
                  "`issue ID`"}};
    return cli_dispatch(ctx, argc, argv, subs);
}

/* ---- the --demo citizen ----------------------------------------------------
 */

#define DEMO_PASSWORD "Llave-Demo-Citizen-1"
#define DEMO_MOBILE "+34600000001"

/* A fictitious citizen in the style of CPS §1.4.3's test data; the DNI
 * number's check letter is valid.  The document expires in five years. */
static json_t *demo_registration(void)
{
    char expiry[32];
    lv_time_iso(lv_now() + (int64_t)5 * 365 * 86400, expiry);
    expiry[10] = '\0';
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, "
                     "s:s}",
                     "given_name", "Ciudadana", "surname", "Demo Pruebas",
                     "birth_date", "1980-01-01", "mobile", DEMO_MOBILE, "email",
                     "ciudadana.demo@example.es", "level", "advanced",
                     "document", "type", "DNI", "number", "99999999R", "expiry",
                     expiry, "evidence_ref",
                     "demo installation (no real evidence)");
}

/* Registered without the SMS, then activated with a letter code so that the
 * password is known (R3.1 by letter). */
static int demo_register(lv_auth *auth, lv_store *st, ra_registered *r,
                         lv_err *err)
{
    char code[LV_AUTH_CODE_MAX];
    json_t *in = demo_registration();
    ra_origin origin = {"ceremony", "console"};
    int rc = in ? ra_citizen_register(NULL, st, in, &origin, r, err)
                : lv_fail(err, LV_ENOMEM, "out of memory");
    json_decref(in);
    if (rc == 0)
        rc = auth_citizen_activation_start(auth, st, r->citizen_id, r->user_id,
                                           DEMO_MOBILE, LV_ACTIVATION_LETTER,
                                           "ceremony", code, err);
    if (rc == 0)
        rc = auth_citizen_activate(auth, st, r->user_id, code, DEMO_PASSWORD,
                                   NULL, NULL, err);
    OPENSSL_cleanse(code, sizeof code);
    return rc;
}

/* Appends the citizen to the "accounts" of demo-credentials.json. */
static int demo_write(const char *dir, const ra_registered *r, lv_err *err)
{
    json_t *me =
        json_pack("[{s:s, s:s, s:s, s:s, s:s, s:s, s:s}]", "kind", "citizen",
                  "citizen_id", r->citizen_id, "user_id", r->user_id,
                  "password", DEMO_PASSWORD, "mobile", DEMO_MOBILE, "person_id",
                  r->person_id, "level", "advanced");
    int rc = me ? cli_demo_accounts_add(dir, me, err)
                : lv_fail(err, LV_ENOMEM, "out of memory");
    json_decref(me);
    return rc;
}

int cli_citizen_demo(const lv_config *cfg, lv_err *err)
{
    char db[1024];
    lv_store *st = NULL;
    lv_auth *auth = NULL;
    ra_registered r;
    int rc = lv_config_store_location(cfg, db, sizeof db);
    if (rc == 0)
        rc = store_open(db, &st, err);
    if (rc == 0)
        rc = auth_open(cfg, &auth, err);
    if (rc == 0)
        rc = demo_register(auth, st, &r, err);
    if (rc == 0)
        rc = demo_write(cfg->dir, &r, err);
    auth_close(auth);
    store_close(st);
    return rc;
}
