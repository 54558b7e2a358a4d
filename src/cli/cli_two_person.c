/* Two-person control for custody operations (issue 12 item 5; R1.5, CPS
 * §5.2.2, §5.2.4): `ca compromise`, `ca rollover`, `shares rotate` and
 * `termination export` run only when two distinct operators, each proving
 * password + TOTP, confirm them in the same command.  The CPS makes the CA
 * administrator responsible for the CA keys "jointly with" the CA operator
 * (§5.2.1), so one of the two holds ca_admin and the other ca_admin or
 * ca_operator.  Each login goes through auth_operator_login, so it is
 * throttled and audited like any other, and its session is ended at once.
 *
 * The credentials are read from standard input: login, password and TOTP
 * code of the first operator, then of the second, one per line.  On a
 * terminal each is prompted for, without echo for the secrets.  Nothing is
 * ever taken from the command line (it would land in shell history and in
 * /proc/PID/cmdline). */
#include "audit/audit.h"
#include "auth/auth.h"
#include "cli/cli.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define TP_FIELD 256

typedef struct tp_operator {
    char login[TP_FIELD];
    char password[TP_FIELD];
    char totp[TP_FIELD];
    unsigned roles;
} tp_operator;

static int read_line(const char *prompt, int secret, char *out, size_t cap)
{
    int tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s: ", prompt);
        fflush(stderr);
    }
    int hidden = tty && secret && tcgetattr(STDIN_FILENO, &old) == 0;
    if (hidden) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(out, (int)cap, stdin);
    if (hidden) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] ? 0 : -1;
}

static int read_operator(int n, tp_operator *op, lv_err *err)
{
    char p[64];
    snprintf(p, sizeof p, "operator %d login", n);
    if (read_line(p, 0, op->login, sizeof op->login) < 0)
        goto missing;
    snprintf(p, sizeof p, "operator %d password", n);
    if (read_line(p, 1, op->password, sizeof op->password) < 0)
        goto missing;
    snprintf(p, sizeof p, "operator %d TOTP code", n);
    if (read_line(p, 1, op->totp, sizeof op->totp) < 0)
        goto missing;
    return 0;
missing:
    return lv_fail(err, LV_EAUTH,
                   "two operators must confirm (CPS §5.2.4): give login, "
                   "password and TOTP code of each on standard input, one "
                   "per line");
}

/* Password + TOTP, as at the API's login (throttled, audited); the session
 * it opens is closed at once: the console needs the proof, not a token. */
static int prove(lv_auth *auth, lv_store *st, tp_operator *op, lv_err *err)
{
    lv_session_token t;
    LV_TRY(auth_operator_login(auth, st, op->login, op->password, op->totp,
                               "console", &t, err));
    op->roles = t.roles;
    /* best effort: an unended session expires by itself, and the proof
     * (the login) is what counts */
    lv_ignore(auth_session_end(auth, st, t.token, NULL));
    OPENSSL_cleanse(&t, sizeof t);
    return 0;
}

static int roles_fit(const tp_operator *a, const tp_operator *b)
{
    const unsigned custody = LV_ROLE_CA_ADMIN | LV_ROLE_CA_OPERATOR;
    return (a->roles & custody) && (b->roles & custody) &&
           ((a->roles | b->roles) & LV_ROLE_CA_ADMIN);
}

static int two_person_check(cli_ctx *ctx, lv_auth *auth, tp_operator ops[2],
                            const char *action, lv_err *err)
{
    LV_TRY(read_operator(1, &ops[0], err));
    LV_TRY(read_operator(2, &ops[1], err));
    if (strcmp(ops[0].login, ops[1].login) == 0)
        return lv_fail(err, LV_EPERM,
                       "%s needs two different operators (CPS §5.2.4): %s "
                       "cannot confirm their own request",
                       action, ops[0].login);
    LV_TRY(prove(auth, ctx->st, &ops[0], err));
    LV_TRY(prove(auth, ctx->st, &ops[1], err));
    if (!roles_fit(&ops[0], &ops[1]))
        return lv_fail(err, LV_EPERM,
                       "%s needs a CA administrator and a second CA "
                       "administrator or CA operator (CPS §5.2.1, §5.2.4)",
                       action);
    return 0;
}

int cli_two_person(cli_ctx *ctx, const char *action, lv_err *err)
{
    lv_auth *auth = NULL;
    tp_operator ops[2] = {0};
    int rc = auth_open(&ctx->cfg, &auth, err);
    if (rc == 0)
        rc = two_person_check(ctx, auth, ops, action, err);
    if (rc == 0) /* both names in every audit entry the operation writes */
        snprintf(ctx->actor, sizeof ctx->actor, "operator:%.50s+operator:%.50s",
                 ops[0].login, ops[1].login);
    else if (ctx->st) {
        json_t *d =
            json_pack("{s:s, s:s, s:s}", "reason", err->msg, "operator1",
                      ops[0].login, "operator2", ops[1].login);
        audit_log_standalone(ctx->st, ctx->actor, action, "two-person",
                             LV_AUDIT_FAILURE, d, NULL);
        json_decref(d);
    }
    OPENSSL_cleanse(ops, sizeof ops);
    auth_close(auth);
    return rc;
}
