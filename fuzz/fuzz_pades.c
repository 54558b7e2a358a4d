/* libFuzzer target: the PDF reader in front of PAdES signing
 * (pades_document_digest, src/pades/), which takes the documents a relying
 * application sends through CSC signatures/signDoc before any key is used
 * (issue 14 item 4).  qpdf parses; our code adds the checks that refuse
 * what it should not sign (encryption, no page, recovered xref, size).
 * Invariants checked on every input:
 *   - the answer is 0 or an LV_E code with a message;
 *   - accepted: the digest is SHA-256 of exactly the input bytes, which is
 *     what the client authorizes (credentials/authorize hashes);
 *   - a second call on the same bytes gives the same answer.
 * Seeds: fuzz/corpus/fuzz_pades/ (a one-page PDF with a classic xref
 * table, the same with an xref stream, an encrypted one). */
#include "pades/pades.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int digest_once(const uint8_t *data, size_t size, unsigned char *d,
                       unsigned *dlen, lv_err *err)
{
    return pades_document_digest(data, size, 0, EVP_sha256(), d, dlen, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char d1[EVP_MAX_MD_SIZE], d2[EVP_MAX_MD_SIZE];
    unsigned char want[EVP_MAX_MD_SIZE];
    unsigned l1 = 0, l2 = 0;
    lv_err e1 = {0}, e2 = {0};
    int rc1 = digest_once(data, size, d1, &l1, &e1);
    int rc2 = digest_once(data, size, d2, &l2, &e2);
    if (rc1 != rc2)
        abort();
    if (rc1 < 0) {
        if (e1.msg[0] == '\0')
            abort();
        return 0;
    }
    if (rc1 != 0 || l1 != 32 || l2 != 32 || memcmp(d1, d2, 32) != 0 ||
        !EVP_Digest(data, size, want, NULL, EVP_sha256(), NULL) ||
        memcmp(d1, want, 32) != 0)
        abort();
    return 0;
}
