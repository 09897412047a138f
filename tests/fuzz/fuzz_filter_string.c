/* fuzz_filter_string.c - fuzz target: RFC 4515 string filters, the filter= of GET /v1/search.
 *
 * The input is the filter text, as the API hands it over. Each input goes through what the
 * search route does and more:
 *   1. dir_filter_parse (bytes, any content, NULs included);
 *   2. when it parses: dir_filter_to_string, which must parse again and print the same text
 *      (the printed form is canonical), else abort();
 *   3. dir_entry_search over a small fixed snapshot (Thai and Latin people, organisations,
 *      areas, private and public contacts) with several bases, scopes, roles and size limits,
 *      and the same search as a plain scan with dir_filter_match over every entry in scope:
 *      the indexed search and the scan must return the same entries (abort() otherwise).
 * Linked with libFuzzer (-DDIRECTORYD_FUZZ=ON) or with replay_main.c (ctest replays
 * tests/fuzz/corpus/filter_string and tests/fuzz/regress/filter_string).
 */
#include "dir_entry.h"
#include "dir_filter.h"
#include "dir_mem.h"
#include "dir_model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_SUFFIX DIR_ENTRY_DEFAULT_SUFFIX

static struct dir_model *fz_model;
static const struct dir_entry_view *fz_view;

/* A small snapshot with the shapes the filters meet in production. */
static struct dir_model *fz_build(void)
{
    static const char *const districts[][3] = {
        {"1001", "พระนคร", "Phra Nakhon"}, {"1002", "ดุสิต", "Dusit"}, {"1004", "บางรัก", "Bang Rak"}};
    static const char *const th[] = {"สมชาย ใจดี", "สมหญิง รักเรียน", "กขค ขคง กกก", "นภา  ศรีสุข", "ก"};
    static const char *const en[] = {"Somchai Jaidee", "Somying Rakrian", "Abc Bcd Aaa", NULL,
                                     "A*B(C)"};
    static const char *const mails[] = {"Somchai@Example.org", "somying@example.ORG", "x@y",
                                        "nul\\esc@example.org", ""};
    static const char *const phones[] = {"+66 2 123 4567", "02-123-4567", "0812345678", "1", ""};
    static const char *const roles[] = {"case_manager", "district_welfare", "volunteer"};
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", "10200", 13.75, 100.5,
                       false, 1);
    for (size_t i = 0; i < sizeof districts / sizeof districts[0]; i++)
        dir_model_add_area(b, districts[i][0], "district", "10", districts[i][1], districts[i][2],
                           NULL, NAN, NAN, true, 1);
    for (int i = 1; i <= 4; i++) {
        char ref[16], nth[64], nen[64];
        snprintf(ref, sizeof ref, "org-%d", i);
        snprintf(nth, sizeof nth, "ศูนย์ช่วยเหลือ %d", i);
        snprintf(nen, sizeof nen, "Help Centre %d", i);
        struct dir_org_row o = {.id = i,
                                .ref = ref,
                                .name_th = nth,
                                .name_en = i == 3 ? NULL : nen,
                                .type = "ngo",
                                .sector = i % 2 ? "ngo" : "government",
                                .parent_id = i > 2 ? i - 2 : 0,
                                .area_code = districts[i % 3][0],
                                .version = 1};
        dir_model_add_org(b, &o);
        struct dir_contact_row c = {.org_id = i,
                                    .kind = i % 2 ? "email" : "phone",
                                    .value = i % 2 ? mails[i] : phones[i],
                                    .is_public = i != 2};
        dir_model_add_contact(b, &c);
    }
    for (int i = 0; i < 10; i++) {
        char uid[32];
        snprintf(uid, sizeof uid, "person-%02d", i);
        struct dir_person_row p = {.id = i + 1,
                                   .username = i == 9 ? NULL : uid,
                                   .name_th = th[i % 5],
                                   .name_en = en[i % 5],
                                   .title_en = i % 3 ? "Social Worker" : NULL,
                                   .profession = i % 2 ? "social_worker" : "psychologist",
                                   .source = i % 4 ? "manual" : "ldap",
                                   .active = i != 7,
                                   .version = 1};
        dir_model_add_person(b, &p);
        struct dir_contact_row c = {
            .person_id = i + 1, .kind = "email", .value = mails[i % 5], .is_public = i % 2 == 0};
        if (*c.value) dir_model_add_contact(b, &c);
        struct dir_contact_row ph = {.person_id = i + 1,
                                     .kind = i % 2 ? "mobile" : "phone",
                                     .value = phones[i % 5],
                                     .is_public = i % 3 == 0};
        if (*ph.value) dir_model_add_contact(b, &ph);
        const char *role = roles[i % 3];
        dir_model_add_membership(b, i + 1, i + 1, 1 + i % 4, role, NULL, NULL);
        if (i % 3 == 1) dir_model_add_membership_area(b, i + 1, districts[i % 3][0], NULL);
    }
    struct dir_model *m = NULL;
    char err[128];
    if (dir_model_finish(b, 1, &m, err, sizeof err) != DIR_OK) {
        fprintf(stderr, "fuzz_filter_string: model: %s\n", err);
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
    fz_view = dir_entry_view(fz_model);
    return 0;
}

/* The reference search: every entry in scope, in tree order, through dir_filter_match. */
static void fz_scan(const struct dir_entry_search *s, int base, struct dir_entry_result *want)
{
    memset(want, 0, sizeof *want);
    want->idx = dir_xmalloc(sizeof(int) * (size_t)(dir_entry_count(fz_view) + 1));
    const struct dir_entry *be = dir_entry_at(fz_view, base);
    int hi = s->scope == DIR_SCOPE_BASE ? base + 1 : be->end;
    bool see_private = s->role >= DIR_ROLE_CASEWORKER;
    for (int e = base; e < hi; e++) {
        const struct dir_entry *en = dir_entry_at(fz_view, e);
        if (e <= s->after || en->gone || (s->scope == DIR_SCOPE_ONE && en->parent != base) ||
            (en->priv && !see_private))
            continue;
        struct dir_fentry fe = {en->attrs, en->nattrs, en->ndn, see_private};
        if (dir_filter_match(s->filter, &fe) != DIR_TRUE) continue;
        want->idx[want->n++] = e;
        if (s->size_limit > 0 && want->n > s->size_limit) {
            want->size_exceeded = true;
            break;
        }
    }
}

/* Searches with F (already prepared or not: dir_entry_search prepares it) and compares. */
static void fz_search(struct dir_filter *f, const char *base, enum dir_scope scope,
                      enum dir_role role, int limit, int after)
{
    struct dir_entry_search s = {.base = base,
                                 .scope = scope,
                                 .filter = f,
                                 .role = role,
                                 .size_limit = limit,
                                 .sort_attr = -1,
                                 .after = after};
    struct dir_entry_result got, want;
    const char *matched;
    enum dir_rc rc = dir_entry_search(fz_view, &s, &got, &matched);
    if (rc == DIR_ERR_NOTFOUND && role == DIR_ROLE_ANON)
        return; /* ou=people is not there for anonymous callers */
    if (rc != DIR_OK) {
        fprintf(stderr, "fuzz_filter_string: search of %s failed (%d)\n", base, (int)rc);
        abort();
    }
    fz_scan(&s, got.base, &want);
    if (got.n != want.n || got.size_exceeded != want.size_exceeded ||
        (got.n && memcmp(got.idx, want.idx, sizeof(int) * (size_t)got.n) != 0)) {
        fprintf(stderr,
                "fuzz_filter_string: base %s scope %d role %d limit %d after %d: "
                "index %d entries%s, scan %d%s\n",
                base, (int)scope, (int)role, limit, after, got.n,
                got.size_exceeded ? " (size exceeded)" : "", want.n,
                want.size_exceeded ? " (size exceeded)" : "");
        abort();
    }
    free(got.idx);
    free(want.idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dir_filter *f = NULL;
    struct dir_filter_error err;
    if (dir_filter_parse((const char *)data, size, &f, &err) != DIR_OK) {
        if (f || !err.reason || err.pos > size) abort();
        return 0;
    }
    /* The printed form parses again and prints the same. */
    struct dir_buf b1, b2;
    dir_buf_init(&b1, DIR_FILTER_MAX_LEN * 8);
    dir_buf_init(&b2, DIR_FILTER_MAX_LEN * 8);
    if (dir_filter_to_string(f, &b1) == DIR_OK) {
        struct dir_filter *g = NULL;
        if (dir_filter_parse(b1.data, b1.len, &g, &err) != DIR_OK) {
            fprintf(stderr, "fuzz_filter_string: printed form does not parse at %zu: %s\n", err.pos,
                    err.reason);
            abort();
        }
        if (dir_filter_to_string(g, &b2) != DIR_OK || b1.len != b2.len ||
            memcmp(b1.data, b2.data, b1.len) != 0) {
            fprintf(stderr, "fuzz_filter_string: printed form is not stable\n");
            abort();
        }
        dir_filter_free(g);
    }
    dir_buf_free(&b1);
    dir_buf_free(&b2);

    int n = dir_entry_count(fz_view);
    fz_search(f, FZ_SUFFIX, DIR_SCOPE_SUB, DIR_ROLE_CASEWORKER, 0, -1);
    fz_search(f, FZ_SUFFIX, DIR_SCOPE_SUB, DIR_ROLE_ANON, 3, -1);
    fz_search(f, "ou=people," FZ_SUFFIX, DIR_SCOPE_ONE, DIR_ROLE_ANON, 0, -1);
    fz_search(f, "OU=People, " FZ_SUFFIX, DIR_SCOPE_SUB, DIR_ROLE_CASEWORKER, 2, n / 2);
    fz_search(f, "ou=organizations," FZ_SUFFIX, DIR_SCOPE_ONE, DIR_ROLE_CASEWORKER, 1, -1);
    fz_search(f, FZ_SUFFIX, DIR_SCOPE_BASE, DIR_ROLE_ANON, 0, -1);
    dir_filter_free(f);
    return 0;
}
