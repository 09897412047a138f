/* dir_refresh.c - the refresher thread, the published snapshot pointer, and the warmer
 * thread that builds derived views (the LDAP face's) of each new version off the
 * refresher's path. */
#include "dir_refresh.h"
#include "dir_admin.h"
#include "dir_hsds.h"
#include "dir_log.h"
#include "dir_metrics.h"
#include "dir_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REBUILD_EVERY_S 3600
/* A delta of more rows than this is loaded whole (an import, a bulk sync): cheaper than
 * building thousands of entities one by one, and readers keep the last version meanwhile. */
#define MAX_DELTA_CHANGES 2000
/* Compaction: a full load after this many applied versions or this much superseded memory. */
#define MAX_APPLIED 1000
#define MAX_DELTA_BYTES ((size_t)64 << 20)
/* Freed heap goes back to the system this often (malloc_trim): request threads free their
 * answers' buffers into arenas of their own, which otherwise keep the pages (8 MB of RSS at
 * 100,000 people after a benchmark run). */
#define TRIM_EVERY_S 30

struct dir_refresh {
    struct dir_db *db;
    char *url;
    int refresh_ms, stale_days, changes_kept;
    void (*after_publish)(void *arg, struct dir_model *m, struct dir_model *prev);
    void *after_arg;
    pthread_mutex_t lock; /* guards cur, warm and the warmer's flags; held briefly */
    pthread_cond_t published;
    struct dir_model *cur;
    struct dir_model *warm; /* the newest version whose derived views are built */
    pthread_cond_t wake_warmer;
    bool warmer_stop, warmer_started;
    pthread_t thread, warmer;
    int wake[2]; /* self-pipe: a byte means "stop" */
    bool started;
    atomic_int new_stale_days; /* obs: a stale_days set by SIGHUP, not yet used (0: none) */
    /* --- replica --- */
    struct dir_db *write_db;    /* where API clients' last use is written */
    long long want_seq;         /* the newest change a writer waits for (under lock) */
    struct timespec want_until; /* CLOCK_MONOTONIC: until then the log is polled every FAST_MS */
    /* A full load that is due (hourly, compaction, new stale_days) rather than needed is made
     * on a thread of its own while the refresher goes on applying changes, so an edit never
     * waits for it (1.7 s at 100,000 people, 17 s at 1,000,000): once it is done, the changes
     * since its sequence are applied to it and it is published. Only the refresher thread
     * touches these. */
    struct {
        pthread_t thread;
        bool running;     /* started, not yet joined */
        atomic_bool done; /* the thread has finished: M or RC/ERR are set */
        atomic_bool stop; /* the daemon is stopping: skip what is left (the view build) */
        int stale_days;
        struct dir_model *m;
        enum dir_rc rc;
        char err[256];
        long ms;
    } bg;
};

/* While a writer waits for its change to reach the model (a standby replays it a little
 * after the primary committed it), the change log is polled this often instead of every
 * refresh_ms. */
#define FAST_MS 10

/* True while a writer waits for a change the served version does not include yet. */
static bool writer_waiting(struct dir_refresh *r)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&r->lock);
    bool w = r->cur && r->want_seq > r->cur->seq &&
             (now.tv_sec < r->want_until.tv_sec ||
              (now.tv_sec == r->want_until.tv_sec && now.tv_nsec < r->want_until.tv_nsec));
    pthread_mutex_unlock(&r->lock);
    return w;
}

struct dir_model *dir_refresh_acquire(struct dir_refresh *r)
{
    pthread_mutex_lock(&r->lock);
    struct dir_model *m = r->cur;
    if (m)
        atomic_fetch_add(&m->refs, 1);
    pthread_mutex_unlock(&r->lock);
    return m;
}

struct dir_model *dir_refresh_acquire_warm(struct dir_refresh *r)
{
    pthread_mutex_lock(&r->lock);
    struct dir_model *m = r->warm ? r->warm : r->cur;
    if (m)
        atomic_fetch_add(&m->refs, 1);
    pthread_mutex_unlock(&r->lock);
    return m;
}

static void publish(struct dir_refresh *r, struct dir_model *m)
{
    pthread_mutex_lock(&r->lock);
    struct dir_model *old = r->cur, *old_warm = NULL;
    r->cur = m;
    dir_metrics_snapshot(m->seq);
    if (!r->after_publish) { /* nothing to warm: every version is ready as it comes */
        old_warm = r->warm;
        r->warm = NULL;
    }
    pthread_cond_broadcast(&r->published);
    pthread_cond_signal(&r->wake_warmer);
    pthread_mutex_unlock(&r->lock);
    dir_model_release(old);
    dir_model_release(old_warm);
}

/* The warmer: builds the derived views of the newest version (skipping versions superseded
 * meanwhile), then serves it to dir_refresh_acquire_warm's callers, who until then keep the
 * previous warm version and so never wait for a view build. */
static void *warmer_loop(void *arg)
{
    struct dir_refresh *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (!r->warmer_stop && (!r->cur || r->cur == r->warm))
            pthread_cond_wait(&r->wake_warmer, &r->lock);
        if (r->warmer_stop)
            break;
        struct dir_model *m = r->cur, *prev = r->warm;
        atomic_fetch_add(&m->refs, 1);
        if (prev) atomic_fetch_add(&prev->refs, 1);
        pthread_mutex_unlock(&r->lock);
        r->after_publish(r->after_arg, m, prev);
        dir_model_release(prev);
        pthread_mutex_lock(&r->lock);
        struct dir_model *old = r->warm;
        r->warm = m;
        pthread_mutex_unlock(&r->lock);
        dir_model_release(old);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Applies the change log after the current version; false with ERR when a full load is
 * needed (or PostgreSQL failed: *DB_FAILED). */
static bool apply_changes(struct dir_refresh *r, struct dir_model *cur, bool *db_failed,
                          char *err, size_t errlen)
{
    struct timespec t0, t1;
    struct dir_model *m;
    int n;
    *db_failed = false;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum dir_rc rc =
        dir_db_apply_changes(r->db, cur, MAX_DELTA_CHANGES, r->changes_kept, &m, &n, err, errlen);
    if (rc) {
        *db_failed = rc == DIR_ERR_DB;
        return false;
    }
    if (!m)
        return true;
    dir_hsds_index_warm(m); /* the organisations changed since the full load: a few ids */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    DIR_LOG(DIR_LOG_INFO, "refresh",
            "applied changes %lld..%lld (%d rows): %d organizations, %d people in %ld us "
            "(the new version %ld us; version %d since the full load)",
            cur->seq + 1, m->seq, n, m->norgs, m->npeople, us, m->apply_us, m->applied);
    publish(r, m);
    return true;
}

static enum dir_rc reload(struct dir_refresh *r, char *err, size_t errlen)
{
    struct timespec t0, t1;
    struct dir_model *m;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum dir_rc rc = dir_db_load_model(r->db, r->stale_days, r->changes_kept, &m, err, errlen);
    if (rc)
        return rc;
    dir_hsds_index_warm(m); /* HSDS lookups by id never wait for the table */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    DIR_LOG(DIR_LOG_INFO, "refresh",
            "snapshot at change %lld: %d areas, %d organizations, %d people, %d clients in %ld ms "
            "(%zu MB)",
            m->seq, m->nareas, m->norgs, m->npeople, m->nclients, ms,
            dir_arena_used(m->arena) >> 20);
    publish(r, m);
    /* Loading leaves freed heap behind (query results, the builder's scratch, the old
     * snapshot once its last reader lets go): give it back to the system. */
    malloc_trim(0);
    return DIR_OK;
}

static void *bg_load(void *arg)
{
    struct dir_refresh *r = arg;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r->bg.rc = dir_db_load_model(r->db, r->bg.stale_days, r->changes_kept, &r->bg.m, r->bg.err,
                                 sizeof r->bg.err);
    if (!r->bg.rc) dir_hsds_index_warm(r->bg.m);
    /* Its derived views (the LDAP face's) are built here too, off the refresher's path: the
     * version published with the changes since derives its view from this one's in
     * milliseconds, so LDAP never waits for a whole build after a background load (2-4 s at
     * 100,000 people, 30 s at 1,000,000). The old lineage's views meanwhile go on being
     * derived as changes come. The cost: two whole views in memory while it builds. */
    if (!r->bg.rc && r->after_publish && !atomic_load(&r->bg.stop))
        r->after_publish(r->after_arg, r->bg.m, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->bg.ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    atomic_store(&r->bg.done, true);
    ssize_t w = write(r->wake[1], "b", 1); /* wakes the refresher */
    (void)w;
    return NULL;
}

static void bg_start(struct dir_refresh *r, const char *why)
{
    r->bg.stale_days = r->stale_days;
    r->bg.m = NULL;
    atomic_store(&r->bg.done, false);
    if (pthread_create(&r->bg.thread, NULL, bg_load, r) != 0) {
        DIR_LOG(DIR_LOG_WARN, "refresh", "cannot start a background load (%s)", why);
        return;
    }
    r->bg.running = true;
    DIR_LOG(DIR_LOG_INFO, "refresh", "loading a full snapshot in the background: %s", why);
}

/* Joins the background load and publishes its snapshot with the changes made since. */
static void bg_finish(struct dir_refresh *r)
{
    pthread_join(r->bg.thread, NULL);
    r->bg.running = false;
    struct dir_model *s = r->bg.m;
    r->bg.m = NULL;
    if (r->bg.rc) {
        DIR_LOG(DIR_LOG_WARN, "refresh", "background load failed (tried again later): %s",
                r->bg.err);
        return;
    }
    struct dir_model *n = NULL;
    int rows = 0;
    char err[256];
    enum dir_rc rc = dir_db_apply_changes(r->db, s, MAX_DELTA_CHANGES, r->changes_kept, &n, &rows,
                                          err, sizeof err);
    if (rc) { /* the changes since need a full load themselves: the refresher makes one */
        DIR_LOG(DIR_LOG_INFO, "refresh", "background snapshot at change %lld dropped: %s", s->seq,
                err);
        dir_model_release(s);
        return;
    }
    DIR_LOG(DIR_LOG_INFO, "refresh",
            "snapshot at change %lld (loaded in the background): %d organizations, %d people in "
            "%ld ms, %d change-log rows applied since",
            n ? n->seq : s->seq, s->norgs, s->npeople, r->bg.ms, rows);
    if (n) {
        dir_hsds_index_warm(n);
        dir_model_release(s);
        s = n;
    }
    publish(r, s);
    malloc_trim(0);
}

static void *loop(void *arg)
{
    struct dir_refresh *r = arg;
    struct dir_db_listener *lis = NULL;
    bool listening = false, failing = false;
    int backoff_ms = r->refresh_ms;
    char err[512];
    time_t last_trim = time(NULL);

    for (;;) {
        if (!lis) {
            lis = dir_db_listener_open(r->url, &listening, err, sizeof err);
            if (!lis && !failing)
                DIR_LOG(DIR_LOG_WARN, "refresh", "%s", err);
        }
        struct pollfd fds[2] = {{.fd = r->wake[0], .events = POLLIN},
                                {.fd = lis ? dir_db_listener_fd(lis) : -1, .events = POLLIN}};
        int wait_ms = failing ? backoff_ms : r->refresh_ms;
        if (!failing && wait_ms > FAST_MS && writer_waiting(r)) wait_ms = FAST_MS;
        int n = poll(fds, 2, wait_ms);
        if (n < 0 && errno != EINTR)
            break;
        if (fds[0].revents) {
            char buf[64];
            ssize_t got = read(r->wake[0], buf, sizeof buf);
            if (got <= 0 || memchr(buf, 'x', (size_t)got))
                break; /* stop */
        }
        if (lis && fds[1].revents && dir_db_listener_drain(lis) < 0) {
            dir_db_listener_close(lis);
            lis = NULL;
        }

        if (r->bg.running && atomic_load(&r->bg.done)) bg_finish(r);
        struct dir_model *m = dir_refresh_acquire(r);
        enum dir_rc rc = DIR_OK;
        /* A new stale_days waits for a background load under way to finish. */
        int days = r->bg.running ? 0 : atomic_exchange(&r->new_stale_days, 0);
        if (days > 0) r->stale_days = days; /* the full load below marks with it */
        bool full = !m;
        if (m && !r->bg.running && !failing) {
            const char *due = days > 0 ? "stale_days changed"
                              : time(NULL) - m->built_at > REBUILD_EVERY_S
                                  ? "hourly, for stale marks"
                              : m->applied >= MAX_APPLIED                  ? "compaction (versions)"
                              : dir_model_delta_bytes(m) > MAX_DELTA_BYTES ? "compaction (memory)"
                                                                           : NULL;
            if (due) bg_start(r, due);
        }
        if (!full) {
            bool db_failed;
            if (!apply_changes(r, m, &db_failed, err, sizeof err)) {
                if (db_failed) {
                    rc = DIR_ERR_DB;
                } else {
                    DIR_LOG(DIR_LOG_INFO, "refresh", "loading a full snapshot: %s", err);
                    full = true;
                }
            }
        }
        if (full)
            rc = reload(r, err, sizeof err);
        dir_model_release(m);
        if (rc) {
            if (!failing)
                DIR_LOG(DIR_LOG_WARN, "refresh", "cannot refresh, serving the last snapshot: %s",
                        err);
            failing = true;
            backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
        } else if (failing) {
            DIR_LOG(DIR_LOG_INFO, "refresh", "PostgreSQL is back");
            failing = false;
            backoff_ms = r->refresh_ms;
        }
        if (!rc) dir_metrics_refresh_ok(); /* the served snapshot is current */
        if (!rc) /* API clients' last use, noted by requests */
            dir_admin_flush_uses(r->write_db ? r->write_db : r->db, false);
        if (time(NULL) - last_trim >= TRIM_EVERY_S) {
            malloc_trim(0);
            last_trim = time(NULL);
        }
    }
    dir_db_listener_close(lis);
    return NULL;
}

enum dir_rc dir_refresh_start(struct dir_db *db, const struct dir_refresh_opts *opts,
                              struct dir_refresh **out, char *err, size_t errlen)
{
    struct dir_refresh *r = dir_xcalloc(1, sizeof *r);
    r->db = db;
    r->url = dir_xstrdup(opts->url);
    r->refresh_ms = opts->refresh_ms;
    r->stale_days = opts->stale_days;
    r->changes_kept = opts->changes_kept;
    r->after_publish = opts->after_publish;
    r->after_arg = opts->after_arg;
    r->write_db = opts->write_db;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->published, NULL);
    pthread_cond_init(&r->wake_warmer, NULL);
    if (pipe2(r->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        dir_refresh_stop(r);
        return DIR_ERR_IO;
    }
    char msg[512];
    if (reload(r, msg, sizeof msg))
        DIR_LOG(DIR_LOG_WARN, "refresh", "first load failed, retrying: %s", msg);
    if (r->after_publish) {
        /* The first version's views are built before anything is served, so the first
         * search is as fast as any other. */
        struct dir_model *first = dir_refresh_acquire(r);
        if (first) {
            r->after_publish(r->after_arg, first, NULL);
            r->warm = first;
        }
        if (pthread_create(&r->warmer, NULL, warmer_loop, r) != 0) {
            snprintf(err, errlen, "cannot start the warmer thread");
            dir_refresh_stop(r);
            return DIR_ERR_STATE;
        }
        r->warmer_started = true;
    }
    if (pthread_create(&r->thread, NULL, loop, r) != 0) {
        snprintf(err, errlen, "cannot start the refresher thread");
        dir_refresh_stop(r);
        return DIR_ERR_STATE;
    }
    r->started = true;
    *out = r;
    return DIR_OK;
}

void dir_refresh_set_stale_days(struct dir_refresh *r, int days)
{
    if (!r || days <= 0) return;
    atomic_store(&r->new_stale_days, days);
    dir_refresh_kick(r);
}

void dir_refresh_kick(struct dir_refresh *r)
{
    ssize_t w = write(r->wake[1], "k", 1);
    (void)w; /* a full pipe already holds a kick */
}

bool dir_refresh_wait(struct dir_refresh *r, long long seq, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    bool ok;
    pthread_mutex_lock(&r->lock);
    if (seq > r->want_seq) r->want_seq = seq;
    clock_gettime(CLOCK_MONOTONIC, &r->want_until);
    r->want_until.tv_sec += timeout_ms / 1000 + 1;
    pthread_mutex_unlock(&r->lock);
    dir_refresh_kick(r);
    pthread_mutex_lock(&r->lock);
    while (!(ok = r->cur && r->cur->seq >= seq))
        if (pthread_cond_timedwait(&r->published, &r->lock, &until) != 0) {
            ok = r->cur && r->cur->seq >= seq;
            break;
        }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

void dir_refresh_stop(struct dir_refresh *r)
{
    if (!r)
        return;
    if (r->started) {
        ssize_t w = write(r->wake[1], "x", 1);
        (void)w;
        pthread_join(r->thread, NULL);
    }
    if (r->bg.running) {
        atomic_store(&r->bg.stop, true); /* a stop waits for the load, not the view after it */
        pthread_join(r->bg.thread, NULL);
        dir_model_release(r->bg.m);
    }
    if (r->warmer_started) {
        pthread_mutex_lock(&r->lock);
        r->warmer_stop = true;
        pthread_cond_signal(&r->wake_warmer);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->warmer, NULL);
    }
    if (r->wake[0] > 0) {
        close(r->wake[0]);
        close(r->wake[1]);
    }
    dir_model_release(r->cur);
    dir_model_release(r->warm);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->published);
    pthread_cond_destroy(&r->wake_warmer);
    free(r->url);
    free(r);
}
