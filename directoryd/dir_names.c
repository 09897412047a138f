/* dir_names.c - the name index of the JSON API's q= search (see dir_names.h): built from a
 * full load's people and organisations with dir_gram, shared by the versions derived from it,
 * and read through cursors giving candidate indexes ascending. */
#include "dir_names.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_model.h"
#include "dir_text.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Gram spaces: one per kind and gram length, so the lists never mix them. */
enum { SP_PEOPLE3, SP_PEOPLE2, SP_ORGS3, SP_ORGS2 };

struct dir_names {
    atomic_int refs;
    struct dir_gram g;
    int norgs, npeople; /* the full load's counts */
};

static void add_name(struct dir_gram_build *x, int space, const char *s, int id)
{
    if (!s) return;
    size_t n = strlen(s);
    dir_gram_add(x, space, 3, s, n, id);
    dir_gram_add(x, space + 1, 2, s, n, id);
}

struct dir_names *dir_names_build(const struct dir_model *m)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct dir_names *x = dir_xcalloc(1, sizeof *x);
    atomic_init(&x->refs, 1);
    x->norgs = m->norgs;
    x->npeople = m->npeople;
    struct dir_gram_build *b = dir_gram_build_begin(&x->g);
    /* Ascending indexes per list: every kind's entities in order. */
    for (int i = 0; i < m->npeople; i++) {
        const struct dir_person *p = dir_model_person_at(m, i);
        add_name(b, SP_PEOPLE3, p->fold_th, i);
        add_name(b, SP_PEOPLE3, p->fold_en, i);
    }
    for (int i = 0; i < m->norgs; i++) {
        const struct dir_org *o = dir_model_org_at(m, i);
        add_name(b, SP_ORGS3, o->fold_th, i);
        add_name(b, SP_ORGS3, o->fold_en, i);
        add_name(b, SP_ORGS3, o->fold_ref, i);
    }
    dir_gram_build_finish(b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    x->g.build_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    DIR_LOG(DIR_LOG_INFO, "names",
            "name index of %d organizations and %d people: %zu grams, %zu postings, %.1f MB in "
            "%.1f ms",
            m->norgs, m->npeople, x->g.nkeys, x->g.npost, (double)dir_names_bytes(x) / 1e6,
            x->g.build_ms);
    return x;
}

struct dir_names *dir_names_ref(struct dir_names *x)
{
    if (x) atomic_fetch_add(&x->refs, 1);
    return x;
}

void dir_names_release(struct dir_names *x)
{
    if (x && atomic_fetch_sub(&x->refs, 1) == 1) {
        dir_gram_free(&x->g);
        free(x);
    }
}

size_t dir_names_bytes(const struct dir_names *x)
{
    return x ? sizeof *x + dir_gram_bytes(&x->g) : 0;
}

static int cmp_list_n(const void *a, const void *b)
{
    const struct dir_gram_list *x = *(const struct dir_gram_list *const *)a,
                               *y = *(const struct dir_gram_list *const *)b;
    return (x->n > y->n) - (x->n < y->n);
}

bool dir_names_open(struct dir_names_cur *c, const struct dir_model *m, enum dir_names_kind kind,
                    const char *q)
{
    memset(c, 0, sizeof *c);
    const struct dir_names *x = m->names;
    size_t n = q ? strlen(q) : 0;
    if (!x || !n || !dir_text_utf8_valid(q, n)) return false;
    size_t units = dir_gram_units(q, n);
    if (units < 2) return false;
    int space = (kind == DIR_NAMES_PEOPLE ? SP_PEOPLE3 : SP_ORGS3) + (units < 3);
    struct dir_gram_refs kb = {0};
    dir_gram_keys(space, units < 3 ? 2 : 3, q, n, &kb);
    enum { CAP = 64 };
    const struct dir_gram_list *lists[CAP];
    int nl = 0;
    bool none = false;
    for (size_t i = 0; i < kb.n && !none; i++) {
        const struct dir_gram_list *l = dir_gram_find(&x->g, &kb.k[i]);
        if (!l) {
            none = true; /* no entity of the full load has this gram */
            break;
        }
        bool dup = false;
        for (int j = 0; j < nl && !dup; j++)
            dup = lists[j] == l;
        if (!dup && nl < CAP) lists[nl++] = l;
    }
    dir_gram_refs_free(&kb);
    if (!none) {
        qsort(lists, (size_t)nl, sizeof *lists, cmp_list_n);
        c->nlists = nl < DIR_NAMES_MAX_LISTS ? nl : DIR_NAMES_MAX_LISTS;
        for (int i = 0; i < c->nlists; i++)
            dir_gram_cur_open(&c->lists[i], &x->g, lists[i]);
    }
    if (kind == DIR_NAMES_PEOPLE) {
        c->dirty = m->dirty_people;
        c->ndirty = m->ndirty_people;
    } else {
        c->dirty = m->dirty_orgs;
        c->ndirty = m->ndirty_orgs;
    }
    return true;
}

/* The smallest entry >= T in every list (leapfrogging), INT_MAX when none. */
static int and_seek(struct dir_names_cur *c, int t)
{
    if (!c->nlists) return INT_MAX;
    int x = t;
    for (;;) {
        x = dir_gram_cur_seek(&c->lists[0], x);
        if (x == INT_MAX) return INT_MAX;
        int k = 1;
        for (; k < c->nlists; k++) {
            int y = dir_gram_cur_seek(&c->lists[k], x);
            if (y == INT_MAX) return INT_MAX;
            if (y > x) {
                x = y;
                break;
            }
        }
        if (k == c->nlists) return x;
    }
}

int dir_names_seek(struct dir_names_cur *c, int t)
{
    int a = and_seek(c, t);
    if (c->dpos < c->ndirty && c->dirty[c->dpos].idx < t) {
        /* Gallop to the first dirty entry >= T. */
        int lo = c->dpos, step = 1, hi = lo + 1;
        while (hi < c->ndirty && c->dirty[hi].idx < t) {
            lo = hi;
            step *= 2;
            hi = lo + step;
        }
        if (hi > c->ndirty) hi = c->ndirty;
        while (hi - lo > 1) {
            int mid = lo + (hi - lo) / 2;
            if (c->dirty[mid].idx < t)
                lo = mid;
            else
                hi = mid;
        }
        c->dpos = hi;
    }
    int d = c->dpos < c->ndirty ? c->dirty[c->dpos].idx : INT_MAX;
    return a < d ? a : d;
}
