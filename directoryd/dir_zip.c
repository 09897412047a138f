/* dir_zip.c - a small ZIP writer (see dir_zip.h; layout from PKWARE's APPNOTE.TXT 4.3). */
#include "dir_zip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct dir_zip_entry {
    char *name;
    uint32_t crc, csize, usize, offset;
};

void dir_zip_init(struct dir_zip *z, struct dir_buf *out, time_t when)
{
    struct tm tm;
    memset(z, 0, sizeof *z);
    z->out = out;
    gmtime_r(&when, &tm);
    if (tm.tm_year < 80) tm = (struct tm){.tm_year = 80, .tm_mday = 1};
    z->dos_time = (unsigned)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
    z->dos_date = (unsigned)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
}

static enum dir_rc u16(struct dir_buf *b, unsigned v)
{
    unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    return dir_buf_add(b, x, 2);
}

static enum dir_rc u32(struct dir_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    return dir_buf_add(b, x, 4);
}

/* The fields local and central headers share, from "version needed" to the name's length. */
static enum dir_rc common(struct dir_zip *z, const struct dir_zip_entry *e)
{
    enum dir_rc rc = u16(z->out, 20);
    if (!rc) rc = u16(z->out, 1u << 11); /* UTF-8 names */
    if (!rc) rc = u16(z->out, 8);        /* deflate */
    if (!rc) rc = u16(z->out, z->dos_time);
    if (!rc) rc = u16(z->out, z->dos_date);
    if (!rc) rc = u32(z->out, e->crc);
    if (!rc) rc = u32(z->out, e->csize);
    if (!rc) rc = u32(z->out, e->usize);
    if (!rc) rc = u16(z->out, (unsigned)strlen(e->name));
    return rc;
}

enum dir_rc dir_zip_add(struct dir_zip *z, const char *name, const void *data, size_t len)
{
    if (len > UINT32_MAX / 2 || z->out->len > UINT32_MAX / 2 || z->n >= 65535 ||
        strlen(name) > 1000)
        return DIR_ERR_LIMIT;
    if (z->n == z->cap) {
        int cap = z->cap ? 2 * z->cap : 16;
        struct dir_zip_entry *p = realloc(z->entries, (size_t)cap * sizeof *p);
        if (!p) return DIR_ERR_LIMIT;
        z->entries = p;
        z->cap = cap;
    }
    uLong bound = compressBound((uLong)len);
    unsigned char *c = malloc(bound ? bound : 1);
    char *nm = strdup(name);
    if (!c || !nm) {
        free(c);
        free(nm);
        return DIR_ERR_LIMIT;
    }
    z_stream s = {0};
    int zr = deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    if (zr == Z_OK) {
        s.next_in = (Bytef *)(uintptr_t)data;
        s.avail_in = (uInt)len;
        s.next_out = c;
        s.avail_out = (uInt)bound;
        zr = deflate(&s, Z_FINISH);
        deflateEnd(&s);
    }
    if (zr != Z_STREAM_END) {
        free(c);
        free(nm);
        return DIR_ERR_LIMIT;
    }
    struct dir_zip_entry *e = &z->entries[z->n];
    *e = (struct dir_zip_entry){.name = nm,
                                .crc = (uint32_t)crc32(0L, data, (uInt)len),
                                .csize = (uint32_t)s.total_out,
                                .usize = (uint32_t)len,
                                .offset = (uint32_t)z->out->len};
    z->n++;
    enum dir_rc rc = u32(z->out, 0x04034b50);
    if (!rc) rc = common(z, e);
    if (!rc) rc = u16(z->out, 0); /* extra field */
    if (!rc) rc = dir_buf_add(z->out, nm, strlen(nm));
    if (!rc) rc = dir_buf_add(z->out, c, s.total_out);
    free(c);
    return rc;
}

enum dir_rc dir_zip_finish(struct dir_zip *z)
{
    enum dir_rc rc = z->out->len > UINT32_MAX / 2 ? DIR_ERR_LIMIT : DIR_OK;
    uint32_t start = (uint32_t)z->out->len;
    for (int i = 0; i < z->n && !rc; i++) {
        const struct dir_zip_entry *e = &z->entries[i];
        rc = u32(z->out, 0x02014b50);
        if (!rc) rc = u16(z->out, 20); /* made by: MS-DOS, 2.0 */
        if (!rc) rc = common(z, e);
        if (!rc) rc = u16(z->out, 0); /* extra */
        if (!rc) rc = u16(z->out, 0); /* comment */
        if (!rc) rc = u16(z->out, 0); /* disk */
        if (!rc) rc = u16(z->out, 0); /* internal attributes */
        if (!rc) rc = u32(z->out, 0); /* external attributes */
        if (!rc) rc = u32(z->out, e->offset);
        if (!rc) rc = dir_buf_add(z->out, e->name, strlen(e->name));
    }
    uint32_t size = (uint32_t)z->out->len - start;
    if (!rc) rc = u32(z->out, 0x06054b50);
    if (!rc) rc = u16(z->out, 0);
    if (!rc) rc = u16(z->out, 0);
    if (!rc) rc = u16(z->out, (unsigned)z->n);
    if (!rc) rc = u16(z->out, (unsigned)z->n);
    if (!rc) rc = u32(z->out, size);
    if (!rc) rc = u32(z->out, start);
    if (!rc) rc = u16(z->out, 0);
    for (int i = 0; i < z->n; i++)
        free(z->entries[i].name);
    free(z->entries);
    z->entries = NULL;
    z->n = z->cap = 0;
    return rc;
}
