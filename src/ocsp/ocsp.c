/* The OCSP responder (R6.4, RFC 6960; DESIGN.md "Status").
 *
 * ocsp_respond answers one DER request:
 *   decode (ocsp_request.c) → malformedRequest on failure
 *   match every CertID to one of our issuers → unauthorized otherwise
 *   one CertID, no nonce to honour: the pre-signed response from the store
 *     when it matches the request's CertID, states the current status and is
 *     not past nextUpdate — one lookup, no private-key operation (R10.1);
 *     otherwise sign, store for the next request ("lazy"), answer
 *   a nonce (ocsp_nonce_fresh) or several CertIDs: a fresh signature
 * Every signature on the request path is paid from a budget of
 * ocsp_sign_rate per second.  A CertID is inside the signed data, so an
 * unknown serial cannot be answered from anything pre-signed: a flood of
 * made-up serials would otherwise be a flood of RSA operations.  Beyond the
 * budget, requests that would need a signature get tryLater (§4.2.1), a
 * nonce request falls back to the pre-signed answer without nonce (RFC 8954
 * §2.1 lets a responder leave the nonce out), and pre-signed answers keep
 * flowing. */
#include "ocsp/ocsp_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ocsp_state {
    ocsp_issuer *issuers;
    size_t count;
    pthread_mutex_t lock; /* guards the budget */
    double tokens;
    int64_t refilled_ms;
    ocsp_marks marks;  /* the refresher's, under lock too */
    ocsp_cache *cache; /* the answers of this node (ocsp_cache.c) */
};

/* ---- issuers --------------------------------------------------------------
 */

/* The delegated responder of a CA (ceremony: "<ca>-ocsp", role "ocsp",
 * issued by that CA with id-kp-OCSPSigning, RFC 6960 §4.2.2.2). */
static const lv_ca_entry *find_responder(const lv_ca_entry *entries, size_t n,
                                         const lv_ca_entry *issuer)
{
    const lv_ca_entry *found = NULL;
    for (size_t i = 0; i < n; i++) {
        const lv_ca_entry *e = &entries[i];
        if (strcmp(e->role, "ocsp") != 0 ||
            strcmp(e->issuer, issuer->name) != 0 ||
            X509_check_issued(issuer->cert, e->cert) != X509_V_OK)
            continue;
        if (!found || strcmp(e->status, "active") == 0)
            found = e;
    }
    return found;
}

/* §4.1.1: issuerNameHash over the DER of the issuer's subject name,
 * issuerKeyHash over the value of its subjectPublicKey BIT STRING. */
static int issuer_hashes(ocsp_issuer *is, lv_err *err)
{
    for (int h = 0; h < LV_OCSP_NHASH; h++) {
        unsigned int n = 0, k = 0;
        const EVP_MD *md = ocsp_hash_md(h);
        if (!md ||
            !X509_NAME_digest(X509_get_subject_name(is->ca->cert), md,
                              is->name_hash[h], &n) ||
            !X509_pubkey_digest(is->ca->cert, md, is->key_hash[h], &k))
            return lv_fail_ssl(err, LV_ECRYPTO, "cannot hash CA %s",
                               is->ca->name);
    }
    return 0;
}

static void state_free(void *arg)
{
    ocsp_state *o = arg;
    if (!o)
        return;
    pthread_mutex_destroy(&o->lock);
    ocsp_cache_free(o->cache);
    free(o->issuers);
    free(o);
}

/* The responder's state of a CA context (ca_attachment): every CA
 * certificate of the context with its responder and CertID hashes. */
static int state_make(lv_ca *ca, void **out, lv_err *err)
{
    size_t n = 0;
    const lv_ca_entry *entries = ca_entries(ca, &n);
    ocsp_state *o = calloc(1, sizeof *o);
    if (!o || !(o->issuers = calloc(n + 1, sizeof *o->issuers))) {
        free(o);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&o->lock, NULL);
    if (ocsp_cache_new(ca_config(ca)->ocsp_cache_mib, ca_config(ca)->dir,
                       &o->cache) < 0) {
        state_free(o);
        return lv_fail(err, LV_ENOMEM, "out of memory for the OCSP cache");
    }
    o->tokens = ca_config(ca)->ocsp_sign_rate;
    o->refilled_ms = lv_now_ms();
    for (size_t i = 0; i < n; i++) {
        const lv_ca_entry *e = &entries[i];
        if (X509_check_ca(e->cert) < 1)
            continue;
        ocsp_issuer *is = &o->issuers[o->count++];
        is->ca = e;
        /* §2.6: without a delegated responder the CA answers itself */
        is->responder = find_responder(entries, n, e);
        if (!is->responder)
            is->responder = e;
        int rc = issuer_hashes(is, err);
        if (rc < 0) {
            state_free(o);
            return rc;
        }
    }
    *out = o;
    return 0;
}

/* NULL when it cannot be built (logged): every request is then answered
 * unauthorized or tryLater. */
static ocsp_state *state_of(lv_ca *ca)
{
    void *o = NULL;
    lv_err err = {0};
    if (ca_attachment(ca, CA_ATTACH_OCSP, state_make, state_free, &o, &err) < 0)
        lv_log(LV_LOG_ERROR, "ocsp: %s", err.msg);
    return o;
}

const ocsp_issuer *ocsp_match(lv_ca *ca, const ocsp_id *id)
{
    const ocsp_state *o = state_of(ca);
    if (!o || id->hash < 0)
        return NULL;
    for (size_t i = 0; i < o->count; i++) {
        const ocsp_issuer *is = &o->issuers[i];
        if (memcmp(is->name_hash[id->hash], id->name_hash, id->hash_len) == 0 &&
            memcmp(is->key_hash[id->hash], id->key_hash, id->hash_len) == 0)
            return is;
    }
    return NULL;
}

const ocsp_issuer *ocsp_issuer_by_name(lv_ca *ca, const char *name)
{
    const ocsp_state *o = state_of(ca);
    for (size_t i = 0; o && i < o->count; i++)
        if (strcmp(o->issuers[i].ca->name, name) == 0)
            return &o->issuers[i];
    return NULL;
}

ocsp_cache *ocsp_cache_of(lv_ca *ca)
{
    const ocsp_state *o = state_of(ca);
    return o ? o->cache : NULL;
}

int ocsp_issuer_index(lv_ca *ca, const ocsp_issuer *is)
{
    const ocsp_state *o = state_of(ca);
    return o ? (int)(is - o->issuers) : -1;
}

/* ---- the signing budget ----------------------------------------------------
 */

/* A token bucket: ocsp_sign_rate tokens a second, at most one second's
 * worth saved up. */
int ocsp_budget_take(lv_ca *ca)
{
    ocsp_state *o = state_of(ca);
    double rate = ca_config(ca)->ocsp_sign_rate;
    int ok = 0;
    if (!o || rate <= 0)
        return 0;
    pthread_mutex_lock(&o->lock);
    int64_t now = lv_now_ms();
    o->tokens += (double)(now - o->refilled_ms) * rate / 1000.0;
    if (o->tokens > rate)
        o->tokens = rate;
    o->refilled_ms = now;
    if (o->tokens >= 1.0) {
        o->tokens -= 1.0;
        ok = 1;
    }
    pthread_mutex_unlock(&o->lock);
    return ok;
}

void ocsp_marks_get(lv_ca *ca, ocsp_marks *m)
{
    ocsp_state *o = state_of(ca);
    memset(m, 0, sizeof *m);
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    *m = o->marks;
    pthread_mutex_unlock(&o->lock);
}

void ocsp_marks_set(lv_ca *ca, const ocsp_marks *m)
{
    ocsp_state *o = state_of(ca);
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->marks = *m;
    pthread_mutex_unlock(&o->lock);
}

/* ---- statuses ---------------------------------------------------------------
 */

void ocsp_status_of(const ocsp_issuer *is, const lv_cert_rec *cert, int found,
                    const char *serial, ocsp_status *out)
{
    memset(out, 0, sizeof *out);
    out->reason = -1;
    /* a serial of another of our CAs is not this issuer's certificate */
    if (serial[0] == '\0' || !found || strcmp(cert->ca, is->ca->name) != 0)
        return;
    out->known = 1;
    out->revoked = cert->status == LV_CERT_REVOKED;
    out->revoked_at = cert->revoked_at;
    out->reason = cert->revocation_reason;
}

/* ---- signing
 * ----------------------------------------------------------------- */

int ocsp_error_response(int status, unsigned char **der, size_t *len)
{
    OCSP_RESPONSE *r = OCSP_response_create(status, NULL);
    unsigned char *out = NULL;
    int n = r ? i2d_OCSP_RESPONSE(r, &out) : -1;
    OCSP_RESPONSE_free(r);
    if (n <= 0)
        return LV_ENOMEM;
    *der = out;
    *len = (size_t)n;
    return 0;
}

static ASN1_TIME *unix_time(int64_t t)
{
    return ASN1_GENERALIZEDTIME_set(NULL, (time_t)t);
}

/* §4.2.1 SingleResponse.  RFC 5280 §5.3.1 asks to leave the reason out
 * rather than say unspecified(0); RevokedInfo's reason is optional too. */
static int add_single(OCSP_BASICRESP *bs, OCSP_CERTID *cid,
                      const ocsp_status *s, ASN1_TIME *this_upd,
                      ASN1_TIME *next_upd)
{
    int status = !s->known    ? V_OCSP_CERTSTATUS_UNKNOWN
                 : s->revoked ? V_OCSP_CERTSTATUS_REVOKED
                              : V_OCSP_CERTSTATUS_GOOD;
    int reason =
        s->revoked && s->reason > 0 ? s->reason : OCSP_REVOKED_STATUS_NOSTATUS;
    ASN1_TIME *rev = s->revoked ? unix_time(s->revoked_at) : NULL;
    if (s->revoked && !rev)
        return LV_ENOMEM;
    OCSP_SINGLERESP *single = OCSP_basic_add1_status(bs, cid, status, reason,
                                                     rev, this_upd, next_upd);
    ASN1_TIME_free(rev);
    return single ? 0 : LV_ECRYPTO;
}

/* §4.2.2.2: signed by the delegated responder's key; responderID byKey
 * (RFC 5019 §2.2.3 recommends it: it is stable across re-issuance); the
 * responder certificate travels in `certs` so that clients can check its
 * delegation without fetching anything. */
static int sign_basic(lv_ca *ca, const ocsp_issuer *is, OCSP_BASICRESP *bs,
                      lv_err *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return LV_ENOMEM;
    int rc =
        ca_key_sign_init(ca, is->responder->key_id, EVP_sha256(), ctx, err);
    if (rc == 0 && !OCSP_basic_sign_ctx(bs, is->responder->cert, ctx, NULL,
                                        OCSP_RESPID_KEY))
        rc = ca_key_ctx_failed(err, "signing the OCSP response failed");
    EVP_MD_CTX_free(ctx);
    return rc;
}

static int encode_success(OCSP_BASICRESP *bs, ocsp_signed *out)
{
    OCSP_RESPONSE *r =
        OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    unsigned char *der = NULL;
    int n = r ? i2d_OCSP_RESPONSE(r, &der) : -1;
    OCSP_RESPONSE_free(r);
    if (n <= 0)
        return LV_ENOMEM;
    out->der = der;
    out->len = (size_t)n;
    return 0;
}

int ocsp_sign(lv_ca *ca, const ocsp_issuer *is, OCSP_CERTID *const *ids,
              const ocsp_status *st, int n, OCSP_REQUEST *nonce_req,
              ocsp_signed *out, lv_err *err)
{
    memset(out, 0, sizeof *out);
    out->this_update = lv_now();
    out->next_update =
        out->this_update + (int64_t)ca_config(ca)->ocsp_validity_hours * 3600;
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    ASN1_TIME *this_upd = unix_time(out->this_update);
    ASN1_TIME *next_upd = unix_time(out->next_update);
    int rc = bs && this_upd && next_upd ? 0 : LV_ENOMEM;
    for (int i = 0; rc == 0 && i < n; i++)
        rc = add_single(bs, ids[i], &st[i], this_upd, next_upd);
    /* RFC 8954 §2.1: the nonce comes back unchanged */
    if (rc == 0 && nonce_req && OCSP_copy_nonce(bs, nonce_req) <= 0)
        rc = LV_ECRYPTO;
    if (rc == 0)
        rc = sign_basic(ca, is, bs, err);
    if (rc == 0)
        rc = encode_success(bs, out);
    ASN1_TIME_free(this_upd);
    ASN1_TIME_free(next_upd);
    OCSP_BASICRESP_free(bs);
    if (rc < 0 && err && err->code == 0)
        lv_fail(err, rc, "cannot build the OCSP response");
    return rc;
}

/* ---- answering a request
 * ------------------------------------------------------- */

static int answer_error(int status, lv_ocsp_answer *a)
{
    memset(a, 0, sizeof *a);
    a->status = status;
    return ocsp_error_response(status, &a->der, &a->len);
}

/* A pre-signed response: the same bytes for every such request until its
 * nextUpdate, so HTTP caches may keep it (RFC 5019 §6.2). */
static int answer_stored(const lv_ocsp_rec *rec, lv_ocsp_answer *a)
{
    a->der = OPENSSL_malloc(rec->response_len);
    if (!a->der)
        return LV_ENOMEM;
    memcpy(a->der, rec->response, rec->response_len);
    a->len = rec->response_len;
    a->status = OCSP_RESPONSE_STATUS_SUCCESSFUL;
    a->cacheable = 1;
    a->this_update = rec->this_update;
    a->next_update = rec->next_update;
    return 0;
}

/* §4.2.1 tryLater for what cannot be signed now: sealed key store, or a
 * responder key that fails (logged: that needs an operator). */
static int answer_signed(int rc, ocsp_signed *s, int cacheable,
                         lv_ocsp_answer *a)
{
    if (rc == LV_ECRYPTO)
        lv_log(LV_LOG_WARN, "ocsp: signing failed; answering tryLater");
    if (rc == LV_ESEALED || rc == LV_ECRYPTO)
        return answer_error(OCSP_RESPONSE_STATUS_TRYLATER, a);
    if (rc < 0)
        return rc;
    a->der = s->der;
    a->len = s->len;
    a->status = OCSP_RESPONSE_STATUS_SUCCESSFUL;
    a->cacheable = cacheable;
    a->this_update = s->this_update;
    a->next_update = s->next_update;
    return 0;
}

/* The database behind the cache: what it says now, or tryLater when it
 * cannot be read (issue 17 item 5: a node that lost its database keeps
 * answering from its cache; §2.3 tryLater for the rest). */
static int lookup(lv_store *st, const ocsp_id *id, lv_cert_rec *cert,
                  int *found, lv_ocsp_rec *resp, int *has, lv_ocsp_answer *a)
{
    lv_err why = {0};
    if (!id->serial[0])
        return 0;
    if (store_ocsp_lookup(st, id->serial, ocsp_hash_name(id->hash), cert, found,
                          resp, has, &why) == 0)
        return 0;
    lv_log(LV_LOG_WARN, "ocsp: store unavailable, answering tryLater: %s",
           why.msg);
    return answer_error(OCSP_RESPONSE_STATUS_TRYLATER, a) < 0 ? LV_ENOMEM : 1;
}

/* Several CertIDs, or a nonce to echo: one fresh signature. */
static int answer_fresh(lv_ca *ca, lv_store *st, const ocsp_query *q,
                        const ocsp_issuer *is, lv_ocsp_answer *a, lv_err *err)
{
    OCSP_CERTID *ids[LV_OCSP_MAX_IDS];
    ocsp_status status[LV_OCSP_MAX_IDS];
    for (int i = 0; i < q->count; i++) {
        lv_cert_rec cert = {0};
        lv_ocsp_rec resp = {0};
        int found = 0, has = 0;
        ids[i] = q->ids[i].cid;
        int rc = lookup(st, &q->ids[i], &cert, &found, &resp, &has, a);
        store_ocsp_rec_free(&resp);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        /* the root's certificates are the issuing CAs (cas, not certs) */
        if (!found && q->ids[i].serial[0])
            LV_TRY(store_ocsp_ca_cert(st, q->ids[i].serial, is->ca->name, &cert,
                                      &found, err));
        ocsp_status_of(is, &cert, found, q->ids[i].serial, &status[i]);
    }
    ocsp_signed s;
    int rc = ocsp_sign(ca, is, ids, status, q->count, q->nonce ? q->req : NULL,
                       &s, err);
    return answer_signed(rc, &s, !q->nonce, a);
}

/* May the stored response answer this request? */
static int presigned_usable(const lv_cert_rec *cert, const lv_ocsp_rec *resp,
                            const ocsp_id *id, int64_t now)
{
    return resp->cert_status == cert->status && resp->next_update > now &&
           resp->cert_id_len == id->der_len &&
           memcmp(resp->cert_id, id->der, id->der_len) == 0;
}

/* Returned by respond() when may_sign is 0 and the answer needs a fresh
 * signature. */
#define OCSP_NEEDS_SIGNATURE 1

static int cached(lv_ca *ca, const ocsp_issuer *is, const ocsp_id *id,
                  int to_next_update, lv_ocsp_answer *a)
{
    return ocsp_cache_get(ocsp_cache_of(ca), ocsp_issuer_index(ca, is), id,
                          lv_now(), to_next_update, a);
}

/* Keeps an answer in the node's cache (ocsp_cache.c). */
static void cache_keep(lv_ca *ca, uint64_t gen, const ocsp_issuer *is,
                       const ocsp_id *id, int cert_status,
                       const lv_ocsp_answer *a)
{
    ocsp_signed s = {.der = a->der,
                     .len = a->len,
                     .this_update = a->this_update,
                     .next_update = a->next_update};
    ocsp_cache_put(ocsp_cache_of(ca), gen, ocsp_issuer_index(ca, is), id->hash,
                   id->serial, cert_status, id->der, id->der_len, &s);
}

/* One CertID without nonce: the hot path.  The node's cache first (no
 * database), then the stored response, then a lazy signature; the last two
 * fill the cache. */
static int answer_single(lv_ca *ca, lv_store *st, const ocsp_query *q,
                         const ocsp_issuer *is, int may_sign, lv_ocsp_answer *a,
                         lv_err *err)
{
    const ocsp_id *id = &q->ids[0];
    lv_cert_rec cert = {0};
    lv_ocsp_rec resp = {0};
    int found = 0, has = 0, rc = 0;
    uint64_t gen = ocsp_cache_generation(ocsp_cache_of(ca));
    if (id->serial[0] && cached(ca, is, id, 0, a))
        return 0;
    rc = lookup(st, id, &cert, &found, &resp, &has, a);
    if (rc > 0 && id->serial[0]) {
        /* no database: what we hold, until its nextUpdate, over tryLater */
        lv_ocsp_answer held;
        if (cached(ca, is, id, 1, &held)) {
            ocsp_answer_free(a);
            *a = held;
        }
    }
    if (rc != 0)
        return rc < 0 ? rc : 0;
    int mine = found && strcmp(cert.ca, is->ca->name) == 0;
    if (mine && has && presigned_usable(&cert, &resp, id, lv_now())) {
        rc = answer_stored(&resp, a);
        if (rc == 0)
            cache_keep(ca, gen, is, id, cert.status, a);
    } else if (!may_sign && !ca_sealed(ca)) {
        rc = OCSP_NEEDS_SIGNATURE;
    } else if (ca_sealed(ca) || !ocsp_budget_take(ca)) {
        rc = answer_error(OCSP_RESPONSE_STATUS_TRYLATER, a);
    } else if (mine) {
        ocsp_signed s;
        rc = ocsp_presign_cid(ca, st, is, id->cid, id->hash, &cert, "lazy", &s,
                              err);
        rc = answer_signed(rc, &s, 1, a);
        if (rc == 0 && a->status == OCSP_RESPONSE_STATUS_SUCCESSFUL)
            cache_keep(ca, gen, is, id, cert.status, a);
    } else {
        ocsp_query one = *q;
        one.count = 1;
        one.nonce = 0;
        rc = answer_fresh(ca, st, &one, is, a, err);
    }
    store_ocsp_rec_free(&resp);
    return rc;
}

/* The signing pool opens connections of its own: with the database gone
 * the deferred request would fail before reaching us, so a request that
 * needs a signature first probes the store here (issue 17: tryLater,
 * §2.3, on a node that lost its database). */
static int defer_if_reachable(lv_store *st, const ocsp_id *id,
                              lv_ocsp_answer *a)
{
    lv_cert_rec cert = {0};
    lv_ocsp_rec resp = {0};
    int found = 0, has = 0;
    int rc = lookup(st, id, &cert, &found, &resp, &has, a);
    store_ocsp_rec_free(&resp);
    return rc == 0 ? OCSP_NEEDS_SIGNATURE : rc < 0 ? rc : 0;
}

static int respond(lv_ca *ca, lv_store *st, const ocsp_query *q, int may_sign,
                   lv_ocsp_answer *a, lv_err *err)
{
    const ocsp_issuer *is = NULL;
    for (int i = 0; i < q->count; i++) {
        const ocsp_issuer *m = ocsp_match(ca, &q->ids[i]);
        /* §2.3 unauthorized: not a CA we answer for.  One response has
         * one signer, and a delegated responder speaks for its own CA
         * only (§4.2.2.2), so a request mixing issuers is refused too. */
        if (!m || (is && m != is))
            return answer_error(OCSP_RESPONSE_STATUS_UNAUTHORIZED, a);
        is = m;
    }
    if (is == NULL) /* no CertID: ocsp_query_parse refuses it already */
        return answer_error(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, a);
    int wants_nonce = q->nonce && ca_config(ca)->ocsp_nonce_fresh;
    if (q->count == 1 && !wants_nonce)
        return answer_single(ca, st, q, is, may_sign, a, err);
    if (!may_sign && !ca_sealed(ca))
        return defer_if_reachable(st, &q->ids[0], a);
    if (!ca_sealed(ca) && ocsp_budget_take(ca))
        return answer_fresh(ca, st, q, is, a, err);
    if (q->count == 1)
        return answer_single(ca, st, q, is, may_sign, a, err);
    return answer_error(OCSP_RESPONSE_STATUS_TRYLATER, a);
}

static int respond_any(lv_ca *ca, lv_store *st, const unsigned char *req,
                       size_t req_len, int may_sign, lv_ocsp_answer *out,
                       lv_err *err)
{
    ocsp_query q;
    lv_err why = {0};
    int rc;
    memset(out, 0, sizeof *out);
    if (ocsp_query_parse(req, req_len, &q, &why) < 0) {
        lv_log(LV_LOG_DEBUG, "ocsp: malformed request: %s", why.msg);
        return answer_error(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, out);
    }
    rc = respond(ca, st, &q, may_sign, out, err);
    ocsp_query_free(&q);
    if (rc == OCSP_NEEDS_SIGNATURE)
        return 0;
    if (rc < 0) {
        /* §4.2.1 internalError (the store failed, say): the client may try
         * another responder */
        lv_log(LV_LOG_ERROR, "ocsp: %s",
               err && err->msg[0] ? err->msg : lv_err_name(rc));
        ocsp_answer_free(out);
        rc = answer_error(OCSP_RESPONSE_STATUS_INTERNALERROR, out);
    }
    return rc;
}

int ocsp_respond(lv_ca *ca, lv_store *st, const unsigned char *req,
                 size_t req_len, lv_ocsp_answer *out, lv_err *err)
{
    return respond_any(ca, st, req, req_len, 1, out, err);
}

int ocsp_respond_ready(lv_ca *ca, lv_store *st, const unsigned char *req,
                       size_t req_len, lv_ocsp_answer *out, lv_err *err)
{
    return respond_any(ca, st, req, req_len, 0, out, err);
}

void ocsp_answer_free(lv_ocsp_answer *a)
{
    if (!a)
        return;
    OPENSSL_free(a->der);
    memset(a, 0, sizeof *a);
}
