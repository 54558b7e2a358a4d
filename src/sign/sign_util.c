/* Shared pieces of sign/: digest algorithms, refusal names, the binding of
 * an authorization to its digests, audit helpers, and the one place where a
 * signer key is used (sign_with_key). */
#include "audit/audit.h"
#include "keydproto/keydproto.h"
#include "sign/sign_internal.h"
#include "tsa/tsa.h"

#include <openssl/ts.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const REFUSALS[] = {
    [LV_SIGN_OK] = "ok",
    [LV_SIGN_UNKNOWN_CITIZEN] = "unknown_citizen",
    [LV_SIGN_BASIC_LEVEL] = "basic_level",
    [LV_SIGN_DOCUMENT_EXPIRED] = "document_expired",
    [LV_SIGN_NO_CERTIFICATE] = "no_valid_certificate",
    [LV_SIGN_CERTIFICATE_BLOCKED] = "certificate_blocked",
    [LV_SIGN_LOCKED] = "citizen_locked",
    [LV_SIGN_NOT_ACTIVE] = "citizen_not_active",
    [LV_SIGN_BAD_PASSWORD] = "invalid_password",
    [LV_SIGN_BAD_OTP] = "invalid_otp",
    [LV_SIGN_NOT_ACCEPTED] = "certificate_not_accepted",
};

const char *sign_refusal_name(lv_sign_refusal r)
{
    if ((unsigned)r >= sizeof REFUSALS / sizeof REFUSALS[0])
        return "refused";
    return REFUSALS[r];
}

/* ---- digest algorithms (R4.1: SHA-2 only) --------------------------------
 * keyd's list (keydproto), which the citizen's key signs with; the CSC API
 * also names them by OID. */
const EVP_MD *sign_md_by_name(const char *name)
{
    return keyd_md_by_name(name);
}

const char *sign_md_name(const EVP_MD *md)
{
    return keyd_md_name(md);
}

const EVP_MD *sign_md_by_oid(const char *oid)
{
    return keyd_md_by_oid(oid);
}

const char *sign_md_oid(const EVP_MD *md)
{
    return keyd_md_oid(md);
}

/* ---- hashing and ids
 * ---------------------------------------------------------- */

int sign_binding(const char *context, const EVP_MD *md,
                 const unsigned char *digests, size_t n, lv_buf *out)
{
    static const char label[] = "llave-sign-v1";
    const char *name = sign_md_name(md);
    size_t dlen = md ? (size_t)EVP_MD_get_size(md) : 0;
    memset(out, 0, sizeof *out);
    int rc = lv_buf_append(out, label, sizeof label);
    if (rc == 0)
        rc = lv_buf_append(out, context, strlen(context) + 1);
    if (rc == 0)
        rc = lv_buf_append(out, name, strlen(name) + 1);
    if (rc == 0 && n)
        rc = lv_buf_append(out, digests, n * dlen);
    if (rc < 0)
        lv_buf_free(out);
    return rc;
}

/* ---- audit
 * -------------------------------------------------------------------------- */

void sign_citizen_actor(const char *citizen_id, char out[96])
{
    snprintf(out, 96, "citizen:%s", citizen_id);
}

int sign_audit(lv_store *st, const char *actor, const char *event,
               const char *object, json_t *details, lv_err *err)
{
    int rc =
        audit_log(st, actor, event, object, LV_AUDIT_SUCCESS, details, err);
    json_decref(details);
    return rc;
}

int sign_text_ok(const char *s, size_t min, size_t max)
{
    if (!s)
        return min == 0;
    size_t n = lv_utf8_chars(s);
    if (n < min || n > max)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

int sign_login_answer(json_t *view, const lv_session_token *tok, json_t **out,
                      lv_err *err)
{
    *out = view;
    if (!view)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    json_object_set_new(view, "token", json_string(tok->token));
    json_object_set_new(view, "expires_in",
                        json_integer(tok->expires_at - lv_now()));
    return 0;
}

int sign_update_audited(lv_store *st, lv_row_update_fn update, const void *row,
                        const char *from, const char *actor, const char *event,
                        const char *object, json_t *details, lv_err *err)
{
    int rc = store_begin(st, err);
    if (rc < 0) {
        json_decref(details);
        return rc;
    }
    rc = update(st, row, from, err);
    if (rc == 0)
        rc = sign_audit(st, actor, event, object, details, err);
    else
        json_decref(details);
    return store_end(st, rc, err);
}

/* CPS §5.4.1: a refused signature is a security event, recorded even
 * though nothing else changes. */
void sign_audit_refusal(lv_store *st, const char *actor, const char *event,
                        const char *object, lv_sign_refusal why,
                        const lv_err *reason)
{
    json_t *d =
        json_pack("{s:s, s:s}", "refusal", sign_refusal_name(why), "reason",
                  reason && reason->msg[0] ? reason->msg : "");
    if (store_in_transaction(st))
        store_rollback(st);
    audit_log_standalone(st, actor, event, object, LV_AUDIT_FAILURE, d, NULL);
    json_decref(d);
}

lv_sign_refusal sign_auth_refusal(int rc, const lv_err *err)
{
    const char *m = err ? err->msg : "";
    if (rc == LV_ELIMIT) /* throttled (issue 11): 429 + Retry-After */
        return LV_SIGN_OK;
    if (rc == LV_EPERM && strstr(m, "locked"))
        return LV_SIGN_LOCKED;
    if (strstr(m, "password") || strstr(m, "user id"))
        return LV_SIGN_BAD_PASSWORD;
    return LV_SIGN_BAD_OTP;
}

/* ---- the signer key
 * ------------------------------------------------------------------ */

/* Seconds an activation record lives: it is presented to keyd right
 * away, so a minute covers a busy keyd without leaving it usable later. */
#define ACTIVATION_TTL 60

int sign_activation_write(lv_store *st, const char *actor, const char *key_id,
                          const EVP_MD *md, const unsigned char *digests,
                          size_t n, unsigned char ref[LV_ACTIVATION_REF_LEN],
                          lv_err *err)
{
    return store_activation_create(st, key_id, sign_md_name(md), digests, n,
                                   ACTIVATION_TTL, actor, ref, err);
}

/* keyd consumes the record in one conditional UPDATE before it signs, so
 * it works once; its reference (the only copy) is wiped here whatever
 * happens. */
int sign_activated(const lv_sign_env *env, const char *key_id, const EVP_MD *md,
                   const unsigned char *digests, size_t n,
                   unsigned char ref[LV_ACTIVATION_REF_LEN],
                   unsigned char **sigs, size_t *sig_len, lv_err *err)
{
    int rc = env->ca
                 ? ca_key_sign_citizen(env->ca, key_id, md, digests, n, ref,
                                       sigs, sig_len, err)
                 : lv_fail(err, LV_ESEALED, "no key service in this context");
    OPENSSL_cleanse(ref, LV_ACTIVATION_REF_LEN);
    return rc;
}

/* R5.2, CEN EN 419 241-1 (SAD): the record is bound to this key and
 * exactly these digests, committed, and presented to llave-keyd at once. */
int sign_with_key(const lv_sign_env *env, lv_store *st, const char *actor,
                  const char *key_id, const EVP_MD *md,
                  const unsigned char *digests, size_t n, unsigned char **sigs,
                  size_t *sig_len, lv_err *err)
{
    unsigned char ref[LV_ACTIVATION_REF_LEN];
    *sigs = NULL;
    *sig_len = 0;
    if (!env->ca)
        return lv_fail(err, LV_ESEALED, "no key service in this context");
    LV_TRY(ca_need_keys(env->ca, "no signature can be made", err));
    if (store_in_transaction(st))
        return lv_fail(err, LV_EINTERNAL,
                       "activation record inside an open transaction: keyd "
                       "would not see it");
    LV_TRY(sign_activation_write(st, actor, key_id, md, digests, n, ref, err));
    return sign_activated(env, key_id, md, digests, n, ref, sigs, sig_len, err);
}

int sign_cert_key(lv_store *st, const char *serial, char key_id[65],
                  lv_err *err)
{
    lv_cert_rec c;
    LV_TRY(store_cert_get(st, serial, &c, err));
    snprintf(key_id, 65, "%s", c.key_id);
    store_cert_rec_free(&c);
    if (key_id[0] == '\0')
        return lv_fail(err, LV_ESTATE,
                       "certificate %s has no key in the key store", serial);
    return 0;
}

/* ---- time-stamps from our TSA (CAdES-T, XAdES-T)
 * ------------------------------------------------ */

/* The token of a granted reply, DER (malloc'd); LV_ESTATE when the TSA
 * refused. */
static int ts_token(const unsigned char *reply, size_t len, unsigned char **out,
                    size_t *out_len, lv_err *err)
{
    const unsigned char *p = reply;
    unsigned char *der = NULL;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
    if (!resp)
        return lv_fail(err, LV_ECRYPTO, "the TSA reply does not parse");
    long status = ASN1_INTEGER_get(
        TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp)));
    PKCS7 *tok = TS_RESP_get_token(resp);
    int n = (status == 0 || status == 1) && tok ? i2d_PKCS7(tok, &der) : -1;
    TS_RESP_free(resp);
    if (n <= 0)
        return lv_fail(err, LV_EBUSY,
                       "the time-stamp unit granted no time-stamp (status "
                       "%ld); try again later",
                       status);
    *out = malloc((size_t)n);
    if (*out)
        memcpy(*out, der, (size_t)n);
    OPENSSL_free(der);
    *out_len = (size_t)n;
    return *out ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
}

int sign_tsa_token(const lv_sign_env *env, lv_store *st, const EVP_MD *md,
                   const unsigned char *digest, size_t dlen,
                   unsigned char **token, size_t *token_len, lv_err *err)
{
    unsigned char *q = NULL, *reply = NULL;
    int qlen = 0;
    size_t rlen = 0;
    *token = NULL;
    *token_len = 0;
    if (!env->ca)
        return lv_fail(err, LV_ESTATE, "no TSA loaded");
    if (!md || tsa_query(md, digest, dlen, &q, &qlen) < 0)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot build the TSA query");
    int rc =
        tsa_respond(env->ca, st, NULL, q, (size_t)qlen, &reply, &rlen, err);
    if (rc == 0)
        rc = ts_token(reply, rlen, token, token_len, err);
    OPENSSL_free(q);
    OPENSSL_free(reply);
    return rc;
}

/* ---- the signer's certificate and chain (XAdES, PAdES)
 * ------------------------------------------ */

int sign_cert_x509(lv_store *st, const char *serial, X509 **out,
                   char ca_name[32], lv_err *err)
{
    lv_cert_rec rec;
    LV_TRY(store_cert_get(st, serial, &rec, err));
    const unsigned char *p = rec.der;
    *out = d2i_X509(NULL, &p, (long)rec.der_len);
    snprintf(ca_name, 32, "%s", rec.ca);
    store_cert_rec_free(&rec);
    return *out ? 0
                : lv_fail(err, LV_ESTORE, "certificate %s unreadable", serial);
}

static STACK_OF(X509) *ca_chain(const lv_sign_env *env, const char *ca_name)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *issuer = ca_cert(env->ca, ca_name);
    X509 *root = env->cfg ? ca_cert(env->ca, env->cfg->root_name) : NULL;
    if (sk && issuer)
        sk_X509_push(sk, issuer);
    if (sk && root && root != issuer)
        sk_X509_push(sk, root);
    return sk;
}

/* ---- signDoc of whole documents (sign_xades.c, sign_pades.c) ------------ */

int sign_doc_sign_cb(void *arg, const EVP_MD *md, const unsigned char *digest,
                     size_t digest_len, unsigned char **sig, size_t *sig_len,
                     lv_err *err)
{
    sign_doc_ctx *x = arg;
    char key_id[65], actor[96];
    if (digest_len != (size_t)EVP_MD_get_size(md))
        return lv_fail(err, LV_EINTERNAL, "digest length");
    LV_TRY(sign_csc_use_sad(x->st, x->citizen_id, x->serial, x->sad, x->md,
                            x->doc_digest, 1, "sign.csc.sign_doc", key_id,
                            x->why, err));
    x->consumed = 1;
    sign_citizen_actor(x->citizen_id, actor);
    return sign_with_key(x->env, x->st, actor, key_id, md, digest, 1, sig,
                         sig_len, err);
}

int sign_doc_end(sign_doc_ctx *x, int rc, const lv_err *err)
{
    if (rc < 0 && x->consumed)
        sign_csc_sad_give_back(x->st, x->citizen_id, x->serial, x->sad, 1, err);
    return rc;
}

int sign_doc_start(sign_doc_ctx *x, const lv_doc_req *d, char serial[65],
                   const char *format, lv_err *err)
{
    lv_err ignored = {0};
    *x->why = LV_SIGN_OK;
    x->serial = serial;
    x->sad = d->sad;
    x->md = d->md;
    LV_TRY(ca_need_keys(x->env->ca, "no signature can be made", err));
    if (!d->serial || ca_serial_normalize(d->serial, serial, &ignored) < 0)
        return lv_fail(err, LV_EINVAL, "invalid credentialID");
    if (!x->md || !d->doc || d->doc_len == 0)
        return lv_fail(err, LV_EINVAL, "%s needs the document itself", format);
    if (EVP_Digest(d->doc, d->doc_len, x->doc_digest, NULL, x->md, NULL) != 1)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot hash the document");
    return 0;
}

int sign_doc_signer(const sign_doc_ctx *x, X509 **cert, STACK_OF(X509) **chain,
                    lv_err *err)
{
    char ca_name[32];
    *chain = NULL;
    LV_TRY(sign_cert_x509(x->st, x->serial, cert, ca_name, err));
    if ((*chain = ca_chain(x->env, ca_name)) != NULL)
        return 0;
    X509_free(*cert);
    *cert = NULL;
    return lv_fail(err, LV_ENOMEM, "out of memory");
}

void sign_doc_signer_free(X509 *cert, STACK_OF(X509) *chain)
{
    sk_X509_free(chain); /* the CA context owns the certificates */
    X509_free(cert);
}

int sign_doc_tsa_cb(void *arg, const EVP_MD *md, const unsigned char *digest,
                    size_t digest_len, unsigned char **token, size_t *token_len,
                    lv_err *err)
{
    sign_doc_ctx *x = arg;
    return sign_tsa_token(x->env, x->st, md, digest, digest_len, token,
                          token_len, err);
}
