/* dir_text.c - UTF-8 validation (RFC 3629) and search folding. */
#include "dir_text.h"
#include "dir_mem.h"

#include <string.h>

/*
 * UTF8-octets = *( UTF8-char )                                  (RFC 3629, section 4)
 * UTF8-char   = UTF8-1 / UTF8-2 / UTF8-3 / UTF8-4
 * UTF8-1      = %x00-7F
 * UTF8-2      = %xC2-DF UTF8-tail
 * UTF8-3      = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
 *               %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
 * UTF8-4      = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
 *               %xF4 %x80-8F 2( UTF8-tail )
 * UTF8-tail   = %x80-BF
 * We also refuse NUL, which no text field may hold.
 */

/* The length of the well-formed UTF-8 character at S (AVAIL bytes there), or 0 when the
 * bytes there are not one (a stray or truncated sequence, an overlong form, a surrogate, NUL). */
static size_t utf8_char_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c == 0) return 0;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < need + 1 || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i <= need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return need + 1;
}

bool dir_text_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + n;
    while (s < end) {
        size_t k = utf8_char_len(s, (size_t)(end - s));
        if (!k) return false;
        s += k;
    }
    return true;
}

size_t dir_text_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

size_t dir_text_fold(const char *s, char *out)
{
    size_t n = 0;
    bool space = true; /* drops leading white space */
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (!space) out[n++] = ' ';
            space = true;
            continue;
        }
        space = false;
        out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    if (n > 0 && out[n - 1] == ' ') n--;
    out[n] = '\0';
    return n;
}

char *dir_text_fold_dup(const char *s)
{
    if (!s) return NULL;
    char *out = dir_xmalloc(strlen(s) + 1);
    dir_text_fold(s, out);
    return out;
}

bool dir_text_contains(const char *haystack, const char *needle)
{
    return haystack && strstr(haystack, needle) != NULL;
}

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */
#define ELLIPSIS "\xE2\x80\xA6"    /* U+2026 */

size_t dir_text_utf8_clean(const char *str, size_t n, size_t max, char *out)
{
    const unsigned char *s = (const unsigned char *)str;
    /* The whole cleaned length first: when it fits, nothing is cut. */
    size_t whole = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_char_len(s + i, n - i);
        whole += len ? len : 3;
        i += len ? len : 1;
    }
    size_t limit = whole <= max ? max : (max >= 3 ? max - 3 : 0), o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_char_len(s + i, n - i);
        size_t plen = len ? len : 3;
        if (o + plen > limit) break;
        memcpy(out + o, len ? str + i : REPLACEMENT, plen);
        o += plen;
        i += len ? len : 1;
    }
    if (whole > max && max >= 3) {
        memcpy(out + o, ELLIPSIS, 3);
        o += 3;
    }
    out[o] = '\0';
    return o;
}

char *dir_text_utf8_clean_dup(const char *s, size_t max)
{
    size_t n = strlen(s), cap = n * 3 < max ? n * 3 : max;
    char *out = dir_xmalloc(cap + 1);
    dir_text_utf8_clean(s, n, cap, out);
    return out;
}

/* The lower-case form of code point C for the cased scripts usernames use: ASCII, Latin-1,
 * Latin Extended-A, Greek, Cyrillic and the full-width Latin letters (Thai has no case). */
static unsigned lower_cp(unsigned c)
{
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c < 0xC0) return c;
    if ((c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3AB && c != 0x3A2) ||
        (c >= 0x410 && c <= 0x42F) || (c >= 0xFF21 && c <= 0xFF3A))
        return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    if (c == 0x130) return 'i';
    if (c == 0x178) return 0xFF;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177) || (c >= 0x460 && c <= 0x481) ||
        (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F))
        return c | 1; /* pairs: upper even, lower odd */
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E) || (c >= 0x4C1 && c <= 0x4CE))
        return (c & 1) ? c + 1 : c; /* pairs: upper odd, lower even */
    return c;
}

char *dir_text_casefold_dup(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    char *out = dir_xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_char_len(s + i, n - i);
        if (len == 0) { /* not UTF-8: the byte as it is */
            *o++ = (char)s[i++];
            continue;
        }
        unsigned c = len == 1   ? s[i]
                     : len == 2 ? (s[i] & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu)
                     : len == 3
                         ? (s[i] & 0x0Fu) << 12 | (s[i + 1] & 0x3Fu) << 6 | (s[i + 2] & 0x3Fu)
                         : (s[i] & 0x07u) << 18 | (s[i + 1] & 0x3Fu) << 12 |
                               (s[i + 2] & 0x3Fu) << 6 | (s[i + 3] & 0x3Fu);
        unsigned l = lower_cp(c);
        /* Every mapping keeps the encoded length except U+0130 -> 'i' and U+0178 -> U+00FF,
         * which only shorten it: OUT never outgrows S. */
        if (l < 0x80) {
            *o++ = (char)l;
        } else if (l < 0x800) {
            *o++ = (char)(0xC0 | l >> 6);
            *o++ = (char)(0x80 | (l & 0x3F));
        } else if (l < 0x10000) {
            *o++ = (char)(0xE0 | l >> 12);
            *o++ = (char)(0x80 | ((l >> 6) & 0x3F));
            *o++ = (char)(0x80 | (l & 0x3F));
        } else {
            *o++ = (char)(0xF0 | l >> 18);
            *o++ = (char)(0x80 | ((l >> 12) & 0x3F));
            *o++ = (char)(0x80 | ((l >> 6) & 0x3F));
            *o++ = (char)(0x80 | (l & 0x3F));
        }
        i += len;
    }
    *o = '\0';
    return out;
}
