/* Fixtures shared by the cmocka unit tests: a temporary directory per test
 * or group, a store on it, SQL run behind llave's back, and a demo
 * ceremony.  Include after cmocka.h (the SQL helpers assert). */
#ifndef LLAVE_TESTUTIL_H
#define LLAVE_TESTUTIL_H

#include "ca/ca.h"
#include "custody/custody.h"
#include "keyd/keyd.h"
#include "keys/keys.h"
#include "store/store.h"
#include "store/store_activation.h"
#include "store/store_audit.h"
#include "store/store_auth.h"
#include "store/store_ca.h"
#include "store/store_cert.h"
#include "store/store_crl.h"
#include "store/store_keys.h"
#include "store/store_ocsp.h"
#include "store/store_ra.h"
#include "store/store_sign.h"

#include <stddef.h>

/* Creates $TMPDIR/llave-test-NAME-XXXXXX (TMPDIR defaults to /tmp) and
 * writes its path to dir; 0 or -1. */
int tu_tmpdir(char *dir, size_t cap, const char *name);
/* Removes dir and everything below it. */
void tu_rmtree(const char *dir);
/* Opens (creating) DIR/llave.db, writing its path to db; prints the error
 * and returns < 0 on failure. */
int tu_store_open(const char *dir, char *db, size_t cap, lv_store **st);
/* Runs one SQL statement on the database file (busy timeout 5 s) and
 * asserts it ran; returns the first column of the first row, or -1. */
long long tu_sql(const char *db, const char *sql);
/* Runs a script of statements on the database file and asserts success. */
void tu_exec(const char *db, const char *sql);

/* A demo ceremony in TMPDIR/llave-test-NAME-XXXXXX/demo, unsealed and
 * opened: RSA-4096 CA keys take seconds, so files share one per group.
 * The keys live in a llave-keyd served in process on DIR/keyd.sock (as
 * the console's ceremony runs it: key store created here, keyd opens it
 * with the demo shares); ca speaks to it as the console. */
typedef struct tu_demo {
    char dir[512]; /* .../demo */
    char db[600];
    lv_config cfg;
    keyd_server *keyd;
    lv_store *st;
    lv_ca *ca;
} tu_demo;

/* The key store and an in-process keyd for a directory prepared by
 * custody_ceremony_prepare: keys_create, the demo shares file, keyd_start. */
int tu_keyd_demo(const char *dir, keyd_server **out, lv_err *err);
/* A second keyd on the same key store, started sealed, on
 * DIR/keyd-sealed.sock: cfg (a copy) is pointed at it. */
keyd_server *tu_keyd_sealed(lv_config *cfg);

int tu_demo_open(tu_demo *d, const char *name);
/* Closes everything and removes the temporary directory. */
void tu_demo_close(tu_demo *d);

#endif
