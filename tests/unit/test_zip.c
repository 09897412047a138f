/* test_zip.c - unit tests for the ZIP reader (directoryd/dir_zip_read.c): what the writer
 * (dir_zip.c) makes reads back; members in a folder; a zip bomb, a damaged member, a
 * truncated archive and unsafe names are refused with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dir_buf.h"
#include "dir_zip.h"

/* An archive of N files NAMES[i] with the texts TEXTS[i], made by dir_zip. */
static void make(struct dir_buf *b, int n, const char *const *names, const char *const *texts)
{
    struct dir_zip z;
    dir_buf_init(b, (size_t)1 << 30);
    dir_zip_init(&z, b, 1764633600);
    for (int i = 0; i < n; i++)
        assert_int_equal(dir_zip_add(&z, names[i], texts[i], strlen(texts[i])), DIR_OK);
    assert_int_equal(dir_zip_finish(&z), DIR_OK);
}

static void reads_what_the_writer_wrote(void **state)
{
    (void)state;
    static const char *const names[] = {"pkg/organizations.csv", "pkg/", "empty.csv"};
    static const char *const texts[] = {"id,name\r\n1,ชื่อ\r\n", "", ""};
    struct dir_buf b;
    make(&b, 3, names, texts);
    struct dir_zip_file *f;
    int n;
    char err[200];
    assert_int_equal(dir_zip_read(b.data, b.len, 1000, 1000, &f, &n, err, sizeof err), DIR_OK);
    assert_int_equal(n, 2); /* the folder entry is skipped */
    assert_string_equal(f[0].name, "pkg/organizations.csv");
    assert_int_equal(f[0].len, strlen(texts[0]));
    assert_memory_equal(f[0].data, texts[0], f[0].len);
    assert_int_equal(f[0].data[f[0].len], 0);
    assert_string_equal(f[1].name, "empty.csv");
    assert_int_equal(f[1].len, 0);
    dir_zip_files_free(f, n);
    dir_buf_free(&b);
}

static void refuses_bombs_damage_and_unsafe_names(void **state)
{
    (void)state;
    char *big = malloc(100001);
    memset(big, 'a', 100000);
    big[100000] = '\0';
    const char *names[] = {"organizations.csv"};
    const char *texts[] = {big};
    struct dir_buf b;
    make(&b, 1, names, texts);
    assert_true(b.len < 2000); /* it compresses very well */
    struct dir_zip_file *f = NULL;
    int n = 0;
    char err[200];
    /* Over a member's limit, and over the total: refused before inflating, named. */
    assert_int_equal(dir_zip_read(b.data, b.len, 1000, 1000000, &f, &n, err, sizeof err),
                     DIR_ERR_LIMIT);
    assert_non_null(strstr(err, "organizations.csv"));
    assert_int_equal(dir_zip_read(b.data, b.len, 1000000, 99999, &f, &n, err, sizeof err),
                     DIR_ERR_LIMIT);
    assert_int_equal(dir_zip_read(b.data, b.len, 100000, 100000, &f, &n, err, sizeof err), DIR_OK);
    dir_zip_files_free(f, n);
    /* A flipped byte in the compressed data: damaged (inflate or the CRC). */
    b.data[50] ^= 0x55;
    assert_int_equal(dir_zip_read(b.data, b.len, 100000, 100000, &f, &n, err, sizeof err),
                     DIR_ERR_INVALID);
    b.data[50] ^= 0x55;
    /* Cut short: no end record. */
    assert_int_equal(dir_zip_read(b.data, b.len - 10, 100000, 100000, &f, &n, err, sizeof err),
                     DIR_ERR_INVALID);
    assert_int_equal(dir_zip_read("hello", 5, 10, 10, &f, &n, err, sizeof err), DIR_ERR_INVALID);
    dir_buf_free(&b);
    free(big);
    /* A name climbing out of the folder. */
    const char *bad[] = {"../etc/passwd"};
    const char *t2[] = {"x"};
    make(&b, 1, bad, t2);
    assert_int_equal(dir_zip_read(b.data, b.len, 100, 100, &f, &n, err, sizeof err),
                     DIR_ERR_INVALID);
    assert_non_null(strstr(err, "unsafe"));
    dir_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_what_the_writer_wrote),
        cmocka_unit_test(refuses_bombs_damage_and_unsafe_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
