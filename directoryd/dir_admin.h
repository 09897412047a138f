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

/* Notes in memory that API client NAME authenticated now (no I/O; thread-safe). */
void dir_admin_client_used(const char *name);

/* Writes the noted uses to DB: ALL, every use not yet written; otherwise (the refresher
 * thread, often) at most every few seconds, each client at most once a minute. A failure is
 * logged. Thread-safe. */
void dir_admin_flush_uses(struct dir_db *db, bool all);

#endif
