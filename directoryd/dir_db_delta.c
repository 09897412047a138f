/* dir_db_delta.c - reads a change-log delta: the rows of the entities changed since a
 * snapshot, for dir_model_apply (see dir_model_apply.c for the design). */
#include "dir_db.h"
#include "dir_db_int.h"
#include "dir_mem.h"
#include "dir_model.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum dstmt {
    DS_SEQ,
    DS_LOG,
    DS_ORGS,
    DS_CONTACTS,
    DS_OFFERINGS,
    DS_OFFERING_GROUPS,
    DS_OFFERING_AREAS,
    DS_HOURS,
    DS_PEOPLE,
    DS_MEMBERSHIPS,
    DS_MEMBERSHIP_AREAS,
    DS_PROGRAMMES,
    DS_PROGRAMME_AREAS,
    DS_PROGRAMME_ORGS,
    DS_REVOKED,
    DS_CLIENTS,
    DS_COUNT
};
_Static_assert(DIR_DBI_SLOT_DELTA + DS_COUNT <= DIR_DBI_SLOT_DELTA + 16, "delta statements fit in 80..95");

/* The same columns and order as the full load's statements in dir_db.c, restricted to the
 * changed entities (organisation ids, person ids, or both for contact points, as bigint[]
 * literals). */
static const char *dstmt_sql[DS_COUNT] = {
    [DS_SEQ] = "SELECT coalesce(max(seq), 0) FROM change_log",
    [DS_LOG] = "SELECT seq, entity, entity_id, op, " DIR_DBI_ISO(
        "changed_at") " FROM change_log "
                      "WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
    [DS_ORGS] = "SELECT " DIR_DBI_ORG_COLS " FROM organization WHERE id = ANY($1::bigint[])",
    [DS_CONTACTS] = "SELECT coalesce(organization_id, 0), coalesce(person_id, 0), kind, value, "
                    "extension, label_th, label_en, is_public FROM contact_point "
                    "WHERE organization_id = ANY($1::bigint[]) OR person_id = ANY($2::bigint[]) "
                    "ORDER BY position, id",
    [DS_OFFERINGS] = "SELECT id, organization_id, service_code FROM offering "
                     "WHERE organization_id = ANY($1::bigint[]) ORDER BY id",
    [DS_OFFERING_GROUPS] = "SELECT t.offering_id, t.target_group_code FROM offering_target_group t "
                           "JOIN offering o ON o.id = t.offering_id "
                           "WHERE o.organization_id = ANY($1::bigint[])",
    [DS_OFFERING_AREAS] = "SELECT a.offering_id, a.area_code, a.group_code FROM offering_area a "
                          "JOIN offering o ON o.id = a.offering_id "
                          "WHERE o.organization_id = ANY($1::bigint[]) "
                          "ORDER BY a.offering_id, coalesce(a.area_code, a.group_code)",
    [DS_HOURS] = "SELECT organization_id, hours::text FROM schedule_json "
                 "WHERE organization_id = ANY($1::bigint[])",
    [DS_PEOPLE] = "SELECT " DIR_DBI_PERSON_COLS " FROM person WHERE id = ANY($1::bigint[])",
    [DS_MEMBERSHIPS] = "SELECT id, person_id, organization_id, team_role, title_th, title_en "
                       "FROM membership WHERE person_id = ANY($1::bigint[]) "
                       "ORDER BY is_primary DESC, id",
    [DS_MEMBERSHIP_AREAS] = "SELECT a.membership_id, a.area_code, a.group_code "
                            "FROM membership_area a JOIN membership m ON m.id = a.membership_id "
                            "WHERE m.person_id = ANY($1::bigint[]) "
                            "ORDER BY a.membership_id, coalesce(a.area_code, a.group_code)",
    [DS_PROGRAMMES] = "SELECT id, ref, name_th, name_en, description_th, description_en, source, "
                      "start_year, end_year, version FROM programme",
    [DS_PROGRAMME_AREAS] = "SELECT programme_id, area_code FROM programme_area "
                           "ORDER BY programme_id, area_code",
    [DS_PROGRAMME_ORGS] = "SELECT programme_id, organization_id, role_th, role_en "
                          "FROM programme_organization ORDER BY programme_id, organization_id",
    [DS_REVOKED] = "SELECT sid FROM session_revoked WHERE expires_at > now()",
    [DS_CLIENTS] = "SELECT name, role, encode(secret_hash, 'hex'), "
                   "coalesce(extract(epoch FROM expires_at)::bigint, 0), revoked_at IS NOT NULL "
                   "FROM api_client",
};

static PGresult *drun(struct conn *c, enum dstmt st, int n, const char *const *params, char *err,
                      size_t errlen)
{
    return dir_dbi_run(c, DIR_DBI_SLOT_DELTA + (int)st, dstmt_sql[st], n, params, err, errlen);
}

struct ids {
    long long *v;
    int n, cap;
};
static void ids_add(struct ids *s, const char *text)
{
    char *end;
    long long x = text ? strtoll(text, &end, 10) : 0;
    if (!text || *end || x <= 0) return;
    for (int i = 0; i < s->n; i++) /* changes come one or a few at a time */
        if (s->v[i] == x) return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = dir_xrealloc(s->v, sizeof *s->v * (size_t)s->cap);
    }
    s->v[s->n++] = x;
}
/* '{1,2,3}' */
static char *ids_literal(const struct ids *s)
{
    size_t cap = 3 + (size_t)s->n * 21, k = 0;
    char *out = dir_xmalloc(cap);
    out[k++] = '{';
    for (int i = 0; i < s->n; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%lld", i ? "," : "", s->v[i]);
    out[k++] = '}';
    out[k] = '\0';
    return out;
}

static const struct {
    enum dstmt st;
    enum dir_dbi_rows rows;
    int need; /* 1 orgs, 2 people, 4 programmes, 8 revoked, 16 clients */
    int args; /* 0 none, 1 organisation ids, 2 person ids, 3 both */
} reads[] = {
    {DS_ORGS, DIR_ROWS_ORGS, 1, 1},
    {DS_CONTACTS, DIR_ROWS_CONTACTS, 1 | 2, 3},
    {DS_OFFERINGS, DIR_ROWS_OFFERINGS, 1, 1},
    {DS_OFFERING_GROUPS, DIR_ROWS_OFFERING_GROUPS, 1, 1},
    {DS_OFFERING_AREAS, DIR_ROWS_OFFERING_AREAS, 1, 1},
    {DS_HOURS, DIR_ROWS_HOURS, 1, 1},
    {DS_PEOPLE, DIR_ROWS_PEOPLE, 2, 2},
    {DS_MEMBERSHIPS, DIR_ROWS_MEMBERSHIPS, 2, 2},
    {DS_MEMBERSHIP_AREAS, DIR_ROWS_MEMBERSHIP_AREAS, 2, 2},
    {DS_PROGRAMMES, DIR_ROWS_PROGRAMMES, 4, 0},
    {DS_PROGRAMME_AREAS, DIR_ROWS_PROGRAMME_AREAS, 4, 0},
    {DS_PROGRAMME_ORGS, DIR_ROWS_PROGRAMME_ORGS, 4, 0},
    {DS_REVOKED, DIR_ROWS_REVOKED, 8, 0},
    {DS_CLIENTS, DIR_ROWS_CLIENTS, 16, 0},
};

static enum dir_rc read_delta(struct conn *c, const struct dir_model *old, int max_changes,
                              struct dir_model_builder *b, struct ids *orgs, struct ids *people,
                              int *need, long long *seq, int *nchanges, char *err, size_t errlen)
{
    PGresult *r = drun(c, DS_SEQ, 0, NULL, err, errlen);
    if (!r) return DIR_ERR_DB;
    *seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    if (*seq == old->seq) return DIR_OK;
    char since[24], upto[24], limit[24];
    snprintf(since, sizeof since, "%lld", old->seq);
    snprintf(upto, sizeof upto, "%lld", *seq);
    snprintf(limit, sizeof limit, "%d", max_changes + 1);
    const char *lp[] = {since, upto, limit};
    if (!(r = drun(c, DS_LOG, 3, lp, err, errlen))) return DIR_ERR_DB;
    int n = *nchanges = PQntuples(r);
    enum dir_rc rc = DIR_OK;
    if (n > max_changes) {
        snprintf(err, errlen, "more than %d changes", max_changes);
        rc = DIR_ERR_STATE;
    }
    for (int i = 0; !rc && i < n; i++) {
        const char *ent = PQgetvalue(r, i, 1), *id = PQgetvalue(r, i, 2);
        if (strcmp(ent, "organization") == 0) {
            ids_add(orgs, id);
            *need |= 1 | 4; /* programmes show their organisations' names */
        } else if (strcmp(ent, "person") == 0) {
            ids_add(people, id);
            *need |= 2;
        } else if (strcmp(ent, "programme") == 0) {
            *need |= 4;
        } else if (strcmp(ent, "session") == 0) {
            *need |= 8;
        } else if (strcmp(ent, "api_client") == 0) {
            *need |= 16;
        } else {
            snprintf(err, errlen, "a change of %s", ent);
            rc = DIR_ERR_STATE;
        }
        if (!rc && strcmp(ent, "session") != 0 && strcmp(ent, "api_client") != 0)
            dir_model_add_change(b, strtoll(PQgetvalue(r, i, 0), NULL, 10), ent, id,
                                 PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
    }
    PQclear(r);
    if (rc) return rc;
    char *ol = ids_literal(orgs), *pl = ids_literal(people);
    const char *both[] = {ol, pl};
    for (size_t k = 0; !rc && k < sizeof reads / sizeof reads[0]; k++) {
        if (!(*need & reads[k].need)) continue;
        int a = reads[k].args;
        const char *const *params = a == 3 ? both : a == 2 ? both + 1 : both;
        if (!(r = drun(c, reads[k].st, a == 3 ? 2 : a ? 1 : 0, params, err, errlen))) {
            rc = DIR_ERR_DB;
            break;
        }
        dir_dbi_add_rows(reads[k].rows, b, r);
        PQclear(r);
    }
    free(ol);
    free(pl);
    return rc;
}

enum dir_rc dir_db_apply_changes(struct dir_db *db, const struct dir_model *old, int max_changes,
                                 int changes_kept, struct dir_model **out, int *nchanges, char *err,
                                 size_t errlen)
{
    *out = NULL;
    *nchanges = 0;
    struct conn *c = dir_dbi_acquire(db, err, errlen);
    if (!c) return DIR_ERR_DB;
    struct dir_model_builder *b = dir_model_builder_new(old->stale_days);
    struct ids orgs = {0}, people = {0};
    int need = 0;
    long long seq = old->seq;
    char ignore[128];
    enum dir_rc rc = DIR_OK;
    if (!dir_dbi_exec(c->pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen))
        rc = DIR_ERR_DB;
    if (!rc)
        rc = read_delta(c, old, max_changes, b, &orgs, &people, &need, &seq, nchanges, err, errlen);
    dir_dbi_exec(c->pg, rc ? "ROLLBACK" : "COMMIT", ignore, sizeof ignore);
    dir_dbi_release(db, c);
    if (!rc && seq != old->seq) {
        struct dir_model_delta d = {.org_ids = orgs.v,
                                    .norg_ids = orgs.n,
                                    .person_ids = people.v,
                                    .nperson_ids = people.n,
                                    .programmes = need & 4,
                                    .revoked = need & 8,
                                    .clients = need & 16,
                                    .changes_kept = changes_kept};
        rc = dir_model_apply(old, b, &d, seq, out, err, errlen);
        b = NULL; /* consumed */
    }
    dir_model_builder_free(b);
    free(orgs.v);
    free(people.v);
    return rc;
}
