/* Remote signing rows (tables of sql/008_sign.sql): relying applications,
 * signature transactions and their documents, CSC signature activation
 * data, pending CSC OTPs and certificate acceptances.  No rules here:
 * sign/ decides, hashes and signs. */
#include "store/store_driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A statement that must change exactly one row; `none` is the code when
 * it changed none. */
static int changed_one(store_q *q, int none, const char *what)
{
    int rc = store_q_exec(q);
    int64_t n = rc == 0 ? q->st->drv->changes(q->st->db) : 0;
    store_q_finalize(q);
    if (rc < 0)
        return rc;
    return n == 1 ? 0 : lv_fail(q->err, none, "%s", what);
}

static int exec_once(store_q *q)
{
    int rc = store_q_exec(q);
    store_q_finalize(q);
    return rc;
}

/* ---- applications ----------------------------------------------------------
 */

#define APP_COLUMNS                                                            \
    "client_id, name, secret_hash, enabled, created_at, created_by"

int store_sign_app_insert(lv_store *st, const lv_sign_app_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(
        store_check_field(r->client_id, sizeof r->client_id, "client id", err));
    LV_TRY(store_check_field(r->name, sizeof r->name, "name", err));
    store_q_prepare(&q, st,
                    "INSERT INTO sign_apps (" APP_COLUMNS
                    ") VALUES (?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->client_id);
    store_q_text(&q, r->name);
    store_q_text(&q, r->secret_hash);
    store_q_int64(&q, r->enabled ? 1 : 0);
    store_q_int64(&q, r->created_at);
    store_q_text(&q, r->created_by);
    int rc = exec_once(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, rc, "application %s already exists", r->client_id);
    return rc;
}

static int app_read(store_q *q, void *out)
{
    lv_sign_app_rec *r = out;
    memset(r, 0, sizeof *r);
    LV_TRY(store_q_col_copy(q, 0, r->client_id, sizeof r->client_id));
    LV_TRY(store_q_col_copy(q, 1, r->name, sizeof r->name));
    LV_TRY(store_q_col_copy(q, 2, r->secret_hash, sizeof r->secret_hash));
    r->enabled = (int)store_q_col_int64(q, 3);
    r->created_at = store_q_col_int64(q, 4);
    return store_q_col_copy(q, 5, r->created_by, sizeof r->created_by);
}

int store_sign_app_get(lv_store *st, const char *client_id,
                       lv_sign_app_rec *out, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "SELECT " APP_COLUMNS " FROM sign_apps WHERE client_id = ?",
                    err);
    store_q_text(&q, client_id);
    return store_q_get_one(&q, app_read, out, "application", client_id, err);
}

int store_sign_app_foreach(lv_store *st,
                           int (*fn)(const lv_sign_app_rec *, void *),
                           void *ctx, lv_err *err)
{
    store_q q;
    lv_sign_app_rec rec;
    int rc;
    store_q_prepare(&q, st,
                    "SELECT " APP_COLUMNS
                    " FROM sign_apps ORDER BY created_at, client_id",
                    err);
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        if ((rc = app_read(&q, &rec)) < 0 || (rc = fn(&rec, ctx)) < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

/* ---- transactions
 * ------------------------------------------------------------ */

#define TX_COLUMNS                                                             \
    "id, app_id, citizen_id, owner, digest_alg, state, cert_serial, "          \
    "accept_serial, redirect_ok, redirect_error, otp_id, error, created_at, "  \
    "expires_at, signed_at, ended_at"

static int tx_check(const lv_sign_tx_rec *r, lv_err *err)
{
    LV_TRY(store_check_field(r->id, sizeof r->id, "id", err));
    LV_TRY(store_check_field(r->redirect_ok, sizeof r->redirect_ok,
                             "redirect_ok", err));
    LV_TRY(store_check_field(r->redirect_error, sizeof r->redirect_error,
                             "redirect_error", err));
    return store_check_field(r->error, sizeof r->error, "error", err);
}

int store_sign_tx_insert(lv_store *st, const lv_sign_tx_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(tx_check(r, err));
    store_q_prepare(&q, st,
                    "INSERT INTO sign_transactions (" TX_COLUMNS
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->id);
    store_q_text(&q, r->app_id);
    store_q_text(&q, r->citizen_id);
    store_q_text(&q, r->owner);
    store_q_text(&q, r->digest_alg);
    store_q_text(&q, r->state);
    store_q_text(&q, r->cert_serial);
    store_q_text(&q, r->accept_serial);
    store_q_text(&q, r->redirect_ok);
    store_q_text(&q, r->redirect_error);
    store_q_text(&q, r->otp_id);
    store_q_text(&q, r->error);
    store_q_int64(&q, r->created_at);
    store_q_int64(&q, r->expires_at);
    store_q_int64(&q, r->signed_at);
    store_q_int64(&q, r->ended_at);
    return exec_once(&q);
}

static int tx_read(store_q *q, void *out)
{
    lv_sign_tx_rec *r = out;
    memset(r, 0, sizeof *r);
    LV_TRY(store_q_col_copy(q, 0, r->id, sizeof r->id));
    LV_TRY(store_q_col_copy(q, 1, r->app_id, sizeof r->app_id));
    LV_TRY(store_q_col_copy(q, 2, r->citizen_id, sizeof r->citizen_id));
    LV_TRY(store_q_col_copy(q, 3, r->owner, sizeof r->owner));
    LV_TRY(store_q_col_copy(q, 4, r->digest_alg, sizeof r->digest_alg));
    LV_TRY(store_q_col_copy(q, 5, r->state, sizeof r->state));
    LV_TRY(store_q_col_copy(q, 6, r->cert_serial, sizeof r->cert_serial));
    LV_TRY(store_q_col_copy(q, 7, r->accept_serial, sizeof r->accept_serial));
    LV_TRY(store_q_col_copy(q, 8, r->redirect_ok, sizeof r->redirect_ok));
    LV_TRY(store_q_col_copy(q, 9, r->redirect_error, sizeof r->redirect_error));
    LV_TRY(store_q_col_copy(q, 10, r->otp_id, sizeof r->otp_id));
    LV_TRY(store_q_col_copy(q, 11, r->error, sizeof r->error));
    r->created_at = store_q_col_int64(q, 12);
    r->expires_at = store_q_col_int64(q, 13);
    r->signed_at = store_q_col_int64(q, 14);
    r->ended_at = store_q_col_int64(q, 15);
    return 0;
}

int store_sign_tx_get(lv_store *st, const char *id, lv_sign_tx_rec *out,
                      lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "SELECT " TX_COLUMNS " FROM sign_transactions WHERE id = ?",
                    err);
    store_q_text(&q, id);
    return store_q_get_one(&q, tx_read, out, "transaction", id, err);
}

int store_sign_tx_update(lv_store *st, const lv_sign_tx_rec *r,
                         const char *from, lv_err *err)
{
    store_q q;
    LV_TRY(tx_check(r, err));
    store_q_prepare(&q, st,
                    "UPDATE sign_transactions SET state = ?, cert_serial = ?,"
                    " accept_serial = ?, otp_id = ?, error = ?, signed_at = ?,"
                    " ended_at = ? WHERE id = ? AND (? = '' OR state = ?)",
                    err);
    store_q_text(&q, r->state);
    store_q_text(&q, r->cert_serial);
    store_q_text(&q, r->accept_serial);
    store_q_text(&q, r->otp_id);
    store_q_text(&q, r->error);
    store_q_int64(&q, r->signed_at);
    store_q_int64(&q, r->ended_at);
    store_q_text(&q, r->id);
    store_q_text(&q, from ? from : "");
    store_q_text(&q, from ? from : "");
    return changed_one(&q, from ? LV_ESTATE : LV_ENOTFOUND,
                       "the transaction changed state meanwhile");
}

/* ---- documents
 * ----------------------------------------------------------------- */

int store_sign_doc_insert(lv_store *st, const char *tx_id,
                          const lv_sign_doc_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(store_check_field(r->doc_id, sizeof r->doc_id, "document id", err));
    LV_TRY(store_check_field(r->name, sizeof r->name, "name", err));
    LV_TRY(store_check_field(r->title, sizeof r->title, "title", err));
    if (r->digest_len == 0 || r->digest_len > sizeof r->digest)
        return lv_fail(err, LV_EINVAL, "bad digest length");
    store_q_prepare(&q, st,
                    "INSERT INTO sign_documents (tx_id, seq, doc_id, name,"
                    " title, digest, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, tx_id);
    store_q_int64(&q, r->seq);
    store_q_text(&q, r->doc_id);
    store_q_text(&q, r->name);
    store_q_text(&q, r->title);
    store_q_blob(&q, r->digest, r->digest_len);
    store_q_text(&q, NULL);
    return exec_once(&q);
}

int store_sign_doc_set_signature(lv_store *st, const char *tx_id, int seq,
                                 const unsigned char *sig, size_t len,
                                 lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "UPDATE sign_documents SET signature = ? WHERE tx_id = ?"
                    " AND seq = ?",
                    err);
    store_q_blob(&q, sig, len);
    store_q_text(&q, tx_id);
    store_q_int64(&q, seq);
    return changed_one(&q, LV_ENOTFOUND, "no such document");
}

static int doc_read(store_q *q, lv_sign_doc_rec *r)
{
    size_t n = 0;
    memset(r, 0, sizeof *r);
    r->seq = (int)store_q_col_int64(q, 0);
    LV_TRY(store_q_col_copy(q, 1, r->doc_id, sizeof r->doc_id));
    LV_TRY(store_q_col_copy(q, 2, r->name, sizeof r->name));
    LV_TRY(store_q_col_copy(q, 3, r->title, sizeof r->title));
    const void *d = q->st->drv->column_blob(q->stmt, 4, &n);
    if (!d || n == 0 || n > sizeof r->digest)
        return lv_fail(q->err, LV_ESTORE,
                       "document digest is not one llave "
                       "wrote");
    memcpy(r->digest, d, n);
    r->digest_len = n;
    return store_q_col_blob(q, 5, &r->signature, &r->signature_len);
}

int store_sign_doc_foreach(lv_store *st, const char *tx_id,
                           int (*fn)(const lv_sign_doc_rec *, void *),
                           void *ctx, lv_err *err)
{
    store_q q;
    lv_sign_doc_rec rec;
    int rc;
    store_q_prepare(&q, st,
                    "SELECT seq, doc_id, name, title, digest, signature FROM"
                    " sign_documents WHERE tx_id = ? ORDER BY seq",
                    err);
    store_q_text(&q, tx_id);
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        rc = doc_read(&q, &rec);
        if (rc == 0)
            rc = fn(&rec, ctx);
        free(rec.signature);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

/* ---- CSC signature activation data
 * ------------------------------------------------ */

int store_sign_sad_insert(lv_store *st, const lv_sign_sad_rec *r, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "INSERT INTO sign_sads (sad_hash, citizen_id, serial,"
                    " digest_alg, hashes, remaining, created_at, expires_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->sad_hash);
    store_q_text(&q, r->citizen_id);
    store_q_text(&q, r->serial);
    store_q_text(&q, r->digest_alg);
    store_q_blob(&q, r->hashes, r->hashes_len);
    store_q_int64(&q, r->remaining);
    store_q_int64(&q, r->created_at);
    store_q_int64(&q, r->expires_at);
    return exec_once(&q);
}

int store_sign_sad_get(lv_store *st, const char *sad_hash, lv_sign_sad_rec *out,
                       lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    "SELECT sad_hash, citizen_id, serial, digest_alg, hashes,"
                    " remaining, created_at, expires_at FROM sign_sads WHERE"
                    " sad_hash = ?",
                    err);
    store_q_text(&q, sad_hash);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW) {
        rc = store_q_col_copy(&q, 0, out->sad_hash, sizeof out->sad_hash);
        if (rc == 0)
            rc = store_q_col_copy(&q, 1, out->citizen_id,
                                  sizeof out->citizen_id);
        if (rc == 0)
            rc = store_q_col_copy(&q, 2, out->serial, sizeof out->serial);
        if (rc == 0)
            rc = store_q_col_copy(&q, 3, out->digest_alg,
                                  sizeof out->digest_alg);
        if (rc == 0)
            rc = store_q_col_blob(&q, 4, &out->hashes, &out->hashes_len);
        out->remaining = (int)store_q_col_int64(&q, 5);
        out->created_at = store_q_col_int64(&q, 6);
        out->expires_at = store_q_col_int64(&q, 7);
    } else if (rc == LV_DB_DONE) {
        rc = lv_fail(err, LV_ENOTFOUND, "unknown SAD");
    }
    store_q_finalize(&q);
    if (rc < 0)
        store_sign_sad_rec_free(out);
    return rc < 0 ? rc : 0;
}

int store_sign_sad_consume(lv_store *st, const char *sad_hash, int n,
                           int64_t now, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "UPDATE sign_sads SET remaining = remaining - ? WHERE"
                    " sad_hash = ? AND remaining >= ? AND expires_at > ?",
                    err);
    store_q_int64(&q, n);
    store_q_text(&q, sad_hash);
    store_q_int64(&q, n);
    store_q_int64(&q, now);
    return changed_one(&q, LV_ESTATE, "the SAD is used up or expired (R5.2)");
}

int store_sign_sad_extend(lv_store *st, const char *sad_hash,
                          int64_t expires_at, lv_err *err)
{
    store_q q;
    store_q_prepare(
        &q, st, "UPDATE sign_sads SET expires_at = ? WHERE sad_hash = ?", err);
    store_q_int64(&q, expires_at);
    store_q_text(&q, sad_hash);
    return changed_one(&q, LV_ENOTFOUND, "unknown SAD");
}

void store_sign_sad_rec_free(lv_sign_sad_rec *r)
{
    if (!r)
        return;
    free(r->hashes);
    r->hashes = NULL;
    r->hashes_len = 0;
}

/* ---- pending CSC OTPs
 * ------------------------------------------------------------------ */

int store_sign_otp_put(lv_store *st, const lv_sign_otp_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(store_sign_otp_delete(st, r->citizen_id, r->serial, err));
    store_q_prepare(
        &q, st,
        "INSERT INTO sign_csc_otps (citizen_id, serial, otp_id,"
        " digest_alg, hashes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        err);
    store_q_text(&q, r->citizen_id);
    store_q_text(&q, r->serial);
    store_q_text(&q, r->otp_id);
    store_q_text(&q, r->digest_alg);
    if (r->hashes_len)
        store_q_blob(&q, r->hashes, r->hashes_len);
    else
        store_q_text(&q, NULL);
    store_q_int64(&q, r->created_at);
    return exec_once(&q);
}

int store_sign_otp_get(lv_store *st, const char *citizen_id, const char *serial,
                       lv_sign_otp_rec *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    "SELECT otp_id, digest_alg, hashes, created_at FROM"
                    " sign_csc_otps WHERE citizen_id = ? AND serial = ?",
                    err);
    store_q_text(&q, citizen_id);
    store_q_text(&q, serial);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW) {
        snprintf(out->citizen_id, sizeof out->citizen_id, "%s", citizen_id);
        snprintf(out->serial, sizeof out->serial, "%s", serial);
        rc = store_q_col_copy(&q, 0, out->otp_id, sizeof out->otp_id);
        if (rc == 0)
            rc = store_q_col_copy(&q, 1, out->digest_alg,
                                  sizeof out->digest_alg);
        if (rc == 0)
            rc = store_q_col_blob(&q, 2, &out->hashes, &out->hashes_len);
        out->created_at = store_q_col_int64(&q, 3);
    } else if (rc == LV_DB_DONE) {
        rc = lv_fail(err, LV_ENOTFOUND, "no OTP was sent for this credential");
    }
    store_q_finalize(&q);
    if (rc < 0)
        store_sign_otp_rec_free(out);
    return rc < 0 ? rc : 0;
}

int store_sign_otp_delete(lv_store *st, const char *citizen_id,
                          const char *serial, lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "DELETE FROM sign_csc_otps WHERE citizen_id = ? AND"
                    " serial = ?",
                    err);
    store_q_text(&q, citizen_id);
    store_q_text(&q, serial);
    return exec_once(&q);
}

void store_sign_otp_rec_free(lv_sign_otp_rec *r)
{
    if (!r)
        return;
    free(r->hashes);
    r->hashes = NULL;
    r->hashes_len = 0;
}

/* ---- acceptances
 * --------------------------------------------------------------------- */

int store_sign_acceptance_insert(lv_store *st, const lv_sign_acceptance_rec *r,
                                 lv_err *err)
{
    store_q q;
    store_q_prepare(&q, st,
                    "INSERT INTO sign_acceptances (serial, citizen_id, sheet,"
                    " digest_alg, signature, channel, accepted_at) VALUES"
                    " (?, ?, ?, ?, ?, ?, ?)",
                    err);
    store_q_text(&q, r->serial);
    store_q_text(&q, r->citizen_id);
    store_q_text(&q, r->sheet);
    store_q_text(&q, r->digest_alg);
    store_q_blob(&q, r->signature, r->signature_len);
    store_q_text(&q, r->channel);
    store_q_int64(&q, r->accepted_at);
    int rc = exec_once(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, rc, "certificate %s is already accepted",
                       r->serial);
    return rc;
}

int store_sign_acceptance_get(lv_store *st, const char *serial,
                              lv_sign_acceptance_rec *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st,
                    "SELECT serial, citizen_id, sheet, digest_alg, signature,"
                    " channel, accepted_at FROM sign_acceptances WHERE"
                    " serial = ?",
                    err);
    store_q_text(&q, serial);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW) {
        rc = store_q_col_copy(&q, 0, out->serial, sizeof out->serial);
        if (rc == 0)
            rc = store_q_col_copy(&q, 1, out->citizen_id,
                                  sizeof out->citizen_id);
        if (rc == 0 && !(out->sheet = strdup(store_q_col_text(&q, 2))))
            rc = LV_ENOMEM;
        if (rc == 0)
            rc = store_q_col_copy(&q, 3, out->digest_alg,
                                  sizeof out->digest_alg);
        if (rc == 0)
            rc = store_q_col_blob(&q, 4, &out->signature, &out->signature_len);
        if (rc == 0)
            rc = store_q_col_copy(&q, 5, out->channel, sizeof out->channel);
        out->accepted_at = store_q_col_int64(&q, 6);
    } else if (rc == LV_DB_DONE) {
        rc = lv_fail(err, LV_ENOTFOUND, "certificate %s is not accepted",
                     serial);
    }
    store_q_finalize(&q);
    if (rc < 0)
        store_sign_acceptance_rec_free(out);
    return rc < 0 ? rc : 0;
}

void store_sign_acceptance_rec_free(lv_sign_acceptance_rec *r)
{
    if (!r)
        return;
    free(r->sheet);
    free(r->signature);
    r->sheet = NULL;
    r->signature = NULL;
    r->signature_len = 0;
}
