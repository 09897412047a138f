/* dir_model_build.c - the read model's builder: dir_model_add_* collect the raw rows of one
 * snapshot, short strings interned once in the snapshot's arena.
 *
 * The builder keeps raw rows in growable arrays (strings already in the snapshot's arena);
 * dir_model_finish sorts them, resolves codes and ids to indexes, groups children under
 * their parents and renders each entity's JSON once, so a request only copies bytes.
 * (dir_model_finish.c; the rows' structs are in dir_model_int.h.)
 */
#include "dir_model.h"
#include "dir_log.h"
#include "dir_model_int.h"
#include "dir_mem.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define VPUSH(vec)                                                                                 \
    ((vec).n == (vec).cap                                                                          \
         ? ((vec).cap = (vec).cap ? (vec).cap * 2 : 64,                                            \
            (vec).v = dir_xrealloc((vec).v, (size_t)(vec).cap * sizeof *(vec).v), 0)               \
         : 0,                                                                                      \
     memset(&(vec).v[(vec).n], 0, sizeof *(vec).v), &(vec).v[(vec).n++])

struct dir_model_builder *dir_model_builder_new(int stale_days)
{
    struct dir_model_builder *b = dir_xcalloc(1, sizeof *b);
    b->arena = dir_arena_new();
    b->stale_days = stale_days;
    return b;
}

void dir_modeli_builder_free_rows(struct dir_model_builder *b)
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
    if (!b) return;
    dir_arena_free(b->arena);
    dir_modeli_builder_free_rows(b);
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
    if (!s) return NULL;
    size_t n = strlen(s);
    if (n > INTERN_MAX) return dir_arena_strndup(b->arena, s, n);
    if (b->nintern * 2 >= b->intern_cap) {
        size_t cap = b->intern_cap ? b->intern_cap * 2 : 4096;
        const char **t = dir_xcalloc(cap, sizeof *t);
        for (size_t i = 0; i < b->intern_cap; i++) {
            const char *x = b->interned[i];
            if (!x) continue;
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
        if (strcmp(b->interned[k], s) == 0) return b->interned[k];
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
                          const char *name, const char *role, long long expires_epoch, bool revoked)
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

struct dir_arena *dir_modeli_take_arena(struct dir_model_builder *b)
{
    struct dir_arena *a = b->arena;
    b->arena = NULL;
    return a;
}

void dir_modeli_builder_done(struct dir_model_builder *b)
{
    dir_arena_free(b->arena);
    dir_modeli_builder_free_rows(b);
}

const struct dir_change *dir_modeli_changes(const struct dir_model_builder *b, int *n)
{
    *n = b->changes.n;
    return b->changes.v;
}
