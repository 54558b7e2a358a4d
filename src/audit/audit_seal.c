/* Seals over the audit chain (R9.2, CPS §5.4.4; issue 8): recording,
 * verification against the certificates in the store, and the JSON-lines
 * export auditors verify offline with the openssl command line. */
#include "audit/audit_internal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int audit_seal_message(int64_t seq, const char *hash,
                       char out[LV_AUDIT_SEAL_MSG_MAX])
{
    if (!hash || strlen(hash) != 64)
        return LV_EINVAL;
    snprintf(out, LV_AUDIT_SEAL_MSG_MAX, "llave-audit-seal/1 seq=%lld hash=%s",
             (long long)seq, hash);
    return 0;
}

int audit_seal_record(lv_store *st, lv_audit_seal_rec *rec, const char *actor,
                      lv_err *err)
{
    lv_audit_seal_rec last;
    char object[48];
    int rc = store_audit_seal_last(st, &last, err);
    if (rc < 0 && rc != LV_ENOTFOUND)
        return rc;
    rec->id = rc == 0 ? last.id + 1 : 1;
    store_audit_seal_rec_free(&last);
    snprintf(rec->actor, sizeof rec->actor, "%s", actor);
    LV_TRY(store_audit_seal_insert(st, rec, err));
    snprintf(object, sizeof object, "seq:%lld", (long long)rec->seq);
    json_t *d = json_pack("{s:I, s:s, s:s}", "seal", (json_int_t)rec->id,
                          "hash", rec->hash, "signer", rec->signer);
    rc = audit_log(st, actor, "audit.seal", object, LV_AUDIT_SUCCESS, d, err);
    json_decref(d);
    return rc;
}

/* ---- the certificates seals are checked with ------------------------------
 */
typedef struct seal_certs {
    X509_STORE *roots;      /* cas rows of role root: the trust anchors */
    STACK_OF(X509) *others; /* issuing CAs, TSUs, audit-seal certificates */
    struct {
        char name[32];
        char role[16];
        X509 *cert;
    } * by_name;
    size_t count;
} seal_certs;

static int certs_add(const lv_ca_rec *rec, void *arg)
{
    seal_certs *c = arg;
    const unsigned char *p = rec->cert_der;
    X509 *x = d2i_X509(NULL, &p, (long)rec->cert_len);
    void *grown = realloc(c->by_name, (c->count + 1) * sizeof *c->by_name);
    if (!x || !grown) {
        X509_free(x);
        free(grown == c->by_name ? NULL : grown);
        return x ? LV_ENOMEM : LV_ESTORE;
    }
    c->by_name = grown;
    snprintf(c->by_name[c->count].name, 32, "%s", rec->name);
    snprintf(c->by_name[c->count].role, 16, "%s", rec->role);
    c->by_name[c->count++].cert = x;
    if (strcmp(rec->role, "root") == 0)
        return X509_STORE_add_cert(c->roots, x) == 1 ? 0 : LV_ECRYPTO;
    return X509_up_ref(x) && sk_X509_push(c->others, x) ? 0 : LV_ENOMEM;
}

static void certs_free(seal_certs *c)
{
    for (size_t i = 0; i < c->count; i++)
        X509_free(c->by_name[i].cert);
    free(c->by_name);
    X509_STORE_free(c->roots);
    sk_X509_pop_free(c->others, X509_free);
}

static int certs_load(lv_store *st, seal_certs *c, lv_err *err)
{
    memset(c, 0, sizeof *c);
    c->roots = X509_STORE_new();
    c->others = sk_X509_new_null();
    if (!c->roots || !c->others)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    return store_ca_foreach(st, certs_add, c, err);
}

static X509 *certs_find(const seal_certs *c, const char *name, const char *role)
{
    for (size_t i = 0; i < c->count; i++)
        if (!strcmp(c->by_name[i].name, name) &&
            !strcmp(c->by_name[i].role, role))
            return c->by_name[i].cert;
    return NULL;
}

/* The signer certificate chains to the stored root at the time it sealed. */
static int chain_ok(const seal_certs *c, X509 *cert, int64_t at)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = ctx && X509_STORE_CTX_init(ctx, c->roots, cert, c->others) == 1;
    if (ok) {
        X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
        ok = X509_verify_cert(ctx) == 1;
    }
    X509_STORE_CTX_free(ctx);
    return ok;
}

static int signature_ok(X509 *cert, const char *msg, const lv_audit_seal_rec *s)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md &&
             EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
                                  X509_get0_pubkey(cert)) == 1 &&
             EVP_DigestVerify(md, s->signature, s->signature_len,
                              (const unsigned char *)msg, strlen(msg)) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

/* RFC 3161 §2.4.2: the token's imprint is SHA-256 of the message, it is
 * signed by a TSU certificate that chains to the stored root. */
static int token_ok(const seal_certs *c, const char *msg,
                    const lv_audit_seal_rec *s)
{
    const unsigned char *p = s->tst;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)s->tst_len);
    TS_VERIFY_CTX *v = TS_VERIFY_CTX_new();
    BIO *data = BIO_new_mem_buf(msg, (int)strlen(msg));
    STACK_OF(X509) *untrusted = X509_chain_up_ref(c->others);
    int ok = resp && v && data && untrusted && X509_STORE_up_ref(c->roots);
    if (ok) {
        TS_VERIFY_CTX_set_flags(v, TS_VFY_VERSION | TS_VFY_DATA |
                                       TS_VFY_SIGNATURE | TS_VFY_SIGNER);
        TS_VERIFY_CTX_set_data(v, data);
        data = NULL;
        TS_VERIFY_CTX_set_store(v, c->roots);
        TS_VERIFY_CTX_set_certs(v, untrusted);
        untrusted = NULL;
        ok = TS_RESP_verify_response(v, resp) == 1;
    }
    ERR_clear_error();
    BIO_free(data);
    sk_X509_pop_free(untrusted, X509_free);
    TS_VERIFY_CTX_free(v);
    TS_RESP_free(resp);
    return ok;
}

/* ---- verifying the seals ----------------------------------------------------
 */
typedef struct seal_walk {
    lv_store *st;
    lv_audit_report *report;
    seal_certs certs;
    int64_t last_seq; /* newest entry in the trail */
    int64_t prev_id;
    int64_t prev_seq; /* seq of the previous good seal */
    int broken;
    int rc;
    lv_err *err;
} seal_walk;

static int walk_entry(seal_walk *w, const lv_audit_seal_rec *s)
{
    lv_audit_row row;
    long long id = (long long)s->id, seq = (long long)s->seq;
    if (s->seq > w->last_seq)
        return audit_walk_broken(
            w->report, &w->broken, w->last_seq + 1,
            "seal %lld covers entry %lld but the trail ends at "
            "%lld (truncated)",
            id, seq, (long long)w->last_seq);
    int rc = store_audit_get(w->st, s->seq, &row, NULL);
    int same = rc == 0 && strcmp(row.hash, s->hash) == 0;
    store_audit_row_free(&row);
    if (!same)
        return audit_walk_broken(w->report, &w->broken, w->prev_seq + 1,
                                 "seal %lld: entry %lld is not the sealed one "
                                 "(entries %lld..%lld rewritten or deleted)",
                                 id, seq, (long long)w->prev_seq + 1, seq);
    return 0;
}

static int walk_seal(const lv_audit_seal_rec *s, void *arg)
{
    seal_walk *w = arg;
    char msg[LV_AUDIT_SEAL_MSG_MAX];
    long long id = (long long)s->id;
    if (s->id != w->prev_id + 1)
        return audit_walk_broken(
            w->report, &w->broken, w->prev_seq + 1,
            "seal %lld missing (deleted): seals jump from %lld "
            "to %lld",
            (long long)w->prev_id + 1, (long long)w->prev_id, id);
    if (s->seq < w->prev_seq)
        return audit_walk_broken(w->report, &w->broken, s->seq,
                                 "seal %lld goes back to entry %lld", id,
                                 (long long)s->seq);
    LV_TRY(walk_entry(w, s));
    X509 *cert = certs_find(&w->certs, s->signer, LV_AUDIT_SEAL_ROLE);
    if (audit_seal_message(s->seq, s->hash, msg) < 0 || !cert ||
        !chain_ok(&w->certs, cert, s->sealed_at))
        return audit_walk_broken(w->report, &w->broken, s->seq,
                                 "seal %lld: signer '%s' is not an audit-seal "
                                 "certificate of this CA",
                                 id, s->signer);
    if (!signature_ok(cert, msg, s))
        return audit_walk_broken(w->report, &w->broken, s->seq,
                                 "seal %lld: signature does not verify", id);
    if (!token_ok(&w->certs, msg, s))
        return audit_walk_broken(w->report, &w->broken, s->seq,
                                 "seal %lld: time-stamp token does not verify",
                                 id);
    w->prev_id = s->id;
    w->prev_seq = s->seq;
    w->report->seals++;
    w->report->sealed_seq = s->seq;
    return 0;
}

int audit_verify_seals(lv_store *st, const lv_audit_verify_opts *opts,
                       int64_t last_seq, lv_audit_report *report, lv_err *err)
{
    seal_walk w = {
        .st = st, .report = report, .last_seq = last_seq, .err = err};
    int rc = certs_load(st, &w.certs, err);
    if (rc == 0)
        rc = store_audit_seal_foreach(st, 1, walk_seal, &w, err);
    certs_free(&w.certs);
    if (!w.broken && rc == 0 && opts && opts->expect_seq > last_seq)
        audit_walk_broken(w.report, &w.broken, last_seq + 1,
                          "the trail ends at entry %lld but entry %lld existed "
                          "(truncated)",
                          (long long)last_seq, (long long)opts->expect_seq);
    if (w.broken)
        return lv_fail(err, LV_ESTATE, "audit trail broken: %s",
                       report->reason);
    return rc;
}

/* ---- export ---------------------------------------------------------------
 */
typedef struct export_ctx {
    lv_store *st;
    int (*fn)(const char *, void *);
    void *ctx;
    int64_t limit, done, next;
    lv_err *err;
} export_ctx;

static int emit(export_ctx *x, json_t *o)
{
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!line)
        return lv_fail(x->err, LV_ENOMEM, "cannot encode an export line");
    int rc = x->fn(line, x->ctx);
    free(line);
    return rc;
}

static json_t *cert_pem_json(lv_store *st, const char *name)
{
    lv_ca_rec rec;
    if (store_ca_get(st, name, &rec, NULL) < 0)
        return json_null();
    const unsigned char *p = rec.cert_der;
    X509 *x = d2i_X509(NULL, &p, (long)rec.cert_len);
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n =
        x && b && PEM_write_bio_X509(b, x) ? BIO_get_mem_data(b, &data) : 0;
    json_t *s = n > 0 ? json_stringn(data, (size_t)n) : json_null();
    BIO_free(b);
    X509_free(x);
    store_ca_rec_free(&rec);
    return s;
}

static int emit_seal(const lv_audit_seal_rec *s, void *arg)
{
    export_ctx *x = arg;
    char msg[LV_AUDIT_SEAL_MSG_MAX];
    if (audit_seal_message(s->seq, s->hash, msg) < 0)
        return LV_ESTORE; /* a stored seal without a 64-digit hash */
    return emit(x, json_pack("{s:s, s:I, s:I, s:s, s:I, s:s, s:s, s:s, s:o*, "
                             "s:o*, s:o}",
                             "type", "seal", "id", (json_int_t)s->id, "seq",
                             (json_int_t)s->seq, "hash", s->hash, "sealed_at",
                             (json_int_t)s->sealed_at, "signer", s->signer,
                             "actor", s->actor, "message", msg, "signature",
                             lv_json_b64(s->signature, s->signature_len), "tst",
                             lv_json_b64(s->tst, s->tst_len), "certificate",
                             cert_pem_json(x->st, s->signer)));
}

/* The seals covering exactly entry `seq` (normally zero or one): one
 * lookup in the index on audit_seals.seq. */
static int seals_at(export_ctx *x, int64_t seq)
{
    return store_audit_seal_foreach_seq(x->st, seq, emit_seal, x, x->err);
}

static int emit_entry(const lv_audit_row *r, void *arg)
{
    export_ctx *x = arg;
    if (x->limit > 0 && x->done >= x->limit) {
        x->next = r->seq;
        return -1000;
    }
    json_t *details = r->details ? json_loads(r->details, JSON_DECODE_ANY, NULL)
                                 : json_null();
    LV_TRY(emit(x, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:s, "
                             "s:s}",
                             "type", "entry", "seq", (json_int_t)r->seq, "time",
                             r->time, "actor", r->actor, "event", r->event,
                             "object", r->object, "result", r->result,
                             "details", details ? details : json_null(),
                             "prev_hash", r->prev_hash, "hash", r->hash)));
    x->done++;
    return seals_at(x, r->seq);
}

int audit_export(lv_store *st, int64_t from_seq, int64_t limit,
                 int (*fn)(const char *line, void *), void *ctx, int64_t *next,
                 lv_err *err)
{
    export_ctx x = {st, fn, ctx, limit, 0, 0, err};
    int rc = store_audit_foreach(st, from_seq, emit_entry, &x, err);
    if (next)
        *next = x.next;
    return rc == -1000 && x.next ? 0 : rc;
}
