/* dir_vcard_http.h - the vCard answers of the JSON API's read routes.
 *
 * GET /v1/organizations/{id}, /v1/people/{id}, /v1/search and /v1/resolve answer
 * text/vcard instead of JSON when the Accept header prefers it (dir_vcard_wanted), and
 * /v1/organizations/{id}/vcard and /v1/people/{id}/vcard always do, as a download
 * (Content-Disposition: attachment; filename="organization-12.vcf"). The routes of dir_api.c
 * check the caller, the parameters and what the caller may see exactly as for JSON, then hand
 * the entities here: the same visibility, another rendering.
 */
#ifndef DIR_VCARD_HTTP_H
#define DIR_VCARD_HTTP_H

#include "dir_entry.h"
#include "dir_http.h"
#include "dir_model.h"
#include "dir_resolve.h"

/* Answers organisation O (FULL: with its non-public contact points); ATTACHMENT adds the
 * download header. */
void dir_vcard_http_org(struct dir_http_resp *resp, const char *path, const struct dir_model *m,
                        const struct dir_org *o, bool full, bool attachment);
/* Answers person P likewise. */
void dir_vcard_http_person(struct dir_http_resp *resp, const char *path, const struct dir_model *m,
                           const struct dir_person *p, bool full, bool attachment);
/* Answers the items of a resolver answer (HITS, N of them) as one vCard each, in rank order. */
void dir_vcard_http_hits(struct dir_http_resp *resp, const char *path, const struct dir_model *m,
                         const struct dir_resolve_hit *hits, int n, bool full);
/* GET /v1/search as vCards: the organisations and people of the page (areas have none); the
 * next page, when there is one, in a Link header (rel="next"). */
void dir_vcard_http_search(struct dir_model *m, enum dir_role role, const struct dir_http_req *req,
                           struct dir_http_resp *resp);

#endif
