/* dir_sync_ad.c - what the staff sync needs to know of an Active Directory domain controller
 * before it polls it: whether the server is AD at all (the root DSE's supportedCapabilities
 * names LDAP_CAP_ACTIVE_DIRECTORY_OID 1.2.840.113556.1.4.800), its update sequence number
 * (highestCommittedUSN), the domain's naming context (where deleted objects are kept), and
 * the DC's invocationId (on its NTDS Settings object, named by the root DSE's dsServiceName).
 *
 * AD has no RFC 4533. Microsoft documents uSNChanged as the way to find what changed ("Polling
 * for Changes Using the USNChanged Attribute"): each DC numbers its own changes, so a
 * watermark is only meaningful on the DC that issued it, and a DC restored from backup gets a
 * new invocationId. modifyTimestamp / whenChanged are not replicated consistently and are
 * not used. The watermark is kept as text, "usn:<invocationId>:<usn>": another DC, a restored
 * one, or a watermark of another kind means a full read.
 */
#include "dir_sync_ad.h"

#include <lber.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AD_CAPABILITY "1.2.840.113556.1.4.800"

/* The first value of ATTR of E as a NUL-terminated string into OUT; false when absent or too
 * long. */
static bool first_value(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t n)
{
    struct berval **v = ldap_get_values_len(ld, e, attr);
    bool ok = v && v[0] && v[0]->bv_len < n && !memchr(v[0]->bv_val, '\0', v[0]->bv_len);
    if (ok) {
        memcpy(out, v[0]->bv_val, v[0]->bv_len);
        out[v[0]->bv_len] = '\0';
    }
    ldap_value_free_len(v);
    return ok;
}

enum dir_rc dir_sync_ad_probe(LDAP *ld, struct dir_sync_ad *ad, char *msg, size_t n)
{
    memset(ad, 0, sizeof *ad);
    char *attrs[] = {"supportedCapabilities", "highestCommittedUSN", "dsServiceName",
                     "defaultNamingContext", NULL};
    LDAPMessage *res = NULL;
    struct timeval tv = {30, 0};
    int rc = ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL,
                               &tv, 1, &res);
    LDAPMessage *e = rc == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
    if (!e) { /* a server that hides its root DSE is not AD (AD always shows it) */
        ldap_msgfree(res);
        return DIR_OK;
    }
    struct berval **caps = ldap_get_values_len(ld, e, "supportedCapabilities");
    for (int i = 0; caps && caps[i]; i++)
        if (caps[i]->bv_len == strlen(AD_CAPABILITY) &&
            memcmp(caps[i]->bv_val, AD_CAPABILITY, caps[i]->bv_len) == 0)
            ad->is_ad = true;
    ldap_value_free_len(caps);
    char usn[32] = "", service[512] = "";
    if (ad->is_ad) {
        first_value(ld, e, "highestCommittedUSN", usn, sizeof usn);
        first_value(ld, e, "dsServiceName", service, sizeof service);
        first_value(ld, e, "defaultNamingContext", ad->naming_context, sizeof ad->naming_context);
    }
    ldap_msgfree(res);
    if (!ad->is_ad) return DIR_OK;
    char *end = NULL;
    ad->usn = strtoll(usn, &end, 10);
    if (!usn[0] || !end || *end || ad->usn < 0 || !service[0] || !ad->naming_context[0]) {
        snprintf(msg, n,
                 "the Active Directory server's root DSE lacks highestCommittedUSN, "
                 "dsServiceName or defaultNamingContext");
        return DIR_ERR_IO;
    }
    char *inv_attrs[] = {"invocationId", NULL};
    res = NULL;
    rc = ldap_search_ext_s(ld, service, LDAP_SCOPE_BASE, "(objectClass=*)", inv_attrs, 0, NULL,
                           NULL, &tv, 1, &res);
    e = rc == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
    struct berval **inv = e ? ldap_get_values_len(ld, e, "invocationId") : NULL;
    if (inv && inv[0] && inv[0]->bv_len == 16) {
        /* A GUID: the first three fields little-endian, as objectGUID. */
        static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
        const unsigned char *b = (const unsigned char *)inv[0]->bv_val;
        char *o = ad->invocation;
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
            o += sprintf(o, "%02x", b[order[i]]);
        }
    }
    ldap_value_free_len(inv);
    ldap_msgfree(res);
    if (!ad->invocation[0]) {
        snprintf(msg, n,
                 "cannot read the domain controller's invocationId from %.300s (the sync "
                 "account needs read access to it)",
                 service);
        return DIR_ERR_IO;
    }
    return DIR_OK;
}

void dir_sync_ad_watermark(const struct dir_sync_ad *ad, char *out, size_t n)
{
    snprintf(out, n, "usn:%s:%lld", ad->invocation, ad->usn);
}

bool dir_sync_ad_since(const struct dir_sync_ad *ad, const char *watermark, long long *usn)
{
    size_t il = strlen(ad->invocation);
    if (strncmp(watermark, "usn:", 4) != 0 || il == 0 ||
        strncasecmp(watermark + 4, ad->invocation, il) != 0 || watermark[4 + il] != ':')
        return false;
    const char *num = watermark + 5 + il;
    char *end = NULL;
    long long v = strtoll(num, &end, 10);
    if (!*num || !end || *end || v < 0 || v > ad->usn) return false;
    *usn = v;
    return true;
}
