/* dir_log.c - leveled logfmt lines on stderr: ts=... level=... sub=... msg="...". */
#include "dir_log.h"
#include "dir_rc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Set once at start-up before any thread starts; read-only afterwards. */
static enum dir_log_level min_level = DIR_LOG_INFO;

void dir_log_set_level(enum dir_log_level level)
{
    min_level = level;
}

bool dir_log_enabled(enum dir_log_level level)
{
    return level >= min_level;
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
    char msg[1024], line[1200];
    struct timespec ts;
    struct tm tm;
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
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s sub=%s msg=\"%s\"\n",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000000, names[level], subsys, msg);
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
