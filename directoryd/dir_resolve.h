/* dir_resolve.h - "who is the right contact for this child, here, now?"
 *
 * Given an area (district, sub-district or community), an optional need (service) and an
 * optional target group, the resolver answers an ordered, explained list:
 *   tier 1  the welfare contacts responsible for the district: the district office's
 *           welfare section(s) and, for authenticated callers, their active staff;
 *   tier 2  organisations that provide the need for the group and cover the area, widening
 *           step by step: the community/sub-district, the district, its sub-group, its zone
 *           group, the province (Bangkok), the country; within a step, the most recently
 *           verified first;
 *   tier 3  the nearest open child opportunity centre, by great-circle distance between the
 *           area's and the centre's coordinates (a district's stand in where finer ones are
 *           unknown, marked approximate), when the centres serve the group; centres
 *           are city services, so only those in the area's own province are offered;
 *   tier 4  the central coordinating unit, always last, so the answer is never empty.
 * Closed organisations and inactive people are never offered; stale ones are marked.
 * Child opportunity centres are answered by distance (tier 3), not by coverage, and the
 * central unit only in tier 4, so nobody is listed twice.
 */
#ifndef DIR_RESOLVE_H
#define DIR_RESOLVE_H

#include "dir_buf.h"
#include "dir_model.h"

struct dir_resolve_req {
    int area;       /* area index: a district, sub-district or community */
    int need;       /* service index, or -1 */
    int group;      /* target-group index, or -1 */
    int limit;      /* most tier-2 items, and most tier-1 people */
    bool people;    /* the caller may see people (tier 1 staff) and non-public contacts */
    bool explain;   /* add the candidates skipped and why */
    const char *central_ref; /* ref of the central coordinating unit */
    time_t now;              /* the time open_now and next_change are for (0 = the clock) */
};

/* Writes the answer as JSON into OUT. DIR_ERR_INVALID (with a static message in *WHY) when
 * the area is not a district, sub-district or community; DIR_ERR_LIMIT past OUT's cap. */
enum dir_rc dir_resolve(const struct dir_model *m, const struct dir_resolve_req *rq,
                        struct dir_buf *out, const char **why);

/* One item of the answer, in rank order: an organisation or a person (index). */
struct dir_resolve_hit {
    bool person;
    int idx;
    int tier;
};

/* The same answer as dir_resolve as a list (*HITS, *N items; caller frees *HITS), for other
 * renderings (vCard). DIR_ERR_INVALID with *WHY as dir_resolve. */
enum dir_rc dir_resolve_hits(const struct dir_model *m, const struct dir_resolve_req *rq,
                             struct dir_resolve_hit **hits, int *n, const char **why);

/* Great-circle distance in km between two points given in degrees (exposed for tests). */
double dir_resolve_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
