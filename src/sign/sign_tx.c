/* Signature transactions (R5.6), modelled on the Cl@ve Firma gateway: an
 * application submits documents' digests for one citizen; the citizen
 * reviews them at /sign/{id}, receives one OTP bound to all the digests
 * (R3.3), confirms with password + OTP (R3.4); sign/ then signs the whole
 * batch with one activation token (R5.2) and the application fetches the
 * PKCS#1 signatures and the certificate. */
#include "pades/pades.h"
#include "sign/sign_internal.h"

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading the application's request
 * -------------------------------------------- */

/* Absolute http(s) URL without spaces or control characters, of at most
 * 1000 bytes (a URI is ASCII, RFC 3986 §2: bytes and characters agree). */
static int url_ok(const char *s)
{
    if (!sign_text_ok(s, 8, 1000) || strlen(s) > 1000 ||
        strpbrk(s, " \"<>\\^`{|}"))
        return 0;
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

typedef struct tx_req {
    const lv_config *cfg; /* the PDF limits; NULL: the defaults */
    const char *owner;
    const EVP_MD *md;
    const char *ok_url, *error_url;
    int generate;
    size_t n;
    size_t pdf_total; /* bytes of the PDFs so far (sign_max_tx_kib) */
    lv_sign_doc_rec docs[LV_SIGN_TX_DOCS_MAX];
    lv_sign_pdf_rec pdfs[LV_SIGN_TX_DOCS_MAX]; /* .pdf set: a PDF document */
} tx_req;

static void req_free(tx_req *r)
{
    for (size_t i = 0; r && i < LV_SIGN_TX_DOCS_MAX; i++)
        store_sign_pdf_rec_free(&r->pdfs[i]);
    free(r);
}

/* ---- PDF documents (issue 14 item 4) ----------------------------------
 * The service computes what is signed itself (PAdES, ETSI EN 319 142-1,
 * through pades/ as CSC signDoc "P" does), so the digest the citizen's OTP
 * is bound to (R3.3) is md of the PDF exactly as the application sent it;
 * the signed PDF is that input followed by the incremental update. */

/* EN 319 142-1 §6 baseline levels; index = lv_pades_req.level.  CSC's
 * spelling (Ades-B-T, signDoc's conformance_level) is accepted too. */
static const char *const PDF_LEVELS[] = {"B-B", "B-T", "B-LT", "B-LTA"};

static int pdf_level(const char *s)
{
    if (!s)
        return 0;
    if (strncmp(s, "Ades-", 5) == 0)
        s += 5;
    for (int i = 0; i < 4; i++)
        if (strcmp(s, PDF_LEVELS[i]) == 0)
            return i;
    return -1;
}

static size_t pdf_max(const lv_config *cfg)
{
    return (size_t)(cfg ? cfg->sign_max_pdf_kib : 10 * 1024) * 1024;
}

static size_t tx_pdf_max(const lv_config *cfg)
{
    return (size_t)(cfg ? cfg->sign_max_tx_kib : 24 * 1024) * 1024;
}

/* The size is checked on the base64 text before it is decoded. */
static int pdf_decode(const char *b64, size_t i, size_t max, lv_sign_pdf_rec *p,
                      lv_err *err)
{
    if (!b64 || !*b64)
        return lv_fail(err, LV_EINVAL,
                       "documents[%zu].content: base64 of a PDF", i);
    if (strlen(b64) > (max + 2) / 3 * 4)
        return lv_fail(err, LV_ETOOBIG,
                       "documents[%zu].content: the PDF is larger than %zu "
                       "bytes (sign_max_pdf_kib)",
                       i, max);
    if (lv_b64_decode(b64, strlen(b64), &p->pdf, &p->pdf_len) < 0 || !p->pdf)
        return lv_fail(err, LV_EINVAL,
                       "documents[%zu].content: not base64 (RFC 4648 §4)", i);
    if (p->pdf_len > max)
        return lv_fail(err, LV_ETOOBIG,
                       "documents[%zu].content: the PDF is larger than %zu "
                       "bytes (sign_max_pdf_kib)",
                       i, max);
    return 0;
}

static int parse_pdf(const json_t *d, size_t i, tx_req *r, lv_err *err)
{
    const char *fmt = lv_json_str(d, "format");
    int level = pdf_level(lv_json_str(d, "conformance_level"));
    lv_sign_pdf_rec *p = &r->pdfs[i];
    lv_sign_doc_rec *out = &r->docs[i];
    unsigned dlen = 0;
    if (json_object_get(d, "digest"))
        return lv_fail(err, LV_EINVAL,
                       "documents[%zu]: a digest or a content, not both", i);
    if (!fmt || strcmp(fmt, "PAdES") != 0)
        return lv_fail(err, LV_EINVAL,
                       "documents[%zu].format: \"PAdES\" (the one format of "
                       "whole documents)",
                       i);
    if (level < 0)
        return lv_fail(err, LV_EINVAL,
                       "documents[%zu].conformance_level: B-B, B-T, B-LT or "
                       "B-LTA",
                       i);
    LV_TRY(pdf_decode(lv_json_str(d, "content"), i, pdf_max(r->cfg), p, err));
    r->pdf_total += p->pdf_len;
    if (r->pdf_total > tx_pdf_max(r->cfg))
        return lv_fail(err, LV_ETOOBIG,
                       "documents: the PDFs of one transaction are at most "
                       "%zu bytes together (sign_max_tx_kib)",
                       tx_pdf_max(r->cfg));
    /* qpdf decides: malformed, encrypted or page-less PDFs are refused */
    int rc = pades_document_info(p->pdf, p->pdf_len, pdf_max(r->cfg), r->md,
                                 out->digest, &dlen, &p->pages, err);
    if (rc < 0) {
        char why[LV_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err->msg);
        return lv_fail(err, rc, "documents[%zu].content: %.200s", i, why);
    }
    out->digest_len = dlen;
    p->seq = (int)i;
    p->size = (int64_t)p->pdf_len;
    snprintf(p->level, sizeof p->level, "%s", PDF_LEVELS[level]);
    return 0;
}

static int parse_doc(const json_t *d, size_t i, tx_req *r, lv_err *err)
{
    const char *id = lv_json_str(d, "id"), *name = lv_json_str(d, "name");
    const char *title = lv_json_str(d, "title"),
               *b64 = lv_json_str(d, "digest");
    const EVP_MD *md = r->md;
    lv_sign_doc_rec *out = &r->docs[i];
    unsigned char *raw = NULL;
    size_t len = 0;
    if (!json_is_object(d))
        return lv_fail(err, LV_EINVAL, "documents[%zu]: not an object", i);
    if (!sign_text_ok(id, 1, 128) || !sign_text_ok(name, 1, 255) ||
        (title && !sign_text_ok(title, 0, 255)))
        return lv_fail(err, LV_EINVAL,
                       "documents[%zu]: id (1-128), name (1-255) and title "
                       "(0-255 characters) are printable text",
                       i);
    memset(out, 0, sizeof *out);
    out->seq = (int)i;
    snprintf(out->doc_id, sizeof out->doc_id, "%s", id);
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->title, sizeof out->title, "%s", title ? title : "");
    if (json_object_get(d, "content") || json_object_get(d, "format") ||
        json_object_get(d, "conformance_level"))
        return parse_pdf(d, i, r, err);
    if (!b64 || lv_b64_decode(b64, strlen(b64), &raw, &len) < 0 ||
        len != (size_t)EVP_MD_get_size(md)) {
        free(raw);
        return lv_fail(err, LV_EINVAL,
                       "documents[%zu].digest: base64 of a %d-byte %s digest",
                       i, EVP_MD_get_size(md), sign_md_name(md));
    }
    memcpy(out->digest, raw, len);
    out->digest_len = len;
    free(raw);
    return 0;
}

static int parse_req(const json_t *in, tx_req *r, lv_err *err)
{
    static const char *const known[] = {
        "owner",           "digest_algorithm",   "documents",
        "redirect_ok_url", "redirect_error_url", "generate_certificate"};
    const char *key;
    json_t *v;
    if (!json_is_object(in))
        return lv_fail(err, LV_EINVAL, "the body must be a JSON object");
    json_object_foreach((json_t *)in, key, v)
    {
        size_t k = 0;
        while (k < 6 && strcmp(key, known[k]) != 0)
            k++;
        if (k == 6)
            return lv_fail(err, LV_EINVAL, "unknown field '%.64s'", key);
    }
    r->owner = lv_json_str(in, "owner");
    r->md = sign_md_by_name(lv_json_str(in, "digest_algorithm"));
    r->ok_url = lv_json_str(in, "redirect_ok_url");
    r->error_url = lv_json_str(in, "redirect_error_url");
    json_t *gen = json_object_get(in, "generate_certificate");
    r->generate = !gen || json_is_true(gen);
    if (!r->owner)
        return lv_fail(err, LV_EINVAL, "owner: the citizen's document number");
    if (!r->md)
        return lv_fail(err, LV_EINVAL,
                       "digest_algorithm: SHA-256, SHA-384 or SHA-512");
    if (!url_ok(r->ok_url) || !url_ok(r->error_url))
        return lv_fail(err, LV_EINVAL,
                       "redirect_ok_url and redirect_error_url: absolute "
                       "http(s) URLs of at most 1000 characters");
    if (gen && !json_is_boolean(gen))
        return lv_fail(err, LV_EINVAL, "generate_certificate: true or false");
    json_t *docs = json_object_get(in, "documents");
    r->n = json_array_size(docs);
    if (!json_is_array(docs) || r->n == 0 || r->n > LV_SIGN_TX_DOCS_MAX)
        return lv_fail(err, LV_EINVAL, "documents: 1 to %d documents",
                       LV_SIGN_TX_DOCS_MAX);
    for (size_t i = 0; i < r->n; i++) {
        LV_TRY(parse_doc(json_array_get(docs, i), i, r, err));
        /* a signed PDF is fetched by its document's id: one id, one doc */
        for (size_t k = 0; k < i; k++)
            if (strcmp(r->docs[k].doc_id, r->docs[i].doc_id) == 0)
                return lv_fail(err, LV_EINVAL,
                               "documents[%zu].id: the same as documents[%zu]",
                               i, k);
    }
    return 0;
}

/* ---- create
 * ------------------------------------------------------------------------- */

static void app_actor(const lv_sign_app *app, char out[96])
{
    snprintf(out, 96, "app:%s", app->client_id);
}

/* Who signs and with what: the refusals of R5.6 told apart. */
static int tx_eligible(lv_store *st, const tx_req *r, lv_sign_tx_rec *tx,
                       lv_sign_refusal *why, lv_err *err)
{
    LV_TRY(sign_citizen_by_owner(st, r->owner, tx->citizen_id, why, err));
    LV_TRY(sign_citizen_check(st, tx->citizen_id, why, err));
    int rc =
        sign_credential_pick(st, tx->citizen_id, tx->cert_serial, why, err);
    /* R5.3: no certificate yet is generated at this first signature */
    if (rc == LV_ESTATE && *why == LV_SIGN_NO_CERTIFICATE && r->generate) {
        *why = LV_SIGN_OK;
        tx->cert_serial[0] = '\0';
        return 0;
    }
    return rc;
}

static int tx_insert(lv_store *st, const lv_sign_tx_rec *tx, const tx_req *r,
                     const char *actor, lv_err *err)
{
    LV_TRY(store_begin(st, err));
    int rc = store_sign_tx_insert(st, tx, err), pdfs = 0;
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        rc = store_sign_doc_insert(st, tx->id, &r->docs[i], err);
        if (rc == 0 && r->pdfs[i].pdf && ++pdfs)
            rc = store_sign_pdf_insert(st, tx->id, &r->pdfs[i], err);
    }
    if (rc == 0)
        rc = sign_audit(st, actor, "sign.tx.create", tx->id,
                        json_pack("{s:s, s:s, s:i, s:i, s:s}", "citizen",
                                  tx->citizen_id, "digest_alg", tx->digest_alg,
                                  "documents", (int)r->n, "pdfs", pdfs,
                                  "certificate",
                                  tx->cert_serial[0] ? tx->cert_serial
                                                     : "(at first signature)"),
                        err);
    return store_end(st, rc, err);
}

static json_t *created_json(const lv_config *cfg, const lv_sign_tx_rec *tx)
{
    char path[64], url[512], exp[32];
    snprintf(path, sizeof path, "/sign/%s", tx->id);
    snprintf(url, sizeof url, "%s%s", cfg ? cfg->public_url : "", path);
    lv_time_iso(tx->expires_at, exp);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", tx->id, "state",
                     tx->state, "path", path, "url", url, "expires_at", exp);
}

int sign_tx_create(const lv_sign_env *env, lv_store *st, const lv_sign_app *app,
                   const json_t *req, json_t **out, lv_sign_refusal *why,
                   lv_err *err)
{
    lv_sign_tx_rec tx = {0};
    char actor[96];
    *out = NULL;
    *why = LV_SIGN_OK;
    app_actor(app, actor);
    tx_req *r = calloc(1, sizeof *r); /* 100 documents: not on the stack */
    if (!r)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    r->cfg = env->cfg;
    int rc = parse_req(req, r, err);
    if (rc == 0 && (rc = tx_eligible(st, r, &tx, why, err)) < 0)
        sign_audit_refusal(st, actor, "sign.tx.create", r->owner, *why, err);
    if (rc == 0)
        rc = lv_random_hex(16, tx.id, err);
    if (rc == 0) {
        snprintf(tx.app_id, sizeof tx.app_id, "%s", app->client_id);
        snprintf(tx.owner, sizeof tx.owner, "%s", r->owner);
        snprintf(tx.digest_alg, sizeof tx.digest_alg, "%s",
                 sign_md_name(r->md));
        snprintf(tx.state, sizeof tx.state, "pending");
        snprintf(tx.redirect_ok, sizeof tx.redirect_ok, "%s", r->ok_url);
        snprintf(tx.redirect_error, sizeof tx.redirect_error, "%s",
                 r->error_url);
        tx.created_at = lv_now();
        tx.expires_at = tx.created_at + LV_SIGN_TX_TTL;
        rc = tx_insert(st, &tx, r, actor, err);
    }
    req_free(r);
    if (rc == 0 && !(*out = created_json(env->cfg, &tx)))
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    return rc;
}

/* ---- loading
 * -------------------------------------------------------------------------- */

/* The state an outsider sees: an open transaction past its time is
 * "expired". */
static const char *tx_state(const lv_sign_tx_rec *tx)
{
    int open =
        strcmp(tx->state, "pending") == 0 || strcmp(tx->state, "otp_sent") == 0;
    return open && lv_now() >= tx->expires_at ? "expired" : tx->state;
}

typedef struct tx_batch {
    lv_sign_tx_rec tx;
    const EVP_MD *md;
    size_t n;
    lv_sign_doc_rec docs[LV_SIGN_TX_DOCS_MAX];
    unsigned char *sigs[LV_SIGN_TX_DOCS_MAX]; /* owned */
    size_t sig_lens[LV_SIGN_TX_DOCS_MAX];
    lv_sign_pdf_rec pdf[LV_SIGN_TX_DOCS_MAX]; /* without the bytes */
    int is_pdf[LV_SIGN_TX_DOCS_MAX];
    char view_serial[65]; /* the certificate the view shows, before the OTP */
} tx_batch;

static int batch_doc(const lv_sign_doc_rec *d, void *ctx)
{
    tx_batch *b = ctx;
    if (b->n == LV_SIGN_TX_DOCS_MAX)
        return LV_ESTORE;
    b->docs[b->n] = *d;
    b->docs[b->n].signature = NULL;
    b->docs[b->n].signature_len = 0;
    if (d->signature) {
        b->sigs[b->n] = malloc(d->signature_len);
        if (!b->sigs[b->n])
            return LV_ENOMEM;
        memcpy(b->sigs[b->n], d->signature, d->signature_len);
        b->sig_lens[b->n] = d->signature_len;
    }
    b->n++;
    return 0;
}

static int batch_pdf(const lv_sign_pdf_rec *p, void *ctx)
{
    tx_batch *b = ctx;
    for (size_t i = 0; i < b->n; i++)
        if (b->docs[i].seq == p->seq) {
            b->pdf[i] = *p;
            b->is_pdf[i] = 1;
            return 0;
        }
    return LV_ESTORE; /* a PDF row without its document */
}

static void batch_free(tx_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->sigs[i]);
    free(b);
}

static int batch_load(lv_store *st, const char *id, tx_batch **out, lv_err *err)
{
    tx_batch *b = calloc(1, sizeof *b); /* 100 documents: not on the stack */
    if (!b)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = store_sign_tx_get(st, id, &b->tx, err);
    if (rc == 0)
        rc = store_sign_doc_foreach(st, id, batch_doc, b, err);
    if (rc == 0)
        rc = store_sign_pdf_foreach(st, id, batch_pdf, b, err);
    b->md = sign_md_by_name(b->tx.digest_alg);
    if (rc == 0 && !b->md)
        rc =
            lv_fail(err, LV_ESTORE, "transaction %s: bad digest algorithm", id);
    if (rc < 0) {
        batch_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

/* Ids are 32 hex characters; anything else is not a transaction. */
static int tx_id_ok(const char *id, lv_err *err)
{
    if (!id || strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32)
        return lv_fail(err, LV_ENOTFOUND, "no such transaction");
    return 0;
}

int sign_tx_open(lv_store *st, const char *id, int *open, lv_err *err)
{
    lv_sign_tx_rec tx = {0};
    *open = 0;
    LV_TRY(tx_id_ok(id, err));
    LV_TRY(store_sign_tx_get(st, id, &tx, err));
    const char *state = tx_state(&tx);
    *open = strcmp(state, "pending") == 0 || strcmp(state, "otp_sent") == 0;
    return 0;
}

/* ---- the application's view
 * ------------------------------------------------------------ */

static json_t *doc_json(const tx_batch *b, size_t i, int with_sig)
{
    char *dig = NULL, *sig = NULL;
    const lv_sign_doc_rec *d = &b->docs[i];
    if (lv_b64_encode(d->digest, d->digest_len, &dig) < 0)
        return NULL; /* out of memory: the caller answers 500 */
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", d->doc_id, "name",
                          d->name, "title", d->title, "digest", dig ? dig : "");
    if (o && b->is_pdf[i])
        json_object_update_new(
            o, json_pack("{s:s, s:s, s:i, s:I, s:b}", "format", "PAdES",
                         "conformance_level", b->pdf[i].level, "pages",
                         b->pdf[i].pages, "size", (json_int_t)b->pdf[i].size,
                         "signed", b->pdf[i].is_signed && with_sig));
    if (o && with_sig && b->sigs[i] &&
        lv_b64_encode(b->sigs[i], b->sig_lens[i], &sig) == 0)
        json_object_set_new(o, "signature", json_string(sig));
    free(dig);
    free(sig);
    return o;
}

static int add_certificate(lv_store *st, const char *serial, json_t *o,
                           lv_err *err)
{
    lv_cert_rec c;
    char *b64 = NULL;
    LV_TRY(store_cert_get(st, serial, &c, err));
    int rc = lv_b64_encode(c.der, c.der_len, &b64);
    store_cert_rec_free(&c);
    if (rc < 0)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    json_object_set_new(o, "certificate", json_string(b64));
    json_object_set_new(o, "certificate_serial", json_string(serial));
    free(b64);
    return 0;
}

/* ---- the citizen's history (the portal, issue 15 item 4) ------------- */

/* A transaction of citizen_id, or LV_ENOTFOUND as for an unknown id. */
static int batch_own(lv_store *st, const char *citizen_id, const char *id,
                     tx_batch **out, lv_err *err)
{
    LV_TRY(tx_id_ok(id, err));
    LV_TRY(batch_load(st, id, out, err));
    if (strcmp((*out)->tx.citizen_id, citizen_id) == 0)
        return 0;
    batch_free(*out);
    *out = NULL;
    return lv_fail(err, LV_ENOTFOUND, "no such transaction");
}

static void tx_times(const lv_sign_tx_rec *tx, char created[32],
                     char signed_at[32])
{
    lv_time_iso(tx->created_at, created);
    signed_at[0] = '\0';
    if (tx->signed_at)
        lv_time_iso(tx->signed_at, signed_at);
}

typedef struct history_ctx {
    lv_store *st;
    json_t *list;
    lv_err *err;
} history_ctx;

static int history_item(const lv_sign_tx_rec *tx, void *p)
{
    history_ctx *h = p;
    tx_batch *b = NULL;
    char app[129], created[32], signed_at[32];
    if (json_array_size(h->list) >= LV_SIGN_HISTORY_MAX)
        return 0;
    LV_TRY(batch_load(h->st, tx->id, &b, h->err));
    sign_app_display_name(h->st, tx->app_id, app);
    tx_times(tx, created, signed_at);
    json_t *names = json_array();
    for (size_t i = 0; names && i < b->n; i++)
        json_array_append_new(names, json_string(b->docs[i].name));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "id", tx->id,
                          "application", app, "state", tx_state(tx),
                          "created_at", created, "signed_at", signed_at,
                          "documents", names ? names : json_array(),
                          "certificate_serial", tx->cert_serial);
    batch_free(b);
    if (!o || json_array_append_new(h->list, o) < 0)
        return lv_fail(h->err, LV_ENOMEM, "out of memory");
    return 0;
}

int sign_history_json(lv_store *st, const char *citizen_id, json_t **out,
                      lv_err *err)
{
    history_ctx h = {st, json_array(), err};
    *out = NULL;
    int rc = h.list ? store_sign_tx_foreach_citizen(st, citizen_id,
                                                    history_item, &h, err)
                    : lv_fail(err, LV_ENOMEM, "out of memory");
    if (rc < 0) {
        json_decref(h.list);
        return rc;
    }
    *out = json_pack("{s:o}", "transactions", h.list);
    return *out ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
}

/* The certificate that signed: serial, subject and issuing CA. */
static json_t *receipt_cert(lv_store *st, const char *serial)
{
    lv_cert_rec c;
    lv_err e = {0};
    if (!serial[0] || store_cert_get(st, serial, &c, &e) < 0)
        return json_null();
    char subject[512] = "", issuer[512] = "";
    const unsigned char *p = c.der;
    X509 *x = d2i_X509(NULL, &p, (long)c.der_len);
    if (x) { /* RFC 4514, as the acceptance sheet names them */
        lv_dn_rfc4514(X509_get_subject_name(x), subject, sizeof subject);
        lv_dn_rfc4514(X509_get_issuer_name(x), issuer, sizeof issuer);
        X509_free(x);
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "serial", c.serial, "subject",
                          subject, "issuer", issuer, "issuer_ca", c.ca);
    store_cert_rec_free(&c);
    return o;
}

int sign_receipt_json(lv_store *st, const char *provider,
                      const char *citizen_id, const char *id, json_t **out,
                      lv_err *err)
{
    tx_batch *b = NULL;
    char app[129], created[32], signed_at[32];
    *out = NULL;
    LV_TRY(batch_own(st, citizen_id, id, &b, err));
    sign_app_display_name(st, b->tx.app_id, app);
    tx_times(&b->tx, created, signed_at);
    json_t *docs = json_array();
    for (size_t i = 0; docs && i < b->n; i++)
        json_array_append_new(docs, doc_json(b, i, 0));
    *out = json_pack(
        "{s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:o, s:o}",
        "receipt", "llave signature transaction receipt", "provider", provider,
        "transaction", b->tx.id, "application", "name", app, "client_id",
        b->tx.app_id, "citizen", b->tx.owner, "state", tx_state(&b->tx),
        "created_at", created, "signed_at", signed_at, "digest_algorithm",
        b->tx.digest_alg, "documents", docs ? docs : json_array(),
        "certificate", receipt_cert(st, b->tx.cert_serial));
    batch_free(b);
    return *out ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
}

int sign_tx_json(lv_store *st, const lv_sign_app *app, const char *id,
                 json_t **out, lv_err *err)
{
    tx_batch *b = NULL;
    char created[32], expires[32], signed_at[32] = "";
    *out = NULL;
    LV_TRY(tx_id_ok(id, err));
    LV_TRY(batch_load(st, id, &b, err));
    int rc = 0;
    /* another application's transaction does not exist for this one */
    if (strcmp(b->tx.app_id, app->client_id) != 0)
        rc = lv_fail(err, LV_ENOTFOUND, "no such transaction");
    int show = strcmp(b->tx.state, "signed") == 0;
    lv_time_iso(b->tx.created_at, created);
    lv_time_iso(b->tx.expires_at, expires);
    if (b->tx.signed_at)
        lv_time_iso(b->tx.signed_at, signed_at);
    json_t *o = rc < 0 ? NULL
                       : json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                                   b->tx.id, "state", tx_state(&b->tx), "owner",
                                   b->tx.owner, "digest_algorithm",
                                   b->tx.digest_alg, "created_at", created,
                                   "expires_at", expires, "error", b->tx.error);
    json_t *docs = json_array();
    for (size_t i = 0; o && docs && i < b->n; i++)
        json_array_append_new(docs, doc_json(b, i, show));
    if (o && docs) {
        json_object_set(o, "documents", docs);
        if (show) {
            json_object_set_new(o, "signed_at", json_string(signed_at));
            rc = add_certificate(st, b->tx.cert_serial, o, err);
        }
    } else if (rc == 0) {
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    }
    json_decref(docs);
    batch_free(b);
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

static int tx_row_update(lv_store *st, const void *tx, const char *from,
                         lv_err *err)
{
    return store_sign_tx_update(st, tx, from, err);
}

static int tx_update(lv_store *st, lv_sign_tx_rec *tx, const char *from,
                     const char *actor, const char *event, json_t *details,
                     lv_err *err)
{
    return sign_update_audited(st, tx_row_update, tx, from, actor, event,
                               tx->id, details, err);
}

int sign_tx_end(lv_store *st, const lv_sign_app *app, const char *id,
                lv_err *err)
{
    lv_sign_tx_rec tx;
    char actor[96], from[16];
    LV_TRY(tx_id_ok(id, err));
    LV_TRY(store_sign_tx_get(st, id, &tx, err));
    if (strcmp(tx.app_id, app->client_id) != 0)
        return lv_fail(err, LV_ENOTFOUND, "no such transaction");
    if (strcmp(tx.state, "ended") == 0)
        return lv_fail(err, LV_ESTATE, "the transaction has ended already");
    app_actor(app, actor);
    snprintf(from, sizeof from, "%s", tx.state);
    snprintf(tx.state, sizeof tx.state, "ended");
    tx.ended_at = lv_now();
    return tx_update(st, &tx, from, actor, "sign.tx.end",
                     json_pack("{s:s}", "previous_state", from), err);
}

/* ---- the citizen's side
 * -------------------------------------------------------------- */

/* The transaction is open and belongs to the caller (a citizen session).
 * Another citizen is told it does not exist. */
static int tx_owned(const tx_batch *b, const lv_principal *who, int need_otp,
                    lv_err *err)
{
    if (!who || who->kind != LV_PRINCIPAL_CITIZEN ||
        strcmp(who->id, b->tx.citizen_id) != 0)
        return lv_fail(err, LV_ENOTFOUND, "no such transaction");
    const char *state = tx_state(&b->tx);
    if (strcmp(state, "pending") != 0 && strcmp(state, "otp_sent") != 0)
        return lv_fail(err, LV_ESTATE, "the transaction is %s", state);
    if (need_otp && strcmp(state, "otp_sent") != 0)
        return lv_fail(err, LV_ESTATE, "request the one-time code first");
    return 0;
}

/* The certificate whose acceptance sheet this batch will sign (R5.4): the
 * one the code was sent for, or, before that, the citizen's current
 * certificate, so that the page shows the sheet before the SMS is asked
 * for (issue 15 item 3); NULL when none exists yet (it is issued with the
 * code, and its sheet shown then).  The view shows the sheet only while
 * the certificate is not accepted. */
static const char *pending_acceptance(lv_store *st, tx_batch *b)
{
    lv_sign_refusal why = LV_SIGN_OK;
    if (b->tx.accept_serial[0])
        return b->tx.accept_serial;
    if (b->tx.cert_serial[0])
        return b->tx.cert_serial;
    return sign_credential_pick(st, b->tx.citizen_id, b->view_serial, &why,
                                NULL) == 0
               ? b->view_serial
               : NULL;
}

static json_t *view_json(lv_store *st, tx_batch *b)
{
    char app[129], expires[32];
    sign_app_display_name(st, b->tx.app_id, app);
    lv_time_iso(b->tx.expires_at, expires);
    json_t *docs = json_array();
    for (size_t i = 0; docs && i < b->n; i++)
        json_array_append_new(docs, doc_json(b, i, 0));
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "id", b->tx.id,
                  "application", app, "state", tx_state(&b->tx),
                  "digest_algorithm", b->tx.digest_alg, "expires_at", expires,
                  "documents", docs ? docs : json_array(), "certificate",
                  b->tx.cert_serial[0] ? b->tx.cert_serial : "new",
                  "redirect_error", b->tx.redirect_error);
    const char *pending = pending_acceptance(st, b);
    if (o && pending) {
        char *sheet = NULL;
        int accepted = 0;
        if (sign_acceptance_sheet(st, pending, &sheet, &accepted, NULL) == 0 &&
            !accepted)
            json_object_set_new(
                o, "acceptance",
                json_pack("{s:s, s:s}", "serial", pending, "sheet", sheet));
        free(sheet);
    }
    return o;
}

int sign_tx_view(const lv_sign_env *env, lv_store *st, const char *id,
                 const lv_principal *who, json_t **out, lv_err *err)
{
    tx_batch *b = NULL;
    (void)env;
    *out = NULL;
    LV_TRY(tx_id_ok(id, err));
    LV_TRY(batch_load(st, id, &b, err));
    int rc = tx_owned(b, who, 0, err);
    if (rc == 0 && !(*out = view_json(st, b)))
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    batch_free(b);
    return rc;
}

int sign_tx_login(const lv_sign_env *env, lv_store *st, const char *id,
                  const char *user_id, const char *password, const char *ip,
                  json_t **out, lv_sign_refusal *why, lv_err *err)
{
    lv_session_token tok;
    lv_principal who;
    tx_batch *b = NULL;
    *out = NULL;
    *why = LV_SIGN_OK;
    LV_TRY(tx_id_ok(id, err));
    LV_TRY(batch_load(st, id, &b, err));
    const char *state = tx_state(&b->tx);
    int rc = strcmp(state, "pending") == 0 || strcmp(state, "otp_sent") == 0
                 ? 0
                 : lv_fail(err, LV_ESTATE, "the transaction is %s", state);
    memset(&tok, 0, sizeof tok);
    if (rc == 0 && (rc = auth_citizen_login(env->auth, st, user_id, password,
                                            ip, &tok, err)) < 0)
        *why = sign_auth_refusal(rc, err);
    if (rc == 0)
        rc = auth_session_check(env->auth, st, tok.token, LV_ROLE_CITIZEN, &who,
                                err);
    if (rc == 0 && strcmp(who.id, b->tx.citizen_id) != 0) {
        /* the session is of no use here: end it at once (it expires anyway
         * should the store refuse now) */
        lv_ignore(auth_session_end(env->auth, st, tok.token, NULL));
        rc = lv_fail(err, LV_EPERM,
                     "this transaction is addressed to another citizen");
        sign_audit_refusal(st, who.actor, "sign.tx.login", id,
                           LV_SIGN_UNKNOWN_CITIZEN, err);
    }
    if (rc == 0)
        rc = sign_login_answer(view_json(st, b), &tok, out, err);
    auth_token_wipe(&tok);
    batch_free(b);
    return rc;
}

/* The digests the citizen authorizes, in order: the acceptance sheet of a
 * certificate not yet accepted (R5.4), then the documents. */
static int batch_digests(lv_store *st, const tx_batch *b, lv_buf *out,
                         char **sheet, lv_err *err)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    int accepted = 0;
    memset(out, 0, sizeof *out);
    *sheet = NULL;
    if (b->tx.accept_serial[0]) {
        LV_TRY(sign_sheet_digest(st, b->tx.accept_serial, b->md, sheet, d,
                                 &accepted, err));
        if (lv_buf_append(out, d, (size_t)EVP_MD_get_size(b->md)) < 0)
            return LV_ENOMEM;
    }
    for (size_t i = 0; i < b->n; i++)
        if (lv_buf_append(out, b->docs[i].digest, b->docs[i].digest_len) < 0)
            return LV_ENOMEM;
    return 0;
}

static int tx_binding(const tx_batch *b, const lv_buf *digests, lv_buf *out)
{
    char ctx[40];
    snprintf(ctx, sizeof ctx, "tx:%s", b->tx.id);
    return sign_binding(ctx, b->md, digests->data,
                        digests->len / (size_t)EVP_MD_get_size(b->md), out);
}

/* R5.3: a first signature gets its certificate now; R5.4: a certificate
 * not yet accepted has its sheet signed in this batch. */
static int prepare_certificate(const lv_sign_env *env, lv_store *st,
                               tx_batch *b, lv_sign_refusal *why, lv_err *err)
{
    char actor[96], *sheet = NULL;
    unsigned char d[EVP_MAX_MD_SIZE];
    int accepted = 0;
    sign_citizen_actor(b->tx.citizen_id, actor);
    if (b->tx.cert_serial[0] == '\0') {
        int rc = sign_credential_pick(st, b->tx.citizen_id, b->tx.cert_serial,
                                      why, err);
        if (rc == LV_ESTATE && *why == LV_SIGN_NO_CERTIFICATE) {
            *why = LV_SIGN_OK;
            rc = sign_credential_issue(env, st, b->tx.citizen_id, actor,
                                       b->tx.cert_serial, err);
        }
        LV_TRY(rc);
    }
    LV_TRY(sign_credential_check(st, b->tx.citizen_id, b->tx.cert_serial, why,
                                 err));
    LV_TRY(sign_sheet_digest(st, b->tx.cert_serial, b->md, &sheet, d, &accepted,
                             err));
    free(sheet);
    snprintf(b->tx.accept_serial, sizeof b->tx.accept_serial, "%s",
             accepted ? "" : b->tx.cert_serial);
    return 0;
}

int sign_tx_send_otp(const lv_sign_env *env, lv_store *st, const char *id,
                     const lv_principal *who, json_t **out,
                     lv_sign_refusal *why, lv_err *err)
{
    tx_batch *b = NULL;
    lv_buf digests = {0}, binding = {0};
    char *sheet = NULL, from[16], otp_id[LV_AUTH_OTP_ID_LEN + 1];
    *out = NULL;
    *why = LV_SIGN_OK;
    LV_TRY(tx_id_ok(id, err));
    LV_TRY(batch_load(st, id, &b, err));
    snprintf(from, sizeof from, "%s", b->tx.state);
    int rc = tx_owned(b, who, 0, err);
    if (rc == 0)
        rc = prepare_certificate(env, st, b, why, err);
    if (rc == 0)
        rc = batch_digests(st, b, &digests, &sheet, err);
    if (rc == 0)
        rc = tx_binding(b, &digests, &binding);
    if (rc == 0) {
        char app[129];
        sign_app_display_name(st, b->tx.app_id, app);
        lv_otp_sms sms = {.lang = env->lang, .app = app, .n = (int)b->n};
        rc = auth_otp_send(env->auth, st, b->tx.citizen_id, SIGN_OTP_PURPOSE,
                           binding.data, binding.len, env->remote_addr, &sms,
                           otp_id, err);
    }
    if (rc == 0) {
        snprintf(b->tx.state, sizeof b->tx.state, "otp_sent");
        snprintf(b->tx.otp_id, sizeof b->tx.otp_id, "%s", otp_id);
        rc = tx_update(
            st, &b->tx, from, who->actor, "sign.tx.otp",
            json_pack("{s:s, s:i, s:s}", "certificate", b->tx.cert_serial,
                      "digests",
                      (int)(digests.len / (size_t)EVP_MD_get_size(b->md)),
                      "otp_id", otp_id),
            err);
    }
    if (rc < 0 && *why != LV_SIGN_OK)
        sign_audit_refusal(st, who ? who->actor : "citizen", "sign.tx.otp", id,
                           *why, err);
    if (rc == 0 && !(*out = view_json(st, b)))
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    /* what the code allows, for the page to show (issue 15 item 3) */
    if (rc == 0 && env->cfg)
        json_object_set_new(*out, "otp",
                            json_pack("{s:i, s:i}", "expires_in",
                                      env->cfg->otp_ttl_seconds, "attempts",
                                      env->cfg->otp_max_attempts));
    free(sheet);
    lv_buf_free(&digests);
    lv_buf_free(&binding);
    batch_free(b);
    return rc;
}

/* What confirm produced: the PKCS#1 signatures of the acceptance sheet
 * and the digest documents, in that order (one activation record), and
 * each PDF document signed as PAdES. */
typedef struct tx_out {
    unsigned char *sigs; /* n_sigs * sig_len */
    size_t sig_len, n_sigs;
    unsigned char *pdfs[LV_SIGN_TX_DOCS_MAX];
    size_t pdf_lens[LV_SIGN_TX_DOCS_MAX];
} tx_out;

static void out_free(tx_out *o)
{
    if (!o)
        return;
    free(o->sigs);
    for (size_t i = 0; i < LV_SIGN_TX_DOCS_MAX; i++)
        free(o->pdfs[i]);
    free(o);
}

/* The signatures and the new state, with the acceptance when the sheet
 * was part of the batch, in one transaction. */
static int record_signed(lv_store *st, tx_batch *b, const char *actor,
                         const char *sheet, const tx_out *o,
                         const lv_buf *binding, lv_err *err)
{
    char bhash[65];
    size_t first = b->tx.accept_serial[0] ? 1 : 0, k = first;
    int pdfs = 0;
    LV_TRY(lv_sha256_hex(binding->data, binding->len, bhash));
    snprintf(b->tx.state, sizeof b->tx.state, "signed");
    b->tx.signed_at = lv_now();
    LV_TRY(store_begin(st, err));
    int rc = store_sign_tx_update(st, &b->tx, "otp_sent", err);
    for (size_t i = 0; rc == 0 && i < b->n; i++)
        if (b->is_pdf[i] && ++pdfs)
            rc = store_sign_pdf_set_signed(st, b->tx.id, b->docs[i].seq,
                                           o->pdfs[i], o->pdf_lens[i], err);
        else
            rc = store_sign_doc_set_signature(st, b->tx.id, b->docs[i].seq,
                                              o->sigs + k++ * o->sig_len,
                                              o->sig_len, err);
    if (rc == 0 && first)
        rc = sign_acceptance_record(st, b->tx.citizen_id, b->tx.accept_serial,
                                    sheet, b->md, o->sigs, o->sig_len,
                                    "transaction", err);
    if (rc == 0)
        rc = sign_audit(st, actor, "sign.tx.sign", b->tx.id,
                        json_pack("{s:s, s:s, s:i, s:i, s:s}", "certificate",
                                  b->tx.cert_serial, "digest_alg",
                                  b->tx.digest_alg, "documents", (int)b->n,
                                  "pdfs", pdfs, "binding_sha256", bhash),
                        err);
    return store_end(st, rc, err);
}

/* The sheet's and the digest documents' digests (out of the authorized
 * list, which holds the PDFs' too) signed with one activation record. */
static int sign_plain(const lv_sign_env *env, lv_store *st, const tx_batch *b,
                      const char *actor, const char *key_id,
                      const lv_buf *digests, tx_out *o, lv_err *err)
{
    size_t dl = (size_t)EVP_MD_get_size(b->md);
    size_t first = b->tx.accept_serial[0] ? 1 : 0;
    lv_buf plain = {0};
    for (size_t k = 0; k < first + b->n; k++)
        if ((k < first || !b->is_pdf[k - first]) &&
            lv_buf_append(&plain, digests->data + k * dl, dl) < 0) {
            lv_buf_free(&plain);
            return lv_fail(err, LV_ENOMEM, "out of memory");
        }
    o->n_sigs = plain.len / dl;
    int rc = o->n_sigs
                 ? sign_with_key(env, st, actor, key_id, b->md, plain.data,
                                 o->n_sigs, &o->sigs, &o->sig_len, err)
                 : 0;
    lv_buf_free(&plain);
    return rc;
}

typedef struct tx_vinfo {
    lv_sign_vinfo_fn fn;
    void *arg;
} tx_vinfo;

/* PDF document i as PAdES at its level.  The stored bytes are hashed again
 * and must be the ones whose digest the citizen's OTP was bound to. */
static int sign_pdf(const lv_sign_env *env, lv_store *st, const tx_batch *b,
                    size_t i, const char *actor, const char *key_id,
                    const tx_vinfo *v, tx_out *o, lv_err *err)
{
    lv_sign_pdf_rec p;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    json_t *vi = NULL;
    int level = pdf_level(b->pdf[i].level);
    LV_TRY(store_sign_pdf_get(st, b->tx.id, b->docs[i].seq, 0, &p, err));
    int rc = EVP_Digest(p.pdf, p.pdf_len, d, &dl, b->md, NULL) &&
                     dl == b->docs[i].digest_len &&
                     CRYPTO_memcmp(d, b->docs[i].digest, dl) == 0 && level >= 0
                 ? 0
                 : lv_fail(err, LV_ESTORE,
                           "the stored PDF of a document is not the one "
                           "the citizen authorized");
    /* EN 319 142-1 §5.4.2: B-LT's DSS holds the OCSP responses and CRLs */
    if (rc == 0 && level >= 2 && v->fn)
        rc = v->fn(v->arg, st, b->tx.citizen_id, b->tx.cert_serial, &vi, err);
    if (rc == 0) {
        lv_pades_req req = {.d = {.serial = b->tx.cert_serial,
                                  .md = b->md,
                                  .doc = p.pdf,
                                  .doc_len = p.pdf_len},
                            .level = level,
                            .validation = vi};
        rc = sign_tx_pades(env, st, actor, key_id, &req, &o->pdfs[i],
                           &o->pdf_lens[i], err);
    }
    json_decref(vi);
    store_sign_pdf_rec_free(&p);
    return rc;
}

static int sign_batch(const lv_sign_env *env, lv_store *st, const tx_batch *b,
                      const char *actor, const lv_buf *digests,
                      const tx_vinfo *v, tx_out *o, lv_err *err)
{
    char key_id[65];
    LV_TRY(sign_cert_key(st, b->tx.cert_serial, key_id, err));
    LV_TRY(sign_plain(env, st, b, actor, key_id, digests, o, err));
    for (size_t i = 0; i < b->n; i++)
        if (b->is_pdf[i])
            LV_TRY(sign_pdf(env, st, b, i, actor, key_id, v, o, err));
    return 0;
}

/* The batch could not be signed after the citizen's code was accepted
 * (a time-stamp unit refusing, keyd unreachable; nothing was recorded):
 * the code is given back for the rest of its life, so the citizen retries
 * without a new SMS; it still authorizes exactly this batch. */
static void otp_give_back(lv_store *st, const tx_batch *b, const lv_err *why)
{
    lv_err ignored = {0};
    if (auth_otp_release(st, b->tx.otp_id, b->tx.citizen_id, why->msg,
                         &ignored) < 0)
        lv_log(LV_LOG_WARN,
               "sign: the one-time code of transaction %s stays used: %s",
               b->tx.id, ignored.msg);
}

int sign_tx_confirm(const lv_sign_env *env, lv_store *st, const char *id,
                    const lv_principal *who, const char *password,
                    const char *otp, lv_sign_vinfo_fn vinfo, void *vinfo_arg,
                    json_t **out, lv_sign_refusal *why, lv_err *err)
{
    tx_batch *b = NULL;
    lv_buf digests = {0}, binding = {0};
    char *sheet = NULL;
    tx_vinfo v = {vinfo, vinfo_arg};
    *out = NULL;
    *why = LV_SIGN_OK;
    LV_TRY(tx_id_ok(id, err));
    LV_TRY(batch_load(st, id, &b, err));
    tx_out *o = calloc(1, sizeof *o);
    int rc =
        o ? tx_owned(b, who, 1, err) : lv_fail(err, LV_ENOMEM, "out of memory");
    /* R5.5: the certificate and the citizen, again, right before signing */
    if (rc == 0)
        rc = sign_credential_check(st, b->tx.citizen_id, b->tx.cert_serial, why,
                                   err);
    if (rc < 0 && *why != LV_SIGN_OK)
        sign_audit_refusal(st, who->actor, "sign.tx.sign", id, *why, err);
    if (rc == 0)
        rc = batch_digests(st, b, &digests, &sheet, err);
    if (rc == 0)
        rc = tx_binding(b, &digests, &binding);
    /* R3.4: password and the OTP bound to exactly these digests (a PDF's:
     * of the PDF as sent) */
    if (rc == 0) {
        rc =
            auth_citizen_authorize(env->auth, st, b->tx.citizen_id, password,
                                   b->tx.otp_id, SIGN_OTP_PURPOSE, binding.data,
                                   binding.len, otp, env->remote_addr, err);
        if (rc < 0)
            *why = sign_auth_refusal(rc, err);
    }
    int otp_spent = rc == 0;
    if (rc == 0)
        rc = sign_batch(env, st, b, who->actor, &digests, &v, o, err);
    if (rc == 0)
        rc = record_signed(st, b, who->actor, sheet, o, &binding, err);
    if (rc < 0 && otp_spent)
        otp_give_back(st, b, err);
    if (rc == 0 && !(*out = json_pack("{s:s, s:s}", "state", "signed",
                                      "redirect", b->tx.redirect_ok)))
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    out_free(o);
    free(sheet);
    lv_buf_free(&digests);
    lv_buf_free(&binding);
    batch_free(b);
    return rc;
}

/* ---- the PDFs themselves (issue 14 item 4) ------------------------------ */

static int pdf_doc(const tx_batch *b, const char *doc_id, size_t *at,
                   lv_err *err)
{
    if (!doc_id || !*doc_id)
        return lv_fail(err, LV_EINVAL, "document: the document's id");
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->docs[i].doc_id, doc_id) == 0) {
            *at = i;
            return b->is_pdf[i] ? 0
                                : lv_fail(err, LV_ENOTFOUND,
                                          "the document carries no PDF: its "
                                          "signature is in the transaction");
        }
    return lv_fail(err, LV_ENOTFOUND, "no such document in the transaction");
}

/* The application: its own signed transaction only; the citizen: the open
 * transaction addressed to them (tx_owned). */
static int pdf_access(const tx_batch *b, const lv_sign_app *app,
                      const lv_principal *who, lv_err *err)
{
    if (!app)
        return tx_owned(b, who, 0, err);
    if (strcmp(b->tx.app_id, app->client_id) != 0)
        return lv_fail(err, LV_ENOTFOUND, "no such transaction");
    if (strcmp(b->tx.state, "signed") != 0)
        return lv_fail(err, LV_ESTATE,
                       "the transaction is %s: there is no signed PDF",
                       tx_state(&b->tx));
    return 0;
}

int sign_tx_pdf(lv_store *st, const char *id, const char *doc_id,
                const lv_sign_app *app, const lv_principal *who,
                unsigned char **pdf, size_t *len, char **name, lv_err *err)
{
    tx_batch *b = NULL;
    lv_sign_pdf_rec p = {0};
    size_t i = 0;
    *pdf = NULL;
    *len = 0;
    *name = NULL;
    LV_TRY(tx_id_ok(id, err));
    LV_TRY(batch_load(st, id, &b, err));
    int rc = pdf_access(b, app, who, err);
    if (rc == 0)
        rc = pdf_doc(b, doc_id, &i, err);
    if (rc == 0)
        rc = store_sign_pdf_get(st, id, b->docs[i].seq, app != NULL, &p, err);
    if (rc == 0) {
        *pdf = app ? p.signed_pdf : p.pdf;
        *len = app ? p.signed_len : p.pdf_len;
        p.signed_pdf = p.pdf = NULL;
        *name = strdup(b->docs[i].name);
        if (!*pdf || !*name)
            rc = lv_fail(err, LV_ESTORE, "the document's PDF is not stored");
    }
    store_sign_pdf_rec_free(&p);
    batch_free(b);
    if (rc < 0) {
        free(*pdf);
        free(*name);
        *pdf = NULL;
        *name = NULL;
    }
    return rc;
}

int sign_tx_cancel(lv_store *st, const char *id, const lv_principal *who,
                   json_t **out, lv_err *err)
{
    tx_batch *b = NULL;
    char from[16];
    *out = NULL;
    LV_TRY(tx_id_ok(id, err));
    LV_TRY(batch_load(st, id, &b, err));
    int rc = tx_owned(b, who, 0, err);
    snprintf(from, sizeof from, "%s", b->tx.state);
    if (rc == 0) {
        snprintf(b->tx.state, sizeof b->tx.state, "failed");
        snprintf(b->tx.error, sizeof b->tx.error, "declined by the citizen");
        rc = tx_update(st, &b->tx, from, who->actor, "sign.tx.cancel",
                       json_pack("{}"), err);
    }
    if (rc == 0 && !(*out = json_pack("{s:s, s:s}", "state", "failed",
                                      "redirect", b->tx.redirect_error)))
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    batch_free(b);
    return rc;
}
