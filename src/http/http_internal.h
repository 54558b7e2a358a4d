/* Private to http/: the route tables of each API file and helpers shared by
 * the server and the handlers. */
#ifndef LLAVE_HTTP_INTERNAL_H
#define LLAVE_HTTP_INTERNAL_H

#include "http/http.h"

/* One table per API file (DESIGN.md: one handler file per API). */
extern const lv_http_route http_health_routes[]; /* http_health.c */
extern const lv_http_route http_repo_routes[];   /* http_repo.c */

/* JSON error with an explicit status, for the router's own answers whose
 * status no LV_E code maps to (405). */
int http_resp_error_status(lv_http_resp *r, int status, int code,
                           const char *msg);

#endif
