/* The schema migrations embedded from sql/ at build time (internal to store/).
 */
#ifndef LLAVE_STORE_MIGRATIONS_H
#define LLAVE_STORE_MIGRATIONS_H

#include <stddef.h>

typedef struct lv_migration {
    int version;      /* NNN of sql/NNN_name.sql */
    const char *name; /* file name without extension */
    const char *sql;  /* the file's text */
    /* sql/pg/NNN_name.sql: the same rules in PostgreSQL's syntax, which
     * the PostgreSQL driver runs instead of sql; NULL when sql serves
     * both back ends */
    const char *sql_pg;
} lv_migration;

extern const lv_migration lv_migrations[];
extern const size_t lv_migrations_count;

#endif
