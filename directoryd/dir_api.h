/* dir_api.h - the JSON API under /v1 and /healthz: routing, parameters, authentication.
 *
 * Every answer comes from the current read-model snapshot. Errors are RFC 9457 problem
 * details naming the parameter at fault. Anonymous callers see public organisation data
 * only; people and non-public contact points need an API key (Authorization: Bearer).
 *
 * /healthz answers GET and HEAD only: 200 with "status":"ok" while serving, "degraded"
 * (still 200: the process is alive and reads are answered) when the database probe fails,
 * with "database":{"state","since","error"} (the database writes go to) and, when reads come
 * from another one (a standby), "read_database" alike; "writes":"available" or
 * "unavailable"; 503 "starting" before the first snapshot.
 *
 * Paths outside /v1 and /healthz belong to the browser UI (dir_webui) when there is one:
 * they are answered before authentication and whether or not a snapshot is loaded.
 */
#ifndef DIR_API_H
#define DIR_API_H

#include "dir_http.h"
#include "dir_refresh.h"
#include "dir_report.h"
#include "dir_route.h"
#include "dir_sync.h"
#include "dir_session.h"
#include "dir_write.h"
#include "dir_webui.h"

struct dir_api_probe;

struct dir_api {
    struct dir_refresh *refresh;   /* borrowed */
    const char *central_ref;       /* borrowed: the resolver's last resort */
    struct dir_write_env write;    /* the database side of writes */
    struct dir_report_env reports; /* reports of mistakes (db NULL: they answer 503) */
    struct dir_sync *sync;         /* borrowed: staff sync from the city LDAP, or NULL */
    struct dir_sessions *sessions; /* borrowed: staff login */
    int cookie_secure;             /* 1: Set-Cookie gets Secure */
    struct dir_api_probe *probe;   /* owned: the database probe behind /healthz, or NULL */
    const struct dir_webui *webui; /* borrowed: the browser UI served at /, or NULL */
    /* For tests and fuzzing: with REFRESH NULL, this snapshot (borrowed) is served; with
     * write.db NULL, writes and the database-backed admin routes answer 503. */
    struct dir_model *model;
    /* --- replica --- */
    struct dir_db *read_db; /* borrowed: the database the model is read from when it is not
                             * write.db (a standby), probed for /healthz too; or NULL */
};

/* Retry-After of every 503 answer (the write database down, starting), in seconds. */
#define DIR_API_RETRY_AFTER_S 5

/* Starts the database probe /healthz reports (a thread asking PostgreSQL for the change-log
 * sequence once a second, so /healthz itself never waits for the database). Without it
 * /healthz says nothing about the database. Stop it with dir_api_stop before the database
 * is closed. */
enum dir_rc dir_api_start(struct dir_api *api, char *err, size_t errlen);
/* Stops the probe; a no-op when it is not running. */
void dir_api_stop(struct dir_api *api);

/* The dir_http_handler for the API; APP is a struct dir_api. */
void dir_api_handle(void *app, const struct dir_http_req *req, struct dir_http_resp *resp);

/* The API's route table (static; *N routes, in matching order): every method, path pattern
 * and least role the API answers, e.g. to compare with its description. */
const struct dir_route *dir_api_routes(size_t *n);

#endif
