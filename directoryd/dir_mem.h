/* dir_mem.h - allocation that aborts on failure, and arenas for memory freed all at once.
 *
 * Allocation failure is not recoverable in a daemon that serves from memory: every
 * allocation goes through dir_xmalloc and friends, which log and abort (as Redis does).
 * An arena holds everything one read-model snapshot or one request owns; it is freed once.
 */
#ifndef DIR_MEM_H
#define DIR_MEM_H

#include <stddef.h>

void *dir_xmalloc(size_t n);
void *dir_xcalloc(size_t n, size_t size);
void *dir_xrealloc(void *p, size_t n);
/* Copies S (NULL gives NULL); caller frees. */
char *dir_xstrdup(const char *s);
/* Copies the first N bytes of S and a NUL; caller frees. */
char *dir_xstrndup(const char *s, size_t n);

struct dir_arena;

/* A new empty arena; free with dir_arena_free. */
struct dir_arena *dir_arena_new(void);
/* Frees the arena and everything allocated in it. NULL is a no-op. */
void dir_arena_free(struct dir_arena *a);
/* N bytes, zeroed, aligned to 8 bytes (any of the project's types; not long double);
 * valid until the arena is freed. */
void *dir_arena_alloc(struct dir_arena *a, size_t n);
/* Copies S (or the first N bytes of S) into the arena; NULL gives NULL. */
char *dir_arena_strdup(struct dir_arena *a, const char *s);
char *dir_arena_strndup(struct dir_arena *a, const char *s, size_t n);
/* Bytes handed out so far (for the memory report). */
size_t dir_arena_used(const struct dir_arena *a);

#endif
