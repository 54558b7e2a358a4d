/* llaved's CRL keeper (R6.3): a thread with its own store connection that
 * runs ca_crl_refresh every crl_check_seconds, so every CA's CRL is
 * regenerated well before nextUpdate, after a status change whose own
 * regeneration failed, and when a compromised CA still lacks its final
 * CRL.  The first pass runs before start returns, so a freshly started
 * service already serves every CRL. */
#include "ca/ca_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define KEEPER_ACTOR "llaved"

struct lv_crl_keeper {
    lv_ca *ca;
    lv_store *st;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    int started;
    int last_failed; /* log a persistent failure once, not every pass */
};

static void keeper_pass(lv_crl_keeper *k)
{
    lv_err err = {0};
    int generated = 0;
    int rc = ca_crl_refresh(k->ca, k->st, KEEPER_ACTOR, &generated, &err);
    if (rc < 0 && !k->last_failed)
        lv_log(LV_LOG_WARN, "CRL keeper: %s", err.msg);
    else if (generated > 0)
        lv_log(LV_LOG_INFO, "CRL keeper: %d CRL(s) published", generated);
    k->last_failed = rc < 0;
}

static void *keeper_main(void *arg)
{
    lv_crl_keeper *k = arg;
    pthread_mutex_lock(&k->lock);
    while (!k->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += k->ca->cfg.crl_check_seconds;
        int rc = 0;
        while (!k->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&k->wake, &k->lock, &until);
        if (k->stopping)
            break;
        pthread_mutex_unlock(&k->lock);
        keeper_pass(k);
        pthread_mutex_lock(&k->lock);
    }
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

int ca_crl_keeper_start(lv_ca *ca, lv_crl_keeper **out, lv_err *err)
{
    char db[1024];
    *out = NULL;
    if (ca->ks == NULL) {
        /* sealed: nothing can be signed; the CRLs stored are still served */
        lv_log(LV_LOG_WARN, "CRL keeper not started: the key store is sealed");
        return 0;
    }
    LV_TRY(lv_path_join(db, sizeof db, ca->cfg.dir, "llave.db"));
    lv_crl_keeper *k = calloc(1, sizeof *k);
    if (k == NULL)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    k->ca = ca;
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->wake, NULL);
    int rc = store_open(db, &k->st, err);
    if (rc == 0)
        keeper_pass(k);
    if (rc == 0 && pthread_create(&k->thread, NULL, keeper_main, k) != 0)
        rc = lv_fail(err, LV_EINTERNAL, "cannot start the CRL keeper thread");
    k->started = rc == 0;
    if (rc < 0) {
        ca_crl_keeper_stop(k);
        return rc;
    }
    *out = k;
    return 0;
}

void ca_crl_keeper_stop(lv_crl_keeper *k)
{
    if (k == NULL)
        return;
    if (k->started) {
        pthread_mutex_lock(&k->lock);
        k->stopping = 1;
        pthread_cond_signal(&k->wake);
        pthread_mutex_unlock(&k->lock);
        pthread_join(k->thread, NULL);
    }
    store_close(k->st);
    pthread_cond_destroy(&k->wake);
    pthread_mutex_destroy(&k->lock);
    free(k);
}
