/* dir_db.c - libpq pool, migration runner, snapshot loader and change-log queries. */
#include "dir_db.h"
#include "dir_db_int.h"
#include "dir_log.h"
#include "dir_metrics.h"
#include "dir_mem.h"

#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ISO(col) DIR_DBI_ISO(col)

/* Every statement directoryd runs outside migrations, prepared once per connection. */
enum stmt {
    ST_SEQ,
    ST_AREAS,
    ST_GROUPS,
    ST_MEMBERS,
    ST_SERVICES,
    ST_TARGET_GROUPS,
    ST_ORG_TYPES,
    ST_SECTORS,
    ST_PROFESSIONS,
    ST_TEAM_ROLES,
    ST_ORGS,
    ST_CONTACTS,
    ST_OFFERINGS,
    ST_OFFERING_GROUPS,
    ST_OFFERING_AREAS,
    ST_PEOPLE,
    ST_MEMBERSHIPS,
    ST_MEMBERSHIP_AREAS,
    ST_CLIENTS,
    ST_PUT_CLIENT,
    ST_CHANGES,
    ST_REVOKED,
    ST_PROGRAMMES,
    ST_PROGRAMME_AREAS,
    ST_PROGRAMME_ORGS,
    ST_HOURS,
    ST_HOLIDAYS,
    ST_MIGRATED,
    ST_RECORD_MIGRATION,
    ST_COUNT
};


_Static_assert(ST_COUNT <= DIR_DBI_SLOT_REPORT, "dir_db.c's statements stay below the others'");
_Static_assert(DIR_DBI_SLOTS <= 32 * sizeof(((struct conn *)0)->prepared) / sizeof(unsigned),
               "struct conn has a bit for every prepared statement");

static const char *stmt_sql[ST_COUNT] = {
    [ST_SEQ] = "SELECT coalesce(max(seq), 0) FROM change_log",
    [ST_AREAS] = "SELECT code, kind, parent_code, name_th, name_en, postal_code, lat, lon, "
                 "coord_approx, version FROM area",
    [ST_GROUPS] = "SELECT code, kind, parent_code, within_area, name_th, name_en, version "
                  "FROM area_group",
    [ST_MEMBERS] = "SELECT group_code, area_code FROM area_group_member ORDER BY group_code, area_code",
    [ST_SERVICES] = "SELECT code, name_th, name_en, description_th, description_en FROM service "
                    "ORDER BY position, code",
    [ST_TARGET_GROUPS] = "SELECT code, name_th, name_en, description_th, description_en "
                         "FROM target_group ORDER BY position, code",
    [ST_ORG_TYPES] = "SELECT code, name_th, name_en, NULL, NULL FROM org_type ORDER BY position, code",
    [ST_SECTORS] = "SELECT code, name_th, name_en, NULL, NULL FROM sector ORDER BY position, code",
    [ST_PROFESSIONS] = "SELECT code, name_th, name_en, NULL, NULL FROM profession "
                       "ORDER BY position, code",
    [ST_TEAM_ROLES] = "SELECT code, name_th, name_en, description_th, description_en FROM team_role "
                      "ORDER BY position, code",
    [ST_ORGS] = "SELECT " DIR_DBI_ORG_COLS " FROM organization",
    [ST_CONTACTS] = "SELECT coalesce(organization_id, 0), coalesce(person_id, 0), kind, value, "
                    "extension, label_th, label_en, is_public FROM contact_point "
                    "ORDER BY position, id",
    [ST_OFFERINGS] = "SELECT id, organization_id, service_code FROM offering ORDER BY id",
    [ST_OFFERING_GROUPS] = "SELECT offering_id, target_group_code FROM offering_target_group",
    [ST_OFFERING_AREAS] = "SELECT offering_id, area_code, group_code FROM offering_area "
                          "ORDER BY offering_id, coalesce(area_code, group_code)",
    [ST_PEOPLE] = "SELECT " DIR_DBI_PERSON_COLS " FROM person",
    [ST_MEMBERSHIPS] = "SELECT id, person_id, organization_id, team_role, title_th, title_en "
                       "FROM membership ORDER BY is_primary DESC, id",
    [ST_MEMBERSHIP_AREAS] = "SELECT membership_id, area_code, group_code FROM membership_area "
                            "ORDER BY membership_id, coalesce(area_code, group_code)",
    [ST_CLIENTS] = "SELECT name, role, encode(secret_hash, 'hex'), "
                   "coalesce(extract(epoch FROM expires_at)::bigint, 0), revoked_at IS NOT NULL "
                   "FROM api_client",
    [ST_PUT_CLIENT] = "INSERT INTO api_client (name, role, secret_hash) "
                      "VALUES ($1, $2, decode($3, 'hex')) ON CONFLICT (name) DO UPDATE SET "
                      "role = EXCLUDED.role, secret_hash = EXCLUDED.secret_hash, revoked_at = NULL "
                      "WHERE (api_client.role, api_client.secret_hash, api_client.revoked_at) "
                      "IS DISTINCT FROM (EXCLUDED.role, EXCLUDED.secret_hash, NULL)",
    [ST_CHANGES] = "SELECT seq, entity, entity_id, op, " ISO("changed_at") " FROM change_log "
                   "WHERE seq > $1 AND entity NOT IN ('api_client', 'session') ORDER BY seq",
    [ST_PROGRAMMES] = "SELECT id, ref, name_th, name_en, description_th, description_en, source, "
                      "start_year, end_year, version FROM programme",
    [ST_PROGRAMME_AREAS] = "SELECT programme_id, area_code FROM programme_area "
                           "ORDER BY programme_id, area_code",
    [ST_PROGRAMME_ORGS] = "SELECT programme_id, organization_id, role_th, role_en "
                          "FROM programme_organization ORDER BY programme_id, organization_id",
    [ST_REVOKED] = "SELECT sid FROM session_revoked WHERE expires_at > now()",
    [ST_HOURS] = "SELECT organization_id, hours::text FROM schedule_json",
    [ST_HOLIDAYS] = "SELECT day - DATE '1970-01-01' FROM public_holiday",
    [ST_MIGRATED] = "SELECT checksum FROM schema_migrations WHERE name = $1",
    [ST_RECORD_MIGRATION] = "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
};

void dir_dbi_error(char *err, size_t errlen, const char *what, PGconn *pg, const PGresult *res)
{
    dir_metrics_db_error();
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg)
        msg = pg ? PQerrorMessage(pg) : "no connection";
    snprintf(err, errlen, "%s: %s", what, msg);
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
}

/* libpq's notices (a server's "terminating connection" on an idle connection among them) go
 * to the log as logfmt lines instead of raw to stderr. */
static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    DIR_LOG(DIR_LOG_WARN, "db", "postgres: %.*s", (int)strcspn(message, "\n"), message);
}

static PGconn *connect_url(const char *url, char *err, size_t errlen)
{
    /* A bounded connect, so a primary that vanished from the network answers a write with
     * 503 in seconds instead of hanging it (a connect_timeout in URL wins: it comes later). */
    const char *const keys[] = {"connect_timeout", "dbname", NULL};
    const char *const vals[] = {"5", url, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(pg) != CONNECTION_OK) {
        dir_dbi_error(err, errlen, "cannot connect to PostgreSQL", pg, NULL);
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, notice_to_log, NULL);
    PQsetClientEncoding(pg, "UTF8");
    PGresult *r = PQexec(pg, "SET application_name = 'directoryd'");
    PQclear(r);
    return pg;
}

enum dir_rc dir_db_open(const char *url, int pool, struct dir_db **out, char *err, size_t errlen)
{
    struct dir_db *db = dir_xcalloc(1, sizeof *db);
    db->url = dir_xstrdup(url);
    db->n = pool;
    db->conns = dir_xcalloc((size_t)pool, sizeof *db->conns);
    dir_metrics_db_pool_size(pool);
    pthread_mutex_init(&db->lock, NULL);
    pthread_cond_init(&db->freed, NULL);
    /* One connection now proves the URL; the rest connect on first use. */
    db->conns[0].pg = connect_url(url, err, errlen);
    if (!db->conns[0].pg) {
        dir_db_close(db);
        return DIR_ERR_DB;
    }
    *out = db;
    return DIR_OK;
}

enum dir_rc dir_db_open_lazy(const char *url, int pool, struct dir_db **out, char *err,
                             size_t errlen)
{
    /* A string libpq cannot parse is a mistake in the settings, not an outage. */
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        snprintf(err, errlen, "not a libpq connection string: %.*s",
                 perr ? (int)strcspn(perr, "\n") : 0, perr ? perr : "");
        PQfreemem(perr);
        *out = NULL;
        return DIR_ERR_INVALID;
    }
    PQconninfoFree(opts);
    struct dir_db *db = dir_xcalloc(1, sizeof *db);
    db->url = dir_xstrdup(url);
    db->n = pool;
    db->conns = dir_xcalloc((size_t)pool, sizeof *db->conns);
    pthread_mutex_init(&db->lock, NULL);
    pthread_cond_init(&db->freed, NULL);
    *out = db;
    db->conns[0].pg = connect_url(url, err, errlen);
    return db->conns[0].pg ? DIR_OK : DIR_ERR_DB;
}

void dir_db_close(struct dir_db *db)
{
    if (!db)
        return;
    for (int i = 0; i < db->n; i++)
        if (db->conns[i].pg)
            PQfinish(db->conns[i].pg);
    pthread_mutex_destroy(&db->lock);
    pthread_cond_destroy(&db->freed);
    dir_metrics_db_pool_size(-db->n);
    free(db->conns);
    free(db->url);
    free(db);
}

/* False when idle connection PG is known to be gone: its status is bad, or the server sent
 * something while it was idle (a shutdown's "terminating connection", then end of file), so
 * a pooled connection to a primary that stopped is replaced before a write tries it. */
static bool conn_alive(PGconn *pg)
{
    if (PQstatus(pg) != CONNECTION_OK) return false;
    struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
    if (p.fd < 0) return false;
    if (poll(&p, 1, 0) > 0) {
        if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) return false;
        if (!PQconsumeInput(pg) || PQstatus(pg) != CONNECTION_OK) return false;
        PGnotify *n;
        while ((n = PQnotifies(pg)))
            PQfreemem(n);
    }
    return true;
}

/* Takes a free connection, (re)connecting it if needed. */
struct conn *dir_dbi_acquire(struct dir_db *db, char *err, size_t errlen)
{
    struct conn *c = NULL;
    bool waited = false;
    pthread_mutex_lock(&db->lock);
    for (;;) {
        for (int i = 0; i < db->n && !c; i++)
            if (!db->conns[i].busy)
                c = &db->conns[i];
        if (c)
            break;
        waited = true;
        pthread_cond_wait(&db->freed, &db->lock);
    }
    c->busy = true;
    pthread_mutex_unlock(&db->lock);

    if (c->pg && !conn_alive(c->pg)) {
        DIR_LOG(DIR_LOG_WARN, "db", "connection lost; reconnecting");
        PQreset(c->pg);
        memset(c->prepared, 0, sizeof c->prepared);
        if (PQstatus(c->pg) != CONNECTION_OK) {
            PQfinish(c->pg);
            c->pg = NULL;
        }
    }
    if (!c->pg) {
        memset(c->prepared, 0, sizeof c->prepared);
        c->pg = connect_url(db->url, err, errlen);
    }
    if (!c->pg) {
        pthread_mutex_lock(&db->lock);
        c->busy = false;
        pthread_cond_signal(&db->freed);
        pthread_mutex_unlock(&db->lock);
        return NULL;
    }
    dir_metrics_db_pool_use(1, waited);
    return c;
}

void dir_dbi_release(struct dir_db *db, struct conn *c)
{
    dir_metrics_db_pool_use(-1, false);
    pthread_mutex_lock(&db->lock);
    c->busy = false;
    pthread_cond_signal(&db->freed);
    pthread_mutex_unlock(&db->lock);
}

PGresult *dir_dbi_run(struct conn *c, int st, const char *sql, int nparams,
                      const char *const *params, char *err, size_t errlen)
{
    char name[16];
    snprintf(name, sizeof name, "dir_%d", st);
    if (!(c->prepared[st / 32] & (1u << (st % 32)))) {
        PGresult *p = PQprepare(c->pg, name, sql, nparams, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            dir_dbi_error(err, errlen, "prepare", c->pg, p);
            PQclear(p);
            return NULL;
        }
        PQclear(p);
        c->prepared[st / 32] |= 1u << (st % 32);
    }
    PGresult *r = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
        dir_dbi_error(err, errlen, "query", c->pg, r);
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Runs prepared statement ST; returns the result (caller PQclears) or NULL with ERR. */
static PGresult *run(struct conn *c, enum stmt st, int nparams, const char *const *params,
                     char *err, size_t errlen)
{
    return dir_dbi_run(c, (int)st, stmt_sql[st], nparams, params, err, errlen);
}

bool dir_dbi_exec(PGconn *pg, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType s = PQresultStatus(r);
    bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        dir_dbi_error(err, errlen, sql, pg, r);
    PQclear(r);
    return ok;
}

/* ---- migrations ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = dir_xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = dir_xrealloc(buf, cap);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static enum dir_rc apply_one(struct conn *c, const char *name, const char *path, bool *applied,
                             char *err, size_t errlen)
{
    size_t len;
    char *sql = read_file(path, &len);
    if (!sql) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return DIR_ERR_IO;
    }
    unsigned char hash[32];
    char hex[65];
    crypto_generichash(hash, sizeof hash, (const unsigned char *)sql, len, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);

    const char *p1[] = {name};
    char msg[512];
    enum dir_rc rc = DIR_OK;
    *applied = false;
    PGresult *r = run(c, ST_MIGRATED, 1, p1, msg, sizeof msg);
    if (!r) {
        snprintf(err, errlen, "%s: %s", name, msg);
        free(sql);
        return DIR_ERR_DB;
    }
    if (PQntuples(r) == 1) {
        if (strcmp(PQgetvalue(r, 0, 0), hex) != 0)
            DIR_LOG(DIR_LOG_WARN, "db", "%s changed after it was applied; not applied again",
                    name);
        PQclear(r);
        free(sql);
        return DIR_OK;
    }
    PQclear(r);
    if (!dir_dbi_exec(c->pg, "BEGIN", msg, sizeof msg)) {
        rc = DIR_ERR_DB;
    } else {
        PGresult *x = PQexec(c->pg, sql);
        ExecStatusType s = PQresultStatus(x);
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
            const char *line = PQresultErrorField(x, PG_DIAG_STATEMENT_POSITION);
            dir_dbi_error(msg, sizeof msg, "failed", c->pg, x);
            if (line) {
                long pos = strtol(line, NULL, 10), lineno = 1;
                for (long i = 0; i < pos - 1 && i < (long)len; i++)
                    lineno += sql[i] == '\n';
                size_t ml = strlen(msg);
                snprintf(msg + ml, sizeof msg - ml, " (near line %ld)", lineno);
            }
            rc = DIR_ERR_DB;
        }
        PQclear(x);
        const char *p2[] = {name, hex};
        if (!rc && !(r = run(c, ST_RECORD_MIGRATION, 2, p2, msg, sizeof msg)))
            rc = DIR_ERR_DB;
        else if (!rc)
            PQclear(r);
        if (!rc && !dir_dbi_exec(c->pg, "COMMIT", msg, sizeof msg))
            rc = DIR_ERR_DB;
        if (rc) {
            char ignore[64];
            dir_dbi_exec(c->pg, "ROLLBACK", ignore, sizeof ignore);
        }
    }
    if (rc)
        snprintf(err, errlen, "%s: %s", name, msg);
    else
        *applied = true;
    free(sql);
    return rc;
}

/* The *.sql files of DIRPATH in name order into *NAMES (caller frees each and the array). */
static enum dir_rc list_sql(const char *dirpath, char ***names_out, int *n_out, char *err,
                            size_t errlen)
{
    DIR *d = opendir(dirpath);
    if (!d) {
        snprintf(err, errlen, "cannot open %s: %s", dirpath, strerror(errno));
        return DIR_ERR_IO;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".sql") == 0) {
            names = dir_xrealloc(names, sizeof *names * (size_t)(n + 1));
            names[n++] = dir_xstrdup(e->d_name);
        }
    }
    closedir(d);
    if (n > 1)
        qsort(names, (size_t)n, sizeof *names, cmp_str);
    *names_out = names;
    *n_out = n;
    return DIR_OK;
}

enum dir_rc dir_db_schema_check(struct dir_db *db, const char *schema_dir, const char *subdir,
                                int *missing, char *first, size_t firstlen, char *err,
                                size_t errlen)
{
    char dirpath[2048];
    char **names = NULL;
    int n = 0;
    snprintf(dirpath, sizeof dirpath, "%s/%s", schema_dir, subdir);
    enum dir_rc rc = list_sql(dirpath, &names, &n, err, errlen);
    if (rc) return rc;
    *missing = 0;
    if (firstlen) first[0] = '\0';
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) {
        rc = DIR_ERR_DB;
        goto out;
    }
    /* A database never migrated has no schema_migrations: everything is missing. */
    PGresult *r = PQexec(c->pg, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    bool exists =
        PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        dir_dbi_error(err, errlen, "reading schema_migrations", c->pg, r);
        rc = DIR_ERR_DB;
    }
    PQclear(r);
    r = NULL;
    if (!rc && exists) {
        r = PQexec(c->pg, "SELECT name FROM schema_migrations");
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            dir_dbi_error(err, errlen, "reading schema_migrations", c->pg, r);
            PQclear(r);
            r = NULL;
            rc = DIR_ERR_DB;
        }
    }
    for (int i = 0; !rc && i < n; i++) {
        char name[512];
        bool found = false;
        snprintf(name, sizeof name, "%s/%s", subdir, names[i]);
        for (int k = 0; r && !found && k < PQntuples(r); k++)
            found = strcmp(PQgetvalue(r, k, 0), name) == 0;
        if (!found && (*missing)++ == 0 && firstlen) snprintf(first, firstlen, "%s", name);
    }
    PQclear(r);
    dir_dbi_release(db, c);
out:
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

enum dir_rc dir_db_is_primary(struct dir_db *db, bool *primary, char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    PGresult *r = PQexec(c->pg, "SELECT pg_is_in_recovery()");
    enum dir_rc rc = DIR_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        dir_dbi_error(err, errlen, "pg_is_in_recovery", c->pg, r);
        rc = DIR_ERR_DB;
    } else {
        *primary = PQgetvalue(r, 0, 0)[0] != 't';
    }
    PQclear(r);
    dir_dbi_release(db, c);
    return rc;
}

enum dir_rc dir_db_migrate(struct dir_db *db, const char *schema_dir, const char *subdir,
                           int *applied, char *err, size_t errlen)
{
    char dirpath[2048];
    char **names = NULL;
    int n = 0;
    snprintf(dirpath, sizeof dirpath, "%s/%s", schema_dir, subdir);
    if (list_sql(dirpath, &names, &n, err, errlen)) return DIR_ERR_IO;

    enum dir_rc rc = DIR_OK;
    *applied = 0;
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) {
        rc = DIR_ERR_DB;
        goto out;
    }
    if (!dir_dbi_exec(c->pg, "SELECT pg_advisory_lock(7270002)", err, errlen) ||
        !dir_dbi_exec(c->pg,
                     "SET client_min_messages = warning; "
                     "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
                     "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                     err, errlen)) {
        rc = DIR_ERR_DB;
    }
    for (int i = 0; !rc && i < n; i++) {
        char name[512], path[4096];
        bool did = false;
        snprintf(name, sizeof name, "%s/%s", subdir, names[i]);
        snprintf(path, sizeof path, "%s/%s", dirpath, names[i]);
        rc = apply_one(c, name, path, &did, err, errlen);
        if (did) {
            (*applied)++;
            DIR_LOG(DIR_LOG_INFO, "db", "applied %s", name);
        }
    }
    char ignore[128];
    dir_dbi_exec(c->pg, "SELECT pg_advisory_unlock(7270002)", ignore, sizeof ignore);
    dir_dbi_release(db, c);
out:
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* ---- the snapshot load ---- */

static const char *val(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}
static long long ival(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}
static double dval(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NAN : strtod(PQgetvalue(r, row, col), NULL);
}
static bool bval(const PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

/* The biggest tables are read on a second connection at the same time, inside the same
 * snapshot (pg_export_snapshot / SET TRANSACTION SNAPSHOT), while the first connection reads
 * the rest: PostgreSQL's work and the client's overlap on two cores. */
#define NPREFETCH 4
static const enum stmt prefetched[NPREFETCH] = {ST_CONTACTS, ST_PEOPLE, ST_MEMBERSHIPS,
                                                ST_MEMBERSHIP_AREAS};

struct prefetch {
    struct conn *c;
    char snapshot[64];
    PGresult *res[NPREFETCH];
    enum dir_rc rc;
    char err[256];
    pthread_t thread;
    bool running, joined;
};

static void *prefetch_run(void *arg)
{
    struct prefetch *p = arg;
    char sql[128];
    snprintf(sql, sizeof sql, "SET TRANSACTION SNAPSHOT '%s'", p->snapshot);
    if (!dir_dbi_exec(p->c->pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", p->err,
                      sizeof p->err) ||
        !dir_dbi_exec(p->c->pg, sql, p->err, sizeof p->err)) {
        p->rc = DIR_ERR_DB;
    }
    for (int i = 0; !p->rc && i < NPREFETCH; i++)
        if (!(p->res[i] = run(p->c, prefetched[i], 0, NULL, p->err, sizeof p->err)))
            p->rc = DIR_ERR_DB;
    char ignore[64];
    dir_dbi_exec(p->c->pg, "COMMIT", ignore, sizeof ignore);
    return NULL;
}

/* The result of ST: from the prefetch when it has it, else read now on C. */
static PGresult *fetch(struct conn *c, struct prefetch *p, enum stmt st, char *err, size_t errlen)
{
    for (int i = 0; p && p->running && i < NPREFETCH; i++) {
        if (prefetched[i] != st)
            continue;
        if (!p->joined) {
            pthread_join(p->thread, NULL);
            p->joined = true;
        }
        if (p->res[i]) {
            PGresult *r = p->res[i];
            p->res[i] = NULL;
            return r;
        }
        break; /* the prefetch failed: read it here */
    }
    return run(c, st, 0, NULL, err, errlen);
}

void dir_dbi_add_rows(enum dir_dbi_rows kind, struct dir_model_builder *b, const PGresult *r)
{
    switch (kind) {
    case DIR_ROWS_ORGS: {
        for (int i = 0; i < PQntuples(r); i++) {
            struct dir_org_row o = {
                .id = ival(r, i, 0),
                .ref = val(r, i, 1),
                .name_th = val(r, i, 2),
                .name_en = val(r, i, 3),
                .short_name_th = val(r, i, 4),
                .short_name_en = val(r, i, 5),
                .type = val(r, i, 6),
                .sector = val(r, i, 7),
                .parent_id = ival(r, i, 8),
                .status = val(r, i, 9),
                .status_date = val(r, i, 10),
                .status_reason = val(r, i, 11),
                .successor_id = ival(r, i, 12),
                .description_th = val(r, i, 13),
                .description_en = val(r, i, 14),
                .hours_th = val(r, i, 15),
                .hours_en = val(r, i, 16),
                .opened_year = (int)ival(r, i, 17),
                .address_th = val(r, i, 18),
                .address_en = val(r, i, 19),
                .area_code = val(r, i, 20),
                .lat = dval(r, i, 21),
                .lon = dval(r, i, 22),
                .coord_approx = bval(r, i, 23),
                .demo = bval(r, i, 24),
                .verified_at = val(r, i, 25),
                .verified_epoch = ival(r, i, 26),
                .verified_by = val(r, i, 27),
                .version = (int)ival(r, i, 28),
                .status_reason_en = val(r, i, 29),
            };
            o.has_coord = !isnan(o.lat) && !isnan(o.lon);
            dir_model_add_org(b, &o);
        }
        break;
    }
    case DIR_ROWS_CONTACTS: {
        for (int i = 0; i < PQntuples(r); i++) {
            struct dir_contact_row cr = {
                .org_id = ival(r, i, 0),
                .person_id = ival(r, i, 1),
                .kind = val(r, i, 2),
                .value = val(r, i, 3),
                .extension = val(r, i, 4),
                .label_th = val(r, i, 5),
                .label_en = val(r, i, 6),
                .is_public = bval(r, i, 7),
            };
            dir_model_add_contact(b, &cr);
        }
        break;
    }
    case DIR_ROWS_OFFERINGS: {
        for (int i = 0; i < PQntuples(r); i++)
            dir_model_add_offering(b, ival(r, i, 0), ival(r, i, 1), val(r, i, 2));
        break;
    }
    case DIR_ROWS_OFFERING_GROUPS: {
        for (int i = 0; i < PQntuples(r); i++)
            dir_model_add_offering_group(b, ival(r, i, 0), val(r, i, 1));
        break;
    }
    case DIR_ROWS_OFFERING_AREAS: {
        for (int i = 0; i < PQntuples(r); i++)
            dir_model_add_offering_area(b, ival(r, i, 0), val(r, i, 1), val(r, i, 2));
        break;
    }
    case DIR_ROWS_HOURS: {
        for (int i = 0; i < PQntuples(r); i++)
            dir_model_add_hours(b, ival(r, i, 0), val(r, i, 1));
        break;
    }
    case DIR_ROWS_PEOPLE: {
        for (int i = 0; i < PQntuples(r); i++) {
            struct dir_person_row p = {
                .id = ival(r, i, 0),
                .ref = val(r, i, 1),
                .name_th = val(r, i, 2),
                .name_en = val(r, i, 3),
                .title_th = val(r, i, 4),
                .title_en = val(r, i, 5),
                .profession = val(r, i, 6),
                .source = val(r, i, 7),
                .username = val(r, i, 8),
                .active = bval(r, i, 9),
                .demo = bval(r, i, 10),
                .verified_at = val(r, i, 11),
                .verified_epoch = ival(r, i, 12),
                .version = (int)ival(r, i, 13),
            };
            dir_model_add_person(b, &p);
        }
        break;
    }
    case DIR_ROWS_MEMBERSHIPS: {
        for (int i = 0; i < PQntuples(r); i++)
            dir_model_add_membership(b, ival(r, i, 0), ival(r, i, 1), ival(r, i, 2), val(r, i, 3),
                                     val(r, i, 4), val(r, i, 5));
        break;
    }
    case DIR_ROWS_MEMBERSHIP_AREAS: {
        for (int i = 0; i < PQntuples(r); i++)
            dir_model_add_membership_area(b, ival(r, i, 0), val(r, i, 1), val(r, i, 2));
        break;
    }
    case DIR_ROWS_PROGRAMMES: {
        for (int i = 0; i < PQntuples(r); i++) {
            struct dir_programme_row pr = {
                .id = ival(r, i, 0),
                .ref = val(r, i, 1),
                .name_th = val(r, i, 2),
                .name_en = val(r, i, 3),
                .description_th = val(r, i, 4),
                .description_en = val(r, i, 5),
                .source = val(r, i, 6),
                .start_year = (int)ival(r, i, 7),
                .end_year = (int)ival(r, i, 8),
                .version = (int)ival(r, i, 9),
            };
            dir_model_add_programme(b, &pr);
        }
        break;
    }
    case DIR_ROWS_PROGRAMME_AREAS: {
        for (int i = 0; i < PQntuples(r); i++)
            dir_model_add_programme_area(b, ival(r, i, 0), val(r, i, 1));
        break;
    }
    case DIR_ROWS_PROGRAMME_ORGS: {
        for (int i = 0; i < PQntuples(r); i++)
            dir_model_add_programme_org(b, ival(r, i, 0), ival(r, i, 1), val(r, i, 2), val(r, i, 3));
        break;
    }
    case DIR_ROWS_REVOKED: {
        for (int i = 0; i < PQntuples(r); i++)
            dir_model_add_revoked(b, val(r, i, 0));
        break;
    }
    case DIR_ROWS_CLIENTS: {
        for (int i = 0; i < PQntuples(r); i++) {
            uint8_t hash[DIR_AUTH_HASH_LEN];
            size_t got = 0;
            const char *hex = PQgetvalue(r, i, 2);
            if (sodium_hex2bin(hash, sizeof hash, hex, strlen(hex), NULL, &got, NULL) != 0 ||
                got != sizeof hash)
                continue;
            dir_model_add_client(b, hash, val(r, i, 0), val(r, i, 1), ival(r, i, 3), bval(r, i, 4));
        }
        break;
    }
    }
}

static enum dir_rc load_rows(struct conn *c, struct prefetch *pf, struct dir_model_builder *b,
                             int changes_kept, long long *seq, char *err, size_t errlen)
{
    PGresult *r;
#define Q(st)                                                                                      \
    if (!(r = fetch(c, pf, st, err, errlen)))                                                     \
        return DIR_ERR_DB;
    Q(ST_SEQ);
    *seq = ival(r, 0, 0);
    PQclear(r);

    char from[32];
    snprintf(from, sizeof from, "%lld", *seq > changes_kept ? *seq - changes_kept : 0);
    const char *cp[] = {from};
    if (!(r = run(c, ST_CHANGES, 1, cp, err, errlen)))
        return DIR_ERR_DB;
    for (int i = 0; i < PQntuples(r); i++)
        dir_model_add_change(b, ival(r, i, 0), val(r, i, 1), val(r, i, 2), val(r, i, 3),
                             val(r, i, 4));
    PQclear(r);

    Q(ST_AREAS);
    for (int i = 0; i < PQntuples(r); i++)
        dir_model_add_area(b, val(r, i, 0), val(r, i, 1), val(r, i, 2), val(r, i, 3), val(r, i, 4),
                           val(r, i, 5), dval(r, i, 6), dval(r, i, 7), bval(r, i, 8),
                           (int)ival(r, i, 9));
    PQclear(r);
    Q(ST_GROUPS);
    for (int i = 0; i < PQntuples(r); i++)
        dir_model_add_group(b, val(r, i, 0), val(r, i, 1), val(r, i, 2), val(r, i, 3),
                            val(r, i, 4), val(r, i, 5), (int)ival(r, i, 6));
    PQclear(r);
    Q(ST_MEMBERS);
    for (int i = 0; i < PQntuples(r); i++)
        dir_model_add_group_member(b, val(r, i, 0), val(r, i, 1));
    PQclear(r);

    static const struct {
        enum stmt st;
        enum dir_tax_kind kind;
    } taxa[] = {{ST_SERVICES, DIR_TAX_SERVICE},       {ST_TARGET_GROUPS, DIR_TAX_TARGET_GROUP},
                {ST_ORG_TYPES, DIR_TAX_ORG_TYPE},     {ST_SECTORS, DIR_TAX_SECTOR},
                {ST_PROFESSIONS, DIR_TAX_PROFESSION}, {ST_TEAM_ROLES, DIR_TAX_TEAM_ROLE}};
    for (size_t t = 0; t < sizeof taxa / sizeof taxa[0]; t++) {
        Q(taxa[t].st);
        for (int i = 0; i < PQntuples(r); i++)
            dir_model_add_taxon(b, taxa[t].kind, val(r, i, 0), val(r, i, 1), val(r, i, 2),
                                val(r, i, 3), val(r, i, 4));
        PQclear(r);
    }

    Q(ST_ORGS);
    dir_dbi_add_rows(DIR_ROWS_ORGS, b, r);
    PQclear(r);
    Q(ST_CONTACTS);
    dir_dbi_add_rows(DIR_ROWS_CONTACTS, b, r);
    PQclear(r);
    Q(ST_OFFERINGS);
    dir_dbi_add_rows(DIR_ROWS_OFFERINGS, b, r);
    PQclear(r);
    Q(ST_OFFERING_GROUPS);
    dir_dbi_add_rows(DIR_ROWS_OFFERING_GROUPS, b, r);
    PQclear(r);
    Q(ST_OFFERING_AREAS);
    dir_dbi_add_rows(DIR_ROWS_OFFERING_AREAS, b, r);
    PQclear(r);
    Q(ST_HOURS);
    dir_dbi_add_rows(DIR_ROWS_HOURS, b, r);
    PQclear(r);
    Q(ST_HOLIDAYS);
    for (int i = 0; i < PQntuples(r); i++)
        dir_model_add_holiday(b, (int)ival(r, i, 0));
    PQclear(r);

    Q(ST_PEOPLE);
    dir_dbi_add_rows(DIR_ROWS_PEOPLE, b, r);
    PQclear(r);
    Q(ST_MEMBERSHIPS);
    dir_dbi_add_rows(DIR_ROWS_MEMBERSHIPS, b, r);
    PQclear(r);
    Q(ST_MEMBERSHIP_AREAS);
    dir_dbi_add_rows(DIR_ROWS_MEMBERSHIP_AREAS, b, r);
    PQclear(r);

    Q(ST_PROGRAMMES);
    dir_dbi_add_rows(DIR_ROWS_PROGRAMMES, b, r);
    PQclear(r);
    Q(ST_PROGRAMME_AREAS);
    dir_dbi_add_rows(DIR_ROWS_PROGRAMME_AREAS, b, r);
    PQclear(r);
    Q(ST_PROGRAMME_ORGS);
    dir_dbi_add_rows(DIR_ROWS_PROGRAMME_ORGS, b, r);
    PQclear(r);

    Q(ST_REVOKED);
    dir_dbi_add_rows(DIR_ROWS_REVOKED, b, r);
    PQclear(r);

    Q(ST_CLIENTS);
    dir_dbi_add_rows(DIR_ROWS_CLIENTS, b, r);
    PQclear(r);
#undef Q
    return DIR_OK;
}

enum dir_rc dir_db_load_model(struct dir_db *db, int stale_days, int changes_kept,
                              struct dir_model **out, char *err, size_t errlen)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c)
        return DIR_ERR_DB;
    struct dir_model_builder *b = dir_model_builder_new(stale_days);
    long long seq = 0;
    enum dir_rc rc = DIR_OK;
    char ignore[128];
    struct prefetch pf = {0};
    if (!dir_dbi_exec(c->pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen))
        rc = DIR_ERR_DB;
    if (!rc && db->n > 1) {
        PGresult *x = PQexec(c->pg, "SELECT pg_export_snapshot()");
        if (PQresultStatus(x) == PGRES_TUPLES_OK && PQntuples(x) == 1 &&
            PQgetlength(x, 0, 0) < (int)sizeof pf.snapshot) {
            snprintf(pf.snapshot, sizeof pf.snapshot, "%s", PQgetvalue(x, 0, 0));
            char perr[128];
            if ((pf.c = dir_dbi_acquire(db, perr, sizeof perr)) &&
                pthread_create(&pf.thread, NULL, prefetch_run, &pf) == 0)
                pf.running = true;
        } else {
            /* Not exportable here: the failed statement aborted the transaction, so start
             * again and read everything on one connection. */
            dir_dbi_exec(c->pg, "ROLLBACK", ignore, sizeof ignore);
            if (!dir_dbi_exec(c->pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen))
                rc = DIR_ERR_DB;
        }
        PQclear(x);
    }
    if (!rc)
        rc = load_rows(c, &pf, b, changes_kept, &seq, err, errlen);
    if (pf.running && !pf.joined)
        pthread_join(pf.thread, NULL);
    for (int i = 0; i < NPREFETCH; i++)
        PQclear(pf.res[i]);
    if (pf.c)
        dir_dbi_release(db, pf.c);
    dir_dbi_exec(c->pg, rc ? "ROLLBACK" : "COMMIT", ignore, sizeof ignore);
    dir_dbi_release(db, c);
    if (rc) {
        dir_model_builder_free(b);
        return rc;
    }
    struct timespec t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rc = dir_model_finish(b, seq, out, err, errlen);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    DIR_LOG(DIR_LOG_DEBUG, "db", "snapshot: reading %ld ms, building %ld ms",
            (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000,
            (t2.tv_sec - t1.tv_sec) * 1000 + (t2.tv_nsec - t1.tv_nsec) / 1000000);
    return rc;
}

enum dir_rc dir_db_change_seq(struct dir_db *db, long long *seq, char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c)
        return DIR_ERR_DB;
    PGresult *r = run(c, ST_SEQ, 0, NULL, err, errlen);
    dir_dbi_release(db, c);
    if (!r)
        return DIR_ERR_DB;
    *seq = ival(r, 0, 0);
    PQclear(r);
    return DIR_OK;
}

enum dir_rc dir_db_put_api_client(struct dir_db *db, const char *name, const char *role,
                                  const uint8_t hash[DIR_AUTH_HASH_LEN], char *err, size_t errlen)
{
    char hex[DIR_AUTH_HASH_LEN * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, hash, DIR_AUTH_HASH_LEN);
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c)
        return DIR_ERR_DB;
    const char *p[] = {name, role, hex};
    PGresult *r = run(c, ST_PUT_CLIENT, 3, p, err, errlen);
    dir_dbi_release(db, c);
    if (!r)
        return DIR_ERR_DB;
    PQclear(r);
    return DIR_OK;
}

enum dir_rc dir_db_server_key_read(struct dir_db *db, uint8_t key[32], char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    PGresult *r = PQexec(c->pg, "SELECT encode(key, 'hex') FROM server_key LIMIT 1");
    enum dir_rc rc = DIR_OK;
    size_t got = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        dir_dbi_error(err, errlen, "reading the server key", c->pg, r);
        rc = DIR_ERR_DB;
    } else if (PQntuples(r) != 1 ||
               sodium_hex2bin(key, 32, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), NULL,
                              &got, NULL) != 0 ||
               got != 32) {
        snprintf(err, errlen, "no server key yet");
        rc = DIR_ERR_NOTFOUND;
    }
    PQclear(r);
    dir_dbi_release(db, c);
    return rc;
}

/* ---- the change listener ---- */

struct dir_db_listener {
    PGconn *pg;
};

struct dir_db_listener *dir_db_listener_open(const char *url, bool *listening, char *err,
                                             size_t errlen)
{
    PGconn *pg = connect_url(url, err, errlen);
    if (!pg)
        return NULL;
    struct dir_db_listener *l = dir_xcalloc(1, sizeof *l);
    l->pg = pg;
    char msg[256];
    /* A hot standby refuses LISTEN; the caller then relies on polling alone. */
    *listening = dir_dbi_exec(pg, "LISTEN directoryd_changes", msg, sizeof msg);
    if (!*listening)
        DIR_LOG(DIR_LOG_INFO, "db", "LISTEN unavailable (%s); polling only", msg);
    return l;
}

void dir_db_listener_close(struct dir_db_listener *l)
{
    if (!l)
        return;
    PQfinish(l->pg);
    free(l);
}

int dir_db_listener_fd(struct dir_db_listener *l)
{
    return PQstatus(l->pg) == CONNECTION_OK ? PQsocket(l->pg) : -1;
}

int dir_db_listener_drain(struct dir_db_listener *l)
{
    if (!PQconsumeInput(l->pg) || PQstatus(l->pg) != CONNECTION_OK)
        return -1;
    int n = 0;
    PGnotify *note;
    while ((note = PQnotifies(l->pg))) {
        n++;
        PQfreemem(note);
    }
    return n;
}
