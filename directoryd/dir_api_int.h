/* dir_api_int.h - what the JSON API's files share: dir_api.c (the route table, admission and
 * dispatch), dir_api_read.c (the read routes), dir_api_auth.c (authentication and
 * /v1/session) and dir_api_health.c (the database probe and /healthz).
 * Not for other modules: they use dir_api.h. */
#ifndef DIR_API_INT_H
#define DIR_API_INT_H

#include "dir_api.h"
#include "dir_auth.h"
#include "dir_model.h"
#include "dir_problem.h"
#include "dir_session.h"

#include <stdbool.h>

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 500
#define MAX_Q_BYTES 200

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

/* What the client sent, as shown in a problem: valid UTF-8 of at most SHOW_MAX bytes, cut on
 * a character boundary (the buffer lives until the end of the enclosing statement's block). */
#define SHOW_MAX 60
#define SHOW(v) dir_api_show_value((v), (char[SHOW_MAX + 1]){0})

const char *dir_api_show_value(const char *v, char *buf);

/* Answers with problem P (dir_problem_respond). */
void dir_api_problem(struct call *c, struct dir_problem *p);

#define bad_param(c, ...) dir_problem_bad_param((c)->path, (c)->resp, __VA_ARGS__)

/* ---- the handlers of the routes (the route table: dir_api.c) ---- */

/* dir_api_read.c: the read routes. */
void dir_api_list_areas(struct call *c);
void dir_api_get_area_detail(struct call *c, const char *code);
void dir_api_list_groups(struct call *c);
void dir_api_list_taxa(struct call *c, enum dir_tax_kind kind);
void dir_api_list_orgs(struct call *c);
void dir_api_get_org(struct call *c, const char *key);
void dir_api_list_people(struct call *c);
void dir_api_get_person(struct call *c, const char *key);
void dir_api_resolve(struct call *c, const char *central_ref);
void dir_api_changes(struct call *c);
void dir_api_programmes(struct call *c, const char *key);
void dir_api_search(struct call *c);

/* dir_api_health.c: GET /healthz. */
void dir_api_healthz(struct call *c, struct dir_api *api, const char *method);

/* dir_api_auth.c: the caller's role from an API key or a session cookie (false after a 401),
 * and /v1/session (log in, who is logged in, log out). */
bool dir_api_authenticate(struct call *c, struct dir_sessions *sessions, bool cookie_secure);
void dir_api_session_route(struct call *c, struct dir_api *api, const char *method);

#endif
