/* dir_api.c - routes, parameter validation and authentication for the JSON read API. */
#include "dir_api.h"
#include "dir_admin.h"
#include "dir_auth.h"
#include "dir_entry.h"
#include "dir_filter.h"
#include "dir_hours.h"
#include "dir_hsds_api.h"
#include "dir_import.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_openapi.h"
#include "dir_metrics.h"
#include "dir_obs.h"
#include "dir_pdpa.h"
#include "dir_pdpa_http.h"
#include "dir_problem.h"
#include "dir_query.h"
#include "dir_resolve.h"
#include "dir_text.h"
#include "dir_vcard.h"
#include "dir_vcard_http.h"
#include "dir_worklist.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 500
#define MAX_Q_BYTES 200
#define RESOLVE_LIMIT 10

struct call {
    const struct dir_http_req *req;
    struct dir_http_resp *resp;
    struct dir_model *m;
    enum dir_role role;
    const char *client; /* API client name or staff username, or NULL */
    const char *kind;   /* api_client, person or local */
    const char *path;
    bool via_cookie; /* authenticated by a session cookie (CSRF applies) */
    bool vcard;      /* answer text/vcard (DIR_ROUTE_VCARD) */
    bool attach;     /* ... as a .vcf download */
    struct dir_session_info session;
    struct dir_refresh *refresh; /* for views built off the request path (live) */
};

#define COOKIE_NAME "dird_session"

/* What the client sent, as shown in a problem: valid UTF-8 of at most SHOW_MAX bytes, cut on
 * a character boundary (the buffer lives until the end of the enclosing statement's block). */
#define SHOW_MAX 60
#define SHOW(v) show_value((v), (char[SHOW_MAX + 1]){0})
static const char *show_value(const char *v, char *buf)
{
    dir_text_utf8_clean(v, strlen(v), SHOW_MAX, buf);
    return buf;
}

static void problem(struct call *c, struct dir_problem *p)
{
    dir_problem_respond(p, c->path, c->resp);
}

#define bad_param(c, ...) dir_problem_bad_param((c)->path, (c)->resp, __VA_ARGS__)

static void not_found(struct call *c, const char *what, const char *key)
{
    struct dir_problem p;
    dir_problem_init(&p, 404, "not-found", "Not found", "No %s '%s'.", what, key);
    problem(c, &p);
}

static void json_ok(struct call *c, enum dir_rc rc)
{
    if (rc == DIR_OK) {
        c->resp->status = 200;
        c->resp->content_type = "application/json; charset=utf-8";
        return;
    }
    struct dir_problem p;
    if (rc == DIR_ERR_LIMIT)
        dir_problem_init(&p, 413, "response-too-large", "Response too large",
                         "The answer is too large; ask for a smaller page with 'limit'.");
    else
        dir_problem_init(&p, 500, "internal", "Internal error", "The answer could not be built.");
    problem(c, &p);
}

/* ---- parameters ---- */

static bool get_limit(struct call *c, int *limit)
{
    const char *v = dir_http_arg(c->req, "limit");
    long long n;
    *limit = DEFAULT_LIMIT;
    if (!v) return true;
    if (!dir_query_int(v, 1, MAX_LIMIT, &n)) {
        bad_param(c, "limit", "ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 500",
                  "'%s' is not a whole number from 1 to 500", SHOW(v));
        return false;
    }
    *limit = (int)n;
    return true;
}

/* A positive id (organisation, person, programme, list cursor). */
static bool parse_id(const char *s, long long *id)
{
    return dir_query_int(s, 1, LLONG_MAX, id);
}

static bool get_id_cursor(struct call *c, long long *after)
{
    const char *v = dir_http_arg(c->req, "cursor");
    *after = 0;
    if (v && !parse_id(v, after)) {
        bad_param(c, "cursor", "ตัวชี้หน้าไม่ถูกต้อง ใช้ค่า next จากคำตอบก่อนหน้า",
                  "'%s' is not a cursor from a previous answer's 'next'", SHOW(v));
        return false;
    }
    return true;
}

/* The folded q parameter (caller frees), or NULL when absent; false after a 400. */
static bool get_q(struct call *c, char **q)
{
    const char *v = dir_http_arg(c->req, "q");
    *q = NULL;
    if (!v) return true;
    size_t n = strlen(v);
    if (n > MAX_Q_BYTES || !dir_text_utf8_valid(v, n)) {
        bad_param(c, "q", "ข้อความค้นหาต้องเป็น UTF-8 และยาวไม่เกิน 200 ไบต์",
                  "search text must be UTF-8 of at most 200 bytes");
        return false;
    }
    *q = dir_text_fold_dup(v);
    if (!**q) {
        free(*q);
        *q = NULL;
    }
    return true;
}

static bool get_area(struct call *c, const char *name, int *area)
{
    const char *v = dir_http_arg(c->req, name);
    *area = -1;
    if (!v) return true;
    *area = dir_model_area(c->m, v);
    if (*area < 0) {
        bad_param(c, name, "ไม่พบรหัสพื้นที่นี้", "no area has code '%s'", SHOW(v));
        return false;
    }
    return true;
}

static bool get_taxon(struct call *c, const char *name, enum dir_tax_kind kind, int *idx)
{
    const char *v = dir_http_arg(c->req, name);
    *idx = -1;
    if (!v) return true;
    *idx = dir_model_taxon(c->m, kind, v);
    if (*idx < 0) {
        bad_param(c, name, "ไม่รู้จักรหัสนี้", "unknown code '%s'", SHOW(v));
        return false;
    }
    return true;
}

/* ---- endpoints ---- */

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

static void healthz(struct call *c, struct dir_api *api, const char *method)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        struct dir_problem p;
        c->resp->allow = "GET, HEAD";
        dir_problem_init(&p, 405, "method-not-allowed", "Method not allowed",
                         "%s is not allowed on /healthz.", SHOW(method));
        problem(c, &p);
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

static void list_areas(struct call *c)
{
    struct dir_area_filter f = {.kind = -1, .parent = -1};
    int limit;
    char *q = NULL;
    if (!get_limit(c, &limit) || !get_area(c, "parent", &f.parent)) return;
    const char *kind = dir_http_arg(c->req, "kind");
    if (kind && (f.kind = dir_model_area_kind_parse(kind)) < 0) {
        bad_param(c, "kind", "ใช้ country, province, district, subdistrict หรือ community",
                  "'%s' is not one of country, province, district, subdistrict, community",
                  SHOW(kind));
        return;
    }
    if (!get_q(c, &q)) return;
    f.q = q;
    json_ok(c, dir_query_areas(c->m, &f, dir_http_arg(c->req, "cursor"), limit, &c->resp->body));
    free(q);
}

static void get_area_detail(struct call *c, const char *code)
{
    int a = dir_model_area(c->m, code);
    if (a < 0) return not_found(c, "area", code);
    snprintf(c->resp->etag, sizeof c->resp->etag, "\"%d\"", c->m->areas[a].version);
    json_ok(c, dir_query_area(c->m, a, &c->resp->body));
}

static void list_groups(struct call *c)
{
    const char *kind = dir_http_arg(c->req, "kind");
    if (kind && strcmp(kind, "zone") && strcmp(kind, "subzone") && strcmp(kind, "other")) {
        bad_param(c, "kind", "ใช้ zone, subzone หรือ other",
                  "'%s' is not one of zone, subzone, other", SHOW(kind));
        return;
    }
    json_ok(c, dir_query_groups(c->m, kind, &c->resp->body));
}

static void list_taxa(struct call *c, enum dir_tax_kind kind)
{
    json_ok(c, dir_query_taxa(c->m, kind, &c->resp->body));
}

static void list_orgs(struct call *c)
{
    struct dir_org_filter f = {0};
    int limit, type;
    long long after;
    char *q = NULL;
    if (!get_limit(c, &limit) || !get_id_cursor(c, &after) || !get_area(c, "area", &f.area) ||
        !get_taxon(c, "service", DIR_TAX_SERVICE, &f.service) ||
        !get_taxon(c, "group", DIR_TAX_TARGET_GROUP, &f.group) ||
        !get_taxon(c, "type", DIR_TAX_ORG_TYPE, &type))
        return;
    f.type = type >= 0 ? c->m->tax[DIR_TAX_ORG_TYPE][type].code : NULL;
    f.status = dir_http_arg(c->req, "status");
    if (f.status && strcmp(f.status, "active") && strcmp(f.status, "closed") &&
        strcmp(f.status, "moved")) {
        bad_param(c, "status", "ใช้ active, closed หรือ moved",
                  "'%s' is not one of active, closed, moved", SHOW(f.status));
        return;
    }
    const char *zone = dir_http_arg(c->req, "zone"); /* uiprint: the printed directory's zone */
    if (zone) {
        int g = dir_model_group(c->m, zone);
        if (g < 0) {
            bad_param(c, "zone", "ไม่พบกลุ่มเขตนี้", "no area group has code '%s'", SHOW(zone));
            return;
        }
        f.zone = &c->m->groups[g];
    }
    const char *parent = dir_http_arg(c->req, "parent");
    if (parent) {
        /* The parent by id or ref, as /v1/organizations/{id} finds it. */
        long long id;
        int o =
            parse_id(parent, &id) ? dir_model_org(c->m, id) : dir_model_org_by_ref(c->m, parent);
        if (o < 0) {
            bad_param(c, "parent", "ไม่พบหน่วยงานแม่นี้", "no organisation has id or ref '%s'",
                      SHOW(parent));
            return;
        }
        f.parent = dir_model_org_at(c->m, o)->id;
    }
    if (!get_q(c, &q)) return;
    f.q = q;
    json_ok(c, dir_query_orgs(c->m, &f, after, limit, c->role >= DIR_ROLE_CASEWORKER,
                              dir_hours_now(), &c->resp->body));
    free(q);
}

static void get_org(struct call *c, const char *key)
{
    long long id;
    int o = parse_id(key, &id) ? dir_model_org(c->m, id) : dir_model_org_by_ref(c->m, key);
    if (o < 0) return not_found(c, "organization", key);
    const struct dir_org *org = dir_model_org_at(c->m, o);
    snprintf(c->resp->etag, sizeof c->resp->etag, c->vcard ? "\"%d-vcf\"" : "\"%d\"",
             org->version);
    if (c->vcard)
        return dir_vcard_http_org(c->resp, c->path, c->m, org, c->role >= DIR_ROLE_CASEWORKER,
                                  c->attach);
    json_ok(c, dir_model_org_json(c->m, org, c->role >= DIR_ROLE_CASEWORKER, dir_hours_now(),
                                  &c->resp->body));
}

static bool need_key(struct call *c)
{
    if (c->role >= DIR_ROLE_CASEWORKER) return true;
    struct dir_problem p;
    dir_problem_init(&p, 401, "unauthorized", "Authentication required",
                     "People are shown to authenticated callers only: send "
                     "'Authorization: Bearer <API key>'.");
    problem(c, &p);
    return false;
}

static void list_people(struct call *c)
{
    struct dir_person_filter f = {.area = -1, .org = -1};
    int limit;
    long long after, org_id;
    char *q = NULL;
    if (!need_key(c) || !get_limit(c, &limit) || !get_id_cursor(c, &after) ||
        !get_area(c, "area", &f.area))
        return;
    const char *org = dir_http_arg(c->req, "org");
    if (org && (!parse_id(org, &org_id) || (f.org = dir_model_org(c->m, org_id)) < 0)) {
        bad_param(c, "org", "ไม่พบหน่วยงานนี้", "no organization has id '%s'", SHOW(org));
        return;
    }
    f.role = dir_http_arg(c->req, "role");
    if (f.role && dir_model_taxon(c->m, DIR_TAX_TEAM_ROLE, f.role) < 0 &&
        dir_model_taxon(c->m, DIR_TAX_PROFESSION, f.role) < 0) {
        bad_param(c, "role", "ไม่รู้จักบทบาทหรือวิชาชีพนี้",
                  "'%s' is neither a team role nor a profession code", SHOW(f.role));
        return;
    }
    if (!get_q(c, &q)) return;
    f.q = q;
    json_ok(c, dir_query_people(c->m, &f, after, limit, &c->resp->body));
    free(q);
}

static void get_person(struct call *c, const char *key)
{
    long long id;
    if (!need_key(c)) return;
    int p = parse_id(key, &id) ? dir_model_person(c->m, id) : -1;
    if (p < 0) return not_found(c, "person", key);
    const struct dir_person *person = dir_model_person_at(c->m, p);
    snprintf(c->resp->etag, sizeof c->resp->etag, c->vcard ? "\"%d-vcf\"" : "\"%d\"",
             person->version);
    if (c->vcard)
        return dir_vcard_http_person(c->resp, c->path, c->m, person, true, c->attach);
    json_ok(c, dir_model_person_json(c->m, person, true, &c->resp->body));
}

static void resolve(struct call *c, const char *central_ref)
{
    struct dir_resolve_req rq = {.people = c->role >= DIR_ROLE_CASEWORKER,
                                 .central_ref = central_ref,
                                 .now = dir_hours_now()};
    if (!get_limit(c, &rq.limit) || !get_area(c, "area", &rq.area) ||
        !get_taxon(c, "need", DIR_TAX_SERVICE, &rq.need) ||
        !get_taxon(c, "group", DIR_TAX_TARGET_GROUP, &rq.group))
        return;
    if (rq.area < 0) {
        bad_param(c, "area", "ต้องระบุรหัสพื้นที่ (เขต แขวง หรือชุมชน)",
                  "required: the code of a district, sub-district or community");
        return;
    }
    if (!dir_http_arg(c->req, "limit"))
        rq.limit = RESOLVE_LIMIT; /* a handoff needs the best few, not a list */
    const char *ex = dir_http_arg(c->req, "explain");
    if (ex && strcmp(ex, "1") && strcmp(ex, "0") && strcmp(ex, "true") && strcmp(ex, "false")) {
        bad_param(c, "explain", "ใช้ 1 หรือ 0", "'%s' is not 1 or 0", SHOW(ex));
        return;
    }
    rq.explain = ex && (strcmp(ex, "1") == 0 || strcmp(ex, "true") == 0);
    const char *why = NULL;
    if (c->vcard) {
        struct dir_resolve_hit *hits;
        int n;
        if (dir_resolve_hits(c->m, &rq, &hits, &n, &why) == DIR_ERR_INVALID) {
            bad_param(c, "area", "ต้องเป็นรหัสเขต แขวง หรือชุมชน", "%s", why);
            return;
        }
        dir_vcard_http_hits(c->resp, c->path, c->m, hits, n, rq.people);
        free(hits);
        return;
    }
    enum dir_rc rc = dir_resolve(c->m, &rq, &c->resp->body, &why);
    if (rc == DIR_ERR_INVALID) {
        bad_param(c, "area", "ต้องเป็นรหัสเขต แขวง หรือชุมชน", "%s", why);
        return;
    }
    json_ok(c, rc);
}

/* The change log for mirrors: changes with seq > since, oldest first. */
static void changes(struct call *c)
{
    int limit;
    long long since = 0;
    if (!get_limit(c, &limit)) return;
    const char *v = dir_http_arg(c->req, "since");
    if (v && !dir_query_int(v, 0, LLONG_MAX, &since)) {
        bad_param(c, "since", "ต้องเป็นเลขลำดับการเปลี่ยนแปลง (seq)",
                  "'%s' is not a change sequence number", SHOW(v));
        return;
    }
    const struct dir_model *m = c->m;
    /* Changes after SINCE are all kept when SINCE >= oldest - 1 (no overflow: SINCE may be
     * any non-negative number, a seq is far from LLONG_MAX); 0 is "from the oldest kept". */
    long long oldest = m->nchanges ? m->changes[0].seq : m->seq + 1;
    if (since > 0 && since < oldest - 1 && since < m->seq) {
        struct dir_problem p;
        dir_problem_init(
            &p, 410, "changes-expired", "Changes no longer kept",
            "Changes after %lld are no longer kept (the oldest kept is %lld); read the "
            "lists again and follow the changes from the 'seq' of /healthz.",
            since, oldest);
        dir_problem_add(&p, "since", "เก่าเกินไป ให้อ่านข้อมูลทั้งหมดใหม่", "too old: resynchronise");
        problem(c, &p);
        return;
    }
    /* Binary search for the first change after SINCE. */
    int lo = 0, hi = m->nchanges;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (m->changes[mid].seq <= since)
            lo = mid + 1;
        else
            hi = mid;
    }
    struct dir_buf *b = &c->resp->body;
    enum dir_rc rc = dir_buf_printf(b, "{\"seq\":%lld,\"items\":[", m->seq);
    int n = 0;
    for (int i = lo; !rc && i < m->nchanges && n < limit; i++, n++) {
        const struct dir_change *ch = &m->changes[i];
        rc = dir_buf_printf(b, "%s{\"seq\":%lld,\"entity\":", n ? "," : "", ch->seq);
        if (!rc) rc = dir_buf_add_json_str(b, ch->entity);
        if (!rc) rc = dir_buf_adds(b, ",\"id\":");
        if (!rc) rc = dir_buf_add_json_str(b, ch->id ? ch->id : "");
        if (!rc) rc = dir_buf_printf(b, ",\"op\":\"%s\",\"at\":\"%s\"}", ch->op, ch->at);
    }
    bool more = lo + n < m->nchanges;
    if (!rc)
        rc = more ? dir_buf_printf(b, "],\"next\":\"%lld\"}", m->changes[lo + n - 1].seq)
                  : dir_buf_adds(b, "],\"next\":null}");
    json_ok(c, rc);
}

static void programmes(struct call *c, const char *key)
{
    const struct dir_model *m = c->m;
    if (*key) {
        long long id = 0;
        int i =
            parse_id(key, &id) ? dir_model_programme(m, id, NULL) : dir_model_programme(m, 0, key);
        if (i < 0) return not_found(c, "programme", key);
        snprintf(c->resp->etag, sizeof c->resp->etag, "\"%d\"", m->programmes[i].version);
        json_ok(c, dir_buf_add(&c->resp->body, m->programmes[i].json.s, m->programmes[i].json.len));
        return;
    }
    enum dir_rc rc = dir_buf_adds(&c->resp->body, "{\"items\":[");
    for (int i = 0; !rc && i < m->nprogrammes; i++) {
        if (i) rc = dir_buf_adds(&c->resp->body, ",");
        if (!rc)
            rc = dir_buf_add(&c->resp->body, m->programmes[i].json.s, m->programmes[i].json.len);
    }
    json_ok(c, rc ? rc : dir_buf_adds(&c->resp->body, "],\"next\":null}"));
}

static void search_in(struct call *c, struct dir_model *m);

/* GET /v1/search over the LDAP view. A cursor is the DN of the last entry of the previous
 * page; it is accepted only when the caller may see that entry, and refused with the same
 * answer as an unknown one, so that cursors cannot tell whether a hidden entry exists. */
static void search(struct call *c)
{
    /* The newest version whose LDAP view is built: a request never builds one (live). */
    struct dir_model *vm = c->refresh ? dir_refresh_acquire_warm(c->refresh) : NULL;
    if (vm) {
        search_in(c, vm);
        dir_model_release(vm);
    } else {
        search_in(c, c->m);
    }
}

static void search_in(struct call *c, struct dir_model *m)
{
    const char *cursor = dir_http_arg(c->req, "cursor");
    if (cursor) {
        struct dir_filter *f = NULL;
        struct dir_filter_error ferr;
        static const char all[] = "(objectClass=*)";
        enum dir_rc rc = dir_filter_parse(all, sizeof all - 1, &f, &ferr);
        struct dir_entry_search s = {.base = cursor,
                                     .scope = DIR_SCOPE_BASE,
                                     .filter = f,
                                     .role = c->role,
                                     .sort_attr = -1,
                                     .after = -1};
        struct dir_entry_result r = {0};
        if (!rc) rc = dir_entry_search(dir_entry_view(m), &s, &r, NULL);
        bool seen = !rc && r.n == 1;
        free(r.idx);
        dir_filter_free(f);
        if (!seen) {
            bad_param(c, "cursor", "ตัวชี้หน้าไม่ถูกต้อง ใช้ค่า next จากคำตอบก่อนหน้า",
                      "not a cursor from a previous answer's 'next'");
            return;
        }
    }
    if (c->vcard)
        dir_vcard_http_search(m, c->role, c->req, c->resp);
    else
        dir_entry_http_search(m, c->role, c->req, c->resp);
}

/* ---- authentication ---- */

/* The value of cookie NAME in the Cookie header into OUT; false if absent. */
static bool cookie_value(const char *header, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            const char *v = p + nl + 1, *end = strchr(v, ';');
            size_t len = end ? (size_t)(end - v) : strlen(v);
            if (len >= n) return false;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
        p = strchr(p, ';');
    }
    return false;
}

/* Sets the caller's role from "Authorization: Bearer <secret>" or a session cookie; false
 * after a 401. */
static bool authenticate(struct call *c, struct dir_sessions *sessions, bool cookie_secure)
{
    size_t hlen = 0, cklen = 0;
    const char *h = dir_http_header_n(c->req, "Authorization", &hlen);
    c->role = DIR_ROLE_ANON;
    if (!h) {
        char token[512];
        const char *ck = dir_http_header_n(c->req, "Cookie", &cklen);
        /* A cookie cut short by a NUL byte is no cookie (dir_http refuses those too). */
        if (ck && strlen(ck) != cklen) ck = "";
        if (!ck || !sessions || !cookie_value(ck, COOKIE_NAME, token, sizeof token) || !*token)
            return true;
        if (dir_session_verify(sessions, c->m, token, &c->session)) {
            c->role = c->session.role;
            c->client = c->session.username;
            c->kind = c->session.kind;
            c->via_cookie = true;
            return true;
        }
        struct dir_problem p;
        dir_problem_init(&p, 401, "unauthorized", "Session expired",
                         "The session has expired or was logged out; log in again.");
        snprintf(c->resp->set_cookie, sizeof c->resp->set_cookie,
                 COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
                 cookie_secure ? "; Secure" : "");
        problem(c, &p);
        return false;
    }
    const char *secret = NULL;
    if (strncasecmp(h, "Bearer ", 7) == 0) secret = h + 7;
    const struct dir_client *cl = NULL;
    /* The whole header is the secret: a NUL inside (and whatever follows it) is not ignored. */
    if (secret && *secret && strlen(h) == hlen && strlen(secret) <= 256) {
        uint8_t hash[DIR_AUTH_HASH_LEN];
        dir_auth_hash(secret, hash);
        cl = dir_model_client(c->m, hash);
    }
    if (cl && !cl->revoked && (!cl->expires || cl->expires > time(NULL))) {
        c->role = cl->role;
        c->client = cl->name;
        c->kind = "api_client";
        dir_admin_client_used(cl->name); /* the admin's "last use" (memory only) */
        return true;
    }
    struct dir_problem p;
    dir_problem_init(&p, 401, "unauthorized", "Invalid credentials",
                     "The API key is unknown, revoked or expired (send 'Authorization: Bearer "
                     "<API key>').");
    problem(c, &p);
    return false;
}

/* POST /v1/session logs in, GET says who is logged in, DELETE logs out. */
static void session_route(struct call *c, struct dir_api *api, const char *method)
{
    struct dir_problem p;
    if (!api->sessions) {
        dir_problem_init(&p, 503, "unavailable", "Login unavailable", "Sessions are not set up.");
        problem(c, &p);
        return;
    }
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        if (!c->via_cookie) {
            dir_problem_init(&p, 401, "unauthorized", "Not logged in", "There is no session.");
            problem(c, &p);
            return;
        }
    } else if (strcmp(method, "DELETE") == 0) {
        if (!c->via_cookie) {
            dir_problem_init(&p, 401, "unauthorized", "Not logged in", "There is no session.");
            problem(c, &p);
            return;
        }
        long long seq = 0;
        char err[256];
        if (dir_session_logout(api->sessions, &c->session, &seq, err, sizeof err)) {
            DIR_LOG(DIR_LOG_WARN, "session", "logout failed: %s", err);
            dir_problem_init(&p, 503, "database-unavailable", "Database unavailable",
                             "The logout could not be recorded; try again.");
            problem(c, &p);
            return;
        }
        dir_write_settle(&api->write, seq, 0, c->resp);
        snprintf(c->resp->set_cookie, sizeof c->resp->set_cookie,
                 COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
                 api->cookie_secure ? "; Secure" : "");
        c->resp->status = 204;
        return;
    } else if (strcmp(method, "POST") == 0) {
        size_t len;
        const char *body = dir_http_body(c->req, &len);
        json_t *j = json_loadb(body, len, 0, NULL);
        const char *user = json_string_value(json_object_get(j, "username"));
        const char *pass = json_string_value(json_object_get(j, "password"));
        if (!user || !pass) {
            json_decref(j);
            dir_problem_init(&p, 400, "invalid-body", "Invalid request body",
                             "Send {\"username\": ..., \"password\": ...} as JSON.");
            dir_problem_add(&p, !user ? "username" : "password", "ต้องระบุ", "required");
            problem(c, &p);
            return;
        }
        char addr[64], token[512], err[256];
        int retry = 0;
        dir_http_client_addr(c->req, addr, sizeof addr);
        enum dir_login r = dir_session_login(api->sessions, user, pass, addr, token, sizeof token,
                                             &c->session, &retry, err, sizeof err);
        if (r != DIR_LOGIN_OK) {
            char shown[80]; /* escaped: a username may not forge log lines */
            dir_session_log_name(user, shown, sizeof shown);
            DIR_LOG(DIR_LOG_INFO, "session", "login refused for %s from %s: %s", shown, addr, err);
        }
        json_decref(j);
        if (r == DIR_LOGIN_LIMITED) {
            c->resp->retry_after = retry;
            dir_problem_init(&p, 429, "too-many-attempts", "Too many failed logins",
                             "Too many failed logins; try again in %d seconds.", retry);
            problem(c, &p);
            return;
        }
        if (r == DIR_LOGIN_UNAVAILABLE) {
            dir_problem_init(&p, 503, "login-unavailable", "Login unavailable",
                             "The password cannot be checked right now; try again shortly.");
            problem(c, &p);
            return;
        }
        if (r == DIR_LOGIN_BAD) {
            dir_problem_init(&p, 401, "invalid-credentials", "Invalid credentials",
                             "The username or password is not right.");
            problem(c, &p);
            return;
        }
        snprintf(c->resp->set_cookie, sizeof c->resp->set_cookie,
                 COOKIE_NAME "=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", token,
                 c->session.expires - (long long)time(NULL), api->cookie_secure ? "; Secure" : "");
        DIR_LOG(DIR_LOG_INFO, "session", "%s logged in (%s, %s)", c->session.username,
                c->session.kind, dir_auth_role_name(c->session.role));
    } else {
        c->resp->allow = "GET, POST, DELETE";
        dir_problem_init(&p, 405, "method-not-allowed", "Method not allowed",
                         "Use POST to log in, GET to see the session, DELETE to log out.");
        problem(c, &p);
        return;
    }
    c->resp->status = 200;
    c->resp->content_type = "application/json; charset=utf-8";
    dir_buf_adds(&c->resp->body, "{\"username\":");
    dir_buf_add_json_str(&c->resp->body, c->session.username);
    dir_buf_printf(&c->resp->body,
                   ",\"kind\":\"%s\",\"role\":\"%s\",\"expires_at\":%lld,\"csrf_token\":\"%s\"}",
                   c->session.kind, dir_auth_role_name(c->session.role), c->session.expires,
                   c->session.csrf);
}

/* ---- the route table ---- */

/* The read API's handlers as routes: X->call is the request's struct call. */
static void r_healthz(struct dir_route_ctx *x)
{
    healthz(x->call, x->app, x->method);
}
static void r_session(struct dir_route_ctx *x)
{
    session_route(x->call, x->app, x->method);
}
static void r_areas(struct dir_route_ctx *x)
{
    list_areas(x->call);
}
static void r_area(struct dir_route_ctx *x)
{
    get_area_detail(x->call, x->arg[0]);
}
static void r_area_groups(struct dir_route_ctx *x)
{
    list_groups(x->call);
}
static void r_orgs(struct dir_route_ctx *x)
{
    list_orgs(x->call);
}
static void r_org(struct dir_route_ctx *x)
{
    get_org(x->call, x->arg[0]);
}
static void r_people(struct dir_route_ctx *x)
{
    list_people(x->call);
}
static void r_person(struct dir_route_ctx *x)
{
    get_person(x->call, x->arg[0]);
}
static void r_programmes(struct dir_route_ctx *x)
{
    programmes(x->call, x->narg ? x->arg[0] : "");
}
static void r_changes(struct dir_route_ctx *x)
{
    changes(x->call);
}
static void r_resolve(struct dir_route_ctx *x)
{
    resolve(x->call, ((struct dir_api *)x->app)->central_ref);
}
static void r_search(struct dir_route_ctx *x)
{
    search(x->call);
}
static void r_taxa(struct dir_route_ctx *x)
{
    list_taxa(x->call, (enum dir_tax_kind)x->route->kind);
}
/* POST /v1/admin/sync and GET /v1/admin/sync/runs (dir_sync.c). */
static void r_sync_run(struct dir_route_ctx *x)
{
    dir_sync_http_run(((struct dir_api *)x->app)->sync, x->who, x->req, x->resp);
}
static void r_sync_runs(struct dir_route_ctx *x)
{
    dir_sync_http_runs(((struct dir_api *)x->app)->sync, x->req, x->resp);
}

static void r_report_post(struct dir_route_ctx *x)
{
    dir_report_post(&((struct dir_api *)x->app)->reports, x->m, x->who, x->req, x->resp, x->arg,
                    x->narg);
}
static void r_report_list(struct dir_route_ctx *x)
{
    dir_report_list(&((struct dir_api *)x->app)->reports, x->m, x->who, x->req, x->resp, x->arg,
                    x->narg);
}
/* uiwork: the coordinators' verification worklist (dir_worklist.c). */
static void r_worklist_verification(struct dir_route_ctx *x)
{
    dir_worklist_verification(((struct dir_api *)x->app)->reports.db, x->m, x->who, x->req,
                              x->resp);
}

static void r_report_action(struct dir_route_ctx *x)
{
    const char *params[2] = {x->arg[0], x->route->what};
    dir_report_action(&((struct dir_api *)x->app)->reports, x->m, x->who, x->req, x->resp, params,
                      2);
}

/* ---- the query parameters of each route (dir_param.h) ---- */

/* clang-format off */
#define P_LIMIT                                                                                   \
    {"limit", DIR_PARAM_INT, 0, 1, MAX_LIMIT, NULL, "At most this many items (default 50)."}
#define P_CURSOR_ID                                                                               \
    {"cursor", DIR_PARAM_INT, 0, 1, LLONG_MAX, NULL, "The 'next' of the previous page."}
#define P_CURSOR                                                                                  \
    {"cursor", DIR_PARAM_STRING, 0, 0, 0, NULL, "The 'next' of the previous page."}
#define P_Q                                                                                       \
    {"q", DIR_PARAM_STRING, 0, 0, MAX_Q_BYTES, NULL,                                              \
     "Search text, matched ignoring case and Thai tone marks."}
#define P_AREA(doc) {"area", DIR_PARAM_STRING, 0, 0, 0, NULL, doc}
#define P_STR(name, doc) {name, DIR_PARAM_STRING, 0, 0, 0, NULL, doc}
#define P_ENUM(name, doc, ...)                                                                    \
    {name, DIR_PARAM_ENUM, 0, 0, 0, (const char *const[]){__VA_ARGS__, NULL}, doc}
/* clang-format on */

static const struct dir_param p_areas[] = {
    P_ENUM("kind", "Only areas of this kind.", "country", "province", "district", "subdistrict",
           "community"),
    P_STR("parent", "Only the areas directly inside the area with this code."),
    P_Q,
    P_LIMIT,
    P_CURSOR,
    DIR_PARAM_END};
static const struct dir_param p_area_groups[] = {
    P_ENUM("kind", "Only groups of this kind.", "zone", "subzone", "other"), DIR_PARAM_END};
static const struct dir_param p_orgs[] = {
    P_Q,
    P_AREA("Only organisations serving this area (an area code), or inside it."),
    P_STR("service", "Only organisations offering this service (a code of /v1/services)."),
    P_STR("group", "Only organisations serving this target group (a code of /v1/target-groups)."),
    P_STR("type", "Only organisations of this type (a code of /v1/org-types)."),
    P_ENUM("status", "Only organisations with this status.", "active", "closed", "moved"),
    P_STR("parent", "Only the units of this organisation (its id or ref)."),
    P_LIMIT,
    P_CURSOR_ID,
    P_STR("zone", "Only organisations in the districts of this zone (a code of /v1/area-groups)."),
    DIR_PARAM_END};
static const struct dir_param p_people[] = {
    P_Q,
    P_AREA("Only people of organisations serving this area (an area code)."),
    {"org", DIR_PARAM_INT, 0, 1, LLONG_MAX, NULL, "Only people of this organisation (its id)."},
    P_STR("role", "Only people with this team role or profession (a code)."),
    P_LIMIT,
    P_CURSOR_ID,
    DIR_PARAM_END};
static const struct dir_param p_resolve[] = {
    {"area", DIR_PARAM_STRING, DIR_PARAM_REQUIRED, 0, 0, NULL,
     "the code of a district, sub-district or community"},
    P_STR("need", "The service needed (a code of /v1/services)."),
    P_STR("group", "The target group (a code of /v1/target-groups)."),
    {"explain", DIR_PARAM_BOOL, 0, 0, 0, NULL, "Add why each answer was chosen."},
    {"limit", DIR_PARAM_INT, 0, 1, MAX_LIMIT, NULL, "At most this many answers (default 10)."},
    DIR_PARAM_END};
static const struct dir_param p_changes[] = {
    {"since", DIR_PARAM_INT, 0, 0, LLONG_MAX, NULL,
     "Changes after this sequence number (0 or absent: from the oldest kept)."},
    P_LIMIT,
    DIR_PARAM_END};
static const struct dir_param p_search[] = {
    P_STR("filter", "An LDAP search filter (RFC 4515); default (objectClass=*)."),
    P_STR("base", "The base DN (default the directory's suffix)."),
    P_ENUM("scope", "The search scope (default sub).", "base", "one", "sub"),
    P_LIMIT,
    P_STR("cursor", "The 'next' of the previous page (the DN of its last entry)."),
    DIR_PARAM_END};
static const struct dir_param p_reports[] = {
    P_ENUM("status", "Only reports with this status.", "open", "resolved"),
    P_ENUM("entity", "Only reports about this kind of entry.", "organization", "person", "area"),
    {"id", DIR_PARAM_STRING, 0, 0, DIR_REPORT_MAX_ID, NULL,
     "Only reports about this entry (with entity): its id, ref or code."},
    P_LIMIT,
    P_CURSOR_ID,
    DIR_PARAM_END};
static const struct dir_param p_worklist[] = {
    P_ENUM("entity", "What to list (default organization).", "organization", "person"),
    P_STR("zone", "Only entries in this zone (a code of /v1/area-groups of kind zone)."),
    P_STR("district", "Only entries in this district (an area code)."),
    P_STR("type", "Only organisations of this type (a code of /v1/org-types)."),
    P_LIMIT,
    P_CURSOR,
    DIR_PARAM_END};
static const struct dir_param p_audit[] = {
    P_STR("entity", "Only changes of this kind of entry (organization, person, area...)."),
    P_STR("id", "Only changes of this entry (with entity)."),
    P_STR("actor", "Only changes made by this API client or staff member."),
    {"since", DIR_PARAM_DATETIME, 0, 0, 0, NULL, "Only changes at or after this date or time."},
    P_LIMIT,
    P_CURSOR_ID,
    DIR_PARAM_END};
static const struct dir_param p_access_log[] = {
    {"person", DIR_PARAM_INT, 0, 1, LLONG_MAX, NULL, "Only rows that showed this person."},
    {"actor", DIR_PARAM_STRING, 0, 0, 1000, NULL,
     "Only rows of this actor (API client name, username or bind DN)."},
    {"since", DIR_PARAM_DATETIME, 0, 0, 0, NULL, "Only reads at or after this time."},
    {"until", DIR_PARAM_DATETIME, 0, 0, 0, NULL, "Only reads before this time."},
    {"limit", DIR_PARAM_INT, 0, 1, 500, NULL, "At most this many rows (default 50)."},
    P_CURSOR,
    DIR_PARAM_END};
static const struct dir_param p_data_report[] = {
    {"since", DIR_PARAM_DATETIME, 0, 0, 0, NULL,
     "Reads at or after this time (default: the retention period ago)."},
    {"until", DIR_PARAM_DATETIME, 0, 0, 0, NULL, "Reads before this time (default: now)."},
    DIR_PARAM_END};
static const struct dir_param p_import[] = {
    P_STR("kind", "What the file holds: organizations, people or communities."),
    P_STR("dry_run", "1, true or yes: check the file and report, change nothing."),
    P_STR("encoding", "The file's encoding: utf-8 or windows-874 (default: detected)."),
    P_STR("delimiter", "comma, semicolon or tab (default: detected)."),
    DIR_PARAM_END};
static const struct dir_param p_sync_runs[] = {
    {"limit", DIR_PARAM_INT, 0, 1, 100, NULL, "At most this many runs (default 20)."},
    {"before", DIR_PARAM_INT, 0, 0, LLONG_MAX, NULL, "Only runs with a smaller id (paging)."},
    DIR_PARAM_END};

#define ANON DIR_ROLE_ANON
#define CASEWORKER DIR_ROLE_CASEWORKER
#define COORDINATOR DIR_ROLE_COORDINATOR
#define ADMIN DIR_ROLE_ADMIN
#define READ DIR_M_READ
#define POST DIR_M_POST
#define PATCH DIR_M_PATCH
#define CACHE DIR_ROUTE_CACHE
#define DB DIR_ROUTE_DB
#define VCARD DIR_ROUTE_VCARD
#define CORS DIR_ROUTE_CORS
#define NONE dir_param_none

/* Every route of the JSON API, one per line (docs/openapi.json describes them; the first match
 * wins). */
static const struct dir_route routes[] = {
    /* methods, pattern, least role, flags, handler, what, kind, query parameters */
    {READ, "/healthz", ANON, DIR_ROUTE_EARLY, r_healthz, NULL, 0, dir_param_any},
    {POST, "/v1/session", ANON, DIR_ROUTE_NO_AUTH, r_session, NULL, 0, NONE}, /* log in */
    {READ | DIR_M_DELETE, "/v1/session", ANON, 0, r_session, NULL, 0, NONE},
    {READ, "/v1/areas", ANON, CACHE, r_areas, NULL, 0, p_areas},
    {POST, "/v1/areas", COORDINATOR, DB, dir_write_route_other, "area", 0, NONE},
    {READ, "/v1/areas/{code}", ANON, CACHE, r_area, NULL, 0, NONE},
    {PATCH, "/v1/areas/{code}", COORDINATOR, DB, dir_write_route_other, "area", 0, NONE},
    {READ, "/v1/area-groups", ANON, CACHE, r_area_groups, NULL, 0, p_area_groups},
    {POST, "/v1/area-groups", COORDINATOR, DB, dir_write_route_other, "area_group", 0, NONE},
    {PATCH, "/v1/area-groups/{code}", COORDINATOR, DB, dir_write_route_other, "area_group", 0,
     NONE},
    {READ, "/v1/organizations", ANON, CACHE, r_orgs, NULL, 0, p_orgs},
    {POST, "/v1/organizations", COORDINATOR, DB, dir_write_route_org, NULL, 0, NONE},
    {READ, "/v1/organizations/{id}", ANON, CACHE | VCARD, r_org, NULL, 0, NONE},
    {PATCH, "/v1/organizations/{id}", COORDINATOR, DB, dir_write_route_org, NULL, 0, NONE},
    {POST, "/v1/organizations/{id}/close", COORDINATOR, DB, dir_write_route_org, "close", 0, NONE},
    {POST, "/v1/organizations/{id}/reopen", COORDINATOR, DB, dir_write_route_org, "reopen", 0,
     NONE},
    {POST, "/v1/organizations/{id}/verify", COORDINATOR, DB, dir_write_route_org, "verify", 0,
     NONE},
    {READ, "/v1/people", CASEWORKER, CACHE, r_people, NULL, 0, p_people},
    {POST, "/v1/people", COORDINATOR, DB, dir_write_route_person, NULL, 0, NONE},
    {READ, "/v1/people/{id}", CASEWORKER, CACHE | VCARD, r_person, NULL, 0, NONE},
    {PATCH, "/v1/people/{id}", COORDINATOR, DB, dir_write_route_person, NULL, 0, NONE},
    {POST, "/v1/people/{id}/deactivate", COORDINATOR, DB, dir_write_route_person, "deactivate", 0,
     NONE},
    {POST, "/v1/people/{id}/reactivate", COORDINATOR, DB, dir_write_route_person, "reactivate", 0,
     NONE},
    {POST, "/v1/people/{id}/verify", COORDINATOR, DB, dir_write_route_person, "verify", 0, NONE},
    {READ, "/v1/programmes", ANON, CACHE, r_programmes, NULL, 0, NONE},
    {POST, "/v1/programmes", COORDINATOR, DB, dir_write_route_other, "programme", 0, NONE},
    {READ, "/v1/programmes/{id}", ANON, CACHE, r_programmes, NULL, 0, NONE},
    {PATCH, "/v1/programmes/{id}", COORDINATOR, DB, dir_write_route_other, "programme", 0, NONE},
    {READ, "/v1/resolve", ANON, CACHE | VCARD, r_resolve, NULL, 0, p_resolve},
    {READ, "/v1/changes", ANON, CACHE, r_changes, NULL, 0, p_changes},
    {READ, "/v1/search", ANON, CACHE | VCARD, r_search, NULL, 0, p_search},
    {READ, "/v1/services", ANON, CACHE, r_taxa, NULL, DIR_TAX_SERVICE, NONE},
    {READ, "/v1/target-groups", ANON, CACHE, r_taxa, NULL, DIR_TAX_TARGET_GROUP, NONE},
    {READ, "/v1/org-types", ANON, CACHE, r_taxa, NULL, DIR_TAX_ORG_TYPE, NONE},
    {READ, "/v1/sectors", ANON, CACHE, r_taxa, NULL, DIR_TAX_SECTOR, NONE},
    {READ, "/v1/professions", ANON, CACHE, r_taxa, NULL, DIR_TAX_PROFESSION, NONE},
    {READ, "/v1/team-roles", ANON, CACHE, r_taxa, NULL, DIR_TAX_TEAM_ROLE, NONE},
    {POST, "/v1/reports", ANON, DB, r_report_post, NULL, 0, NONE},
    {READ, "/v1/reports", COORDINATOR, DB, r_report_list, NULL, 0, p_reports},
    {POST, "/v1/reports/{id}/resolve", COORDINATOR, DB, r_report_action, "resolve", 0, NONE},
    {POST, "/v1/reports/{id}/reopen", COORDINATOR, DB, r_report_action, "reopen", 0, NONE},
    /* uiwork: the coordinators' worklists */
    {READ, "/v1/worklist/verification", COORDINATOR, DB, r_worklist_verification, NULL, 0,
     p_worklist},
    {READ, "/v1/audit", COORDINATOR, DB, dir_write_route_audit, NULL, 0, p_audit},
    {READ | POST, "/v1/admin/api-clients", ADMIN, DB, dir_write_route_clients, NULL, 0, NONE},
    {POST, "/v1/admin/api-clients/{name}/revoke", ADMIN, DB, dir_write_route_clients, "revoke", 0,
     NONE},
    {DIR_M_PUT, "/v1/admin/staff-roles/{username}", ADMIN, DB, dir_write_route_staff_role, NULL, 0,
     NONE},
    /* vcard: the .vcf downloads (the same checks and visibility as the JSON above) */
    {READ, "/v1/organizations/{id}/vcard", ANON, CACHE | VCARD, r_org, "vcard", 0, NONE},
    {READ, "/v1/people/{id}/vcard", CASEWORKER, CACHE | VCARD, r_person, "vcard", 0, NONE},
    {READ, "/v1/admin/staff-roles", ADMIN, DB, dir_admin_route_staff_roles, NULL, 0,
     NONE}, /* uiadmin */
    /* uiadmin: local accounts managed by admins (dir_admin.c) */
    {READ | POST, "/v1/admin/accounts", ADMIN, DB, dir_admin_route_accounts, NULL, 0, NONE},
    {POST, "/v1/admin/accounts/{username}/password", ADMIN, DB, dir_admin_route_accounts,
     "password", 0, NONE},
    {POST, "/v1/admin/accounts/{username}/disable", ADMIN, DB, dir_admin_route_accounts, "disable",
     0, NONE},
    {POST, "/v1/admin/accounts/{username}/enable", ADMIN, DB, dir_admin_route_accounts, "enable", 0,
     NONE},
    /* csvimport: CSV import, templates and export (dir_import*.c). */
    {POST, "/v1/imports", COORDINATOR, DB, dir_import_route_post, NULL, 0, p_import},
    {READ, "/v1/imports/templates/organizations.csv", COORDINATOR, 0, dir_import_route_template,
     "organizations", 0, NONE},
    {READ, "/v1/imports/templates/people.csv", COORDINATOR, 0, dir_import_route_template, "people",
     0, NONE},
    {READ, "/v1/imports/templates/communities.csv", COORDINATOR, 0, dir_import_route_template,
     "communities", 0, NONE},
    {READ, "/v1/export/organizations.csv", COORDINATOR, DB, dir_import_route_export,
     "organizations", 0, NONE},
    {READ, "/v1/export/people.csv", COORDINATOR, DB, dir_import_route_export, "people", 0, NONE},
    {READ, "/v1/export/communities.csv", COORDINATOR, DB, dir_import_route_export, "communities", 0,
     NONE},
    /* the staff sync from the city LDAP (dir_sync.c) */
    {POST, "/v1/admin/sync", ADMIN, DB, r_sync_run, NULL, 0, NONE},
    {READ, "/v1/admin/sync/runs", ADMIN, DB, r_sync_runs, NULL, 0, p_sync_runs},
    /* --- hsds: the HSDS 3.0 read API (dir_hsds_api.c; "/hsds/" is routed as "/hsds") --- */
    {READ, "/hsds", ANON, CACHE | CORS, dir_hsds_route_info, NULL, 0, NONE},
    {READ, "/hsds/services", ANON, CACHE | CORS, dir_hsds_route_services, NULL, 0,
     dir_hsds_params_services},
    {READ, "/hsds/services/{id}", ANON, CACHE | CORS, dir_hsds_route_object, "service", 0, NONE},
    {READ, "/hsds/organizations", ANON, CACHE | CORS, dir_hsds_route_organizations, NULL, 0,
     dir_hsds_params_organizations},
    {READ, "/hsds/organizations/{id}", ANON, CACHE | CORS, dir_hsds_route_object, "organization", 0,
     dir_hsds_params_organization},
    {READ, "/hsds/service_at_locations", ANON, CACHE | CORS, dir_hsds_route_service_at_locations,
     NULL, 0, dir_hsds_params_service_at_locations},
    {READ, "/hsds/service_at_locations/{id}", ANON, CACHE | CORS, dir_hsds_route_object,
     "service_at_location", 0, NONE},
    {READ, "/hsds/taxonomies", ANON, CACHE | CORS, dir_hsds_route_taxonomies, NULL, 0,
     dir_hsds_params_list},
    {READ, "/hsds/taxonomies/{id}", ANON, CACHE | CORS, dir_hsds_route_object, "taxonomy", 0, NONE},
    {READ, "/hsds/taxonomy_terms", ANON, CACHE | CORS, dir_hsds_route_taxonomy_terms, NULL, 0,
     dir_hsds_params_taxonomy_terms},
    {READ, "/hsds/taxonomy_terms/{id}", ANON, CACHE | CORS, dir_hsds_route_object, "taxonomy_term",
     0, NONE},
    {READ, "/v1/export/hsds.zip", ANON, CACHE | CORS, dir_hsds_route_export, "zip", 0, NONE},
    {READ, "/v1/export/hsds.json", ANON, CACHE | CORS, dir_hsds_route_export, "json", 0, NONE},
    /* --- openapi: the API's description (dir_openapi.c) --- */
    {READ, "/v1/openapi.json", ANON, CACHE | CORS, dir_openapi_route, NULL, 0, NONE},
    /* --- obs: the operator's routes (dir_obs.c) --- */
    {READ, "/metrics", ANON, 0, dir_obs_route_metrics, NULL, 0, NONE}, /* loopback or admin */
    {READ, "/readyz", ANON, DIR_ROUTE_EARLY, dir_obs_route_readyz, NULL, 0, dir_param_any},
    /* --- pdpa: the personal-data access log (dir_pdpa_http.c) --- */
    {READ, "/v1/admin/access-log", ADMIN, DB, dir_pdpa_route_access_log, NULL, 0, p_access_log},
    {READ, "/v1/admin/people/{id}/data-report", ADMIN, DB, dir_pdpa_route_data_report, NULL, 0,
     p_data_report},
};

#define NROUTES (sizeof routes / sizeof routes[0])

static struct dir_route_table route_table = {.routes = routes, .n = NROUTES};

const struct dir_route *dir_api_routes(size_t *n)
{
    *n = NROUTES;
    return routes;
}

/* 401 for an anonymous caller, 403 for one whose role is below ROLE. */
static void deny(struct call *c, enum dir_role role)
{
    struct dir_problem p;
    if (c->role == DIR_ROLE_ANON)
        dir_problem_init(&p, 401, "unauthorized", "Authentication required",
                         "This needs an API key ('Authorization: Bearer <API key>') or a staff "
                         "session.");
    else
        dir_problem_init(&p, 403, "forbidden", "Not allowed", "This needs the %s role.",
                         dir_auth_role_name(role));
    problem(c, &p);
}

/* The face an answer goes out through, for the access log. */
static const char *pdpa_face(const struct call *c, const struct dir_route *r)
{
    if (c->vcard) return DIR_PDPA_VCARD;
    return strncmp(r->pattern, "/v1/export/", 11) == 0 ? DIR_PDPA_EXPORT : DIR_PDPA_JSON;
}

/* The checks before routing: a snapshot, the caller (unless R is the login) and, for a
 * change made with a session cookie, its CSRF token. False after answering. */
static bool admit(struct call *c, struct dir_api *api, const struct dir_route *r,
                  const char *method)
{
    struct dir_problem p;
    if (!c->m) {
        dir_problem_init(&p, 503, "starting", "Service starting",
                         "The directory is still loading; try again shortly.");
        problem(c, &p);
        return false;
    }
    /* The login is not authenticated by what came before it (an old cookie does not matter). */
    if (!(r && (r->flags & DIR_ROUTE_NO_AUTH)) &&
        !authenticate(c, api->sessions, api->cookie_secure))
        return false;
    /* A cookie rides along with any request the browser makes: every state change made with
     * one (logout too) needs the session's CSRF token as well; Bearer keys are not sent by
     * browsers on their own. */
    bool safe = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (c->via_cookie && !safe) {
        size_t tlen = 0;
        const char *t = dir_http_header_n(c->req, "X-CSRF-Token", &tlen);
        if (!t || tlen != 32 || strlen(t) != 32 || sodium_memcmp(t, c->session.csrf, 32) != 0) {
            dir_problem_init(&p, 403, "csrf", "CSRF token missing or wrong",
                             "Send the session's csrf_token in the X-CSRF-Token header.");
            problem(c, &p);
            return false;
        }
    }
    return true;
}

/* True for the paths of the JSON API (/v1, /healthz, /hsds and below them, /metrics,
 * /readyz); the rest is the UI's. */
static bool api_path(const char *path)
{
    return (strncmp(path, "/v1", 3) == 0 && (path[3] == '\0' || path[3] == '/')) ||
           strcmp(path, "/metrics") == 0 || strcmp(path, "/readyz") == 0 ||
           (strncmp(path, "/healthz", 8) == 0 && (path[8] == '\0' || path[8] == '/')) ||
           (strncmp(path, "/hsds", 5) == 0 && (path[5] == '\0' || path[5] == '/'));
}

void dir_api_handle(void *app, const struct dir_http_req *req, struct dir_http_resp *resp)
{
    struct dir_api *api = app;
    struct call c = {.req = req, .resp = resp, .path = dir_http_path(req)};
    const char *method = dir_http_method(req);
    struct dir_problem p;

    if (api->webui && !api_path(c.path)) {
        /* Static files: no caller, no snapshot (a stale session cookie must not stop the
         * app from loading). */
        dir_webui_handle(api->webui, req, resp);
        resp->route = DIR_METRICS_ROUTE_WEBUI;
        return;
    }
    struct dir_route_match rm;
    /* The HSDS API's base URL is /hsds/; its root ends in the slash no other path has. */
    dir_route_find(&route_table, method, strcmp(c.path, "/hsds/") ? c.path : "/hsds", &rm);
    const struct dir_route *r = rm.route;
    if ((r ? r->flags : rm.flags) & DIR_ROUTE_CORS) {
        /* Open to pages of every origin: errors too, and the preflight of a cross-origin
         * request (answered here: it carries no credentials and needs no snapshot). */
        dir_http_resp_header(resp, "Access-Control-Allow-Origin", "*");
        if (!r && strcmp(method, "OPTIONS") == 0) {
            dir_http_resp_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
            dir_http_resp_header(resp, "Access-Control-Allow-Headers", "Accept, Content-Type");
            dir_http_resp_header(resp, "Access-Control-Max-Age", "86400");
            resp->allow = "GET, HEAD, OPTIONS";
            resp->status = 204;
            return;
        }
    }
    struct dir_route_ctx x = {.route = r,
                              .narg = rm.narg,
                              .seg = rm.seg,
                              .nseg = rm.nseg,
                              .method = method,
                              .req = req,
                              .resp = resp,
                              .write = &api->write,
                              .app = api,
                              .call = &c};
    memcpy(x.arg, rm.arg, sizeof x.arg[0] * (size_t)rm.narg);

    if (api->refresh) {
        c.m = dir_refresh_acquire(api->refresh);
        c.refresh = api->refresh;
    } else if (api->model) {
        c.m = api->model;
        atomic_fetch_add(&c.m->refs, 1);
    }
    x.m = c.m;
    /* /healthz is answered without a caller, and maybe without a snapshot. */
    if (!((r ? r->flags : rm.flags) & DIR_ROUTE_EARLY) && !admit(&c, api, r, method)) goto out;
    if (!r && rm.allow) {
        resp->allow = dir_route_allow(rm.allow);
        dir_problem_init(&p, 405, "method-not-allowed", "Method not allowed",
                         "%s is not allowed on this path.", SHOW(method));
        problem(&c, &p);
        goto out;
    }
    if (!r) {
        dir_problem_init(&p, 404, "not-found", "Not found", "There is nothing at this path.");
        problem(&c, &p);
        goto out;
    }
    struct dir_caller who = {
        .role = c.role, .kind = c.kind, .name = c.client ? c.client : "anonymous"};
    if (!(r->flags & DIR_ROUTE_EARLY)) { /* /healthz has no caller */
        dir_http_client_addr(req, who.address, sizeof who.address);
        x.who = &who;
    }
    if ((r->flags & DIR_ROUTE_DB) && !api->write.db) {
        /* No database (tests, fuzzing): what would need one answers as if it were down. */
        dir_problem_init(&p, 503, "database-unavailable", "Database unavailable",
                         "The database cannot be reached; try again shortly.");
        problem(&c, &p);
        goto out;
    }
    if (c.role < r->role) {
        deny(&c, r->role);
        goto out;
    }

    if (r->flags & DIR_ROUTE_CACHE) {
        resp->cache = "no-cache";
        /* What a read shows depends on who asks (people's contacts, staff in answers)
         * and, for the routes that also speak vCard, on what the caller accepts. */
        dir_http_resp_header(resp, "Vary", (r->flags & DIR_ROUTE_VCARD)
                                               ? "Authorization, Cookie, Accept"
                                               : "Authorization, Cookie");
    }
    if (r->flags & DIR_ROUTE_VCARD) {
        c.attach = r->what && strcmp(r->what, "vcard") == 0;
        c.vcard = c.attach || dir_vcard_wanted(dir_http_header(req, "Accept"));
    }
    /* The access log (PDPA): an authenticated caller's answer may hold people's non-public
     * contact points; the code that puts them in notes the people (dir_pdpa.h). Anonymous
     * callers never see them, so nothing is opened for them. */
    struct dir_pdpa_read rd;
    bool logged = c.role >= DIR_ROLE_CASEWORKER;
    if (logged)
        dir_pdpa_begin(&rd, c.kind, c.client, pdpa_face(&c, r), r->pattern);
    /* The query: the parameters the route declares, of their types and within their bounds. */
    if (dir_param_check(r->params, req, c.path, resp)) r->handler(&x);
    if (logged) dir_pdpa_end(&rd);
out:
    /* For the metrics and the request log: the route's pattern, never the path; who asked. */
    resp->route = r ? r->pattern : NULL;
    resp->actor = !c.kind                            ? "anonymous"
                  : strcmp(c.kind, "api_client") == 0 ? "api_client"
                                                      : "staff";
    /* --- replica --- every 503 (the write database down, starting) says when to retry. */
    if (resp->status == 503 && resp->retry_after <= 0) resp->retry_after = DIR_API_RETRY_AFTER_S;
    if (resp->status >= 500)
        DIR_LOG(DIR_LOG_ERROR, "api", "%s %s answered %d", method, c.path, resp->status);
    dir_model_release(c.m);
}
