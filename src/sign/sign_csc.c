/* The CSC machinery (R10.4): the OTP of a credential, the authorization
 * (PIN = password, OTP) that yields a SAD, and the signing of hashes under
 * a SAD.  A SAD is 256 random bits given out once; the store keeps its
 * SHA-256 with the credential, the authorized digests and a signature
 * budget, so any llaved on the database honours it and a conditional
 * UPDATE makes each signature count once. */
#include "sign/sign_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hashes_ok(const EVP_MD *md, const unsigned char *hashes, size_t n,
                     lv_err *err)
{
    if (!md)
        return lv_fail(err, LV_EINVAL,
                       "hash algorithm: SHA-256, SHA-384 or SHA-512");
    if (!hashes || n == 0 || n > LV_SIGN_HASHES_MAX)
        return lv_fail(err, LV_EINVAL, "1 to %d hashes", LV_SIGN_HASHES_MAX);
    return 0;
}

static int normalize(const char *serial, char out[65], lv_err *err)
{
    lv_err ignored = {0};
    if (!serial || ca_serial_normalize(serial, out, &ignored) < 0)
        return lv_fail(err, LV_EINVAL, "invalid credentialID");
    return 0;
}

/* The digests an OTP or a keys/ token covers: the acceptance sheet of a
 * certificate not yet accepted (R5.4), then the client's hashes. */
typedef struct csc_batch {
    const EVP_MD *md;
    lv_buf digests;
    char *sheet; /* set when the sheet is part of the batch */
} csc_batch;

static int csc_batch_build(const lv_sign_env *env, lv_store *st,
                           const char *serial, const EVP_MD *md,
                           const unsigned char *hashes, size_t n, csc_batch *b,
                           lv_sign_refusal *why, lv_err *err)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    char *sheet = NULL;
    int accepted = 0;
    memset(b, 0, sizeof *b);
    b->md = md;
    LV_TRY(sign_sheet_digest(st, serial, md, &sheet, d, &accepted, err));
    /* R5.4, CPS 4.4.2: the holder accepts a certificate after reading its
     * sheet; a CSC client shows no sheet, so the credential waits until the
     * citizen accepts it on a page that does (issue 15 item 3) */
    if (!accepted && !env->shows_sheet) {
        free(sheet);
        *why = LV_SIGN_NOT_ACCEPTED;
        return lv_fail(err, LV_EPERM,
                       "the holder has not accepted this certificate yet "
                       "(R5.4, CPS 4.4.2): the citizen reads and accepts its "
                       "acceptance sheet in the citizen portal (/portal/), "
                       "on a signing page or through the OAuth 2.0 "
                       "authorization, and can then use it here");
    }
    int rc = 0;
    if (!accepted) {
        b->sheet = sheet;
        rc = lv_buf_append(&b->digests, d, (size_t)EVP_MD_get_size(md));
    } else {
        free(sheet);
    }
    if (rc == 0 && n)
        rc =
            lv_buf_append(&b->digests, hashes, n * (size_t)EVP_MD_get_size(md));
    return rc < 0 ? lv_fail(err, LV_ENOMEM, "out of memory") : 0;
}

static void csc_batch_free(csc_batch *b)
{
    lv_buf_free(&b->digests);
    free(b->sheet);
    b->sheet = NULL;
}

static int csc_binding(const char *serial, const csc_batch *b, lv_buf *out)
{
    char ctx[80];
    snprintf(ctx, sizeof ctx, "csc:%s", serial);
    return sign_binding(ctx, b->md, b->digests.data,
                        b->digests.len / (size_t)EVP_MD_get_size(b->md), out);
}

/* ---- credentials/sendOTP
 * ------------------------------------------------------ */

static int otp_record(lv_store *st, const char *citizen_id, const char *serial,
                      const EVP_MD *md, const unsigned char *hashes, size_t n,
                      const char *otp_id, lv_err *err)
{
    char actor[96];
    lv_sign_otp_rec r = {0};
    snprintf(r.citizen_id, sizeof r.citizen_id, "%s", citizen_id);
    snprintf(r.serial, sizeof r.serial, "%s", serial);
    snprintf(r.otp_id, sizeof r.otp_id, "%s", otp_id);
    snprintf(r.digest_alg, sizeof r.digest_alg, "%s", sign_md_name(md));
    r.hashes = (unsigned char *)hashes;
    r.hashes_len = n * (size_t)EVP_MD_get_size(md);
    r.created_at = lv_now();
    sign_citizen_actor(citizen_id, actor);
    LV_TRY(store_begin(st, err));
    int rc = store_sign_otp_put(st, &r, err);
    if (rc == 0)
        rc = sign_audit(st, actor, "sign.csc.otp", serial,
                        json_pack("{s:s, s:i, s:s}", "otp_id", otp_id, "hashes",
                                  (int)n, "digest_alg", r.digest_alg),
                        err);
    return store_end(st, rc, err);
}

int sign_csc_send_otp(const lv_sign_env *env, lv_store *st,
                      const char *citizen_id, const char *serial,
                      const EVP_MD *md, const unsigned char *hashes, size_t n,
                      lv_sign_refusal *why, lv_err *err)
{
    char norm[65], otp_id[LV_AUTH_OTP_ID_LEN + 1];
    csc_batch b;
    lv_buf binding = {0};
    *why = LV_SIGN_OK;
    LV_TRY(normalize(serial, norm, err));
    if (n == 0 && env->cfg && env->cfg->csc_otp_hashes)
        return lv_fail(err, LV_EINVAL,
                       "this service binds the OTP to the data it authorizes "
                       "(R3.3): send \"hashes\" and \"hashAlgorithmOID\" with "
                       "credentials/sendOTP");
    if (n)
        LV_TRY(hashes_ok(md, hashes, n, err));
    if (!md)
        md = EVP_sha256();
    LV_TRY(sign_credential_check(st, citizen_id, norm, why, err));
    LV_TRY(csc_batch_build(env, st, norm, md, hashes, n, &b, why, err));
    int rc = csc_binding(norm, &b, &binding);
    if (rc == 0)
        rc = auth_otp_send(
            env->auth, st, citizen_id, SIGN_OTP_PURPOSE, binding.data,
            binding.len, env->remote_addr,
            &(lv_otp_sms){.lang = env->lang, .app = env->app_name, .n = (int)n},
            otp_id, err);
    if (rc == 0)
        rc = otp_record(st, citizen_id, norm, md, hashes, n, otp_id, err);
    lv_buf_free(&binding);
    csc_batch_free(&b);
    return rc;
}

/* ---- credentials/authorize
 * ------------------------------------------------------ */

typedef struct sad_new {
    char sad[LV_SIGN_SAD_LEN + 1];
    lv_sign_sad_rec rec;
} sad_new;

static int sad_record(lv_store *st, const char *citizen_id, sad_new *s,
                      const csc_batch *b, const unsigned char *sheet_sig,
                      size_t sig_len, lv_err *err)
{
    char actor[96];
    sign_citizen_actor(citizen_id, actor);
    LV_TRY(store_begin(st, err));
    int rc = store_sign_sad_insert(st, &s->rec, err);
    if (rc == 0)
        rc = store_sign_otp_delete(st, citizen_id, s->rec.serial, err);
    if (rc == 0 && b->sheet)
        rc = sign_acceptance_record(st, citizen_id, s->rec.serial, b->sheet,
                                    b->md, sheet_sig, sig_len, "oauth", err);
    if (rc == 0)
        rc = sign_audit(
            st, actor, "sign.csc.authorize", s->rec.serial,
            json_pack("{s:i, s:i, s:s}", "hashes",
                      (int)(s->rec.hashes_len / (size_t)EVP_MD_get_size(b->md)),
                      "num_signatures", s->rec.remaining, "digest_alg",
                      s->rec.digest_alg),
            err);
    return store_end(st, rc, err);
}

/* The OTP of this credential and the digests it was bound to. */
static int otp_for(lv_store *st, const char *citizen_id, const char *serial,
                   const EVP_MD *md, const unsigned char *hashes, size_t n,
                   lv_sign_otp_rec *otp, const EVP_MD **bound_md,
                   size_t *bound_n, lv_sign_refusal *why, lv_err *err)
{
    int rc = store_sign_otp_get(st, citizen_id, serial, otp, err);
    if (rc == LV_ENOTFOUND) {
        *why = LV_SIGN_BAD_OTP;
        return lv_fail(err, LV_EAUTH,
                       "no OTP was sent for this credential: call "
                       "credentials/sendOTP first");
    }
    LV_TRY(rc);
    /* bound mode: the OTP covers exactly the hashes presented now, or it
     * does not verify (R3.3); unbound (csc_otp_hashes 0): the credential */
    *bound_md = otp->hashes_len ? md : sign_md_by_name(otp->digest_alg);
    *bound_n = otp->hashes_len ? n : 0;
    (void)hashes;
    return *bound_md ? 0 : lv_fail(err, LV_ESTORE, "bad OTP record");
}

static int authorize_checks(const lv_sign_env *env, lv_store *st,
                            const char *citizen_id, const char *serial,
                            const EVP_MD *md, const unsigned char *hashes,
                            size_t n, int num, lv_sign_refusal *why,
                            lv_err *err)
{
    (void)env;
    LV_TRY(hashes_ok(md, hashes, n, err));
    /* CSC API v2.0.0.2 §11.6: at least 1 (and here, the hashes bound),
     * at most the credential's multisign */
    if (num > LV_SIGN_SIGNATURES_MAX)
        return lv_fail(err, LV_EINVAL,
                       "Numbers of signatures is too high: numSignatures "
                       "above multisign (%d)",
                       LV_SIGN_SIGNATURES_MAX);
    if (num < 1 || num < (int)n)
        return lv_fail(err, LV_EINVAL,
                       "Invalid value for parameter numSignatures: at least "
                       "1 and the number of hashes");
    return sign_credential_check(st, citizen_id, serial, why, err);
}

/* The acceptance sheet, when part of the batch, is signed now: the
 * authorization that just succeeded covered it (R5.4). */
static int sign_sheet(const lv_sign_env *env, lv_store *st,
                      const char *citizen_id, const char *serial,
                      const csc_batch *b, unsigned char **sig, size_t *len,
                      lv_err *err)
{
    char key_id[65], actor[96];
    *sig = NULL;
    *len = 0;
    if (!b->sheet)
        return 0;
    LV_TRY(sign_cert_key(st, serial, key_id, err));
    sign_citizen_actor(citizen_id, actor);
    return sign_with_key(env, st, actor, key_id, b->md, b->digests.data, 1, sig,
                         len, err);
}

static int new_sad(const char *citizen_id, const char *serial, const EVP_MD *md,
                   const unsigned char *hashes, size_t n, int num, sad_new *s,
                   lv_err *err)
{
    memset(s, 0, sizeof *s);
    LV_TRY(lv_random_hex(LV_SIGN_SAD_LEN / 2, s->sad, err));
    LV_TRY(lv_sha256_hex(s->sad, LV_SIGN_SAD_LEN, s->rec.sad_hash));
    snprintf(s->rec.citizen_id, sizeof s->rec.citizen_id, "%s", citizen_id);
    snprintf(s->rec.serial, sizeof s->rec.serial, "%s", serial);
    snprintf(s->rec.digest_alg, sizeof s->rec.digest_alg, "%s",
             sign_md_name(md));
    s->rec.hashes = (unsigned char *)hashes;
    s->rec.hashes_len = n * (size_t)EVP_MD_get_size(md);
    s->rec.remaining = num;
    s->rec.created_at = lv_now();
    s->rec.expires_at = s->rec.created_at + LV_SIGN_SAD_TTL;
    return 0;
}

int sign_csc_authorize(const lv_sign_env *env, lv_store *st,
                       const char *citizen_id, const char *serial,
                       const EVP_MD *md, const unsigned char *hashes, size_t n,
                       int num_signatures, const char *pin, const char *otp,
                       char sad_out[LV_SIGN_SAD_LEN + 1], int *expires_in,
                       lv_sign_refusal *why, lv_err *err)
{
    char norm[65];
    lv_sign_otp_rec orec = {0};
    const EVP_MD *bmd = NULL;
    size_t bn = 0;
    csc_batch b = {0};
    lv_buf binding = {0};
    unsigned char *sheet_sig = NULL;
    size_t sheet_len = 0;
    sad_new s = {0};
    sad_out[0] = '\0';
    *why = LV_SIGN_OK;
    LV_TRY(normalize(serial, norm, err));
    LV_TRY(authorize_checks(env, st, citizen_id, norm, md, hashes, n,
                            num_signatures, why, err));
    LV_TRY(otp_for(st, citizen_id, norm, md, hashes, n, &orec, &bmd, &bn, why,
                   err));
    int rc = csc_batch_build(env, st, norm, bmd, hashes, bn, &b, why, err);
    if (rc == 0)
        rc = csc_binding(norm, &b, &binding);
    /* R3.4: PIN (the password) and the OTP, both */
    if (rc == 0 && (rc = auth_citizen_authorize(env->auth, st, citizen_id, pin,
                                                orec.otp_id, SIGN_OTP_PURPOSE,
                                                binding.data, binding.len, otp,
                                                env->remote_addr, err)) < 0)
        *why = sign_auth_refusal(rc, err);
    if (rc == 0)
        rc = sign_sheet(env, st, citizen_id, norm, &b, &sheet_sig, &sheet_len,
                        err);
    if (rc == 0)
        rc = new_sad(citizen_id, norm, md, hashes, n, num_signatures, &s, err);
    if (rc == 0)
        rc = sad_record(st, citizen_id, &s, &b, sheet_sig, sheet_len, err);
    if (rc == 0) {
        memcpy(sad_out, s.sad, sizeof s.sad);
        *expires_in = LV_SIGN_SAD_TTL;
    }
    OPENSSL_cleanse(&s, sizeof s);
    free(sheet_sig);
    lv_buf_free(&binding);
    csc_batch_free(&b);
    store_sign_otp_rec_free(&orec);
    return rc;
}

/* ---- the SAD at signing time
 * ----------------------------------------------------- */

static int sad_load(lv_store *st, const char *citizen_id, const char *serial,
                    const char *sad, lv_sign_sad_rec *rec, lv_err *err)
{
    char hash[65];
    lv_err ignored = {0};
    if (!sad || strlen(sad) != LV_SIGN_SAD_LEN ||
        strspn(sad, "0123456789abcdef") != LV_SIGN_SAD_LEN)
        return lv_fail(err, LV_EPERM, "invalid SAD");
    LV_TRY(lv_sha256_hex(sad, LV_SIGN_SAD_LEN, hash));
    if (store_sign_sad_get(st, hash, rec, &ignored) < 0)
        return lv_fail(err, LV_EPERM, "invalid SAD");
    if (strcmp(rec->citizen_id, citizen_id) != 0 ||
        strcmp(rec->serial, serial) != 0) {
        store_sign_sad_rec_free(rec);
        return lv_fail(err, LV_EPERM,
                       "the SAD was issued for another credential");
    }
    if (rec->expires_at <= lv_now()) {
        store_sign_sad_rec_free(rec);
        return lv_fail(err, LV_EPERM, "the SAD has expired");
    }
    return 0;
}

/* Every hash must be one the SAD authorizes (R3.3: nothing else). */
static int sad_covers(const lv_sign_sad_rec *rec, const EVP_MD *md,
                      const unsigned char *hashes, size_t n, lv_err *err)
{
    size_t dlen = (size_t)EVP_MD_get_size(md);
    if (strcmp(rec->digest_alg, sign_md_name(md)) != 0)
        return lv_fail(err, LV_EPERM, "the SAD authorizes %s hashes, not %s",
                       rec->digest_alg, sign_md_name(md));
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (size_t j = 0; !found && j + dlen <= rec->hashes_len; j += dlen)
            found = memcmp(rec->hashes + j, hashes + i * dlen, dlen) == 0;
        if (!found)
            return lv_fail(err, LV_EPERM,
                           "hash %zu is not one the SAD authorizes", i);
    }
    return 0;
}

/* The activation record keyd will consume (R5.2), written in the same
 * transaction as the SAD's use when the digests signed are the SAD's own
 * (signHash): one write transaction per request instead of two, and no
 * record ever exists without the SAD use that justifies it. */
typedef struct sad_activation {
    const char *actor;
    unsigned char ref[LV_ACTIVATION_REF_LEN];
} sad_activation;

static int sad_consume(lv_store *st, const char *citizen_id,
                       const lv_sign_sad_rec *rec, const EVP_MD *md,
                       const unsigned char *hashes, size_t n, const char *event,
                       const char *key_id, sad_activation *act, lv_err *err)
{
    char actor[96], digest[65];
    sign_citizen_actor(citizen_id, actor);
    LV_TRY(lv_sha256_hex(hashes, n * (size_t)EVP_MD_get_size(md), digest));
    int rc = store_sign_sad_consume(st, rec->sad_hash, (int)n, lv_now(), err);
    if (rc == LV_ESTATE)
        rc = lv_fail(err, LV_EPERM,
                     "the SAD is used up (numSignatures) or expired");
    if (rc == 0)
        rc = sign_audit(st, actor, event, rec->serial,
                        json_pack("{s:i, s:s, s:s}", "signatures", (int)n,
                                  "digest_alg", sign_md_name(md),
                                  "hashes_sha256", digest),
                        err);
    if (rc == 0 && act)
        rc = sign_activation_write(st, act->actor, key_id, md, hashes, n,
                                   act->ref, err);
    return rc;
}

/* sign_csc_use_sad, and with act the activation record of exactly these
 * hashes.  One write transaction from the SAD's lookup to its consumption:
 * the checks (R5.5) and the use cannot be told apart by a revocation or a
 * concurrent signHash in between, and the reads take no lock of their own
 * (R10.1: each SQLite statement outside a transaction locked and unlocked
 * the WAL index by itself). */
static int use_sad(lv_store *st, const char *citizen_id, const char *serial,
                   const char *sad, const EVP_MD *md,
                   const unsigned char *hashes, size_t n, const char *event,
                   char key_id[65], sad_activation *act, lv_sign_refusal *why,
                   lv_err *err)
{
    char norm[65], actor[96];
    lv_sign_sad_rec rec = {0};
    *why = LV_SIGN_OK;
    LV_TRY(normalize(serial, norm, err));
    LV_TRY(hashes_ok(md, hashes, n, err));
    LV_TRY(store_begin(st, err));
    int rc = sad_load(st, citizen_id, norm, sad, &rec, err);
    if (rc == 0)
        rc = sad_covers(&rec, md, hashes, n, err);
    /* R5.5: status checked before every signature */
    if (rc == 0)
        rc = sign_credential_check(st, citizen_id, norm, why, err);
    if (rc == 0)
        rc = sign_cert_key(st, norm, key_id, err);
    if (rc == 0)
        rc = sad_consume(st, citizen_id, &rec, md, hashes, n, event, key_id,
                         act, err);
    rc = store_end(st, rc, err);
    if (rc < 0) {
        sign_citizen_actor(citizen_id, actor);
        sign_audit_refusal(st, actor, event, norm, *why, err);
    }
    store_sign_sad_rec_free(&rec);
    return rc;
}

void sign_csc_sad_give_back(lv_store *st, const char *citizen_id,
                            const char *serial, const char *sad, int n,
                            const lv_err *why)
{
    char hash[65], actor[96];
    lv_err err = {0};
    if (n <= 0 || !sad || strlen(sad) != LV_SIGN_SAD_LEN ||
        lv_sha256_hex(sad, LV_SIGN_SAD_LEN, hash) < 0)
        return;
    sign_citizen_actor(citizen_id, actor);
    int rc = store_begin(st, &err);
    if (rc == 0)
        rc = store_sign_sad_release(st, hash, citizen_id, n, lv_now(), &err);
    if (rc == 0)
        rc = sign_audit(st, actor, "sign.csc.sad_release", serial,
                        json_pack("{s:i, s:s}", "signatures", n, "reason",
                                  why && why->msg[0] ? why->msg : "failed"),
                        &err);
    rc = store_end(st, rc, &err);
    if (rc < 0)
        lv_log(LV_LOG_WARN,
               "sign: the SAD's %d signature(s) not given back: %s", n,
               err.msg);
}

/* Checks and consumes the SAD for n signatures over hashes; *key_id
 * receives the credential's key.  Refusals are audited. */
int sign_csc_use_sad(lv_store *st, const char *citizen_id, const char *serial,
                     const char *sad, const EVP_MD *md,
                     const unsigned char *hashes, size_t n, const char *event,
                     char key_id[65], lv_sign_refusal *why, lv_err *err)
{
    return use_sad(st, citizen_id, serial, sad, md, hashes, n, event, key_id,
                   NULL, why, err);
}

int sign_csc_sign_hash(const lv_sign_env *env, lv_store *st,
                       const char *citizen_id, const char *serial,
                       const char *sad, const EVP_MD *md,
                       const unsigned char *hashes, size_t n,
                       unsigned char **sigs, size_t *sig_len,
                       lv_sign_refusal *why, lv_err *err)
{
    char key_id[65], actor[96];
    sad_activation act = {.actor = actor};
    *sigs = NULL;
    *sig_len = 0;
    LV_TRY(ca_need_keys(env->ca, "no signature can be made", err));
    sign_citizen_actor(citizen_id, actor);
    int rc = use_sad(st, citizen_id, serial, sad, md, hashes, n,
                     "sign.csc.sign_hash", key_id, &act, why, err);
    if (rc < 0) {
        OPENSSL_cleanse(act.ref, sizeof act.ref);
        return rc;
    }
    return sign_activated(env, key_id, md, hashes, n, act.ref, sigs, sig_len,
                          err);
}

/* The binding of the new SAD: the hashes sent, or the old SAD's ones. */
static int extend_binding(const lv_sign_sad_rec *old, const EVP_MD **md,
                          const unsigned char **hashes, size_t *n, lv_err *err)
{
    if (*n == 0) {
        *md = sign_md_by_name(old->digest_alg);
        *hashes = old->hashes;
        *n = *md ? old->hashes_len / (size_t)EVP_MD_get_size(*md) : 0;
        return *md ? 0 : lv_fail(err, LV_ESTORE, "bad SAD record");
    }
    LV_TRY(hashes_ok(*md, *hashes, *n, err));
    if (*n > (size_t)old->remaining)
        return lv_fail(err, LV_EINVAL,
                       "Numbers of signatures is too high: the SAD has %d "
                       "left, not %zu",
                       old->remaining, *n);
    return 0;
}

/* One transaction: the old SAD is used up (all it had left, so that a
 * concurrent signHash that took one first makes this fail), the new one
 * inherits what was left. */
static int extend_record(lv_store *st, const char *citizen_id,
                         const lv_sign_sad_rec *old, sad_new *s, size_t n,
                         lv_err *err)
{
    char actor[96];
    sign_citizen_actor(citizen_id, actor);
    LV_TRY(store_begin(st, err));
    int rc = store_sign_sad_consume(st, old->sad_hash, old->remaining, lv_now(),
                                    err);
    if (rc == LV_ESTATE)
        rc = lv_fail(err, LV_EPERM,
                     "the SAD is used up (numSignatures) or expired");
    if (rc == 0)
        rc = store_sign_sad_insert(st, &s->rec, err);
    if (rc == 0)
        rc = sign_audit(st, actor, "sign.csc.extend", old->serial,
                        json_pack("{s:i, s:i, s:s}", "remaining",
                                  old->remaining, "hashes", (int)n,
                                  "digest_alg", s->rec.digest_alg),
                        err);
    return store_end(st, rc, err);
}

int sign_csc_extend(lv_store *st, const char *citizen_id, const char *serial,
                    const char *sad, const EVP_MD *md,
                    const unsigned char *hashes, size_t n,
                    char sad_out[LV_SIGN_SAD_LEN + 1], int *expires_in,
                    lv_err *err)
{
    char norm[65];
    lv_sign_sad_rec old = {0};
    sad_new s = {0};
    sad_out[0] = '\0';
    LV_TRY(normalize(serial, norm, err));
    LV_TRY(sad_load(st, citizen_id, norm, sad, &old, err));
    int rc =
        old.remaining > 0 ? 0 : lv_fail(err, LV_EPERM, "the SAD is used up");
    if (rc == 0)
        rc = extend_binding(&old, &md, &hashes, &n, err);
    if (rc == 0)
        rc = new_sad(citizen_id, norm, md, hashes, n, old.remaining, &s, err);
    if (rc == 0)
        rc = extend_record(st, citizen_id, &old, &s, n, err);
    if (rc == 0) {
        memcpy(sad_out, s.sad, sizeof s.sad);
        *expires_in = LV_SIGN_SAD_TTL;
    }
    OPENSSL_cleanse(&s, sizeof s);
    store_sign_sad_rec_free(&old);
    return rc;
}
