/* Private to http/: the route tables of each API file and helpers shared by
 * the server and the handlers. */
#ifndef LLAVE_HTTP_INTERNAL_H
#define LLAVE_HTTP_INTERNAL_H

#include "http/http.h"

/* One table per API file (DESIGN.md: one handler file per API). */
extern const lv_http_route http_health_routes[]; /* http_health.c */
extern const lv_http_route http_audit_routes[];  /* http_audit.c */
extern const lv_http_route http_unseal_routes[]; /* http_unseal.c */
extern const lv_http_route http_repo_routes[];   /* http_repo.c */
extern const lv_http_route http_auth_routes[];   /* http_auth.c */
extern const lv_http_route http_tsa_routes[];    /* http_tsa.c */
extern const lv_http_route http_ocsp_routes[];   /* http_ocsp.c */
extern const lv_http_route http_crl_routes[];    /* http_crl.c */
extern const lv_http_route http_ra_routes[];     /* http_ra.c */
extern const lv_http_route http_clave_routes[];  /* http_clave.c */
extern const lv_http_route http_csc_routes[];    /* http_csc.c */
extern const lv_http_route http_web_routes[];    /* http_web.c */

/* GET /ocsp/{request*} (RFC 6960 A.1): the DER request from the path tail
 * (base64, URL-encoded; base64url and missing padding tolerated).  Caller
 * frees *der; LV_EINVAL when it is not base64, LV_ETOOBIG past the limit.
 * fuzz/fuzz_url_b64.c drives it. */
int http_ocsp_path_decode(const char *tail, unsigned char **der, size_t *len);

/* JSON error with an explicit status, for the router's own answers whose
 * status no LV_E code maps to (405). */
int http_resp_error_status(lv_http_resp *r, int status, int code,
                           const char *msg);

/* Authorization for a handler (http_auth.c): reads "Authorization: Bearer
 * <token>", checks it with auth_session_check and requires one of `roles`
 * (0: any valid session; LV_ROLE_CITIZEN: a citizen's session).  Returns 0
 * with *who filled, or a negative code with resp already holding the JSON
 * error (401 with WWW-Authenticate, 403, 503 without auth context), so a
 * handler starts with
 *     lv_principal who;
 *     lv_store *st;
 *     if (http_auth_require(app, req, resp, LV_ROLE_RA_OFFICER, &st, &who) < 0)
 *         return 0;
 * and uses who.actor in the audit trail.  st receives the thread's store
 * (may be NULL). */
int http_auth_require(lv_app *app, const lv_http_req *req, lv_http_resp *resp,
                      unsigned roles, lv_store **st, lv_principal *who);

#endif
