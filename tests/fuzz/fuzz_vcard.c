/* fuzz_vcard.c - fuzz target: what the vCard and LDIF renderings take from outside.
 *
 * The first byte chooses; the rest is the input:
 *   even: an Accept header for dir_vcard_wanted (any bytes up to a NUL), which must answer
 *         the same twice (no state) and never read past the string;
 *   odd:  a value (valid UTF-8 or not, as stored text could be after a bug elsewhere) written
 *         as a vCard TEXT property (dir_vcard_escape + dir_vcard_fold) and as an LDIF line
 *         (dir_ldif_line). Checked, abort() otherwise: every vCard physical line ends in CRLF,
 *         holds at most 75 octets and no bare CR or LF; when the value is valid UTF-8 every
 *         physical line is valid UTF-8 on its own (no fold inside a character); unfolding
 *         gives back the escaped text; the LDIF line is ASCII, each physical line at most 76
 *         columns, and its base64 decodes to the value.
 * Linked with libFuzzer (-DDIRECTORYD_FUZZ=ON) or with replay_main.c (ctest replays
 * tests/fuzz/corpus/vcard and tests/fuzz/regress/vcard).
 */
#include "dir_ldif.h"
#include "dir_text.h"
#include "dir_vcard.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IN 4096

static void check_vcard(const char *s)
{
    struct dir_buf esc, out;
    dir_buf_init(&esc, 1 << 20);
    dir_buf_init(&out, 1 << 20);
    if (dir_buf_adds(&esc, "NOTE:") || dir_vcard_escape(&esc, s)) abort();
    if (dir_vcard_fold(&out, esc.data, esc.len)) abort();
    bool utf8 = dir_text_utf8_valid(esc.data, esc.len);
    char *un = malloc(out.len + 1);
    size_t n = 0;
    const char *p = out.data, *end = out.data + out.len;
    bool first = true;
    while (p < end) {
        const char *cr = memchr(p, '\r', (size_t)(end - p));
        if (!cr || cr + 1 >= end || cr[1] != '\n') abort();
        size_t len = (size_t)(cr - p);
        if (len > 75 || memchr(p, '\n', len) || (utf8 && !dir_text_utf8_valid(p, len))) abort();
        if (!first) {
            if (len < 2 || *p != ' ') abort();
            memcpy(un + n, p + 1, len - 1);
            n += len - 1;
        } else {
            memcpy(un + n, p, len);
            n += len;
        }
        first = false;
        p = cr + 2;
    }
    if (n != esc.len || memcmp(un, esc.data, n) != 0) abort();
    free(un);
    dir_buf_free(&esc);
    dir_buf_free(&out);
}

static void check_ldif(const char *v, size_t len)
{
    struct dir_buf b;
    dir_buf_init(&b, 1 << 20);
    if (dir_ldif_line(&b, "description", v, len)) abort();
    char *un = malloc(b.len + 1);
    size_t n = 0;
    for (const char *p = b.data, *nl; p < b.data + b.len; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(b.data + b.len - p));
        if (!nl || nl - p > 76) abort();
        const char *s = p == b.data ? p : p + 1;
        if (p != b.data && *p != ' ') abort();
        memcpy(un + n, s, (size_t)(nl - s));
        n += (size_t)(nl - s);
    }
    un[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)un[i] > 127) abort();
    if (strncmp(un, "description:: ", 14) == 0) {
        unsigned char *dec = malloc(n + 1);
        size_t dlen = 0;
        if (sodium_base642bin(dec, n, un + 14, n - 14, NULL, &dlen, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            dlen != len || memcmp(dec, v, len) != 0)
            abort();
        free(dec);
    } else if (strncmp(un, "description: ", 13) != 0 || n - 13 != len ||
               memcmp(un + 13, v, len) != 0) {
        abort();
    }
    free(un);
    dir_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_IN) return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if ((data[0] & 1) == 0) {
        bool a = dir_vcard_wanted(s), b = dir_vcard_wanted(s);
        if (a != b) abort();
    } else {
        check_vcard(s);
        check_ldif(s, strlen(s));
    }
    free(s);
    return 0;
}
