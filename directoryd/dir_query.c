/* dir_query.c - list filters and detail views over one snapshot. */
#include "dir_query.h"
#include "dir_names.h"
#include "dir_text.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

bool dir_query_int(const char *s, long long min, long long max, long long *out)
{
    if (!s) return false;
    bool neg = *s == '-';
    const char *p = s + neg;
    if (!*p) return false;
    /* Accumulate as a negative number: its range holds every long long. */
    long long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        int d = *p - '0';
        if (v < (LLONG_MIN + d) / 10) return false;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == LLONG_MIN) return false;
        v = -v;
    }
    if (v < min || v > max) return false;
    *out = v;
    return true;
}

/* {"items":[ ... ],"next":...} around pre-rendered items. */
struct lister {
    struct dir_buf *out;
    int n, limit;
    enum dir_rc rc;
    bool more;
};

static void list_begin(struct lister *l, struct dir_buf *out, int limit)
{
    l->out = out;
    l->n = 0;
    l->limit = limit;
    l->more = false;
    l->rc = dir_buf_adds(out, "{\"items\":[");
}

/* Adds one item; returns false once the page is full (the caller stops). */
static bool list_add(struct lister *l, const struct dir_json *j)
{
    if (l->n == l->limit) {
        l->more = true;
        return false;
    }
    if (!l->rc && l->n) l->rc = dir_buf_add(l->out, ",", 1);
    if (!l->rc) l->rc = dir_buf_add(l->out, j->s, j->len);
    l->n++;
    return true;
}

static enum dir_rc list_end_str(struct lister *l, const char *last)
{
    if (!l->rc) l->rc = dir_buf_adds(l->out, "],\"next\":");
    if (!l->rc)
        l->rc = l->more && last ? dir_buf_add_json_str(l->out, last) : dir_buf_adds(l->out, "null");
    if (!l->rc) l->rc = dir_buf_adds(l->out, "}");
    return l->rc;
}

static enum dir_rc list_end_id(struct lister *l, long long last)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", last);
    return list_end_str(l, s);
}

static bool name_matches(const char *q, const char *th, const char *en)
{
    return !q || dir_text_contains(th, q) || dir_text_contains(en, q);
}

enum dir_rc dir_query_areas(const struct dir_model *m, const struct dir_area_filter *f,
                            const char *cursor, int limit, struct dir_buf *out)
{
    struct lister l;
    const char *last = NULL;
    list_begin(&l, out, limit);
    /* Under a parent, walk its children (in code order, as all areas are); else all. */
    const struct dir_area *p = f->parent >= 0 ? &m->areas[f->parent] : NULL;
    int n = p ? p->nchildren : m->nareas;
    for (int i = 0; i < n; i++) {
        const struct dir_area *a = &m->areas[p ? p->children[i] : i];
        if (cursor && strcmp(a->code, cursor) <= 0) continue;
        if ((f->kind >= 0 && (int)a->kind != f->kind) ||
            !name_matches(f->q, a->fold_th, a->fold_en))
            continue;
        if (!list_add(&l, &a->json)) break;
        last = a->code;
    }
    return list_end_str(&l, last);
}

static json_t *jstr(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

static enum dir_rc dump(json_t *j, struct dir_buf *out)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s) return DIR_ERR_INVALID;
    enum dir_rc rc = dir_buf_adds(out, s);
    free(s);
    return rc;
}

enum dir_rc dir_query_area(const struct dir_model *m, int area, struct dir_buf *out)
{
    const struct dir_area *a = &m->areas[area];
    json_t *j = json_loadb(a->json.s, a->json.len, 0, NULL);
    if (!j) return DIR_ERR_INVALID;
    json_t *anc = json_array(), *groups = json_array();
    int chain[64], n = 0;
    for (int p = a->parent; p >= 0 && n < 64; p = m->areas[p].parent)
        chain[n++] = p;
    while (n-- > 0) {
        const struct dir_area *p = &m->areas[chain[n]];
        json_t *o = json_object();
        json_object_set_new(o, "code", jstr(p->code));
        json_object_set_new(o, "kind", jstr(dir_model_area_kind_name(p->kind)));
        json_object_set_new(o, "name_th", jstr(p->name_th));
        json_object_set_new(o, "name_en", jstr(p->name_en));
        json_array_append_new(anc, o);
    }
    for (int i = 0; i < a->ngroups; i++) {
        const struct dir_group *g = &m->groups[a->groups[i]];
        json_t *o = json_object();
        json_object_set_new(o, "code", jstr(g->code));
        json_object_set_new(o, "kind", jstr(g->kind));
        json_object_set_new(o, "name_th", jstr(g->name_th));
        json_object_set_new(o, "name_en", jstr(g->name_en));
        json_array_append_new(groups, o);
    }
    json_object_set_new(j, "ancestors", anc);
    json_object_set_new(j, "groups", groups);
    json_object_set_new(j, "children", json_integer(a->nchildren));
    return dump(j, out);
}

enum dir_rc dir_query_groups(const struct dir_model *m, const char *kind, struct dir_buf *out)
{
    struct lister l;
    list_begin(&l, out, m->ngroups);
    for (int i = 0; i < m->ngroups; i++)
        if (!kind || strcmp(m->groups[i].kind, kind) == 0) list_add(&l, &m->groups[i].json);
    return list_end_str(&l, NULL);
}

enum dir_rc dir_query_taxa(const struct dir_model *m, enum dir_tax_kind kind, struct dir_buf *out)
{
    struct lister l;
    list_begin(&l, out, m->ntax[kind]);
    for (int i = 0; i < m->ntax[kind]; i++)
        list_add(&l, &m->tax[kind][i].json);
    return list_end_str(&l, NULL);
}

bool dir_query_areas_related(const struct dir_model *m, int a, int x)
{
    return dir_model_area_within(m, a, x) || dir_model_area_within(m, x, a);
}

static bool coverage_related(const struct dir_model *m, const struct dir_coverage *c, int x)
{
    for (int i = 0; i < c->nareas; i++)
        if (dir_query_areas_related(m, c->areas[i], x)) return true;
    return false;
}

bool dir_query_org_matches(const struct dir_model *m, const struct dir_org *o,
                           const struct dir_org_filter *f)
{
    if (f->type && (!o->type || strcmp(o->type, f->type) != 0)) return false;
    if (f->status && strcmp(o->status, f->status) != 0) return false;
    if (f->parent && o->parent_id != f->parent) return false;
    if (f->q && !name_matches(f->q, o->fold_th, o->fold_en) &&
        !dir_text_contains(o->fold_ref, f->q))
        return false;
    if (f->zone) {
        /* Both an area and a zone: the area's answer, then one of the zone's members too. */
        struct dir_org_filter g = *f;
        g.zone = NULL;
        if (f->area >= 0 && !dir_query_org_matches(m, o, &g)) return false;
        for (int i = 0; i < f->zone->nmembers; i++) {
            g.area = f->zone->members[i];
            if (dir_query_org_matches(m, o, &g)) return true;
        }
        return false;
    }
    if (f->service < 0 && f->group < 0) {
        if (f->area < 0) return true;
        /* Located in the area (an office in Bangkok is not "in" Pathum Wan). */
        if (o->area >= 0 && dir_model_area_within(m, o->area, f->area)) return true;
    }
    /* An offering that matches the service and group (if asked) and covers the area. */
    for (int i = 0; i < o->noffers; i++) {
        const struct dir_offering *of = &o->offerings[i];
        if (f->service >= 0 && of->service != f->service) continue;
        if (f->group >= 0 && of->groups && !(of->groups & (1ULL << f->group))) continue;
        if (f->area < 0) return true;
        if (of->cov.ncodes ? coverage_related(m, &of->cov, f->area)
                           : (o->area >= 0 && dir_query_areas_related(m, o->area, f->area)))
            return true;
    }
    return false;
}

/* Candidates of a list: every index from FROM on, or with q= (long enough), the name index's
 * (dir_names.h: a superset of the names matching, ascending). */
struct cands {
    struct dir_names_cur nc;
    bool indexed;
    int i, n;
};

static void cands_open(struct cands *c, const struct dir_model *m, enum dir_names_kind kind,
                       const char *q, int from, int n)
{
    c->indexed = q && dir_names_open(&c->nc, m, kind, q);
    c->i = from - 1;
    c->n = n;
}

/* The next candidate index, or -1 when none is left. */
static int cands_next(struct cands *c)
{
    int i = c->indexed ? dir_names_seek(&c->nc, c->i + 1) : c->i + 1;
    if (i >= c->n) return -1;
    return c->i = i;
}

/* The first index whose organisation's (PEOPLE: person's) id is above AFTER. */
static int first_after(const struct dir_model *m, bool people, long long after)
{
    int lo = 0, hi = people ? m->npeople : m->norgs;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        long long id = people ? dir_model_person_at(m, mid)->id : dir_model_org_at(m, mid)->id;
        if (id <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

enum dir_rc dir_query_orgs(const struct dir_model *m, const struct dir_org_filter *f,
                           long long after, int limit, bool full, time_t now, struct dir_buf *out)
{
    struct lister l;
    long long last = 0;
    list_begin(&l, out, limit);
    struct cands c;
    cands_open(&c, m, DIR_NAMES_ORGS, f->q, first_after(m, false, after), m->norgs);
    for (int i; (i = cands_next(&c)) >= 0;) {
        const struct dir_org *o = dir_model_org_at(m, i);
        if (o->id <= after || !dir_query_org_matches(m, o, f)) continue;
        if (l.n == l.limit) {
            l.more = true;
            break;
        }
        if (!l.rc && l.n) l.rc = dir_buf_add(l.out, ",", 1);
        if (!l.rc) l.rc = dir_model_org_json(m, o, full, now, l.out);
        l.n++;
        last = o->id;
    }
    return list_end_id(&l, last);
}

/* A person matches when one membership satisfies the team role (unless the role asked is
 * the person's profession), the organisation and the area together: a welfare officer of
 * Phra Nakhon who also volunteers at a Pathum Wan centre is not Pathum Wan's welfare staff. */
static bool person_matches(const struct dir_model *m, const struct dir_person *p,
                           const struct dir_person_filter *f)
{
    if (!p->active) return false;
    if (f->q && !name_matches(f->q, p->fold_th, p->fold_en)) return false;
    bool by_profession = f->role && p->profession && strcmp(p->profession, f->role) == 0;
    const char *role = by_profession ? NULL : f->role;
    if (!role && f->org < 0 && f->area < 0) return true;
    for (int i = 0; i < p->nmembers; i++) {
        const struct dir_membership *ms = &p->members[i];
        if (role && !(ms->team_role && strcmp(ms->team_role, role) == 0)) continue;
        if (f->org >= 0 && ms->org != f->org) continue;
        if (f->area < 0) return true;
        if (coverage_related(m, &ms->cov, f->area)) return true;
        int oa = dir_model_org_at(m, ms->org)->area;
        if (!ms->cov.ncodes && oa >= 0 && dir_query_areas_related(m, oa, f->area)) return true;
    }
    return false;
}

enum dir_rc dir_query_people(const struct dir_model *m, const struct dir_person_filter *f,
                             long long after, int limit, struct dir_buf *out)
{
    struct lister l;
    long long last = 0;
    list_begin(&l, out, limit);
    struct cands c;
    cands_open(&c, m, DIR_NAMES_PEOPLE, f->q, first_after(m, true, after), m->npeople);
    for (int i; (i = cands_next(&c)) >= 0;) {
        const struct dir_person *p = dir_model_person_at(m, i);
        if (p->id <= after || !person_matches(m, p, f)) continue;
        if (l.n == l.limit) {
            l.more = true;
            break;
        }
        if (!l.rc && l.n) l.rc = dir_buf_add(l.out, ",", 1);
        if (!l.rc) l.rc = dir_model_person_json(m, p, true, l.out);
        l.n++;
        last = p->id;
    }
    return list_end_id(&l, last);
}
