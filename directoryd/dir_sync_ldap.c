/* dir_sync_ldap.c - the staff sync's side of the city LDAP (libldap): the connection (StartTLS,
 * the service account's bind), the paged full read (RFC 2696), the RFC 4533 refresh and the
 * standing refreshAndPersist search. What the server sends is decoded by dir_sync_msg.c
 * into a struct dir_sync_intake; applying it is dir_sync_apply.c's.
 *
 * RFC 4533 is spoken directly with liblber from the RFC's ASN.1 (Debian ships libldap
 * without ldap_sync.h):
 *
 *   syncRequestValue ::= SEQUENCE { mode ENUMERATED { refreshOnly (1), refreshAndPersist (3) },
 *                                   cookie syncCookie OPTIONAL,
 *                                   reloadHint BOOLEAN DEFAULT FALSE }
 *
 * A refresh (3.3 and 3.4 of the RFC) is complete only when the server says so: the Sync Done
 * control of refreshOnly, or a Sync Info refreshPresent / refreshDelete with refreshDone in
 * refreshAndPersist. A refresh cut short (the connection dropped, the server went quiet for
 * IDLE_LIMIT_S, the daemon stopping, a result without Sync Done) fails, so nothing of it is
 * applied and the stored cookie stays. e-syncRefreshRequired (4096) makes the sync forget
 * the cookie and read everything.
 */
#include "dir_sync_int.h"
#include "dir_sync_ad.h"
#include "dir_log.h"

#include <lber.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define IDLE_LIMIT_S 60   /* a search whose server says nothing this long has failed */
#define OPEN_LIMIT_S 10   /* StartTLS and the bind must answer within this */
#define PERSIST_BATCH 200 /* persist applies at most this many changes per transaction */
#define NOTHING_FILTER "(&(objectClass=*)(!(objectClass=*)))"
#define AD_SHOW_DELETED "1.2.840.113556.1.4.417"

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
        if (dir_sync_stopping(s, false, 0) || time(NULL) >= until) {
            ldap_abandon_ext(ld, msgid, NULL, NULL);
            ldap_set_option(ld, LDAP_OPT_RESULT_CODE, &(int){LDAP_TIMEOUT});
            return LDAP_TIMEOUT;
        }
    }
}

enum dir_rc dir_sync_ldap_open(struct dir_sync *s, LDAP **out, char *msg, size_t n)
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

static const char *const ATTRS[] = {"entryUUID",
                                    "objectGUID",
                                    "uid",
                                    "sAMAccountName",
                                    "cn",
                                    "displayName",
                                    "title",
                                    "mail",
                                    "telephoneNumber",
                                    "mobile",
                                    "ou",
                                    "departmentNumber",
                                    "modifyTimestamp",
                                    "userAccountControl",
                                    NULL};

/* Waits for the next message of MSGID: 1 with *RES, 0 when the search should end (see
 * stopping) or nothing came within ONCE_US microseconds (ONCE_US < 0: wait on); -1 on
 * failure with MSG. */
static int next_msg(struct dir_sync *s, LDAP *ld, int msgid, bool persist, long once_us,
                    time_t until, LDAPMessage **res, char *msg, size_t n)
{
    time_t idle_since = time(NULL);
    for (;;) {
        if (dir_sync_stopping(s, persist, until)) return 0;
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

/* What a paged search does with each entry. */
typedef void (*entry_fn)(struct dir_sync *s, LDAP *ld, LDAPMessage *e, void *ctx,
                         struct dir_sync_intake *in);

static void to_intake(struct dir_sync *s, LDAP *ld, LDAPMessage *e, void *ctx,
                      struct dir_sync_intake *in)
{
    (void)ctx;
    dir_sync_msg_entry(ld, e, s->units, s->nunits, false, in);
}

/* A paged search (RFC 2696) of FILTER under BASE for ATTRS, each entry given to FN (with
 * CTX and IN). SHOW_DELETED adds Active Directory's Show Deleted control
 * (1.2.840.113556.1.4.417), so tombstones are found too. */
static enum dir_rc search_paged(struct dir_sync *s, LDAP *ld, const char *base, const char *filter,
                                char **attrs, bool show_deleted, entry_fn fn, void *ctx,
                                struct dir_sync_intake *in, char *msg, size_t n)
{
    struct berval cookie = {0, NULL};
    enum dir_rc rc = DIR_OK;
    int pages = 0;
    for (;;) {
        LDAPControl *page = NULL, *deleted = NULL, *ctrls[3] = {NULL, NULL, NULL};
        int r = ldap_create_page_control(ld, (ber_int_t)s->cfg->sync_page_size,
                                         cookie.bv_val ? &cookie : NULL, 0, &page);
        if (r == LDAP_SUCCESS && show_deleted)
            r = ldap_control_create(AD_SHOW_DELETED, 1, NULL, 0, &deleted);
        if (r != LDAP_SUCCESS) {
            snprintf(msg, n, "cannot build the paged-results control: %s", ldap_err2string(r));
            ldap_control_free(page);
            rc = DIR_ERR_IO;
            break;
        }
        ctrls[0] = page;
        ctrls[1] = deleted;
        int msgid;
        r = ldap_search_ext(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, ctrls, NULL, NULL,
                            LDAP_NO_LIMIT, &msgid);
        ldap_control_free(page);
        ldap_control_free(deleted);
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
                fn(s, ld, res, ctx, in);
            } else if (type == LDAP_RES_SEARCH_RESULT) {
                char why[300];
                ber_memfree(cookie.bv_val);
                cookie.bv_val = NULL;
                cookie.bv_len = 0;
                int code = dir_sync_msg_result(ld, res, false, in, &cookie, why, sizeof why);
                if (code != LDAP_SUCCESS) {
                    snprintf(msg, n, "the city LDAP's search under %.200s failed: %.200s", base,
                             why);
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

/* True when a persist search has something to apply: changed entries, deletions, or the
 * end of a present phase (its omissions). */
static bool persist_pending(const struct dir_sync_intake *in)
{
    return json_array_size(in->entries) || json_array_size(in->deleted) ||
           (in->present_phase && in->refresh_done);
}

/* An RFC 4533 search of FILTER: refreshOnly (MODE 1) returns at the end of the refresh;
 * refreshAndPersist (3, with P) runs until stopped, a run is requested, an apply fails or
 * the connection drops, applying (dir_sync_apply_persist) whenever changes are waiting and
 * nothing more is ready. *UNSUPPORTED is set when the server does not offer the control;
 * *RELOAD when it says the cookie is too old (e-syncRefreshRequired). */
static enum dir_rc search_sync(struct dir_sync *s, LDAP *ld, int mode, const char *filter,
                               const char *cookie, size_t cookie_len, struct dir_sync_intake *in,
                               struct dir_sync_persist *p, time_t until, bool *unsupported,
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
        bool pending = persist_pending(in);
        if (persist && json_array_size(in->entries) >= PERSIST_BATCH) {
            if ((rc = dir_sync_apply_persist(s, in, p, msg, n))) break;
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
            bool ending = dir_sync_stopping(s, persist, until);
            if (persist && pending) {
                in->flush_all = ending;
                if ((rc = dir_sync_apply_persist(s, in, p, msg, n))) break;
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
            } else if (!in->refresh_done) {
                snprintf(msg, n,
                         "the city LDAP at %.200s ended the sync search without saying the "
                         "refresh was complete (no Sync Done control)",
                         s->cfg->sync_uri);
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

/* Active Directory: the identity of each entry into the JSON array CTX. */
static void collect_identity(struct dir_sync *s, LDAP *ld, LDAPMessage *e, void *ctx,
                             struct dir_sync_intake *in)
{
    (void)s;
    (void)in;
    char uuid[37];
    if (dir_sync_msg_identity(ld, e, uuid)) json_array_append_new((json_t *)ctx, json_string(uuid));
}

/* Polls Active Directory (AD, probed just now) into IN: a full paged read when *FULL or when
 * the stored watermark is not this DC's (*FULL turned on); else what changed since the
 * watermark's USN. Who is gone then: every user object changed since that USN anywhere in
 * the domain, tombstones included (Show Deleted), that the changed-entries search under the
 * sync's base and filter did not return: deleted, moved out of the base, disabled, or no
 * longer matching the filter. The changed objects are read first, so an entry changed
 * between the two searches is sent, never taken for gone. The new watermark is the USN read
 * before both searches: what changes during them is read again next time. */
static enum dir_rc read_ad(struct dir_sync *s, LDAP *ld, const struct dir_sync_ad *ad,
                           const char *filter, const struct dir_db_sync_state *st, bool *full,
                           struct dir_sync_intake *in, char *msg, size_t n)
{
    long long since = 0;
    const char *base = s->cfg->sync_base;
    enum dir_rc rc;
    if (!*full && !dir_sync_ad_since(ad, st->watermark, &since)) {
        DIR_LOG(DIR_LOG_WARN, "sync",
                "the stored watermark (%s) is not from this domain controller (invocationId "
                "%s, USN %lld): reading everything",
                st->watermark[0] ? st->watermark : "none", ad->invocation, ad->usn);
        *full = true;
        in->dc_changed = st->watermark[0] != '\0';
    }
    if (*full) {
        rc = search_paged(s, ld, base, filter, (char **)ATTRS, false, to_intake, NULL, in, msg, n);
    } else {
        char f[1400];
        char *gattrs[] = {"objectGUID", NULL};
        json_t *changed = json_array();
        snprintf(f, sizeof f, "(&(objectClass=user)(uSNChanged>=%lld))", since + 1);
        rc = search_paged(s, ld, ad->naming_context, f, gattrs, true, collect_identity, changed, in,
                          msg, n);
        if (!rc) {
            snprintf(f, sizeof f, "(&%s(uSNChanged>=%lld))", filter, since + 1);
            rc = search_paged(s, ld, base, f, (char **)ATTRS, false, to_intake, NULL, in, msg, n);
        }
        if (!rc) {
            struct dir_sync_seen *named = dir_sync_seen_new();
            size_t i;
            json_t *v;
            json_array_foreach(in->deleted, i, v)
                dir_sync_seen_add(named, json_string_value(v), DIR_SYNC_SEEN_SENT);
            json_array_foreach(changed, i, v)
            {
                const char *u = json_string_value(v);
                if (dir_sync_seen_get(in->seen, u) != DIR_SYNC_SEEN_NONE ||
                    dir_sync_seen_get(named, u) != DIR_SYNC_SEEN_NONE)
                    continue;
                dir_sync_seen_add(named, u, DIR_SYNC_SEEN_SENT);
                json_array_append(in->deleted, v);
            }
            dir_sync_seen_free(named);
        }
        json_decref(changed);
    }
    if (!rc) dir_sync_ad_watermark(ad, in->watermark, sizeof in->watermark);
    return rc;
}

enum dir_rc dir_sync_ldap_read(struct dir_sync *s, LDAP *ld, const struct dir_db_sync_state *st,
                               bool *full, struct dir_sync_intake *in, char *msg, size_t n)
{
    bool unsupported = false, reload = false;
    enum dir_rc rc;
    const char *filter = s->cfg->sync_filter[0] ? s->cfg->sync_filter : "(objectClass=*)";
    const char *m = s->cfg->sync_mode;
    if (strcmp(m, "poll") == 0 || strcmp(m, "auto") == 0) {
        struct dir_sync_ad ad;
        if ((rc = dir_sync_ad_probe(ld, &ad, msg, n))) return rc;
        if (ad.is_ad) {
            s->no_syncprov = true; /* AD has no RFC 4533 */
            return read_ad(s, ld, &ad, filter, st, full, in, msg, n);
        }
        if (!*full && !dir_sync_uses_syncrepl(s) && strncmp(st->watermark, "usn:", 4) == 0) {
            DIR_LOG(DIR_LOG_WARN, "sync",
                    "the stored watermark is Active Directory's and the city LDAP is not: "
                    "reading everything");
            *full = true;
        }
    }
    if (!*full && dir_sync_uses_syncrepl(s)) {
        rc = search_sync(s, ld, LDAP_SYNC_REFRESH_ONLY, filter, st->cookie, st->cookie_len, in,
                         NULL, 0, &unsupported, &reload, msg, n);
        if (rc == DIR_OK) return DIR_OK;
        if (!reload && !(unsupported && strcmp(s->cfg->sync_mode, "auto") == 0)) return rc;
        if (unsupported) s->no_syncprov = true;
        dir_sync_intake_free(in);
        dir_sync_intake_init(in);
        if (reload) {
            /* RFC 4533 3.8: the content must be read again. The cookie goes now, so that
             * even if this run fails or is refused the next one does not offer it again. */
            char e2[256];
            if (dir_db_sync_forget_cookie(s->db, e2, sizeof e2))
                DIR_LOG(DIR_LOG_WARN, "sync", "cannot forget the sync cookie: %s", e2);
            in->refresh_required = true;
        }
        *full = true;
        DIR_LOG(DIR_LOG_WARN, "sync", "%s; reading everything", msg);
    }
    if (!*full) {
        /* Poll: what changed since the newest modifyTimestamp seen (>=: that second's
         * entries are read again, harmlessly). */
        char f[1200];
        snprintf(f, sizeof f, "(&%s(modifyTimestamp>=%s))", filter, st->watermark);
        rc = search_paged(s, ld, s->cfg->sync_base, f, (char **)ATTRS, false, to_intake, NULL, in,
                          msg, n);
        if (!in->watermark[0]) snprintf(in->watermark, sizeof in->watermark, "%s", st->watermark);
        return rc;
    }
    if (dir_sync_uses_syncrepl(s)) {
        /* The resume point first: a refreshOnly search that matches nothing answers with
         * the server's current cookie; changes made during the paged read are sent again
         * by the next incremental run. */
        struct dir_sync_intake c;
        dir_sync_intake_init(&c);
        rc = search_sync(s, ld, LDAP_SYNC_REFRESH_ONLY, NOTHING_FILTER, NULL, 0, &c, NULL, 0,
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
    return search_paged(s, ld, s->cfg->sync_base, filter, (char **)ATTRS, false, to_intake, NULL,
                        in, msg, n);
}

enum dir_rc dir_sync_ldap_persist(struct dir_sync *s, LDAP *ld, const char *cookie,
                                  size_t cookie_len, struct dir_sync_intake *in,
                                  struct dir_sync_persist *p, time_t until, bool *reload, char *msg,
                                  size_t n)
{
    bool unsupported;
    const char *filter = s->cfg->sync_filter[0] ? s->cfg->sync_filter : "(objectClass=*)";
    return search_sync(s, ld, LDAP_SYNC_REFRESH_AND_PERSIST, filter, cookie, cookie_len, in, p,
                       until, &unsupported, reload, msg, n);
}
