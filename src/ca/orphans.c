/* The orphan-key sweep (issue 11 item 8).  Issuing a certificate whose key
 * the provider keeps writes the key file first, then the certificate row
 * and its audit entry in one transaction; a process killed in between (kill
 * -9, power loss) leaves a key file that no row names and nobody can ever
 * use.  At start-up, once the key store is open, llaved removes such files
 * (keys_destroy overwrites before unlinking) and audits each removal
 * ("key.orphan_remove").  A file younger than the grace period is left
 * alone: it may belong to an issuance or ceremony running right now in
 * another process (the console). */
#include "ca/ca_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int key_named(char (*ids)[STORE_KEY_ID_CAP], size_t n, const char *id)
{
    return bsearch(id, ids, n, sizeof *ids,
                   (int (*)(const void *, const void *))strcmp) != NULL;
}

/* "<32 hex>.key" → id; 0 when the name is not a key file's. */
static int key_file_id(const char *name, char id[LV_KEY_ID_LEN + 1])
{
    size_t len = strlen(name);
    if (len != LV_KEY_ID_LEN + 4 || strcmp(name + LV_KEY_ID_LEN, ".key") != 0 ||
        strspn(name, "0123456789abcdef") != LV_KEY_ID_LEN)
        return 0;
    memcpy(id, name, LV_KEY_ID_LEN);
    id[LV_KEY_ID_LEN] = '\0';
    return 1;
}

static int remove_orphan(lv_ca *ca, lv_store *st, const char *id,
                         const char *actor, int64_t age)
{
    lv_err err = {0};
    int rc = keys_destroy(ca_keystore(ca), id, &err);
    json_t *d = json_pack("{s:s, s:I, s:s}", "key_id", id, "age_seconds",
                          (json_int_t)age, "why",
                          "no CA or certificate row names this key");
    if (rc < 0 && d)
        json_object_set_new(d, "error", json_string(err.msg));
    audit_log_standalone(st, actor, "key.orphan_remove", id,
                         rc == 0 ? LV_AUDIT_SUCCESS : LV_AUDIT_FAILURE, d,
                         NULL);
    json_decref(d);
    lv_log(rc == 0 ? LV_LOG_WARN : LV_LOG_ERROR,
           "keys: orphan key %s (%lld s old, no row names it): %s", id,
           (long long)age, rc == 0 ? "removed" : err.msg);
    return rc;
}

int ca_sweep_orphan_keys(lv_ca *ca, lv_store *st, int64_t grace_seconds,
                         const char *actor, int *removed, lv_err *err)
{
    char kdir[600], path[700], id[LV_KEY_ID_LEN + 1];
    char(*ids)[STORE_KEY_ID_CAP] = NULL;
    size_t n = 0;
    *removed = 0;
    if (!ca_keystore(ca))
        return lv_fail(err, LV_ESEALED, "the key store is sealed");
    snprintf(kdir, sizeof kdir, "%s/keys", ca->cfg.dir);
    DIR *d = opendir(kdir);
    if (!d)
        return lv_fail(err, LV_EIO, "%s: %s", kdir, strerror(errno));
    /* the rows are read after the directory is opened: a key written after
     * this point is younger than the grace period anyway */
    int rc = store_key_ids(st, &ids, &n, err);
    int64_t now = lv_now();
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct stat sb;
        if (!key_file_id(e->d_name, id) || key_named(ids, n, id))
            continue;
        snprintf(path, sizeof path, "%s/%s", kdir, e->d_name);
        if (stat(path, &sb) != 0 || now - (int64_t)sb.st_mtime < grace_seconds)
            continue;
        if (remove_orphan(ca, st, id, actor, now - (int64_t)sb.st_mtime) == 0)
            (*removed)++;
    }
    closedir(d);
    free(ids);
    return rc;
}
