/* dir_db_write.c - the db module's writes: organisations and people with their parts, the
 * audit trail, idempotency keys and API clients, each in one transaction.
 *
 * A write locks the row (SELECT ... FOR UPDATE), checks the caller's version (optimistic
 * concurrency: a stale version changes nothing), applies the change, records the audit row
 * with the entity's JSON before and after (dir_org_json / dir_person_json in schema/), and
 * commits; triggers add the change-log rows in the same transaction.
 */
#include "dir_db.h"
#include "dir_db_int.h"
#include "dir_log.h"
#include "dir_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tx {
    struct conn *c;
    enum dir_rc rc; /* the first failure */
    char *err;
    size_t errlen;
};

/* Runs SQL with text parameters; NULL (and tx->rc set) on failure. Integrity violations
 * (SQLSTATE class 23, 22) are the caller's fault (DIR_ERR_INVALID); anything else is
 * PostgreSQL's (DIR_ERR_DB). */
static PGresult *q(struct tx *t, const char *sql, int n, const char *const *params)
{
    if (t->rc)
        return NULL;
    PGresult *r = PQexecParams(t->c->pg, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (state && (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)) {
        t->rc = DIR_ERR_INVALID;
        snprintf(t->err, t->errlen, "%s", detail ? detail : "invalid value");
    } else {
        t->rc = DIR_ERR_DB;
        dir_dbi_error(t->err, t->errlen, "write", t->c->pg, r);
    }
    PQclear(r);
    return NULL;
}

static void qexec(struct tx *t, const char *sql, int n, const char *const *params)
{
    PGresult *r = q(t, sql, n, params);
    PQclear(r);
}

static const char *jtext(json_t *o, const char *key, char *buf, size_t n)
{
    json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    return NULL;
}

static void replace_contacts(struct tx *t, const char *owner_col, const char *id, json_t *list,
                             bool default_public)
{
    char sql[256];
    const char *p1[] = {id};
    snprintf(sql, sizeof sql, "DELETE FROM contact_point WHERE %s = $1 AND source = 'manual'",
             owner_col);
    qexec(t, sql, 1, p1);
    snprintf(sql, sizeof sql,
             "INSERT INTO contact_point (%s, kind, value, extension, label_th, label_en, "
             "is_public, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
             owner_col);
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        char b[5][32], pos[24];
        json_t *pub = json_object_get(c, "public");
        snprintf(pos, sizeof pos, "%zu", i);
        const char *p[] = {id,
                           jtext(c, "kind", b[0], sizeof b[0]),
                           jtext(c, "value", b[1], sizeof b[1]),
                           jtext(c, "extension", b[2], sizeof b[2]),
                           jtext(c, "label_th", b[3], sizeof b[3]),
                           jtext(c, "label_en", b[4], sizeof b[4]),
                           json_is_boolean(pub) ? (json_is_true(pub) ? "true" : "false")
                                                : (default_public ? "true" : "false"),
                           pos};
        qexec(t, sql, 8, p);
    }
}

/* An area or group code into the (area_code, group_code) pair of a coverage row. */
#define COVER_SQL(table, owner)                                                                    \
    "INSERT INTO " table " (" owner ", area_code, group_code) SELECT $1, "                        \
    "(SELECT code FROM area WHERE code = $2), "                                                    \
    "(SELECT code FROM area_group WHERE code = $2 AND NOT EXISTS "                                 \
    "(SELECT 1 FROM area WHERE code = $2))"

/* Inserts one row per item of LIST, owned by OWNER ($1): a string item is $2; an object
 * item gives its FIELDS as $2.. (at most 3). */
static void insert_links(struct tx *t, const char *ins_sql, const char *owner, json_t *list,
                         const char *const *fields, int nf)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *p[4] = {owner};
        char b[3][32];
        if (json_is_string(x)) {
            p[1] = json_string_value(x);
        } else {
            for (int k = 0; k < nf && k < 3; k++)
                p[1 + k] = jtext(x, fields[k], b[k], sizeof b[k]);
        }
        qexec(t, ins_sql, json_is_string(x) ? 2 : 1 + nf, p);
    }
}

/* Replaces the rows of a link table owned by OWNER: DEL_SQL ("DELETE ... WHERE owner = $1"),
 * then insert_links. */
static void replace_links(struct tx *t, const char *del_sql, const char *ins_sql,
                          const char *owner, json_t *list, const char *const *fields, int nf)
{
    const char *p1[] = {owner};
    qexec(t, del_sql, 1, p1);
    insert_links(t, ins_sql, owner, list, fields, nf);
}

/* Runs an INSERT ... RETURNING id; the new id as text into ID (32 bytes). False on failure. */
static bool insert_id(struct tx *t, const char *sql, int n, const char *const *params, char *id)
{
    PGresult *r = q(t, sql, n, params);
    if (!r)
        return false;
    snprintf(id, 32, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return true;
}

static void replace_services(struct tx *t, const char *id, json_t *list)
{
    const char *p1[] = {id};
    qexec(t, "DELETE FROM offering WHERE organization_id = $1", 1, p1);
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s)
    {
        char b[32];
        const char *p2[] = {id, jtext(s, "code", b, sizeof b)};
        char oid[32];
        if (!insert_id(t,
                       "INSERT INTO offering (organization_id, service_code) VALUES ($1, $2) "
                       "RETURNING id",
                       2, p2, oid))
            return;
        insert_links(t, "INSERT INTO offering_target_group (offering_id, target_group_code) "
                        "VALUES ($1, $2)",
                     oid, json_object_get(s, "target_groups"), NULL, 0);
        insert_links(t, COVER_SQL("offering_area", "offering_id"), oid,
                     json_object_get(s, "areas"), NULL, 0);
    }
}

static void replace_memberships(struct tx *t, const char *id, json_t *list)
{
    const char *p1[] = {id};
    /* The list replaces every membership, the one the staff sync made too: a coordinator
     * sends back what they read, with team roles and areas added. The sync only re-adds a
     * membership of the person's LDAP unit when none to that organisation is left. */
    qexec(t, "DELETE FROM membership WHERE person_id = $1", 1, p1);
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m)
    {
        char b1[32], b2[32], b3[32], b4[32];
        const char *p[] = {id, jtext(m, "organization", b1, sizeof b1),
                           jtext(m, "team_role", b2, sizeof b2), jtext(m, "title_th", b3, sizeof b3),
                           jtext(m, "title_en", b4, sizeof b4), i == 0 ? "true" : "false"};
        char mid[32];
        if (!insert_id(t,
                       "INSERT INTO membership (person_id, organization_id, team_role, title_th, "
                       "title_en, is_primary) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                       6, p, mid))
            return;
        insert_links(t, COVER_SQL("membership_area", "membership_id"), mid,
                     json_object_get(m, "areas"), NULL, 0);
    }
}

/* Replaces an organisation's opening hours (dir_hours_put in schema/, 0008). */
static void put_hours(struct tx *t, const char *id, json_t *hours)
{
    char *s = json_dumps(hours, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *p[] = {id, s ? s : "null"};
    qexec(t, "SELECT dir_hours_put($1, $2::jsonb)", 2, p);
    free(s);
}

/* What each editable entity is in SQL. */
struct etab {
    const char *entity, *table, *key_col, *json_sql;
    bool numeric;
};

static const struct etab etabs[] = {
    {"organization", "organization", "id", "SELECT dir_org_json($1)::text", true},
    {"person", "person", "id", "SELECT dir_person_json($1)::text", true},
    {"area", "area", "code", "SELECT dir_area_json($1)::text", false},
    {"area_group", "area_group", "code", "SELECT dir_area_group_json($1)::text", false},
    {"programme", "programme", "id", "SELECT dir_programme_json($1)::text", true},
};

static const struct etab *etab_of(const char *entity)
{
    for (size_t i = 0; i < sizeof etabs / sizeof etabs[0]; i++)
        if (strcmp(etabs[i].entity, entity) == 0)
            return &etabs[i];
    return NULL;
}

/* The entity row as audit JSON (caller frees), or NULL. */
static char *entity_json(struct tx *t, const char *entity, const char *id)
{
    const char *p[] = {id};
    PGresult *r = q(t, etab_of(entity)->json_sql, 1, p);
    if (!r)
        return NULL;
    char *s = PQgetisnull(r, 0, 0) ? NULL : dir_xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return s;
}

static void audit(struct tx *t, const struct dir_db_actor *a, const char *entity, const char *id,
                  const char *action, const char *before, const char *after)
{
    const char *p[] = {a->kind, a->name, a->address, entity, id, action, before, after};
    qexec(t,
          "INSERT INTO audit (actor_kind, actor, address, entity, entity_id, action, before, "
          "after) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)",
          8, p);
}

static long long last_seq(struct tx *t)
{
    PGresult *r = q(t, "SELECT coalesce(max(seq), 0) FROM change_log", 0, NULL);
    long long s = r ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return s;
}

/* Looks up an Idempotency-Key; true (with RES filled) when it was seen before. */
static bool idem_seen(struct tx *t, const struct dir_db_actor *a, const struct dir_db_write *w,
                      struct dir_db_result *res)
{
    const char *p[] = {a->name, w->idem_key};
    PGresult *r = q(t, "SELECT request_hash, entity_id FROM idempotency_key "
                       "WHERE actor = $1 AND key = $2", 2, p);
    if (!r || PQntuples(r) == 0) {
        PQclear(r);
        return false;
    }
    res->replayed = true;
    res->key_reused = strcmp(PQgetvalue(r, 0, 0), w->req_hash) != 0;
    res->id = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
    return true;
}

static enum dir_rc finish(struct tx *t, struct dir_db *db)
{
    char ignore[128];
    if (!t->rc) {
        if (!dir_dbi_exec(t->c->pg, "COMMIT", t->err, t->errlen))
            t->rc = DIR_ERR_DB;
    } else {
        dir_dbi_exec(t->c->pg, "ROLLBACK", ignore, sizeof ignore);
    }
    dir_dbi_release(db, t->c);
    return t->rc;
}

/* The write W inside the open transaction T: the row (locked and, with CHECK_VERSION,
 * checked against W->if_version), its parts and its audit row. ID (80 bytes) receives the
 * key written; *BEFORE and *AFTER the audit JSON (caller frees; NULL for none). */
static void apply_body(struct tx *t, const struct dir_db_actor *a, const struct dir_db_write *w,
                       struct dir_db_result *res, bool check_version, char *id, char **before_out,
                       char **after_out)
{
    bool org = strcmp(w->entity, "organization") == 0;
    const struct etab *et = etab_of(w->entity);
    const char *table = et->table;
    char sql[4096];
    char *before = NULL, *after = NULL;
    char *err = t->err;
    size_t errlen = t->errlen;
    const char *params[DIR_DB_MAX_SETS + 1];
    int np = 0;
    *before_out = *after_out = NULL;
    if (w->id || w->code) {
        if (w->code)
            snprintf(id, 80, "%s", w->code);
        else
            snprintf(id, 80, "%lld", w->id);
        const char *p[] = {id};
        snprintf(sql, sizeof sql, "SELECT version FROM %s WHERE %s = $1 FOR UPDATE", table,
                 et->key_col);
        PGresult *r = q(t, sql, 1, p);
        if (r && PQntuples(r) == 0) {
            t->rc = DIR_ERR_NOTFOUND;
            snprintf(err, errlen, "no %s %s", table, id);
        } else if (r) {
            res->version = atoi(PQgetvalue(r, 0, 0));
            if (check_version && res->version != w->if_version) {
                t->rc = DIR_ERR_STATE;
                snprintf(err, errlen, "version %d is not the current %d", w->if_version,
                         res->version);
            }
        }
        PQclear(r);
        if (t->rc)
            return;
        before = entity_json(t, w->entity, id);
        /* updated_at always moves, so the version does too (a change to parts counts). */
        size_t len = (size_t)snprintf(sql, sizeof sql, "UPDATE %s SET updated_at = clock_timestamp()", table);
        for (int i = 0; i < w->nsets && len < sizeof sql; i++) {
            if (w->sets[i].now)
                len += (size_t)snprintf(sql + len, sizeof sql - len, ", %s = now()", w->sets[i].col);
            else {
                params[np] = w->sets[i].val;
                np++;
                len += (size_t)snprintf(sql + len, sizeof sql - len, ", %s = $%d", w->sets[i].col, np);
            }
        }
        params[np++] = id;
        snprintf(sql + len, sizeof sql - len, " WHERE %s = $%d", et->key_col, np);
        qexec(t, sql, np, params);
    } else {
        size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s (", table);
        char vals[1024];
        size_t vl = 0;
        for (int i = 0; i < w->nsets; i++) {
            len += (size_t)snprintf(sql + len, sizeof sql - len, "%s%s", i ? ", " : "", w->sets[i].col);
            if (w->sets[i].now) {
                vl += (size_t)snprintf(vals + vl, sizeof vals - vl, "%snow()", i ? ", " : "");
            } else {
                params[np] = w->sets[i].val;
                np++;
                vl += (size_t)snprintf(vals + vl, sizeof vals - vl, "%s$%d", i ? ", " : "", np);
            }
        }
        snprintf(sql + len, sizeof sql - len, ") VALUES (%s) RETURNING %s", vals, et->key_col);
        PGresult *r = q(t, sql, np, params);
        if (r)
            snprintf(id, 80, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    if (!t->rc && w->contacts)
        replace_contacts(t, org ? "organization_id" : "person_id", id, w->contacts, org);
    if (!t->rc && org && w->services)
        replace_services(t, id, w->services);
    if (!t->rc && org && w->hours_set) put_hours(t, id, w->hours);
    if (!t->rc && !org && w->memberships)
        replace_memberships(t, id, w->memberships);
    if (!t->rc && w->members)
        replace_links(t, "DELETE FROM area_group_member WHERE group_code = $1",
                      "INSERT INTO area_group_member (group_code, area_code) VALUES ($1, $2)", id,
                      w->members, NULL, 0);
    if (!t->rc && w->prog_areas)
        replace_links(t, "DELETE FROM programme_area WHERE programme_id = $1",
                      "INSERT INTO programme_area (programme_id, area_code) VALUES ($1, $2)", id,
                      w->prog_areas, NULL, 0);
    if (!t->rc && w->prog_orgs) {
        static const char *const f[] = {"organization", "role_th", "role_en"};
        replace_links(t, "DELETE FROM programme_organization WHERE programme_id = $1",
                      "INSERT INTO programme_organization (programme_id, organization_id, role_th, "
                      "role_en) VALUES ($1, $2, $3, $4)",
                      id, w->prog_orgs, f, 3);
    }
    if (!t->rc) {
        after = entity_json(t, w->entity, id);
        audit(t, a, w->entity, id, w->action, before, after);
    }
    *before_out = before;
    *after_out = after;
}

static enum dir_rc apply_once(struct dir_db *db, const struct dir_db_actor *a,
                              const struct dir_db_write *w, struct dir_db_result *res, char *err,
                              size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    const struct etab *et = etab_of(w->entity);
    const char *table = et->table;
    char id[80], sql[256];
    char *before = NULL, *after = NULL;

    memset(res, 0, sizeof *res);
    if (!(t.c = dir_dbi_acquire(db, err, errlen)))
        return DIR_ERR_DB;
    if (!dir_dbi_exec(t.c->pg, "BEGIN", err, errlen)) {
        t.rc = DIR_ERR_DB;
        return finish(&t, db);
    }
    if (w->idem_key && idem_seen(&t, a, w, res))
        return finish(&t, db);
    apply_body(&t, a, w, res, true, id, &before, &after);
    if (!t.rc && w->idem_key && et->numeric) {
        const char *p[] = {a->name, w->idem_key, w->req_hash, w->entity, id};
        qexec(&t, "INSERT INTO idempotency_key (actor, key, request_hash, entity, entity_id) "
                  "VALUES ($1, $2, $3, $4, $5)", 5, p);
    }
    if (!t.rc) {
        const char *p[] = {id};
        snprintf(sql, sizeof sql, "SELECT version FROM %s WHERE %s = $1", table, et->key_col);
        PGresult *r = q(&t, sql, 1, p);
        if (r)
            res->version = atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        res->id = et->numeric ? strtoll(id, NULL, 10) : 0;
        snprintf(res->code, sizeof res->code, "%s", id);
        res->seq = last_seq(&t);
    }
    free(before);
    free(after);
    return finish(&t, db);
}

enum dir_rc dir_db_apply(struct dir_db *db, const struct dir_db_actor *actor,
                         const struct dir_db_write *w, struct dir_db_result *res, char *err,
                         size_t errlen)
{
    enum dir_rc rc = apply_once(db, actor, w, res, err, errlen);
    /* Two creates with the same new key raced: the loser's key insert hit the primary key;
     * its transaction rolled back, so answer with the winner's result. */
    if (rc == DIR_ERR_INVALID && w->idem_key && strstr(err, "idempotency_key")) {
        struct dir_db_write again = *w;
        again.nsets = 0;
        rc = apply_once(db, actor, &again, res, err, errlen);
    }
    return rc;
}

/* ---- imports (dir_import.c): many writes in one transaction ---- */

#define IMPORT_BATCH 500 /* rows per call of dir_import_rows: one round trip */

/* Row W as dir_import_rows (0016) reads it: {e, k, a, s, c, v, m, h}; a new object. */
static json_t *import_row_json(const struct dir_db_write *w)
{
    char key[32];
    json_t *o = json_pack("{s:s, s:s}", "e", w->entity, "a", w->action ? w->action : "update");
    if (w->code)
        json_object_set_new(o, "k", json_string(w->code));
    else if (w->id) {
        snprintf(key, sizeof key, "%lld", w->id);
        json_object_set_new(o, "k", json_string(key));
    }
    json_t *sets = json_array();
    for (int i = 0; i < w->nsets; i++)
        json_array_append_new(sets,
                              json_pack("[s, s?, b]", w->sets[i].col,
                                        w->sets[i].now ? NULL : w->sets[i].val, w->sets[i].now));
    json_object_set_new(o, "s", sets);
    if (w->contacts) json_object_set(o, "c", w->contacts);
    if (w->services) json_object_set(o, "v", w->services);
    if (w->memberships) json_object_set(o, "m", w->memberships);
    if (w->hours_set) json_object_set_new(o, "h", w->hours ? json_incref(w->hours) : json_null());
    return o;
}

/* Applies ROWS[FROM..TO) (those with an entity) with one call of dir_import_rows, filling
 * their outcomes and COUNTS; true when PostgreSQL refused one of them. */
static bool import_batch(struct tx *t, const struct dir_db_actor *a, struct dir_db_import_row *rows,
                         int from, int to, int counts[4])
{
    json_t *batch = json_array();
    for (int i = from; i < to; i++) {
        if (!rows[i].w.entity) continue;
        if (rows[i].w.members || rows[i].w.prog_areas || rows[i].w.prog_orgs) {
            t->rc = DIR_ERR_DB; /* not an importable kind: dir_import never sends these */
            snprintf(t->err, t->errlen, "import: %s rows cannot be imported", rows[i].w.entity);
            json_decref(batch);
            return false;
        }
        json_array_append_new(batch, import_row_json(&rows[i].w));
    }
    bool failed = false;
    if (json_array_size(batch) == 0 || t->rc) {
        json_decref(batch);
        return false;
    }
    char *js = json_dumps(batch, JSON_COMPACT);
    json_decref(batch);
    const char *p[] = {js, a->kind, a->name, a->address};
    PGresult *r = q(t, "SELECT dir_import_rows($1::jsonb, $2, $3, $4)::text", 4, p);
    free(js);
    if (!r) {
        if (t->rc == DIR_ERR_INVALID) t->rc = DIR_ERR_DB; /* not one row's fault */
        return false;
    }
    json_t *res = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    size_t k = 0;
    for (int i = from; i < to && !t->rc; i++) {
        struct dir_db_import_row *row = &rows[i];
        if (!row->w.entity) continue;
        json_t *x = json_array_get(res, k++);
        const char *o = json_string_value(json_array_get(x, 0));
        const char *id = json_string_value(json_array_get(x, 1));
        const char *e = json_string_value(json_array_get(x, 2));
        if (!o) {
            t->rc = DIR_ERR_DB;
            snprintf(t->err, t->errlen, "import: dir_import_rows answered %zu rows",
                     json_array_size(res));
            break;
        }
        snprintf(row->id, sizeof row->id, "%s", id ? id : "");
        row->outcome = strcmp(o, "created") == 0     ? DIR_DB_IMPORT_CREATED
                       : strcmp(o, "updated") == 0   ? DIR_DB_IMPORT_UPDATED
                       : strcmp(o, "unchanged") == 0 ? DIR_DB_IMPORT_UNCHANGED
                                                     : DIR_DB_IMPORT_ERROR;
        if (row->outcome == DIR_DB_IMPORT_ERROR) {
            snprintf(row->err, sizeof row->err, "%s", e ? e : "invalid value");
            failed = true;
        }
        counts[row->outcome]++;
    }
    json_decref(res);
    return failed;
}

enum dir_rc dir_db_import_apply(struct dir_db *db, const struct dir_db_actor *a,
                                const struct dir_db_import *imp, struct dir_db_import_row *rows,
                                int n, long long *import_id, long long *seq, char *err,
                                size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    char iid[32] = "";
    int counts[4] = {0, 0, 0, 0};
    bool row_failed = false;
    *import_id = 0;
    *seq = 0;
    if (!(t.c = dir_dbi_acquire(db, err, errlen)))
        return DIR_ERR_DB;
    if (!dir_dbi_exec(t.c->pg, "BEGIN", err, errlen)) {
        t.rc = DIR_ERR_DB;
        return finish(&t, db);
    }
    {
        const char *p[] = {a->kind, a->name, imp->kind, imp->file_name, imp->sha256};
        PGresult *r = q(&t,
                        "INSERT INTO import (actor_kind, actor, kind, file_name, sha256) VALUES "
                        "($1, $2, $3, $4, $5) RETURNING id",
                        5, p);
        if (r) snprintf(iid, sizeof iid, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        const char *p2[] = {iid};
        qexec(&t, "SELECT set_config('directoryd.import_id', $1, true)", 1, p2);
        /* Tables grow from nothing within this transaction, faster than their statistics:
         * the per-row lookups must use their indexes (as the sync's functions do, 0011). */
        qexec(&t, "SET LOCAL enable_seqscan = off", 0, NULL);
    }
    for (int i = 0; i < n && !t.rc; i += IMPORT_BATCH)
        if (import_batch(&t, a, rows, i, i + IMPORT_BATCH < n ? i + IMPORT_BATCH : n, counts))
            row_failed = true;
    bool commit = imp->commit && !row_failed && imp->errors == 0 && !t.rc;
    if (commit) {
        char c[3][16], after[512];
        for (int k = 0; k < 3; k++)
            snprintf(c[k], sizeof c[k], "%d", counts[k]);
        const char *p[] = {c[0], c[1], c[2], iid};
        qexec(&t, "UPDATE import SET created = $1, updated = $2, unchanged = $3 WHERE id = $4", 4,
              p);
        json_t *j = json_pack("{s:s, s:s, s:s, s:{s:i, s:i, s:i}}", "kind", imp->kind,
                              "file_name", imp->file_name, "sha256", imp->sha256, "counts",
                              "created", counts[0], "updated", counts[1], "unchanged", counts[2]);
        char *js = json_dumps(j, JSON_COMPACT);
        snprintf(after, sizeof after, "%s", js ? js : "{}");
        free(js);
        json_decref(j);
        audit(&t, a, "import", iid, "import", NULL, after);
        if (!t.rc) {
            *import_id = strtoll(iid, NULL, 10);
            *seq = last_seq(&t);
        }
    } else if (!t.rc) {
        t.rc = DIR_ERR_INVALID; /* rolled back on purpose: a dry run or a file with errors */
        snprintf(err, errlen, "not written");
    }
    enum dir_rc rc = finish(&t, db);
    return rc == DIR_ERR_INVALID ? DIR_OK : rc;
}

enum dir_rc dir_db_import_export(struct dir_db *db, const char *kind, json_t **items, char *err,
                                 size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    *items = NULL;
    if (!(t.c = dir_dbi_acquire(db, err, errlen)))
        return DIR_ERR_DB;
    const char *p[] = {kind};
    PGresult *r = q(&t, "SELECT coalesce(jsonb_agg(x), '[]')::text FROM dir_import_export($1) x",
                    1, p);
    if (r) {
        json_error_t e;
        *items = json_loads(PQgetvalue(r, 0, 0), 0, &e);
        if (!*items) {
            t.rc = DIR_ERR_DB;
            snprintf(err, errlen, "export: %s", e.text);
        }
    }
    PQclear(r);
    dir_dbi_release(db, t.c);
    return t.rc;
}

enum dir_rc dir_db_audit(struct dir_db *db, const char *entity, const char *entity_id,
                         const char *actor, const char *since, long long before_id, int limit,
                         char **json_out, char *err, size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    char before[32], lim[16];
    snprintf(before, sizeof before, "%lld", before_id);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {entity, entity_id, actor, since, before, lim};
    if (!(t.c = dir_dbi_acquire(db, err, errlen)))
        return DIR_ERR_DB;
    PGresult *r = q(&t,
                    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'at', "
                    "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
                    "'actor_kind', actor_kind, 'actor', actor, 'address', address, 'entity', "
                    "entity, 'entity_id', entity_id, 'action', action, 'before', before, "
                    "'after', after) ORDER BY id DESC), '[]')::text FROM (SELECT * FROM audit "
                    "WHERE ($1::text IS NULL OR entity = $1) AND ($2::text IS NULL OR entity_id = $2) "
                    "AND ($3::text IS NULL OR actor = $3) AND ($4::timestamptz IS NULL OR at >= $4) "
                    "AND ($5::bigint = 0 OR id < $5) ORDER BY id DESC LIMIT $6::int) x",
                    6, p);
    if (r)
        *json_out = dir_xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    dir_dbi_release(db, t.c);
    return t.rc;
}

enum dir_rc dir_db_list_clients(struct dir_db *db, char **json_out, char *err, size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    if (!(t.c = dir_dbi_acquire(db, err, errlen)))
        return DIR_ERR_DB;
    PGresult *r = q(&t,
                    "SELECT coalesce(jsonb_agg(jsonb_build_object('name', name, 'role', role, "
                    "'created_at', created_at, 'expires_at', expires_at, 'revoked_at', revoked_at, "
                    "'last_used_at', u.last_used_at) ORDER BY name), '[]')::text "
                    "FROM api_client c LEFT JOIN api_client_use u ON u.client_id = c.id",
                    0, NULL);
    if (r)
        *json_out = dir_xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    dir_dbi_release(db, t.c);
    return t.rc;
}

static enum dir_rc client_change(struct dir_db *db, const struct dir_db_actor *a, const char *sql,
                                 int n, const char *const *params, const char *name,
                                 const char *action, long long *seq, char *err, size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    if (!(t.c = dir_dbi_acquire(db, err, errlen)))
        return DIR_ERR_DB;
    if (!dir_dbi_exec(t.c->pg, "BEGIN", err, errlen)) {
        t.rc = DIR_ERR_DB;
        return finish(&t, db);
    }
    PGresult *r = q(&t, sql, n, params);
    if (r && PQntuples(r) == 0) {
        t.rc = DIR_ERR_NOTFOUND;
        snprintf(err, errlen, "no API client %s", name);
    }
    if (r && !t.rc) {
        /* The audit keeps what the client is, never its secret or hash. */
        audit(&t, a, "api_client", PQgetvalue(r, 0, 0), action, NULL, PQgetvalue(r, 0, 1));
        *seq = last_seq(&t);
    }
    PQclear(r);
    return finish(&t, db);
}

enum dir_rc dir_db_create_client(struct dir_db *db, const struct dir_db_actor *actor,
                                 const char *name, const char *role, const char *expires,
                                 const uint8_t hash[DIR_AUTH_HASH_LEN], long long *seq,
                                 char *err, size_t errlen)
{
    char hex[DIR_AUTH_HASH_LEN * 2 + 1];
    for (int i = 0; i < DIR_AUTH_HASH_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", hash[i]);
    const char *p[] = {name, role, hex, expires};
    enum dir_rc rc = client_change(
        db, actor,
        "INSERT INTO api_client (name, role, secret_hash, expires_at) "
        "VALUES ($1, $2, decode($3, 'hex'), $4::timestamptz) ON CONFLICT (name) DO NOTHING "
        "RETURNING id, jsonb_build_object('name', name, 'role', role, 'expires_at', expires_at)::text",
        4, p, name, "create", seq, err, errlen);
    if (rc == DIR_ERR_NOTFOUND) {
        snprintf(err, errlen, "an API client named %s exists already", name);
        rc = DIR_ERR_STATE;
    }
    return rc;
}

enum dir_rc dir_db_revoke_client(struct dir_db *db, const struct dir_db_actor *actor,
                                 const char *name, long long *seq, char *err, size_t errlen)
{
    const char *p[] = {name};
    return client_change(db, actor,
                         "UPDATE api_client SET revoked_at = coalesce(revoked_at, now()) "
                         "WHERE name = $1 RETURNING id, jsonb_build_object('name', name, 'role', "
                         "role, 'revoked_at', revoked_at)::text",
                         1, p, name, "revoke", seq, err, errlen);
}

/* ---- sessions and local accounts ---- */

/* Runs one statement outside a transaction; returns the result or NULL with T's error. */
static PGresult *one(struct dir_db *db, struct tx *t, const char *sql, int n,
                     const char *const *params)
{
    if (!(t->c = dir_dbi_acquire(db, t->err, t->errlen))) {
        t->rc = DIR_ERR_DB;
        return NULL;
    }
    PGresult *r = q(t, sql, n, params);
    dir_dbi_release(db, t->c);
    return r;
}

enum dir_rc dir_db_server_key(struct dir_db *db, const uint8_t candidate[32], uint8_t key[32],
                              char *err, size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", candidate[i]);
    const char *p[] = {hex};
    PGresult *r = one(db, &t,
                      "WITH ins AS (INSERT INTO server_key (key) VALUES (decode($1, 'hex')) "
                      "ON CONFLICT (id) DO NOTHING RETURNING key) "
                      "SELECT encode(key, 'hex') FROM ins UNION ALL "
                      "SELECT encode(key, 'hex') FROM server_key LIMIT 1",
                      1, p);
    if (!r)
        return t.rc;
    const char *h = PQgetvalue(r, 0, 0);
    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        key[i] = (uint8_t)v;
    }
    PQclear(r);
    return DIR_OK;
}

enum dir_rc dir_db_local_account(struct dir_db *db, const char *username, char *hash, size_t hn,
                                 char *role, size_t rn, char *err, size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    const char *p[] = {username};
    PGresult *r = one(db, &t,
                      "SELECT password_hash, role FROM local_account WHERE username = $1 "
                      "AND NOT disabled",
                      1, p);
    if (!r)
        return t.rc;
    enum dir_rc rc = PQntuples(r) ? DIR_OK : DIR_ERR_NOTFOUND;
    if (!rc) {
        snprintf(hash, hn, "%s", PQgetvalue(r, 0, 0));
        snprintf(role, rn, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return rc;
}

enum dir_rc dir_db_put_local_account(struct dir_db *db, const char *username, const char *hash,
                                     const char *role, char *err, size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    const char *p[] = {username, hash, role};
    PGresult *r = one(db, &t,
                      "INSERT INTO local_account (username, password_hash, role) VALUES ($1, $2, $3) "
                      "ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, "
                      "role = EXCLUDED.role, disabled = false, disabled_at = NULL, updated_at = now()",
                      3, p);
    PQclear(r);
    return t.rc;
}

enum dir_rc dir_db_staff_role(struct dir_db *db, const char *username, char *role, size_t rn,
                              char *err, size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    const char *p[] = {username};
    PGresult *r = one(db, &t, "SELECT role FROM staff_role WHERE username = $1", 1, p);
    if (!r)
        return t.rc;
    enum dir_rc rc = PQntuples(r) ? DIR_OK : DIR_ERR_NOTFOUND;
    if (!rc)
        snprintf(role, rn, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

enum dir_rc dir_db_revoke_session(struct dir_db *db, const char *sid, long long expires,
                                  long long *seq, char *err, size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    char exp[32];
    snprintf(exp, sizeof exp, "%lld", expires);
    const char *p[] = {sid, exp};
    PGresult *r = one(db, &t,
                      "WITH ins AS (INSERT INTO session_revoked (sid, expires_at) "
                      "VALUES ($1, to_timestamp($2::bigint)) ON CONFLICT (sid) DO NOTHING) "
                      "SELECT 1",
                      2, p);
    PQclear(r);
    if (t.rc)
        return t.rc;
    /* The insert's change-log row commits with the statement; read the sequence after it. */
    r = one(db, &t, "SELECT coalesce(max(seq), 0) FROM change_log", 0, NULL);
    if (r)
        *seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return t.rc;
}

enum dir_rc dir_db_set_staff_role(struct dir_db *db, const struct dir_db_actor *actor,
                                  const char *username, const char *role, char *err,
                                  size_t errlen)
{
    struct tx t = {.err = err, .errlen = errlen};
    if (!(t.c = dir_dbi_acquire(db, err, errlen)))
        return DIR_ERR_DB;
    if (!dir_dbi_exec(t.c->pg, "BEGIN", err, errlen)) {
        t.rc = DIR_ERR_DB;
        return finish(&t, db);
    }
    const char *p[] = {username, role, actor->name};
    qexec(&t,
          role ? "INSERT INTO staff_role (username, role, set_by) VALUES ($1, $2, $3) "
                 "ON CONFLICT (username) DO UPDATE SET role = EXCLUDED.role, "
                 "set_by = EXCLUDED.set_by, updated_at = now()"
               : "DELETE FROM staff_role WHERE username = $1 AND $2::text IS NULL AND $3::text IS NOT NULL",
          3, p);
    char after[160];
    snprintf(after, sizeof after, "{\"role\": %s%s%s}", role ? "\"" : "", role ? role : "null",
             role ? "\"" : "");
    audit(&t, actor, "staff_role", username, role ? "set" : "clear", NULL, after);
    return finish(&t, db);
}
