/* dir_api.c - the JSON API's route table (every route, its least role and its query
 * parameters), the checks before a handler runs (a snapshot, the caller, CSRF, the role) and
 * dispatch (dir_api_handle). The handlers are in dir_api_read.c (the read routes),
 * dir_api_auth.c (authentication, /v1/session), dir_api_health.c (the database probe,
 * /healthz) and the modules the table names; dir_api_int.h holds what these files share. */
#include "dir_api_int.h"
#include "dir_admin.h"
#include "dir_auth.h"
#include "dir_hsds_api.h"
#include "dir_import.h"
#include "dir_log.h"
#include "dir_openapi.h"
#include "dir_metrics.h"
#include "dir_obs.h"
#include "dir_pdpa.h"
#include "dir_pdpa_http.h"
#include "dir_problem.h"
#include "dir_text.h"
#include "dir_vcard.h"
#include "dir_worklist.h"

#include <limits.h>
#include <stdatomic.h>
#include <sodium.h>
#include <string.h>

const char *dir_api_show_value(const char *v, char *buf)
{
    dir_text_utf8_clean(v, strlen(v), SHOW_MAX, buf);
    return buf;
}

void dir_api_problem(struct call *c, struct dir_problem *p)
{
    dir_problem_respond(p, c->path, c->resp);
}

/* ---- the route table ---- */

/* The read API's handlers as routes: X->call is the request's struct call. */
static void r_healthz(struct dir_route_ctx *x)
{
    dir_api_healthz(x->call, x->app, x->method);
}
static void r_session(struct dir_route_ctx *x)
{
    dir_api_session_route(x->call, x->app, x->method);
}
static void r_areas(struct dir_route_ctx *x)
{
    dir_api_list_areas(x->call);
}
static void r_area(struct dir_route_ctx *x)
{
    dir_api_get_area_detail(x->call, x->arg[0]);
}
static void r_area_groups(struct dir_route_ctx *x)
{
    dir_api_list_groups(x->call);
}
static void r_orgs(struct dir_route_ctx *x)
{
    dir_api_list_orgs(x->call);
}
static void r_org(struct dir_route_ctx *x)
{
    dir_api_get_org(x->call, x->arg[0]);
}
static void r_people(struct dir_route_ctx *x)
{
    dir_api_list_people(x->call);
}
static void r_person(struct dir_route_ctx *x)
{
    dir_api_get_person(x->call, x->arg[0]);
}
static void r_programmes(struct dir_route_ctx *x)
{
    dir_api_programmes(x->call, x->narg ? x->arg[0] : "");
}
static void r_changes(struct dir_route_ctx *x)
{
    dir_api_changes(x->call);
}
static void r_resolve(struct dir_route_ctx *x)
{
    dir_api_resolve(x->call, ((struct dir_api *)x->app)->central_ref);
}
static void r_search(struct dir_route_ctx *x)
{
    dir_api_search(x->call);
}
static void r_taxa(struct dir_route_ctx *x)
{
    dir_api_list_taxa(x->call, (enum dir_tax_kind)x->route->kind);
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
    dir_api_problem(c, &p);
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
        dir_api_problem(c, &p);
        return false;
    }
    /* The login is not authenticated by what came before it (an old cookie does not matter). */
    if (!(r && (r->flags & DIR_ROUTE_NO_AUTH)) &&
        !dir_api_authenticate(c, api->sessions, api->cookie_secure))
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
            dir_api_problem(c, &p);
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
        dir_api_problem(&c, &p);
        goto out;
    }
    if (!r) {
        dir_problem_init(&p, 404, "not-found", "Not found", "There is nothing at this path.");
        dir_api_problem(&c, &p);
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
        dir_api_problem(&c, &p);
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
