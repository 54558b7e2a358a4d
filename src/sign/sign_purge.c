/* What remote signing leaves behind, purged on a schedule (issue 14 item
 * 6): transactions and their documents (PDFs included, issue 14 item 4)
 * once expired, signed or ended for sign_keep_hours, SADs expired or used up,
 * CSC OTP bindings, activation records, and the one-time codes and sessions
 * auth/ keeps.  Only the rows go: the audit trail keeps every event they saw
 * (R9.1, CPS §5.4), and one "sign.purge" entry says how many of each a pass
 * removed. */
#include "sign/sign_internal.h"

#include <string.h>

#define HOUR 3600

int sign_purge(const lv_config *cfg, lv_store *st, int64_t now,
               lv_purge_hook hook, lv_sign_purge_counts *out, lv_err *err)
{
    int64_t before = now - (int64_t)cfg->sign_keep_hours * HOUR;
    lv_sign_purged p = {0};
    memset(out, 0, sizeof *out);
    int pdfs = 0;
    LV_TRY(store_begin(st, err));
    /* the transactions' PDFs (sql/013) first: they name the transactions */
    int rc = store_sign_pdf_purge(st, before, &pdfs, err);
    if (rc == 0)
        rc = store_sign_purge(st, before, &p, err);
    if (rc == 0)
        rc = store_activation_purge(st, before, &out->activations, err);
    if (rc == 0)
        rc = auth_purge(cfg, st, now, &out->otps, err);
    if (rc == 0 && hook)
        rc = hook(st, before, &out->oauth, err);
    out->transactions = p.transactions;
    out->sads = p.sads;
    out->csc_otps = p.csc_otps;
    int total = out->transactions + out->sads + out->csc_otps +
                out->activations + out->otps + out->oauth;
    json_t *d = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:I}",
                          "transactions", out->transactions, "pdfs", pdfs,
                          "sads", out->sads, "csc_otps", out->csc_otps,
                          "activations", out->activations, "otps", out->otps,
                          "oauth", out->oauth, "before", (json_int_t)before);
    if (rc == 0 && total > 0)
        rc = audit_log(st, "llaved", "sign.purge", "sign", LV_AUDIT_SUCCESS, d,
                       err);
    json_decref(d);
    return store_end(st, rc, err);
}

/* ---- llaved's purger thread ---------------------------------------------- */

typedef struct purger {
    lv_config cfg;
    lv_purge_hook hook;
    lv_store *st;
} purger;

/* arg: a purger whose cfg and hook are set */
static int purger_open(void *state, void *arg, lv_err *err)
{
    purger *p = state;
    char db[1024];
    *p = *(const purger *)arg;
    if (lv_config_store_location(&p->cfg, db, sizeof db) < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    return store_open(db, &p->st, err);
}

static int purger_pass(void *state, lv_job *job, lv_err *err)
{
    purger *p = state;
    lv_sign_purge_counts n;
    (void)job;
    return sign_purge(&p->cfg, p->st, lv_now(), p->hook, &n, err);
}

static void purger_close(void *state)
{
    store_close(((purger *)state)->st);
}

/* One node at a time purges (issue 17 item 2). */
static int purger_lease(void *state, const char *name, int ttl, lv_err *err)
{
    return store_job_lease(((purger *)state)->st, name, ttl, err);
}

int sign_purger_start(const lv_config *cfg, lv_purge_hook hook, lv_job **out,
                      lv_err *err)
{
    purger how = {.cfg = *cfg, .hook = hook};
    lv_job_def def = {.name = "sign: purge",
                      .size = sizeof(purger),
                      .open = purger_open,
                      .pass = purger_pass,
                      .close = purger_close,
                      .interval_seconds = cfg->purge_interval_seconds,
                      .flags = LV_WORKER_RUN_FIRST,
                      .lease = purger_lease};
    return lv_job_start(&def, &how, out, err);
}
