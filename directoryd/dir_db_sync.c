/* dir_db_sync.c - the db module's side of the staff sync: sync state, run records, and the
 * transaction that applies what the city LDAP says.
 *
 * A sync applies in one transaction (dir_db_sync_begin ... dir_db_sync_end): the per-person
 * upsert and deactivation are SQL functions in schema/migrations/0005_sync.sql (the upsert
 * replaced in 0010_sync_reactivated.sql, planned without sequential scans and called a
 * batch of entries per round trip since 0011_sync_batch.sql, new and unchanged people as
 * sets since 0019_sync_set.sql), which also write the audit rows; triggers add the
 * change-log rows, except for new people, logged once each by dir_sync_people
 * (0020_sync_fast.sql). The run record is created in its
 * own transaction when a run starts, and its counts are added inside the applying
 * transaction, so they always match what committed. Transactions of concurrent syncs (the
 * daemon and `directoryd sync --once`) are serialised with an advisory lock.
 */
#include "dir_db.h"
#include "dir_db_int.h"
#include "dir_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYNC_LOCK "SELECT pg_advisory_xact_lock(7270006)"

struct dir_db_sync {
    struct dir_db *db;
    struct conn *c;
    char err[512];
    enum dir_rc rc;
};

/* Runs SQL with text parameters on PG; NULL with ERR on failure. */
static PGresult *sq(PGconn *pg, const char *sql, int n, const char *const *params, char *err,
                    size_t errlen)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return r;
    dir_dbi_error(err, errlen, "sync", pg, r);
    PQclear(r);
    return NULL;
}

/* Runs SQL in the sync transaction; NULL (and tx->rc set) on failure. */
static PGresult *tq(struct dir_db_sync *tx, const char *sql, int n, const char *const *params)
{
    if (tx->rc)
        return NULL;
    PGresult *r = sq(tx->c->pg, sql, n, params, tx->err, sizeof tx->err);
    if (!r)
        tx->rc = DIR_ERR_DB;
    return r;
}

static json_t *parse_json(const char *text)
{
    return json_loads(text, JSON_DECODE_ANY, NULL);
}

enum dir_rc dir_db_sync_state_get(struct dir_db *db, struct dir_db_sync_state *st, char *err,
                                  size_t errlen)
{
    memset(st, 0, sizeof *st);
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c)
        return DIR_ERR_DB;
    PGresult *r = sq(c->pg,
                     "SELECT coalesce(mode, ''), encode(cookie, 'hex'), coalesce(watermark, ''), "
                     "coalesce(extract(epoch FROM last_full_at)::bigint, 0) FROM sync_state",
                     0, NULL, err, errlen);
    enum dir_rc rc = r ? DIR_OK : DIR_ERR_DB;
    if (r && PQntuples(r) == 1) {
        snprintf(st->mode, sizeof st->mode, "%s", PQgetvalue(r, 0, 0));
        if (!PQgetisnull(r, 0, 1)) {
            const char *hex = PQgetvalue(r, 0, 1);
            size_t n = strlen(hex) / 2;
            st->cookie = dir_xmalloc(n + 1);
            for (size_t i = 0; i < n; i++) {
                unsigned v;
                sscanf(hex + 2 * i, "%2x", &v);
                st->cookie[i] = (char)v;
            }
            st->cookie[n] = '\0';
            st->cookie_len = n;
        }
        snprintf(st->watermark, sizeof st->watermark, "%s", PQgetvalue(r, 0, 2));
        st->last_full_at = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
    }
    PQclear(r);
    dir_dbi_release(db, c);
    return rc;
}

void dir_db_sync_state_free(struct dir_db_sync_state *st)
{
    free(st->cookie);
    st->cookie = NULL;
    st->cookie_len = 0;
}

enum dir_rc dir_db_sync_run_new(struct dir_db *db, const char *mode, const char *trigger,
                                long long *run_id, char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c)
        return DIR_ERR_DB;
    const char *p[] = {mode, trigger};
    PGresult *r = sq(c->pg, "INSERT INTO sync_run (mode, trigger) VALUES ($1, $2) RETURNING id", 2,
                     p, err, errlen);
    if (r)
        *run_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    dir_dbi_release(db, c);
    return r ? DIR_OK : DIR_ERR_DB;
}

static PGresult *run_add(PGconn *pg, long long run_id, const char *status,
                         const struct dir_db_sync_counts *n, const char *errors,
                         const json_t *details, char *err, size_t errlen)
{
    char id[24], v[7][16];
    snprintf(id, sizeof id, "%lld", run_id);
    snprintf(v[0], sizeof v[0], "%d", n ? n->created : 0);
    snprintf(v[1], sizeof v[1], "%d", n ? n->updated : 0);
    snprintf(v[2], sizeof v[2], "%d", n ? n->deactivated : 0);
    snprintf(v[3], sizeof v[3], "%d", n ? n->reactivated : 0);
    snprintf(v[4], sizeof v[4], "%d", n ? n->relinked : 0);
    snprintf(v[5], sizeof v[5], "%d", n ? n->unchanged : 0);
    snprintf(v[6], sizeof v[6], "%d", n ? n->skipped : 0);
    char *d = details ? json_dumps(details, JSON_COMPACT) : NULL;
    const char *p[] = {id, status, v[0], v[1], v[2], v[3], v[4], v[5], v[6], errors, d};
    PGresult *r =
        sq(pg, "SELECT dir_sync_run_add($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)", 11,
           p, err, errlen);
    free(d);
    return r;
}

enum dir_rc dir_db_sync_run_add(struct dir_db *db, long long run_id, const char *status,
                                const struct dir_db_sync_counts *n, const char *errors,
                                const json_t *details, char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c)
        return DIR_ERR_DB;
    PGresult *r = run_add(c->pg, run_id, status, n, errors, details, err, errlen);
    enum dir_rc rc = r ? DIR_OK : DIR_ERR_DB;
    PQclear(r);
    dir_dbi_release(db, c);
    return rc;
}

enum dir_rc dir_db_sync_run_mode(struct dir_db *db, long long run_id, const char *mode, char *err,
                                 size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c)
        return DIR_ERR_DB;
    char id[24];
    snprintf(id, sizeof id, "%lld", run_id);
    const char *p[] = {id, mode};
    PGresult *r = sq(c->pg, "UPDATE sync_run SET mode = $2 WHERE id = $1", 2, p, err, errlen);
    enum dir_rc rc = r ? DIR_OK : DIR_ERR_DB;
    PQclear(r);
    dir_dbi_release(db, c);
    return rc;
}

enum dir_rc dir_db_sync_close_stale_runs(struct dir_db *db, char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c)
        return DIR_ERR_DB;
    PGresult *r = sq(c->pg,
                     "UPDATE sync_run SET status = 'failed', ended_at = clock_timestamp(), "
                     "errors = coalesce(errors, 'interrupted: the process running it stopped') "
                     "WHERE status = 'running'",
                     0, NULL, err, errlen);
    enum dir_rc rc = r ? DIR_OK : DIR_ERR_DB;
    PQclear(r);
    dir_dbi_release(db, c);
    return rc;
}

enum dir_rc dir_db_sync_runs(struct dir_db *db, int limit, long long before_id, char **json_out,
                             char *err, size_t errlen)
{
    char lim[16], before[24];
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(before, sizeof before, "%lld", before_id);
    const char *p[] = {lim, before};
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c)
        return DIR_ERR_DB;
    PGresult *r = sq(c->pg,
                     "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'started_at', "
                     "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
                     "'ended_at', to_char(ended_at AT TIME ZONE 'UTC', "
                     "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'mode', mode, 'status', status, "
                     "'trigger', trigger, 'created', created, 'updated', updated, 'deactivated', "
                     "deactivated, 'reactivated', reactivated, 'relinked', relinked, 'unchanged', unchanged, 'skipped', skipped, 'errors', errors, "
                     "'details', details) ORDER BY id DESC), '[]')::text FROM (SELECT * FROM "
                     "sync_run WHERE ($2::bigint = 0 OR id < $2) ORDER BY id DESC LIMIT $1::int) x",
                     2, p, err, errlen);
    if (r)
        *json_out = dir_xstrdup(PQgetvalue(r, 0, 0));
    enum dir_rc rc = r ? DIR_OK : DIR_ERR_DB;
    PQclear(r);
    dir_dbi_release(db, c);
    return rc;
}

enum dir_rc dir_db_sync_begin(struct dir_db *db, struct dir_db_sync **out, char *err, size_t errlen)
{
    struct dir_db_sync *tx = dir_xcalloc(1, sizeof *tx);
    tx->db = db;
    if (!(tx->c = dir_dbi_acquire(db, err, errlen))) {
        free(tx);
        return DIR_ERR_DB;
    }
    if (!dir_dbi_exec(tx->c->pg, "BEGIN", err, errlen) ||
        !dir_dbi_exec(tx->c->pg, SYNC_LOCK, err, errlen)) {
        char ignore[128];
        dir_dbi_exec(tx->c->pg, "ROLLBACK", ignore, sizeof ignore);
        dir_dbi_release(db, tx->c);
        free(tx);
        return DIR_ERR_DB;
    }
    *out = tx;
    return DIR_OK;
}

const char *dir_db_sync_error(const struct dir_db_sync *tx)
{
    return tx->rc ? tx->err : "";
}

enum dir_rc dir_db_sync_census(struct dir_db_sync *tx, int *total)
{
    PGresult *r = tq(tx, "SELECT count(*) FROM person WHERE source = 'ldap' AND active", 0, NULL);
    if (r)
        *total = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return tx->rc;
}

enum dir_rc dir_db_sync_active(struct dir_db_sync *tx, dir_db_sync_person_fn fn, void *arg)
{
    PGresult *r = tq(tx,
                     "SELECT id, ldap_uuid, username, name_th FROM person "
                     "WHERE source = 'ldap' AND active ORDER BY id",
                     0, NULL);
    for (int i = 0; r && i < PQntuples(r); i++)
        fn(arg, strtoll(PQgetvalue(r, i, 0), NULL, 10), PQgetvalue(r, i, 1),
           PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
    PQclear(r);
    return tx->rc;
}

enum dir_rc dir_db_sync_relink_candidates(struct dir_db_sync *tx, const json_t *entries,
                                          json_t **candidates)
{
    *candidates = NULL;
    /* No synced person yet (a first sync): nobody to re-link, and no need to send every
     * entry to find that out. */
    PGresult *r = tq(tx, "SELECT EXISTS (SELECT 1 FROM person WHERE source = 'ldap')", 0, NULL);
    bool none = r && strcmp(PQgetvalue(r, 0, 0), "f") == 0;
    PQclear(r);
    if (tx->rc || none) {
        *candidates = tx->rc ? NULL : json_array();
        return tx->rc;
    }
    /* Only what the lookup reads: identity, DN, username and e-mail addresses. */
    json_t *slim = json_array(), *e;
    size_t i;
    json_array_foreach(entries, i, e)
    {
        json_t *mails = json_array(), *c;
        size_t k;
        json_array_foreach(json_object_get(e, "contacts"), k, c)
        {
            const char *kind = json_string_value(json_object_get(c, "kind"));
            if (kind && strcmp(kind, "email") == 0) json_array_append(mails, c);
        }
        json_array_append_new(slim, json_pack("{s:O?,s:O?,s:O?,s:o}", "uuid",
                                              json_object_get(e, "uuid"), "dn",
                                              json_object_get(e, "dn"), "username",
                                              json_object_get(e, "username"), "contacts", mails));
    }
    char *list = json_dumps(slim, JSON_COMPACT);
    json_decref(slim);
    const char *p[] = {list};
    r = tq(tx, "SELECT dir_sync_relink_candidates($1::jsonb)::text", 1, p);
    if (r)
        *candidates = parse_json(PQgetvalue(r, 0, 0));
    PQclear(r);
    free(list);
    if (!tx->rc && !json_is_array(*candidates)) {
        json_decref(*candidates);
        *candidates = NULL;
        tx->rc = DIR_ERR_DB;
        snprintf(tx->err, sizeof tx->err, "sync: unreadable list of re-link candidates");
    }
    return tx->rc;
}

enum dir_rc dir_db_sync_relink(struct dir_db_sync *tx, long long id, const char *uuid,
                               const char *dn, bool *done)
{
    char sid[24];
    snprintf(sid, sizeof sid, "%lld", id);
    const char *p[] = {sid, uuid, dn};
    *done = false;
    PGresult *r = tq(tx, "SELECT dir_sync_relink($1, $2, $3)", 3, p);
    if (r)
        *done = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return tx->rc;
}

enum dir_rc dir_db_sync_deleted(struct dir_db_sync *tx, const json_t *uuids, json_t **people)
{
    *people = NULL;
    char *list = json_dumps(uuids, JSON_COMPACT);
    const char *p[] = {list};
    PGresult *r = tq(tx,
                     "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'uuid', ldap_uuid, "
                     "'username', username, 'name_th', name_th) ORDER BY id), '[]')::text "
                     "FROM person WHERE source = 'ldap' AND active AND ldap_uuid IN "
                     "(SELECT jsonb_array_elements_text($1::jsonb))",
                     1, p);
    if (r)
        *people = parse_json(PQgetvalue(r, 0, 0));
    PQclear(r);
    free(list);
    if (!tx->rc && !*people) {
        tx->rc = DIR_ERR_DB;
        snprintf(tx->err, sizeof tx->err, "sync: unreadable list of deleted people");
    }
    return tx->rc;
}

enum dir_rc dir_db_sync_put(struct dir_db_sync *tx, const json_t *entry, json_t **result)
{
    char *e = json_dumps(entry, JSON_COMPACT);
    const char *p[] = {e};
    PGresult *r = tq(tx, "SELECT dir_sync_person($1::jsonb)::text", 1, p);
    free(e);
    if (r)
        *result = parse_json(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!tx->rc && !*result) {
        tx->rc = DIR_ERR_DB;
        snprintf(tx->err, sizeof tx->err, "sync: unreadable upsert result");
    }
    return tx->rc;
}

enum dir_rc dir_db_sync_put_many(struct dir_db_sync *tx, const json_t *entries, json_t **results)
{
    *results = NULL;
    char *e = json_dumps(entries, JSON_COMPACT);
    const char *p[] = {e};
    PGresult *r = tq(tx, "SELECT dir_sync_people($1::jsonb)::text", 1, p);
    free(e);
    if (r)
        *results = parse_json(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!tx->rc &&
        (!json_is_array(*results) || json_array_size(*results) != json_array_size(entries))) {
        json_decref(*results);
        *results = NULL;
        tx->rc = DIR_ERR_DB;
        snprintf(tx->err, sizeof tx->err, "sync: unreadable batch upsert result");
    }
    return tx->rc;
}

enum dir_rc dir_db_sync_deactivate(struct dir_db_sync *tx, long long id, bool *done)
{
    char sid[24];
    snprintf(sid, sizeof sid, "%lld", id);
    const char *p[] = {sid};
    PGresult *r = tq(tx, "SELECT dir_sync_deactivate($1)", 1, p);
    if (r)
        *done = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return tx->rc;
}

enum dir_rc dir_db_sync_save_state(struct dir_db_sync *tx, const char *mode, const char *cookie,
                                   size_t cookie_len, const char *watermark, bool full)
{
    char *hex = NULL;
    if (cookie) {
        hex = dir_xmalloc(cookie_len * 2 + 1);
        for (size_t i = 0; i < cookie_len; i++)
            snprintf(hex + 2 * i, 3, "%02x", (unsigned char)cookie[i]);
        hex[cookie_len * 2] = '\0';
    }
    const char *p[] = {mode, hex, watermark && *watermark ? watermark : NULL,
                       full ? "true" : "false"};
    PGresult *r = tq(tx,
                     "INSERT INTO sync_state AS s (id, mode, cookie, watermark, last_full_at) "
                     "VALUES (1, $1, decode($2, 'hex'), $3, CASE WHEN $4::boolean THEN now() END) "
                     "ON CONFLICT (id) DO UPDATE SET mode = EXCLUDED.mode, "
                     "cookie = coalesce(EXCLUDED.cookie, s.cookie), "
                     "watermark = coalesce(EXCLUDED.watermark, s.watermark), "
                     "last_full_at = coalesce(EXCLUDED.last_full_at, s.last_full_at), "
                     "updated_at = now()",
                     4, p);
    PQclear(r);
    free(hex);
    return tx->rc;
}

enum dir_rc dir_db_sync_forget_cookie(struct dir_db *db, char *err, size_t errlen)
{
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c)
        return DIR_ERR_DB;
    PGresult *r =
        sq(c->pg, "UPDATE sync_state SET cookie = NULL, updated_at = now()", 0, NULL, err, errlen);
    enum dir_rc rc = r ? DIR_OK : DIR_ERR_DB;
    PQclear(r);
    dir_dbi_release(db, c);
    return rc;
}

enum dir_rc dir_db_sync_tx_run_add(struct dir_db_sync *tx, long long run_id, const char *status,
                                   const struct dir_db_sync_counts *n, const char *errors,
                                   const json_t *details)
{
    if (tx->rc)
        return tx->rc;
    PGresult *r = run_add(tx->c->pg, run_id, status, n, errors, details, tx->err, sizeof tx->err);
    if (!r)
        tx->rc = DIR_ERR_DB;
    PQclear(r);
    return tx->rc;
}

enum dir_rc dir_db_sync_end(struct dir_db_sync *tx, bool commit, char *err, size_t errlen)
{
    char ignore[128];
    enum dir_rc rc = tx->rc;
    if (rc)
        snprintf(err, errlen, "%s", tx->err);
    if (!rc && commit) {
        if (!dir_dbi_exec(tx->c->pg, "COMMIT", err, errlen))
            rc = DIR_ERR_DB;
    } else {
        dir_dbi_exec(tx->c->pg, "ROLLBACK", ignore, sizeof ignore);
    }
    dir_dbi_release(tx->db, tx->c);
    free(tx);
    return rc;
}
