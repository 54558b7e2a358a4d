/* store/store_activation.h — signature activation records (R5.2; EN 419
 * 241-1's SAD; sql/011_activation.sql).  Two owners, one each side of the
 * trust boundary: sign/ creates a record, llave-keyd (keyd/) consumes it
 * before it signs. */
#ifndef LLAVE_STORE_ACTIVATION_H
#define LLAVE_STORE_ACTIVATION_H

#include "core/core.h"

#include <stdint.h>

/* ---- signature activation records (sql/011_activation.sql; issue 12) ----
 * R5.2, CEN EN 419 241-1 (SAD): the front end creates a record once it has
 * verified the citizen's password and an OTP bound to the digests, and
 * commits it; llave-keyd, the signature activation module, consumes it in
 * its own transaction before it signs.  A record is bound to one key, one
 * digest algorithm and one list of digests in order; only SHA-256 of its
 * random 256-bit reference is stored, so reading the table yields nothing
 * that keyd would accept. */
#define LV_ACTIVATION_REF_LEN 32
#define LV_ACTIVATION_REC_TTL_MAX 300 /* seconds */
#define LV_ACTIVATION_DIGESTS_MAX 1000

/* SHA-256 over "llave-activation-v2" 0 key_id 0 md 0 n (8 bytes big
 * endian) and the n digests of md ("sha256", "sha384", "sha512") laid end
 * to end. */
int store_activation_binding(const char *key_id, const char *md,
                             const unsigned char *digests, size_t n,
                             unsigned char out[32], lv_err *err) LV_MUST_USE;
/* The record id of a reference: SHA-256 of it, lower-case hex. */
int store_activation_id(const unsigned char ref[LV_ACTIVATION_REF_LEN],
                        char id[65], lv_err *err) LV_MUST_USE;

/* For the front end: a new record for key_id and the n digests, valid for
 * ttl_seconds (1..LV_ACTIVATION_REC_TTL_MAX), created by `actor` (the
 * citizen who authorized).  ref receives the fresh random reference, its
 * only copy: hand it to keyd and wipe it.  Runs in the caller's
 * transaction when one is open; keyd reads with its own connection, so
 * commit before asking keyd to sign. */
int store_activation_create(lv_store *st, const char *key_id, const char *md,
                            const unsigned char *digests, size_t n,
                            int ttl_seconds, const char *actor,
                            unsigned char ref[LV_ACTIVATION_REF_LEN],
                            lv_err *err) LV_MUST_USE;

typedef struct lv_activation_rec {
    char id[65]; /* SHA-256 (hex) of the reference */
    char key_id[65];
    char md[16];
    int64_t n;
    unsigned char binding[32];
    int64_t created_at;
    int64_t expires_at;
    char actor[128];
    int64_t used_at; /* 0 while unused */
    char used_by[128];
    char refusal[128]; /* "" unless a mismatching presentation burnt it */
} lv_activation_rec;

int store_activation_get(lv_store *st, const char *id, lv_activation_rec *out,
                         lv_err *err) LV_MUST_USE;
/* For keyd, inside its transaction: marks the record used by `used_by` at
 * `now` if and only if it exists, is unused, has not expired, and is for
 * key_id, md, n and binding; one conditional UPDATE, so two presentations
 * can never both succeed.  LV_EPERM when no row changed. */
int store_activation_consume(lv_store *st, const char *id, const char *key_id,
                             const char *md, int64_t n,
                             const unsigned char binding[32], int64_t now,
                             const char *used_by, lv_err *err) LV_MUST_USE;
/* Deletes the records that expired before `before`, used or not (the
 * signatures they allowed are audited); *count: how many. */
int store_activation_purge(lv_store *st, int64_t before, int *count,
                           lv_err *err) LV_MUST_USE;
/* For keyd: a presentation that did not match uses the record up anyway
 * (single use, whatever happens), recording why.  0 also when the record
 * does not exist or was already used. */
int store_activation_burn(lv_store *st, const char *id, int64_t now,
                          const char *used_by, const char *refusal,
                          lv_err *err) LV_MUST_USE;

#endif
