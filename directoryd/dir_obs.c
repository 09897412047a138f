/* dir_obs.c - GET /metrics and GET /readyz (dir_obs.h). */
#include "dir_obs.h"
#include "dir_metrics.h"
#include "dir_model.h"
#include "dir_problem.h"
#include "dir_write.h"

#include <stdatomic.h>
#include <stdio.h>

static atomic_bool key_only = false;
static atomic_int max_lag = 30;

void dir_obs_configure(bool metrics_key_only, int ready_max_lag_s)
{
    atomic_store_explicit(&key_only, metrics_key_only, memory_order_relaxed);
    atomic_store_explicit(&max_lag, ready_max_lag_s, memory_order_relaxed);
}

void dir_obs_route_metrics(struct dir_route_ctx *x)
{
    bool admin = x->who && x->who->role >= DIR_ROLE_ADMIN;
    bool local =
        !atomic_load_explicit(&key_only, memory_order_relaxed) && dir_http_from_loopback(x->req);
    if (!admin && !local) {
        struct dir_problem p;
        dir_problem_init(&p, 403, "forbidden", "Not allowed",
                         "/metrics is served to loopback callers and admins only (this server's "
                         "metrics_access is '%s'): send an admin API key.",
                         atomic_load_explicit(&key_only, memory_order_relaxed) ? "key"
                                                                               : "loopback");
        dir_problem_respond(&p, dir_http_path(x->req), x->resp);
        return;
    }
    x->resp->status = 200;
    x->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    if (dir_metrics_render(&x->resp->body)) {
        struct dir_problem p;
        dir_problem_init(&p, 500, "internal", "Internal error", "The metrics could not be built.");
        dir_problem_respond(&p, dir_http_path(x->req), x->resp);
    }
}

void dir_obs_route_readyz(struct dir_route_ctx *x)
{
    struct dir_problem p;
    int bound = atomic_load_explicit(&max_lag, memory_order_relaxed);
    double lag = dir_metrics_apply_lag();
    if (!x->m) {
        dir_problem_init(&p, 503, "not-ready", "Not ready",
                         "No directory snapshot is loaded yet (starting, or the database has "
                         "not answered since the start).");
    } else if (lag > bound) {
        dir_problem_init(&p, 503, "not-ready", "Not ready",
                         "The served snapshot was last confirmed current with the database %.1f "
                         "s ago, more than ready_max_lag (%d s): the database is unreachable or "
                         "the change log cannot be applied.",
                         lag, bound);
    } else {
        x->resp->status = 200;
        x->resp->content_type = "application/json";
        dir_buf_printf(&x->resp->body,
                       "{\"status\":\"ready\",\"seq\":%lld,\"lag_seconds\":%.3f,"
                       "\"max_lag_seconds\":%d}",
                       x->m->seq, lag < 0 ? 0.0 : lag, bound);
        return;
    }
    x->resp->retry_after = 5;
    dir_problem_respond(&p, dir_http_path(x->req), x->resp);
}
