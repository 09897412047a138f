/* dir_usage.h - the command line's documentation: --help and the directoryd(8) man page.
 *
 * Both are written from one command table (dir_usage.c) and dir_cfg.c's option table, so the
 * man page cannot drift from the options the daemon takes: CMake runs `directoryd --man` at
 * build time and installs its output as directoryd.8.
 */
#ifndef DIR_USAGE_H
#define DIR_USAGE_H

#include <stdio.h>

/* Prints the --help text: the commands, then every option (dir_cfg_print_help). */
void dir_usage_print_help(FILE *out);
/* Prints the man page directoryd(8) in roff (man(7) macros): name, synopsis, description,
 * commands, every option with its environment variable and default, environment, files, exit
 * status. */
void dir_usage_print_man(FILE *out);

#endif
