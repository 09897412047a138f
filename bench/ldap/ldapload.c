/* ldapload - a closed-loop LDAP search load generator (libldap's asynchronous API).
 *
 *   ldapload -H URI -D BINDDN -w PASSWORD -b BASE -f FILTERS [-c CONNS] [-t THREADS]
 *            [-d SECONDS] [-W WARMUP_SECONDS] [-z SIZELIMIT] [-a attr,attr,...] [-s SEED]
 *
 * Opens CONNS connections (spread over THREADS threads, each with its own poll() loop), binds
 * each once (simple bind), then keeps exactly one search in flight per connection: a filter
 * drawn at random from FILTERS (one RFC 4515 filter per line), subtree under BASE, asking for
 * the given attributes (default: all user attributes) with the given size limit. An answer is
 * complete when the searchResultDone arrives; success and sizeLimitExceeded (4) count as
 * answers, anything else as an error. After WARMUP seconds of unmeasured load it measures for
 * SECONDS and prints one line on stdout:
 *
 *   LDAPLOAD ops=N duration_s=S ops_s=R p50_ms=A p90_ms=B p99_ms=C max_ms=D
 *            entries_per_op=E errors=N cpu_s=U
 *
 * latency = from handing the search to libldap to reading its searchResultDone; cpu_s = the
 * generator's own user + system CPU time during the measured window.
 *
 *   ldapload -H URI -D BINDDN -w PASSWORD -b BASE -f FILTERS -C
 * instead runs every filter once, in order, on one connection with paged results (RFC 2696,
 * pages of 200, so a server's size cap does not cut the answer) and prints, per filter, the
 * number of entries and an order-independent checksum of their DNs: "COUNT n sum filter".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <lber.h>
#include <ldap.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct opts {
    const char *uri, *binddn, *password, *base, *filters_path, *attrs_arg;
    int conns, threads, sizelimit, check;
    double duration, warmup;
    unsigned long seed;
};

static char **filters;
static size_t nfilters;
static char **attrs; /* NULL: all user attributes */
static struct opts o;

/* Shared phase: 0 warm-up, 1 measuring, 2 stop. */
static volatile int phase;

struct conn {
    LDAP *ld;
    Sockbuf *sb;
    int fd, msgid;
    double sent;
};

struct worker {
    pthread_t thread;
    int id, nconns;
    struct conn *conns;
    uint64_t rng;
    /* measured window */
    uint32_t *lat_us;
    size_t nlat, caplat;
    uint64_t entries, errors;
    int failed;
    char err[256];
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static uint64_t next_rand(uint64_t *s) { /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ULL;
}

static void die(const char *msg, const char *detail) {
    fprintf(stderr, "ldapload: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static void read_filters(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open the filters file", path);
    size_t cap = 1024;
    filters = malloc(cap * sizeof *filters);
    char *line = NULL;
    size_t len = 0;
    ssize_t n;
    while ((n = getline(&line, &len, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0)
            continue;
        if (nfilters == cap)
            filters = realloc(filters, (cap *= 2) * sizeof *filters);
        filters[nfilters++] = strdup(line);
    }
    free(line);
    fclose(f);
    if (nfilters == 0)
        die("no filters in", path);
}

static void parse_attrs(const char *arg) {
    if (!arg || !*arg || strcmp(arg, "*") == 0)
        return;
    size_t n = 1;
    for (const char *p = arg; *p; p++)
        n += *p == ',';
    attrs = calloc(n + 1, sizeof *attrs);
    char *copy = strdup(arg), *save = NULL;
    size_t i = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        attrs[i++] = t;
    attrs[i] = NULL;
}

static LDAP *open_conn(char *err, size_t errlen) {
    LDAP *ld = NULL;
    int rc = ldap_initialize(&ld, o.uri);
    if (rc != LDAP_SUCCESS) {
        snprintf(err, errlen, "ldap_initialize: %s", ldap_err2string(rc));
        return NULL;
    }
    int v3 = LDAP_VERSION3;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    struct berval cred = {.bv_val = (char *)o.password, .bv_len = strlen(o.password)};
    rc = ldap_sasl_bind_s(ld, o.binddn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (rc != LDAP_SUCCESS) {
        snprintf(err, errlen, "bind as %s: %s", o.binddn, ldap_err2string(rc));
        ldap_unbind_ext_s(ld, NULL, NULL);
        return NULL;
    }
    return ld;
}

static int send_search(struct worker *w, struct conn *c) {
    const char *filter = filters[next_rand(&w->rng) % nfilters];
    c->sent = now();
    int rc = ldap_search_ext(c->ld, o.base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL,
                             NULL, o.sizelimit, &c->msgid);
    if (rc != LDAP_SUCCESS) {
        snprintf(w->err, sizeof w->err, "search %s: %s", filter, ldap_err2string(rc));
        return -1;
    }
    return 0;
}

static void record(struct worker *w, double latency, int nentries, int ok) {
    if (phase != 1)
        return;
    if (!ok) {
        w->errors++;
        return;
    }
    if (w->nlat == w->caplat) {
        w->caplat = w->caplat ? w->caplat * 2 : 65536;
        w->lat_us = realloc(w->lat_us, w->caplat * sizeof *w->lat_us);
    }
    double us = latency * 1e6;
    w->lat_us[w->nlat++] = us > 4e9 ? 4000000000u : (uint32_t)us;
    w->entries += nentries;
}

/* Reads whatever is complete on c; returns -1 on a dead connection. */
static int drain(struct worker *w, struct conn *c) {
    for (;;) {
        struct timeval zero = {0, 0};
        LDAPMessage *res = NULL;
        int rc = ldap_result(c->ld, c->msgid, LDAP_MSG_ALL, &zero, &res);
        if (rc < 0) {
            int e = 0;
            ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &e);
            snprintf(w->err, sizeof w->err, "ldap_result: %s", ldap_err2string(e));
            return -1;
        }
        if (rc == 0) {
            /* libldap may hold the rest of the answer in its buffer already. */
            if (ber_sockbuf_ctrl(c->sb, LBER_SB_OPT_DATA_READY, NULL))
                continue;
            return 0;
        }
        double t = now();
        int nentries = ldap_count_entries(c->ld, res);
        int code = -1;
        for (LDAPMessage *m = ldap_first_message(c->ld, res); m;
             m = ldap_next_message(c->ld, m)) {
            if (ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT) {
                if (ldap_parse_result(c->ld, m, &code, NULL, NULL, NULL, NULL, 0) !=
                    LDAP_SUCCESS)
                    code = -1;
                break;
            }
        }
        ldap_msgfree(res);
        record(w, t - c->sent, nentries, code == LDAP_SUCCESS || code == LDAP_SIZELIMIT_EXCEEDED);
        if (code != LDAP_SUCCESS && code != LDAP_SIZELIMIT_EXCEEDED && w->err[0] == 0)
            snprintf(w->err, sizeof w->err, "a search answered %d (%s)", code,
                     ldap_err2string(code));
        if (phase == 2)
            return 0;
        if (send_search(w, c) < 0)
            return -1;
    }
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    struct pollfd *pfd = calloc(w->nconns, sizeof *pfd);
    for (int i = 0; i < w->nconns; i++) {
        struct conn *c = &w->conns[i];
        if (send_search(w, c) < 0) {
            w->failed = 1;
            return NULL;
        }
        ldap_get_option(c->ld, LDAP_OPT_DESC, &c->fd);
        ldap_get_option(c->ld, LDAP_OPT_SOCKBUF, &c->sb);
        pfd[i].fd = c->fd;
        pfd[i].events = POLLIN;
    }
    while (phase != 2) {
        int n = poll(pfd, w->nconns, 100);
        if (n < 0 && errno != EINTR) {
            snprintf(w->err, sizeof w->err, "poll: %s", strerror(errno));
            w->failed = 1;
            break;
        }
        for (int i = 0; i < w->nconns && n > 0; i++) {
            if (!pfd[i].revents)
                continue;
            if (drain(w, &w->conns[i]) < 0) {
                w->failed = 1;
                phase = 2;
                break;
            }
        }
    }
    free(pfd);
    return NULL;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint32_t *v, size_t n, double p) {
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (n - 1) + 0.5);
    return v[i] / 1000.0;
}

/* -C: every filter once, paged, with a count and an order-independent checksum of DNs. */
static int check_mode(void) {
    char err[256];
    LDAP *ld = open_conn(err, sizeof err);
    if (!ld)
        die(err, NULL);
    for (size_t i = 0; i < nfilters; i++) {
        struct berval cookie = {0, NULL};
        long count = 0;
        uint64_t sum = 0;
        int code = LDAP_SUCCESS, more = 0;
        do {
            LDAPControl *page = NULL, *ctrls[2] = {NULL, NULL};
            if (ldap_create_page_control(ld, 200, &cookie, 0, &page) != LDAP_SUCCESS)
                die("cannot build a paged-results control", NULL);
            ctrls[0] = page;
            LDAPMessage *res = NULL;
            int rc = ldap_search_ext_s(ld, o.base, LDAP_SCOPE_SUBTREE, filters[i], attrs, 0,
                                       ctrls, NULL, NULL, 0, &res);
            ldap_control_free(page);
            ber_memfree(cookie.bv_val);
            cookie = (struct berval){0, NULL};
            more = 0;
            if (!res) {
                code = rc;
                break;
            }
            for (LDAPMessage *e = ldap_first_entry(ld, res); e; e = ldap_next_entry(ld, e)) {
                char *dn = ldap_get_dn(ld, e);
                uint64_t h = 1469598103934665603ULL; /* FNV-1a of the lower-cased DN */
                for (const char *p = dn; p && *p; p++) {
                    unsigned char ch = (unsigned char)*p;
                    if (ch >= 'A' && ch <= 'Z')
                        ch += 32;
                    h = (h ^ ch) * 1099511628211ULL;
                }
                sum += h;
                count++;
                ldap_memfree(dn);
            }
            LDAPControl **sctrls = NULL;
            int err_code = 0;
            ldap_parse_result(ld, res, &err_code, NULL, NULL, NULL, &sctrls, 0);
            code = err_code;
            LDAPControl *pr = sctrls ? ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, sctrls, NULL)
                                     : NULL;
            ber_int_t estimate = 0;
            if (pr && ldap_parse_pageresponse_control(ld, pr, &estimate, &cookie) ==
                          LDAP_SUCCESS &&
                cookie.bv_len > 0)
                more = 1;
            if (sctrls)
                ldap_controls_free(sctrls);
            ldap_msgfree(res);
        } while (more && code == LDAP_SUCCESS);
        ber_memfree(cookie.bv_val);
        printf("COUNT %ld %016llx %s%s\n", count, (unsigned long long)sum, filters[i],
               code == LDAP_SUCCESS ? "" : " (error)");
    }
    ldap_unbind_ext_s(ld, NULL, NULL);
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: ldapload -H URI -D BINDDN -w PASSWORD -b BASE -f FILTERS [-c CONNS]"
                    " [-t THREADS] [-d SECONDS] [-W WARMUP] [-z SIZELIMIT] [-a ATTRS] [-s SEED]"
                    " [-C]\n");
    exit(2);
}

int main(int argc, char **argv) {
    o = (struct opts){.conns = 32, .threads = 2, .duration = 10, .warmup = 2, .seed = 1};
    int ch;
    while ((ch = getopt(argc, argv, "H:D:w:b:f:c:t:d:W:z:a:s:C")) != -1) {
        switch (ch) {
        case 'H': o.uri = optarg; break;
        case 'D': o.binddn = optarg; break;
        case 'w': o.password = optarg; break;
        case 'b': o.base = optarg; break;
        case 'f': o.filters_path = optarg; break;
        case 'c': o.conns = atoi(optarg); break;
        case 't': o.threads = atoi(optarg); break;
        case 'd': o.duration = atof(optarg); break;
        case 'W': o.warmup = atof(optarg); break;
        case 'z': o.sizelimit = atoi(optarg); break;
        case 'a': o.attrs_arg = optarg; break;
        case 's': o.seed = strtoul(optarg, NULL, 10); break;
        case 'C': o.check = 1; break;
        default: usage();
        }
    }
    if (!o.uri || !o.binddn || !o.password || !o.base || !o.filters_path)
        usage();
    if (o.conns < 1 || o.threads < 1 || o.duration <= 0 || o.duration > 3600 || o.warmup < 0 ||
        o.warmup > 600)
        usage();
    if (o.threads > o.conns)
        o.threads = o.conns;
    read_filters(o.filters_path);
    parse_attrs(o.attrs_arg);
    if (o.check)
        return check_mode();

    struct worker *ws = calloc(o.threads, sizeof *ws);
    struct conn *all = calloc(o.conns, sizeof *all);
    char err[256];
    for (int i = 0; i < o.conns; i++) {
        all[i].ld = open_conn(err, sizeof err);
        if (!all[i].ld)
            die(err, NULL);
    }
    for (int t = 0, at = 0; t < o.threads; t++) {
        ws[t].id = t;
        ws[t].nconns = o.conns / o.threads + (t < o.conns % o.threads);
        ws[t].conns = &all[at];
        at += ws[t].nconns;
        ws[t].rng = (o.seed * 0x9E3779B97F4A7C15ULL) ^ (0xD1B54A32D192ED03ULL * (t + 1));
        if (ws[t].rng == 0)
            ws[t].rng = 1;
    }
    phase = o.warmup > 0 ? 0 : 1;
    for (int t = 0; t < o.threads; t++)
        if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t]) != 0)
            die("cannot start a thread", NULL);
    struct timespec ts;
    if (o.warmup > 0) {
        double end = now() + o.warmup;
        while (now() < end && phase != 2) {
            ts = (struct timespec){0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (phase != 2)
            phase = 1;
    }
    double t0 = now(), c0 = cpu_seconds();
    double end = t0 + o.duration;
    while (now() < end && phase != 2) {
        ts = (struct timespec){0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int stopped_early = phase == 2;
    double t1 = now(), c1 = cpu_seconds();
    phase = 2;
    for (int t = 0; t < o.threads; t++)
        pthread_join(ws[t].thread, NULL);

    size_t n = 0;
    uint64_t entries = 0, errors = 0;
    for (int t = 0; t < o.threads; t++) {
        n += ws[t].nlat;
        entries += ws[t].entries;
        errors += ws[t].errors;
        if (ws[t].err[0])
            fprintf(stderr, "ldapload: thread %d: %s\n", t, ws[t].err);
    }
    uint32_t *lat = malloc((n ? n : 1) * sizeof *lat);
    size_t k = 0;
    for (int t = 0; t < o.threads; t++) {
        memcpy(lat + k, ws[t].lat_us, ws[t].nlat * sizeof *lat);
        k += ws[t].nlat;
    }
    qsort(lat, n, sizeof *lat, cmp_u32);
    double secs = t1 - t0;
    printf("LDAPLOAD ops=%zu duration_s=%.3f ops_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
           "max_ms=%.3f entries_per_op=%.2f errors=%llu cpu_s=%.3f%s\n",
           n, secs, n / secs, pct(lat, n, 0.50), pct(lat, n, 0.90), pct(lat, n, 0.99),
           n ? lat[n - 1] / 1000.0 : 0.0, n ? (double)entries / n : 0.0,
           (unsigned long long)errors, c1 - c0, stopped_early ? " stopped_early=1" : "");
    for (int i = 0; i < o.conns; i++)
        ldap_unbind_ext_s(all[i].ld, NULL, NULL);
    return stopped_early ? 1 : 0;
}
