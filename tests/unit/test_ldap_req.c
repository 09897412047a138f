/* test_ldap_req.c - unit tests for dir_ldap_req: whole LDAP requests from bytes, the crash
 * inputs of issue 11 (paged and sort controls without a value), every malformed case the
 * decoder must refuse without crashing, and what it answers instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_ldap_req.h"

#define PEOPLE "ou=people,ou=childnet,dc=bangkok,dc=go,dc=th"

/* Decodes the hex string HEX (spaces ignored) as one message. */
static enum dir_ldap_req_status decode_hex(const char *hex, struct dir_ldap_req *r)
{
    unsigned char *b = malloc(strlen(hex) / 2 + 1);
    size_t n = 0;
    for (const char *p = hex; p[0] && p[1];) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        sscanf(p, "%2x", &v);
        b[n++] = (unsigned char)v;
        p += 2;
    }
    enum dir_ldap_req_status st = dir_ldap_req_decode(b, n, r);
    free(b);
    return st;
}

static enum dir_ldap_req_status decode_ber(BerElement *ber, struct dir_ldap_req *r)
{
    struct berval *bv = NULL;
    assert_int_equal(ber_flatten(ber, &bv), 0);
    enum dir_ldap_req_status st = dir_ldap_req_decode(bv->bv_val, bv->bv_len, r);
    ber_bvfree(bv);
    ber_free(ber, 1);
    return st;
}

/* A search for (objectClass=*) under BASE with SCOPE, whose message continues with the
 * controls the caller adds (it closes the message with "}"). */
static BerElement *search_begin(int msgid, const char *base, int scope)
{
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{seeiibts{}}", msgid, (ber_tag_t)LDAP_REQ_SEARCH, base, scope, 0, 0, 0, 0,
               (ber_tag_t)LDAP_FILTER_PRESENT, "objectClass");
    return ber;
}

/* A search carrying one control OID with CRIT and VALUE (NULL: no value). */
static enum dir_ldap_req_status
search_with_control(const char *oid, int crit, const struct berval *value, struct dir_ldap_req *r)
{
    BerElement *ber = search_begin(2, PEOPLE, 2);
    ber_printf(ber, "t{{s", (ber_tag_t)LDAP_TAG_CONTROLS, oid);
    if (crit) ber_printf(ber, "b", (ber_int_t)1);
    if (value) ber_printf(ber, "O", value);
    ber_printf(ber, "}}}");
    return decode_ber(ber, r);
}

static struct berval *paged_value(int size, const char *cookie, size_t n)
{
    BerElement *v = ber_alloc_t(LBER_USE_DER);
    struct berval *bv = NULL;
    ber_printf(v, "{io}", size, cookie, (ber_len_t)n);
    ber_flatten(v, &bv);
    ber_free(v, 1);
    return bv;
}

/* Issue 11, finding 1: the exact bytes that aborted the daemon (paged control, no value). */
static void issue_bytes_paged_without_value(void **state)
{
    (void)state;
    struct dir_ldap_req r;
    const char *hex = "3063020102634204226f753d6368696c646e65742c64633d62616e676b6f6b2c64633d67"
                      "6f2c64633d74680a01000a0100020100020100010100870b6f626a656374436c617373"
                      "3000a01a30180416312e322e3834302e3131333535362e312e342e333139";
    assert_int_equal(decode_hex(hex, &r), DIR_LDAP_REQ_OK); /* not critical: ignored */
    assert_int_equal(r.op, DIR_LDAP_OP_SEARCH);
    assert_int_equal(r.msgid, 2);
    assert_false(r.paged.present);
    assert_string_equal(r.search.base.p, "ou=childnet,dc=bangkok,dc=go,dc=th");
    assert_non_null(r.search.filter);
    dir_ldap_req_free(&r);
}

static void paged_and_sort_values_absent_or_empty(void **state)
{
    (void)state;
    struct dir_ldap_req r;
    struct berval empty = {0, ""};
    const char *oids[] = {DIR_LDAP_OID_PAGED, DIR_LDAP_OID_SORT_REQ};
    for (int i = 0; i < 2; i++) {
        /* Absent and empty ("04 00") values: ignored when not critical... */
        assert_int_equal(search_with_control(oids[i], 0, NULL, &r), DIR_LDAP_REQ_OK);
        assert_false(r.paged.present || r.sort.present);
        dir_ldap_req_free(&r);
        assert_int_equal(search_with_control(oids[i], 0, &empty, &r), DIR_LDAP_REQ_OK);
        assert_false(r.paged.present || r.sort.present);
        dir_ldap_req_free(&r);
        /* ...protocolError for this operation when critical. */
        assert_int_equal(search_with_control(oids[i], 1, NULL, &r), DIR_LDAP_REQ_ANSWER);
        assert_int_equal(r.rc, LDAP_PROTOCOL_ERROR);
        assert_int_equal(r.res_tag, LDAP_RES_SEARCH_RESULT);
        dir_ldap_req_free(&r);
        assert_int_equal(search_with_control(oids[i], 1, &empty, &r), DIR_LDAP_REQ_ANSWER);
        assert_int_equal(r.rc, LDAP_PROTOCOL_ERROR);
        dir_ldap_req_free(&r);
        /* A value that is not BER at all, or BER of the wrong shape. */
        struct berval junk = {3, "\x30\x05\x02"};
        assert_int_equal(search_with_control(oids[i], 1, &junk, &r), DIR_LDAP_REQ_ANSWER);
        dir_ldap_req_free(&r);
        struct berval nul = {2, "\x05\x00"};
        assert_int_equal(search_with_control(oids[i], 0, &nul, &r), DIR_LDAP_REQ_OK);
        dir_ldap_req_free(&r);
    }
}

static void paged_control_values(void **state)
{
    (void)state;
    struct dir_ldap_req r;
    struct berval *v = paged_value(2, "", 0);
    assert_int_equal(search_with_control(DIR_LDAP_OID_PAGED, 0, v, &r), DIR_LDAP_REQ_OK);
    assert_true(r.paged.present);
    assert_int_equal(r.paged.size, 2);
    assert_int_equal(r.paged.cookie_len, 0);
    unsigned char fp[16];
    memcpy(fp, r.fingerprint, sizeof fp);
    dir_ldap_req_free(&r);
    ber_bvfree(v);
    /* The same search with a cookie has the same fingerprint. */
    v = paged_value(5, "ABCDEFGH", 8);
    assert_int_equal(search_with_control(DIR_LDAP_OID_PAGED, 1, v, &r), DIR_LDAP_REQ_OK);
    assert_int_equal(r.paged.cookie_len, 8);
    assert_memory_equal(r.paged.cookie, "ABCDEFGH", 8);
    assert_memory_equal(r.fingerprint, fp, sizeof fp);
    dir_ldap_req_free(&r);
    ber_bvfree(v);
    /* A long cookie is kept short but its length says it is not ours. */
    char big[100];
    memset(big, 'x', sizeof big);
    v = paged_value(5, big, sizeof big);
    assert_int_equal(search_with_control(DIR_LDAP_OID_PAGED, 1, v, &r), DIR_LDAP_REQ_OK);
    assert_int_equal(r.paged.cookie_len, sizeof big);
    dir_ldap_req_free(&r);
    ber_bvfree(v);
    /* A negative page size is malformed. */
    v = paged_value(-1, "", 0);
    assert_int_equal(search_with_control(DIR_LDAP_OID_PAGED, 1, v, &r), DIR_LDAP_REQ_ANSWER);
    assert_int_equal(r.rc, LDAP_PROTOCOL_ERROR);
    dir_ldap_req_free(&r);
    assert_int_equal(search_with_control(DIR_LDAP_OID_PAGED, 0, v, &r), DIR_LDAP_REQ_OK);
    assert_false(r.paged.present);
    dir_ldap_req_free(&r);
    ber_bvfree(v);
    /* Bytes after the value's SEQUENCE. */
    struct berval trail = {7, "\x30\x03\x02\x01\x02\x04\x00"};
    assert_int_equal(search_with_control(DIR_LDAP_OID_PAGED, 1, &trail, &r), DIR_LDAP_REQ_ANSWER);
    dir_ldap_req_free(&r);
    /* Another base: another fingerprint. */
    BerElement *ber = search_begin(3, "ou=organizations,ou=childnet,dc=bangkok,dc=go,dc=th", 2);
    v = paged_value(5, "ABCDEFGH", 8);
    ber_printf(ber, "t{{sO}}}", (ber_tag_t)LDAP_TAG_CONTROLS, DIR_LDAP_OID_PAGED, v);
    assert_int_equal(decode_ber(ber, &r), DIR_LDAP_REQ_OK);
    assert_memory_not_equal(r.fingerprint, fp, sizeof fp);
    dir_ldap_req_free(&r);
    ber_bvfree(v);
}

static void sort_control_values(void **state)
{
    (void)state;
    struct dir_ldap_req r;
    BerElement *v = ber_alloc_t(LBER_USE_DER);
    ber_printf(v, "{{ststb}{s}}", "sn", (ber_tag_t)0x80, "caseIgnoreOrderingMatch", (ber_tag_t)0x81,
               (ber_int_t)1, "cn");
    struct berval *bv = NULL;
    ber_flatten(v, &bv);
    ber_free(v, 1);
    assert_int_equal(search_with_control(DIR_LDAP_OID_SORT_REQ, 1, bv, &r), DIR_LDAP_REQ_OK);
    assert_true(r.sort.present);
    assert_true(r.sort.critical);
    assert_string_equal(r.sort.attr, "sn");
    assert_string_equal(r.sort.rule, "caseIgnoreOrderingMatch");
    assert_true(r.sort.reverse);
    assert_int_equal(r.sort.nkeys, 2);
    dir_ldap_req_free(&r);
    ber_bvfree(bv);
    /* An empty key list, an empty attribute type. */
    struct berval none = {2, "\x30\x00"}, noattr = {6, "\x30\x04\x30\x02\x04\x00"};
    assert_int_equal(search_with_control(DIR_LDAP_OID_SORT_REQ, 1, &none, &r), DIR_LDAP_REQ_ANSWER);
    dir_ldap_req_free(&r);
    assert_int_equal(search_with_control(DIR_LDAP_OID_SORT_REQ, 1, &noattr, &r),
                     DIR_LDAP_REQ_ANSWER);
    dir_ldap_req_free(&r);
    assert_int_equal(search_with_control(DIR_LDAP_OID_SORT_REQ, 0, &noattr, &r), DIR_LDAP_REQ_OK);
    assert_false(r.sort.present);
    dir_ldap_req_free(&r);
}

static void unknown_and_misplaced_controls(void **state)
{
    (void)state;
    struct dir_ldap_req r;
    assert_int_equal(search_with_control("1.2.3.4", 1, NULL, &r), DIR_LDAP_REQ_ANSWER);
    assert_int_equal(r.rc, LDAP_UNAVAILABLE_CRITICAL_EXTENSION);
    dir_ldap_req_free(&r);
    assert_int_equal(search_with_control("1.2.3.4", 0, NULL, &r), DIR_LDAP_REQ_OK);
    dir_ldap_req_free(&r);
    /* A paged control on a compare: critical fails, otherwise ignored. */
    struct berval *v = paged_value(2, "", 0);
    for (int crit = 0; crit < 2; crit++) {
        BerElement *ber = ber_alloc_t(LBER_USE_DER);
        ber_printf(ber, "{it{s{ss}}t{{s", 5, (ber_tag_t)LDAP_REQ_COMPARE, PEOPLE, "ou", "people",
                   (ber_tag_t)LDAP_TAG_CONTROLS, DIR_LDAP_OID_PAGED);
        if (crit) ber_printf(ber, "b", (ber_int_t)1);
        ber_printf(ber, "O}}}", v);
        assert_int_equal(decode_ber(ber, &r), crit ? DIR_LDAP_REQ_ANSWER : DIR_LDAP_REQ_OK);
        assert_int_equal(r.op, DIR_LDAP_OP_COMPARE);
        assert_int_equal(r.res_tag, LDAP_RES_COMPARE);
        if (crit) assert_int_equal(r.rc, LDAP_UNAVAILABLE_CRITICAL_EXTENSION);
        assert_false(r.paged.present);
        dir_ldap_req_free(&r);
    }
    ber_bvfree(v);
    /* A control that is not a SEQUENCE, a criticality that is not a BOOLEAN. */
    assert_int_equal(decode_hex("300c020101420000a0050403312e32", &r), DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("3010020101420000a009300704012a020101ff", &r),
                     DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
}

static void binds(void **state)
{
    (void)state;
    struct dir_ldap_req r;
    static const char pw[] = "secret\0anything";
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{isto}}", 1, (ber_tag_t)LDAP_REQ_BIND, 3, "cn=x", (ber_tag_t)0x80, pw,
               (ber_len_t)(sizeof pw - 1));
    assert_int_equal(decode_ber(ber, &r), DIR_LDAP_REQ_OK);
    assert_int_equal(r.op, DIR_LDAP_OP_BIND);
    assert_int_equal(r.bind.version, 3);
    assert_string_equal(r.bind.name.p, "cn=x");
    assert_int_equal(r.bind.password.n, sizeof pw - 1); /* the whole secret, NUL included */
    assert_memory_equal(r.bind.password.p, pw, sizeof pw - 1);
    dir_ldap_req_free(&r);
    /* SASL: decoded as such (the server answers authMethodNotSupported). */
    assert_int_equal(decode_hex("3014020101600f020103040063080404504c41494e", &r),
                     DIR_LDAP_REQ_MALFORMED); /* the SASL choice must be [3] constructed */
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("3014020101600f0201030400a3080406504c41494e", &r),
                     DIR_LDAP_REQ_MALFORMED); /* its length overruns the bind */
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("3012020101600d0201030400a3060404504c4149", &r), DIR_LDAP_REQ_OK);
    assert_int_equal(r.bind.auth, DIR_LDAP_AUTH_SASL);
    dir_ldap_req_free(&r);
    /* Version out of range, version as a 5-byte integer, no authentication at all. */
    assert_int_equal(decode_hex("300d 020101 6008 02020100 0400 8000", &r), DIR_LDAP_REQ_ANSWER);
    assert_int_equal(r.rc, LDAP_PROTOCOL_ERROR);
    assert_int_equal(r.res_tag, LDAP_RES_BIND);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("3010 020101 600b 02050000000003 0400 8000", &r),
                     DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("300a02010160050201030400", &r), DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
}

static void search_fields(void **state)
{
    (void)state;
    struct dir_ldap_req r;
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{seeiibt{t{ss}}{sss}}}", 7, (ber_tag_t)LDAP_REQ_SEARCH, PEOPLE, 1, 3, 10,
               20, 1, (ber_tag_t)LDAP_FILTER_AND, (ber_tag_t)LDAP_FILTER_EQUALITY, "cn", "x", "cn",
               "+", "1.1");
    assert_int_equal(decode_ber(ber, &r), DIR_LDAP_REQ_OK);
    assert_int_equal(r.search.scope, 1);
    assert_int_equal(r.search.deref, 3);
    assert_int_equal(r.search.size_limit, 10);
    assert_int_equal(r.search.time_limit, 20);
    assert_true(r.search.types_only);
    assert_int_equal(r.search.nattrs, 3);
    assert_string_equal(r.search.attrs[1], "+");
    assert_int_equal(r.search.filter->kind, DIR_FILTER_AND);
    dir_ldap_req_free(&r);
    /* Out of range: scope 3, deref 4, a negative size or time limit. */
    int bad[][4] = {{3, 0, 0, 0}, {-1, 0, 0, 0}, {0, 4, 0, 0}, {0, 0, -5, 0}, {0, 0, 0, -1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ber = ber_alloc_t(LBER_USE_DER);
        ber_printf(ber, "{it{seeiibts{}}}", 7, (ber_tag_t)LDAP_REQ_SEARCH, PEOPLE, bad[i][0],
                   bad[i][1], bad[i][2], bad[i][3], 0, (ber_tag_t)LDAP_FILTER_PRESENT, "cn");
        assert_int_equal(decode_ber(ber, &r), DIR_LDAP_REQ_ANSWER);
        assert_int_equal(r.rc, LDAP_PROTOCOL_ERROR);
        assert_null(r.search.filter);
        dir_ldap_req_free(&r);
    }
    /* A filter nested deeper than the cap: answered, not run. */
    ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{seeiib", 8, (ber_tag_t)LDAP_REQ_SEARCH, PEOPLE, 2, 0, 0, 0, 0);
    for (int i = 0; i < 40; i++)
        ber_printf(ber, "t{", (ber_tag_t)LDAP_FILTER_NOT);
    ber_printf(ber, "ts", (ber_tag_t)LDAP_FILTER_PRESENT, "cn");
    for (int i = 0; i < 40; i++)
        ber_printf(ber, "}");
    ber_printf(ber, "{}}}");
    assert_int_equal(decode_ber(ber, &r), DIR_LDAP_REQ_ANSWER);
    assert_int_equal(r.rc, LDAP_UNWILLING_TO_PERFORM);
    dir_ldap_req_free(&r);
    /* Trailing garbage inside the search, and after the message. */
    assert_int_equal(decode_hex("3020020101631b04000a01000a0100020100020100010100870263"
                                "6e30000400",
                                &r),
                     DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("301d02010163180400"
                                "0a01000a0100020100020100010100870263"
                                "6e3000ff",
                                &r),
                     DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("301c02010163170400"
                                "0a01000a0100020100020100010100870263"
                                "6e3000"
                                "00",
                                &r),
                     DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    /* The well-formed one those were made from. */
    assert_int_equal(decode_hex("301c02010163170400"
                                "0a01000a0100020100020100010100870263"
                                "6e3000",
                                &r),
                     DIR_LDAP_REQ_OK);
    dir_ldap_req_free(&r);
    /* An attribute selector that is not an OCTET STRING; a 5-byte size limit. */
    assert_int_equal(decode_hex("301f020101631a04000a01000a0100020100020100010100870263"
                                "6e3003020101",
                                &r),
                     DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("302002010163"
                                "1b04000a01000a01000205ff00000000020100010100870263"
                                "6e3000",
                                &r),
                     DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
}

/* A search whose filter is the hex FILTER; returns the status. */
static enum dir_ldap_req_status filter_hex(const char *filter, struct dir_ldap_req *r)
{
    char hex[600];
    size_t fl = strlen(filter) / 2;
    size_t op = 2 + 3 + 3 + 3 + 3 + 3 + fl + 2; /* base ... typesOnly, filter, attributes */
    snprintf(hex, sizeof hex,
             "30%02zx020101"
             "63%02zx"
             "0400"
             "0a0100"
             "0a0100"
             "020100"
             "020100"
             "010100"
             "%s"
             "3000",
             3 + 2 + op, op, filter);
    return decode_hex(hex, r);
}

static void filters(void **state)
{
    (void)state;
    struct dir_ldap_req r;
    struct {
        const char *hex;
        enum dir_ldap_req_status st;
    } cases[] = {
        {"a40830060402636e3000", DIR_LDAP_REQ_MALFORMED},         /* substrings, zero pieces */
        {"a40a0402636e30048003616a", DIR_LDAP_REQ_MALFORMED},     /* a piece overruns */
        {"a40b0402636e3005800161", DIR_LDAP_REQ_MALFORMED},       /* pieces past the filter */
        {"a40c0402636e300680016181016b", DIR_LDAP_REQ_OK},        /* cn=a*k* */
        {"a40c0402636e3006820161800162", DIR_LDAP_REQ_MALFORMED}, /* initial after final */
        {"a4090402636e3003830161", DIR_LDAP_REQ_MALFORMED},       /* an unknown piece */
        {"a9078202636e830161", DIR_LDAP_REQ_OK},                  /* cn:=a */
        {"a9048202636e", DIR_LDAP_REQ_MALFORMED},                 /* no matchValue */
        {"a903830161", DIR_LDAP_REQ_MALFORMED},                   /* neither rule nor type */
        {"a90a8202636e8301618401ff", DIR_LDAP_REQ_OK},            /* :dn */
        {"a90b8202636e83016184020101", DIR_LDAP_REQ_MALFORMED},   /* a 2-byte BOOLEAN */
        {"a9078301618202636e", DIR_LDAP_REQ_MALFORMED},           /* out of order */
        {"a000", DIR_LDAP_REQ_OK},                                /* (&) */
        {"a100", DIR_LDAP_REQ_OK},                                /* (|) */
        {"a200", DIR_LDAP_REQ_MALFORMED},                         /* (!) of nothing */
        {"a2088702636e8702736e", DIR_LDAP_REQ_MALFORMED},         /* (!) of two */
        {"a3040402636e", DIR_LDAP_REQ_MALFORMED},                 /* AVA without a value */
        {"a3060402636e0400", DIR_LDAP_REQ_OK},                    /* (cn=) */
        {"a3070402636e040000", DIR_LDAP_REQ_MALFORMED},           /* AVA with a byte too many */
        {"8a0161", DIR_LDAP_REQ_MALFORMED},                       /* an unknown filter */
        {"0402636e", DIR_LDAP_REQ_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum dir_ldap_req_status st = filter_hex(cases[i].hex, &r);
        if (st != cases[i].st)
            fail_msg("filter %s: status %d, expected %d (%s)", cases[i].hex, st, cases[i].st,
                     r.text ? r.text : "");
        dir_ldap_req_free(&r);
    }
}

static void compare_extended_abandon_unbind(void **state)
{
    (void)state;
    struct dir_ldap_req r;
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{s{ss}}}", 4, (ber_tag_t)LDAP_REQ_COMPARE, PEOPLE, "ou", "people");
    assert_int_equal(decode_ber(ber, &r), DIR_LDAP_REQ_OK);
    assert_string_equal(r.compare.attr.p, "ou");
    assert_string_equal(r.compare.value.p, "people");
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("300b0201016e06040030020400", &r), DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    /* Who am I? and StartTLS, with and without a value; an unknown OID. */
    ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{ts}}", 9, (ber_tag_t)LDAP_REQ_EXTENDED, (ber_tag_t)0x80,
               DIR_LDAP_OID_WHOAMI);
    assert_int_equal(decode_ber(ber, &r), DIR_LDAP_REQ_OK);
    assert_int_equal(r.op, DIR_LDAP_OP_EXTENDED);
    dir_ldap_req_free(&r);
    const char *oids[] = {DIR_LDAP_OID_WHOAMI, DIR_LDAP_OID_STARTTLS, "1.2.3"};
    for (int i = 0; i < 3; i++) {
        ber = ber_alloc_t(LBER_USE_DER);
        ber_printf(ber, "{it{tsts}}", 9, (ber_tag_t)LDAP_REQ_EXTENDED, (ber_tag_t)0x80, oids[i],
                   (ber_tag_t)0x81, "x");
        assert_int_equal(decode_ber(ber, &r), DIR_LDAP_REQ_ANSWER);
        assert_int_equal(r.rc, LDAP_PROTOCOL_ERROR);
        assert_int_equal(r.res_tag, LDAP_RES_EXTENDED);
        dir_ldap_req_free(&r);
    }
    assert_int_equal(decode_hex("300c020101770704053e31322e33", &r), DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("3007020101770204 00", &r), DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    /* Abandon: an id, a negative id, no id, a 5-byte id. */
    assert_int_equal(decode_hex("3006020102500105", &r), DIR_LDAP_REQ_OK);
    assert_int_equal(r.op, DIR_LDAP_OP_ABANDON);
    assert_int_equal(r.abandon_id, 5);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("30060201025001ff", &r), DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("300502010250 00", &r), DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("300a020102500500ffffffff", &r), DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    /* Unbind, with and without contents; a write; a response sent as a request. */
    assert_int_equal(decode_hex("30050201034200", &r), DIR_LDAP_REQ_OK);
    assert_int_equal(r.op, DIR_LDAP_OP_UNBIND);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("3006020103420100", &r), DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("300702010a4a026f75", &r), DIR_LDAP_REQ_ANSWER);
    assert_int_equal(r.rc, LDAP_UNWILLING_TO_PERFORM);
    assert_int_equal(r.res_tag, LDAP_RES_DELETE);
    dir_ldap_req_free(&r);
    assert_int_equal(decode_hex("300c02010a65070a010004000400", &r), DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
}

static void envelopes(void **state)
{
    (void)state;
    struct dir_ldap_req r;
    const char *bad[] = {
        "",           /* nothing */
        "30",         /* a tag alone */
        "3000",       /* no messageID */
        "3003020101", /* no operation */
        "3003020180"
        "4200", /* a negative messageID (and bytes after the message) */
        "3005020180"
        "4200", /* a negative messageID */
        "30080205010000000042"
        "00", /* a 5-byte messageID */
        "310502010142"
        "00",                  /* not a SEQUENCE */
        "3080020101420000 00", /* indefinite length */
        "30050401014200",      /* messageID not an INTEGER */
        "300702010142000000",  /* bytes after the operation that are not controls */
        "3007020101420000 00", /* the same, with the length covering them */
        "300702010142 00a000", /* empty controls are fine... */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char clean[64] = "";
        for (const char *p = bad[i], *q; *p; p = q) {
            q = p + 1;
            if (*p != ' ') strncat(clean, p, 1);
        }
        enum dir_ldap_req_status st = decode_hex(clean, &r);
        enum dir_ldap_req_status want =
            i == sizeof bad / sizeof bad[0] - 1 ? DIR_LDAP_REQ_OK : DIR_LDAP_REQ_MALFORMED;
        if (st != want) fail_msg("envelope %s: status %d, expected %d", clean, st, want);
        dir_ldap_req_free(&r);
    }
    assert_int_equal(dir_ldap_req_decode(NULL, 0, &r), DIR_LDAP_REQ_MALFORMED);
    dir_ldap_req_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(issue_bytes_paged_without_value),
        cmocka_unit_test(paged_and_sort_values_absent_or_empty),
        cmocka_unit_test(paged_control_values),
        cmocka_unit_test(sort_control_values),
        cmocka_unit_test(unknown_and_misplaced_controls),
        cmocka_unit_test(binds),
        cmocka_unit_test(search_fields),
        cmocka_unit_test(filters),
        cmocka_unit_test(compare_extended_abandon_unbind),
        cmocka_unit_test(envelopes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
