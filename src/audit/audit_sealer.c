/* Making seals over the audit trail (R9.2, CPS §5.4.4; issue 8): the
 * chain head is signed with the audit-seal service key and time-stamped
 * by our own TSA (RFC 3161), then recorded with audit_seal_record
 * (audit_seal.c, which also verifies and exports seals).  audit/ lies
 * below the CA context every other component writes through, so the
 * signature and the token come through lv_audit_sealing (tsa/ fills it in
 * llaved; custody/ adds making a new key in the console).  The audit-seal
 * key and its certificate (internal profile "audit-seal", issued by the
 * non-qualified CA, cas role "audit") are made by the console when none is
 * usable, so installations made before issue 8 gain one the first time the
 * console seals.  llaved's sealer thread seals every audit_seal_minutes or
 * after audit_seal_entries new entries. */
#include "audit/audit_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_NAME "audit-seal"
/* Archive batches recorded before a seal (500 items each): a backlog (an
 * install upgraded from a version that did not archive) is worked off
 * over several passes, and llaved stops within one pass. */
#define SEAL_ARCHIVE_BATCHES 100
#define SEAL_MARGIN ((int64_t)7 * 86400) /* renew a week before it ends */
#define SEALER_ACTOR "llaved"

/* ---- the audit-seal certificate -------------------------------------------
 */
typedef struct find_signer {
    lv_ca_rec best;
    int found;
    int64_t now;
    int count;
} find_signer;

static int pick_signer(const lv_ca_rec *rec, void *arg)
{
    find_signer *f = arg;
    if (strcmp(rec->role, LV_AUDIT_SEAL_ROLE) != 0)
        return 0;
    f->count++;
    if (strcmp(rec->status, "active") != 0 ||
        rec->not_after < f->now + SEAL_MARGIN)
        return 0;
    store_ca_rec_free(&f->best);
    f->best = *rec;
    f->best.cert_der = NULL; /* not needed: keyd signs by key_id */
    f->best.cert_len = 0;
    f->found = 1;
    return 0;
}

/* A new key is named audit-seal, audit-seal-2, ... */
static int provision(const lv_audit_sealing *how, lv_store *st, int existing,
                     const char *actor, lv_audit_signer *out, lv_err *err)
{
    char name[32];
    lv_ca_rec rec;
    /* issue 12: keyd makes service keys for the console only (CPS §6.1.1);
     * the ceremony made the first one */
    if (how->provision == NULL)
        return lv_fail(err, LV_ESTATE,
                       "no usable audit-seal key: the console makes a new one "
                       "(llave -d DIR audit seal)");
    if (existing > 0)
        snprintf(name, sizeof name, "%s-%d", SEAL_NAME, existing + 1);
    else
        snprintf(name, sizeof name, "%s", SEAL_NAME);
    LV_TRY(how->provision(how->ctx, st, name, actor, err));
    LV_TRY(store_ca_get(st, name, &rec, err));
    snprintf(out->name, sizeof out->name, "%s", rec.name);
    snprintf(out->key_id, sizeof out->key_id, "%s", rec.key_id);
    store_ca_rec_free(&rec);
    lv_log(LV_LOG_INFO, "audit: seal key %s created", name);
    return 0;
}

int audit_seal_signer(const lv_audit_sealing *how, lv_store *st,
                      const char *actor, lv_audit_signer *out, lv_err *err)
{
    find_signer f = {.now = lv_now()};
    memset(out, 0, sizeof *out);
    int rc = store_ca_foreach(st, pick_signer, &f, err);
    if (rc == 0 && f.found) {
        snprintf(out->name, sizeof out->name, "%s", f.best.name);
        snprintf(out->key_id, sizeof out->key_id, "%s", f.best.key_id);
    } else if (rc == 0) {
        rc = provision(how, st, f.count, actor, out, err);
    }
    store_ca_rec_free(&f.best);
    return rc;
}

/* ---- sealing ------------------------------------------------------------ */
/* Nothing to seal when the newest entry is sealed already, or is only the
 * "audit.seal" entry of the newest seal. */
static int nothing_new(lv_store *st, const lv_audit_row *head, lv_err *err)
{
    lv_audit_seal_rec last;
    int rc = store_audit_seal_last(st, &last, err);
    if (rc == LV_ENOTFOUND)
        return 0;
    LV_TRY(rc);
    int none =
        head->seq == last.seq ||
        (head->seq == last.seq + 1 && strcmp(head->event, "audit.seal") == 0);
    store_audit_seal_rec_free(&last);
    return none;
}

static int seal_head(const lv_audit_sealing *how, lv_store *st,
                     const char *actor, const lv_audit_signer *signer,
                     const lv_audit_row *head, lv_audit_seal_rec *rec,
                     lv_err *err)
{
    char msg[LV_AUDIT_SEAL_MSG_MAX];
    rec->seq = head->seq;
    memcpy(rec->hash, head->hash, sizeof rec->hash);
    rec->sealed_at = lv_now();
    snprintf(rec->signer, sizeof rec->signer, "%s", signer->name);
    LV_TRY(audit_seal_message(rec->seq, rec->hash, msg));
    LV_TRY(how->sign(how->ctx, signer->key_id, (const unsigned char *)msg,
                     strlen(msg), &rec->signature, &rec->signature_len, err));
    LV_TRY(how->stamp(how->ctx, st, msg, &rec->tst, &rec->tst_len, err));
    int rc = store_begin(st, err);
    if (rc == 0 && (rc = audit_seal_record(st, rec, actor, err)) == 0)
        rc = store_commit(st, err);
    else
        store_rollback(st);
    return rc;
}

int audit_seal(const lv_audit_sealing *how, lv_store *st, const char *actor,
               lv_seal_result *out, lv_err *err)
{
    lv_audit_row head = {0};
    lv_audit_signer signer;
    lv_audit_seal_rec rec = {0};
    memset(out, 0, sizeof *out);
    LV_TRY(how->ready(how->ctx, err));
    /* The signer, then the archive batch (R9.3): what they append is
     * covered by the seal made right after. */
    LV_TRY(audit_seal_signer(how, st, actor, &signer, err));
    int rc = how->archive_incremental
                 ? audit_archive_sync(st, actor, AUDIT_ARCHIVE_SLACK,
                                      SEAL_ARCHIVE_BATCHES, NULL, err)
                 : audit_archive_sync(st, actor, -1, 0, NULL, err);
    if (rc == 0)
        rc = store_audit_last(st, &head, err);
    if (rc == 0)
        rc = nothing_new(st, &head, err);
    if (rc == 0)
        rc = seal_head(how, st, actor, &signer, &head, &rec, err);
    if (rc == 0) {
        out->sealed = 1;
        out->id = rec.id;
        out->seq = rec.seq;
        memcpy(out->hash, rec.hash, sizeof out->hash);
        memcpy(out->signer, rec.signer, sizeof out->signer);
    }
    if (rc > 0) /* nothing new */
        rc = 0;
    if (rc < 0 && rc != LV_ESEALED) {
        lv_err ignored = {0};
        json_t *d = json_pack("{s:s}", "reason", err ? err->msg : "");
        audit_log_standalone(st, actor, "audit.seal", "trail", LV_AUDIT_FAILURE,
                             d, &ignored);
        json_decref(d);
    }
    store_audit_seal_rec_free(&rec);
    store_audit_row_free(&head);
    return rc;
}

/* ---- llaved's sealer ----------------------------------------------------- */
typedef struct sealer {
    lv_audit_sealing how;
    lv_store *st;
    int64_t last_seal; /* time of the newest seal seen */
} sealer;

#define SEALER_TICK 10 /* seconds between checks */

/* Due: anything new and either the interval elapsed or enough entries. */
static int sealer_due(sealer *s)
{
    const lv_config *cfg = s->how.cfg;
    lv_audit_row head;
    lv_audit_seal_rec last;
    int64_t sealed_seq = 0;
    if (store_audit_last(s->st, &head, NULL) < 0)
        return 0;
    if (store_audit_seal_last(s->st, &last, NULL) == 0) {
        sealed_seq = last.seq;
        if (last.sealed_at > s->last_seal)
            s->last_seal = last.sealed_at;
        store_audit_seal_rec_free(&last);
    }
    int64_t fresh = head.seq - sealed_seq;
    store_audit_row_free(&head);
    if (fresh <= 1) /* at most the audit.seal entry itself */
        return 0;
    int by_time =
        cfg->audit_seal_minutes > 0 &&
        lv_now() - s->last_seal >= (int64_t)cfg->audit_seal_minutes * 60;
    int by_count =
        cfg->audit_seal_entries > 0 && fresh >= cfg->audit_seal_entries;
    return by_time || by_count;
}

/* > 0 (nothing tried) until a seal is due and keyd ready. */
static int sealer_pass(void *state, lv_job *job, lv_err *err)
{
    sealer *s = state;
    lv_seal_result r;
    (void)job;
    if (!sealer_due(s) || s->how.ready(s->how.ctx, NULL) < 0)
        return 1;
    int rc = audit_seal(&s->how, s->st, SEALER_ACTOR, &r, err);
    if (rc == 0 && r.sealed)
        lv_log(LV_LOG_INFO, "audit sealer: seal %lld covers entries up to %lld",
               (long long)r.id, (long long)r.seq);
    s->last_seal = lv_now();
    return rc;
}

/* CPS §5.4.1 configuration changes: llave.json is edited by hand, so each
 * start records the SHA-256 of the configuration it runs with; two starts
 * with different hashes are a configuration change. */
static void audit_config(const lv_config *cfg, lv_store *st)
{
    char path[1024], hex[65] = "";
    unsigned char *data = NULL, md[32];
    size_t len = 0;
    lv_err ignored = {0};
    if (lv_path_join(path, sizeof path, cfg->dir, "llave.json") == 0 &&
        lv_file_read(path, &data, &len, 1 << 20, NULL) == 0 &&
        EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
        lv_hex_encode(md, sizeof md, hex);
    free(data);
    json_t *d = json_pack("{s:s, s:i, s:i}", "sha256", hex,
                          "audit_seal_minutes", cfg->audit_seal_minutes,
                          "audit_seal_entries", cfg->audit_seal_entries);
    audit_log_standalone(st, SEALER_ACTOR, "config.load", path,
                         hex[0] ? LV_AUDIT_SUCCESS : LV_AUDIT_FAILURE, d,
                         &ignored);
    json_decref(d);
}

static int sealer_open(void *state, void *how, lv_err *err)
{
    sealer *s = state;
    char db[1024];
    s->how = *(const lv_audit_sealing *)how;
    s->how.archive_incremental = 1;
    s->last_seal = lv_now();
    const lv_config *cfg = s->how.cfg;
    int rc = lv_config_store_location(cfg, db, sizeof db);
    if (rc == 0)
        rc = store_open(db, &s->st, err);
    if (rc == 0)
        audit_config(cfg, s->st);
    return rc;
}

static void sealer_close(void *state)
{
    store_close(((sealer *)state)->st);
}

/* One node at a time seals (issue 17 item 2): the chain stays one. */
static int sealer_lease(void *state, const char *name, int ttl, lv_err *err)
{
    return store_job_lease(((sealer *)state)->st, name, ttl, err);
}

/* Runs while keyd is sealed too: once custodians unseal it (R9.5) the
 * next pass finds it ready and starts sealing. */
int audit_sealer_start(const lv_audit_sealing *how, lv_job **out, lv_err *err)
{
    const lv_config *cfg = how->cfg;
    *out = NULL;
    if (cfg->audit_seal_minutes == 0 && cfg->audit_seal_entries == 0)
        return 0;
    lv_job_def def = {.name = "audit sealer",
                      .size = sizeof(sealer),
                      .open = sealer_open,
                      .pass = sealer_pass,
                      .close = sealer_close,
                      .interval_seconds = SEALER_TICK,
                      .lease = sealer_lease};
    return lv_job_start(&def, (void *)how, out, err);
}
