/* dir_api_health.c - GET /healthz and the database probe behind it (dir_api_start,
 * dir_api_stop): a thread asks each database for the change-log sequence once a second, so
 * /healthz never waits for a database. */
#include "dir_api_int.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the database probe ---- */

/* One database the probe watches. */
struct probe_end {
    struct dir_db *db;
    const char *name; /* for the log: "database", "read database" */
    int state;        /* 0 unknown, 1 up, -1 down */
    long long since;  /* epoch seconds of the last change of state */
    char error[200];  /* why it is down */
};

struct dir_api_probe {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    struct probe_end end[2]; /* the write database; the read database when it is another */
    int nend;
};

static void *probe_run(void *arg)
{
    struct dir_api_probe *pr = arg;
    pthread_mutex_lock(&pr->lock);
    while (!pr->stopping) {
        for (int i = 0; i < pr->nend; i++) {
            struct probe_end *e = &pr->end[i];
            pthread_mutex_unlock(&pr->lock);
            long long seq = 0;
            char err[256] = "";
            int state = dir_db_change_seq(e->db, &seq, err, sizeof err) == DIR_OK ? 1 : -1;
            pthread_mutex_lock(&pr->lock);
            if (state != e->state) {
                e->state = state;
                e->since = (long long)time(NULL);
                DIR_LOG(state > 0 ? DIR_LOG_INFO : DIR_LOG_WARN, "api", "%s %s%s%s", e->name,
                        state > 0 ? "up" : "down", state > 0 ? "" : ": ", state > 0 ? "" : err);
            }
            if (state < 0) /* libpq messages end in a new line */
                snprintf(e->error, sizeof e->error, "%.*s", (int)strcspn(err, "\n"), err);
        }
        struct timespec wake;
        clock_gettime(CLOCK_MONOTONIC, &wake);
        wake.tv_sec += 1;
        if (!pr->stopping) pthread_cond_timedwait(&pr->cond, &pr->lock, &wake);
    }
    pthread_mutex_unlock(&pr->lock);
    return NULL;
}

enum dir_rc dir_api_start(struct dir_api *api, char *err, size_t errlen)
{
    struct dir_api_probe *pr = dir_xcalloc(1, sizeof *pr);
    pr->end[0] = (struct probe_end){.db = api->write.db, .name = "database"};
    pr->nend = 1;
    if (api->read_db && api->read_db != api->write.db)
        pr->end[pr->nend++] = (struct probe_end){.db = api->read_db, .name = "read database"};
    pthread_mutex_init(&pr->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pr->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&pr->thread, NULL, probe_run, pr) != 0) {
        snprintf(err, errlen, "cannot start the database probe thread");
        pthread_cond_destroy(&pr->cond);
        pthread_mutex_destroy(&pr->lock);
        free(pr);
        return DIR_ERR_IO;
    }
    api->probe = pr;
    return DIR_OK;
}

void dir_api_stop(struct dir_api *api)
{
    struct dir_api_probe *pr = api->probe;
    if (!pr) return;
    pthread_mutex_lock(&pr->lock);
    pr->stopping = true;
    pthread_cond_signal(&pr->cond);
    pthread_mutex_unlock(&pr->lock);
    pthread_join(pr->thread, NULL);
    pthread_cond_destroy(&pr->cond);
    pthread_mutex_destroy(&pr->lock);
    free(pr);
    api->probe = NULL;
}

/* ",\"KEY\":{\"state\":...,\"since\":...[,\"error\":...]}" of probe end E (lock held). */
static void health_end(struct dir_buf *b, const char *key, const struct probe_end *e)
{
    char error[200];
    dir_text_utf8_clean(e->error, strlen(e->error), sizeof error - 1, error);
    dir_buf_printf(b, ",\"%s\":{\"state\":\"%s\",\"since\":%lld", key,
                   e->state > 0   ? "up"
                   : e->state < 0 ? "down"
                                  : "unknown",
                   e->since);
    if (e->state < 0) {
        dir_buf_adds(b, ",\"error\":");
        dir_buf_add_json_str(b, error);
    }
    dir_buf_adds(b, "}");
}

void dir_api_healthz(struct call *c, struct dir_api *api, const char *method)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        struct dir_problem p;
        c->resp->allow = "GET, HEAD";
        dir_problem_init(&p, 405, "method-not-allowed", "Method not allowed",
                         "%s is not allowed on /healthz.", SHOW(method));
        dir_api_problem(c, &p);
        return;
    }
    c->resp->status = c->m ? 200 : 503;
    c->resp->content_type = "application/json";
    if (!c->m) {
        dir_buf_adds(&c->resp->body, "{\"status\":\"starting\"}");
        return;
    }
    struct dir_api_probe *pr = api->probe;
    struct dir_buf *b = &c->resp->body;
    bool down = false;
    if (pr) {
        pthread_mutex_lock(&pr->lock);
        for (int i = 0; i < pr->nend; i++)
            down |= pr->end[i].state < 0;
        pthread_mutex_unlock(&pr->lock);
    }
    dir_buf_printf(b,
                   "{\"status\":\"%s\",\"seq\":%lld,\"model\":{\"areas\":%d,\"organizations\":%d,"
                   "\"people\":%d,\"built_at\":%lld}",
                   down ? "degraded" : "ok", c->m->seq, c->m->nareas, c->m->norgs, c->m->npeople,
                   (long long)c->m->built_at);
    if (pr) {
        pthread_mutex_lock(&pr->lock);
        health_end(b, "database", &pr->end[0]);
        if (pr->nend > 1) health_end(b, "read_database", &pr->end[1]);
        dir_buf_printf(b, ",\"writes\":\"%s\"", pr->end[0].state < 0 ? "unavailable" : "available");
        pthread_mutex_unlock(&pr->lock);
    }
    dir_sync_health(api->sync, b);
    dir_buf_adds(b, "}");
}
