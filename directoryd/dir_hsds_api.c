/* dir_hsds_api.c - the HSDS 3.0 read API at /hsds/ (Open Referral's openapi.json; see
 * docs/hsds.md): lists in the HSDS page envelope and single objects by their UUID, anonymous
 * and public data only, rendered from the snapshot a request holds (dir_hsds.h). */
#include "dir_hsds_api.h"
#include "dir_hsds.h"
#include "dir_hsds_export.h"
#include "dir_problem.h"
#include "dir_query.h"
#include "dir_text.h"
#include "dir_version.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PER_PAGE 50
#define MAX_PER_PAGE 500
#define MAX_SEARCH 200

/* One request's parameters and state. */
struct q {
    struct dir_route_ctx *x;
    struct dir_hsds h;
    char *search; /* folded, or NULL */
    int page, per_page;
    bool ndjson, full, full_service, minimal, top_only;
    int term_t, term_i; /* taxonomy_term_id: taxonomy and term (-1: none); -2: unknown id */
    int tax;            /* taxonomy_id: index, -1 none, -2 unknown */
    int org;            /* organization_id: org index, -1 none, -2 unknown */
    const char *after;  /* modified_after, or NULL */
    int *post, npost;   /* postcode: areas with that postal code */
    bool has_post;
    double prox;     /* proximity in metres, 0 = none */
    char **svc_fold; /* folded service names, per service taxon */
};

/* What the client sent, cut to valid UTF-8 for a problem (the buffer lives to the end of the
 * enclosing block). */
#define SHOW(v) show((v), (char[61]){0})
static const char *show(const char *v, char *buf)
{
    dir_text_utf8_clean(v, strlen(v), 60, buf);
    return buf;
}

#define problem(q, ...) dir_problem_bad_param(dir_http_path((q)->x->req), (q)->x->resp, __VA_ARGS__)

static void not_found(struct dir_route_ctx *x, const char *what, const char *id)
{
    struct dir_problem p;
    char shown[61];
    dir_text_utf8_clean(id, strlen(id), 60, shown);
    dir_problem_init(&p, 404, "not-found", "Not found", "No %s '%s'.", what, shown);
    dir_problem_respond(&p, dir_http_path(x->req), x->resp);
}

static bool get_bool(struct q *q, const char *name, bool *out)
{
    const char *v = dir_http_arg(q->x->req, name);
    *out = false;
    if (!v) return true;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = true;
    else if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0) {
        problem(q, name, "ใช้ true หรือ false", "'%s' is not true or false", SHOW(v));
        return false;
    }
    return true;
}

static bool get_int(struct q *q, const char *name, int def, int max, int *out)
{
    const char *v = dir_http_arg(q->x->req, name);
    *out = def;
    if (!v) return true;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 1 || n > max) {
        problem(q, name, "ต้องเป็นจำนวนเต็มบวก", "'%s' is not a whole number from 1 to %d", SHOW(v),
                max);
        return false;
    }
    *out = (int)n;
    return true;
}

/* The term whose id is ID: *T and *I, or false (through the snapshot's id index). */
static bool find_term(const struct dir_model *m, const char *id, int *t, int *i)
{
    struct dir_hsds_hit h;
    if (!dir_hsds_find(m, id, &h) || h.kind != DIR_HSDS_K_TERM) return false;
    *t = h.a;
    *i = h.b;
    return true;
}

static int find_taxonomy(const struct dir_model *m, const char *id)
{
    struct dir_hsds_hit h;
    return dir_hsds_find(m, id, &h) && h.kind == DIR_HSDS_K_TAXONOMY ? h.a : -1;
}

static int find_org(const struct dir_model *m, const char *id)
{
    struct dir_hsds_hit h;
    return dir_hsds_find(m, id, &h) && h.kind == DIR_HSDS_K_ORGANIZATION ? h.a : -1;
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS" with an optional "Z" (UTC, as last_modified is). */
static bool iso_ok(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd";
    size_t n = strlen(s);
    if (n == 20 && s[19] == 'Z') n = 19;
    if (n != 10 && n != 19) return false;
    for (size_t i = 0; i < n; i++)
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i]) return false;
    return true;
}

/* Reads the parameters into Q (the router has refused those the route does not declare);
 * false after answering 400. */
static bool parse(struct q *q, struct dir_route_ctx *x)
{
    memset(q, 0, sizeof *q);
    q->x = x;
    q->term_t = q->tax = q->org = -1;
    const char *fmt = dir_http_arg(x->req, "format");
    if (fmt && strcmp(fmt, "json") != 0 && strcmp(fmt, "ndjson") != 0) {
        problem(q, "format", "ใช้ json หรือ ndjson", "'%s' is not json or ndjson", SHOW(fmt));
        return false;
    }
    q->ndjson = fmt && strcmp(fmt, "ndjson") == 0;
    if (!get_int(q, "page", 1, 1000000, &q->page) ||
        !get_int(q, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE, &q->per_page) ||
        !get_bool(q, "full", &q->full) || !get_bool(q, "full_service", &q->full_service) ||
        !get_bool(q, "minimal", &q->minimal) || !get_bool(q, "top_only", &q->top_only))
        return false;
    const char *s = dir_http_arg(x->req, "search");
    if (s && *s) {
        if (strlen(s) > MAX_SEARCH || !dir_text_utf8_valid(s, strlen(s))) {
            problem(q, "search", "ข้อความค้นหายาวเกินไปหรือไม่ใช่ UTF-8",
                    "the text is longer than 200 bytes or not UTF-8");
            return false;
        }
        q->search = dir_text_fold_dup(s);
    }
    const struct dir_model *m = x->m;
    if ((s = dir_http_arg(x->req, "taxonomy_term_id")) && !find_term(m, s, &q->term_t, &q->term_i))
        q->term_t = -2;
    if ((s = dir_http_arg(x->req, "taxonomy_id")))
        q->tax = find_taxonomy(m, s) >= 0 ? find_taxonomy(m, s) : -2;
    if ((s = dir_http_arg(x->req, "organization_id"))) {
        q->org = find_org(m, s);
        if (q->org < 0) q->org = -2;
    }
    if ((s = dir_http_arg(x->req, "modified_after"))) {
        if (!iso_ok(s)) {
            problem(q, "modified_after", "ใช้วันเวลา UTC แบบ 2025-01-31T08:00:00Z",
                    "'%s' is not a UTC date-time like 2025-01-31T08:00:00Z", SHOW(s));
            return false;
        }
        q->after = s;
    }
    const char *pc = dir_http_arg(x->req, "postcode"), *px = dir_http_arg(x->req, "proximity");
    if (px) {
        char *end;
        q->prox = strtod(px, &end);
        if (!*px || *end || !(q->prox > 0) || q->prox > 2e7) {
            problem(q, "proximity", "ระยะทางเป็นเมตร มากกว่า 0",
                    "'%s' is not a distance in metres above 0", SHOW(px));
            return false;
        }
        if (!pc) {
            problem(q, "proximity", "ต้องระบุ postcode ด้วย", "'%s' needs a postcode to measure from",
                    SHOW(px));
            return false;
        }
    }
    if (pc) {
        q->has_post = true;
        q->post = calloc((size_t)m->nareas + 1, sizeof *q->post);
        if (!q->post) return false;
        for (int i = 0; i < m->nareas; i++)
            if (m->areas[i].postal_code && strcmp(m->areas[i].postal_code, pc) == 0)
                q->post[q->npost++] = i;
    }
    int ns = m->ntax[DIR_TAX_SERVICE];
    q->svc_fold = calloc((size_t)ns + 1, sizeof *q->svc_fold);
    if (!q->svc_fold) return false;
    for (int i = 0; i < ns; i++) {
        const struct dir_taxon *t = &m->tax[DIR_TAX_SERVICE][i];
        char both[800];
        snprintf(both, sizeof both, "%s %s %s", t->code, t->name_th ? t->name_th : "",
                 t->name_en ? t->name_en : "");
        q->svc_fold[i] = dir_text_fold_dup(both);
    }
    if (dir_hsds_init(&q->h, m)) return false;
    return true;
}

static void done(struct q *q)
{
    free(q->search);
    free(q->post);
    if (q->svc_fold)
        for (int i = 0; i < q->x->m->ntax[DIR_TAX_SERVICE]; i++)
            free(q->svc_fold[i]);
    free(q->svc_fold);
    dir_hsds_done(&q->h);
}

static bool org_search(const struct q *q, const struct dir_org *o)
{
    return (o->fold_th && dir_text_contains(o->fold_th, q->search)) ||
           (o->fold_en && dir_text_contains(o->fold_en, q->search)) ||
           (o->fold_ref && dir_text_contains(o->fold_ref, q->search));
}

static double metres(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371008.8, d = M_PI / 180;
    double a = sin((lat2 - lat1) * d / 2), b = sin((lon2 - lon1) * d / 2);
    double h = a * a + cos(lat1 * d) * cos(lat2 * d) * b * b;
    return 2 * r * asin(sqrt(h < 1 ? h : 1));
}

/* Whether offering OFFER of organisation ORG passes the service filters. */
static bool service_matches(const struct q *q, int org, int offer)
{
    const struct dir_model *m = q->x->m;
    const struct dir_org *o = dir_model_org_at(m, org);
    const struct dir_offering *of = &o->offerings[offer];
    if (q->org == -2 || q->tax == -2 || q->term_t == -2) return false;
    if (q->org >= 0 && q->org != org) return false;
    if (q->search && !org_search(q, o) &&
        !(q->svc_fold[of->service] && dir_text_contains(q->svc_fold[of->service], q->search)))
        return false;
    if (q->term_t == 0 && of->service != q->term_i) return false;
    if (q->term_t == 1 && !(of->groups & (1ULL << q->term_i))) return false;
    if (q->term_t == 2 &&
        !(o->type && strcmp(o->type, m->tax[DIR_TAX_ORG_TYPE][q->term_i].code) == 0))
        return false;
    if (q->tax == 1 && !of->groups) return false;
    if (q->tax == 2 && !(o->type && dir_model_taxon(m, DIR_TAX_ORG_TYPE, o->type) >= 0))
        return false;
    if (q->after) {
        const char *mod = dir_hsds_modified(&q->h, org);
        if (!mod || strcmp(mod, q->after) < 0) return false;
    }
    if (q->has_post) {
        bool in = false;
        for (int p = 0; p < q->npost && !in; p++) {
            int x = q->post[p];
            if (q->prox > 0) {
                const struct dir_area *a = &m->areas[x];
                in = a->has_coord && o->has_coord &&
                     metres(a->lat, a->lon, o->lat, o->lon) <= q->prox;
                continue;
            }
            if (of->cov.nareas == 0) in = o->area >= 0 && dir_query_areas_related(m, o->area, x);
            for (int k = 0; k < of->cov.nareas && !in; k++)
                in = dir_query_areas_related(m, of->cov.areas[k], x);
        }
        if (!in) return false;
    }
    return true;
}

/* ---- output ---- */

struct page {
    struct q *q;
    json_t *contents;
    int total;
};

static void page_begin(struct page *p, struct q *q)
{
    p->q = q;
    p->contents = json_array();
    p->total = 0;
}

/* Counts one more match; true when it falls on the page asked for (render it). */
static bool page_want(struct page *p)
{
    int i = p->total++;
    if (p->q->ndjson) return true;
    return i >= (p->q->page - 1) * p->q->per_page && i < p->q->page * p->q->per_page;
}

static void page_add(struct page *p, json_t *item)
{
    if (item) json_array_append_new(p->contents, item);
}

static void too_large(struct dir_route_ctx *x)
{
    struct dir_problem pr;
    x->resp->body.len = 0;
    dir_problem_init(&pr, 413, "response-too-large", "Response too large",
                     "The answer is too large; ask for a smaller page with 'per_page'.");
    dir_problem_respond(&pr, dir_http_path(x->req), x->resp);
}

static void send(struct dir_route_ctx *x, json_t *j, const char *type)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    enum dir_rc rc = s ? dir_buf_add(&x->resp->body, s, strlen(s)) : DIR_ERR_LIMIT;
    free(s);
    if (rc) {
        too_large(x);
        return;
    }
    x->resp->status = 200;
    x->resp->content_type = type;
}

static void page_end(struct page *p)
{
    struct dir_route_ctx *x = p->q->x;
    if (p->q->ndjson) {
        size_t i;
        json_t *v;
        json_array_foreach(p->contents, i, v)
        {
            char *s = json_dumps(v, JSON_COMPACT);
            enum dir_rc rc = s ? dir_buf_add(&x->resp->body, s, strlen(s)) : DIR_ERR_LIMIT;
            if (!rc) rc = dir_buf_add(&x->resp->body, "\n", 1);
            free(s);
            if (rc) {
                json_decref(p->contents);
                too_large(x);
                return;
            }
        }
        json_decref(p->contents);
        x->resp->status = 200;
        x->resp->content_type = "application/x-ndjson; charset=utf-8";
        return;
    }
    int per = p->q->per_page, pages = (p->total + per - 1) / per;
    json_t *j = json_object();
    json_object_set_new(j, "total_items", json_integer(p->total));
    json_object_set_new(j, "total_pages", json_integer(pages));
    json_object_set_new(j, "page_number", json_integer(p->q->page));
    json_object_set_new(j, "size", json_integer((json_int_t)json_array_size(p->contents)));
    json_object_set_new(j, "first_page", json_boolean(p->q->page == 1));
    json_object_set_new(j, "last_page", json_boolean(p->q->page >= pages));
    json_object_set_new(j, "empty", json_boolean(p->total == 0));
    json_object_set_new(j, "contents", p->contents);
    send(x, j, "application/json; charset=utf-8");
}

/* ---- the query parameters of each route (dir_param.h; declared in dir_api.c's table) ---- */

/* clang-format off */
#define P_SEARCH                                                                                  \
    {"search", DIR_PARAM_STRING, 0, 0, MAX_SEARCH, NULL,                                          \
     "Text to find in names and descriptions."}
#define P_PAGE {"page", DIR_PARAM_INT, 0, 1, 1000000, NULL, "The page number, from 1."}
#define P_PER_PAGE                                                                                \
    {"per_page", DIR_PARAM_INT, 0, 1, MAX_PER_PAGE, NULL, "Items per page (default 50)."}
#define P_FORMAT                                                                                  \
    {"format", DIR_PARAM_ENUM, 0, 0, 0, (const char *const[]){"json", "ndjson", NULL},        \
     "json (default): a page; ndjson: one object a line, every page."}
#define P_BOOL(name, doc) {name, DIR_PARAM_BOOL, 0, 0, 0, NULL, doc}
#define P_ID(name, doc) {name, DIR_PARAM_STRING, 0, 0, 0, NULL, doc}
#define P_MODIFIED                                                                                \
    {"modified_after", DIR_PARAM_DATETIME, 0, 0, 0, NULL,                                         \
     "Only what changed after this UTC date or date-time (2025-01-31T08:00:00Z)."}
/* clang-format on */

const struct dir_param dir_hsds_params_list[] = {P_SEARCH, P_PAGE, P_PER_PAGE, P_FORMAT,
                                                 DIR_PARAM_END};
const struct dir_param dir_hsds_params_services[] = {
    P_SEARCH,
    P_PAGE,
    P_PER_PAGE,
    P_FORMAT,
    P_ID("taxonomy_term_id", "Only services with this taxonomy term (its id)."),
    P_ID("taxonomy_id", "Only services with a term of this taxonomy (its id)."),
    P_ID("organization_id", "Only services of this organization (its id)."),
    P_MODIFIED,
    P_BOOL("minimal", "Only each service's id and last_modified."),
    P_BOOL("full", "Each service with its related objects."),
    DIR_PARAM_END};
const struct dir_param dir_hsds_params_service_at_locations[] = {
    P_SEARCH,
    P_PAGE,
    P_PER_PAGE,
    P_FORMAT,
    P_ID("taxonomy_term_id", "Only services with this taxonomy term (its id)."),
    P_ID("taxonomy_id", "Only services with a term of this taxonomy (its id)."),
    P_ID("organization_id", "Only services of this organization (its id)."),
    P_MODIFIED,
    P_BOOL("full", "Each item with its related objects."),
    P_ID("postcode", "Only locations with this postal code."),
    {"proximity", DIR_PARAM_NUMBER, 0, 0, 20000000, NULL,
     "Only locations within this many metres of the postcode's area (needs postcode)."},
    DIR_PARAM_END};
const struct dir_param dir_hsds_params_organizations[] = {
    P_SEARCH,
    P_PAGE,
    P_PER_PAGE,
    P_FORMAT,
    P_BOOL("full", "Each organization with its related objects."),
    P_BOOL("full_service", "With full, each service with its related objects too."),
    DIR_PARAM_END};
const struct dir_param dir_hsds_params_organization[] = {
    P_BOOL("full_service", "Each service with its related objects."), DIR_PARAM_END};
const struct dir_param dir_hsds_params_taxonomy_terms[] = {
    P_SEARCH,
    P_PAGE,
    P_PER_PAGE,
    P_FORMAT,
    P_ID("taxonomy_id", "Only the terms of this taxonomy (its id)."),
    P_BOOL("top_only", "Only terms without a parent (all of them here)."),
    P_ID("parent_id", "Only the children of this term (none here)."),
    DIR_PARAM_END};

/* ---- handlers ---- */

void dir_hsds_route_info(struct dir_route_ctx *x)
{
    struct q q;
    if (!parse(&q, x)) {
        done(&q);
        return;
    }
    done(&q);
    json_t *j = json_object();
    json_object_set_new(j, "version", json_string(DIR_HSDS_VERSION));
    json_object_set_new(
        j, "profile",
        json_string("https://docs.openreferral.org/en/latest/hsds/schema_reference.html"));
    json_object_set_new(j, "openapi_url",
                        json_string("https://raw.githubusercontent.com/openreferral/"
                                    "specification/3.0/schema/openapi.json"));
    json_object_set_new(j, "publisher", json_string("directoryd " DIR_VERSION));
    send(x, j, "application/json; charset=utf-8");
}


void dir_hsds_route_services(struct dir_route_ctx *x)
{
    struct q q;
    struct page p;
    if (!parse(&q, x)) {
        done(&q);
        return;
    }
    page_begin(&p, &q);
    for (int o = 0; o < x->m->norgs; o++)
        for (int i = 0; i < dir_model_org_at(x->m, o)->noffers; i++) {
            if (!service_matches(&q, o, i) || !page_want(&p)) continue;
            if (q.minimal) {
                char id[DIR_HSDS_UUID_LEN + 1];
                json_t *j = json_object();
                dir_hsds_service_id(x->m, o, i, id);
                json_object_set_new(j, "id", json_string(id));
                const char *mod = dir_hsds_modified(&q.h, o);
                if (mod) json_object_set_new(j, "last_modified", json_string(mod));
                page_add(&p, j);
            } else {
                page_add(&p, dir_hsds_service(&q.h, o, i, q.full));
            }
        }
    page_end(&p);
    done(&q);
}

void dir_hsds_route_service_at_locations(struct dir_route_ctx *x)
{
    struct q q;
    struct page p;
    if (!parse(&q, x)) {
        done(&q);
        return;
    }
    page_begin(&p, &q);
    for (int o = 0; o < x->m->norgs; o++) {
        if (dir_model_org_at(x->m, o)->noffers == 0) continue;
        json_t *probe = dir_hsds_location(&q.h, o, false);
        if (!probe) continue;
        json_decref(probe);
        for (int i = 0; i < dir_model_org_at(x->m, o)->noffers; i++)
            if (service_matches(&q, o, i) && page_want(&p))
                page_add(&p, dir_hsds_service_at_location(&q.h, o, i, q.full));
    }
    page_end(&p);
    done(&q);
}

void dir_hsds_route_organizations(struct dir_route_ctx *x)
{
    struct q q;
    struct page p;
    if (!parse(&q, x)) {
        done(&q);
        return;
    }
    page_begin(&p, &q);
    for (int o = 0; o < x->m->norgs; o++)
        if ((!q.search || org_search(&q, dir_model_org_at(x->m, o))) && page_want(&p))
            page_add(&p, dir_hsds_organization(&q.h, o, q.full, q.full_service));
    page_end(&p);
    done(&q);
}

static bool text_match(const struct q *q, const char *a, const char *b, const char *c)
{
    char both[1500];
    snprintf(both, sizeof both, "%s %s %s", a ? a : "", b ? b : "", c ? c : "");
    char *f = dir_text_fold_dup(both);
    bool hit = f && dir_text_contains(f, q->search);
    free(f);
    return hit;
}

void dir_hsds_route_taxonomies(struct dir_route_ctx *x)
{
    struct q q;
    struct page p;
    if (!parse(&q, x)) {
        done(&q);
        return;
    }
    page_begin(&p, &q);
    for (int t = 0; t < DIR_HSDS_NTAX; t++) {
        json_t *j = dir_hsds_taxonomy(&q.h, t);
        bool hit =
            !q.search || text_match(&q, json_string_value(json_object_get(j, "name")),
                                    json_string_value(json_object_get(j, "description")), NULL);
        if (hit && page_want(&p))
            page_add(&p, j);
        else
            json_decref(j);
    }
    page_end(&p);
    done(&q);
}

void dir_hsds_route_taxonomy_terms(struct dir_route_ctx *x)
{
    struct q q;
    struct page p;
    if (!parse(&q, x)) {
        done(&q);
        return;
    }
    page_begin(&p, &q);
    /* The terms have no parents: parent_id matches none, top_only all. */
    bool none = dir_http_arg(x->req, "parent_id") != NULL || q.tax == -2;
    for (int t = 0; t < DIR_HSDS_NTAX && !none; t++) {
        if (q.tax >= 0 && q.tax != t) continue;
        enum dir_tax_kind k = dir_hsds_tax_kinds[t];
        for (int i = 0; i < x->m->ntax[k]; i++) {
            const struct dir_taxon *tx = &x->m->tax[k][i];
            if (q.search && !text_match(&q, tx->code, tx->name_th, tx->name_en)) continue;
            if (page_want(&p)) page_add(&p, dir_hsds_taxonomy_term(&q.h, t, i));
        }
    }
    page_end(&p);
    done(&q);
}

/* ---- single objects ---- */

void dir_hsds_route_object(struct dir_route_ctx *x)
{
    const char *what = x->route->what, *id = x->arg[0];
    bool is_org = strcmp(what, "organization") == 0;
    struct q q;
    if (!parse(&q, x)) {
        done(&q);
        return;
    }
    const struct dir_model *m = x->m;
    json_t *j = NULL;
    if (is_org) {
        int o = find_org(m, id);
        if (o >= 0) j = dir_hsds_organization(&q.h, o, true, q.full_service);
    } else if (strcmp(what, "service") == 0 || strcmp(what, "service_at_location") == 0) {
        bool sal = what[7] == '_';
        struct dir_hsds_hit h;
        if (dir_hsds_find(m, id, &h) &&
            h.kind == (sal ? DIR_HSDS_K_SERVICE_AT_LOCATION : DIR_HSDS_K_SERVICE))
            j = sal ? dir_hsds_service_at_location(&q.h, h.a, h.b, true)
                    : dir_hsds_service(&q.h, h.a, h.b, true);
        /* (a service_at_location of an organisation without a location is NULL: 404) */
    } else if (strcmp(what, "taxonomy") == 0) {
        int t = find_taxonomy(m, id);
        if (t >= 0) j = dir_hsds_taxonomy(&q.h, t);
    } else {
        int t, i;
        if (find_term(m, id, &t, &i)) {
            j = dir_hsds_taxonomy_term(&q.h, t, i);
            json_object_set_new(j, "taxonomy_detail", dir_hsds_taxonomy(&q.h, t));
        }
    }
    done(&q);
    if (!j) return not_found(x, what, id);
    send(x, j, "application/json; charset=utf-8");
}

/* ---- the data package ---- */

void dir_hsds_route_export(struct dir_route_ctx *x)
{
    struct q q;
    bool ok = parse(&q, x);
    done(&q);
    if (!ok) return;
    bool zip = strcmp(x->route->what, "zip") == 0;
    enum dir_rc rc = zip ? dir_hsds_export_zip(x->m, &x->resp->body)
                         : dir_hsds_export_json(x->m, &x->resp->body);
    if (rc) {
        too_large(x);
        return;
    }
    x->resp->status = 200;
    x->resp->content_type = zip ? "application/zip" : "application/json; charset=utf-8";
    dir_http_resp_header(x->resp, "Content-Disposition",
                         zip ? "attachment; filename=\"directoryd-hsds.zip\""
                             : "attachment; filename=\"directoryd-hsds.json\"");
}
