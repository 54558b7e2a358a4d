/* llaved's OCSP refresher (R6.4, R10.1): a thread with its own store
 * connection that keeps the pre-signed responses ahead of their nextUpdate
 * (ocsp_refresh.c does the work, a chunk at a time).
 *
 * Unlike the CRL keeper it does not run a first pass before start returns:
 * an install with many certificates and no responses yet (after an upgrade,
 * say) needs minutes of RSA operations, and the service should answer
 * meanwhile — lazily-signed responses cover the gap.  The thread lowers its
 * own scheduling priority so that request threads win the CPU. */
#include "ca/ocsp_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 256   /* responses per ca_ocsp_refresh_due call */
#define NICENESS 10 /* below the request threads */

struct lv_ocsp_refresher {
    lv_ca *ca;
    lv_store *st;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    int started;
    int last_failed; /* log a persistent failure once, not every pass */
};

static int stopping(lv_ocsp_refresher *r)
{
    pthread_mutex_lock(&r->lock);
    int s = r->stopping;
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* One pass: chunks until nothing is due or we are asked to stop. */
static void refresher_pass(lv_ocsp_refresher *r)
{
    int total = 0, done = CHUNK, rc = 0;
    lv_err err = {0};
    while (rc == 0 && done == CHUNK && !stopping(r)) {
        rc = ca_ocsp_refresh_due(r->ca, r->st, CHUNK, &done, &err);
        total += done;
    }
    if (rc < 0 && !r->last_failed)
        lv_log(LV_LOG_WARN, "OCSP refresher: %s", err.msg);
    else if (total > 0)
        lv_log(LV_LOG_INFO, "OCSP refresher: %d response(s) signed", total);
    r->last_failed = rc < 0;
}

/* Linux: nice applies to the calling thread when given its thread id. */
static void lower_priority(void)
{
#ifdef SYS_gettid
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (setpriority(PRIO_PROCESS, (id_t)tid, NICENESS) != 0)
        lv_log(LV_LOG_DEBUG, "OCSP refresher: setpriority failed");
#endif
}

static void *refresher_main(void *arg)
{
    lv_ocsp_refresher *r = arg;
    lower_priority();
    refresher_pass(r);
    pthread_mutex_lock(&r->lock);
    while (!r->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += r->ca->cfg.ocsp_refresh_interval;
        int rc = 0;
        while (!r->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&r->wake, &r->lock, &until);
        if (r->stopping)
            break;
        pthread_mutex_unlock(&r->lock);
        refresher_pass(r);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int ca_ocsp_refresher_start(lv_ca *ca, lv_ocsp_refresher **out, lv_err *err)
{
    char db[1024];
    *out = NULL;
    if (ca->ks == NULL) {
        /* sealed: the stored responses are still served until nextUpdate */
        lv_log(LV_LOG_WARN,
               "OCSP refresher not started: the key store is sealed");
        return 0;
    }
    LV_TRY(lv_path_join(db, sizeof db, ca->cfg.dir, "llave.db"));
    lv_ocsp_refresher *r = calloc(1, sizeof *r);
    if (r == NULL)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    r->ca = ca;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    int rc = store_open(db, &r->st, err);
    if (rc == 0 && pthread_create(&r->thread, NULL, refresher_main, r) != 0)
        rc = lv_fail(err, LV_EINTERNAL,
                     "cannot start the OCSP refresher thread");
    r->started = rc == 0;
    if (rc < 0) {
        ca_ocsp_refresher_stop(r);
        return rc;
    }
    *out = r;
    return 0;
}

void ca_ocsp_refresher_stop(lv_ocsp_refresher *r)
{
    if (r == NULL)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->lock);
        r->stopping = 1;
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
    }
    store_close(r->st);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
