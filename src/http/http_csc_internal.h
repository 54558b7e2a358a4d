/* Private to http/: the CSC API's helpers (http_csc_util.c) that its
 * methods (http_csc.c) use. */
#ifndef LLAVE_HTTP_CSC_INTERNAL_H
#define LLAVE_HTTP_CSC_INTERNAL_H

#include "http/http_internal.h"
#include "sign/sign.h"

#include <openssl/x509.h>

/* The caller and the body of a CSC method that needs a citizen's access
 * token, checked in the order http_access.c keeps for other routes
 * (caller, then body), with the CSC API's answers (v2.0.0.2 §11: 400
 * invalid_request "Malformed authorization header" for an Authorization
 * header that is not "Bearer <b64token>" (RFC 6750 §2.1), 401 invalid_token,
 * 403 access_denied, 400 invalid_request for a body that is not JSON or
 * breaks schema).  0: *out is req with who and json filled (the caller
 * json_decref's out->json); 1: refused, resp filled; < 0: no answer. */
int http_csc_gate(lv_app *app, const lv_http_req *req, lv_http_resp *resp,
                  const http_body_field *schema, lv_http_req *out);

/* 429 too_many_requests with err's Retry-After in seconds (RFC 6585 §4,
 * RFC 9110 §10.2.3; CSC v2.0.0.2 §10.1): a throttled login, PIN, OTP or
 * OAuth client secret. */
int http_csc_limit(lv_http_resp *resp, const lv_err *err);

/* 204 No Content: no body and no Content-Type (RFC 9110 §15.3.5). */
int http_csc_no_content(lv_http_resp *resp);

/* signDoc's validationInfo (CSC API v2.0.0.2 §11.11): what validates the
 * signature of cred (and, with timestamp, of our TSU's token) and is not in
 * the signature: the CA certificates above the issuing CA and the TSU's
 * CAs, the signer's OCSP response and the CAs' newest CRLs, base64 DER. */
int http_csc_validation_info(lv_app *app, lv_store *st,
                             const lv_sign_cred *cred, int timestamp,
                             json_t **out, lv_err *err);

/* GET /csc/logo.png: info's logo (PNG, 64 x 64). */
int http_csc_logo(lv_app *app, const lv_http_req *req, lv_http_resp *resp);
/* Any other path under /csc/: 501 for a CSC method llave does not
 * implement, 405 with Allow for a served path under another method, 404;
 * each with the CSC error body. */
int http_csc_fallback(lv_app *app, const lv_http_req *req, lv_http_resp *resp);

#endif
