/* Internal to custody/: what the ceremony and the change-over share. */
#ifndef LLAVE_CUSTODY_INTERNAL_H
#define LLAVE_CUSTODY_INTERNAL_H

#include "crl/crl.h"
#include "custody/custody.h"
#include "ocsp/ocsp.h"
#include "store/store.h"
#include "store/store_ca.h"
#include "store/store_cert.h"
#include "store/store_crl.h"
#include "tsa/tsa.h"

/* The extensions of an issuing CA certificate of `role` signed by
 * `issuer` (the root), as the ceremony makes them; the change-over and
 * `ca add-tls` reuse them.  ceremony.c */
int custody_ca_extensions(X509 *cert, X509 *issuer, const char *role,
                          const lv_config *cfg, lv_err *err);

/* An issuing CA's row and status (LV_EINVAL for the root or a service
 * certificate: only issuing CAs are compromised or rolled over).
 * compromise.c */
int custody_load_issuing(lv_store *st, const char *name, lv_ca_rec *rec,
                         lv_ca_status *s, lv_err *err);
/* CPS §5.4.1: a refused custody operation is audited with why. */
void custody_audit_refusal(lv_store *st, const char *actor, const char *event,
                           const char *name, const lv_err *why);

#endif
