/* test_entry_patch.c - an LDAP view derived from an earlier version's (dir_entry_view_from)
 * equals the view built whole from the same data: every entry (slot, DN, attributes, values),
 * and every search answer, after random sequences of applied changes (renames, new e-mail
 * addresses, memberships moved between organisations, deactivations and reactivations,
 * closed and reopened organisations, organisation refs changed, people added).
 *
 * Each entity's rows are a function of its id and its generation: a change bumps the
 * generation, dir_model_apply gets the changed entities' rows, and a second model is loaded
 * whole from every entity's current generation, as the daemon's full load would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dir_entry.h"
#include "dir_filter.h"
#include "dir_mem.h"
#include "dir_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUFFIX DIR_ENTRY_DEFAULT_SUFFIX
#define NORGS 30 /* at the start; added_organisations_derive adds more */
#define NORGS_MAX 300
#define NPEOPLE0 400
#define NPEOPLE_MAX 480

static int org_gen[NORGS_MAX + 1], person_gen[NPEOPLE_MAX + 1], npeople, norgs = NORGS;
/* The organisations there were when person I was last changed: its memberships pick among
 * them, so a person not changed since keeps the same rows. */
static int person_norgs[NPEOPLE_MAX + 1];

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* A number below N that depends only on (id, generation, what). */
static unsigned pick(int id, int gen, int what, unsigned n)
{
    return (unsigned)(mix(((uint64_t)id << 32) ^ ((uint64_t)gen << 8) ^ (uint64_t)what) % n);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
    rng = mix(rng + 0x9e3779b97f4a7c15ULL);
    return (unsigned)(rng % n);
}

static const char *const th_syl[] = {"สม", "ชาย", "ใจ", "ดี", "ศรี", "สุข", "บุญ", "แก้ว", "นภา", "ทอง"};
static const char *const en_syl[] = {"som", "chai", "jai", "dee", "sri", "suk", "boon", "kaew"};
static const char *const districts[] = {"1002", "1004", "1007"};
static const char *const roles[] = {"district_welfare", "agency_partner", "case_manager"};

static void add_areas(struct dir_model_builder *b)
{
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true,
                       1);
    dir_model_add_area(b, "1002", "district", "10", "ดุสิต", "Dusit", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "1004", "district", "10", "บางรัก", "Bang Rak", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "1007", "district", "10", "ปทุมวัน", "Pathum Wan", NULL, NAN, NAN, true, 1);
}

static void add_org(struct dir_model_builder *b, int id)
{
    int g = org_gen[id];
    char th[128], en[128], ref[32];
    snprintf(th, sizeof th, "ศูนย์%s%s %d", th_syl[pick(id, g, 1, 10)], th_syl[pick(id, g, 2, 10)],
             id);
    snprintf(en, sizeof en, "%s Centre %d", en_syl[pick(id, g, 3, 8)], id);
    snprintf(ref, sizeof ref, "org-%d%s", id, pick(id, g, 4, 4) == 0 ? "-x" : "");
    struct dir_org_row o = {.id = id,
                            .ref = ref,
                            .name_th = th,
                            .name_en = en,
                            .type = "ngo",
                            .sector = "ngo",
                            .status = pick(id, g, 5, 8) == 0 ? "closed" : "active",
                            /* a parent among the lower ids, sometimes none; it moves */
                            .parent_id = id > 5 && pick(id, g, 11, 3) != 0
                                             ? 1 + (long long)pick(id, g, 12, (unsigned)id - 1)
                                             : 0,
                            .area_code = districts[pick(id, g, 6, 3)],
                            .version = 1 + g};
    dir_model_add_org(b, &o);
    if (pick(id, g, 7, 2)) {
        char mail[64];
        snprintf(mail, sizeof mail, "Org%d.%d@Example.org", id, g);
        struct dir_contact_row c = {
            .org_id = id, .kind = "email", .value = mail, .is_public = true};
        dir_model_add_contact(b, &c);
    }
}

static void add_person(struct dir_model_builder *b, int id)
{
    int g = person_gen[id];
    char th[128], en[128], uid[32], mail[64];
    snprintf(th, sizeof th, "%s %s%s", th_syl[pick(id, g, 1, 10)], th_syl[pick(id, g, 2, 10)],
             th_syl[pick(id, g, 3, 10)]);
    snprintf(en, sizeof en, "%s %s", en_syl[pick(id, g, 4, 8)], en_syl[pick(id, g, 5, 8)]);
    snprintf(uid, sizeof uid, "p%d%s", id, pick(id, g, 6, 5) == 0 ? "b" : "");
    struct dir_person_row p = {.id = id,
                               .username = uid,
                               .name_th = th,
                               .name_en = en,
                               .profession = "social_worker",
                               .source = "manual",
                               .active = pick(id, g, 7, 6) != 0,
                               .version = 1 + g};
    dir_model_add_person(b, &p);
    snprintf(mail, sizeof mail, "p%d.%d@Example.org", id, g);
    struct dir_contact_row c = {
        .person_id = id, .kind = "email", .value = mail, .is_public = pick(id, g, 8, 2) != 0};
    dir_model_add_contact(b, &c);
    int nm = 1 + (int)pick(id, g, 9, 2);
    for (int k = 0; k < nm; k++) {
        long long mid = (long long)id * 10 + k;
        const char *role = roles[pick(id, g, 10 + k, 3)];
        int on = person_norgs[id] ? person_norgs[id] : NORGS;
        dir_model_add_membership(b, mid, id, 1 + (long long)pick(id, g, 20 + k, (unsigned)on), role,
                                 NULL, NULL);
        if (strcmp(role, "district_welfare") == 0)
            dir_model_add_membership_area(b, mid, districts[pick(id, g, 30 + k, 3)], NULL);
    }
}

static struct dir_model *load_whole(long long seq)
{
    struct dir_model_builder *b = dir_model_builder_new(365);
    add_areas(b);
    for (int i = 1; i <= norgs; i++)
        add_org(b, i);
    for (int i = 1; i <= npeople; i++)
        add_person(b, i);
    struct dir_model *m = NULL;
    char err[128];
    assert_int_equal(dir_model_finish(b, seq, &m, err, sizeof err), DIR_OK);
    return m;
}

static bool same_entry(const struct dir_entry *a, const struct dir_entry *b)
{
    if (a->gone != b->gone || a->priv != b->priv || a->parent != b->parent || a->end != b->end)
        return false;
    if (a->gone) return true;
    if (strcmp(a->dn, b->dn) != 0 || strcmp(a->ndn, b->ndn) != 0 || a->nattrs != b->nattrs)
        return false;
    for (int k = 0; k < a->nattrs; k++) {
        const struct dir_fattr *x = &a->attrs[k], *y = &b->attrs[k];
        if (x->id != y->id || x->nvals != y->nvals) return false;
        for (int j = 0; j < x->nvals; j++)
            if (strcmp(x->vals[j].val, y->vals[j].val) != 0 ||
                strcmp(x->vals[j].norm, y->vals[j].norm) != 0 || x->vals[j].priv != y->vals[j].priv)
                return false;
    }
    return true;
}

static int nsearches;

static void same_answers(const struct dir_entry_view *got, const struct dir_entry_view *want,
                         const char *filter, const char *base, enum dir_scope scope,
                         enum dir_role role)
{
    struct dir_filter *f1 = NULL, *f2 = NULL;
    struct dir_filter_error ferr;
    assert_int_equal(dir_filter_parse(filter, strlen(filter), &f1, &ferr), DIR_OK);
    assert_int_equal(dir_filter_parse(filter, strlen(filter), &f2, &ferr), DIR_OK);
    struct dir_entry_search s = {
        .base = base, .scope = scope, .filter = f1, .role = role, .sort_attr = -1, .after = -1};
    struct dir_entry_result a, b;
    enum dir_rc ra = dir_entry_search(got, &s, &a, NULL);
    s.filter = f2;
    enum dir_rc rb = dir_entry_search(want, &s, &b, NULL);
    if (ra != rb || a.n != b.n || (a.n && memcmp(a.idx, b.idx, sizeof(int) * (size_t)a.n) != 0))
        fail_msg(
            "%s under %s (scope %d, role %d): derived view %d entries (rc %d), whole %d (rc %d)",
            filter, base, (int)scope, (int)role, a.n, (int)ra, b.n, (int)rb);
    nsearches++;
    free(a.idx);
    free(b.idx);
    dir_filter_free(f1);
    dir_filter_free(f2);
}

static void compare_views(const struct dir_entry_view *got, const struct dir_entry_view *want)
{
    assert_int_equal(dir_entry_count(got), dir_entry_count(want));
    for (int e = 0; e < dir_entry_count(want); e++)
        if (!same_entry(dir_entry_at(got, e), dir_entry_at(want, e)))
            fail_msg("entry %d differs: %s / %s", e, dir_entry_at(got, e)->dn,
                     dir_entry_at(want, e)->dn);
    char f[160], dn[160];
    static const char *const fixed[] = {"(objectClass=*)",
                                        "(objectClass=inetOrgPerson)",
                                        "(o=*Centre*)",
                                        "(ou=*)",
                                        "(dirTeamRole=district_welfare)",
                                        "(departmentNumber=1004)",
                                        "(!(cn=*a*))",
                                        "(&(objectClass=dirPerson)(l=ดุสิต))",
                                        "(|(mail=*.1@*)(mail=*.2@*))",
                                        "(dirStatus=closed)"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        same_answers(got, want, fixed[i], SUFFIX, DIR_SCOPE_SUB, DIR_ROLE_CASEWORKER);
        same_answers(got, want, fixed[i], SUFFIX, DIR_SCOPE_SUB, DIR_ROLE_ANON);
        same_answers(got, want, fixed[i], "ou=people," SUFFIX, DIR_SCOPE_ONE, DIR_ROLE_CASEWORKER);
    }
    for (int i = 0; i < 40; i++) {
        int id = 1 + (int)rnd((unsigned)npeople);
        int g = person_gen[id];
        switch (rnd(6)) {
        case 0:
            snprintf(f, sizeof f, "(cn=*%s*)", th_syl[rnd(10)]);
            break;
        case 1:
            snprintf(f, sizeof f, "(sn=%s*)", en_syl[rnd(8)]);
            break;
        case 2:
            snprintf(f, sizeof f, "(mail=p%d.%d@example.org)", id, g);
            break;
        case 3:
            snprintf(f, sizeof f, "(uid=p%d*)", id);
            break;
        case 4:
            snprintf(f, sizeof f, "(&(o=*%d*)(cn=*%s*))", 1 + (int)rnd(NORGS), en_syl[rnd(8)]);
            break;
        default:
            snprintf(f, sizeof f, "(dirMemberOf=o=org-%d,ou=organizations," SUFFIX ")",
                     1 + (int)rnd(NORGS));
        }
        same_answers(got, want, f, SUFFIX, DIR_SCOPE_SUB, DIR_ROLE_CASEWORKER);
        snprintf(dn, sizeof dn, "uid=p%d%s,ou=people," SUFFIX, id,
                 pick(id, g, 6, 5) == 0 ? "b" : "");
        same_answers(got, want, "(objectClass=*)", dn, DIR_SCOPE_BASE, DIR_ROLE_CASEWORKER);
        snprintf(dn, sizeof dn, "uid=p%d%s,ou=people," SUFFIX, id,
                 pick(id, g, 6, 5) == 0 ? "" : "b");
        same_answers(got, want, "(objectClass=*)", dn, DIR_SCOPE_BASE, DIR_ROLE_CASEWORKER);
    }
}

/* One applied version: a few organisations and people changed, sometimes people added. */
static struct dir_model *apply_step_orgs(struct dir_model *old, long long seq, int add_orgs)
{
    long long oids[8], pids[40];
    int no = 0, np = 0;
    int norg = (int)rnd(3);
    for (int i = 0; i < norg; i++) {
        int id = 1 + (int)rnd((unsigned)norgs);
        bool seen = false;
        for (int k = 0; k < no; k++)
            seen = seen || oids[k] == id;
        if (seen) continue;
        org_gen[id]++;
        oids[no++] = id;
    }
    int nper = (int)rnd(6);
    for (int i = 0; i < nper; i++) {
        int id = 1 + (int)rnd((unsigned)npeople);
        bool seen = false;
        for (int k = 0; k < np; k++)
            seen = seen || pids[k] == id;
        if (seen) continue;
        person_gen[id]++;
        pids[np++] = id;
    }
    for (int i = 0; i < add_orgs && norgs < NORGS_MAX; i++)
        oids[no++] = ++norgs;
    int add = rnd(3) == 0 && npeople + 3 <= NPEOPLE_MAX ? 1 + (int)rnd(3) : 0;
    for (int i = 0; i < add; i++)
        pids[np++] = ++npeople;
    for (int i = 0; i < np; i++) /* memberships may name the organisations added now */
        person_norgs[pids[i]] = norgs;
    struct dir_model_builder *b = dir_model_builder_new(365);
    for (int i = 0; i < no; i++)
        add_org(b, (int)oids[i]);
    for (int i = 0; i < np; i++)
        add_person(b, (int)pids[i]);
    struct dir_model_delta d = {.org_ids = oids,
                                .person_ids = pids,
                                .norg_ids = no,
                                .nperson_ids = np,
                                .changes_kept = 100};
    struct dir_model *n = NULL;
    char err[128];
    if (dir_model_apply(old, b, &d, seq, &n, err, sizeof err) != DIR_OK) fail_msg("apply: %s", err);
    return n;
}

static struct dir_model *apply_step(struct dir_model *old, long long seq)
{
    return apply_step_orgs(old, seq, 0);
}

/* A whole load at FIRST, then versions applied up to LAST (excluded), each adding up to
 * ADD_ORGS organisations (none when 0); every version's view, derived from the one before,
 * is compared with a view built whole of the same data. How many views were derived. */
static int derive_steps(long long first, long long last, int add_orgs)
{
    npeople = NPEOPLE0;
    struct dir_model *cur = load_whole(first);
    (void)dir_entry_view(cur);
    int derived = 0;
    for (long long seq = first + 1; seq < last; seq++) {
        struct dir_model *n =
            apply_step_orgs(cur, seq, add_orgs ? 1 + (int)rnd((unsigned)add_orgs) : 0);
        const struct dir_entry_view *v = dir_entry_view_from(n, cur);
        derived += dir_entry_view_patched(v);
        struct dir_model *whole = load_whole(seq);
        compare_views(v, dir_entry_view(whole));
        dir_model_release(whole);
        dir_model_release(cur);
        cur = n;
    }
    dir_model_release(cur);
    return derived;
}

static void derived_views_equal_whole_ones(void **state)
{
    (void)state;
    /* Every step derives (none adds an organisation, the changes stay few). */
    assert_int_equal(derive_steps(1, 60, 0), 58);
    assert_true(nsearches > 5000);
}

/* A view built whole for a later version of the lineage becomes the root of the next ones;
 * a version of another lineage (a full load) is built whole. */
static void roots_follow_the_lineage(void **state)
{
    (void)state;
    npeople = NPEOPLE0;
    struct dir_model *a = load_whole(1);
    (void)dir_entry_view(a);
    struct dir_model *b = apply_step(a, 2);
    assert_true(dir_entry_view_patched(dir_entry_view_from(b, a)));
    struct dir_model *c = load_whole(3); /* a full load: a new lineage */
    assert_false(dir_entry_view_patched(dir_entry_view_from(c, b)));
    struct dir_model *d = apply_step(c, 4);
    const struct dir_entry_view *dv = dir_entry_view_from(d, c);
    assert_true(dir_entry_view_patched(dv));
    struct dir_model *whole = load_whole(4);
    compare_views(dv, dir_entry_view(whole));
    dir_model_release(whole);
    dir_model_release(a);
    dir_model_release(b);
    dir_model_release(c);
    dir_model_release(d);
}

/* A full load made in the background (a new lineage) has its view built on the loading
 * thread; the version published with the changes since derives from that view, not from the
 * previous lineage's newest version (what the warmer passes as PREV). */
static void background_load_derives_from_its_full_view(void **state)
{
    (void)state;
    npeople = NPEOPLE0;
    struct dir_model *a = load_whole(1);
    (void)dir_entry_view(a);
    struct dir_model *b = apply_step(a, 2);
    assert_true(dir_entry_view_patched(dir_entry_view_from(b, a)));
    struct dir_model *c = load_whole(3);                            /* the background load ... */
    const struct dir_entry_view *cv = dir_entry_view_from(c, NULL); /* ... builds its view */
    assert_false(dir_entry_view_patched(cv));
    struct dir_model *d = apply_step(c, 4); /* the changes made while it loaded */
    const struct dir_entry_view *dv = dir_entry_view_from(d, b); /* B: the old lineage's */
    assert_true(dir_entry_view_patched(dv));
    struct dir_model *e = apply_step(d, 5);
    const struct dir_entry_view *ev = dir_entry_view_from(e, d);
    assert_true(dir_entry_view_patched(ev));
    struct dir_model *whole = load_whole(5);
    compare_views(ev, dir_entry_view(whole));
    dir_model_release(whole);
    dir_model_release(a);
    dir_model_release(b);
    dir_model_release(c);
    dir_model_release(d);
    dir_model_release(e);
}

/* Organisations added one or two at a time take spare slots: the views stay derived (no whole
 * build) and equal to whole builds, members of the new organisations included; once the
 * organisations outgrow the spare slots (256), the next view is built whole. */
static void added_organisations_derive(void **state)
{
    (void)state;
    assert_int_equal(derive_steps(100, 141, 2), 40);
    assert_true(norgs > NORGS + 40);
    /* Past the spare slots: a whole build. */
    norgs = 255;
    struct dir_model *a = load_whole(200);
    (void)dir_entry_view(a);
    struct dir_model *b = apply_step_orgs(a, 201, 1); /* 256 organisations: 512 slots */
    assert_false(dir_entry_view_patched(dir_entry_view_from(b, a)));
    struct dir_model *whole = load_whole(201);
    compare_views(dir_entry_view_from(b, a), dir_entry_view(whole));
    dir_model_release(whole);
    dir_model_release(a);
    dir_model_release(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(derived_views_equal_whole_ones),
        cmocka_unit_test(roots_follow_the_lineage),
        cmocka_unit_test(background_load_derives_from_its_full_view),
        cmocka_unit_test(added_organisations_derive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
