/* dir_import.c - CSV import and export (see dir_import.h): the run of one file, from bytes
 * to a per-line report, and the HTTP routes. Columns and cell grammars: dir_import_cols.c;
 * the file format: import/dir_csv.c; the transaction: dir_db_import_apply. */
#include "dir_import.h"
#include "dir_csv.h"
#include "dir_import_int.h"
#include "dir_log.h"
#include "dir_mem.h"
#include "dir_refresh.h"
#include "dir_write.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 5000
#define MAX_COLS 64

bool dir_import_kind_ok(const char *kind)
{
    int n;
    return dir_import_cols(kind, &n) != NULL;
}

/* ---- a small string -> int map (matching and duplicates) ---- */

struct smap {
    char **keys;
    int *vals;
    size_t cap, n;
};

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int smap_get(const struct smap *m, const char *k)
{
    if (!m->cap) return -1;
    for (size_t i = hash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) return -1;
        if (strcmp(m->keys[i], k) == 0) return m->vals[i];
    }
}

/* Adds K -> V unless K is there; the value kept. */
static int smap_put(struct smap *m, const char *k, int v)
{
    if ((m->n + 1) * 2 > m->cap) {
        struct smap b = {dir_xcalloc(m->cap ? m->cap * 2 : 1024, sizeof(char *)),
                         dir_xcalloc(m->cap ? m->cap * 2 : 1024, sizeof(int)),
                         m->cap ? m->cap * 2 : 1024, 0};
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = hash(m->keys[i]) & (b.cap - 1);
                while (b.keys[j])
                    j = (j + 1) & (b.cap - 1);
                b.keys[j] = m->keys[i];
                b.vals[j] = m->vals[i];
                b.n++;
            }
        free(m->keys);
        free(m->vals);
        *m = b;
    }
    size_t i = hash(k) & (m->cap - 1);
    for (; m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (strcmp(m->keys[i], k) == 0) return m->vals[i];
    m->keys[i] = dir_xstrdup(k);
    m->vals[i] = v;
    m->n++;
    return v;
}

static void smap_free(struct smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
}

/* ---- one run ---- */

struct row {
    int line;
    char **cells; /* by column index of the kind; NULL when the file has no such column */
};

struct run {
    const struct dir_model *m;
    const char *kind;
    const struct dir_import_col *cols;
    int ncols;
    int hdr[DIR_CSV_MAX_FIELDS];    /* file field -> column index (-1: none) */
    const char *hdr_text[MAX_COLS]; /* column index -> header as written */
    int nfields;
    struct row *rows;
    int nrows, cap;
    bool too_many;
    struct dir_arena *a;
    json_t *lines; /* the report's lines */
    int nerrors;   /* lines with errors */
    struct smap byname, byref, seen;
};

static json_t *error_obj(const char *column, const char *value, const char *th, const char *en)
{
    return json_pack("{s:s?, s:s?, s:s, s:s}", "column", column, "value", value, "reason_th", th,
                     "reason_en", en);
}

/* A line with one error (file-level problems: the line they are on). */
static void line_error(struct run *r, int line, const char *column, const char *value,
                       const char *th, const char *en)
{
    json_t *errs = json_array();
    json_array_append_new(errs, error_obj(column, value, th, en));
    json_array_append_new(r->lines, json_pack("{s:i, s:s, s:n, s:o}", "line", line, "action",
                                              "error", "id", "errors", errs));
    r->nerrors++;
}

static bool on_record(void *arg, int line, char **fields, int nfields)
{
    struct run *r = arg;
    if (r->nfields == 0) { /* the header */
        r->nfields = nfields;
        for (int i = 0; i < nfields; i++) {
            char *h = fields[i];
            if (i == 0 && strncmp(h, "\xEF\xBB\xBF", 3) == 0) h += 3;
            h = dir_import_trim(h);
            int c = *h ? dir_import_col_find(r->kind, h) : -1;
            r->hdr[i] = c;
            if (!*h) continue;
            if (c < 0)
                line_error(r, line, h, NULL, "ไม่รู้จักหัวคอลัมน์นี้ (ดูแม่แบบ)",
                           "unknown column header (see the template)");
            else if (r->hdr_text[c])
                line_error(r, line, h, NULL, "หัวคอลัมน์ซ้ำ", "this column appears twice");
            else
                r->hdr_text[c] = dir_arena_strdup(r->a, h);
        }
        return true;
    }
    if (r->nrows >= DIR_IMPORT_MAX_ROWS) {
        r->too_many = true;
        return false;
    }
    if (r->nrows == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->rows = dir_xrealloc(r->rows, (size_t)r->cap * sizeof *r->rows);
    }
    struct row *w = &r->rows[r->nrows++];
    w->line = line;
    w->cells = dir_arena_alloc(r->a, (size_t)r->ncols * sizeof(char *));
    memset(w->cells, 0, (size_t)r->ncols * sizeof(char *));
    for (int c = 0; c < r->ncols; c++)
        if (r->hdr_text[c]) w->cells[c] = "";
    for (int i = 0; i < nfields && i < r->nfields; i++)
        if (r->hdr[i] >= 0) {
            w->cells[r->hdr[i]] = dir_arena_strdup(r->a, dir_import_trim(fields[i]));
        }
    if (nfields > r->nfields)
        line_error(r, line, NULL, NULL, "แถวนี้มีช่องมากกว่าหัวคอลัมน์",
                   "this row has more fields than the header");
    return true;
}

/* The district an area index lies in (its code), or the area's own code. */
static const char *district_of(const struct dir_model *m, int a)
{
    if (a < 0) return "";
    int x = a;
    while (x >= 0 && m->areas[x].kind != DIR_AREA_DISTRICT)
        x = m->areas[x].parent;
    return m->areas[x >= 0 ? x : a].code;
}

static void name_key(char *buf, size_t n, const char *name, const char *district)
{
    snprintf(buf, n, "%s\x1f%s", name ? name : "", district ? district : "");
}

/* Indexes what exists: Thai name + district, refs (people). */
static void index_model(struct run *r)
{
    const struct dir_model *m = r->m;
    char k[1024];
    if (strcmp(r->kind, "organizations") == 0) {
        for (int i = 0; i < m->norgs; i++) {
            name_key(k, sizeof k, dir_model_org_at(m, i)->name_th,
                     district_of(m, dir_model_org_at(m, i)->area));
            smap_put(&r->byname, k, i);
        }
    } else if (strcmp(r->kind, "people") == 0) {
        for (int i = 0; i < m->npeople; i++) {
            const struct dir_person *p = dir_model_person_at(m, i);
            int oa = p->nmembers ? dir_model_org_at(m, p->members[0].org)->area : -1;
            name_key(k, sizeof k, p->name_th, district_of(m, oa));
            smap_put(&r->byname, k, i);
            if (p->ref) smap_put(&r->byref, p->ref, i);
        }
    } else {
        for (int i = 0; i < m->nareas; i++)
            if (m->areas[i].kind == DIR_AREA_COMMUNITY && m->areas[i].parent >= 0) {
                name_key(k, sizeof k, m->areas[i].name_th, m->areas[m->areas[i].parent].code);
                smap_put(&r->byname, k, i);
            }
    }
}

static int col_of(const struct run *r, const char *key)
{
    for (int c = 0; c < r->ncols; c++)
        if (strcmp(r->cols[c].key, key) == 0) return c;
    return -1;
}

static const char *cell(const struct run *r, const struct row *w, const char *key)
{
    int c = col_of(r, key);
    return c >= 0 ? w->cells[c] : NULL;
}

/* An organisation by id or ref; -1 if none. */
static int org_by(const struct dir_model *m, const char *s)
{
    char *end;
    long long id = strtoll(s, &end, 10);
    if (*s && !*end) return dir_model_org(m, id);
    return dir_model_org_by_ref(m, s);
}

/* One row being turned into a write. */
struct rowjob {
    struct run *r;
    const struct row *w;
    json_t *errs;
    json_t *body;
    const char *ckind;
    bool person;
    json_t *contacts;
    int contact_col[64];
    int ncontacts;
    json_t *list; /* services or memberships being built */
    const char *tgs, *cover;
};

static void row_error(struct rowjob *j, int col, const char *th, const char *en)
{
    json_array_append_new(j->errs, error_obj(col >= 0 ? j->r->hdr_text[col] : NULL,
                                             col >= 0 ? j->w->cells[col] : NULL, th, en));
}

static bool add_contact(void *arg, char *item)
{
    struct rowjob *j = arg;
    const char *th, *en;
    int col = col_of(j->r, j->ckind);
    json_t *c = dir_import_contact_parse(item, j->ckind, !j->person, &th, &en);
    if (!c) {
        row_error(j, col, th, en);
        return true;
    }
    if (j->ncontacts < 64) j->contact_col[j->ncontacts++] = col;
    json_array_append_new(j->contacts, c);
    return true;
}

static bool add_service(void *arg, char *item)
{
    struct rowjob *j = arg;
    char *p[3];
    int n = dir_import_parts(item, p, 3);
    json_t *s = json_pack("{s:s}", "code", p[0]);
    json_object_set_new(s, "target_groups", dir_import_codes(n > 1 ? p[1] : j->tgs));
    json_object_set_new(s, "areas", dir_import_codes(n > 2 ? p[2] : j->cover));
    json_array_append_new(j->list, s);
    return true;
}

static bool add_membership(void *arg, char *item)
{
    struct rowjob *j = arg;
    char *p[5];
    int n = dir_import_parts(item, p, 5);
    int o = org_by(j->r->m, p[0]);
    if (o < 0) {
        row_error(j, col_of(j->r, "memberships"), "ไม่พบหน่วยงานนี้ (รหัสหรือรหัสอ้างอิง)",
                  "no organisation has this id or ref");
        return true;
    }
    json_t *ms = json_pack("{s:I}", "organization", (json_int_t)dir_model_org_at(j->r->m, o)->id);
    json_object_set_new(ms, "team_role", n > 1 && *p[1] ? json_string(p[1]) : json_null());
    json_object_set_new(ms, "title_th", n > 2 && *p[2] ? json_string(p[2]) : json_null());
    json_object_set_new(ms, "title_en", n > 3 && *p[3] ? json_string(p[3]) : json_null());
    json_object_set_new(ms, "areas", dir_import_codes(n > 4 ? p[4] : ""));
    json_array_append_new(j->list, ms);
    return true;
}

/* A value a spreadsheet would run as a formula (a number like "+66 2..." or "-5" is not). */
static bool formula(const char *v)
{
    if (v[0] == '=' || v[0] == '@') return true;
    if (v[0] != '+' && v[0] != '-') return false;
    for (const char *p = v + 1; *p; p++)
        if (!strchr("0123456789 -.,()", *p)) return true;
    return false;
}

/* Maps a write check's field ("contacts[2].value", "services[0].code", "name_th") to its
 * column index, or -1. */
static int field_col(struct rowjob *j, const char *field)
{
    size_t n = strcspn(field, "[.");
    if (strncmp(field, "contacts", n) == 0 && n == 8) {
        int k = atoi(field + n + 1);
        return k >= 0 && k < j->ncontacts ? j->contact_col[k] : -1;
    }
    char key[40];
    snprintf(key, sizeof key, "%.*s", (int)(n < 39 ? n : 39), field);
    return col_of(j->r, key);
}

/* Builds, matches and checks one row into OUT (entity NULL when it has errors); adds its
 * report line. */
static void do_row(struct run *r, struct row *w, struct dir_db_import_row *out)
{
    const struct dir_model *m = r->m;
    struct rowjob j = {.r = r, .w = w, .errs = json_array(), .body = json_object()};
    bool org = strcmp(r->kind, "organizations") == 0, person = strcmp(r->kind, "people") == 0;
    j.person = person;
    const char *entity = org ? "organization" : person ? "person" : "area";
    char key[1024];
    int found = -1; /* index of the matched row in the snapshot */
    memset(out, 0, sizeof *out);

    for (int c = 0; c < r->ncols; c++) {
        char *v = w->cells[c];
        if (v && formula(v))
            row_error(&j, c, "ขึ้นต้นด้วย = + - @ เหมือนสูตรสเปรดชีต: ลบออกหรือขึ้นต้นด้วย '",
                      "starts with = + - @ like a spreadsheet formula: remove it or start "
                      "the cell with '");
        /* A cell marked as text (as the export neutralises them): the apostrophe goes. */
        else if (v && v[0] == '\'' && v[1] && strchr("=+-@", v[1]))
            w->cells[c] = v + 1;
    }

    /* Matching: id or code, else ref, else Thai name + district. */
    const char *id = cell(r, w, org || person ? "id" : "code");
    const char *ref = org || person ? cell(r, w, "ref") : NULL;
    const char *name = cell(r, w, "name_th");
    if (id && *id && (org || person)) {
        char *end;
        long long v = strtoll(id, &end, 10);
        found = *end || v <= 0 ? -1 : org ? dir_model_org(m, v) : dir_model_person(m, v);
        if (found < 0)
            row_error(&j, col_of(r, "id"), "ไม่พบรหัสนี้ในทำเนียบ (เว้นว่างเพื่อเพิ่มใหม่)",
                      "no row has this id (leave it empty to add a new one)");
        snprintf(key, sizeof key, "id\x1f%s", id);
    } else if (id && *id) {
        int a = dir_model_area(m, id);
        if (a >= 0 && m->areas[a].kind == DIR_AREA_COMMUNITY)
            found = a;
        else if (a >= 0)
            row_error(&j, col_of(r, "code"), "รหัสนี้ไม่ใช่ชุมชน", "this code is not a community");
        snprintf(key, sizeof key, "id\x1f%s", id);
    } else if (ref && *ref) {
        found = org ? dir_model_org_by_ref(m, ref) : smap_get(&r->byref, ref);
        snprintf(key, sizeof key, "ref\x1f%s", ref);
    } else {
        const char *district = "";
        if (org) {
            const char *area = cell(r, w, "area");
            district = district_of(m, area ? dir_model_area(m, area) : -1);
        } else if (person) {
            char first[256] = "";
            const char *ms = cell(r, w, "memberships");
            if (ms) snprintf(first, sizeof first, "%.*s", (int)strcspn(ms, ":;\n"), ms);
            int o = *first ? org_by(m, dir_import_trim(first)) : -1;
            district = district_of(m, o >= 0 ? dir_model_org_at(m, o)->area : -1);
        } else {
            district = cell(r, w, "parent") ? cell(r, w, "parent") : "";
        }
        name_key(key, sizeof key, name, district);
        found = smap_get(&r->byname, key);
    }
    int first_line = smap_put(&r->seen, key, w->line);
    if (found >= 0) {
        char k2[64];
        snprintf(k2, sizeof k2, "row\x1f%d", found);
        int l2 = smap_put(&r->seen, k2, w->line);
        if (first_line == w->line) first_line = l2;
    }
    if (first_line != w->line) {
        char th[96], en[96];
        snprintf(th, sizeof th, "แถวซ้ำกับบรรทัดที่ %d", first_line);
        snprintf(en, sizeof en, "duplicates line %d", first_line);
        row_error(&j, -1, th, en);
    }

    bool create = found < 0;
    bool ldap = person && !create && dir_model_person_at(m, found)->source &&
                strcmp(dir_model_person_at(m, found)->source, "ldap") == 0;

    /* The body: every column the file has. */
    bool any_contact = false;
    for (int c = 0; c < r->ncols; c++) {
        const struct dir_import_col *col = &r->cols[c];
        const char *v = w->cells[c];
        if (!v) continue;
        if (ldap && (strcmp(col->key, "name_th") == 0 || strcmp(col->key, "name_en") == 0 ||
                     strcmp(col->key, "title_th") == 0 || strcmp(col->key, "title_en") == 0))
            continue; /* the city LDAP owns these */
        switch (col->type) {
        case CT_ID:
            break;
        case CT_REF:
        case CT_CODE:
            if (create && *v) json_object_set_new(j.body, col->key, json_string(v));
            break;
        case CT_TEXT:
            if (*v)
                json_object_set_new(j.body, col->key, json_string(v));
            else if (!create && !(org && strcmp(col->key, "area") == 0 &&
                                  dir_model_org_at(m, found)->area < 0))
                json_object_set_new(j.body, col->key, json_null()); /* (a place never known
                                                                       stays unknown) */
            break;
        case CT_NUM:
        case CT_YEAR:
            if (*v) {
                char *end;
                double d = strtod(v, &end);
                if (*end || end == v) {
                    row_error(&j, c, "ต้องเป็นตัวเลข", "must be a number");
                } else if (col->type == CT_YEAR) {
                    long long y = (long long)d;
                    if (y > 2300) y -= 543; /* a Buddhist-era year */
                    json_object_set_new(j.body, col->key, json_integer(y));
                } else {
                    json_object_set_new(j.body, col->key, json_real(d));
                }
            } else if (!create) {
                json_object_set_new(j.body, col->key, json_null());
            }
            break;
        case CT_ORG:
            if (*v) {
                int o = org_by(m, v);
                if (o < 0)
                    row_error(&j, c, "ไม่พบหน่วยงานนี้ (รหัสหรือรหัสอ้างอิง)",
                              "no organisation has this id or ref");
                else
                    json_object_set_new(j.body, col->key, json_integer(dir_model_org_at(m, o)->id));
            } else if (!create) {
                json_object_set_new(j.body, col->key, json_null());
            }
            break;
        case CT_CONTACT:
            if (ldap && (strcmp(col->ckind, "phone") == 0 || strcmp(col->ckind, "mobile") == 0 ||
                         strcmp(col->ckind, "email") == 0))
                break;
            if (!j.contacts) j.contacts = json_array();
            any_contact = true;
            j.ckind = col->ckind;
            dir_import_items(v, ";\n", add_contact, &j);
            break;
        case CT_SERVICES:
            j.list = json_array();
            j.tgs = cell(r, w, "target_groups");
            j.cover = cell(r, w, "coverage");
            dir_import_items(v, ";\n", add_service, &j);
            json_object_set_new(j.body, "services", j.list);
            break;
        case CT_MEMBERS:
            j.list = json_array();
            dir_import_items(v, ";\n", add_membership, &j);
            json_object_set_new(j.body, "memberships", j.list);
            break;
        case CT_TGS:
        case CT_COVER:
            break;
        }
    }
    if (any_contact)
        json_object_set_new(j.body, "contacts", j.contacts);
    else
        json_decref(j.contacts);

    /* The API's own checks, when the row could be read. */
    struct dir_write_check *ck = dir_xcalloc(1, sizeof *ck);
    if (json_array_size(j.errs) == 0) {
        ck->m = m;
        if (!create) {
            if (org)
                ck->w.id = dir_model_org_at(m, found)->id;
            else if (person)
                ck->w.id = dir_model_person_at(m, found)->id;
            else
                ck->w.code = m->areas[found].code;
        }
        dir_write_check(ck, j.body, entity, create ? "create" : "update", ldap);
        for (int e = 0; e < ck->prob.nerrors; e++)
            row_error(&j, field_col(&j, ck->prob.errors[e].field), ck->prob.errors[e].message_th,
                      ck->prob.errors[e].message_en);
    }
    json_t *line = json_pack("{s:i}", "line", w->line);
    if (json_array_size(j.errs)) {
        json_object_set_new(line, "action", json_string("error"));
        json_object_set_new(line, "id", json_null());
        json_object_set(line, "errors", j.errs);
        r->nerrors++;
    } else {
        /* Keep the write: its strings into the arena, its lists with the body. */
        out->w = ck->w;
        for (int s = 0; s < out->w.nsets; s++)
            if (out->w.sets[s].val) out->w.sets[s].val = dir_arena_strdup(r->a, out->w.sets[s].val);
        if (out->w.code) out->w.code = dir_arena_strdup(r->a, out->w.code);
        json_object_set_new(line, "action", json_string(create ? "create" : "update"));
        json_object_set_new(line, "errors", json_array());
        json_object_set(line, "_body", j.body); /* keeps the write's lists alive */
    }
    json_array_append_new(r->lines, line);
    free(ck);
    json_decref(j.errs);
    json_decref(j.body);
}

static void sha256_hex(const char *data, size_t len, char *hex)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)data, len);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

static bool delim_parse(const char *s, char *out)
{
    if (!s || !*s || strcmp(s, "auto") == 0)
        *out = 0;
    else if (strcmp(s, ",") == 0 || strcmp(s, "comma") == 0)
        *out = ',';
    else if (strcmp(s, ";") == 0 || strcmp(s, "semicolon") == 0)
        *out = ';';
    else if (strcmp(s, "\t") == 0 || strcmp(s, "tab") == 0)
        *out = '\t';
    else
        return false;
    return true;
}

static json_t *report_new(const struct dir_import_opts *o, const char *sha)
{
    return json_pack("{s:b, s:s, s:s, s:s}", "dry_run", o->dry_run, "kind", o->kind, "file_name",
                     o->file_name ? o->file_name : "import.csv", "sha256", sha);
}

int dir_import_run(struct dir_db *db, const struct dir_model *m, const struct dir_db_actor *actor,
                   const struct dir_import_opts *o, const char *data, size_t len, json_t **report,
                   long long *seq, struct dir_problem *prob)
{
    enum dir_csv_enc enc;
    char delim;
    *report = NULL;
    *seq = 0;
    if (!dir_import_kind_ok(o->kind)) {
        dir_problem_init(prob, 400, "invalid-parameter", "Invalid parameter",
                         "kind must be organizations, people or communities.");
        dir_problem_add(prob, "kind", "ใช้ organizations, people หรือ communities",
                        "organizations, people or communities");
        return 400;
    }
    if (!dir_csv_enc_parse(o->encoding, &enc)) {
        dir_problem_init(prob, 400, "invalid-parameter", "Invalid parameter",
                         "encoding must be utf-8 or windows-874 (or left out).");
        dir_problem_add(prob, "encoding", "ใช้ utf-8 หรือ windows-874", "utf-8 or windows-874");
        return 400;
    }
    if (!delim_parse(o->delimiter, &delim)) {
        dir_problem_init(prob, 400, "invalid-parameter", "Invalid parameter",
                         "delimiter must be comma, semicolon or tab (or left out).");
        dir_problem_add(prob, "delimiter", "ใช้ comma, semicolon หรือ tab",
                        "comma, semicolon or tab");
        return 400;
    }
    if (len > DIR_IMPORT_MAX_BYTES) {
        dir_problem_init(prob, 413, "file-too-large", "File too large",
                         "The file is %zu bytes; at most %d (20 MB) are imported at once: split "
                         "it into smaller files.",
                         len, DIR_IMPORT_MAX_BYTES);
        dir_problem_add(prob, "file", "ไฟล์ใหญ่เกิน 20 MB: แบ่งเป็นหลายไฟล์",
                        "larger than 20 MB: split it into smaller files");
        return 413;
    }
    char sha[65];
    sha256_hex(data, len, sha);
    struct run r = {.m = m, .kind = o->kind, .a = dir_arena_new(), .lines = json_array()};
    r.cols = dir_import_cols(o->kind, &r.ncols);
    json_t *rep = report_new(o, sha);
    int status = 422;
    struct dir_db_import_row *rows = NULL;
    struct dir_csv_error ce = {0};
    enum dir_csv_enc used = DIR_CSV_ENC_UTF8;
    size_t tlen = 0;
    char *text = dir_csv_to_utf8(data, len, enc, &used, &tlen, &ce);
    if (!text) {
        line_error(&r, ce.line, NULL, NULL, ce.th, ce.en);
        goto done;
    }
    json_object_set_new(rep, "encoding",
                        json_string(used == DIR_CSV_ENC_CP874 ? "windows-874" : "utf-8"));
    if (!delim) delim = dir_csv_sniff(text, tlen);
    json_object_set_new(rep, "delimiter",
                        json_string(delim == ','   ? "comma"
                                    : delim == ';' ? "semicolon"
                                                   : "tab"));
    if (!dir_csv_parse(text, tlen, delim, on_record, &r, &ce)) {
        line_error(&r, ce.line, NULL, NULL, ce.th, ce.en);
        goto done;
    }
    if (r.too_many) {
        dir_problem_init(prob, 413, "too-many-rows", "Too many rows",
                         "The file has more than %d rows; split it into smaller files.",
                         DIR_IMPORT_MAX_ROWS);
        dir_problem_add(prob, "file", "มีเกิน 50,000 แถว: แบ่งเป็นหลายไฟล์",
                        "more than 50,000 rows: split it into smaller files");
        status = 413;
        goto done;
    }
    if (r.nfields == 0) {
        line_error(&r, 1, NULL, NULL, "ไฟล์ว่าง: ใช้แม่แบบแล้วใส่ข้อมูลใต้หัวคอลัมน์",
                   "the file is empty: use the template and fill rows under its header");
        goto done;
    }
    if (r.nerrors) goto done; /* header errors */
    if (!r.hdr_text[col_of(&r, "name_th")]) {
        line_error(&r, 1, r.cols[col_of(&r, "name_th")].th, NULL, "ไม่มีคอลัมน์ชื่อ (ไทย) ซึ่งต้องมี",
                   "the Thai name column is missing");
        goto done;
    }
    if (r.nrows == 0) {
        line_error(&r, 1, NULL, NULL, "มีแต่หัวคอลัมน์ ไม่มีข้อมูล",
                   "the file has only its header, no rows");
        goto done;
    }
    index_model(&r);
    rows = dir_xcalloc((size_t)r.nrows, sizeof *rows);
    for (int i = 0; i < r.nrows; i++)
        do_row(&r, &r.rows[i], &rows[i]);
    struct dir_db_import imp = {o->kind, o->file_name ? o->file_name : "import.csv", sha,
                                !o->dry_run, r.nerrors};
    long long import_id = 0;
    char err[512];
    enum dir_rc rc =
        dir_db_import_apply(db, actor, &imp, rows, r.nrows, &import_id, seq, err, sizeof err);
    if (rc) {
        DIR_LOG(DIR_LOG_WARN, "import", "import failed: %s", err);
        dir_problem_init(prob, 503, "database-unavailable", "Database unavailable",
                         "The directory could not import this file right now; nothing was "
                         "changed. Retry shortly.");
        status = 503;
        goto done;
    }
    static const char *const actions[] = {"create", "update", "unchanged", "error"};
    int base = (int)json_array_size(r.lines) - r.nrows;
    for (int i = 0; i < r.nrows; i++) {
        json_t *line = json_array_get(r.lines, (size_t)(base + i));
        json_object_del(line, "_body");
        if (!rows[i].w.entity) continue;
        json_object_set_new(line, "action", json_string(actions[rows[i].outcome]));
        if (strcmp(o->kind, "communities") == 0 || rows[i].outcome == DIR_DB_IMPORT_ERROR)
            json_object_set_new(line, "id", *rows[i].id ? json_string(rows[i].id) : json_null());
        else
            json_object_set_new(line, "id", json_integer(strtoll(rows[i].id, NULL, 10)));
        if (rows[i].outcome == DIR_DB_IMPORT_ERROR) {
            json_array_append_new(json_object_get(line, "errors"),
                                  error_obj(NULL, NULL, "ทำเนียบไม่รับค่าในแถวนี้", rows[i].err));
            r.nerrors++;
        }
    }
    if (o->dry_run || r.nerrors) { /* nothing was created: no ids to show for new rows */
        for (int i = 0; i < r.nrows; i++)
            if (rows[i].w.entity && rows[i].outcome == DIR_DB_IMPORT_CREATED)
                json_object_set_new(json_array_get(r.lines, (size_t)(base + i)), "id", json_null());
    }
    if (import_id) json_object_set_new(rep, "import_id", json_integer(import_id));
    status = r.nerrors ? 422 : 200;
done:
    if (status == 200 || status == 422) {
        int n[4] = {0, 0, 0, 0};
        size_t i;
        json_t *l;
        json_array_foreach(r.lines, i, l)
        {
            json_object_del(l, "_body");
            const char *a = json_string_value(json_object_get(l, "action"));
            n[strcmp(a, "create") == 0      ? 0
              : strcmp(a, "update") == 0    ? 1
              : strcmp(a, "unchanged") == 0 ? 2
                                            : 3]++;
        }
        json_object_set_new(rep, "counts",
                            json_pack("{s:i, s:i, s:i, s:i}", "created", n[0], "updated", n[1],
                                      "unchanged", n[2], "errors", n[3]));
        json_object_set(rep, "lines", r.lines);
        json_object_set_new(rep, "written", json_boolean(status == 200 && !o->dry_run));
        *report = rep;
    } else {
        json_decref(rep);
    }
    json_decref(r.lines);
    free(rows);
    free(r.rows);
    free(text);
    smap_free(&r.byname);
    smap_free(&r.byref);
    smap_free(&r.seen);
    dir_arena_free(r.a);
    return status;
}
