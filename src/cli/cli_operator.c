/* llave -d DIR operator add LOGIN --role ROLE [--role ROLE]... [--json]
 *              operator list | disable LOGIN | enable LOGIN | reset LOGIN
 *              operator cert LOGIN CERT.pem | operator cert LOGIN --remove
 * (R1.4, R3.6).  The initial password and TOTP URI are printed once and
 * kept nowhere; the demo ceremony's operators go to demo-credentials.json. */
#include "auth/auth.h"
#include "ca/ca.h"
#include "cli/cli.h"
#include "store/store.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The secrets an operator receives, once. */
static void print_secret(const char *login, unsigned roles,
                         const lv_operator_secret *s, int as_json)
{
    char names[256] = "";
    json_t *r = auth_roles_json(roles);
    for (size_t i = 0; r && i < json_array_size(r); i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                 i ? "," : "", json_string_value(json_array_get(r, i)));
    if (as_json) {
        json_t *o =
            json_pack("{s:s, s:O, s:s, s:s, s:s}", "login", login, "roles", r,
                      "password", s->password, "totp_secret", s->totp_secret,
                      "totp_uri", s->totp_uri);
        char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
        if (text)
            printf("%s\n", text);
        json_decref(o);
        if (text)
            OPENSSL_cleanse(text, strlen(text));
        free(text);
    } else {
        printf("operator %s (roles %s)\n", login, names);
        printf("initial password: %s\n", s->password);
        printf("TOTP (RFC 6238, SHA1, 6 digits, 30 s): %s\n", s->totp_uri);
        printf("These are shown once and stored nowhere in clear.\n");
    }
    json_decref(r);
}

static int op_add(cli_ctx *ctx, lv_auth *auth, int argc, char **argv)
{
    unsigned roles = 0;
    int as_json = 0;
    lv_err err = {0};
    for (int i = 3; i < argc; i++) {
        unsigned r = 0;
        if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc &&
                 auth_role_parse(argv[i + 1], &r, &err) == 0 &&
                 r != LV_ROLE_CITIZEN) {
            roles |= r;
            i++;
        } else
            return cli_usage_error("operator add: bad argument %s%s%s", argv[i],
                                   err.msg[0] ? ": " : "", err.msg);
    }
    if (roles == 0)
        return cli_usage_error("operator add: at least one --role ROLE");
    lv_operator_secret s;
    int rc =
        auth_operator_add(auth, ctx->st, argv[2], roles, ctx->actor, &s, &err);
    if (rc == 0)
        print_secret(argv[2], roles, &s, as_json);
    auth_operator_secret_wipe(&s);
    return cli_report(rc, &err);
}

static int print_op(const lv_operator_info *o, void *arg)
{
    char created[32], names[256] = "";
    json_t *r = auth_roles_json(o->roles);
    (void)arg;
    for (size_t i = 0; r && i < json_array_size(r); i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                 i ? "," : "", json_string_value(json_array_get(r, i)));
    json_decref(r);
    lv_time_iso(o->created_at, created);
    printf("%-24s %-8s %-7s roles=%s created=%s by=%s\n", o->login,
           o->enabled ? "enabled" : "disabled", o->locked ? "locked" : "-",
           names, created, o->created_by);
    return 0;
}

static int op_reset(cli_ctx *ctx, lv_auth *auth, int argc, char **argv)
{
    lv_operator_secret s;
    lv_operator_info info;
    lv_err err = {0};
    int as_json = argc == 4 && strcmp(argv[3], "--json") == 0;
    if (argc != 3 && !as_json)
        return cli_usage_error("operator reset: expected LOGIN [--json]");
    int rc = auth_operator_reset(auth, ctx->st, argv[2], ctx->actor, &s, &err);
    if (rc == 0)
        rc = auth_operator_get(ctx->st, argv[2], &info, &err);
    if (rc == 0)
        print_secret(argv[2], info.roles, &s, as_json);
    auth_operator_secret_wipe(&s);
    return cli_report(rc, &err);
}

/* The certificate of a PEM file as DER (OPENSSL_free it). */
static int read_cert_der(const char *path, unsigned char **der, size_t *len,
                         lv_err *err)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    int n = x ? i2d_X509(x, der) : -1;
    X509_free(x);
    if (n <= 0)
        return lv_fail(err, LV_EINVAL, "%s holds no PEM certificate", path);
    *len = (size_t)n;
    return 0;
}

/* operator cert LOGIN CERT.pem: binds a certificate our CA issued and that
 * is valid now, for the login over https (issue 17 item 4); --remove
 * unbinds every certificate of LOGIN. */
static int op_cert(cli_ctx *ctx, lv_auth *auth, int argc, char **argv)
{
    lv_err err = {0};
    if (argc != 4)
        return cli_usage_error("operator cert: expected LOGIN CERT.pem or "
                               "LOGIN --remove");
    if (strcmp(argv[3], "--remove") == 0) {
        int n = 0;
        int rc = auth_operator_cert_unbind(auth, ctx->st, argv[2], ctx->actor,
                                           &n, &err);
        if (rc == 0)
            printf("operator %s: %d certificate(s) unbound\n", argv[2], n);
        return cli_report(rc, &err);
    }
    unsigned char *der = NULL;
    size_t len = 0;
    ca_client_cert cc = {0};
    int rc = read_cert_der(argv[3], &der, &len, &err);
    if (rc == 0) {
        const unsigned char *list[1] = {der};
        rc = ca_client_cert_check(ctx->ca, ctx->st, list, &len, 1, &cc, &err);
    }
    OPENSSL_free(der);
    if (rc == 0 && cc.refusal)
        rc = lv_fail(&err, LV_EINVAL, "certificate %s refused: %s", cc.serial,
                     cc.refusal);
    lv_operator_cert c = {.not_after = rc == 0 ? cc.not_after : 0};
    if (rc == 0) {
        snprintf(c.fingerprint, sizeof c.fingerprint, "%s", cc.fingerprint);
        snprintf(c.serial, sizeof c.serial, "%s", cc.serial);
        snprintf(c.subject, sizeof c.subject, "%s", cc.subject);
        rc = auth_operator_cert_bind(auth, ctx->st, argv[2], &c, ctx->actor,
                                     &err);
    }
    if (rc == 0)
        printf("operator %s: certificate %s (%s) bound, SHA-256 %s\n", argv[2],
               c.serial, c.subject, c.fingerprint);
    return cli_report(rc, &err);
}

static int op_run(cli_ctx *ctx, lv_auth *auth, int argc, char **argv)
{
    lv_err err = {0};
    const char *sub = argv[1];
    if (strcmp(sub, "add") == 0 && argc >= 3)
        return op_add(ctx, auth, argc, argv);
    if (strcmp(sub, "reset") == 0 && argc >= 3)
        return op_reset(ctx, auth, argc, argv);
    if (strcmp(sub, "cert") == 0)
        return op_cert(ctx, auth, argc, argv);
    if (strcmp(sub, "list") == 0 && argc == 2)
        return cli_report(auth_operator_foreach(ctx->st, print_op, NULL, &err),
                          &err);
    if ((strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) &&
        argc == 3) {
        int on = strcmp(sub, "enable") == 0;
        int rc = auth_operator_set_enabled(auth, ctx->st, argv[2], on,
                                           ctx->actor, &err);
        if (rc == 0)
            printf("operator %s %s\n", argv[2], on ? "enabled" : "disabled");
        return cli_report(rc, &err);
    }
    return cli_usage_error("operator: expected `add LOGIN --role ROLE...`, "
                           "`list`, `disable LOGIN`, `enable LOGIN`, "
                           "`reset LOGIN` or `cert LOGIN CERT.pem|--remove`");
}

int cli_operator(cli_ctx *ctx, int argc, char **argv)
{
    lv_auth *auth = NULL;
    lv_err err = {0};
    if (argc < 2)
        return cli_usage_error("operator: missing subcommand");
    /* cert judges the certificate against our CAs */
    int needs =
        CLI_NEED_STORE | (strcmp(argv[1], "cert") == 0 ? CLI_NEED_CA : 0);
    int rc = cli_open(ctx, needs, &err);
    if (rc == 0)
        rc = auth_open(&ctx->cfg, &auth, &err);
    if (rc < 0)
        return cli_report(rc, &err);
    rc = op_run(ctx, auth, argc, argv);
    auth_close(auth);
    return rc;
}

/* ---- the demo ceremony's operators
 * ------------------------------------------- */

/* One operator per role (R1.4), "demo-<role>" with '_' as '-'. */
static int demo_one(lv_auth *auth, lv_store *st, unsigned role, json_t *list,
                    lv_err *err)
{
    char login[64];
    lv_operator_secret s;
    const char *name = auth_role_name(role);
    snprintf(login, sizeof login, "demo-%s", name);
    for (char *p = login; *p; p++)
        if (*p == '_')
            *p = '-';
    LV_TRY(auth_operator_add(auth, st, login, role, "ceremony", &s, err));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "kind", "operator",
                          "login", login, "password", s.password, "totp_secret",
                          s.totp_secret, "roles", name);
    auth_operator_secret_wipe(&s);
    if (!o || json_array_append_new(list, o) != 0)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    return 0;
}

int cli_operator_demo(const lv_config *cfg, lv_err *err)
{
    char db[1024];
    lv_store *st = NULL;
    lv_auth *auth = NULL;
    json_t *accounts = json_array();
    int rc = lv_config_store_location(cfg, db, sizeof db);
    if (rc == 0)
        rc = store_open(db, &st, err);
    if (rc == 0)
        rc = auth_open(cfg, &auth, err);
    for (unsigned bit = 1; rc == 0 && bit & LV_ROLES_OPERATOR; bit <<= 1)
        rc = demo_one(auth, st, bit, accounts, err);
    if (rc == 0)
        rc = cli_demo_accounts_add(cfg->dir, accounts, err);
    json_decref(accounts);
    auth_close(auth);
    store_close(st);
    return rc;
}
