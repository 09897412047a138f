/* test_report.c - unit tests of reports of mistakes without a database: the bounded rate
 * limiter (dir_rate), the text and body checks of dir_report, and the routes' answers through
 * dir_api_handle when no database is configured. */
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

#include "dir_api.h"
#include "dir_model.h"
#include "dir_rate.h"
#include "dir_report.h"
#include "dir_text.h"

/* ---- the limiter ---- */

static void rate_counts_per_key_within_the_window(void **state)
{
    (void)state;
    struct dir_rate *r = dir_rate_new(3, 3600, 16);
    for (int i = 0; i < 3; i++)
        assert_int_equal(dir_rate_take(r, "a:192.0.2.1", 1000 + i), 0);
    /* The fourth waits until the window that began at 1000 ends. */
    assert_int_equal(dir_rate_take(r, "a:192.0.2.1", 1010), 3600 - 10);
    assert_int_equal(dir_rate_take(r, "a:192.0.2.1", 4599), 1);
    /* Another key is not affected. */
    assert_int_equal(dir_rate_take(r, "a:192.0.2.2", 1010), 0);
    /* A new window. */
    assert_int_equal(dir_rate_take(r, "a:192.0.2.1", 4600), 0);
    dir_rate_free(r);
}

static void rate_gives_back_what_did_not_happen(void **state)
{
    (void)state;
    struct dir_rate *r = dir_rate_new(2, 60, 16);
    assert_int_equal(dir_rate_take(r, "k", 100), 0);
    assert_int_equal(dir_rate_take(r, "k", 100), 0);
    assert_true(dir_rate_take(r, "k", 100) > 0);
    dir_rate_give_back(r, "k", 100);
    assert_int_equal(dir_rate_take(r, "k", 100), 0);
    assert_true(dir_rate_take(r, "k", 100) > 0);
    dir_rate_give_back(r, "unknown", 100); /* nothing to give back: no effect */
    dir_rate_free(r);
}

static void rate_zero_limits_nothing(void **state)
{
    (void)state;
    struct dir_rate *r = dir_rate_new(0, 60, 16);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(dir_rate_take(r, "k", 100), 0);
    dir_rate_free(r);
}

/* Address churn: a limited key stays limited however many new keys arrive; the memory is the
 * fixed table. */
static void rate_limited_keys_survive_churn(void **state)
{
    (void)state;
    struct dir_rate *r = dir_rate_new(2, 3600, 16);
    assert_int_equal(dir_rate_take(r, "a:limited", 0), 0);
    assert_int_equal(dir_rate_take(r, "a:limited", 0), 0);
    assert_true(dir_rate_take(r, "a:limited", 0) > 0);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "a:churn-%d", i);
        assert_int_equal(dir_rate_take(r, key, 1), 0); /* each new key under its limit */
    }
    assert_int_equal(dir_rate_take(r, "a:limited", 2), 3600 - 2);
    dir_rate_free(r);
}

/* When every slot holds a limited key, new keys wait too (until the oldest window ends), and
 * the others stay limited. */
static void rate_full_of_limited_keys_makes_new_keys_wait(void **state)
{
    (void)state;
    struct dir_rate *r = dir_rate_new(1, 100, 16);
    char key[32];
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof key, "a:%d", i);
        assert_int_equal(dir_rate_take(r, key, 10 + i), 0);
    }
    assert_int_equal(dir_rate_take(r, "a:new", 30), 100 - 20); /* a:0's window ends at 110 */
    assert_int_equal(dir_rate_take(r, "a:15", 30), 100 - 5);
    /* At 110 a:0's window is over: its slot is free for the new key. */
    assert_int_equal(dir_rate_take(r, "a:new", 110), 0);
    assert_int_equal(dir_rate_take(r, "a:new", 110), 100);
    assert_int_equal(dir_rate_take(r, "a:0", 110), 1); /* forgotten, waits for a:1's slot */
    assert_int_equal(dir_rate_take(r, "a:0", 111), 0);
    dir_rate_free(r);
}

/* When the table is full, the key below its limit added the longest ago makes room. */
static void rate_evicts_the_oldest_unlimited_key(void **state)
{
    (void)state;
    struct dir_rate *r = dir_rate_new(2, 3600, 16);
    char key[32];
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof key, "a:%d", i);
        assert_int_equal(dir_rate_take(r, key, 0), 0);
    }
    assert_int_equal(dir_rate_take(r, "a:0", 0), 0);   /* a:0 at its limit: kept */
    assert_int_equal(dir_rate_take(r, "a:new", 0), 0); /* replaces a:1 */
    assert_true(dir_rate_take(r, "a:0", 0) > 0);
    assert_int_equal(dir_rate_take(r, "a:1", 0), 0); /* forgotten: a fresh count */
    dir_rate_free(r);
}

static void rate_keys_of_addresses(void **state)
{
    (void)state;
    char k[DIR_RATE_KEY_MAX];
    dir_rate_addr_key("203.0.113.9", k, sizeof k);
    assert_string_equal(k, "a:203.0.113.9");
    dir_rate_addr_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k, sizeof k);
    assert_string_equal(k, "a:2001:db8:1:2::/64");
    char k2[DIR_RATE_KEY_MAX];
    dir_rate_addr_key("2001:db8:1:2::1", k2, sizeof k2);
    assert_string_equal(k, k2); /* one /64, one key */
    dir_rate_addr_key("::ffff:198.51.100.7", k, sizeof k);
    assert_string_equal(k, "a:198.51.100.7");
    dir_rate_addr_key("", k, sizeof k);
    assert_string_equal(k, "a:");
}

/* ---- text ---- */

static char *repeat(const char *s, int n)
{
    size_t l = strlen(s);
    char *out = malloc(l * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(out + l * (size_t)i, s, l);
    out[l * (size_t)n] = '\0';
    return out;
}

static void text_is_trimmed_and_counted_in_characters(void **state)
{
    (void)state;
    enum dir_report_text_error why;
    static const char in[] = " \t\xe3\x80\x80\xe2\x80\x8b"
                             "เบอร์ผิด\nโทร 02\xe2\x80\x8b \r\n";
    char *t = dir_report_text(in, sizeof in - 1, 2000, true, &why);
    assert_int_equal(why, DIR_REPORT_TEXT_OK);
    assert_string_equal(t, "เบอร์ผิด\nโทร 02");
    free(t);
    t = dir_report_text(" \xc2\xa0\xef\xbb\xbf ", 7, 10, true, &why);
    assert_string_equal(t, ""); /* blank */
    free(t);
    char *thai = repeat("ก", 2000); /* 6,000 bytes, 2,000 characters */
    t = dir_report_text(thai, strlen(thai), 2000, true, &why);
    assert_non_null(t);
    free(t);
    free(thai);
    thai = repeat("ก", 2001);
    assert_null(dir_report_text(thai, strlen(thai), 2000, true, &why));
    assert_int_equal(why, DIR_REPORT_TEXT_TOO_LONG);
    free(thai);
}

static void text_refuses_controls_and_bad_utf8(void **state)
{
    (void)state;
    enum dir_report_text_error why;
    assert_null(dir_report_text("a\x07"
                                "b",
                                3, 10, true, &why));
    assert_int_equal(why, DIR_REPORT_TEXT_CONTROL);
    assert_null(dir_report_text("a\xc2\x85"
                                "b",
                                4, 10, true, &why)); /* NEL (C1) inside */
    assert_int_equal(why, DIR_REPORT_TEXT_CONTROL);
    assert_null(dir_report_text("081\n222", 7, 10, false, &why)); /* one line only */
    assert_int_equal(why, DIR_REPORT_TEXT_CONTROL);
    assert_null(dir_report_text("a\xe2\x80\xa8"
                                "b",
                                5, 10, false, &why));
    assert_int_equal(why, DIR_REPORT_TEXT_CONTROL);
    assert_null(dir_report_text("a\xff", 2, 10, true, &why));
    assert_int_equal(why, DIR_REPORT_TEXT_NOT_UTF8);
    assert_null(dir_report_text("a\0b", 3, 10, true, &why));
    assert_int_equal(why, DIR_REPORT_TEXT_NOT_UTF8);
    assert_null(dir_report_text("\xed\xa0\x80", 3, 10, true, &why)); /* a surrogate */
    assert_int_equal(why, DIR_REPORT_TEXT_NOT_UTF8);
}

/* ---- body checks ---- */

static struct dir_model *build(void)
{
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true,
                       1);
    dir_model_add_area(b, "1007", "district", "10", "ปทุมวัน", "Pathum Wan", NULL, NAN, NAN, true, 1);
    struct dir_org_row o = {.id = 7,
                            .ref = "coc-lumphini",
                            .name_th = "ศูนย์สร้างโอกาสเด็กสวนลุมพินี",
                            .name_en = "Lumphini Park Child Opportunity Centre",
                            .area_code = "1007",
                            .version = 1};
    dir_model_add_org(b, &o);
    struct dir_person_row p = {
        .id = 3, .name_th = "สมชาย ใจดี", .source = "manual", .active = true, .version = 1};
    dir_model_add_person(b, &p);
    uint8_t h[DIR_AUTH_HASH_LEN];
    dir_auth_hash("unit-coordinator", h);
    dir_model_add_client(b, h, "unit-coordinator", "coordinator", 0, false);
    dir_auth_hash("unit-caseworker", h);
    dir_model_add_client(b, h, "unit-caseworker", "caseworker", 0, false);
    struct dir_model *m = NULL;
    char err[128];
    assert_int_equal(dir_model_finish(b, 1, &m, err, sizeof err), DIR_OK);
    return m;
}

/* Checks BODY (JSON text); returns the status (0: accepted) and, when refused, the first
 * field named in FIELD. */
static int check(const struct dir_model *m, enum dir_role role, const char *body, char *field,
                 char *entity_id)
{
    json_error_t e;
    json_t *j = json_loads(body, JSON_REJECT_DUPLICATES, &e);
    assert_non_null(j);
    struct dir_report_input in;
    bool ok = dir_report_check(m, role, j, &in);
    int status = ok ? 0 : in.prob.status;
    if (!ok && in.prob.nerrors) strcpy(field, in.prob.errors[0].field);
    if (ok) strcpy(entity_id, in.r.entity_id);
    dir_report_input_free(&in);
    json_decref(j);
    return status;
}

static void bodies_are_checked_field_by_field(void **state)
{
    (void)state;
    struct dir_model *m = build();
    char f[64] = "", id[96] = "";
    assert_int_equal(
        check(m, DIR_ROLE_ANON, "{\"entity\":\"organization\",\"id\":7,\"message\":\"x\"}", f, id),
        0);
    assert_string_equal(id, "7");
    assert_int_equal(
        check(m, DIR_ROLE_ANON,
              "{\"entity\":\"organization\",\"id\":\"coc-lumphini\",\"message\":\"x\"}", f, id),
        0);
    assert_string_equal(id, "7"); /* the ref becomes the id */
    assert_int_equal(
        check(m, DIR_ROLE_ANON, "{\"entity\":\"area\",\"id\":1007,\"message\":\"x\"}", f, id), 0);
    assert_string_equal(id, "1007");
    assert_int_equal(
        check(m, DIR_ROLE_ANON, "{\"entity\":\"area\",\"id\":\"1099\",\"message\":\"x\"}", f, id),
        404);
    assert_string_equal(f, "id");
    /* People: signed-in callers only, whether or not the person exists. */
    assert_int_equal(
        check(m, DIR_ROLE_ANON, "{\"entity\":\"person\",\"id\":3,\"message\":\"x\"}", f, id), 401);
    assert_int_equal(
        check(m, DIR_ROLE_ANON, "{\"entity\":\"person\",\"id\":4,\"message\":\"x\"}", f, id), 401);
    assert_int_equal(
        check(m, DIR_ROLE_CASEWORKER, "{\"entity\":\"person\",\"id\":3,\"message\":\"x\"}", f, id),
        0);
    assert_int_equal(
        check(m, DIR_ROLE_CASEWORKER, "{\"entity\":\"person\",\"id\":4,\"message\":\"x\"}", f, id),
        404);
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"entity\":\"area\",\"id\":\"1007\"}", "message"},
        {"{\"entity\":\"area\",\"id\":\"1007\",\"message\":\"  \"}", "message"},
        {"{\"entity\":\"area\",\"id\":\"1007\",\"message\":null}", "message"},
        {"{\"entity\":\"area\",\"id\":\"1007\",\"message\":7}", "message"},
        {"{\"entity\":\"area\",\"id\":\"1007\",\"message\":\"x\",\"contact\":[]}", "contact"},
        {"{\"entity\":\"area\",\"id\":[],\"message\":\"x\"}", "id"},
        {"{\"entity\":\"area\",\"id\":\"\",\"message\":\"x\"}", "id"},
        {"{\"entity\":\"school\",\"id\":\"1007\",\"message\":\"x\"}", "entity"},
        {"{\"id\":\"1007\",\"message\":\"x\"}", "entity"},
        {"{\"entity\":\"area\",\"id\":\"1007\",\"message\":\"x\",\"extra\":1}", "extra"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f[0] = '\0';
        assert_int_equal(check(m, DIR_ROLE_ADMIN, bad[i].body, f, id), 400);
        assert_string_equal(f, bad[i].field);
    }
    /* A blank contact is no contact. */
    json_t *j = json_loads(
        "{\"entity\":\"area\",\"id\":\"1007\",\"message\":\" x \",\"contact\":\" \"}", 0, NULL);
    struct dir_report_input in;
    assert_true(dir_report_check(m, DIR_ROLE_ANON, j, &in));
    assert_string_equal(in.r.message, "x");
    assert_null(in.r.contact);
    dir_report_input_free(&in);
    json_decref(j);
    dir_model_release(m);
}

static void action_bodies_are_checked(void **state)
{
    (void)state;
    struct dir_problem p;
    char *note = NULL;
    const char *res = NULL;
    json_t *j = json_loads("{\"note\":\" แก้แล้ว \",\"resolution\":\"fixed\"}", 0, NULL);
    assert_true(dir_report_action_check(j, true, &note, &res, &p));
    assert_string_equal(note, "แก้แล้ว");
    assert_string_equal(res, "fixed");
    free(note);
    /* Reopening takes a note only. */
    assert_false(dir_report_action_check(j, false, &note, &res, &p));
    assert_string_equal(p.errors[0].field, "resolution");
    assert_null(note);
    json_decref(j);
    j = json_loads("{\"resolution\":\"maybe\"}", 0, NULL);
    assert_false(dir_report_action_check(j, true, &note, &res, &p));
    assert_int_equal(p.status, 400);
    json_decref(j);
    j = json_object();
    assert_true(dir_report_action_check(j, true, &note, &res, &p));
    assert_null(note);
    assert_null(res);
    json_decref(j);
}

/* ---- the routes without a database ---- */

static int route(struct dir_api *api, const char *method, const char *path, const char *key)
{
    char auth[128];
    struct dir_http_kv h[1];
    size_t nh = 0;
    if (key) {
        snprintf(auth, sizeof auth, "Bearer %s", key);
        h[nh++] = (struct dir_http_kv){"Authorization", auth, strlen(auth)};
    }
    struct dir_http_req *req = dir_http_req_new(method, path, NULL, 0, h, nh, "", 0, "127.0.0.1");
    struct dir_http_resp resp;
    dir_http_resp_init(&resp);
    dir_http_dispatch(dir_api_handle, api, req, &resp);
    assert_true(dir_text_utf8_valid(resp.body.data, resp.body.len));
    int status = resp.status;
    dir_buf_free(&resp.body);
    dir_http_req_free(req);
    return status;
}

static void routes_answer_without_a_database(void **state)
{
    (void)state;
    struct dir_model *m = build();
    struct dir_api api = {.model = m, .central_ref = "x"};
    assert_int_equal(route(&api, "GET", "/v1/reports", NULL), 401);
    assert_int_equal(route(&api, "GET", "/v1/reports", "unit-caseworker"), 403);
    assert_int_equal(route(&api, "GET", "/v1/reports", "unit-coordinator"), 503);
    assert_int_equal(route(&api, "POST", "/v1/reports", NULL), 503);
    assert_int_equal(route(&api, "PUT", "/v1/reports", NULL), 405);
    assert_int_equal(route(&api, "POST", "/v1/reports/1/resolve", NULL), 401);
    assert_int_equal(route(&api, "POST", "/v1/reports/1/resolve", "unit-coordinator"), 503);
    assert_int_equal(route(&api, "GET", "/v1/reports/1/reopen", NULL), 405);
    assert_int_equal(route(&api, "GET", "/v1/reports/1", "unit-coordinator"), 404);
    dir_model_release(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rate_counts_per_key_within_the_window),
        cmocka_unit_test(rate_gives_back_what_did_not_happen),
        cmocka_unit_test(rate_zero_limits_nothing),
        cmocka_unit_test(rate_limited_keys_survive_churn),
        cmocka_unit_test(rate_full_of_limited_keys_makes_new_keys_wait),
        cmocka_unit_test(rate_evicts_the_oldest_unlimited_key),
        cmocka_unit_test(rate_keys_of_addresses),
        cmocka_unit_test(text_is_trimmed_and_counted_in_characters),
        cmocka_unit_test(text_refuses_controls_and_bad_utf8),
        cmocka_unit_test(bodies_are_checked_field_by_field),
        cmocka_unit_test(action_bodies_are_checked),
        cmocka_unit_test(routes_answer_without_a_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
