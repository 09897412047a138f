/* dir_csv.c - CSV files from spreadsheets (see dir_csv.h).
 *
 * The grammar read (RFC 4180 section 2, with the delimiter and line ends widened to what
 * Excel and LibreOffice write; ABNF as in the RFC):
 *
 *   file        = record *(eol record) [eol]
 *   record      = field *(DELIM field)
 *   field       = escaped / non-escaped
 *   escaped     = DQUOTE *(textdata / DELIM / CR / LF / 2DQUOTE) DQUOTE
 *   non-escaped = *textdata
 *   eol         = CRLF / LF / CR
 *   DELIM       = "," / ";" / HTAB        ; one of them per file
 *   textdata    = any UTF-8 character except DQUOTE, DELIM, CR and LF
 *
 * Anything else is an error with its line: a DQUOTE inside a non-escaped field, text between
 * an escaped field's closing DQUOTE and the next DELIM or eol, an escaped field still open at
 * the end of the file. Records whose fields are all empty (blank lines, ",,,") are skipped.
 */
#include "dir_csv.h"
#include "dir_buf.h"
#include "dir_mem.h"
#include "dir_text.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void fail(struct dir_csv_error *e, int line, const char *th, const char *en)
{
    e->line = line;
    e->th = th;
    e->en = en;
}

bool dir_csv_enc_parse(const char *name, enum dir_csv_enc *out)
{
    static const struct {
        const char *name;
        enum dir_csv_enc enc;
    } names[] = {{"", DIR_CSV_ENC_AUTO},
                 {"auto", DIR_CSV_ENC_AUTO},
                 {"utf-8", DIR_CSV_ENC_UTF8},
                 {"utf8", DIR_CSV_ENC_UTF8},
                 {"windows-874", DIR_CSV_ENC_CP874},
                 {"cp874", DIR_CSV_ENC_CP874},
                 {"tis-620", DIR_CSV_ENC_CP874},
                 {"tis620", DIR_CSV_ENC_CP874}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name ? name : "", names[i].name) == 0) {
            *out = names[i].enc;
            return true;
        }
    return false;
}

/* The line (1-based) of byte OFF of S. */
static int line_of(const char *s, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++)
        if (s[i] == '\n' || (s[i] == '\r' && s[i + 1] != '\n')) line++;
    return line;
}

/* Offset of the first byte of S[0..N) that is not valid UTF-8, or N. */
static size_t utf8_bad(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (i + k >= n) return i;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (p[i + j] & 0x3F);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += k + 1;
    }
    return n;
}

char *dir_csv_to_utf8(const char *s, size_t n, enum dir_csv_enc enc, enum dir_csv_enc *used,
                      size_t *out_len, struct dir_csv_error *e)
{
    if (n >= 2 && (((unsigned char)s[0] == 0xFF && (unsigned char)s[1] == 0xFE) ||
                   ((unsigned char)s[0] == 0xFE && (unsigned char)s[1] == 0xFF))) {
        fail(e, 1, "ไฟล์เป็น UTF-16: บันทึกใหม่เป็น CSV UTF-8",
             "the file is UTF-16: save it again as CSV UTF-8");
        return NULL;
    }
    const char *nul = memchr(s, '\0', n);
    if (nul) {
        fail(e, line_of(s, (size_t)(nul - s)), "ไฟล์มีไบต์ศูนย์ (NUL): ไม่ใช่ไฟล์ข้อความ CSV",
             "the file holds a NUL byte: it is not a CSV text file");
        return NULL;
    }
    bool bom = n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0;
    if (bom && enc == DIR_CSV_ENC_AUTO) enc = DIR_CSV_ENC_UTF8;
    size_t bad = bom ? 3 + utf8_bad(s + 3, n - 3) : utf8_bad(s, n);
    if (enc == DIR_CSV_ENC_AUTO) enc = bad == n ? DIR_CSV_ENC_UTF8 : DIR_CSV_ENC_CP874;
    *used = enc;
    if (enc == DIR_CSV_ENC_UTF8) {
        if (bad != n) {
            fail(e, line_of(s, bad),
                 "ไม่ใช่ UTF-8: ระบุการเข้ารหัส (เช่น windows-874) หรือบันทึกเป็น CSV UTF-8",
                 "not UTF-8: give the encoding (e.g. windows-874) or save the file as CSV UTF-8");
            return NULL;
        }
        size_t skip = bom ? 3 : 0;
        char *out = dir_xmalloc(n - skip + 1);
        memcpy(out, s + skip, n - skip);
        out[n - skip] = '\0';
        *out_len = n - skip;
        return out;
    }
    /* Windows-874: every byte is one character (a superset of TIS-620); at most 3 bytes of
     * UTF-8 each. Bytes it leaves undefined are an error at their line. */
    iconv_t cd = iconv_open("UTF-8", "CP874");
    if (cd == (iconv_t)-1) {
        fail(e, 1, "ระบบไม่รองรับ Windows-874", "this system cannot read Windows-874");
        return NULL;
    }
    size_t cap = n * 3 + 1;
    char *out = dir_xmalloc(cap);
    char *in = (char *)s, *o = out;
    size_t inleft = n, outleft = cap - 1;
    if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1) {
        fail(e, line_of(s, (size_t)(in - s)), "มีไบต์ที่ไม่ใช่ตัวอักษรใน Windows-874: ตรวจการเข้ารหัสของไฟล์",
             "a byte that is no character in Windows-874: check the file's encoding");
        iconv_close(cd);
        free(out);
        return NULL;
    }
    iconv_close(cd);
    *o = '\0';
    *out_len = (size_t)(o - out);
    return out;
}

char dir_csv_sniff(const char *s, size_t n)
{
    static const char cand[] = {',', ';', '\t'};
    int count[3] = {0, 0, 0};
    bool q = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            q = !q;
        else if (!q && (s[i] == '\n' || s[i] == '\r'))
            break;
        else if (!q)
            for (int k = 0; k < 3; k++)
                if (s[i] == cand[k]) count[k]++;
    }
    int best = 0;
    for (int k = 1; k < 3; k++)
        if (count[k] > count[best]) best = k;
    return cand[best];
}

struct rec {
    char **fields;
    int n;
    struct dir_buf cur;
};

static void rec_clear(struct rec *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->fields[i]);
    r->n = 0;
}

/* Ends the current field; false past the field limit. */
static bool end_field(struct rec *r)
{
    if (r->n >= DIR_CSV_MAX_FIELDS) return false;
    size_t len;
    char *f = dir_buf_take(&r->cur, &len);
    r->fields[r->n++] = f ? f : dir_xstrdup("");
    dir_buf_init(&r->cur, DIR_CSV_MAX_FIELD);
    return true;
}

/* Hands a complete record to FN (unless every field is empty); false when FN stops. */
static bool emit(struct rec *r, int line, dir_csv_record_fn fn, void *arg)
{
    bool empty = true;
    for (int i = 0; i < r->n && empty; i++)
        empty = r->fields[i][0] == '\0';
    bool go = empty || fn(arg, line, r->fields, r->n);
    rec_clear(r);
    return go;
}

bool dir_csv_parse(const char *s, size_t n, char delim, dir_csv_record_fn fn, void *arg,
                   struct dir_csv_error *e)
{
    struct rec r = {.fields = dir_xcalloc(DIR_CSV_MAX_FIELDS, sizeof(char *))};
    dir_buf_init(&r.cur, DIR_CSV_MAX_FIELD);
    int line = 1, start = 1;
    bool ok = true, stopped = false;
    size_t i = 0;
    while (i <= n && ok && !stopped) {
        /* At the start of a field. */
        if (i < n && s[i] == '"') {
            int qline = line;
            i++;
            for (;;) {
                if (i >= n) {
                    fail(e, qline, "เครื่องหมายคำพูด (\") เปิดแล้วไม่ได้ปิด",
                         "a quoted field (\") is never closed");
                    ok = false;
                    break;
                }
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') {
                        ok = dir_buf_add(&r.cur, "\"", 1) == DIR_OK;
                        i += 2;
                        if (!ok) {
                            fail(e, line, "ช่องยาวเกินไป", "a field is too long");
                            break;
                        }
                        continue;
                    }
                    i++;
                    break;
                }
                if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n'))) line++;
                if (dir_buf_add(&r.cur, s + i, 1)) {
                    fail(e, line, "ช่องยาวเกินไป", "a field is too long");
                    ok = false;
                    break;
                }
                i++;
            }
            if (!ok) break;
            if (i < n && s[i] != delim && s[i] != '\n' && s[i] != '\r') {
                fail(e, line, "มีข้อความต่อท้ายเครื่องหมายคำพูดปิด (\")",
                     "text after a closing quote (\")");
                ok = false;
                break;
            }
        } else {
            while (i < n && s[i] != delim && s[i] != '\n' && s[i] != '\r') {
                if (s[i] == '"') {
                    fail(e, line, "เครื่องหมายคำพูด (\") กลางช่องที่ไม่ได้อยู่ในเครื่องหมายคำพูด",
                         "a quote (\") inside a field that is not quoted");
                    ok = false;
                    break;
                }
                size_t run = 1;
                while (i + run < n && s[i + run] != delim && s[i + run] != '\n' &&
                       s[i + run] != '\r' && s[i + run] != '"')
                    run++;
                if (dir_buf_add(&r.cur, s + i, run)) {
                    fail(e, line, "ช่องยาวเกินไป", "a field is too long");
                    ok = false;
                    break;
                }
                i += run;
            }
            if (!ok) break;
        }
        if (!end_field(&r)) {
            fail(e, line, "แถวมีช่องมากเกินไป", "a record has too many fields");
            ok = false;
            break;
        }
        if (i < n && s[i] == delim) {
            i++;
            continue;
        }
        /* The end of a record: eol or the end of the text. */
        if (i < n && s[i] == '\r') i++;
        if (i < n && s[i] == '\n') i++;
        if (!emit(&r, start, fn, arg)) stopped = true;
        line++;
        start = line;
        if (i >= n) break;
    }
    rec_clear(&r);
    free(r.fields);
    dir_buf_free(&r.cur);
    return ok;
}

/* A value a spreadsheet would run as a formula. */
static bool formula_like(const char *v)
{
    return v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r';
}

void dir_csv_put(struct dir_buf *b, const char *value, bool neutralise)
{
    const char *v = value ? value : "";
    bool lead = neutralise && formula_like(v);
    size_t len = strlen(v);
    bool quote =
        lead || strpbrk(v, "\",\r\n;\t") != NULL || (len && (v[0] == ' ' || v[len - 1] == ' '));
    if (!quote) {
        dir_buf_add(b, v, len);
        return;
    }
    dir_buf_add(b, "\"", 1);
    if (lead) dir_buf_add(b, "'", 1);
    for (const char *p = v; *p; p++) {
        if (*p == '"') dir_buf_add(b, "\"", 1);
        dir_buf_add(b, p, 1);
    }
    dir_buf_add(b, "\"", 1);
}
