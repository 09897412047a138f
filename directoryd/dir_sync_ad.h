/* dir_sync_ad.h - Active Directory facts for the staff sync's poll mode: is the server AD,
 * its highestCommittedUSN, naming context and invocationId, and the "usn:" watermark (see
 * dir_sync_ad.c for why uSNChanged and not modifyTimestamp).
 */
#ifndef DIR_SYNC_AD_H
#define DIR_SYNC_AD_H

#include "dir_rc.h"

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>

struct dir_sync_ad {
    bool is_ad;
    long long usn;            /* highestCommittedUSN when probed */
    char invocation[37];      /* the DC's invocationId, as a GUID */
    char naming_context[512]; /* defaultNamingContext */
};

/* Reads the root DSE (and, for AD, the DC's invocationId) over LD into AD. DIR_OK with
 * AD->is_ad false for any server that is not AD; DIR_ERR_IO with MSG when an AD server does
 * not say what the sync needs. */
enum dir_rc dir_sync_ad_probe(LDAP *ld, struct dir_sync_ad *ad, char *msg, size_t n);
/* AD's watermark as text ("usn:<invocationId>:<usn>") into OUT. */
void dir_sync_ad_watermark(const struct dir_sync_ad *ad, char *out, size_t n);
/* True, with *USN, when WATERMARK was issued by the DC AD describes (same invocationId, a
 * USN not past its current one); false means a full read. */
bool dir_sync_ad_since(const struct dir_sync_ad *ad, const char *watermark, long long *usn);

#endif
