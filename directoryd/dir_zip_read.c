/* dir_zip_read.c - a small ZIP archive reader (see dir_zip.h; layout from PKWARE's APPNOTE.TXT
 * 4.3): the central directory is read from the end-of-central-directory record, every member
 * is found through it, stored (method 0) or deflated (method 8, through zlib) into memory.
 * Every offset and length is checked against the archive's bytes before it is used; the
 * declared sizes are checked against the caller's limits before anything is allocated, and
 * inflating stops at the declared size (a zip bomb or a lying header is an error, not a
 * large allocation). */
#include "dir_zip.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define EOCD_SIG 0x06054b50u
#define CEN_SIG 0x02014b50u
#define LOC_SIG 0x04034b50u
#define EOCD_LEN 22
#define CEN_LEN 46
#define LOC_LEN 30

static unsigned rd16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void dir_zip_files_free(struct dir_zip_file *f, int n)
{
    for (int i = 0; f && i < n; i++) {
        free(f[i].name);
        free(f[i].data);
    }
    free(f);
}

/* Inflates the raw deflate stream IN (N bytes) into exactly ULEN bytes at OUT. */
static bool inflate_exact(const unsigned char *in, size_t n, unsigned char *out, size_t ulen)
{
    z_stream s = {0};
    if (inflateInit2(&s, -15) != Z_OK) return false;
    s.next_in = (Bytef *)(uintptr_t)in;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = (uInt)ulen;
    int zr = inflate(&s, Z_FINISH);
    bool ok = zr == Z_STREAM_END && s.total_out == ulen;
    inflateEnd(&s);
    return ok;
}

/* A member's name is kept when it is a plain relative path. */
static bool name_ok(const char *s, size_t n)
{
    if (!n || s[0] == '/' || memchr(s, '\\', n) || memchr(s, '\0', n)) return false;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '.' && s[i + 1] == '.' && (i == 0 || s[i - 1] == '/') &&
            (i + 2 == n || s[i + 2] == '/'))
            return false;
    return true;
}

enum dir_rc dir_zip_read(const void *zip, size_t n, size_t max_member, size_t max_total,
                         struct dir_zip_file **files, int *nfiles, char *err, size_t errlen)
{
    const unsigned char *z = zip;
    *files = NULL;
    *nfiles = 0;
    if (n < EOCD_LEN || (rd32(z) != LOC_SIG && rd32(z) != EOCD_SIG)) {
        snprintf(err, errlen, "not a ZIP archive");
        return DIR_ERR_INVALID;
    }
    /* The end record: the last signature within the comment's reach (64 KiB). */
    size_t eocd = 0;
    bool found = false;
    for (size_t i = n - EOCD_LEN + 1; i-- > 0 && n - i <= EOCD_LEN + 65535;)
        if (rd32(z + i) == EOCD_SIG && i + EOCD_LEN + rd16(z + i + 20) == n) {
            eocd = i;
            found = true;
            break;
        }
    if (!found) {
        snprintf(err, errlen, "the ZIP archive has no end record (cut short?)");
        return DIR_ERR_INVALID;
    }
    unsigned count = rd16(z + eocd + 10);
    uint32_t cen_size = rd32(z + eocd + 12), cen_off = rd32(z + eocd + 16);
    if (rd16(z + eocd + 4) || rd16(z + eocd + 6) || rd16(z + eocd + 8) != count) {
        snprintf(err, errlen, "multi-part ZIP archives are not read");
        return DIR_ERR_INVALID;
    }
    if (count == 0xFFFF || cen_off == 0xFFFFFFFFu || cen_size == 0xFFFFFFFFu) {
        snprintf(err, errlen, "ZIP64 archives are not read");
        return DIR_ERR_INVALID;
    }
    if (cen_off > eocd || cen_size > eocd - cen_off) {
        snprintf(err, errlen, "the ZIP archive's directory lies outside the file");
        return DIR_ERR_INVALID;
    }
    if (count > DIR_ZIP_MAX_FILES) {
        snprintf(err, errlen, "the ZIP archive has %u files, at most %d are read", count,
                 DIR_ZIP_MAX_FILES);
        return DIR_ERR_LIMIT;
    }
    struct dir_zip_file *out = calloc(count ? count : 1, sizeof *out);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return DIR_ERR_LIMIT;
    }
    int got = 0;
    size_t p = cen_off, total = 0;
    enum dir_rc rc = DIR_OK;
    for (unsigned k = 0; k < count && !rc; k++) {
        if (eocd - p < CEN_LEN || rd32(z + p) != CEN_SIG) {
            snprintf(err, errlen, "the ZIP archive's directory is damaged (entry %u)", k + 1);
            rc = DIR_ERR_INVALID;
            break;
        }
        const unsigned char *c = z + p;
        unsigned flags = rd16(c + 8), method = rd16(c + 10);
        uint32_t crc = rd32(c + 16), csize = rd32(c + 20), usize = rd32(c + 24);
        unsigned nlen = rd16(c + 28), xlen = rd16(c + 30), clen = rd16(c + 32);
        uint32_t loc = rd32(c + 42);
        if (eocd - p - CEN_LEN < (size_t)nlen + xlen + clen) {
            snprintf(err, errlen, "the ZIP archive's directory is damaged (entry %u)", k + 1);
            rc = DIR_ERR_INVALID;
            break;
        }
        const char *name = (const char *)c + CEN_LEN;
        p += CEN_LEN + (size_t)nlen + xlen + clen;
        if (nlen && name[nlen - 1] == '/') continue; /* a folder */
        if (!name_ok(name, nlen)) {
            snprintf(err, errlen, "a file in the ZIP archive has an unsafe name");
            rc = DIR_ERR_INVALID;
            break;
        }
        if (flags & 1u) {
            snprintf(err, errlen, "%.*s: encrypted ZIP members are not read", (int)nlen, name);
            rc = DIR_ERR_INVALID;
            break;
        }
        if (method != 0 && method != 8) {
            snprintf(err, errlen, "%.*s: compression method %u is not read (stored or deflate)",
                     (int)nlen, name, method);
            rc = DIR_ERR_INVALID;
            break;
        }
        if (usize > max_member || usize > max_total - total) {
            snprintf(err, errlen,
                     "%.*s: %lu bytes uncompressed, more than the %zu allowed (per file %zu, in "
                     "all %zu)",
                     (int)nlen, name, (unsigned long)usize,
                     usize > max_member ? max_member : max_total - total, max_member, max_total);
            rc = DIR_ERR_LIMIT;
            break;
        }
        if (method == 0 && csize != usize) {
            snprintf(err, errlen, "%.*s: a stored member's sizes differ", (int)nlen, name);
            rc = DIR_ERR_INVALID;
            break;
        }
        /* The local header: its own name and extra lengths say where the data starts. */
        if (loc > cen_off || cen_off - loc < LOC_LEN || rd32(z + loc) != LOC_SIG) {
            snprintf(err, errlen, "%.*s: its local header lies outside the file", (int)nlen, name);
            rc = DIR_ERR_INVALID;
            break;
        }
        size_t data = (size_t)loc + LOC_LEN + rd16(z + loc + 26) + rd16(z + loc + 28);
        if (data > cen_off || csize > cen_off - data) {
            snprintf(err, errlen, "%.*s: its data lies outside the file", (int)nlen, name);
            rc = DIR_ERR_INVALID;
            break;
        }
        struct dir_zip_file *f = &out[got];
        f->name = malloc((size_t)nlen + 1);
        f->data = malloc((size_t)usize + 1);
        if (!f->name || !f->data) {
            free(f->name);
            free(f->data);
            f->name = NULL;
            f->data = NULL;
            snprintf(err, errlen, "out of memory");
            rc = DIR_ERR_LIMIT;
            break;
        }
        memcpy(f->name, name, nlen);
        f->name[nlen] = '\0';
        f->len = usize;
        f->data[usize] = '\0';
        got++;
        if (method == 0)
            memcpy(f->data, z + data, usize);
        else if (!inflate_exact(z + data, csize, f->data, usize)) {
            snprintf(err, errlen,
                     "%s: the compressed data is damaged or longer than its declared size",
                     f->name);
            rc = DIR_ERR_INVALID;
            break;
        }
        if ((uint32_t)crc32(0L, f->data, (uInt)usize) != crc) {
            snprintf(err, errlen, "%s: its checksum does not match (damaged)", f->name);
            rc = DIR_ERR_INVALID;
            break;
        }
        total += usize;
    }
    if (rc) {
        dir_zip_files_free(out, got);
        return rc;
    }
    *files = out;
    *nfiles = got;
    return DIR_OK;
}
