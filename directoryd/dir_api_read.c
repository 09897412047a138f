/* dir_api_read.c - the JSON API's read routes: areas, area groups, taxonomies,
 * organisations, people, programmes, the change log, resolve and search, with the checks of
 * their query parameters. */
#include "dir_api_int.h"
#include "dir_entry.h"
#include "dir_filter.h"
#include "dir_hours.h"
#include "dir_query.h"
#include "dir_resolve.h"
#include "dir_text.h"
#include "dir_vcard_http.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESOLVE_LIMIT 10

static void not_found(struct call *c, const char *what, const char *key)
{
    struct dir_problem p;
    dir_problem_init(&p, 404, "not-found", "Not found", "No %s '%s'.", what, key);
    dir_api_problem(c, &p);
}

static void json_ok(struct call *c, enum dir_rc rc)
{
    if (rc == DIR_OK) {
        c->resp->status = 200;
        c->resp->content_type = "application/json; charset=utf-8";
        return;
    }
    struct dir_problem p;
    if (rc == DIR_ERR_LIMIT)
        dir_problem_init(&p, 413, "response-too-large", "Response too large",
                         "The answer is too large; ask for a smaller page with 'limit'.");
    else
        dir_problem_init(&p, 500, "internal", "Internal error", "The answer could not be built.");
    dir_api_problem(c, &p);
}

/* ---- parameters ---- */

static bool get_limit(struct call *c, int *limit)
{
    const char *v = dir_http_arg(c->req, "limit");
    long long n;
    *limit = DEFAULT_LIMIT;
    if (!v) return true;
    if (!dir_query_int(v, 1, MAX_LIMIT, &n)) {
        bad_param(c, "limit", "ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 500",
                  "'%s' is not a whole number from 1 to 500", SHOW(v));
        return false;
    }
    *limit = (int)n;
    return true;
}

/* A positive id (organisation, person, programme, list cursor). */
static bool parse_id(const char *s, long long *id)
{
    return dir_query_int(s, 1, LLONG_MAX, id);
}

static bool get_id_cursor(struct call *c, long long *after)
{
    const char *v = dir_http_arg(c->req, "cursor");
    *after = 0;
    if (v && !parse_id(v, after)) {
        bad_param(c, "cursor", "ตัวชี้หน้าไม่ถูกต้อง ใช้ค่า next จากคำตอบก่อนหน้า",
                  "'%s' is not a cursor from a previous answer's 'next'", SHOW(v));
        return false;
    }
    return true;
}

/* The folded q parameter (caller frees), or NULL when absent; false after a 400. */
static bool get_q(struct call *c, char **q)
{
    const char *v = dir_http_arg(c->req, "q");
    *q = NULL;
    if (!v) return true;
    size_t n = strlen(v);
    if (n > MAX_Q_BYTES || !dir_text_utf8_valid(v, n)) {
        bad_param(c, "q", "ข้อความค้นหาต้องเป็น UTF-8 และยาวไม่เกิน 200 ไบต์",
                  "search text must be UTF-8 of at most 200 bytes");
        return false;
    }
    *q = dir_text_fold_dup(v);
    if (!**q) {
        free(*q);
        *q = NULL;
    }
    return true;
}

static bool get_area(struct call *c, const char *name, int *area)
{
    const char *v = dir_http_arg(c->req, name);
    *area = -1;
    if (!v) return true;
    *area = dir_model_area(c->m, v);
    if (*area < 0) {
        bad_param(c, name, "ไม่พบรหัสพื้นที่นี้", "no area has code '%s'", SHOW(v));
        return false;
    }
    return true;
}

static bool get_taxon(struct call *c, const char *name, enum dir_tax_kind kind, int *idx)
{
    const char *v = dir_http_arg(c->req, name);
    *idx = -1;
    if (!v) return true;
    *idx = dir_model_taxon(c->m, kind, v);
    if (*idx < 0) {
        bad_param(c, name, "ไม่รู้จักรหัสนี้", "unknown code '%s'", SHOW(v));
        return false;
    }
    return true;
}

/* ---- endpoints ---- */

void dir_api_list_areas(struct call *c)
{
    struct dir_area_filter f = {.kind = -1, .parent = -1};
    int limit;
    char *q = NULL;
    if (!get_limit(c, &limit) || !get_area(c, "parent", &f.parent)) return;
    const char *kind = dir_http_arg(c->req, "kind");
    if (kind && (f.kind = dir_model_area_kind_parse(kind)) < 0) {
        bad_param(c, "kind", "ใช้ country, province, district, subdistrict หรือ community",
                  "'%s' is not one of country, province, district, subdistrict, community",
                  SHOW(kind));
        return;
    }
    if (!get_q(c, &q)) return;
    f.q = q;
    json_ok(c, dir_query_areas(c->m, &f, dir_http_arg(c->req, "cursor"), limit, &c->resp->body));
    free(q);
}

void dir_api_get_area_detail(struct call *c, const char *code)
{
    int a = dir_model_area(c->m, code);
    if (a < 0) return not_found(c, "area", code);
    snprintf(c->resp->etag, sizeof c->resp->etag, "\"%d\"", c->m->areas[a].version);
    json_ok(c, dir_query_area(c->m, a, &c->resp->body));
}

void dir_api_list_groups(struct call *c)
{
    const char *kind = dir_http_arg(c->req, "kind");
    if (kind && strcmp(kind, "zone") && strcmp(kind, "subzone") && strcmp(kind, "other")) {
        bad_param(c, "kind", "ใช้ zone, subzone หรือ other",
                  "'%s' is not one of zone, subzone, other", SHOW(kind));
        return;
    }
    json_ok(c, dir_query_groups(c->m, kind, &c->resp->body));
}

void dir_api_list_taxa(struct call *c, enum dir_tax_kind kind)
{
    json_ok(c, dir_query_taxa(c->m, kind, &c->resp->body));
}

void dir_api_list_orgs(struct call *c)
{
    struct dir_org_filter f = {0};
    int limit, type;
    long long after;
    char *q = NULL;
    if (!get_limit(c, &limit) || !get_id_cursor(c, &after) || !get_area(c, "area", &f.area) ||
        !get_taxon(c, "service", DIR_TAX_SERVICE, &f.service) ||
        !get_taxon(c, "group", DIR_TAX_TARGET_GROUP, &f.group) ||
        !get_taxon(c, "type", DIR_TAX_ORG_TYPE, &type))
        return;
    f.type = type >= 0 ? c->m->tax[DIR_TAX_ORG_TYPE][type].code : NULL;
    f.status = dir_http_arg(c->req, "status");
    if (f.status && strcmp(f.status, "active") && strcmp(f.status, "closed") &&
        strcmp(f.status, "moved")) {
        bad_param(c, "status", "ใช้ active, closed หรือ moved",
                  "'%s' is not one of active, closed, moved", SHOW(f.status));
        return;
    }
    const char *zone = dir_http_arg(c->req, "zone"); /* uiprint: the printed directory's zone */
    if (zone) {
        int g = dir_model_group(c->m, zone);
        if (g < 0) {
            bad_param(c, "zone", "ไม่พบกลุ่มเขตนี้", "no area group has code '%s'", SHOW(zone));
            return;
        }
        f.zone = &c->m->groups[g];
    }
    const char *parent = dir_http_arg(c->req, "parent");
    if (parent) {
        /* The parent by id or ref, as /v1/organizations/{id} finds it. */
        long long id;
        int o =
            parse_id(parent, &id) ? dir_model_org(c->m, id) : dir_model_org_by_ref(c->m, parent);
        if (o < 0) {
            bad_param(c, "parent", "ไม่พบหน่วยงานแม่นี้", "no organisation has id or ref '%s'",
                      SHOW(parent));
            return;
        }
        f.parent = dir_model_org_at(c->m, o)->id;
    }
    if (!get_q(c, &q)) return;
    f.q = q;
    json_ok(c, dir_query_orgs(c->m, &f, after, limit, c->role >= DIR_ROLE_CASEWORKER,
                              dir_hours_now(), &c->resp->body));
    free(q);
}

void dir_api_get_org(struct call *c, const char *key)
{
    long long id;
    int o = parse_id(key, &id) ? dir_model_org(c->m, id) : dir_model_org_by_ref(c->m, key);
    if (o < 0) return not_found(c, "organization", key);
    const struct dir_org *org = dir_model_org_at(c->m, o);
    snprintf(c->resp->etag, sizeof c->resp->etag, c->vcard ? "\"%d-vcf\"" : "\"%d\"", org->version);
    if (c->vcard)
        return dir_vcard_http_org(c->resp, c->path, c->m, org, c->role >= DIR_ROLE_CASEWORKER,
                                  c->attach);
    json_ok(c, dir_model_org_json(c->m, org, c->role >= DIR_ROLE_CASEWORKER, dir_hours_now(),
                                  &c->resp->body));
}

static bool need_key(struct call *c)
{
    if (c->role >= DIR_ROLE_CASEWORKER) return true;
    struct dir_problem p;
    dir_problem_init(&p, 401, "unauthorized", "Authentication required",
                     "People are shown to authenticated callers only: send "
                     "'Authorization: Bearer <API key>'.");
    dir_api_problem(c, &p);
    return false;
}

void dir_api_list_people(struct call *c)
{
    struct dir_person_filter f = {.area = -1, .org = -1};
    int limit;
    long long after, org_id;
    char *q = NULL;
    if (!need_key(c) || !get_limit(c, &limit) || !get_id_cursor(c, &after) ||
        !get_area(c, "area", &f.area))
        return;
    const char *org = dir_http_arg(c->req, "org");
    if (org && (!parse_id(org, &org_id) || (f.org = dir_model_org(c->m, org_id)) < 0)) {
        bad_param(c, "org", "ไม่พบหน่วยงานนี้", "no organization has id '%s'", SHOW(org));
        return;
    }
    f.role = dir_http_arg(c->req, "role");
    if (f.role && dir_model_taxon(c->m, DIR_TAX_TEAM_ROLE, f.role) < 0 &&
        dir_model_taxon(c->m, DIR_TAX_PROFESSION, f.role) < 0) {
        bad_param(c, "role", "ไม่รู้จักบทบาทหรือวิชาชีพนี้",
                  "'%s' is neither a team role nor a profession code", SHOW(f.role));
        return;
    }
    if (!get_q(c, &q)) return;
    f.q = q;
    json_ok(c, dir_query_people(c->m, &f, after, limit, &c->resp->body));
    free(q);
}

void dir_api_get_person(struct call *c, const char *key)
{
    long long id;
    if (!need_key(c)) return;
    int p = parse_id(key, &id) ? dir_model_person(c->m, id) : -1;
    if (p < 0) return not_found(c, "person", key);
    const struct dir_person *person = dir_model_person_at(c->m, p);
    snprintf(c->resp->etag, sizeof c->resp->etag, c->vcard ? "\"%d-vcf\"" : "\"%d\"",
             person->version);
    if (c->vcard) return dir_vcard_http_person(c->resp, c->path, c->m, person, true, c->attach);
    json_ok(c, dir_model_person_json(c->m, person, true, &c->resp->body));
}

void dir_api_resolve(struct call *c, const char *central_ref)
{
    struct dir_resolve_req rq = {.people = c->role >= DIR_ROLE_CASEWORKER,
                                 .central_ref = central_ref,
                                 .now = dir_hours_now()};
    if (!get_limit(c, &rq.limit) || !get_area(c, "area", &rq.area) ||
        !get_taxon(c, "need", DIR_TAX_SERVICE, &rq.need) ||
        !get_taxon(c, "group", DIR_TAX_TARGET_GROUP, &rq.group))
        return;
    if (rq.area < 0) {
        bad_param(c, "area", "ต้องระบุรหัสพื้นที่ (เขต แขวง หรือชุมชน)",
                  "required: the code of a district, sub-district or community");
        return;
    }
    if (!dir_http_arg(c->req, "limit"))
        rq.limit = RESOLVE_LIMIT; /* a handoff needs the best few, not a list */
    const char *ex = dir_http_arg(c->req, "explain");
    if (ex && strcmp(ex, "1") && strcmp(ex, "0") && strcmp(ex, "true") && strcmp(ex, "false")) {
        bad_param(c, "explain", "ใช้ 1 หรือ 0", "'%s' is not 1 or 0", SHOW(ex));
        return;
    }
    rq.explain = ex && (strcmp(ex, "1") == 0 || strcmp(ex, "true") == 0);
    const char *why = NULL;
    if (c->vcard) {
        struct dir_resolve_hit *hits;
        int n;
        if (dir_resolve_hits(c->m, &rq, &hits, &n, &why) == DIR_ERR_INVALID) {
            bad_param(c, "area", "ต้องเป็นรหัสเขต แขวง หรือชุมชน", "%s", why);
            return;
        }
        dir_vcard_http_hits(c->resp, c->path, c->m, hits, n, rq.people);
        free(hits);
        return;
    }
    enum dir_rc rc = dir_resolve(c->m, &rq, &c->resp->body, &why);
    if (rc == DIR_ERR_INVALID) {
        bad_param(c, "area", "ต้องเป็นรหัสเขต แขวง หรือชุมชน", "%s", why);
        return;
    }
    json_ok(c, rc);
}

/* The change log for mirrors: changes with seq > since, oldest first. */
void dir_api_changes(struct call *c)
{
    int limit;
    long long since = 0;
    if (!get_limit(c, &limit)) return;
    const char *v = dir_http_arg(c->req, "since");
    if (v && !dir_query_int(v, 0, LLONG_MAX, &since)) {
        bad_param(c, "since", "ต้องเป็นเลขลำดับการเปลี่ยนแปลง (seq)",
                  "'%s' is not a change sequence number", SHOW(v));
        return;
    }
    const struct dir_model *m = c->m;
    /* Changes after SINCE are all kept when SINCE >= oldest - 1 (no overflow: SINCE may be
     * any non-negative number, a seq is far from LLONG_MAX); 0 is "from the oldest kept". */
    long long oldest = m->nchanges ? m->changes[0].seq : m->seq + 1;
    if (since > 0 && since < oldest - 1 && since < m->seq) {
        struct dir_problem p;
        dir_problem_init(
            &p, 410, "changes-expired", "Changes no longer kept",
            "Changes after %lld are no longer kept (the oldest kept is %lld); read the "
            "lists again and follow the changes from the 'seq' of /healthz.",
            since, oldest);
        dir_problem_add(&p, "since", "เก่าเกินไป ให้อ่านข้อมูลทั้งหมดใหม่", "too old: resynchronise");
        dir_api_problem(c, &p);
        return;
    }
    /* Binary search for the first change after SINCE. */
    int lo = 0, hi = m->nchanges;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (m->changes[mid].seq <= since)
            lo = mid + 1;
        else
            hi = mid;
    }
    struct dir_buf *b = &c->resp->body;
    enum dir_rc rc = dir_buf_printf(b, "{\"seq\":%lld,\"items\":[", m->seq);
    int n = 0;
    for (int i = lo; !rc && i < m->nchanges && n < limit; i++, n++) {
        const struct dir_change *ch = &m->changes[i];
        rc = dir_buf_printf(b, "%s{\"seq\":%lld,\"entity\":", n ? "," : "", ch->seq);
        if (!rc) rc = dir_buf_add_json_str(b, ch->entity);
        if (!rc) rc = dir_buf_adds(b, ",\"id\":");
        if (!rc) rc = dir_buf_add_json_str(b, ch->id ? ch->id : "");
        if (!rc) rc = dir_buf_printf(b, ",\"op\":\"%s\",\"at\":\"%s\"}", ch->op, ch->at);
    }
    bool more = lo + n < m->nchanges;
    if (!rc)
        rc = more ? dir_buf_printf(b, "],\"next\":\"%lld\"}", m->changes[lo + n - 1].seq)
                  : dir_buf_adds(b, "],\"next\":null}");
    json_ok(c, rc);
}

void dir_api_programmes(struct call *c, const char *key)
{
    const struct dir_model *m = c->m;
    if (*key) {
        long long id = 0;
        int i =
            parse_id(key, &id) ? dir_model_programme(m, id, NULL) : dir_model_programme(m, 0, key);
        if (i < 0) return not_found(c, "programme", key);
        snprintf(c->resp->etag, sizeof c->resp->etag, "\"%d\"", m->programmes[i].version);
        json_ok(c, dir_buf_add(&c->resp->body, m->programmes[i].json.s, m->programmes[i].json.len));
        return;
    }
    enum dir_rc rc = dir_buf_adds(&c->resp->body, "{\"items\":[");
    for (int i = 0; !rc && i < m->nprogrammes; i++) {
        if (i) rc = dir_buf_adds(&c->resp->body, ",");
        if (!rc)
            rc = dir_buf_add(&c->resp->body, m->programmes[i].json.s, m->programmes[i].json.len);
    }
    json_ok(c, rc ? rc : dir_buf_adds(&c->resp->body, "],\"next\":null}"));
}

static void search_in(struct call *c, struct dir_model *m);

/* GET /v1/search over the LDAP view. A cursor is the DN of the last entry of the previous
 * page; it is accepted only when the caller may see that entry, and refused with the same
 * answer as an unknown one, so that cursors cannot tell whether a hidden entry exists. */
void dir_api_search(struct call *c)
{
    /* The newest version whose LDAP view is built: a request never builds one (live). */
    struct dir_model *vm = c->refresh ? dir_refresh_acquire_warm(c->refresh) : NULL;
    if (vm) {
        search_in(c, vm);
        dir_model_release(vm);
    } else {
        search_in(c, c->m);
    }
}

static void search_in(struct call *c, struct dir_model *m)
{
    const char *cursor = dir_http_arg(c->req, "cursor");
    if (cursor) {
        struct dir_filter *f = NULL;
        struct dir_filter_error ferr;
        static const char all[] = "(objectClass=*)";
        enum dir_rc rc = dir_filter_parse(all, sizeof all - 1, &f, &ferr);
        struct dir_entry_search s = {.base = cursor,
                                     .scope = DIR_SCOPE_BASE,
                                     .filter = f,
                                     .role = c->role,
                                     .sort_attr = -1,
                                     .after = -1};
        struct dir_entry_result r = {0};
        if (!rc) rc = dir_entry_search(dir_entry_view(m), &s, &r, NULL);
        bool seen = !rc && r.n == 1;
        free(r.idx);
        dir_filter_free(f);
        if (!seen) {
            bad_param(c, "cursor", "ตัวชี้หน้าไม่ถูกต้อง ใช้ค่า next จากคำตอบก่อนหน้า",
                      "not a cursor from a previous answer's 'next'");
            return;
        }
    }
    if (c->vcard)
        dir_vcard_http_search(m, c->role, c->req, c->resp);
    else
        dir_entry_http_search(m, c->role, c->req, c->resp);
}
