/* dir_report.c - reports of mistakes over HTTP (see dir_report.h): body checks, roles, the
 * limit on new reports and the answers. The SQL is in dir_db_report.c. */
#include "dir_report.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_query.h"
#include "dir_text.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 500

/* ---- text ---- */

/* The code point at S (well-formed UTF-8) and its length in bytes in *N. */
static unsigned decode(const unsigned char *s, size_t *n)
{
    if (s[0] < 0x80) {
        *n = 1;
        return s[0];
    }
    if (s[0] < 0xE0) {
        *n = 2;
        return (s[0] & 0x1Fu) << 6 | (s[1] & 0x3Fu);
    }
    if (s[0] < 0xF0) {
        *n = 3;
        return (s[0] & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
    }
    *n = 4;
    return (s[0] & 0x07u) << 18 | (s[1] & 0x3Fu) << 12 | (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
}

/* White space trimmed from the ends of a text: Unicode's spaces and line breaks, and the
 * invisible zero-width space and byte order mark. */
static bool is_space(unsigned c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

char *dir_report_text(const char *s, size_t len, size_t max, bool multiline,
                      enum dir_report_text_error *why)
{
    *why = DIR_REPORT_TEXT_OK;
    if (!dir_text_utf8_valid(s, len)) {
        *why = DIR_REPORT_TEXT_NOT_UTF8;
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)s;
    size_t start = len, end = 0, n;
    for (size_t i = 0; i < len; i += n)
        if (!is_space(decode(p + i, &n))) {
            if (start == len) start = i;
            end = i + n;
        }
    if (start == len) return dir_xstrdup("");
    size_t chars = 0;
    for (size_t i = start; i < end; i += n) {
        unsigned c = decode(p + i, &n);
        bool control = c < 0x20 || (c >= 0x7F && c <= 0x9F);
        if (c == '\t' || c == '\n' || c == '\r') control = !multiline;
        if (c == 0x2028 || c == 0x2029) control = !multiline;
        if (control) {
            *why = DIR_REPORT_TEXT_CONTROL;
            return NULL;
        }
        chars++;
    }
    if (chars > max) {
        *why = DIR_REPORT_TEXT_TOO_LONG;
        return NULL;
    }
    return dir_xstrndup(s + start, end - start);
}

/* ---- checks ---- */

static void field_error(struct dir_problem *p, const char *field, const char *th, const char *en)
{
    if (p->nerrors == 0)
        dir_problem_init(p, 400, "invalid-body", "Invalid request body",
                         "Some fields are invalid; see errors.");
    dir_problem_add(p, field, th, en);
}

/* The checked text of FIELD of BODY (a JSON string, or absent/null when not REQUIRED) of at
 * most MAX characters: a new string (NULL when absent or blank and not required), or NULL
 * with a field error in P (*OK false). */
static char *text_field(json_t *body, const char *field, size_t max, bool multiline, bool required,
                        struct dir_problem *p, bool *ok)
{
    json_t *v = json_object_get(body, field);
    *ok = true;
    if (!v || json_is_null(v)) {
        if (required) {
            field_error(p, field, "ต้องระบุ", "required");
            *ok = false;
        }
        return NULL;
    }
    if (!json_is_string(v)) {
        field_error(p, field, "ต้องเป็นข้อความ", "must be a string");
        *ok = false;
        return NULL;
    }
    enum dir_report_text_error why;
    char *t = dir_report_text(json_string_value(v), json_string_length(v), max, multiline, &why);
    char th[128], en[128];
    switch (why) {
    case DIR_REPORT_TEXT_OK:
        if (*t) return t;
        free(t);
        if (!required) return NULL;
        field_error(p, field, "ต้องไม่ว่าง", "must not be empty");
        break;
    case DIR_REPORT_TEXT_NOT_UTF8:
        field_error(p, field, "ต้องเป็น UTF-8 ที่ถูกต้อง", "must be valid UTF-8");
        break;
    case DIR_REPORT_TEXT_CONTROL:
        field_error(p, field, multiline ? "มีอักขระควบคุมที่ไม่อนุญาต" : "ต้องเป็นข้อความบรรทัดเดียว",
                    multiline ? "holds a control character" : "must be one line of text");
        break;
    case DIR_REPORT_TEXT_TOO_LONG:
        snprintf(th, sizeof th, "ยาวได้ไม่เกิน %zu ตัวอักษร", max);
        snprintf(en, sizeof en, "at most %zu characters", max);
        field_error(p, field, th, en);
        break;
    }
    *ok = false;
    return NULL;
}

/* Refuses the members of BODY not named in KNOWN (a typo never goes unnoticed). */
static void unknown_fields(json_t *body, const char *const *known, struct dir_problem *p)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        const char *const *k = known;
        while (*k && strcmp(*k, key) != 0)
            k++;
        if (!*k) {
            char shown[64];
            dir_text_utf8_clean(key, strlen(key), sizeof shown - 1, shown);
            field_error(p, shown, "ไม่รู้จักช่องนี้", "unknown field");
        }
    }
}

/* The entity ID refers to in M (entity E: 0 organisation, 1 person, 2 area): its index, and
 * its key in canonical form in OUT; -1 when there is none. */
static int find_entity(const struct dir_model *m, int e, const char *id, char *out, size_t n)
{
    long long num = 0;
    bool numeric = dir_query_int(id, 1, LLONG_MAX, &num);
    int idx = -1;
    if (e == 0) {
        idx = numeric ? dir_model_org(m, num) : dir_model_org_by_ref(m, id);
        if (idx >= 0) snprintf(out, n, "%lld", dir_model_org_at(m, idx)->id);
    } else if (e == 1) {
        idx = numeric ? dir_model_person(m, num) : -1;
        if (idx >= 0) snprintf(out, n, "%lld", dir_model_person_at(m, idx)->id);
    } else {
        idx = dir_model_area(m, id);
        if (idx >= 0) snprintf(out, n, "%s", m->areas[idx].code);
    }
    return idx;
}

static const char *const entity_names[] = {"organization", "person", "area", NULL};

static int entity_code(const char *s)
{
    for (int i = 0; s && entity_names[i]; i++)
        if (strcmp(s, entity_names[i]) == 0) return i;
    return -1;
}

bool dir_report_check(const struct dir_model *m, enum dir_role role, json_t *body,
                      struct dir_report_input *in)
{
    static const char *const known[] = {"entity", "id", "message", "contact", NULL};
    struct dir_problem *p = &in->prob;
    bool ok;
    memset(p, 0, sizeof *p);
    in->message = in->contact = NULL;
    in->entity_id[0] = '\0';
    unknown_fields(body, known, p);

    json_t *ev = json_object_get(body, "entity");
    int e = entity_code(json_string_value(ev));
    if (!ev || json_is_null(ev))
        field_error(p, "entity", "ต้องระบุ", "required");
    else if (e < 0)
        field_error(p, "entity", "ใช้ organization, person หรือ area",
                    "must be organization, person or area");

    json_t *iv = json_object_get(body, "id");
    char id[DIR_REPORT_MAX_ID + 1] = "";
    if (!iv || json_is_null(iv)) {
        field_error(p, "id", "ต้องระบุ", "required");
    } else if (json_is_integer(iv)) {
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(iv));
    } else if (!json_is_string(iv)) {
        field_error(p, "id", "ต้องเป็นรหัสหรือเลขประจำรายการ", "must be an id, ref or area code");
    } else if (json_string_length(iv) == 0 || json_string_length(iv) > DIR_REPORT_MAX_ID ||
               strlen(json_string_value(iv)) != json_string_length(iv)) {
        field_error(p, "id", "ยาว 1-80 ไบต์", "must be 1 to 80 bytes");
    } else {
        snprintf(id, sizeof id, "%s", json_string_value(iv));
    }

    in->message = text_field(body, "message", DIR_REPORT_MAX_MESSAGE, true, true, p, &ok);
    in->contact = text_field(body, "contact", DIR_REPORT_MAX_CONTACT, false, false, p, &ok);
    if (p->nerrors) return false;

    if (e == 1 && role == DIR_ROLE_ANON) {
        /* Anonymous callers never see people: whether one exists is not theirs to learn. */
        dir_problem_init(p, 401, "unauthorized", "Authentication required",
                         "Reports about people need an API key or a staff session.");
        dir_problem_add(p, "entity", "ต้องเข้าสู่ระบบก่อน", "sign in to report about a person");
        return false;
    }
    if (find_entity(m, e, id, in->entity_id, sizeof in->entity_id) < 0) {
        dir_problem_init(p, 404, "not-found", "Not found", "No %s has this id.", entity_names[e]);
        dir_problem_add(p, "id", "ไม่พบรายการนี้ในทำเนียบ", "no such entry in the directory");
        return false;
    }
    in->r.entity = entity_names[e];
    in->r.entity_id = in->entity_id;
    in->r.message = in->message;
    in->r.contact = in->contact;
    return true;
}

void dir_report_input_free(struct dir_report_input *in)
{
    free(in->message);
    free(in->contact);
    in->message = in->contact = NULL;
}

bool dir_report_action_check(json_t *body, bool resolve, char **note, const char **resolution,
                             struct dir_problem *prob)
{
    static const char *const known_resolve[] = {"note", "resolution", NULL};
    static const char *const known_reopen[] = {"note", NULL};
    bool ok;
    memset(prob, 0, sizeof *prob);
    *resolution = NULL;
    unknown_fields(body, resolve ? known_resolve : known_reopen, prob);
    *note = text_field(body, "note", DIR_REPORT_MAX_MESSAGE, true, false, prob, &ok);
    json_t *r = resolve ? json_object_get(body, "resolution") : NULL;
    if (r && !json_is_null(r)) {
        const char *s = json_string_value(r);
        if (s && strcmp(s, "fixed") == 0)
            *resolution = "fixed";
        else if (s && strcmp(s, "not_a_mistake") == 0)
            *resolution = "not_a_mistake";
        else
            field_error(prob, "resolution", "ใช้ fixed หรือ not_a_mistake",
                        "must be fixed or not_a_mistake");
    }
    if (!prob->nerrors) return true;
    free(*note);
    *note = NULL;
    return false;
}

/* ---- HTTP ---- */

/* One request. */
struct rq {
    const struct dir_report_env *env;
    const struct dir_caller *who;
    const struct dir_http_req *req;
    struct dir_http_resp *resp;
    const char *path;
};

static void respond(struct rq *q, const struct dir_problem *p)
{
    dir_problem_respond(p, q->path, q->resp);
}

static void problem(struct rq *q, int status, const char *slug, const char *title,
                    const char *detail)
{
    struct dir_problem p;
    dir_problem_init(&p, status, slug, title, "%s", detail);
    respond(q, &p);
}

static bool need_db(struct rq *q)
{
    if (q->env && q->env->db) return true;
    problem(q, 503, "database-unavailable", "Database unavailable",
            "The database cannot be reached; try again shortly.");
    return false;
}

/* Coordinators and admins read and handle reports. */
static bool need_coordinator(struct rq *q)
{
    if (q->who->role >= DIR_ROLE_COORDINATOR) return true;
    if (q->who->role == DIR_ROLE_ANON)
        problem(q, 401, "unauthorized", "Authentication required",
                "Reports are read by coordinators: send an API key or use a staff session.");
    else
        problem(q, 403, "forbidden", "Not allowed",
                "Reading and handling reports needs the coordinator role.");
    return false;
}

static void db_failed(struct rq *q, const char *err)
{
    DIR_LOG(DIR_LOG_WARN, "report", "database: %s", err);
    problem(q, 503, "database-unavailable", "Database unavailable",
            "The report could not be read or saved right now; nothing was changed. Retry "
            "shortly.");
}

/* The JSON object body (caller decrefs); an empty body is {} when ALLOW_EMPTY. NULL after
 * answering 413, 415 or 400. */
static json_t *read_body(struct rq *q, bool allow_empty)
{
    size_t len;
    const char *body = dir_http_body(q->req, &len);
    struct dir_problem p;
    if (len > DIR_REPORT_MAX_BODY) {
        dir_problem_init(&p, 413, "payload-too-large", "Request body too large",
                         "A report body may hold at most %d bytes.", DIR_REPORT_MAX_BODY);
        dir_problem_add(&p, "body", "ข้อความยาวเกินไป", "too large");
        respond(q, &p);
        return NULL;
    }
    if (len == 0 && allow_empty) return json_object();
    const char *ct = dir_http_header(q->req, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) != 0) {
        problem(q, 415, "unsupported-media-type", "Unsupported media type",
                "Send the body as application/json.");
        return NULL;
    }
    json_error_t e;
    json_t *v = dir_write_body_parse(body, len, &e);
    if (!v) {
        dir_write_body_problem(&e, &p);
        respond(q, &p);
    }
    return v;
}

static void answer_json(struct rq *q, int status, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    q->resp->status = s ? status : 500;
    q->resp->content_type = "application/json; charset=utf-8";
    q->resp->cache = "no-store"; /* reports may hold people's words and contacts */
    q->resp->body.len = 0;
    if (!s || dir_buf_adds(&q->resp->body, s)) {
        q->resp->status = 500;
        q->resp->body.len = 0;
    }
    free(s);
}

/* Seconds on a clock that never jumps (the limiter's windows). */
static time_t mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec;
}

/* Whom the limit counts: a signed-in caller by name (staff behind one office address are not
 * each other's limit), an anonymous one by address. */
static void rate_key(const struct dir_caller *who, char *out, size_t n)
{
    if (who->kind)
        snprintf(out, n, "c:%s:%s", who->kind, who->name ? who->name : "");
    else
        dir_rate_addr_key(who->address, out, n);
}

/* Stores the checked report IN unless its sender is over the limit, and answers. */
static void post_checked(struct rq *q, const struct dir_report_input *in)
{
    const struct dir_caller *who = q->who;
    struct dir_rate *rate = q->env->rate;
    char key[DIR_RATE_KEY_MAX];
    rate_key(who, key, sizeof key);
    int wait = rate ? dir_rate_take(rate, key, mono_now()) : 0;
    if (wait) {
        struct dir_problem p;
        q->resp->retry_after = wait;
        dir_problem_init(&p, 429, "too-many-reports", "Too many reports",
                         "Too many reports from here; try again in %d seconds.", wait);
        respond(q, &p);
        return;
    }
    struct dir_db_actor actor = {who->kind, who->name, who->address};
    long long id = 0;
    char created[32], err[512];
    if (dir_db_report_add(q->env->db, &actor, &in->r, &id, created, err, sizeof err)) {
        if (rate) dir_rate_give_back(rate, key, mono_now()); /* nothing was stored */
        db_failed(q, err);
        return;
    }
    DIR_LOG(DIR_LOG_INFO, "report", "report %lld about %s %s from %s %s", id, in->r.entity,
            in->r.entity_id, who->kind ? who->kind : "anonymous", who->address);
    json_t *out =
        json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)id, "status", "open", "created_at",
                  created, "entity", in->r.entity, "entity_id", in->r.entity_id);
    answer_json(q, 201, out);
    json_decref(out);
}

void dir_report_post(const struct dir_report_env *env, const struct dir_model *m,
                     const struct dir_caller *who, const struct dir_http_req *req,
                     struct dir_http_resp *resp, const char *const *params, int nparams)
{
    struct rq q = {env, who, req, resp, dir_http_path(req)};
    (void)params;
    (void)nparams;
    if (!need_db(&q)) return;
    json_t *body = read_body(&q, false);
    if (!body) return;
    struct dir_report_input *in = dir_xcalloc(1, sizeof *in);
    if (dir_report_check(m, who->role, body, in))
        post_checked(&q, in);
    else
        respond(&q, &in->prob);
    dir_report_input_free(in);
    free(in);
    json_decref(body);
}

/* Adds entity_name_th / entity_name_en to report ITEM from the snapshot (null when the entry
 * is no longer in it). */
static void add_names(const struct dir_model *m, json_t *item)
{
    const char *id = json_string_value(json_object_get(item, "entity_id"));
    int e = entity_code(json_string_value(json_object_get(item, "entity")));
    const char *th = NULL, *en = NULL;
    char canon[DIR_REPORT_MAX_ID + 1];
    int idx = id && e >= 0 ? find_entity(m, e, id, canon, sizeof canon) : -1;
    if (idx >= 0 && e == 0) {
        th = dir_model_org_at(m, idx)->name_th;
        en = dir_model_org_at(m, idx)->name_en;
    } else if (idx >= 0 && e == 1) {
        th = dir_model_person_at(m, idx)->name_th;
        en = dir_model_person_at(m, idx)->name_en;
    } else if (idx >= 0) {
        th = m->areas[idx].name_th;
        en = m->areas[idx].name_en;
    }
    json_object_set_new(item, "entity_name_th", th ? json_string(th) : json_null());
    json_object_set_new(item, "entity_name_en", en ? json_string(en) : json_null());
}

static void bad_param(struct rq *q, const char *name, const char *th, const char *en)
{
    dir_problem_bad_param(dir_http_path(q->req), q->resp, name, th, "%s", en);
}

void dir_report_list(const struct dir_report_env *env, const struct dir_model *m,
                     const struct dir_caller *who, const struct dir_http_req *req,
                     struct dir_http_resp *resp, const char *const *params, int nparams)
{
    struct rq q = {env, who, req, resp, dir_http_path(req)};
    (void)params;
    (void)nparams;
    if (!need_coordinator(&q) || !need_db(&q)) return;
    struct dir_db_report_filter f = {.limit = DEFAULT_LIMIT};
    const char *status = dir_http_arg(req, "status"), *entity = dir_http_arg(req, "entity");
    const char *id = dir_http_arg(req, "id"), *lim = dir_http_arg(req, "limit");
    const char *cur = dir_http_arg(req, "cursor");
    long long n;
    if (status && strcmp(status, "open") != 0 && strcmp(status, "resolved") != 0)
        return bad_param(&q, "status", "ใช้ open หรือ resolved", "must be open or resolved");
    int e = entity_code(entity);
    if (entity && e < 0)
        return bad_param(&q, "entity", "ใช้ organization, person หรือ area",
                         "must be organization, person or area");
    if (id && !entity) return bad_param(&q, "id", "ต้องระบุ entity ด้วย", "needs entity too");
    if (id && (!*id || strlen(id) > DIR_REPORT_MAX_ID || !dir_text_utf8_valid(id, strlen(id))))
        return bad_param(&q, "id", "ยาว 1-80 ไบต์ (UTF-8)", "must be 1 to 80 bytes of UTF-8");
    if (lim) {
        if (!dir_query_int(lim, 1, MAX_LIMIT, &n))
            return bad_param(&q, "limit", "ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 500",
                             "must be a whole number from 1 to 500");
        f.limit = (int)n;
    }
    if (cur && !dir_query_int(cur, 1, LLONG_MAX, &f.after))
        return bad_param(&q, "cursor", "ตัวชี้หน้าไม่ถูกต้อง ใช้ค่า next จากคำตอบก่อนหน้า",
                         "not a cursor from a previous answer's 'next'");
    /* An organisation may be named by its ref; reports keep its id. */
    char canon[DIR_REPORT_MAX_ID + 1];
    if (id && find_entity(m, e, id, canon, sizeof canon) >= 0) id = canon;
    f.status = status;
    f.entity = entity;
    f.entity_id = id;
    f.limit++; /* one more tells whether there is a next page */
    json_t *items = NULL;
    char err[512];
    if (dir_db_report_list(env->db, &f, &items, err, sizeof err)) return db_failed(&q, err);
    size_t count = json_array_size(items);
    bool more = count == (size_t)f.limit;
    if (more) json_array_remove(items, --count);
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        add_names(m, item);
    }
    json_t *last = count ? json_array_get(items, count - 1) : NULL;
    json_t *out = json_pack("{s:o, s:o}", "items", items, "next",
                            more && last ? json_sprintf("%lld", (long long)json_integer_value(
                                                                    json_object_get(last, "id")))
                                         : json_null());
    answer_json(&q, 200, out);
    json_decref(out);
}

void dir_report_action(const struct dir_report_env *env, const struct dir_model *m,
                       const struct dir_caller *who, const struct dir_http_req *req,
                       struct dir_http_resp *resp, const char *const *params, int nparams)
{
    struct rq q = {env, who, req, resp, dir_http_path(req)};
    long long id;
    if (!need_coordinator(&q) || !need_db(&q)) return;
    if (nparams < 2 || !dir_query_int(params[0], 1, LLONG_MAX, &id))
        return problem(&q, 404, "not-found", "Not found", "There is no such report.");
    bool resolve = strcmp(params[1], "resolve") == 0;
    json_t *body = read_body(&q, true);
    if (!body) return;
    char *note = NULL;
    const char *resolution = NULL;
    struct dir_problem p;
    if (!dir_report_action_check(body, resolve, &note, &resolution, &p)) {
        respond(&q, &p);
        json_decref(body);
        return;
    }
    struct dir_db_actor actor = {who->kind, who->name, who->address};
    json_t *item = NULL;
    char err[512];
    enum dir_rc rc =
        dir_db_report_set(env->db, &actor, id, resolve, resolution, note, &item, err, sizeof err);
    if (rc == DIR_ERR_NOTFOUND) {
        problem(&q, 404, "not-found", "Not found", "There is no such report.");
    } else if (rc == DIR_ERR_STATE) {
        dir_problem_init(&p, 409, "conflict", resolve ? "Already resolved" : "Already open",
                         "Report %lld is already %s%s%s; nothing was changed.", id,
                         resolve ? "resolved" : "open",
                         resolve && json_string_value(json_object_get(item, "resolved_by")) ? " by "
                                                                                            : "",
                         resolve && json_string_value(json_object_get(item, "resolved_by"))
                             ? json_string_value(json_object_get(item, "resolved_by"))
                             : "");
        respond(&q, &p);
    } else if (rc) {
        db_failed(&q, err);
    } else {
        add_names(m, item);
        DIR_LOG(DIR_LOG_INFO, "report", "report %lld %s by %s", id,
                resolve ? "resolved" : "reopened", who->name);
        answer_json(&q, 200, item);
    }
    json_decref(item);
    free(note);
    json_decref(body);
}
