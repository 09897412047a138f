/* test_route.c - unit tests for route tables (dir_route) and the API's own table: patterns
 * with parameters, prefixes, the 405's Allow from the table, 404s, and every API route
 * reachable with each of its methods (no route hidden behind another). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dir_api.h"
#include "dir_entry.h"
#include "dir_log.h"
#include "dir_model.h"
#include "dir_openapi.h"
#include "dir_param.h"
#include "dir_route.h"

static void h(struct dir_route_ctx *x)
{
    (void)x;
}

static const struct dir_route table[] = {
    {DIR_M_READ, "/v1/things", DIR_ROLE_ANON, 0, h, NULL, 0, NULL},
    {DIR_M_POST, "/v1/things", DIR_ROLE_COORDINATOR, 0, h, NULL, 0, NULL},
    {DIR_M_READ, "/v1/things/{id}", DIR_ROLE_ANON, 0, h, NULL, 0, NULL},
    {DIR_M_PATCH | DIR_M_DELETE, "/v1/things/{id}", DIR_ROLE_COORDINATOR, 0, h, NULL, 0, NULL},
    {DIR_M_POST, "/v1/things/{id}/close", DIR_ROLE_COORDINATOR, 0, h, "close", 0, NULL},
    {DIR_M_POST, "/v1/things/{id}/{action}", DIR_ROLE_COORDINATOR, 0, h, NULL, 0, NULL},
    {DIR_M_READ, "/v1/pairs/{a}/to/{b}", DIR_ROLE_ANON, 0, h, NULL, 0, NULL},
    {DIR_M_POST, "/v1/admin/tool", DIR_ROLE_ADMIN, DIR_ROUTE_PREFIX, h, NULL,
     0, NULL},
    {DIR_M_READ, "/healthz", DIR_ROLE_ANON, DIR_ROUTE_EARLY, h, NULL, 0, NULL},
    {DIR_M_POST, "/v1/wild", DIR_ROLE_ANON, 0, h, NULL, 0, NULL},
    {DIR_M_READ, "/{any}/wild", DIR_ROLE_ANON, 0, h, NULL, 0, NULL},
    {DIR_M_GET, "/v1/{any}", DIR_ROLE_ANON, 0, h, NULL, 0, NULL},
};
static struct dir_route_table tt = /* static: its index lives as long as the process */ {
    .routes = table, .n = sizeof table / sizeof table[0]};

static const struct dir_route *find(const char *method, const char *path, struct dir_route_match *m)
{
    dir_route_find(&tt, method, path, m);
    return m->route;
}

static void methods_and_allow(void **state)
{
    (void)state;
    assert_int_equal(dir_route_method("GET"), DIR_M_GET);
    assert_int_equal(dir_route_method("DELETE"), DIR_M_DELETE);
    assert_int_equal(dir_route_method("get"), 0);
    assert_int_equal(dir_route_method("BREW"), 0);
    assert_string_equal(dir_route_allow(DIR_M_READ), "GET, HEAD");
    assert_string_equal(dir_route_allow(DIR_M_READ | DIR_M_PATCH), "GET, HEAD, PATCH");
    assert_string_equal(dir_route_allow(DIR_M_PUT), "PUT");
    assert_string_equal(dir_route_allow(DIR_M_DELETE | DIR_M_GET | DIR_M_POST),
                        "GET, POST, DELETE");
    assert_string_equal(dir_route_allow(0), "");
}

static void matching(void **state)
{
    (void)state;
    struct dir_route_match m;
    assert_ptr_equal(find("GET", "/v1/things", &m), &table[0]);
    assert_int_equal(m.narg, 0);
    assert_ptr_equal(find("HEAD", "/v1/things", &m), &table[0]);
    assert_ptr_equal(find("POST", "/v1/things", &m), &table[1]);
    assert_ptr_equal(find("GET", "/v1/things/12", &m), &table[2]);
    assert_int_equal(m.narg, 1);
    assert_string_equal(m.arg[0], "12");
    assert_ptr_equal(find("DELETE", "/v1/things/ab%c", &m), &table[3]);
    assert_string_equal(m.arg[0], "ab%c");
    /* A literal before a parameter: the first match wins. */
    assert_ptr_equal(find("POST", "/v1/things/7/close", &m), &table[4]);
    assert_ptr_equal(find("POST", "/v1/things/7/open", &m), &table[5]);
    assert_int_equal(m.narg, 2);
    assert_string_equal(m.arg[1], "open");
    assert_ptr_equal(find("GET", "/v1/pairs/x/to/y", &m), &table[6]);
    assert_string_equal(m.arg[0], "x");
    assert_string_equal(m.arg[1], "y");
    /* A prefix route takes every path below it, for its methods only. */
    assert_ptr_equal(find("POST", "/v1/admin/tool", &m), &table[7]);
    assert_ptr_equal(find("POST", "/v1/admin/tool/runs/1", &m), &table[7]);
    assert_int_equal(m.nseg, 5);
    assert_string_equal(m.seg[3], "runs");
    assert_null(find("GET", "/v1/admin/tool/runs/1", &m));
    assert_int_equal(m.allow, DIR_M_POST);
    assert_ptr_equal(find("GET", "/healthz", &m), &table[8]);
    /* Routes with a parameter in their first segments, in table order with the others. */
    assert_ptr_equal(find("POST", "/v1/wild", &m), &table[9]);
    assert_ptr_equal(find("GET", "/v1/wild", &m), &table[10]);
    assert_string_equal(m.arg[0], "v1");
    assert_ptr_equal(find("HEAD", "/v2/wild", &m), &table[10]);
    assert_ptr_equal(find("GET", "/v1/other", &m), &table[11]);
    assert_ptr_equal(find("GET", "/v1/things", &m), &table[0]); /* not /v1/{any} */
    assert_null(find("PUT", "/v1/wild", &m));
    assert_int_equal(m.allow, DIR_M_READ | DIR_M_POST);

    /* The path is there, not the method: the Allow of every matching route. */
    assert_null(find("PUT", "/v1/things/12", &m));
    assert_int_equal(m.allow, DIR_M_READ | DIR_M_PATCH | DIR_M_DELETE);
    assert_null(find("GET", "/v1/things/12/close", &m));
    assert_int_equal(m.allow, DIR_M_POST);
    assert_null(find("BREW", "/v1/things", &m));
    assert_int_equal(m.allow, DIR_M_READ | DIR_M_POST);
    assert_null(find("DELETE", "/healthz", &m));
    assert_int_equal(m.allow, DIR_M_READ);
    assert_true(m.flags & DIR_ROUTE_EARLY);
    assert_string_equal(dir_route_allow(m.allow), "GET, HEAD");

    /* Nothing there: a 404. */
    static const char *const none[] = {"/v1/thingsx/1",
                                       "/v1/things/1/close/x",
                                       "/v1/things/",
                                       "/v1//things",
                                       "/v1",
                                       "/",
                                       "",
                                       "v1/things",
                                       "/v2/things",
                                       "/v1/pairs/x/to",
                                       "/v1/admin/x",
                                       "/v1/admin/toolx",
                                       "/healthz/x",
                                       "/v1/things/1/",
                                       "/a/b/c/d/e/f/g/h/i"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        assert_null(find("GET", none[i], &m));
        assert_int_equal(m.allow, 0);
    }
    char longp[DIR_ROUTE_MAX_PATH + 10] = "/v1/things/";
    memset(longp + 11, 'a', sizeof longp - 12);
    longp[sizeof longp - 1] = '\0';
    assert_null(find("GET", longp, &m));
    assert_int_equal(m.nseg, -1);
}

/* The API's table: well-formed, and every route found for each of its methods on a path
 * made from its pattern (so no route is shadowed by an earlier one). */
static void api_table_is_reachable(void **state)
{
    (void)state;
    size_t n;
    const struct dir_route *routes = dir_api_routes(&n);
    static struct dir_route_table api; /* static: its index lives as long as the process */
    api.routes = routes;
    api.n = n;
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const struct dir_route *r = &routes[i];
        assert_non_null(r->handler);
        assert_true(r->methods != 0);
        assert_true(strncmp(r->pattern, "/v1/", 4) == 0 || strcmp(r->pattern, "/healthz") == 0 ||
                    strncmp(r->pattern, "/hsds", 5) == 0 || strcmp(r->pattern, "/metrics") == 0 ||
                    strcmp(r->pattern, "/readyz") == 0); /* obs: the operator's two */
        char path[256] = "";
        size_t used = 0;
        for (const char *p = r->pattern; *p;) {
            if (*p == '{') {
                used += (size_t)snprintf(path + used, sizeof path - used, "x%zu", i);
                p = strchr(p, '}') + 1;
            } else {
                path[used++] = *p++;
                path[used] = '\0';
            }
        }
        for (unsigned bit = 1; bit <= DIR_M_DELETE; bit <<= 1) {
            if (!(r->methods & bit)) continue;
            static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
            const char *method = names[__builtin_ctz(bit)];
            struct dir_route_match m;
            dir_route_find(&api, method, path, &m);
            if (m.route != r) fail_msg("%s %s goes to another route", method, path);
        }
        /* Its query parameters are declared (dir_param_none when it takes none). */
        if (!r->params) fail_msg("%s declares no query parameters", r->pattern);
        /* One route per pattern and method. */
        for (size_t k = 0; k < i; k++)
            if (strcmp(routes[k].pattern, r->pattern) == 0)
                assert_int_equal(routes[k].methods & r->methods, 0);
    }
}

struct answer {
    int status;
    const char *allow;
    char type[80];
};

static struct answer call(struct dir_api *api, const char *method, const char *path,
                          const char *key)
{
    char auth[80];
    snprintf(auth, sizeof auth, "Bearer %s", key ? key : "");
    struct dir_http_kv hdrs[] = {{"Authorization", auth, strlen(auth)}};
    struct dir_http_req *req =
        dir_http_req_new(method, path, NULL, 0, hdrs, key ? 1 : 0, "", 0, "127.0.0.1");
    struct dir_http_resp resp;
    dir_http_resp_init(&resp);
    dir_http_dispatch(dir_api_handle, api, req, &resp);
    struct answer a = {.status = resp.status, .allow = resp.allow};
    json_t *j = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, NULL) : NULL;
    const char *t = json_string_value(json_object_get(j, "type"));
    snprintf(a.type, sizeof a.type, "%s", t ? strrchr(t, '/') + 1 : "");
    json_decref(j);
    dir_buf_free(&resp.body);
    dir_http_req_free(req);
    return a;
}

/* Through the API's handler over a snapshot without a database. */
static void api_answers_from_the_table(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(dir_entry_configure(DIR_ENTRY_DEFAULT_SUFFIX, err, sizeof err), DIR_OK);
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    uint8_t hash[DIR_AUTH_HASH_LEN];
    dir_auth_hash("unit-key-caseworker", hash);
    dir_model_add_client(b, hash, "unit-caseworker", "caseworker", 0, false);
    struct dir_model *m = NULL;
    assert_int_equal(dir_model_finish(b, 1, &m, err, sizeof err), DIR_OK);
    struct dir_api api = {.model = m, .central_ref = "x"};

    struct answer a = call(&api, "DELETE", "/v1/organizations/1", NULL);
    assert_int_equal(a.status, 405);
    assert_string_equal(a.allow, "GET, HEAD, PATCH");
    a = call(&api, "GET", "/v1/organizations/1/close", NULL);
    assert_int_equal(a.status, 405);
    assert_string_equal(a.allow, "POST");
    a = call(&api, "PUT", "/v1/services", NULL);
    assert_int_equal(a.status, 405);
    assert_string_equal(a.allow, "GET, HEAD");
    a = call(&api, "BREW", "/v1/session", NULL);
    assert_int_equal(a.status, 405);
    assert_string_equal(a.allow, "GET, HEAD, POST, DELETE");
    a = call(&api, "DELETE", "/healthz", NULL);
    assert_int_equal(a.status, 405);
    assert_string_equal(a.allow, "GET, HEAD");
    a = call(&api, "POST", "/v1/organizations/1/bogus", NULL);
    assert_int_equal(a.status, 404);
    a = call(&api, "GET", "/v1/nothing", NULL);
    assert_int_equal(a.status, 404);
    assert_string_equal(a.type, "not-found");
    /* Authentication comes before the 404 (an unknown key is told so on any path). */
    a = call(&api, "GET", "/v1/nothing", "wrong-key");
    assert_int_equal(a.status, 401);
    /* The least role: anonymous callers get 401 on people, a caseworker passes. */
    a = call(&api, "GET", "/v1/people", NULL);
    assert_int_equal(a.status, 401);
    assert_string_equal(a.type, "unauthorized");
    a = call(&api, "GET", "/v1/people", "unit-key-caseworker");
    assert_int_equal(a.status, 200);
    /* Routes needing the database say so first (none here). */
    a = call(&api, "GET", "/v1/audit", "unit-key-caseworker");
    assert_int_equal(a.status, 503);
    a = call(&api, "POST", "/v1/admin/sync", NULL);
    assert_int_equal(a.status, 503);
    a = call(&api, "GET", "/healthz", "wrong-key");
    assert_int_equal(a.status, 200);
    dir_model_release(m);
}


/* ---- declared query parameters (dir_param) ---- */

static const struct dir_param params[] = {
    {"limit", DIR_PARAM_INT, 0, 1, 500, NULL, "Page size."},
    {"since", DIR_PARAM_INT, 0, 0, LLONG_MAX, NULL, "A sequence number."},
    {"kind", DIR_PARAM_ENUM, 0, 0, 0, (const char *const[]){"zone", "subzone", NULL}, "A kind."},
    {"explain", DIR_PARAM_BOOL, 0, 0, 0, NULL, "Why."},
    {"q", DIR_PARAM_STRING, 0, 0, 6, NULL, "Text."},
    {"at", DIR_PARAM_DATETIME, 0, 0, 0, NULL, "A date."},
    {"metres", DIR_PARAM_NUMBER, 0, 0, 1000, NULL, "A distance."},
    {"area", DIR_PARAM_STRING, DIR_PARAM_REQUIRED, 0, 0, NULL, "an area code"},
    {NULL}};

/* The field a 400 names for the query KEY=VALUE pairs (NULL when they pass). */
static const char *check(const struct dir_param *list, const char *const *kv, char *field,
                         size_t n)
{
    struct dir_http_kv args[8];
    size_t nargs = 0;
    for (; kv[2 * nargs]; nargs++)
        args[nargs] = (struct dir_http_kv){kv[2 * nargs], kv[2 * nargs + 1],
                                            strlen(kv[2 * nargs + 1])};
    struct dir_http_req *req =
        dir_http_req_new("GET", "/v1/x", args, nargs, NULL, 0, "", 0, "127.0.0.1");
    struct dir_http_resp resp;
    dir_http_resp_init(&resp);
    bool ok = dir_param_check(list, req, "/v1/x", &resp);
    const char *out = NULL;
    if (!ok) {
        assert_int_equal(resp.status, 400);
        json_t *j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(j, "type")),
                            "https://directoryd.example/problems/invalid-parameter");
        json_t *e = json_array_get(json_object_get(j, "errors"), 0);
        snprintf(field, n, "%s", json_string_value(json_object_get(e, "field")));
        assert_non_null(json_string_value(json_object_get(e, "message_th")));
        assert_non_null(json_string_value(json_object_get(e, "message_en")));
        json_decref(j);
        out = field;
    }
    dir_buf_free(&resp.body);
    dir_http_req_free(req);
    return out;
}

#define PASSES(...) assert_null(check(params, (const char *const[]){__VA_ARGS__, NULL}, f, sizeof f))
#define REFUSED(name, ...)                                                                         \
    assert_string_equal(check(params, (const char *const[]){__VA_ARGS__, NULL}, f, sizeof f), name)

static void params_checked_before_the_handler(void **state)
{
    (void)state;
    char f[80];
    PASSES("area", "1033");
    PASSES("area", "1033", "limit", "1", "since", "0", "kind", "subzone", "explain", "true");
    PASSES("area", "x", "explain", "0", "q", "ปท", "at", "2025-01-31", "metres", "0.5");
    PASSES("area", "x", "at", "2025-01-31T08:00:00Z", "since", "9223372036854775807");
    /* Unknown names, whatever their value, and the required one. */
    REFUSED("aera", "aera", "1033");
    REFUSED("area", "limit", "5");
    REFUSED("x", "area", "1", "x", "");
    /* Types and bounds. */
    REFUSED("limit", "area", "1", "limit", "0");
    REFUSED("limit", "area", "1", "limit", "501");
    REFUSED("limit", "area", "1", "limit", "+5");
    REFUSED("limit", "area", "1", "limit", "");
    REFUSED("since", "area", "1", "since", "-1");
    REFUSED("kind", "area", "1", "kind", "moon");
    REFUSED("kind", "area", "1", "kind", "");
    REFUSED("explain", "area", "1", "explain", "yes");
    REFUSED("q", "area", "1", "q", "ปทุม"); /* 12 bytes: over 6 */
    REFUSED("q", "area", "1", "q", "\xff");
    REFUSED("at", "area", "1", "at", "31/01/2025");
    REFUSED("at", "area", "1", "at", "2025-01-31T");
    REFUSED("metres", "area", "1", "metres", "0");
    REFUSED("metres", "area", "1", "metres", "1e9");
    REFUSED("metres", "area", "1", "metres", "nan");
    /* Nothing declared, or any query ignored: nothing refused. */
    assert_null(check(NULL, (const char *const[]){"x", "1", NULL}, f, sizeof f));
    assert_null(check(dir_param_any, (const char *const[]){"x", "1", NULL}, f, sizeof f));
    assert_string_equal(check(dir_param_none, (const char *const[]){"x", "1", NULL}, f, sizeof f),
                        "x");
}

/* ---- the description (dir_openapi) ---- */

static void description_completed_from_the_table(void **state)
{
    (void)state;
    static const char base[] =
        "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"t\",\"version\":\"1\"},\"tags\":[{\"name\":\"A\"}],"
        "\"paths\":{\"/v1/things\":{\"get\":{\"responses\":{\"200\":{\"description\":\"ok\"}}}},"
        "\"/v1/things/{id}\":{\"patch\":{\"operationId\":\"mine\",\"responses\":{\"404\":"
        "{\"description\":\"own\"}}}}},\"components\":{\"schemas\":{\"A\":{\"type\":\"string\"}}}}";
    static const char frag[] =
        "{\"paths\":{\"/v1/things/{id}\":{\"get\":{\"responses\":{}}},\"/v1/other\":{\"get\":{}}},"
        "\"components\":{\"schemas\":{\"A\":{\"type\":\"integer\"},\"B\":{}}},"
        "\"tags\":[{\"name\":\"A\"},{\"name\":\"B\"}]}";
    const struct dir_openapi_part parts[] = {{"base.json", base, sizeof base - 1},
                                             {"frag.json", frag, sizeof frag - 1}};
    char *out = NULL, err[200];
    assert_int_equal(dir_openapi_build_parts(parts, 2, table, sizeof table / sizeof table[0], false,
                                             &out, err, sizeof err),
                     DIR_OK);
    json_t *d = json_loads(out, 0, NULL);
    free(out);
    json_t *paths = json_object_get(d, "paths");
    /* The fragment's operation joins the base's path; a base component wins; tags merge. */
    assert_non_null(json_object_get(json_object_get(paths, "/v1/things/{id}"), "get"));
    assert_non_null(json_object_get(paths, "/v1/other"));
    json_t *schemas = json_object_get(json_object_get(d, "components"), "schemas");
    assert_string_equal(json_string_value(json_object_get(json_object_get(schemas, "A"), "type")),
                        "string");
    assert_non_null(json_object_get(schemas, "B"));
    assert_int_equal(json_array_size(json_object_get(d, "tags")), 2);
    /* From the table: roles, security, path parameters, the router's problems, ids. */
    json_t *get = json_object_get(json_object_get(paths, "/v1/things"), "get");
    assert_string_equal(json_string_value(json_object_get(get, "x-directoryd-role")), "anonymous");
    assert_int_equal(json_array_size(json_object_get(get, "security")), 3);
    assert_non_null(json_object_get(json_object_get(get, "responses"), "400"));
    assert_null(json_object_get(json_object_get(get, "responses"), "403"));
    assert_string_equal(json_string_value(json_object_get(get, "operationId")), "get_v1_things");
    json_t *patch = json_object_get(json_object_get(paths, "/v1/things/{id}"), "patch");
    assert_string_equal(json_string_value(json_object_get(patch, "operationId")), "mine");
    assert_string_equal(json_string_value(json_object_get(patch, "x-directoryd-role")),
                        "coordinator");
    json_t *resp = json_object_get(patch, "responses");
    assert_string_equal(json_string_value(json_object_get(json_object_get(resp, "404"),
                                                          "description")),
                        "own");
    assert_non_null(json_object_get(resp, "403"));
    json_t *p0 = json_array_get(json_object_get(patch, "parameters"), 0);
    assert_string_equal(json_string_value(json_object_get(p0, "name")), "id");
    assert_string_equal(json_string_value(json_object_get(p0, "in")), "path");
    json_decref(d);
    /* A fragment that is not JSON is named. */
    const struct dir_openapi_part bad[] = {{"base.json", base, sizeof base - 1},
                                           {"docs/api-fragments/x.json", "{", 1}};
    assert_int_equal(dir_openapi_build_parts(bad, 2, table, 1, false, &out, err, sizeof err),
                     DIR_ERR_INVALID);
    assert_non_null(strstr(err, "docs/api-fragments/x.json"));
}

/* The embedded description of the API's own table: every route's declared query parameters
 * are in it, with their bounds. */
static void api_description_has_the_declared_parameters(void **state)
{
    (void)state;
    size_t n;
    const struct dir_route *routes = dir_api_routes(&n);
    char *out = NULL, err[200];
    assert_int_equal(dir_openapi_build(routes, n, false, &out, err, sizeof err), DIR_OK);
    json_t *d = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(d);
    json_t *get = json_object_get(json_object_get(json_object_get(d, "paths"), "/v1/areas"), "get");
    json_t *ps = json_object_get(get, "parameters"), *limit = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(ps, i, p) if (strcmp(json_string_value(json_object_get(p, "name")),
                                            "limit") == 0) limit = p;
    assert_non_null(limit);
    json_t *schema = json_object_get(limit, "schema");
    assert_int_equal(json_integer_value(json_object_get(schema, "minimum")), 1);
    assert_int_equal(json_integer_value(json_object_get(schema, "maximum")), 500);
    json_decref(d);
}

int main(void)
{
    dir_log_set_level((enum dir_log_level)(DIR_LOG_ERROR + 1));
    if (dir_auth_init() != DIR_OK) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(methods_and_allow),
        cmocka_unit_test(matching),
        cmocka_unit_test(api_table_is_reachable),
        cmocka_unit_test(api_answers_from_the_table),
        cmocka_unit_test(params_checked_before_the_handler),
        cmocka_unit_test(description_completed_from_the_table),
        cmocka_unit_test(api_description_has_the_declared_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
