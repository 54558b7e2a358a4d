/* A CRL v2 (RFC 5280 §5.1) encoded as a stream (issue 17 item 5).
 *
 * OpenSSL's X509_CRL keeps an X509_REVOKED object, with its own
 * allocations, for every entry: 1 000 000 entries took 5-11 s and
 * 400-800 MiB.  Here an entry is a 56-byte record until the list is sorted,
 * then DER bytes in one buffer; the TBSCertList is hashed and signed (by
 * keyd, through ca_key_sign_init) part by part, so no copy of it is made
 * before the final one.  OpenSSL still writes every byte: i2d_* for each
 * value (INTEGER, Time, Name, AlgorithmIdentifier, Extension) and
 * ASN1_put_object for the headers of the SEQUENCEs assembled here.  The
 * result equals, byte for byte, what X509_CRL_sort + X509_CRL_sign_ctx
 * make of the same CRL. */
#include "crl/crl_internal.h"

#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#define ENTRY_MAX 256 /* one entry's DER: serial, two times, two extensions */

/* ---- the list ------------------------------------------------------------ */

int crl_list_add(crl_list *l, const lv_crl_entry *e)
{
    unsigned char raw[32];
    int n = lv_hex_decode(e->serial, raw, sizeof raw);
    if (n <= 0)
        return LV_ESTORE;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        crl_revoked *grown = realloc(l->items, cap * sizeof *grown);
        if (grown == NULL)
            return LV_ENOMEM;
        l->items = grown;
        l->cap = cap;
    }
    crl_revoked *r = &l->items[l->n++];
    int skip = 0; /* INTEGER content is minimal: no leading zero octets */
    while (skip < n - 1 && raw[skip] == 0)
        skip++;
    memcpy(r->serial, raw + skip, (size_t)(n - skip));
    r->serial_len = (unsigned char)(n - skip);
    /* RFC 5280 §5.3.1: reasonCode is absent rather than "unspecified" */
    r->reason = e->reason > 0 && e->reason <= 10 ? (unsigned char)e->reason : 0;
    r->revoked_at = e->revoked_at;
    r->invalidity_date = e->invalidity_date;
    return 0;
}

void crl_list_free(crl_list *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* Serial order, as X509_CRL_sort (ASN1_STRING_cmp: length, then bytes):
 * the CRL is reproducible and bisectable. */
static int revoked_cmp(const void *a, const void *b)
{
    const crl_revoked *x = a, *y = b;
    if (x->serial_len != y->serial_len)
        return x->serial_len < y->serial_len ? -1 : 1;
    return memcmp(x->serial, y->serial, x->serial_len);
}

/* ---- DER pieces -------------------------------------------------------- */

static int der_header(lv_buf *b, int constructed, size_t len, int tag,
                      int xclass)
{
    unsigned char hdr[8], *p = hdr;
    if (len > INT32_MAX)
        return LV_ETOOBIG;
    ASN1_put_object(&p, constructed, (int)len, tag, xclass);
    return lv_buf_append(b, hdr, (size_t)(p - hdr));
}

static int der_seq(lv_buf *b, size_t len)
{
    return der_header(b, 1, len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
}

/* Appends i2d's encoding of obj (i2d called twice: size, then bytes).
 * CHECKED_I2D_OF is OpenSSL's own type-checked cast for this. */
static int der_i2d(lv_buf *b, i2d_of_void *i2d, const void *obj)
{
    unsigned char small[ENTRY_MAX], *big = NULL;
    int n = i2d(obj, NULL);
    if (n <= 0)
        return LV_ECRYPTO;
    unsigned char *start =
        n > ENTRY_MAX ? (big = OPENSSL_malloc((size_t)n)) : small;
    unsigned char *p = start;
    int rc = start == NULL ? LV_ENOMEM : i2d(obj, &p) == n ? 0 : LV_ECRYPTO;
    if (rc == 0)
        rc = lv_buf_append(b, start, (size_t)n);
    OPENSSL_free(big);
    return rc;
}
#define DER_I2D(b, type, i2d, obj)                                             \
    der_i2d((b), CHECKED_I2D_OF(type, i2d), (obj))

/* An extension's DER from its value (X509V3_EXT_i2d), non-critical. */
static int der_ext(lv_buf *b, int nid, void *value)
{
    X509_EXTENSION *ext = value ? X509V3_EXT_i2d(nid, 0, value) : NULL;
    int rc =
        ext ? DER_I2D(b, X509_EXTENSION, i2d_X509_EXTENSION, ext) : LV_ECRYPTO;
    X509_EXTENSION_free(ext);
    return rc;
}

/* ---- entries ------------------------------------------------------------ */

/* OpenSSL encodes each distinct value once: a million entries carry ten
 * reason codes and far fewer distinct times than entries (revocations come
 * in bursts, and the list is sorted by serial, not by time, so only the
 * last value is kept).  The cached bytes are OpenSSL's own output. */
typedef struct der_memo {
    int64_t key; /* the value encoded (when len > 0) */
    unsigned char der[48];
    size_t len;
} der_memo;

typedef struct entry_scratch {
    ASN1_INTEGER *serial;
    ASN1_TIME *time;
    ASN1_ENUMERATED *reason;
    der_memo reason_ext[11]; /* CRLReason extension by code (1..10) */
    der_memo revoked_at;     /* revocationDate */
    der_memo invalidity;     /* invalidityDate extension */
    lv_buf tmp;              /* one value's DER, reused */
    lv_buf exts;             /* one entry's extensions, reused */
    lv_buf body;             /* one entry's content, reused */
} entry_scratch;

/* Appends m's DER of key, encoding it first with encode() when m holds
 * another value. */
static int memo_append(lv_buf *b, der_memo *m, int64_t key, entry_scratch *s,
                       int (*encode)(entry_scratch *, int64_t, lv_buf *))
{
    if (m->key != key || m->len == 0) {
        s->tmp.len = 0;
        int rc = encode(s, key, &s->tmp);
        if (rc < 0)
            return rc;
        if (s->tmp.len > sizeof m->der)
            return LV_EINTERNAL;
        memcpy(m->der, s->tmp.data, s->tmp.len);
        m->len = s->tmp.len;
        m->key = key;
    }
    return lv_buf_append(b, m->der, m->len);
}

static int encode_reason(entry_scratch *s, int64_t code, lv_buf *out)
{
    return ASN1_ENUMERATED_set(s->reason, (long)code)
               ? der_ext(out, NID_crl_reason, s->reason)
               : LV_ECRYPTO;
}

/* RFC 5280 §5.3.2: invalidityDate is always GeneralizedTime */
static int encode_invalidity(entry_scratch *s, int64_t t, lv_buf *out)
{
    (void)s;
    ASN1_GENERALIZEDTIME *g = ASN1_GENERALIZEDTIME_set(NULL, (time_t)t);
    int rc = der_ext(out, NID_invalidity_date, g);
    ASN1_GENERALIZEDTIME_free(g);
    return rc;
}

static int encode_time(entry_scratch *s, int64_t t, lv_buf *out)
{
    return ASN1_TIME_set(s->time, (time_t)t)
               ? DER_I2D(out, ASN1_TIME, i2d_ASN1_TIME, s->time)
               : LV_ECRYPTO;
}

static int entry_exts(entry_scratch *s, const crl_revoked *r)
{
    int rc = 0;
    s->exts.len = 0;
    if (r->reason)
        rc = memo_append(&s->exts, &s->reason_ext[r->reason], r->reason, s,
                         encode_reason);
    if (rc == 0 && r->invalidity_date > 0)
        rc = memo_append(&s->exts, &s->invalidity, r->invalidity_date, s,
                         encode_invalidity);
    return rc;
}

/* revokedCertificate ::= SEQUENCE { userCertificate, revocationDate,
 * crlEntryExtensions OPTIONAL } */
static int entry_der(lv_buf *out, entry_scratch *s, const crl_revoked *r)
{
    s->body.len = 0;
    int rc = ASN1_STRING_set(s->serial, r->serial, r->serial_len)
                 ? DER_I2D(&s->body, ASN1_INTEGER, i2d_ASN1_INTEGER, s->serial)
                 : LV_ECRYPTO;
    if (rc == 0)
        rc = memo_append(&s->body, &s->revoked_at, r->revoked_at, s,
                         encode_time);
    if (rc == 0)
        rc = entry_exts(s, r);
    if (rc == 0 && s->exts.len > 0) {
        rc = der_seq(&s->body, s->exts.len);
        if (rc == 0)
            rc = lv_buf_append(&s->body, s->exts.data, s->exts.len);
    }
    if (rc == 0)
        rc = der_seq(out, s->body.len);
    return rc == 0 ? lv_buf_append(out, s->body.data, s->body.len) : rc;
}

/* Sorts l and encodes it into out, freeing the records as soon as they
 * are bytes (the two never both hold a million entries for long). */
static int entries_der(crl_list *l, lv_buf *out)
{
    entry_scratch s = {.serial = ASN1_INTEGER_new(),
                       .time = ASN1_TIME_new(),
                       .reason = ASN1_ENUMERATED_new()};
    int rc = s.serial && s.time && s.reason ? 0 : LV_ENOMEM;
    if (l->n > 1)
        qsort(l->items, l->n, sizeof *l->items, revoked_cmp);
    for (size_t i = 0; rc == 0 && i < l->n; i++)
        rc = entry_der(out, &s, &l->items[i]);
    crl_list_free(l);
    ASN1_INTEGER_free(s.serial);
    ASN1_TIME_free(s.time);
    ASN1_ENUMERATED_free(s.reason);
    lv_buf_free(&s.tmp);
    lv_buf_free(&s.exts);
    lv_buf_free(&s.body);
    return rc;
}

/* ---- the TBSCertList ------------------------------------------------------
 */

/* AlgorithmIdentifier of sha256 with the issuer's key type, as
 * ASN1_item_sign_ctx writes it: NULL parameters for RSA (RFC 4055 §5),
 * none for ECDSA (RFC 5758 §3.2). */
static int der_sigalg(lv_buf *b, const X509 *issuer)
{
    EVP_PKEY *pk = X509_get0_pubkey(issuer);
    int type = pk ? EVP_PKEY_get_base_id(pk) : NID_undef, sig = NID_undef;
    if ((type != EVP_PKEY_RSA && type != EVP_PKEY_EC) ||
        !OBJ_find_sigid_by_algs(&sig, NID_sha256, type))
        return LV_EINVAL;
    X509_ALGOR *alg = X509_ALGOR_new();
    int rc = alg && X509_ALGOR_set0(
                        alg, OBJ_nid2obj(sig),
                        type == EVP_PKEY_RSA ? V_ASN1_NULL : V_ASN1_UNDEF, NULL)
                 ? DER_I2D(b, X509_ALGOR, i2d_X509_ALGOR, alg)
                 : LV_ENOMEM;
    X509_ALGOR_free(alg);
    return rc;
}

static int der_time(lv_buf *b, int64_t t)
{
    ASN1_TIME *at = ASN1_TIME_set(NULL, (time_t)t);
    int rc = at ? DER_I2D(b, ASN1_TIME, i2d_ASN1_TIME, at) : LV_ENOMEM;
    ASN1_TIME_free(at);
    return rc;
}

/* version, signature, issuer, thisUpdate, nextUpdate */
static int tbs_head(lv_buf *b, const crl_fields *f)
{
    ASN1_INTEGER *v2 = ASN1_INTEGER_new();
    int rc = v2 && ASN1_INTEGER_set(v2, X509_CRL_VERSION_2)
                 ? DER_I2D(b, ASN1_INTEGER, i2d_ASN1_INTEGER, v2)
                 : LV_ENOMEM;
    ASN1_INTEGER_free(v2);
    if (rc == 0)
        rc = der_sigalg(b, f->issuer);
    if (rc == 0)
        rc = DER_I2D(b, X509_NAME, i2d_X509_NAME,
                     X509_get_subject_name(f->issuer));
    if (rc == 0)
        rc = der_time(b, f->this_update);
    if (rc == 0 && f->next_update != 0)
        rc = der_time(b, f->next_update);
    return rc;
}

/* crlExtensions [0] EXPLICIT: authorityKeyIdentifier = the CA's SKI (RFC
 * 5280 §5.2.1), cRLNumber (§5.2.3), both non-critical. */
static int tbs_exts(lv_buf *b, const crl_fields *f)
{
    lv_buf exts = {0};
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(f->issuer);
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    int rc = akid && ski && num &&
                     (akid->keyid = ASN1_OCTET_STRING_dup(ski)) != NULL &&
                     ASN1_INTEGER_set_int64(num, f->number)
                 ? der_ext(&exts, NID_authority_key_identifier, akid)
                 : LV_ECRYPTO;
    if (rc == 0)
        rc = der_ext(&exts, NID_crl_number, num);
    if (rc == 0) /* [0] holds the SEQUENCE: its header and the extensions */
        rc = der_header(
            b, 1, (size_t)ASN1_object_size(1, (int)exts.len, V_ASN1_SEQUENCE),
            0, V_ASN1_CONTEXT_SPECIFIC);
    if (rc == 0)
        rc = der_seq(b, exts.len);
    if (rc == 0)
        rc = lv_buf_append(b, exts.data, exts.len);
    AUTHORITY_KEYID_free(akid);
    ASN1_INTEGER_free(num);
    lv_buf_free(&exts);
    return rc;
}

/* ---- signing and the whole CRL ---------------------------------------- */

typedef struct crl_parts {
    lv_buf tbs_hdr, head, revoked_hdr, revoked, exts;
    lv_buf alg, sig_hdr;
} crl_parts;

static void crl_parts_free(crl_parts *p)
{
    lv_buf *all[] = {&p->tbs_hdr, &p->head, &p->revoked_hdr, &p->revoked,
                     &p->exts,    &p->alg,  &p->sig_hdr};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        lv_buf_free(all[i]);
}

/* The TBSCertList, hashed and signed in its pieces. */
static int tbs_sign(lv_ca *ca, const char *key_id, const crl_parts *p,
                    unsigned char **sig, size_t *sig_len, lv_err *err)
{
    const lv_buf *tbs[] = {&p->tbs_hdr, &p->head, &p->revoked_hdr, &p->revoked,
                           &p->exts};
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return LV_ENOMEM;
    /* CPS §7.1.3: sha256 with the CA's key, like the certificates; keyd
     * signs the digest, so a CRL of any size fits its frames */
    int rc = ca_key_sign_init(ca, key_id, EVP_sha256(), ctx, err);
    for (size_t i = 0; rc == 0 && i < sizeof tbs / sizeof tbs[0]; i++)
        if (tbs[i]->len > 0 &&
            EVP_DigestSignUpdate(ctx, tbs[i]->data, tbs[i]->len) <= 0)
            rc = ca_key_ctx_failed(err, "hashing the CRL failed");
    if (rc == 0 && EVP_DigestSignFinal(ctx, NULL, sig_len) <= 0)
        rc = ca_key_ctx_failed(err, "signing the CRL failed");
    if (rc == 0 && (*sig = OPENSSL_malloc(*sig_len)) == NULL)
        rc = LV_ENOMEM;
    if (rc == 0 && EVP_DigestSignFinal(ctx, *sig, sig_len) <= 0)
        rc = ca_key_ctx_failed(err, "signing the CRL failed");
    EVP_MD_CTX_free(ctx);
    return rc;
}

static size_t tbs_content_len(const crl_parts *p)
{
    return p->head.len + p->revoked_hdr.len + p->revoked.len + p->exts.len;
}

/* CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm,
 * signatureValue BIT STRING (no unused bits) } */
static int crl_assemble(const crl_parts *p, const unsigned char *sig,
                        size_t sig_len, unsigned char **der, size_t *len)
{
    const lv_buf *tbs[] = {&p->tbs_hdr, &p->head, &p->revoked_hdr, &p->revoked,
                           &p->exts,    &p->alg,  &p->sig_hdr};
    size_t body = p->tbs_hdr.len + tbs_content_len(p) + p->alg.len +
                  p->sig_hdr.len + 1 + sig_len;
    lv_buf outer = {0};
    int rc = der_seq(&outer, body);
    unsigned char *out = rc == 0 ? OPENSSL_malloc(outer.len + body) : NULL;
    if (out == NULL) {
        lv_buf_free(&outer);
        return rc < 0 ? rc : LV_ENOMEM;
    }
    unsigned char *w = out;
    memcpy(w, outer.data, outer.len);
    w += outer.len;
    for (size_t i = 0; i < sizeof tbs / sizeof tbs[0]; i++) {
        if (tbs[i]->len > 0)
            memcpy(w, tbs[i]->data, tbs[i]->len);
        w += tbs[i]->len;
    }
    *w++ = 0; /* the BIT STRING's unused bits */
    memcpy(w, sig, sig_len);
    *der = out;
    *len = outer.len + body;
    lv_buf_free(&outer);
    return 0;
}

static int crl_parts_build(const crl_fields *f, crl_list *l, crl_parts *p)
{
    int rc = entries_der(l, &p->revoked);
    if (rc == 0 && p->revoked.len > 0) /* RFC 5280 §5.1.2.6: absent if none */
        rc = der_seq(&p->revoked_hdr, p->revoked.len);
    if (rc == 0)
        rc = tbs_head(&p->head, f);
    if (rc == 0)
        rc = tbs_exts(&p->exts, f);
    if (rc == 0)
        rc = der_seq(&p->tbs_hdr, tbs_content_len(p));
    if (rc == 0)
        rc = der_sigalg(&p->alg, f->issuer);
    return rc;
}

int crl_der_signed(lv_ca *ca, const char *key_id, const crl_fields *f,
                   crl_list *l, unsigned char **der, size_t *len, lv_err *err)
{
    crl_parts p = {0};
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    *der = NULL;
    *len = 0;
    int rc = crl_parts_build(f, l, &p);
    if (rc < 0)
        rc = lv_fail_ssl(err, rc, "cannot encode the CRL");
    if (rc == 0)
        rc = tbs_sign(ca, key_id, &p, &sig, &sig_len, err);
    if (rc == 0 && (rc = der_header(&p.sig_hdr, 0, sig_len + 1,
                                    V_ASN1_BIT_STRING, V_ASN1_UNIVERSAL)) == 0)
        rc = crl_assemble(&p, sig, sig_len, der, len);
    OPENSSL_free(sig);
    crl_parts_free(&p);
    return rc;
}
