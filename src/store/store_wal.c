/* llaved's checkpointer (R10.1, and the disk of a provider under load): the
 * SQLite write-ahead log is copied into the database and started again
 * every second, so that steady signing, OCSP nonce and issuance traffic
 * cannot grow it without bound (it grew by about 1.5 GB in 20 s of
 * single-hash signHash before this job existed) nor slow every lookup
 * that searches it.  The driver decides what a pass does (store_driver.h);
 * PostgreSQL needs none. */
#include "store/store_driver.h"
#include "store/store_front.h"

#include <stdio.h>

int store_checkpoint(lv_store *st, lv_err *err)
{
    if (!st->drv->checkpoint)
        return 1; /* nothing to try */
    if (st->in_tx)
        return lv_fail(err, LV_ESTATE, "checkpoint inside a transaction");
    return st->drv->checkpoint(st->db, err);
}

typedef struct checkpointer {
    char location[1024];
    lv_store *st;
} checkpointer;

static int checkpointer_open(void *state, void *arg, lv_err *err)
{
    checkpointer *c = state;
    const char *location = arg;
    if (snprintf(c->location, sizeof c->location, "%s", location) >=
        (int)sizeof c->location)
        return lv_fail(err, LV_EINVAL, "store location too long");
    return store_open(c->location, &c->st, err);
}

static int checkpointer_pass(void *state, lv_job *job, lv_err *err)
{
    (void)job;
    return store_checkpoint(((checkpointer *)state)->st, err);
}

static void checkpointer_close(void *state)
{
    store_close(((checkpointer *)state)->st);
}

/* Every node checkpoints its own way in: several llaved on one SQLite file
 * are one host, and a second checkpoint finds the log already copied. */
int store_checkpointer_start(const char *location, lv_job **out, lv_err *err)
{
    lv_job_def def = {.name = "store: checkpoint",
                      .size = sizeof(checkpointer),
                      .open = checkpointer_open,
                      .pass = checkpointer_pass,
                      .close = checkpointer_close,
                      .interval_seconds = 1};
    return lv_job_start(&def, (void *)location, out, err);
}
