/* test_text.c - unit tests for dir_text: UTF-8 validation and search folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dir_text.h"

static void utf8_accepts_thai_and_ascii(void **state)
{
    (void)state;
    const char *s = "ศูนย์สร้างโอกาสเด็กสวนลุมพินี Lumphini";
    assert_true(dir_text_utf8_valid(s, strlen(s)));
    assert_int_equal(dir_text_utf8_len("กขค abc"), 7);
}

static void utf8_refuses_malformed(void **state)
{
    (void)state;
    assert_false(dir_text_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(dir_text_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(dir_text_utf8_valid("\xe0\xb8", 2));         /* truncated Thai */
    assert_false(dir_text_utf8_valid("a\0b", 3));             /* NUL */
    assert_false(dir_text_utf8_valid("\xf5\x80\x80\x80", 4)); /* beyond U+10FFFF */
}

static void fold_lowers_latin_keeps_thai(void **state)
{
    (void)state;
    char out[128];
    dir_text_fold("  Lumphini   PARK ลุมพินี ", out);
    assert_string_equal(out, "lumphini park ลุมพินี");
    char *q = dir_text_fold_dup("LUMPHINI");
    assert_true(dir_text_contains("lumphini park child opportunity centre", q));
    assert_false(dir_text_contains("lumpini", q));
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_accepts_thai_and_ascii),
        cmocka_unit_test(utf8_refuses_malformed),
        cmocka_unit_test(fold_lowers_latin_keeps_thai),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
