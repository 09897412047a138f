/* dir_model_int.h - the read model's internals shared by its files: dir_model.c (lookups,
 * lifetime), dir_model_build.c (the builder), dir_model_finish.c (building a snapshot),
 * dir_model_render.c (JSON), dir_model_index.c (the resolver's indexes) and dir_model_apply.c
 * (deriving a new version from a change-log delta).
 * Not for other modules: they use dir_model.h. */
#ifndef DIR_MODEL_INT_H
#define DIR_MODEL_INT_H

#include "dir_model.h"
#include "dir_mem.h"

#include <jansson.h>
#include <stdatomic.h>

/* ---- the builder's raw rows (dir_model_build.c fills them, dir_model_finish.c reads) ---- */

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        int n, cap;                                                                                \
    }

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

/* Frees B's rows and B itself (not its arena). */
void dir_modeli_builder_free_rows(struct dir_model_builder *b);

/* An arena shared by a chain of versions: each applied version adds one (its own new
 * pieces) and holds a reference to the one before; the last version to let go frees it. */
struct dir_model_share {
    atomic_int refs;
    struct dir_arena *arena;
    struct dir_model_share *prev;
};

/* An array copied for one version (areas, groups) and shared by the later versions that do
 * not change it. */
struct dir_model_blob {
    atomic_int refs;
    _Alignas(16) unsigned char data[];
};

enum { DIR_BLOB_AREAS, DIR_BLOB_GROUPS, DIR_BLOB_N };

struct dir_model_pieces {
    struct dir_model_share *share;
    struct dir_model_blob *blob[DIR_BLOB_N]; /* NULL: the array lives in an arena */
    struct dir_cow orgs, people;             /* the model's org_chunks and person_chunks */
    size_t delta_bytes;                      /* arena bytes added by applies */
};

struct dir_model_share *dir_modeli_share_new(struct dir_arena *a, struct dir_model_share *prev);
void dir_modeli_share_release(struct dir_model_share *s);
struct dir_model_blob *dir_modeli_blob_new(size_t bytes);
void dir_modeli_blob_release(struct dir_model_blob *b);

/* The builder's arena, handed over to the caller (the builder keeps no arena). */
struct dir_arena *dir_modeli_take_arena(struct dir_model_builder *b);
/* Frees B's rows (not its arena: take it first). */
void dir_modeli_builder_done(struct dir_model_builder *b);
/* Builds into scratch model S (whose areas, groups, taxa and stale_days are set, and whose
 * arena is B's) the organisations B holds: sorted by id, rendered, in one flat array of S's
 * arena that C (freed by the caller) views and S->org_chunks is C's table. */
void dir_modeli_finish_orgs(struct dir_model_builder *b, struct dir_model *s, struct dir_cow *c,
                            time_t now);
/* The same for people; S's organisations must be all those they refer to. */
void dir_modeli_finish_people(struct dir_model_builder *b, struct dir_model *s, struct dir_cow *c,
                              time_t now);
/* The same for programmes (every programme; S's organisations all of them). */
void dir_modeli_finish_programmes(struct dir_model_builder *b, struct dir_model *s);
/* Clients and revoked sessions B holds, sorted, into S. */
void dir_modeli_finish_clients(struct dir_model_builder *b, struct dir_model *s);
void dir_modeli_finish_revoked(struct dir_model_builder *b, struct dir_model *s);
/* B's change-log rows (ascending). */
const struct dir_change *dir_modeli_changes(const struct dir_model_builder *b, int *n);
/* Sorts REFS (offerings) as the resolver offers them: most recently verified org first. */
void dir_modeli_sort_by_verified(const struct dir_model *m, struct dir_ref *refs, int n);
/* REFS[0..N) (an area's or group's offerings, in the resolver's order) grouped by service in
 * M's arena: *BY_SERVICE and *SVC_AT as in struct dir_area. */
void dir_modeli_offers_by_service(struct dir_model *m, const struct dir_ref *refs, int n,
                                  struct dir_ref **by_service, int **svc_at);
/* District welfare memberships of area A's member list, most recently verified first. */
void dir_modeli_build_welfare(struct dir_model *m, struct dir_area *a);
/* Whether organisation O belongs in its area's UNITS list. */
bool dir_modeli_is_unit(const struct dir_org *o);
/* Area A's welfare_orgs from its welfare list (in M's arena). */
void dir_modeli_welfare_orgs(struct dir_model *m, struct dir_area *a);

/* qsort that accepts an empty (possibly NULL) array. */
void dir_modeli_sort_n(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
/* qsort/bsearch comparisons: ints, strings (const char *), clients by hash. */
int dir_modeli_cmp_int(const void *a, const void *b);
int dir_modeli_cmp_str(const void *a, const void *b);
int dir_modeli_cmp_client(const void *a, const void *b);
/* Binary search by an id at offset 0 of each SIZE-byte element of BASE[0..N): index or -1. */
int dir_modeli_find_id(const void *base, int n, size_t size, long long id);

/* ---- rendering (dir_model_render.c) ---- */
/* S as a JSON string, or null. */
json_t *dir_modeli_jstr(const char *s);
/* OBJ rendered compact into OUT (in arena A); OBJ is released. */
void dir_modeli_render(struct dir_arena *a, json_t *obj, struct dir_json *out);
/* Area A as a reference (code, kind, names), or null. */
json_t *dir_modeli_area_ref_json(const struct dir_model *m, int a);
/* Area A's own answer. */
json_t *dir_modeli_area_json(const struct dir_model *m, const struct dir_area *a);
/* Organisation O's answers and contact cards (public and full) from its row R, in M's arena. */
void dir_modeli_render_org(struct dir_model *m, struct dir_org *o, const struct dir_org_row *r);

/* The resolver's indexes of a finished model (dir_model_index.c). */
void dir_modeli_build_indexes(struct dir_model *m);

/* Organisation or person I of a version being built, for writing (only while nobody reads
 * it, and only where its chunk is private to it: a fresh flat array or a dir_cow_write). */
static inline struct dir_org *dir_modeli_org_w(struct dir_model *m, int i)
{
    return (struct dir_org *)m->org_chunks[i >> DIR_COW_BITS] + (i & (DIR_COW_CHUNK - 1));
}
static inline struct dir_person *dir_modeli_person_w(struct dir_model *m, int i)
{
    return (struct dir_person *)m->person_chunks[i >> DIR_COW_BITS] + (i & (DIR_COW_CHUNK - 1));
}

#endif
