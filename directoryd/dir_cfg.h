/* dir_cfg.h - all of directoryd's configuration in one table (as Redis' config.c).
 *
 * Each option has a name, a type, bounds, a default, an environment variable and a help
 * line; the same table drives the config file parser, the environment, the command-line
 * flags and --help. Precedence: default < file < environment < flag.
 *
 * Config file format: one "name = value" per line; '#' starts a comment; blank lines are
 * ignored; values may be wrapped in double quotes. Names are those of --help without "--"
 * (dashes or underscores).
 */
#ifndef DIR_CFG_H
#define DIR_CFG_H

#include "dir_rc.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct dir_cfg {
    char db[1024];          /* libpq connection URL */
    char http_addr[64];     /* address the HTTP API listens on */
    int http_port;
    int http_threads;
    int http_max_conns;
    int http_max_conns_per_addr; /* most HTTP connections from one address */
    char http_trusted_proxies[512]; /* reverse proxies whose X-Forwarded-For is believed */
    int http_header_timeout; /* seconds a request's headers may take */
    int http_body_timeout;   /* seconds a request's body may take after its headers */
    int http_idle_timeout;  /* seconds an HTTP connection may sit idle mid-request */
    int http_health_port;   /* a second listener serving /healthz only (0 = none) */
    int ldap_port;          /* the LDAP face (dir_ldap.h) */
    char ldap_addr[64];     /* address the LDAP face listens on */
    char ldap_suffix[512];  /* DN of the directory's root entry */
    int ldap_threads;       /* LDAP event loops */
    int ldap_max_conns;
    int ldap_max_message;   /* largest LDAP request accepted, bytes */
    int ldap_size_limit;    /* most entries per LDAP search or page (0 = none) */
    int ldap_time_limit;    /* most seconds per LDAP search (0 = none) */
    int ldap_idle_timeout;  /* seconds an LDAP connection may be silent (0 = never closed) */
    int ldap_message_timeout; /* seconds one LDAP request may take to arrive (0 = none) */
    int ldap_max_conns_per_addr; /* LDAP connections from one address (0 = no cap) */
    int ldap_paged_ttl;     /* seconds a paged-results cookie lives (0 = no limit) */
    int ldap_paged_max_stale; /* paged searches that may pin an old snapshot (-1 = no cap) */
    int ldap_max_queued_conn; /* bytes of requests queued per LDAP connection (0 = no cap) */
    int ldap_max_queued_bytes; /* the same over all LDAP connections (0 = no cap) */
    char ldap_tls_cert[512]; /* PEM chain for StartTLS/LDAPS; empty = no TLS */
    char ldap_tls_key[512];  /* its private key (PEM) */
    int ldaps_port;          /* LDAPS port; 0 = none */
    char schema_dir[1024];  /* migrations/ and demo/ below it */
    char webui_dir[1024];   /* the browser UI's files, served at / ("" = no UI) */
    char log_level[16];
    int refresh_ms;         /* how often the change log is polled */
    int stale_days;         /* contacts not verified for this long are marked stale */
    int db_pool;            /* connections in the libpq pool */
    int changes_kept;       /* change-log rows served by GET /v1/changes */
    /* The city LDAP: staff sync (dir_sync) and staff login (dir_session). */
    char sync_uri[512];     /* ldap://, ldaps://; empty = no city LDAP */
    char sync_binddn[512];
    char sync_password_file[1024];
    char sync_base[512];
    char sync_filter[512];
    char sync_ca_file[1024];
    int sync_starttls;      /* 1: StartTLS on ldap:// */
    int sync_tls_verify;    /* 1: verify the server certificate (default) */
    int sync_page_size;
    int sync_interval_s;
    char sync_mode[16];     /* auto, syncrepl, persist, poll, off */
    int sync_max_deactivate_pct;
    char sync_unit_map[2048]; /* "LDAP unit=organisation ref;..." */
    char role_groups[512];  /* "group cn=role,...": LDAP groups to directory roles */
    int session_hours;
    int login_brake_slots;  /* entries of the failed-login brake */
    int report_rate;        /* new reports an hour per address (or signed-in caller); 0 = no cap */
    int report_rate_slots;  /* addresses and callers the report limit tracks at once */
    int cookie_secure;      /* 1: cookies get Secure (behind TLS) */
    char central_ref[80];   /* ref of the central coordinating unit (resolver tier 4) */
    char test_now[40];      /* for tests only: the time open_now is computed for ("" = clock) */
    char config[1024];      /* the config file read, if any */
    /* --- obs --- */
    int request_log;         /* 1: one logfmt line per HTTP request (sub=access) */
    char metrics_access[16]; /* who may GET /metrics: loopback (or an admin) or key (admins) */
    int ready_max_lag;       /* /readyz: most seconds since the snapshot was confirmed current */
    char http_tls_cert[512]; /* PEM chain: the HTTP API speaks HTTPS only; empty = plain HTTP */
    char http_tls_key[512];  /* its PEM private key */
    /* --- replica --- */
    char db_write[1024];  /* libpq connection string for writes ("" = the same as db) */
    int write_wait_ms;    /* how long a write's answer waits for this daemon's model to show it */
    int migrate_on_start; /* 1: serve applies migrations through db_write when it is a primary */
    /* --- pdpa --- */
    int access_log;                /* 1: record reads of non-public contact points */
    int access_log_retention_days; /* rows older than this are purged */
    int access_log_queue;          /* reads queued in memory before new ones are dropped */
    int access_log_flush_ms;       /* how often queued reads are written */
};

/* Fills CFG with the defaults. */
void dir_cfg_defaults(struct dir_cfg *cfg);
/* Sets option NAME (dashes or underscores) from text VALUE, checking type and bounds.
 * On error returns DIR_ERR_INVALID/NOTFOUND with a message in ERR. */
enum dir_rc dir_cfg_set(struct dir_cfg *cfg, const char *name, const char *value, char *err,
                        size_t errlen);
/* Reads a config file (format above); errors name the line. */
enum dir_rc dir_cfg_load_file(struct dir_cfg *cfg, const char *path, char *err, size_t errlen);
/* Applies every DIRECTORYD_* environment variable of the table. */
enum dir_rc dir_cfg_load_env(struct dir_cfg *cfg, char *err, size_t errlen);
/* Full resolution: defaults, then the file named by --config or DIRECTORYD_CONFIG, then the
 * environment, then the flags in ARGV. Non-option arguments are moved, in order, to the
 * front of ARGV[1..]; their count is stored in *NPOS. */
enum dir_rc dir_cfg_resolve(struct dir_cfg *cfg, int argc, char **argv, int *npos, char *err,
                            size_t errlen);
/* Reads a secret (a password) from PATH into BUF, without its trailing newline; the value
 * never goes to the log. A file group or others may read (not mode 0600 or stricter) is
 * refused. */
enum dir_rc dir_cfg_read_secret(const char *path, char *buf, size_t n, char *err, size_t errlen);
/* Prints every option with its flag, environment variable, default and help. */
void dir_cfg_print_help(FILE *out);

/* --- obs: reloading on SIGHUP --- */

/* Calls CB for each option whose value differs between OLD and NEW, in table order, with
 * whether it can change without a restart and, for those only, its new value as text (the
 * others' values are never shown: one may hold a secret, e.g. a password in db). */
void dir_cfg_diff(const struct dir_cfg *old, const struct dir_cfg *new_cfg,
                  void (*cb)(void *cls, const char *name, bool reloadable, const char *value),
                  void *cls);
/* Copies the options that can change without a restart from SRC into DST, under the write
 * side of the live lock. */
void dir_cfg_copy_reloadable(struct dir_cfg *dst, const struct dir_cfg *src);
/* Readers of a reloadable text option of the daemon's configuration (role_groups) hold the
 * read side of this lock while they copy it. */
void dir_cfg_live_rdlock(void);
void dir_cfg_live_unlock(void);

/* --- pkg --- */
/* One option of the table, read-only (for the man page, dir_usage.c). The strings are the
 * table's own (static; nobody frees them). */
struct dir_cfg_info {
    const char *name;    /* config file name, e.g. "http_port" (the flag is --http-port) */
    const char *env;     /* environment variable */
    const char *help;    /* one line, no trailing period */
    const char *def;     /* the table's default ("" = none); see dir_cfg_data_dir */
    int is_int;          /* 1: a whole number from min to max */
    long min, max;
    int is_data_dir;     /* 1: schema_dir or webui_dir, whose default depends on the layout */
};
/* Fills *INFO with option I of the table; returns 0 past the end. */
int dir_cfg_info(size_t i, struct dir_cfg_info *info);
/* The installed layout: when the running binary is PREFIX/sbin/directoryd (its
 * CMAKE_INSTALL_SBINDIR) and PREFIX/share/directoryd/schema/migrations exists, writes
 * PREFIX/share/directoryd into BUF and returns 1 (schema_dir and webui_dir then default to
 * its schema/ and webui/); otherwise (a build tree) returns 0 and the compiled-in source-tree
 * defaults stand. */
int dir_cfg_data_dir(char *buf, size_t n);

#endif
