/* One incremental update (ISO 32000-1 §7.5.6): the original bytes stay as
 * they are, and after them come the new and changed objects, a
 * cross-reference section listing only those, and a trailer whose /Prev
 * names the previous section.  Objects qpdf holds (the changed page,
 * AcroForm, catalog; the new widget) are serialized by qpdf
 * (qpdf_oh_unparse_resolved), so that no string escaping or number format
 * is ours; the signature dictionary and streams, whose byte offsets we must
 * know, are written here. */
#include "pades/pades_internal.h"

#include <stdlib.h>
#include <string.h>

int pades_update_begin(pades_update *u, pades_doc *d)
{
    memset(u, 0, sizeof *u);
    u->doc = d;
    lv_buf_append(&u->out, d->pdf, d->len);
    /* the update starts on a line of its own after %%EOF */
    if (d->pdf[d->len - 1] != '\n' && d->pdf[d->len - 1] != '\r')
        lv_buf_append(&u->out, "\n", 1);
    return u->out.error;
}

/* qpdf learns that the object exists (an empty dictionary until replaced):
 * it drops a dictionary entry whose reference names no object (ISO
 * 32000-1 §7.3.10: such a reference is null), and the signature
 * dictionary and streams we write ourselves are referenced before qpdf
 * could see them. */
int pades_new_id(pades_update *u)
{
    int id = u->doc->next_id++;
    qpdf_replace_object(u->doc->q, id, 0, qpdf_oh_new_dictionary(u->doc->q));
    return id;
}

static int touch_id(pades_update *u, int id, int gen)
{
    for (size_t i = 0; i < u->n_touched; i++)
        if (u->touched[i][0] == id)
            return 0;
    if (id <= 0 || u->n_touched == PADES_MAX_OBJS)
        return LV_EINTERNAL;
    u->touched[u->n_touched][0] = id;
    u->touched[u->n_touched++][1] = gen;
    return 0;
}

int pades_touch(pades_update *u, qpdf_oh oh)
{
    qpdf_data q = u->doc->q;
    return touch_id(u, qpdf_oh_get_object_id(q, oh),
                    qpdf_oh_get_generation(q, oh));
}

int pades_put_new(pades_update *u, int id, qpdf_oh dict)
{
    qpdf_replace_object(u->doc->q, id, 0, dict);
    return touch_id(u, id, 0);
}

static int obj_begin_gen(pades_update *u, int id, int gen)
{
    if (u->n == PADES_MAX_OBJS)
        return LV_EINTERNAL;
    u->objs[u->n++] = (pades_xref){.id = id, .gen = gen, .off = u->out.len};
    return lv_buf_appendf(&u->out, "%d %d obj\n", id, gen);
}

int pades_obj_begin(pades_update *u, int id)
{
    return obj_begin_gen(u, id, 0);
}

int pades_obj_end(pades_update *u)
{
    return lv_buf_append(&u->out, "\nendobj\n", 8);
}

/* ISO 32000-1 §7.3.8: /Length counts the bytes between the EOL after
 * "stream" and the EOL before "endstream". */
int pades_obj_stream(pades_update *u, int id, const unsigned char *data,
                     size_t len)
{
    LV_TRY(pades_obj_begin(u, id));
    lv_buf_appendf(&u->out, "<< /Length %zu >>\nstream\n", len);
    lv_buf_append(&u->out, data, len);
    lv_buf_append(&u->out, "\nendstream", 10);
    return pades_obj_end(u);
}

static int write_touched(pades_update *u, lv_err *err)
{
    qpdf_data q = u->doc->q;
    for (size_t i = 0; i < u->n_touched; i++) {
        int id = u->touched[i][0], gen = u->touched[i][1];
        qpdf_oh oh = qpdf_get_object_by_id(q, id, gen);
        if (qpdf_oh_is_stream(q, oh))
            return lv_fail(err, LV_EINTERNAL, "object %d is a stream", id);
        LV_TRY(obj_begin_gen(u, id, gen));
        const char *text = qpdf_oh_unparse_resolved(q, oh);
        lv_buf_append(&u->out, text, strlen(text));
        LV_TRY(pades_obj_end(u));
    }
    return pades_doc_status(u->doc, "qpdf could not write the update", err);
}

static int by_id(const void *a, const void *b)
{
    const pades_xref *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* The entries every trailer of an update carries (ISO 32000-1 §7.5.6,
 * Table 15): /Size, /Root, /Prev, and /Info and /ID kept as they were. */
static void trailer_entries(pades_update *u, lv_buf *b)
{
    qpdf_data q = u->doc->q;
    qpdf_oh t = u->doc->trailer;
    lv_buf_appendf(b, "/Size %d /Root %s /Prev %lld", u->doc->next_id,
                   qpdf_oh_unparse(q, qpdf_oh_get_key(q, t, "/Root")),
                   u->doc->startxref);
    static const char *const keep[] = {"/Info", "/ID"};
    for (size_t i = 0; i < 2; i++)
        if (qpdf_oh_has_key(q, t, keep[i]))
            lv_buf_appendf(b, " %s %s", keep[i],
                           qpdf_oh_unparse(q, qpdf_oh_get_key(q, t, keep[i])));
}

/* The length of the run of consecutive object numbers from objs[i]. */
static size_t run_at(const pades_update *u, size_t i)
{
    size_t n = 1;
    while (i + n < u->n && u->objs[i + n].id == u->objs[i].id + (int)n)
        n++;
    return n;
}

/* ISO 32000-1 §7.5.4: subsections of 20-byte entries. */
static void xref_table(pades_update *u, size_t at)
{
    lv_buf *b = &u->out;
    lv_buf_append(b, "xref\n", 5);
    for (size_t i = 0; i < u->n;) {
        size_t n = run_at(u, i);
        lv_buf_appendf(b, "%d %zu\n", u->objs[i].id, n);
        for (size_t k = i; k < i + n; k++)
            lv_buf_appendf(b, "%010zu %05d n \n", u->objs[k].off,
                           u->objs[k].gen);
        i += n;
    }
    lv_buf_append(b, "trailer\n<< ", 11);
    trailer_entries(u, b);
    lv_buf_appendf(b, " >>\nstartxref\n%zu\n%%%%EOF\n", at);
}

/* Table 18: type 1 (in use), offset, generation, big-endian. */
static void xref_row(lv_buf *rows, const pades_xref *x)
{
    unsigned char row[7] = {1,
                            (unsigned char)(x->off >> 24),
                            (unsigned char)(x->off >> 16),
                            (unsigned char)(x->off >> 8),
                            (unsigned char)x->off,
                            (unsigned char)(x->gen >> 8),
                            (unsigned char)x->gen};
    lv_buf_append(rows, row, sizeof row);
}

/* ISO 32000-1 §7.5.8: a cross-reference stream, unfiltered, /W [1 4 2]
 * (type 1, a 4-byte offset, a 2-byte generation), for a file whose last
 * section already is one. */
static int xref_stream(pades_update *u, lv_err *err)
{
    size_t at = u->out.len;
    LV_TRY(pades_obj_begin(u, pades_new_id(u)));
    qsort(u->objs, u->n, sizeof u->objs[0], by_id);
    lv_buf idx = {0}, rows = {0};
    for (size_t i = 0; i < u->n; i += run_at(u, i))
        lv_buf_appendf(&idx, "%s%d %zu", i ? " " : "", u->objs[i].id,
                       run_at(u, i));
    for (size_t k = 0; k < u->n; k++)
        xref_row(&rows, &u->objs[k]);
    lv_buf_append(&u->out, "<< /Type /XRef ", 15);
    trailer_entries(u, &u->out);
    lv_buf_appendf(&u->out, " /W [1 4 2] /Index [%.*s] /Length %zu >>\n",
                   (int)idx.len, (const char *)idx.data, rows.len);
    lv_buf_append(&u->out, "stream\n", 7);
    lv_buf_append(&u->out, rows.data, rows.len);
    lv_buf_append(&u->out, "\nendstream", 10);
    int rc = idx.error ? idx.error : rows.error;
    lv_buf_free(&idx);
    lv_buf_free(&rows);
    LV_TRY(pades_obj_end(u));
    lv_buf_appendf(&u->out, "startxref\n%zu\n%%%%EOF\n", at);
    return rc ? lv_fail(err, rc, "out of memory") : 0;
}

int pades_update_finish(pades_update *u, lv_err *err)
{
    LV_TRY(write_touched(u, err));
    if (u->out.len > 0xFFFFFFFFu - 4096)
        return lv_fail(err, LV_ETOOBIG, "the signed PDF would exceed 4 GiB");
    if (u->doc->xref_stream)
        LV_TRY(xref_stream(u, err));
    else {
        qsort(u->objs, u->n, sizeof u->objs[0], by_id);
        xref_table(u, u->out.len);
    }
    if (u->out.error)
        return lv_fail(err, u->out.error, "out of memory");
    return 0;
}

int pades_array_append(pades_update *u, qpdf_oh owner, qpdf_oh dict,
                       const char *key, qpdf_oh item)
{
    qpdf_data q = u->doc->q;
    qpdf_oh arr = qpdf_oh_get_key(q, dict, key);
    if (qpdf_oh_is_array(q, arr)) {
        qpdf_oh_append_item(q, arr, item);
        return pades_touch(u, qpdf_oh_is_indirect(q, arr) ? arr : owner);
    }
    arr = qpdf_oh_new_array(q);
    qpdf_oh_append_item(q, arr, item);
    qpdf_oh_replace_key(q, dict, key, arr);
    return pades_touch(u, owner);
}
