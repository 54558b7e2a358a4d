/* Records of the CA hierarchy (table cas). */
#include "store/store_rows.h"

int store_ca_insert(lv_store *st, const lv_ca_rec *rec, lv_err *err)
{
    LV_TRY(store_row_check(&store_row_ca, rec, err));
    /* seq = next position; computed in SQL so it is portable and taken
     * under the same write lock as the insert. */
    int rc = STORE_ROW_RUN(st, &store_row_ca, rec, 0, store_row_ca.n, NULL, err,
                           "INSERT INTO cas (" CA_COLUMNS ", seq, created_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT"
                           " COALESCE(MAX(seq), 0) + 1 FROM cas), ?)",
                           SQ_INT(lv_now()));
    return store_explain(rc, LV_EEXISTS, err, "CA %s already exists",
                         rec->name);
}

STORE_GET(ca, lv_ca_rec, &store_row_ca, name, "no CA named %s", name)

int store_ca_foreach(lv_store *st, STORE_VISIT(lv_ca_rec), lv_err *err)
{
    STORE_RETURN_EACH(lv_ca_rec, &store_row_ca, st, err, fn, ctx,
                      "SELECT " CA_COLUMNS " FROM cas ORDER BY seq");
}

STORE_FREE(ca, lv_ca_rec, &store_row_ca)
