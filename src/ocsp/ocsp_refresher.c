/* llaved's OCSP refresher (R6.4, R10.1): a thread with its own store
 * connection that keeps the pre-signed responses ahead of their nextUpdate
 * (ocsp_refresh.c does the work, a chunk at a time).
 *
 * Unlike the CRL keeper it does not run a first pass before start returns:
 * an install with many certificates and no responses yet (after an upgrade,
 * say) needs minutes of RSA operations, and the service should answer
 * meanwhile — lazily-signed responses cover the gap.  The thread lowers its
 * own scheduling priority so that request threads win the CPU. */
#include "ocsp/ocsp_internal.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHUNK 256   /* responses per ocsp_refresh_due call */
#define NICENESS 10 /* below the request threads */

struct lv_ocsp_refresher {
    lv_ca *ca;
    lv_store *st;
    lv_worker *worker;
    int niced;       /* the thread's priority is lowered on its first pass */
    int last_failed; /* log a persistent failure once, not every pass */
};

/* Linux: nice applies to the calling thread when given its thread id. */
static void lower_priority(void)
{
#ifdef SYS_gettid
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (setpriority(PRIO_PROCESS, (id_t)tid, NICENESS) != 0)
        lv_log(LV_LOG_DEBUG, "OCSP refresher: setpriority failed");
#endif
}

/* One pass: chunks until nothing is due or we are asked to stop. */
static void refresher_pass(void *arg)
{
    lv_ocsp_refresher *r = arg;
    int total = 0, done = CHUNK, rc = 0;
    lv_err err = {0};
    if (!r->niced) {
        lower_priority();
        r->niced = 1;
    }
    while (rc == 0 && done == CHUNK && !lv_worker_stopping(r->worker)) {
        rc = ocsp_refresh_due(r->ca, r->st, CHUNK, &done, &err);
        total += done;
    }
    if (rc < 0 && !r->last_failed)
        lv_log(LV_LOG_WARN, "OCSP refresher: %s", err.msg);
    else if (total > 0)
        lv_log(LV_LOG_INFO, "OCSP refresher: %d response(s) signed", total);
    r->last_failed = rc < 0;
}

int ocsp_refresher_start(lv_ca *ca, lv_ocsp_refresher **out, lv_err *err)
{
    *out = NULL;
    if (ca_sealed(ca)) {
        /* sealed: the stored responses are still served until nextUpdate */
        lv_log(LV_LOG_WARN,
               "OCSP refresher not started: the key store is sealed");
        return 0;
    }
    lv_ocsp_refresher *r = calloc(1, sizeof *r);
    if (r == NULL)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    r->ca = ca;
    int rc = ca_store_open(ca, &r->st, err);
    if (rc == 0)
        rc = lv_worker_start(&r->worker, refresher_pass, r,
                             ca_config(ca)->ocsp_refresh_interval,
                             LV_WORKER_RUN_FIRST, err);
    if (rc < 0) {
        ocsp_refresher_stop(r);
        return rc;
    }
    *out = r;
    return 0;
}

void ocsp_refresher_stop(lv_ocsp_refresher *r)
{
    if (r == NULL)
        return;
    lv_worker_stop(r->worker);
    store_close(r->st);
    free(r);
}
