/* test_entry.c - unit tests for LDAP entry search: whatever the indexes (equality ranges, the
 * substring trigram index, AND/OR cursors) answer must be exactly what a linear scan of the
 * entries in tree order answers, with the same size-limit cut. The directory is built in
 * memory (no database): a few districts and organisations and ~1,500 people with generated
 * Thai and Latin names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ldap.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_buf.h"
#include "dir_entry.h"
#include "dir_filter.h"
#include "dir_mem.h"
#include "dir_model.h"
#include "dir_text.h"

#define SUFFIX DIR_ENTRY_DEFAULT_SUFFIX
#define NPEOPLE 1500
#define NORGS 40

static uint64_t rng = 88172645463325252ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Thai syllables (with tone marks and vowels that are separate code points) and Latin ones. */
static const char *const th_syl[] = {
    "สม",  "ชาย", "ใจ",  "ดี",   "ศรี",  "สุข",   "บุญ",  "มา",   "วงศ์", "ทอง", "คำ", "แก้ว",
    "เพ็ญ", "นภา", "กิตติ", "พงษ์", "ประ", "เสริฐ", "รัตน์", "จันทร์", "สุ",   "ภา",  "วดี", "น้ำ",
    "ฝน",  "เห",  "งเห", "ลุม",  "พินี",  "ปทุม",  "วัน",  "บาง",  "รัก",  "ดุสิต", "ก"};
static const char *const en_syl[] = {"som",    "chai",  "jai",   "dee",  "sri",   "suk",  "boon",
                                     "ma",     "wong",  "thong", "kham", "kaew",  "pen",  "napha",
                                     "kitti",  "phong", "pra",   "sert", "rat",   "chan", "su",
                                     "pha",    "wadee", "nam",   "fon",  "nrot",  "lum",  "phini",
                                     "pathum", "wan",   "bang",  "rak",  "dusit", "k",    "x"};
#define NSYL(a) (sizeof(a) / sizeof((a)[0]))

static void word(char *out, size_t cap, const char *const *syl, size_t nsyl, int nparts, bool cap1)
{
    out[0] = '\0';
    for (int i = 0; i < nparts; i++)
        strncat(out, syl[rnd((unsigned)nsyl)], cap - strlen(out) - 1);
    if (cap1 && out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 32);
}

/* "given family", sometimes with doubled or edge white space (normalisation folds it). */
static char *name(const char *const *syl, size_t nsyl, bool latin)
{
    char g[128], f[128], buf[300];
    word(g, sizeof g, syl, nsyl, 1 + (int)rnd(2), latin);
    word(f, sizeof f, syl, nsyl, 1 + (int)rnd(3), latin);
    const char *sep = rnd(10) == 0 ? "  " : " ";
    const char *tail = rnd(20) == 0 ? " " : "";
    snprintf(buf, sizeof buf, "%s%s%s%s", g, sep, f, tail);
    return dir_xstrdup(buf);
}

static const char *const districts[][3] = {
    {"1002", "ดุสิต", "Dusit"},
    {"1004", "บางรัก", "Bang Rak"},
    {"1007", "ปทุมวัน", "Pathum Wan"},
    {"1029", "บางซื่อ", "Bang Sue"},
    {"1050", "ทวีวัฒนา", "Thawi Watthana"},
};
static const char *const professions[] = {"social_worker", "psychologist", "nurse", "teacher"};
static const char *const roles[] = {"district_welfare", "agency_partner", "case_manager"};

/* Strings handed to the builder (it copies them), freed once the model is finished. */
static char *strs[NPEOPLE * 4 + NORGS * 4];
static int nstrs;

static const char *keep(char *s)
{
    strs[nstrs++] = s;
    return s;
}

static struct dir_model *build(void)
{
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true,
                       1);
    for (size_t i = 0; i < sizeof districts / sizeof districts[0]; i++)
        dir_model_add_area(b, districts[i][0], "district", "10", districts[i][1], districts[i][2],
                           NULL, NAN, NAN, true, 1);
    for (int i = 1; i <= NORGS; i++) {
        char th[200], en[200], ref[32];
        char w1[64], w2[64];
        word(w1, sizeof w1, th_syl, NSYL(th_syl), 2, false);
        word(w2, sizeof w2, en_syl, NSYL(en_syl), 2, true);
        snprintf(th, sizeof th, "ศูนย์%s %d", w1, i);
        snprintf(en, sizeof en, "%s Centre %d", w2, i);
        snprintf(ref, sizeof ref, "org-%d", i);
        struct dir_org_row o = {.id = i,
                                .ref = keep(dir_xstrdup(ref)),
                                .name_th = keep(dir_xstrdup(th)),
                                .name_en = keep(dir_xstrdup(en)),
                                .type = "ngo",
                                .sector = "ngo",
                                .parent_id = i > 30 ? i - 30 : 0,
                                .area_code = districts[i % 5][0],
                                .version = 1};
        dir_model_add_org(b, &o);
        if (i % 3 == 0) {
            char mail[64];
            snprintf(mail, sizeof mail, "Org%d@Bench.invalid", i);
            struct dir_contact_row c = {.org_id = i,
                                        .kind = "email",
                                        .value = keep(dir_xstrdup(mail)),
                                        .is_public = i % 2 == 0};
            dir_model_add_contact(b, &c);
        }
    }
    for (int i = 1; i <= NPEOPLE; i++) {
        char uid[32];
        snprintf(uid, sizeof uid, "person-%04d", i);
        struct dir_person_row p = {.id = i,
                                   .username = keep(dir_xstrdup(uid)),
                                   .name_th = keep(name(th_syl, NSYL(th_syl), false)),
                                   .name_en =
                                       rnd(8) ? keep(name(en_syl, NSYL(en_syl), true)) : NULL,
                                   .profession = professions[rnd(4)],
                                   .source = "manual",
                                   .active = rnd(50) != 0,
                                   .version = 1};
        dir_model_add_person(b, &p);
        if (rnd(3)) {
            char mail[96];
            snprintf(mail, sizeof mail, "%s.%d@Example.org", p.name_en ? "latin" : "thai", i);
            struct dir_contact_row c = {.person_id = i,
                                        .kind = "email",
                                        .value = keep(dir_xstrdup(mail)),
                                        .is_public = rnd(4) != 0};
            dir_model_add_contact(b, &c);
        }
        int nm = 1 + (int)rnd(2);
        for (int k = 0; k < nm; k++) {
            long long mid = (long long)i * 10 + k;
            const char *role = roles[rnd(3)];
            dir_model_add_membership(b, mid, i, 1 + (long long)rnd(NORGS), role, NULL, NULL);
            if (strcmp(role, "district_welfare") == 0)
                dir_model_add_membership_area(b, mid, districts[rnd(5)][0], NULL);
        }
    }
    /* Every gram of "abcd" but not "abcd" itself (nor "กขคง", "aaaa", "กกกก"): candidates that
     * are no match. */
    struct dir_person_row trap = {.id = NPEOPLE + 1,
                                  .username = "trap",
                                  .name_th = "กขค ขคง กกก",
                                  .name_en = "Abc Bcd Aaa",
                                  .source = "manual",
                                  .active = true,
                                  .version = 1};
    dir_model_add_person(b, &trap);
    struct dir_model *m = NULL;
    char err[128];
    assert_int_equal(dir_model_finish(b, 1, &m, err, sizeof err), DIR_OK);
    for (int i = 0; i < nstrs; i++)
        free(strs[i]);
    nstrs = 0;
    return m;
}

/* The reference: every entry in scope, in tree order, checked against the prepared filter. */
static void scan(const struct dir_entry_view *v, const struct dir_entry_search *s, int base,
                 struct dir_entry_result *want)
{
    memset(want, 0, sizeof *want);
    want->idx = dir_xmalloc(sizeof(int) * (size_t)(dir_entry_count(v) + 1));
    const struct dir_entry *be = dir_entry_at(v, base);
    int hi = s->scope == DIR_SCOPE_BASE ? base + 1 : be->end;
    bool see_private = s->role >= DIR_ROLE_CASEWORKER;
    for (int e = base; e < hi; e++) {
        const struct dir_entry *en = dir_entry_at(v, e);
        if (e <= s->after || en->gone || (s->scope == DIR_SCOPE_ONE && en->parent != base) ||
            (en->priv && !see_private))
            continue;
        struct dir_fentry fe = {en->attrs, en->nattrs, en->ndn, see_private};
        if (dir_filter_match(s->filter, &fe) != DIR_TRUE)
            continue;
        want->idx[want->n++] = e;
        if (s->size_limit > 0 && want->n > s->size_limit) {
            want->size_exceeded = true;
            break;
        }
    }
}

static int nchecked, nnonempty;

/* Runs FILTER through dir_entry_search and through the scan; they must agree exactly. */
static void check(const struct dir_entry_view *v, const char *filter, const char *base,
                  enum dir_scope scope, enum dir_role role, int limit, int after)
{
    struct dir_filter *f = NULL;
    struct dir_filter_error ferr;
    if (dir_filter_parse(filter, strlen(filter), &f, &ferr) != DIR_OK)
        fail_msg("filter %s does not parse: %s", filter, ferr.reason);
    struct dir_entry_search s = {.base = base,
                                 .scope = scope,
                                 .filter = f,
                                 .role = role,
                                 .size_limit = limit,
                                 .sort_attr = -1,
                                 .after = after};
    struct dir_entry_result got, want;
    const char *matched;
    assert_int_equal(dir_entry_search(v, &s, &got, &matched), DIR_OK);
    scan(v, &s, got.base, &want);
    if (got.n != want.n || got.size_exceeded != want.size_exceeded ||
        (got.n && memcmp(got.idx, want.idx, sizeof(int) * (size_t)got.n) != 0))
        fail_msg("%s (base %s, scope %d, role %d, limit %d, after %d): index gave %d entries%s, "
                 "scan %d%s",
                 filter, base, (int)scope, (int)role, limit, after, got.n,
                 got.size_exceeded ? " (size exceeded)" : "", want.n,
                 want.size_exceeded ? " (size exceeded)" : "");
    nchecked++;
    nnonempty += got.n > 0;
    free(got.idx);
    free(want.idx);
    dir_filter_free(f);
}

static void check_all_ways(const struct dir_entry_view *v, const char *filter)
{
    static const int limits[] = {0, 1, 3, 20};
    check(v, filter, SUFFIX, DIR_SCOPE_SUB, DIR_ROLE_CASEWORKER, limits[rnd(4)], -1);
    check(v, filter, "ou=people," SUFFIX, DIR_SCOPE_SUB, DIR_ROLE_CASEWORKER, 20, -1);
    check(v, filter, "ou=people," SUFFIX, DIR_SCOPE_ONE, DIR_ROLE_CASEWORKER, 0, -1);
    check(v, filter, SUFFIX, DIR_SCOPE_SUB, DIR_ROLE_ANON, limits[rnd(4)], -1);
    check(v, filter, "ou=organizations," SUFFIX, DIR_SCOPE_ONE, DIR_ROLE_ANON, 0, -1);
    check(v, filter, SUFFIX, DIR_SCOPE_SUB, DIR_ROLE_CASEWORKER, 5,
          (int)rnd((unsigned)dir_entry_count(v)));
}

/* Appends the N bytes at S to OUT as an RFC 4515 assertion value (escaping * ( ) \, and
 * every byte that is not ASCII when S is not well-formed UTF-8). */
static void escape(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = strlen(out);
    bool utf8 = dir_text_utf8_valid(s, n);
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0 || (c >= 0x80 && !utf8))
            o += (size_t)snprintf(out + o, cap - o, "\\%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* A piece of 1-5 code points cut from VAL at or after byte START, in *P (*PN bytes); returns
 * where it ends. Latin letters are sometimes upper-cased (caseIgnore must still match); one
 * piece in ten starts or ends inside a code point (not UTF-8: no grams may come of it). */
static size_t cut(const char *val, size_t start, char *p, size_t *pn)
{
    size_t n = strlen(val), i = start;
    bool whole = rnd(10) != 0;
    while (whole && i < n && ((unsigned char)val[i] & 0xC0) == 0x80)
        i++;
    size_t skip = rnd(4), want = 1 + rnd(5), j = i;
    for (size_t k = 0; k < skip && j < n; k++) { /* a few code points further on */
        j++;
        while (j < n && ((unsigned char)val[j] & 0xC0) == 0x80)
            j++;
    }
    i = j;
    for (size_t k = 0; k < want && j < n; k++) {
        j++;
        while (j < n && ((unsigned char)val[j] & 0xC0) == 0x80)
            j++;
    }
    if (!whole && j < n && rnd(2))
        j++;
    memcpy(p, val + i, j - i);
    *pn = j - i;
    for (size_t k = 0; k < *pn; k++)
        if (p[k] >= 'a' && p[k] <= 'z' && rnd(3) == 0)
            p[k] = (char)(p[k] - 32);
    p[*pn] = '\0';
    return j;
}

static const char *const sub_attrs[] = {"cn", "sn", "givenName", "displayName", "mail",
                                        "o",  "ou", "l",         "uid",         "title"};

/* A value of attribute ATTR from a random entry that has one (shown form), or NULL. */
static const char *some_value(const struct dir_entry_view *v, const char *attr)
{
    int id = dir_entry_attr_find(attr);
    for (int tries = 0; tries < 50; tries++) {
        const struct dir_entry *e = dir_entry_at(v, (int)rnd((unsigned)dir_entry_count(v)));
        for (int k = 0; k < e->nattrs; k++)
            if (e->attrs[k].id == id && e->attrs[k].nvals)
                return e->attrs[k].vals[rnd((unsigned)e->attrs[k].nvals)].val;
    }
    return NULL;
}

/* (attr=<pieces>) with the pieces cut from one value, in one of the initial/any/final shapes. */
static void substring_filter(const struct dir_entry_view *v, char *out, size_t cap,
                             const char *attr)
{
    const char *val = some_value(v, attr);
    if (!val)
        val = "xyz";
    char p[3][64];
    size_t pn[3], at = 0;
    int np = 1 + (int)rnd(3);
    for (int i = 0; i < np; i++)
        at = cut(val, i == 0 ? rnd((unsigned)strlen(val) + 1) : at, p[i], &pn[i]);
    /* shape bits: initial present, final present; "any" pieces in between */
    int shape = (int)rnd(4);
    snprintf(out, cap, "(%s=", attr);
    for (int i = 0; i < np; i++) {
        bool first = i == 0, last = i == np - 1;
        if (!(first && (shape & 1)))
            strncat(out, "*", cap - strlen(out) - 1);
        escape(out, cap, p[i], pn[i]);
        if (last && !(shape & 2))
            strncat(out, "*", cap - strlen(out) - 1);
    }
    if (np == 1 && (shape & 1) && (shape & 2)) /* "x" alone would be equality: make it x* */
        strncat(out, "*", cap - strlen(out) - 1);
    strncat(out, ")", cap - strlen(out) - 1);
}

static void substring_index_equals_scan(void **state)
{
    (void)state;
    struct dir_model *m = build();
    const struct dir_entry_view *v = dir_entry_view(m);
    char f[512], g[512], h[1200];
    nchecked = nnonempty = 0;
    for (int i = 0; i < 600; i++) {
        substring_filter(v, f, sizeof f, sub_attrs[rnd(NSYL(sub_attrs))]);
        check_all_ways(v, f);
    }
    /* Hand-picked: pieces of 1-5 Thai code points (tone marks and vowels included), Latin in
     * any case, white space that normalisation folds, nothing, and bytes that are not UTF-8. */
    static const char *const fixed[] = {
        "(cn=*งเห*)",
        "(cn=*เห*)",
        "(cn=*ง*)",
        "(cn=*วงศ์*)",
        "(cn=*ใจดี*)",
        "(cn=*แก้ว*)",
        "(cn=*้ว*)",
        "(cn=*NROT*)",
        "(cn=*nrot*)",
        "(cn=*som*chai*)",
        "(cn=som*)",
        "(cn=*dee)",
        "(cn=Som*dee)",
        "(cn=*om  ch*)",
        "(cn=* ใจ*)",
        "(cn=*ชาย *)",
        "(cn=*a b*)",
        "(sn=*ทอง*คำ*)",
        "(givenName=*กิตติ*)",
        "(displayName=*สุข*)",
        "(mail=*@example.org)",
        "(mail=*LATIN.1*)",
        "(mail=latin.1*)",
        "(o=*Centre 1*)",
        "(o=*ศูนย์*)",
        "(ou=*Centre*)",
        "(l=*บางรัก*)",
        "(l=*Rak)",
        "(l=Bang*)",
        "(cn=*qqqq*)",
        "(cn=*\\e0\\b8*)",
        "(cn=*\\b8\\a1*)",
        "(cn=\\e0*)",
        "(cn=*\\e0\\b8\\a1\\e0*)",
        "(cn=*\\b8\\87\\e0\\b9\\80\\e0\\b8\\ab*)",
        "(cn=*\\e0\\b8\\87\\e0\\b9\\80\\e0\\b8*)",
        "(displayName=สมชาย ใจดี)",
        "(cn=*ก*)",
        "(uid=person-00*)",
        "(uid=*son-01*)",
        "(cn=*x*)",
        "(cn=x*)",
        "(cn=*xx*x*)",
        "(cn=*abcd*)",
        "(cn=*กขคง*)",
        "(cn=*abc*)",
        "(cn=*ขคง*)",
        "(cn=*bc b*)",
        "(cn=*abc*bcd*)",
        "(cn=*bcd*abc*)",
        "(cn=*aaaa*)",
        "(cn=*กกกก*)",
        "(cn=*aaa*)",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_all_ways(v, fixed[i]);
    /* displayName has no equality index: equality goes through the substring index. */
    for (int i = 0; i < 100; i++) {
        const char *val = some_value(v, "displayName");
        snprintf(f, sizeof f, "(displayName=");
        escape(f, sizeof f, val, strlen(val));
        strncat(f, ")", sizeof f - strlen(f) - 1);
        check_all_ways(v, f);
    }
    /* Substrings combined: AND, OR, NOT. */
    for (int i = 0; i < 200; i++) {
        substring_filter(v, f, sizeof f, sub_attrs[rnd(NSYL(sub_attrs))]);
        substring_filter(v, g, sizeof g, sub_attrs[rnd(NSYL(sub_attrs))]);
        switch (rnd(5)) {
        case 0:
            snprintf(h, sizeof h, "(&%s%s)", f, g);
            break;
        case 1:
            snprintf(h, sizeof h, "(|%s%s)", f, g);
            break;
        case 2:
            snprintf(h, sizeof h, "(&%s(!%s))", f, g);
            break;
        case 3:
            snprintf(h, sizeof h, "(&(objectClass=inetOrgPerson)%s%s)", f, g);
            break;
        default:
            snprintf(h, sizeof h, "(|(&%s(employeeType=socialWorker))%s)", f, g);
        }
        check_all_ways(v, h);
    }
    assert_true(nchecked > 5000);
    assert_true(nnonempty > nchecked / 3); /* the pieces are cut from real values */
    dir_model_release(m);
}

static void and_with_size_limit_equals_scan(void **state)
{
    (void)state;
    struct dir_model *m = build();
    const struct dir_entry_view *v = dir_entry_view(m);
    static const char *const types[] = {"socialWorker", "psychologist", "nurse", "teacher",
                                        "nobody"};
    char f[600];
    nchecked = nnonempty = 0;
    for (size_t d = 0; d < sizeof districts / sizeof districts[0]; d++)
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
            snprintf(f, sizeof f, "(&(departmentNumber=%s)(employeeType=%s))", districts[d][0],
                     types[t]);
            for (int limit = 0; limit <= 25; limit += 5)
                check(v, f, "ou=people," SUFFIX, DIR_SCOPE_SUB, DIR_ROLE_CASEWORKER, limit, -1);
            check_all_ways(v, f);
            snprintf(f, sizeof f,
                     "(&(employeeType=%s)(departmentNumber=%s)(objectClass=dirPerson)"
                     "(|(dirTeamRole=district_welfare)(dirTeamRole=case_manager)))",
                     types[t], districts[d][0]);
            check_all_ways(v, f);
            snprintf(f, sizeof f, "(|(departmentNumber=%s)(&(employeeType=%s)(uid=person-01*)))",
                     districts[d][0], types[t]);
            check_all_ways(v, f);
            snprintf(f, sizeof f, "(&(departmentNumber=%s)(!(employeeType=%s))(cn=*a*))",
                     districts[d][0], types[t]);
            check_all_ways(v, f);
        }
    static const char *const fixed[] = {
        "(&)",
        "(|)",
        "(&(|)(cn=*som*))",
        "(&(&)(uid=person-0001))",
        "(|(uid=person-0001)(uid=person-0002))",
        "(&(uid=person-0001)(uid=person-0002))",
        "(&(uid=nobody)(cn=*ใจ*))",
        "(&(employeeType=socialWorker)(|(departmentNumber=1002)(departmentNumber=1004)))",
        "(&(mail=*@example.org)(employeeType=nurse))",
        "(dirAreaCode=1004)",
        "(&(objectClass=organization)(l=*Rak*))",
        "(employeeType=SOCIALWORKER)",
        /* org 3's e-mail is private, org 6's public: anonymous callers find only org 6 */
        "(mail=org3@bench.invalid)",
        "(mail=ORG3@*)",
        "(mail=org6@bench.invalid)",
        "(|(mail=org3@bench.invalid)(mail=org6@bench.invalid))",
        "(&(mail=org3@bench.invalid)(objectClass=organization))",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_all_ways(v, fixed[i]);
    /* Wide ORs (more branches than are merged step by step), with and without a branch the
     * indexes cannot answer, and inside an AND. */
    for (int w = 2; w <= 14; w += 3) {
        char big[2048] = "(|";
        for (int i = 0; i < w; i++) {
            char item[96];
            switch (rnd(4)) {
            case 0:
                snprintf(item, sizeof item, "(uid=person-%04u)", 1 + rnd(NPEOPLE));
                break;
            case 1:
                snprintf(item, sizeof item, "(departmentNumber=%s)", districts[rnd(5)][0]);
                break;
            case 2:
                substring_filter(v, item, sizeof item, "cn");
                break;
            default:
                snprintf(item, sizeof item, "(uid=person-0%u*)", rnd(10));
            }
            strncat(big, item, sizeof big - strlen(big) - 1);
        }
        strncat(big, ")", sizeof big - strlen(big) - 1);
        check_all_ways(v, big);
        snprintf(f, sizeof f, "(&(employeeType=nurse)%.560s)", big);
        check_all_ways(v, f);
        big[strlen(big) - 1] = '\0';
        strncat(big, "(title=*a*))", sizeof big - strlen(big) - 1);
        check_all_ways(v, big);
    }
    assert_true(nnonempty > nchecked / 3);
    dir_model_release(m);
}

/* libldap's LDAPv3 form, lower-cased: what dir_entry_dn_normalize must give for every DN. */
static char *ldap_form(const char *dn)
{
    LDAPDN parsed = NULL;
    if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS)
        return NULL;
    char *s = NULL;
    int rc = ldap_dn2str(parsed, &s, LDAP_DN_FORMAT_LDAPV3);
    ldap_dnfree(parsed);
    if (rc != LDAP_SUCCESS || !s)
        return NULL;
    char *out = dir_xstrdup(s);
    ldap_memfree(s);
    for (char *c = out; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + 32);
    return out;
}

static void dn_normalize_agrees_with_libldap(void **state)
{
    (void)state;
    static const char *const dns[] = {
        SUFFIX,
        "ou=people," SUFFIX,
        "OU=People,OU=ChildNet,DC=Bangkok,DC=go,DC=th",
        "uid=bench-person-000099,ou=people," SUFFIX,
        "uid=a.b_c-d,ou=people," SUFFIX,
        "o=org-12,ou=organizations," SUFFIX,
        "l=1007,ou=areas," SUFFIX,
        "cn=Subschema",
        "x-type=v",
        "ou=people, ou=childnet",
        "ou = people,ou=childnet",
        "ou=people;ou=childnet",
        "ou=,ou=x",
        "ou=a+cn=b,ou=x",
        "ou=a\\2cb,ou=x",
        "ou=#04024869",
        "2.5.4.11=people",
        "ou=people,",
        ",ou=people",
        "ou=people,,ou=x",
        "ou=peo ple",
        "ou=สวัสดิการ,ou=x",
        "ou=-a-,ou=.b.",
        "ou=a=b",
        "=x",
        "ou",
        "uid=x@y,ou=people",
        "ou=people ",
    };
    for (size_t i = 0; i < sizeof dns / sizeof dns[0]; i++) {
        char *got = dir_entry_dn_normalize(dns[i]), *want = ldap_form(dns[i]);
        if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
            fail_msg("%s: normalised to %s, libldap gives %s", dns[i], got ? got : "(invalid)",
                     want ? want : "(invalid)");
        free(got);
        free(want);
    }
}

/* Every published NAME, alias and OID finds its attribute, in any case; nothing else does. */
static void attribute_names_resolve(void **state)
{
    (void)state;
    struct dir_model *m = build();
    dir_entry_view(m); /* publishes the schema */
    const char *const *types = dir_entry_schema_attribute_types();
    int n = 0;
    for (; types[n]; n++) {
        const char *t = types[n];
        char oid[64], names[128];
        assert_int_equal(sscanf(t, "( %63s NAME ", oid), 1);
        assert_int_equal(dir_entry_attr_find(oid), n);
        const char *nb = strstr(t, " NAME ") + 6;
        size_t nl =
            *nb == '(' ? (size_t)(strchr(nb, ')') - nb) : (size_t)(strchr(nb + 1, '\'') - nb + 1);
        snprintf(names, sizeof names, "%.*s", (int)nl, nb);
        const char *q = names;
        while ((q = strchr(q, '\'')) != NULL) {
            const char *end = strchr(q + 1, '\'');
            char nm[64], up[64];
            snprintf(nm, sizeof nm, "%.*s", (int)(end - q - 1), q + 1);
            for (size_t k = 0; k <= strlen(nm); k++)
                up[k] = (char)(nm[k] >= 'a' && nm[k] <= 'z' ? nm[k] - 32 : nm[k]);
            assert_int_equal(dir_entry_attr_find(nm), n);
            assert_int_equal(dir_entry_attr_find(up), n);
            q = end + 1;
        }
    }
    assert_int_equal(n, dir_entry_attr_count());
    assert_string_equal(dir_entry_attr_name(dir_entry_attr_find("COMMONNAME")), "cn");
    assert_string_equal(dir_entry_attr_name(dir_entry_attr_find("gn")), "givenName");
    assert_int_equal(dir_entry_attr_find("cn;lang-th"), -1);
    assert_int_equal(dir_entry_attr_find("nosuchattribute"), -1);
    assert_int_equal(dir_entry_attr_find(""), -1);
    assert_int_equal(dir_entry_attr_find("2.5.4.3.1"), -1);
    dir_model_release(m);
}

/* The view stores each distinct value, and each distinct value list, once: entries whose
 * values differ only in case share a key of the equality index but keep their own forms, the
 * key's entries stay ascending although they come from different stored values, and a public
 * copy of a value still wins over a private one. */
static const struct dir_fattr *attr_of(const struct dir_entry *e, const char *name)
{
    int id = dir_entry_attr_find(name);
    for (int k = 0; k < e->nattrs; k++)
        if (e->attrs[k].id == id)
            return &e->attrs[k];
    return NULL;
}

static void shared_values_keep_their_forms(void **state)
{
    (void)state;
    static const char *const forms[] = {"Shared@Example.org", "shared@example.org",
                                        "SHARED@EXAMPLE.ORG"};
    static const char *const titles[] = {"Social Worker", "social  worker", "Nurse"};
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    struct dir_org_row o = {.id = 1, .ref = "org-1", .name_th = "ศูนย์", .name_en = "Centre",
                            .type = "ngo", .sector = "ngo", .area_code = "TH", .version = 1};
    dir_model_add_org(b, &o);
    char uids[12][16], copies[12][32];
    for (int i = 0; i < 12; i++) {
        snprintf(uids[i], sizeof uids[i], "p%02d", i);
        snprintf(copies[i], sizeof copies[i], "%s", forms[i % 3]); /* one string per person */
        struct dir_person_row p = {.id = i + 1, .username = uids[i], .name_th = "สม ใจ",
                                   .name_en = "Som Jai", .title_en = titles[i % 3],
                                   .profession = "social_worker", .source = "manual",
                                   .active = true, .version = 1};
        dir_model_add_person(b, &p);
        struct dir_contact_row c = {.person_id = i + 1, .kind = "email", .value = copies[i],
                                    .is_public = i % 2 == 0};
        dir_model_add_contact(b, &c);
        if (i % 4 == 1) { /* the same address again, public: the public copy wins */
            struct dir_contact_row c2 = {.person_id = i + 1, .kind = "email",
                                         .value = forms[i % 3], .is_public = true};
            dir_model_add_contact(b, &c2);
        }
        dir_model_add_membership(b, i + 1, i + 1, 1, "case_manager", NULL, NULL);
    }
    struct dir_model *m = NULL;
    char err[128];
    assert_int_equal(dir_model_finish(b, 1, &m, err, sizeof err), DIR_OK);
    const struct dir_entry_view *v = dir_entry_view(m);
    const struct dir_fattr *oc0 = NULL;
    int seen = 0;
    for (int e = 0; e < dir_entry_count(v); e++) {
        const struct dir_entry *en = dir_entry_at(v, e);
        const struct dir_fattr *uid = attr_of(en, "uid");
        if (!uid)
            continue;
        int i = atoi(uid->vals[0].val + 1);
        const struct dir_fattr *mail = attr_of(en, "mail"), *oc = attr_of(en, "objectClass");
        assert_non_null(mail);
        assert_int_equal(mail->nvals, 1);
        assert_string_equal(mail->vals[0].val, forms[i % 3]);
        assert_string_equal(mail->vals[0].norm, "shared@example.org");
        assert_int_equal(mail->vals[0].len, strlen(forms[i % 3]));
        assert_int_equal(mail->vals[0].nlen, strlen("shared@example.org"));
        assert_int_equal(mail->vals[0].priv, i % 2 != 0 && i % 4 != 1);
        const struct dir_fattr *title = attr_of(en, "title");
        assert_non_null(title);
        assert_string_equal(title->vals[0].val, titles[i % 3]);
        assert_string_equal(title->vals[0].norm, i % 3 == 2 ? "nurse" : "social worker");
        if (!oc0)
            oc0 = oc;
        assert_ptr_equal(oc->vals, oc0->vals); /* one stored list for every person */
        seen++;
    }
    assert_int_equal(seen, 12);
    static const char *const filters[] = {
        "(mail=shared@example.org)", "(mail=SHARED@example.ORG)", "(mail=shared*)",
        "(mail=*EXAMPLE*)",          "(title=social worker)",    "(title=SOCIAL*)",
        "(title=nurse)",             "(mail=shared@example.or)", "(mail=s*)",
        "(&(title=nurse)(mail=shared@example.org))",             "(title>=r)",
    };
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        check_all_ways(v, filters[i]);
    struct dir_filter *f = NULL;
    struct dir_filter_error ferr;
    assert_int_equal(dir_filter_parse("(mail=Shared@example.org)", 25, &f, &ferr), DIR_OK);
    struct dir_entry_search s = {.base = SUFFIX, .scope = DIR_SCOPE_SUB, .filter = f,
                                 .role = DIR_ROLE_CASEWORKER, .sort_attr = -1, .after = -1};
    struct dir_entry_result r;
    const char *matched;
    assert_int_equal(dir_entry_search(v, &s, &r, &matched), DIR_OK);
    assert_int_equal(r.n, 12);
    for (int i = 1; i < r.n; i++)
        assert_true(r.idx[i - 1] < r.idx[i]);
    free(r.idx);
    dir_filter_free(f);
    dir_model_release(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(substring_index_equals_scan),
        cmocka_unit_test(and_with_size_limit_equals_scan),
        cmocka_unit_test(dn_normalize_agrees_with_libldap),
        cmocka_unit_test(attribute_names_resolve),
        cmocka_unit_test(shared_values_keep_their_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
