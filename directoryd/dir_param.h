/* dir_param.h - declared query parameters: what a route accepts, checked before its handler.
 *
 * A route (dir_route.h) lists the query parameters it takes as an array of struct dir_param
 * ending with a {NULL} entry. dir_param_check answers a request's unknown parameter, a value
 * of the wrong type or out of bounds and a missing required one with the 400 problem of
 * dir_problem_bad_param naming the parameter, so a handler reads only values it may trust
 * to be well-formed; it still checks what depends on the data (an area code that exists).
 * The same declarations describe the parameters in the API's OpenAPI description
 * (dir_openapi), so the two cannot drift apart.
 */
#ifndef DIR_PARAM_H
#define DIR_PARAM_H

#include "dir_http.h"

#include <stdbool.h>

enum dir_param_type {
    DIR_PARAM_STRING,   /* any text; MAX > 0: valid UTF-8 of at most MAX bytes */
    DIR_PARAM_INT,      /* decimal digits only (no sign, no spaces), from MIN to MAX */
    DIR_PARAM_NUMBER,   /* a finite decimal number above MIN (exclusive), at most MAX */
    DIR_PARAM_BOOL,     /* true, false, 1 or 0 */
    DIR_PARAM_ENUM,     /* one of VALUES */
    DIR_PARAM_DATETIME, /* YYYY-MM-DD, optionally followed by 'T' or ' ' and a time */
};

enum {
    DIR_PARAM_REQUIRED = 1 << 0, /* absent: a 400 */
};

struct dir_param {
    const char *name; /* NULL ends a list */
    enum dir_param_type type;
    unsigned flags; /* DIR_PARAM_* */
    long long min, max;
    const char *const *values; /* ENUM: the allowed values, NULL-terminated */
    const char *doc;           /* one English sentence for the API description */
};

/* The end of a list (every field given: clang's -Wmissing-field-initializers wants them). */
#define DIR_PARAM_END {NULL, DIR_PARAM_STRING, 0, 0, 0, NULL, NULL}

/* A list of no parameters, for routes that take none (unknown ones are refused). */
extern const struct dir_param dir_param_none[];
/* No parameters, and any query is ignored (/healthz: probes add cache-busting ones). */
extern const struct dir_param dir_param_any[];

/* The JSON type name of T ("string", "integer", "number", "boolean"). */
const char *dir_param_json_type(enum dir_param_type t);

/* Checks REQ's query parameters against PARAMS (a list ending with {NULL}); true when they
 * pass, else RESP holds the 400 naming the first parameter at fault (INSTANCE is the path).
 * PARAMS NULL (a route that has not declared its parameters) or dir_param_any: nothing is
 * checked. */
bool dir_param_check(const struct dir_param *params, const struct dir_http_req *req,
                     const char *instance, struct dir_http_resp *resp);

#endif
