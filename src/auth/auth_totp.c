/* TOTP for operators (R3.6; RFC 6238 over RFC 4226's HOTP) and the
 * otpauth:// URI authenticator apps import. */
#include "auth/auth_internal.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

static const uint32_t POW10[] = {1,      10,      100,      1000,     10000,
                                 100000, 1000000, 10000000, 100000000};

/* RFC 4226 §5.3: HMAC over the 8-byte big-endian counter, dynamic
 * truncation, modulo 10^digits. */
int auth_totp_code(const unsigned char *secret, size_t secret_len,
                   uint64_t step, const char *md_name, int digits, char out[16],
                   lv_err *err)
{
    unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    if (digits < 6 || digits > 8 || !md_name)
        return lv_fail(err, LV_EINVAL, "TOTP needs 6 to 8 digits");
    for (int i = 0; i < 8; i++)
        msg[i] = (unsigned char)(step >> (56 - 8 * i));
    if (!EVP_Q_mac(NULL, "HMAC", NULL, md_name, NULL, secret, secret_len, msg,
                   sizeof msg, mac, sizeof mac, &maclen) ||
        maclen < 20)
        return lv_fail_ssl(err, LV_ECRYPTO, "HMAC-%s failed", md_name);
    unsigned off = mac[maclen - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) |
                   ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
    snprintf(out, 16, "%0*u", digits, (unsigned)(bin % POW10[digits]));
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

/* RFC 6238 §5.2: accept one step of clock drift either way.  Every step is
 * computed and compared in constant time so that the answer's timing does
 * not say which step matched. */
int64_t auth_totp_match(const unsigned char *secret, size_t len, int64_t now,
                        const char *code)
{
    int64_t found = 0, step = now / AUTH_TOTP_STEP;
    if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6)
        return 0;
    for (int64_t s = step - 1; s <= step + 1; s++) {
        char want[16];
        if (auth_totp_code(secret, len, (uint64_t)s, "SHA1", 6, want, NULL) < 0)
            return 0;
        int eq = CRYPTO_memcmp(want, code, 6) == 0;
        found = eq && !found ? s : found;
        OPENSSL_cleanse(want, sizeof want);
    }
    return found;
}

/* RFC 4648 §6 base32 without padding, the form authenticator apps take.
 * (Neither OpenSSL nor another Debian library in our set offers it.) */
int auth_base32(const unsigned char *in, size_t len, char *out, size_t cap)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t o = 0, bits = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            if (o + 1 >= cap)
                return LV_EINVAL;
            out[o++] = A[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) {
        if (o + 1 >= cap)
            return LV_EINVAL;
        out[o++] = A[(acc << (5 - bits)) & 31];
    }
    out[o] = '\0';
    return 0;
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static int pct_encode(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        if (o + (plain ? 1 : 3) >= cap)
            return LV_EINVAL;
        if (plain)
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", *p);
    }
    out[o] = '\0';
    return 0;
}

/* Key URI format (Google Authenticator wiki): otpauth://totp/ISSUER:LOGIN
 * ?secret=B32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30 */
int auth_totp_uri(const lv_config *cfg, const char *login, const char *b32,
                  char *out, size_t cap)
{
    char issuer[3 * sizeof cfg->org_name], user[3 * LV_AUTH_ID_MAX];
    LV_TRY(pct_encode(cfg->org_name, issuer, sizeof issuer));
    LV_TRY(pct_encode(login, user, sizeof user));
    int n = snprintf(out, cap,
                     "otpauth://totp/%s:%s?secret=%s&issuer=%s"
                     "&algorithm=SHA1&digits=6&period=%d",
                     issuer, user, b32, issuer, AUTH_TOTP_STEP);
    return n < 0 || (size_t)n >= cap ? LV_EINVAL : 0;
}
