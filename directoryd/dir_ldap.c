/* dir_ldap.c - the LDAPv3 server: event loops, connections, limits, BER via liblber (the
 * operations are in dir_ldap_ops.c, request decoding in dir_ldap_req.c).
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
#include "dir_ldap_int.h"
#include "dir_entry.h"
#include "dir_filter.h"
#include "dir_log.h"
#include "dir_metrics.h"
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

#define EVICT_IDLE_S 5 /* idle seconds before a connection may make room at ldap_max_conns */
/* Seconds a search on an old snapshot may go unread before it is closed, when more than
 * ldap_paged_max_stale old snapshots are held (see sweep). */
#define STALE_STUCK_S 3

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

void dir_ldap_queue_account(struct conn *c, const struct op *o, bool add)
{
    if (add) {
        c->queued_bytes += o->bytes;
        atomic_fetch_add(&c->loop->srv->queued_total, (long long)o->bytes);
    } else {
        c->queued_bytes -= o->bytes;
        atomic_fetch_sub(&c->loop->srv->queued_total, (long long)o->bytes);
    }
}

/* The buffer of the message being read: liblber allocates the length its header announces
 * (up to ldap_max_message) before the bytes come, so it counts with the queued requests. */
static void partial_account(struct conn *c, size_t bytes)
{
    if (bytes && !c->partial_bytes) c->partial_at = dir_ldap_now();
    atomic_fetch_add(&c->loop->srv->queued_total, (long long)bytes - (long long)c->partial_bytes);
    c->partial_bytes = bytes;
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

/* Flattens a finished message into the output buffer and frees BER. */
void dir_ldap_send_ber(struct conn *c, BerElement *ber)
{
    struct berval bv;
    if (ber_flatten2(ber, &bv, 0) == 0) out_add(c, bv.bv_val, bv.bv_len);
    ber_free(ber, 1);
}

BerElement *dir_ldap_msg_begin(ber_int_t msgid)
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
void dir_ldap_send_result(struct conn *c, ber_int_t msgid, ber_tag_t tag, int rc,
                          const char *matched, const char *text)
{
    dir_metrics_ldap_op(tag, rc, DIR_LDAP_OP_US(c));
    BerElement *ber = dir_ldap_msg_begin(msgid);
    ber_printf(ber, "t{ess}}", tag, (ber_int_t)rc, matched ? matched : "", text ? text : "");
    dir_ldap_send_ber(c, ber);
}

/* ExtendedResponse ::= [APPLICATION 24] SEQUENCE { COMPONENTS OF LDAPResult,
 *     responseName [10] LDAPOID OPTIONAL, responseValue [11] OCTET STRING OPTIONAL } */
void dir_ldap_send_extended(struct conn *c, ber_int_t msgid, int rc, const char *text,
                            const char *oid, const struct berval *value)
{
    dir_metrics_ldap_op(LDAP_RES_EXTENDED, rc, DIR_LDAP_OP_US(c));
    BerElement *ber = dir_ldap_msg_begin(msgid);
    ber_printf(ber, "t{ess", (ber_tag_t)LDAP_RES_EXTENDED, (ber_int_t)rc, "", text ? text : "");
    if (oid) ber_printf(ber, "ts", (ber_tag_t)LDAP_TAG_EXOP_RES_OID, oid);
    if (value) ber_printf(ber, "tO", (ber_tag_t)LDAP_TAG_EXOP_RES_VALUE, value);
    ber_printf(ber, "}}");
    dir_ldap_send_ber(c, ber);
}

/* Logs that connection FD closes and why, at most CLOSE_LOG_PER_S lines a second per loop:
 * an attack that opens and breaks thousands of connections must not flood the log. The lines
 * left out are counted in one line in a later second (at the latest the loop's sweep). */
#define CLOSE_LOG_PER_S 10
static void log_close_flush(struct loop *l, long long now)
{
    if (now != l->close_log_sec) {
        if (l->close_unlogged)
            DIR_LOG(DIR_LOG_INFO, "ldap",
                    "%d more connections closed in the last %lld s "
                    "(not logged one by one)",
                    l->close_unlogged, now - l->close_log_sec);
        l->close_log_sec = now;
        l->close_logged = l->close_unlogged = 0;
    }
}

static void log_close(struct loop *l, int fd, const char *why)
{
    log_close_flush(l, dir_ldap_now());
    if (l->close_logged++ < CLOSE_LOG_PER_S)
        DIR_LOG(DIR_LOG_INFO, "ldap", "closing connection fd=%d: %s", fd, why);
    else
        l->close_unlogged++;
}

/* Notice of Disconnection (RFC 4511 section 4.4.1), then close once it is written. */
void dir_ldap_disconnect(struct conn *c, int rc, const char *why)
{
    log_close(c->loop, c->fd, why);
    dir_ldap_send_extended(c, 0, rc, why, DIR_LDAP_OID_NOTICE, NULL);
    c->closing = true;
}

/* ---- connections ---- */

void dir_ldap_rs_free(struct result_set *rs)
{
    if (!rs) return;
    free(rs->idx);
    dir_model_release(rs->m);
    free(rs);
}

void dir_ldap_stream_free(struct stream *s)
{
    if (!s) return;
    if (s->owned) dir_ldap_rs_free(s->rs);
    free(s->sel);
    free(s);
}

void dir_ldap_op_free(struct op *o)
{
    dir_ldap_req_free(&o->req);
    free(o);
}

static void conn_close(struct conn *c)
{
    struct loop *l = c->loop;
    epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->cur) ber_free(c->cur, 1);
    partial_account(c, 0);
    while (c->qhead) {
        struct op *o = c->qhead;
        c->qhead = o->next;
        dir_ldap_queue_account(c, o, false);
        dir_ldap_op_free(o);
    }
    dir_ldap_stream_free(c->active);
    dir_ldap_paged_drop(c);
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
    dir_metrics_conn(DIR_METRICS_LDAP, -1);
    free(c);
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
                /* Started: its buffer exists (the header is in), or bytes came and completed
                 * nothing (over TLS a wake-up may carry no application data). */
                ber_len_t total = 0;
                ber_get_option(c->cur, LBER_OPT_BER_TOTAL_BYTES, &total);
                partial_account(c, total);
                if (!c->partial_since && (total || (readable && completed == 0 && !c->tls)))
                    c->partial_since = dir_ldap_now();
                return;
            }
            ber_free(c->cur, 1);
            c->cur = NULL;
            partial_account(c, 0);
            if (tag == LBER_DEFAULT && (e == 0 || e == ECONNRESET || e == EPIPE)) {
                c->eof = true;
                return;
            }
            dir_ldap_disconnect(c, LDAP_PROTOCOL_ERROR,
                                e == ERANGE
                                    ? "message larger than the server accepts (ldap_max_message)"
                                    : "malformed BER");
            return;
        }
        BerElement *ber = c->cur;
        c->cur = NULL;
        partial_account(c, 0);
        completed++;
        c->partial_since = 0;
        c->last_active = dir_ldap_now();
        struct op *o = dir_xcalloc(1, sizeof *o);
        o->st = dir_ldap_req_decode_ber(ber, &o->req);
        o->bytes = len;
        ber_free(ber, 1);
        if (o->req.op == DIR_LDAP_OP_ABANDON && o->st != DIR_LDAP_REQ_MALFORMED) {
            if (o->st == DIR_LDAP_REQ_OK) /* not with an unsupported critical control */
                dir_ldap_abandon(c, o->req.abandon_id);
            dir_ldap_op_free(o);
            continue;
        }
        if (o->st == DIR_LDAP_REQ_MALFORMED) c->read_stop = true;
        if (c->qtail)
            c->qtail->next = o;
        else
            c->qhead = o;
        c->qtail = o;
        c->nqueued++;
        dir_ldap_queue_account(c, o, true);
    }
}

/* Runs queued work until output backs up; true when anything happened. */
static bool run_work(struct conn *c)
{
    bool did = false;
    while (!c->closing && !c->starttls_pending && !c->bind_job &&
           dir_ldap_out_pending(c) < OUT_HIGH) {
        if (c->active) {
            dir_ldap_stream_some(c);
            did = true;
            continue;
        }
        struct op *o = c->qhead;
        if (!o) break;
        if (dir_ldap_staff_recheck_due(c, o)) break; /* O waits for the answer */
        c->qhead = o->next;
        if (!c->qhead) c->qtail = NULL;
        c->nqueued--;
        dir_ldap_queue_account(c, o, false);
        c->op_t0_us = dir_ldap_now_us();
        dir_ldap_dispatch(c, o);
        dir_ldap_op_free(o);
        did = true;
    }
    return did;
}

/* Writes what it can; false on a write error. */
static bool flush_out(struct conn *c)
{
    c->tls_want = DIR_TLS_DONE;
    while (dir_ldap_out_pending(c) && c->tls) {
        size_t n = 0;
        enum dir_tls_io r = dir_tls_write(c->tls, c->out + c->outoff, dir_ldap_out_pending(c), &n);
        if (r == DIR_TLS_FAILED) return false;
        if (r != DIR_TLS_DONE) {
            c->tls_want = r;
            return true;
        }
        c->outoff += n;
        c->last_active = c->last_written = dir_ldap_now();
    }
    while (dir_ldap_out_pending(c)) {
        ssize_t n = send(c->fd, c->out + c->outoff, dir_ldap_out_pending(c), MSG_NOSIGNAL);
        if (n > 0) {
            c->outoff += (size_t)n;
            c->last_active = c->last_written = dir_ldap_now();
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
                   may_queue(c) && dir_ldap_out_pending(c) < OUT_HIGH;
    bool want_out =
        dir_ldap_out_pending(c) > 0 || c->active || (c->qhead && !c->closing && !c->bind_job);
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
        log_close(c->loop, c->fd, err);
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
        if (dir_ldap_out_pending(c)) break; /* wait for EPOLLOUT */
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
    if (c->closing && !dir_ldap_out_pending(c)) {
        conn_close(c);
        return;
    }
    if (c->eof && !c->active && !c->qhead && !c->bind_job && !dir_ldap_out_pending(c)) {
        conn_close(c);
        return;
    }
    set_events(c);
}

/* At ldap_max_conns: the connection of this loop idle the longest (nothing read or written for
 * EVICT_IDLE_S at least, nothing under way) makes room for a new one, so idle sockets cannot
 * shut newcomers out for a whole ldap_idle_timeout. It is shut down here and freed when the
 * loop sees it hang up (not freed now: this loop's current batch of events may name it).
 * False when no connection qualifies. */
static bool evict_idle(struct loop *l)
{
    long long now = dir_ldap_now();
    struct conn *victim = NULL;
    for (struct conn *c = l->conns; c; c = c->next)
        if (!c->closing && !c->active && !c->qhead && !c->bind_job && !dir_ldap_out_pending(c) &&
            now - c->last_active >= EVICT_IDLE_S &&
            (!victim || c->last_active < victim->last_active))
            victim = c;
    if (!victim) return false;
    char why[96];
    snprintf(why, sizeof why, "idle for %lld s, to make room (ldap_max_conns)",
             now - victim->last_active);
    log_close(l, victim->fd, why);
    victim->closing = true;
    shutdown(victim->fd, SHUT_RDWR);
    return true;
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
        uint32_t addr = sa.sin_family == AF_INET ? sa.sin_addr.s_addr : 0;
        if (!addr_take(srv, addr)) {
            if (dir_ldap_now() != l->last_refusal_log) {
                char a[INET_ADDRSTRLEN] = "?";
                inet_ntop(AF_INET, &sa.sin_addr, a, sizeof a);
                l->last_refusal_log = dir_ldap_now();
                DIR_LOG(DIR_LOG_WARN, "ldap",
                        "connection from %s refused: ldap_max_conns_per_addr (%d) reached", a,
                        srv->o.max_conns_per_addr);
            }
            close(fd);
            continue;
        }
        if (atomic_fetch_add(&srv->nconns, 1) >= srv->o.max_conns && !evict_idle(l)) {
            atomic_fetch_sub(&srv->nconns, 1);
            addr_release(srv, addr);
            if (dir_ldap_now() != l->last_refusal_log) {
                l->last_refusal_log = dir_ldap_now();
                DIR_LOG(DIR_LOG_WARN, "ldap",
                        "connection refused: ldap_max_conns (%d) reached and no connection has "
                        "been idle for %d s",
                        srv->o.max_conns, EVICT_IDLE_S);
            }
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = dir_xcalloc(1, sizeof *c);
        dir_metrics_conn(DIR_METRICS_LDAP, 1);
        c->fd = fd;
        c->loop = l;
        c->addr = addr;
        c->last_active = c->last_written = dir_ldap_now();
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
            dir_ldap_staff_bind_done(c, j);
            service(c);
        }
        free(j);
        j = next;
    }
}

/* Does C hold a snapshot older than CUR: a kept paged answer, or a search being streamed? */
static bool holds_stale(const struct conn *c, const struct dir_model *cur)
{
    return (c->paged && c->paged->m != cur) || (c->active && c->active->rs->m != cur);
}

/* Once a second: closes connections idle for ldap_idle_timeout (nothing read or written;
 * also a client that stopped reading its answers, or one held over its queue cap) and those
 * whose unfinished message is older than ldap_message_timeout; expires kept paged answers
 * after ldap_paged_ttl. Old snapshots (kept paged answers, and searches still streaming, each
 * a whole copy of the directory) are capped by ldap_paged_max_stale server-wide: beyond it,
 * kept answers on an old snapshot are dropped, and connections whose search on an old
 * snapshot has not been read for STALE_STUCK_S are closed (a client that starts a search and
 * stops reading would otherwise pin it until ldap_idle_timeout). Lets connections paused by
 * the server-wide queue cap read again. */
static void sweep(struct loop *l)
{
    struct dir_ldap *srv = l->srv;
    const struct dir_ldap_opts *o = &srv->o;
    long long now = dir_ldap_now();
    l->last_sweep = now;
    log_close_flush(l, now);
    struct dir_model *cur = dir_refresh_acquire_warm(o->refresh);
    int nstale = 0;
    for (struct conn *c = l->conns, *next; c; c = next) {
        next = c->next;
        const char *why = NULL;
        if (o->idle_timeout > 0 && now - c->last_active > o->idle_timeout && !c->bind_job)
            why = "idle for longer than ldap_idle_timeout";
        else if (o->message_timeout > 0 && c->partial_since &&
                 now - c->partial_since > o->message_timeout)
            why = "a request took longer than ldap_message_timeout to arrive";
        else if (o->max_queued_total > 0 && c->partial_bytes && now - c->partial_at >= 2 &&
                 atomic_load(&srv->queued_total) > o->max_queued_total)
            why = "ldap_max_queued_bytes reached and this connection's request has been "
                  "incomplete for 2 s";
        if (why) {
            log_close(l, c->fd, why);
            conn_close(c);
            continue;
        }
        bool streaming_kept = c->active && !c->active->owned;
        if (c->paged && !streaming_kept && o->paged_ttl > 0 && now - c->paged_since > o->paged_ttl)
            dir_ldap_paged_drop(c);
        if (holds_stale(c, cur)) nstale++;
        set_events(c);
    }
    atomic_store(&l->nstale, nstale);
    int total = 0;
    for (int i = 0; i < srv->nloops; i++)
        total += atomic_load(&srv->loops[i].nstale);
    if (o->paged_max_stale >= 0 && total > o->paged_max_stale && nstale > 0) {
        nstale = 0;
        for (struct conn *c = l->conns, *next; c; c = next) {
            next = c->next;
            if (c->paged && !(c->active && !c->active->owned) && c->paged->m != cur)
                dir_ldap_paged_drop(c);
            if (c->active && c->active->rs->m != cur && now - c->last_written >= STALE_STUCK_S) {
                char why[160];
                snprintf(why, sizeof why,
                         "its search on an old snapshot has not been read for %lld s and "
                         "ldap_paged_max_stale (%d) is exceeded",
                         now - c->last_written, o->paged_max_stale);
                log_close(l, c->fd, why);
                conn_close(c);
                continue;
            }
            if (holds_stale(c, cur)) nstale++;
        }
        atomic_store(&l->nstale, nstale);
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
            if (c->readable) c->last_active = dir_ldap_now();
            service(c);
        }
        if (dir_ldap_now() != l->last_sweep)
            sweep(l); /* after the events: it may close connections */
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
    atomic_init(&s->size_limit, opts->size_limit);
    atomic_init(&s->time_limit, opts->time_limit);
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
        if (pthread_create(&s->workers[s->nworkers], NULL, dir_ldap_bind_worker, s) == 0)
            s->nworkers++;
    if (opts->sessions && !s->nworkers) {
        snprintf(err, errlen, "LDAP: cannot start a bind worker");
        dir_ldap_stop(s);
        return DIR_ERR_IO;
    }
    *out = s;
    return DIR_OK;
}

void dir_ldap_set_limits(struct dir_ldap *l, int size_limit, int time_limit)
{
    if (!l) return;
    atomic_store_explicit(&l->size_limit, size_limit, memory_order_relaxed);
    atomic_store_explicit(&l->time_limit, time_limit, memory_order_relaxed);
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
