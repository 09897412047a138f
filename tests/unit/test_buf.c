/* test_buf.c - dir_buf's JSON string escaping (word-at-a-time) and decimal integers, against
 * a byte-by-byte reference on random strings of quotes, backslashes, control bytes, Thai and
 * ASCII at every length and alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dir_buf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* The reference: one byte at a time, as RFC 8259 asks (the escapes dir_buf makes). */
static void reference(const char *s, char *out)
{
    char *o = out;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p < 0x20) {
            o += sprintf(o, "\\u%04x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = '\0';
}

static void escapes_like_the_reference(void **state)
{
    (void)state;
    static const char *const pieces[] = {"\"",   "\\",         "\n",   "\t",      "\x01",
                                         "\x1f", " ",          "a",    "Bangkok", "กรุงเทพมหานคร",
                                         "ส่งต่อ", "0123456789", "\x7f", "~",       "é"};
    char src[512], want[4096];
    char *storage = malloc(sizeof src + 8);
    for (int iter = 0; iter < 20000; iter++) {
        src[0] = '\0';
        int n = (int)rnd(12);
        for (int i = 0; i < n; i++)
            strcat(src, pieces[rnd(sizeof pieces / sizeof pieces[0])]);
        /* At every alignment, and ending right at the allocation (ASan checks the reads). */
        size_t len = strlen(src);
        char *at = storage + rnd(8);
        memcpy(at, src, len + 1);
        char *tight = malloc(len + 1);
        memcpy(tight, src, len + 1);
        reference(src, want);
        struct dir_buf b, c;
        dir_buf_init(&b, 1 << 20);
        dir_buf_init(&c, 1 << 20);
        assert_int_equal(dir_buf_add_json_str(&b, at), DIR_OK);
        assert_int_equal(dir_buf_add_json_str(&c, tight), DIR_OK);
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.data, want, b.len);
        assert_int_equal(c.len, strlen(want));
        assert_memory_equal(c.data, want, c.len);
        free(tight);
        free(b.data);
        free(c.data);
    }
    free(storage);
}

static void integers_in_decimal(void **state)
{
    (void)state;
    static const long long xs[] = {0,   1,         -1,         9,         10,       99,
                                   100, 123456789, -987654321, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "%lld", xs[i]);
        struct dir_buf b;
        dir_buf_init(&b, 64);
        assert_int_equal(dir_buf_add_int(&b, xs[i]), DIR_OK);
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.data, want, b.len);
        free(b.data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_like_the_reference),
        cmocka_unit_test(integers_in_decimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
