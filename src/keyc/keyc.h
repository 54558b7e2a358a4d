/* keyc/ — the client of llave-keyd, the signature activation module
 * (src/keyd/; CEN EN 419 241-1 SAM).  One function per row of keyd's
 * request table.  This is how every process but llave-keyd reaches a key:
 * it links no key code (issue 12 item 2) and holds no private key.
 *
 * Errors: keyd's answer carries an LV_E code and a message, returned as
 * they are (LV_EPERM for a refusal, LV_ESEALED while sealed, ...).  When
 * keyd is not running, not reachable, or does not answer within the
 * timeout, calls fail at once with LV_EBUSY (HTTP 503, Retry-After 1), so
 * that a key operation answers 503 while everything else keeps serving.
 *
 * A handle holds one connection, made again on the next call after it
 * broke; calls on one handle are serialized (a mutex), so give each worker
 * thread its own handle for parallel signing.  Depends on core/ and
 * keyd/keyd_proto.h only. */
#ifndef LLAVE_KEYC_H
#define LLAVE_KEYC_H

#include "core/core.h"
#include "keydproto/keydproto.h"

#include <openssl/evp.h>
#include <sys/types.h>

typedef struct keyc keyc;

#define KEYC_TIMEOUT_MS_DEFAULT 30000 /* RSA-4096 generation takes seconds */

/* DIR/keyd.sock. */
int keyc_default_path(const char *dir, char *out, size_t cap,
                      lv_err *err) LV_MUST_USE;

/* Connects to the socket at `path` as `caller` (KEYD_CALLER_SERVICE for
 * llaved, _CONSOLE for llave, _CUSTODIAN for llave unseal).  The socket's
 * owner (SO_PEERCRED) must be this process's uid.  LV_EBUSY when no keyd
 * answers there. */
int keyc_connect(const char *path, int caller, keyc **out,
                 lv_err *err) LV_MUST_USE;
/* The same without connecting now: the first call connects (and, like
 * every call, answers LV_EBUSY while no keyd is there).  For handles kept
 * per thread across keyd restarts. */
int keyc_open(const char *path, int caller, keyc **out,
              lv_err *err) LV_MUST_USE;
void keyc_close(keyc *c); /* NULL is ok */
/* Per call: the whole request and answer (default KEYC_TIMEOUT_MS_DEFAULT). */
void keyc_set_timeout(keyc *c, int timeout_ms);

typedef struct keyc_info {
    int sealed;
    char server[64]; /* "llave-keyd 0.1.0" */
    int shares_received;
    int shares_needed;
    int64_t ca_keys, service_keys, signer_keys;
} keyc_info;
int keyc_status(keyc *c, keyc_info *out, lv_err *err) LV_MUST_USE;

typedef struct keyc_unseal_progress {
    int index;    /* the share's number, 1..3 */
    int received; /* distinct shares held after this one */
    int needed;
    int sealed; /* 0 once this share opened the store */
} keyc_unseal_progress;
/* A custodian's share (caller class custodian only). */
int keyc_unseal_share(keyc *c, const char *share, keyc_unseal_progress *out,
                      lv_err *err) LV_MUST_USE;

/* The public key of any key id; key_class / key_type (16 bytes each, may
 * be NULL) receive "ca"/"service"/"signer" and "rsa4096"/... */
int keyc_public_key(keyc *c, const char *key_id, EVP_PKEY **pub,
                    char *key_class, char *key_type, lv_err *err) LV_MUST_USE;

/* Signs data with a CA or service key; *sig is malloc'ed.  Citizens'
 * keys are refused.  keyd hashes data with md ("sha256", "sha384",
 * "sha512"), or, prehashed, data is that digest computed by the caller (a
 * TBS larger than a frame, such as a CRL of millions of entries): the
 * signature is the same. */
int keyc_sign(keyc *c, const char *key_id, const char *md,
              const unsigned char *data, size_t len, int prehashed,
              unsigned char **sig, size_t *sig_len, lv_err *err) LV_MUST_USE;

/* R5.1: a new citizen's key (class signer; "rsa2048", "rsa3072",
 * "rsa4096") generated inside keyd; key_id receives its id, *pub (may be
 * NULL) its public key. */
int keyc_generate_citizen_key(keyc *c, const char *type, const char *label,
                              char key_id[KEYD_KEY_ID_MAX + 1], EVP_PKEY **pub,
                              lv_err *err) LV_MUST_USE;

/* A CA or service key (key_class "ca" or "service"; key types of
 * keys_type_name: "rsa4096", "ec-p256", ...) generated inside keyd; the
 * console only (ceremony, CA change-over, TSA units; CPS §6.1.1). */
int keyc_generate_key(keyc *c, const char *type, const char *key_class,
                      const char *label, char key_id[KEYD_KEY_ID_MAX + 1],
                      EVP_PKEY **pub, lv_err *err) LV_MUST_USE;
/* Destroys a key that no CA or certificate row names (an issuance that
 * failed after its key was made); LV_EPERM for a key in use. */
int keyc_destroy_key(keyc *c, const char *key_id, lv_err *err) LV_MUST_USE;

/* R5.2: PKCS#1 v1.5 signatures over n digests of md laid end to end, by
 * the citizen's key key_id, authorized by the activation record whose
 * reference is `activation` (store_activation_create; committed before
 * this call).  keyd consumes the record; a reference that is unknown,
 * used, expired, or bound to another key or other digests is refused
 * (LV_EPERM) and nothing is signed.  *sigs (malloc) receives n signatures
 * of *sig_len bytes each, in order (the shape of keys_signer_sign). */
int keyc_sign_citizen_digests(
    keyc *c, const char *key_id, const char *md, const unsigned char *digests,
    size_t n, const unsigned char activation[KEYD_ACTIVATION_LEN],
    unsigned char **sigs, size_t *sig_len, lv_err *err) LV_MUST_USE;

/* ---- starting llave-keyd (keyc_spawn.c) ---------------------------------
 * llaved starts its own keyd as a child (fork + exec, as sshd starts its
 * monitor), and so does the console for one command when no keyd is live.
 * The program is $LLAVE_KEYD, or llave-keyd next to the running program. */
#define KEYD_CONNS_SPAWN 512 /* one connection per llaved thread that signs */
typedef struct keyc_spawn_opts {
    const char *dir;
    const char *socket_path; /* NULL: DIR/keyd.sock */
    int sealed;              /* --sealed: ignore DIR/demo-shares.INSECURE */
    int max_conns;           /* 0: KEYD_CONNS_SPAWN */
    int timeout_ms;          /* until it answers; 0: 30 s */
    int quiet;               /* --quiet: errors only (the console's) */
} keyc_spawn_opts;
int keyc_program_path(char *out, size_t cap, lv_err *err) LV_MUST_USE;
/* 1 when a keyd answers a status request on path. */
int keyc_live(const char *path, int caller);
/* Starts llave-keyd and waits until it answers on its socket.  LV_EEXISTS
 * when another keyd already answers there. */
int keyc_spawn(const keyc_spawn_opts *o, pid_t *pid, lv_err *err) LV_MUST_USE;
/* SIGTERM (keyd audits keyd.stop, wipes its keys and removes its socket),
 * SIGKILL after 10 s; reaps the child. */
void keyc_child_stop(pid_t pid);

#endif
