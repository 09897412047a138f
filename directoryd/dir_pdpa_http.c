/* dir_pdpa_http.c - the access log's admin routes: GET /v1/admin/access-log (who read whose
 * non-public contact points) and GET /v1/admin/people/{id}/data-report (everything held about
 * one person, and who read it). The routes are in dir_api.c's table (admin role). */
#include "dir_pdpa_http.h"
#include "dir_db_pdpa.h"
#include "dir_log.h"
#include "dir_pdpa.h"
#include "dir_problem.h"
#include "dir_query.h"
#include "dir_text.h"
#include "dir_write.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 500

struct allowed {
    const char *const *names;
    const char *bad;
};

static bool check_arg(void *cls, const char *key, const char *value)
{
    struct allowed *a = cls;
    (void)value;
    for (const char *const *n = a->names; *n; n++)
        if (strcmp(*n, key) == 0) return true;
    a->bad = key;
    return false;
}

static const char *path_of(const struct dir_route_ctx *x)
{
    return dir_http_path(x->req);
}

/* Refuses a parameter not in NAMES (400); false after answering. */
static bool only_args(struct dir_route_ctx *x, const char *const *names, const char *list)
{
    struct allowed a = {names, NULL};
    dir_http_args_each(x->req, check_arg, &a);
    if (!a.bad) return true;
    char shown[64];
    dir_text_utf8_clean(a.bad, strlen(a.bad), sizeof shown - 1, shown);
    dir_problem_bad_param(path_of(x), x->resp, shown, "ไม่รู้จักพารามิเตอร์นี้",
                          "unknown parameter; this endpoint takes: %s", list);
    return false;
}

/* An RFC 3339 date ("2026-12-01") or date-time ("2026-12-01T08:00:00Z", "...+07:00", with
 * optional fractions of a second). */
static bool rfc3339(const char *s)
{
    static const char date[] = "dddd-dd-dd", tm[] = "dd:dd:dd";
    size_t i = 0;
    for (; date[i]; i++)
        if (date[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != date[i]) return false;
    if (!s[i]) return true;
    if (s[i] != 'T' && s[i] != 't') return false;
    s += i + 1;
    for (i = 0; tm[i]; i++)
        if (tm[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != tm[i]) return false;
    s += i;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if ((*s == 'Z' || *s == 'z') && !s[1]) return true;
    return (*s == '+' || *s == '-') && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
           s[3] == ':' && s[4] >= '0' && s[4] <= '9' && s[5] >= '0' && s[5] <= '9' && !s[6];
}

/* Reads time parameter NAME into *OUT (NULL when absent); false after a 400. */
static bool get_time(struct dir_route_ctx *x, const char *name, const char **out)
{
    *out = dir_http_arg(x->req, name);
    if (!*out || (strlen(*out) <= 40 && rfc3339(*out))) return true;
    dir_problem_bad_param(path_of(x), x->resp, name,
                          "ต้องเป็นวันที่หรือเวลาแบบ RFC 3339 เช่น 2026-12-01T08:00:00+07:00",
                          "not an RFC 3339 date or date-time (2026-12-01T08:00:00+07:00)");
    return false;
}

static void db_failed(struct dir_route_ctx *x, const char *err)
{
    DIR_LOG(DIR_LOG_WARN, "pdpa", "%s", err);
    struct dir_problem p;
    dir_problem_init(&p, 503, "database-unavailable", "Database unavailable",
                     "The access log cannot be read right now; try again shortly.");
    x->resp->retry_after = 5;
    dir_problem_respond(&p, path_of(x), x->resp);
}

static void json_answer(struct dir_route_ctx *x, char *json)
{
    x->resp->status = 200;
    x->resp->content_type = "application/json; charset=utf-8";
    x->resp->cache = "no-store";
    dir_buf_adds(&x->resp->body, json);
    free(json);
}

void dir_pdpa_route_access_log(struct dir_route_ctx *x)
{
    static const char *const args[] = {"person", "actor",  "since", "until",
                                       "limit",  "cursor", NULL};
    struct dir_db_access_filter f = {.limit = DEFAULT_LIMIT};
    if (!only_args(x, args, "person, actor, since, until, limit, cursor")) return;
    const char *v;
    long long n;
    if ((v = dir_http_arg(x->req, "person")) && !dir_query_int(v, 1, LLONG_MAX, &f.person))
        return dir_problem_bad_param(path_of(x), x->resp, "person", "ต้องเป็นรหัสบุคคล (id)",
                                     "not a person id");
    if ((v = dir_http_arg(x->req, "limit"))) {
        if (!dir_query_int(v, 1, MAX_LIMIT, &n))
            return dir_problem_bad_param(path_of(x), x->resp, "limit",
                                         "ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 500",
                                         "not a whole number from 1 to 500");
        f.limit = (int)n;
    }
    if ((v = dir_http_arg(x->req, "actor"))) {
        if (!*v || strlen(v) > 1000 || !dir_text_utf8_valid(v, strlen(v)))
            return dir_problem_bad_param(path_of(x), x->resp, "actor",
                                         "ต้องเป็นชื่อผู้ใช้ ชื่อ API client หรือ DN",
                                         "an API client name, username or bind DN (UTF-8, "
                                         "at most 1000 bytes)");
        f.actor = v;
    }
    if (!get_time(x, "since", &f.since) || !get_time(x, "until", &f.until)) return;
    if ((v = dir_http_arg(x->req, "cursor"))) {
        char tail;
        if (sscanf(v, "%lld.%lld%c", &f.after_at_us, &f.after_id, &tail) != 2 || f.after_id <= 0 ||
            f.after_at_us < 0)
            return dir_problem_bad_param(path_of(x), x->resp, "cursor",
                                         "ตัวชี้หน้าไม่ถูกต้อง ใช้ค่า next จากคำตอบก่อนหน้า",
                                         "not a cursor from a previous answer's 'next'");
    }
    char *json = NULL, err[512];
    if (dir_db_access_log_list(x->write->db, &f, &json, err, sizeof err)) return db_failed(x, err);
    json_answer(x, json);
}

static void iso(time_t t, char *out, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void dir_pdpa_route_data_report(struct dir_route_ctx *x)
{
    static const char *const args[] = {"since", "until", NULL};
    long long id;
    if (!only_args(x, args, "since, until")) return;
    if (!dir_query_int(x->arg[0], 1, LLONG_MAX, &id)) {
        struct dir_problem p;
        dir_problem_init(&p, 404, "not-found", "Not found", "No person with that id.");
        return dir_problem_respond(&p, path_of(x), x->resp);
    }
    const char *since, *until;
    if (!get_time(x, "since", &since) || !get_time(x, "until", &until)) return;
    char dsince[32], duntil[32];
    time_t now = time(NULL);
    if (!since) {
        iso(now - (time_t)dir_pdpa_retention_days() * 86400, dsince, sizeof dsince);
        since = dsince;
    }
    if (!until) {
        iso(now + 1, duntil, sizeof duntil);
        until = duntil;
    }
    char *json = NULL, err[512];
    enum dir_rc rc = dir_db_person_report(x->write->db, id, since, until, &json, err, sizeof err);
    if (rc == DIR_ERR_NOTFOUND) {
        struct dir_problem p;
        dir_problem_init(&p, 404, "not-found", "Not found", "No person with id %lld.", id);
        return dir_problem_respond(&p, path_of(x), x->resp);
    }
    if (rc) return db_failed(x, err);
    /* The report shows every contact point of the person: reading it is a read too. */
    dir_pdpa_note_id(id);
    json_answer(x, json);
}
