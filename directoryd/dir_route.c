/* dir_route.c - matching a request's method and path against a route table (dir_route.h). */
#include "dir_route.h"

#include "dir_mem.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const char *const method_names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
#define NMETHODS (sizeof method_names / sizeof method_names[0])

unsigned dir_route_method(const char *method)
{
    for (size_t i = 0; i < NMETHODS; i++)
        if (strcmp(method, method_names[i]) == 0) return 1u << i;
    return 0;
}

/* Every Allow value, one per set of methods, made once. */
static char allow_values[1u << NMETHODS][48];
static pthread_once_t allow_once = PTHREAD_ONCE_INIT;

static void make_allow_values(void)
{
    for (unsigned set = 0; set < (1u << NMETHODS); set++) {
        char *out = allow_values[set];
        size_t used = 0;
        for (size_t i = 0; i < NMETHODS; i++)
            if (set & (1u << i))
                used += (size_t)snprintf(out + used, sizeof allow_values[set] - used, "%s%s",
                                         used ? ", " : "", method_names[i]);
    }
}

const char *dir_route_allow(unsigned methods)
{
    pthread_once(&allow_once, make_allow_values);
    return allow_values[methods & ((1u << NMETHODS) - 1)];
}

/* Splits PATH ("/a/b/c") into M's segments; -1 when it is not "/" followed by non-empty
 * segments, has more than DIR_ROUTE_MAX_SEGS or is too long. LEN gets their lengths. */
static int split(const char *path, struct dir_route_match *m, size_t *len)
{
    size_t n = strlen(path);
    if (path[0] != '/' || n >= sizeof m->buf) return -1;
    memcpy(m->buf, path + 1, n);
    int k = 0;
    for (char *p = m->buf;;) {
        char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (!l || k == DIR_ROUTE_MAX_SEGS) return -1;
        p[l] = '\0';
        len[k] = l;
        m->seg[k++] = p;
        if (!slash) return k;
        p = slash + 1;
    }
}

/* ---- the index: each route's segments, and routes by the hash of their first two ---- */

struct compiled {
    int nseg; /* the pattern's segments (DIR_ROUTE_MAX_SEGS + 1: more than a path has) */
    struct {
        unsigned short off, len; /* in the pattern */
        bool param;              /* "{...}" */
    } seg[DIR_ROUTE_MAX_SEGS];
};

struct key {
    uint64_t key;
    size_t idx;
};

struct dir_route_index {
    struct compiled *routes; /* one per route, in table order */
    struct key *keys;        /* routes by the key of their first segments, then table order */
    size_t nkeys;
    size_t *wild; /* routes a key cannot select (a parameter in the first two segments, a
                   * one-segment prefix), in table order */
    size_t nwild;
};

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

/* The key of a path's first segments: S0 alone (N == 1) or S0 and S1, LEN0/LEN1 bytes. */
static uint64_t seg_key(const char *s0, size_t len0, const char *s1, size_t len1, int n)
{
    uint64_t h = FNV_OFFSET ^ (uint64_t)n;
    for (size_t i = 0; i < len0; i++)
        h = (h ^ (unsigned char)s0[i]) * FNV_PRIME;
    h = (h ^ 0xff) * FNV_PRIME; /* a byte no segment holds, between the two */
    for (size_t i = 0; i < len1; i++)
        h = (h ^ (unsigned char)s1[i]) * FNV_PRIME;
    return h;
}

static int by_key(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static struct dir_route_index *index_build(const struct dir_route_table *t)
{
    struct dir_route_index *ix = dir_xcalloc(1, sizeof *ix);
    size_t n = t->n ? t->n : 1;
    ix->routes = dir_xcalloc(n, sizeof *ix->routes);
    ix->keys = dir_xcalloc(n, sizeof *ix->keys);
    ix->wild = dir_xcalloc(n, sizeof *ix->wild);
    for (size_t i = 0; i < t->n; i++) {
        const char *pattern = t->routes[i].pattern, *p = pattern;
        struct compiled *c = &ix->routes[i];
        while (*p == '/' && c->nseg <= DIR_ROUTE_MAX_SEGS) {
            p++;
            size_t l = strcspn(p, "/");
            if (c->nseg < DIR_ROUTE_MAX_SEGS) {
                c->seg[c->nseg].off = (unsigned short)(p - pattern);
                c->seg[c->nseg].len = (unsigned short)l;
                c->seg[c->nseg].param = p[0] == '{';
            }
            c->nseg++;
            p += l;
        }
        bool literal = c->nseg >= 1 && !c->seg[0].param && (c->nseg < 2 || !c->seg[1].param);
        if (!literal || (c->nseg == 1 && (t->routes[i].flags & DIR_ROUTE_PREFIX))) {
            ix->wild[ix->nwild++] = i;
            continue;
        }
        uint64_t key = c->nseg >= 2 ? seg_key(pattern + c->seg[0].off, c->seg[0].len,
                                              pattern + c->seg[1].off, c->seg[1].len, 2)
                                    : seg_key(pattern + c->seg[0].off, c->seg[0].len, "", 0, 1);
        ix->keys[ix->nkeys++] = (struct key){key, i};
    }
    qsort(ix->keys, ix->nkeys, sizeof *ix->keys, by_key);
    return ix;
}

static pthread_mutex_t index_lock = PTHREAD_MUTEX_INITIALIZER;

static struct dir_route_index *index_of(struct dir_route_table *t)
{
    struct dir_route_index *ix = atomic_load_explicit(&t->index, memory_order_acquire);
    if (ix) return ix;
    pthread_mutex_lock(&index_lock);
    ix = atomic_load_explicit(&t->index, memory_order_relaxed);
    if (!ix) {
        ix = index_build(t);
        atomic_store_explicit(&t->index, ix, memory_order_release);
    }
    pthread_mutex_unlock(&index_lock);
    return ix;
}

/* Tries route I on M (segment lengths LEN); true when it is the answer (M->route set). */
static bool try_route(const struct dir_route_table *t, const struct dir_route_index *ix, size_t i,
                      unsigned bit, const size_t *len, struct dir_route_match *m)
{
    const struct dir_route *r = &t->routes[i];
    const struct compiled *c = &ix->routes[i];
    const char *arg[DIR_ROUTE_MAX_ARGS];
    int narg = 0;
    if (c->nseg > m->nseg || (c->nseg < m->nseg && !(r->flags & DIR_ROUTE_PREFIX))) return false;
    for (int k = 0; k < c->nseg; k++) {
        if (c->seg[k].param) {
            if (narg < DIR_ROUTE_MAX_ARGS) arg[narg++] = m->seg[k];
        } else if (c->seg[k].len != len[k] ||
                   memcmp(r->pattern + c->seg[k].off, m->seg[k], len[k]) != 0) {
            return false;
        }
    }
    m->flags |= r->flags;
    if (r->methods & bit) {
        m->route = r;
        m->narg = narg;
        memcpy(m->arg, arg, sizeof arg[0] * (size_t)narg);
        return true;
    }
    m->allow |= r->methods;
    return false;
}

void dir_route_find(struct dir_route_table *t, const char *method, const char *path,
                    struct dir_route_match *m)
{
    size_t len[DIR_ROUTE_MAX_SEGS];
    m->route = NULL;
    m->allow = m->flags = 0;
    m->narg = 0;
    m->nseg = split(path, m, len);
    if (m->nseg < 0) return;
    const struct dir_route_index *ix = index_of(t);
    unsigned bit = dir_route_method(method);
    uint64_t key = m->nseg >= 2 ? seg_key(m->seg[0], len[0], m->seg[1], len[1], 2)
                                : seg_key(m->seg[0], len[0], "", 0, 1);
    /* The routes with this key, from the first in table order... */
    size_t lo = 0, hi = ix->nkeys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->keys[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* ...merged with the wild routes, in table order: the first match wins. */
    size_t k = lo, w = 0;
    for (;;) {
        bool has_k = k < ix->nkeys && ix->keys[k].key == key, has_w = w < ix->nwild;
        if (!has_k && !has_w) return;
        size_t i =
            has_k && (!has_w || ix->keys[k].idx < ix->wild[w]) ? ix->keys[k++].idx : ix->wild[w++];
        if (try_route(t, ix, i, bit, len, m)) return;
    }
}
