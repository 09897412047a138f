/* test_worklist.c - unit tests for the verification worklist's cursor (dir_worklist.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dir_worklist.h"

static void parses_both_kinds(void **state)
{
    (void)state;
    struct dir_db_worklist_filter f;
    memset(&f, 0, sizeof f);
    assert_true(dir_worklist_cursor_parse("n.42", &f));
    assert_true(f.after_set && f.after_null);
    assert_int_equal(f.after_id, 42);
    memset(&f, 0, sizeof f);
    assert_true(dir_worklist_cursor_parse("1700000000123456.7", &f));
    assert_true(f.after_set && !f.after_null);
    assert_int_equal(f.after_us, 1700000000123456LL);
    assert_int_equal(f.after_id, 7);
    /* Before 1970 (a verification date typed in from an old register). */
    assert_true(dir_worklist_cursor_parse("-86400000000.3", &f));
    assert_int_equal(f.after_us, -86400000000LL);
}

static void refuses_anything_else(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        ".",
        "n",
        "n.",
        "n.0",
        "n.-1",
        "x.1",
        "nn.1",
        "12",
        "1.2.3",
        "1..2",
        " 1.2",
        "1.2 ",
        "1.99999999999999999999",
        "99999999999999999999.1",
        "-.1",
        "1.+2",
        "9000000000000000.1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct dir_db_worklist_filter f;
        memset(&f, 0, sizeof f);
        if (dir_worklist_cursor_parse(bad[i], &f)) fail_msg("accepted \"%s\"", bad[i]);
        assert_false(f.after_set);
    }
    assert_false(dir_worklist_cursor_parse(NULL, &(struct dir_db_worklist_filter){0}));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_both_kinds),
        cmocka_unit_test(refuses_anything_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
