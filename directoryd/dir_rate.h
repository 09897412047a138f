/* dir_rate.h - a rate limiter in bounded memory: at most LIMIT events per key in a window.
 *
 * Used by POST /v1/reports (report_rate reports an hour per client address, or per API
 * client or staff member when signed in). It works as the failed-login brake of dir_session
 * does: a fixed table of SLOTS entries, one per key, each counting events over a window of
 * WINDOW_S seconds from the key's first event. Memory never grows with the number of keys
 * seen:
 *   - an entry whose window has passed is free again;
 *   - when the table is full, a new key takes the slot of the entry below its limit that was
 *     added the longest ago (a forgotten count only gives that key a fresh window);
 *   - an entry at its limit is never evicted before its window ends, so a flood of new keys
 *     (address churn) cannot free a limited key early;
 *   - when every slot holds a limited entry, new keys wait too, until the oldest window ends:
 *     nothing goes uncounted.
 * Thread-safe. Keys are at most DIR_RATE_KEY_MAX - 1 bytes (longer ones are cut).
 */
#ifndef DIR_RATE_H
#define DIR_RATE_H

#include <stddef.h>
#include <time.h>

#define DIR_RATE_KEY_MAX 80

struct dir_rate;

/* A limiter of LIMIT events per WINDOW_S seconds per key, tracking at most SLOTS keys (at
 * least 16 are kept); LIMIT 0 limits nothing. Caller frees with dir_rate_free. */
struct dir_rate *dir_rate_new(int limit, int window_s, int slots);
void dir_rate_free(struct dir_rate *r);

/* Counts one event of KEY at NOW and returns 0, or, when KEY may not go now, counts nothing
 * and returns the seconds to wait (at least 1). */
int dir_rate_take(struct dir_rate *r, const char *key, time_t now);
/* Forgets one event counted for KEY (the work it allowed did not happen). */
void dir_rate_give_back(struct dir_rate *r, const char *key, time_t now);

/* The key of a client address ADDR (as dir_http_client_addr writes it) into OUT (N bytes):
 * "a:" and the IPv4 address, or the /64 prefix of an IPv6 address ("a:2001:db8:1:2::/64"),
 * since one host usually holds a whole /64; an IPv4-mapped IPv6 address counts as its IPv4
 * address. Anything else is used as it is. */
void dir_rate_addr_key(const char *addr, char *out, size_t n);

#endif
