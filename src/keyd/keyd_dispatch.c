/* The request table (OpenSSH's monitor answers only the requests of its
 * table; CEN EN 419 241-2 asks the SAM to expose only the functions of its
 * interface).  A request is answered only when its kind is a row here and
 * the caller's class is one the row permits; anything else — an unknown
 * kind (an "export key", say), a class not permitted, a malformed or
 * non-canonical frame, another protocol version — gets an error response
 * and a keyd.refused audit entry.  Every frame gets exactly one answer. */
#include "keyd/keyd_internal.h"

#include <string.h>

#define CALLER(c) (1u << (c))
/* llaved and the console: the callers that use keys */
#define KEY_USERS (CALLER(KEYD_CALLER_SERVICE) | CALLER(KEYD_CALLER_CONSOLE))
#define ANY_CALLER (KEY_USERS | CALLER(KEYD_CALLER_CUSTODIAN))

typedef struct keyd_entry {
    int kind;
    unsigned callers;       /* CALLER() bits */
    ASN1_ITEM_EXP *req_it;  /* NULL: the request has no body */
    ASN1_ITEM_EXP *resp_it; /* the response body */
    keyd_handler fn;
} keyd_entry;

/* Who may use what (docs/ARCHITECTURE.md "llave-keyd"):
 * - shares come only from custodians (`llave unseal`), never through the
 *   front end (issue 12 item 2);
 * - citizens' keys sign only for the front end that verified the
 *   citizen (R5.2): no operator path leads to them (CPS §6.2.7.2);
 * - CA and service keys sign TBS for the service and the console, which
 *   assemble certificates, CRLs, OCSP and time-stamp responses;
 * - CA and service keys are made only by the console (ceremony, CA
 *   change-over, TSA units: custody acts of CPS §6.1.1), never by the
 *   front end;
 * - a key is destroyed only while no CA or certificate row names it (an
 *   issuance that failed), so no caller can destroy a key in use. */
static const keyd_entry TABLE[] = {
    {KEYD_STATUS, ANY_CALLER, NULL, ASN1_ITEM_ref(KEYD_STATUS_RESP),
     keyd_status},
    {KEYD_UNSEAL_SHARE, CALLER(KEYD_CALLER_CUSTODIAN),
     ASN1_ITEM_ref(KEYD_UNSEAL_REQ), ASN1_ITEM_ref(KEYD_UNSEAL_RESP),
     keyd_unseal_share},
    {KEYD_PUBLIC_KEY, KEY_USERS, ASN1_ITEM_ref(KEYD_KEY_REQ),
     ASN1_ITEM_ref(KEYD_PUBKEY_RESP), keyd_public_key},
    {KEYD_SIGN_TBS, KEY_USERS, ASN1_ITEM_ref(KEYD_SIGN_TBS_REQ),
     ASN1_ITEM_ref(KEYD_SIG_RESP), keyd_sign_tbs},
    {KEYD_GENERATE_CITIZEN_KEY, KEY_USERS, ASN1_ITEM_ref(KEYD_GENERATE_REQ),
     ASN1_ITEM_ref(KEYD_GENERATE_RESP), keyd_generate_citizen_key},
    {KEYD_SIGN_CITIZEN_DIGESTS, CALLER(KEYD_CALLER_SERVICE),
     ASN1_ITEM_ref(KEYD_SIGN_DIGESTS_REQ), ASN1_ITEM_ref(KEYD_SIGS_RESP),
     keyd_sign_citizen_digests},
    {KEYD_GENERATE_KEY, CALLER(KEYD_CALLER_CONSOLE),
     ASN1_ITEM_ref(KEYD_GENERATE_KEY_REQ), ASN1_ITEM_ref(KEYD_GENERATE_RESP),
     keyd_generate_key},
    {KEYD_DESTROY_KEY, KEY_USERS, ASN1_ITEM_ref(KEYD_KEY_REQ),
     ASN1_ITEM_ref(KEYD_KEY_REQ), keyd_destroy_key},
};

static const keyd_entry *table_find(int kind)
{
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (TABLE[i].kind == kind)
            return &TABLE[i];
    return NULL;
}

static int caller_known(int caller)
{
    return caller >= KEYD_CALLER_SERVICE && caller <= KEYD_CALLER_CUSTODIAN;
}

/* ---- responses ---------------------------------------------------------- */

static int response_fill(KEYD_RESPONSE *r, int kind, uint32_t id, int status,
                         const char *message, const unsigned char *body,
                         size_t body_len)
{
    char msg[KEYD_MESSAGE_MAX];
    /* cut to the protocol's limit (an lv_err message may be longer) */
    size_t n = message ? strnlen(message, sizeof msg - 1) : 0;
    if (n)
        memcpy(msg, message, n);
    msg[n] = '\0';
    r->version = KEYD_PROTO_VERSION;
    r->kind = kind;
    r->id = id;
    r->status = status;
    if (keyd_str_set(r->message, msg) < 0)
        return LV_ENOMEM;
    if (!body)
        return 0;
    r->body = ASN1_OCTET_STRING_new();
    if (!r->body || body_len > INT32_MAX ||
        !ASN1_OCTET_STRING_set(r->body, body, (int)body_len))
        return LV_ENOMEM;
    return 0;
}

static int response_encode(int kind, uint32_t id, int status,
                           const char *message, const unsigned char *body,
                           size_t body_len, unsigned char **out,
                           size_t *out_len)
{
    KEYD_RESPONSE *r = KEYD_RESPONSE_new();
    int rc = r ? response_fill(r, kind, id, status, message, body, body_len)
               : LV_ENOMEM;
    if (rc == 0)
        rc = keyd_der_encode(ASN1_ITEM_rptr(KEYD_RESPONSE), r, out, out_len,
                             NULL);
    KEYD_RESPONSE_free(r);
    return rc;
}

int keyd_error_response(int kind, uint32_t id, int status, const char *message,
                        unsigned char **out, size_t *out_len)
{
    return response_encode(kind, id, status, message, NULL, 0, out, out_len);
}

/* ---- the table's gate ---------------------------------------------------- */

/* The envelope, the row and the caller's class.  Fills call even when the
 * envelope is refused, so that the answer and the audit name the id. */
static int admit(keyd_call *call, const unsigned char *msg, size_t len,
                 KEYD_REQUEST **req, const keyd_entry **row, lv_err *err)
{
    int rc = keyd_request_decode(msg, len, req, err);
    if (*req) {
        call->kind = (*req)->kind;
        call->caller = (*req)->caller;
        call->id = (*req)->id;
    }
    LV_TRY(rc);
    if (!caller_known(call->caller))
        return lv_fail(err, LV_EPERM, "caller class %d is not one of keyd's",
                       call->caller);
    *row = table_find(call->kind);
    if (!*row)
        return lv_fail(err, LV_EPERM,
                       "request kind %d is not in keyd's request table",
                       call->kind);
    if (!((*row)->callers & CALLER(call->caller)))
        return lv_fail(err, LV_EPERM, "%s is not permitted to a %s caller",
                       keyd_kind_name(call->kind),
                       keyd_caller_name(call->caller));
    return 0;
}

static int body_decode(const keyd_entry *row, const KEYD_REQUEST *req,
                       void **body, lv_err *err)
{
    *body = NULL;
    if (!row->req_it)
        return req->body ? lv_fail(err, LV_EINVAL, "%s takes no body",
                                   keyd_kind_name(row->kind))
                         : 0;
    if (!req->body)
        return lv_fail(err, LV_EINVAL, "%s needs a body",
                       keyd_kind_name(row->kind));
    return keyd_der_decode(ASN1_ITEM_ptr(row->req_it),
                           ASN1_STRING_get0_data(req->body),
                           (size_t)ASN1_STRING_length(req->body), body, err);
}

/* Operational states are not refusals: a sealed store or a busy database
 * is logged, not written to the trail (a sealed keyd would otherwise add
 * an entry for every OCSP refresh attempt). */
static int is_refusal(int code)
{
    return code != LV_ESEALED && code != LV_EBUSY && code != LV_ENOMEM &&
           code != LV_ESTORE;
}

static int serve(keyd_call *call, const keyd_entry *row, void *body,
                 unsigned char **resp_der, size_t *resp_len, lv_err *err)
{
    void *resp = NULL;
    LV_TRY(row->fn(call, body, &resp, err));
    int rc = keyd_der_encode(ASN1_ITEM_ptr(row->resp_it), resp, resp_der,
                             resp_len, err);
    ASN1_item_free(resp, ASN1_ITEM_ptr(row->resp_it));
    return rc;
}

int keyd_dispatch(keyd_conn *c, const unsigned char *msg, size_t len,
                  unsigned char **out, size_t *out_len)
{
    keyd_call call = {.conn = c};
    KEYD_REQUEST *req = NULL;
    const keyd_entry *row = NULL;
    void *body = NULL;
    unsigned char *resp = NULL;
    size_t resp_len = 0;
    lv_err err = {0};
    int rc = admit(&call, msg, len, &req, &row, &err);
    if (rc == 0)
        rc = body_decode(row, req, &body, &err);
    if (rc == 0)
        rc = serve(&call, row, body, &resp, &resp_len, &err);
    if (rc < 0 && !call.audited && is_refusal(rc))
        keyd_audit_refusal(c, &call, req ? keyd_kind_name(call.kind) : "frame",
                           rc, err.msg);
    if (rc < 0)
        lv_log(LV_LOG_INFO, "llave-keyd: %s from pid %ld refused: %s",
               keyd_kind_name(call.kind), (long)c->pid, err.msg);
    int erc =
        response_encode(call.kind, call.id, rc < 0 ? rc : 0,
                        rc < 0 ? err.msg : "", resp, resp_len, out, out_len);
    OPENSSL_free(resp);
    if (row && body)
        ASN1_item_free(body, ASN1_ITEM_ptr(row->req_it));
    KEYD_REQUEST_free(req);
    return erc;
}
