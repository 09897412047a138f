/* dir_csv.h - reading spreadsheet files saved as CSV: the encoding (UTF-8 with or without a
 * BOM, Windows-874 / TIS-620), the delimiter (comma, semicolon or tab) and RFC 4180 records
 * with quoted fields that hold delimiters, line breaks and doubled quotes.
 *
 * Pure functions (no I/O but iconv): the importer (directoryd/dir_import.c) and
 * tests/fuzz/fuzz_csv.c call them on any bytes.
 */
#ifndef DIR_CSV_H
#define DIR_CSV_H

#include <stdbool.h>
#include <stddef.h>

/* Why a file cannot be read, with the physical line (1-based) where it went wrong. */
struct dir_csv_error {
    int line;
    const char *th, *en; /* static */
};

/* Encodings a file may be given in. */
enum dir_csv_enc { DIR_CSV_ENC_AUTO, DIR_CSV_ENC_UTF8, DIR_CSV_ENC_CP874 };

/* The encoding named NAME ("", "auto", "utf-8", "utf8", "windows-874", "cp874", "tis-620",
 * "tis620"; any case); false for another name. */
bool dir_csv_enc_parse(const char *name, enum dir_csv_enc *out);

/* The N bytes at S as UTF-8 without a BOM: a new NUL-terminated string (caller frees) with
 * its length in *OUT_LEN, or NULL with E filled (bytes that are not text in ENC: the line of
 * the first). AUTO takes valid UTF-8 as UTF-8 and anything else as Windows-874; UTF-16 and
 * NUL bytes are refused. *USED says which was read. */
char *dir_csv_to_utf8(const char *s, size_t n, enum dir_csv_enc enc, enum dir_csv_enc *used,
                      size_t *out_len, struct dir_csv_error *e);

/* The delimiter of the UTF-8 text S: the one of ',' ';' '\t' found most often in its first
 * record outside quotes (',' when none is). */
char dir_csv_sniff(const char *s, size_t n);

/* One record: LINE is the physical line it starts on; FIELDS[0..NFIELDS) are NUL-terminated
 * (borrowed for the call). Return false to stop. */
typedef bool (*dir_csv_record_fn)(void *arg, int line, char **fields, int nfields);

/* Parses the N bytes of UTF-8 text at S, records separated by CRLF, LF or CR and fields by
 * DELIM, calling FN once per record (records whose fields are all empty are skipped). At
 * most DIR_CSV_MAX_FIELDS fields per record and DIR_CSV_MAX_FIELD bytes per field. Returns
 * true when the whole text was read (or FN stopped it), false with E filled at a broken
 * quote, a quote inside an unquoted field, text after a closing quote, or a limit. */
#define DIR_CSV_MAX_FIELDS 200
#define DIR_CSV_MAX_FIELD (64 * 1024)
bool dir_csv_parse(const char *s, size_t n, char delim, dir_csv_record_fn fn, void *arg,
                   struct dir_csv_error *e);

/* Appends VALUE to the CSV text being built in B as one field (quoted when it holds a quote,
 * a comma, a line break or leading/trailing spaces). With NEUTRALISE, a value starting
 * with = + - @ (or a tab or CR) gets a leading apostrophe, so a spreadsheet shows it as text
 * instead of running it as a formula. */
struct dir_buf;
void dir_csv_put(struct dir_buf *b, const char *value, bool neutralise);

#endif
