/* dir_zip.h - a small ZIP archive writer (deflate through zlib) for downloads made in memory
 * (the HSDS data package). Files are added whole; dir_zip_finish writes the central directory.
 * Only what PKWARE's APPNOTE needs for plain files: no ZIP64 (each file and the archive stay
 * under 4 GiB and 65,535 entries), no encryption; names are UTF-8 (flag bit 11). */
#ifndef DIR_ZIP_H
#define DIR_ZIP_H

#include "dir_buf.h"
#include "dir_rc.h"

#include <stddef.h>
#include <time.h>

struct dir_zip_entry;

struct dir_zip {
    struct dir_buf *out; /* the archive grows here (borrowed) */
    struct dir_zip_entry *entries;
    int n, cap;
    unsigned dos_time, dos_date; /* of every entry */
};

/* Starts an archive written to OUT, its entries dated WHEN (UTC). */
void dir_zip_init(struct dir_zip *z, struct dir_buf *out, time_t when);
/* Adds file NAME with LEN bytes of DATA, deflated. DIR_ERR_LIMIT past OUT's cap or out of
 * memory. */
enum dir_rc dir_zip_add(struct dir_zip *z, const char *name, const void *data, size_t len);
/* Writes the central directory; frees Z's own memory (also on failure). */
enum dir_rc dir_zip_finish(struct dir_zip *z);

#endif
