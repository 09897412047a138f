/* dir_sync.h - staff sync from the city LDAP: the people of sync_base become directory people
 * with source 'ldap' (names, titles, username, e-mail and phones, the unit's membership).
 *
 * Ways to read LDAP (sync_mode):
 *   full     a paged search (RFC 2696) of everything; the only way deletions are seen for
 *            certain, so it also runs every 12 sync intervals and whenever there is no
 *            resume point;
 *   syncrepl RFC 4533 refreshOnly with the cookie stored in PostgreSQL (changes only);
 *   persist  RFC 4533 refreshAndPersist: a standing search, changes applied as they come
 *            (deletions held 2 s, and limited cumulatively since the last full run);
 *   poll     servers without RFC 4533 (no syncprov, Active Directory): entries whose
 *            modifyTimestamp is at or after the newest one seen before;
 *   auto     syncrepl when the server offers it, else poll.
 * A run applies in one PostgreSQL transaction, so a failed run changes nothing. A run that
 * would deactivate more than sync_max_deactivate_pct % of the synced people, or a full read
 * that sees no entries, is refused (recorded, nothing changed) unless forced. Every run is
 * recorded in sync_run with its counts and the people it created, updated and deactivated.
 * The bind password is read from sync_password_file, used for the bind and wiped; it is
 * never logged.
 */
#ifndef DIR_SYNC_H
#define DIR_SYNC_H

#include "dir_buf.h"
#include "dir_cfg.h"
#include "dir_db.h"
#include "dir_http.h"
#include "dir_write.h"

#include <jansson.h>
#include <stdbool.h>

struct dir_sync;

struct dir_sync_req {
    bool full;           /* read everything (paged) even when incremental is possible */
    bool dry_run;        /* change nothing; report what would change */
    bool force;          /* apply past the deactivation limit, or with no entries */
    bool relink;         /* a full read that moves a new LDAP identity to the synced person
                            whose username or e-mail it has, when the old identity is gone
                            (a rebuilt city LDAP) */
    const char *trigger; /* static: schedule, cli, api */
};

struct dir_sync_report {
    long long run_id; /* 0 when the run could not even be recorded */
    char status[16];  /* ok, attention (committed, but more skipped than the guard's share),
                         failed, refused, dry-run */
    char mode[16];    /* full, syncrepl, poll */
    struct dir_db_sync_counts n;
    char message[600]; /* a one-line summary, or why it failed or was refused */
    json_t *details;   /* {created: [...], updated, reactivated, relinked, deactivated,
                          skipped, relink_candidates, ...}; owned */
    /* Where the run's time went, in milliseconds (logged, and in details.phases_ms): reading
     * the city LDAP, finding who is gone and the re-link candidates, upserting the entries,
     * deactivating, committing. */
    struct {
        double read, prepare, apply, deactivate, commit;
    } ms;
};

/* Makes the sync engine for CFG and DB (both borrowed; they must outlive it). Never fails;
 * caller frees with dir_sync_free. */
struct dir_sync *dir_sync_new(const struct dir_cfg *cfg, struct dir_db *db);
/* True when sync_uri is set and sync_mode is not off. */
bool dir_sync_configured(const struct dir_sync *s);
/* Starts the background thread (runs at start, then every sync_interval_s, or a standing
 * refreshAndPersist search in persist mode; failures retry with backoff). Does nothing
 * when not configured. DIR_ERR_INVALID (with ERR) for a bad sync_mode or unit map. */
enum dir_rc dir_sync_start(struct dir_sync *s, char *err, size_t errlen);
/* Stops the thread (waiting for a run in progress to stop at its next step) and frees S.
 * NULL is a no-op. */
void dir_sync_free(struct dir_sync *s);

/* Runs one sync now, in the caller's thread (one run at a time per process). Fills REP
 * (free with dir_sync_report_free). Returns DIR_OK for an ok, attention or dry run; DIR_ERR_STATE
 * when refused; DIR_ERR_IO when the city LDAP failed (down, dropped, refused the credentials);
 * DIR_ERR_DB when PostgreSQL failed; DIR_ERR_INVALID when not configured. In every failure
 * nothing was changed; REP->message says why. */
enum dir_rc dir_sync_run(struct dir_sync *s, const struct dir_sync_req *req,
                         struct dir_sync_report *rep);
void dir_sync_report_free(struct dir_sync_report *rep);

/* The admin route POST /v1/admin/sync: asks for a run now (202), with the body's flags.
 * The router (dir_api's table) has checked the method, the admin role and the query. WHO is
 * the caller (for the log). S NULL: 409 not configured. */
void dir_sync_http_run(struct dir_sync *s, const struct dir_caller *who,
                       const struct dir_http_req *req, struct dir_http_resp *resp);
/* The admin route GET /v1/admin/sync/runs: the run history, newest first ("limit" 1-100,
 * "before" a run id; checked by the router). S NULL: 503. */
void dir_sync_http_runs(struct dir_sync *s, const struct dir_http_req *req,
                        struct dir_http_resp *resp);

/* Appends ,"sync":{...} (the last run's state) to a JSON object being built in OUT; nothing
 * when S is NULL. */
void dir_sync_health(struct dir_sync *s, struct dir_buf *out);

#endif
