/* dir_sync_apply.c - applying what one read of the city LDAP said, through the db module
 * (dir_db_sync.c): who is gone, the guard, the changes, the resume point and the run's
 * counts, in one PostgreSQL transaction.
 *
 * Who is gone: the people the server named deleted (RFC 4533 delete states and syncIdSets
 * with refreshDeletes, the delete phase of 3.3.2), and, after a full read or a refresh that
 * ended in a present phase (3.3.1), every active synced person whose entryUUID the read did
 * not name (sent, or named present). The guard (sync_max_deactivate_pct) judges them all at
 * once, before anything is written: a run past it changes nothing, keeps the cookie (so the
 * next run sees the same deletions) and lists who would have gone.
 *
 * The counts are what the transaction did, person by person (dir_sync_person's answer):
 * created, updated, reactivated (inactive, named again), relinked, deactivated, unchanged
 * (sent and unchanged, or named present) and skipped. A dry run does the same in a
 * transaction it rolls back, so its counts are what the real run would do. A run that
 * skipped more than the guard's share of what it read commits as 'attention'.
 *
 * A rebuilt city LDAP brings the same staff back under new identities: an entry with a new
 * uuid whose username (or LDAP e-mail) belongs to a synced person is a re-link candidate,
 * skipped and listed until an admin asks for a re-link, which moves the identity to the
 * person (dir_sync_relink in 0010_sync_relink.sql) before the entry is applied.
 */
#include "dir_sync_int.h"
#include "dir_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUT_BATCH 1000 /* entries upserted per round trip */
#define HOLD_S 2       /* persist holds deletions this long, to judge a mass deletion whole */

struct tally {
    struct dir_db_sync_counts n;
    double ms_apply, ms_deactivate; /* time spent upserting and deactivating */
    json_t *created, *updated, *reactivated, *relinked, *deactivated, *skipped;
    int truncated;
};

static void tally_init(struct tally *t)
{
    memset(t, 0, sizeof *t);
    t->created = json_array();
    t->updated = json_array();
    t->reactivated = json_array();
    t->relinked = json_array();
    t->deactivated = json_array();
    t->skipped = json_array();
}

static void tally_free(struct tally *t)
{
    json_decref(t->created);
    json_decref(t->updated);
    json_decref(t->reactivated);
    json_decref(t->relinked);
    json_decref(t->deactivated);
    json_decref(t->skipped);
}

static void tally_clear(struct tally *t)
{
    memset(&t->n, 0, sizeof t->n);
    json_array_clear(t->created);
    json_array_clear(t->updated);
    json_array_clear(t->reactivated);
    json_array_clear(t->relinked);
    json_array_clear(t->deactivated);
    json_array_clear(t->skipped);
    t->truncated = 0;
}

static void list_add(struct tally *t, json_t *list, json_t *item)
{
    if (json_array_size(list) < DIR_SYNC_LIST_CAP)
        json_array_append_new(list, item);
    else {
        t->truncated++;
        json_decref(item);
    }
}

/* The details object of a run: the lists plus EXTRA's keys (consumed; may be NULL). */
static json_t *tally_details(const struct tally *t, json_t *extra)
{
    json_t *d = extra ? extra : json_object();
    json_object_set(d, "created", t->created);
    json_object_set(d, "updated", t->updated);
    json_object_set(d, "reactivated", t->reactivated);
    json_object_set(d, "relinked", t->relinked);
    json_object_set(d, "deactivated", t->deactivated);
    json_object_set(d, "skipped", t->skipped);
    if (t->truncated) json_object_set_new(d, "lists_truncated", json_integer(t->truncated));
    return d;
}

/* The counts N as a new JSON object. */
static json_t *counts_json(const struct dir_db_sync_counts *n)
{
    return json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "created", n->created, "updated",
                     n->updated, "deactivated", n->deactivated, "reactivated", n->reactivated,
                     "relinked", n->relinked, "unchanged", n->unchanged, "skipped", n->skipped);
}

/* At most DIR_SYNC_LIST_CAP of PEOPLE (a new reference). */
static json_t *capped(json_t *people)
{
    if (json_array_size(people) <= DIR_SYNC_LIST_CAP) return json_incref(people);
    json_t *c = json_array();
    for (size_t i = 0; i < DIR_SYNC_LIST_CAP; i++)
        json_array_append(c, json_array_get(people, i));
    return c;
}

/* Counts entry E of a batch into T: a re-link candidate skipped (CANDS, RELINKING), or the
 * next of RES (the batch's upsert results; *K is the next one's index). */
static void count_entry(struct tally *t, json_t *e, const json_t *cands, bool relinking,
                        bool dry_run, json_t *res, size_t *k)
{
    json_t *moved_from =
        cands ? json_object_get(cands, json_string_value(json_object_get(e, "uuid"))) : NULL;
    if (moved_from && !relinking) {
        json_t *who =
            json_pack("{s:O,s:O,s:O,s:O,s:s++}", "uuid", json_object_get(e, "uuid"), "username",
                      json_object_get(e, "username"), "name_th", json_object_get(e, "name_th"),
                      "dn", json_object_get(e, "dn"), "reason", "its ",
                      json_string_value(json_object_get(moved_from, "by")),
                      " belongs to a synced person with another LDAP identity "
                      "(a rebuilt city LDAP? see relink_candidates)");
        t->n.skipped++;
        list_add(t, t->skipped, who);
        return;
    }
    json_t *r = json_array_get(res, (*k)++);
    const char *op = json_string_value(json_object_get(r, "op"));
    op = op ? op : "";
    json_t *who =
        json_pack("{s:O,s:O,s:O}", "uuid", json_object_get(e, "uuid"), "username",
                  json_object_get(e, "username"), "name_th", json_object_get(e, "name_th"));
    if (!dry_run || strcmp(op, "created") != 0)
        json_object_set(who, "id", json_object_get(r, "id"));
    if (json_is_true(json_object_get(r, "moved")))
        json_object_set(who, "unit", json_object_get(e, "unit"));
    if (moved_from && strcmp(op, "skipped") != 0) {
        t->n.relinked++;
        json_object_set(who, "old_uuid", json_object_get(moved_from, "old_uuid"));
        json_object_set(who, "by", json_object_get(moved_from, "by"));
        if (strcmp(op, "reactivated") == 0) json_object_set_new(who, "reactivated", json_true());
        list_add(t, t->relinked, who);
    } else if (strcmp(op, "created") == 0) {
        t->n.created++;
        list_add(t, t->created, who);
    } else if (strcmp(op, "updated") == 0) {
        t->n.updated++;
        list_add(t, t->updated, who);
    } else if (strcmp(op, "reactivated") == 0) {
        t->n.reactivated++;
        list_add(t, t->reactivated, who);
    } else if (strcmp(op, "unchanged") == 0) {
        t->n.unchanged++;
        json_decref(who);
    } else {
        t->n.skipped++;
        json_object_set(who, "dn", json_object_get(e, "dn"));
        json_object_set(who, "reason", json_object_get(r, "reason"));
        list_add(t, t->skipped, who);
    }
}

/* Upserts IN's entries (PUT_BATCH per round trip) and deactivates the people in MISSING, counting
 * into T. CANDS (may be NULL): re-link candidates by new uuid; with RELINKING they were re-linked
 * (the entry counts as relinked), without, the entry is skipped: it is not a new person until an
 * admin says it is not the same one. */
static enum dir_rc apply_changes(struct dir_db_sync *tx, struct dir_sync_intake *in,
                                 json_t *missing, const json_t *cands, bool relinking, bool dry_run,
                                 struct tally *t)
{
    size_t i;
    json_t *e, *p;
    json_array_foreach(in->skipped, i, e)
    {
        t->n.skipped++;
        list_add(t, t->skipped, json_incref(e));
    }
    size_t n = json_array_size(in->entries), end, k;
    json_t *todo = json_array();
    double t0 = dir_sync_now_ms();
    for (size_t start = 0; start < n; start = end) {
        /* The entries of this batch that are upserted, in one round trip. */
        end = start + PUT_BATCH < n ? start + PUT_BATCH : n;
        json_array_clear(todo);
        for (i = start; i < end; i++) {
            e = json_array_get(in->entries, i);
            if (!cands || relinking ||
                !json_object_get(cands, json_string_value(json_object_get(e, "uuid"))))
                json_array_append(todo, e);
        }
        json_t *res = NULL;
        if (json_array_size(todo) && dir_db_sync_put_many(tx, todo, &res)) {
            json_decref(todo);
            return DIR_ERR_DB;
        }
        for (i = start, k = 0; i < end; i++)
            count_entry(t, json_array_get(in->entries, i), cands, relinking, dry_run, res, &k);
        json_decref(res);
    }
    json_decref(todo);
    double t1 = dir_sync_now_ms();
    t->ms_apply += t1 - t0;
    json_array_foreach(missing, i, p)
    {
        bool done = false;
        if (dir_db_sync_deactivate(tx, json_integer_value(json_object_get(p, "id")), &done))
            return DIR_ERR_DB;
        if (done) {
            t->n.deactivated++;
            list_add(t, t->deactivated, json_incref(p));
        }
    }
    t->ms_deactivate += dir_sync_now_ms() - t1;
    return DIR_OK;
}

/* ---- who is gone ---- */

struct gone {
    const struct dir_sync_seen *seen; /* what the read named */
    struct dir_sync_seen *deleted;    /* the people already in MISSING */
    json_t *missing;
    int confirmed;
};

static void gone_one(void *arg, long long id, const char *uuid, const char *username,
                     const char *name_th)
{
    struct gone *g = arg;
    if (dir_sync_seen_get(g->deleted, uuid) != DIR_SYNC_SEEN_NONE) return;
    enum dir_sync_seen_kind k = dir_sync_seen_get(g->seen, uuid);
    if (k == DIR_SYNC_SEEN_PRESENT) {
        g->confirmed++;
    } else if (k == DIR_SYNC_SEEN_NONE) {
        json_t *p = json_pack("{s:I,s:s,s:s?,s:s}", "id", (json_int_t)id, "uuid", uuid, "username",
                              username, "name_th", name_th);
        if (p) json_array_append_new(g->missing, p);
    }
}

/* The active synced people IN takes away, as a new array in *MISSING: those the server
 * named deleted, then, with OMISSIONS (a full read, or a present phase that ended), those
 * IN did not name. *CONFIRMED: the active synced people named present only (unchanged). */
static enum dir_rc gone_people(struct dir_db_sync *tx, struct dir_sync_intake *in, bool omissions,
                               json_t **missing, int *confirmed)
{
    *confirmed = 0;
    *missing = NULL;
    if (json_array_size(in->deleted)) {
        if (dir_db_sync_deleted(tx, in->deleted, missing)) return DIR_ERR_DB;
    } else {
        *missing = json_array();
    }
    if (!omissions) return DIR_OK;
    struct gone g = {in->seen, dir_sync_seen_new(), *missing, 0};
    size_t i;
    json_t *p;
    json_array_foreach(*missing, i, p)
    {
        const char *uuid = json_string_value(json_object_get(p, "uuid"));
        dir_sync_seen_add(g.deleted, uuid, DIR_SYNC_SEEN_SENT);
    }
    enum dir_rc rc = dir_db_sync_active(tx, gone_one, &g);
    dir_sync_seen_free(g.deleted);
    *confirmed = g.confirmed;
    return rc;
}

void dir_sync_report_status(struct dir_sync_report *rep, const char *status, const char *fmt, ...)
{
    va_list ap;
    snprintf(rep->status, sizeof rep->status, "%s", status);
    va_start(ap, fmt);
    vsnprintf(rep->message, sizeof rep->message, fmt, ap);
    va_end(ap);
}

/* How the read told the sync what changed (a run's details "phase"). */
static const char *phase_name(bool full, const struct dir_sync_intake *in, const char *state_mode)
{
    if (full) return "full";
    if (strcmp(state_mode, "poll") == 0) return "poll";
    if (in->present_phase && in->delete_phase) return "present+delete";
    return in->present_phase ? "present" : "delete";
}

/* ---- a rebuilt city LDAP: re-linking ---- */

/* The usable re-link candidates of IN's entries, as a new JSON object: new uuid ->
 * {uuid, dn, id, old_uuid, username, name_th, active, by}. Usable: the entry and the person
 * pair up one to one, and, when the read named everyone (OMISSIONS), the person's old
 * identity is not among the names (then it would be two people, not one moved). */
static enum dir_rc relink_candidates(struct dir_db_sync *tx, const struct dir_sync_intake *in,
                                     bool omissions, json_t **out)
{
    *out = json_object();
    if (!json_array_size(in->entries)) return DIR_OK;
    json_t *raw = NULL;
    if (dir_db_sync_relink_candidates(tx, in->entries, &raw)) return DIR_ERR_DB;
    json_t *per_uuid = json_object(), *per_id = json_object();
    size_t i;
    json_t *c;
    char id[24];
    json_array_foreach(raw, i, c)
    {
        const char *u = json_string_value(json_object_get(c, "uuid"));
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(c, "id")));
        if (!u) continue;
        json_object_set_new(per_uuid, u,
                            json_integer(json_integer_value(json_object_get(per_uuid, u)) + 1));
        json_object_set_new(per_id, id,
                            json_integer(json_integer_value(json_object_get(per_id, id)) + 1));
    }
    json_array_foreach(raw, i, c)
    {
        const char *u = json_string_value(json_object_get(c, "uuid"));
        const char *old = json_string_value(json_object_get(c, "old_uuid"));
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(c, "id")));
        if (!u || json_integer_value(json_object_get(per_uuid, u)) != 1 ||
            json_integer_value(json_object_get(per_id, id)) != 1)
            continue;
        if (omissions && dir_sync_seen_get(in->seen, old) != DIR_SYNC_SEEN_NONE) continue;
        json_object_set(*out, u, c);
    }
    json_decref(per_uuid);
    json_decref(per_id);
    json_decref(raw);
    return DIR_OK;
}

/* CANDS' values as a new array (at most DIR_SYNC_LIST_CAP), for a run's details. */
static json_t *candidate_list(const json_t *cands)
{
    json_t *list = json_array();
    const char *k;
    json_t *c;
    json_object_foreach((json_t *)cands, k, c)
    {
        if (json_array_size(list) == DIR_SYNC_LIST_CAP) break;
        json_array_append(list, c);
    }
    return list;
}

/* Takes the people CANDS moves out of MISSING: their old identity is gone because it is
 * moving to them, not because they left. */
static void keep_relinked(json_t *missing, const json_t *cands)
{
    struct dir_sync_seen *old = dir_sync_seen_new();
    const char *k;
    json_t *c;
    json_object_foreach((json_t *)cands, k, c)
    {
        dir_sync_seen_add(old, json_string_value(json_object_get(c, "old_uuid")),
                          DIR_SYNC_SEEN_SENT);
    }
    for (size_t i = json_array_size(missing); i-- > 0;) {
        const char *u = json_string_value(json_object_get(json_array_get(missing, i), "uuid"));
        if (dir_sync_seen_get(old, u) != DIR_SYNC_SEEN_NONE) json_array_remove(missing, i);
    }
    dir_sync_seen_free(old);
}

/* Moves each candidate's person to its new identity (dropping those it cannot move). */
static enum dir_rc relink_all(struct dir_db_sync *tx, json_t *cands)
{
    const char *k;
    json_t *c, *tmp;
    json_object_foreach_safe(cands, tmp, k, c)
    {
        bool done = false;
        if (dir_db_sync_relink(tx, json_integer_value(json_object_get(c, "id")), k,
                               json_string_value(json_object_get(c, "dn")), &done))
            return DIR_ERR_DB;
        if (!done) json_object_del(cands, k);
    }
    return DIR_OK;
}

/* True, with WHY, when a run skipped more than the guard's share of the entries it read:
 * it committed, but an admin must look (status attention). NCANDS: re-link candidates. */
static bool attention(const struct dir_sync *s, const struct dir_sync_intake *in,
                      const struct tally *t, size_t ncands, char *why, size_t n)
{
    long long read = in->received > 0 ? in->received : 1;
    if (t->n.skipped == 0 ||
        (long long)t->n.skipped * 100 <= (long long)s->cfg->sync_max_deactivate_pct * read)
        return false;
    int len = snprintf(why, n,
                       "%d of %d entries read were skipped, more than "
                       "sync_max_deactivate_pct=%d%% (see details.skipped)",
                       t->n.skipped, in->received, s->cfg->sync_max_deactivate_pct);
    if (ncands && len > 0 && (size_t)len < n)
        snprintf(why + len, n - (size_t)len,
                 "; %zu of them belong by username or e-mail to synced people with another "
                 "LDAP identity: if the city LDAP was rebuilt, check with a dry run with relink, "
                 "then sync with relink",
                 ncands);
    return true;
}

/* ---- runs ---- */

/* True, with WHY, when the guard stops a run that would take NMISS of TOTAL synced people
 * away: a full read without entries, a present phase that named no one, or more than
 * sync_max_deactivate_pct %. */
static bool refusal(const struct dir_sync *s, bool full, const struct dir_sync_intake *in,
                    int nmiss, int total, char *why, size_t n)
{
    if (full && json_array_size(in->entries) == 0) {
        snprintf(why, n,
                 "the city LDAP returned no entries under %.150s with filter %.150s; refusing "
                 "to deactivate everyone (use --force if that is really meant)",
                 s->cfg->sync_base, s->cfg->sync_filter);
        return true;
    }
    if (!full && in->present_phase && dir_sync_seen_count(in->seen) == 0 && total > 0) {
        snprintf(why, n,
                 "the city LDAP's refresh named none of the %d synced people under %.150s; "
                 "refusing to deactivate everyone (use --force if that is really meant)",
                 total, s->cfg->sync_base);
        return true;
    }
    if (nmiss > 0 && (long long)nmiss * 100 > (long long)s->cfg->sync_max_deactivate_pct * total) {
        snprintf(why, n,
                 "would deactivate %d of %d synced people (%lld%%), more than "
                 "sync_max_deactivate_pct=%d%%; nothing changed (use --force to apply)",
                 nmiss, total, total ? (long long)nmiss * 100 / total : 100LL,
                 s->cfg->sync_max_deactivate_pct);
        return true;
    }
    return false;
}

enum dir_rc dir_sync_apply_run(struct dir_sync *s, const struct dir_sync_req *req, bool full,
                               const char *state_mode, struct dir_sync_intake *in,
                               struct dir_sync_report *rep)
{
    struct dir_db_sync *tx = NULL;
    char err[512];
    struct tally t;
    json_t *missing = NULL, *cands = NULL;
    int total = 0, confirmed = 0;
    enum dir_rc rc;
    bool refuse = false, omissions = full || in->present_phase;
    char why[600] = "", look[600] = "";
    const char *phase = phase_name(full, in, state_mode);

    tally_init(&t);
    json_t *extra =
        json_pack("{s:i,s:i,s:b,s:s,s:i,s:i}", "received", in->received, "presents", in->presents,
                  "full", full, "phase", phase, "server_deleted", (int)json_array_size(in->deleted),
                  "named", (int)dir_sync_seen_count(in->seen));
    if (in->refresh_required) json_object_set_new(extra, "refresh_required", json_true());
    if (in->disabled) json_object_set_new(extra, "disabled", json_integer(in->disabled));
    if (in->dc_changed) json_object_set_new(extra, "dc_changed", json_true());
    double t0 = dir_sync_now_ms();
    if ((rc = dir_db_sync_begin(s->db, &tx, err, sizeof err))) {
        dir_sync_report_status(rep, "failed", "PostgreSQL: %s", err);
        goto done;
    }
    bool prepared = !gone_people(tx, in, omissions, &missing, &confirmed) &&
                    !dir_db_sync_census(tx, &total) &&
                    !relink_candidates(tx, in, omissions, &cands);
    rep->ms.prepare = dir_sync_now_ms() - t0;
    if (!prepared) {
        rc = dir_db_sync_end(tx, false, err, sizeof err);
        tx = NULL;
        dir_sync_report_status(rep, "failed", "PostgreSQL: %s", err);
        goto done;
    }
    if (req->relink) keep_relinked(missing, cands);
    size_t ncands = json_object_size(cands);
    if (ncands && !req->relink)
        json_object_set_new(extra, "relink_candidates", candidate_list(cands));
    int nmiss = (int)json_array_size(missing);
    refuse = !req->force && refusal(s, full, in, nmiss, total, why, sizeof why);
    if (refuse && ncands && !req->relink) {
        size_t len = strlen(why);
        snprintf(why + len, sizeof why - len,
                 "; %zu entries belong by username or e-mail to synced people with another LDAP "
                 "identity: if the city LDAP was rebuilt, sync with relink instead",
                 ncands);
    }
    json_object_set_new(extra, "would_deactivate", json_integer(nmiss));
    json_object_set_new(extra, "synced_before", json_integer(total));
    if (refuse && !req->dry_run) {
        /* What a forced run would do (for the admin deciding on it): the same work as a dry
         * run, in this transaction, rolled back below. */
        if (!apply_changes(tx, in, missing, cands, false, true, &t)) {
            t.n.unchanged += confirmed;
            json_t *lists = tally_details(&t, NULL); /* shares T's lists, cleared below */
            json_t *w = json_deep_copy(lists);
            json_decref(lists);
            json_object_set_new(w, "counts", counts_json(&t.n));
            json_object_set_new(extra, "would", w);
        }
        tally_clear(&t); /* the refused run itself did nothing */
        dir_db_sync_end(tx, false, err, sizeof err);
        tx = NULL;
        json_object_set_new(extra, "would_deactivate_people", capped(missing));
        dir_sync_report_status(rep, "refused", "%s", why);
        rc = DIR_ERR_STATE;
        goto done;
    }
    if (refuse) json_object_set_new(extra, "would_be_refused", json_string(why));
    bool look_at = false;
    if (!(req->relink && relink_all(tx, cands)) &&
        !apply_changes(tx, in, missing, cands, req->relink, req->dry_run, &t)) {
        t.n.unchanged += confirmed;
        look_at = attention(s, in, &t, req->relink ? 0 : ncands, look, sizeof look);
        if (look_at) json_object_set_new(extra, "attention", json_string(look));
        if (!req->dry_run)
            dir_db_sync_save_state(tx, state_mode, in->got_cookie ? in->cookie : NULL,
                                   in->cookie_len, in->watermark, full);
        json_object_set_new(extra, "phases_ms",
                            json_pack("{s:i,s:i,s:i,s:i}", "read", (int)rep->ms.read, "prepare",
                                      (int)rep->ms.prepare, "apply", (int)t.ms_apply,
                                      "deactivate", (int)t.ms_deactivate));
        json_t *d = tally_details(&t, json_deep_copy(extra));
        if (!req->dry_run)
            dir_db_sync_tx_run_add(tx, rep->run_id, look_at ? "attention" : "ok", &t.n, NULL, d);
        json_decref(d);
    }
    rep->ms.apply = t.ms_apply;
    rep->ms.deactivate = t.ms_deactivate;
    double t1 = dir_sync_now_ms();
    rc = dir_db_sync_end(tx, !req->dry_run, err, sizeof err);
    rep->ms.commit = dir_sync_now_ms() - t1;
    tx = NULL;
    if (rc) {
        tally_clear(&t);
        dir_sync_report_status(rep, "failed", "applying the sync to PostgreSQL failed: %s", err);
        goto done;
    }
    rep->n = t.n;
    dir_sync_report_status(rep,
                           req->dry_run ? "dry-run"
                           : look_at    ? "attention"
                                        : "ok",
                           "%s%s sync (%s): %d entries read, %d named present, %d created, %d "
                           "updated, %d reactivated, %d relinked, %d deactivated, %d unchanged, "
                           "%d skipped%s%s",
                           req->dry_run ? "dry run (nothing changed): " : "", rep->mode, phase,
                           in->received, in->presents, t.n.created, t.n.updated, t.n.reactivated,
                           t.n.relinked, t.n.deactivated, t.n.unchanged, t.n.skipped,
                           look_at ? "; " : "", look);
done:
    json_decref(missing);
    json_decref(cands);
    rep->details = tally_details(&t, extra);
    tally_free(&t);
    return rc;
}

/* ---- persist ---- */

enum dir_rc dir_sync_apply_persist(struct dir_sync *s, struct dir_sync_intake *in,
                                   struct dir_sync_persist *p, char *msg, size_t n)
{
    struct dir_db_sync *tx = NULL;
    struct tally t;
    json_t *missing = NULL;
    char err[512];
    int total = 0, confirmed = 0;
    /* Nothing is taken away before the refresh stage ended: omissions mean something only
     * then, and the deletions it names are judged together. */
    bool omissions = in->present_phase && in->refresh_done;
    bool held = json_array_size(in->deleted) > 0;
    bool take =
        in->refresh_done &&
        (omissions || (held && (in->flush_all || time(NULL) - in->deletes_since >= HOLD_S)));
    if (!json_array_size(in->entries) && !take) return DIR_OK; /* only deletions, still held */
    tally_init(&t);
    enum dir_rc rc = dir_db_sync_begin(s->db, &tx, err, sizeof err);
    if (!rc && take && !gone_people(tx, in, omissions, &missing, &confirmed) &&
        !dir_db_sync_census(tx, &total)) {
        long long nmiss = (long long)json_array_size(missing);
        /* Deletions arrive one by one: the limit counts all of them since the last full
         * (or forced) run, so a mass deletion cannot trickle through. */
        long long would = s->persist_deactivated + nmiss;
        bool none = omissions && dir_sync_seen_count(in->seen) == 0 && total > 0;
        if (none || (nmiss > 0 && would * 100 > (long long)s->cfg->sync_max_deactivate_pct *
                                                    (total + s->persist_deactivated))) {
            dir_db_sync_end(tx, false, err, sizeof err);
            if (none)
                snprintf(msg, n,
                         "the city LDAP's refresh named none of the %d synced people; nothing "
                         "changed (run a sync with force)",
                         total);
            else
                snprintf(msg, n,
                         "would deactivate %lld of %d synced people, more than "
                         "sync_max_deactivate_pct=%d%%; nothing changed (run a sync with force)",
                         would, total + s->persist_deactivated, s->cfg->sync_max_deactivate_pct);
            p->refused = true;
            json_decref(p->would_deactivate);
            p->would_deactivate = capped(missing);
            json_decref(missing);
            tally_free(&t);
            return DIR_ERR_STATE;
        }
    }
    json_t *cands = NULL;
    if (!rc && !relink_candidates(tx, in, false, &cands) &&
        !apply_changes(tx, in, missing, cands, false, false, &t)) {
        t.n.unchanged += confirmed;
        /* The cookie is stored only once it covers nothing unapplied: not during the
         * refresh stage, nor while deletions are held. */
        bool save = in->got_cookie && in->refresh_done && (take || !held);
        dir_db_sync_save_state(tx, "persist", save ? in->cookie : NULL, in->cookie_len, NULL,
                               false);
        json_t *d = tally_details(&t, NULL);
        if (json_object_size(cands))
            json_object_set_new(d, "relink_candidates", candidate_list(cands));
        dir_db_sync_tx_run_add(tx, p->run_id, NULL, &t.n, NULL, d);
        json_decref(d);
    }
    if (!rc) rc = dir_db_sync_end(tx, true, err, sizeof err);
    json_decref(cands);
    if (rc) {
        snprintf(msg, n, "applying LDAP changes to PostgreSQL failed: %s", err);
    } else {
        s->persist_deactivated += t.n.deactivated;
        p->sum.created += t.n.created;
        p->sum.updated += t.n.updated;
        p->sum.reactivated += t.n.reactivated;
        p->sum.deactivated += t.n.deactivated;
        p->sum.unchanged += t.n.unchanged;
        p->sum.skipped += t.n.skipped;
        pthread_mutex_lock(&s->lock);
        s->last_n = p->sum;
        pthread_mutex_unlock(&s->lock);
        if (t.n.created + t.n.updated + t.n.reactivated + t.n.deactivated)
            DIR_LOG(DIR_LOG_INFO, "sync",
                    "persist: %d created, %d updated, %d reactivated, %d deactivated", t.n.created,
                    t.n.updated, t.n.reactivated, t.n.deactivated);
        if (omissions) in->present_phase = false;
        if (in->refresh_done) dir_sync_seen_clear(in->seen); /* only a refresh needs it */
    }
    json_decref(missing);
    tally_free(&t);
    dir_sync_intake_clear_changes(in, take);
    if (!rc && dir_sync_stopping(s, true, p->full_at)) {
        snprintf(msg, n, "stopped");
        return DIR_ERR_STATE; /* ends the search cleanly */
    }
    return rc;
}
