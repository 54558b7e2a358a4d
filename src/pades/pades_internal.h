/* pades/ internals: the document as qpdf parsed it, the incremental update
 * being written, the signature field and its /ByteRange hole, the CMS. */
#ifndef LLAVE_PADES_INTERNAL_H
#define LLAVE_PADES_INTERNAL_H

#include "pades/pades.h"

#include <qpdf/qpdf-c.h>

/* ---- the input, parsed by qpdf (pades_doc.c) ---------------------------- */
typedef struct pades_doc {
    qpdf_data q;
    const unsigned char *pdf;
    size_t len;
    qpdf_oh root;
    qpdf_oh trailer;
    int next_id;         /* the next unused object number: trailer /Size */
    long long startxref; /* the last cross-reference section: /Prev */
    int xref_stream;     /* the last section is a cross-reference stream */
} pades_doc;

/* Parses pdf (at most max_len bytes) and refuses what cannot be signed. */
int pades_doc_open(pades_doc *d, const unsigned char *pdf, size_t len,
                   size_t max_len, lv_err *err) LV_MUST_USE;
void pades_doc_close(pades_doc *d);
/* LV_EINVAL naming qpdf's first error or warning, if any since the last
 * call; else 0. */
int pades_doc_status(pades_doc *d, const char *what, lv_err *err) LV_MUST_USE;

/* ---- one incremental update (pades_update.c) ---------------------------- */
#define PADES_MAX_OBJS 64

typedef struct pades_xref {
    int id;
    int gen;
    size_t off; /* from the start of the file */
} pades_xref;

typedef struct pades_update {
    pades_doc *doc;
    lv_buf out; /* the whole file: the original, then the update */
    pades_xref objs[PADES_MAX_OBJS];
    size_t n;
    int touched[PADES_MAX_OBJS][2]; /* objects to rewrite from qpdf */
    size_t n_touched;
} pades_update;

/* Starts out as a copy of the document. */
int pades_update_begin(pades_update *u, pades_doc *d) LV_MUST_USE;
/* A new object number (>= the trailer's /Size). */
int pades_new_id(pades_update *u);
/* Marks an indirect object qpdf holds (changed or new) to be written. */
int pades_touch(pades_update *u, qpdf_oh oh) LV_MUST_USE;
/* Makes dict the new indirect object id in qpdf and marks it. */
int pades_put_new(pades_update *u, int id, qpdf_oh dict) LV_MUST_USE;
/* "id 0 obj\n" (recording its offset) ... "\nendobj\n". */
int pades_obj_begin(pades_update *u, int id) LV_MUST_USE;
int pades_obj_end(pades_update *u) LV_MUST_USE;
/* A stream object holding data as it is (no filter). */
int pades_obj_stream(pades_update *u, int id, const unsigned char *data,
                     size_t len) LV_MUST_USE;
/* Writes the touched objects, the cross-reference section and the trailer
 * (or a cross-reference stream), startxref and %%EOF. */
int pades_update_finish(pades_update *u, lv_err *err) LV_MUST_USE;

/* Appends item to the array dict[key] (creating it), touching what holds
 * the array: the array itself when indirect, else owner. */
int pades_array_append(pades_update *u, qpdf_oh owner, qpdf_oh dict,
                       const char *key, qpdf_oh item) LV_MUST_USE;

/* ---- the signature field and its hole (pades_field.c) ------------------- */
typedef struct pades_field {
    const char *type;      /* "/Sig" or "/DocTimeStamp" */
    const char *subfilter; /* "/ETSI.CAdES.detached" or "/ETSI.RFC3161" */
    size_t reserve;        /* bytes kept for the DER in /Contents */
    const pades_opts *o;   /* /M, /Name, ... (signatures only); or NULL */
} pades_field;

typedef struct pades_hole {
    size_t br_off;   /* the /ByteRange array's '[' */
    size_t br_width; /* bytes kept for it */
    size_t start;    /* the '<' of /Contents */
    size_t end;      /* after its '>' */
} pades_hole;

/* Adds the signature (or document time-stamp) dictionary, its field and
 * widget, to the first page and the AcroForm. */
int pades_field_add(pades_update *u, const pades_field *f, pades_hole *h,
                    lv_err *err) LV_MUST_USE;
/* Fills /ByteRange around the hole in the finished file and writes md over
 * the bytes it covers to digest. */
int pades_hole_digest(lv_buf *out, const pades_hole *h, const EVP_MD *md,
                      unsigned char *digest, unsigned *digest_len,
                      lv_err *err) LV_MUST_USE;
/* Writes der, in hex, into the hole. */
int pades_hole_fill(lv_buf *out, const pades_hole *h, const unsigned char *der,
                    size_t len, lv_err *err) LV_MUST_USE;

/* ---- CMS and time-stamps (pades_cms.c, pades_ts.c) ---------------------- */
/* The bytes to keep in /Contents for the CMS of o. */
size_t pades_cms_reserve(const pades_opts *o);
/* The CMS SignedData (detached) over the byte range's digest; *der is
 * malloc'd. */
int pades_cms(const pades_opts *o, const unsigned char *digest,
              unsigned char **der, size_t *der_len, lv_err *err) LV_MUST_USE;
/* Calls the time-stamp callback for digest (md over the stamped data) and
 * checks that the token's imprint is that digest; *token is malloc'd. */
int pades_ts_token(const pades_opts *o, const EVP_MD *md,
                   const unsigned char *digest, size_t digest_len,
                   unsigned char **token, size_t *token_len,
                   lv_err *err) LV_MUST_USE;

/* ---- the DSS (pades_dss.c) ---------------------------------------------- */
/* EN 319 142-1 §5.4.2: the validation material of o in the catalog's
 * /DSS. */
int pades_dss_add(pades_update *u, const pades_opts *o,
                  lv_err *err) LV_MUST_USE;

#endif
