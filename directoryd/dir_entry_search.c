/* dir_entry_search.c - searches an LDAP view (dir_entry_search) and answers GET /v1/search.
 *
 * Searching: the filter gives a cursor over candidate entries in tree order (index ranges,
 * trigram lists, their intersections and unions), each candidate is checked against the filter
 * (unless the cursor is exact) and a search with a size limit stops after limit + 1 matches;
 * a filter the indexes cannot narrow scans the base's subtree.
 */
#include "dir_entry_int.h"
#include "dir_gram.h"
#include "dir_mem.h"
#include "dir_pdpa.h"
#include "dir_problem.h"
#include "dir_query.h"
#include "dir_text.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- search ---- */

/* Candidates come from cursors over sorted entry lists: an equality range of a sorted index
 * (the entries of one value, ascending), a posting list of the substring index, a
 * materialised list (a prefix range, sorted), and their intersections (AND, leapfrogging with
 * galloping seeks) and unions (OR). cur_seek(c, t) gives the smallest entry >= t still in C
 * (INT_MAX when none): the search asks for tree order one candidate at a time, so a search
 * with a size limit stops after limit + 1 matches without reading the rest of any list. */

enum cur_kind { CUR_EMPTY, CUR_ARRAY, CUR_GRAM, CUR_AND, CUR_OR };

#define OR_MERGE_MAX 8 /* an OR of more indexed branches is materialised as one sorted list */

struct cur {
    enum cur_kind kind;
    int est;    /* at most this many entries */
    bool exact; /* every entry it gives matches the filter it was built for, for a caller who
                   may see private values (indexes hold private values too) */
    /* CUR_ARRAY: entry i is *(const int *)(base + i * stride) for pos <= i < n */
    const char *base;
    size_t stride;
    int pos, n;
    int *owned;             /* a materialised list this cursor frees */
    struct dir_gram_cur gc; /* CUR_GRAM */
    /* CUR_AND (kids by ascending est) and CUR_OR */
    struct cur *kids;
    int nkids;
    int at; /* CUR_OR's kids: the last entry this kid gave (-1 before the first) */
};

static void cur_free(struct cur *c)
{
    for (int i = 0; i < c->nkids; i++)
        cur_free(&c->kids[i]);
    free(c->kids);
    free(c->owned);
    memset(c, 0, sizeof *c);
}

static int cur_at(const struct cur *c, int i)
{
    int e;
    memcpy(&e, c->base + (size_t)i * c->stride, sizeof e);
    return e;
}

static void cur_gram(struct cur *c, const struct dir_gram *g, const struct dir_gram_list *l)
{
    memset(c, 0, sizeof *c);
    c->kind = CUR_GRAM;
    c->est = (int)l->n;
    dir_gram_cur_open(&c->gc, g, l);
}

static int cur_seek(struct cur *c, int t)
{
    switch (c->kind) {
    case CUR_ARRAY: {
        int lo = c->pos, n = c->n;
        if (lo >= n) return INT_MAX;
        int x = cur_at(c, lo);
        if (x >= t) return x;
        /* Gallop: cur_at(lo) < t; find hi with cur_at(hi) >= t (or n), then bisect. */
        long step = 1, hi = lo + 1;
        while (hi < n && cur_at(c, (int)hi) < t) {
            lo = (int)hi;
            step *= 2;
            hi = lo + step;
        }
        if (hi > n) hi = n;
        while (hi - lo > 1) {
            int mid = lo + (int)((hi - lo) / 2);
            if (cur_at(c, mid) < t)
                lo = mid;
            else
                hi = mid;
        }
        c->pos = (int)hi;
        return hi < n ? cur_at(c, (int)hi) : INT_MAX;
    }
    case CUR_GRAM:
        return dir_gram_cur_seek(&c->gc, t);
    case CUR_AND: {
        int x = t;
        for (;;) {
            x = cur_seek(&c->kids[0], x);
            if (x == INT_MAX) return INT_MAX;
            int k = 1;
            for (; k < c->nkids; k++) {
                int y = cur_seek(&c->kids[k], x);
                if (y == INT_MAX) return INT_MAX;
                if (y > x) {
                    x = y;
                    break;
                }
            }
            if (k == c->nkids) return x;
        }
    }
    case CUR_OR: {
        int best = INT_MAX;
        for (int k = 0; k < c->nkids; k++) {
            struct cur *kid = &c->kids[k];
            if (kid->at < t && kid->at != INT_MAX) kid->at = cur_seek(kid, t);
            if (kid->at < best) best = kid->at;
        }
        return best;
    }
    default:
        return INT_MAX;
    }
}

static void cur_array(struct cur *c, const void *base, size_t stride, int n)
{
    memset(c, 0, sizeof *c);
    c->kind = n > 0 ? CUR_ARRAY : CUR_EMPTY;
    c->base = base;
    c->stride = stride;
    c->n = n;
    c->est = n;
}

/* OUT: a cursor over the N entries at L, sorted and without repeats; the cursor owns L. */
static void cur_sorted(struct cur *out, int *l, int n)
{
    qsort(l, (size_t)n, sizeof *l, dir_entry_cmp_int);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (u == 0 || l[u - 1] != l[i]) l[u++] = l[i];
    cur_array(out, l, sizeof *l, u);
    out->owned = l;
}

static int cmp_cur_est(const void *a, const void *b)
{
    const struct cur *x = a, *y = b;
    return (x->est > y->est) - (x->est < y->est);
}

/* Compares key R with KEY (KN bytes): as a string, or whether R starts with KEY. */
static int ikey_cmp(const struct ikey *r, const char *key, size_t kn, bool prefix)
{
    size_t n = r->nlen < kn ? r->nlen : kn;
    int c = memcmp(r->norm, key, n);
    if (c) return c;
    if (r->nlen < kn) return -1;
    return prefix || r->nlen == kn ? 0 : 1;
}

/* The entries of X (positions in x->ent) whose value equals KEY (or starts with it, PREFIX):
 * [*LO, *HI). An equality range is one key's entries, ascending. */
static void index_range(const struct index *x, const char *key, size_t kn, bool prefix, int *lo_out,
                        int *hi_out)
{
    int lo = 0, hi = x->nk;
    while (lo < hi) { /* first key >= KEY */
        int mid = lo + (hi - lo) / 2;
        if (ikey_cmp(&x->k[mid], key, kn, prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    int first = lo;
    if (!prefix) {
        hi = lo < x->nk && ikey_cmp(&x->k[lo], key, kn, false) == 0 ? lo + 1 : lo;
    } else { /* the first key after the prefix range */
        hi = x->nk;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (ikey_cmp(&x->k[mid], key, kn, true) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    *lo_out = x->nk ? (int)x->k[first].start : 0;
    *hi_out = x->nk ? (int)x->k[hi].start : 0;
}

/* Posting lists of the trigrams of PIECE on attribute ATTR, added to LISTS (N so far, room
 * for CAP); *WHOLE tells whether the piece is one gram, alone in its list. False when some
 * gram is in no value at all: then no entry can match. */
static bool piece_lists(const struct dir_entry_view *v, int attr, const struct dir_fpiece *p,
                        const struct dir_gram_list **lists, int *n, int cap,
                        struct dir_gram_refs *kb, bool *whole)
{
    *whole = false;
    if (!p || p->nn < GRAM_UNITS || !dir_text_utf8_valid(p->norm, p->nn)) return true;
    kb->n = 0;
    dir_gram_keys(dir_entry_attrs[attr].flags & F_SHARED ? GRAM_SHARED + attr : attr, GRAM_UNITS,
                  p->norm, p->nn, kb);
    for (size_t i = 0; i < kb->n; i++) {
        const struct dir_gram_list *sl = dir_gram_find(&v->grams, &kb->k[i]);
        if (!sl) return false;
        *whole = kb->n == 1 && kb->k[0].len == p->nn && !sl->mixed;
        bool dup = false;
        for (int j = 0; j < *n && !dup; j++)
            dup = lists[j] == sl;
        if (!dup && *n < cap) lists[(*n)++] = sl;
    }
    return true;
}

static int cmp_slot_n(const void *a, const void *b)
{
    const struct dir_gram_list *x = *(const struct dir_gram_list *const *)a,
                               *y = *(const struct dir_gram_list *const *)b;
    return (x->n > y->n) - (x->n < y->n);
}

/* OUT: the union of the N non-empty cursors KIDS (allocated; OUT takes them), EST entries in
 * all, each exact or not (EXACT). */
static void cur_or(struct cur *out, struct cur *kids, int n, long est, bool exact)
{
    memset(out, 0, sizeof *out);
    if (n <= 1) { /* absolute false, only empty kids, or one kid */
        if (n == 1) {
            *out = kids[0];
        } else {
            out->kind = CUR_EMPTY;
            out->exact = true;
        }
        free(kids);
        return;
    }
    if (n > OR_MERGE_MAX) {
        /* Many branches: one sorted list of all their entries (merging them one step at a
         * time would cost a seek in every branch per candidate). */
        int *l = dir_xmalloc(sizeof(int) * (size_t)(est + 1)), k = 0;
        for (int i = 0; i < n; i++) {
            for (int e = cur_seek(&kids[i], 0); e != INT_MAX; e = cur_seek(&kids[i], e + 1))
                l[k++] = e;
            cur_free(&kids[i]);
        }
        free(kids);
        cur_sorted(out, l, k);
        out->exact = exact;
        return;
    }
    for (int i = 0; i < n; i++)
        kids[i].at = -1;
    out->kind = CUR_OR;
    out->kids = kids;
    out->nkids = n;
    out->est = est > INT_MAX ? INT_MAX : (int)est;
    out->exact = exact;
}

/* C gives equality-index keys of F_SHARED attribute ATTR (build_grams): make it give their
 * entries, the union of the keys' entry ranges (cur_or). */
static void shared_entries(const struct dir_entry_view *v, int attr, struct cur *c)
{
    const struct index *x = &v->idx[attr];
    int *keys = NULL, nkeys = 0, cap = 0;
    for (int k = cur_seek(c, 0); k != INT_MAX; k = cur_seek(c, k + 1)) {
        if (nkeys == cap) {
            cap = cap ? cap * 2 : 16;
            keys = dir_xrealloc(keys, sizeof *keys * (size_t)cap);
        }
        keys[nkeys++] = k;
    }
    bool exact = c->exact;
    cur_free(c);
    struct cur *kids = dir_xcalloc((size_t)nkeys + 1, sizeof *kids);
    long est = 0;
    for (int i = 0; i < nkeys; i++) { /* a key has at least one entry */
        int lo = (int)x->k[keys[i]].start, hi = (int)x->k[keys[i] + 1].start;
        cur_array(&kids[i], &x->ent[lo], sizeof *x->ent, hi - lo);
        est += hi - lo;
    }
    cur_or(c, kids, nkeys, est, exact);
    free(keys);
}

/* Cursors over the substring index for F (SUBSTRINGS, or EQUALITY on an attribute with no
 * equality index): an AND of the shortest posting lists into OUT. False when F has no piece
 * of GRAM_UNITS units or more. */
static bool gram_cursor(const struct dir_entry_view *v, const struct dir_filter *f, struct cur *out)
{
    enum { CAP = 64 };
    const struct dir_gram_list *lists[CAP];
    int n = 0;
    bool ok = true, whole = false, any_whole = false;
    struct dir_gram_refs kb = {0};
    if (f->kind == DIR_FILTER_SUBSTRINGS) {
        ok = piece_lists(v, f->attr_id, f->initial, lists, &n, CAP, &kb, &whole);
        for (int i = 0; i < f->nany && ok; i++)
            ok = piece_lists(v, f->attr_id, &f->any[i], lists, &n, CAP, &kb, &any_whole);
        if (ok) ok = piece_lists(v, f->attr_id, f->final, lists, &n, CAP, &kb, &whole);
    } else {
        ok = piece_lists(v, f->attr_id, &f->value, lists, &n, CAP, &kb, &whole);
    }
    free(kb.k);
    /* "*abc*" with ABC one gram: the list is the entries with ABC in some value, exactly. */
    bool exact =
        f->kind == DIR_FILTER_SUBSTRINGS && !f->initial && !f->final && f->nany == 1 && any_whole;
    memset(out, 0, sizeof *out);
    if (!ok) {
        out->kind = CUR_EMPTY;
        return true;
    }
    if (n == 0) return false;
    qsort(lists, (size_t)n, sizeof *lists, cmp_slot_n);
    if (n > GRAM_MAX_LISTS) n = GRAM_MAX_LISTS;
    if (n == 1) {
        cur_gram(out, &v->grams, lists[0]);
        out->exact = exact;
    } else {
        out->kind = CUR_AND;
        out->kids = dir_xcalloc((size_t)n, sizeof *out->kids);
        out->nkids = n;
        out->est = (int)lists[0]->n;
        for (int i = 0; i < n; i++)
            cur_gram(&out->kids[i], &v->grams, lists[i]);
    }
    if (dir_entry_attrs[f->attr_id].flags & F_SHARED) shared_entries(v, f->attr_id, out);
    return true;
}

/* A cursor over candidate entries for F from the indexes into OUT (the caller frees it with
 * cur_free); false when F cannot use them (OUT is then empty and owns nothing). Every entry
 * F can match is a candidate; candidates have to be checked against F unless OUT->exact. */
static bool cur_build(const struct dir_entry_view *v, const struct dir_filter *f, struct cur *out)
{
    memset(out, 0, sizeof *out);
    switch (f->kind) {
    case DIR_FILTER_EQUALITY:
    case DIR_FILTER_APPROX:
    case DIR_FILTER_SUBSTRINGS: {
        if (f->attr_id < 0 || dir_entry_syn_match(dir_entry_attrs[f->attr_id].syn) != f->match ||
            (f->kind != DIR_FILTER_SUBSTRINGS && !f->value.norm))
            return false;
        unsigned fl = dir_entry_attrs[f->attr_id].flags;
        const struct index *x = &v->idx[f->attr_id];
        if (f->kind != DIR_FILTER_SUBSTRINGS) {
            if (!(fl & F_INDEX)) return (fl & F_SUBSTR) && gram_cursor(v, f, out);
            int lo, hi;
            index_range(x, f->value.norm, f->value.nn, false, &lo, &hi);
            /* The entries of one key are ascending, one per entry. */
            if (hi > lo)
                cur_array(out, &x->ent[lo], sizeof *x->ent, hi - lo);
            else
                out->kind = CUR_EMPTY;
            out->exact = true; /* a record of the value is the match itself */
            return true;
        }
        struct cur g;
        bool have_g = (fl & F_SUBSTR) && gram_cursor(v, f, &g);
        if (have_g && g.kind == CUR_EMPTY) {
            *out = g;
            return true;
        }
        int lo = 0, hi = 0;
        bool have_p = (fl & F_INDEX) && f->initial && f->initial->nn > 0;
        if (have_p) index_range(x, f->initial->norm, f->initial->nn, true, &lo, &hi);
        if (have_p && (!have_g || hi - lo <= g.est)) {
            if (have_g) cur_free(&g);
            /* A prefix range is ordered by value: collect its entries and sort them. */
            int *l = dir_xmalloc(sizeof(int) * (size_t)(hi - lo + 1)), k = 0;
            for (int i = lo; i < hi; i++)
                l[k++] = x->ent[i];
            cur_sorted(out, l, k);
            out->exact = f->nany == 0 && !f->final; /* nothing but the initial piece */
            return true;
        }
        if (have_g) {
            *out = g;
            return true;
        }
        return false;
    }
    case DIR_FILTER_AND: {
        struct cur *kids = dir_xcalloc((size_t)f->nkids + 1, sizeof *kids);
        int n = 0;
        bool empty = false, exact = true;
        for (int i = 0; i < f->nkids && !empty; i++) {
            if (!cur_build(v, f->kids[i], &kids[n])) {
                exact = false; /* that kid is left to the check */
                continue;
            }
            empty = kids[n].kind == CUR_EMPTY;
            exact = exact && kids[n].exact;
            n++;
        }
        if (n == 0) {
            free(kids);
            return false;
        }
        if (empty || n == 1) { /* the empty one (last built), or the only one */
            *out = kids[n - 1];
            out->exact = empty || exact;
            for (int i = 0; i < n - 1; i++)
                cur_free(&kids[i]);
            free(kids);
            return true;
        }
        qsort(kids, (size_t)n, sizeof *kids, cmp_cur_est);
        out->kind = CUR_AND;
        out->kids = kids;
        out->nkids = n;
        out->est = kids[0].est;
        out->exact = exact;
        return true;
    }
    case DIR_FILTER_OR: {
        struct cur *kids = dir_xcalloc((size_t)f->nkids + 1, sizeof *kids);
        int n = 0;
        long est = 0;
        bool exact = true;
        for (int i = 0; i < f->nkids; i++) {
            if (!cur_build(v, f->kids[i], &kids[n])) {
                for (int j = 0; j < n; j++)
                    cur_free(&kids[j]);
                free(kids);
                return false;
            }
            if (kids[n].kind == CUR_EMPTY) {
                cur_free(&kids[n]);
                continue;
            }
            exact = exact && kids[n].exact;
            est += kids[n].est;
            n++;
        }
        cur_or(out, kids, n, est, exact);
        return true;
    }
    default:
        return false;
    }
}

static bool past(const struct timespec *deadline)
{
    if (!deadline) return false;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

struct sort_ctx {
    const struct dir_entry_view *v;
    int attr;
    bool reverse, see_private;
};

static const struct dir_fval *sort_key(const struct sort_ctx *c, int e)
{
    const struct dir_entry *en = &ENT(c->v, e);
    const struct dir_fval *best = NULL;
    for (int k = 0; k < en->nattrs; k++) {
        if (en->attrs[k].id != c->attr) continue;
        for (int j = 0; j < en->attrs[k].nvals; j++) {
            const struct dir_fval *x = &en->attrs[k].vals[j];
            if (x->priv && !c->see_private) continue;
            if (!best || strcmp(x->norm, best->norm) < 0) best = x;
        }
    }
    return best;
}

static int cmp_sorted(const void *a, const void *b, void *cls)
{
    const struct sort_ctx *c = cls;
    int x = *(const int *)a, y = *(const int *)b;
    const struct dir_fval *kx = sort_key(c, x), *ky = sort_key(c, y);
    int r;
    if (!kx || !ky) /* RFC 2891: entries without the attribute come last */
        r = kx ? -1 : ky ? 1 : 0;
    else
        r = strcmp(kx->norm, ky->norm);
    if (c->reverse && kx && ky) r = -r;
    return r ? r : (x > y) - (x < y);
}

enum dir_rc dir_entry_search(const struct dir_entry_view *v, const struct dir_entry_search *s,
                             struct dir_entry_result *r, const char **matched)
{
    memset(r, 0, sizeof *r);
    if (matched) *matched = "";
    char *nbase = dir_entry_dn_normalize(s->base);
    if (!nbase) return DIR_ERR_INVALID;
    int base;
    enum dir_scope scope = s->scope;
    if (!*nbase) {
        if (scope == DIR_SCOPE_BASE)
            base = v->root_dse;
        else { /* below the root DSE: the naming context */
            base = v->suffix_entry;
            if (scope == DIR_SCOPE_ONE) scope = DIR_SCOPE_BASE;
        }
    } else {
        base = dir_entry_find_ndn(v, nbase);
    }
    if (base < 0 || (ENT(v, base).priv && s->role < DIR_ROLE_CASEWORKER)) {
        /* The nearest ancestor that exists, for matchedDN. */
        const char *p = nbase;
        while (matched && (p = strchr(p, ',')) != NULL) {
            p++;
            int a = dir_entry_find_ndn(v, p);
            if (a >= 0) {
                *matched = ENT(v, a).dn;
                break;
            }
        }
        free(nbase);
        return DIR_ERR_NOTFOUND;
    }
    free(nbase);
    r->base = base;
    if (s->filter) dir_filter_prepare(s->filter, dir_entry_resolve, NULL);

    int lo = base, hi = base + 1;
    if (scope != DIR_SCOPE_BASE) hi = ENT(v, base).end;
    struct cur cand;
    bool indexed =
        scope != DIR_SCOPE_BASE && s->filter && cur_build(v->root ? v->root : v, s->filter, &cand);
    if (indexed && v->npatched) {
        /* The root's candidates may miss what was patched since: add every patched entry,
         * and check them all (see "applying changes", dir_entry_apply.c). */
        struct cur *kids = dir_xcalloc(2, sizeof *kids);
        kids[0] = cand;
        kids[0].at = -1;
        cur_array(&kids[1], v->patched, sizeof *v->patched, v->npatched);
        kids[1].at = -1;
        memset(&cand, 0, sizeof cand);
        cand.kind = CUR_OR;
        cand.kids = kids;
        cand.nkids = 2;
        cand.est = kids[0].est > INT_MAX - v->npatched ? INT_MAX : kids[0].est + v->npatched;
        cand.exact = false;
    }
    bool see_private = s->role >= DIR_ROLE_CASEWORKER;
    bool check = !indexed || !cand.exact || !see_private;
    bool stop_early = s->sort_attr < 0 && s->size_limit > 0;
    int cap = 64;
    r->idx = dir_xmalloc(sizeof(int) * (size_t)cap);
    int e = s->after + 1 > lo ? s->after + 1 : lo;
    for (unsigned steps = 1;; steps++, e++) {
        if (indexed) e = cur_seek(&cand, e);
        if (e >= hi) break;
        if ((steps & 255) == 0 && past(s->deadline)) {
            r->time_exceeded = true;
            break;
        }
        const struct dir_entry *en = &ENT(v, e);
        if (en->gone || (scope == DIR_SCOPE_ONE && en->parent != base)) continue;
        if (en->priv && !see_private) continue;
        if (s->filter && check) {
            struct dir_fentry fe = {en->attrs, en->nattrs, en->ndn, see_private};
            if (dir_filter_match(s->filter, &fe) != DIR_TRUE) continue;
        }
        if (r->n == cap) {
            cap *= 2;
            r->idx = dir_xrealloc(r->idx, sizeof(int) * (size_t)cap);
        }
        r->idx[r->n++] = e;
        if (stop_early && r->n > s->size_limit) {
            r->size_exceeded = true;
            break;
        }
    }
    if (indexed) cur_free(&cand);
    if (s->sort_attr >= 0 && r->n > 1) {
        struct sort_ctx c = {v, s->sort_attr, s->sort_reverse, see_private};
        qsort_r(r->idx, (size_t)r->n, sizeof(int), cmp_sorted, &c);
    }
    if (!stop_early && s->size_limit > 0 && r->n > s->size_limit) r->size_exceeded = true;
    return DIR_OK;
}

/* ---- GET /v1/search ---- */

#define HTTP_DEFAULT_LIMIT 50
#define HTTP_MAX_LIMIT 500

static void http_problem(struct dir_http_resp *resp, const char *path, struct dir_problem *p)
{
    resp->status = p->status;
    resp->content_type = "application/problem+json";
    resp->body.len = 0;
    if (dir_problem_render(p, path, &resp->body)) resp->status = 500;
}

static void http_bad(struct dir_http_resp *resp, const char *path, const char *field,
                     const char *th, const char *en)
{
    struct dir_problem p;
    dir_problem_init(&p, 400, "invalid-parameter", "Invalid query parameter",
                     "Query parameter '%s' is invalid: %s", field, en);
    dir_problem_add(&p, field, th, en);
    http_problem(resp, path, &p);
}

static enum dir_rc json_entry(struct dir_buf *b, const struct dir_entry *e, bool see_private)
{
    enum dir_rc rc = dir_buf_adds(b, "{\"dn\":");
    if (!rc) rc = dir_buf_add_json_str(b, e->dn);
    if (!rc) rc = dir_buf_adds(b, ",\"attributes\":{");
    int n = 0;
    bool priv_shown = false;
    for (int k = 0; k < e->nattrs && !rc; k++) {
        const struct dir_fattr *a = &e->attrs[k];
        if (dir_entry_attrs[a->id].flags & F_OPER) continue;
        int shown = 0;
        for (int j = 0; j < a->nvals && !rc; j++) {
            if (a->vals[j].priv && !see_private) continue;
            priv_shown = priv_shown || a->vals[j].priv;
            if (shown == 0) {
                rc = dir_buf_printf(b, "%s\"%s\":[", n++ ? "," : "", dir_entry_attrs[a->id].name);
            } else {
                rc = dir_buf_adds(b, ",");
            }
            if (!rc) rc = dir_buf_add_json_str(b, a->vals[j].val);
            shown++;
        }
        if (shown && !rc) rc = dir_buf_adds(b, "]");
    }
    if (!rc) rc = dir_buf_adds(b, "}}");
    if (priv_shown && e->priv) /* a person's non-public contact points: the access log */
        dir_pdpa_note_id(dir_entry_person_id(e));
    return rc;
}

void dir_entry_http_search(struct dir_model *m, enum dir_role role, const struct dir_http_req *req,
                           struct dir_http_resp *resp)
{
    dir_entry_http_search_as(m, role, req, resp, NULL, NULL);
}

void dir_entry_http_search_as(struct dir_model *m, enum dir_role role,
                              const struct dir_http_req *req, struct dir_http_resp *resp,
                              dir_entry_page_fn page, void *cls)
{
    const char *path = dir_http_path(req);
    const char *ftext = dir_http_arg(req, "filter");
    const char *base = dir_http_arg(req, "base");
    const char *scope_s = dir_http_arg(req, "scope");
    const char *limit_s = dir_http_arg(req, "limit");
    const char *cursor = dir_http_arg(req, "cursor");
    struct dir_entry_search s = {.base = base ? base : dir_entry_suffix(),
                                 .scope = DIR_SCOPE_SUB,
                                 .role = role,
                                 .sort_attr = -1,
                                 .after = -1};
    int limit = HTTP_DEFAULT_LIMIT;
    if (scope_s) {
        if (strcmp(scope_s, "base") == 0)
            s.scope = DIR_SCOPE_BASE;
        else if (strcmp(scope_s, "one") == 0)
            s.scope = DIR_SCOPE_ONE;
        else if (strcmp(scope_s, "sub") == 0)
            s.scope = DIR_SCOPE_SUB;
        else
            return http_bad(resp, path, "scope", "ใช้ base, one หรือ sub",
                            "scope must be base, one or sub");
    }
    if (limit_s) {
        long long n; /* whole decimal digits only: no sign, no spaces (dir_query_int) */
        if (!dir_query_int(limit_s, 1, HTTP_MAX_LIMIT, &n))
            return http_bad(resp, path, "limit", "ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 500",
                            "not a whole number from 1 to 500");
        limit = (int)n;
    }
    struct dir_filter *f = NULL;
    struct dir_filter_error ferr;
    const char *ft = ftext ? ftext : "(objectClass=*)";
    if (dir_filter_parse(ft, strlen(ft), &f, &ferr) != DIR_OK) {
        char en[300], th[400];
        snprintf(en, sizeof en, "invalid filter at position %zu: %s", ferr.pos, ferr.reason);
        snprintf(th, sizeof th, "ตัวกรองไม่ถูกต้องที่ตำแหน่ง %zu (%s)", ferr.pos, ferr.reason);
        struct dir_problem p;
        dir_problem_init(&p, 400, "invalid-filter", "Invalid search filter",
                         "The filter is not an RFC 4515 filter: at position %zu, %s.", ferr.pos,
                         ferr.reason);
        dir_problem_add(&p, "filter", th, en);
        http_problem(resp, path, &p);
        return;
    }
    const struct dir_entry_view *v = dir_entry_view(m);
    if (cursor) {
        char *nc = dir_entry_dn_normalize(cursor);
        int after = nc && *nc ? dir_entry_find_ndn(v, nc) : -1;
        free(nc);
        if (after < 0) {
            dir_filter_free(f);
            return http_bad(resp, path, "cursor", "ตัวชี้หน้าไม่ถูกต้อง ใช้ค่า next จากคำตอบก่อนหน้า",
                            "not a cursor from a previous answer's 'next'");
        }
        s.after = after;
    }
    s.filter = f;
    s.size_limit = limit;
    struct dir_entry_result r;
    const char *matched;
    enum dir_rc rc = dir_entry_search(v, &s, &r, &matched);
    dir_filter_free(f);
    if (rc == DIR_ERR_INVALID)
        return http_bad(resp, path, "base", "ไม่ใช่ DN ที่ถูกต้อง",
                        "not a distinguished name (RFC 4514)");
    if (rc == DIR_ERR_NOTFOUND) {
        struct dir_problem p;
        dir_problem_init(&p, 404, "not-found", "Not found", "No entry '%.300s'.", s.base);
        http_problem(resp, path, &p);
        return;
    }
    bool see_private = role >= DIR_ROLE_CASEWORKER;
    struct dir_buf *b = &resp->body;
    int shown = r.n > limit ? limit : r.n;
    if (page) {
        page(cls, m, v, r.idx, shown, r.size_exceeded ? ENT(v, r.idx[shown - 1]).dn : NULL,
             see_private, resp);
        free(r.idx);
        return;
    }
    rc = dir_buf_adds(b, "{\"items\":[");
    for (int i = 0; i < shown && !rc; i++) {
        if (i) rc = dir_buf_adds(b, ",");
        if (!rc) rc = json_entry(b, &ENT(v, r.idx[i]), see_private);
    }
    if (!rc) rc = dir_buf_adds(b, "],\"next\":");
    if (!rc)
        rc = r.size_exceeded ? dir_buf_add_json_str(b, ENT(v, r.idx[shown - 1]).dn)
                             : dir_buf_adds(b, "null");
    if (!rc) rc = dir_buf_adds(b, "}");
    free(r.idx);
    if (rc) {
        struct dir_problem p;
        dir_problem_init(&p, 413, "response-too-large", "Response too large",
                         "The answer is too large; ask for a smaller page with 'limit'.");
        http_problem(resp, path, &p);
        return;
    }
    resp->status = 200;
    resp->content_type = "application/json; charset=utf-8";
}
