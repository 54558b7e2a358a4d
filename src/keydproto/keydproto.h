/* keydproto/ — the llave-keyd wire protocol, shared by the server (src/keyd/)
 * and its client (src/keyc/).  llave-keyd is the signature activation module of
 * CEN EN 419 241-1 (SAM; EN 419 241-2 for its protection profile): the only
 * process holding private keys, reachable only through a UNIX socket.
 *
 * A frame is a 4-byte big-endian length (1..KEYD_FRAME_MAX) followed by
 * that many bytes of DER.  Every message is one ASN.1 structure encoded by
 * OpenSSL's templates (no parser of ours); decoding is strict: the whole
 * frame must be one value and re-encode to the same bytes (canonical DER).
 *
 *   Request  ::= SEQUENCE { version INTEGER (1), kind INTEGER,
 *                           id INTEGER (0..2^32-1), caller INTEGER,
 *                           body OCTET STRING OPTIONAL }
 *   Response ::= SEQUENCE { version INTEGER (1), kind INTEGER, id INTEGER,
 *                           status INTEGER (0 or an LV_E code),
 *                           message UTF8String,
 *                           body OCTET STRING OPTIONAL }
 *
 * `body` holds the DER of the kind's own request or response structure
 * below.  The envelope is decoded first, so that a request of an unknown
 * kind or version still gets an answer naming its id (and an audit entry).
 * Depends on core/ and OpenSSL only: llaved links this, not keys/. */
#ifndef LLAVE_KEYDPROTO_H
#define LLAVE_KEYDPROTO_H

#include "core/core.h"

#include <openssl/asn1t.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>

#define KEYD_PROTO_VERSION 1
#define KEYD_FRAME_MAX (1u << 20) /* 1 MiB: a TBS, or 1000 signatures */
#define KEYD_SOCKET_NAME "keyd.sock"
#define KEYD_KEY_ID_MAX 64     /* characters of a key id (32 today) */
#define KEYD_ACTIVATION_LEN 32 /* bytes of an activation reference */
#define KEYD_DIGESTS_MAX 1000  /* digests per sign_citizen_digests */
#define KEYD_MESSAGE_MAX 240   /* bytes of a response message */
/* The custody scheme behind keyd (R9.5, CPS §6.2.2): 2 of 3 custodian
 * shares open the key store (keys.h: LV_SHARES_*; keyd_unseal.c checks
 * they agree). */
#define KEYD_SHARES_TOTAL 3
#define KEYD_SHARES_NEEDED 2

/* The request table's kinds (numbers are the wire values; never reuse). */
typedef enum {
    KEYD_STATUS = 1,
    KEYD_UNSEAL_SHARE = 2,
    KEYD_PUBLIC_KEY = 3,
    KEYD_SIGN_TBS = 4,
    KEYD_GENERATE_CITIZEN_KEY = 5,
    KEYD_SIGN_CITIZEN_DIGESTS = 6,
    KEYD_GENERATE_KEY = 7, /* a CA or service key: console only */
    KEYD_DESTROY_KEY = 8,  /* a key no CA or certificate row names */
} keyd_kind;

/* Who asks.  The table says which class may use which kind; a class only
 * narrows what a caller may do (see docs/ARCHITECTURE.md "llave-keyd"). */
typedef enum {
    KEYD_CALLER_SERVICE = 1,   /* llaved: the front end */
    KEYD_CALLER_CONSOLE = 2,   /* llave, the operator console */
    KEYD_CALLER_CUSTODIAN = 3, /* llave unseal: a custodian's share */
} keyd_caller;

/* "status", ... ; "unknown" outside the table. */
const char *keyd_kind_name(int kind);
/* "service", "console", "custodian"; "unknown" otherwise. */
const char *keyd_caller_name(int caller);

/* OpenSSL declares no stack of OCTET STRINGs; the digests and signatures
 * of a batch are SEQUENCE OF OCTET STRING. */
DEFINE_STACK_OF(ASN1_OCTET_STRING)

/* ---- envelope --------------------------------------------------------- */
typedef struct {
    int32_t version;
    int32_t kind;
    uint32_t id;
    int32_t caller;
    ASN1_OCTET_STRING *body; /* OPTIONAL */
} KEYD_REQUEST;
DECLARE_ASN1_FUNCTIONS(KEYD_REQUEST)

typedef struct {
    int32_t version;
    int32_t kind;
    uint32_t id;
    int32_t status;
    ASN1_UTF8STRING *message;
    ASN1_OCTET_STRING *body; /* OPTIONAL */
} KEYD_RESPONSE;
DECLARE_ASN1_FUNCTIONS(KEYD_RESPONSE)

/* ---- bodies, one per kind --------------------------------------------- */

/* status: no request body.
 * StatusResponse ::= SEQUENCE { sealed BOOLEAN, server UTF8String,
 *     sharesReceived INTEGER, sharesNeeded INTEGER,
 *     caKeys INTEGER, serviceKeys INTEGER, signerKeys INTEGER } */
typedef struct {
    ASN1_BOOLEAN sealed;
    ASN1_UTF8STRING *server;
    int32_t shares_received;
    int32_t shares_needed;
    int64_t ca_keys;
    int64_t service_keys;
    int64_t signer_keys;
} KEYD_STATUS_RESP;
DECLARE_ASN1_FUNCTIONS(KEYD_STATUS_RESP)

/* UnsealShareRequest ::= SEQUENCE { share UTF8String }
 * UnsealShareResponse ::= SEQUENCE { shareIndex INTEGER,
 *     sharesReceived INTEGER, sharesNeeded INTEGER, sealed BOOLEAN } */
typedef struct {
    ASN1_UTF8STRING *share;
} KEYD_UNSEAL_REQ;
DECLARE_ASN1_FUNCTIONS(KEYD_UNSEAL_REQ)

typedef struct {
    int32_t index;
    int32_t received;
    int32_t needed;
    ASN1_BOOLEAN sealed;
} KEYD_UNSEAL_RESP;
DECLARE_ASN1_FUNCTIONS(KEYD_UNSEAL_RESP)

/* PublicKeyRequest ::= SEQUENCE { keyId UTF8String }
 * PublicKeyResponse ::= SEQUENCE { spki SubjectPublicKeyInfo,
 *     keyClass UTF8String, keyType UTF8String } */
typedef struct {
    ASN1_UTF8STRING *key_id;
} KEYD_KEY_REQ;
DECLARE_ASN1_FUNCTIONS(KEYD_KEY_REQ)

typedef struct {
    X509_PUBKEY *spki;
    ASN1_UTF8STRING *key_class;
    ASN1_UTF8STRING *key_type;
} KEYD_PUBKEY_RESP;
DECLARE_ASN1_FUNCTIONS(KEYD_PUBKEY_RESP)

/* SignTbsRequest ::= SEQUENCE { keyId UTF8String, digest UTF8String,
 *     tbs OCTET STRING, prehashed BOOLEAN DEFAULT FALSE }
 * With prehashed, tbs is the digest itself (a CRL of millions of entries
 * does not fit a frame); otherwise keyd hashes tbs.
 * SignatureResponse ::= SEQUENCE { signature OCTET STRING } */
typedef struct {
    ASN1_UTF8STRING *key_id;
    ASN1_UTF8STRING *md;
    ASN1_OCTET_STRING *tbs;
    ASN1_BOOLEAN prehashed;
} KEYD_SIGN_TBS_REQ;
DECLARE_ASN1_FUNCTIONS(KEYD_SIGN_TBS_REQ)

typedef struct {
    ASN1_OCTET_STRING *signature;
} KEYD_SIG_RESP;
DECLARE_ASN1_FUNCTIONS(KEYD_SIG_RESP)

/* GenerateCitizenKeyRequest ::= SEQUENCE { keyType UTF8String,
 *     label UTF8String }
 * GenerateCitizenKeyResponse ::= SEQUENCE { keyId UTF8String,
 *     spki SubjectPublicKeyInfo } */
typedef struct {
    ASN1_UTF8STRING *key_type;
    ASN1_UTF8STRING *label;
} KEYD_GENERATE_REQ;
DECLARE_ASN1_FUNCTIONS(KEYD_GENERATE_REQ)

typedef struct {
    ASN1_UTF8STRING *key_id;
    X509_PUBKEY *spki;
} KEYD_GENERATE_RESP;
DECLARE_ASN1_FUNCTIONS(KEYD_GENERATE_RESP)

/* GenerateKeyRequest ::= SEQUENCE { keyType UTF8String,
 *     keyClass UTF8String ("ca" | "service"), label UTF8String }
 * answered with GenerateCitizenKeyResponse.  The ceremony, a CA
 * change-over and a new TSA unit (the console) make their keys here. */
typedef struct {
    ASN1_UTF8STRING *key_type;
    ASN1_UTF8STRING *key_class;
    ASN1_UTF8STRING *label;
} KEYD_GENERATE_KEY_REQ;
DECLARE_ASN1_FUNCTIONS(KEYD_GENERATE_KEY_REQ)

/* DestroyKeyRequest ::= PublicKeyRequest; the response is the same
 * structure naming the key destroyed.  keyd destroys only a key that no CA
 * or certificate row names (an issuance that failed after its key was
 * generated), so that no caller can destroy a key in use. */

/* SignCitizenDigestsRequest ::= SEQUENCE { keyId UTF8String,
 *     digest UTF8String, digests SEQUENCE OF OCTET STRING,
 *     activation OCTET STRING (SIZE (32)) }
 * SignaturesResponse ::= SEQUENCE { signatures SEQUENCE OF OCTET STRING } */
typedef struct {
    ASN1_UTF8STRING *key_id;
    ASN1_UTF8STRING *md;
    STACK_OF(ASN1_OCTET_STRING) *digests;
    ASN1_OCTET_STRING *activation;
} KEYD_SIGN_DIGESTS_REQ;
DECLARE_ASN1_FUNCTIONS(KEYD_SIGN_DIGESTS_REQ)

typedef struct {
    STACK_OF(ASN1_OCTET_STRING) *signatures;
} KEYD_SIGS_RESP;
DECLARE_ASN1_FUNCTIONS(KEYD_SIGS_RESP)

/* ---- strict DER --------------------------------------------------------- */

/* Decodes exactly len bytes as one `it` value that re-encodes to the same
 * bytes (canonical DER, no trailing data).  LV_EINVAL otherwise. */
int keyd_der_decode(const ASN1_ITEM *it, const unsigned char *der, size_t len,
                    void **out, lv_err *err) LV_MUST_USE;
/* *der is OPENSSL_malloc'ed (free with OPENSSL_free). */
int keyd_der_encode(const ASN1_ITEM *it, const void *val, unsigned char **der,
                    size_t *len, lv_err *err) LV_MUST_USE;

/* Decodes a request envelope.  A structure that decodes but carries
 * another protocol version fails with LV_EINVAL and still leaves it in
 * *out (the caller answers with its id, then frees it); any other failure
 * leaves *out NULL. */
int keyd_request_decode(const unsigned char *der, size_t len,
                        KEYD_REQUEST **out, lv_err *err) LV_MUST_USE;

/* Builds a request envelope around an encoded body (NULL: none). */
int keyd_request_encode(int kind, uint32_t id, int caller,
                        const unsigned char *body, size_t body_len,
                        unsigned char **der, size_t *len,
                        lv_err *err) LV_MUST_USE;

/* Sets an ASN1_STRING from a C string; LV_ENOMEM. */
int keyd_str_set(ASN1_STRING *s, const char *v) LV_MUST_USE;
/* Copies a string field into out (cap bytes, NUL-terminated); LV_EINVAL
 * when absent, too long, empty or holding a NUL or control character. */
int keyd_str_get(const ASN1_STRING *s, char *out, size_t cap, const char *what,
                 lv_err *err) LV_MUST_USE;

/* ---- digest algorithms (R4.1: SHA-2 only) -------------------------------
 * "sha256", "sha384", "sha512" (also "SHA-256", ...); NULL otherwise. */
const EVP_MD *keyd_md_by_name(const char *name);
/* 2.16.840.1.101.3.4.2.1 (SHA-256), .2 (SHA-384), .3 (SHA-512); NULL
 * otherwise. */
const EVP_MD *keyd_md_by_oid(const char *oid);
/* The canonical name of one of those ("sha256"), "" otherwise. */
const char *keyd_md_name(const EVP_MD *md);
/* Its OID, "" otherwise. */
const char *keyd_md_oid(const EVP_MD *md);

/* ---- frames over a stream socket ---------------------------------------- */

/* Parses the 4-byte header: LV_ETOOBIG over max, LV_EINVAL for 0. */
int keyd_frame_length(const unsigned char hdr[4], size_t max, size_t *len,
                      lv_err *err) LV_MUST_USE;
/* Writes one frame within timeout_ms (LV_EBUSY on timeout, LV_EIO when
 * the peer is gone). */
int keyd_frame_write(int fd, const unsigned char *msg, size_t len,
                     int timeout_ms, lv_err *err) LV_MUST_USE;
/* Reads one frame.  Waits up to idle_ms (-1: forever) for its first byte,
 * then timeout_ms for the rest.  Returns 1 when the peer closed between
 * frames, 0 with *msg (malloc) and *len on success; LV_EBUSY on a
 * timeout, LV_ETOOBIG / LV_EINVAL for a bad header, LV_EIO when the peer
 * closed mid-frame or the socket failed. */
int keyd_frame_read(int fd, size_t max, int idle_ms, int timeout_ms,
                    unsigned char **msg, size_t *len, lv_err *err) LV_MUST_USE;

#endif
