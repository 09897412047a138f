/* dir_gram.c - the codepoint n-gram index (see dir_gram.h): cutting text into grams, building
 * the compressed posting lists, looking a gram up and walking its list. */
#include "dir_gram.h"
#include "dir_mem.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

size_t dir_gram_unit_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t k = c >= 0xF0 && c < 0xF8   ? 3
               : c >= 0xE0 && c < 0xF0 ? 2
               : c >= 0xC0 && c < 0xE0 ? 1
                                       : 0;
    if (k >= n) return 1;
    for (size_t j = 1; j <= k; j++)
        if ((s[j] & 0xC0) != 0x80) return 1;
    return k + 1;
}

size_t dir_gram_units(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = 0;
    for (size_t i = 0; i < n; k++)
        i += dir_gram_unit_len(u + i, n - i);
    return k;
}

static uint64_t gram_key(int space, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ ((uint64_t)(unsigned)space * 0x9E3779B97F4A7C15ULL);
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static void refs_push(struct dir_gram_refs *b, struct dir_gram_ref r)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->k = dir_xrealloc(b->k, sizeof *b->k * b->cap);
    }
    b->k[b->n++] = r;
}

void dir_gram_keys(int space, int units, const char *s, size_t n, struct dir_gram_refs *b)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t st[DIR_GRAM_MAX_UNITS] = {0}, i = 0;
    int k = 0;
    if (units < 1 || units > DIR_GRAM_MAX_UNITS) return;
    while (i < n) {
        for (int j = 0; j < units - 1; j++)
            st[j] = st[j + 1];
        st[units - 1] = i;
        i += dir_gram_unit_len(u + i, n - i);
        if (++k >= units)
            refs_push(b, (struct dir_gram_ref){gram_key(space, s + st[0], i - st[0]), s + st[0],
                                               i - st[0]});
    }
}

void dir_gram_refs_free(struct dir_gram_refs *b)
{
    free(b->k);
    memset(b, 0, sizeof *b);
}

bool dir_gram_is(const struct dir_gram_list *l, const struct dir_gram_ref *r)
{
    return !l->mixed && l->glen == r->len && memcmp(l->gram, r->p, r->len) == 0;
}

static struct dir_gram_list *slot_of(const struct dir_gram *g, uint64_t key)
{
    size_t h = (size_t)key & g->mask;
    while (g->slots[h].key && g->slots[h].key != key)
        h = (h + 1) & g->mask;
    return &g->slots[h];
}

const struct dir_gram_list *dir_gram_find(const struct dir_gram *g, const struct dir_gram_ref *r)
{
    if (!g->slots) return NULL;
    const struct dir_gram_list *l = slot_of(g, r->key);
    if (!l->key || (!l->mixed && !dir_gram_is(l, r))) return NULL;
    return l;
}

static void grow(struct dir_gram *g)
{
    struct dir_gram_list *old = g->slots;
    size_t n = g->mask + 1;
    g->mask = n * 2 - 1;
    g->slots = dir_xcalloc(n * 2, sizeof *g->slots);
    for (size_t i = 0; i < n; i++)
        if (old[i].key) *slot_of(g, old[i].key) = old[i];
    free(old);
}

/* ---- building ---- */

/* One list while building. */
struct builder {
    int last; /* the last id added (-1: none) */
    uint32_t n;
    struct dir_gram_blk *blk;
    size_t nblk, capblk;
    unsigned char *pay;
    size_t npay, cappay;
};

static void builder_add(struct builder *gb, int e)
{
    if (gb->last == e) return; /* one id once per list */
    if (gb->n % DIR_GRAM_BLOCK == 0) {
        if (gb->nblk == gb->capblk) {
            gb->capblk = gb->capblk ? gb->capblk * 2 : 1;
            gb->blk = dir_xrealloc(gb->blk, sizeof *gb->blk * gb->capblk);
        }
        gb->blk[gb->nblk++] = (struct dir_gram_blk){e, (uint32_t)gb->npay};
    } else {
        if (gb->npay + 5 > gb->cappay) {
            gb->cappay = gb->cappay ? gb->cappay * 2 : 16;
            gb->pay = dir_xrealloc(gb->pay, gb->cappay);
        }
        unsigned gap = (unsigned)(e - gb->last);
        while (gap >= 0x80) {
            gb->pay[gb->npay++] = (unsigned char)(gap | 0x80);
            gap >>= 7;
        }
        gb->pay[gb->npay++] = (unsigned char)gap;
    }
    gb->last = e;
    gb->n++;
}

struct memo_slot {
    const void *val; /* NULL: empty */
    int space;
    uint32_t off, n; /* builder ids in dir_gram_build.memo_ids */
};

/* The index being built: the slots, and one builder per key (slot.blk names it). MEMO maps a
 * shared text's address to its builders. */
struct dir_gram_build {
    struct dir_gram *g;
    struct builder *gb;
    size_t ngb, capgb;
    struct dir_gram_refs kb;
    struct memo_slot *memo;
    size_t memo_mask, memo_used;
    uint32_t *memo_ids;
    size_t nmemo_ids, capmemo_ids;
};

struct dir_gram_build *dir_gram_build_begin(struct dir_gram *g)
{
    struct dir_gram_build *x = dir_xcalloc(1, sizeof *x);
    memset(g, 0, sizeof *g);
    x->g = g;
    x->memo_mask = 1023;
    x->memo = dir_xcalloc(x->memo_mask + 1, sizeof *x->memo);
    g->mask = (1u << 12) - 1;
    g->slots = dir_xcalloc(g->mask + 1, sizeof *g->slots);
    return x;
}

/* The builder of gram R: its slot, made if new. */
static uint32_t builder_of(struct dir_gram_build *x, const struct dir_gram_ref *r)
{
    struct dir_gram *g = x->g;
    struct dir_gram_list *sl = slot_of(g, r->key);
    if (!sl->key) {
        if ((g->nkeys + 1) * 10 > (g->mask + 1) * 7) {
            grow(g);
            sl = slot_of(g, r->key);
        }
        g->nkeys++;
        sl->key = r->key;
        sl->glen = (unsigned char)r->len;
        memcpy(sl->gram, r->p, r->len);
        if (x->ngb == x->capgb) {
            x->capgb = x->capgb ? x->capgb * 2 : 1024;
            x->gb = dir_xrealloc(x->gb, sizeof *x->gb * x->capgb);
        }
        x->gb[x->ngb] = (struct builder){.last = -1};
        sl->blk = (uint32_t)x->ngb++;
    } else if (!dir_gram_is(sl, r)) {
        sl->mixed = true; /* two grams, one 64-bit key: one list, never exact */
    }
    return sl->blk;
}

void dir_gram_add(struct dir_gram_build *x, int space, int units, const char *s, size_t n, int id)
{
    x->kb.n = 0;
    dir_gram_keys(space, units, s, n, &x->kb);
    for (size_t i = 0; i < x->kb.n; i++) {
        uint32_t b = builder_of(x, &x->kb.k[i]); /* may move x->gb */
        builder_add(&x->gb[b], id);
    }
}

static struct memo_slot *memo_slot(const struct dir_gram_build *x, const void *val, int space)
{
    size_t h = (size_t)((((uintptr_t)val >> 3) ^ (uintptr_t)space) * 0x9E3779B97F4A7C15ULL >> 20) &
               x->memo_mask;
    while (x->memo[h].val && (x->memo[h].val != val || x->memo[h].space != space))
        h = (h + 1) & x->memo_mask;
    return &x->memo[h];
}

void dir_gram_add_shared(struct dir_gram_build *x, int space, int units, const void *val,
                         const char *s, size_t n, int id)
{
    struct memo_slot *ms = memo_slot(x, val, space);
    if (!ms->val) { /* the first time */
        if ((x->memo_used + 1) * 2 > x->memo_mask + 1) {
            struct memo_slot *old = x->memo;
            size_t nm = x->memo_mask + 1;
            x->memo_mask = nm * 2 - 1;
            x->memo = dir_xcalloc(nm * 2, sizeof *x->memo);
            for (size_t i = 0; i < nm; i++)
                if (old[i].val) *memo_slot(x, old[i].val, old[i].space) = old[i];
            free(old);
            ms = memo_slot(x, val, space);
        }
        x->memo_used++;
        x->kb.n = 0;
        dir_gram_keys(space, units, s, n, &x->kb);
        if (x->nmemo_ids + x->kb.n > x->capmemo_ids) {
            x->capmemo_ids = (x->nmemo_ids + x->kb.n) * 2;
            x->memo_ids = dir_xrealloc(x->memo_ids, sizeof *x->memo_ids * x->capmemo_ids);
        }
        *ms = (struct memo_slot){val, space, (uint32_t)x->nmemo_ids, (uint32_t)x->kb.n};
        for (size_t i = 0; i < x->kb.n; i++)
            x->memo_ids[x->nmemo_ids++] = builder_of(x, &x->kb.k[i]);
    }
    for (uint32_t i = 0; i < ms->n; i++)
        builder_add(&x->gb[x->memo_ids[ms->off + i]], id);
}

void dir_gram_build_finish(struct dir_gram_build *x)
{
    struct dir_gram *g = x->g;
    free(x->kb.k);
    free(x->memo);
    free(x->memo_ids);
    for (size_t j = 0; j < x->ngb; j++) {
        g->nblk += x->gb[j].nblk;
        g->npay += x->gb[j].npay;
        g->npost += x->gb[j].n;
    }
    g->blk = dir_xmalloc(sizeof *g->blk * (g->nblk + 1));
    g->pay = dir_xmalloc(g->npay + 1);
    size_t nblk = 0, npay = 0;
    for (size_t h = 0; h <= g->mask; h++) {
        struct dir_gram_list *sl = &g->slots[h];
        if (!sl->key) continue;
        struct builder *b = &x->gb[sl->blk];
        sl->n = b->n;
        sl->blk = (uint32_t)nblk;
        sl->pay = npay;
        memcpy(g->blk + nblk, b->blk, sizeof *b->blk * b->nblk);
        if (b->npay) memcpy(g->pay + npay, b->pay, b->npay);
        nblk += b->nblk;
        npay += b->npay;
        free(b->blk);
        free(b->pay);
    }
    free(x->gb);
    free(x);
}

void dir_gram_free(struct dir_gram *g)
{
    free(g->slots);
    free(g->blk);
    free(g->pay);
    memset(g, 0, sizeof *g);
}

size_t dir_gram_bytes(const struct dir_gram *g)
{
    return g->slots ? (g->mask + 1) * sizeof *g->slots + g->nblk * sizeof *g->blk + g->npay : 0;
}

/* ---- walking a list ---- */

static void cur_block(struct dir_gram_cur *c, int b)
{
    const struct dir_gram_blk *x = &c->g->blk[c->l->blk + (uint32_t)b];
    c->b = b;
    c->i = 0;
    c->cur = x->first;
    c->p = c->g->pay + c->l->pay + x->off;
}

void dir_gram_cur_open(struct dir_gram_cur *c, const struct dir_gram *g,
                       const struct dir_gram_list *l)
{
    memset(c, 0, sizeof *c);
    c->g = g;
    c->l = l;
    c->nb = (int)((l->n + DIR_GRAM_BLOCK - 1) / DIR_GRAM_BLOCK);
    if (c->nb)
        cur_block(c, 0);
    else
        c->cur = INT_MAX;
}

int dir_gram_cur_seek(struct dir_gram_cur *c, int t)
{
    if (c->cur >= t) return c->cur;
    const struct dir_gram_blk *blk = c->g->blk + c->l->blk;
    int lo = c->b + 1;
    if (lo < c->nb && blk[lo].first <= t) {
        /* Gallop over the block headers to the last block starting at or before T. */
        long step = 1, hi = lo + 1;
        while (hi < c->nb && blk[hi].first <= t) {
            lo = (int)hi;
            step *= 2;
            hi = lo + step;
        }
        if (hi > c->nb) hi = c->nb;
        while (hi - lo > 1) {
            int mid = lo + (int)((hi - lo) / 2);
            if (blk[mid].first <= t)
                lo = mid;
            else
                hi = mid;
        }
        cur_block(c, lo);
    }
    while (c->cur < t) {
        int inblk =
            c->b + 1 < c->nb ? DIR_GRAM_BLOCK : (int)(c->l->n - (uint32_t)c->b * DIR_GRAM_BLOCK);
        if (c->i + 1 < inblk) {
            unsigned gap = 0;
            for (int sh = 0;; sh += 7) {
                unsigned char byte = *c->p++;
                gap |= (unsigned)(byte & 0x7f) << sh;
                if (!(byte & 0x80)) break;
            }
            c->cur += (int)gap;
            c->i++;
        } else if (c->b + 1 < c->nb) {
            cur_block(c, c->b + 1);
        } else {
            c->cur = INT_MAX;
        }
    }
    return c->cur;
}
