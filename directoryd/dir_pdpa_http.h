/* dir_pdpa_http.h - the access log's admin routes (dir_pdpa_http.c), for dir_api.c's table:
 *   GET /v1/admin/access-log?person=&actor=&since=&until=&limit=&cursor=   (admin)
 *   GET /v1/admin/people/{id}/data-report?since=&until=                   (admin)
 */
#ifndef DIR_PDPA_HTTP_H
#define DIR_PDPA_HTTP_H

#include "dir_route.h"

/* The access log's rows, newest first: {"items":[{id, at, last_at, reads, actor_kind, actor,
 * face, operation, people}], "next": cursor or null}. */
void dir_pdpa_route_access_log(struct dir_route_ctx *x);
/* The data-subject report of person X->arg[0]: the person's record, origin, staff role,
 * changes, reports and who read it in the period (default: the retention period). */
void dir_pdpa_route_data_report(struct dir_route_ctx *x);

#endif
