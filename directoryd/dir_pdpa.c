/* dir_pdpa.c - the personal-data access log: per-thread read collection, the bounded queue,
 * and the writer thread that folds, copies and purges (see dir_pdpa.h). */
#include "dir_pdpa.h"
#include "dir_db_pdpa.h"
#include "dir_log.h"
#include "dir_mem.h"

#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A queued read: one allocation holding its ids and strings. */
struct rec {
    long long at_us;
    const char *actor_kind, *actor_id, *face, *operation;
    int n;
    long long ids[];
};

/* A row being built from reads (and kept for a retry when a flush failed). */
struct row {
    long long first_us, last_us;
    int reads;
    char *actor_kind, *actor_id, *face, *operation;
    long long *ids;
    int n, cap;
};

#define MAX_BACKLOG_ROWS 4096 /* rows kept for a retry; the oldest beyond are dropped */
#define PURGE_EVERY_S 86400
#define PURGE_RETRY_S 60

struct dir_pdpa {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct rec **q, **spare;
    int n, cap;
    bool stopping;
    pthread_t thread;
    struct dir_db *db;
    int retention_days, flush_ms;
    struct row *rows; /* built by the writer only */
    int nrows, rows_cap;
};

static _Atomic(struct dir_pdpa *) g_log;
static atomic_llong st_recorded, st_dropped, st_written, st_rows, st_failures, st_purged, st_purges;
static _Thread_local struct dir_pdpa_read *t_cur;
static atomic_int g_retention_days = 365;

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- readers ---- */

bool dir_pdpa_person_private(const struct dir_person *p)
{
    for (int i = 0; i < p->ncontacts; i++)
        if (!p->contacts[i].is_public) return true;
    return false;
}

void dir_pdpa_begin(struct dir_pdpa_read *r, const char *actor_kind, const char *actor_id,
                    const char *face, const char *operation)
{
    r->actor_kind = actor_kind ? actor_kind : "api_client";
    r->actor_id = actor_id ? actor_id : "";
    r->face = face;
    r->operation = operation ? operation : "";
    r->ids = r->inline_ids;
    r->n = 0;
    r->cap = (int)(sizeof r->inline_ids / sizeof r->inline_ids[0]);
    r->outer = t_cur;
    t_cur = r;
}

bool dir_pdpa_active(void)
{
    return t_cur != NULL;
}

void dir_pdpa_set_face(const char *face)
{
    if (t_cur) t_cur->face = face;
}

void dir_pdpa_note_id(long long id)
{
    struct dir_pdpa_read *r = t_cur;
    if (!r || id <= 0) return;
    if (r->n && r->ids[r->n - 1] == id) return; /* the same person again (LDAP values) */
    if (r->n == r->cap) {
        int cap = r->cap * 2;
        long long *ids = dir_xmalloc((size_t)cap * sizeof *ids);
        memcpy(ids, r->ids, (size_t)r->n * sizeof *ids);
        if (r->ids != r->inline_ids) free(r->ids);
        r->ids = ids;
        r->cap = cap;
    }
    r->ids[r->n++] = id;
}

void dir_pdpa_note_person(const struct dir_person *p)
{
    if (t_cur && dir_pdpa_person_private(p)) dir_pdpa_note_id(p->id);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Sorts IDS[0..N) and removes repeats; the new count. */
static int sort_unique(long long *ids, int n)
{
    if (n < 2) return n;
    qsort(ids, (size_t)n, sizeof *ids, cmp_ll);
    int k = 1;
    for (int i = 1; i < n; i++)
        if (ids[i] != ids[k - 1]) ids[k++] = ids[i];
    return k;
}

/* Queues REC (the queue takes it) or drops it when the queue is full. */
static void enqueue(struct dir_pdpa *log, struct rec *rec)
{
    bool kick = false, dropped = false;
    pthread_mutex_lock(&log->lock);
    if (log->n < log->cap && !log->stopping) {
        log->q[log->n++] = rec;
        kick = log->n == log->cap / 2; /* wake the writer early under a burst */
    } else {
        dropped = true;
    }
    if (kick) pthread_cond_signal(&log->cond);
    pthread_mutex_unlock(&log->lock);
    if (dropped) {
        free(rec);
        atomic_fetch_add(&st_dropped, 1);
    } else {
        atomic_fetch_add(&st_recorded, 1);
    }
}

void dir_pdpa_end(struct dir_pdpa_read *r)
{
    t_cur = r->outer;
    struct dir_pdpa *log = atomic_load(&g_log);
    if (r->n && log) {
        int n = sort_unique(r->ids, r->n);
        size_t lk = strlen(r->actor_kind) + 1, li = strlen(r->actor_id) + 1,
               lf = strlen(r->face) + 1, lo = strlen(r->operation) + 1;
        struct rec *rec =
            dir_xmalloc(sizeof *rec + (size_t)n * sizeof rec->ids[0] + lk + li + lf + lo);
        rec->at_us = now_us();
        rec->n = n;
        memcpy(rec->ids, r->ids, (size_t)n * sizeof rec->ids[0]);
        char *s = (char *)(rec->ids + n);
        rec->actor_kind = memcpy(s, r->actor_kind, lk);
        rec->actor_id = memcpy(s += lk, r->actor_id, li);
        rec->face = memcpy(s += li, r->face, lf);
        rec->operation = memcpy(s += lf, r->operation, lo);
        enqueue(log, rec);
    }
    if (r->ids != r->inline_ids) free(r->ids);
    r->ids = r->inline_ids;
    r->n = 0;
}

/* ---- the writer ---- */

static bool same_key(const struct row *w, const struct rec *r)
{
    return strcmp(w->actor_id, r->actor_id) == 0 && strcmp(w->operation, r->operation) == 0 &&
           strcmp(w->face, r->face) == 0 && strcmp(w->actor_kind, r->actor_kind) == 0;
}

static void row_add_ids(struct row *w, const long long *ids, int n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2;
        w->ids = dir_xrealloc(w->ids, (size_t)w->cap * sizeof *w->ids);
    }
    memcpy(w->ids + w->n, ids, (size_t)n * sizeof *ids);
    w->n += n;
}

static void row_free(struct row *w)
{
    free(w->actor_kind);
    free(w->actor_id);
    free(w->face);
    free(w->operation);
    free(w->ids);
}

static int cmp_rec(const void *a, const void *b)
{
    const struct rec *x = *(const struct rec *const *)a, *y = *(const struct rec *const *)b;
    int c = strcmp(x->actor_id, y->actor_id);
    if (!c) c = strcmp(x->operation, y->operation);
    if (!c) c = strcmp(x->face, y->face);
    if (!c) c = strcmp(x->actor_kind, y->actor_kind);
    return c;
}

/* Folds REC into the writer's rows: into row *HINT when it has the same actor, face and
 * operation (the batch is sorted by them), else the row that has (kept from a failed flush),
 * else a new one; *HINT becomes that row's index. */
static void fold(struct dir_pdpa *log, const struct rec *r, int *hint)
{
    struct row *w = NULL;
    if (*hint >= 0 && same_key(&log->rows[*hint], r)) w = &log->rows[*hint];
    for (int i = log->nrows - 1; i >= 0 && !w; i--)
        if (same_key(&log->rows[i], r)) w = &log->rows[i];
    if (!w) {
        if (log->nrows == log->rows_cap) {
            log->rows_cap = log->rows_cap ? log->rows_cap * 2 : 16;
            log->rows = dir_xrealloc(log->rows, (size_t)log->rows_cap * sizeof *log->rows);
        }
        w = &log->rows[log->nrows++];
        *w = (struct row){.first_us = r->at_us,
                          .last_us = r->at_us,
                          .actor_kind = dir_xstrdup(r->actor_kind),
                          .actor_id = dir_xstrdup(r->actor_id),
                          .face = dir_xstrdup(r->face),
                          .operation = dir_xstrdup(r->operation)};
    }
    *hint = (int)(w - log->rows);
    if (r->at_us < w->first_us) w->first_us = r->at_us;
    if (r->at_us > w->last_us) w->last_us = r->at_us;
    w->reads++;
    row_add_ids(w, r->ids, r->n);
    if (w->n > 4 * 1024 && w->n > 2 * w->reads) w->n = sort_unique(w->ids, w->n);
}

/* Writes the folded rows; keeps them for the next try when PostgreSQL refused. */
static void flush_rows(struct dir_pdpa *log)
{
    static long long last_warn;
    if (!log->nrows) return;
    struct dir_db_access_row *out = dir_xcalloc((size_t)log->nrows, sizeof *out);
    long long reads = 0;
    for (int i = 0; i < log->nrows; i++) {
        struct row *w = &log->rows[i];
        w->n = sort_unique(w->ids, w->n);
        out[i] = (struct dir_db_access_row){w->first_us,   w->last_us,  w->reads,
                                            w->actor_kind, w->actor_id, w->face,
                                            w->operation,  w->ids,      w->n};
        reads += w->reads;
    }
    char err[512];
    enum dir_rc rc = dir_db_access_log_write(log->db, out, log->nrows, err, sizeof err);
    free(out);
    if (rc == DIR_OK) {
        atomic_fetch_add(&st_written, reads);
        atomic_fetch_add(&st_rows, log->nrows);
        for (int i = 0; i < log->nrows; i++)
            row_free(&log->rows[i]);
        log->nrows = 0;
        return;
    }
    atomic_fetch_add(&st_failures, 1);
    long long now = now_us() / 1000000;
    if (now - last_warn >= 60) {
        last_warn = now;
        DIR_LOG(DIR_LOG_WARN, "pdpa", "access log not written (kept %d rows for a retry): %s",
                log->nrows, err);
    }
    if (log->nrows > MAX_BACKLOG_ROWS) { /* many actors during a long outage: drop the oldest */
        int drop = log->nrows - MAX_BACKLOG_ROWS;
        long long lost = 0;
        for (int i = 0; i < drop; i++) {
            lost += log->rows[i].reads;
            row_free(&log->rows[i]);
        }
        memmove(log->rows, log->rows + drop, (size_t)MAX_BACKLOG_ROWS * sizeof *log->rows);
        log->nrows = MAX_BACKLOG_ROWS;
        atomic_fetch_add(&st_dropped, lost);
    }
}

static bool purge(struct dir_pdpa *log)
{
    char err[512];
    long long removed = 0;
    atomic_fetch_add(&st_purges, 1);
    if (dir_db_access_log_maintain(log->db, log->retention_days, &removed, err, sizeof err)) {
        atomic_fetch_add(&st_failures, 1);
        DIR_LOG(DIR_LOG_WARN, "pdpa", "access log purge failed: %s", err);
        return false;
    }
    atomic_fetch_add(&st_purged, removed);
    DIR_LOG(DIR_LOG_INFO, "pdpa", "access log purge: %lld rows older than %d days removed", removed,
            log->retention_days);
    return true;
}

static void *writer(void *arg)
{
    struct dir_pdpa *log = arg;
    long long next_purge = 0, last_drop_log = 0, dropped_logged = 0;
    pthread_mutex_lock(&log->lock);
    for (;;) {
        bool stopping = log->stopping;
        if (!stopping && log->n < log->cap / 2) {
            struct timespec wake;
            clock_gettime(CLOCK_MONOTONIC, &wake);
            long long ns = wake.tv_nsec + (long long)log->flush_ms * 1000000;
            wake.tv_sec += ns / 1000000000;
            wake.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&log->cond, &log->lock, &wake);
            stopping = log->stopping;
        }
        struct rec **batch = log->q;
        int n = log->n;
        log->q = log->spare;
        log->spare = batch;
        log->n = 0;
        pthread_mutex_unlock(&log->lock);

        qsort(batch, (size_t)n, sizeof *batch, cmp_rec);
        int hint = -1;
        for (int i = 0; i < n; i++) {
            fold(log, batch[i], &hint);
            free(batch[i]);
        }
        flush_rows(log);
        long long now = now_us() / 1000000;
        if (now >= next_purge) {
            bool ok = purge(log);
            next_purge = now + (ok ? PURGE_EVERY_S : PURGE_RETRY_S);
        }
        long long dropped = atomic_load(&st_dropped);
        if (dropped != dropped_logged && now - last_drop_log >= 60) {
            DIR_LOG(DIR_LOG_WARN, "pdpa",
                    "access log queue full: %lld reads dropped so far (%lld since the last report)",
                    dropped, dropped - dropped_logged);
            dropped_logged = dropped;
            last_drop_log = now;
        }

        pthread_mutex_lock(&log->lock);
        if (stopping && log->n == 0) break;
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

enum dir_rc dir_pdpa_start(const struct dir_pdpa_opts *o, char *err, size_t errlen)
{
    struct dir_pdpa *log = dir_xcalloc(1, sizeof *log);
    log->db = o->db;
    log->retention_days = o->retention_days;
    log->flush_ms = o->flush_ms > 0 ? o->flush_ms : 1000;
    log->cap = o->queue > 1 ? o->queue : 2;
    log->q = dir_xcalloc((size_t)log->cap, sizeof *log->q);
    log->spare = dir_xcalloc((size_t)log->cap, sizeof *log->spare);
    pthread_mutex_init(&log->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&log->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&log->thread, NULL, writer, log) != 0) {
        snprintf(err, errlen, "cannot start the access log writer thread");
        pthread_cond_destroy(&log->cond);
        pthread_mutex_destroy(&log->lock);
        free(log->q);
        free(log->spare);
        free(log);
        return DIR_ERR_IO;
    }
    atomic_store(&g_retention_days, log->retention_days);
    atomic_store(&g_log, log);
    DIR_LOG(DIR_LOG_INFO, "pdpa", "access log on: kept %d days, queue %d reads, flush every %d ms",
            log->retention_days, log->cap, log->flush_ms);
    return DIR_OK;
}

void dir_pdpa_stop(void)
{
    struct dir_pdpa *log = atomic_exchange(&g_log, NULL);
    if (!log) return;
    pthread_mutex_lock(&log->lock);
    log->stopping = true;
    pthread_cond_signal(&log->cond);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->thread, NULL);
    if (log->nrows)
        DIR_LOG(DIR_LOG_WARN, "pdpa", "stopping with %d access log rows not written", log->nrows);
    for (int i = 0; i < log->nrows; i++)
        row_free(&log->rows[i]);
    free(log->rows);
    for (int i = 0; i < log->n; i++)
        free(log->q[i]);
    free(log->q);
    free(log->spare);
    pthread_cond_destroy(&log->cond);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

void dir_pdpa_stats(struct dir_pdpa_stats *out)
{
    out->recorded = atomic_load(&st_recorded);
    out->dropped = atomic_load(&st_dropped);
    out->written = atomic_load(&st_written);
    out->rows = atomic_load(&st_rows);
    out->failures = atomic_load(&st_failures);
    out->purged = atomic_load(&st_purged);
    out->purges = atomic_load(&st_purges);
}

long long dir_pdpa_dropped(void)
{
    return atomic_load(&st_dropped);
}

int dir_pdpa_retention_days(void)
{
    return atomic_load(&g_retention_days);
}

enum dir_rc dir_pdpa_end_write(struct dir_pdpa_read *r, struct dir_db *db, char *err, size_t errlen)
{
    t_cur = r->outer;
    enum dir_rc rc = DIR_OK;
    if (r->n) {
        long long at = now_us();
        int n = sort_unique(r->ids, r->n);
        struct dir_db_access_row row = {
            at, at, 1, r->actor_kind, r->actor_id, r->face, r->operation, r->ids, n};
        rc = dir_db_access_log_write(db, &row, 1, err, errlen);
        if (!rc) {
            atomic_fetch_add(&st_written, 1);
            atomic_fetch_add(&st_rows, 1);
        }
    }
    if (r->ids != r->inline_ids) free(r->ids);
    r->ids = r->inline_ids;
    r->n = 0;
    return rc;
}

void dir_pdpa_os_user(char *out, size_t n)
{
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res)
        snprintf(out, n, "%s", res->pw_name);
    else
        snprintf(out, n, "uid %u", (unsigned)geteuid());
}
