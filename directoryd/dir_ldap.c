/* dir_ldap.c - the LDAPv3 server: event loops, connections, operations, BER via liblber.
 *
 * Per connection: liblber reads whole messages (ber_get_next on a non-blocking Sockbuf);
 * complete requests queue up (at most MAX_QUEUED, then reading pauses) and run in order. An
 * Abandon is applied as soon as it is read. A search computes its answer (entry indexes)
 * against one snapshot, then streams entries into the output buffer until it holds
 * OUT_HIGH bytes and continues when the client has read them. Paged results keep that
 * answer and the snapshot on the connection between pages, so every entry comes exactly once
 * even if the directory changes meanwhile. Every byte of BER is made and read by liblber.
 *
 * RFC 4511, section 4.1.1 (the envelope):
 *   LDAPMessage ::= SEQUENCE { messageID MessageID, protocolOp CHOICE { bindRequest
 *       BindRequest, ... }, controls [0] Controls OPTIONAL }
 *   Control ::= SEQUENCE { controlType LDAPOID, criticality BOOLEAN DEFAULT FALSE,
 *       controlValue OCTET STRING OPTIONAL }
 */
#include "dir_ldap.h"
#include "dir_entry.h"
#include "dir_filter.h"
#include "dir_ldap_req.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <lber.h>
#include <ldap.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_QUEUED 64
#define OUT_HIGH (256 * 1024)
#define MAX_THREADS 64

struct op {
    struct dir_ldap_req req;
    enum dir_ldap_req_status st;
    size_t bytes; /* the message's size as received */
    struct op *next;
};

/* A search whose answer is being streamed, or a paged answer kept between pages. */
struct result_set {
    struct dir_model *m; /* one reference */
    const struct dir_entry_view *v;
    int *idx, n, pos;
    bool see_private;
};

struct stream {
    ber_int_t msgid;
    struct result_set *rs; /* owned unless it is the connection's paged set */
    int end;               /* stop at this position */
    bool owned;
    bool sel_all_user, sel_all_oper, types_only, special;
    bool *sel;   /* per attribute id */
    int done_rc; /* result code after the last entry */
    const char *done_text;
    /* response controls */
    bool paged;
    uint64_t cookie; /* 0 = none (the last page) */
    bool sorted;
    int sort_rc;
};

struct loop;
struct conn;

enum tls_state { TLS_NONE, TLS_HANDSHAKE, TLS_ON };

/* A staff bind, checked on a bind worker thread: the city LDAP (or argon2id for a local
 * account) may take a while, and the event loop must not wait for it. The loop makes the job;
 * the job queue, then a worker, then the loop's done list own it in turn; the loop frees it.
 * CONN is touched by the loop thread only (NULL once the connection has closed). */
struct bind_job {
    struct loop *loop;
    struct conn *conn;
    ber_int_t msgid;
    char user[128], password[1025], addr[64];
    enum dir_login r; /* the answer */
    struct dir_session_info info;
    char err[256];
    struct bind_job *next;
};

struct conn {
    int fd;
    Sockbuf *sb;
    struct dir_tls *tls; /* LDAPS, or after StartTLS */
    enum tls_state tls_state;
    enum dir_tls_io tls_want; /* what the handshake or the last write waits for */
    bool starttls_pending;    /* the StartTLS answer is queued: TLS starts once it is sent */
    BerElement *cur;          /* message being read */
    struct loop *loop;
    char *out;
    size_t outlen, outoff, outcap;
    struct op *qhead, *qtail;
    int nqueued;
    bool eof, closing;
    uint32_t events; /* registered with epoll */
    /* who */
    bool client;
    uint8_t hash[DIR_AUTH_HASH_LEN];
    char *bind_dn;
    struct bind_job *bind_job; /* a staff bind being checked: later requests wait */
    enum dir_role staff_role;  /* a staff bind (city LDAP password): its role until... */
    long long staff_expires;   /* ...this time, as a web session would */
    /* work */
    struct stream *active;
    bool read_stop;           /* a malformed message is queued: read no further */
    struct result_set *paged; /* a paged answer kept between pages (see paged_keep) */
    uint64_t paged_cookie, next_cookie;
    enum dir_role paged_role;   /* the caller's rights when it was computed */
    long long paged_since;      /* when (now_s()) */
    unsigned char paged_fp[16]; /* the request it answers (dir_ldap_req fingerprint) */
    /* limits (see sweep) */
    uint32_t addr;           /* the peer's IPv4 address (network order), counted per address */
    long long last_active;   /* last bytes read or written (now_s()) */
    long long partial_since; /* bytes of an unfinished message arrived since; 0 = none */
    bool readable;           /* service() runs for an EPOLLIN event */
    size_t queued_bytes;     /* bytes of the requests in the queue */
    struct conn *prev, *next;
};

struct loop {
    struct dir_ldap *srv;
    int ep, stopfd;
    int lfd;     /* this loop's listening socket (SO_REUSEPORT: the kernel spreads connections) */
    int lfd_tls; /* the same for LDAPS, or -1 */
    int donefd;  /* eventfd: a bind worker finished a job for this loop */
    pthread_mutex_t done_mu;
    struct bind_job *done; /* finished jobs (done_mu) */
    pthread_t thread;
    struct conn *conns;
    long long last_sweep, last_refusal_log;
    atomic_int nstale; /* kept paged answers on an old snapshot, at the last sweep */
};

#define BIND_WORKERS 2
#define ADDR_BUCKETS 1024

struct addr_count {
    uint32_t addr;
    int n;
    struct addr_count *next;
};

struct dir_ldap {
    struct dir_ldap_opts o;
    int port, tls_port, nloops;
    struct dir_tls_ctx *tls; /* NULL: no certificate configured */
    char *nsuffix;           /* the suffix, normalised once (bind DNs are compared to it) */
    pthread_t workers[BIND_WORKERS];
    int nworkers;
    pthread_mutex_t jobs_mu;
    pthread_cond_t jobs_cond;
    struct bind_job *jobs, *jobs_tail; /* waiting for a worker (jobs_mu) */
    bool jobs_stop;
    struct loop loops[MAX_THREADS];
    atomic_int nconns;
    atomic_int npaged;         /* paged answers kept on connections */
    atomic_llong queued_total; /* bytes of queued requests, all connections */
    pthread_mutex_t addr_mu;
    struct addr_count *addrs[ADDR_BUCKETS]; /* connections per peer address (addr_mu) */
};

static void paged_drop(struct conn *c);
static struct dir_model *snapshot(struct conn *c);

/* Seconds on the monotonic clock. */
static long long now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

/* ---- connections per address ---- */

/* Counts one more connection from A; false when A already has max_conns_per_addr. */
static bool addr_take(struct dir_ldap *s, uint32_t a)
{
    bool ok = true;
    pthread_mutex_lock(&s->addr_mu);
    struct addr_count **p = &s->addrs[a % ADDR_BUCKETS];
    while (*p && (*p)->addr != a)
        p = &(*p)->next;
    if (!*p) {
        *p = dir_xcalloc(1, sizeof **p);
        (*p)->addr = a;
    }
    if (s->o.max_conns_per_addr > 0 && (*p)->n >= s->o.max_conns_per_addr)
        ok = false;
    else
        (*p)->n++;
    if ((*p)->n == 0) {
        struct addr_count *dead = *p;
        *p = dead->next;
        free(dead);
    }
    pthread_mutex_unlock(&s->addr_mu);
    return ok;
}

static void addr_release(struct dir_ldap *s, uint32_t a)
{
    pthread_mutex_lock(&s->addr_mu);
    struct addr_count **p = &s->addrs[a % ADDR_BUCKETS];
    while (*p && (*p)->addr != a)
        p = &(*p)->next;
    if (*p && --(*p)->n <= 0) {
        struct addr_count *dead = *p;
        *p = dead->next;
        free(dead);
    }
    pthread_mutex_unlock(&s->addr_mu);
}

/* ---- queued requests ---- */

static void queue_account(struct conn *c, const struct op *o, bool add)
{
    if (add) {
        c->queued_bytes += o->bytes;
        atomic_fetch_add(&c->loop->srv->queued_total, (long long)o->bytes);
    } else {
        c->queued_bytes -= o->bytes;
        atomic_fetch_sub(&c->loop->srv->queued_total, (long long)o->bytes);
    }
}

/* May C read another request? Always when its queue is empty (so every connection makes
 * progress); otherwise only under its own cap and the server-wide one. */
static bool may_queue(const struct conn *c)
{
    const struct dir_ldap *s = c->loop->srv;
    if (c->nqueued >= MAX_QUEUED) return false;
    if (c->nqueued == 0) return true;
    return (s->o.max_queued_conn <= 0 || c->queued_bytes < (size_t)s->o.max_queued_conn) &&
           (s->o.max_queued_total <= 0 ||
            atomic_load(&s->queued_total) < (long long)s->o.max_queued_total);
}

/* ---- output ---- */

static void out_add(struct conn *c, const void *p, size_t n)
{
    if (c->outoff && c->outoff == c->outlen) c->outoff = c->outlen = 0;
    if (c->outlen + n > c->outcap) {
        if (c->outoff) {
            memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
            c->outlen -= c->outoff;
            c->outoff = 0;
        }
        while (c->outlen + n > c->outcap)
            c->outcap = c->outcap ? c->outcap * 2 : 16384;
        c->out = dir_xrealloc(c->out, c->outcap);
    }
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
}

static size_t out_pending(const struct conn *c)
{
    return c->outlen - c->outoff;
}

/* Flattens a finished message into the output buffer and frees BER. */
static void send_ber(struct conn *c, BerElement *ber)
{
    struct berval bv;
    if (ber_flatten2(ber, &bv, 0) == 0) out_add(c, bv.bv_val, bv.bv_len);
    ber_free(ber, 1);
}

static BerElement *msg_begin(ber_int_t msgid)
{
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    if (!ber) {
        DIR_LOG(DIR_LOG_ERROR, "ldap", "out of memory");
        abort();
    }
    ber_printf(ber, "{i", msgid);
    return ber;
}

/* LDAPResult ::= SEQUENCE { resultCode ENUMERATED, matchedDN LDAPDN,
 *     diagnosticMessage LDAPString, referral [3] Referral OPTIONAL } */
static void send_result(struct conn *c, ber_int_t msgid, ber_tag_t tag, int rc, const char *matched,
                        const char *text)
{
    BerElement *ber = msg_begin(msgid);
    ber_printf(ber, "t{ess}}", tag, (ber_int_t)rc, matched ? matched : "", text ? text : "");
    send_ber(c, ber);
}

/* ExtendedResponse ::= [APPLICATION 24] SEQUENCE { COMPONENTS OF LDAPResult,
 *     responseName [10] LDAPOID OPTIONAL, responseValue [11] OCTET STRING OPTIONAL } */
static void send_extended(struct conn *c, ber_int_t msgid, int rc, const char *text,
                          const char *oid, const struct berval *value)
{
    BerElement *ber = msg_begin(msgid);
    ber_printf(ber, "t{ess", (ber_tag_t)LDAP_RES_EXTENDED, (ber_int_t)rc, "", text ? text : "");
    if (oid) ber_printf(ber, "ts", (ber_tag_t)LDAP_TAG_EXOP_RES_OID, oid);
    if (value) ber_printf(ber, "tO", (ber_tag_t)LDAP_TAG_EXOP_RES_VALUE, value);
    ber_printf(ber, "}}");
    send_ber(c, ber);
}

/* Notice of Disconnection (RFC 4511 section 4.4.1), then close once it is written. */
static void disconnect(struct conn *c, int rc, const char *why)
{
    DIR_LOG(DIR_LOG_INFO, "ldap", "closing connection fd=%d: %s", c->fd, why);
    send_extended(c, 0, rc, why, DIR_LDAP_OID_NOTICE, NULL);
    c->closing = true;
}

/* ---- connections ---- */

static void rs_free(struct result_set *rs)
{
    if (!rs) return;
    free(rs->idx);
    dir_model_release(rs->m);
    free(rs);
}

static void stream_free(struct stream *s)
{
    if (!s) return;
    if (s->owned) rs_free(s->rs);
    free(s->sel);
    free(s);
}

static void op_free(struct op *o)
{
    dir_ldap_req_free(&o->req);
    free(o);
}

static void conn_close(struct conn *c)
{
    struct loop *l = c->loop;
    epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->cur) ber_free(c->cur, 1);
    while (c->qhead) {
        struct op *o = c->qhead;
        c->qhead = o->next;
        queue_account(c, o, false);
        op_free(o);
    }
    stream_free(c->active);
    paged_drop(c);
    addr_release(l->srv, c->addr);
    if (c->bind_job) c->bind_job->conn = NULL; /* the loop frees it when the worker hands it back */
    dir_tls_free(c->tls);                      /* before the socket closes: close_notify */
    ber_sockbuf_free(c->sb);                   /* closes the socket */
    free(c->out);
    free(c->bind_dn);
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    atomic_fetch_sub(&l->srv->nconns, 1);
    free(c);
}

/* The caller's role now: a client bind is checked against the current snapshot each time,
 * so a revoked or expired key stops working on open connections too. */
static enum dir_role role_of(struct conn *c, const struct dir_model *m)
{
    if (c->staff_role && c->staff_expires > (long long)time(NULL)) return c->staff_role;
    if (!c->client || !m) return DIR_ROLE_ANON;
    const struct dir_client *cl = dir_model_client(m, c->hash);
    if (!cl || cl->revoked || (cl->expires && cl->expires <= time(NULL))) return DIR_ROLE_ANON;
    return cl->role;
}

/* ---- paged results kept between pages ----
 *
 * A paged search's answer is kept on its connection with what it was computed for: the
 * request (its fingerprint: RFC 2696 has the client send the same request with each cookie)
 * and the rights of whoever asked. A bind drops it; each page checks that the caller's rights
 * are still the same in the current snapshot (a revoked or expired key, or a changed role,
 * drops it); it expires after ldap_paged_ttl seconds, and early when too many kept answers
 * pin old snapshots (see sweep()). */

static void paged_drop(struct conn *c)
{
    if (!c->paged) return;
    rs_free(c->paged);
    c->paged = NULL;
    atomic_fetch_sub(&c->loop->srv->npaged, 1);
}

static void paged_keep(struct conn *c, const struct dir_ldap_req *q, struct result_set *rs,
                       enum dir_role role)
{
    paged_drop(c); /* one paged search at a time per connection */
    c->paged = rs;
    c->paged_cookie = ++c->next_cookie;
    c->paged_role = role;
    c->paged_since = now_s();
    memcpy(c->paged_fp, q->fingerprint, sizeof c->paged_fp);
    atomic_fetch_add(&c->loop->srv->npaged, 1);
}

/* The next page of the kept answer for Q's cookie, into stream S (which it takes over when
 * it returns true). */
static bool paged_continue(struct conn *c, const struct dir_ldap_req *q, struct stream *s)
{
    const struct dir_ldap_opts *opt = &c->loop->srv->o;
    uint64_t ck = 0;
    for (size_t i = 0; i < 8 && i < q->paged.cookie_len; i++)
        ck |= (uint64_t)q->paged.cookie[i] << (8 * i);
    if (!c->paged || q->paged.cookie_len != 8 || ck != c->paged_cookie) {
        send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_UNWILLING_TO_PERFORM, NULL,
                    "paged results cookie expired; start the search again");
        return false;
    }
    if (memcmp(q->fingerprint, c->paged_fp, sizeof c->paged_fp) != 0) {
        send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_UNWILLING_TO_PERFORM, NULL,
                    "the paged results cookie belongs to another search: send the same "
                    "request (base, scope, filter, attributes, controls) with it");
        return false;
    }
    struct dir_model *m = snapshot(c);
    enum dir_role role = role_of(c, m);
    dir_model_release(m);
    if (role != c->paged_role) {
        paged_drop(c);
        send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_INSUFFICIENT_ACCESS, NULL,
                    "the rights this paged search was started with have changed (revoked or "
                    "expired); bind again and start the search again");
        return false;
    }
    if (opt->paged_ttl > 0 && now_s() - c->paged_since > opt->paged_ttl) {
        paged_drop(c);
        send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_UNWILLING_TO_PERFORM, NULL,
                    "paged results cookie expired; start the search again");
        return false;
    }
    if (q->paged.size == 0) { /* the client abandons the paged search */
        paged_drop(c);
        send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_SUCCESS, NULL, NULL);
        return false;
    }
    int page = q->paged.size;
    if (opt->size_limit > 0 && page > opt->size_limit) page = opt->size_limit;
    s->rs = c->paged;
    s->owned = false;
    s->end = s->rs->n - s->rs->pos > page ? s->rs->pos + page : s->rs->n;
    s->paged = true;
    s->sorted = q->sort.present;
    s->sort_rc = q->sort.present && dir_entry_attr_find(q->sort.attr) < 0 ? LDAP_NO_SUCH_ATTRIBUTE
                                                                          : LDAP_SUCCESS;
    s->cookie = s->end < s->rs->n ? (c->paged_cookie = ++c->next_cookie) : 0;
    s->done_rc = LDAP_SUCCESS;
    c->active = s;
    return true;
}

/* ---- operations ---- */

static struct dir_model *snapshot(struct conn *c)
{
    return dir_refresh_acquire(c->loop->srv->o.refresh);
}

/* A staff member binds with their city LDAP username and password, as
 * uid=<username>,ou=people,<suffix> or as the bare username: checked like a web login (the
 * city LDAP, or a local account; the same brake on guessing). The check blocks this event
 * loop for as long as the city LDAP takes (its timeouts are 5 s); binds are rare. */
static void staff_bind(struct conn *c, ber_int_t msgid, const char *ndn,
                       const struct dir_ldap_str *pw)
{
    char user[128] = "", people[640];
    snprintf(people, sizeof people, ",ou=people,%s", c->loop->srv->nsuffix);
    size_t n = strlen(ndn), t = strlen(people);
    if (n > t + 4 && strncmp(ndn, "uid=", 4) == 0 && strcmp(ndn + n - t, people) == 0 &&
        n - t - 4 < sizeof user)
        snprintf(user, sizeof user, "%.*s", (int)(n - t - 4), ndn + 4);
    else if (!strchr(ndn, '=') && n < sizeof user)
        snprintf(user, sizeof user, "%s", ndn);
    struct dir_sessions *sessions = c->loop->srv->o.sessions;
    if (!*user || !sessions || pw->n > 1024) {
        send_result(c, msgid, LDAP_RES_BIND, LDAP_INVALID_CREDENTIALS, NULL, "invalid credentials");
        return;
    }
    struct bind_job *j = dir_xcalloc(1, sizeof *j);
    j->loop = c->loop;
    j->conn = c;
    j->msgid = msgid;
    snprintf(j->user, sizeof j->user, "%s", user);
    memcpy(j->password, pw->p, pw->n);
    j->password[pw->n] = '\0';
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    if (getpeername(c->fd, (struct sockaddr *)&sa, &sl) == 0 && sa.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, j->addr, sizeof j->addr);
    c->bind_job = j;
    struct dir_ldap *srv = c->loop->srv;
    pthread_mutex_lock(&srv->jobs_mu);
    if (srv->jobs_tail)
        srv->jobs_tail->next = j;
    else
        srv->jobs = j;
    srv->jobs_tail = j;
    pthread_cond_signal(&srv->jobs_cond);
    pthread_mutex_unlock(&srv->jobs_mu);
}

/* A bind worker: checks staff passwords, hands each finished job back to its loop. */
static void *bind_worker(void *arg)
{
    struct dir_ldap *srv = arg;
    for (;;) {
        pthread_mutex_lock(&srv->jobs_mu);
        while (!srv->jobs && !srv->jobs_stop)
            pthread_cond_wait(&srv->jobs_cond, &srv->jobs_mu);
        struct bind_job *j = srv->jobs;
        if (!j || srv->jobs_stop) {
            pthread_mutex_unlock(&srv->jobs_mu);
            return NULL;
        }
        srv->jobs = j->next;
        if (!srv->jobs) srv->jobs_tail = NULL;
        pthread_mutex_unlock(&srv->jobs_mu);
        char token[512];
        int retry = 0;
        j->r = dir_session_login(srv->o.sessions, j->user, j->password, j->addr, token,
                                 sizeof token, &j->info, &retry, j->err, sizeof j->err);
        explicit_bzero(j->password, sizeof j->password);
        explicit_bzero(token, sizeof token);
        struct loop *l = j->loop;
        pthread_mutex_lock(&l->done_mu);
        j->next = l->done;
        l->done = j;
        pthread_mutex_unlock(&l->done_mu);
        uint64_t one = 1;
        if (write(l->donefd, &one, sizeof one) < 0)
            DIR_LOG(DIR_LOG_WARN, "ldap", "cannot wake an event loop");
    }
}

/* The answer to a staff bind, on the loop thread. */
static void staff_bind_done(struct conn *c, struct bind_job *j)
{
    c->bind_job = NULL;
    switch (j->r) {
    case DIR_LOGIN_OK: {
        c->staff_role = j->info.role;
        c->staff_expires = j->info.expires;
        char bdn[800];
        snprintf(bdn, sizeof bdn, "uid=%s,ou=people,%s", j->user, dir_entry_suffix());
        c->bind_dn = dir_xstrdup(bdn);
        DIR_LOG(DIR_LOG_INFO, "ldap", "bind as staff %s (%s)", j->user,
                dir_auth_role_name(j->info.role));
        send_result(c, j->msgid, LDAP_RES_BIND, LDAP_SUCCESS, NULL, NULL);
        return;
    }
    case DIR_LOGIN_LIMITED:
        send_result(c, j->msgid, LDAP_RES_BIND, LDAP_UNWILLING_TO_PERFORM, NULL,
                    "too many failed logins; try again later");
        return;
    case DIR_LOGIN_UNAVAILABLE:
        send_result(c, j->msgid, LDAP_RES_BIND, LDAP_UNAVAILABLE, NULL,
                    "the password cannot be checked right now");
        return;
    default:
        DIR_LOG(DIR_LOG_INFO, "ldap", "staff bind refused for %.64s: %s", j->user, j->err);
        send_result(c, j->msgid, LDAP_RES_BIND, LDAP_INVALID_CREDENTIALS, NULL,
                    "invalid credentials");
    }
}

/* BindRequest (decoded by dir_ldap_req.c): anonymous, an API client DN with its secret, or a
 * staff member's DN or username with their password. The whole secret counts: a password
 * holding a NUL byte is refused (it would otherwise be compared only up to the NUL). */
static void do_bind(struct conn *c, struct op *o)
{
    const struct dir_ldap_req *q = &o->req;
    const struct dir_ldap_str *name = &q->bind.name, *pw = &q->bind.password;
    if (q->bind.version != LDAP_VERSION3) {
        send_result(c, q->msgid, LDAP_RES_BIND, LDAP_PROTOCOL_ERROR, NULL,
                    "only LDAP version 3 is supported");
        return;
    }
    if (q->bind.auth != DIR_LDAP_AUTH_SIMPLE) {
        send_result(c, q->msgid, LDAP_RES_BIND, LDAP_AUTH_METHOD_NOT_SUPPORTED, NULL,
                    "only simple binds are supported (anonymous, or an API client DN with its "
                    "secret)");
        return;
    }
    if (name->n == 0 && pw->n == 0) {
        send_result(c, q->msgid, LDAP_RES_BIND, LDAP_SUCCESS, NULL, NULL);
        return;
    }
    if (pw->n == 0) {
        send_result(c, q->msgid, LDAP_RES_BIND, LDAP_UNWILLING_TO_PERFORM, NULL,
                    "unauthenticated bind (a DN without a password) is not allowed");
        return;
    }
    if (memchr(pw->p, 0, pw->n) || memchr(name->p, 0, name->n)) {
        DIR_LOG(DIR_LOG_INFO, "ldap", "bind refused: a NUL byte in the name or password");
        send_result(c, q->msgid, LDAP_RES_BIND, LDAP_INVALID_CREDENTIALS, NULL,
                    "invalid credentials");
        return;
    }
    const char *dn = name->p;
    char *ndn = name->n < 1023 ? dir_entry_dn_normalize(dn) : NULL;
    char tail[600];
    snprintf(tail, sizeof tail, ",ou=clients,%s", c->loop->srv->nsuffix);
    const char *cname = NULL;
    size_t nlen = ndn ? strlen(ndn) : 0, tlen = strlen(tail);
    if (ndn && nlen > tlen + 3 && strncmp(ndn, "cn=", 3) == 0 &&
        strcmp(ndn + nlen - tlen, tail) == 0) {
        ndn[nlen - tlen] = '\0';
        cname = ndn + 3;
    }
    bool ok = false;
    struct dir_model *m = cname && pw->n <= 256 ? snapshot(c) : NULL;
    if (m) {
        uint8_t hash[DIR_AUTH_HASH_LEN];
        dir_auth_hash(pw->p, hash);
        const struct dir_client *cl = dir_model_client(m, hash);
        if (cl && strcasecmp(cl->name, cname) == 0 && !cl->revoked &&
            (!cl->expires || cl->expires > time(NULL))) {
            ok = true;
            c->client = true;
            memcpy(c->hash, hash, sizeof hash);
            char bdn[700];
            snprintf(bdn, sizeof bdn, "cn=%s,ou=clients,%s", cl->name, dir_entry_suffix());
            c->bind_dn = dir_xstrdup(bdn);
            DIR_LOG(DIR_LOG_INFO, "ldap", "bind as api client %s (%s)", cl->name,
                    dir_auth_role_name(cl->role));
        }
        explicit_bzero(hash, sizeof hash);
        dir_model_release(m);
    }
    if (!ok && !cname) {
        /* Not an API client: a staff DN, or a bare username (not a DN at all). */
        staff_bind(c, q->msgid, ndn ? ndn : dn, pw);
        free(ndn);
        return;
    }
    free(ndn);
    if (ok)
        send_result(c, q->msgid, LDAP_RES_BIND, LDAP_SUCCESS, NULL, NULL);
    else
        send_result(c, q->msgid, LDAP_RES_BIND, LDAP_INVALID_CREDENTIALS, NULL,
                    "invalid credentials");
}

static void emit_entry(struct conn *c, struct stream *s, const struct dir_entry *e)
{
    BerElement *ber = msg_begin(s->msgid);
    bool see_private = s->rs->see_private;
    ber_printf(ber, "t{s{", (ber_tag_t)LDAP_RES_SEARCH_ENTRY, e->dn);
    for (int k = 0; k < e->nattrs; k++) {
        const struct dir_fattr *a = &e->attrs[k];
        bool oper = dir_entry_attr_operational(a->id);
        bool want = s->sel[a->id] ||
                    (oper ? s->sel_all_oper || (s->special && s->sel_all_user) : s->sel_all_user);
        if (!want) continue;
        int shown = 0;
        for (int j = 0; j < a->nvals; j++) {
            if (a->vals[j].priv && !see_private) continue;
            if (shown++ == 0) ber_printf(ber, "{s[", dir_entry_attr_name(a->id));
            if (!s->types_only) ber_printf(ber, "o", a->vals[j].val, (ber_len_t)a->vals[j].len);
        }
        if (shown) ber_printf(ber, "]}");
    }
    ber_printf(ber, "}}}");
    send_ber(c, ber);
}

static void finish_search(struct conn *c, struct stream *s)
{
    BerElement *ber = msg_begin(s->msgid);
    ber_printf(ber, "t{ess}", (ber_tag_t)LDAP_RES_SEARCH_RESULT, (ber_int_t)s->done_rc, "",
               s->done_text ? s->done_text : "");
    if (s->paged || s->sorted) {
        ber_printf(ber, "t{", (ber_tag_t)LDAP_TAG_CONTROLS);
        if (s->paged) {
            BerElement *vb = ber_alloc_t(LBER_USE_DER);
            char ck[8];
            for (int i = 0; i < 8; i++)
                ck[i] = (char)(s->cookie >> (8 * i));
            ber_printf(vb, "{io}", (ber_int_t)0, ck, (ber_len_t)(s->cookie ? 8 : 0));
            struct berval bv;
            ber_flatten2(vb, &bv, 0);
            ber_printf(ber, "{sO}", DIR_LDAP_OID_PAGED, &bv);
            ber_free(vb, 1);
        }
        if (s->sorted) {
            /* SortResult ::= SEQUENCE { sortResult ENUMERATED, attributeType [0] OPTIONAL } */
            BerElement *vb = ber_alloc_t(LBER_USE_DER);
            ber_printf(vb, "{e}", (ber_int_t)s->sort_rc);
            struct berval bv;
            ber_flatten2(vb, &bv, 0);
            ber_printf(ber, "{sO}", DIR_LDAP_OID_SORT_RESP, &bv);
            ber_free(vb, 1);
        }
        ber_printf(ber, "}");
    }
    ber_printf(ber, "}");
    send_ber(c, ber);
}

/* Streams the active search until the output buffer is full; true when it finished. */
static bool stream_some(struct conn *c)
{
    struct stream *s = c->active;
    while (s->rs->pos < s->end && out_pending(c) < OUT_HIGH) {
        const struct dir_entry *e = dir_entry_at(s->rs->v, s->rs->idx[s->rs->pos++]);
        emit_entry(c, s, e);
    }
    if (s->rs->pos < s->end) return false;
    finish_search(c, s);
    if (!s->owned && !s->cookie) /* the last page: drop the kept answer */
        paged_drop(c);
    stream_free(s);
    c->active = NULL;
    return true;
}

/* Attribute selection: "*", "+", "1.1" or names; an empty list means all user attributes. */
static void select_attrs(struct stream *s, const struct dir_ldap_req *q)
{
    s->sel = dir_xcalloc((size_t)dir_entry_attr_count(), sizeof *s->sel);
    s->types_only = q->search.types_only;
    for (int i = 0; i < q->search.nattrs; i++) {
        const char *name = q->search.attrs[i];
        if (strcmp(name, "1.1") == 0) continue;
        if (strcmp(name, "*") == 0)
            s->sel_all_user = true;
        else if (strcmp(name, "+") == 0)
            s->sel_all_oper = true;
        else {
            int id = dir_entry_attr_find(name);
            if (id >= 0) s->sel[id] = true;
        }
    }
    if (q->search.nattrs == 0) s->sel_all_user = true;
}

/* SearchRequest (decoded by dir_ldap_req.c): a new search, or the next page of the paged
 * search kept on this connection. */
static void do_search(struct conn *c, struct op *o)
{
    if (c->loop->srv->o.used) atomic_store(c->loop->srv->o.used, true);
    const struct dir_ldap_opts *opt = &c->loop->srv->o;
    struct dir_ldap_req *q = &o->req;
    const char *matched = NULL;
    struct stream *s = dir_xcalloc(1, sizeof *s);
    s->msgid = q->msgid;
    select_attrs(s, q);

    /* Continuing a paged search: the kept answer, next page. */
    if (q->paged.present && q->paged.cookie_len) {
        if (!paged_continue(c, q, s)) stream_free(s);
        return;
    }

    struct dir_model *m = snapshot(c);
    if (!m) {
        stream_free(s);
        send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_UNAVAILABLE, NULL,
                    "the directory is still loading");
        return;
    }
    if (strlen(q->search.base.p) != q->search.base.n) {
        dir_model_release(m);
        stream_free(s);
        send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_INVALID_DN_SYNTAX, NULL,
                    "invalid base DN");
        return;
    }
    enum dir_role role = role_of(c, m);
    const struct dir_entry_view *v = dir_entry_view(m);
    int sizelimit = q->search.size_limit;
    int limit = sizelimit > 0 ? sizelimit : 0;
    if (opt->size_limit > 0 && (limit == 0 || limit > opt->size_limit) && !q->paged.present)
        limit = opt->size_limit;
    int tl = q->search.time_limit > 0 ? q->search.time_limit : 0;
    if (opt->time_limit > 0 && (tl == 0 || tl > opt->time_limit)) tl = opt->time_limit;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += tl;
    struct dir_entry_search es = {.base = q->search.base.p,
                                  .scope = (enum dir_scope)q->search.scope,
                                  .filter = q->search.filter,
                                  .role = role,
                                  .size_limit = limit,
                                  .deadline = tl ? &deadline : NULL,
                                  .sort_attr = -1,
                                  .after = -1};
    if (q->sort.present) {
        es.sort_attr = dir_entry_attr_find(q->sort.attr);
        es.sort_reverse = q->sort.reverse;
        s->sorted = true;
        s->sort_rc = es.sort_attr >= 0 ? LDAP_SUCCESS : LDAP_NO_SUCH_ATTRIBUTE;
        if (es.sort_attr < 0 && q->sort.critical) {
            dir_model_release(m);
            stream_free(s);
            send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_UNAVAILABLE_CRITICAL_EXTENSION,
                        NULL, "cannot sort by that attribute");
            return;
        }
    }
    struct dir_entry_result r;
    enum dir_rc erc = dir_entry_search(v, &es, &r, &matched);
    if (erc != DIR_OK) {
        int rc = erc == DIR_ERR_INVALID ? LDAP_INVALID_DN_SYNTAX : LDAP_NO_SUCH_OBJECT;
        const char *text = erc == DIR_ERR_INVALID ? "invalid base DN" : "no such entry";
        char *md = dir_xstrdup(matched ? matched : "");
        dir_model_release(m);
        stream_free(s);
        send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, rc, md, text);
        free(md);
        return;
    }
    const struct dir_entry *be = dir_entry_at(v, r.base);
    s->special = es.scope == DIR_SCOPE_BASE &&
                 (be->dn[0] == '\0' || strcasecmp(be->dn, "cn=Subschema") == 0);
    struct result_set *rs = dir_xcalloc(1, sizeof *rs);
    rs->m = m;
    rs->v = v;
    rs->idx = r.idx;
    rs->n = r.n;
    rs->see_private = role >= DIR_ROLE_CASEWORKER;
    s->done_rc = LDAP_SUCCESS;
    if (r.time_exceeded) {
        s->done_rc = LDAP_TIMELIMIT_EXCEEDED;
        s->done_text = "time limit exceeded";
    }
    if (q->paged.present) {
        if (sizelimit > 0 && rs->n > sizelimit) {
            rs->n = sizelimit; /* the client's own limit applies to the whole answer */
            s->done_rc = LDAP_SIZELIMIT_EXCEEDED;
            s->done_text = "size limit exceeded";
        }
        int page = q->paged.size > 0 ? q->paged.size : rs->n;
        if (opt->size_limit > 0 && page > opt->size_limit) page = opt->size_limit;
        s->paged = true;
        s->end = page < rs->n ? page : rs->n;
        s->rs = rs;
        if (s->end < rs->n) {
            paged_keep(c, q, rs, role);
            s->cookie = c->paged_cookie;
            s->owned = false;
            if (s->done_rc == LDAP_SIZELIMIT_EXCEEDED)
                s->done_rc = LDAP_SUCCESS; /* reported on the last page */
        } else {
            s->owned = true;
        }
    } else {
        s->rs = rs;
        s->owned = true;
        s->end = rs->n;
        if (r.size_exceeded) {
            s->end = limit;
            s->done_rc = LDAP_SIZELIMIT_EXCEEDED;
            s->done_text = "size limit exceeded";
        }
    }
    c->active = s;
}

/* CompareRequest (decoded by dir_ldap_req.c). */
static void do_compare(struct conn *c, struct op *o)
{
    const struct dir_ldap_req *q = &o->req;
    struct dir_model *m = snapshot(c);
    if (!m) {
        send_result(c, q->msgid, LDAP_RES_COMPARE, LDAP_UNAVAILABLE, NULL, "still loading");
        return;
    }
    if (strlen(q->compare.dn.p) != q->compare.dn.n) {
        dir_model_release(m);
        send_result(c, q->msgid, LDAP_RES_COMPARE, LDAP_INVALID_DN_SYNTAX, NULL, "invalid DN");
        return;
    }
    struct dir_filter *f = dir_filter_new(DIR_FILTER_EQUALITY);
    dir_filter_set_attr(f, q->compare.attr.p, q->compare.attr.n);
    dir_filter_set_value(f, q->compare.value.p, q->compare.value.n);
    enum dir_role role = role_of(c, m);
    struct dir_entry_search es = {.base = q->compare.dn.p,
                                  .scope = DIR_SCOPE_BASE,
                                  .role = role,
                                  .sort_attr = -1,
                                  .after = -1};
    struct dir_entry_result r;
    const char *matched;
    const struct dir_entry_view *v = dir_entry_view(m);
    enum dir_rc erc = dir_entry_search(v, &es, &r, &matched);
    int rc;
    if (erc == DIR_ERR_INVALID)
        rc = LDAP_INVALID_DN_SYNTAX;
    else if (erc)
        rc = LDAP_NO_SUCH_OBJECT;
    else {
        dir_filter_prepare(f, dir_entry_resolve, NULL);
        const struct dir_entry *e = dir_entry_at(v, r.base);
        struct dir_fentry fe = {e->attrs, e->nattrs, e->ndn, role >= DIR_ROLE_CASEWORKER};
        enum dir_tri t = dir_filter_match(f, &fe);
        rc = f->attr_id < 0  ? LDAP_UNDEFINED_TYPE
             : t == DIR_TRUE ? LDAP_COMPARE_TRUE
                             : LDAP_COMPARE_FALSE;
        free(r.idx);
    }
    dir_filter_free(f);
    dir_model_release(m);
    send_result(c, q->msgid, LDAP_RES_COMPARE, rc, NULL, NULL);
}

/* ExtendedRequest (decoded by dir_ldap_req.c, which answers every other OID). */
static void do_extended(struct conn *c, struct op *o)
{
    const struct dir_ldap_req *q = &o->req;
    if (strcmp(q->extended.oid.p, DIR_LDAP_OID_WHOAMI) == 0) {
        /* RFC 4532: the authzId, "dn:<DN>", or empty for anonymous. */
        struct dir_model *m = snapshot(c);
        char id[800] = "";
        if ((c->client || c->staff_role) && role_of(c, m) != DIR_ROLE_ANON && c->bind_dn)
            snprintf(id, sizeof id, "dn:%s", c->bind_dn);
        dir_model_release(m);
        struct berval bv = {strlen(id), id};
        send_extended(c, q->msgid, LDAP_SUCCESS, NULL, NULL, &bv);
        return;
    }
    /* StartTLS, RFC 4511 section 4.14: TLS starts right after this answer; no other request
     * may be outstanding, and TLS cannot start twice. */
    if (!c->loop->srv->tls)
        send_extended(c, q->msgid, LDAP_UNAVAILABLE,
                      "StartTLS is not available: no certificate is configured "
                      "(ldap_tls_cert, ldap_tls_key)",
                      DIR_LDAP_OID_STARTTLS, NULL);
    else if (c->tls)
        send_extended(c, q->msgid, LDAP_OPERATIONS_ERROR, "TLS is already in use",
                      DIR_LDAP_OID_STARTTLS, NULL);
    else if (c->qhead || c->active)
        send_extended(c, q->msgid, LDAP_OPERATIONS_ERROR,
                      "StartTLS while other requests are outstanding", DIR_LDAP_OID_STARTTLS, NULL);
    else {
        send_extended(c, q->msgid, LDAP_SUCCESS, NULL, DIR_LDAP_OID_STARTTLS, NULL);
        c->starttls_pending = true;
    }
}

/* A bind always resets the connection to anonymous first (RFC 4513 section 4), and drops a
 * kept paged answer: it was computed for the old identity. */
static void reset_identity(struct conn *c)
{
    c->client = false;
    c->staff_role = DIR_ROLE_ANON;
    explicit_bzero(c->hash, sizeof c->hash);
    free(c->bind_dn);
    c->bind_dn = NULL;
    paged_drop(c);
}

static void dispatch(struct conn *c, struct op *o)
{
    const struct dir_ldap_req *q = &o->req;
    if (o->st == DIR_LDAP_REQ_MALFORMED) {
        disconnect(c, LDAP_PROTOCOL_ERROR, q->text);
        return;
    }
    if (q->op == DIR_LDAP_OP_BIND) reset_identity(c);
    if (q->op == DIR_LDAP_OP_UNBIND) {
        c->closing = true;
        return;
    }
    if (o->st == DIR_LDAP_REQ_ANSWER) {
        if (q->res_tag) send_result(c, q->msgid, q->res_tag, q->rc, NULL, q->text);
        return;
    }
    switch (q->op) {
    case DIR_LDAP_OP_BIND:
        do_bind(c, o);
        break;
    case DIR_LDAP_OP_SEARCH:
        do_search(c, o);
        break;
    case DIR_LDAP_OP_COMPARE:
        do_compare(c, o);
        break;
    case DIR_LDAP_OP_EXTENDED:
        do_extended(c, o);
        break;
    default: /* the decoder answers writes and refuses unknown operations */
        disconnect(c, LDAP_PROTOCOL_ERROR, "unknown operation");
        break;
    }
}

/* AbandonRequest: applied as soon as it is read. */
static void do_abandon(struct conn *c, int id)
{
    if (c->active && c->active->msgid == id) {
        if (!c->active->owned) paged_drop(c);
        stream_free(c->active);
        c->active = NULL;
        return;
    }
    for (struct op **p = &c->qhead, *prev = NULL; *p; prev = *p, p = &(*p)->next) {
        if ((*p)->req.msgid == id) {
            struct op *o = *p;
            *p = o->next;
            if (c->qtail == o) c->qtail = prev;
            c->nqueued--;
            queue_account(c, o, false);
            op_free(o);
            return;
        }
    }
}

/* Reads complete messages, decodes them and queues them, until the socket is drained or the
 * queue full (see may_queue). A malformed message is queued too (its turn closes the
 * connection) and reading stops there. Bytes that arrive without completing a message start
 * the message deadline (partial_since; see sweep). */
static void read_messages(struct conn *c, bool readable)
{
    int completed = 0;
    while (!c->eof && !c->closing && !c->read_stop && !c->starttls_pending && may_queue(c)) {
        if (!c->cur && !(c->cur = ber_alloc_t(0))) {
            DIR_LOG(DIR_LOG_ERROR, "ldap", "out of memory");
            abort();
        }
        ber_len_t len;
        errno = 0;
        ber_tag_t tag = ber_get_next(c->sb, &len, c->cur);
        if (tag != LDAP_TAG_MESSAGE) {
            int e = errno;
            if (tag == LBER_DEFAULT && (e == EAGAIN || e == EWOULDBLOCK)) {
                if (readable && completed == 0 && !c->partial_since) c->partial_since = now_s();
                return;
            }
            ber_free(c->cur, 1);
            c->cur = NULL;
            if (tag == LBER_DEFAULT && (e == 0 || e == ECONNRESET || e == EPIPE)) {
                c->eof = true;
                return;
            }
            disconnect(c, LDAP_PROTOCOL_ERROR,
                       e == ERANGE ? "message larger than the server accepts (ldap_max_message)"
                                   : "malformed BER");
            return;
        }
        BerElement *ber = c->cur;
        c->cur = NULL;
        completed++;
        c->partial_since = 0;
        c->last_active = now_s();
        struct op *o = dir_xcalloc(1, sizeof *o);
        o->st = dir_ldap_req_decode_ber(ber, &o->req);
        o->bytes = len;
        ber_free(ber, 1);
        if (o->req.op == DIR_LDAP_OP_ABANDON && o->st != DIR_LDAP_REQ_MALFORMED) {
            if (o->st == DIR_LDAP_REQ_OK) /* not with an unsupported critical control */
                do_abandon(c, o->req.abandon_id);
            op_free(o);
            continue;
        }
        if (o->st == DIR_LDAP_REQ_MALFORMED) c->read_stop = true;
        if (c->qtail)
            c->qtail->next = o;
        else
            c->qhead = o;
        c->qtail = o;
        c->nqueued++;
        queue_account(c, o, true);
    }
}

/* Runs queued work until output backs up; true when anything happened. */
static bool run_work(struct conn *c)
{
    bool did = false;
    while (!c->closing && !c->starttls_pending && !c->bind_job && out_pending(c) < OUT_HIGH) {
        if (c->active) {
            stream_some(c);
            did = true;
            continue;
        }
        struct op *o = c->qhead;
        if (!o) break;
        c->qhead = o->next;
        if (!c->qhead) c->qtail = NULL;
        c->nqueued--;
        queue_account(c, o, false);
        dispatch(c, o);
        op_free(o);
        did = true;
    }
    return did;
}

/* Writes what it can; false on a write error. */
static bool flush_out(struct conn *c)
{
    c->tls_want = DIR_TLS_DONE;
    while (out_pending(c) && c->tls) {
        size_t n = 0;
        enum dir_tls_io r = dir_tls_write(c->tls, c->out + c->outoff, out_pending(c), &n);
        if (r == DIR_TLS_FAILED) return false;
        if (r != DIR_TLS_DONE) {
            c->tls_want = r;
            return true;
        }
        c->outoff += n;
        c->last_active = now_s();
    }
    while (out_pending(c)) {
        ssize_t n = send(c->fd, c->out + c->outoff, out_pending(c), MSG_NOSIGNAL);
        if (n > 0) {
            c->outoff += (size_t)n;
            c->last_active = now_s();
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        if (n < 0 && errno == EINTR) continue;
        return false;
    }
    c->outoff = c->outlen = 0;
    return true;
}

/* Reading pauses while the queue is full or output backs up; EPOLLOUT also stands for
 * "work remains", since a writable socket wakes the loop at once. */
static void set_events(struct conn *c)
{
    bool want_in = !c->eof && !c->closing && !c->read_stop && !c->starttls_pending &&
                   may_queue(c) && out_pending(c) < OUT_HIGH;
    bool want_out = out_pending(c) > 0 || c->active || (c->qhead && !c->closing && !c->bind_job);
    if (c->tls_state == TLS_HANDSHAKE) {
        want_in = c->tls_want == DIR_TLS_WANT_READ;
        want_out = c->tls_want == DIR_TLS_WANT_WRITE;
    } else if (c->tls) {
        /* A write waiting for the peer's bytes; decrypted bytes already inside TLS (the socket
         * may never become readable for them); a read that must write first. */
        if (c->tls_want == DIR_TLS_WANT_READ) {
            want_in = true;
            want_out = false;
        }
        if (want_in && (dir_tls_pending(c->tls) || dir_tls_read_wants_write(c->tls)))
            want_out = true;
    }
    uint32_t ev_mask = (want_in ? EPOLLIN | EPOLLRDHUP : 0) | (want_out ? EPOLLOUT : 0);
    if (ev_mask == c->events) return;
    struct epoll_event ev = {.events = ev_mask, .data.ptr = c};
    epoll_ctl(c->loop->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = ev_mask;
}

/* Advances the TLS handshake; false when the connection must wait or was closed (*CLOSED). */
static bool handshake(struct conn *c, bool *closed)
{
    char err[300];
    enum dir_tls_io r = dir_tls_handshake(c->tls, err, sizeof err);
    if (r == DIR_TLS_FAILED) {
        DIR_LOG(DIR_LOG_INFO, "ldap", "closing connection fd=%d: %s", c->fd, err);
        conn_close(c);
        *closed = true;
        return false;
    }
    if (r != DIR_TLS_DONE) {
        c->tls_want = r;
        return false;
    }
    c->tls_state = TLS_ON;
    c->tls_want = DIR_TLS_DONE;
    DIR_LOG(DIR_LOG_DEBUG, "ldap", "fd=%d: %s", c->fd, dir_tls_version(c->tls));
    return true;
}

/* Starts TLS on C (LDAPS at accept, or once the StartTLS answer has been sent). */
static bool tls_begin(struct conn *c)
{
    c->tls = dir_tls_new(c->loop->srv->tls, c->fd);
    if (!c->tls) return false;
    dir_tls_attach(c->tls, c->sb);
    c->tls_state = TLS_HANDSHAKE;
    c->tls_want = DIR_TLS_WANT_READ;
    return true;
}

/* Does everything the connection can do now; frees it when it is finished. */
static void service(struct conn *c)
{
    bool closed = false;
    if (c->tls_state == TLS_HANDSHAKE && !handshake(c, &closed)) {
        if (!closed) set_events(c);
        return;
    }
    bool readable = c->readable;
    c->readable = false;
    for (int round = 0; round < 64; round++) {
        read_messages(c, readable && round == 0);
        bool did = run_work(c);
        if (!flush_out(c)) {
            conn_close(c);
            return;
        }
        if (out_pending(c)) break; /* wait for EPOLLOUT */
        if (c->starttls_pending && !c->closing) {
            /* The answer is out: the handshake runs when the client's hello makes the
             * socket readable (level-triggered, so one already there wakes us at once). */
            c->starttls_pending = false;
            if (!tls_begin(c)) {
                conn_close(c);
                return;
            }
            break;
        }
        if (!did) break;
    }
    if (c->closing && !out_pending(c)) {
        conn_close(c);
        return;
    }
    if (c->eof && !c->active && !c->qhead && !c->bind_job && !out_pending(c)) {
        conn_close(c);
        return;
    }
    set_events(c);
}

/* Takes every connection waiting on LFD, one of this loop's own listening sockets (TLS: the
 * LDAPS one, where the handshake comes first). */
static void accept_all(struct loop *l, int lfd, bool tls)
{
    struct dir_ldap *srv = l->srv;
    for (;;) {
        struct sockaddr_in sa = {0};
        socklen_t sl = sizeof sa;
        int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        if (atomic_fetch_add(&srv->nconns, 1) >= srv->o.max_conns) {
            atomic_fetch_sub(&srv->nconns, 1);
            if (now_s() != l->last_refusal_log) {
                l->last_refusal_log = now_s();
                DIR_LOG(DIR_LOG_WARN, "ldap", "connection refused: ldap_max_conns (%d) reached",
                        srv->o.max_conns);
            }
            close(fd);
            continue;
        }
        uint32_t addr = sa.sin_family == AF_INET ? sa.sin_addr.s_addr : 0;
        if (!addr_take(srv, addr)) {
            atomic_fetch_sub(&srv->nconns, 1);
            if (now_s() != l->last_refusal_log) {
                char a[INET_ADDRSTRLEN] = "?";
                inet_ntop(AF_INET, &sa.sin_addr, a, sizeof a);
                l->last_refusal_log = now_s();
                DIR_LOG(DIR_LOG_WARN, "ldap",
                        "connection from %s refused: ldap_max_conns_per_addr (%d) reached", a,
                        srv->o.max_conns_per_addr);
            }
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = dir_xcalloc(1, sizeof *c);
        c->fd = fd;
        c->loop = l;
        c->addr = addr;
        c->last_active = now_s();
        c->sb = ber_sockbuf_alloc();
        ber_sockbuf_add_io(c->sb, &ber_sockbuf_io_tcp, LBER_SBIOD_LEVEL_PROVIDER, &c->fd);
        ber_len_t max = (ber_len_t)srv->o.max_message;
        ber_sockbuf_ctrl(c->sb, LBER_SB_OPT_SET_MAX_INCOMING, &max);
        c->next = l->conns;
        if (l->conns) l->conns->prev = c;
        l->conns = c;
        if (tls && !tls_begin(c)) {
            c->events = 0;
            conn_close(c);
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        c->events = ev.events;
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            conn_close(c);
            continue;
        }
    }
}

/* Answers the staff binds the workers have checked for this loop. */
static void finish_binds(struct loop *l)
{
    uint64_t n;
    if (read(l->donefd, &n, sizeof n) < 0 && errno != EAGAIN)
        DIR_LOG(DIR_LOG_WARN, "ldap", "cannot read the bind eventfd");
    pthread_mutex_lock(&l->done_mu);
    struct bind_job *j = l->done;
    l->done = NULL;
    pthread_mutex_unlock(&l->done_mu);
    while (j) {
        struct bind_job *next = j->next;
        struct conn *c = j->conn;
        if (c) {
            staff_bind_done(c, j);
            service(c);
        }
        free(j);
        j = next;
    }
}

/* Once a second: closes connections idle for ldap_idle_timeout (nothing read or written;
 * also a client that stopped reading its answers, or one held over its queue cap) and those
 * whose unfinished message is older than ldap_message_timeout; expires kept paged answers
 * after ldap_paged_ttl, and drops those on an old snapshot when more than
 * ldap_paged_max_stale are held server-wide; lets connections paused by the server-wide queue
 * cap read again. */
static void sweep(struct loop *l)
{
    struct dir_ldap *srv = l->srv;
    const struct dir_ldap_opts *o = &srv->o;
    long long now = now_s();
    l->last_sweep = now;
    struct dir_model *cur = dir_refresh_acquire(o->refresh);
    int nstale = 0;
    for (struct conn *c = l->conns, *next; c; c = next) {
        next = c->next;
        const char *why = NULL;
        if (o->idle_timeout > 0 && now - c->last_active > o->idle_timeout && !c->bind_job)
            why = "idle for longer than ldap_idle_timeout";
        else if (o->message_timeout > 0 && c->partial_since &&
                 now - c->partial_since > o->message_timeout)
            why = "a request took longer than ldap_message_timeout to arrive";
        if (why) {
            DIR_LOG(DIR_LOG_INFO, "ldap", "closing connection fd=%d: %s", c->fd, why);
            conn_close(c);
            continue;
        }
        bool streaming_kept = c->active && !c->active->owned;
        if (c->paged && !streaming_kept) {
            if (o->paged_ttl > 0 && now - c->paged_since > o->paged_ttl)
                paged_drop(c);
            else if (c->paged->m != cur)
                nstale++;
        }
        set_events(c);
    }
    atomic_store(&l->nstale, nstale);
    int total = 0;
    for (int i = 0; i < srv->nloops; i++)
        total += atomic_load(&srv->loops[i].nstale);
    if (o->paged_max_stale >= 0 && total > o->paged_max_stale && nstale > 0) {
        for (struct conn *c = l->conns; c; c = c->next)
            if (c->paged && !(c->active && !c->active->owned) && c->paged->m != cur) paged_drop(c);
        atomic_store(&l->nstale, 0);
    }
    dir_model_release(cur);
}

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(l->ep, evs, 64, 1000);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &l->stopfd) goto out;
            if (p == l->srv) {
                accept_all(l, l->lfd, false);
                continue;
            }
            if (p == &l->lfd_tls) {
                accept_all(l, l->lfd_tls, true);
                continue;
            }
            if (p == &l->donefd) {
                finish_binds(l);
                continue;
            }
            struct conn *c = p;
            if (evs[i].events & EPOLLERR) {
                conn_close(c);
                continue;
            }
            c->readable = (evs[i].events & (EPOLLIN | EPOLLRDHUP)) != 0;
            if (c->readable) c->last_active = now_s();
            service(c);
        }
        if (now_s() != l->last_sweep) sweep(l); /* after the events: it may close connections */
    }
out:
    while (l->conns)
        conn_close(l->conns);
    return NULL;
}

/* A listening socket on SA (SO_REUSEPORT, so every loop has its own on the same port); a port
 * of 0 in SA becomes the one the kernel picked. -1 with a message in ERR on failure. */
static int listen_on(struct sockaddr_in *sa, char *err, size_t errlen)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof *sa) < 0 || listen(fd, 1024) < 0) {
        char a[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &sa->sin_addr, a, sizeof a);
        snprintf(err, errlen, "LDAP: cannot listen on %s:%d: %s", a, ntohs(sa->sin_port),
                 strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    socklen_t sl = sizeof *sa;
    getsockname(fd, (struct sockaddr *)sa, &sl);
    return fd;
}

static void loop_release(struct loop *l);

/* Undoes a start that failed before any thread ran; returns RC. */
static enum dir_rc start_failed(struct dir_ldap *s, enum dir_rc rc)
{
    for (int i = 0; i < s->nloops; i++) {
        if (s->loops[i].lfd >= 0) close(s->loops[i].lfd);
        if (s->loops[i].lfd_tls >= 0) close(s->loops[i].lfd_tls);
    }
    dir_tls_ctx_free(s->tls);
    free(s->nsuffix);
    free(s);
    return rc;
}

enum dir_rc dir_ldap_start(const struct dir_ldap_opts *opts, struct dir_ldap **out, char *err,
                           size_t errlen)
{
    struct dir_ldap *s = dir_xcalloc(1, sizeof *s);
    s->o = *opts;
    s->nloops = opts->threads < 1 ? 1 : opts->threads > MAX_THREADS ? MAX_THREADS : opts->threads;
    if (s->o.max_message < 1024) s->o.max_message = 1024;
    s->nsuffix = dir_entry_dn_normalize(dir_entry_suffix());
    if (!s->nsuffix) s->nsuffix = dir_xstrdup("");
    for (int i = 0; i < s->nloops; i++)
        s->loops[i].lfd = s->loops[i].lfd_tls = -1;
    bool want_tls = (opts->tls_cert && *opts->tls_cert) || (opts->tls_key && *opts->tls_key);
    if (want_tls && (!opts->tls_cert || !*opts->tls_cert || !opts->tls_key || !*opts->tls_key)) {
        snprintf(err, errlen, "LDAP: TLS needs both ldap_tls_cert and ldap_tls_key");
        return start_failed(s, DIR_ERR_INVALID);
    }
    if (opts->tls_port > 0 && !want_tls) {
        snprintf(err, errlen, "LDAP: ldaps_port %d needs ldap_tls_cert and ldap_tls_key",
                 opts->tls_port);
        return start_failed(s, DIR_ERR_INVALID);
    }
    if (want_tls && dir_tls_ctx_new(opts->tls_cert, opts->tls_key, &s->tls, err, errlen))
        return start_failed(s, DIR_ERR_INVALID);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opts->port)};
    if (inet_pton(AF_INET, opts->addr, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "ldap_addr '%s' is not an IPv4 address", opts->addr);
        return start_failed(s, DIR_ERR_INVALID);
    }
    struct sockaddr_in tsa = sa;
    tsa.sin_port = htons((uint16_t)(opts->tls_port > 0 ? opts->tls_port : 0));
    /* One listening socket per loop on the same port (SO_REUSEPORT): the kernel spreads new
     * connections over the loops, so both cores serve LDAP. The first one picks the port. */
    for (int i = 0; i < s->nloops; i++) {
        struct loop *l = &s->loops[i];
        l->srv = s;
        l->lfd = listen_on(&sa, err, errlen);
        if (l->lfd >= 0 && opts->tls_port > 0) l->lfd_tls = listen_on(&tsa, err, errlen);
        if (l->lfd < 0 || (opts->tls_port > 0 && l->lfd_tls < 0))
            return start_failed(s, DIR_ERR_IO);
    }
    s->port = ntohs(sa.sin_port);
    s->tls_port = opts->tls_port > 0 ? ntohs(tsa.sin_port) : 0;
    pthread_mutex_init(&s->jobs_mu, NULL);
    pthread_cond_init(&s->jobs_cond, NULL);
    pthread_mutex_init(&s->addr_mu, NULL);
    for (int i = 0; i < s->nloops; i++) {
        struct loop *l = &s->loops[i];
        l->ep = epoll_create1(EPOLL_CLOEXEC);
        l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        l->donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        pthread_mutex_init(&l->done_mu, NULL);
        struct epoll_event dev = {.events = EPOLLIN, .data.ptr = &l->donefd};
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->donefd, &dev);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &ev);
        if (l->lfd_tls >= 0) {
            struct epoll_event tev = {.events = EPOLLIN, .data.ptr = &l->lfd_tls};
            epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd_tls, &tev);
        }
        struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &l->stopfd};
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->stopfd, &sev);
        if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
            snprintf(err, errlen, "LDAP: cannot start a thread");
            loop_release(l);
            for (int k = i + 1; k < s->nloops; k++) {
                close(s->loops[k].lfd);
                if (s->loops[k].lfd_tls >= 0) close(s->loops[k].lfd_tls);
            }
            s->nloops = i;
            dir_ldap_stop(s);
            return DIR_ERR_IO;
        }
    }
    for (int i = 0; opts->sessions && i < BIND_WORKERS; i++)
        if (pthread_create(&s->workers[s->nworkers], NULL, bind_worker, s) == 0) s->nworkers++;
    if (opts->sessions && !s->nworkers) {
        snprintf(err, errlen, "LDAP: cannot start a bind worker");
        dir_ldap_stop(s);
        return DIR_ERR_IO;
    }
    *out = s;
    return DIR_OK;
}

int dir_ldap_port(const struct dir_ldap *l)
{
    return l->port;
}

int dir_ldap_tls_port(const struct dir_ldap *l)
{
    return l->tls_port;
}

bool dir_ldap_has_tls(const struct dir_ldap *l)
{
    return l->tls != NULL;
}

static void free_jobs(struct bind_job *j)
{
    while (j) {
        struct bind_job *next = j->next;
        explicit_bzero(j->password, sizeof j->password);
        free(j);
        j = next;
    }
}

/* Closes what one loop holds (its thread has ended or never started). */
static void loop_release(struct loop *l)
{
    close(l->ep);
    close(l->stopfd);
    close(l->donefd);
    close(l->lfd);
    if (l->lfd_tls >= 0) close(l->lfd_tls);
    free_jobs(l->done);
    pthread_mutex_destroy(&l->done_mu);
}

void dir_ldap_stop(struct dir_ldap *s)
{
    if (!s) return;
    for (int i = 0; i < s->nloops; i++) {
        uint64_t one = 1;
        if (write(s->loops[i].stopfd, &one, sizeof one) < 0)
            DIR_LOG(DIR_LOG_WARN, "ldap", "cannot wake an event loop");
    }
    for (int i = 0; i < s->nloops; i++)
        pthread_join(s->loops[i].thread, NULL);
    /* The loops are gone: jobs not started are dropped; running ones finish (within the city
     * LDAP's timeout) and land on done lists nobody reads any more. */
    pthread_mutex_lock(&s->jobs_mu);
    s->jobs_stop = true;
    pthread_cond_broadcast(&s->jobs_cond);
    pthread_mutex_unlock(&s->jobs_mu);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    free_jobs(s->jobs);
    for (int i = 0; i < s->nloops; i++)
        loop_release(&s->loops[i]);
    pthread_mutex_destroy(&s->jobs_mu);
    pthread_cond_destroy(&s->jobs_cond);
    for (int i = 0; i < ADDR_BUCKETS; i++) /* empty once every connection closed */
        while (s->addrs[i]) {
            struct addr_count *a = s->addrs[i];
            s->addrs[i] = a->next;
            free(a);
        }
    pthread_mutex_destroy(&s->addr_mu);
    dir_tls_ctx_free(s->tls);
    free(s->nsuffix);
    free(s);
}
