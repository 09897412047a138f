/* dir_admin.c - the admin's local-account routes and API clients' last use (dir_admin.h).
 *
 * Local accounts are for partners' coordinators who are not in the city LDAP. Passwords are
 * hashed with argon2id (dir_session_hash_password, as `directoryd local-account`), never
 * echoed, logged or audited. Disabling takes effect at once: every request of a session
 * re-reads the account (dir_session_recheck). A new password ends the account's sessions
 * too (a logout mark, as signing out everywhere). */
#include "dir_admin.h"
#include "dir_auth.h"
#include "dir_log.h"
#include "dir_problem.h"
#include "dir_refresh.h"
#include "dir_session.h"
#include "dir_write.h"

#include <jansson.h>
#include <pthread.h>
#include <regex.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_PASSWORD 10
#define MAX_PASSWORD 1024

static void problem(struct dir_route_ctx *x, int status, const char *slug, const char *title,
                    const char *detail)
{
    struct dir_problem p;
    dir_problem_init(&p, status, slug, title, "%s", detail);
    dir_problem_respond(&p, dir_http_path(x->req), x->resp);
}

static void answer_json(struct dir_route_ctx *x, int status, const char *json)
{
    x->resp->status = status;
    x->resp->content_type = "application/json; charset=utf-8";
    dir_buf_adds(&x->resp->body, json);
}

static void db_failed(struct dir_route_ctx *x, enum dir_rc rc, const char *err)
{
    if (rc == DIR_ERR_NOTFOUND) return problem(x, 404, "not-found", "Not found", err);
    if (rc == DIR_ERR_STATE) return problem(x, 409, "conflict", "Name taken", err);
    DIR_LOG(DIR_LOG_WARN, "admin", "account change failed: %s", err);
    problem(x, 503, "database-unavailable", "Database unavailable",
            "The change could not be saved right now; nothing was changed. Retry shortly.");
}

/* The JSON object body; NULL after answering 415/400. Never quotes the body back (it may
 * hold a password). Caller decrefs. */
static json_t *read_body(struct dir_route_ctx *x)
{
    size_t len;
    const char *body = dir_http_body(x->req, &len);
    const char *ct = dir_http_header(x->req, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) != 0) {
        problem(x, 415, "unsupported-media-type", "Unsupported media type",
                "Send the body as application/json.");
        return NULL;
    }
    json_error_t e;
    json_t *v = dir_write_body_parse(body, len, &e);
    if (!v) {
        struct dir_problem p;
        dir_problem_init(&p, 400, "invalid-body", "Invalid request body",
                         "The body is not one JSON object.");
        dir_problem_add(&p, "body", "ไม่ใช่ JSON object", "not a JSON object");
        dir_problem_respond(&p, dir_http_path(x->req), x->resp);
    }
    return v;
}

/* True when NAME (already lower-cased) is what local_account accepts: 3 to 64 of a-z 0-9 . _ -. */
static bool account_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n >= 3 && n <= 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void check_password(struct dir_problem *p, json_t *v)
{
    if (!v) {
        dir_problem_add(p, "password", "ต้องระบุรหัสผ่าน", "required");
    } else if (!json_is_string(v)) {
        dir_problem_add(p, "password", "ต้องเป็นข้อความ", "must be a string");
    } else if (json_string_length(v) < MIN_PASSWORD) {
        dir_problem_add(p, "password", "รหัสผ่านต้องยาวอย่างน้อย 10 ตัวอักษร", "at least 10 characters");
    } else if (json_string_length(v) > MAX_PASSWORD) {
        dir_problem_add(p, "password", "รหัสผ่านยาวเกินไป", "too long (at most 1024 bytes)");
    } else if (strlen(json_string_value(v)) != json_string_length(v)) {
        dir_problem_add(p, "password", "มีอักขระ NUL", "contains a NUL character");
    }
}

/* Any key of BODY not in ALLOWED (NULL-terminated) is an error of its own. */
static void check_fields(struct dir_problem *p, json_t *body, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) dir_problem_add(p, key, "ไม่รู้จักช่องนี้", "unknown field");
    }
}

static bool hash_password(struct dir_route_ctx *x, json_t *pw, char *hash, size_t n)
{
    if (dir_session_hash_password(json_string_value(pw), hash, n) == DIR_OK) return true;
    problem(x, 503, "unavailable", "Cannot hash the password",
            "The server could not hash the password right now; nothing was changed.");
    return false;
}

static void create(struct dir_route_ctx *x, const struct dir_db_actor *actor)
{
    json_t *body = read_body(x);
    if (!body) return;
    struct dir_problem p;
    dir_problem_init(&p, 400, "invalid-body", "Invalid request body",
                     "The account has invalid fields (see errors).");
    static const char *const allowed[] = {"username", "password", "role", "display_name", NULL};
    check_fields(&p, body, allowed);
    json_t *u = json_object_get(body, "username"), *pw = json_object_get(body, "password");
    json_t *r = json_object_get(body, "role"), *dn = json_object_get(body, "display_name");
    char name[65] = "";
    if (!json_is_string(u))
        dir_problem_add(&p, "username", "ต้องระบุชื่อผู้ใช้", "required");
    else if (!dir_session_username(json_string_value(u), name) || !account_name_ok(name))
        dir_problem_add(&p, "username", "ชื่อผู้ใช้ต้องเป็น a-z 0-9 . _ - ยาว 3 ถึง 64 ตัวอักษร",
                        "3 to 64 of a-z 0-9 . _ -");
    check_password(&p, pw);
    if (!json_is_string(r) || dir_auth_role_parse(json_string_value(r)) <= 0)
        dir_problem_add(&p, "role", "บทบาทต้องเป็น caseworker, coordinator หรือ admin",
                        "must be caseworker, coordinator or admin");
    if (dn && !json_is_null(dn) &&
        (!json_is_string(dn) || json_string_length(dn) < 1 || json_string_length(dn) > 200 ||
         strlen(json_string_value(dn)) != json_string_length(dn)))
        dir_problem_add(&p, "display_name", "ชื่อที่แสดงต้องยาว 1 ถึง 200 ตัวอักษร", "1 to 200 characters");
    if (p.nerrors) {
        dir_problem_respond(&p, dir_http_path(x->req), x->resp);
        json_decref(body);
        return;
    }
    char hash[256], err[512];
    char *out = NULL;
    if (hash_password(x, pw, hash, sizeof hash)) {
        enum dir_rc rc = dir_db_account_create(
            x->write->db, actor, name, hash, json_string_value(r),
            json_is_string(dn) ? json_string_value(dn) : NULL, &out, err, sizeof err);
        if (rc) {
            db_failed(x, rc, err);
        } else {
            DIR_LOG(DIR_LOG_INFO, "admin", "%s created local account %s (%s)", actor->name, name,
                    json_string_value(r));
            answer_json(x, 201, out);
        }
    }
    sodium_memzero(hash, sizeof hash);
    free(out);
    json_decref(body);
}

static void change(struct dir_route_ctx *x, const struct dir_db_actor *actor, const char *given,
                   const char *action)
{
    char name[65] = "", err[512], hash[256] = "";
    char *out = NULL;
    enum dir_rc rc;
    if (!dir_session_username(given, name) || !account_name_ok(name))
        return problem(x, 404, "not-found", "Not found", "No such local account.");
    if (strcmp(action, "password") == 0) {
        json_t *body = read_body(x);
        if (!body) return;
        struct dir_problem p;
        dir_problem_init(&p, 400, "invalid-body", "Invalid request body",
                         "Send {\"password\": ...} (at least 10 characters).");
        static const char *const allowed[] = {"password", NULL};
        check_fields(&p, body, allowed);
        json_t *pw = json_object_get(body, "password");
        check_password(&p, pw);
        if (p.nerrors) {
            dir_problem_respond(&p, dir_http_path(x->req), x->resp);
            json_decref(body);
            return;
        }
        bool hashed = hash_password(x, pw, hash, sizeof hash);
        json_decref(body);
        if (!hashed) return;
        rc = dir_db_account_password(x->write->db, actor, name, hash, &out, err, sizeof err);
        sodium_memzero(hash, sizeof hash);
        long long seq = 0;
        char e2[256];
        /* The old password's sessions end with it. */
        if (!rc && dir_session_end_all(x->write->db, name, &seq, e2, sizeof e2) == DIR_OK) {
            dir_write_settle(x->write, seq, 0, x->resp);
        } else if (!rc) {
            DIR_LOG(DIR_LOG_WARN, "admin", "sessions of %s not ended: %s", name, e2);
        }
    } else {
        rc = dir_db_account_disable(x->write->db, actor, name, strcmp(action, "disable") == 0, &out,
                                    err, sizeof err);
    }
    if (rc) {
        db_failed(x, rc, err);
    } else {
        DIR_LOG(DIR_LOG_INFO, "admin", "%s: %s of local account %s", actor->name, action, name);
        answer_json(x, 200, out);
    }
    free(out);
}

void dir_admin_route_accounts(struct dir_route_ctx *x)
{
    struct dir_db_actor actor = {x->who->kind, x->who->name, x->who->address};
    const char *action = x->route->what;
    if (x->narg && action) return change(x, &actor, x->arg[0], action);
    if (strcmp(x->method, "POST") == 0) return create(x, &actor);
    char err[512];
    char *rows = NULL;
    enum dir_rc rc = dir_db_accounts_list(x->write->db, &rows, err, sizeof err);
    if (rc) return db_failed(x, rc, err);
    x->resp->status = 200;
    x->resp->content_type = "application/json; charset=utf-8";
    dir_buf_printf(&x->resp->body, "{\"items\":%s,\"next\":null}", rows);
    free(rows);
}

void dir_admin_route_staff_roles(struct dir_route_ctx *x)
{
    char err[512];
    char *rows = NULL;
    enum dir_rc rc = dir_db_staff_roles_list(x->write->db, &rows, err, sizeof err);
    if (rc) return db_failed(x, rc, err);
    x->resp->status = 200;
    x->resp->content_type = "application/json; charset=utf-8";
    dir_buf_printf(&x->resp->body, "{\"items\":%s,\"next\":null}", rows);
    free(rows);
}

/* ---- API clients' last use ----
 *
 * Noted in memory by the request (no I/O on the read path); written to PostgreSQL by the
 * refresher thread (at most once a minute per client, checked every few seconds) and by the
 * admin's list of clients (everything pending, so the list is current on this daemon). */

#define USE_SLOTS 256
#define USE_EVERY_S 60
#define FLUSH_EVERY_S 5

static struct {
    char name[65];
    time_t used;    /* last authenticated here */
    time_t written; /* last written to PostgreSQL */
} uses[USE_SLOTS];
static pthread_mutex_t uses_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t last_flush;

void dir_admin_client_used(const char *name)
{
    if (!name) return;
    unsigned h = 5381;
    for (const char *c = name; *c; c++)
        h = h * 33u + (unsigned char)*c;
    int slot = (int)(h % USE_SLOTS);
    pthread_mutex_lock(&uses_lock);
    if (strcmp(uses[slot].name, name) != 0) { /* a new client here (or one sharing the slot) */
        snprintf(uses[slot].name, sizeof uses[slot].name, "%s", name);
        uses[slot].written = 0;
    }
    uses[slot].used = time(NULL);
    pthread_mutex_unlock(&uses_lock);
}

void dir_admin_flush_uses(struct dir_db *db, bool all)
{
    struct {
        char name[65];
        time_t used;
    } todo[USE_SLOTS];
    int n = 0;
    time_t now = time(NULL);
    pthread_mutex_lock(&uses_lock);
    if (all || now - last_flush >= FLUSH_EVERY_S) {
        last_flush = now;
        for (int i = 0; i < USE_SLOTS; i++) {
            if (!uses[i].name[0] || uses[i].used <= uses[i].written) continue;
            if (!all && now - uses[i].written < USE_EVERY_S) continue;
            memcpy(todo[n].name, uses[i].name, sizeof todo[n].name);
            todo[n++].used = uses[i].used;
            uses[i].written = uses[i].used;
        }
    }
    pthread_mutex_unlock(&uses_lock);
    for (int i = 0; i < n; i++) {
        char err[256];
        if (dir_db_client_used(db, todo[i].name, (long long)todo[i].used, err, sizeof err))
            DIR_LOG(DIR_LOG_WARN, "admin", "last use of API client %s not noted: %s", todo[i].name,
                    err);
    }
}
