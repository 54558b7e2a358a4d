/* llave -d DIR profile list: one line per profile (R4.3);
 * llave -d DIR profile show ID: one profile as JSON. */
#include "cli/cli.h"
#include "profile/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const QCTYPES[] = {"", "esign", "eseal", "web"};

/* The profile table entry as JSON, for operators and for tests that compare
 * issued certificates (parsed by OpenSSL) with the table. */
static int show(const lv_config *cfg, const char *id)
{
    char oid[192];
    const lv_profile *p = profile_find(id);
    if (p == NULL || p->internal)
        return cli_usage_error("profile show: unknown profile '%s'", id);
    if (profile_oid(cfg, p, oid, sizeof oid) < 0)
        return cli_usage_error("profile show: the OID arc is too long");
    json_t *extra = json_array();
    for (int i = 0; i < 2 && p->extra_policies[i]; i++)
        json_array_append_new(extra, json_string(p->extra_policies[i]));
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:b, s:s, s:b, "
        "s:b, s:s, s:s?, s:b, s:i, s:b, s:b}",
        "id", p->id, "oid", oid, "name", p->name, "name_es", p->name_es,
        "cps_section", p->cps_section, "etsi_policy", p->etsi_policy,
        "etsi_policy_name", p->etsi_policy_name, "extra_policies", extra,
        "issuer", profile_issuer_role(p), "qualified", p->qualified, "qscd",
        p->qscd, "qctype", QCTYPES[p->qctype], "psd2", p->psd2, "wildcard",
        p->wildcard, "key_usage", p->key_usage, "ext_key_usage",
        p->ext_key_usage, "eku_critical", p->eku_critical, "validity_days",
        (int)((profile_not_after(p, lv_now()) - lv_now() + 1) / 86400), "cloud",
        p->custody == LV_CUSTODY_CLOUD || p->custody == LV_CUSTODY_CLOUD_HSM,
        "tls", p->tls);
    char *text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    puts(text ? text : "{}");
    free(text);
    return 0;
}

int cli_profile(cli_ctx *ctx, int argc, char **argv)
{
    lv_err err = {0};
    size_t n;
    char oid[192];
    int is_show = argc == 3 && strcmp(argv[1], "show") == 0;
    if (!is_show && (argc != 2 || strcmp(argv[1], "list") != 0))
        return cli_usage_error("profile: expected `list` or `show ID`");
    /* the OIDs hang from the installation's configured arc */
    int rc = 0;
    if (ctx->dir != NULL)
        rc = lv_config_load(&ctx->cfg, ctx->dir, &err);
    else
        lv_config_defaults(&ctx->cfg, ".");
    if (rc < 0)
        return cli_report(rc, &err);
    if (is_show)
        return show(&ctx->cfg, argv[2]);
    const lv_profile *all = profile_table(&n);
    for (size_t i = 0; i < n; i++) {
        if (all[i].internal)
            continue;
        if (profile_oid(&ctx->cfg, &all[i], oid, sizeof oid) < 0)
            return cli_usage_error("profile list: the OID arc is too long");
        printf("%-32s %-52s %-10s %s\n", all[i].id, oid,
               all[i].etsi_policy_name, all[i].name);
    }
    return 0;
}
