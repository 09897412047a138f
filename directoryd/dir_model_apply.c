/* dir_model_apply.c - a new read-model version from a change-log delta, not a reload.
 *
 * Why this structure (copy-on-write pieces): readers hold a version for one request and read
 * it without locks, and every module (the JSON API, the resolver, the LDAP view, the HSDS
 * and vCard renderers) reads the public arrays of struct dir_model directly. A new version
 * therefore has to look exactly like a fully loaded one. dir_model_apply makes it so by
 * sharing everything that does not depend on the changed entities and rebuilding only what
 * does:
 *
 *   - the changed organisations and people are built from their fresh rows by the same code
 *     as the full load (so they render byte for byte the same) in a small arena of their own;
 *   - the arrays of organisations and people are chunked copy-on-write arrays (dir_cow.h:
 *     a table of pointers to reference-counted chunks of 1,024 entries; the full load's
 *     table points into one flat array). A version copies the table (N / 1,024 pointers,
 *     about 1,000 at 1,000,000 people) and only the chunks holding a changed slot (about
 *     150 KB for a person's); a new entity goes into a copy of the last chunk or a new one.
 *     Copying the whole arrays instead cost a memcpy of every entity per version (15 MB at
 *     100,000 people, 150 MB at 1,000,000), the one part of an apply that grew with the
 *     directory. Readers index through dir_model_org_at / dir_model_person_at (a shift and
 *     a mask); the areas and groups arrays, small and fixed, are still copied whole;
 *   - the resolver's lists are rebuilt only for the areas and groups the changed entities
 *     name before or after the change, by one merge of the old list (without the changed
 *     entities' refs) with their new refs, in the full load's order: no sort of the whole
 *     list, and the district welfare list the same way. The merge is linear in the list,
 *     that is in the people of one area (some 14,000 refs, 110 KB, in a district at
 *     1,000,000 people): a copy of microseconds, kept because chunking every per-area
 *     list would burden every resolver read for it;
 *   - the organisation ref index keeps the full load's sorted array and adds a small sorted
 *     list of the refs of the organisations changed since the full load (rebuilt, from the
 *     dirty list, only when a ref or a type changed or an organisation was added), looked up
 *     first; a full-load entry counts only while its organisation still has that ref. The
 *     centres list is copied with the changed organisations replaced (linear in the
 *     centres, not the organisations). Re-sorting every ref per added organisation was
 *     O(N log N);
 *   - the dirty lists are merged with the changed indexes: linear in the entities changed
 *     since the full load, which compaction bounds (below), not in the directory; the
 *     "changes" list is bounded by changes_kept;
 *   - every string, contact list, rendered JSON and list not rebuilt stays where it is, in the
 *     arenas of earlier versions, which each version holds by reference (a chain, see
 *     dir_model_int.h); chunks and the copied areas and groups are reference-counted and
 *     shared by later versions that do not change them, the last holder frees them.
 *
 * A base with a delta merged at read time was the alternative; it would have meant teaching
 * every reader (and every branch building on the public arrays) to look in two places. With
 * copy-on-write, readers index one array (through the chunk accessors) and never see half a
 * change: a version is complete before it is published. What an applied version leaves
 * behind (the superseded pieces of changed entities) stays in the chain until the refresher
 * compacts it with a full load (dir_refresh.c: after DIR_REFRESH_MAX_APPLIED applies or when
 * the chain holds too much).
 * Ids are assigned in increasing order, so a new organisation or person is appended and no
 * index moves; a deletion (or an id below the highest) would move indexes, and makes the
 * caller load a full snapshot instead.
 */
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_model.h"
#include "dir_model_int.h"
#include "dir_names.h" /* --- names --- */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The arrays a version may copy, by blob index. */
static void *blob_copy(struct dir_model_pieces *pc, int which, const void *src, size_t used,
                       size_t bytes)
{
    dir_modeli_blob_release(pc->blob[which]);
    pc->blob[which] = dir_modeli_blob_new(bytes ? bytes : 1);
    if (used) memcpy(pc->blob[which]->data, src, used);
    return pc->blob[which]->data;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

static int cmp_ref(const void *a, const void *b)
{
    const struct dir_ref *x = a, *y = b;
    if (x->owner != y->owner) return x->owner < y->owner ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

/* A small set of indexes (touched areas, groups; changed orgs, people). */
struct iset {
    int *v, n, cap;
};
static void iset_add(struct iset *s, int x)
{
    if (x < 0) return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = dir_xrealloc(s->v, sizeof(int) * (size_t)s->cap);
    }
    s->v[s->n++] = x;
}
static void iset_done(struct iset *s)
{
    if (s->n > 1) qsort(s->v, (size_t)s->n, sizeof(int), cmp_int);
    int k = 0;
    for (int i = 0; i < s->n; i++)
        if (!k || s->v[k - 1] != s->v[i]) s->v[k++] = s->v[i];
    s->n = k;
}
static bool iset_has(const struct iset *s, int x)
{
    return s->n && bsearch(&x, s->v, (size_t)s->n, sizeof(int), cmp_int) != NULL;
}

/* The areas and groups organisation O's offerings are listed under, and where it is. */
static void org_touches(const struct dir_model *m, const struct dir_org *o, struct iset *areas,
                        struct iset *groups)
{
    iset_add(areas, o->area);
    for (int k = 0; k < o->noffers; k++) {
        const struct dir_coverage *cov = &o->offerings[k].cov;
        for (int c = 0; c < cov->ncodes; c++) {
            int a = dir_model_area(m, cov->codes[c]);
            if (a >= 0)
                iset_add(areas, a);
            else
                iset_add(groups, dir_model_group(m, cov->codes[c]));
        }
    }
}

static void person_touches(const struct dir_model *m, const struct dir_person *p,
                           struct iset *areas)
{
    for (int k = 0; k < p->nmembers; k++) {
        const struct dir_coverage *cov = &p->members[k].cov;
        for (int c = 0; c < cov->ncodes; c++)
            iset_add(areas, dir_model_area(m, cov->codes[c]));
    }
}

/* Offering and welfare lists are ordered as the full load orders them (dir_model_index.c): the
 * most recently verified owner first, then by owner and item. */
static time_t ref_verified(const struct dir_model *m, struct dir_ref r, bool person)
{
    return person ? dir_model_person_at(m, r.owner)->verified
                  : dir_model_org_at(m, r.owner)->verified;
}

static int cmp_verified(const struct dir_model *m, struct dir_ref x, struct dir_ref y, bool person)
{
    time_t vx = ref_verified(m, x, person), vy = ref_verified(m, y, person);
    if (vx != vy) return vx > vy ? -1 : 1;
    return cmp_ref(&x, &y);
}

/* Sorts the few refs V[0..n) of changed entities by verification (insertion sort). */
static void sort_few(const struct dir_model *m, struct dir_ref *v, int n, bool person)
{
    for (int i = 1; i < n; i++) {
        struct dir_ref x = v[i];
        int k = i;
        for (; k > 0 && cmp_verified(m, x, v[k - 1], person) < 0; k--)
            v[k] = v[k - 1];
        v[k] = x;
    }
}

/* OLD[0..nold) without the refs whose owner is in CHANGED, merged with ADD[0..nadd) (in
 * order), into a new list of arena A: linear in the list, no sort. PERSON: the owners are
 * people; BY_VERIFIED: ordered by verification, else by owner and item. */
static struct dir_ref *merge_refs(struct dir_model *m, const struct dir_ref *old, int nold,
                                  const struct iset *changed, const struct dir_ref *add, int nadd,
                                  bool person, bool by_verified, int *nout)
{
    struct dir_ref *v = dir_arena_alloc(m->arena, sizeof *v * (size_t)(nold + nadd + 1));
    int n = 0, k = 0;
    for (int i = 0; i < nold; i++) {
        if (iset_has(changed, old[i].owner)) continue;
        while (k < nadd && (by_verified ? cmp_verified(m, add[k], old[i], person)
                                        : cmp_ref(&add[k], &old[i])) < 0)
            v[n++] = add[k++];
        v[n++] = old[i];
    }
    while (k < nadd)
        v[n++] = add[k++];
    *nout = n;
    return v;
}

/* A growable scratch list of refs. */
struct refs {
    struct dir_ref *v;
    int n, cap;
};
static void refs_add(struct refs *r, struct dir_ref x)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->v = dir_xrealloc(r->v, sizeof *r->v * (size_t)r->cap);
    }
    r->v[r->n++] = x;
}

/* Offering refs of the changed organisations ORGS that name area A (IS_GROUP false) or
 * group A, in owner and item order. */
static void org_refs_into(const struct dir_model *m, const struct iset *orgs, int a, bool is_group,
                          struct refs *out)
{
    for (int i = 0; i < orgs->n; i++) {
        int oi = orgs->v[i];
        const struct dir_org *o = dir_model_org_at(m, oi);
        for (int k = 0; k < o->noffers; k++) {
            const struct dir_coverage *cov = &o->offerings[k].cov;
            if (!is_group && cov->ncodes == 0 && o->area == a)
                refs_add(out, (struct dir_ref){oi, k});
            for (int c = 0; c < cov->ncodes; c++) {
                int x = dir_model_area(m, cov->codes[c]);
                bool hit = is_group ? x < 0 && dir_model_group(m, cov->codes[c]) == a : x == a;
                if (hit) refs_add(out, (struct dir_ref){oi, k});
            }
        }
    }
}

/* A new offering list of area or group A: OLD without the changed organisations' refs, with
 * their new ones merged in by verification. */
static struct dir_ref *rebuild_offers(struct dir_model *m, const struct dir_ref *old, int nold,
                                      const struct iset *orgs, int a, bool is_group, int *nout)
{
    struct refs add = {0};
    org_refs_into(m, orgs, a, is_group, &add);
    sort_few(m, add.v, add.n, false);
    struct dir_ref *v = merge_refs(m, old, nold, orgs, add.v, add.n, false, true, nout);
    free(add.v);
    return v;
}

/* Area AR's (index A) membership and district welfare lists with the changed people's refs
 * replaced: merged in person order and by verification, as the full load lists them. */
static void rebuild_members(struct dir_model *m, struct dir_area *ar, int a,
                            const struct iset *people)
{
    struct refs add = {0}, welfare = {0};
    for (int i = 0; i < people->n; i++) {
        int pi = people->v[i];
        const struct dir_person *p = dir_model_person_at(m, pi);
        for (int k = 0; k < p->nmembers; k++) {
            const struct dir_membership *ms = &p->members[k];
            for (int c = 0; c < ms->cov.ncodes; c++) {
                if (dir_model_area(m, ms->cov.codes[c]) != a) continue;
                refs_add(&add, (struct dir_ref){pi, k});
                if (ms->team_role && strcmp(ms->team_role, "district_welfare") == 0)
                    refs_add(&welfare, (struct dir_ref){pi, k});
            }
        }
    }
    ar->members =
        merge_refs(m, ar->members, ar->nmembers, people, add.v, add.n, true, false, &ar->nmembers);
    sort_few(m, welfare.v, welfare.n, true);
    ar->welfare = merge_refs(m, ar->welfare, ar->nwelfare, people, welfare.v, welfare.n, true, true,
                             &ar->nwelfare);
    if (!ar->nwelfare) ar->welfare = NULL; /* as the full load leaves an empty list */
    dir_modeli_welfare_orgs(m, ar);
    free(add.v);
    free(welfare.v);
}

/* Area AR's (index A) units (dir_model.h) with the changed organisations replaced, in index
 * order. */
static void rebuild_units(struct dir_model *m, struct dir_area *ar, int a, const struct iset *orgs)
{
    int *v = dir_arena_alloc(m->arena, sizeof(int) * (size_t)(ar->nunits + orgs->n + 1));
    int n = 0, k = 0;
    for (int i = 0; i <= ar->nunits; i++) {
        int x = i < ar->nunits ? ar->units[i] : m->norgs;
        for (; k < orgs->n && orgs->v[k] <= x; k++) {
            const struct dir_org *o = dir_model_org_at(m, orgs->v[k]);
            if (o->area == a && dir_modeli_is_unit(o)) v[n++] = orgs->v[k];
        }
        if (i < ar->nunits && !iset_has(orgs, x)) v[n++] = x;
    }
    ar->units = v;
    ar->nunits = n;
}

static int cmp_org_ref(const void *a, const void *b)
{
    return strcmp(((const struct dir_org_ref *)a)->ref, ((const struct dir_org_ref *)b)->ref);
}

/* The ref index and the centres list, when an organisation's ref or type changed or one was
 * added. The full load's ref index (sorted, one entry per organisation) is kept; the refs of
 * every organisation changed since the full load (the dirty list, bounded by the changes
 * since then, not by the directory) go into a small sorted list looked up first
 * (dir_model_org_by_ref checks a full-load entry against the organisation's current ref).
 * The centres list is copied with the changed organisations replaced: linear in the number
 * of centres, a small part of the organisations. */
static void rebuild_org_lists(struct dir_model *m, const struct iset *orgs)
{
    struct dir_org_ref *r = dir_arena_alloc(m->arena, sizeof *r * (size_t)(m->ndirty_orgs + 1));
    int nr = 0;
    for (int i = 0; i < m->ndirty_orgs; i++) {
        const struct dir_org *o = dir_model_org_at(m, m->dirty_orgs[i].idx);
        if (o->ref) r[nr++] = (struct dir_org_ref){o->ref, m->dirty_orgs[i].idx};
    }
    if (nr > 1) qsort(r, (size_t)nr, sizeof *r, cmp_org_ref);
    m->org_refs_new = r;
    m->norg_refs_new = nr;

    int *c = dir_arena_alloc(m->arena, sizeof(int) * (size_t)(m->ncentres + orgs->n + 1));
    int n = 0, k = 0;
    for (int i = 0; i <= m->ncentres; i++) {
        int x = i < m->ncentres ? m->centres[i] : m->norgs;
        for (; k < orgs->n && orgs->v[k] <= x; k++)
            if (dir_model_org_at(m, orgs->v[k])->is_centre) c[n++] = orgs->v[k];
        if (i < m->ncentres && !iset_has(orgs, x)) c[n++] = x;
    }
    m->centres = c;
    m->ncentres = n;
}

/* Whether the ref index or the centres list must be rebuilt for these changed orgs. */
static bool org_lists_change(const struct dir_model *old, const struct dir_model *n,
                             const struct iset *orgs)
{
    for (int i = 0; i < orgs->n; i++) {
        int oi = orgs->v[i];
        if (oi >= old->norgs) return true;
        const struct dir_org *a = dir_model_org_at(old, oi), *b = dir_model_org_at(n, oi);
        if (a->is_centre != b->is_centre || !a->ref != !b->ref ||
            (a->ref && strcmp(a->ref, b->ref) != 0))
            return true;
    }
    return false;
}

/* Splices the entities of SRC (sorted by id, each with the id first) into DST, a version of
 * the old array sharing all its chunks: a changed entity is written over its slot (copying
 * only that slot's chunk), a new one appended. IDS are the ids the delta names. Adds the
 * changed indexes to CHANGED. False when an id was deleted or sorts before the last
 * existing one. */
static bool splice(struct dir_cow *dst, const struct dir_cow *src, long long *ids, int nids,
                   struct iset *changed, char *err, size_t errlen)
{
#define ID_AT(c, i) (*(const long long *)dir_cow_at((c), (i)))
    if (nids > 1) qsort(ids, (size_t)nids, sizeof *ids, cmp_ll);
    int nold = dst->n;
    long long last = nold ? ID_AT(dst, nold - 1) : 0;
    int k = 0;
    for (int i = 0; i < nids; i++) {
        if (i && ids[i] == ids[i - 1]) continue;
        while (k < src->n && ID_AT(src, k) < ids[i])
            k++;
        if (k == src->n || ID_AT(src, k) != ids[i]) {
            snprintf(err, errlen, "%lld was deleted", ids[i]);
            return false;
        }
        void *to;
        int at;
        if (ids[i] > last) { /* ids ascend: appended in order */
            at = dst->n;
            to = dir_cow_append(dst);
        } else {
            int lo = 0, hi = nold - 1;
            at = -1;
            while (lo <= hi) {
                int mid = lo + (hi - lo) / 2;
                long long x = ID_AT(dst, mid);
                if (x == ids[i]) {
                    at = mid;
                    break;
                }
                if (x < ids[i])
                    lo = mid + 1;
                else
                    hi = mid - 1;
            }
            if (at < 0) {
                snprintf(err, errlen, "new id %lld sorts before %lld", ids[i], last);
                return false;
            }
            to = dir_cow_write(dst, at);
        }
        memcpy(to, dir_cow_at(src, k), dst->size);
        iset_add(changed, at);
    }
#undef ID_AT
    return true;
}

/* OLD's dirty list with the indexes in CHANGED (sorted, distinct) stamped APPLIED, in arena A. */
static const struct dir_dirty *merge_dirty(struct dir_arena *a, const struct dir_dirty *old,
                                           int nold, const struct iset *changed, int applied,
                                           int *nout)
{
    struct dir_dirty *v = dir_arena_alloc(a, sizeof *v * (size_t)(nold + changed->n + 1));
    int n = 0, i = 0, k = 0;
    while (i < nold || k < changed->n) {
        if (k == changed->n || (i < nold && old[i].idx < changed->v[k])) {
            v[n++] = old[i++];
        } else {
            if (i < nold && old[i].idx == changed->v[k]) i++;
            v[n++] = (struct dir_dirty){changed->v[k++], applied};
        }
    }
    *nout = n;
    return v;
}

size_t dir_model_delta_bytes(const struct dir_model *m)
{
    return m->pieces ? m->pieces->delta_bytes : 0;
}

enum dir_rc dir_model_apply(const struct dir_model *old, struct dir_model_builder *b,
                            const struct dir_model_delta *d, long long seq, struct dir_model **out,
                            char *err, size_t errlen)
{
    time_t now = time(NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct dir_arena *arena = dir_modeli_take_arena(b);
    struct dir_model *n = dir_xcalloc(1, sizeof *n);
    struct dir_model_pieces *pc = dir_xcalloc(1, sizeof *pc);

    /* Everything starts shared with OLD. */
    n->seq = seq;
    n->built_at = old->built_at;
    n->stale_days = old->stale_days;
    n->areas = old->areas;
    n->nareas = old->nareas;
    n->groups = old->groups;
    n->ngroups = old->ngroups;
    memcpy(n->tax, old->tax, sizeof n->tax);
    memcpy(n->ntax, old->ntax, sizeof n->ntax);
    n->norgs = old->norgs;
    n->npeople = old->npeople;
    n->clients = old->clients;
    n->nclients = old->nclients;
    n->org_refs = old->org_refs;
    n->norg_refs = old->norg_refs;
    n->org_refs_new = old->org_refs_new;
    n->norg_refs_new = old->norg_refs_new;
    n->centres = old->centres;
    n->ncentres = old->ncentres;
    n->programmes = old->programmes;
    n->nprogrammes = old->nprogrammes;
    n->revoked = old->revoked;
    n->nrevoked = old->nrevoked;
    n->holidays = old->holidays;
    n->applied = old->applied + 1;
    n->lineage = old->lineage;
    n->full = old->full ? old->full : (struct dir_model *)old; /* the caller holds OLD */
    atomic_fetch_add(&n->full->refs, 1);
    n->dirty_orgs = old->dirty_orgs;
    n->ndirty_orgs = old->ndirty_orgs;
    n->dirty_people = old->dirty_people;
    n->ndirty_people = old->ndirty_people;
    n->names = dir_names_ref(old->names); /* --- names --- */
    n->arena = arena;
    atomic_init(&n->refs, 1);
    atomic_init(&n->entries, NULL);
    n->pieces = pc;
    pc->share = dir_modeli_share_new(arena, old->pieces->share);
    for (int i = 0; i < DIR_BLOB_N; i++)
        if ((pc->blob[i] = old->pieces->blob[i])) atomic_fetch_add(&pc->blob[i]->refs, 1);
    dir_cow_share(&pc->orgs, &old->pieces->orgs);
    dir_cow_share(&pc->people, &old->pieces->people);
    n->org_chunks = pc->orgs.tab;
    n->person_chunks = pc->people.tab;

    struct iset orgs = {0}, people = {0}, areas = {0}, groups = {0};
    struct dir_cow sorgs = {0}, speople = {0}; /* the changed entities, flat */
    long long *ids = NULL;
    enum dir_rc rc = DIR_OK;

    /* The scratch model the changed entities are built in: OLD's reference data. */
    struct dir_model s;
    memset(&s, 0, sizeof s);
    s.arena = arena;
    s.stale_days = old->stale_days;
    s.areas = old->areas;
    s.nareas = old->nareas;
    s.groups = old->groups;
    s.ngroups = old->ngroups;
    memcpy(s.tax, old->tax, sizeof s.tax);
    memcpy(s.ntax, old->ntax, sizeof s.ntax);

    if (d->norg_ids) {
        dir_modeli_finish_orgs(b, &s, &sorgs, now);
        ids = dir_xmalloc(sizeof *ids * (size_t)d->norg_ids);
        memcpy(ids, d->org_ids, sizeof *ids * (size_t)d->norg_ids);
        char why[128];
        bool ok = splice(&pc->orgs, &sorgs, ids, d->norg_ids, &orgs, why, sizeof why);
        n->org_chunks = pc->orgs.tab; /* an append may have moved the table */
        n->norgs = pc->orgs.n;
        if (!ok) {
            snprintf(err, errlen, "organization %s", why);
            rc = DIR_ERR_STATE;
            goto out;
        }
        iset_done(&orgs);
        free(ids);
        ids = NULL;
    }
    if (d->nperson_ids) {
        s.org_chunks = n->org_chunks;
        s.norgs = n->norgs;
        dir_modeli_finish_people(b, &s, &speople, now);
        ids = dir_xmalloc(sizeof *ids * (size_t)d->nperson_ids);
        memcpy(ids, d->person_ids, sizeof *ids * (size_t)d->nperson_ids);
        char why[128];
        bool ok = splice(&pc->people, &speople, ids, d->nperson_ids, &people, why, sizeof why);
        n->person_chunks = pc->people.tab;
        n->npeople = pc->people.n;
        if (!ok) {
            snprintf(err, errlen, "person %s", why);
            rc = DIR_ERR_STATE;
            goto out;
        }
        iset_done(&people);
    }
    if (d->programmes) {
        s.org_chunks = n->org_chunks;
        s.norgs = n->norgs;
        dir_modeli_finish_programmes(b, &s);
        n->programmes = s.programmes;
        n->nprogrammes = s.nprogrammes;
    }
    if (d->clients) {
        dir_modeli_finish_clients(b, &s);
        n->clients = s.clients;
        n->nclients = s.nclients;
    }
    if (d->revoked) {
        dir_modeli_finish_revoked(b, &s);
        n->revoked = s.revoked;
        n->nrevoked = s.nrevoked;
    }

    /* The resolver's lists of the areas and groups the changed entities name, before or
     * after the change. */
    for (int i = 0; i < orgs.n; i++) {
        if (orgs.v[i] < old->norgs)
            org_touches(old, dir_model_org_at(old, orgs.v[i]), &areas, &groups);
        org_touches(n, dir_model_org_at(n, orgs.v[i]), &areas, &groups);
    }
    for (int i = 0; i < people.n; i++) {
        if (people.v[i] < old->npeople)
            person_touches(old, dir_model_person_at(old, people.v[i]), &areas);
        person_touches(n, dir_model_person_at(n, people.v[i]), &areas);
    }
    iset_done(&areas);
    iset_done(&groups);
    if (areas.n) {
        n->areas = blob_copy(pc, DIR_BLOB_AREAS, old->areas, sizeof *n->areas * (size_t)n->nareas,
                             sizeof *n->areas * (size_t)(n->nareas + 1));
        for (int i = 0; i < areas.n; i++) {
            int a = areas.v[i];
            struct dir_area *ar = &n->areas[a];
            if (orgs.n) {
                ar->offers =
                    rebuild_offers(n, ar->offers, ar->noffers, &orgs, a, false, &ar->noffers);
                dir_modeli_offers_by_service(n, ar->offers, ar->noffers, &ar->by_service,
                                             &ar->svc_at);
                rebuild_units(n, ar, a, &orgs);
            }
            if (people.n) rebuild_members(n, ar, a, &people);
        }
    }
    if (groups.n) {
        n->groups =
            blob_copy(pc, DIR_BLOB_GROUPS, old->groups, sizeof *n->groups * (size_t)n->ngroups,
                      sizeof *n->groups * (size_t)(n->ngroups + 1));
        for (int i = 0; i < groups.n; i++) {
            struct dir_group *g = &n->groups[groups.v[i]];
            g->offers =
                rebuild_offers(n, g->offers, g->noffers, &orgs, groups.v[i], true, &g->noffers);
            dir_modeli_offers_by_service(n, g->offers, g->noffers, &g->by_service, &g->svc_at);
        }
    }
    if (orgs.n)
        n->dirty_orgs = merge_dirty(arena, old->dirty_orgs, old->ndirty_orgs, &orgs, n->applied,
                                    &n->ndirty_orgs);
    if (orgs.n && org_lists_change(old, n, &orgs)) rebuild_org_lists(n, &orgs);
    if (people.n)
        n->dirty_people = merge_dirty(arena, old->dirty_people, old->ndirty_people, &people,
                                      n->applied, &n->ndirty_people);

    /* The newest change-log rows, as the full load keeps them. */
    int nnew;
    const struct dir_change *fresh = dir_modeli_changes(b, &nnew);
    long long floor = seq > d->changes_kept ? seq - d->changes_kept : 0;
    int keep = 0;
    for (int i = 0; i < old->nchanges; i++)
        keep += old->changes[i].seq > floor;
    n->changes = dir_arena_alloc(arena, sizeof *n->changes * (size_t)(keep + nnew + 1));
    for (int i = 0; i < old->nchanges; i++)
        if (old->changes[i].seq > floor) n->changes[n->nchanges++] = old->changes[i];
    for (int i = 0; i < nnew; i++)
        if (fresh[i].seq > floor) n->changes[n->nchanges++] = fresh[i];

    pc->delta_bytes = old->pieces->delta_bytes + dir_arena_used(arena);

out:
    dir_cow_free(&sorgs);
    dir_cow_free(&speople);
    free(ids);
    free(orgs.v);
    free(people.v);
    free(areas.v);
    free(groups.v);
    dir_modeli_builder_done(b);
    if (rc) {
        dir_model_release(n);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    n->apply_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    *out = n;
    return DIR_OK;
}
