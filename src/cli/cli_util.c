/* Helpers several command groups share: arguments, printing JSON and
 * certificates, and the demo ceremony's credentials file. */
#include "cli/cli.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_json_arg(int argc, char **argv, int from)
{
    for (int i = from; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            return argv[i + 1];
    }
    return NULL;
}

int cli_options(int argc, char **argv, int from, const cli_option *opts,
                const char **operand, const char *cmd)
{
    for (int i = from; i < argc && argv[i] != NULL; i++) {
        const cli_option *o = opts;
        while (o->name && (strcmp(argv[i], o->name) != 0 || i + 1 >= argc))
            o++;
        if (o->name)
            *o->value = argv[++i];
        else if (argv[i][0] != '-' && *operand == NULL)
            *operand = argv[i];
        else
            return cli_usage_error("%s: unexpected argument %s", cmd, argv[i]);
    }
    return 0;
}

static int sub_fits(const cli_sub *s, int argc, char **argv)
{
    return argc >= 2 && strcmp(argv[1], s->name) == 0 &&
           (s->argc ? argc == s->argc
                    : argc >= s->min_argc &&
                          (s->max_argc == 0 || argc <= s->max_argc)) &&
           (!s->json || cli_json_arg(argc, argv, 2) != NULL);
}

int cli_dispatch(cli_ctx *ctx, int argc, char **argv, const cli_sub *subs)
{
    const cli_sub *s = subs;
    while (s->name && !sub_fits(s, argc, argv))
        s++;
    if (s->name) {
        if (s->run)
            return s->run(ctx, argc, argv);
        lv_err err = {0};
        return cli_report(s->act(ctx, argc, argv, &err), &err);
    }
    return cli_usage_error("%s", s->usage);
}

int cli_show_json(cli_ctx *ctx, cli_json_reader read, const char *arg,
                  lv_err *err)
{
    json_t *out = NULL;
    LV_TRY(cli_open(ctx, CLI_NEED_STORE, err));
    LV_TRY(read(ctx->st, arg, &out, err));
    char *text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    json_decref(out);
    return 0;
}

int cli_write_cert_pem(const char *path, X509 *cert, lv_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    if (bio == NULL || !PEM_write_bio_X509(bio, cert)) {
        BIO_free(bio);
        return lv_fail_ssl(err, LV_ECRYPTO, "cannot encode PEM");
    }
    long len = BIO_get_mem_data(bio, &data);
    int rc =
        path ? lv_file_write(path, data, (size_t)len, 0644, err)
             : (fwrite(data, 1, (size_t)len, stdout) == (size_t)len ? 0
                                                                    : LV_EIO);
    BIO_free(bio);
    return rc;
}

/* ---- DIR/demo-credentials.json ------------------------------------------- */

int cli_demo_creds_save(const char *path, const json_t *creds, lv_err *err)
{
    /* 0600: the file holds the demo accounts' passwords and secrets */
    char *text = json_dumps(creds, JSON_INDENT(2));
    if (!text)
        return lv_fail(err, LV_ENOMEM, "out of memory");
    int rc = lv_file_write(path, text, strlen(text), 0600, err);
    free(text);
    return rc;
}

int cli_demo_accounts_add(const char *dir, json_t *accounts, lv_err *err)
{
    char path[1024];
    json_t *creds = NULL;
    LV_TRY(lv_path_join(path, sizeof path, dir, "demo-credentials.json"));
    LV_TRY(lv_json_load_file(path, &creds, err));
    json_t *list = json_object_get(creds, "accounts");
    int rc = json_is_array(list) && json_array_extend(list, accounts) == 0
                 ? 0
                 : lv_fail(err, LV_EINVAL, "%s has no accounts list", path);
    if (rc == 0)
        rc = cli_demo_creds_save(path, creds, err);
    json_decref(creds);
    return rc;
}

int cli_pkcs11_pin(const char *what, const char *pin_file,
                   char pin[CLI_PIN_MAX + 1], lv_err *err)
{
    unsigned char *data = NULL;
    size_t len = 0;
    if (!pin_file) {
        const char *env = getenv(CLI_PIN_ENV);
        if (!env || !*env)
            return lv_fail(err, LV_EINVAL,
                           "%s: no token user PIN: set " CLI_PIN_ENV
                           " or use --pkcs11-pin-file PATH",
                           what);
        if (strlen(env) > CLI_PIN_MAX)
            return lv_fail(err, LV_EINVAL, CLI_PIN_ENV " is too long");
        snprintf(pin, CLI_PIN_MAX + 1, "%s", env);
        return 0;
    }
    LV_TRY(lv_file_read(pin_file, &data, &len, CLI_PIN_MAX + 2, err));
    size_t n = strcspn((const char *)data, "\r\n");
    n = n < len ? n : len;
    int rc = n == 0 || n > CLI_PIN_MAX
                 ? lv_fail(err, LV_EINVAL,
                           "%s: the first line must hold the user PIN "
                           "(1 to %d bytes)",
                           pin_file, CLI_PIN_MAX)
                 : 0;
    if (rc == 0) {
        memcpy(pin, data, n);
        pin[n] = '\0';
    }
    OPENSSL_cleanse(data, len);
    free(data);
    return rc;
}
