/* dir_sync.c - the staff sync engine: runs (one now, from the CLI or HTTP; or on the
 * background thread's schedule), the refreshAndPersist session, the admin routes and the
 * health report. Reading the city LDAP is dir_sync_ldap.c's, applying what it said
 * dir_sync_apply.c's (the files share dir_sync_int.h).
 *
 * A run is read, then apply: everything LDAP says is collected first (struct
 * dir_sync_intake), then applied in one PostgreSQL transaction together with the resume
 * point (cookie or watermark) and the run's counts, so a run that fails half-way changes
 * nothing. Only the persist mode applies as it goes: one transaction per batch of changes.
 * An RFC 4533 refresh says who is gone either by naming the deleted entries (delete phase)
 * or by naming every entry still there (present phase): both are applied by the run that
 * reads them, through the same guard as a full sync.
 */
#include "dir_sync_int.h"
#include "dir_log.h"
#include "dir_metrics.h"
#include "dir_mem.h"
#include "dir_problem.h"
#include "dir_query.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- set-up ---- */

static bool parse_units(struct dir_sync *s, char *err, size_t errlen)
{
    const char *p = s->cfg->sync_unit_map;
    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[512];
        if (len >= sizeof item) {
            snprintf(err, errlen, "sync_unit_map: an item is too long");
            return false;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        p += len + (end ? 1 : 0);
        char *eq = strchr(item, '=');
        char *name = item, *ref = eq ? eq + 1 : NULL;
        if (eq) *eq = '\0';
        while (*name == ' ')
            name++;
        for (char *q = name + strlen(name); q > name && q[-1] == ' ';)
            *--q = '\0';
        while (ref && *ref == ' ')
            ref++;
        if (ref)
            for (char *q = ref + strlen(ref); q > ref && q[-1] == ' ';)
                *--q = '\0';
        if (!*name && !ref) continue;
        if (!ref || !*name || !*ref) {
            snprintf(err, errlen, "sync_unit_map: '%.100s' is not 'unit=organisation ref'", item);
            return false;
        }
        if (s->nunits == DIR_SYNC_MAX_UNITS) {
            snprintf(err, errlen, "sync_unit_map: more than %d units", DIR_SYNC_MAX_UNITS);
            return false;
        }
        s->units[s->nunits].name = dir_xstrdup(name);
        s->units[s->nunits].ref = dir_xstrdup(ref);
        s->nunits++;
    }
    return true;
}

struct dir_sync *dir_sync_new(const struct dir_cfg *cfg, struct dir_db *db)
{
    struct dir_sync *s = dir_xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->db = db;
    pthread_mutex_init(&s->run_lock, NULL);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    const char *d = getenv("DIRECTORYD_SYNC_TEST_PAGE_DELAY_MS");
    s->test_page_delay_ms = d ? atoi(d) : 0;
    snprintf(s->last_status, sizeof s->last_status, "never");
    return s;
}

bool dir_sync_configured(const struct dir_sync *s)
{
    return s && s->cfg->sync_uri[0] && strcmp(s->cfg->sync_mode, "off") != 0;
}

static bool mode_valid(const char *m)
{
    return strcmp(m, "auto") == 0 || strcmp(m, "syncrepl") == 0 || strcmp(m, "persist") == 0 ||
           strcmp(m, "poll") == 0 || strcmp(m, "off") == 0;
}

/* Checks the configuration once (the thread and a CLI run both need it). */
static bool check_config(struct dir_sync *s, char *err, size_t errlen)
{
    if (!mode_valid(s->cfg->sync_mode)) {
        snprintf(err, errlen, "sync_mode must be auto, syncrepl, persist, poll or off");
        return false;
    }
    if (!s->cfg->sync_uri[0]) {
        snprintf(err, errlen, "sync_uri is not set: there is no city LDAP to sync from");
        return false;
    }
    if (strcmp(s->cfg->sync_mode, "off") == 0) {
        snprintf(err, errlen, "sync_mode is off");
        return false;
    }
    if (!s->cfg->sync_base[0]) {
        snprintf(err, errlen, "sync_base is not set");
        return false;
    }
    if (s->nunits == 0 && s->cfg->sync_unit_map[0] && !parse_units(s, err, errlen)) {
        for (int i = 0; i < s->nunits; i++) {
            free(s->units[i].name);
            free(s->units[i].ref);
        }
        s->nunits = 0;
        return false;
    }
    return true;
}

/* ---- runs ---- */

double dir_sync_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

bool dir_sync_stopping(struct dir_sync *s, bool persist, time_t until)
{
    pthread_mutex_lock(&s->lock);
    bool st = s->stop || (persist && s->requested);
    pthread_mutex_unlock(&s->lock);
    return st || (persist && until && time(NULL) >= until);
}

void dir_sync_set_last(struct dir_sync *s, const struct dir_sync_report *rep)
{
    dir_metrics_sync_run(rep->status, rep->n.created, rep->n.updated, rep->n.deactivated,
                         rep->n.reactivated, rep->n.skipped);
    pthread_mutex_lock(&s->lock);
    snprintf(s->last_status, sizeof s->last_status, "%s", rep->status);
    snprintf(s->last_mode, sizeof s->last_mode, "%s", rep->mode);
    snprintf(s->last_message, sizeof s->last_message, "%s", rep->message);
    s->last_run_id = rep->run_id;
    s->last_n = rep->n;
    s->last_at = time(NULL);
    if (strcmp(rep->status, "ok") == 0 || strcmp(rep->status, "attention") == 0)
        s->last_ok_at = s->last_at;
    pthread_mutex_unlock(&s->lock);
}

bool dir_sync_uses_syncrepl(const struct dir_sync *s)
{
    const char *m = s->cfg->sync_mode;
    return strcmp(m, "syncrepl") == 0 || strcmp(m, "persist") == 0 ||
           (strcmp(m, "auto") == 0 && !s->no_syncprov);
}

static bool full_due(const struct dir_sync *s, const struct dir_db_sync_state *st)
{
    return st->last_full_at == 0 || time(NULL) - st->last_full_at >=
                                        (long long)DIR_SYNC_FULL_EVERY * s->cfg->sync_interval_s;
}

enum dir_rc dir_sync_run(struct dir_sync *s, const struct dir_sync_req *req,
                         struct dir_sync_report *rep)
{
    char err[512];
    struct dir_db_sync_state st;
    struct dir_sync_intake in;
    LDAP *ld = NULL;
    enum dir_rc rc;

    memset(rep, 0, sizeof *rep);
    if (!check_config(s, err, sizeof err)) {
        dir_sync_report_status(rep, "failed", "%s", err);
        return DIR_ERR_INVALID;
    }
    pthread_mutex_lock(&s->run_lock);
    pthread_mutex_lock(&s->lock);
    s->running = true;
    pthread_mutex_unlock(&s->lock);
    dir_sync_intake_init(&in);
    if ((rc = dir_db_sync_state_get(s->db, &st, err, sizeof err))) {
        dir_sync_report_status(rep, "failed", "PostgreSQL: %s", err);
        goto out_nostate;
    }
    bool automatic = strcmp(s->cfg->sync_mode, "auto") == 0;
    if (automatic && strcmp(st.mode, "poll") == 0)
        s->no_syncprov = true; /* found by an earlier run (perhaps another process) */
    bool full = req->full || req->relink || full_due(s, &st) ||
                (dir_sync_uses_syncrepl(s) ? !st.cookie : !st.watermark[0]);
    if (full && automatic) s->no_syncprov = false; /* a full run asks the server again */
    snprintf(rep->mode, sizeof rep->mode, "%s",
             full                        ? "full"
             : dir_sync_uses_syncrepl(s) ? "syncrepl"
                                         : "poll");
    if ((rc = dir_db_sync_run_new(s->db, rep->mode, req->trigger ? req->trigger : "cli",
                                  &rep->run_id, err, sizeof err))) {
        dir_sync_report_status(rep, "failed", "PostgreSQL: %s", err);
        goto out;
    }
    if ((rc = dir_sync_ldap_open(s, &ld, err, sizeof err))) {
        dir_sync_report_status(rep, "failed", "%s", err);
        goto out;
    }
    bool was_full = full;
    double t0 = dir_sync_now_ms();
    rc = dir_sync_ldap_read(s, ld, &st, &full, &in, err, sizeof err);
    ldap_unbind_ext_s(ld, NULL, NULL);
    rep->ms.read = dir_sync_now_ms() - t0;
    if (full != was_full) {
        snprintf(rep->mode, sizeof rep->mode, "full");
        char e2[256];
        if (dir_db_sync_run_mode(s->db, rep->run_id, rep->mode, e2, sizeof e2))
            DIR_LOG(DIR_LOG_WARN, "sync", "run %lld: %s", rep->run_id, e2);
    }
    if (rc) {
        dir_sync_report_status(rep, "failed", "%s; nothing was changed", err);
        rc = DIR_ERR_IO;
        goto out;
    }
    const char *state_mode = dir_sync_uses_syncrepl(s) ? "syncrepl" : "poll";
    rc = dir_sync_apply_run(s, req, full, state_mode, &in, rep);
    if (rc == DIR_OK && !req->dry_run && (full || req->force)) s->persist_deactivated = 0;
out:
    if (rep->run_id && strcmp(rep->status, "ok") != 0 && strcmp(rep->status, "attention") != 0) {
        json_t *d = rep->details ? rep->details : json_object();
        json_object_set_new(d, "mode", json_string(rep->mode));
        if (dir_db_sync_run_add(s->db, rep->run_id, rep->status,
                                strcmp(rep->status, "dry-run") == 0 ? &rep->n : NULL,
                                strcmp(rep->status, "dry-run") == 0 ? NULL : rep->message, d, err,
                                sizeof err))
            DIR_LOG(DIR_LOG_ERROR, "sync", "cannot record run %lld: %s", rep->run_id, err);
        rep->details = d;
    }
    dir_db_sync_state_free(&st);
out_nostate:
    dir_sync_intake_free(&in);
    if (!rep->details) rep->details = json_object();
    DIR_LOG(strcmp(rep->status, "failed") == 0    ? DIR_LOG_ERROR
            : strcmp(rep->status, "refused") == 0 ? DIR_LOG_WARN
                                                  : DIR_LOG_INFO,
            "sync", "run %lld %s: %s", rep->run_id, rep->status, rep->message);
    DIR_LOG(DIR_LOG_INFO, "sync",
            "run %lld phases: read %.0f ms, prepare %.0f ms, apply %.0f ms, deactivate %.0f ms, "
            "commit %.0f ms",
            rep->run_id, rep->ms.read, rep->ms.prepare, rep->ms.apply, rep->ms.deactivate,
            rep->ms.commit);
    dir_sync_set_last(s, rep);
    pthread_mutex_lock(&s->lock);
    s->running = false;
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_unlock(&s->run_lock);
    return rc;
}

void dir_sync_report_free(struct dir_sync_report *rep)
{
    json_decref(rep->details);
    rep->details = NULL;
}

/* ---- persist ---- */

/* One refreshAndPersist session: returns when stopped, a run is requested, a full sync is
 * due, or on failure (recorded in its run). */
static enum dir_rc persist_session(struct dir_sync *s)
{
    char err[512];
    struct dir_db_sync_state st;
    struct dir_sync_persist p = {0};
    struct dir_sync_intake in;
    LDAP *ld = NULL;
    struct dir_sync_report rep;
    memset(&rep, 0, sizeof rep);
    snprintf(rep.mode, sizeof rep.mode, "persist");

    if (dir_db_sync_state_get(s->db, &st, err, sizeof err)) {
        dir_sync_report_status(&rep, "failed", "PostgreSQL: %s", err);
        dir_sync_set_last(s, &rep);
        return DIR_ERR_DB;
    }
    if (!st.cookie || full_due(s, &st)) {
        dir_db_sync_state_free(&st);
        struct dir_sync_req full = {.full = true, .trigger = "schedule"};
        enum dir_rc rc = dir_sync_run(s, &full, &rep);
        dir_sync_report_free(&rep);
        return rc;
    }
    p.full_at = st.last_full_at + (time_t)DIR_SYNC_FULL_EVERY * s->cfg->sync_interval_s;
    pthread_mutex_lock(&s->run_lock);
    dir_sync_intake_init(&in);
    enum dir_rc rc = dir_db_sync_run_new(s->db, "persist", "persist", &p.run_id, err, sizeof err);
    if (rc) {
        dir_sync_report_status(&rep, "failed", "PostgreSQL: %s", err);
        goto out;
    }
    rep.run_id = p.run_id;
    if ((rc = dir_sync_ldap_open(s, &ld, err, sizeof err))) {
        dir_sync_report_status(&rep, "failed", "%s", err);
        goto out;
    }
    dir_sync_report_status(&rep, "ok", "persistent search of %s", s->cfg->sync_uri);
    dir_sync_set_last(s, &rep);
    DIR_LOG(DIR_LOG_INFO, "sync", "persistent search of %s (run %lld)", s->cfg->sync_uri, p.run_id);
    bool reload = false;
    rc = dir_sync_ldap_persist(s, ld, st.cookie, st.cookie_len, &in, &p, p.full_at, &reload, err,
                               sizeof err);
    ldap_unbind_ext_s(ld, NULL, NULL);
    if (rc == DIR_ERR_STATE && strcmp(err, "stopped") == 0) rc = DIR_OK;
    if (reload) dir_db_sync_forget_cookie(s->db, err + 256, sizeof err - 256);
    if (p.refused)
        dir_sync_report_status(&rep, "refused", "%s", err);
    else if (rc)
        dir_sync_report_status(&rep, "failed", "%s", err);
    else
        dir_sync_report_status(&rep, "ok", "persistent search ended");
out:
    rep.n = p.sum;
    if (p.run_id) {
        json_t *d = p.would_deactivate
                        ? json_pack("{s:O}", "would_deactivate_people", p.would_deactivate)
                        : NULL;
        if (dir_db_sync_run_add(s->db, p.run_id, rep.status, NULL, rc ? rep.message : NULL, d, err,
                                sizeof err))
            DIR_LOG(DIR_LOG_ERROR, "sync", "cannot record run %lld: %s", p.run_id, err);
        json_decref(d);
    }
    json_decref(p.would_deactivate);
    if (rc) DIR_LOG(DIR_LOG_ERROR, "sync", "persist: %s", rep.message);
    dir_sync_set_last(s, &rep);
    dir_sync_intake_free(&in);
    dir_db_sync_state_free(&st);
    pthread_mutex_unlock(&s->run_lock);
    return rc;
}

/* ---- the background thread ---- */

static void *sync_thread(void *arg)
{
    struct dir_sync *s = arg;
    time_t next = time(NULL);
    bool persist = strcmp(s->cfg->sync_mode, "persist") == 0;
    for (;;) {
        struct dir_sync_req req = {.trigger = "schedule"};
        pthread_mutex_lock(&s->lock);
        while (!s->stop && !s->requested && time(NULL) < next) {
            struct timespec ts = {.tv_sec = next, .tv_nsec = 0};
            pthread_cond_timedwait(&s->wake, &s->lock, &ts);
        }
        bool stop = s->stop, requested = s->requested;
        if (requested) {
            req = s->req;
            s->requested = false;
        }
        pthread_mutex_unlock(&s->lock);
        if (stop) break;
        enum dir_rc rc;
        if (persist && !requested) {
            rc = persist_session(s);
        } else {
            struct dir_sync_report rep;
            rc = dir_sync_run(s, &req, &rep);
            dir_sync_report_free(&rep);
        }
        /* A refused persist session would be refused again at once: back off too. */
        bool failed = rc == DIR_ERR_IO || rc == DIR_ERR_DB || (persist && rc == DIR_ERR_STATE);
        pthread_mutex_lock(&s->lock);
        s->failures = failed ? s->failures + 1 : 0;
        int wait = s->cfg->sync_interval_s;
        if (failed) {
            int shift = s->failures > 8 ? 8 : s->failures - 1;
            int backoff = 2 << shift;
            wait = backoff < wait ? backoff : wait;
            DIR_LOG(DIR_LOG_WARN, "sync", "retrying in %d s (failure %d)", wait, s->failures);
        } else if (persist) {
            wait = 0;
        }
        next = time(NULL) + wait;
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

enum dir_rc dir_sync_start(struct dir_sync *s, char *err, size_t errlen)
{
    if (!mode_valid(s->cfg->sync_mode)) {
        snprintf(err, errlen, "sync_mode must be auto, syncrepl, persist, poll or off");
        return DIR_ERR_INVALID;
    }
    if (!dir_sync_configured(s)) return DIR_OK;
    if (!check_config(s, err, errlen)) return DIR_ERR_INVALID;
    char e2[256];
    if (dir_db_sync_close_stale_runs(s->db, e2, sizeof e2)) DIR_LOG(DIR_LOG_WARN, "sync", "%s", e2);
    if (pthread_create(&s->thread, NULL, sync_thread, s) != 0) {
        snprintf(err, errlen, "cannot start the sync thread: %s", strerror(errno));
        return DIR_ERR_IO;
    }
    s->started = true;
    DIR_LOG(DIR_LOG_INFO, "sync", "syncing staff from %s (mode %s, every %d s)", s->cfg->sync_uri,
            s->cfg->sync_mode, s->cfg->sync_interval_s);
    return DIR_OK;
}

void dir_sync_free(struct dir_sync *s)
{
    if (!s) return;
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_broadcast(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    for (int i = 0; i < s->nunits; i++) {
        free(s->units[i].name);
        free(s->units[i].ref);
    }
    pthread_mutex_destroy(&s->run_lock);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}

/* ---- HTTP ---- */

static void respond(struct dir_http_resp *resp, struct dir_problem *p, const char *path)
{
    dir_problem_respond(p, path, resp);
}

static bool body_flags(const struct dir_http_req *req, struct dir_sync_req *r,
                       struct dir_problem *p)
{
    size_t len;
    const char *body = dir_http_body(req, &len);
    if (len == 0) return true;
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    if (!json_is_object(o)) {
        dir_problem_init(p, 400, "invalid-body", "Invalid request body",
                         "The body must be a JSON object like {\"full\": true}.");
        json_decref(o);
        return false;
    }
    const char *key;
    json_t *v;
    bool ok = true;
    dir_problem_init(p, 400, "invalid-body", "Invalid request body",
                     "The body has invalid fields.");
    json_object_foreach(o, key, v)
    {
        bool *dst = strcmp(key, "full") == 0      ? &r->full
                    : strcmp(key, "dry_run") == 0 ? &r->dry_run
                    : strcmp(key, "force") == 0   ? &r->force
                    : strcmp(key, "relink") == 0  ? &r->relink
                                                  : NULL;
        if (!dst) {
            dir_problem_add(p, key, "ไม่รู้จักช่องนี้ (ใช้ full, dry_run, force, relink)",
                            "unknown field (use full, dry_run, force, relink)");
            ok = false;
        } else if (!json_is_boolean(v)) {
            dir_problem_add(p, key, "ต้องเป็น true หรือ false", "must be true or false");
            ok = false;
        } else {
            *dst = json_is_true(v);
        }
    }
    json_decref(o);
    return ok;
}

void dir_sync_http_runs(struct dir_sync *s, const struct dir_http_req *req,
                        struct dir_http_resp *resp)
{
    const char *path = dir_http_path(req);
    struct dir_problem p;
    char err[512];
    const char *lim = dir_http_arg(req, "limit"), *bef = dir_http_arg(req, "before");
    long long limit = 20, before = 0;
    bool limit_ok = !lim || dir_query_int(lim, 1, 100, &limit);
    if (!limit_ok || (bef && !dir_query_int(bef, 0, LLONG_MAX, &before))) {
        dir_problem_init(&p, 400, "invalid-parameter", "Invalid query parameter",
                         "limit must be 1 to 100 and before a run id.");
        dir_problem_add(&p, !limit_ok ? "limit" : "before", "ค่าไม่ถูกต้อง", "invalid value");
        respond(resp, &p, path);
        return;
    }
    char *json = NULL;
    if (!s || dir_db_sync_runs(s->db, (int)limit, before, &json, err, sizeof err)) {
        if (s) DIR_LOG(DIR_LOG_ERROR, "sync", "run history: %s", err);
        dir_problem_init(&p, 503, "database-unavailable", "Database unavailable",
                         "The run history could not be read; try again shortly.");
        respond(resp, &p, path);
        return;
    }
    resp->status = 200;
    resp->content_type = "application/json; charset=utf-8";
    resp->cache = "no-store";
    dir_buf_printf(&resp->body, "{\"items\":%s}", json);
    free(json);
}

void dir_sync_http_run(struct dir_sync *s, const struct dir_caller *who,
                       const struct dir_http_req *req, struct dir_http_resp *resp)
{
    const char *path = dir_http_path(req);
    struct dir_problem p;
    struct dir_sync_req r = {.trigger = "api"};
    if (!body_flags(req, &r, &p)) {
        respond(resp, &p, path);
        return;
    }
    if (!s || !dir_sync_configured(s) || !s->started) {
        dir_problem_init(&p, 409, "sync-not-configured", "Staff sync not configured",
                         "Set sync_uri (and sync_mode other than off) to sync staff from the "
                         "city LDAP.");
        respond(resp, &p, path);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (s->requested) { /* merge with the request still waiting */
        r.full = r.full || s->req.full;
        r.force = r.force || s->req.force;
        r.relink = r.relink || s->req.relink;
        r.dry_run = r.dry_run && s->req.dry_run;
    }
    s->req = r;
    s->requested = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    DIR_LOG(DIR_LOG_INFO, "sync", "%s asked for a sync run (full=%d dry_run=%d force=%d relink=%d)",
            who->name, r.full, r.dry_run, r.force, r.relink);
    resp->status = 202;
    resp->content_type = "application/json; charset=utf-8";
    dir_buf_printf(&resp->body,
                   "{\"accepted\":true,\"full\":%s,\"dry_run\":%s,\"force\":%s,"
                   "\"relink\":%s,\"runs\":\"/v1/admin/sync/runs\"}",
                   r.full || r.relink ? "true" : "false", r.dry_run ? "true" : "false",
                   r.force ? "true" : "false", r.relink ? "true" : "false");
}

void dir_sync_health(struct dir_sync *s, struct dir_buf *out)
{
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    dir_buf_printf(
        out, ",\"sync\":{\"configured\":%s,\"mode\":", dir_sync_configured(s) ? "true" : "false");
    dir_buf_add_json_str(out, s->cfg->sync_mode);
    dir_buf_printf(out, ",\"running\":%s,\"last_run\":%lld,\"last_mode\":",
                   s->running ? "true" : "false", s->last_run_id);
    dir_buf_add_json_str(out, s->last_mode);
    dir_buf_adds(out, ",\"last_status\":");
    dir_buf_add_json_str(out, s->last_status);
    dir_buf_adds(out, ",\"last_message\":");
    dir_buf_add_json_str(out, s->last_message);
    const struct dir_db_sync_counts *n = &s->last_n;
    dir_buf_printf(out,
                   ",\"last_counts\":{\"created\":%d,\"updated\":%d,\"reactivated\":%d,"
                   "\"relinked\":%d,\"deactivated\":%d,\"unchanged\":%d,\"skipped\":%d}",
                   n->created, n->updated, n->reactivated, n->relinked, n->deactivated,
                   n->unchanged, n->skipped);
    dir_buf_printf(out, ",\"last_at\":%lld,\"last_ok_at\":%lld,\"failures\":%d}",
                   (long long)s->last_at, (long long)s->last_ok_at, s->failures);
    pthread_mutex_unlock(&s->lock);
}
