/* dir_usage.c - the command table, and the --help text and directoryd(8) man page written from
 * it and from dir_cfg.c's option table (dir_usage.h). main.c dispatches the commands; a new
 * command gets its line here. */
#include "dir_usage.h"
#include "dir_cfg.h"
#include "dir_version.h"

#include <string.h>

struct cmd {
    const char *synopsis; /* as typed, after "directoryd" */
    const char *help;     /* sentences; wrapped when printed */
};

static const struct cmd cmds[] = {
    {"serve", "migrate, then serve the JSON API, the web UI and the LDAP face (the default)"},
    {"migrate", "apply schema/migrations/*.sql not yet applied, then exit"},
    {"load-demo", "apply schema/demo/*.sql not yet applied (idempotent)"},
    {"api-client NAME ROLE",
     "create or re-key an API client (ROLE: caseworker, coordinator or admin); the secret is "
     "taken from the environment variable DIRECTORYD_CLIENT_SECRET if set, else generated and "
     "printed once"},
    {"local-account NAME ROLE",
     "create or update a local account (partners not in the city LDAP); the password is read "
     "from DIRECTORYD_ACCOUNT_PASSWORD and stored as argon2id"},
    {"sync --once [--dry-run] [--full] [--force] [--relink]",
     "sync staff from the city LDAP once (sync_* options); --dry-run prints what would change "
     "and changes nothing, --full reads everything, --force applies a run the safety limits "
     "would refuse, --relink (after the city LDAP was rebuilt) moves each new LDAP identity to "
     "the synced person with its username or e-mail"},
    {"export ldif [--out FILE] [--public]",
     "write the LDAP face's tree as LDIF (RFC 2849) for slapadd, to FILE (else standard "
     "output); --public: only what anonymous LDAP searches see"},
    {"import hsds DIR [--dry-run]",
     "create organisations from an HSDS 3.0 data package in one transaction; prints a JSON "
     "report (what is created, errors, and every field directoryd cannot hold)"},
    {"export hsds --out DIR",
     "write the public directory as an HSDS 3.0 data package (CSV files and datapackage.json) "
     "into DIR"},
    {"import KIND FILE [--dry-run] [--encoding E] [--delimiter D]",
     "import a CSV file of organizations, people or communities (docs/import.md); --dry-run "
     "reports per line what would happen and writes nothing"},
    {"export csv KIND [--out FILE]", "write KIND as CSV in the import template's columns"},
    {"version", "print the version"},
};

#define NCMDS (sizeof cmds / sizeof cmds[0])

/* Exit statuses, for the man page (main.c and the commands return them). */
static const struct {
    int code;
    const char *meaning;
} exits[] = {
    {0, "success (for sync --dry-run: the dry run completed)"},
    {1, "failure: the database could not be reached, a migration, an import or an export "
        "failed, or the daemon could not start (a port in use, a bad certificate, no web UI "
        "folder)"},
    {2, "usage: an unknown command or option, a value out of its bounds, a bad config file"},
    {3, "sync: the run was refused by the safety limits (sync_max_deactivate_pct); nothing "
        "was applied (--force applies it)"},
    {4, "sync: the run was applied but needs attention (more entries skipped than the guard "
        "allows)"},
};

/* Prints TEXT wrapped to WIDTH columns, every line after the first indented by INDENT. */
static void wrap(FILE *out, const char *text, int col, int indent, int width)
{
    const char *p = text;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (col > indent && col + 1 + (int)w > width) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, w, out);
        col += (int)w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

void dir_usage_print_help(FILE *out)
{
    fprintf(out,
            "directoryd %s - Bangkok's child-protection network directory\n\n"
            "Usage: directoryd [options] [command]\n"
            "       directoryd --help | --version | --man\n\n"
            "Commands:\n",
            DIR_VERSION);
    for (size_t i = 0; i < NCMDS; i++) {
        int n = fprintf(out, "  %-21s", cmds[i].synopsis);
        if (n > 23) {
            fprintf(out, "\n%*s", 24, "");
            n = 24;
        } else {
            fputc(' ', out);
            n++;
        }
        wrap(out, cmds[i].help, n, 24, 80);
    }
    fputc('\n', out);
    dir_cfg_print_help(out);
}

/* TEXT as roff: backslashes and hyphens escaped, and a line never starts with a control
 * character (the caller starts a new line before it). */
static void roff(FILE *out, const char *text)
{
    if (*text == '.' || *text == '\'') fputs("\\&", out);
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            fputs("\\e", out);
        else if (*p == '-')
            fputs("\\-", out);
        else
            fputc(*p, out);
    }
}

/* "--http-port" from "http_port", in roff. */
static void roff_flag(FILE *out, const char *name)
{
    fputs("\\-\\-", out);
    for (const char *p = name; *p; p++)
        fputs(*p == '_' ? "\\-" : (char[2]){*p, 0}, out);
}

static void man_options(FILE *out)
{
    struct dir_cfg_info o;
    for (size_t i = 0; dir_cfg_info(i, &o); i++) {
        fputs(".TP\n.B ", out);
        roff_flag(out, o.name);
        fputs(o.is_int ? " \\fIN\\fR\n" : " \\fIVALUE\\fR\n", out);
        roff(out, o.help);
        fputs(".\n", out);
        if (o.is_int) fprintf(out, "A whole number from %ld to %ld.\n", o.min, o.max);
        fputs(".br\nEnvironment: \\fB", out);
        roff(out, o.env);
        fputs("\\fR; config file: \\fB", out);
        roff(out, o.name);
        fputs("\\fR; default: ", out);
        if (o.is_data_dir) {
            const char *sub = strcmp(o.name, "schema_dir") == 0 ? "schema" : "webui";
            fprintf(out,
                    "\\fIPREFIX\\fR/share/directoryd/%s when directoryd runs as "
                    "\\fIPREFIX\\fR/sbin/directoryd (the Debian package: "
                    "\\fB/usr/share/directoryd/%s\\fR); from a build tree, the source tree's "
                    "%s/.\n",
                    sub, sub, sub);
        } else if (*o.def) {
            fputs("\\fB", out);
            roff(out, o.def);
            fputs("\\fR.\n", out);
        } else {
            fputs("none.\n", out);
        }
    }
}

void dir_usage_print_man(FILE *out)
{
    fprintf(
        out,
        ".\\\" directoryd(8), generated by `directoryd --man` from the command and option\n"
        ".\\\" tables (directoryd/dir_usage.c, directoryd/dir_cfg.c). Do not edit.\n"
        ".TH DIRECTORYD 8 \"\" \"directoryd %s\" \"System Administration\"\n"
        ".SH NAME\n"
        "directoryd \\- the network directory behind Bangkok's child\\-protection work\n"
        ".SH SYNOPSIS\n"
        ".B directoryd\n"
        "[\\fIoptions\\fR] [\\fIcommand\\fR [\\fIarguments\\fR]]\n"
        ".br\n"
        ".B directoryd\n"
        "\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR | \\fB\\-\\-man\\fR\n"
        ".SH DESCRIPTION\n"
        "directoryd answers who is the right contact for a child, here, now.\n"
        "PostgreSQL is the system of record; the daemon keeps an in\\-memory read model of\n"
        "the directory, follows PostgreSQL's change log, and serves it as a JSON API, a web\n"
        "UI for caseworkers and coordinators, an Open Referral HSDS 3.0 API and a read\\-only\n"
        "LDAPv3 face, and keeps staff in step with the city LDAP or Active Directory.\n"
        ".PP\n"
        "Every setting is an option of the table below. Each can be given as a flag\n"
        "(\\fB\\-\\-http\\-port 8080\\fR or \\fB\\-\\-http\\-port=8080\\fR), as an environment\n"
        "variable, or as a line \\fIname\\fR = \\fIvalue\\fR of the config file named by\n"
        "\\fB\\-\\-config\\fR or \\fBDIRECTORYD_CONFIG\\fR ('#' starts a comment; values may\n"
        "be double\\-quoted). Precedence: default < file < environment < flag.\n"
        "The HTTP and LDAP faces listen on loopback unless told otherwise.\n"
        ".SH COMMANDS\n"
        "Without a command, directoryd serves.\n",
        DIR_VERSION);
    for (size_t i = 0; i < NCMDS; i++) {
        fputs(".TP\n.B ", out);
        roff(out, cmds[i].synopsis);
        fputc('\n', out);
        roff(out, cmds[i].help);
        fputs(".\n", out);
    }
    fputs(".SH OPTIONS\n"
          ".TP\n.B \\-\\-help\nprint the commands and options, then exit.\n"
          ".TP\n.B \\-\\-version\nprint the version, then exit.\n"
          ".TP\n.B \\-\\-man\nprint this manual page in roff, then exit.\n",
          out);
    man_options(out);
    fputs(".SH ENVIRONMENT\n"
          "Each option above has its variable. Besides them:\n"
          ".TP\n.B DIRECTORYD_CLIENT_SECRET\n"
          "the secret of \\fBapi\\-client\\fR (at least 16 characters); unset, one is generated\n"
          "and printed once.\n"
          ".TP\n.B DIRECTORYD_ACCOUNT_PASSWORD\n"
          "the password of \\fBlocal\\-account\\fR (at least 10 characters).\n"
          ".PP\n"
          "libpq reads its own variables too (\\fBPGPASSFILE\\fR, \\fBPGSSLMODE\\fR, ...).\n"
          ".SH FILES\n"
          ".TP\n.B /etc/directoryd/directoryd.conf\n"
          "the Debian package's config file (the database connection first); the systemd unit\n"
          "hands it to the daemon as a credential, so it may stay readable by root only.\n"
          ".TP\n.B /usr/share/directoryd/schema/migrations/\n"
          "the SQL migrations \\fBmigrate\\fR and \\fBserve\\fR apply, with the Bangkok reference\n"
          "data below \\fBschema/reference/\\fR.\n"
          ".TP\n.B /usr/share/directoryd/schema/demo/\n"
          "the demo directory \\fBload\\-demo\\fR applies.\n"
          ".TP\n.B /usr/share/directoryd/schema/ldap/directoryd.ldif\n"
          "the LDAP schema of the LDAP face's entries, for an OpenLDAP server that loads an\n"
          "export (\\fBexport ldif\\fR).\n"
          ".TP\n.B /usr/share/directoryd/webui/\n"
          "the browser UI's files, read once at start.\n"
          ".TP\n.B /lib/systemd/system/directoryd.service\n"
          "the hardened systemd unit (not enabled by the package: configure the database, then\n"
          "\\fBsystemctl enable \\-\\-now directoryd\\fR).\n"
          ".SH EXIT STATUS\n",
          out);
    for (size_t i = 0; i < sizeof exits / sizeof exits[0]; i++) {
        fprintf(out, ".TP\n.B %d\n", exits[i].code);
        roff(out, exits[i].meaning);
        fputs(".\n", out);
    }
    fputs(".SH SIGNALS\n"
          "\\fBSIGTERM\\fR and \\fBSIGINT\\fR stop the daemon cleanly (exit status 0).\n"
          ".SH SEE ALSO\n"
          ".BR psql (1),\n"
          ".BR systemd.exec (5),\n"
          ".BR slapadd (8);\n"
          "the README and docs/operations.md in /usr/share/doc/directoryd/.\n",
          out);
}
