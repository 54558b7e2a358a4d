/* The end of a CA key's life: the compromise drill (R6.5, CPS §4.9.11,
 * §5.7.3) and the key change-over (R6.6, CPS §5.6). */
#include "ca/ca_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YEAR_SECONDS ((int64_t)(365.2425 * 86400))
#define ISSUING_YEARS 13 /* R4.1 */

static int is_issuing(const char *role)
{
    return strcmp(role, "qualified") == 0 || strcmp(role, "standard") == 0;
}

/* R6.6: a retired or compromised CA signs CRLs only.  Checked against the
 * store at issuance, so a long-running process whose CA context predates a
 * change-over refuses rather than issuing from the old CA. */
int ca_issuer_check_active(lv_store *st, const ca_entry *issuer, lv_err *err)
{
    lv_ca_status s;
    LV_TRY(store_ca_status_get(st, issuer->rec.name, &s, err));
    if (strcmp(s.status, "active") != 0)
        return lv_fail(err, LV_ESTATE,
                       "CA %s is %s and signs only CRLs (CPS §5.6); its "
                       "successor issues (restart llaved after a change-over)",
                       issuer->rec.name, s.status);
    return 0;
}

static int load_issuing(lv_store *st, const char *name, lv_ca_rec *rec,
                        lv_ca_status *s, lv_err *err)
{
    int rc = store_ca_get(st, name, rec, err);
    if (rc == 0 && !is_issuing(rec->role))
        rc = lv_fail(err, LV_EINVAL,
                     "%s is the %s certificate, not an issuing CA: only the "
                     "qualified and non-qualified issuing CAs (and their "
                     "successors) qualify",
                     name, rec->role);
    if (rc == 0)
        rc = store_ca_status_get(st, name, s, err);
    return rc;
}

/* ---- compromise ------------------------------------------------------------
 */

typedef struct serial_list {
    char (*serials)[65];
    size_t count;
} serial_list;

static int collect_serial(const char *serial, void *arg)
{
    serial_list *l = arg;
    if ((l->count & 1023) == 0) {
        char(*grown)[65] =
            realloc(l->serials, (l->count + 1024) * sizeof *grown);
        if (grown == NULL)
            return LV_ENOMEM;
        l->serials = grown;
    }
    snprintf(l->serials[l->count++], 65, "%s", serial);
    return 0;
}

/* Every revocation is its own cert.revoke entry (R9.1), as if revoked one
 * by one, but all in the drill's transaction. */
static int revoke_all(lv_store *st, const char *name, const char *actor,
                      int64_t now, int64_t *count, lv_err *err)
{
    serial_list l = {NULL, 0};
    lv_revocation rev = {.revoked_at = now, .reason = LV_REASON_KEY_COMPROMISE};
    snprintf(rev.requester, sizeof rev.requester, "ca");
    snprintf(rev.authority, sizeof rev.authority, "%s", actor);
    json_t *details =
        json_pack("{s:s, s:s, s:i, s:s, s:s}", "ca", name, "reason",
                  "keyCompromise", "reason_code", LV_REASON_KEY_COMPROMISE,
                  "requester", "ca", "drill", "ca.compromise");
    int rc = details ? store_cert_foreach_unrevoked(st, name, collect_serial,
                                                    &l, err)
                     : LV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < l.count; i++) {
        snprintf(rev.serial, sizeof rev.serial, "%s", l.serials[i]);
        rc = store_cert_revoke(st, &rev, err);
        if (rc == 0)
            rc = audit_log(st, actor, "cert.revoke", rev.serial,
                           LV_AUDIT_SUCCESS, details, err);
    }
    *count = (int64_t)l.count;
    free(l.serials);
    json_decref(details);
    return rc;
}

static int compromise_in_tx(lv_store *st, const char *name, const char *actor,
                            lv_compromise_result *out, char issuer[32],
                            lv_err *err)
{
    lv_ca_rec rec;
    lv_ca_status s;
    int64_t now = lv_now();
    int rc = load_issuing(st, name, &rec, &s, err);
    if (rc == 0 && strcmp(s.status, "compromised") == 0)
        rc = lv_fail(err, LV_ESTATE, "CA %s is already compromised", name);
    if (rc == 0)
        rc = revoke_all(st, name, actor, now, &out->revoked, err);
    /* the CA itself goes on its issuer's (the root's) CRL as cACompromise */
    if (rc == 0)
        rc = store_ca_set_status(st, name, "compromised", now,
                                 LV_REASON_CA_COMPROMISE, err);
    if (rc == 0)
        rc = store_ca_bump_revision(st, rec.issuer, err);
    json_t *details =
        json_pack("{s:s, s:I, s:s}", "issuer", rec.issuer, "revoked",
                  (json_int_t)out->revoked, "confirmed", name);
    if (rc == 0)
        rc = audit_log(st, actor, "ca.compromise", name, LV_AUDIT_SUCCESS,
                       details, err);
    snprintf(issuer, 32, "%s", rec.issuer);
    json_decref(details);
    store_ca_rec_free(&rec);
    return rc;
}

static void audit_refusal(lv_store *st, const char *actor, const char *event,
                          const char *name, const lv_err *why)
{
    json_t *details =
        json_pack("{s:s}", "refused", why && why->msg[0] ? why->msg : "");
    audit_log_standalone(st, actor, event, name ? name : "", LV_AUDIT_FAILURE,
                         details, NULL);
    json_decref(details);
}

/* After the commit: final CRL, the root's CRL, every OCSP response.  A
 * failure is logged; llaved's keepers finish the job. */
static void publish_compromise(lv_ca *ca, lv_store *st, const char *name,
                               const char *issuer, const char *actor,
                               lv_compromise_result *out)
{
    lv_err e = {0};
    lv_crl_info crl;
    if (ca_crl_generate(ca, st, name, actor, &crl, &e) == 0)
        out->crl_number = crl.number;
    else
        lv_log(LV_LOG_WARN, "final CRL of %s not yet published: %s", name,
               e.msg);
    if (ca_crl_generate(ca, st, issuer, actor, &crl, &e) == 0)
        out->root_crl_number = crl.number;
    else
        lv_log(LV_LOG_WARN, "CRL of %s not yet published: %s", issuer, e.msg);
    if (ca_ocsp_refresh_ca(ca, st, name, &e) < 0)
        lv_log(LV_LOG_WARN, "OCSP responses of %s not yet re-signed: %s", name,
               e.msg);
}

int ca_compromise(lv_ca *ca, lv_store *st, const char *name,
                  const char *confirm, const char *actor,
                  lv_compromise_result *out, lv_err *err)
{
    char issuer[32] = "";
    memset(out, 0, sizeof *out);
    int rc = 0;
    if (name == NULL || confirm == NULL || strcmp(name, confirm) != 0)
        rc = lv_fail(err, LV_EINVAL,
                     "the compromise drill revokes every certificate of the "
                     "CA: confirm it by repeating the CA name (--confirm %s)",
                     name ? name : "CA");
    if (rc == 0)
        rc = store_begin(st, err);
    if (rc == 0) {
        rc = compromise_in_tx(st, name, actor, out, issuer, err);
        if (rc == 0)
            rc = store_commit(st, err);
        if (rc < 0)
            store_rollback(st);
    }
    if (rc < 0) {
        audit_refusal(st, actor, "ca.compromise", name, err);
        return rc;
    }
    publish_compromise(ca, st, name, issuer, actor, out);
    return 0;
}

/* ---- change-over
 * ------------------------------------------------------------- */

/* "qualified" -> "qualified-g2", "qualified-g2" -> "qualified-g3"; the CN
 * gets or replaces a " G<n>" suffix the same way. */
static int generation_of(const char *name, size_t *base_len)
{
    const char *dash = strrchr(name, '-');
    size_t n = strlen(name);
    *base_len = n;
    if (dash == NULL || dash[1] != 'g' || dash[2] < '2' || dash[2] > '9')
        return 1;
    char *end;
    long g = strtol(dash + 2, &end, 10);
    if (*end != '\0' || g < 2 || g > 99)
        return 1;
    *base_len = (size_t)(dash - name);
    return (int)g;
}

int ca_rollover_names(const char *name, const char *cn, char new_name[32],
                      char new_cn[128], lv_err *err)
{
    size_t base = 0, cn_len = strlen(cn);
    int next = generation_of(name, &base) + 1;
    char suffix[16];
    snprintf(suffix, sizeof suffix, " G%d", next - 1);
    /* strip the CN's own " G<n>" when it carries the current generation */
    if (next > 2 && cn_len > strlen(suffix) &&
        strcmp(cn + cn_len - strlen(suffix), suffix) == 0)
        cn_len -= strlen(suffix);
    if (next > 99 ||
        /* room for the responder name "<name>-ocsp" in 31 characters */
        snprintf(new_name, 32, "%.*s-g%d", (int)base, name, next) > 26 ||
        snprintf(new_cn, 128, "%.*s G%d", (int)cn_len, cn, next) >= 64)
        return lv_fail(err, LV_EINVAL,
                       "no successor name for %s: the name or common name "
                       "would be too long",
                       name);
    return 0;
}

typedef struct rollover {
    lv_ca *ca;
    lv_store *st;
    const char *actor;
    lv_ca_rec old, root;
    X509 *root_cert;
    X509 *cert; /* the new CA certificate */
    lv_ca_rec rec;
    lv_rollover_result *out;
} rollover;

static void rollover_free(rollover *r)
{
    store_ca_rec_free(&r->old);
    store_ca_rec_free(&r->root);
    X509_free(r->root_cert);
    X509_free(r->cert);
    OPENSSL_free(r->rec.cert_der);
}

static int rollover_load(rollover *r, const char *name, lv_err *err)
{
    lv_ca_status s, rs;
    LV_TRY(load_issuing(r->st, name, &r->old, &s, err));
    if (strcmp(s.status, "retired") == 0)
        return lv_fail(err, LV_ESTATE,
                       "CA %s is already retired: change over its successor",
                       name);
    LV_TRY(store_ca_get(r->st, r->old.issuer, &r->root, err));
    LV_TRY(store_ca_status_get(r->st, r->root.name, &rs, err));
    if (strcmp(rs.status, "active") != 0)
        return lv_fail(err, LV_ESTATE, "the root CA %s is %s", r->root.name,
                       rs.status);
    const unsigned char *p = r->root.cert_der;
    r->root_cert = d2i_X509(NULL, &p, (long)r->root.cert_len);
    return r->root_cert ? 0 : lv_fail(err, LV_ESTORE, "bad root certificate");
}

/* The new DN is the old one with the CN replaced (CPS §5.6: new DN). */
static int successor_dn(const lv_ca_rec *old, const char *cn, X509_NAME **out,
                        lv_err *err)
{
    const unsigned char *p = old->cert_der;
    X509 *cert = d2i_X509(NULL, &p, (long)old->cert_len);
    X509_NAME *dn = cert ? X509_NAME_dup(X509_get_subject_name(cert)) : NULL;
    X509_free(cert);
    int loc = dn ? X509_NAME_get_index_by_NID(dn, NID_commonName, -1) : -1;
    if (loc >= 0)
        X509_NAME_ENTRY_free(X509_NAME_delete_entry(dn, loc));
    if (dn == NULL || loc < 0 ||
        !X509_NAME_add_entry_by_NID(dn, NID_commonName, MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, loc, 0)) {
        X509_NAME_free(dn);
        return lv_fail_ssl(err, LV_ESTORE, "cannot derive the new CA name");
    }
    *out = dn;
    return 0;
}

static int old_cn(const lv_ca_rec *old, char *cn, size_t cap)
{
    const unsigned char *p = old->cert_der;
    X509 *cert = d2i_X509(NULL, &p, (long)old->cert_len);
    int n = cert ? X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
                                             NID_commonName, cn, (int)cap)
                 : -1;
    X509_free(cert);
    return n > 0 ? 0 : LV_ESTORE;
}

static int fill_rec(rollover *r, const char *key_id)
{
    lv_ca_rec *rec = &r->rec;
    snprintf(rec->name, sizeof rec->name, "%s", r->out->name);
    snprintf(rec->role, sizeof rec->role, "%s", r->old.role);
    snprintf(rec->issuer, sizeof rec->issuer, "%s", r->root.name);
    snprintf(rec->key_id, sizeof rec->key_id, "%s", key_id);
    snprintf(rec->status, sizeof rec->status, "active");
    LV_TRY(ca_serial_hex(X509_get0_serialNumber(r->cert), rec->serial));
    rec->not_before = ca_time_unix(X509_get0_notBefore(r->cert));
    rec->not_after = ca_time_unix(X509_get0_notAfter(r->cert));
    int len = i2d_X509(r->cert, &rec->cert_der);
    if (len <= 0)
        return LV_ECRYPTO;
    rec->cert_len = (size_t)len;
    return 0;
}

static int build_successor(rollover *r, EVP_PKEY *pub, lv_err *err)
{
    X509_NAME *dn = NULL;
    int64_t now = lv_now();
    int64_t end = now + ISSUING_YEARS * YEAR_SECONDS;
    if (end > r->root.not_after)
        end = r->root.not_after; /* RFC 5280 §6.1.3 */
    int rc = successor_dn(&r->old, r->out->cn, &dn, err);
    ca_cert_params params = {dn, pub, r->root_cert, now, end};
    if (rc == 0)
        rc = ca_cert_new(&params, &r->cert, err);
    if (rc == 0)
        rc = ca_ceremony_ca_extensions(r->cert, r->root_cert, &r->ca->cfg, err);
    if (rc == 0)
        rc = ca_sign_cert(r->ca, r->root.key_id, r->cert, err);
    X509_NAME_free(dn);
    return rc;
}

static int record_successor(rollover *r, lv_err *err)
{
    json_t *created =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "role", r->rec.role, "issuer",
                  r->rec.issuer, "serial", r->rec.serial, "key_id",
                  r->rec.key_id, "predecessor", r->old.name);
    json_t *rolled = json_pack("{s:s, s:s}", "successor", r->rec.name, "serial",
                               r->rec.serial);
    lv_ca_status s;
    int rc = store_begin(r->st, err);
    if (rc == 0) {
        if ((rc = store_ca_insert(r->st, &r->rec, err)) == 0 &&
            (rc = store_ca_status_get(r->st, r->old.name, &s, err)) == 0 &&
            (strcmp(s.status, "active") != 0 ||
             (rc = store_ca_set_status(r->st, r->old.name, "retired", 0, -1,
                                       err)) == 0) &&
            (rc = audit_log(r->st, r->actor, "ca.create", r->rec.name,
                            LV_AUDIT_SUCCESS, created, err)) == 0 &&
            (rc = audit_log(r->st, r->actor, "ca.rollover", r->old.name,
                            LV_AUDIT_SUCCESS, rolled, err)) == 0)
            rc = store_commit(r->st, err);
        if (rc < 0)
            store_rollback(r->st);
    }
    json_decref(created);
    json_decref(rolled);
    return rc;
}

static int new_key(rollover *r, EVP_PKEY **pub, lv_err *err)
{
    LV_TRY(ca_key_generate(r->ca, "rsa4096", "ca", r->out->name, r->out->key_id,
                           pub, err));
    json_t *details = json_pack("{s:s, s:s, s:s}", "key_id", r->out->key_id,
                                "type", "rsa4096", "class", "ca");
    int rc = audit_log_standalone(r->st, r->actor, "key.generate", r->out->name,
                                  LV_AUDIT_SUCCESS, details, err);
    json_decref(details);
    return rc;
}

static int record_responder(rollover *r, const lv_issue_result *res,
                            lv_err *err)
{
    lv_ca_rec rec = {0};
    snprintf(rec.name, sizeof rec.name, "%.31s", r->out->ocsp_name);
    snprintf(rec.role, sizeof rec.role, "ocsp");
    snprintf(rec.issuer, sizeof rec.issuer, "%s", r->out->name);
    snprintf(rec.key_id, sizeof rec.key_id, "%s", res->key_id);
    snprintf(rec.status, sizeof rec.status, "active");
    snprintf(rec.serial, sizeof rec.serial, "%s", res->serial);
    rec.not_before = ca_time_unix(X509_get0_notBefore(res->cert));
    rec.not_after = ca_time_unix(X509_get0_notAfter(res->cert));
    int len = i2d_X509(res->cert, &rec.cert_der);
    if (len <= 0)
        return LV_ECRYPTO;
    rec.cert_len = (size_t)len;
    json_t *details =
        json_pack("{s:s, s:s, s:s, s:s}", "role", "ocsp", "issuer", rec.issuer,
                  "serial", rec.serial, "key_id", rec.key_id);
    int rc = store_begin(r->st, err);
    if (rc == 0) {
        if ((rc = store_ca_insert(r->st, &rec, err)) == 0 &&
            (rc = audit_log(r->st, r->actor, "ca.create", rec.name,
                            LV_AUDIT_SUCCESS, details, err)) == 0)
            rc = store_commit(r->st, err);
        if (rc < 0)
            store_rollback(r->st);
    }
    json_decref(details);
    OPENSSL_free(rec.cert_der);
    return rc;
}

/* The successor's delegated OCSP responder, as the ceremony makes one per
 * CA (RFC 6960 §4.2.2.2), recorded in cas like the ceremony's. */
static int successor_responder(rollover *r, lv_err *err)
{
    char cn[160];
    ca_entry issuer = {r->rec, r->cert};
    snprintf(cn, sizeof cn, "%.40s OCSP Responder", r->out->cn);
    snprintf(r->out->ocsp_name, sizeof r->out->ocsp_name, "%s-ocsp",
             r->out->name);
    json_t *subject = ca_provider_subject(&r->ca->cfg, cn);
    lv_issue_req req = {
        .profile_id = "ocsp-responder", .subject = subject, .actor = r->actor};
    lv_issue_result res;
    int rc = ca_issue_by(r->ca, r->st, &req, &issuer, &res, err);
    json_decref(subject);
    if (rc < 0)
        return rc;
    rc = record_responder(r, &res, err);
    ca_issue_result_free(&res);
    return rc;
}

static int rollover_run(rollover *r, const char *name, lv_err *err)
{
    char cn[128];
    EVP_PKEY *pub = NULL;
    LV_TRY(rollover_load(r, name, err));
    if (old_cn(&r->old, cn, sizeof cn) < 0)
        return lv_fail(err, LV_ESTORE, "CA %s has no common name", name);
    LV_TRY(ca_rollover_names(name, cn, r->out->name, r->out->cn, err));
    lv_ca_rec exists;
    if (store_ca_get(r->st, r->out->name, &exists, NULL) == 0) {
        store_ca_rec_free(&exists);
        return lv_fail(err, LV_EEXISTS, "CA %s already exists", r->out->name);
    }
    int rc = new_key(r, &pub, err);
    if (rc == 0)
        rc = build_successor(r, pub, err);
    if (rc == 0)
        rc = fill_rec(r, r->out->key_id);
    if (rc == 0)
        rc = record_successor(r, err);
    if (rc < 0 && r->out->key_id[0] != '\0')
        ca_key_destroy(r->ca, r->out->key_id, NULL); /* never used */
    EVP_PKEY_free(pub);
    LV_TRY(rc);
    snprintf(r->out->serial, sizeof r->out->serial, "%s", r->rec.serial);
    return successor_responder(r, err);
}

int ca_rollover(lv_ca *ca, lv_store *st, const char *name, const char *actor,
                lv_rollover_result *out, lv_err *err)
{
    rollover r = {.ca = ca, .st = st, .actor = actor, .out = out};
    memset(out, 0, sizeof *out);
    LV_TRY(ca_need_keys(ca, "a CA key change-over needs keys", err));
    int rc = rollover_run(&r, name, err);
    rollover_free(&r);
    if (rc < 0) {
        audit_refusal(st, actor, "ca.rollover", name, err);
        return rc;
    }
    lv_err e = {0};
    if (ca_crl_generate(ca, st, out->name, actor, NULL, &e) < 0)
        lv_log(LV_LOG_WARN, "first CRL of %s not yet published: %s", out->name,
               e.msg);
    return 0;
}
