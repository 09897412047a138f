/* dir_cow.h - chunked copy-on-write arrays: the read model's organisations and people.
 *
 * An array of fixed-size elements held as a table of pointers to chunks of DIR_COW_CHUNK
 * elements. A new version of the array (dir_cow_share) copies only the table and takes a
 * reference to each chunk; writing an element (dir_cow_write) or appending one
 * (dir_cow_append) first copies the chunk it lies in, unless this version alone holds that
 * chunk. A version that changes k elements of N therefore costs N / DIR_COW_CHUNK pointers
 * plus at most k chunks, whatever N is; versions share every chunk neither changed, and the
 * last version holding a chunk frees it. A chunk the array does not own (dir_cow_wrap: a
 * flat array in an arena, as the full load builds it) is never freed here and is copied
 * before any write.
 *
 * Reading a version is safe from any number of threads; writing is for the one thread
 * building a version nobody reads yet.
 */
#ifndef DIR_COW_H
#define DIR_COW_H

#include <stddef.h>

#define DIR_COW_BITS 10
#define DIR_COW_CHUNK (1 << DIR_COW_BITS)

struct dir_cow_chunk; /* a reference-counted chunk */

struct dir_cow {
    void **tab;                 /* element I is at tab[I >> DIR_COW_BITS], slot I % CHUNK */
    struct dir_cow_chunk **own; /* per chunk: the counted chunk it is, NULL: not owned */
    size_t size;                /* bytes per element */
    int n;                      /* elements */
    int nchunks, cap;           /* chunks in the table, room in the table */
};

/* C viewing BASE[0..N) of SIZE-byte elements, which it does not own (BASE must outlive
 * every version shared from C). */
void dir_cow_wrap(struct dir_cow *c, void *base, int n, size_t size);
/* C, a new version of OLD sharing all its chunks. OLD is not changed. */
void dir_cow_share(struct dir_cow *c, const struct dir_cow *old);
/* Element I (0 <= I < C->n), for reading. */
static inline void *dir_cow_at(const struct dir_cow *c, int i)
{
    return (char *)c->tab[i >> DIR_COW_BITS] + (size_t)(i & (DIR_COW_CHUNK - 1)) * c->size;
}
/* Element I for writing: its chunk is copied first unless C alone holds it. */
void *dir_cow_write(struct dir_cow *c, int i);
/* A new last element (contents undefined), for writing. */
void *dir_cow_append(struct dir_cow *c);
/* Drops C's references to its chunks and frees its table. */
void dir_cow_free(struct dir_cow *c);
/* Chunks C holds that no other version holds (copied or appended by C and not shared). */
int dir_cow_private_chunks(const struct dir_cow *c);

#endif
