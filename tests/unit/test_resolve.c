/* test_resolve.c - unit tests for the resolver's rules on a small in-memory directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_buf.h"
#include "dir_model.h"
#include "dir_resolve.h"

static void distance_is_great_circle(void **state)
{
    (void)state;
    /* Phra Nakhon to Chatuchak district points: about 9 km. */
    double km = dir_resolve_distance_km(13.753, 100.5, 13.828, 100.56);
    assert_true(km > 9.0 && km < 11.5);
    assert_true(dir_resolve_distance_km(13.7, 100.5, 13.7, 100.5) < 1e-9);
}

/* TH > 10 > {1007, 1024, 1049}; 1007 has a district office (id 1) with its welfare section
 * (id 2); centres: 10 open in 1007, 11 closed in 1024, 12 open in 1049; 20 is the central
 * unit; 30 is closed but covers Bangkok. */
static struct dir_model *build(void)
{
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "1007", "district", "10", "ปทุมวัน", "Pathum Wan", NULL, 13.744, 100.53, true, 1);
    dir_model_add_area(b, "1024", "district", "10", "ราษฎร์บูรณะ", "Rat Burana", NULL, 13.68, 100.505, true, 1);
    dir_model_add_area(b, "1049", "district", "10", "ทุ่งครุ", "Thung Khru", NULL, 13.65, 100.49, true, 1);
    dir_model_add_taxon(b, DIR_TAX_SERVICE, "counselling", "ให้คำปรึกษา", "Counselling", NULL, NULL);
    dir_model_add_taxon(b, DIR_TAX_TARGET_GROUP, "street_children", "เด็กเร่ร่อน", "Street children", NULL, NULL);
    dir_model_add_taxon(b, DIR_TAX_TARGET_GROUP, "families", "ครอบครัว", "Families", NULL, NULL);
    struct dir_org_row rows[] = {
        {.id = 1, .name_th = "สำนักงานเขตปทุมวัน", .type = "district_office", .area_code = "1007"},
        {.id = 2, .name_th = "ฝ่ายสวัสดิการ", .type = "bma_unit", .parent_id = 1, .area_code = "1007"},
        {.id = 10, .name_th = "ศูนย์ลุมพินี", .type = "child_opportunity_centre", .area_code = "1007"},
        {.id = 11, .name_th = "ศูนย์พระราม 9", .type = "child_opportunity_centre", .area_code = "1024",
         .status = "closed", .status_date = "2017-09-30"},
        {.id = 12, .name_th = "ศูนย์ทุ่งครุ", .type = "child_opportunity_centre", .area_code = "1049"},
        {.id = 20, .ref = "central", .name_th = "หน่วยงานกลาง", .type = "bma_unit", .area_code = "10"},
        {.id = 30, .name_th = "ปิดแล้ว", .type = "ngo", .area_code = "10", .status = "closed",
         .status_date = "2020-01-01"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rows[i].sector = "bma";
        dir_model_add_org(b, &rows[i]);
    }
    long long coc[] = {10, 11, 12};
    for (int i = 0; i < 3; i++) {
        dir_model_add_offering(b, 100 + i, coc[i], "counselling");
        dir_model_add_offering_group(b, 100 + i, "street_children");
    }
    dir_model_add_offering(b, 200, 20, "counselling");
    dir_model_add_offering_area(b, 200, "10", NULL);
    dir_model_add_offering(b, 300, 30, "counselling");
    dir_model_add_offering_area(b, 300, "10", NULL);
    struct dir_model *m;
    char err[64];
    assert_int_equal(dir_model_finish(b, 1, &m, err, sizeof err), DIR_OK);
    return m;
}

/* The answer to RQ, parsed. */
static json_t *resolve_json(struct dir_model *m, const struct dir_resolve_req *rq)
{
    struct dir_buf out;
    const char *why = NULL;
    dir_buf_init(&out, 1 << 20);
    assert_int_equal(dir_resolve(m, rq, &out, &why), DIR_OK);
    json_t *j = json_loads(out.data, 0, NULL);
    dir_buf_free(&out);
    assert_non_null(j);
    return j;
}

static json_t *run(struct dir_model *m, const char *area, const char *group, bool explain)
{
    struct dir_resolve_req rq = {.area = dir_model_area(m, area),
                                 .need = -1,
                                 .group =
                                     group ? dir_model_taxon(m, DIR_TAX_TARGET_GROUP, group) : -1,
                                 .limit = 50,
                                 .explain = explain,
                                 .central_ref = "central"};
    return resolve_json(m, &rq);
}

static long long item_id(json_t *j, size_t i)
{
    return json_integer_value(json_object_get(json_array_get(json_object_get(j, "items"), i), "id"));
}

static void tiers_in_order_never_closed(void **state)
{
    (void)state;
    struct dir_model *m = build();
    json_t *j = run(m, "1024", "street_children", true);
    json_t *items = json_object_get(j, "items");
    /* No welfare section in 1024 here; nearest open centre is Thung Khru, not closed Rama 9;
     * the closed Bangkok-wide NGO is skipped; the central unit is last. */
    assert_int_equal(json_array_size(items), 2);
    assert_int_equal(item_id(j, 0), 12);
    assert_int_equal(item_id(j, 1), 20);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "tier")), 4);
    json_t *skipped = json_object_get(j, "skipped");
    bool rama9 = false, ngo = false;
    for (size_t i = 0; i < json_array_size(skipped); i++) {
        long long id = json_integer_value(json_object_get(json_array_get(skipped, i), "id"));
        rama9 = rama9 || id == 11;
        ngo = ngo || id == 30;
    }
    assert_true(rama9 && ngo);
    json_decref(j);
    dir_model_release(m);
}

static void welfare_section_first_centre_by_group(void **state)
{
    (void)state;
    struct dir_model *m = build();
    json_t *j = run(m, "1007", "street_children", false);
    assert_int_equal(item_id(j, 0), 2);  /* the district office's welfare section */
    assert_int_equal(item_id(j, 1), 10); /* the centre in the same district */
    json_decref(j);
    /* Families are not a group the centres serve: no tier 3. */
    j = run(m, "1007", "families", false);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_int_equal(item_id(j, 1), 20);
    json_decref(j);
    dir_model_release(m);
}

static void province_is_not_a_handoff_area(void **state)
{
    (void)state;
    struct dir_model *m = build();
    struct dir_resolve_req rq = {.area = dir_model_area(m, "10"), .need = -1, .group = -1, .limit = 5};
    struct dir_buf out;
    const char *why = NULL;
    dir_buf_init(&out, 1 << 16);
    assert_int_equal(dir_resolve(m, &rq, &out, &why), DIR_ERR_INVALID);
    assert_non_null(why);
    dir_buf_free(&out);
    dir_model_release(m);
}

/* A district (1007) with two sub-districts, three welfare units (one closed), and 60 people
 * with district welfare memberships: some inactive, some in the closed unit, covering the
 * district or a sub-district, verified in a scrambled order. Unit 2 is the section found by
 * its type; 3, 5 and 6 only through staff memberships (and the central unit, 20). */
static struct dir_model *build_welfare(void)
{
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true,
                       1);
    dir_model_add_area(b, "1007", "district", "10", "ปทุมวัน", "Pathum Wan", NULL, 13.744, 100.53,
                       true, 1);
    dir_model_add_area(b, "100701", "subdistrict", "1007", "รองเมือง", "Rong Mueang", NULL, NAN, NAN,
                       true, 1);
    dir_model_add_area(b, "100702", "subdistrict", "1007", "วังใหม่", "Wang Mai", NULL, NAN, NAN,
                       true, 1);
    struct dir_org_row rows[] = {
        {.id = 1, .name_th = "สำนักงานเขตปทุมวัน", .type = "district_office", .area_code = "1007"},
        {.id = 2, .name_th = "ฝ่ายสวัสดิการ", .type = "bma_unit", .parent_id = 1, .area_code = "1007"},
        {.id = 3,
         .name_th = "ฝ่ายพัฒนาชุมชน",
         .type = "bma_unit",
         .parent_id = 1,
         .area_code = "1007"},
        {.id = 4,
         .name_th = "หน่วยปิด",
         .type = "ngo",
         .area_code = "1007",
         .status = "closed",
         .status_date = "2020-01-01"},
        {.id = 5, .name_th = "มูลนิธิ", .type = "ngo", .area_code = "1007"},
        {.id = 6, .name_th = "สมาคม", .type = "ngo", .area_code = "10"},
        {.id = 20,
         .ref = "central",
         .name_th = "หน่วยงานกลาง",
         .type = "bma_unit",
         .area_code = "10"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rows[i].sector = "bma";
        dir_model_add_org(b, &rows[i]);
    }
    static const char *areas[] = {"1007", "100701", "100702"};
    static const long long orgs[] = {3, 4, 5, 6, 20};
    char name[32], ref[32];
    for (int i = 0; i < 60; i++) {
        snprintf(name, sizeof name, "คน %d", i);
        snprintf(ref, sizeof ref, "p%d", i);
        struct dir_person_row p = {.id = 100 + i,
                                   .ref = ref,
                                   .name_th = name,
                                   .active = i % 7 != 3,
                                   .verified_epoch = 1700000000LL + (i * 37) % 60 * 86400,
                                   .verified_at = "2023-11-14",
                                   .version = 1};
        dir_model_add_person(b, &p);
        long long ms = 1000 + i;
        dir_model_add_membership(b, ms, 100 + i, orgs[(i * 3) % 5], "district_welfare",
                                 "นักสังคมสงเคราะห์", "Social worker");
        dir_model_add_membership_area(b, ms, areas[i % 3], NULL);
    }
    struct dir_model *m;
    char err[64];
    assert_int_equal(dir_model_finish(b, 1, &m, err, sizeof err), DIR_OK);
    return m;
}

static char *answer(struct dir_model *m, const char *area, int limit, bool people, bool explain)
{
    struct dir_resolve_req rq = {.area = dir_model_area(m, area),
                                 .need = -1,
                                 .group = -1,
                                 .limit = limit,
                                 .people = people,
                                 .explain = explain,
                                 .central_ref = "central",
                                 .now = 1700000000};
    json_t *j = resolve_json(m, &rq);
    json_object_del(j, "skipped");
    char *s = json_dumps(j, JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

/* Without explain, tier 1 takes its organisations from the area's list and stops walking the
 * welfare staff at LIMIT; with explain it walks them all. The items must be the same. */
static void welfare_shortcut_same_items(void **state)
{
    (void)state;
    struct dir_model *m = build_welfare();
    static const char *areas[] = {"1007", "100701", "100702"};
    static const int limits[] = {1, 2, 5, 13, 50};
    int checked = 0;
    for (int a = 0; a < 3; a++)
        for (int l = 0; l < 5; l++)
            for (int people = 0; people < 2; people++) {
                char *fast = answer(m, areas[a], limits[l], people, false);
                char *full = answer(m, areas[a], limits[l], people, true);
                assert_string_equal(fast, full);
                /* The answer names the welfare units and, for staff callers, people. */
                assert_non_null(strstr(fast, "ฝ่ายสวัสดิการ"));
                assert_non_null(strstr(fast, "มูลนิธิ"));
                assert_non_null(strstr(fast, "สมาคม"));
                assert_null(strstr(fast, "หน่วยปิด"));
                if (people) assert_non_null(strstr(fast, "\"kind\": \"person\""));
                free(fast);
                free(full);
                checked++;
            }
    assert_int_equal(checked, 30);
    dir_model_release(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(distance_is_great_circle),
        cmocka_unit_test(tiers_in_order_never_closed),
        cmocka_unit_test(welfare_section_first_centre_by_group),
        cmocka_unit_test(province_is_not_a_handoff_area),
        cmocka_unit_test(welfare_shortcut_same_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
