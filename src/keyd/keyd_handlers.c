/* The rows of the request table that touch no activation: status, public
 * key, signing a TBS with a CA or service key, and generating a citizen's
 * key.  Each handler gets its decoded request body and returns a response
 * body; the dispatcher encodes it and audits refusals. */
#include "audit/audit.h"
#include "keyd/keyd_internal.h"

#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LLAVE_VERSION
#define LLAVE_VERSION "unknown"
#endif

lv_keystore *keyd_keystore(keyd_server *s)
{
    return atomic_load(&s->ks);
}

static lv_keystore *open_keystore(keyd_call *call, lv_err *err)
{
    lv_keystore *ks = keyd_keystore(call->conn->srv);
    if (!ks)
        lv_fail(err, LV_ESEALED,
                "the key store is sealed: %d of %d custodian shares are "
                "needed",
                LV_SHARES_NEEDED, LV_SHARES_TOTAL);
    return ks;
}

int keyd_key_id(const ASN1_STRING *s, char id[LV_KEY_ID_LEN + 1], lv_err *err)
{
    LV_TRY(keyd_str_get(s, id, LV_KEY_ID_LEN + 1, "key id", err));
    for (size_t i = 0; i < LV_KEY_ID_LEN; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return lv_fail(err, LV_EINVAL, "invalid key id");
    }
    return id[LV_KEY_ID_LEN] == '\0'
               ? 0
               : lv_fail(err, LV_EINVAL, "invalid key id");
}

/* ---- status --------------------------------------------------------------
 */

int keyd_status(keyd_call *call, void *req, void **resp, lv_err *err)
{
    keyd_server *s = call->conn->srv;
    int64_t counts[3];
    (void)req;
    LV_TRY(keys_count(s->dir, counts, err));
    KEYD_STATUS_RESP *r = KEYD_STATUS_RESP_new();
    if (!r || keyd_str_set(r->server, "llave-keyd " LLAVE_VERSION) < 0) {
        KEYD_STATUS_RESP_free(r);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    r->sealed = keyd_keystore(s) == NULL ? 0xff : 0;
    r->shares_received = keyd_unseal_received(s);
    r->shares_needed = LV_SHARES_NEEDED;
    r->ca_keys = counts[LV_KEY_CLASS_CA];
    r->service_keys = counts[LV_KEY_CLASS_SERVICE];
    r->signer_keys = counts[LV_KEY_CLASS_SIGNER];
    *resp = r;
    return 0;
}

/* ---- public key ----------------------------------------------------------
 */

static int pubkey_fill(lv_keystore *ks, const char *id, X509_PUBKEY **spki,
                       ASN1_STRING *cls_out, ASN1_STRING *type_out, lv_err *err)
{
    EVP_PKEY *pub = NULL;
    lv_key_type type;
    lv_key_class cls;
    LV_TRY(keys_info(ks, id, &type, &cls, err));
    LV_TRY(keys_public(ks, id, &pub, err));
    int ok = X509_PUBKEY_set(spki, pub) == 1;
    EVP_PKEY_free(pub);
    if (!ok)
        return lv_fail_ssl(err, LV_ECRYPTO, "key %s: no public key", id);
    if ((cls_out && keyd_str_set(cls_out, keys_class_name(cls)) < 0) ||
        (type_out && keyd_str_set(type_out, keys_type_name(type)) < 0))
        return lv_fail(err, LV_ENOMEM, "out of memory");
    return 0;
}

int keyd_public_key(keyd_call *call, void *req, void **resp, lv_err *err)
{
    KEYD_KEY_REQ *q = req;
    char id[LV_KEY_ID_LEN + 1];
    lv_keystore *ks = open_keystore(call, err);
    if (!ks)
        return LV_ESEALED;
    LV_TRY(keyd_key_id(q->key_id, id, err));
    KEYD_PUBKEY_RESP *r = KEYD_PUBKEY_RESP_new();
    if (!r)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = pubkey_fill(ks, id, &r->spki, r->key_class, r->key_type, err);
    if (rc < 0) {
        KEYD_PUBKEY_RESP_free(r);
        return rc;
    }
    *resp = r;
    return 0;
}

/* ---- sign a TBS ---------------------------------------------------------- */

/* R5.2: a citizen's key never signs here, whatever the caller asks; only
 * CA and service keys sign what their caller assembled. */
static int service_key(lv_keystore *ks, const char *id, lv_err *err)
{
    lv_key_class cls;
    LV_TRY(keys_info(ks, id, NULL, &cls, err));
    if (cls != LV_KEY_CLASS_CA && cls != LV_KEY_CLASS_SERVICE)
        return lv_fail(err, LV_EPERM,
                       "key %s is a %s key: it signs only with a citizen's "
                       "activation (sign_citizen_digests, R5.2)",
                       id, keys_class_name(cls));
    return 0;
}

/* A precomputed digest (a TBS too large for a frame): the signature
 * OpenSSL would make over the data, on either key store back end. */
static int sign_prehashed(lv_keystore *ks, const char *id, const EVP_MD *md,
                          const ASN1_OCTET_STRING *dgst, unsigned char **sig,
                          size_t *sig_len, lv_err *err)
{
    if (ASN1_STRING_length(dgst) != EVP_MD_get_size(md))
        return lv_fail(err, LV_EINVAL, "a %s digest has %d bytes",
                       keyd_md_name(md), EVP_MD_get_size(md));
    return keys_sign_digest(ks, id, md, ASN1_STRING_get0_data(dgst),
                            (size_t)ASN1_STRING_length(dgst), sig, sig_len,
                            err);
}

static int sig_response(unsigned char *sig, size_t len, void **resp,
                        lv_err *err)
{
    KEYD_SIG_RESP *r = KEYD_SIG_RESP_new();
    int ok = r && len <= INT32_MAX &&
             ASN1_OCTET_STRING_set(r->signature, sig, (int)len);
    free(sig);
    if (!ok) {
        KEYD_SIG_RESP_free(r);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    *resp = r;
    return 0;
}

int keyd_sign_tbs(keyd_call *call, void *req, void **resp, lv_err *err)
{
    KEYD_SIGN_TBS_REQ *q = req;
    char id[LV_KEY_ID_LEN + 1], mdname[16];
    unsigned char *sig = NULL;
    size_t len = 0;
    lv_keystore *ks = open_keystore(call, err);
    if (!ks)
        return LV_ESEALED;
    LV_TRY(keyd_key_id(q->key_id, id, err));
    LV_TRY(keyd_str_get(q->md, mdname, sizeof mdname, "digest", err));
    const EVP_MD *md = keyd_md_by_name(mdname);
    if (!md)
        return lv_fail(err, LV_EINVAL, "digest %s not allowed (R4.1)", mdname);
    LV_TRY(service_key(ks, id, err));
    if (q->prehashed)
        LV_TRY(sign_prehashed(ks, id, md, q->tbs, &sig, &len, err));
    else
        LV_TRY(keys_sign(ks, id, md, ASN1_STRING_get0_data(q->tbs),
                         (size_t)ASN1_STRING_length(q->tbs), &sig, &len, err));
    return sig_response(sig, len, resp, err);
}

/* ---- generate a citizen's key (R5.1) ------------------------------------- */

/* Citizens' keys sign PKCS#1 v1.5 through keys_signer_sign: RSA only. */
static int citizen_type(const ASN1_STRING *s, lv_key_type *type, lv_err *err)
{
    char name[16];
    LV_TRY(keyd_str_get(s, name, sizeof name, "key type", err));
    if (keys_type_parse(name, type) < 0 ||
        (*type != LV_KEY_RSA2048 && *type != LV_KEY_RSA3072 &&
         *type != LV_KEY_RSA4096))
        return lv_fail(err, LV_EINVAL,
                       "key type %s not offered for citizens (rsa2048, "
                       "rsa3072, rsa4096)",
                       name);
    return 0;
}

static void audit_generate(keyd_call *call, const char *id, lv_key_type type,
                           lv_key_class cls, const char *label)
{
    char actor[64], object[48];
    keyd_actor(call, actor);
    snprintf(object, sizeof object, "key:%s", id);
    json_t *d = keyd_peer_json(call);
    json_object_set_new(d, "class", json_string(keys_class_name(cls)));
    json_object_set_new(d, "type", json_string(keys_type_name(type)));
    json_object_set_new(d, "label", json_string(label));
    keyd_audit(call->conn, actor, "key.generate", object, LV_AUDIT_SUCCESS, d);
}

static int generate_response(lv_keystore *ks, const char *id, void **resp,
                             lv_err *err);

int keyd_generate_citizen_key(keyd_call *call, void *req, void **resp,
                              lv_err *err)
{
    KEYD_GENERATE_REQ *q = req;
    char label[129], id[LV_KEY_ID_LEN + 1];
    lv_key_type type;
    lv_keystore *ks = open_keystore(call, err);
    if (!ks)
        return LV_ESEALED;
    LV_TRY(citizen_type(q->key_type, &type, err));
    LV_TRY(keyd_str_get(q->label, label, sizeof label, "label", err));
    LV_TRY(keys_generate(ks, type, LV_KEY_CLASS_SIGNER, label, id, err));
    audit_generate(call, id, type, LV_KEY_CLASS_SIGNER, label);
    return generate_response(ks, id, resp, err);
}

static int generate_response(lv_keystore *ks, const char *id, void **resp,
                             lv_err *err)
{
    KEYD_GENERATE_RESP *r = KEYD_GENERATE_RESP_new();
    int rc = r ? keyd_str_set(r->key_id, id) : LV_ENOMEM;
    if (rc == 0)
        rc = pubkey_fill(ks, id, &r->spki, NULL, NULL, err);
    if (rc < 0) {
        KEYD_GENERATE_RESP_free(r);
        return rc == LV_ENOMEM ? lv_fail(err, rc, "out of memory") : rc;
    }
    *resp = r;
    return 0;
}

/* ---- generate a CA or service key (console only) -------------------------
 * The ceremony, a CA change-over (R6.6) and a new time-stamping unit are
 * custody acts of the console (CPS §6.1.1): the table admits this kind
 * from the console class only, and a signer key is never made here
 * (generate_citizen_key; R5.1). */
static int provider_class(const ASN1_STRING *s, lv_key_class *cls, lv_err *err)
{
    char name[16];
    LV_TRY(keyd_str_get(s, name, sizeof name, "key class", err));
    if (strcmp(name, "ca") == 0)
        *cls = LV_KEY_CLASS_CA;
    else if (strcmp(name, "service") == 0)
        *cls = LV_KEY_CLASS_SERVICE;
    else
        return lv_fail(err, LV_EINVAL,
                       "key class %s: generate_key makes ca or service keys "
                       "(a citizen's key: generate_citizen_key)",
                       name);
    return 0;
}

int keyd_generate_key(keyd_call *call, void *req, void **resp, lv_err *err)
{
    KEYD_GENERATE_KEY_REQ *q = req;
    char label[129], name[16], id[LV_KEY_ID_LEN + 1];
    lv_key_type type = LV_KEY_RSA4096;
    lv_key_class cls = LV_KEY_CLASS_CA;
    lv_keystore *ks = open_keystore(call, err);
    if (!ks)
        return LV_ESEALED;
    LV_TRY(provider_class(q->key_class, &cls, err));
    LV_TRY(keyd_str_get(q->key_type, name, sizeof name, "key type", err));
    if (keys_type_parse(name, &type) < 0)
        return lv_fail(err, LV_EINVAL, "unknown key type %s", name);
    LV_TRY(keyd_str_get(q->label, label, sizeof label, "label", err));
    LV_TRY(keys_generate(ks, type, cls, label, id, err));
    audit_generate(call, id, type, cls, label);
    return generate_response(ks, id, resp, err);
}
