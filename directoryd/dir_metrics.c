/* dir_metrics.c - the metric table, its lock-free storage and the Prometheus text exposition.
 *
 * Storage is static arrays of atomic counters updated with relaxed operations: a request
 * costs a few uncontended-or-not atomic adds and a short string hash (its route's slot),
 * never a lock. Route slots are claimed on first use with a compare-and-swap; routes are a
 * fixed set of static patterns, so the table never fills in practice (extra ones are counted
 * under "(other)").
 */
#include "dir_metrics.h"
#include "dir_pdpa.h"
#include "dir_version.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- label sets ---- */

#define MAX_ROUTES 256 /* route slots (a power of two); the last is "(other)" */
#define ROUTE_OTHER (MAX_ROUTES - 1)

static const char *const methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                      "PATCH", "DELETE", "OPTIONS", "other"};
#define NMETHODS (sizeof methods / sizeof methods[0])

static const int statuses[] = {200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308,
                               400, 401, 403, 404, 405, 406, 409, 410, 411, 412, 413,
                               414, 415, 416, 422, 428, 429, 431, 500, 501, 503};
#define NSTATUS (sizeof statuses / sizeof statuses[0] + 1) /* the last: any other */

/* LDAP responses by their protocol tag (RFC 4511), and the operation each answers. */
static const struct {
    unsigned long tag;
    const char *name;
} ldap_ops[] = {{0x61, "bind"},    {0x65, "search"},   {0x67, "modify"},
                {0x69, "add"},     {0x6b, "delete"},   {0x6d, "modrdn"},
                {0x6f, "compare"}, {0x78, "extended"}, {0, "other"}};
#define NLDAPOPS (sizeof ldap_ops / sizeof ldap_ops[0])
#define NLDAPRC 129 /* result codes 0..127, then any other */

static const char *const ldap_rc_names[NLDAPRC] = {
    [0] = "success",
    [1] = "operationsError",
    [2] = "protocolError",
    [3] = "timeLimitExceeded",
    [4] = "sizeLimitExceeded",
    [5] = "compareFalse",
    [6] = "compareTrue",
    [7] = "authMethodNotSupported",
    [8] = "strongerAuthRequired",
    [10] = "referral",
    [11] = "adminLimitExceeded",
    [12] = "unavailableCriticalExtension",
    [13] = "confidentialityRequired",
    [14] = "saslBindInProgress",
    [16] = "noSuchAttribute",
    [17] = "undefinedAttributeType",
    [18] = "inappropriateMatching",
    [19] = "constraintViolation",
    [20] = "attributeOrValueExists",
    [21] = "invalidAttributeSyntax",
    [32] = "noSuchObject",
    [33] = "aliasProblem",
    [34] = "invalidDNSyntax",
    [36] = "aliasDereferencingProblem",
    [48] = "inappropriateAuthentication",
    [49] = "invalidCredentials",
    [50] = "insufficientAccessRights",
    [51] = "busy",
    [52] = "unavailable",
    [53] = "unwillingToPerform",
    [54] = "loopDetect",
    [64] = "namingViolation",
    [65] = "objectClassViolation",
    [66] = "notAllowedOnNonLeaf",
    [67] = "notAllowedOnRDN",
    [68] = "entryAlreadyExists",
    [69] = "objectClassModsProhibited",
    [71] = "affectsMultipleDSAs",
    [80] = "other",
};

static const char *const sync_statuses[] = {"ok",      "attention", "failed",
                                            "refused", "dry-run",   "other"};
#define NSYNC (sizeof sync_statuses / sizeof sync_statuses[0])
static const char *const sync_changes[] = {"created", "updated", "deactivated", "reactivated",
                                           "skipped"};
#define NSYNCCH (sizeof sync_changes / sizeof sync_changes[0])

/* Latency buckets, upper bounds in microseconds (the exposition shows seconds). */
static const long long bucket_us[] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                      100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0] + 1) /* the last: +Inf */

struct hist {
    atomic_ullong bucket[NBUCKETS]; /* per bucket (not cumulative) */
    atomic_ullong sum_us, count;
};

/* ---- storage ---- */

static struct {
    _Atomic(const char *) route[MAX_ROUTES]; /* the label of each claimed slot */
    atomic_ullong requests[MAX_ROUTES][NMETHODS][NSTATUS];
    struct hist http_latency[MAX_ROUTES];
    atomic_ullong ldap[NLDAPOPS][NLDAPRC];
    struct hist ldap_latency[NLDAPOPS];
    atomic_llong conns[2];
    atomic_llong snapshot_seq;
    atomic_llong snapshot_ms;   /* CLOCK_MONOTONIC ms of the last publish; 0: none yet */
    atomic_llong refresh_ok_ms; /* CLOCK_MONOTONIC ms of the last confirmation */
    atomic_ullong snapshots;    /* versions published */
    atomic_ullong sync_runs[NSYNC];
    atomic_ullong sync_entries[NSYNCCH];
    atomic_llong pool_size, pool_in_use;
    atomic_ullong pool_acquired, pool_waits, db_errors;
} reg;

#define ADD(a, n) atomic_fetch_add_explicit(&(a), (n), memory_order_relaxed)
#define GET(a) atomic_load_explicit(&(a), memory_order_relaxed)
#define SET(a, v) atomic_store_explicit(&(a), (v), memory_order_relaxed)

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The slot of route label LABEL: found by its text (two copies of one pattern share it),
 * claimed with a compare-and-swap when new. */
static size_t route_slot(const char *label)
{
    uint64_t h = 14695981039346656037ULL;
    for (const char *p = label; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    size_t i = (size_t)h & (MAX_ROUTES - 1);
    for (size_t probe = 0; probe < MAX_ROUTES - 1; probe++, i = (i + 1) & (MAX_ROUTES - 1)) {
        if (i == ROUTE_OTHER) i = 0;
        const char *cur = atomic_load_explicit(&reg.route[i], memory_order_acquire);
        if (!cur) {
            const char *expected = NULL;
            if (atomic_compare_exchange_strong_explicit(&reg.route[i], &expected, label,
                                                        memory_order_acq_rel, memory_order_acquire))
                return i;
            cur = expected; /* another thread claimed it meanwhile */
        }
        if (cur == label || strcmp(cur, label) == 0) return i;
    }
    return ROUTE_OTHER;
}

static void observe(struct hist *h, long long us)
{
    if (us < 0) us = 0;
    size_t b = 0;
    while (b < NBUCKETS - 1 && us > bucket_us[b])
        b++;
    ADD(h->bucket[b], 1);
    ADD(h->sum_us, (unsigned long long)us);
    ADD(h->count, 1);
}

void dir_metrics_http_request(const char *route, const char *method, int status, long long us)
{
    size_t r = route_slot(route ? route : DIR_METRICS_ROUTE_NONE), m = NMETHODS - 1,
           s = NSTATUS - 1;
    for (size_t i = 0; method && i < NMETHODS - 1; i++)
        if (strcmp(method, methods[i]) == 0) {
            m = i;
            break;
        }
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status) {
            s = i;
            break;
        }
    ADD(reg.requests[r][m][s], 1);
    observe(&reg.http_latency[r], us);
}

void dir_metrics_ldap_op(unsigned long tag, int result, long long us)
{
    size_t o = NLDAPOPS - 1;
    for (size_t i = 0; i < NLDAPOPS - 1; i++)
        if (ldap_ops[i].tag == tag) {
            o = i;
            break;
        }
    size_t rc = result >= 0 && result < NLDAPRC - 1 ? (size_t)result : NLDAPRC - 1;
    ADD(reg.ldap[o][rc], 1);
    observe(&reg.ldap_latency[o], us);
}

void dir_metrics_conn(enum dir_metrics_face face, int delta)
{
    ADD(reg.conns[face == DIR_METRICS_LDAP], delta);
}

void dir_metrics_snapshot(long long seq)
{
    long long now = mono_ms();
    SET(reg.snapshot_seq, seq);
    SET(reg.snapshot_ms, now);
    SET(reg.refresh_ok_ms, now);
    ADD(reg.snapshots, 1);
}

void dir_metrics_refresh_ok(void)
{
    if (GET(reg.snapshot_ms)) SET(reg.refresh_ok_ms, mono_ms());
}

double dir_metrics_apply_lag(void)
{
    long long ok = GET(reg.refresh_ok_ms);
    if (!ok) return -1;
    return (double)(mono_ms() - ok) / 1000.0;
}

void dir_metrics_sync_run(const char *status, int created, int updated, int deactivated,
                          int reactivated, int skipped)
{
    size_t s = NSYNC - 1;
    for (size_t i = 0; status && i < NSYNC - 1; i++)
        if (strcmp(status, sync_statuses[i]) == 0) {
            s = i;
            break;
        }
    ADD(reg.sync_runs[s], 1);
    if (s > 1) return; /* nothing committed */
    int n[NSYNCCH] = {created, updated, deactivated, reactivated, skipped};
    for (size_t i = 0; i < NSYNCCH; i++)
        if (n[i] > 0) ADD(reg.sync_entries[i], (unsigned long long)n[i]);
}

void dir_metrics_db_pool_size(int delta)
{
    ADD(reg.pool_size, delta);
}

void dir_metrics_db_pool_use(int delta, bool waited)
{
    ADD(reg.pool_in_use, delta);
    if (delta > 0) ADD(reg.pool_acquired, 1);
    if (waited) ADD(reg.pool_waits, 1);
}

void dir_metrics_db_error(void)
{
    ADD(reg.db_errors, 1);
}

/* ---- the exposition ---- */

/* Appends V as a label value (backslash, quote and newline escaped). */
static enum dir_rc label_value(struct dir_buf *out, const char *v)
{
    enum dir_rc rc = DIR_OK;
    for (const char *p = v; !rc && *p; p++) {
        if (*p == '\\')
            rc = dir_buf_adds(out, "\\\\");
        else if (*p == '"')
            rc = dir_buf_adds(out, "\\\"");
        else if (*p == '\n')
            rc = dir_buf_adds(out, "\\n");
        else
            rc = dir_buf_add(out, p, 1);
    }
    return rc;
}

static enum dir_rc hist_lines(struct dir_buf *out, const char *name, const char *face,
                              const char *route, const struct hist *h)
{
    unsigned long long cum = 0, count = GET(h->count);
    enum dir_rc rc = DIR_OK;
    if (!count) return DIR_OK;
    for (size_t b = 0; !rc && b < NBUCKETS; b++) {
        cum += GET(h->bucket[b]);
        rc = dir_buf_printf(out, "%s_bucket{face=\"%s\",route=\"", name, face);
        if (!rc) rc = label_value(out, route);
        if (!rc && b < NBUCKETS - 1)
            rc = dir_buf_printf(out, "\",le=\"%g\"} %llu\n", (double)bucket_us[b] / 1e6, cum);
        else if (!rc)
            rc = dir_buf_printf(out, "\",le=\"+Inf\"} %llu\n", cum);
    }
    /* The count is the +Inf bucket's (read once above), so the lines agree. */
    if (!rc) rc = dir_buf_printf(out, "%s_sum{face=\"%s\",route=\"", name, face);
    if (!rc) rc = label_value(out, route);
    if (!rc) rc = dir_buf_printf(out, "\"} %.6f\n", (double)GET(h->sum_us) / 1e6);
    if (!rc) rc = dir_buf_printf(out, "%s_count{face=\"%s\",route=\"", name, face);
    if (!rc) rc = label_value(out, route);
    if (!rc) rc = dir_buf_printf(out, "\"} %llu\n", cum);
    return rc;
}

static enum dir_rc r_requests(struct dir_buf *out, const char *name)
{
    enum dir_rc rc = DIR_OK;
    for (size_t r = 0; !rc && r < MAX_ROUTES; r++) {
        const char *label = r == ROUTE_OTHER ? "(other)" : GET(reg.route[r]);
        if (!label) continue;
        for (size_t m = 0; !rc && m < NMETHODS; m++)
            for (size_t s = 0; !rc && s < NSTATUS; s++) {
                unsigned long long n = GET(reg.requests[r][m][s]);
                if (!n) continue;
                rc = dir_buf_printf(out, "%s{route=\"", name);
                if (!rc) rc = label_value(out, label);
                if (!rc && s < NSTATUS - 1)
                    rc = dir_buf_printf(out, "\",method=\"%s\",status=\"%d\"} %llu\n", methods[m],
                                        statuses[s], n);
                else if (!rc)
                    rc = dir_buf_printf(out, "\",method=\"%s\",status=\"other\"} %llu\n",
                                        methods[m], n);
            }
    }
    return rc;
}

static enum dir_rc r_latency(struct dir_buf *out, const char *name)
{
    enum dir_rc rc = DIR_OK;
    for (size_t r = 0; !rc && r < MAX_ROUTES; r++) {
        const char *label = r == ROUTE_OTHER ? "(other)" : GET(reg.route[r]);
        if (label) rc = hist_lines(out, name, "http", label, &reg.http_latency[r]);
    }
    for (size_t o = 0; !rc && o < NLDAPOPS; o++)
        rc = hist_lines(out, name, "ldap", ldap_ops[o].name, &reg.ldap_latency[o]);
    return rc;
}

static enum dir_rc r_ldap_ops(struct dir_buf *out, const char *name)
{
    enum dir_rc rc = DIR_OK;
    for (size_t o = 0; !rc && o < NLDAPOPS; o++)
        for (size_t c = 0; !rc && c < NLDAPRC; c++) {
            unsigned long long n = GET(reg.ldap[o][c]);
            if (!n) continue;
            if (c == NLDAPRC - 1)
                rc = dir_buf_printf(out, "%s{op=\"%s\",result=\"other\"} %llu\n", name,
                                    ldap_ops[o].name, n);
            else if (ldap_rc_names[c])
                rc = dir_buf_printf(out, "%s{op=\"%s\",result=\"%s\"} %llu\n", name,
                                    ldap_ops[o].name, ldap_rc_names[c], n);
            else
                rc = dir_buf_printf(out, "%s{op=\"%s\",result=\"code%zu\"} %llu\n", name,
                                    ldap_ops[o].name, c, n);
        }
    return rc;
}

static enum dir_rc r_conns(struct dir_buf *out, const char *name)
{
    return dir_buf_printf(out, "%s{face=\"http\"} %lld\n%s{face=\"ldap\"} %lld\n", name,
                          GET(reg.conns[0]), name, GET(reg.conns[1]));
}

static enum dir_rc r_seq(struct dir_buf *out, const char *name)
{
    return dir_buf_printf(out, "%s %lld\n", name, GET(reg.snapshot_seq));
}

static enum dir_rc r_snapshots(struct dir_buf *out, const char *name)
{
    return dir_buf_printf(out, "%s %llu\n", name, GET(reg.snapshots));
}

static enum dir_rc r_age(struct dir_buf *out, const char *name)
{
    long long at = GET(reg.snapshot_ms);
    if (!at) return DIR_OK; /* no snapshot yet: no sample */
    return dir_buf_printf(out, "%s %.3f\n", name, (double)(mono_ms() - at) / 1000.0);
}

static enum dir_rc r_lag(struct dir_buf *out, const char *name)
{
    double lag = dir_metrics_apply_lag();
    return lag < 0 ? DIR_OK : dir_buf_printf(out, "%s %.3f\n", name, lag);
}

static enum dir_rc r_sync_runs(struct dir_buf *out, const char *name)
{
    enum dir_rc rc = DIR_OK;
    for (size_t s = 0; !rc && s < NSYNC; s++)
        rc = dir_buf_printf(out, "%s{status=\"%s\"} %llu\n", name, sync_statuses[s],
                            GET(reg.sync_runs[s]));
    return rc;
}

static enum dir_rc r_sync_entries(struct dir_buf *out, const char *name)
{
    enum dir_rc rc = DIR_OK;
    for (size_t s = 0; !rc && s < NSYNCCH; s++)
        rc = dir_buf_printf(out, "%s{change=\"%s\"} %llu\n", name, sync_changes[s],
                            GET(reg.sync_entries[s]));
    return rc;
}

static enum dir_rc r_pool_size(struct dir_buf *out, const char *name)
{
    return dir_buf_printf(out, "%s %lld\n", name, GET(reg.pool_size));
}
static enum dir_rc r_pool_in_use(struct dir_buf *out, const char *name)
{
    return dir_buf_printf(out, "%s %lld\n", name, GET(reg.pool_in_use));
}
static enum dir_rc r_pool_acquired(struct dir_buf *out, const char *name)
{
    return dir_buf_printf(out, "%s %llu\n", name, GET(reg.pool_acquired));
}
static enum dir_rc r_pool_waits(struct dir_buf *out, const char *name)
{
    return dir_buf_printf(out, "%s %llu\n", name, GET(reg.pool_waits));
}
static enum dir_rc r_db_errors(struct dir_buf *out, const char *name)
{
    return dir_buf_printf(out, "%s %llu\n", name, GET(reg.db_errors));
}

static enum dir_rc r_rss(struct dir_buf *out, const char *name)
{
    long long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lld %lld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return dir_buf_printf(out, "%s %lld\n", name, rss * (long long)sysconf(_SC_PAGESIZE));
}

/* The personal-data access log (dir_pdpa.h): reads recorded, written, dropped. */
static enum dir_rc r_pdpa(struct dir_buf *out, const char *name)
{
    struct dir_pdpa_stats st;
    dir_pdpa_stats(&st);
    return dir_buf_printf(out,
                          "%s{state=\"recorded\"} %lld\n%s{state=\"written\"} %lld\n"
                          "%s{state=\"dropped\"} %lld\n",
                          name, st.recorded, name, st.written, name, st.dropped);
}

static enum dir_rc r_build(struct dir_buf *out, const char *name)
{
    return dir_buf_printf(out, "%s{version=\"%s\"} 1\n", name, DIR_VERSION);
}

/* ---- the table: every metric, in the order shown ---- */

static const struct metric {
    const char *name;
    const char *type;
    const char *help;
    const char *labels; /* documentation: the label names */
    enum dir_rc (*render)(struct dir_buf *out, const char *name);
} table[] = {
    {"directoryd_build_info", "gauge", "Version of the running directoryd (always 1).", "version",
     r_build},
    {"directoryd_http_requests_total", "counter",
     "HTTP requests answered, by route pattern, method and status.", "route,method,status",
     r_requests},
    {"directoryd_request_duration_seconds", "histogram",
     "Time to answer a request: HTTP by route pattern, LDAP by operation.", "face,route",
     r_latency},
    {"directoryd_ldap_operations_total", "counter",
     "LDAP operations answered, by operation and result code.", "op,result", r_ldap_ops},
    {"directoryd_open_connections", "gauge", "Connections open now, by face.", "face", r_conns},
    {"directoryd_snapshot_sequence", "gauge", "Change-log sequence of the snapshot being served.",
     "", r_seq},
    {"directoryd_snapshots_published_total", "counter",
     "Snapshot versions published (full loads and applied changes).", "", r_snapshots},
    {"directoryd_snapshot_age_seconds", "gauge",
     "Seconds since the served snapshot was published (grows while nothing changes).", "", r_age},
    {"directoryd_change_apply_lag_seconds", "gauge",
     "Seconds since the served snapshot was last confirmed current with the database.", "", r_lag},
    {"directoryd_sync_runs_total", "counter", "Staff sync runs ended, by status.", "status",
     r_sync_runs},
    {"directoryd_sync_entries_total", "counter",
     "Staff entries changed by committed sync runs, by kind of change.", "change", r_sync_entries},
    {"directoryd_access_log_reads_total", "counter",
     "Reads of non-public contact points for the PDPA access log: recorded, written to "
     "PostgreSQL, dropped (queue full).",
     "state", r_pdpa},
    {"directoryd_db_pool_connections", "gauge", "PostgreSQL connections in the pool.", "",
     r_pool_size},
    {"directoryd_db_pool_in_use", "gauge", "PostgreSQL pool connections taken now.", "",
     r_pool_in_use},
    {"directoryd_db_pool_acquired_total", "counter", "PostgreSQL pool connections taken.", "",
     r_pool_acquired},
    {"directoryd_db_pool_waits_total", "counter",
     "Times a request waited for a free PostgreSQL pool connection.", "", r_pool_waits},
    {"directoryd_db_errors_total", "counter",
     "PostgreSQL connection failures and failed statements.", "", r_db_errors},
    {"process_resident_memory_bytes", "gauge", "Resident set size of the process.", "", r_rss},
};

#define NMETRICS (sizeof table / sizeof table[0])

enum dir_rc dir_metrics_render(struct dir_buf *out)
{
    enum dir_rc rc = DIR_OK;
    for (size_t i = 0; !rc && i < NMETRICS; i++) {
        rc = dir_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", table[i].name, table[i].help,
                            table[i].name, table[i].type);
        if (!rc) rc = table[i].render(out, table[i].name);
    }
    return rc;
}

bool dir_metrics_describe(int i, const char **name, const char **type, const char **help)
{
    if (i < 0 || (size_t)i >= NMETRICS) return false;
    *name = table[i].name;
    *type = table[i].type;
    *help = table[i].help;
    return true;
}
