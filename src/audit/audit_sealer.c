/* Sealing the audit trail (R9.2, CPS §5.4.4; issue 8): the chain head is
 * signed with the audit-seal service key and time-stamped by our own TSA
 * (RFC 3161), then recorded with audit_seal_record.  The audit-seal key
 * and its certificate (internal profile "audit-seal", issued by the
 * non-qualified CA, cas role "audit") are created on first use, so
 * installations made before issue 8 gain one the first time they seal.
 * llaved's sealer thread seals every audit_seal_minutes or after
 * audit_seal_entries new entries. */
#include "ca/ca_internal.h"

#include <openssl/rand.h>
#include <openssl/ts.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_PROFILE "audit-seal"
#define SEAL_MARGIN (7 * 86400) /* renew a week before the certificate ends */
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

/* "VATES-B00000000" -> organization_id B00000000, country ES (as the
 * ceremony derives the subject of the provider's own seals). */
static json_t *seal_subject(const lv_config *cfg)
{
    char country[3] = "ES", cn[160];
    const char *nif = cfg->org_id;
    if (strncmp(nif, "VAT", 3) == 0 && strlen(nif) > 6 && nif[5] == '-') {
        memcpy(country, nif + 3, 2);
        nif += 6;
    }
    snprintf(cn, sizeof cn, "%.100s Audit Seal", cfg->org_name);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "country",
                     cfg->org_country, "organization", cfg->org_name,
                     "organization_id", nif, "organization_country", country,
                     "locality", cfg->org_locality, "common_name", cn);
}

static int record_signer(lv_store *st, const char *name,
                         const lv_issue_result *r, const char *issuer,
                         const char *actor, lv_err *err)
{
    lv_ca_rec rec = {0};
    snprintf(rec.name, sizeof rec.name, "%s", name);
    snprintf(rec.role, sizeof rec.role, "%s", LV_AUDIT_SEAL_ROLE);
    snprintf(rec.issuer, sizeof rec.issuer, "%s", issuer);
    snprintf(rec.key_id, sizeof rec.key_id, "%s", r->key_id);
    snprintf(rec.serial, sizeof rec.serial, "%s", r->serial);
    snprintf(rec.status, sizeof rec.status, "active");
    rec.not_before = ca_time_unix(X509_get0_notBefore(r->cert));
    rec.not_after = ca_time_unix(X509_get0_notAfter(r->cert));
    int len = i2d_X509(r->cert, &rec.cert_der);
    if (len <= 0)
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot encode the seal cert");
    rec.cert_len = (size_t)len;
    json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "role", rec.role, "issuer",
                          issuer, "serial", rec.serial, "key_id", rec.key_id);
    int rc = store_begin(st, err);
    if (rc == 0 && (rc = store_ca_insert(st, &rec, err)) == 0 &&
        (rc = audit_log(st, actor, "ca.create", name, LV_AUDIT_SUCCESS, d,
                        err)) == 0)
        rc = store_commit(st, err);
    else
        store_rollback(st);
    json_decref(d);
    OPENSSL_free(rec.cert_der);
    return rc;
}

/* A new audit-seal key (the internal profile's RSA-2048, CPS §6.1.5's
 * minimum; each seal also carries the RSA-4096 TSU's token) and its
 * certificate; named audit-seal, audit-seal-2, ... */
static int provision_signer(lv_ca *ca, lv_store *st, int existing,
                            const char *actor, char name[32], lv_err *err)
{
    const ca_entry *issuer = ca_entry_find(ca, ca->cfg.standard_name);
    /* issue 12: keyd makes service keys for the console only (CPS §6.1.1);
     * the ceremony made the first one */
    if (ca_keys_caller(ca) != KEYD_CALLER_CONSOLE)
        return lv_fail(err, LV_ESTATE,
                       "no usable audit-seal key: the console makes a new one "
                       "(llave -d DIR audit seal)");
    if (!issuer)
        return lv_fail(err, LV_ENOTFOUND, "no CA '%s' to certify the seal key",
                       ca->cfg.standard_name);
    if (existing > 0)
        snprintf(name, 32, "%s-%d", SEAL_PROFILE, existing + 1);
    else
        snprintf(name, 32, "%s", SEAL_PROFILE);
    json_t *subject = seal_subject(&ca->cfg);
    lv_issue_req req = {
        .profile_id = SEAL_PROFILE, .subject = subject, .actor = actor};
    lv_issue_result r;
    memset(&r, 0, sizeof r);
    int rc = ca_issue_by(ca, st, &req, issuer, &r, err);
    json_decref(subject);
    if (rc == 0)
        rc = record_signer(st, name, &r, issuer->rec.name, actor, err);
    ca_issue_result_free(&r);
    if (rc == 0)
        lv_log(LV_LOG_INFO, "audit: seal key %s created", name);
    return rc;
}

int ca_audit_signer(lv_ca *ca, lv_store *st, const char *actor, lv_ca_rec *out,
                    lv_err *err)
{
    find_signer f = {.now = lv_now()};
    char name[32];
    LV_TRY(store_ca_foreach(st, pick_signer, &f, err));
    if (!f.found) {
        LV_TRY(provision_signer(ca, st, f.count, actor, name, err));
        LV_TRY(store_ca_get(st, name, &f.best, err));
    }
    *out = f.best;
    return 0;
}

/* ---- the RFC 3161 token over the seal message -------------------------- */
static int tsa_request(const char *msg, unsigned char **der, int *len)
{
    unsigned char md[32];
    unsigned char nonce_raw[8];
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *imp = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    ASN1_INTEGER *nonce = NULL;
    BIGNUM *bn = NULL;
    int ok = req && imp && alg &&
             EVP_Digest(msg, strlen(msg), md, NULL, EVP_sha256(), NULL) &&
             X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) &&
             TS_MSG_IMPRINT_set_algo(imp, alg) &&
             TS_MSG_IMPRINT_set_msg(imp, md, sizeof md) &&
             TS_REQ_set_version(req, 1) && TS_REQ_set_msg_imprint(req, imp) &&
             TS_REQ_set_cert_req(req, 1) &&
             RAND_bytes(nonce_raw, sizeof nonce_raw) == 1 &&
             (bn = BN_bin2bn(nonce_raw, sizeof nonce_raw, NULL)) &&
             (nonce = BN_to_ASN1_INTEGER(bn, NULL)) &&
             TS_REQ_set_nonce(req, nonce);
    *der = NULL;
    *len = ok ? i2d_TS_REQ(req, der) : 0;
    ASN1_INTEGER_free(nonce);
    BN_free(bn);
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(imp);
    TS_REQ_free(req);
    return *len > 0 ? 0 : LV_ECRYPTO;
}

/* Our own TSA, called as a library (not over HTTP): a refusal such as
 * timeNotAvailable (R7.2, clock not synchronized) fails the seal. */
static int tsa_stamp(lv_ca *ca, lv_store *st, const char *msg,
                     unsigned char **tst, size_t *tst_len, lv_err *err)
{
    unsigned char *req = NULL, *reply = NULL;
    int req_len = 0;
    size_t reply_len = 0;
    LV_TRY(tsa_request(msg, &req, &req_len) < 0
               ? lv_fail_ssl(err, LV_ECRYPTO, "cannot build the TSA request")
               : 0);
    int rc = ca_tsa_respond(ca, st, NULL, req, (size_t)req_len, &reply,
                            &reply_len, err);
    OPENSSL_free(req);
    LV_TRY(rc);
    const unsigned char *p = reply;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)reply_len);
    TS_STATUS_INFO *si = resp ? TS_RESP_get_status_info(resp) : NULL;
    long status = si ? ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)) : -1;
    TS_RESP_free(resp);
    if (status != 0 && status != 1) {
        OPENSSL_free(reply);
        return lv_fail(err, LV_ESTATE,
                       "the TSA refused to time-stamp the seal (PKIStatus "
                       "%ld; is the clock synchronized? R7.2)",
                       status);
    }
    *tst = malloc(reply_len);
    if (*tst)
        memcpy(*tst, reply, reply_len);
    *tst_len = reply_len;
    OPENSSL_free(reply);
    return *tst ? 0 : lv_fail(err, LV_ENOMEM, "out of memory");
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

static int seal_head(lv_ca *ca, lv_store *st, const char *actor,
                     const lv_ca_rec *signer, const lv_audit_row *head,
                     lv_audit_seal_rec *rec, lv_err *err)
{
    char msg[LV_AUDIT_SEAL_MSG_MAX];
    rec->seq = head->seq;
    memcpy(rec->hash, head->hash, sizeof rec->hash);
    rec->sealed_at = lv_now();
    snprintf(rec->signer, sizeof rec->signer, "%s", signer->name);
    LV_TRY(audit_seal_message(rec->seq, rec->hash, msg));
    LV_TRY(ca_key_sign(ca, signer->key_id, EVP_sha256(),
                       (const unsigned char *)msg, strlen(msg), &rec->signature,
                       &rec->signature_len, err));
    LV_TRY(tsa_stamp(ca, st, msg, &rec->tst, &rec->tst_len, err));
    int rc = store_begin(st, err);
    if (rc == 0 && (rc = audit_seal_record(st, rec, actor, err)) == 0)
        rc = store_commit(st, err);
    else
        store_rollback(st);
    return rc;
}

int ca_audit_seal(lv_ca *ca, lv_store *st, const char *actor,
                  lv_seal_result *out, lv_err *err)
{
    lv_audit_row head = {0};
    lv_ca_rec signer = {0};
    lv_audit_seal_rec rec = {0};
    memset(out, 0, sizeof *out);
    LV_TRY(ca_need_keys(ca, "the audit-seal key signs seals", err));
    /* The signer, then the archive batch (R9.3): what they append is
     * covered by the seal made right after. */
    LV_TRY(ca_audit_signer(ca, st, actor, &signer, err));
    int rc = audit_archive_sync(st, actor, NULL, err);
    if (rc == 0)
        rc = store_audit_last(st, &head, err);
    if (rc == 0)
        rc = nothing_new(st, &head, err);
    if (rc == 0)
        rc = seal_head(ca, st, actor, &signer, &head, &rec, err);
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
    store_ca_rec_free(&signer);
    store_audit_row_free(&head);
    return rc;
}

/* ---- llaved's sealer ----------------------------------------------------- */
struct lv_audit_sealer {
    lv_ca *ca;
    lv_store *st;
    lv_worker *worker;
    int64_t last_seal; /* time of the newest seal seen */
    int last_failed;
};

#define SEALER_TICK 10 /* seconds between checks */

/* Due: anything new and either the interval elapsed or enough entries. */
static int sealer_due(lv_audit_sealer *s)
{
    const lv_config *cfg = &s->ca->cfg;
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
    int by_time = cfg->audit_seal_minutes > 0 &&
                  lv_now() - s->last_seal >= cfg->audit_seal_minutes * 60;
    int by_count =
        cfg->audit_seal_entries > 0 && fresh >= cfg->audit_seal_entries;
    return by_time || by_count;
}

static void sealer_pass(void *arg)
{
    lv_audit_sealer *s = arg;
    lv_err err = {0};
    lv_seal_result r;
    if (!sealer_due(s) || ca_sealed(s->ca))
        return;
    int rc = ca_audit_seal(s->ca, s->st, SEALER_ACTOR, &r, &err);
    if (rc < 0 && !s->last_failed)
        lv_log(LV_LOG_WARN, "audit sealer: %s", err.msg);
    else if (rc == 0 && r.sealed)
        lv_log(LV_LOG_INFO, "audit sealer: seal %lld covers entries up to %lld",
               (long long)r.id, (long long)r.seq);
    s->last_failed = rc < 0;
    s->last_seal = lv_now();
}

/* CPS §5.4.1 configuration changes: llave.json is edited by hand, so each
 * start records the SHA-256 of the configuration it runs with; two starts
 * with different hashes are a configuration change. */
static void audit_config(lv_ca *ca, lv_store *st)
{
    char path[1024], hex[65] = "";
    unsigned char *data = NULL, md[32];
    size_t len = 0;
    lv_err ignored = {0};
    if (lv_path_join(path, sizeof path, ca->cfg.dir, "llave.json") == 0 &&
        lv_file_read(path, &data, &len, 1 << 20, NULL) == 0 &&
        EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
        lv_hex_encode(md, sizeof md, hex);
    free(data);
    json_t *d = json_pack("{s:s, s:i, s:i}", "sha256", hex,
                          "audit_seal_minutes", ca->cfg.audit_seal_minutes,
                          "audit_seal_entries", ca->cfg.audit_seal_entries);
    audit_log_standalone(st, SEALER_ACTOR, "config.load", path,
                         hex[0] ? LV_AUDIT_SUCCESS : LV_AUDIT_FAILURE, d,
                         &ignored);
    json_decref(d);
}

/* Runs while sealed too: once custodians unseal the key store (R9.5) the
 * next pass finds ca->ks set and starts sealing. */
int ca_audit_sealer_start(lv_ca *ca, lv_audit_sealer **out, lv_err *err)
{
    *out = NULL;
    if (ca->cfg.audit_seal_minutes == 0 && ca->cfg.audit_seal_entries == 0)
        return 0;
    lv_audit_sealer *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    s->ca = ca;
    s->last_seal = lv_now();
    int rc = ca_open_own_store(ca, &s->st, err);
    if (rc == 0) {
        audit_config(ca, s->st);
        rc = lv_worker_start(&s->worker, sealer_pass, s, SEALER_TICK, 0, err);
    }
    if (rc < 0) {
        ca_audit_sealer_stop(s);
        return rc;
    }
    *out = s;
    return 0;
}

void ca_audit_sealer_stop(lv_audit_sealer *s)
{
    if (s == NULL)
        return;
    lv_worker_stop(s->worker);
    store_close(s->st);
    free(s);
}
