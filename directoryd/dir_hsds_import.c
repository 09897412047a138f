/* dir_hsds_import.c - an HSDS 3.0 tabular data package mapped onto directoryd organisations
 * (see dir_hsds_import.h). Pure: reads files, writes nothing. */
#include "dir_hsds_import.h"
#include "dir_hours.h"
#include "dir_hsds.h"
#include "dir_hsds_export.h"
#include "dir_mem.h"
#include "dir_text.h"
#include "dir_validate.h"
#include "dir_zip.h"

#include <sodium.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the report ---- */

struct imp {
    const struct dir_model *m;
    json_t *errors, *not_held, *plan;
    json_t *visited; /* ids of the rows the mapping looked at */
    json_t *tables;  /* table name -> {"rows", "header"} */
    json_t *index;   /* "table.column" -> {value: [rows]}, built on first use */
    json_t *byname;  /* Thai name + district -> directoryd id, built on first use */
};

static void error(struct imp *x, const char *file, json_int_t line, const char *column,
                  const char *value, const char *th, const char *en)
{
    json_array_append_new(x->errors, json_pack("{s:s, s:I, s:s?, s:s?, s:s, s:s}", "file", file,
                                               "line", line, "column", column, "value", value,
                                               "reason_th", th, "reason_en", en));
}

static void not_held(struct imp *x, const char *file, json_t *row, const char *column,
                     const char *value, const char *why)
{
    json_array_append_new(x->not_held,
                          json_pack("{s:s, s:I, s:s?, s:s?, s:s?, s:s}", "file", file, "line",
                                    json_integer_value(json_object_get(row, "_line")), "id",
                                    json_string_value(json_object_get(row, "id")), "column", column,
                                    "value", value, "reason_en", why));
}

static const char *col(json_t *row, const char *c)
{
    return json_string_value(json_object_get(row, c));
}

static void rest_not_held(struct imp *x, const char *table, json_t *row, const char *const *used);

/* Marks ROW as looked at (attributes: their extra columns reported here). */
static void visit(struct imp *x, json_t *row)
{
    static const char *const attr_used[] = {"id",        "link_id",     "taxonomy_term_id",
                                            "link_type", "link_entity", NULL};
    if (col(row, "link_id") && col(row, "taxonomy_term_id"))
        rest_not_held(x, "attribute", row, attr_used);
    json_object_set_new(x->visited, col(row, "id") ? col(row, "id") : "", json_true());
}

static json_t *rows_of(struct imp *x, const char *table)
{
    return json_object_get(json_object_get(x->tables, table), "rows");
}

static const char *file_of(const char *table)
{
    const struct dir_hsds_table *t = dir_hsds_table(table);
    return t ? t->file : table;
}

/* Reports every non-empty column of ROW not in USED (NULL-terminated). */
static void rest_not_held(struct imp *x, const char *table, json_t *row, const char *const *used)
{
    const char *k;
    json_t *v;
    json_object_foreach(row, k, v)
    {
        if (k[0] == '_') continue;
        bool u = false;
        for (const char *const *c = used; *c && !u; c++)
            u = strcmp(*c, k) == 0;
        if (!u)
            not_held(x, file_of(table), row, k, json_string_value(v),
                     "directoryd has no place for this column");
    }
}

static bool is_uuid(const char *s)
{
    if (!s || strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i])) return false;
    }
    return true;
}

/* Rows of TABLE whose column KEY is VALUE (a new reference; not to be changed): through a
 * hash of the table by that column, made on first use, so mapping a package costs one pass
 * per table and column instead of one per organisation. */
static json_t *rows_where(struct imp *x, const char *table, const char *key, const char *value)
{
    char ik[128];
    snprintf(ik, sizeof ik, "%s.%s", table, key);
    json_t *idx = json_object_get(x->index, ik);
    if (!idx) {
        idx = json_object();
        json_t *rows = rows_of(x, table);
        for (size_t i = 0; i < json_array_size(rows); i++) {
            json_t *r = json_array_get(rows, i);
            const char *v = col(r, key);
            if (!v) continue;
            json_t *list = json_object_get(idx, v);
            if (!list) json_object_set_new(idx, v, list = json_array());
            json_array_append(list, r);
        }
        json_object_set_new(x->index, ik, idx);
    }
    json_t *list = value ? json_object_get(idx, value) : NULL;
    return list ? json_incref(list) : json_array();
}

/* The code of the term with id TERM when it is a code of taxonomy KIND, else NULL. */
static const char *term_code(struct imp *x, const char *term, enum dir_tax_kind kind)
{
    json_t *t = rows_where(x, "taxonomy_term", "id", term);
    const char *code = col(json_array_get(t, 0), "code");
    bool ok = code && dir_model_taxon(x->m, kind, code) >= 0;
    json_decref(t);
    return ok ? code : NULL;
}

/* ---- opening hours ---- */

static void hours_err(void *ctx, const char *field, const char *th, const char *en)
{
    (void)th;
    snprintf(ctx, 300, "%s: %s", field, en);
}

static bool all_days(const char *d)
{
    return d && strcmp(d, "MO,TU,WE,TH,FR,SA,SU") == 0;
}

static char *hhmm(const char *t, char out[6])
{
    if (!t || strlen(t) < 5) return NULL;
    memcpy(out, t, 5);
    out[5] = '\0';
    return out;
}

/* HSDS schedules as directoryd hours (NULL when there are none or they do not fit). */
static json_t *hours_of(struct imp *x, const char *file, json_t *scheds)
{
    static const char *const note = "ปิดวันหยุดนักขัตฤกษ์ / closed on public holidays";
    if (!json_array_size(scheds)) return NULL;
    json_t *h = json_object(), *weekly = json_array(), *exc = json_array();
    bool holidays = false, always = false;
    const char *note_th = NULL;
    for (size_t i = 0; i < json_array_size(scheds); i++) {
        json_t *s = json_array_get(scheds, i);
        visit(x, s);
        const char *byday = col(s, "byday"), *from = col(s, "valid_from"), *to = col(s, "valid_to"),
                   *notes = col(s, "notes"), *desc = col(s, "description");
        char o[6], c[6];
        const char *os = hhmm(col(s, "opens_at"), o), *cs = hhmm(col(s, "closes_at"), c);
        if (notes && strcmp(notes, note) == 0)
            holidays = true;
        else if (notes)
            note_th = notes;
        if (from) {
            json_t *e = json_pack("{s:s, s:s}", "from", from, "to", to ? to : from);
            json_object_set_new(e, "closed", json_boolean(!os));
            if (os && cs) {
                json_object_set_new(e, "opens_at", json_string(os));
                json_object_set_new(e, "closes_at", json_string(cs));
            }
            const char *sep = desc ? strstr(desc, ": ") : NULL;
            if (sep) json_object_set_new(e, "note_th", json_string(sep + 2));
            json_array_append_new(exc, e);
        } else if (all_days(byday) && os && cs && strcmp(os, "00:00") == 0 &&
                   strcmp(cs, "24:00") == 0) {
            always = true;
        } else if (byday && os && cs) {
            char days[64];
            snprintf(days, sizeof days, "%s", byday);
            for (char *d = strtok(days, ","); d; d = strtok(NULL, ",")) {
                char lower[3] = {(char)(d[0] | 32), (char)(d[1] | 32), 0};
                json_array_append_new(weekly, json_pack("{s:s, s:s, s:s}", "day", lower, "opens_at",
                                                        os, "closes_at", cs));
            }
        } else {
            not_held(x, file, s, "byday", byday, "a schedule without a weekday, times or dates");
        }
    }
    json_object_set_new(h, "always_open", json_boolean(always));
    json_object_set_new(h, "closed_on_public_holidays", json_boolean(holidays));
    json_object_set_new(h, "weekly", weekly);
    json_object_set_new(h, "exceptions", exc);
    if (note_th) json_object_set_new(h, "note_th", json_string(note_th));
    struct dir_arena *a = dir_arena_new();
    const struct dir_hours *parsed;
    char why[300] = "";
    bool ok = a && dir_hours_parse(h, a, &parsed, hours_err, why);
    dir_arena_free(a);
    if (!ok) {
        not_held(x, file, json_array_get(scheds, 0), "schedules", why,
                 "these opening hours do not fit directoryd's (not imported)");
        json_decref(h);
        return NULL;
    }
    return h;
}

/* ---- organisations ---- */

static void add_contact(json_t *contacts, const char *kind, const char *value, const char *ext,
                        const char *label)
{
    for (size_t i = 0; i < json_array_size(contacts); i++) {
        json_t *c = json_array_get(contacts, i);
        if (strcmp(col(c, "kind"), kind) == 0 && strcmp(col(c, "value"), value) == 0) return;
    }
    json_array_append_new(contacts, json_pack("{s:s, s:s, s:s?, s:s?}", "kind", kind, "value",
                                              value, "extension", ext, "label_th", label));
}

static void phones(struct imp *x, json_t *contacts, json_t *list)
{
    static const char *const used[] = {"id",          "organization_id", "service_id",
                                       "location_id", "number",          "extension",
                                       "type",        "description",     NULL};
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *p = json_array_get(list, i);
        visit(x, p);
        const char *type = col(p, "type"), *num = col(p, "number"), *ext = col(p, "extension");
        const char *kind = type && strcmp(type, "cell") == 0  ? "mobile"
                           : type && strcmp(type, "fax") == 0 ? "fax"
                                                              : "phone";
        char norm[32];
        const char *th, *en;
        if (!num || !dir_validate_phone(num, kind, norm, sizeof norm, &th, &en)) {
            not_held(x, "phones.csv", p, "number", num, "not a Thai telephone number");
            continue;
        }
        if (ext && !dir_validate_extension(ext, &th, &en)) {
            not_held(x, "phones.csv", p, "extension", ext, en);
            ext = NULL;
        }
        /* Extensions HSDS cannot hold as a number ("101,102") travel in the description
         * as "... ต่อ 101,102" (dir_hsds.c): take them back. */
        const char *desc = col(p, "description");
        char label[600], extbuf[100]; /* cppcheck-suppress variableScope ; DESC points at it */
        if (!ext && desc) {
            const char *t = NULL;
            for (const char *f = strstr(desc, "ต่อ "); f; f = strstr(f + 1, "ต่อ "))
                t = f;
            if (t && strlen(t + strlen("ต่อ ")) < sizeof extbuf &&
                dir_validate_extension(t + strlen("ต่อ "), &th, &en)) {
                snprintf(extbuf, sizeof extbuf, "%s", t + strlen("ต่อ "));
                ext = extbuf;
                size_t l = (size_t)(t - desc);
                while (l && desc[l - 1] == ' ')
                    l--;
                snprintf(label, sizeof label, "%.*s", (int)l, desc);
                desc = l ? label : NULL;
            }
        }
        add_contact(contacts, kind, norm, ext, desc);
        rest_not_held(x, "phone", p, used);
    }
}

/* The district an area index lies in (its code), or "" when unknown. */
static const char *district_of(const struct dir_model *m, int a)
{
    while (a >= 0 && m->areas[a].kind != DIR_AREA_DISTRICT)
        a = m->areas[a].parent;
    return a >= 0 ? m->areas[a].code : "";
}

/* The organisation of snapshot M that plan item O is (as CSV imports match): the directoryd
 * id its identifiers give, else the organisation whose derived HSDS id is O's, else its
 * directoryd ref, else its Thai name in the same district. Sets "match_id" and "match_by"
 * (the id a foreign id stored in PostgreSQL names comes first: dir_db_hsds.c). */
static void match(struct imp *x, json_t *o)
{
    const struct dir_model *m = x->m;
    json_t *id = json_object_get(o, "id");
    const char *ref = col(o, "ref");
    struct dir_hsds_hit h;
    int found = -1;
    const char *by = NULL;
    if (json_is_integer(id) && (found = dir_model_org(m, json_integer_value(id))) >= 0)
        by = "directoryd id";
    else if (dir_hsds_find(m, col(o, "hsds_id"), &h) && h.kind == DIR_HSDS_K_ORGANIZATION)
        found = h.a, by = "directoryd hsds id";
    else if (ref && (found = dir_model_org_by_ref(m, ref)) >= 0)
        by = "ref";
    else {
        char key[1024];
        if (!x->byname) {
            x->byname = json_object();
            for (int i = 0; i < m->norgs; i++) {
                snprintf(key, sizeof key, "%s\x1f%s", dir_model_org_at(m, i)->name_th,
                         district_of(m, dir_model_org_at(m, i)->area));
                if (!json_object_get(x->byname, key))
                    json_object_set_new(x->byname, key, json_integer(dir_model_org_at(m, i)->id));
            }
        }
        const char *area = col(o, "area_code");
        snprintf(key, sizeof key, "%s\x1f%s", col(o, "name_th"),
                 district_of(m, area ? dir_model_area(m, area) : -1));
        json_t *v = json_object_get(x->byname, key);
        if (v) found = dir_model_org(m, json_integer_value(v)), by = "name and district";
    }
    if (found < 0) return;
    json_object_set_new(o, "match_id", json_integer(dir_model_org_at(m, found)->id));
    json_object_set_new(o, "match_by", json_string(by));
}

static void map_org(struct imp *x, json_t *row, json_t *seen)
{
    static const char *const used[] = {"id",
                                       "name",
                                       "alternate_name",
                                       "description",
                                       "email",
                                       "website",
                                       "year_incorporated",
                                       "legal_status",
                                       "parent_organization_id",
                                       NULL};
    const struct dir_model *m = x->m;
    const char *id = col(row, "id"), *name = col(row, "name");
    visit(x, row);
    json_int_t line = json_integer_value(json_object_get(row, "_line"));
    if (!is_uuid(id)) {
        error(x, "organizations.csv", line, "id", id, "ต้องเป็น UUID", "must be a UUID");
        return;
    }
    if (json_object_get(seen, id)) {
        error(x, "organizations.csv", line, "id", id, "รหัสซ้ำ",
              "a second organization with this id");
        return;
    }
    json_object_set_new(seen, id, json_true());
    if (!name || strlen(name) > 900) {
        error(x, "organizations.csv", line, "name", name, "ต้องมีชื่อ (ไม่เกิน 300 ตัวอักษร)",
              "a name of 1 to 300 characters is required");
        return;
    }
    json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s?, s:s?}", "file", "organizations.csv", "line",
                          line, "hsds_id", id, "name_th", name, "name_en",
                          col(row, "alternate_name"), "description_th", col(row, "description"));
    /* directoryd's own ids and refs, when the package came from a directoryd. */
    json_t *ids = rows_where(x, "organization_identifier", "organization_id", id);
    for (size_t i = 0; i < json_array_size(ids); i++) {
        json_t *r = json_array_get(ids, i);
        visit(x, r);
        const char *scheme = col(r, "identifier_scheme"), *type = col(r, "identifier_type"),
                   *v = col(r, "identifier");
        if (scheme && strcmp(scheme, "directoryd") == 0 && type && v &&
            strcmp(type, "directoryd id") == 0) {
            char u[DIR_HSDS_UUID_LEN + 1];
            dir_hsds_uuid("organization", v, u);
            if (strcmp(u, id) == 0)
                json_object_set_new(o, "id", json_integer(atoll(v)));
            else
                not_held(x, "organization_identifiers.csv", r, "identifier", v,
                         "this directoryd id does not give the organization's HSDS id");
        } else if (scheme && strcmp(scheme, "directoryd") == 0 && type && v &&
                   strcmp(type, "directoryd ref") == 0) {
            json_object_set_new(o, "ref", json_string(v));
        } else {
            not_held(x, "organization_identifiers.csv", r, "identifier", v,
                     "directoryd keeps no other organisation identifiers");
        }
    }
    json_decref(ids);
    const char *year = col(row, "year_incorporated");
    if (year) {
        long y = strtol(year, NULL, 10);
        if (y >= 1800 && y <= 2200)
            json_object_set_new(o, "opened_year", json_integer(y));
        else
            not_held(x, "organizations.csv", row, "year_incorporated", year, "not a year");
    }
    const char *sector = col(row, "legal_status");
    if (sector && dir_model_taxon(m, DIR_TAX_SECTOR, sector) >= 0)
        json_object_set_new(o, "sector", json_string(sector));
    else {
        if (sector)
            not_held(x, "organizations.csv", row, "legal_status", sector,
                     "not a directoryd sector code (sector 'ngo' assumed)");
        else
            not_held(x, "organizations.csv", row, "legal_status", NULL,
                     "no sector given (sector 'ngo' assumed)");
        json_object_set_new(o, "sector", json_string("ngo"));
        json_object_set_new(o, "sector_assumed", json_true()); /* an update keeps its own */
    }
    /* Its type: an attribute naming a directoryd organisation-type term. */
    json_t *attrs = rows_where(x, "attribute", "link_id", id);
    for (size_t i = 0; i < json_array_size(attrs); i++) {
        json_t *a = json_array_get(attrs, i);
        visit(x, a);
        const char *code = term_code(x, col(a, "taxonomy_term_id"), DIR_TAX_ORG_TYPE);
        if (code && !json_object_get(o, "type"))
            json_object_set_new(o, "type", json_string(code));
        else
            not_held(x, "attributes.csv", a, "taxonomy_term_id", col(a, "taxonomy_term_id"),
                     "not a directoryd organisation type");
    }
    json_decref(attrs);
    if (!json_object_get(o, "type")) {
        not_held(x, "organizations.csv", row, NULL, NULL,
                 "no directoryd organisation type among its attributes (type 'ngo' assumed)");
        json_object_set_new(o, "type", json_string("ngo"));
        json_object_set_new(o, "type_assumed", json_true());
    }
    if (col(row, "parent_organization_id"))
        json_object_set_new(o, "parent_hsds_id", json_string(col(row, "parent_organization_id")));
    json_t *contacts = json_array();
    const char *th, *en;
    char norm[300];
    const char *email = col(row, "email"), *web = col(row, "website");
    if (email && dir_validate_email(email, norm, sizeof norm, &th, &en))
        add_contact(contacts, "email", norm, NULL, NULL);
    else if (email)
        not_held(x, "organizations.csv", row, "email", email, en);
    if (web && dir_validate_url(web, &th, &en))
        add_contact(contacts, "website", web, NULL, NULL);
    else if (web)
        not_held(x, "organizations.csv", row, "website", web, en);
    json_t *ph = rows_where(x, "phone", "organization_id", id);
    phones(x, contacts, ph);
    json_decref(ph);
    /* Where it is: its first location. */
    static const char *const loc_used[] = {"id",
                                           "location_type",
                                           "organization_id",
                                           "name",
                                           "alternate_name",
                                           "description",
                                           "latitude",
                                           "longitude",
                                           "external_identifier",
                                           "external_identifier_type",
                                           NULL};
    json_t *locs = rows_where(x, "location", "organization_id", id);
    for (size_t i = 0; i < json_array_size(locs); i++) {
        json_t *l = json_array_get(locs, i);
        visit(x, l);
        if (i > 0) {
            not_held(x, "locations.csv", l, NULL, NULL,
                     "directoryd keeps one location per organisation");
            continue;
        }
        if (col(l, "id")) json_object_set_new(o, "location_hsds_id", json_string(col(l, "id")));
        const char *lat = col(l, "latitude"), *lon = col(l, "longitude");
        if (lat && lon) {
            double la = strtod(lat, NULL), lo = strtod(lon, NULL);
            if (dir_validate_point(la, lo, &th, &en)) {
                json_object_set_new(o, "lat", json_real(la));
                json_object_set_new(o, "lon", json_real(lo));
            } else {
                not_held(x, "locations.csv", l, "latitude", lat, en);
            }
        }
        const char *ext = col(l, "external_identifier"), *et = col(l, "external_identifier_type");
        if (ext && et && strcmp(et, "directoryd-area") == 0 && dir_model_area(m, ext) >= 0)
            json_object_set_new(o, "area_code", json_string(ext));
        else if (ext)
            not_held(x, "locations.csv", l, "external_identifier", ext,
                     "not a directoryd area code");
        const char *desc = col(l, "description");
        int ai = ext ? dir_model_area(m, ext) : -1;
        if (desc &&
            !(ai >= 0 && strncmp(desc, m->areas[ai].name_th, strlen(m->areas[ai].name_th)) == 0))
            not_held(x, "locations.csv", l, "description", desc,
                     "directoryd describes a location by its area");
        const char *ln = col(l, "name");
        if (ln && strcmp(ln, name) != 0)
            not_held(x, "locations.csv", l, "name", ln,
                     "a location is named after its organisation");
        rest_not_held(x, "location", l, loc_used);
        static const char *const addr_used[] = {"id",      "location_id",    "address_1",
                                                "city",    "state_province", "postal_code",
                                                "country", "address_type",   NULL};
        json_t *ads = rows_where(x, "address", "location_id", col(l, "id"));
        for (size_t k = 0; k < json_array_size(ads); k++) {
            json_t *ad = json_array_get(ads, k);
            visit(x, ad);
            if (k == 0 && col(ad, "address_1"))
                json_object_set_new(o, "address_th", json_string(col(ad, "address_1")));
            else
                not_held(x, "addresses.csv", ad, NULL, NULL,
                         "directoryd keeps one address line per organisation");
            rest_not_held(x, "address", ad, addr_used);
        }
        json_decref(ads);
        json_t *lph = rows_where(x, "phone", "location_id", col(l, "id"));
        for (size_t k = 0; k < json_array_size(lph); k++) {
            if (col(json_array_get(lph, k), "organization_id")) continue; /* taken above */
            json_t *one = json_array();
            json_array_append(one, json_array_get(lph, k));
            phones(x, contacts, one);
            json_decref(one);
        }
        json_decref(lph);
    }
    json_decref(locs);
    /* Its services. */
    static const char *const svc_used[] = {"id",
                                           "organization_id",
                                           "name",
                                           "alternate_name",
                                           "description",
                                           "url",
                                           "email",
                                           "status",
                                           "eligibility_description",
                                           "assured_date",
                                           "last_modified",
                                           NULL};
    json_t *svcs = rows_where(x, "service", "organization_id", id), *offers = json_array();
    json_t *hours = NULL;
    for (size_t i = 0; i < json_array_size(svcs); i++) {
        json_t *s = json_array_get(svcs, i);
        visit(x, s);
        const char *sid = col(s, "id"), *code = NULL;
        json_t *groups = json_array(), *areas = json_array();
        json_t *sa = rows_where(x, "attribute", "link_id", sid);
        for (size_t k = 0; k < json_array_size(sa); k++) {
            json_t *a = json_array_get(sa, k);
            visit(x, a);
            const char *t = col(a, "taxonomy_term_id"), *c;
            if (!code && (c = term_code(x, t, DIR_TAX_SERVICE)))
                code = c;
            else if ((c = term_code(x, t, DIR_TAX_TARGET_GROUP)))
                json_array_append_new(groups, json_string(c));
            else
                not_held(x, "attributes.csv", a, "taxonomy_term_id", t,
                         "not a directoryd service or target-group term");
        }
        json_decref(sa);
        if (!code) {
            not_held(x, "services.csv", s, "name", col(s, "name"),
                     "no directoryd service code among its attributes: service not imported");
            json_decref(groups);
            json_decref(areas);
            continue;
        }
        static const char *const sal_used[] = {"id", "service_id", "location_id", NULL};
        json_t *sals = rows_where(x, "service_at_location", "service_id", sid);
        for (size_t k = 0; k < json_array_size(sals); k++) {
            visit(x, json_array_get(sals, k)); /* made again from the organisation's location */
            rest_not_held(x, "service_at_location", json_array_get(sals, k), sal_used);
        }
        json_decref(sals);
        json_t *sas = rows_where(x, "service_area", "service_id", sid);
        for (size_t k = 0; k < json_array_size(sas); k++) {
            json_t *a = json_array_get(sas, k);
            visit(x, a);
            static const char *const sa_used[] = {"id",     "service_id",  "name", "description",
                                                  "extent", "extent_type", NULL};
            rest_not_held(x, "service_area", a, sa_used);
            const char *ext = col(a, "extent"), *et = col(a, "extent_type");
            if (ext && et && strcmp(et, "directoryd-area") == 0 && dir_model_area(m, ext) >= 0)
                json_array_append_new(areas, json_pack("{s:s}", "area", ext));
            else if (ext && et && strcmp(et, "directoryd-area-group") == 0 &&
                     dir_model_group(m, ext) >= 0)
                json_array_append_new(areas, json_pack("{s:s}", "group", ext));
            else
                not_held(x, "service_areas.csv", a, "extent", ext,
                         "not a directoryd area or area group");
        }
        json_decref(sas);
        json_array_append_new(offers,
                              json_pack("{s:s, s:o, s:o, s:s?}", "code", code, "target_groups",
                                        groups, "areas", areas, "hsds_id", sid));
        const char *assured = col(s, "assured_date");
        if (assured && !json_object_get(o, "verified_at"))
            json_object_set_new(o, "verified_at", json_string(assured));
        /* directoryd keeps a status per organisation: its services' (defunct: closed,
         * inactive: moved). */
        const char *status = col(s, "status"), *mine = NULL;
        if (status && strcmp(status, "defunct") == 0)
            mine = "closed";
        else if (status && strcmp(status, "inactive") == 0)
            mine = "moved";
        else if (status && strcmp(status, "active") == 0)
            mine = "active";
        const char *have = col(o, "status");
        if (mine && !have)
            json_object_set_new(o, "status", json_string(mine));
        else if (!mine || strcmp(mine, have) != 0)
            not_held(x, "services.csv", s, "status", status,
                     "directoryd keeps one status per organisation (its first service's)");
        json_t *sch = rows_where(x, "schedule", "service_id", sid);
        if (!hours) hours = hours_of(x, "schedules.csv", sch);
        json_decref(sch);
        json_t *sph = rows_where(x, "phone", "service_id", sid);
        for (size_t k = 0; k < json_array_size(sph); k++) {
            json_t *p = json_array_get(sph, k);
            if (col(p, "organization_id")) continue; /* taken with the organisation */
            json_t *one = json_array();
            json_array_append(one, p);
            phones(x, contacts, one);
            json_decref(one);
        }
        json_decref(sph);
        rest_not_held(x, "service", s, svc_used);
    }
    json_decref(svcs);
    json_object_set_new(o, "contacts", contacts);
    json_object_set_new(o, "services", offers);
    json_object_set_new(o, "hours", hours ? hours : json_null());
    rest_not_held(x, "organization", row, used);
    match(x, o);
    json_array_append_new(x->plan, o);
}

/* Files of an HSDS 3.0 package that directoryd has no table for. */
static const char *const other_files[] = {"contacts.csv",
                                          "languages.csv",
                                          "funding.csv",
                                          "cost_options.csv",
                                          "programs.csv",
                                          "accessibility.csv",
                                          "required_documents.csv",
                                          "metadata.csv",
                                          "meta_table_descriptions.csv",
                                          NULL};

static void imp_init(struct imp *x, const struct dir_model *m)
{
    *x = (struct imp){.m = m,
                      .errors = json_array(),
                      .not_held = json_array(),
                      .plan = json_array(),
                      .tables = json_object(),
                      .visited = json_object(),
                      .index = json_object()};
    for (int t = 0; t < dir_hsds_ntables; t++)
        json_object_set_new(x->tables, dir_hsds_tables[t].name,
                            json_pack("{s:[], s:[]}", "rows", "header"));
}

/* The table whose CSV file is FILE, or NULL. */
static const struct dir_hsds_table *table_of_file(const char *file)
{
    for (int t = 0; t < dir_hsds_ntables; t++)
        if (strcmp(dir_hsds_tables[t].file, file) == 0) return &dir_hsds_tables[t];
    return NULL;
}

static bool too_many_rows(struct imp *x, const char *file, json_t *rows)
{
    if (json_array_size(rows) <= DIR_HSDS_IMPORT_MAX_ROWS) return false;
    char en[160];
    snprintf(en, sizeof en, "more than %d rows: split the package", DIR_HSDS_IMPORT_MAX_ROWS);
    error(x, file, 0, NULL, NULL, "มีแถวมากเกินไป: แบ่งเป็นหลายชุด", en);
    return true;
}

/* One file of the package: a table's rows, or a file directoryd reads nothing from. */
static void load_file(struct imp *x, const char *name, const char *data, size_t len)
{
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    if (!*base || strcmp(base, "datapackage.json") == 0) return;
    if (!dir_text_utf8_valid(base, strlen(base))) base = "(a file name that is not UTF-8)";
    const struct dir_hsds_table *tb = table_of_file(base);
    bool other = false;
    for (const char *const *f = other_files; *f && !other; f++)
        other = strcmp(*f, base) == 0;
    if (!tb && !other) {
        json_array_append_new(x->not_held,
                              json_pack("{s:s, s:i, s:s}", "file", base, "line", 0, "reason_en",
                                        "not a file of an HSDS 3.0 package: not read"));
        return;
    }
    char err[300];
    json_t *parsed = dir_hsds_csv_parse(data, len, err, sizeof err);
    if (!parsed) {
        int line = 0;
        sscanf(err, "line %d", &line);
        error(x, base, line, NULL, NULL, "ไฟล์ CSV เสียหาย", err);
        return;
    }
    if (too_many_rows(x, base, json_object_get(parsed, "rows"))) {
        json_decref(parsed);
    } else if (tb) {
        json_t *have = json_object_get(x->tables, tb->name);
        if (json_array_size(json_object_get(have, "header")))
            error(x, base, 0, NULL, NULL, "ไฟล์นี้มีสองครั้งในชุดข้อมูล",
                  "this file is in the package twice");
        json_object_set_new(x->tables, tb->name, parsed);
    } else {
        json_t *rows = json_object_get(parsed, "rows");
        for (size_t i = 0; i < json_array_size(rows); i++)
            not_held(x, base, json_array_get(rows, i), NULL, NULL,
                     "directoryd has no table for this HSDS object");
        json_decref(parsed);
    }
}

/* Maps the tables read into X onto the plan and makes the report (X's parts consumed). */
static json_t *finish(struct imp *x, const char *name, const char *sha256)
{
    json_t *seen = json_object(), *orgs = rows_of(x, "organization");
    for (size_t i = 0; i < json_array_size(orgs); i++)
        map_org(x, json_array_get(orgs, i), seen);
    json_decref(seen);
    /* Rows the mapping never reached: they belong to no organisation (or service) that was
     * imported. The taxonomies are looked up, not imported (their terms count through the
     * attributes that use them). */
    for (int t = 0; t < dir_hsds_ntables; t++) {
        const char *tname = dir_hsds_tables[t].name;
        if (strcmp(tname, "taxonomy") == 0 || strcmp(tname, "taxonomy_term") == 0) continue;
        json_t *rows = rows_of(x, tname);
        for (size_t i = 0; i < json_array_size(rows); i++) {
            json_t *r = json_array_get(rows, i);
            if (!json_object_get(x->visited, col(r, "id") ? col(r, "id") : ""))
                not_held(x, dir_hsds_tables[t].file, r, NULL, NULL,
                         "not imported: it belongs to no organization or service imported");
        }
    }
    if (!json_array_size(json_object_get(json_object_get(x->tables, "organization"), "header")) &&
        !json_array_size(x->errors))
        error(x, "organizations.csv", 0, NULL, NULL, "ไม่มีไฟล์ organizations.csv ในชุดข้อมูล",
              "the package has no organizations.csv (or organization table)");
    json_t *report = json_pack("{s:s, s:s, s:s, s:{s:I, s:I, s:I}, s:o, s:o, s:o}", "kind", "hsds",
                               "file_name", name, "sha256", sha256, "counts", "organizations",
                               (json_int_t)json_array_size(x->plan), "errors",
                               (json_int_t)json_array_size(x->errors), "not_held",
                               (json_int_t)json_array_size(x->not_held), "errors", x->errors,
                               "not_held", x->not_held, "plan", x->plan);
    json_decref(x->tables);
    json_decref(x->visited);
    json_decref(x->index);
    json_decref(x->byname);
    return report;
}

static void sha_hex(const unsigned char h[crypto_hash_sha256_BYTES], char out[65])
{
    sodium_bin2hex(out, 65, h, crypto_hash_sha256_BYTES);
}

static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n <= DIR_HSDS_IMPORT_MAX_FILE &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        snprintf(err, errlen,
                 n > DIR_HSDS_IMPORT_MAX_FILE ? "larger than 64 MB" : "cannot be read");
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

json_t *dir_hsds_import_plan(const struct dir_model *m, const char *dir)
{
    struct imp x;
    imp_init(&x, m);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    char path[4096], err[300];
    for (int t = 0; t <= dir_hsds_ntables; t++) {
        const char *const *names = t < dir_hsds_ntables
                                       ? (const char *const[]){dir_hsds_tables[t].file, NULL}
                                       : other_files;
        for (const char *const *f = names; *f; f++) {
            snprintf(path, sizeof path, "%s/%s", dir, *f);
            size_t len;
            errno = 0;
            char *data = read_all(path, &len, err, sizeof err);
            if (!data) {
                if (errno != ENOENT) error(&x, *f, 0, NULL, NULL, "อ่านไฟล์ไม่ได้", err);
                continue;
            }
            crypto_hash_sha256_update(&st, (const unsigned char *)*f, strlen(*f) + 1);
            crypto_hash_sha256_update(&st, (const unsigned char *)data, len);
            load_file(&x, *f, data, len);
            free(data);
        }
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[65];
    crypto_hash_sha256_final(&st, h);
    sha_hex(h, hex);
    return finish(&x, dir, hex);
}

/* A JSON value of an exported row as the CSV cell it was (NULL: an empty cell). */
static json_t *cell_of(json_t *v)
{
    char b[64];
    if (json_is_string(v)) return json_string_length(v) ? json_incref(v) : NULL;
    if (json_is_integer(v)) {
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
        return json_string(b);
    }
    if (json_is_real(v)) {
        snprintf(b, sizeof b, "%.17g", json_real_value(v));
        return json_string(b);
    }
    if (json_is_boolean(v)) return json_string(json_is_true(v) ? "true" : "false");
    return NULL;
}

/* The JSON form ({"datapackage", "tables": {"organization": [rows], ...}}, as
 * GET /v1/export/hsds.json gives it) into X's tables: a row's line is its place (from 1). */
static void load_json(struct imp *x, json_t *doc)
{
    json_t *tables = json_object_get(doc, "tables"), *rows;
    const char *tname;
    if (!json_is_object(tables)) {
        error(x, "tables", 0, NULL, NULL, "ไม่มี \"tables\" ในไฟล์ JSON",
              "the JSON has no \"tables\" object (the form GET /v1/export/hsds.json gives)");
        return;
    }
    json_object_foreach(tables, tname, rows)
    {
        const struct dir_hsds_table *tb = dir_hsds_table(tname);
        const char *file = tb ? tb->file : tname;
        if (!json_is_array(rows)) {
            error(x, file, 0, NULL, NULL, "ต้องเป็นรายการ", "a table must be an array of rows");
            continue;
        }
        if (too_many_rows(x, file, rows)) continue;
        json_t *out = json_array(), *header = json_array();
        for (size_t i = 0; i < json_array_size(rows); i++) {
            json_t *r = json_array_get(rows, i), *row = json_object(), *v;
            const char *k;
            json_object_foreach(r, k, v)
            {
                json_t *c = cell_of(v);
                if (c && k[0] != '_')
                    json_object_set_new(row, k, c);
                else
                    json_decref(c);
            }
            json_object_set_new(row, "_line", json_integer((json_int_t)i + 1));
            json_array_append_new(out, row);
        }
        if (tb) {
            if (tb->columns[0]) json_array_append_new(header, json_string(tb->columns[0]));
            json_object_set_new(x->tables, tb->name,
                                json_pack("{s:o, s:o}", "rows", out, "header", header));
        } else {
            for (size_t i = 0; i < json_array_size(out); i++)
                not_held(x, file, json_array_get(out, i), NULL, NULL,
                         "directoryd has no table for this HSDS object");
            json_decref(out);
            json_decref(header);
        }
    }
}

enum dir_rc dir_hsds_import_read(const struct dir_model *m, const char *name, const char *data,
                                 size_t len, json_t **report, char *err, size_t errlen)
{
    *report = NULL;
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)data, len);
    sha_hex(h, hex);
    size_t i = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (i < len && strchr(" \t\r\n", data[i]))
        i++;
    struct imp x;
    if (len >= 4 && memcmp(data, "PK", 2) == 0) {
        struct dir_zip_file *files;
        int n;
        enum dir_rc rc = dir_zip_read(data, len, DIR_HSDS_IMPORT_MAX_FILE,
                                      DIR_HSDS_IMPORT_MAX_UNZIPPED, &files, &n, err, errlen);
        if (rc) return rc;
        imp_init(&x, m);
        for (int k = 0; k < n; k++)
            for (int j = 0; j < k; j++) {
                const char *a = strrchr(files[k].name, '/'), *b = strrchr(files[j].name, '/');
                if (strcmp(a ? a + 1 : files[k].name, b ? b + 1 : files[j].name) == 0)
                    error(&x, files[k].name, 0, NULL, NULL, "ไฟล์นี้มีสองครั้งในชุดข้อมูล",
                          "a second file with this name in the package");
            }
        for (int k = 0; k < n; k++)
            load_file(&x, files[k].name, (const char *)files[k].data, files[k].len);
        dir_zip_files_free(files, n);
    } else if (i < len && data[i] == '{') {
        json_error_t je;
        json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
        if (!doc) {
            snprintf(err, errlen, "not valid JSON: %s (line %d, column %d)", je.text, je.line,
                     je.column);
            return DIR_ERR_INVALID;
        }
        imp_init(&x, m);
        load_json(&x, doc);
        json_decref(doc);
    } else {
        snprintf(err, errlen, "neither a ZIP archive (the HSDS data package) nor its JSON form");
        return DIR_ERR_INVALID;
    }
    *report = finish(&x, name, hex);
    return *report ? DIR_OK : DIR_ERR_LIMIT;
}
