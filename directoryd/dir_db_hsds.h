/* dir_db_hsds.h - applying an HSDS import plan (dir_hsds_import.h) to PostgreSQL. */
#ifndef DIR_DB_HSDS_H
#define DIR_DB_HSDS_H

#include "dir_db.h"

#include <jansson.h>
#include <stdbool.h>

/* Creates the organisations of REPORT's "plan" (with contact points, offerings, coverage,
 * hours and parents) in ONE transaction, with an audit row per organisation (action
 * "import") and one for the import (entity "import", action "import_hsds"). An organisation
 * whose directoryd id or ref exists already is left as it is ("unchanged"). Every refusal
 * by PostgreSQL is added to REPORT's "errors" with the organisation's file and line; with
 * any error (the planner's too) or DRY_RUN nothing is committed. Sets REPORT's "dry_run",
 * "written" and counts "created", "unchanged". Returns DIR_OK when the plan went through
 * (committed, or rolled back for a dry run), DIR_ERR_INVALID when errors kept it out,
 * DIR_ERR_DB when PostgreSQL failed (ERR). */
enum dir_rc dir_db_hsds_import(struct dir_db *db, const struct dir_db_actor *actor, json_t *report,
                               bool dry_run, char *err, size_t errlen);

#endif
