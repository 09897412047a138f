/* dir_worklist.c - the coordinators' "needs verification" worklist, HTTP side
 * (GET /v1/worklist/verification; see dir_worklist.h): checks the query against the snapshot,
 * asks dir_db_worklist for one page and answers it with the cursor of the next.
 */
#include "dir_worklist.h"

#include "dir_buf.h"
#include "dir_log.h"
#include "dir_problem.h"
#include "dir_query.h"
#include "dir_text.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 500

struct rq {
    const struct dir_http_req *req;
    struct dir_http_resp *resp;
};

static void respond(struct rq *q, const struct dir_problem *p)
{
    dir_problem_respond(p, dir_http_path(q->req), q->resp);
}

static void bad_param(struct rq *q, const char *name, const char *th, const char *en)
{
    dir_problem_bad_param(dir_http_path(q->req), q->resp, name, th, "%s", en);
}

static void unavailable(struct rq *q)
{
    struct dir_problem p;
    dir_problem_init(&p, 503, "database-unavailable", "Database unavailable",
                     "The worklist could not be read right now; retry shortly.");
    respond(q, &p);
}

/* A whole decimal number filling [S, END), in [MIN, MAX]. */
static bool number(const char *s, const char *end, long long min, long long max, long long *out)
{
    if (s == end || end - s > 19) return false;
    long long v = 0;
    bool neg = *s == '-';
    const char *d = neg ? s + 1 : s;
    if (d == end) return false;
    for (; d < end; d++) {
        if (*d < '0' || *d > '9') return false;
        if (v > (LLONG_MAX - (*d - '0')) / 10) return false;
        v = v * 10 + (*d - '0');
    }
    if (neg) v = -v;
    if (v < min || v > max) return false;
    *out = v;
    return true;
}

bool dir_worklist_cursor_parse(const char *cursor, struct dir_db_worklist_filter *f)
{
    const char *dot = cursor ? strchr(cursor, '.') : NULL;
    if (!dot) return false;
    const char *end = dot + strlen(dot);
    long long id, us = 0;
    if (!number(dot + 1, end, 1, LLONG_MAX, &id)) return false;
    bool never = dot - cursor == 1 && cursor[0] == 'n';
    /* Microseconds from 1900 to 2200: what PostgreSQL can hold and the directory may. */
    if (!never && !number(cursor, dot, -2208988800000000LL, 7258118400000000LL, &us)) return false;
    f->after_set = true;
    f->after_null = never;
    f->after_us = us;
    f->after_id = id;
    return true;
}

static void answer(struct rq *q, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    q->resp->status = s ? 200 : 500;
    q->resp->content_type = "application/json; charset=utf-8";
    q->resp->cache = "no-store"; /* a staff worklist, read from the database each time */
    q->resp->body.len = 0;
    if (!s || dir_buf_adds(&q->resp->body, s)) {
        q->resp->status = 500;
        q->resp->body.len = 0;
    }
    free(s);
}

void dir_worklist_verification(struct dir_db *db, const struct dir_model *m,
                               const struct dir_caller *who, const struct dir_http_req *req,
                               struct dir_http_resp *resp)
{
    struct rq q = {req, resp};
    (void)who;
    if (!db) return unavailable(&q);
    struct dir_db_worklist_filter f = {
        .entity = "organization", .stale_days = m->stale_days, .limit = DEFAULT_LIMIT};
    const char *entity = dir_http_arg(req, "entity"), *zone = dir_http_arg(req, "zone");
    const char *district = dir_http_arg(req, "district"), *type = dir_http_arg(req, "type");
    const char *lim = dir_http_arg(req, "limit"), *cur = dir_http_arg(req, "cursor");
    if (entity && strcmp(entity, "organization") != 0 && strcmp(entity, "person") != 0)
        return bad_param(&q, "entity", "ใช้ organization หรือ person",
                         "must be organization or person");
    if (entity) f.entity = entity;
    if (zone && *zone) {
        int g = dir_model_group(m, zone);
        if (g < 0 || strcmp(m->groups[g].kind, "zone") != 0)
            return bad_param(&q, "zone", "ไม่รู้จักกลุ่มเขตนี้ (ใช้รหัสจาก /v1/area-groups ชนิด zone)",
                             "not a zone group's code (see /v1/area-groups, kind zone)");
        f.zone = zone;
    }
    if (district && *district) {
        int i = dir_model_area(m, district);
        if (i < 0 || m->areas[i].kind != DIR_AREA_DISTRICT)
            return bad_param(&q, "district", "ไม่รู้จักเขตหรืออำเภอนี้ (ใช้รหัสพื้นที่ระดับเขต)",
                             "not a district's area code");
        f.district = district;
    }
    if (type && *type) {
        if (dir_model_taxon(m, DIR_TAX_ORG_TYPE, type) < 0)
            return bad_param(&q, "type", "ไม่รู้จักประเภทหน่วยงานนี้ (ดู /v1/org-types)",
                             "not an organisation type (see /v1/org-types)");
        f.type = type;
    }
    long long n;
    if (lim) {
        if (!dir_query_int(lim, 1, MAX_LIMIT, &n))
            return bad_param(&q, "limit", "ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 500",
                             "must be a whole number from 1 to 500");
        f.limit = (int)n;
    }
    if (cur && !dir_worklist_cursor_parse(cur, &f))
        return bad_param(&q, "cursor", "ตัวชี้หน้าไม่ถูกต้อง ใช้ค่า next จากคำตอบก่อนหน้า",
                         "not a cursor from a previous answer's 'next'");
    f.limit++; /* one more tells whether there is a next page */
    json_t *items = NULL;
    char err[512];
    if (dir_db_worklist_verification(db, &f, &items, err, sizeof err)) {
        DIR_LOG(DIR_LOG_WARN, "worklist", "database: %s", err);
        return unavailable(&q);
    }
    size_t count = json_array_size(items);
    bool more = count == (size_t)f.limit;
    if (more) json_array_remove(items, --count);
    json_t *next = json_null();
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        if (more && i == count - 1) {
            json_decref(next);
            next = json_incref(json_object_get(item, "cursor"));
        }
        json_object_del(item, "cursor");
    }
    json_t *out = json_pack("{s:o, s:o}", "items", items, "next", next ? next : json_null());
    answer(&q, out);
    json_decref(out);
}
