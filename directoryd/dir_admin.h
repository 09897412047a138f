/* dir_admin.h - the admin's HTTP routes for local accounts (/v1/admin/accounts...) and the
 * note of an API client's last use. */
#ifndef DIR_ADMIN_H
#define DIR_ADMIN_H

#include "dir_db.h"
#include "dir_route.h"

/* GET/POST /v1/admin/accounts, POST /v1/admin/accounts/{username}/password|disable|enable
 * (the route's WHAT names the action; dir_api's table has checked the admin role and, for a
 * session, the CSRF token). Answers in X->resp. */
void dir_admin_route_accounts(struct dir_route_ctx *x);

/* GET /v1/admin/staff-roles: the roles admins set over the LDAP group mapping. */
void dir_admin_route_staff_roles(struct dir_route_ctx *x);

/* Notes that API client NAME authenticated now: written to DB at most once a minute per
 * client by this daemon (a failure is logged, never the caller's). Thread-safe. */
void dir_admin_client_used(struct dir_db *db, const char *name);

#endif
