/* llaved's CRL keeper (R6.3): a thread with its own store connection that
 * runs crl_refresh every crl_check_seconds, so every CA's CRL is
 * regenerated well before nextUpdate, after a status change whose own
 * regeneration failed, and when a compromised CA still lacks its final
 * CRL.  The first pass runs before start returns, so a freshly started
 * service already serves every CRL. */
#include "crl/crl.h"

#define KEEPER_ACTOR "llaved"

static int keeper_pass(void *state, lv_job *job, lv_err *err)
{
    ca_job_state *k = state;
    int generated = 0;
    (void)job;
    int rc = crl_refresh(k->ca, k->st, KEEPER_ACTOR, &generated, err);
    if (rc == 0 && generated > 0)
        lv_log(LV_LOG_INFO, "CRL keeper: %d CRL(s) published", generated);
    return rc;
}

/* Sealed, it does not start: nothing can be signed; the CRLs stored are
 * still served. */
int crl_keeper_start(lv_ca *ca, lv_job **out, lv_err *err)
{
    lv_job_def def = {.name = "CRL keeper",
                      .size = sizeof(ca_job_state),
                      .pass = keeper_pass,
                      .interval_seconds = ca_config(ca)->crl_check_seconds,
                      .flags = LV_JOB_PASS_AT_START};
    return ca_job_start(ca, &def, out, err);
}
