/* keyd/ — llave-keyd, the signature activation module (CEN EN 419 241-1
 * SAM; issue 12).  The only process that opens the key store: it answers a
 * small request table (keyd_proto.h) on a UNIX socket of mode 0600 and
 * nothing else, and signs with a citizen's key only after it has itself
 * consumed an activation record bound to that key and those digests (R5.2).
 *
 * src/llave-keyd.c is the program; tests run a server in process.  Depends
 * on core, store, audit and keys; nothing but llave-keyd links it. */
#ifndef LLAVE_KEYD_H
#define LLAVE_KEYD_H

#include "core/core.h"

typedef struct keyd_server keyd_server;

typedef struct keyd_opts {
    const char *dir;         /* the data directory */
    const char *socket_path; /* NULL: DIR/keyd.sock */
    /* 1: start sealed even on a demo install (ignore
     * DIR/demo-shares.INSECURE); custodians unseal with unseal_share. */
    int sealed;
    int max_conns; /* concurrent connections; 0: KEYD_CONNS_DEFAULT */
} keyd_opts;

#define KEYD_CONNS_DEFAULT 64
#define KEYD_CONNS_MAX 1024

/* Opens the key store (with the demo shares when the install has them
 * and o->sealed is 0; sealed otherwise), creates the socket (mode 0600,
 * refusing to replace a live one), starts accepting and audits
 * keyd.start. */
int keyd_start(const keyd_opts *o, keyd_server **out, lv_err *err) LV_MUST_USE;
/* Stops accepting, ends every connection, audits keyd.stop, closes the
 * key store (wiping it) and removes the socket.  NULL is ok. */
void keyd_stop(keyd_server *s);

int keyd_is_sealed(keyd_server *s);
const char *keyd_socket(const keyd_server *s);

#endif
