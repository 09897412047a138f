/* dir_openapi.c - the API description: the embedded files merged, then completed from the
 * route table (dir_openapi.h). */
#include "dir_openapi.h"

#include "dir_api.h"
#include "dir_log.h"
#include "dir_problem.h"
#include "dir_webui.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[] = {"get", "head", "post", "put", "patch", "delete"};

/* ---- merging the fragments ---- */

/* Adds FROM's members to TO: an object member present in both is merged one level down when
 * DEPTH > 0, else TO's is kept. */
static void merge(json_t *to, json_t *from, int depth)
{
    const char *key;
    json_t *v;
    json_object_foreach(from, key, v)
    {
        json_t *have = json_object_get(to, key);
        if (!have)
            json_object_set(to, key, v);
        else if (depth > 0 && json_is_object(have) && json_is_object(v))
            merge(have, v, depth - 1);
    }
}

static json_t *load_parts(const struct dir_openapi_part *parts, size_t nparts, char *err,
                          size_t errlen)
{
    json_t *doc = NULL;
    for (size_t i = 0; i < nparts; i++) {
        const struct dir_openapi_part *p = &parts[i];
        json_error_t je;
        json_t *j = json_loadb(p->data, p->len, 0, &je);
        if (!json_is_object(j)) {
            snprintf(err, errlen, "%s: not a JSON object (line %d: %s)", p->name, je.line, je.text);
            json_decref(j);
            json_decref(doc);
            return NULL;
        }
        if (!doc) {
            doc = j;
            continue;
        }
        /* A fragment: its paths (operations added to a path the base has), its components
         * (each section's entries added), its tags (those the base lacks). */
        json_t *paths = json_object_get(doc, "paths"), *comps = json_object_get(doc, "components");
        if (!paths) json_object_set_new(doc, "paths", paths = json_object());
        if (!comps) json_object_set_new(doc, "components", comps = json_object());
        if (json_is_object(json_object_get(j, "paths")))
            merge(paths, json_object_get(j, "paths"), 1);
        if (json_is_object(json_object_get(j, "components")))
            merge(comps, json_object_get(j, "components"), 1);
        json_t *tags = json_object_get(doc, "tags"), *t;
        size_t k;
        if (json_is_array(tags)) json_array_foreach(json_object_get(j, "tags"), k, t)
            {
                const char *name = json_string_value(json_object_get(t, "name"));
                bool seen = false;
                size_t m;
                json_t *have;
                json_array_foreach(tags, m, have) seen =
                    seen ||
                    (name && json_equal(json_object_get(have, "name"), json_object_get(t, "name")));
                if (name && !seen) json_array_append(tags, t);
            }
        json_decref(j);
    }
    return doc;
}

/* ---- completing the operations from the table ---- */

/* The schema of a declared parameter. */
static json_t *param_schema(const struct dir_param *p)
{
    json_t *s = json_pack("{s:s}", "type", dir_param_json_type(p->type));
    switch (p->type) {
    case DIR_PARAM_INT:
        json_object_set_new(s, "minimum", json_integer(p->min));
        if (p->max != LLONG_MAX) json_object_set_new(s, "maximum", json_integer(p->max));
        break;
    case DIR_PARAM_NUMBER:
        json_object_set_new(s, "exclusiveMinimum", json_integer(p->min));
        json_object_set_new(s, "maximum", json_integer(p->max));
        break;
    case DIR_PARAM_ENUM: {
        json_t *e = json_array();
        for (const char *const *v = p->values; *v; v++)
            json_array_append_new(e, json_string(*v));
        json_object_set_new(s, "enum", e);
        break;
    }
    case DIR_PARAM_DATETIME:
        json_object_set_new(s, "pattern", json_string("^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].+)?$"));
        break;
    default:
        break;
    }
    return s;
}

static json_t *param_object(const struct dir_param *p)
{
    char doc[400];
    const char *d = p->doc ? p->doc : "";
    if (p->type == DIR_PARAM_STRING && p->max > 0)
        snprintf(doc, sizeof doc, "%s (At most %lld bytes of UTF-8.)", d, p->max);
    else if (p->type == DIR_PARAM_BOOL)
        snprintf(doc, sizeof doc, "%s (true, false, 1 or 0.)", d);
    else
        snprintf(doc, sizeof doc, "%s", d);
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "name", p->name, "in", "query", "description",
                          doc, "schema", param_schema(p));
    if (p->flags & DIR_PARAM_REQUIRED) json_object_set_new(o, "required", json_true());
    return o;
}

/* Whether PARAMS (an array of parameter objects, maybe NULL) has NAME in IN. */
static bool has_param(json_t *params, const char *name, const char *in)
{
    size_t i;
    json_t *p;
    json_array_foreach(params, i, p)
    {
        const char *n = json_string_value(json_object_get(p, "name"));
        const char *w = json_string_value(json_object_get(p, "in"));
        if (n && w && strcmp(n, name) == 0 && strcmp(w, in) == 0) return true;
    }
    return false;
}

static void add_response(json_t *responses, const char *status, const char *ref)
{
    if (json_object_get(responses, status)) return;
    char r[120];
    snprintf(r, sizeof r, "#/components/responses/%s", ref);
    json_object_set_new(responses, status, json_pack("{s:s}", "$ref", r));
}

/* Completes OP, the operation of METHOD (lower case) of route R at path item ITEM. */
static void complete(json_t *op, json_t *item, const struct dir_route *r, const char *method)
{
    /* Parameters: the path's "{...}" segments unless described, the declared query ones. */
    json_t *params = json_object_get(op, "parameters");
    if (!json_is_array(params)) json_object_set_new(op, "parameters", params = json_array());
    json_t *item_params = json_object_get(item, "parameters");
    for (const char *s = strchr(r->pattern, '{'); s; s = strchr(s + 1, '{')) {
        char name[64];
        size_t l = strcspn(s + 1, "}");
        snprintf(name, sizeof name, "%.*s", (int)(l < sizeof name ? l : sizeof name - 1), s + 1);
        if (!has_param(params, name, "path") && !has_param(item_params, name, "path"))
            json_array_append_new(params,
                                  json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", name, "in", "path",
                                            "required", 1, "schema", "type", "string"));
    }
    if (r->params) {
        for (size_t i = json_array_size(params); i-- > 0;) {
            const char *in = json_string_value(json_object_get(json_array_get(params, i), "in"));
            if (in && strcmp(in, "query") == 0) json_array_remove(params, i);
        }
        for (const struct dir_param *p = r->params; p->name; p++)
            json_array_append_new(params, param_object(p));
    }
    if (!json_array_size(params)) json_object_del(op, "parameters");

    /* Who may call it. */
    json_object_set_new(op, "x-directoryd-role", json_string(dir_auth_role_name(r->role)));
    if (!json_object_get(op, "security")) {
        json_t *sec = json_array();
        if (r->role == DIR_ROLE_ANON) json_array_append_new(sec, json_object());
        if (!(r->flags & (DIR_ROUTE_EARLY | DIR_ROUTE_NO_AUTH))) {
            json_array_append_new(sec, json_pack("{s:[]}", "apiKey"));
            json_array_append_new(sec, json_pack("{s:[]}", "session"));
        }
        json_object_set_new(op, "security", sec);
    }
    if (!json_object_get(op, "operationId")) {
        char id[200];
        size_t used = (size_t)snprintf(id, sizeof id, "%s", method);
        for (const char *s = r->pattern; *s && used + 1 < sizeof id; s++)
            if (*s == '/' || *s == '-' || *s == '.')
                id[used++] = '_';
            else if (*s != '{' && *s != '}')
                id[used++] = *s;
        id[used] = '\0';
        json_object_set_new(op, "operationId", json_string(id));
    }

    /* The problems the router gives before the handler. */
    json_t *responses = json_object_get(op, "responses");
    if (!json_is_object(responses)) json_object_set_new(op, "responses", responses = json_object());
    bool safe = strcmp(method, "get") == 0 || strcmp(method, "head") == 0;
    if (r->params != dir_param_any) /* an unknown query parameter, at least */
        add_response(responses, "400", "BadRequest");
    if (!(r->flags & DIR_ROUTE_EARLY)) {
        if (!(r->flags & DIR_ROUTE_NO_AUTH)) add_response(responses, "401", "Unauthorized");
        if (r->role > DIR_ROLE_ANON || !safe) add_response(responses, "403", "Forbidden");
        add_response(responses, "503", "Unavailable");
    }
    if (strchr(r->pattern, '{')) add_response(responses, "404", "NotFound");
}

/* The description's path of pattern P ("/hsds" is served as the HSDS base URL "/hsds/"). */
static const char *doc_path(const char *p)
{
    return strcmp(p, "/hsds") == 0 ? "/hsds/" : p;
}

enum dir_rc dir_openapi_build(const struct dir_route *routes, size_t n, bool pretty, char **out,
                              char *err, size_t errlen)
{
    return dir_openapi_build_parts(dir_openapi_parts, dir_openapi_nparts, routes, n, pretty, out,
                                   err, errlen);
}

enum dir_rc dir_openapi_build_parts(const struct dir_openapi_part *parts, size_t nparts,
                                    const struct dir_route *routes, size_t n, bool pretty,
                                    char **out, char *err, size_t errlen)
{
    *out = NULL;
    json_t *doc = load_parts(parts, nparts, err, errlen);
    if (!doc) {
        if (!nparts) snprintf(err, errlen, "no description");
        return DIR_ERR_INVALID;
    }
    json_t *paths = json_object_get(doc, "paths");
    for (size_t i = 0; i < n; i++) {
        const struct dir_route *r = &routes[i];
        json_t *item = json_object_get(paths, doc_path(r->pattern));
        if (!json_is_object(item)) continue;
        for (size_t m = 0; m < sizeof method_names / sizeof method_names[0]; m++) {
            unsigned bit = 1u << m;
            if (!(r->methods & bit)) continue;
            /* HEAD is GET without the body: described by the GET. */
            if (bit == DIR_M_HEAD && (r->methods & DIR_M_GET)) continue;
            json_t *op = json_object_get(item, method_names[m]);
            if (json_is_object(op)) complete(op, item, r, method_names[m]);
        }
    }
    *out = json_dumps(doc, pretty ? JSON_INDENT(2) : JSON_COMPACT);
    json_decref(doc);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return DIR_ERR_LIMIT;
    }
    return DIR_OK;
}

char *dir_openapi_routes_json(const struct dir_route *routes, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct dir_route *r = &routes[i];
        json_t *methods = json_array();
        for (size_t m = 0; m < sizeof method_names / sizeof method_names[0]; m++)
            if (r->methods & (1u << m)) {
                char up[8];
                size_t k = 0;
                for (; method_names[m][k]; k++)
                    up[k] = (char)(method_names[m][k] - 'a' + 'A');
                up[k] = '\0';
                json_array_append_new(methods, json_string(up));
            }
        json_t *params = json_null();
        if (r->params) {
            params = json_array();
            for (const struct dir_param *p = r->params; p->name; p++)
                json_array_append_new(params, json_pack("{s:s, s:s, s:b}", "name", p->name, "type",
                                                        dir_param_json_type(p->type), "required",
                                                        (p->flags & DIR_PARAM_REQUIRED) != 0));
        }
        json_array_append_new(
            a, json_pack("{s:o, s:s, s:s, s:s, s:b, s:b, s:o, s:b}", "methods", methods, "pattern",
                         r->pattern, "path", doc_path(r->pattern), "role",
                         dir_auth_role_name(r->role), "database", (r->flags & DIR_ROUTE_DB) != 0,
                         "cors", (r->flags & DIR_ROUTE_CORS) != 0, "params", params, "any_query",
                         r->params == dir_param_any));
    }
    char *s = json_dumps(a, JSON_INDENT(1));
    json_decref(a);
    return s;
}

/* ---- serving it ---- */

static char *served; /* the description, built once, kept for the life of the process */
static size_t served_len;
static char served_etag[40];
static pthread_once_t served_once = PTHREAD_ONCE_INIT;

static void build_served(void)
{
    size_t n;
    const struct dir_route *routes = dir_api_routes(&n);
    char err[300];
    if (dir_openapi_build(routes, n, false, &served, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "openapi", "the API description cannot be built: %s", err);
        return;
    }
    served_len = strlen(served);
    unsigned char h[12];
    crypto_generichash(h, sizeof h, (const unsigned char *)served, served_len, NULL, 0);
    char hex[sizeof h * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(served_etag, sizeof served_etag, "\"%s\"", hex);
}

void dir_openapi_route(struct dir_route_ctx *x)
{
    pthread_once(&served_once, build_served);
    if (!served) {
        struct dir_problem p;
        dir_problem_init(&p, 500, "internal", "Internal error",
                         "The API description could not be built.");
        dir_problem_respond(&p, dir_http_path(x->req), x->resp);
        return;
    }
    snprintf(x->resp->etag, sizeof x->resp->etag, "%s", served_etag);
    x->resp->content_type = "application/json; charset=utf-8";
    const char *inm = dir_http_header(x->req, "If-None-Match");
    x->resp->status = inm && dir_webui_etag_match(inm, served_etag) ? 304 : 200;
    x->resp->static_body = served;
    x->resp->static_len = served_len;
}
