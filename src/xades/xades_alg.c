/* Algorithm identifiers: RFC 6931 (Additional XML Security URIs) §2.1 for
 * digests and §2.3 for RSA PKCS#1 v1.5 and ECDSA signatures; XMLDSig 1.0
 * itself names only SHA-1, too weak for a qualified signature (ETSI
 * TS 119 312). */
#include "xades/xades_internal.h"

typedef struct alg {
    int md_nid;
    const char *digest;
    const char *rsa;
    const char *ecdsa;
} alg;

static const alg algs[] = {
    {NID_sha256, "http://www.w3.org/2001/04/xmlenc#sha256",
     "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
     "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"},
    {NID_sha384, "http://www.w3.org/2001/04/xmldsig-more#sha384",
     "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
     "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"},
    {NID_sha512, "http://www.w3.org/2001/04/xmlenc#sha512",
     "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
     "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"},
};

static const alg *alg_of(const EVP_MD *md)
{
    for (size_t i = 0; md && i < sizeof algs / sizeof algs[0]; i++)
        if (EVP_MD_get_type(md) == algs[i].md_nid)
            return &algs[i];
    return NULL;
}

const char *xades_digest_uri(const EVP_MD *md)
{
    const alg *a = alg_of(md);
    return a ? a->digest : NULL;
}

const char *xades_sigmethod_uri(X509 *signer, const EVP_MD *md)
{
    const alg *a = alg_of(md);
    EVP_PKEY *pub = signer ? X509_get0_pubkey(signer) : NULL;
    if (!a || !pub)
        return NULL;
    if (EVP_PKEY_is_a(pub, "RSA"))
        return a->rsa;
    return EVP_PKEY_is_a(pub, "EC") ? a->ecdsa : NULL;
}
