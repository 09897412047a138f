/* dir_import_http.c - the CSV importer's templates, the CSV export and the HTTP routes
 * (POST /v1/imports, GET /v1/imports/templates/{kind}.csv, GET /v1/export/{kind}.csv). */
#include "dir_csv.h"
#include "dir_import.h"
#include "dir_import_int.h"
#include "dir_log.h"
#include "dir_pdpa.h"
#include "dir_refresh.h"
#include "dir_text.h"
#include "dir_write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 5000

static void header_row(const char *kind, struct dir_buf *out)
{
    int n;
    const struct dir_import_col *c = dir_import_cols(kind, &n);
    dir_buf_add(out, "\xEF\xBB\xBF", 3);
    for (int i = 0; i < n; i++) {
        if (i) dir_buf_add(out, ",", 1);
        dir_csv_put(out, c[i].th, false);
    }
    dir_buf_add(out, "\r\n", 2);
}

void dir_import_template(const char *kind, struct dir_buf *out)
{
    header_row(kind, out);
}

/* An organisation id as its ref (stable across databases) when it has one. */
static void org_name(const struct dir_model *m, json_t *v, struct dir_buf *b)
{
    long long id = json_integer_value(v);
    int o = dir_model_org(m, id);
    if (o >= 0 && dir_model_org_at(m, o)->ref)
        dir_buf_adds(b, dir_model_org_at(m, o)->ref);
    else
        dir_buf_printf(b, "%lld", id);
}

static void join_codes(json_t *a, struct dir_buf *b)
{
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        if (i) dir_buf_add(b, ",", 1);
        dir_buf_adds(b, json_string_value(x) ? json_string_value(x) : "");
    }
}

/* Drops trailing ':' separators of a list item built into B from START. */
static void trim_colons(struct dir_buf *b, size_t start)
{
    while (b->len > start && b->data[b->len - 1] == ':')
        b->len--;
}

/* The cell of column C of entity E (audit JSON) into B. */
static void export_cell(const struct dir_model *m, const struct dir_import_col *c, json_t *e,
                        bool person, struct dir_buf *b)
{
    size_t i;
    json_t *x;
    json_t *v = c->dbkey ? json_object_get(e, c->dbkey) : NULL;
    switch (c->type) {
    case CT_ID:
    case CT_YEAR:
        if (json_is_integer(v)) dir_buf_printf(b, "%lld", (long long)json_integer_value(v));
        break;
    case CT_REF:
    case CT_CODE:
    case CT_TEXT:
        if (json_is_string(v)) dir_buf_adds(b, json_string_value(v));
        break;
    case CT_NUM:
        if (json_is_number(v)) dir_buf_printf(b, "%.15g", json_number_value(v));
        break;
    case CT_ORG:
        if (json_is_integer(v)) org_name(m, v, b);
        break;
    case CT_CONTACT: {
        bool first = true;
        json_array_foreach(json_object_get(e, "contacts"), i, x)
        {
            const char *k = json_string_value(json_object_get(x, "kind"));
            const char *src = json_string_value(json_object_get(x, "source"));
            if (!k || strcmp(k, c->ckind) || (src && strcmp(src, "manual"))) continue;
            if (!first) dir_buf_add(b, "\n", 1);
            first = false;
            dir_import_contact_format(x, !person, b);
            /* A person's non-public contact point in the file: the access log (PDPA). */
            if (person && json_is_false(json_object_get(x, "is_public")))
                dir_pdpa_note_id((long long)json_integer_value(json_object_get(e, "id")));
        }
        break;
    }
    case CT_SERVICES:
        json_array_foreach(json_object_get(e, "services"), i, x)
        {
            if (i) dir_buf_add(b, "\n", 1);
            size_t start = b->len;
            dir_buf_adds(b, json_string_value(json_object_get(x, "code")));
            dir_buf_add(b, ":", 1);
            join_codes(json_object_get(x, "target_groups"), b);
            dir_buf_add(b, ":", 1);
            join_codes(json_object_get(x, "areas"), b);
            trim_colons(b, start);
        }
        break;
    case CT_MEMBERS:
        json_array_foreach(json_object_get(e, "memberships"), i, x)
        {
            if (i) dir_buf_add(b, "\n", 1);
            size_t start = b->len;
            org_name(m, json_object_get(x, "organization"), b);
            static const char *const keys[] = {"team_role", "title_th", "title_en"};
            for (int k = 0; k < 3; k++) {
                const char *s = json_string_value(json_object_get(x, keys[k]));
                dir_buf_printf(b, ":%s", s ? s : "");
            }
            dir_buf_add(b, ":", 1);
            join_codes(json_object_get(x, "areas"), b);
            trim_colons(b, start);
        }
        break;
    case CT_TGS:
    case CT_COVER:
        break;
    }
}

enum dir_rc dir_import_export_csv(struct dir_db *db, const struct dir_model *m, const char *kind,
                                  struct dir_buf *out, char *err, size_t errlen)
{
    json_t *items;
    enum dir_rc rc = dir_db_import_export(db, kind, &items, err, errlen);
    if (rc) return rc;
    int n;
    const struct dir_import_col *c = dir_import_cols(kind, &n);
    bool person = strcmp(kind, "people") == 0;
    header_row(kind, out);
    struct dir_buf cellb;
    dir_buf_init(&cellb, (size_t)1 << 30);
    size_t i;
    json_t *e;
    json_array_foreach(items, i, e)
    {
        for (int k = 0; k < n; k++) {
            if (k) dir_buf_add(out, ",", 1);
            cellb.len = 0;
            export_cell(m, &c[k], e, person, &cellb);
            dir_csv_put(out, cellb.len ? cellb.data : "", true);
        }
        dir_buf_add(out, "\r\n", 2);
    }
    dir_buf_free(&cellb);
    json_decref(items);
    return DIR_OK;
}

/* ---- routes ---- */

static void csv_answer(struct dir_route_ctx *x, const char *kind, bool template)
{
    static const char *const disp[2][3] = {{"attachment; filename=\"export-organizations.csv\"",
                                            "attachment; filename=\"export-people.csv\"",
                                            "attachment; filename=\"export-communities.csv\""},
                                           {"attachment; filename=\"template-organizations.csv\"",
                                            "attachment; filename=\"template-people.csv\"",
                                            "attachment; filename=\"template-communities.csv\""}};
    int k = strcmp(kind, "organizations") == 0 ? 0 : strcmp(kind, "people") == 0 ? 1 : 2;
    x->resp->status = 200;
    x->resp->content_type = "text/csv; charset=utf-8";
    dir_http_resp_header(x->resp, "Content-Disposition", disp[template][k]);
}

void dir_import_route_template(struct dir_route_ctx *x)
{
    csv_answer(x, x->route->what, true);
    dir_import_template(x->route->what, &x->resp->body);
}

void dir_import_route_export(struct dir_route_ctx *x)
{
    char err[256];
    struct dir_buf b;
    dir_buf_init(&b, (size_t)1 << 30);
    if (dir_import_export_csv(x->write->db, x->m, x->route->what, &b, err, sizeof err)) {
        DIR_LOG(DIR_LOG_WARN, "import", "export failed: %s", err);
        struct dir_problem p;
        dir_problem_init(&p, 503, "database-unavailable", "Database unavailable",
                         "The export could not be read right now. Retry shortly.");
        dir_problem_respond(&p, dir_http_path(x->req), x->resp);
        dir_buf_free(&b);
        return;
    }
    csv_answer(x, x->route->what, false);
    dir_buf_add(&x->resp->body, b.data, b.len);
    dir_buf_free(&b);
}

static bool truthy(const char *s)
{
    return s && (strcmp(s, "1") == 0 || strcmp(s, "true") == 0 || strcmp(s, "yes") == 0);
}

/* The file's name from X-File-Name, percent-encoded by browsers (Thai names): decoded, kept
 * if UTF-8 without a slash, else DEF. */
static void upload_name(struct dir_route_ctx *x, char *fname, size_t n, const char *def)
{
    const char *fn = dir_http_header(x->req, "X-File-Name");
    size_t k = 0;
    for (const char *q = fn ? fn : ""; *q && k + 1 < n; q++) {
        unsigned hi, lo;
        if (q[0] == '%' && sscanf(q + 1, "%1x%1x", &hi, &lo) == 2) {
            fname[k++] = (char)(hi << 4 | lo);
            q += 2;
        } else {
            fname[k++] = *q;
        }
    }
    fname[k] = '\0';
    if (!k || !dir_text_utf8_valid(fname, k) || memchr(fname, '/', k)) snprintf(fname, n, "%s", def);
}

void dir_import_route_post(struct dir_route_ctx *x)
{
    struct dir_problem p;
    const char *ct = dir_http_header(x->req, "Content-Type");
    /* --- hsds-import: an HSDS data package (ZIP or its JSON form) --- */
    const char *kind = dir_http_arg(x->req, "kind");
    if (kind && strcmp(kind, "hsds") == 0) {
        char fname[256];
        upload_name(x, fname, sizeof fname, "hsds.zip");
        dir_hsds_import_route_post(x, fname, truthy(dir_http_arg(x->req, "dry_run")));
        return;
    }
    static const char *const types[] = {"text/csv",
                                        "text/plain",
                                        "application/csv",
                                        "application/vnd.ms-excel",
                                        "application/octet-stream",
                                        "text/tab-separated-values"};
    bool ct_ok = false;
    for (size_t i = 0; ct && i < sizeof types / sizeof types[0]; i++)
        ct_ok = ct_ok || strncmp(ct, types[i], strlen(types[i])) == 0;
    if (!ct_ok) {
        dir_problem_init(&p, 415, "unsupported-media-type", "Unsupported media type",
                         "Send the file's bytes as text/csv.");
        dir_problem_respond(&p, dir_http_path(x->req), x->resp);
        return;
    }
    char fname[256];
    upload_name(x, fname, sizeof fname, "import.csv");
    struct dir_import_opts o = {.kind = dir_http_arg(x->req, "kind"),
                                .file_name = fname,
                                .dry_run = truthy(dir_http_arg(x->req, "dry_run")),
                                .encoding = dir_http_arg(x->req, "encoding"),
                                .delimiter = dir_http_arg(x->req, "delimiter")};
    size_t len;
    const char *body = dir_http_body(x->req, &len);
    struct dir_db_actor actor = {x->who->kind, x->who->name, x->who->address};
    json_t *report = NULL;
    long long seq = 0;
    int status = dir_import_run(x->write->db, x->m, &actor, &o, body ? body : "", body ? len : 0,
                                &report, &seq, &p);
    if (!report) {
        dir_problem_respond(&p, dir_http_path(x->req), x->resp);
        return;
    }
    /* An import may load a whole new snapshot: it waits at least WAIT_MS. */
    dir_write_settle(x->write, seq, WAIT_MS, x->resp);
    char *s = json_dumps(report, JSON_COMPACT);
    x->resp->status = status;
    x->resp->content_type = "application/json; charset=utf-8";
    dir_buf_adds(&x->resp->body, s ? s : "{}");
    free(s);
    json_decref(report);
}
