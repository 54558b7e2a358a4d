/* The input PDF as qpdf parses it.  qpdf, not pades/, decides whether the
 * bytes are a PDF: it reads them with recovery off (so a file whose
 * cross-reference data is wrong is refused rather than silently rebuilt,
 * and the last section is the one the file's own startxref names), and a
 * full check (every object read, every stream decoded, as `qpdf --check`)
 * must pass without an error or a warning.  A signature covers exactly
 * the bytes a reader interprets: a damaged file that readers repair each
 * their own way is refused. */
#include "pades/pades_internal.h"

#include <string.h>

static int qpdf_message(qpdf_data q, const char *what, lv_err *err)
{
    qpdf_error e = qpdf_has_error(q) ? qpdf_get_error(q) : qpdf_next_warning(q);
    const char *text = e ? qpdf_get_error_full_text(q, e) : "unknown";
    return lv_fail(err, LV_EINVAL, "%s: %s", what, text);
}

int pades_doc_status(pades_doc *d, const char *what, lv_err *err)
{
    if (qpdf_has_error(d->q) || qpdf_more_warnings(d->q))
        return qpdf_message(d->q, what, err);
    return 0;
}

static qpdf_data qpdf_open(const unsigned char *pdf, size_t len)
{
    qpdf_data q = qpdf_init();
    qpdf_silence_errors(q);
    qpdf_set_suppress_warnings(q, QPDF_TRUE);
    qpdf_set_attempt_recovery(q, QPDF_FALSE);
    (void)qpdf_read_memory(q, "the PDF", (const char *)pdf, len, NULL);
    return q;
}

/* qpdf's own check (qpdf_check_pdf) is a write of the whole file with
 * every stream decoded (qpdf_dl_all) into a discarding pipeline.  Done
 * here with stream compression off, which only changes how the discarded
 * copy would be encoded: qpdf's writer otherwise deflates every stream
 * again, most of the time a large PDF takes to sign (bench/sign). */
static int check_write(qpdf_data q)
{
    /* the writer exists from qpdf_init_write_memory on */
    if (qpdf_init_write_memory(q) != QPDF_SUCCESS)
        return 1;
    qpdf_set_decode_level(q, qpdf_dl_all);
    qpdf_set_compress_streams(q, QPDF_FALSE);
    return qpdf_write(q) != QPDF_SUCCESS;
}

/* A separate instance: the check writes the whole file (to nowhere), and
 * the instance that later serializes our changes must not have been
 * touched by a writer. */
static int full_check(const unsigned char *pdf, size_t len, lv_err *err)
{
    qpdf_data q = qpdf_open(pdf, len);
    qpdf_error e = qpdf_has_error(q) ? qpdf_get_error(q) : NULL;
    int rc = 0;
    if (e && qpdf_get_error_code(q, e) == qpdf_e_password)
        /* a user password: qpdf cannot even open it without one */
        rc = lv_fail(err, LV_EINVAL,
                     "the PDF is encrypted (it needs a password to open): "
                     "decrypt it before signing");
    else if (qpdf_has_error(q) || qpdf_more_warnings(q))
        rc = qpdf_message(q, "not a well-formed PDF", err);
    else if (qpdf_is_encrypted(q))
        /* ISO 32000-1 §7.6: the update's strings and streams would have to
         * be encrypted too, and the signer would sign ciphertext */
        rc = lv_fail(err, LV_EINVAL,
                     "the PDF is encrypted: decrypt it before signing");
    else if (check_write(q) || qpdf_more_warnings(q))
        rc = qpdf_message(q, "the PDF fails qpdf's check", err);
    qpdf_cleanup(&q);
    return rc;
}

/* ISO 32000-1 §7.5.5: the file ends with "startxref", the offset of the
 * last cross-reference section, and %%EOF, within its last 1024 bytes.
 * qpdf has read the file from that same offset (recovery off), so this
 * only recovers the number qpdf's C API does not expose, for /Prev. */
static int find_startxref(pades_doc *d, lv_err *err)
{
    static const char kw[] = "startxref";
    size_t from = d->len > 1024 ? d->len - 1024 : 0, at = 0;
    for (size_t i = from; i + sizeof kw - 1 <= d->len; i++)
        if (memcmp(d->pdf + i, kw, sizeof kw - 1) == 0)
            at = i + sizeof kw - 1;
    while (at && at < d->len && strchr(" \t\r\n", d->pdf[at]))
        at++;
    long long v = -1;
    for (; at && at < d->len && d->pdf[at] >= '0' && d->pdf[at] <= '9'; at++)
        v = (v < 0 ? 0 : v * 10) + (d->pdf[at] - '0');
    if (v < 0 || (unsigned long long)v >= d->len)
        return lv_fail(err, LV_EINVAL, "the PDF has no startxref offset");
    d->startxref = v;
    return 0;
}

static int read_trailer(pades_doc *d, lv_err *err)
{
    qpdf_data q = d->q;
    d->root = qpdf_get_root(q);
    d->trailer = qpdf_get_trailer(q);
    qpdf_oh size = qpdf_oh_get_key(q, d->trailer, "/Size");
    if (!qpdf_oh_get_value_as_int(q, size, &d->next_id) || d->next_id < 1 ||
        !qpdf_oh_is_dictionary(q, d->root))
        return lv_fail(err, LV_EINVAL, "the PDF trailer has no /Size or /Root");
    /* qpdf gives the cross-reference stream's dictionary as the trailer
     * when the last section is one (ISO 32000-1 §7.5.8.2) */
    d->xref_stream = qpdf_oh_is_name_and_equals(
        q, qpdf_oh_get_key(q, d->trailer, "/Type"), "/XRef");
    if (qpdf_get_num_pages(q) < 1)
        return lv_fail(err, LV_EINVAL, "the PDF has no page to sign on");
    return pades_doc_status(d, "the PDF's catalog", err);
}

int pades_doc_open(pades_doc *d, const unsigned char *pdf, size_t len,
                   size_t max_len, lv_err *err)
{
    memset(d, 0, sizeof *d);
    if (len > (max_len ? max_len : PADES_MAX_DOC))
        return lv_fail(err, LV_ETOOBIG, "the PDF is larger than %zu bytes",
                       max_len ? max_len : PADES_MAX_DOC);
    /* at byte 0: qpdf (like readers) would accept a header further in and
     * shift every offset by it, and our offsets count from byte 0 */
    if (len < 8 || memcmp(pdf, "%PDF-", 5) != 0)
        return lv_fail(err, LV_EINVAL, "not a PDF (no %%PDF- header)");
    LV_TRY(full_check(pdf, len, err));
    d->pdf = pdf;
    d->len = len;
    d->q = qpdf_open(pdf, len);
    int rc = pades_doc_status(d, "not a well-formed PDF", err);
    if (rc == 0)
        rc = read_trailer(d, err);
    if (rc == 0)
        rc = find_startxref(d, err);
    if (rc < 0)
        pades_doc_close(d);
    return rc;
}

void pades_doc_close(pades_doc *d)
{
    if (d->q)
        qpdf_cleanup(&d->q);
}
