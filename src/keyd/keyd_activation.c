/* sign_citizen_digests: sole control verified by the module that holds the
 * key (R5.1, R5.2; CEN EN 419 241-1 §7 "signature activation": the SAM
 * checks the SAD against the data to be signed; EN 419 241-2 SAM
 * protection profile).
 *
 * The front end may only *write* an activation record, after it verified
 * the citizen's password and an OTP bound to the digests (R3.3); keyd
 * *consumes* it.  In one transaction keyd marks the record used with one
 * conditional UPDATE whose WHERE clause is the whole check — exists,
 * unused, unexpired, this key, this algorithm, this count, these digests
 * in this order — and writes sign.activation_use next to it; only when
 * exactly one row changed and that commit succeeded does it sign.  A
 * presentation that does not lead to a signature uses the record up
 * anyway (single use, whatever happens) and is audited with its reason.
 *
 * keys/ keeps its own in-memory gate (keys_activation_mint +
 * keys_signer_sign, the only path to a signer key): keyd mints that token
 * only after the record was consumed, so both locks have to open. */
#include "audit/audit.h"
#include "keyd/keyd_internal.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The request, checked and flattened. */
typedef struct {
    char key_id[LV_KEY_ID_LEN + 1];
    const EVP_MD *md;
    const char *md_name; /* canonical: part of the binding */
    size_t n, dlen;
    unsigned char *digests; /* n * dlen bytes */
    unsigned char binding[32];
    char act_id[65]; /* SHA-256 hex of the reference: the record id */
} digest_req;

static int parse_digests(const KEYD_SIGN_DIGESTS_REQ *q, digest_req *d,
                         lv_err *err)
{
    int n = sk_ASN1_OCTET_STRING_num(q->digests);
    if (n < 1 || n > KEYD_DIGESTS_MAX)
        return lv_fail(err, LV_EINVAL, "1 to %d digests per request",
                       KEYD_DIGESTS_MAX);
    d->n = (size_t)n;
    d->digests = malloc(d->n * d->dlen);
    if (!d->digests)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const ASN1_OCTET_STRING *o = sk_ASN1_OCTET_STRING_value(q->digests, i);
        if ((size_t)ASN1_STRING_length(o) != d->dlen)
            return lv_fail(err, LV_EINVAL, "digest %d is not a %s digest", i,
                           d->md_name);
        memcpy(d->digests + (size_t)i * d->dlen, ASN1_STRING_get0_data(o),
               d->dlen);
    }
    return 0;
}

static int parse(const KEYD_SIGN_DIGESTS_REQ *q, digest_req *d, lv_err *err)
{
    char mdname[16];
    LV_TRY(keyd_key_id(q->key_id, d->key_id, err));
    LV_TRY(keyd_str_get(q->md, mdname, sizeof mdname, "digest", err));
    d->md = keyd_md_by_name(mdname);
    if (!d->md)
        return lv_fail(err, LV_EINVAL, "digest %s not allowed (R4.1)", mdname);
    d->md_name = keyd_md_name(d->md);
    d->dlen = (size_t)EVP_MD_get_size(d->md);
    if (ASN1_STRING_length(q->activation) != KEYD_ACTIVATION_LEN)
        return lv_fail(err, LV_EINVAL, "an activation reference has %d bytes",
                       KEYD_ACTIVATION_LEN);
    LV_TRY(parse_digests(q, d, err));
    LV_TRY(store_activation_id(ASN1_STRING_get0_data(q->activation), d->act_id,
                               err));
    return store_activation_binding(d->key_id, d->md_name, d->digests, d->n,
                                    d->binding, err);
}

/* ---- audit ----------------------------------------------------------------
 */

static json_t *use_details(const keyd_call *call, const digest_req *d)
{
    json_t *j = keyd_peer_json(call);
    char ref[17];
    snprintf(ref, sizeof ref, "%.16s", d->act_id);
    json_object_set_new(j, "activation", json_string(ref));
    json_object_set_new(j, "md", json_string(d->md_name));
    json_object_set_new(j, "n", json_integer((json_int_t)d->n));
    return j;
}

static void key_object(const digest_req *d, char out[48])
{
    snprintf(out, 48, "key:%s", d->key_id);
}

/* ---- refusals: explain, use up, audit -------------------------------------
 */

/* Why the conditional UPDATE changed nothing, from the record as it is
 * now (names the first condition that failed). */
static const char *explain(const lv_activation_rec *r, const digest_req *d,
                           int64_t now)
{
    if (r->used_at)
        return "activation already used";
    if (r->expires_at <= now)
        return "activation expired";
    if (strcmp(r->key_id, d->key_id) != 0)
        return "activation is for another key";
    if (strcmp(r->md, d->md_name) != 0 || r->n != (int64_t)d->n ||
        CRYPTO_memcmp(r->binding, d->binding, sizeof d->binding) != 0)
        return "activation is for other digests";
    return "activation changed meanwhile";
}

static void refuse(keyd_call *call, const digest_req *d, lv_store *st,
                   const char *reason)
{
    char actor[64], object[48];
    lv_err err = {0};
    keyd_actor(call, actor);
    key_object(d, object);
    if (st &&
        store_activation_burn(st, d->act_id, lv_now(), actor, reason, &err) < 0)
        lv_log(LV_LOG_ERROR, "llave-keyd: cannot use up activation: %s",
               err.msg);
    json_t *j = use_details(call, d);
    json_object_set_new(j, "reason", json_string(reason));
    keyd_audit(call->conn, actor, "sign.activation_use", object,
               LV_AUDIT_FAILURE, j);
    call->audited = 1;
}

static int refuse_mismatch(keyd_call *call, const digest_req *d, lv_store *st,
                           lv_err *err)
{
    lv_activation_rec rec;
    lv_err ignored = {0};
    int64_t now = lv_now();
    const char *why = "no such activation";
    if (store_activation_get(st, d->act_id, &rec, &ignored) == 0)
        why = explain(&rec, d, now);
    refuse(call, d, st, why);
    return lv_fail(err, LV_EPERM, "%s (R5.2): nothing signed", why);
}

/* ---- the one step -------------------------------------------------------- */

static int use_in_tx(keyd_call *call, const digest_req *d, lv_store *st,
                     lv_err *err)
{
    char used_by[64], object[48];
    lv_activation_rec rec;
    keyd_actor(call, used_by);
    key_object(d, object);
    LV_TRY(store_activation_consume(st, d->act_id, d->key_id, d->md_name,
                                    (int64_t)d->n, d->binding, lv_now(),
                                    used_by, err));
    /* The citizen who authorized is the actor of the use. */
    LV_TRY(store_activation_get(st, d->act_id, &rec, err));
    json_t *j = use_details(call, d);
    int rc = audit_log(st, rec.actor, "sign.activation_use", object,
                       LV_AUDIT_SUCCESS, j, err);
    json_decref(j);
    return rc;
}

/* 0: consumed and committed, the caller may sign; < 0: nothing may be
 * signed (refusals are audited here). */
static int consume(keyd_call *call, const digest_req *d, lv_store *st,
                   lv_err *err)
{
    LV_TRY(store_begin(st, err));
    int rc = use_in_tx(call, d, st, err);
    if (rc == 0)
        return store_commit(st, err);
    store_rollback(st);
    return rc == LV_EPERM ? refuse_mismatch(call, d, st, err) : rc;
}

/* ---- the key ---------------------------------------------------------------
 */

static int signer_key(keyd_call *call, lv_keystore *ks, const digest_req *d,
                      lv_store *st, lv_err *err)
{
    lv_key_class cls;
    lv_err why = {0};
    int rc = keys_info(ks, d->key_id, NULL, &cls, &why);
    if (rc == 0 && cls != LV_KEY_CLASS_SIGNER)
        rc =
            lv_fail(&why, LV_EPERM, "key %s is not a citizen's key", d->key_id);
    if (rc == LV_EPERM || rc == LV_ENOTFOUND) {
        refuse(call, d, st, why.msg);
        return lv_fail(err, rc, "%s: nothing signed", why.msg);
    }
    if (rc < 0)
        *err = why;
    return rc;
}

/* keys/'s own gate: a token minted now, for exactly these digests, and
 * redeemed at once. */
static int sign_now(lv_keystore *ks, const digest_req *d, unsigned char **sigs,
                    size_t *sig_len, lv_err *err)
{
    char token[LV_ACTIVATION_TOKEN_LEN + 1];
    LV_TRY(keys_activation_mint(ks, d->key_id, d->md, d->digests, d->n, 60,
                                token, err));
    int rc = keys_signer_sign(ks, d->key_id, token, d->md, d->digests, d->n,
                              sigs, sig_len, err);
    OPENSSL_cleanse(token, sizeof token);
    return rc;
}

static int sigs_response(const unsigned char *sigs, size_t n, size_t len,
                         void **resp, lv_err *err)
{
    KEYD_SIGS_RESP *r = KEYD_SIGS_RESP_new();
    int ok = r != NULL && len <= INT32_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
        ok = o && ASN1_OCTET_STRING_set(o, sigs + i * len, (int)len) &&
             sk_ASN1_OCTET_STRING_push(r->signatures, o) > 0;
        if (!ok)
            ASN1_OCTET_STRING_free(o);
    }
    if (!ok) {
        KEYD_SIGS_RESP_free(r);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    *resp = r;
    return 0;
}

static int sign_activated(keyd_call *call, lv_keystore *ks, digest_req *d,
                          void **resp, lv_err *err)
{
    unsigned char *sigs = NULL;
    size_t len = 0;
    lv_store *st;
    LV_TRY(keyd_conn_store(call->conn, &st, err));
    LV_TRY(signer_key(call, ks, d, st, err));
    LV_TRY(consume(call, d, st, err));
    int rc = sign_now(ks, d, &sigs, &len, err);
    if (rc < 0) {
        char reason[LV_ERR_MSG_MAX + 40];
        snprintf(reason, sizeof reason, "signing failed after use: %s",
                 err->msg);
        refuse(call, d, NULL, reason);
        return rc;
    }
    call->audited = 1;
    rc = sigs_response(sigs, d->n, len, resp, err);
    free(sigs);
    return rc;
}

int keyd_sign_citizen_digests(keyd_call *call, void *req, void **resp,
                              lv_err *err)
{
    digest_req d = {0};
    lv_keystore *ks = keyd_keystore(call->conn->srv);
    if (!ks)
        return lv_fail(err, LV_ESEALED,
                       "the key store is sealed: %d of %d custodian shares "
                       "are needed",
                       LV_SHARES_NEEDED, LV_SHARES_TOTAL);
    int rc = parse(req, &d, err);
    if (rc == 0)
        rc = sign_activated(call, ks, &d, resp, err);
    free(d.digests);
    return rc;
}
