/* dir_proxy.c - trusted reverse proxies and the X-Forwarded-For walk (see dir_proxy.h).
 *
 * The trusted blocks are parsed once at start-up into a small array (addresses in network
 * byte order, IPv4 mapped into IPv6 so one comparison serves both); the walk reads the
 * header from its end without allocating. */
#include "dir_proxy.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct block {
    unsigned char addr[16]; /* IPv6, or an IPv4 address mapped (::ffff:a.b.c.d) */
    int bits;               /* prefix length over the 128 bits */
};

static struct block blocks[DIR_PROXY_MAX];
static int nblocks;

/* Parses the textual address S (N bytes, no prefix) into OUT (16 bytes); false if it is none. */
static bool parse_addr(const char *s, size_t n, unsigned char out[16], bool *v4)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof tmp) return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    unsigned char a4[4];
    if (inet_pton(AF_INET, tmp, a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, a4, 4);
        *v4 = true;
        return true;
    }
    *v4 = false;
    return inet_pton(AF_INET6, tmp, out) == 1;
}

static bool in_block(const struct block *b, const unsigned char a[16])
{
    int full = b->bits / 8, rest = b->bits % 8;
    if (memcmp(b->addr, a, (size_t)full) != 0) return false;
    if (rest == 0) return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (b->addr[full] & mask) == (a[full] & mask);
}

static bool trusted_n(const char *s, size_t n)
{
    unsigned char a[16];
    bool v4;
    if (!parse_addr(s, n, a, &v4)) return false;
    for (int i = 0; i < nblocks; i++)
        if (in_block(&blocks[i], a)) return true;
    return false;
}

static bool is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t';
}

enum dir_rc dir_proxy_configure(const char *list, char *err, size_t errlen)
{
    struct block got[DIR_PROXY_MAX] = {{{0}, 0}};
    int n = 0;
    const char *p = list ? list : "";
    while (*p) {
        while (is_sep(*p))
            p++;
        if (!*p) break;
        const char *start = p;
        while (*p && !is_sep(*p))
            p++;
        size_t len = (size_t)(p - start);
        const char *slash = memchr(start, '/', len);
        size_t alen = slash ? (size_t)(slash - start) : len;
        struct block b;
        bool v4;
        if (n == DIR_PROXY_MAX) {
            snprintf(err, errlen, "http_trusted_proxies: more than %d entries", DIR_PROXY_MAX);
            return DIR_ERR_INVALID;
        }
        if (!parse_addr(start, alen, b.addr, &v4)) {
            snprintf(err, errlen, "http_trusted_proxies: '%.*s' is not an IPv4 or IPv6 address",
                     (int)(alen > 64 ? 64 : alen), start);
            return DIR_ERR_INVALID;
        }
        int max = v4 ? 32 : 128, bits = max;
        if (slash) {
            const char *d = slash + 1;
            size_t dl = len - alen - 1;
            bits = 0;
            if (dl == 0 || dl > 3) bits = -1;
            for (size_t i = 0; bits >= 0 && i < dl; i++)
                bits = (d[i] >= '0' && d[i] <= '9') ? bits * 10 + (d[i] - '0') : -1;
            if (bits < 0 || bits > max) {
                snprintf(err, errlen, "http_trusted_proxies: '%.*s' has a bad prefix length",
                         (int)(len > 64 ? 64 : len), start);
                return DIR_ERR_INVALID;
            }
        }
        b.bits = v4 ? bits + 96 : bits;
        got[n++] = b;
    }
    memcpy(blocks, got, sizeof(struct block) * (size_t)n);
    nblocks = n;
    return DIR_OK;
}

bool dir_proxy_active(void)
{
    return nblocks > 0;
}

bool dir_proxy_trusted(const char *addr)
{
    return addr && trusted_n(addr, strlen(addr));
}

/* Copies S (N bytes) into BUF as a C string, when it fits. */
static void put(char *buf, size_t bn, const char *s, size_t n)
{
    if (bn == 0) return;
    if (n >= bn) n = 0; /* an address never is this long: say nothing rather than cut it */
    memcpy(buf, s, n);
    buf[n] = '\0';
}

void dir_proxy_client(const char *peer, const char *xff, char *buf, size_t n)
{
    const char *cur = peer ? peer : "";
    size_t curlen = strlen(cur);
    if (nblocks == 0 || !xff || !trusted_n(cur, curlen)) {
        put(buf, n, cur, curlen);
        return;
    }
    /* From the right: each entry is the address the hop to its right saw. */
    const char *end = xff + strlen(xff);
    while (end > xff) {
        const char *e = end;
        while (e > xff && is_sep(e[-1]))
            e--;
        const char *s = e;
        while (s > xff && !is_sep(s[-1]))
            s--;
        end = s;
        if (s == e) continue;
        /* "[v6]:port" and "v4:port" forms are not what proxies send in X-Forwarded-For: an
         * entry that is not a bare address ends the walk at the last trusted hop. */
        unsigned char a[16];
        bool v4;
        if (!parse_addr(s, (size_t)(e - s), a, &v4)) break;
        cur = s;
        curlen = (size_t)(e - s);
        if (!trusted_n(s, curlen)) break;
    }
    put(buf, n, cur, curlen);
}
