/* Decoding an OCSPRequest (RFC 6960 §4.1) into what the responder needs:
 * per CertID the hash algorithm, the issuer hashes, the serial in the hex
 * form the store uses and the DER to compare with a pre-signed response;
 * and whether there is a nonce to echo (RFC 8954).  This is the network
 * parser of the responder: every byte comes from an anonymous client, so
 * OpenSSL does the ASN.1 and this file only checks what OpenSSL accepted. */
#include "ocsp/ocsp_internal.h"

#include <limits.h>
#include <openssl/err.h>
#include <string.h>

/* RFC 6960 §4.3 requires SHA-1 CertIDs; RFC 5019 §2.1.1 adds SHA-256 as the
 * likely successor.  SHA-384/512 cost nothing more to match. */
static const struct {
    int nid;
    const char *name;
} hashes[LV_OCSP_NHASH] = {
    {NID_sha1, "SHA1"},
    {NID_sha256, "SHA256"},
    {NID_sha384, "SHA384"},
    {NID_sha512, "SHA512"},
};

const EVP_MD *ocsp_hash_md(int index)
{
    if (index < 0 || index >= LV_OCSP_NHASH)
        return NULL;
    return EVP_get_digestbynid(hashes[index].nid);
}

const char *ocsp_hash_name(int index)
{
    if (index < 0 || index >= LV_OCSP_NHASH)
        return NULL;
    return hashes[index].name;
}

static int hash_index(const ASN1_OBJECT *alg)
{
    int nid = OBJ_obj2nid(alg);
    for (int i = 0; i < LV_OCSP_NHASH; i++)
        if (hashes[i].nid == nid)
            return i;
    return -1;
}

/* A serial no llave certificate can have (negative, or longer than the 32
 * bytes ca_serial_hex prints) is left "": the answer is "unknown". */
static void serial_of(const ASN1_INTEGER *serial, char out[65])
{
    out[0] = '\0';
    if (ASN1_STRING_type(serial) != V_ASN1_INTEGER ||
        ca_serial_hex(serial, out) < 0)
        out[0] = '\0';
}

/* RFC 5280 §4.2 by analogy: an extension we do not understand may be
 * ignored unless it is critical.  Only the request's nonce is understood. */
static int check_critical(X509_EXTENSION *ext, int allowed, const char *where,
                          lv_err *err)
{
    int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (X509_EXTENSION_get_critical(ext) &&
        (allowed == NID_undef || nid != allowed))
        return lv_fail(err, LV_EINVAL,
                       "unsupported critical extension in the %s", where);
    return 0;
}

/* The DER we compare with pre-signed CertIDs must mean the CertID asked
 * about.  OpenSSL reads hashAlgorithm parameters of any type and writes
 * some of them back as another type (a constructed universal 0, say); such
 * a CertID is not DER (RFC 5754 §2: the parameters of a SHA-2 algorithm
 * are absent or NULL) and is refused.  Found by fuzz_ocsp_request. */
static int check_round_trip(const ocsp_id *id, lv_err *err)
{
    const unsigned char *p = id->der;
    OCSP_CERTID *again = d2i_OCSP_CERTID(NULL, &p, (long)id->der_len);
    int same = again != NULL && p == id->der + id->der_len &&
               OCSP_id_cmp(again, id->cid) == 0;
    OCSP_CERTID_free(again);
    ERR_clear_error();
    return same ? 0
                : lv_fail(err, LV_EINVAL,
                          "CertID hash algorithm parameters are not DER");
}

static int parse_id(OCSP_ONEREQ *one, ocsp_id *id, lv_err *err)
{
    ASN1_OCTET_STRING *name_hash = NULL, *key_hash = NULL;
    ASN1_OBJECT *alg = NULL;
    ASN1_INTEGER *serial = NULL;
    id->cid = OCSP_onereq_get0_id(one);
    if (!id->cid ||
        !OCSP_id_get0_info(&name_hash, &alg, &key_hash, &serial, id->cid) ||
        !name_hash || !alg || !key_hash || !serial)
        return lv_fail(err, LV_EINVAL, "incomplete CertID");
    for (int i = 0; i < OCSP_ONEREQ_get_ext_count(one); i++)
        LV_TRY(check_critical(OCSP_ONEREQ_get_ext(one, i), NID_undef,
                              "single request", err));
    id->hash = hash_index(alg);
    id->name_hash = ASN1_STRING_get0_data(name_hash);
    id->key_hash = ASN1_STRING_get0_data(key_hash);
    id->hash_len = (size_t)ASN1_STRING_length(name_hash);
    /* §4.1.1: both are hashes with hashAlgorithm */
    if (ASN1_STRING_length(key_hash) != ASN1_STRING_length(name_hash) ||
        (id->hash >= 0 &&
         (int)id->hash_len != EVP_MD_get_size(ocsp_hash_md(id->hash))))
        return lv_fail(err, LV_EINVAL,
                       "CertID hash lengths do not fit the hash algorithm");
    serial_of(serial, id->serial);
    int len = i2d_OCSP_CERTID(id->cid, &id->der);
    if (len <= 0)
        return lv_fail_ssl(err, LV_EINVAL, "CertID does not re-encode");
    id->der_len = (size_t)len;
    return check_round_trip(id, err);
}

/* RFC 8954 §2.1: the extnValue holds an OCTET STRING of 1..32 octets.  A
 * nonce outside that range is dropped, which the RFC allows ("MAY respond
 * without the Nonce extension"); so is one without the inner OCTET STRING,
 * which OpenSSL would echo but is not a Nonce of RFC 8954. */
static int nonce_ok(X509_EXTENSION *ext)
{
    const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
    const unsigned char *p = ASN1_STRING_get0_data(v);
    long vlen = ASN1_STRING_length(v);
    ASN1_OCTET_STRING *inner = d2i_ASN1_OCTET_STRING(NULL, &p, vlen);
    int ok = inner != NULL && p == ASN1_STRING_get0_data(v) + vlen &&
             ASN1_STRING_length(inner) >= LV_OCSP_NONCE_MIN &&
             ASN1_STRING_length(inner) <= LV_OCSP_NONCE_MAX;
    ASN1_OCTET_STRING_free(inner);
    return ok;
}

static int parse_extensions(ocsp_query *q, lv_err *err)
{
    OCSP_REQUEST *req = q->req;
    for (int i = 0; i < OCSP_REQUEST_get_ext_count(req); i++)
        LV_TRY(check_critical(OCSP_REQUEST_get_ext(req, i),
                              NID_id_pkix_OCSP_Nonce, "request", err));
    int at = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1);
    if (at >= 0 &&
        OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, at) >= 0)
        return lv_fail(err, LV_EINVAL, "more than one nonce");
    q->nonce = at >= 0 && nonce_ok(OCSP_REQUEST_get_ext(req, at));
    return 0;
}

static int parse_body(ocsp_query *q, lv_err *err)
{
    int n = OCSP_request_onereq_count(q->req);
    if (n < 1)
        return lv_fail(err, LV_EINVAL, "the request names no certificate");
    if (n > LV_OCSP_MAX_IDS)
        return lv_fail(err, LV_EINVAL,
                       "the request names %d certificates; at most %d are "
                       "answered at once",
                       n, LV_OCSP_MAX_IDS);
    for (int i = 0; i < n; i++) {
        q->count = i + 1;
        LV_TRY(parse_id(OCSP_request_onereq_get0(q->req, i), &q->ids[i], err));
    }
    return parse_extensions(q, err);
}

int ocsp_query_parse(const unsigned char *der, size_t len, ocsp_query *q,
                     lv_err *err)
{
    memset(q, 0, sizeof *q);
    if (len == 0 || len > (size_t)LONG_MAX)
        return lv_fail(err, LV_EINVAL, "empty OCSP request");
    const unsigned char *p = der;
    q->req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
    if (!q->req)
        return lv_fail_ssl(err, LV_EINVAL, "not a DER OCSP request");
    int rc = p == der + len
                 ? parse_body(q, err)
                 : lv_fail(err, LV_EINVAL, "%zu bytes after the OCSP request",
                           len - (size_t)(p - der));
    if (rc < 0)
        ocsp_query_free(q);
    return rc;
}

void ocsp_query_free(ocsp_query *q)
{
    if (!q)
        return;
    for (int i = 0; i < q->count; i++)
        OPENSSL_free(q->ids[i].der);
    OCSP_REQUEST_free(q->req);
    memset(q, 0, sizeof *q);
}
