/* audit/ — append-only, hash-chained audit trail (R9.1, R9.2, CPS §5.4).
 *
 * Entry n stores hash_n = SHA-256(hash_{n-1} || canonical JSON of entry n)
 * where the canonical JSON holds seq, time, actor, event, object, result and
 * details with sorted keys.  The first entry chains from 64 zeros.  Editing,
 * deleting, inserting or reordering a row breaks the chain at that row, which
 * audit_verify reports.  Seals (issue 8) sign the chain head: a seal over
 * entry N makes the removal of any entry up to N (truncation included)
 * detectable, and its RFC 3161 token fixes when the trail held them.
 *
 * audit_log must be called inside the caller's store transaction so that a
 * state change and its entry land together or not at all.
 *
 *   audit.c          audit_log, the chain
 *   audit_verify.c   audit_verify
 *   audit_seal.c     seals: record, verify, export
 *   audit_sealer.c   making seals: audit_seal, llaved's sealer thread
 *   audit_archive.c  the archive of R9.3
 *
 * Depends on core/, store/. */
#ifndef LLAVE_AUDIT_H
#define LLAVE_AUDIT_H

#include "core/core.h"

#define LV_AUDIT_SUCCESS "success"
#define LV_AUDIT_FAILURE "failure"

/* Appends one entry.  details may be NULL; it is not stolen. */
int audit_log(lv_store *st, const char *actor, const char *event,
              const char *object, const char *result, const json_t *details,
              lv_err *err) LV_MUST_USE;

/* Convenience for failures that must be recorded even though the caller's
 * transaction was rolled back: runs its own transaction.  Not LV_MUST_USE:
 * it records refusals that stand whether or not the entry could be written
 * (best effort, CPS §5.4.1); a caller that must know checks the result. */
int audit_log_standalone(lv_store *st, const char *actor, const char *event,
                         const char *object, const char *result,
                         const json_t *details, lv_err *err);

typedef struct lv_audit_report {
    int64_t entries;    /* rows checked */
    int64_t bad_seq;    /* first bad sequence number, 0 when intact */
    char reason[160];   /* why that entry is bad */
    int64_t seals;      /* seals checked (issue 8) */
    int64_t sealed_seq; /* entries up to here are covered by a seal */
} lv_audit_report;

/* Walks the whole chain, then every seal (issue 8): seal numbers without
 * gaps, the sealed entry present (else the trail was truncated) with the
 * sealed hash, the signature by an audit-seal certificate that chains to
 * the stored root, and the RFC 3161 token over the same message.  Returns
 * 0 with report->bad_seq == 0 when intact, LV_ESTATE with the first bad
 * entry named when not. */
int audit_verify(lv_store *st, lv_audit_report *report,
                 lv_err *err) LV_MUST_USE;

/* ---- seals (R9.2; issue 8) -------------------------------------------------
 * A seal signs and time-stamps the text
 *     llave-audit-seal/1 seq=<N> hash=<hash of entry N>
 * (no newline), which anyone can rebuild from an exported entry and check
 * with `openssl dgst -sha256 -verify` and `openssl ts -verify -data`. */
#define LV_AUDIT_SEAL_MSG_MAX 128
#define LV_AUDIT_SEAL_ROLE "audit" /* cas role of audit-seal certificates */

int audit_seal_message(int64_t seq, const char *hash,
                       char out[LV_AUDIT_SEAL_MSG_MAX]) LV_MUST_USE;

/* ---- making seals (R9.2; audit_sealer.c) -----------------------------------
 * A seal is signed by the audit-seal key through llave-keyd and carries a
 * token of our own TSA.  Both belong to components above audit/ (every
 * component, the CA context included, writes audit entries), so they come
 * in through this table: tsa_audit_sealing (tsa/) fills it for a CA
 * context; custody_audit_sealing (custody/, the console) adds provision. */
typedef struct lv_audit_sealing {
    void *ctx;            /* passed back to the functions below */
    const lv_config *cfg; /* DIR, audit_seal_minutes, audit_seal_entries */
    /* 0 when a seal can be signed now, else LV_ESEALED or LV_EBUSY */
    int (*ready)(void *ctx, lv_err *err);
    /* SHA-256 signature of msg by the key key_id; *sig malloc'ed */
    int (*sign)(void *ctx, const char *key_id, const unsigned char *msg,
                size_t len, unsigned char **sig, size_t *sig_len, lv_err *err);
    /* a granted RFC 3161 TimeStampResp over msg; *tst malloc'ed */
    int (*stamp)(void *ctx, lv_store *st, const char *msg, unsigned char **tst,
                 size_t *tst_len, lv_err *err);
    /* May be NULL (llaved): a new audit-seal key and certificate, recorded
     * as the cas row `name` of role LV_AUDIT_SEAL_ROLE with its audit
     * entry. */
    int (*provision)(void *ctx, lv_store *st, const char *name,
                     const char *actor, lv_err *err);
    /* 0 (`llave audit seal`, termination): every row not archived yet is
     * recorded before the seal.  1 (llaved's sealer, set by
     * audit_sealer_start): from AUDIT_ARCHIVE_SLACK before the last batch
     * on, SEAL_ARCHIVE_BATCHES at most, so that a pass stays short. */
    int archive_incremental;
} lv_audit_sealing;

/* The audit-seal key that signs now: the newest active certificate of role
 * LV_AUDIT_SEAL_ROLE valid for another week, else a new one made through
 * how->provision (LV_ESTATE when there is none). */
typedef struct lv_audit_signer {
    char name[32];   /* its cas row */
    char key_id[65]; /* its key in llave-keyd */
} lv_audit_signer;
int audit_seal_signer(const lv_audit_sealing *how, lv_store *st,
                      const char *actor, lv_audit_signer *out,
                      lv_err *err) LV_MUST_USE;

/* Signs the audit chain head with the audit-seal key and has the TSA
 * time-stamp it (the message is audit_seal_message's), then records the
 * seal and its "audit.seal" entry, after recording new archive items
 * (audit_archive_sync).  out->sealed is 0 when nothing new was written
 * since the last seal.  Needs keyd (LV_ESEALED) and a TSA that grants the
 * token (R7.2 clock guard); a failure is audited. */
typedef struct lv_seal_result {
    int sealed;
    int64_t id;  /* the new seal */
    int64_t seq; /* entries covered */
    char hash[65];
    char signer[32];
} lv_seal_result;
int audit_seal(const lv_audit_sealing *how, lv_store *st, const char *actor,
               lv_seal_result *out, lv_err *err) LV_MUST_USE;

/* llaved's sealer: a job (lv_job_stop stops it) with its own store that,
 * once keyd is ready, records new archive items (audit_archive_sync) and
 * seals every audit_seal_minutes or after audit_seal_entries new entries;
 * it audits the configuration's hash when it starts (CPS §5.4.1).  *out
 * stays NULL when both settings are 0. */
int audit_sealer_start(const lv_audit_sealing *how, lv_job **out,
                       lv_err *err) LV_MUST_USE;

typedef struct lv_audit_verify_opts {
    /* The auditor's own record: entries up to here existed (for example
     * the seq of the last seal they exported).  A trail ending earlier is
     * reported as truncated even if its newer seals were removed too.
     * 0: none. */
    int64_t expect_seq;
} lv_audit_verify_opts;
int audit_verify_opts(lv_store *st, const lv_audit_verify_opts *opts,
                      lv_audit_report *report, lv_err *err) LV_MUST_USE;

/* JSON lines (R9.2): one object per entry from from_seq on, with its
 * details as JSON and both hashes ({"type":"entry",...}), each seal right
 * after the entry it covers ({"type":"seal", "message", "signature" and
 * "tst" in base64, "certificate" PEM}).  fn receives each line without
 * the newline; at most `limit` entries (0: all).  *next (may be NULL) is
 * the seq to continue from (0 when the end was reached). */
int audit_export(lv_store *st, int64_t from_seq, int64_t limit,
                 int (*fn)(const char *line, void *), void *ctx, int64_t *next,
                 lv_err *err) LV_MUST_USE;

/* ---- archive (R9.3, CPS §5.5; issue 8) ------------------------------------
 * Records the records not yet archived (store_archive_foreach_new) in
 * batches of at most 500, each with one "archive.record" entry holding the
 * number of items and the SHA-256 of their "kind ref sha256\n" lines in
 * (kind, ref) order: the item hashes are then covered by the sealed chain.
 * Rows are looked for from `slack` seconds before the newest row of the
 * last batch on (store_archive_cursor_start; < 0: every row, as `llave
 * archive sync` does); at most max_batches batches (0: until none is
 * left), so that a backlog is worked off over several passes while the
 * write lock is taken one batch at a time.  *recorded (may be NULL)
 * counts the items. */
#define AUDIT_ARCHIVE_SLACK 600 /* s: transactions and clocks of nodes */
int audit_archive_sync(lv_store *st, const char *actor, int64_t slack,
                       int max_batches, int64_t *recorded,
                       lv_err *err) LV_MUST_USE;

typedef struct lv_archive_report {
    int64_t items;    /* items checked */
    int64_t batches;  /* batches checked against their audit entries */
    int64_t problems; /* mismatches reported through fn */
} lv_archive_report;
/* Checks every archived record against its recorded hash (changed or
 * missing rows) and every batch against its audit entry.  fn gets each
 * problem (kind, ref, what).  Returns 0 when all match, LV_ESTATE if not. */
int audit_archive_verify(lv_store *st,
                         void (*fn)(const char *kind, const char *ref,
                                    const char *problem, void *),
                         void *ctx, lv_archive_report *report,
                         lv_err *err) LV_MUST_USE;

#endif
