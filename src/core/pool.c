/* Bounded worker pools (issue 11): a fixed number of threads draining a
 * fixed-size queue.  llaved runs password hashing, private-key operations,
 * key generation and ordinary database work in pools of their own, so that
 * the I/O threads only parse requests and send ready answers.  A full queue
 * is refused at once (the caller answers 503 + Retry-After) instead of
 * growing: under attack the backlog, and so the memory and the wait, stay
 * bounded.  Workers may run at a lower scheduling priority (nice), so that
 * an I/O thread woken by a request preempts them on a busy machine. */
#define _GNU_SOURCE
#include "core/core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct pool_job {
    lv_pool_fn fn;
    void *arg;
} pool_job;

struct lv_pool {
    char name[16];
    pthread_mutex_t lock;
    pthread_cond_t work;
    pool_job *ring; /* queue_max slots */
    unsigned queue_max, head, count;
    unsigned nthreads, started, busy;
    int nice;
    int stopping;
    pthread_t *threads;
};

/* Linux schedules threads individually: setpriority on the thread id
 * lowers this thread only (raising it back would need CAP_SYS_NICE). */
static void pool_lower_priority(const lv_pool *p)
{
    if (p->nice <= 0)
        return;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (setpriority(PRIO_PROCESS, (id_t)tid, p->nice) < 0)
        lv_log(LV_LOG_WARN, "pool %s: cannot lower priority", p->name);
}

static void *pool_main(void *arg)
{
    lv_pool *p = arg;
    char tname[16]; /* the kernel's limit, NUL included */
    snprintf(tname, sizeof tname, "lv-%.12s", p->name);
    pthread_setname_np(pthread_self(), tname);
    pool_lower_priority(p);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->count && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        if (!p->count) /* stopping and drained */
            break;
        pool_job job = p->ring[p->head];
        p->head = (p->head + 1) % p->queue_max;
        p->count--;
        p->busy++;
        pthread_mutex_unlock(&p->lock);
        job.fn(job.arg);
        pthread_mutex_lock(&p->lock);
        p->busy--;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int lv_pool_new(const char *name, unsigned threads, unsigned queue_max,
                int nice, lv_pool **out, lv_err *err)
{
    *out = NULL;
    if (!threads || !queue_max)
        return lv_fail(err, LV_EINVAL, "pool %s: threads and queue must be > 0",
                       name);
    lv_pool *p = calloc(1, sizeof *p);
    if (!p)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    snprintf(p->name, sizeof p->name, "%s", name);
    p->queue_max = queue_max;
    p->nthreads = threads;
    p->nice = nice;
    p->ring = calloc(queue_max, sizeof *p->ring);
    p->threads = calloc(threads, sizeof *p->threads);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    if (!p->ring || !p->threads) {
        lv_pool_free(p);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    for (; p->started < threads; p->started++)
        if (pthread_create(&p->threads[p->started], NULL, pool_main, p) != 0) {
            lv_pool_free(p);
            return lv_fail(err, LV_EINTERNAL, "pool %s: cannot start a thread",
                           name);
        }
    *out = p;
    return 0;
}

int lv_pool_submit(lv_pool *p, lv_pool_fn fn, void *arg)
{
    pthread_mutex_lock(&p->lock);
    int ok = !p->stopping && p->count < p->queue_max;
    if (ok) {
        p->ring[(p->head + p->count) % p->queue_max] = (pool_job){fn, arg};
        p->count++;
        pthread_cond_signal(&p->work);
    }
    pthread_mutex_unlock(&p->lock);
    return ok ? 0 : LV_EBUSY;
}

void lv_pool_stats(lv_pool *p, unsigned *queued, unsigned *busy)
{
    pthread_mutex_lock(&p->lock);
    *queued = p->count;
    *busy = p->busy;
    pthread_mutex_unlock(&p->lock);
}

void lv_pool_free(lv_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p->ring);
    free(p);
}
