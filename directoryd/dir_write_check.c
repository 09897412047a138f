/* dir_write_check.c - the validation half of a write (see dir_write.h): a JSON body checked
 * field by field against the served snapshot into a struct dir_db_write, or a 400 problem
 * naming every invalid field. No I/O: dir_write.c runs it before PostgreSQL, and
 * tests/fuzz/fuzz_write_json.c runs it on arbitrary bytes. */
#include "dir_write.h"
#include "dir_mem.h"
#include "dir_validate.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ftype {
    F_LINE,
    F_TEXT,
    F_ORG_TYPE,
    F_SECTOR,
    F_PROFESSION,
    F_AREA,
    F_ORG,
    F_LAT,
    F_LON,
    F_YEAR,
    F_REF,
    F_CODE,
    F_GROUP,
    F_GROUP_KIND,
    F_LOCAL_PARENT,
    F_POSTAL
};

struct field {
    const char *key, *col;
    enum ftype type;
    int max;         /* characters, for text */
    bool required;   /* on create; may not be set to null */
    bool ldap_owned; /* people synced from the city LDAP: read-only here */
};

static const struct field org_fields[] = {
    {"name_th", "name_th", F_LINE, 300, true, false},
    {"name_en", "name_en", F_LINE, 300, false, false},
    {"short_name_th", "short_name_th", F_LINE, 100, false, false},
    {"short_name_en", "short_name_en", F_LINE, 100, false, false},
    {"type", "type", F_ORG_TYPE, 0, true, false},
    {"sector", "sector", F_SECTOR, 0, true, false},
    {"parent", "parent_id", F_ORG, 0, false, false},
    {"area", "area_code", F_AREA, 0, true, false},
    {"address_th", "address_th", F_TEXT, 500, false, false},
    {"address_en", "address_en", F_TEXT, 500, false, false},
    {"lat", "lat", F_LAT, 0, false, false},
    {"lon", "lon", F_LON, 0, false, false},
    {"hours_th", "hours_th", F_TEXT, 300, false, false},
    {"hours_en", "hours_en", F_TEXT, 300, false, false},
    {"description_th", "description_th", F_TEXT, 4000, false, false},
    {"description_en", "description_en", F_TEXT, 4000, false, false},
    {"opened_year", "opened_year", F_YEAR, 0, false, false},
    {"ref", "ref", F_REF, 80, false, false},
    {NULL, NULL, 0, 0, false, false},
};

static const struct field person_fields[] = {
    {"name_th", "name_th", F_LINE, 200, true, true},
    {"name_en", "name_en", F_LINE, 200, false, true},
    {"title_th", "title_th", F_LINE, 200, false, true},
    {"title_en", "title_en", F_LINE, 200, false, true},
    {"profession", "profession", F_PROFESSION, 0, false, false},
    {"ref", "ref", F_REF, 80, false, false},
    {NULL, NULL, 0, 0, false, false},
};

/* Communities: the only areas edited here (the rest are national reference facts). */
static const struct field area_fields[] = {
    {"code", "code", F_CODE, 32, false, false},
    {"parent", "parent_code", F_LOCAL_PARENT, 0, true, false},
    {"name_th", "name_th", F_LINE, 200, true, false},
    {"name_en", "name_en", F_LINE, 200, false, false},
    {"postal_code", "postal_code", F_POSTAL, 0, false, false},
    {"lat", "lat", F_LAT, 0, false, false},
    {"lon", "lon", F_LON, 0, false, false},
    {NULL, NULL, 0, 0, false, false},
};

static const struct field group_fields[] = {
    {"code", "code", F_CODE, 32, true, false},
    {"kind", "kind", F_GROUP_KIND, 0, true, false},
    {"parent", "parent_code", F_GROUP, 0, false, false},
    {"within", "within_area", F_AREA, 0, false, false},
    {"name_th", "name_th", F_LINE, 200, true, false},
    {"name_en", "name_en", F_LINE, 200, false, false},
    {NULL, NULL, 0, 0, false, false},
};

static const struct field programme_fields[] = {
    {"ref", "ref", F_REF, 80, false, false},
    {"name_th", "name_th", F_LINE, 300, true, false},
    {"name_en", "name_en", F_LINE, 300, false, false},
    {"description_th", "description_th", F_TEXT, 4000, false, false},
    {"description_en", "description_en", F_TEXT, 4000, false, false},
    {"start_year", "start_year", F_YEAR, 0, false, false},
    {"end_year", "end_year", F_YEAR, 0, false, false},
    {NULL, NULL, 0, 0, false, false},
};

/* Fields a caller may see but not write, and where to go instead. */
static const char *read_only_hint(const char *key)
{
    static const struct {
        const char *key, *hint;
    } ro[] = {{"id", "ids are given by the directory"},
              {"version", "send the version in If-Match"},
              {"status", "use POST .../close, .../reopen, .../deactivate or .../reactivate"},
              {"active", "use POST .../deactivate or .../reactivate"},
              {"verified_at", "use POST .../verify"},
              {"verified_by", "use POST .../verify"},
              {"source", "set by the directory"},
              {"stale", "computed from verified_at"},
              {"open_now", "computed from hours"},
              {"next_change", "computed from hours"},
              {"demo", "set by the demo load only"}};
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
        if (strcmp(ro[i].key, key) == 0) return ro[i].hint;
    return NULL;
}

void dir_write_field_error(struct dir_write_check *j, const char *field, const char *th,
                           const char *en)
{
    if (j->prob.nerrors == 0)
        dir_problem_init(&j->prob, 400, "invalid-body", "Invalid request body",
                         "Some fields are invalid; see errors.");
    dir_problem_add(&j->prob, field, th, en);
}

static void add_set(struct dir_write_check *j, const char *col, const char *val)
{
    if (j->w.nsets == DIR_DB_MAX_SETS) return;
    j->w.sets[j->w.nsets++] = (struct dir_db_set){col, val, false};
}

static void add_set_now(struct dir_write_check *j, const char *col)
{
    if (j->w.nsets < DIR_DB_MAX_SETS)
        j->w.sets[j->w.nsets++] = (struct dir_db_set){col, NULL, true};
}

/* A number's text form: whole numbers (ids, years) exactly, coordinates to 7 places. */
static void add_set_num(struct dir_write_check *j, const char *col, bool whole, double v)
{
    if (j->w.nsets == DIR_DB_MAX_SETS) return;
    if (whole)
        snprintf(j->vals[j->w.nsets], sizeof j->vals[0], "%.0f", v);
    else
        snprintf(j->vals[j->w.nsets], sizeof j->vals[0], "%.7f", v);
    add_set(j, col, j->vals[j->w.nsets]);
}

static bool area_or_group(const struct dir_model *m, const char *code)
{
    return dir_model_area(m, code) >= 0 || dir_model_group(m, code) >= 0;
}

/* A JSON id (number or digit string) naming an existing organisation; -1 if not. */
static long long org_id_of(const struct dir_model *m, json_t *v)
{
    long long id = -1;
    if (json_is_integer(v))
        id = json_integer_value(v);
    else if (json_is_string(v))
        id = strtoll(json_string_value(v), NULL, 10);
    return id > 0 && dir_model_org(m, id) >= 0 ? id : -1;
}

static void check_scalar(struct dir_write_check *j, const struct field *f, json_t *v, bool ldap)
{
    const char *th, *en;
    const struct dir_model *m = j->m;
    if (ldap && f->ldap_owned) {
        dir_write_field_error(j, f->key, "ข้อมูลนี้มาจาก LDAP ของกรุงเทพมหานคร แก้ไขที่นี่ไม่ได้",
                              "owned by the city LDAP: change it there");
        return;
    }
    if (json_is_null(v)) {
        if (f->required)
            dir_write_field_error(j, f->key, "ต้องระบุ", "required");
        else
            add_set(j, f->col, NULL);
        return;
    }
    switch (f->type) {
    case F_LINE:
    case F_TEXT:
    case F_REF:
        if (!json_is_string(v)) {
            dir_write_field_error(j, f->key, "ต้องเป็นข้อความ", "must be a string");
        } else if (!dir_validate_text(json_string_value(v), f->required ? 1 : 0, (size_t)f->max,
                                      f->type != F_TEXT, &th, &en)) {
            dir_write_field_error(j, f->key, th, en);
        } else if (f->type == F_REF && !json_string_length(v)) {
            dir_write_field_error(j, f->key, "ต้องระบุ", "required");
        } else {
            add_set(j, f->col, json_string_value(v));
        }
        return;
    case F_ORG_TYPE:
    case F_SECTOR:
    case F_PROFESSION: {
        enum dir_tax_kind k = f->type == F_ORG_TYPE ? DIR_TAX_ORG_TYPE
                              : f->type == F_SECTOR ? DIR_TAX_SECTOR
                                                    : DIR_TAX_PROFESSION;
        if (!json_is_string(v) || dir_model_taxon(m, k, json_string_value(v)) < 0)
            dir_write_field_error(j, f->key, "ไม่รู้จักรหัสนี้", "unknown code");
        else
            add_set(j, f->col, json_string_value(v));
        return;
    }
    case F_AREA:
        if (!json_is_string(v) || dir_model_area(m, json_string_value(v)) < 0)
            dir_write_field_error(j, f->key, "ไม่พบรหัสพื้นที่นี้", "no area has this code");
        else
            add_set(j, f->col, json_string_value(v));
        return;
    case F_ORG: {
        long long id = org_id_of(m, v);
        if (id < 0)
            dir_write_field_error(j, f->key, "ไม่พบหน่วยงานนี้", "no organization has this id");
        else
            add_set_num(j, f->col, true, (double)id);
        return;
    }
    case F_LAT:
    case F_LON:
        if (!json_is_number(v))
            dir_write_field_error(j, f->key, "ต้องเป็นตัวเลข", "must be a number");
        else
            add_set_num(j, f->col, false, json_number_value(v));
        return;
    case F_CODE: {
        const char *code = json_string_value(v);
        bool ok = code && *code && strlen(code) <= 32;
        for (const char *p = code; ok && *p; p++)
            ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                 *p == '.' || *p == '-';
        if (!ok)
            dir_write_field_error(j, f->key, "รหัส 1-32 ตัว A-Z a-z 0-9 . -",
                                  "1 to 32 of A-Z a-z 0-9 . -");
        else if (dir_model_area(m, code) >= 0 || dir_model_group(m, code) >= 0)
            dir_write_field_error(j, f->key, "มีรหัสนี้แล้ว", "this code is taken");
        else
            add_set(j, f->col, code);
        return;
    }
    case F_GROUP:
        if (!json_is_string(v) || dir_model_group(m, json_string_value(v)) < 0)
            dir_write_field_error(j, f->key, "ไม่พบกลุ่มพื้นที่นี้", "no area group has this code");
        else
            add_set(j, f->col, json_string_value(v));
        return;
    case F_GROUP_KIND:
        if (!json_is_string(v) ||
            (strcmp(json_string_value(v), "zone") && strcmp(json_string_value(v), "subzone") &&
             strcmp(json_string_value(v), "other")))
            dir_write_field_error(j, f->key, "ใช้ zone, subzone หรือ other",
                                  "zone, subzone or other");
        else
            add_set(j, f->col, json_string_value(v));
        return;
    case F_LOCAL_PARENT: {
        int a = json_is_string(v) ? dir_model_area(m, json_string_value(v)) : -1;
        if (a < 0 ||
            (m->areas[a].kind != DIR_AREA_DISTRICT && m->areas[a].kind != DIR_AREA_SUBDISTRICT))
            dir_write_field_error(j, f->key, "ต้องเป็นรหัสเขต/อำเภอ หรือแขวง/ตำบล",
                                  "the code of a district or sub-district");
        else
            add_set(j, f->col, json_string_value(v));
        return;
    }
    case F_POSTAL: {
        const char *pc = json_string_value(v);
        bool ok = pc && strlen(pc) == 5;
        for (int k = 0; ok && k < 5; k++)
            ok = pc[k] >= '0' && pc[k] <= '9';
        if (!ok)
            dir_write_field_error(j, f->key, "รหัสไปรษณีย์ 5 หลัก", "a 5-digit postal code");
        else
            add_set(j, f->col, pc);
        return;
    }
    case F_YEAR:
        if (!json_is_integer(v) || json_integer_value(v) < 1800 || json_integer_value(v) > 2200)
            dir_write_field_error(
                j, f->key, "ปี ค.ศ. ระหว่าง 1800 ถึง 2200 (พ.ศ. ลบ 543)",
                "a year of the Common Era from 1800 to 2200 (Buddhist era minus 543)");
        else
            add_set_num(j, f->col, true, (double)json_integer_value(v));
        return;
    }
}

static void check_contacts(struct dir_write_check *j, json_t *list, bool ldap)
{
    static const char *kinds[] = {"phone", "mobile", "fax", "email", "line", "website"};
    char name[64];
    const char *th, *en;
    if (!json_is_array(list) || json_array_size(list) > 50) {
        dir_write_field_error(j, "contacts", "ต้องเป็นรายการ (ไม่เกิน 50)",
                              "must be an array of at most 50");
        return;
    }
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        snprintf(name, sizeof name, "contacts[%zu]", i);
        if (!json_is_object(c)) {
            dir_write_field_error(j, name, "ต้องเป็นออบเจกต์", "must be an object");
            continue;
        }
        const char *key;
        json_t *v;
        json_object_foreach(c, key, v)
        {
            if (strcmp(key, "kind") && strcmp(key, "value") && strcmp(key, "extension") &&
                strcmp(key, "label_th") && strcmp(key, "label_en") && strcmp(key, "public")) {
                char f[128];
                snprintf(f, sizeof f, "%s.%s", name, key);
                dir_write_field_error(j, f, "ไม่รู้จักช่องนี้", "unknown field");
            }
        }
        const char *kind = json_string_value(json_object_get(c, "kind"));
        const char *value = json_string_value(json_object_get(c, "value"));
        bool known = false;
        for (size_t k = 0; kind && k < 6; k++)
            known = known || strcmp(kind, kinds[k]) == 0;
        char f[96];
        snprintf(f, sizeof f, "%s.kind", name);
        if (!known) {
            dir_write_field_error(j, f, "ใช้ phone, mobile, fax, email, line หรือ website",
                                  "one of phone, mobile, fax, email, line, website");
            continue;
        }
        if (ldap && (strcmp(kind, "email") == 0 || strcmp(kind, "phone") == 0 ||
                     strcmp(kind, "mobile") == 0)) {
            dir_write_field_error(j, f, "อีเมลและโทรศัพท์ของบุคลากรมาจาก LDAP ของกรุงเทพมหานคร",
                                  "e-mail and phones of synced staff come from the city LDAP");
            continue;
        }
        snprintf(f, sizeof f, "%s.value", name);
        char norm[320];
        bool ok = value != NULL;
        th = "ต้องระบุ";
        en = "required";
        if (ok &&
            (strcmp(kind, "phone") == 0 || strcmp(kind, "mobile") == 0 || strcmp(kind, "fax") == 0))
            ok = dir_validate_phone(value, kind, norm, sizeof norm, &th, &en);
        else if (ok && strcmp(kind, "email") == 0)
            ok = dir_validate_email(value, norm, sizeof norm, &th, &en);
        else if (ok && strcmp(kind, "line") == 0)
            ok = dir_validate_line(value, norm, sizeof norm, &th, &en);
        else if (ok) {
            ok = dir_validate_url(value, &th, &en);
            snprintf(norm, sizeof norm, "%s", value);
        }
        if (!ok) {
            dir_write_field_error(j, f, th, en);
            continue;
        }
        json_object_set_new(c, "value", json_string(norm));
        json_t *ext = json_object_get(c, "extension");
        snprintf(f, sizeof f, "%s.extension", name);
        if (ext && !json_is_null(ext)) {
            if (!json_is_string(ext) || strcmp(kind, "phone") != 0 ||
                !dir_validate_extension(json_string_value(ext), &th, &en))
                dir_write_field_error(j, f, "เบอร์ต่อใช้กับโทรศัพท์พื้นฐานเท่านั้น เป็นตัวเลขไม่เกิน 6 หลัก",
                                      "extensions are for landlines: up to 6 digits");
        }
        static const char *labels[] = {"label_th", "label_en"};
        for (int k = 0; k < 2; k++) {
            json_t *l = json_object_get(c, labels[k]);
            snprintf(f, sizeof f, "%s.%s", name, labels[k]);
            if (l && !json_is_null(l) &&
                (!json_is_string(l) ||
                 !dir_validate_text(json_string_value(l), 0, 100, true, &th, &en)))
                dir_write_field_error(j, f, "ข้อความไม่เกิน 100 ตัวอักษร",
                                      "text of at most 100 characters");
        }
        json_t *pub = json_object_get(c, "public");
        snprintf(f, sizeof f, "%s.public", name);
        if (pub && !json_is_boolean(pub))
            dir_write_field_error(j, f, "ต้องเป็น true หรือ false", "must be true or false");
    }
}

static void check_codes(struct dir_write_check *j, json_t *list, const char *field, bool groups_ok,
                        enum dir_tax_kind kind)
{
    char f[96];
    size_t k;
    json_t *x;
    if (list && !json_is_array(list)) {
        dir_write_field_error(j, field, "ต้องเป็นรายการรหัส", "must be an array of codes");
        return;
    }
    json_array_foreach(list, k, x)
    {
        snprintf(f, sizeof f, "%s[%zu]", field, k);
        const char *code = json_string_value(x);
        bool ok = code && (groups_ok                ? area_or_group(j->m, code)
                           : kind == DIR_TAX_NKINDS ? dir_model_area(j->m, code) >= 0
                                                    : dir_model_taxon(j->m, kind, code) >= 0);
        if (!ok) dir_write_field_error(j, f, "ไม่รู้จักรหัสนี้", "unknown code");
    }
}

static void check_services(struct dir_write_check *j, json_t *list)
{
    char name[64], f[96];
    if (!json_is_array(list) || json_array_size(list) > 50) {
        dir_write_field_error(j, "services", "ต้องเป็นรายการ (ไม่เกิน 50)",
                              "must be an array of at most 50");
        return;
    }
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s)
    {
        snprintf(name, sizeof name, "services[%zu]", i);
        const char *code = json_string_value(json_object_get(s, "code"));
        snprintf(f, sizeof f, "%s.code", name);
        if (!json_is_object(s) || !code || dir_model_taxon(j->m, DIR_TAX_SERVICE, code) < 0) {
            dir_write_field_error(j, f, "ไม่รู้จักรหัสบริการนี้", "unknown service code");
            continue;
        }
        for (size_t k = 0; k < i; k++) {
            const char *other = json_string_value(json_object_get(json_array_get(list, k), "code"));
            if (other && strcmp(other, code) == 0)
                dir_write_field_error(j, f, "บริการซ้ำ", "listed twice");
        }
        snprintf(f, sizeof f, "%s.target_groups", name);
        check_codes(j, json_object_get(s, "target_groups"), f, false, DIR_TAX_TARGET_GROUP);
        snprintf(f, sizeof f, "%s.areas", name);
        check_codes(j, json_object_get(s, "areas"), f, true, DIR_TAX_SERVICE);
    }
}

static void check_memberships(struct dir_write_check *j, json_t *list)
{
    char name[64], f[96];
    const char *th, *en;
    if (!json_is_array(list) || json_array_size(list) > 20) {
        dir_write_field_error(j, "memberships", "ต้องเป็นรายการ (ไม่เกิน 20)",
                              "must be an array of at most 20");
        return;
    }
    size_t i;
    json_t *ms;
    json_array_foreach(list, i, ms)
    {
        snprintf(name, sizeof name, "memberships[%zu]", i);
        snprintf(f, sizeof f, "%s.organization", name);
        if (!json_is_object(ms) || org_id_of(j->m, json_object_get(ms, "organization")) < 0) {
            dir_write_field_error(j, f, "ไม่พบหน่วยงานนี้", "no organization has this id");
            continue;
        }
        json_t *role = json_object_get(ms, "team_role");
        snprintf(f, sizeof f, "%s.team_role", name);
        if (role && !json_is_null(role) &&
            (!json_is_string(role) ||
             dir_model_taxon(j->m, DIR_TAX_TEAM_ROLE, json_string_value(role)) < 0))
            dir_write_field_error(j, f, "ไม่รู้จักบทบาทนี้", "unknown team role");
        static const char *titles[] = {"title_th", "title_en"};
        for (int k = 0; k < 2; k++) {
            json_t *t = json_object_get(ms, titles[k]);
            snprintf(f, sizeof f, "%s.%s", name, titles[k]);
            if (t && !json_is_null(t) &&
                (!json_is_string(t) ||
                 !dir_validate_text(json_string_value(t), 0, 200, true, &th, &en)))
                dir_write_field_error(j, f, "ข้อความไม่เกิน 200 ตัวอักษร",
                                      "text of at most 200 characters");
        }
        snprintf(f, sizeof f, "%s.areas", name);
        check_codes(j, json_object_get(ms, "areas"), f, true, DIR_TAX_SERVICE);
    }
}

static void check_programme_orgs(struct dir_write_check *j, json_t *list)
{
    char f[96];
    const char *th, *en;
    if (!json_is_array(list) || json_array_size(list) > 200) {
        dir_write_field_error(j, "organizations", "ต้องเป็นรายการ",
                              "must be an array of at most 200");
        return;
    }
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        snprintf(f, sizeof f, "organizations[%zu].organization", i);
        if (!json_is_object(x) || org_id_of(j->m, json_object_get(x, "organization")) < 0) {
            dir_write_field_error(j, f, "ไม่พบหน่วยงานนี้", "no organization has this id");
            continue;
        }
        static const char *roles[] = {"role_th", "role_en"};
        for (int k = 0; k < 2; k++) {
            json_t *r = json_object_get(x, roles[k]);
            snprintf(f, sizeof f, "organizations[%zu].%s", i, roles[k]);
            if (r && !json_is_null(r) &&
                (!json_is_string(r) ||
                 !dir_validate_text(json_string_value(r), 0, 200, true, &th, &en)))
                dir_write_field_error(j, f, "ข้อความไม่เกิน 200 ตัวอักษร",
                                      "text of at most 200 characters");
        }
    }
}

static void hours_error(void *ctx, const char *field, const char *th, const char *en)
{
    dir_write_field_error(ctx, field, th, en);
}

/* An organisation's structured opening hours: null (unknown again), or the schedule of
 * dir_hours.h checked field by field (hours.weekly[2].closes_at...). The body then holds
 * its normal form (lists sorted, defaults filled in), which is what is written. */
static void check_hours(struct dir_write_check *j, json_t *body, json_t *v)
{
    j->w.hours_set = true;
    if (!json_is_null(v)) {
        struct dir_arena *a = dir_arena_new();
        const struct dir_hours *h;
        if (dir_hours_parse(v, a, &h, hours_error, j))
            json_object_set_new(body, "hours", dir_hours_json(h));
        dir_arena_free(a);
    }
    j->w.hours = json_object_get(body, "hours");
}

/* Validates BODY against FIELDS (and the nested lists); fills j->w. */
static void check_body(struct dir_write_check *j, json_t *body, const struct field *fields,
                       bool create, const char *entity, bool ldap)
{
    bool org = strcmp(entity, "organization") == 0, person = strcmp(entity, "person") == 0;
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        const struct field *f = NULL;
        for (const struct field *x = fields; x->key && !f; x++)
            if (strcmp(x->key, key) == 0) f = x;
        if (f) {
            if ((f->type == F_REF || f->type == F_CODE) && !create)
                dir_write_field_error(j, key, "กำหนดได้ตอนสร้างเท่านั้น", "can be set on create only");
            else
                check_scalar(j, f, v, ldap);
        } else if ((org || person) && strcmp(key, "contacts") == 0) {
            check_contacts(j, v, ldap);
            j->w.contacts = v;
        } else if (org && strcmp(key, "services") == 0) {
            check_services(j, v);
            j->w.services = v;
        } else if (org && strcmp(key, "hours") == 0) {
            check_hours(j, body, v);
        } else if (person && strcmp(key, "memberships") == 0) {
            check_memberships(j, v);
            j->w.memberships = v;
        } else if (strcmp(entity, "area_group") == 0 && strcmp(key, "members") == 0) {
            check_codes(j, v, "members", false, DIR_TAX_NKINDS);
            j->w.members = v;
        } else if (strcmp(entity, "programme") == 0 && strcmp(key, "areas") == 0) {
            check_codes(j, v, "areas", false, DIR_TAX_NKINDS);
            j->w.prog_areas = v;
        } else if (strcmp(entity, "programme") == 0 && strcmp(key, "organizations") == 0) {
            check_programme_orgs(j, v);
            j->w.prog_orgs = v;
        } else if (strcmp(entity, "area") == 0 && strcmp(key, "kind") == 0) {
            if (!json_is_string(v) || strcmp(json_string_value(v), "community") != 0)
                dir_write_field_error(j, key, "เพิ่ม/แก้ไขได้เฉพาะชุมชน (community)",
                                      "only communities are added or edited here");
        } else {
            const char *hint = read_only_hint(key);
            dir_write_field_error(j, key, hint ? "แก้ไขช่องนี้โดยตรงไม่ได้" : "ไม่รู้จักช่องนี้",
                                  hint ? hint : "unknown field");
        }
    }
    if (create)
        for (const struct field *x = fields; x->key; x++)
            if (x->required && !json_object_get(body, x->key))
                dir_write_field_error(j, x->key, "ต้องระบุ", "required");
    json_t *lat = json_object_get(body, "lat"), *lon = json_object_get(body, "lon");
    if ((org || strcmp(entity, "area") == 0) && (lat || lon)) {
        const char *th, *en;
        if (!lat || !lon || json_is_null(lat) != json_is_null(lon))
            dir_write_field_error(j, lat ? "lon" : "lat", "ระบุ lat และ lon คู่กัน",
                                  "give lat and lon together");
        else if (json_is_number(lat) && json_is_number(lon) &&
                 !dir_validate_point(json_number_value(lat), json_number_value(lon), &th, &en))
            dir_write_field_error(j, "lat", th, en);
    }
}

/* The body of an action on an organisation (ORG) or a person: close takes {moved, date,
 * reason_th, reason_en, successor}; the others take no body. */
static void check_action(struct dir_write_check *j, json_t *body, bool org, const char *action)
{
    const struct dir_model *m = j->m;
    if (json_object_size(body) && strcmp(action, "close") != 0) {
        dir_write_field_error(j, "body", "คำสั่งนี้ไม่รับข้อมูล", "this action takes no body");
    } else if (strcmp(action, "close") == 0) {
        const char *key;
        json_t *v;
        const char *th, *en;
        bool moved = json_is_true(json_object_get(body, "moved"));
        add_set(j, "status", moved ? "moved" : "closed");
        json_t *date = json_object_get(body, "date");
        if (date && (!json_is_string(date) || json_string_length(date) != 10))
            dir_write_field_error(j, "date", "วันที่แบบ YYYY-MM-DD (ค.ศ.)", "a date as YYYY-MM-DD");
        else if (date)
            add_set(j, "status_date", json_string_value(date));
        else
            add_set_now(j, "status_date");
        json_object_foreach(body, key, v)
        {
            if (strcmp(key, "reason_th") == 0 || strcmp(key, "reason_en") == 0) {
                if (!json_is_string(v) ||
                    !dir_validate_text(json_string_value(v), 0, 1000, false, &th, &en))
                    dir_write_field_error(j, key, "ข้อความไม่เกิน 1000 ตัวอักษร",
                                          "text of at most 1000 characters");
                else
                    add_set(j, strcmp(key, "reason_th") == 0 ? "status_reason" : "status_reason_en",
                            json_string_value(v));
            } else if (strcmp(key, "successor") == 0) {
                long long sid = org_id_of(m, v);
                if (sid < 0 || sid == j->w.id)
                    dir_write_field_error(j, key, "ไม่พบหน่วยงานนี้",
                                          "no other organization has this id");
                else
                    add_set_num(j, "successor_id", true, (double)sid);
            } else if (strcmp(key, "date") && strcmp(key, "moved")) {
                dir_write_field_error(j, key, "ไม่รู้จักช่องนี้", "unknown field");
            }
        }
        if (!org)
            dir_write_field_error(j, "body", "ใช้ deactivate กับบุคคล",
                                  "people are deactivated, not closed");
    } else if (strcmp(action, "reopen") == 0) {
        add_set(j, "status", "active");
        add_set(j, "status_date", NULL);
        add_set(j, "status_reason", NULL);
        add_set(j, "status_reason_en", NULL);
        add_set(j, "successor_id", NULL);
    } else if (strcmp(action, "verify") == 0) {
        add_set_now(j, "verified_at");
        add_set(j, "verified_by", j->actor);
    } else if (strcmp(action, "deactivate") == 0 || strcmp(action, "reactivate") == 0) {
        add_set(j, "active", strcmp(action, "reactivate") == 0 ? "true" : "false");
    }
}

/* A new community's code: 'C' + its district + '-' + the next free number. */
static void community_code(struct dir_write_check *j, json_t *body)
{
    const struct dir_model *m = j->m;
    const char *parent = json_string_value(json_object_get(body, "parent"));
    int a = parent ? dir_model_area(m, parent) : -1;
    while (a >= 0 && m->areas[a].kind != DIR_AREA_DISTRICT)
        a = m->areas[a].parent;
    if (a < 0 || json_object_get(body, "code")) return;
    int next = 1;
    char prefix[16];
    snprintf(prefix, sizeof prefix, "C%s-", m->areas[a].code);
    size_t plen = strlen(prefix);
    for (int i = 0; i < m->nareas; i++)
        if (strncmp(m->areas[i].code, prefix, plen) == 0 && atoi(m->areas[i].code + plen) >= next)
            next = atoi(m->areas[i].code + plen) + 1;
    snprintf(j->code, sizeof j->code, "%s%04d", prefix, next);
    add_set(j, "code", j->code);
}

/* POST /v1/admin/api-clients {name, role, expires_at}. */
static void check_client(struct dir_write_check *j, json_t *body)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "name") && strcmp(key, "role") && strcmp(key, "expires_at"))
            dir_write_field_error(j, key, "ไม่รู้จักช่องนี้", "unknown field");
    }
    const char *cname = json_string_value(json_object_get(body, "name"));
    const char *role = json_string_value(json_object_get(body, "role"));
    const char *exp = json_string_value(json_object_get(body, "expires_at"));
    bool name_ok = cname && *cname && strlen(cname) <= 64;
    for (const char *p = cname; name_ok && *p; p++)
        name_ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-';
    if (!name_ok)
        dir_write_field_error(j, "name", "ชื่อ 1-64 ตัว a-z A-Z 0-9 . _ -",
                              "1 to 64 of a-z A-Z 0-9 . _ -");
    if (dir_auth_role_parse(role) < 0)
        dir_write_field_error(j, "role", "ใช้ caseworker, coordinator หรือ admin",
                              "caseworker, coordinator or admin");
    if (json_object_get(body, "expires_at") && !json_is_null(json_object_get(body, "expires_at")) &&
        (!exp || strlen(exp) < 10 || exp[4] != '-'))
        dir_write_field_error(j, "expires_at", "วันเวลาแบบ ISO 8601", "an ISO 8601 time");
}

/* PUT /v1/admin/staff-roles/{username} {"role": ...}. */
static void check_staff_role(struct dir_write_check *j, json_t *body)
{
    json_t *r = json_object_get(body, "role");
    const char *role = json_string_value(r);
    if ((!json_is_null(r) && dir_auth_role_parse(role) < 0) || json_object_size(body) != 1)
        dir_write_field_error(j, "role", "ใช้ caseworker, coordinator, admin หรือ null",
                              "caseworker, coordinator, admin or null");
}

json_t *dir_write_body_parse(const char *s, size_t n, json_error_t *e)
{
    json_t *v = json_loadb(s, n, JSON_REJECT_DUPLICATES, e);
    if (v && !json_is_object(v)) {
        json_decref(v);
        snprintf(e->text, sizeof e->text, "not a JSON object");
        e->line = e->column = 1;
        e->position = -1;
        return NULL;
    }
    return v;
}

void dir_write_body_problem(const json_error_t *e, struct dir_problem *p)
{
    if (e->position == -1)
        dir_problem_init(p, 400, "invalid-json", "Invalid JSON", "The body must be a JSON object.");
    else
        dir_problem_init(p, 400, "invalid-json", "Invalid JSON",
                         "The body is not valid UTF-8 JSON: %s (line %d, column %d).", e->text,
                         e->line, e->column);
    dir_problem_add(p, "body", "ต้องเป็น JSON ที่ถูกต้อง (UTF-8)", "must be valid UTF-8 JSON");
}

void dir_write_check(struct dir_write_check *j, json_t *body, const char *entity,
                     const char *action, bool ldap)
{
    bool create = strcmp(action, "create") == 0;
    j->w.entity = entity;
    j->w.action = action;
    if (strcmp(entity, "api_client") == 0) {
        check_client(j, body);
    } else if (strcmp(entity, "staff_role") == 0) {
        check_staff_role(j, body);
    } else if (strcmp(entity, "organization") == 0 || strcmp(entity, "person") == 0) {
        bool org = entity[0] == 'o';
        if (create || strcmp(action, "update") == 0)
            check_body(j, body, org ? org_fields : person_fields, create, entity, ldap);
        else
            check_action(j, body, org, action);
        if (create && !org) add_set(j, "source", "manual");
    } else {
        bool area = strcmp(entity, "area") == 0;
        const struct field *fields = area                                ? area_fields
                                     : strcmp(entity, "area_group") == 0 ? group_fields
                                                                         : programme_fields;
        check_body(j, body, fields, create, entity, false);
        if (create && area) {
            add_set(j, "kind", "community");
            add_set(j, "coord_approx", "false");
            community_code(j, body);
        }
    }
}
