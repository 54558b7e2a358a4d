/* Private to sign/: helpers the sign_*.c files share. */
#ifndef LLAVE_SIGN_INTERNAL_H
#define LLAVE_SIGN_INTERNAL_H

#include "audit/audit.h"
#include "sign/sign.h"
#include "store/store.h"
#include "store/store_activation.h"
#include "store/store_cert.h"
#include "store/store_ra.h"
#include "store/store_sign.h"

#include <jansson.h>
#include <openssl/x509.h>

/* OTP purpose of every signature authorization (auth_otp_send). */
#define SIGN_OTP_PURPOSE "sign"

/* What an OTP and a keys/ token are bound to (R3.3, R5.2): "llave-sign-v1"
 * 0 context 0 md-name 0 digests.  context names the operation
 * ("tx:<id>", "csc:<serial>"); the caller frees *out. */
int sign_binding(const char *context, const EVP_MD *md,
                 const unsigned char *digests, size_t n, lv_buf *out);

/* A refusal, on its own (sign_audit: sign.h). */
void sign_audit_refusal(lv_store *st, const char *actor, const char *event,
                        const char *object, lv_sign_refusal why,
                        const lv_err *reason);
/* "citizen:<id>" */
void sign_citizen_actor(const char *citizen_id, char out[96]);

/* R5.2: writes and commits the activation record of the authorization the
 * caller just proved (actor: the citizen), then asks llave-keyd to sign
 * with it: the only path to a signer key.  st must not be inside a
 * transaction (keyd reads the record with its own connection). */
int sign_with_key(const lv_sign_env *env, lv_store *st, const char *actor,
                  const char *key_id, const EVP_MD *md,
                  const unsigned char *digests, size_t n, unsigned char **sigs,
                  size_t *sig_len, lv_err *err);

/* sign_with_key in two steps, for a caller that writes the record in its
 * own transaction (signHash: with the SAD's use) and commits it before
 * sign_activated hands it to keyd (which wipes ref). */
int sign_activation_write(lv_store *st, const char *actor, const char *key_id,
                          const EVP_MD *md, const unsigned char *digests,
                          size_t n, unsigned char ref[LV_ACTIVATION_REF_LEN],
                          lv_err *err);
int sign_activated(const lv_sign_env *env, const char *key_id, const EVP_MD *md,
                   const unsigned char *digests, size_t n,
                   unsigned char ref[LV_ACTIVATION_REF_LEN],
                   unsigned char **sigs, size_t *sig_len, lv_err *err);

/* The key id of a certificate (cloud keys). */
int sign_cert_key(lv_store *st, const char *serial, char key_id[65],
                  lv_err *err);

/* The acceptance sheet digest with md; *text is malloc'd. */
int sign_sheet_digest(lv_store *st, const char *serial, const EVP_MD *md,
                      char **text, unsigned char digest[EVP_MAX_MD_SIZE],
                      int *accepted, lv_err *err);
/* Records the signed sheet in the caller's transaction, audited
 * "cert.accept". */
int sign_acceptance_record(lv_store *st, const char *citizen_id,
                           const char *serial, const char *sheet,
                           const EVP_MD *md, const unsigned char *sig,
                           size_t sig_len, const char *channel, lv_err *err);

/* sign_csc.c: checks and consumes a SAD for n signatures over hashes
 * (audited as event); *key_id receives the credential's key. */
int sign_csc_use_sad(lv_store *st, const char *citizen_id, const char *serial,
                     const char *sad, const EVP_MD *md,
                     const unsigned char *hashes, size_t n, const char *event,
                     char key_id[65], lv_sign_refusal *why, lv_err *err);

/* sign_util.c: an RFC 3161 time-stamp token (DER, malloc'd) from our TSA
 * (tsa_unit) over md/digest: CAdES-T's signature time-stamp, XAdES-T's
 * SignatureTimeStamp.  LV_ESTATE when the TSA grants none. */
int sign_tsa_token(const lv_sign_env *env, lv_store *st, const EVP_MD *md,
                   const unsigned char *digest, size_t dlen,
                   unsigned char **token, size_t *token_len, lv_err *err);

/* sign_util.c: the certificate `serial` (*out, X509_free) and the name of
 * its issuing CA: the signer of XAdES and PAdES. */
int sign_cert_x509(lv_store *st, const char *serial, X509 **out,
                   char ca_name[32], lv_err *err);

/* signDoc of a whole document (XAdES, PAdES): what the format's signing
 * and time-stamp callbacks need.  doc_digest: md(document) as sent, which
 * the SAD must authorize. */
typedef struct sign_doc_ctx {
    const lv_sign_env *env;
    lv_store *st;
    const char *citizen_id;
    const char *serial;
    const char *sad;
    const EVP_MD *md;
    unsigned char doc_digest[EVP_MAX_MD_SIZE];
    lv_sign_refusal *why;
    int consumed; /* the SAD's signature was taken (sign_doc_sign_cb) */
} sign_doc_ctx;
/* After a format's build: a failure once the SAD was consumed gives its
 * signature back (sign_csc_sad_give_back); rc unchanged. */
int sign_doc_end(sign_doc_ctx *x, int rc, const lv_err *err);
/* The signing callback (xades_sign_fn, pades_sign_fn), called once the
 * format accepted the document: the SAD is checked and consumed for
 * doc_digest, then the citizen's key signs `digest` through keyd under an
 * activation record bound to it. */
int sign_doc_sign_cb(void *arg, const EVP_MD *md, const unsigned char *digest,
                     size_t digest_len, unsigned char **sig, size_t *sig_len,
                     lv_err *err);
/* What signDoc of a whole document checks before the format sees it:
 * keys unsealed, credential (normalized into serial, which x->serial must
 * point at), digest and document given; then x->doc_digest, md(document)
 * as sent.  Resets *x->why. */
int sign_doc_start(sign_doc_ctx *x, const lv_doc_req *d, char serial[65],
                   const char *format, lv_err *err);
/* The signer of x->serial (*cert) and the chain XAdES's KeyInfo and
 * PAdES's CMS carry: the issuing CA and the root (the CA context owns
 * them).  Both go with sign_doc_signer_free. */
int sign_doc_signer(const sign_doc_ctx *x, X509 **cert, STACK_OF(X509) **chain,
                    lv_err *err);
void sign_doc_signer_free(X509 *cert, STACK_OF(X509) *chain);
/* The time-stamp callback (xades_tsa_fn, pades_timestamp_fn): our TSA. */
int sign_doc_tsa_cb(void *arg, const EVP_MD *md, const unsigned char *digest,
                    size_t digest_len, unsigned char **token, size_t *token_len,
                    lv_err *err);

/* sign_pades.c, for sign_tx.c: the PDF req->doc signed as PAdES with the
 * key key_id of certificate req->serial (req->sad unused), once the
 * citizen's password + OTP over md(PDF) were proved in this call. */
int sign_tx_pades(const lv_sign_env *env, lv_store *st, const char *actor,
                  const char *key_id, const lv_pades_req *req,
                  unsigned char **out, size_t *out_len, lv_err *err);

/* Maps an auth_citizen_authorize failure to a refusal. */
lv_sign_refusal sign_auth_refusal(int rc, const lv_err *err);

#endif
