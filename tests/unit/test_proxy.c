/* test_proxy.c - unit tests for dir_proxy: trusted proxy blocks and the X-Forwarded-For walk
 * that names the caller behind a load balancer (and ignores a caller who names itself). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dir_proxy.h"

static const char *client(const char *peer, const char *xff)
{
    static char buf[64];
    dir_proxy_client(peer, xff, buf, sizeof buf);
    return buf;
}

static void no_proxies_means_the_peer(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(dir_proxy_configure("", err, sizeof err), DIR_OK);
    assert_false(dir_proxy_active());
    assert_string_equal(client("127.0.0.1", "203.0.113.7"), "127.0.0.1");
}

static void the_nearest_untrusted_entry_is_the_client(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(dir_proxy_configure("127.0.0.1, 10.0.0.0/8 ::1", err, sizeof err), DIR_OK);
    assert_true(dir_proxy_active());
    /* One balancer: it appended the address it saw. */
    assert_string_equal(client("127.0.0.1", "203.0.113.7"), "203.0.113.7");
    /* The caller sent its own header naming someone else: the balancer's entry wins. */
    assert_string_equal(client("127.0.0.1", "198.51.100.1, 203.0.113.7"), "203.0.113.7");
    /* Two trusted hops (an inner proxy at 10.1.2.3), then the client. */
    assert_string_equal(client("10.9.9.9", "198.51.100.1,203.0.113.7, 10.1.2.3"), "203.0.113.7");
    /* IPv6 peer and client. */
    assert_string_equal(client("::1", "2001:db8::42"), "2001:db8::42");
    /* A peer that is not trusted is the client whatever it says. */
    assert_string_equal(client("192.0.2.5", "203.0.113.7"), "192.0.2.5");
    /* No header: the proxy itself. */
    assert_string_equal(client("127.0.0.1", NULL), "127.0.0.1");
    /* Garbage stops the walk at the last trusted hop. */
    assert_string_equal(client("127.0.0.1", "203.0.113.7, unknown"), "127.0.0.1");
    assert_string_equal(client("10.0.0.1", "<script>, 10.0.0.2"), "10.0.0.2");
    assert_string_equal(client("127.0.0.1", " , ,"), "127.0.0.1");
}

static void blocks_match_by_prefix(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(dir_proxy_configure("192.168.4.0/22,2001:db8:1::/48", err, sizeof err),
                     DIR_OK);
    assert_true(dir_proxy_trusted("192.168.7.255"));
    assert_false(dir_proxy_trusted("192.168.8.0"));
    assert_true(dir_proxy_trusted("2001:db8:1:ffff::1"));
    assert_false(dir_proxy_trusted("2001:db8:2::1"));
    assert_false(dir_proxy_trusted("not-an-address"));
    assert_int_equal(dir_proxy_configure("0.0.0.0/0", err, sizeof err), DIR_OK);
    assert_true(dir_proxy_trusted("8.8.8.8"));
    assert_false(dir_proxy_trusted("::2")); /* an IPv4 block never covers IPv6 */
}

static void bad_lists_are_refused_and_named(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(dir_proxy_configure("10.0.0.0/33", err, sizeof err), DIR_ERR_INVALID);
    assert_non_null(strstr(err, "10.0.0.0/33"));
    assert_int_equal(dir_proxy_configure("127.0.0.1,proxy.example", err, sizeof err),
                     DIR_ERR_INVALID);
    assert_non_null(strstr(err, "proxy.example"));
    assert_int_equal(dir_proxy_configure("10.0.0.0/", err, sizeof err), DIR_ERR_INVALID);
    assert_int_equal(dir_proxy_configure("::1/129", err, sizeof err), DIR_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_proxies_means_the_peer),
        cmocka_unit_test(the_nearest_untrusted_entry_is_the_client),
        cmocka_unit_test(blocks_match_by_prefix),
        cmocka_unit_test(bad_lists_are_refused_and_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
