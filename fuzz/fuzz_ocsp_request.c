/* libFuzzer target: the OCSPRequest reader of the OCSP responder
 * (ocsp_query_parse, src/ocsp/ocsp_request.c), which reads every
 * POST /ocsp body and GET /ocsp/{request*} path before anything else looks
 * at it.  Invariants checked on every input:
 *   - accepted: 1 to LV_OCSP_MAX_IDS CertIDs; each with a serial that is ""
 *     or upper-case hex of even length, issuer hashes whose length fits a
 *     supported algorithm, and a DER re-encoding that decodes to an equal
 *     CertID; the nonce flag only with a nonce extension present;
 *   - refused: a message saying why, and the malformedRequest answer the
 *     responder then sends encodes as an OCSPResponse OpenSSL reads back.
 * Seeds: fuzz/corpus/fuzz_ocsp_request/ (openssl ocsp -reqout outputs). */
#include "ocsp/ocsp_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_serial(const char *s)
{
    size_t n = strlen(s);
    if (n % 2 != 0 || strspn(s, "0123456789ABCDEF") != n)
        abort();
}

static void check_id(const ocsp_id *id)
{
    check_serial(id->serial);
    if (id->hash >= 0 &&
        (int)id->hash_len != EVP_MD_get_size(ocsp_hash_md(id->hash)))
        abort();
    const unsigned char *p = id->der;
    OCSP_CERTID *again = d2i_OCSP_CERTID(NULL, &p, (long)id->der_len);
    if (again == NULL || p != id->der + id->der_len ||
        OCSP_id_cmp(again, id->cid) != 0)
        abort();
    OCSP_CERTID_free(again);
}

static void accepted(const ocsp_query *q)
{
    if (q->count < 1 || q->count > LV_OCSP_MAX_IDS ||
        q->count != OCSP_request_onereq_count(q->req))
        abort();
    for (int i = 0; i < q->count; i++)
        check_id(&q->ids[i]);
    if (q->nonce &&
        OCSP_REQUEST_get_ext_by_NID(q->req, NID_id_pkix_OCSP_Nonce, -1) < 0)
        abort();
}

static void refused(const lv_err *why)
{
    unsigned char *der = NULL;
    size_t len = 0;
    if (why->code != LV_EINVAL || why->msg[0] == '\0')
        abort();
    if (ocsp_error_response(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, &der,
                            &len) != 0)
        abort();
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    if (resp == NULL || p != der + len ||
        OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_MALFORMEDREQUEST)
        abort();
    OCSP_RESPONSE_free(resp);
    OPENSSL_free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ocsp_query q;
    lv_err why = {0};
    if (ocsp_query_parse(data, size, &q, &why) == 0) {
        accepted(&q);
        ocsp_query_free(&q);
    } else {
        refused(&why);
    }
    return 0;
}
