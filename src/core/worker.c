/* Background workers: one thread that runs a pass every interval seconds
 * and sleeps on a condition variable in between, so that stopping wakes it
 * at once instead of waiting out the interval.  llaved's CRL keeper (R6.3),
 * OCSP refresher (R6.4) and audit sealer (R9.2) are built on it. */
#include "core/core.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct lv_worker {
    lv_worker_fn fn;
    void *arg;
    int interval;
    int flags;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
};

/* Waits interval seconds or until stopped; called and returns locked. */
static void wait_interval(lv_worker *w)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += w->interval;
    int rc = 0;
    while (!w->stopping && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w->wake, &w->lock, &until);
}

static void *worker_main(void *arg)
{
    lv_worker *w = arg;
    if (w->flags & LV_WORKER_RUN_FIRST)
        w->fn(w->arg);
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        wait_interval(w);
        if (w->stopping)
            break;
        pthread_mutex_unlock(&w->lock);
        w->fn(w->arg);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void worker_free(lv_worker *w)
{
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int lv_worker_start(lv_worker **out, lv_worker_fn fn, void *arg,
                    int interval_seconds, int flags, lv_err *err)
{
    lv_worker *w = calloc(1, sizeof *w);
    *out = NULL;
    if (w == NULL)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    w->fn = fn;
    w->arg = arg;
    w->interval = interval_seconds;
    w->flags = flags;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    /* before pthread_create, which orders it before anything fn reads */
    *out = w;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        *out = NULL;
        worker_free(w);
        return lv_fail(err, LV_EINTERNAL, "cannot start a worker thread");
    }
    return 0;
}

int lv_worker_stopping(lv_worker *w)
{
    pthread_mutex_lock(&w->lock);
    int s = w->stopping;
    pthread_mutex_unlock(&w->lock);
    return s;
}

void lv_worker_stop(lv_worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    worker_free(w);
}

/* ---- periodic jobs ------------------------------------------------------- */

struct lv_job {
    lv_job_def def;
    void *state;
    lv_worker *worker;
    int failed; /* the last pass that tried failed: logged already */
};

static pthread_once_t node_once = PTHREAD_ONCE_INIT;
static char node_id[128];

static void node_id_make(void)
{
    char host[64] = "localhost", rnd[9] = "00000000";
    lv_err ignored = {0};
    gethostname(host, sizeof host - 1);
    lv_ignore(lv_random_hex(4, rnd, &ignored));
    snprintf(node_id, sizeof node_id, "%s:%ld:%s", host, (long)getpid(), rnd);
}

const char *lv_node_id(void)
{
    pthread_once(&node_once, node_id_make);
    return node_id;
}

int lv_node_gone(const char *node)
{
    const char *me = lv_node_id();
    size_t host = strcspn(me, ":");
    if (strncmp(node, me, host + 1) != 0)
        return 0; /* another host's: only its lease's end says */
    char *end = NULL;
    long pid = strtol(node + host + 1, &end, 10);
    if (pid <= 0 || !end || *end != ':')
        return 0;
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* 1: run the pass (no lease, or this node holds it). */
static int job_leased(lv_job *j, lv_err *err)
{
    if (!j->def.lease)
        return 1;
    int ttl = LV_JOB_LEASE_INTERVALS * j->def.interval_seconds + 2;
    return j->def.lease(j->state, j->def.name, ttl, err);
}

static void job_pass(void *arg)
{
    lv_job *j = arg;
    lv_err err = {0};
    int rc = job_leased(j, &err);
    if (rc == 0)
        return; /* another node runs it */
    if (rc > 0)
        rc = j->def.pass(j->state, j, &err);
    if (rc < 0 && !j->failed)
        lv_log(LV_LOG_WARN, "%s: %s", j->def.name, err.msg);
    if (rc <= 0)
        j->failed = rc < 0;
}

int lv_job_start(const lv_job_def *def, void *arg, lv_job **out, lv_err *err)
{
    lv_job *j = calloc(1, sizeof *j);
    void *state = calloc(1, def->size);
    *out = NULL;
    if (j == NULL || state == NULL) {
        free(j);
        free(state);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    j->def = *def;
    j->state = state;
    int rc = def->open(state, arg, err);
    if (rc == 0 && (def->flags & LV_JOB_PASS_AT_START))
        job_pass(j);
    if (rc == 0)
        rc = lv_worker_start(&j->worker, job_pass, j, def->interval_seconds,
                             def->flags & LV_WORKER_RUN_FIRST, err);
    if (rc == 0)
        *out = j;
    else
        lv_job_stop(j); /* no worker yet: closes what open took */
    return rc;
}

int lv_job_stopping(lv_job *j)
{
    return j->worker != NULL && lv_worker_stopping(j->worker);
}

void lv_job_stop(lv_job *j)
{
    if (j == NULL)
        return;
    int ran = j->worker != NULL;
    lv_worker_stop(j->worker);
    if (ran && j->def.lease) { /* hand the job over: a lease ending now */
        lv_err ignored = {0};
        lv_ignore(j->def.lease(j->state, j->def.name, 0, &ignored));
    }
    j->def.close(j->state);
    free(j->state);
    free(j);
}
