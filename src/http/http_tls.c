/* llaved's own https (issue 17 item 4): the certificate, key and client
 * certificate issuers libmicrohttpd's GnuTLS is given, and the client
 * certificates copied out of a session for the handlers.  Why here and not
 * a TLS-terminating proxy: a client certificate then never crosses a hop
 * whose headers would have to be trusted (docs/OPERATIONS.md "TLS"). */
#define _GNU_SOURCE /* memmem */
#include "http/http_internal.h"

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TLS_PEM_MAX ((size_t)1024 * 1024)

struct http_tls {
    lv_buf cert, key, trust; /* NUL-terminated PEM */
};

static int tls_path(const lv_config *cfg, const char *name, char *out,
                    size_t cap, lv_err *err)
{
    int n = name[0] == '/' ? snprintf(out, cap, "%s", name)
                           : snprintf(out, cap, "%s/%s", cfg->dir, name);
    if (n < 0 || (size_t)n >= cap)
        return lv_fail(err, LV_EINVAL, "TLS file name too long: %s", name);
    return 0;
}

static int tls_exists(const lv_config *cfg, const char *name)
{
    char path[1024];
    lv_err err = {0};
    return tls_path(cfg, name, path, sizeof path, &err) == 0 &&
           access(path, R_OK) == 0;
}

/* Appends a PEM file whole to b (not NUL-terminated: tls_end). */
static int tls_read(const lv_config *cfg, const char *key, const char *name,
                    lv_buf *b, lv_err *err)
{
    char path[1024];
    LV_TRY(tls_path(cfg, name, path, sizeof path, err));
    unsigned char *data = NULL;
    size_t len = 0;
    if (lv_file_read(path, &data, &len, TLS_PEM_MAX, err) < 0)
        return lv_fail(err, LV_EINVAL, "%s %s cannot be read", key, path);
    int pem = memmem(data, len, "-----BEGIN ", 11) != NULL;
    int rc = !pem ? lv_fail(err, LV_EINVAL, "%s %s is not PEM", key, path)
             : lv_buf_append(b, data, len) < 0
                 ? lv_fail(err, LV_ENOMEM, "out of memory")
                 : 0;
    OPENSSL_cleanse(data, len);
    free(data);
    return rc;
}

/* libmicrohttpd takes the PEM as a C string. */
static int tls_end(lv_buf *b, lv_err *err)
{
    return lv_buf_append(b, "", 1) < 0
               ? lv_fail(err, LV_ENOMEM, "out of memory")
               : 0;
}

/* The issuers a client certificate may come from: every CA of ours (an
 * operator's certificate, issue 17 item 4), the recognised e-certificate
 * issuers of telematic registration (cfg->ecert_trust_file, R2.2) and
 * cfg->tls_client_ca_file. */
static int tls_trust(const lv_config *cfg, const lv_ca *ca, lv_buf *b,
                     lv_err *err)
{
    size_t n = 0;
    const lv_ca_entry *e = ca ? ca_entries(ca, &n) : NULL;
    BIO *mem = BIO_new(BIO_s_mem());
    if (!mem)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (X509_check_ca(e[i].cert) > 0 && !PEM_write_bio_X509(mem, e[i].cert))
            n = 0;
    char *pem = NULL;
    long len = BIO_get_mem_data(mem, &pem);
    int rc = len > 0 ? lv_buf_append(b, pem, (size_t)len) : 0;
    BIO_free(mem);
    if (rc < 0)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    /* the recognised e-certificate issuers of telematic registration (R2.2);
     * GnuTLS takes the CERTIFICATE blocks and skips the CRLs */
    if (cfg->ecert_trust_file[0] && tls_exists(cfg, cfg->ecert_trust_file))
        LV_TRY(
            tls_read(cfg, "ecert_trust_file", cfg->ecert_trust_file, b, err));
    if (cfg->tls_client_ca_file[0])
        LV_TRY(tls_read(cfg, "tls_client_ca_file", cfg->tls_client_ca_file, b,
                        err));
    return tls_end(b, err);
}

int http_tls_load(const lv_config *cfg, const lv_ca *ca, http_tls **out,
                  lv_err *err)
{
    http_tls *t = calloc(1, sizeof *t);
    if (!t)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc;
    LV_TRY_GOTO(
        rc, tls_read(cfg, "tls_cert_file", cfg->tls_cert_file, &t->cert, err),
        fail);
    LV_TRY_GOTO(rc, tls_end(&t->cert, err), fail);
    LV_TRY_GOTO(rc,
                tls_read(cfg, "tls_key_file", cfg->tls_key_file, &t->key, err),
                fail);
    LV_TRY_GOTO(rc, tls_end(&t->key, err), fail);
    LV_TRY_GOTO(rc, tls_trust(cfg, ca, &t->trust, err), fail);
    *out = t;
    return 0;
fail:
    http_tls_free(t);
    return rc;
}

void http_tls_pems(const http_tls *t, http_tls_pem *out)
{
    out->cert = (const char *)t->cert.data;
    out->key = (const char *)t->key.data;
    /* an empty bundle: no CA of ours yet, none configured: ask for none */
    out->trust = t->trust.len > 1 ? (const char *)t->trust.data : NULL;
}

void http_tls_free(http_tls *t)
{
    if (!t)
        return;
    lv_buf_free(&t->cert);
    if (t->key.data)
        OPENSSL_cleanse(t->key.data, t->key.len);
    lv_buf_free(&t->key);
    lv_buf_free(&t->trust);
    free(t);
}

/* ---- the client's certificates ------------------------------------------ */

int http_peer_copy(struct MHD_Connection *conn, http_peer *out)
{
    memset(out, 0, sizeof *out);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return 0;
    gnutls_session_t session = (gnutls_session_t)ci->tls_session;
    if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509)
        return 0;
    unsigned n = 0;
    const gnutls_datum_t *list = gnutls_certificate_get_peers(session, &n);
    for (unsigned i = 0; list && i < n && i < HTTP_PEER_MAX; i++) {
        out->der[i] = malloc(list[i].size ? list[i].size : 1);
        if (!out->der[i]) {
            http_peer_free(out);
            return -1;
        }
        memcpy(out->der[i], list[i].data, list[i].size);
        out->len[i] = list[i].size;
        out->n++;
    }
    return 0;
}

void http_peer_free(http_peer *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->der[i]);
    memset(p, 0, sizeof *p);
}
