/* llaved's OCSP cache watcher (issue 17 item 5): every node runs one, with
 * its own store connection, so that a revocation made by another node (or
 * by `llave` on the same database) reaches this node's cache of answers
 * (ocsp_cache.c) within WATCH_SECONDS + one query.
 *
 * What changes an answer is a revocation (R6.2: no reactivation), and
 * certs.revoked_at is stamped with the revoking node's clock just before
 * its transaction commits (ca/revoke.c).  Each pass therefore reads the
 * serials revoked since the start of the previous successful pass minus
 * SLACK seconds, which covers the clock difference between nodes and a
 * slow commit, and drops their "good" entries; a serial seen twice costs
 * one hash probe.  Re-signing by the refresher needs no notice: the cached
 * answer states the same status and is served only until its own
 * nextUpdate.  A revocation whose re-signing failed (sealed key store) is
 * dropped too, so the database's stale "good" response, which
 * presigned_usable refuses, is never served from memory.
 *
 * It runs on every node (no lease) and while sealed.  When the database
 * cannot be read the pass fails, the connection is reopened on the next
 * one and the watermark stays, so nothing revoked meanwhile is missed. */
#include "ocsp/ocsp_internal.h"

#define WATCH_SECONDS 1
#define SLACK 60    /* seconds: clocks of the nodes, commit latency */
#define LIMIT 10000 /* serials a pass drops one by one; more: clear all */

typedef struct watch {
    lv_ca *ca;
    lv_store *st; /* NULL after a failure: reopened by the next pass */
    int64_t since;
    int seen;
} watch;

static int watch_open(void *state, void *ca, lv_err *err)
{
    watch *w = state;
    w->ca = ca;
    w->since = lv_now() - SLACK;
    return ca_store_open(ca, &w->st, err);
}

static void watch_close(void *state)
{
    store_close(((watch *)state)->st);
}

static int forget(const char *serial, void *ctx)
{
    watch *w = ctx;
    ocsp_cache_forget(ocsp_cache_of(w->ca), serial);
    w->seen++;
    return 0;
}

static int watch_pass(void *state, lv_job *job, lv_err *err)
{
    watch *w = state;
    int64_t started = lv_now();
    (void)job;
    if (!w->st)
        LV_TRY(ca_store_open(w->ca, &w->st, err));
    w->seen = 0;
    uint64_t changes = ocsp_cache_changes(ocsp_cache_of(w->ca));
    int rc = store_ocsp_foreach_revoked(w->st, w->since, LIMIT, forget, w, err);
    if (rc < 0) {
        store_close(w->st);
        w->st = NULL;
        return rc;
    }
    /* a mass revocation (compromise drill, R6.5): start afresh */
    if (w->seen == LIMIT)
        ocsp_cache_clear(ocsp_cache_of(w->ca));
    w->since = started - SLACK;
    ocsp_cache_synced(ocsp_cache_of(w->ca), changes);
    return 0;
}

int ocsp_watcher_start(lv_ca *ca, lv_job **out, lv_err *err)
{
    lv_job_def def = {.name = "OCSP cache watcher",
                      .size = sizeof(watch),
                      .open = watch_open,
                      .pass = watch_pass,
                      .close = watch_close,
                      .interval_seconds = WATCH_SECONDS};
    *out = NULL;
    if (!ocsp_cache_of(ca))
        return 0; /* ocsp_cache_mib 0: nothing to keep current */
    return lv_job_start(&def, ca, out, err);
}
