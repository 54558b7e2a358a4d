/* Backup custody (R5.8, R9.4, CPS §5.5.3; issue 8):
 *
 *   llave -d DIR backup create OUT --recipient CUSTODIAN_CERT.pem
 *   llave restore BUNDLE DIR --key CUSTODIAN_KEY.pem [--cert CERT.pem]
 *
 * A bundle is a CMS AuthEnvelopedData (RFC 5083, AES-256-GCM: encrypted
 * and integrity-protected) addressed to the backup custodian's certificate,
 * DER, whose content is a tar archive (libarchive) of
 *
 *   manifest.json        format, time, schema version, audit head, and
 *                        the SHA-256 and size of every other file
 *   llave.db             a consistent snapshot (SQLite online backup)
 *   llave.json, auth.key, ecert-trust.pem   when present
 *   keys/keystore.json, keys/<id>.key       still sealed under the master
 *                        key: the restored store needs 2 of 3 shares, and
 *                        signer keys remain usable only through their
 *                        citizens' authorization (R5.2)
 *   ceremony/, repository/                  when present
 *
 * issue 16 item 5: on a PKCS#11 install the CA and service keys are not in
 * the bundle but on the token; the manifest's "keystore" names the module,
 * the token and every object the install depends on (label, CKA_ID,
 * class), and a restore logs in to that token (PIN from LLAVE_PKCS11_PIN or
 * --pkcs11-pin-file) and refuses, before writing anything, when one is
 * missing: the token is backed up and restored with the vendor's tools.
 *
 * The custodian can inspect it alone:
 *   openssl cms -decrypt -inform DER -in OUT -recip CERT -inkey KEY | tar t
 *
 * Restore refuses a non-empty DIR, decrypts (a flipped byte fails the GCM
 * tag: nothing is written), checks every file against the manifest,
 * writes into a fresh directory beside DIR, verifies the audit chain and
 * its seals, audits "backup.restore" there and only then renames it to DIR. */
#include "audit/audit.h"
#include "cli/cli.h"
#include "keys/keys.h"
#include "store/store.h"
#include "store/store_audit.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUNDLE_MAX ((size_t)4 << 30)
/* Names a bundle may hold: top-level files, or one level under these. */
static const char *const TOP_FILES[] = {
    "manifest.json", "llave.db", "llave.json", "auth.key", "ecert-trust.pem"};
static const char *const SUB_DIRS[] = {"keys", "ceremony", "repository"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the tar archive --------------------------------------------------------
 */
typedef struct tar_out {
    struct archive *a;
    lv_buf buf;
    json_t *files;
} tar_out;

static la_ssize_t tar_write(struct archive *a, void *arg, const void *p,
                            size_t n)
{
    (void)a;
    return lv_buf_append(arg, p, n) == 0 ? (la_ssize_t)n : -1;
}

static int tar_open(tar_out *t)
{
    t->a = archive_write_new();
    t->files = json_array();
    if (!t->a || !t->files ||
        archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
        archive_write_open(t->a, &t->buf, NULL, tar_write, NULL) != ARCHIVE_OK)
        return LV_ENOMEM;
    return 0;
}

static int tar_add(tar_out *t, const char *name, const void *p, size_t n,
                   int listed, lv_err *err)
{
    char hex[65];
    struct archive_entry *e = archive_entry_new();
    int ok = e != NULL;
    if (ok) {
        archive_entry_set_pathname(e, name);
        archive_entry_set_size(e, (la_int64_t)n);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0600);
        archive_entry_set_mtime(e, (time_t)lv_now(), 0);
        ok = archive_write_header(t->a, e) == ARCHIVE_OK &&
             (n == 0 || archive_write_data(t->a, p, n) == (la_ssize_t)n);
    }
    archive_entry_free(e);
    if (!ok)
        return lv_fail(err, LV_EIO, "cannot add %s to the bundle: %s", name,
                       archive_error_string(t->a));
    if (!listed)
        return 0;
    LV_TRY(lv_sha256_hex(p, n, hex));
    return json_array_append_new(t->files, json_pack("{s:s, s:s, s:I}", "path",
                                                     name, "sha256", hex,
                                                     "bytes", (json_int_t)n));
}

static int tar_add_file(tar_out *t, const char *dir, const char *name,
                        lv_err *err)
{
    char path[1200];
    unsigned char *data = NULL;
    size_t len = 0;
    LV_TRY(lv_path_join(path, sizeof path, dir, name));
    LV_TRY(lv_file_read(path, &data, &len, BUNDLE_MAX, err));
    int rc = tar_add(t, name, data, len, 1, err);
    OPENSSL_cleanse(data, len); /* auth.key is a secret */
    free(data);
    return rc;
}

/* Regular files of DIR/sub (no recursion: the layout is flat). */
static int tar_add_dir(tar_out *t, const char *dir, const char *sub,
                       lv_err *err)
{
    char path[1200], rel[600];
    LV_TRY(lv_path_join(path, sizeof path, dir, sub));
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT
                   ? 0
                   : lv_fail(err, LV_EIO, "%s: %s", path, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        struct stat sb;
        char full[1900];
        snprintf(rel, sizeof rel, "%s/%.255s", sub, e->d_name);
        snprintf(full, sizeof full, "%s/%s", dir, rel);
        if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp.") ||
            strstr(e->d_name, ".new.") || stat(full, &sb) != 0 ||
            !S_ISREG(sb.st_mode))
            continue;
        rc = tar_add_file(t, dir, rel, err);
    }
    closedir(d);
    return rc;
}

/* ---- create ---------------------------------------------------------------
 */
static json_t *audit_head(lv_store *st)
{
    lv_audit_row last;
    if (store_audit_last(st, &last, NULL) < 0)
        return json_null();
    json_t *o =
        json_pack("{s:I, s:s}", "seq", (json_int_t)last.seq, "hash", last.hash);
    store_audit_row_free(&last);
    return o;
}

static int snapshot_db(cli_ctx *ctx, tar_out *t, char *tmp, size_t cap,
                       lv_err *err)
{
    char base[1100];
    unsigned char raw[8];
    char hex[17];
    LV_TRY(lv_random(raw, sizeof raw));
    lv_hex_encode(raw, sizeof raw, hex);
    snprintf(base, sizeof base, "backup-%s.db", hex);
    LV_TRY(lv_path_join(tmp, cap, ctx->dir, base));
    LV_TRY(store_backup(ctx->st, tmp, err));
    unsigned char *data = NULL;
    size_t len = 0;
    int rc = lv_file_read(tmp, &data, &len, BUNDLE_MAX, err);
    if (rc == 0)
        rc = tar_add(t, "llave.db", data, len, 1, err);
    free(data);
    return rc;
}

static int build_tar(cli_ctx *ctx, tar_out *t, lv_err *err)
{
    char tmp[1200] = "", created[32];
    int version = 0;
    LV_TRY(tar_open(t) < 0 ? lv_fail(err, LV_ENOMEM, "out of memory") : 0);
    int rc = snapshot_db(ctx, t, tmp, sizeof tmp, err);
    if (tmp[0])
        unlink(tmp);
    LV_TRY(rc);
    for (size_t i = 2; i < NELEM(TOP_FILES); i++) {
        char path[1200];
        LV_TRY(lv_path_join(path, sizeof path, ctx->dir, TOP_FILES[i]));
        if (access(path, F_OK) == 0)
            LV_TRY(tar_add_file(t, ctx->dir, TOP_FILES[i], err));
    }
    for (size_t i = 0; i < NELEM(SUB_DIRS); i++)
        LV_TRY(tar_add_dir(t, ctx->dir, SUB_DIRS[i], err));
    LV_TRY(store_schema_version(ctx->st, &version, err));
    json_t *deps = NULL;
    LV_TRY(keys_dependencies(ctx->dir, &deps, err));
    lv_time_iso(lv_now(), created);
    json_t *m = json_pack(
        "{s:s, s:i, s:s, s:s, s:i, s:o, s:O, s:o}", "format", "llave-backup",
        "version", 1, "created", created, "kind", "full", "schema", version,
        "audit_head", audit_head(ctx->st), "files", t->files, "keystore", deps);
    char *text = m ? json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(m);
    rc = text ? tar_add(t, "manifest.json", text, strlen(text), 0, err)
              : lv_fail(err, LV_ENOMEM, "out of memory");
    free(text);
    LV_TRY(rc);
    if (archive_write_close(t->a) != ARCHIVE_OK)
        return lv_fail(err, LV_EIO, "cannot finish the bundle");
    return 0;
}

static int load_cert(const char *path, X509 **out, lv_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return lv_fail(err, LV_EIO, "cannot read %s", path);
    *out = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return *out
               ? 0
               : lv_fail_ssl(err, LV_EINVAL, "%s: not a PEM certificate", path);
}

/* RFC 5083 AuthEnvelopedData with AES-256-GCM to the custodian. */
static int encrypt_to(X509 *recipient, const lv_buf *plain, unsigned char **der,
                      int *der_len, lv_err *err)
{
    STACK_OF(X509) *to = sk_X509_new_null();
    BIO *in = BIO_new_mem_buf(plain->data, (int)plain->len);
    CMS_ContentInfo *cms = NULL;
    *der = NULL;
    if (to && in && sk_X509_push(to, recipient))
        cms = CMS_encrypt(to, in, EVP_aes_256_gcm(), CMS_BINARY);
    *der_len = cms ? i2d_CMS_ContentInfo(cms, der) : 0;
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    sk_X509_free(to);
    return *der_len > 0 ? 0
                        : lv_fail_ssl(err, LV_ECRYPTO,
                                      "cannot encrypt to the custodian");
}

static int backup_create(cli_ctx *ctx, const char *out, const char *cert_path)
{
    lv_err err = {0};
    tar_out t = {0};
    X509 *recipient = NULL;
    unsigned char *der = NULL;
    int der_len = 0;
    char hex[65] = "", subject[256] = "";
    struct stat sb;
    if (stat(out, &sb) == 0)
        return cli_report(lv_fail(&err, LV_EEXISTS, "%s exists", out), &err);
    int rc = load_cert(cert_path, &recipient, &err);
    if (rc == 0)
        rc = cli_open(ctx, CLI_NEED_STORE, &err);
    if (rc == 0)
        rc = build_tar(ctx, &t, &err);
    if (rc == 0)
        rc = encrypt_to(recipient, &t.buf, &der, &der_len, &err);
    if (rc == 0)
        rc = lv_file_write(out, der, (size_t)der_len, 0600, &err);
    if (rc == 0)
        rc = lv_sha256_hex(der, (size_t)der_len, hex);
    if (recipient)
        X509_NAME_oneline(X509_get_subject_name(recipient), subject,
                          sizeof subject);
    if (ctx->st) {
        lv_err ignored = {0};
        json_t *d = json_pack("{s:s, s:s, s:s, s:I}", "recipient", subject,
                              "sha256", hex, "kind", "full", "files",
                              (json_int_t)json_array_size(t.files));
        audit_log_standalone(ctx->st, ctx->actor, "backup.create", out,
                             rc < 0 ? LV_AUDIT_FAILURE : LV_AUDIT_SUCCESS, d,
                             &ignored);
        json_decref(d);
    }
    if (rc == 0)
        printf("backup bundle %s (%d bytes, SHA-256 %s) for %s\n", out, der_len,
               hex, subject);
    OPENSSL_free(der);
    X509_free(recipient);
    json_decref(t.files);
    archive_write_free(t.a);
    lv_buf_free_secret(&t.buf);
    return cli_report(rc, &err);
}

int cli_backup(cli_ctx *ctx, int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "create") == 0 &&
        strcmp(argv[3], "--recipient") == 0)
        return backup_create(ctx, argv[2], argv[4]);
    return cli_usage_error(
        "backup: expected `create OUT --recipient CUSTODIAN_CERT.pem`");
}

/* ---- restore
 * ------------------------------------------------------------------ */
typedef struct entry {
    char name[300];
    unsigned char *data;
    size_t len;
} entry;

typedef struct bundle {
    entry *e;
    size_t n;
    json_t *manifest;
} bundle;

static void bundle_free(bundle *b)
{
    for (size_t i = 0; i < b->n; i++) {
        OPENSSL_cleanse(b->e[i].data, b->e[i].len);
        free(b->e[i].data);
    }
    free(b->e);
    json_decref(b->manifest);
}

/* Only the names a bundle is made of: no "..", no absolute paths, no
 * links, nothing deeper than one known directory. */
static int name_ok(const char *name)
{
    for (size_t i = 0; i < NELEM(TOP_FILES); i++)
        if (strcmp(name, TOP_FILES[i]) == 0)
            return 1;
    for (size_t i = 0; i < NELEM(SUB_DIRS); i++) {
        size_t n = strlen(SUB_DIRS[i]);
        const char *rest = name + n + 1;
        if (strncmp(name, SUB_DIRS[i], n) == 0 && name[n] == '/' && *rest &&
            *rest != '.' && !strchr(rest, '/') && strlen(rest) < 256)
            return 1;
    }
    return 0;
}

static int untar_one(struct archive *a, struct archive_entry *ae, bundle *b,
                     lv_err *err)
{
    const char *name = archive_entry_pathname(ae);
    la_int64_t size = archive_entry_size(ae);
    if (!name || !name_ok(name) || archive_entry_filetype(ae) != AE_IFREG ||
        size < 0 || (size_t)size > BUNDLE_MAX)
        return lv_fail(err, LV_EINVAL, "bundle holds an unexpected entry '%s'",
                       name ? name : "?");
    entry *grown = realloc(b->e, (b->n + 1) * sizeof *b->e);
    if (!grown)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    b->e = grown;
    entry *e = &b->e[b->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->len = (size_t)size;
    e->data = malloc(e->len ? e->len : 1);
    if (!e->data ||
        (e->len && archive_read_data(a, e->data, e->len) != (la_ssize_t)e->len))
        return lv_fail(err, LV_EINVAL, "bundle entry %s is truncated", name);
    return 0;
}

static int untar(const unsigned char *p, size_t n, bundle *b, lv_err *err)
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    int rc = 0, r;
    if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_open_memory(a, p, n) != ARCHIVE_OK)
        rc = lv_fail(err, LV_EINVAL, "the bundle content is not a tar archive");
    while (rc == 0 && (r = archive_read_next_header(a, &ae)) == ARCHIVE_OK)
        rc = untar_one(a, ae, b, err);
    if (rc == 0 && r != ARCHIVE_EOF)
        rc = lv_fail(err, LV_EINVAL, "bad tar archive: %s",
                     archive_error_string(a));
    archive_read_free(a);
    return rc;
}

static const entry *bundle_find(const bundle *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->e[i].name, name) == 0)
            return &b->e[i];
    return NULL;
}

/* Every file listed with its hash, nothing unlisted but the manifest. */
static int check_manifest(bundle *b, lv_err *err)
{
    const entry *m = bundle_find(b, "manifest.json");
    if (!m ||
        !(b->manifest = json_loadb((const char *)m->data, m->len, 0, NULL)))
        return lv_fail(err, LV_EINVAL, "the bundle has no valid manifest");
    const char *fmt = lv_json_str(b->manifest, "format");
    json_t *files = json_object_get(b->manifest, "files");
    if (!fmt || strcmp(fmt, "llave-backup") != 0 || !json_is_array(files) ||
        json_array_size(files) + 1 != b->n || !bundle_find(b, "llave.db"))
        return lv_fail(err, LV_EINVAL, "the manifest does not list the bundle");
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        char hex[65];
        const char *path = lv_json_str(f, "path"),
                   *want = lv_json_str(f, "sha256");
        const entry *e = path ? bundle_find(b, path) : NULL;
        if (!e || !want || lv_sha256_hex(e->data, e->len, hex) < 0 ||
            strcmp(hex, want) != 0)
            return lv_fail(err, LV_EINVAL,
                           "bundle file %s does not match "
                           "the manifest",
                           path ? path : "?");
    }
    return 0;
}

static int decrypt_bundle(const char *path, const char *key_path,
                          const char *cert_path, lv_buf *plain, lv_err *err)
{
    unsigned char *der = NULL;
    size_t len = 0;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    LV_TRY(lv_file_read(path, &der, &len, BUNDLE_MAX, err));
    FILE *f = fopen(key_path, "r");
    if (f) {
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    int rc =
        key ? 0 : lv_fail_ssl(err, LV_EINVAL, "%s: no private key", key_path);
    if (rc == 0 && cert_path)
        rc = load_cert(cert_path, &cert, err);
    const unsigned char *p = der;
    CMS_ContentInfo *cms =
        rc == 0 ? d2i_CMS_ContentInfo(NULL, &p, (long)len) : NULL;
    BIO *out = BIO_new(BIO_s_mem());
    if (rc == 0 && (!cms || !out ||
                    CMS_decrypt(cms, key, cert, NULL, out, CMS_BINARY) != 1))
        rc = lv_fail(err, LV_EAUTH,
                     "cannot decrypt %s: not for this key, or altered "
                     "(integrity check failed); nothing was written",
                     path);
    char *data = NULL;
    long n = rc == 0 ? BIO_get_mem_data(out, &data) : 0;
    if (rc == 0 && lv_buf_append(plain, data, (size_t)n) < 0)
        rc = lv_fail(err, LV_ENOMEM, "out of memory");
    ERR_clear_error();
    BIO_free_all(out);
    CMS_ContentInfo_free(cms);
    X509_free(cert);
    EVP_PKEY_free(key);
    free(der);
    return rc;
}

static int dir_usable(const char *dir, lv_err *err)
{
    int empty = lv_dir_empty(dir, err);
    if (empty == LV_ENOTFOUND)
        return 0;
    return empty != 0 ? empty
                      : lv_fail(err, LV_EEXISTS,
                                "%s is not empty: restore only into a new "
                                "directory",
                                dir);
}

static int write_files(const bundle *b, const char *tmp, lv_err *err)
{
    for (size_t i = 0; i < NELEM(SUB_DIRS); i++) {
        char path[1200];
        LV_TRY(lv_path_join(path, sizeof path, tmp, SUB_DIRS[i]));
        LV_TRY(lv_mkdir_p(path, 0700, err));
    }
    for (size_t i = 0; i < b->n; i++) {
        char path[1200];
        if (strcmp(b->e[i].name, "manifest.json") == 0)
            continue;
        LV_TRY(lv_path_join(path, sizeof path, tmp, b->e[i].name));
        LV_TRY(lv_file_write(path, b->e[i].data, b->e[i].len, 0600, err));
    }
    return 0;
}

/* The restored trail must verify (chain and seals) before it is used;
 * the restore itself is its next entry. */
static int verify_and_audit(const char *tmp, const char *bundle_path,
                            const char *final_dir, lv_err *err)
{
    char db[1200], who[160];
    lv_store *st = NULL;
    lv_audit_report rep;
    LV_TRY(lv_path_join(db, sizeof db, tmp, "llave.db"));
    LV_TRY(store_open(db, &st, err));
    int rc = audit_verify(st, &rep, err);
    const char *user = getenv("LLAVE_OPERATOR");
    snprintf(who, sizeof who, "console:%s", user ? user : "restore");
    json_t *d = json_pack("{s:s, s:s, s:I, s:I}", "bundle", bundle_path, "into",
                          final_dir, "entries", (json_int_t)rep.entries,
                          "sealed_seq", (json_int_t)rep.sealed_seq);
    if (rc == 0)
        rc = audit_log_standalone(st, who, "backup.restore", final_dir,
                                  LV_AUDIT_SUCCESS, d, err);
    json_decref(d);
    store_close(st);
    if (rc == 0)
        printf("restored audit trail intact: %lld entries, sealed up to %lld\n",
               (long long)rep.entries, (long long)rep.sealed_seq);
    return rc;
}

static int place(const char *tmp, const char *dir, int exists, lv_err *err)
{
    if (exists && rmdir(dir) != 0)
        return lv_fail(err, LV_EIO, "%s: %s", dir, strerror(errno));
    if (rename(tmp, dir) != 0)
        return lv_fail(err, LV_EIO, "cannot move the restore into %s: %s", dir,
                       strerror(errno));
    return 0;
}

static int rm_tree(const char *dir)
{
    char path[1200];
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%.255s", dir, e->d_name);
        if (unlink(path) != 0)
            rm_tree(path);
    }
    if (d)
        closedir(d);
    return rmdir(dir);
}

/* issue 16 item 5: a PKCS#11 install's bundle is only half of it; the
 * token must hold every object the manifest names. */
static int check_token(const bundle *b, const char *pin_file, lv_err *err)
{
    const json_t *ks = json_object_get(b->manifest, "keystore");
    const char *backend = lv_json_str(ks, "backend");
    char pin[CLI_PIN_MAX + 1];
    if (!backend || strcmp(backend, "pkcs11") != 0)
        return 0;
    lv_p11_conf conf = {lv_json_str(ks, "module"), lv_json_str(ks, "token"),
                        pin};
    if (!conf.module || !conf.token)
        return lv_fail(err, LV_EINVAL,
                       "the manifest names no PKCS#11 module or token");
    LV_TRY(cli_pkcs11_pin("restore of a PKCS#11 install (to check the "
                          "token's objects)",
                          pin_file, pin, err));
    int rc =
        keys_pkcs11_check_objects(&conf, json_object_get(ks, "objects"), err);
    OPENSSL_cleanse(pin, sizeof pin);
    if (rc < 0 && err) {
        /* what it means for the restore first: a long list of missing
         * objects may be cut at the end of the message */
        char detail[sizeof err->msg];
        snprintf(detail, sizeof detail, "%s", err->msg);
        rc = lv_fail(err, rc,
                     "nothing restored (restore the token with the vendor's "
                     "tools first, or use the token the backup was made "
                     "on): %s",
                     detail);
    }
    return rc;
}

static int restore(const char *bundle_path, const char *dir,
                   const char *key_path, const char *cert_path,
                   const char *pin_file, lv_err *err)
{
    lv_buf plain = {0};
    bundle b = {0};
    char tmp[1200], parent[1100];
    int exists = dir_usable(dir, err);
    LV_TRY(exists);
    int rc = decrypt_bundle(bundle_path, key_path, cert_path, &plain, err);
    if (rc == 0)
        rc = untar(plain.data, plain.len, &b, err);
    lv_buf_free_secret(&plain);
    if (rc == 0)
        rc = check_manifest(&b, err);
    if (rc == 0)
        rc = check_token(&b, pin_file, err);
    snprintf(parent, sizeof parent, "%s", dir);
    snprintf(tmp, sizeof tmp, "%s/.llave-restore-XXXXXX", dirname(parent));
    if (rc == 0 && !mkdtemp(tmp))
        rc = lv_fail(err, LV_EIO, "cannot create %s: %s", tmp, strerror(errno));
    else if (rc == 0) {
        rc = write_files(&b, tmp, err);
        if (rc == 0)
            rc = verify_and_audit(tmp, bundle_path, dir, err);
        if (rc == 0)
            rc = place(tmp, dir, exists == 1, err);
        if (rc < 0)
            rm_tree(tmp);
    }
    bundle_free(&b);
    return rc;
}

int cli_restore(int argc, char **argv)
{
    lv_err err = {0};
    const char *key = NULL, *cert = NULL, *pin_file = NULL;
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc)
            cert = argv[++i];
        else if (strcmp(argv[i], "--pkcs11-pin-file") == 0 && i + 1 < argc)
            pin_file = argv[++i];
        else if (argv[i][0] != '-' && npos < 2)
            pos[npos++] = argv[i];
        else
            return cli_usage_error("restore: unexpected argument %s", argv[i]);
    }
    if (npos != 2 || !key)
        return cli_usage_error(
            "restore: expected BUNDLE DIR --key CUSTODIAN_KEY.pem");
    int rc = restore(pos[0], pos[1], key, cert, pin_file, &err);
    if (rc == 0)
        printf("restored %s into %s: open it with two custodian shares\n",
               pos[0], pos[1]);
    return cli_report(rc, &err);
}
