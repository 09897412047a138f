/* dir_import.h - spreadsheet (CSV) import and export of organisations, people and
 * communities: POST /v1/imports, GET /v1/imports/templates/{kind}.csv,
 * GET /v1/export/{kind}.csv and `directoryd import|export csv` (docs/import.md).
 *
 * A file is read (dir_csv: encoding, delimiter, RFC 4180), its header mapped to columns by
 * name (Thai or English), each row matched to what exists (id, ref, else Thai name +
 * district), turned into the JSON body of the API's write and checked by the same code
 * (dir_write_check, dir_validate), then written in one transaction (dir_db_import_apply):
 * a dry run, or any error, writes nothing.
 */
#ifndef DIR_IMPORT_H
#define DIR_IMPORT_H

#include "dir_buf.h"
#include "dir_db.h"
#include "dir_model.h"
#include "dir_problem.h"
#include "dir_route.h"

#include <jansson.h>
#include <stdbool.h>

#define DIR_IMPORT_MAX_BYTES (20 * 1024 * 1024) /* a file's size */
#define DIR_IMPORT_MAX_ROWS 50000               /* data rows of one file */

struct dir_import_opts {
    const char *kind;      /* organizations, people, communities */
    const char *file_name; /* shown in the report and the audit trail; NULL: "import.csv" */
    bool dry_run;
    const char *encoding;  /* NULL/"auto", utf-8, windows-874 (tis-620) */
    const char *delimiter; /* NULL/"auto", ",", ";", "tab" (or comma, semicolon) */
};

/* True for a kind this module imports and exports. */
bool dir_import_kind_ok(const char *kind);

/* Imports the LEN bytes at DATA for ACTOR, checked against snapshot M. Returns the HTTP
 * status: 200 (written, or a clean dry run) or 422 (errors: nothing written) with *REPORT a
 * new JSON object (caller decrefs; see docs/import.md) and, when written, *SEQ the change
 * that includes it; else 400 (bad options), 413 (over the limits) or 503 (the database)
 * with PROB filled and *REPORT NULL. */
int dir_import_run(struct dir_db *db, const struct dir_model *m, const struct dir_db_actor *actor,
                   const struct dir_import_opts *o, const char *data, size_t len, json_t **report,
                   long long *seq, struct dir_problem *prob);

/* The template of KIND: UTF-8 with a BOM, the header row (Thai column names) and CRLF. */
void dir_import_template(const char *kind, struct dir_buf *out);

/* Every row of KIND as CSV in the template's columns (so importing it changes nothing),
 * UTF-8 with a BOM; cells a spreadsheet would run as formulas are neutralised. */
enum dir_rc dir_import_export_csv(struct dir_db *db, const struct dir_model *m, const char *kind,
                                  struct dir_buf *out, char *err, size_t errlen);

/* Route handlers for dir_api's table: ROUTE->what is the kind (templates, exports). */
void dir_import_route_post(struct dir_route_ctx *x);
void dir_import_route_template(struct dir_route_ctx *x);
void dir_import_route_export(struct dir_route_ctx *x);
/* --- hsds-import --- POST /v1/imports?kind=hsds (dir_hsds_import_http.c): the body is an
 * HSDS data package (ZIP or JSON) named FILE_NAME; the report or a problem is answered. */
void dir_hsds_import_route_post(struct dir_route_ctx *x, const char *file_name, bool dry_run);

/* The command line (dir_import_cli.c): `directoryd import <kind> FILE [--dry-run]
 * [--encoding E] [--delimiter D]` prints the report (exit 0 written or clean dry run, 3
 * errors: nothing written, 1 the database, 2 usage); `directoryd export csv <kind> [--out
 * FILE]`. ARGS are the words after "import" / "export csv". */
struct dir_cfg;
int dir_import_cli_import(const struct dir_cfg *cfg, int nargs, char **args);
int dir_import_cli_export(const struct dir_cfg *cfg, int nargs, char **args);

#endif
