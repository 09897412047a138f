/* dir_cow.c - chunked copy-on-write arrays (see dir_cow.h). */
#include "dir_cow.h"
#include "dir_mem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct dir_cow_chunk {
    atomic_int refs;
    _Alignas(16) unsigned char data[];
};

static struct dir_cow_chunk *chunk_new(size_t size)
{
    struct dir_cow_chunk *k = dir_xmalloc(sizeof *k + size * DIR_COW_CHUNK);
    atomic_init(&k->refs, 1);
    return k;
}

static void chunk_release(struct dir_cow_chunk *k)
{
    if (k && atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1) free(k);
}

static void table_alloc(struct dir_cow *c, int nchunks)
{
    c->nchunks = nchunks;
    c->cap = nchunks + 1; /* room for one appended chunk */
    c->tab = dir_xcalloc((size_t)c->cap, sizeof *c->tab);
    c->own = dir_xcalloc((size_t)c->cap, sizeof *c->own);
}

void dir_cow_wrap(struct dir_cow *c, void *base, int n, size_t size)
{
    c->size = size;
    c->n = n;
    table_alloc(c, (n + DIR_COW_CHUNK - 1) >> DIR_COW_BITS);
    for (int k = 0; k < c->nchunks; k++)
        c->tab[k] = (char *)base + ((size_t)k << DIR_COW_BITS) * size;
}

void dir_cow_share(struct dir_cow *c, const struct dir_cow *old)
{
    c->size = old->size;
    c->n = old->n;
    table_alloc(c, old->nchunks);
    if (c->nchunks) {
        memcpy(c->tab, old->tab, sizeof *c->tab * (size_t)c->nchunks);
        memcpy(c->own, old->own, sizeof *c->own * (size_t)c->nchunks);
    }
    for (int k = 0; k < c->nchunks; k++)
        if (c->own[k]) atomic_fetch_add_explicit(&c->own[k]->refs, 1, memory_order_relaxed);
}

/* Chunk K made private to C: copied (its first USED elements) unless C alone holds it. The
 * count cannot rise behind our back: only the thread building C shares from it. */
static void *chunk_private(struct dir_cow *c, int k, int used)
{
    struct dir_cow_chunk *o = c->own[k];
    if (o && atomic_load_explicit(&o->refs, memory_order_acquire) == 1) return c->tab[k];
    struct dir_cow_chunk *x = chunk_new(c->size);
    if (used) memcpy(x->data, c->tab[k], (size_t)used * c->size);
    chunk_release(o);
    c->own[k] = x;
    c->tab[k] = x->data;
    return x->data;
}

static int used_in(const struct dir_cow *c, int k)
{
    int left = c->n - (k << DIR_COW_BITS);
    return left < DIR_COW_CHUNK ? left : DIR_COW_CHUNK;
}

void *dir_cow_write(struct dir_cow *c, int i)
{
    int k = i >> DIR_COW_BITS;
    char *d = chunk_private(c, k, used_in(c, k));
    return d + (size_t)(i & (DIR_COW_CHUNK - 1)) * c->size;
}

void *dir_cow_append(struct dir_cow *c)
{
    int i = c->n, k = i >> DIR_COW_BITS;
    if (k == c->nchunks) { /* a new chunk */
        if (c->nchunks == c->cap) {
            c->cap *= 2;
            c->tab = dir_xrealloc(c->tab, sizeof *c->tab * (size_t)c->cap);
            c->own = dir_xrealloc(c->own, sizeof *c->own * (size_t)c->cap);
        }
        struct dir_cow_chunk *x = chunk_new(c->size);
        c->own[k] = x;
        c->tab[k] = x->data;
        c->nchunks++;
    } else {
        chunk_private(c, k, used_in(c, k));
    }
    c->n++;
    return (char *)c->tab[k] + (size_t)(i & (DIR_COW_CHUNK - 1)) * c->size;
}

void dir_cow_free(struct dir_cow *c)
{
    if (c->own)
        for (int k = 0; k < c->nchunks; k++)
            chunk_release(c->own[k]);
    free(c->tab);
    free(c->own);
    memset(c, 0, sizeof *c);
}

int dir_cow_private_chunks(const struct dir_cow *c)
{
    int n = 0;
    for (int k = 0; k < c->nchunks; k++)
        n += c->own[k] && atomic_load(&c->own[k]->refs) == 1;
    return n;
}
