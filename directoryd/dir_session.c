/* dir_session.c - login against the city LDAP or local accounts, signed session tokens. */
#include "dir_session.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_query.h"
#include "dir_text.h"

#include <ldap.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW_S (15 * 60)
#define MAX_USER_FAILS 5
#define MAX_ADDR_FAILS 20

struct brake {
    char key[160]; /* "u:<folded username>" or "a:<address>" */
    int fails;
    time_t since;
    unsigned long long seq; /* insertion order: older entries make room first */
};

struct dir_sessions {
    const struct dir_cfg *cfg;
    struct dir_db *db;
    uint8_t key[32];
    pthread_mutex_t lock; /* guards the brake */
    struct brake *brakes; /* cfg->login_brake_slots of them */
    int nbrakes;
    unsigned long long brake_seq;
};

static void brake_alloc(struct dir_sessions *s)
{
    s->nbrakes = s->cfg->login_brake_slots >= 16 ? s->cfg->login_brake_slots : 16;
    s->brakes = dir_xcalloc((size_t)s->nbrakes, sizeof *s->brakes);
}

enum dir_rc dir_session_init(const struct dir_cfg *cfg, struct dir_db *db, struct dir_db *read_db,
                             struct dir_sessions **out, char *err, size_t errlen)
{
    struct dir_sessions *s = dir_xcalloc(1, sizeof *s);
    uint8_t candidate[32];
    s->cfg = cfg;
    s->db = db;
    /* The key is read where reads go (a standby has it too, and may be all that answers
     * while the primary is down); only a database without one yet needs DB to create it. */
    char e2[256];
    enum dir_rc rc =
        read_db ? dir_db_server_key_read(read_db, s->key, e2, sizeof e2) : DIR_ERR_NOTFOUND;
    if (rc) {
        randombytes_buf(candidate, sizeof candidate);
        rc = dir_db_server_key(db, candidate, s->key, err, errlen);
        sodium_memzero(candidate, sizeof candidate);
    }
    if (rc) {
        free(s);
        return rc;
    }
    pthread_mutex_init(&s->lock, NULL);
    brake_alloc(s);
    *out = s;
    return DIR_OK;
}

struct dir_sessions *dir_session_new_for_tests(const struct dir_cfg *cfg, const uint8_t key[32])
{
    struct dir_sessions *s = dir_xcalloc(1, sizeof *s);
    s->cfg = cfg;
    memcpy(s->key, key, sizeof s->key);
    pthread_mutex_init(&s->lock, NULL);
    brake_alloc(s);
    return s;
}

void dir_session_free(struct dir_sessions *s)
{
    if (!s) return;
    pthread_mutex_destroy(&s->lock);
    sodium_memzero(s->key, sizeof s->key);
    free(s->brakes);
    free(s);
}

/* ---- the brake on guessing ----
 *
 * One entry per username and per client address, each counting failures over a window of
 * WINDOW_S from its first failure; the table holds login_brake_slots entries (default 16,384,
 * about 3 MB). A braked entry (at its limit of failures) is never evicted before its window
 * ends: an attacker who floods the table with new usernames cannot push it out. When the
 * table is full, the entry below its limit tracked the longest makes room (by insertion
 * order, not by the second it began), so a count is forgotten only after every unbraked entry
 * tracked before it has gone: at the default size, wiping one name's count costs thousands
 * of failed logins, and saturating the table with braked entries about 80,000 within the
 * window from 4,000 addresses or more (each address is braked at MAX_ADDR_FAILS). When every
 * slot holds a braked entry, names not in the table are refused (429) until the oldest
 * window ends. */

static bool braked(const struct brake *b)
{
    return b->fails >= (b->key[0] == 'u' ? MAX_USER_FAILS : MAX_ADDR_FAILS);
}

static struct brake *brake_find(struct dir_sessions *s, const char *key, time_t now)
{
    for (int i = 0; i < s->nbrakes; i++) {
        struct brake *b = &s->brakes[i];
        if (b->key[0] && now - b->since >= WINDOW_S) b->key[0] = '\0'; /* the window passed */
        if (b->key[0] && strcmp(b->key, key) == 0) return b;
    }
    return NULL;
}

/* A slot for a new key: a free one, else the entry below its limit tracked the longest; never
 * KEEP (the other key of the same failed attempt); NULL when every other slot is braked. */
static struct brake *brake_room(struct dir_sessions *s, time_t now, const struct brake *keep)
{
    struct brake *victim = NULL;
    for (int i = 0; i < s->nbrakes; i++) {
        struct brake *b = &s->brakes[i];
        if (b == keep) continue;
        if (!b->key[0] || now - b->since >= WINDOW_S) return b;
        if (!braked(b) && (!victim || b->seq < victim->seq)) victim = b;
    }
    return victim;
}

/* How many slots other than U and A could take a new key (free, expired or unbraked), up to
 * 2: a failed attempt needs one for each of its username and address not yet tracked. */
static int brake_spare(struct dir_sessions *s, time_t now, const struct brake *u,
                       const struct brake *a)
{
    int n = 0;
    for (int i = 0; i < s->nbrakes && n < 2; i++) {
        const struct brake *b = &s->brakes[i];
        if (b != u && b != a && (!b->key[0] || now - b->since >= WINDOW_S || !braked(b))) n++;
    }
    return n;
}

/* Seconds until the oldest braked window ends (the table is full of them). */
static int brake_full_wait(struct dir_sessions *s, time_t now)
{
    time_t oldest = now;
    for (int i = 0; i < s->nbrakes; i++)
        if (s->brakes[i].key[0] && s->brakes[i].since < oldest) oldest = s->brakes[i].since;
    int w = (int)(oldest + WINDOW_S - now);
    return w > 0 ? w : 1;
}

/* Seconds to wait before UKEY (NULL: no username counted) and AKEY may try again; 0 if they
 * may now. */
static int brake_wait(struct dir_sessions *s, const char *ukey, const char *akey, time_t now)
{
    int wait = 0;
    pthread_mutex_lock(&s->lock);
    struct brake *u = ukey ? brake_find(s, ukey, now) : NULL, *a = brake_find(s, akey, now);
    if (u && braked(u)) wait = (int)(u->since + WINDOW_S - now);
    if (a && braked(a) && (int)(a->since + WINDOW_S - now) > wait)
        wait = (int)(a->since + WINDOW_S - now);
    /* A failure could not be counted in full: refuse rather than guess unbraked. */
    int need = (ukey && !u) + !a;
    if (!wait && need && brake_spare(s, now, u, a) < need) wait = brake_full_wait(s, now);
    pthread_mutex_unlock(&s->lock);
    return wait > 0 ? wait : 0;
}

/* Counts a failure for KEY, never making room with KEEP; returns its entry (NULL: no room). */
static struct brake *brake_fail(struct dir_sessions *s, const char *key, time_t now,
                                const struct brake *keep)
{
    struct brake *b = brake_find(s, key, now);
    if (!b && (b = brake_room(s, now, keep)) != NULL) {
        snprintf(b->key, sizeof b->key, "%s", key);
        b->fails = 0;
        b->since = now;
        b->seq = ++s->brake_seq;
    }
    if (b) b->fails++;
    return b;
}

/* Counts a failure (or clears the username after a success); UKEY NULL counts AKEY only. */
static void brake_note(struct dir_sessions *s, const char *ukey, const char *akey, bool ok,
                       time_t now)
{
    pthread_mutex_lock(&s->lock);
    if (ok && ukey) {
        struct brake *u = brake_find(s, ukey, now);
        if (u) u->key[0] = '\0';
    } else if (!ok) {
        /* Neither key of this attempt may make room by evicting the other. */
        struct brake *a = brake_find(s, akey, now);
        brake_fail(s, akey, now, ukey ? brake_fail(s, ukey, now, a) : NULL);
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- tokens ---- */

static void mac_hex(const struct dir_sessions *s, const char *msg, size_t len, char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256(mac, (const unsigned char *)msg, len, s->key);
    sodium_bin2hex(out, 65, mac, sizeof mac);
}

static void csrf_of(const struct dir_sessions *s, const char *sid, char out[33])
{
    char msg[64], mac[65];
    int n = snprintf(msg, sizeof msg, "csrf.%s", sid);
    mac_hex(s, msg, (size_t)n, mac);
    memcpy(out, mac, 32);
    out[32] = '\0';
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The hex form of a username for tokens and logout marks. */
static void user_hex(const char *username, char out[2 * 64 + 1])
{
    size_t n = strlen(username);
    sodium_bin2hex(out, 2 * 64 + 1, (const unsigned char *)username, n > 64 ? 64 : n);
}

static void make_token(struct dir_sessions *s, struct dir_session_info *info, enum dir_role base,
                       char *token, size_t tn)
{
    unsigned char raw[16];
    char uhex[2 * 64 + 1], mac[65];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(info->sid, sizeof info->sid, raw, sizeof raw);
    user_hex(info->username, uhex);
    info->issued_ms = now_ms();
    int n = snprintf(token, tn, "v2.%s.%s.%s.%lld.%lld.%s", info->sid, info->kind,
                     dir_auth_role_name(base), info->issued_ms, info->expires, uhex);
    mac_hex(s, token, (size_t)n, mac);
    snprintf(token + n, tn - (size_t)n, ".%s", mac);
    csrf_of(s, info->sid, info->csrf);
}

/* True when USERNAME logged out everywhere after a session issued at ISSUED_MS began: M holds
 * marks "u.<hex username>.<ms>" among the revoked session ids (sorted). */
static bool logged_out_since(const struct dir_model *m, const char *username, long long issued_ms)
{
    char prefix[2 + 2 * 64 + 2], uhex[2 * 64 + 1];
    user_hex(username, uhex);
    int plen = snprintf(prefix, sizeof prefix, "u.%s.", uhex);
    int lo = 0, hi = m->nrevoked;
    while (lo < hi) { /* the first id >= PREFIX */
        int mid = lo + (hi - lo) / 2;
        if (strcmp(m->revoked[mid], prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int i = lo; i < m->nrevoked && strncmp(m->revoked[i], prefix, (size_t)plen) == 0; i++) {
        long long at;
        if (dir_query_int(m->revoked[i] + plen, 0, LLONG_MAX, &at) && at >= issued_ms) return true;
    }
    return false;
}

/* The role the database gives USERNAME now (KIND local: its account; person: an admin's
 * setting over BASE, the role of the city LDAP groups at login). False when the account is
 * gone or disabled. Without a database answer, BASE stands. */
static bool current_role(struct dir_sessions *s, const char *kind, const char *username,
                         enum dir_role base, enum dir_role *role)
{
    char role_s[16], err[256];
    *role = base;
    if (!s->db) return true;
    if (strcmp(kind, "local") == 0) {
        char hash[256];
        enum dir_rc rc = dir_db_local_account(s->db, username, hash, sizeof hash, role_s,
                                              sizeof role_s, err, sizeof err);
        sodium_memzero(hash, sizeof hash);
        if (rc == DIR_ERR_NOTFOUND) return false;
        if (rc == DIR_OK && dir_auth_role_parse(role_s) > 0)
            *role = (enum dir_role)dir_auth_role_parse(role_s);
        return true;
    }
    if (dir_db_staff_role(s->db, username, role_s, sizeof role_s, err, sizeof err) == DIR_OK &&
        dir_auth_role_parse(role_s) > 0)
        *role = (enum dir_role)dir_auth_role_parse(role_s);
    return true;
}

bool dir_session_verify(struct dir_sessions *s, const struct dir_model *m, const char *token,
                        struct dir_session_info *info)
{
    char buf[512], mac[65];
    size_t len = strlen(token);
    if (len >= sizeof buf || strncmp(token, "v2.", 3) != 0) return false;
    const char *dot = strrchr(token, '.');
    if (!dot || strlen(dot + 1) != 64) return false;
    mac_hex(s, token, (size_t)(dot - token), mac);
    if (sodium_memcmp(mac, dot + 1, 64) != 0) return false;
    memcpy(buf, token, len + 1);
    char *f[8], *save = NULL;
    int k = 0;
    for (char *p = strtok_r(buf, ".", &save); p && k < 8; p = strtok_r(NULL, ".", &save))
        f[k++] = p;
    if (k != 8) return false;
    memset(info, 0, sizeof *info);
    snprintf(info->sid, sizeof info->sid, "%s", f[1]);
    snprintf(info->kind, sizeof info->kind, "%s", f[2]);
    int base = dir_auth_role_parse(f[3]);
    size_t ulen = 0;
    if (base < 0 || !dir_query_int(f[4], 0, LLONG_MAX, &info->issued_ms) ||
        !dir_query_int(f[5], 0, LLONG_MAX, &info->expires) || info->expires <= time(NULL) ||
        sodium_hex2bin((unsigned char *)info->username, sizeof info->username - 1, f[6],
                       strlen(f[6]), NULL, &ulen, NULL) != 0)
        return false;
    info->username[ulen] = '\0';
    /* Only this server signs tokens, but what it reads back is still checked: a known kind,
     * a session id of 32 hex digits and a username of UTF-8 text. */
    if ((strcmp(info->kind, "person") != 0 && strcmp(info->kind, "local") != 0) ||
        strlen(f[1]) != 32 || strspn(f[1], "0123456789abcdef") != 32 || ulen == 0 ||
        !dir_text_utf8_valid(info->username, ulen))
        return false;
    if (m && dir_model_session_revoked(m, info->sid)) return false;
    info->base_role = (enum dir_role)base;
    if (!dir_session_recheck(s, m, info)) return false;
    csrf_of(s, info->sid, info->csrf);
    return true;
}

bool dir_session_recheck(struct dir_sessions *s, const struct dir_model *m,
                         struct dir_session_info *info)
{
    if (m && logged_out_since(m, info->username, info->issued_ms)) return false;
    /* The role is the database's now, not the one at login: a lowered role applies at once. */
    return current_role(s, info->kind, info->username, info->base_role, &info->role);
}

/* ---- the city LDAP ---- */

static LDAP *city_connect(const struct dir_cfg *cfg, char *err, size_t errlen)
{
    LDAP *ld = NULL;
    int v3 = LDAP_VERSION3, rc;
    struct timeval tv = {5, 0};
    if ((rc = ldap_initialize(&ld, cfg->sync_uri)) != LDAP_SUCCESS) {
        snprintf(err, errlen, "city LDAP URI: %s", ldap_err2string(rc));
        return NULL;
    }
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    int req = cfg->sync_tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &req);
    if (cfg->sync_ca_file[0]) ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg->sync_ca_file);
    if (cfg->sync_ca_file[0] || !cfg->sync_tls_verify) {
        int zero = 0;
        ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
    }
    if (cfg->sync_starttls && (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
        snprintf(err, errlen, "city LDAP StartTLS: %s", ldap_err2string(rc));
        ldap_unbind_ext_s(ld, NULL, NULL);
        return NULL;
    }
    return ld;
}

static int simple_bind(LDAP *ld, const char *dn, const char *password)
{
    struct berval cred = {.bv_val = (char *)password, .bv_len = strlen(password)};
    return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

/* The role the groups of DN give, from cfg->role_groups ("cn=role,cn=role"). */
static enum dir_role role_from_groups(const struct dir_cfg *cfg, LDAP *ld, const char *dn,
                                      char **member_of)
{
    enum dir_role best = DIR_ROLE_CASEWORKER;
    char map[sizeof cfg->role_groups], *save = NULL;
    dir_cfg_live_rdlock(); /* SIGHUP may change it (obs) */
    snprintf(map, sizeof map, "%s", cfg->role_groups);
    dir_cfg_live_unlock();
    /* Group names: from memberOf if the server keeps it, else a search for groupOfNames. */
    char **names = NULL;
    int n = 0;
    LDAPMessage *res = NULL;
    if (member_of) {
        for (char **m = member_of; *m; m++) {
            LDAPDN parsed = NULL;
            if (ldap_str2dn(*m, &parsed, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && parsed &&
                parsed[0] && parsed[0][0]) {
                names = dir_xrealloc(names, sizeof *names * (size_t)(n + 1));
                names[n++] = dir_xstrdup(parsed[0][0]->la_value.bv_val);
            }
            ldap_dnfree(parsed);
        }
    } else {
        struct berval bdn = {.bv_val = (char *)dn, .bv_len = strlen(dn)}, esc = {0};
        if (ldap_bv2escaped_filter_value(&bdn, &esc) == 0) {
            char filter[1024];
            snprintf(filter, sizeof filter, "(&(objectClass=groupOfNames)(member=%s))", esc.bv_val);
            ber_memfree(esc.bv_val);
            char *attrs[] = {"cn", NULL};
            if (ldap_search_ext_s(ld, cfg->sync_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL,
                                  NULL, NULL, 500, &res) == LDAP_SUCCESS) {
                for (LDAPMessage *e = ldap_first_entry(ld, res); e; e = ldap_next_entry(ld, e)) {
                    struct berval **v = ldap_get_values_len(ld, e, "cn");
                    if (v && v[0]) {
                        names = dir_xrealloc(names, sizeof *names * (size_t)(n + 1));
                        names[n++] = dir_xstrndup(v[0]->bv_val, v[0]->bv_len);
                    }
                    ldap_value_free_len(v);
                }
            }
            ldap_msgfree(res);
        }
    }
    for (char *pair = strtok_r(map, ",", &save); pair; pair = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(pair, '=');
        if (!eq) continue;
        *eq = '\0';
        int role = dir_auth_role_parse(eq + 1);
        for (int i = 0; i < n && role > 0; i++)
            if (strcasecmp(names[i], pair) == 0 && role > (int)best) best = (enum dir_role)role;
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return best;
}

/* DIR_LOGIN_OK with the role and, in CANON, the username the entry has (its uid or
 * sAMAccountName: staff of Active Directory may type their userPrincipalName); BAD; or
 * UNAVAILABLE with ERR. */
static enum dir_login city_login(struct dir_sessions *s, const char *username, const char *password,
                                 enum dir_role *role, char canon[65], char *err, size_t errlen)
{
    const struct dir_cfg *cfg = s->cfg;
    char svc[512], msg[256];
    enum dir_login out = DIR_LOGIN_UNAVAILABLE;
    if (!cfg->sync_uri[0]) {
        snprintf(err, errlen, "no city LDAP is configured");
        return DIR_LOGIN_BAD;
    }
    if (dir_cfg_read_secret(cfg->sync_password_file, svc, sizeof svc, msg, sizeof msg)) {
        snprintf(err, errlen, "%s", msg);
        return DIR_LOGIN_UNAVAILABLE;
    }
    LDAP *ld = city_connect(cfg, err, errlen);
    LDAPMessage *res = NULL;
    char *dn = NULL;
    if (!ld) goto out;
    int rc = simple_bind(ld, cfg->sync_binddn, svc);
    if (rc != LDAP_SUCCESS) {
        snprintf(err, errlen, "city LDAP service bind: %s", ldap_err2string(rc));
        goto out;
    }
    struct berval bu = {.bv_val = (char *)username, .bv_len = strlen(username)}, esc = {0};
    if (ldap_bv2escaped_filter_value(&bu, &esc) != 0) goto out;
    char filter[1024];
    /* uid (OpenLDAP), or Active Directory's sAMAccountName or userPrincipalName (user@realm);
     * a server without one of these attributes takes its test as undefined (RFC 4511 4.5.1.7). */
    snprintf(filter, sizeof filter, "(&%s(|(uid=%s)(sAMAccountName=%s)(userPrincipalName=%s)))",
             cfg->sync_filter, esc.bv_val, esc.bv_val, esc.bv_val);
    ber_memfree(esc.bv_val);
    char *attrs[] = {"memberOf", "uid", "sAMAccountName", NULL};
    rc = ldap_search_ext_s(ld, cfg->sync_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL,
                           NULL, 2, &res);
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
        snprintf(err, errlen, "city LDAP search: %s", ldap_err2string(rc));
        goto out;
    }
    out = DIR_LOGIN_BAD;
    if (ldap_count_entries(ld, res) != 1) {
        snprintf(err, errlen, "no single city LDAP entry for this username");
        goto out;
    }
    LDAPMessage *e = ldap_first_entry(ld, res);
    dn = ldap_get_dn(ld, e);
    snprintf(canon, 65, "%s", username);
    for (int a = 0; a < 2; a++) {
        struct berval **un = ldap_get_values_len(ld, e, a == 0 ? "uid" : "sAMAccountName");
        char raw[65], low[65];
        if (un && un[0] && un[0]->bv_len < sizeof raw &&
            !memchr(un[0]->bv_val, '\0', un[0]->bv_len)) {
            memcpy(raw, un[0]->bv_val, un[0]->bv_len);
            raw[un[0]->bv_len] = '\0';
            if (dir_session_username(raw, low)) {
                snprintf(canon, 65, "%s", low);
                a = 2;
            }
        }
        ldap_value_free_len(un);
    }
    struct berval **mo = ldap_get_values_len(ld, e, "memberOf");
    char **member_of = NULL;
    int nmo = ldap_count_values_len(mo);
    if (nmo > 0) {
        member_of = dir_xcalloc((size_t)nmo + 1, sizeof *member_of);
        for (int i = 0; i < nmo; i++)
            member_of[i] = dir_xstrndup(mo[i]->bv_val, mo[i]->bv_len);
    }
    ldap_value_free_len(mo);
    /* The user's own bind checks the password (on a fresh connection, so the service
     * account's rights are not reused). */
    LDAP *user = city_connect(cfg, err, errlen);
    if (!user) {
        out = DIR_LOGIN_UNAVAILABLE;
    } else {
        rc = simple_bind(user, dn, password);
        if (rc == LDAP_SUCCESS) {
            *role = role_from_groups(cfg, ld, dn, member_of);
            out = DIR_LOGIN_OK;
        } else if (rc != LDAP_INVALID_CREDENTIALS) {
            snprintf(err, errlen, "city LDAP user bind: %s", ldap_err2string(rc));
            out = rc == LDAP_SERVER_DOWN || rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY
                      ? DIR_LOGIN_UNAVAILABLE
                      : DIR_LOGIN_BAD;
        } else {
            snprintf(err, errlen, "wrong password");
        }
        ldap_unbind_ext_s(user, NULL, NULL);
    }
    for (int i = 0; member_of && member_of[i]; i++)
        free(member_of[i]);
    free(member_of);
out:
    sodium_memzero(svc, sizeof svc);
    if (dn) ldap_memfree(dn);
    ldap_msgfree(res);
    if (ld) ldap_unbind_ext_s(ld, NULL, NULL);
    return out;
}

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
           c == '-';
}

bool dir_session_username(const char *in, char out[65])
{
    size_t n = 0;
    out[0] = '\0';
    for (const unsigned char *p = (const unsigned char *)in; *p; p++, n++) {
        unsigned char c = *p >= 'A' && *p <= 'Z' ? (unsigned char)(*p - 'A' + 'a') : *p;
        if (n >= 64 || !name_char(c)) {
            out[0] = '\0';
            return false;
        }
        out[n] = (char)c;
    }
    out[n] = '\0';
    return n > 0;
}

void dir_session_log_name(const char *in, char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!n) return;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 < n; p++) {
        if (name_char(*p) || (*p >= 'A' && *p <= 'Z')) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

enum dir_login dir_session_login(struct dir_sessions *s, const char *username, const char *password,
                                 const char *address, char *token, size_t tn,
                                 struct dir_session_info *info, int *retry_after, char *err,
                                 size_t errlen)
{
    char ukey[160], akey[96], hash[256], role_s[16], name[65];
    time_t now = time(NULL);
    snprintf(akey, sizeof akey, "a:%.64s", address ? address : "");
    *err = '\0';
    enum dir_login res;
    /* Only [a-z0-9._@-]{1,64} after ASCII lower-casing: the city LDAP matches uid loosely
     * (case, spaces, compatibility forms), so any other spelling could reach the same account
     * under a name of its own, with a brake entry, logout mark and staff role of its own.
     * Such a name is refused like a wrong password, counted against the address only. */
    bool name_ok = dir_session_username(username, name);
    snprintf(ukey, sizeof ukey, "u:%s", name);
    if ((*retry_after = brake_wait(s, name_ok ? ukey : NULL, akey, now)) > 0) {
        snprintf(err, errlen, "too many failed logins");
        return DIR_LOGIN_LIMITED;
    }
    if (!name_ok) {
        brake_note(s, NULL, akey, false, now);
        snprintf(err, errlen, "not a valid username");
        return DIR_LOGIN_BAD;
    }
    /* An empty password would make an LDAP "unauthenticated bind" succeed: never allowed. */
    if (!*password || strlen(password) > 1024) {
        brake_note(s, ukey, akey, false, now);
        snprintf(err, errlen, "empty or oversized password");
        return DIR_LOGIN_BAD;
    }
    memset(info, 0, sizeof *info);
    snprintf(info->username, sizeof info->username, "%s", name);
    enum dir_role base = DIR_ROLE_CASEWORKER;
    enum dir_rc rc = s->db ? dir_db_local_account(s->db, name, hash, sizeof hash, role_s,
                                                  sizeof role_s, err, errlen)
                           : DIR_ERR_DB;
    if (rc == DIR_OK) {
        res = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 ? DIR_LOGIN_OK
                                                                              : DIR_LOGIN_BAD;
        snprintf(info->kind, sizeof info->kind, "local");
        info->role = base = (enum dir_role)dir_auth_role_parse(role_s);
        if (res) snprintf(err, errlen, "wrong password");
    } else if (rc == DIR_ERR_NOTFOUND) {
        char canon[65];
        res = city_login(s, name, password, &base, canon, err, errlen);
        if (res == DIR_LOGIN_OK) {
            snprintf(name, sizeof name, "%s", canon);
            snprintf(info->username, sizeof info->username, "%s", name);
        }
        snprintf(info->kind, sizeof info->kind, "person");
        info->role = base;
        char set[16], e2[128];
        if (res == DIR_LOGIN_OK &&
            dir_db_staff_role(s->db, name, set, sizeof set, e2, sizeof e2) == DIR_OK &&
            dir_auth_role_parse(set) > 0)
            info->role = (enum dir_role)dir_auth_role_parse(set);
    } else {
        res = DIR_LOGIN_UNAVAILABLE;
    }
    sodium_memzero(hash, sizeof hash);
    if (res != DIR_LOGIN_UNAVAILABLE) brake_note(s, ukey, akey, res == DIR_LOGIN_OK, now);
    if (res == DIR_LOGIN_OK) {
        info->base_role = base;
        info->expires = (long long)now + (long long)s->cfg->session_hours * 3600;
        make_token(s, info, base, token, tn);
    }
    return res;
}

enum dir_rc dir_session_logout(struct dir_sessions *s, const struct dir_session_info *info,
                               long long *seq, char *err, size_t errlen)
{
    if (!s->db) {
        snprintf(err, errlen, "no database");
        return DIR_ERR_DB;
    }
    /* One mark ends every session of the user issued until now, on every daemon: it lives
     * as long as the longest of them could. */
    char mark[2 + 2 * 64 + 24], uhex[2 * 64 + 1];
    user_hex(info->username, uhex);
    snprintf(mark, sizeof mark, "u.%s.%lld", uhex, now_ms());
    long long until = (long long)time(NULL) + (long long)s->cfg->session_hours * 3600;
    if (info->expires > until) until = info->expires;
    return dir_db_revoke_session(s->db, mark, until, seq, err, errlen);
}

enum dir_rc dir_session_hash_password(const char *password, char *hash, size_t n)
{
    if (n < crypto_pwhash_STRBYTES ||
        crypto_pwhash_str_alg(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return DIR_ERR_LIMIT;
    return DIR_OK;
}

enum dir_rc dir_session_end_all(struct dir_db *db, const char *username, long long *seq,
                                char *err, size_t errlen)
{
    /* The same mark as a logout, kept as long as the longest session can last (720 h). */
    char mark[2 + 2 * 64 + 24], uhex[2 * 64 + 1];
    user_hex(username, uhex);
    snprintf(mark, sizeof mark, "u.%s.%lld", uhex, now_ms());
    return dir_db_revoke_session(db, mark, (long long)time(NULL) + 720LL * 3600, seq, err,
                                 errlen);
}
