/* The signature field (ISO 32000-1 §12.7.4.5) of a signature or document
 * time-stamp: the signature dictionary (§12.8.1, Table 252), an invisible
 * widget on the first page that is also the field (§12.5.6.19, §12.7.3.1:
 * a field with one widget may share its dictionary), the field in the
 * AcroForm with /SigFlags SignaturesExist | AppendOnly (§12.7.2, Table
 * 219), and the /ByteRange hole: the digest covers the whole file but the
 * /Contents value, its angle brackets included (§12.8.1). */
#include "pades/pades_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ISO 32000-1 §7.9.4; EN 319 142-1 §5.2: the claimed signing time is /M,
 * not a CMS signingTime attribute. */
static void pdf_date(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "D:%Y%m%d%H%M%S+00'00'", &tm);
}

static void put_text(qpdf_data q, qpdf_oh d, const char *key, const char *v)
{
    if (v && *v)
        qpdf_oh_replace_key(q, d, key, qpdf_oh_new_unicode_string(q, v));
}

static qpdf_oh sig_dict(qpdf_data q, const pades_field *f)
{
    qpdf_oh d = qpdf_oh_new_dictionary(q);
    qpdf_oh_replace_key(q, d, "/Type", qpdf_oh_new_name(q, f->type));
    qpdf_oh_replace_key(q, d, "/Filter", qpdf_oh_new_name(q, "/Adobe.PPKLite"));
    qpdf_oh_replace_key(q, d, "/SubFilter", qpdf_oh_new_name(q, f->subfilter));
    if (!f->o)
        return d;
    char m[32];
    pdf_date(f->o->signing_time ? f->o->signing_time : lv_now(), m);
    qpdf_oh_replace_key(q, d, "/M", qpdf_oh_new_string(q, m));
    put_text(q, d, "/Name", f->o->name);
    put_text(q, d, "/Reason", f->o->reason);
    put_text(q, d, "/Location", f->o->location);
    put_text(q, d, "/ContactInfo", f->o->contact);
    return d;
}

static void append_zeros(lv_buf *b, size_t n)
{
    static const char zeros[64] = "00000000000000000000000000000000"
                                  "00000000000000000000000000000000";
    for (; n > 0; n -= n < sizeof zeros ? n : sizeof zeros)
        lv_buf_append(b, zeros, n < sizeof zeros ? n : sizeof zeros);
}

/* qpdf writes the dictionary; /ByteRange and /Contents, whose offsets we
 * need, are appended before its closing ">>". */
static int write_sig(pades_update *u, int id, const pades_field *f,
                     pades_hole *h, lv_err *err)
{
    static const char br[] = "[0 0000000000 0000000000 0000000000]";
    const char *text = qpdf_oh_unparse(u->doc->q, sig_dict(u->doc->q, f));
    size_t n = strlen(text);
    if (n < 2 || strcmp(text + n - 2, ">>") != 0)
        return lv_fail(err, LV_EINTERNAL, "qpdf wrote no dictionary");
    LV_TRY(pades_obj_begin(u, id));
    lv_buf *b = &u->out;
    lv_buf_append(b, text, n - 2);
    lv_buf_append(b, "/ByteRange ", 11);
    h->br_off = b->len;
    h->br_width = sizeof br - 1;
    lv_buf_append(b, br, sizeof br - 1);
    lv_buf_append(b, " /Contents <", 12);
    h->start = b->len - 1;
    append_zeros(b, 2 * f->reserve);
    lv_buf_append(b, ">", 1);
    h->end = b->len;
    lv_buf_append(b, " >>", 3);
    return pades_obj_end(u);
}

static int name_taken(qpdf_data q, qpdf_oh fields, const char *name)
{
    int n =
        qpdf_oh_is_array(q, fields) ? qpdf_oh_get_array_n_items(q, fields) : 0;
    for (int i = 0; i < n; i++) {
        qpdf_oh t =
            qpdf_oh_get_key(q, qpdf_oh_get_array_item(q, fields, i), "/T");
        if (qpdf_oh_is_string(q, t) &&
            strcmp(qpdf_oh_get_utf8_value(q, t), name) == 0)
            return 1;
    }
    return 0;
}

/* §12.7.3.2: partial names of sibling fields are unique. */
static qpdf_oh widget(pades_update *u, int sig_id, qpdf_oh acroform)
{
    qpdf_data q = u->doc->q;
    qpdf_oh fields = qpdf_oh_get_key(q, acroform, "/Fields");
    char name[32];
    int i = 1;
    do
        snprintf(name, sizeof name, "Signature%d", i++);
    while (name_taken(q, fields, name));
    /* /F 132: Print | Locked (§12.5.3); a zero /Rect: invisible */
    qpdf_oh w = qpdf_oh_parse(q, "<< /Type /Annot /Subtype /Widget /FT /Sig "
                                 "/F 132 /Rect [0 0 0 0] >>");
    qpdf_oh_replace_key(q, w, "/T", qpdf_oh_new_string(q, name));
    qpdf_oh_replace_key(q, w, "/V", qpdf_get_object_by_id(q, sig_id, 0));
    qpdf_oh_replace_key(q, w, "/P", qpdf_get_page_n(q, 0));
    return w;
}

/* The AcroForm to change: the catalog's, or a new one. */
static int acroform(pades_update *u, qpdf_oh *acro, qpdf_oh *owner)
{
    qpdf_data q = u->doc->q;
    qpdf_oh root = u->doc->root;
    *acro = qpdf_oh_get_key(q, root, "/AcroForm");
    if (!qpdf_oh_is_dictionary(q, *acro)) {
        int id = pades_new_id(u);
        LV_TRY(pades_put_new(u, id, qpdf_oh_new_dictionary(q)));
        *acro = qpdf_get_object_by_id(q, id, 0);
        qpdf_oh_replace_key(q, root, "/AcroForm", *acro);
        LV_TRY(pades_touch(u, root));
    }
    *owner = qpdf_oh_is_indirect(q, *acro) ? *acro : root;
    return 0;
}

int pades_field_add(pades_update *u, const pades_field *f, pades_hole *h,
                    lv_err *err)
{
    qpdf_data q = u->doc->q;
    qpdf_oh acro, owner, page = qpdf_get_page_n(q, 0);
    int sig_id = pades_new_id(u), w_id = pades_new_id(u);
    LV_TRY(write_sig(u, sig_id, f, h, err));
    LV_TRY(acroform(u, &acro, &owner));
    LV_TRY(pades_put_new(u, w_id, widget(u, sig_id, acro)));
    qpdf_oh w = qpdf_get_object_by_id(q, w_id, 0);
    LV_TRY(pades_array_append(u, page, page, "/Annots", w));
    LV_TRY(pades_array_append(u, owner, acro, "/Fields", w));
    int flags = 0;
    if (!qpdf_oh_get_value_as_int(q, qpdf_oh_get_key(q, acro, "/SigFlags"),
                                  &flags))
        flags = 0;
    qpdf_oh_replace_key(q, acro, "/SigFlags",
                        qpdf_oh_new_integer(q, flags | 3));
    LV_TRY(pades_touch(u, owner));
    return pades_doc_status(u->doc, "cannot add the signature field", err);
}

int pades_hole_digest(lv_buf *out, const pades_hole *h, const EVP_MD *md,
                      unsigned char *digest, unsigned *digest_len, lv_err *err)
{
    char br[64];
    int n = snprintf(br, sizeof br, "[0 %zu %zu %zu]", h->start, h->end,
                     out->len - h->end);
    if (n < 0 || (size_t)n > h->br_width)
        return lv_fail(err, LV_EINTERNAL, "the /ByteRange does not fit");
    memset(out->data + h->br_off, ' ', h->br_width);
    memcpy(out->data + h->br_off, br, (size_t)n);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, md, NULL) &&
             EVP_DigestUpdate(c, out->data, h->start) &&
             EVP_DigestUpdate(c, out->data + h->end, out->len - h->end) &&
             EVP_DigestFinal_ex(c, digest, digest_len);
    EVP_MD_CTX_free(c);
    return ok ? 0 : lv_fail_ssl(err, LV_ECRYPTO, "cannot hash the byte range");
}

int pades_hole_fill(lv_buf *out, const pades_hole *h, const unsigned char *der,
                    size_t len, lv_err *err)
{
    if (2 * len > h->end - h->start - 2)
        return lv_fail(err, LV_EINTERNAL,
                       "the CMS (%zu bytes) is larger than the %zu reserved",
                       len, (h->end - h->start - 2) / 2);
    char *hex = malloc(2 * len + 1);
    if (!hex)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    lv_hex_encode(der, len, hex);
    memcpy(out->data + h->start + 1, hex, 2 * len);
    free(hex);
    return 0;
}
