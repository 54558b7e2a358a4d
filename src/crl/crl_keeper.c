/* llaved's CRL keeper (R6.3): a thread with its own store connection that
 * runs crl_refresh every crl_check_seconds, so every CA's CRL is
 * regenerated well before nextUpdate, after a status change whose own
 * regeneration failed, and when a compromised CA still lacks its final
 * CRL.  The first pass runs before start returns, so a freshly started
 * service already serves every CRL. */
#include "crl/crl.h"
#include "store/store.h"

#include <stdlib.h>

#define KEEPER_ACTOR "llaved"

struct lv_crl_keeper {
    lv_ca *ca;
    lv_store *st;
    lv_worker *worker;
    int last_failed; /* log a persistent failure once, not every pass */
};

static void keeper_pass(void *arg)
{
    lv_crl_keeper *k = arg;
    lv_err err = {0};
    int generated = 0;
    int rc = crl_refresh(k->ca, k->st, KEEPER_ACTOR, &generated, &err);
    if (rc < 0 && !k->last_failed)
        lv_log(LV_LOG_WARN, "CRL keeper: %s", err.msg);
    else if (generated > 0)
        lv_log(LV_LOG_INFO, "CRL keeper: %d CRL(s) published", generated);
    k->last_failed = rc < 0;
}

int crl_keeper_start(lv_ca *ca, lv_crl_keeper **out, lv_err *err)
{
    *out = NULL;
    if (ca_sealed(ca)) {
        /* sealed: nothing can be signed; the CRLs stored are still served */
        lv_log(LV_LOG_WARN, "CRL keeper not started: the key store is sealed");
        return 0;
    }
    lv_crl_keeper *k = calloc(1, sizeof *k);
    if (k == NULL)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    k->ca = ca;
    int rc = ca_store_open(ca, &k->st, err);
    if (rc == 0)
        keeper_pass(k);
    if (rc == 0)
        rc = lv_worker_start(&k->worker, keeper_pass, k,
                             ca_config(ca)->crl_check_seconds, 0, err);
    if (rc < 0) {
        crl_keeper_stop(k);
        return rc;
    }
    *out = k;
    return 0;
}

void crl_keeper_stop(lv_crl_keeper *k)
{
    if (k == NULL)
        return;
    lv_worker_stop(k->worker);
    store_close(k->st);
    free(k);
}
