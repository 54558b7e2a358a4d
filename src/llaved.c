/* llaved — the llave service: one HTTP listener and a worker pool serving
 * every API (DESIGN.md "Programs").  A thin entry point: configuration,
 * its llave-keyd, CA context, server, then wait for SIGTERM/SIGINT.
 *
 *   llaved -d DIR [--port N] [--listen ADDR] [--foreground]
 *
 * It never daemonizes: a service manager (systemd, a container runtime)
 * supervises it in the foreground.
 *
 * llaved holds no private key and links no key code (issue 12 item 2; a
 * test runs nm on it): every key operation is a request to llave-keyd, the
 * signature activation module (CEN EN 419 241-1), through keyc.  Unless
 * llave.json names the socket of a keyd that runs on its own
 * (keyd_socket: two service units), llaved starts its own keyd as a child
 * (fork + exec, as sshd starts its monitor; another llaved's keyd that
 * already answers on DIR/keyd.sock is used until it ends), restarts it when
 * it dies
 * (meanwhile key operations answer 503 and everything else keeps
 * serving) and stops it on exit. */
#include "audit/audit.h"
#include "ca/ca.h"
#include "core/core.h"
#include "crl/crl.h"
#include "http/http.h"
#include "keyc/keyc.h"
#include "oauth/oauth.h"
#include "ocsp/ocsp.h"
#include "repo/repo.h"
#include "sign/sign.h"
#include "store/store_front.h"
#include "tsa/tsa.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct daemon_opts {
    const char *dir;
    const char *listen;
    int port; /* -1: from the configuration */
} daemon_opts;

/* llaved's own llave-keyd: started, watched and restarted by one thread
 * (PR_SET_PDEATHSIG follows the thread that forked, so every fork happens
 * in this long-lived thread). */
typedef struct keyd_child {
    lv_config cfg;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pid_t pid;      /* the running keyd, or -1 */
    int first_done; /* the first start finished (ok or not) */
    int first_rc;
    lv_err first_err;
    atomic_int stopping;
    atomic_int restarts; /* keyd started again after it died */
    lv_ca *_Atomic ca;   /* told to forget keyd's state after a restart */
} keyd_child;

/* Everything main has to undo, in the order it was made. */
typedef struct daemon_state {
    lv_config cfg;
    keyd_child keyd;
    lv_app *app;
    lv_ca *ca;
    lv_auth *auth;      /* sessions, logins (issue 6) */
    lv_job *report;     /* anonymous failures, aggregated (issue 11) */
    lv_job *purger;     /* what signing leaves behind (issue 14) */
    lv_job *ocsp;       /* pre-signed OCSP responses (R6.4) */
    lv_job *ocsp_watch; /* its node cache kept current (issue 17) */
    lv_job *crl;        /* CRLs fresh before nextUpdate (R6.3) */
    lv_job *sealer;     /* audit seals (R9.2; issue 8) */
    lv_job *wal;        /* the store's write-ahead log kept bounded */
    /* contexts replaced by a reload: a request may still hold one, so they
     * live until stop (a change-over happens once in years) */
    lv_ca *retired[16];
    int nretired;
    char url_path[600]; /* DIR/llaved.url for `llave unseal` */
    lv_http_server *srv;
    char pid_path[600];
} daemon_state;

/* Audit seals (R9.2) signed through keyd and stamped by our own TSA; a new
 * audit-seal key is the console's (custody/, not linked here). */
static int sealer_start(lv_ca *ca, lv_job **out, lv_err *err)
{
    lv_audit_sealing how;
    tsa_audit_sealing(ca, &how);
    return audit_sealer_start(&how, out, err);
}

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
    /* issue 13: an install made before the rules were enforced (an old
     * 2.25 arc, one public_url) keeps running; its operator is told why */
    return lv_config_check_rules(cfg, 0, err);
}

/* ---- llave-keyd --------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int keyd_spawn(keyd_child *k, pid_t *pid, lv_err *err)
{
    /* keyd reads DIR/demo-shares.INSECURE itself on a demo install, so even
     * demo shares never pass through llaved; a production keyd waits sealed
     * for the custodians (llave unseal, on keyd's socket) */
    keyc_spawn_opts o = {.dir = k->cfg.dir};
    return keyc_spawn(&o, pid, err);
}

/* Records the running keyd's pid.  keyd_stop sets `stopping` and reads the
 * pid under the same lock, so a keyd started while llaved was told to stop
 * is either seen and stopped there, or stopped here: never left running
 * with the watcher waiting on it (a SIGTERM that arrived during a restart
 * used to leave llaved hung). */
static void keyd_set_pid(keyd_child *k, pid_t pid)
{
    pthread_mutex_lock(&k->lock);
    k->pid = pid;
    int stopping = atomic_load(&k->stopping);
    pthread_mutex_unlock(&k->lock);
    if (stopping && pid > 0)
        kill(pid, SIGTERM);
}

/* Another llaved on the same DIR (several share one database) started the
 * keyd that answers on DIR/keyd.sock: use it while it lives, then start
 * our own. */
static void keyd_attached(keyd_child *k)
{
    char sock[108];
    if (keyc_default_path(k->cfg.dir, sock, sizeof sock, NULL) < 0)
        return;
    lv_log(LV_LOG_INFO, "llaved: using the llave-keyd that answers on %s",
           sock);
    while (!atomic_load(&k->stopping) && keyc_live(sock, KEYD_CALLER_SERVICE))
        sleep_ms(500);
    if (atomic_load(&k->stopping))
        return;
    lv_ca *ca = atomic_load(&k->ca);
    if (ca)
        ca_keys_invalidate(ca);
    lv_log(LV_LOG_WARN, "llaved: the llave-keyd on %s is gone: starting ours",
           sock);
}

/* Starts keyd, waits for it to die, starts it again: until llaved stops.
 * A keyd that cannot start is tried again every second (a production
 * keyd comes back sealed and waits for the custodians again). */
static void *keyd_watch(void *arg)
{
    keyd_child *k = arg;
    int first = 1;
    while (!atomic_load(&k->stopping)) {
        pid_t pid = -1;
        lv_err err = {0};
        int rc = keyd_spawn(k, &pid, &err);
        int attached = rc == LV_EEXISTS;
        if (attached)
            rc = 0;
        if (first) {
            pthread_mutex_lock(&k->lock);
            k->first_done = 1;
            k->first_rc = rc;
            k->first_err = err;
            k->pid = pid;
            pthread_cond_broadcast(&k->cond);
            pthread_mutex_unlock(&k->lock);
            first = 0;
            if (rc < 0)
                return NULL; /* main reports it and stops */
            if (attached) {
                keyd_attached(k);
                continue;
            }
        } else if (rc < 0) {
            lv_log(LV_LOG_ERROR, "llaved: llave-keyd did not restart: %s",
                   err.msg);
            sleep_ms(1000);
            continue;
        } else {
            if (attached) {
                keyd_attached(k);
                continue;
            }
            keyd_set_pid(k, pid);
            atomic_fetch_add(&k->restarts, 1);
            lv_ca *ca = atomic_load(&k->ca);
            if (ca)
                ca_keys_invalidate(ca);
            lv_log(LV_LOG_WARN, "llaved: llave-keyd restarted (pid %ld)",
                   (long)pid);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        keyd_set_pid(k, -1);
        if (atomic_load(&k->stopping))
            break;
        lv_ca *ca = atomic_load(&k->ca);
        if (ca)
            ca_keys_invalidate(ca);
        lv_log(LV_LOG_ERROR,
               "llaved: llave-keyd (pid %ld) ended (%s %d): key operations "
               "answer 503 until it is back",
               (long)pid, WIFEXITED(status) ? "status" : "signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        sleep_ms(200); /* a keyd that dies at once must not spin */
    }
    return NULL;
}

/* Starts llaved's keyd and waits until it answers; nothing when llave.json
 * names an external one (keyd_socket). */
static int keyd_start(daemon_state *d, lv_err *err)
{
    keyd_child *k = &d->keyd;
    k->pid = -1;
    if (d->cfg.keyd_socket[0]) {
        lv_log(LV_LOG_INFO, "llaved: using the llave-keyd on %s",
               d->cfg.keyd_socket);
        return 0;
    }
    k->cfg = d->cfg;
    if (pthread_mutex_init(&k->lock, NULL) != 0 ||
        pthread_cond_init(&k->cond, NULL) != 0)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    if (pthread_create(&k->thread, NULL, keyd_watch, k) != 0)
        return lv_fail(err, LV_ENOMEM, "cannot start the keyd watcher");
    k->started = 1;
    pthread_mutex_lock(&k->lock);
    while (!k->first_done)
        pthread_cond_wait(&k->cond, &k->lock);
    int rc = k->first_rc;
    if (rc < 0 && err)
        *err = k->first_err;
    pthread_mutex_unlock(&k->lock);
    if (rc == 0 && k->pid > 0)
        lv_log(LV_LOG_INFO, "llaved: llave-keyd started (pid %ld)",
               (long)k->pid);
    return rc;
}

static void keyd_stop(daemon_state *d)
{
    keyd_child *k = &d->keyd;
    if (!k->started)
        return;
    pthread_mutex_lock(&k->lock);
    atomic_store(&k->stopping, 1);
    pid_t pid = k->pid;
    pthread_mutex_unlock(&k->lock);
    if (pid > 0)
        kill(pid, SIGTERM); /* keyd audits keyd.stop, wipes, removes its
                               socket; the watcher reaps it */
    pthread_join(k->thread, NULL);
    pthread_cond_destroy(&k->cond);
    pthread_mutex_destroy(&k->lock);
    k->started = 0;
}

/* Opens the main thread's store (creating and migrating the database) and
 * loads the CA from it. */
static int open_ca(daemon_state *d, lv_err *err)
{
    lv_store *st;
    LV_TRY(lv_app_store(d->app, &st, err));
    LV_TRY(ca_open(&d->cfg, st, KEYD_CALLER_SERVICE, &d->ca, err));
    atomic_store(&d->keyd.ca, d->ca);
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
    if (http_server_tls_port(d->srv))
        printf("llaved listening on https://%s%s%s:%u\n", v6 ? "[" : "", addr,
               v6 ? "]" : "", (unsigned)http_server_tls_port(d->srv));
    fflush(stdout);
}

/* R9.1, CPS §5.4.1: service start and stop are audited events. */
static void audit_service(daemon_state *d, const char *event)
{
    lv_store *st;
    lv_err err = {0};
    if (d->app == NULL || lv_app_store(d->app, &st, &err) < 0)
        return;
    json_t *details =
        json_pack("{s:i, s:i, s:b, s:b}", "port",
                  d->srv ? (int)http_server_port(d->srv) : 0, "tls_port",
                  d->srv ? (int)http_server_tls_port(d->srv) : 0, "sealed",
                  d->ca ? ca_sealed(d->ca) : 1, "demo", d->cfg.demo);
    if (audit_log_standalone(st, "llaved", event, d->cfg.dir, LV_AUDIT_SUCCESS,
                             details, &err) < 0)
        lv_log(LV_LOG_ERROR, "llaved: cannot audit %s: %s", event, err.msg);
    json_decref(details);
}

static int wal_keeper_start(daemon_state *d, lv_err *err)
{
    char db[1024];
    if (lv_config_store_location(&d->cfg, db, sizeof db) < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    return store_checkpointer_start(db, &d->wal, err);
}

static int start(daemon_state *d, const daemon_opts *o, lv_err *err)
{
    LV_TRY(load_config(o, &d->cfg, err));
    LV_TRY(keyd_start(d, err));
    LV_TRY(lv_app_new(&d->cfg, &d->app, err));
    LV_TRY(open_ca(d, err));
    LV_TRY(auth_open(&d->cfg, &d->auth, err));
    lv_app_set_auth(d->app, d->auth);
    LV_TRY(auth_reporter_start(d->auth, &d->report, err));
    LV_TRY(ocsp_refresher_start(d->ca, &d->ocsp, err));
    LV_TRY(ocsp_watcher_start(d->ca, &d->ocsp_watch, err));
    /* R8.1: the placeholder CPS and PDS unless the operator put their own */
    LV_TRY(repo_install_defaults(&d->cfg, err));
    LV_TRY(crl_keeper_start(d->ca, &d->crl, err));
    LV_TRY(sealer_start(d->ca, &d->sealer, err));
    LV_TRY(sign_purger_start(&d->cfg, oauth_purge, &d->purger, err));
    LV_TRY(wal_keeper_start(d, err));
    LV_TRY(http_server_start(d->app, http_api_tables(), &d->srv, err));
    LV_TRY(write_pid(d, err));
    LV_TRY(write_url(d, err));
    audit_service(d, "service.start");
    announce(d);
    return 0;
}

static void stop(daemon_state *d)
{
    http_server_stop(d->srv); /* joins the workers first */
    d->srv = NULL;            /* freed: service.stop must not read its port */
    lv_job_stop(d->ocsp);
    lv_job_stop(d->ocsp_watch);
    lv_job_stop(d->crl);
    lv_job_stop(d->sealer);
    lv_job_stop(d->report); /* after the server: the last failures */
    lv_job_stop(d->purger);
    lv_job_stop(d->wal); /* after every writer of this process */
    if (d->pid_path[0])
        audit_service(d, "service.stop");
    lv_app_free(d->app);
    auth_close(d->auth);
    atomic_store(&d->keyd.ca, NULL);
    ca_close(d->ca);
    for (int i = 0; i < d->nretired; i++)
        ca_close(d->retired[i]);
    keyd_stop(d); /* after the last key operation */
    if (d->pid_path[0])
        unlink(d->pid_path);
    if (d->url_path[0])
        unlink(d->url_path);
}

/* Issue 8: a service started sealed is unsealed later by custodians
 * (`llave unseal`, on keyd's socket); the keepers that need a key are
 * started then.  keyd itself removes orphan key files once its store
 * opens (issue 11 item 8): llaved never reads DIR/keys/. */
static void after_unseal(daemon_state *d)
{
    lv_err err = {0};
    if (ca_sealed(d->ca))
        return;
    if (!d->ocsp && ocsp_refresher_start(d->ca, &d->ocsp, &err) < 0)
        lv_log(LV_LOG_ERROR, "llaved: OCSP refresher: %s", err.msg);
    if (!d->crl && crl_keeper_start(d->ca, &d->crl, &err) < 0)
        lv_log(LV_LOG_ERROR, "llaved: CRL keeper: %s", err.msg);
}

/* Issue 12 item 5: `llave ca rollover` (or a compromise, a new TSU) in the
 * console changes the CA rows; the running service notices within
 * CA_RELOAD_CHECK_S, loads a fresh context, moves the keepers to it and
 * swaps it in for new requests, without a restart. */
#define CA_RELOAD_CHECK_S 5

static void keepers_stop(daemon_state *d)
{
    lv_job_stop(d->ocsp);
    lv_job_stop(d->ocsp_watch);
    lv_job_stop(d->crl);
    lv_job_stop(d->sealer);
    d->ocsp = NULL;
    d->ocsp_watch = NULL;
    d->crl = NULL;
    d->sealer = NULL;
}

static void keepers_start(daemon_state *d)
{
    lv_err err = {0};
    if (ocsp_refresher_start(d->ca, &d->ocsp, &err) < 0 ||
        ocsp_watcher_start(d->ca, &d->ocsp_watch, &err) < 0 ||
        crl_keeper_start(d->ca, &d->crl, &err) < 0 ||
        sealer_start(d->ca, &d->sealer, &err) < 0)
        lv_log(LV_LOG_ERROR, "llaved: keepers after a CA reload: %s", err.msg);
}

static void reload_ca(daemon_state *d)
{
    lv_store *st;
    lv_err err = {0};
    lv_ca *fresh = NULL;
    int outdated = 0;
    if (d->nretired == (int)(sizeof d->retired / sizeof d->retired[0]) ||
        lv_app_store(d->app, &st, &err) < 0 ||
        ca_outdated(d->ca, st, &outdated, &err) < 0 || !outdated)
        return;
    if (ca_open(&d->cfg, st, KEYD_CALLER_SERVICE, &fresh, &err) < 0) {
        lv_log(LV_LOG_ERROR, "llaved: CA rows changed, reload failed: %s",
               err.msg);
        return;
    }
    keepers_stop(d);
    d->retired[d->nretired++] = d->ca;
    d->ca = fresh;
    atomic_store(&d->keyd.ca, fresh);
    lv_app_set_ca(d->app, fresh);
    keepers_start(d);
    lv_log(LV_LOG_INFO, "llaved: the CA rows changed (change-over or "
                        "compromise): serving a freshly loaded CA context");
    audit_service(d, "ca.reload");
}

static void wait_signal(daemon_state *d, const sigset_t *set, int *sig)
{
    const struct timespec tick = {1, 0};
    int unsealed = !ca_sealed(d->ca);
    for (unsigned ticks = 1;; ticks++) {
        *sig = sigtimedwait(set, NULL, &tick);
        if (*sig > 0)
            return;
        if (ticks % CA_RELOAD_CHECK_S == 0)
            reload_ca(d);
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

/* A signDoc carries its documents twice over (the JSON body, its base64
 * decoded; the answer the same way back): megabytes allocated and freed at
 * every request.  By default glibc maps each block over 128 KiB and
 * returns free heap tops to the kernel, so every such request touched
 * fresh pages; page faults and munmap were a third of a 1 MB PAdES
 * signDoc's CPU (bench/sign).  Blocks up to 32 MiB (glibc's most) come
 * from the heap instead, and freed memory is kept, up to the peak of
 * concurrent requests, which the body limits bound.  Sanitizer builds
 * ignore it. */
static void tune_malloc(void)
{
    (void)mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    (void)mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
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
    tune_malloc();
    sign_init(); /* libxml2 (XAdES), once, before any thread */
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
