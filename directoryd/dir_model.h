/* dir_model.h - the in-memory read model: one immutable snapshot of the directory.
 *
 * directoryd answers every read from a snapshot; reads never touch PostgreSQL. A snapshot
 * is built once (dir_model_builder: the db module or a unit test feeds it rows, then
 * dir_model_finish resolves references, sorts, indexes and pre-renders each entity's JSON)
 * and never changes afterwards, so any number of threads may read it without locks.
 *
 * Publishing: the daemon holds the current snapshot behind a mutex-protected pointer with a
 * reference count (dir_model_acquire/release in dir_refresh.h). A reader takes a reference
 * for the length of one request; the refresher swaps in a new snapshot and drops its own
 * reference to the old one, which is freed by whichever reader finishes last. We chose
 * swapping immutable versions over a read-write lock because readers then never wait for a
 * rebuild, a rebuild never waits for slow readers, and no reader can see half a change.
 *
 * All memory of a snapshot lives in one arena, freed once by dir_model_free.
 */
#ifndef DIR_MODEL_H
#define DIR_MODEL_H

#include "dir_auth.h"
#include "dir_buf.h"
#include "dir_cow.h"
#include "dir_hours.h"
#include "dir_rc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum dir_area_kind {
    DIR_AREA_COUNTRY = 0,
    DIR_AREA_PROVINCE,
    DIR_AREA_DISTRICT,
    DIR_AREA_SUBDISTRICT,
    DIR_AREA_COMMUNITY,
    DIR_AREA_NKINDS
};

/* Taxonomies, each a list of {code, Thai, English}. */
enum dir_tax_kind {
    DIR_TAX_SERVICE = 0,
    DIR_TAX_TARGET_GROUP,
    DIR_TAX_ORG_TYPE,
    DIR_TAX_SECTOR,
    DIR_TAX_PROFESSION,
    DIR_TAX_TEAM_ROLE,
    DIR_TAX_NKINDS
};

struct dir_json { /* pre-rendered compact JSON, NUL-terminated */
    const char *s;
    size_t len;
};

/* An organisation's offering (org index, offering index) or a person's membership. */
struct dir_ref {
    int owner, item;
};

struct dir_org_ref {
    const char *ref;
    int org;
};

struct dir_area {
    const char *code, *name_th, *name_en, *postal_code;
    enum dir_area_kind kind;
    int parent; /* index, -1 for the country */
    int depth;  /* 0 for the country */
    bool has_coord, coord_approx;
    double lat, lon;
    int *children, nchildren;
    int *groups, ngroups; /* area groups this area belongs to (indexes) */
    const char *fold_th, *fold_en;
    int version;
    struct dir_json json;
    /* Indexes for the resolver (see dir_resolve.h). */
    struct dir_ref *offers;  /* offerings whose coverage names this area (or, with no
                                coverage, whose organisation is here), the most recently
                                verified organisation first */
    int noffers;
    /* The same offerings grouped by service, each group in OFFERS' order: those of service
     * taxon S are by_service[svc_at[S] .. svc_at[S + 1]) (the resolver asks for one need). */
    struct dir_ref *by_service;
    int *svc_at;
    struct dir_ref *members; /* memberships whose areas name this area */
    int nmembers;
    struct dir_ref *welfare; /* those of them with team role district_welfare, the most
                                recently verified person first */
    int nwelfare;
    /* The distinct organisations of WELFARE's memberships held by active people, ascending
     * (the resolver's tier 1 takes them without touching every person of the list). */
    int *welfare_orgs, nwelfare_orgs;
    /* Organisations located here that may be a district office's section (type bma_unit,
     * with a parent), in index order: the resolver's tier 1 checks their parents. */
    int *units, nunits;
};

struct dir_group {
    const char *code, *kind, *name_th, *name_en;
    int version;
    int parent;      /* group index or -1 */
    int within;      /* area index or -1 */
    int *members, nmembers; /* area indexes */
    struct dir_json json;
    struct dir_ref *offers; /* offerings whose coverage names this group, most recently
                               verified first */
    int noffers;
    struct dir_ref *by_service; /* as for struct dir_area */
    int *svc_at;
};

struct dir_taxon {
    const char *code, *name_th, *name_en, *desc_th, *desc_en;
    struct dir_json json;
};

struct dir_contact {
    const char *kind, *value, *extension, *label_th, *label_en;
    bool is_public;
};

/* Where an offering or a membership applies: codes as given, and the areas they mean. */
struct dir_coverage {
    const char **codes; /* area or group codes */
    int *areas;         /* area indexes; a group expands to its members */
    int ncodes, nareas;
};

struct dir_offering {
    int service;        /* taxon index */
    uint64_t groups;    /* bit per target-group index; 0 = every group */
    struct dir_coverage cov; /* empty = where the organisation is */
};

struct dir_org {
    long long id, parent_id, successor_id; /* 0 = none */
    const char *ref, *name_th, *name_en, *type, *sector, *status, *status_date;
    const char *status_reason, *verified_at, *verified_by;
    const char *address_th, *address_en; /* postal address, or NULL */
    int area; /* where it is; -1 if unknown */
    bool has_coord, coord_approx; /* its own point, when known */
    bool is_centre; /* a child opportunity centre (answered by distance, not coverage) */
    double lat, lon;
    time_t verified;
    bool demo, stale;
    struct dir_offering *offerings;
    int noffers;
    struct dir_contact *contacts;
    int ncontacts;
    const struct dir_hours *hours; /* structured opening hours; NULL = unknown */
    const char *fold_th, *fold_en, *fold_ref;
    int version;
    /* Rendered without open_now/next_change, which depend on the time of the request:
     * answers add them (dir_model_org_json, dir_model_org_card). */
    struct dir_json json_public, json_full;
    /* "Contact cards": the members of a compact JSON object without its braces (id, names,
     * type, status, area, contacts, verified_at, stale), for embedding in resolver items. */
    struct dir_json card_public, card_full;
};

struct dir_membership {
    long long id;
    const char *team_role, *title_th, *title_en;
    struct dir_coverage cov;
    int org; /* org index */
};

struct dir_person { /* fields ordered for no padding: one per person (1,000,000 in the
                      country-size benchmark) */
    long long id;
    const char *ref, *name_th, *name_en, *title_th, *title_en, *profession, *source;
    const char *verified_at;
    const char *username; /* login name (staff from LDAP), or NULL */
    time_t verified;
    struct dir_membership *members;
    struct dir_contact *contacts;
    const char *fold_th, *fold_en;
    int nmembers, ncontacts;
    int version;
    bool active, demo, stale;
};

/* A pilot community programme or other programme, with its areas and organisations. */
struct dir_programme {
    long long id; /* first member: searched by id */
    const char *ref;
    int version;
    struct dir_json json;
};

/* One change-log row, as mirrors see it. */
struct dir_change {
    long long seq;
    const char *entity, *id, *op, *at;
};

/* An organisation or person changed (or added) by an applied version: its index and the
 * APPLIED count of the newest version that changed it (see struct dir_model). */
struct dir_dirty {
    int idx, applied;
};

struct dir_client {
    uint8_t hash[DIR_AUTH_HASH_LEN];
    const char *name;
    enum dir_role role;
    time_t expires; /* 0 = never */
    bool revoked;
};

struct dir_model {
    struct dir_arena *arena;
    atomic_int refs;
    long long seq; /* the change-log sequence this snapshot includes */
    time_t built_at;
    int stale_days;
    struct dir_area *areas; /* sorted by code */
    int nareas;
    struct dir_group *groups; /* sorted by code */
    int ngroups;
    struct dir_taxon *tax[DIR_TAX_NKINDS]; /* in their configured order */
    int ntax[DIR_TAX_NKINDS];
    /* Organisations and people, each sorted by id, in chunks of DIR_COW_CHUNK (dir_cow.h) so
     * that a version derived by dir_model_apply copies only the chunks it changes: read them
     * through dir_model_org_at and dir_model_person_at. */
    void *const *org_chunks;
    int norgs;
    void *const *person_chunks;
    int npeople;
    struct dir_client *clients; /* sorted by hash */
    int nclients;
    struct dir_org_ref *org_refs; /* sorted by ref, as of the full load */
    int norg_refs;
    /* The refs of the organisations changed since the full load, sorted by ref: looked up
     * before ORG_REFS, whose entry for a changed one may be stale (dir_model_org_by_ref). */
    const struct dir_org_ref *org_refs_new;
    int norg_refs_new;
    struct dir_change *changes; /* the newest change-log rows, oldest first */
    int nchanges;
    int *centres, ncentres; /* child opportunity centres (org indexes) */
    struct dir_programme *programmes; /* sorted by id */
    int nprogrammes;
    const char **revoked; /* session ids logged out before they expired, sorted */
    int nrevoked;
    struct dir_holidays holidays; /* public holidays (schema/reference/thai_public_holidays.tsv) */
    /* Views other modules derive from the snapshot on first use (the LDAP entry view of
     * dir_entry.h): set once with a compare-and-swap, freed by the last release. */
    _Atomic(struct dir_model_ext *) entries;
    /* How this version's memory is held (dir_model_int.h): the arenas it shares with the
     * versions it was derived from by dir_model_apply, and the arrays it shares or owns. */
    struct dir_model_pieces *pieces;
    int applied; /* changes applied since the last full load (0 for a full load) */
    long apply_us; /* microseconds dir_model_apply took to derive it (0 for a full load) */
    /* Versions derived by dir_model_apply from one full load share its LINEAGE (a full load
     * gets a new one). Within a lineage areas, groups and taxa never change and an
     * organisation's or a person's index never moves (ids only grow; new ones are appended),
     * so a view built for an earlier version of the lineage (the LDAP entries, the name
     * index) can be brought up to date from the DIRTY lists: every organisation and person
     * changed or added since the full load, sorted by index, each stamped with the APPLIED
     * count of the version that last changed it (those changed after version W are the ones
     * stamped above W->applied). Empty for a full load. In the version's own memory. */
    unsigned long long lineage;
    const struct dir_dirty *dirty_orgs, *dirty_people;
    int ndirty_orgs, ndirty_people;
    /* The full load of this lineage (NULL for the full load itself), held by every version
     * derived from it: views built once per full load (the HSDS id index) serve its applied
     * versions with a small overlay for the dirty entities. */
    struct dir_model *full;
    /* --- names --- */
    /* The name index of q= search (dir_names.h): built by the full load, shared (reference
     * counted) by the versions of its lineage, which add their dirty lists to its candidates. */
    struct dir_names *names;
    /* --- hsds-import --- */
    /* The HSDS id index (dir_hsds_index.c), like ENTRIES: set once, freed by the last release. */
    _Atomic(struct dir_model_ext *) hsds_ids;
};

/* Organisation I (0 <= I < M->norgs), in id order. */
static inline const struct dir_org *dir_model_org_at(const struct dir_model *m, int i)
{
    return (const struct dir_org *)m->org_chunks[i >> DIR_COW_BITS] + (i & (DIR_COW_CHUNK - 1));
}

/* Person I (0 <= I < M->npeople), in id order. */
static inline const struct dir_person *dir_model_person_at(const struct dir_model *m, int i)
{
    return (const struct dir_person *)m->person_chunks[i >> DIR_COW_BITS] +
           (i & (DIR_COW_CHUNK - 1));
}

/* A derived view hanging off a snapshot; FREE releases it. */
struct dir_model_ext {
    void (*free)(struct dir_model_ext *x);
};

/* ---- building ---- */

struct dir_model_builder;

struct dir_org_row {
    long long id, parent_id, successor_id;
    const char *ref, *name_th, *name_en, *short_name_th, *short_name_en, *type, *sector;
    const char *status, *status_date, *status_reason, *status_reason_en, *description_th, *description_en;
    const char *hours_th, *hours_en, *address_th, *address_en, *area_code, *verified_at,
        *verified_by;
    int opened_year; /* 0 = unknown */
    bool has_coord, coord_approx, demo;
    double lat, lon;
    long long verified_epoch; /* 0 = never */
    int version;
};

struct dir_person_row {
    long long id;
    const char *ref, *name_th, *name_en, *title_th, *title_en, *profession, *source, *username,
        *verified_at;
    bool active, demo;
    long long verified_epoch;
    int version;
};

struct dir_contact_row {
    long long org_id, person_id; /* exactly one is non-zero */
    const char *kind, *value, *extension, *label_th, *label_en;
    bool is_public;
};

/* A new builder; STALE_DAYS sets the staleness threshold. Free with dir_model_builder_free
 * unless dir_model_finish consumed it. */
struct dir_model_builder *dir_model_builder_new(int stale_days);
void dir_model_builder_free(struct dir_model_builder *b);

/* Each add copies its strings; NULL strings mean "none". NAN lat/lon means unknown. */
void dir_model_add_area(struct dir_model_builder *b, const char *code, const char *kind,
                        const char *parent, const char *name_th, const char *name_en,
                        const char *postal_code, double lat, double lon, bool coord_approx,
                        int version);
void dir_model_add_group(struct dir_model_builder *b, const char *code, const char *kind,
                         const char *parent, const char *within, const char *name_th,
                         const char *name_en, int version);
void dir_model_add_group_member(struct dir_model_builder *b, const char *group,
                                const char *area);
void dir_model_add_taxon(struct dir_model_builder *b, enum dir_tax_kind kind, const char *code,
                         const char *name_th, const char *name_en, const char *desc_th,
                         const char *desc_en);
void dir_model_add_org(struct dir_model_builder *b, const struct dir_org_row *row);
void dir_model_add_contact(struct dir_model_builder *b, const struct dir_contact_row *row);
void dir_model_add_offering(struct dir_model_builder *b, long long offering_id, long long org_id,
                            const char *service);
void dir_model_add_offering_group(struct dir_model_builder *b, long long offering_id,
                                  const char *target_group);
/* Exactly one of AREA and GROUP is non-NULL. */
void dir_model_add_offering_area(struct dir_model_builder *b, long long offering_id,
                                 const char *area, const char *group);
void dir_model_add_person(struct dir_model_builder *b, const struct dir_person_row *row);
void dir_model_add_membership(struct dir_model_builder *b, long long id, long long person_id,
                              long long org_id, const char *team_role, const char *title_th,
                              const char *title_en);
void dir_model_add_membership_area(struct dir_model_builder *b, long long membership_id,
                                   const char *area, const char *group);
void dir_model_add_client(struct dir_model_builder *b, const uint8_t hash[DIR_AUTH_HASH_LEN],
                          const char *name, const char *role, long long expires_epoch,
                          bool revoked);

/* A change-log row; rows must come in ascending SEQ order. */
void dir_model_add_change(struct dir_model_builder *b, long long seq, const char *entity,
                          const char *id, const char *op, const char *at);

struct dir_programme_row {
    long long id;
    const char *ref, *name_th, *name_en, *description_th, *description_en, *source;
    int start_year, end_year; /* 0 = unknown */
    int version;
};
void dir_model_add_programme(struct dir_model_builder *b, const struct dir_programme_row *row);
void dir_model_add_programme_area(struct dir_model_builder *b, long long programme_id,
                                  const char *area);
void dir_model_add_programme_org(struct dir_model_builder *b, long long programme_id,
                                 long long org_id, const char *role_th, const char *role_en);
/* Index of the programme with ID (or, if ID is 0, with REF), or -1. */
int dir_model_programme(const struct dir_model *m, long long id, const char *ref);

/* Organisation ORG_ID's opening hours: JSON in the shape of dir_hours.h (as the database's
 * dir_hours_json gives it). Hours that do not parse are dropped with a warning. */
void dir_model_add_hours(struct dir_model_builder *b, long long org_id, const char *json);
/* A public holiday: DAY in days since 1970-01-01. */
void dir_model_add_holiday(struct dir_model_builder *b, int day);

/* A session id that was logged out. */
void dir_model_add_revoked(struct dir_model_builder *b, const char *sid);
/* True when session SID was logged out. */
bool dir_model_session_revoked(const struct dir_model *m, const char *sid);

/* Consumes B and makes the snapshot at change-log sequence SEQ (one reference, owned by the
 * caller; drop it with dir_model_release). Rows that point at unknown entities are dropped
 * with a warning. Returns DIR_ERR_INVALID with a message in ERR if the data cannot form a
 * directory (no country area). B is freed in every case. */
enum dir_rc dir_model_finish(struct dir_model_builder *b, long long seq, struct dir_model **out,
                             char *err, size_t errlen);

/* ---- applying changes (dir_model_apply.c) ---- */

/* What a change-log delta names: the entities whose rows builder B holds afresh. */
struct dir_model_delta {
    const long long *org_ids, *person_ids; /* changed (each once, any order) */
    int norg_ids, nperson_ids;
    bool clients, revoked, programmes; /* B holds every row of these tables */
    int changes_kept;                  /* as for the full load */
};

/* A new version: OLD with the entities of delta D replaced by the rows B holds (B was filled
 * with exactly those entities' rows, as the full load reads them), at sequence SEQ. Only
 * what depends on the changed entities is rebuilt (their rendered JSON, the resolver's lists
 * of the areas and groups they name, the organisation ref index); everything else is shared
 * with OLD. One reference, owned by the caller. Consumes B. DIR_ERR_STATE when the delta
 * cannot be applied in place (an entity was deleted, or a new id sorts before an existing
 * one): the caller loads a full snapshot instead. OLD is not changed. */
enum dir_rc dir_model_apply(const struct dir_model *old, struct dir_model_builder *b,
                            const struct dir_model_delta *d, long long seq,
                            struct dir_model **out, char *err, size_t errlen);
/* Bytes of arena memory held by the applied versions since the last full load (compaction). */
size_t dir_model_delta_bytes(const struct dir_model *m);

/* Drops one reference; the last one frees the snapshot. NULL is a no-op. */
void dir_model_release(struct dir_model *m);

/* ---- lookups (borrowed pointers, valid while the caller holds a reference) ---- */

/* Appends person P's JSON to B: an object, or (BRACES false) its members only, for
 * embedding. People are many (hundreds of thousands) and read one page at a time, so they
 * are rendered when asked rather than kept rendered. DIR_ERR_LIMIT past B's cap. */
enum dir_rc dir_model_person_json(const struct dir_model *m, const struct dir_person *p,
                                  bool braces, struct dir_buf *b);
/* Appends person P's contact card (id, names, titles, profession, contacts, verified_at,
 * stale) to B as object members without braces, for the resolver's items. */
enum dir_rc dir_model_person_card(const struct dir_model *m, const struct dir_person *p,
                                  struct dir_buf *b);
/* Whether organisation O is open at NOW (closed organisations never are). */
struct dir_hours_state dir_model_org_open(const struct dir_model *m, const struct dir_org *o,
                                          time_t now);
/* Appends organisation O's JSON (FULL: with its non-public contact points) to B, with
 * "open_now" and "next_change" as of NOW. */
enum dir_rc dir_model_org_json(const struct dir_model *m, const struct dir_org *o, bool full,
                               time_t now, struct dir_buf *b);
/* Appends O's contact card (object members without braces; FULL as above) to B, with
 * "open_now" and "next_change" as of NOW. */
enum dir_rc dir_model_org_card(const struct dir_model *m, const struct dir_org *o, bool full,
                               time_t now, struct dir_buf *b);
/* Index of the area with CODE, or -1. */
int dir_model_area(const struct dir_model *m, const char *code);
/* Index of the area group with CODE, or -1. */
int dir_model_group(const struct dir_model *m, const char *code);
/* Index of the taxon CODE of KIND, or -1. */
int dir_model_taxon(const struct dir_model *m, enum dir_tax_kind kind, const char *code);
/* Index of the organisation with ID, or -1. */
int dir_model_org(const struct dir_model *m, long long id);
/* Index of the organisation whose stable ref is REF, or -1. */
int dir_model_org_by_ref(const struct dir_model *m, const char *ref);
/* Index of the person with ID, or -1. */
int dir_model_person(const struct dir_model *m, long long id);
/* The client whose secret hashes to HASH, or NULL. Expiry and revocation are the caller's. */
const struct dir_client *dir_model_client(const struct dir_model *m,
                                          const uint8_t hash[DIR_AUTH_HASH_LEN]);
/* True when area A is ANC or lies inside it. */
bool dir_model_area_within(const struct dir_model *m, int a, int anc);
/* The static name of an area kind ("district"...), or NULL when out of range. */
const char *dir_model_area_kind_name(enum dir_area_kind k);
/* Parses an area kind name; -1 if unknown. */
int dir_model_area_kind_parse(const char *name);

#endif
