/* bench_tsa — time-stamp tokens per second through tsa_respond, without
 * HTTP (issue 5 item 7): what bench/tsa's wrk figure costs apart from the
 * transport.
 *
 *   bench_tsa -d DIR --query FILE.tsq [--unit NAME] [-n COUNT] [-t THREADS]
 *
 * Opens the configuration, the key store (demo shares) and the CA once, then
 * answers the same DER TimeStampReq COUNT times from THREADS threads, each
 * with its own lv_store as llaved's workers have.  Every answer must be a
 * granted token (PKIStatus 0), or the run fails.
 *
 * Prints one line: unit=… threads=… tokens=… seconds=… rate=…  */
#include "ca/ca.h"
#include "cli/cli.h"
#include "store/store.h"
#include "tsa/tsa.h"

#include <openssl/ts.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64

typedef struct shared {
    lv_ca *ca;
    const char *unit;
    unsigned char *query;
    size_t query_len;
    int count;
    atomic_int next;
    atomic_int failed;
} shared;

typedef struct worker {
    pthread_t tid;
    shared *sh;
    lv_store *st;
    int done;
} worker;

static int granted(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
    int ok = resp && ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(
                         TS_RESP_get_status_info(resp))) == 0;
    TS_RESP_free(resp);
    return ok;
}

static void *work(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    lv_err err = {0};
    while (atomic_fetch_add(&sh->next, 1) < sh->count) {
        unsigned char *reply = NULL;
        size_t len = 0;
        int rc = tsa_respond(sh->ca, w->st, sh->unit, sh->query, sh->query_len,
                             &reply, &len, &err);
        /* checking every answer would time d2i too: check a sample */
        if (rc < 0 || (w->done % 64 == 0 && !granted(reply, len))) {
            fprintf(stderr, "bench_tsa: no token: %s\n",
                    rc < 0 ? err.msg : "refused");
            atomic_store(&sh->failed, 1);
            OPENSSL_free(reply);
            break;
        }
        OPENSSL_free(reply);
        w->done++;
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int parse(int argc, char **argv, const char **dir, const char **query,
                 const char **unit, int *count, int *threads)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-d") == 0)
            *dir = argv[i + 1];
        else if (strcmp(argv[i], "--query") == 0)
            *query = argv[i + 1];
        else if (strcmp(argv[i], "--unit") == 0)
            *unit = argv[i + 1];
        else if (strcmp(argv[i], "-n") == 0)
            *count = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "-t") == 0)
            *threads = atoi(argv[i + 1]);
        else
            return -1;
    }
    return (argc % 2 == 1 && *dir && *query && *count > 0 && *threads > 0 &&
            *threads <= MAX_THREADS)
               ? 0
               : -1;
}

static int run(shared *sh, const lv_config *cfg, int threads)
{
    worker w[MAX_THREADS] = {0};
    char db[600];
    lv_err err = {0};
    snprintf(db, sizeof db, "%s/llave.db", cfg->dir);
    for (int i = 0; i < threads; i++) {
        w[i].sh = sh;
        if (store_open(db, &w[i].st, &err) < 0) {
            fprintf(stderr, "bench_tsa: %s\n", err.msg);
            return 1;
        }
    }
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&w[i].tid, NULL, work, &w[i]);
    int total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(w[i].tid, NULL);
        total += w[i].done;
        store_close(w[i].st);
    }
    double secs = now_s() - t0;
    printf("unit=%s threads=%d tokens=%d seconds=%.3f rate=%.2f\n",
           sh->unit ? sh->unit : cfg->tsa_unit, threads, total, secs,
           total / secs);
    return atomic_load(&sh->failed) ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *query = NULL, *unit = NULL;
    int count = 2000, threads = 2;
    lv_config cfg;
    lv_err err = {0};
    pid_t keyd = -1;
    lv_store *st = NULL;
    shared sh = {0};
    char db[600];
    if (parse(argc, argv, &dir, &query, &unit, &count, &threads) < 0) {
        fputs("usage: bench_tsa -d DIR --query FILE.tsq [--unit NAME] "
              "[-n COUNT] [-t THREADS]\n",
              stderr);
        return 2;
    }
    snprintf(db, sizeof db, "%s/llave.db", dir);
    int rc = lv_config_load(&cfg, dir, &err);
    if (rc == 0)
        rc = lv_file_read(query, &sh.query, &sh.query_len, 65536, &err);
    /* the TSU key is in llave-keyd, as in llaved (one keyc connection
     * per thread) */
    if (rc == 0)
        rc = cli_keyd_child(&cfg, NULL, 0, &keyd, &err);
    if (rc == 0)
        rc = store_open(db, &st, &err);
    if (rc == 0)
        rc = ca_open(&cfg, st, KEYD_CALLER_SERVICE, &sh.ca, &err);
    if (rc < 0) {
        fprintf(stderr, "bench_tsa: %s\n", err.msg);
        return 1;
    }
    sh.unit = unit;
    sh.count = count;
    rc = run(&sh, &cfg, threads);
    ca_close(sh.ca);
    store_close(st);
    keyc_child_stop(keyd);
    free(sh.query);
    return rc;
}
