/* dir_refresh.c - the refresher thread and the published snapshot pointer. */
#include "dir_refresh.h"
#include "dir_admin.h"
#include "dir_log.h"
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

struct dir_refresh {
    struct dir_db *db;
    char *url;
    int refresh_ms, stale_days, changes_kept;
    void (*after_publish)(void *arg, struct dir_model *m);
    void *after_arg;
    pthread_mutex_t lock; /* guards cur only; held for a pointer copy and a count */
    pthread_cond_t published;
    struct dir_model *cur;
    pthread_t thread;
    int wake[2]; /* self-pipe: a byte means "stop" */
    bool started;
};

struct dir_model *dir_refresh_acquire(struct dir_refresh *r)
{
    pthread_mutex_lock(&r->lock);
    struct dir_model *m = r->cur;
    if (m)
        atomic_fetch_add(&m->refs, 1);
    pthread_mutex_unlock(&r->lock);
    return m;
}

static void publish(struct dir_refresh *r, struct dir_model *m)
{
    pthread_mutex_lock(&r->lock);
    struct dir_model *old = r->cur;
    r->cur = m;
    pthread_cond_broadcast(&r->published);
    pthread_mutex_unlock(&r->lock);
    dir_model_release(old);
}

static enum dir_rc reload(struct dir_refresh *r, char *err, size_t errlen)
{
    struct timespec t0, t1;
    struct dir_model *m;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum dir_rc rc = dir_db_load_model(r->db, r->stale_days, r->changes_kept, &m, err, errlen);
    if (rc)
        return rc;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    DIR_LOG(DIR_LOG_INFO, "refresh",
            "snapshot at change %lld: %d areas, %d organizations, %d people, %d clients in %ld ms "
            "(%zu MB)",
            m->seq, m->nareas, m->norgs, m->npeople, m->nclients, ms,
            dir_arena_used(m->arena) >> 20);
    publish(r, m);
    if (r->after_publish) {
        struct dir_model *cur = dir_refresh_acquire(r);
        if (cur)
            r->after_publish(r->after_arg, cur);
        dir_model_release(cur);
    }
    /* Loading leaves freed heap behind (query results, the builder's scratch, the old
     * snapshot once its last reader lets go): give it back to the system. */
    malloc_trim(0);
    return DIR_OK;
}

static void *loop(void *arg)
{
    struct dir_refresh *r = arg;
    struct dir_db_listener *lis = NULL;
    bool listening = false, failing = false;
    int backoff_ms = r->refresh_ms;
    char err[512];

    for (;;) {
        if (!lis) {
            lis = dir_db_listener_open(r->url, &listening, err, sizeof err);
            if (!lis && !failing)
                DIR_LOG(DIR_LOG_WARN, "refresh", "%s", err);
        }
        struct pollfd fds[2] = {{.fd = r->wake[0], .events = POLLIN},
                                {.fd = lis ? dir_db_listener_fd(lis) : -1, .events = POLLIN}};
        int wait_ms = failing ? backoff_ms : r->refresh_ms;
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

        long long seq;
        struct dir_model *m = dir_refresh_acquire(r);
        enum dir_rc rc = dir_db_change_seq(r->db, &seq, err, sizeof err);
        if (!rc && (!m || seq != m->seq || time(NULL) - m->built_at > REBUILD_EVERY_S))
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
        if (!rc) dir_admin_flush_uses(r->db, false); /* API clients' last use, noted by requests */
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
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->published, NULL);
    if (pipe2(r->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        dir_refresh_stop(r);
        return DIR_ERR_IO;
    }
    char msg[512];
    if (reload(r, msg, sizeof msg))
        DIR_LOG(DIR_LOG_WARN, "refresh", "first load failed, retrying: %s", msg);
    if (pthread_create(&r->thread, NULL, loop, r) != 0) {
        snprintf(err, errlen, "cannot start the refresher thread");
        dir_refresh_stop(r);
        return DIR_ERR_STATE;
    }
    r->started = true;
    *out = r;
    return DIR_OK;
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
    if (r->wake[0] > 0) {
        close(r->wake[0]);
        close(r->wake[1]);
    }
    dir_model_release(r->cur);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->published);
    free(r->url);
    free(r);
}
