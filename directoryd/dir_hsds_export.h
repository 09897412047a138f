/* dir_hsds_export.h - the HSDS 3.0 tabular data package of a snapshot (docs/hsds.md): one
 * CSV file per HSDS table (organizations.csv, services.csv, locations.csv, addresses.csv,
 * phones.csv, schedules.csv, service_areas.csv, service_at_location.csv, attributes.csv,
 * organization_identifiers.csv, taxonomies.csv, taxonomy_terms.csv) with the HSDS column
 * order, and datapackage.json (Frictionless Data) describing them; or the same rows as one
 * JSON object keyed by HSDS table name ({"organization": [rows], ...}, the shape of HSDS's
 * compiled tabular.json).
 *
 * CSV: RFC 4180, UTF-8 without BOM, CRLF line ends; a text cell that starts with '=', '+',
 * '-', '@', a tab or a carriage return is written with a leading apostrophe so spreadsheet
 * programs do not run it as a formula (dir_hsds_import strips it again). Public data only.
 */
#ifndef DIR_HSDS_EXPORT_H
#define DIR_HSDS_EXPORT_H

#include "dir_buf.h"
#include "dir_model.h"
#include "dir_rc.h"

#include <jansson.h>

/* One HSDS table of the package. */
struct dir_hsds_table {
    const char *name;           /* HSDS entity ("organization") */
    const char *file;           /* its CSV ("organizations.csv") */
    const char *const *columns; /* in HSDS order, NULL-terminated */
};
extern const struct dir_hsds_table dir_hsds_tables[];
extern const int dir_hsds_ntables;
/* The table named NAME, or NULL. */
const struct dir_hsds_table *dir_hsds_table(const char *name);
/* True when COLUMN of an HSDS table holds numbers. */
bool dir_hsds_numeric(const char *column);

/* The rows of every table of snapshot M: {"organization": [{...}, ...], ...} (new reference,
 * owned by the caller; NULL when out of memory). */
json_t *dir_hsds_rows(const struct dir_model *m);

/* Appends table T of ROWS (from dir_hsds_rows) as CSV to OUT. */
enum dir_rc dir_hsds_csv(json_t *rows, const struct dir_hsds_table *t, struct dir_buf *out);
/* datapackage.json for ROWS (new reference, owned by the caller). */
json_t *dir_hsds_datapackage(json_t *rows);

/* The package of M as a ZIP archive appended to OUT. DIR_ERR_LIMIT past OUT's cap. */
enum dir_rc dir_hsds_export_zip(const struct dir_model *m, struct dir_buf *out);
/* The package of M as JSON appended to OUT ({"datapackage": ..., "tables": rows}). */
enum dir_rc dir_hsds_export_json(const struct dir_model *m, struct dir_buf *out);
/* Writes the package of M into directory DIR (made when missing): the CSV files and
 * datapackage.json, each written to a temporary name and renamed. Message in ERR. */
enum dir_rc dir_hsds_export_dir(const struct dir_model *m, const char *dir, char *err,
                                size_t errlen);

#endif
