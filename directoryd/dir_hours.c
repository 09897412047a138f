/* dir_hours.c - opening hours (see dir_hours.h): the schedule's JSON checked and parsed,
 * rendered back, and open_now / next_change found by walking the days from yesterday on,
 * merging the intervals that touch, in Bangkok time (UTC+7) by plain arithmetic. */
#include "dir_hours.h"
#include "dir_validate.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BKK_OFFSET (7 * 3600) /* Asia/Bangkok: UTC+7, no daylight saving */
#define DAY_MIN 1440
#define WEEK_MIN (7 * DAY_MIN)
#define WINDOW_DAYS 400 /* days with hours looked at for next_change */

static const char *const day_codes[7] = {"mo", "tu", "we", "th", "fr", "sa", "su"};

/* ---- calendar arithmetic: the proleptic Gregorian calendar, days since 1970-01-01 ---- */

static long long floor_div(long long a, long long b)
{
    long long q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static long days_from_civil(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* 0 = Monday .. 6 = Sunday (1970-01-01 was a Thursday). */
static int weekday(long days)
{
    return (int)(((days % 7) + 7 + 3) % 7);
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool dir_hours_parse_date(const char *s, int *days)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap)) return false;
    *days = (int)days_from_civil(y, m, d);
    return true;
}

bool dir_hours_parse_hhmm(const char *s, bool allow_24, int *minutes)
{
    if (!s || strlen(s) != 5 || s[2] != ':') return false;
    int h = digits(s, 2), m = digits(s + 3, 2);
    if (h < 0 || m < 0 || m > 59) return false;
    if (h > 23 && !(allow_24 && h == 24 && m == 0)) return false;
    *minutes = h * 60 + m;
    return true;
}

bool dir_hours_parse_instant(const char *s, time_t *t)
{
    char date[11];
    int days;
    if (!s || strlen(s) < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':') return false;
    memcpy(date, s, 10);
    date[10] = '\0';
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (!dir_hours_parse_date(date, &days) || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
        sec > 59)
        return false;
    long long off;
    if (strcmp(s + 19, "Z") == 0)
        off = 0;
    else if (strcmp(s + 19, "+07:00") == 0)
        off = BKK_OFFSET;
    else
        return false;
    *t = (time_t)((long long)days * 86400 + h * 3600 + mi * 60 + sec - off);
    return true;
}

/* N decimal digits of V (not negative), zero-padded, at OUT. */
static void put_digits(char *out, long v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static void format_hhmm(int minutes, char out[6])
{
    put_digits(out, minutes / 60, 2);
    out[2] = ':';
    put_digits(out + 3, minutes % 60, 2);
    out[5] = '\0';
}

static void format_date(long days, char out[11])
{
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    put_digits(out, y < 0 ? 0 : y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = '\0';
}

void dir_hours_format_time(time_t t, char out[26])
{
    long long local = (long long)t + BKK_OFFSET;
    long long days = floor_div(local, 86400);
    long sec = (long)(local - days * 86400);
    format_date((long)days, out);
    out[10] = 'T';
    put_digits(out + 11, sec / 3600, 2);
    out[13] = ':';
    put_digits(out + 14, sec / 60 % 60, 2);
    out[16] = ':';
    put_digits(out + 17, sec % 60, 2);
    memcpy(out + 19, "+07:00", 7);
}

/* The end of an interval in minutes after its day's midnight: past midnight when CLOSES is
 * not after OPENS. */
static int end_of(int opens, int closes)
{
    return closes > opens ? closes : closes + DAY_MIN;
}

/* ---- the JSON shape in ---- */

struct parser {
    dir_hours_error_fn err;
    void *ctx;
    struct dir_arena *arena;
    bool bad;
};

static void fail(struct parser *p, const char *field, const char *th, const char *en)
{
    p->bad = true;
    if (p->err) p->err(p->ctx, field, th, en);
}

/* Refuses the keys of object V not in ALLOWED (NULL-terminated). */
static void only_keys(struct parser *p, json_t *v, const char *name, const char *const *allowed)
{
    const char *key;
    json_t *x;
    json_object_foreach(v, key, x)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            char f[160];
            snprintf(f, sizeof f, "%s.%s", name, key);
            fail(p, f, "ไม่รู้จักช่องนี้", "unknown field");
        }
    }
}

/* An optional note: NULL when absent, null or empty. */
static const char *note(struct parser *p, json_t *v, const char *name, const char *key)
{
    json_t *x = json_object_get(v, key);
    const char *th, *en;
    char f[96];
    snprintf(f, sizeof f, "%s.%s", name, key);
    if (!x || json_is_null(x)) return NULL;
    if (!json_is_string(x)) {
        fail(p, f, "ต้องเป็นข้อความ", "must be a string");
        return NULL;
    }
    const char *s = json_string_value(x);
    if (strlen(s) != json_string_length(x)) {
        fail(p, f, "มีอักขระควบคุมที่ใช้ไม่ได้", "contains control characters");
        return NULL;
    }
    if (!dir_validate_text(s, 0, DIR_HOURS_NOTE_MAX, true, &th, &en)) {
        fail(p, f, th, en);
        return NULL;
    }
    return *s ? dir_arena_strdup(p->arena, s) : NULL;
}

/* A boolean member (false when absent or null). */
static bool flag(struct parser *p, json_t *v, const char *name, const char *key)
{
    json_t *x = json_object_get(v, key);
    if (x && !json_is_null(x) && !json_is_boolean(x)) {
        char f[96];
        snprintf(f, sizeof f, "%s.%s", name, key);
        fail(p, f, "ต้องเป็น true หรือ false", "must be true or false");
    }
    return json_is_true(x);
}

/* The opens_at and closes_at members of V (NAME the item) into *OPENS, *CLOSES. */
static bool times(struct parser *p, json_t *v, const char *name, int *opens, int *closes)
{
    char f[96];
    bool ok = true;
    snprintf(f, sizeof f, "%s.opens_at", name);
    if (!dir_hours_parse_hhmm(json_string_value(json_object_get(v, "opens_at")), false, opens)) {
        fail(p, f, "เวลาเปิดแบบ HH:MM ตั้งแต่ 00:00 ถึง 23:59", "a time as HH:MM from 00:00 to 23:59");
        ok = false;
    }
    snprintf(f, sizeof f, "%s.closes_at", name);
    if (!dir_hours_parse_hhmm(json_string_value(json_object_get(v, "closes_at")), true, closes)) {
        fail(p, f, "เวลาปิดแบบ HH:MM ตั้งแต่ 00:00 ถึง 24:00", "a time as HH:MM from 00:00 to 24:00");
        ok = false;
    }
    return ok;
}

/* The list member KEY of V as an array (NULL when absent or null) of at most MAX items. */
static json_t *list(struct parser *p, json_t *v, const char *key, size_t max, const char *th,
                    const char *en)
{
    json_t *x = json_object_get(v, key);
    char f[64];
    snprintf(f, sizeof f, "hours.%s", key);
    if (!x || json_is_null(x)) return NULL;
    if (!json_is_array(x) || json_array_size(x) > max) {
        fail(p, f, th, en);
        return NULL;
    }
    return x;
}

/* Week minutes [start, end) of interval I (end may pass the week's end). */
static void week_span(const struct dir_hours_interval *i, int *start, int *end)
{
    *start = i->day * DAY_MIN + i->opens;
    *end = i->day * DAY_MIN + end_of(i->opens, i->closes);
}

/* True when [A0, A1) and [B0, B1) meet anywhere on the week's circle. */
static bool week_overlap(int a0, int a1, int b0, int b1)
{
    for (int shift = -WEEK_MIN; shift <= WEEK_MIN; shift += WEEK_MIN)
        if (b0 + shift < a1 && a0 < b1 + shift) return true;
    return false;
}

static void parse_weekly(struct parser *p, json_t *arr, struct dir_hours_interval *out, int *n)
{
    static const char *const keys[] = {"day", "opens_at", "closes_at", NULL};
    size_t i;
    json_t *it;
    int *at = dir_arena_alloc(p->arena, sizeof(int) * (json_array_size(arr) + 1));
    json_array_foreach(arr, i, it)
    {
        char name[48], f[96];
        snprintf(name, sizeof name, "hours.weekly[%zu]", i);
        if (!json_is_object(it)) {
            fail(p, name, "ต้องเป็นออบเจกต์", "must be an object");
            continue;
        }
        only_keys(p, it, name, keys);
        const char *day = json_string_value(json_object_get(it, "day"));
        int d = -1;
        for (int k = 0; day && k < 7 && d < 0; k++)
            if (strcmp(day, day_codes[k]) == 0) d = k;
        if (d < 0) {
            snprintf(f, sizeof f, "%s.day", name);
            fail(p, f, "ใช้ mo, tu, we, th, fr, sa หรือ su", "one of mo, tu, we, th, fr, sa, su");
        }
        int opens, closes;
        if (!times(p, it, name, &opens, &closes) || d < 0) continue;
        struct dir_hours_interval x = {d, opens, closes};
        int xs, xe;
        week_span(&x, &xs, &xe);
        for (int k = 0; k < *n; k++) {
            int ks, ke;
            week_span(&out[k], &ks, &ke);
            if (!week_overlap(xs, xe, ks, ke)) continue;
            char th[160], en[160], o[6], c[6];
            format_hhmm(out[k].opens, o);
            format_hhmm(out[k].closes, c);
            bool starts_inside = week_overlap(xs, xs + 1, ks, ke);
            snprintf(f, sizeof f, "%s.%s", name, starts_inside ? "opens_at" : "closes_at");
            snprintf(th, sizeof th, "ช่วงเวลาทับซ้อนกับ hours.weekly[%d] (%s %s-%s)", at[k],
                     day_codes[out[k].day], o, c);
            snprintf(en, sizeof en, "overlaps hours.weekly[%d] (%s %s-%s)", at[k],
                     day_codes[out[k].day], o, c);
            fail(p, f, th, en);
            break;
        }
        at[*n] = (int)i;
        out[(*n)++] = x;
    }
}

static void parse_exceptions(struct parser *p, json_t *arr, struct dir_hours_exception *out, int *n)
{
    static const char *const keys[] = {"from",      "to",      "closed",  "opens_at",
                                       "closes_at", "note_th", "note_en", NULL};
    size_t i;
    json_t *it;
    int *at = dir_arena_alloc(p->arena, sizeof(int) * (json_array_size(arr) + 1));
    json_array_foreach(arr, i, it)
    {
        char name[48], f[96];
        snprintf(name, sizeof name, "hours.exceptions[%zu]", i);
        if (!json_is_object(it)) {
            fail(p, name, "ต้องเป็นออบเจกต์", "must be an object");
            continue;
        }
        only_keys(p, it, name, keys);
        struct dir_hours_exception x = {0};
        bool ok = true;
        snprintf(f, sizeof f, "%s.from", name);
        if (!dir_hours_parse_date(json_string_value(json_object_get(it, "from")), &x.from)) {
            fail(p, f, "วันที่แบบ YYYY-MM-DD (ค.ศ.)", "a date as YYYY-MM-DD (Common Era)");
            ok = false;
        }
        json_t *to = json_object_get(it, "to");
        snprintf(f, sizeof f, "%s.to", name);
        if (!to || json_is_null(to)) {
            x.to = x.from;
        } else if (!dir_hours_parse_date(json_string_value(to), &x.to)) {
            fail(p, f, "วันที่แบบ YYYY-MM-DD (ค.ศ.)", "a date as YYYY-MM-DD (Common Era)");
            ok = false;
        } else if (ok && x.to < x.from) {
            fail(p, f, "ต้องไม่ก่อนวันที่ from", "must not be before from");
            ok = false;
        }
        json_t *closed = json_object_get(it, "closed"), *o = json_object_get(it, "opens_at"),
               *c = json_object_get(it, "closes_at");
        bool has_times = (o && !json_is_null(o)) || (c && !json_is_null(c));
        snprintf(f, sizeof f, "%s.closed", name);
        if (closed && !json_is_boolean(closed)) {
            fail(p, f, "ต้องเป็น true หรือ false", "must be true or false");
            ok = false;
        }
        x.closed = closed ? json_is_true(closed) : !has_times;
        if (x.closed && has_times) {
            snprintf(f, sizeof f, "%s.%s", name, o && !json_is_null(o) ? "opens_at" : "closes_at");
            fail(p, f, "ต้องเป็น null เมื่อปิดทั้งวัน (closed เป็น true)",
                 "must be null when closed is true");
            ok = false;
        } else if (!x.closed && !times(p, it, name, &x.opens, &x.closes)) {
            ok = false;
        }
        x.note_th = note(p, it, name, "note_th");
        x.note_en = note(p, it, name, "note_en");
        if (!ok) continue;
        for (int k = 0; k < *n; k++) {
            if (x.from > out[k].to || out[k].from > x.to) continue;
            char th[160], en[160], a[11], b[11];
            format_date(out[k].from, a);
            format_date(out[k].to, b);
            snprintf(f, sizeof f, "%s.from", name);
            snprintf(th, sizeof th, "วันที่ทับซ้อนกับ hours.exceptions[%d] (%s ถึง %s)", at[k], a, b);
            snprintf(en, sizeof en, "overlaps hours.exceptions[%d] (%s to %s)", at[k], a, b);
            fail(p, f, th, en);
            break;
        }
        at[*n] = (int)i;
        out[(*n)++] = x;
    }
}

static int cmp_interval(const void *a, const void *b)
{
    const struct dir_hours_interval *x = a, *y = b;
    return x->day != y->day ? x->day - y->day : x->opens - y->opens;
}

static int cmp_exception(const void *a, const void *b)
{
    const struct dir_hours_exception *x = a, *y = b;
    return (x->from > y->from) - (x->from < y->from);
}

bool dir_hours_parse(json_t *v, struct dir_arena *arena, const struct dir_hours **out,
                     dir_hours_error_fn err, void *ctx)
{
    static const char *const keys[] = {
        "always_open", "closed_on_public_holidays", "weekly", "exceptions", "note_th", "note_en",
        NULL};
    struct parser p = {err, ctx, arena, false};
    if (!json_is_object(v)) {
        fail(&p, "hours", "ต้องเป็นออบเจกต์ หรือ null", "must be an object, or null");
        return false;
    }
    only_keys(&p, v, "hours", keys);
    struct dir_hours *h = dir_arena_alloc(arena, sizeof *h);
    h->always_open = flag(&p, v, "hours", "always_open");
    h->closed_on_holidays = flag(&p, v, "hours", "closed_on_public_holidays");
    h->note_th = note(&p, v, "hours", "note_th");
    h->note_en = note(&p, v, "hours", "note_en");
    json_t *weekly = list(&p, v, "weekly", DIR_HOURS_MAX_WEEKLY, "รายการช่วงเวลา ไม่เกิน 70 ช่วง",
                          "an array of at most 70 intervals");
    json_t *exc = list(&p, v, "exceptions", DIR_HOURS_MAX_EXCEPTIONS,
                       "รายการวันยกเว้น ไม่เกิน 200 รายการ", "an array of at most 200 exceptions");
    if (weekly && json_array_size(weekly)) {
        struct dir_hours_interval *w = dir_arena_alloc(arena, sizeof *w * json_array_size(weekly));
        int n = 0;
        parse_weekly(&p, weekly, w, &n);
        if (h->always_open)
            fail(&p, "hours.weekly", "ต้องว่างเมื่อเปิดตลอด 24 ชั่วโมง (always_open เป็น true)",
                 "must be empty when always_open is true");
        qsort(w, (size_t)n, sizeof *w, cmp_interval);
        h->weekly = w;
        h->nweekly = n;
    }
    if (exc && json_array_size(exc)) {
        struct dir_hours_exception *x = dir_arena_alloc(arena, sizeof *x * json_array_size(exc));
        int n = 0;
        parse_exceptions(&p, exc, x, &n);
        qsort(x, (size_t)n, sizeof *x, cmp_exception);
        h->exceptions = x;
        h->nexceptions = n;
    }
    if (p.bad) return false;
    *out = h;
    return true;
}

/* ---- the JSON shape out ---- */

static json_t *jstr_or_null(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

json_t *dir_hours_json(const struct dir_hours *h)
{
    json_t *j = json_object(), *w = json_array(), *x = json_array();
    char a[11], b[11];
    json_object_set_new(j, "always_open", json_boolean(h->always_open));
    json_object_set_new(j, "closed_on_public_holidays", json_boolean(h->closed_on_holidays));
    for (int i = 0; i < h->nweekly; i++) {
        json_t *o = json_object();
        format_hhmm(h->weekly[i].opens, a);
        format_hhmm(h->weekly[i].closes, b);
        json_object_set_new(o, "day", json_string(day_codes[h->weekly[i].day]));
        json_object_set_new(o, "opens_at", json_string(a));
        json_object_set_new(o, "closes_at", json_string(b));
        json_array_append_new(w, o);
    }
    for (int i = 0; i < h->nexceptions; i++) {
        const struct dir_hours_exception *e = &h->exceptions[i];
        json_t *o = json_object();
        format_date(e->from, a);
        format_date(e->to, b);
        json_object_set_new(o, "from", json_string(a));
        json_object_set_new(o, "to", json_string(b));
        json_object_set_new(o, "closed", json_boolean(e->closed));
        format_hhmm(e->opens, a);
        format_hhmm(e->closes, b);
        json_object_set_new(o, "opens_at", e->closed ? json_null() : json_string(a));
        json_object_set_new(o, "closes_at", e->closed ? json_null() : json_string(b));
        json_object_set_new(o, "note_th", jstr_or_null(e->note_th));
        json_object_set_new(o, "note_en", jstr_or_null(e->note_en));
        json_array_append_new(x, o);
    }
    json_object_set_new(j, "weekly", w);
    json_object_set_new(j, "exceptions", x);
    json_object_set_new(j, "note_th", jstr_or_null(h->note_th));
    json_object_set_new(j, "note_en", jstr_or_null(h->note_en));
    return j;
}

/* ---- open now ---- */

/* The exception covering DAY, or NULL (exceptions are sorted and do not overlap). */
static const struct dir_hours_exception *exception_on(const struct dir_hours *h, long day)
{
    int lo = 0, hi = h->nexceptions - 1, found = -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (h->exceptions[mid].from <= day) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found >= 0 && h->exceptions[found].to >= day ? &h->exceptions[found] : NULL;
}

/* The index of the first holiday on or after DAY (HOL->n when none). */
static int holiday_from(const struct dir_holidays *hol, long day)
{
    int lo = 0, hi = hol ? hol->n : 0;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (hol->days[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool is_holiday(const struct dir_holidays *hol, long day)
{
    int i = holiday_from(hol, day);
    return hol && i < hol->n && hol->days[i] == day;
}

/* The intervals that open on DAY, as minutes after its midnight [start, end), into OUT (by
 * start). *SKIP_TO is set to the last day of a closed exception that starts here. */
static int day_intervals(const struct dir_hours *h, const struct dir_holidays *hol, long day,
                         int out[][2], long *skip_to)
{
    const struct dir_hours_exception *x = exception_on(h, day);
    if (x) {
        if (x->closed) {
            *skip_to = x->to;
            return 0;
        }
        out[0][0] = x->opens;
        out[0][1] = end_of(x->opens, x->closes);
        return 1;
    }
    if (h->closed_on_holidays && is_holiday(hol, day)) return 0;
    if (h->always_open) {
        out[0][0] = 0;
        out[0][1] = DAY_MIN;
        return 1;
    }
    int n = 0, wd = weekday(day);
    for (int i = 0; i < h->nweekly; i++)
        if (h->weekly[i].day == wd) {
            out[n][0] = h->weekly[i].opens;
            out[n][1] = end_of(h->weekly[i].opens, h->weekly[i].closes);
            n++;
        }
    return n;
}

/* The state for the settled open block [START, END) (minutes since the epoch, local time)
 * seen from minute NOW; false when the block is already over. */
static bool settle(long long start, long long end, long long now, struct dir_hours_state *s)
{
    if (end <= now) return false;
    s->open = start <= now ? DIR_HOURS_OPEN : DIR_HOURS_CLOSED;
    s->next_change = (time_t)((start <= now ? end : start) * 60 - BKK_OFFSET);
    return true;
}

struct dir_hours_state dir_hours_at(const struct dir_hours *h, const struct dir_holidays *hol,
                                    time_t now)
{
    struct dir_hours_state s = {DIR_HOURS_UNKNOWN, 0};
    if (!h) return s;
    long long local = (long long)now + BKK_OFFSET;
    long long minute = floor_div(local, 60);
    long today = (long)floor_div(local, 86400);
    /* Yesterday's exception counts too: its hours may run past midnight into today. */
    bool later_exceptions = h->nexceptions && h->exceptions[h->nexceptions - 1].to >= today - 1;
    s.open = DIR_HOURS_CLOSED;
    /* Nothing ever changes: closed for good, or open with no day off ahead. */
    if (!later_exceptions && !h->always_open && h->nweekly == 0) return s;
    if (!later_exceptions && h->always_open &&
        (!h->closed_on_holidays || holiday_from(hol, today) == (hol ? hol->n : 0))) {
        s.open = DIR_HOURS_OPEN;
        return s;
    }
    bool have = false;
    long long bs = 0, be = 0; /* the open block being merged */
    /* Days are counted as they are looked at: a closed stretch is stepped over whole. */
    for (long d = today - 1, looked = 0; looked <= WINDOW_DAYS + 1; d++, looked++) {
        int iv[DIR_HOURS_MAX_WEEKLY][2];
        long skip = d;
        int n = day_intervals(h, hol, d, iv, &skip);
        for (int k = 0; k < n; k++) {
            long long a = (long long)d * DAY_MIN + iv[k][0], b = (long long)d * DAY_MIN + iv[k][1];
            if (have && a <= be) {
                if (b > be) be = b;
                continue;
            }
            if (have && settle(bs, be, minute, &s)) return s;
            bs = a;
            be = b;
            have = true;
        }
        /* Later days' intervals start at their midnight or after: a block ending before the
         * next midnight is complete. */
        if (have && be < (long long)(d + 1) * DAY_MIN) {
            if (settle(bs, be, minute, &s)) return s;
            have = false;
        }
        if (skip > d) d = skip; /* a closed stretch: nothing opens until after it */
    }
    if (have && be > minute) {
        s.open = bs <= minute ? DIR_HOURS_OPEN : DIR_HOURS_CLOSED;
        s.next_change = bs <= minute ? 0 : (time_t)(bs * 60 - BKK_OFFSET);
    }
    return s;
}

enum dir_rc dir_hours_add_state(struct dir_buf *b, struct dir_hours_state s)
{
    if (s.open == DIR_HOURS_UNKNOWN)
        return dir_buf_adds(b, ",\"open_now\":null,\"next_change\":null");
    /* Per organisation of every answer: no printf. */
    enum dir_rc rc =
        dir_buf_adds(b, s.open == DIR_HOURS_OPEN ? ",\"open_now\":true" : ",\"open_now\":false");
    if (rc || !s.next_change) return rc ? rc : dir_buf_adds(b, ",\"next_change\":null");
    char t[26];
    dir_hours_format_time(s.next_change, t);
    rc = dir_buf_adds(b, ",\"next_change\":\"");
    if (!rc) rc = dir_buf_add(b, t, strlen(t));
    return rc ? rc : dir_buf_add(b, "\"", 1);
}

/* ---- the clock ---- */

static _Atomic long long fixed_clock;

time_t dir_hours_now(void)
{
    long long t = atomic_load(&fixed_clock);
    return t ? (time_t)t : time(NULL);
}

void dir_hours_fix_clock(time_t t)
{
    atomic_store(&fixed_clock, (long long)t);
}
