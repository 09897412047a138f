/* dir_openapi.h - the API's OpenAPI 3.1 description, served at GET /v1/openapi.json.
 *
 * The hand-written part is docs/openapi.json (what each operation does, its request body,
 * its answers and their schemas, the problem types), plus each .json file of docs/api-fragments
 * (paths and components described by other pieces of work, merged in: a path of a fragment
 * adds to the base, a component is added unless the base has it). CMake embeds them at build
 * time, so the daemon needs no file at run time. At the first request the description is
 * completed from the route table (dir_api_routes): each operation's path and query parameters
 * (from the routes' declarations, dir_param.h), its security, its least role
 * (x-directoryd-role), an operationId when it has none, and the problem answers the router
 * itself gives (400, 401, 403, 404, 503) when the operation does not describe them. An
 * operation the table has and the files do not is left out (the tests compare both lists).
 */
#ifndef DIR_OPENAPI_H
#define DIR_OPENAPI_H

#include "dir_rc.h"
#include "dir_route.h"

#include <stddef.h>

/* One embedded file (the generated dir_openapi_data.c): docs/openapi.json first, then the
 * fragments in name order. */
struct dir_openapi_part {
    const char *name; /* relative to the source tree, e.g. "docs/openapi.json" */
    const char *data; /* its bytes, NUL-terminated */
    size_t len;
};
extern const struct dir_openapi_part dir_openapi_parts[];
extern const size_t dir_openapi_nparts;

/* The complete description of the N ROUTES as JSON (indented when PRETTY) into *OUT (caller
 * frees). DIR_ERR_INVALID with ERR naming the file when an embedded file is not JSON. */
enum dir_rc dir_openapi_build(const struct dir_route *routes, size_t n, bool pretty, char **out,
                              char *err, size_t errlen);
/* The same from the NPARTS files PARTS (the first the base, the others fragments); for tests. */
enum dir_rc dir_openapi_build_parts(const struct dir_openapi_part *parts, size_t nparts,
                                    const struct dir_route *routes, size_t n, bool pretty,
                                    char **out, char *err, size_t errlen);

/* The N ROUTES as a JSON array (caller frees): per route its methods, pattern, least role,
 * flags of interest and declared query parameters (null when not declared; any_query when
 * any query is ignored). For
 * `directoryd routes` and the tests that compare the table with the description. */
char *dir_openapi_routes_json(const struct dir_route *routes, size_t n);

/* The route GET /v1/openapi.json (a row of dir_api.c's table): the description of the API's
 * table, built once, with an ETag (304 on If-None-Match). */
void dir_openapi_route(struct dir_route_ctx *x);

#endif
