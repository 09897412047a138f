/* dir_hsds_import_http.c - POST /v1/imports?kind=hsds[&dry_run=1]: an HSDS 3.0 data package
 * (the ZIP GET /v1/export/hsds.zip gives, or its JSON form) read by dir_hsds_import_read,
 * applied by dir_db_hsds_import, answered with the same report as the CLI (docs/hsds.md):
 * 200 (written, or a clean dry run), 422 (errors: nothing written, or not a package at all:
 * a problem), 413 (past the size limits), 503 (the database). */
#include "dir_db_hsds.h"
#include "dir_hsds_import.h"
#include "dir_import.h"
#include "dir_log.h"
#include "dir_refresh.h"
#include "dir_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 5000

static void respond(struct dir_route_ctx *x, struct dir_problem *p)
{
    dir_problem_respond(p, dir_http_path(x->req), x->resp);
}

void dir_hsds_import_route_post(struct dir_route_ctx *x, const char *file_name, bool dry_run)
{
    struct dir_problem p;
    size_t len;
    const char *body = dir_http_body(x->req, &len);
    if (len > DIR_IMPORT_MAX_BYTES) { /* (the HTTP layer refuses larger uploads first) */
        dir_problem_init(&p, 413, "file-too-large", "File too large",
                         "The package is %zu bytes; at most %d (20 MB) are imported at once.", len,
                         DIR_IMPORT_MAX_BYTES);
        dir_problem_add(&p, "file", "ไฟล์ใหญ่เกิน 20 MB", "larger than 20 MB");
        return respond(x, &p);
    }
    char err[512];
    json_t *report = NULL;
    enum dir_rc rc = dir_hsds_import_read(x->m, file_name, body ? body : "", body ? len : 0,
                                          &report, err, sizeof err);
    if (rc == DIR_ERR_LIMIT) {
        dir_problem_init(&p, 413, "package-too-large", "Package too large",
                         "The package unpacks to more than the import takes: %s.", err);
        dir_problem_add(&p, "file", "ชุดข้อมูลเมื่อคลายแล้วใหญ่เกินกำหนด (64 MB)", err);
        return respond(x, &p);
    }
    if (rc) {
        dir_problem_init(&p, 422, "unreadable-package", "Unreadable package",
                         "This is not an HSDS data package directoryd reads: %s.", err);
        dir_problem_add(&p, "file", "ไม่ใช่ชุดข้อมูล HSDS (ไฟล์ ZIP จาก /v1/export/hsds.zip หรือ JSON)",
                        err);
        return respond(x, &p);
    }
    struct dir_db_actor actor = {x->who->kind, x->who->name, x->who->address};
    long long seq = 0;
    rc = dir_db_hsds_import(x->write->db, &actor, report, dry_run, &seq, err, sizeof err);
    if (rc == DIR_ERR_DB) {
        DIR_LOG(DIR_LOG_WARN, "import", "hsds import failed: %s", err);
        json_decref(report);
        dir_problem_init(&p, 503, "database-unavailable", "Database unavailable",
                         "The directory could not import this package right now; nothing was "
                         "changed. Retry shortly.");
        return respond(x, &p);
    }
    if (seq) {
        dir_refresh_kick(x->write->refresh);
        if (!dir_refresh_wait(x->write->refresh, seq, WAIT_MS))
            DIR_LOG(DIR_LOG_WARN, "import", "the read model did not reach change %lld in time",
                    seq);
    }
    dir_db_hsds_lines(report);
    char *s = json_dumps(report, JSON_COMPACT);
    x->resp->status = rc == DIR_OK ? 200 : 422;
    x->resp->content_type = "application/json; charset=utf-8";
    dir_buf_adds(&x->resp->body, s ? s : "{}");
    free(s);
    json_decref(report);
}
