/* Two-of-three activation of a running service (R9.5, R1.5, CPS §6.2.2,
 * §6.2.8; issue 8).  A production llaved starts with its CA context sealed
 * (ks NULL: every private-key operation answers LV_ESEALED); custodians
 * then hand in their shares one at a time.  The shares are held by a
 * keys/ unseal session, never here; the second distinct valid share opens
 * the key store, which is published into the CA context with one atomic
 * store: every thread sees either no key store or a complete one.  The
 * share itself never reaches the audit trail, only its number. */
#include "ca/ca_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A first share waits at most this long for the second custodian. */
#define UNSEAL_PENDING_MAX (15 * 60)

struct ca_unseal {
    pthread_mutex_t lock;
    lv_unseal *session;
    int64_t first_at; /* when the share held arrived */
    int owns_ks;      /* ca->ks was opened here: ca_close closes it */
};

int ca_unseal_init(lv_ca *ca, lv_err *err)
{
    struct ca_unseal *u = calloc(1, sizeof *u);
    if (!u || pthread_mutex_init(&u->lock, NULL) != 0) {
        free(u);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    ca->unseal = u;
    return 0;
}

void ca_unseal_free(lv_ca *ca)
{
    struct ca_unseal *u = ca->unseal;
    if (!u)
        return;
    if (u->owns_ks)
        keys_close(ca->ks);
    keys_unseal_free(u->session);
    pthread_mutex_destroy(&u->lock);
    free(u);
    ca->unseal = NULL;
}

int ca_sealed(const lv_ca *ca)
{
    return ca->ks == NULL;
}

lv_keystore *ca_keystore(const lv_ca *ca)
{
    return ca->ks;
}

static void progress(const lv_ca *ca, const struct ca_unseal *u,
                     lv_unseal_progress *out)
{
    out->sealed = ca->ks == NULL;
    out->received = out->sealed ? keys_unseal_received(u->session) : 0;
    out->needed = LV_SHARES_NEEDED;
}

void ca_unseal_status(lv_ca *ca, lv_unseal_progress *out)
{
    struct ca_unseal *u = ca->unseal;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&u->lock);
    if (u->session && u->first_at &&
        lv_now() - u->first_at > UNSEAL_PENDING_MAX) {
        keys_unseal_reset(u->session);
        u->first_at = 0;
    }
    progress(ca, u, out);
    pthread_mutex_unlock(&u->lock);
}

static void audit_share(lv_store *st, const char *actor, unsigned index,
                        size_t received, int rc, const lv_err *why)
{
    char object[16];
    lv_err ignored = {0};
    snprintf(object, sizeof object, "share:%u", index);
    json_t *d = json_pack("{s:I, s:i}", "received", (json_int_t)received,
                          "needed", LV_SHARES_NEEDED);
    if (rc < 0)
        json_object_set_new(d, "reason", json_string(why ? why->msg : ""));
    audit_log_standalone(
        st, actor, "keys.unseal_share", index ? object : "share:unparsable",
        rc < 0 ? LV_AUDIT_FAILURE : LV_AUDIT_SUCCESS, d, &ignored);
    json_decref(d);
}

static int submit_locked(lv_ca *ca, struct ca_unseal *u, lv_store *st,
                         const char *share, const char *actor,
                         lv_unseal_progress *out, lv_err *err)
{
    lv_keystore *ks = NULL;
    unsigned index = 0;
    size_t received = 0;
    if (ca->ks != NULL)
        return lv_fail(err, LV_ESTATE, "the key store is already unsealed");
    if (!u->session)
        LV_TRY(keys_unseal_new(ca->cfg.dir, &u->session, err));
    if (u->first_at && lv_now() - u->first_at > UNSEAL_PENDING_MAX) {
        keys_unseal_reset(u->session); /* the first custodian's share aged */
        u->first_at = 0;
    }
    int rc = keys_unseal_add(u->session, share, &index, &received, &ks, err);
    audit_share(st, actor, index, received, rc, err);
    out->index = index;
    if (rc < 0)
        return rc;
    if (!ks) {
        u->first_at = u->first_at ? u->first_at : lv_now();
        progress(ca, u, out);
        return 0;
    }
    ca->ks = ks; /* atomic publication: the context is complete before */
    u->owns_ks = 1;
    u->first_at = 0;
    progress(ca, u, out);
    out->received = received;
    lv_err ignored = {0};
    audit_log_standalone(st, actor, "keys.unseal", ca->cfg.dir,
                         LV_AUDIT_SUCCESS, NULL, &ignored);
    lv_log(LV_LOG_WARN, "key store unsealed by %zu custodians", received);
    return 0;
}

int ca_unseal_submit(lv_ca *ca, lv_store *st, const char *share,
                     const char *actor, lv_unseal_progress *out, lv_err *err)
{
    struct ca_unseal *u = ca->unseal;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&u->lock);
    int rc = submit_locked(ca, u, st, share, actor, out, err);
    if (rc < 0)
        progress(ca, u, out);
    pthread_mutex_unlock(&u->lock);
    return rc;
}
