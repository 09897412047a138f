/* dir_rate.c - the bounded per-key rate limiter (see dir_rate.h). */
#include "dir_rate.h"
#include "dir_mem.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    char key[DIR_RATE_KEY_MAX]; /* "" when free */
    int count;                  /* events in the window */
    time_t since;               /* the window's start: the key's first event */
    unsigned long long seq;     /* insertion order: older entries make room first */
};

struct dir_rate {
    int limit, window_s, nslots;
    pthread_mutex_t lock;
    struct slot *slots;
    unsigned long long seq;
};

struct dir_rate *dir_rate_new(int limit, int window_s, int slots)
{
    struct dir_rate *r = dir_xcalloc(1, sizeof *r);
    r->limit = limit > 0 ? limit : 0;
    r->window_s = window_s > 0 ? window_s : 1;
    r->nslots = slots >= 16 ? slots : 16;
    r->slots = dir_xcalloc((size_t)r->nslots, sizeof *r->slots);
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void dir_rate_free(struct dir_rate *r)
{
    if (!r) return;
    pthread_mutex_destroy(&r->lock);
    free(r->slots);
    free(r);
}

/* The entry of KEY (its window not yet over), or NULL; entries whose window passed are freed
 * on the way. With ROOM, *ROOM is where a new key would go: a free slot, else the entry below
 * the limit added the longest ago, else NULL (every slot is at its limit); *OLDEST is then
 * the earliest window start. */
static struct slot *scan(struct dir_rate *r, const char *key, time_t now, struct slot **room,
                         time_t *oldest)
{
    struct slot *found = NULL, *free_slot = NULL, *victim = NULL;
    *oldest = now;
    for (int i = 0; i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        if (s->key[0] && now - s->since >= r->window_s) s->key[0] = '\0';
        if (!s->key[0]) {
            if (!free_slot) free_slot = s;
            continue;
        }
        if (!found && strcmp(s->key, key) == 0) found = s;
        if (s->count < r->limit && (!victim || s->seq < victim->seq)) victim = s;
        if (s->since < *oldest) *oldest = s->since;
    }
    if (room) *room = free_slot ? free_slot : victim;
    return found;
}

int dir_rate_take(struct dir_rate *r, const char *key, time_t now)
{
    if (!r->limit) return 0;
    long long wait = 0;
    time_t oldest;
    struct slot *room;
    pthread_mutex_lock(&r->lock);
    struct slot *s = scan(r, key, now, &room, &oldest);
    if (s && s->count >= r->limit) {
        wait = (long long)s->since + r->window_s - now;
        if (wait < 1) wait = 1;
    } else if (s) {
        s->count++;
    } else if (room) {
        snprintf(room->key, sizeof room->key, "%s", key);
        room->count = 1;
        room->since = now;
        room->seq = ++r->seq;
    } else {
        /* Every slot is at its limit: wait until the first of them has passed. */
        wait = (long long)oldest + r->window_s - now;
        if (wait < 1) wait = 1;
    }
    pthread_mutex_unlock(&r->lock);
    return (int)wait;
}

void dir_rate_give_back(struct dir_rate *r, const char *key, time_t now)
{
    if (!r->limit) return;
    time_t oldest;
    pthread_mutex_lock(&r->lock);
    struct slot *s = scan(r, key, now, NULL, &oldest);
    if (s && s->count > 0 && --s->count == 0) s->key[0] = '\0';
    pthread_mutex_unlock(&r->lock);
}

void dir_rate_addr_key(const char *addr, char *out, size_t n)
{
    unsigned char a6[16];
    if (inet_pton(AF_INET6, addr, a6) == 1) {
        char text[INET6_ADDRSTRLEN];
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a6, mapped, sizeof mapped) == 0 &&
            inet_ntop(AF_INET, a6 + 12, text, sizeof text)) {
            snprintf(out, n, "a:%s", text);
            return;
        }
        memset(a6 + 8, 0, 8);
        if (inet_ntop(AF_INET6, a6, text, sizeof text)) {
            snprintf(out, n, "a:%s/64", text);
            return;
        }
    }
    snprintf(out, n, "a:%s", addr);
}
