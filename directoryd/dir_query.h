/* dir_query.h - filtered, paged lists and details rendered from a read-model snapshot.
 *
 * Every list answers {"items":[...],"next":<cursor or null>} in a stable order (areas and
 * groups by code, organisations and people by id); the cursor is the key of the last item
 * returned, and a page holds the items after it. Output goes to a capped dir_buf; DIR_ERR_LIMIT
 * means the answer would exceed the cap.
 */
#ifndef DIR_QUERY_H
#define DIR_QUERY_H

#include "dir_buf.h"
#include "dir_model.h"

struct dir_area_filter {
    int kind;      /* enum dir_area_kind, or -1 for any */
    int parent;    /* area index, or -1 for any */
    const char *q; /* folded search text, or NULL */
};

struct dir_org_filter {
    const char *q;      /* folded search text, or NULL */
    int area;           /* area index the organisation serves or is in, or -1 */
    int service;        /* service index, or -1 */
    int group;          /* target group index, or -1 */
    const char *type;   /* org type code, or NULL */
    const char *status; /* active/closed/moved, or NULL for all */
    long long parent;   /* the parent organisation's id, or 0 for any */
    /* A zone group (or sub-group): the organisation matches the other filters for one of its
     * member areas (located there, or serving it). NULL for any. Borrowed from the model. */
    const struct dir_group *zone;
};

struct dir_person_filter {
    const char *q;    /* folded search text, or NULL */
    int area;         /* area index served, or -1 */
    int org;          /* organisation index, or -1 */
    const char *role; /* team role or profession code, or NULL */
};

/* Areas after CURSOR (a code, or NULL) matching F, at most LIMIT. */
enum dir_rc dir_query_areas(const struct dir_model *m, const struct dir_area_filter *f,
                            const char *cursor, int limit, struct dir_buf *out);
/* One area with its ancestors (country first), its groups and its number of children. */
enum dir_rc dir_query_area(const struct dir_model *m, int area, struct dir_buf *out);
/* Area groups, optionally of one KIND (NULL for all). */
enum dir_rc dir_query_groups(const struct dir_model *m, const char *kind, struct dir_buf *out);
/* One taxonomy in its configured order. */
enum dir_rc dir_query_taxa(const struct dir_model *m, enum dir_tax_kind kind, struct dir_buf *out);
/* Organisations with id > AFTER matching F; FULL adds non-public contact points; open_now
 * and next_change are as of NOW. */
enum dir_rc dir_query_orgs(const struct dir_model *m, const struct dir_org_filter *f,
                           long long after, int limit, bool full, time_t now, struct dir_buf *out);
/* True when organisation O matches F (exposed for unit tests). */
bool dir_query_org_matches(const struct dir_model *m, const struct dir_org *o,
                           const struct dir_org_filter *f);
/* Active people with id > AFTER matching F. */
enum dir_rc dir_query_people(const struct dir_model *m, const struct dir_person_filter *f,
                             long long after, int limit, struct dir_buf *out);
/* Parses S as a whole decimal number in [MIN, MAX]: an optional '-' then ASCII digits and
 * nothing else (no '+', spaces, exponent, fraction or trailing bytes), without overflow.
 * The one parser of numeric query parameters (limit, cursor, since, before, ids). Writes
 * *OUT only on success; false for NULL, "" or anything else. */
bool dir_query_int(const char *s, long long min, long long max, long long *out);
/* True when area A and area X are the same or one lies inside the other. */
bool dir_query_areas_related(const struct dir_model *m, int a, int x);

#endif
