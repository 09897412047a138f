/* dir_import_int.h - inside the CSV importer: the columns of each kind and the small
 * grammars of the cells that hold lists (dir_import_cols.c), shared with dir_import.c. */
#ifndef DIR_IMPORT_INT_H
#define DIR_IMPORT_INT_H

#include "dir_buf.h"
#include "dir_model.h"

#include <jansson.h>
#include <stdbool.h>

enum dir_import_ctype {
    CT_ID,       /* the directory's id: matches (never written) */
    CT_REF,      /* stable key: matches; written on create */
    CT_CODE,     /* a community's code: matches; written on create */
    CT_TEXT,     /* a string (codes too) */
    CT_NUM,      /* a decimal number */
    CT_YEAR,     /* a year (C.E.; a B.E. year is converted) */
    CT_ORG,      /* an organisation by id or ref */
    CT_CONTACT,  /* contact points of one kind */
    CT_SERVICES, /* services: code:target groups:areas per line */
    CT_TGS,      /* target groups of services that name none */
    CT_COVER,    /* areas of services that name none */
    CT_MEMBERS   /* memberships: org:team role:title th:title en:areas per line */
};

struct dir_import_col {
    const char *key;   /* the English header and the API's field */
    const char *th;    /* the Thai header (templates, exports) */
    const char *dbkey; /* the key in the audit JSON (export), NULL: none */
    enum dir_import_ctype type;
    const char *ckind; /* CT_CONTACT: phone, mobile, fax, email, line, website */
};

/* The columns of KIND in template order, *N of them; NULL for an unknown kind. */
const struct dir_import_col *dir_import_cols(const char *kind, int *n);
/* The column index of KIND that header text H names (the key or the Thai name, spaces
 * and case ignored), or -1. */
int dir_import_col_find(const char *kind, const char *h);

/* A cell's list: items separated by ';' or line breaks, trimmed, empty ones dropped. Calls
 * FN per item (a NUL-terminated copy); false when FN refused one. */
typedef bool (*dir_import_item_fn)(void *arg, char *item);
bool dir_import_items(const char *cell, const char *seps, dir_import_item_fn fn, void *arg);

/* One contact entry "value [ext N] [(label th | label en)] [[public]|[private]]" of KIND
 * into a new JSON object {kind, value, extension, label_th, label_en, public} (DEFAULT_PUBLIC
 * when no flag is given); NULL with *TH and *EN when it cannot be read. */
json_t *dir_import_contact_parse(const char *item, const char *kind, bool default_public,
                                 const char **th, const char **en);
/* The entry of contact C (audit JSON: kind, value, extension, label_th, label_en,
 * is_public) appended to OUT. */
void dir_import_contact_format(json_t *c, bool default_public, struct dir_buf *out);

/* Splits ITEM at ':' into at most MAX trimmed parts (NUL-terminated, in place); the count. */
int dir_import_parts(char *item, char **parts, int max);
/* A comma-separated list of codes into a new JSON array of strings. */
json_t *dir_import_codes(const char *s);

/* Trims spaces (and tabs, line breaks) in place; returns S advanced. */
char *dir_import_trim(char *s);

#endif
