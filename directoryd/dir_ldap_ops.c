/* dir_ldap_ops.c - the LDAP face's operations, on decoded requests (dir_ldap_req.h): bind
 * (anonymous, API clients, staff through the bind workers), search (computed against one
 * snapshot, then streamed as the client reads), compare, Who am I?, StartTLS, abandon; and
 * the paged answers kept between pages with what they were computed for. The event loops,
 * connections and limits are in dir_ldap.c.
 */
#include "dir_auth.h"
#include "dir_filter.h"
#include "dir_ldap_int.h"
#include "dir_log.h"
#include "dir_metrics.h"
#include "dir_mem.h"
#include "dir_pdpa.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ldap.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static struct dir_model *snapshot(struct conn *c);
static struct dir_model *auth_snapshot(struct conn *c);
static enum dir_role current_role(struct conn *c, struct dir_model *view_model);

/* The caller's role now: a client bind is checked against the current snapshot each time,
 * so a revoked or expired key stops working on open connections too. */
enum dir_role dir_ldap_role_of(struct conn *c, const struct dir_model *m)
{
    if (c->staff_role && c->staff_expires > (long long)time(NULL)) return c->staff_role;
    if (!c->client || !m) return DIR_ROLE_ANON;
    const struct dir_client *cl = dir_model_client(m, c->hash);
    if (!cl || cl->revoked || (cl->expires && cl->expires <= time(NULL))) return DIR_ROLE_ANON;
    return cl->role;
}

/* ---- paged results kept between pages ----
 *
 * A paged search's answer is kept on its connection with what it was computed for: the
 * request (its fingerprint: RFC 2696 has the client send the same request with each cookie)
 * and the rights of whoever asked. A bind drops it; each page checks that the caller's rights
 * are still the same in the current snapshot (a revoked or expired key, or a changed role,
 * drops it); it expires after ldap_paged_ttl seconds, and early when too many kept answers
 * pin old snapshots (see sweep()). */

void dir_ldap_paged_drop(struct conn *c)
{
    if (!c->paged) return;
    dir_ldap_rs_free(c->paged);
    c->paged = NULL;
    atomic_fetch_sub(&c->loop->srv->npaged, 1);
}

static void paged_keep(struct conn *c, const struct dir_ldap_req *q, struct result_set *rs,
                       enum dir_role role)
{
    dir_ldap_paged_drop(c); /* one paged search at a time per connection */
    c->paged = rs;
    c->paged_cookie = ++c->next_cookie;
    c->paged_role = role;
    c->paged_since = dir_ldap_now();
    memcpy(c->paged_fp, q->fingerprint, sizeof c->paged_fp);
    atomic_fetch_add(&c->loop->srv->npaged, 1);
}

/* The next page of the kept answer for Q's cookie, into stream S (which it takes over when
 * it returns true). */
static bool paged_continue(struct conn *c, const struct dir_ldap_req *q, struct stream *s)
{
    const struct dir_ldap_opts *opt = &c->loop->srv->o;
    uint64_t ck = 0;
    for (size_t i = 0; i < 8 && i < q->paged.cookie_len; i++)
        ck |= (uint64_t)q->paged.cookie[i] << (8 * i);
    if (!c->paged || q->paged.cookie_len != 8 || ck != c->paged_cookie) {
        dir_ldap_send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_UNWILLING_TO_PERFORM, NULL,
                             "paged results cookie expired; start the search again");
        return false;
    }
    if (memcmp(q->fingerprint, c->paged_fp, sizeof c->paged_fp) != 0) {
        dir_ldap_send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_UNWILLING_TO_PERFORM, NULL,
                             "the paged results cookie belongs to another search: send the same "
                             "request (base, scope, filter, attributes, controls) with it");
        return false;
    }
    struct dir_model *m = auth_snapshot(c);
    enum dir_role role = dir_ldap_role_of(c, m);
    dir_model_release(m);
    if (role != c->paged_role) {
        dir_ldap_paged_drop(c);
        dir_ldap_send_result(
            c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_INSUFFICIENT_ACCESS, NULL,
            "the rights this paged search was started with have changed (revoked or "
            "expired); bind again and start the search again");
        return false;
    }
    if (opt->paged_ttl > 0 && dir_ldap_now() - c->paged_since > opt->paged_ttl) {
        dir_ldap_paged_drop(c);
        dir_ldap_send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_UNWILLING_TO_PERFORM, NULL,
                             "paged results cookie expired; start the search again");
        return false;
    }
    if (q->paged.size == 0) { /* the client abandons the paged search */
        dir_ldap_paged_drop(c);
        dir_ldap_send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_SUCCESS, NULL, NULL);
        return false;
    }
    int page = q->paged.size;
    if (dir_ldap_size_limit(c->loop->srv) > 0 && page > dir_ldap_size_limit(c->loop->srv)) page = dir_ldap_size_limit(c->loop->srv);
    s->rs = c->paged;
    s->owned = false;
    s->end = s->rs->n - s->rs->pos > page ? s->rs->pos + page : s->rs->n;
    s->paged = true;
    s->sorted = q->sort.present;
    s->sort_rc = q->sort.present && dir_entry_attr_find(q->sort.attr) < 0 ? LDAP_NO_SUCH_ATTRIBUTE
                                                                          : LDAP_SUCCESS;
    s->cookie = s->end < s->rs->n ? (c->paged_cookie = ++c->next_cookie) : 0;
    s->done_rc = s->cookie ? LDAP_SUCCESS : s->rs->final_rc; /* limits: on the last page */
    s->done_text = s->cookie ? NULL : s->rs->final_text;
    c->active = s;
    return true;
}

/* ---- operations ---- */

/* The version searches read: the newest whose entry view is built (never waits for one). */
static struct dir_model *snapshot(struct conn *c)
{
    return dir_refresh_acquire_warm(c->loop->srv->o.refresh);
}

/* The current version, for who the caller is (clients, revocations): never an older one. */
static struct dir_model *auth_snapshot(struct conn *c)
{
    return dir_refresh_acquire(c->loop->srv->o.refresh);
}

/* C's role, decided on the current version (VIEW_MODEL only if there is none). */
static enum dir_role current_role(struct conn *c, struct dir_model *view_model)
{
    struct dir_model *am = auth_snapshot(c);
    enum dir_role role = dir_ldap_role_of(c, am ? am : view_model);
    dir_model_release(am);
    return role;
}

/* Hands J to the bind workers and makes C's later requests wait for its answer. */
static void queue_job(struct conn *c, struct bind_job *j)
{
    c->bind_job = j;
    struct dir_ldap *srv = c->loop->srv;
    pthread_mutex_lock(&srv->jobs_mu);
    if (srv->jobs_tail)
        srv->jobs_tail->next = j;
    else
        srv->jobs = j;
    srv->jobs_tail = j;
    pthread_cond_signal(&srv->jobs_cond);
    pthread_mutex_unlock(&srv->jobs_mu);
}

/* A staff member binds with their city LDAP username and password, as
 * uid=<username>,ou=people,<suffix> or as the bare username: checked like a web login (the
 * city LDAP, or a local account; the same brake on guessing), on a bind worker thread (the
 * city LDAP may take up to its 5 s timeouts): this connection's later requests wait for the
 * answer, other connections do not. */
static void staff_bind(struct conn *c, ber_int_t msgid, const char *ndn,
                       const struct dir_ldap_str *pw)
{
    char user[128] = "", people[640];
    snprintf(people, sizeof people, ",ou=people,%s", c->loop->srv->nsuffix);
    size_t n = strlen(ndn), t = strlen(people);
    if (n > t + 4 && strncmp(ndn, "uid=", 4) == 0 && strcmp(ndn + n - t, people) == 0 &&
        n - t - 4 < sizeof user)
        snprintf(user, sizeof user, "%.*s", (int)(n - t - 4), ndn + 4);
    else if (!strchr(ndn, '=') && n < sizeof user)
        snprintf(user, sizeof user, "%s", ndn);
    struct dir_sessions *sessions = c->loop->srv->o.sessions;
    if (!*user || !sessions || pw->n > 1024) {
        dir_ldap_send_result(c, msgid, LDAP_RES_BIND, LDAP_INVALID_CREDENTIALS, NULL,
                             "invalid credentials");
        return;
    }
    struct bind_job *j = dir_xcalloc(1, sizeof *j);
    j->loop = c->loop;
    j->conn = c;
    j->msgid = msgid;
    snprintf(j->user, sizeof j->user, "%s", user);
    memcpy(j->password, pw->p, pw->n);
    j->password[pw->n] = '\0';
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    if (getpeername(c->fd, (struct sockaddr *)&sa, &sl) == 0 && sa.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, j->addr, sizeof j->addr);
    queue_job(c, j);
}

/* A staff bind's rights are those of a web session: logout everywhere, a removed or disabled
 * local account and a changed role (the local account's, or an admin's staff-role setting)
 * reach an open connection too. Checking asks PostgreSQL, so it runs on the bind workers, at
 * most once every STAFF_RECHECK_S seconds per connection, before the next request that uses
 * the rights (a bind or unbind replaces them anyway). */
bool dir_ldap_staff_recheck_due(struct conn *c, const struct op *o)
{
    if (!c->staff || o->req.op == DIR_LDAP_OP_BIND || o->req.op == DIR_LDAP_OP_UNBIND ||
        o->req.op == DIR_LDAP_OP_ABANDON || dir_ldap_now() - c->staff_checked < STAFF_RECHECK_S)
        return false;
    struct bind_job *j = dir_xcalloc(1, sizeof *j);
    j->loop = c->loop;
    j->conn = c;
    j->recheck = true;
    j->info = c->staff_info;
    queue_job(c, j);
    return true;
}

/* A bind worker: checks staff passwords, hands each finished job back to its loop. */
void *dir_ldap_bind_worker(void *arg)
{
    struct dir_ldap *srv = arg;
    for (;;) {
        pthread_mutex_lock(&srv->jobs_mu);
        while (!srv->jobs && !srv->jobs_stop)
            pthread_cond_wait(&srv->jobs_cond, &srv->jobs_mu);
        struct bind_job *j = srv->jobs;
        if (!j || srv->jobs_stop) {
            pthread_mutex_unlock(&srv->jobs_mu);
            return NULL;
        }
        srv->jobs = j->next;
        if (!srv->jobs) srv->jobs_tail = NULL;
        pthread_mutex_unlock(&srv->jobs_mu);
        if (j->recheck) {
            struct dir_model *m = dir_refresh_acquire(srv->o.refresh);
            j->still = dir_session_recheck(srv->o.sessions, m, &j->info);
            dir_model_release(m);
        } else {
            char token[512];
            int retry = 0;
            j->r = dir_session_login(srv->o.sessions, j->user, j->password, j->addr, token,
                                     sizeof token, &j->info, &retry, j->err, sizeof j->err);
            explicit_bzero(j->password, sizeof j->password);
            explicit_bzero(token, sizeof token);
        }
        struct loop *l = j->loop;
        pthread_mutex_lock(&l->done_mu);
        j->next = l->done;
        l->done = j;
        pthread_mutex_unlock(&l->done_mu);
        uint64_t one = 1;
        if (write(l->donefd, &one, sizeof one) < 0)
            DIR_LOG(DIR_LOG_WARN, "ldap", "cannot wake an event loop");
    }
}

/* The answer to a staff bind, on the loop thread. */
void dir_ldap_staff_bind_done(struct conn *c, struct bind_job *j)
{
    c->bind_job = NULL;
    if (j->recheck) {
        c->staff_checked = dir_ldap_now();
        if (!c->staff) return; /* a bind replaced it meanwhile */
        if (!j->still) {
            DIR_LOG(DIR_LOG_INFO, "ldap",
                    "staff bind %s ended: logged out everywhere, or the account is gone or "
                    "disabled; the connection is anonymous now",
                    c->bind_dn ? c->bind_dn : "?");
            c->staff = false;
            c->staff_role = DIR_ROLE_ANON;
            c->staff_expires = 0;
            return;
        }
        if (j->info.role != c->staff_role)
            DIR_LOG(DIR_LOG_INFO, "ldap", "staff bind %s: role %s now",
                    c->bind_dn ? c->bind_dn : "?", dir_auth_role_name(j->info.role));
        c->staff_info.role = j->info.role;
        c->staff_role = j->info.role;
        return;
    }
    switch (j->r) {
    case DIR_LOGIN_OK: {
        c->staff = true;
        c->staff_info = j->info;
        c->staff_checked = dir_ldap_now();
        c->staff_role = j->info.role;
        c->staff_expires = j->info.expires;
        char bdn[800];
        snprintf(bdn, sizeof bdn, "uid=%s,ou=people,%s", j->info.username, dir_entry_suffix());
        c->bind_dn = dir_xstrdup(bdn);
        DIR_LOG(DIR_LOG_INFO, "ldap", "bind as staff %s (%s)", j->info.username,
                dir_auth_role_name(j->info.role));
        dir_ldap_send_result(c, j->msgid, LDAP_RES_BIND, LDAP_SUCCESS, NULL, NULL);
        return;
    }
    case DIR_LOGIN_LIMITED:
        dir_ldap_send_result(c, j->msgid, LDAP_RES_BIND, LDAP_UNWILLING_TO_PERFORM, NULL,
                             "too many failed logins; try again later");
        return;
    case DIR_LOGIN_UNAVAILABLE:
        dir_ldap_send_result(c, j->msgid, LDAP_RES_BIND, LDAP_UNAVAILABLE, NULL,
                             "the password cannot be checked right now");
        return;
    default: {
        char name[200];
        dir_session_log_name(j->user, name, sizeof name); /* any bytes: escaped for the log */
        DIR_LOG(DIR_LOG_INFO, "ldap", "staff bind refused for %s: %s", name, j->err);
        dir_ldap_send_result(c, j->msgid, LDAP_RES_BIND, LDAP_INVALID_CREDENTIALS, NULL,
                             "invalid credentials");
    }
    }
}

/* BindRequest (decoded by dir_ldap_req.c): anonymous, an API client DN with its secret, or a
 * staff member's DN or username with their password. The whole secret counts: a password
 * holding a NUL byte is refused (it would otherwise be compared only up to the NUL). */
static void do_bind(struct conn *c, struct op *o)
{
    const struct dir_ldap_req *q = &o->req;
    const struct dir_ldap_str *name = &q->bind.name, *pw = &q->bind.password;
    if (q->bind.version != LDAP_VERSION3) {
        dir_ldap_send_result(c, q->msgid, LDAP_RES_BIND, LDAP_PROTOCOL_ERROR, NULL,
                             "only LDAP version 3 is supported");
        return;
    }
    if (q->bind.auth != DIR_LDAP_AUTH_SIMPLE) {
        dir_ldap_send_result(
            c, q->msgid, LDAP_RES_BIND, LDAP_AUTH_METHOD_NOT_SUPPORTED, NULL,
            "only simple binds are supported (anonymous, or an API client DN with its "
            "secret)");
        return;
    }
    if (name->n == 0 && pw->n == 0) {
        dir_ldap_send_result(c, q->msgid, LDAP_RES_BIND, LDAP_SUCCESS, NULL, NULL);
        return;
    }
    if (pw->n == 0) {
        dir_ldap_send_result(c, q->msgid, LDAP_RES_BIND, LDAP_UNWILLING_TO_PERFORM, NULL,
                             "unauthenticated bind (a DN without a password) is not allowed");
        return;
    }
    if (memchr(pw->p, 0, pw->n) || memchr(name->p, 0, name->n)) {
        DIR_LOG(DIR_LOG_INFO, "ldap", "bind refused: a NUL byte in the name or password");
        dir_ldap_send_result(c, q->msgid, LDAP_RES_BIND, LDAP_INVALID_CREDENTIALS, NULL,
                             "invalid credentials");
        return;
    }
    const char *dn = name->p;
    char *ndn = name->n < 1023 ? dir_entry_dn_normalize(dn) : NULL;
    char tail[600];
    snprintf(tail, sizeof tail, ",ou=clients,%s", c->loop->srv->nsuffix);
    const char *cname = NULL;
    size_t nlen = ndn ? strlen(ndn) : 0, tlen = strlen(tail);
    if (ndn && nlen > tlen + 3 && strncmp(ndn, "cn=", 3) == 0 &&
        strcmp(ndn + nlen - tlen, tail) == 0) {
        ndn[nlen - tlen] = '\0';
        cname = ndn + 3;
    }
    bool ok = false;
    struct dir_model *m = cname && pw->n <= 256 ? auth_snapshot(c) : NULL;
    if (m) {
        uint8_t hash[DIR_AUTH_HASH_LEN];
        dir_auth_hash(pw->p, hash);
        const struct dir_client *cl = dir_model_client(m, hash);
        if (cl && strcasecmp(cl->name, cname) == 0 && !cl->revoked &&
            (!cl->expires || cl->expires > time(NULL))) {
            ok = true;
            c->client = true;
            memcpy(c->hash, hash, sizeof hash);
            char bdn[700];
            snprintf(bdn, sizeof bdn, "cn=%s,ou=clients,%s", cl->name, dir_entry_suffix());
            c->bind_dn = dir_xstrdup(bdn);
            DIR_LOG(DIR_LOG_INFO, "ldap", "bind as api client %s (%s)", cl->name,
                    dir_auth_role_name(cl->role));
        }
        explicit_bzero(hash, sizeof hash);
        dir_model_release(m);
    }
    if (!ok && !cname) {
        /* Not an API client: a staff DN, or a bare username (not a DN at all). */
        staff_bind(c, q->msgid, ndn ? ndn : dn, pw);
        free(ndn);
        return;
    }
    free(ndn);
    if (ok)
        dir_ldap_send_result(c, q->msgid, LDAP_RES_BIND, LDAP_SUCCESS, NULL, NULL);
    else
        dir_ldap_send_result(c, q->msgid, LDAP_RES_BIND, LDAP_INVALID_CREDENTIALS, NULL,
                             "invalid credentials");
}

static void emit_entry(struct conn *c, struct stream *s, const struct dir_entry *e)
{
    BerElement *ber = dir_ldap_msg_begin(s->msgid);
    bool see_private = s->rs->see_private, priv_shown = false;
    ber_printf(ber, "t{s{", (ber_tag_t)LDAP_RES_SEARCH_ENTRY, e->dn);
    for (int k = 0; k < e->nattrs; k++) {
        const struct dir_fattr *a = &e->attrs[k];
        bool oper = dir_entry_attr_operational(a->id);
        bool want = s->sel[a->id] ||
                    (oper ? s->sel_all_oper || (s->special && s->sel_all_user) : s->sel_all_user);
        if (!want) continue;
        int shown = 0;
        for (int j = 0; j < a->nvals; j++) {
            if (a->vals[j].priv && !see_private) continue;
            if (shown++ == 0) ber_printf(ber, "{s[", dir_entry_attr_name(a->id));
            if (!s->types_only) ber_printf(ber, "o", a->vals[j].val, (ber_len_t)a->vals[j].len);
            priv_shown = priv_shown || (a->vals[j].priv && !s->types_only);
        }
        if (shown) ber_printf(ber, "]}");
    }
    ber_printf(ber, "}}}");
    /* A person's non-public contact points went out: the access log (PDPA). */
    if (priv_shown && e->priv) dir_pdpa_note_id(dir_entry_person_id(e));
    dir_ldap_send_ber(c, ber);
}

static void finish_search(struct conn *c, struct stream *s)
{
    dir_metrics_ldap_op(LDAP_RES_SEARCH_RESULT, s->done_rc, DIR_LDAP_OP_US(c));
    BerElement *ber = dir_ldap_msg_begin(s->msgid);
    ber_printf(ber, "t{ess}", (ber_tag_t)LDAP_RES_SEARCH_RESULT, (ber_int_t)s->done_rc, "",
               s->done_text ? s->done_text : "");
    if (s->paged || s->sorted) {
        ber_printf(ber, "t{", (ber_tag_t)LDAP_TAG_CONTROLS);
        if (s->paged) {
            BerElement *vb = ber_alloc_t(LBER_USE_DER);
            char ck[8];
            for (int i = 0; i < 8; i++)
                ck[i] = (char)(s->cookie >> (8 * i));
            ber_printf(vb, "{io}", (ber_int_t)0, ck, (ber_len_t)(s->cookie ? 8 : 0));
            struct berval bv;
            ber_flatten2(vb, &bv, 0);
            ber_printf(ber, "{sO}", DIR_LDAP_OID_PAGED, &bv);
            ber_free(vb, 1);
        }
        if (s->sorted) {
            /* SortResult ::= SEQUENCE { sortResult ENUMERATED, attributeType [0] OPTIONAL } */
            BerElement *vb = ber_alloc_t(LBER_USE_DER);
            ber_printf(vb, "{e}", (ber_int_t)s->sort_rc);
            struct berval bv;
            ber_flatten2(vb, &bv, 0);
            ber_printf(ber, "{sO}", DIR_LDAP_OID_SORT_RESP, &bv);
            ber_free(vb, 1);
        }
        ber_printf(ber, "}");
    }
    ber_printf(ber, "}");
    dir_ldap_send_ber(c, ber);
}

/* Streams the active search until the output buffer is full; true when it finished. */
bool dir_ldap_stream_some(struct conn *c)
{
    struct stream *s = c->active;
    /* Only a bound identity sees non-public values; each part of a streamed answer is one
     * read in the access log. */
    struct dir_pdpa_read rd;
    if (s->rs->see_private)
        dir_pdpa_begin(&rd, "ldap_bind", c->bind_dn ? c->bind_dn : "", DIR_PDPA_LDAP, "search");
    while (s->rs->pos < s->end && dir_ldap_out_pending(c) < OUT_HIGH) {
        const struct dir_entry *e = dir_entry_at(s->rs->v, s->rs->idx[s->rs->pos++]);
        emit_entry(c, s, e);
    }
    if (s->rs->see_private) dir_pdpa_end(&rd);
    if (s->rs->pos < s->end) return false;
    finish_search(c, s);
    if (!s->owned && !s->cookie) /* the last page: drop the kept answer */
        dir_ldap_paged_drop(c);
    dir_ldap_stream_free(s);
    c->active = NULL;
    return true;
}

/* Attribute selection: "*", "+", "1.1" or names; an empty list means all user attributes. */
static void select_attrs(struct stream *s, const struct dir_ldap_req *q)
{
    s->sel = dir_xcalloc((size_t)dir_entry_attr_count(), sizeof *s->sel);
    s->types_only = q->search.types_only;
    for (int i = 0; i < q->search.nattrs; i++) {
        const char *name = q->search.attrs[i];
        if (strcmp(name, "1.1") == 0) continue;
        if (strcmp(name, "*") == 0)
            s->sel_all_user = true;
        else if (strcmp(name, "+") == 0)
            s->sel_all_oper = true;
        else {
            int id = dir_entry_attr_find(name);
            if (id >= 0) s->sel[id] = true;
        }
    }
    if (q->search.nattrs == 0) s->sel_all_user = true;
}

/* SearchRequest (decoded by dir_ldap_req.c): a new search, or the next page of the paged
 * search kept on this connection. */
static void do_search(struct conn *c, struct op *o)
{
    if (c->loop->srv->o.used) atomic_store(c->loop->srv->o.used, true);
    struct dir_ldap_req *q = &o->req;
    const char *matched = NULL;
    struct stream *s = dir_xcalloc(1, sizeof *s);
    s->msgid = q->msgid;
    select_attrs(s, q);

    /* Continuing a paged search: the kept answer, next page. */
    if (q->paged.present && q->paged.cookie_len) {
        if (!paged_continue(c, q, s)) dir_ldap_stream_free(s);
        return;
    }

    struct dir_model *m = snapshot(c);
    if (!m) {
        dir_ldap_stream_free(s);
        dir_ldap_send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_UNAVAILABLE, NULL,
                             "the directory is still loading");
        return;
    }
    if (strlen(q->search.base.p) != q->search.base.n) {
        dir_model_release(m);
        dir_ldap_stream_free(s);
        dir_ldap_send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, LDAP_INVALID_DN_SYNTAX, NULL,
                             "invalid base DN");
        return;
    }
    enum dir_role role = current_role(c, m);
    const struct dir_entry_view *v = dir_entry_view(m);
    int sizelimit = q->search.size_limit;
    int limit = sizelimit > 0 ? sizelimit : 0;
    if (dir_ldap_size_limit(c->loop->srv) > 0 && (limit == 0 || limit > dir_ldap_size_limit(c->loop->srv)) && !q->paged.present)
        limit = dir_ldap_size_limit(c->loop->srv);
    int tl = q->search.time_limit > 0 ? q->search.time_limit : 0;
    if (dir_ldap_time_limit(c->loop->srv) > 0 && (tl == 0 || tl > dir_ldap_time_limit(c->loop->srv))) tl = dir_ldap_time_limit(c->loop->srv);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += tl;
    struct dir_entry_search es = {.base = q->search.base.p,
                                  .scope = (enum dir_scope)q->search.scope,
                                  .filter = q->search.filter,
                                  .role = role,
                                  .size_limit = limit,
                                  .deadline = tl ? &deadline : NULL,
                                  .sort_attr = -1,
                                  .after = -1};
    if (q->sort.present) {
        es.sort_attr = dir_entry_attr_find(q->sort.attr);
        es.sort_reverse = q->sort.reverse;
        s->sorted = true;
        s->sort_rc = es.sort_attr >= 0 ? LDAP_SUCCESS : LDAP_NO_SUCH_ATTRIBUTE;
        if (es.sort_attr < 0 && q->sort.critical) {
            dir_model_release(m);
            dir_ldap_stream_free(s);
            dir_ldap_send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT,
                                 LDAP_UNAVAILABLE_CRITICAL_EXTENSION, NULL,
                                 "cannot sort by that attribute");
            return;
        }
    }
    struct dir_entry_result r;
    enum dir_rc erc = dir_entry_search(v, &es, &r, &matched);
    if (erc != DIR_OK) {
        int rc = erc == DIR_ERR_INVALID ? LDAP_INVALID_DN_SYNTAX : LDAP_NO_SUCH_OBJECT;
        const char *text = erc == DIR_ERR_INVALID ? "invalid base DN" : "no such entry";
        char *md = dir_xstrdup(matched ? matched : "");
        dir_model_release(m);
        dir_ldap_stream_free(s);
        dir_ldap_send_result(c, q->msgid, LDAP_RES_SEARCH_RESULT, rc, md, text);
        free(md);
        return;
    }
    const struct dir_entry *be = dir_entry_at(v, r.base);
    s->special = es.scope == DIR_SCOPE_BASE &&
                 (be->dn[0] == '\0' || strcasecmp(be->dn, "cn=Subschema") == 0);
    struct result_set *rs = dir_xcalloc(1, sizeof *rs);
    rs->m = m;
    rs->v = v;
    rs->idx = r.idx;
    rs->n = r.n;
    rs->see_private = role >= DIR_ROLE_CASEWORKER;
    s->done_rc = LDAP_SUCCESS;
    if (r.time_exceeded) {
        s->done_rc = LDAP_TIMELIMIT_EXCEEDED;
        s->done_text = "time limit exceeded";
    }
    if (q->paged.present) {
        if (sizelimit > 0 && rs->n > sizelimit) {
            rs->n = sizelimit; /* the client's own limit applies to the whole answer */
            s->done_rc = LDAP_SIZELIMIT_EXCEEDED;
            s->done_text = "size limit exceeded";
        }
        int page = q->paged.size > 0 ? q->paged.size : rs->n;
        if (dir_ldap_size_limit(c->loop->srv) > 0 && page > dir_ldap_size_limit(c->loop->srv)) page = dir_ldap_size_limit(c->loop->srv);
        s->paged = true;
        s->end = page < rs->n ? page : rs->n;
        s->rs = rs;
        if (s->end < rs->n) {
            paged_keep(c, q, rs, role);
            s->cookie = c->paged_cookie;
            s->owned = false;
            rs->final_rc = s->done_rc; /* size or time limit: reported on the last page */
            rs->final_text = s->done_text;
            s->done_rc = LDAP_SUCCESS;
            s->done_text = NULL;
        } else {
            s->owned = true;
        }
    } else {
        s->rs = rs;
        s->owned = true;
        s->end = rs->n;
        if (r.size_exceeded) {
            s->end = limit;
            s->done_rc = LDAP_SIZELIMIT_EXCEEDED;
            s->done_text = "size limit exceeded";
        }
    }
    c->active = s;
}

/* CompareRequest (decoded by dir_ldap_req.c). */
static void do_compare(struct conn *c, struct op *o)
{
    const struct dir_ldap_req *q = &o->req;
    struct dir_model *m = snapshot(c);
    if (!m) {
        dir_ldap_send_result(c, q->msgid, LDAP_RES_COMPARE, LDAP_UNAVAILABLE, NULL,
                             "still loading");
        return;
    }
    if (strlen(q->compare.dn.p) != q->compare.dn.n) {
        dir_model_release(m);
        dir_ldap_send_result(c, q->msgid, LDAP_RES_COMPARE, LDAP_INVALID_DN_SYNTAX, NULL,
                             "invalid DN");
        return;
    }
    struct dir_filter *f = dir_filter_new(DIR_FILTER_EQUALITY);
    dir_filter_set_attr(f, q->compare.attr.p, q->compare.attr.n);
    dir_filter_set_value(f, q->compare.value.p, q->compare.value.n);
    enum dir_role role = current_role(c, m);
    struct dir_entry_search es = {.base = q->compare.dn.p,
                                  .scope = DIR_SCOPE_BASE,
                                  .role = role,
                                  .sort_attr = -1,
                                  .after = -1};
    struct dir_entry_result r;
    const char *matched;
    const struct dir_entry_view *v = dir_entry_view(m);
    enum dir_rc erc = dir_entry_search(v, &es, &r, &matched);
    int rc;
    if (erc == DIR_ERR_INVALID)
        rc = LDAP_INVALID_DN_SYNTAX;
    else if (erc)
        rc = LDAP_NO_SUCH_OBJECT;
    else {
        dir_filter_prepare(f, dir_entry_resolve, NULL);
        const struct dir_entry *e = dir_entry_at(v, r.base);
        struct dir_fentry fe = {e->attrs, e->nattrs, e->ndn, role >= DIR_ROLE_CASEWORKER};
        enum dir_tri t = dir_filter_match(f, &fe);
        rc = f->attr_id < 0  ? LDAP_UNDEFINED_TYPE
             : t == DIR_TRUE ? LDAP_COMPARE_TRUE
                             : LDAP_COMPARE_FALSE;
        free(r.idx);
    }
    dir_filter_free(f);
    dir_model_release(m);
    dir_ldap_send_result(c, q->msgid, LDAP_RES_COMPARE, rc, NULL, NULL);
}

/* ExtendedRequest (decoded by dir_ldap_req.c, which answers every other OID). */
static void do_extended(struct conn *c, struct op *o)
{
    const struct dir_ldap_req *q = &o->req;
    if (strcmp(q->extended.oid.p, DIR_LDAP_OID_WHOAMI) == 0) {
        /* RFC 4532: the authzId, "dn:<DN>", or empty for anonymous. */
        struct dir_model *m = auth_snapshot(c);
        char id[800] = "";
        if ((c->client || c->staff_role) && dir_ldap_role_of(c, m) != DIR_ROLE_ANON && c->bind_dn)
            snprintf(id, sizeof id, "dn:%s", c->bind_dn);
        dir_model_release(m);
        struct berval bv = {strlen(id), id};
        dir_ldap_send_extended(c, q->msgid, LDAP_SUCCESS, NULL, NULL, &bv);
        return;
    }
    /* StartTLS, RFC 4511 section 4.14: TLS starts right after this answer; no other request
     * may be outstanding, and TLS cannot start twice. */
    if (!c->loop->srv->tls)
        dir_ldap_send_extended(c, q->msgid, LDAP_UNAVAILABLE,
                               "StartTLS is not available: no certificate is configured "
                               "(ldap_tls_cert, ldap_tls_key)",
                               DIR_LDAP_OID_STARTTLS, NULL);
    else if (c->tls)
        dir_ldap_send_extended(c, q->msgid, LDAP_OPERATIONS_ERROR, "TLS is already in use",
                               DIR_LDAP_OID_STARTTLS, NULL);
    else if (c->qhead || c->active)
        dir_ldap_send_extended(c, q->msgid, LDAP_OPERATIONS_ERROR,
                               "StartTLS while other requests are outstanding",
                               DIR_LDAP_OID_STARTTLS, NULL);
    else {
        dir_ldap_send_extended(c, q->msgid, LDAP_SUCCESS, NULL, DIR_LDAP_OID_STARTTLS, NULL);
        c->starttls_pending = true;
    }
}

/* A bind always resets the connection to anonymous first (RFC 4513 section 4), and drops a
 * kept paged answer: it was computed for the old identity. */
static void reset_identity(struct conn *c)
{
    c->client = false;
    c->staff = false;
    c->staff_role = DIR_ROLE_ANON;
    explicit_bzero(&c->staff_info, sizeof c->staff_info);
    explicit_bzero(c->hash, sizeof c->hash);
    free(c->bind_dn);
    c->bind_dn = NULL;
    dir_ldap_paged_drop(c);
}

void dir_ldap_dispatch(struct conn *c, struct op *o)
{
    const struct dir_ldap_req *q = &o->req;
    if (o->st == DIR_LDAP_REQ_MALFORMED) {
        dir_ldap_disconnect(c, LDAP_PROTOCOL_ERROR, q->text);
        return;
    }
    if (q->op == DIR_LDAP_OP_BIND) reset_identity(c);
    if (q->op == DIR_LDAP_OP_UNBIND) {
        c->closing = true;
        return;
    }
    if (o->st == DIR_LDAP_REQ_ANSWER) {
        if (q->res_tag) dir_ldap_send_result(c, q->msgid, q->res_tag, q->rc, NULL, q->text);
        return;
    }
    switch (q->op) {
    case DIR_LDAP_OP_BIND:
        do_bind(c, o);
        break;
    case DIR_LDAP_OP_SEARCH:
        do_search(c, o);
        break;
    case DIR_LDAP_OP_COMPARE:
        do_compare(c, o);
        break;
    case DIR_LDAP_OP_EXTENDED:
        do_extended(c, o);
        break;
    default: /* the decoder answers writes and refuses unknown operations */
        dir_ldap_disconnect(c, LDAP_PROTOCOL_ERROR, "unknown operation");
        break;
    }
}

/* AbandonRequest: applied as soon as it is read. */
void dir_ldap_abandon(struct conn *c, int id)
{
    if (c->active && c->active->msgid == id) {
        if (!c->active->owned) dir_ldap_paged_drop(c);
        dir_ldap_stream_free(c->active);
        c->active = NULL;
        return;
    }
    for (struct op **p = &c->qhead, *prev = NULL; *p; prev = *p, p = &(*p)->next) {
        if ((*p)->req.msgid == id) {
            struct op *o = *p;
            *p = o->next;
            if (c->qtail == o) c->qtail = prev;
            c->nqueued--;
            dir_ldap_queue_account(c, o, false);
            dir_ldap_op_free(o);
            return;
        }
    }
}
