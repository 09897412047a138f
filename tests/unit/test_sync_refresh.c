/* test_sync_refresh.c - unit tests for the staff sync's RFC 4533 refresh bookkeeping: the
 * UUID set (dir_sync_seen.c) and how the Sync Done and Sync Info values mark the phases of
 * a refresh (dir_sync_msg.c). Against a real slapd: tests/integration/test_sync_refresh.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lber.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_sync_msg.h"
#include "dir_sync_seen.h"

static void uuid_of(unsigned n, char out[37])
{
    snprintf(out, 37, "%08x-%04x-1041-96ec-7b77e0985d58", n * 2654435761u, n & 0xffff);
}

static void seen_holds_100k_and_knows_how(void **state)
{
    (void)state;
    struct dir_sync_seen *s = dir_sync_seen_new();
    char u[37];
    for (unsigned i = 0; i < 100000; i++) {
        uuid_of(i, u);
        assert_true(dir_sync_seen_add(s, u, i % 2 ? DIR_SYNC_SEEN_PRESENT : DIR_SYNC_SEEN_SENT));
    }
    assert_int_equal(dir_sync_seen_count(s), 100000);
    uuid_of(7, u);
    assert_int_equal(dir_sync_seen_get(s, u), DIR_SYNC_SEEN_PRESENT);
    dir_sync_seen_add(s, u, DIR_SYNC_SEEN_SENT); /* named present and sent: sent */
    assert_int_equal(dir_sync_seen_get(s, u), DIR_SYNC_SEEN_SENT);
    dir_sync_seen_add(s, u, DIR_SYNC_SEEN_PRESENT); /* never back */
    assert_int_equal(dir_sync_seen_get(s, u), DIR_SYNC_SEEN_SENT);
    assert_int_equal(dir_sync_seen_count(s), 100000);
    uuid_of(100000, u);
    assert_int_equal(dir_sync_seen_get(s, u), DIR_SYNC_SEEN_NONE);
    /* Either case is the same UUID; malformed text is none. */
    assert_true(dir_sync_seen_add(s, "ABCDEF01-2345-6789-ABCD-EF0123456789", DIR_SYNC_SEEN_SENT));
    assert_int_equal(dir_sync_seen_get(s, "abcdef01-2345-6789-abcd-ef0123456789"),
                     DIR_SYNC_SEEN_SENT);
    const char *bad[] = {"",
                         "abcdef01-2345-6789-abcd-ef012345678",
                         "abcdef01-2345-6789-abcd-ef01234567890",
                         "abcdef0102345-6789-abcd-ef0123456789",
                         "abcdef01-2345-6789-abcd-ef012345678g",
                         "not a uuid at all, not at all, no!!!"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false(dir_sync_seen_add(s, bad[i], DIR_SYNC_SEEN_SENT));
        assert_int_equal(dir_sync_seen_get(s, bad[i]), DIR_SYNC_SEEN_NONE);
    }
    assert_int_equal(dir_sync_seen_get(s, NULL), DIR_SYNC_SEEN_NONE);
    dir_sync_seen_clear(s);
    assert_int_equal(dir_sync_seen_count(s), 0);
    assert_int_equal(dir_sync_seen_get(s, "abcdef01-2345-6789-abcd-ef0123456789"),
                     DIR_SYNC_SEEN_NONE);
    dir_sync_seen_free(s);
    dir_sync_seen_free(NULL);
}

static struct berval *done_value(const char *cookie, int deletes)
{
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    struct berval c = {cookie ? strlen(cookie) : 0, (char *)cookie}, *bv = NULL;
    if (cookie && deletes >= 0)
        ber_printf(ber, "{Ob}", &c, (ber_int_t)deletes);
    else if (cookie)
        ber_printf(ber, "{O}", &c);
    else if (deletes >= 0)
        ber_printf(ber, "{b}", (ber_int_t)deletes);
    else
        ber_printf(ber, "{}");
    ber_flatten(ber, &bv);
    ber_free(ber, 1);
    return bv;
}

static void sync_done_says_which_phase_ended(void **state)
{
    (void)state;
    struct dir_sync_intake in;
    struct {
        const char *cookie;
        int deletes; /* -1: absent (DEFAULT FALSE) */
        bool present, delete;
    } cases[] = {
        {"rid=000,csn=1", 0, true, false},
        {"rid=000,csn=1", 1, false, true},
        {"rid=000,csn=1", -1, true, false},
        {NULL, -1, true, false},
        {NULL, 1, false, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dir_sync_intake_init(&in);
        struct berval *v = done_value(cases[i].cookie, cases[i].deletes);
        dir_sync_msg_done_value(v, &in);
        assert_true(in.refresh_done);
        assert_int_equal(in.present_phase, cases[i].present);
        assert_int_equal(in.delete_phase, cases[i].delete);
        assert_int_equal(in.got_cookie, cases[i].cookie != NULL);
        ber_bvfree(v);
        dir_sync_intake_free(&in);
    }
    /* A value that cannot be read names no phase: nothing is inferred from omission. */
    dir_sync_intake_init(&in);
    struct berval junk = {3, "\x04\x01x"};
    dir_sync_msg_done_value(&junk, &in);
    assert_true(in.refresh_done);
    assert_false(in.present_phase);
    assert_false(in.delete_phase);
    struct berval empty = {0, NULL};
    dir_sync_msg_done_value(&empty, &in);
    assert_false(in.present_phase);
    dir_sync_intake_free(&in);
}

static struct berval *info_value(ber_tag_t tag, int done, const unsigned char (*uuids)[16], int n,
                                 int deletes)
{
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    struct berval *bv = NULL;
    if (tag == LDAP_TAG_SYNC_ID_SET) {
        ber_printf(ber, "t{", tag);
        if (deletes >= 0) ber_printf(ber, "b", (ber_int_t)deletes);
        ber_printf(ber, "[");
        for (int i = 0; i < n; i++)
            ber_printf(ber, "o", (const char *)uuids[i], (ber_len_t)16);
        ber_printf(ber, "]}");
    } else if (done >= 0) {
        ber_printf(ber, "t{b}", tag, (ber_int_t)done);
    } else {
        ber_printf(ber, "t{}", tag);
    }
    ber_flatten(ber, &bv);
    ber_free(ber, 1);
    return bv;
}

static void sync_info_phases_and_present_sets(void **state)
{
    (void)state;
    struct dir_sync_intake in;
    unsigned char u[3][16];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 16; j++)
            u[i][j] = (unsigned char)(i * 16 + j);

    /* refreshPresent with refreshDone FALSE: the present phase ended, a delete phase
     * follows; the refresh is not over. */
    dir_sync_intake_init(&in);
    struct berval *v = info_value(LDAP_TAG_SYNC_REFRESH_PRESENT, 0, NULL, 0, -1);
    dir_sync_msg_info_value(v, &in);
    ber_bvfree(v);
    assert_true(in.present_phase);
    assert_false(in.refresh_done);
    v = info_value(LDAP_TAG_SYNC_REFRESH_DELETE, -1, NULL, 0, -1); /* refreshDone TRUE */
    dir_sync_msg_info_value(v, &in);
    ber_bvfree(v);
    assert_true(in.delete_phase);
    assert_true(in.refresh_done);
    dir_sync_intake_free(&in);

    /* syncIdSet: refreshDeletes FALSE names present entries, TRUE deleted ones. */
    dir_sync_intake_init(&in);
    v = info_value(LDAP_TAG_SYNC_ID_SET, -1, u, 2, -1);
    dir_sync_msg_info_value(v, &in);
    ber_bvfree(v);
    v = info_value(LDAP_TAG_SYNC_ID_SET, -1, u + 2, 1, 1);
    dir_sync_msg_info_value(v, &in);
    ber_bvfree(v);
    assert_int_equal(in.presents, 2);
    assert_int_equal(dir_sync_seen_count(in.seen), 2);
    assert_int_equal(dir_sync_seen_get(in.seen, "00010203-0405-0607-0809-0a0b0c0d0e0f"),
                     DIR_SYNC_SEEN_PRESENT);
    assert_int_equal(json_array_size(in.deleted), 1);
    assert_string_equal(json_string_value(json_array_get(in.deleted, 0)),
                        "20212223-2425-2627-2829-2a2b2c2d2e2f");
    assert_true(in.delete_phase);
    assert_false(in.present_phase);
    assert_false(in.refresh_done);
    /* What the next persist batch clears keeps the refresh's bookkeeping. */
    dir_sync_intake_clear_changes(&in, true);
    assert_int_equal(dir_sync_seen_count(in.seen), 2);
    assert_int_equal(json_array_size(in.deleted), 0);
    dir_sync_intake_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seen_holds_100k_and_knows_how),
        cmocka_unit_test(sync_done_says_which_phase_ended),
        cmocka_unit_test(sync_info_phases_and_present_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
