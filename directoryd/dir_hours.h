/* dir_hours.h - structured opening hours: a weekly schedule with dated exceptions and public
 * holidays, and whether a place is open at a given time, in Asia/Bangkok.
 *
 * The schedule is the JSON shape the API reads and writes (README, "Opening hours"):
 *   {"always_open", "closed_on_public_holidays",
 *    "weekly": [{"day": "mo".."su", "opens_at": "08:30", "closes_at": "16:30"}],
 *    "exceptions": [{"from", "to", "closed", "opens_at", "closes_at", "note_th", "note_en"}],
 *    "note_th", "note_en"}
 * An interval belongs to the day it opens; one whose closes_at is not after its opens_at runs
 * past midnight into the next day ("22:00"-"02:00"; "00:00"-"00:00" is a whole day), and
 * "24:00" closes at midnight. A date's exception replaces that date's weekly intervals; a
 * public holiday closes the day when the schedule says so (an exception on the holiday
 * still applies). Times are Asia/Bangkok: UTC+7 all year (Thailand has no daylight saving),
 * computed with arithmetic, never with the process's TZ.
 *
 * Everything here is pure (no I/O, no clock) except dir_hours_now, the one clock answers use.
 */
#ifndef DIR_HOURS_H
#define DIR_HOURS_H

#include "dir_buf.h"
#include "dir_mem.h"

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#define DIR_HOURS_MAX_WEEKLY 70      /* intervals in a week (10 a day) */
#define DIR_HOURS_MAX_EXCEPTIONS 200 /* dated exceptions */
#define DIR_HOURS_NOTE_MAX 300       /* characters of a note */

/* One weekly interval: DAY 0 = Monday .. 6 = Sunday; minutes after midnight, OPENS 0..1439,
 * CLOSES 0..1440 (not after OPENS: past midnight). */
struct dir_hours_interval {
    int day, opens, closes;
};

/* Dates FROM..TO (days since 1970-01-01, both included): closed, or open OPENS..CLOSES. */
struct dir_hours_exception {
    int from, to;
    bool closed;
    int opens, closes;
    const char *note_th, *note_en;
};

struct dir_hours {
    bool always_open, closed_on_holidays;
    const struct dir_hours_interval *weekly; /* by day, then opening time */
    int nweekly;
    const struct dir_hours_exception *exceptions; /* by date */
    int nexceptions;
    const char *note_th, *note_en;
};

/* Public holidays: days since 1970-01-01, ascending. */
struct dir_holidays {
    const int *days;
    int n;
};

/* Reports one invalid field: FIELD like "hours.weekly[2].closes_at", with a reason in Thai
 * and English (static strings or CTX's to copy). */
typedef void (*dir_hours_error_fn)(void *ctx, const char *field, const char *th, const char *en);

/* Parses and checks V (a JSON object in the shape above) field by field: unknown keys, day
 * codes, times "HH:MM" (opens_at 00:00-23:59, closes_at 00:00-24:00), dates "YYYY-MM-DD"
 * with from <= to, intervals that overlap (on one day or past midnight into the next) and
 * exception dates that overlap are refused, each through ERR. On success (no error) *OUT is
 * the schedule, allocated in ARENA (strings copied, lists sorted); false otherwise. */
bool dir_hours_parse(json_t *v, struct dir_arena *arena, const struct dir_hours **out,
                     dir_hours_error_fn err, void *ctx);

/* The schedule in the JSON shape above (a new reference, owned by the caller). */
json_t *dir_hours_json(const struct dir_hours *h);

enum dir_hours_open { DIR_HOURS_UNKNOWN = -1, DIR_HOURS_CLOSED = 0, DIR_HOURS_OPEN = 1 };

struct dir_hours_state {
    enum dir_hours_open open;
    time_t next_change; /* when OPEN flips next; 0 = unknown, or not within the next 400
                         * days that have hours (a closed stretch counts as one) */
};

/* Whether schedule H (NULL = unknown) is open at NOW, and when that changes, given the
 * public HOLIDAYS (may be NULL). */
struct dir_hours_state dir_hours_at(const struct dir_hours *h, const struct dir_holidays *hol,
                                    time_t now);

/* Appends ,"open_now":true|false|null,"next_change":"2026-12-02T16:30:00+07:00"|null for
 * state S to B. */
enum dir_rc dir_hours_add_state(struct dir_buf *b, struct dir_hours_state s);

/* T as "YYYY-MM-DDTHH:MM:SS+07:00" (Bangkok time) into OUT (26 bytes). */
void dir_hours_format_time(time_t t, char out[26]);
/* Days since 1970-01-01 of the date "YYYY-MM-DD" in S (years 1900-2200, a real date). */
bool dir_hours_parse_date(const char *s, int *days);
/* Minutes after midnight of "HH:MM" in S (00:00-23:59, and 24:00 when ALLOW_24). */
bool dir_hours_parse_hhmm(const char *s, bool allow_24, int *minutes);
/* The instant "YYYY-MM-DDTHH:MM:SS" followed by "+07:00" or "Z" in S. */
bool dir_hours_parse_instant(const char *s, time_t *t);

/* The clock answers are computed for: the real time, unless a fixed time was set (the
 * test_now option, for tests only). */
time_t dir_hours_now(void);
/* Fixes the clock at T (0 = the real clock again). Call before serving. */
void dir_hours_fix_clock(time_t t);

#endif
