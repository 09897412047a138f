/* dir_hsds_index.c - the HSDS ids of one snapshot in a hash table (see dir_hsds.h,
 * dir_hsds_find), so a lookup by id (`/hsds/organizations/{id}`, the importer's matching)
 * costs a hash probe instead of computing every candidate's id.
 *
 * A full load's table holds every organisation, offering, taxonomy and term (one SHA-1 each:
 * 30 ms at 100,000 people, ten times that at 1,000,000); it is built before the snapshot is
 * published (dir_hsds_index_warm, from the refresher). A version applied from the change log
 * shares its full load's table and adds a small one of its own for the organisations changed
 * since (dir_model.h's dirty list): their ids are looked up there, and a hit of the full
 * load's table on a changed organisation is not believed (its offerings may have moved). So
 * an edit costs a few ids, not the whole table. Each table hangs off its snapshot, set once
 * with a compare-and-swap, and is freed with it. */
#include "dir_hsds.h"
#include "dir_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    char id[DIR_HSDS_UUID_LEN + 1]; /* "" when empty */
    struct dir_hsds_hit hit;
};

struct view {
    struct dir_model_ext ext;
    struct slot *slots;
    size_t cap; /* a power of two */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void put(struct view *v, const char *id, enum dir_hsds_kind kind, int a, int b)
{
    size_t i = hash(id) & (v->cap - 1);
    while (v->slots[i].id[0] && strcmp(v->slots[i].id, id) != 0)
        i = (i + 1) & (v->cap - 1);
    if (v->slots[i].id[0]) return; /* the first one keeps it */
    memcpy(v->slots[i].id, id, DIR_HSDS_UUID_LEN + 1);
    v->slots[i].hit = (struct dir_hsds_hit){kind, a, b};
}

static void view_free(struct dir_model_ext *x)
{
    struct view *v = (struct view *)x;
    free(v->slots);
    free(v);
}

static void put_org(struct view *v, const struct dir_model *m, int o)
{
    char u[DIR_HSDS_UUID_LEN + 1];
    dir_hsds_org_id(m, o, u);
    put(v, u, DIR_HSDS_K_ORGANIZATION, o, -1);
    for (int i = 0; i < dir_model_org_at(m, o)->noffers; i++) {
        dir_hsds_service_id(m, o, i, u);
        put(v, u, DIR_HSDS_K_SERVICE, o, i);
        dir_hsds_sal_id(m, o, i, u);
        put(v, u, DIR_HSDS_K_SERVICE_AT_LOCATION, o, i);
    }
}

static struct view *new_view(size_t n)
{
    struct view *v = dir_xcalloc(1, sizeof *v);
    v->ext.free = view_free;
    for (v->cap = 64; v->cap < 2 * n; v->cap *= 2)
        ;
    v->slots = dir_xcalloc(v->cap, sizeof *v->slots);
    return v;
}

/* An applied version's own table: the organisations changed since its full load. */
static struct view *build_overlay(const struct dir_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->ndirty_orgs; i++)
        n += 1 + 2 * (size_t)dir_model_org_at(m, m->dirty_orgs[i].idx)->noffers;
    struct view *v = new_view(n);
    for (int i = 0; i < m->ndirty_orgs; i++)
        put_org(v, m, m->dirty_orgs[i].idx);
    return v;
}

static struct view *build(const struct dir_model *m)
{
    if (m->full) return build_overlay(m);
    size_t n = (size_t)m->norgs + DIR_HSDS_NTAX;
    for (int o = 0; o < m->norgs; o++)
        n += 2 * (size_t)dir_model_org_at(m, o)->noffers;
    for (int t = 0; t < DIR_HSDS_NTAX; t++)
        n += (size_t)m->ntax[dir_hsds_tax_kinds[t]];
    struct view *v = new_view(n);
    for (int o = 0; o < m->norgs; o++)
        put_org(v, m, o);
    char u[DIR_HSDS_UUID_LEN + 1];
    for (int t = 0; t < DIR_HSDS_NTAX; t++) {
        dir_hsds_taxonomy_id(t, u);
        put(v, u, DIR_HSDS_K_TAXONOMY, t, -1);
        for (int i = 0; i < m->ntax[dir_hsds_tax_kinds[t]]; i++) {
            dir_hsds_term_id(m, t, i, u);
            put(v, u, DIR_HSDS_K_TERM, t, i);
        }
    }
    return v;
}

/* M's own table, built by the first caller. */
static const struct view *table_of(const struct dir_model *m)
{
    struct dir_model *mm = (struct dir_model *)m; /* the table is a cache: M stays as it was */
    struct dir_model_ext *x = atomic_load(&mm->hsds_ids);
    if (!x) {
        struct view *v = build(m);
        struct dir_model_ext *expected = NULL;
        if (atomic_compare_exchange_strong(&mm->hsds_ids, &expected, &v->ext)) {
            x = &v->ext;
        } else {
            view_free(&v->ext); /* another thread won */
            x = expected;
        }
    }
    return (const struct view *)x;
}

static bool probe(const struct view *v, const char *low, struct dir_hsds_hit *hit)
{
    for (size_t i = hash(low) & (v->cap - 1); v->slots[i].id[0]; i = (i + 1) & (v->cap - 1))
        if (strcmp(v->slots[i].id, low) == 0) {
            *hit = v->slots[i].hit;
            return true;
        }
    return false;
}

static int cmp_dirty(const void *a, const void *b)
{
    int x = ((const struct dir_dirty *)a)->idx, y = ((const struct dir_dirty *)b)->idx;
    return (x > y) - (x < y);
}

void dir_hsds_index_warm(const struct dir_model *m)
{
    (void)table_of(m->full ? m->full : m);
    (void)table_of(m);
}

bool dir_hsds_find(const struct dir_model *m, const char *id, struct dir_hsds_hit *hit)
{
    if (!id || strlen(id) != DIR_HSDS_UUID_LEN) return false;
    char low[DIR_HSDS_UUID_LEN + 1];
    for (int i = 0; i <= DIR_HSDS_UUID_LEN; i++)
        low[i] = (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] | 32 : id[i]);
    if (!m->full) return probe(table_of(m), low, hit);
    if (probe(table_of(m), low, hit)) return true; /* a changed organisation's */
    if (!probe(table_of(m->full), low, hit)) return false;
    if (hit->kind > DIR_HSDS_K_SERVICE_AT_LOCATION) return true; /* taxonomies never change here */
    struct dir_dirty key = {hit->a, 0};
    return !bsearch(&key, m->dirty_orgs, (size_t)m->ndirty_orgs, sizeof key, cmp_dirty);
}
