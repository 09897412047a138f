/* dir_validate.h - checks and normal forms for what people type into the directory.
 *
 * Pure functions (no I/O), shared by the write API and importers. Each returns true when the
 * input is acceptable and writes its normal form; on false, *WHY_TH / *WHY_EN (static
 * strings) say what is wrong in Thai and English.
 */
#ifndef DIR_VALIDATE_H
#define DIR_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* Thai telephone numbers. KIND "mobile": 06/08/09 + 8 digits, written 0xx-xxx-xxxx.
 * "phone"/"fax": a landline, 0[2-7] + 7 digits, written 02-xxx-xxxx (Bangkok) or
 * 0xx-xxx-xxx, or a 4-digit hotline starting with 1 (1300). Spaces, hyphens, dots and a
 * leading +66 are accepted on input. NORM needs 16 bytes. */
bool dir_validate_phone(const char *in, const char *kind, char *norm, size_t n, const char **why_th,
                        const char **why_en);
/* Extensions: digits, up to 6, several separated by commas ("101,102"). */
bool dir_validate_extension(const char *in, const char **why_th, const char **why_en);
/* An e-mail address: local@domain.tld, no spaces, at most 254 bytes; lower-cases the domain. */
bool dir_validate_email(const char *in, char *norm, size_t n, const char **why_th,
                        const char **why_en);
/* A LINE ID: 4-20 of a-z 0-9 . _ -, optionally after '@' (official accounts); lower-cased. */
bool dir_validate_line(const char *in, char *norm, size_t n, const char **why_th,
                       const char **why_en);
/* A web address: http:// or https:// and a host. */
bool dir_validate_url(const char *in, const char **why_th, const char **why_en);
/* A point inside Thailand's bounding box (lat 5.6..20.5, lon 97.3..105.7). */
bool dir_validate_point(double lat, double lon, const char **why_th, const char **why_en);
/* Text: valid UTF-8, no control characters but tab/newline (and none when SINGLE_LINE),
 * between MIN and MAX characters (code points). */
bool dir_validate_text(const char *in, size_t min, size_t max, bool single_line,
                       const char **why_th, const char **why_en);
/* Parses an If-Match header ("3", "\"3\"", W/"3"); false unless it names one version. */
bool dir_validate_if_match(const char *header, int *version);

#endif
