/* dir_buf.c - growable byte buffer with a cap. */
#include "dir_buf.h"
#include "dir_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

void dir_buf_init(struct dir_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void dir_buf_free(struct dir_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static enum dir_rc reserve(struct dir_buf *b, size_t n)
{
    if (n > b->max || b->len + n + 1 > b->max)
        return DIR_ERR_LIMIT;
    if (b->len + n + 1 <= b->cap)
        return DIR_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    if (cap > b->max)
        cap = b->max;
    b->data = dir_xrealloc(b->data, cap);
    b->cap = cap;
    return DIR_OK;
}

enum dir_rc dir_buf_add_grow(struct dir_buf *b, const void *p, size_t n)
{
    enum dir_rc rc = reserve(b, n);
    return rc ? rc : dir_buf_add(b, p, n); /* it fits now */
}

enum dir_rc dir_buf_printf(struct dir_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return DIR_ERR_INVALID;
    enum dir_rc rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return DIR_OK;
}

enum dir_rc dir_buf_add_json_str(struct dir_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    enum dir_rc rc = dir_buf_add(b, "\"", 1);
    /* Runs of bytes that need no escape are copied at once, and found eight bytes at a time
     * (resolver answers and people pages are rendered per request: this is their hottest
     * loop). SWAR: (x - 0x0101..*k) & ~x has a byte's top bit set where that byte of x is
     * below k; a quote or backslash is a zero byte of x ^ (0x0101..*c). */
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s), *run = p;
    for (; !rc && p < end; p++) {
        while (end - p >= 8) {
            uint64_t w, q, bs;
            memcpy(&w, p, 8);
            q = w ^ (ones * '"');
            bs = w ^ (ones * '\\');
            if ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & high) break;
            p += 8;
        }
        if (p == end) break;
        if (*p != '"' && *p != '\\' && *p >= 0x20) continue;
        if (p > run) rc = dir_buf_add(b, run, (size_t)(p - run));
        char esc[7];
        if (rc) {
            break;
        } else if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            rc = dir_buf_add(b, esc, 2);
        } else {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            rc = dir_buf_add(b, esc, 6);
        }
        run = p + 1;
    }
    if (!rc && end > run) rc = dir_buf_add(b, run, (size_t)(end - run));
    return rc ? rc : dir_buf_add(b, "\"", 1);
}

/* Appends X in decimal. */
enum dir_rc dir_buf_add_int(struct dir_buf *b, long long x)
{
    char tmp[24], *e = tmp + sizeof tmp, *q = e;
    unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (x < 0) *--q = '-';
    return dir_buf_add(b, q, (size_t)(e - q));
}

char *dir_buf_take(struct dir_buf *b, size_t *len)
{
    char *d = b->data ? b->data : dir_xstrdup("");
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
