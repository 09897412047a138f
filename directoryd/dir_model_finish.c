/* dir_model_finish.c - finishing a snapshot from the builder's rows (dir_model_finish): sorts
 * them, resolves codes and ids to indexes, groups children under their parents (areas,
 * groups, taxa, organisations, people, programmes, coverage) and renders each entity's JSON
 * once; also the pieces of it dir_model_apply.c reuses for a version of its own.
 */
#include "dir_model.h"
#include "dir_log.h"
#include "dir_model_int.h"
#include "dir_names.h" /* --- names --- */
#include "dir_mem.h"
#include "dir_text.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* qsort that accepts an empty (possibly NULL) array. */
static void sort_n(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1) qsort(base, n, size, cmp);
}

void dir_modeli_sort_n(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    sort_n(base, n, size, cmp);
}

/* ---- finishing ---- */

static int cmp_area(const void *a, const void *b)
{
    return strcmp(((const struct dir_area *)a)->code, ((const struct dir_area *)b)->code);
}
static int cmp_group(const void *a, const void *b)
{
    return strcmp(((const struct dir_group *)a)->code, ((const struct dir_group *)b)->code);
}
static int cmp_ll(long long x, long long y)
{
    return x < y ? -1 : x > y;
}
static int cmp_org(const void *a, const void *b)
{
    return cmp_ll(((const struct raw_org *)a)->r.id, ((const struct raw_org *)b)->r.id);
}
static int cmp_person(const void *a, const void *b)
{
    return cmp_ll(((const struct raw_person *)a)->r.id, ((const struct raw_person *)b)->r.id);
}
static int cmp_contact(const void *a, const void *b)
{
    const struct raw_contact *x = a, *y = b;
    int c = cmp_ll(x->r.org_id, y->r.org_id);
    if (!c) c = cmp_ll(x->r.person_id, y->r.person_id);
    return c ? c : cmp_ll(x->seq, y->seq);
}
static int cmp_offering(const void *a, const void *b)
{
    const struct raw_offering *x = a, *y = b;
    int c = cmp_ll(x->org_id, y->org_id);
    return c ? c : cmp_ll(x->seq, y->seq);
}
static int cmp_link(const void *a, const void *b)
{
    const struct raw_link *x = a, *y = b;
    int c = cmp_ll(x->owner, y->owner);
    return c ? c : cmp_ll(x->seq, y->seq);
}
static int cmp_membership(const void *a, const void *b)
{
    const struct raw_membership *x = a, *y = b;
    int c = cmp_ll(x->person_id, y->person_id);
    return c ? c : cmp_ll(x->seq, y->seq);
}

/* The id -> (owner index, item index) map used to attach links to offerings/memberships. */
struct slot {
    long long id;
    int owner, item;
};
static int cmp_slot(const void *a, const void *b)
{
    return cmp_ll(((const struct slot *)a)->id, ((const struct slot *)b)->id);
}
static const struct slot *find_slot(const struct slot *s, int n, long long id)
{
    struct slot key = {.id = id};
    return bsearch(&key, s, (size_t)n, sizeof key, cmp_slot);
}

static char *fold(struct dir_arena *a, const char *s)
{
    if (!s) return NULL;
    char *out = dir_arena_alloc(a, strlen(s) + 1);
    dir_text_fold(s, out);
    return out;
}

/* fold() remembered by the string's address (equal short strings are one interned copy): a
 * direct-mapped memo, so the benchmark's 100,000 people with 1,600 distinct names hold 1,600
 * folded names, not 100,000. A miss just folds again. */
#define FOLD_MEMO 8192
struct fold_memo {
    const char *key[FOLD_MEMO];
    char *val[FOLD_MEMO];
};

static char *fold_memo(struct fold_memo *fm, struct dir_arena *a, const char *s)
{
    if (!s) return NULL;
    size_t k = ((uintptr_t)s >> 3) * 0x9e3779b97f4a7c15ULL >> 51; /* 13 bits: FOLD_MEMO */
    if (fm->key[k] != s) {
        fm->key[k] = s;
        fm->val[k] = fold(a, s);
    }
    return fm->val[k];
}

static void build_coverage(struct dir_model *m, struct dir_coverage *cov,
                           const struct raw_link *links, int n)
{
    int nareas = 0;
    cov->codes = dir_arena_alloc(m->arena, sizeof(char *) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        if (links[i].a) {
            if (dir_model_area(m, links[i].a) >= 0) nareas++;
        } else {
            int g = dir_model_group(m, links[i].b);
            if (g >= 0) nareas += m->groups[g].nmembers;
        }
    }
    cov->areas = dir_arena_alloc(m->arena, sizeof(int) * (size_t)(nareas ? nareas : 1));
    for (int i = 0; i < n; i++) {
        const char *code = links[i].a ? links[i].a : links[i].b;
        if (links[i].a) {
            int a = dir_model_area(m, links[i].a);
            if (a < 0) continue;
            cov->areas[cov->nareas++] = a;
        } else {
            int g = dir_model_group(m, links[i].b);
            if (g < 0) continue;
            for (int k = 0; k < m->groups[g].nmembers; k++)
                cov->areas[cov->nareas++] = m->groups[g].members[k];
        }
        cov->codes[cov->ncodes++] = code;
    }
}

static bool is_stale(time_t verified, time_t now, int days)
{
    return verified == 0 || now - verified > (time_t)days * 86400;
}

static enum dir_rc finish_areas(struct dir_model_builder *b, struct dir_model *m, char *err,
                                size_t errlen)
{
    m->nareas = b->areas.n;
    m->areas = dir_arena_alloc(m->arena, sizeof(struct dir_area) * (size_t)(m->nareas + 1));
    for (int i = 0; i < m->nareas; i++) {
        const struct raw_area *r = &b->areas.v[i];
        struct dir_area *a = &m->areas[i];
        int kind = dir_model_area_kind_parse(r->kind);
        a->code = r->code;
        a->name_th = r->name_th;
        a->name_en = r->name_en;
        a->postal_code = r->postal;
        a->kind = kind < 0 ? DIR_AREA_COMMUNITY : (enum dir_area_kind)kind;
        a->has_coord = !isnan(r->lat) && !isnan(r->lon);
        a->lat = r->lat;
        a->lon = r->lon;
        a->coord_approx = r->approx;
        a->version = r->version;
        a->fold_th = fold(m->arena, r->name_th);
        a->fold_en = fold(m->arena, r->name_en);
        a->parent = -1;
        a->children = (int *)(intptr_t)i; /* remembers the raw row until parents resolve */
    }
    sort_n(m->areas, (size_t)m->nareas, sizeof *m->areas, cmp_area);
    int roots = 0;
    for (int i = 0; i < m->nareas; i++) {
        struct dir_area *a = &m->areas[i];
        const struct raw_area *r = &b->areas.v[(intptr_t)a->children];
        a->children = NULL;
        a->parent = dir_model_area(m, r->parent);
        if (a->parent < 0) {
            if (r->parent)
                DIR_LOG(DIR_LOG_WARN, "model", "area %s has unknown parent %s", a->code, r->parent);
            roots++;
        } else {
            m->areas[a->parent].nchildren++;
        }
    }
    if (m->nareas == 0 || roots == 0) {
        snprintf(err, errlen, "the directory has no country area: run the migrations");
        return DIR_ERR_INVALID;
    }
    for (int i = 0; i < m->nareas; i++) {
        struct dir_area *a = &m->areas[i];
        a->children = dir_arena_alloc(m->arena, sizeof(int) * (size_t)(a->nchildren + 1));
        a->nchildren = 0;
        int d = 0;
        for (int p = a->parent; p >= 0 && d < 64; p = m->areas[p].parent)
            d++;
        a->depth = d;
    }
    for (int i = 0; i < m->nareas; i++)
        if (m->areas[i].parent >= 0) {
            struct dir_area *p = &m->areas[m->areas[i].parent];
            p->children[p->nchildren++] = i;
        }
    return DIR_OK;
}

static void finish_groups(struct dir_model_builder *b, struct dir_model *m)
{
    m->ngroups = b->groups.n;
    m->groups = dir_arena_alloc(m->arena, sizeof(struct dir_group) * (size_t)(m->ngroups + 1));
    for (int i = 0; i < m->ngroups; i++) {
        const struct raw_group *r = &b->groups.v[i];
        struct dir_group *g = &m->groups[i];
        g->code = r->code;
        g->kind = r->kind;
        g->name_th = r->name_th;
        g->name_en = r->name_en;
        g->version = r->version;
        g->parent = i; /* raw row, resolved below */
    }
    sort_n(m->groups, (size_t)m->ngroups, sizeof *m->groups, cmp_group);
    for (int i = 0; i < m->ngroups; i++) {
        struct dir_group *g = &m->groups[i];
        const struct raw_group *r = &b->groups.v[g->parent];
        g->parent = dir_model_group(m, r->parent);
        g->within = dir_model_area(m, r->within);
    }
    /* Members: count, allocate, fill (both directions). */
    int *gi = dir_xcalloc((size_t)b->members.n + 1, sizeof(int));
    int *ai = dir_xcalloc((size_t)b->members.n + 1, sizeof(int));
    for (int i = 0; i < b->members.n; i++) {
        gi[i] = dir_model_group(m, b->members.v[i].group);
        ai[i] = dir_model_area(m, b->members.v[i].area);
        if (gi[i] < 0 || ai[i] < 0) continue;
        m->groups[gi[i]].nmembers++;
        m->areas[ai[i]].ngroups++;
    }
    for (int i = 0; i < m->ngroups; i++) {
        m->groups[i].members =
            dir_arena_alloc(m->arena, sizeof(int) * (size_t)(m->groups[i].nmembers + 1));
        m->groups[i].nmembers = 0;
    }
    for (int i = 0; i < m->nareas; i++) {
        if (!m->areas[i].ngroups) continue;
        m->areas[i].groups =
            dir_arena_alloc(m->arena, sizeof(int) * (size_t)(m->areas[i].ngroups + 1));
        m->areas[i].ngroups = 0;
    }
    for (int i = 0; i < b->members.n; i++) {
        if (gi[i] < 0 || ai[i] < 0) continue;
        struct dir_group *g = &m->groups[gi[i]];
        struct dir_area *a = &m->areas[ai[i]];
        g->members[g->nmembers++] = ai[i];
        a->groups[a->ngroups++] = gi[i];
    }
    free(gi);
    free(ai);
}

static void finish_taxa(struct dir_model_builder *b, struct dir_model *m)
{
    for (int i = 0; i < b->taxa.n; i++)
        m->ntax[b->taxa.v[i].kind]++;
    for (int k = 0; k < DIR_TAX_NKINDS; k++) {
        m->tax[k] = dir_arena_alloc(m->arena, sizeof(struct dir_taxon) * (size_t)(m->ntax[k] + 1));
        m->ntax[k] = 0;
    }
    for (int i = 0; i < b->taxa.n; i++) {
        const struct raw_taxon *r = &b->taxa.v[i];
        if (r->kind == DIR_TAX_TARGET_GROUP && m->ntax[r->kind] >= 64) {
            DIR_LOG(DIR_LOG_WARN, "model", "more than 64 target groups; %s skipped", r->code);
            continue;
        }
        struct dir_taxon *t = &m->tax[r->kind][m->ntax[r->kind]++];
        t->code = r->code;
        t->name_th = r->name_th;
        t->name_en = r->name_en;
        t->desc_th = r->desc_th;
        t->desc_en = r->desc_en;
        json_t *j = json_object();
        json_object_set_new(j, "code", dir_modeli_jstr(t->code));
        json_object_set_new(j, "name_th", dir_modeli_jstr(t->name_th));
        json_object_set_new(j, "name_en", dir_modeli_jstr(t->name_en));
        if (r->kind == DIR_TAX_SERVICE || r->kind == DIR_TAX_TARGET_GROUP ||
            r->kind == DIR_TAX_TEAM_ROLE) {
            json_object_set_new(j, "description_th", dir_modeli_jstr(t->desc_th));
            json_object_set_new(j, "description_en", dir_modeli_jstr(t->desc_en));
        }
        dir_modeli_render(m->arena, j, &t->json);
    }
}

int dir_modeli_cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Contacts of the owners in sorted raw contacts, for org (by org id) or person. */
static void attach_contacts(struct dir_model *m, struct raw_contact *c, int n, bool orgs)
{
    for (int i = 0; i < n;) {
        long long owner = orgs ? c[i].r.org_id : c[i].r.person_id;
        int j = i;
        while (j < n && (orgs ? c[j].r.org_id : c[j].r.person_id) == owner)
            j++;
        int idx = owner ? (orgs ? dir_model_org(m, owner) : dir_model_person(m, owner)) : -1;
        if (idx >= 0) {
            struct dir_contact *out = dir_arena_alloc(m->arena, sizeof *out * (size_t)(j - i));
            for (int k = i; k < j; k++) {
                struct dir_contact *x = &out[k - i];
                x->kind = c[k].r.kind;
                x->value = c[k].r.value;
                x->extension = c[k].r.extension;
                x->label_th = c[k].r.label_th;
                x->label_en = c[k].r.label_en;
                x->is_public = c[k].r.is_public;
            }
            if (orgs) {
                dir_modeli_org_w(m, idx)->contacts = out;
                dir_modeli_org_w(m, idx)->ncontacts = j - i;
            } else {
                dir_modeli_person_w(m, idx)->contacts = out;
                dir_modeli_person_w(m, idx)->ncontacts = j - i;
            }
        }
        i = j;
    }
}

/* Organisations (and people) are built in one flat array of the arena, which the chunk
 * table of C views (dir_cow_wrap): the full load pays no chunking. */
static void finish_orgs(struct dir_model_builder *b, struct dir_model *m, struct dir_cow *c,
                        time_t now)
{
    sort_n(b->orgs.v, (size_t)b->orgs.n, sizeof *b->orgs.v, cmp_org);
    m->norgs = b->orgs.n;
    struct dir_org *flat =
        dir_arena_alloc(m->arena, sizeof(struct dir_org) * (size_t)(m->norgs + 1));
    dir_cow_wrap(c, flat, m->norgs, sizeof *flat);
    m->org_chunks = c->tab;
    for (int i = 0; i < m->norgs; i++) {
        const struct dir_org_row *r = &b->orgs.v[i].r;
        struct dir_org *o = &flat[i];
        o->id = r->id;
        o->parent_id = r->parent_id;
        o->successor_id = r->successor_id;
        o->ref = r->ref;
        o->name_th = r->name_th;
        o->name_en = r->name_en;
        o->type = r->type;
        o->sector = r->sector;
        o->status = r->status;
        o->status_date = r->status_date;
        o->status_reason = r->status_reason;
        o->verified_at = r->verified_at;
        o->verified_by = r->verified_by;
        o->address_th = r->address_th;
        o->address_en = r->address_en;
        o->verified = (time_t)r->verified_epoch;
        o->stale = is_stale(o->verified, now, m->stale_days);
        o->demo = r->demo;
        o->area = dir_model_area(m, r->area_code);
        o->has_coord = r->has_coord;
        o->coord_approx = r->coord_approx;
        o->lat = r->lat;
        o->lon = r->lon;
        o->fold_th = fold(m->arena, r->name_th);
        o->fold_en = fold(m->arena, r->name_en);
        o->fold_ref = fold(m->arena, r->ref);
        o->version = r->version;
    }
    sort_n(b->contacts.v, (size_t)b->contacts.n, sizeof *b->contacts.v, cmp_contact);
    attach_contacts(m, b->contacts.v, b->contacts.n, true);
    for (int i = 0; i < b->hours.n; i++) {
        int oi = dir_model_org(m, b->hours.v[i].org_id);
        if (oi >= 0) dir_modeli_org_w(m, oi)->hours = b->hours.v[i].h;
    }
    /* Public holidays, ascending, each once. */
    sort_n(b->holidays.v, (size_t)b->holidays.n, sizeof *b->holidays.v, dir_modeli_cmp_int);
    int *days = dir_arena_alloc(m->arena, sizeof(int) * (size_t)(b->holidays.n + 1)), nd = 0;
    for (int i = 0; i < b->holidays.n; i++)
        if (!nd || days[nd - 1] != b->holidays.v[i]) days[nd++] = b->holidays.v[i];
    m->holidays = (struct dir_holidays){days, nd};

    /* Offerings per organisation, then their target groups and areas. */
    sort_n(b->offerings.v, (size_t)b->offerings.n, sizeof *b->offerings.v, cmp_offering);
    struct slot *slots = dir_xcalloc((size_t)b->offerings.n + 1, sizeof *slots);
    int nslots = 0;
    for (int i = 0; i < b->offerings.n;) {
        int j = i;
        while (j < b->offerings.n && b->offerings.v[j].org_id == b->offerings.v[i].org_id)
            j++;
        int oi = dir_model_org(m, b->offerings.v[i].org_id);
        if (oi >= 0) {
            struct dir_org *o = dir_modeli_org_w(m, oi);
            o->offerings = dir_arena_alloc(m->arena, sizeof(struct dir_offering) * (size_t)(j - i));
            for (int k = i; k < j; k++) {
                int s = dir_model_taxon(m, DIR_TAX_SERVICE, b->offerings.v[k].service);
                if (s < 0) continue;
                slots[nslots++] = (struct slot){b->offerings.v[k].id, oi, o->noffers};
                o->offerings[o->noffers++].service = s;
            }
        }
        i = j;
    }
    sort_n(slots, (size_t)nslots, sizeof *slots, cmp_slot);
    for (int i = 0; i < b->off_groups.n; i++) {
        const struct slot *s = find_slot(slots, nslots, b->off_groups.v[i].owner);
        int g = dir_model_taxon(m, DIR_TAX_TARGET_GROUP, b->off_groups.v[i].a);
        if (s && g >= 0) dir_modeli_org_w(m, s->owner)->offerings[s->item].groups |= 1ULL << g;
    }
    sort_n(b->off_areas.v, (size_t)b->off_areas.n, sizeof *b->off_areas.v, cmp_link);
    for (int i = 0; i < b->off_areas.n;) {
        int j = i;
        while (j < b->off_areas.n && b->off_areas.v[j].owner == b->off_areas.v[i].owner)
            j++;
        const struct slot *s = find_slot(slots, nslots, b->off_areas.v[i].owner);
        if (s)
            build_coverage(m, &dir_modeli_org_w(m, s->owner)->offerings[s->item].cov,
                           &b->off_areas.v[i], j - i);
        i = j;
    }
    free(slots);
}

static void finish_people(struct dir_model_builder *b, struct dir_model *m, struct dir_cow *c,
                          time_t now)
{
    sort_n(b->people.v, (size_t)b->people.n, sizeof *b->people.v, cmp_person);
    m->npeople = b->people.n;
    struct dir_person *flat =
        dir_arena_alloc(m->arena, sizeof(struct dir_person) * (size_t)(m->npeople + 1));
    dir_cow_wrap(c, flat, m->npeople, sizeof *flat);
    m->person_chunks = c->tab;
    struct fold_memo *fm = dir_xcalloc(1, sizeof *fm);
    for (int i = 0; i < m->npeople; i++) {
        const struct dir_person_row *r = &b->people.v[i].r;
        struct dir_person *p = &flat[i];
        p->id = r->id;
        p->ref = r->ref;
        p->name_th = r->name_th;
        p->name_en = r->name_en;
        p->title_th = r->title_th;
        p->title_en = r->title_en;
        p->profession = r->profession;
        p->source = r->source;
        p->verified_at = r->verified_at;
        p->username = r->username;
        p->verified = (time_t)r->verified_epoch;
        p->stale = is_stale(p->verified, now, m->stale_days);
        p->active = r->active;
        p->demo = r->demo;
        p->fold_th = fold_memo(fm, m->arena, r->name_th);
        p->fold_en = fold_memo(fm, m->arena, r->name_en);
        p->version = r->version;
    }
    free(fm);
    attach_contacts(m, b->contacts.v, b->contacts.n, false);

    sort_n(b->memberships.v, (size_t)b->memberships.n, sizeof *b->memberships.v, cmp_membership);
    struct slot *slots = dir_xcalloc((size_t)b->memberships.n + 1, sizeof *slots);
    int nslots = 0;
    for (int i = 0; i < b->memberships.n;) {
        int j = i;
        while (j < b->memberships.n &&
               b->memberships.v[j].person_id == b->memberships.v[i].person_id)
            j++;
        int pi = dir_model_person(m, b->memberships.v[i].person_id);
        if (pi >= 0) {
            struct dir_person *p = dir_modeli_person_w(m, pi);
            p->members = dir_arena_alloc(m->arena, sizeof(struct dir_membership) * (size_t)(j - i));
            for (int k = i; k < j; k++) {
                const struct raw_membership *r = &b->memberships.v[k];
                int oi = dir_model_org(m, r->org_id);
                if (oi < 0) continue;
                struct dir_membership *ms = &p->members[p->nmembers];
                ms->id = r->id;
                ms->org = oi;
                ms->team_role = r->role;
                ms->title_th = r->title_th;
                ms->title_en = r->title_en;
                slots[nslots++] = (struct slot){r->id, pi, p->nmembers++};
            }
        }
        i = j;
    }
    sort_n(slots, (size_t)nslots, sizeof *slots, cmp_slot);
    sort_n(b->mem_areas.v, (size_t)b->mem_areas.n, sizeof *b->mem_areas.v, cmp_link);
    for (int i = 0; i < b->mem_areas.n;) {
        int j = i;
        while (j < b->mem_areas.n && b->mem_areas.v[j].owner == b->mem_areas.v[i].owner)
            j++;
        const struct slot *s = find_slot(slots, nslots, b->mem_areas.v[i].owner);
        if (s)
            build_coverage(m, &dir_modeli_person_w(m, s->owner)->members[s->item].cov,
                           &b->mem_areas.v[i], j - i);
        i = j;
    }
    free(slots);
}

static int cmp_prog_row(const void *a, const void *b)
{
    return cmp_ll(((const struct dir_programme_row *)a)->id,
                  ((const struct dir_programme_row *)b)->id);
}

/* Programmes with their areas and organisations, rendered once. */
static void finish_programmes(struct dir_model_builder *b, struct dir_model *m)
{
    sort_n(b->programmes.v, (size_t)b->programmes.n, sizeof *b->programmes.v, cmp_prog_row);
    m->nprogrammes = b->programmes.n;
    m->programmes =
        dir_arena_alloc(m->arena, sizeof(struct dir_programme) * (size_t)(m->nprogrammes + 1));
    json_t **objs = dir_xcalloc((size_t)m->nprogrammes + 1, sizeof *objs);
    for (int i = 0; i < m->nprogrammes; i++) {
        const struct dir_programme_row *r = &b->programmes.v[i];
        struct dir_programme *p = &m->programmes[i];
        p->id = r->id;
        p->ref = r->ref;
        p->version = r->version;
        json_t *j = objs[i] = json_object();
        json_object_set_new(j, "id", json_integer(r->id));
        json_object_set_new(j, "ref", dir_modeli_jstr(r->ref));
        json_object_set_new(j, "name_th", dir_modeli_jstr(r->name_th));
        json_object_set_new(j, "name_en", dir_modeli_jstr(r->name_en));
        json_object_set_new(j, "description_th", dir_modeli_jstr(r->description_th));
        json_object_set_new(j, "description_en", dir_modeli_jstr(r->description_en));
        json_object_set_new(j, "start_year",
                            r->start_year ? json_integer(r->start_year) : json_null());
        json_object_set_new(j, "end_year", r->end_year ? json_integer(r->end_year) : json_null());
        json_object_set_new(j, "source", dir_modeli_jstr(r->source));
        json_object_set_new(j, "areas", json_array());
        json_object_set_new(j, "organizations", json_array());
        json_object_set_new(j, "version", json_integer(r->version));
    }
    for (int i = 0; i < b->prog_areas.n; i++) {
        int p = dir_modeli_find_id(m->programmes, m->nprogrammes, sizeof *m->programmes,
                                   b->prog_areas.v[i].owner);
        int a = dir_model_area(m, b->prog_areas.v[i].a);
        if (p >= 0 && a >= 0)
            json_array_append_new(json_object_get(objs[p], "areas"),
                                  dir_modeli_area_ref_json(m, a));
    }
    for (int i = 0; i < b->prog_orgs.n; i++) {
        const struct raw_prog_org *r = &b->prog_orgs.v[i];
        int p = dir_modeli_find_id(m->programmes, m->nprogrammes, sizeof *m->programmes, r->pid);
        int o = dir_model_org(m, r->org);
        if (p < 0 || o < 0) continue;
        json_t *x = json_object();
        json_object_set_new(x, "id", json_integer(dir_model_org_at(m, o)->id));
        json_object_set_new(x, "name_th", dir_modeli_jstr(dir_model_org_at(m, o)->name_th));
        json_object_set_new(x, "name_en", dir_modeli_jstr(dir_model_org_at(m, o)->name_en));
        json_object_set_new(x, "role_th", dir_modeli_jstr(r->role_th));
        json_object_set_new(x, "role_en", dir_modeli_jstr(r->role_en));
        json_array_append_new(json_object_get(objs[p], "organizations"), x);
    }
    for (int i = 0; i < m->nprogrammes; i++)
        dir_modeli_render(m->arena, objs[i], &m->programmes[i].json);
    free(objs);
}

enum dir_rc dir_model_finish(struct dir_model_builder *b, long long seq, struct dir_model **out,
                             char *err, size_t errlen)
{
    struct dir_model *m = dir_xcalloc(1, sizeof *m);
    time_t now = time(NULL);
    enum dir_rc rc;

    m->arena = b->arena;
    b->arena = NULL;
    atomic_init(&m->refs, 1);
    m->seq = seq;
    m->built_at = now;
    m->stale_days = b->stale_days;
    if ((rc = finish_areas(b, m, err, errlen))) {
        dir_modeli_builder_free_rows(b);
        dir_arena_free(m->arena);
        free(m);
        return rc;
    }
    finish_groups(b, m);
    finish_taxa(b, m);
    m->pieces = dir_xcalloc(1, sizeof *m->pieces);
    finish_orgs(b, m, &m->pieces->orgs, now);
    finish_people(b, m, &m->pieces->people, now);

    m->nclients = b->clients.n;
    m->clients = dir_arena_alloc(m->arena, sizeof(struct dir_client) * (size_t)(m->nclients + 1));
    if (m->nclients)
        memcpy(m->clients, b->clients.v, sizeof(struct dir_client) * (size_t)m->nclients);
    sort_n(m->clients, (size_t)m->nclients, sizeof *m->clients, dir_modeli_cmp_client);

    m->nrevoked = b->revoked.n;
    m->revoked = dir_arena_alloc(m->arena, sizeof(char *) * (size_t)(m->nrevoked + 1));
    if (m->nrevoked) memcpy(m->revoked, b->revoked.v, sizeof(char *) * (size_t)m->nrevoked);
    sort_n(m->revoked, (size_t)m->nrevoked, sizeof *m->revoked, dir_modeli_cmp_str);
    m->nchanges = b->changes.n;
    m->changes = dir_arena_alloc(m->arena, sizeof(struct dir_change) * (size_t)(m->nchanges + 1));
    if (m->nchanges)
        memcpy(m->changes, b->changes.v, sizeof(struct dir_change) * (size_t)m->nchanges);

    /* Render once everything is resolved. */
    for (int i = 0; i < m->nareas; i++)
        dir_modeli_render(m->arena, dir_modeli_area_json(m, &m->areas[i]), &m->areas[i].json);
    for (int i = 0; i < m->ngroups; i++) {
        struct dir_group *g = &m->groups[i];
        json_t *j = json_object(), *mem = json_array();
        json_object_set_new(j, "code", dir_modeli_jstr(g->code));
        json_object_set_new(j, "kind", dir_modeli_jstr(g->kind));
        json_object_set_new(j, "name_th", dir_modeli_jstr(g->name_th));
        json_object_set_new(j, "name_en", dir_modeli_jstr(g->name_en));
        json_object_set_new(
            j, "parent", g->parent >= 0 ? dir_modeli_jstr(m->groups[g->parent].code) : json_null());
        json_object_set_new(
            j, "within", g->within >= 0 ? dir_modeli_jstr(m->areas[g->within].code) : json_null());
        for (int k = 0; k < g->nmembers; k++)
            json_array_append_new(mem, dir_modeli_area_ref_json(m, g->members[k]));
        json_object_set_new(j, "members", mem);
        json_object_set_new(j, "version", json_integer(g->version));
        dir_modeli_render(m->arena, j, &g->json);
    }
    for (int i = 0; i < m->norgs; i++)
        dir_modeli_render_org(m, dir_modeli_org_w(m, i), &b->orgs.v[i].r);
    finish_programmes(b, m);
    dir_modeli_build_indexes(m);

    dir_modeli_builder_free_rows(b);
    m->pieces->share = dir_modeli_share_new(m->arena, NULL);
    static atomic_ullong lineages;
    m->lineage = atomic_fetch_add(&lineages, 1) + 1;
    m->names = dir_names_build(m); /* --- names --- */
    *out = m;
    return DIR_OK;
}

void dir_modeli_finish_orgs(struct dir_model_builder *b, struct dir_model *s, struct dir_cow *c,
                            time_t now)
{
    finish_orgs(b, s, c, now);
    for (int i = 0; i < s->norgs; i++) {
        struct dir_org *o = dir_modeli_org_w(s, i);
        o->is_centre = o->type && strcmp(o->type, "child_opportunity_centre") == 0;
        dir_modeli_render_org(s, o, &b->orgs.v[i].r);
    }
}

void dir_modeli_finish_people(struct dir_model_builder *b, struct dir_model *s, struct dir_cow *c,
                              time_t now)
{
    finish_people(b, s, c, now);
}

void dir_modeli_finish_programmes(struct dir_model_builder *b, struct dir_model *s)
{
    finish_programmes(b, s);
}

void dir_modeli_finish_clients(struct dir_model_builder *b, struct dir_model *s)
{
    s->nclients = b->clients.n;
    s->clients = dir_arena_alloc(s->arena, sizeof(struct dir_client) * (size_t)(s->nclients + 1));
    if (s->nclients)
        memcpy(s->clients, b->clients.v, sizeof(struct dir_client) * (size_t)s->nclients);
    sort_n(s->clients, (size_t)s->nclients, sizeof *s->clients, dir_modeli_cmp_client);
}

void dir_modeli_finish_revoked(struct dir_model_builder *b, struct dir_model *s)
{
    s->nrevoked = b->revoked.n;
    s->revoked = dir_arena_alloc(s->arena, sizeof(char *) * (size_t)(s->nrevoked + 1));
    if (s->nrevoked) memcpy(s->revoked, b->revoked.v, sizeof(char *) * (size_t)s->nrevoked);
    sort_n(s->revoked, (size_t)s->nrevoked, sizeof *s->revoked, dir_modeli_cmp_str);
}
