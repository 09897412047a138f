/* dir_db_hsds.c - an HSDS import plan written in one transaction (see dir_db_hsds.h). */
#include "dir_db_hsds.h"
#include "dir_db_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The id of the organisation of item O when it exists (by directoryd id or ref), else 0. */
static long long exists(struct run *r, json_t *o, bool *failed)
{
    char b[32];
    const char *id = text(o, "id", b, sizeof b), *ref = str(o, "ref");
    const char *p[] = {id, ref};
    PGresult *res =
        q(r, "SELECT id FROM organization WHERE id = $1::bigint OR ref = $2 ORDER BY id LIMIT 1", 2,
          p);
    *failed = !res;
    long long found = res && PQntuples(res) > 0 ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return found;
}

/* Writes item O; its new id into ID. False with R->msg. */
static bool create(struct run *r, const struct dir_db_actor *actor, json_t *o, char id[32])
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
    json_t *cs = json_object_get(o, "contacts");
    for (size_t i = 0; i < json_array_size(cs); i++) {
        json_t *c = json_array_get(cs, i);
        char pos[24];
        snprintf(pos, sizeof pos, "%zu", i);
        const char *pc[] = {
            id, str(c, "kind"), str(c, "value"), str(c, "extension"), str(c, "label_th"), pos};
        if (!ok(r,
                "INSERT INTO contact_point (organization_id, kind, value, extension, label_th, "
                "is_public, position) VALUES ($1::bigint, $2, $3, $4, $5, true, $6::integer)",
                6, pc))
            return false;
    }
    json_t *ss = json_object_get(o, "services");
    for (size_t i = 0; i < json_array_size(ss); i++) {
        json_t *s = json_array_get(ss, i);
        const char *ps[] = {id, str(s, "code")};
        res = q(r,
                "INSERT INTO offering (organization_id, service_code) VALUES ($1::bigint, $2) "
                "RETURNING id",
                2, ps);
        if (!res) return false;
        char off[32];
        snprintf(off, sizeof off, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        json_t *gs = json_object_get(s, "target_groups"), *as = json_object_get(s, "areas");
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
    json_t *h = json_object_get(o, "hours");
    if (json_is_object(h)) {
        char *hs = json_dumps(h, JSON_COMPACT);
        const char *ph[] = {id, hs};
        bool done = hs && ok(r, "SELECT dir_hours_put($1::bigint, $2::jsonb)", 2, ph);
        free(hs);
        if (!done) return false;
    }
    const char *pa[] = {actor->kind, actor->name, actor->address, id};
    return ok(r,
              "INSERT INTO audit (actor_kind, actor, address, entity, entity_id, action, after) "
              "VALUES ($1, $2, $3, 'organization', $4::text, 'import', dir_org_json($4::bigint))",
              4, pa);
}

static void add_error(json_t *report, json_t *o, const char *msg)
{
    json_array_append_new(json_object_get(report, "errors"),
                          json_pack("{s:s?, s:O?, s:s, s:s}", "file", str(o, "file"), "line",
                                    json_object_get(o, "line"), "reason_th", "ฐานข้อมูลไม่รับแถวนี้",
                                    "reason_en", msg));
}

enum dir_rc dir_db_hsds_import(struct dir_db *db, const struct dir_db_actor *actor, json_t *report,
                               bool dry_run, char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    struct run r = {.pg = c->pg};
    json_t *plan = json_object_get(report, "plan"), *ids = json_object();
    int created = 0, unchanged = 0;
    bool failed = !dir_dbi_exec(c->pg, "BEGIN", err, errlen);
    for (size_t i = 0; i < json_array_size(plan) && !failed; i++) {
        json_t *o = json_array_get(plan, i);
        long long old = exists(&r, o, &failed);
        if (old) {
            json_object_set_new(o, "action", json_string("unchanged"));
            json_object_set_new(ids, str(o, "hsds_id"), json_integer(old));
            unchanged++;
            continue;
        }
        if (failed || !ok(&r, "SAVEPOINT org", 0, NULL)) {
            failed = true;
            break;
        }
        char id[32];
        if (create(&r, actor, o, id)) {
            json_object_set_new(o, "action", json_string("create"));
            json_object_set_new(o, "new_id", json_integer(atoll(id)));
            json_object_set_new(ids, str(o, "hsds_id"), json_integer(atoll(id)));
            created++;
            failed = !ok(&r, "RELEASE SAVEPOINT org", 0, NULL);
        } else {
            json_object_set_new(o, "action", json_string("error"));
            add_error(report, o, r.msg);
            failed = !ok(&r, "ROLLBACK TO SAVEPOINT org", 0, NULL);
        }
    }
    /* Parents, now that every organisation of the package has its id. */
    for (size_t i = 0; i < json_array_size(plan) && !failed; i++) {
        json_t *o = json_array_get(plan, i);
        json_t *nid = json_object_get(o, "new_id");
        const char *ph = str(o, "parent_hsds_id");
        if (!nid || !ph) continue;
        json_t *pid = json_object_get(ids, ph);
        if (!pid) {
            json_array_append_new(
                json_object_get(report, "not_held"),
                json_pack("{s:s, s:O, s:s, s:s, s:s}", "file", "organizations.csv", "line",
                          json_object_get(o, "line"), "column", "parent_organization_id", "value",
                          ph, "reason_en", "no organization of the package has this id"));
            continue;
        }
        char a[32], b[32];
        snprintf(a, sizeof a, "%lld", (long long)json_integer_value(nid));
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(pid));
        const char *p[] = {a, b};
        if (!ok(&r, "UPDATE organization SET parent_id = $2::bigint WHERE id = $1::bigint", 2, p))
            add_error(report, o, r.msg);
    }
    json_decref(ids);
    json_t *counts = json_object_get(report, "counts");
    json_object_set_new(counts, "created", json_integer(created));
    json_object_set_new(counts, "unchanged", json_integer(unchanged));
    size_t nerr = json_array_size(json_object_get(report, "errors"));
    json_object_set_new(counts, "errors", json_integer((json_int_t)nerr));
    json_object_set_new(
        counts, "not_held",
        json_integer((json_int_t)json_array_size(json_object_get(report, "not_held"))));
    if (!failed) {
        failed = !ok(&r,
                     "SELECT setval(pg_get_serial_sequence('organization', 'id'), "
                     "greatest((SELECT max(id) FROM organization), 1))",
                     0, NULL);
        char *cj = json_dumps(counts, JSON_COMPACT);
        const char *p[] = {actor->kind, actor->name, actor->address, str(report, "dir"), cj};
        failed = failed || !cj ||
                 !ok(&r,
                     "INSERT INTO audit (actor_kind, actor, address, entity, entity_id, action, "
                     "after) VALUES ($1, $2, $3, 'import', $4, 'import_hsds', $5::jsonb)",
                     5, p);
        free(cj);
    }
    bool commit = !failed && !dry_run && nerr == 0;
    if (commit) {
        failed = !dir_dbi_exec(c->pg, "COMMIT", err, errlen);
    } else {
        char ignore[200];
        if (failed && r.msg[0]) snprintf(err, errlen, "%s", r.msg);
        dir_dbi_exec(c->pg, "ROLLBACK", ignore, sizeof ignore);
    }
    dir_dbi_release(db, c);
    json_object_set_new(report, "dry_run", json_boolean(dry_run));
    json_object_set_new(report, "written", json_boolean(commit && !failed));
    if (failed) return DIR_ERR_DB;
    return nerr ? DIR_ERR_INVALID : DIR_OK;
}
