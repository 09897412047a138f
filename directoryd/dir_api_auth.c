/* dir_api_auth.c - who is calling the JSON API: an API key (Authorization: Bearer) or a staff
 * session cookie; and /v1/session, the staff login (log in, who is logged in, log out). */
#include "dir_api_int.h"
#include "dir_admin.h"
#include "dir_log.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define COOKIE_NAME "dird_session"

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
bool dir_api_authenticate(struct call *c, struct dir_sessions *sessions, bool cookie_secure)
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
        dir_api_problem(c, &p);
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
    dir_api_problem(c, &p);
    return false;
}

/* POST /v1/session logs in, GET says who is logged in, DELETE logs out. */
void dir_api_session_route(struct call *c, struct dir_api *api, const char *method)
{
    struct dir_problem p;
    if (!api->sessions) {
        dir_problem_init(&p, 503, "unavailable", "Login unavailable", "Sessions are not set up.");
        dir_api_problem(c, &p);
        return;
    }
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        if (!c->via_cookie) {
            dir_problem_init(&p, 401, "unauthorized", "Not logged in", "There is no session.");
            dir_api_problem(c, &p);
            return;
        }
    } else if (strcmp(method, "DELETE") == 0) {
        if (!c->via_cookie) {
            dir_problem_init(&p, 401, "unauthorized", "Not logged in", "There is no session.");
            dir_api_problem(c, &p);
            return;
        }
        long long seq = 0;
        char err[256];
        if (dir_session_logout(api->sessions, &c->session, &seq, err, sizeof err)) {
            DIR_LOG(DIR_LOG_WARN, "session", "logout failed: %s", err);
            dir_problem_init(&p, 503, "database-unavailable", "Database unavailable",
                             "The logout could not be recorded; try again.");
            dir_api_problem(c, &p);
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
            dir_api_problem(c, &p);
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
            dir_api_problem(c, &p);
            return;
        }
        if (r == DIR_LOGIN_UNAVAILABLE) {
            dir_problem_init(&p, 503, "login-unavailable", "Login unavailable",
                             "The password cannot be checked right now; try again shortly.");
            dir_api_problem(c, &p);
            return;
        }
        if (r == DIR_LOGIN_BAD) {
            dir_problem_init(&p, 401, "invalid-credentials", "Invalid credentials",
                             "The username or password is not right.");
            dir_api_problem(c, &p);
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
        dir_api_problem(c, &p);
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
