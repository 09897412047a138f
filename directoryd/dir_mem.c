/* dir_mem.c - aborting allocators and a chunked bump arena. */
#include "dir_mem.h"
#include "dir_log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void oom(size_t n)
{
    dir_log_write(DIR_LOG_ERROR, "mem", "out of memory allocating %zu bytes", n);
    abort();
}

void *dir_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *dir_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *dir_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *dir_xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = dir_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

char *dir_xstrndup(const char *s, size_t n)
{
    char *d = dir_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

#define ARENA_CHUNK (256 * 1024)
/* Past ARENA_HUGE_AFTER bytes an arena takes its chunks in 2 MiB pieces aligned for the
 * kernel's transparent huge pages (asked for with MADV_HUGEPAGE). A read model at 1,000,000
 * people is about 1 GB of arena: with 4 KiB pages, a resolver answer touching a few hundred
 * strings scattered over it missed the TLB on nearly every one (strlen of short strings was
 * 13% of the CPU in a profile). Small arenas (an applied version's, a request's) stay on
 * malloc, so they do not each hold 2 MiB. */
#define ARENA_HUGE ((size_t)2 << 20)
#define ARENA_HUGE_AFTER ((size_t)16 << 20)

struct chunk {
    struct chunk *next;
    size_t size, used;
    size_t mapped; /* bytes mapped for a huge-page chunk (freed with munmap), else 0 */
    max_align_t data[];
};

struct dir_arena {
    struct chunk *head;
    size_t total;
};

struct dir_arena *dir_arena_new(void)
{
    return dir_xcalloc(1, sizeof(struct dir_arena));
}

void dir_arena_free(struct dir_arena *a)
{
    if (!a)
        return;
    for (struct chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        if (c->mapped)
            munmap(c, c->mapped);
        else
            free(c);
    }
    free(a);
}

/* BYTES (a multiple of ARENA_HUGE) of zeroed memory aligned to ARENA_HUGE, or NULL. */
static void *map_huge(size_t bytes)
{
    size_t len = bytes + ARENA_HUGE;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    size_t lead = (ARENA_HUGE - ((uintptr_t)p & (ARENA_HUGE - 1))) & (ARENA_HUGE - 1);
    if (lead) munmap(p, lead);
    if (len - lead - bytes) munmap(p + lead + bytes, len - lead - bytes);
    p += lead;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* advice: without huge pages it works the same */
#endif
    return p;
}

/* A new head chunk of A with room for N bytes. */
static struct chunk *chunk_new(struct dir_arena *a, size_t n)
{
    size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK, mapped = 0;
    struct chunk *c = NULL;
    if (a->total >= ARENA_HUGE_AFTER || n >= ARENA_HUGE) {
        mapped = (sizeof(struct chunk) + n + ARENA_HUGE - 1) & ~(ARENA_HUGE - 1);
        c = map_huge(mapped);
        if (c)
            size = mapped - sizeof(struct chunk);
        else
            mapped = 0;
    }
    if (!c) c = dir_xmalloc(sizeof(struct chunk) + size);
    c->size = size;
    c->used = 0;
    c->mapped = mapped;
    c->next = a->head;
    a->head = c;
    return c;
}

void *dir_arena_alloc(struct dir_arena *a, size_t n)
{
    /* 8 bytes: what pointers, 64-bit integers and doubles need, and all the project's
     * structs (none holds a long double or a 16-byte atomic). max_align_t's 16 made every
     * one-value list of 24 bytes take 32: 5 MB of the LDAP view at 100,000 people. */
    const size_t align = 8;
    n = (n + align - 1) & ~(align - 1);
    if (a->head) /* strings may have left the chunk unaligned */
        a->head->used = (a->head->used + align - 1) & ~(align - 1);
    if (!a->head || a->head->used > a->head->size || a->head->size - a->head->used < n)
        chunk_new(a, n);
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += n;
    a->total += n;
    memset(p, 0, n);
    return p;
}

/* Strings need no alignment and no zeroing: they are packed byte by byte. */
char *dir_arena_strndup(struct dir_arena *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    if (!a->head || a->head->size - a->head->used < n + 1) chunk_new(a, n + 1);
    char *d = (char *)a->head->data + a->head->used;
    a->head->used += n + 1;
    a->total += n + 1;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *dir_arena_strdup(struct dir_arena *a, const char *s)
{
    return s ? dir_arena_strndup(a, s, strlen(s)) : NULL;
}

size_t dir_arena_used(const struct dir_arena *a)
{
    return a->total;
}
