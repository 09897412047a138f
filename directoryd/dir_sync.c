/* dir_sync.c - the staff sync engine: reads the city LDAP (libldap) and applies it through
 * the db module (dir_db_sync.c).
 *
 * A run is read, then apply: everything LDAP says is collected first (struct dir_sync_intake), then
 * applied in one PostgreSQL transaction together with the resume point (cookie or
 * watermark) and the run's counts, so a run that fails half-way changes nothing. Only the
 * persist mode applies as it goes: one transaction per batch of changes.
 *
 * What the server sends is decoded in dir_sync_msg.c (entries, sync controls and messages,
 * paged-results cookies). RFC 4533 (Content Synchronization) is spoken directly with liblber, from
 * the RFC's ASN.1 (Debian ships libldap without ldap_sync.h):
 *
 *   syncRequestValue ::= SEQUENCE { mode ENUMERATED { refreshOnly (1), refreshAndPersist (3) },
 *                                   cookie syncCookie OPTIONAL, reloadHint BOOLEAN DEFAULT FALSE }
 *   syncStateValue ::= SEQUENCE { state ENUMERATED { present (0), add (1), modify (2), delete (3)
 * }, entryUUID syncUUID, cookie syncCookie OPTIONAL } syncDoneValue ::= SEQUENCE { cookie
 * syncCookie OPTIONAL, refreshDeletes BOOLEAN DEFAULT FALSE } syncInfoValue ::= CHOICE { newcookie
 * [0] syncCookie, refreshDelete  [1] SEQUENCE { cookie syncCookie OPTIONAL, refreshDone BOOLEAN
 * DEFAULT TRUE }, refreshPresent [2] SEQUENCE { cookie syncCookie OPTIONAL, refreshDone BOOLEAN
 * DEFAULT TRUE }, syncIdSet      [3] SEQUENCE { cookie syncCookie OPTIONAL, refreshDeletes BOOLEAN
 * DEFAULT FALSE, syncUUIDs SET OF syncUUID } }
 *
 * Present messages (entries unchanged since the cookie) are counted, not applied: deletions
 * that the server reports only by omission are left to the periodic full sync.
 */
#include "dir_sync.h"
#include "dir_sync_msg.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_problem.h"
#include "dir_query.h"

#include <errno.h>
#include <stdarg.h>
#include <lber.h>
#include <limits.h>
#include <ldap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_UNITS 256
#define LIST_CAP 5000     /* most people listed per kind in a run's details */
#define FULL_EVERY 12     /* a full sync every this many intervals */
#define IDLE_LIMIT_S 60   /* a search whose server says nothing this long has failed */
#define OPEN_LIMIT_S 10   /* StartTLS and the bind must answer within this */
#define PERSIST_BATCH 200 /* persist applies at most this many changes per transaction */
#define HOLD_S 2          /* persist holds deletions this long, to judge a mass deletion whole */
#define NOTHING_FILTER "(&(objectClass=*)(!(objectClass=*)))"

struct dir_sync {
    const struct dir_cfg *cfg;
    struct dir_db *db;
    struct dir_sync_unit units[MAX_UNITS];
    int nunits;
    int test_page_delay_ms; /* tests only: a pause between pages, to stop LDAP mid-sync */

    pthread_mutex_t run_lock; /* one run at a time */
    pthread_mutex_t lock;     /* what follows */
    pthread_cond_t wake;
    pthread_t thread;
    bool started;
    bool stop;
    bool requested;
    struct dir_sync_req req;
    bool no_syncprov;        /* auto mode found no RFC 4533 on the server */
    int persist_deactivated; /* by persist sessions since the last full or forced run */
    bool running;
    char last_status[16], last_mode[16], last_message[600];
    long long last_run_id;
    time_t last_at, last_ok_at;
    int failures;
};

/* ---- set-up ---- */

static bool parse_units(struct dir_sync *s, char *err, size_t errlen)
{
    const char *p = s->cfg->sync_unit_map;
    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[512];
        if (len >= sizeof item) {
            snprintf(err, errlen, "sync_unit_map: an item is too long");
            return false;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        p += len + (end ? 1 : 0);
        char *eq = strchr(item, '=');
        char *name = item, *ref = eq ? eq + 1 : NULL;
        if (eq) *eq = '\0';
        while (*name == ' ')
            name++;
        for (char *q = name + strlen(name); q > name && q[-1] == ' ';)
            *--q = '\0';
        while (ref && *ref == ' ')
            ref++;
        if (ref)
            for (char *q = ref + strlen(ref); q > ref && q[-1] == ' ';)
                *--q = '\0';
        if (!*name && !ref) continue;
        if (!ref || !*name || !*ref) {
            snprintf(err, errlen, "sync_unit_map: '%.100s' is not 'unit=organisation ref'", item);
            return false;
        }
        if (s->nunits == MAX_UNITS) {
            snprintf(err, errlen, "sync_unit_map: more than %d units", MAX_UNITS);
            return false;
        }
        s->units[s->nunits].name = dir_xstrdup(name);
        s->units[s->nunits].ref = dir_xstrdup(ref);
        s->nunits++;
    }
    return true;
}

struct dir_sync *dir_sync_new(const struct dir_cfg *cfg, struct dir_db *db)
{
    struct dir_sync *s = dir_xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->db = db;
    pthread_mutex_init(&s->run_lock, NULL);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    const char *d = getenv("DIRECTORYD_SYNC_TEST_PAGE_DELAY_MS");
    s->test_page_delay_ms = d ? atoi(d) : 0;
    snprintf(s->last_status, sizeof s->last_status, "never");
    return s;
}

bool dir_sync_configured(const struct dir_sync *s)
{
    return s && s->cfg->sync_uri[0] && strcmp(s->cfg->sync_mode, "off") != 0;
}

static bool mode_valid(const char *m)
{
    return strcmp(m, "auto") == 0 || strcmp(m, "syncrepl") == 0 || strcmp(m, "persist") == 0 ||
           strcmp(m, "poll") == 0 || strcmp(m, "off") == 0;
}

/* Checks the configuration once (the thread and a CLI run both need it). */
static bool check_config(struct dir_sync *s, char *err, size_t errlen)
{
    if (!mode_valid(s->cfg->sync_mode)) {
        snprintf(err, errlen, "sync_mode must be auto, syncrepl, persist, poll or off");
        return false;
    }
    if (!s->cfg->sync_uri[0]) {
        snprintf(err, errlen, "sync_uri is not set: there is no city LDAP to sync from");
        return false;
    }
    if (strcmp(s->cfg->sync_mode, "off") == 0) {
        snprintf(err, errlen, "sync_mode is off");
        return false;
    }
    if (!s->cfg->sync_base[0]) {
        snprintf(err, errlen, "sync_base is not set");
        return false;
    }
    if (s->nunits == 0 && s->cfg->sync_unit_map[0] && !parse_units(s, err, errlen)) {
        for (int i = 0; i < s->nunits; i++) {
            free(s->units[i].name);
            free(s->units[i].ref);
        }
        s->nunits = 0;
        return false;
    }
    return true;
}

/* ---- LDAP connection ---- */

static void ldap_diag(LDAP *ld, int rc, char *buf, size_t n)
{
    char *diag = NULL;
    ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    if (diag && *diag)
        snprintf(buf, n, "%s (%s)", ldap_err2string(rc), diag);
    else
        snprintf(buf, n, "%s", ldap_err2string(rc));
    ldap_memfree(diag);
}

/* Connects and binds as sync_binddn. On failure returns DIR_ERR_IO with MSG. */
static bool stopping(struct dir_sync *s, bool persist, time_t until);

/* A simple bind that gives up when the daemon stops or after OPEN_LIMIT_S (a city LDAP that
 * accepts connections and never answers must not hold the stop for a minute). */
static int bind_waiting(struct dir_sync *s, LDAP *ld, const char *dn, struct berval *cred)
{
    int msgid, rc = ldap_sasl_bind(ld, dn, LDAP_SASL_SIMPLE, cred, NULL, NULL, &msgid);
    if (rc != LDAP_SUCCESS) return rc;
    time_t until = time(NULL) + OPEN_LIMIT_S;
    for (;;) {
        struct timeval tv = {0, 200000};
        LDAPMessage *res = NULL;
        int r = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &res);
        if (r > 0) {
            int err = LDAP_OTHER;
            rc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL, NULL, 1);
            return rc == LDAP_SUCCESS ? err : rc;
        }
        if (r < 0) {
            ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc);
            return rc ? rc : LDAP_SERVER_DOWN;
        }
        if (stopping(s, false, 0) || time(NULL) >= until) {
            ldap_abandon_ext(ld, msgid, NULL, NULL);
            ldap_set_option(ld, LDAP_OPT_RESULT_CODE, &(int){LDAP_TIMEOUT});
            return LDAP_TIMEOUT;
        }
    }
}

static enum dir_rc ldap_open(struct dir_sync *s, LDAP **out, char *msg, size_t n)
{
    const struct dir_cfg *cfg = s->cfg;
    LDAP *ld = NULL;
    char why[300], pw[512];
    int rc = ldap_initialize(&ld, cfg->sync_uri);
    if (rc != LDAP_SUCCESS) {
        snprintf(msg, n, "sync_uri %.200s is not a usable LDAP URI: %s", cfg->sync_uri,
                 ldap_err2string(rc));
        return DIR_ERR_IO;
    }
    int v3 = LDAP_VERSION3, off = 0;
    struct timeval net = {10, 0}, op = {OPEN_LIMIT_S, 0};
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op);
    int idle = 60, probes = 3, interval = 10;
    ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_IDLE, &idle);
    ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_PROBES, &probes);
    ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &interval);
    if (cfg->sync_ca_file[0]) ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg->sync_ca_file);
    int req = cfg->sync_tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &req);
    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &off);
    if (cfg->sync_starttls && strncasecmp(cfg->sync_uri, "ldaps:", 6) != 0) {
        rc = ldap_start_tls_s(ld, NULL, NULL);
        if (rc != LDAP_SUCCESS) {
            ldap_diag(ld, rc, why, sizeof why);
            snprintf(msg, n, "StartTLS with the city LDAP at %.200s failed: %.200s", cfg->sync_uri,
                     why);
            ldap_unbind_ext_s(ld, NULL, NULL);
            return DIR_ERR_IO;
        }
    }
    struct berval cred = {0, NULL};
    if (cfg->sync_password_file[0]) {
        if (dir_cfg_read_secret(cfg->sync_password_file, pw, sizeof pw, why, sizeof why)) {
            snprintf(msg, n, "%s", why);
            ldap_unbind_ext_s(ld, NULL, NULL);
            return DIR_ERR_IO;
        }
        cred.bv_val = pw;
        cred.bv_len = strlen(pw);
    }
    rc = bind_waiting(s, ld, cfg->sync_binddn[0] ? cfg->sync_binddn : NULL, &cred);
    explicit_bzero(pw, sizeof pw);
    if (rc != LDAP_SUCCESS) {
        ldap_diag(ld, rc, why, sizeof why);
        if (rc == LDAP_INVALID_CREDENTIALS)
            snprintf(msg, n,
                     "the city LDAP at %.100s refused the credentials of %.150s: %.120s (check "
                     "sync_binddn and sync_password_file)",
                     cfg->sync_uri, cfg->sync_binddn, why);
        else if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT)
            snprintf(msg, n, "cannot reach the city LDAP at %.200s: %.200s", cfg->sync_uri, why);
        else
            snprintf(msg, n, "binding to the city LDAP at %.200s failed: %.200s", cfg->sync_uri,
                     why);
        ldap_unbind_ext_s(ld, NULL, NULL);
        return DIR_ERR_IO;
    }
    op.tv_sec = IDLE_LIMIT_S; /* searches may be slow to start on a big directory */
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op);
    *out = ld;
    return DIR_OK;
}

/* ---- entries ---- */

static const char *const ATTRS[] = {"entryUUID",       "objectGUID", "uid",
                                    "sAMAccountName",  "cn",         "displayName",
                                    "title",           "mail",       "telephoneNumber",
                                    "mobile",          "ou",         "departmentNumber",
                                    "modifyTimestamp", NULL};

/* True when the search should end: the daemon stops or, for a standing search (PERSIST),
 * a run was asked for or UNTIL (0 = never) has come. */
static bool stopping(struct dir_sync *s, bool persist, time_t until)
{
    pthread_mutex_lock(&s->lock);
    bool st = s->stop || (persist && s->requested);
    pthread_mutex_unlock(&s->lock);
    return st || (persist && until && time(NULL) >= until);
}

/* Waits for the next message of MSGID: 1 with *RES, 0 when the search should end (see
 * stopping) or nothing came within ONCE_US microseconds (ONCE_US < 0: wait on); -1 on
 * failure with MSG. */
static int next_msg(struct dir_sync *s, LDAP *ld, int msgid, bool persist, long once_us,
                    time_t until, LDAPMessage **res, char *msg, size_t n)
{
    time_t idle_since = time(NULL);
    for (;;) {
        if (stopping(s, persist, until)) return 0;
        struct timeval tv = {0, once_us >= 0 ? once_us : 500000};
        int rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, res);
        if (rc > 0) return 1;
        if (rc < 0) {
            int err = 0;
            char why[300];
            ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
            ldap_diag(ld, err, why, sizeof why);
            snprintf(msg, n,
                     "the connection to the city LDAP at %.200s dropped during the "
                     "search: %.200s",
                     s->cfg->sync_uri, why);
            return -1;
        }
        if (once_us >= 0) return 0;
        if (!persist && time(NULL) - idle_since > IDLE_LIMIT_S) {
            snprintf(msg, n, "the city LDAP at %.200s stopped answering for %d s", s->cfg->sync_uri,
                     IDLE_LIMIT_S);
            return -1;
        }
    }
}

/* A paged search (RFC 2696) of FILTER under sync_base into IN. */
static enum dir_rc search_paged(struct dir_sync *s, LDAP *ld, const char *filter,
                                struct dir_sync_intake *in, char *msg, size_t n)
{
    struct berval cookie = {0, NULL};
    enum dir_rc rc = DIR_OK;
    int pages = 0;
    for (;;) {
        LDAPControl *page = NULL, *ctrls[2] = {NULL, NULL};
        int r = ldap_create_page_control(ld, (ber_int_t)s->cfg->sync_page_size,
                                         cookie.bv_val ? &cookie : NULL, 0, &page);
        if (r != LDAP_SUCCESS) {
            snprintf(msg, n, "cannot build the paged-results control: %s", ldap_err2string(r));
            rc = DIR_ERR_IO;
            break;
        }
        ctrls[0] = page;
        int msgid;
        r = ldap_search_ext(ld, s->cfg->sync_base, LDAP_SCOPE_SUBTREE, filter, (char **)ATTRS, 0,
                            ctrls, NULL, NULL, LDAP_NO_LIMIT, &msgid);
        ldap_control_free(page);
        if (r != LDAP_SUCCESS) {
            char why[300];
            ldap_diag(ld, r, why, sizeof why);
            snprintf(msg, n, "searching the city LDAP at %.200s failed: %.200s", s->cfg->sync_uri,
                     why);
            rc = DIR_ERR_IO;
            break;
        }
        bool done = false;
        while (!done) {
            LDAPMessage *res = NULL;
            int got = next_msg(s, ld, msgid, false, -1, 0, &res, msg, n);
            if (got <= 0) {
                if (got == 0) snprintf(msg, n, "stopped");
                rc = DIR_ERR_IO;
                break;
            }
            int type = ldap_msgtype(res);
            if (type == LDAP_RES_SEARCH_ENTRY) {
                dir_sync_msg_entry(ld, res, s->units, s->nunits, false, in);
            } else if (type == LDAP_RES_SEARCH_RESULT) {
                char why[300];
                ber_memfree(cookie.bv_val);
                cookie.bv_val = NULL;
                cookie.bv_len = 0;
                int code = dir_sync_msg_result(ld, res, false, in, &cookie, why, sizeof why);
                if (code != LDAP_SUCCESS) {
                    snprintf(msg, n, "the city LDAP's search under %.200s failed: %.200s",
                             s->cfg->sync_base, why);
                    rc = DIR_ERR_IO;
                }
                done = true;
            }
            ldap_msgfree(res);
        }
        if (rc) break;
        pages++;
        if (!cookie.bv_val || cookie.bv_len == 0) break;
        if (s->test_page_delay_ms > 0) usleep((useconds_t)s->test_page_delay_ms * 1000);
    }
    ber_memfree(cookie.bv_val);
    DIR_LOG(DIR_LOG_DEBUG, "sync", "paged search: %d pages, %d entries", pages, in->received);
    return rc;
}

/* The syncRequestValue control (critical). Caller frees with ldap_control_free. */
static LDAPControl *sync_request(int mode, const char *cookie, size_t cookie_len)
{
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    struct berval bv, c = {cookie_len, (char *)cookie};
    LDAPControl *ctrl = NULL;
    int r = cookie ? ber_printf(ber, "{eON}", (ber_int_t)mode, &c)
                   : ber_printf(ber, "{eN}", (ber_int_t)mode);
    if (r >= 0 && ber_flatten2(ber, &bv, 0) == 0)
        ldap_control_create(LDAP_CONTROL_SYNC, 1, &bv, 1, &ctrl);
    ber_free(ber, 1);
    return ctrl;
}

/* Applies what a persist search has gathered so far; nonzero stops the search. */
typedef enum dir_rc (*flush_fn)(struct dir_sync *s, struct dir_sync_intake *in, void *arg,
                                char *msg, size_t n);

/* An RFC 4533 search of FILTER: refreshOnly (MODE 1) returns at the end of the refresh;
 * refreshAndPersist (3) runs until stopped, a run is requested, FLUSH fails or the
 * connection drops, calling FLUSH whenever changes are waiting and nothing more is ready.
 * *UNSUPPORTED is set when the server does not offer the control; *RELOAD when it says the
 * cookie is too old (e-syncRefreshRequired). */
static enum dir_rc search_sync(struct dir_sync *s, LDAP *ld, int mode, const char *filter,
                               const char *cookie, size_t cookie_len, struct dir_sync_intake *in,
                               flush_fn flush, void *arg, time_t until, bool *unsupported,
                               bool *reload, char *msg, size_t n)
{
    LDAPControl *req = sync_request(mode, cookie, cookie_len);
    LDAPControl *ctrls[2] = {req, NULL};
    int msgid;
    *unsupported = *reload = false;
    if (!req) {
        snprintf(msg, n, "cannot build the sync request control");
        return DIR_ERR_IO;
    }
    int r = ldap_search_ext(ld, s->cfg->sync_base, LDAP_SCOPE_SUBTREE, filter, (char **)ATTRS, 0,
                            ctrls, NULL, NULL, LDAP_NO_LIMIT, &msgid);
    ldap_control_free(req);
    if (r != LDAP_SUCCESS) {
        char why[300];
        ldap_diag(ld, r, why, sizeof why);
        snprintf(msg, n, "the sync search of the city LDAP at %.200s failed: %.200s",
                 s->cfg->sync_uri, why);
        return DIR_ERR_IO;
    }
    bool persist = mode == LDAP_SYNC_REFRESH_AND_PERSIST;
    enum dir_rc rc = DIR_OK;
    for (;;) {
        bool entries = json_array_size(in->entries) > 0;
        bool pending = entries || json_array_size(in->deleted);
        if (persist && json_array_size(in->entries) >= PERSIST_BATCH) {
            if ((rc = flush(s, in, arg, msg, n))) break;
            continue;
        }
        LDAPMessage *res = NULL;
        /* Changed entries are applied as soon as nothing more is ready; deletions wait
         * (HOLD_S), so the 0.5 s wait keeps running while only they are pending. */
        long once = !persist ? -1 : entries ? 0 : pending ? 500000 : -1;
        int got = next_msg(s, ld, msgid, persist, once, until, &res, msg, n);
        if (got < 0) {
            rc = DIR_ERR_IO;
            break;
        }
        if (got == 0) {
            bool ending = stopping(s, persist, until);
            if (persist && pending) {
                in->flush_all = ending;
                if ((rc = flush(s, in, arg, msg, n))) break;
                if (!ending) continue;
            }
            snprintf(msg, n, "stopped");
            rc = persist ? DIR_OK : DIR_ERR_IO;
            break;
        }
        int type = ldap_msgtype(res);
        if (type == LDAP_RES_SEARCH_ENTRY) {
            dir_sync_msg_entry(ld, res, s->units, s->nunits, true, in);
        } else if (type == LDAP_RES_INTERMEDIATE) {
            dir_sync_msg_info(ld, res, in);
        }
        if (json_array_size(in->deleted) && !in->deletes_since) in->deletes_since = time(NULL);
        if (type == LDAP_RES_SEARCH_RESULT) {
            char why[300];
            int code = dir_sync_msg_result(ld, res, true, in, NULL, why, sizeof why);
            if (code == LDAP_SYNC_REFRESH_REQUIRED) {
                *reload = true;
                snprintf(msg, n, "the city LDAP no longer accepts the stored sync cookie");
                rc = DIR_ERR_STATE;
            } else if (code == LDAP_UNAVAILABLE_CRITICAL_EXTENSION ||
                       code == LDAP_UNWILLING_TO_PERFORM || code == LDAP_PROTOCOL_ERROR) {
                *unsupported = true;
                snprintf(msg, n,
                         "the city LDAP at %.200s does not offer RFC 4533 sync "
                         "(no syncprov): %.200s",
                         s->cfg->sync_uri, why);
                rc = DIR_ERR_IO;
            } else if (code != LDAP_SUCCESS) {
                snprintf(msg, n, "the sync search of the city LDAP at %.200s failed: %.200s",
                         s->cfg->sync_uri, why);
                rc = DIR_ERR_IO;
            } else if (persist) {
                snprintf(msg, n, "the city LDAP ended the persistent search");
                rc = DIR_ERR_IO;
            }
            ldap_msgfree(res);
            break;
        }
        ldap_msgfree(res);
    }
    if (rc || persist) ldap_abandon_ext(ld, msgid, NULL, NULL);
    return rc;
}

/* ---- applying ---- */

struct tally {
    struct dir_db_sync_counts n;
    json_t *created, *updated, *deactivated, *skipped;
    int truncated;
};

static void tally_init(struct tally *t)
{
    memset(t, 0, sizeof *t);
    t->created = json_array();
    t->updated = json_array();
    t->deactivated = json_array();
    t->skipped = json_array();
}

static void tally_free(struct tally *t)
{
    json_decref(t->created);
    json_decref(t->updated);
    json_decref(t->deactivated);
    json_decref(t->skipped);
}

static void list_add(struct tally *t, json_t *list, json_t *item)
{
    if (json_array_size(list) < LIST_CAP)
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
    json_object_set(d, "deactivated", t->deactivated);
    json_object_set(d, "skipped", t->skipped);
    if (t->truncated) json_object_set_new(d, "lists_truncated", json_integer(t->truncated));
    return d;
}

/* Upserts IN's entries and deactivates the people in MISSING, counting into T. */
static enum dir_rc apply_changes(struct dir_db_sync *tx, struct dir_sync_intake *in,
                                 json_t *missing, bool dry_run, struct tally *t)
{
    size_t i;
    json_t *e, *p;
    json_array_foreach(in->skipped, i, e)
    {
        t->n.skipped++;
        list_add(t, t->skipped, json_incref(e));
    }
    json_array_foreach(in->entries, i, e)
    {
        json_t *r = NULL;
        if (dir_db_sync_put(tx, e, &r)) return DIR_ERR_DB;
        const char *op = json_string_value(json_object_get(r, "op"));
        json_t *who =
            json_pack("{s:O,s:O,s:O}", "uuid", json_object_get(e, "uuid"), "username",
                      json_object_get(e, "username"), "name_th", json_object_get(e, "name_th"));
        if (!dry_run || !op || strcmp(op, "created") != 0)
            json_object_set(who, "id", json_object_get(r, "id"));
        if (op && strcmp(op, "created") == 0) {
            t->n.created++;
            list_add(t, t->created, who);
        } else if (op && strcmp(op, "updated") == 0) {
            t->n.updated++;
            if (json_is_true(json_object_get(r, "moved")))
                json_object_set(who, "unit", json_object_get(e, "unit"));
            list_add(t, t->updated, who);
        } else if (op && strcmp(op, "unchanged") == 0) {
            t->n.unchanged++;
            json_decref(who);
        } else {
            t->n.skipped++;
            json_object_set(who, "dn", json_object_get(e, "dn"));
            json_object_set(who, "reason", json_object_get(r, "reason"));
            list_add(t, t->skipped, who);
        }
        json_decref(r);
    }
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
    return DIR_OK;
}

/* The active synced people the server said were deleted (a new array). */
static enum dir_rc deleted_people(struct dir_db_sync *tx, json_t *uuids, json_t **out)
{
    *out = json_array();
    size_t i;
    json_t *u;
    json_array_foreach(uuids, i, u)
    {
        json_t *p = NULL;
        if (dir_db_sync_find(tx, json_string_value(u), &p)) return DIR_ERR_DB;
        if (p && json_is_true(json_object_get(p, "active"))) {
            json_object_del(p, "active");
            json_array_append_new(*out, p);
        } else {
            json_decref(p);
        }
    }
    return DIR_OK;
}

static void report_status(struct dir_sync_report *rep, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_status(struct dir_sync_report *rep, const char *status, const char *fmt, ...)
{
    va_list ap;
    snprintf(rep->status, sizeof rep->status, "%s", status);
    va_start(ap, fmt);
    vsnprintf(rep->message, sizeof rep->message, fmt, ap);
    va_end(ap);
}

/* Applies a read: the safety checks, the changes, the resume point and the run's counts,
 * in one transaction (rolled back for a dry or refused run). */
static enum dir_rc apply_run(struct dir_sync *s, const struct dir_sync_req *req, bool full,
                             const char *state_mode, struct dir_sync_intake *in,
                             struct dir_sync_report *rep)
{
    struct dir_db_sync *tx = NULL;
    char err[512];
    struct tally t;
    json_t *missing = NULL;
    int total = 0;
    enum dir_rc rc;
    bool refuse = false;
    char why[600] = "";

    tally_init(&t);
    json_t *extra =
        json_pack("{s:i,s:i,s:b,s:i}", "received", in->received, "presents", in->presents, "full",
                  full, "server_deleted", (int)json_array_size(in->deleted));
    if (full && json_array_size(in->entries) == 0 && !req->force) {
        refuse = true;
        snprintf(why, sizeof why,
                 "the city LDAP returned no entries under %.150s with filter %.150s; refusing "
                 "to deactivate everyone (use --force if that is really meant)",
                 s->cfg->sync_base, s->cfg->sync_filter);
    }
    if ((rc = dir_db_sync_begin(s->db, &tx, err, sizeof err))) {
        report_status(rep, "failed", "PostgreSQL: %s", err);
        goto done;
    }
    if (full)
        dir_db_sync_census(tx, in->uuids, &missing, &total);
    else if (!deleted_people(tx, in->deleted, &missing))
        dir_db_sync_census(tx, NULL, NULL, &total);
    int nmiss = missing ? (int)json_array_size(missing) : 0;
    if (!refuse && nmiss > 0 && !req->force &&
        (long long)nmiss * 100 > (long long)s->cfg->sync_max_deactivate_pct * total) {
        refuse = true;
        snprintf(why, sizeof why,
                 "would deactivate %d of %d synced people (%lld%%), more than "
                 "sync_max_deactivate_pct=%d%%; nothing changed (use --force to apply)",
                 nmiss, total, total ? (long long)nmiss * 100 / total : 100LL,
                 s->cfg->sync_max_deactivate_pct);
    }
    json_object_set_new(extra, "would_deactivate", json_integer(nmiss));
    json_object_set_new(extra, "synced_before", json_integer(total));
    if (refuse && !req->dry_run) {
        dir_db_sync_end(tx, false, err, sizeof err);
        tx = NULL;
        json_object_set(extra, "would_deactivate_people", missing ? missing : json_null());
        report_status(rep, "refused", "%s", why);
        rc = DIR_ERR_STATE;
        goto done;
    }
    if (refuse) json_object_set_new(extra, "would_be_refused", json_string(why));
    if (!apply_changes(tx, in, missing, req->dry_run, &t)) {
        if (!req->dry_run)
            dir_db_sync_save_state(tx, state_mode, in->got_cookie ? in->cookie : NULL,
                                   in->cookie_len, in->watermark, full);
        json_t *d = tally_details(&t, json_deep_copy(extra));
        if (!req->dry_run) dir_db_sync_tx_run_add(tx, rep->run_id, "ok", &t.n, NULL, d);
        json_decref(d);
    }
    rc = dir_db_sync_end(tx, !req->dry_run, err, sizeof err);
    tx = NULL;
    if (rc) {
        memset(&t.n, 0, sizeof t.n);
        json_array_clear(t.created);
        json_array_clear(t.updated);
        json_array_clear(t.deactivated);
        json_array_clear(t.skipped);
        report_status(rep, "failed", "applying the sync to PostgreSQL failed: %s", err);
        goto done;
    }
    rep->n = t.n;
    report_status(rep, req->dry_run ? "dry-run" : "ok",
                  "%s%s sync: %d entries read, %d created, %d updated, %d deactivated, "
                  "%d unchanged, %d skipped",
                  req->dry_run ? "dry run (nothing changed): " : "", rep->mode, in->received,
                  t.n.created, t.n.updated, t.n.deactivated, t.n.unchanged, t.n.skipped);
done:
    json_decref(missing);
    rep->details = tally_details(&t, extra);
    tally_free(&t);
    return rc;
}

/* ---- runs ---- */

static void set_last(struct dir_sync *s, const struct dir_sync_report *rep)
{
    pthread_mutex_lock(&s->lock);
    snprintf(s->last_status, sizeof s->last_status, "%s", rep->status);
    snprintf(s->last_mode, sizeof s->last_mode, "%s", rep->mode);
    snprintf(s->last_message, sizeof s->last_message, "%s", rep->message);
    s->last_run_id = rep->run_id;
    s->last_at = time(NULL);
    if (strcmp(rep->status, "ok") == 0) s->last_ok_at = s->last_at;
    pthread_mutex_unlock(&s->lock);
}

static bool use_syncrepl(const struct dir_sync *s)
{
    const char *m = s->cfg->sync_mode;
    return strcmp(m, "syncrepl") == 0 || strcmp(m, "persist") == 0 ||
           (strcmp(m, "auto") == 0 && !s->no_syncprov);
}

static bool full_due(const struct dir_sync *s, const struct dir_db_sync_state *st)
{
    return st->last_full_at == 0 ||
           time(NULL) - st->last_full_at >= (long long)FULL_EVERY * s->cfg->sync_interval_s;
}

/* Reads LDAP for one run into IN. *FULL may be turned on (the cookie was refused). */
static enum dir_rc read_ldap(struct dir_sync *s, LDAP *ld, const struct dir_db_sync_state *st,
                             bool *full, struct dir_sync_intake *in, char *msg, size_t n)
{
    bool unsupported = false, reload = false;
    enum dir_rc rc;
    const char *filter = s->cfg->sync_filter[0] ? s->cfg->sync_filter : "(objectClass=*)";
    if (!*full && use_syncrepl(s)) {
        rc = search_sync(s, ld, LDAP_SYNC_REFRESH_ONLY, filter, st->cookie, st->cookie_len, in,
                         NULL, NULL, 0, &unsupported, &reload, msg, n);
        if (rc == DIR_OK) return DIR_OK;
        if (!reload && !(unsupported && strcmp(s->cfg->sync_mode, "auto") == 0)) return rc;
        if (unsupported) s->no_syncprov = true;
        dir_sync_intake_free(in);
        dir_sync_intake_init(in);
        *full = true;
        DIR_LOG(DIR_LOG_WARN, "sync", "%s; reading everything", msg);
    }
    if (!*full) {
        /* Poll: what changed since the newest modifyTimestamp seen (>=: that second's
         * entries are read again, harmlessly). */
        char f[1200];
        snprintf(f, sizeof f, "(&%s(modifyTimestamp>=%s))", filter, st->watermark);
        rc = search_paged(s, ld, f, in, msg, n);
        if (!in->watermark[0]) snprintf(in->watermark, sizeof in->watermark, "%s", st->watermark);
        return rc;
    }
    if (use_syncrepl(s)) {
        /* The resume point first: a refreshOnly search that matches nothing answers with
         * the server's current cookie; changes made during the paged read are sent again
         * by the next incremental run. */
        struct dir_sync_intake c;
        dir_sync_intake_init(&c);
        rc = search_sync(s, ld, LDAP_SYNC_REFRESH_ONLY, NOTHING_FILTER, NULL, 0, &c, NULL, NULL, 0,
                         &unsupported, &reload, msg, n);
        if (rc == DIR_OK && c.got_cookie) {
            in->cookie = c.cookie;
            in->cookie_len = c.cookie_len;
            in->got_cookie = true;
            c.cookie = NULL;
        } else if (unsupported && strcmp(s->cfg->sync_mode, "auto") == 0) {
            s->no_syncprov = true;
            DIR_LOG(DIR_LOG_INFO, "sync", "%s; using modifyTimestamp polling", msg);
        } else if (rc) {
            dir_sync_intake_free(&c);
            return rc;
        }
        dir_sync_intake_free(&c);
    }
    return search_paged(s, ld, filter, in, msg, n);
}

enum dir_rc dir_sync_run(struct dir_sync *s, const struct dir_sync_req *req,
                         struct dir_sync_report *rep)
{
    char err[512];
    struct dir_db_sync_state st;
    struct dir_sync_intake in;
    LDAP *ld = NULL;
    enum dir_rc rc;

    memset(rep, 0, sizeof *rep);
    if (!check_config(s, err, sizeof err)) {
        report_status(rep, "failed", "%s", err);
        return DIR_ERR_INVALID;
    }
    pthread_mutex_lock(&s->run_lock);
    pthread_mutex_lock(&s->lock);
    s->running = true;
    pthread_mutex_unlock(&s->lock);
    dir_sync_intake_init(&in);
    if ((rc = dir_db_sync_state_get(s->db, &st, err, sizeof err))) {
        report_status(rep, "failed", "PostgreSQL: %s", err);
        goto out_nostate;
    }
    bool automatic = strcmp(s->cfg->sync_mode, "auto") == 0;
    if (automatic && strcmp(st.mode, "poll") == 0)
        s->no_syncprov = true; /* found by an earlier run (perhaps another process) */
    bool full = req->full || full_due(s, &st) || (use_syncrepl(s) ? !st.cookie : !st.watermark[0]);
    if (full && automatic) s->no_syncprov = false; /* a full run asks the server again */
    snprintf(rep->mode, sizeof rep->mode, "%s",
             full              ? "full"
             : use_syncrepl(s) ? "syncrepl"
                               : "poll");
    if ((rc = dir_db_sync_run_new(s->db, rep->mode, req->trigger ? req->trigger : "cli",
                                  &rep->run_id, err, sizeof err))) {
        report_status(rep, "failed", "PostgreSQL: %s", err);
        goto out;
    }
    if ((rc = ldap_open(s, &ld, err, sizeof err))) {
        report_status(rep, "failed", "%s", err);
        goto out;
    }
    bool was_full = full;
    rc = read_ldap(s, ld, &st, &full, &in, err, sizeof err);
    ldap_unbind_ext_s(ld, NULL, NULL);
    if (full != was_full) snprintf(rep->mode, sizeof rep->mode, "full");
    if (rc) {
        report_status(rep, "failed", "%s; nothing was changed", err);
        rc = DIR_ERR_IO;
        goto out;
    }
    const char *state_mode = use_syncrepl(s) ? "syncrepl" : "poll";
    rc = apply_run(s, req, full, state_mode, &in, rep);
    if (rc == DIR_OK && !req->dry_run && (full || req->force)) s->persist_deactivated = 0;
out:
    if (rep->run_id && strcmp(rep->status, "ok") != 0) {
        json_t *d = rep->details ? rep->details : json_object();
        json_object_set_new(d, "mode", json_string(rep->mode));
        if (dir_db_sync_run_add(s->db, rep->run_id, rep->status,
                                strcmp(rep->status, "dry-run") == 0 ? &rep->n : NULL,
                                strcmp(rep->status, "dry-run") == 0 ? NULL : rep->message, d, err,
                                sizeof err))
            DIR_LOG(DIR_LOG_ERROR, "sync", "cannot record run %lld: %s", rep->run_id, err);
        rep->details = d;
    }
    dir_db_sync_state_free(&st);
out_nostate:
    dir_sync_intake_free(&in);
    if (!rep->details) rep->details = json_object();
    DIR_LOG(strcmp(rep->status, "failed") == 0    ? DIR_LOG_ERROR
            : strcmp(rep->status, "refused") == 0 ? DIR_LOG_WARN
                                                  : DIR_LOG_INFO,
            "sync", "run %lld %s: %s", rep->run_id, rep->status, rep->message);
    set_last(s, rep);
    pthread_mutex_lock(&s->lock);
    s->running = false;
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_unlock(&s->run_lock);
    return rc;
}

void dir_sync_report_free(struct dir_sync_report *rep)
{
    json_decref(rep->details);
    rep->details = NULL;
}

/* ---- persist ---- */

struct persist {
    long long run_id;
    time_t full_at; /* when the next full sync is due */
    bool refused;   /* a batch went past the deactivation limit */
};

static bool wanted_elsewhere(struct dir_sync *s, const struct persist *p)
{
    pthread_mutex_lock(&s->lock);
    bool w = s->stop || s->requested;
    pthread_mutex_unlock(&s->lock);
    return w || time(NULL) >= p->full_at;
}

/* Applies the changes a persist search has gathered, with the cookie, in one transaction. */
static enum dir_rc persist_flush(struct dir_sync *s, struct dir_sync_intake *in, void *arg,
                                 char *msg, size_t n)
{
    struct persist *p = arg;
    struct dir_db_sync *tx = NULL;
    struct tally t;
    json_t *missing = NULL;
    char err[512];
    int total = 0;
    bool take =
        json_array_size(in->deleted) && (in->flush_all || time(NULL) - in->deletes_since >= HOLD_S);
    if (!json_array_size(in->entries) && !take) return DIR_OK; /* only deletions, still held */
    tally_init(&t);
    json_t *none = json_array();
    enum dir_rc rc = dir_db_sync_begin(s->db, &tx, err, sizeof err);
    if (!rc && !deleted_people(tx, take ? in->deleted : none, &missing) &&
        json_array_size(missing) > 0 && !dir_db_sync_census(tx, NULL, NULL, &total)) {
        /* Deletions arrive one by one: the limit counts all of them since the last full
         * (or forced) run, so a mass deletion cannot trickle through. */
        long long would = s->persist_deactivated + (long long)json_array_size(missing);
        if (would * 100 >
            (long long)s->cfg->sync_max_deactivate_pct * (total + s->persist_deactivated)) {
            dir_db_sync_end(tx, false, err, sizeof err);
            snprintf(msg, n,
                     "would deactivate %lld of %d synced people, more than "
                     "sync_max_deactivate_pct=%d%%; nothing changed (run a sync with force)",
                     would, total + s->persist_deactivated, s->cfg->sync_max_deactivate_pct);
            p->refused = true;
            json_decref(missing);
            json_decref(none);
            tally_free(&t);
            return DIR_ERR_STATE;
        }
    }
    if (!rc) {
        if (!apply_changes(tx, in, missing, false, &t)) {
            dir_db_sync_save_state(tx, "persist", in->got_cookie ? in->cookie : NULL,
                                   in->cookie_len, NULL, false);
            json_t *d = tally_details(&t, NULL);
            dir_db_sync_tx_run_add(tx, p->run_id, NULL, &t.n, NULL, d);
            json_decref(d);
        }
        rc = dir_db_sync_end(tx, true, err, sizeof err);
    }
    if (rc) {
        snprintf(msg, n, "applying LDAP changes to PostgreSQL failed: %s", err);
    } else {
        s->persist_deactivated += t.n.deactivated;
        if (t.n.created + t.n.updated + t.n.deactivated)
            DIR_LOG(DIR_LOG_INFO, "sync", "persist: %d created, %d updated, %d deactivated",
                    t.n.created, t.n.updated, t.n.deactivated);
    }
    json_decref(missing);
    json_decref(none);
    tally_free(&t);
    dir_sync_intake_clear_changes(in, take);
    if (!rc && wanted_elsewhere(s, p)) {
        snprintf(msg, n, "stopped");
        return DIR_ERR_STATE; /* ends the search cleanly */
    }
    return rc;
}

/* One refreshAndPersist session: returns when stopped, a run is requested, a full sync is
 * due, or on failure (recorded in its run). */
static enum dir_rc persist_session(struct dir_sync *s)
{
    char err[512];
    struct dir_db_sync_state st;
    struct persist p = {0};
    struct dir_sync_intake in;
    LDAP *ld = NULL;
    struct dir_sync_report rep;
    memset(&rep, 0, sizeof rep);
    snprintf(rep.mode, sizeof rep.mode, "persist");

    if (dir_db_sync_state_get(s->db, &st, err, sizeof err)) {
        report_status(&rep, "failed", "PostgreSQL: %s", err);
        set_last(s, &rep);
        return DIR_ERR_DB;
    }
    if (!st.cookie || full_due(s, &st)) {
        dir_db_sync_state_free(&st);
        struct dir_sync_req full = {.full = true, .trigger = "schedule"};
        enum dir_rc rc = dir_sync_run(s, &full, &rep);
        dir_sync_report_free(&rep);
        return rc;
    }
    p.full_at = st.last_full_at + (time_t)FULL_EVERY * s->cfg->sync_interval_s;
    pthread_mutex_lock(&s->run_lock);
    dir_sync_intake_init(&in);
    enum dir_rc rc = dir_db_sync_run_new(s->db, "persist", "persist", &p.run_id, err, sizeof err);
    if (rc) {
        report_status(&rep, "failed", "PostgreSQL: %s", err);
        goto out;
    }
    rep.run_id = p.run_id;
    if ((rc = ldap_open(s, &ld, err, sizeof err))) {
        report_status(&rep, "failed", "%s", err);
        goto out;
    }
    report_status(&rep, "ok", "persistent search of %s", s->cfg->sync_uri);
    set_last(s, &rep);
    DIR_LOG(DIR_LOG_INFO, "sync", "persistent search of %s (run %lld)", s->cfg->sync_uri, p.run_id);
    bool unsupported, reload;
    const char *filter = s->cfg->sync_filter[0] ? s->cfg->sync_filter : "(objectClass=*)";
    rc = search_sync(s, ld, LDAP_SYNC_REFRESH_AND_PERSIST, filter, st.cookie, st.cookie_len, &in,
                     persist_flush, &p, p.full_at, &unsupported, &reload, err, sizeof err);
    ldap_unbind_ext_s(ld, NULL, NULL);
    if (rc == DIR_ERR_STATE && strcmp(err, "stopped") == 0) rc = DIR_OK;
    if (reload) dir_db_sync_forget_cookie(s->db, err + 256, sizeof err - 256);
    if (p.refused)
        report_status(&rep, "refused", "%s", err);
    else if (rc)
        report_status(&rep, "failed", "%s", err);
    else
        report_status(&rep, "ok", "persistent search ended");
out:
    if (p.run_id) {
        if (dir_db_sync_run_add(s->db, p.run_id, rep.status, NULL, rc ? rep.message : NULL, NULL,
                                err, sizeof err))
            DIR_LOG(DIR_LOG_ERROR, "sync", "cannot record run %lld: %s", p.run_id, err);
    }
    if (rc) DIR_LOG(DIR_LOG_ERROR, "sync", "persist: %s", rep.message);
    set_last(s, &rep);
    dir_sync_intake_free(&in);
    dir_db_sync_state_free(&st);
    pthread_mutex_unlock(&s->run_lock);
    return rc;
}

/* ---- the background thread ---- */

static void *sync_thread(void *arg)
{
    struct dir_sync *s = arg;
    time_t next = time(NULL);
    bool persist = strcmp(s->cfg->sync_mode, "persist") == 0;
    for (;;) {
        struct dir_sync_req req = {.trigger = "schedule"};
        pthread_mutex_lock(&s->lock);
        while (!s->stop && !s->requested && time(NULL) < next) {
            struct timespec ts = {.tv_sec = next, .tv_nsec = 0};
            pthread_cond_timedwait(&s->wake, &s->lock, &ts);
        }
        bool stop = s->stop, requested = s->requested;
        if (requested) {
            req = s->req;
            s->requested = false;
        }
        pthread_mutex_unlock(&s->lock);
        if (stop) break;
        enum dir_rc rc;
        if (persist && !requested) {
            rc = persist_session(s);
        } else {
            struct dir_sync_report rep;
            rc = dir_sync_run(s, &req, &rep);
            dir_sync_report_free(&rep);
        }
        /* A refused persist session would be refused again at once: back off too. */
        bool failed = rc == DIR_ERR_IO || rc == DIR_ERR_DB || (persist && rc == DIR_ERR_STATE);
        pthread_mutex_lock(&s->lock);
        s->failures = failed ? s->failures + 1 : 0;
        int wait = s->cfg->sync_interval_s;
        if (failed) {
            int shift = s->failures > 8 ? 8 : s->failures - 1;
            int backoff = 2 << shift;
            wait = backoff < wait ? backoff : wait;
            DIR_LOG(DIR_LOG_WARN, "sync", "retrying in %d s (failure %d)", wait, s->failures);
        } else if (persist) {
            wait = 0;
        }
        next = time(NULL) + wait;
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

enum dir_rc dir_sync_start(struct dir_sync *s, char *err, size_t errlen)
{
    if (!mode_valid(s->cfg->sync_mode)) {
        snprintf(err, errlen, "sync_mode must be auto, syncrepl, persist, poll or off");
        return DIR_ERR_INVALID;
    }
    if (!dir_sync_configured(s)) return DIR_OK;
    if (!check_config(s, err, errlen)) return DIR_ERR_INVALID;
    char e2[256];
    if (dir_db_sync_close_stale_runs(s->db, e2, sizeof e2)) DIR_LOG(DIR_LOG_WARN, "sync", "%s", e2);
    if (pthread_create(&s->thread, NULL, sync_thread, s) != 0) {
        snprintf(err, errlen, "cannot start the sync thread: %s", strerror(errno));
        return DIR_ERR_IO;
    }
    s->started = true;
    DIR_LOG(DIR_LOG_INFO, "sync", "syncing staff from %s (mode %s, every %d s)", s->cfg->sync_uri,
            s->cfg->sync_mode, s->cfg->sync_interval_s);
    return DIR_OK;
}

void dir_sync_free(struct dir_sync *s)
{
    if (!s) return;
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_broadcast(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    for (int i = 0; i < s->nunits; i++) {
        free(s->units[i].name);
        free(s->units[i].ref);
    }
    pthread_mutex_destroy(&s->run_lock);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}

/* ---- HTTP ---- */

static void respond(struct dir_http_resp *resp, struct dir_problem *p, const char *path)
{
    dir_problem_respond(p, path, resp);
}

static bool body_flags(const struct dir_http_req *req, struct dir_sync_req *r,
                       struct dir_problem *p)
{
    size_t len;
    const char *body = dir_http_body(req, &len);
    if (len == 0) return true;
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    if (!json_is_object(o)) {
        dir_problem_init(p, 400, "invalid-body", "Invalid request body",
                         "The body must be a JSON object like {\"full\": true}.");
        json_decref(o);
        return false;
    }
    const char *key;
    json_t *v;
    bool ok = true;
    dir_problem_init(p, 400, "invalid-body", "Invalid request body",
                     "The body has invalid fields.");
    json_object_foreach(o, key, v)
    {
        bool *dst = strcmp(key, "full") == 0      ? &r->full
                    : strcmp(key, "dry_run") == 0 ? &r->dry_run
                    : strcmp(key, "force") == 0   ? &r->force
                                                  : NULL;
        if (!dst) {
            dir_problem_add(p, key, "ไม่รู้จักช่องนี้ (ใช้ full, dry_run, force)",
                            "unknown field (use full, dry_run, force)");
            ok = false;
        } else if (!json_is_boolean(v)) {
            dir_problem_add(p, key, "ต้องเป็น true หรือ false", "must be true or false");
            ok = false;
        } else {
            *dst = json_is_true(v);
        }
    }
    json_decref(o);
    return ok;
}

bool dir_sync_http_handle(struct dir_sync *s, const struct dir_caller *who, const char *method,
                          char **seg, int nseg, const struct dir_http_req *req,
                          struct dir_http_resp *resp)
{
    if (!s || nseg < 2 || strcmp(seg[0], "admin") != 0 || strcmp(seg[1], "sync") != 0 || nseg > 3 ||
        (nseg == 3 && strcmp(seg[2], "runs") != 0))
        return false;
    const char *path = dir_http_path(req);
    struct dir_problem p;
    bool runs = nseg == 3;
    const char *want = runs ? "GET" : "POST";
    if (strcmp(method, want) != 0 && !(runs && strcmp(method, "HEAD") == 0)) {
        resp->allow = runs ? "GET, HEAD" : "POST";
        dir_problem_init(&p, 405, "method-not-allowed", "Method not allowed",
                         "%.16s is not allowed on this path.", method);
        respond(resp, &p, path);
        return true;
    }
    if (who->role < DIR_ROLE_ADMIN) {
        if (who->role == DIR_ROLE_ANON)
            dir_problem_init(&p, 401, "unauthorized", "Authentication required",
                             "Send an admin API key: 'Authorization: Bearer <API key>'.");
        else
            dir_problem_init(&p, 403, "forbidden", "Forbidden",
                             "Only admins may run the staff sync or read its history.");
        respond(resp, &p, path);
        return true;
    }
    char err[512];
    if (runs) {
        const char *lim = dir_http_arg(req, "limit"), *bef = dir_http_arg(req, "before");
        long long limit = 20, before = 0;
        bool limit_ok = !lim || dir_query_int(lim, 1, 100, &limit);
        if (!limit_ok || (bef && !dir_query_int(bef, 0, LLONG_MAX, &before))) {
            dir_problem_init(&p, 400, "invalid-parameter", "Invalid query parameter",
                             "limit must be 1 to 100 and before a run id.");
            dir_problem_add(&p, !limit_ok ? "limit" : "before", "ค่าไม่ถูกต้อง", "invalid value");
            respond(resp, &p, path);
            return true;
        }
        char *json = NULL;
        if (dir_db_sync_runs(s->db, (int)limit, before, &json, err, sizeof err)) {
            DIR_LOG(DIR_LOG_ERROR, "sync", "run history: %s", err);
            dir_problem_init(&p, 503, "database-unavailable", "Database unavailable",
                             "The run history could not be read; try again shortly.");
            respond(resp, &p, path);
            return true;
        }
        resp->status = 200;
        resp->content_type = "application/json; charset=utf-8";
        resp->cache = "no-store";
        dir_buf_printf(&resp->body, "{\"items\":%s}", json);
        free(json);
        return true;
    }
    struct dir_sync_req r = {.trigger = "api"};
    if (!body_flags(req, &r, &p)) {
        respond(resp, &p, path);
        return true;
    }
    if (!dir_sync_configured(s) || !s->started) {
        dir_problem_init(&p, 409, "sync-not-configured", "Staff sync not configured",
                         "Set sync_uri (and sync_mode other than off) to sync staff from the "
                         "city LDAP.");
        respond(resp, &p, path);
        return true;
    }
    pthread_mutex_lock(&s->lock);
    if (s->requested) { /* merge with the request still waiting */
        r.full = r.full || s->req.full;
        r.force = r.force || s->req.force;
        r.dry_run = r.dry_run && s->req.dry_run;
    }
    s->req = r;
    s->requested = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    DIR_LOG(DIR_LOG_INFO, "sync", "%s asked for a sync run (full=%d dry_run=%d force=%d)",
            who->name, r.full, r.dry_run, r.force);
    resp->status = 202;
    resp->content_type = "application/json; charset=utf-8";
    dir_buf_printf(&resp->body,
                   "{\"accepted\":true,\"full\":%s,\"dry_run\":%s,\"force\":%s,"
                   "\"runs\":\"/v1/admin/sync/runs\"}",
                   r.full ? "true" : "false", r.dry_run ? "true" : "false",
                   r.force ? "true" : "false");
    return true;
}

void dir_sync_health(struct dir_sync *s, struct dir_buf *out)
{
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    dir_buf_printf(
        out, ",\"sync\":{\"configured\":%s,\"mode\":", dir_sync_configured(s) ? "true" : "false");
    dir_buf_add_json_str(out, s->cfg->sync_mode);
    dir_buf_printf(out, ",\"running\":%s,\"last_run\":%lld,\"last_mode\":",
                   s->running ? "true" : "false", s->last_run_id);
    dir_buf_add_json_str(out, s->last_mode);
    dir_buf_adds(out, ",\"last_status\":");
    dir_buf_add_json_str(out, s->last_status);
    dir_buf_adds(out, ",\"last_message\":");
    dir_buf_add_json_str(out, s->last_message);
    dir_buf_printf(out, ",\"last_at\":%lld,\"last_ok_at\":%lld,\"failures\":%d}",
                   (long long)s->last_at, (long long)s->last_ok_at, s->failures);
    pthread_mutex_unlock(&s->lock);
}
