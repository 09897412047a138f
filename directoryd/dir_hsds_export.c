/* dir_hsds_export.c - the HSDS 3.0 tabular data package: rows, CSV, datapackage.json, ZIP and
 * JSON (see dir_hsds_export.h). */
#include "dir_hsds_export.h"
#include "dir_hsds.h"
#include "dir_zip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define COLS(...)                                                                                  \
    (const char *const[])                                                                          \
    {                                                                                              \
        __VA_ARGS__, NULL                                                                          \
    }

/* The column lists are HSDS 3.0's CSV headers, in its order. */
const struct dir_hsds_table dir_hsds_tables[] = {
    {"organization", "organizations.csv",
     COLS("id", "name", "alternate_name", "description", "email", "website", "tax_status", "tax_id",
          "year_incorporated", "legal_status", "logo", "uri", "parent_organization_id")},
    {"organization_identifier", "organization_identifiers.csv",
     COLS("id", "organization_id", "identifier_scheme", "identifier_type", "identifier")},
    {"service", "services.csv",
     COLS("id", "organization_id", "program_id", "name", "alternate_name", "description", "url",
          "email", "status", "interpretation_services", "application_process", "fees_description",
          "wait_time", "fees", "accreditations", "eligibility_description", "minimum_age",
          "maximum_age", "assured_date", "assurer_email", "licenses", "alert", "last_modified")},
    {"location", "locations.csv",
     COLS("id", "location_type", "url", "organization_id", "name", "alternate_name", "description",
          "transportation", "latitude", "longitude", "external_identifier",
          "external_identifier_type")},
    {"address", "addresses.csv",
     COLS("id", "location_id", "attention", "address_1", "address_2", "city", "region",
          "state_province", "postal_code", "country", "address_type")},
    {"phone", "phones.csv",
     COLS("id", "location_id", "service_id", "organization_id", "contact_id",
          "service_at_location_id", "number", "extension", "type", "description")},
    {"schedule", "schedules.csv",
     COLS("id", "service_id", "location_id", "service_at_location_id", "valid_from", "valid_to",
          "dtstart", "timezone", "until", "count", "wkst", "freq", "interval", "byday", "byweekno",
          "bymonthday", "byyearday", "description", "opens_at", "closes_at", "schedule_link",
          "attending_type", "notes")},
    {"service_area", "service_areas.csv",
     COLS("id", "service_id", "name", "description", "extent", "extent_type", "uri")},
    {"service_at_location", "service_at_location.csv",
     COLS("id", "service_id", "location_id", "description")},
    {"attribute", "attributes.csv",
     COLS("id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value")},
    {"taxonomy", "taxonomies.csv", COLS("id", "name", "description", "uri", "version")},
    {"taxonomy_term", "taxonomy_terms.csv",
     COLS("id", "code", "name", "description", "parent_id", "taxonomy", "language", "taxonomy_id",
          "term_uri")},
};
const int dir_hsds_ntables = (int)(sizeof dir_hsds_tables / sizeof dir_hsds_tables[0]);

const struct dir_hsds_table *dir_hsds_table(const char *name)
{
    for (int i = 0; i < dir_hsds_ntables; i++)
        if (strcmp(dir_hsds_tables[i].name, name) == 0) return &dir_hsds_tables[i];
    return NULL;
}

bool dir_hsds_numeric(const char *c)
{
    static const char *const num[] = {"year_incorporated", "minimum_age", "maximum_age", "latitude",
                                      "longitude",         "extension",   "timezone",    "count",
                                      "interval",          "amount",      NULL};
    for (const char *const *n = num; *n; n++)
        if (strcmp(*n, c) == 0) return true;
    return false;
}

/* Which table the arrays nested in an HSDS object go to (others are not rows of their own). */
static const struct {
    const char *key, *table;
} children[] = {
    {"phones", "phone"},
    {"locations", "location"},
    {"addresses", "address"},
    {"organization_identifiers", "organization_identifier"},
    {"attributes", "attribute"},
    {"services", "service"},
    {"schedules", "schedule"},
    {"service_areas", "service_area"},
    {"service_at_locations", "service_at_location"},
};

/* Adds OBJ's scalar members (those of TABLE's columns) as a row, once per id, and walks its
 * nested arrays into their tables. SEEN holds the ids per table. */
static void add(json_t *rows, json_t *seen, const char *table, json_t *obj)
{
    const struct dir_hsds_table *t = dir_hsds_table(table);
    const char *id = json_string_value(json_object_get(obj, "id"));
    json_t *ids = json_object_get(seen, table);
    if (!t || !id || json_object_get(ids, id)) return;
    json_object_set_new(ids, id, json_true());
    json_t *row = json_object();
    for (const char *const *c = t->columns; *c; c++) {
        json_t *v = json_object_get(obj, *c);
        if (v && !json_is_object(v) && !json_is_array(v)) json_object_set(row, *c, v);
    }
    json_array_append_new(json_object_get(rows, table), row);
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        json_t *a = json_object_get(obj, children[i].key);
        for (size_t k = 0; k < json_array_size(a); k++)
            add(rows, seen, children[i].table, json_array_get(a, k));
    }
}

json_t *dir_hsds_rows(const struct dir_model *m)
{
    struct dir_hsds h;
    if (dir_hsds_init(&h, m)) return NULL;
    json_t *rows = json_object(), *seen = json_object();
    for (int i = 0; i < dir_hsds_ntables; i++) {
        json_object_set_new(rows, dir_hsds_tables[i].name, json_array());
        json_object_set_new(seen, dir_hsds_tables[i].name, json_object());
    }
    for (int t = 0; t < DIR_HSDS_NTAX; t++) {
        json_t *x = dir_hsds_taxonomy(&h, t);
        add(rows, seen, "taxonomy", x);
        json_decref(x);
        for (int i = 0; i < m->ntax[dir_hsds_tax_kinds[t]]; i++) {
            x = dir_hsds_taxonomy_term(&h, t, i);
            add(rows, seen, "taxonomy_term", x);
            json_decref(x);
        }
    }
    for (int o = 0; o < m->norgs; o++) {
        json_t *x = dir_hsds_organization(&h, o, true, true);
        add(rows, seen, "organization", x);
        json_decref(x);
    }
    json_decref(seen);
    dir_hsds_done(&h);
    return rows;
}

static enum dir_rc cell(struct dir_buf *b, json_t *v)
{
    if (!v || json_is_null(v)) return DIR_OK;
    if (!json_is_string(v)) {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        enum dir_rc rc = s ? dir_buf_adds(b, s) : DIR_ERR_LIMIT;
        free(s);
        return rc;
    }
    const char *s = json_string_value(v);
    enum dir_rc rc = DIR_OK;
    if (strchr("=+-@\t\r", s[0]) && s[0])
        rc = dir_buf_add(b, "\"'", 2);
    else if (strpbrk(s, ",\"\r\n"))
        rc = dir_buf_add(b, "\"", 1);
    else
        return dir_buf_adds(b, s);
    for (const char *p = s; *p && !rc; p++)
        rc = *p == '"' ? dir_buf_add(b, "\"\"", 2) : dir_buf_add(b, p, 1);
    return rc ? rc : dir_buf_add(b, "\"", 1);
}

enum dir_rc dir_hsds_csv(json_t *rows, const struct dir_hsds_table *t, struct dir_buf *out)
{
    enum dir_rc rc = DIR_OK;
    for (const char *const *c = t->columns; *c && !rc; c++)
        rc = dir_buf_printf(out, "%s%s", c == t->columns ? "" : ",", *c);
    if (!rc) rc = dir_buf_add(out, "\r\n", 2);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(rows, t->name), i, row)
    {
        for (const char *const *c = t->columns; *c && !rc; c++) {
            if (c != t->columns) rc = dir_buf_add(out, ",", 1);
            if (!rc) rc = cell(out, json_object_get(row, *c));
        }
        if (!rc) rc = dir_buf_add(out, "\r\n", 2);
        if (rc) break;
    }
    return rc;
}

json_t *dir_hsds_datapackage(json_t *rows)
{
    json_t *res = json_array();
    for (int i = 0; i < dir_hsds_ntables; i++) {
        const struct dir_hsds_table *t = &dir_hsds_tables[i];
        json_t *fields = json_array();
        for (const char *const *c = t->columns; *c; c++) {
            size_t n = strlen(*c);
            bool uuid = strcmp(*c, "id") == 0 || (n > 3 && strcmp(*c + n - 3, "_id") == 0);
            json_t *f = json_pack("{s:s, s:s}", "name", *c, "type",
                                  dir_hsds_numeric(*c) ? "number" : "string");
            if (uuid) json_object_set_new(f, "format", json_string("uuid"));
            json_array_append_new(fields, f);
        }
        json_t *r =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:o, s:s}, s:I}", "name", t->name, "path",
                      t->file, "profile", "tabular-data-resource", "format", "csv", "mediatype",
                      "text/csv", "encoding", "utf-8", "schema", "fields", fields, "primaryKey",
                      "id", "count", (json_int_t)json_array_size(json_object_get(rows, t->name)));
        json_array_append_new(res, r);
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "name", "directoryd-hsds", "title",
                     "Bangkok child-protection network directory (HSDS 3.0)", "profile",
                     "tabular-data-package", "version", DIR_HSDS_VERSION, "description",
                     "Public data of directoryd as an Open Referral HSDS 3.0 data package.",
                     "resources", res);
}

enum dir_rc dir_hsds_export_zip(const struct dir_model *m, struct dir_buf *out)
{
    json_t *rows = dir_hsds_rows(m);
    if (!rows) return DIR_ERR_LIMIT;
    struct dir_zip z;
    struct dir_buf csv;
    enum dir_rc rc = DIR_OK;
    dir_zip_init(&z, out, m->built_at);
    json_t *dp = dir_hsds_datapackage(rows);
    char *s = json_dumps(dp, JSON_INDENT(2));
    json_decref(dp);
    rc = s ? dir_zip_add(&z, "datapackage.json", s, strlen(s)) : DIR_ERR_LIMIT;
    free(s);
    for (int i = 0; i < dir_hsds_ntables && !rc; i++) {
        dir_buf_init(&csv, out->max);
        rc = dir_hsds_csv(rows, &dir_hsds_tables[i], &csv);
        if (!rc) rc = dir_zip_add(&z, dir_hsds_tables[i].file, csv.data ? csv.data : "", csv.len);
        dir_buf_free(&csv);
    }
    enum dir_rc rc2 = dir_zip_finish(&z);
    json_decref(rows);
    return rc ? rc : rc2;
}

enum dir_rc dir_hsds_export_json(const struct dir_model *m, struct dir_buf *out)
{
    json_t *rows = dir_hsds_rows(m);
    if (!rows) return DIR_ERR_LIMIT;
    json_t *j = json_pack("{s:o, s:o}", "datapackage", dir_hsds_datapackage(rows), "tables", rows);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    enum dir_rc rc = s ? dir_buf_adds(out, s) : DIR_ERR_LIMIT;
    free(s);
    return rc;
}

static enum dir_rc write_file(const char *dir, const char *name, const char *data, size_t len,
                              char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return DIR_ERR_IO;
    }
    return DIR_OK;
}

enum dir_rc dir_hsds_export_dir(const struct dir_model *m, const char *dir, char *err,
                                size_t errlen)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot make %s: %s", dir, strerror(errno));
        return DIR_ERR_IO;
    }
    json_t *rows = dir_hsds_rows(m);
    if (!rows) {
        snprintf(err, errlen, "out of memory");
        return DIR_ERR_LIMIT;
    }
    json_t *dp = dir_hsds_datapackage(rows);
    char *s = json_dumps(dp, JSON_INDENT(2));
    json_decref(dp);
    enum dir_rc rc =
        s ? write_file(dir, "datapackage.json", s, strlen(s), err, errlen) : DIR_ERR_LIMIT;
    free(s);
    for (int i = 0; i < dir_hsds_ntables && !rc; i++) {
        struct dir_buf csv;
        dir_buf_init(&csv, (size_t)1 << 31);
        rc = dir_hsds_csv(rows, &dir_hsds_tables[i], &csv);
        if (!rc)
            rc = write_file(dir, dir_hsds_tables[i].file, csv.data ? csv.data : "", csv.len, err,
                            errlen);
        else
            snprintf(err, errlen, "%s is too large", dir_hsds_tables[i].file);
        dir_buf_free(&csv);
    }
    json_decref(rows);
    return rc;
}
