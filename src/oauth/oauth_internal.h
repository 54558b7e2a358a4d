/* Private to oauth/: helpers its files share. */
#ifndef LLAVE_OAUTH_INTERNAL_H
#define LLAVE_OAUTH_INTERNAL_H

#include "audit/audit.h"
#include "oauth/oauth.h"
#include "store/store.h"
#include "store/store_oauth.h"
#include "store/store_sign.h"

#include <jansson.h>

/* A success is audited with sign_audit (sign.h).  A refusal, in its own
 * transaction (best effort, CPS §5.4.1). */
void oauth_audit_refusal(lv_store *st, const char *actor, const char *event,
                         const char *object, const char *error,
                         const lv_err *reason);

/* The redirect URIs of a client (none: not an OAuth client). */
typedef struct oauth_uris {
    size_t n;
    char uri[OAUTH_URIS_MAX][LV_OAUTH_URI_MAX + 1];
} oauth_uris;
int oauth_uris_load(lv_store *st, const char *client_id, oauth_uris *out,
                    lv_err *err);
int oauth_uris_has(const oauth_uris *u, const char *uri);

/* uri with '?' or '&' and the parameters appended; LV_ETOOBIG past cap. */
int oauth_location(char *out, size_t cap, const char *uri, const char *params,
                   const char *state, lv_err *err);

/* SHA-256("llave-oauth-sad-v1" 0 code): what a credential code's SAD is
 * XORed with (oauth_page.c seals, oauth_token.c opens). */
int oauth_sad_mask(const char *code, unsigned char mask[32]);

/* "app:<client_id>" */
void oauth_client_actor(const char *client_id, char out[96]);

#endif
