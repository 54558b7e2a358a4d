/* Records of the CA hierarchy (table cas). */
#include "store/store_driver.h"

#include <stdlib.h>
#include <string.h>

#define CA_COLUMNS                                                             \
    "name, role, issuer, key_id, serial, status, not_before, not_after, "      \
    "cert_der"

static int ca_check(const lv_ca_rec *r, lv_err *err)
{
    LV_TRY(store_check_field(r->name, sizeof r->name, "CA name", err));
    LV_TRY(store_check_field(r->role, sizeof r->role, "CA role", err));
    LV_TRY(store_check_field(r->issuer, sizeof r->issuer, "CA issuer", err));
    LV_TRY(store_check_field(r->key_id, sizeof r->key_id, "CA key id", err));
    LV_TRY(store_check_field(r->serial, sizeof r->serial, "CA serial", err));
    LV_TRY(store_check_field(r->status, sizeof r->status, "CA status", err));
    if (r->name[0] == '\0' || !r->cert_der || r->cert_len == 0)
        return lv_fail(err, LV_EINVAL, "CA record needs a name and a cert");
    return 0;
}

int store_ca_insert(lv_store *st, const lv_ca_rec *rec, lv_err *err)
{
    store_q q;
    LV_TRY(ca_check(rec, err));
    /* seq = next position; computed in SQL so it is portable and taken
     * under the same write lock as the insert. */
    store_q_prepare(&q, st,
                    "INSERT INTO cas (" CA_COLUMNS ", seq, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    " (SELECT COALESCE(MAX(seq), 0) + 1 FROM cas), ?)",
                    err);
    store_q_text(&q, rec->name);
    store_q_text(&q, rec->role);
    store_q_text(&q, rec->issuer);
    store_q_text(&q, rec->key_id);
    store_q_text(&q, rec->serial);
    store_q_text(&q, rec->status);
    store_q_int64(&q, rec->not_before);
    store_q_int64(&q, rec->not_after);
    store_q_blob(&q, rec->cert_der, rec->cert_len);
    store_q_int64(&q, lv_now());
    int rc = store_q_exec(&q);
    store_q_finalize(&q);
    if (rc == LV_EEXISTS)
        return lv_fail(err, rc, "CA %s already exists", rec->name);
    return rc;
}

/* Reads the current row in CA_COLUMNS order. */
static int ca_read_row(store_q *q, lv_ca_rec *r)
{
    memset(r, 0, sizeof *r);
    LV_TRY(store_q_col_copy(q, 0, r->name, sizeof r->name));
    LV_TRY(store_q_col_copy(q, 1, r->role, sizeof r->role));
    LV_TRY(store_q_col_copy(q, 2, r->issuer, sizeof r->issuer));
    LV_TRY(store_q_col_copy(q, 3, r->key_id, sizeof r->key_id));
    LV_TRY(store_q_col_copy(q, 4, r->serial, sizeof r->serial));
    LV_TRY(store_q_col_copy(q, 5, r->status, sizeof r->status));
    r->not_before = store_q_col_int64(q, 6);
    r->not_after = store_q_col_int64(q, 7);
    return store_q_col_blob(q, 8, &r->cert_der, &r->cert_len);
}

int store_ca_get(lv_store *st, const char *name, lv_ca_rec *out, lv_err *err)
{
    store_q q;
    memset(out, 0, sizeof *out);
    store_q_prepare(&q, st, "SELECT " CA_COLUMNS " FROM cas WHERE name = ?",
                    err);
    store_q_text(&q, name);
    int rc = store_q_step(&q);
    if (rc == LV_DB_ROW)
        rc = ca_read_row(&q, out);
    else if (rc == LV_DB_DONE)
        rc = lv_fail(err, LV_ENOTFOUND, "no CA named %s", name);
    store_q_finalize(&q);
    if (rc < 0)
        store_ca_rec_free(out);
    return rc < 0 ? rc : 0;
}

int store_ca_foreach(lv_store *st, int (*fn)(const lv_ca_rec *, void *),
                     void *ctx, lv_err *err)
{
    store_q q;
    lv_ca_rec rec;
    int rc;
    store_q_prepare(&q, st, "SELECT " CA_COLUMNS " FROM cas ORDER BY seq", err);
    while ((rc = store_q_step(&q)) == LV_DB_ROW) {
        rc = ca_read_row(&q, &rec);
        if (rc == 0)
            rc = fn(&rec, ctx);
        store_ca_rec_free(&rec);
        if (rc < 0)
            break;
    }
    store_q_finalize(&q);
    return rc < 0 ? rc : 0;
}

void store_ca_rec_free(lv_ca_rec *rec)
{
    if (!rec)
        return;
    free(rec->cert_der);
    rec->cert_der = NULL;
    rec->cert_len = 0;
}
