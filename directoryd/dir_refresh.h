/* dir_refresh.h - keeps the served read-model snapshot current with PostgreSQL.
 *
 * A thread waits for NOTIFY directoryd_changes on its own connection and also polls the
 * change log every refresh_ms (so it works on a hot standby where LISTEN is refused).
 * When the log's newest sequence moves, it reads the change-log rows after the served
 * version and the fresh rows of the entities they name, and applies them (dir_model_apply:
 * only what depends on those entities is rebuilt) into a new version it swaps in; readers
 * holding the old one finish on it (see dir_model.h for why versions are swapped, not
 * locked). A burst of more than 2,000 rows, a change that is not applied in place (areas,
 * taxonomies, holidays, a deletion, a bulk load), start-up, recovery, an hourly rebuild (so
 * "stale" marks follow the calendar) and compaction (after 1,000 applied versions) load a
 * full snapshot instead. If PostgreSQL is away the current snapshot keeps being served and
 * loading is retried with backoff.
 *
 * Derived views (the LDAP face's entry view) are built by a second thread, the warmer, for
 * the newest version; dir_refresh_acquire_warm gives the newest version whose views are
 * built, so their readers never wait for a build.
 */
#ifndef DIR_REFRESH_H
#define DIR_REFRESH_H

#include "dir_db.h"
#include "dir_model.h"

struct dir_refresh;

/* Loads the first snapshot (if PostgreSQL answers; else the thread keeps trying) and starts
 * the thread. Borrows DB, which must outlive the refresher. Caller stops it with
 * dir_refresh_stop. */
struct dir_refresh_opts {
    const char *url;  /* for the LISTEN connection */
    int refresh_ms;   /* poll interval */
    int stale_days;   /* staleness threshold */
    int changes_kept; /* change-log rows kept for GET /v1/changes */
    /* Called on the warmer thread with the newest snapshot after it is served (versions
     * superseded meanwhile are skipped), to build derived views before a request thread
     * needs them; may be NULL. */
    void (*after_publish)(void *arg, struct dir_model *m, struct dir_model *prev);
    void *after_arg;
    /* --- replica --- */
    struct dir_db *write_db; /* borrowed: where the refresher's few writes (API clients' last
                              * use) go; NULL = the same as DB */
};
enum dir_rc dir_refresh_start(struct dir_db *db, const struct dir_refresh_opts *opts,
                              struct dir_refresh **out, char *err, size_t errlen);
/* Stops the thread and drops the current snapshot. NULL is a no-op. */
void dir_refresh_stop(struct dir_refresh *r);
/* The current snapshot with one reference taken (caller drops it with dir_model_release),
 * or NULL before the first load. */
struct dir_model *dir_refresh_acquire(struct dir_refresh *r);

/* The newest snapshot whose after_publish has run (the current one when there is no
 * after_publish, or before the first has run), one reference taken as for
 * dir_refresh_acquire. For readers of derived views: they never wait for a view build. */
struct dir_model *dir_refresh_acquire_warm(struct dir_refresh *r);

/* obs: uses DAYS as stale_days from now on (SIGHUP): a full snapshot is loaded at once so
 * the "stale" marks follow it. */
void dir_refresh_set_stale_days(struct dir_refresh *r, int days);
/* Asks the thread to look at the change log now (after a write). */
void dir_refresh_kick(struct dir_refresh *r);
/* Waits until the served snapshot includes change SEQ, or TIMEOUT_MS pass; true if it does.
 * Gives writers read-your-writes: the answer to a write shows the write. Kicks the thread,
 * which meanwhile polls the change log every 10 ms (the snapshot may come from a standby
 * that replays the write a little after the primary committed it). */
bool dir_refresh_wait(struct dir_refresh *r, long long seq, int timeout_ms);

#endif
