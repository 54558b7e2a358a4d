/* repo/ — the public repository (R8.1, R8.2, CPS §2): the policy documents
 * in DIR/repository/ (a placeholder CPS and PDS compiled in until the
 * operator puts their own), the index of CA certificates, CRLs, documents
 * and published certificates, and the holder's consent that lets an issued
 * certificate be published.  Reading is public; every change goes through
 * the operator console and is audited.
 *
 * Depends on core/, store/, audit/, ca/, crl/. */
#ifndef LLAVE_REPO_H
#define LLAVE_REPO_H

#include "ca/ca.h"
#include "core/core.h"

typedef struct lv_repo_doc {
    const char *name; /* file name under DIR/repository/ and URL */
    const char *content_type;
    const char *title;
    const char *lang; /* "es", "en" */
} lv_repo_doc;

/* The policy documents the repository serves (CPS and PDS, Spanish and
 * English, PDF). */
const lv_repo_doc *repo_docs(size_t *count);
const lv_repo_doc *repo_doc_find(const char *name);
/* Copies the built-in placeholder documents into DIR/repository/ where the
 * operator has not put their own (never overwrites). */
int repo_install_defaults(const lv_config *cfg, lv_err *err) LV_MUST_USE;
/* Reads DIR/repository/<doc->name>; the caller frees *data. */
int repo_doc_read(const lv_config *cfg, const lv_repo_doc *doc,
                  unsigned char **data, size_t *len, lv_err *err) LV_MUST_USE;
/* R8.2: replaces a policy document with the operator's own (a PDF named in
 * repo_docs), written atomically and audited as repository.put with its
 * size and SHA-256. */
int repo_doc_put(lv_ca *ca, lv_store *st, const char *name,
                 const unsigned char *data, size_t len, const char *actor,
                 lv_err *err) LV_MUST_USE;
/* The repository index as JSON: CA certificates (status, validity,
 * SHA-256), CRLs, policy documents (SHA-256) and the certificates whose
 * holders consented (page of `limit` from `offset`). */
int repo_index(lv_ca *ca, lv_store *st, int64_t offset, int64_t limit,
               json_t **out, lv_err *err) LV_MUST_USE;
/* R8.1: records (consent 1) or withdraws (0) the consent to publish one
 * issued certificate; audited as cert.publish / cert.unpublish. */
int repo_cert_publish(lv_ca *ca, lv_store *st, const char *serial, int consent,
                      const char *actor, lv_err *err) LV_MUST_USE;
/* DER of a certificate whose holder consented; LV_ENOTFOUND otherwise. */
int repo_published_cert(lv_ca *ca, lv_store *st, const char *serial,
                        unsigned char **der, size_t *len,
                        lv_err *err) LV_MUST_USE;
/* A CA or service certificate from the store (one created after this
 * context was loaded, e.g. by a rollover); caller frees *der. */
int repo_ca_cert(lv_ca *ca, lv_store *st, const char *name, unsigned char **der,
                 size_t *len, lv_err *err) LV_MUST_USE;

#endif
