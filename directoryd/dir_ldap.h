/* dir_ldap.h - the read-only LDAPv3 face (RFC 4511): bind, search, compare, abandon, unbind,
 * Who am I? and the root DSE, served from the read-model snapshot.
 *
 * A few event-loop threads (epoll) share the listening socket; each connection belongs to
 * one loop, which reads whole LDAP messages with liblber (ber_get_next, capped at
 * max_message bytes), answers them in order and streams large searches as the client
 * reads them, so one slow reader never holds a thread or unbounded memory. A malformed or
 * oversized message closes only that connection, after a Notice of Disconnection
 * (1.3.6.1.4.1.1466.20036). Writes answer unwillingToPerform (53) and point at the JSON API.
 * With a certificate configured, StartTLS (RFC 4511 section 4.14) upgrades a connection and an
 * optional second port speaks LDAPS (TLS from the first byte); see dir_tls.h.
 */
#ifndef DIR_LDAP_H
#define DIR_LDAP_H

#include <stdatomic.h>

#include "dir_rc.h"
#include "dir_refresh.h"
#include "dir_session.h"

#include <stdbool.h>
#include <stddef.h>

struct dir_ldap_opts {
    const char *addr;              /* listen address (loopback by default) */
    int port;                      /* 0 picks a free port */
    int threads;                   /* event loops */
    int max_conns;                 /* connections beyond this are closed at once */
    int max_message;               /* largest request accepted, in bytes */
    int size_limit;                /* most entries per search (and per page); 0 = none */
    int time_limit;                /* most seconds per search; 0 = none */
    int paged_ttl;                 /* seconds a paged-results cookie stays valid; 0 = no limit */
    int paged_max_stale;           /* kept paged answers allowed on an old snapshot, server-wide;
                                      beyond, they are dropped (their cookies expire); -1 = no cap */
    int idle_timeout;              /* seconds a connection may read and write nothing; 0 = none */
    int message_timeout;           /* seconds an unfinished request may take to arrive; 0 = none */
    int max_conns_per_addr;        /* connections from one IPv4 address; 0 = no cap */
    long long max_queued_conn;     /* bytes of requests queued on one connection before it is
                                      read no further (one request is always read); 0 = no cap */
    long long max_queued_total;    /* the same over all connections; 0 = no cap */
    struct dir_refresh *refresh;   /* borrowed; must outlive the server */
    struct dir_sessions *sessions; /* borrowed; staff binds (NULL: API clients only) */
    const char *tls_cert; /* PEM certificate chain for StartTLS and LDAPS; NULL/"" = none */
    const char *tls_key;  /* its PEM private key */
    int tls_port;         /* LDAPS (TLS from the first byte) port; 0 = none */
    atomic_bool *used;    /* borrowed, may be NULL: set at the first search answered (so
                             the owner knows the per-snapshot view is worth building early) */
};

struct dir_ldap;

/* Binds and starts the loops. Caller stops it with dir_ldap_stop. On failure returns
 * DIR_ERR_IO with a message in ERR and starts nothing. */
enum dir_rc dir_ldap_start(const struct dir_ldap_opts *opts, struct dir_ldap **out, char *err,
                           size_t errlen);
/* The port actually bound. */
int dir_ldap_port(const struct dir_ldap *l);
/* The LDAPS port bound, or 0. */
int dir_ldap_tls_port(const struct dir_ldap *l);
/* True when a certificate is loaded (StartTLS answers). */
bool dir_ldap_has_tls(const struct dir_ldap *l);
/* Changes the size and time limits (SIGHUP): searches started from now on use them. */
void dir_ldap_set_limits(struct dir_ldap *l, int size_limit, int time_limit);
/* Closes every connection, stops the loops and frees L. NULL is a no-op. */
void dir_ldap_stop(struct dir_ldap *l);

#endif
