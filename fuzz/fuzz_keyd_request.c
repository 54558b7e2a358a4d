/* libFuzzer target: the request decoder of llave-keyd (src/keyd/
 * keyd_proto.c), which reads every frame a peer of the key service sends
 * before the request table looks at it (issue 12 item 9).  The input is a
 * frame as it arrives: a 4-byte big-endian length, then the DER.
 * Invariants checked on every input:
 *   - the header is accepted only for 1..KEYD_FRAME_MAX;
 *   - an accepted envelope has version 1 and re-encodes to the same bytes
 *     (strict DER: what is audited and checked is exactly what was sent);
 *   - an envelope refused for its version still names its id;
 *   - every body structure of the table accepts its bytes only when they
 *     re-encode identically, and its strings read back safely.
 * Seeds: fuzz/corpus/fuzz_keyd_request/ (one request of each kind). */
#include "keydproto/keydproto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void same_bytes(const ASN1_ITEM *it, const void *v,
                       const unsigned char *der, size_t len)
{
    unsigned char *again = NULL;
    size_t n = 0;
    if (keyd_der_encode(it, v, &again, &n, NULL) < 0 || n != len ||
        memcmp(again, der, len) != 0)
        abort();
    OPENSSL_free(again);
}

/* Every body of the table, as keyd or keyc would decode it. */
static void bodies(const unsigned char *der, size_t len)
{
    const ASN1_ITEM *items[] = {
        ASN1_ITEM_rptr(KEYD_UNSEAL_REQ),
        ASN1_ITEM_rptr(KEYD_KEY_REQ),
        ASN1_ITEM_rptr(KEYD_SIGN_TBS_REQ),
        ASN1_ITEM_rptr(KEYD_GENERATE_REQ),
        ASN1_ITEM_rptr(KEYD_SIGN_DIGESTS_REQ),
        ASN1_ITEM_rptr(KEYD_STATUS_RESP),
        ASN1_ITEM_rptr(KEYD_UNSEAL_RESP),
        ASN1_ITEM_rptr(KEYD_PUBKEY_RESP),
        ASN1_ITEM_rptr(KEYD_SIG_RESP),
        ASN1_ITEM_rptr(KEYD_GENERATE_RESP),
        ASN1_ITEM_rptr(KEYD_SIGS_RESP),
        ASN1_ITEM_rptr(KEYD_RESPONSE),
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        void *v = NULL;
        if (keyd_der_decode(items[i], der, len, &v, NULL) < 0) {
            if (v)
                abort();
            continue;
        }
        same_bytes(items[i], v, der, len);
        ASN1_item_free(v, items[i]);
    }
}

static void digests_body(const unsigned char *der, size_t len)
{
    void *v = NULL;
    char id[KEYD_KEY_ID_MAX + 1], md[16];
    if (keyd_der_decode(ASN1_ITEM_rptr(KEYD_SIGN_DIGESTS_REQ), der, len, &v,
                        NULL) < 0)
        return;
    KEYD_SIGN_DIGESTS_REQ *q = v;
    if (keyd_str_get(q->key_id, id, sizeof id, "key id", NULL) == 0 &&
        strlen(id) >= sizeof id)
        abort();
    if (keyd_str_get(q->md, md, sizeof md, "md", NULL) == 0)
        (void)keyd_md_by_name(md);
    KEYD_SIGN_DIGESTS_REQ_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0;
    KEYD_REQUEST *r = NULL;
    if (size < 4)
        return 0;
    int hrc = keyd_frame_length(data, KEYD_FRAME_MAX, &len, NULL);
    if (hrc == 0 && (len == 0 || len > KEYD_FRAME_MAX))
        abort();
    data += 4;
    size -= 4;
    int rc = keyd_request_decode(data, size, &r, NULL);
    if (rc == 0 && (r == NULL || r->version != KEYD_PROTO_VERSION))
        abort();
    if (r) {
        same_bytes(ASN1_ITEM_rptr(KEYD_REQUEST), r, data, size);
        if (r->body) {
            bodies(ASN1_STRING_get0_data(r->body),
                   (size_t)ASN1_STRING_length(r->body));
            digests_body(ASN1_STRING_get0_data(r->body),
                         (size_t)ASN1_STRING_length(r->body));
        }
    } else if (rc == 0) {
        abort();
    }
    KEYD_REQUEST_free(r);
    bodies(data, size);
    return 0;
}
