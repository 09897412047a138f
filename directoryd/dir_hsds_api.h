/* dir_hsds_api.h - the handlers of the HSDS 3.0 read API at /hsds/ (rows of dir_api.c's
 * routes[]; docs/hsds.md). Each fills X->resp from the snapshot X->m: JSON in the HSDS page
 * envelope, or a problem (400 naming the parameter, 404). Public data only, whoever asks. */
#ifndef DIR_HSDS_API_H
#define DIR_HSDS_API_H

#include "dir_route.h"

void dir_hsds_route_info(struct dir_route_ctx *x);                 /* GET /hsds/ */
void dir_hsds_route_services(struct dir_route_ctx *x);             /* GET /hsds/services */
void dir_hsds_route_service_at_locations(struct dir_route_ctx *x); /* .../service_at_locations */
void dir_hsds_route_organizations(struct dir_route_ctx *x);        /* GET /hsds/organizations */
void dir_hsds_route_taxonomies(struct dir_route_ctx *x);           /* GET /hsds/taxonomies */
void dir_hsds_route_taxonomy_terms(struct dir_route_ctx *x);       /* GET /hsds/taxonomy_terms */
/* GET /hsds/<things>/{id}: the route's WHAT names the object ("service", "organization",
 * "service_at_location", "taxonomy", "taxonomy_term"). */
void dir_hsds_route_object(struct dir_route_ctx *x);
/* GET /v1/export/hsds.zip (WHAT "zip") and /v1/export/hsds.json (WHAT "json"): the whole
 * data package (dir_hsds_export.h) as a download. */
void dir_hsds_route_export(struct dir_route_ctx *x);

/* The query parameters of the routes above (static lists for dir_api.c's table; routes not
 * named here take none). */
extern const struct dir_param dir_hsds_params_list[]; /* /hsds/taxonomies */
extern const struct dir_param dir_hsds_params_services[];
extern const struct dir_param dir_hsds_params_service_at_locations[];
extern const struct dir_param dir_hsds_params_organizations[];
extern const struct dir_param dir_hsds_params_organization[]; /* /hsds/organizations/{id} */
extern const struct dir_param dir_hsds_params_taxonomy_terms[];

#endif
