/* Two-of-three activation of the key store inside keyd (R9.5, CPS §6.2.2,
 * §6.2.8).  A production keyd starts sealed and custodians hand in their
 * shares one at a time through unseal_share (caller class custodian:
 * `llave unseal`), never through the public listener (issue 12 item 2).
 * The shares are held by a keys/ unseal session in OpenSSL's secure heap;
 * the second distinct valid share opens the store, which is published with
 * one atomic store, so every connection thread sees no key store or a
 * complete one.  Only a share's number reaches the audit trail.
 *
 * A demo install keeps two shares in DIR/demo-shares.INSECURE so that it
 * starts unattended, as llaved did before keyd existed. */
#include "audit/audit.h"
#include "keyd/keyd_internal.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Must name the file custody/ceremony.c writes (LV_DEMO_SHARES_FILE). */
_Static_assert(KEYD_SHARES_TOTAL == LV_SHARES_TOTAL &&
                   KEYD_SHARES_NEEDED == LV_SHARES_NEEDED,
               "keyd_proto.h and keys.h name one custody scheme");

#define KEYD_DEMO_SHARES_FILE "demo-shares.INSECURE"
#define DEMO_FILE_MAX 4096

/* Feeds the non-comment lines of the demo file to a fresh session. */
static int demo_feed(const char *dir, char *text, lv_keystore **ks, lv_err *err)
{
    lv_unseal *u = NULL;
    char *save = NULL;
    int rc = 0;
    LV_TRY(keys_unseal_new(dir, &u, err));
    for (char *line = strtok_r(text, "\n", &save); line && !*ks && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned index;
        size_t received;
        if (line[0] != '#' && line[0] != '\0')
            rc = keys_unseal_add(u, line, &index, &received, ks, err);
    }
    keys_unseal_free(u);
    if (rc == 0 && !*ks)
        rc = lv_fail(err, LV_EAUTH, "%s holds fewer than %d shares",
                     KEYD_DEMO_SHARES_FILE, LV_SHARES_NEEDED);
    return rc;
}

static int demo_open(keyd_server *s, lv_err *err)
{
    char path[600];
    unsigned char *data = NULL;
    size_t len = 0;
    lv_keystore *ks = NULL;
    LV_TRY(lv_path_join(path, sizeof path, s->dir, KEYD_DEMO_SHARES_FILE));
    if (access(path, F_OK) != 0)
        return 0;
    LV_TRY(lv_file_read(path, &data, &len, DEMO_FILE_MAX, err));
    char *text = OPENSSL_secure_zalloc(len + 1);
    int rc = text ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
    if (rc == 0) {
        memcpy(text, data, len);
        rc = demo_feed(s->dir, text, &ks, err);
        OPENSSL_secure_clear_free(text, len + 1);
    }
    OPENSSL_cleanse(data, len);
    free(data);
    LV_TRY(rc);
    atomic_store(&s->ks, ks);
    lv_log(LV_LOG_WARN,
           "llave-keyd: DEMO INSTALL, NOT SECURE: the key store was opened "
           "with custodian shares read from %s",
           path);
    return 0;
}

int keyd_unseal_init(keyd_server *s, int use_demo_shares, lv_err *err)
{
    if (pthread_mutex_init(&s->unseal_lock, NULL) != 0)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    LV_TRY(keys_unseal_new(s->dir, &s->unseal, err));
    if (use_demo_shares)
        LV_TRY(demo_open(s, err));
    if (!atomic_load(&s->ks))
        lv_log(LV_LOG_WARN,
               "llave-keyd: key store sealed: no key operation until %d of "
               "%d custodian shares are presented (llave unseal)",
               LV_SHARES_NEEDED, LV_SHARES_TOTAL);
    return 0;
}

void keyd_unseal_free(keyd_server *s)
{
    keys_unseal_free(s->unseal);
    s->unseal = NULL;
    pthread_mutex_destroy(&s->unseal_lock);
}

/* A first share that waited too long for the second custodian is
 * forgotten (callers hold unseal_lock). */
static void age_locked(keyd_server *s)
{
    if (s->first_share_at &&
        lv_now() - s->first_share_at > KEYD_UNSEAL_PENDING_MAX) {
        keys_unseal_reset(s->unseal);
        s->first_share_at = 0;
    }
}

int keyd_unseal_received(keyd_server *s)
{
    pthread_mutex_lock(&s->unseal_lock);
    age_locked(s);
    int n = atomic_load(&s->ks) ? 0 : (int)keys_unseal_received(s->unseal);
    pthread_mutex_unlock(&s->unseal_lock);
    return n;
}

static void audit_share(keyd_call *call, unsigned index, size_t received,
                        int rc, const lv_err *why)
{
    char actor[64], object[16];
    keyd_actor(call, actor);
    snprintf(object, sizeof object, "share:%u", index);
    json_t *d = keyd_peer_json(call);
    json_object_set_new(d, "received", json_integer((json_int_t)received));
    json_object_set_new(d, "needed", json_integer(LV_SHARES_NEEDED));
    if (rc < 0)
        json_object_set_new(d, "reason", json_string(why->msg));
    keyd_audit(call->conn, actor, "keys.unseal_share",
               index ? object : "share:unparsable",
               rc < 0 ? LV_AUDIT_FAILURE : LV_AUDIT_SUCCESS, d);
    call->audited = 1;
}

static int add_locked(keyd_call *call, const char *share, KEYD_UNSEAL_RESP *r,
                      lv_err *err)
{
    keyd_server *s = call->conn->srv;
    lv_keystore *ks = NULL;
    unsigned index = 0;
    size_t received = 0;
    if (atomic_load(&s->ks))
        return lv_fail(err, LV_ESTATE, "the key store is already unsealed");
    age_locked(s);
    int rc = keys_unseal_add(s->unseal, share, &index, &received, &ks, err);
    audit_share(call, index, received, rc, err);
    r->index = (int32_t)index;
    r->received = (int32_t)received;
    LV_TRY(rc);
    if (!ks) {
        s->first_share_at = s->first_share_at ? s->first_share_at : lv_now();
        return 0;
    }
    atomic_store(&s->ks, ks); /* complete before it is visible */
    s->first_share_at = 0;
    char actor[64];
    keyd_actor(call, actor);
    keyd_audit(call->conn, actor, "keys.unseal", s->dir, LV_AUDIT_SUCCESS,
               keyd_peer_json(call));
    lv_log(LV_LOG_WARN, "llave-keyd: key store unsealed by %zu custodians",
           received);
    lv_store *st;
    if (keyd_conn_store(call->conn, &st, NULL) == 0)
        keyd_after_unseal(s, st);
    return 0;
}

int keyd_unseal_share(keyd_call *call, void *req, void **resp, lv_err *err)
{
    KEYD_UNSEAL_REQ *q = req;
    keyd_server *s = call->conn->srv;
    char share[LV_SHARE_TEXT_MAX];
    KEYD_UNSEAL_RESP *r = KEYD_UNSEAL_RESP_new();
    if (!r)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = keyd_str_get(q->share, share, sizeof share, "share", err);
    /* The decoded copy is wiped here; the frame itself by the caller. */
    OPENSSL_cleanse((void *)ASN1_STRING_get0_data(q->share),
                    (size_t)ASN1_STRING_length(q->share));
    if (rc == 0) {
        pthread_mutex_lock(&s->unseal_lock);
        rc = add_locked(call, share, r, err);
        pthread_mutex_unlock(&s->unseal_lock);
    }
    OPENSSL_cleanse(share, sizeof share);
    r->needed = LV_SHARES_NEEDED;
    r->sealed = atomic_load(&s->ks) ? 0 : 0xff;
    if (rc < 0) {
        KEYD_UNSEAL_RESP_free(r);
        return rc;
    }
    *resp = r;
    return 0;
}
