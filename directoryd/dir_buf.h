/* dir_buf.h - a growable byte buffer with a size cap (as curl's dynbuf).
 *
 * Appends past the cap fail with DIR_ERR_LIMIT and leave the buffer as it was.
 */
#ifndef DIR_BUF_H
#define DIR_BUF_H

#include "dir_rc.h"
#include <stddef.h>
#include <string.h>

struct dir_buf {
    char *data; /* NUL-terminated when len > 0 */
    size_t len, cap, max;
};

/* Sets up an empty buffer that may grow to MAX bytes. */
void dir_buf_init(struct dir_buf *b, size_t max);
/* Frees the contents; the buffer can be used again after dir_buf_init. */
void dir_buf_free(struct dir_buf *b);
/* Appends N bytes at P when they do not fit yet (dir_buf_add's slow path). */
enum dir_rc dir_buf_add_grow(struct dir_buf *b, const void *p, size_t n);
/* Appends N bytes at P. Inline: answers are rendered by thousands of small appends, and a
 * literal's strlen in dir_buf_adds is then folded at compile time. */
static inline enum dir_rc dir_buf_add(struct dir_buf *b, const void *p, size_t n)
{
    if (n + 1 > b->cap - b->len) /* never wraps: len <= cap */
        return dir_buf_add_grow(b, p, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return DIR_OK;
}
static inline enum dir_rc dir_buf_adds(struct dir_buf *b, const char *s)
{
    return dir_buf_add(b, s, strlen(s));
}
/* Appends X in decimal (no printf: hot in rendering). */
enum dir_rc dir_buf_add_int(struct dir_buf *b, long long x);
enum dir_rc dir_buf_printf(struct dir_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends S as a JSON string literal, quotes included. */
enum dir_rc dir_buf_add_json_str(struct dir_buf *b, const char *s);
/* Hands the contents to the caller (caller frees; never NULL) and resets the buffer. */
char *dir_buf_take(struct dir_buf *b, size_t *len);

#endif
