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
 * file and line; the plan is then not applied. dir_db_hsds_import (dir_db.h) applies a plan
 * in ONE transaction (or, for a dry run, runs it and rolls it back).
 */
#ifndef DIR_HSDS_IMPORT_H
#define DIR_HSDS_IMPORT_H

#include "dir_model.h"

#include <jansson.h>
#include <stdbool.h>

/* Reads package directory DIR against snapshot M (codes, areas, existing organisations).
 * Returns the report (new reference, owned by the caller):
 *   {"dir", "counts": {"organizations", "errors", "not_held"},
 *    "errors": [{"file", "line", "column", "value", "reason_th", "reason_en"}],
 *    "not_held": [{"file", "line", "id", "column", "value", "reason_en"}],
 *    "plan": [{"file", "line", "hsds_id", "id" (0: new), "ref", "name_th", ...,
 *              "contacts": [...], "services": [...], "hours": {...} | null,
 *              "parent_hsds_id", "parent_id"}]}
 * NULL only when out of memory. */
json_t *dir_hsds_import_plan(const struct dir_model *m, const char *dir);

/* Parses one CSV file's bytes (RFC 4180; a UTF-8 BOM is skipped) into an array of row
 * objects keyed by the header's names, each with "_line" (its first line number). Values
 * written neutralised by dir_hsds_export ("'=...") are restored. NULL with ERR (naming the
 * line) on a broken quote or a row longer than the header. */
json_t *dir_hsds_csv_parse(const char *s, size_t n, char *err, size_t errlen);

#endif
