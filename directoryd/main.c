/* main.c - the directoryd command: serve the directory, migrate, load the demo, add API clients,
 * import and export; one table (cmds) drives the subcommands and their usage text.
 *
 * The daemon context (struct dir_ctx) is the only long-lived state; it lives on main's stack
 * and is handed to each module. Signals are blocked in every thread and taken by sigwait in
 * main, so SIGTERM/SIGINT stop the daemon cleanly.
 */
#include "dir_api.h"
#include "dir_pdpa.h"
#include "dir_auth.h"
#include "dir_cfg.h"
#include "dir_db.h"
#include "dir_entry.h"
#include "dir_hours.h"
#include "dir_db_hsds.h"
#include "dir_hsds_export.h"
#include "dir_hsds_import.h"
#include "dir_proxy.h"
#include "dir_http.h"
#include "dir_import.h"
#include "dir_ldap.h"
#include "dir_ldif.h"
#include "dir_log.h"
#include "dir_openapi.h"
#include "dir_obs.h"
#include "dir_rate.h"
#include "dir_refresh.h"
#include "dir_session.h"
#include "dir_sync.h"
#include "dir_vcard.h"
#include "dir_usage.h"
#include "dir_version.h"
#include "dir_webui.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dir_ctx {
    struct dir_cfg cfg;
    atomic_bool ldap_used; /* set by the LDAP face at its first search */
    struct dir_db *db;  /* reads: the snapshot and change-log polling (may be a standby) */
    struct dir_db *wdb; /* --- replica --- writes: DB itself, or the db_write pool */
    struct dir_sessions *sessions;
    struct dir_refresh *refresh;
    struct dir_http *http;
    struct dir_http *health; /* the /healthz-only listener, or NULL */
    struct dir_ldap *ldap;
    struct dir_sync *sync;
    struct dir_rate *report_rate; /* the limit on new reports of mistakes */
    struct dir_webui *webui; /* the browser UI's files, or NULL */
    struct dir_api api;
    /* --- obs: what SIGHUP re-reads the configuration from (argv as given) --- */
    int argc;
    char **argv;
};

/* --- openapi --- directoryd openapi | routes: the API description / the route table on
 * standard output (no database needed). */
static int cmd_openapi(bool routes_only)
{
    size_t n;
    const struct dir_route *routes = dir_api_routes(&n);
    char *out = NULL, err[300];
    if (routes_only)
        out = dir_openapi_routes_json(routes, n);
    else if (dir_openapi_build(routes, n, true, &out, err, sizeof err)) {
        fprintf(stderr, "directoryd: openapi: %s\n", err);
        return 1;
    }
    if (!out) return 1;
    printf("%s\n", out);
    free(out);
    return 0;
}

/* --- replica --- The database writes go to: db_write, or db when that is empty. */
static const char *write_url(const struct dir_cfg *cfg)
{
    return cfg->db_write[0] ? cfg->db_write : cfg->db;
}

/* Opens the database at URL, retrying for up to WAIT_S seconds (PostgreSQL may still be
 * starting). */
static enum dir_rc open_db(struct dir_ctx *ctx, const char *url, int wait_s)
{
    char err[512];
    for (int i = 0;; i++) {
        if (dir_db_open(url, ctx->cfg.db_pool, &ctx->db, err, sizeof err) == DIR_OK)
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
    if (open_db(ctx, ctx->cfg.db, 30)) return 1;
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

/* --- hsds: directoryd import hsds DIR|FILE.zip|FILE.json [--dry-run] --- */
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
        fprintf(stderr, "directoryd: usage: import hsds DIR|FILE.zip|FILE.json [--dry-run]\n");
        return 2;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "directoryd: import hsds: %s: %s\n", dir, strerror(errno));
        return 2;
    }
    char *bytes = NULL;
    size_t len = 0;
    if (!S_ISDIR(st.st_mode)) {
        FILE *f = fopen(dir, "rb");
        if (f && st.st_size <= DIR_HSDS_IMPORT_MAX_FILE && (bytes = malloc((size_t)st.st_size + 1)))
            len = fread(bytes, 1, (size_t)st.st_size, f);
        if (f) fclose(f);
        if (!bytes || len != (size_t)st.st_size) {
            fprintf(stderr, "directoryd: import hsds: %s: %s\n", dir,
                    st.st_size > DIR_HSDS_IMPORT_MAX_FILE ? "larger than 64 MB" : "cannot be read");
            free(bytes);
            return 2;
        }
    }
    if (open_db(ctx, write_url(&ctx->cfg), 30)) {
        free(bytes);
        return 1;
    }
    struct dir_model *m = NULL;
    json_t *report = NULL;
    enum dir_rc rc = dir_db_load_model(ctx->db, ctx->cfg.stale_days, ctx->cfg.changes_kept, &m,
                                       err, sizeof err);
    bool unreadable = false;
    if (!rc && bytes) {
        const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
        rc = dir_hsds_import_read(m, base, bytes, len, &report, err, sizeof err);
        unreadable = rc != DIR_OK;
    } else if (!rc && !(report = dir_hsds_import_plan(m, dir))) {
        rc = DIR_ERR_LIMIT;
    }
    free(bytes);
    dir_model_release(m);
    const char *user = getenv("USER");
    char actor[200];
    snprintf(actor, sizeof actor, "cli:%s", user && *user ? user : "unknown");
    struct dir_db_actor who = {.kind = "local", .name = actor, .address = NULL};
    long long seq = 0;
    if (!rc) rc = dir_db_hsds_import(ctx->db, &who, report, dry, &seq, err, sizeof err);
    dir_db_close(ctx->db);
    ctx->db = NULL;
    if (report) {
        dir_db_hsds_lines(report);
        json_dumpf(report, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(report);
    }
    if (unreadable) {
        fprintf(stderr, "directoryd: import hsds: %s: %s: nothing written\n", dir, err);
        return 1;
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
    if (open_db(ctx, write_url(&ctx->cfg), 30))
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
    if (open_db(ctx, write_url(&ctx->cfg), 30))
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
    if (open_db(ctx, write_url(&ctx->cfg), 30))
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
    if (open_db(ctx, write_url(&ctx->cfg), 30))
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
    if (open_db(ctx, write_url(&ctx->cfg), 30)) /* the export is recorded (PDPA) */
        return 1;
    struct dir_model *m = NULL;
    enum dir_rc rc = dir_db_load_model(ctx->db, ctx->cfg.stale_days, ctx->cfg.changes_kept, &m,
                                       err, sizeof err);
    if (rc) {
        dir_db_close(ctx->db);
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        return 1;
    }
    FILE *out = stdout;
    if (path) {
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if (!(out = fopen(tmp, "w"))) {
            DIR_LOG(DIR_LOG_ERROR, "main", "cannot write %s", tmp);
            dir_model_release(m);
            dir_db_close(ctx->db);
            return 1;
        }
    }
    /* pdpa: the OS user who exported people's non-public contact points is recorded (a file
     * whose export cannot be recorded is not kept). */
    struct dir_pdpa_read rd;
    char user[128];
    dir_pdpa_os_user(user, sizeof user);
    dir_pdpa_begin(&rd, "cli", user, DIR_PDPA_EXPORT, "export ldif");
    int n = 0;
    rc = dir_ldif_write(m, !public_only, out, &n);
    if (fflush(out) != 0)
        rc = DIR_ERR_IO;
    if (path && fclose(out) != 0)
        rc = DIR_ERR_IO;
    if (!rc && dir_pdpa_end_write(&rd, ctx->db, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "the access log cannot record the export: %s", err);
        rc = DIR_ERR_DB;
    }
    dir_pdpa_end(&rd); /* no-op when written */
    dir_db_close(ctx->db);
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

/* --- obs: SIGHUP --- */

/* Applies the settings of CFG that need no restart to the running modules. */
static void apply_live(struct dir_ctx *ctx, const struct dir_cfg *cfg)
{
    dir_log_set_level((enum dir_log_level)dir_log_level_parse(cfg->log_level));
    dir_log_set_access(cfg->request_log != 0);
    dir_obs_configure(strcmp(cfg->metrics_access, "key") == 0, cfg->ready_max_lag);
    dir_ldap_set_limits(ctx->ldap, cfg->ldap_size_limit, cfg->ldap_time_limit);
}

/* Checks the values the option table cannot (one of a set of words); false with ERR. */
static bool live_valid(const struct dir_cfg *cfg, char *err, size_t errlen)
{
    if (dir_log_level_parse(cfg->log_level) < 0) {
        snprintf(err, errlen, "log_level must be debug, info, warn or error");
        return false;
    }
    if (strcmp(cfg->metrics_access, "loopback") != 0 && strcmp(cfg->metrics_access, "key") != 0) {
        snprintf(err, errlen, "metrics_access must be loopback or key");
        return false;
    }
    return true;
}

struct reload_log {
    int applied, ignored;
};

static void reload_one(void *cls, const char *name, bool reloadable, const char *value)
{
    struct reload_log *rl = cls;
    if (reloadable) {
        rl->applied++;
        DIR_LOG(DIR_LOG_INFO, "main", "reload: %s = %s", name, value);
    } else {
        rl->ignored++;
        DIR_LOG(DIR_LOG_WARN, "main", "reload: %s changed but needs a restart; still using the old value",
                name);
    }
}

/* SIGHUP: reads the configuration again (file, environment, flags) and applies what can
 * change without a restart; connections stay open. */
static void reload(struct dir_ctx *ctx)
{
    struct dir_cfg *fresh = malloc(sizeof *fresh);
    char err[1024];
    int npos;
    char **args = malloc(sizeof *args * (size_t)(ctx->argc + 1));
    if (!fresh || !args) {
        free(fresh);
        free(args);
        DIR_LOG(DIR_LOG_ERROR, "main", "reload: out of memory");
        return;
    }
    memcpy(args, ctx->argv, sizeof *args * (size_t)(ctx->argc + 1));
    enum dir_rc rc = dir_cfg_resolve(fresh, ctx->argc, args, &npos, err, sizeof err);
    free(args);
    if (rc || !live_valid(fresh, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "reload refused, nothing changed: %s", err);
        free(fresh);
        return;
    }
    struct reload_log rl = {0};
    dir_cfg_diff(&ctx->cfg, fresh, reload_one, &rl);
    int old_stale = ctx->cfg.stale_days;
    dir_cfg_copy_reloadable(&ctx->cfg, fresh);
    apply_live(ctx, &ctx->cfg);
    if (ctx->cfg.stale_days != old_stale)
        dir_refresh_set_stale_days(ctx->refresh, ctx->cfg.stale_days);
    DIR_LOG(DIR_LOG_INFO, "main", "reload: %d setting(s) applied, %d need a restart", rl.applied,
            rl.ignored);
    free(fresh);
}

/* After each new snapshot: build the LDAP face's view of it on the refresher's warmer
 * thread (the first one before serving), so no LDAP search or /v1/search waits for a build:
 * they read the newest version whose view is built (dir_refresh_acquire_warm). A version
 * applied from the change log gets its view derived from the previous one's (only the
 * changed entries rebuilt), so LDAP shows a change as soon as the JSON API does. */
static void warm_views(void *arg, struct dir_model *m, struct dir_model *prev)
{
    (void)arg;
    (void)dir_entry_view_from(m, prev);
}

/* --- replica --- The write pool: the read pool itself when db_write is empty or the same,
 * else a pool of its own that may be down at start (the daemon then serves reads and answers
 * writes 503 until it is back). */
static enum dir_rc open_write_db(struct dir_ctx *ctx)
{
    char err[512];
    if (!ctx->cfg.db_write[0] || strcmp(ctx->cfg.db_write, ctx->cfg.db) == 0) {
        ctx->wdb = ctx->db;
        return DIR_OK;
    }
    enum dir_rc rc = dir_db_open_lazy(ctx->cfg.db_write, ctx->cfg.db_pool, &ctx->wdb, err,
                                      sizeof err);
    if (rc == DIR_ERR_INVALID) {
        DIR_LOG(DIR_LOG_ERROR, "main", "db_write: %s", err);
        ctx->wdb = ctx->db; /* closed once, with it */
        return rc;
    }
    if (rc)
        DIR_LOG(DIR_LOG_WARN, "main", "write database: %s; serving reads, writes answer 503 "
                "until it answers", err);
    return DIR_OK;
}

/* --- replica --- Migrations at start: applied through the write database when it is a
 * primary this daemon reaches (and migrate_on_start is 1); then the read database, which may
 * be a standby, must have every migration of this build (a standby gets them by replication:
 * waited for briefly). A standby alone, or a primary that is down, is only checked. */
static enum dir_rc serve_schema(struct dir_ctx *ctx)
{
    char err[1024], first[512];
    int applied = 0, missing = 0;
    bool primary = false;
    if (ctx->cfg.migrate_on_start) {
        if (dir_db_is_primary(ctx->wdb, &primary, err, sizeof err))
            DIR_LOG(DIR_LOG_WARN, "main", "write database unreachable (%s): not migrating, "
                    "checking the schema only", err);
        else if (!primary)
            DIR_LOG(DIR_LOG_INFO, "main", "the write database is a standby: not migrating, "
                    "checking the schema only");
        if (primary &&
            dir_db_migrate(ctx->wdb, ctx->cfg.schema_dir, "migrations", &applied, err, sizeof err)) {
            DIR_LOG(DIR_LOG_ERROR, "main", "migration failed: %s", err);
            return DIR_ERR_DB;
        }
    }
    for (int i = 0;; i++) {
        if (dir_db_schema_check(ctx->db, ctx->cfg.schema_dir, "migrations", &missing, first,
                                sizeof first, err, sizeof err)) {
            DIR_LOG(DIR_LOG_ERROR, "main", "schema check: %s", err);
            return DIR_ERR_DB;
        }
        /* Migrations just applied on the primary reach a standby a little later. */
        if (!missing || !applied || i >= 100)
            break;
        usleep(100 * 1000);
    }
    if (missing) {
        DIR_LOG(DIR_LOG_ERROR, "main",
                "the database lacks %d migration(s) of this build, the first %s: run "
                "`directoryd migrate` against the primary (db_write), then start again",
                missing, first);
        return DIR_ERR_STATE;
    }
    return DIR_OK;
}

static int cmd_serve(struct dir_ctx *ctx)
{
    char err[1024];
    int ret = 1;
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
    if (dir_proxy_configure(ctx->cfg.http_trusted_proxies, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        return 2;
    }
    if (!live_valid(&ctx->cfg, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        return 2;
    }
    apply_live(ctx, &ctx->cfg); /* the LDAP limits once it starts, below */
    if (open_db(ctx, ctx->cfg.db, 30))
        return 1;
    if (open_write_db(ctx) || serve_schema(ctx))
        goto out;
    /* The LDAP tree's suffix and root DSE before the first view is built (at start). */
    if (dir_entry_configure(ctx->cfg.ldap_suffix, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        goto out;
    }
    dir_entry_offer_starttls(ctx->cfg.ldap_tls_cert[0] != '\0');
    struct dir_refresh_opts ro = {.url = ctx->cfg.db,
                                  .write_db = ctx->wdb,
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
    ctx->api.write.db = ctx->wdb;
    ctx->api.write.refresh = ctx->refresh;
    ctx->api.write.wait_ms = ctx->cfg.write_wait_ms;
    ctx->api.read_db = ctx->db;
    if (dir_session_init(&ctx->cfg, ctx->wdb, ctx->db, &ctx->sessions, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "sessions: %s", err);
        goto out;
    }
    ctx->api.sessions = ctx->sessions;
    ctx->sync = dir_sync_new(&ctx->cfg, ctx->wdb);
    ctx->api.sync = ctx->sync;
    ctx->api.cookie_secure = ctx->cfg.cookie_secure;
    ctx->report_rate =
        dir_rate_new(ctx->cfg.report_rate, DIR_REPORT_RATE_WINDOW_S, ctx->cfg.report_rate_slots);
    ctx->api.reports = (struct dir_report_env){.db = ctx->wdb, .rate = ctx->report_rate};
    if (dir_api_start(&ctx->api, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        goto out;
    }
    /* pdpa: the access log's writer, before any face can answer. */
    struct dir_pdpa_opts po = {.db = ctx->wdb,
                               .retention_days = ctx->cfg.access_log_retention_days,
                               .queue = ctx->cfg.access_log_queue,
                               .flush_ms = ctx->cfg.access_log_flush_ms};
    if (ctx->cfg.access_log && dir_pdpa_start(&po, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        goto out;
    }
    if (!ctx->cfg.access_log)
        DIR_LOG(DIR_LOG_WARN, "main", "access log off: reads of non-public contact points are "
                                      "not recorded");
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
                                  .idle_timeout_s = ctx->cfg.http_idle_timeout,
                                  .tls_cert = ctx->cfg.http_tls_cert,
                                  .tls_key = ctx->cfg.http_tls_key};
    if (dir_http_start(ctx->cfg.http_addr, ctx->cfg.http_port, &lim, dir_api_handle, &ctx->api,
                       &ctx->http, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        goto out;
    }
    DIR_LOG(DIR_LOG_INFO, "main", "directoryd %s serving %s://%s:%d/ (pid %d)", DIR_VERSION,
            dir_http_tls(ctx->http) ? "https" : "http", ctx->cfg.http_addr,
            dir_http_port(ctx->http), (int)getpid());
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
        if (sig == SIGHUP) { /* the settings that need no restart (obs) */
            DIR_LOG(DIR_LOG_INFO, "main", "SIGHUP: reloading the configuration");
            reload(ctx);
            continue;
        }
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
    dir_pdpa_stop(); /* after every face: writes what is queued */
    dir_sync_free(ctx->sync);
    dir_refresh_stop(ctx->refresh);
    dir_session_free(ctx->sessions);
    dir_rate_free(ctx->report_rate);
    if (ctx->wdb != ctx->db)
        dir_db_close(ctx->wdb);
    dir_db_close(ctx->db);
    DIR_LOG(DIR_LOG_INFO, "main", "stopped");
    return ret;
}

/* `directoryd export vcard [--out FILE] [--public | --full]`: every organisation and every
 * active person as one vCard 4.0 file (dir_vcard.h), to FILE (written next to it and renamed
 * over it when complete) or standard output. Public contact points only unless --full. */
static int cmd_export_vcard(struct dir_ctx *ctx, int nargs, char **args)
{
    const char *path = NULL;
    bool full = false;
    char err[1024], tmp[4096];
    for (int i = 0; i < nargs; i++) {
        if (strcmp(args[i], "--out") == 0 && i + 1 < nargs)
            path = args[++i];
        else if (strncmp(args[i], "--out=", 6) == 0 && args[i][6])
            path = args[i] + 6;
        else if (strcmp(args[i], "--public") == 0)
            full = false;
        else if (strcmp(args[i], "--full") == 0)
            full = true;
        else {
            fprintf(stderr, "directoryd: export vcard: unknown argument %s\n", args[i]);
            return 2;
        }
    }
    /* The primary: with --full the export is recorded in the access log (PDPA). */
    if (open_db(ctx, write_url(&ctx->cfg), 30)) return 1;
    struct dir_model *m = NULL;
    enum dir_rc rc =
        dir_db_load_model(ctx->db, ctx->cfg.stale_days, ctx->cfg.changes_kept, &m, err, sizeof err);
    if (rc) {
        DIR_LOG(DIR_LOG_ERROR, "main", "%s", err);
        dir_db_close(ctx->db);
        return 1;
    }
    /* pdpa: the OS user who exported people's non-public contact points is recorded (a file
     * whose export cannot be recorded is not kept). */
    struct dir_pdpa_read rd;
    char user[128];
    dir_pdpa_os_user(user, sizeof user);
    dir_pdpa_begin(&rd, "cli", user, DIR_PDPA_EXPORT, "export vcard");
    struct dir_buf b;
    dir_buf_init(&b, (size_t)1 << 31); /* 2 GiB: far past any directory */
    int norgs = 0, npeople = 0;
    for (int i = 0; !rc && i < m->norgs; i++, norgs++)
        rc = dir_vcard_org(m, dir_model_org_at(m, i), full, &b);
    for (int i = 0; !rc && i < m->npeople; i++)
        if (dir_model_person_at(m, i)->active) {
            rc = dir_vcard_person(m, dir_model_person_at(m, i), full, &b);
            npeople++;
        }
    dir_model_release(m);
    FILE *out = stdout;
    if (!rc && path) {
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if (!(out = fopen(tmp, "w"))) {
            DIR_LOG(DIR_LOG_ERROR, "main", "cannot write %s", tmp);
            dir_pdpa_end(&rd);
            dir_db_close(ctx->db);
            dir_buf_free(&b);
            return 1;
        }
    }
    if (!rc && fwrite(b.data, 1, b.len, out) != b.len) rc = DIR_ERR_IO;
    if (!rc && fflush(out) != 0) rc = DIR_ERR_IO;
    if (path && out != stdout && fclose(out) != 0) rc = DIR_ERR_IO;
    if (!rc && dir_pdpa_end_write(&rd, ctx->db, err, sizeof err)) {
        DIR_LOG(DIR_LOG_ERROR, "main", "the access log cannot record the export: %s", err);
        rc = DIR_ERR_DB;
    }
    dir_pdpa_end(&rd); /* no-op when written */
    dir_db_close(ctx->db);
    ctx->db = NULL;
    if (path && !rc && rename(tmp, path) != 0) rc = DIR_ERR_IO;
    if (path && rc) unlink(tmp);
    dir_buf_free(&b);
    if (rc) {
        DIR_LOG(DIR_LOG_ERROR, "main", "export vcard failed: %s", dir_rc_str(rc));
        return 1;
    }
    DIR_LOG(DIR_LOG_INFO, "main", "export vcard: %d organisations, %d people (%s contacts)%s%s",
            norgs, npeople, full ? "all" : "public", path ? " to " : "", path ? path : "");
    return 0;
}

/* ---- the subcommands: one table drives dispatch and the usage text ---- */

static int run_serve(struct dir_ctx *ctx, int nargs, char **args)
{
    (void)nargs;
    (void)args;
    return cmd_serve(ctx);
}

static int run_migrate(struct dir_ctx *ctx, int nargs, char **args)
{
    (void)nargs;
    (void)args;
    return cmd_migrate(ctx, "migrations");
}

static int run_load_demo(struct dir_ctx *ctx, int nargs, char **args)
{
    (void)nargs;
    (void)args;
    return cmd_migrate(ctx, "demo");
}

static int run_api_client(struct dir_ctx *ctx, int nargs, char **args)
{
    (void)nargs;
    return cmd_api_client(ctx, args[0], args[1]);
}

static int run_local_account(struct dir_ctx *ctx, int nargs, char **args)
{
    (void)nargs;
    return cmd_local_account(ctx, args[0], args[1]);
}

static int run_import_csv(struct dir_ctx *ctx, int nargs, char **args)
{
    return dir_import_cli_import(&ctx->cfg, nargs, args);
}

static int run_export_csv(struct dir_ctx *ctx, int nargs, char **args)
{
    return dir_import_cli_export(&ctx->cfg, nargs, args);
}

static int run_openapi(struct dir_ctx *ctx, int nargs, char **args)
{
    (void)ctx;
    (void)nargs;
    (void)args;
    return cmd_openapi(false);
}

static int run_routes(struct dir_ctx *ctx, int nargs, char **args)
{
    (void)ctx;
    (void)nargs;
    (void)args;
    return cmd_openapi(true);
}

static int run_version(struct dir_ctx *ctx, int nargs, char **args)
{
    (void)ctx;
    (void)nargs;
    (void)args;
    printf("directoryd %s\n", DIR_VERSION);
    return 0;
}

/* One subcommand: `directoryd NAME [SUB] ARGS...`. */
struct dir_cmd {
    const char *name;
    const char *sub; /* the second word it needs (export ldif, import hsds), or NULL */
    int nargs;       /* the words after NAME (and SUB): exactly this many, or -1: any */
    /* Runs it; ARGS are those words. */
    int (*run)(struct dir_ctx *ctx, int nargs, char **args);
    const char *synopsis; /* for the usage text */
    const char *help;     /* sentences; wrapped when printed (dir_usage.c) */
};

/* In the order they are tried (and listed): the first that matches runs; a command line no
 * row matches (a wrong word count included) is a usage error (exit 2). */
static const struct dir_cmd cmds[] = {
    {"serve", NULL, 0, run_serve, "serve",
     "migrate (through db_write, when it is a primary), check the schema, then serve the JSON "
     "API (the default)"},
    {"migrate", NULL, 0, run_migrate, "migrate",
     "apply schema/migrations/*.sql not yet applied, then exit"},
    {"load-demo", NULL, 0, run_load_demo, "load-demo",
     "apply schema/demo/*.sql not yet applied (idempotent)"},
    {"api-client", NULL, 2, run_api_client, "api-client NAME ROLE",
     "create or re-key an API client (ROLE: caseworker, coordinator or admin); the secret is "
     "taken from the environment variable DIRECTORYD_CLIENT_SECRET if set, else generated and "
     "printed once"},
    {"local-account", NULL, 2, run_local_account, "local-account NAME ROLE",
     "create or update a local account (partners not in the city LDAP); the password is read "
     "from DIRECTORYD_ACCOUNT_PASSWORD and stored as argon2id"},
    {"sync", NULL, -1, cmd_sync, "sync --once [--dry-run] [--full] [--force] [--relink]",
     "sync staff from the city LDAP once (sync_* options); --dry-run prints what would change "
     "and changes nothing, --full reads everything, --force applies a run the safety limits "
     "would refuse, --relink (after the city LDAP was rebuilt) moves each new LDAP identity "
     "to the synced person with its username or e-mail"},
    {"export", "ldif", -1, cmd_export_ldif, "export ldif [--out FILE] [--public]",
     "write the LDAP face's tree as LDIF (RFC 2849) for slapadd, to FILE (else standard "
     "output); --public: only what anonymous LDAP searches see"},
    {"import", "hsds", -1, cmd_import_hsds, "import hsds DIR|FILE.zip|FILE.json [--dry-run]",
     "import an HSDS 3.0 data package (a directory, its ZIP or the JSON export) in one "
     "transaction: organisations are matched and created, updated or left unchanged; prints "
     "a JSON report (per organisation, errors, and every field directoryd cannot hold)"},
    {"export", "hsds", -1, cmd_export_hsds, "export hsds --out DIR",
     "write the public directory as an HSDS 3.0 data package (CSV files and datapackage.json) "
     "into DIR"},
    {"import", NULL, -1, run_import_csv,
     "import KIND FILE [--dry-run] [--encoding E] [--delimiter D]",
     "import a CSV file of organizations, people or communities (docs/import.md); --dry-run "
     "reports per line what would happen and writes nothing"},
    {"export", "csv", -1, run_export_csv, "export csv KIND [--out FILE]",
     "write KIND as CSV in the import template's columns"},
    /* --- csv-speed --- */
    {"export", "vcard", -1, cmd_export_vcard, "export vcard [--out FILE] [--public | --full]",
     "write every organisation and active person as one vCard 4.0 file (RFC 6350) to FILE "
     "(else standard output); public contact points only unless --full"},
    {"openapi", NULL, 0, run_openapi, "openapi",
     "print the API's OpenAPI 3.1 description (as served at /v1/openapi.json)"},
    {"routes", NULL, 0, run_routes, "routes",
     "print the HTTP route table as JSON (methods, path, least role, declared query parameters)"},
    {"version", NULL, -1, run_version, "version", "print the version"},
};
#define NCMDS (sizeof cmds / sizeof cmds[0])


/* The commands' documentation, from CMDS, for --help and --man (dir_usage.c). */
static void usage_docs(struct dir_usage_cmd *docs)
{
    for (size_t i = 0; i < NCMDS; i++)
        docs[i] = (struct dir_usage_cmd){cmds[i].synopsis, cmds[i].help};
}

static void usage(FILE *out)
{
    struct dir_usage_cmd docs[NCMDS];
    usage_docs(docs);
    dir_usage_print_help(out, docs, NCMDS);
}

static void man(FILE *out)
{
    struct dir_usage_cmd docs[NCMDS];
    usage_docs(docs);
    dir_usage_print_man(out, docs, NCMDS);
}

/* The row of CMDS that the NPOS words at WORDS (argv after the options) name, or NULL;
 * *SKIP: how many of them name it (1 or 2). NPOS 0 is `serve`. */
static const struct dir_cmd *cmd_find(int npos, char **words, int *skip)
{
    static char *serve[] = {"serve", NULL};
    if (npos == 0) {
        words = serve;
        npos = 1;
    }
    for (size_t i = 0; i < NCMDS; i++) {
        const struct dir_cmd *c = &cmds[i];
        int k = c->sub ? 2 : 1;
        if (strcmp(words[0], c->name) != 0) continue;
        if (c->sub && (npos < 2 || strcmp(words[1], c->sub) != 0)) continue;
        if (c->nargs >= 0 && npos - k != c->nargs) continue;
        *skip = k;
        return c;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct dir_ctx ctx;
    char err[1024];
    int npos;

    memset(&ctx, 0, sizeof ctx);
    /* SIGHUP resolves the configuration again from the arguments as given (obs): keep a
     * copy, dir_cfg_resolve reorders ARGV. */
    char *argv_copy[argc + 1]; /* lives as long as main, so as the daemon */
    memcpy(argv_copy, argv, sizeof *argv * (size_t)(argc + 1));
    ctx.argc = argc;
    ctx.argv = argv_copy;
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
            man(stdout);
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
    int skip = 0;
    const struct dir_cmd *c = cmd_find(npos, argv + 1, &skip);
    if (c) return c->run(&ctx, npos ? npos - skip : 0, argv + 1 + skip);
    const char *cmd = argv[1];
    fprintf(stderr, "directoryd: unknown command or wrong arguments: %s (see --help)\n", cmd);
    return 2;
}
