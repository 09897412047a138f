/* dir_db_int.h - the db module's internals, shared by its files (dir_db.c, dir_db_write.c,
 * dir_db_sync.c, dir_db_report.c).
 * Not for other modules: they use dir_db.h. */
#ifndef DIR_DB_INT_H
#define DIR_DB_INT_H

#include "dir_db.h"

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
 * dir_db_worklist.c 112..115. */
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

#endif
