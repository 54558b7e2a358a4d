/* Reading a TimeStampReq (RFC 3161 §2.4.1) and deciding whether our
 * profile (ETSI EN 319 422 §5) answers it.  Pure: no clock, no key, no
 * store, so that every refusal is unit-tested and fuzzed.
 *
 *   TimeStampReq ::= SEQUENCE {
 *      version         INTEGER { v1(1) },
 *      messageImprint  MessageImprint,
 *      reqPolicy       TSAPolicyId      OPTIONAL,
 *      nonce           INTEGER          OPTIONAL,
 *      certReq         BOOLEAN          DEFAULT FALSE,
 *      extensions  [0] IMPLICIT Extensions OPTIONAL } */
#include "tsa/tsa_internal.h"

#include <limits.h>
#include <openssl/err.h>
#include <stdio.h>

/* EN 319 422 §5.1 / ETSI TS 119 312: SHA-256 or stronger.  SHA-1, MD5 and
 * anything unknown get badAlg. */
int tsa_imprint_len(int nid)
{
    switch (nid) {
    case NID_sha256:
        return 32;
    case NID_sha384:
        return 48;
    case NID_sha512:
        return 64;
    default:
        return 0;
    }
}

static int refuse(tsa_refusal *why, int failure, const char *text)
{
    why->failure = failure;
    snprintf(why->text, sizeof why->text, "%s", text);
    return 1;
}

/* The whole input must be one DER TimeStampReq: trailing bytes are as bad
 * as a truncated structure. */
static int parse(const unsigned char *der, size_t len, TS_REQ **out,
                 tsa_refusal *why)
{
    const unsigned char *p = der;
    if (der == NULL || len == 0 || len > LONG_MAX)
        return refuse(why, TS_INFO_BAD_DATA_FORMAT,
                      "empty or oversized request");
    TS_REQ *req = d2i_TS_REQ(NULL, &p, (long)len);
    ERR_clear_error();
    if (req == NULL)
        return refuse(why, TS_INFO_BAD_DATA_FORMAT,
                      "the request is not a DER TimeStampReq");
    if (p != der + len) {
        TS_REQ_free(req);
        return refuse(why, TS_INFO_BAD_DATA_FORMAT,
                      "trailing bytes after the TimeStampReq");
    }
    *out = req;
    return 0;
}

/* §2.4.1: the hash algorithm must be known and the imprint exactly as long
 * as its output; parameters absent or NULL. */
static int check_imprint(const TS_REQ *req, tsa_refusal *why)
{
    TS_MSG_IMPRINT *mi = TS_REQ_get_msg_imprint((TS_REQ *)req);
    X509_ALGOR *alg = TS_MSG_IMPRINT_get_algo(mi);
    ASN1_OCTET_STRING *digest = TS_MSG_IMPRINT_get_msg(mi);
    const ASN1_OBJECT *oid = NULL;
    int ptype = V_ASN1_UNDEF;
    X509_ALGOR_get0(&oid, &ptype, NULL, alg);
    int want = tsa_imprint_len(OBJ_obj2nid(oid));
    if (want == 0)
        return refuse(why, TS_INFO_BAD_ALG,
                      "message imprint algorithm not accepted: SHA-256, "
                      "SHA-384 or SHA-512");
    if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL)
        return refuse(why, TS_INFO_BAD_ALG,
                      "message imprint algorithm with parameters");
    if (ASN1_STRING_length(digest) != want)
        return refuse(why, TS_INFO_BAD_DATA_FORMAT,
                      "message imprint length does not match its algorithm");
    return 0;
}

static int check_fields(const TS_REQ *req, const ASN1_OBJECT *policy,
                        tsa_refusal *why)
{
    const ASN1_OBJECT *asked = TS_REQ_get_policy_id((TS_REQ *)req);
    const STACK_OF(X509_EXTENSION) *exts = TS_REQ_get_exts((TS_REQ *)req);
    if (TS_REQ_get_version(req) != 1)
        return refuse(why, TS_INFO_BAD_REQUEST, "unsupported request version");
    int rc = check_imprint(req, why);
    if (rc != 0)
        return rc;
    if (asked != NULL && OBJ_cmp(asked, policy) != 0)
        return refuse(why, TS_INFO_UNACCEPTED_POLICY,
                      "requested TSA policy not supported");
    /* §2.4.1: an extension we do not support is never ignored. */
    if (sk_X509_EXTENSION_num(exts) > 0)
        return refuse(why, TS_INFO_UNACCEPTED_EXTENSION,
                      "request extensions are not supported");
    return 0;
}

int tsa_request_check(const unsigned char *der, size_t len,
                      const ASN1_OBJECT *policy, TS_REQ **out, tsa_refusal *why)
{
    TS_REQ *req = NULL;
    *out = NULL;
    int rc = parse(der, len, &req, why);
    if (rc == 0)
        rc = check_fields(req, policy, why);
    if (rc != 0) {
        TS_REQ_free(req);
        return rc;
    }
    *out = req;
    return 0;
}
