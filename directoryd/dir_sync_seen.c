/* dir_sync_seen.c - the set of UUIDs a read of the city LDAP reported (see dir_sync_seen.h).
 *
 * Open addressing with linear probing over a power-of-two table, grown to keep it at most
 * half full. Keys are the 16 bytes of the UUID; kinds[i] == DIR_SYNC_SEEN_NONE marks an
 * empty slot.
 */
#include "dir_sync_seen.h"
#include "dir_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAP 1024

struct dir_sync_seen {
    unsigned char (*keys)[16];
    unsigned char *kinds;
    size_t cap, count;
};

struct dir_sync_seen *dir_sync_seen_new(void)
{
    struct dir_sync_seen *s = dir_xcalloc(1, sizeof *s);
    s->cap = FIRST_CAP;
    s->keys = dir_xcalloc(s->cap, sizeof *s->keys);
    s->kinds = dir_xcalloc(s->cap, 1);
    return s;
}

void dir_sync_seen_free(struct dir_sync_seen *set)
{
    if (!set) return;
    free(set->keys);
    free(set->kinds);
    free(set);
}

void dir_sync_seen_clear(struct dir_sync_seen *set)
{
    memset(set->kinds, 0, set->cap);
    set->count = 0;
}

size_t dir_sync_seen_count(const struct dir_sync_seen *set)
{
    return set->count;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool dir_sync_seen_parse(const char *text, unsigned char out[16])
{
    int n = 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') return false;
            continue;
        }
        int hi = hexval(text[i]);
        int lo = hi < 0 ? -1 : hexval(text[++i]);
        if (lo < 0) return false;
        out[n++] = (unsigned char)(hi << 4 | lo);
    }
    return text[36] == '\0';
}

/* Mixes all 16 bytes (OpenLDAP's entryUUIDs are time-based: the low time bytes vary most,
 * the node bytes hardly at all). */
static size_t hash(const unsigned char k[16])
{
    uint64_t a, b;
    memcpy(&a, k, 8);
    memcpy(&b, k + 8, 8);
    uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ b * 0xc2b2ae3d27d4eb4fULL;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 29;
    return (size_t)h;
}

/* The slot holding K, or the empty slot where it would go. */
static size_t slot(const struct dir_sync_seen *s, const unsigned char k[16])
{
    size_t mask = s->cap - 1, i = hash(k) & mask;
    while (s->kinds[i] != DIR_SYNC_SEEN_NONE && memcmp(s->keys[i], k, 16) != 0)
        i = (i + 1) & mask;
    return i;
}

static void grow(struct dir_sync_seen *s)
{
    struct dir_sync_seen old = *s;
    s->cap = old.cap * 2;
    s->keys = dir_xcalloc(s->cap, sizeof *s->keys);
    s->kinds = dir_xcalloc(s->cap, 1);
    for (size_t i = 0; i < old.cap; i++) {
        if (old.kinds[i] == DIR_SYNC_SEEN_NONE) continue;
        size_t j = slot(s, old.keys[i]);
        memcpy(s->keys[j], old.keys[i], 16);
        s->kinds[j] = old.kinds[i];
    }
    free(old.keys);
    free(old.kinds);
}

void dir_sync_seen_add_bin(struct dir_sync_seen *set, const unsigned char uuid[16],
                           enum dir_sync_seen_kind kind)
{
    if (kind == DIR_SYNC_SEEN_NONE) return;
    if ((set->count + 1) * 2 > set->cap) grow(set);
    size_t i = slot(set, uuid);
    if (set->kinds[i] == DIR_SYNC_SEEN_NONE) {
        memcpy(set->keys[i], uuid, 16);
        set->count++;
    }
    if (kind > set->kinds[i]) set->kinds[i] = (unsigned char)kind;
}

bool dir_sync_seen_add(struct dir_sync_seen *set, const char *uuid, enum dir_sync_seen_kind kind)
{
    unsigned char k[16];
    if (!uuid || !dir_sync_seen_parse(uuid, k)) return false;
    dir_sync_seen_add_bin(set, k, kind);
    return true;
}

enum dir_sync_seen_kind dir_sync_seen_get(const struct dir_sync_seen *set, const char *uuid)
{
    unsigned char k[16];
    if (!uuid || !dir_sync_seen_parse(uuid, k)) return DIR_SYNC_SEEN_NONE;
    return (enum dir_sync_seen_kind)set->kinds[slot(set, k)];
}
