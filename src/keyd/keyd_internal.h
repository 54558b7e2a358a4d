/* Internal to src/keyd: the server, its connections and the request
 * table's handlers. */
#ifndef LLAVE_KEYD_INTERNAL_H
#define LLAVE_KEYD_INTERNAL_H

#include "keyd/keyd.h"
#include "keydproto/keydproto.h"
#include "keys/keys.h"
#include "store/store.h"
#include "store/store_activation.h"
#include "store/store_keys.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

/* A first share waits at most this long for the second custodian (as
 * llaved's unseal did, issue 8). */
#define KEYD_UNSEAL_PENDING_MAX ((int64_t)15 * 60)
/* A connection may stay idle between requests this long (llaved keeps
 * one per worker); once a frame has begun it must arrive within
 * KEYD_FRAME_TIMEOUT_MS, so a stalled peer cannot hold a thread. */
#define KEYD_IDLE_MS (10 * 60 * 1000)
#define KEYD_FRAME_TIMEOUT_MS (10 * 1000)

typedef struct keyd_conn keyd_conn;

struct keyd_server {
    char dir[512];
    char socket_path[108]; /* sun_path */
    char db_path[600];
    int listen_fd;
    int bound; /* the socket file is ours to remove */
    uid_t uid;
    _Atomic(lv_keystore *) ks; /* NULL while sealed */
    atomic_int stopping;
    pthread_t acceptor;
    int acceptor_started;
    /* unseal session (keyd_unseal.c) */
    pthread_mutex_t unseal_lock;
    lv_unseal *unseal;
    int64_t first_share_at;
    /* connections */
    pthread_mutex_t conn_lock;
    keyd_conn **conns;
    int max_conns;
    lv_store *st; /* the acceptor's and start/stop's store */
};

struct keyd_conn {
    keyd_server *srv;
    int fd;
    pid_t pid; /* SO_PEERCRED */
    uid_t uid;
    pthread_t thread;
    atomic_int done;
    lv_store *st; /* opened on first use: audit trail, activations */
};

/* What a handler knows of the request it serves. */
typedef struct keyd_call {
    keyd_conn *conn;
    int kind;
    int caller;
    uint32_t id;
    int audited; /* the handler recorded its own outcome */
} keyd_call;

typedef int (*keyd_handler)(keyd_call *call, void *req, void **resp,
                            lv_err *err);

/* keyd_dispatch.c: one frame in, one response frame out (always). */
int keyd_dispatch(keyd_conn *c, const unsigned char *msg, size_t len,
                  unsigned char **out, size_t *out_len);
/* An error response for a frame that could not even be read. */
int keyd_error_response(int kind, uint32_t id, int status, const char *message,
                        unsigned char **out, size_t *out_len);

/* keyd_audit.c */
int keyd_conn_store(keyd_conn *c, lv_store **st, lv_err *err);
void keyd_actor(const keyd_call *call, char out[64]);
/* A standalone audit entry; details (may be NULL) are decref'ed. */
void keyd_audit(keyd_conn *c, const char *actor, const char *event,
                const char *object, const char *result, json_t *details);
/* keyd.refused, with who asked what and why. */
void keyd_audit_refusal(keyd_conn *c, const keyd_call *call, const char *object,
                        int code, const char *reason);
json_t *keyd_peer_json(const keyd_call *call);

/* keyd_handlers.c */
lv_keystore *keyd_keystore(keyd_server *s);
int keyd_status(keyd_call *call, void *req, void **resp, lv_err *err);
int keyd_public_key(keyd_call *call, void *req, void **resp, lv_err *err);
int keyd_sign_tbs(keyd_call *call, void *req, void **resp, lv_err *err);
int keyd_generate_citizen_key(keyd_call *call, void *req, void **resp,
                              lv_err *err);
int keyd_generate_key(keyd_call *call, void *req, void **resp, lv_err *err);
int keyd_destroy_key(keyd_call *call, void *req, void **resp, lv_err *err);
int keyd_key_id(const ASN1_STRING *s, char id[LV_KEY_ID_LEN + 1], lv_err *err);

/* keyd_unseal.c */
int keyd_unseal_init(keyd_server *s, int use_demo_shares, lv_err *err);
void keyd_unseal_free(keyd_server *s);
/* Shares held while sealed (0 once open). */
int keyd_unseal_received(keyd_server *s);
int keyd_unseal_share(keyd_call *call, void *req, void **resp, lv_err *err);

/* keyd_orphans.c: removes key files no CA or certificate row names, older
 * than CA_ORPHAN_GRACE_S (issue 11 item 8); run once the store opens. */
#define KEYD_ORPHAN_GRACE_S 600
int keyd_sweep_orphans(keyd_server *s, lv_store *st, int64_t grace_seconds,
                       int *removed, lv_err *err);
/* The sweep once the store is open (logged, never fatal). */
void keyd_after_unseal(keyd_server *s, lv_store *st);

/* keyd_activation.c */
int keyd_sign_citizen_digests(keyd_call *call, void *req, void **resp,
                              lv_err *err);

#endif
