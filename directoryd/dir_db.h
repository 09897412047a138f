/* dir_db.h - PostgreSQL, the system of record: a small libpq pool, migrations, the
 * snapshot load for the read model, the change-log sequence and API client records.
 *
 * All of directoryd's SQL lives here and in schema/. Statements are prepared once per
 * connection. A connection found broken (PostgreSQL restarted) is reset on its next use.
 */
#ifndef DIR_DB_H
#define DIR_DB_H

#include "dir_auth.h"
#include "dir_model.h"
#include "dir_rc.h"

#include <stddef.h>

struct dir_db;

/* Connects POOL connections to URL. On failure returns DIR_ERR_DB with the reason in ERR
 * (the URL's password is never included). Caller frees with dir_db_close. */
enum dir_rc dir_db_open(const char *url, int pool, struct dir_db **out, char *err, size_t errlen);
void dir_db_close(struct dir_db *db);

/* Applies every SCHEMA_DIR/SUBDIR/NAME.sql not yet recorded in schema_migrations, in name
 * order, each in its own transaction with its record; stops at the first failure, naming
 * the file and PostgreSQL's message. *APPLIED counts the files applied now. Concurrent
 * callers are serialised with an advisory lock. */
enum dir_rc dir_db_migrate(struct dir_db *db, const char *schema_dir, const char *subdir,
                           int *applied, char *err, size_t errlen);

/* Reads the whole directory, and the newest CHANGES_KEPT change-log rows, in one
 * repeatable-read transaction into a new snapshot (one reference, owned by the caller). */
enum dir_rc dir_db_load_model(struct dir_db *db, int stale_days, int changes_kept,
                              struct dir_model **out, char *err, size_t errlen);

/* The newest change-log sequence number (0 for an empty log). */
enum dir_rc dir_db_change_seq(struct dir_db *db, long long *seq, char *err, size_t errlen);

/* Creates API client NAME with ROLE and secret hash HASH, or, when it exists, gives it
 * the new role and hash and un-revokes it. */
enum dir_rc dir_db_put_api_client(struct dir_db *db, const char *name, const char *role,
                                  const uint8_t hash[DIR_AUTH_HASH_LEN], char *err, size_t errlen);

/* A dedicated connection that LISTENs for change notifications. Returns NULL (with ERR)
 * when it cannot connect; LISTEN failing (a hot standby) is not an error: *LISTENING says
 * whether notifications will come. Close with dir_db_listener_close. */
struct dir_db_listener;
struct dir_db_listener *dir_db_listener_open(const char *url, bool *listening, char *err,
                                             size_t errlen);
void dir_db_listener_close(struct dir_db_listener *l);
/* The socket to wait on, or -1 if the connection is gone. */
int dir_db_listener_fd(struct dir_db_listener *l);
/* Consumes input; returns the number of notifications drained, or -1 if the connection
 * broke (the caller reopens it). */
int dir_db_listener_drain(struct dir_db_listener *l);

#endif
