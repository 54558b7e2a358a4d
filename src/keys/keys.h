/* keys/ — key custody.  Generate, read the public key, sign, destroy; there
 * is deliberately no function that returns private key material (R5.1).
 *
 * File back end: DIR/keys/<id>.key holds the PKCS#8 DER of one private key
 * sealed with AES-256-GCM under a 256-bit master key; the key id, class and
 * type are bound in as additional authenticated data.  The master key never
 * touches disk: the ceremony splits it with Shamir's scheme (libgfshare) into
 * three custodian shares of which any two open the store (R9.5, CPS §6.2.2).
 *
 * Depends on core/ only. */
#ifndef LLAVE_KEYS_H
#define LLAVE_KEYS_H

#include "core/core.h"

#include <openssl/evp.h>

typedef struct lv_keystore lv_keystore;

#define LV_SHARES_TOTAL 3
#define LV_SHARES_NEEDED 2
#define LV_KEY_ID_LEN 32      /* hex characters, random 128-bit id */
#define LV_SHARE_TEXT_MAX 160 /* printable share, NUL included */

typedef enum {
    LV_KEY_RSA2048,
    LV_KEY_RSA3072,
    LV_KEY_RSA4096,
    LV_KEY_EC_P256,
    LV_KEY_EC_P384,
} lv_key_type;

/* Who may use a key.  CA and service (OCSP, TSA) keys sign whenever the store
 * is open; signer keys belong to a citizen and are usable only inside a
 * signing operation that citizen authorized (R5.2), so keys_sign_init refuses
 * them. */
typedef enum {
    LV_KEY_CLASS_CA,
    LV_KEY_CLASS_SERVICE,
    LV_KEY_CLASS_SIGNER,
} lv_key_class;

const char *keys_type_name(lv_key_type t); /* "rsa2048", "ec-p256", ... */
int keys_type_parse(const char *name, lv_key_type *out) LV_MUST_USE;
const char *keys_class_name(lv_key_class c);

/* Creates an empty key store under dir/keys with a fresh master key and
 * writes the three printable custodian shares to shares[i] (text such as
 * "llave-share-1-<hex>-<check>").  Fails if a store already exists. */
int keys_create(const char *dir,
                char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX],
                lv_err *err) LV_MUST_USE;

/* The PKCS#11 back end (issue 16): keys_create_pkcs11 is keys_create on a
 * token.  It logs in to the token labelled conf->token of the module
 * conf->module with the user PIN conf->pin (refused before anything is
 * written: wrong PIN, missing token), creates the token's AES-256 key
 * that wraps citizens' keys, and seals the PIN under the master key in
 * DIR/keys/pkcs11.json, so that only two custodians' shares let llave-keyd
 * log in to the token (m-of-n stays, CPS §6.2.2).  From then on CA and
 * service keys are generated on the token (sensitive, never extractable,
 * CKA_ID = the raw key id) and sign there; citizens' keys are generated
 * there and kept only wrapped (CKM_AES_KEY_WRAP_PAD) in their key file. */
typedef struct {
    const char *module; /* path of the PKCS#11 module (.so) */
    const char *token;  /* token label */
    const char *pin;    /* user PIN (wiped by the caller) */
} lv_p11_conf;

int keys_create_pkcs11(const char *dir, const lv_p11_conf *conf,
                       char shares[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX],
                       lv_err *err) LV_MUST_USE;

/* Loads the module, finds the token and logs in with the PIN, then logs
 * out again: the ceremony calls it before it writes anything, so that a
 * missing module or token and a wrong PIN (LV_ENOTFOUND, LV_EAUTH) leave
 * nothing behind. */
int keys_pkcs11_check(const lv_p11_conf *conf, lv_err *err) LV_MUST_USE;

/* "file" or "pkcs11": the back end of the store under dir (reads
 * DIR/keys/pkcs11.json only; works on a sealed store). */
const char *keys_backend(const char *dir);

/* The token objects a PKCS#11 store depends on, for backups (issue 16
 * item 5): {"backend":"pkcs11","module":..,"token":..,"objects":[{"id":
 * hex CKA_ID,"label":..,"class":..}, ...]} with the wrapping key and every
 * CA and service key; {"backend":"file"} for the file back end. */
int keys_dependencies(const char *dir, json_t **out, lv_err *err) LV_MUST_USE;

/* Restore (issue 16 item 5): logs in to conf's token and looks for every
 * object of deps (keys_dependencies' "objects": the wrapping key as a
 * secret key, CA and service keys as private keys, by CKA_ID).  LV_ENOTFOUND
 * naming each missing object by label and CKA_ID; nothing is changed. */
int keys_pkcs11_check_objects(const lv_p11_conf *conf, const json_t *deps,
                              lv_err *err) LV_MUST_USE;

/* Opens the store with `n` printable shares.  Fewer than two distinct valid
 * shares, a share that fails its checksum, or a combination that does not
 * reproduce the master key fail with LV_EAUTH and a message naming the
 * problem; nothing is opened. */
int keys_open(const char *dir, const char *const *shares, size_t n,
              lv_keystore **out, lv_err *err) LV_MUST_USE;
void keys_close(lv_keystore *ks); /* wipes the master key and cached keys */

/* Validates one share's format and checksum without opening anything. */
int keys_share_check(const char *share, lv_err *err) LV_MUST_USE;

int keys_generate(lv_keystore *ks, lv_key_type type, lv_key_class cls,
                  const char *label, char id_out[LV_KEY_ID_LEN + 1],
                  lv_err *err) LV_MUST_USE;
int keys_public(lv_keystore *ks, const char *id, EVP_PKEY **pub,
                lv_err *err) LV_MUST_USE;
int keys_info(lv_keystore *ks, const char *id, lv_key_type *type,
              lv_key_class *cls, lv_err *err) LV_MUST_USE;

/* Initializes md_ctx for signing with the key `id` (EVP_DigestSignInit).  The
 * context can be handed to X509_sign_ctx, X509_CRL_sign_ctx,
 * OCSP_BASICRESP_sign_ctx and the like; it holds a reference to the cached key
 * and is the only way a private key leaves this module.  RSA keys sign with
 * PKCS#1 v1.5 (CPS §7.1.3).  Refused for signer keys (R5.2), and on a
 * PKCS#11 store (LV_EINVAL: the private key is not in this process; use
 * keys_sign or keys_sign_digest). */
int keys_sign_init(lv_keystore *ks, const char *id, const EVP_MD *md,
                   EVP_MD_CTX *md_ctx, lv_err *err) LV_MUST_USE;

/* Signs data (hash-and-sign) with a CA or service key; *sig is allocated
 * with malloc() and freed by the caller with free(). */
int keys_sign(lv_keystore *ks, const char *id, const EVP_MD *md,
              const unsigned char *data, size_t len, unsigned char **sig,
              size_t *sig_len, lv_err *err) LV_MUST_USE;

/* Signs a precomputed digest of md (the signature OpenSSL would make over
 * the data: PKCS#1 v1.5 DigestInfo for RSA, DER ECDSA) with a CA or
 * service key, on either back end; *sig is malloc'd. */
int keys_sign_digest(lv_keystore *ks, const char *id, const EVP_MD *md,
                     const unsigned char *dgst, size_t dlen,
                     unsigned char **sig, size_t *sig_len,
                     lv_err *err) LV_MUST_USE;

/* Counts the key files of the store under dir by class (counts[cls]),
 * reading the metadata only: nothing is unsealed, so it works on a sealed
 * store too (llave-keyd's status).  The metadata of a file is
 * authenticated only when the key is opened; a file that does not parse
 * is not counted. */
int keys_count(const char *dir, int64_t counts[3], lv_err *err) LV_MUST_USE;

/* Overwrites and removes the key file and drops it from the cache. */
int keys_destroy(lv_keystore *ks, const char *id, lv_err *err) LV_MUST_USE;

/* ---- custody of the shares (R9.5, CPS §6.2.2, §6.2.8; issue 8) ---------- */

/* Share rotation without changing keys: opens the master key with two
 * current shares, splits the same master key again into three new shares
 * (written to out) and replaces keystore.json atomically (new share
 * digests, new check value; the key files are untouched).  From then on
 * only the new shares open the store. */
int keys_rotate_shares(const char *dir, const char *const *shares, size_t n,
                       char out[LV_SHARES_TOTAL][LV_SHARE_TEXT_MAX],
                       lv_err *err) LV_MUST_USE;

/* An unseal session: custodians hand in their shares one at a time (a
 * running llaved, POST /api/v1/unseal).  Each share is checked on arrival
 * (format and checksum: LV_EINVAL; not one of this store's shares:
 * LV_EAUTH; a share number already received: LV_EEXISTS) and kept in
 * secure memory; the second distinct share opens the store.  Not
 * thread-safe: the caller serializes calls. */
typedef struct lv_unseal lv_unseal;

int keys_unseal_new(const char *dir, lv_unseal **out, lv_err *err) LV_MUST_USE;
/* Wipes any share held. */
void keys_unseal_free(lv_unseal *u);
/* Adds one share.  *index receives its number (1..3, 0 when it did not
 * parse) for the audit trail, *received how many distinct shares are held
 * after the call.  When that reaches LV_SHARES_NEEDED the store is opened
 * into *ks (otherwise *ks is NULL) and the session is emptied again. */
int keys_unseal_add(lv_unseal *u, const char *share, unsigned *index,
                    size_t *received, lv_keystore **ks,
                    lv_err *err) LV_MUST_USE;
/* Shares held (0 or 1 with the 2-of-3 scheme). */
size_t keys_unseal_received(const lv_unseal *u);
/* Forgets the shares held (a custodian gave up, or they waited too long). */
void keys_unseal_reset(lv_unseal *u);

/* ---- signer keys: sole control (R5.1, R5.2; src/keys/keys_signer.c) -----
 * A citizen's key (class signer) signs only through keys_signer_sign and
 * only when handed an activation token that sign/ minted right after it
 * checked that citizen's authorization (password + an OTP bound to exactly
 * these digests, or the SAD that authorization produced).  A token is
 * 256 random bits given out once as 64 hex characters; keys/ keeps only
 * SHA-256 of it, the key id, SHA-256 of the digest algorithm and digests it
 * is bound to, and its expiry, in this process's memory.  A token is
 * redeemed by the process that minted it, in the same request: what
 * crosses processes (several llaved on one database) is the authorization
 * record in the store, never the token.  Any redemption, successful or
 * not, consumes the token.  No CLI command or operator endpoint mints one:
 * operators and administrators have no path to a citizen's key. */
#define LV_ACTIVATION_TOKEN_LEN 64 /* hex characters */
#define LV_ACTIVATION_TTL_MAX 300  /* seconds */
#define LV_ACTIVATION_PENDING_MAX 4096
#define LV_SIGNER_BATCH_MAX 1000 /* digests per token */

/* Mints a token for the signer key `key_id` bound to the n digests of
 * algorithm md laid end to end in `digests` (n * EVP_MD_get_size(md)
 * bytes, in order), valid for ttl_seconds (1..LV_ACTIVATION_TTL_MAX).
 * LV_EPERM for a key that is not a signer key. */
int keys_activation_mint(lv_keystore *ks, const char *key_id, const EVP_MD *md,
                         const unsigned char *digests, size_t n,
                         int ttl_seconds,
                         char token_out[LV_ACTIVATION_TOKEN_LEN + 1],
                         lv_err *err) LV_MUST_USE;

/* Signs each digest with PKCS#1 v1.5 (OpenSSL builds the DigestInfo of md)
 * when `token` was minted for this key and exactly these digests, has not
 * expired and was never presented before; LV_EPERM otherwise, naming why
 * (unknown or used, expired, another key, other digests), and nothing is
 * signed.  *sigs (malloc, caller frees) receives n signatures of *sig_len
 * bytes each, in order.  RSA signer keys only. */
int keys_signer_sign(lv_keystore *ks, const char *key_id, const char *token,
                     const EVP_MD *md, const unsigned char *digests, size_t n,
                     unsigned char **sigs, size_t *sig_len,
                     lv_err *err) LV_MUST_USE;

/* Tokens minted and not yet redeemed or expired (for tests and metrics). */
size_t keys_activation_pending(lv_keystore *ks);

#endif
