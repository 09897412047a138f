/* dir_worklist.h - the coordinators' worklists, HTTP side (uiwork).
 *
 * GET /v1/worklist/verification    coordinators and admins:
 *     ?entity=organization|person (default organization), zone= (a zone group code),
 *     district= (a district's area code), type= (an organisation type code; for people their
 *     home organisation's), limit= (1..500, default 50), cursor= (a previous answer's next).
 *     Active entries never verified or verified more than --stale-days ago, most stale first:
 *     200 {"items": [{"entity", "id", "name_th", "name_en", "district", "district_name_th",
 *     "district_name_en", "zone", "type", "verified_at" | null, "version"}], "next": cursor
 *     or null}. Unknown parameters and codes the directory does not know answer 400 naming
 *     the parameter. The SQL is in dir_db_worklist.c and 0013_worklist.sql.
 */
#ifndef DIR_WORKLIST_H
#define DIR_WORKLIST_H

#include "dir_db.h"
#include "dir_http.h"
#include "dir_model.h"
#include "dir_write.h"

/* Answers GET /v1/worklist/verification into RESP, from DB (NULL: 503) with the codes checked
 * against snapshot M, for caller WHO (the route already demands a coordinator). */
void dir_worklist_verification(struct dir_db *db, const struct dir_model *m,
                               const struct dir_caller *who, const struct dir_http_req *req,
                               struct dir_http_resp *resp);

/* Parses CURSOR ("n.<id>" or "<microseconds>.<id>") into F's after_* fields; false when it is
 * not one. Pure (unit-tested). */
bool dir_worklist_cursor_parse(const char *cursor, struct dir_db_worklist_filter *f);

#endif
