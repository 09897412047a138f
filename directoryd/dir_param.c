/* dir_param.c - checking a request's query parameters against a route's declared list
 * (dir_param.h). */
#include "dir_param.h"

#include "dir_problem.h"
#include "dir_query.h"
#include "dir_text.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct dir_param dir_param_none[] = {DIR_PARAM_END};
const struct dir_param dir_param_any[] = {DIR_PARAM_END};

const char *dir_param_json_type(enum dir_param_type t)
{
    switch (t) {
    case DIR_PARAM_INT:
        return "integer";
    case DIR_PARAM_NUMBER:
        return "number";
    case DIR_PARAM_BOOL:
        return "boolean";
    default:
        return "string";
    }
}

/* The value as shown in a problem: valid UTF-8, at most 60 bytes (the buffer lives until
 * the end of the enclosing block). */
#define SHOW(v) show((v), (char[61]){0})
static const char *show(const char *v, char *buf)
{
    dir_text_utf8_clean(v, strlen(v), 60, buf);
    return buf;
}

struct unknown {
    const struct dir_param *params;
    const char *bad;
};

static const struct dir_param *find(const struct dir_param *params, const char *name)
{
    for (const struct dir_param *p = params; p->name; p++)
        if (strcmp(p->name, name) == 0) return p;
    return NULL;
}

static bool known(void *cls, const char *key, const char *value)
{
    struct unknown *u = cls;
    (void)value;
    if (find(u->params, key)) return true;
    u->bad = key;
    return false;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* YYYY-MM-DD, then nothing or 'T' / ' ' and more (the time, checked by whoever reads it). */
static bool datetime_ok(const char *s)
{
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : !is_digit(s[i])) return false;
    return s[10] == '\0' || ((s[10] == 'T' || s[10] == ' ') && s[11]);
}

/* "a, b or c" of VALUES into OUT (N bytes). */
static void list_values(const char *const *values, const char *last_sep, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *const *v = values; *v && used < n; v++)
        used += (size_t)snprintf(out + used, n - used, "%s%s",
                                 v == values ? "" : (v[1] ? ", " : last_sep), *v);
}

/* Checks one present value V of P; false after answering. */
static bool check_value(const struct dir_param *p, const char *v, const char *instance,
                        struct dir_http_resp *resp)
{
    char th[300], list[200];
    long long n;
    switch (p->type) {
    case DIR_PARAM_STRING:
        if (p->max > 0 && (strlen(v) > (size_t)p->max || !dir_text_utf8_valid(v, strlen(v)))) {
            snprintf(th, sizeof th, "ต้องเป็น UTF-8 และยาวไม่เกิน %lld ไบต์", p->max);
            dir_problem_bad_param(instance, resp, p->name, th,
                                  "must be UTF-8 of at most %lld bytes", p->max);
            return false;
        }
        return true;
    case DIR_PARAM_INT:
        if (dir_query_int(v, p->min, p->max, &n)) return true;
        if (p->max == LLONG_MAX) {
            snprintf(th, sizeof th, "ต้องเป็นจำนวนเต็มตั้งแต่ %lld ขึ้นไป", p->min);
            dir_problem_bad_param(instance, resp, p->name, th,
                                  "'%s' is not a whole number of at least %lld", SHOW(v), p->min);
        } else {
            snprintf(th, sizeof th, "ต้องเป็นจำนวนเต็มตั้งแต่ %lld ถึง %lld", p->min, p->max);
            dir_problem_bad_param(instance, resp, p->name, th,
                                  "'%s' is not a whole number from %lld to %lld", SHOW(v), p->min,
                                  p->max);
        }
        return false;
    case DIR_PARAM_NUMBER: {
        char *end;
        double d = strtod(v, &end);
        if (*v && !*end && isfinite(d) && d > (double)p->min && d <= (double)p->max) return true;
        snprintf(th, sizeof th, "ต้องเป็นตัวเลขมากกว่า %lld และไม่เกิน %lld", p->min, p->max);
        dir_problem_bad_param(instance, resp, p->name, th,
                              "'%s' is not a number above %lld and at most %lld", SHOW(v), p->min,
                              p->max);
        return false;
    }
    case DIR_PARAM_BOOL:
        if (!strcmp(v, "true") || !strcmp(v, "false") || !strcmp(v, "1") || !strcmp(v, "0"))
            return true;
        dir_problem_bad_param(instance, resp, p->name, "ใช้ true, false, 1 หรือ 0",
                              "'%s' is not true, false, 1 or 0", SHOW(v));
        return false;
    case DIR_PARAM_ENUM:
        for (const char *const *a = p->values; *a; a++)
            if (strcmp(*a, v) == 0) return true;
        list_values(p->values, " หรือ ", list, sizeof list);
        snprintf(th, sizeof th, "ใช้ %s", list);
        list_values(p->values, ", ", list, sizeof list);
        dir_problem_bad_param(instance, resp, p->name, th, "'%s' is not one of %s", SHOW(v), list);
        return false;
    case DIR_PARAM_DATETIME:
        if (datetime_ok(v)) return true;
        dir_problem_bad_param(instance, resp, p->name,
                              "ใช้วันที่แบบ 2025-01-31 หรือวันเวลาแบบ 2025-01-31T08:00:00Z",
                              "'%s' is not a date like 2025-01-31 or a date-time like "
                              "2025-01-31T08:00:00Z",
                              SHOW(v));
        return false;
    }
    return true;
}

bool dir_param_check(const struct dir_param *params, const struct dir_http_req *req,
                     const char *instance, struct dir_http_resp *resp)
{
    if (!params || params == dir_param_any) return true;
    struct unknown u = {params, NULL};
    dir_http_args_each(req, known, &u);
    if (u.bad) {
        char names[300];
        size_t used = 0;
        names[0] = '\0';
        for (const struct dir_param *p = params; p->name && used < sizeof names; p++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                     p == params ? "" : ", ", p->name);
        dir_problem_bad_param(instance, resp, u.bad, "ไม่รู้จักพารามิเตอร์นี้",
                              "not a parameter of this path; it takes: %s",
                              *names ? names : "none");
        return false;
    }
    for (const struct dir_param *p = params; p->name; p++) {
        const char *v = dir_http_arg(req, p->name);
        if (!v) {
            if (!(p->flags & DIR_PARAM_REQUIRED)) continue;
            dir_problem_bad_param(instance, resp, p->name, "ต้องระบุ", "required: %s",
                                  p->doc ? p->doc : "this parameter");
            return false;
        }
        if (!check_value(p, v, instance, resp)) return false;
    }
    return true;
}
