/* test_names.c - the name index of q= search (dir_names.c, over dir_gram.c) answers exactly as
 * the scan does: thousands of random Thai and Latin fragments over a generated directory,
 * on a full load and on versions derived from it by dir_model_apply (renamed and new people
 * and organisations), each compared byte for byte with the same query answered by the scan
 * (the same model with its index detached). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_buf.h"
#include "dir_gram.h"
#include "dir_mem.h"
#include "dir_model.h"
#include "dir_names.h"
#include "dir_query.h"
#include "dir_text.h"

#define NPEOPLE 4000
#define NORGS 400
#define NQUERIES 2500

static unsigned long long rng = 20261203;

static unsigned rnd(unsigned n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(rng >> 33) % n;
}

static void put_cp(char **o, unsigned cp)
{
    unsigned char *u = (unsigned char *)*o;
    if (cp < 0x80) {
        *u++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *u++ = (unsigned char)(0xC0 | cp >> 6);
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *u++ = (unsigned char)(0xE0 | cp >> 12);
        *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *o = (char *)u;
}

/* A Thai word of 1-3 syllables from a small alphabet (so fragments often recur). */
static void thai_word(char **o)
{
    static const unsigned cons[] = {0x0E01, 0x0E04, 0x0E07, 0x0E08, 0x0E0A, 0x0E14, 0x0E15,
                                    0x0E17, 0x0E19, 0x0E1A, 0x0E1B, 0x0E1E, 0x0E21, 0x0E22,
                                    0x0E23, 0x0E25, 0x0E27, 0x0E28, 0x0E2A, 0x0E2B, 0x0E2D};
    static const unsigned vow[] = {0x0E30, 0x0E31, 0x0E32, 0x0E34, 0x0E35, 0x0E38, 0x0E40};
    static const unsigned tone[] = {0x0E48, 0x0E49, 0x0E4C};
    int n = 1 + (int)rnd(3);
    for (int i = 0; i < n; i++) {
        put_cp(o, cons[rnd(sizeof cons / sizeof *cons)]);
        if (rnd(3)) put_cp(o, vow[rnd(sizeof vow / sizeof *vow)]);
        if (!rnd(4)) put_cp(o, tone[rnd(sizeof tone / sizeof *tone)]);
        if (rnd(2)) put_cp(o, cons[rnd(sizeof cons / sizeof *cons)]);
    }
}

static void latin_word(char **o)
{
    static const char *syl[] = {"som", "chai", "ja",    "i",  "dee", "pra", "sert", "wan", "na",
                                "kul", "Suk",  "Thong", "ki", "at",  "Ph",  "ra",   "o",   "Niw"};
    int n = 1 + (int)rnd(3);
    for (int i = 0; i < n; i++) {
        const char *s = syl[rnd(sizeof syl / sizeof *syl)];
        size_t k = strlen(s);
        memcpy(*o, s, k);
        if (i == 0 && **o >= 'a' && **o <= 'z' && rnd(2)) **o = (char)(**o - 'a' + 'A');
        *o += k;
    }
}

/* A name of 1-3 words ("  " sometimes, which folding makes one space). */
static char *name(char *buf, bool thai)
{
    char *o = buf;
    int n = 1 + (int)rnd(3);
    for (int i = 0; i < n; i++) {
        if (i) {
            *o++ = ' ';
            if (!rnd(8)) *o++ = ' ';
        }
        if (thai)
            thai_word(&o);
        else
            latin_word(&o);
    }
    *o = '\0';
    return buf;
}

static void add_person(struct dir_model_builder *b, long long id)
{
    char th[256], en[256];
    struct dir_person_row p = {.id = id,
                               .name_th = name(th, true),
                               .name_en = rnd(5) ? name(en, false) : NULL,
                               .source = "manual",
                               .active = rnd(10) != 0,
                               .version = 1};
    dir_model_add_person(b, &p);
    dir_model_add_membership(b, id * 10, id, 1 + (long long)rnd(NORGS), "agency_partner", NULL,
                             NULL);
}

static void add_org(struct dir_model_builder *b, long long id)
{
    char th[256], en[256], ref[64];
    snprintf(ref, sizeof ref, "ORG-%s-%lld", rnd(2) ? "bkk" : "Nw", id);
    struct dir_org_row o = {.id = id,
                            .ref = ref,
                            .name_th = name(th, true),
                            .name_en = rnd(6) ? name(en, false) : NULL,
                            .type = "ngo",
                            .sector = "ngo",
                            .area_code = "1007",
                            .version = 1};
    dir_model_add_org(b, &o);
}

static struct dir_model_builder *areas(void)
{
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true,
                       1);
    dir_model_add_area(b, "1007", "district", "10", "ปทุมวัน", "Pathum Wan", NULL, 13.74, 100.52,
                       true, 1);
    return b;
}

static struct dir_model *full_load(void)
{
    struct dir_model_builder *b = areas();
    for (long long i = 1; i <= NORGS; i++)
        add_org(b, i);
    for (long long i = 1; i <= NPEOPLE; i++)
        add_person(b, i);
    struct dir_model *m = NULL;
    char err[128];
    assert_int_equal(dir_model_finish(b, 1, &m, err, sizeof err), DIR_OK);
    assert_non_null(m->names);
    return m;
}

/* A folded fragment: a random run of units of one of a random entity's names, or random
 * letters (mostly matching nothing). Caller frees. */
static char *fragment(const struct dir_model *m)
{
    char buf[256];
    if (rnd(5) == 0) {
        char *o = buf;
        int n = 2 + (int)rnd(4);
        for (int i = 0; i < n; i++)
            put_cp(&o, rnd(2) ? 0x0E01 + rnd(0x2E) : 'a' + rnd(26));
        *o = '\0';
        return dir_text_fold_dup(buf);
    }
    const char *s = NULL;
    while (!s) {
        if (rnd(2)) {
            const struct dir_person *p = dir_model_person_at(m, (int)rnd((unsigned)m->npeople));
            s = rnd(2) ? p->fold_th : p->fold_en;
        } else {
            const struct dir_org *o = dir_model_org_at(m, (int)rnd((unsigned)m->norgs));
            unsigned k = rnd(3);
            s = k == 0 ? o->fold_th : k == 1 ? o->fold_en : o->fold_ref;
        }
    }
    size_t n = strlen(s), units = dir_gram_units(s, n);
    size_t from = rnd((unsigned)units), len = 1 + rnd(7), i = 0, u = 0, a = 0, z = n;
    while (i < n) {
        if (u == from) a = i;
        if (u == from + len) {
            z = i;
            break;
        }
        i += dir_gram_unit_len((const unsigned char *)s + i, n - i);
        u++;
    }
    memcpy(buf, s + a, z - a);
    buf[z - a] = '\0';
    if (rnd(4) == 0) /* as typed: the API folds it */
        for (char *c = buf; *c; c++)
            if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    return dir_text_fold_dup(buf);
}

static long long random_after(const struct dir_model *m, bool people)
{
    if (rnd(2)) return 0;
    int n = people ? m->npeople : m->norgs;
    return people ? dir_model_person_at(m, (int)rnd((unsigned)n))->id
                  : dir_model_org_at(m, (int)rnd((unsigned)n))->id;
}

/* Asks Q with and without the index; both answers must be the same bytes. */
static int compare(struct dir_model *m, const char *q, bool people, long long after, int limit)
{
    struct dir_buf a, b;
    dir_buf_init(&a, 64u << 20);
    dir_buf_init(&b, 64u << 20);
    time_t now = 1764720000;
    enum dir_rc ra, rb;
    if (people) {
        struct dir_person_filter f = {.q = q, .area = -1, .org = -1};
        ra = dir_query_people(m, &f, after, limit, &a);
        struct dir_names *x = m->names;
        m->names = NULL; /* the scan */
        rb = dir_query_people(m, &f, after, limit, &b);
        m->names = x;
    } else {
        struct dir_org_filter f = {.q = q, .area = -1, .service = -1, .group = -1};
        ra = dir_query_orgs(m, &f, after, limit, true, now, &a);
        struct dir_names *x = m->names;
        m->names = NULL;
        rb = dir_query_orgs(m, &f, after, limit, true, now, &b);
        m->names = x;
    }
    assert_int_equal(ra, DIR_OK);
    assert_int_equal(rb, DIR_OK);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        fail_msg("q=%s (%s, after %lld, limit %d): index %.*s\nscan %.*s", q,
                 people ? "people" : "orgs", after, limit, (int)a.len, a.data, (int)b.len, b.data);
    int items = strstr(b.data, "{\"items\":[]") ? 0 : 1;
    dir_buf_free(&a);
    dir_buf_free(&b);
    return items;
}

/* NQUERIES random fragments on M, people and organisations, whole lists and pages. */
static void compare_many(struct dir_model *m)
{
    int indexed = 0, nonempty = 0;
    for (int i = 0; i < NQUERIES; i++) {
        char *q = fragment(m);
        struct dir_names_cur c;
        bool people = i % 2 == 0;
        indexed += dir_names_open(&c, m, people ? DIR_NAMES_PEOPLE : DIR_NAMES_ORGS, q);
        int limit = rnd(3) ? 1 + (int)rnd(20) : 100000;
        nonempty += compare(m, q, people, random_after(m, people), limit);
        free(q);
    }
    /* The index was used, and on queries that find something. */
    assert_true(indexed > NQUERIES / 2);
    assert_true(nonempty > NQUERIES / 4);
}

static void full_load_answers_as_the_scan(void **state)
{
    (void)state;
    struct dir_model *m = full_load();
    compare_many(m);
    /* Fixed cases: Thai, Latin, a space, short (the scan), no match, malformed UTF-8. */
    const char *fixed[] = {"ก",        "กา",   "som",      "chai ",        "a", "bkk-",
                           "org-nw-1", "zzzz", "\xE0\xB8", "\xff\xfe\x41", " "};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        compare(m, fixed[i], true, 0, 100000);
        compare(m, fixed[i], false, 0, 100000);
        compare(m, fixed[i], true, 0, 3);
    }
    dir_model_release(m);
}

/* A version renaming some people and organisations and adding new ones. */
static struct dir_model *apply_renames(struct dir_model *old, long long *next_person,
                                       long long *next_org)
{
    struct dir_model_builder *b = areas();
    long long pids[80], oids[20];
    int np = 0, no = 0;
    for (int i = 0; i < 60; i++) {
        long long id = dir_model_person_at(old, (int)rnd((unsigned)old->npeople))->id;
        bool dup = false;
        for (int k = 0; k < np; k++)
            dup |= pids[k] == id;
        if (!dup) pids[np++] = id;
    }
    for (int i = 0; i < 20; i++)
        pids[np++] = (*next_person)++;
    for (int i = 0; i < 12; i++) {
        long long id = dir_model_org_at(old, (int)rnd((unsigned)old->norgs))->id;
        bool dup = false;
        for (int k = 0; k < no; k++)
            dup |= oids[k] == id;
        if (!dup) oids[no++] = id;
    }
    for (int i = 0; i < 6; i++)
        oids[no++] = (*next_org)++;
    for (int i = 0; i < no; i++)
        add_org(b, oids[i]);
    for (int i = 0; i < np; i++)
        add_person(b, pids[i]);
    struct dir_model_delta d = {.org_ids = oids,
                                .norg_ids = no,
                                .person_ids = pids,
                                .nperson_ids = np,
                                .changes_kept = 100};
    struct dir_model *n = NULL;
    char err[128];
    assert_int_equal(dir_model_apply(old, b, &d, old->seq + 1, &n, err, sizeof err), DIR_OK);
    assert_ptr_equal(n->names, old->names); /* shared, not rebuilt */
    return n;
}

static void applied_versions_answer_as_the_scan(void **state)
{
    (void)state;
    struct dir_model *m = full_load();
    long long next_person = NPEOPLE + 1, next_org = NORGS + 1;
    for (int v = 0; v < 3; v++) {
        struct dir_model *n = apply_renames(m, &next_person, &next_org);
        dir_model_release(m); /* the index lives on in N */
        m = n;
        assert_true(m->ndirty_people > 0 && m->ndirty_orgs > 0);
        compare_many(m);
    }
    /* The new people are found through the dirty list: search for one's whole name. */
    const struct dir_person *p = dir_model_person_at(m, m->npeople - 1);
    assert_true(p->id == next_person - 1);
    if (p->active) assert_int_equal(compare(m, p->fold_th, true, 0, 100000), 1);
    dir_model_release(m);
}

static void gram_lists_are_ascending_and_seek(void **state)
{
    (void)state;
    struct dir_gram g;
    struct dir_gram_build *x = dir_gram_build_begin(&g);
    for (int id = 0; id < 5000; id++) {
        if (id % 3 == 0) dir_gram_add(x, 1, 3, "abcd", 4, id);                /* abc, bcd */
        if (id % 7 == 0) dir_gram_add_shared(x, 1, 3, "xbcd", "xbcd", 4, id); /* xbc, bcd */
    }
    dir_gram_build_finish(x);
    struct dir_gram_refs r = {0};
    dir_gram_keys(1, 3, "bcd", 3, &r);
    assert_int_equal(r.n, 1);
    const struct dir_gram_list *l = dir_gram_find(&g, &r.k[0]);
    assert_non_null(l);
    int want = 0;
    for (int id = 0; id < 5000; id++)
        want += id % 3 == 0 || id % 7 == 0;
    assert_int_equal((int)l->n, want);
    struct dir_gram_cur c;
    dir_gram_cur_open(&c, &g, l);
    for (int t = 0; t < 5000; t += 1 + (int)rnd(200)) {
        int e = t;
        while (e % 3 && e % 7)
            e++;
        assert_int_equal(dir_gram_cur_seek(&c, t), e);
    }
    r.n = 0;
    dir_gram_keys(2, 3, "bcd", 3, &r); /* another space */
    assert_null(dir_gram_find(&g, &r.k[0]));
    dir_gram_refs_free(&r);
    dir_gram_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gram_lists_are_ascending_and_seek),
        cmocka_unit_test(full_load_answers_as_the_scan),
        cmocka_unit_test(applied_versions_answer_as_the_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
