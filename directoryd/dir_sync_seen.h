/* dir_sync_seen.h - the set of LDAP identities (entryUUID / objectGUID) one read of the city
 * LDAP has reported, and how: the staff sync's bookkeeping of an RFC 4533 present phase and
 * of a full read.
 *
 * A present phase (RFC 4533 3.3.1) names every entry still in the content, either sent in
 * full (added or modified since the cookie) or only by its UUID (present: unchanged); the
 * synced people it does not name were deleted (or left the sync's base or filter). A full
 * read names everyone the same way. So the sync keeps every UUID it is told, and at the end
 * of a complete refresh the synced people whose UUID is not in the set are the ones to
 * deactivate. The set is an open-addressing hash table of 16-byte UUIDs: adding and looking
 * up are O(1), 100,000 staff take about 3 MB.
 */
#ifndef DIR_SYNC_SEEN_H
#define DIR_SYNC_SEEN_H

#include <stdbool.h>
#include <stddef.h>

/* How a UUID was reported; a later SENT overrides PRESENT (RFC 4533 servers name an entry
 * in a present syncIdSet and send it as added too). */
enum dir_sync_seen_kind {
    DIR_SYNC_SEEN_NONE = 0,
    DIR_SYNC_SEEN_PRESENT = 1, /* named as unchanged (present state, syncIdSet) */
    DIR_SYNC_SEEN_SENT = 2     /* sent with its attributes (added, modified, full read) */
};

struct dir_sync_seen;

/* An empty set. Never fails; free with dir_sync_seen_free (NULL is a no-op). */
struct dir_sync_seen *dir_sync_seen_new(void);
void dir_sync_seen_free(struct dir_sync_seen *set);
/* Empties SET, keeping its memory. */
void dir_sync_seen_clear(struct dir_sync_seen *set);
/* Adds UUID (text, 8-4-4-4-12 hex digits, either case) as KIND. False, leaving SET
 * unchanged, when UUID is not a UUID. */
bool dir_sync_seen_add(struct dir_sync_seen *set, const char *uuid, enum dir_sync_seen_kind kind);
/* Adds a 16-byte binary UUID as KIND. */
void dir_sync_seen_add_bin(struct dir_sync_seen *set, const unsigned char uuid[16],
                           enum dir_sync_seen_kind kind);
/* How UUID was reported (DIR_SYNC_SEEN_NONE when not, or when UUID is not a UUID). */
enum dir_sync_seen_kind dir_sync_seen_get(const struct dir_sync_seen *set, const char *uuid);
/* The number of UUIDs in SET. */
size_t dir_sync_seen_count(const struct dir_sync_seen *set);
/* Parses a UUID's text form into 16 bytes; false when TEXT is not one. */
bool dir_sync_seen_parse(const char *text, unsigned char out[16]);

#endif
