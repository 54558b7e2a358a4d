/* Failed logins slow the attacker, not the holder (issue 11 item 3, R3.5).
 *
 * The hard lock after a few failures let anyone shut any account, the
 * administrators' included.  Instead every attempt is charged to the pair
 * (id as typed, source address) and to the source alone:
 *
 * - pair: auth_throttle_free failures go through at once, then each one
 *   makes the next wait 1 s, 2 s, 4 s ... up to auth_throttle_max_delay;
 *   a holder on another address is not slowed at all;
 * - source: at most auth_source_failures failures per auth_source_window
 *   across all ids, so that one address cannot spray many accounts.
 *
 * A throttled attempt is refused before anything is looked up or hashed,
 * the same way for ids that exist and ids that do not (the throttle must
 * not itself tell which accounts exist), and costs no Argon2id.
 *
 * Memory is bounded: three set-associative tables (pairs, sources, sends)
 * of auth_throttle_entries slots each, WAYS slots per set; a full set
 * evicts its least recently touched slot.  Keys are a salted SHA-256 of
 * (namespace, id, source), so nobody can aim at one set from outside.
 * Lookups are O(WAYS) under one mutex per table. */
#include "auth/auth_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 8
#define SALT_LEN 16
#define FORGET_MS (86400LL * 1000) /* a pair quiet for a day starts afresh */
#define DELAY_SHIFT_MAX 20         /* 2^20 s is beyond any configured cap */

typedef struct thr_slot {
    uint64_t key;  /* 0: free */
    int64_t start; /* window start (sources, sends), ms */
    int64_t until; /* no attempt before (pairs), ms */
    int64_t last;  /* last touched, ms: the eviction order */
    uint32_t count;
} thr_slot;

typedef struct thr_table {
    pthread_mutex_t lock;
    thr_slot *slots;
    size_t nsets; /* a power of two */
} thr_table;

struct auth_throttle {
    unsigned char salt[SALT_LEN];
    int free_failures;
    int max_delay;       /* s */
    int source_failures; /* per window */
    int source_window;   /* s */
    thr_table pairs, sources, sends;
};

/* ---- source addresses ----------------------------------------------------
 */

void auth_source_key(const char *ip, char out[AUTH_SOURCE_MAX])
{
    unsigned char a[16];
    if (!ip || !ip[0]) {
        snprintf(out, AUTH_SOURCE_MAX, "local");
    } else if (inet_pton(AF_INET, ip, a) == 1) {
        inet_ntop(AF_INET, a, out, AUTH_SOURCE_MAX);
    } else if (inet_pton(AF_INET6, ip, a) == 1 &&
               IN6_IS_ADDR_V4MAPPED((struct in6_addr *)(void *)a)) {
        inet_ntop(AF_INET, a + 12, out, AUTH_SOURCE_MAX);
    } else if (inet_pton(AF_INET6, ip, a) == 1) {
        /* RFC 6177: a subscriber gets a /64 or more; its 2^64 addresses
         * are one source, or rotating them would escape every limit. */
        memset(a + 8, 0, 8);
        inet_ntop(AF_INET6, a, out, AUTH_SOURCE_MAX - 3);
        strcat(out, "/64");
    } else {
        snprintf(out, AUTH_SOURCE_MAX, "%.*s", AUTH_SOURCE_MAX - 1, ip);
    }
}

/* ---- tables ----------------------------------------------------------------
 */

static int table_init(thr_table *t, size_t entries)
{
    size_t sets = 1;
    while (sets * 2 * WAYS <= entries)
        sets *= 2;
    t->slots = calloc(sets * WAYS, sizeof *t->slots);
    t->nsets = sets;
    if (!t->slots)
        return LV_ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    return 0;
}

static void table_free(thr_table *t)
{
    if (!t->slots)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->slots);
    t->slots = NULL;
}

/* The slot of key; with create, a free or the least recently touched
 * slot of its set, cleared.  Called locked. */
static thr_slot *slot_find(thr_table *t, uint64_t key, int create)
{
    thr_slot *set = t->slots + (size_t)(key & (t->nsets - 1)) * WAYS;
    thr_slot *victim = set;
    for (int i = 0; i < WAYS; i++) {
        if (set[i].key == key)
            return &set[i];
        if (victim->key != 0 && (set[i].key == 0 || set[i].last < victim->last))
            victim = &set[i];
    }
    if (!create)
        return NULL;
    memset(victim, 0, sizeof *victim);
    victim->key = key;
    return victim;
}

static uint64_t key_of(const auth_throttle *t, const char *ns, const char *id,
                       const char *src)
{
    char hex[AUTH_HASH_HEX];
    const void *parts[] = {t->salt, ns, id ? id : "", src};
    size_t lens[] = {SALT_LEN, strlen(ns), id ? strlen(id) : 0, strlen(src)};
    uint64_t k = 0;
    if (auth_hash_parts(parts, lens, 4, hex, NULL) == 0)
        for (int i = 0; i < 16; i++)
            k = (k << 4) |
                (uint64_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
    return k ? k : 1; /* 0 marks a free slot */
}

static int retry_seconds(int64_t until_ms, int64_t now_ms)
{
    int64_t s = (until_ms - now_ms + 999) / 1000;
    return s < 1 ? 1 : s > 86400 ? 86400 : (int)s;
}

/* A window counter (sources, sends): restarted once the window is over. */
static void window_roll(thr_slot *s, int window_s, int64_t now_ms)
{
    if (now_ms - s->start >= (int64_t)window_s * 1000) {
        s->start = now_ms;
        s->count = 0;
    }
}

/* ---- life cycle ------------------------------------------------------------
 */

int auth_throttle_new(const lv_config *cfg, auth_throttle **out, lv_err *err)
{
    auth_throttle *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    t->free_failures = cfg->auth_throttle_free;
    t->max_delay = cfg->auth_throttle_max_delay;
    t->source_failures = cfg->auth_source_failures;
    t->source_window = cfg->auth_source_window;
    size_t n = (size_t)cfg->auth_throttle_entries;
    int rc = lv_random(t->salt, sizeof t->salt) < 0 ? LV_ECRYPTO : 0;
    if (rc == 0)
        rc = table_init(&t->pairs, n);
    if (rc == 0)
        rc = table_init(&t->sources, n);
    if (rc == 0)
        rc = table_init(&t->sends, n);
    if (rc < 0) {
        auth_throttle_free(t);
        return lv_fail(err, rc, "cannot set up the login throttle");
    }
    *out = t;
    return 0;
}

void auth_throttle_free(auth_throttle *t)
{
    if (!t)
        return;
    table_free(&t->pairs);
    table_free(&t->sources);
    table_free(&t->sends);
    OPENSSL_cleanse(t->salt, sizeof t->salt);
    free(t);
}

/* ---- failed attempts -------------------------------------------------------
 */

static int pair_wait(auth_throttle *t, uint64_t key, int64_t now_ms,
                     int *retry_after)
{
    int rc = 0;
    pthread_mutex_lock(&t->pairs.lock);
    thr_slot *s = slot_find(&t->pairs, key, 0);
    if (s && now_ms < s->until) {
        *retry_after = retry_seconds(s->until, now_ms);
        rc = LV_ELIMIT;
    }
    pthread_mutex_unlock(&t->pairs.lock);
    return rc;
}

static int source_wait(auth_throttle *t, uint64_t key, int64_t now_ms,
                       int *retry_after)
{
    int rc = 0;
    int64_t window = (int64_t)t->source_window * 1000;
    pthread_mutex_lock(&t->sources.lock);
    thr_slot *s = slot_find(&t->sources, key, 0);
    if (s && now_ms - s->start < window &&
        s->count >= (uint32_t)t->source_failures) {
        *retry_after = retry_seconds(s->start + window, now_ms);
        rc = LV_ELIMIT;
    }
    pthread_mutex_unlock(&t->sources.lock);
    return rc;
}

int auth_throttle_check(auth_throttle *t, const char *ns, const char *id,
                        const char *ip, int64_t now_ms, int *retry_after)
{
    char src[AUTH_SOURCE_MAX];
    int pair_retry = 0, src_retry = 0;
    *retry_after = 0;
    auth_source_key(ip, src);
    int a = pair_wait(t, key_of(t, ns, id, src), now_ms, &pair_retry);
    int b = source_wait(t, key_of(t, "source", NULL, src), now_ms, &src_retry);
    *retry_after = pair_retry > src_retry ? pair_retry : src_retry;
    return a < 0 || b < 0 ? LV_ELIMIT : 0;
}

/* After failure n of a pair (n > free - 1): 2^(n - free) s, capped. */
static int64_t delay_ms(const auth_throttle *t, uint32_t n)
{
    if (n < (uint32_t)t->free_failures)
        return 0;
    uint32_t shift = n - (uint32_t)t->free_failures;
    int64_t s = shift > DELAY_SHIFT_MAX ? t->max_delay : (int64_t)1 << shift;
    return (s > t->max_delay ? t->max_delay : s) * 1000;
}

void auth_throttle_fail(auth_throttle *t, const char *ns, const char *id,
                        const char *ip, int64_t now_ms)
{
    char src[AUTH_SOURCE_MAX];
    auth_source_key(ip, src);
    uint64_t pk = key_of(t, ns, id, src), sk = key_of(t, "source", NULL, src);
    pthread_mutex_lock(&t->pairs.lock);
    thr_slot *p = slot_find(&t->pairs, pk, 1);
    if (now_ms - p->last > FORGET_MS)
        p->count = 0;
    if (p->count < UINT32_MAX)
        p->count++;
    p->last = now_ms;
    p->until = now_ms + delay_ms(t, p->count);
    pthread_mutex_unlock(&t->pairs.lock);
    pthread_mutex_lock(&t->sources.lock);
    thr_slot *s = slot_find(&t->sources, sk, 1);
    window_roll(s, t->source_window, now_ms);
    if (s->count < UINT32_MAX)
        s->count++;
    s->last = now_ms;
    pthread_mutex_unlock(&t->sources.lock);
}

/* The source's count stays: it measures the address, not the account. */
void auth_throttle_pass(auth_throttle *t, const char *ns, const char *id,
                        const char *ip)
{
    char src[AUTH_SOURCE_MAX];
    auth_source_key(ip, src);
    uint64_t pk = key_of(t, ns, id, src);
    pthread_mutex_lock(&t->pairs.lock);
    thr_slot *p = slot_find(&t->pairs, pk, 0);
    if (p)
        memset(p, 0, sizeof *p);
    pthread_mutex_unlock(&t->pairs.lock);
}

/* ---- rate limits
 * -------------------------------------------------------------
 */

int auth_rate_take(auth_throttle *t, const char *what, const char *ip,
                   int limit, int window_s, int64_t now_ms, int *retry_after)
{
    char src[AUTH_SOURCE_MAX];
    int rc = 0;
    auth_source_key(ip, src);
    uint64_t k = key_of(t, what, NULL, src);
    pthread_mutex_lock(&t->sends.lock);
    thr_slot *s = slot_find(&t->sends, k, 1);
    window_roll(s, window_s, now_ms);
    s->last = now_ms;
    if (s->count >= (uint32_t)limit) {
        *retry_after =
            retry_seconds(s->start + (int64_t)window_s * 1000, now_ms);
        rc = LV_ELIMIT;
    } else {
        s->count++;
    }
    pthread_mutex_unlock(&t->sends.lock);
    return rc;
}

/* ---- the gate every login path goes through ---------------------------------
 */

int auth_gate(lv_auth *auth, const char *ns, const char *id, const char *ip,
              lv_err *err)
{
    int retry = 0;
    if (auth_throttle_check(auth->throttle, ns, id, ip, lv_now_ms(), &retry) ==
        0)
        return 0;
    /* Item 5: a refusal before any lookup names no account we know of;
     * it is counted, not written row by row. */
    auth_anon_failure(auth, "throttled", id, ip);
    return lv_fail_retry(err, LV_ELIMIT, retry,
                         "too many failed attempts from this address: try "
                         "again in %d seconds",
                         retry);
}

void auth_gate_fail(lv_auth *auth, const char *ns, const char *id,
                    const char *ip)
{
    auth_throttle_fail(auth->throttle, ns, id, ip, lv_now_ms());
}

void auth_gate_pass(lv_auth *auth, const char *ns, const char *id,
                    const char *ip)
{
    auth_throttle_pass(auth->throttle, ns, id, ip);
}

/* ---- client secrets ---------------------------------------------------------
 */

int auth_client_gate(lv_auth *auth, const char *client_id, const char *ip,
                     lv_err *err)
{
    return auth_gate(auth, AUTH_NS_CLIENT, client_id ? client_id : "", ip, err);
}

void auth_client_result(lv_auth *auth, const char *client_id, const char *ip,
                        int ok)
{
    const char *id = client_id ? client_id : "";
    if (ok) {
        auth_gate_pass(auth, AUTH_NS_CLIENT, id, ip);
        return;
    }
    auth_gate_fail(auth, AUTH_NS_CLIENT, id, ip);
    auth_anon_failure(auth, "client.secret", id, ip);
}
