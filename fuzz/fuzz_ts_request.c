/* libFuzzer target: the TimeStampReq reader of the time-stamp authority
 * (tsa_request_check, src/tsa/tsa_request.c), which reads every POST /tsa
 * body before anything else looks at it, and the refusal it answers with
 * (tsa_refusal_reply).  Invariants checked on every input:
 *   - accepted: version 1, an accepted digest whose imprint has its length,
 *     the policy absent or ours, no extension, and the request re-encodes;
 *   - refused: a failInfo bit RFC 3161 defines and a statusString, and the
 *     refusal encodes as a TimeStampResp OpenSSL reads back.
 * Seeds: fuzz/corpus/fuzz_ts_request/ (openssl ts -query outputs). */
#include "tsa/tsa_internal.h"

#include <stdint.h>
#include <stdlib.h>

#define POLICY "2.25.329800735698586629295641978511506172918.1.5.1.1"

static void accepted(const TS_REQ *req, const ASN1_OBJECT *policy)
{
    TS_MSG_IMPRINT *mi = TS_REQ_get_msg_imprint((TS_REQ *)req);
    const ASN1_OBJECT *oid = NULL;
    X509_ALGOR_get0(&oid, NULL, NULL, TS_MSG_IMPRINT_get_algo(mi));
    int want = tsa_imprint_len(OBJ_obj2nid(oid));
    const ASN1_OBJECT *asked = TS_REQ_get_policy_id((TS_REQ *)req);
    unsigned char *der = NULL;
    if (TS_REQ_get_version(req) != 1 || want == 0 ||
        ASN1_STRING_length(TS_MSG_IMPRINT_get_msg(mi)) != want ||
        (asked != NULL && OBJ_cmp(asked, policy) != 0) ||
        sk_X509_EXTENSION_num(TS_REQ_get_exts((TS_REQ *)req)) > 0 ||
        i2d_TS_REQ((TS_REQ *)req, &der) <= 0)
        abort();
    OPENSSL_free(der);
}

static void refused(const tsa_refusal *why)
{
    unsigned char *der = NULL;
    size_t len = 0;
    if (why->failure < 0 || why->failure > TS_INFO_SYSTEM_FAILURE ||
        why->text[0] == '\0')
        abort();
    if (tsa_refusal_reply(why, &der, &len, NULL) != 0)
        abort();
    const unsigned char *p = der;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
    if (resp == NULL || p != der + len)
        abort();
    TS_RESP_free(resp);
    OPENSSL_free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ASN1_OBJECT *policy;
    if (policy == NULL && (policy = OBJ_txt2obj(POLICY, 1)) == NULL)
        abort();
    TS_REQ *req = NULL;
    tsa_refusal why = {0};
    int rc = tsa_request_check(data, size, policy, &req, &why);
    if (rc == 0)
        accepted(req, policy);
    else if (rc == 1)
        refused(&why);
    else
        abort(); /* the checks allocate nothing that can fail but OpenSSL's */
    TS_REQ_free(req);
    return 0;
}
