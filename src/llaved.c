/* llaved — the llave service: one HTTP listener and a worker pool serving
 * every API (DESIGN.md "Programs").  A thin entry point: configuration,
 * key store, CA context, server, then wait for SIGTERM/SIGINT.
 *
 *   llaved -d DIR [--port N] [--listen ADDR] [--foreground]
 *
 * It never daemonizes: a service manager (systemd, a container runtime)
 * supervises it in the foreground. */
#include "ca/ca.h"
#include "core/core.h"
#include "http/http.h"
#include "keys/keys.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct daemon_opts {
    const char *dir;
    const char *listen;
    int port; /* -1: from the configuration */
} daemon_opts;

/* Everything main has to undo, in the order it was made. */
typedef struct daemon_state {
    lv_config cfg;
    lv_keystore *ks;
    lv_app *app;
    lv_ca *ca;
    lv_auth *auth;            /* sessions, logins (issue 6) */
    lv_auth_reporter *report; /* anonymous failures, aggregated (issue 11) */
    lv_ocsp_refresher *ocsp;  /* pre-signed OCSP responses (R6.4) */
    lv_crl_keeper *crl;       /* CRLs fresh before nextUpdate (R6.3) */
    lv_audit_sealer *sealer;  /* audit seals (R9.2; issue 8) */
    char url_path[600];       /* DIR/llaved.url for `llave unseal` */
    lv_http_server *srv;
    char pid_path[600];
} daemon_state;

static void usage(FILE *out)
{
    fprintf(out, "usage: llaved -d DIR [--port N] [--listen ADDR] "
                 "[--foreground]\n");
}

static int parse_port(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > 65535)
        return LV_EINVAL;
    *out = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, daemon_opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"port", required_argument, NULL, 'p'},
        {"listen", required_argument, NULL, 'l'},
        {"foreground", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (daemon_opts){.port = -1};
    int c;
    while ((c = getopt_long(argc, argv, "d:p:l:fh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->dir = optarg;
            break;
        case 'p':
            LV_TRY(parse_port(optarg, &o->port));
            break;
        case 'l':
            o->listen = optarg;
            break;
        case 'f':
            break; /* always in the foreground */
        case 'h':
            return 1;
        default:
            return LV_EINVAL;
        }
    }
    return o->dir && optind == argc ? 0 : LV_EINVAL;
}

static int load_config(const daemon_opts *o, lv_config *cfg, lv_err *err)
{
    LV_TRY(lv_config_load(cfg, o->dir, err));
    if (o->listen && snprintf(cfg->listen_addr, sizeof cfg->listen_addr, "%s",
                              o->listen) >= (int)sizeof cfg->listen_addr)
        return lv_fail(err, LV_EINVAL, "listen address too long");
    if (o->port >= 0)
        cfg->listen_port = o->port;
    return 0;
}

/* A demo install keeps two custodian shares next to the data so that it
 * starts unattended; a real one starts sealed and waits for custodians. */
static int open_keystore(const char *dir, lv_keystore **ks, lv_err *err)
{
    char path[600];
    *ks = NULL;
    if (lv_path_join(path, sizeof path, dir, LV_DEMO_SHARES_FILE) < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    if (access(path, F_OK) != 0) {
        lv_log(LV_LOG_WARN,
               "key store sealed: signing is unavailable until "
               "%d of %d custodian shares are presented",
               LV_SHARES_NEEDED, LV_SHARES_TOTAL);
        return 0;
    }
    LV_TRY(ca_demo_unseal(dir, ks, err));
    lv_log(LV_LOG_WARN,
           "WARNING: DEMO INSTALL, NOT SECURE: the key store was opened with "
           "custodian shares read from %s; never use this install for real "
           "certificates",
           path);
    return 0;
}

/* Opens the main thread's store (creating and migrating the database) and
 * loads the CA from it. */
static int open_ca(daemon_state *d, lv_err *err)
{
    lv_store *st;
    LV_TRY(lv_app_store(d->app, &st, err));
    LV_TRY(ca_open(&d->cfg, st, d->ks, &d->ca, err));
    lv_app_set_ca(d->app, d->ca);
    return 0;
}

/* `llave -d DIR unseal` finds the running service here (issue 8). */
static int write_url(daemon_state *d, lv_err *err)
{
    char url[160];
    const char *addr = d->cfg.listen_addr[0] ? d->cfg.listen_addr : "127.0.0.1";
    int v6 = strchr(addr, ':') != NULL;
    int n = snprintf(url, sizeof url, "http://%s%.64s%s:%u\n", v6 ? "[" : "",
                     addr, v6 ? "]" : "", (unsigned)http_server_port(d->srv));
    if (lv_path_join(d->url_path, sizeof d->url_path, d->cfg.dir,
                     "llaved.url") < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    return lv_file_write(d->url_path, url, (size_t)n, 0644, err);
}

static int write_pid(daemon_state *d, lv_err *err)
{
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (lv_path_join(d->pid_path, sizeof d->pid_path, d->cfg.dir,
                     "llaved.pid") < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    return lv_file_write(d->pid_path, pid, (size_t)n, 0644, err);
}

static void announce(const daemon_state *d)
{
    const char *addr = d->cfg.listen_addr[0] ? d->cfg.listen_addr : "127.0.0.1";
    int v6 = strchr(addr, ':') != NULL;
    /* Tests and scripts read this line to learn the port. */
    printf("llaved listening on http://%s%s%s:%u\n", v6 ? "[" : "", addr,
           v6 ? "]" : "", (unsigned)http_server_port(d->srv));
    fflush(stdout);
}

/* R9.1, CPS §5.4.1: service start and stop are audited events. */
static void audit_service(daemon_state *d, const char *event)
{
    lv_store *st;
    lv_err err = {0};
    if (d->app == NULL || lv_app_store(d->app, &st, &err) < 0)
        return;
    json_t *details = json_pack("{s:i, s:b, s:b}", "port",
                                d->srv ? (int)http_server_port(d->srv) : 0,
                                "sealed", d->ks == NULL, "demo", d->cfg.demo);
    if (audit_log_standalone(st, "llaved", event, d->cfg.dir, LV_AUDIT_SUCCESS,
                             details, &err) < 0)
        lv_log(LV_LOG_ERROR, "llaved: cannot audit %s: %s", event, err.msg);
    json_decref(details);
}

/* Issue 11 item 8: key files a killed issuance left behind. */
static void sweep_orphan_keys(daemon_state *d)
{
    lv_store *st;
    lv_err err = {0};
    int removed = 0;
    if (ca_sealed(d->ca) || lv_app_store(d->app, &st, &err) < 0 ||
        ca_sweep_orphan_keys(d->ca, st, CA_ORPHAN_GRACE_S, "llaved", &removed,
                             &err) < 0)
        lv_log(LV_LOG_ERROR, "llaved: orphan key sweep: %s",
               err.msg[0] ? err.msg : "sealed");
    else if (removed)
        lv_log(LV_LOG_WARN, "llaved: removed %d orphan key(s)", removed);
}

static int start(daemon_state *d, const daemon_opts *o, lv_err *err)
{
    LV_TRY(load_config(o, &d->cfg, err));
    LV_TRY(open_keystore(d->cfg.dir, &d->ks, err));
    LV_TRY(lv_app_new(&d->cfg, d->ks, &d->app, err));
    LV_TRY(open_ca(d, err));
    LV_TRY(auth_open(&d->cfg, &d->auth, err));
    lv_app_set_auth(d->app, d->auth);
    LV_TRY(auth_reporter_start(d->auth, &d->report, err));
    LV_TRY(ca_ocsp_refresher_start(d->ca, &d->ocsp, err));
    /* R8.1: the placeholder CPS and PDS unless the operator put their own */
    LV_TRY(ca_repo_install_defaults(&d->cfg, err));
    LV_TRY(ca_crl_keeper_start(d->ca, &d->crl, err));
    LV_TRY(ca_audit_sealer_start(d->ca, &d->sealer, err));
    LV_TRY(http_server_start(d->app, http_api_tables(), &d->srv, err));
    LV_TRY(write_pid(d, err));
    LV_TRY(write_url(d, err));
    audit_service(d, "service.start");
    if (!ca_sealed(d->ca))
        sweep_orphan_keys(d);
    announce(d);
    return 0;
}

static void stop(daemon_state *d)
{
    http_server_stop(d->srv); /* joins the workers first */
    d->srv = NULL;            /* freed: service.stop must not read its port */
    ca_ocsp_refresher_stop(d->ocsp);
    ca_crl_keeper_stop(d->crl);
    ca_audit_sealer_stop(d->sealer);
    auth_reporter_stop(d->report); /* after the server: the last failures */
    if (d->pid_path[0])
        audit_service(d, "service.stop");
    lv_app_free(d->app);
    auth_close(d->auth);
    ca_close(d->ca);
    keys_close(d->ks);
    if (d->pid_path[0])
        unlink(d->pid_path);
    if (d->url_path[0])
        unlink(d->url_path);
}

/* Issue 8: a service started sealed is unsealed later by custodians
 * (POST /api/v1/unseal); the keepers that need a key are started then. */
static void after_unseal(daemon_state *d)
{
    lv_err err = {0};
    if (ca_sealed(d->ca))
        return;
    if (!d->ocsp && ca_ocsp_refresher_start(d->ca, &d->ocsp, &err) < 0)
        lv_log(LV_LOG_ERROR, "llaved: OCSP refresher: %s", err.msg);
    if (!d->crl && ca_crl_keeper_start(d->ca, &d->crl, &err) < 0)
        lv_log(LV_LOG_ERROR, "llaved: CRL keeper: %s", err.msg);
    sweep_orphan_keys(d);
}

static void wait_signal(daemon_state *d, const sigset_t *set, int *sig)
{
    const struct timespec tick = {1, 0};
    int unsealed = !ca_sealed(d->ca);
    for (;;) {
        *sig = sigtimedwait(set, NULL, &tick);
        if (*sig > 0)
            return;
        if (!unsealed && !ca_sealed(d->ca)) {
            unsealed = 1;
            after_unseal(d);
        }
    }
}

/* Blocks the stop signals in every thread (the workers inherit the mask)
 * so that only sigwait in main sees them. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Each connection is a file descriptor: take every descriptor the system
 * allows this process (the hard limit), so that the front door's connection
 * limits (issue 11), not the default soft limit of 1024, decide. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            lv_log(LV_LOG_WARN, "llaved: cannot raise the open-file limit");
    }
}

int main(int argc, char **argv)
{
    daemon_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    raise_fd_limit();
    sigset_t set;
    block_signals(&set);
    daemon_state d = {0};
    lv_err err = {0};
    if (start(&d, &o, &err) < 0) {
        lv_log(LV_LOG_ERROR, "llaved: %s", err.msg);
        stop(&d);
        return 1;
    }
    int sig = 0;
    wait_signal(&d, &set, &sig);
    lv_log(LV_LOG_INFO, "llaved: signal %d, stopping", sig);
    stop(&d);
    return 0;
}
