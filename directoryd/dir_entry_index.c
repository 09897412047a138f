/* dir_entry_index.c - the indexes of an LDAP view built whole: the equality and prefix
 * indexes, the substring index and the DN table, and DN lookup.
 *
 * Indexes are sorted arrays of (normalised value, entry) per indexed attribute: equality is a
 * binary search, an initial substring a range. Name-like attributes also have a substring
 * index (codepoint trigrams to compressed lists of entries). A DN hash table finds search
 * bases.
 */
#include "dir_entry_int.h"
#include "dir_gram.h"
#include "dir_mem.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the equality indexes and the DN table ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

int dir_entry_cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* A value seen while an equality index is built: (attribute, normalised bytes), counted. */
struct iseen {
    const char *norm;
    uint32_t nlen, hash, n, key;
    int id;
};

static int cmp_iseen(const void *a, const void *b)
{
    const struct iseen *x = *(const struct iseen *const *)a;
    const struct iseen *y = *(const struct iseen *const *)b;
    if (x->id != y->id) return x->id - y->id;
    uint32_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
    int c = memcmp(x->norm, y->norm, n);
    if (c) return c;
    return (x->nlen > y->nlen) - (x->nlen < y->nlen);
}

static uint32_t iseen_hash_of(const void *recs, uint32_t i)
{
    return ((const struct iseen *)recs)[i].hash;
}

static uint32_t ptr_hash(const char *p, int id)
{
    uint64_t h = ((uint64_t)(uintptr_t)p ^ ((uint64_t)id << 56)) * 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(h >> 32);
}

/* Where the value at NORM of attribute ID is in SEEN (by address: values are interned, so one
 * address stands for many entries); added (with n = 0) if new. */
static uint32_t iseen_of(struct iseen **seen, uint32_t *nseen, uint32_t *cap, uint32_t **slot,
                         size_t *mask, int id, const char *norm, uint32_t nlen)
{
    uint32_t h = ptr_hash(norm, id);
    if (!*slot || (size_t)(*nseen + 1) * 2 > *mask + 1)
        *slot = dir_entry_slots_grow(*slot, mask, iseen_hash_of, *seen);
    size_t k = h & *mask;
    for (; (*slot)[k]; k = (k + 1) & *mask) {
        const struct iseen *x = &(*seen)[(*slot)[k] - 1];
        if (x->norm == norm && x->id == id) return (*slot)[k] - 1;
    }
    if (*nseen == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *seen = dir_xrealloc(*seen, sizeof **seen * *cap);
    }
    (*seen)[*nseen] = (struct iseen){norm, nlen, h, 0, 0, id};
    (*slot)[k] = ++*nseen;
    return *nseen - 1;
}

/* ---- the substring index (dir_gram.c; how pieces meet grams: dir_entry_int.h) ---- */

/* One pass over the entries in tree order appends each entry to the lists of its grams, so
 * every list comes out ascending. Values shared by many entries (F_SHARED: an organisation's
 * or an area's name, repeated on every member) are indexed once per distinct value instead:
 * their grams list the attribute's equality-index keys (space GRAM_SHARED + attribute), and
 * a search expands the keys to their entries (dir_entry_search.c). At 100,000 people they
 * were 47% of the postings (12.9 of 27.6 million), one per member and gram. */
static void build_grams(struct dir_entry_view *v)
{
    struct dir_gram_build *x = dir_gram_build_begin(&v->grams);
    for (int i = 0; i < v->n; i++) {
        const struct dir_entry *e = &ENT(v, i);
        for (int k = 0; k < e->nattrs; k++) {
            const struct dir_fattr *a = &e->attrs[k];
            unsigned fl = dir_entry_attrs[a->id].flags;
            if (!(fl & F_SUBSTR) || (fl & F_SHARED) ||
                a->match != dir_entry_syn_match(dir_entry_attrs[a->id].syn))
                continue;
            for (int j = 0; j < a->nvals; j++) {
                const struct dir_fval *fv = &a->vals[j];
                dir_gram_add(x, a->id, GRAM_UNITS, fv->norm, fv->nlen, i);
            }
        }
    }
    for (int id = 0; id < A_NATTRS; id++) {
        unsigned fl = dir_entry_attrs[id].flags;
        if (!(fl & F_SUBSTR) || !(fl & F_SHARED)) continue;
        const struct index *ix = &v->idx[id]; /* F_SHARED implies F_INDEX (dir_entry.c) */
        for (int k = 0; k < ix->nk; k++)
            dir_gram_add(x, GRAM_SHARED + id, GRAM_UNITS, ix->k[k].norm, ix->k[k].nlen, k);
    }
    dir_gram_build_finish(x);
}

void dir_entry_build_indexes(struct dir_entry_view *v)
{
    /* Count the entries of every distinct (attribute, value address), sort the distinct ones
     * by bytes (values with equal bytes at different addresses become one key), then place
     * the entries: a second pass in tree order leaves every key's entries ascending. */
    struct iseen *seen = NULL;
    uint32_t nseen = 0, capseen = 0, *slot = NULL;
    size_t mask = 0;
    for (int i = 0; i < v->n; i++)
        for (int k = 0; k < ENT(v, i).nattrs; k++) {
            const struct dir_fattr *a = &ENT(v, i).attrs[k];
            if (!(dir_entry_attrs[a->id].flags & F_INDEX)) continue;
            for (int j = 0; j < a->nvals; j++) {
                uint32_t z = iseen_of(&seen, &nseen, &capseen, &slot, &mask, a->id, a->vals[j].norm,
                                      a->vals[j].nlen); /* may move SEEN */
                seen[z].n++;
            }
        }
    struct iseen **order = dir_xmalloc(sizeof *order * (nseen + 1));
    for (uint32_t i = 0; i < nseen; i++)
        order[i] = &seen[i];
    qsort(order, nseen, sizeof *order, cmp_iseen);
    for (uint32_t i = 0; i < nseen;) { /* one attribute */
        int id = order[i]->id;
        uint32_t j = i, nk = 0, n = 0;
        for (; j < nseen && order[j]->id == id; j++) {
            if (j == i || cmp_iseen(&order[j - 1], &order[j]) != 0) nk++;
            n += order[j]->n;
        }
        struct index *x = &v->idx[id];
        x->k = dir_xmalloc(sizeof *x->k * (nk + 1));
        x->ent = dir_xmalloc(sizeof *x->ent * (n + 1));
        x->n = (int)n;
        uint32_t at = 0;
        for (uint32_t q = i; q < j; q++) {
            if (q == i || cmp_iseen(&order[q - 1], &order[q]) != 0)
                x->k[x->nk++] = (struct ikey){order[q]->norm, order[q]->nlen, at};
            order[q]->key = at; /* where its next entry goes */
            at += order[q]->n;
        }
        x->k[x->nk] = (struct ikey){NULL, 0, at};
        i = j;
    }
    /* Values sharing a key were given consecutive stretches above; entries of one key must be
     * ascending across them too, so those keys are sorted after the fill (rare). */
    for (int i = 0; i < v->n; i++)
        for (int k = 0; k < ENT(v, i).nattrs; k++) {
            const struct dir_fattr *a = &ENT(v, i).attrs[k];
            if (!(dir_entry_attrs[a->id].flags & F_INDEX)) continue;
            for (int j = 0; j < a->nvals; j++) {
                uint32_t z = iseen_of(&seen, &nseen, &capseen, &slot, &mask, a->id, a->vals[j].norm,
                                      a->vals[j].nlen); /* never new here */
                v->idx[a->id].ent[seen[z].key++] = i;
            }
        }
    for (int id = 0; id < A_NATTRS; id++) {
        struct index *x = &v->idx[id];
        for (int q = 0; q < x->nk; q++) {
            uint32_t lo = x->k[q].start, hi = x->k[q + 1].start;
            for (uint32_t r = lo + 1; r < hi; r++)
                if (x->ent[r - 1] >= x->ent[r]) {
                    qsort(x->ent + lo, hi - lo, sizeof *x->ent, dir_entry_cmp_int);
                    break;
                }
        }
    }
    free(order);
    free(seen);
    free(slot);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    build_grams(v);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    v->grams.build_ms =
        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    v->ndns = 1;
    while (v->ndns < (size_t)v->n * 2)
        v->ndns <<= 1;
    v->dns = dir_xmalloc(v->ndns * sizeof *v->dns);
    memset(v->dns, 0xff, v->ndns * sizeof *v->dns);
    for (int i = 0; i < v->n; i++) {
        if (ENT(v, i).gone) continue;
        size_t h = (size_t)hash_str(ENT(v, i).ndn) & (v->ndns - 1);
        while (v->dns[h] >= 0)
            h = (h + 1) & (v->ndns - 1);
        v->dns[h] = i;
    }
}

int dir_entry_cmp_dn_ref(const void *a, const void *b)
{
    return strcmp(((const struct dn_ref *)a)->ndn, ((const struct dn_ref *)b)->ndn);
}

int dir_entry_find_ndn(const struct dir_entry_view *v, const char *ndn)
{
    if (v->npdns) { /* a patched entry's DN (new, or its old one's replacement) */
        struct dn_ref key = {ndn, 0};
        const struct dn_ref *r =
            bsearch(&key, v->pdns, (size_t)v->npdns, sizeof key, dir_entry_cmp_dn_ref);
        if (r) return r->e;
    }
    /* The DN table of the view built whole; a patched view's entries are checked, so a DN a
     * patch changed or removed is not found. */
    const struct dir_entry_view *h = v->root ? v->root : v;
    size_t at = (size_t)hash_str(ndn) & (h->ndns - 1);
    while (h->dns[at] >= 0) {
        const struct dir_entry *e = &ENT(v, h->dns[at]);
        if (!e->gone && strcmp(e->ndn, ndn) == 0) return h->dns[at];
        at = (at + 1) & (h->ndns - 1);
    }
    return -1;
}
