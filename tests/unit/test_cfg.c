/* test_cfg.c - unit tests for the configuration table: defaults, bounds, file, precedence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dir_cfg.h"

static void defaults(void **state)
{
    (void)state;
    struct dir_cfg c;
    dir_cfg_defaults(&c);
    assert_int_equal(c.http_port, 8080);
    assert_int_equal(c.ldap_port, 3890);
    assert_string_equal(c.http_addr, "127.0.0.1");
    assert_int_equal(c.stale_days, 365);
}

static void set_checks_bounds_and_names(void **state)
{
    (void)state;
    struct dir_cfg c;
    char err[256];
    dir_cfg_defaults(&c);
    assert_int_equal(dir_cfg_set(&c, "http-port", "9000", err, sizeof err), DIR_OK);
    assert_int_equal(c.http_port, 9000);
    assert_int_equal(dir_cfg_set(&c, "http_port", "65536", err, sizeof err), DIR_ERR_INVALID);
    assert_non_null(strstr(err, "http_port"));
    assert_int_equal(dir_cfg_set(&c, "http_port", "12abc", err, sizeof err), DIR_ERR_INVALID);
    assert_int_equal(c.http_port, 9000);
    assert_int_equal(dir_cfg_set(&c, "no_such", "1", err, sizeof err), DIR_ERR_NOTFOUND);
}

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/dircfgXXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void file_format_and_errors(void **state)
{
    (void)state;
    struct dir_cfg c;
    char err[256];
    dir_cfg_defaults(&c);
    char *ok = write_tmp("# comment\n\nhttp_port = 8181\ndb = \"postgresql://x@127.0.0.1/y\"\n");
    assert_int_equal(dir_cfg_load_file(&c, ok, err, sizeof err), DIR_OK);
    assert_int_equal(c.http_port, 8181);
    assert_string_equal(c.db, "postgresql://x@127.0.0.1/y");
    char *bad = write_tmp("http_port = 1\nthis line has no equals\n");
    assert_int_equal(dir_cfg_load_file(&c, bad, err, sizeof err), DIR_ERR_INVALID);
    assert_non_null(strstr(err, ":2:"));
    unlink(ok);
    unlink(bad);
    free(ok);
    free(bad);
}

static void precedence_file_env_flag(void **state)
{
    (void)state;
    struct dir_cfg c;
    char err[256];
    char *file = write_tmp("http_port = 1111\nstale_days = 10\nrefresh_ms = 100\n");
    char cfgflag[] = "--config", prog[] = "directoryd", port[] = "--http-port=3333",
         cmd[] = "migrate";
    char *argv[] = {prog, cfgflag, file, port, cmd, NULL};
    int npos = 0;
    setenv("DIRECTORYD_HTTP_PORT", "2222", 1);
    setenv("DIRECTORYD_STALE_DAYS", "20", 1);
    assert_int_equal(dir_cfg_resolve(&c, 5, argv, &npos, err, sizeof err), DIR_OK);
    unsetenv("DIRECTORYD_HTTP_PORT");
    unsetenv("DIRECTORYD_STALE_DAYS");
    assert_int_equal(c.http_port, 3333); /* flag beats environment */
    assert_int_equal(c.stale_days, 20);  /* environment beats file */
    assert_int_equal(c.refresh_ms, 100); /* file beats default */
    assert_int_equal(npos, 1);
    assert_string_equal(argv[1], "migrate");
    unlink(file);
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(set_checks_bounds_and_names),
        cmocka_unit_test(file_format_and_errors),
        cmocka_unit_test(precedence_file_env_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
