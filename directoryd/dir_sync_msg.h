/* dir_sync_msg.h - what the city LDAP sends the staff sync, decoded: search entries, RFC 4533
 * Sync State and Sync Done controls and Sync Info messages, sync cookies, paged-results
 * response controls (the syntax is in dir_sync_msg.c's header comment).
 *
 * No connection state and no I/O: each function reads one message libldap has received (or
 * one control value) into a struct dir_sync_intake, so dir_sync.c's searches and the fuzz
 * target tests/fuzz/fuzz_sync.c run the same code. A broken or hostile server's message is
 * skipped or recorded (intake->skipped), never trusted: values are length-checked, UTF-8
 * checked and copied.
 */
#ifndef DIR_SYNC_MSG_H
#define DIR_SYNC_MSG_H

#include "dir_sync_seen.h"

#include <jansson.h>
#include <lber.h>
#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* One entry of sync_unit_map: an LDAP unit name (ou or departmentNumber) and the
 * organisation ref it maps to. */
struct dir_sync_unit {
    char *name, *ref;
};

/* What one read of LDAP produced. */
struct dir_sync_intake {
    json_t *entries;            /* entry objects for dir_db_sync_put */
    struct dir_sync_seen *seen; /* every uuid reported: sent (full read; RFC 4533 add or
                                   modify) or named present (RFC 4533) */
    json_t *deleted;            /* uuids the server says were deleted */
    json_t *skipped;            /* [{dn, reason}] entries that cannot be people */
    int presents;               /* uuids named present (RFC 4533) */
    int received;               /* entries with attributes */
    int disabled;               /* Active Directory accounts disabled (userAccountControl
                                   0x2): named in DELETED, not in SEEN */
    char *cookie;               /* the newest sync cookie (NUL-terminated copy), or NULL */
    size_t cookie_len;
    bool got_cookie;
    bool refresh_done;     /* the refresh ended (Sync Done, or refreshDone in a Sync Info) */
    bool present_phase;    /* a present phase ended: the synced people not in SEEN are gone */
    bool delete_phase;     /* the server used a delete phase (named the deleted entries) */
    bool refresh_required; /* the server refused the cookie: this is a full read instead */
    bool dc_changed;       /* Active Directory: the watermark is another (or a restored)
                              domain controller's: this is a full read instead */
    char watermark[96];   /* poll: the newest modifyTimestamp, or Active Directory's
                             "usn:<invocationId>:<highestCommittedUSN>" */
    time_t deletes_since; /* persist: when the oldest deletion waiting arrived */
    bool flush_all;       /* persist: apply held deletions now (the search is ending) */
};

/* Empty lists, no cookie. Free with dir_sync_intake_free. */
void dir_sync_intake_init(struct dir_sync_intake *in);
/* Empties the entries and skipped lists (and with DELETES the deleted list; SEEN and the
 * phase flags stay: they describe the whole refresh). */
void dir_sync_intake_clear_changes(struct dir_sync_intake *in, bool deletes);
void dir_sync_intake_free(struct dir_sync_intake *in);

/* A search entry E (from LD) into IN: with SYNC, its RFC 4533 Sync State control says
 * whether it is present (its uuid in IN->seen), added or modified (an entry object in
 * IN->entries, its uuid in IN->seen) or deleted (its uuid in IN->deleted); without, it is
 * an entry. UNITS (NUNITS of them, borrowed) map the entry's unit (its ou or
 * departmentNumber, else the nearest ou= of its DN) to an organisation. */
void dir_sync_msg_entry(LDAP *ld, LDAPMessage *e, const struct dir_sync_unit *units, int nunits,
                        bool sync, struct dir_sync_intake *in);
/* The LDAP identity of entry E: its objectGUID (Active Directory's byte order, rendered as a
 * GUID) or entryUUID, lower case, into UUID; false when it has neither. */
bool dir_sync_msg_identity(LDAP *ld, LDAPMessage *e, char uuid[37]);
/* An intermediate message RES: a Sync Info message is read into IN; others are ignored. */
void dir_sync_msg_info(LDAP *ld, LDAPMessage *res, struct dir_sync_intake *in);
/* A search result RES: returns its result code and writes it (and the server's text) to
 * WHY. On success, with SYNC, its Sync Done control's cookie goes into IN and the refresh
 * is done (in a present phase when refreshDeletes is FALSE); with PAGE_COOKIE non-NULL,
 * the paged-results response cookie goes there (the caller frees it with ber_memfree; left
 * empty when there is none). */
int dir_sync_msg_result(LDAP *ld, LDAPMessage *res, bool sync, struct dir_sync_intake *in,
                        struct berval *page_cookie, char *why, size_t n);

/* The control and message values themselves (what the functions above read). */
void dir_sync_msg_info_value(const struct berval *data, struct dir_sync_intake *in);
/* A syncStateValue: *STATE (LDAP_SYNC_ADD when it cannot be read) and UUID ("" unless a
 * 16-byte syncUUID was given). */
void dir_sync_msg_state_value(const struct berval *v, int *state, char uuid[37],
                              struct dir_sync_intake *in);
void dir_sync_msg_done_value(const struct berval *v, struct dir_sync_intake *in);

#endif
