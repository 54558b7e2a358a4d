/* PDF documents of signature transactions (sql/013_tx_pdf.sql; issue 14
 * item 4): the PDF a document carries and, once the citizen approved, the
 * signed PDF.  No rules here: sign/ parses, hashes and signs. */
#include "store/store_driver.h"

#include <stdlib.h>
#include <string.h>

/* The purge's cutoff, as store_sign_purge states it for the transactions
 * (store_sign.c): expired, or signed or ended, before it. */
#define PDF_TX_GONE                                                            \
    "SELECT id FROM sign_transactions WHERE expires_at < ? OR"                 \
    " (signed_at > 0 AND signed_at < ?) OR (ended_at > 0 AND ended_at < ?)"

static int level_ok(const char *level)
{
    static const char *const LEVELS[] = {"B-B", "B-T", "B-LT", "B-LTA"};
    for (size_t i = 0; i < sizeof LEVELS / sizeof LEVELS[0]; i++)
        if (strcmp(level, LEVELS[i]) == 0)
            return 1;
    return 0;
}

int store_sign_pdf_insert(lv_store *st, const char *tx_id,
                          const lv_sign_pdf_rec *r, lv_err *err)
{
    LV_TRY(store_check_field(r->level, sizeof r->level, "level", err));
    if (!level_ok(r->level) || r->pages < 1 || !r->pdf || r->pdf_len == 0 ||
        (int64_t)r->pdf_len != r->size)
        return lv_fail(err, LV_EINVAL, "bad PDF document row");
    return STORE_RUN(st, NULL, err,
                     "INSERT INTO sign_pdfs (tx_id, seq, level, pages, size,"
                     " pdf, signed_pdf) VALUES (?, ?, ?, ?, ?, ?, NULL)",
                     SQ_TEXT(tx_id), SQ_INT(r->seq), SQ_TEXT(r->level),
                     SQ_INT(r->pages), SQ_INT(r->size),
                     SQ_BLOB(r->pdf, r->pdf_len));
}

/* Columns 0-4 of the SELECTs below. */
static int read_meta(store_q *q, lv_sign_pdf_rec *out)
{
    memset(out, 0, sizeof *out);
    out->seq = (int)store_q_col_int64(q, 0);
    LV_TRY(store_q_col_copy(q, 1, out->level, sizeof out->level));
    out->pages = (int)store_q_col_int64(q, 2);
    out->size = store_q_col_int64(q, 3);
    out->is_signed = store_q_col_int64(q, 4) != 0;
    return 0;
}

#define PDF_META "seq, level, pages, size, signed_pdf IS NOT NULL"

int store_sign_pdf_get(lv_store *st, const char *tx_id, int seq, int signed_,
                       lv_sign_pdf_rec *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    LV_TRY(STORE_Q(&q, st, err,
                   signed_ ? "SELECT " PDF_META ", signed_pdf FROM sign_pdfs"
                             " WHERE tx_id = ? AND seq = ?"
                           : "SELECT " PDF_META ", pdf FROM sign_pdfs"
                             " WHERE tx_id = ? AND seq = ?",
                   SQ_TEXT(tx_id), SQ_INT(seq)));
    int rc = store_q_step(&q);
    if (rc == LV_DB_DONE)
        rc = lv_fail(err, LV_ENOTFOUND, "the document carries no PDF");
    else if (rc == LV_DB_ROW && (rc = read_meta(&q, out)) == 0)
        rc = signed_
                 ? store_q_col_blob(&q, 5, &out->signed_pdf, &out->signed_len)
                 : store_q_col_blob(&q, 5, &out->pdf, &out->pdf_len);
    store_q_finalize(&q);
    if (rc < 0)
        store_sign_pdf_rec_free(out);
    return rc < 0 ? rc : 0;
}

int store_sign_pdf_set_signed(lv_store *st, const char *tx_id, int seq,
                              const unsigned char *pdf, size_t len, lv_err *err)
{
    int64_t n = 0;
    if (!pdf || len == 0)
        return lv_fail(err, LV_EINVAL, "empty signed PDF");
    LV_TRY(STORE_RUN(st, &n, err,
                     "UPDATE sign_pdfs SET signed_pdf = ?"
                     " WHERE tx_id = ? AND seq = ?",
                     SQ_BLOB(pdf, len), SQ_TEXT(tx_id), SQ_INT(seq)));
    return n == 1 ? 0 : lv_fail(err, LV_ENOTFOUND, "no such PDF document");
}

int store_sign_pdf_foreach(lv_store *st, const char *tx_id,
                           STORE_VISIT(lv_sign_pdf_rec), lv_err *err)
{
    store_q q;
    lv_sign_pdf_rec r;
    LV_TRY(STORE_Q(&q, st, err,
                   "SELECT " PDF_META " FROM sign_pdfs WHERE tx_id = ?"
                   " ORDER BY seq",
                   SQ_TEXT(tx_id)));
    int rc;
    while ((rc = store_q_step(&q)) == LV_DB_ROW)
        if ((rc = read_meta(&q, &r)) < 0 || (rc = fn(&r, ctx)) < 0)
            break;
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

void store_sign_pdf_rec_free(lv_sign_pdf_rec *r)
{
    if (!r)
        return;
    free(r->pdf);
    free(r->signed_pdf);
    r->pdf = r->signed_pdf = NULL;
    r->pdf_len = r->signed_len = 0;
}

int store_sign_pdf_purge(lv_store *st, int64_t before, int *count, lv_err *err)
{
    int64_t n = 0;
    int rc = STORE_RUN(st, &n, err,
                       "DELETE FROM sign_pdfs WHERE tx_id IN (" PDF_TX_GONE ")",
                       SQ_INT(before), SQ_INT(before), SQ_INT(before));
    *count = (int)n;
    return rc;
}
