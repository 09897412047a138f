/* dir_write.c - the HTTP side of writes (see dir_write.h): routes, roles, If-Match, the
 * PostgreSQL write and the answer; the body checks are in dir_write_check.c. */
#include "dir_write.h"
#include "dir_admin.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_pdpa.h"
#include "dir_problem.h"
#include "dir_query.h"
#include "dir_validate.h"

#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One request's work: validation state and the write being built. */
struct job {
    const struct dir_write_env *env;
    const struct dir_caller *who;
    const struct dir_http_req *req;
    struct dir_http_resp *resp;
    const char *path;
    struct dir_write_check c; /* the snapshot, the write being built, field errors */
};

static void respond_problem(struct job *j, int status, const char *slug, const char *title,
                            const char *detail)
{
    struct dir_problem p;
    dir_problem_init(&p, status, slug, title, "%s", detail);
    dir_problem_respond(&p, j->path, j->resp);
}

/* ---- request plumbing ---- */

/* Parses the JSON object body; false after answering 400/415. *OUT is owned by the caller. */
static bool read_body(struct job *j, json_t **out, bool allow_empty)
{
    size_t len;
    const char *body = dir_http_body(j->req, &len);
    const char *ct = dir_http_header(j->req, "Content-Type");
    if (len == 0 && allow_empty) {
        *out = json_object();
        return true;
    }
    if (!ct || (strncmp(ct, "application/json", 16) != 0 &&
                strncmp(ct, "application/merge-patch+json", 28) != 0)) {
        respond_problem(j, 415, "unsupported-media-type", "Unsupported media type",
                        "Send the body as application/json.");
        return false;
    }
    json_error_t e;
    json_t *v = dir_write_body_parse(body, len, &e);
    if (!v) {
        struct dir_problem p;
        dir_write_body_problem(&e, &p);
        dir_problem_respond(&p, j->path, j->resp);
        return false;
    }
    *out = v;
    return true;
}

static bool need_role(struct job *j, enum dir_role role)
{
    if (j->who->role >= role) return true;
    if (j->who->role == DIR_ROLE_ANON)
        respond_problem(j, 401, "unauthorized", "Authentication required",
                        "Writes need an API key or a staff session.");
    else
        respond_problem(j, 403, "forbidden", "Not allowed",
                        role == DIR_ROLE_ADMIN
                            ? "This needs the admin role."
                            : "Editing the directory needs the coordinator role.");
    return false;
}

/* The If-Match version; false after answering 428/400. */
static bool need_if_match(struct job *j)
{
    const char *h = dir_http_header(j->req, "If-Match");
    if (!h) {
        respond_problem(j, 428, "precondition-required", "If-Match required",
                        "Send If-Match with the ETag you read, so no edit is lost.");
        return false;
    }
    if (!dir_validate_if_match(h, &j->c.w.if_version)) {
        respond_problem(j, 400, "invalid-if-match", "Invalid If-Match",
                        "If-Match must be one ETag as returned by a read, e.g. \"3\".");
        return false;
    }
    return true;
}

/* The entity's current JSON from the served snapshot, with its ETag: ID for numeric-keyed
 * entities, CODE for areas and area groups. */
static void answer(struct job *j, int status, long long id, const char *code)
{
    const struct dir_model *m = j->c.m;
    struct dir_http_resp *r = j->resp;
    const char *e = j->c.w.entity;
    const struct dir_json *js = NULL;
    int version = 0, idx;
    r->status = status;
    r->content_type = "application/json; charset=utf-8";
    if (strcmp(e, "organization") == 0 && (idx = dir_model_org(m, id)) >= 0) {
        snprintf(r->etag, sizeof r->etag, "\"%d\"", dir_model_org_at(m, idx)->version);
        dir_model_org_json(m, dir_model_org_at(m, idx), true, dir_hours_now(), &r->body);
        return;
    } else if (strcmp(e, "person") == 0 && (idx = dir_model_person(m, id)) >= 0) {
        snprintf(r->etag, sizeof r->etag, "\"%d\"", dir_model_person_at(m, idx)->version);
        dir_model_person_json(m, dir_model_person_at(m, idx), true, &r->body);
        return;
    } else if (strcmp(e, "programme") == 0 && (idx = dir_model_programme(m, id, NULL)) >= 0) {
        js = &m->programmes[idx].json;
        version = m->programmes[idx].version;
    } else if (strcmp(e, "area_group") == 0 && (idx = dir_model_group(m, code)) >= 0) {
        js = &m->groups[idx].json;
        version = m->groups[idx].version;
    } else if (strcmp(e, "area") == 0 && (idx = dir_model_area(m, code)) >= 0) {
        snprintf(r->etag, sizeof r->etag, "\"%d\"", m->areas[idx].version);
        dir_query_area(m, idx, &r->body);
        return;
    }
    if (!js) { /* not in the snapshot yet: the key at least */
        if (code)
            dir_buf_printf(&r->body, "{\"code\":\"%s\"}", code);
        else
            dir_buf_printf(&r->body, "{\"id\":%lld}", id);
        return;
    }
    snprintf(r->etag, sizeof r->etag, "\"%d\"", version);
    dir_buf_add(&r->body, js->s, js->len);
}

static void db_failed(struct job *j, enum dir_rc rc, const char *err)
{
    struct dir_problem p;
    switch (rc) {
    case DIR_ERR_NOTFOUND:
        dir_problem_init(&p, 404, "not-found", "Not found", "%s", err);
        break;
    case DIR_ERR_INVALID:
        dir_problem_init(&p, 400, "invalid-body", "Invalid request body",
                         "The directory refused a value: %s", err);
        dir_problem_add(&p, "body", "ข้อมูลขัดกับกฎของทำเนียบ", err);
        break;
    case DIR_ERR_STATE:
        /* 412 with the current state, so the caller can merge and retry. */
        answer(j, 412, j->c.w.id, j->c.w.code);
        return;
    default:
        DIR_LOG(DIR_LOG_WARN, "write", "write failed: %s", err);
        dir_problem_init(&p, 503, "database-unavailable", "Database unavailable",
                         "The directory's database for writes cannot be reached, so nothing was "
                         "changed; reading still works. Retry after the time in Retry-After.");
        break;
    }
    dir_problem_respond(&p, j->path, j->resp);
}

bool dir_write_settle(const struct dir_write_env *env, long long seq, int min_ms,
                      struct dir_http_resp *resp)
{
    if (seq <= 0 || !env || !env->refresh) return true;
    int ms = env->wait_ms > 0 ? env->wait_ms : 2000;
    if (ms < min_ms) ms = min_ms;
    if (dir_refresh_wait(env->refresh, seq, ms)) return true;
    DIR_LOG(DIR_LOG_WARN, "write", "the read model did not reach change %lld within %d ms", seq,
            ms);
    if (resp) dir_http_resp_header(resp, DIR_WRITE_STALE_HEADER, "write not yet visible here");
    return false;
}

/* Runs the write, then answers with the entity as the read model shows it afterwards. */
static void commit(struct job *j, int ok_status)
{
    struct dir_db_actor actor = {j->who->kind, j->who->name, j->who->address};
    struct dir_db_result res;
    char err[512];
    enum dir_rc rc = dir_db_apply(j->env->db, &actor, &j->c.w, &res, err, sizeof err);
    if (rc) {
        db_failed(j, rc, err);
        return;
    }
    if (res.key_reused) {
        respond_problem(j, 422, "idempotency-key-reused", "Idempotency-Key reused",
                        "This Idempotency-Key was used for a different request.");
        return;
    }
    struct dir_model *fresh = NULL;
    dir_write_settle(j->env, res.seq, 0, j->resp);
    fresh = dir_refresh_acquire(j->env->refresh);
    const struct dir_model *old = j->c.m;
    j->c.m = fresh ? fresh : old;
    answer(j, res.replayed ? 200 : ok_status, res.id, res.id ? NULL : res.code);
    j->c.m = old;
    dir_model_release(fresh);
}

static long long path_id(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    return *s && !*end && v > 0 ? v : -1;
}

static void entity_write(struct job *j, bool org, const char *id_s, const char *action)
{
    const struct dir_model *m = j->c.m;
    json_t *body = NULL;
    j->c.w.entity = org ? "organization" : "person";
    if (!need_role(j, DIR_ROLE_COORDINATOR)) return;
    bool create = !id_s;
    if (!create) {
        j->c.w.id = path_id(id_s);
        int idx = j->c.w.id < 0 ? -1
                  : org         ? dir_model_org(m, j->c.w.id)
                                : dir_model_person(m, j->c.w.id);
        if (idx < 0) {
            respond_problem(j, 404, "not-found", "Not found",
                            org ? "No such organization." : "No such person.");
            return;
        }
        if (!need_if_match(j)) return;
    }
    bool ldap = !org && !create && dir_model_person_at(m, dir_model_person(m, j->c.w.id))->source &&
                strcmp(dir_model_person_at(m, dir_model_person(m, j->c.w.id))->source, "ldap") == 0;
    if (!read_body(j, &body, action != NULL)) return;
    j->c.actor = j->who->name;
    dir_write_check(&j->c, body, j->c.w.entity,
                    action   ? action
                    : create ? "create"
                             : "update",
                    ldap);
    const char *idem = create ? dir_http_header(j->req, "Idempotency-Key") : NULL;
    if (idem && (strlen(idem) == 0 || strlen(idem) > 200))
        dir_write_field_error(&j->c, "Idempotency-Key", "ยาว 1-200 ตัวอักษร", "1 to 200 characters");
    if (j->c.prob.nerrors) {
        dir_problem_respond(&j->c.prob, j->path, j->resp);
        json_decref(body);
        return;
    }
    char req_hash[65] = "";
    if (idem) {
        size_t len;
        const char *raw = dir_http_body(j->req, &len);
        unsigned char h[32];
        crypto_generichash(h, sizeof h, (const unsigned char *)raw, len, NULL, 0);
        sodium_bin2hex(req_hash, sizeof req_hash, h, sizeof h);
        j->c.w.idem_key = idem;
        j->c.w.req_hash = req_hash;
    }
    commit(j, create ? 201 : 200);
    json_decref(body);
}

/* Communities, area groups and programmes: create (POST) and update (PATCH). */
static void other_write(struct job *j, const char *entity, const char *key)
{
    const struct dir_model *m = j->c.m;
    json_t *body = NULL;
    j->c.w.entity = entity;
    if (!need_role(j, DIR_ROLE_COORDINATOR)) return;
    bool create = !key;
    if (!create) {
        bool found;
        if (strcmp(entity, "programme") == 0) {
            j->c.w.id = path_id(key);
            found = j->c.w.id > 0 && dir_model_programme(m, j->c.w.id, NULL) >= 0;
        } else {
            j->c.w.code = key;
            int a = strcmp(entity, "area") == 0 ? dir_model_area(m, key) : dir_model_group(m, key);
            found = a >= 0;
            if (found && strcmp(entity, "area") == 0 && m->areas[a].kind != DIR_AREA_COMMUNITY) {
                respond_problem(j, 403, "reference-data", "Reference data",
                                "Provinces, districts and sub-districts are national reference "
                                "facts (TIS 1099); only communities are edited here.");
                return;
            }
        }
        if (!found) {
            respond_problem(j, 404, "not-found", "Not found", "Nothing has this key.");
            return;
        }
        if (!need_if_match(j)) return;
    }
    if (!read_body(j, &body, false)) return;
    dir_write_check(&j->c, body, entity, create ? "create" : "update", false);
    if (j->c.prob.nerrors) {
        dir_problem_respond(&j->c.prob, j->path, j->resp);
        json_decref(body);
        return;
    }
    commit(j, create ? 201 : 200);
    json_decref(body);
}

/* ---- audit and API clients ---- */

/* The access log (PDPA): audit rows of people show their non-public contact points (in
 * "before" and "after"). */
static void note_people(json_t *items)
{
    size_t i, k;
    json_t *it, *c;
    if (!dir_pdpa_active()) return;
    json_array_foreach(items, i, it)
    {
        if (!json_is_string(json_object_get(it, "entity")) ||
            strcmp(json_string_value(json_object_get(it, "entity")), "person") != 0)
            continue;
        bool priv = false;
        for (int side = 0; side < 2 && !priv; side++) {
            json_t *e = json_object_get(it, side ? "after" : "before");
            json_array_foreach(json_object_get(e, "contacts"), k, c)
            {
                if (json_is_false(json_object_get(c, "is_public"))) priv = true;
            }
        }
        const char *id = json_string_value(json_object_get(it, "entity_id"));
        if (priv && id) dir_pdpa_note_id(strtoll(id, NULL, 10));
    }
}

static void audit_read(struct job *j)
{
    if (!need_role(j, DIR_ROLE_COORDINATOR)) return;
    const char *entity = dir_http_arg(j->req, "entity"), *id = dir_http_arg(j->req, "id");
    const char *actor = dir_http_arg(j->req, "actor"), *since = dir_http_arg(j->req, "since");
    const char *lim = dir_http_arg(j->req, "limit"), *cur = dir_http_arg(j->req, "cursor");
    long long limit = 50, before = 0;
    bool limit_ok = !lim || dir_query_int(lim, 1, 500, &limit);
    if (!limit_ok || (cur && !dir_query_int(cur, 1, LLONG_MAX, &before))) {
        struct dir_problem p;
        dir_problem_init(&p, 400, "invalid-parameter", "Invalid query parameter",
                         "limit must be 1..500 and cursor a previous 'next'.");
        dir_problem_add(&p, !limit_ok ? "limit" : "cursor", "ค่าไม่ถูกต้อง", "invalid");
        dir_problem_respond(&p, j->path, j->resp);
        return;
    }
    if (since && (strlen(since) < 10 || since[4] != '-' || since[7] != '-')) {
        struct dir_problem p;
        dir_problem_init(&p, 400, "invalid-parameter", "Invalid query parameter",
                         "since must be an ISO 8601 date or time.");
        dir_problem_add(&p, "since", "วันเวลาแบบ ISO 8601", "an ISO 8601 date or time");
        dir_problem_respond(&p, j->path, j->resp);
        return;
    }
    char *rows = NULL, err[512];
    enum dir_rc rc = dir_db_audit(j->env->db, entity, id, actor, since, before, (int)limit, &rows,
                                  err, sizeof err);
    if (rc == DIR_ERR_INVALID) {
        respond_problem(j, 400, "invalid-parameter", "Invalid query parameter", err);
        return;
    }
    if (rc) {
        db_failed(j, rc, err);
        return;
    }
    json_t *items = json_loads(rows, 0, NULL);
    free(rows);
    size_t n = json_array_size(items);
    note_people(items);
    json_t *out = json_object();
    json_object_set_new(out, "items", items);
    json_t *last = json_array_get(items, n ? n - 1 : 0);
    json_object_set_new(
        out, "next",
        (int)n == limit && last
            ? json_sprintf("%lld", (long long)json_integer_value(json_object_get(last, "id")))
            : json_null());
    char *s = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    j->resp->status = 200;
    j->resp->content_type = "application/json; charset=utf-8";
    dir_buf_adds(&j->resp->body, s ? s : "{}");
    free(s);
}

static void clients(struct job *j, const char *method, const char *name, const char *action)
{
    char err[512];
    long long seq = 0;
    if (!need_role(j, DIR_ROLE_ADMIN)) return;
    struct dir_db_actor actor = {j->who->kind, j->who->name, j->who->address};
    if ((strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) && !name) {
        char *rows = NULL;
        dir_admin_flush_uses(j->env->db, true); /* the last uses noted here, written first */
        enum dir_rc rc = dir_db_list_clients(j->env->db, &rows, err, sizeof err);
        if (rc) return db_failed(j, rc, err);
        j->resp->status = 200;
        j->resp->content_type = "application/json; charset=utf-8";
        dir_buf_printf(&j->resp->body, "{\"items\":%s,\"next\":null}", rows);
        free(rows);
        return;
    }
    if (strcmp(method, "POST") == 0 && name && action && strcmp(action, "revoke") == 0) {
        enum dir_rc rc = dir_db_revoke_client(j->env->db, &actor, name, &seq, err, sizeof err);
        if (rc) return db_failed(j, rc, err);
        dir_write_settle(j->env, seq, 0, j->resp);
        j->resp->status = 200;
        j->resp->content_type = "application/json; charset=utf-8";
        dir_buf_adds(&j->resp->body, "{\"name\":");
        dir_buf_add_json_str(&j->resp->body, name);
        dir_buf_adds(&j->resp->body, ",\"revoked\":true}");
        return;
    }
    if (strcmp(method, "POST") != 0 || name) {
        respond_problem(
            j, 405, "method-not-allowed", "Method not allowed",
            "Use GET or POST /v1/admin/api-clients, POST /v1/admin/api-clients/{name}/revoke.");
        j->resp->allow = "GET, POST";
        return;
    }
    json_t *body;
    if (!read_body(j, &body, false)) return;
    dir_write_check(&j->c, body, "api_client", "create", false);
    const char *cname = json_string_value(json_object_get(body, "name"));
    const char *role = json_string_value(json_object_get(body, "role"));
    const char *exp = json_string_value(json_object_get(body, "expires_at"));
    if (j->c.prob.nerrors) {
        dir_problem_respond(&j->c.prob, j->path, j->resp);
        json_decref(body);
        return;
    }
    char secret[DIR_AUTH_SECRET_LEN + 1];
    uint8_t hash[DIR_AUTH_HASH_LEN];
    dir_auth_new_secret(secret);
    dir_auth_hash(secret, hash);
    enum dir_rc rc =
        dir_db_create_client(j->env->db, &actor, cname, role, exp, hash, &seq, err, sizeof err);
    if (rc == DIR_ERR_STATE) {
        respond_problem(j, 409, "conflict", "Name taken", err);
    } else if (rc) {
        db_failed(j, rc, err);
    } else {
        dir_write_settle(j->env, seq, 0, j->resp);
        /* The secret is shown once, here; only its hash is stored. */
        json_t *out = json_pack("{s:s, s:s, s:s, s:o}", "name", cname, "role", role, "secret",
                                secret, "expires_at", exp ? json_string(exp) : json_null());
        char *s = json_dumps(out, JSON_COMPACT);
        json_decref(out);
        j->resp->status = 201;
        j->resp->content_type = "application/json; charset=utf-8";
        dir_buf_adds(&j->resp->body, s ? s : "{}");
        free(s);
    }
    sodium_memzero(secret, sizeof secret);
    json_decref(body);
}

/* PUT /v1/admin/staff-roles/{username} {"role": ...} sets the role a staff member gets at
 * login over the LDAP group mapping (null clears it); it applies from their next login. */
static void staff_role(struct job *j, const char *method, const char *username)
{
    char err[256];
    if (!need_role(j, DIR_ROLE_ADMIN)) return;
    if (strcmp(method, "PUT") != 0) {
        j->resp->allow = "PUT";
        respond_problem(j, 405, "method-not-allowed", "Method not allowed",
                        "Use PUT /v1/admin/staff-roles/{username} {\"role\": ...}.");
        return;
    }
    json_t *body;
    if (!read_body(j, &body, false)) return;
    dir_write_check(&j->c, body, "staff_role", "update", false);
    const char *role = json_string_value(json_object_get(body, "role"));
    if (strlen(username) > 64) dir_write_field_error(&j->c, "username", "ยาวเกินไป", "too long");
    if (j->c.prob.nerrors) {
        dir_problem_respond(&j->c.prob, j->path, j->resp);
        json_decref(body);
        return;
    }
    struct dir_db_actor actor = {j->who->kind, j->who->name, j->who->address};
    enum dir_rc rc = dir_db_set_staff_role(j->env->db, &actor, username, role, err, sizeof err);
    if (rc) {
        db_failed(j, rc, err);
    } else {
        j->resp->status = 200;
        j->resp->content_type = "application/json; charset=utf-8";
        dir_buf_adds(&j->resp->body, "{\"username\":");
        dir_buf_add_json_str(&j->resp->body, username);
        dir_buf_adds(&j->resp->body, ",\"role\":");
        if (role)
            dir_buf_add_json_str(&j->resp->body, role);
        else
            dir_buf_adds(&j->resp->body, "null");
        dir_buf_adds(&j->resp->body, "}");
    }
    json_decref(body);
}

/* ---- the routes (dir_api's route table has checked the route, the method and the role) ---- */

static void job_init(struct job *j, const struct dir_route_ctx *x)
{
    *j = (struct job){.env = x->write,
                      .who = x->who,
                      .req = x->req,
                      .resp = x->resp,
                      .path = dir_http_path(x->req),
                      .c = {.m = x->m}};
}

void dir_write_route_org(struct dir_route_ctx *x)
{
    struct job j;
    job_init(&j, x);
    entity_write(&j, true, x->narg ? x->arg[0] : NULL, x->route->what);
}

void dir_write_route_person(struct dir_route_ctx *x)
{
    struct job j;
    job_init(&j, x);
    entity_write(&j, false, x->narg ? x->arg[0] : NULL, x->route->what);
}

void dir_write_route_other(struct dir_route_ctx *x)
{
    struct job j;
    job_init(&j, x);
    other_write(&j, x->route->what, x->narg ? x->arg[0] : NULL);
}

void dir_write_route_audit(struct dir_route_ctx *x)
{
    struct job j;
    job_init(&j, x);
    audit_read(&j);
}

void dir_write_route_clients(struct dir_route_ctx *x)
{
    struct job j;
    job_init(&j, x);
    clients(&j, x->method, x->narg ? x->arg[0] : NULL, x->route->what);
}

void dir_write_route_staff_role(struct dir_route_ctx *x)
{
    struct job j;
    job_init(&j, x);
    staff_role(&j, x->method, x->arg[0]);
}
