/* dir_hsds.h - the directory as Open Referral HSDS 3.0 objects (docs/hsds.md).
 *
 * HSDS (the Human Services Data Specification) is the open standard other systems read
 * service directories in. This module maps a read-model snapshot onto HSDS objects, built
 * as jansson values, for the read API at /hsds/ (dir_hsds_api.c) and the tabular data package
 * (dir_hsds_export.c):
 *   organization      <- an organisation (name_th as name, name_en as alternate_name)
 *   service           <- one offering of an organisation (its service code), with the
 *                        target groups and the service as attributes (taxonomy terms)
 *   location          <- where an organisation is (address, area, point), when known
 *   service_at_location <- a service at its organisation's location
 *   schedule          <- the organisation's structured opening hours, on each service
 *   service_area      <- each area or area group an offering covers
 *   phone             <- the organisation's PUBLIC phone, mobile and fax numbers only
 *   taxonomy / taxonomy_term <- services, target groups and organisation types
 * People are never published. Only public data: the same rules as an anonymous caller.
 *
 * Every HSDS id is a name-based UUID (RFC 9562 version 5, SHA-1) in the fixed namespace
 * DIR_HSDS_NAMESPACE of a name "<kind>:<directoryd key>" ("organization:12",
 * "service:12:counselling"...), so the same object has the same id in every answer, export
 * and snapshot.
 */
#ifndef DIR_HSDS_H
#define DIR_HSDS_H

#include "dir_model.h"

#include <jansson.h>
#include <stdbool.h>

#define DIR_HSDS_VERSION "3.0"
/* The namespace of every HSDS id directoryd makes (a random UUID chosen once, never
 * changed: changing it would change every published id). */
#define DIR_HSDS_NAMESPACE "8f0f3a52-4f57-4c1e-9a77-5b0c1d6e2a10"
#define DIR_HSDS_UUID_LEN 36

/* The published taxonomies, in order. */
#define DIR_HSDS_NTAX 3
extern const enum dir_tax_kind dir_hsds_tax_kinds[DIR_HSDS_NTAX];

/* Writes the id of KIND:KEY into OUT (36 characters and a NUL). */
void dir_hsds_uuid(const char *kind, const char *key, char out[DIR_HSDS_UUID_LEN + 1]);

/* One snapshot seen as HSDS: the snapshot and what is derived per request (each
 * organisation's last change from the change log). */
struct dir_hsds {
    const struct dir_model *m;
    const char **modified; /* per org index: the newest change-log time, or NULL */
};

/* Sets H up for snapshot M (borrowed); free with dir_hsds_done. DIR_ERR_NOMEM on failure. */
enum dir_rc dir_hsds_init(struct dir_hsds *h, const struct dir_model *m);
void dir_hsds_done(struct dir_hsds *h);

/* The objects, each a new reference owned by the caller. FULL adds the nested arrays the
 * HSDS "full" objects have; FULL_SERVICE (organizations) nests the full services. */
json_t *dir_hsds_organization(const struct dir_hsds *h, int org, bool full, bool full_service);
json_t *dir_hsds_service(const struct dir_hsds *h, int org, int offer, bool full);
/* NULL when the organisation has no known location (no address, point or area). */
json_t *dir_hsds_location(const struct dir_hsds *h, int org, bool full);
/* NULL when the organisation has no location. */
json_t *dir_hsds_service_at_location(const struct dir_hsds *h, int org, int offer, bool full);
json_t *dir_hsds_taxonomy(const struct dir_hsds *h, int t);             /* t < DIR_HSDS_NTAX */
json_t *dir_hsds_taxonomy_term(const struct dir_hsds *h, int t, int i); /* term i of taxonomy t */

/* The last_modified of organisation ORG (its newest change, else its verification; NULL
 * when neither is known): borrowed. */
const char *dir_hsds_modified(const struct dir_hsds *h, int org);

/* Ids of the objects, for lookups and filters. */
void dir_hsds_org_id(const struct dir_model *m, int org, char out[DIR_HSDS_UUID_LEN + 1]);
void dir_hsds_service_id(const struct dir_model *m, int org, int offer,
                         char out[DIR_HSDS_UUID_LEN + 1]);
void dir_hsds_sal_id(const struct dir_model *m, int org, int offer,
                     char out[DIR_HSDS_UUID_LEN + 1]);
void dir_hsds_taxonomy_id(int t, char out[DIR_HSDS_UUID_LEN + 1]);
void dir_hsds_term_id(const struct dir_model *m, int t, int i, char out[DIR_HSDS_UUID_LEN + 1]);

/* What an HSDS id of snapshot M names (dir_hsds_find). */
enum dir_hsds_kind {
    DIR_HSDS_K_ORGANIZATION,        /* A: org index */
    DIR_HSDS_K_SERVICE,             /* A: org index, B: offering index */
    DIR_HSDS_K_SERVICE_AT_LOCATION, /* A: org index, B: offering index */
    DIR_HSDS_K_TAXONOMY,            /* A: taxonomy (< DIR_HSDS_NTAX) */
    DIR_HSDS_K_TERM                 /* A: taxonomy, B: term index */
};
struct dir_hsds_hit {
    enum dir_hsds_kind kind;
    int a, b;
};
/* Finds the object whose HSDS id is ID (any case) in snapshot M through a hash table built
 * once per snapshot (dir_hsds_index.c; thread-safe, freed with the snapshot): true with HIT. */
bool dir_hsds_find(const struct dir_model *m, const char *id, struct dir_hsds_hit *hit);
/* Builds M's id tables now (its full load's and its own), so no lookup waits for them: the
 * refresher calls it before publishing a version. */
void dir_hsds_index_warm(const struct dir_model *m);

#endif
