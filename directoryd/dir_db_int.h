/* dir_db_int.h - the db module's internals, shared by its files (dir_db.c, dir_db_write.c,
 * dir_db_sync.c, dir_db_report.c).
 * Not for other modules: they use dir_db.h. */
#ifndef DIR_DB_INT_H
#define DIR_DB_INT_H

#include "dir_db.h"
#include "dir_model.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>

struct conn {
    PGconn *pg;
    unsigned prepared[4]; /* one bit per prepared statement */
    bool busy;
};

struct dir_db {
    char *url;
    int n;
    struct conn *conns;
    pthread_mutex_t lock;
    pthread_cond_t freed;
};


/* Prepared statements: each file of the db module numbers its own in a range of slots (one
 * bit each in struct conn's PREPARED): dir_db.c 0..63, dir_db_report.c 64..79,
 * dir_db_delta.c 80..95 (DIR_DBI_SLOT_DELTA), dir_db_worklist.c 112..115. */
#define DIR_DBI_SLOT_REPORT 64
#define DIR_DBI_SLOT_WORKLIST 112
#define DIR_DBI_SLOTS 128

/* Runs the statement SQL of slot SLOT on C, preparing it first on this connection when it
 * is not yet; the result (caller PQclears), or NULL with ERR on failure. */
PGresult *dir_dbi_run(struct conn *c, int slot, const char *sql, int nparams,
                      const char *const *params, char *err, size_t errlen);

/* Takes a pooled connection, reconnecting it if PostgreSQL restarted; NULL with ERR. */
struct conn *dir_dbi_acquire(struct dir_db *db, char *err, size_t errlen);
void dir_dbi_release(struct dir_db *db, struct conn *c);
/* Runs SQL without parameters; false with ERR on failure. */
bool dir_dbi_exec(PGconn *pg, const char *sql, char *err, size_t errlen);
/* Writes "WHAT: <PostgreSQL's message>" into ERR. */
void dir_dbi_error(char *err, size_t errlen, const char *what, PGconn *pg, const PGresult *res);

#define DIR_DBI_ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* The columns the snapshot reads of organisations and people (full load and delta). */
#define DIR_DBI_ORG_COLS                                                                           \
    "id, ref, name_th, name_en, short_name_th, short_name_en, type, sector, "                      \
    "parent_id, status, status_date::text, status_reason, successor_id, description_th, "         \
    "description_en, hours_th, hours_en, opened_year, address_th, address_en, area_code, "       \
    "lat, lon, coord_approx, demo, " DIR_DBI_ISO("verified_at") ", "                                      \
    "coalesce(extract(epoch FROM verified_at)::bigint, 0), verified_by, version, "              \
    "status_reason_en"
#define DIR_DBI_PERSON_COLS                                                                        \
    "id, ref, name_th, name_en, title_th, title_en, profession, source, "                          \
    "username, active, demo, " DIR_DBI_ISO("verified_at") ", "                                            \
    "coalesce(extract(epoch FROM verified_at)::bigint, 0), version"
/* Statement slots of dir_db_delta.c (80..95). */
#define DIR_DBI_SLOT_DELTA 80

/* The rows of one of the snapshot's queries (its columns in the order dir_db.c's full load
 * reads them) added to builder B: shared by the full load and the change-log delta. */
enum dir_dbi_rows {
    DIR_ROWS_ORGS,
    DIR_ROWS_CONTACTS,
    DIR_ROWS_OFFERINGS,
    DIR_ROWS_OFFERING_GROUPS,
    DIR_ROWS_OFFERING_AREAS,
    DIR_ROWS_HOURS,
    DIR_ROWS_PEOPLE,
    DIR_ROWS_MEMBERSHIPS,
    DIR_ROWS_MEMBERSHIP_AREAS,
    DIR_ROWS_PROGRAMMES,
    DIR_ROWS_PROGRAMME_AREAS,
    DIR_ROWS_PROGRAMME_ORGS,
    DIR_ROWS_REVOKED,
    DIR_ROWS_CLIENTS,
};
void dir_dbi_add_rows(enum dir_dbi_rows kind, struct dir_model_builder *b, const PGresult *r);

#endif
