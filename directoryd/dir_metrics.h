/* dir_metrics.h - the process's metrics: one registry, updated on the hot path with relaxed
 * atomics (no lock per request), read by GET /metrics in the Prometheus text format 0.0.4.
 *
 * Every metric is one line of the table in dir_metrics.c (name, type, help, labels). The
 * owners of what is measured call the functions below: dir_http (requests, latency, open
 * connections), the LDAP face (operations, latency, connections), dir_refresh (snapshot
 * sequence and age, change-apply lag), dir_sync (runs), dir_db (pool use and errors). Label
 * values are static strings chosen by the code (route patterns, LDAP operation and result
 * names, sync statuses), never what a client sent: the set of series is bounded.
 *
 * The registry is process-wide; it starts empty and needs no set-up. Functions are
 * thread-safe.
 */
#ifndef DIR_METRICS_H
#define DIR_METRICS_H

#include "dir_buf.h"
#include "dir_rc.h"

#include <stdbool.h>

/* A route label for requests no route answered (404, 405, the early refusals). */
#define DIR_METRICS_ROUTE_NONE "(none)"
/* A route label for the browser UI's static files. */
#define DIR_METRICS_ROUTE_WEBUI "(webui)"

enum dir_metrics_face { DIR_METRICS_HTTP, DIR_METRICS_LDAP };

/* One HTTP answer: ROUTE is the route table's pattern (a static string: the same pointer
 * each time for one route) or one of the DIR_METRICS_ROUTE_ labels; METHOD as sent (any
 * other than the usual seven counts as "other"); US its duration in microseconds. */
void dir_metrics_http_request(const char *route, const char *method, int status, long long us);
/* One LDAP operation answered: TAG is the response's protocol tag (LDAP_RES_BIND...),
 * RESULT its resultCode, US its duration. */
void dir_metrics_ldap_op(unsigned long tag, int result, long long us);
/* A connection of FACE opened (+1) or closed (-1). */
void dir_metrics_conn(enum dir_metrics_face face, int delta);

/* dir_refresh: a snapshot of change SEQ is served from now on. */
void dir_metrics_snapshot(long long seq);
/* dir_refresh: the served snapshot was just confirmed current with the database. */
void dir_metrics_refresh_ok(void);
/* Seconds since the snapshot was last confirmed current (the change-apply lag), or -1
 * before the first snapshot. */
double dir_metrics_apply_lag(void);

/* dir_sync: a run ended with STATUS (ok, attention, failed, refused, dry-run); the counts of
 * what it changed (counted for committed runs only). */
void dir_metrics_sync_run(const char *status, int created, int updated, int deactivated,
                          int reactivated, int skipped);

/* dir_db: connections added to (+) or removed from (-) a pool. */
void dir_metrics_db_pool_size(int delta);
/* dir_db: a connection taken (+1, WAITED: none was free at first) or given back (-1). */
void dir_metrics_db_pool_use(int delta, bool waited);
/* dir_db: a failed connection attempt or statement. */
void dir_metrics_db_error(void);

/* Appends every metric in the text exposition format 0.0.4 to OUT. */
enum dir_rc dir_metrics_render(struct dir_buf *out);

/* The metric table, for tests and documentation: name and help of entry I (false past the
 * end). */
bool dir_metrics_describe(int i, const char **name, const char **type, const char **help);

#endif
