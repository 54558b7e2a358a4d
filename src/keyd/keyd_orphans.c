/* Destroying keys no row names (issue 11 item 8; R5.1).  Issuing a
 * certificate whose key the provider keeps makes the key first, then writes
 * the certificate row and its audit entry in one transaction; an issuance
 * that fails after the key was made asks keyd to destroy it (destroy_key),
 * and a process killed in between (kill -9, power loss) leaves a key file
 * that no row names and nobody can ever use.  keyd removes such files once
 * its store opens (keys_destroy overwrites before unlinking) and audits each
 * removal ("key.orphan_remove").  A file younger than the grace period is
 * left alone: it may belong to an issuance or a ceremony running right now.
 *
 * Both live here, not in the front end: only keyd opens DIR/keys/ (issue 12
 * item 2).  destroy_key refuses a key that a CA or certificate row names, so
 * a compromised front end cannot destroy a key in use (EN 419 241-2: the
 * SAM protects the keys' availability as well as their secrecy). */
#include "audit/audit.h"
#include "keyd/keyd_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int compare_key_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* bsearch must not be handed a NULL array, even with n == 0 (C17 7.22.5) */
static int key_named(char (*ids)[STORE_KEY_ID_CAP], size_t n, const char *id)
{
    return n > 0 && bsearch(id, ids, n, sizeof *ids, compare_key_id) != NULL;
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

static int remove_orphan(lv_keystore *ks, lv_store *st, const char *id,
                         int64_t age)
{
    lv_err err = {0};
    int rc = keys_destroy(ks, id, &err);
    json_t *d = json_pack("{s:s, s:I, s:s}", "key_id", id, "age_seconds",
                          (json_int_t)age, "why",
                          "no CA or certificate row names this key");
    if (rc < 0 && d)
        json_object_set_new(d, "error", json_string(err.msg));
    audit_log_standalone(st, "llave-keyd", "key.orphan_remove", id,
                         rc == 0 ? LV_AUDIT_SUCCESS : LV_AUDIT_FAILURE, d,
                         NULL);
    json_decref(d);
    lv_log(rc == 0 ? LV_LOG_WARN : LV_LOG_ERROR,
           "llave-keyd: orphan key %s (%lld s old, no row names it): %s", id,
           (long long)age, rc == 0 ? "removed" : err.msg);
    return rc;
}

int keyd_sweep_orphans(keyd_server *s, lv_store *st, int64_t grace_seconds,
                       int *removed, lv_err *err)
{
    char kdir[600], path[700], id[LV_KEY_ID_LEN + 1];
    char(*ids)[STORE_KEY_ID_CAP] = NULL;
    size_t n = 0;
    lv_keystore *ks = keyd_keystore(s);
    *removed = 0;
    if (!ks)
        return lv_fail(err, LV_ESEALED, "the key store is sealed");
    snprintf(kdir, sizeof kdir, "%s/keys", s->dir);
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
        /* from the checked id, so the compiler sees the path fits */
        snprintf(path, sizeof path, "%s/%s.key", kdir, id);
        if (stat(path, &sb) != 0 || now - (int64_t)sb.st_mtime < grace_seconds)
            continue;
        if (remove_orphan(ks, st, id, now - (int64_t)sb.st_mtime) == 0)
            (*removed)++;
    }
    closedir(d);
    free(ids);
    return rc;
}

void keyd_after_unseal(keyd_server *s, lv_store *st)
{
    lv_err err = {0};
    int removed = 0;
    if (keyd_sweep_orphans(s, st, KEYD_ORPHAN_GRACE_S, &removed, &err) < 0)
        lv_log(LV_LOG_ERROR, "llave-keyd: orphan key sweep: %s", err.msg);
    else if (removed)
        lv_log(LV_LOG_WARN, "llave-keyd: removed %d orphan key(s)", removed);
}

int keyd_destroy_key(keyd_call *call, void *req, void **resp, lv_err *err)
{
    KEYD_KEY_REQ *q = req;
    char id[LV_KEY_ID_LEN + 1], actor[64], object[48];
    char(*ids)[STORE_KEY_ID_CAP] = NULL;
    size_t n = 0;
    lv_store *st;
    lv_keystore *ks = keyd_keystore(call->conn->srv);
    if (!ks)
        return lv_fail(err, LV_ESEALED, "the key store is sealed");
    LV_TRY(keyd_key_id(q->key_id, id, err));
    LV_TRY(keyd_conn_store(call->conn, &st, err));
    LV_TRY(keys_info(ks, id, NULL, NULL, err));
    int rc = store_key_ids(st, &ids, &n, err);
    if (rc == 0 && key_named(ids, n, id))
        rc = lv_fail(err, LV_EPERM,
                     "key %s is named by a CA or certificate row: it is in "
                     "use and is not destroyed",
                     id);
    free(ids);
    LV_TRY(rc);
    LV_TRY(keys_destroy(ks, id, err));
    keyd_actor(call, actor);
    snprintf(object, sizeof object, "key:%s", id);
    json_t *d = keyd_peer_json(call);
    json_object_set_new(d, "why",
                        json_string("no row names it (an issuance "
                                    "that failed)"));
    keyd_audit(call->conn, actor, "key.destroy", object, LV_AUDIT_SUCCESS, d);
    KEYD_KEY_REQ *r = KEYD_KEY_REQ_new();
    if (!r || keyd_str_set(r->key_id, id) < 0) {
        KEYD_KEY_REQ_free(r);
        return lv_fail(err, LV_ENOMEM, "out of memory");
    }
    *resp = r;
    return 0;
}
