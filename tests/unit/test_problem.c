/* test_problem.c - unit tests for RFC 9457 problem details and the capped buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "dir_auth.h"
#include "dir_buf.h"
#include "dir_problem.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renders_valid_json_with_fields),
        cmocka_unit_test(buffer_cap_leaves_contents),
        cmocka_unit_test(secrets_hash_and_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
