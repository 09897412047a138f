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
bool dir_text_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + n;
    while (s < end) {
        unsigned c = *s;
        size_t need;
        unsigned lo = 0x80, hi = 0xBF;
        if (c == 0)
            return false;
        if (c < 0x80) {
            s++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
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
            return false;
        }
        if ((size_t)(end - s) < need + 1)
            return false;
        if (s[1] < lo || s[1] > hi)
            return false;
        for (size_t i = 2; i <= need; i++)
            if (s[i] < 0x80 || s[i] > 0xBF)
                return false;
        s += need + 1;
    }
    return true;
}

size_t dir_text_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

size_t dir_text_fold(const char *s, char *out)
{
    size_t n = 0;
    bool space = true; /* drops leading white space */
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (!space)
                out[n++] = ' ';
            space = true;
            continue;
        }
        space = false;
        out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    if (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    return n;
}

char *dir_text_fold_dup(const char *s)
{
    if (!s)
        return NULL;
    char *out = dir_xmalloc(strlen(s) + 1);
    dir_text_fold(s, out);
    return out;
}

bool dir_text_contains(const char *haystack, const char *needle)
{
    return haystack && strstr(haystack, needle) != NULL;
}
