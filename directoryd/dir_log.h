/* dir_log.h - the one logging module: leveled, per-subsystem, logfmt lines on stderr.
 *
 * Messages carry no newlines and never secrets. DIR_LOG checks the level before it evaluates
 * its arguments (as Redis' serverLog does).
 */
#ifndef DIR_LOG_H
#define DIR_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum dir_log_level { DIR_LOG_DEBUG = 0, DIR_LOG_INFO, DIR_LOG_WARN, DIR_LOG_ERROR };

/* Sets the minimum level written (at start-up, and again on SIGHUP: any thread may). */
void dir_log_set_level(enum dir_log_level level);
/* True when messages at LEVEL are written. */
bool dir_log_enabled(enum dir_log_level level);
/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int dir_log_level_parse(const char *name);
/* Writes one line: time, level, subsystem and the formatted message (newlines replaced). */
void dir_log_write(enum dir_log_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- obs: the access log --- */

/* One answered request, as the access log shows it. Strings are static or valid for the
 * call; none may hold a secret, a query string or personal data (the route's pattern stands
 * for the path). */
struct dir_log_access {
    const char *face;   /* "http" */
    const char *rid;    /* request id (validated: no spaces or quotes) */
    const char *method; /* as sent; shown only when it is 1 to 16 letters, else "other" */
    const char *route;  /* the route table's pattern */
    int status;
    long long us;  /* duration in microseconds */
    size_t bytes;  /* body bytes sent */
    const char *actor; /* anonymous, api_client or staff */
};

/* Turns the access log on or off (any thread, any time). */
void dir_log_set_access(bool on);
bool dir_log_access_on(void);
/* Writes the logfmt line of A ("sub=access"), whatever the log level. */
void dir_log_access(const struct dir_log_access *a);

#define DIR_LOG(level, subsys, ...)                                                                \
    do {                                                                                           \
        if (dir_log_enabled(level))                                                                \
            dir_log_write(level, subsys, __VA_ARGS__);                                             \
    } while (0)

#endif
