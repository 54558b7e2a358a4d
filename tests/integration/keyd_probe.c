/* keyd_probe — a client of llave-keyd for tests/integration/test_keyd.py.
 * It speaks the protocol through keyc (the calls llaved will make) and, to
 * play a compromised front end, sends what keyc never would: kinds outside
 * the table, another protocol version or caller class, malformed frames.
 * It also writes activation records as the front end does after password
 * + OTP (store_activation_create).
 *
 *   keyd_probe SOCK CALLER status
 *   keyd_probe SOCK CALLER unseal SHARE
 *   keyd_probe SOCK CALLER pubkey KEYID OUT.der
 *   keyd_probe SOCK CALLER sign-tbs KEYID MD IN OUT.sig
 *   keyd_probe SOCK CALLER sign-digest KEYID MD DIGESTHEX OUT.sig
 *   keyd_probe SOCK CALLER generate TYPE LABEL
 *   keyd_probe SOCK CALLER sign-digests KEYID MD REFHEX OUT.sig HEX...
 *   keyd_probe SOCK CALLER raw KIND VERSION [BODYHEX]
 *   keyd_probe SOCK CALLER bytes HEX          (one frame around HEX)
 *   keyd_probe SOCK CALLER stream HEX         (HEX as is, no framing)
 *   keyd_probe DB - activate KEYID MD TTL ACTOR HEX...   (prints REFHEX)
 *
 * CALLER is service, console or custodian.  Prints one JSON object with
 * "rc", "error" and "message" (and results); exits 0 when rc is 0, 3 when
 * keyd refused, 2 on a usage error. */
#include "keyc/keyc.h"
#include "store/store.h"
#include "store/store_activation.h"
#include "store/store_audit.h"
#include "store/store_auth.h"
#include "store/store_ca.h"
#include "store/store_cert.h"
#include "store/store_crl.h"
#include "store/store_keys.h"
#include "store/store_ocsp.h"
#include "store/store_ra.h"
#include "store/store_sign.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int report(int rc, const lv_err *err, json_t *extra)
{
    json_t *o = extra ? extra : json_object();
    json_object_set_new(o, "rc", json_integer(rc));
    json_object_set_new(o, "error", json_string(lv_err_name(rc)));
    json_object_set_new(o, "message", json_string(rc < 0 ? err->msg : ""));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    puts(s ? s : "{}");
    free(s);
    json_decref(o);
    return rc == 0 ? 0 : 3;
}

static int caller_of(const char *name)
{
    for (int c = KEYD_CALLER_SERVICE; c <= KEYD_CALLER_CUSTODIAN; c++)
        if (strcmp(name, keyd_caller_name(c)) == 0)
            return c;
    return atoi(name); /* a number: any class, known or not */
}

static int hex_arg(const char *hex, unsigned char **out, size_t *len)
{
    size_t n = strlen(hex) / 2;
    *out = malloc(n ? n : 1);
    int got = *out ? lv_hex_decode(hex, *out, n) : -1;
    *len = got > 0 ? (size_t)got : 0;
    return got == (int)n ? 0 : LV_EINVAL;
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f)
        fclose(f);
    return ok ? 0 : LV_EIO;
}

/* ---- raw frames (what keyc never sends) ---------------------------------- */

static int raw_connect(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Sends bytes (framed or not), reads one answer and reports its status. */
static int raw_exchange(const char *path, const unsigned char *data, size_t len,
                        int framed)
{
    lv_err err = {0};
    unsigned char *msg = NULL;
    size_t mlen = 0;
    void *v = NULL;
    int fd = raw_connect(path);
    if (fd < 0)
        return report(lv_fail(&err, LV_EBUSY, "cannot connect"), &err, NULL);
    int rc = framed ? keyd_frame_write(fd, data, len, 5000, &err)
                    : (send(fd, data, len, MSG_NOSIGNAL) == (ssize_t)len
                           ? 0
                           : lv_fail(&err, LV_EIO, "send failed"));
    if (!framed)
        shutdown(fd, SHUT_WR); /* a short frame: keyd sees it truncated */
    if (rc == 0)
        rc = keyd_frame_read(fd, KEYD_FRAME_MAX, 15000, 15000, &msg, &mlen,
                             &err);
    close(fd);
    if (rc == 1)
        return report(lv_fail(&err, LV_EIO, "closed without answer"), &err,
                      NULL);
    if (rc == 0)
        rc =
            keyd_der_decode(ASN1_ITEM_rptr(KEYD_RESPONSE), msg, mlen, &v, &err);
    free(msg);
    if (rc < 0)
        return report(rc, &err, NULL);
    KEYD_RESPONSE *r = v;
    char text[KEYD_MESSAGE_MAX + 1] = "";
    lv_ignore(keyd_str_get(r->message, text, sizeof text, "message", NULL));
    json_t *o = json_pack("{s:I, s:i, s:b}", "id", (json_int_t)r->id, "kind",
                          (int)r->kind, "body", r->body != NULL);
    rc = r->status;
    KEYD_RESPONSE_free(r);
    lv_fail(&err, rc, "%s", text);
    return report(rc, &err, o);
}

static int cmd_raw(const char *path, int caller, char **a, int n)
{
    unsigned char *body = NULL, *der = NULL;
    size_t blen = 0, len = 0;
    lv_err err = {0};
    if (n < 2 || (n > 2 && hex_arg(a[2], &body, &blen) < 0))
        return 2;
    KEYD_REQUEST *r = KEYD_REQUEST_new();
    r->version = atoi(a[1]);
    r->kind = atoi(a[0]);
    r->id = 4242;
    r->caller = caller;
    if (body) {
        r->body = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(r->body, body, (int)blen);
    }
    int rc = keyd_der_encode(ASN1_ITEM_rptr(KEYD_REQUEST), r, &der, &len, &err);
    KEYD_REQUEST_free(r);
    free(body);
    if (rc < 0)
        return report(rc, &err, NULL);
    rc = raw_exchange(path, der, len, 1);
    OPENSSL_free(der);
    return rc;
}

static int cmd_bytes(const char *path, const char *hex, int framed)
{
    unsigned char *data = NULL;
    size_t len = 0;
    if (hex_arg(hex, &data, &len) < 0)
        return 2;
    int rc = raw_exchange(path, data, len, framed);
    free(data);
    return rc;
}

/* ---- keyc calls ------------------------------------------------------------
 */

static int cmd_status(keyc *c)
{
    keyc_info s;
    lv_err err = {0};
    int rc = keyc_status(c, &s, &err);
    json_t *o =
        rc < 0 ? NULL
               : json_pack("{s:b, s:s, s:i, s:i, s:I, s:I, s:I}", "sealed",
                           s.sealed, "server", s.server, "shares_received",
                           s.shares_received, "shares_needed", s.shares_needed,
                           "ca_keys", (json_int_t)s.ca_keys, "service_keys",
                           (json_int_t)s.service_keys, "signer_keys",
                           (json_int_t)s.signer_keys);
    return report(rc, &err, o);
}

static int cmd_unseal(keyc *c, const char *share)
{
    keyc_unseal_progress u;
    lv_err err = {0};
    int rc = keyc_unseal_share(c, share, &u, &err);
    json_t *o =
        rc < 0 ? NULL
               : json_pack("{s:i, s:i, s:i, s:b}", "index", u.index, "received",
                           u.received, "needed", u.needed, "sealed", u.sealed);
    return report(rc, &err, o);
}

static int cmd_pubkey(keyc *c, const char *id, const char *out)
{
    EVP_PKEY *pub = NULL;
    char cls[16] = "", type[16] = "";
    lv_err err = {0};
    unsigned char *der = NULL;
    int rc = keyc_public_key(c, id, &pub, cls, type, &err);
    int len = rc == 0 ? i2d_PUBKEY(pub, &der) : 0;
    if (rc == 0 && (len <= 0 || write_file(out, der, (size_t)len) < 0))
        rc = lv_fail(&err, LV_EIO, "cannot write %s", out);
    OPENSSL_free(der);
    EVP_PKEY_free(pub);
    return report(rc, &err,
                  rc < 0 ? NULL
                         : json_pack("{s:s, s:s}", "class", cls, "type", type));
}

static int cmd_sign_tbs(keyc *c, char **a, int n, int prehashed)
{
    unsigned char *data = NULL, *sig = NULL;
    size_t len = 0, slen = 0;
    lv_err err = {0};
    int rc;
    if (n < 4)
        return 2;
    if (prehashed)
        rc = hex_arg(a[2], &data, &len);
    else
        rc = lv_file_read(a[2], &data, &len, KEYD_FRAME_MAX, &err);
    if (rc < 0)
        return 2;
    rc = keyc_sign(c, a[0], a[1], data, len, prehashed, &sig, &slen, &err);
    if (rc == 0 && write_file(a[3], sig, slen) < 0)
        rc = lv_fail(&err, LV_EIO, "cannot write %s", a[3]);
    free(data);
    free(sig);
    return report(rc, &err, NULL);
}

static int cmd_generate(keyc *c, const char *type, const char *label)
{
    char id[KEYD_KEY_ID_MAX + 1];
    lv_err err = {0};
    int rc = keyc_generate_citizen_key(c, type, label, id, NULL, &err);
    return report(rc, &err, rc < 0 ? NULL : json_pack("{s:s}", "key_id", id));
}

/* HEX... : n digests of md, laid end to end. */
static int digests_arg(const char *md, char **hex, int n, unsigned char **out)
{
    const EVP_MD *m = keyd_md_by_name(md);
    size_t dlen = m ? (size_t)EVP_MD_get_size(m) : 0;
    *out = dlen && n > 0 ? malloc((size_t)n * dlen) : NULL;
    for (int i = 0; *out && i < n; i++)
        if (strlen(hex[i]) != 2 * dlen ||
            lv_hex_decode(hex[i], *out + (size_t)i * dlen, dlen) != (int)dlen)
            return LV_EINVAL;
    return *out ? 0 : LV_EINVAL;
}

static int cmd_sign_digests(keyc *c, char **a, int n)
{
    unsigned char ref[KEYD_ACTIVATION_LEN], *digests = NULL, *sigs = NULL;
    size_t slen = 0;
    lv_err err = {0};
    if (n < 5 || strlen(a[2]) != 2 * KEYD_ACTIVATION_LEN ||
        lv_hex_decode(a[2], ref, sizeof ref) != KEYD_ACTIVATION_LEN ||
        digests_arg(a[1], a + 4, n - 4, &digests) < 0)
        return 2;
    int rc = keyc_sign_citizen_digests(c, a[0], a[1], digests, (size_t)n - 4,
                                       ref, &sigs, &slen, &err);
    if (rc == 0 && write_file(a[3], sigs, slen * (size_t)(n - 4)) < 0)
        rc = lv_fail(&err, LV_EIO, "cannot write %s", a[3]);
    free(digests);
    free(sigs);
    return report(rc, &err,
                  rc < 0 ? NULL
                         : json_pack("{s:I}", "sig_len", (json_int_t)slen));
}

/* The front end's half: a record written after password + OTP. */
static int cmd_activate(const char *db, char **a, int n)
{
    unsigned char ref[LV_ACTIVATION_REF_LEN], *digests = NULL;
    char hex[2 * LV_ACTIVATION_REF_LEN + 1];
    lv_store *st = NULL;
    lv_err err = {0};
    if (n < 5 || digests_arg(a[1], a + 4, n - 4, &digests) < 0)
        return 2;
    int rc = store_open(db, &st, &err);
    if (rc == 0)
        rc = store_activation_create(st, a[0], a[1], digests, (size_t)n - 4,
                                     atoi(a[2]), a[3], ref, &err);
    store_close(st);
    free(digests);
    if (rc == 0)
        lv_hex_encode(ref, sizeof ref, hex);
    return report(rc, &err, rc < 0 ? NULL : json_pack("{s:s}", "ref", hex));
}

static int with_keyc(const char *path, int caller, const char *cmd, char **a,
                     int n)
{
    keyc *c = NULL;
    lv_err err = {0};
    int rc = keyc_connect(path, caller, &c, &err);
    if (rc < 0)
        return report(rc, &err, NULL);
    if (strcmp(cmd, "status") == 0)
        rc = cmd_status(c);
    else if (strcmp(cmd, "unseal") == 0 && n == 1)
        rc = cmd_unseal(c, a[0]);
    else if (strcmp(cmd, "pubkey") == 0 && n == 2)
        rc = cmd_pubkey(c, a[0], a[1]);
    else if (strcmp(cmd, "sign-tbs") == 0)
        rc = cmd_sign_tbs(c, a, n, 0);
    else if (strcmp(cmd, "sign-digest") == 0)
        rc = cmd_sign_tbs(c, a, n, 1);
    else if (strcmp(cmd, "generate") == 0 && n == 2)
        rc = cmd_generate(c, a[0], a[1]);
    else if (strcmp(cmd, "sign-digests") == 0)
        rc = cmd_sign_digests(c, a, n);
    else
        rc = 2;
    keyc_close(c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: keyd_probe SOCK CALLER COMMAND [ARG...]\n");
        return 2;
    }
    const char *cmd = argv[3];
    char **a = argv + 4;
    int n = argc - 4, rc;
    if (strcmp(cmd, "activate") == 0)
        rc = cmd_activate(argv[1], a, n);
    else if (strcmp(cmd, "raw") == 0)
        rc = cmd_raw(argv[1], caller_of(argv[2]), a, n);
    else if ((strcmp(cmd, "bytes") == 0 || strcmp(cmd, "stream") == 0) &&
             n == 1)
        rc = cmd_bytes(argv[1], a[0], strcmp(cmd, "bytes") == 0);
    else
        rc = with_keyc(argv[1], caller_of(argv[2]), cmd, a, n);
    if (rc == 2)
        fprintf(stderr, "keyd_probe: bad arguments for %s\n", cmd);
    return rc;
}
