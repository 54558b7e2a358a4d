/* The citizens' cloud signing credentials (R5.3-R5.5): which certificate
 * signs, whether the citizen and the certificate may sign now, issuance at
 * the citizen's will, and the acceptance sheet (CPS §4.4.2). */
#include "ra/ra.h"
#include "sign/sign_internal.h"

#include <ctype.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- who
 * ---------------------------------------------------------------------- */

int sign_citizen_by_owner(lv_store *st, const char *owner, char citizen_id[72],
                          lv_sign_refusal *why, lv_err *err)
{
    lv_citizen_rec c;
    char person[64];
    size_t n = owner ? strlen(owner) : 0;
    *why = LV_SIGN_UNKNOWN_CITIZEN;
    if (n == 0 || n > 40)
        return lv_fail(err, LV_EINVAL, "owner: a document number is needed");
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)owner[i]) && owner[i] != '-')
            return lv_fail(err, LV_EINVAL, "owner: not a document number");
    /* Cl@ve: the owner is named by the DNI/NIE; IDCES- is its ETSI EN
     * 319 412-1 form (a full person id is accepted as it is) */
    if (strchr(owner, '-'))
        snprintf(person, sizeof person, "%s", owner);
    else
        snprintf(person, sizeof person, "IDCES-%s", owner);
    for (char *p = person; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    lv_err e2 = {0};
    int rc = store_citizen_by_person(st, person, &c, &e2);
    if (rc == LV_ENOTFOUND)
        return lv_fail(err, LV_ENOTFOUND,
                       "no citizen is registered with "
                       "document %s",
                       owner);
    if (rc < 0) {
        if (err)
            *err = e2;
        return rc;
    }
    *why = LV_SIGN_OK;
    snprintf(citizen_id, 72, "%s", c.id);
    return 0;
}

int sign_citizen_check(lv_store *st, const char *citizen_id,
                       lv_sign_refusal *why, lv_err *err)
{
    lv_citizen_cred cred;
    int rc = ra_citizen_check_signing(st, citizen_id, lv_now(), err);
    *why = rc == LV_EPERM       ? LV_SIGN_BASIC_LEVEL
           : rc == LV_ESTATE    ? LV_SIGN_DOCUMENT_EXPIRED
           : rc == LV_ENOTFOUND ? LV_SIGN_UNKNOWN_CITIZEN
                                : LV_SIGN_OK;
    if (rc < 0)
        return rc;
    rc = auth_citizen_get(st, citizen_id, &cred, err);
    if (rc == LV_ENOTFOUND || (rc == 0 && !cred.active)) {
        *why = LV_SIGN_NOT_ACTIVE;
        return lv_fail(err, LV_ESTATE,
                       "the citizen has not activated their credentials "
                       "(R3.1)");
    }
    if (rc == 0 && cred.locked) {
        *why = LV_SIGN_LOCKED;
        return lv_fail(err, LV_EPERM,
                       "the citizen's account is locked (R3.5): an officer "
                       "unlocks it, or the citizen re-activates");
    }
    return rc;
}

/* ---- which certificates
 * ------------------------------------------------------------- */

typedef struct cred_walk {
    const char *person_id;
    int (*fn)(const lv_cert_rec *, void *);
    void *ctx;
} cred_walk;

/* A citizen's cloud certificate: a natural-person cloud profile whose key
 * is in our key store and that names the citizen (not as subscriber of
 * someone else's). */
static int cred_filter(const lv_cert_rec *r, void *ctx)
{
    cred_walk *w = ctx;
    const lv_profile *p = profile_find(r->profile);
    if (!p || p->subject != LV_SUBJ_NATURAL || r->key_id[0] == '\0' ||
        (p->custody != LV_CUSTODY_CLOUD &&
         p->custody != LV_CUSTODY_CLOUD_HSM) ||
        strcmp(r->subject_id, w->person_id) != 0)
        return 0;
    return w->fn(r, w->ctx);
}

static int cred_foreach(lv_store *st, const char *citizen_id,
                        int (*fn)(const lv_cert_rec *, void *), void *ctx,
                        lv_err *err)
{
    lv_citizen_rec c;
    LV_TRY(store_citizen_get(st, citizen_id, &c, err));
    cred_walk w = {c.person_id, fn, ctx};
    return store_cert_foreach_party(st, c.person_id, cred_filter, &w, err);
}

typedef struct pick_state {
    int64_t now;
    char serial[65];
    int seen;
    int newest_revoked;
} pick_state;

static int pick_one(const lv_cert_rec *r, void *ctx)
{
    pick_state *p = ctx;
    if (!p->seen++)
        p->newest_revoked = r->status != LV_CERT_VALID && r->not_after > p->now;
    if (p->serial[0] == '\0' && r->status == LV_CERT_VALID &&
        r->not_before <= p->now && r->not_after > p->now)
        snprintf(p->serial, sizeof p->serial, "%s", r->serial);
    return 0;
}

int sign_credential_pick(lv_store *st, const char *citizen_id,
                         char serial_out[65], lv_sign_refusal *why, lv_err *err)
{
    pick_state p = {.now = lv_now()};
    serial_out[0] = '\0';
    *why = LV_SIGN_OK;
    LV_TRY(cred_foreach(st, citizen_id, pick_one, &p, err));
    if (p.serial[0]) {
        memcpy(serial_out, p.serial, sizeof p.serial);
        return 0;
    }
    if (p.newest_revoked) {
        *why = LV_SIGN_CERTIFICATE_BLOCKED;
        return lv_fail(err, LV_ESTATE,
                       "the citizen's signing certificate is revoked "
                       "(blocked); a new one must be requested");
    }
    *why = LV_SIGN_NO_CERTIFICATE;
    return lv_fail(err, LV_ESTATE,
                   "the citizen holds no valid signing certificate");
}

typedef struct find_state {
    const char *serial;
    int found;
} find_state;

static int find_one(const lv_cert_rec *r, void *ctx)
{
    find_state *f = ctx;
    f->found |= strcmp(r->serial, f->serial) == 0;
    return 0;
}

static int cred_get(lv_store *st, const char *citizen_id, const char *serial,
                    lv_cert_rec *out, lv_err *err)
{
    char norm[65];
    lv_err ignored = {0};
    memset(out, 0, sizeof *out);
    if (!serial || ca_serial_normalize(serial, norm, &ignored) < 0)
        return lv_fail(err, LV_ENOTFOUND, "unknown credential");
    find_state f = {norm, 0};
    LV_TRY(cred_foreach(st, citizen_id, find_one, &f, err));
    if (!f.found)
        return lv_fail(err, LV_ENOTFOUND, "unknown credential %s", norm);
    return store_cert_get(st, norm, out, err);
}

/* ---- the front end's view (CSC credentials/list, credentials/info) ----- */

static void cred_of(const lv_cert_rec *r, lv_sign_cred *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->serial, sizeof out->serial, "%s", r->serial);
    snprintf(out->ca, sizeof out->ca, "%s", r->ca);
    snprintf(out->profile, sizeof out->profile, "%s", r->profile);
    snprintf(out->subject_dn, sizeof out->subject_dn, "%s", r->subject_dn);
    out->not_before = r->not_before;
    out->not_after = r->not_after;
    out->revoked = r->status != LV_CERT_VALID;
}

typedef struct cred_view {
    int (*fn)(const lv_sign_cred *, void *);
    void *ctx;
} cred_view;

static int view_one(const lv_cert_rec *r, void *arg)
{
    cred_view *v = arg;
    lv_sign_cred c;
    cred_of(r, &c);
    return v->fn(&c, v->ctx);
}

int sign_credential_foreach(lv_store *st, const char *citizen_id,
                            int (*fn)(const lv_sign_cred *, void *), void *ctx,
                            lv_err *err)
{
    cred_view v = {fn, ctx};
    return cred_foreach(st, citizen_id, view_one, &v, err);
}

int sign_credential_get(lv_store *st, const char *citizen_id,
                        const char *serial, lv_sign_cred *out, lv_err *err)
{
    lv_cert_rec r;
    memset(out, 0, sizeof *out);
    LV_TRY(cred_get(st, citizen_id, serial, &r, err));
    cred_of(&r, out);
    out->der = r.der; /* taken over */
    out->der_len = r.der_len;
    r.der = NULL;
    store_cert_rec_free(&r);
    return 0;
}

void sign_cred_free(lv_sign_cred *c)
{
    if (c == NULL)
        return;
    free(c->der);
    memset(c, 0, sizeof *c);
}

int sign_credential_check(lv_store *st, const char *citizen_id,
                          const char *serial, lv_sign_refusal *why, lv_err *err)
{
    lv_cert_rec c;
    LV_TRY(sign_citizen_check(st, citizen_id, why, err));
    int rc = cred_get(st, citizen_id, serial, &c, err);
    if (rc == LV_ENOTFOUND)
        *why = LV_SIGN_NO_CERTIFICATE;
    if (rc < 0)
        return rc;
    int revoked = c.status != LV_CERT_VALID;
    store_cert_rec_free(&c);
    /* R5.5: revocation, validity and the document, checked by ra/ too */
    rc = ra_cert_check_signing(st, citizen_id, serial, lv_now(), err);
    if (rc < 0)
        *why = revoked ? LV_SIGN_CERTIFICATE_BLOCKED : LV_SIGN_NO_CERTIFICATE;
    return rc;
}

int sign_credential_issue(const lv_sign_env *env, lv_store *st,
                          const char *citizen_id, const char *actor,
                          char serial_out[65], lv_err *err)
{
    lv_issue_result r;
    if (!env->ca)
        return lv_fail(err, LV_ESTATE, "no CA loaded");
    LV_TRY(ra_citizen_issue(env->ca, st, citizen_id, NULL, actor, &r, err));
    snprintf(serial_out, 65, "%s", r.serial);
    ca_issue_result_free(&r);
    return 0;
}

/* ---- acceptance (R5.4, CPS §4.4.2)
 * --------------------------------------------------- */

static int sheet_text(const lv_cert_rec *c, char **out, lv_err *err)
{
    const unsigned char *p = c->der;
    X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
    char issuer[512] = "", holder[512] = "", nb[32], na[32], fp[65];
    if (!x)
        return lv_fail(err, LV_ESTORE, "certificate %s does not parse",
                       c->serial);
    /* RFC 4514, as the CSC API shows the same names */
    lv_dn_rfc4514(X509_get_issuer_name(x), issuer, sizeof issuer);
    lv_dn_rfc4514(X509_get_subject_name(x), holder, sizeof holder);
    X509_free(x);
    lv_time_iso(c->not_before, nb);
    lv_time_iso(c->not_after, na);
    LV_TRY(lv_sha256_hex(c->der, c->der_len, fp));
    lv_buf b = {0};
    int rc = lv_buf_appendf(
        &b,
        "HOJA DE ACEPTACIÓN DEL CERTIFICADO / CERTIFICATE ACCEPTANCE "
        "SHEET\n"
        "Titular / Holder: %s\n"
        "Número de serie / Serial number: %s\n"
        "Emisor / Issuer: %s\n"
        "Perfil / Profile: %s\n"
        "Válido desde / Valid from: %s hasta / until: %s\n"
        "SHA-256 del certificado / of the certificate: %s\n"
        "Declaro que los datos del certificado son correctos y lo acepto "
        "(DPC 4.4.2).\n"
        "I declare that the data of the certificate are correct and I "
        "accept it (CPS 4.4.2).\n",
        holder, c->serial, issuer, c->profile, nb, na, fp);
    if (rc == 0)
        rc = lv_buf_append(&b, "", 1);
    if (rc < 0) {
        lv_buf_free(&b);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    *out = (char *)b.data;
    return 0;
}

int sign_acceptance_sheet(lv_store *st, const char *serial, char **text,
                          int *accepted, lv_err *err)
{
    lv_cert_rec c;
    lv_sign_acceptance_rec a;
    *text = NULL;
    LV_TRY(store_cert_get(st, serial, &c, err));
    int rc = sheet_text(&c, text, err);
    store_cert_rec_free(&c);
    if (rc < 0)
        return rc;
    lv_err e2 = {0};
    rc = store_sign_acceptance_get(st, serial, &a, &e2);
    *accepted = rc == 0;
    store_sign_acceptance_rec_free(&a);
    if (rc < 0 && rc != LV_ENOTFOUND) {
        free(*text);
        *text = NULL;
        if (err)
            *err = e2;
        return rc;
    }
    return 0;
}

int sign_sheet_digest(lv_store *st, const char *serial, const EVP_MD *md,
                      char **text, unsigned char digest[EVP_MAX_MD_SIZE],
                      int *accepted, lv_err *err)
{
    LV_TRY(sign_acceptance_sheet(st, serial, text, accepted, err));
    if (EVP_Digest(*text, strlen(*text), digest, NULL, md, NULL) != 1) {
        free(*text);
        *text = NULL;
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot hash the sheet");
    }
    return 0;
}

int sign_acceptance_record(lv_store *st, const char *citizen_id,
                           const char *serial, const char *sheet,
                           const EVP_MD *md, const unsigned char *sig,
                           size_t sig_len, const char *channel, lv_err *err)
{
    char actor[96];
    lv_sign_acceptance_rec a = {0};
    snprintf(a.serial, sizeof a.serial, "%s", serial);
    snprintf(a.citizen_id, sizeof a.citizen_id, "%s", citizen_id);
    snprintf(a.digest_alg, sizeof a.digest_alg, "%s", sign_md_name(md));
    snprintf(a.channel, sizeof a.channel, "%s", channel);
    a.sheet = (char *)sheet;
    a.signature = (unsigned char *)sig;
    a.signature_len = sig_len;
    a.accepted_at = lv_now();
    LV_TRY(store_sign_acceptance_insert(st, &a, err));
    sign_citizen_actor(citizen_id, actor);
    return sign_audit(
        st, actor, "cert.accept", serial,
        json_pack("{s:s, s:s}", "channel", channel, "digest_alg", a.digest_alg),
        err);
}

/* ---- acceptance in the citizen portal (issue 15 items 3, 4) ------------ */

#define ACCEPT_PURPOSE "accept"

/* The sheet of one of the citizen's usable certificates not yet accepted,
 * its SHA-256 digest and what an OTP for it is bound to. */
typedef struct accept_ctx {
    char *sheet;
    unsigned char digest[EVP_MAX_MD_SIZE];
    lv_buf binding;
} accept_ctx;

static void accept_free(accept_ctx *a)
{
    free(a->sheet);
    lv_buf_free(&a->binding);
}

static int accept_prepare(lv_store *st, const char *citizen_id,
                          const char *serial, accept_ctx *a,
                          lv_sign_refusal *why, lv_err *err)
{
    char ctx[80];
    int accepted = 0;
    memset(a, 0, sizeof *a);
    LV_TRY(sign_credential_check(st, citizen_id, serial, why, err));
    LV_TRY(sign_sheet_digest(st, serial, EVP_sha256(), &a->sheet, a->digest,
                             &accepted, err));
    if (accepted)
        return lv_fail(err, LV_ESTATE, "certificate %s is already accepted",
                       serial);
    snprintf(ctx, sizeof ctx, "accept:%s", serial);
    if (sign_binding(ctx, EVP_sha256(), a->digest, 1, &a->binding) < 0)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    return 0;
}

int sign_accept_otp(const lv_sign_env *env, lv_store *st,
                    const char *citizen_id, const char *serial,
                    char otp_id[LV_AUTH_OTP_ID_LEN + 1], lv_sign_refusal *why,
                    lv_err *err)
{
    accept_ctx a;
    size_t n = serial ? strlen(serial) : 0;
    int rc = accept_prepare(st, citizen_id, serial, &a, why, err);
    if (rc == 0)
        rc = auth_otp_send(env->auth, st, citizen_id, ACCEPT_PURPOSE,
                           a.binding.data, a.binding.len, env->remote_addr,
                           &(lv_otp_sms){.lang = env->lang,
                                         .app = serial + (n > 8 ? n - 8 : 0)},
                           otp_id, err);
    accept_free(&a);
    return rc;
}

int sign_accept(const lv_sign_env *env, lv_store *st, const char *citizen_id,
                const char *serial, const char *password, const char *otp_id,
                const char *otp, lv_sign_refusal *why, lv_err *err)
{
    accept_ctx a;
    char key_id[65], actor[96];
    unsigned char *sig = NULL;
    size_t len = 0;
    sign_citizen_actor(citizen_id, actor);
    int rc = accept_prepare(st, citizen_id, serial, &a, why, err);
    if (rc == 0)
        rc = auth_citizen_authorize(env->auth, st, citizen_id, password, otp_id,
                                    ACCEPT_PURPOSE, a.binding.data,
                                    a.binding.len, otp, env->remote_addr, err);
    if (rc == 0)
        rc = sign_cert_key(st, serial, key_id, err);
    /* R5.4, CPS 4.4.2: the sheet is signed with the certificate's own key */
    if (rc == 0)
        rc = sign_with_key(env, st, actor, key_id, EVP_sha256(), a.digest, 1,
                           &sig, &len, err);
    if (rc == 0)
        rc = store_begin(st, err);
    if (rc == 0)
        rc = store_end(st,
                       sign_acceptance_record(st, citizen_id, serial, a.sheet,
                                              EVP_sha256(), sig, len, "portal",
                                              err),
                       err);
    free(sig);
    accept_free(&a);
    return rc;
}
