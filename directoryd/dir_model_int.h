/* dir_model_int.h - the read model's internals shared by dir_model.c (building a snapshot)
 * and dir_model_apply.c (deriving a new version from a change-log delta).
 * Not for other modules: they use dir_model.h. */
#ifndef DIR_MODEL_INT_H
#define DIR_MODEL_INT_H

#include "dir_model.h"
#include "dir_mem.h"

#include <stdatomic.h>

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
