/* dir_proxy.h - who a request really comes from when directoryd runs behind reverse proxies.
 *
 * Behind a load balancer every HTTP connection comes from the balancer's address, so the
 * login brake, the report limiter and the audit's address would all see one caller. With
 * --http-trusted-proxies (addresses or CIDR blocks), a request whose socket peer is one of
 * them is attributed to the address its X-Forwarded-For header names: walking the header's
 * list from the right (the entry the nearest proxy added) and skipping trusted proxies, the
 * first address that is not trusted is the client (nginx's real_ip_recursive, HAProxy's
 * forwardfor). A peer that is not trusted is the client whatever it sends, so nobody can
 * choose their own address by sending the header directly; an entry that is not an IP
 * address stops the walk at the last trusted hop.
 */
#ifndef DIR_PROXY_H
#define DIR_PROXY_H

#include "dir_rc.h"

#include <stdbool.h>
#include <stddef.h>

#define DIR_PROXY_MAX 32 /* trusted addresses or blocks */

/* Sets the trusted proxies from LIST: comma- or space-separated IPv4/IPv6 addresses, each with
 * an optional "/prefix" ("127.0.0.1, 10.0.0.0/8, ::1"); "" trusts none (the default). Call at
 * start-up, before threads. DIR_ERR_INVALID with a message in ERR naming the bad entry. */
enum dir_rc dir_proxy_configure(const char *list, char *err, size_t errlen);
/* Whether any proxy is trusted. */
bool dir_proxy_active(void);
/* Whether ADDR (textual IPv4 or IPv6) is a trusted proxy. */
bool dir_proxy_trusted(const char *addr);
/* The client's address for a request from PEER (textual) carrying X-Forwarded-For XFF (the
 * values of every such header joined by commas, or NULL): written into BUF (at most N bytes,
 * NUL-terminated). Without trusted proxies, or from an untrusted peer, it is PEER. */
void dir_proxy_client(const char *peer, const char *xff, char *buf, size_t n);

#endif
