/* dir_resolve.c - the ordered, explained handoff answer (see dir_resolve.h for the rules). */
#include "dir_resolve.h"
#include "dir_mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SKIPPED 100

enum item_kind { IT_ORG, IT_PERSON };

struct item {
    int tier;
    enum item_kind kind;
    int idx;     /* org or person index */
    int scope;   /* area index, or -(group index) - 2 for a group; -1 none */
    double km;   /* tier 3 */
    bool km_approx;
};

struct skip {
    int org, person; /* one of them >= 0 */
    const char *why;
};

struct run {
    const struct dir_model *m;
    const struct dir_resolve_req *rq;
    unsigned char *seen; /* per organisation */
    struct item *items;
    int nitems, cap;
    struct skip skipped[MAX_SKIPPED];
    int nskipped;
    int district;
    int central;
};

double dir_resolve_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0088, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * atan2(sqrt(a), sqrt(1 - a));
}

static void add(struct run *r, struct item it)
{
    if (r->nitems == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 32;
        r->items = dir_xrealloc(r->items, sizeof *r->items * (size_t)r->cap);
    }
    r->items[r->nitems++] = it;
    if (it.kind == IT_ORG)
        r->seen[it.idx] = 1;
}

static void skip(struct run *r, int org, int person, const char *why)
{
    if (!r->rq->explain || r->nskipped == MAX_SKIPPED)
        return;
    for (int i = 0; i < r->nskipped; i++)
        if (r->skipped[i].org == org && r->skipped[i].person == person)
            return;
    r->skipped[r->nskipped++] = (struct skip){org, person, why};
}

static bool org_open(const struct dir_org *o)
{
    return strcmp(o->status, "active") == 0;
}

static bool is_type(const struct dir_org *o, const char *type)
{
    return o->type && strcmp(o->type, type) == 0;
}

/* Does offering OF match the request's need and group? */
static bool offering_fits(const struct run *r, const struct dir_offering *of)
{
    if (r->rq->need >= 0 && of->service != r->rq->need)
        return false;
    return r->rq->group < 0 || !of->groups || (of->groups & (1ULL << r->rq->group));
}

/* Later verified first, never verified last, then by id. */
static int cmp_verified(const void *a, const void *b, const struct dir_model *m)
{
    const struct item *x = a, *y = b;
    time_t vx = x->kind == IT_ORG ? dir_model_org_at(m, x->idx)->verified
                                  : dir_model_person_at(m, x->idx)->verified;
    time_t vy = y->kind == IT_ORG ? dir_model_org_at(m, y->idx)->verified
                                  : dir_model_person_at(m, y->idx)->verified;
    if (vx != vy)
        return vx > vy ? -1 : 1;
    return x->idx - y->idx;
}

/* Insertion sort: a step rarely has more than a few dozen candidates, and qsort has no
 * context argument. */
static void sort_items(struct item *it, int n, const struct dir_model *m)
{
    for (int i = 1; i < n; i++) {
        struct item k = it[i];
        int j = i - 1;
        while (j >= 0 && cmp_verified(&it[j], &k, m) > 0) {
            it[j + 1] = it[j];
            j--;
        }
        it[j + 1] = k;
    }
}

/* ---- tier 1 ---- */

/* Whether unit O (a bma_unit with a parent: the area's UNITS list holds no other) is a
 * district office's section. */
static bool is_district_section(const struct dir_model *m, const struct dir_org *o)
{
    int p = dir_model_org(m, o->parent_id);
    return p >= 0 && is_type(dir_model_org_at(m, p), "district_office");
}

/* Adds organisation item IT before the people items, which start at *PEOPLE_FROM. */
static void add_org_before(struct run *r, int *people_from, struct item it)
{
    add(r, it);
    memmove(&r->items[*people_from + 1], &r->items[*people_from],
            sizeof(struct item) * (size_t)(r->nitems - 1 - *people_from));
    r->items[(*people_from)++] = it;
}

static void tier1(struct run *r)
{
    const struct dir_model *m = r->m;
    const struct dir_area *d = &m->areas[r->district];
    int first = r->nitems;
    /* The district office's welfare section(s). */
    for (int i = 0; i < d->nunits; i++) {
        const struct dir_org *o = dir_model_org_at(m, d->units[i]);
        if (!is_district_section(m, o) || r->seen[d->units[i]] || d->units[i] == r->central)
            continue;
        if (!org_open(o)) {
            skip(r, d->units[i], -1, "closed");
            continue;
        }
        add(r, (struct item){.tier = 1, .kind = IT_ORG, .idx = d->units[i], .scope = r->district});
    }
    /* Organisations and people with district welfare memberships for the area or district
     * (the model keeps them per area, most recently verified first); at most LIMIT people.
     * Without explain, the organisations come from the area's list of them and the walk
     * over people stops at LIMIT: at 1,000,000 people a district has hundreds of welfare
     * memberships, each a person and a membership read from memory. With explain, every
     * membership is walked to say which were skipped and why. Both give the same items
     * (tests/unit/test_resolve.c compares them). */
    int people_from = r->nitems, npeople = 0;
    for (int a = r->rq->area; a >= 0; a = m->areas[a].parent) {
        const struct dir_area *x = &m->areas[a];
        if (!r->rq->explain)
            for (int i = 0; i < x->nwelfare_orgs; i++) {
                int oi = x->welfare_orgs[i];
                if (!r->seen[oi] && oi != r->central && org_open(dir_model_org_at(m, oi)))
                    add_org_before(r, &people_from,
                                   (struct item){.tier = 1, .kind = IT_ORG, .idx = oi, .scope = a});
            }
        for (int i = 0; i < x->nwelfare; i++) {
            if (!r->rq->explain && (!r->rq->people || npeople >= r->rq->limit)) break;
            const struct dir_person *p = dir_model_person_at(m, x->welfare[i].owner);
            const struct dir_membership *ms = &p->members[x->welfare[i].item];
            if (!org_open(dir_model_org_at(m, ms->org))) {
                skip(r, ms->org, -1, "closed");
                continue;
            }
            if (!p->active) {
                skip(r, -1, x->welfare[i].owner, "inactive");
                continue;
            }
            if (!r->seen[ms->org] && ms->org != r->central)
                add_org_before(
                    r, &people_from,
                    (struct item){.tier = 1, .kind = IT_ORG, .idx = ms->org, .scope = a});
            if (!r->rq->people || npeople >= r->rq->limit)
                continue;
            bool dup = false;
            for (int k = people_from; k < r->nitems && !dup; k++)
                dup = r->items[k].kind == IT_PERSON && r->items[k].idx == x->welfare[i].owner;
            if (!dup) {
                add(r, (struct item){.tier = 1, .kind = IT_PERSON, .idx = x->welfare[i].owner,
                                     .scope = a});
                npeople++;
            }
        }
        if (a == r->district)
            break;
    }
    /* (ITEMS is NULL while nothing was added: no pointer arithmetic on it then.) */
    if (people_from > first)
        sort_items(&r->items[first], people_from - first, m);
    if (r->nitems > people_from)
        sort_items(&r->items[people_from], r->nitems - people_from, m);
}

/* ---- tier 2 ---- */

/* Candidates from one step (the offerings naming area A, or group G), which the model keeps
 * most recently verified first: take them in order until the budget is spent. */
static void step(struct run *r, const struct dir_ref *offers, int n, int scope, int *budget)
{
    /* Callers pass the offerings of the need's service alone when a need is asked
     * (step_in), so the loop does not walk every service's offerings of a large area. */
    const struct dir_model *m = r->m;
    for (int i = 0; i < n && *budget > 0; i++) {
        int oi = offers[i].owner;
        const struct dir_org *o = dir_model_org_at(m, oi);
        if (r->seen[oi] || oi == r->central || o->is_centre)
            continue;
        if (!offering_fits(r, &o->offerings[offers[i].item]))
            continue;
        if (!org_open(o)) {
            skip(r, oi, -1, "closed");
            continue;
        }
        add(r, (struct item){.tier = 2, .kind = IT_ORG, .idx = oi, .scope = scope});
        (*budget)--;
    }
}

/* step over OFFERS, or over BY_SERVICE's group of the need's service when a need is asked. */
static void step_in(struct run *r, const struct dir_ref *offers, int n,
                    const struct dir_ref *by_service, const int *svc_at, int scope, int *budget)
{
    int need = r->rq->need;
    if (need >= 0 && svc_at && need < r->m->ntax[DIR_TAX_SERVICE])
        step(r, by_service + svc_at[need], svc_at[need + 1] - svc_at[need], scope, budget);
    else
        step(r, offers, n, scope, budget);
}

static int cmp_group_size(const struct dir_model *m, int a, int b)
{
    return m->groups[a].nmembers - m->groups[b].nmembers;
}

static void tier2(struct run *r)
{
    const struct dir_model *m = r->m;
    int budget = r->rq->limit;
    for (int a = r->rq->area; a >= 0 && budget > 0; a = m->areas[a].parent) {
        const struct dir_area *x = &m->areas[a];
        step_in(r, x->offers, x->noffers, x->by_service, x->svc_at, a, &budget);
        if (a != r->district)
            continue;
        /* The district's groups, narrowest first (sub-group before zone group). */
        int order[16], n = 0;
        for (int g = 0; g < x->ngroups && n < 16; g++) {
            int k = n++;
            order[k] = x->groups[g];
            while (k > 0 && cmp_group_size(m, order[k - 1], order[k]) > 0) {
                int t = order[k - 1];
                order[k - 1] = order[k];
                order[k] = t;
                k--;
            }
        }
        for (int g = 0; g < n && budget > 0; g++) {
            const struct dir_group *gr = &m->groups[order[g]];
            step_in(r, gr->offers, gr->noffers, gr->by_service, gr->svc_at, -order[g] - 2,
                    &budget);
        }
    }
}

/* ---- tier 3 ---- */

/* The coordinates of area A or of its nearest ancestor that has them. */
static bool area_point(const struct dir_model *m, int a, double *lat, double *lon, bool *approx)
{
    *approx = false;
    for (; a >= 0; a = m->areas[a].parent) {
        if (m->areas[a].has_coord) {
            *lat = m->areas[a].lat;
            *lon = m->areas[a].lon;
            *approx = *approx || m->areas[a].coord_approx;
            return true;
        }
        *approx = true;
    }
    return false;
}

static void tier3(struct run *r)
{
    const struct dir_model *m = r->m;
    double lat, lon;
    bool approx;
    if (!area_point(m, r->rq->area, &lat, &lon, &approx))
        return;
    /* Centres are city services: offered within the area's own province only. */
    int province = r->rq->area;
    while (province >= 0 && m->areas[province].kind != DIR_AREA_PROVINCE)
        province = m->areas[province].parent;
    int best = -1;
    double best_km = 0;
    bool best_approx = false;
    for (int c = 0; c < m->ncentres; c++) {
        int i = m->centres[c];
        const struct dir_org *o = dir_model_org_at(m, i);
        if (o->area < 0 || !dir_model_area_within(m, o->area, province))
            continue;
        bool serves = r->rq->group < 0;
        for (int k = 0; k < o->noffers && !serves; k++)
            serves = !o->offerings[k].groups ||
                     (o->offerings[k].groups & (1ULL << r->rq->group));
        if (!serves)
            continue;
        if (!org_open(o)) {
            skip(r, i, -1, "closed");
            continue;
        }
        double olat = o->lat, olon = o->lon;
        bool oapprox = o->coord_approx;
        if (!o->has_coord && !area_point(m, o->area, &olat, &olon, &oapprox))
            continue;
        if (!o->has_coord)
            oapprox = true; /* its district's point stands in for its own */
        double km = dir_resolve_distance_km(lat, lon, olat, olon);
        if (best < 0 || km < best_km) {
            best = i;
            best_km = km;
            best_approx = approx || oapprox;
        }
    }
    if (best >= 0)
        add(r, (struct item){.tier = 3,
                             .kind = IT_ORG,
                             .idx = best,
                             .scope = dir_model_org_at(m, best)->area,
                             .km = best_km,
                             .km_approx = best_approx});
}

/* ---- rendering ---- */

static bool in_bangkok(const struct dir_model *m, int a)
{
    for (; a >= 0; a = m->areas[a].parent)
        if (strcmp(m->areas[a].code, "10") == 0)
            return true;
    return false;
}

/* "เขตปทุมวัน" / "Pathum Wan district" and the like. */
static void scope_names(const struct dir_model *m, int scope, char *th, size_t thn, char *en,
                        size_t enn)
{
    if (scope <= -2) {
        const struct dir_group *g = &m->groups[-scope - 2];
        snprintf(th, thn, "%s", g->name_th);
        snprintf(en, enn, "the %s %s", g->name_en ? g->name_en : g->code,
                 strcmp(g->kind, "zone") == 0 ? "zone group" : "sub-group");
        return;
    }
    if (scope < 0) {
        *th = *en = '\0';
        return;
    }
    const struct dir_area *a = &m->areas[scope];
    const char *ne = a->name_en ? a->name_en : a->name_th;
    bool bkk = in_bangkok(m, scope);
    switch (a->kind) {
    case DIR_AREA_COUNTRY:
        snprintf(th, thn, "ทั่วประเทศ");
        snprintf(en, enn, "the whole country");
        break;
    case DIR_AREA_PROVINCE:
        snprintf(th, thn, bkk ? "%s" : "จังหวัด%s", a->name_th);
        snprintf(en, enn, bkk ? "%s" : "%s province", ne);
        break;
    case DIR_AREA_DISTRICT:
        snprintf(th, thn, bkk ? "เขต%s" : "อำเภอ%s", a->name_th);
        snprintf(en, enn, "%s district", ne);
        break;
    case DIR_AREA_SUBDISTRICT:
        snprintf(th, thn, bkk ? "แขวง%s" : "ตำบล%s", a->name_th);
        snprintf(en, enn, "%s sub-district", ne);
        break;
    default:
        snprintf(th, thn, "%s", a->name_th);
        snprintf(en, enn, "%s", ne);
        break;
    }
}

/* "Counselling" -> "counselling", but "LINE" stays. */
static void lower_first(char *s)
{
    if (s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' && s[1] <= 'z')
        s[0] = (char)(s[0] + 32);
}

static void reason(const struct run *r, const struct item *it, char *th, size_t thn, char *en,
                   size_t enn)
{
    const struct dir_model *m = r->m;
    char sth[256], sen[256];
    scope_names(m, it->scope, sth, sizeof sth, sen, sizeof sen);
    switch (it->tier) {
    case 1:
        if (it->kind == IT_ORG) {
            snprintf(th, thn, "หน่วยงานสวัสดิการสังคมที่รับผิดชอบ%s", sth);
            snprintf(en, enn, "the welfare section responsible for %s", sen);
        } else {
            snprintf(th, thn, "เจ้าหน้าที่สวัสดิการสังคมที่รับผิดชอบ%s", sth);
            snprintf(en, enn, "welfare staff responsible for %s", sen);
        }
        break;
    case 2: {
        const struct dir_taxon *need = r->rq->need >= 0 ? &m->tax[DIR_TAX_SERVICE][r->rq->need] : NULL;
        const struct dir_taxon *grp =
            r->rq->group >= 0 ? &m->tax[DIR_TAX_TARGET_GROUP][r->rq->group] : NULL;
        char nen[128] = "services", gen[160] = "", gth[200] = "";
        if (need) {
            snprintf(nen, sizeof nen, "%s", need->name_en);
            lower_first(nen);
        }
        if (grp) {
            char g[128];
            snprintf(g, sizeof g, "%s", grp->name_en);
            lower_first(g);
            snprintf(gen, sizeof gen, " for %s", g);
            snprintf(gth, sizeof gth, "สำหรับ%s", grp->name_th);
        }
        snprintf(th, thn, "ให้บริการ%s%sใน%s", need ? need->name_th : "", gth, sth);
        snprintf(en, enn, "provides %s%s in %s", nen, gen, sen);
        break;
    }
    case 3:
        /* Below half a kilometre between approximate points, the distance means nothing. */
        if (it->km < 0.5) {
            snprintf(th, thn, "ศูนย์สร้างโอกาสเด็กที่เปิดอยู่ใกล้ที่สุด อยู่ใน%s", sth);
            snprintf(en, enn, "the nearest open child opportunity centre, in %s", sen);
        } else {
            snprintf(th, thn, "ศูนย์สร้างโอกาสเด็กที่เปิดอยู่ใกล้ที่สุด อยู่ใน%s ห่างประมาณ %.1f กม.",
                     sth, it->km);
            snprintf(en, enn, "the nearest open child opportunity centre, in %s, about %.1f km away",
                     sen, it->km);
        }
        break;
    default:
        snprintf(th, thn, "หน่วยงานกลางประสานงานเครือข่ายคุ้มครองเด็ก ติดต่อได้ทุกกรณี");
        snprintf(en, enn, "the central coordinating unit of the network, always there as the "
                          "last resort");
        break;
    }
}

static enum dir_rc add_ref(struct dir_buf *b, const char *key, const char *code, const char *th,
                           const char *en)
{
    enum dir_rc rc = dir_buf_adds(b, ",\"");
    if (!rc) rc = dir_buf_adds(b, key);
    if (!rc) rc = dir_buf_add(b, "\":", 2);
    if (!code)
        return rc ? rc : dir_buf_adds(b, "null");
    if (!rc)
        rc = dir_buf_adds(b, "{\"code\":");
    if (!rc)
        rc = dir_buf_add_json_str(b, code);
    if (!rc)
        rc = dir_buf_adds(b, ",\"name_th\":");
    if (!rc)
        rc = th ? dir_buf_add_json_str(b, th) : dir_buf_adds(b, "null");
    if (!rc)
        rc = dir_buf_adds(b, ",\"name_en\":");
    if (!rc)
        rc = en ? dir_buf_add_json_str(b, en) : dir_buf_adds(b, "null");
    return rc ? rc : dir_buf_adds(b, "}");
}

static enum dir_rc render(struct run *r, struct dir_buf *b)
{
    const struct dir_model *m = r->m;
    const struct dir_area *a = &m->areas[r->rq->area], *d = &m->areas[r->district];
    enum dir_rc rc = dir_buf_adds(b, "{\"area\":{\"code\":");
    if (!rc)
        rc = dir_buf_add_json_str(b, a->code);
    if (!rc)
        rc = dir_buf_printf(b, ",\"kind\":\"%s\",\"name_th\":", dir_model_area_kind_name(a->kind));
    if (!rc)
        rc = dir_buf_add_json_str(b, a->name_th);
    if (!rc)
        rc = dir_buf_adds(b, ",\"name_en\":");
    if (!rc)
        rc = a->name_en ? dir_buf_add_json_str(b, a->name_en) : dir_buf_adds(b, "null");
    if (!rc)
        rc = dir_buf_adds(b, "}");
    if (!rc)
        rc = add_ref(b, "district", d->code, d->name_th, d->name_en);
    const struct dir_taxon *need = r->rq->need >= 0 ? &m->tax[DIR_TAX_SERVICE][r->rq->need] : NULL;
    const struct dir_taxon *grp =
        r->rq->group >= 0 ? &m->tax[DIR_TAX_TARGET_GROUP][r->rq->group] : NULL;
    if (!rc)
        rc = add_ref(b, "need", need ? need->code : NULL, need ? need->name_th : NULL,
                     need ? need->name_en : NULL);
    if (!rc)
        rc = add_ref(b, "group", grp ? grp->code : NULL, grp ? grp->name_th : NULL,
                     grp ? grp->name_en : NULL);
    if (!rc)
        rc = dir_buf_adds(b, ",\"items\":[");
    char th[600], en[600];
    struct dir_buf why; /* the reason's JSON, kept while consecutive items share it */
    dir_buf_init(&why, 8192);
    for (int i = 0; !rc && i < r->nitems; i++) {
        const struct item *it = &r->items[i], *prev = i ? &r->items[i - 1] : NULL;
        /* Items of one tier, kind and scope have the same reason (but distances differ). */
        if (!prev || it->tier == 3 || it->tier != prev->tier || it->kind != prev->kind ||
            it->scope != prev->scope) {
            reason(r, it, th, sizeof th, en, sizeof en);
            dir_buf_free(&why);
            dir_buf_init(&why, 8192);
            rc = dir_buf_adds(&why, ",\"reason\":{\"th\":");
            if (!rc) rc = dir_buf_add_json_str(&why, th);
            if (!rc) rc = dir_buf_adds(&why, ",\"en\":");
            if (!rc) rc = dir_buf_add_json_str(&why, en);
        }
        rc = dir_buf_adds(b, i ? ",{\"rank\":" : "{\"rank\":");
        if (!rc) rc = dir_buf_add_int(b, i + 1);
        if (!rc) rc = dir_buf_adds(b, ",\"tier\":");
        if (!rc) rc = dir_buf_add_int(b, it->tier);
        if (!rc)
            rc = dir_buf_adds(b, it->kind == IT_ORG ? ",\"kind\":\"organization\","
                                                    : ",\"kind\":\"person\",");
        if (!rc && it->kind == IT_ORG) {
            rc = dir_model_org_card(m, dir_model_org_at(m, it->idx), r->rq->people,
                                    r->rq->now ? r->rq->now : dir_hours_now(), b);
        } else if (!rc) {
            rc = dir_model_person_card(m, dir_model_person_at(m, it->idx), b);
        }
        if (!rc) rc = dir_buf_add(b, why.data, why.len);
        if (!rc)
            rc = dir_buf_adds(b, "},\"scope\":");
        if (!rc) {
            const char *code = it->scope >= 0    ? m->areas[it->scope].code
                               : it->scope <= -2 ? m->groups[-it->scope - 2].code
                                                 : NULL;
            rc = code ? dir_buf_add_json_str(b, code) : dir_buf_adds(b, "null");
        }
        if (!rc && it->tier == 3)
            rc = dir_buf_printf(b, ",\"distance_km\":%.2f,\"distance_approximate\":%s", it->km,
                                it->km_approx ? "true" : "false");
        if (!rc)
            rc = dir_buf_adds(b, "}");
    }
    dir_buf_free(&why);
    if (!rc)
        rc = dir_buf_adds(b, "]");
    if (!rc && r->rq->explain) {
        rc = dir_buf_adds(b, ",\"skipped\":[");
        for (int i = 0; !rc && i < r->nskipped; i++) {
            const struct skip *s = &r->skipped[i];
            long long id = s->org >= 0 ? dir_model_org_at(m, s->org)->id
                                       : dir_model_person_at(m, s->person)->id;
            const char *name = s->org >= 0 ? dir_model_org_at(m, s->org)->name_th
                                           : dir_model_person_at(m, s->person)->name_th;
            rc = dir_buf_printf(b, "%s{\"kind\":\"%s\",\"id\":%lld,\"name_th\":", i ? "," : "",
                                s->org >= 0 ? "organization" : "person", id);
            if (!rc)
                rc = dir_buf_add_json_str(b, name);
            if (!rc)
                rc = dir_buf_printf(b, ",\"why\":\"%s\"}", s->why);
        }
        if (!rc)
            rc = dir_buf_adds(b, "]");
    }
    return rc ? rc : dir_buf_adds(b, "}");
}

/* Explain: organisations that offer the need for the group but do not cover the area. */
static void explain_uncovered(struct run *r)
{
    const struct dir_model *m = r->m;
    for (int i = 0; i < m->norgs && r->nskipped < MAX_SKIPPED; i++) {
        const struct dir_org *o = dir_model_org_at(m, i);
        if (r->seen[i] || i == r->central)
            continue;
        bool fits = false;
        for (int k = 0; k < o->noffers && !fits; k++)
            fits = offering_fits(r, &o->offerings[k]);
        if (fits)
            skip(r, i, -1, org_open(o) ? "no coverage here" : "closed");
    }
}

/* Runs the tiers into R (free R->seen and R->items after); DIR_ERR_INVALID with *WHY. */
static enum dir_rc run_tiers(struct run *r, const struct dir_model *m,
                             const struct dir_resolve_req *rq, const char **why)
{
    *r = (struct run){.m = m, .rq = rq, .district = -1};
    for (int a = rq->area; a >= 0; a = m->areas[a].parent)
        if (m->areas[a].kind == DIR_AREA_DISTRICT) {
            r->district = a;
            break;
        }
    if (m->areas[rq->area].kind < DIR_AREA_DISTRICT || r->district < 0) {
        *why = "the area must be a district, sub-district or community";
        return DIR_ERR_INVALID;
    }
    r->central = dir_model_org_by_ref(m, rq->central_ref);
    r->seen = dir_xcalloc((size_t)m->norgs + 1, 1);

    tier1(r);
    tier2(r);
    tier3(r);
    if (r->central >= 0 && org_open(dir_model_org_at(m, r->central)))
        add(r, (struct item){.tier = 4, .kind = IT_ORG, .idx = r->central, .scope = -1});
    return DIR_OK;
}

enum dir_rc dir_resolve(const struct dir_model *m, const struct dir_resolve_req *rq,
                        struct dir_buf *out, const char **why)
{
    struct run r;
    enum dir_rc rc = run_tiers(&r, m, rq, why);
    if (rc)
        return rc;
    if (rq->explain)
        explain_uncovered(&r);
    rc = render(&r, out);
    free(r.seen);
    free(r.items);
    return rc;
}

enum dir_rc dir_resolve_hits(const struct dir_model *m, const struct dir_resolve_req *rq,
                             struct dir_resolve_hit **hits, int *n, const char **why)
{
    struct run r;
    *hits = NULL;
    *n = 0;
    enum dir_rc rc = run_tiers(&r, m, rq, why);
    if (rc)
        return rc;
    *hits = dir_xcalloc((size_t)r.nitems + 1, sizeof **hits);
    for (int i = 0; i < r.nitems; i++)
        (*hits)[i] = (struct dir_resolve_hit){
            .person = r.items[i].kind == IT_PERSON, .idx = r.items[i].idx, .tier = r.items[i].tier};
    *n = r.nitems;
    free(r.seen);
    free(r.items);
    return DIR_OK;
}
