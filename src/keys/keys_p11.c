/* The PKCS#11 back end of the key store (issue 16): the module, the token,
 * sessions, login, object lookup and key generation.  Signing and
 * wrapping are in keys_p11_ops.c.
 *
 * The module is loaded with dlopen() and driven through the PKCS#11 C API
 * (v2.40) directly, with the header of p11-kit (<p11-kit/pkcs11.h>).  No
 * OpenSSL engine: libengine-pkcs11 is an ENGINE, an interface OpenSSL 3
 * deprecates, and Debian 12 packages no maintained PKCS#11 provider; the
 * few calls llave needs (generate, sign, wrap, unwrap, destroy) are
 * shorter than the glue either would need (docs/ARCHITECTURE.md).
 *
 * Sessions: one login per token (PKCS#11 §5.6: login state is shared by
 * every session of the application), a pool of idle R/W sessions so that
 * concurrent signatures do not share one session (a session runs one
 * operation at a time). */
#include "keys/keys_internal.h"

#include <dlfcn.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MAX 16
#define LABEL_LEN 32 /* CK_TOKEN_INFO.label: blank padded, not terminated */
#define HANDLES_MAX 64

/* The handle of a CA or service key on the token, found once by CKA_ID:
 * C_FindObjects on every signature cost about a tenth of a TSA token on
 * SoftHSM2 (bench/tsa).  Only token objects are cached; a citizen's key is
 * unwrapped for one signature and destroyed after it. */
typedef struct {
    unsigned char id[LV_P11_ID_LEN];
    CK_OBJECT_HANDLE h;
    int used;
} handle_slot;

struct keys_p11 {
    void *dl;
    CK_FUNCTION_LIST_PTR f;
    CK_SLOT_ID slot;
    char token[LABEL_LEN + 1];
    CK_OBJECT_HANDLE wrap; /* the AES wrapping key of citizens' keys */
    pthread_mutex_t lock;  /* guards idle */
    CK_SESSION_HANDLE idle[POOL_MAX];
    size_t n_idle;
    handle_slot handles[HANDLES_MAX]; /* guarded by lock */
    size_t next_handle;               /* round-robin replacement */
};

/* ---- errors ------------------------------------------------------------- */
const char *keys_p11_rv_name(CK_RV rv)
{
    switch (rv) {
    case CKR_OK:
        return "CKR_OK";
    case CKR_PIN_INCORRECT:
        return "CKR_PIN_INCORRECT";
    case CKR_PIN_LOCKED:
        return "CKR_PIN_LOCKED";
    case CKR_PIN_EXPIRED:
        return "CKR_PIN_EXPIRED";
    case CKR_DEVICE_MEMORY:
        return "CKR_DEVICE_MEMORY";
    case CKR_DEVICE_ERROR:
        return "CKR_DEVICE_ERROR";
    case CKR_GENERAL_ERROR:
        return "CKR_GENERAL_ERROR";
    case CKR_HOST_MEMORY:
        return "CKR_HOST_MEMORY";
    case CKR_TOKEN_NOT_PRESENT:
        return "CKR_TOKEN_NOT_PRESENT";
    case CKR_OBJECT_HANDLE_INVALID:
        return "CKR_OBJECT_HANDLE_INVALID";
    case CKR_KEY_HANDLE_INVALID:
        return "CKR_KEY_HANDLE_INVALID";
    case CKR_MECHANISM_INVALID:
        return "CKR_MECHANISM_INVALID";
    case CKR_ATTRIBUTE_SENSITIVE:
        return "CKR_ATTRIBUTE_SENSITIVE";
    case CKR_USER_NOT_LOGGED_IN:
        return "CKR_USER_NOT_LOGGED_IN";
    case CKR_SESSION_HANDLE_INVALID:
        return "CKR_SESSION_HANDLE_INVALID";
    case CKR_WRAPPED_KEY_INVALID:
        return "CKR_WRAPPED_KEY_INVALID";
    case CKR_TEMPLATE_INCONSISTENT:
        return "CKR_TEMPLATE_INCONSISTENT";
    case CKR_FUNCTION_FAILED:
        return "CKR_FUNCTION_FAILED";
    case CKR_UNWRAPPING_KEY_HANDLE_INVALID:
        return "CKR_UNWRAPPING_KEY_HANDLE_INVALID";
    case CKR_DEVICE_REMOVED:
        return "CKR_DEVICE_REMOVED";
    case CKR_TOKEN_NOT_RECOGNIZED:
        return "CKR_TOKEN_NOT_RECOGNIZED";
    default:
        return "CKR_other";
    }
}

/* A failed call: the message names the call and the code (hex too, for
 * vendor codes). */
int keys_p11_fail(lv_err *err, CK_RV rv, const char *what)
{
    int code =
        rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED
            ? LV_EAUTH
        : rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID
            ? LV_ENOTFOUND
            : LV_ECRYPTO;
    return lv_fail(err, code, "PKCS#11: %s failed: %s (0x%lx)", what,
                   keys_p11_rv_name(rv), (unsigned long)rv);
}

/* ---- module ------------------------------------------------------------- */
/* C_Initialize once per module and process, C_Finalize with the last
 * user: two stores open in one process (tests, rotation) share it. */
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    CK_FUNCTION_LIST_PTR f;
    int refs;
} modules[8];

static CK_RV module_init(CK_FUNCTION_LIST_PTR f)
{
    CK_C_INITIALIZE_ARGS args = {0};
    args.flags = CKF_OS_LOCKING_OK; /* keyd signs from several threads */
    CK_RV rv = CKR_OK;
    pthread_mutex_lock(&modules_lock);
    size_t i = 0, free_slot = sizeof modules / sizeof modules[0];
    for (; i < sizeof modules / sizeof modules[0]; i++) {
        if (modules[i].f == f)
            break;
        if (!modules[i].f && free_slot == sizeof modules / sizeof modules[0])
            free_slot = i;
    }
    if (i < sizeof modules / sizeof modules[0]) {
        modules[i].refs++;
    } else if (free_slot == sizeof modules / sizeof modules[0]) {
        rv = CKR_HOST_MEMORY;
    } else {
        rv = f->C_Initialize(&args);
        if (rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
            modules[free_slot].f = f;
            modules[free_slot].refs = 1;
            rv = CKR_OK;
        }
    }
    pthread_mutex_unlock(&modules_lock);
    return rv;
}

static void module_fini(CK_FUNCTION_LIST_PTR f)
{
    pthread_mutex_lock(&modules_lock);
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
        if (modules[i].f == f && --modules[i].refs == 0) {
            f->C_Finalize(NULL);
            modules[i].f = NULL;
        }
    pthread_mutex_unlock(&modules_lock);
}

static int module_load(keys_p11 *p, const char *module, lv_err *err)
{
    CK_C_GetFunctionList get = NULL;
    p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl)
        return lv_fail(err, LV_ENOTFOUND, "PKCS#11 module %s: %s", module,
                       dlerror());
    *(void **)&get = dlsym(p->dl, "C_GetFunctionList");
    if (!get || get(&p->f) != CKR_OK || !p->f)
        return lv_fail(err, LV_EINVAL,
                       "%s is not a PKCS#11 module (no C_GetFunctionList)",
                       module);
    CK_RV rv = module_init(p->f);
    if (rv != CKR_OK) {
        p->f = NULL;
        return keys_p11_fail(err, rv, "C_Initialize");
    }
    return 0;
}

/* ---- token -------------------------------------------------------------- */
static int label_is(const CK_UTF8CHAR label[LABEL_LEN], const char *want)
{
    size_t n = strlen(want), end = LABEL_LEN;
    while (end > 0 && label[end - 1] == ' ')
        end--;
    return n == end && memcmp(label, want, n) == 0;
}

static int token_find(keys_p11 *p, const char *token, lv_err *err)
{
    CK_SLOT_ID slots[64];
    CK_ULONG n = sizeof slots / sizeof slots[0];
    CK_RV rv = p->f->C_GetSlotList(CK_TRUE, slots, &n);
    if (rv != CKR_OK)
        return keys_p11_fail(err, rv, "C_GetSlotList");
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (p->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
            label_is(ti.label, token) && (ti.flags & CKF_TOKEN_INITIALIZED)) {
            p->slot = slots[i];
            snprintf(p->token, sizeof p->token, "%s", token);
            return 0;
        }
    }
    return lv_fail(err, LV_ENOTFOUND,
                   "PKCS#11: no initialized token labelled \"%s\" in the "
                   "module (%lu token(s) present)",
                   token, (unsigned long)n);
}

/* ---- sessions ----------------------------------------------------------- */
int keys_p11_session(keys_p11 *p, CK_SESSION_HANDLE *s, lv_err *err)
{
    pthread_mutex_lock(&p->lock);
    int have = p->n_idle > 0;
    if (have)
        *s = p->idle[--p->n_idle];
    pthread_mutex_unlock(&p->lock);
    if (have)
        return 0;
    CK_RV rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                   NULL, NULL, s);
    return rv == CKR_OK ? 0 : keys_p11_fail(err, rv, "C_OpenSession");
}

/* A session that saw a failure is closed rather than pooled: it may hold
 * an operation the module did not end. */
void keys_p11_release(keys_p11 *p, CK_SESSION_HANDLE s, int ok)
{
    pthread_mutex_lock(&p->lock);
    int pooled = ok && p->n_idle < POOL_MAX;
    if (pooled)
        p->idle[p->n_idle++] = s;
    pthread_mutex_unlock(&p->lock);
    if (!pooled)
        p->f->C_CloseSession(s);
}

static int token_login(keys_p11 *p, const char *pin, lv_err *err)
{
    CK_SESSION_HANDLE s;
    LV_TRY(keys_p11_session(p, &s, err));
    CK_RV rv = p->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
    if (rv == CKR_USER_ALREADY_LOGGED_IN)
        rv = CKR_OK;
    keys_p11_release(p, s, rv == CKR_OK);
    if (rv == CKR_PIN_INCORRECT)
        return lv_fail(err, LV_EAUTH,
                       "PKCS#11: token \"%s\" refused the user PIN "
                       "(CKR_PIN_INCORRECT)",
                       p->token);
    return rv == CKR_OK ? 0 : keys_p11_fail(err, rv, "C_Login");
}

/* At most max objects matching the template t (n of them): one
 * C_FindObjectsInit / C_FindObjects / C_FindObjectsFinal round. */
static CK_RV find_objects(keys_p11 *p, CK_SESSION_HANDLE s, CK_ATTRIBUTE *t,
                          CK_ULONG nt, CK_OBJECT_HANDLE *found, CK_ULONG max,
                          CK_ULONG *n)
{
    CK_RV rv = p->f->C_FindObjectsInit(s, t, nt);
    if (rv == CKR_OK) {
        rv = p->f->C_FindObjects(s, found, max, n);
        CK_RV fin = p->f->C_FindObjectsFinal(s);
        if (rv == CKR_OK)
            rv = fin;
    }
    return rv;
}

/* ---- objects ------------------------------------------------------------ */
int keys_p11_find(keys_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                  const unsigned char *id, size_t id_len, CK_OBJECT_HANDLE *h,
                  lv_err *err)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls},
                        {CKA_ID, (void *)id, id_len}};
    CK_OBJECT_HANDLE found[2];
    CK_ULONG n = 0;
    CK_RV rv = find_objects(p, s, t, 2, found, 2, &n);
    if (rv != CKR_OK)
        return keys_p11_fail(err, rv, "C_FindObjects");
    if (n != 1) {
        char hex[2 * LV_P11_ID_LEN + 1] = "";
        if (id_len <= LV_P11_ID_LEN)
            lv_hex_encode(id, id_len, hex);
        return lv_fail(err, n ? LV_ESTATE : LV_ENOTFOUND,
                       "PKCS#11: %s object with CKA_ID %s on token \"%s\"",
                       n ? "more than one" : "no", hex, p->token);
    }
    *h = found[0];
    return 0;
}

/* ---- handle cache (CA and service keys) -----------------------------------
 */
int keys_p11_handle_get(keys_p11 *p, const unsigned char id[LV_P11_ID_LEN],
                        CK_OBJECT_HANDLE *h)
{
    int found = 0;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < HANDLES_MAX && !found; i++)
        if (p->handles[i].used &&
            memcmp(p->handles[i].id, id, LV_P11_ID_LEN) == 0) {
            *h = p->handles[i].h;
            found = 1;
        }
    pthread_mutex_unlock(&p->lock);
    return found;
}

void keys_p11_handle_put(keys_p11 *p, const unsigned char id[LV_P11_ID_LEN],
                         CK_OBJECT_HANDLE h)
{
    pthread_mutex_lock(&p->lock);
    handle_slot *slot = &p->handles[p->next_handle];
    for (size_t i = 0; i < HANDLES_MAX; i++)
        if (!p->handles[i].used ||
            memcmp(p->handles[i].id, id, LV_P11_ID_LEN) == 0) {
            slot = &p->handles[i];
            break;
        }
    if (slot == &p->handles[p->next_handle])
        p->next_handle = (p->next_handle + 1) % HANDLES_MAX;
    memcpy(slot->id, id, LV_P11_ID_LEN);
    slot->h = h;
    slot->used = 1;
    pthread_mutex_unlock(&p->lock);
}

/* A key destroyed, or a handle the module no longer knows (the object was
 * removed behind our back): the next use looks it up again. */
void keys_p11_handle_drop(keys_p11 *p, const unsigned char *id, size_t id_len)
{
    if (id_len != LV_P11_ID_LEN)
        return;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < HANDLES_MAX; i++)
        if (p->handles[i].used &&
            memcmp(p->handles[i].id, id, LV_P11_ID_LEN) == 0)
            memset(&p->handles[i], 0, sizeof p->handles[i]);
    pthread_mutex_unlock(&p->lock);
}

/* Every object (private, public, secret) carrying this CKA_ID. */
int keys_p11_destroy(keys_p11 *p, const unsigned char *id, size_t id_len,
                     lv_err *err)
{
    CK_SESSION_HANDLE s;
    CK_ATTRIBUTE t[] = {{CKA_ID, (void *)id, id_len}};
    CK_OBJECT_HANDLE found[8];
    CK_ULONG n = 0;
    keys_p11_handle_drop(p, id, id_len);
    LV_TRY(keys_p11_session(p, &s, err));
    CK_RV rv = find_objects(p, s, t, 1, found, 8, &n);
    for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
        rv = p->f->C_DestroyObject(s, found[i]);
    keys_p11_release(p, s, rv == CKR_OK);
    return rv == CKR_OK ? 0 : keys_p11_fail(err, rv, "C_DestroyObject");
}

/* ---- public keys from the token ----------------------------------------- */
static int attr_get(keys_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                    CK_ATTRIBUTE_TYPE type, unsigned char **out, size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    if (p->f->C_GetAttributeValue(s, h, &a, 1) != CKR_OK ||
        a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > 8192 ||
        !(a.pValue = malloc(a.ulValueLen ? a.ulValueLen : 1)))
        return LV_ECRYPTO;
    if (p->f->C_GetAttributeValue(s, h, &a, 1) != CKR_OK) {
        free(a.pValue);
        return LV_ECRYPTO;
    }
    *out = a.pValue;
    *len = a.ulValueLen;
    return 0;
}

static EVP_PKEY *pub_from_params(const char *alg, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *pub_rsa(keys_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nl = 0, el = 0;
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bld && attr_get(p, s, h, CKA_MODULUS, &n, &nl) == 0 &&
        attr_get(p, s, h, CKA_PUBLIC_EXPONENT, &e, &el) == 0 &&
        (bn = BN_bin2bn(n, (int)nl, NULL)) &&
        (be = BN_bin2bn(e, (int)el, NULL)) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        pkey = pub_from_params("RSA", bld);
    BN_free(bn);
    BN_free(be);
    OSSL_PARAM_BLD_free(bld);
    free(n);
    free(e);
    return pkey;
}

static const char *ec_group(lv_key_type type)
{
    return type == LV_KEY_EC_P256 ? SN_X9_62_prime256v1 : SN_secp384r1;
}

/* CKA_EC_POINT is the DER OCTET STRING of the point (PKCS#11 §2.3.3). */
static EVP_PKEY *pub_ec(keys_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                        lv_key_type type)
{
    unsigned char *der = NULL;
    size_t len = 0;
    EVP_PKEY *pkey = NULL;
    ASN1_OCTET_STRING *pt = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bld && attr_get(p, s, h, CKA_EC_POINT, &der, &len) == 0) {
        const unsigned char *q = der;
        pt = d2i_ASN1_OCTET_STRING(NULL, &q, (long)len);
    }
    if (pt &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        ec_group(type), 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                         ASN1_STRING_get0_data(pt),
                                         (size_t)ASN1_STRING_length(pt)))
        pkey = pub_from_params("EC", bld);
    ASN1_OCTET_STRING_free(pt);
    OSSL_PARAM_BLD_free(bld);
    free(der);
    return pkey;
}

/* ---- key generation ----------------------------------------------------- */
/* CKA_LABEL: what `pkcs11-tool --list-objects` shows an operator. */
void keys_p11_label(const lv_key_meta *m, const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "llave %s %.8s%s%s", keys_class_name(m->cls), id,
             m->label[0] ? " " : "", m->label);
}

int keys_p11_is_rsa(lv_key_type t)
{
    return t == LV_KEY_RSA2048 || t == LV_KEY_RSA3072 || t == LV_KEY_RSA4096;
}

static CK_ULONG rsa_bits(lv_key_type t)
{
    return t == LV_KEY_RSA2048 ? 2048 : t == LV_KEY_RSA3072 ? 3072 : 4096;
}

/* The named curve's OID, DER (CKA_EC_PARAMS), by OpenSSL's encoder. */
static int ec_params(lv_key_type type, unsigned char **der, int *len)
{
    ASN1_OBJECT *obj = OBJ_nid2obj(OBJ_sn2nid(ec_group(type)));
    *der = NULL;
    *len = obj ? i2d_ASN1_OBJECT(obj, der) : -1;
    return *len > 0 ? 0 : LV_ECRYPTO;
}

/* Templates (PKCS#11 §4.9, §4.8): the private key never leaves the token
 * in clear (SENSITIVE, not EXTRACTABLE); a citizen's key is a session
 * object that may leave only wrapped (EXTRACTABLE, then C_WrapKey under
 * the token's own AES key, keys_p11_ops.c). */
typedef struct {
    CK_BBOOL yes, no, persist, extract;
    CK_ULONG bits;
    CK_BYTE e[3];
    unsigned char *ec;
    int ec_len;
    CK_ATTRIBUTE pub[8], priv[10];
    CK_ULONG n_pub, n_priv;
} gen_tmpl;

static void tmpl_add(CK_ATTRIBUTE *t, CK_ULONG *n, CK_ATTRIBUTE_TYPE type,
                     void *v, size_t len)
{
    t[*n].type = type;
    t[*n].pValue = v;
    t[*n].ulValueLen = len;
    (*n)++;
}

static int tmpl_build(gen_tmpl *g, lv_key_type type, int in_token,
                      const unsigned char *id, const char *label)
{
    g->yes = CK_TRUE;
    g->no = CK_FALSE;
    g->persist = in_token ? CK_TRUE : CK_FALSE;
    g->extract = in_token ? CK_FALSE : CK_TRUE;
    g->bits = rsa_bits(type);
    memcpy(g->e, "\x01\x00\x01", 3); /* 65537 */
    size_t ll = strlen(label);
    CK_ATTRIBUTE *pu = g->pub, *pr = g->priv;
    tmpl_add(pu, &g->n_pub, CKA_TOKEN, &g->persist, 1);
    tmpl_add(pu, &g->n_pub, CKA_VERIFY, &g->yes, 1);
    tmpl_add(pu, &g->n_pub, CKA_ID, (void *)id, LV_P11_ID_LEN);
    tmpl_add(pu, &g->n_pub, CKA_LABEL, (void *)label, ll);
    if (keys_p11_is_rsa(type)) {
        tmpl_add(pu, &g->n_pub, CKA_MODULUS_BITS, &g->bits, sizeof g->bits);
        tmpl_add(pu, &g->n_pub, CKA_PUBLIC_EXPONENT, g->e, sizeof g->e);
    } else {
        LV_TRY(ec_params(type, &g->ec, &g->ec_len));
        tmpl_add(pu, &g->n_pub, CKA_EC_PARAMS, g->ec, (size_t)g->ec_len);
    }
    tmpl_add(pr, &g->n_priv, CKA_TOKEN, &g->persist, 1);
    tmpl_add(pr, &g->n_priv, CKA_PRIVATE, &g->yes, 1);
    tmpl_add(pr, &g->n_priv, CKA_SENSITIVE, &g->yes, 1);
    tmpl_add(pr, &g->n_priv, CKA_EXTRACTABLE, &g->extract, 1);
    tmpl_add(pr, &g->n_priv, CKA_SIGN, &g->yes, 1);
    tmpl_add(pr, &g->n_priv, CKA_DECRYPT, &g->no, 1);
    tmpl_add(pr, &g->n_priv, CKA_ID, (void *)id, LV_P11_ID_LEN);
    tmpl_add(pr, &g->n_priv, CKA_LABEL, (void *)label, ll);
    return 0;
}

static int gen_pair(keys_p11 *p, CK_SESSION_HANDLE s, lv_key_type type,
                    gen_tmpl *g, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv,
                    lv_err *err)
{
    CK_MECHANISM m = {keys_p11_is_rsa(type) ? CKM_RSA_PKCS_KEY_PAIR_GEN
                                            : CKM_EC_KEY_PAIR_GEN,
                      NULL, 0};
    CK_RV rv = p->f->C_GenerateKeyPair(s, &m, g->pub, g->n_pub, g->priv,
                                       g->n_priv, pub, priv);
    if (rv == CKR_OK)
        return 0;
    /* A full token answers CKR_DEVICE_MEMORY by the standard; modules
     * that cannot store an object often say only CKR_GENERAL_ERROR. */
    return lv_fail(err, rv == CKR_DEVICE_MEMORY ? LV_ELIMIT : LV_ECRYPTO,
                   "PKCS#11: token \"%s\" generated no key%s: "
                   "C_GenerateKeyPair failed: %s (0x%lx)",
                   p->token,
                   rv == CKR_DEVICE_MEMORY ? " (token full)"
                                           : " (token full or failing?)",
                   keys_p11_rv_name(rv), (unsigned long)rv);
}

/* Generates a key pair with CKA_ID id.  in_token: a CA or service key that
 * stays on the token for good.  Otherwise (citizens' keys) both halves are
 * session objects: the private half leaves only wrapped, into *wrapped
 * (malloc), and both are destroyed before returning. */
int keys_p11_generate(keys_p11 *p, lv_key_type type, int in_token,
                      const unsigned char id[LV_P11_ID_LEN], const char *label,
                      EVP_PKEY **pub_out, unsigned char **wrapped,
                      size_t *wrapped_len, lv_err *err)
{
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE pub = 0, priv = 0;
    gen_tmpl g = {0};
    int rc;
    *pub_out = NULL;
    LV_TRY(keys_p11_session(p, &s, err));
    if (tmpl_build(&g, type, in_token, id, label) < 0) {
        rc = lv_fail(err, LV_ECRYPTO, "cannot encode the curve");
        goto out;
    }
    LV_TRY_GOTO(rc, gen_pair(p, s, type, &g, &pub, &priv, err), out);
    *pub_out =
        keys_p11_is_rsa(type) ? pub_rsa(p, s, pub) : pub_ec(p, s, pub, type);
    if (!*pub_out || keys_type_check(type, *pub_out) < 0)
        rc = lv_fail(err, LV_ECRYPTO,
                     "PKCS#11: token \"%s\" returned no usable %s public key",
                     p->token, keys_type_name(type));
    if (rc == 0 && !in_token)
        rc = keys_p11_wrap(p, s, priv, wrapped, wrapped_len, err);
out:
    if ((rc < 0 || !in_token) && priv)
        p->f->C_DestroyObject(s, priv);
    if ((rc < 0 || !in_token) && pub)
        p->f->C_DestroyObject(s, pub);
    if (rc < 0) {
        EVP_PKEY_free(*pub_out);
        *pub_out = NULL;
    }
    OPENSSL_free(g.ec);
    keys_p11_release(p, s, rc == 0);
    return rc;
}

/* The AES-256 key that wraps citizens' keys: on the token for good, never
 * extractable, usable only to wrap and unwrap (not to encrypt data). */
int keys_p11_wrap_key_create(keys_p11 *p, const unsigned char id[LV_P11_ID_LEN],
                             lv_err *err)
{
    CK_SESSION_HANDLE s;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG len = 32;
    const char *label = "llave citizen-key wrapping key";
    CK_ATTRIBUTE t[] = {{CKA_TOKEN, &yes, 1},
                        {CKA_PRIVATE, &yes, 1},
                        {CKA_SENSITIVE, &yes, 1},
                        {CKA_EXTRACTABLE, &no, 1},
                        {CKA_WRAP, &yes, 1},
                        {CKA_UNWRAP, &yes, 1},
                        {CKA_ENCRYPT, &no, 1},
                        {CKA_DECRYPT, &no, 1},
                        {CKA_VALUE_LEN, &len, sizeof len},
                        {CKA_ID, (void *)id, LV_P11_ID_LEN},
                        {CKA_LABEL, (void *)label, strlen(label)}};
    CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
    LV_TRY(keys_p11_session(p, &s, err));
    CK_RV rv = p->f->C_GenerateKey(s, &m, t, sizeof t / sizeof t[0], &p->wrap);
    keys_p11_release(p, s, rv == CKR_OK);
    return rv == CKR_OK ? 0 : keys_p11_fail(err, rv, "C_GenerateKey (AES)");
}

static int wrap_key_find(keys_p11 *p, const unsigned char id[LV_P11_ID_LEN],
                         lv_err *err)
{
    CK_SESSION_HANDLE s;
    LV_TRY(keys_p11_session(p, &s, err));
    int rc =
        keys_p11_find(p, s, CKO_SECRET_KEY, id, LV_P11_ID_LEN, &p->wrap, err);
    keys_p11_release(p, s, 1);
    return rc;
}

/* ---- open / close ------------------------------------------------------- */
void keys_p11_close(keys_p11 *p)
{
    if (!p)
        return;
    if (p->f) {
        for (size_t i = 0; i < p->n_idle; i++)
            p->f->C_CloseSession(p->idle[i]);
        module_fini(p->f);
    }
    /* The module stays mapped: another store may use it, and a module
     * unloaded under its own threads would crash the process. */
    pthread_mutex_destroy(&p->lock);
    OPENSSL_cleanse(p, sizeof *p);
    free(p);
}

/* wrap_id NULL: the wrapping key is created later (the ceremony). */
int keys_p11_open(const char *module, const char *token, const char *pin,
                  const unsigned char *wrap_id, keys_p11 **out, lv_err *err)
{
    keys_p11 *p = calloc(1, sizeof *p);
    int rc;
    *out = NULL;
    if (!p || pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    LV_TRY_GOTO(rc, module_load(p, module, err), fail);
    LV_TRY_GOTO(rc, token_find(p, token, err), fail);
    LV_TRY_GOTO(rc, token_login(p, pin, err), fail);
    if (wrap_id)
        LV_TRY_GOTO(rc, wrap_key_find(p, wrap_id, err), fail);
    *out = p;
    return 0;
fail:
    keys_p11_close(p);
    return rc;
}

CK_FUNCTION_LIST_PTR keys_p11_fn(const keys_p11 *p)
{
    return p->f;
}

CK_OBJECT_HANDLE keys_p11_wrap_handle(const keys_p11 *p)
{
    return p->wrap;
}

const char *keys_p11_token(const keys_p11 *p)
{
    return p->token;
}
