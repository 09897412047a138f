/* dir_filter.c - the RFC 4515 filter parser, filter trees and the three-valued matcher.
 *
 * The parser is a recursive descent over the grammar quoted below; it reports the byte
 * offset and a static reason for the first error. Trees are plain malloc'ed nodes (one
 * filter is small and short-lived). The matcher never allocates except when an extensible
 * match asks for a rule other than the attribute's own and the value is long.
 */
#include "dir_filter.h"
#include "dir_mem.h"
#include "dir_text.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- trees ---- */

struct dir_filter *dir_filter_new(enum dir_filter_kind kind)
{
    struct dir_filter *f = dir_xcalloc(1, sizeof *f);
    f->kind = kind;
    f->attr_id = -1;
    return f;
}

static void piece_free(struct dir_fpiece *p)
{
    if (!p)
        return;
    free(p->s);
    free(p->norm);
}

void dir_filter_free(struct dir_filter *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->nkids; i++)
        dir_filter_free(f->kids[i]);
    free(f->kids);
    free(f->attr);
    piece_free(&f->value);
    piece_free(f->initial);
    free(f->initial);
    piece_free(f->final);
    free(f->final);
    for (int i = 0; i < f->nany; i++)
        piece_free(&f->any[i]);
    free(f->any);
    free(f->rule);
    free(f);
}

void dir_filter_add_kid(struct dir_filter *parent, struct dir_filter *kid)
{
    if (parent->nkids == parent->capkids) {
        parent->capkids = parent->capkids ? parent->capkids * 2 : 4;
        parent->kids = dir_xrealloc(parent->kids, sizeof *parent->kids * (size_t)parent->capkids);
    }
    parent->kids[parent->nkids++] = kid;
}

static char *copy(const char *s, size_t n)
{
    char *d = dir_xmalloc(n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void dir_filter_set_attr(struct dir_filter *f, const char *s, size_t n)
{
    free(f->attr);
    f->attr = copy(s, n);
}

static void set_piece(struct dir_fpiece *p, const char *s, size_t n)
{
    piece_free(p);
    p->s = copy(s, n);
    p->n = n;
    p->norm = NULL;
    p->nn = 0;
}

void dir_filter_set_value(struct dir_filter *f, const char *s, size_t n)
{
    set_piece(&f->value, s, n);
}

void dir_filter_set_rule(struct dir_filter *f, const char *s, size_t n)
{
    free(f->rule);
    f->rule = copy(s, n);
}

enum dir_rc dir_filter_add_piece(struct dir_filter *f, int which, const char *s, size_t n)
{
    if (which == 0 || which == 2) {
        struct dir_fpiece **slot = which == 0 ? &f->initial : &f->final;
        if (*slot || (which == 0 && (f->nany || f->final)))
            return DIR_ERR_INVALID;
        *slot = dir_xcalloc(1, sizeof **slot);
        set_piece(*slot, s, n);
        return DIR_OK;
    }
    if (f->final)
        return DIR_ERR_INVALID;
    f->any = dir_xrealloc(f->any, sizeof *f->any * (size_t)(f->nany + 1));
    memset(&f->any[f->nany], 0, sizeof *f->any);
    set_piece(&f->any[f->nany++], s, n);
    return DIR_OK;
}

/* ---- normalisation ---- */

size_t dir_filter_normalize(enum dir_match m, const char *in, size_t n, char *out)
{
    size_t o = 0;
    if (m == DIR_MATCH_CASE_EXACT) {
        memcpy(out, in, n);
        out[n] = '\0';
        return n;
    }
    bool space = true; /* drops leading white space */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (m == DIR_MATCH_TELEPHONE && (ws || c == '-'))
            continue;
        if (ws) {
            if (!space)
                out[o++] = ' ';
            space = true;
            continue;
        }
        space = false;
        out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    if (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return o;
}

static const struct {
    const char *name, *oid;
    enum dir_match m;
} rules[] = {
    {"caseIgnoreMatch", "2.5.13.2", DIR_MATCH_CASE_IGNORE},
    {"caseIgnoreIA5Match", "1.3.6.1.4.1.1466.109.114.2", DIR_MATCH_CASE_IGNORE},
    {"objectIdentifierMatch", "2.5.13.0", DIR_MATCH_CASE_IGNORE},
    {"distinguishedNameMatch", "2.5.13.1", DIR_MATCH_CASE_IGNORE},
    {"caseExactMatch", "2.5.13.5", DIR_MATCH_CASE_EXACT},
    {"caseExactIA5Match", "1.3.6.1.4.1.1466.109.114.1", DIR_MATCH_CASE_EXACT},
    {"octetStringMatch", "2.5.13.17", DIR_MATCH_CASE_EXACT},
    {"telephoneNumberMatch", "2.5.13.20", DIR_MATCH_TELEPHONE},
};

int dir_filter_rule_parse(const char *name)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcasecmp(name, rules[i].name) == 0 || strcmp(name, rules[i].oid) == 0)
            return (int)rules[i].m;
    return -1;
}

static void norm_piece(struct dir_fpiece *p, enum dir_match m)
{
    if (!p || !p->s)
        return;
    free(p->norm);
    p->norm = dir_xmalloc(p->n + 1);
    p->nn = dir_filter_normalize(m, p->s, p->n, p->norm);
}

void dir_filter_prepare(struct dir_filter *f, dir_filter_resolve_fn resolve, void *cls)
{
    for (int i = 0; i < f->nkids; i++)
        dir_filter_prepare(f->kids[i], resolve, cls);
    if (f->kind == DIR_FILTER_AND || f->kind == DIR_FILTER_OR || f->kind == DIR_FILTER_NOT)
        return;
    enum dir_match m = DIR_MATCH_CASE_IGNORE;
    f->attr_id = f->attr ? resolve(cls, f->attr, &m) : -1;
    f->match = m;
    if (f->kind == DIR_FILTER_EXTENSIBLE && f->rule) {
        int r = dir_filter_rule_parse(f->rule);
        f->rule_unknown = r < 0;
        if (r >= 0)
            f->match = (enum dir_match)r;
    }
    norm_piece(&f->value, f->match);
    norm_piece(f->initial, f->match);
    norm_piece(f->final, f->match);
    for (int i = 0; i < f->nany; i++)
        norm_piece(&f->any[i], f->match);
}

/* ---- the string parser ----
 *
 * RFC 4515, section 3:
 *
 *   filter         = LPAREN filtercomp RPAREN
 *   filtercomp     = and / or / not / item
 *   and            = AMPERSAND filterlist
 *   or             = VERTBAR filterlist
 *   not            = EXCLAMATION filter
 *   filterlist     = 1*filter
 *   item           = simple / present / substring / extensible
 *   simple         = attr filtertype assertionvalue
 *   filtertype     = equal / approx / greaterorequal / lessorequal
 *   equal          = EQUALS
 *   approx         = TILDE EQUALS
 *   greaterorequal = RANGLE EQUALS
 *   lessorequal    = LANGLE EQUALS
 *   extensible     = ( attr [dnattrs]
 *                        [matchingrule] COLON EQUALS assertionvalue )
 *                    / ( [dnattrs]
 *                         matchingrule COLON EQUALS assertionvalue )
 *   present        = attr EQUALS ASTERISK
 *   substring      = attr EQUALS [initial] any [final]
 *   initial        = assertionvalue
 *   any            = ASTERISK *(assertionvalue ASTERISK)
 *   final          = assertionvalue
 *   attr           = attributedescription
 *                      ; The attributedescription rule is defined in
 *                      ; Section 2.5 of [RFC4512].
 *   dnattrs        = COLON "dn"
 *   matchingrule   = COLON oid
 *   assertionvalue = valueencoding
 *   valueencoding  = 0*(normal / escaped)
 *   normal         = UTF1SUBSET / UTFMB
 *   escaped        = ESC HEX HEX
 *   UTF1SUBSET     = %x01-27 / %x2B-5B / %x5D-7F
 *                       ; UTF1SUBSET excludes 0x00 (NUL), LPAREN,
 *                       ; RPAREN, ASTERISK, and ESC.
 *
 * RFC 4512, section 2.5: attributedescription = attributetype options;
 *   attributetype = oid; oid = descr / numericoid; descr = ALPHA *( ALPHA / DIGIT / HYPHEN );
 *   numericoid = number 1*( DOT number ); options = *( SEMI option ); option = 1*keychar.
 *
 * Two liberties, both common practice: "(&)" and "(|)" are absolute true and false
 * (RFC 4526), and a bare item without parentheses ("cn=x") is read as "(cn=x)".
 */

struct parser {
    const char *s;
    size_t n, i;
    int nodes;
    struct dir_filter_error *err;
    enum dir_rc rc;
};

static bool fail(struct parser *p, size_t pos, const char *reason, enum dir_rc rc)
{
    if (p->err && !p->err->reason) {
        p->err->pos = pos;
        p->err->reason = reason;
    }
    p->rc = rc;
    return false;
}

static bool keychar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* oid = descr / numericoid; returns its length at S (0 if none). */
static size_t scan_oid(const char *s, size_t n)
{
    size_t i = 0;
    if (n && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
        while (i < n && keychar(s[i]))
            i++;
        return i;
    }
    for (;;) {
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d || (i - d > 1 && s[d] == '0'))
            return 0;
        if (i < n && s[i] == '.' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') {
            i++;
            continue;
        }
        return i;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t utf8_seq_len(unsigned char c)
{
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

/* Reads one assertionvalue, stopping at ')' or (when STAR_ENDS) at '*'. The unescaped
 * bytes go to OUT (room for the rest of the input). */
static bool parse_value(struct parser *p, char *out, size_t *outlen, bool star_ends)
{
    size_t o = 0;
    while (p->i < p->n) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == ')' || (c == '*' && star_ends))
            break;
        if (c == '\\') {
            int h1 = p->i + 1 < p->n ? hexval(p->s[p->i + 1]) : -1;
            int h2 = p->i + 2 < p->n ? hexval(p->s[p->i + 2]) : -1;
            if (h1 < 0 || h2 < 0)
                return fail(p, p->i, "invalid escape: '\\' must be followed by two hex digits",
                            DIR_ERR_INVALID);
            out[o++] = (char)(h1 * 16 + h2);
            p->i += 3;
            continue;
        }
        if (c == '(')
            return fail(p, p->i, "unescaped '(' in a value (write \\28)", DIR_ERR_INVALID);
        if (c == '*')
            return fail(p, p->i, "'*' is not allowed in this kind of assertion (write \\2a)",
                        DIR_ERR_INVALID);
        if (c == 0)
            return fail(p, p->i, "NUL byte in a value (write \\00)", DIR_ERR_INVALID);
        if (c >= 0x80) {
            size_t k = utf8_seq_len(c);
            if (!k || p->i + k > p->n || !dir_text_utf8_valid(p->s + p->i, k))
                return fail(p, p->i, "invalid UTF-8 in a value", DIR_ERR_INVALID);
            memcpy(out + o, p->s + p->i, k);
            o += k;
            p->i += k;
            continue;
        }
        out[o++] = (char)c;
        p->i++;
    }
    *outlen = o;
    return true;
}

static bool parse_filter(struct parser *p, int depth, struct dir_filter **out);

static bool new_node(struct parser *p, enum dir_filter_kind kind, struct dir_filter **out)
{
    if (++p->nodes > DIR_FILTER_MAX_NODES)
        return fail(p, p->i, "filter has too many parts", DIR_ERR_LIMIT);
    *out = dir_filter_new(kind);
    return true;
}

static bool parse_item(struct parser *p, struct dir_filter **out)
{
    size_t start = p->i;
    const char *s = p->s;
    size_t alen = 0;
    /* attributedescription: attributetype *( ";" option ) */
    if (p->i < p->n && s[p->i] != ':') {
        size_t k = scan_oid(s + p->i, p->n - p->i);
        if (k == 0) {
            if (p->i >= p->n || s[p->i] == ')' || strchr("=~<>", s[p->i]))
                return fail(p, p->i, "missing attribute description", DIR_ERR_INVALID);
            return fail(p, p->i, "invalid character in attribute description", DIR_ERR_INVALID);
        }
        p->i += k;
        while (p->i < p->n && s[p->i] == ';') {
            size_t o = ++p->i;
            while (p->i < p->n && keychar(s[p->i]))
                p->i++;
            if (p->i == o)
                return fail(p, p->i, "empty attribute option after ';'", DIR_ERR_INVALID);
        }
        alen = p->i - start;
        if (p->i < p->n && !strchr("=~<>:)", s[p->i]))
            return fail(p, p->i, "invalid character in attribute description", DIR_ERR_INVALID);
    }
    if (p->i >= p->n)
        return fail(p, p->i, "unexpected end of filter (expected a filter type such as '=')",
                    DIR_ERR_INVALID);
    char c = s[p->i];
    struct dir_filter *f = NULL;
    char *buf = dir_xmalloc(p->n - p->i + 1);
    size_t vlen;
    bool ok = false;

    if (c == ':') { /* extensible */
        if (!new_node(p, DIR_FILTER_EXTENSIBLE, &f))
            goto out;
        if (alen)
            dir_filter_set_attr(f, s + start, alen);
        if (p->i + 3 <= p->n && strncasecmp(s + p->i, ":dn", 3) == 0 &&
            (p->i + 3 == p->n || s[p->i + 3] == ':')) {
            f->dnattrs = true;
            p->i += 3;
        }
        if (p->i + 1 < p->n && s[p->i] == ':' && s[p->i + 1] != '=') {
            size_t k = scan_oid(s + p->i + 1, p->n - p->i - 1);
            if (k == 0) {
                fail(p, p->i + 1, "invalid matching rule (expected a name or an OID)",
                     DIR_ERR_INVALID);
                goto out;
            }
            dir_filter_set_rule(f, s + p->i + 1, k);
            p->i += 1 + k;
        }
        if (p->i + 1 >= p->n || s[p->i] != ':' || s[p->i + 1] != '=') {
            fail(p, p->i, "expected ':=' in an extensible match", DIR_ERR_INVALID);
            goto out;
        }
        if (!alen && !f->rule) {
            fail(p, start, "an extensible match needs an attribute or a matching rule",
                 DIR_ERR_INVALID);
            goto out;
        }
        p->i += 2;
        if (!parse_value(p, buf, &vlen, false))
            goto out;
        dir_filter_set_value(f, buf, vlen);
        ok = true;
        goto out;
    }
    if (!alen) {
        fail(p, p->i, "missing attribute description", DIR_ERR_INVALID);
        goto out;
    }
    if (c == '~' || c == '>' || c == '<') {
        if (p->i + 1 >= p->n || s[p->i + 1] != '=') {
            fail(p, p->i, "expected '=' after '~', '>' or '<'", DIR_ERR_INVALID);
            goto out;
        }
        if (!new_node(p, c == '~' ? DIR_FILTER_APPROX : c == '>' ? DIR_FILTER_GE : DIR_FILTER_LE,
                      &f))
            goto out;
        dir_filter_set_attr(f, s + start, alen);
        p->i += 2;
        if (!parse_value(p, buf, &vlen, false))
            goto out;
        dir_filter_set_value(f, buf, vlen);
        ok = true;
        goto out;
    }
    if (c != '=') {
        fail(p, p->i, "expected a filter type ('=', '~=', '>=', '<=' or ':=')", DIR_ERR_INVALID);
        goto out;
    }
    p->i++;
    /* equal, present or substring: split the value at unescaped '*'. */
    if (p->i + 1 < p->n + 1 && p->i < p->n && s[p->i] == '*' &&
        (p->i + 1 == p->n || s[p->i + 1] == ')')) {
        if (!new_node(p, DIR_FILTER_PRESENT, &f))
            goto out;
        dir_filter_set_attr(f, s + start, alen);
        p->i++;
        ok = true;
        goto out;
    }
    if (!parse_value(p, buf, &vlen, true))
        goto out;
    if (p->i >= p->n || s[p->i] != '*') {
        if (!new_node(p, DIR_FILTER_EQUALITY, &f))
            goto out;
        dir_filter_set_attr(f, s + start, alen);
        dir_filter_set_value(f, buf, vlen);
        ok = true;
        goto out;
    }
    if (!new_node(p, DIR_FILTER_SUBSTRINGS, &f))
        goto out;
    dir_filter_set_attr(f, s + start, alen);
    if (vlen)
        dir_filter_add_piece(f, 0, buf, vlen);
    while (p->i < p->n && s[p->i] == '*') {
        p->i++;
        if (!parse_value(p, buf, &vlen, true))
            goto out;
        bool last = p->i >= p->n || s[p->i] != '*';
        if (vlen)
            dir_filter_add_piece(f, last ? 2 : 1, buf, vlen);
    }
    ok = true;
out:
    free(buf);
    if (!ok) {
        dir_filter_free(f);
        return false;
    }
    *out = f;
    return true;
}

static bool parse_comp(struct parser *p, int depth, struct dir_filter **out)
{
    if (p->i >= p->n)
        return fail(p, p->i, "unexpected end of filter", DIR_ERR_INVALID);
    char c = p->s[p->i];
    if (c == '&' || c == '|' || c == '!') {
        if (depth >= DIR_FILTER_MAX_DEPTH)
            return fail(p, p->i, "filter nested too deeply", DIR_ERR_LIMIT);
        struct dir_filter *f;
        if (!new_node(p, c == '&' ? DIR_FILTER_AND : c == '|' ? DIR_FILTER_OR : DIR_FILTER_NOT,
                      &f))
            return false;
        p->i++;
        if (c == '!') {
            struct dir_filter *k;
            if (p->i >= p->n || p->s[p->i] != '(') {
                dir_filter_free(f);
                return fail(p, p->i, "expected '(' after '!'", DIR_ERR_INVALID);
            }
            if (!parse_filter(p, depth + 1, &k)) {
                dir_filter_free(f);
                return false;
            }
            dir_filter_add_kid(f, k);
        } else {
            while (p->i < p->n && p->s[p->i] == '(') {
                struct dir_filter *k;
                if (!parse_filter(p, depth + 1, &k)) {
                    dir_filter_free(f);
                    return false;
                }
                dir_filter_add_kid(f, k);
            }
        }
        *out = f;
        return true;
    }
    return parse_item(p, out);
}

static bool parse_filter(struct parser *p, int depth, struct dir_filter **out)
{
    if (p->i >= p->n || p->s[p->i] != '(')
        return fail(p, p->i, p->i >= p->n ? "unexpected end of filter" : "expected '('",
                    DIR_ERR_INVALID);
    p->i++;
    if (!parse_comp(p, depth, out))
        return false;
    if (p->i >= p->n || p->s[p->i] != ')') {
        dir_filter_free(*out);
        *out = NULL;
        return fail(p, p->i, p->i >= p->n ? "unexpected end of filter (missing ')')"
                                          : "expected ')'",
                    DIR_ERR_INVALID);
    }
    p->i++;
    return true;
}

enum dir_rc dir_filter_parse(const char *s, size_t n, struct dir_filter **out,
                             struct dir_filter_error *err)
{
    struct parser p = {.s = s, .n = n, .err = err, .rc = DIR_OK};
    struct dir_filter_error dummy;
    if (!err)
        p.err = &dummy;
    p.err->pos = 0;
    p.err->reason = NULL;
    *out = NULL;
    if (n > DIR_FILTER_MAX_LEN) {
        fail(&p, DIR_FILTER_MAX_LEN, "filter too long", DIR_ERR_LIMIT);
        return p.rc;
    }
    if (n == 0) {
        fail(&p, 0, "empty filter", DIR_ERR_INVALID);
        return p.rc;
    }
    struct dir_filter *f = NULL;
    bool ok;
    if (s[0] == '(') {
        ok = parse_filter(&p, 0, &f);
    } else {
        ok = parse_item(&p, &f);
        if (ok && p.i < n && s[p.i] == ')') {
            dir_filter_free(f);
            ok = fail(&p, p.i, "unbalanced ')'", DIR_ERR_INVALID);
        }
    }
    if (ok && p.i != n) {
        dir_filter_free(f);
        ok = fail(&p, p.i, "unexpected characters after the filter", DIR_ERR_INVALID);
    }
    if (!ok)
        return p.rc ? p.rc : DIR_ERR_INVALID;
    *out = f;
    return DIR_OK;
}

/* ---- matching ---- */

static const struct dir_fattr *find_attr(const struct dir_fentry *e, int id)
{
    int lo = 0, hi = e->nattrs;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (e->attrs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->nattrs && e->attrs[lo].id == id ? &e->attrs[lo] : NULL;
}

/* The first occurrence of the NN bytes at NEEDLE (NN >= 1) in the N bytes at HAY, or NULL.
 * Values are short (names, e-mail addresses): checking the last and first bytes before
 * comparing the rest beats memmem's set-up; long values go to memmem. */
static const char *find_piece(const char *hay, size_t n, const char *needle, size_t nn)
{
    if (nn > n)
        return NULL;
    if (n > 256)
        return memmem(hay, n, needle, nn);
    char first = needle[0], last = needle[nn - 1];
    for (size_t i = 0; i + nn <= n; i++)
        if (hay[i + nn - 1] == last && hay[i] == first &&
            (nn <= 2 || memcmp(hay + i + 1, needle + 1, nn - 2) == 0))
            return hay + i;
    return NULL;
}

static bool substr_match(const struct dir_filter *f, const char *v, size_t n)
{
    size_t pos = 0;
    if (f->initial) {
        if (f->initial->nn > n || memcmp(v, f->initial->norm, f->initial->nn) != 0)
            return false;
        pos = f->initial->nn;
    }
    for (int i = 0; i < f->nany; i++) {
        const struct dir_fpiece *a = &f->any[i];
        if (a->nn == 0)
            continue;
        const char *hit = find_piece(v + pos, n - pos, a->norm, a->nn);
        if (!hit)
            return false;
        pos = (size_t)(hit - v) + a->nn;
    }
    if (f->final) {
        if (f->final->nn > n - pos || memcmp(v + n - f->final->nn, f->final->norm, f->final->nn))
            return false;
    }
    return true;
}

/* Compares one value under F's kind; NORM/NN are the value normalised for F->match. */
static bool value_match(const struct dir_filter *f, const char *norm, size_t nn)
{
    switch (f->kind) {
    case DIR_FILTER_EQUALITY:
    case DIR_FILTER_APPROX:
    case DIR_FILTER_EXTENSIBLE:
        return nn == f->value.nn && memcmp(norm, f->value.norm, nn) == 0;
    case DIR_FILTER_GE:
    case DIR_FILTER_LE: {
        size_t k = nn < f->value.nn ? nn : f->value.nn;
        int c = memcmp(norm, f->value.norm, k);
        if (c == 0)
            c = nn < f->value.nn ? -1 : nn > f->value.nn ? 1 : 0;
        return f->kind == DIR_FILTER_GE ? c >= 0 : c <= 0;
    }
    case DIR_FILTER_SUBSTRINGS:
        return substr_match(f, norm, nn);
    default:
        return false;
    }
}

static bool attr_match(const struct dir_filter *f, const struct dir_fattr *a, bool see_private)
{
    char small[512];
    for (int i = 0; i < a->nvals; i++) {
        const struct dir_fval *v = &a->vals[i];
        if (v->priv && !see_private)
            continue;
        if (a->match == f->match) {
            if (value_match(f, v->norm, v->nlen))
                return true;
            continue;
        }
        char *buf = v->len < sizeof small ? small : dir_xmalloc(v->len + 1);
        size_t nn = dir_filter_normalize(f->match, v->val, v->len, buf);
        bool hit = value_match(f, buf, nn);
        if (buf != small)
            free(buf);
        if (hit)
            return true;
    }
    return false;
}

/* dnAttributes: the AVAs of the entry's normalised DN ("type=value,type=value"). */
static bool dn_match(const struct dir_filter *f, const char *ndn)
{
    if (!ndn)
        return false;
    const char *p = ndn;
    while (*p) {
        const char *end = p;
        while (*end && *end != ',') {
            if (*end == '\\' && end[1])
                end++;
            end++;
        }
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq) {
            size_t tl = (size_t)(eq - p);
            bool type_ok = !f->attr || (strlen(f->attr) == tl && strncasecmp(f->attr, p, tl) == 0);
            if (type_ok) {
                size_t vl = (size_t)(end - eq - 1);
                char *buf = dir_xmalloc(vl + 1);
                size_t nn = dir_filter_normalize(f->match, eq + 1, vl, buf);
                bool hit = value_match(f, buf, nn);
                free(buf);
                if (hit)
                    return true;
            }
        }
        p = *end ? end + 1 : end;
    }
    return false;
}

enum dir_tri dir_filter_match(const struct dir_filter *f, const struct dir_fentry *e)
{
    switch (f->kind) {
    case DIR_FILTER_AND: {
        enum dir_tri r = DIR_TRUE;
        for (int i = 0; i < f->nkids; i++) {
            enum dir_tri k = dir_filter_match(f->kids[i], e);
            if (k == DIR_FALSE)
                return DIR_FALSE;
            if (k == DIR_UNDEFINED)
                r = DIR_UNDEFINED;
        }
        return r;
    }
    case DIR_FILTER_OR: {
        enum dir_tri r = DIR_FALSE;
        for (int i = 0; i < f->nkids; i++) {
            enum dir_tri k = dir_filter_match(f->kids[i], e);
            if (k == DIR_TRUE)
                return DIR_TRUE;
            if (k == DIR_UNDEFINED)
                r = DIR_UNDEFINED;
        }
        return r;
    }
    case DIR_FILTER_NOT: {
        if (f->nkids != 1)
            return DIR_UNDEFINED;
        enum dir_tri k = dir_filter_match(f->kids[0], e);
        return k == DIR_UNDEFINED ? k : k == DIR_TRUE ? DIR_FALSE : DIR_TRUE;
    }
    case DIR_FILTER_PRESENT: {
        const struct dir_fattr *a = f->attr_id >= 0 ? find_attr(e, f->attr_id) : NULL;
        if (!a)
            return DIR_FALSE;
        for (int i = 0; i < a->nvals; i++)
            if (!a->vals[i].priv || e->see_private)
                return DIR_TRUE;
        return DIR_FALSE;
    }
    case DIR_FILTER_EXTENSIBLE: {
        if (f->rule_unknown || (f->attr && f->attr_id < 0))
            return DIR_UNDEFINED;
        if (f->attr) {
            const struct dir_fattr *a = find_attr(e, f->attr_id);
            if (a && attr_match(f, a, e->see_private))
                return DIR_TRUE;
        } else {
            for (int i = 0; i < e->nattrs; i++)
                if (attr_match(f, &e->attrs[i], e->see_private))
                    return DIR_TRUE;
        }
        if (f->dnattrs && dn_match(f, e->ndn))
            return DIR_TRUE;
        return DIR_FALSE;
    }
    default: {
        if (f->attr_id < 0)
            return DIR_UNDEFINED;
        const struct dir_fattr *a = find_attr(e, f->attr_id);
        return a && attr_match(f, a, e->see_private) ? DIR_TRUE : DIR_FALSE;
    }
    }
}

/* ---- back to a string ---- */

static enum dir_rc add_value(struct dir_buf *b, const char *s, size_t n)
{
    bool utf8 = dir_text_utf8_valid(s, n);
    enum dir_rc rc = DIR_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0 || c < 0x20 || c == 0x7f ||
            (c >= 0x80 && !utf8))
            rc = dir_buf_printf(b, "\\%02x", c);
        else
            rc = dir_buf_add(b, &s[i], 1);
    }
    return rc;
}

enum dir_rc dir_filter_to_string(const struct dir_filter *f, struct dir_buf *b)
{
    enum dir_rc rc = dir_buf_adds(b, "(");
    switch (f->kind) {
    case DIR_FILTER_AND:
    case DIR_FILTER_OR:
    case DIR_FILTER_NOT:
        if (!rc)
            rc = dir_buf_adds(b, f->kind == DIR_FILTER_AND ? "&" : f->kind == DIR_FILTER_OR ? "|" : "!");
        for (int i = 0; i < f->nkids && !rc; i++)
            rc = dir_filter_to_string(f->kids[i], b);
        break;
    case DIR_FILTER_PRESENT:
        if (!rc)
            rc = dir_buf_printf(b, "%s=*", f->attr);
        break;
    case DIR_FILTER_SUBSTRINGS:
        if (!rc)
            rc = dir_buf_printf(b, "%s=", f->attr);
        if (!rc && f->initial)
            rc = add_value(b, f->initial->s, f->initial->n);
        if (!rc)
            rc = dir_buf_adds(b, "*");
        for (int i = 0; i < f->nany && !rc; i++) {
            rc = add_value(b, f->any[i].s, f->any[i].n);
            if (!rc)
                rc = dir_buf_adds(b, "*");
        }
        if (!rc && f->final)
            rc = add_value(b, f->final->s, f->final->n);
        break;
    case DIR_FILTER_EXTENSIBLE:
        if (!rc && f->attr)
            rc = dir_buf_adds(b, f->attr);
        if (!rc && f->dnattrs)
            rc = dir_buf_adds(b, ":dn");
        if (!rc && f->rule)
            rc = dir_buf_printf(b, ":%s", f->rule);
        if (!rc)
            rc = dir_buf_adds(b, ":=");
        if (!rc)
            rc = add_value(b, f->value.s, f->value.n);
        break;
    default: {
        const char *op = f->kind == DIR_FILTER_EQUALITY ? "="
                         : f->kind == DIR_FILTER_APPROX ? "~="
                         : f->kind == DIR_FILTER_GE     ? ">="
                                                        : "<=";
        if (!rc)
            rc = dir_buf_printf(b, "%s%s", f->attr, op);
        if (!rc)
            rc = add_value(b, f->value.s, f->value.n);
    }
    }
    if (!rc)
        rc = dir_buf_adds(b, ")");
    return rc;
}
