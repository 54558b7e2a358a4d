/* The llave-keyd wire protocol (keyd_proto.h): the ASN.1 templates of
 * every message, strict DER in and out, and length-prefixed frames over a
 * stream socket.  OpenSSL writes and reads every byte of DER; this file
 * only declares the structures, as the header's schema writes them. */
#include "keydproto/keydproto.h"

#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* ---- templates ---------------------------------------------------------
 * One row a message: its SEQUENCE template (fields in wire order, as the
 * header's schema lists them) and its _new/_free/d2i/i2d functions. */

#define KEYD_MESSAGE(T, ...)                                                   \
    ASN1_SEQUENCE(T) = {__VA_ARGS__} ASN1_SEQUENCE_END(T)                      \
    IMPLEMENT_ASN1_FUNCTIONS(T)

/* Both directions open with the same header: version, kind, id. */
#define KEYD_ENVELOPE(T)                                                       \
    ASN1_EMBED(T, version, INT32), ASN1_EMBED(T, kind, INT32),                 \
        ASN1_EMBED(T, id, UINT32)

KEYD_MESSAGE(KEYD_REQUEST, KEYD_ENVELOPE(KEYD_REQUEST),
             ASN1_EMBED(KEYD_REQUEST, caller, INT32),
             ASN1_OPT(KEYD_REQUEST, body, ASN1_OCTET_STRING))

KEYD_MESSAGE(KEYD_RESPONSE, KEYD_ENVELOPE(KEYD_RESPONSE),
             ASN1_EMBED(KEYD_RESPONSE, status, INT32),
             ASN1_SIMPLE(KEYD_RESPONSE, message, ASN1_UTF8STRING),
             ASN1_OPT(KEYD_RESPONSE, body, ASN1_OCTET_STRING))

KEYD_MESSAGE(KEYD_STATUS_RESP,
             ASN1_SIMPLE(KEYD_STATUS_RESP, sealed, ASN1_BOOLEAN),
             ASN1_SIMPLE(KEYD_STATUS_RESP, server, ASN1_UTF8STRING),
             ASN1_EMBED(KEYD_STATUS_RESP, shares_received, INT32),
             ASN1_EMBED(KEYD_STATUS_RESP, shares_needed, INT32),
             ASN1_EMBED(KEYD_STATUS_RESP, ca_keys, INT64),
             ASN1_EMBED(KEYD_STATUS_RESP, service_keys, INT64),
             ASN1_EMBED(KEYD_STATUS_RESP, signer_keys, INT64))

KEYD_MESSAGE(KEYD_UNSEAL_REQ,
             ASN1_SIMPLE(KEYD_UNSEAL_REQ, share, ASN1_UTF8STRING))

KEYD_MESSAGE(KEYD_UNSEAL_RESP, ASN1_EMBED(KEYD_UNSEAL_RESP, index, INT32),
             ASN1_EMBED(KEYD_UNSEAL_RESP, received, INT32),
             ASN1_EMBED(KEYD_UNSEAL_RESP, needed, INT32),
             ASN1_SIMPLE(KEYD_UNSEAL_RESP, sealed, ASN1_BOOLEAN))

KEYD_MESSAGE(KEYD_KEY_REQ, ASN1_SIMPLE(KEYD_KEY_REQ, key_id, ASN1_UTF8STRING))

KEYD_MESSAGE(KEYD_PUBKEY_RESP, ASN1_SIMPLE(KEYD_PUBKEY_RESP, spki, X509_PUBKEY),
             ASN1_SIMPLE(KEYD_PUBKEY_RESP, key_class, ASN1_UTF8STRING),
             ASN1_SIMPLE(KEYD_PUBKEY_RESP, key_type, ASN1_UTF8STRING))

KEYD_MESSAGE(KEYD_SIGN_TBS_REQ,
             ASN1_SIMPLE(KEYD_SIGN_TBS_REQ, key_id, ASN1_UTF8STRING),
             ASN1_SIMPLE(KEYD_SIGN_TBS_REQ, md, ASN1_UTF8STRING),
             ASN1_SIMPLE(KEYD_SIGN_TBS_REQ, tbs, ASN1_OCTET_STRING),
             ASN1_OPT(KEYD_SIGN_TBS_REQ, prehashed, ASN1_FBOOLEAN))

KEYD_MESSAGE(KEYD_SIG_RESP,
             ASN1_SIMPLE(KEYD_SIG_RESP, signature, ASN1_OCTET_STRING))

KEYD_MESSAGE(KEYD_GENERATE_REQ,
             ASN1_SIMPLE(KEYD_GENERATE_REQ, key_type, ASN1_UTF8STRING),
             ASN1_SIMPLE(KEYD_GENERATE_REQ, label, ASN1_UTF8STRING))

KEYD_MESSAGE(KEYD_GENERATE_RESP,
             ASN1_SIMPLE(KEYD_GENERATE_RESP, key_id, ASN1_UTF8STRING),
             ASN1_SIMPLE(KEYD_GENERATE_RESP, spki, X509_PUBKEY))

KEYD_MESSAGE(KEYD_GENERATE_KEY_REQ,
             ASN1_SIMPLE(KEYD_GENERATE_KEY_REQ, key_type, ASN1_UTF8STRING),
             ASN1_SIMPLE(KEYD_GENERATE_KEY_REQ, key_class, ASN1_UTF8STRING),
             ASN1_SIMPLE(KEYD_GENERATE_KEY_REQ, label, ASN1_UTF8STRING))

KEYD_MESSAGE(KEYD_SIGN_DIGESTS_REQ,
             ASN1_SIMPLE(KEYD_SIGN_DIGESTS_REQ, key_id, ASN1_UTF8STRING),
             ASN1_SIMPLE(KEYD_SIGN_DIGESTS_REQ, md, ASN1_UTF8STRING),
             ASN1_SEQUENCE_OF(KEYD_SIGN_DIGESTS_REQ, digests,
                              ASN1_OCTET_STRING),
             ASN1_SIMPLE(KEYD_SIGN_DIGESTS_REQ, activation, ASN1_OCTET_STRING))

KEYD_MESSAGE(KEYD_SIGS_RESP,
             ASN1_SEQUENCE_OF(KEYD_SIGS_RESP, signatures, ASN1_OCTET_STRING))

/* ---- names ------------------------------------------------------------ */

static const char *const KINDS[] = {
    [KEYD_STATUS] = "status",
    [KEYD_UNSEAL_SHARE] = "unseal_share",
    [KEYD_PUBLIC_KEY] = "public_key",
    [KEYD_SIGN_TBS] = "sign_tbs",
    [KEYD_GENERATE_CITIZEN_KEY] = "generate_citizen_key",
    [KEYD_SIGN_CITIZEN_DIGESTS] = "sign_citizen_digests",
    [KEYD_GENERATE_KEY] = "generate_key",
    [KEYD_DESTROY_KEY] = "destroy_key",
};

const char *keyd_kind_name(int kind)
{
    if (kind <= 0 || (size_t)kind >= sizeof KINDS / sizeof KINDS[0])
        return "unknown";
    return KINDS[kind];
}

const char *keyd_caller_name(int caller)
{
    switch (caller) {
    case KEYD_CALLER_SERVICE:
        return "service";
    case KEYD_CALLER_CONSOLE:
        return "console";
    case KEYD_CALLER_CUSTODIAN:
        return "custodian";
    default:
        return "unknown";
    }
}

/* ---- strict DER ---------------------------------------------------------
 * BER allows several encodings of one value; a request that is not the one
 * canonical DER of what it decodes to is refused, so that what is audited
 * and checked is exactly what was sent. */

int keyd_der_encode(const ASN1_ITEM *it, const void *val, unsigned char **der,
                    size_t *len, lv_err *err)
{
    *der = NULL;
    *len = 0;
    int n = ASN1_item_i2d((const ASN1_VALUE *)val, der, it);
    if (n <= 0)
        return lv_fail_ssl(err, LV_EINTERNAL, "cannot encode %s", it->sname);
    *len = (size_t)n;
    return 0;
}

static int same_encoding(const ASN1_ITEM *it, const ASN1_VALUE *v,
                         const unsigned char *der, size_t len)
{
    unsigned char *again = NULL;
    int n = ASN1_item_i2d(v, &again, it);
    int same = n > 0 && (size_t)n == len && memcmp(again, der, len) == 0;
    OPENSSL_free(again);
    return same;
}

int keyd_der_decode(const ASN1_ITEM *it, const unsigned char *der, size_t len,
                    void **out, lv_err *err)
{
    const unsigned char *p = der;
    *out = NULL;
    if (!der || len == 0 || len > KEYD_FRAME_MAX)
        return lv_fail(err, LV_EINVAL, "%s: empty or oversized", it->sname);
    ASN1_VALUE *v = ASN1_item_d2i(NULL, &p, (long)len, it);
    ERR_clear_error(); /* a refusal is reported here, not left queued */
    if (!v)
        return lv_fail(err, LV_EINVAL, "%s: not DER of the expected structure",
                       it->sname);
    if (p != der + len || !same_encoding(it, v, der, len)) {
        ASN1_item_free(v, it);
        return lv_fail(err, LV_EINVAL,
                       "%s: trailing bytes or not canonical DER", it->sname);
    }
    *out = v;
    return 0;
}

int keyd_request_decode(const unsigned char *der, size_t len,
                        KEYD_REQUEST **out, lv_err *err)
{
    void *v = NULL;
    *out = NULL;
    LV_TRY(keyd_der_decode(ASN1_ITEM_rptr(KEYD_REQUEST), der, len, &v, err));
    *out = v;
    if ((*out)->version != KEYD_PROTO_VERSION)
        return lv_fail(err, LV_EINVAL,
                       "protocol version %d not supported (this keyd speaks "
                       "%d)",
                       (int)(*out)->version, KEYD_PROTO_VERSION);
    return 0;
}

int keyd_request_encode(int kind, uint32_t id, int caller,
                        const unsigned char *body, size_t body_len,
                        unsigned char **der, size_t *len, lv_err *err)
{
    KEYD_REQUEST *r = KEYD_REQUEST_new();
    int rc = r ? 0 : LV_ENOMEM;
    if (rc == 0 && body) {
        r->body = ASN1_OCTET_STRING_new();
        if (!r->body || body_len > INT32_MAX ||
            !ASN1_OCTET_STRING_set(r->body, body, (int)body_len))
            rc = LV_ENOMEM;
    }
    if (rc < 0) {
        KEYD_REQUEST_free(r);
        return lv_fail(err, rc, "out of memory");
    }
    r->version = KEYD_PROTO_VERSION;
    r->kind = kind;
    r->id = id;
    r->caller = caller;
    rc = keyd_der_encode(ASN1_ITEM_rptr(KEYD_REQUEST), r, der, len, err);
    KEYD_REQUEST_free(r);
    return rc;
}

int keyd_str_set(ASN1_STRING *s, const char *v)
{
    size_t n = strlen(v);
    if (!s || n > INT32_MAX || !ASN1_STRING_set(s, v, (int)n))
        return LV_ENOMEM;
    return 0;
}

int keyd_str_get(const ASN1_STRING *s, char *out, size_t cap, const char *what,
                 lv_err *err)
{
    out[0] = '\0';
    if (!s)
        return lv_fail(err, LV_EINVAL, "%s missing", what);
    const unsigned char *p = ASN1_STRING_get0_data(s);
    int n = ASN1_STRING_length(s);
    if (n <= 0 || (size_t)n >= cap)
        return lv_fail(err, LV_EINVAL, "%s empty or longer than %zu bytes",
                       what, cap - 1);
    for (int i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return lv_fail(err, LV_EINVAL, "%s holds a control character",
                           what);
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    return 0;
}

/* ---- digest algorithms (R4.1: SHA-2 only) ------------------------------ */

/* The one list: keyd's names, the spelling CSC clients also send, and the
 * OID the CSC API names them by (hashAlgorithmOID). */
static const struct {
    const char *name, *alt, *oid;
} MDS[] = {
    {"sha256", "SHA-256", "2.16.840.1.101.3.4.2.1"},
    {"sha384", "SHA-384", "2.16.840.1.101.3.4.2.2"},
    {"sha512", "SHA-512", "2.16.840.1.101.3.4.2.3"},
};
#define MD_COUNT (sizeof MDS / sizeof MDS[0])

const EVP_MD *keyd_md_by_name(const char *name)
{
    for (size_t i = 0; name && i < MD_COUNT; i++)
        if (strcasecmp(name, MDS[i].name) == 0 ||
            strcasecmp(name, MDS[i].alt) == 0)
            return EVP_get_digestbyname(MDS[i].name);
    return NULL;
}

const EVP_MD *keyd_md_by_oid(const char *oid)
{
    for (size_t i = 0; oid && i < MD_COUNT; i++)
        if (strcmp(oid, MDS[i].oid) == 0)
            return EVP_get_digestbyname(MDS[i].name);
    return NULL;
}

/* The row of md, or MD_COUNT. */
static size_t md_row(const EVP_MD *md)
{
    size_t i = 0;
    while (md && i < MD_COUNT && !EVP_MD_is_a(md, MDS[i].name))
        i++;
    return md ? i : MD_COUNT;
}

const char *keyd_md_name(const EVP_MD *md)
{
    size_t i = md_row(md);
    return i < MD_COUNT ? MDS[i].name : "";
}

const char *keyd_md_oid(const EVP_MD *md)
{
    size_t i = md_row(md);
    return i < MD_COUNT ? MDS[i].oid : "";
}

/* ---- frames ------------------------------------------------------------ */

int keyd_frame_length(const unsigned char hdr[4], size_t max, size_t *len,
                      lv_err *err)
{
    uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
                 (uint32_t)hdr[2] << 8 | hdr[3];
    *len = 0;
    if (n == 0)
        return lv_fail(err, LV_EINVAL, "empty frame");
    if (n > max)
        return lv_fail(err, LV_ETOOBIG, "frame of %u bytes (at most %zu)", n,
                       max);
    *len = n;
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for `events` or the deadline passes (-1: no
 * deadline).  1 ready, 0 timed out, < 0 failed. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - mono_ms();
            ms = left > 0 ? (int)(left > INT32_MAX ? INT32_MAX : left) : 0;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, ms);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* A frame leaves in one sendmsg (header and message together), so that
 * the reader usually finds the whole frame after one wake-up; poll only
 * when the socket is full (MSG_DONTWAIT: the socket itself blocks). */
int keyd_frame_write(int fd, const unsigned char *msg, size_t len,
                     int timeout_ms, lv_err *err)
{
    unsigned char hdr[4] = {(unsigned char)(len >> 24),
                            (unsigned char)(len >> 16),
                            (unsigned char)(len >> 8), (unsigned char)len};
    struct iovec iov[2] = {{hdr, sizeof hdr}, {(void *)msg, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    int64_t deadline = mono_ms() + timeout_ms;
    if (len == 0 || len > UINT32_MAX)
        return lv_fail(err, LV_EINTERNAL, "frame of %zu bytes", len);
    while (mh.msg_iovlen > 0) {
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_fd(fd, POLLOUT, deadline);
            if (w == 0)
                return lv_fail(err, LV_EBUSY, "key service: write timed out");
            if (w > 0)
                continue;
        }
        if (n <= 0)
            return lv_fail(err, LV_EIO, "key service socket: %s",
                           strerror(errno));
        for (size_t done = (size_t)n; done > 0 && mh.msg_iovlen > 0;) {
            size_t step =
                done < mh.msg_iov->iov_len ? done : mh.msg_iov->iov_len;
            mh.msg_iov->iov_base = (unsigned char *)mh.msg_iov->iov_base + step;
            mh.msg_iov->iov_len -= step;
            done -= step;
            if (mh.msg_iov->iov_len == 0) {
                mh.msg_iov++;
                mh.msg_iovlen--;
            }
        }
    }
    return 0;
}

/* Reads at least `need` and at most `cap` bytes before the deadline,
 * trying the socket before polling it (the rest of a frame is usually
 * there already).  1: the peer closed before the first byte; 0: done
 * (*got bytes); < 0: timed out (LV_EBUSY) or failed (LV_EIO). */
static int read_some(int fd, unsigned char *p, size_t need, size_t cap,
                     int64_t deadline, size_t *got, lv_err *err)
{
    size_t off = 0;
    while (off < need) {
        ssize_t r = recv(fd, p + off, cap - off, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_fd(fd, POLLIN, deadline);
            if (w == 0)
                return lv_fail(err, LV_EBUSY, "key service: read timed out");
            if (w > 0)
                continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 && off == 0)
            return 1;
        if (r <= 0)
            return lv_fail(err, LV_EIO, "key service socket: %s",
                           r == 0 ? "closed mid-frame" : strerror(errno));
        off += (size_t)r;
    }
    *got = off;
    return 0;
}

/* The header: the first byte may take the idle time (a connection waiting
 * for its next request), the rest of the frame only the frame's.  A peer
 * answers or asks after some work, so the socket is polled first. */
static int read_header(int fd, int idle_ms, int timeout_ms,
                       unsigned char hdr[4], int64_t *deadline, lv_err *err)
{
    size_t got = 0;
    int w = wait_fd(fd, POLLIN, idle_ms < 0 ? -1 : mono_ms() + idle_ms);
    if (w == 0)
        return lv_fail(err, LV_EBUSY, "key service: read timed out");
    if (w < 0)
        return lv_fail(err, LV_EIO, "key service socket: %s", strerror(errno));
    *deadline = mono_ms() + timeout_ms;
    int rc = read_some(fd, hdr, 1, 4, *deadline, &got, err);
    if (rc != 0 || got == 4)
        return rc;
    size_t more = 0;
    rc = read_some(fd, hdr + got, 4 - got, 4 - got, *deadline, &more, err);
    return rc == 1
               ? lv_fail(err, LV_EIO, "key service socket: closed mid-frame")
               : rc;
}

int keyd_frame_read(int fd, size_t max, int idle_ms, int timeout_ms,
                    unsigned char **msg, size_t *len, lv_err *err)
{
    unsigned char hdr[4];
    size_t n, got = 0;
    *msg = NULL;
    *len = 0;
    int64_t deadline = 0;
    int rc = read_header(fd, idle_ms, timeout_ms, hdr, &deadline, err);
    if (rc != 0)
        return rc;
    LV_TRY(keyd_frame_length(hdr, max, &n, err));
    unsigned char *buf = malloc(n);
    if (!buf)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    rc = read_some(fd, buf, n, n, deadline, &got, err);
    if (rc != 0) {
        free(buf);
        return rc == 1 ? lv_fail(err, LV_EIO,
                                 "key service socket: closed mid-frame")
                       : rc;
    }
    *msg = buf;
    *len = n;
    return 0;
}
