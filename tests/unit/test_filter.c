/* test_filter.c - unit tests for dir_filter: the RFC 4515 parser, escapes, errors, matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dir_filter.h"

/* Parses S and returns its string form (static buffer), or NULL after an error. */
static const char *roundtrip(const char *s)
{
    static char out[1024];
    struct dir_filter *f;
    struct dir_filter_error err;
    if (dir_filter_parse(s, strlen(s), &f, &err) != DIR_OK)
        return NULL;
    struct dir_buf b;
    dir_buf_init(&b, sizeof out - 1);
    assert_int_equal(dir_filter_to_string(f, &b), DIR_OK);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    dir_buf_free(&b);
    dir_filter_free(f);
    return out;
}

static void rfc4515_section4_examples(void **state)
{
    (void)state;
    static const char *same[] = {
        "(cn=Babs Jensen)",
        "(!(cn=Tim Howes))",
        "(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))",
        "(o=univ*of*mich*)",
        "(seeAlso=)",
        "(cn:caseExactMatch:=Fred Flintstone)",
        "(cn:=Betty Rubble)",
        "(sn:dn:2.4.6.8.10:=Barney Rubble)",
        "(o:dn:=Ace Industry)",
        "(:1.2.3:=Wilma Flintstone)",
        "(o=Parens R Us \\28for all your parenthetical needs\\29)",
        "(cn=*\\2a*)",
        "(filename=C:\\5cMyFile)",
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        const char *r = roundtrip(same[i]);
        assert_non_null(r);
        assert_string_equal(r, same[i]);
    }
    /* Upper-case hex and ":DN" are accepted and written back in canonical form. */
    assert_string_equal(roundtrip("(cn=*\\2A*)"), "(cn=*\\2a*)");
    assert_string_equal(roundtrip("(:DN:2.4.6.8.10:=Dino)"), "(:dn:2.4.6.8.10:=Dino)");
    /* Escaped UTF-8 bytes decode to the characters; binary values stay escaped. */
    assert_string_equal(roundtrip("(sn=Lu\\c4\\8di\\c4\\87)"), "(sn=Lu\xc4\x8di\xc4\x87)");
    assert_string_equal(roundtrip("(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)"),
                        "(1.3.6.1.4.1.1466.0=\\04\\02Hi)");
    assert_string_equal(roundtrip("(cn=\\00)"), "(cn=\\00)");
    assert_string_equal(roundtrip("(cn=*\\e0\\b8\\a5\\e0\\b8\\b8\\e0\\b8\\a1*)"), "(cn=*ลุม*)");
    /* Absolute true/false, a bare item, and options. */
    assert_string_equal(roundtrip("(&)"), "(&)");
    assert_string_equal(roundtrip("(|)"), "(|)");
    assert_string_equal(roundtrip("cn=x"), "(cn=x)");
    assert_string_equal(roundtrip("(cn;lang-th=x)"), "(cn;lang-th=x)");
    assert_string_equal(roundtrip("(cn=*)"), "(cn=*)");
    assert_string_equal(roundtrip("(cn~=x)"), "(cn~=x)");
    assert_string_equal(roundtrip("(a>=1)"), "(a>=1)");
    assert_string_equal(roundtrip("(a<=1)"), "(a<=1)");
}

struct bad {
    const char *s;
    size_t pos;
    const char *reason_part;
};

static void malformed_filters_say_where_and_why(void **state)
{
    (void)state;
    static const struct bad bad[] = {
        {"", 0, "empty"},
        {"(cn=x", 5, "missing ')'"},
        {"(cn=x))", 6, "after the filter"},
        {"((cn=x))", 1, "attribute"},
        {"(=x)", 1, "missing attribute"},
        {"(cn=\\4)", 4, "two hex digits"},
        {"(cn=\\zz)", 4, "two hex digits"},
        {"(cn=a(b)", 5, "'('"},
        {"(cn~=a*)", 6, "'*'"},
        {"(cn>x)", 3, "'='"},
        {"(c n=x)", 2, "invalid character"},
        {"(cn=\xe0\xb8)", 4, "UTF-8"},
        {"(cn:=)x", 6, "after the filter"},
        {"(:=x)", 1, "matching rule"},
        {"(cn:1..2:=x)", 5, "expected ':='"},
        {"(!cn=x)", 2, "'('"},
        {"(&(cn=x)", 8, "end of filter"},
        {"(cn;=x)", 4, "option"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct dir_filter *f = (struct dir_filter *)1;
        struct dir_filter_error err;
        enum dir_rc rc = dir_filter_parse(bad[i].s, strlen(bad[i].s), &f, &err);
        if (rc == DIR_OK)
            fail_msg("accepted %s", bad[i].s);
        assert_null(f);
        assert_non_null(err.reason);
        if (err.pos != bad[i].pos || !strstr(err.reason, bad[i].reason_part))
            fail_msg("%s: got pos %zu '%s'", bad[i].s, err.pos, err.reason);
    }
}

static void limits_are_enforced(void **state)
{
    (void)state;
    char deep[400] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "(!");
    strcat(deep, "(cn=x)");
    for (int i = 0; i < 40; i++)
        strcat(deep, ")");
    struct dir_filter *f;
    struct dir_filter_error err;
    assert_int_equal(dir_filter_parse(deep, strlen(deep), &f, &err), DIR_ERR_LIMIT);
    assert_non_null(strstr(err.reason, "deeply"));
    char *big = malloc(DIR_FILTER_MAX_LEN + 10);
    memset(big, 'a', DIR_FILTER_MAX_LEN + 9);
    big[0] = '(';
    big[DIR_FILTER_MAX_LEN + 9] = '\0';
    assert_int_equal(dir_filter_parse(big, strlen(big), &f, &err), DIR_ERR_LIMIT);
    free(big);
}

/* ---- matching against a hand-made entry ---- */

enum { A_OC, A_CN, A_SN, A_TEL, A_MAIL, A_SECRET, A_OU, A_UID, NATTR };
static const char *names[NATTR] = {"objectClass", "cn", "sn", "telephoneNumber",
                                   "mail",        "secret", "ou", "uid"};

static int resolve(void *cls, const char *name, enum dir_match *m)
{
    (void)cls;
    for (int i = 0; i < NATTR; i++)
        if (strcasecmp(name, names[i]) == 0) {
            *m = i == A_TEL ? DIR_MATCH_TELEPHONE : DIR_MATCH_CASE_IGNORE;
            return i;
        }
    return -1;
}

static struct dir_fval vals[16];
static struct dir_fattr attrs[NATTR];
static char norms[16][128];
static int nv;

static void add(int id, const char *v, bool priv)
{
    struct dir_fattr *a = &attrs[id];
    if (!a->vals)
        a->vals = &vals[nv];
    a->id = id;
    a->match = id == A_TEL ? DIR_MATCH_TELEPHONE : DIR_MATCH_CASE_IGNORE;
    struct dir_fval *x = &vals[nv];
    x->val = v;
    x->len = (uint32_t)strlen(v);
    x->nlen = (uint32_t)dir_filter_normalize(a->match, v, x->len, norms[nv]);
    x->norm = norms[nv];
    x->priv = priv;
    a->nvals++;
    nv++;
}

static enum dir_tri eval(const char *s, bool see_private)
{
    struct dir_filter *f;
    struct dir_filter_error err;
    if (dir_filter_parse(s, strlen(s), &f, &err) != DIR_OK)
        fail_msg("%s: %s at %zu", s, err.reason, err.pos);
    dir_filter_prepare(f, resolve, NULL);
    struct dir_fentry e = {attrs, A_SECRET + 1, "uid=somchai,ou=people,ou=childnet", see_private};
    enum dir_tri r = dir_filter_match(f, &e);
    dir_filter_free(f);
    return r;
}

static int setup_entry(void **state)
{
    (void)state;
    memset(attrs, 0, sizeof attrs);
    nv = 0;
    add(A_OC, "inetOrgPerson", false);
    add(A_OC, "person", false);
    add(A_CN, "สมชาย ใจดี", false);
    add(A_CN, "Somchai  Jaidee", false);
    add(A_SN, "ใจดี", false);
    add(A_TEL, "02-000 1007", false);
    add(A_MAIL, "somchai@demo.invalid", true);
    add(A_SECRET, "x", false);
    return 0;
}

static void matching_rules(void **state)
{
    (void)state;
    assert_int_equal(eval("(cn=somchai jaidee)", false), DIR_TRUE);   /* case, spaces */
    assert_int_equal(eval("(CN=SOMCHAI*)", false), DIR_TRUE);
    assert_int_equal(eval("(cn=*ใจดี)", false), DIR_TRUE);            /* Thai exact */
    assert_int_equal(eval("(cn=*ใจด)", false), DIR_FALSE);
    assert_int_equal(eval("(cn=ส*ช*ใ*)", false), DIR_TRUE);
    assert_int_equal(eval("(cn=สม*ชาย*ชาย*)", false), DIR_FALSE);      /* pieces in order */
    assert_int_equal(eval("(cn=ab*ba)", false), DIR_FALSE);
    assert_int_equal(eval("(telephoneNumber=020001007)", false), DIR_TRUE);
    assert_int_equal(eval("(telephoneNumber=*0001007)", false), DIR_TRUE);
    assert_int_equal(eval("(objectClass=*)", false), DIR_TRUE);
    assert_int_equal(eval("(sn~=ใจดี)", false), DIR_TRUE);
    assert_int_equal(eval("(sn>=ใ)", false), DIR_TRUE);
    assert_int_equal(eval("(sn<=ใ)", false), DIR_FALSE);
    /* Private values are invisible to callers who may not see them. */
    assert_int_equal(eval("(mail=*)", false), DIR_FALSE);
    assert_int_equal(eval("(mail=*)", true), DIR_TRUE);
    assert_int_equal(eval("(mail=somchai*)", false), DIR_FALSE);
    /* Unknown attributes: Undefined, so NOT stays Undefined; present is FALSE. */
    assert_int_equal(eval("(nosuch=x)", false), DIR_UNDEFINED);
    assert_int_equal(eval("(!(nosuch=x))", false), DIR_UNDEFINED);
    assert_int_equal(eval("(nosuch=*)", false), DIR_FALSE);
    assert_int_equal(eval("(|(nosuch=x)(cn=somchai*))", false), DIR_TRUE);
    assert_int_equal(eval("(&(nosuch=x)(cn=nobody))", false), DIR_FALSE);
    assert_int_equal(eval("(&(nosuch=x)(cn=somchai*))", false), DIR_UNDEFINED);
    assert_int_equal(eval("(&)", false), DIR_TRUE);
    assert_int_equal(eval("(|)", false), DIR_FALSE);
    /* Extensible matches. */
    assert_int_equal(eval("(cn:caseExactMatch:=Somchai Jaidee)", false), DIR_FALSE);
    assert_int_equal(eval("(cn:caseExactMatch:=Somchai  Jaidee)", false), DIR_TRUE);
    assert_int_equal(eval("(cn:2.5.13.2:=SOMCHAI JAIDEE)", false), DIR_TRUE);
    assert_int_equal(eval("(cn:=somchai jaidee)", false), DIR_TRUE);
    assert_int_equal(eval("(:caseIgnoreMatch:=ใจดี)", false), DIR_TRUE);
    assert_int_equal(eval("(cn:1.2.3.4:=x)", false), DIR_UNDEFINED);
    assert_int_equal(eval("(ou:dn:=people)", false), DIR_TRUE);
    assert_int_equal(eval("(uid:dn:caseIgnoreMatch:=SOMCHAI)", false), DIR_TRUE);
    assert_int_equal(eval("(cn:dn:=people)", false), DIR_FALSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4515_section4_examples),
        cmocka_unit_test(malformed_filters_say_where_and_why),
        cmocka_unit_test(limits_are_enforced),
        cmocka_unit_test_setup(matching_rules, setup_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
