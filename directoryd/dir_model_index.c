/* dir_model_index.c - the resolver's indexes of a snapshot: per area and per group the
 * offerings and memberships that name it (in the order the resolver offers them, and grouped
 * by service), district welfare staff, units by location, child opportunity centres and
 * organisations by ref.
 */
#include "dir_model.h"
#include "dir_model_int.h"
#include "dir_mem.h"

#include <stdlib.h>
#include <string.h>

static int cmp_org_ref(const void *a, const void *b)
{
    return strcmp(((const struct dir_org_ref *)a)->ref, ((const struct dir_org_ref *)b)->ref);
}

struct vref {
    time_t verified;
    struct dir_ref ref;
};
static int cmp_vref(const void *a, const void *b)
{
    const struct vref *x = a, *y = b;
    if (x->verified != y->verified) return x->verified > y->verified ? -1 : 1;
    if (x->ref.owner != y->ref.owner) return x->ref.owner - y->ref.owner;
    return x->ref.item - y->ref.item;
}

static void sort_by_verified(const struct dir_model *m, struct dir_ref *refs, int n)
{
    if (n < 2) return;
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
    if (!a->nwelfare) return;
    int *v = dir_xmalloc(sizeof(int) * (size_t)a->nwelfare), n = 0;
    for (int k = 0; k < a->nwelfare; k++) {
        const struct dir_person *p = dir_model_person_at(m, a->welfare[k].owner);
        if (p->active) v[n++] = p->members[a->welfare[k].item].org;
    }
    qsort(v, (size_t)n, sizeof *v, dir_modeli_cmp_int);
    int u = 0;
    for (int k = 0; k < n; k++)
        if (!u || v[u - 1] != v[k]) v[u++] = v[k];
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
    if (!n) return;
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
    if (lists) lists[a][counts[a]] = ref;
    counts[a]++;
}

/* The resolver's indexes: per area and per group, the offerings and memberships that name
 * it, and the units located in each area. Two passes: count, then fill. */
void dir_modeli_build_indexes(struct dir_model *m)
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
                if (cov->ncodes == 0 && org->area >= 0) bucket(ac, al, org->area, ref);
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
                    if (a >= 0) bucket(mc, ml, a, (struct dir_ref){p, k});
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
        if (ac[i]) m->areas[i].units = dir_arena_alloc(m->arena, sizeof(int) * (size_t)ac[i]);
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
    dir_modeli_sort_n(m->org_refs, (size_t)m->norg_refs, sizeof *m->org_refs, cmp_org_ref);
    free(ac);
    free(gc);
    free(mc);
    free(al);
    free(gl);
    free(ml);
}
