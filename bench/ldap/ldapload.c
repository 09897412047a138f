/* ldapload - a closed-loop LDAP search load generator (raw non-blocking sockets, liblber).
 *
 *   ldapload -H URI -D BINDDN -w PASSWORD -b BASE -f FILTERS [-c CONNS] [-t THREADS]
 *            [-d SECONDS] [-W WARMUP_SECONDS] [-z SIZELIMIT] [-a attr,attr,...] [-s SEED]
 *
 * Opens CONNS connections (spread over THREADS threads, each with its own epoll loop), binds
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
 * latency = from encoding the search to reading its searchResultDone; cpu_s = the generator's
 * own user + system CPU time during the measured window.
 *
 * The load path is built to cost the generator as little CPU as possible, since it shares the
 * machine with the server it measures (libldap's asynchronous API decodes every entry into a
 * message chain: ~180 us of CPU per 20-entry answer). Each filter's SearchRequest is encoded
 * once at start (liblber's ber_printf, the filter by libldap's own filter encoder, so the bytes
 * on the wire are what ldap_search_ext sends); per search only the LDAPMessage around it is
 * encoded again with the next messageID (ber_printf "{itO}"). The connection is a plain
 * non-blocking TCP socket (ldap:// only) bound with one blocking BindRequest at start.
 * Answers are read into a per-connection buffer and framed with liblber without decoding the
 * entries: ber_skip_tag finds each LDAPMessage's length (an incomplete one waits for the next
 * read; a read may hold many messages), ber_get_int its messageID (checked against the search
 * in flight), ber_peek_tag its protocolOp; a searchResultEntry is counted, a searchResultDone
 * has its resultCode read (ber_scanf "{e").
 *
 *   ldapload -H URI -D BINDDN -w PASSWORD -b BASE -f FILTERS -C
 * instead runs every filter once, in order, on one connection with paged results (RFC 2696,
 * pages of 200, so a server's size cap does not cut the answer) and prints, per filter, the
 * number of entries and an order-independent checksum of their DNs: "COUNT n sum filter".
 * This mode is not timed and uses libldap's synchronous API.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <lber.h>
#include <ldap.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* libldap's RFC 4515 filter encoder (the one ldap_search_ext uses). It is exported by
 * libldap 2.4-2.6 but declared only in OpenLDAP's private headers, which Debian does not ship. */
int ldap_pvt_put_filter(BerElement *ber, const char *str);

struct opts {
    const char *uri, *binddn, *password, *base, *filters_path, *attrs_arg;
    int conns, threads, sizelimit, check;
    double duration, warmup;
    unsigned long seed;
};

static char **filters;
static size_t nfilters;
static struct berval *requests; /* per filter: the contents of its SearchRequest */
static char **attrs;            /* NULL: all user attributes */
static struct opts o;

/* Shared phase: 0 warm-up, 1 measuring, 2 stop. */
static volatile int phase;

#define IN_START (64 * 1024)        /* a connection's first read buffer */
#define IN_MAX (64 * 1024 * 1024)   /* the largest LDAPMessage accepted */

struct conn {
    int fd;
    ber_int_t msgid; /* of the search in flight (the bind was 1) */
    int nentries;    /* searchResultEntry messages of the search in flight so far */
    double sent;
    char *in;                   /* read buffer: in[inoff, inlen) not yet framed */
    size_t incap, inoff, inlen;
    char *out;                  /* the unsent rest of a request (a short send; rare) */
    size_t outoff, outlen;
};

struct worker {
    pthread_t thread;
    int id, nconns;
    struct conn *conns;
    uint64_t rng;
    BerElement *ber; /* reused to frame and read every received message */
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

/* ---- requests ---- */

/* Encodes every filter's SearchRequest once, as ldap_search_ext would (base, subtree, never
 * dereference aliases, the size limit, no time limit, types and values, the attributes), and
 * keeps the contents of its [APPLICATION 3] SEQUENCE, to be wrapped in an LDAPMessage with a
 * fresh messageID per send. */
static void encode_requests(void) {
    requests = calloc(nfilters, sizeof *requests);
    BerElement *rd = ber_alloc_t(0);
    for (size_t i = 0; i < nfilters; i++) {
        BerElement *ber = ber_alloc_t(LBER_USE_DER);
        if (!ber || !rd)
            die("out of memory", NULL);
        if (ber_printf(ber, "{seeiib", o.base, (ber_int_t)LDAP_SCOPE_SUBTREE,
                       (ber_int_t)LDAP_DEREF_NEVER, (ber_int_t)o.sizelimit, (ber_int_t)0,
                       (ber_int_t)0) == -1)
            die("cannot encode a search request", filters[i]);
        if (ldap_pvt_put_filter(ber, filters[i]) == -1)
            die("bad filter", filters[i]);
        if (ber_printf(ber, "{v}}", attrs) == -1)
            die("cannot encode a search request", filters[i]);
        struct berval whole;
        if (ber_flatten2(ber, &whole, 0) < 0)
            die("cannot encode a search request", filters[i]);
        ber_init2(rd, &whole, 0);
        ber_len_t len = 0, rest = 0;
        if (ber_skip_tag(rd, &len) != LBER_SEQUENCE ||
            ber_get_option(rd, LBER_OPT_REMAINING_BYTES, &rest) != LBER_OPT_SUCCESS ||
            rest != len)
            die("cannot encode a search request", filters[i]);
        requests[i].bv_len = len;
        requests[i].bv_val = malloc(len ? len : 1);
        memcpy(requests[i].bv_val, whole.bv_val + (whole.bv_len - rest), len);
        ber_free(ber, 1);
    }
    ber_free(rd, 0);
}

/* ---- raw connections ---- */

/* Reads what the socket has into c's buffer (after framed messages are dropped and, if need
 * be, the buffer grown). Returns the bytes read, 0 if none are ready, -1 on a closed or
 * failed connection or a message larger than IN_MAX. */
static ssize_t fill(struct conn *c, char *err, size_t errlen) {
    if (c->inoff == c->inlen) {
        c->inoff = c->inlen = 0;
    } else if (c->inlen == c->incap && c->inoff > 0) {
        memmove(c->in, c->in + c->inoff, c->inlen - c->inoff);
        c->inlen -= c->inoff;
        c->inoff = 0;
    }
    if (c->inlen == c->incap) { /* one message larger than the buffer */
        if (c->incap >= IN_MAX) {
            snprintf(err, errlen, "a message larger than %d bytes (or garbage)", IN_MAX);
            return -1;
        }
        c->incap *= 2;
        c->in = realloc(c->in, c->incap);
        if (!c->in) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
        if (n > 0) {
            c->inlen += n;
            return n;
        }
        if (n == 0) {
            snprintf(err, errlen, "the server closed the connection");
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        snprintf(err, errlen, "recv: %s", strerror(errno));
        return -1;
    }
}

/* Frames the next complete LDAPMessage in c's buffer. Returns 1 with *msgid, *op (the
 * protocolOp's tag) and ber set on exactly that message, positioned at the protocolOp; 0 if
 * the buffer holds no complete message; -1 if the bytes are not an LDAPMessage. */
static int next_message(struct conn *c, BerElement *ber, ber_int_t *msgid, ber_tag_t *op,
                        char *err, size_t errlen) {
    if (c->inoff == c->inlen)
        return 0;
    struct berval bv = {c->inlen - c->inoff, c->in + c->inoff};
    ber_init2(ber, &bv, 0);
    ber_len_t len = 0, rest = 0;
    ber_tag_t tag = ber_skip_tag(ber, &len);
    if (tag == LBER_DEFAULT)
        return 0; /* the header or the contents are not all here yet */
    if (tag != LBER_SEQUENCE) {
        snprintf(err, errlen, "not an LDAPMessage (tag 0x%lx)", (unsigned long)tag);
        return -1;
    }
    ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &rest);
    /* The message: its header and len bytes of contents; decode within it only. */
    bv.bv_len = (bv.bv_len - rest) + len;
    c->inoff += bv.bv_len;
    ber_init2(ber, &bv, 0);
    if (ber_skip_tag(ber, &len) != LBER_SEQUENCE || ber_get_int(ber, msgid) == LBER_DEFAULT ||
        (*op = ber_peek_tag(ber, &len)) == LBER_DEFAULT) {
        snprintf(err, errlen, "a malformed LDAPMessage");
        return -1;
    }
    return 1;
}

/* Sends a whole buffer on a blocking socket. */
static int send_all(int fd, const char *p, size_t n, char *err, size_t errlen) {
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(err, errlen, "send: %s", strerror(errno));
            return -1;
        }
        p += k;
        n -= k;
    }
    return 0;
}

/* Connects to the URI's host and port (ldap:// only) and binds (simple bind) with a blocking
 * exchange; leaves the socket non-blocking, messageID 1 used. */
static int open_raw(struct conn *c, char *err, size_t errlen) {
    LDAPURLDesc *lud = NULL;
    if (ldap_url_parse(o.uri, &lud) != LDAP_URL_SUCCESS) {
        snprintf(err, errlen, "cannot parse the URI %s", o.uri);
        return -1;
    }
    if (strcasecmp(lud->lud_scheme, "ldap") != 0) {
        snprintf(err, errlen, "the load supports ldap:// URIs only, not %s", o.uri);
        ldap_free_urldesc(lud);
        return -1;
    }
    char port[16];
    snprintf(port, sizeof port, "%d", lud->lud_port ? lud->lud_port : LDAP_PORT);
    const char *host = lud->lud_host && *lud->lud_host ? lud->lud_host : "localhost";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC}, *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "%s:%s: %s", host, port, gai_strerror(rc));
        ldap_free_urldesc(lud);
        return -1;
    }
    c->fd = -1;
    for (struct addrinfo *a = ai; a && c->fd < 0; a = a->ai_next) {
        c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (c->fd >= 0 && connect(c->fd, a->ai_addr, a->ai_addrlen) != 0) {
            snprintf(err, errlen, "connect to %s:%s: %s", host, port, strerror(errno));
            close(c->fd);
            c->fd = -1;
        }
    }
    freeaddrinfo(ai);
    ldap_free_urldesc(lud);
    if (c->fd < 0)
        return -1;
    int one = 1; /* as libldap sets them */
    setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tmo = {30, 0}; /* the bind answer; the load itself is non-blocking */
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
    c->incap = IN_START;
    c->in = malloc(c->incap);
    c->inoff = c->inlen = 0;

    /* BindRequest ::= [APPLICATION 0] SEQUENCE { version, name, simple [0] password } */
    struct berval cred = {.bv_val = (char *)o.password, .bv_len = strlen(o.password)};
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    struct berval bv;
    c->msgid = 1;
    if (!ber ||
        ber_printf(ber, "{it{istO}}", c->msgid, LDAP_REQ_BIND, (ber_int_t)LDAP_VERSION3,
                   o.binddn, LDAP_AUTH_SIMPLE, &cred) == -1 ||
        ber_flatten2(ber, &bv, 0) < 0) {
        snprintf(err, errlen, "cannot encode the bind request");
        return -1;
    }
    rc = send_all(c->fd, bv.bv_val, bv.bv_len, err, errlen);
    ber_free(ber, 1);
    if (rc < 0)
        return -1;
    BerElement *rd = ber_alloc_t(0);
    ber_int_t msgid = 0, code = -1;
    ber_tag_t op = LBER_DEFAULT;
    int got;
    while ((got = next_message(c, rd, &msgid, &op, err, errlen)) == 0) {
        ssize_t n = fill(c, err, errlen);
        if (n == 0)
            snprintf(err, errlen, "no answer to the bind within %ld s", (long)tmo.tv_sec);
        if (n <= 0) {
            got = -1;
            break;
        }
    }
    if (got > 0 && (msgid != c->msgid || op != LDAP_RES_BIND ||
                    ber_scanf(rd, "{e", &code) == LBER_ERROR)) {
        snprintf(err, errlen, "an unexpected answer to the bind (message %d, op 0x%lx)",
                 (int)msgid, (unsigned long)op);
        got = -1;
    }
    ber_free(rd, 0);
    if (got < 0)
        return -1;
    if (code != LDAP_SUCCESS) {
        snprintf(err, errlen, "bind as %s: %s", o.binddn, ldap_err2string(code));
        return -1;
    }
    if (c->inoff != c->inlen) {
        snprintf(err, errlen, "unexpected data after the bind answer");
        return -1;
    }
    int fl = fcntl(c->fd, F_GETFL);
    if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "fcntl: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Sends an encoded request without blocking; keeps what the socket did not take and asks
 * epoll for writability. */
static int send_request(struct worker *w, int ep, struct conn *c, const char *p, size_t n) {
    if (c->outoff < c->outlen) {
        snprintf(w->err, sizeof w->err, "a request while the previous one is still unsent");
        return -1;
    }
    ssize_t k;
    do
        k = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (k < 0 && errno == EINTR);
    if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        snprintf(w->err, sizeof w->err, "send: %s", strerror(errno));
        return -1;
    }
    if (k < 0)
        k = 0;
    if ((size_t)k == n)
        return 0;
    c->out = realloc(c->out, n - k);
    memcpy(c->out, p + k, n - k);
    c->outoff = 0;
    c->outlen = n - k;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        snprintf(w->err, sizeof w->err, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int flush_out(struct worker *w, int ep, struct conn *c) {
    while (c->outoff < c->outlen) {
        ssize_t k = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (k < 0) {
            snprintf(w->err, sizeof w->err, "send: %s", strerror(errno));
            return -1;
        }
        c->outoff += k;
    }
    c->outoff = c->outlen = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        snprintf(w->err, sizeof w->err, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int send_search(struct worker *w, int ep, struct conn *c) {
    size_t i = next_rand(&w->rng) % nfilters;
    c->msgid = c->msgid >= 0x7fffffff ? 1 : c->msgid + 1;
    c->nentries = 0;
    c->sent = now();
    /* LDAPMessage ::= SEQUENCE { messageID, protocolOp [APPLICATION 3] SearchRequest } */
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    struct berval bv;
    if (!ber || ber_printf(ber, "{itO}", c->msgid, LDAP_REQ_SEARCH, &requests[i]) == -1 ||
        ber_flatten2(ber, &bv, 0) < 0) {
        snprintf(w->err, sizeof w->err, "cannot encode the search %s", filters[i]);
        if (ber)
            ber_free(ber, 1);
        return -1;
    }
    int rc = send_request(w, ep, c, bv.bv_val, bv.bv_len);
    ber_free(ber, 1);
    return rc;
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

/* Reads what arrived on c and handles every complete message in it; the searchResultDone
 * of the search in flight sends the next one. Returns -1 on a dead or misbehaving
 * connection. */
static int on_readable(struct worker *w, int ep, struct conn *c) {
    ssize_t n = fill(c, w->err, sizeof w->err);
    if (n <= 0)
        return (int)n;
    for (;;) {
        ber_int_t msgid = 0;
        ber_tag_t op = LBER_DEFAULT;
        int got = next_message(c, w->ber, &msgid, &op, w->err, sizeof w->err);
        if (got <= 0)
            return got;
        if (msgid != c->msgid) {
            if (msgid == 0)
                snprintf(w->err, sizeof w->err, "the server sent an unsolicited notification"
                                                " (op 0x%lx; a notice of disconnection?)",
                         (unsigned long)op);
            else
                snprintf(w->err, sizeof w->err, "an answer to message %d, %d in flight",
                         (int)msgid, (int)c->msgid);
            return -1;
        }
        if (op == LDAP_RES_SEARCH_ENTRY) {
            c->nentries++;
        } else if (op == LDAP_RES_SEARCH_RESULT) {
            double t = now();
            ber_int_t code = -1;
            if (ber_scanf(w->ber, "{e", &code) == LBER_ERROR) {
                snprintf(w->err, sizeof w->err, "a malformed searchResultDone");
                return -1;
            }
            int ok = code == LDAP_SUCCESS || code == LDAP_SIZELIMIT_EXCEEDED;
            record(w, t - c->sent, c->nentries, ok);
            if (!ok && w->err[0] == 0)
                snprintf(w->err, sizeof w->err, "a search answered %d (%s)", (int)code,
                         ldap_err2string(code));
            if (phase == 2)
                return 0;
            if (send_search(w, ep, c) < 0)
                return -1;
        } else if (op != LDAP_RES_SEARCH_REFERENCE && op != LDAP_RES_INTERMEDIATE) {
            snprintf(w->err, sizeof w->err, "an unexpected answer (op 0x%lx) to a search",
                     (unsigned long)op);
            return -1;
        }
    }
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    w->ber = ber_alloc_t(0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || !w->ber) {
        snprintf(w->err, sizeof w->err, "epoll_create1: %s", strerror(errno));
        w->failed = 1;
        phase = 2;
        return NULL;
    }
    for (int i = 0; i < w->nconns; i++) {
        struct conn *c = &w->conns[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0 || send_search(w, ep, c) < 0) {
            if (!w->err[0])
                snprintf(w->err, sizeof w->err, "epoll_ctl: %s", strerror(errno));
            w->failed = 1;
            phase = 2;
            close(ep);
            return NULL;
        }
    }
    struct epoll_event evs[64];
    while (phase != 2) {
        int n = epoll_wait(ep, evs, 64, 100);
        if (n < 0 && errno != EINTR) {
            snprintf(w->err, sizeof w->err, "epoll_wait: %s", strerror(errno));
            w->failed = 1;
            break;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            int rc = 0;
            if (evs[i].events & EPOLLOUT)
                rc = flush_out(w, ep, c);
            if (rc == 0 && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                rc = on_readable(w, ep, c);
            if (rc < 0) {
                w->failed = 1;
                phase = 2;
                break;
            }
        }
    }
    close(ep);
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

/* ---- -C: every filter once, paged, with a count and an order-independent checksum of DNs
 * (libldap's synchronous API; not timed) ---- */

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
        o.warmup > 600 || o.sizelimit < 0)
        usage();
    if (o.threads > o.conns)
        o.threads = o.conns;
    read_filters(o.filters_path);
    parse_attrs(o.attrs_arg);
    if (o.check)
        return check_mode();
    encode_requests();

    struct worker *ws = calloc(o.threads, sizeof *ws);
    struct conn *all = calloc(o.conns, sizeof *all);
    char err[256];
    for (int i = 0; i < o.conns; i++)
        if (open_raw(&all[i], err, sizeof err) < 0)
            die(err, NULL);
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
    /* UnbindRequest ::= [APPLICATION 2] NULL; the searches still in flight are abandoned. */
    for (int i = 0; i < o.conns; i++) {
        BerElement *ber = ber_alloc_t(LBER_USE_DER);
        struct berval bv;
        ber_int_t id = all[i].msgid >= 0x7fffffff ? 1 : all[i].msgid + 1;
        if (ber && ber_printf(ber, "{itn}", id, LDAP_REQ_UNBIND) != -1 &&
            ber_flatten2(ber, &bv, 0) == 0 && all[i].outoff == all[i].outlen)
            (void)send(all[i].fd, bv.bv_val, bv.bv_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (ber)
            ber_free(ber, 1);
        close(all[i].fd);
    }
    return stopped_early ? 1 : 0;
}
