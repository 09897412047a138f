/* dir_db_worklist.c - the db module's side of the coordinators' "needs verification"
 * worklist: one call of worklist_verification() (0013_worklist.sql), which builds the page as
 * JSON in PostgreSQL. The statement is prepared once per connection in the slot dir_db_int.h
 * gives this file.
 */
#include "dir_db.h"
#include "dir_db_int.h"

#include <stdio.h>

static const char page_sql[] =
    "SELECT worklist_verification($1::text, $2::int, $3::text, $4::text, $5::text, "
    "$6::boolean, $7::bigint, $8::bigint, $9::int)";

enum dir_rc dir_db_worklist_verification(struct dir_db *db, const struct dir_db_worklist_filter *f,
                                         json_t **items, char *err, size_t errlen)
{
    char stale[16], after_us[32], after_id[32], limit[16];
    snprintf(stale, sizeof stale, "%d", f->stale_days);
    snprintf(after_us, sizeof after_us, "%lld", f->after_us);
    snprintf(after_id, sizeof after_id, "%lld", f->after_id);
    snprintf(limit, sizeof limit, "%d", f->limit);
    const char *p[] = {f->entity,
                       stale,
                       f->zone,
                       f->district,
                       f->type,
                       f->after_set ? "true" : "false",
                       f->after_set && !f->after_null ? after_us : NULL,
                       after_id,
                       limit};
    *items = NULL;
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    PGresult *res = dir_dbi_run(c, DIR_DBI_SLOT_WORKLIST, page_sql, 9, p, err, errlen);
    dir_dbi_release(db, c);
    if (!res) return DIR_ERR_DB;
    json_error_t e;
    *items = json_loads(PQgetvalue(res, 0, 0), 0, &e);
    PQclear(res);
    if (*items && json_is_array(*items)) return DIR_OK;
    json_decref(*items);
    *items = NULL;
    snprintf(err, errlen, "worklist: PostgreSQL answered JSON jansson cannot read: %s", e.text);
    return DIR_ERR_DB;
}
