/* store/store_front.h — the front end's view of the storage authority
 * (issue 12 item 3): a connection per worker thread to hand, unread, to the
 * components that own the data (ra/, auth/, sign/, ca/ ...).  It names no
 * table and reads no row; http/ includes no other store/ header, and the
 * build refuses it one (tests/layering). */
#ifndef LLAVE_STORE_FRONT_H
#define LLAVE_STORE_FRONT_H

#include "core/core.h"

/* store_open and store_close of store.h, for http/'s per-thread stores.
 * map_reads tunes the connection for many small random reads (the status
 * lookups of ready answers, R10.1: SQLite maps the file).  Only the I/O
 * threads' connections ask for it: a mapped connection unmaps the whole
 * file whenever another connection has committed since its last read, so
 * on the pools' connections, which write beside each other at every
 * signature, the map cost more than it saved. */
int store_front_open(const char *location, int map_reads, lv_store **out,
                     lv_err *err) LV_MUST_USE;
void store_front_close(lv_store *st);

/* llaved's checkpointer: a job with a connection of its own that keeps the
 * database's write-ahead log bounded under steady load, every second
 * (store_checkpoint, store_wal.c).  Stopped with lv_job_stop. */
int store_checkpointer_start(const char *location, lv_job **out,
                             lv_err *err) LV_MUST_USE;

#endif
