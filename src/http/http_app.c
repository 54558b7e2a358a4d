/* The application context handed to every handler, and its per-thread
 * stores. */
#include "http/http.h"
#include "store/store_front.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct lv_app {
    lv_config cfg;
    _Atomic(lv_ca *) ca; /* swapped by a reload (issue 12 item 5) */
    lv_auth *auth;
    char location[576];          /* lv_config_store_location */
    lv_per_thread *stores;       /* each thread's open store */
    lv_per_thread *ready_stores; /* each I/O thread's mapped store */
};

static void close_store(void *st)
{
    store_front_close(st);
}

int lv_app_new(const lv_config *cfg, lv_app **out, lv_err *err)
{
    *out = NULL;
    lv_app *app = calloc(1, sizeof *app);
    if (!app)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    app->cfg = *cfg;
    if (lv_config_store_location(cfg, app->location, sizeof app->location) <
        0) {
        free(app);
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    }
    if (lv_per_thread_new(close_store, &app->stores) < 0) {
        free(app);
        return lv_fail(err, LV_EINTERNAL, "pthread_key_create failed");
    }
    if (lv_per_thread_new(close_store, &app->ready_stores) < 0) {
        lv_per_thread_free(app->stores);
        free(app);
        return lv_fail(err, LV_EINTERNAL, "pthread_key_create failed");
    }
    *out = app;
    return 0;
}

void lv_app_set_ca(lv_app *app, lv_ca *ca)
{
    atomic_store(&app->ca, ca); /* a reload swaps it under running threads */
}

void lv_app_set_auth(lv_app *app, lv_auth *auth)
{
    app->auth = auth;
}

void lv_app_free(lv_app *app)
{
    if (!app)
        return;
    lv_per_thread_free(app->ready_stores);
    lv_per_thread_free(app->stores);
    free(app);
}

const lv_config *lv_app_config(const lv_app *app)
{
    return &app->cfg;
}

lv_ca *lv_app_ca(const lv_app *app)
{
    return atomic_load(&((lv_app *)app)->ca);
}

lv_auth *lv_app_auth(const lv_app *app)
{
    return app->auth;
}

/* Issue 12: llaved holds no key; whether signing works is llave-keyd's
 * state, as the CA context last saw it (sealed, or keyd unreachable). */
int lv_app_sealed(const lv_app *app)
{
    return app->ca ? ca_sealed(app->ca) : 1;
}

const char *lv_app_store_location(const lv_app *app)
{
    return app->location;
}

static int thread_store(lv_app *app, lv_per_thread *slot, int map_reads,
                        lv_store **st, lv_err *err)
{
    *st = lv_per_thread_get(slot);
    if (*st)
        return 0;
    LV_TRY(store_front_open(app->location, map_reads, st, err));
    if (lv_per_thread_set(slot, *st) == 0)
        return 0;
    store_front_close(*st);
    *st = NULL;
    return lv_fail(err, LV_ENOMEM, "pthread_setspecific failed");
}

int lv_app_store(lv_app *app, lv_store **st, lv_err *err)
{
    return thread_store(app, app->stores, 0, st, err);
}

int lv_app_ready_store(lv_app *app, lv_store **st, lv_err *err)
{
    return thread_store(app, app->ready_stores, 1, st, err);
}
