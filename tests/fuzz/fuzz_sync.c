/* fuzz_sync.c - fuzz target: what the city LDAP sends the staff sync.
 *
 * Input: one flags byte, then the bytes a server sends on the sync's connection (whole
 * LDAPMessages for message id 1). Flags: bit 0, the search is an RFC 4533 one (entries carry
 * Sync State controls, Sync Info messages, a Sync Done control); bit 1, a unit map is
 * configured. The bytes reach the daemon's own decoders (dir_sync_msg.c) exactly as in a run:
 * libldap reads them from one end of a socketpair after a search was sent on it, and each
 * message ldap_result hands back goes to dir_sync_msg_entry, dir_sync_msg_info or
 * dir_sync_msg_result (with the paged-results cookie), as dir_sync.c's searches do. The whole
 * input after the flags is also given to the value decoders directly (Sync Info, Sync State,
 * Sync Done values). Nothing may crash, leak or hit UB; every entry object built must carry a
 * uuid and a Thai name, a cookie must have the length it says, and the refresh's set of
 * named uuids no more members than presents and entries were counted.
 * Linked with libFuzzer (-DDIRECTORYD_FUZZ=ON) or replay_main.c (ctest replays
 * tests/fuzz/corpus/sync and tests/fuzz/regress/sync). Seeds: tests/fuzz/tools/capture_sync.py
 * records a real slapd with syncprov.
 */
#include "dir_sync_msg.h"

#include <fcntl.h>
#include <openldap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FZ_MAX_INPUT (128 * 1024) /* what one socketpair buffer takes without blocking */

static struct dir_sync_unit fz_units[] = {{"Dusit Welfare", "org-dusit"}, {"1002", "org-1002"}};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* libldap's global options are set up once, on first use; do it before any input. */
    LDAP *ld = NULL;
    if (ldap_initialize(&ld, "ldap://127.0.0.1:1") == LDAP_SUCCESS) ldap_unbind_ext(ld, NULL, NULL);
    return 0;
}

static void fz_check(const struct dir_sync_intake *in)
{
    size_t i;
    json_t *o;
    json_array_foreach(in->entries, i, o)
    {
        if (!json_string_value(json_object_get(o, "uuid")) ||
            !json_string_value(json_object_get(o, "name_th")))
            abort();
    }
    if (in->cookie && strlen(in->cookie) > in->cookie_len) abort();
    /* Every uuid the refresh bookkeeping holds was counted as named present or received. */
    if (dir_sync_seen_count(in->seen) > (size_t)in->presents + (size_t)in->received) abort();
}

/* Reads a BER length at P (N bytes left): its value in *LEN and the bytes used, or 0. */
static size_t fz_len(const uint8_t *p, size_t n, size_t *len)
{
    if (n < 1)
        return 0;
    if (p[0] < 0x80) {
        *len = p[0];
        return 1;
    }
    size_t k = p[0] & 0x7f;
    if (k == 0 || k > 4 || n < 1 + k)
        return 0;
    *len = 0;
    for (size_t i = 1; i <= k; i++)
        *len = (*len << 8) | p[i];
    return 1 + k;
}

/* True when every message of DATA is framed so that libldap can read its message id and
 * operation tag. libldap 2.5 loses its pending request (about 4 KB) when it cannot, so such
 * inputs skip the libldap half: the leak is libldap's, and LeakSanitizer would stop every
 * run on it (docs/fuzzing.md). */
static bool fz_framed(const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t len, h, il, ih, ol, oh;
        if (p[0] != 0x30 || !(h = fz_len(p + 1, n - 1, &len)) || len > n - 1 - h)
            return false;
        const uint8_t *q = p + 1 + h;
        if (len < 2 || q[0] != 0x02 || !(ih = fz_len(q + 1, len - 1, &il)) || il < 1 || il > 4 ||
            il > len - 1 - ih)
            return false;
        size_t used = 1 + ih + il;
        if (used >= len || (q[used] & 0x1f) == 0x1f ||
            !(oh = fz_len(q + used + 1, len - used - 1, &ol)) || ol > len - used - 1 - oh)
            return false;
        p += 1 + h + len;
        n -= 1 + h + len;
    }
    return true;
}

/* Runs the server bytes DATA (N) through libldap and the decoders. */
static void fz_stream(const uint8_t *data, size_t n, bool sync, bool units)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return;
    LDAP *ld = NULL;
    if (ldap_init_fd(sv[0], LDAP_PROTO_TCP, "ldap://city.invalid", &ld) != LDAP_SUCCESS) {
        close(sv[0]);
        close(sv[1]);
        return;
    }
    int v3 = LDAP_VERSION3, msgid = 0;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    static char *attrs[] = {"entryUUID", "cn", NULL};
    if (ldap_search_ext(ld, "ou=people,dc=city", LDAP_SCOPE_SUBTREE, "(objectClass=*)", attrs, 0,
                        NULL, NULL, NULL, 0, &msgid) != LDAP_SUCCESS ||
        msgid != 1) {
        ldap_unbind_ext(ld, NULL, NULL);
        close(sv[1]);
        return;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(sv[1], data + off, n - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR); /* the server hangs up after its bytes */
    struct dir_sync_intake in;
    dir_sync_intake_init(&in);
    struct berval page = {0, NULL};
    struct timeval tv = {0, 0};
    for (int k = 0; k < 10000; k++) {
        LDAPMessage *res = NULL;
        int type = ldap_result(ld, LDAP_RES_ANY, LDAP_MSG_ONE, &tv, &res);
        if (type <= 0) {
            ldap_msgfree(res);
            break;
        }
        char why[300];
        if (type == LDAP_RES_SEARCH_ENTRY) {
            dir_sync_msg_entry(ld, res, fz_units, units ? 2 : 0, sync, &in);
        } else if (type == LDAP_RES_INTERMEDIATE) {
            dir_sync_msg_info(ld, res, &in);
        } else if (type == LDAP_RES_SEARCH_RESULT) {
            ber_memfree(page.bv_val);
            page.bv_val = NULL;
            page.bv_len = 0;
            dir_sync_msg_result(ld, res, sync, &in, sync ? NULL : &page, why, sizeof why);
            if (page.bv_len && !page.bv_val) abort();
        }
        ldap_msgfree(res);
    }
    fz_check(&in);
    if (getenv("FUZZ_SYNC_VERBOSE")) /* what a seed reaches: tests/fuzz/README.md */
        fprintf(stderr,
                "fuzz_sync: %zu entries, %zu skipped, %zu deleted, %d present, %zu uuids "
                "named, cookie %zu bytes, refresh done %d (present phase %d, delete phase "
                "%d), page cookie %zu bytes\n",
                json_array_size(in.entries), json_array_size(in.skipped),
                json_array_size(in.deleted), in.presents, dir_sync_seen_count(in.seen),
                in.cookie_len, (int)in.refresh_done, (int)in.present_phase,
                (int)in.delete_phase, (size_t)page.bv_len);
    ber_memfree(page.bv_val);
    dir_sync_intake_free(&in);
    ldap_unbind_ext(ld, NULL, NULL); /* closes sv[0] */
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FZ_MAX_INPUT) return 0;
    bool sync = data[0] & 1, units = data[0] & 2;
    if (fz_framed(data + 1, size - 1))
        fz_stream(data + 1, size - 1, sync, units);

    /* The value decoders on the raw bytes. */
    struct dir_sync_intake in;
    dir_sync_intake_init(&in);
    struct berval v = {(ber_len_t)(size - 1), (char *)(data + 1)};
    int state;
    char uuid[37];
    dir_sync_msg_info_value(&v, &in);
    dir_sync_msg_state_value(&v, &state, uuid, &in);
    if (strlen(uuid) != 0 && strlen(uuid) != 36) abort();
    dir_sync_msg_done_value(&v, &in);
    fz_check(&in);
    dir_sync_intake_free(&in);
    return 0;
}
