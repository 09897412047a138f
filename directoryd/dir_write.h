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
#include "dir_refresh.h"

struct dir_write_env {
    struct dir_db *db;           /* borrowed */
    struct dir_refresh *refresh; /* borrowed */
};

struct dir_caller {
    enum dir_role role;
    const char *kind; /* api_client, person, local; NULL when anonymous */
    const char *name;
    char address[64];
};

/* Handles the write and admin routes: SEG holds the path segments after /v1 (NSEG of them).
 * Returns false, touching nothing, when the route is not one of them. */
bool dir_write_handle(const struct dir_write_env *env, const struct dir_model *m,
                      const struct dir_caller *who, const char *method, char **seg, int nseg,
                      const struct dir_http_req *req, struct dir_http_resp *resp);

#endif
