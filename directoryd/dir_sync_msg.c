/* dir_sync_msg.c - decoding what the city LDAP sends the staff sync (see dir_sync_msg.h).
 *
 * RFC 4533 (Content Synchronization) is read directly with liblber, from the RFC's ASN.1
 * (Debian ships libldap without ldap_sync.h):
 *
 *   syncStateValue ::= SEQUENCE { state ENUMERATED { present (0), add (1), modify (2),
 *                                 delete (3) }, entryUUID syncUUID, cookie syncCookie OPTIONAL }
 *   syncDoneValue ::= SEQUENCE { cookie syncCookie OPTIONAL,
 *                                refreshDeletes BOOLEAN DEFAULT FALSE }
 *   syncInfoValue ::= CHOICE {
 *       newcookie      [0] syncCookie,
 *       refreshDelete  [1] SEQUENCE { cookie syncCookie OPTIONAL, refreshDone BOOLEAN DEFAULT TRUE
 * }, refreshPresent [2] SEQUENCE { cookie syncCookie OPTIONAL, refreshDone BOOLEAN DEFAULT TRUE },
 *       syncIdSet      [3] SEQUENCE { cookie syncCookie OPTIONAL,
 *                                     refreshDeletes BOOLEAN DEFAULT FALSE,
 *                                     syncUUIDs SET OF syncUUID } }
 *
 * Paged results (RFC 2696) are read with libldap's ldap_parse_pageresponse_control.
 */
#include "dir_sync_msg.h"
#include "dir_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void dir_sync_intake_init(struct dir_sync_intake *in)
{
    memset(in, 0, sizeof *in);
    in->entries = json_array();
    in->seen = dir_sync_seen_new();
    in->deleted = json_array();
    in->skipped = json_array();
}

void dir_sync_intake_clear_changes(struct dir_sync_intake *in, bool deletes)
{
    json_array_clear(in->entries);
    json_array_clear(in->skipped);
    if (deletes) {
        json_array_clear(in->deleted);
        in->deletes_since = 0;
    }
}

void dir_sync_intake_free(struct dir_sync_intake *in)
{
    json_decref(in->entries);
    dir_sync_seen_free(in->seen);
    json_decref(in->deleted);
    json_decref(in->skipped);
    free(in->cookie);
    memset(in, 0, sizeof *in);
}

static void set_cookie(struct dir_sync_intake *in, const struct berval *c)
{
    free(in->cookie);
    in->cookie = dir_xmalloc(c->bv_len + 1);
    memcpy(in->cookie, c->bv_val, c->bv_len);
    in->cookie[c->bv_len] = '\0';
    in->cookie_len = c->bv_len;
    in->got_cookie = true;
}

/* A 16-byte UUID as 8-4-4-4-12 lowercase hex; MS_GUID: Active Directory's byte order. */
static void uuid_text(const unsigned char *b, bool ms_guid, char out[37])
{
    static const int ms[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        o += sprintf(o, "%02x", b[ms_guid ? ms[i] : i]);
    }
    *o = '\0';
}

/* An attribute's language: "cn" -> "", "cn;lang-en" -> "en"; other options -> NULL. */
static const char *attr_lang(const char *desc, char *base, size_t n)
{
    const char *semi = strchr(desc, ';');
    size_t len = semi ? (size_t)(semi - desc) : strlen(desc);
    snprintf(base, n, "%.*s", (int)len, desc);
    if (!semi) return "";
    if (strncasecmp(semi + 1, "lang-", 5) == 0 && !strchr(semi + 1, ';')) return semi + 6;
    return strncasecmp(semi + 1, "binary", 6) == 0 ? "" : NULL;
}

struct names {
    char *v[3][3]; /* [cn, displayName, title][untagged, th, en] */
};

static void put_str(json_t *o, const char *key, const char *v)
{
    json_object_set_new(o, key, v ? json_string(v) : json_null());
}

static const char *unit_ref(const struct dir_sync_unit *units, int nunits, const char *unit)
{
    for (int i = 0; i < nunits; i++)
        if (strcasecmp(units[i].name, unit) == 0) return units[i].ref;
    return NULL;
}

/* A value directoryd can store: 1 to MAX bytes of UTF-8 without NUL. */
static bool usable_value(const struct berval *v, size_t max)
{
    if (v->bv_len == 0 || v->bv_len > max || memchr(v->bv_val, '\0', v->bv_len)) return false;
    json_t *j = json_stringn(v->bv_val, v->bv_len); /* NULL unless valid UTF-8 */
    bool ok = j != NULL;
    json_decref(j);
    return ok;
}

/* The unit of an entry whose attributes name no mapped one: the nearest ou= of its DN that
 * the unit map knows (an entry moved to another OU moves with it). Sets *REF and *UNIT
 * (replacing *UNIT; both the caller's to free) when one is found. */
static void dn_unit(const struct dir_sync_unit *units, int nunits, const char *dn, char **ref,
                    char **unit)
{
    LDAPDN parsed = NULL;
    if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) return;
    for (int i = 1; parsed && parsed[i] && !*ref; i++) {
        LDAPAVA *ava = parsed[i][0];
        if (!ava || parsed[i][1] || ava->la_attr.bv_len != 2 ||
            strncasecmp(ava->la_attr.bv_val, "ou", 2) != 0 || !usable_value(&ava->la_value, 300))
            continue;
        char *name = dir_xmalloc(ava->la_value.bv_len + 1);
        memcpy(name, ava->la_value.bv_val, ava->la_value.bv_len);
        name[ava->la_value.bv_len] = '\0';
        const char *r = unit_ref(units, nunits, name);
        if (r) {
            *ref = dir_xstrdup(r);
            free(*unit);
            *unit = name;
        } else {
            free(name);
        }
    }
    ldap_dnfree(parsed);
}

/* Builds the entry object for dir_db_sync_put from E, or adds E to IN->skipped. UUID_HINT
 * (the RFC 4533 syncUUID) is used when the entry lacks entryUUID. Returns the new object
 * (caller decrefs) or NULL. */
static json_t *entry_json(const struct dir_sync_unit *units, int nunits, LDAP *ld, LDAPMessage *e,
                          const char *uuid_hint, struct dir_sync_intake *in)
{
    char *dn = ldap_get_dn(ld, e);
    char uuid[64] = "", base[64];
    struct names nm = {0};
    char *username = NULL, *ref = NULL, *unit = NULL;
    bool unmapped_seen = false, disabled = false;
    json_t *contacts = json_array();
    BerElement *ber = NULL;
    for (char *a = ldap_first_attribute(ld, e, &ber); a; a = ldap_next_attribute(ld, e, ber)) {
        const char *lang = attr_lang(a, base, sizeof base);
        struct berval **vals = ldap_get_values_len(ld, e, a);
        int nv = vals ? ldap_count_values_len(vals) : 0;
        for (int i = 0; lang && i < nv; i++) {
            struct berval *v = vals[i];
            if (strcasecmp(base, "objectGUID") == 0 && v->bv_len == 16 && !uuid[0]) {
                uuid_text((const unsigned char *)v->bv_val, true, uuid);
                continue;
            }
            if (!usable_value(v, 300)) continue;
            char *t = dir_xmalloc(v->bv_len + 1);
            memcpy(t, v->bv_val, v->bv_len);
            t[v->bv_len] = '\0';
            int which = strcasecmp(base, "cn") == 0            ? 0
                        : strcasecmp(base, "displayName") == 0 ? 1
                        : strcasecmp(base, "title") == 0       ? 2
                                                               : -1;
            int li = !*lang                        ? 0
                     : strcasecmp(lang, "th") == 0 ? 1
                     : strcasecmp(lang, "en") == 0 ? 2
                                                   : -1;
            if (which >= 0 && li >= 0 && !nm.v[which][li]) {
                nm.v[which][li] = t;
                continue;
            }
            if (strcasecmp(base, "entryUUID") == 0 && v->bv_len < sizeof uuid) {
                snprintf(uuid, sizeof uuid, "%s", t);
                for (char *p = uuid; *p; p++)
                    *p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
            } else if ((strcasecmp(base, "uid") == 0 ||
                        (strcasecmp(base, "sAMAccountName") == 0)) &&
                       !username && !*lang) {
                username = t;
                t = NULL;
            } else if (strcasecmp(base, "mail") == 0 || strcasecmp(base, "telephoneNumber") == 0 ||
                       strcasecmp(base, "mobile") == 0) {
                const char *kind = strcasecmp(base, "mail") == 0     ? "email"
                                   : strcasecmp(base, "mobile") == 0 ? "mobile"
                                                                     : "phone";
                json_array_append_new(contacts, json_pack("{s:s,s:s}", "kind", kind, "value", t));
            } else if ((strcasecmp(base, "ou") == 0 || strcasecmp(base, "departmentNumber") == 0) &&
                       !*lang) {
                const char *r = unit_ref(units, nunits, t);
                if (r && !ref) {
                    ref = dir_xstrdup(r);
                    free(unit);
                    unit = t;
                    t = NULL;
                } else if (!r) {
                    unmapped_seen = true;
                    if (!unit) {
                        unit = t;
                        t = NULL;
                    }
                }
            } else if (strcasecmp(base, "userAccountControl") == 0 && !*lang) {
                /* Active Directory: bit 0x2 is ACCOUNTDISABLE (a decimal integer). */
                char *end = NULL;
                long long uac = strtoll(t, &end, 10);
                if (end && end != t && *end == '\0' && (uac & 2)) disabled = true;
            } else if (strcasecmp(base, "modifyTimestamp") == 0 &&
                       v->bv_len < sizeof in->watermark && strcmp(t, in->watermark) > 0) {
                snprintf(in->watermark, sizeof in->watermark, "%s", t);
            }
            free(t);
        }
        ldap_value_free_len(vals);
        ldap_memfree(a);
    }
    ber_free(ber, 0);
    if (!ref && nunits > 0 && dn) dn_unit(units, nunits, dn, &ref, &unit);
    if (!uuid[0] && uuid_hint) snprintf(uuid, sizeof uuid, "%s", uuid_hint);
    unsigned char bin[16];
    bool uuid_ok = dir_sync_seen_parse(uuid, bin);
    json_t *o = NULL;
    if (disabled && uuid_ok) {
        /* A disabled Active Directory account is gone for the directory: named deleted (so
         * an incremental poll deactivates it too), never present. Re-enabled, it is sent
         * again with the same objectGUID and reactivated. */
        json_array_append_new(in->deleted, json_string(uuid));
        in->disabled++;
        goto out;
    }
    /* Named, so not gone, even when it cannot be a person. */
    if (uuid_ok) dir_sync_seen_add_bin(in->seen, bin, DIR_SYNC_SEEN_SENT);
    const char *name_th = nm.v[1][1]   ? nm.v[1][1]
                          : nm.v[1][0] ? nm.v[1][0]
                          : nm.v[0][1] ? nm.v[0][1]
                                       : nm.v[0][0];
    const char *name_en = nm.v[1][2] ? nm.v[1][2] : nm.v[0][2];
    const char *title_th = nm.v[2][1] ? nm.v[2][1] : nm.v[2][0];
    const char *title_en = nm.v[2][2];
    const char *reason = !uuid[0]   ? "no entryUUID or objectGUID"
                         : !uuid_ok ? "entryUUID is not a UUID"
                         : !name_th ? "no cn or displayName"
                                    : NULL;
    if (reason) {
        json_array_append_new(in->skipped,
                              json_pack("{s:s,s:s}", "dn", dn ? dn : "", "reason", reason));
    } else {
        o = json_object();
        put_str(o, "uuid", uuid);
        put_str(o, "dn", dn);
        put_str(o, "username", username);
        put_str(o, "name_th", name_th);
        put_str(o, "name_en", name_en);
        put_str(o, "title_th", title_th);
        put_str(o, "title_en", title_en);
        json_object_set(o, "contacts", contacts);
        if (ref)
            put_str(o, "org_ref", ref);
        else if (nunits > 0 && (unmapped_seen || !unit))
            json_object_set_new(o, "unmapped", json_true());
        if (unit) put_str(o, "unit", unit);
    }
out:
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            free(nm.v[i][j]);
    free(username);
    free(ref);
    free(unit);
    json_decref(contacts);
    ldap_memfree(dn);
    return o;
}

bool dir_sync_msg_identity(LDAP *ld, LDAPMessage *e, char uuid[37])
{
    uuid[0] = '\0';
    struct berval **g = ldap_get_values_len(ld, e, "objectGUID");
    if (g && g[0] && g[0]->bv_len == 16) uuid_text((const unsigned char *)g[0]->bv_val, true, uuid);
    ldap_value_free_len(g);
    if (!uuid[0]) {
        struct berval **u = ldap_get_values_len(ld, e, "entryUUID");
        unsigned char bin[16];
        char t[37];
        if (u && u[0] && u[0]->bv_len == 36) {
            memcpy(t, u[0]->bv_val, 36);
            t[36] = '\0';
            if (dir_sync_seen_parse(t, bin)) uuid_text(bin, false, uuid);
        }
        ldap_value_free_len(u);
    }
    return uuid[0] != '\0';
}

/* ---- searches ---- */

/* Reads the result of a search: its code and, into OUT, its response controls. */
static int search_result(LDAP *ld, LDAPMessage *res, LDAPControl ***ctrls, char *why, size_t n)
{
    int code = LDAP_OTHER;
    char *text = NULL;
    int rc = ldap_parse_result(ld, res, &code, NULL, &text, NULL, ctrls, 0);
    if (rc != LDAP_SUCCESS) code = rc;
    if (text && *text)
        snprintf(why, n, "%s (%s)", ldap_err2string(code), text);
    else
        snprintf(why, n, "%s", ldap_err2string(code));
    ldap_memfree(text);
    return code;
}

/* Reads an optional syncCookie from BER into IN. */
static void opt_cookie(BerElement *ber, struct dir_sync_intake *in)
{
    ber_len_t len;
    struct berval c;
    if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE && ber_scanf(ber, "m", &c) != LBER_ERROR)
        set_cookie(in, &c);
}

static void add_uuid_set(json_t *list, BerVarray uuids)
{
    for (int i = 0; uuids && uuids[i].bv_val; i++) {
        if (uuids[i].bv_len != 16) continue;
        char u[37];
        uuid_text((const unsigned char *)uuids[i].bv_val, false, u);
        json_array_append_new(list, json_string(u));
    }
}

void dir_sync_msg_info_value(const struct berval *data, struct dir_sync_intake *in)
{
    if (!data->bv_val || !data->bv_len) /* liblber asserts or reads NULL on these */
        return;
    BerElement *ber = ber_init((struct berval *)data);
    if (!ber) return;
    ber_len_t len;
    ber_tag_t tag = ber_peek_tag(ber, &len);
    struct berval c;
    ber_int_t flag;
    switch (tag) {
    case LDAP_TAG_SYNC_NEW_COOKIE:
        if (ber_scanf(ber, "m", &c) != LBER_ERROR) set_cookie(in, &c);
        break;
    case LDAP_TAG_SYNC_REFRESH_DELETE:
    case LDAP_TAG_SYNC_REFRESH_PRESENT:
        /* The end of a phase; refreshDone FALSE after a present phase: a delete phase
         * follows (RFC 4533 3.4). */
        if (ber_scanf(ber, "{") == LBER_ERROR) break;
        opt_cookie(ber, in);
        flag = 1;
        if (ber_peek_tag(ber, &len) == LBER_BOOLEAN) ber_scanf(ber, "b", &flag);
        if (tag == LDAP_TAG_SYNC_REFRESH_PRESENT)
            in->present_phase = true;
        else
            in->delete_phase = true;
        if (flag) in->refresh_done = true;
        break;
    case LDAP_TAG_SYNC_ID_SET: {
        if (ber_scanf(ber, "{") == LBER_ERROR) break;
        opt_cookie(ber, in);
        flag = 0;
        if (ber_peek_tag(ber, &len) == LBER_BOOLEAN) ber_scanf(ber, "b", &flag);
        BerVarray uuids = NULL;
        if (ber_scanf(ber, "[W]", &uuids) != LBER_ERROR) {
            if (flag) {
                add_uuid_set(in->deleted, uuids);
                in->delete_phase = true;
            } else {
                for (int i = 0; uuids && uuids[i].bv_val; i++) {
                    if (uuids[i].bv_len != 16) continue;
                    dir_sync_seen_add_bin(in->seen, (const unsigned char *)uuids[i].bv_val,
                                          DIR_SYNC_SEEN_PRESENT);
                    in->presents++;
                }
            }
        }
        ber_bvarray_free(uuids);
        break;
    }
    default:
        break;
    }
    ber_free(ber, 1);
}

/* libldap 2.5 exports this (result.c) without declaring it in ldap.h: the message's BER,
 * positioned at its protocolOp. */
BerElement *ldap_get_message_ber(LDAPMessage *msg);

/* IntermediateResponse ::= [APPLICATION 25] SEQUENCE { responseName [0] LDAPOID OPTIONAL,
 * responseValue [1] OCTET STRING OPTIONAL } is read here rather than with
 * ldap_parse_intermediate, which asserts (aborting the daemon) on an empty or NUL-led name. */
void dir_sync_msg_info(LDAP *ld, LDAPMessage *res, struct dir_sync_intake *in)
{
    (void)ld;
    BerElement *src = ldap_get_message_ber(res);
    BerElement *ber = src ? ber_dup(src) : NULL;
    if (!ber) return;
    ber_len_t len;
    struct berval oid = {0, NULL}, value = {0, NULL};
    bool has_value = false;
    if (ber_scanf(ber, "{") != LBER_ERROR) {
        if (ber_peek_tag(ber, &len) == LDAP_TAG_IM_RES_OID &&
            ber_scanf(ber, "m", &oid) == LBER_ERROR)
            oid.bv_len = 0;
        if (ber_peek_tag(ber, &len) == LDAP_TAG_IM_RES_VALUE &&
            ber_scanf(ber, "m", &value) != LBER_ERROR)
            has_value = value.bv_val != NULL;
    }
    if (has_value && oid.bv_len == strlen(LDAP_SYNC_INFO) &&
        memcmp(oid.bv_val, LDAP_SYNC_INFO, oid.bv_len) == 0)
        dir_sync_msg_info_value(&value, in);
    ber_free(ber, 0);
}

void dir_sync_msg_state_value(const struct berval *v, int *state, char uuid[37],
                              struct dir_sync_intake *in)
{
    BerElement *ber = v->bv_val && v->bv_len ? ber_init((struct berval *)v) : NULL;
    struct berval u = {0, NULL};
    ber_int_t st = LDAP_SYNC_ADD;
    *state = LDAP_SYNC_ADD;
    uuid[0] = '\0';
    if (ber && ber_scanf(ber, "{em", &st, &u) != LBER_ERROR) {
        *state = st;
        if (u.bv_len == 16) uuid_text((const unsigned char *)u.bv_val, false, uuid);
        opt_cookie(ber, in);
    }
    if (ber) ber_free(ber, 1);
}

void dir_sync_msg_entry(LDAP *ld, LDAPMessage *e, const struct dir_sync_unit *units, int nunits,
                        bool sync, struct dir_sync_intake *in)
{
    int state = LDAP_SYNC_ADD;
    char uuid[37] = "";
    if (sync) {
        LDAPControl **ctrls = NULL;
        ldap_get_entry_controls(ld, e, &ctrls);
        LDAPControl *st = ldap_control_find(LDAP_CONTROL_SYNC_STATE, ctrls, NULL);
        if (st) dir_sync_msg_state_value(&st->ldctl_value, &state, uuid, in);
        ldap_controls_free(ctrls);
    }
    if (state == LDAP_SYNC_PRESENT) {
        if (dir_sync_seen_add(in->seen, uuid, DIR_SYNC_SEEN_PRESENT)) in->presents++;
    } else if (state == LDAP_SYNC_DELETE) {
        if (uuid[0]) json_array_append_new(in->deleted, json_string(uuid));
    } else {
        in->received++;
        json_t *o = entry_json(units, nunits, ld, e, uuid[0] ? uuid : NULL, in);
        if (o) json_array_append_new(in->entries, o);
    }
}

void dir_sync_msg_done_value(const struct berval *v, struct dir_sync_intake *in)
{
    BerElement *ber = v->bv_val && v->bv_len ? ber_init((struct berval *)v) : NULL;
    ber_int_t deletes = 0; /* refreshDeletes DEFAULT FALSE */
    ber_len_t len;
    bool read = false;
    if (ber && ber_peek_tag(ber, &len) == LBER_SEQUENCE && ber_scanf(ber, "{") != LBER_ERROR) {
        opt_cookie(ber, in);
        read =
            ber_peek_tag(ber, &len) != LBER_BOOLEAN || ber_scanf(ber, "b", &deletes) != LBER_ERROR;
    }
    if (ber) ber_free(ber, 1);
    /* RFC 4533 3.3.2: the refresh ended in a present phase unless refreshDeletes. A value
     * that cannot be read says neither: nothing is inferred from what was not named. */
    if (read && deletes)
        in->delete_phase = true;
    else if (read)
        in->present_phase = true;
    in->refresh_done = true;
}

int dir_sync_msg_result(LDAP *ld, LDAPMessage *res, bool sync, struct dir_sync_intake *in,
                        struct berval *page_cookie, char *why, size_t n)
{
    LDAPControl **rctrls = NULL;
    int code = search_result(ld, res, &rctrls, why, n);
    if (code == LDAP_SUCCESS) {
        LDAPControl *done = sync ? ldap_control_find(LDAP_CONTROL_SYNC_DONE, rctrls, NULL) : NULL;
        if (done) dir_sync_msg_done_value(&done->ldctl_value, in);
        LDAPControl *pr =
            page_cookie ? ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL) : NULL;
        ber_int_t est = 0;
        /* libldap asserts on a control without a value and liblber reads NULL on an empty one:
         * a hostile server's would abort the daemon. */
        if (pr && pr->ldctl_value.bv_val && pr->ldctl_value.bv_len)
            ldap_parse_pageresponse_control(ld, pr, &est, page_cookie);
    }
    ldap_controls_free(rctrls);
    return code;
}
