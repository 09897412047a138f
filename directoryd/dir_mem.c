/* dir_mem.c - aborting allocators and a chunked bump arena. */
#include "dir_mem.h"
#include "dir_log.h"

#include <stdlib.h>
#include <string.h>

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

struct chunk {
    struct chunk *next;
    size_t size, used;
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
        free(c);
    }
    free(a);
}

void *dir_arena_alloc(struct dir_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    if (a->head) /* strings may have left the chunk unaligned */
        a->head->used = (a->head->used + align - 1) & ~(align - 1);
    if (!a->head || a->head->used > a->head->size || a->head->size - a->head->used < n) {
        size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        struct chunk *c = dir_xmalloc(sizeof(struct chunk) + size);
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
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
    if (!a->head || a->head->size - a->head->used < n + 1) {
        size_t size = n + 1 > ARENA_CHUNK ? n + 1 : ARENA_CHUNK;
        struct chunk *c = dir_xmalloc(sizeof(struct chunk) + size);
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
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
