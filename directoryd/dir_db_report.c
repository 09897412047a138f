/* dir_db_report.c - the db module's reports of mistakes: store one, list them, resolve and
 * reopen, each with its audit row in the same statement (see 0009_reports.sql).
 *
 * Each write is one statement whose data-modifying WITH parts insert or update the report
 * and insert the audit row, so both commit or neither does. Statements are prepared once per
 * connection in the slots dir_db_int.h gives this file.
 */
#include "dir_db.h"
#include "dir_db_int.h"
#include "dir_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* A report row X as the API shows it (names of the entity are added from the read model). */
#define ITEM(x)                                                                                    \
    "jsonb_build_object('id', " x ".id, 'entity', " x ".entity, 'entity_id', " x ".entity_id, "    \
    "'message', " x ".message, 'contact', " x ".contact, 'status', " x ".status, "                 \
    "'created_at', " ISO(                                                                          \
        x ".created_at") ", 'reporter_kind', " x ".reporter_kind, "                                \
                         "'reporter', coalesce(" x ".reporter, 'anonymous'), "                     \
                         "'resolved_at', " ISO(                                                    \
                             x ".resolved_at") ", 'resolved_by', " x ".resolved_by, "              \
                                               "'resolution', " x ".resolution, 'note', " x        \
                                               ".note, "                                           \
                                               "'updated_at', " ISO(x ".updated_at") ")"

enum stmt { ST_ADD, ST_LIST, ST_SET, ST_COUNT };

_Static_assert(ST_COUNT <= 16, "dir_db_report.c has slots 64..79 (dir_db_int.h)");

static const char *const stmt_sql[ST_COUNT] = {
    /* $1 entity, $2 entity_id, $3 message, $4 contact, $5 reporter kind (NULL: anonymous),
     * $6 reporter, $7 address. */
    [ST_ADD] = "WITH r AS (INSERT INTO report (entity, entity_id, message, contact, "
               "reporter_kind, reporter) VALUES ($1, $2, $3, $4, coalesce($5::text, 'anonymous'), "
               "CASE WHEN $5::text IS NULL THEN NULL ELSE $6::text END) RETURNING *), "
               "a AS (INSERT INTO audit (actor_kind, actor, address, entity, entity_id, action, "
               "before, after) SELECT r.reporter_kind, coalesce(r.reporter, 'anonymous'), $7, "
               "'report', r.id::text, 'create', NULL, to_jsonb(r) FROM r) "
               "SELECT r.id, " ISO("r.created_at") " FROM r",
    /* $1 status, $2 entity, $3 entity_id, $4 after id, $5 limit. */
    [ST_LIST] = "SELECT coalesce(jsonb_agg(" ITEM(
        "x") " ORDER BY x.id), '[]')::text "
             "FROM (SELECT * FROM report WHERE ($1::text IS NULL OR status = $1) "
             "AND ($2::text IS NULL OR entity = $2) AND ($3::text IS NULL OR entity_id = $3) "
             "AND id > $4::bigint ORDER BY id LIMIT $5::int) x",
    /* $1 id, $2 new status, $3 actor kind, $4 actor, $5 address, $6 resolution, $7 note.
     * PREV locks the row (a concurrent change is waited for and seen); CUR is empty when the
     * report already has the status asked for. */
    [ST_SET] = "WITH prev AS (SELECT * FROM report WHERE id = $1::bigint FOR UPDATE), "
               "cur AS (UPDATE report r SET status = $2::text, "
               "resolved_at = CASE WHEN $2::text = 'resolved' THEN now() END, "
               "resolved_by = CASE WHEN $2::text = 'resolved' THEN $4::text END, "
               "resolution = CASE WHEN $2::text = 'resolved' THEN $6::text END, "
               "note = $7::text, updated_at = now() "
               "FROM prev WHERE r.id = prev.id AND prev.status <> $2::text RETURNING r.*), "
               "a AS (INSERT INTO audit (actor_kind, actor, address, entity, entity_id, action, "
               "before, after) SELECT $3::text, $4::text, $5::text, 'report', cur.id::text, "
               "CASE WHEN $2::text = 'resolved' THEN 'resolve' ELSE 'reopen' END, "
               "to_jsonb(prev), to_jsonb(cur) FROM prev, cur) "
               "SELECT (SELECT " ITEM("c") "::text FROM cur c), " ITEM("prev") "::text FROM prev",
};

static PGresult *run(struct conn *c, enum stmt st, int n, const char *const *params, char *err,
                     size_t errlen)
{
    return dir_dbi_run(c, DIR_DBI_SLOT_REPORT + (int)st, stmt_sql[st], n, params, err, errlen);
}

enum dir_rc dir_db_report_add(struct dir_db *db, const struct dir_db_actor *actor,
                              const struct dir_db_report *r, long long *id, char *created_at,
                              char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    const char *p[] = {r->entity,   r->entity_id, r->message,    r->contact,
                       actor->kind, actor->name,  actor->address};
    PGresult *res = run(c, ST_ADD, 7, p, err, errlen);
    dir_dbi_release(db, c);
    if (!res) return DIR_ERR_DB;
    *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    snprintf(created_at, 32, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return DIR_OK;
}

/* Parses the JSON text PostgreSQL built into *OUT; DIR_ERR_DB when it is not JSON. */
static enum dir_rc json_of(const char *s, json_t **out, char *err, size_t errlen)
{
    json_error_t e;
    *out = json_loads(s, 0, &e);
    if (*out) return DIR_OK;
    snprintf(err, errlen, "reports: PostgreSQL answered JSON jansson cannot read: %s", e.text);
    return DIR_ERR_DB;
}

enum dir_rc dir_db_report_list(struct dir_db *db, const struct dir_db_report_filter *f,
                               json_t **items, char *err, size_t errlen)
{
    char after[32], limit[16];
    snprintf(after, sizeof after, "%lld", f->after);
    snprintf(limit, sizeof limit, "%d", f->limit);
    const char *p[] = {f->status, f->entity, f->entity_id, after, limit};
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    PGresult *res = run(c, ST_LIST, 5, p, err, errlen);
    dir_dbi_release(db, c);
    if (!res) return DIR_ERR_DB;
    enum dir_rc rc = json_of(PQgetvalue(res, 0, 0), items, err, errlen);
    PQclear(res);
    return rc;
}

enum dir_rc dir_db_report_set(struct dir_db *db, const struct dir_db_actor *actor, long long id,
                              bool resolve, const char *resolution, const char *note, json_t **item,
                              char *err, size_t errlen)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = {ids,
                       resolve ? "resolved" : "open",
                       actor->kind,
                       actor->name,
                       actor->address,
                       resolve ? resolution : NULL,
                       note};
    *item = NULL;
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    PGresult *res = run(c, ST_SET, 7, p, err, errlen);
    dir_dbi_release(db, c);
    if (!res) return DIR_ERR_DB;
    enum dir_rc rc;
    if (PQntuples(res) == 0) {
        snprintf(err, errlen, "no report %lld", id);
        rc = DIR_ERR_NOTFOUND;
    } else {
        bool changed = !PQgetisnull(res, 0, 0);
        rc = json_of(PQgetvalue(res, 0, changed ? 0 : 1), item, err, errlen);
        if (!rc && !changed) {
            snprintf(err, errlen, "report %lld is already %s", id, resolve ? "resolved" : "open");
            rc = DIR_ERR_STATE;
        }
    }
    PQclear(res);
    return rc;
}
