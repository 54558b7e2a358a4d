/* Custodian shares of the master key (R9.5, CPS §6.2.2 and §6.2.8): 2-of-3
 * Shamir sharing over GF(256) done by libgfshare, and the printable form
 *
 *     llave-share-<n>-<64 hex share bytes>-<8 hex check>
 *
 * where check = SHA-256("llave-share" || n || share bytes)[0..4], so that a
 * custodian's typing error is caught before any combination is attempted. */
#include "keys/keys_internal.h"

#include <ctype.h>
#include <libgfshare.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define SHARE_PREFIX "llave-share-"
#define SHARE_CHECK_LEN 4
/* prefix, digit, '-', 64 hex, '-', 8 hex */
#define SHARE_TEXT_LEN                                                         \
    (sizeof SHARE_PREFIX - 1 + 2 + 2 * (size_t)LV_SHARE_LEN + 1 +              \
     2 * (size_t)SHARE_CHECK_LEN)

/* ---- randomness for libgfshare ---------------------------------------
 * libgfshare draws the polynomial coefficients through the global
 * gfshare_fill_rand (NULL by default) and also calls it to wipe its buffers
 * in gfshare_ctx_free.  It cannot report failure, so a failing generator is
 * recorded per thread and checked after use: coefficients that are not random
 * would hand the master key to every single custodian. */
static _Thread_local int rand_failed;
static pthread_once_t rand_once = PTHREAD_ONCE_INIT;

static void share_fill_rand(unsigned char *buf, unsigned int len)
{
    if (RAND_priv_bytes(buf, (int)len) != 1) {
        OPENSSL_cleanse(buf, len);
        rand_failed = 1;
    }
}

static void share_install_rand(void)
{
    gfshare_fill_rand = share_fill_rand;
}

static void share_rand_init(void)
{
    pthread_once(&rand_once, share_install_rand);
    rand_failed = 0;
}

/* ---- printable form --------------------------------------------------- */
static void share_check(const lv_share *s, unsigned char out[SHARE_CHECK_LEN])
{
    unsigned char md[32];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, "llave-share", 11) &&
             EVP_DigestUpdate(ctx, &s->index, 1) &&
             EVP_DigestUpdate(ctx, s->bytes, LV_SHARE_LEN) &&
             EVP_DigestFinal_ex(ctx, md, NULL);
    EVP_MD_CTX_free(ctx);
    if (!ok)
        memset(md, 0, sizeof md); /* no share ever matches: fails closed */
    memcpy(out, md, SHARE_CHECK_LEN);
}

void keys_share_format(const lv_share *s, char out[LV_SHARE_TEXT_MAX])
{
    char hex[2 * LV_SHARE_LEN + 1];
    char check_hex[2 * SHARE_CHECK_LEN + 1];
    unsigned char check[SHARE_CHECK_LEN];

    share_check(s, check);
    lv_hex_encode(s->bytes, LV_SHARE_LEN, hex);
    lv_hex_encode(check, SHARE_CHECK_LEN, check_hex);
    snprintf(out, LV_SHARE_TEXT_MAX, SHARE_PREFIX "%u-%s-%s",
             (unsigned)s->index, hex, check_hex);
    OPENSSL_cleanse(hex, sizeof hex);
}

/* Strict hex of exactly 2*len characters (either case: custodians type). */
static int share_hex(const char *p, size_t len, unsigned char *out)
{
    char buf[2 * LV_SHARE_LEN + 1];
    for (size_t i = 0; i < 2 * len; i++)
        if (!isxdigit((unsigned char)p[i]))
            return LV_EINVAL;
    memcpy(buf, p, 2 * len);
    buf[2 * len] = '\0';
    int n = lv_hex_decode(buf, out, len);
    OPENSSL_cleanse(buf, sizeof buf);
    return n == (int)len ? 0 : LV_EINVAL;
}

/* Copies text without surrounding white space (a share pasted from a file
 * keeps its newline) into buf; returns its length or -1 if too long. */
static int share_trim(const char *text, char buf[LV_SHARE_TEXT_MAX])
{
    while (isspace((unsigned char)*text))
        text++;
    size_t n = strlen(text);
    while (n > 0 && isspace((unsigned char)text[n - 1]))
        n--;
    if (n >= LV_SHARE_TEXT_MAX)
        return -1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    return (int)n;
}

static int share_parse_trimmed(const char *t, size_t n, lv_share *out,
                               lv_err *err)
{
    const size_t pre = sizeof SHARE_PREFIX - 1;
    const char *body = t + pre + 2;
    const char *check_hex = body + (2 * (size_t)LV_SHARE_LEN + 1);
    unsigned char given[SHARE_CHECK_LEN], want[SHARE_CHECK_LEN];

    if (n != SHARE_TEXT_LEN || strncmp(t, SHARE_PREFIX, pre) != 0 ||
        t[pre + 1] != '-' || body[2 * (size_t)LV_SHARE_LEN] != '-')
        return lv_fail(err, LV_EINVAL,
                       "not a share: expected llave-share-<n>-<64 hex>-<8 "
                       "hex>");
    if (t[pre] < '1' || t[pre] > '0' + LV_SHARES_TOTAL)
        return lv_fail(err, LV_EINVAL, "share number must be 1 to %d",
                       LV_SHARES_TOTAL);
    out->index = (unsigned char)(t[pre] - '0');
    if (share_hex(body, LV_SHARE_LEN, out->bytes) < 0 ||
        share_hex(check_hex, SHARE_CHECK_LEN, given) < 0)
        return lv_fail(err, LV_EINVAL, "share %u: invalid hex digit",
                       (unsigned)out->index);
    share_check(out, want);
    if (CRYPTO_memcmp(given, want, SHARE_CHECK_LEN) != 0)
        return lv_fail(err, LV_EINVAL,
                       "share %u: checksum mismatch (typing error?)",
                       (unsigned)out->index);
    return 0;
}

int keys_share_parse(const char *text, lv_share *out, lv_err *err)
{
    char buf[LV_SHARE_TEXT_MAX];
    if (!text)
        return lv_fail(err, LV_EINVAL, "no share given");
    int n = share_trim(text, buf);
    int rc = n < 0 ? lv_fail(err, LV_EINVAL, "share text too long")
                   : share_parse_trimmed(buf, (size_t)n, out, err);
    OPENSSL_cleanse(buf, sizeof buf);
    if (rc < 0)
        OPENSSL_cleanse(out, sizeof *out);
    return rc;
}

int keys_share_check(const char *share, lv_err *err)
{
    lv_share s;
    int rc = keys_share_parse(share, &s, err);
    OPENSSL_cleanse(&s, sizeof s);
    return rc;
}

/* What keystore.json records per share: lets keys_open name the one share
 * that is wrong or from another store, instead of only failing the check
 * value after combining. */
void keys_share_digest(const lv_share *s, unsigned char out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, "llave-share-digest", 18) &&
             EVP_DigestUpdate(ctx, &s->index, 1) &&
             EVP_DigestUpdate(ctx, s->bytes, LV_SHARE_LEN) &&
             EVP_DigestFinal_ex(ctx, out, NULL);
    EVP_MD_CTX_free(ctx);
    if (!ok)
        memset(out, 0, 32); /* matches no stored digest: fails closed */
}

/* ---- splitting and combining (libgfshare; never hand-written) --------- */
int keys_share_combine(const lv_share *shares, size_t n,
                       unsigned char master[LV_MASTER_KEY_LEN], lv_err *err)
{
    unsigned char nrs[LV_SHARES_TOTAL];
    if (n < LV_SHARES_NEEDED || n > LV_SHARES_TOTAL)
        return lv_fail(err, LV_EINTERNAL, "bad share count %zu", n);
    for (size_t i = 0; i < n; i++)
        nrs[i] = shares[i].index;
    share_rand_init(); /* gfshare_ctx_free wipes through it */
    gfshare_ctx *g = gfshare_ctx_init_dec(nrs, (unsigned)n, LV_SHARE_LEN);
    if (!g)
        return lv_fail(err, LV_ENOMEM, "cannot combine shares");
    for (size_t i = 0; i < n; i++)
        gfshare_ctx_dec_giveshare(g, (unsigned char)i,
                                  (unsigned char *)shares[i].bytes);
    gfshare_ctx_dec_extract(g, master);
    gfshare_ctx_free(g);
    return 0;
}

/* Every pair must give back the master key: a ceremony must never hand out
 * shares that do not open the store. */
static int share_selftest(const unsigned char *master,
                          const lv_share s[LV_SHARES_TOTAL], lv_err *err)
{
    for (size_t a = 0; a < LV_SHARES_TOTAL; a++) {
        for (size_t b = a + 1; b < LV_SHARES_TOTAL; b++) {
            lv_share pair[2] = {s[a], s[b]};
            unsigned char got[LV_MASTER_KEY_LEN];
            int rc = keys_share_combine(pair, 2, got, err);
            int same = rc == 0 && !CRYPTO_memcmp(got, master, sizeof got);
            OPENSSL_cleanse(pair, sizeof pair);
            OPENSSL_cleanse(got, sizeof got);
            if (!same)
                return lv_fail(err, LV_ECRYPTO,
                               "share self-test failed for %zu+%zu", a + 1,
                               b + 1);
        }
    }
    return 0;
}

static int share_split_raw(const unsigned char *master,
                           lv_share out[LV_SHARES_TOTAL], lv_err *err)
{
    unsigned char nrs[LV_SHARES_TOTAL] = {1, 2, 3}; /* x = 0 is the secret */
    unsigned char secret[LV_MASTER_KEY_LEN];

    share_rand_init();
    gfshare_ctx *g = gfshare_ctx_init_enc(nrs, LV_SHARES_TOTAL,
                                          LV_SHARES_NEEDED, LV_SHARE_LEN);
    if (!g)
        return lv_fail(err, LV_ENOMEM, "cannot split the master key");
    memcpy(secret, master, sizeof secret); /* the API takes non-const */
    gfshare_ctx_enc_setsecret(g, secret);
    OPENSSL_cleanse(secret, sizeof secret);
    for (unsigned i = 0; i < LV_SHARES_TOTAL; i++) {
        out[i].index = nrs[i];
        gfshare_ctx_enc_getshare(g, (unsigned char)i, out[i].bytes);
    }
    gfshare_ctx_free(g);
    if (rand_failed)
        return lv_fail(err, LV_ECRYPTO,
                       "random generator failed while splitting");
    return 0;
}

int keys_share_split(const unsigned char master[LV_MASTER_KEY_LEN],
                     lv_share out[LV_SHARES_TOTAL], lv_err *err)
{
    int rc = share_split_raw(master, out, err);
    if (rc == 0)
        rc = share_selftest(master, out, err);
    if (rc < 0)
        OPENSSL_cleanse(out, sizeof(lv_share) * LV_SHARES_TOTAL);
    return rc;
}
