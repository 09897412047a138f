/* dir_db_hsds.c - an HSDS import plan written in one transaction (see dir_db_hsds.h): each
 * organisation matched (a foreign id stored by an earlier import, else the planner's match
 * against the snapshot, checked here), then created or updated under a savepoint; an update
 * that leaves the organisation's audit JSON as it was is rolled back and reported unchanged,
 * as the CSV import does (dir_db_import_apply). */
#include "dir_db_hsds.h"
#include "dir_db_int.h"
#include "dir_hsds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct run {
    PGconn *pg;
    char msg[600]; /* PostgreSQL's message of the last failure */
};

/* Runs SQL with N text parameters; the result (caller clears) or NULL with R->msg. */
static PGresult *q(struct run *r, const char *sql, int n, const char *const *p)
{
    PGresult *res = PQexecParams(r->pg, sql, n, NULL, p, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return res;
    snprintf(r->msg, sizeof r->msg, "%s", PQresultErrorMessage(res));
    size_t l = strlen(r->msg);
    while (l && (r->msg[l - 1] == '\n' || r->msg[l - 1] == ' '))
        r->msg[--l] = '\0';
    PQclear(res);
    return NULL;
}

static bool ok(struct run *r, const char *sql, int n, const char *const *p)
{
    PGresult *res = q(r, sql, n, p);
    PQclear(res);
    return res != NULL;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* KEY of O as text in BUF (numbers), or its string, or NULL. */
static const char *text(json_t *o, const char *k, char *buf, size_t n)
{
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, n, "%.17g", json_real_value(v));
    else
        return json_string_value(v);
    return buf;
}

/* The id (as text in OUT) of the organisation with ID or REF when it exists; false if none
 * (or R failed: *FAILED). */
static bool exists(struct run *r, const char *id, const char *ref, char out[32], bool *failed)
{
    const char *p[] = {id, ref};
    PGresult *res =
        q(r, "SELECT id FROM organization WHERE id = $1::bigint OR ref = $2 ORDER BY id LIMIT 1", 2,
          p);
    *failed = *failed || !res;
    bool found = res && PQntuples(res) > 0;
    if (found) snprintf(out, 32, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return found;
}

/* The organisation plan item O is (into OUT, with "target" and "match_by" set on O), or
 * false for a new one. */
static bool find_target(struct run *r, json_t *o, char out[32], bool *failed)
{
    const char *hid = str(o, "hsds_id");
    const char *p[] = {hid};
    PGresult *res = q(r,
                      "SELECT organization_id FROM hsds_foreign_id WHERE object = 'organization' "
                      "AND hsds_id = $1",
                      1, p);
    *failed = *failed || !res;
    const char *by = NULL;
    if (res && PQntuples(res) > 0) {
        snprintf(out, 32, "%s", PQgetvalue(res, 0, 0));
        by = "foreign id";
    }
    PQclear(res);
    char b[32];
    if (!by && !*failed && json_object_get(o, "match_id") &&
        exists(r, text(o, "match_id", b, sizeof b), NULL, out, failed))
        by = str(o, "match_by");
    if (!by && !*failed && (json_object_get(o, "id") || str(o, "ref")) &&
        exists(r, text(o, "id", b, sizeof b), str(o, "ref"), out, failed))
        by = json_object_get(o, "id") ? "directoryd id" : "ref";
    if (!by) return false;
    json_object_set_new(o, "target", json_integer(atoll(out)));
    json_object_set_new(o, "match_by", json_string(by));
    return true;
}

/* Inserts organisation O; its new id into ID. False with R->msg. */
static bool create(struct run *r, json_t *o, char id[32])
{
    char b1[32], b2[32], b3[40], b4[40];
    const char *p[] = {text(o, "id", b1, sizeof b1),
                       str(o, "ref"),
                       str(o, "name_th"),
                       str(o, "name_en"),
                       str(o, "type"),
                       str(o, "sector"),
                       str(o, "description_th"),
                       text(o, "opened_year", b2, sizeof b2),
                       str(o, "address_th"),
                       str(o, "area_code"),
                       text(o, "lat", b3, sizeof b3),
                       text(o, "lon", b4, sizeof b4),
                       str(o, "verified_at"),
                       str(o, "status")};
    PGresult *res = q(
        r,
        "INSERT INTO organization (id, ref, name_th, name_en, type, sector, description_th, "
        "opened_year, address_th, area_code, lat, lon, verified_at, verified_by, source, status, "
        "status_date) VALUES "
        "(coalesce($1::bigint, nextval(pg_get_serial_sequence('organization', 'id'))), $2, $3, "
        "$4, $5, $6, nullif($7, ''), $8::integer, $9, $10, $11::double precision, "
        "$12::double precision, ($13::date)::timestamp AT TIME ZONE 'UTC', "
        "CASE WHEN $13 IS NOT NULL THEN 'hsds-import' END, 'hsds-import', coalesce($14, 'active'), "
        "CASE WHEN coalesce($14, 'active') <> 'active' THEN current_date END) RETURNING id",
        14, p);
    if (!res) return false;
    snprintf(id, 32, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return true;
}

/* Sets what the package gives of organisation ID's own columns; what it leaves empty (and
 * the type or sector it did not name) stays as it is. A verification date is kept when it
 * is the same day; a status when it is the same. */
static bool update(struct run *r, json_t *o, const char *id)
{
    char b2[32], b3[40], b4[40];
    const char *p[] = {id,
                       str(o, "name_th"),
                       str(o, "name_en"),
                       json_is_true(json_object_get(o, "type_assumed")) ? NULL : str(o, "type"),
                       json_is_true(json_object_get(o, "sector_assumed")) ? NULL : str(o, "sector"),
                       str(o, "description_th"),
                       text(o, "opened_year", b2, sizeof b2),
                       str(o, "address_th"),
                       str(o, "area_code"),
                       text(o, "lat", b3, sizeof b3),
                       text(o, "lon", b4, sizeof b4),
                       str(o, "verified_at"),
                       str(o, "status")};
    return ok(r,
              "UPDATE organization SET name_th = $2, name_en = coalesce($3, name_en), "
              "type = coalesce($4, type), sector = coalesce($5, sector), "
              "description_th = coalesce(nullif($6, ''), description_th), "
              "opened_year = coalesce($7::integer, opened_year), "
              "address_th = coalesce($8, address_th), area_code = coalesce($9, area_code), "
              "lat = coalesce($10::double precision, lat), "
              "lon = coalesce($11::double precision, lon), "
              "verified_at = CASE WHEN $12::date IS NOT NULL AND (verified_at IS NULL OR "
              "(verified_at AT TIME ZONE 'UTC')::date <> $12::date) THEN ($12::date)::timestamp "
              "AT TIME ZONE 'UTC' ELSE verified_at END, "
              "verified_by = CASE WHEN $12::date IS NOT NULL AND (verified_at IS NULL OR "
              "(verified_at AT TIME ZONE 'UTC')::date <> $12::date) THEN 'hsds-import' ELSE "
              "verified_by END, "
              "status = coalesce($13, status), "
              "status_date = CASE WHEN $13 IS NOT NULL AND $13 <> status THEN CASE WHEN $13 <> "
              "'active' THEN current_date END ELSE status_date END "
              "WHERE id = $1::bigint",
              13, p);
}

/* Organisation ID's contact points from the package's (CONTACTS): on create all of them; on
 * update the public phone, mobile and fax numbers become the package's (when it gives any),
 * a new e-mail or web address replaces the first public one of its kind, and the others
 * (private ones, LINE IDs, further addresses) stay. */
static bool contacts(struct run *r, const char *id, json_t *cs, bool created)
{
    if (!json_array_size(cs)) return true;
    char *js = json_dumps(cs, JSON_COMPACT);
    const char *p[] = {id, js};
    bool phones = false;
    for (size_t i = 0; i < json_array_size(cs); i++) {
        const char *k = str(json_array_get(cs, i), "kind");
        phones = phones || (strcmp(k, "email") != 0 && strcmp(k, "website") != 0);
    }
    bool done =
        js &&
        (created || !phones ||
         ok(r,
            "DELETE FROM contact_point c WHERE c.organization_id = $1::bigint AND "
            "c.is_public AND c.kind IN ('phone', 'mobile', 'fax') AND NOT EXISTS (SELECT 1 "
            "FROM jsonb_array_elements($2::jsonb) x WHERE x->>'kind' = c.kind AND "
            "x->>'value' = c.value)",
            2, p)) &&
        (created ||
         ok(r,
            "UPDATE contact_point c SET extension = coalesce(x->>'extension', c.extension), "
            "label_th = coalesce(x->>'label_th', c.label_th) FROM jsonb_array_elements($2::jsonb) "
            "x WHERE c.organization_id = $1::bigint AND c.kind = x->>'kind' AND "
            "c.value = x->>'value' AND (c.extension IS DISTINCT FROM coalesce(x->>'extension', "
            "c.extension) OR c.label_th IS DISTINCT FROM coalesce(x->>'label_th', c.label_th))",
            2, p)) &&
        (created ||
         ok(r,
            "UPDATE contact_point c SET value = x->>'value' FROM jsonb_array_elements($2::jsonb) "
            "x WHERE x->>'kind' IN ('email', 'website') AND c.id = (SELECT d.id FROM "
            "contact_point d WHERE d.organization_id = $1::bigint AND d.kind = x->>'kind' AND "
            "d.is_public ORDER BY d.position, d.id LIMIT 1) AND NOT EXISTS (SELECT 1 FROM "
            "contact_point d WHERE d.organization_id = $1::bigint AND d.kind = x->>'kind' AND "
            "d.value = x->>'value')",
            2, p)) &&
        ok(r,
           "INSERT INTO contact_point (organization_id, kind, value, extension, label_th, "
           "is_public, position) SELECT $1::bigint, x->>'kind', x->>'value', x->>'extension', "
           "x->>'label_th', true, (SELECT coalesce(max(position) + 1, 0) FROM contact_point "
           "WHERE organization_id = $1::bigint) + n - 1 FROM jsonb_array_elements($2::jsonb) "
           "WITH ORDINALITY t(x, n) WHERE NOT EXISTS (SELECT 1 FROM contact_point d WHERE "
           "d.organization_id = $1::bigint AND d.kind = x->>'kind' AND d.value = x->>'value')",
           2, p);
    free(js);
    return done;
}

/* The services of item O (when it has any) replace organisation ID's offerings. An offering
 * the package covers with just the organisation's own area, which directoryd had with no
 * coverage (the export writes "where the organisation is" as its area), stays without. */
static bool offerings(struct run *r, const char *id, json_t *o, json_t *before)
{
    json_t *ss = json_object_get(o, "services");
    if (!json_array_size(ss)) return true;
    const char *p1[] = {id};
    if (!ok(r, "DELETE FROM offering WHERE organization_id = $1::bigint", 1, p1)) return false;
    const char *own = json_string_value(json_object_get(before, "area_code"));
    if (str(o, "area_code")) own = str(o, "area_code");
    for (size_t i = 0; i < json_array_size(ss); i++) {
        json_t *s = json_array_get(ss, i);
        json_t *gs = json_object_get(s, "target_groups"), *as = json_object_get(s, "areas");
        if (own && json_array_size(as) == 1 && str(json_array_get(as, 0), "area") &&
            strcmp(str(json_array_get(as, 0), "area"), own) == 0) {
            size_t k;
            json_t *b;
            json_array_foreach(json_object_get(before, "services"), k, b)
            {
                if (strcmp(str(b, "code") ? str(b, "code") : "", str(s, "code")) == 0 &&
                    json_array_size(json_object_get(b, "areas")) == 0)
                    as = NULL;
            }
        }
        const char *ps[] = {id, str(s, "code")};
        PGresult *res = q(r,
                          "INSERT INTO offering (organization_id, service_code) VALUES "
                          "($1::bigint, $2) RETURNING id",
                          2, ps);
        if (!res) return false;
        char off[32];
        snprintf(off, sizeof off, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        for (size_t k = 0; k < json_array_size(gs); k++) {
            const char *pg[] = {off, json_string_value(json_array_get(gs, k))};
            if (!ok(r,
                    "INSERT INTO offering_target_group (offering_id, target_group_code) VALUES "
                    "($1::bigint, $2)",
                    2, pg))
                return false;
        }
        for (size_t k = 0; k < json_array_size(as); k++) {
            json_t *a = json_array_get(as, k);
            const char *pa[] = {off, str(a, "area"), str(a, "group")};
            if (!ok(r,
                    "INSERT INTO offering_area (offering_id, area_code, group_code) VALUES "
                    "($1::bigint, $2, $3)",
                    3, pa))
                return false;
        }
    }
    return true;
}

/* The package's opening hours (when it gives them) replace ID's; the notes the package does
 * not carry (beside "closed on public holidays"; English notes of dated exceptions) are kept
 * from BEFORE when it has none. */
static bool hours(struct run *r, const char *id, json_t *o, json_t *before)
{
    json_t *h = json_object_get(o, "hours");
    if (!json_is_object(h)) return true;
    json_t *hb = json_object_get(before, "hours"), *v;
    h = json_deep_copy(h);
    const char *k;
    json_object_foreach(hb, k, v)
    {
        if (!json_object_get(h, k) && (strcmp(k, "note_en") == 0 || strcmp(k, "note_th") == 0))
            json_object_set(h, k, v);
    }
    size_t i, k2;
    json_t *e, *eb;
    json_array_foreach(json_object_get(h, "exceptions"), i, e)
    {
        json_array_foreach(json_object_get(hb, "exceptions"), k2, eb)
        {
            if (json_equal(json_object_get(e, "from"), json_object_get(eb, "from")) &&
                json_equal(json_object_get(e, "to"), json_object_get(eb, "to")) &&
                !json_string_value(json_object_get(e, "note_en")) &&
                json_string_value(json_object_get(eb, "note_en")))
                json_object_set(e, "note_en", json_object_get(eb, "note_en"));
        }
    }
    char *hs = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    const char *ph[] = {id, hs};
    bool done = hs && ok(r, "SELECT dir_hours_put($1::bigint, $2::jsonb)", 2, ph);
    free(hs);
    return done;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A JSON array of strings A sorted in place. */
static void sort_strings(json_t *a)
{
    size_t n = json_array_size(a);
    const char **v = n ? calloc(n, sizeof *v) : NULL;
    if (!v) return;
    for (size_t i = 0; i < n; i++)
        v[i] =
            json_string_value(json_array_get(a, i)) ? json_string_value(json_array_get(a, i)) : "";
    qsort(v, n, sizeof *v, cmp_str);
    json_t *sorted = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(sorted, json_string(v[i]));
    free(v);
    json_array_clear(a);
    json_array_extend(a, sorted);
    json_decref(sorted);
}

/* Audit JSON S without what every write moves (as dir_db_write.c's comparison of CSV
 * imports: version, updated_at; the contact points' row identities and positions), its
 * offerings' areas in one order (dir_org_json lists them as they were inserted). */
static json_t *norm_json(const char *s)
{
    static const char *const top[] = {"version", "updated_at"};
    static const char *const part[] = {"id",         "version", "created_at",
                                       "updated_at", "demo",    "position"};
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    for (size_t k = 0; j && k < sizeof top / sizeof top[0]; k++)
        json_object_del(j, top[k]);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(j, "contacts"), i,
                       c) for (size_t k = 0; k < sizeof part / sizeof part[0]; k++)
        json_object_del(c, part[k]);
    json_array_foreach(json_object_get(j, "services"), i, c)
        sort_strings(json_object_get(c, "areas"));
    return j;
}

/* Organisation ID's audit JSON as text (caller frees), or NULL with R->msg. */
static char *org_json(struct run *r, const char *id)
{
    const char *p[] = {id};
    PGresult *res = q(r, "SELECT dir_org_json($1::bigint)::text", 1, p);
    char *s = res && PQntuples(res) ? strdup(PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    return s;
}

/* Remembers the package's ids of item O against organisation ID, unless they are the ones
 * directoryd derives from ID (those are recomputed, never stored). */
static bool foreign_ids(struct run *r, json_t *o, const char *id, const char *iid)
{
    char u[DIR_HSDS_UUID_LEN + 1], key[200];
    struct fid {
        const char *object, *hsds_id, *code;
    } ids[64];
    int n = 0;
    ids[n++] = (struct fid){"organization", str(o, "hsds_id"), NULL};
    if (str(o, "location_hsds_id"))
        ids[n++] = (struct fid){"location", str(o, "location_hsds_id"), NULL};
    json_t *ss = json_object_get(o, "services");
    for (size_t i = 0; i < json_array_size(ss) && n < 64; i++)
        if (str(json_array_get(ss, i), "hsds_id"))
            ids[n++] = (struct fid){"service", str(json_array_get(ss, i), "hsds_id"),
                                    str(json_array_get(ss, i), "code")};
    for (int i = 0; i < n; i++) {
        if (i == 0 || strcmp(ids[i].object, "location") == 0)
            snprintf(key, sizeof key, "%s", id);
        else
            snprintf(key, sizeof key, "%s:%s", id, ids[i].code);
        dir_hsds_uuid(ids[i].object, key, u);
        if (!ids[i].hsds_id || strcasecmp(u, ids[i].hsds_id) == 0 || strlen(ids[i].hsds_id) > 200)
            continue;
        const char *p[] = {ids[i].object, ids[i].hsds_id, id, ids[i].code, iid};
        if (!ok(r,
                "INSERT INTO hsds_foreign_id (object, hsds_id, organization_id, service_code, "
                "import_id) VALUES ($1, $2, $3::bigint, $4, $5::bigint) ON CONFLICT (object, "
                "hsds_id) DO UPDATE SET organization_id = EXCLUDED.organization_id, service_code "
                "= EXCLUDED.service_code, import_id = EXCLUDED.import_id WHERE "
                "(hsds_foreign_id.organization_id, hsds_foreign_id.service_code) IS DISTINCT "
                "FROM (EXCLUDED.organization_id, EXCLUDED.service_code)",
                5, p))
            return false;
    }
    return true;
}

static void add_error(json_t *report, json_t *o, const char *msg)
{
    json_array_append_new(json_object_get(report, "errors"),
                          json_pack("{s:s?, s:O?, s:s, s:s}", "file", str(o, "file"), "line",
                                    json_object_get(o, "line"), "reason_th", "ฐานข้อมูลไม่รับแถวนี้",
                                    "reason_en", msg));
}

/* Sets organisation ID's parent to PARENT (text) when it differs; *CHANGED then. */
static bool set_parent(struct run *r, const char *id, const char *parent, bool *changed)
{
    const char *p[] = {id, parent};
    PGresult *res = q(r,
                      "UPDATE organization SET parent_id = $2::bigint WHERE id = $1::bigint AND "
                      "parent_id IS DISTINCT FROM $2::bigint",
                      2, p);
    if (!res) return false;
    if (atoi(PQcmdTuples(res)) > 0) *changed = true;
    PQclear(res);
    return true;
}

/* Writes plan item O (create or update) under a savepoint; false only when PostgreSQL failed
 * outside the item (R->msg). IDS maps the package's organisation ids to directoryd's. */
static bool apply_one(struct run *r, json_t *report, json_t *o, json_t *ids, const char *iid)
{
    if (!ok(r, "SAVEPOINT org", 0, NULL)) return false;
    json_t *t = json_object_get(o, "target");
    char id[32];
    char *before = NULL;
    json_t *bj = NULL;
    bool done, changed = false;
    if (t) {
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(t));
        before = org_json(r, id);
        bj = norm_json(before);
        done = before && update(r, o, id);
    } else {
        done = create(r, o, id);
    }
    done = done && contacts(r, id, json_object_get(o, "contacts"), !t) && offerings(r, id, o, bj) &&
           hours(r, id, o, bj);
    const char *ph = str(o, "parent_hsds_id");
    json_t *pid = ph ? json_object_get(ids, ph) : NULL;
    if (done && json_is_integer(pid)) {
        char pb[32];
        snprintf(pb, sizeof pb, "%lld", (long long)json_integer_value(pid));
        done = set_parent(r, id, pb, &changed);
    } else if (ph && !pid) {
        json_array_append_new(json_object_get(report, "not_held"),
                              json_pack("{s:s, s:O, s:s, s:s, s:s}", "file", "organizations.csv",
                                        "line", json_object_get(o, "line"), "column",
                                        "parent_organization_id", "value", ph, "reason_en",
                                        "no organization of the package has this id"));
    } else if (ph && done) {
        json_object_set_new(o, "_parent_later", json_true()); /* created further on */
        changed = true;
    }
    const char *action;
    if (!done) {
        action = "error";
        add_error(report, o, r->msg);
        if (!ok(r, "ROLLBACK TO SAVEPOINT org", 0, NULL)) return false;
    } else if (t) {
        char *after = org_json(r, id);
        json_t *aj = norm_json(after);
        changed = changed || !bj || !aj || !json_equal(bj, aj);
        json_t *fields = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(aj, k, v)
        {
            if (!json_equal(v, json_object_get(bj, k)))
                json_array_append_new(fields, json_string(k));
        }
        if (ph && json_is_null(pid)) json_array_append_new(fields, json_string("parent_id"));
        json_object_set_new(o, "fields", fields);
        json_decref(aj);
        free(after);
        action = changed ? "update" : "unchanged";
        if (!ok(r, changed ? "RELEASE SAVEPOINT org" : "ROLLBACK TO SAVEPOINT org", 0, NULL))
            return false;
        if (changed) json_object_set_new(o, "_before", json_string(before));
    } else {
        action = "create";
        json_object_set_new(ids, str(o, "hsds_id"), json_integer(atoll(id)));
        if (!ok(r, "RELEASE SAVEPOINT org", 0, NULL)) return false;
    }
    json_decref(bj);
    free(before);
    json_object_set_new(o, "action", json_string(action));
    if (strcmp(action, "error") == 0) return true;
    json_object_set_new(o, "new_id", json_integer(atoll(id)));
    return foreign_ids(r, o, id, iid);
}

/* A file name as the import table keeps it: valid UTF-8, 1 to 255 characters. */
static void file_name(const char *s, char out[256 * 4])
{
    size_t n = 0, chars = 0;
    while (s && s[n] && chars < 255) {
        unsigned char c = (unsigned char)s[n];
        size_t l = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        n += l;
        chars++;
    }
    snprintf(out, 256 * 4, "%.*s", (int)n, s && *s ? s : "package");
    if (!*out) snprintf(out, 256 * 4, "package");
}

enum dir_rc dir_db_hsds_import(struct dir_db *db, const struct dir_db_actor *actor, json_t *report,
                               bool dry_run, long long *seq, char *err, size_t errlen)
{
    *seq = 0;
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    struct run r = {.pg = c->pg};
    json_t *plan = json_object_get(report, "plan"), *ids = json_object();
    int n[3] = {0, 0, 0}; /* created, updated, unchanged */
    char iid[32] = "", fname[256 * 4];
    file_name(str(report, "file_name"), fname);
    bool failed = !dir_dbi_exec(c->pg, "BEGIN", err, errlen);
    if (!failed) {
        const char *p[] = {actor->kind, actor->name, fname, str(report, "sha256")};
        PGresult *res = q(&r,
                          "INSERT INTO import (actor_kind, actor, kind, file_name, sha256) VALUES "
                          "($1, $2, 'hsds', $3, $4) RETURNING id",
                          4, p);
        if (res) snprintf(iid, sizeof iid, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        const char *p2[] = {iid};
        failed = !res || !ok(&r, "SELECT set_config('directoryd.import_id', $1, true)", 1, p2);
    }
    /* Which organisation each item is, before anything is written (IDS: null for one the
     * package has that is not created yet). */
    json_t *taken = json_object(); /* directoryd id -> the line of the item matching it */
    for (size_t i = 0; i < json_array_size(plan) && !failed; i++) {
        json_t *o = json_array_get(plan, i);
        char id[32];
        bool found = find_target(&r, o, id, &failed);
        json_object_set_new(ids, str(o, "hsds_id"), found ? json_integer(atoll(id)) : json_null());
        json_t *first = found ? json_object_get(taken, id) : NULL;
        if (first) { /* two organisations of the package would update one of directoryd's */
            char msg[160];
            snprintf(msg, sizeof msg,
                     "matches directoryd organisation %s, as line %lld does: one of them is a "
                     "duplicate",
                     id, (long long)json_integer_value(first));
            add_error(report, o, msg);
            json_object_set_new(o, "action", json_string("error"));
        } else if (found) {
            json_object_set(taken, id, json_object_get(o, "line"));
        }
    }
    json_decref(taken);
    for (size_t i = 0; i < json_array_size(plan) && !failed; i++)
        if (!str(json_array_get(plan, i), "action"))
            failed = !apply_one(&r, report, json_array_get(plan, i), ids, iid);
    /* Parents created after their children; then the audit rows, with what is final. */
    for (size_t i = 0; i < json_array_size(plan) && !failed; i++) {
        json_t *o = json_array_get(plan, i);
        const char *action = str(o, "action");
        if (!action || strcmp(action, "error") == 0) continue;
        char id[32], pb[32];
        snprintf(id, sizeof id, "%lld",
                 (long long)json_integer_value(json_object_get(o, "new_id")));
        json_t *pid =
            json_object_get(ids, str(o, "parent_hsds_id") ? str(o, "parent_hsds_id") : "");
        bool changed = false;
        if (json_is_true(json_object_get(o, "_parent_later")) && json_is_integer(pid)) {
            snprintf(pb, sizeof pb, "%lld", (long long)json_integer_value(pid));
            failed = !set_parent(&r, id, pb, &changed);
        }
        json_object_del(o, "_parent_later");
        n[strcmp(action, "create") == 0 ? 0 : strcmp(action, "update") == 0 ? 1 : 2]++;
        if (strcmp(action, "unchanged") == 0 || failed) continue;
        const char *pa[] = {actor->kind, actor->name, actor->address,
                            id,          action,      str(o, "_before")};
        failed = !ok(&r,
                     "INSERT INTO audit (actor_kind, actor, address, entity, entity_id, action, "
                     "before, after) VALUES ($1, $2, $3, 'organization', $4::text, $5, $6::jsonb, "
                     "dir_org_json($4::bigint))",
                     6, pa);
        json_object_del(o, "_before");
    }
    json_decref(ids);
    json_t *counts = json_object_get(report, "counts");
    json_object_set_new(counts, "created", json_integer(n[0]));
    json_object_set_new(counts, "updated", json_integer(n[1]));
    json_object_set_new(counts, "unchanged", json_integer(n[2]));
    size_t nerr = json_array_size(json_object_get(report, "errors"));
    json_object_set_new(counts, "errors", json_integer((json_int_t)nerr));
    json_object_set_new(
        counts, "not_held",
        json_integer((json_int_t)json_array_size(json_object_get(report, "not_held"))));
    bool commit = !failed && !dry_run && nerr == 0;
    if (commit) {
        char cn[3][16];
        for (int k = 0; k < 3; k++)
            snprintf(cn[k], sizeof cn[k], "%d", n[k]);
        const char *pu[] = {cn[0], cn[1], cn[2], iid};
        json_t *a = json_pack("{s:s, s:s, s:s?, s:{s:i, s:i, s:i}}", "kind", "hsds", "file_name",
                              fname, "sha256", str(report, "sha256"), "counts", "created", n[0],
                              "updated", n[1], "unchanged", n[2]);
        char *aj = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        const char *p[] = {actor->kind, actor->name, actor->address, iid, aj};
        failed = !aj ||
                 !ok(&r,
                     "SELECT setval(pg_get_serial_sequence('organization', 'id'), "
                     "greatest((SELECT max(id) FROM organization), 1))",
                     0, NULL) ||
                 !ok(&r,
                     "UPDATE import SET created = $1::integer, updated = $2::integer, "
                     "unchanged = $3::integer WHERE id = $4::bigint",
                     4, pu) ||
                 !ok(&r,
                     "INSERT INTO audit (actor_kind, actor, address, entity, entity_id, action, "
                     "after) VALUES ($1, $2, $3, 'import', $4, 'import', $5::jsonb)",
                     5, p);
        free(aj);
        if (!failed) {
            PGresult *res = q(&r, "SELECT coalesce(max(seq), 0) FROM change_log", 0, NULL);
            if (res) *seq = atoll(PQgetvalue(res, 0, 0));
            failed = !res;
            PQclear(res);
        }
        commit = !failed;
    }
    if (commit) {
        failed = !dir_dbi_exec(c->pg, "COMMIT", err, errlen);
    } else {
        char ignore[200];
        if (failed && r.msg[0]) snprintf(err, errlen, "%s", r.msg);
        dir_dbi_exec(c->pg, "ROLLBACK", ignore, sizeof ignore);
    }
    dir_dbi_release(db, c);
    if (failed)
        *seq = 0;
    else if (commit)
        json_object_set_new(report, "import_id", json_integer(atoll(iid)));
    json_object_set_new(report, "dry_run", json_boolean(dry_run));
    json_object_set_new(report, "written", json_boolean(commit && !failed));
    if (failed) return DIR_ERR_DB;
    return nerr ? DIR_ERR_INVALID : DIR_OK;
}

void dir_db_hsds_lines(json_t *report)
{
    json_t *lines = json_array(), *plan = json_object_get(report, "plan");
    size_t i;
    json_t *o;
    json_array_foreach(plan, i, o)
    {
        const char *action = str(o, "action");
        json_t *errs = json_array();
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(report, "errors"), k, e)
        {
            if (json_equal(json_object_get(e, "line"), json_object_get(o, "line")) &&
                str(e, "file") && strcmp(str(e, "file"), "organizations.csv") == 0)
                json_array_append(errs, e);
        }
        bool shown =
            action && strcmp(action, "error") != 0 &&
            (strcmp(action, "create") != 0 || json_is_true(json_object_get(report, "written")));
        json_array_append_new(
            lines, json_pack("{s:O?, s:O?, s:O?, s:O?, s:s, s:O?, s:o, s:s?, s:O?}", "file",
                             json_object_get(o, "file"), "line", json_object_get(o, "line"),
                             "hsds_id", json_object_get(o, "hsds_id"), "name_th",
                             json_object_get(o, "name_th"), "action", action ? action : "error",
                             "id", shown ? json_object_get(o, "new_id") : json_null(), "errors",
                             errs, "match_by", str(o, "match_by"), "fields",
                             action && strcmp(action, "update") == 0 ? json_object_get(o, "fields")
                                                                     : NULL));
    }
    json_object_set_new(report, "lines", lines);
    json_object_del(report, "plan");
}
