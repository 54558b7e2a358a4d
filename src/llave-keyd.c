/* llave-keyd — the signature activation module (CEN EN 419 241-1 SAM;
 * DESIGN.md "Programs"; issue 12): the only process that opens the key
 * store.  A thin entry point: harden the process, start the server
 * (src/keyd/), wait for SIGTERM/SIGINT.
 *
 *   llave-keyd -d DIR [--socket PATH] [--sealed] [--max-conns N] [--quiet]
 *
 * It never daemonizes; llaved or a service manager supervises it. */
#define _GNU_SOURCE /* close_range */
#include "core/core.h"
#include "keyd/keyd.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: llave-keyd -d DIR [--socket PATH] [--sealed] "
                 "[--max-conns N] [--quiet]\n"
                 "  --sealed  start sealed even on a demo install: custodians "
                 "unseal with `llave unseal`\n"
                 "  --quiet   errors only (a keyd the console runs for one "
                 "command)\n");
}

static int quiet;

static int parse_args(int argc, char **argv, keyd_opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"socket", required_argument, NULL, 's'},
        {"sealed", no_argument, NULL, 'S'},
        {"max-conns", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    *o = (keyd_opts){0};
    while ((c = getopt_long(argc, argv, "d:s:Sm:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->dir = optarg;
            break;
        case 's':
            o->socket_path = optarg;
            break;
        case 'S':
            o->sealed = 1;
            break;
        case 'm':
            o->max_conns = atoi(optarg);
            if (o->max_conns < 1 || o->max_conns > KEYD_CONNS_MAX)
                return LV_EINVAL;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            return 1;
        default:
            return LV_EINVAL;
        }
    }
    return o->dir && optind == argc ? 0 : LV_EINVAL;
}

/* The process that holds the keys: no descriptor inherited from whoever
 * started it (a listening TCP socket of llaved would make keyd reachable
 * from the network), no core dump and no ptrace by other processes of the
 * same user (EN 419 241-2: keys never leave the SAM in clear). */
static int harden(void)
{
    if (close_range(3, ~0U, 0) != 0)
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        perror("llave-keyd: prctl(PR_SET_DUMPABLE)");
        return -1;
    }
    return 0;
}

static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL); /* before any thread starts */
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    keyd_opts o;
    keyd_server *s = NULL;
    lv_err err = {0};
    sigset_t set;
    int sig = 0;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    if (harden() < 0)
        return 1;
    if (quiet)
        lv_log_set_level(LV_LOG_ERROR);
    block_signals(&set);
    if (keyd_start(&o, &s, &err) < 0) {
        fprintf(stderr, "llave-keyd: %s\n", err.msg);
        return 1;
    }
    /* Tests and llaved read this line to learn that keyd is ready. */
    if (!quiet) {
        printf("llave-keyd listening on %s (%s)\n", keyd_socket(s),
               keyd_is_sealed(s) ? "sealed" : "unsealed");
        fflush(stdout);
    }
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
        ; /* nothing to reload */
    keyd_stop(s);
    return 0;
}
