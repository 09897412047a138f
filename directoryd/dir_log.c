/* dir_log.c - leveled logfmt lines on stderr: ts=... level=... sub=... msg="...". */
#include "dir_log.h"
#include "dir_rc.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set at start-up and on SIGHUP; read by every thread (relaxed: a line more or less around
 * the change does not matter). */
static atomic_int min_level = DIR_LOG_INFO;
static atomic_bool access_on = false;

void dir_log_set_level(enum dir_log_level level)
{
    atomic_store_explicit(&min_level, (int)level, memory_order_relaxed);
}

bool dir_log_enabled(enum dir_log_level level)
{
    return (int)level >= atomic_load_explicit(&min_level, memory_order_relaxed);
}

void dir_log_set_access(bool on)
{
    atomic_store_explicit(&access_on, on, memory_order_relaxed);
}

bool dir_log_access_on(void)
{
    return atomic_load_explicit(&access_on, memory_order_relaxed);
}

/* The timestamp of a line: 2026-12-02T18:00:05.123Z */
static void stamp(char *out, size_t n)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* M when it is 1 to 16 upper-case letters (a method), else "other". */
static const char *method_shown(const char *m)
{
    size_t n = 0;
    for (; m && m[n]; n++)
        if (n == 16 || m[n] < 'A' || m[n] > 'Z') return "other";
    return n ? m : "other";
}

void dir_log_access(const struct dir_log_access *a)
{
    char ts[64], line[512];
    stamp(ts, sizeof ts);
    /* The route is a static pattern from the code ("/v1/people/{id}"): no quote in it. */
    int n = snprintf(line, sizeof line,
                     "ts=%s level=info sub=access face=%s rid=%s method=%s route=\"%s\" "
                     "status=%d dur_ms=%.3f bytes=%zu actor=%s\n",
                     ts, a->face, a->rid, method_shown(a->method), a->route, a->status,
                     (double)a->us / 1000.0, a->bytes, a->actor);
    /* One write(2) of the whole line, without stdio's lock (stderr is unbuffered, so the
     * other lines are not reordered around it); a line under PIPE_BUF bytes is never
     * interleaved with another on a pipe. */
    if (n > 0) {
        size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
        line[len - 1] = '\n'; /* a cut line still ends its line */
        ssize_t w = write(STDERR_FILENO, line, len);
        (void)w; /* nowhere to report a failed log write */
    }
}

int dir_log_level_parse(const char *name)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void dir_log_write(enum dir_log_level level, const char *subsys, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char msg[1024], line[1200], ts[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One message, one line; quotes escaped so the line stays logfmt. */
    for (char *p = msg; *p; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
        else if (*p == '"')
            *p = '\'';
    }
    stamp(ts, sizeof ts);
    snprintf(line, sizeof line, "ts=%s level=%s sub=%s msg=\"%s\"\n", ts, names[level], subsys,
             msg);
    fputs(line, stderr);
}

const char *dir_rc_str(enum dir_rc rc)
{
    switch (rc) {
    case DIR_OK: return "ok";
    case DIR_ERR_INVALID: return "invalid input";
    case DIR_ERR_NOTFOUND: return "not found";
    case DIR_ERR_IO: return "input/output error";
    case DIR_ERR_DB: return "database error";
    case DIR_ERR_LIMIT: return "limit reached";
    case DIR_ERR_STATE: return "wrong state";
    }
    return "unknown error";
}
