/* The application context handed to every handler, and its per-thread
 * stores. */
#include "http/http.h"
#include "store/store_front.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* One open store of one thread.  Slots are also linked into the app so that
 * lv_app_free can close those of threads that have not exited (the main
 * thread, for example). */
typedef struct app_slot {
    lv_app *app;
    lv_store *st;
    struct app_slot *prev, *next;
} app_slot;

struct lv_app {
    lv_config cfg;
    _Atomic(lv_ca *) ca; /* swapped by a reload (issue 12 item 5) */
    lv_auth *auth;
    char location[576]; /* lv_config_store_location */
    pthread_key_t key;
    pthread_mutex_t lock; /* guards slots */
    app_slot *slots;
};

static void app_unlink(lv_app *app, app_slot *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        app->slots = s->next;
    if (s->next)
        s->next->prev = s->prev;
}

/* pthread key destructor: runs in a worker thread as it exits. */
static void app_slot_release(void *p)
{
    app_slot *s = p;
    pthread_mutex_lock(&s->app->lock);
    app_unlink(s->app, s);
    pthread_mutex_unlock(&s->app->lock);
    store_front_close(s->st);
    free(s);
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
    if (pthread_key_create(&app->key, app_slot_release) != 0) {
        free(app);
        return lv_fail(err, LV_EINTERNAL, "pthread_key_create failed");
    }
    pthread_mutex_init(&app->lock, NULL);
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
    pthread_mutex_lock(&app->lock);
    app_slot *s = app->slots;
    app->slots = NULL;
    pthread_mutex_unlock(&app->lock);
    while (s) {
        app_slot *next = s->next;
        store_front_close(s->st);
        free(s);
        s = next;
    }
    /* Threads still alive keep a dangling value, but no destructor runs for
     * a deleted key, and the contract is that no thread uses the app now. */
    pthread_setspecific(app->key, NULL);
    pthread_key_delete(app->key);
    pthread_mutex_destroy(&app->lock);
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

static int app_slot_open(lv_app *app, app_slot **out, lv_err *err)
{
    app_slot *s = calloc(1, sizeof *s);
    if (!s)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    s->app = app;
    int rc = store_front_open(app->location, &s->st, err);
    if (rc < 0) {
        free(s);
        return rc;
    }
    if (pthread_setspecific(app->key, s) != 0) {
        store_front_close(s->st);
        free(s);
        return lv_fail(err, LV_ENOMEM, "pthread_setspecific failed");
    }
    pthread_mutex_lock(&app->lock);
    s->next = app->slots;
    if (s->next)
        s->next->prev = s;
    app->slots = s;
    pthread_mutex_unlock(&app->lock);
    *out = s;
    return 0;
}

int lv_app_store(lv_app *app, lv_store **st, lv_err *err)
{
    app_slot *s = pthread_getspecific(app->key);
    if (!s)
        LV_TRY(app_slot_open(app, &s, err));
    *st = s ? s->st : NULL;
    return s ? 0 : LV_EINTERNAL;
}
