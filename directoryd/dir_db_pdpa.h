/* dir_db_pdpa.h - the access log's SQL (dir_db_pdpa.c): writing rows, the retention purge,
 * the admin's list and the data-subject report. The table is in
 * schema/migrations/0017_access_log.sql; dir_pdpa.h says what is recorded and when.
 */
#ifndef DIR_DB_PDPA_H
#define DIR_DB_PDPA_H

#include "dir_db.h"

#include <stdbool.h>
#include <stddef.h>

/* One access_log row to write. Times are microseconds since 1970 (UTC). */
struct dir_db_access_row {
    long long first_us, last_us;
    int reads;
    const char *actor_kind, *actor_id, *face, *operation;
    const long long *ids; /* sorted, distinct */
    int nids;
};

/* Copies ROWS[0..N) into access_log (one COPY). DIR_ERR_DB with ERR when PostgreSQL refused
 * or could not be reached (nothing was written). */
enum dir_rc dir_db_access_log_write(struct dir_db *db, const struct dir_db_access_row *rows, int n,
                                    char *err, size_t errlen);
/* Makes the coming months' partitions and removes rows older than KEEP_DAYS; *REMOVED rows. */
enum dir_rc dir_db_access_log_maintain(struct dir_db *db, int keep_days, long long *removed,
                                       char *err, size_t errlen);

/* GET /v1/admin/access-log's filter; unset fields are 0/NULL. */
struct dir_db_access_filter {
    long long person;          /* rows that showed this person */
    const char *actor;         /* rows of this actor id (API client name, username, bind DN) */
    const char *since, *until; /* RFC 3339 instants: reads in [since, until) */
    long long after_at_us, after_id; /* the cursor: rows older than this (at, id) */
    int limit;
};

/* The rows matching F, newest first, as {"items":[...],"next":cursor|null} (caller frees
 * *JSON_OUT). DIR_ERR_INVALID when SINCE or UNTIL is not a time PostgreSQL reads (ERR names
 * the field). */
enum dir_rc dir_db_access_log_list(struct dir_db *db, const struct dir_db_access_filter *f,
                                   char **json_out, char *err, size_t errlen);

/* Everything held about person ID: the person's row (contact points, non-public ones
 * included; memberships; sync origin), its staff role, the audit history of changes, the
 * reports of mistakes about it, and the access_log rows that showed it in [SINCE, UNTIL), as
 * one JSON object (caller frees *JSON_OUT). DIR_ERR_NOTFOUND when there is no such person. */
enum dir_rc dir_db_person_report(struct dir_db *db, long long id, const char *since,
                                 const char *until, char **json_out, char *err, size_t errlen);

#endif
