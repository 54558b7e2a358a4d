/* llave init DIR [--demo] [--config FILE] [--participants NAMES]
 *                [--keystore file|pkcs11 --pkcs11-module PATH
 *                 --pkcs11-token LABEL [--pkcs11-pin-file PATH]]:
 * the key ceremony (R4.2, CPS §6.1.1).
 *
 * issue 16: --keystore pkcs11 puts the CA and service keys on a PKCS#11
 * token.  The user PIN comes from --pkcs11-pin-file or the environment
 * variable LLAVE_PKCS11_PIN, never from the command line (ps, shell
 * history); the token is logged in to before anything is written, so a
 * missing module or token and a wrong PIN leave no trace.  The choice is
 * recorded in llave.json (keystore, pkcs11_module, pkcs11_token,
 * pkcs11_pin_file), which llave-keyd checks against DIR/keys at start.
 *
 * The one moment the key store is created, so the one place besides
 * llave-keyd where key code runs (issue 12): the console creates the store
 * and its three custodian shares (keys_create), starts a llave-keyd of its
 * own on the new store, hands it two shares over its socket (custodian
 * class) and runs the ceremony through it (console class): every CA and
 * service key is generated inside keyd and never exists elsewhere (EN 419
 * 241-2).  llaved links none of this. */
#include "cli/cli.h"
#include "custody/custody.h"
#include "keys/keys.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define PIN_ENV CLI_PIN_ENV
#define PIN_MAX CLI_PIN_MAX

typedef struct init_args {
    const char *dir;
    const char *config;
    const char *participants;
    const char *keystore;
    const char *p11_module;
    const char *p11_token;
    const char *p11_pin_file;
    int demo;
} init_args;

/* The PKCS#11 options: value-taking flags of init (NULL: not one). */
static const char **p11_flag(init_args *a, const char *name)
{
    return strcmp(name, "--keystore") == 0          ? &a->keystore
           : strcmp(name, "--pkcs11-module") == 0   ? &a->p11_module
           : strcmp(name, "--pkcs11-token") == 0    ? &a->p11_token
           : strcmp(name, "--pkcs11-pin-file") == 0 ? &a->p11_pin_file
                                                    : NULL;
}

static int check_keystore_args(const init_args *a)
{
    int p11 = a->keystore && strcmp(a->keystore, "pkcs11") == 0;
    if (a->keystore && !p11 && strcmp(a->keystore, "file") != 0)
        return cli_usage_error("init: --keystore is \"file\" (default) or "
                               "\"pkcs11\", not %s",
                               a->keystore);
    if (!p11 && (a->p11_module || a->p11_token || a->p11_pin_file))
        return cli_usage_error("init: --pkcs11-* options need --keystore "
                               "pkcs11");
    if (p11 && (!a->p11_module || !a->p11_token))
        return cli_usage_error("init: --keystore pkcs11 needs "
                               "--pkcs11-module PATH and --pkcs11-token LABEL");
    if (p11 && a->p11_module[0] != '/')
        return cli_usage_error("init: --pkcs11-module must be an absolute "
                               "path (%s)",
                               a->p11_module);
    return 0;
}

static int parse(int argc, char **argv, init_args *a)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--demo") == 0)
            a->demo = 1;
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            a->config = argv[++i];
        else if (strcmp(argv[i], "--participants") == 0 && i + 1 < argc)
            a->participants = argv[++i];
        else if (strncmp(argv[i], "--pkcs11-pin", 12) == 0 &&
                 strcmp(argv[i], "--pkcs11-pin-file") != 0)
            return cli_usage_error("init: the token PIN is never taken on "
                                   "the command line: set " PIN_ENV
                                   " or use --pkcs11-pin-file PATH");
        else if (p11_flag(a, argv[i]) && i + 1 < argc) {
            const char **slot = p11_flag(a, argv[i]);
            *slot = argv[++i];
        } else if (argv[i][0] != '-' && a->dir == NULL)
            a->dir = argv[i];
        else
            return cli_usage_error("init: unexpected argument %s", argv[i]);
    }
    if (!a->dir)
        return cli_usage_error("init: missing DIR");
    return check_keystore_args(a);
}

/* issue 16: the back end goes into llave.json (written by
 * custody_ceremony_prepare), the token is tried before that. */
static int keystore_config(const init_args *a, lv_config *cfg,
                           char pin[PIN_MAX + 1], lv_err *err)
{
    if (!a->keystore || strcmp(a->keystore, "pkcs11") != 0)
        return 0;
    LV_TRY(cli_pkcs11_pin("--keystore pkcs11", a->p11_pin_file, pin, err));
    if (snprintf(cfg->pkcs11_module, sizeof cfg->pkcs11_module, "%s",
                 a->p11_module) >= (int)sizeof cfg->pkcs11_module ||
        snprintf(cfg->pkcs11_token, sizeof cfg->pkcs11_token, "%s",
                 a->p11_token) >= (int)sizeof cfg->pkcs11_token ||
        snprintf(cfg->pkcs11_pin_file, sizeof cfg->pkcs11_pin_file, "%s",
                 a->p11_pin_file ? a->p11_pin_file : "") >=
            (int)sizeof cfg->pkcs11_pin_file)
        return lv_fail(err, LV_EINVAL,
                       "module path, token label (32 bytes) or PIN file "
                       "path too long");
    snprintf(cfg->keystore, sizeof cfg->keystore, "pkcs11");
    lv_p11_conf conf = {cfg->pkcs11_module, cfg->pkcs11_token, pin};
    return keys_pkcs11_check(&conf, err);
}

static int load_config(const init_args *a, lv_config *cfg, lv_err *err)
{
    lv_config_defaults(cfg, a->dir);
    /* R7.2's clock guard stays on in production; a demo machine's clock is
     * often not NTP-disciplined (containers), so the demo starts with it
     * off unless --config says otherwise. */
    if (a->demo)
        cfg->tsa_require_clock_sync = 0;
    if (a->config == NULL)
        return 0;
    json_t *json = NULL;
    LV_TRY(lv_json_load_file(a->config, &json, err));
    int rc = lv_config_apply_json(cfg, json, err);
    json_decref(json);
    return rc;
}

static void print_shares(const init_args *a,
                         char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX])
{
    if (a->demo) {
        printf("DEMO install: two custodian shares were stored in %s/%s "
               "(INSECURE).\n",
               a->dir, LV_DEMO_SHARES_FILE);
        printf("Demo accounts are listed in %s/demo-credentials.json\n",
               a->dir);
        return;
    }
    printf("Custodian shares (R9.5): hand one to each custodian; any two "
           "open the key store.\nThey are shown once and stored nowhere.\n");
    for (int i = 0; i < LV_SHARES_TOTAL; i++)
        printf("  custodian %d: %s\n", i + 1, shares[i]);
}

#define DEMO_HEADER                                                            \
    "# INSECURE - demo installation only.\n"                                   \
    "# Two of the three custodian shares are kept here so that llave-keyd\n"   \
    "# can start unattended.  A production install never writes this file:\n"  \
    "# each custodian keeps one share and two of them unseal the key store.\n"

static int write_demo_files(const lv_config *cfg,
                            char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX],
                            lv_err *err)
{
    char path[1024];
    lv_buf b = {0};
    int rc =
        lv_buf_appendf(&b, "%s%s\n%s\n", DEMO_HEADER, shares[0], shares[1]);
    if (rc == 0)
        rc = lv_path_join(path, sizeof path, cfg->dir, LV_DEMO_SHARES_FILE);
    if (rc == 0)
        rc = lv_file_write(path, b.data, b.len, 0600, err);
    lv_buf_free_secret(&b);
    json_t *creds = json_pack(
        "{s:s, s:s, s:[]}", "warning",
        "Demo installation: these credentials are public. Never use in "
        "production.",
        "custodian_shares", LV_DEMO_SHARES_FILE, "accounts");
    char *text = json_dumps(creds, JSON_INDENT(2));
    json_decref(creds);
    if (rc == 0)
        rc = lv_path_join(path, sizeof path, cfg->dir, "demo-credentials.json");
    if (rc == 0 && text != NULL)
        rc = lv_file_write(path, text, strlen(text), 0600, err);
    free(text);
    return rc;
}

static int create_store(const lv_config *cfg, const char *pin,
                        char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX],
                        lv_err *err)
{
    if (strcmp(cfg->keystore, "pkcs11") != 0)
        return keys_create(cfg->dir, shares, err);
    lv_p11_conf conf = {cfg->pkcs11_module, cfg->pkcs11_token, pin};
    return keys_create_pkcs11(cfg->dir, &conf, shares, err);
}

/* Key store, the console's keyd (unsealed with two shares), ceremony. */
static int ceremony(lv_config *cfg, const lv_ceremony_opts *opts,
                    const char *pin,
                    char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX],
                    pid_t *keyd, lv_err *err)
{
    const char *two[LV_SHARES_NEEDED] = {shares[0], shares[1]};
    LV_TRY(custody_ceremony_prepare(cfg, opts, err));
    LV_TRY(create_store(cfg, pin, shares, err));
    if (opts->demo)
        LV_TRY(write_demo_files(cfg, shares, err));
    LV_TRY(cli_keyd_child(cfg, two, LV_SHARES_NEEDED, keyd, err));
    return custody_ceremony(cfg, opts, err);
}

int cli_init(int argc, char **argv)
{
    pid_t keyd = -1;
    init_args a = {0};
    lv_config cfg;
    lv_err err = {0};
    char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    char pin[PIN_MAX + 1] = "";
    int rc = parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    rc = load_config(&a, &cfg, &err);
    /* issue 13: a production ceremony refuses URLs and an OID arc whose
     * certificates would break EN 319 412 or the BR; a demo is warned */
    if (rc == 0)
        rc = lv_config_check_rules(&cfg, !a.demo, &err);
    if (rc == 0)
        rc = keystore_config(&a, &cfg, pin, &err);
    lv_ceremony_opts opts = {a.participants, a.demo};
    if (rc == 0) {
        fprintf(stderr,
                "llave: key ceremony in %s (RSA-4096 CA keys; this "
                "takes a few seconds)\n",
                a.dir);
        rc = ceremony(&cfg, &opts, pin, shares, &keyd, &err);
        OPENSSL_cleanse(pin, sizeof pin);
    }
    /* R1.4: one demo operator per role, listed in demo-credentials.json
     * (here, not in ca/: the CA never calls auth/). */
    if (rc == 0 && a.demo)
        rc = cli_operator_demo(&cfg, &err);
    /* R2.2, R3.1: an activated advanced-level citizen for the demo */
    if (rc == 0 && a.demo)
        rc = cli_citizen_demo(&cfg, &err);
    /* R5.3, R5.6: the demo citizen's cloud signing certificate and a demo
     * relying application (issue 7) */
    if (rc == 0 && a.demo)
        rc = cli_app_demo(&cfg, &err);
    if (rc == 0) {
        printf("Ceremony complete in %s: Root CA, qualified, non-qualified "
               "and TLS CAs, TSA and OCSP responders.\n",
               a.dir);
        printf("Signed transcript: %s/ceremony/transcript.json (.sig)\n",
               a.dir);
        if (strcmp(cfg.keystore, "pkcs11") == 0)
            printf("Keys on PKCS#11 token \"%s\" (%s); its PIN is sealed "
                   "under the custodians' master key in %s/keys/pkcs11.json.\n",
                   cfg.pkcs11_token, cfg.pkcs11_module, a.dir);
        print_shares(&a, shares);
    }
    keyc_child_stop(keyd);
    OPENSSL_cleanse(shares, sizeof shares);
    OPENSSL_cleanse(pin, sizeof pin);
    return cli_report(rc, &err);
}
