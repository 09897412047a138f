/* dir_import_cli.c - `directoryd import <kind> FILE [--dry-run] [--encoding E]
 * [--delimiter D]` and `directoryd export csv <kind> [--out FILE]`: the CSV importer and
 * export from the command line, on the database the options name (docs/import.md). */
#include "dir_cfg.h"
#include "dir_import.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_pdpa.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The value of option NAME at ARGS[*I] ("--name=v" or "--name v"); NULL if not it. */
static const char *opt_value(int nargs, char **args, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(args[*i], name, n) != 0) return NULL;
    if (args[*i][n] == '=') return args[*i] + n + 1;
    if (args[*i][n] == '\0' && *i + 1 < nargs) return args[++*i];
    return NULL;
}

static bool open_all(const struct dir_cfg *cfg, struct dir_db **db, struct dir_model **m)
{
    char err[1024];
    int applied;
    if (dir_db_open(cfg->db_write[0] ? cfg->db_write : cfg->db, 2, db, err, sizeof err) ||
        dir_db_migrate(*db, cfg->schema_dir, "migrations", &applied, err, sizeof err) ||
        dir_db_load_model(*db, cfg->stale_days, 0, m, err, sizeof err)) {
        fprintf(stderr, "directoryd: %s\n", err);
        if (*db) dir_db_close(*db);
        return false;
    }
    return true;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = dir_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n > DIR_IMPORT_MAX_BYTES) break;
        if (n == cap) buf = dir_xrealloc(buf, cap *= 2);
    }
    if (f != stdin) fclose(f);
    *len = n;
    return buf;
}

int dir_import_cli_import(const struct dir_cfg *cfg, int nargs, char **args)
{
    struct dir_import_opts o = {0};
    const char *path = NULL;
    for (int i = 0; i < nargs; i++) {
        const char *v;
        if (strcmp(args[i], "--dry-run") == 0)
            o.dry_run = true;
        else if ((v = opt_value(nargs, args, &i, "--encoding")))
            o.encoding = v;
        else if ((v = opt_value(nargs, args, &i, "--delimiter")))
            o.delimiter = v;
        else if (!o.kind && args[i][0] != '-')
            o.kind = args[i];
        else if (!path && args[i][0] != '-')
            path = args[i];
        else {
            fprintf(stderr, "directoryd: import: unknown argument %s\n", args[i]);
            return 2;
        }
    }
    if (!o.kind || !path || !dir_import_kind_ok(o.kind)) {
        fprintf(stderr, "directoryd: import organizations|people|communities FILE [--dry-run] "
                        "[--encoding utf-8|windows-874] [--delimiter comma|semicolon|tab]\n");
        return 2;
    }
    size_t len;
    char *data = read_file(path, &len);
    if (!data) {
        fprintf(stderr, "directoryd: import: cannot read %s\n", path);
        return 1;
    }
    const char *slash = strrchr(path, '/');
    o.file_name = slash ? slash + 1 : path;
    struct dir_db *db = NULL;
    struct dir_model *m = NULL;
    if (!open_all(cfg, &db, &m)) {
        free(data);
        return 1;
    }
    char who[80];
    struct passwd *pw = getpwuid(getuid());
    snprintf(who, sizeof who, "cli:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
    struct dir_db_actor actor = {"system", who, NULL};
    json_t *report = NULL;
    long long seq;
    struct dir_problem p;
    int status = dir_import_run(db, m, &actor, &o, data, len, &report, &seq, &p);
    int rc;
    if (report) {
        json_dumpf(report, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
        json_t *c = json_object_get(report, "counts");
        fprintf(stderr, "%s: %lld created, %lld updated, %lld unchanged, %lld with errors%s\n",
                o.file_name, (long long)json_integer_value(json_object_get(c, "created")),
                (long long)json_integer_value(json_object_get(c, "updated")),
                (long long)json_integer_value(json_object_get(c, "unchanged")),
                (long long)json_integer_value(json_object_get(c, "errors")),
                status != 200 ? " (nothing written)"
                : o.dry_run   ? " (dry run: nothing written)"
                              : "");
        rc = status == 200 ? 0 : 3;
        json_decref(report);
    } else {
        fprintf(stderr, "directoryd: import: %s\n", p.detail);
        rc = status == 503 ? 1 : 3;
    }
    free(data);
    dir_model_release(m);
    dir_db_close(db);
    return rc;
}

int dir_import_cli_export(const struct dir_cfg *cfg, int nargs, char **args)
{
    const char *kind = NULL, *out = NULL;
    for (int i = 0; i < nargs; i++) {
        const char *v;
        if ((v = opt_value(nargs, args, &i, "--out")))
            out = v;
        else if (!kind && args[i][0] != '-')
            kind = args[i];
        else {
            fprintf(stderr, "directoryd: export csv: unknown argument %s\n", args[i]);
            return 2;
        }
    }
    if (!kind || !dir_import_kind_ok(kind)) {
        fprintf(stderr, "directoryd: export csv organizations|people|communities [--out FILE]\n");
        return 2;
    }
    struct dir_db *db = NULL;
    struct dir_model *m = NULL;
    if (!open_all(cfg, &db, &m)) return 1;
    struct dir_buf b;
    char err[512];
    dir_buf_init(&b, (size_t)1 << 30);
    int rc = 0;
    /* The access log (PDPA): the OS user who exported people's non-public contact points. */
    struct dir_pdpa_read rd;
    char user[128], op[64];
    dir_pdpa_os_user(user, sizeof user);
    snprintf(op, sizeof op, "export csv %s", kind);
    dir_pdpa_begin(&rd, "cli", user, DIR_PDPA_EXPORT, op);
    enum dir_rc erc = dir_import_export_csv(db, m, kind, &b, err, sizeof err);
    if (!erc && dir_pdpa_end_write(&rd, db, err, sizeof err)) {
        fprintf(stderr, "directoryd: export: not written: the access log cannot record it: %s\n",
                err);
        rc = 1;
    } else if (erc) {
        dir_pdpa_end(&rd);
        fprintf(stderr, "directoryd: export: %s\n", err);
        rc = 1;
    } else {
        FILE *f = out ? fopen(out, "wb") : stdout;
        if (!f || fwrite(b.data, 1, b.len, f) != b.len) rc = 1;
        if (f && f != stdout && fclose(f)) rc = 1;
        if (rc) fprintf(stderr, "directoryd: export: cannot write %s\n", out ? out : "stdout");
    }
    dir_buf_free(&b);
    dir_model_release(m);
    dir_db_close(db);
    return rc;
}
