/* dir_cfg.c - the configuration table and its file, environment and flag parsers. */
#include "dir_cfg.h"
#include "dir_version.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum opt_type { OPT_STR, OPT_INT };

struct opt {
    const char *name;
    enum opt_type type;
    size_t offset, size; /* size of the char array for OPT_STR */
    long min, max;
    const char *def;
    const char *env;
    const char *help;
    unsigned flags; /* OPT_RELOAD */
};

/* obs: the option can change without a restart (SIGHUP applies it). */
#define OPT_RELOAD 1u

#define STR(f) OPT_STR, offsetof(struct dir_cfg, f), sizeof(((struct dir_cfg *)0)->f), 0, 0
#define INT(f, lo, hi) OPT_INT, offsetof(struct dir_cfg, f), 0, lo, hi

/* An entry may leave FLAGS out (0: needs a restart). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct opt opts[] = {
    {"config", STR(config), "", "DIRECTORYD_CONFIG", "config file to read (name = value lines)"},
    {"db", STR(db), "postgresql://postgres@127.0.0.1:5432/directoryd", "DIRECTORYD_DB",
     "PostgreSQL connection string (libpq) the read model is loaded and polled from; may be a "
     "hot standby (see db_write)"},
    {"http_addr", STR(http_addr), "127.0.0.1", "DIRECTORYD_HTTP_ADDR",
     "address the HTTP API listens on (loopback by default)"},
    {"http_port", INT(http_port, 0, 65535), "8080", "DIRECTORYD_HTTP_PORT", "HTTP API port"},
    {"http_threads", INT(http_threads, 1, 64), "2", "DIRECTORYD_HTTP_THREADS",
     "HTTP worker threads"},
    {"http_max_conns", INT(http_max_conns, 1, 100000), "1024", "DIRECTORYD_HTTP_MAX_CONNS",
     "most concurrent HTTP connections (more are refused at accept)"},
    {"http_max_conns_per_addr", INT(http_max_conns_per_addr, 1, 100000), "64",
     "DIRECTORYD_HTTP_MAX_CONNS_PER_ADDR", "most concurrent HTTP connections from one address"},
    {"http_trusted_proxies", STR(http_trusted_proxies), "", "DIRECTORYD_HTTP_TRUSTED_PROXIES",
     "reverse proxies (addresses or CIDR blocks, comma-separated) whose X-Forwarded-For names "
     "the caller for the login brake, the report limiter and the audit; none by default"},
    {"http_header_timeout", INT(http_header_timeout, 1, 3600), "10",
     "DIRECTORYD_HTTP_HEADER_TIMEOUT",
     "seconds a request's headers may take from connect (or from the previous answer on a "
     "kept-alive connection); a slower client is disconnected"},
    {"http_body_timeout", INT(http_body_timeout, 1, 3600), "30", "DIRECTORYD_HTTP_BODY_TIMEOUT",
     "seconds a request's body may take after its headers; a slower client is disconnected"},
    {"http_idle_timeout", INT(http_idle_timeout, 1, 3600), "30", "DIRECTORYD_HTTP_IDLE_TIMEOUT",
     "seconds an HTTP connection may send nothing while its body or answer is under way"},
    {"http_health_port", INT(http_health_port, 0, 65535), "0", "DIRECTORYD_HTTP_HEALTH_PORT",
     "a second listener on http_addr serving only /healthz and /readyz (for probes; never "
     "crowded out by API clients); 0 = none"},
    {"ldap_port", INT(ldap_port, 0, 65535), "3890", "DIRECTORYD_LDAP_PORT",
     "LDAP face port (read-only LDAPv3)"},
    {"ldap_addr", STR(ldap_addr), "127.0.0.1", "DIRECTORYD_LDAP_ADDR",
     "address the LDAP face listens on (loopback by default)"},
    {"ldap_suffix", STR(ldap_suffix), "ou=childnet,dc=bangkok,dc=go,dc=th",
     "DIRECTORYD_LDAP_SUFFIX", "DN of the directory tree's root entry (LDAP and /v1/search)"},
    {"ldap_threads", INT(ldap_threads, 1, 64), "2", "DIRECTORYD_LDAP_THREADS",
     "LDAP event-loop threads"},
    {"ldap_max_conns", INT(ldap_max_conns, 1, 100000), "4096", "DIRECTORYD_LDAP_MAX_CONNS",
     "most concurrent LDAP connections (more are closed at once)"},
    {"ldap_max_message", INT(ldap_max_message, 1024, 16777216), "262144",
     "DIRECTORYD_LDAP_MAX_MESSAGE",
     "largest LDAP request accepted, in bytes; a larger one closes the connection"},
    {"ldap_size_limit", INT(ldap_size_limit, 0, 100000000), "500", "DIRECTORYD_LDAP_SIZE_LIMIT",
     "most entries one LDAP search (or one page of a paged search) returns; 0 = no cap",
     OPT_RELOAD},
    {"ldap_time_limit", INT(ldap_time_limit, 0, 3600), "30", "DIRECTORYD_LDAP_TIME_LIMIT",
     "most seconds one LDAP search may take; 0 = no cap", OPT_RELOAD},
    {"ldap_idle_timeout", INT(ldap_idle_timeout, 0, 86400), "300", "DIRECTORYD_LDAP_IDLE_TIMEOUT",
     "seconds an LDAP connection may send and read nothing before it is closed (also a client "
     "that stopped reading its answers); 0 = never"},
    {"ldap_message_timeout", INT(ldap_message_timeout, 0, 3600), "30",
     "DIRECTORYD_LDAP_MESSAGE_TIMEOUT",
     "seconds one LDAP request may take to arrive once its first bytes came, however slowly "
     "the rest trickles in; a slower connection is closed; 0 = no deadline"},
    {"ldap_max_conns_per_addr", INT(ldap_max_conns_per_addr, 0, 100000), "256",
     "DIRECTORYD_LDAP_MAX_CONNS_PER_ADDR",
     "most concurrent LDAP connections from one IP address (more are closed at once); 0 = no cap"},
    {"ldap_paged_ttl", INT(ldap_paged_ttl, 0, 86400), "300", "DIRECTORYD_LDAP_PAGED_TTL",
     "seconds a paged-results cookie stays valid; the next page after that answers "
     "unwillingToPerform (start the search again); 0 = no limit"},
    {"ldap_paged_max_stale", INT(ldap_paged_max_stale, -1, 100000), "2",
     "DIRECTORYD_LDAP_PAGED_MAX_STALE",
     "open paged searches allowed to keep an older directory snapshot alive, server-wide; "
     "beyond that, those on an old snapshot expire within a second; -1 = no cap"},
    {"ldap_max_queued_conn", INT(ldap_max_queued_conn, 0, 1073741824), "1048576",
     "DIRECTORYD_LDAP_MAX_QUEUED_CONN",
     "bytes of pipelined LDAP requests queued on one connection before it is read no further "
     "(one request is always read); 0 = no cap"},
    {"ldap_max_queued_bytes", INT(ldap_max_queued_bytes, 0, 2147483647), "67108864",
     "DIRECTORYD_LDAP_MAX_QUEUED_BYTES",
     "bytes of queued LDAP requests (and of requests still arriving) over all connections "
     "before connections with a request already queued are read no further, and those with a "
     "request incomplete for 2 s are closed; 0 = no cap"},
    {"ldap_tls_cert", STR(ldap_tls_cert), "", "DIRECTORYD_LDAP_TLS_CERT",
     "PEM certificate chain (server certificate first) for LDAP StartTLS and LDAPS; empty = no "
     "TLS (StartTLS answers unavailable)"},
    {"ldap_tls_key", STR(ldap_tls_key), "", "DIRECTORYD_LDAP_TLS_KEY",
     "PEM private key of ldap_tls_cert (keep it readable by directoryd only)"},
    {"ldaps_port", INT(ldaps_port, 0, 65535), "0", "DIRECTORYD_LDAPS_PORT",
     "LDAPS port (TLS from the first byte, on ldap_addr); 0 = none; needs ldap_tls_cert"},
    {"schema_dir", STR(schema_dir), DIR_DEFAULT_SCHEMA_DIR, "DIRECTORYD_SCHEMA_DIR",
     "directory holding migrations/ and demo/"},
    {"webui_dir", STR(webui_dir), DIR_DEFAULT_WEBUI_DIR, "DIRECTORYD_WEBUI_DIR",
     "folder of the browser UI's files, read once at start and served at /; empty = no UI"},
    {"log_level", STR(log_level), "info", "DIRECTORYD_LOG_LEVEL", "debug, info, warn or error",
     OPT_RELOAD},
    {"refresh_ms", INT(refresh_ms, 10, 60000), "250", "DIRECTORYD_REFRESH_MS",
     "how often the change log is polled, in milliseconds (also woken by NOTIFY)"},
    {"stale_days", INT(stale_days, 1, 36500), "365", "DIRECTORYD_STALE_DAYS",
     "contacts not verified for this many days are marked stale", OPT_RELOAD},
    {"db_pool", INT(db_pool, 1, 64), "4", "DIRECTORYD_DB_POOL", "PostgreSQL connections kept"},
    {"changes_kept", INT(changes_kept, 0, 10000000), "100000", "DIRECTORYD_CHANGES_KEPT",
     "newest change-log rows kept in memory for GET /v1/changes"},
    {"sync_uri", STR(sync_uri), "", "DIRECTORYD_SYNC_URI",
     "the city LDAP (ldap:// or ldaps://) for staff sync and login; empty = none"},
    {"sync_binddn", STR(sync_binddn), "", "DIRECTORYD_SYNC_BINDDN", "DN the sync and login search bind as"},
    {"sync_password_file", STR(sync_password_file), "", "DIRECTORYD_SYNC_PASSWORD_FILE",
     "file holding that DN's password (never on the command line)"},
    {"sync_base", STR(sync_base), "", "DIRECTORYD_SYNC_BASE", "subtree of the city LDAP with the staff"},
    {"sync_filter", STR(sync_filter), "(objectClass=inetOrgPerson)", "DIRECTORYD_SYNC_FILTER",
     "which entries are staff"},
    {"sync_ca_file", STR(sync_ca_file), "", "DIRECTORYD_SYNC_CA_FILE", "CA certificates for TLS"},
    {"sync_starttls", INT(sync_starttls, 0, 1), "0", "DIRECTORYD_SYNC_STARTTLS", "1: StartTLS on ldap://"},
    {"sync_tls_verify", INT(sync_tls_verify, 0, 1), "1", "DIRECTORYD_SYNC_TLS_VERIFY",
     "1: verify the city LDAP's certificate"},
    {"sync_page_size", INT(sync_page_size, 1, 100000), "500", "DIRECTORYD_SYNC_PAGE_SIZE",
     "paged-results page size of a full sync"},
    {"sync_interval_s", INT(sync_interval_s, 5, 86400), "300", "DIRECTORYD_SYNC_INTERVAL_S",
     "seconds between scheduled syncs", OPT_RELOAD},
    {"sync_mode", STR(sync_mode), "auto", "DIRECTORYD_SYNC_MODE",
     "auto, syncrepl, persist, poll or off"},
    {"sync_max_deactivate_pct", INT(sync_max_deactivate_pct, 0, 100), "10",
     "DIRECTORYD_SYNC_MAX_DEACTIVATE_PCT", "a run deactivating more than this share stops",
     OPT_RELOAD},
    {"sync_unit_map", STR(sync_unit_map), "", "DIRECTORYD_SYNC_UNIT_MAP",
     "LDAP unit to organisation ref, 'unit=ref;unit=ref'"},
    {"role_groups", STR(role_groups), "directory-admins=admin,directory-coordinators=coordinator",
     "DIRECTORYD_ROLE_GROUPS", "city LDAP groups (cn) that give staff a role; others are caseworkers",
     OPT_RELOAD},
    {"session_hours", INT(session_hours, 1, 720), "8", "DIRECTORYD_SESSION_HOURS",
     "how long a staff session lasts"},
    {"login_brake_slots", INT(login_brake_slots, 16, 1048576), "16384",
     "DIRECTORYD_LOGIN_BRAKE_SLOTS",
     "usernames and addresses the failed-login brake tracks at once (160 bytes each)"},
    {"report_rate", INT(report_rate, 0, 100000), "10", "DIRECTORYD_REPORT_RATE",
     "most reports of mistakes (POST /v1/reports) an hour from one client address, or from one "
     "API client or staff member when signed in; more answer 429; 0 = no cap"},
    {"report_rate_slots", INT(report_rate_slots, 16, 1048576), "4096",
     "DIRECTORYD_REPORT_RATE_SLOTS",
     "addresses and callers the report limit tracks at once (about 100 bytes each)"},
    {"cookie_secure", INT(cookie_secure, 0, 1), "0", "DIRECTORYD_COOKIE_SECURE",
     "1: session cookies are Secure (set when served behind TLS)"},
    {"central_ref", STR(central_ref), "bma-child-protection-unit", "DIRECTORYD_CENTRAL_REF",
     "ref of the central coordinating unit, the resolver's last resort"},
    {"test_now", STR(test_now), "", "DIRECTORYD_TEST_NOW",
     "FOR TESTS ONLY: answer open_now and next_change as if it were always this time "
     "(YYYY-MM-DDTHH:MM:SS+07:00 or ...Z); empty = the real clock"},
    /* --- obs --- */
    {"request_log", INT(request_log, 0, 1), "1", "DIRECTORYD_REQUEST_LOG",
     "1: one logfmt line per HTTP request on the log (request id, method, route pattern, "
     "status, duration, bytes, actor kind; never paths, queries or keys)",
     OPT_RELOAD},
    {"metrics_access", STR(metrics_access), "loopback", "DIRECTORYD_METRICS_ACCESS",
     "who may read GET /metrics: loopback (callers on 127.0.0.1 or ::1, or an admin) or key "
     "(admins only: an admin API key or session)",
     OPT_RELOAD},
    {"ready_max_lag", INT(ready_max_lag, 1, 86400), "30", "DIRECTORYD_READY_MAX_LAG",
     "/readyz answers 503 when the served snapshot was last confirmed current with the "
     "database longer ago than this many seconds",
     OPT_RELOAD},
    {"http_tls_cert", STR(http_tls_cert), "", "DIRECTORYD_HTTP_TLS_CERT",
     "PEM certificate chain (server certificate first): the HTTP API speaks HTTPS only, with "
     "HSTS; empty = plain HTTP"},
    {"http_tls_key", STR(http_tls_key), "", "DIRECTORYD_HTTP_TLS_KEY",
     "PEM private key of http_tls_cert (keep it readable by directoryd only)"},
    /* --- replica --- */
    {"db_write", STR(db_write), "", "DIRECTORYD_DB_WRITE",
     "PostgreSQL connection string (libpq) for writes, sessions, audit, sync and imports; "
     "empty = the same as db. With db on a hot standby, point this at the primary; a "
     "multi-host string with target_session_attrs=read-write follows a failover"},
    {"write_wait_ms", INT(write_wait_ms, 1, 60000), "2000", "DIRECTORYD_WRITE_WAIT_MS",
     "how long a write's answer waits until this daemon's read model shows the write (db may "
     "lag behind db_write); after that it answers anyway with X-Directoryd-Stale"},
    {"migrate_on_start", INT(migrate_on_start, 0, 1), "1", "DIRECTORYD_MIGRATE_ON_START",
     "1: serve first applies new migrations through db_write when that is a primary it can "
     "reach; 0 (or a standby, or an unreachable primary): serve only checks that db has every "
     "migration and refuses to start if not (run `directoryd migrate` against the primary)"},
    /* --- pdpa --- */
    {"access_log", INT(access_log, 0, 1), "1", "DIRECTORYD_ACCESS_LOG",
     "1: record who read people's non-public contact points (PDPA access log, table "
     "access_log); 0: record nothing"},
    {"access_log_retention_days", INT(access_log_retention_days, 1, 36500), "365",
     "DIRECTORYD_ACCESS_LOG_RETENTION_DAYS",
     "access log rows older than this are purged (at start, then daily)"},
    {"access_log_queue", INT(access_log_queue, 16, 16777216), "200000",
     "DIRECTORYD_ACCESS_LOG_QUEUE",
     "reads kept in memory until written (about 100 bytes each); more are dropped and counted"},
    {"access_log_flush_ms", INT(access_log_flush_ms, 10, 60000), "1000",
     "DIRECTORYD_ACCESS_LOG_FLUSH_MS", "how often queued reads are written to PostgreSQL"},
};
#pragma GCC diagnostic pop

#define NOPTS (sizeof opts / sizeof opts[0])

static const struct opt *find(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const char *a = opts[i].name;
        size_t j = 0;
        for (; j < len && a[j]; j++) {
            char c = name[j] == '-' ? '_' : name[j];
            if (c != a[j])
                break;
        }
        if (j == len && a[j] == '\0')
            return &opts[i];
    }
    return NULL;
}

static enum dir_rc set_opt(struct dir_cfg *cfg, const struct opt *o, const char *value, char *err,
                           size_t errlen)
{
    char *dst = (char *)cfg + o->offset;
    if (o->type == OPT_STR) {
        if (strlen(value) >= o->size) {
            snprintf(err, errlen, "%s: value longer than %zu bytes", o->name, o->size - 1);
            return DIR_ERR_INVALID;
        }
        memcpy(dst, value, strlen(value) + 1);
        return DIR_OK;
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < o->min || v > o->max) {
        snprintf(err, errlen, "%s: '%.40s' is not a whole number from %ld to %ld", o->name, value,
                 o->min, o->max);
        return DIR_ERR_INVALID;
    }
    *(int *)dst = (int)v;
    return DIR_OK;
}

/* --- pkg: the installed layout --- */
static int is_data_dir(const struct opt *o)
{
    return o->offset == offsetof(struct dir_cfg, schema_dir) ||
           o->offset == offsetof(struct dir_cfg, webui_dir);
}

int dir_cfg_data_dir(char *buf, size_t n)
{
    char exe[PATH_MAX], probe[PATH_MAX + 64];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return 0;
    exe[len] = '\0';
    /* PREFIX/SBINDIR/directoryd: strip the file name, then SBINDIR ("sbin"). */
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    size_t sl = strlen(DIR_INSTALL_SBINDIR), el = strlen(exe);
    if (el <= sl || exe[el - sl - 1] != '/' || strcmp(exe + el - sl, DIR_INSTALL_SBINDIR) != 0)
        return 0;
    exe[el - sl - 1] = '\0';
    int w = snprintf(buf, n, "%s/%s", exe, DIR_INSTALL_DATADIR);
    if (w < 0 || (size_t)w >= n)
        return 0;
    snprintf(probe, sizeof probe, "%s/schema/migrations", buf);
    struct stat st;
    return stat(probe, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The default of O: the table's, except the data directories of an installed binary. BUF
 * holds the computed text. */
static const char *opt_default(const struct opt *o, char *buf, size_t n)
{
    char data[PATH_MAX];
    if (!is_data_dir(o) || !dir_cfg_data_dir(data, sizeof data))
        return o->def;
    snprintf(buf, n, "%s/%s", data,
             o->offset == offsetof(struct dir_cfg, schema_dir) ? "schema" : "webui");
    return buf;
}

int dir_cfg_info(size_t i, struct dir_cfg_info *info)
{
    if (i >= NOPTS)
        return 0;
    const struct opt *o = &opts[i];
    *info = (struct dir_cfg_info){.name = o->name,
                                  .env = o->env,
                                  .help = o->help,
                                  .def = o->def,
                                  .is_int = o->type == OPT_INT,
                                  .min = o->min,
                                  .max = o->max,
                                  .is_data_dir = is_data_dir(o)};
    return 1;
}

void dir_cfg_defaults(struct dir_cfg *cfg)
{
    char err[256], buf[PATH_MAX + 16];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NOPTS; i++)
        (void)set_opt(cfg, &opts[i], opt_default(&opts[i], buf, sizeof buf), err, sizeof err);
}

enum dir_rc dir_cfg_set(struct dir_cfg *cfg, const char *name, const char *value, char *err,
                        size_t errlen)
{
    const struct opt *o = find(name, strlen(name));
    if (!o) {
        snprintf(err, errlen, "unknown option '%s' (see --help)", name);
        return DIR_ERR_NOTFOUND;
    }
    return set_opt(cfg, o, value, err, errlen);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

enum dir_rc dir_cfg_load_file(struct dir_cfg *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return DIR_ERR_IO;
    }
    char line[2048], msg[256];
    int lineno = 0;
    enum dir_rc rc = DIR_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
            rc = DIR_ERR_INVALID;
            break;
        }
        *eq = '\0';
        char *name = trim(s), *value = trim(eq + 1);
        size_t vn = strlen(value);
        if (vn >= 2 && value[0] == '"' && value[vn - 1] == '"') {
            value[vn - 1] = '\0';
            value++;
        }
        if (strcmp(name, "config") == 0 || strcmp(name, "config_file") == 0)
            continue;
        rc = dir_cfg_set(cfg, name, value, msg, sizeof msg);
        if (rc) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            break;
        }
    }
    fclose(f);
    return rc;
}

enum dir_rc dir_cfg_load_env(struct dir_cfg *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const char *v = getenv(opts[i].env);
        if (v && *v) {
            char msg[256];
            if (set_opt(cfg, &opts[i], v, msg, sizeof msg)) {
                snprintf(err, errlen, "environment %s: %s", opts[i].env, msg);
                return DIR_ERR_INVALID;
            }
        }
    }
    return DIR_OK;
}

/* Finds "--config FILE" / "--config=FILE" among the flags without changing anything. */
static const char *config_flag(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
    }
    return NULL;
}

enum dir_rc dir_cfg_resolve(struct dir_cfg *cfg, int argc, char **argv, int *npos, char *err,
                            size_t errlen)
{
    enum dir_rc rc;
    dir_cfg_defaults(cfg);
    const char *file = config_flag(argc, argv);
    if (!file)
        file = getenv("DIRECTORYD_CONFIG");
    if (file && *file) {
        if ((rc = dir_cfg_load_file(cfg, file, err, errlen)))
            return rc;
        snprintf(cfg->config, sizeof cfg->config, "%s", file);
    }
    if ((rc = dir_cfg_load_env(cfg, err, errlen)))
        return rc;
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            argv[1 + pos++] = argv[i];
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '='), *value;
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = find(name, len);
        if (!o) {
            /* Flags of the commands themselves (--once, --force...) stay positional. */
            argv[1 + pos++] = argv[i];
            continue;
        }
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            snprintf(err, errlen, "--%s needs a value", o->name);
            return DIR_ERR_INVALID;
        }
        if ((rc = set_opt(cfg, o, value, err, errlen)))
            return rc;
    }
    *npos = pos;
    return DIR_OK;
}

enum dir_rc dir_cfg_read_secret(const char *path, char *buf, size_t n, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read the password file %s: %s", path, strerror(errno));
        return DIR_ERR_IO;
    }
    /* README promises mode 0600: a secret others can read is refused, not used. */
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        snprintf(err, errlen, "cannot read the password file %s: %s", path, strerror(errno));
        fclose(f);
        return DIR_ERR_IO;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen,
                 "the password file %s can be read by others (mode %04o): make it mode 0600 "
                 "(chmod 600)",
                 path, (unsigned)(st.st_mode & 07777));
        fclose(f);
        return DIR_ERR_INVALID;
    }
    size_t got = fread(buf, 1, n - 1, f);
    fclose(f);
    buf[got] = '\0';
    while (got && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
        buf[--got] = '\0';
    if (!got) {
        snprintf(err, errlen, "the password file %s is empty", path);
        return DIR_ERR_INVALID;
    }
    return DIR_OK;
}

/* --- obs: reloading --- */

static pthread_rwlock_t live_lock = PTHREAD_RWLOCK_INITIALIZER;

void dir_cfg_live_rdlock(void)
{
    pthread_rwlock_rdlock(&live_lock);
}

void dir_cfg_live_unlock(void)
{
    pthread_rwlock_unlock(&live_lock);
}

static bool opt_equal(const struct opt *o, const struct dir_cfg *a, const struct dir_cfg *b)
{
    const char *x = (const char *)a + o->offset, *y = (const char *)b + o->offset;
    if (o->type == OPT_STR) return strcmp(x, y) == 0;
    return *(const int *)x == *(const int *)y;
}

void dir_cfg_diff(const struct dir_cfg *old, const struct dir_cfg *new_cfg,
                  void (*cb)(void *cls, const char *name, bool reloadable, const char *value),
                  void *cls)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *o = &opts[i];
        if (strcmp(o->name, "config") == 0 || opt_equal(o, old, new_cfg)) continue;
        bool reload = o->flags & OPT_RELOAD;
        char num[24];
        const char *v = NULL;
        if (reload && o->type == OPT_STR) {
            v = (const char *)new_cfg + o->offset;
        } else if (reload) {
            snprintf(num, sizeof num, "%d", *(const int *)((const char *)new_cfg + o->offset));
            v = num;
        }
        cb(cls, o->name, reload, v);
    }
}

void dir_cfg_copy_reloadable(struct dir_cfg *dst, const struct dir_cfg *src)
{
    pthread_rwlock_wrlock(&live_lock);
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *o = &opts[i];
        if (!(o->flags & OPT_RELOAD)) continue;
        char *d = (char *)dst + o->offset;
        const char *s = (const char *)src + o->offset;
        if (o->type == OPT_STR)
            memcpy(d, s, o->size);
        else /* read by other threads without the lock (one int: never torn) */
            __atomic_store_n((int *)d, *(const int *)s, __ATOMIC_RELAXED);
    }
    pthread_rwlock_unlock(&live_lock);
}

void dir_cfg_print_help(FILE *out)
{
    fprintf(out, "Options (flag / environment variable / config file name; default):\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", opts[i].name);
        for (char *p = flag + 2; *p; p++)
            if (*p == '_')
                *p = '-';
        fprintf(out, "  %-18s %-26s %s", flag, opts[i].env, opts[i].help);
        if (opts[i].type == OPT_INT)
            fprintf(out, " [%ld..%ld]", opts[i].min, opts[i].max);
        char buf[PATH_MAX + 16];
        const char *def = opt_default(&opts[i], buf, sizeof buf);
        fprintf(out, " (default: %s)%s\n", *def ? def : "none",
                (opts[i].flags & OPT_RELOAD) ? " (SIGHUP reloads it)" : "");
    }
}
