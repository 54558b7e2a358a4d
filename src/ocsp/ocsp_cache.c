/* The per-node cache of OCSP answers (issue 17 item 5; DESIGN.md "Status"):
 * the responder's hot path without a database round trip.
 *
 * Keyed by (issuer, CertID hash algorithm, serial), an entry holds the DER
 * OCSPResponse, the CertID signed into it (a request is served only when
 * its CertID has the same encoding, RFC 6960 §4.1.1), the certificate
 * status it states and its thisUpdate/nextUpdate.  It is never served past
 * nextUpdate (RFC 5019 §2.2.4).
 *
 * Why sharded read-write locks rather than an RCU-like swap: an answer is
 * copied out of the entry (a few hundred bytes to 2 KiB) while a read lock
 * on one of SHARDS shards is held, so the 2 to 16 request threads of a node
 * meet on the same lock only when they ask for serials of the same shard at
 * the same instant, and then share it; writers (misses, revocations, the
 * change watcher) are rare next to readers.  An RCU scheme would need
 * reclamation (epochs or hazard pointers) to free replaced entries, which
 * is more code for no measurable gain at this thread count.
 *
 * The memory bound is ocsp_cache_mib, split evenly between the shards and
 * counted over the entries' bytes; past it, a shard evicts from a rotating
 * position in its bucket array (no access bookkeeping on the read path, so
 * hits take no write lock).  What is evicted is answered from the database
 * again, which is correct, only slower.
 *
 * Change signal on one host: `llave cert revoke` is another process on the
 * same data directory, and R6.2 wants its revocation in llaved's OCSP at
 * once.  DIR/ocsp-changes holds one 64-bit counter, mapped shared by every
 * process of the directory; a writer that changed statuses bumps it after
 * its commit (ocsp_cache_changed).  A cache serves hits only while the
 * counter equals the value its watcher (ocsp_watch.c) last synchronised
 * on, so in between requests take the database path, which is correct;
 * the watcher catches up within a second.  Nodes on other hosts see the
 * change through their watcher only. */
#include "ocsp/ocsp_internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SHARDS 64
#define ENTRY_GUESS 2304 /* bytes of a typical entry: sizes the buckets */

typedef struct entry {
    struct entry *next;
    int issuer;
    int hash;
    int cert_status;
    int64_t this_update;
    int64_t next_update;
    size_t cid_len;
    size_t der_len;
    char serial[65];
    unsigned char bytes[]; /* the CertID, then the response */
} entry;

typedef struct shard {
    pthread_rwlock_t lock;
    entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t used;     /* bytes of the entries */
    size_t hand;     /* the next bucket eviction empties */
} shard;

struct ocsp_cache {
    size_t shard_budget;
    /* bumped by every status change before its entries are dropped: an
     * answer read from the database before the change must not be put
     * after the drop (ocsp_cache_put) */
    atomic_uint_fast64_t generation;
    _Atomic uint64_t *changes;   /* DIR/ocsp-changes mapped; NULL: none */
    atomic_uint_fast64_t synced; /* *changes as the watcher last saw it */
    shard shards[SHARDS];
};

/* FNV-1a over the serial: all entries of a serial share one bucket, so
 * that a revocation drops them in one place.  Only serials of our own
 * certificates are cached (a made-up serial is never inserted), so a
 * chosen-collision flood cannot grow a chain. */
static uint64_t serial_hash(const char *serial)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)serial; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

static shard *shard_of(ocsp_cache *c, uint64_t h)
{
    return &c->shards[h % SHARDS];
}

static entry **bucket_of(shard *s, uint64_t h)
{
    return &s->buckets[(h / SHARDS) & (s->nbuckets - 1)];
}

static size_t entry_size(const entry *e)
{
    return sizeof *e + e->cid_len + e->der_len;
}

void ocsp_cache_free(ocsp_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SHARDS; i++) {
        shard *s = &c->shards[i];
        for (size_t b = 0; s->buckets && b < s->nbuckets; b++)
            for (entry *e = s->buckets[b], *next; e; e = next) {
                next = e->next;
                free(e);
            }
        free(s->buckets);
        pthread_rwlock_destroy(&s->lock);
    }
    if (c->changes)
        munmap((void *)c->changes, sizeof *c->changes);
    free(c);
}

/* Maps DIR/ocsp-changes (created zero); NULL when it cannot (logged: the
 * node then notices other processes' changes through its watcher only). */
static _Atomic uint64_t *changes_map(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/ocsp-changes", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    void *p = MAP_FAILED;
    if (fd >= 0 && ftruncate(fd, sizeof(uint64_t)) == 0)
        p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                 0);
    if (fd >= 0)
        close(fd);
    if (p != MAP_FAILED)
        return p;
    lv_log(LV_LOG_WARN,
           "ocsp: cannot map %s: changes by other processes "
           "reach this cache within a second only",
           path);
    return NULL;
}

int ocsp_cache_new(int mib, const char *dir, ocsp_cache **out)
{
    *out = NULL;
    if (mib <= 0)
        return 0; /* ocsp_cache_mib 0: no cache, every request reads */
    ocsp_cache *c = calloc(1, sizeof *c);
    if (!c)
        return LV_ENOMEM;
    c->changes = changes_map(dir);
    atomic_store(&c->synced, ocsp_cache_changes(c));
    c->shard_budget = (size_t)mib * 1024 * 1024 / SHARDS;
    size_t want = c->shard_budget / ENTRY_GUESS, n = 16;
    while (n < want)
        n *= 2;
    for (int i = 0; i < SHARDS; i++) {
        shard *s = &c->shards[i];
        pthread_rwlock_init(&s->lock, NULL);
        s->nbuckets = n;
        s->buckets = calloc(n, sizeof(entry *));
        if (!s->buckets) {
            ocsp_cache_free(c);
            return LV_ENOMEM;
        }
    }
    *out = c;
    return 0;
}

static int entry_is(const entry *e, int issuer, int hash, const char *serial)
{
    return e->issuer == issuer && e->hash == hash &&
           strcmp(e->serial, serial) == 0;
}

/* Past half its validity the refresher has re-signed an answer (R6.4):
 * the database has a fresher one for clients, unless it cannot be read. */
static int servable(const entry *e, int64_t now, int to_next_update)
{
    int64_t until =
        to_next_update ? e->next_update
                       : e->this_update + (e->next_update - e->this_update) / 2;
    return until > now;
}

int ocsp_cache_get(ocsp_cache *c, int issuer, const ocsp_id *id, int64_t now,
                   int to_next_update, lv_ocsp_answer *a)
{
    if (!c ||
        (c->changes && atomic_load(c->changes) != atomic_load(&c->synced)))
        return 0; /* another process changed statuses: see the top */
    uint64_t h = serial_hash(id->serial);
    shard *s = shard_of(c, h);
    int hit = 0;
    pthread_rwlock_rdlock(&s->lock);
    for (const entry *e = *bucket_of(s, h); e; e = e->next) {
        if (!entry_is(e, issuer, id->hash, id->serial))
            continue;
        if (servable(e, now, to_next_update) && e->cid_len == id->der_len &&
            memcmp(e->bytes, id->der, id->der_len) == 0 &&
            (a->der = OPENSSL_malloc(e->der_len)) != NULL) {
            memcpy(a->der, e->bytes + e->cid_len, e->der_len);
            a->len = e->der_len;
            a->status = OCSP_RESPONSE_STATUS_SUCCESSFUL;
            a->cacheable = 1;
            a->this_update = e->this_update;
            a->next_update = e->next_update;
            hit = 1;
        }
        break;
    }
    pthread_rwlock_unlock(&s->lock);
    return hit;
}

/* Unlinks and frees what matches; under the shard's write lock. */
static void drop_where(shard *s, entry **link, int issuer, int hash,
                       const char *serial, int valid_only)
{
    while (*link) {
        entry *e = *link;
        int match = serial && strcmp(e->serial, serial) == 0 &&
                    (issuer < 0 || (e->issuer == issuer && e->hash == hash)) &&
                    (!valid_only || e->cert_status == LV_CERT_VALID);
        if (!match) {
            link = &e->next;
            continue;
        }
        *link = e->next;
        s->used -= entry_size(e);
        free(e);
    }
}

/* Past the shard's budget: empties buckets from the hand on. */
static void evict(shard *s, size_t budget)
{
    for (size_t tries = 0; s->used > budget && tries < s->nbuckets; tries++) {
        entry **b = &s->buckets[s->hand];
        s->hand = (s->hand + 1) & (s->nbuckets - 1);
        while (*b) {
            entry *e = *b;
            *b = e->next;
            s->used -= entry_size(e);
            free(e);
        }
    }
}

uint64_t ocsp_cache_generation(ocsp_cache *c)
{
    return c ? atomic_load(&c->generation) : 0;
}

void ocsp_cache_put(ocsp_cache *c, uint64_t generation, int issuer, int hash,
                    const char *serial, int cert_status,
                    const unsigned char *cid, size_t cid_len,
                    const ocsp_signed *resp)
{
    if (!c || !serial[0] ||
        sizeof(entry) + cid_len + resp->len > c->shard_budget)
        return;
    entry *e = malloc(sizeof *e + cid_len + resp->len);
    if (!e)
        return; /* a cache that could not grow: the next request reads */
    *e = (entry){.issuer = issuer,
                 .hash = hash,
                 .cert_status = cert_status,
                 .this_update = resp->this_update,
                 .next_update = resp->next_update,
                 .cid_len = cid_len,
                 .der_len = resp->len};
    snprintf(e->serial, sizeof e->serial, "%s", serial);
    memcpy(e->bytes, cid, cid_len);
    memcpy(e->bytes + cid_len, resp->der, resp->len);
    uint64_t h = serial_hash(serial);
    shard *s = shard_of(c, h);
    pthread_rwlock_wrlock(&s->lock);
    if (atomic_load(&c->generation) != generation) {
        pthread_rwlock_unlock(&s->lock);
        free(e); /* read before a status change: the next request reads */
        return;
    }
    entry **b = bucket_of(s, h);
    drop_where(s, b, issuer, hash, serial, 0);
    s->used += entry_size(e);
    evict(s, c->shard_budget); /* e, not linked yet, is counted */
    e->next = *b;
    *b = e;
    pthread_rwlock_unlock(&s->lock);
}

void ocsp_cache_forget(ocsp_cache *c, const char *serial)
{
    if (!c)
        return;
    uint64_t h = serial_hash(serial);
    shard *s = shard_of(c, h);
    atomic_fetch_add(&c->generation, 1);
    pthread_rwlock_wrlock(&s->lock);
    drop_where(s, bucket_of(s, h), -1, -1, serial, 1);
    pthread_rwlock_unlock(&s->lock);
}

void ocsp_cache_clear(ocsp_cache *c)
{
    if (c)
        atomic_fetch_add(&c->generation, 1);
    for (int i = 0; c && i < SHARDS; i++) {
        shard *s = &c->shards[i];
        pthread_rwlock_wrlock(&s->lock);
        evict(s, 0);
        pthread_rwlock_unlock(&s->lock);
    }
}

uint64_t ocsp_cache_changes(ocsp_cache *c)
{
    return c && c->changes ? atomic_load(c->changes) : 0;
}

void ocsp_cache_synced(ocsp_cache *c, uint64_t changes)
{
    if (c)
        atomic_store(&c->synced, changes);
}

void ocsp_cache_changed(ocsp_cache *c)
{
    if (c && c->changes)
        atomic_fetch_add(c->changes, 1);
}
