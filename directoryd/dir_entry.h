/* dir_entry.h - the directory as LDAP entries: DNs, attributes, schema, search, GET /v1/search.
 *
 * The tree below the suffix (default ou=childnet,dc=bangkok,dc=go,dc=th):
 *
 *   ou=areas          l=<code> for every area (country .. community), cn=<code> for zone
 *                     groups (locality + dirArea, dirAreaGroup)
 *   ou=organizations  o=<ref> (or o=org-<id>) for each organisation that is not closed
 *                     (organization + dirOrganization)
 *   ou=people         uid=<username, else ref, else person-<id>> for each active person
 *                     (inetOrgPerson + dirPerson); o/ou name the organisation, dirMemberOf
 *                     points at its entry
 *
 * plus the root DSE ("") and the subschema entry (cn=Subschema), reached by base searches.
 * The view of one snapshot (every entry's DN and attribute values, normalised once,
 * equality/prefix indexes on the common attributes and a trigram substring index on cn, sn,
 * givenName, displayName, mail, o, ou and l) is built on first use and hangs off the snapshot
 * (struct dir_model_ext), so searches only look things up and compare bytes. Searches return
 * exactly what a scan of the entries in tree order would, in that order. Each distinct value
 * (and its normalised form, when that differs) and each distinct value list of an attribute is
 * stored once and shared by every entry holding it; value bytes are borrowed from the snapshot.
 *
 * Visibility: people entries and non-public contact values need role caseworker or higher.
 */
#ifndef DIR_ENTRY_H
#define DIR_ENTRY_H

#include "dir_auth.h"
#include "dir_filter.h"
#include "dir_http.h"
#include "dir_model.h"

#include <stdbool.h>
#include <stdint.h>

#define DIR_ENTRY_DEFAULT_SUFFIX "ou=childnet,dc=bangkok,dc=go,dc=th"

enum dir_scope { DIR_SCOPE_BASE = 0, DIR_SCOPE_ONE = 1, DIR_SCOPE_SUB = 2 };

struct dir_entry {        /* 40 bytes (the fields ordered so): one per entry */
    const char *dn, *ndn; /* as shown; normalised (lower-case, LDAPv3 string form) */
    const struct dir_fattr *attrs; /* sorted by attribute id */
    int parent;           /* entry index, -1 for the suffix and the special entries */
    int end;              /* the subtree of entry i is [i, end) */
    int nattrs;
    bool priv;            /* only for role caseworker or higher */
    bool gone;            /* a slot kept for a closed organisation or an inactive person: not
                             an entry (no DN, no attributes); searches skip it */
};

struct dir_entry_view;

/* Sets the suffix every later view uses (call once at start-up, before threads). SUFFIX
 * must be a valid DN; DIR_ERR_INVALID otherwise, with a message in ERR. */
enum dir_rc dir_entry_configure(const char *suffix, char *err, size_t errlen);
/* Whether the root DSE lists the StartTLS extension (a certificate is configured); call at
 * start-up, before threads, like dir_entry_configure. */
void dir_entry_offer_starttls(bool on);
/* The configured suffix as shown (static storage). */
const char *dir_entry_suffix(void);

/* The entry view of M, built on first use by whichever thread asks first. Borrowed: valid
 * while the caller holds its reference to M. */
const struct dir_entry_view *dir_entry_view(struct dir_model *m);
/* The entry view of M like dir_entry_view, but when PREV (an earlier version of the same
 * lineage, or NULL) has a view, M's is derived from it: the entries of the organisations and
 * people changed since are rebuilt, the rest and the indexes are shared (see "Applying
 * changes" in dir_entry_apply.c). Borrowed like dir_entry_view's answer. */
const struct dir_entry_view *dir_entry_view_from(struct dir_model *m, struct dir_model *prev);
/* Whether V was derived from an earlier version's view (tests, logs). */
bool dir_entry_view_patched(const struct dir_entry_view *v);
int dir_entry_count(const struct dir_entry_view *v);
/* Entry I (0 <= I < count); borrowed like the view. */
const struct dir_entry *dir_entry_at(const struct dir_entry_view *v, int i);

/* The person id (dirId) of entry E when E is a person's entry (only people's entries are
 * private), else 0. */
long long dir_entry_person_id(const struct dir_entry *e);

/* Attribute types. */
int dir_entry_attr_count(void);
/* The attribute id of NAME (name, alias or OID, any case), or -1. */
int dir_entry_attr_find(const char *name);
/* Static canonical name of attribute ID. */
const char *dir_entry_attr_name(int id);
/* True for operational attributes (returned for "+" or by name only). */
bool dir_entry_attr_operational(int id);
/* The resolver dir_filter_prepare wants (CLS unused). */
int dir_entry_resolve(void *cls, const char *name, enum dir_match *match);

/* Normalises DN into a new string (caller frees), or returns NULL when DN is not a valid DN. */
char *dir_entry_dn_normalize(const char *dn);

struct dir_entry_search {
    const char *base;        /* any DN form; "" is the root DSE */
    enum dir_scope scope;
    struct dir_filter *filter; /* prepared here */
    enum dir_role role;
    int size_limit;          /* 0 = none; without SORT the search stops after limit + 1 */
    const struct timespec *deadline; /* CLOCK_MONOTONIC, or NULL */
    int sort_attr;           /* attribute id to sort by, or -1 for tree order */
    bool sort_reverse;
    int after;               /* only entries with index > AFTER (tree order), or -1 */
};

struct dir_entry_result {
    int *idx;               /* entry indexes in answer order; caller frees */
    int n;
    bool size_exceeded;     /* more than size_limit matched (idx holds limit + 1) */
    bool time_exceeded;     /* the deadline passed; idx holds what was found */
    int base;               /* the base entry index */
};

/* Runs a search. DIR_ERR_INVALID: BASE is not a DN. DIR_ERR_NOTFOUND: no such base; then
 * *MATCHED (if not NULL) is set to the nearest existing ancestor's DN (borrowed, "" if none).
 * On success R->idx is the caller's to free. */
enum dir_rc dir_entry_search(const struct dir_entry_view *v, const struct dir_entry_search *s,
                             struct dir_entry_result *r, const char **matched);

/* The GET /v1/search handler of the JSON API: filter, base, scope (base|one|sub), limit,
 * cursor. Fills RESP (JSON or problem details). */
void dir_entry_http_search(struct dir_model *m, enum dir_role role,
                           const struct dir_http_req *req, struct dir_http_resp *resp);

/* Renders one page of a GET /v1/search answer into RESP: entries IDX[0..N) of V in answer
 * order; NEXT is the cursor of the next page (an entry's DN, borrowed) or NULL; SEE_PRIVATE
 * whether the caller may see non-public values. */
typedef void (*dir_entry_page_fn)(void *cls, const struct dir_model *m,
                                  const struct dir_entry_view *v, const int *idx, int n,
                                  const char *next, bool see_private,
                                  struct dir_http_resp *resp);
/* dir_entry_http_search with the page rendered by PAGE (with CLS) instead of as JSON; the
 * problems (bad parameters, unknown base) are the same. PAGE NULL: JSON. */
void dir_entry_http_search_as(struct dir_model *m, enum dir_role role,
                              const struct dir_http_req *req, struct dir_http_resp *resp,
                              dir_entry_page_fn page, void *cls);

/* The definitions directoryd publishes in cn=Subschema, one per line (static). */
const char *const *dir_entry_schema_attribute_types(void);
const char *const *dir_entry_schema_object_classes(void);

#endif
