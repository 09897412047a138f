/* dir_text.h - UTF-8 text helpers: validation and the folding used for name search.
 *
 * Search folds Latin letters to lower case (caseIgnoreMatch for ASCII) and leaves Thai as it
 * is: Thai has no case, and text in the directory is stored NFC, where Thai byte substrings
 * are character substrings. Runs of white space fold to one space so "สวน  ลุมพินี" matches.
 */
#ifndef DIR_TEXT_H
#define DIR_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when the N bytes at S are well-formed UTF-8 (no overlongs, surrogates or NULs). */
bool dir_text_utf8_valid(const char *s, size_t n);
/* Copies the N bytes at S into OUT as valid UTF-8 for showing in an answer: each byte that
 * does not start a well-formed character (stray, truncated, overlong, surrogate, NUL) becomes
 * U+FFFD, and the copy stops on a character boundary so that it holds at most MAX bytes, with
 * "…" (U+2026) at the end when something was left out. OUT needs MAX + 1 bytes; returns the
 * length written (OUT is NUL-terminated). */
size_t dir_text_utf8_clean(const char *s, size_t n, size_t max, char *out);
/* The same into a new string of at most MAX bytes; caller frees. */
char *dir_text_utf8_clean_dup(const char *s, size_t max);
/* S in lower case, as LDAP's caseIgnoreMatch compares names: ASCII, Latin-1, Latin
 * Extended-A, Greek, Cyrillic and full-width Latin letters are lowered, other characters
 * (Thai has no case) and bytes that are not UTF-8 stay as they are. Caller frees. */
char *dir_text_casefold_dup(const char *s);
/* Number of code points in a valid UTF-8 string. */
size_t dir_text_utf8_len(const char *s);
/* Writes the search form of S into OUT (at least strlen(S)+1 bytes); returns its length. */
size_t dir_text_fold(const char *s, char *out);
/* The search form of S; caller frees. NULL gives NULL. */
char *dir_text_fold_dup(const char *s);
/* True when folded NEEDLE occurs in folded HAYSTACK (both already folded). */
bool dir_text_contains(const char *haystack, const char *needle);

#endif
