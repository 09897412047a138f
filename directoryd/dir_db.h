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

#include <stdbool.h>
#include <stddef.h>

struct dir_db;

/* Connects POOL connections to URL. On failure returns DIR_ERR_DB with the reason in ERR
 * (the URL's password is never included). Caller frees with dir_db_close. */
enum dir_rc dir_db_open(const char *url, int pool, struct dir_db **out, char *err, size_t errlen);
void dir_db_close(struct dir_db *db);
/* --- replica --- */
/* As dir_db_open, but *OUT is set (caller frees with dir_db_close) even when the first
 * connection fails (DIR_ERR_DB with the reason in ERR): for the write database, which may
 * be down while the daemon starts on a standby; its connections are made on first use.
 * DIR_ERR_INVALID (*OUT NULL) when libpq cannot parse URL. */
enum dir_rc dir_db_open_lazy(const char *url, int pool, struct dir_db **out, char *err,
                             size_t errlen);
/* *PRIMARY: the database accepts writes (it is not a standby in recovery). */
enum dir_rc dir_db_is_primary(struct dir_db *db, bool *primary, char *err, size_t errlen);
/* Counts in *MISSING the SCHEMA_DIR/SUBDIR/NAME.sql files not recorded in the database's
 * schema_migrations (all of them when it has none), without writing anything (works on a
 * standby); FIRST gets the first missing one's name ("" if none). */
enum dir_rc dir_db_schema_check(struct dir_db *db, const char *schema_dir, const char *subdir,
                                int *missing, char *first, size_t firstlen, char *err,
                                size_t errlen);

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

/* Applies the change-log rows after OLD's sequence to OLD (dir_model_apply), reading only
 * the rows of the organisations, people, programmes, API clients and revoked sessions they
 * name, in one repeatable-read transaction: a new version in *OUT (one reference, owned by
 * the caller), or *OUT = NULL when the log has not moved. DIR_ERR_STATE (with the reason in
 * ERR) when the delta needs a full load instead: more than MAX_CHANGES rows, an entity kind
 * that is not applied in place (areas, taxonomies, holidays, a bulk load's marker), or a
 * deletion. *NCHANGES is the number of change-log rows read. */
enum dir_rc dir_db_apply_changes(struct dir_db *db, const struct dir_model *old, int max_changes,
                                 int changes_kept, struct dir_model **out, int *nchanges,
                                 char *err, size_t errlen);

/* The newest change-log sequence number (0 for an empty log). */
enum dir_rc dir_db_change_seq(struct dir_db *db, long long *seq, char *err, size_t errlen);

/* Creates API client NAME with ROLE and secret hash HASH, or, when it exists, gives it
 * the new role and hash and un-revokes it. */
enum dir_rc dir_db_put_api_client(struct dir_db *db, const char *name, const char *role,
                                  const uint8_t hash[DIR_AUTH_HASH_LEN], char *err, size_t errlen);

/* ---- writes (dir_db_write.c) ---- */

#include <jansson.h>

struct dir_db_actor {
    const char *kind;    /* api_client, person, local */
    const char *name;    /* client name or username */
    const char *address; /* caller's IP address, or NULL */
};

/* One column to set: VAL is its text form (NULL = SQL NULL); NOW sets it to now(). */
struct dir_db_set {
    const char *col;
    const char *val;
    bool now;
};

#define DIR_DB_MAX_SETS 40

/* One validated write to an organisation, a person, an area (community), an area group
 * or a programme, with its audit action. */
struct dir_db_write {
    const char *entity;   /* organization, person, area, area_group, programme */
    long long id;         /* numeric-keyed entities: 0 creates */
    const char *code;     /* area, area_group: the code updated (NULL creates) */
    int if_version;       /* updates: the version the caller saw */
    const char *action;   /* create, update, close, reopen, verify, deactivate, reactivate */
    struct dir_db_set sets[DIR_DB_MAX_SETS];
    int nsets;
    json_t *contacts;     /* borrowed; when non-NULL, replaces the manual contact points:
                             [{kind, value, extension, label_th, label_en, public}] */
    json_t *services;     /* borrowed; organisations: [{code, target_groups, areas}] */
    json_t *memberships;  /* borrowed; people: [{organization, team_role, title_th, title_en, areas}] */
    json_t *members;      /* borrowed; area groups: [area code] */
    json_t *prog_areas;   /* borrowed; programmes: [area code] */
    json_t *prog_orgs;    /* borrowed; programmes: [{organization, role_th, role_en}] */
    json_t *hours;        /* borrowed; organisations, when HOURS_SET: replaces the opening
                             hours (dir_hours.h's shape, checked), or JSON null: unknown */
    bool hours_set;
    const char *idem_key; /* Idempotency-Key of a create, or NULL */
    const char *req_hash; /* hash of the request body, with IDEM_KEY */
};

struct dir_db_result {
    long long id;
    char code[80];    /* text-keyed entities: the code written */
    int version;      /* the entity's version now (after the write, or current on 412) */
    long long seq;    /* the change-log sequence that includes the write */
    bool replayed;    /* an Idempotency-Key repeat: nothing was written */
    bool key_reused;  /* the Idempotency-Key was used for a different request */
};

/* Applies W in one transaction together with its audit row (and, through triggers, its
 * change-log rows). Returns DIR_OK; DIR_ERR_NOTFOUND (no such entity); DIR_ERR_STATE (the
 * version moved on: res->version is the current one; nothing written); DIR_ERR_INVALID
 * (PostgreSQL refused a value: ERR says which); DIR_ERR_DB (PostgreSQL unavailable or
 * failed; nothing written, retrying is safe). */
enum dir_rc dir_db_apply(struct dir_db *db, const struct dir_db_actor *actor,
                         const struct dir_db_write *w, struct dir_db_result *res, char *err,
                         size_t errlen);

/* ---- imports of spreadsheet files (dir_db_write.c; dir_import.c builds the rows) ---- */

enum { DIR_DB_IMPORT_CREATED, DIR_DB_IMPORT_UPDATED, DIR_DB_IMPORT_UNCHANGED, DIR_DB_IMPORT_ERROR };

/* One row of an imported file. */
struct dir_db_import_row {
    struct dir_db_write w; /* in: the validated write (W.id / W.code: the matched row; the
                            * version is not checked); W.entity NULL: skip (a row the
                            * checks refused) */
    int outcome;           /* out: DIR_DB_IMPORT_* */
    char id[80];           /* out: the id or code written or matched */
    char err[200];         /* out, DIR_DB_IMPORT_ERROR: PostgreSQL's reason */
};

/* One import: audited as one operation (an audit row, entity "import"), its rows' audit rows
 * pointing at it (audit.import_id). */
struct dir_db_import {
    const char *kind;      /* organizations, people, communities */
    const char *file_name; /* as the caller named it */
    const char *sha256;    /* of the file's bytes, 64 hex digits */
    bool commit;           /* false: a dry run (everything is rolled back) */
    int errors;            /* rows the checks refused already: nothing is committed */
};

/* Applies ROWS[0..N) in one transaction, in batches of 500 rows per round trip
 * (dir_import_rows in schema/, 0016), each row in its own subtransaction: a row whose audit
 * JSON does not change is rolled back and counted unchanged; a row PostgreSQL refuses is
 * reported (outcome ERROR) and the others still run. Commits only when IMP->commit, no row
 * failed and IMP->errors is 0: then *IMPORT_ID is the import's id and *SEQ the change-log
 * sequence that includes it (else both 0 and nothing is written). DIR_ERR_DB when
 * PostgreSQL failed (nothing written). */
enum dir_rc dir_db_import_apply(struct dir_db *db, const struct dir_db_actor *actor,
                                const struct dir_db_import *imp, struct dir_db_import_row *rows,
                                int n, long long *import_id, long long *seq, char *err,
                                size_t errlen);
/* Every organisation, person or community (KIND as above) as the audit trail shows it
 * (dir_org_json, dir_person_json, dir_area_json), in key order: a new JSON array (caller
 * decrefs). */
enum dir_rc dir_db_import_export(struct dir_db *db, const char *kind, json_t **items, char *err,
                                 size_t errlen);

/* Audit rows matching the filters (NULL/0 = any), newest first, as a JSON array string
 * (caller frees). BEFORE_ID pages (0 = from the newest). */
enum dir_rc dir_db_audit(struct dir_db *db, const char *entity, const char *entity_id,
                         const char *actor, const char *since, long long before_id, int limit,
                         char **json_out, char *err, size_t errlen);

/* API clients as a JSON array string (caller frees): name, role, created_at, expires_at,
 * revoked_at, last_used_at (null when never used). Never the secret or its hash. */
enum dir_rc dir_db_list_clients(struct dir_db *db, char **json_out, char *err, size_t errlen);
/* Creates client NAME (DIR_ERR_STATE if the name is taken) with an audit row. EXPIRES is an
 * ISO 8601 time or NULL. */
enum dir_rc dir_db_create_client(struct dir_db *db, const struct dir_db_actor *actor,
                                 const char *name, const char *role, const char *expires,
                                 const uint8_t hash[DIR_AUTH_HASH_LEN], long long *seq,
                                 char *err, size_t errlen);
/* Revokes client NAME now (DIR_ERR_NOTFOUND if unknown) with an audit row. */
enum dir_rc dir_db_revoke_client(struct dir_db *db, const struct dir_db_actor *actor,
                                 const char *name, long long *seq, char *err, size_t errlen);

/* ---- sessions and local accounts (dir_db_write.c) ---- */

/* The key that signs sessions, shared by every daemon on this database: created (from
 * CANDIDATE) if there is none yet, else the stored one. Never logged. */
enum dir_rc dir_db_server_key(struct dir_db *db, const uint8_t candidate[32], uint8_t key[32],
                              char *err, size_t errlen);
/* --- replica --- */
/* The stored session key without writing anything (works on a standby); DIR_ERR_NOTFOUND
 * when there is none yet. Never logged. */
enum dir_rc dir_db_server_key_read(struct dir_db *db, uint8_t key[32], char *err, size_t errlen);
/* A local account's argon2id hash and role; DIR_ERR_NOTFOUND if none (or disabled). */
enum dir_rc dir_db_local_account(struct dir_db *db, const char *username, char *hash, size_t hn,
                                 char *role, size_t rn, char *err, size_t errlen);
/* Creates or updates a local account. */
enum dir_rc dir_db_put_local_account(struct dir_db *db, const char *username, const char *hash,
                                     const char *role, char *err, size_t errlen);
/* The role an admin set for staff member USERNAME; DIR_ERR_NOTFOUND if none. */
enum dir_rc dir_db_staff_role(struct dir_db *db, const char *username, char *role, size_t rn,
                              char *err, size_t errlen);
/* Sets (ROLE) or clears (ROLE NULL) the role an admin gives staff member USERNAME, with an
 * audit row. */
enum dir_rc dir_db_set_staff_role(struct dir_db *db, const struct dir_db_actor *actor,
                                  const char *username, const char *role, char *err,
                                  size_t errlen);
/* Records session SID as revoked until EXPIRES (epoch seconds); *SEQ is the change that
 * carries it to every daemon. */
enum dir_rc dir_db_revoke_session(struct dir_db *db, const char *sid, long long expires,
                                  long long *seq, char *err, size_t errlen);

/* ---- reports of mistakes (dir_db_report.c) ---- */

/* A new report, as validated by dir_report_check. */
struct dir_db_report {
    const char *entity;    /* organization, person or area */
    const char *entity_id; /* the organisation's or person's id, or the area code */
    const char *message;   /* 1..2000 characters */
    const char *contact;   /* 1..200 characters, or NULL */
};

/* Stores report R from ACTOR (ACTOR->kind NULL: anonymous) with its audit row, in one
 * statement; *ID and CREATED_AT (ISO 8601 UTC, 32 bytes) say what was stored. */
enum dir_rc dir_db_report_add(struct dir_db *db, const struct dir_db_actor *actor,
                              const struct dir_db_report *r, long long *id, char *created_at,
                              char *err, size_t errlen);

/* What GET /v1/reports lists: NULL fields match everything. */
struct dir_db_report_filter {
    const char *status;    /* open or resolved */
    const char *entity;    /* organization, person or area */
    const char *entity_id; /* with ENTITY */
    long long after;       /* reports with a greater id (0 = from the first) */
    int limit;
};

/* Reports matching F, oldest first, at most F->limit, as a new JSON array (caller decrefs) of
 * {id, entity, entity_id, message, contact, status, created_at, reporter_kind, reporter,
 * resolved_at, resolved_by, resolution, note, updated_at}. */
enum dir_rc dir_db_report_list(struct dir_db *db, const struct dir_db_report_filter *f,
                               json_t **items, char *err, size_t errlen);

/* Resolves (RESOLVE true, with RESOLUTION "fixed", "not_a_mistake" or NULL) or reopens report
 * ID for ACTOR, with NOTE (or NULL), and its audit row, in one statement. *ITEM is the report
 * as dir_db_report_list shows it (caller decrefs): after the change, or as it is when it was
 * already resolved (reopened), which returns DIR_ERR_STATE and changes nothing.
 * DIR_ERR_NOTFOUND when there is no report ID. */
enum dir_rc dir_db_report_set(struct dir_db *db, const struct dir_db_actor *actor, long long id,
                              bool resolve, const char *resolution, const char *note,
                              json_t **item, char *err, size_t errlen);

/* ---- the verification worklist (dir_db_worklist.c, uiwork) ---- */

/* What GET /v1/worklist/verification lists: NULL filters match everything. */
struct dir_db_worklist_filter {
    const char *entity;   /* organization or person */
    int stale_days;       /* verified longer ago than this is stale */
    const char *zone;     /* a zone group's code */
    const char *district; /* a district's area code */
    const char *type;     /* an organisation type (a person's home organisation's) */
    bool after_set;       /* false: the first page */
    bool after_null;      /* the last row seen was never verified */
    long long after_us;   /* else its verified_at, microseconds since 1970 */
    long long after_id;   /* and its id */
    int limit;
};

/* One page of active entries never verified or stale, most stale first, as a new JSON array
 * (caller decrefs) of {entity, id, name_th, name_en, district, district_name_th,
 * district_name_en, zone, type, verified_at (ISO 8601 UTC, or null), version, cursor}
 * (see 0013_worklist.sql). */
enum dir_rc dir_db_worklist_verification(struct dir_db *db, const struct dir_db_worklist_filter *f,
                                         json_t **items, char *err, size_t errlen);

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

/* ---- staff sync from the city LDAP (dir_db_sync.c) ---- */

/* Where incremental sync resumes. */
struct dir_db_sync_state {
    char mode[16];         /* full, syncrepl, persist, poll; "" before the first run */
    char *cookie;          /* RFC 4533 cookie bytes (NUL-terminated too), or NULL */
    size_t cookie_len;
    char watermark[96];    /* poll: newest modifyTimestamp seen, "usn:..." (AD), or "" */
    long long last_full_at; /* epoch seconds of the last committed full sync, 0 = never */
};

struct dir_db_sync_counts {
    int created, updated, deactivated, reactivated, relinked, unchanged, skipped;
};

/* One open sync transaction. */
struct dir_db_sync;

/* Reads the sync state into ST (zeroed when there is none); free with dir_db_sync_state_free. */
enum dir_rc dir_db_sync_state_get(struct dir_db *db, struct dir_db_sync_state *st, char *err,
                                  size_t errlen);
void dir_db_sync_state_free(struct dir_db_sync_state *st);
/* Forgets the cookie (the server no longer accepts it); the next run is a full one. */
enum dir_rc dir_db_sync_forget_cookie(struct dir_db *db, char *err, size_t errlen);
/* Records a new run (status running) in its own transaction; *RUN_ID is its id. */
enum dir_rc dir_db_sync_run_new(struct dir_db *db, const char *mode, const char *trigger,
                                long long *run_id, char *err, size_t errlen);
/* Adds counts N (may be NULL) and DETAILS (arrays appended, other keys replaced; may be
 * NULL) to run RUN_ID and, when STATUS is not NULL, sets its status (ending it unless
 * "running") and ERRORS. In its own transaction. */
enum dir_rc dir_db_sync_run_add(struct dir_db *db, long long run_id, const char *status,
                                const struct dir_db_sync_counts *n, const char *errors,
                                const json_t *details, char *err, size_t errlen);
/* Sets run RUN_ID's mode (a run that had to read everything becomes "full"). */
enum dir_rc dir_db_sync_run_mode(struct dir_db *db, long long run_id, const char *mode, char *err,
                                 size_t errlen);
/* Marks runs left "running" by a process that stopped as failed (call at start-up). */
enum dir_rc dir_db_sync_close_stale_runs(struct dir_db *db, char *err, size_t errlen);
/* The newest LIMIT runs (before id BEFORE_ID, 0 = from the newest) as a JSON array string;
 * caller frees. */
enum dir_rc dir_db_sync_runs(struct dir_db *db, int limit, long long before_id, char **json_out,
                             char *err, size_t errlen);

/* Starts the applying transaction (waiting for any other sync's). Caller ends it with
 * dir_db_sync_end. Every call below returns DIR_ERR_DB once a statement failed; the
 * transaction can then only be rolled back (dir_db_sync_error says why). */
enum dir_rc dir_db_sync_begin(struct dir_db *db, struct dir_db_sync **out, char *err,
                              size_t errlen);
/* The first failure in TX ("" if none); borrowed, valid until dir_db_sync_end. */
const char *dir_db_sync_error(const struct dir_db_sync *tx);
/* *TOTAL = active synced people. */
enum dir_rc dir_db_sync_census(struct dir_db_sync *tx, int *total);
/* One active synced person (strings borrowed for the call; USERNAME may be NULL). */
typedef void (*dir_db_sync_person_fn)(void *arg, long long id, const char *uuid,
                                      const char *username, const char *name_th);
/* Calls FN for every active synced person, in id order. */
enum dir_rc dir_db_sync_active(struct dir_db_sync *tx, dir_db_sync_person_fn fn, void *arg);
/* The active synced people whose LDAP uuid is in UUIDS (a JSON array of strings), as a new
 * JSON array of {id, uuid, username, name_th} in id order (caller decrefs). */
enum dir_rc dir_db_sync_deleted(struct dir_db_sync *tx, const json_t *uuids, json_t **people);
/* Upserts one LDAP entry (see dir_sync_person in 0005_sync.sql and 0010_sync_reactivated.sql);
 * *RESULT is a new JSON object {op, id, moved, reason} (caller decrefs). A bad entry is reported as op "skipped",
 * not as an error. */
enum dir_rc dir_db_sync_put(struct dir_db_sync *tx, const json_t *entry, json_t **result);
/* Upserts the LDAP entries of ENTRIES (a JSON array) in order, in one round trip
 * (dir_sync_people in 0011_sync_batch.sql); *RESULTS is a new JSON array of one
 * dir_db_sync_put result per entry, in the same order (caller decrefs). */
enum dir_rc dir_db_sync_put_many(struct dir_db_sync *tx, const json_t *entries, json_t **results);
/* The entries of ENTRIES (a JSON array of dir_sync_person entries) whose LDAP identity is new
 * but whose username or LDAP e-mail belongs to a synced person with another identity, as a
 * new JSON array of {uuid, dn, id, old_uuid, username, name_th, active, by} (caller
 * decrefs; see dir_sync_relink_candidates in 0010_sync_relink.sql). */
enum dir_rc dir_db_sync_relink_candidates(struct dir_db_sync *tx, const json_t *entries,
                                          json_t **candidates);
/* Moves synced person ID to LDAP identity UUID (entry DN), keeping everything else, with an
 * audit row 'relink'; *DONE false when ID is not a synced person or UUID is taken. */
enum dir_rc dir_db_sync_relink(struct dir_db_sync *tx, long long id, const char *uuid,
                               const char *dn, bool *done);
/* Deactivates synced person ID (audit row; memberships kept); *DONE false if not active. */
enum dir_rc dir_db_sync_deactivate(struct dir_db_sync *tx, long long id, bool *done);
/* Stores where the next run resumes: MODE, and COOKIE / WATERMARK when not NULL (NULL keeps
 * the stored one); FULL records that this was a full sync. */
enum dir_rc dir_db_sync_save_state(struct dir_db_sync *tx, const char *mode, const char *cookie,
                                   size_t cookie_len, const char *watermark, bool full);
/* dir_db_sync_run_add inside the applying transaction (the counts commit with the changes). */
enum dir_rc dir_db_sync_tx_run_add(struct dir_db_sync *tx, long long run_id, const char *status,
                                   const struct dir_db_sync_counts *n, const char *errors,
                                   const json_t *details);
/* Commits (COMMIT true and no failure) or rolls back, releases the connection and frees TX.
 * Returns the first failure (with ERR), or DIR_ERR_DB if the commit failed. */
enum dir_rc dir_db_sync_end(struct dir_db_sync *tx, bool commit, char *err, size_t errlen);

/* ---- local accounts and API clients' use (dir_db_admin.c) ---- */

/* Local accounts as a JSON array string (caller frees): username, display_name, role,
 * disabled, disabled_at, created_at, updated_at. Never the password hash. */
enum dir_rc dir_db_accounts_list(struct dir_db *db, char **json_out, char *err, size_t errlen);
/* Creates local account USERNAME with the argon2id HASH (DIR_ERR_STATE when the name is
 * taken), audited 'create'; *JSON_OUT is its JSON (caller frees). DISPLAY_NAME may be NULL. */
enum dir_rc dir_db_account_create(struct dir_db *db, const struct dir_db_actor *actor,
                                  const char *username, const char *hash, const char *role,
                                  const char *display_name, char **json_out, char *err,
                                  size_t errlen);
/* Sets USERNAME's password HASH (DIR_ERR_NOTFOUND when none), audited 'password' without
 * the hash; *JSON_OUT is the account's JSON (caller frees). */
enum dir_rc dir_db_account_password(struct dir_db *db, const struct dir_db_actor *actor,
                                    const char *username, const char *hash, char **json_out,
                                    char *err, size_t errlen);
/* Disables (DISABLED) or enables USERNAME, audited 'disable' / 'enable'; *JSON_OUT as above. */
enum dir_rc dir_db_account_disable(struct dir_db *db, const struct dir_db_actor *actor,
                                   const char *username, bool disabled, char **json_out,
                                   char *err, size_t errlen);
/* Staff roles set by admins as a JSON array string (caller frees): username, role, set_by,
 * updated_at, and the synced person of that username (person_id, name_th, name_en; null
 * when none). */
enum dir_rc dir_db_staff_roles_list(struct dir_db *db, char **json_out, char *err, size_t errlen);
/* Notes that API client NAME was last used at AT (Unix seconds; an earlier time never
 * replaces a later one) in api_client_use (no change-log row). */
enum dir_rc dir_db_client_used(struct dir_db *db, const char *name, long long at, char *err,
                               size_t errlen);

#endif
