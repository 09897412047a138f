/* dir_route.h - route tables: which handler answers a method on a path, and who may call it.
 *
 * A face of the HTTP server keeps one table of struct dir_route (dir_api.c: the JSON API,
 * its writes, sessions, admin routes and the HSDS API). Each route is one line: the methods
 * it answers, a path pattern whose "{name}" segments are parameters
 * ("/v1/organizations/{id}/close"), the least role that may call it, flags, the handler and
 * the query parameters it takes (dir_param.h: checked before the handler, and the source of
 * the parameters in the API's OpenAPI description, dir_openapi.h). dir_route_find gives the route
 * of a request, or the methods the path allows (a 405's Allow), or nothing (a 404), looking only at
 * the routes whose first two segments are the path's (an index made on first use). The table can be
 * listed (dir_api_routes), e.g. to compare it with the API's description.
 */
#ifndef DIR_ROUTE_H
#define DIR_ROUTE_H

#include "dir_auth.h"
#include "dir_http.h"
#include "dir_param.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define DIR_ROUTE_MAX_SEGS 8   /* path segments; a longer path matches nothing */
#define DIR_ROUTE_MAX_ARGS 4   /* "{...}" parameters of one pattern */
#define DIR_ROUTE_MAX_PATH 512 /* bytes of a path; a longer one matches nothing */

/* Methods, as bits. */
enum {
    DIR_M_GET = 1 << 0,
    DIR_M_HEAD = 1 << 1,
    DIR_M_POST = 1 << 2,
    DIR_M_PUT = 1 << 3,
    DIR_M_PATCH = 1 << 4,
    DIR_M_DELETE = 1 << 5,
    DIR_M_READ = DIR_M_GET | DIR_M_HEAD
};

enum {
    DIR_ROUTE_EARLY = 1 << 0,     /* answered before the snapshot check and authentication */
    DIR_ROUTE_NO_AUTH = 1 << 1,   /* not authenticated: the caller is anonymous (the login) */
    DIR_ROUTE_DB = 1 << 2,        /* needs the database (503 when there is none) */
    DIR_ROUTE_CACHE = 1 << 3,     /* answers may be kept and revalidated: Cache-Control no-cache
                                   * (else no-store) */
    DIR_ROUTE_PREFIX = 1 << 4,    /* the pattern also matches every path below it */
    DIR_ROUTE_VCARD = 1 << 6, /* answers text/vcard when Accept prefers it (dir_vcard_http), or
                              * always when the route's "what" is "vcard" (the .vcf links) */
    DIR_ROUTE_CORS = 1 << 7 /* open to every web origin: every answer on the path (errors too)
                             * carries Access-Control-Allow-Origin: *, and an OPTIONS preflight
                             * is answered 204 (the HSDS API) */
};

struct dir_route_ctx;
/* A route's handler: fills X->resp. */
typedef void (*dir_route_fn)(struct dir_route_ctx *x);

struct dir_route {
    unsigned methods;    /* DIR_M_* it answers */
    const char *pattern; /* "/"-separated; a "{name}" segment matches any one segment */
    enum dir_role role;  /* the least role that may call it (checked before the handler) */
    unsigned flags;      /* DIR_ROUTE_* */
    dir_route_fn handler;
    const char *what; /* for the handler: an entity, an action... (static), or NULL */
    int kind;         /* for the handler: a number (e.g. a taxonomy) */
    /* The query parameters it takes, ending with {NULL} (dir_param_none: none); unknown ones,
     * wrong types and bounds are answered 400 before the handler. NULL: not declared, nothing
     * checked (the API's unit test requires a declaration on every route). */
    const struct dir_param *params;
};

struct dir_caller;
struct dir_model;
struct dir_write_env;

/* What a handler is called with (built by the face that owns the table). */
struct dir_route_ctx {
    const struct dir_route *route;
    const char *arg[DIR_ROUTE_MAX_ARGS]; /* the path's "{...}" parameters, in order */
    int narg;
    char **seg; /* every segment of the path ("v1", "organizations", "12"...) */
    int nseg;
    const char *method;
    const struct dir_http_req *req;
    struct dir_http_resp *resp;
    const struct dir_model *m;         /* the snapshot served (NULL for DIR_ROUTE_EARLY) */
    const struct dir_caller *who;      /* the caller (NULL for DIR_ROUTE_EARLY) */
    const struct dir_write_env *write; /* the database side */
    void *app;                         /* the face's own state (dir_api: struct dir_api) */
    void *call;                        /* the face's per-request state (dir_api: its call) */
};

/* The outcome of dir_route_find. */
struct dir_route_match {
    const struct dir_route *route; /* the route, or NULL */
    unsigned allow;                /* no route: the methods of the routes whose pattern
                                    * matches the path (0: none, a 404; else a 405) */
    unsigned flags;                /* the flags of every route whose pattern matches */
    const char *arg[DIR_ROUTE_MAX_ARGS];
    int narg;
    char *seg[DIR_ROUTE_MAX_SEGS];
    int nseg; /* -1: the path cannot match any route (not "/...", empty segment, too long) */
    char buf[DIR_ROUTE_MAX_PATH];
};

struct dir_route_index;

/* A table of routes and, made on first use, its index (routes by their first segments). */
struct dir_route_table {
    const struct dir_route *routes; /* static */
    size_t n;
    _Atomic(struct dir_route_index *) index; /* NULL until the first dir_route_find; kept for
                                              * the life of the process */
};

/* The DIR_M_ bit of METHOD, 0 for any other method. */
unsigned dir_route_method(const char *method);
/* METHODS as an Allow value, "GET, HEAD, POST" (static; "" for none). */
const char *dir_route_allow(unsigned methods);
/* Finds in T the first route (in table order) whose pattern matches PATH and whose methods
 * include METHOD. M's arguments and segments point into M itself. Thread-safe. */
void dir_route_find(struct dir_route_table *t, const char *method, const char *path,
                    struct dir_route_match *m);

#endif
