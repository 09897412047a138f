/* test_cow.c - unit tests for the chunked copy-on-write arrays (directoryd/dir_cow.c): a new
 * version shares every chunk it does not change, a write copies only its chunk, appends
 * cross a chunk boundary, and the versions it came from never change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dir_cow.h"

struct elem {
    long long id;
    char pad[40];
};

static long long id_at(const struct dir_cow *c, int i)
{
    return ((const struct elem *)dir_cow_at(c, i))->id;
}

/* Every element of C has id 10 * index + DELTA, except index EXCEPT (which has ID). */
static void check(const struct dir_cow *c, int n, int except, long long id)
{
    assert_int_equal(c->n, n);
    for (int i = 0; i < n; i++)
        assert_true(id_at(c, i) == (i == except ? id : 10LL * i));
}

static struct elem *flat(int n)
{
    struct elem *v = calloc((size_t)n + 1, sizeof *v);
    for (int i = 0; i < n; i++)
        v[i].id = 10LL * i;
    return v;
}

static void shares_unchanged_chunks(void **state)
{
    (void)state;
    int n = 3 * DIR_COW_CHUNK + 5;
    struct elem *base = flat(n);
    struct dir_cow v0, v1, v2;
    dir_cow_wrap(&v0, base, n, sizeof *base);
    assert_int_equal(v0.nchunks, 4);
    assert_ptr_equal(dir_cow_at(&v0, DIR_COW_CHUNK + 1), &base[DIR_COW_CHUNK + 1]);

    /* v1 changes one element of the second chunk: only that chunk is copied. */
    dir_cow_share(&v1, &v0);
    int at = DIR_COW_CHUNK + 7;
    ((struct elem *)dir_cow_write(&v1, at))->id = -1;
    assert_ptr_equal(v1.tab[0], v0.tab[0]);
    assert_ptr_not_equal(v1.tab[1], v0.tab[1]);
    assert_ptr_equal(v1.tab[2], v0.tab[2]);
    assert_ptr_equal(v1.tab[3], v0.tab[3]);
    assert_int_equal(dir_cow_private_chunks(&v1), 1);
    check(&v1, n, at, -1);
    check(&v0, n, -1, 0); /* the old version is unchanged */

    /* A second write to the same chunk, by the version that copied it, copies nothing. */
    void *chunk = v1.tab[1];
    ((struct elem *)dir_cow_write(&v1, at + 1))->id = 10LL * (at + 1);
    assert_ptr_equal(v1.tab[1], chunk);

    /* v2 shares v1's copied chunk; writing it there copies it again, leaving v1 as it was. */
    dir_cow_share(&v2, &v1);
    assert_ptr_equal(v2.tab[1], v1.tab[1]);
    assert_int_equal(dir_cow_private_chunks(&v1), 0); /* shared with v2 now */
    ((struct elem *)dir_cow_write(&v2, at))->id = 10LL * at;
    assert_ptr_not_equal(v2.tab[1], v1.tab[1]);
    check(&v2, n, -1, 0);
    check(&v1, n, at, -1);

    /* Releasing the older versions leaves the newest intact (ASan sees any use after free). */
    dir_cow_free(&v1);
    dir_cow_free(&v0);
    check(&v2, n, -1, 0);
    dir_cow_free(&v2);
    free(base);
}

static void appends_across_a_chunk_boundary(void **state)
{
    (void)state;
    int n = DIR_COW_CHUNK - 2;
    struct elem *base = flat(n);
    struct dir_cow v0, v1, v2;
    dir_cow_wrap(&v0, base, n, sizeof *base);
    dir_cow_share(&v1, &v0);
    /* Five appends: two fill the (copied) last chunk, three start a new one. */
    for (int i = n; i < n + 5; i++)
        ((struct elem *)dir_cow_append(&v1))->id = 10LL * i;
    assert_int_equal(v1.nchunks, 2);
    check(&v1, n + 5, -1, 0);
    check(&v0, n, -1, 0);
    assert_ptr_not_equal(v1.tab[0], v0.tab[0]); /* the partly filled chunk was copied */
    assert_ptr_equal(dir_cow_at(&v0, 0), &base[0]);

    /* Many appends grow the table past its first size; v1 stays as it was. */
    dir_cow_share(&v2, &v1);
    for (int i = n + 5; i < n + 5 + 3 * DIR_COW_CHUNK; i++)
        ((struct elem *)dir_cow_append(&v2))->id = 10LL * i;
    assert_int_equal(v2.nchunks, 5);
    assert_ptr_equal(v2.tab[0], v1.tab[0]); /* the full first chunk is shared */
    check(&v2, n + 5 + 3 * DIR_COW_CHUNK, -1, 0);
    check(&v1, n + 5, -1, 0);
    dir_cow_free(&v1);
    dir_cow_free(&v0);
    free(base);
    check(&v2, n + 5 + 3 * DIR_COW_CHUNK, -1, 0); /* holds nothing of the flat array */
    dir_cow_free(&v2);
}

static void empty_array(void **state)
{
    (void)state;
    struct dir_cow v0, v1;
    dir_cow_wrap(&v0, NULL, 0, sizeof(struct elem));
    dir_cow_share(&v1, &v0);
    ((struct elem *)dir_cow_append(&v1))->id = 0;
    check(&v1, 1, -1, 0);
    assert_int_equal(v0.n, 0);
    dir_cow_free(&v0);
    dir_cow_free(&v1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shares_unchanged_chunks),
        cmocka_unit_test(appends_across_a_chunk_boundary),
        cmocka_unit_test(empty_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
