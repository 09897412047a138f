/* dir_db_admin.c - the db module's admin side: local accounts managed over HTTP (list,
 * create, new password, disable, enable; each change audited in its own transaction, never
 * with the password or its hash) and the last use of API clients. */
#include "dir_db.h"
#include "dir_db_int.h"
#include "dir_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one account looks like in answers and audit rows (never the hash). */
#define ACCOUNT_JSON                                                                               \
    "jsonb_build_object('username', username, 'display_name', display_name, 'role', role, "        \
    "'disabled', disabled, 'disabled_at', disabled_at, 'created_at', created_at, "                 \
    "'updated_at', updated_at)"

struct atx {
    struct conn *c;
    enum dir_rc rc; /* the first failure */
    char *err;
    size_t errlen;
};

/* Runs SQL with text parameters; NULL (and T->rc set) on failure: integrity violations
 * (SQLSTATE classes 23 and 22) are DIR_ERR_INVALID, anything else DIR_ERR_DB. */
static PGresult *aq(struct atx *t, const char *sql, int n, const char *const *params)
{
    if (t->rc) return NULL;
    PGresult *r = PQexecParams(t->c->pg, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (state && (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)) {
        t->rc = DIR_ERR_INVALID;
        snprintf(t->err, t->errlen, "%s", detail ? detail : "invalid value");
    } else {
        t->rc = DIR_ERR_DB;
        dir_dbi_error(t->err, t->errlen, "admin", t->c->pg, r);
    }
    PQclear(r);
    return NULL;
}

static bool begin(struct atx *t, struct dir_db *db)
{
    if (!(t->c = dir_dbi_acquire(db, t->err, t->errlen))) {
        t->rc = DIR_ERR_DB;
        return false;
    }
    if (!dir_dbi_exec(t->c->pg, "BEGIN", t->err, t->errlen)) t->rc = DIR_ERR_DB;
    return true;
}

static enum dir_rc end(struct atx *t, struct dir_db *db)
{
    char ignore[128];
    if (!t->c) return t->rc;
    if (!t->rc) {
        if (!dir_dbi_exec(t->c->pg, "COMMIT", t->err, t->errlen)) t->rc = DIR_ERR_DB;
    } else {
        dir_dbi_exec(t->c->pg, "ROLLBACK", ignore, sizeof ignore);
    }
    dir_dbi_release(db, t->c);
    return t->rc;
}

static void audit(struct atx *t, const struct dir_db_actor *a, const char *id, const char *action,
                  const char *before, const char *after)
{
    const char *p[] = {a->kind, a->name, a->address, "local_account", id, action, before, after};
    PGresult *r = aq(t,
                     "INSERT INTO audit (actor_kind, actor, address, entity, entity_id, action, "
                     "before, after) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)",
                     8, p);
    PQclear(r);
}

enum dir_rc dir_db_accounts_list(struct dir_db *db, char **json_out, char *err, size_t errlen)
{
    struct atx t = {.err = err, .errlen = errlen};
    if (!(t.c = dir_dbi_acquire(db, err, errlen))) return DIR_ERR_DB;
    PGresult *r = aq(&t,
                     "SELECT coalesce(jsonb_agg(" ACCOUNT_JSON " ORDER BY username), "
                     "'[]')::text FROM local_account",
                     0, NULL);
    if (r) *json_out = dir_xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    dir_dbi_release(db, t.c);
    return t.rc;
}

enum dir_rc dir_db_account_create(struct dir_db *db, const struct dir_db_actor *actor,
                                  const char *username, const char *hash, const char *role,
                                  const char *display_name, char **json_out, char *err,
                                  size_t errlen)
{
    struct atx t = {.err = err, .errlen = errlen};
    const char *p[] = {username, hash, role, display_name};
    if (begin(&t, db)) {
        PGresult *r = aq(&t,
                         "INSERT INTO local_account (username, password_hash, role, display_name) "
                         "VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING "
                         "RETURNING " ACCOUNT_JSON "::text",
                         4, p);
        if (r && PQntuples(r) == 0) {
            t.rc = DIR_ERR_STATE;
            snprintf(err, errlen, "a local account named %s exists already", username);
        } else if (r) {
            audit(&t, actor, username, "create", NULL, PQgetvalue(r, 0, 0));
            if (!t.rc) *json_out = dir_xstrdup(PQgetvalue(r, 0, 0));
        }
        PQclear(r);
    }
    enum dir_rc rc = end(&t, db);
    if (rc && *json_out) {
        free(*json_out);
        *json_out = NULL;
    }
    return rc;
}

/* One change of an existing account by SQL (parameters USERNAME and, for a new password,
 * the hash) returning its JSON after; audited as ACTION with the JSON before and after. */
static enum dir_rc account_change(struct dir_db *db, const struct dir_db_actor *actor,
                                  const char *username, const char *sql, const char *hash,
                                  const char *action, char **json_out, char *err, size_t errlen)
{
    struct atx t = {.err = err, .errlen = errlen};
    const char *p[] = {username, hash};
    if (begin(&t, db)) {
        PGresult *b = aq(&t,
                         "SELECT " ACCOUNT_JSON "::text FROM local_account WHERE username = $1 "
                         "FOR UPDATE",
                         1, p);
        if (b && PQntuples(b) == 0) {
            t.rc = DIR_ERR_NOTFOUND;
            snprintf(err, errlen, "no local account %s", username);
        }
        PGresult *r = aq(&t, sql, hash ? 2 : 1, p);
        if (r && PQntuples(r) == 1) {
            audit(&t, actor, username, action, PQgetvalue(b, 0, 0), PQgetvalue(r, 0, 0));
            if (!t.rc) *json_out = dir_xstrdup(PQgetvalue(r, 0, 0));
        }
        PQclear(b);
        PQclear(r);
    }
    enum dir_rc rc = end(&t, db);
    if (rc && *json_out) {
        free(*json_out);
        *json_out = NULL;
    }
    return rc;
}

enum dir_rc dir_db_account_password(struct dir_db *db, const struct dir_db_actor *actor,
                                    const char *username, const char *hash, char **json_out,
                                    char *err, size_t errlen)
{
    return account_change(db, actor, username,
                          "UPDATE local_account SET password_hash = $2, updated_at = now() "
                          "WHERE username = $1 RETURNING " ACCOUNT_JSON "::text",
                          hash, "password", json_out, err, errlen);
}

enum dir_rc dir_db_account_disable(struct dir_db *db, const struct dir_db_actor *actor,
                                   const char *username, bool disabled, char **json_out, char *err,
                                   size_t errlen)
{
    return account_change(
        db, actor, username,
        disabled ? "UPDATE local_account SET disabled = true, disabled_at = "
                   "coalesce(disabled_at, now()), updated_at = now() WHERE username = $1 "
                   "RETURNING " ACCOUNT_JSON "::text"
                 : "UPDATE local_account SET disabled = false, disabled_at = NULL, "
                   "updated_at = now() WHERE username = $1 RETURNING " ACCOUNT_JSON "::text",
        NULL, disabled ? "disable" : "enable", json_out, err, errlen);
}

enum dir_rc dir_db_client_used(struct dir_db *db, const char *name, long long at, char *err,
                               size_t errlen)
{
    struct atx t = {.err = err, .errlen = errlen};
    char ats[24];
    snprintf(ats, sizeof ats, "%lld", at);
    const char *p[] = {name, ats};
    if (!(t.c = dir_dbi_acquire(db, err, errlen))) return DIR_ERR_DB;
    PGresult *r = aq(&t,
                     "INSERT INTO api_client_use (client_id, last_used_at) "
                     "SELECT id, to_timestamp($2::bigint) FROM api_client WHERE name = $1 "
                     "ON CONFLICT (client_id) DO UPDATE SET last_used_at = "
                     "greatest(api_client_use.last_used_at, EXCLUDED.last_used_at)",
                     2, p);
    PQclear(r);
    dir_dbi_release(db, t.c);
    return t.rc;
}

enum dir_rc dir_db_staff_roles_list(struct dir_db *db, char **json_out, char *err, size_t errlen)
{
    struct atx t = {.err = err, .errlen = errlen};
    if (!(t.c = dir_dbi_acquire(db, err, errlen))) return DIR_ERR_DB;
    PGresult *r = aq(&t,
                     "SELECT coalesce(jsonb_agg(jsonb_build_object('username', s.username, "
                     "'role', s.role, 'set_by', s.set_by, 'updated_at', s.updated_at, "
                     "'person_id', p.id, 'name_th', p.name_th, 'name_en', p.name_en) "
                     "ORDER BY s.username), '[]')::text FROM staff_role s "
                     "LEFT JOIN person p ON p.username = s.username",
                     0, NULL);
    if (r) *json_out = dir_xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    dir_dbi_release(db, t.c);
    return t.rc;
}
