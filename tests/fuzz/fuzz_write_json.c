/* fuzz_write_json.c - fuzz target: the JSON body of every write of the API.
 *
 * Input: one route byte, then the request body. The route byte (modulo the table below)
 * picks the write: organisation create/update/close/reopen/verify, person create/update
 * (also of a person synced from the city LDAP)/deactivate/reactivate, community, area group
 * and programme create/update, API client create, staff role, and a report of a mistake
 * (POST /v1/reports from an anonymous and from a signed-in caller, resolve, reopen). The
 * body goes through exactly what dir_write_handle (dir_report for reports) runs before
 * PostgreSQL: dir_write_body_parse (JSON object, duplicate keys refused) and dir_write_check
 * (dir_report_check, dir_report_action_check) against a small fixed snapshot (areas down to a
 * community, area groups, taxonomy codes, organisations, people, a programme). Then:
 *   - a refused body must give a 400 problem (reports: 400, 401 or 404) whose rendered answer
 *     (dir_problem_respond) is valid UTF-8 JSON naming at least one field;
 *   - an accepted body must give a write of at most DIR_DB_MAX_SETS columns, each value
 *     valid UTF-8; an accepted report a known entity and a message of 1 to 2,000 characters
 *     (a contact of 1 to 200, a note of 1 to 2,000) without control characters.
 * abort() otherwise. Linked with libFuzzer (-DDIRECTORYD_FUZZ=ON) or replay_main.c (ctest
 * replays tests/fuzz/corpus/write_json and tests/fuzz/regress/write_json). Seed files start
 * with the route byte ('0' + route number keeps them readable).
 */
#include "dir_http.h"
#include "dir_model.h"
#include "dir_problem.h"
#include "dir_report.h"
#include "dir_text.h"
#include "dir_write.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct dir_model *fz_model;
static long long fz_ldap_person = 2, fz_person = 1, fz_org = 1, fz_programme = 1;

static const struct {
    const char *entity, *action;
    int target; /* 0 create; 1 the organisation / person / programme; 2 the LDAP person;
                   3 the community; 4 the area group; reports: 0 anonymous, 1 signed in */
} fz_routes[] = {
    {"organization", "create", 0}, {"organization", "update", 1}, {"organization", "close", 1},
    {"organization", "reopen", 1}, {"organization", "verify", 1}, {"person", "create", 0},
    {"person", "update", 1},       {"person", "update", 2},       {"person", "deactivate", 1},
    {"person", "reactivate", 1},   {"area", "create", 0},         {"area", "update", 3},
    {"area_group", "create", 0},   {"area_group", "update", 4},   {"programme", "create", 0},
    {"programme", "update", 1},    {"api_client", "create", 0},   {"staff_role", "update", 0},
    {"report", "create", 0},       {"report", "create", 1},       {"report", "resolve", 1},
    {"report", "reopen", 1},
};
#define FZ_NROUTES (sizeof fz_routes / sizeof fz_routes[0])

static struct dir_model *fz_build(void)
{
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", NULL, NAN, NAN, true,
                       1);
    dir_model_add_area(b, "1001", "district", "10", "พระนคร", "Phra Nakhon", NULL, 13.75, 100.49,
                       false, 1);
    dir_model_add_area(b, "1002", "district", "10", "ดุสิต", "Dusit", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "100101", "subdistrict", "1001", "พระบรมมหาราชวัง",
                       "Phra Borom Maha "
                       "Ratchawang",
                       "10200", NAN, NAN, true, 1);
    dir_model_add_area(b, "C1001-0001", "community", "100101", "ชุมชนหนึ่ง", "Community One", NULL,
                       NAN, NAN, true, 3);
    dir_model_add_group(b, "BKK-N", "zone", NULL, "10", "กลุ่มเขตเหนือ", "North zone", 1);
    dir_model_add_group_member(b, "BKK-N", "1002");
    static const char *const tax[][2] = {
        {"counselling", "0"},  {"shelter", "0"},      {"children", "1"},
        {"youth", "1"},        {"ngo", "2"},          {"hospital", "2"},
        {"government", "3"},   {"ngo", "3"},          {"social_worker", "4"},
        {"psychologist", "4"}, {"case_manager", "5"}, {"district_welfare", "5"}};
    for (size_t i = 0; i < sizeof tax / sizeof tax[0]; i++)
        dir_model_add_taxon(b, (enum dir_tax_kind)(tax[i][1][0] - '0'), tax[i][0], "ไทย", tax[i][0],
                            NULL, NULL);
    for (int i = 1; i <= 3; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "org-%d", i);
        struct dir_org_row o = {.id = i,
                                .ref = ref,
                                .name_th = "ศูนย์",
                                .name_en = "Centre",
                                .type = "ngo",
                                .sector = "ngo",
                                .area_code = "1001",
                                .parent_id = i > 1 ? 1 : 0,
                                .version = 1};
        dir_model_add_org(b, &o);
    }
    struct dir_person_row p1 = {.id = fz_person,
                                .username = "somchai",
                                .name_th = "สมชาย ใจดี",
                                .source = "manual",
                                .active = true,
                                .version = 2};
    struct dir_person_row p2 = {.id = fz_ldap_person,
                                .username = "ldap.user",
                                .name_th = "สมหญิง",
                                .source = "ldap",
                                .active = true,
                                .version = 1};
    dir_model_add_person(b, &p1);
    dir_model_add_person(b, &p2);
    dir_model_add_membership(b, 1, 1, 1, "case_manager", NULL, NULL);
    struct dir_programme_row pr = {.id = fz_programme,
                                   .ref = "prog-1",
                                   .name_th = "โครงการ",
                                   .source = "manual",
                                   .version = 1};
    dir_model_add_programme(b, &pr);
    struct dir_model *m = NULL;
    char err[128];
    if (dir_model_finish(b, 1, &m, err, sizeof err) != DIR_OK) {
        fprintf(stderr, "fuzz_write_json: model: %s\n", err);
        abort();
    }
    return m;
}

static void fz_release(void)
{
    dir_model_release(fz_model);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_model = fz_build();
    atexit(fz_release);
    return 0;
}

/* The answer to a refused body: status STATUS, rendered JSON naming a field. */
static void fz_check_problem(const struct dir_problem *p)
{
    json_error_t e;
    struct dir_http_resp resp = {0};
    dir_buf_init(&resp.body, 1 << 20);
    dir_problem_respond(p, "/v1/fuzz", &resp);
    json_t *ans = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, &e) : NULL;
    if ((resp.status != 400 && resp.status != 401 && resp.status != 404) || !ans ||
        !json_array_size(json_object_get(ans, "errors"))) {
        fprintf(stderr, "fuzz_write_json: the %d answer is not JSON with errors: %.*s\n",
                resp.status, (int)resp.body.len, resp.body.data ? resp.body.data : "");
        abort();
    }
    json_decref(ans);
    dir_buf_free(&resp.body);
}

/* A checked text: MIN..MAX characters, valid UTF-8, no control characters but tab and line
 * breaks when MULTILINE, no white space at either end. */
static void fz_check_text(const char *what, const char *s, size_t min, size_t max, bool multiline)
{
    if (!s) {
        if (min) abort();
        return;
    }
    size_t n = strlen(s), chars;
    enum dir_report_text_error why;
    char *again = dir_report_text(s, n, max, multiline, &why);
    chars = dir_text_utf8_valid(s, n) ? dir_text_utf8_len(s) : 0;
    if (!again || strcmp(again, s) != 0 || chars < (min ? min : 1) || chars > max) {
        fprintf(stderr, "fuzz_write_json: the report's %s was let through: %s\n", what, s);
        abort();
    }
    free(again);
}

static void fz_report(const char *action, int target, json_t *body)
{
    if (strcmp(action, "create") == 0) {
        struct dir_report_input *in = calloc(1, sizeof *in);
        if (!in) abort();
        if (!dir_report_check(fz_model, target ? DIR_ROLE_CASEWORKER : DIR_ROLE_ANON, body, in)) {
            fz_check_problem(&in->prob);
        } else {
            const char *e = in->r.entity;
            if (!e || !in->r.entity_id[0] ||
                (strcmp(e, "organization") && strcmp(e, "person") && strcmp(e, "area")) ||
                (!target && strcmp(e, "person") == 0))
                abort();
            fz_check_text("message", in->r.message, 1, DIR_REPORT_MAX_MESSAGE, true);
            fz_check_text("contact", in->r.contact, 0, DIR_REPORT_MAX_CONTACT, false);
        }
        dir_report_input_free(in);
        free(in);
        return;
    }
    struct dir_problem *p = calloc(1, sizeof *p);
    char *note = NULL;
    const char *resolution = NULL;
    if (!p) abort();
    if (!dir_report_action_check(body, strcmp(action, "resolve") == 0, &note, &resolution, p))
        fz_check_problem(p);
    else
        fz_check_text("note", note, 0, DIR_REPORT_MAX_MESSAGE, true);
    free(note);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned r = (unsigned)(data[0] >= '0' ? data[0] - '0' : data[0]) % FZ_NROUTES;
    json_error_t e;
    json_t *body = dir_write_body_parse((const char *)data + 1, size - 1, &e);
    if (!body) return 0;
    if (strcmp(fz_routes[r].entity, "report") == 0) {
        fz_report(fz_routes[r].action, fz_routes[r].target, body);
        json_decref(body);
        return 0;
    }
    struct dir_write_check *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->m = fz_model;
    c->actor = "fuzz.coordinator";
    switch (fz_routes[r].target) {
    case 1:
        c->w.id = strcmp(fz_routes[r].entity, "programme") == 0 ? fz_programme
                  : strcmp(fz_routes[r].entity, "person") == 0  ? fz_person
                                                                : fz_org;
        break;
    case 2:
        c->w.id = fz_ldap_person;
        break;
    case 3:
        c->w.code = "C1001-0001";
        break;
    case 4:
        c->w.code = "BKK-N";
        break;
    default:
        break;
    }
    dir_write_check(c, body, fz_routes[r].entity, fz_routes[r].action, fz_routes[r].target == 2);
    if (c->prob.nerrors) {
        struct dir_http_resp resp = {0};
        dir_buf_init(&resp.body, 1 << 20);
        dir_problem_respond(&c->prob, "/v1/fuzz", &resp);
        json_t *ans = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, &e) : NULL;
        if (resp.status != 400 || !ans || !json_array_size(json_object_get(ans, "errors"))) {
            fprintf(stderr, "fuzz_write_json: the 400 answer is not JSON with errors (%d): %.*s\n",
                    resp.status, (int)resp.body.len, resp.body.data ? resp.body.data : "");
            abort();
        }
        json_decref(ans);
        dir_buf_free(&resp.body);
    } else {
        if (c->w.nsets < 0 || c->w.nsets > DIR_DB_MAX_SETS) abort();
        for (int i = 0; i < c->w.nsets; i++) {
            const char *v = c->w.sets[i].val;
            if (!c->w.sets[i].col || (v && !dir_text_utf8_valid(v, strlen(v)))) {
                fprintf(stderr, "fuzz_write_json: column %s gets invalid UTF-8\n",
                        c->w.sets[i].col ? c->w.sets[i].col : "(null)");
                abort();
            }
        }
    }
    free(c);
    json_decref(body);
    return 0;
}
