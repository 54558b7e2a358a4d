/* The llave-keyd client (keyc.h): one request frame out, one response frame
 * in, over a UNIX socket; keyd_proto.c does every byte of DER.  A failure
 * to reach keyd is LV_EBUSY at once (503): a front end must not hang on a
 * dead key service (issue 12 item 1). */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include "keyc/keyc.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct keyc {
    char path[108];
    int caller;
    int fd; /* -1: connect on the next call */
    int timeout_ms;
    uint32_t next_id;
    pthread_mutex_t lock;
};

int keyc_default_path(const char *dir, char *out, size_t cap, lv_err *err)
{
    if (lv_path_join(out, cap, dir, KEYD_SOCKET_NAME) < 0)
        return lv_fail(err, LV_EINVAL, "socket path too long");
    return 0;
}

static int unavailable(lv_err *err, const char *path, const char *why)
{
    return lv_fail_retry(err, LV_EBUSY, 1, "key service unavailable (%s): %s",
                         path, why);
}

/* ---- connection ---------------------------------------------------------- */

/* The server must run as us: a socket planted by another user is not
 * keyd. */
static int peer_is_us(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
           cred.uid == geteuid();
}

static int reconnect(keyc *c, lv_err *err)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    memcpy(a.sun_path, c->path, strlen(c->path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return unavailable(err, c->path, strerror(errno));
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        return unavailable(err, c->path, strerror(e));
    }
    if (!peer_is_us(fd)) {
        close(fd);
        return lv_fail(err, LV_EPERM, "%s is not served by this user's keyd",
                       c->path);
    }
    c->fd = fd;
    return 0;
}

static int handle_new(const char *path, int caller, keyc **out, lv_err *err)
{
    *out = NULL;
    if (!path || strlen(path) >= sizeof((struct keyc *)0)->path)
        return lv_fail(err, LV_EINVAL, "socket path missing or too long");
    keyc *c = calloc(1, sizeof *c);
    if (!c || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    memcpy(c->path, path, strlen(path) + 1);
    c->caller = caller;
    c->fd = -1;
    c->timeout_ms = KEYC_TIMEOUT_MS_DEFAULT;
    *out = c;
    return 0;
}

int keyc_open(const char *path, int caller, keyc **out, lv_err *err)
{
    return handle_new(path, caller, out, err);
}

int keyc_connect(const char *path, int caller, keyc **out, lv_err *err)
{
    LV_TRY(handle_new(path, caller, out, err));
    int rc = reconnect(*out, err);
    if (rc < 0) {
        keyc_close(*out);
        *out = NULL;
    }
    return rc;
}

void keyc_close(keyc *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void keyc_set_timeout(keyc *c, int timeout_ms)
{
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : KEYC_TIMEOUT_MS_DEFAULT;
}

/* ---- one exchange ------------------------------------------------------- */

/* A connection kept from an earlier call may have been closed by keyd
 * (idle, restart): writing to it fails at once (EPIPE), before keyd could
 * have read the frame, so the frame is sent again on a new connection.  A
 * frame that was written is never sent twice. */
static int send_frame(keyc *c, const unsigned char *der, size_t len,
                      lv_err *err)
{
    int fresh = c->fd < 0;
    if (fresh)
        LV_TRY(reconnect(c, err));
    int rc = keyd_frame_write(c->fd, der, len, c->timeout_ms, err);
    if (rc == LV_EIO && !fresh) {
        LV_TRY(reconnect(c, err));
        rc = keyd_frame_write(c->fd, der, len, c->timeout_ms, err);
    }
    return rc;
}

static int recv_frame(keyc *c, KEYD_RESPONSE **resp, lv_err *err)
{
    unsigned char *msg = NULL;
    size_t len = 0;
    void *v = NULL;
    int rc = keyd_frame_read(c->fd, KEYD_FRAME_MAX, c->timeout_ms,
                             c->timeout_ms, &msg, &len, err);
    if (rc == 1)
        rc = lv_fail(err, LV_EIO, "closed before answering");
    if (rc == 0)
        rc = keyd_der_decode(ASN1_ITEM_rptr(KEYD_RESPONSE), msg, len, &v, err);
    free(msg);
    *resp = v;
    return rc;
}

/* The answer must be to this request; its status becomes ours. */
static int check_response(const KEYD_RESPONSE *r, int kind, uint32_t id,
                          lv_err *err)
{
    char msg[KEYD_MESSAGE_MAX + 1] = "";
    if (!r)
        return lv_fail(err, LV_EINTERNAL, "no answer from the key service");
    if (r->version != KEYD_PROTO_VERSION || r->id != id || r->kind != kind)
        return lv_fail(err, LV_EINTERNAL,
                       "key service answered another request (id %u, kind "
                       "%d)",
                       (unsigned)r->id, (int)r->kind);
    if (r->status == 0)
        return 0;
    /* a message that does not read stays "": the code says what happened */
    if (ASN1_STRING_length(r->message) > 0)
        lv_ignore(keyd_str_get(r->message, msg, sizeof msg, "message", NULL));
    if (r->status == LV_EBUSY)
        return lv_fail_retry(err, LV_EBUSY, 1, "%s", msg);
    return lv_fail(err, r->status < 0 ? r->status : LV_EINTERNAL, "%s", msg);
}

static int exchange(keyc *c, int kind, const unsigned char *der, size_t len,
                    KEYD_RESPONSE **resp, lv_err *err)
{
    int rc = send_frame(c, der, len, err);
    if (rc == 0)
        rc = recv_frame(c, resp, err);
    if (rc < 0 && c->fd >= 0) {
        close(c->fd); /* out of step with keyd: start afresh next time */
        c->fd = -1;
    }
    if (rc == LV_EIO || rc == LV_EBUSY) {
        char why[LV_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err ? err->msg : "no answer");
        return unavailable(err, c->path, why);
    }
    return rc < 0 ? rc : check_response(*resp, kind, c->next_id, err);
}

/* Encodes the body, sends the request, decodes the answer's body.  Request
 * bytes are wiped after use: an unseal share travels in them. */
static int call(keyc *c, int kind, const ASN1_ITEM *req_it, const void *req,
                const ASN1_ITEM *resp_it, void **resp, lv_err *err)
{
    unsigned char *body = NULL, *der = NULL;
    size_t body_len = 0, len = 0;
    KEYD_RESPONSE *r = NULL;
    int rc = req_it ? keyd_der_encode(req_it, req, &body, &body_len, err) : 0;
    pthread_mutex_lock(&c->lock);
    c->next_id++;
    if (rc == 0)
        rc = keyd_request_encode(kind, c->next_id, c->caller, body, body_len,
                                 &der, &len, err);
    if (rc == 0)
        rc = exchange(c, kind, der, len, &r, err);
    pthread_mutex_unlock(&c->lock);
    if (rc == 0 && (!r || !r->body))
        rc = lv_fail(err, LV_EINTERNAL, "key service sent no %s answer",
                     keyd_kind_name(kind));
    if (rc == 0)
        rc = keyd_der_decode(resp_it, ASN1_STRING_get0_data(r->body),
                             (size_t)ASN1_STRING_length(r->body), resp, err);
    if (rc >= 0 && !*resp)
        rc =
            lv_fail(err, LV_EINTERNAL, "empty %s answer", keyd_kind_name(kind));
    OPENSSL_clear_free(body, body_len);
    OPENSSL_clear_free(der, len);
    KEYD_RESPONSE_free(r);
    return rc;
}

/* A request whose fields did not fill (`filled`: LV_EINVAL for a missing
 * argument, LV_ENOMEM) is refused here with `why` and never sent; either
 * way the request is freed. */
static int ask(keyc *c, int kind, int filled, const ASN1_ITEM *req_it,
               void *req, const ASN1_ITEM *resp_it, void **resp,
               const char *why, lv_err *err)
{
    int rc = filled == 0
                 ? call(c, kind, req_it, req, resp_it, resp, err)
                 : lv_fail(err, filled < 0 ? filled : LV_EINVAL, "%s", why);
    ASN1_item_free((ASN1_VALUE *)req, req_it);
    return rc;
}

/* ---- the request table, one function per row ----------------------------- */

int keyc_status(keyc *c, keyc_info *out, lv_err *err)
{
    void *v = NULL;
    memset(out, 0, sizeof *out);
    LV_TRY(call(c, KEYD_STATUS, NULL, NULL, ASN1_ITEM_rptr(KEYD_STATUS_RESP),
                &v, err));
    KEYD_STATUS_RESP *r = v;
    out->sealed = r->sealed != 0;
    /* the version string is shown, never relied on */
    lv_ignore(keyd_str_get(r->server, out->server, sizeof out->server, "server",
                           NULL));
    out->shares_received = r->shares_received;
    out->shares_needed = r->shares_needed;
    out->ca_keys = r->ca_keys;
    out->service_keys = r->service_keys;
    out->signer_keys = r->signer_keys;
    KEYD_STATUS_RESP_free(r);
    return 0;
}

int keyc_unseal_share(keyc *c, const char *share, keyc_unseal_progress *out,
                      lv_err *err)
{
    void *v = NULL;
    KEYD_UNSEAL_REQ *q = KEYD_UNSEAL_REQ_new();
    memset(out, 0, sizeof *out);
    int rc = q && share ? keyd_str_set(q->share, share) : LV_ENOMEM;
    if (rc == 0)
        rc = call(c, KEYD_UNSEAL_SHARE, ASN1_ITEM_rptr(KEYD_UNSEAL_REQ), q,
                  ASN1_ITEM_rptr(KEYD_UNSEAL_RESP), &v, err);
    else
        rc = lv_fail(err, LV_EINVAL, "no share");
    if (q && q->share)
        OPENSSL_cleanse((void *)ASN1_STRING_get0_data(q->share),
                        (size_t)ASN1_STRING_length(q->share));
    KEYD_UNSEAL_REQ_free(q);
    LV_TRY(rc);
    KEYD_UNSEAL_RESP *r = v;
    *out = (keyc_unseal_progress){r->index, r->received, r->needed,
                                  r->sealed != 0};
    KEYD_UNSEAL_RESP_free(r);
    return 0;
}

static int pubkey_of(X509_PUBKEY *spki, EVP_PKEY **pub, lv_err *err)
{
    if (!pub)
        return 0;
    *pub = X509_PUBKEY_get(spki);
    return *pub ? 0
                : lv_fail_ssl(err, LV_EINTERNAL,
                              "key service sent an unusable public key");
}

/* A generated key's answer: its id and public key; frees the answer. */
static int generated(void *resp, char key_id[KEYD_KEY_ID_MAX + 1],
                     EVP_PKEY **pub, lv_err *err)
{
    KEYD_GENERATE_RESP *r = resp;
    int rc =
        keyd_str_get(r->key_id, key_id, KEYD_KEY_ID_MAX + 1, "key id", err);
    if (rc == 0)
        rc = pubkey_of(r->spki, pub, err);
    KEYD_GENERATE_RESP_free(r);
    return rc;
}

int keyc_public_key(keyc *c, const char *key_id, EVP_PKEY **pub,
                    char *key_class, char *key_type, lv_err *err)
{
    void *v = NULL;
    KEYD_KEY_REQ *q = KEYD_KEY_REQ_new();
    int rc = q && key_id ? keyd_str_set(q->key_id, key_id) : LV_EINVAL;
    LV_TRY(ask(c, KEYD_PUBLIC_KEY, rc, ASN1_ITEM_rptr(KEYD_KEY_REQ), q,
               ASN1_ITEM_rptr(KEYD_PUBKEY_RESP), &v, "no key id", err));
    KEYD_PUBKEY_RESP *r = v;
    if (key_class)
        rc = keyd_str_get(r->key_class, key_class, 16, "key class", err);
    if (rc == 0 && key_type)
        rc = keyd_str_get(r->key_type, key_type, 16, "key type", err);
    if (rc == 0)
        rc = pubkey_of(r->spki, pub, err);
    KEYD_PUBKEY_RESP_free(r);
    return rc;
}

static int sig_out(KEYD_SIG_RESP *r, unsigned char **sig, size_t *sig_len,
                   lv_err *err)
{
    size_t n = (size_t)ASN1_STRING_length(r->signature);
    *sig = n ? malloc(n) : NULL;
    if (!*sig)
        return lv_fail(err, n ? LV_ENOMEM : LV_EINTERNAL,
                       "no signature from the key service");
    memcpy(*sig, ASN1_STRING_get0_data(r->signature), n);
    *sig_len = n;
    return 0;
}

int keyc_sign(keyc *c, const char *key_id, const char *md,
              const unsigned char *data, size_t len, int prehashed,
              unsigned char **sig, size_t *sig_len, lv_err *err)
{
    void *v = NULL;
    KEYD_SIGN_TBS_REQ *q = KEYD_SIGN_TBS_REQ_new();
    *sig = NULL;
    *sig_len = 0;
    int rc = q && key_id && md && data && len <= INT32_MAX ? 0 : LV_EINVAL;
    if (rc == 0 &&
        (keyd_str_set(q->key_id, key_id) < 0 || keyd_str_set(q->md, md) < 0 ||
         !ASN1_OCTET_STRING_set(q->tbs, data, (int)len)))
        rc = LV_ENOMEM;
    if (rc == 0)
        q->prehashed = prehashed ? 0xff : 0;
    LV_TRY(ask(c, KEYD_SIGN_TBS, rc, ASN1_ITEM_rptr(KEYD_SIGN_TBS_REQ), q,
               ASN1_ITEM_rptr(KEYD_SIG_RESP), &v,
               "sign_tbs: bad or missing argument", err));
    rc = sig_out(v, sig, sig_len, err);
    KEYD_SIG_RESP_free(v);
    return rc;
}

int keyc_generate_citizen_key(keyc *c, const char *type, const char *label,
                              char key_id[KEYD_KEY_ID_MAX + 1], EVP_PKEY **pub,
                              lv_err *err)
{
    void *v = NULL;
    KEYD_GENERATE_REQ *q = KEYD_GENERATE_REQ_new();
    key_id[0] = '\0';
    int rc = q && type && label ? 0 : LV_EINVAL;
    if (rc == 0 && (keyd_str_set(q->key_type, type) < 0 ||
                    keyd_str_set(q->label, label) < 0))
        rc = LV_ENOMEM;
    LV_TRY(ask(c, KEYD_GENERATE_CITIZEN_KEY, rc,
               ASN1_ITEM_rptr(KEYD_GENERATE_REQ), q,
               ASN1_ITEM_rptr(KEYD_GENERATE_RESP), &v,
               "generate: bad or missing argument", err));
    return generated(v, key_id, pub, err);
}

int keyc_generate_key(keyc *c, const char *type, const char *key_class,
                      const char *label, char key_id[KEYD_KEY_ID_MAX + 1],
                      EVP_PKEY **pub, lv_err *err)
{
    void *v = NULL;
    KEYD_GENERATE_KEY_REQ *q = KEYD_GENERATE_KEY_REQ_new();
    key_id[0] = '\0';
    int rc = q && type && key_class && label ? 0 : LV_EINVAL;
    if (rc == 0 && (keyd_str_set(q->key_type, type) < 0 ||
                    keyd_str_set(q->key_class, key_class) < 0 ||
                    keyd_str_set(q->label, label) < 0))
        rc = LV_ENOMEM;
    LV_TRY(ask(c, KEYD_GENERATE_KEY, rc, ASN1_ITEM_rptr(KEYD_GENERATE_KEY_REQ),
               q, ASN1_ITEM_rptr(KEYD_GENERATE_RESP), &v,
               "generate_key: bad or missing argument", err));
    return generated(v, key_id, pub, err);
}

int keyc_destroy_key(keyc *c, const char *key_id, lv_err *err)
{
    void *v = NULL;
    KEYD_KEY_REQ *q = KEYD_KEY_REQ_new();
    int rc = q && key_id ? 0 : LV_EINVAL;
    if (rc == 0 && keyd_str_set(q->key_id, key_id) < 0)
        rc = LV_ENOMEM;
    rc = ask(c, KEYD_DESTROY_KEY, rc, ASN1_ITEM_rptr(KEYD_KEY_REQ), q,
             ASN1_ITEM_rptr(KEYD_KEY_REQ), &v,
             "destroy_key: bad or missing argument", err);
    KEYD_KEY_REQ_free(v);
    return rc;
}

/* ---- citizens' signatures (R5.2) ------------------------------------------
 */

static int digests_fill(KEYD_SIGN_DIGESTS_REQ *q, const char *md,
                        const unsigned char *digests, size_t n)
{
    const EVP_MD *m = keyd_md_by_name(md);
    size_t dlen = m ? (size_t)EVP_MD_get_size(m) : 0;
    if (!dlen || !digests || n == 0 || n > KEYD_DIGESTS_MAX)
        return LV_EINVAL;
    for (size_t i = 0; i < n; i++) {
        ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
        if (!o || !ASN1_OCTET_STRING_set(o, digests + i * dlen, (int)dlen) ||
            sk_ASN1_OCTET_STRING_push(q->digests, o) <= 0) {
            ASN1_OCTET_STRING_free(o);
            return LV_ENOMEM;
        }
    }
    return 0;
}

static int sigs_out(KEYD_SIGS_RESP *r, size_t n, unsigned char **sigs,
                    size_t *sig_len, lv_err *err)
{
    size_t len = 0;
    if ((size_t)sk_ASN1_OCTET_STRING_num(r->signatures) != n)
        return lv_fail(err, LV_EINTERNAL,
                       "key service sent %d signatures for %zu digests",
                       sk_ASN1_OCTET_STRING_num(r->signatures), n);
    len = (size_t)ASN1_STRING_length(
        sk_ASN1_OCTET_STRING_value(r->signatures, 0));
    *sigs = len ? malloc(n * len) : NULL;
    if (!*sigs)
        return lv_fail(err, LV_EINTERNAL, "no signatures");
    for (size_t i = 0; i < n; i++) {
        const ASN1_OCTET_STRING *o =
            sk_ASN1_OCTET_STRING_value(r->signatures, (int)i);
        if ((size_t)ASN1_STRING_length(o) != len) {
            free(*sigs);
            *sigs = NULL;
            return lv_fail(err, LV_EINTERNAL, "signatures of unequal length");
        }
        memcpy(*sigs + i * len, ASN1_STRING_get0_data(o), len);
    }
    *sig_len = len;
    return 0;
}

int keyc_sign_citizen_digests(
    keyc *c, const char *key_id, const char *md, const unsigned char *digests,
    size_t n, const unsigned char activation[KEYD_ACTIVATION_LEN],
    unsigned char **sigs, size_t *sig_len, lv_err *err)
{
    void *v = NULL;
    KEYD_SIGN_DIGESTS_REQ *q = KEYD_SIGN_DIGESTS_REQ_new();
    *sigs = NULL;
    *sig_len = 0;
    int rc = q && key_id && md && activation ? 0 : LV_EINVAL;
    if (rc == 0 &&
        (keyd_str_set(q->key_id, key_id) < 0 || keyd_str_set(q->md, md) < 0 ||
         !ASN1_OCTET_STRING_set(q->activation, activation,
                                KEYD_ACTIVATION_LEN)))
        rc = LV_ENOMEM;
    if (rc == 0)
        rc = digests_fill(q, md, digests, n);
    LV_TRY(ask(c, KEYD_SIGN_CITIZEN_DIGESTS, rc,
               ASN1_ITEM_rptr(KEYD_SIGN_DIGESTS_REQ), q,
               ASN1_ITEM_rptr(KEYD_SIGS_RESP), &v,
               "sign_citizen_digests: bad argument", err));
    rc = sigs_out(v, n, sigs, sig_len, err);
    KEYD_SIGS_RESP_free(v);
    return rc;
}
