/* dir_usage.h - the command line's documentation: --help and the directoryd(8) man page.
 *
 * Both are written from main.c's command table (passed in) and dir_cfg.c's option table, so the
 * man page cannot drift from the options the daemon takes: CMake runs `directoryd --man` at
 * build time and installs its output as directoryd.8.
 */
#ifndef DIR_USAGE_H
#define DIR_USAGE_H

#include <stddef.h>
#include <stdio.h>

/* One command's documentation (the strings are the caller's). */
struct dir_usage_cmd {
    const char *synopsis; /* as typed, after "directoryd" */
    const char *help;     /* sentences; wrapped when printed */
};

/* Prints the --help text: the N commands CMDS, then every option (dir_cfg_print_help). */
void dir_usage_print_help(FILE *out, const struct dir_usage_cmd *cmds, size_t n);
/* Prints the man page directoryd(8) in roff (man(7) macros): name, synopsis, description,
 * commands, every option with its environment variable and default, environment, files, exit
 * status. */
void dir_usage_print_man(FILE *out, const struct dir_usage_cmd *cmds, size_t n);

#endif
