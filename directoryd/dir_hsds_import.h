/* dir_hsds_import.h - reading an HSDS 3.0 tabular data package (a directory of CSV files) into
 * directoryd organisations (docs/hsds.md, "Import").
 *
 * dir_hsds_import_plan reads the package and maps it onto a plan: one entry per HSDS
 * organization, with the organisation's columns, its contact points, offerings (a service
 * whose taxonomy terms name a directoryd service code), coverage and opening hours. What
 * directoryd cannot hold is never dropped silently: every non-empty column without a place,
 * every row of a table directoryd has no use for, and every value refused (a phone that is
 * not a Thai number, a point outside Thailand...) is listed in the report's "not_held".
 * Errors (a broken CSV, an organisation without id or name, a duplicate id) are listed with
 * file and line; the plan is then not applied. dir_db_hsds_import (dir_db_hsds.h) applies a
 * plan in ONE transaction (or, for a dry run, runs it and rolls it back), creating or
 * updating each organisation. The package may be a directory, a ZIP archive or the JSON form
 * of the export (dir_hsds_import_read).
 */
#ifndef DIR_HSDS_IMPORT_H
#define DIR_HSDS_IMPORT_H

#include "dir_model.h"

#include <jansson.h>
#include <stdbool.h>

#define DIR_HSDS_IMPORT_MAX_FILE (64L * 1024 * 1024)     /* one file of a package */
#define DIR_HSDS_IMPORT_MAX_UNZIPPED (64L * 1024 * 1024) /* all files of a ZIP, inflated */
#define DIR_HSDS_IMPORT_MAX_ROWS 200000                  /* rows of one table */

/* Reads package directory DIR against snapshot M (codes, areas, existing organisations).
 * Returns the report (new reference, owned by the caller):
 *   {"kind": "hsds", "file_name", "sha256" (of the files read, each name then bytes),
 *    "counts": {"organizations", "errors", "not_held"},
 *    "errors": [{"file", "line", "column", "value", "reason_th", "reason_en"}],
 *    "not_held": [{"file", "line", "id", "column", "value", "reason_en"}],
 *    "plan": [{"file", "line", "hsds_id", "id" (a directoryd id its identifiers give),
 *              "match_id", "match_by" (the organisation of M it is, and how that was found),
 *              "ref", "name_th", ..., "contacts": [...], "services": [{..., "hsds_id"}],
 *              "hours": {...} | null, "parent_hsds_id", "location_hsds_id",
 *              "type_assumed", "sector_assumed"}]}
 * NULL only when out of memory. */
json_t *dir_hsds_import_plan(const struct dir_model *m, const char *dir);

/* The same for a package held in memory: the LEN bytes at DATA are a ZIP archive of the
 * package's files (as GET /v1/export/hsds.zip gives it; files may sit in one folder) or its
 * JSON form (GET /v1/export/hsds.json). NAME is shown as the report's "file_name". DIR_OK
 * with *REPORT (owned by the caller); DIR_ERR_INVALID when the bytes are neither (or a
 * damaged archive, or JSON that does not parse), DIR_ERR_LIMIT when an archive inflates past
 * DIR_HSDS_IMPORT_MAX_FILE / _MAX_UNZIPPED: ERR says which file and why. */
enum dir_rc dir_hsds_import_read(const struct dir_model *m, const char *name, const char *data,
                                 size_t len, json_t **report, char *err, size_t errlen);

/* Parses one CSV file's bytes (RFC 4180; a UTF-8 BOM is skipped) into an array of row
 * objects keyed by the header's names, each with "_line" (its first line number). Values
 * written neutralised by dir_hsds_export ("'=...") are restored. NULL with ERR (naming the
 * line) on a broken quote or a row longer than the header. */
json_t *dir_hsds_csv_parse(const char *s, size_t n, char *err, size_t errlen);

#endif
