/* dir_model.c - building, indexing and rendering one immutable read-model snapshot.
 *
 * The builder keeps raw rows in growable arrays (strings already in the snapshot's arena);
 * dir_model_finish sorts them, resolves codes and ids to indexes, groups children under
 * their parents and renders each entity's JSON once, so a request only copies bytes.
 */
#include "dir_model.h"
#include "dir_log.h"
#include "dir_model_int.h"
#include "dir_names.h" /* --- names --- */
#include "dir_mem.h"
#include "dir_pdpa.h"
#include "dir_text.h"

#include <jansson.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        int n, cap;                                                                                \
    }
#define VPUSH(vec)                                                                                 \
    ((vec).n == (vec).cap                                                                          \
         ? ((vec).cap = (vec).cap ? (vec).cap * 2 : 64,                                            \
            (vec).v = dir_xrealloc((vec).v, (size_t)(vec).cap * sizeof *(vec).v), 0)               \
         : 0,                                                                                      \
     memset(&(vec).v[(vec).n], 0, sizeof *(vec).v), &(vec).v[(vec).n++])

struct raw_area {
    const char *code, *kind, *parent, *name_th, *name_en, *postal;
    double lat, lon;
    bool approx;
    int version;
};
struct raw_group {
    const char *code, *kind, *parent, *within, *name_th, *name_en;
    int version;
};
struct raw_member {
    const char *group, *area;
};
struct raw_taxon {
    enum dir_tax_kind kind;
    const char *code, *name_th, *name_en, *desc_th, *desc_en;
};
struct raw_offering {
    long long id, org_id;
    const char *service;
    int seq;
};
struct raw_link { /* offering/membership id -> code, in arrival order */
    long long owner;
    const char *a, *b;
    int seq;
};
struct raw_contact {
    struct dir_contact_row r;
    int seq;
};
struct raw_membership {
    long long id, person_id, org_id;
    const char *role, *title_th, *title_en;
    int seq;
};
struct raw_prog_org {
    long long pid, org;
    const char *role_th, *role_en;
};
struct raw_org {
    struct dir_org_row r;
};
struct raw_person {
    struct dir_person_row r;
};
struct raw_hours {
    long long org_id;
    const struct dir_hours *h; /* in the snapshot's arena */
};

struct dir_model_builder {
    struct dir_arena *arena;
    const char **interned; /* open-addressing set of short strings in the arena */
    size_t nintern, intern_cap;
    int stale_days;
    VEC(struct raw_area) areas;
    VEC(struct raw_group) groups;
    VEC(struct raw_member) members;
    VEC(struct raw_taxon) taxa;
    VEC(struct raw_org) orgs;
    VEC(struct raw_contact) contacts;
    VEC(struct raw_offering) offerings;
    VEC(struct raw_link) off_groups, off_areas, mem_areas;
    VEC(struct raw_person) people;
    VEC(struct raw_membership) memberships;
    VEC(struct dir_client) clients;
    VEC(struct dir_change) changes;
    VEC(const char *) revoked;
    VEC(struct dir_programme_row) programmes;
    VEC(struct raw_link) prog_areas;
    VEC(struct raw_prog_org) prog_orgs;
    VEC(struct raw_hours) hours;
    VEC(int) holidays;
};

static const char *area_kind_names[DIR_AREA_NKINDS] = {"country", "province", "district",
                                                       "subdistrict", "community"};

const char *dir_model_area_kind_name(enum dir_area_kind k)
{
    return (unsigned)k < DIR_AREA_NKINDS ? area_kind_names[k] : NULL;
}

int dir_model_area_kind_parse(const char *name)
{
    for (int i = 0; i < DIR_AREA_NKINDS; i++)
        if (name && strcmp(name, area_kind_names[i]) == 0)
            return i;
    return -1;
}

struct dir_model_builder *dir_model_builder_new(int stale_days)
{
    struct dir_model_builder *b = dir_xcalloc(1, sizeof *b);
    b->arena = dir_arena_new();
    b->stale_days = stale_days;
    return b;
}

static void builder_free_rows(struct dir_model_builder *b)
{
    free(b->areas.v);
    free(b->groups.v);
    free(b->members.v);
    free(b->taxa.v);
    free(b->orgs.v);
    free(b->contacts.v);
    free(b->offerings.v);
    free(b->off_groups.v);
    free(b->off_areas.v);
    free(b->mem_areas.v);
    free(b->people.v);
    free(b->memberships.v);
    free(b->clients.v);
    free(b->interned);
    free(b->changes.v);
    free(b->revoked.v);
    free(b->programmes.v);
    free(b->prog_areas.v);
    free(b->prog_orgs.v);
    free(b->hours.v);
    free(b->holidays.v);
    free(b);
}

void dir_model_builder_free(struct dir_model_builder *b)
{
    if (!b)
        return;
    dir_arena_free(b->arena);
    builder_free_rows(b);
}

/* Short strings repeat a lot (codes, kinds, labels, statuses, dates, names and job titles:
 * Thai takes three bytes a letter, so a 40-letter title is 120 bytes): each is stored once
 * per snapshot. */
#define INTERN_MAX 160

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static const char *intern(struct dir_model_builder *b, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n > INTERN_MAX)
        return dir_arena_strndup(b->arena, s, n);
    if (b->nintern * 2 >= b->intern_cap) {
        size_t cap = b->intern_cap ? b->intern_cap * 2 : 4096;
        const char **t = dir_xcalloc(cap, sizeof *t);
        for (size_t i = 0; i < b->intern_cap; i++) {
            const char *x = b->interned[i];
            if (!x)
                continue;
            size_t k = hash_str(x, strlen(x)) & (cap - 1);
            while (t[k])
                k = (k + 1) & (cap - 1);
            t[k] = x;
        }
        free(b->interned);
        b->interned = t;
        b->intern_cap = cap;
    }
    size_t k = hash_str(s, n) & (b->intern_cap - 1);
    for (; b->interned[k]; k = (k + 1) & (b->intern_cap - 1))
        if (strcmp(b->interned[k], s) == 0)
            return b->interned[k];
    b->nintern++;
    return b->interned[k] = dir_arena_strndup(b->arena, s, n);
}

#define S(x) ((char *)intern(b, (x)))

void dir_model_add_area(struct dir_model_builder *b, const char *code, const char *kind,
                        const char *parent, const char *name_th, const char *name_en,
                        const char *postal_code, double lat, double lon, bool coord_approx,
                        int version)
{
    struct raw_area *a = VPUSH(b->areas);
    a->code = S(code);
    a->kind = S(kind);
    a->parent = S(parent);
    a->name_th = S(name_th);
    a->name_en = S(name_en);
    a->postal = S(postal_code);
    a->lat = lat;
    a->lon = lon;
    a->approx = coord_approx;
    a->version = version;
}

void dir_model_add_group(struct dir_model_builder *b, const char *code, const char *kind,
                         const char *parent, const char *within, const char *name_th,
                         const char *name_en, int version)
{
    struct raw_group *g = VPUSH(b->groups);
    g->version = version;
    g->code = S(code);
    g->kind = S(kind);
    g->parent = S(parent);
    g->within = S(within);
    g->name_th = S(name_th);
    g->name_en = S(name_en);
}

void dir_model_add_group_member(struct dir_model_builder *b, const char *group, const char *area)
{
    struct raw_member *m = VPUSH(b->members);
    m->group = S(group);
    m->area = S(area);
}

void dir_model_add_taxon(struct dir_model_builder *b, enum dir_tax_kind kind, const char *code,
                         const char *name_th, const char *name_en, const char *desc_th,
                         const char *desc_en)
{
    struct raw_taxon *t = VPUSH(b->taxa);
    t->kind = kind;
    t->code = S(code);
    t->name_th = S(name_th);
    t->name_en = S(name_en);
    t->desc_th = S(desc_th);
    t->desc_en = S(desc_en);
}

void dir_model_add_org(struct dir_model_builder *b, const struct dir_org_row *row)
{
    struct raw_org *o = VPUSH(b->orgs);
    o->r = *row;
    struct dir_org_row *r = &o->r;
    r->ref = S(row->ref);
    r->name_th = S(row->name_th);
    r->name_en = S(row->name_en);
    r->short_name_th = S(row->short_name_th);
    r->short_name_en = S(row->short_name_en);
    r->type = S(row->type);
    r->sector = S(row->sector);
    r->status = S(row->status ? row->status : "active");
    r->status_date = S(row->status_date);
    r->status_reason = S(row->status_reason);
    r->status_reason_en = S(row->status_reason_en);
    r->description_th = S(row->description_th);
    r->description_en = S(row->description_en);
    r->hours_th = S(row->hours_th);
    r->hours_en = S(row->hours_en);
    r->address_th = S(row->address_th);
    r->address_en = S(row->address_en);
    r->area_code = S(row->area_code);
    r->verified_at = S(row->verified_at);
    r->verified_by = S(row->verified_by);
}

void dir_model_add_contact(struct dir_model_builder *b, const struct dir_contact_row *row)
{
    struct raw_contact *c = VPUSH(b->contacts);
    c->r = *row;
    c->r.kind = S(row->kind);
    c->r.value = S(row->value);
    c->r.extension = S(row->extension);
    c->r.label_th = S(row->label_th);
    c->r.label_en = S(row->label_en);
    c->seq = b->contacts.n;
}

void dir_model_add_offering(struct dir_model_builder *b, long long offering_id, long long org_id,
                            const char *service)
{
    struct raw_offering *o = VPUSH(b->offerings);
    o->id = offering_id;
    o->org_id = org_id;
    o->service = S(service);
    o->seq = b->offerings.n;
}

static void add_link(struct dir_model_builder *b, void *vec, long long owner, const char *x,
                     const char *y)
{
    VEC(struct raw_link) *v = vec;
    struct raw_link *l = VPUSH(*v);
    l->owner = owner;
    l->a = S(x);
    l->b = S(y);
    l->seq = v->n;
}

void dir_model_add_offering_group(struct dir_model_builder *b, long long offering_id,
                                  const char *target_group)
{
    add_link(b, &b->off_groups, offering_id, target_group, NULL);
}

void dir_model_add_offering_area(struct dir_model_builder *b, long long offering_id,
                                 const char *area, const char *group)
{
    add_link(b, &b->off_areas, offering_id, area, group);
}

void dir_model_add_person(struct dir_model_builder *b, const struct dir_person_row *row)
{
    struct raw_person *p = VPUSH(b->people);
    p->r = *row;
    struct dir_person_row *r = &p->r;
    r->ref = S(row->ref);
    r->name_th = S(row->name_th);
    r->name_en = S(row->name_en);
    r->title_th = S(row->title_th);
    r->title_en = S(row->title_en);
    r->profession = S(row->profession);
    r->source = S(row->source);
    r->username = S(row->username);
    r->verified_at = S(row->verified_at);
}

void dir_model_add_membership(struct dir_model_builder *b, long long id, long long person_id,
                              long long org_id, const char *team_role, const char *title_th,
                              const char *title_en)
{
    struct raw_membership *m = VPUSH(b->memberships);
    m->id = id;
    m->person_id = person_id;
    m->org_id = org_id;
    m->role = S(team_role);
    m->title_th = S(title_th);
    m->title_en = S(title_en);
    m->seq = b->memberships.n;
}

void dir_model_add_membership_area(struct dir_model_builder *b, long long membership_id,
                                   const char *area, const char *group)
{
    add_link(b, &b->mem_areas, membership_id, area, group);
}

void dir_model_add_client(struct dir_model_builder *b, const uint8_t hash[DIR_AUTH_HASH_LEN],
                          const char *name, const char *role, long long expires_epoch,
                          bool revoked)
{
    int r = dir_auth_role_parse(role);
    if (r < 0) {
        DIR_LOG(DIR_LOG_WARN, "model", "api client %s has unknown role %s; skipped", name, role);
        return;
    }
    struct dir_client *c = VPUSH(b->clients);
    memcpy(c->hash, hash, DIR_AUTH_HASH_LEN);
    c->name = S(name);
    c->role = (enum dir_role)r;
    c->expires = (time_t)expires_epoch;
    c->revoked = revoked;
}

/* qsort that accepts an empty (possibly NULL) array. */
static void sort_n(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

void dir_model_add_change(struct dir_model_builder *b, long long seq, const char *entity,
                          const char *id, const char *op, const char *at)
{
    struct dir_change *c = VPUSH(b->changes);
    c->seq = seq;
    c->entity = S(entity);
    c->id = S(id);
    c->op = S(op);
    c->at = S(at);
}

void dir_model_add_programme(struct dir_model_builder *b, const struct dir_programme_row *row)
{
    struct dir_programme_row *r = VPUSH(b->programmes);
    *r = *row;
    r->ref = S(row->ref);
    r->name_th = S(row->name_th);
    r->name_en = S(row->name_en);
    r->description_th = S(row->description_th);
    r->description_en = S(row->description_en);
    r->source = S(row->source);
}

void dir_model_add_programme_area(struct dir_model_builder *b, long long programme_id,
                                  const char *area)
{
    add_link(b, &b->prog_areas, programme_id, area, NULL);
}

void dir_model_add_programme_org(struct dir_model_builder *b, long long programme_id,
                                 long long org_id, const char *role_th, const char *role_en)
{
    struct raw_prog_org *r = VPUSH(b->prog_orgs);
    r->pid = programme_id;
    r->org = org_id;
    r->role_th = S(role_th);
    r->role_en = S(role_en);
}

void dir_model_add_revoked(struct dir_model_builder *b, const char *sid)
{
    *VPUSH(b->revoked) = S(sid);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool dir_model_session_revoked(const struct dir_model *m, const char *sid)
{
    return m->nrevoked && bsearch(&sid, m->revoked, (size_t)m->nrevoked, sizeof *m->revoked,
                                  cmp_str) != NULL;
}

/* ---- lookups ---- */

/* Binary search in an array sorted by a key at offset 0 of each SIZE-byte element: a
 * string (areas, groups, org refs) or an id (organisations, people). Index or -1. */
static int find_str(const void *base, int n, size_t size, const char *key)
{
    int lo = 0, hi = n - 1;
    while (key && lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(*(const char *const *)((const char *)base + (size_t)mid * size), key);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int find_id(const void *base, int n, size_t size, long long id)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        long long v = *(const long long *)((const char *)base + (size_t)mid * size);
        if (v == id)
            return mid;
        if (v < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The searches below rely on the key being each struct's first member. */
_Static_assert(offsetof(struct dir_area, code) == 0, "area code first");
_Static_assert(offsetof(struct dir_group, code) == 0, "group code first");
_Static_assert(offsetof(struct dir_org_ref, ref) == 0, "org ref first");
_Static_assert(offsetof(struct dir_org, id) == 0, "org id first");
_Static_assert(offsetof(struct dir_person, id) == 0, "person id first");
_Static_assert(offsetof(struct dir_programme, id) == 0, "programme id first");

int dir_model_area(const struct dir_model *m, const char *code)
{
    return find_str(m->areas, m->nareas, sizeof *m->areas, code);
}

int dir_model_group(const struct dir_model *m, const char *code)
{
    return find_str(m->groups, m->ngroups, sizeof *m->groups, code);
}

int dir_model_taxon(const struct dir_model *m, enum dir_tax_kind kind, const char *code)
{
    for (int i = 0; code && i < m->ntax[kind]; i++)
        if (strcmp(m->tax[kind][i].code, code) == 0)
            return i;
    return -1;
}

/* FIND_ID over a chunked array (dir_cow.h) of SIZE-byte elements. */
static int find_id_chunked(void *const *tab, int n, size_t size, long long id)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        long long v = *(const long long *)((const char *)tab[mid >> DIR_COW_BITS] +
                                           (size_t)(mid & (DIR_COW_CHUNK - 1)) * size);
        if (v == id) return mid;
        if (v < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int dir_model_org(const struct dir_model *m, long long id)
{
    return find_id_chunked(m->org_chunks, m->norgs, sizeof(struct dir_org), id);
}

int dir_model_org_by_ref(const struct dir_model *m, const char *ref)
{
    int i = find_str(m->org_refs_new, m->norg_refs_new, sizeof *m->org_refs_new, ref);
    if (i >= 0) return m->org_refs_new[i].org;
    /* A full-load entry holds while its organisation still has that ref. */
    i = find_str(m->org_refs, m->norg_refs, sizeof *m->org_refs, ref);
    if (i < 0) return -1;
    const struct dir_org *o = dir_model_org_at(m, m->org_refs[i].org);
    return o->ref && strcmp(o->ref, ref) == 0 ? m->org_refs[i].org : -1;
}

int dir_model_person(const struct dir_model *m, long long id)
{
    return find_id_chunked(m->person_chunks, m->npeople, sizeof(struct dir_person), id);
}

static int cmp_client(const void *a, const void *b)
{
    return memcmp(((const struct dir_client *)a)->hash, ((const struct dir_client *)b)->hash,
                  DIR_AUTH_HASH_LEN);
}

const struct dir_client *dir_model_client(const struct dir_model *m,
                                          const uint8_t hash[DIR_AUTH_HASH_LEN])
{
    struct dir_client key = {0};
    memcpy(key.hash, hash, DIR_AUTH_HASH_LEN);
    return m->nclients == 0 ? NULL
                            : bsearch(&key, m->clients, (size_t)m->nclients, sizeof key, cmp_client);
}

bool dir_model_area_within(const struct dir_model *m, int a, int anc)
{
    for (; a >= 0; a = m->areas[a].parent)
        if (a == anc)
            return true;
    return false;
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
    if (!c)
        c = cmp_ll(x->r.person_id, y->r.person_id);
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
    if (!s)
        return NULL;
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
    if (!s)
        return NULL;
    size_t k = ((uintptr_t)s >> 3) * 0x9e3779b97f4a7c15ULL >> 51; /* 13 bits: FOLD_MEMO */
    if (fm->key[k] != s) {
        fm->key[k] = s;
        fm->val[k] = fold(a, s);
    }
    return fm->val[k];
}

static json_t *jstr(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

static void render(struct dir_arena *a, json_t *obj, struct dir_json *out)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    if (!s) {
        s = strdup("{}");
        if (!s)
            abort();
    }
    out->len = strlen(s);
    out->s = dir_arena_strndup(a, s, out->len);
    free(s);
    json_decref(obj);
}

/* Renders OBJ without its outer braces, for embedding in a larger object. */
static void render_inner(struct dir_arena *a, json_t *obj, struct dir_json *out)
{
    struct dir_json whole;
    render(a, obj, &whole);
    out->s = whole.len >= 2 ? whole.s + 1 : "";
    out->len = whole.len >= 2 ? whole.len - 2 : 0;
    ((char *)whole.s)[whole.len >= 1 ? whole.len - 1 : 0] = '\0';
}

static json_t *contacts_json(const struct dir_contact *c, int n, bool full)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        if (!c[i].is_public && !full)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "kind", jstr(c[i].kind));
        json_object_set_new(o, "value", jstr(c[i].value));
        json_object_set_new(o, "extension", jstr(c[i].extension));
        json_object_set_new(o, "label_th", jstr(c[i].label_th));
        json_object_set_new(o, "label_en", jstr(c[i].label_en));
        json_object_set_new(o, "public", json_boolean(c[i].is_public));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *codes_json(const struct dir_coverage *cov)
{
    json_t *arr = json_array();
    for (int i = 0; i < cov->ncodes; i++)
        json_array_append_new(arr, jstr(cov->codes[i]));
    return arr;
}

static json_t *area_ref_json(const struct dir_model *m, int a)
{
    if (a < 0)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "code", jstr(m->areas[a].code));
    json_object_set_new(o, "kind", jstr(area_kind_names[m->areas[a].kind]));
    json_object_set_new(o, "name_th", jstr(m->areas[a].name_th));
    json_object_set_new(o, "name_en", jstr(m->areas[a].name_en));
    return o;
}

static json_t *area_json(const struct dir_model *m, const struct dir_area *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", jstr(a->code));
    json_object_set_new(o, "kind", jstr(area_kind_names[a->kind]));
    json_object_set_new(o, "name_th", jstr(a->name_th));
    json_object_set_new(o, "name_en", jstr(a->name_en));
    json_object_set_new(o, "parent", a->parent >= 0 ? jstr(m->areas[a->parent].code) : json_null());
    json_object_set_new(o, "postal_code", jstr(a->postal_code));
    json_object_set_new(o, "lat", a->has_coord ? json_real(a->lat) : json_null());
    json_object_set_new(o, "lon", a->has_coord ? json_real(a->lon) : json_null());
    json_object_set_new(o, "version", json_integer(a->version));
    return o;
}

/* Where an organisation is: its own point, else its area's or the nearest ancestor's. */
static json_t *location_json(const struct dir_model *m, const struct dir_org_row *r, int area)
{
    json_t *o = json_object();
    if (r->has_coord) {
        json_object_set_new(o, "lat", json_real(r->lat));
        json_object_set_new(o, "lon", json_real(r->lon));
        json_object_set_new(o, "approximate", json_boolean(r->coord_approx));
        json_object_set_new(o, "from", json_string("organization"));
        return o;
    }
    for (int a = area; a >= 0; a = m->areas[a].parent) {
        if (m->areas[a].has_coord) {
            json_object_set_new(o, "lat", json_real(m->areas[a].lat));
            json_object_set_new(o, "lon", json_real(m->areas[a].lon));
            json_object_set_new(o, "approximate", json_true());
            json_object_set_new(o, "from", json_string(m->areas[a].code));
            return o;
        }
    }
    json_decref(o);
    return json_null();
}

static void render_org(struct dir_model *m, struct dir_org *o, const struct dir_org_row *r)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(o->id));
    json_object_set_new(j, "ref", jstr(o->ref));
    json_object_set_new(j, "name_th", jstr(o->name_th));
    json_object_set_new(j, "name_en", jstr(o->name_en));
    json_object_set_new(j, "short_name_th", jstr(r->short_name_th));
    json_object_set_new(j, "short_name_en", jstr(r->short_name_en));
    json_object_set_new(j, "type", jstr(o->type));
    json_object_set_new(j, "sector", jstr(o->sector));
    json_object_set_new(j, "parent", o->parent_id ? json_integer(o->parent_id) : json_null());
    json_object_set_new(j, "status", jstr(o->status));
    json_object_set_new(j, "status_date", jstr(o->status_date));
    json_object_set_new(j, "status_reason_th", jstr(o->status_reason));
    json_object_set_new(j, "status_reason_en", jstr(r->status_reason_en));
    json_object_set_new(j, "successor",
                        o->successor_id ? json_integer(o->successor_id) : json_null());
    json_object_set_new(j, "area", area_ref_json(m, o->area));
    /* Every area or group code the organisation covers, in first-seen order. */
    json_t *areas = json_array(), *services = json_array();
    for (int i = 0; i < o->noffers; i++) {
        const struct dir_offering *of = &o->offerings[i];
        json_t *s = json_object(), *groups = json_array();
        json_object_set_new(s, "code", jstr(m->tax[DIR_TAX_SERVICE][of->service].code));
        json_object_set_new(s, "name_th", jstr(m->tax[DIR_TAX_SERVICE][of->service].name_th));
        json_object_set_new(s, "name_en", jstr(m->tax[DIR_TAX_SERVICE][of->service].name_en));
        for (int g = 0; g < m->ntax[DIR_TAX_TARGET_GROUP]; g++)
            if (of->groups & (1ULL << g))
                json_array_append_new(groups, jstr(m->tax[DIR_TAX_TARGET_GROUP][g].code));
        json_object_set_new(s, "target_groups", groups);
        json_t *codes = codes_json(&of->cov);
        if (of->cov.ncodes == 0 && o->area >= 0)
            json_array_append_new(codes, jstr(m->areas[o->area].code));
        size_t k;
        json_t *c;
        json_array_foreach(codes, k, c)
        {
            bool seen = false;
            size_t q;
            json_t *d;
            json_array_foreach(areas, q, d) seen = seen || json_equal(c, d);
            if (!seen)
                json_array_append(areas, c);
        }
        json_object_set_new(s, "areas", codes);
        json_array_append_new(services, s);
    }
    json_object_set_new(j, "areas", areas);
    json_object_set_new(j, "services", services);
    json_object_set_new(j, "description_th", jstr(r->description_th));
    json_object_set_new(j, "description_en", jstr(r->description_en));
    json_object_set_new(j, "hours_th", jstr(r->hours_th));
    json_object_set_new(j, "hours_en", jstr(r->hours_en));
    json_object_set_new(j, "hours", o->hours ? dir_hours_json(o->hours) : json_null());
    json_object_set_new(j, "opened_year", r->opened_year ? json_integer(r->opened_year) : json_null());
    json_object_set_new(j, "address_th", jstr(r->address_th));
    json_object_set_new(j, "address_en", jstr(r->address_en));
    json_object_set_new(j, "location", location_json(m, r, o->area));
    json_object_set_new(j, "verified_at", jstr(o->verified_at));
    json_object_set_new(j, "stale", json_boolean(o->stale));
    json_object_set_new(j, "demo", json_boolean(o->demo));
    json_object_set_new(j, "version", json_integer(r->version));

    /* The contact card: who and how to reach them. */
    json_t *card = json_object();
    json_object_set_new(card, "id", json_integer(o->id));
    json_object_set_new(card, "ref", jstr(o->ref));
    json_object_set_new(card, "name_th", jstr(o->name_th));
    json_object_set_new(card, "name_en", jstr(o->name_en));
    json_object_set_new(card, "type", jstr(o->type));
    json_object_set_new(card, "status", jstr(o->status));
    json_object_set_new(card, "area", area_ref_json(m, o->area));
    json_object_set_new(card, "address_th", jstr(r->address_th));
    json_object_set_new(card, "address_en", jstr(r->address_en));
    /* Where it is, for the map links of an answer (as in the organisation's own answer). */
    json_object_set_new(card, "location", location_json(m, r, o->area));
    json_object_set_new(card, "hours_th", jstr(r->hours_th));
    json_object_set_new(card, "hours_en", jstr(r->hours_en));
    json_object_set_new(card, "hours", o->hours ? dir_hours_json(o->hours) : json_null());
    json_object_set_new(card, "verified_at", jstr(o->verified_at));
    json_object_set_new(card, "stale", json_boolean(o->stale));
    bool private = false;
    for (int i = 0; i < o->ncontacts; i++)
    private = private || !o->contacts[i].is_public;
    json_t *card_full = private ? json_deep_copy(card) : NULL;
    json_object_set_new(card, "contacts", contacts_json(o->contacts, o->ncontacts, false));
    render_inner(m->arena, card, &o->card_public);
    if (private) {
        json_object_set_new(card_full, "contacts", contacts_json(o->contacts, o->ncontacts, true));
        render_inner(m->arena, card_full, &o->card_full);
    } else {
        o->card_full = o->card_public; /* the same bytes: kept once */
    }

    /* The full answer is the public one with every contact and "verified_by" last. Without
     * private contacts it is kept as the public one's bytes (dir_model_org_json adds
     * verified_by): 2 KB per organisation not held twice. */
    json_t *full = private ? json_deep_copy(j) : NULL;
    json_object_set_new(j, "contacts", contacts_json(o->contacts, o->ncontacts, false));
    render(m->arena, j, &o->json_public);
    if (private) {
        json_object_set_new(full, "contacts", contacts_json(o->contacts, o->ncontacts, true));
        json_object_set_new(full, "verified_by", jstr(o->verified_by));
        render(m->arena, full, &o->json_full);
    } else {
        o->json_full = o->json_public;
    }
}

/* ,"KEY":"value" or ,"KEY":null (FIRST omits the comma). */
static enum dir_rc put_str(struct dir_buf *b, bool first, const char *key, const char *v)
{
    enum dir_rc rc = dir_buf_adds(b, first ? "\"" : ",\"");
    if (!rc) rc = dir_buf_adds(b, key);
    if (!rc) rc = dir_buf_add(b, "\":", 2);
    return rc ? rc : v ? dir_buf_add_json_str(b, v) : dir_buf_adds(b, "null");
}

static enum dir_rc person_json(const struct dir_model *m, const struct dir_person *p,
                               bool braces, bool card, struct dir_buf *b)
{
    enum dir_rc rc = braces ? dir_buf_adds(b, "{") : DIR_OK;
    if (!rc) rc = dir_buf_adds(b, "\"id\":");
    if (!rc) rc = dir_buf_add_int(b, p->id);
    if (!rc)
        rc = put_str(b, false, "ref", p->ref);
    if (!rc)
        rc = put_str(b, false, "name_th", p->name_th);
    if (!rc)
        rc = put_str(b, false, "name_en", p->name_en);
    if (!rc)
        rc = put_str(b, false, "title_th", p->title_th);
    if (!rc)
        rc = put_str(b, false, "title_en", p->title_en);
    if (!rc)
        rc = put_str(b, false, "profession", p->profession);
    if (!rc && !card)
        rc = put_str(b, false, "source", p->source);
    if (!rc && !card)
        rc = dir_buf_printf(b, ",\"active\":%s,\"memberships\":[", p->active ? "true" : "false");
    for (int i = 0; !rc && !card && i < p->nmembers; i++) {
        const struct dir_membership *ms = &p->members[i];
        const struct dir_org *o = dir_model_org_at(m, ms->org);
        rc = dir_buf_adds(b, i ? ",{\"organization\":{\"id\":" : "{\"organization\":{\"id\":");
        if (!rc) rc = dir_buf_add_int(b, o->id);
        if (!rc)
            rc = put_str(b, false, "name_th", o->name_th);
        if (!rc)
            rc = put_str(b, false, "name_en", o->name_en);
        if (!rc)
            rc = put_str(b, false, "status", o->status);
        if (!rc)
            rc = dir_buf_adds(b, "}");
        if (!rc)
            rc = put_str(b, false, "team_role", ms->team_role);
        if (!rc)
            rc = put_str(b, false, "title_th", ms->title_th);
        if (!rc)
            rc = put_str(b, false, "title_en", ms->title_en);
        if (!rc)
            rc = dir_buf_adds(b, ",\"areas\":[");
        for (int k = 0; !rc && k < ms->cov.ncodes; k++) {
            if (k)
                rc = dir_buf_adds(b, ",");
            if (!rc)
                rc = dir_buf_add_json_str(b, ms->cov.codes[k]);
        }
        if (!rc)
            rc = dir_buf_adds(b, "]}");
    }
    if (!rc)
        rc = dir_buf_adds(b, card ? ",\"contacts\":[" : "],\"contacts\":[");
    for (int i = 0; !rc && i < p->ncontacts; i++) {
        const struct dir_contact *c = &p->contacts[i];
        rc = dir_buf_adds(b, i ? ",{" : "{");
        if (!rc)
            rc = put_str(b, true, "kind", c->kind);
        if (!rc)
            rc = put_str(b, false, "value", c->value);
        if (!rc)
            rc = put_str(b, false, "extension", c->extension);
        if (!rc)
            rc = put_str(b, false, "label_th", c->label_th);
        if (!rc)
            rc = put_str(b, false, "label_en", c->label_en);
        if (!rc) rc = dir_buf_adds(b, c->is_public ? ",\"public\":true}" : ",\"public\":false}");
    }
    if (!rc)
        rc = dir_buf_adds(b, "]");
    if (!rc)
        rc = put_str(b, false, "verified_at", p->verified_at);
    if (!rc && card)
        rc = dir_buf_adds(b, p->stale ? ",\"stale\":true" : ",\"stale\":false");
    else if (!rc)
        rc = dir_buf_printf(b, ",\"stale\":%s,\"demo\":%s,\"version\":%d",
                            p->stale ? "true" : "false", p->demo ? "true" : "false", p->version);
    return rc || !braces ? rc : dir_buf_adds(b, "}");
}

/* A person's JSON always holds every contact point: the access log notes the person. */
enum dir_rc dir_model_person_json(const struct dir_model *m, const struct dir_person *p,
                                  bool braces, struct dir_buf *b)
{
    dir_pdpa_note_person(p);
    return person_json(m, p, braces, false, b);
}

enum dir_rc dir_model_person_card(const struct dir_model *m, const struct dir_person *p,
                                  struct dir_buf *b)
{
    dir_pdpa_note_person(p);
    return person_json(m, p, false, true, b);
}

/* Builds the coverage of one owner from links[from..to): area codes or group codes. */
static void build_coverage(struct dir_model *m, struct dir_coverage *cov,
                           const struct raw_link *links, int n)
{
    int nareas = 0;
    cov->codes = dir_arena_alloc(m->arena, sizeof(char *) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        if (links[i].a) {
            if (dir_model_area(m, links[i].a) >= 0)
                nareas++;
        } else {
            int g = dir_model_group(m, links[i].b);
            if (g >= 0)
                nareas += m->groups[g].nmembers;
        }
    }
    cov->areas = dir_arena_alloc(m->arena, sizeof(int) * (size_t)(nareas ? nareas : 1));
    for (int i = 0; i < n; i++) {
        const char *code = links[i].a ? links[i].a : links[i].b;
        if (links[i].a) {
            int a = dir_model_area(m, links[i].a);
            if (a < 0)
                continue;
            cov->areas[cov->nareas++] = a;
        } else {
            int g = dir_model_group(m, links[i].b);
            if (g < 0)
                continue;
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
                DIR_LOG(DIR_LOG_WARN, "model", "area %s has unknown parent %s", a->code,
                        r->parent);
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
        if (gi[i] < 0 || ai[i] < 0)
            continue;
        m->groups[gi[i]].nmembers++;
        m->areas[ai[i]].ngroups++;
    }
    for (int i = 0; i < m->ngroups; i++) {
        m->groups[i].members =
            dir_arena_alloc(m->arena, sizeof(int) * (size_t)(m->groups[i].nmembers + 1));
        m->groups[i].nmembers = 0;
    }
    for (int i = 0; i < m->nareas; i++) {
        if (!m->areas[i].ngroups)
            continue;
        m->areas[i].groups =
            dir_arena_alloc(m->arena, sizeof(int) * (size_t)(m->areas[i].ngroups + 1));
        m->areas[i].ngroups = 0;
    }
    for (int i = 0; i < b->members.n; i++) {
        if (gi[i] < 0 || ai[i] < 0)
            continue;
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
        json_object_set_new(j, "code", jstr(t->code));
        json_object_set_new(j, "name_th", jstr(t->name_th));
        json_object_set_new(j, "name_en", jstr(t->name_en));
        if (r->kind == DIR_TAX_SERVICE || r->kind == DIR_TAX_TARGET_GROUP ||
            r->kind == DIR_TAX_TEAM_ROLE) {
            json_object_set_new(j, "description_th", jstr(t->desc_th));
            json_object_set_new(j, "description_en", jstr(t->desc_en));
        }
        render(m->arena, j, &t->json);
    }
}

struct hours_err {
    long long org_id;
    bool logged;
};

static void hours_error(void *ctx, const char *field, const char *th, const char *en)
{
    struct hours_err *e = ctx;
    (void)th;
    if (!e->logged)
        DIR_LOG(DIR_LOG_WARN, "model", "organization %lld: stored hours dropped: %s %s", e->org_id,
                field, en);
    e->logged = true;
}

void dir_model_add_hours(struct dir_model_builder *b, long long org_id, const char *json)
{
    json_t *v = json ? json_loads(json, JSON_REJECT_DUPLICATES, NULL) : NULL;
    struct hours_err e = {org_id, false};
    const struct dir_hours *h = NULL;
    if (!v)
        hours_error(&e, "hours", "", "not JSON");
    else if (dir_hours_parse(v, b->arena, &h, hours_error, &e))
        *VPUSH(b->hours) = (struct raw_hours){org_id, h};
    json_decref(v);
}

void dir_model_add_holiday(struct dir_model_builder *b, int day)
{
    *VPUSH(b->holidays) = day;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Cuts B back to MARK bytes (an answer is never left half-written). */
static void undo(struct dir_buf *b, size_t mark)
{
    b->len = mark;
    if (b->data) b->data[mark] = '\0';
}

struct dir_hours_state dir_model_org_open(const struct dir_model *m, const struct dir_org *o,
                                          time_t now)
{
    if (strcmp(o->status, "active") != 0) return (struct dir_hours_state){DIR_HOURS_CLOSED, 0};
    return dir_hours_at(o->hours, &m->holidays, now);
}

enum dir_rc dir_model_org_json(const struct dir_model *m, const struct dir_org *o, bool full,
                               time_t now, struct dir_buf *b)
{
    const struct dir_json *j = full ? &o->json_full : &o->json_public;
    size_t mark = b->len;
    enum dir_rc rc = dir_buf_add(b, j->s, j->len - 1); /* all but the closing brace */
    if (!rc && full && j->s == o->json_public.s) { /* shared bytes: see render_org */
        rc = dir_buf_adds(b, ",\"verified_by\":");
        if (!rc)
            rc = o->verified_by ? dir_buf_add_json_str(b, o->verified_by)
                                : dir_buf_adds(b, "null");
    }
    if (!rc) rc = dir_hours_add_state(b, dir_model_org_open(m, o, now));
    if (!rc) rc = dir_buf_adds(b, "}");
    if (rc) undo(b, mark);
    return rc;
}

enum dir_rc dir_model_org_card(const struct dir_model *m, const struct dir_org *o, bool full,
                               time_t now, struct dir_buf *b)
{
    const struct dir_json *j = full ? &o->card_full : &o->card_public;
    size_t mark = b->len;
    enum dir_rc rc = dir_buf_add(b, j->s, j->len);
    if (!rc) rc = dir_hours_add_state(b, dir_model_org_open(m, o, now));
    if (rc) undo(b, mark);
    return rc;
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
    sort_n(b->holidays.v, (size_t)b->holidays.n, sizeof *b->holidays.v, cmp_int);
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
                if (s < 0)
                    continue;
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
                if (oi < 0)
                    continue;
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

static int cmp_org_ref(const void *a, const void *b)
{
    return strcmp(((const struct dir_org_ref *)a)->ref, ((const struct dir_org_ref *)b)->ref);
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
        json_object_set_new(j, "ref", jstr(r->ref));
        json_object_set_new(j, "name_th", jstr(r->name_th));
        json_object_set_new(j, "name_en", jstr(r->name_en));
        json_object_set_new(j, "description_th", jstr(r->description_th));
        json_object_set_new(j, "description_en", jstr(r->description_en));
        json_object_set_new(j, "start_year", r->start_year ? json_integer(r->start_year) : json_null());
        json_object_set_new(j, "end_year", r->end_year ? json_integer(r->end_year) : json_null());
        json_object_set_new(j, "source", jstr(r->source));
        json_object_set_new(j, "areas", json_array());
        json_object_set_new(j, "organizations", json_array());
        json_object_set_new(j, "version", json_integer(r->version));
    }
    for (int i = 0; i < b->prog_areas.n; i++) {
        int p = find_id(m->programmes, m->nprogrammes, sizeof *m->programmes,
                        b->prog_areas.v[i].owner);
        int a = dir_model_area(m, b->prog_areas.v[i].a);
        if (p >= 0 && a >= 0)
            json_array_append_new(json_object_get(objs[p], "areas"), area_ref_json(m, a));
    }
    for (int i = 0; i < b->prog_orgs.n; i++) {
        const struct raw_prog_org *r = &b->prog_orgs.v[i];
        int p = find_id(m->programmes, m->nprogrammes, sizeof *m->programmes, r->pid);
        int o = dir_model_org(m, r->org);
        if (p < 0 || o < 0)
            continue;
        json_t *x = json_object();
        json_object_set_new(x, "id", json_integer(dir_model_org_at(m, o)->id));
        json_object_set_new(x, "name_th", jstr(dir_model_org_at(m, o)->name_th));
        json_object_set_new(x, "name_en", jstr(dir_model_org_at(m, o)->name_en));
        json_object_set_new(x, "role_th", jstr(r->role_th));
        json_object_set_new(x, "role_en", jstr(r->role_en));
        json_array_append_new(json_object_get(objs[p], "organizations"), x);
    }
    for (int i = 0; i < m->nprogrammes; i++)
        render(m->arena, objs[i], &m->programmes[i].json);
    free(objs);
}

int dir_model_programme(const struct dir_model *m, long long id, const char *ref)
{
    if (id)
        return find_id(m->programmes, m->nprogrammes, sizeof *m->programmes, id);
    for (int i = 0; ref && i < m->nprogrammes; i++)
        if (m->programmes[i].ref && strcmp(m->programmes[i].ref, ref) == 0)
            return i;
    return -1;
}

struct vref {
    time_t verified;
    struct dir_ref ref;
};
static int cmp_vref(const void *a, const void *b)
{
    const struct vref *x = a, *y = b;
    if (x->verified != y->verified)
        return x->verified > y->verified ? -1 : 1;
    if (x->ref.owner != y->ref.owner)
        return x->ref.owner - y->ref.owner;
    return x->ref.item - y->ref.item;
}

static void sort_by_verified(const struct dir_model *m, struct dir_ref *refs, int n)
{
    if (n < 2)
        return;
    struct vref *v = dir_xmalloc(sizeof *v * (size_t)n);
    for (int i = 0; i < n; i++)
        v[i] = (struct vref){dir_model_org_at(m, refs[i].owner)->verified, refs[i]};
    qsort(v, (size_t)n, sizeof *v, cmp_vref);
    for (int i = 0; i < n; i++)
        refs[i] = v[i].ref;
    free(v);
}

bool dir_modeli_is_unit(const struct dir_org *o)
{
    return o->parent_id && o->type && strcmp(o->type, "bma_unit") == 0;
}

void dir_modeli_welfare_orgs(struct dir_model *m, struct dir_area *a)
{
    a->welfare_orgs = NULL;
    a->nwelfare_orgs = 0;
    if (!a->nwelfare)
        return;
    int *v = dir_xmalloc(sizeof(int) * (size_t)a->nwelfare), n = 0;
    for (int k = 0; k < a->nwelfare; k++) {
        const struct dir_person *p = dir_model_person_at(m, a->welfare[k].owner);
        if (p->active)
            v[n++] = p->members[a->welfare[k].item].org;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_int);
    int u = 0;
    for (int k = 0; k < n; k++)
        if (!u || v[u - 1] != v[k])
            v[u++] = v[k];
    if (u) {
        a->welfare_orgs = dir_arena_alloc(m->arena, sizeof(int) * (size_t)u);
        memcpy(a->welfare_orgs, v, sizeof(int) * (size_t)u);
        a->nwelfare_orgs = u;
    }
    free(v);
}

void dir_modeli_build_welfare(struct dir_model *m, struct dir_area *a)
{
    a->welfare = NULL;
    a->nwelfare = 0;
    a->welfare_orgs = NULL;
    a->nwelfare_orgs = 0;
    int n = 0;
    for (int k = 0; k < a->nmembers; k++) {
        const struct dir_membership *ms =
            &dir_model_person_at(m, a->members[k].owner)->members[a->members[k].item];
        n += ms->team_role && strcmp(ms->team_role, "district_welfare") == 0;
    }
    if (!n)
        return;
    struct vref *v = dir_xmalloc(sizeof *v * (size_t)n);
    n = 0;
    for (int k = 0; k < a->nmembers; k++) {
        const struct dir_person *p = dir_model_person_at(m, a->members[k].owner);
        const struct dir_membership *ms = &p->members[a->members[k].item];
        if (ms->team_role && strcmp(ms->team_role, "district_welfare") == 0)
            v[n++] = (struct vref){p->verified, a->members[k]};
    }
    qsort(v, (size_t)n, sizeof *v, cmp_vref);
    a->welfare = dir_arena_alloc(m->arena, sizeof(struct dir_ref) * (size_t)n);
    for (int k = 0; k < n; k++)
        a->welfare[k] = v[k].ref;
    a->nwelfare = n;
    free(v);
    dir_modeli_welfare_orgs(m, a);
}

void dir_modeli_offers_by_service(struct dir_model *m, const struct dir_ref *refs, int n,
                                  struct dir_ref **by_service, int **svc_at)
{
    int ns = m->ntax[DIR_TAX_SERVICE];
    int *at = dir_arena_alloc(m->arena, sizeof *at * (size_t)(ns + 2));
    memset(at, 0, sizeof *at * (size_t)(ns + 2));
    for (int i = 0; i < n; i++) /* a counting sort: stable, so each group keeps REFS' order */
        at[dir_model_org_at(m, refs[i].owner)->offerings[refs[i].item].service + 2]++;
    for (int s = 0; s <= ns; s++)
        at[s + 1] += at[s];
    struct dir_ref *v = dir_arena_alloc(m->arena, sizeof *v * (size_t)(n + 1));
    for (int i = 0; i < n; i++)
        v[at[dir_model_org_at(m, refs[i].owner)->offerings[refs[i].item].service + 1]++] = refs[i];
    *by_service = v;
    *svc_at = at;
}

void dir_modeli_sort_by_verified(const struct dir_model *m, struct dir_ref *refs, int n)
{
    sort_by_verified(m, refs, n);
}

/* Adds REF to the list of area A (COUNT pass when LISTS is NULL). */
static void bucket(int *counts, struct dir_ref **lists, int a, struct dir_ref ref)
{
    if (lists)
        lists[a][counts[a]] = ref;
    counts[a]++;
}

/* The resolver's indexes: per area and per group, the offerings and memberships that name
 * it, and the units located in each area. Two passes: count, then fill. */
static void build_indexes(struct dir_model *m)
{
    int *ac = dir_xcalloc((size_t)m->nareas + 1, sizeof(int));
    int *gc = dir_xcalloc((size_t)m->ngroups + 1, sizeof(int));
    int *mc = dir_xcalloc((size_t)m->nareas + 1, sizeof(int));
    struct dir_ref **al = NULL, **gl = NULL, **ml = NULL;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            al = dir_xcalloc((size_t)m->nareas + 1, sizeof *al);
            gl = dir_xcalloc((size_t)m->ngroups + 1, sizeof *gl);
            ml = dir_xcalloc((size_t)m->nareas + 1, sizeof *ml);
            for (int i = 0; i < m->nareas; i++) {
                al[i] = m->areas[i].offers =
                    dir_arena_alloc(m->arena, sizeof(struct dir_ref) * (size_t)(ac[i] + 1));
                ml[i] = m->areas[i].members =
                    dir_arena_alloc(m->arena, sizeof(struct dir_ref) * (size_t)(mc[i] + 1));
                m->areas[i].units = dir_arena_alloc(m->arena, sizeof(int) * 1);
            }
            for (int i = 0; i < m->ngroups; i++)
                gl[i] = m->groups[i].offers =
                    dir_arena_alloc(m->arena, sizeof(struct dir_ref) * (size_t)(gc[i] + 1));
            memset(ac, 0, sizeof(int) * (size_t)m->nareas);
            memset(gc, 0, sizeof(int) * (size_t)m->ngroups);
            memset(mc, 0, sizeof(int) * (size_t)m->nareas);
        }
        for (int o = 0; o < m->norgs; o++) {
            const struct dir_org *org = dir_model_org_at(m, o);
            for (int k = 0; k < org->noffers; k++) {
                const struct dir_coverage *cov = &org->offerings[k].cov;
                struct dir_ref ref = {o, k};
                if (cov->ncodes == 0 && org->area >= 0)
                    bucket(ac, al, org->area, ref);
                for (int c = 0; c < cov->ncodes; c++) {
                    int a = dir_model_area(m, cov->codes[c]);
                    if (a >= 0) {
                        bucket(ac, al, a, ref);
                    } else if ((a = dir_model_group(m, cov->codes[c])) >= 0) {
                        bucket(gc, gl, a, ref);
                    }
                }
            }
        }
        for (int p = 0; p < m->npeople; p++) {
            const struct dir_person *per = dir_model_person_at(m, p);
            for (int k = 0; k < per->nmembers; k++) {
                const struct dir_coverage *cov = &per->members[k].cov;
                for (int c = 0; c < cov->ncodes; c++) {
                    int a = dir_model_area(m, cov->codes[c]);
                    if (a >= 0)
                        bucket(mc, ml, a, (struct dir_ref){p, k});
                }
            }
        }
    }
    for (int i = 0; i < m->nareas; i++) {
        m->areas[i].noffers = ac[i];
        m->areas[i].nmembers = mc[i];
    }
    for (int i = 0; i < m->ngroups; i++)
        m->groups[i].noffers = gc[i];
    /* District welfare staff per area, the most recently verified first. */
    for (int i = 0; i < m->nareas; i++)
        dir_modeli_build_welfare(m, &m->areas[i]);
    /* Units by location (candidates for a district office's section). */
    memset(ac, 0, sizeof(int) * (size_t)m->nareas);
    for (int o = 0; o < m->norgs; o++) {
        const struct dir_org *org = dir_model_org_at(m, o);
        if (org->area >= 0 && dir_modeli_is_unit(org)) ac[org->area]++;
    }
    for (int i = 0; i < m->nareas; i++)
        if (ac[i])
            m->areas[i].units = dir_arena_alloc(m->arena, sizeof(int) * (size_t)ac[i]);
    for (int o = 0; o < m->norgs; o++) {
        const struct dir_org *org = dir_model_org_at(m, o);
        if (org->area >= 0 && dir_modeli_is_unit(org)) {
            struct dir_area *a = &m->areas[org->area];
            a->units[a->nunits++] = o;
        }
    }
    /* Each list of offerings in the order the resolver offers them: the most recently
     * verified organisation first, then by id. */
    for (int i = 0; i < m->nareas; i++) {
        struct dir_area *a = &m->areas[i];
        sort_by_verified(m, a->offers, a->noffers);
        dir_modeli_offers_by_service(m, a->offers, a->noffers, &a->by_service, &a->svc_at);
    }
    for (int i = 0; i < m->ngroups; i++) {
        struct dir_group *g = &m->groups[i];
        sort_by_verified(m, g->offers, g->noffers);
        dir_modeli_offers_by_service(m, g->offers, g->noffers, &g->by_service, &g->svc_at);
    }
    /* Child opportunity centres. */
    m->centres = dir_arena_alloc(m->arena, sizeof(int) * (size_t)(m->norgs + 1));
    for (int o = 0; o < m->norgs; o++) {
        struct dir_org *org = dir_modeli_org_w(m, o);
        org->is_centre = org->type && strcmp(org->type, "child_opportunity_centre") == 0;
        if (org->is_centre) m->centres[m->ncentres++] = o;
    }
    /* Organisations by ref. */
    m->org_refs = dir_arena_alloc(m->arena, sizeof(struct dir_org_ref) * (size_t)(m->norgs + 1));
    for (int o = 0; o < m->norgs; o++)
        if (dir_model_org_at(m, o)->ref)
            m->org_refs[m->norg_refs++] = (struct dir_org_ref){dir_model_org_at(m, o)->ref, o};
    sort_n(m->org_refs, (size_t)m->norg_refs, sizeof *m->org_refs, cmp_org_ref);
    free(ac);
    free(gc);
    free(mc);
    free(al);
    free(gl);
    free(ml);
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
        builder_free_rows(b);
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
    sort_n(m->clients, (size_t)m->nclients, sizeof *m->clients, cmp_client);

    m->nrevoked = b->revoked.n;
    m->revoked = dir_arena_alloc(m->arena, sizeof(char *) * (size_t)(m->nrevoked + 1));
    if (m->nrevoked)
        memcpy(m->revoked, b->revoked.v, sizeof(char *) * (size_t)m->nrevoked);
    sort_n(m->revoked, (size_t)m->nrevoked, sizeof *m->revoked, cmp_str);
    m->nchanges = b->changes.n;
    m->changes = dir_arena_alloc(m->arena, sizeof(struct dir_change) * (size_t)(m->nchanges + 1));
    if (m->nchanges)
        memcpy(m->changes, b->changes.v, sizeof(struct dir_change) * (size_t)m->nchanges);

    /* Render once everything is resolved. */
    for (int i = 0; i < m->nareas; i++)
        render(m->arena, area_json(m, &m->areas[i]), &m->areas[i].json);
    for (int i = 0; i < m->ngroups; i++) {
        struct dir_group *g = &m->groups[i];
        json_t *j = json_object(), *mem = json_array();
        json_object_set_new(j, "code", jstr(g->code));
        json_object_set_new(j, "kind", jstr(g->kind));
        json_object_set_new(j, "name_th", jstr(g->name_th));
        json_object_set_new(j, "name_en", jstr(g->name_en));
        json_object_set_new(j, "parent", g->parent >= 0 ? jstr(m->groups[g->parent].code) : json_null());
        json_object_set_new(j, "within", g->within >= 0 ? jstr(m->areas[g->within].code) : json_null());
        for (int k = 0; k < g->nmembers; k++)
            json_array_append_new(mem, area_ref_json(m, g->members[k]));
        json_object_set_new(j, "members", mem);
        json_object_set_new(j, "version", json_integer(g->version));
        render(m->arena, j, &g->json);
    }
    for (int i = 0; i < m->norgs; i++)
        render_org(m, dir_modeli_org_w(m, i), &b->orgs.v[i].r);
    finish_programmes(b, m);
    build_indexes(m);

    builder_free_rows(b);
    m->pieces->share = dir_modeli_share_new(m->arena, NULL);
    static atomic_ullong lineages;
    m->lineage = atomic_fetch_add(&lineages, 1) + 1;
    m->names = dir_names_build(m); /* --- names --- */
    *out = m;
    return DIR_OK;
}

void dir_model_release(struct dir_model *m)
{
    if (!m)
        return;
    if (atomic_fetch_sub(&m->refs, 1) == 1) {
        struct dir_model_ext *x = atomic_load(&m->entries);
        if (x)
            x->free(x);
        if ((x = atomic_load(&m->hsds_ids))) /* --- hsds-import --- */
            x->free(x);
        struct dir_model *full = m->full;
        dir_names_release(m->names); /* --- names --- */
        if (m->pieces) {
            dir_modeli_share_release(m->pieces->share);
            for (int i = 0; i < DIR_BLOB_N; i++)
                dir_modeli_blob_release(m->pieces->blob[i]);
            dir_cow_free(&m->pieces->orgs);
            dir_cow_free(&m->pieces->people);
            free(m->pieces);
        } else {
            dir_arena_free(m->arena);
        }
        free(m);
        dir_model_release(full); /* after: the full load may hold the last of shared pieces */
    }
}

/* ---- pieces shared between versions (dir_model_apply.c) ---- */

struct dir_model_share *dir_modeli_share_new(struct dir_arena *a, struct dir_model_share *prev)
{
    struct dir_model_share *s = dir_xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    s->arena = a;
    s->prev = prev;
    if (prev)
        atomic_fetch_add(&prev->refs, 1);
    return s;
}

void dir_modeli_share_release(struct dir_model_share *s)
{
    while (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        struct dir_model_share *prev = s->prev;
        dir_arena_free(s->arena);
        free(s);
        s = prev;
    }
}

struct dir_model_blob *dir_modeli_blob_new(size_t bytes)
{
    struct dir_model_blob *b = dir_xmalloc(sizeof *b + bytes);
    atomic_init(&b->refs, 1);
    return b;
}

void dir_modeli_blob_release(struct dir_model_blob *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}

struct dir_arena *dir_modeli_take_arena(struct dir_model_builder *b)
{
    struct dir_arena *a = b->arena;
    b->arena = NULL;
    return a;
}

void dir_modeli_builder_done(struct dir_model_builder *b)
{
    dir_arena_free(b->arena);
    builder_free_rows(b);
}

void dir_modeli_finish_orgs(struct dir_model_builder *b, struct dir_model *s, struct dir_cow *c,
                            time_t now)
{
    finish_orgs(b, s, c, now);
    for (int i = 0; i < s->norgs; i++) {
        struct dir_org *o = dir_modeli_org_w(s, i);
        o->is_centre = o->type && strcmp(o->type, "child_opportunity_centre") == 0;
        render_org(s, o, &b->orgs.v[i].r);
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
    sort_n(s->clients, (size_t)s->nclients, sizeof *s->clients, cmp_client);
}

void dir_modeli_finish_revoked(struct dir_model_builder *b, struct dir_model *s)
{
    s->nrevoked = b->revoked.n;
    s->revoked = dir_arena_alloc(s->arena, sizeof(char *) * (size_t)(s->nrevoked + 1));
    if (s->nrevoked)
        memcpy(s->revoked, b->revoked.v, sizeof(char *) * (size_t)s->nrevoked);
    sort_n(s->revoked, (size_t)s->nrevoked, sizeof *s->revoked, cmp_str);
}

const struct dir_change *dir_modeli_changes(const struct dir_model_builder *b, int *n)
{
    *n = b->changes.n;
    return b->changes.v;
}
