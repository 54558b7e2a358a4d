/* store/store_sign.h — remote signing's rows (sql/008_sign.sql): relying
 * applications, signature transactions and their documents, CSC SADs, OTP
 * bindings, the acceptance of each credential.  Owner: sign/. */
#ifndef LLAVE_STORE_SIGN_H
#define LLAVE_STORE_SIGN_H

#include "core/core.h"
#include "store/store.h"

#include <stdint.h>

/* ---- remote signing (sql/008_sign.sql; the rules live in sign/) -------
 * Plain rows: sign/ decides, hashes and signs.  Changes run inside the
 * caller's transaction next to its audit entry. */
typedef struct lv_sign_app_rec {
    char client_id[40];
    char name[129];
    char secret_hash[65]; /* SHA-256 hex of the client secret */
    int enabled;
    int64_t created_at;
    char created_by[128];
} lv_sign_app_rec;

STORE_KEYED(sign_app, lv_sign_app_rec, client_id);
/* In creation order. */
int store_sign_app_foreach(lv_store *st, STORE_VISIT(lv_sign_app_rec),
                           lv_err *err) LV_MUST_USE;

typedef struct lv_sign_tx_rec {
    char id[33];
    char app_id[40];
    char citizen_id[72];
    char owner[64];      /* the person id (IDCES-...) */
    char digest_alg[16]; /* sha256, sha384, sha512 */
    char state[16];      /* pending, otp_sent, signed, failed, ended */
    char cert_serial[65];
    char accept_serial[65];
    char redirect_ok[1024];
    char redirect_error[1024];
    char otp_id[33];
    char error[256];
    int64_t created_at;
    int64_t expires_at;
    int64_t signed_at;
    int64_t ended_at;
} lv_sign_tx_rec;

STORE_KEYED(sign_tx, lv_sign_tx_rec, id);
/* Writes state, cert_serial, accept_serial, otp_id, error, signed_at and
 * ended_at when the stored state is `from` (NULL: any); LV_ESTATE when it
 * is not (a concurrent request moved it first), LV_ENOTFOUND for no row. */
int store_sign_tx_update(lv_store *st, const lv_sign_tx_rec *rec,
                         const char *from, lv_err *err) LV_MUST_USE;

/* A citizen's transactions, newest first (the portal's history, issue 15
 * item 4). */
int store_sign_tx_foreach_citizen(lv_store *st, const char *citizen_id,
                                  STORE_VISIT(lv_sign_tx_rec),
                                  lv_err *err) LV_MUST_USE;

/* docs/API.md limits a document's id to 128 characters, name and title to
 * 255: room for 4 bytes of UTF-8 each (RFC 3629 §3). */
typedef struct lv_sign_doc_rec {
    int seq;
    char doc_id[4 * 128 + 1];
    char name[4 * 255 + 1];
    char title[4 * 255 + 1];
    unsigned char digest[64];
    size_t digest_len;
    unsigned char *signature; /* owned; NULL until signed */
    size_t signature_len;
} lv_sign_doc_rec;

int store_sign_doc_insert(lv_store *st, const char *tx_id,
                          const lv_sign_doc_rec *rec, lv_err *err) LV_MUST_USE;
int store_sign_doc_set_signature(lv_store *st, const char *tx_id, int seq,
                                 const unsigned char *sig, size_t len,
                                 lv_err *err) LV_MUST_USE;
/* In seq order; fn must not keep rec->signature. */
int store_sign_doc_foreach(lv_store *st, const char *tx_id,
                           STORE_VISIT(lv_sign_doc_rec),
                           lv_err *err) LV_MUST_USE;

typedef struct lv_sign_sad_rec {
    char sad_hash[65]; /* SHA-256 hex of the SAD */
    char citizen_id[72];
    char serial[65];
    char digest_alg[16];
    unsigned char *hashes; /* owned: the authorized digests end to end */
    size_t hashes_len;
    int remaining;
    int64_t created_at;
    int64_t expires_at;
} lv_sign_sad_rec;

STORE_KEYED(sign_sad, lv_sign_sad_rec, sad_hash);
/* remaining -= n if remaining >= n and expires_at > now; LV_ESTATE when
 * not (used up, expired, or a concurrent request took it first). */
int store_sign_sad_consume(lv_store *st, const char *sad_hash, int n,
                           int64_t now, lv_err *err) LV_MUST_USE;
/* remaining += n for the citizen's unexpired SAD: the signatures a
 * signDoc consumed but never returned (a time-stamp refused after the
 * signature); LV_ESTATE when there is no such SAD. */
int store_sign_sad_release(lv_store *st, const char *sad_hash,
                           const char *citizen_id, int n, int64_t now,
                           lv_err *err) LV_MUST_USE;
/* expires_at of a SAD (credentials/extendTransaction). */
int store_sign_sad_extend(lv_store *st, const char *sad_hash,
                          int64_t expires_at, lv_err *err) LV_MUST_USE;
void store_sign_sad_rec_free(lv_sign_sad_rec *rec);

typedef struct lv_sign_otp_rec {
    char citizen_id[72];
    char serial[65];
    char otp_id[33];
    char digest_alg[16];
    unsigned char *hashes; /* owned; NULL when unbound */
    size_t hashes_len;
    int64_t created_at;
} lv_sign_otp_rec;

/* One row for each (citizen_id, serial). */
STORE_PAIRED(sign_otp, lv_sign_otp_rec, citizen_id, serial);
void store_sign_otp_rec_free(lv_sign_otp_rec *rec);

/* Issue 14 item 6: what a purge removed. */
typedef struct lv_sign_purged {
    int transactions; /* with their documents */
    int sads;
    int csc_otps;
} lv_sign_purged;
/* Deletes, in the caller's transaction, the transactions (and their
 * documents) that expired, were signed or ended before `before`, the SADs
 * expired or used up before it and the CSC OTP bindings made before it. */
int store_sign_purge(lv_store *st, int64_t before, lv_sign_purged *out,
                     lv_err *err) LV_MUST_USE;

typedef struct lv_sign_acceptance_rec {
    char serial[65];
    char citizen_id[72];
    char *sheet; /* owned */
    char digest_alg[16];
    unsigned char *signature; /* owned */
    size_t signature_len;
    char channel[16]; /* "transaction", "csc" */
    int64_t accepted_at;
} lv_sign_acceptance_rec;

/* get: LV_ENOTFOUND while the certificate is not accepted. */
STORE_KEYED(sign_acceptance, lv_sign_acceptance_rec, serial);
void store_sign_acceptance_rec_free(lv_sign_acceptance_rec *rec);

/* ---- PDF documents of transactions (sql/013_tx_pdf.sql; store_docs.c) --
 * The PDF a transaction document carries (same tx_id and seq as its
 * sign_documents row) and, once signed, the signed PDF. */
typedef struct lv_sign_pdf_rec {
    int seq;
    char level[8]; /* B-B, B-T, B-LT, B-LTA */
    int pages;
    int64_t size;       /* bytes of the PDF as sent */
    int is_signed;      /* signed_pdf is stored */
    unsigned char *pdf; /* owned; NULL unless asked for */
    size_t pdf_len;
    unsigned char *signed_pdf; /* owned; NULL unless asked for and signed */
    size_t signed_len;
} lv_sign_pdf_rec;

int store_sign_pdf_insert(lv_store *st, const char *tx_id,
                          const lv_sign_pdf_rec *rec, lv_err *err) LV_MUST_USE;
/* One row with the PDF (signed 0) or the signed PDF (signed 1) read into
 * *out; LV_ENOTFOUND when the document carries no PDF. */
int store_sign_pdf_get(lv_store *st, const char *tx_id, int seq, int signed_,
                       lv_sign_pdf_rec *out, lv_err *err) LV_MUST_USE;
int store_sign_pdf_set_signed(lv_store *st, const char *tx_id, int seq,
                              const unsigned char *pdf, size_t len,
                              lv_err *err) LV_MUST_USE;
/* In seq order, without the PDFs (pdf and signed_pdf NULL). */
int store_sign_pdf_foreach(lv_store *st, const char *tx_id,
                           STORE_VISIT(lv_sign_pdf_rec),
                           lv_err *err) LV_MUST_USE;
void store_sign_pdf_rec_free(lv_sign_pdf_rec *rec);
/* Deletes, in the caller's transaction, the PDFs of the transactions
 * store_sign_purge removes with the same `before` (call it first). */
int store_sign_pdf_purge(lv_store *st, int64_t before, int *count,
                         lv_err *err) LV_MUST_USE;

#endif
