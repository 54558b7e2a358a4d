/* Job leases (sql/016_job_leases.sql, issue 17 item 2): which node runs a
 * background job now.  Taken in a write transaction, so two nodes asking
 * at once are ordered by the database and exactly one holds the lease. */
#include "store/store_driver.h"

#include <stdio.h>
#include <string.h>

#define HOLDER_CAP 128

static int lease_read(lv_store *st, const char *job, char holder[HOLDER_CAP],
                      int64_t *expires_at, lv_err *err)
{
    store_q q;
    holder[0] = '\0';
    *expires_at = 0;
    store_q_prepare(
        &q, st, "SELECT holder, expires_at FROM job_leases WHERE job = ?", err);
    store_q_text(&q, job);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW) {
        rc = store_q_col_copy(&q, 0, holder, HOLDER_CAP);
        *expires_at = store_q_col_int64(&q, 1);
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

/* A renewal moves expires_at only; a new or taken-over lease names its
 * holder and when it was taken. */
static int lease_write(lv_store *st, const char *job, const char *holder,
                       int64_t now, int64_t expires_at, int exists, int mine,
                       lv_err *err)
{
    store_q q;
    if (mine) {
        store_q_prepare(&q, st,
                        "UPDATE job_leases SET expires_at = ? "
                        "WHERE job = ? AND holder = ?",
                        err);
        store_q_int64(&q, expires_at);
        store_q_text(&q, job);
        store_q_text(&q, holder);
    } else {
        store_q_prepare(&q, st,
                        exists ? "UPDATE job_leases SET holder = ?, "
                                 "expires_at = ?, taken_at = ? WHERE job = ?"
                               : "INSERT INTO job_leases (holder, expires_at, "
                                 "taken_at, job) VALUES (?, ?, ?, ?)",
                        err);
        store_q_text(&q, holder);
        store_q_int64(&q, expires_at);
        store_q_int64(&q, now);
        store_q_text(&q, job);
    }
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    return rc;
}

int store_lease_take(lv_store *st, const char *job, const char *holder,
                     int ttl_seconds, int64_t now, lv_err *err)
{
    char current[HOLDER_CAP];
    int64_t expires_at = 0;
    if (strlen(holder) >= HOLDER_CAP)
        return lv_fail(err, LV_EINVAL, "lease holder name too long");
    LV_TRY(store_begin(st, err));
    int rc = lease_read(st, job, current, &expires_at, err);
    int exists = current[0] != '\0';
    int mine = exists && strcmp(current, holder) == 0;
    int held = rc == 0 &&
               (!exists || mine || expires_at <= now || lv_node_gone(current));
    if (held)
        rc = lease_write(st, job, holder, now, now + ttl_seconds, exists, mine,
                         err);
    rc = store_end(st, rc, err);
    if (rc < 0)
        return rc;
    if (held && exists && !mine)
        lv_log(LV_LOG_INFO, "%s: taken over from %s, whose lease ran out", job,
               current);
    return held;
}

int store_job_lease(lv_store *st, const char *job, int ttl_seconds, lv_err *err)
{
    return store_lease_take(st, job, lv_node_id(), ttl_seconds, lv_now(), err);
}
