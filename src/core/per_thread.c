/* One value per thread (core.h): a pthread key whose values are also
 * linked into a list, so that lv_per_thread_free reaches the values of
 * threads that never exit (no destructor runs for a deleted key). */
#include "core/core.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct held {
    lv_per_thread *owner;
    void *value;
    struct held *prev, *next;
} held;

struct lv_per_thread {
    pthread_key_t key;
    pthread_mutex_t lock; /* guards list */
    held *list;
    void (*close)(void *value);
};

static void unlink_held(held *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        h->owner->list = h->next;
    if (h->next)
        h->next->prev = h->prev;
}

/* The key's destructor: runs in a thread as it exits. */
static void release(void *p)
{
    held *h = p;
    lv_per_thread *pt = h->owner;
    pthread_mutex_lock(&pt->lock);
    unlink_held(h);
    pthread_mutex_unlock(&pt->lock);
    pt->close(h->value);
    free(h);
}

int lv_per_thread_new(void (*close)(void *value), lv_per_thread **out)
{
    lv_per_thread *pt = calloc(1, sizeof *pt);
    *out = NULL;
    if (!pt)
        return LV_ENOMEM;
    if (pthread_mutex_init(&pt->lock, NULL) != 0) {
        free(pt);
        return LV_ENOMEM;
    }
    if (pthread_key_create(&pt->key, release) != 0) {
        pthread_mutex_destroy(&pt->lock);
        free(pt);
        return LV_EINTERNAL;
    }
    pt->close = close;
    *out = pt;
    return 0;
}

void *lv_per_thread_get(lv_per_thread *pt)
{
    held *h = pthread_getspecific(pt->key);
    return h ? h->value : NULL;
}

int lv_per_thread_set(lv_per_thread *pt, void *value)
{
    held *h = calloc(1, sizeof *h);
    if (!h)
        return LV_ENOMEM;
    h->owner = pt;
    h->value = value;
    if (pthread_setspecific(pt->key, h) != 0) {
        free(h);
        return LV_ENOMEM;
    }
    pthread_mutex_lock(&pt->lock);
    h->next = pt->list;
    if (h->next)
        h->next->prev = h;
    pt->list = h;
    pthread_mutex_unlock(&pt->lock);
    return 0;
}

void lv_per_thread_free(lv_per_thread *pt)
{
    if (!pt)
        return;
    pthread_mutex_lock(&pt->lock);
    held *h = pt->list;
    pt->list = NULL;
    pthread_mutex_unlock(&pt->lock);
    while (h) {
        held *next = h->next;
        pt->close(h->value);
        free(h);
        h = next;
    }
    /* threads still alive keep a dangling value, but no destructor runs
     * for a deleted key */
    pthread_setspecific(pt->key, NULL);
    pthread_key_delete(pt->key);
    pthread_mutex_destroy(&pt->lock);
    free(pt);
}
