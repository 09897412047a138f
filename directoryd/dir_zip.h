/* dir_zip.h - a small ZIP archive writer (deflate through zlib) for downloads made in memory
 * (the HSDS data package), and a reader for the archives uploaded to be imported. Files are added
 * whole; dir_zip_finish writes the central directory. Only what PKWARE's APPNOTE needs for plain
 * files: no ZIP64 (each file and the archive stay under 4 GiB and 65,535 entries), no encryption;
 * names are UTF-8 (flag bit 11). */
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

/* ---- reading (dir_zip_read.c): archives uploaded for import (the HSDS data package) ---- */

#define DIR_ZIP_MAX_FILES 1000 /* members of one archive */

/* One member read whole: NAME as in the archive (a relative path, UTF-8 or not), DATA its
 * LEN bytes plus a NUL. */
struct dir_zip_file {
    char *name;
    unsigned char *data;
    size_t len;
};

/* Reads every file of the N-byte archive ZIP (stored or deflated members; folders skipped)
 * into *FILES (a new array of *NFILES, freed with dir_zip_files_free). Each member may hold
 * at most MAX_MEMBER bytes uncompressed and all of them MAX_TOTAL: a declared size above
 * either is refused before anything is inflated (DIR_ERR_LIMIT), and a member that inflates
 * to more or less than it declares, or fails its CRC, is refused as damaged. DIR_ERR_INVALID
 * for what is not a readable archive (not a ZIP, cut short, ZIP64, multi-part, encrypted,
 * another compression method, a name with "..", or an absolute one). ERR says which file
 * and why. */
enum dir_rc dir_zip_read(const void *zip, size_t n, size_t max_member, size_t max_total,
                         struct dir_zip_file **files, int *nfiles, char *err, size_t errlen);
void dir_zip_files_free(struct dir_zip_file *f, int n);

#endif
