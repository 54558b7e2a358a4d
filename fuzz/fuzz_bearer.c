/* libFuzzer target: the Authorization header of bearer-token routes, read
 * by http/'s one Bearer parser (http_bearer_token, src/http/http_access.c)
 * and checked by auth_session_check against a store that holds one live
 * operator session.  (HTTP Basic is decoded by libmicrohttpd itself,
 * http_req_basic; there is no Basic parser of llave's own to fuzz.)
 * The input is the header value as a client sends it.  Invariants checked
 * on every input:
 *   - a token is found exactly when the value starts with "Bearer " in any
 *     case; it lies inside the value, after the scheme and the spaces that
 *     follow it, and starts with no space;
 *   - the token found, put back behind "Bearer ", is found again whole;
 *   - the value authenticates exactly when its token is the live session's
 *     token, to the letter: refusals are LV_EAUTH with a message, and
 *     "Bearer <live token><input>" and "bEaReR   <input>" authenticate only
 *     when the input adds nothing to the live token.
 * Seeds: fuzz/corpus/fuzz_bearer/ (well-formed, foreign, truncated,
 * upper-case, other schemes). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "auth/auth.h"
#include "http/http_internal.h"
#include "store/store.h"
#include "store/store_auth.h"

#include <ftw.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static lv_store *st;
static char live[LV_AUTH_TOKEN_LEN + 1];

static char tmpdir[64];

static int remove_one(const char *path, const struct stat *sb, int flag,
                      struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The store goes when the fuzzer ends. */
static void cleanup(void)
{
    store_close(st);
    nftw(tmpdir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A store with operator "fuzz" logged in: the session row as
 * auth_session_create writes it (SHA-256 of the token). */
static void setup(void)
{
    char db[80], hash[65];
    unsigned char md[32], rnd[LV_AUTH_TOKEN_LEN / 2];
    lv_err err = {0};
    lv_operator_rec op = {.enabled = 1, .totp_sealed_len = 1};
    lv_session_rec s = {.expires_at = lv_now() + 86400};
    strcpy(tmpdir, "/tmp/llave-fuzz-bearer-XXXXXX");
    if (!mkdtemp(tmpdir) || lv_random(rnd, sizeof rnd) < 0)
        abort();
    atexit(cleanup);
    snprintf(db, sizeof db, "%s/llave.db", tmpdir);
    lv_hex_encode(rnd, sizeof rnd, live);
    EVP_Digest(live, strlen(live), md, NULL, EVP_sha256(), NULL);
    lv_hex_encode(md, sizeof md, hash);
    strcpy(op.login, "fuzz");
    strcpy(op.roles, "sysadmin");
    strcpy(op.password_hash, "$argon2id$unused");
    strcpy(s.token_hash, hash);
    strcpy(s.kind, "operator");
    strcpy(s.principal, "fuzz");
    if (store_open(db, &st, &err) < 0 ||
        store_operator_insert(st, &op, &err) < 0 ||
        store_session_insert(st, &s, &err) < 0)
        abort();
}

/* 1 when value authenticates, 0 when refused as it must be. */
static int authenticates(const char *value)
{
    lv_principal who;
    lv_err err = {0};
    int rc =
        auth_session_check(NULL, st, http_bearer_token(value), 0, &who, &err);
    if (rc != 0 && (rc != LV_EAUTH || !err.msg[0]))
        abort();
    return rc == 0;
}

static void check_token(const char *value)
{
    const char *tok = http_bearer_token(value);
    int bearer = strncasecmp(value, "Bearer ", 7) == 0;
    if (!tok != !bearer)
        abort();
    if (!tok)
        return;
    if (tok < value + 7 || tok > value + strlen(value) || *tok == ' ' ||
        strspn(value + 7, " ") != (size_t)(tok - value - 7))
        abort();
    char *again = malloc(strlen(tok) + 8);
    strcpy(again, "Bearer ");
    strcat(again, tok);
    if (strcmp(http_bearer_token(again), tok) != 0)
        abort();
    free(again);
}

static char *joined(const char *a, const char *b)
{
    char *s = malloc(strlen(a) + strlen(b) + 1);
    strcpy(s, a);
    return strcat(s, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!st)
        setup();
    char *value = malloc(size + 1);
    memcpy(value, data, size);
    value[size] = '\0';
    check_token(value);
    const char *tok = http_bearer_token(value);
    if (authenticates(value) != (tok && strcmp(tok, live) == 0))
        abort();
    char *pre = joined("Bearer ", live), *longer = joined(pre, value);
    char *odd = joined("bEaReR   ", value);
    if (!authenticates(pre) || authenticates(longer) != (value[0] == '\0') ||
        authenticates(odd) != (strcmp(value + strspn(value, " "), live) == 0))
        abort();
    free(odd);
    free(longer);
    free(pre);
    free(value);
    return 0;
}
