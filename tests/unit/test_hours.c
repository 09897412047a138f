/* test_hours.c - unit tests for opening hours: parsing and checking the schedule JSON,
 * open_now / next_change in Bangkok time, and the organisation answers that carry them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir_buf.h"
#include "dir_hours.h"
#include "dir_mem.h"
#include "dir_model.h"
#include "dir_query.h"

/* "2026-12-04T17:00" in Bangkok as a time_t. (2026-12-04 is a Friday.) */
static time_t at(const char *local)
{
    char s[40];
    time_t t;
    snprintf(s, sizeof s, "%s:00+07:00", local);
    assert_true(dir_hours_parse_instant(s, &t));
    return t;
}

static const char *fmt(time_t t)
{
    static char out[26];
    if (!t) return "none";
    dir_hours_format_time(t, out);
    return out;
}

/* Field errors collected by the parser. */
struct errs {
    char text[2048];
    int n;
};

static void collect(void *ctx, const char *field, const char *th, const char *en)
{
    struct errs *e = ctx;
    size_t len = strlen(e->text);
    assert_non_null(th);
    snprintf(e->text + len, sizeof e->text - len, "%s: %s\n", field, en);
    e->n++;
}

static struct dir_arena *arena;

static int setup(void **state)
{
    (void)state;
    arena = dir_arena_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dir_arena_free(arena);
    return 0;
}

/* The schedule in JSON text S; fails the test when it does not parse. */
static const struct dir_hours *hours(const char *s)
{
    json_error_t je;
    json_t *v = json_loads(s, 0, &je);
    assert_non_null(v);
    struct errs e = {{0}, 0};
    const struct dir_hours *h = NULL;
    bool ok = dir_hours_parse(v, arena, &h, collect, &e);
    if (!ok) fail_msg("%s", e.text);
    json_decref(v);
    return h;
}

/* The errors the parser reports for S (one per line, "field: message"). */
static const char *errors_of(const char *s)
{
    static struct errs e;
    memset(&e, 0, sizeof e);
    json_t *v = json_loads(s, 0, NULL);
    assert_non_null(v);
    const struct dir_hours *h = NULL;
    assert_false(dir_hours_parse(v, arena, &h, collect, &e));
    json_decref(v);
    return e.text;
}

/* Asserts the state of H at LOCAL: OPEN (1, 0) and the next change (local time or "none"). */
static void expect(const struct dir_hours *h, const struct dir_holidays *hol, const char *local,
                   int open, const char *next)
{
    struct dir_hours_state s = dir_hours_at(h, hol, at(local));
    if ((int)s.open != open || strcmp(fmt(s.next_change), next) != 0)
        fail_msg("at %s: open %d next %s, expected open %d next %s", local, (int)s.open,
                 fmt(s.next_change), open, next);
}

#define WEEKDAYS(o, c)                                                                             \
    "{\"day\":\"mo\",\"opens_at\":\"" o "\",\"closes_at\":\"" c "\"},"                             \
    "{\"day\":\"tu\",\"opens_at\":\"" o "\",\"closes_at\":\"" c "\"},"                             \
    "{\"day\":\"we\",\"opens_at\":\"" o "\",\"closes_at\":\"" c "\"},"                             \
    "{\"day\":\"th\",\"opens_at\":\"" o "\",\"closes_at\":\"" c "\"},"                             \
    "{\"day\":\"fr\",\"opens_at\":\"" o "\",\"closes_at\":\"" c "\"}"

static void weekday_office_hours(void **state)
{
    (void)state;
    const struct dir_hours *h = hours("{\"weekly\":[" WEEKDAYS("08:30", "16:30") "]}");
    expect(h, NULL, "2026-12-02T10:00", 1, "2026-12-02T16:30:00+07:00");
    expect(h, NULL, "2026-12-02T08:29", 0, "2026-12-02T08:30:00+07:00");
    expect(h, NULL, "2026-12-02T08:30", 1, "2026-12-02T16:30:00+07:00");
    expect(h, NULL, "2026-12-02T16:30", 0, "2026-12-03T08:30:00+07:00");
    /* Friday evening and the weekend: next Monday (over the week's end). */
    expect(h, NULL, "2026-12-04T17:00", 0, "2026-12-07T08:30:00+07:00");
    expect(h, NULL, "2026-12-05T12:00", 0, "2026-12-07T08:30:00+07:00");
    expect(h, NULL, "2026-12-06T23:59", 0, "2026-12-07T08:30:00+07:00");
    /* Seconds inside the last open minute still count as open. */
    struct dir_hours_state s = dir_hours_at(h, NULL, at("2026-12-02T16:29") + 59);
    assert_int_equal(s.open, DIR_HOURS_OPEN);
}

static void several_intervals_a_day(void **state)
{
    (void)state;
    const struct dir_hours *h =
        hours("{\"weekly\":["
              "{\"day\":\"we\",\"opens_at\":\"13:00\",\"closes_at\":\"16:30\"},"
              "{\"day\":\"we\",\"opens_at\":\"08:00\",\"closes_at\":\"12:00\"},"
              "{\"day\":\"we\",\"opens_at\":\"18:00\",\"closes_at\":\"20:00\"}]}");
    expect(h, NULL, "2026-12-02T07:00", 0, "2026-12-02T08:00:00+07:00");
    expect(h, NULL, "2026-12-02T11:00", 1, "2026-12-02T12:00:00+07:00");
    expect(h, NULL, "2026-12-02T12:30", 0, "2026-12-02T13:00:00+07:00");
    expect(h, NULL, "2026-12-02T17:00", 0, "2026-12-02T18:00:00+07:00");
    expect(h, NULL, "2026-12-02T19:59", 1, "2026-12-02T20:00:00+07:00");
    /* After the last one: next Wednesday. */
    expect(h, NULL, "2026-12-02T20:00", 0, "2026-12-09T08:00:00+07:00");
    /* Touching intervals are one opening: 08:00-12:00 then 12:00-13:00. */
    const struct dir_hours *t =
        hours("{\"weekly\":["
              "{\"day\":\"mo\",\"opens_at\":\"08:00\",\"closes_at\":\"12:00\"},"
              "{\"day\":\"mo\",\"opens_at\":\"12:00\",\"closes_at\":\"13:00\"}]}");
    expect(t, NULL, "2026-12-07T09:00", 1, "2026-12-07T13:00:00+07:00");
}

static void past_midnight(void **state)
{
    (void)state;
    /* Friday 22:00-02:00: open on Saturday at 01:00. */
    const struct dir_hours *h =
        hours("{\"weekly\":[{\"day\":\"fr\",\"opens_at\":\"22:00\",\"closes_at\":\"02:00\"}]}");
    expect(h, NULL, "2026-12-04T21:00", 0, "2026-12-04T22:00:00+07:00");
    expect(h, NULL, "2026-12-04T23:00", 1, "2026-12-05T02:00:00+07:00");
    expect(h, NULL, "2026-12-05T01:00", 1, "2026-12-05T02:00:00+07:00");
    expect(h, NULL, "2026-12-05T02:00", 0, "2026-12-11T22:00:00+07:00");
    /* Sunday night runs into Monday, across the week's end. */
    const struct dir_hours *s =
        hours("{\"weekly\":[{\"day\":\"su\",\"opens_at\":\"20:00\",\"closes_at\":\"06:00\"}]}");
    expect(s, NULL, "2026-12-07T05:00", 1, "2026-12-07T06:00:00+07:00");
    expect(s, NULL, "2026-12-07T06:00", 0, "2026-12-13T20:00:00+07:00");
    /* "24:00" closes at midnight, and an interval from midnight continues it. */
    const struct dir_hours *m =
        hours("{\"weekly\":[{\"day\":\"mo\",\"opens_at\":\"08:00\",\"closes_at\":\"24:00\"},"
              "{\"day\":\"tu\",\"opens_at\":\"00:00\",\"closes_at\":\"06:00\"}]}");
    expect(m, NULL, "2026-12-07T23:30", 1, "2026-12-08T06:00:00+07:00");
    expect(m, NULL, "2026-12-08T03:00", 1, "2026-12-08T06:00:00+07:00");
    /* Opening and closing at the same time is a whole day. */
    const struct dir_hours *d =
        hours("{\"weekly\":[{\"day\":\"we\",\"opens_at\":\"00:00\",\"closes_at\":\"00:00\"}]}");
    expect(d, NULL, "2026-12-02T23:59", 1, "2026-12-03T00:00:00+07:00");
}

static void always_open_and_24_hours(void **state)
{
    (void)state;
    const struct dir_hours *h = hours("{\"always_open\":true}");
    expect(h, NULL, "2026-12-02T03:00", 1, "none");
    /* Every day 00:00-24:00 is the same thing. */
    const struct dir_hours *w = hours("{\"weekly\":[" WEEKDAYS(
        "00:00", "24:00") ","
                          "{\"day\":\"sa\",\"opens_at\":\"00:00\",\"closes_at\":\"24:00\"},"
                          "{\"day\":\"su\",\"opens_at\":\"00:00\",\"closes_at\":\"24:00\"}]}");
    expect(w, NULL, "2026-12-05T12:00", 1, "none");
    /* Open all week but Sunday: closes at Sunday's midnight. */
    const struct dir_hours *six = hours("{\"weekly\":[" WEEKDAYS(
        "00:00", "24:00") ","
                          "{\"day\":\"sa\",\"opens_at\":\"00:00\",\"closes_at\":\"24:00\"}]}");
    expect(six, NULL, "2026-12-02T12:00", 1, "2026-12-06T00:00:00+07:00");
    expect(six, NULL, "2026-12-06T12:00", 0, "2026-12-07T00:00:00+07:00");
}

static void public_holidays(void **state)
{
    (void)state;
    int days[3];
    assert_true(dir_hours_parse_date("2026-12-07", &days[0])); /* substitution day (Mon) */
    assert_true(dir_hours_parse_date("2026-12-10", &days[1])); /* Constitution Day (Thu) */
    assert_true(dir_hours_parse_date("2026-12-31", &days[2]));
    struct dir_holidays hol = {days, 3};
    const struct dir_hours *office =
        hours("{\"closed_on_public_holidays\":true,\"weekly\":[" WEEKDAYS("08:30", "16:30") "]}");
    expect(office, &hol, "2026-12-04T17:00", 0, "2026-12-08T08:30:00+07:00");
    expect(office, &hol, "2026-12-07T10:00", 0, "2026-12-08T08:30:00+07:00");
    expect(office, &hol, "2026-12-09T10:00", 1, "2026-12-09T16:30:00+07:00");
    expect(office, &hol, "2026-12-09T17:00", 0, "2026-12-11T08:30:00+07:00");
    /* Without the flag the holiday is a normal day. */
    const struct dir_hours *ngo = hours("{\"weekly\":[" WEEKDAYS("08:30", "16:30") "]}");
    expect(ngo, &hol, "2026-12-07T10:00", 1, "2026-12-07T16:30:00+07:00");
    /* Open around the clock but not on holidays. */
    const struct dir_hours *h = hours("{\"always_open\":true,\"closed_on_public_holidays\":true}");
    expect(h, &hol, "2026-12-06T12:00", 1, "2026-12-07T00:00:00+07:00");
    expect(h, &hol, "2026-12-07T12:00", 0, "2026-12-08T00:00:00+07:00");
    /* No holiday ahead: nothing changes. */
    expect(h, &hol, "2027-01-05T12:00", 1, "none");
    /* An exception on a holiday still applies. */
    const struct dir_hours *x = hours("{\"closed_on_public_holidays\":true,\"weekly\":[" WEEKDAYS(
        "08:30",
        "16:30") "],"
                 "\"exceptions\":[{\"from\":\"2026-12-10\",\"closed\":false,\"opens_at\":\"09:00\","
                 "\"closes_at\":\"12:00\"}]}");
    expect(x, &hol, "2026-12-10T10:00", 1, "2026-12-10T12:00:00+07:00");
}

static void exceptions(void **state)
{
    (void)state;
    /* Closed over the New Year (Thursday and Friday), then the weekend: Monday. */
    const struct dir_hours *h = hours("{\"weekly\":[" WEEKDAYS(
        "08:30",
        "16:30") "],\"exceptions\":["
                 "{\"from\":\"2026-12-31\",\"to\":\"2027-01-01\",\"closed\":true,\"note_en\":\"New "
                 "Year\"},"
                 "{\"from\":\"2026-12-24\",\"opens_at\":\"09:00\",\"closes_at\":\"12:00\"}]}");
    expect(h, NULL, "2026-12-30T17:00", 0, "2027-01-04T08:30:00+07:00");
    expect(h, NULL, "2026-12-31T10:00", 0, "2027-01-04T08:30:00+07:00");
    /* Different hours for one day (closed defaults to false when times are given). */
    expect(h, NULL, "2026-12-24T08:45", 0, "2026-12-24T09:00:00+07:00");
    expect(h, NULL, "2026-12-24T11:00", 1, "2026-12-24T12:00:00+07:00");
    expect(h, NULL, "2026-12-24T13:00", 0, "2026-12-25T08:30:00+07:00");
    /* A long closure is stepped over, not walked day by day. */
    const struct dir_hours *l = hours("{\"weekly\":[" WEEKDAYS(
        "08:30", "16:30") "],"
                          "\"exceptions\":[{\"from\":\"2026-01-01\",\"to\":\"2030-12-31\"}]}");
    expect(l, NULL, "2026-12-02T10:00", 0, "2031-01-01T08:30:00+07:00");
    /* A closure on an always-open service. */
    const struct dir_hours *a = hours("{\"always_open\":true,\"exceptions\":["
                                      "{\"from\":\"2026-12-03\",\"closed\":true}]}");
    expect(a, NULL, "2026-12-02T10:00", 1, "2026-12-03T00:00:00+07:00");
    expect(a, NULL, "2026-12-03T10:00", 0, "2026-12-04T00:00:00+07:00");
    /* One late night only (no weekly hours): still open after midnight, closed at 02:00. */
    const struct dir_hours *n = hours("{\"exceptions\":[{\"from\":\"2025-12-31\","
                                      "\"opens_at\":\"20:00\",\"closes_at\":\"02:00\"}]}");
    expect(n, NULL, "2025-12-31T23:00", 1, "2026-01-01T02:00:00+07:00");
    expect(n, NULL, "2026-01-01T01:00", 1, "2026-01-01T02:00:00+07:00");
    expect(n, NULL, "2026-01-01T03:00", 0, "none");
}

static void unknown_and_never(void **state)
{
    (void)state;
    expect(NULL, NULL, "2026-12-02T10:00", DIR_HOURS_UNKNOWN, "none");
    struct dir_buf b;
    dir_buf_init(&b, 1024);
    assert_int_equal(dir_hours_add_state(&b, dir_hours_at(NULL, NULL, at("2026-12-02T10:00"))),
                     DIR_OK);
    assert_string_equal(b.data, ",\"open_now\":null,\"next_change\":null");
    dir_buf_free(&b);
    /* Known, with no opening at all: closed, and nothing changes. */
    expect(hours("{}"), NULL, "2026-12-02T10:00", 0, "none");
    /* Only open on a date long past: closed. */
    expect(hours("{\"exceptions\":[{\"from\":\"2020-01-01\",\"opens_at\":\"08:00\","
                 "\"closes_at\":\"09:00\"}]}"),
           NULL, "2026-12-02T10:00", 0, "none");
}

static void state_json(void **state)
{
    (void)state;
    struct dir_buf b;
    dir_buf_init(&b, 1024);
    const struct dir_hours *h = hours("{\"weekly\":[" WEEKDAYS("08:30", "16:30") "]}");
    assert_int_equal(dir_hours_add_state(&b, dir_hours_at(h, NULL, at("2026-12-02T10:00"))),
                     DIR_OK);
    assert_string_equal(b.data, ",\"open_now\":true,\"next_change\":\"2026-12-02T16:30:00+07:00\"");
    dir_buf_free(&b);
}

static void checks_name_the_field(void **state)
{
    (void)state;
    const char *e =
        errors_of("{\"weekly\":[{\"day\":\"mo\",\"opens_at\":\"08:00\",\"closes_at\":\"12:00\"},"
                  "{\"day\":\"xx\",\"opens_at\":\"8:00\",\"closes_at\":\"25:00\"},"
                  "{\"day\":\"mo\",\"opens_at\":\"11:00\",\"closes_at\":\"13:00\"},"
                  "{\"day\":\"su\",\"opens_at\":\"23:00\",\"closes_at\":\"09:00\"},"
                  "{\"day\":\"tu\",\"opens_at\":\"24:00\",\"closes_at\":\"10:00\",\"extra\":1}],"
                  "\"exceptions\":[{\"from\":\"2026-12-31\",\"to\":\"2026-12-30\"},"
                  "{\"from\":\"2026-02-29\"},"
                  "{\"from\":\"2027-01-01\",\"closed\":true,\"opens_at\":\"08:00\"},"
                  "{\"from\":\"2027-02-01\",\"to\":\"2027-02-10\"},"
                  "{\"from\":\"2027-02-10\",\"closed\":false},"
                  "{\"from\":\"2027-03-01\",\"closed\":\"yes\"}],"
                  "\"always_open\":\"no\",\"note_th\":7,\"colour\":\"red\"}");
    static const char *const want[] = {
        "hours.colour: unknown field\n",
        "hours.always_open: must be true or false\n",
        "hours.note_th: must be a string\n",
        "hours.weekly[1].day: one of mo, tu, we, th, fr, sa, su\n",
        "hours.weekly[1].opens_at: a time as HH:MM from 00:00 to 23:59\n",
        "hours.weekly[1].closes_at: a time as HH:MM from 00:00 to 24:00\n",
        "hours.weekly[2].opens_at: overlaps hours.weekly[0] (mo 08:00-12:00)\n",
        "hours.weekly[3].closes_at: overlaps hours.weekly[0] (mo 08:00-12:00)\n",
        "hours.weekly[4].extra: unknown field\n",
        "hours.weekly[4].opens_at: a time as HH:MM from 00:00 to 23:59\n",
        "hours.exceptions[0].to: must not be before from\n",
        "hours.exceptions[1].from: a date as YYYY-MM-DD (Common Era)\n",
        "hours.exceptions[2].opens_at: must be null when closed is true\n",
        "hours.exceptions[4].opens_at: a time as HH:MM from 00:00 to 23:59\n",
        "hours.exceptions[5].closed: must be true or false\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(e, want[i])) fail_msg("missing \"%s\" in:\n%s", want[i], e);
    /* Overlapping dates (the fourth and fifth share 2027-02-10, but the fifth is already
     * wrong), and a closed period overlapping another. */
    e = errors_of("{\"exceptions\":[{\"from\":\"2027-02-01\",\"to\":\"2027-02-10\"},"
                  "{\"from\":\"2027-02-10\",\"to\":\"2027-02-12\",\"closed\":true}]}");
    assert_string_equal(e, "hours.exceptions[1].from: overlaps hours.exceptions[0] (2027-02-01 "
                           "to 2027-02-10)\n");
    /* Adjacent intervals are fine; a weekly list with always_open is not. */
    assert_string_equal(
        errors_of("{\"always_open\":true,\"weekly\":[" WEEKDAYS("08:30", "16:30") "]}"),
        "hours.weekly: must be empty when always_open is true\n");
    assert_string_equal(errors_of("[]"), "hours: must be an object, or null\n");
    assert_string_equal(errors_of("{\"weekly\":{}}"),
                        "hours.weekly: an array of at most 70 intervals\n");
    assert_string_equal(errors_of("{\"weekly\":[1]}"), "hours.weekly[0]: must be an object\n");
    assert_string_equal(errors_of("{\"note_en\":\"a\\nb\"}"),
                        "hours.note_en: contains control characters\n");
}

static void normal_form(void **state)
{
    (void)state;
    const struct dir_hours *h = hours(
        "{\"closed_on_public_holidays\":true,\"note_th\":\"\","
        "\"weekly\":[{\"day\":\"we\",\"opens_at\":\"13:00\",\"closes_at\":\"24:00\"},"
        "{\"day\":\"mo\",\"opens_at\":\"08:30\",\"closes_at\":\"12:00\"}],"
        "\"exceptions\":[{\"from\":\"2027-01-02\",\"opens_at\":\"09:00\",\"closes_at\":\"10:00\"},"
        "{\"from\":\"2026-12-31\",\"to\":\"2027-01-01\",\"note_th\":\"ปีใหม่\"}]}");
    json_t *j = dir_hours_json(h);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(
        s, "{\"always_open\":false,\"closed_on_public_holidays\":true,\"weekly\":["
           "{\"day\":\"mo\",\"opens_at\":\"08:30\",\"closes_at\":\"12:00\"},"
           "{\"day\":\"we\",\"opens_at\":\"13:00\",\"closes_at\":\"24:00\"}],\"exceptions\":["
           "{\"from\":\"2026-12-31\",\"to\":\"2027-01-01\",\"closed\":true,\"opens_at\":null,"
           "\"closes_at\":null,\"note_th\":\"ปีใหม่\",\"note_en\":null},"
           "{\"from\":\"2027-01-02\",\"to\":\"2027-01-02\",\"closed\":false,\"opens_at\":\"09:00\","
           "\"closes_at\":\"10:00\",\"note_th\":null,\"note_en\":null}],"
           "\"note_th\":null,\"note_en\":null}");
    /* The normal form parses to the same. */
    const struct dir_hours *again = hours(s);
    json_t *j2 = dir_hours_json(again);
    assert_true(json_equal(j, j2));
    free(s);
    json_decref(j);
    json_decref(j2);
}

static void calendar(void **state)
{
    (void)state;
    int d;
    assert_true(dir_hours_parse_date("1970-01-01", &d));
    assert_int_equal(d, 0);
    assert_true(dir_hours_parse_date("2028-02-29", &d));
    assert_false(dir_hours_parse_date("2026-02-29", &d));
    assert_false(dir_hours_parse_date("2100-02-29", &d));
    assert_true(dir_hours_parse_date("2000-02-29", &d));
    assert_false(dir_hours_parse_date("2026-13-01", &d));
    assert_false(dir_hours_parse_date("2026-1-01", &d));
    assert_false(dir_hours_parse_date("2026-01-01x", &d));
    int m;
    assert_true(dir_hours_parse_hhmm("24:00", true, &m));
    assert_int_equal(m, 1440);
    assert_false(dir_hours_parse_hhmm("24:00", false, &m));
    assert_false(dir_hours_parse_hhmm("24:01", true, &m));
    assert_false(dir_hours_parse_hhmm("12:60", true, &m));
    assert_false(dir_hours_parse_hhmm("1:00", true, &m));
    time_t t;
    assert_true(dir_hours_parse_instant("2026-12-02T09:30:00Z", &t));
    char out[26];
    dir_hours_format_time(t, out);
    assert_string_equal(out, "2026-12-02T16:30:00+07:00");
    assert_false(dir_hours_parse_instant("2026-12-02T09:30:00+08:00", &t));
    /* Bangkok's midnight is 17:00 UTC the day before, whatever TZ says. */
    setenv("TZ", "America/New_York", 1);
    assert_true(dir_hours_parse_instant("2026-12-06T17:00:00Z", &t));
    expect(hours("{\"weekly\":[{\"day\":\"mo\",\"opens_at\":\"00:00\",\"closes_at\":\"01:00\"}]}"),
           NULL, "2026-12-07T00:00", 1, "2026-12-07T01:00:00+07:00");
    assert_int_equal(dir_hours_at(hours("{\"always_open\":true}"), NULL, t).open, DIR_HOURS_OPEN);
    unsetenv("TZ");
}

static void the_clock(void **state)
{
    (void)state;
    time_t before = time(NULL);
    assert_true(dir_hours_now() >= before);
    dir_hours_fix_clock(at("2026-12-07T10:00"));
    assert_int_equal(dir_hours_now(), at("2026-12-07T10:00"));
    dir_hours_fix_clock(0);
    assert_true(dir_hours_now() >= before);
}

/* Organisation answers: hours, open_now and next_change in the JSON and the contact card. */
static void organisation_answers(void **state)
{
    (void)state;
    struct dir_model_builder *b = dir_model_builder_new(365);
    dir_model_add_area(b, "TH", "country", NULL, "ประเทศไทย", "Thailand", NULL, NAN, NAN, true, 1);
    struct dir_org_row o1 = {.id = 1,
                             .name_th = "เขต",
                             .type = "bma_unit",
                             .sector = "bma",
                             .area_code = "TH",
                             .version = 1};
    struct dir_org_row o2 = {.id = 2,
                             .name_th = "ไม่รู้เวลา",
                             .type = "ngo",
                             .sector = "ngo",
                             .area_code = "TH",
                             .version = 1};
    struct dir_org_row o3 = {.id = 3,
                             .name_th = "ปิดแล้ว",
                             .type = "ngo",
                             .sector = "ngo",
                             .status = "closed",
                             .status_date = "2017-09-30",
                             .area_code = "TH",
                             .version = 1};
    dir_model_add_org(b, &o1);
    dir_model_add_org(b, &o2);
    dir_model_add_org(b, &o3);
    dir_model_add_hours(
        b, 1, "{\"closed_on_public_holidays\":true,\"weekly\":[" WEEKDAYS("08:30", "16:30") "]}");
    dir_model_add_hours(b, 3, "{\"always_open\":true}");
    dir_model_add_hours(b, 2, "{\"weekly\":[{\"day\":\"zz\"}]}"); /* dropped: stays unknown */
    int d;
    assert_true(dir_hours_parse_date("2026-12-07", &d));
    dir_model_add_holiday(b, d);
    dir_model_add_holiday(b, d); /* twice: kept once */
    struct dir_model *m = NULL;
    char err[128];
    assert_int_equal(dir_model_finish(b, 1, &m, err, sizeof err), DIR_OK);
    assert_int_equal(m->holidays.n, 1);

    struct dir_buf out;
    dir_buf_init(&out, 1 << 20);
    assert_int_equal(
        dir_model_org_json(m, dir_model_org_at(m, 0), false, at("2026-12-07T10:00"), &out), DIR_OK);
    json_t *j = json_loads(out.data, 0, NULL);
    assert_non_null(j);
    assert_true(json_is_false(json_object_get(j, "open_now")));
    assert_string_equal(json_string_value(json_object_get(j, "next_change")),
                        "2026-12-08T08:30:00+07:00");
    json_t *h = json_object_get(j, "hours");
    assert_true(json_is_true(json_object_get(h, "closed_on_public_holidays")));
    assert_int_equal(json_array_size(json_object_get(h, "weekly")), 5);
    json_decref(j);

    dir_buf_free(&out);
    dir_buf_init(&out, 1 << 20);
    assert_int_equal(
        dir_model_org_json(m, dir_model_org_at(m, 1), true, at("2026-12-08T10:00"), &out), DIR_OK);
    j = json_loads(out.data, 0, NULL);
    assert_true(json_is_null(json_object_get(j, "hours")));
    assert_true(json_is_null(json_object_get(j, "open_now")));
    assert_true(json_is_null(json_object_get(j, "next_change")));
    json_decref(j);

    /* A closed organisation is never open, whatever its hours say. */
    dir_buf_free(&out);
    dir_buf_init(&out, 1 << 20);
    assert_int_equal(
        dir_model_org_json(m, dir_model_org_at(m, 2), false, at("2026-12-08T10:00"), &out), DIR_OK);
    j = json_loads(out.data, 0, NULL);
    assert_true(json_is_false(json_object_get(j, "open_now")));
    json_decref(j);

    /* The card (object members, for resolver items) carries the same. */
    dir_buf_free(&out);
    dir_buf_init(&out, 1 << 20);
    dir_buf_adds(&out, "{");
    assert_int_equal(
        dir_model_org_card(m, dir_model_org_at(m, 0), false, at("2026-12-08T10:00"), &out), DIR_OK);
    dir_buf_adds(&out, "}");
    j = json_loads(out.data, 0, NULL);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "open_now")));
    assert_string_equal(json_string_value(json_object_get(j, "next_change")),
                        "2026-12-08T16:30:00+07:00");
    assert_non_null(json_object_get(json_object_get(j, "hours"), "weekly"));
    json_decref(j);

    /* Lists: every item has them; a page that does not fit leaves nothing half-written. */
    dir_buf_free(&out);
    dir_buf_init(&out, 1 << 20);
    struct dir_org_filter f = {.area = -1, .service = -1, .group = -1};
    assert_int_equal(dir_query_orgs(m, &f, 0, 10, false, at("2026-12-08T10:00"), &out), DIR_OK);
    j = json_loads(out.data, 0, NULL);
    assert_non_null(j);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_true(json_is_true(json_object_get(json_array_get(items, 0), "open_now")));
    assert_true(json_is_null(json_object_get(json_array_get(items, 1), "open_now")));
    json_decref(j);
    size_t whole = out.len;
    dir_buf_free(&out);
    dir_buf_init(&out, whole - 20);
    assert_int_equal(dir_query_orgs(m, &f, 0, 10, false, at("2026-12-08T10:00"), &out),
                     DIR_ERR_LIMIT);
    dir_buf_free(&out);
    dir_model_release(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(weekday_office_hours),
        cmocka_unit_test(several_intervals_a_day),
        cmocka_unit_test(past_midnight),
        cmocka_unit_test(always_open_and_24_hours),
        cmocka_unit_test(public_holidays),
        cmocka_unit_test(exceptions),
        cmocka_unit_test(unknown_and_never),
        cmocka_unit_test(state_json),
        cmocka_unit_test(checks_name_the_field),
        cmocka_unit_test(normal_form),
        cmocka_unit_test(calendar),
        cmocka_unit_test(the_clock),
        cmocka_unit_test(organisation_answers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
