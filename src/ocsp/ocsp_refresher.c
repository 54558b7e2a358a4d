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

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHUNK 256   /* responses per ocsp_refresh_due call */
#define NICENESS 10 /* below the request threads */

typedef struct refresher {
    ca_job_state job; /* first: ca_job_start's */
    int niced;        /* the thread's priority is lowered on its first pass */
} refresher;

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
static int refresher_pass(void *state, lv_job *job, lv_err *err)
{
    refresher *r = state;
    int total = 0, done = CHUNK, rc = 0;
    if (!r->niced) {
        lower_priority();
        r->niced = 1;
    }
    while (rc == 0 && done == CHUNK && !lv_job_stopping(job)) {
        rc = ocsp_refresh_due(r->job.ca, r->job.st, CHUNK, &done, err);
        total += done;
    }
    if (total > 0)
        lv_log(LV_LOG_INFO, "OCSP refresher: %d response(s) signed", total);
    return rc;
}

/* Sealed, it does not start: the stored responses are still served until
 * nextUpdate. */
int ocsp_refresher_start(lv_ca *ca, lv_job **out, lv_err *err)
{
    lv_job_def def = {.name = "OCSP refresher",
                      .size = sizeof(refresher),
                      .pass = refresher_pass,
                      .interval_seconds = ca_config(ca)->ocsp_refresh_interval,
                      .flags = LV_WORKER_RUN_FIRST};
    return ca_job_start(ca, &def, out, err);
}
