/* llave-keyd's listener: one UNIX stream socket, mode 0600, and a bounded
 * set of connection threads.  No network socket is ever created here (CEN
 * EN 419 241-2: the SAM is reachable only through its defined interface;
 * issue 12 item 1).  Each peer's uid is read with SO_PEERCRED and must be
 * keyd's own, in addition to the socket's mode (defence in depth: a socket
 * path in a directory someone else can write to, or a mode changed behind
 * our back, still lets no other user in). */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include "audit/audit.h"
#include "keyd/keyd_internal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- the socket ------------------------------------------------------------
 */

static int sock_addr(const char *path, struct sockaddr_un *a, lv_err *err)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path)
        return lv_fail(err, LV_EINVAL, "socket path %s longer than %zu bytes",
                       path, sizeof a->sun_path - 1);
    memcpy(a->sun_path, path, strlen(path) + 1);
    return 0;
}

/* A socket file left by a keyd that died is removed; one that answers
 * belongs to a live keyd, which is never replaced. */
static int clear_stale(const struct sockaddr_un *a, lv_err *err)
{
    struct stat sb;
    if (lstat(a->sun_path, &sb) != 0)
        return 0;
    if (!S_ISSOCK(sb.st_mode))
        return lv_fail(err, LV_EEXISTS, "%s exists and is not a socket",
                       a->sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int live =
        fd >= 0 && connect(fd, (const struct sockaddr *)a, sizeof *a) == 0;
    if (fd >= 0)
        close(fd);
    if (live)
        return lv_fail(err, LV_EEXISTS, "another llave-keyd answers on %s",
                       a->sun_path);
    if (unlink(a->sun_path) != 0)
        return lv_fail(err, LV_EIO, "%s: %s", a->sun_path, strerror(errno));
    return 0;
}

/* The mode is set before the socket exists (umask around bind), set again
 * with chmod, and checked: there is no moment at which the socket is
 * reachable by anyone but its owner. */
static int check_mode(const char *path, uid_t uid, lv_err *err)
{
    struct stat sb;
    if (chmod(path, 0600) != 0 || lstat(path, &sb) != 0)
        return lv_fail(err, LV_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISSOCK(sb.st_mode) || (sb.st_mode & 07777) != 0600 ||
        sb.st_uid != uid)
        return lv_fail(err, LV_EIO,
                       "%s: not a socket of mode 0600 owned by "
                       "uid %ld",
                       path, (long)uid);
    return 0;
}

static int sock_listen(keyd_server *s, lv_err *err)
{
    struct sockaddr_un a;
    LV_TRY(sock_addr(s->socket_path, &a, err));
    LV_TRY(clear_stale(&a, err));
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0)
        return lv_fail(err, LV_EIO, "socket: %s", strerror(errno));
    mode_t old = umask(0177);
    int rc = bind(s->listen_fd, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    umask(old);
    if (rc != 0)
        return lv_fail(err, LV_EIO, "bind %s: %s", s->socket_path, strerror(e));
    s->bound = 1;
    LV_TRY(check_mode(s->socket_path, s->uid, err));
    if (listen(s->listen_fd, 64) != 0)
        return lv_fail(err, LV_EIO, "listen: %s", strerror(errno));
    return 0;
}

/* ---- connections ----------------------------------------------------------
 */

static void conn_free(keyd_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    store_close(c->st);
    free(c);
}

/* A frame that cannot be read is answered (when possible) and audited,
 * then the connection ends: after a bad length there is no next frame
 * boundary to find.  Timeouts and a peer that went away are only logged. */
static void frame_failed(keyd_conn *c, int rc, const lv_err *why)
{
    unsigned char *out = NULL;
    size_t len = 0;
    keyd_call call = {.conn = c};
    if (rc == LV_EBUSY || (rc == LV_EIO && !strstr(why->msg, "mid-frame")))
        return;
    keyd_audit_refusal(c, &call, "frame", rc, why->msg);
    if (keyd_error_response(0, 0, rc, why->msg, &out, &len) == 0)
        /* the peer may be gone already; the refusal is audited above */
        lv_ignore(
            keyd_frame_write(c->fd, out, len, KEYD_FRAME_TIMEOUT_MS, NULL));
    OPENSSL_free(out);
}

static void serve_frames(keyd_conn *c)
{
    for (;;) {
        unsigned char *msg = NULL, *out = NULL;
        size_t len = 0, out_len = 0;
        lv_err err = {0};
        int rc = keyd_frame_read(c->fd, KEYD_FRAME_MAX, KEYD_IDLE_MS,
                                 KEYD_FRAME_TIMEOUT_MS, &msg, &len, &err);
        if (rc == 1)
            return;
        if (rc < 0) {
            frame_failed(c, rc, &err);
            return;
        }
        rc = keyd_dispatch(c, msg, len, &out, &out_len);
        OPENSSL_cleanse(msg, len); /* an unseal share may be in it */
        free(msg);
        if (rc == 0)
            rc = keyd_frame_write(c->fd, out, out_len, KEYD_FRAME_TIMEOUT_MS,
                                  &err);
        OPENSSL_free(out);
        if (rc < 0 || atomic_load(&c->srv->stopping))
            return;
    }
}

static void *conn_main(void *arg)
{
    keyd_conn *c = arg;
    serve_frames(c);
    shutdown(c->fd, SHUT_RDWR);
    atomic_store(&c->done, 1);
    return NULL;
}

/* SO_PEERCRED: the kernel's word on who connected. */
static int peer_check(keyd_server *s, keyd_conn *c)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    keyd_call call = {.conn = c};
    char reason[96];
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        keyd_audit_refusal(c, &call, "connection", LV_EPERM,
                           "no peer credentials");
        return -1;
    }
    c->pid = cred.pid;
    c->uid = cred.uid;
    if (cred.uid == s->uid)
        return 0;
    snprintf(reason, sizeof reason, "peer uid %ld is not keyd's uid %ld",
             (long)cred.uid, (long)s->uid);
    keyd_audit_refusal(c, &call, "connection", LV_EPERM, reason);
    return -1;
}

/* Joins finished threads; returns a free slot or -1 (callers hold
 * conn_lock). */
static int slot_reap(keyd_server *s)
{
    int free_slot = -1;
    for (int i = 0; i < s->max_conns; i++) {
        keyd_conn *c = s->conns[i];
        if (c && atomic_load(&c->done)) {
            pthread_join(c->thread, NULL);
            conn_free(c);
            s->conns[i] = c = NULL;
        }
        if (!c && free_slot < 0)
            free_slot = i;
    }
    return free_slot;
}

/* Over the bound, the peer learns at once that keyd is busy (503). */
static void turn_away(int fd)
{
    unsigned char *out = NULL;
    size_t len = 0;
    if (keyd_error_response(0, 0, LV_EBUSY, "llave-keyd: too many connections",
                            &out, &len) == 0)
        lv_ignore(keyd_frame_write(fd, out, len, 1000, NULL)); /* closed next */
    OPENSSL_free(out);
    close(fd);
}

static void conn_start(keyd_server *s, int fd)
{
    keyd_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    *c = (keyd_conn){.srv = s, .fd = fd};
    if (peer_check(s, c) < 0) {
        conn_free(c);
        return;
    }
    pthread_mutex_lock(&s->conn_lock);
    int slot = slot_reap(s);
    if (slot >= 0 && pthread_create(&c->thread, NULL, conn_main, c) == 0)
        s->conns[slot] = c;
    else
        slot = -1;
    pthread_mutex_unlock(&s->conn_lock);
    if (slot < 0) {
        lv_log(LV_LOG_WARN, "llave-keyd: connection from pid %ld turned away",
               (long)c->pid);
        c->fd = -1;
        conn_free(c);
        turn_away(fd);
    }
}

static void *accept_main(void *arg)
{
    keyd_server *s = arg;
    while (!atomic_load(&s->stopping)) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (!atomic_load(&s->stopping))
                lv_log(LV_LOG_ERROR, "llave-keyd: accept: %s", strerror(errno));
            break;
        }
        conn_start(s, fd);
    }
    return NULL;
}

/* ---- start and stop ------------------------------------------------------
 */

static void audit_service(keyd_server *s, const char *event)
{
    lv_err err = {0};
    json_t *d = json_pack("{s:s, s:b}", "socket", s->socket_path, "sealed",
                          atomic_load(&s->ks) == NULL);
    if (s->st && audit_log_standalone(s->st, "llave-keyd", event, s->dir,
                                      LV_AUDIT_SUCCESS, d, &err) < 0)
        lv_log(LV_LOG_ERROR, "llave-keyd: cannot audit %s: %s", event, err.msg);
    json_decref(d);
}

static int server_paths(keyd_server *s, const keyd_opts *o, lv_err *err)
{
    if (!o->dir ||
        snprintf(s->dir, sizeof s->dir, "%s", o->dir) >= (int)sizeof s->dir)
        return lv_fail(err, LV_EINVAL, "data directory missing or too long");
    /* The store llave.json names (SQLite's DIR/llave.db by default). */
    lv_config cfg;
    LV_TRY(lv_config_load(&cfg, s->dir, err));
    if (lv_config_store_location(&cfg, s->db_path, sizeof s->db_path) < 0)
        return lv_fail(err, LV_EINVAL, "data directory path too long");
    if (o->socket_path)
        return snprintf(s->socket_path, sizeof s->socket_path, "%s",
                        o->socket_path) < (int)sizeof s->socket_path
                   ? 0
                   : lv_fail(err, LV_EINVAL, "socket path too long");
    if (lv_path_join(s->socket_path, sizeof s->socket_path, s->dir,
                     KEYD_SOCKET_NAME) < 0)
        return lv_fail(err, LV_EINVAL,
                       "DIR/%s is longer than a socket path may be; use "
                       "--socket",
                       KEYD_SOCKET_NAME);
    return 0;
}

/* issue 16: llave.json's keystore (chosen at the ceremony) must be the
 * back end DIR/keys holds: a PKCS#11 install whose pkcs11.json went
 * missing would otherwise open as an empty file store. */
static int check_backend(const keyd_server *s, lv_err *err)
{
    lv_config cfg;
    LV_TRY(lv_config_load(&cfg, s->dir, err));
    const char *have = keys_backend(s->dir);
    if (strcmp(cfg.keystore, have) != 0)
        return lv_fail(err, LV_ESTATE,
                       "llave.json says keystore \"%s\" but the key store "
                       "in %s/keys is a %s store (keys/pkcs11.json %s)",
                       cfg.keystore, s->dir, have,
                       strcmp(have, "pkcs11") == 0 ? "present" : "missing");
    return 0;
}

static int server_init(keyd_server *s, const keyd_opts *o, lv_err *err)
{
    s->listen_fd = -1;
    s->uid = geteuid();
    s->max_conns = o->max_conns > 0 ? o->max_conns : KEYD_CONNS_DEFAULT;
    if (s->max_conns > KEYD_CONNS_MAX)
        return lv_fail(err, LV_EINVAL, "at most %d connections",
                       KEYD_CONNS_MAX);
    LV_TRY(server_paths(s, o, err));
    LV_TRY(check_backend(s, err));
    s->conns = calloc((size_t)s->max_conns, sizeof(keyd_conn *));
    if (!s->conns || pthread_mutex_init(&s->conn_lock, NULL) != 0)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    LV_TRY(store_open(s->db_path, &s->st, err));
    LV_TRY(keyd_unseal_init(s, !o->sealed, err));
    LV_TRY(sock_listen(s, err));
    if (pthread_create(&s->acceptor, NULL, accept_main, s) != 0)
        return lv_fail(err, LV_ENOMEM, "cannot start the acceptor");
    s->acceptor_started = 1;
    return 0;
}

int keyd_start(const keyd_opts *o, keyd_server **out, lv_err *err)
{
    keyd_server *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = server_init(s, o, err);
    if (rc < 0) {
        keyd_stop(s);
        return rc;
    }
    audit_service(s, "keyd.start");
    if (atomic_load(&s->ks))
        keyd_after_unseal(s, s->st); /* a demo install opened at start */
    *out = s;
    return 0;
}

static void conns_end(keyd_server *s)
{
    pthread_mutex_lock(&s->conn_lock);
    for (int i = 0; i < s->max_conns; i++)
        if (s->conns[i])
            shutdown(s->conns[i]->fd, SHUT_RDWR);
    for (int i = 0; i < s->max_conns; i++) {
        if (!s->conns[i])
            continue;
        pthread_join(s->conns[i]->thread, NULL);
        conn_free(s->conns[i]);
        s->conns[i] = NULL;
    }
    pthread_mutex_unlock(&s->conn_lock);
}

void keyd_stop(keyd_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, 1);
    if (s->listen_fd >= 0)
        shutdown(s->listen_fd, SHUT_RDWR); /* wakes accept() */
    if (s->acceptor_started)
        pthread_join(s->acceptor, NULL);
    if (s->conns) {
        conns_end(s);
        pthread_mutex_destroy(&s->conn_lock);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->bound) {
        unlink(s->socket_path);
        audit_service(s, "keyd.stop");
    }
    if (s->unseal)
        keyd_unseal_free(s);
    keys_close(atomic_load(&s->ks));
    store_close(s->st);
    free(s->conns);
    free(s);
}

int keyd_is_sealed(keyd_server *s)
{
    return atomic_load(&s->ks) == NULL;
}

const char *keyd_socket(const keyd_server *s)
{
    return s->socket_path;
}
