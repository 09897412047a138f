/* test_sync.c - unit tests for the staff sync's configuration checks and health output
 * (everything that needs no LDAP server or database; the rest is in test_sync.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_sync.h"

static void config(struct dir_cfg *c)
{
    char err[256];
    dir_cfg_defaults(c);
    assert_int_equal(dir_cfg_set(c, "sync_uri", "ldap://127.0.0.1:1", err, sizeof err), DIR_OK);
    assert_int_equal(dir_cfg_set(c, "sync_base", "dc=bangkok,dc=go,dc=th", err, sizeof err),
                     DIR_OK);
}

static void not_configured_is_not_started(void **state)
{
    (void)state;
    struct dir_cfg c;
    char err[256];
    dir_cfg_defaults(&c); /* no sync_uri */
    struct dir_sync *s = dir_sync_new(&c, NULL);
    assert_false(dir_sync_configured(s));
    assert_int_equal(dir_sync_start(s, err, sizeof err), DIR_OK); /* nothing to start */
    struct dir_sync_req req = {.trigger = "cli"};
    struct dir_sync_report rep;
    assert_int_equal(dir_sync_run(s, &req, &rep), DIR_ERR_INVALID);
    assert_string_equal(rep.status, "failed");
    assert_non_null(strstr(rep.message, "sync_uri"));
    dir_sync_report_free(&rep);
    dir_sync_free(s);

    config(&c);
    assert_int_equal(dir_cfg_set(&c, "sync_mode", "off", err, sizeof err), DIR_OK);
    s = dir_sync_new(&c, NULL);
    assert_false(dir_sync_configured(s));
    dir_sync_free(s);
}

static void bad_mode_and_unit_map_are_refused(void **state)
{
    (void)state;
    struct dir_cfg c;
    char err[256];
    config(&c);
    assert_int_equal(dir_cfg_set(&c, "sync_mode", "sometimes", err, sizeof err), DIR_OK);
    struct dir_sync *s = dir_sync_new(&c, NULL);
    assert_int_equal(dir_sync_start(s, err, sizeof err), DIR_ERR_INVALID);
    assert_non_null(strstr(err, "sync_mode"));
    dir_sync_free(s);

    config(&c);
    assert_int_equal(dir_cfg_set(&c, "sync_unit_map", "welfare-1007=district-1007-welfare;cpu",
                                 err, sizeof err),
                     DIR_OK);
    s = dir_sync_new(&c, NULL);
    assert_int_equal(dir_sync_start(s, err, sizeof err), DIR_ERR_INVALID);
    assert_non_null(strstr(err, "'cpu'"));
    dir_sync_free(s);
}

static void health_before_any_run(void **state)
{
    (void)state;
    struct dir_cfg c;
    struct dir_buf b;
    config(&c);
    struct dir_sync *s = dir_sync_new(&c, NULL);
    dir_buf_init(&b, 4096);
    dir_buf_adds(&b, "{\"status\":\"ok\"");
    dir_sync_health(s, &b);
    dir_buf_adds(&b, "}");
    json_t *j = json_loads(b.data, 0, NULL);
    assert_non_null(j);
    json_t *sync = json_object_get(j, "sync");
    assert_true(json_is_true(json_object_get(sync, "configured")));
    assert_string_equal(json_string_value(json_object_get(sync, "mode")), "auto");
    assert_string_equal(json_string_value(json_object_get(sync, "last_status")), "never");
    assert_int_equal(json_integer_value(json_object_get(sync, "last_run")), 0);
    assert_false(json_is_true(json_object_get(sync, "running")));
    json_decref(j);
    dir_buf_free(&b);
    /* No sync: nothing is added to the answer. */
    dir_buf_init(&b, 4096);
    dir_buf_adds(&b, "{\"status\":\"ok\"");
    dir_sync_health(NULL, &b);
    assert_int_equal(b.len, strlen("{\"status\":\"ok\""));
    assert_string_equal(b.data, "{\"status\":\"ok\"");
    dir_buf_free(&b);
    dir_sync_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(not_configured_is_not_started),
        cmocka_unit_test(bad_mode_and_unit_map_are_refused),
        cmocka_unit_test(health_before_any_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
