/* cli/ — the operator's console tool `llave` (DESIGN.md "Programs").  It
 * calls the libraries directly under an operator identity and every action
 * is audited exactly as in the server.  One file per command group. */
#ifndef LLAVE_CLI_H
#define LLAVE_CLI_H

#include "ca/ca.h"

#include <stdio.h>
#include <sys/types.h>

/* What a command needs: opened lazily by cli_open. */
typedef struct cli_ctx {
    const char *dir; /* -d DIR */
    char actor[128]; /* console:<user> */
    lv_config cfg;
    lv_store *st;
    int keys_ready; /* a llave-keyd serves this command (CLI_NEED_KEYS) */
    pid_t keyd_pid; /* the console's own keyd, when it started one */
    lv_ca *ca;
    const char *share_files[3];
    size_t share_file_count;
} cli_ctx;

enum { CLI_NEED_STORE = 1, CLI_NEED_KEYS = 2, CLI_NEED_CA = 4 };

int cli_open(cli_ctx *ctx, int needs, lv_err *err) LV_MUST_USE;
void cli_close(cli_ctx *ctx);

/* The socket of DIR's keyd: `given`, else keyd_socket of llave.json, else
 * DIR/keyd.sock. */
int cli_keyd_socket(const cli_ctx *ctx, const char *given, char *out,
                    size_t cap, lv_err *err);
/* Starts llave-keyd as the console's child on a socket of its own (sealed
 * unless the install is a demo) and, when it comes up sealed, hands it the
 * shares (custodian class); *pid, and cfg->keyd_socket names it.
 * keyc_child_stop ends it. */
int cli_keyd_child(lv_config *cfg, const char *const *shares, size_t n,
                   pid_t *pid, lv_err *err);

/* Two-person control (cli_two_person.c; R1.5, CPS §5.2.4): reads two
 * operators' login, password and TOTP from standard input, proves both,
 * requires them distinct with CA custody roles, and on success sets
 * ctx->actor to name both.  A refusal is audited as `action`.  Call after
 * cli_open (needs the store). */
int cli_two_person(cli_ctx *ctx, const char *action, lv_err *err)
    __attribute__((warn_unused_result));

/* ---- shared by the command groups (cli_util.c) ---- */

/* A command group (or one of its subcommands): argv[0] is its name. */
typedef int cli_command(cli_ctx *ctx, int argc, char **argv);

/* The FILE of "--json FILE" from argv[from] on. */
const char *cli_json_arg(int argc, char **argv, int from);
/* A command's options, each "--name VALUE", read into *value; a table ends
 * with a NULL name. */
typedef struct cli_option {
    const char *name;
    const char **value;
} cli_option;
/* Reads argv[from..] into opts and at most one operand (an argument not
 * starting with '-'); anything else is the usage error of `cmd` (its exit
 * status 2). */
int cli_options(int argc, char **argv, int from, const cli_option *opts,
                const char **operand, const char *cmd);
/* A group's subcommands (argv[1]) as a table instead of an if/else chain
 * per group.  An entry fits when argv[1] is its name, argc (argv[0] and
 * argv[1] included) is `argc` or, without it, from `min_argc` to `max_argc`
 * (0: no bound), and, with `json`, a "--json FILE" stands from argv[2] on.
 * `run` returns the exit status itself (it reads its own options); `act`
 * returns an lv_err code that cli_report turns into one.  A table ends with a
 * NULL name. */
typedef int cli_action(cli_ctx *ctx, int argc, char **argv, lv_err *err);
typedef struct cli_sub {
    const char *name;
    int argc;
    int min_argc;
    int max_argc;
    int json;
    cli_command *run;
    cli_action *act;
    const char *usage;
} cli_sub;
/* Runs the first entry of subs that fits; with none, the table's usage
 * error (exit status 2). */
int cli_dispatch(cli_ctx *ctx, int argc, char **argv, const cli_sub *subs);
/* Prints, indented with sorted keys, the JSON `read` makes of what the
 * store holds for arg (an id, a status). */
typedef int (*cli_json_reader)(lv_store *st, const char *arg, json_t **out,
                               lv_err *err);
int cli_show_json(cli_ctx *ctx, cli_json_reader read, const char *arg,
                  lv_err *err) LV_MUST_USE;
/* A certificate as PEM to `path`, or to standard output when path is
 * NULL. */
int cli_write_cert_pem(const char *path, X509 *cert, lv_err *err) LV_MUST_USE;
/* DIR/demo-credentials.json, which the demo ceremony writes: saved whole,
 * or with `accounts` appended to its "accounts" list. */
int cli_demo_creds_save(const char *path, const json_t *creds,
                        lv_err *err) LV_MUST_USE;
int cli_demo_accounts_add(const char *dir, json_t *accounts,
                          lv_err *err) LV_MUST_USE;
/* A share typed by a custodian or kept in a file: its first line that is
 * neither empty nor a comment; LV_EINVAL at the end of the input. */
int cli_read_share_line(FILE *in, char *out, size_t cap);

/* issue 16: a PKCS#11 token's user PIN, never from the command line: the
 * first line of pin_file when it is not NULL, else the environment
 * variable LLAVE_PKCS11_PIN.  `what` names the command in the message. */
#define CLI_PIN_ENV "LLAVE_PKCS11_PIN"
#define CLI_PIN_MAX 256
int cli_pkcs11_pin(const char *what, const char *pin_file,
                   char pin[CLI_PIN_MAX + 1], lv_err *err) LV_MUST_USE;

/* Prints "llave: <message>" to stderr and returns the exit status. */
int cli_report(int rc, const lv_err *err);
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Command groups: argv[0] is the group name ("cert", "ca", ...); cli_main's
 * table runs them.  init and restore (issue 8) take no -d, hence no ctx. */
int cli_init(int argc, char **argv);
int cli_restore(int argc, char **argv);
cli_command cli_ca, cli_cert, cli_profile, cli_audit;
/* issue 8: custody, archive, termination (cli_unseal.c, cli_backup.c,
 * cli_archive.c, cli_termination.c) */
cli_command cli_unseal, cli_shares, cli_backup, cli_archive, cli_termination;
/* issue 6 part A (cli_operator.c) */
cli_command cli_operator;
/* The demo ceremony's operators, one per role, appended to
 * DIR/demo-credentials.json. */
int cli_operator_demo(const lv_config *cfg, lv_err *err);
/* issue 4 part A (cli_status.c, cli_repo.c) */
cli_command cli_cert_revoke, cli_cert_publish, cli_ca_compromise,
    cli_ca_rollover, cli_crl, cli_repository, cli_tsa;
/* issue 6 part B (cli_citizen.c, cli_org.c) */
cli_command cli_citizen, cli_org;
/* The demo ceremony's activated advanced-level citizen, appended to
 * DIR/demo-credentials.json (after cli_operator_demo). */
int cli_citizen_demo(const lv_config *cfg, lv_err *err);
/* issue 7 (cli_app.c): relying applications; the demo citizen's signing
 * certificate and a demo application in DIR/demo-credentials.json (after
 * cli_citizen_demo). */
cli_command cli_app;
int cli_app_demo(const lv_config *cfg, lv_err *err);
/* issue 17 item 1 (cli_store.c): `store migrate`, SQLite to PostgreSQL */
cli_command cli_store;

/* Entry point used by src/llave.c. */
int cli_main(int argc, char **argv);

#endif
