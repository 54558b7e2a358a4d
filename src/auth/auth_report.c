/* The audit trail cannot be flooded (issue 11 item 5, CPS §5.4.1).
 *
 * One undeletable audit row per anonymous request let anyone write
 * gigabytes an hour into a trail kept 15 years.  A failure that names no
 * existing account (an unknown id at a login or an activation) or that
 * was refused before any lookup (throttled, rate-limited) is counted
 * here, per source, in memory; every auth_report_seconds llaved's
 * reporter writes the AUTH_REPORT_TOP busiest sources as one
 * "auth.failures_aggregate" entry each and everything else as one
 * "others" entry.  Ids are never written, only a truncated HMAC of a few
 * of them (so an officer holding DIR/auth.key can test a suspicion
 * without the trail listing document numbers); passwords never reach
 * this file.  Failures on real accounts are still audited one by one,
 * and the throttle bounds how many of those an attacker can cause. */
#include "auth/auth_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOURCES 256 /* distinct sources kept per interval; more: "others" */
#define EVENTS 6    /* distinct event names kept per source */
#define SAMPLES 3   /* id samples kept per source */
#define SAMPLE_HEX 16

typedef struct rep_event {
    char name[40];
    unsigned n;
} rep_event;

typedef struct rep_source {
    char src[AUTH_SOURCE_MAX];
    unsigned count;
    rep_event ev[EVENTS];
    char samples[SAMPLES][SAMPLE_HEX + 1];
    int nsamples;
} rep_source;

typedef struct rep_batch {
    rep_source src[SOURCES];
    size_t n;
    unsigned overflow; /* failures from sources beyond SOURCES */
    int64_t since;     /* start of the interval, s */
} rep_batch;

struct auth_report {
    pthread_mutex_t lock;
    rep_batch *cur;
};

int auth_report_new(auth_report **out, lv_err *err)
{
    auth_report *r = calloc(1, sizeof *r);
    *out = NULL;
    if (r)
        r->cur = calloc(1, sizeof *r->cur);
    if (!r || !r->cur) {
        free(r);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&r->lock, NULL);
    r->cur->since = lv_now();
    *out = r;
    return 0;
}

void auth_report_free(auth_report *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r->cur);
    free(r);
}

/* ---- counting
 * ------------------------------------------------------------------
 */

static void count_event(rep_source *s, const char *event)
{
    for (int i = 0; i < EVENTS; i++) {
        if (s->ev[i].name[0] == '\0')
            snprintf(s->ev[i].name, sizeof s->ev[i].name, "%s", event);
        if (strcmp(s->ev[i].name, event) == 0) {
            s->ev[i].n++;
            return;
        }
    }
    /* more kinds than slots: counted in the total only */
}

static rep_source *source_slot(rep_batch *b, const char *src)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->src[i].src, src) == 0)
            return &b->src[i];
    if (b->n == SOURCES)
        return NULL;
    rep_source *s = &b->src[b->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->src, sizeof s->src, "%s", src);
    return s;
}

/* HMAC, not the id: the trail must not become a list of document
 * numbers, and a plain hash of an 8-digit DNI is reversed in seconds. */
static void sample_of(const lv_auth *auth, const char *id,
                      char out[SAMPLE_HEX + 1])
{
    char mac[AUTH_HASH_HEX];
    const void *parts[] = {"audit sample", id};
    size_t lens[] = {12, strlen(id)};
    out[0] = '\0';
    if (auth_mac_parts(auth, parts, lens, 2, mac, NULL) == 0)
        snprintf(out, SAMPLE_HEX + 1, "%.*s", SAMPLE_HEX, mac);
}

void auth_anon_failure(lv_auth *auth, const char *event, const char *id,
                       const char *ip)
{
    char src[AUTH_SOURCE_MAX], sample[SAMPLE_HEX + 1] = "";
    auth_report *r = auth->report;
    auth_source_key(ip, src);
    if (id && id[0])
        sample_of(auth, id, sample);
    pthread_mutex_lock(&r->lock);
    rep_source *s = source_slot(r->cur, src);
    if (!s) {
        r->cur->overflow++;
    } else {
        s->count++;
        count_event(s, event);
        int dup = 0;
        for (int i = 0; i < s->nsamples; i++)
            dup |= strcmp(s->samples[i], sample) == 0;
        if (sample[0] && !dup && s->nsamples < SAMPLES)
            memcpy(s->samples[s->nsamples++], sample, sizeof sample);
    }
    pthread_mutex_unlock(&r->lock);
}

/* ---- writing
 * ---------------------------------------------------------------------
 */

static int by_count_desc(const void *a, const void *b)
{
    unsigned x = ((const rep_source *)a)->count;
    unsigned y = ((const rep_source *)b)->count;
    return x < y ? 1 : x > y ? -1 : 0;
}

static json_t *interval_json(const rep_batch *b, int64_t until)
{
    char from[32], to[32];
    lv_time_iso(b->since, from);
    lv_time_iso(until, to);
    return json_pack("{s:s, s:s, s:I}", "from", from, "to", to,
                     "interval_seconds", (json_int_t)(until - b->since));
}

static json_t *source_json(const rep_batch *b, const rep_source *s,
                           int64_t until)
{
    json_t *d = interval_json(b, until);
    json_t *ev = json_object(), *sm = json_array();
    for (int i = 0; ev && i < EVENTS && s->ev[i].name[0]; i++)
        json_object_set_new(ev, s->ev[i].name, json_integer(s->ev[i].n));
    for (int i = 0; sm && i < s->nsamples; i++)
        json_array_append_new(sm, json_string(s->samples[i]));
    if (d) {
        json_object_set_new(d, "source", json_string(s->src));
        json_object_set_new(d, "count", json_integer(s->count));
        json_object_set_new(d, "events", ev ? ev : json_null());
        json_object_set_new(d, "id_hmac_samples", sm ? sm : json_null());
    } else {
        json_decref(ev);
        json_decref(sm);
    }
    return d;
}

/* Everything after the AUTH_REPORT_TOP busiest sources, in one row. */
static json_t *others_json(const rep_batch *b, int64_t until)
{
    json_int_t count = b->overflow;
    size_t sources = 0;
    for (size_t i = AUTH_REPORT_TOP; i < b->n; i++, sources++)
        count += b->src[i].count;
    if (count == 0)
        return NULL;
    json_t *d = interval_json(b, until);
    if (d) {
        json_object_set_new(d, "source", json_string("others"));
        json_object_set_new(d, "count", json_integer(count));
        json_object_set_new(d, "sources", json_integer((json_int_t)sources));
        json_object_set_new(d, "sources_not_tracked",
                            json_boolean(b->overflow));
    }
    return d;
}

static int write_row(lv_store *st, const char *object, json_t *d, lv_err *err)
{
    if (!d)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = audit_log(st, "anonymous", "auth.failures_aggregate", object,
                       LV_AUDIT_FAILURE, d, err);
    json_decref(d);
    return rc;
}

static int write_batch(lv_store *st, rep_batch *b, int64_t until, lv_err *err)
{
    qsort(b->src, b->n, sizeof b->src[0], by_count_desc);
    LV_TRY(store_begin(st, err));
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < b->n && i < AUTH_REPORT_TOP; i++)
        rc = write_row(st, b->src[i].src, source_json(b, &b->src[i], until),
                       err);
    json_t *others = rc == 0 ? others_json(b, until) : NULL;
    if (others)
        rc = write_row(st, "others", others, err);
    if (rc < 0) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st, err);
}

int auth_report_flush(lv_auth *auth, lv_store *st, lv_err *err)
{
    auth_report *r = auth->report;
    rep_batch *fresh = calloc(1, sizeof *fresh);
    if (!fresh)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int64_t now = lv_now();
    fresh->since = now;
    pthread_mutex_lock(&r->lock);
    rep_batch *full = r->cur;
    int empty = full->n == 0 && full->overflow == 0;
    if (!empty)
        r->cur = fresh;
    pthread_mutex_unlock(&r->lock);
    if (empty) {
        free(fresh);
        return 0;
    }
    int rc = write_batch(st, full, now, err);
    if (rc < 0)
        lv_log(LV_LOG_ERROR,
               "auth: %zu sources of anonymous failures not "
               "audited: %s",
               full->n, err ? err->msg : "");
    free(full);
    return rc;
}

/* ---- llaved's reporter thread
 * ------------------------------------------------
 */

typedef struct reporter {
    lv_auth *auth;
    lv_store *st;
} reporter;

static int reporter_open(void *state, void *auth, lv_err *err)
{
    reporter *r = state;
    char db[1024];
    r->auth = auth;
    if (lv_config_store_location(&r->auth->cfg, db, sizeof db) < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    return store_open(db, &r->st, err);
}

static int reporter_pass(void *state, lv_job *job, lv_err *err)
{
    reporter *r = state;
    (void)job;
    return auth_report_flush(r->auth, r->st, err);
}

static void reporter_close(void *state)
{
    reporter *r = state;
    lv_err err = {0};
    if (r->st) /* what the last interval counted; failures are logged */
        auth_report_flush(r->auth, r->st, &err);
    store_close(r->st);
}

int auth_reporter_start(lv_auth *auth, lv_job **out, lv_err *err)
{
    lv_job_def def = {.name = "auth: reporter",
                      .size = sizeof(reporter),
                      .open = reporter_open,
                      .pass = reporter_pass,
                      .close = reporter_close,
                      .interval_seconds = auth->cfg.auth_report_seconds};
    return lv_job_start(&def, auth, out, err);
}
