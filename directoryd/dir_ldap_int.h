/* dir_ldap_int.h - what the LDAP face's two halves share: dir_ldap.c (event loops,
 * connections, reading, writing, limits) and dir_ldap_ops.c (the operations: bind, search,
 * compare, extended, abandon, and the paged answers kept between pages). Not a public
 * interface: only those two files include it.
 */
#ifndef DIR_LDAP_INT_H
#define DIR_LDAP_INT_H

#include "dir_ldap.h"
#include "dir_entry.h"
#include "dir_ldap_req.h"
#include "dir_tls.h"

#include <lber.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

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
    int final_rc; /* a kept paged answer's result code for its last page (size or time... */
    const char *final_text; /* ...limit exceeded), and its text (static) or NULL */
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
 * account) may take a while, and the event loop must not wait for it. The same workers
 * re-check an earlier staff bind (RECHECK: logout everywhere, the account, its role now, from
 * PostgreSQL). The loop makes the job; the job queue, then a worker, then the loop's done
 * list own it in turn; the loop frees it. CONN is touched by the loop thread only (NULL once
 * the connection has closed). */
struct bind_job {
    struct loop *loop;
    struct conn *conn;
    ber_int_t msgid;
    bool recheck; /* re-check INFO (dir_session_recheck) instead of a password */
    bool still;   /* RECHECK's answer: the login still holds (INFO's role is now's) */
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
    bool staff;                /* a staff bind holds: STAFF_INFO is its login */
    struct dir_session_info staff_info;
    long long staff_checked; /* when it was last checked (dir_ldap_now()); see STAFF_RECHECK_S */
    /* work */
    struct stream *active;
    bool read_stop;           /* a malformed message is queued: read no further */
    struct result_set *paged; /* a paged answer kept between pages (see paged_keep) */
    uint64_t paged_cookie, next_cookie;
    enum dir_role paged_role;   /* the caller's rights when it was computed */
    long long paged_since;      /* when (dir_ldap_now()) */
    unsigned char paged_fp[16]; /* the request it answers (dir_ldap_req fingerprint) */
    /* limits (see sweep) */
    uint32_t addr;           /* the peer's IPv4 address (network order), counted per address */
    long long last_active;   /* last bytes read or written (dir_ldap_now()) */
    long long last_written;  /* last bytes written (dir_ldap_now()) */
    long long partial_since; /* bytes of an unfinished message arrived since; 0 = none */
    bool readable;           /* service() runs for an EPOLLIN event */
    size_t queued_bytes;     /* bytes of the requests in the queue */
    size_t partial_bytes;    /* bytes allocated for the message being read */
    long long partial_at;    /* since when (dir_ldap_now()) */
    struct conn *prev, *next;
    long long op_t0_us; /* obs: when the operation being answered started (monotonic us) */
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
    long long close_log_sec;          /* the second CLOSE_LOGGED counts lines in */
    int close_logged, close_unlogged; /* connection-closing lines this second, and left out */
    atomic_int nstale;                /* kept paged answers on an old snapshot, at the last sweep */
};

#define BIND_WORKERS 2
/* A staff bind is checked again (logout everywhere, the account, its role now) before a
 * request once this many seconds have passed since its last check. */
#define STAFF_RECHECK_S 2
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
    atomic_llong queued_total; /* bytes of queued requests and of messages being read */
    pthread_mutex_t addr_mu;
    struct addr_count *addrs[ADDR_BUCKETS]; /* connections per peer address (addr_mu) */
    /* --- obs: limits SIGHUP may change (dir_ldap_set_limits); read with relaxed loads --- */
    atomic_int size_limit, time_limit;
};

/* Microseconds on the monotonic clock. */
static inline long long dir_ldap_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Microseconds since C's current operation started (0 when none has: a notice sent before
 * any request was read). */
#define DIR_LDAP_OP_US(c) ((c)->op_t0_us ? dir_ldap_now_us() - (c)->op_t0_us : 0)

/* The server's size and time limits now (ldap_size_limit, ldap_time_limit; 0 = none). */
static inline int dir_ldap_size_limit(const struct dir_ldap *s)
{
    return atomic_load_explicit(&s->size_limit, memory_order_relaxed);
}
static inline int dir_ldap_time_limit(const struct dir_ldap *s)
{
    return atomic_load_explicit(&s->time_limit, memory_order_relaxed);
}

/* Seconds on the monotonic clock. */
static inline long long dir_ldap_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

/* Bytes of answers waiting to be written on C. */
static inline size_t dir_ldap_out_pending(const struct conn *c)
{
    return c->outlen - c->outoff;
}

/* ---- dir_ldap.c: output, connections ---- */

/* Flattens a finished message into C's output buffer and frees BER. */
void dir_ldap_send_ber(struct conn *c, BerElement *ber);
/* A new message (the caller owns it, and hands it to dir_ldap_send_ber) opened with MSGID. */
BerElement *dir_ldap_msg_begin(ber_int_t msgid);
/* LDAPResult ::= SEQUENCE { resultCode ENUMERATED, matchedDN LDAPDN,
 *     diagnosticMessage LDAPString, referral [3] Referral OPTIONAL }, tagged TAG. */
void dir_ldap_send_result(struct conn *c, ber_int_t msgid, ber_tag_t tag, int rc,
                          const char *matched, const char *text);
/* ExtendedResponse ::= [APPLICATION 24] SEQUENCE { COMPONENTS OF LDAPResult,
 *     responseName [10] LDAPOID OPTIONAL, responseValue [11] OCTET STRING OPTIONAL } */
void dir_ldap_send_extended(struct conn *c, ber_int_t msgid, int rc, const char *text,
                            const char *oid, const struct berval *value);
/* Notice of Disconnection (RFC 4511 section 4.4.1), then close once it is written. */
void dir_ldap_disconnect(struct conn *c, int rc, const char *why);
/* Frees RS (its snapshot reference too), S, O. NULL is a no-op for RS and S. */
void dir_ldap_rs_free(struct result_set *rs);
void dir_ldap_stream_free(struct stream *s);
void dir_ldap_op_free(struct op *o);
/* Adds (ADD) or removes O's bytes from the queued-bytes counts. */
void dir_ldap_queue_account(struct conn *c, const struct op *o, bool add);

/* ---- dir_ldap_ops.c: operations ---- */

/* The caller's role now, checked against M (a revoked or expired key is anonymous). */
enum dir_role dir_ldap_role_of(struct conn *c, const struct dir_model *m);
/* Drops C's kept paged answer, if any. */
void dir_ldap_paged_drop(struct conn *c);
/* Runs the decoded request O (the caller frees O afterwards). */
void dir_ldap_dispatch(struct conn *c, struct op *o);
/* AbandonRequest: stops the active search or drops the queued request with message ID. */
void dir_ldap_abandon(struct conn *c, int id);
/* Streams the active search until the output buffer is full; true when it finished. */
bool dir_ldap_stream_some(struct conn *c);
/* A bind worker thread (ARG is the server). */
void *dir_ldap_bind_worker(void *arg);
/* The answer to a staff bind, on the loop thread. */
void dir_ldap_staff_bind_done(struct conn *c, struct bind_job *j);
/* Before running O on C: true when C's staff bind is due for a re-check, which it then hands
 * to the bind workers (O and later requests wait for the answer, as after a bind). */
bool dir_ldap_staff_recheck_due(struct conn *c, const struct op *o);

#endif
