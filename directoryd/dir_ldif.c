/* dir_ldif.c - the LDAP face's tree as LDIF (see dir_ldif.h). */
#include "dir_ldif.h"
#include "dir_entry.h"
#include "dir_filter.h"
#include "dir_pdpa.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define WRAP 76

/* RFC 2849: SAFE-STRING = [SAFE-INIT-CHAR *SAFE-CHAR]; SAFE-CHAR is any ASCII byte but NUL,
 * LF and CR; SAFE-INIT-CHAR also not space, colon or '<'. A trailing space is base64 too
 * (the RFC's note: it would be lost by tools that trim lines). */
static bool safe_string(const char *v, size_t n)
{
    if (n == 0) return true;
    unsigned char c0 = (unsigned char)v[0];
    if (c0 == ' ' || c0 == ':' || c0 == '<' || v[n - 1] == ' ') return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == 0 || c == '\n' || c == '\r' || c > 127) return false;
    }
    return true;
}

/* Appends the logical line S (N bytes, ASCII) folded at WRAP columns, then a line end. */
static enum dir_rc fold(struct dir_buf *b, const char *s, size_t n)
{
    enum dir_rc rc = DIR_OK;
    size_t pos = 0;
    bool first = true;
    do {
        size_t take = n - pos, max = first ? WRAP : WRAP - 1;
        if (take > max) take = max;
        if (!first) rc = dir_buf_add(b, " ", 1);
        if (!rc) rc = dir_buf_add(b, s + pos, take);
        if (!rc) rc = dir_buf_add(b, "\n", 1);
        pos += take;
        first = false;
    } while (!rc && pos < n);
    return rc;
}

enum dir_rc dir_ldif_line(struct dir_buf *b, const char *name, const char *value, size_t len)
{
    struct dir_buf line;
    dir_buf_init(&line, 4 * len + strlen(name) + 64);
    enum dir_rc rc = dir_buf_adds(&line, name);
    if (safe_string(value, len)) {
        if (!rc) rc = dir_buf_adds(&line, ": ");
        if (!rc) rc = dir_buf_add(&line, value, len);
    } else {
        size_t blen = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
        char *enc = malloc(blen);
        if (!enc) {
            dir_buf_free(&line);
            return DIR_ERR_LIMIT;
        }
        sodium_bin2base64(enc, blen, (const unsigned char *)value, len,
                          sodium_base64_VARIANT_ORIGINAL);
        if (!rc) rc = dir_buf_adds(&line, ":: ");
        if (!rc) rc = dir_buf_adds(&line, enc);
        free(enc);
    }
    if (!rc) rc = fold(b, line.data, line.len);
    dir_buf_free(&line);
    return rc;
}

static enum dir_rc entry(struct dir_buf *b, const struct dir_entry *e, bool see_private)
{
    enum dir_rc rc = dir_ldif_line(b, "dn", e->dn, strlen(e->dn));
    bool priv_shown = false;
    for (int k = 0; !rc && k < e->nattrs; k++) {
        const struct dir_fattr *a = &e->attrs[k];
        if (dir_entry_attr_operational(a->id)) continue;
        for (int j = 0; !rc && j < a->nvals; j++)
            if (!a->vals[j].priv || see_private) {
                rc = dir_ldif_line(b, dir_entry_attr_name(a->id), a->vals[j].val, a->vals[j].len);
                priv_shown = priv_shown || a->vals[j].priv;
            }
    }
    /* A person's non-public contact points in the file: the access log (PDPA). */
    if (priv_shown && e->priv) dir_pdpa_note_id(dir_entry_person_id(e));
    return rc ? rc : dir_buf_add(b, "\n", 1);
}

enum dir_rc dir_ldif_write(struct dir_model *m, bool see_private, FILE *out, int *entries)
{
    *entries = 0;
    struct dir_filter *f = NULL;
    struct dir_filter_error ferr;
    static const char all[] = "(objectClass=*)";
    enum dir_rc rc = dir_filter_parse(all, sizeof all - 1, &f, &ferr);
    if (rc) return rc;
    const struct dir_entry_view *v = dir_entry_view(m);
    struct dir_entry_search s = {.base = dir_entry_suffix(),
                                 .scope = DIR_SCOPE_SUB,
                                 .filter = f,
                                 .role = see_private ? DIR_ROLE_ADMIN : DIR_ROLE_ANON,
                                 .sort_attr = -1,
                                 .after = -1};
    struct dir_entry_result r = {0};
    rc = dir_entry_search(v, &s, &r, NULL);
    dir_filter_free(f);
    if (rc) return rc;
    struct dir_buf b;
    dir_buf_init(&b, (size_t)1 << 30);
    for (int i = 0; !rc && i < r.n; i++) {
        b.len = 0;
        rc = entry(&b, dir_entry_at(v, r.idx[i]), see_private);
        if (!rc && fwrite(b.data, 1, b.len, out) != b.len) rc = DIR_ERR_IO;
        if (!rc) ++*entries;
    }
    dir_buf_free(&b);
    free(r.idx);
    return rc;
}
