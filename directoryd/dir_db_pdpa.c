/* dir_db_pdpa.c - the db module's access-log side: COPY of folded reads, the retention purge,
 * the admin's filtered list and the data-subject report (dir_db_pdpa.h). */
#include "dir_db_pdpa.h"
#include "dir_buf.h"
#include "dir_db_int.h"
#include "dir_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Appends S to B escaped for COPY's text format. */
static void copy_text(struct dir_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            dir_buf_adds(b, "\\\\");
            break;
        case '\t':
            dir_buf_adds(b, "\\t");
            break;
        case '\n':
            dir_buf_adds(b, "\\n");
            break;
        case '\r':
            dir_buf_adds(b, "\\r");
            break;
        default:
            dir_buf_add(b, s, 1);
        }
    }
}

/* Appends US (microseconds since 1970) as a UTC timestamptz literal. */
static void copy_time(struct dir_buf *b, long long us)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    char t[40];
    gmtime_r(&s, &tm);
    strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S", &tm);
    dir_buf_printf(b, "%s.%06lld+00", t, us % 1000000);
}

enum dir_rc dir_db_access_log_write(struct dir_db *db, const struct dir_db_access_row *rows, int n,
                                    char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    struct dir_buf b;
    dir_buf_init(&b, (size_t)1 << 31);
    for (int i = 0; i < n; i++) {
        const struct dir_db_access_row *r = &rows[i];
        copy_time(&b, r->first_us);
        dir_buf_adds(&b, "\t");
        copy_time(&b, r->last_us);
        dir_buf_printf(&b, "\t%d\t", r->reads);
        copy_text(&b, r->actor_kind);
        dir_buf_adds(&b, "\t");
        copy_text(&b, r->actor_id);
        dir_buf_adds(&b, "\t");
        copy_text(&b, r->face);
        dir_buf_adds(&b, "\t");
        copy_text(&b, r->operation);
        dir_buf_adds(&b, "\t{");
        for (int k = 0; k < r->nids; k++)
            dir_buf_printf(&b, k ? ",%lld" : "%lld", r->ids[k]);
        dir_buf_adds(&b, "}\n");
    }
    enum dir_rc rc = DIR_OK;
    PGresult *res = PQexec(c->pg, "COPY access_log (at, last_at, reads, actor_kind, actor_id, "
                                  "face, operation, person_ids) FROM STDIN");
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        dir_dbi_error(err, errlen, "access log", c->pg, res);
        rc = DIR_ERR_DB;
    }
    PQclear(res);
    if (!rc) {
        if (PQputCopyData(c->pg, b.data, (int)b.len) != 1 || PQputCopyEnd(c->pg, NULL) != 1) {
            dir_dbi_error(err, errlen, "access log", c->pg, NULL);
            rc = DIR_ERR_DB;
        }
        while ((res = PQgetResult(c->pg))) {
            if (!rc && PQresultStatus(res) != PGRES_COMMAND_OK) {
                dir_dbi_error(err, errlen, "access log", c->pg, res);
                rc = DIR_ERR_DB;
            }
            PQclear(res);
        }
    }
    dir_buf_free(&b);
    dir_dbi_release(db, c);
    return rc;
}

enum dir_rc dir_db_access_log_maintain(struct dir_db *db, int keep_days, long long *removed,
                                       char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    char days[16];
    snprintf(days, sizeof days, "%d", keep_days);
    const char *p[] = {days};
    PGresult *r = PQexecParams(c->pg, "SELECT dir_access_log_maintain($1::integer)", 1, NULL, p,
                               NULL, NULL, 0);
    enum dir_rc rc = DIR_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        dir_dbi_error(err, errlen, "access log purge", c->pg, r);
        rc = DIR_ERR_DB;
    } else {
        *removed = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    dir_dbi_release(db, c);
    return rc;
}

#define ISO(col) DIR_DBI_ISO(col)

/* One access_log row of the admin's list. */
/* clang-format off */
#define ROW_JSON                                                                                   \
    "json_build_object('id', id, 'at', " ISO("at") ", 'last_at', " ISO("last_at") ", "             \
    "'reads', reads, 'actor_kind', actor_kind, 'actor', actor_id, 'face', face, "                  \
    "'operation', operation, 'people', person_ids)::text"
/* clang-format on */

enum dir_rc dir_db_access_log_list(struct dir_db *db, const struct dir_db_access_filter *f,
                                   char **json_out, char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    char person[24], at[24], id[24], limit[16];
    snprintf(person, sizeof person, "%lld", f->person);
    snprintf(at, sizeof at, "%lld", f->after_at_us);
    snprintf(id, sizeof id, "%lld", f->after_id);
    snprintf(limit, sizeof limit, "%d", f->limit + 1);
    const char *cur_at = f->after_id ? at : NULL, *cur_id = f->after_id ? id : NULL;
    const char *p[] = {
        f->person ? person : NULL, f->actor, f->since, f->until, cur_at, cur_id, limit};
    /* An unnamed statement is planned with these values: the absent filters fold away and
     * the present ones use their index (person_ids GIN, actor_id + at, at + id). */
    PGresult *r = PQexecParams(
        c->pg,
        "SELECT (extract(epoch FROM at) * 1000000)::bigint, id, " ROW_JSON " FROM access_log "
        "WHERE ($1::bigint IS NULL OR person_ids @> ARRAY[$1::bigint]) "
        "AND ($2::text IS NULL OR actor_id = $2) "
        "AND ($3::timestamptz IS NULL OR last_at >= $3::timestamptz) "
        "AND ($4::timestamptz IS NULL OR at < $4::timestamptz) "
        "AND ($6::bigint IS NULL OR (at, id) < (timestamptz 'epoch' + $5::bigint * interval "
        "'1 microsecond', $6::bigint)) "
        "ORDER BY at DESC, id DESC LIMIT $7::integer",
        7, NULL, p, NULL, NULL, 0);
    enum dir_rc rc = DIR_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        dir_dbi_error(err, errlen, "access log", c->pg, r);
        rc = DIR_ERR_DB;
    } else {
        struct dir_buf b;
        dir_buf_init(&b, (size_t)1 << 30);
        int n = PQntuples(r), shown = n > f->limit ? f->limit : n;
        dir_buf_adds(&b, "{\"items\":[");
        for (int i = 0; i < shown; i++) {
            if (i) dir_buf_adds(&b, ",");
            dir_buf_adds(&b, PQgetvalue(r, i, 2));
        }
        if (n > f->limit)
            dir_buf_printf(&b, "],\"next\":\"%s.%s\"}", PQgetvalue(r, shown - 1, 0),
                           PQgetvalue(r, shown - 1, 1));
        else
            dir_buf_adds(&b, "],\"next\":null}");
        *json_out = dir_buf_take(&b, NULL);
    }
    PQclear(r);
    dir_dbi_release(db, c);
    return rc;
}

/* The data-subject report: $1 the person's id, $2 and $3 the period. */
/* clang-format off */
#define REPORT_SQL                                                                                 \
    "SELECT json_build_object("                                                                    \
    "'person', dir_person_json(p.id), "                                                            \
    "'origin', json_build_object('source', p.source, 'ldap_dn', p.ldap_dn, "                       \
    "  'ldap_uuid', p.ldap_uuid, 'username', p.username), "                                        \
    "'staff_role', (SELECT json_build_object('role', s.role, 'set_by', s.set_by, "                 \
    "  'updated_at', " ISO("s.updated_at") ") "                                                    \
    "  FROM staff_role s WHERE s.username = p.username), "                                         \
    "'changes', coalesce((SELECT json_agg(json_build_object('id', a.id, "                          \
    "  'at', " ISO("a.at") ", 'actor_kind', a.actor_kind, 'actor', a.actor, "                      \
    "  'action', a.action, 'before', a.before, 'after', a.after) ORDER BY a.id) "                  \
    "  FROM audit a WHERE a.entity = 'person' AND a.entity_id = p.id::text), '[]'), "              \
    "'reports', coalesce((SELECT json_agg(json_build_object('id', x.id, "                          \
    "  'created_at', " ISO("x.created_at") ", 'message', x.message, 'status', x.status, "          \
    "  'reporter_kind', x.reporter_kind, 'reporter', x.reporter) ORDER BY x.id) "                  \
    "  FROM report x WHERE x.entity = 'person' AND x.entity_id = p.id::text), '[]'), "             \
    "'period', json_build_object('since', " ISO("$2::timestamptz") ", "                            \
    "  'until', " ISO("$3::timestamptz") "), "                                                     \
    "'reads', coalesce((SELECT json_agg(json_build_object('at', " ISO("l.at") ", "                 \
    "  'last_at', " ISO("l.last_at") ", 'actor_kind', l.actor_kind, 'actor', l.actor_id, "         \
    "  'face', l.face, 'operation', l.operation) ORDER BY l.at DESC, l.id DESC) "                  \
    "  FROM access_log l WHERE l.person_ids @> ARRAY[p.id] "                                       \
    "  AND l.last_at >= $2::timestamptz AND l.at < $3::timestamptz), '[]')"                        \
    ")::text FROM person p WHERE p.id = $1::bigint"
/* clang-format on */

enum dir_rc dir_db_person_report(struct dir_db *db, long long id, const char *since,
                                 const char *until, char **json_out, char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = {ids, since, until};
    PGresult *r = PQexecParams(c->pg, REPORT_SQL, 3, NULL, p, NULL, NULL, 0);
    enum dir_rc rc = DIR_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        dir_dbi_error(err, errlen, "data report", c->pg, r);
        rc = DIR_ERR_DB;
    } else if (PQntuples(r) == 0) {
        rc = DIR_ERR_NOTFOUND;
    } else {
        *json_out = dir_xstrdup(PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    dir_dbi_release(db, c);
    return rc;
}
