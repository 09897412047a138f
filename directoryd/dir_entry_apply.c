/* dir_entry_apply.c - derives the LDAP view of a new version of the read model from the
 * previous version's (dir_entry_view_from): the entries of the organisations and people
 * changed since are rebuilt, the rest and the indexes are shared ("applying changes" below).
 */
#include "dir_entry_int.h"
#include "dir_log.h"
#include "dir_mem.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- applying changes ----
 *
 * A new version of the model differs from the one before by a few organisations and people
 * (dir_model_apply). Its view is derived from the newest view built whole of the same
 * lineage (the ROOT): the entries array is copied, the entries of every organisation and
 * person changed since the root's version are rebuilt in their slots (people added since are
 * appended: they come last in tree order), and the root's indexes, substring index and DN
 * table are shared. A search then takes its candidates from the root's indexes UNION the
 * patched entries and checks every candidate against the filter: a root posting of a
 * rebuilt entry may be stale (the check drops it) and a rebuilt entry's new values are not
 * in the root's postings (the union adds it). So answers are exactly a whole build's, while
 * deriving costs the copy of the entries array plus the rebuilt entries, not the indexes.
 *
 * Who is rebuilt: the organisations changed since the root's version and their child
 * organisations (dirParentOrg names the parent's DN), the people changed since, and the
 * members of all those organisations (o, ou, dirMemberOf, departmentNumber come from them).
 * The root's dependants lists say who the members and children are; a person whose
 * memberships changed since the root is among the changed people anyway. An organisation
 * added since the root takes one of the spare organisation slots a whole build leaves
 * (dir_entry_org_slots), so the people do not move. When the changes since the root are many
 * (PATCH_MAX) or the organisations outgrow the spare slots (every 256 added), the view is
 * built whole instead, and becomes the next root. */

#define PATCH_MIN 4096 /* rebuild at most max(PATCH_MIN, entries / 8) entries, else whole */

static int cmp_int_asc(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Sorts and de-duplicates V[0..n). */
static int sort_unique(int *v, int n)
{
    if (n > 1) qsort(v, (size_t)n, sizeof *v, cmp_int_asc);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (!u || v[u - 1] != v[i]) v[u++] = v[i];
    return u;
}

struct ivec {
    int *v, n, cap;
};

static void ivec_add(struct ivec *x, int i)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 64;
        x->v = dir_xrealloc(x->v, sizeof *x->v * (size_t)x->cap);
    }
    x->v[x->n++] = i;
}

/* Adds to SET the indexes of the dirty list D[0..n) stamped after SINCE. */
static void add_dirty(struct ivec *set, const struct dir_dirty *d, int n, int since)
{
    for (int i = 0; i < n; i++)
        if (d[i].applied > since) ivec_add(set, d[i].idx);
}

static bool has_int(const struct ivec *sorted, int x)
{
    return sorted->n && bsearch(&x, sorted->v, (size_t)sorted->n, sizeof x, cmp_int_asc);
}

/* M's view derived from BASE: ROOT itself (a view built whole for ROOT_MODEL, an earlier
 * version of M's lineage) or a view derived from ROOT for a version after it; or NULL when it
 * should be built whole. Entries changed since BASE are rebuilt; everything else, chunks
 * included, is shared. */
static struct dir_entry_view *derive_view(const struct dir_model *m,
                                          const struct dir_entry_view *base,
                                          const struct dir_entry_view *root,
                                          struct dir_model *root_model)
{
    if (root->root || root->lineage != m->lineage || base->lineage != m->lineage ||
        base->applied > m->applied || dir_entry_org_slots(m->norgs) != root->norg_slots ||
        m->npeople < base->nperson_slots)
        return NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int limit = root->n / 8 > PATCH_MIN ? root->n / 8 : PATCH_MIN;
    struct ivec orgs = {0}, people = {0}, later_orgs = {0}, later_people = {0};
    /* Organisations changed since BASE, and their children. */
    add_dirty(&orgs, m->dirty_orgs, m->ndirty_orgs, base->applied);
    int nchanged = orgs.n;
    for (int i = 0; i < nchanged; i++)
        for (int k = root->kid_at[orgs.v[i]]; k < root->kid_at[orgs.v[i] + 1]; k++)
            ivec_add(&orgs, root->kid[k]);
    orgs.n = sort_unique(orgs.v, orgs.n);
    /* The root's dependants lists are the root's: an organisation or person changed since the
     * root may have a parent or membership they do not list. */
    if (orgs.n && base != root) {
        add_dirty(&later_orgs, m->dirty_orgs, m->ndirty_orgs, root->applied);
        add_dirty(&later_people, m->dirty_people, m->ndirty_people, root->applied);
    }
    for (int i = 0; i < later_orgs.n; i++) {
        const struct dir_org *o = dir_model_org_at(m, later_orgs.v[i]);
        int p = o->parent_id ? dir_model_org(m, o->parent_id) : -1;
        if (p >= 0 && has_int(&orgs, p)) ivec_add(&orgs, later_orgs.v[i]);
    }
    orgs.n = sort_unique(orgs.v, orgs.n);
    for (int i = 0; i < orgs.n && people.n <= limit; i++)
        for (int k = root->mem_at[orgs.v[i]]; k < root->mem_at[orgs.v[i] + 1]; k++)
            ivec_add(&people, root->mem[k]);
    for (int i = 0; i < later_people.n; i++) {
        const struct dir_person *p = dir_model_person_at(m, later_people.v[i]);
        for (int k = 0; k < p->nmembers; k++)
            if (has_int(&orgs, p->members[k].org)) {
                ivec_add(&people, later_people.v[i]);
                break;
            }
    }
    add_dirty(&people, m->dirty_people, m->ndirty_people, base->applied);
    people.n = sort_unique(people.v, people.n);
    free(later_orgs.v);
    free(later_people.v);
    /* Every entry patched since the root: BASE's and these. */
    int np = (base == root ? 0 : base->npatched) + orgs.n + people.n;
    /* People added since BASE are all among the changed ones (dir_model_apply). */
    if (np > limit || (m->npeople > base->nperson_slots &&
                       (!people.n || people.v[people.n - 1] != m->npeople - 1))) {
        free(orgs.v);
        free(people.v);
        return NULL;
    }
    struct dir_entry_view *v = dir_xcalloc(1, sizeof *v);
    v->ext.free = dir_entry_view_free;
    v->arena = dir_arena_new();
    v->link = dir_xcalloc(1, sizeof *v->link);
    atomic_init(&v->link->refs, 1);
    v->link->arena = v->arena;
    if (base != root) {
        v->link->prev = base->link;
        atomic_fetch_add(&base->link->refs, 1);
    }
    v->lineage = m->lineage;
    v->applied = m->applied;
    v->root = root;
    v->root_model = root_model;
    atomic_fetch_add(&root_model->refs, 1);
    v->root_dse = root->root_dse;
    v->subschema = root->subschema;
    v->suffix_entry = root->suffix_entry;
    v->orgs_ou = root->orgs_ou;
    v->people_ou = root->people_ou;
    v->first_org = root->first_org;
    v->norg_slots = root->norg_slots;
    v->first_person = root->first_person;
    v->nperson_slots = m->npeople;
    int n = root->n + (m->npeople - root->nperson_slots);
    v->chunk_cap = (n >> ECHUNK_BITS) + 1;
    v->chunk = dir_xmalloc(sizeof *v->chunk * (size_t)v->chunk_cap);
    memcpy(v->chunk, base->chunk, sizeof *v->chunk * (size_t)base->nchunks);
    v->nchunks = base->nchunks;
    for (int c = 0; c < v->nchunks; c++)
        atomic_fetch_add(&v->chunk[c]->refs, 1);
    v->n = base->n;
    struct eb b = {.v = v};
    for (int i = 0; i < orgs.n; i++)
        dir_entry_build_org(&b, m, orgs.v[i], v->orgs_ou);
    for (int i = 0; i < orgs.n; i++)
        dir_entry_org_parent_fix(v, m, orgs.v[i]);
    const char **districts = dir_xcalloc(64, sizeof *districts);
    for (int i = 0; i < people.n; i++)
        dir_entry_build_person(&b, m, people.v[i], v->people_ou, districts);
    free(districts);
    free(b.t);
    free(b.tmp);
    dir_entry_intern_free(&b.in);
    v->n = n;
    dir_entry_slot(v, v->people_ou)->end = v->n;
    dir_entry_slot(v, v->suffix_entry)->end = v->n;
    v->patched = dir_xmalloc(sizeof *v->patched * ((size_t)np + 1));
    if (base != root)
        memcpy(v->patched, base->patched, sizeof *v->patched * (size_t)base->npatched);
    v->npatched = base != root ? base->npatched : 0;
    for (int i = 0; i < orgs.n; i++)
        v->patched[v->npatched++] = v->first_org + orgs.v[i];
    for (int i = 0; i < people.n; i++)
        v->patched[v->npatched++] = v->first_person + people.v[i];
    v->npatched = sort_unique(v->patched, v->npatched);
    v->pdns = dir_xmalloc(sizeof *v->pdns * ((size_t)v->npatched + 1));
    for (int i = 0; i < v->npatched; i++)
        if (!ENT(v, v->patched[i]).gone)
            v->pdns[v->npdns++] = (struct dn_ref){ENT(v, v->patched[i]).ndn, v->patched[i]};
    if (v->npdns > 1) qsort(v->pdns, (size_t)v->npdns, sizeof *v->pdns, dir_entry_cmp_dn_ref);
    int rebuilt = orgs.n + people.n;
    free(orgs.v);
    free(people.v);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    DIR_LOG(DIR_LOG_INFO, "entry",
            "ldap view of snapshot %lld derived from snapshot %lld's: %d entries rebuilt in %.2f "
            "ms (%d patched since the view built whole)",
            m->seq, root_model->seq, rebuilt,
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
            v->npatched);
    return v;
}

const struct dir_entry_view *dir_entry_view_from(struct dir_model *m, struct dir_model *prev)
{
    struct dir_model_ext *x = atomic_load(&m->entries);
    if (x) return (const struct dir_entry_view *)x;
    const struct dir_entry_view *pv =
        prev ? (const struct dir_entry_view *)atomic_load(&prev->entries) : NULL;
    /* A version of a newer lineage than PREV's (a full load made in the background, with the
     * changes since applied to it): derive from its full load's view when that is built
     * (dir_refresh.c builds it on the loading thread), not from PREV. */
    if (m->full && (!pv || pv->lineage != m->lineage)) {
        const struct dir_entry_view *fv =
            (const struct dir_entry_view *)atomic_load(&m->full->entries);
        if (fv) {
            pv = fv;
            prev = m->full;
        }
    }
    struct dir_entry_view *v = NULL;
    if (pv)
        v = pv->root ? derive_view(m, pv, pv->root, pv->root_model) : derive_view(m, pv, pv, prev);
    if (!v) return dir_entry_view(m);
    struct dir_model_ext *expected = NULL;
    if (!atomic_compare_exchange_strong(&m->entries, &expected, &v->ext)) {
        dir_entry_view_free(&v->ext); /* another thread won */
        return (const struct dir_entry_view *)expected;
    }
    return v;
}

bool dir_entry_view_patched(const struct dir_entry_view *v)
{
    return v->root != NULL;
}
