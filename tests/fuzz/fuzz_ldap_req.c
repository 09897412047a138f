/* fuzz_ldap_req.c - fuzz target: one whole LDAP request, from bytes to the operation the
 * server would run.
 *
 * The input is one LDAPMessage as a client sends it (tag, length, messageID, protocolOp,
 * controls). Each input goes through the code the LDAP face runs:
 *   1. dir_ldap_req_decode (the same decoder dir_ldap.c calls on every message read), twice:
 *      both results must agree (status, operation, fingerprint), else abort();
 *   2. the invariants of the result: MALFORMED and ANSWER carry a text; only an OK search
 *      has a filter; decoded lengths are consistent;
 *   3. an OK search runs as the server would run it over a small fixed snapshot: its base,
 *      scope, size limit, sort key and filter through dir_entry_search, for an anonymous and a
 *      caseworker caller, its attribute selection resolved, its paged cookie read as the
 *      server reads it; every entry returned must match the filter (dir_filter_match), else
 *      abort(). An OK compare is matched against its entry; binds, extended operations and
 *      abandon are checked for what the server reads of them.
 * Linked with libFuzzer (-DDIRECTORYD_FUZZ=ON) or with replay_main.c (ctest replays
 * tests/fuzz/corpus/ldap_req and tests/fuzz/regress/ldap_req).
 */
#include "dir_entry.h"
#include "dir_filter.h"
#include "dir_ldap_req.h"
#include "dir_mem.h"
#include "dir_model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct dir_model *fz_model;
static const struct dir_entry_view *fz_view;

/* A small snapshot: areas, organisations with public and private contacts, people. */
static struct dir_model *fz_build(void)
{
    static const char *const th[] = {"สมชาย ใจดี", "สมหญิง รักเรียน", "นภา ศรีสุข"};
    static const char *const en[] = {"Somchai Jaidee", "Somying Rakrian", NULL};
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    dir_model_add_area(b, "10", "province", "TH", "กรุงเทพมหานคร", "Bangkok", "10200", 13.75, 100.5,
                       false, 1);
    dir_model_add_area(b, "1007", "district", "10", "ปทุมวัน", "Pathum Wan", NULL, NAN, NAN, true, 1);
    for (int i = 1; i <= 2; i++) {
        char ref[16], nen[32];
        snprintf(ref, sizeof ref, "org-%d", i);
        snprintf(nen, sizeof nen, "Help Centre %d", i);
        struct dir_org_row o = {.id = i,
                                .ref = ref,
                                .name_th = "ศูนย์ช่วยเหลือ",
                                .name_en = nen,
                                .type = "ngo",
                                .sector = "ngo",
                                .area_code = "1007",
                                .version = 1};
        dir_model_add_org(b, &o);
        struct dir_contact_row c = {
            .org_id = i, .kind = "email", .value = "help@example.org", .is_public = i == 1};
        dir_model_add_contact(b, &c);
    }
    for (int i = 0; i < 3; i++) {
        char uid[32];
        snprintf(uid, sizeof uid, "person-%d", i);
        struct dir_person_row p = {.id = i + 1,
                                   .username = uid,
                                   .name_th = th[i],
                                   .name_en = en[i],
                                   .profession = i % 2 ? "social_worker" : "psychologist",
                                   .source = "manual",
                                   .active = true,
                                   .version = 1};
        dir_model_add_person(b, &p);
        struct dir_contact_row ph = {
            .person_id = i + 1, .kind = "mobile", .value = "081-234-5678", .is_public = false};
        dir_model_add_contact(b, &ph);
        dir_model_add_membership(b, i + 1, i + 1, 1 + i % 2, "case_manager", NULL, NULL);
    }
    struct dir_model *m = NULL;
    char err[128];
    if (dir_model_finish(b, 1, &m, err, sizeof err) != DIR_OK) {
        fprintf(stderr, "fuzz_ldap_req: model: %s\n", err);
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

static void fz_check_str(const struct dir_ldap_str *s)
{
    if (s->p && s->p[s->n] != '\0') abort();
    if (!s->p && s->n) abort();
}

/* Runs an OK search as dir_ldap.c's do_search would, for ROLE. */
static void fz_search(struct dir_ldap_req *q, enum dir_role role)
{
    if (strlen(q->search.base.p) != q->search.base.n) return; /* the server refuses it */
    struct dir_entry_search s = {.base = q->search.base.p,
                                 .scope = (enum dir_scope)q->search.scope,
                                 .filter = q->search.filter,
                                 .role = role,
                                 .size_limit =
                                     q->search.size_limit > 50 ? 50 : q->search.size_limit,
                                 .sort_attr = -1,
                                 .after = -1};
    if (q->sort.present) {
        s.sort_attr = dir_entry_attr_find(q->sort.attr);
        s.sort_reverse = q->sort.reverse;
    }
    struct dir_entry_result r;
    const char *matched = NULL;
    if (dir_entry_search(fz_view, &s, &r, &matched) != DIR_OK) return;
    bool see_private = role >= DIR_ROLE_CASEWORKER;
    for (int i = 0; i < r.n; i++) {
        const struct dir_entry *e = dir_entry_at(fz_view, r.idx[i]);
        struct dir_fentry fe = {e->attrs, e->nattrs, e->ndn, see_private};
        if ((e->priv && !see_private) || dir_filter_match(q->search.filter, &fe) != DIR_TRUE) {
            fprintf(stderr, "fuzz_ldap_req: %s returned but does not match\n", e->dn);
            abort();
        }
    }
    free(r.idx);
}

static void fz_ok(struct dir_ldap_req *q)
{
    switch (q->op) {
    case DIR_LDAP_OP_SEARCH: {
        if (!q->search.filter || q->search.scope < 0 || q->search.scope > 2 ||
            q->search.size_limit < 0 || q->search.nattrs < 0)
            abort();
        fz_check_str(&q->search.base);
        int sel = 0;
        for (int i = 0; i < q->search.nattrs; i++)
            if (strcmp(q->search.attrs[i], "*") && strcmp(q->search.attrs[i], "+") &&
                strcmp(q->search.attrs[i], "1.1") && dir_entry_attr_find(q->search.attrs[i]) >= 0)
                sel++;
        (void)sel;
        if (q->paged.present) { /* the cookie as the server reads it */
            uint64_t ck = 0;
            for (size_t i = 0; i < 8 && i < q->paged.cookie_len && i < DIR_LDAP_COOKIE_MAX; i++)
                ck |= (uint64_t)q->paged.cookie[i] << (8 * i);
            if (q->paged.size < 0) abort();
            (void)ck;
        }
        if (q->sort.present && (!q->sort.attr || q->sort.nkeys < 1)) abort();
        fz_search(q, DIR_ROLE_ANON);
        fz_search(q, DIR_ROLE_CASEWORKER);
        break;
    }
    case DIR_LDAP_OP_COMPARE: {
        fz_check_str(&q->compare.dn);
        fz_check_str(&q->compare.attr);
        fz_check_str(&q->compare.value);
        struct dir_filter *f = dir_filter_new(DIR_FILTER_EQUALITY);
        dir_filter_set_attr(f, q->compare.attr.p, q->compare.attr.n);
        dir_filter_set_value(f, q->compare.value.p, q->compare.value.n);
        struct dir_entry_search s = {.base = q->compare.dn.p,
                                     .scope = DIR_SCOPE_BASE,
                                     .role = DIR_ROLE_CASEWORKER,
                                     .sort_attr = -1,
                                     .after = -1};
        struct dir_entry_result r;
        const char *matched;
        if (strlen(q->compare.dn.p) == q->compare.dn.n &&
            dir_entry_search(fz_view, &s, &r, &matched) == DIR_OK) {
            dir_filter_prepare(f, dir_entry_resolve, NULL);
            const struct dir_entry *e = dir_entry_at(fz_view, r.base);
            struct dir_fentry fe = {e->attrs, e->nattrs, e->ndn, true};
            (void)dir_filter_match(f, &fe);
            free(r.idx);
        }
        dir_filter_free(f);
        break;
    }
    case DIR_LDAP_OP_BIND:
        fz_check_str(&q->bind.name);
        fz_check_str(&q->bind.password);
        if (q->bind.version < 1 || q->bind.version > 127) abort();
        break;
    case DIR_LDAP_OP_EXTENDED:
        fz_check_str(&q->extended.oid);
        if (strcmp(q->extended.oid.p, DIR_LDAP_OID_WHOAMI) &&
            strcmp(q->extended.oid.p, DIR_LDAP_OID_STARTTLS))
            abort(); /* every other OID is answered by the decoder */
        if (q->extended.has_value) abort();
        break;
    case DIR_LDAP_OP_ABANDON:
        if (q->abandon_id < 0) abort();
        break;
    case DIR_LDAP_OP_UNBIND:
        break;
    default:
        abort(); /* writes are always answered by the decoder */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dir_ldap_req a, b;
    enum dir_ldap_req_status st = dir_ldap_req_decode(data, size, &a);
    enum dir_ldap_req_status st2 = dir_ldap_req_decode(data, size, &b);
    if (st != st2 || a.op != b.op || a.msgid != b.msgid ||
        memcmp(a.fingerprint, b.fingerprint, sizeof a.fingerprint) != 0) {
        fprintf(stderr, "fuzz_ldap_req: two decodes of the same bytes differ\n");
        abort();
    }
    dir_ldap_req_free(&b);
    if (a.msgid < 0) abort();
    if (st != DIR_LDAP_REQ_OK) {
        if (!a.text || a.search.filter) abort();
    } else {
        fz_ok(&a);
    }
    dir_ldap_req_free(&a);
    return 0;
}
