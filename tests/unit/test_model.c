/* test_model.c - unit tests for the read model and its queries, built in memory (no database). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dir_buf.h"
#include "dir_mem.h"
#include "dir_model.h"
#include "dir_query.h"
#include "dir_text.h"

/* TH > 10 (Bangkok) > 1002 Dusit, 1004 Bang Rak, 1007 Pathum Wan > 100701; zone bkk-z2 =
 * {1004, 1007}. Org 1 covers zone 2 with counselling for street children; org 2 is the
 * closed centre in 1007; org 3 is a welfare section in 1002 serving every group. */
static struct dir_model *build(bool with_orgs)
{
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "1007", "district", "10", "ปทุมวัน", "Pathum Wan", NULL, 13.74, 100.52, true, 1);
    dir_model_add_area(b, "1004", "district", "10", "บางรัก", "Bang Rak", NULL, 13.72, 100.51, true, 1);
    dir_model_add_area(b, "1002", "district", "10", "ดุสิต", "Dusit", NULL, 13.76, 100.52, true, 1);
    dir_model_add_area(b, "100701", "subdistrict", "1007", "รองเมือง", "Rong Mueang", "10330", NAN,
                       NAN, true, 1);
    dir_model_add_group(b, "bkk-z2", "zone", NULL, "10", "กลุ่มเขตกรุงเทพใต้", "South Bangkok", 1);
    dir_model_add_group_member(b, "bkk-z2", "1007");
    dir_model_add_group_member(b, "bkk-z2", "1004");
    dir_model_add_taxon(b, DIR_TAX_SERVICE, "counselling", "ให้คำปรึกษา", "Counselling", NULL, NULL);
    dir_model_add_taxon(b, DIR_TAX_SERVICE, "medical_care", "รักษาพยาบาล", "Medical care", NULL, NULL);
    dir_model_add_taxon(b, DIR_TAX_TARGET_GROUP, "street_children", "เด็กเร่ร่อน", "Street children",
                        NULL, NULL);
    dir_model_add_taxon(b, DIR_TAX_TARGET_GROUP, "families", "ครอบครัว", "Families", NULL, NULL);
    if (with_orgs) {
        struct dir_org_row o1 = {.id = 1, .name_th = "มูลนิธิทดสอบ", .name_en = "Test Foundation",
                                 .type = "ngo", .sector = "ngo", .area_code = "1004", .version = 3};
        struct dir_org_row o2 = {.id = 2, .name_th = "ศูนย์ปิดแล้ว", .name_en = "Closed Centre",
                                 .type = "child_opportunity_centre", .sector = "bma",
                                 .status = "closed", .status_date = "2017-09-30",
                                 .area_code = "1007", .version = 1};
        struct dir_org_row o3 = {.id = 3, .name_th = "ฝ่ายสวัสดิการดุสิต", .name_en = "Dusit Welfare",
                                 .type = "bma_unit", .sector = "bma", .area_code = "1002",
                                 .verified_epoch = (long long)time(NULL) - 86400, .version = 1};
        dir_model_add_org(b, &o3); /* out of order on purpose */
        dir_model_add_org(b, &o1);
        dir_model_add_org(b, &o2);
        dir_model_add_offering(b, 10, 1, "counselling");
        dir_model_add_offering_group(b, 10, "street_children");
        dir_model_add_offering_area(b, 10, NULL, "bkk-z2");
        dir_model_add_offering(b, 11, 3, "counselling"); /* no areas: where it is */
        dir_model_add_offering(b, 12, 2, "counselling");
        struct dir_contact_row pub = {.org_id = 1, .kind = "phone", .value = "02-123-4567",
                                      .is_public = true};
        struct dir_contact_row priv = {.org_id = 1, .kind = "mobile", .value = "081-234-5678",
                                       .is_public = false};
        dir_model_add_contact(b, &pub);
        dir_model_add_contact(b, &priv);
        struct dir_person_row p = {.id = 7, .name_th = "สมชาย ใจดี", .name_en = "Somchai Jaidee",
                                   .source = "manual", .active = true, .version = 1};
        struct dir_person_row gone = {.id = 8, .name_th = "ลาออก", .source = "manual",
                                      .active = false, .version = 1};
        dir_model_add_person(b, &p);
        dir_model_add_person(b, &gone);
        dir_model_add_membership(b, 70, 7, 3, "district_welfare", NULL, NULL);
        dir_model_add_membership_area(b, 70, "1002", NULL);
        dir_model_add_membership(b, 71, 7, 1, "agency_partner", NULL, NULL); /* also volunteers */
        dir_model_add_membership_area(b, 71, "1004", NULL);
        dir_model_add_membership(b, 80, 8, 3, "district_welfare", NULL, NULL);
        dir_model_add_membership_area(b, 80, "1002", NULL);
    }
    struct dir_model *m = NULL;
    char err[128];
    assert_int_equal(dir_model_finish(b, 42, &m, err, sizeof err), DIR_OK);
    return m;
}

static int query_org_ids(struct dir_model *m, struct dir_org_filter *f, long long *ids)
{
    int n = 0;
    for (int i = 0; i < m->norgs; i++)
        if (dir_query_org_matches(m, dir_model_org_at(m, i), f))
            ids[n++] = dir_model_org_at(m, i)->id;
    return n;
}

static void zone_coverage_reaches_its_districts_only(void **state)
{
    (void)state;
    struct dir_model *m = build(true);
    struct dir_org_filter f = {.area = dir_model_area(m, "1004"),
                               .service = dir_model_taxon(m, DIR_TAX_SERVICE, "counselling"),
                               .group = dir_model_taxon(m, DIR_TAX_TARGET_GROUP, "street_children")};
    long long ids[8];
    assert_int_equal(query_org_ids(m, &f, ids), 1);
    assert_int_equal(ids[0], 1); /* Bang Rak is in zone 2 */
    f.area = dir_model_area(m, "1002");
    assert_int_equal(query_org_ids(m, &f, ids), 1);
    assert_int_equal(ids[0], 3); /* Dusit: only its own welfare section, not the zone-2 NGO */
    f.area = dir_model_area(m, "100701");
    assert_int_equal(query_org_ids(m, &f, ids), 2); /* a sub-district of Pathum Wan, in zone 2 */
    f.group = dir_model_taxon(m, DIR_TAX_TARGET_GROUP, "families");
    f.area = dir_model_area(m, "1004");
    assert_int_equal(query_org_ids(m, &f, ids), 0); /* the NGO serves street children only */
    dir_model_release(m);
}

/* zone=: the other filters answered for each member of the group (uiprint). */
static void zone_filter_matches_its_members(void **state)
{
    (void)state;
    struct dir_model *m = build(true);
    long long ids[8];
    const struct dir_group *z = &m->groups[dir_model_group(m, "bkk-z2")];
    struct dir_org_filter f = {.area = -1, .service = -1, .group = -1, .zone = z};
    assert_int_equal(query_org_ids(m, &f, ids), 2); /* located in Bang Rak, Pathum Wan */
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    f.service = dir_model_taxon(m, DIR_TAX_SERVICE, "counselling");
    assert_int_equal(query_org_ids(m, &f, ids), 2); /* the zone's NGO; the centre where it is */
    f.service = -1;
    f.area = dir_model_area(m, "1002"); /* Dusit is not in the zone */
    assert_int_equal(query_org_ids(m, &f, ids), 0);
    f.area = dir_model_area(m, "1004");
    assert_int_equal(query_org_ids(m, &f, ids), 1);
    assert_int_equal(ids[0], 1);
    dir_model_release(m);
}

static void lookups_and_structure(void **state)
{
    (void)state;
    struct dir_model *m = build(true);
    int a = dir_model_area(m, "100701");
    assert_true(a >= 0);
    assert_string_equal(m->areas[m->areas[a].parent].code, "1007");
    assert_int_equal(m->areas[a].depth, 3);
    assert_true(dir_model_area_within(m, a, dir_model_area(m, "10")));
    assert_false(dir_model_area_within(m, dir_model_area(m, "10"), a));
    assert_int_equal(dir_model_area(m, "9999"), -1);
    int z = dir_model_group(m, "bkk-z2");
    assert_int_equal(m->groups[z].nmembers, 2);
    assert_int_equal(m->areas[dir_model_area(m, "1007")].ngroups, 1);
    assert_int_equal(dir_model_org_at(m, 0)->id, 1); /* sorted by id */
    assert_true(dir_model_org_at(m, 0)->stale);      /* never verified */
    assert_false(dir_model_org_at(m, 2)->stale);     /* verified yesterday */
    assert_int_equal(m->seq, 42);
    dir_model_release(m);
}

static void public_json_hides_private_contacts(void **state)
{
    (void)state;
    struct dir_model *m = build(true);
    const struct dir_org *o = dir_model_org_at(m, dir_model_org(m, 1));
    assert_non_null(strstr(o->json_public.s, "02-123-4567"));
    assert_null(strstr(o->json_public.s, "081-234-5678"));
    assert_non_null(strstr(o->json_full.s, "081-234-5678"));
    assert_non_null(strstr(o->json_public.s, "\"areas\":[\"bkk-z2\"]"));
    dir_model_release(m);
}

static void lists_page_with_cursor(void **state)
{
    (void)state;
    struct dir_model *m = build(true);
    struct dir_org_filter f = {.area = -1, .service = -1, .group = -1};
    struct dir_buf out;
    dir_buf_init(&out, 1 << 20);
    assert_int_equal(dir_query_orgs(m, &f, 0, 2, false, 0, &out), DIR_OK);
    assert_non_null(strstr(out.data, "\"next\":\"2\"}"));
    dir_buf_free(&out);
    dir_buf_init(&out, 1 << 20);
    assert_int_equal(dir_query_orgs(m, &f, 2, 2, false, 0, &out), DIR_OK);
    assert_non_null(strstr(out.data, "\"id\":3"));
    assert_non_null(strstr(out.data, "\"next\":null}"));
    dir_buf_free(&out);
    /* The cap is honoured. */
    dir_buf_init(&out, 64);
    assert_int_equal(dir_query_orgs(m, &f, 0, 50, false, 0, &out), DIR_ERR_LIMIT);
    dir_buf_free(&out);
    dir_model_release(m);
}

static void status_type_and_name_filters(void **state)
{
    (void)state;
    struct dir_model *m = build(true);
    long long ids[8];
    struct dir_org_filter f = {.area = -1, .service = -1, .group = -1, .status = "closed"};
    assert_int_equal(query_org_ids(m, &f, ids), 1);
    assert_int_equal(ids[0], 2);
    char *q = dir_text_fold_dup("TEST found");
    struct dir_org_filter g = {.area = -1, .service = -1, .group = -1, .q = q};
    assert_int_equal(query_org_ids(m, &g, ids), 1);
    assert_int_equal(ids[0], 1);
    free(q);
    dir_model_release(m);
}

static void people_inactive_hidden_and_area_matched(void **state)
{
    (void)state;
    struct dir_model *m = build(true);
    struct dir_person_filter f = {.area = dir_model_area(m, "1002"), .org = -1};
    struct dir_buf out;
    dir_buf_init(&out, 1 << 20);
    assert_int_equal(dir_query_people(m, &f, 0, 50, &out), DIR_OK);
    assert_non_null(strstr(out.data, "Somchai"));
    assert_null(strstr(out.data, "ลาออก"));
    dir_buf_free(&out);
    dir_buf_init(&out, 1 << 20);
    f.area = dir_model_area(m, "1007");
    assert_int_equal(dir_query_people(m, &f, 0, 50, &out), DIR_OK);
    assert_string_equal(out.data, "{\"items\":[],\"next\":null}");
    dir_buf_free(&out);
    dir_model_release(m);
}

static bool people_query_has(struct dir_model *m, const char *area, const char *role,
                              const char *name)
{
    struct dir_person_filter f = {.area = dir_model_area(m, area), .org = -1, .role = role};
    struct dir_buf out;
    dir_buf_init(&out, 1 << 20);
    assert_int_equal(dir_query_people(m, &f, 0, 50, &out), DIR_OK);
    bool found = strstr(out.data, name) != NULL;
    dir_buf_free(&out);
    return found;
}

static void role_and_area_come_from_one_membership(void **state)
{
    (void)state;
    struct dir_model *m = build(true);
    assert_true(people_query_has(m, "1002", "district_welfare", "Somchai"));
    assert_true(people_query_has(m, "1004", "agency_partner", "Somchai"));
    /* Welfare staff for Dusit who volunteers in Bang Rak is not Bang Rak's welfare staff. */
    assert_false(people_query_has(m, "1004", "district_welfare", "Somchai"));
    dir_model_release(m);
}

static void empty_directory_builds(void **state)
{
    (void)state;
    struct dir_model *m = build(false); /* migrated but no organisations yet */
    assert_int_equal(m->norgs, 0);
    uint8_t hash[DIR_AUTH_HASH_LEN] = {0};
    assert_null(dir_model_client(m, hash));
    dir_model_release(m);
}

static void no_country_is_an_error(void **state)
{
    (void)state;
    struct dir_model_builder *b = dir_model_builder_new(365);
    struct dir_model *m = NULL;
    char err[128];
    assert_int_equal(dir_model_finish(b, 0, &m, err, sizeof err), DIR_ERR_INVALID);
    assert_null(m);
    assert_non_null(strstr(err, "migrations"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zone_coverage_reaches_its_districts_only),
        cmocka_unit_test(zone_filter_matches_its_members),
        cmocka_unit_test(lookups_and_structure),
        cmocka_unit_test(public_json_hides_private_contacts),
        cmocka_unit_test(lists_page_with_cursor),
        cmocka_unit_test(status_type_and_name_filters),
        cmocka_unit_test(people_inactive_hidden_and_area_matched),
        cmocka_unit_test(role_and_area_come_from_one_membership),
        cmocka_unit_test(empty_directory_builds),
        cmocka_unit_test(no_country_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
