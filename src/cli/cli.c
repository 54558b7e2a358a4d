/* Argument dispatch and the shared context of the `llave` commands. */
#include "cli/cli.h"

#include "custody/custody.h"
#include "keys/keys.h"
#include "store/store.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: llave init DIR [--demo] [--config FILE] [--participants NAMES]\n"
    "                  [--keystore file|pkcs11 --pkcs11-module PATH\n"
    "                   --pkcs11-token LABEL [--pkcs11-pin-file PATH]]\n"
    "                  (PKCS#11 user PIN: the file or LLAVE_PKCS11_PIN)\n"
    "       llave restore BUNDLE DIR --key CUSTODIAN_KEY.pem [--cert CERT]\n"
    "                     [--pkcs11-pin-file PATH]  (PKCS#11 installs)\n"
    "       llave -d DIR [--share FILE]... COMMAND ...\n"
    "\n"
    "commands:\n"
    "  ca export OUTDIR                 write the CA chain as PEM\n"
    "  ca list                          list CA and service certificates\n"
    "  profile list                     list the certificate profiles\n"
    "  profile show ID                  one profile of the table, as JSON\n"
    "  cert issue PROFILE --subject FILE.json [--csr REQ.pem] [--out "
    "CERT.pem]\n"
    "             [--p12 OUT.p12 --p12-password-file FILE]\n"
    "  cert show SERIAL                 print a certificate (PEM)\n"
    "  audit verify [--expect-seq N]    check the audit hash chain and seals\n"
    "  audit seal                       seal the trail now (signature + "
    "RFC 3161)\n"
    "  audit export [--from SEQ]        the trail as JSON lines, with seals\n"
    "  unseal [--socket PATH]           submit custodian shares to llave-keyd\n"
    "  shares rotate                    two current shares in, three new out\n"
    "  backup create OUT --recipient CUSTODIAN_CERT.pem\n"
    "                                   encrypted bundle for the custodian\n"
    "  archive sync | archive verify    record / check archived records\n"
    "  store migrate --to CONNINFO      move the SQLite store into a new,\n"
    "                                   empty PostgreSQL database (llaved\n"
    "                                   stopped); then llave.json names it\n"
    "  termination export OUTDIR        status data for another provider\n"
    "  operator add LOGIN --role ROLE [--role ROLE]... [--json]\n"
    "                                   new operator; prints the initial\n"
    "                                   password and TOTP URI once\n"
    "  operator list | disable LOGIN | enable LOGIN | reset LOGIN [--json]\n"
    "  operator cert LOGIN CERT.pem | operator cert LOGIN --remove\n"
    "                                   bind (or unbind) a client certificate\n"
    "                                   of ours for the login over https\n"
    "  cert revoke SERIAL --reason REASON [--requester WHO]\n"
    "              [--invalidity-date DATE]   revoke (RFC 5280 reason name)\n"
    "  cert publish SERIAL --consent|--withdraw  repository publication\n"
    "  ca compromise CA                 key compromise drill (revokes all;\n"
    "                                   two operators confirm on stdin)\n"
    "  ca rollover CA                   key change-over: new CA key and DN\n"
    "  ca add-tls                       a TLS issuing CA for the website\n"
    "                                   profiles (installs before issue 13)\n"
    "  crl generate [CA] | crl list | crl export CA FILE.crl\n"
    "  repository list | install | put NAME FILE.pdf\n"
    "  tsa stamp FILE [--out FILE.tsr] [--unit NAME] [--digest sha384]\n"
    "            [--no-cert]            RFC 3161 time-stamp of FILE\n"
    "  tsa add-unit NAME [--key-type ec-p256] [--cn CN]\n"
    "                                   another time-stamping unit\n"
    "  tsa units                        TSA units, policy and clock state\n"
    "  citizen add --json FILE          register a citizen face to face "
    "(R2.2)\n"
    "  citizen show ID | activation ID  the record; resend the activation "
    "code\n"
    "  citizen document ID --json FILE  duplicate or renewed document (R2.5)\n"
    "  citizen issue ID [--profile P] [--out CERT.pem]  signing certificate\n"
    "  app add NAME [--redirect-uri URI]... [--json]\n"
    "                                   register a relying application of the\n"
    "                                   transaction API (with redirect URIs:\n"
    "                                   an OAuth client of /csc/v2/oauth2/);\n"
    "                                   prints its secret once\n"
    "  app list                         the registered applications\n"
    "  org add --json FILE | show ID    organizations (R2.7)\n"
    "  org representative|member ORG --json FILE\n"
    "  org request --json FILE          certificate request (decided over\n"
    "                                   the API by a second officer, R1.5)\n"
    "  org requests [--status STATUS]   list requests\n"
    "\n"
    "Key operations go through llave-keyd: the running one on DIR's socket "
    "when\n"
    "it is unsealed, otherwise one started for the command, which opens the\n"
    "key store with the demo share file when the install is a demo, otherwise\n"
    "with two custodian shares given as --share FILE (one share per file) or\n"
    "typed on standard input.\n";

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("llave: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n\n", stderr);
    fputs(USAGE, stderr);
    va_end(ap);
    return 2;
}

int cli_report(int rc, const lv_err *err)
{
    if (rc >= 0)
        return 0;
    const char *msg = err && err->msg[0] ? err->msg : lv_err_name(rc);
    fprintf(stderr, "llave: %s\n", msg);
    return 1;
}

static void set_actor(cli_ctx *ctx)
{
    const char *user = getenv("LLAVE_OPERATOR");
    struct passwd *pw = user ? NULL : getpwuid(getuid());
    if (user == NULL)
        user = pw ? pw->pw_name : "unknown";
    snprintf(ctx->actor, sizeof ctx->actor, "console:%s", user);
}

int cli_read_share_line(FILE *in, char *out, size_t cap)
{
    while (fgets(out, (int)cap, in) != NULL) {
        out[strcspn(out, "\r\n")] = '\0';
        if (out[0] != '\0' && out[0] != '#')
            return 0;
    }
    return LV_EINVAL;
}

int cli_keyd_socket(const cli_ctx *ctx, const char *given, char *out,
                    size_t cap, lv_err *err)
{
    const char *p = given ? given : ctx->cfg.keyd_socket;
    if (p && p[0])
        return snprintf(out, cap, "%s", p) < (int)cap
                   ? 0
                   : lv_fail(err, LV_EINVAL, "socket path too long");
    return keyc_default_path(ctx->dir, out, cap, err);
}

static int unseal_child(const char *sock, const char *const *shares, size_t n,
                        lv_err *err)
{
    keyc *c = NULL;
    keyc_unseal_progress p = {.sealed = 1};
    LV_TRY(keyc_connect(sock, KEYD_CALLER_CUSTODIAN, &c, err));
    int rc = n >= LV_SHARES_NEEDED
                 ? 0
                 : lv_fail(err, LV_EAUTH, "%d custodian shares are needed",
                           LV_SHARES_NEEDED);
    for (size_t i = 0; rc == 0 && i < n && p.sealed; i++)
        rc = keyc_unseal_share(c, shares[i], &p, err);
    keyc_close(c);
    return rc;
}

int cli_keyd_child(lv_config *cfg, const char *const *shares, size_t n,
                   pid_t *pid, lv_err *err)
{
    char sock[108];
    keyc *c = NULL;
    keyc_info info = {0};
    static int serial; /* init runs nested commands, each with a keyd */
    /* a socket of its own: a daemon started meanwhile takes DIR/keyd.sock */
    int len = snprintf(sock, sizeof sock, "%s/keyd-console-%ld-%d.sock",
                       cfg->dir, (long)getpid(), ++serial);
    if (len < 0 || len >= (int)sizeof sock)
        return lv_fail(err, LV_EINVAL,
                       "%s is too long a path for llave-keyd's socket",
                       cfg->dir);
    keyc_spawn_opts o = {
        .dir = cfg->dir, .socket_path = sock, .max_conns = 16, .quiet = 1};
    LV_TRY(keyc_spawn(&o, pid, err));
    int rc = keyc_connect(sock, KEYD_CALLER_CONSOLE, &c, err);
    if (rc == 0)
        rc = keyc_status(c, &info, err);
    keyc_close(c);
    if (rc == 0 && info.sealed)
        rc = unseal_child(sock, shares, n, err);
    if (rc < 0) {
        keyc_child_stop(*pid);
        *pid = -1;
        return rc;
    }
    snprintf(cfg->keyd_socket, sizeof cfg->keyd_socket, "%s", sock);
    return 0;
}

/* 1 when the keyd on DIR's socket answers and is unsealed. */
static int daemon_keyd_ready(const char *sock)
{
    keyc *c = NULL;
    keyc_info info = {0};
    if (keyc_connect(sock, KEYD_CALLER_CONSOLE, &c, NULL) < 0)
        return 0;
    int ok = keyc_status(c, &info, NULL) == 0 && !info.sealed;
    keyc_close(c);
    return ok;
}

static int read_shares_for_keys(cli_ctx *ctx, char shares[][LV_SHARE_TEXT_MAX],
                                lv_err *err)
{
    for (size_t i = 0; i < LV_SHARES_NEEDED; i++) {
        FILE *in = stdin;
        if (i < ctx->share_file_count)
            in = fopen(ctx->share_files[i], "r");
        else if (isatty(STDIN_FILENO))
            fprintf(stderr, "custodian share %zu of %d: ", i + 1,
                    LV_SHARES_NEEDED);
        if (in == NULL)
            return lv_fail(err, LV_EIO, "cannot read %s", ctx->share_files[i]);
        int rc = cli_read_share_line(in, shares[i], LV_SHARE_TEXT_MAX);
        if (in != stdin)
            fclose(in);
        if (rc < 0)
            return lv_fail(err, LV_EAUTH, "custodian share %zu is missing",
                           i + 1);
    }
    return 0;
}

/* The console reaches keys as llaved does, through llave-keyd (issue 12
 * item 1): the daemon's keyd when one is live and unsealed on DIR's socket;
 * otherwise a keyd of its own for this command, opened with the demo
 * shares (keyd reads them itself) or with the two shares the command takes
 * (--share FILE or standard input), handed over the socket. */
static int open_keys(cli_ctx *ctx, lv_err *err)
{
    char sock[108], path[1024];
    char shares[LV_SHARES_NEEDED][LV_SHARE_TEXT_MAX];
    const char *ptrs[LV_SHARES_NEEDED];
    size_t n = 0;
    LV_TRY(cli_keyd_socket(ctx, NULL, sock, sizeof sock, err));
    if (daemon_keyd_ready(sock)) {
        snprintf(ctx->cfg.keyd_socket, sizeof ctx->cfg.keyd_socket, "%s", sock);
        ctx->keys_ready = 1;
        return 0;
    }
    LV_TRY(lv_path_join(path, sizeof path, ctx->dir, LV_DEMO_SHARES_FILE));
    int rc = 0;
    if (access(path, F_OK) != 0) {
        rc = read_shares_for_keys(ctx, shares, err);
        for (size_t i = 0; i < LV_SHARES_NEEDED; i++)
            ptrs[i] = shares[i];
        n = LV_SHARES_NEEDED;
    }
    if (rc == 0)
        rc = cli_keyd_child(&ctx->cfg, ptrs, n, &ctx->keyd_pid, err);
    OPENSSL_cleanse(shares, sizeof shares);
    if (rc == 0)
        ctx->keys_ready = 1;
    return rc;
}

int cli_open(cli_ctx *ctx, int needs, lv_err *err)
{
    char db[1024];
    if (ctx->dir == NULL)
        return lv_fail(err, LV_EINVAL, "this command needs -d DIR");
    if (ctx->st == NULL) {
        LV_TRY(lv_config_load(&ctx->cfg, ctx->dir, err));
        LV_TRY(lv_config_store_location(&ctx->cfg, db, sizeof db));
        if (!lv_config_store_is_pg(&ctx->cfg) && access(db, F_OK) != 0)
            return lv_fail(err, LV_ENOTFOUND,
                           "%s is not a llave installation (run `llave init "
                           "%s` first)",
                           ctx->dir, ctx->dir);
        LV_TRY(store_open(db, &ctx->st, err));
    }
    if ((needs & CLI_NEED_KEYS) && !ctx->keys_ready)
        LV_TRY(open_keys(ctx, err));
    if ((needs & CLI_NEED_CA) && ctx->ca == NULL)
        LV_TRY(ca_open(&ctx->cfg, ctx->st, KEYD_CALLER_CONSOLE, &ctx->ca, err));
    return 0;
}

void cli_close(cli_ctx *ctx)
{
    ca_close(ctx->ca);
    keyc_child_stop(ctx->keyd_pid); /* keyd wipes its keys as it stops */
    store_close(ctx->st);
    ctx->ca = NULL;
    ctx->keyd_pid = 0;
    ctx->keys_ready = 0;
    ctx->st = NULL;
}

typedef struct command {
    const char *name;
    cli_command *run;
} command;

static const command COMMANDS[] = {
    {"ca", cli_ca},
    {"cert", cli_cert},
    {"profile", cli_profile},
    {"audit", cli_audit},
    {"operator", cli_operator},
    {"crl", cli_crl},
    {"repository", cli_repository},
    {"tsa", cli_tsa},
    {"citizen", cli_citizen},
    {"org", cli_org},
    {"unseal", cli_unseal},
    {"shares", cli_shares},
    {"backup", cli_backup},
    {"archive", cli_archive},
    {"termination", cli_termination},
    {"app", cli_app},
    {"store", cli_store},
};

static int parse_globals(cli_ctx *ctx, int argc, char **argv, int *next)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            ctx->dir = argv[++i];
        } else if (strcmp(argv[i], "--share") == 0 && i + 1 < argc &&
                   ctx->share_file_count < 3) {
            ctx->share_files[ctx->share_file_count++] = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            fputs(USAGE, stdout);
            return 1;
        } else {
            return cli_usage_error("unknown option %s", argv[i]);
        }
    }
    *next = i;
    return 0;
}

int cli_main(int argc, char **argv)
{
    cli_ctx ctx;
    int next = 0;
    memset(&ctx, 0, sizeof ctx);
    set_actor(&ctx);
    if (argc >= 2 && strcmp(argv[1], "init") == 0)
        return cli_init(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "restore") == 0)
        return cli_restore(argc - 1, argv + 1);
    int rc = parse_globals(&ctx, argc, argv, &next);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if (next >= argc)
        return cli_usage_error("missing command");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
        if (strcmp(COMMANDS[i].name, argv[next]) == 0) {
            rc = COMMANDS[i].run(&ctx, argc - next, argv + next);
            cli_close(&ctx);
            return rc;
        }
    }
    return cli_usage_error("unknown command '%s'", argv[next]);
}
