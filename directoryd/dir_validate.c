/* dir_validate.c - validators and normal forms for phones, e-mail, LINE IDs, points, text. */
#include "dir_validate.h"
#include "dir_text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY(th, en)                                                                                \
    do {                                                                                           \
        *why_th = th;                                                                              \
        *why_en = en;                                                                              \
        return false;                                                                              \
    } while (0)

bool dir_validate_phone(const char *in, const char *kind, char *norm, size_t n, const char **why_th,
                        const char **why_en)
{
    char d[32];
    size_t k = 0;
    const char *p = in;
    if (strncmp(p, "+66", 3) == 0) {
        d[k++] = '0';
        p += 3;
    }
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (k + 1 >= sizeof d)
                WHY("หมายเลขยาวเกินไป", "too many digits");
            d[k++] = *p;
        } else if (*p != ' ' && *p != '-' && *p != '.') {
            WHY("หมายเลขโทรศัพท์มีได้เฉพาะตัวเลข ช่องว่าง และขีด",
                "a phone number has only digits, spaces and hyphens");
        }
    }
    d[k] = '\0';
    if (strcmp(kind, "mobile") == 0) {
        if (k != 10 || d[0] != '0' || (d[1] != '6' && d[1] != '8' && d[1] != '9'))
            WHY("เบอร์มือถือต้องขึ้นต้นด้วย 06 08 หรือ 09 และมี 10 หลัก",
                "a mobile number starts with 06, 08 or 09 and has 10 digits");
        snprintf(norm, n, "%.3s-%.3s-%.4s", d, d + 3, d + 6);
        return true;
    }
    if (k == 4 && d[0] == '1') {
        snprintf(norm, n, "%s", d);
        return true;
    }
    if (k != 9 || d[0] != '0' || d[1] < '2' || d[1] > '7')
        WHY("เบอร์โทรศัพท์พื้นฐานต้องขึ้นต้นด้วย 02-07 และมี 9 หลัก (เช่น 02-123-4567)",
            "a landline starts with 02 to 07 and has 9 digits (e.g. 02-123-4567)");
    if (d[1] == '2')
        snprintf(norm, n, "%.2s-%.3s-%.4s", d, d + 2, d + 5);
    else
        snprintf(norm, n, "%.3s-%.3s-%.3s", d, d + 3, d + 6);
    return true;
}

bool dir_validate_extension(const char *in, const char **why_th, const char **why_en)
{
    int run = 0;
    for (const char *p = in;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++run > 6)
                break;
        } else if ((*p == ',' || *p == '\0') && run > 0) {
            if (!*p)
                return true;
            run = 0;
        } else {
            break;
        }
    }
    WHY("เบอร์ต่อเป็นตัวเลขไม่เกิน 6 หลัก คั่นหลายเบอร์ด้วยจุลภาค",
        "an extension is up to 6 digits; separate several with commas");
}

bool dir_validate_email(const char *in, char *norm, size_t n, const char **why_th,
                        const char **why_en)
{
    size_t len = strlen(in);
    const char *at = strchr(in, '@');
    if (len > 254 || !at || at == in || strchr(at + 1, '@') || at - in > 64)
        WHY("อีเมลไม่ถูกต้อง", "not an e-mail address (name@domain)");
    for (const char *p = in; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '(' || *p == ')' || *p == ',' || *p == ';' ||
            *p == '<' || *p == '>' || *p == '"' || *p == '\\' || (unsigned char)*p >= 0x80)
            WHY("อีเมลไม่ถูกต้อง", "not an e-mail address (name@domain)");
    const char *dom = at + 1, *dot = strrchr(dom, '.');
    if (!dot || dot == dom || !dot[1] || strlen(dot + 1) < 2 || strstr(dom, "..") ||
        dom[0] == '-' || dom[0] == '.')
        WHY("อีเมลต้องมีโดเมนที่ถูกต้อง", "the e-mail address needs a valid domain");
    if (len + 1 > n)
        WHY("อีเมลยาวเกินไป", "e-mail address too long");
    memcpy(norm, in, len + 1);
    for (char *p = norm + (at - in); *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return true;
}

bool dir_validate_line(const char *in, char *norm, size_t n, const char **why_th,
                       const char **why_en)
{
    const char *p = in[0] == '@' ? in + 1 : in;
    size_t len = strlen(p);
    if (len < 4 || len > 20 || len + 2 > n)
        WHY("LINE ID ยาว 4-20 ตัวอักษร", "a LINE ID has 4 to 20 characters");
    size_t k = 0;
    if (in[0] == '@')
        norm[k++] = '@';
    for (; *p; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            WHY("LINE ID มีได้เฉพาะ a-z 0-9 . _ -",
                "a LINE ID has only letters a-z, digits and . _ -");
        norm[k++] = c;
    }
    norm[k] = '\0';
    return true;
}

bool dir_validate_url(const char *in, const char **why_th, const char **why_en)
{
    const char *host = strncmp(in, "https://", 8) == 0  ? in + 8
                       : strncmp(in, "http://", 7) == 0 ? in + 7
                                                        : NULL;
    if (!host || !*host || *host == '/' || strlen(in) > 500)
        WHY("เว็บไซต์ต้องขึ้นต้นด้วย http:// หรือ https://", "a web address starts with http:// or https://");
    for (const char *p = in; *p; p++)
        if ((unsigned char)*p <= ' ')
            WHY("เว็บไซต์มีช่องว่างไม่ได้", "a web address has no spaces");
    return true;
}

bool dir_validate_point(double lat, double lon, const char **why_th, const char **why_en)
{
    if (lat < 5.6 || lat > 20.5 || lon < 97.3 || lon > 105.7)
        WHY("พิกัดต้องอยู่ในประเทศไทย", "the point must be inside Thailand");
    return true;
}

bool dir_validate_text(const char *in, size_t min, size_t max, bool single_line,
                       const char **why_th, const char **why_en)
{
    size_t len = strlen(in);
    if (!dir_text_utf8_valid(in, len))
        WHY("ข้อความต้องเป็น UTF-8", "text must be UTF-8");
    for (const char *p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 && !(!single_line && (c == '\n' || c == '\t' || c == '\r')))
            WHY("มีอักขระควบคุมที่ใช้ไม่ได้", "contains control characters");
    }
    size_t cps = dir_text_utf8_len(in);
    if (cps < min) {
        if (min == 1)
            WHY("ต้องระบุ", "required");
        WHY("สั้นเกินไป", "too short");
    }
    if (cps > max)
        WHY("ยาวเกินไป", "too long");
    return true;
}

bool dir_validate_if_match(const char *h, int *version)
{
    if (!h)
        return false;
    while (*h == ' ')
        h++;
    if (strncmp(h, "W/", 2) == 0)
        h += 2;
    bool q = *h == '"';
    if (q)
        h++;
    char *end;
    long v = strtol(h, &end, 10);
    if (end == h || v < 1 || v > 2000000000)
        return false;
    if (q && *end++ != '"')
        return false;
    while (*end == ' ')
        end++;
    if (*end)
        return false;
    *version = (int)v;
    return true;
}
