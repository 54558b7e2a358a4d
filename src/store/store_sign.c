/* Remote signing rows (tables of sql/008_sign.sql): relying applications,
 * signature transactions and their documents, CSC signature activation
 * data, pending CSC OTPs and certificate acceptances.  No rules here:
 * sign/ decides, hashes and signs. */
#include "store/store_rows.h"

#include <string.h>

/* ---- applications ----------------------------------------------------------
 */

STORE_ADD(sign_app, lv_sign_app_rec, &store_row_app, r,
          "application %s already exists", r->client_id)
STORE_GET(sign_app, lv_sign_app_rec, &store_row_app, client_id,
          "no application %s", client_id)

int store_sign_app_foreach(lv_store *st, STORE_VISIT(lv_sign_app_rec),
                           lv_err *err)
{
    STORE_RETURN_EACH(lv_sign_app_rec, &store_row_app, st, err, fn, ctx,
                      "SELECT " APP_COLUMNS
                      " FROM sign_apps ORDER BY created_at, client_id");
}

/* ---- transactions
 * ------------------------------------------------------------ */

STORE_INSERT(sign_tx, lv_sign_tx_rec, &store_row_tx)
STORE_GET(sign_tx, lv_sign_tx_rec, &store_row_tx, id, "no transaction %s", id)

int store_sign_tx_update(lv_store *st, const lv_sign_tx_rec *r,
                         const char *from, lv_err *err)
{
    int64_t n = 0;
    const char *f = from ? from : "";
    LV_TRY(store_row_check(&store_row_tx, r, err));
    LV_TRY(STORE_ROW_RUN(
        st, &store_row_tx, r, TX_MUTABLE, store_row_tx.n, &n, err,
        "UPDATE sign_transactions SET state = ?, cert_serial = ?,"
        " accept_serial = ?, otp_id = ?, error = ?, signed_at = ?,"
        " ended_at = ? WHERE id = ? AND (? = '' OR state = ?)",
        SQ_TEXT(r->id), SQ_TEXT(f), SQ_TEXT(f)));
    return store_one(n, err, from ? LV_ESTATE : LV_ENOTFOUND,
                     "the transaction changed state meanwhile");
}

STORE_FOREACH(sign_tx_foreach_citizen, lv_sign_tx_rec, &store_row_tx,
              citizen_id,
              "SELECT " TX_COLUMNS " FROM sign_transactions"
              " WHERE citizen_id = ? ORDER BY created_at DESC, id",
              SQ_TEXT(citizen_id))

/* ---- documents
 * ----------------------------------------------------------------- */

/* The signature comes later (store_sign_doc_set_signature). */
int store_sign_doc_insert(lv_store *st, const char *tx_id,
                          const lv_sign_doc_rec *r, lv_err *err)
{
    store_q q;
    LV_TRY(store_row_check(&store_row_doc, r, err));
    if (r->digest_len == 0)
        return lv_fail(err, LV_EINVAL, "bad digest length");
    store_q_prepare(&q, st,
                    "INSERT INTO sign_documents (tx_id, " DOC_COLUMNS
                    ") VALUES (?, ?, ?, ?, ?, ?, NULL)",
                    err);
    store_q_text(&q, tx_id);
    store_row_bind_range(&q, &store_row_doc, r, 0, store_row_doc.n - 1);
    return store_q_run(&q, NULL);
}

int store_sign_doc_set_signature(lv_store *st, const char *tx_id, int seq,
                                 const unsigned char *sig, size_t len,
                                 lv_err *err)
{
    int64_t n = 0;
    LV_TRY(STORE_RUN(st, &n, err,
                     "UPDATE sign_documents SET signature = ?"
                     " WHERE tx_id = ? AND seq = ?",
                     SQ_BLOB(sig, len), SQ_TEXT(tx_id), SQ_INT(seq)));
    return store_one(n, err, LV_ENOTFOUND, "no such document");
}

/* fn must not keep rec->signature. */
STORE_FOREACH(sign_doc_foreach, lv_sign_doc_rec, &store_row_doc, tx_id,
              "SELECT " DOC_COLUMNS " FROM sign_documents"
              " WHERE tx_id = ? ORDER BY seq",
              SQ_TEXT(tx_id))

/* ---- CSC signature activation data
 * ------------------------------------------------ */

STORE_INSERT(sign_sad, lv_sign_sad_rec, &store_row_sad)
STORE_GET(sign_sad, lv_sign_sad_rec, &store_row_sad, sad_hash, "unknown SAD")

int store_sign_sad_consume(lv_store *st, const char *sad_hash, int n,
                           int64_t now, lv_err *err)
{
    int64_t changed = 0;
    LV_TRY(STORE_RUN(st, &changed, err,
                     "UPDATE sign_sads SET remaining = remaining - ? WHERE"
                     " sad_hash = ? AND remaining >= ? AND expires_at > ?",
                     SQ_INT(n), SQ_TEXT(sad_hash), SQ_INT(n), SQ_INT(now)));
    return store_one(changed, err, LV_ESTATE,
                     "the SAD is used up or expired (R5.2)");
}

int store_sign_sad_release(lv_store *st, const char *sad_hash,
                           const char *citizen_id, int n, int64_t now,
                           lv_err *err)
{
    int64_t changed = 0;
    LV_TRY(STORE_RUN(st, &changed, err,
                     "UPDATE sign_sads SET remaining = remaining + ? WHERE"
                     " sad_hash = ? AND citizen_id = ? AND expires_at > ?",
                     SQ_INT(n), SQ_TEXT(sad_hash), SQ_TEXT(citizen_id),
                     SQ_INT(now)));
    return store_one(changed, err, LV_ESTATE, "the SAD has expired");
}

int store_sign_sad_extend(lv_store *st, const char *sad_hash,
                          int64_t expires_at, lv_err *err)
{
    int64_t n = 0;
    LV_TRY(STORE_RUN(st, &n, err,
                     "UPDATE sign_sads SET expires_at = ? WHERE sad_hash = ?",
                     SQ_INT(expires_at), SQ_TEXT(sad_hash)));
    return store_one(n, err, LV_ENOTFOUND, "unknown SAD");
}

STORE_FREE(sign_sad, lv_sign_sad_rec, &store_row_sad)

/* ---- pending CSC OTPs
 * ------------------------------------------------------------------ */

STORE_PAIR(sign_otp, lv_sign_otp_rec, &store_row_sign_otp, citizen_id, serial,
           "no OTP was sent for this credential")

STORE_FREE(sign_otp, lv_sign_otp_rec, &store_row_sign_otp)

/* ---- acceptances
 * --------------------------------------------------------------------- */

STORE_ADD(sign_acceptance, lv_sign_acceptance_rec, &store_row_acceptance, r,
          "certificate %s is already accepted", r->serial)
STORE_GET(sign_acceptance, lv_sign_acceptance_rec, &store_row_acceptance,
          serial, "certificate %s is not accepted", serial)
STORE_FREE(sign_acceptance, lv_sign_acceptance_rec, &store_row_acceptance)

/* ---- purge (issue 14 item 6) ---------------------------------------------
 * The transactions a purge takes: expired, or signed or ended, before the
 * cutoff.  The audit trail keeps every event they saw. */
#define TX_GONE                                                                \
    "expires_at < ? OR (signed_at > 0 AND signed_at < ?) OR"                   \
    " (ended_at > 0 AND ended_at < ?)"

static int purge_transactions(lv_store *st, int64_t before, int *count,
                              lv_err *err)
{
    LV_TRY(STORE_RUN(st, NULL, err,
                     "DELETE FROM sign_documents WHERE tx_id IN (SELECT id"
                     " FROM sign_transactions WHERE " TX_GONE ")",
                     SQ_INT(before), SQ_INT(before), SQ_INT(before)));
    return STORE_CHANGED(st, count, err,
                         "DELETE FROM sign_transactions WHERE " TX_GONE,
                         SQ_INT(before), SQ_INT(before), SQ_INT(before));
}

int store_sign_purge(lv_store *st, int64_t before, lv_sign_purged *out,
                     lv_err *err)
{
    int64_t sads = 0, otps = 0;
    memset(out, 0, sizeof *out);
    LV_TRY(purge_transactions(st, before, &out->transactions, err));
    LV_TRY(STORE_RUN(st, &sads, err,
                     "DELETE FROM sign_sads WHERE expires_at < ? OR"
                     " (remaining = 0 AND created_at < ?)",
                     SQ_INT(before), SQ_INT(before)));
    LV_TRY(STORE_RUN(st, &otps, err,
                     "DELETE FROM sign_csc_otps WHERE created_at < ?",
                     SQ_INT(before)));
    out->sads = (int)sads;
    out->csc_otps = (int)otps;
    return 0;
}
