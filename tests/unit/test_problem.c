/* test_problem.c - unit tests for RFC 9457 problem details and the capped buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>

#include "dir_auth.h"
#include "dir_buf.h"
#include "dir_problem.h"
#include "dir_query.h"
#include "dir_text.h"

static void renders_valid_json_with_fields(void **state)
{
    (void)state;
    struct dir_problem p;
    struct dir_buf b;
    dir_problem_init(&p, 400, "invalid-parameter", "Invalid query parameter",
                     "Query parameter '%s' is invalid", "li\"mit");
    dir_problem_add(&p, "limit", "ต้องเป็นตัวเลข", "must be a \"number\"\n");
    dir_buf_init(&b, 4096);
    assert_int_equal(dir_problem_render(&p, "/v1/areas", &b), DIR_OK);
    json_error_t e;
    json_t *j = json_loads(b.data, 0, &e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 400);
    assert_string_equal(json_string_value(json_object_get(j, "instance")), "/v1/areas");
    json_t *err0 = json_array_get(json_object_get(j, "errors"), 0);
    assert_string_equal(json_string_value(json_object_get(err0, "field")), "limit");
    assert_string_equal(json_string_value(json_object_get(err0, "message_th")), "ต้องเป็นตัวเลข");
    assert_string_equal(json_string_value(json_object_get(err0, "message_en")),
                        "must be a \"number\"\n");
    json_decref(j);
    dir_buf_free(&b);
}

static void buffer_cap_leaves_contents(void **state)
{
    (void)state;
    struct dir_buf b;
    dir_buf_init(&b, 8);
    assert_int_equal(dir_buf_adds(&b, "abcd"), DIR_OK);
    assert_int_equal(dir_buf_adds(&b, "efghij"), DIR_ERR_LIMIT);
    assert_string_equal(b.data, "abcd");
    dir_buf_free(&b);
}

static void secrets_hash_and_roles(void **state)
{
    (void)state;
    char s1[DIR_AUTH_SECRET_LEN + 1], s2[DIR_AUTH_SECRET_LEN + 1];
    uint8_t h1[DIR_AUTH_HASH_LEN], h2[DIR_AUTH_HASH_LEN];
    assert_int_equal(dir_auth_init(), DIR_OK);
    dir_auth_new_secret(s1);
    dir_auth_new_secret(s2);
    assert_int_equal(strlen(s1), DIR_AUTH_SECRET_LEN);
    assert_string_not_equal(s1, s2);
    dir_auth_hash(s1, h1);
    dir_auth_hash(s1, h2);
    assert_memory_equal(h1, h2, DIR_AUTH_HASH_LEN);
    dir_auth_hash(s2, h2);
    assert_memory_not_equal(h1, h2, DIR_AUTH_HASH_LEN);
    assert_int_equal(dir_auth_role_parse("coordinator"), DIR_ROLE_COORDINATOR);
    assert_int_equal(dir_auth_role_parse("anonymous"), -1);
}

/* Problems quote what the client sent: invalid bytes become U+FFFD and the answer stays
 * valid UTF-8 JSON (jansson parses it; it refuses invalid UTF-8). */
static void renders_invalid_utf8_as_replacement(void **state)
{
    (void)state;
    struct dir_problem p;
    struct dir_buf b;
    dir_problem_init(&p, 400, "invalid-parameter", "Invalid query parameter",
                     "'%s' is not one of country",
                     "\xff\xfe"
                     "a\xe0\xb8");
    dir_problem_add(&p, "\xff", "\xc0\xaf", "x\xed\xa0\x80y");
    dir_buf_init(&b, 4096);
    assert_int_equal(dir_problem_render(&p, "/v1/\xff", &b), DIR_OK);
    assert_true(dir_text_utf8_valid(b.data, b.len));
    json_error_t e;
    json_t *j = json_loads(b.data, 0, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "detail")),
                        "'\xef\xbf\xbd\xef\xbf\xbd"
                        "a\xef\xbf\xbd\xef\xbf\xbd' is not one of country");
    assert_string_equal(json_string_value(json_object_get(j, "instance")), "/v1/\xef\xbf\xbd");
    json_t *err0 = json_array_get(json_object_get(j, "errors"), 0);
    assert_string_equal(json_string_value(json_object_get(err0, "field")), "\xef\xbf\xbd");
    json_decref(j);
    dir_buf_free(&b);
}

/* Cutting never splits a character: Thai (3 bytes each) is cut before the character that
 * would not fit, and an ellipsis says something was left out. */
static void clean_cuts_on_character_boundaries(void **state)
{
    (void)state;
    char out[64];
    const char *thai = "กรุงเทพมหานคร"; /* 13 characters, 39 bytes */
    size_t n = dir_text_utf8_clean(thai, strlen(thai), 10, out);
    assert_true(n <= 10);
    assert_true(dir_text_utf8_valid(out, n));
    assert_string_equal(out, "กร\xe2\x80\xa6");
    n = dir_text_utf8_clean(thai, strlen(thai), 39, out);
    assert_string_equal(out, thai);
    n = dir_text_utf8_clean("abc", 3, 3, out);
    assert_string_equal(out, "abc");
    n = dir_text_utf8_clean("abcd", 4, 3, out);
    assert_string_equal(out, "\xe2\x80\xa6");
    n = dir_text_utf8_clean("a\xe0\xb8", 3, 60, out); /* a character cut by %.Ns */
    assert_string_equal(out, "a\xef\xbf\xbd\xef\xbf\xbd");
    (void)n;
}

/* The one parser of numeric query parameters. */
static void query_int_is_strict(void **state)
{
    (void)state;
    long long v = 7;
    assert_true(dir_query_int("9223372036854775807", 0, LLONG_MAX, &v));
    assert_true(v == LLONG_MAX);
    assert_true(dir_query_int("-9223372036854775808", LLONG_MIN, 0, &v));
    assert_true(v == LLONG_MIN);
    assert_true(dir_query_int("007", 1, 500, &v) && v == 7);
    v = 42;
    const char *bad[] = {"9223372036854775808",
                         "-9223372036854775809",
                         "",
                         "-",
                         "+5",
                         " 5",
                         "5 ",
                         "5abc",
                         "1e3",
                         "0x10",
                         "1.0",
                         "99999999999999999999999",
                         NULL};
    for (int i = 0; bad[i]; i++)
        assert_false(dir_query_int(bad[i], LLONG_MIN, LLONG_MAX, &v));
    assert_false(dir_query_int(NULL, 0, 1, &v));
    assert_false(dir_query_int("0", 1, 500, &v));
    assert_false(dir_query_int("501", 1, 500, &v));
    assert_true(v == 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renders_valid_json_with_fields),
        cmocka_unit_test(renders_invalid_utf8_as_replacement),
        cmocka_unit_test(clean_cuts_on_character_boundaries),
        cmocka_unit_test(query_int_is_strict),
        cmocka_unit_test(buffer_cap_leaves_contents),
        cmocka_unit_test(secrets_hash_and_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
