/* dir_buf.h - a growable byte buffer with a size cap (as curl's dynbuf).
 *
 * Appends past the cap fail with DIR_ERR_LIMIT and leave the buffer as it was.
 */
#ifndef DIR_BUF_H
#define DIR_BUF_H

#include "dir_rc.h"
#include <stddef.h>

struct dir_buf {
    char *data; /* NUL-terminated when len > 0 */
    size_t len, cap, max;
};

/* Sets up an empty buffer that may grow to MAX bytes. */
void dir_buf_init(struct dir_buf *b, size_t max);
/* Frees the contents; the buffer can be used again after dir_buf_init. */
void dir_buf_free(struct dir_buf *b);
enum dir_rc dir_buf_add(struct dir_buf *b, const void *p, size_t n);
enum dir_rc dir_buf_adds(struct dir_buf *b, const char *s);
/* Appends X in decimal (no printf: hot in rendering). */
enum dir_rc dir_buf_add_int(struct dir_buf *b, long long x);
enum dir_rc dir_buf_printf(struct dir_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends S as a JSON string literal, quotes included. */
enum dir_rc dir_buf_add_json_str(struct dir_buf *b, const char *s);
/* Hands the contents to the caller (caller frees; never NULL) and resets the buffer. */
char *dir_buf_take(struct dir_buf *b, size_t *len);

#endif
