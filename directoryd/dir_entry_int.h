/* dir_entry_int.h - the LDAP entry view's internals, shared by its files: dir_entry.c (the
 * attribute table, the schema, DNs, the view's lifetime), dir_entry_build.c (building the
 * entries, interning their values), dir_entry_index.c (the indexes, DN lookup),
 * dir_entry_apply.c (deriving a view from the previous version's) and dir_entry_search.c
 * (searching, GET /v1/search).
 * Not for other modules: they use dir_entry.h. */
#ifndef DIR_ENTRY_INT_H
#define DIR_ENTRY_INT_H

#include "dir_entry.h"
#include "dir_filter.h"
#include "dir_gram.h"
#include "dir_mem.h"
#include "dir_model.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- attribute types (dir_entry.c) ---- */

enum syn { SYN_STR, SYN_IA5, SYN_TEL, SYN_OID, SYN_DN, SYN_BOOL, SYN_INT, SYN_URI, SYN_POSTAL };

#define F_OPER 1u    /* operational */
#define F_SINGLE 2u  /* SINGLE-VALUE */
#define F_INDEX 4u   /* equality and prefix index */
#define F_OWN 8u     /* directoryd's own (published in schema/ldap/directoryd.ldif) */
#define F_DSA 16u    /* USAGE dSAOperation (root DSE) */
#define F_SUBSTR 32u /* codepoint-trigram index for substring filters */
#define F_SHARED 64u /* values mostly shared by many entries (names of organisations, areas) */

enum attr_id {
    A_OBJECTCLASS,
    A_CN,
    A_SN,
    A_GIVENNAME,
    A_DISPLAYNAME,
    A_UID,
    A_TITLE,
    A_MAIL,
    A_TELEPHONE,
    A_MOBILE,
    A_FAX,
    A_O,
    A_OU,
    A_L,
    A_ST,
    A_DC,
    A_POSTALADDRESS,
    A_POSTALCODE,
    A_LABELEDURI,
    A_DESCRIPTION,
    A_DEPARTMENT,
    A_EMPLOYEETYPE,
    A_DIR_ID,
    A_DIR_REF,
    A_DIR_ORGTYPE,
    A_DIR_SECTOR,
    A_DIR_STATUS,
    A_DIR_STATUSDATE,
    A_DIR_SERVICE,
    A_DIR_TARGETGROUP,
    A_DIR_COVERAGE,
    A_DIR_AREACODE,
    A_DIR_AREAKIND,
    A_DIR_PARENTAREA,
    A_DIR_AREAGROUP,
    A_DIR_GROUPMEMBER,
    A_DIR_TEAMROLE,
    A_DIR_AREASERVED,
    A_DIR_MEMBEROF,
    A_DIR_PARENTORG,
    A_DIR_LINE,
    A_DIR_VERIFIEDAT,
    A_DIR_STALE,
    A_DIR_SOURCE,
    A_ENTRYDN,
    A_STRUCTURALOC,
    A_SUBSCHEMA,
    A_HASSUBORDINATES,
    A_NAMINGCONTEXTS,
    A_SUPPORTEDLDAPVERSION,
    A_SUPPORTEDCONTROL,
    A_SUPPORTEDEXTENSION,
    A_SUPPORTEDFEATURES,
    A_VENDORNAME,
    A_VENDORVERSION,
    A_ATTRIBUTETYPES,
    A_OBJECTCLASSES,
    A_NATTRS
};

struct attr_def {
    const char *name, *alias, *oid;
    enum syn syn;
    unsigned flags;
    const char *desc;
};

/* The attribute types (dir_entry.c), by enum attr_id. */
extern const struct attr_def dir_entry_attrs[A_NATTRS];

static inline enum dir_match dir_entry_syn_match(enum syn s)
{
    switch (s) {
    case SYN_TEL:
        return DIR_MATCH_TELEPHONE;
    case SYN_URI:
        return DIR_MATCH_CASE_EXACT;
    default:
        return DIR_MATCH_CASE_IGNORE;
    }
}

/* ---- DNs (dir_entry.c) ---- */

/* The type and value of the suffix's first RDN (dir_entry_configure), and whether the root
 * DSE lists StartTLS (dir_entry_offer_starttls). */
extern char dir_entry_suffix_rdn_type[64];
extern char dir_entry_suffix_rdn_value[256];
extern bool dir_entry_starttls_offered;

/* Lower-cases the ASCII letters of S in place. */
void dir_entry_ascii_lower(char *s);

/* ---- the view ---- */

/* An equality index: the distinct normalised values of one attribute in byte order (keys),
 * and for each the entries holding it, ascending, one after another in ENT: the entries of
 * key i are ent[k[i].start .. k[i + 1].start) (k[nk] closes the last). */
struct ikey {
    const char *norm;
    uint32_t nlen;
    uint32_t start;
};

struct index {
    struct ikey *k;
    int nk;
    int *ent;
    int n;
};

/* The substring index (dir_gram.h): for every (attribute, codepoint trigram of a normalised
 * value) of the F_SUBSTR attributes, the entries holding it, ascending. */

struct dn_ref { /* a patched entry by normalised DN */
    const char *ndn;
    int e;
};

/* Entries are held in chunks of ECHUNK, so that a derived view copies the table of chunks and
 * the chunks it changes, not every entry (1,060,000 entries at 1,000,000 people). */
#define ECHUNK_BITS 10
#define ECHUNK (1 << ECHUNK_BITS)
#define ENT(v, e) ((v)->chunk[(e) >> ECHUNK_BITS]->ent[(e) & (ECHUNK - 1)])

/* A chunk is shared by the views derived from the one that made it, until one of them
 * changes an entry in it (it copies the chunk first). */
struct echunk {
    atomic_int refs;
    struct dir_entry ent[ECHUNK];
};

/* The arena of a derived view, holding the arenas of the views it shares entries with (the
 * one it was derived from, and so on back to the root, whose arena its model holds). */
struct arena_link {
    atomic_int refs;
    struct dir_arena *arena;
    struct arena_link *prev;
};

struct dir_entry_view {
    struct dir_model_ext ext; /* first: the snapshot frees us through it */
    struct dir_arena *arena;
    struct echunk **chunk; /* entry e is ENT(v, e) */
    int nchunks, chunk_cap;
    int n;
    int root_dse, subschema, suffix_entry, orgs_ou, people_ou;
    /* Every organisation and every person has a slot, in index order: organisation i's entry
     * is first_org + i, person i's first_person + i (gone when closed or inactive). People
     * come last, so people added later are appended. */
    int first_org, norg_slots, first_person, nperson_slots;
    struct index idx[A_NATTRS];
    struct dir_gram grams;
    int *dns;    /* entries by normalised DN: open addressing, -1 empty */
    size_t ndns; /* power of two */
    /* Who depends on an organisation (built whole only): the people with a membership in
     * organisation i are mem[mem_at[i] .. mem_at[i + 1]), its child organisations
     * kid[kid_at[i] .. kid_at[i + 1]). */
    int *mem_at, *mem, *kid_at, *kid;
    /* The model version this view is of. */
    unsigned long long lineage;
    int applied;
    /* A view derived from an earlier version's (dir_entry_view_from): ROOT is the view built
     * whole whose indexes, DN table and dependants this one uses, held through ROOT_MODEL;
     * ENTRIES is a copy of its entries with PATCHED (sorted) rebuilt or appended, found by
     * DN through PDNS (sorted by ndn). NULL for a view built whole. */
    const struct dir_entry_view *root;
    struct dir_model *root_model;
    int *patched, npatched;
    struct dn_ref *pdns;
    int npdns;
    struct arena_link *link; /* a derived view's ARENA, and those its entries point into */
};

/* The view's ext.free (dir_entry.c): frees V, or drops its references to what it shares. */
void dir_entry_view_free(struct dir_model_ext *x);
/* Entry IDX of V for writing (dir_entry.c): its chunk made or copied as needed. */
struct dir_entry *dir_entry_slot(struct dir_entry_view *v, int idx);

/* ---- building (dir_entry_build.c) ---- */

/* While a view is built, each distinct value and value list is stored once (interning: the
 * strings, lists and the recent-address cache are dir_entry_build.c's). */
struct istr;
struct ilist;
struct iseen_at;
struct triple;

struct intern {
    struct istr *s; /* distinct strings */
    uint32_t ns, caps;
    uint32_t *sslot; /* 1 + index into s, 0 empty; open addressing */
    size_t smask;
    struct ilist *l; /* distinct value lists */
    uint32_t nl, capl;
    uint32_t *lslot;
    size_t lmask;
    struct iseen_at *seen; /* INTERN_SEEN slots, allocated on first use */
};

struct eb {
    struct dir_entry_view *v;
    struct triple *t;
    int n, cap;
    struct intern in;
    struct dir_fval *tmp; /* one attribute's values while its list is assembled */
    int captmp;
};

/* A view of M built whole. */
struct dir_entry_view *dir_entry_build_view(const struct dir_model *m);
/* Organisation I's entry, in its slot under PARENT (ou=organizations). */
void dir_entry_build_org(struct eb *b, const struct dir_model *m, int i, int parent);
/* Adds dirParentOrg to organisation I's entry (just built) when its parent has an entry. */
void dir_entry_org_parent_fix(struct dir_entry_view *v, const struct dir_model *m, int i);
/* Person I's entry, in its slot under PARENT (ou=people); DISTRICTS is scratch for 64. */
void dir_entry_build_person(struct eb *b, const struct dir_model *m, int i, int parent,
                            const char **districts);
/* Frees the tables of IN (the values they point at stay). */
void dir_entry_intern_free(struct intern *in);
/* Doubles (or makes) a table of 1-based record numbers; HASH_OF gives a record's hash. */
uint32_t *dir_entry_slots_grow(uint32_t *old, size_t *mask,
                               uint32_t (*hash_of)(const void *, uint32_t), const void *recs);

/* ---- indexes (dir_entry_index.c) ---- */

/* The equality indexes, the substring index and the DN table of V (built whole). */
void dir_entry_build_indexes(struct dir_entry_view *v);
/* The entry with normalised DN NDN, or -1. */
int dir_entry_find_ndn(const struct dir_entry_view *v, const char *ndn);
/* qsort comparators: struct dn_ref by ndn; int ascending. */
int dir_entry_cmp_dn_ref(const void *a, const void *b);
int dir_entry_cmp_int(const void *a, const void *b);

/* ---- the substring (codepoint trigram) index (dir_gram.c) ----
 *
 * Assertion pieces are cut as values are (dir_gram.h): a piece that is well-formed UTF-8 and
 * occurs in a value has every trigram of its units among the value's. Pieces and values are
 * compared as dir_filter's substr_match compares them: the normalised bytes (white space
 * already folded on both sides), so no gram can miss a true match. Pieces that are not
 * well-formed UTF-8 are not used. */

/* Organisation slots of a view built whole: the organisations rounded up to the next multiple
 * of ORG_SLOT_STEP (at least one spare), the spare ones gone. An organisation added later
 * takes a spare slot in a derived view, so the people after them do not move; a view is built
 * whole only when the count crosses a multiple (every 256 added organisations). The count is
 * a function of the organisations alone, so a derived view and a view built whole of the same
 * version have the same slots (same entry indexes, same paging cursors). */
#define ORG_SLOT_STEP 256
static inline int dir_entry_org_slots(int norgs)
{
    return (norgs / ORG_SLOT_STEP + 1) * ORG_SLOT_STEP;
}

#define GRAM_UNITS 3
/* The substring index's space for the distinct values of an F_SHARED attribute A is
 * GRAM_SHARED + A, and its ids are A's equality-index keys, not entries (dir_entry_index.c). */
#define GRAM_SHARED 4096
#define GRAM_MAX_LISTS 6 /* a piece-heavy filter intersects at most this many lists */

#endif
