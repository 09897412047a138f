/* main.c - the directoryd command: serve the directory, migrate, load the demo, add API clients.
 *
 * The daemon context (struct dir_ctx) is the only long-lived state; it lives on main's stack
 * and is handed to each module. Signals are blocked in every thread and taken by sigwait in
 * main, so SIGTERM/SIGINT stop the daemon cleanly.
 */
#include "dir_api.h"
#include "dir_auth.h"
#include "dir_cfg.h"
#include "dir_db.h"
#include "dir_entry.h"
#include "dir_hours.h"
#include "dir_db_hsds.h"
#include "dir_hsds_export.h"
#include "dir_hsds_import.h"
#include "dir_http.h"
#include "dir_import.h"
#include "dir_ldap.h"
#include "dir_ldif.h"
#include "dir_log.h"
#include "dir_rate.h"
#include "dir_refresh.h"
#include "dir_session.h"
#include "dir_sync.h"
#include "dir_usage.h"
#include "dir_version.h"
#include "dir_webui.h"

#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dir_ctx {
    struct dir_cfg cfg;
    atomic_bool ldap_used; /* set by the LDAP face at its first search */
    struct dir_db *db;
    struct dir_sessions *sessions;
    struct dir_refresh *refresh;
    struct dir_http *http;
    struct dir_http *health; /* the /healthz-only listener, or NULL */
    struct dir_ldap *ldap;
    struct dir_sync *sync;
    struct dir_rate *report_rate; /* the limit on new reports of mistakes */
    struct dir_webui *webui; /* the browser UI's files, or NULL */
    struct dir_api api;
};

/* The commands and options: their table is in dir_usage.c (it also writes the man page). */
static void usage(FILE *out)
{
    dir_usage_print_help(out);
}

/* Opens the database, retrying for up to WAIT_S seconds (PostgreSQL may still be starting). */
static enum dir_rc open_db(struct dir_ctx *ctx, int wait_s)
{
    char err[512];
    for (int i = 0;; i++) {
        if (dir_db_open(ctx->cfg.db, ctx->cfg.db_pool, &ctx->db, err, sizeof err) == DIR_OK)
            return DIR_OK;
        if (i >= wait_s * 2) {
            DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
            return DIR_ERR_DB;
        }
        if (i == 0)
            DIR_LOG(DIR_LOG_WARN, "main", "%s; retrying", err);
        usleep(500 * 1000);
    }
}

/* --- hsds: directoryd export hsds --out DIR --- */
static int cmd_export_hsds(struct dir_ctx *ctx, int nargs, char **args)
{
    char err[1024];
    const char *out = NULL;
    if (nargs == 2 && strcmp(args[0], "--out") == 0)
        out = args[1];
    else if (nargs == 1 && strncmp(args[0], "--out=", 6) == 0)
        out = args[0] + 6;
    if (!out || !*out) {
        fprintf(stderr, "directoryd: usage: export hsds --out DIR\n");
        return 2;
    }
    if (open_db(ctx, 30)) return 1;
    struct dir_model *m = NULL;
    enum dir_rc rc = dir_db_load_model(ctx->db, ctx->cfg.stale_days, ctx->cfg.changes_kept, &m,
                                       err, sizeof err);
    if (!rc) rc = dir_hsds_export_dir(m, out, err, sizeof err);
    dir_model_release(m);
    dir_db_close(ctx->db);
    ctx->db = NULL;
    if (rc) {
        fprintf(stderr, "directoryd: export hsds: %s\n", err);
        return 1;
    }
    return 0;
}

/* --- hsds: directoryd import hsds DIR [--dry-run] --- */
static int cmd_import_hsds(struct dir_ctx *ctx, int nargs, char **args)
{
    char err[1024];
    const char *dir = NULL;
    bool dry = false, bad = false;
    for (int i = 0; i < nargs; i++) {
        if (strcmp(args[i], "--dry-run") == 0) dry = true;
        else if (!dir && args[i][0] != '-') dir = args[i];
        else bad = true;
    }
    if (!dir || bad) {
        fprintf(stderr, "directoryd: usage: import hsds DIR [--dry-run]\n");
        return 2;
    }
    if (open_db(ctx, 30)) return 1;
    struct dir_model *m = NULL;
    json_t *report = NULL;
    enum dir_rc rc = dir_db_load_model(ctx->db, ctx->cfg.stale_days, ctx->cfg.changes_kept, &m,
                                       err, sizeof err);
    if (!rc && !(report = dir_hsds_import_plan(m, dir))) rc = DIR_ERR_LIMIT;
    dir_model_release(m);
    const char *user = getenv("USER");
    char actor[200];
    snprintf(actor, sizeof actor, "cli:%s", user && *user ? user : "unknown");
    struct dir_db_actor who = {.kind = "local", .name = actor, .address = NULL};
    if (!rc) rc = dir_db_hsds_import(ctx->db, &who, report, dry, err, sizeof err);
    dir_db_close(ctx->db);
    ctx->db = NULL;
    if (report) {
        /* The plan's items, without their contents. */
        json_t *items = json_array(), *plan = json_object_get(report, "plan");
        for (size_t i = 0; i < json_array_size(plan); i++) {
            json_t *o = json_array_get(plan, i);
            json_array_append_new(items, json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "file",
                                                   json_object_get(o, "file"), "line",
                                                   json_object_get(o, "line"), "hsds_id",
                                                   json_object_get(o, "hsds_id"), "name_th",
                                                   json_object_get(o, "name_th"), "action",
                                                   json_object_get(o, "action"), "id",
                                                   json_object_get(o, "new_id")));
        }
        json_object_set_new(report, "items", items);
        json_object_del(report, "plan");
        json_dumpf(report, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(report);
    }
    if (rc == DIR_ERR_INVALID) {
        fprintf(stderr, "directoryd: import hsds: errors (see the report): nothing written\n");
        return 1;
    }
    if (rc) {
        fprintf(stderr, "directoryd: import hsds: %s: nothing written\n", err);
        return 1;
    }
    return 0;
}

static int cmd_migrate(struct dir_ctx *ctx, const char *subdir)
{
    char err[1024];
    int applied;
    if (open_db(ctx, 30))
        return 1;
    enum dir_rc rc = dir_db_migrate(ctx->db, ctx->cfg.schema_dir, subdir, &applied, err, sizeof err);
    if (rc)
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
    else
        DIR_LOG(DIR_LOG_INFO, "main", "%s: %d applied, the rest were already there", subdir,
                applied);
    dir_db_close(ctx->db);
    return rc ? 1 : 0;
}

static int cmd_api_client(struct dir_ctx *ctx, const char *name, const char *role)
{
    char err[512], secret[DIR_AUTH_SECRET_LEN + 1];
    uint8_t hash[DIR_AUTH_HASH_LEN];
    if (dir_auth_role_parse(role) < 0) {
        fprintf(stderr, "directoryd: role must be caseworker, coordinator or admin\n");
        return 2;
    }
    const char *given = getenv("DIRECTORYD_CLIENT_SECRET");
    if (given && strlen(given) < 16) {
        fprintf(stderr, "directoryd: DIRECTORYD_CLIENT_SECRET must be at least 16 characters\n");
        return 2;
    }
    if (!given)
        dir_auth_new_secret(secret);
    dir_auth_hash(given ? given : secret, hash);
    if (open_db(ctx, 30))
        return 1;
    enum dir_rc rc = dir_db_put_api_client(ctx->db, name, role, hash, err, sizeof err);
    dir_db_close(ctx->db);
    if (rc) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        return 1;
    }
    if (!given)
        printf("%s\n", secret); /* shown once; only its hash is stored */
    DIR_LOG(DIR_LOG_INFO, "main", "api client %s has role %s", name, role);
    return 0;
}

/* A local account for a partner's coordinator who is not in the city LDAP; the password
 * comes from DIRECTORYD_ACCOUNT_PASSWORD (never from argv) and is stored as argon2id. */
static int cmd_local_account(struct dir_ctx *ctx, const char *given, const char *role)
{
    char err[512], hash[256], name[65];
    const char *pw = getenv("DIRECTORYD_ACCOUNT_PASSWORD");
    /* Stored as logins look it up: lower case, and only names that can log in at all. */
    if (!dir_session_username(given, name)) {
        fprintf(stderr, "directoryd: an account name is 1 to 64 of a-z 0-9 . _ @ -\n");
        return 2;
    }
    if (dir_auth_role_parse(role) < 0) {
        fprintf(stderr, "directoryd: role must be caseworker, coordinator or admin\n");
        return 2;
    }
    if (!pw || strlen(pw) < 10) {
        fprintf(stderr, "directoryd: set DIRECTORYD_ACCOUNT_PASSWORD (at least 10 characters)\n");
        return 2;
    }
    if (dir_session_hash_password(pw, hash, sizeof hash)) {
        fprintf(stderr, "directoryd: cannot hash the password\n");
        return 1;
    }
    if (open_db(ctx, 30))
        return 1;
    enum dir_rc rc = dir_db_put_local_account(ctx->db, name, hash, role, err, sizeof err);
    dir_db_close(ctx->db);
    if (rc) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        return 1;
    }
    DIR_LOG(DIR_LOG_INFO, "main", "local account %s has role %s", name, role);
    return 0;
}

static void print_people(const char *what, json_t *list)
{
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        const char *u = json_string_value(json_object_get(p, "username"));
        const char *n = json_string_value(json_object_get(p, "name_th"));
        const char *r = json_string_value(json_object_get(p, "reason"));
        const char *dn = json_string_value(json_object_get(p, "dn"));
        printf("%-11s %-20s %s%s%s\n", what, u ? u : (dn ? dn : "-"), n ? n : "",
               r ? "  -- " : "", r ? r : "");
    }
}

/* directoryd sync --once [--dry-run] [--full] [--force] [--relink]: one run, its summary on
 * stdout. Exit status: 0 ok or dry run, 1 failed, 3 refused by the safety limits, 4 applied
 * but needing attention (more entries skipped than the guard's share). */
static int cmd_sync(struct dir_ctx *ctx, int nargs, char **args)
{
    struct dir_sync_req req = {.trigger = "cli"};
    bool once = false;
    char err[1024];
    int applied;
    for (int i = 0; i < nargs; i++) {
        if (strcmp(args[i], "--once") == 0)
            once = true;
        else if (strcmp(args[i], "--dry-run") == 0)
            req.dry_run = true;
        else if (strcmp(args[i], "--full") == 0)
            req.full = true;
        else if (strcmp(args[i], "--force") == 0)
            req.force = true;
        else if (strcmp(args[i], "--relink") == 0)
            req.relink = true;
        else {
            fprintf(stderr, "directoryd: sync: unknown argument %s\n", args[i]);
            return 2;
        }
    }
    if (!once) {
        fprintf(stderr, "directoryd: sync needs --once (the daemon syncs on its own schedule)\n");
        return 2;
    }
    if (open_db(ctx, 30))
        return 1;
    if (dir_db_migrate(ctx->db, ctx->cfg.schema_dir, "migrations", &applied, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "migration failed: %s", err);
        dir_db_close(ctx->db);
        return 1;
    }
    struct dir_sync *s = dir_sync_new(&ctx->cfg, ctx->db);
    struct dir_sync_report rep;
    enum dir_rc rc = dir_sync_run(s, &req, &rep);
    printf("run %lld %s: %s\n", rep.run_id, rep.status, rep.message);
    if (req.dry_run) {
        print_people("create", json_object_get(rep.details, "created"));
        print_people("update", json_object_get(rep.details, "updated"));
        print_people("reactivate", json_object_get(rep.details, "reactivated"));
        print_people("relink", json_object_get(rep.details, "relinked"));
        print_people("deactivate", json_object_get(rep.details, "deactivated"));
        print_people("skip", json_object_get(rep.details, "skipped"));
        print_people("relinkable", json_object_get(rep.details, "relink_candidates"));
        const char *w = json_string_value(json_object_get(rep.details, "would_be_refused"));
        if (w)
            printf("note: a real run would be refused: %s\n", w);
        const char *a = json_string_value(json_object_get(rep.details, "attention"));
        if (a)
            printf("note: a real run would need attention: %s\n", a);
    }
    bool look = strcmp(rep.status, "attention") == 0;
    dir_sync_report_free(&rep);
    dir_sync_free(s);
    dir_db_close(ctx->db);
    if (rc == DIR_OK && look)
        return 4;
    return rc == DIR_OK ? 0 : rc == DIR_ERR_STATE ? 3 : rc == DIR_ERR_INVALID ? 2 : 1;
}

/* vcard: `directoryd export ldif [--out FILE] [--public]` (dir_ldif.h). The file is
 * written next to FILE and renamed over it when complete. */
static int cmd_export_ldif(struct dir_ctx *ctx, int nargs, char **args)
{
    const char *path = NULL;
    bool public_only = false;
    char err[1024], tmp[4096];
    for (int i = 0; i < nargs; i++) {
        if (strcmp(args[i], "--out") == 0 && i + 1 < nargs)
            path = args[++i];
        else if (strcmp(args[i], "--public") == 0)
            public_only = true;
        else {
            fprintf(stderr, "directoryd: export ldif: unknown argument %s\n", args[i]);
            return 2;
        }
    }
    if (dir_entry_configure(ctx->cfg.ldap_suffix, err, sizeof err)) {
        fprintf(stderr, "directoryd: %s\n", err);
        return 2;
    }
    if (open_db(ctx, 30))
        return 1;
    struct dir_model *m = NULL;
    enum dir_rc rc = dir_db_load_model(ctx->db, ctx->cfg.stale_days, ctx->cfg.changes_kept, &m,
                                       err, sizeof err);
    dir_db_close(ctx->db);
    if (rc) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        return 1;
    }
    FILE *out = stdout;
    if (path) {
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if (!(out = fopen(tmp, "w"))) {
            DIR_LOG(DIR_LOG_ERROR, "main", "cannot write %s", tmp);
            dir_model_release(m);
            return 1;
        }
    }
    int n = 0;
    rc = dir_ldif_write(m, !public_only, out, &n);
    if (fflush(out) != 0)
        rc = DIR_ERR_IO;
    if (path && fclose(out) != 0)
        rc = DIR_ERR_IO;
    if (path && !rc && rename(tmp, path) != 0)
        rc = DIR_ERR_IO;
    if (path && rc)
        unlink(tmp);
    dir_model_release(m);
    if (rc) {
        DIR_LOG(DIR_LOG_ERROR, "main", "export ldif failed: %s", dir_rc_str(rc));
        return 1;
    }
    DIR_LOG(DIR_LOG_INFO, "main", "export ldif: %d entries%s%s", n, path ? " to " : "",
            path ? path : "");
    return 0;
}

/* After each new snapshot: build the LDAP face's view of it on the refresher's warmer
 * thread (the first one before serving), so no LDAP search or /v1/search waits for a build:
 * they read the newest version whose view is built (dir_refresh_acquire_warm). */
static void warm_views(void *arg, struct dir_model *m)
{
    (void)arg;
    (void)dir_entry_view(m);
}

static int cmd_serve(struct dir_ctx *ctx)
{
    char err[1024];
    int applied, ret = 1;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* every thread inherits this */
    signal(SIGPIPE, SIG_IGN);

    if (*ctx->cfg.test_now) {
        time_t fixed;
        if (!dir_hours_parse_instant(ctx->cfg.test_now, &fixed)) {
            DIR_LOG(DIR_LOG_ERROR, "main",
                    "test_now: '%s' is not YYYY-MM-DDTHH:MM:SS followed by +07:00 or Z",
                    ctx->cfg.test_now);
            return 2;
        }
        dir_hours_fix_clock(fixed);
        DIR_LOG(DIR_LOG_WARN, "main", "test_now: open_now is computed for %s, not the clock",
                ctx->cfg.test_now);
    }
    if (open_db(ctx, 30))
        return 1;
    if (dir_db_migrate(ctx->db, ctx->cfg.schema_dir, "migrations", &applied, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "migration failed: %s", err);
        goto out;
    }
    /* The LDAP tree's suffix and root DSE before the first view is built (at start). */
    if (dir_entry_configure(ctx->cfg.ldap_suffix, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        goto out;
    }
    dir_entry_offer_starttls(ctx->cfg.ldap_tls_cert[0] != '\0');
    struct dir_refresh_opts ro = {.url = ctx->cfg.db,
                                  .refresh_ms = ctx->cfg.refresh_ms,
                                  .stale_days = ctx->cfg.stale_days,
                                  .changes_kept = ctx->cfg.changes_kept,
                                  .after_publish = warm_views,
                                  .after_arg = ctx};
    if (dir_refresh_start(ctx->db, &ro, &ctx->refresh, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        goto out;
    }
    ctx->api.refresh = ctx->refresh;
    ctx->api.central_ref = ctx->cfg.central_ref;
    ctx->api.write.db = ctx->db;
    ctx->api.write.refresh = ctx->refresh;
    if (dir_session_init(&ctx->cfg, ctx->db, &ctx->sessions, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "sessions: %s", err);
        goto out;
    }
    ctx->api.sessions = ctx->sessions;
    ctx->sync = dir_sync_new(&ctx->cfg, ctx->db);
    ctx->api.sync = ctx->sync;
    ctx->api.cookie_secure = ctx->cfg.cookie_secure;
    ctx->report_rate =
        dir_rate_new(ctx->cfg.report_rate, DIR_REPORT_RATE_WINDOW_S, ctx->cfg.report_rate_slots);
    ctx->api.reports = (struct dir_report_env){.db = ctx->db, .rate = ctx->report_rate};
    if (dir_api_start(&ctx->api, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        goto out;
    }
    /* The LDAP face first: a bad TLS setting stops the start before /healthz answers. */
    struct dir_ldap_opts lo = {.addr = ctx->cfg.ldap_addr,
                               .port = ctx->cfg.ldap_port,
                               .threads = ctx->cfg.ldap_threads,
                               .max_conns = ctx->cfg.ldap_max_conns,
                               .max_message = ctx->cfg.ldap_max_message,
                               .size_limit = ctx->cfg.ldap_size_limit,
                               .time_limit = ctx->cfg.ldap_time_limit,
                               .idle_timeout = ctx->cfg.ldap_idle_timeout,
                               .message_timeout = ctx->cfg.ldap_message_timeout,
                               .max_conns_per_addr = ctx->cfg.ldap_max_conns_per_addr,
                               .paged_ttl = ctx->cfg.ldap_paged_ttl,
                               .paged_max_stale = ctx->cfg.ldap_paged_max_stale,
                               .max_queued_conn = ctx->cfg.ldap_max_queued_conn,
                               .max_queued_total = ctx->cfg.ldap_max_queued_bytes,
                               .refresh = ctx->refresh,
                               .sessions = ctx->sessions,
                               .tls_cert = ctx->cfg.ldap_tls_cert,
                               .tls_key = ctx->cfg.ldap_tls_key,
                               .tls_port = ctx->cfg.ldaps_port,
                               .used = &ctx->ldap_used};
    if (dir_ldap_start(&lo, &ctx->ldap, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        goto out;
    }
    DIR_LOG(DIR_LOG_INFO, "main", "serving ldap://%s:%d/ (suffix %s, StartTLS %s)",
            ctx->cfg.ldap_addr, dir_ldap_port(ctx->ldap), dir_entry_suffix(),
            dir_ldap_has_tls(ctx->ldap) ? "on" : "off: no certificate");
    if (dir_ldap_tls_port(ctx->ldap))
        DIR_LOG(DIR_LOG_INFO, "main", "serving ldaps://%s:%d/", ctx->cfg.ldap_addr,
                dir_ldap_tls_port(ctx->ldap));
    if (ctx->cfg.webui_dir[0]) {
        if (dir_webui_load(ctx->cfg.webui_dir, &ctx->webui, err, sizeof err)) {
            DIR_LOG(DIR_LOG_ERROR, "main", "%s (set webui_dir, or empty for no UI)", err);
            goto out;
        }
        ctx->api.webui = ctx->webui;
    } else {
        DIR_LOG(DIR_LOG_INFO, "main", "no web UI (webui_dir is empty)");
    }
    struct dir_http_limits lim = {.threads = ctx->cfg.http_threads,
                                  .max_conns = ctx->cfg.http_max_conns,
                                  .max_conns_per_addr = ctx->cfg.http_max_conns_per_addr,
                                  .header_timeout_s = ctx->cfg.http_header_timeout,
                                  .body_timeout_s = ctx->cfg.http_body_timeout,
                                  .idle_timeout_s = ctx->cfg.http_idle_timeout};
    if (dir_http_start(ctx->cfg.http_addr, ctx->cfg.http_port, &lim, dir_api_handle, &ctx->api,
                       &ctx->http, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        goto out;
    }
    DIR_LOG(DIR_LOG_INFO, "main", "directoryd %s serving http://%s:%d/ (pid %d)", DIR_VERSION,
            ctx->cfg.http_addr, dir_http_port(ctx->http), (int)getpid());
    if (ctx->cfg.http_health_port) {
        /* The reserve for probes: its own few connections, /healthz only. */
        struct dir_http_limits hl = {.threads = 1, .max_conns = 16, .max_conns_per_addr = 16,
                                     .header_timeout_s = ctx->cfg.http_header_timeout,
                                     .body_timeout_s = ctx->cfg.http_body_timeout,
                                     .idle_timeout_s = ctx->cfg.http_idle_timeout,
                                     .health_only = true};
        if (dir_http_start(ctx->cfg.http_addr, ctx->cfg.http_health_port, &hl, dir_api_handle,
                           &ctx->api, &ctx->health, err, sizeof err)) {
            DIR_LOG(DIR_LOG_ERROR, "main", "health listener: %s", err);
            goto out;
        }
        DIR_LOG(DIR_LOG_INFO, "main", "serving http://%s:%d/healthz (probes)", ctx->cfg.http_addr,
                dir_http_port(ctx->health));
    }
    if (dir_sync_start(ctx->sync, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "staff sync: %s", err);
        goto out;
    }
    for (;;) {
        int sig = 0;
        sigwait(&sigs, &sig);
        if (sig == SIGHUP)
            continue; /* the snapshot follows the change log; nothing to reload */
        DIR_LOG(DIR_LOG_INFO, "main", "signal %d: stopping", sig);
        break;
    }
    ret = 0;
out:
    dir_ldap_stop(ctx->ldap);
    dir_http_stop(ctx->health);
    dir_http_stop(ctx->http);
    dir_webui_free(ctx->webui); /* after the server: answers borrow its bytes */
    dir_api_stop(&ctx->api);
    dir_sync_free(ctx->sync);
    dir_refresh_stop(ctx->refresh);
    dir_session_free(ctx->sessions);
    dir_rate_free(ctx->report_rate);
    dir_db_close(ctx->db);
    DIR_LOG(DIR_LOG_INFO, "main", "stopped");
    return ret;
}

int main(int argc, char **argv)
{
    struct dir_ctx ctx;
    char err[1024];
    int npos;

    memset(&ctx, 0, sizeof ctx);
    /* Snapshots are built from 256 KiB arena chunks and big index arrays and freed whole
     * when the next snapshot replaces them. A fixed mmap threshold keeps every such block an
     * mmap of its own, returned to the system when freed; glibc's default threshold rises
     * after the first free and would put later snapshots on the heap, where reloads leave
     * it fragmented (RSS 311 MB instead of about 120 MB after three reloads at 100k people). */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--man") == 0) { /* pkg: CMake writes directoryd.8 with it */
            dir_usage_print_man(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("directoryd %s\n", DIR_VERSION);
            return 0;
        }
    }
    if (dir_cfg_resolve(&ctx.cfg, argc, argv, &npos, err, sizeof err)) {
        fprintf(stderr, "directoryd: %s\n", err);
        return 2;
    }
    int level = dir_log_level_parse(ctx.cfg.log_level);
    if (level < 0) {
        fprintf(stderr, "directoryd: log_level must be debug, info, warn or error\n");
        return 2;
    }
    dir_log_set_level((enum dir_log_level)level);
    if (dir_auth_init()) {
        fprintf(stderr, "directoryd: libsodium failed to initialise\n");
        return 1;
    }
    const char *cmd = npos ? argv[1] : "serve";
    if (strcmp(cmd, "serve") == 0 && npos <= 1)
        return cmd_serve(&ctx);
    if (strcmp(cmd, "migrate") == 0 && npos == 1)
        return cmd_migrate(&ctx, "migrations");
    if (strcmp(cmd, "load-demo") == 0 && npos == 1)
        return cmd_migrate(&ctx, "demo");
    if (strcmp(cmd, "api-client") == 0 && npos == 3)
        return cmd_api_client(&ctx, argv[2], argv[3]);
    if (strcmp(cmd, "local-account") == 0 && npos == 3)
        return cmd_local_account(&ctx, argv[2], argv[3]);
    if (strcmp(cmd, "sync") == 0)
        return cmd_sync(&ctx, npos - 1, argv + 2);
    if (strcmp(cmd, "export") == 0 && npos >= 2 && strcmp(argv[2], "ldif") == 0)
        return cmd_export_ldif(&ctx, npos - 2, argv + 3);
    if (strcmp(cmd, "export") == 0 && npos >= 2 && strcmp(argv[2], "hsds") == 0)
        return cmd_export_hsds(&ctx, npos - 2, argv + 3); /* --- hsds --- */
    if (strcmp(cmd, "import") == 0 && npos >= 2 && strcmp(argv[2], "hsds") == 0)
        return cmd_import_hsds(&ctx, npos - 2, argv + 3); /* --- hsds --- */
    /* csvimport: CSV import and export (dir_import_cli.c). */
    if (strcmp(cmd, "import") == 0)
        return dir_import_cli_import(&ctx.cfg, npos - 1, argv + 2);
    if (strcmp(cmd, "export") == 0 && npos >= 2 && strcmp(argv[2], "csv") == 0)
        return dir_import_cli_export(&ctx.cfg, npos - 2, argv + 3);
    if (strcmp(cmd, "version") == 0) {
        printf("directoryd %s\n", DIR_VERSION);
        return 0;
    }
    fprintf(stderr, "directoryd: unknown command or wrong arguments: %s (see --help)\n", cmd);
    return 2;
}
