/* The accept gate in front of libmicrohttpd (issue 11: the front door holds
 * under attack).
 *
 * One thread owns the listening socket.  It accepts, counts connections per
 * source (an IPv4 address or an IPv6 /64) and in total, and refuses one over
 * a limit by closing it at once.  An accepted connection stays in the gate,
 * costing a file descriptor and an epoll entry, until its complete request
 * head has arrived (read with MSG_PEEK, so libmicrohttpd later reads the
 * same bytes); only then is it handed to a libmicrohttpd daemon.  So:
 *   - slowloris: the head has one deadline from accept, not an idle timer
 *     that each byte restarts, and at most http_max_slow heads may be
 *     pending at once (the oldest is dropped first);
 *   - a malformed head (bad Content-Length, HTTP/1.1 without Host, %00 in
 *     the path) gets a plain 400 from the gate (http_head.c).
 * Connections libmicrohttpd holds are registered too (http_gate_conn_*):
 * the gate enforces their body deadline and, between keep-alive requests,
 * the same head deadline, by shutting the socket down, which libmicrohttpd
 * sees as the peer leaving. */
#define _GNU_SOURCE
#include "http/http_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GATE_HEAD_MAX 16384 /* libmicrohttpd's pool holds the head too */
#define GATE_BUCKETS 4096
#define GATE_SWEEP_MS 200

/* ---- sources ------------------------------------------------------------ */

typedef struct gate_source {
    unsigned char key[16]; /* IPv4 mapped, or the IPv6 /64 */
    unsigned count;
    struct gate_source *next;
} gate_source;

static void source_key(const struct sockaddr *sa, unsigned char key[16])
{
    memset(key, 0, 16);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        const unsigned char *a = in6->sin6_addr.s6_addr;
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0,    0,
                                                   0, 0, 0, 0, 0xff, 0xff};
        /* one IPv6 subscriber gets a /64: counting addresses would give an
         * attacker 2^64 sources */
        memcpy(key, a, memcmp(a, v4mapped, 12) == 0 ? 16 : 8);
    }
}

static unsigned source_hash(const unsigned char key[16])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 16777619u;
    return h % GATE_BUCKETS;
}

/* ---- connections libmicrohttpd holds ------------------------------------- */

struct http_gate_conn {
    int fd;
    unsigned char key[16];
    _Atomic int phase;        /* HTTP_PHASE_* */
    _Atomic int64_t since_ms; /* when the phase began */
    int shut;                 /* the gate has shut it down */
    struct http_gate_conn *prev, *next;
};

/* ---- heads still arriving in the gate ------------------------------------ */

typedef struct gate_pending {
    int fd;
    unsigned char key[16];
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int64_t deadline_ms;
    struct gate_pending *prev, *next;
} gate_pending;

struct http_gate {
    lv_config cfg;
    int tls; /* https: the first TLS record, not an HTTP head, is awaited */
    int listen_fd, ep, wake_fd[2];
    uint16_t port;
    unsigned max_total, max_per_source, max_slow;
    http_gate_handoff handoff;
    void *handoff_cls;
    pthread_t thread;
    int started;
    _Atomic int stopping;
    pthread_mutex_t lock; /* sources, total, conns */
    gate_source *buckets[GATE_BUCKETS];
    unsigned total;
    http_gate_conn conns; /* list head */
    gate_pending pending; /* list head, oldest first (gate thread only) */
    unsigned npending;
    _Atomic unsigned long refused, dropped_slow, dropped_deadline, bad_heads;
    char head_buf[GATE_HEAD_MAX];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static gate_source **source_slot(http_gate *g, const unsigned char key[16])
{
    gate_source **p = &g->buckets[source_hash(key)];
    while (*p && memcmp((*p)->key, key, 16) != 0)
        p = &(*p)->next;
    return p;
}

/* Counts a new connection from key unless a limit is reached. */
static int source_take(http_gate *g, const unsigned char key[16])
{
    int ok = 0;
    pthread_mutex_lock(&g->lock);
    gate_source **slot = source_slot(g, key);
    unsigned have = *slot ? (*slot)->count : 0;
    if (g->total < g->max_total && have < g->max_per_source) {
        if (!*slot && (*slot = calloc(1, sizeof **slot)))
            memcpy((*slot)->key, key, 16);
        if (*slot) {
            (*slot)->count++;
            g->total++;
            ok = 1;
        }
    }
    pthread_mutex_unlock(&g->lock);
    return ok;
}

static void source_release_locked(http_gate *g, const unsigned char key[16])
{
    gate_source **slot = source_slot(g, key);
    if (*slot && --(*slot)->count == 0) {
        gate_source *dead = *slot;
        *slot = dead->next;
        free(dead);
    }
    if (g->total)
        g->total--;
}

static void source_release(http_gate *g, const unsigned char key[16])
{
    pthread_mutex_lock(&g->lock);
    source_release_locked(g, key);
    pthread_mutex_unlock(&g->lock);
}

/* ---- pending heads ------------------------------------------------------- */

static void pending_unlink(http_gate *g, gate_pending *p)
{
    p->prev->next = p->next;
    p->next->prev = p->prev;
    g->npending--;
}

/* Closes a pending connection, optionally with a short plain answer. */
static void pending_drop(http_gate *g, gate_pending *p, const char *answer)
{
    if (answer) {
        /* consume what we only peeked: closing a socket with unread bytes
         * sends a reset, which may destroy the answer in flight; then send
         * (best effort, non-blocking) and end our side cleanly */
        char sink[4096];
        while (recv(p->fd, sink, sizeof sink, MSG_DONTWAIT) > 0)
            ;
        (void)!send(p->fd, answer, strlen(answer), MSG_NOSIGNAL);
        shutdown(p->fd, SHUT_WR);
    }
    epoll_ctl(g->ep, EPOLL_CTL_DEL, p->fd, NULL);
    close(p->fd);
    pending_unlink(g, p);
    source_release(g, p->key);
    free(p);
}

static const char ANSWER_400[] =
    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
    "Content-Type: application/json\r\nContent-Length: 69\r\n\r\n"
    "{\"error\":\"invalid_request\",\"message\":\"malformed HTTP request "
    "head\"}";
static const char ANSWER_431[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
    "Content-Type: application/json\r\nContent-Length: 68\r\n\r\n"
    "{\"error\":\"too_large\",\"message\":\"request head larger than 16 KiB\"}";

/* Hands the connection to libmicrohttpd; it owns the socket from now on,
 * and its CLOSED notification releases the source count. */
static void pending_handoff(http_gate *g, gate_pending *p)
{
    epoll_ctl(g->ep, EPOLL_CTL_DEL, p->fd, NULL);
    pending_unlink(g, p);
    int flags = fcntl(p->fd, F_GETFL);
    if (flags >= 0)
        fcntl(p->fd, F_SETFL, flags & ~O_NONBLOCK);
    if (g->handoff(g->handoff_cls, p->fd, (struct sockaddr *)&p->addr,
                   p->addr_len) < 0)
        source_release(g, p->key); /* libmicrohttpd closed the socket */
    free(p);
}

/* https (issue 17 item 4): the connection goes on once the client's first
 * TLS record (its ClientHello, RFC 8446 §5.1: type 22, version 3.x, a
 * length of at most 2^14 + 2048) has arrived whole, within the head
 * deadline; the handshake and the encrypted head are then libmicrohttpd's,
 * under the gate's head deadline again (srv_connection).  1: complete, 0:
 * not yet, -1: not TLS. */
static int tls_record_check(const unsigned char *b, size_t n)
{
    if (n >= 1 && b[0] != 22)
        return -1;
    if (n >= 2 && b[1] != 3)
        return -1;
    if (n < 5)
        return 0;
    size_t len = ((size_t)b[3] << 8) | b[4];
    if (len == 0 || len > 16384 + 2048)
        return -1;
    return n >= 5 + len ? 1 : 0;
}

/* New bytes on a pending connection: is the head complete and valid? */
static void pending_read(http_gate *g, gate_pending *p)
{
    ssize_t n = recv(p->fd, g->head_buf, sizeof g->head_buf, MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        pending_drop(g, p, NULL);
        return;
    }
    if (n < 0)
        return;
    size_t head_len = 0;
    int rc =
        g->tls ? tls_record_check((const unsigned char *)g->head_buf, (size_t)n)
               : http_head_check(g->head_buf, (size_t)n, &head_len);
    if (g->tls && rc < 0) {
        g->bad_heads++;
        pending_drop(g, p, NULL); /* no TLS: nothing it could read */
        return;
    }
    if (rc == 1) {
        pending_handoff(g, p);
    } else if (rc == 0 && (size_t)n == sizeof g->head_buf) {
        pending_drop(g, p, ANSWER_431);
    } else if (rc != 0) {
        g->bad_heads++;
        pending_drop(g, p, ANSWER_400);
    }
}

static void pending_add(http_gate *g, int fd, const struct sockaddr_storage *ss,
                        socklen_t len, const unsigned char key[16])
{
    gate_pending *p = calloc(1, sizeof *p);
    if (!p) {
        close(fd);
        source_release(g, key);
        return;
    }
    p->fd = fd;
    memcpy(p->key, key, 16);
    memcpy(&p->addr, ss, len);
    p->addr_len = len;
    p->deadline_ms = now_ms() + (int64_t)g->cfg.http_head_timeout_s * 1000;
    p->prev = g->pending.prev; /* append: the list stays oldest first */
    p->next = &g->pending;
    g->pending.prev->next = p;
    g->pending.prev = p;
    g->npending++;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
                             .data.ptr = p};
    if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        pending_drop(g, p, NULL);
        return;
    }
    /* the cap on slow requests: the oldest unfinished head gives way */
    while (g->npending > g->max_slow) {
        g->dropped_slow++;
        pending_drop(g, g->pending.next, NULL);
    }
}

static void gate_accept(http_gate *g)
{
    for (;;) {
        struct sockaddr_storage ss = {0}; /* an unknown family keys as :: */
        socklen_t len = sizeof ss;
        int fd = accept4(g->listen_fd, (struct sockaddr *)&ss, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or EMFILE: the listen queue waits */
        unsigned char key[16];
        source_key((struct sockaddr *)&ss, key);
        if (!source_take(g, key)) {
            g->refused++;
            close(fd);
            continue;
        }
        pending_add(g, fd, &ss, len, key);
    }
}

/* ---- deadlines ------------------------------------------------------------
 */

static void sweep_pending(http_gate *g, int64_t now)
{
    while (g->npending && g->pending.next->deadline_ms <= now) {
        g->dropped_deadline++;
        pending_drop(g, g->pending.next, NULL);
    }
}

/* Connections in libmicrohttpd: body and keep-alive head deadlines. */
static void sweep_conns(http_gate *g, int64_t now)
{
    int64_t head = (int64_t)g->cfg.http_head_timeout_s * 1000;
    int64_t body = (int64_t)g->cfg.http_body_timeout_s * 1000;
    pthread_mutex_lock(&g->lock);
    for (http_gate_conn *c = g->conns.next; c != &g->conns; c = c->next) {
        int phase = atomic_load(&c->phase);
        int64_t age = now - atomic_load(&c->since_ms);
        int late = (phase == HTTP_PHASE_HEAD && age > head) ||
                   (phase == HTTP_PHASE_BODY && age > body);
        if (late && !c->shut) {
            /* libmicrohttpd sees the peer gone and closes it; the fd stays
             * valid until its CLOSED notification, which takes this lock */
            shutdown(c->fd, SHUT_RDWR);
            c->shut = 1;
            g->dropped_deadline++;
        }
    }
    pthread_mutex_unlock(&g->lock);
}

/* An attack on connections shows in the log: once a minute, when any
 * refusal happened, one line with the counts since the last one. */
#define GATE_REPORT_MS 60000

static void gate_report(http_gate *g, unsigned long last[4])
{
    unsigned long now[4] = {g->refused, g->dropped_slow, g->dropped_deadline,
                            g->bad_heads};
    if (!memcmp(now, last, sizeof now))
        return;
    pthread_mutex_lock(&g->lock);
    unsigned open = g->total;
    pthread_mutex_unlock(&g->lock);
    lv_log(LV_LOG_WARN,
           "http: in the last minute %lu connection(s) refused over the "
           "connection limits, %lu unfinished head(s) dropped over "
           "http_max_slow, %lu cut at a deadline, %lu malformed head(s); "
           "%u open, %u pending",
           now[0] - last[0], now[1] - last[1], now[2] - last[2],
           now[3] - last[3], open, g->npending);
    memcpy(last, now, sizeof now);
}

static void *gate_main(void *arg)
{
    http_gate *g = arg;
    struct epoll_event evs[64];
    int64_t next_sweep = 0, next_report = now_ms() + GATE_REPORT_MS;
    unsigned long reported[4] = {0};
    while (!atomic_load(&g->stopping)) {
        int n = epoll_wait(g->ep, evs, 64, GATE_SWEEP_MS);
        for (int i = 0; i < n; i++) {
            void *who = evs[i].data.ptr;
            if (who == &g->listen_fd)
                gate_accept(g);
            else if (who != &g->wake_fd)
                pending_read(g, who);
        }
        int64_t now = now_ms();
        sweep_pending(g, now);
        if (now >= next_sweep) {
            sweep_conns(g, now);
            next_sweep = now + GATE_SWEEP_MS;
        }
        if (now >= next_report) {
            gate_report(g, reported);
            next_report = now + GATE_REPORT_MS;
        }
    }
    return NULL;
}

/* ---- registry used by the server ------------------------------------------
 */

http_gate_conn *http_gate_conn_started(http_gate *g, int fd,
                                       const struct sockaddr *sa)
{
    http_gate_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    source_key(sa, c->key);
    atomic_store(&c->phase, HTTP_PHASE_BODY); /* its head is complete */
    atomic_store(&c->since_ms, now_ms());
    pthread_mutex_lock(&g->lock);
    c->next = g->conns.next;
    c->prev = &g->conns;
    g->conns.next->prev = c;
    g->conns.next = c;
    pthread_mutex_unlock(&g->lock);
    return c;
}

void http_gate_conn_phase(http_gate_conn *c, int phase)
{
    if (!c)
        return;
    atomic_store(&c->since_ms, now_ms());
    atomic_store(&c->phase, phase);
}

void http_gate_conn_closed(http_gate *g, http_gate_conn *c,
                           const struct sockaddr *sa)
{
    unsigned char key[16];
    pthread_mutex_lock(&g->lock);
    if (c) {
        c->prev->next = c->next;
        c->next->prev = c->prev;
        memcpy(key, c->key, 16);
    } else if (sa) {
        source_key(sa, key);
    }
    if (c || sa)
        source_release_locked(g, key);
    pthread_mutex_unlock(&g->lock);
    free(c);
}

void http_gate_stats(http_gate *g, http_gate_counts *out)
{
    pthread_mutex_lock(&g->lock);
    out->connections = g->total;
    pthread_mutex_unlock(&g->lock);
    out->refused = g->refused;
    out->dropped_slow = g->dropped_slow;
    out->dropped_deadline = g->dropped_deadline;
    out->bad_heads = g->bad_heads;
}

/* ---- start and stop ---------------------------------------------------------
 */

/* Connections are file descriptors: never promise more than the process may
 * open (rlimit), leaving room for the database, key files and logs. */
static unsigned gate_max_total(const lv_config *cfg)
{
    struct rlimit rl;
    unsigned cap = 4096;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        cap = rl.rlim_cur > 256 ? (unsigned)rl.rlim_cur - 128 : 128;
    if (cfg->http_max_connections > 0 &&
        (unsigned)cfg->http_max_connections < cap)
        return (unsigned)cfg->http_max_connections;
    return cap;
}

static int gate_listen(http_gate *g, const struct sockaddr_storage *ss,
                       lv_err *err)
{
    socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    int one = 1;
    g->listen_fd =
        socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (g->listen_fd < 0 ||
        setsockopt(g->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(g->listen_fd, (const struct sockaddr *)ss, len) < 0 ||
        listen(g->listen_fd, 1024) < 0)
        return lv_fail(err, LV_EIO, "cannot listen: %s", strerror(errno));
    struct sockaddr_storage bound = {0};
    socklen_t blen = sizeof bound;
    if (getsockname(g->listen_fd, (struct sockaddr *)&bound, &blen) < 0)
        return lv_fail(err, LV_EIO, "getsockname: %s", strerror(errno));
    if (bound.ss_family == AF_INET6) {
        struct sockaddr_in6 a6;
        memcpy(&a6, &bound, sizeof a6);
        g->port = ntohs(a6.sin6_port);
    } else {
        struct sockaddr_in a4;
        memcpy(&a4, &bound, sizeof a4);
        g->port = ntohs(a4.sin_port);
    }
    return 0;
}

static int gate_epoll(http_gate *g, lv_err *err)
{
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    if (g->ep < 0 || pipe2(g->wake_fd, O_CLOEXEC | O_NONBLOCK) < 0)
        return lv_fail(err, LV_EIO, "epoll: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &g->listen_fd};
    struct epoll_event wake = {.events = EPOLLIN, .data.ptr = &g->wake_fd};
    if (epoll_ctl(g->ep, EPOLL_CTL_ADD, g->listen_fd, &ev) < 0 ||
        epoll_ctl(g->ep, EPOLL_CTL_ADD, g->wake_fd[0], &wake) < 0)
        return lv_fail(err, LV_EIO, "epoll_ctl: %s", strerror(errno));
    return 0;
}

int http_gate_start(const lv_config *cfg, const struct sockaddr_storage *ss,
                    int tls, http_gate_handoff handoff, void *cls,
                    http_gate **out, lv_err *err)
{
    http_gate *g = calloc(1, sizeof *g);
    if (!g)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    *out = g;
    g->cfg = *cfg;
    g->tls = tls;
    g->listen_fd = g->ep = g->wake_fd[0] = g->wake_fd[1] = -1;
    g->max_total = gate_max_total(cfg);
    g->max_per_source = (unsigned)cfg->http_max_per_source;
    g->max_slow = (unsigned)cfg->http_max_slow;
    g->handoff = handoff;
    g->handoff_cls = cls;
    g->conns.next = g->conns.prev = &g->conns;
    g->pending.next = g->pending.prev = &g->pending;
    pthread_mutex_init(&g->lock, NULL);
    LV_TRY(gate_listen(g, ss, err));
    LV_TRY(gate_epoll(g, err));
    if (pthread_create(&g->thread, NULL, gate_main, g) != 0)
        return lv_fail(err, LV_EINTERNAL, "cannot start the accept thread");
    g->started = 1;
    lv_log(LV_LOG_INFO,
           "http: at most %u connections, %u per source, %u unfinished "
           "heads; head deadline %d s, body deadline %d s",
           g->max_total, g->max_per_source, g->max_slow,
           cfg->http_head_timeout_s, cfg->http_body_timeout_s);
    return 0;
}

uint16_t http_gate_port(const http_gate *g)
{
    return g->port;
}

unsigned http_gate_max_connections(const http_gate *g)
{
    return g->max_total;
}

void http_gate_close(http_gate *g)
{
    if (!g)
        return;
    if (g->started) {
        atomic_store(&g->stopping, 1);
        (void)!write(g->wake_fd[1], "x", 1);
        pthread_join(g->thread, NULL);
        g->started = 0;
    }
    while (g->npending)
        pending_drop(g, g->pending.next, NULL);
    if (g->listen_fd >= 0)
        close(g->listen_fd);
    g->listen_fd = -1;
}

void http_gate_free(http_gate *g)
{
    if (!g)
        return;
    http_gate_close(g);
    for (int i = 0; i < 2; i++)
        if (g->wake_fd[i] >= 0)
            close(g->wake_fd[i]);
    if (g->ep >= 0)
        close(g->ep);
    for (size_t b = 0; b < GATE_BUCKETS; b++)
        while (g->buckets[b]) {
            gate_source *s = g->buckets[b];
            g->buckets[b] = s->next;
            free(s);
        }
    pthread_mutex_destroy(&g->lock);
    free(g);
}
