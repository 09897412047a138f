/* dir_log.h - the one logging module: leveled, per-subsystem, logfmt lines on stderr.
 *
 * Messages carry no newlines and never secrets. DIR_LOG checks the level before it evaluates
 * its arguments (as Redis' serverLog does).
 */
#ifndef DIR_LOG_H
#define DIR_LOG_H

#include <stdbool.h>

enum dir_log_level { DIR_LOG_DEBUG = 0, DIR_LOG_INFO, DIR_LOG_WARN, DIR_LOG_ERROR };

/* Sets the minimum level written. Called once at start-up, before threads start. */
void dir_log_set_level(enum dir_log_level level);
/* True when messages at LEVEL are written. */
bool dir_log_enabled(enum dir_log_level level);
/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int dir_log_level_parse(const char *name);
/* Writes one line: time, level, subsystem and the formatted message (newlines replaced). */
void dir_log_write(enum dir_log_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define DIR_LOG(level, subsys, ...)                                                                \
    do {                                                                                           \
        if (dir_log_enabled(level))                                                                \
            dir_log_write(level, subsys, __VA_ARGS__);                                             \
    } while (0)

#endif
