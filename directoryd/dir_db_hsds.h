/* dir_db_hsds.h - applying an HSDS import plan (dir_hsds_import.h) to PostgreSQL. */
#ifndef DIR_DB_HSDS_H
#define DIR_DB_HSDS_H

#include "dir_db.h"

#include <jansson.h>
#include <stdbool.h>

/* Applies REPORT's "plan" (dir_hsds_import_plan) in ONE transaction, audited as one import
 * (a row in the import table, kind hsds; an audit row, entity "import") whose changed
 * organisations each have their own audit row pointing at it (create / update, with before
 * and after). Each item is matched, in this order, by a foreign id an earlier import stored
 * (hsds_foreign_id), by the planner's match against the snapshot (directoryd id, derived HSDS
 * id, ref, Thai name + district: checked to exist), else created (keeping the directoryd id
 * its identifiers give). A matched organisation is updated with what the package gives; when
 * that leaves its audit JSON as it was it is rolled back and "unchanged". The package's own
 * ids (organization, location, services) are stored against the organisation unless they are
 * the ones directoryd derives. Every refusal by PostgreSQL is added to REPORT's "errors" with
 * the organisation's file and line; with any error (the planner's too) or DRY_RUN nothing is
 * committed. Sets on each item "action" (create, update, unchanged, error), "new_id",
 * "match_by"; on REPORT "dry_run", "written", "import_id" (written) and counts "created",
 * "updated", "unchanged", "errors", "not_held"; *SEQ the change-log sequence that includes a
 * written import (else 0). DIR_OK when the plan went through (committed, or rolled back for a
 * dry run), DIR_ERR_INVALID when errors kept it out, DIR_ERR_DB when PostgreSQL failed (ERR). */
enum dir_rc dir_db_hsds_import(struct dir_db *db, const struct dir_db_actor *actor, json_t *report,
                               bool dry_run, long long *seq, char *err, size_t errlen);

/* Turns REPORT's applied "plan" into "lines" (one per organisation, as the CSV import's:
 * {file, line, hsds_id, name_th, action, id (null for what a dry run would create), errors,
 * match_by}) and drops the plan. */
void dir_db_hsds_lines(json_t *report);

#endif
