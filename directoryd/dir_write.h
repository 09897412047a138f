/* dir_write.h - the JSON API's writes: coordinators edit organisations and people, admins
 * manage API clients, coordinators read the audit trail.
 *
 * Every write is authenticated and authorised by role (coordinator for the directory, admin
 * for API clients), validated field by field (one 400 lists every invalid field), guarded by
 * optimistic concurrency (If-Match with the entity's version; 428 without it, 412 with the
 * current state when stale), and applied in one transaction with its audit row. A create
 * with an Idempotency-Key that was seen before returns the first result. The answer shows
 * the write: it waits (briefly) until the read model includes it.
 */
#ifndef DIR_WRITE_H
#define DIR_WRITE_H

#include "dir_auth.h"
#include "dir_db.h"
#include "dir_http.h"
#include "dir_model.h"
#include "dir_problem.h"
#include "dir_refresh.h"
#include "dir_route.h"

#include <jansson.h>

struct dir_write_env {
    struct dir_db *db;           /* borrowed */
    struct dir_refresh *refresh; /* borrowed */
    /* --- replica --- */
    int wait_ms; /* how long an answer waits for its write to reach the model (0: 2000) */
};

/* Read-your-writes, for every route that writes: waits (ENV->wait_ms, at least MIN_MS) until
 * this daemon's read model includes change SEQ, which the write's transaction returned (the
 * model may come from a standby that replays it later). When the wait times out the answer
 * still goes out, with the header "X-Directoryd-Stale: write not yet visible here" added to
 * RESP (may be NULL); false then. SEQ 0 (nothing written) returns true at once. */
#define DIR_WRITE_STALE_HEADER "X-Directoryd-Stale"
bool dir_write_settle(const struct dir_write_env *env, long long seq, int min_ms,
                      struct dir_http_resp *resp);

struct dir_caller {
    enum dir_role role;
    const char *kind; /* api_client, person, local; NULL when anonymous */
    const char *name;
    char address[64];
};

/* The validation half of a write, with no I/O (dir_write_check.c): what the write routes
 * run on a body before PostgreSQL, and what tests/fuzz/fuzz_write_json.c runs on any bytes.
 * The caller zeroes it and sets M (and ACTOR, W.id or W.code as below); dir_write_check
 * fills W (its strings and lists borrow the body and this struct) and, for every invalid
 * field, PROB (a 400 naming the fields; PROB.nerrors > 0). */
struct dir_write_check {
    const struct dir_model *m;      /* borrowed: codes and ids are checked against it */
    const char *actor;              /* borrowed: the verify action's verified_by */
    struct dir_problem prob;        /* field errors, when nerrors > 0 */
    struct dir_db_write w;          /* the write being built; W.id / W.code: the updated one */
    char vals[DIR_DB_MAX_SETS][64]; /* text forms of numbers */
    char code[40];                  /* a new community's code */
};

/* Parses the N bytes at S as the JSON object body of a write (duplicate keys refused). The
 * caller owns the result (json_decref). NULL when S is not JSON (E says where) or is JSON but
 * not an object (E->position is then -1). */
json_t *dir_write_body_parse(const char *s, size_t n, json_error_t *e);
/* Fills P with the 400 problem for a body dir_write_body_parse refused with E (naming the
 * field "body"); the caller responds with it. */
void dir_write_body_problem(const json_error_t *e, struct dir_problem *p);

/* Checks BODY (a JSON object; contact values are replaced by their normal forms) of a write
 * of ENTITY: organization, person, area (communities), area_group, programme, api_client or
 * staff_role. ACTION: create, update, or for organisations and people close, reopen, verify,
 * deactivate, reactivate. LDAP: the person is synced from the city LDAP (the fields it owns
 * are read-only). */
void dir_write_check(struct dir_write_check *c, json_t *body, const char *entity,
                     const char *action, bool ldap);
/* Adds a field error to C->prob (starting the 400 problem on the first); strings copied. */
void dir_write_field_error(struct dir_write_check *c, const char *field, const char *th,
                           const char *en);

/* The write and admin routes' handlers, for dir_api's route table (which has matched the
 * path and method, and checked the caller's role): ROUTE->what names the action (close,
 * reopen, verify, deactivate, reactivate; revoke for API clients) or, for
 * dir_write_route_other, the entity (area, area_group, programme); ARG[0] is the id, code or
 * name in the path, when there is one. */
void dir_write_route_org(struct dir_route_ctx *x);        /* organisations */
void dir_write_route_person(struct dir_route_ctx *x);     /* people */
void dir_write_route_other(struct dir_route_ctx *x);      /* communities, groups, programmes */
void dir_write_route_audit(struct dir_route_ctx *x);      /* GET /v1/audit */
void dir_write_route_clients(struct dir_route_ctx *x);    /* /v1/admin/api-clients */
void dir_write_route_staff_role(struct dir_route_ctx *x); /* PUT /v1/admin/staff-roles/{u} */

#endif
