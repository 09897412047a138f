/* dir_sync_int.h - what the staff sync's files share (not for other modules): the engine's
 * state, and the functions each file gives the others.
 *
 *   dir_sync.c        set-up, runs, the persist session, the background thread, HTTP, health
 *   dir_sync_ldap.c   the connection to the city LDAP and its searches (paged, RFC 4533)
 *   dir_sync_apply.c  applying a read: who is gone, the guard, counts and details
 *   dir_sync_msg.c    decoding what the server sends (no connection state)
 *   dir_sync_seen.c   the set of UUIDs a read reported
 */
#ifndef DIR_SYNC_INT_H
#define DIR_SYNC_INT_H

#include "dir_sync.h"
#include "dir_sync_msg.h"

#include <ldap.h>
#include <pthread.h>
#include <time.h>

#define DIR_SYNC_MAX_UNITS 256
#define DIR_SYNC_FULL_EVERY 12 /* a full sync every this many intervals */
#define DIR_SYNC_LIST_CAP 5000 /* most people listed per kind in a run's details */

struct dir_sync {
    const struct dir_cfg *cfg;
    struct dir_db *db;
    struct dir_sync_unit units[DIR_SYNC_MAX_UNITS];
    int nunits;
    int test_page_delay_ms; /* tests only: a pause between pages, to stop LDAP mid-sync */

    pthread_mutex_t run_lock; /* one run at a time */
    pthread_mutex_t lock;     /* what follows */
    pthread_cond_t wake;
    pthread_t thread;
    bool started;
    bool stop;
    bool requested;
    struct dir_sync_req req;
    bool no_syncprov;        /* auto mode found no RFC 4533 on the server */
    int persist_deactivated; /* by persist sessions since the last full or forced run */
    bool running;
    char last_status[16], last_mode[16], last_message[600];
    struct dir_db_sync_counts last_n; /* the last run's counts (a persist session's so far) */
    long long last_run_id;
    time_t last_at, last_ok_at;
    int failures;
};

/* A persist session's state, for the flushes of its search. */
struct dir_sync_persist {
    long long run_id;
    time_t full_at;                /* when the next full sync is due */
    bool refused;                  /* a batch went past the deactivation limit */
    json_t *would_deactivate;      /* then: whom it would have deactivated (owned) */
    struct dir_db_sync_counts sum; /* what the session has applied */
};

/* ---- dir_sync.c ---- */

/* Milliseconds on the monotonic clock (a run's phases are timed with it). */
double dir_sync_now_ms(void);

/* True when the search should end: the daemon stops or, for a standing search (PERSIST),
 * a run was asked for or UNTIL (0 = never) has come. */
bool dir_sync_stopping(struct dir_sync *s, bool persist, time_t until);
/* True when this run reads with RFC 4533 (syncrepl, persist, or auto with syncprov). */
bool dir_sync_uses_syncrepl(const struct dir_sync *s);
/* Records REP as the last run's state (healthz). */
void dir_sync_set_last(struct dir_sync *s, const struct dir_sync_report *rep);

/* ---- dir_sync_ldap.c ---- */

/* Connects, binds (StartTLS first when configured) and returns the connection in *OUT
 * (caller unbinds), or DIR_ERR_IO with MSG. */
enum dir_rc dir_sync_ldap_open(struct dir_sync *s, LDAP **out, char *msg, size_t n);
/* Reads LDAP for one run into IN: a paged full read when *FULL, else the RFC 4533 refresh
 * from ST's cookie (or, without RFC 4533, the entries changed since ST's watermark). *FULL
 * is turned on when the server refused the cookie (e-syncRefreshRequired: the stored
 * cookie is forgotten too, and IN->refresh_required set) or, in auto mode, has no RFC 4533.
 * An RFC 4533 refresh that did not end (dropped, timed out, stopped, no Sync Done) fails:
 * nothing of it may be applied. */
enum dir_rc dir_sync_ldap_read(struct dir_sync *s, LDAP *ld, const struct dir_db_sync_state *st,
                               bool *full, struct dir_sync_intake *in, char *msg, size_t n);
/* The standing refreshAndPersist search from COOKIE, calling dir_sync_apply_persist with P
 * whenever changes wait and nothing more is ready; returns when stopped, a run is
 * requested, UNTIL comes, an apply fails or refuses, or the connection drops. *RELOAD when
 * the server refused the cookie. */
enum dir_rc dir_sync_ldap_persist(struct dir_sync *s, LDAP *ld, const char *cookie,
                                  size_t cookie_len, struct dir_sync_intake *in,
                                  struct dir_sync_persist *p, time_t until, bool *reload, char *msg,
                                  size_t n);

/* ---- dir_sync_apply.c ---- */

void dir_sync_report_status(struct dir_sync_report *rep, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Applies one run's read IN: who is gone (FULL or a present phase: the synced people IN did
 * not name; and the ones the server named deleted), the guard, the changes, the resume
 * point (STATE_MODE) and the run's counts, in one transaction (rolled back for a dry or
 * refused run). Fills REP's status, counts, message and details. */
enum dir_rc dir_sync_apply_run(struct dir_sync *s, const struct dir_sync_req *req, bool full,
                               const char *state_mode, struct dir_sync_intake *in,
                               struct dir_sync_report *rep);
/* Applies what a persist search has gathered (see dir_sync_ldap_persist); nonzero (with
 * MSG) stops the search: DIR_ERR_STATE when refused (P->refused) or done ("stopped"). */
enum dir_rc dir_sync_apply_persist(struct dir_sync *s, struct dir_sync_intake *in,
                                   struct dir_sync_persist *p, char *msg, size_t n);

#endif
