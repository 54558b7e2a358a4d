/* Pre-signed OCSP responses (table ocsp_responses, sql/003_ocsp.sql) and the
 * certificate reads the responder and its refresher need. */
#include "store/store_rows.h"

#include <stdlib.h>
#include <string.h>

static int ocsp_check(const lv_ocsp_rec *r, lv_err *err)
{
    if (r->serial[0] == '\0' || r->hash_alg[0] == '\0' || !r->cert_id ||
        !r->cert_id_len || !r->response || !r->response_len)
        return lv_fail(err, LV_EINVAL,
                       "OCSP record needs serial, hash, CertID and response");
    if (r->cert_status != LV_CERT_VALID && r->cert_status != LV_CERT_REVOKED)
        return lv_fail(err, LV_EINVAL, "bad certificate status %d",
                       r->cert_status);
    return 0;
}

/* INSERT OR REPLACE is SQLite only; DELETE + INSERT inside the caller's
 * transaction (or autocommit pair) is portable and equivalent. */
int store_ocsp_put(lv_store *st, const lv_ocsp_rec *rec, lv_err *err)
{
    LV_TRY(store_row_check(&store_row_ocsp, rec, err));
    LV_TRY(ocsp_check(rec, err));
    LV_TRY(STORE_RUN(
        st, NULL, err,
        "DELETE FROM ocsp_responses WHERE serial = ? AND hash_alg = ?",
        SQ_TEXT(rec->serial), SQ_TEXT(rec->hash_alg)));
    return store_explain(store_row_insert(st, &store_row_ocsp, rec, err),
                         LV_EINVAL, err, "no certificate with serial %s",
                         rec->serial);
}

void store_ocsp_rec_free(lv_ocsp_rec *rec)
{
    store_row_free(&store_row_ocsp, rec);
}

/* ---- the responder's lookup -------------------------------------------- */

/* Columns 0-6 come from certs, 7-12 from the (possibly absent) response. */
static int lookup_read(store_q *q, const char *hash_alg, lv_cert_rec *c,
                       lv_ocsp_rec *o, int *has_resp)
{
    LV_TRY(store_q_col_copy(q, 0, c->serial, sizeof c->serial));
    LV_TRY(store_q_col_copy(q, 1, c->ca, sizeof c->ca));
    c->status = (int)store_q_col_int64(q, 2);
    c->revoked_at = store_q_col_int64(q, 3);
    c->revocation_reason = (int)store_q_col_int64(q, 4);
    c->not_before = store_q_col_int64(q, 5);
    c->not_after = store_q_col_int64(q, 6);
    *has_resp = store_q_col_int64(q, 7) != 0;
    if (!*has_resp)
        return 0;
    memcpy(o->serial, c->serial, sizeof o->serial);
    snprintf(o->hash_alg, sizeof o->hash_alg, "%s", hash_alg);
    memcpy(o->ca, c->ca, sizeof o->ca);
    LV_TRY(store_q_col_blob(q, 8, &o->cert_id, &o->cert_id_len));
    o->cert_status = (int)store_q_col_int64(q, 9);
    o->this_update = store_q_col_int64(q, 10);
    o->next_update = store_q_col_int64(q, 11);
    return store_q_col_blob(q, 12, &o->response, &o->response_len);
}

/* R10.1: one statement, two primary-key probes. */
int store_ocsp_lookup(lv_store *st, const char *serial, const char *hash_alg,
                      lv_cert_rec *cert, int *found, lv_ocsp_rec *resp,
                      int *has_resp, lv_err *err)
{
    store_q q;
    memset(cert, 0, sizeof *cert);
    memset(resp, 0, sizeof *resp);
    *found = *has_resp = 0;
    STORE_Q(&q, st, err,
            "SELECT c.serial, c.ca, c.status, c.revoked_at,"
            " c.revocation_reason, c.not_before, c.not_after,"
            " CASE WHEN o.serial IS NULL THEN 0 ELSE 1 END, o.cert_id,"
            " o.cert_status, o.this_update, o.next_update, o.response"
            " FROM certs c LEFT JOIN ocsp_responses o"
            " ON o.serial = c.serial AND o.hash_alg = ? WHERE c.serial = ?",
            SQ_TEXT(hash_alg), SQ_TEXT(serial));
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW) {
        *found = 1;
        rc = lookup_read(&q, hash_alg, cert, resp, has_resp);
    }
    store_q_finalize(&q);
    if (rc < 0) {
        store_ocsp_rec_free(resp);
        *found = *has_resp = 0;
        return rc;
    }
    return 0;
}

/* cas.revoked_at and cas.revocation_reason come from sql/002_status.sql. */
int store_ocsp_ca_cert(lv_store *st, const char *serial, const char *issuer,
                       lv_cert_rec *out, int *found, lv_err *err)
{
    store_q q;
    STORE_Q(&q, st, err,
            "SELECT " CA_CERT_COLUMNS " FROM cas"
            " WHERE serial = ? AND issuer = ? AND name <> issuer",
            SQ_TEXT(serial), SQ_TEXT(issuer));
    int rc = store_row_get(&q, &store_row_ca_cert, out);
    *found = rc == 0;
    out->status = out->revoked_at > 0 ? LV_CERT_REVOKED : LV_CERT_VALID;
    return rc == LV_ENOTFOUND ? 0 : rc;
}

/* ---- the refresher's queries -------------------------------------------- */

/* Steps a prepared query whose rows are (serial[, hash_alg]) and calls the
 * matching callback for each. */
typedef struct pair_cb {
    lv_ocsp_pair_fn pair;
    int (*one)(const char *serial, void *ctx);
    void *ctx;
} pair_cb;

static int run_serials(store_q *q, const pair_cb *cb)
{
    int rc;
    char serial[65], alg[16];
    while ((rc = store_q_step(q)) == LV_DB_ROW) {
        rc = store_q_col_copy(q, 0, serial, sizeof serial);
        if (rc == 0 && cb->pair)
            rc = store_q_col_copy(q, 1, alg, sizeof alg);
        if (rc == 0)
            rc = cb->pair ? cb->pair(serial, alg, cb->ctx)
                          : cb->one(serial, cb->ctx);
        if (rc < 0)
            break;
    }
    store_q_finalize(q);
    return rc < 0 ? rc : 0;
}

static int each_serial(lv_store *st, lv_err *err, pair_cb cb, const char *sql,
                       const store_arg *args, size_t n)
{
    store_q q;
    store_q_open(&q, st, err, sql, args, n);
    return run_serials(&q, &cb);
}
#define EACH_SERIAL(st, err, pair, one, ctx, sql, ...)                         \
    each_serial(st, err, (pair_cb){pair, one, ctx}, sql,                       \
                STORE_ARGS(__VA_ARGS__))

int store_ocsp_foreach_due(lv_store *st, int64_t before, int limit,
                           lv_ocsp_pair_fn fn, void *ctx, lv_err *err)
{
    return EACH_SERIAL(st, err, fn, NULL, ctx,
                       "SELECT serial, hash_alg FROM ocsp_responses"
                       " WHERE next_update < ? ORDER BY next_update LIMIT ?",
                       SQ_INT(before), SQ_INT(limit));
}

int store_ocsp_foreach_stale(lv_store *st, int64_t since, int limit,
                             lv_ocsp_pair_fn fn, void *ctx, lv_err *err)
{
    return EACH_SERIAL(st, err, fn, NULL, ctx,
                       "SELECT o.serial, o.hash_alg FROM certs c"
                       " JOIN ocsp_responses o ON o.serial = c.serial"
                       " WHERE c.revoked_at >= ? AND c.status = ?"
                       " AND o.cert_status <> c.status LIMIT ?",
                       SQ_INT(since > 0 ? since : 1), SQ_INT(LV_CERT_REVOKED),
                       SQ_INT(limit));
}

int store_ocsp_foreach_missing(lv_store *st, const char *hash_alg,
                               int64_t since, int limit, STORE_VISIT(char),
                               lv_err *err)
{
    return EACH_SERIAL(st, err, NULL, fn, ctx,
                       "SELECT c.serial FROM certs c LEFT JOIN ocsp_responses o"
                       " ON o.serial = c.serial AND o.hash_alg = ?"
                       " WHERE c.created_at >= ? AND o.serial IS NULL"
                       " ORDER BY c.created_at LIMIT ?",
                       SQ_TEXT(hash_alg), SQ_INT(since), SQ_INT(limit));
}

int store_cert_foreach_serial(lv_store *st, const char *ca, const char *after,
                              int limit, STORE_VISIT(char), lv_err *err)
{
    return EACH_SERIAL(st, err, NULL, fn, ctx,
                       "SELECT serial FROM certs WHERE ca = ? AND serial > ?"
                       " ORDER BY serial LIMIT ?",
                       SQ_TEXT(ca), SQ_TEXT(after ? after : ""), SQ_INT(limit));
}

/* The node caches' change watcher (issue 17 item 5): revocations stamped at
 * or after `since`, oldest first (index ocsp_certs_by_revoked_at). */
int store_ocsp_foreach_revoked(lv_store *st, int64_t since, int limit,
                               STORE_VISIT(char), lv_err *err)
{
    return EACH_SERIAL(st, err, NULL, fn, ctx,
                       "SELECT serial FROM certs"
                       " WHERE revoked_at >= ? AND status = ?"
                       " ORDER BY revoked_at LIMIT ?",
                       SQ_INT(since > 0 ? since : 1), SQ_INT(LV_CERT_REVOKED),
                       SQ_INT(limit));
}
