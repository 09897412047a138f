/* dir_model.c - one immutable read-model snapshot: its lookups (areas, groups, taxa,
 * organisations, people, programmes, clients and revoked sessions by key) and its lifetime
 * (release, and the arenas and arrays shared between versions).
 *
 * Building a snapshot: dir_model_build.c (the builder) and dir_model_finish.c; its JSON:
 * dir_model_render.c; the resolver's indexes: dir_model_index.c; applying a change-log delta:
 * dir_model_apply.c.
 */
#include "dir_model.h"
#include "dir_model_int.h"
#include "dir_names.h" /* --- names --- */
#include "dir_mem.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int dir_modeli_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool dir_model_session_revoked(const struct dir_model *m, const char *sid)
{
    return m->nrevoked && bsearch(&sid, m->revoked, (size_t)m->nrevoked, sizeof *m->revoked,
                                  dir_modeli_cmp_str) != NULL;
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
        if (c == 0) return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int dir_modeli_find_id(const void *base, int n, size_t size, long long id)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        long long v = *(const long long *)((const char *)base + (size_t)mid * size);
        if (v == id) return mid;
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
        if (strcmp(m->tax[kind][i].code, code) == 0) return i;
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

int dir_modeli_cmp_client(const void *a, const void *b)
{
    return memcmp(((const struct dir_client *)a)->hash, ((const struct dir_client *)b)->hash,
                  DIR_AUTH_HASH_LEN);
}

const struct dir_client *dir_model_client(const struct dir_model *m,
                                          const uint8_t hash[DIR_AUTH_HASH_LEN])
{
    struct dir_client key = {0};
    memcpy(key.hash, hash, DIR_AUTH_HASH_LEN);
    return m->nclients == 0
               ? NULL
               : bsearch(&key, m->clients, (size_t)m->nclients, sizeof key, dir_modeli_cmp_client);
}

bool dir_model_area_within(const struct dir_model *m, int a, int anc)
{
    for (; a >= 0; a = m->areas[a].parent)
        if (a == anc) return true;
    return false;
}

int dir_model_programme(const struct dir_model *m, long long id, const char *ref)
{
    if (id) return dir_modeli_find_id(m->programmes, m->nprogrammes, sizeof *m->programmes, id);
    for (int i = 0; ref && i < m->nprogrammes; i++)
        if (m->programmes[i].ref && strcmp(m->programmes[i].ref, ref) == 0) return i;
    return -1;
}

void dir_model_release(struct dir_model *m)
{
    if (!m) return;
    if (atomic_fetch_sub(&m->refs, 1) == 1) {
        struct dir_model_ext *x = atomic_load(&m->entries);
        if (x) x->free(x);
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
    if (prev) atomic_fetch_add(&prev->refs, 1);
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
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) free(b);
}
