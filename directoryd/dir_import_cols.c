/* dir_import_cols.c - the CSV importer's columns per kind (Thai and English headers) and the
 * grammars of the cells that hold lists (contact points, services, memberships); see
 * docs/import.md for what a coordinator types. */
#include "dir_import_int.h"
#include "dir_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONTACT_COLS                                                                               \
    {"phone", "โทรศัพท์", NULL, CT_CONTACT, "phone"},                                                \
        {"mobile", "โทรศัพท์มือถือ", NULL, CT_CONTACT, "mobile"},                                      \
        {"fax", "โทรสาร", NULL, CT_CONTACT, "fax"}, {"email", "อีเมล", NULL, CT_CONTACT, "email"},  \
        {"line", "ไลน์ไอดี", NULL, CT_CONTACT, "line"},                                              \
    {                                                                                              \
        "website", "เว็บไซต์", NULL, CT_CONTACT, "website"                                           \
    }

static const struct dir_import_col org_cols[] = {
    {"id", "รหัสในทำเนียบ", "id", CT_ID, NULL},
    {"ref", "รหัสอ้างอิง", "ref", CT_REF, NULL},
    {"name_th", "ชื่อหน่วยงาน (ไทย)", "name_th", CT_TEXT, NULL},
    {"name_en", "ชื่อหน่วยงาน (อังกฤษ)", "name_en", CT_TEXT, NULL},
    {"short_name_th", "ชื่อย่อ (ไทย)", "short_name_th", CT_TEXT, NULL},
    {"short_name_en", "ชื่อย่อ (อังกฤษ)", "short_name_en", CT_TEXT, NULL},
    {"type", "ประเภทหน่วยงาน (รหัส)", "type", CT_TEXT, NULL},
    {"sector", "ภาคส่วน (รหัส)", "sector", CT_TEXT, NULL},
    {"parent", "หน่วยงานต้นสังกัด", "parent_id", CT_ORG, NULL},
    {"area", "พื้นที่ตั้ง (รหัสเขต/แขวง)", "area_code", CT_TEXT, NULL},
    {"address_th", "ที่อยู่ (ไทย)", "address_th", CT_TEXT, NULL},
    {"address_en", "ที่อยู่ (อังกฤษ)", "address_en", CT_TEXT, NULL},
    {"lat", "ละติจูด", "lat", CT_NUM, NULL},
    {"lon", "ลองจิจูด", "lon", CT_NUM, NULL},
    {"hours_th", "เวลาทำการ (ไทย)", "hours_th", CT_TEXT, NULL},
    {"hours_en", "เวลาทำการ (อังกฤษ)", "hours_en", CT_TEXT, NULL},
    {"description_th", "รายละเอียด (ไทย)", "description_th", CT_TEXT, NULL},
    {"description_en", "รายละเอียด (อังกฤษ)", "description_en", CT_TEXT, NULL},
    {"opened_year", "ปีที่เปิด (ค.ศ.)", "opened_year", CT_YEAR, NULL},
    CONTACT_COLS,
    {"services", "บริการ", NULL, CT_SERVICES, NULL},
    {"target_groups", "กลุ่มเป้าหมาย", NULL, CT_TGS, NULL},
    {"coverage", "พื้นที่ให้บริการ", NULL, CT_COVER, NULL},
};

static const struct dir_import_col person_cols[] = {
    {"id", "รหัสในทำเนียบ", "id", CT_ID, NULL},
    {"ref", "รหัสอ้างอิง", "ref", CT_REF, NULL},
    {"name_th", "ชื่อ-นามสกุล (ไทย)", "name_th", CT_TEXT, NULL},
    {"name_en", "ชื่อ-นามสกุล (อังกฤษ)", "name_en", CT_TEXT, NULL},
    {"title_th", "ตำแหน่ง (ไทย)", "title_th", CT_TEXT, NULL},
    {"title_en", "ตำแหน่ง (อังกฤษ)", "title_en", CT_TEXT, NULL},
    {"profession", "วิชาชีพ (รหัส)", "profession", CT_TEXT, NULL},
    CONTACT_COLS,
    {"memberships", "สังกัด", NULL, CT_MEMBERS, NULL},
};

static const struct dir_import_col community_cols[] = {
    {"code", "รหัสชุมชน", "code", CT_CODE, NULL},
    {"name_th", "ชื่อชุมชน (ไทย)", "name_th", CT_TEXT, NULL},
    {"name_en", "ชื่อชุมชน (อังกฤษ)", "name_en", CT_TEXT, NULL},
    {"parent", "เขต/แขวง (รหัส)", "parent_code", CT_TEXT, NULL},
    {"postal_code", "รหัสไปรษณีย์", "postal_code", CT_TEXT, NULL},
    {"lat", "ละติจูด", "lat", CT_NUM, NULL},
    {"lon", "ลองจิจูด", "lon", CT_NUM, NULL},
};

#define N(a) ((int)(sizeof a / sizeof a[0]))

const struct dir_import_col *dir_import_cols(const char *kind, int *n)
{
    if (kind && strcmp(kind, "organizations") == 0) {
        *n = N(org_cols);
        return org_cols;
    }
    if (kind && strcmp(kind, "people") == 0) {
        *n = N(person_cols);
        return person_cols;
    }
    if (kind && strcmp(kind, "communities") == 0) {
        *n = N(community_cols);
        return community_cols;
    }
    *n = 0;
    return NULL;
}

/* A and B equal with ASCII case and every space ignored. */
static bool loose_eq(const char *a, const char *b)
{
    for (;;) {
        while (*a == ' ')
            a++;
        while (*b == ' ')
            b++;
        if (!*a || !*b) return !*a && !*b;
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return false;
        a++;
        b++;
    }
}

int dir_import_col_find(const char *kind, const char *h)
{
    int n;
    const struct dir_import_col *c = dir_import_cols(kind, &n);
    for (int i = 0; i < n; i++)
        if (loose_eq(h, c[i].key) || loose_eq(h, c[i].th)) return i;
    return -1;
}

char *dir_import_trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

bool dir_import_items(const char *cell, const char *seps, dir_import_item_fn fn, void *arg)
{
    char *copy = dir_xstrdup(cell ? cell : "");
    bool ok = true;
    char *save = NULL;
    for (char *tok = strtok_r(copy, seps, &save); tok && ok; tok = strtok_r(NULL, seps, &save)) {
        char *t = dir_import_trim(tok);
        if (*t) ok = fn(arg, t);
    }
    free(copy);
    return ok;
}

int dir_import_parts(char *item, char **parts, int max)
{
    int n = 0;
    char *p = item;
    while (n < max) {
        char *colon = n == max - 1 ? NULL : strchr(p, ':');
        if (colon) *colon = '\0';
        parts[n++] = dir_import_trim(p);
        if (!colon) break;
        p = colon + 1;
    }
    return n;
}

static bool add_code(void *arg, char *item)
{
    json_array_append_new(arg, json_string(item));
    return true;
}

json_t *dir_import_codes(const char *s)
{
    json_t *a = json_array();
    dir_import_items(s, ",", add_code, a);
    return a;
}

/* Cuts a trailing " <open>...<close>" off S (in place), brackets nested inside counted;
 * the inside, or NULL. */
static char *cut_suffix(char *s, char open, char close)
{
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != close) return NULL;
    int depth = 0;
    char *o = NULL;
    for (size_t i = n; i-- > 0;) {
        if (s[i] == close)
            depth++;
        else if (s[i] == open && --depth == 0) {
            o = s + i;
            break;
        }
    }
    if (!o || o == s) return NULL;
    s[n - 1] = '\0';
    *o = '\0';
    dir_import_trim(s);
    return dir_import_trim(o + 1);
}

json_t *dir_import_contact_parse(const char *item, const char *kind, bool default_public,
                                 const char **th, const char **en)
{
    char *s = dir_xstrdup(item);
    char *v = dir_import_trim(s);
    bool pub = default_public;
    char *flag = cut_suffix(v, '[', ']');
    if (flag) {
        if (strcasecmp(flag, "public") == 0 || strcmp(flag, "สาธารณะ") == 0) {
            pub = true;
        } else if (strcasecmp(flag, "private") == 0 || strcmp(flag, "ไม่เปิดเผย") == 0) {
            pub = false;
        } else {
            *th = "ใช้ [public] หรือ [private] ([สาธารณะ] หรือ [ไม่เปิดเผย])";
            *en = "use [public] or [private] ([สาธารณะ] or [ไม่เปิดเผย])";
            free(s);
            return NULL;
        }
    }
    char *label = cut_suffix(v, '(', ')');
    char *label_en = NULL;
    if (label) {
        char *bar = strchr(label, '|');
        if (bar) {
            *bar = '\0';
            label_en = dir_import_trim(bar + 1);
            label = dir_import_trim(label);
        }
    }
    char *ext = NULL;
    static const char *const marks[] = {" ext ", " ext. ", " ต่อ ", " x "};
    for (size_t k = 0; k < sizeof marks / sizeof marks[0] && !ext; k++) {
        char *at = strstr(v, marks[k]);
        if (at) {
            *at = '\0';
            ext = dir_import_trim(at + strlen(marks[k]));
        }
    }
    v = dir_import_trim(v);
    json_t *c = json_pack("{s:s, s:s, s:b}", "kind", kind, "value", v, "public", pub);
    if (ext && *ext) json_object_set_new(c, "extension", json_string(ext));
    if (label && *label) json_object_set_new(c, "label_th", json_string(label));
    if (label_en && *label_en) json_object_set_new(c, "label_en", json_string(label_en));
    free(s);
    return c;
}

void dir_import_contact_format(json_t *c, bool default_public, struct dir_buf *out)
{
    const char *v = json_string_value(json_object_get(c, "value"));
    const char *ext = json_string_value(json_object_get(c, "extension"));
    const char *lth = json_string_value(json_object_get(c, "label_th"));
    const char *len = json_string_value(json_object_get(c, "label_en"));
    json_t *pub = json_object_get(c, "is_public");
    dir_buf_adds(out, v ? v : "");
    if (ext) dir_buf_printf(out, " ext %s", ext);
    if (lth || len) {
        dir_buf_printf(out, " (%s", lth ? lth : "");
        if (len) dir_buf_printf(out, " | %s", len);
        dir_buf_adds(out, ")");
    }
    if (json_is_boolean(pub) && json_is_true(pub) != default_public)
        dir_buf_adds(out, json_is_true(pub) ? " [public]" : " [private]");
}
