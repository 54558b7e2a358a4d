/* llave-keyd in process (src/keyd/) through its client (src/keyc/): the
 * request table and caller classes, signatures checked with OpenSSL's own
 * verify, sole control (R5.2) through activation records — missing, used,
 * expired, for another key or other digests, presented twice at once —
 * unsealing by custodians, SO_PEERCRED, and a keyd that is down (503). */
#include "keyc/keyc.h"
#include "keyd/keyd.h"
#include "keys/keys.h"
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

#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* cmocka needs these first, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */
#include "testutil.h"

typedef struct {
    char dir[256];
    char db[320];
    char sock[108];
    char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    char ca[LV_KEY_ID_LEN + 1];
    char service[LV_KEY_ID_LEN + 1];
    char citizen_a[LV_KEY_ID_LEN + 1];
    char citizen_b[LV_KEY_ID_LEN + 1];
    keyd_server *srv;
    keyc *service_c, *console_c, *custodian_c;
    lv_store *st; /* the front end's store */
    unsigned char digests[3 * 32];
} fixture;

/* ---- fixture ---------------------------------------------------------------
 */

static void make_keys(fixture *fx)
{
    lv_keystore *ks = NULL;
    lv_err err = {0};
    char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX];
    const char *two[] = {shares[0], shares[1]};
    assert_int_equal(keys_create(fx->dir, shares, &err), 0);
    memcpy(fx->shares, shares, sizeof shares);
    assert_int_equal(keys_open(fx->dir, two, 2, &ks, &err), 0);
    assert_int_equal(keys_generate(ks, LV_KEY_EC_P256, LV_KEY_CLASS_CA,
                                   "test-ca", fx->ca, &err),
                     0);
    assert_int_equal(keys_generate(ks, LV_KEY_RSA2048, LV_KEY_CLASS_SERVICE,
                                   "test-tsa", fx->service, &err),
                     0);
    assert_int_equal(keys_generate(ks, LV_KEY_RSA2048, LV_KEY_CLASS_SIGNER,
                                   "citizen-a", fx->citizen_a, &err),
                     0);
    assert_int_equal(keys_generate(ks, LV_KEY_RSA2048, LV_KEY_CLASS_SIGNER,
                                   "citizen-b", fx->citizen_b, &err),
                     0);
    keys_close(ks);
}

/* The demo install's file: two shares and comments. */
static void write_demo_shares(fixture *fx)
{
    char path[400], text[600];
    lv_err err = {0};
    int n = snprintf(text, sizeof text, "# INSECURE\n%s\n\n%s\n", fx->shares[0],
                     fx->shares[2]);
    snprintf(path, sizeof path, "%s/demo-shares.INSECURE", fx->dir);
    assert_int_equal(lv_file_write(path, text, (size_t)n, 0600, &err), 0);
}

static void connect_all(fixture *fx)
{
    lv_err err = {0};
    assert_int_equal(
        keyc_connect(fx->sock, KEYD_CALLER_SERVICE, &fx->service_c, &err), 0);
    assert_int_equal(
        keyc_connect(fx->sock, KEYD_CALLER_CONSOLE, &fx->console_c, &err), 0);
    assert_int_equal(
        keyc_connect(fx->sock, KEYD_CALLER_CUSTODIAN, &fx->custodian_c, &err),
        0);
}

static int group_setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    lv_err err = {0};
    assert_non_null(fx);
    assert_int_equal(tu_tmpdir(fx->dir, sizeof fx->dir, "keyd"), 0);
    make_keys(fx);
    write_demo_shares(fx);
    assert_int_equal(tu_store_open(fx->dir, fx->db, sizeof fx->db, &fx->st), 0);
    assert_int_equal(
        keyc_default_path(fx->dir, fx->sock, sizeof fx->sock, &err), 0);
    keyd_opts o = {.dir = fx->dir};
    assert_int_equal(keyd_start(&o, &fx->srv, &err), 0);
    assert_false(keyd_is_sealed(fx->srv));
    connect_all(fx);
    for (int i = 0; i < 3; i++) {
        char doc[32];
        snprintf(doc, sizeof doc, "document %d", i);
        EVP_Digest(doc, strlen(doc), fx->digests + 32 * i, NULL, EVP_sha256(),
                   NULL);
    }
    *state = fx;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *fx = *state;
    keyc_close(fx->service_c);
    keyc_close(fx->console_c);
    keyc_close(fx->custodian_c);
    keyd_stop(fx->srv);
    store_close(fx->st);
    tu_rmtree(fx->dir);
    free(fx);
    return 0;
}

static long long audit_count(fixture *fx, const char *where)
{
    char q[512];
    snprintf(q, sizeof q, "SELECT count(*) FROM audit_log WHERE %s", where);
    return tu_sql(fx->db, q);
}

/* ---- helpers ---------------------------------------------------------------
 */

static EVP_PKEY *public_of(fixture *fx, const char *id, char cls[16])
{
    EVP_PKEY *pub = NULL;
    lv_err err = {0};
    assert_int_equal(keyc_public_key(fx->service_c, id, &pub, cls, NULL, &err),
                     0);
    return pub;
}

static void assert_pkcs1(EVP_PKEY *pub, const EVP_MD *md,
                         const unsigned char *digest, const unsigned char *sig,
                         size_t len)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pub, NULL);
    assert_true(EVP_PKEY_verify_init(c) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0);
    assert_true(EVP_PKEY_CTX_set_signature_md(c, md) > 0);
    assert_int_equal(
        EVP_PKEY_verify(c, sig, len, digest, (size_t)EVP_MD_get_size(md)), 1);
    EVP_PKEY_CTX_free(c);
}

static void activate(fixture *fx, const char *key, const unsigned char *d,
                     size_t n, unsigned char ref[32])
{
    lv_err err = {0};
    assert_int_equal(store_activation_create(fx->st, key, "sha256", d, n, 60,
                                             "citizen:test", ref, &err),
                     0);
}

static int sign_with(fixture *fx, keyc *c, const char *key,
                     const unsigned char *d, size_t n,
                     const unsigned char ref[32], lv_err *err)
{
    unsigned char *sigs = NULL;
    size_t len = 0;
    int rc = keyc_sign_citizen_digests(c, key, "sha256", d, n, ref, &sigs, &len,
                                       err);
    if (rc == 0) {
        EVP_PKEY *pub = public_of(fx, key, NULL);
        for (size_t i = 0; i < n; i++)
            assert_pkcs1(pub, EVP_sha256(), d + 32 * i, sigs + i * len, len);
        EVP_PKEY_free(pub);
    } else {
        assert_null(sigs);
    }
    free(sigs);
    return rc;
}

/* ---- status, table, classes ---------------------------------------------- */

static void test_status_and_socket(void **state)
{
    fixture *fx = *state;
    keyc_info s;
    struct stat sb;
    lv_err err = {0};
    assert_int_equal(keyc_status(fx->custodian_c, &s, &err), 0);
    assert_false(s.sealed);
    assert_int_equal(s.ca_keys, 1);
    assert_int_equal(s.service_keys, 1);
    assert_true(s.signer_keys >= 2);
    assert_non_null(strstr(s.server, "llave-keyd"));
    assert_int_equal(lstat(fx->sock, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(sb.st_uid, geteuid());
}

static void test_sign_tbs(void **state)
{
    fixture *fx = *state;
    const unsigned char tbs[] = "to be signed";
    unsigned char *sig = NULL, dgst[32];
    size_t len = 0;
    lv_err err = {0};
    EVP_PKEY *pub = public_of(fx, fx->ca, NULL);
    assert_int_equal(keyc_sign(fx->console_c, fx->ca, "sha256", tbs, sizeof tbs,
                               0, &sig, &len, &err),
                     0);
    EVP_MD_CTX *v = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(v, NULL, EVP_sha256(), NULL, pub), 1);
    assert_int_equal(EVP_DigestVerify(v, sig, len, tbs, sizeof tbs), 1);
    free(sig);
    /* the same signature over a digest computed here */
    EVP_Digest(tbs, sizeof tbs, dgst, NULL, EVP_sha256(), NULL);
    assert_int_equal(keyc_sign(fx->service_c, fx->ca, "sha256", dgst,
                               sizeof dgst, 1, &sig, &len, &err),
                     0);
    assert_int_equal(EVP_DigestVerifyInit(v, NULL, EVP_sha256(), NULL, pub), 1);
    assert_int_equal(EVP_DigestVerify(v, sig, len, tbs, sizeof tbs), 1);
    free(sig);
    EVP_MD_CTX_free(v);
    EVP_PKEY_free(pub);
    /* a digest of the wrong length, a digest outside R4.1 */
    assert_int_equal(keyc_sign(fx->service_c, fx->ca, "sha384", dgst,
                               sizeof dgst, 1, &sig, &len, &err),
                     LV_EINVAL);
    assert_int_equal(keyc_sign(fx->service_c, fx->ca, "sha1", tbs, sizeof tbs,
                               0, &sig, &len, &err),
                     LV_EINVAL);
}

/* R5.2: sign_tbs never signs with a citizen's key, for any caller. */
static void test_sign_tbs_refuses_citizen_key(void **state)
{
    fixture *fx = *state;
    unsigned char *sig = NULL;
    size_t len = 0;
    lv_err err = {0};
    long long before = audit_count(fx, "event = 'keyd.refused' AND object = "
                                       "'sign_tbs'");
    assert_int_equal(keyc_sign(fx->service_c, fx->citizen_a, "sha256",
                               fx->digests, 32, 0, &sig, &len, &err),
                     LV_EPERM);
    assert_null(sig);
    assert_int_equal(keyc_sign(fx->console_c, fx->citizen_a, "sha256",
                               fx->digests, 32, 1, &sig, &len, &err),
                     LV_EPERM);
    assert_int_equal(audit_count(fx, "event = 'keyd.refused' AND object = "
                                     "'sign_tbs'"),
                     before + 2);
}

static void test_classes(void **state)
{
    fixture *fx = *state;
    unsigned char *sig = NULL;
    size_t len = 0;
    keyc_unseal_progress u;
    lv_err err = {0};
    /* custodians only hand in shares */
    assert_int_equal(keyc_sign(fx->custodian_c, fx->ca, "sha256", fx->digests,
                               32, 0, &sig, &len, &err),
                     LV_EPERM);
    assert_non_null(strstr(err.msg, "custodian"));
    /* shares never come through the front end or the console */
    assert_int_equal(keyc_unseal_share(fx->service_c, fx->shares[2], &u, &err),
                     LV_EPERM);
    assert_int_equal(keyc_unseal_share(fx->console_c, fx->shares[2], &u, &err),
                     LV_EPERM);
    /* an unsealed store takes no more shares */
    assert_int_equal(
        keyc_unseal_share(fx->custodian_c, fx->shares[2], &u, &err), LV_ESTATE);
    assert_true(audit_count(fx, "event = 'keyd.refused' AND actor = "
                                "'keyd:custodian'") >= 1);
}

static void test_generate(void **state)
{
    fixture *fx = *state;
    char id[KEYD_KEY_ID_MAX + 1], cls[16] = "";
    EVP_PKEY *pub = NULL;
    lv_err err = {0};
    assert_int_equal(keyc_generate_citizen_key(fx->service_c, "rsa2048",
                                               "citizen-c", id, &pub, &err),
                     0);
    assert_int_equal(strlen(id), LV_KEY_ID_LEN);
    assert_true(EVP_PKEY_is_a(pub, "RSA"));
    EVP_PKEY *again = public_of(fx, id, cls);
    assert_string_equal(cls, "signer");
    assert_int_equal(EVP_PKEY_eq(pub, again), 1);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(again);
    assert_int_equal(audit_count(fx, "event = 'key.generate'"), 1);
    assert_int_equal(keyc_generate_citizen_key(fx->service_c, "ec-p256", "x",
                                               id, NULL, &err),
                     LV_EINVAL);
    assert_int_equal(keyc_generate_citizen_key(fx->custodian_c, "rsa2048", "x",
                                               id, NULL, &err),
                     LV_EPERM);
    assert_int_equal(keyc_public_key(fx->service_c,
                                     "0123456789abcdef0123456789abcdef", &pub,
                                     NULL, NULL, &err),
                     LV_ENOTFOUND);
    assert_int_equal(
        keyc_public_key(fx->service_c, "../keystore", &pub, NULL, NULL, &err),
        LV_EINVAL);
}

/* ---- sole control (R5.2) ---------------------------------------------------
 */

static void test_activation_signs_once(void **state)
{
    fixture *fx = *state;
    unsigned char ref[32];
    lv_err err = {0};
    activate(fx, fx->citizen_a, fx->digests, 3, ref);
    assert_int_equal(
        sign_with(fx, fx->service_c, fx->citizen_a, fx->digests, 3, ref, &err),
        0);
    assert_int_equal(audit_count(fx, "event = 'sign.activation_use' AND result "
                                     "= 'success' AND actor = 'citizen:test'"),
                     1);
    assert_int_equal(
        sign_with(fx, fx->service_c, fx->citizen_a, fx->digests, 3, ref, &err),
        LV_EPERM);
    assert_non_null(strstr(err.msg, "already used"));
    assert_int_equal(tu_sql(fx->db, "SELECT count(*) FROM sign_activations "
                                    "WHERE used_at IS NULL"),
                     0);
}

static void test_activation_refusals(void **state)
{
    fixture *fx = *state;
    unsigned char ref[32], other[3 * 32];
    lv_err err = {0};
    long long before = audit_count(fx, "event = 'sign.activation_use' AND "
                                       "result = 'failure'");
    /* none at all */
    assert_int_equal(lv_random(ref, sizeof ref), 0);
    assert_int_equal(
        sign_with(fx, fx->service_c, fx->citizen_a, fx->digests, 1, ref, &err),
        LV_EPERM);
    assert_non_null(strstr(err.msg, "no such activation"));
    /* other digests, another order, a subset: each burns the record */
    memcpy(other, fx->digests + 32, 32);
    memcpy(other + 32, fx->digests, 32);
    activate(fx, fx->citizen_a, fx->digests, 2, ref);
    assert_int_equal(
        sign_with(fx, fx->service_c, fx->citizen_a, other, 2, ref, &err),
        LV_EPERM);
    assert_non_null(strstr(err.msg, "other digests"));
    assert_int_equal(
        sign_with(fx, fx->service_c, fx->citizen_a, fx->digests, 2, ref, &err),
        LV_EPERM);
    assert_non_null(strstr(err.msg, "already used"));
    /* another citizen's key */
    activate(fx, fx->citizen_a, fx->digests, 1, ref);
    assert_int_equal(
        sign_with(fx, fx->service_c, fx->citizen_b, fx->digests, 1, ref, &err),
        LV_EPERM);
    assert_non_null(strstr(err.msg, "another key"));
    /* expired (its clock moved behind llave's back) */
    activate(fx, fx->citizen_b, fx->digests, 1, ref);
    tu_sql(fx->db, "UPDATE sign_activations SET expires_at = 1 WHERE used_at "
                   "IS NULL");
    assert_int_equal(
        sign_with(fx, fx->service_c, fx->citizen_b, fx->digests, 1, ref, &err),
        LV_EPERM);
    assert_non_null(strstr(err.msg, "expired"));
    /* the console has no path to a citizen's key */
    activate(fx, fx->citizen_b, fx->digests, 1, ref);
    assert_int_equal(
        sign_with(fx, fx->console_c, fx->citizen_b, fx->digests, 1, ref, &err),
        LV_EPERM);
    /* a record the front end wrote for a CA key opens nothing */
    activate(fx, fx->ca, fx->digests, 1, ref);
    assert_int_equal(
        sign_with(fx, fx->service_c, fx->ca, fx->digests, 1, ref, &err),
        LV_EPERM);
    assert_non_null(strstr(err.msg, "not a citizen"));
    assert_int_equal(audit_count(fx, "event = 'sign.activation_use' AND "
                                     "result = 'failure'"),
                     before + 6);
    assert_int_equal(tu_sql(fx->db, "SELECT count(*) FROM sign_activations "
                                    "WHERE refusal LIKE 'activation is for%'"),
                     2);
}

typedef struct {
    fixture *fx;
    const unsigned char *ref;
    int rc;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    keyc *c = NULL;
    lv_err err = {0};
    unsigned char *sigs = NULL;
    size_t len = 0;
    r->rc = keyc_connect(r->fx->sock, KEYD_CALLER_SERVICE, &c, &err);
    if (r->rc == 0)
        r->rc = keyc_sign_citizen_digests(c, r->fx->citizen_a, "sha256",
                                          r->fx->digests, 3, r->ref, &sigs,
                                          &len, &err);
    free(sigs);
    keyc_close(c);
    return NULL;
}

/* One record, eight presentations at once on eight connections: one
 * signature. */
static void test_activation_race(void **state)
{
    fixture *fx = *state;
    unsigned char ref[32];
    pthread_t t[8];
    racer r[8];
    int signed_ = 0, refused = 0;
    activate(fx, fx->citizen_a, fx->digests, 3, ref);
    for (int i = 0; i < 8; i++) {
        r[i] = (racer){fx, ref, 1};
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        signed_ += r[i].rc == 0;
        refused += r[i].rc == LV_EPERM;
    }
    assert_int_equal(signed_, 1);
    assert_int_equal(refused, 7);
}

/* ---- unsealing, peers, a keyd that is down --------------------------------
 */

static void test_unseal(void **state)
{
    fixture *fx = *state;
    char sock[400];
    keyd_server *sealed = NULL;
    keyc *cust = NULL, *svc = NULL;
    keyc_unseal_progress u;
    keyc_info s;
    unsigned char *sig = NULL;
    size_t len = 0;
    lv_err err = {0};
    snprintf(sock, sizeof sock, "%s/sealed.sock", fx->dir);
    keyd_opts o = {.dir = fx->dir, .socket_path = sock, .sealed = 1};
    assert_int_equal(keyd_start(&o, &sealed, &err), 0);
    assert_true(keyd_is_sealed(sealed));
    assert_int_equal(keyc_connect(sock, KEYD_CALLER_CUSTODIAN, &cust, &err), 0);
    assert_int_equal(keyc_connect(sock, KEYD_CALLER_SERVICE, &svc, &err), 0);
    assert_int_equal(keyc_status(svc, &s, &err), 0);
    assert_true(s.sealed);
    assert_int_equal(
        keyc_sign(svc, fx->ca, "sha256", fx->digests, 32, 0, &sig, &len, &err),
        LV_ESEALED);
    assert_int_equal(keyc_unseal_share(cust, "llave-share-1-00", &u, &err),
                     LV_EINVAL);
    assert_int_equal(keyc_unseal_share(cust, fx->shares[1], &u, &err), 0);
    assert_int_equal(u.index, 2);
    assert_int_equal(u.received, 1);
    assert_true(u.sealed);
    assert_int_equal(keyc_unseal_share(cust, fx->shares[1], &u, &err),
                     LV_EEXISTS);
    assert_int_equal(keyc_status(svc, &s, &err), 0);
    assert_int_equal(s.shares_received, 1);
    assert_int_equal(keyc_unseal_share(cust, fx->shares[2], &u, &err), 0);
    assert_false(u.sealed);
    assert_false(keyd_is_sealed(sealed));
    assert_int_equal(
        keyc_sign(svc, fx->ca, "sha256", fx->digests, 32, 0, &sig, &len, &err),
        0);
    free(sig);
    assert_int_equal(audit_count(fx, "event = 'keys.unseal'"), 1);
    assert_true(audit_count(fx, "event = 'keys.unseal_share' AND result = "
                                "'failure'") >= 2);
    for (int i = 0; i < LV_SHARES_TOTAL; i++) { /* never in the trail */
        char where[400];
        snprintf(where, sizeof where, "details LIKE '%%%s%%'", fx->shares[i]);
        assert_int_equal(audit_count(fx, where), 0);
    }
    keyc_close(cust);
    keyc_close(svc);
    keyd_stop(sealed);
}

/* Another uid is refused by SO_PEERCRED even when the socket's mode was
 * opened behind keyd's back (needs root to become nobody). */
static void test_peer_uid(void **state)
{
    fixture *fx = *state;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    unsigned char *der = NULL;
    size_t dlen = 0;
    if (geteuid() != 0) {
        skip();
        return;
    }
    snprintf(a.sun_path, sizeof a.sun_path, "%s", fx->sock);
    assert_int_equal(keyd_request_encode(KEYD_STATUS, 1, KEYD_CALLER_SERVICE,
                                         NULL, 0, &der, &dlen, NULL),
                     0);
    assert_int_equal(chmod(fx->dir, 0711), 0);
    assert_int_equal(chmod(fx->sock, 0666), 0);
    pid_t pid = fork();
    if (pid == 0) { /* no allocation after fork: keyd's threads hold locks */
        unsigned char byte;
        int fd = -1;
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(10);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
            _exit(11);
        lv_ignore(keyd_frame_write(fd, der, dlen, 2000, NULL)); /* see below */
        /* closed without an answer (EOF, or a reset: our frame unread) */
        _exit(recv(fd, &byte, 1, 0) <= 0 ? 0 : 12);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    chmod(fx->sock, 0600);
    chmod(fx->dir, 0700);
    OPENSSL_free(der);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(audit_count(fx, "event = 'keyd.refused' AND object = "
                                     "'connection' AND details LIKE "
                                     "'%peer uid 65534%'"),
                     1);
}

/* Down: LV_EBUSY at once; back on the same socket: the same handle
 * reconnects by itself. */
static void test_down_and_back(void **state)
{
    fixture *fx = *state;
    char missing[400];
    keyc *c = NULL;
    keyc_info s;
    lv_err err = {0};
    snprintf(missing, sizeof missing, "%s/none.sock", fx->dir);
    assert_int_equal(keyc_connect(missing, KEYD_CALLER_SERVICE, &c, &err),
                     LV_EBUSY);
    assert_int_equal(err.retry_after, 1);
    assert_int_equal(lv_err_http_status(LV_EBUSY), 503);
    keyd_stop(fx->srv);
    fx->srv = NULL;
    assert_int_equal(keyc_status(fx->service_c, &s, &err), LV_EBUSY);
    keyd_opts o = {.dir = fx->dir};
    assert_int_equal(keyd_start(&o, &fx->srv, &err), 0);
    assert_int_equal(keyc_status(fx->service_c, &s, &err), 0);
    assert_false(s.sealed);
    /* a second keyd never replaces a live one */
    keyd_server *second = NULL;
    assert_int_equal(keyd_start(&o, &second, &err), LV_EEXISTS);
    assert_null(second);
    assert_int_equal(keyc_status(fx->service_c, &s, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_and_socket),
        cmocka_unit_test(test_sign_tbs),
        cmocka_unit_test(test_sign_tbs_refuses_citizen_key),
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_activation_signs_once),
        cmocka_unit_test(test_activation_refusals),
        cmocka_unit_test(test_activation_race),
        cmocka_unit_test(test_unseal),
        cmocka_unit_test(test_peer_uid),
        cmocka_unit_test(test_down_and_back),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
