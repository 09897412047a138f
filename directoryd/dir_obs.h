/* dir_obs.h - the operator's HTTP routes: GET /metrics and GET /readyz (issue 15).
 *
 * /metrics answers the registry of dir_metrics in the Prometheus text format 0.0.4, to
 * callers on a loopback address or with the admin role (metrics_access = loopback, the
 * default), or to admins only (metrics_access = key); others get 403. It needs the first
 * snapshot (before it, 503 like every authenticated route).
 *
 * /readyz is the load balancer's question "send traffic here?": 200 when a snapshot is
 * served and was confirmed current with the database at most ready_max_lag seconds ago, else
 * 503 with a problem detail saying why. /healthz stays the liveness check.
 */
#ifndef DIR_OBS_H
#define DIR_OBS_H

#include "dir_route.h"

#include <stdbool.h>

/* Sets who may read /metrics and the readiness bound (at start and on SIGHUP). */
void dir_obs_configure(bool metrics_key_only, int ready_max_lag_s);

/* Route handlers (dir_api's table). */
void dir_obs_route_metrics(struct dir_route_ctx *x);
void dir_obs_route_readyz(struct dir_route_ctx *x);

#endif
